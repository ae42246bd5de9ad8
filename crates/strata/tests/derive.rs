//! `#[derive(Entity)]` and `#[derive(DbEnum)]` end to end, without a database: the metadata an
//! entity declares, the conversions between fields and values, dirty checking, hooks and typed
//! columns.
//!
//! Denying `missing_docs` checks that the generated public items are documented.

#![deny(missing_docs)]

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use strata::metadata::{ColumnMeta, Generated};
use strata::query::{CmpOp, Expr};
use strata::{ColumnType, DbEnum, Entity, ErrorKind, FieldType, Value};

#[derive(DbEnum, Debug, Clone, Copy, PartialEq)]
enum Status {
    Draft,
    InReview,
    #[strata(rename = "live")]
    Published,
}

fn fixed_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 6, 7, 8, 9).single().expect("a valid time")
}

mod clock {
    pub(super) fn later() -> chrono::DateTime<chrono::Utc> {
        super::fixed_time() + chrono::Duration::hours(1)
    }
}

/// Every supported field type and every attribute.
#[derive(Entity, Debug, Clone, PartialEq)]
#[allow(non_snake_case)] // `createdAt` checks MikroORM's naming of camelCase fields
#[strata(table = "articles", schema = "blog", renamed_from = "article")]
struct Article {
    #[strata(primary_key)]
    id: i64,
    #[strata(unique, length = 100)]
    slug: String,
    #[strata(type = "text", column = "content", renamed_from = "text")]
    body: String,
    #[strata(type = "varchar", index)]
    kind: String,
    subtitle: Option<String>,
    published: bool,
    priority: i16,
    views: i32,
    score: f32,
    rating: Option<f64>,
    #[strata(enum, default = "'draft'")]
    status: Status,
    #[strata(enum, nullable)]
    previous_status: Option<Status>,
    tags: serde_json::Value,
    thumbnail: Option<Vec<u8>>,
    hash: Vec<u8>,
    external_id: Option<uuid::Uuid>,
    published_on: Option<NaiveDate>,
    #[strata(on_create = "fixed_time")]
    createdAt: DateTime<Utc>,
    #[strata(on_create = "fixed_time", on_update = "clock::later", default = "now()")]
    updated_at: chrono::DateTime<chrono::Utc>,
    #[strata(version)]
    version: i32,
    #[strata(skip)]
    word_count: usize,
}

#[derive(Entity, Debug, Clone, PartialEq)]
struct HTTPServer {
    #[strata(primary_key)]
    id: uuid::Uuid,
    host_name: String,
}

/// A module whose entity is public, to check the generated struct's visibility and docs.
pub mod public {
    /// A post.
    #[derive(strata::Entity, Debug, Clone)]
    #[strata(crate = "::strata::__core")]
    pub struct PostEntity {
        /// The key.
        #[strata(primary_key)]
        pub id: i32,
        /// The title.
        pub title: String,
    }
}

fn article() -> Article {
    Article {
        id: 7,
        slug: "hello".into(),
        body: "Zażółć gęślą jaźń 🦀".into(),
        kind: "news".into(),
        subtitle: None,
        published: true,
        priority: -3,
        views: 42,
        score: 0.5,
        rating: Some(4.25),
        status: Status::InReview,
        previous_status: None,
        tags: serde_json::json!({"lang": "pl", "n": [1, 2]}),
        thumbnail: Some(vec![0, 255]),
        hash: vec![1, 2, 3],
        external_id: Some(uuid::Uuid::from_u128(0x1234)),
        published_on: NaiveDate::from_ymd_opt(2024, 2, 29),
        createdAt: DateTime::UNIX_EPOCH,
        updated_at: DateTime::UNIX_EPOCH,
        version: 1,
        word_count: 3,
    }
}

fn column(name: &str) -> &'static ColumnMeta {
    let meta = Article::meta();
    let index = meta.column_index(name).unwrap_or_else(|| panic!("no column {name}"));
    &meta.columns[index]
}

