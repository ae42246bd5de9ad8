//! `#[derive(Entity)]`: reads a struct into an [`EntityDef`], checking every rule that can be
//! checked before type checking, then hands it to [`expand`] for the generated code.
//!
//! Every error found is reported, not just the first, each at the span of what caused it.

mod expand;

use crate::attrs::{self, ActionAttr, CascadeAttr, FieldAttrs, RelationKindAttr, TextType};
use crate::errors::Errors;
use crate::types::{self, Classified, RelationShape, Scalar};
use proc_macro2::{Span, TokenStream};
use quote::quote;
use strata_conventions::underscore;
use syn::ext::IdentExt;
use syn::{Data, DeriveInput, ExprPath, Field, Fields, Ident, LitStr, Path, Type, Visibility};

/// The expansion of `#[derive(Entity)]` on `input`.
pub(crate) fn entity_inner(input: TokenStream) -> syn::Result<TokenStream> {
    let input: DeriveInput = syn::parse2(input)?;
    let def = EntityDef::from_input(&input)?;
    Ok(expand::expand(&def))
}

/// An entity struct, checked.
pub(crate) struct EntityDef<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) vis: &'a Visibility,
    /// The path generated code reaches the core through (`::strata::__core`).
    pub(crate) root: Path,
    pub(crate) table: String,
    pub(crate) schema: Option<String>,
    pub(crate) renamed_from: Option<String>,
    /// The columns, in field order (an owning to-one relation's join column among them).
    pub(crate) columns: Vec<ColumnDef<'a>>,
    /// The relations, in field order.
    pub(crate) relations: Vec<RelationDef<'a>>,
    /// Fields marked `skip`, filled with `Default::default()` when loaded.
    pub(crate) skipped: Vec<&'a Ident>,
    /// The index of the primary key in `columns`.
    pub(crate) primary_key: usize,
}

/// How a column's type is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColumnTypeDef {
    /// The field type's `FieldType::COLUMN_TYPE`.
    FromField,
    /// `type = "text"`.
    Text,
    /// `type = "varchar"` and/or `length = n`.
    Varchar(u32),
}

/// One relation field.
pub(crate) struct RelationDef<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) ty: &'a Type,
    /// The field name without `r#`.
    pub(crate) field: String,
    pub(crate) kind: RelationKindAttr,
    /// The `T` of `Reference<T>` / `Collection<T>`.
    pub(crate) target: &'a Type,
    /// `Option<Reference<T>>`.
    pub(crate) nullable: bool,
    /// `Collection<T>`.
    pub(crate) to_many: bool,
    pub(crate) mapped_by: Option<LitStr>,
    /// For an owning to-one, its join column's index in `EntityDef::columns`.
    pub(crate) column: Option<usize>,
    pub(crate) cascade: CascadeAttr,
    pub(crate) orphan_removal: bool,
    pub(crate) on_delete: Option<ActionAttr>,
    pub(crate) on_update: Option<ActionAttr>,
    pub(crate) pivot_table: Option<String>,
    pub(crate) join_column_name: Option<String>,
    pub(crate) inverse_join_column_name: Option<String>,
}

/// One column: a field that is not `skip`.
pub(crate) struct ColumnDef<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) ty: &'a Type,
    /// The field name without `r#`.
    pub(crate) field: String,
    pub(crate) name: String,
    pub(crate) column_type: ColumnTypeDef,
    pub(crate) default: Option<String>,
    pub(crate) primary_key: bool,
    /// True for an integer primary key, which the database assigns.
    pub(crate) identity: bool,
    pub(crate) unique: bool,
    pub(crate) index: bool,
    pub(crate) version: bool,
    pub(crate) renamed_from: Option<String>,
    pub(crate) on_create: Option<ExprPath>,
    pub(crate) on_update: Option<ExprPath>,
    /// Where the column name came from, for errors about duplicates.
    name_span: Span,
}

