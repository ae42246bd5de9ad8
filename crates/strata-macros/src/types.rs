//! Classification of field types by their last path segment.
//!
//! The generated code converts every field through `strata_core::value::FieldType`, so the
//! compiler has the last word on what a field may be. Classifying here lets the derive reject an
//! unsupported type with a message that names the field and lists what is supported, and check
//! the rules that depend on the type (primary keys, `length`, `version`, `nullable`).

use quote::ToTokens;
use syn::{GenericArgument, PathArguments, Type};

/// What a field type may be, in the words of the error messages.
pub(crate) const SUPPORTED: &str = "bool, i16, i32, i64, f32, f64, String, Vec<u8>, uuid::Uuid, \
     chrono::DateTime<Utc>, chrono::NaiveDate, serde_json::Value, Option<T> of these, \
     or an enum deriving DbEnum marked #[strata(enum)]";

/// A field type the core knows how to store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scalar {
    Bool,
    I16,
    I32,
    I64,
    F32,
    F64,
    String,
    Bytes,
    Uuid,
    DateTime,
    NaiveDate,
    Json,
}

/// A field type split into its optionality and what it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Classified {
    /// True for `Option<T>`.
    pub(crate) optional: bool,
    /// The stored type (the `T` of `Option<T>`), or `None` when it is not one the derive knows
    /// (an enum deriving `DbEnum`, or an unsupported type).
    pub(crate) scalar: Option<Scalar>,
}

/// Classifies `ty`: `Option<T>` is looked through once, then `T` is matched by the last
/// segment of its path (`String`, `std::string::String` and `alloc::string::String` alike).
pub(crate) fn classify(ty: &Type) -> Classified {
    match option_inner(ty) {
        Some(inner) => Classified { optional: true, scalar: scalar(inner) },
        None => Classified { optional: false, scalar: scalar(ty) },
    }
}

/// The shape of a relation field's type.
#[derive(Clone, Copy)]
pub(crate) enum RelationShape<'a> {
    /// `Reference<T>` (`nullable` for `Option<Reference<T>>`).
    ToOne { target: &'a Type, nullable: bool },
    /// `Collection<T>`.
    ToMany { target: &'a Type },
}

/// The relation shape of `ty`, when it is `Reference<T>`, `Option<Reference<T>>` or
/// `Collection<T>` (by the last segment of the path, as for the other types).
pub(crate) fn relation_shape(ty: &Type) -> Option<RelationShape<'_>> {
    if let Some(inner) = option_inner(ty) {
        let (name, args) = last_segment(inner)?;
        return (name == "Reference")
            .then(|| single_type_arg(args))
            .flatten()
            .map(|target| RelationShape::ToOne { target, nullable: true });
    }
    let (name, args) = last_segment(ty)?;
    let target = single_type_arg(args)?;
    match name.as_str() {
        "Reference" => Some(RelationShape::ToOne { target, nullable: false }),
        "Collection" => Some(RelationShape::ToMany { target }),
        _ => None,
    }
}

/// The `T` of `Option<T>`, or `None` when `ty` is not an `Option`.
pub(crate) fn option_inner(ty: &Type) -> Option<&Type> {
    let (name, args) = last_segment(ty)?;
    if name != "Option" {
        return None;
    }
    single_type_arg(args)
}

fn scalar(ty: &Type) -> Option<Scalar> {
    let (name, args) = last_segment(ty)?;
    let plain = matches!(args, PathArguments::None);
    Some(match name.as_str() {
        "bool" if plain => Scalar::Bool,
        "i16" if plain => Scalar::I16,
        "i32" if plain => Scalar::I32,
        "i64" if plain => Scalar::I64,
        "f32" if plain => Scalar::F32,
        "f64" if plain => Scalar::F64,
        "String" if plain => Scalar::String,
        "Uuid" if plain => Scalar::Uuid,
        "NaiveDate" if plain => Scalar::NaiveDate,
        "Value" | "JsonValue" if plain => Scalar::Json,
        "Vec" => match last_segment(single_type_arg(args)?)? {
            (inner, PathArguments::None) if inner == "u8" => Scalar::Bytes,
            _ => return None,
        },
        "DateTime" => match last_segment(single_type_arg(args)?)? {
            (tz, PathArguments::None) if tz == "Utc" => Scalar::DateTime,
            _ => return None,
        },
        _ => return None,
    })
}