#[test]
fn the_entity_metadata_follows_the_struct_attributes() {
    let meta = Article::meta();
    assert_eq!(meta.name, "Article");
    assert_eq!(meta.table, "articles");
    assert_eq!(meta.schema, Some("blog"));
    assert_eq!(meta.renamed_from, Some("article"));
    assert!(meta.relations.is_empty() && meta.referenced_tables().is_empty());
    assert_eq!(meta.pk().name, "id");
    assert_eq!(meta.primary_key, 0);
    assert_eq!(meta.version_column(), meta.column_index("version"));
    assert!(std::ptr::eq(meta, Article::meta()), "one static per entity");

    assert_eq!(HTTPServer::meta().table, "http_server", "UnderscoreNamingStrategy");
    assert_eq!(HTTPServer::meta().schema, None);
    assert_eq!(public::PostEntity::meta().table, "post_entity");
}

#[test]
fn default_names_agree_with_the_core_naming_strategy() {
    assert_eq!(HTTPServer::meta().table, strata::metadata::underscore("HTTPServer"));
    let renamed = ["content"];
    for c in Article::meta().columns.iter().filter(|c| !renamed.contains(&c.name)) {
        assert_eq!(c.name, strata::metadata::underscore(c.field), "column of {}", c.field);
    }
}

#[test]
fn columns_follow_the_fields_in_order_without_skipped_ones() {
    let names: Vec<_> = Article::meta().columns.iter().map(|c| c.name).collect();
    assert_eq!(
        names,
        [
            "id",
            "slug",
            "content",
            "kind",
            "subtitle",
            "published",
            "priority",
            "views",
            "score",
            "rating",
            "status",
            "previous_status",
            "tags",
            "thumbnail",
            "hash",
            "external_id",
            "published_on",
            "created_at",
            "updated_at",
            "version",
        ]
    );
    assert_eq!(column("content").field, "body");
    assert_eq!(column("createdAt").name, "created_at");
    assert_eq!(Article::meta().column_index("word_count"), None);
}

#[test]
fn column_types_and_nullability_come_from_the_field_types_and_attributes() {
    let expected: &[(&str, ColumnType, bool)] = &[
        ("id", ColumnType::I64, false),
        ("slug", ColumnType::Varchar(100), false),
        ("content", ColumnType::Text, false),
        ("kind", ColumnType::Varchar(255), false),
        ("subtitle", ColumnType::Varchar(255), true),
        ("published", ColumnType::Bool, false),
        ("priority", ColumnType::I16, false),
        ("views", ColumnType::I32, false),
        ("score", ColumnType::F32, false),
        ("rating", ColumnType::F64, true),
        ("status", ColumnType::Text, false),
        ("previous_status", ColumnType::Text, true),
        ("tags", ColumnType::Json, false),
        ("thumbnail", ColumnType::Bytes, true),
        ("hash", ColumnType::Bytes, false),
        ("external_id", ColumnType::Uuid, true),
        ("published_on", ColumnType::Date, true),
        ("created_at", ColumnType::TimestampTz, false),
        ("updated_at", ColumnType::TimestampTz, false),
        ("version", ColumnType::I32, false),
    ];
    for &(name, ty, nullable) in expected {
        let c = column(name);
        assert_eq!((c.ty, c.nullable), (ty, nullable), "type and nullability of {name}");
    }
    assert_eq!(HTTPServer::meta().pk().ty, ColumnType::Uuid);
}

#[test]
fn column_attributes_reach_the_metadata() {
    let id = column("id");
    assert!(id.primary_key && !id.nullable);
    assert_eq!(id.generated, Generated::Identity);
    assert_eq!(HTTPServer::meta().pk().generated, Generated::No, "UUID keys come from the app");
    assert_eq!(public::PostEntity::meta().pk().generated, Generated::Identity);

    assert!(column("slug").unique && !column("slug").index);
    assert!(column("kind").index && !column("kind").unique);
    assert_eq!(column("status").default, Some("'draft'"));
    assert_eq!(column("updated_at").default, Some("now()"));
    assert_eq!(column("content").renamed_from, Some("text"));
    assert!(column("version").version);

    let plain = column("views");
    assert!(!plain.primary_key && !plain.unique && !plain.index && !plain.version);
    assert_eq!((plain.generated, plain.default, plain.renamed_from), (Generated::No, None, None));
    assert_eq!(plain.enum_values, None);

    let statuses: &[&str] = &["draft", "in_review", "live"];
    assert_eq!(column("status").enum_values, Some(statuses));
    assert_eq!(column("previous_status").enum_values, Some(statuses));
    assert_eq!(Article::meta().indexes().len(), 2);
}

