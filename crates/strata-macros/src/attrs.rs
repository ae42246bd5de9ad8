//! Parsing of the `#[strata(…)]` attributes on structs, fields, enums and variants.
//!
//! Parsing checks the syntax of each key (a flag, a string, an integer) and rejects unknown or
//! repeated keys; whether a key suits the field it is on is decided in `entity.rs`, which knows
//! the field's type.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::{Attribute, ExprPath, LitInt, LitStr, Path, Token};

/// The keys of `#[strata(…)]` on a struct deriving `Entity`.
pub(crate) const STRUCT_KEYS: &str = "table, schema, renamed_from, crate";
/// The keys of `#[strata(…)]` on a field of an entity.
pub(crate) const FIELD_KEYS: &str = "primary_key, column, type, length, default, unique, index, \
     nullable, version, renamed_from, on_create, on_update, enum, skip, many_to_one, one_to_one, \
     one_to_many, many_to_many, mapped_by, join_column, inverse_join_column, pivot_table, \
     on_delete, cascade, orphan_removal";
/// The keys of `#[strata(…)]` on an enum deriving `DbEnum`.
pub(crate) const ENUM_KEYS: &str = "crate";
/// The keys of `#[strata(…)]` on a variant of such an enum.
pub(crate) const VARIANT_KEYS: &str = "rename";

/// `#[strata(…)]` on an entity struct.
#[derive(Default)]
pub(crate) struct StructAttrs {
    pub(crate) table: Option<LitStr>,
    pub(crate) schema: Option<LitStr>,
    pub(crate) renamed_from: Option<LitStr>,
    pub(crate) krate: Option<Path>,
}

/// The column type a `type = "…"` key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextType {
    Text,
    Varchar,
}

/// `#[strata(…)]` on an entity field. Flags hold the span they were written at.
#[derive(Default)]
pub(crate) struct FieldAttrs {
    pub(crate) primary_key: Option<Span>,
    pub(crate) column: Option<LitStr>,
    pub(crate) text_type: Option<(TextType, Span)>,
    pub(crate) length: Option<(u32, Span)>,
    pub(crate) default: Option<LitStr>,
    pub(crate) unique: Option<Span>,
    pub(crate) index: Option<Span>,
    pub(crate) nullable: Option<Span>,
    pub(crate) version: Option<Span>,
    pub(crate) renamed_from: Option<LitStr>,
    pub(crate) on_create: Option<ExprPath>,
    pub(crate) on_update: Option<ExprPath>,
    pub(crate) is_enum: Option<Span>,
    pub(crate) skip: Option<Span>,
    /// The relation kind, at most one.
    pub(crate) relation: Option<(RelationKindAttr, Span)>,
    pub(crate) mapped_by: Option<LitStr>,
    pub(crate) join_column: Option<LitStr>,
    pub(crate) inverse_join_column: Option<LitStr>,
    pub(crate) pivot_table: Option<LitStr>,
    pub(crate) on_delete: Option<(ActionAttr, Span)>,
    pub(crate) on_update_fk: Option<(ActionAttr, Span)>,
    pub(crate) cascade: Option<(CascadeAttr, Span)>,
    pub(crate) orphan_removal: Option<Span>,
}

/// A relation kind key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RelationKindAttr {
    ManyToOne,
    OneToOne,
    OneToMany,
    ManyToMany,
}

impl RelationKindAttr {
    pub(crate) fn key(self) -> &'static str {
        match self {
            Self::ManyToOne => "many_to_one",
            Self::OneToOne => "one_to_one",
            Self::OneToMany => "one_to_many",
            Self::ManyToMany => "many_to_many",
        }
    }
}

/// A foreign key's `ON DELETE` / `ON UPDATE` action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ActionAttr {
    Cascade,
    SetNull,
    Restrict,
    NoAction,
}

/// `cascade = "…"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CascadeAttr {
    pub(crate) persist: bool,
    pub(crate) remove: bool,
}

impl FieldAttrs {
    /// The span of the first key other than `skip`, if any.
    pub(crate) fn first_column_key(&self) -> Option<Span> {
        [
            self.primary_key,
            self.column.as_ref().map(LitStr::span),
            self.text_type.map(|(_, s)| s),
            self.length.map(|(_, s)| s),
            self.default.as_ref().map(LitStr::span),
            self.unique,
            self.index,
            self.nullable,
            self.version,
            self.renamed_from.as_ref().map(LitStr::span),
            self.on_create.as_ref().map(syn::spanned::Spanned::span),
            self.on_update.as_ref().map(syn::spanned::Spanned::span),
            self.is_enum,
            self.relation.map(|(_, s)| s),
        ]
        .into_iter()
        .flatten()
        .next()
    }
}

/// `#[strata(…)]` on an enum deriving `DbEnum`.
#[derive(Default)]
pub(crate) struct EnumAttrs {
    pub(crate) krate: Option<Path>,
}