impl<'a> EntityDef<'a> {
    fn from_input(input: &'a DeriveInput) -> syn::Result<Self> {
        let ident = &input.ident;
        let entity = ident.unraw().to_string();
        let Data::Struct(data) = &input.data else {
            return Err(syn::Error::new_spanned(
                ident,
                format!(
                    "#[derive(Entity)] applies to structs with named fields, and `{entity}` is not a struct"
                ),
            ));
        };
        let Fields::Named(named) = &data.fields else {
            return Err(syn::Error::new_spanned(
                ident,
                format!(
                    "#[derive(Entity)] needs named fields, one per column: `{entity}` has none or is a tuple struct"
                ),
            ));
        };
        if !input.generics.params.is_empty() || input.generics.where_clause.is_some() {
            return Err(syn::Error::new_spanned(
                &input.generics,
                format!("entity `{entity}` must not be generic: an entity maps one table"),
            ));
        }

        let mut errors = Errors::default();
        let attrs = attrs::struct_attrs(&input.attrs).unwrap_or_else(|e| {
            errors.push(e);
            attrs::StructAttrs::default()
        });
        let mut columns = Vec::new();
        let mut relations = Vec::new();
        let mut skipped = Vec::new();
        let mut all_parsed = true;
        for field in &named.named {
            match check_field(field, &mut errors) {
                Some(Member::Column(column)) => columns.push(*column),
                Some(Member::Relation(mut relation, column)) => {
                    if let Some(column) = column {
                        relation.column = Some(columns.len());
                        columns.push(*column);
                    }
                    relations.push(*relation);
                }
                Some(Member::Skipped(ident)) => skipped.push(ident),
                None => all_parsed = false,
            }
        }
        let primary_key = check_entity(&entity, ident, &columns, all_parsed, &mut errors);
        errors.finish()?;

        Ok(Self {
            ident,
            vis: &input.vis,
            root: attrs::root(attrs.krate),
            table: attrs.table.map_or_else(|| underscore(&entity), |t| t.value()),
            schema: attrs.schema.map(|s| s.value()),
            renamed_from: attrs.renamed_from.map(|s| s.value()),
            columns,
            relations,
            skipped,
            primary_key: primary_key.unwrap_or_default(),
        })
    }
}

enum Member<'a> {
    Column(Box<ColumnDef<'a>>),
    /// A relation, with its join column when it is an owning to-one.
    Relation(Box<RelationDef<'a>>, Option<Box<ColumnDef<'a>>>),
    Skipped(&'a Ident),
}

/// The span of `name: Type`, where errors about a field point.
fn field_span(ident: &Ident, ty: &Type) -> TokenStream {
    quote!(#ident: #ty)
}

/// Checks one field; `None` when its attributes do not parse (the error is in `errors`).
fn check_field<'a>(field: &'a Field, errors: &mut Errors) -> Option<Member<'a>> {
    let ident = field.ident.as_ref()?;
    let name = ident.unraw().to_string();
    let ty = &field.ty;
    let attrs = match attrs::field_attrs(&field.attrs, &name) {
        Ok(attrs) => attrs,
        Err(e) => {
            errors.push(e);
            return None;
        }
    };
    if attrs.skip.is_some() {
        if let Some(span) = attrs.first_column_key() {
            errors.push(syn::Error::new(
                span,
                format!(
                    "field `{name}` is marked `skip`, so it is not a column: remove its other #[strata] keys"
                ),
            ));
        }
        return Some(Member::Skipped(ident));
    }

    let shown = types::display(ty);
    let at_field = |message: String| syn::Error::new_spanned(field_span(ident, ty), message);
    match (types::relation_shape(ty), attrs.relation) {
        (Some(shape), Some((kind, span))) => {
            return check_relation(field, ident, &name, shape, kind, span, &attrs, errors);
        }
        (Some(shape), None) => {
            let kinds = match shape {
                RelationShape::ToOne { .. } => "#[strata(many_to_one)] or #[strata(one_to_one)]",
                RelationShape::ToMany { .. } => {
                    "#[strata(one_to_many, mapped_by = \"…\")] or #[strata(many_to_many)]"
                }
            };
            errors.push(at_field(format!(
                "field `{name}` has type `{shown}`, a relation: mark it {kinds}"
            )));
            return None;
        }
        (None, Some((kind, span))) => {
            let expected = match kind {
                RelationKindAttr::ManyToOne | RelationKindAttr::OneToOne => {
                    "Reference<T> or Option<Reference<T>>"
                }
                RelationKindAttr::OneToMany | RelationKindAttr::ManyToMany => "Collection<T>",
            };
            errors.push(syn::Error::new(
                span,
                format!(
                    "`{}` applies to a field of type {expected}, but field `{name}` has type `{shown}`",
                    kind.key()
                ),
            ));
            return None;
        }
        (None, None) => {
            if let Some(span) = relation_option_span(&attrs) {
                errors.push(syn::Error::new(
                    span,
                    format!(
                        "field `{name}` is not a relation: relation options need a Reference or \
                         Collection field marked many_to_one, one_to_one, one_to_many or many_to_many"
                    ),
                ));
            }
        }
    }
    let class = types::classify(ty);
    let known = class.scalar.is_some() || attrs.is_enum.is_some();
    if !known && attrs.primary_key.is_none() {
        errors.push(at_field(format!(
            "field `{name}` has unsupported type `{shown}`; supported: {}",
            types::SUPPORTED
        )));
    }
    let is = |scalars: &[Scalar]| {
        !class.optional
            && attrs.is_enum.is_none()
            && class.scalar.is_some_and(|s| scalars.contains(&s))
    };

    if let Some(span) = attrs.primary_key {
        if !is(&[Scalar::I32, Scalar::I64, Scalar::Uuid]) {
            errors.push(at_field(format!(
                "primary key `{name}` has type `{shown}`; primary keys must be i32, i64 or uuid::Uuid"
            )));
        } else if attrs.version.is_some() {
            errors.push(syn::Error::new(
                span,
                format!("field `{name}` cannot be both the primary key and the version"),
            ));
        }
    }
    if let Some(span) = attrs.version
        && known
        && !is(&[Scalar::I32, Scalar::I64])
    {
        errors.push(syn::Error::new(
            span,
            format!("version field `{name}` has type `{shown}`; a version must be i32 or i64"),
        ));
    }
    if attrs.nullable.is_some() && !class.optional {
        errors.push(at_field(format!(
            "field `{name}` is not an Option: make it Option<T> to store NULL"
        )));
    }
    let column_type = text_column_type(&name, &shown, class, &attrs, errors);

    let column = attrs.column.as_ref();
    Some(Member::Column(Box::new(ColumnDef {
        ident,
        ty,
        name: column.map_or_else(|| underscore(&name), syn::LitStr::value),
        name_span: column.map_or_else(|| ident.span(), syn::LitStr::span),
        field: name,
        column_type,
        default: attrs.default.map(|d| d.value()),
        primary_key: attrs.primary_key.is_some(),
        identity: attrs.primary_key.is_some() && is(&[Scalar::I32, Scalar::I64]),
        unique: attrs.unique.is_some(),
        index: attrs.index.is_some(),
        version: attrs.version.is_some(),
        renamed_from: attrs.renamed_from.map(|r| r.value()),
        on_create: attrs.on_create,
        on_update: attrs.on_update,
    })))
}