#[test]
fn db_enums_are_stored_as_snake_case_text() {
    assert_eq!(Status::VALUES, ["draft", "in_review", "live"]);
    assert_eq!(Status::InReview.as_str(), "in_review");
    assert_eq!(Status::from_str_value("live"), Some(Status::Published));
    assert_eq!(Status::from_str_value("Published"), None);
    assert_eq!(<Status as FieldType>::COLUMN_TYPE, ColumnType::Text);
    assert_eq!(Status::Draft.to_value(), Value::Text("draft".into()));
    assert_eq!(Status::from_value(Value::Text("in_review".into())).ok(), Some(Status::InReview));
    let err = Status::from_value(Value::Text("bogus".into())).expect_err("not a status");
    assert_eq!(err.kind(), &ErrorKind::InvalidValue);
    assert_eq!(err.message(), "`bogus` is not a Status: expected one of draft, in_review, live");
    let err = Status::from_value(Value::I32(1)).expect_err("not text");
    assert_eq!(err.message(), "expected text for Status, got integer");
    assert!(Status::Draft.same(&Status::Draft) && !Status::Draft.same(&Status::Published));
}

#[test]
fn values_round_trip_through_from_values_and_column_value() {
    let a = article();
    let count = Article::meta().columns.len();
    let values: Vec<Value> = (0..count).map(|i| a.column_value(i)).collect();
    assert_eq!(values[0], Value::I64(7));
    assert_eq!(values[2], Value::Text(a.body.clone()));
    assert_eq!(values[4], Value::Null);
    assert_eq!(values[10], Value::Text("in_review".into()));
    assert_eq!(values[12], Value::Json(a.tags.clone()));
    assert_eq!(values[15], Value::Uuid(uuid::Uuid::from_u128(0x1234)));
    assert_eq!(a.column_value(count), Value::Null, "out of range");

    let loaded = Article::from_values(values).expect("the values fit");
    assert_eq!(loaded, Article { word_count: 0, ..a }, "skipped fields are defaulted");
    assert_eq!(loaded.key(), 7);

    let too_short =
        Article::from_values(vec![Value::I64(1)]).expect_err("one value for 20 columns");
    assert_eq!(too_short.message(), "Article needs 20 column values to load, got 1");
}

/// Loading decodes every row into one buffer: `take_values` builds the entity from it and
/// leaves it empty, its capacity kept for the next row; a failure empties it too.
#[test]
fn take_values_empties_the_row_buffer_and_keeps_its_capacity() {
    let a = article();
    let count = Article::meta().columns.len();
    let mut buffer: Vec<Value> = (0..count).map(|i| a.column_value(i)).collect();
    let capacity = buffer.capacity();
    let loaded = Article::take_values(&mut buffer).expect("the values fit");
    assert_eq!(loaded, Article { word_count: 0, ..a.clone() });
    assert!(buffer.is_empty(), "{buffer:?}");
    assert_eq!(buffer.capacity(), capacity, "the buffer's memory is kept for the next row");

    buffer.extend((0..count).map(|i| a.column_value(i)));
    buffer[7] = Value::Text("many".into());
    let err = Article::take_values(&mut buffer).expect_err("views is an integer");
    assert_eq!(err.message(), "Article.views: expected integer, got text");
    assert!(buffer.is_empty(), "the rest of a failed row is dropped: {buffer:?}");
}