/// `#[strata(…)]` on a variant of an enum deriving `DbEnum`.
#[derive(Default)]
pub(crate) struct VariantAttrs {
    pub(crate) rename: Option<LitStr>,
}

/// The path generated code reaches the core through: the `crate = "…"` key if given, else the
/// facade's re-export `::strata::__core`.
pub(crate) fn root(krate: Option<Path>) -> Path {
    krate.unwrap_or_else(|| syn::parse_quote!(::strata::__core))
}

/// Parses every `#[strata(…)]` among `attrs`, calling `key` with each key's name and meta.
fn parse_strata(
    attrs: &[Attribute],
    mut key: impl FnMut(&str, &ParseNestedMeta<'_>) -> syn::Result<()>,
) -> syn::Result<()> {
    for attr in attrs.iter().filter(|a| a.path().is_ident("strata")) {
        attr.parse_nested_meta(|meta| {
            let name = meta.path.get_ident().map(ToString::to_string).unwrap_or_default();
            key(&name, &meta)
        })?;
    }
    Ok(())
}

fn unknown(meta: &ParseNestedMeta<'_>, on: &str, supported: &str) -> syn::Error {
    let shown = quote::ToTokens::to_token_stream(&meta.path).to_string().replace(' ', "");
    syn::Error::new_spanned(
        &meta.path,
        format!("unknown attribute `{shown}` on {on}; supported: {supported}"),
    )
}

/// Stores `value` in `slot`, refusing a key given twice.
fn once<T>(
    slot: &mut Option<T>,
    value: T,
    meta: &ParseNestedMeta<'_>,
    name: &str,
) -> syn::Result<()> {
    if slot.is_some() {
        return Err(meta.error(format!("duplicate attribute `{name}`")));
    }
    *slot = Some(value);
    Ok(())
}

/// A key without a value, such as `unique`.
fn flag(slot: &mut Option<Span>, meta: &ParseNestedMeta<'_>, name: &str) -> syn::Result<()> {
    if meta.input.peek(Token![=]) || meta.input.peek(syn::token::Paren) {
        return Err(meta.error(format!("`{name}` takes no value: write #[strata({name})]")));
    }
    once(slot, meta_span(meta), meta, name)
}

/// A key with a string value, such as `column = "title"`.
fn string(slot: &mut Option<LitStr>, meta: &ParseNestedMeta<'_>, name: &str) -> syn::Result<()> {
    let lit: LitStr = meta.value()?.parse()?;
    if lit.value().is_empty() {
        return Err(syn::Error::new(lit.span(), format!("`{name}` must not be empty")));
    }
    once(slot, lit, meta, name)
}

/// A key whose string value is a path, such as `crate = "::strata::__core"`.
fn path_string<T: syn::parse::Parse>(
    slot: &mut Option<T>,
    meta: &ParseNestedMeta<'_>,
    name: &str,
    what: &str,
) -> syn::Result<()> {
    let lit: LitStr = meta.value()?.parse()?;
    let parsed = lit.parse::<T>().map_err(|_| {
        syn::Error::new(
            lit.span(),
            format!("`{name}` must be {what}, such as \"{}\"", example(name)),
        )
    })?;
    once(slot, parsed, meta, name)
}

fn example(name: &str) -> &'static str {
    match name {
        "crate" => "::strata::__core",
        _ => "chrono::Utc::now",
    }
}

fn meta_span(meta: &ParseNestedMeta<'_>) -> Span {
    syn::spanned::Spanned::span(&meta.path)
}

/// Parses the attributes of an entity struct.
pub(crate) fn struct_attrs(attrs: &[Attribute]) -> syn::Result<StructAttrs> {
    let mut out = StructAttrs::default();
    parse_strata(attrs, |name, meta| match name {
        "table" => string(&mut out.table, meta, name),
        "schema" => string(&mut out.schema, meta, name),
        "renamed_from" => string(&mut out.renamed_from, meta, name),
        "crate" => path_string(&mut out.krate, meta, name, "a path"),
        _ => Err(unknown(meta, "an entity", STRUCT_KEYS)),
    })?;
    Ok(out)
}