/// The span of the first relation-only key (`mapped_by`, `join_column`, …), if any.
fn relation_option_span(attrs: &FieldAttrs) -> Option<Span> {
    [
        attrs.mapped_by.as_ref().map(LitStr::span),
        attrs.join_column.as_ref().map(LitStr::span),
        attrs.inverse_join_column.as_ref().map(LitStr::span),
        attrs.pivot_table.as_ref().map(LitStr::span),
        attrs.on_delete.map(|(_, s)| s),
        attrs.on_update_fk.map(|(_, s)| s),
        attrs.cascade.map(|(_, s)| s),
        attrs.orphan_removal,
    ]
    .into_iter()
    .flatten()
    .next()
}

/// Checks a relation field; the join column of an owning to-one comes with it.
#[allow(clippy::too_many_arguments)]
fn check_relation<'a>(
    field: &'a Field,
    ident: &'a Ident,
    name: &str,
    shape: RelationShape<'a>,
    kind: RelationKindAttr,
    kind_span: Span,
    attrs: &FieldAttrs,
    errors: &mut Errors,
) -> Option<Member<'a>> {
    let ty = &field.ty;
    let shown = types::display(ty);
    let key = kind.key();
    let mut fail = |span: Span, message: String| errors.push(syn::Error::new(span, message));
    let (target, nullable, to_many) = match shape {
        RelationShape::ToOne { target, nullable } => (target, nullable, false),
        RelationShape::ToMany { target } => (target, false, true),
    };
    let wants_many = matches!(kind, RelationKindAttr::OneToMany | RelationKindAttr::ManyToMany);
    if wants_many != to_many {
        let expected =
            if wants_many { "Collection<T>" } else { "Reference<T> or Option<Reference<T>>" };
        fail(
            kind_span,
            format!(
                "`{key}` applies to a field of type {expected}, but field `{name}` has type `{shown}`"
            ),
        );
        return None;
    }
    // Keys that describe a column do not apply to a relation.
    let column_keys = [
        ("primary_key", attrs.primary_key),
        ("column", attrs.column.as_ref().map(LitStr::span)),
        ("type", attrs.text_type.map(|(_, s)| s)),
        ("length", attrs.length.map(|(_, s)| s)),
        ("default", attrs.default.as_ref().map(LitStr::span)),
        ("version", attrs.version),
        ("renamed_from", attrs.renamed_from.as_ref().map(LitStr::span)),
        ("on_create", attrs.on_create.as_ref().map(syn::spanned::Spanned::span)),
        ("on_update", attrs.on_update.as_ref().map(syn::spanned::Spanned::span)),
        ("enum", attrs.is_enum),
        ("unique", attrs.unique),
    ];
    for (column_key, span) in column_keys {
        if let Some(span) = span {
            let hint = if column_key == "column" {
                " (name the foreign key with `join_column`)"
            } else {
                ""
            };
            fail(span, format!("`{column_key}` does not apply to relation field `{name}`{hint}"));
        }
    }
    let mapped_by = attrs.mapped_by.clone();
    match (kind, &mapped_by) {
        (RelationKindAttr::OneToMany, None) => fail(
            kind_span,
            format!(
                "one_to_many field `{name}` needs `mapped_by = \"…\"`, the field of the target that holds the foreign key"
            ),
        ),
        (RelationKindAttr::ManyToOne, Some(m)) => fail(
            m.span(),
            format!("many_to_one field `{name}` is always the owning side: remove `mapped_by`"),
        ),
        _ => {}
    }
    let owner = mapped_by.is_none();
    let owning_to_one = owner && !to_many;
    let owning_many = owner && to_many;
    if !owner {
        for (option, span) in [
            ("join_column", attrs.join_column.as_ref().map(LitStr::span)),
            ("inverse_join_column", attrs.inverse_join_column.as_ref().map(LitStr::span)),
            ("pivot_table", attrs.pivot_table.as_ref().map(LitStr::span)),
            ("on_delete", attrs.on_delete.map(|(_, s)| s)),
            ("on_update", attrs.on_update_fk.map(|(_, s)| s)),
            ("index", attrs.index),
        ] {
            if let Some(span) = span {
                fail(
                    span,
                    format!(
                        "`{option}` belongs on the owning side: field `{name}` is the inverse side (`mapped_by`)"
                    ),
                );
            }
        }
        if !to_many && !nullable {
            fail(
                kind_span,
                format!(
                    "the inverse one_to_one field `{name}` must be an Option<Reference<T>>: the row it maps may not exist"
                ),
            );
        }
    }
    if owning_many {
        for (option, span) in [
            ("on_delete", attrs.on_delete.map(|(_, s)| s)),
            ("on_update", attrs.on_update_fk.map(|(_, s)| s)),
            ("index", attrs.index),
        ] {
            if let Some(span) = span {
                fail(
                    span,
                    format!(
                        "`{option}` does not apply to many_to_many field `{name}`: its pivot table's keys cascade"
                    ),
                );
            }
        }
    }
    if owning_to_one {
        for (option, span) in [
            ("inverse_join_column", attrs.inverse_join_column.as_ref().map(LitStr::span)),
            ("pivot_table", attrs.pivot_table.as_ref().map(LitStr::span)),
        ] {
            if let Some(span) = span {
                fail(span, format!("`{option}` applies to many_to_many fields, not to `{name}`"));
            }
        }
    }
    if let Some((ActionAttr::SetNull, span)) = attrs.on_delete
        && !nullable
    {
        fail(
            span,
            format!(
                "`on_delete = \"set null\"` needs a nullable relation: make field `{name}` an Option<Reference<T>>"
            ),
        );
    }
    if let Some((ActionAttr::SetNull, span)) = attrs.on_update_fk
        && !nullable
    {
        fail(
            span,
            format!(
                "`on_update = \"set null\"` needs a nullable relation: make field `{name}` an Option<Reference<T>>"
            ),
        );
    }
    if let Some(span) = attrs.orphan_removal
        && !matches!(kind, RelationKindAttr::OneToMany | RelationKindAttr::OneToOne)
    {
        fail(
            span,
            format!(
                "`orphan_removal` applies to one_to_many and one_to_one fields, not to `{name}`"
            ),
        );
    }
    let join_column = attrs.join_column.as_ref().map(LitStr::value);
    let column = owning_to_one.then(|| {
        let column = attrs.join_column.as_ref();
        Box::new(ColumnDef {
            ident,
            ty,
            name: column.map_or_else(|| format!("{}_id", underscore(name)), LitStr::value),
            name_span: column.map_or_else(|| ident.span(), LitStr::span),
            field: name.to_owned(),
            column_type: ColumnTypeDef::FromField,
            default: None,
            primary_key: false,
            identity: false,
            unique: kind == RelationKindAttr::OneToOne,
            index: attrs.index.is_some(),
            version: false,
            renamed_from: None,
            on_create: None,
            on_update: None,
        })
    });
    let relation = RelationDef {
        ident,
        ty,
        field: name.to_owned(),
        kind,
        target,
        nullable,
        to_many,
        mapped_by,
        column: None,
        cascade: attrs.cascade.map_or(CascadeAttr { persist: true, remove: false }, |(c, _)| c),
        orphan_removal: attrs.orphan_removal.is_some(),
        on_delete: attrs.on_delete.map(|(a, _)| a),
        on_update: attrs.on_update_fk.map(|(a, _)| a),
        pivot_table: attrs.pivot_table.as_ref().map(LitStr::value),
        join_column_name: if owning_many { join_column } else { None },
        inverse_join_column_name: attrs.inverse_join_column.as_ref().map(LitStr::value),
    };
    Some(Member::Relation(Box::new(relation), column))
}

