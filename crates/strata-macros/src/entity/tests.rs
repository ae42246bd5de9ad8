//! Unit tests of `entity_inner`: the errors it reports and the pieces of code it generates.

use super::entity_inner;
use proc_macro2::TokenStream;
use quote::quote;

fn expand(input: TokenStream) -> String {
    match entity_inner(input) {
        Ok(out) => out.to_string(),
        Err(e) => panic!("expected an expansion, got: {e}"),
    }
}

/// Every message of the error `input` produces.
fn errors(input: TokenStream) -> Vec<String> {
    match entity_inner(input) {
        Ok(out) => panic!("expected an error, got: {out}"),
        Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
    }
}

fn error(input: TokenStream) -> String {
    let all = errors(input);
    assert_eq!(all.len(), 1, "expected one error, got {all:#?}");
    all.into_iter().next().unwrap_or_default()
}

#[track_caller]
fn assert_contains(haystack: &str, needle: &str) {
    assert!(haystack.contains(needle), "expected {needle:?} in:\n{haystack}");
}

#[test]
fn a_minimal_entity_gets_default_names_and_an_identity_key() {
    let out = expand(quote! {
        pub struct PostEntity {
            #[strata(primary_key)]
            pub id: i32,
            pub title: String,
            pub createdAt: Option<i64>,
        }
    });
    assert_contains(&out, "impl :: strata :: __core :: entity :: Entity for PostEntity");
    assert_contains(&out, "type Key = i32 ; type Fields = PostEntityFields ;");
    assert_contains(&out, r#"table : "post_entity""#);
    assert_contains(&out, "schema : :: core :: option :: Option :: None");
    assert_contains(&out, r#"name : "created_at""#);
    assert_contains(&out, "generated : :: strata :: __core :: metadata :: Generated :: Identity");
    assert_contains(
        &out,
        "ty : < String as :: strata :: __core :: value :: FieldType > :: COLUMN_TYPE",
    );
    assert_contains(
        &out,
        "nullable : < Option < i64 > as :: strata :: __core :: value :: FieldType > :: NULLABLE",
    );
    assert_contains(&out, "primary_key : 0usize");
    assert_contains(&out, "relations : & []");
    assert_contains(&out, "fn key (& self) -> i32 { self . id }");
    assert_contains(&out, r#""PostEntity.title""#);
}

#[test]
fn the_fields_struct_has_one_typed_column_per_column_with_the_struct_visibility() {
    let out = expand(quote! {
        pub(crate) struct Post {
            #[strata(primary_key)]
            id: uuid::Uuid,
            #[strata(column = "headline")]
            title: Option<String>,
            #[strata(skip)]
            cache: Vec<String>,
        }
    });
    assert_contains(&out, "pub (crate) struct PostFields");
    assert_contains(
        &out,
        "pub (crate) title : :: strata :: __core :: query :: Col < Post , Option < String > >",
    );
    assert_contains(
        &out,
        r#"title : :: strata :: __core :: query :: Col :: new (1usize , "headline")"#,
    );
    assert_contains(&out, "# [doc =");
    assert_contains(&out, "Copy");
    assert_contains(&out, "cache : :: core :: default :: Default :: default ()");
    assert!(
        !out.contains("Col < Post , Vec < String > >"),
        "a skipped field has no column:\n{out}"
    );
    assert_contains(&out, "generated : :: strata :: __core :: metadata :: Generated :: No");
    assert_contains(&out, "type Key = uuid :: Uuid");
}

#[test]
fn struct_attributes_set_table_schema_rename_and_root() {
    let out = expand(quote! {
        #[strata(table = "posts", schema = "blog", renamed_from = "post", crate = "::my::core")]
        struct Post {
            #[strata(primary_key)]
            id: i64,
        }
    });
    assert_contains(&out, r#"table : "posts""#);
    assert_contains(&out, r#"schema : :: core :: option :: Option :: Some ("blog")"#);
    assert_contains(&out, r#"renamed_from : :: core :: option :: Option :: Some ("post")"#);
    assert_contains(&out, "impl :: my :: core :: entity :: Entity for Post");
    assert!(!out.contains("__core"), "{out}");
}

#[test]
fn field_attributes_reach_the_column_metadata() {
    let out = expand(quote! {
        struct Post {
            #[strata(primary_key)]
            id: i32,
            #[strata(length = 100, unique, index, default = "'x'", renamed_from = "name")]
            slug: String,
            #[strata(type = "text", nullable)]
            body: Option<String>,
            #[strata(type = "varchar")]
            note: String,
            #[strata(version)]
            version: i64,
            #[strata(enum)]
            status: Option<Status>,
        }
    });
    assert_contains(&out, "ty : :: strata :: __core :: value :: ColumnType :: Varchar (100u32)");
    assert_contains(&out, "ty : :: strata :: __core :: value :: ColumnType :: Text");
    assert_contains(&out, "ty : :: strata :: __core :: value :: ColumnType :: Varchar (255u32)");
    assert_contains(&out, r#"default : :: core :: option :: Option :: Some ("'x'")"#);
    assert_contains(&out, "unique : true , index : true");
    assert_contains(&out, r#"renamed_from : :: core :: option :: Option :: Some ("name")"#);
    assert_contains(&out, "version : true");
    assert_contains(
        &out,
        "enum_values : < Option < Status > as :: strata :: __core :: value :: FieldType > :: ENUM_VALUES",
    );
}

#[test]
fn hooks_assign_the_result_of_the_named_function() {
    let out = expand(quote! {
        struct Post {
            #[strata(primary_key)]
            id: i32,
            #[strata(on_create = "chrono::Utc::now", on_update = "crate::clock::now")]
            updated_at: chrono::DateTime<chrono::Utc>,
        }
    });
    assert_contains(
        &out,
        "fn on_create (& mut self) { if < chrono :: DateTime < chrono :: Utc > as :: strata :: \
         __core :: value :: FieldType > :: is_unset_value (& self . updated_at) { self . \
         updated_at = chrono :: Utc :: now () ; } }",
    );
    assert_contains(
        &out,
        "fn on_update (& mut self) { self . updated_at = crate :: clock :: now () ; }",
    );
}

#[test]
fn conversions_name_the_field_and_check_the_row_length() {
    let out = expand(quote! {
        struct Post {
            #[strata(primary_key)]
            id: i32,
            title: String,
        }
    });
    assert_contains(&out, "if values . len () < 2usize");
    assert_contains(&out, r#"format ! ("{}: {}" , "Post.title" , e . message ())"#);
    assert_contains(
        &out,
        "if ! < String as :: strata :: __core :: value :: FieldType > :: same (& self . title , & snapshot . title) { out . push (1usize) ; }",
    );
}

#[test]
fn raw_identifiers_are_named_without_their_prefix() {
    let out = expand(quote! {
        struct r#Type {
            #[strata(primary_key)]
            r#type: i32,
        }
    });
    assert_contains(&out, r#"table : "type""#);
    assert_contains(&out, r#"field : "type" , name : "type""#);
    assert_contains(&out, "struct TypeFields");
}

#[test]
fn unsupported_types_name_the_field_and_list_the_supported_ones() {
    let err = error(quote! {
        struct Post { #[strata(primary_key)] id: i32, tags: HashMap<String, i32> }
    });
    assert_contains(
        &err,
        "field `tags` has unsupported type `HashMap<String, i32>`; supported: bool, i16",
    );
    assert_contains(&err, "or an enum deriving DbEnum marked #[strata(enum)]");
    // Marked as an enum or skipped, any type passes the derive (the compiler checks the rest).
    expand(quote! {
        struct Post { #[strata(primary_key)] id: i32, #[strata(enum)] s: Status, #[strata(skip)] c: HashMap<String, i32> }
    });
}

#[test]
fn primary_keys_are_exactly_one_of_the_key_types() {
    assert_contains(
        &error(quote! { struct Post { id: i32 } }),
        "struct `Post` has no primary key: mark one field with #[strata(primary_key)]",
    );
    assert_contains(
        &error(
            quote! { struct Post { #[strata(primary_key)] a: i32, #[strata(primary_key)] b: i64 } },
        ),
        "struct `Post` has two primary keys (`a` and `b`)",
    );
    for ty in [quote!(String), quote!(Option<i32>), quote!(i16), quote!(Foo)] {
        let err = error(quote! { struct Post { #[strata(primary_key)] id: #ty } });
        assert_contains(&err, "primary key `id` has type");
        assert_contains(&err, "primary keys must be i32, i64 or uuid::Uuid");
    }
}

#[test]
fn text_keys_apply_to_strings_only() {
    assert_contains(
        &error(
            quote! { struct P { #[strata(primary_key)] id: i32, #[strata(length = 10)] n: i32 } },
        ),
        "`length` applies to String and Option<String> fields, but field `n` has type `i32`",
    );
    assert_contains(
        &error(
            quote! { struct P { #[strata(primary_key)] id: i32, #[strata(type = "text")] s: Option<Vec<u8>> } },
        ),
        "`type` applies to String and Option<String> fields, but field `s` has type `Option<Vec<u8>>`",
    );
    assert_contains(
        &error(
            quote! { struct P { #[strata(primary_key)] id: i32, #[strata(type = "text", length = 3)] s: String } },
        ),
        "field `s` is `text`, which has no length",
    );
}

#[test]
fn nullable_version_and_skip_are_checked_against_the_field() {
    assert_contains(
        &error(
            quote! { struct P { #[strata(primary_key)] id: i32, #[strata(nullable)] name: String } },
        ),
        "field `name` is not an Option: make it Option<T> to store NULL",
    );
    assert_contains(
        &error(
            quote! { struct P { #[strata(primary_key)] id: i32, #[strata(version)] v: String } },
        ),
        "version field `v` has type `String`; a version must be i32 or i64",
    );
    assert_contains(
        &error(
            quote! { struct P { #[strata(primary_key)] id: i32, #[strata(version)] a: i32, #[strata(version)] b: i32 } },
        ),
        "struct `P` has two version fields (`a` and `b`)",
    );
    assert_contains(
        &error(
            quote! { struct P { #[strata(primary_key)] id: i32, #[strata(skip, unique)] c: String } },
        ),
        "field `c` is marked `skip`, so it is not a column",
    );
    assert_contains(
        &error(
            quote! { struct P { #[strata(primary_key)] id: i32, a_b: i32, #[strata(column = "a_b")] c: i32 } },
        ),
        "fields `a_b` and `c` of `P` both map to column `a_b`",
    );
}

#[test]
fn unknown_keys_and_wrong_shapes_are_rejected() {
    assert_contains(
        &error(quote! { struct P { #[strata(primary_key, autoincrement)] id: i32 } }),
        "unknown attribute `autoincrement` on field `id`; supported: primary_key, column, type",
    );
    assert_contains(&error(quote! { struct P(i32); }), "needs named fields");
    assert_contains(&error(quote! { enum P { A } }), "applies to structs with named fields");
    assert_contains(
        &error(quote! { struct P<T> { #[strata(primary_key)] id: T } }),
        "must not be generic",
    );
}

#[test]
fn every_error_is_reported_at_once() {
    let all = errors(quote! {
        #[strata(tabel = "x")]
        struct P {
            a: u32,
            #[strata(nullable)]
            b: i32,
        }
    });
    assert_eq!(all.len(), 4, "{all:#?}");
}