/// Parses the attributes of an entity field named `field`.
pub(crate) fn field_attrs(attrs: &[Attribute], field: &str) -> syn::Result<FieldAttrs> {
    let mut out = FieldAttrs::default();
    let on = format!("field `{field}`");
    parse_strata(attrs, |name, meta| match name {
        "primary_key" => flag(&mut out.primary_key, meta, name),
        "column" => string(&mut out.column, meta, name),
        "type" => {
            let lit: LitStr = meta.value()?.parse()?;
            let ty = match lit.value().as_str() {
                "text" => TextType::Text,
                "varchar" => TextType::Varchar,
                other => {
                    return Err(syn::Error::new(
                        lit.span(),
                        format!("unknown column type `{other}` on {on}; supported: text, varchar"),
                    ));
                }
            };
            once(&mut out.text_type, (ty, lit.span()), meta, name)
        }
        "length" => {
            let lit: LitInt = meta.value()?.parse()?;
            let length: u32 = lit.base10_parse()?;
            if length == 0 {
                return Err(syn::Error::new(lit.span(), "`length` must be at least 1"));
            }
            once(&mut out.length, (length, lit.span()), meta, name)
        }
        "default" => string(&mut out.default, meta, name),
        "unique" => flag(&mut out.unique, meta, name),
        "index" => flag(&mut out.index, meta, name),
        "nullable" => flag(&mut out.nullable, meta, name),
        "version" => flag(&mut out.version, meta, name),
        "renamed_from" => string(&mut out.renamed_from, meta, name),
        "on_create" => path_string(&mut out.on_create, meta, name, "a path to a function"),
        // A relation's foreign-key rule (`on_update = "cascade"`) or a column's hook
        // (`on_update = "chrono::Utc::now"`): the field's type decides in `entity.rs`, the
        // words of a rule are parsed here.
        "on_update" if action_follows(meta) => {
            let lit: LitStr = meta.value()?.parse()?;
            let action = parse_action(&lit, name, &on)?;
            once(&mut out.on_update_fk, (action, lit.span()), meta, name)
        }
        "on_update" => path_string(&mut out.on_update, meta, name, "a path to a function"),
        "enum" => flag(&mut out.is_enum, meta, name),
        "skip" => flag(&mut out.skip, meta, name),
        "many_to_one" | "one_to_one" | "one_to_many" | "many_to_many" => {
            let kind = match name {
                "many_to_one" => RelationKindAttr::ManyToOne,
                "one_to_one" => RelationKindAttr::OneToOne,
                "one_to_many" => RelationKindAttr::OneToMany,
                _ => RelationKindAttr::ManyToMany,
            };
            let mut span = None;
            flag(&mut span, meta, name)?;
            if let Some((other, _)) = out.relation {
                return Err(meta.error(format!(
                    "field `{field}` is already `{}`: a relation has one kind",
                    other.key()
                )));
            }
            out.relation = span.map(|s| (kind, s));
            Ok(())
        }
        "mapped_by" => string(&mut out.mapped_by, meta, name),
        "join_column" => string(&mut out.join_column, meta, name),
        "inverse_join_column" => string(&mut out.inverse_join_column, meta, name),
        "pivot_table" => string(&mut out.pivot_table, meta, name),
        "on_delete" => {
            let lit: LitStr = meta.value()?.parse()?;
            let action = parse_action(&lit, name, &on)?;
            once(&mut out.on_delete, (action, lit.span()), meta, name)
        }
        "cascade" => {
            let lit: LitStr = meta.value()?.parse()?;
            let mut cascade = CascadeAttr { persist: false, remove: false };
            for part in lit.value().split(',').map(str::trim) {
                match part {
                    "persist" => cascade.persist = true,
                    "remove" => cascade.remove = true,
                    "all" => cascade = CascadeAttr { persist: true, remove: true },
                    "none" => {}
                    other => {
                        return Err(syn::Error::new(
                            lit.span(),
                            format!(
                                "unknown cascade `{other}` on {on}; supported: persist, remove, all, none (comma-separated)"
                            ),
                        ));
                    }
                }
            }
            once(&mut out.cascade, (cascade, lit.span()), meta, name)
        }
        "orphan_removal" => flag(&mut out.orphan_removal, meta, name),
        _ => Err(unknown(meta, &on, FIELD_KEYS)),
    })?;
    Ok(out)
}

/// True when the value of the key being parsed is one of the words of a foreign-key rule.
fn action_follows(meta: &ParseNestedMeta<'_>) -> bool {
    let fork = meta.input.fork();
    let value = fork.parse::<Token![=]>().and_then(|_| fork.parse::<LitStr>());
    value.is_ok_and(|lit| {
        ["cascade", "set null", "restrict", "no action"].contains(&lit.value().as_str())
    })
}

/// A foreign-key rule: `cascade`, `set null`, `restrict`, `no action`.
fn parse_action(lit: &LitStr, name: &str, on: &str) -> syn::Result<ActionAttr> {
    Ok(match lit.value().as_str() {
        "cascade" => ActionAttr::Cascade,
        "set null" => ActionAttr::SetNull,
        "restrict" => ActionAttr::Restrict,
        "no action" => ActionAttr::NoAction,
        other => {
            return Err(syn::Error::new(
                lit.span(),
                format!(
                    "unknown `{name}` rule `{other}` on {on}; supported: cascade, set null, restrict, no action"
                ),
            ));
        }
    })
}