/// The column type `type = "…"` and `length = n` ask for; both apply to strings only.
fn text_column_type(
    name: &str,
    shown: &str,
    class: Classified,
    attrs: &FieldAttrs,
    errors: &mut Errors,
) -> ColumnTypeDef {
    let is_string = class.scalar == Some(Scalar::String) && attrs.is_enum.is_none();
    let wrong = |key: &str, span: Span| {
        syn::Error::new(
            span,
            format!(
                "`{key}` applies to String and Option<String> fields, but field `{name}` has type `{shown}`"
            ),
        )
    };
    match (attrs.text_type, attrs.length) {
        (None, None) => ColumnTypeDef::FromField,
        (Some((_, span)), _) if !is_string => {
            errors.push(wrong("type", span));
            ColumnTypeDef::FromField
        }
        (_, Some((_, span))) if !is_string => {
            errors.push(wrong("length", span));
            ColumnTypeDef::FromField
        }
        (Some((TextType::Text, _)), Some((_, span))) => {
            errors.push(syn::Error::new(
                span,
                format!(
                    "field `{name}` is `text`, which has no length: remove `length` or use `type = \"varchar\"`"
                ),
            ));
            ColumnTypeDef::Text
        }
        (Some((TextType::Text, _)), None) => ColumnTypeDef::Text,
        (_, Some((length, _))) => ColumnTypeDef::Varchar(length),
        (Some((TextType::Varchar, _)), None) => ColumnTypeDef::Varchar(255),
    }
}