/// The last segment of a path type (without `qself`), as a name and its generic arguments.
fn last_segment(ty: &Type) -> Option<(String, &PathArguments)> {
    match ty {
        // Types passed through `macro_rules!` arrive wrapped in invisible groups.
        Type::Group(group) => last_segment(&group.elem),
        Type::Paren(paren) => last_segment(&paren.elem),
        Type::Path(path) if path.qself.is_none() => {
            let segment = path.path.segments.last()?;
            Some((segment.ident.to_string(), &segment.arguments))
        }
        _ => None,
    }
}

fn single_type_arg(args: &PathArguments) -> Option<&Type> {
    let PathArguments::AngleBracketed(args) = args else {
        return None;
    };
    let mut types = args.args.iter();
    match (types.next(), types.next()) {
        (Some(GenericArgument::Type(inner)), None) => Some(inner),
        _ => None,
    }
}

/// A type as a person writes it, for messages: `Vec<u8>`, not `Vec < u8 >`.
pub(crate) fn display(ty: &Type) -> String {
    let raw = ty.to_token_stream().to_string();
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ' ' {
            let prev = out.chars().last();
            let next = chars.peek().copied();
            let glued = matches!(prev, Some('<' | ':' | '&' | '('))
                || matches!(next, Some('<' | '>' | ':' | ',' | ')'));
            if glued {
                continue;
            }
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn of(ty: &Type) -> Classified {
        classify(ty)
    }

    #[test]
    fn supported_types_are_recognised_by_their_last_segment() {
        let cases: Vec<(Type, Scalar)> = vec![
            (parse_quote!(bool), Scalar::Bool),
            (parse_quote!(i16), Scalar::I16),
            (parse_quote!(i32), Scalar::I32),
            (parse_quote!(i64), Scalar::I64),
            (parse_quote!(f32), Scalar::F32),
            (parse_quote!(f64), Scalar::F64),
            (parse_quote!(String), Scalar::String),
            (parse_quote!(std::string::String), Scalar::String),
            (parse_quote!(Vec<u8>), Scalar::Bytes),
            (parse_quote!(uuid::Uuid), Scalar::Uuid),
            (parse_quote!(chrono::DateTime<chrono::Utc>), Scalar::DateTime),
            (parse_quote!(DateTime<Utc>), Scalar::DateTime),
            (parse_quote!(chrono::NaiveDate), Scalar::NaiveDate),
            (parse_quote!(serde_json::Value), Scalar::Json),
            (parse_quote!(JsonValue), Scalar::Json),
        ];
        for (ty, expected) in cases {
            let shown = display(&ty);
            assert_eq!(of(&ty), Classified { optional: false, scalar: Some(expected) }, "{shown}");
        }
    }

    #[test]
    fn options_are_looked_through_once() {
        assert_eq!(
            of(&parse_quote!(Option<String>)),
            Classified { optional: true, scalar: Some(Scalar::String) }
        );
        assert_eq!(
            of(&parse_quote!(std::option::Option<Vec<u8>>)),
            Classified { optional: true, scalar: Some(Scalar::Bytes) }
        );
        assert_eq!(
            of(&parse_quote!(Option<Option<i32>>)),
            Classified { optional: true, scalar: None }
        );
        assert_eq!(of(&parse_quote!(Option<Status>)), Classified { optional: true, scalar: None });
    }

    #[test]
    fn other_types_are_not_supported() {
        for ty in [
            parse_quote!(u32),
            parse_quote!(Vec<i32>),
            parse_quote!(Vec<u8, A>),
            parse_quote!(DateTime<FixedOffset>),
            parse_quote!(HashMap<String, i32>),
            parse_quote!(&'static str),
            parse_quote!((i32, i32)),
            parse_quote!(<T as Trait>::Value),
        ] {
            let shown = display(&ty);
            assert_eq!(of(&ty).scalar, None, "{shown}");
        }
    }

    #[test]
    fn types_display_as_written() {
        assert_eq!(display(&parse_quote!(Vec<u8>)), "Vec<u8>");
        assert_eq!(
            display(&parse_quote!(std::collections::HashMap<String, i32>)),
            "std::collections::HashMap<String, i32>"
        );
        assert_eq!(display(&parse_quote!(&'static str)), "&'static str");
        assert_eq!(display(&parse_quote!(Option<(i32, u8)>)), "Option<(i32, u8)>");
    }
}