/// Parses the attributes of an enum deriving `DbEnum`.
pub(crate) fn enum_attrs(attrs: &[Attribute]) -> syn::Result<EnumAttrs> {
    let mut out = EnumAttrs::default();
    parse_strata(attrs, |name, meta| match name {
        "crate" => path_string(&mut out.krate, meta, name, "a path"),
        _ => Err(unknown(meta, "a DbEnum", ENUM_KEYS)),
    })?;
    Ok(out)
}

/// Parses the attributes of the variant `variant` of an enum deriving `DbEnum`.
pub(crate) fn variant_attrs(attrs: &[Attribute], variant: &str) -> syn::Result<VariantAttrs> {
    let mut out = VariantAttrs::default();
    parse_strata(attrs, |name, meta| match name {
        "rename" => string(&mut out.rename, meta, name),
        _ => Err(unknown(meta, &format!("variant `{variant}`"), VARIANT_KEYS)),
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn field(attrs: &[Attribute]) -> syn::Result<FieldAttrs> {
        field_attrs(attrs, "title")
    }

    #[test]
    fn field_keys_parse_including_keywords() {
        let a = field(&[
            parse_quote!(#[strata(unique, index, column = "headline", type = "text")]),
            parse_quote!(#[strata(default = "'x'", renamed_from = "old", on_create = "chrono::Utc::now")]),
            parse_quote!(#[strata(enum, length = 40, nullable, version, primary_key)]),
        ])
        .unwrap();
        assert!(a.unique.is_some() && a.index.is_some() && a.nullable.is_some());
        assert!(a.version.is_some() && a.primary_key.is_some() && a.is_enum.is_some());
        assert_eq!(a.column.unwrap().value(), "headline");
        assert_eq!(a.text_type.map(|(t, _)| t), Some(TextType::Text));
        assert_eq!(a.length.map(|(l, _)| l), Some(40));
        assert_eq!(a.default.unwrap().value(), "'x'");
        assert_eq!(a.renamed_from.unwrap().value(), "old");
        let on_create = a.on_create.unwrap();
        assert_eq!(quote::quote!(#on_create).to_string(), "chrono :: Utc :: now");
    }

    #[test]
    fn other_attributes_are_ignored() {
        let a = field(&[parse_quote!(#[serde(rename = "x")]), parse_quote!(#[doc = "d"])]).unwrap();
        assert!(a.first_column_key().is_none() && a.skip.is_none());
    }

    #[test]
    fn unknown_keys_name_the_key_and_list_the_supported_ones() {
        let err = field(&[parse_quote!(#[strata(uniq)])]).err().unwrap().to_string();
        assert!(err.contains("unknown attribute `uniq` on field `title`"), "{err}");
        assert!(err.contains(FIELD_KEYS), "{err}");
        let err = struct_attrs(&[parse_quote!(#[strata(tabel = "x")])]).err().unwrap().to_string();
        assert!(err.contains("unknown attribute `tabel` on an entity; supported: table"), "{err}");
    }

    #[test]
    fn malformed_values_are_rejected() {
        for (attr, expected) in [
            (parse_quote!(#[strata(unique = true)]), "`unique` takes no value"),
            (parse_quote!(#[strata(unique, unique)]), "duplicate attribute `unique`"),
            (parse_quote!(#[strata(type = "blob")]), "unknown column type `blob`"),
            (parse_quote!(#[strata(length = 0)]), "`length` must be at least 1"),
            (parse_quote!(#[strata(column = "")]), "`column` must not be empty"),
            (parse_quote!(#[strata(on_update = "not a path")]), "`on_update` must be a path"),
        ] {
            let err = field(&[attr]).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains(expected), "expected {expected:?}, got {err:?}");
        }
    }

    #[test]
    fn struct_enum_and_variant_keys_parse() {
        let s = struct_attrs(&[parse_quote!(
            #[strata(table = "posts", schema = "blog", renamed_from = "post", crate = "::my::core")]
        )])
        .unwrap();
        assert_eq!(s.table.unwrap().value(), "posts");
        assert_eq!(s.schema.unwrap().value(), "blog");
        assert_eq!(s.renamed_from.unwrap().value(), "post");
        let krate = s.krate.unwrap();
        assert_eq!(quote::quote!(#krate).to_string(), ":: my :: core");
        assert!(enum_attrs(&[parse_quote!(#[strata(crate = "x")])]).unwrap().krate.is_some());
        let v = variant_attrs(&[parse_quote!(#[strata(rename = "wip")])], "Draft").unwrap();
        assert_eq!(v.rename.unwrap().value(), "wip");
        let err = variant_attrs(&[parse_quote!(#[strata(name = "x")])], "Draft").err().unwrap();
        assert!(err.to_string().contains("on variant `Draft`; supported: rename"), "{err}");
    }
}