/// Checks the rules that span fields; returns the index of the primary key.
///
/// A field whose attributes did not parse is missing from `columns` (`all_parsed` is false);
/// it may be the primary key, so its absence is not reported then.
fn check_entity(
    entity: &str,
    ident: &Ident,
    columns: &[ColumnDef<'_>],
    all_parsed: bool,
    errors: &mut Errors,
) -> Option<usize> {
    let pks: Vec<usize> = (0..columns.len()).filter(|&i| columns[i].primary_key).collect();
    if pks.is_empty() && all_parsed {
        errors.push(syn::Error::new_spanned(
            ident,
            format!(
                "struct `{entity}` has no primary key: mark one field with #[strata(primary_key)]"
            ),
        ));
    }
    for &extra in pks.iter().skip(1) {
        let (first, c) = (&columns[pks[0]], &columns[extra]);
        errors.push(syn::Error::new_spanned(
            field_span(c.ident, c.ty),
            format!(
                "struct `{entity}` has two primary keys (`{}` and `{}`): mark exactly one field with #[strata(primary_key)]; composite keys are not supported",
                first.field, c.field
            ),
        ));
    }

    let versions: Vec<&ColumnDef<'_>> = columns.iter().filter(|c| c.version).collect();
    for extra in versions.iter().skip(1) {
        errors.push(syn::Error::new_spanned(
            field_span(extra.ident, extra.ty),
            format!(
                "struct `{entity}` has two version fields (`{}` and `{}`): an entity has at most one",
                versions[0].field, extra.field
            ),
        ));
    }

    for (i, c) in columns.iter().enumerate() {
        if let Some(other) = columns[..i].iter().find(|o| o.name == c.name) {
            errors.push(syn::Error::new(
                c.name_span,
                format!(
                    "fields `{}` and `{}` of `{entity}` both map to column `{}`: rename one with #[strata(column = \"…\")]",
                    other.field, c.field, c.name
                ),
            ));
        }
    }
    pks.first().copied()
}

#[cfg(test)]
mod tests;