#[test]
fn values_that_do_not_fit_name_the_entity_and_field() {
    let mut a = article();
    let err = a.set_column(1, Value::I32(3)).expect_err("an integer is no slug");
    assert_eq!(err.kind(), &ErrorKind::InvalidValue);
    assert_eq!(err.message(), "Article.slug: expected text, got integer");
    let err = a.set_column(1, Value::Null).expect_err("slug is not nullable");
    assert_eq!(err.message(), "Article.slug: expected text, got null");
    let err = a.set_column(10, Value::Text("gone".into())).expect_err("not a status");
    assert!(err.message().starts_with("Article.status: `gone` is not a Status"), "{err}");
    let err = a.set_column(99, Value::Null).expect_err("no column 99");
    assert_eq!(err.kind(), &ErrorKind::Usage);
    assert_eq!(err.message(), "Article has no column 99 (it has 20 columns)");

    let mut values: Vec<Value> = (0..20).map(|i| a.column_value(i)).collect();
    values[7] = Value::Text("many".into());
    let err = Article::from_values(values).expect_err("views is an integer");
    assert_eq!(err.message(), "Article.views: expected integer, got text");

    a.set_column(4, Value::Text("sub".into())).expect("a nullable string");
    a.set_column(7, Value::I64(5)).expect("integers narrow when they fit");
    a.set_column(11, Value::Text("draft".into())).expect("an optional enum");
    assert_eq!(a.subtitle.as_deref(), Some("sub"));
    assert_eq!(a.views, 5);
    assert_eq!(a.previous_status, Some(Status::Draft));
}

#[test]
fn changed_columns_lists_the_columns_that_differ_from_the_snapshot() {
    let snapshot = article();
    let mut a = snapshot.clone();
    let mut out = Vec::new();
    a.changed_columns(&snapshot, &mut out);
    assert!(out.is_empty(), "{out:?}");

    a.title_like_changes();
    a.word_count += 1; // not a column
    a.changed_columns(&snapshot, &mut out);
    let names: Vec<_> = out.iter().map(|&i| Article::meta().columns[i].name).collect();
    assert_eq!(names, ["slug", "rating", "status", "tags", "published_on"]);
}

impl Article {
    fn title_like_changes(&mut self) {
        self.slug.push('!');
        self.rating = None;
        self.status = Status::Published;
        self.tags["lang"] = serde_json::json!("en");
        self.published_on = None;
    }
}

#[test]
fn hooks_set_their_fields_on_create_and_on_update() {
    let mut a = article();
    a.on_create();
    assert_eq!((a.createdAt, a.updated_at), (fixed_time(), fixed_time()));
    a.on_update();
    assert_eq!(a.createdAt, fixed_time(), "created_at has no on_update hook");
    assert_eq!(a.updated_at, clock::later());

    let mut server = HTTPServer { id: uuid::Uuid::nil(), host_name: "h".into() };
    let before = server.clone();
    server.on_create();
    server.on_update();
    assert_eq!(server, before, "no hooks, no changes");
}

#[test]
fn typed_columns_build_filters() {
    let fields = Article::fields();
    assert_eq!((fields.slug.index(), fields.slug.name()), (1, "slug"));
    assert_eq!(fields.body.name(), "content");
    assert_eq!(fields.version.index(), 19);
    let filter = fields.slug.eq("x") & fields.views.gt(10) & fields.rating.is_null();
    let Expr::And(items) = filter.expr() else { panic!("expected AND, got {:?}", filter.expr()) };
    assert_eq!(
        items[0],
        Expr::Compare { column: "slug", op: CmpOp::Eq, value: Value::Text("x".into()) }
    );
    assert_eq!(
        fields.status.eq(Status::Draft).into_expr(),
        Expr::Compare { column: "status", op: CmpOp::Eq, value: Value::Text("draft".into()) }
    );
    assert!(matches!(fields.subtitle.ilike("%a%").expr(), Expr::Like { column: "subtitle", .. }));

    let title = public::PostEntity::fields().title;
    assert_eq!(
        title.eq("x").into_expr(),
        Expr::Compare { column: "title", op: CmpOp::Eq, value: Value::Text("x".into()) }
    );
    let copied = public::PostEntityFields::clone(&public::PostEntity::fields());
    assert_eq!(format!("{:?}", copied.id), "Col(id)");
}
