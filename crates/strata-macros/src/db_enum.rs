//! `#[derive(DbEnum)]`: a unit-only enum stored as text.
//!
//! Generates `DbEnum` (the stored values, in declaration order) and `FieldType` (a `text`
//! column whose allowed values the schema engine turns into a CHECK constraint), so the enum can
//! be an entity field marked `#[strata(enum)]`, plain or in an `Option`.

use crate::attrs;
use crate::errors::Errors;
use proc_macro2::{Span, TokenStream};
use quote::quote;
use strata_conventions::underscore;
use syn::ext::IdentExt;
use syn::{Data, DeriveInput, Fields};

/// The expansion of `#[derive(DbEnum)]` on `input`.
pub(crate) fn db_enum_inner(input: TokenStream) -> syn::Result<TokenStream> {
    let input: DeriveInput = syn::parse2(input)?;
    let ident = &input.ident;
    let name = ident.unraw().to_string();
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            ident,
            format!(
                "#[derive(DbEnum)] applies to enums with unit variants, and `{name}` is not an enum"
            ),
        ));
    };
    if !input.generics.params.is_empty() || input.generics.where_clause.is_some() {
        return Err(syn::Error::new_spanned(
            &input.generics,
            format!("DbEnum `{name}` must not be generic"),
        ));
    }
    if data.variants.is_empty() {
        return Err(syn::Error::new_spanned(
            ident,
            format!("DbEnum `{name}` has no variants: a column of it could hold no value"),
        ));
    }

    let mut errors = Errors::default();
    let attrs = attrs::enum_attrs(&input.attrs).unwrap_or_else(|e| {
        errors.push(e);
        attrs::EnumAttrs::default()
    });
    let mut variants = Vec::new();
    let mut values: Vec<(String, Span)> = Vec::new();
    for variant in &data.variants {
        let variant_name = variant.ident.unraw().to_string();
        if !matches!(variant.fields, Fields::Unit) {
            errors.push(syn::Error::new_spanned(
                variant,
                format!(
                    "variant `{name}::{variant_name}` has fields; a DbEnum is stored as text, so its variants must be unit variants"
                ),
            ));
        }
        let (value, span) = match attrs::variant_attrs(&variant.attrs, &variant_name) {
            Ok(attrs::VariantAttrs { rename: Some(rename) }) => (rename.value(), rename.span()),
            Ok(attrs::VariantAttrs { rename: None }) => {
                (underscore(&variant_name), variant.ident.span())
            }
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        if let Some((_, first)) = values.iter().find(|(v, _)| *v == value) {
            let mut error = syn::Error::new(
                span,
                format!(
                    "two variants of `{name}` are stored as `{value}`: rename one with #[strata(rename = \"…\")]"
                ),
            );
            error.combine(syn::Error::new(*first, format!("`{value}` is also used here")));
            errors.push(error);
        }
        variants.push(&variant.ident);
        values.push((value, span));
    }
    errors.finish()?;

    let root = attrs::root(attrs.krate);
    let values: Vec<String> = values.into_iter().map(|(v, _)| v).collect();
    let allowed = values.join(", ");
    Ok(quote! {
        impl #root::value::DbEnum for #ident {
            const VALUES: &'static [&'static str] = &[#(#values),*];

            fn as_str(&self) -> &'static str {
                match self {
                    #(Self::#variants => #values,)*
                }
            }

            fn from_str_value(s: &str) -> ::core::option::Option<Self> {
                match s {
                    #(#values => ::core::option::Option::Some(Self::#variants),)*
                    _ => ::core::option::Option::None,
                }
            }
        }

        impl #root::value::FieldType for #ident {
            const COLUMN_TYPE: #root::value::ColumnType = #root::value::ColumnType::Text;
            const ENUM_VALUES: ::core::option::Option<&'static [&'static str]> =
                ::core::option::Option::Some(<Self as #root::value::DbEnum>::VALUES);

            fn to_value(&self) -> #root::value::Value {
                #root::value::Value::Text(::std::string::String::from(
                    <Self as #root::value::DbEnum>::as_str(self),
                ))
            }

            fn from_value(value: #root::value::Value) -> #root::error::Result<Self> {
                match value {
                    #root::value::Value::Text(text) => {
                        <Self as #root::value::DbEnum>::from_str_value(&text).ok_or_else(|| {
                            #root::error::Error::invalid_value(::std::format!(
                                "`{}` is not a {}: expected one of {}",
                                text, #name, #allowed,
                            ))
                        })
                    }
                    other => ::core::result::Result::Err(#root::error::Error::invalid_value(
                        ::std::format!("expected text for {}, got {}", #name, other.type_name()),
                    )),
                }
            }

            fn same(&self, other: &Self) -> bool {
                <Self as ::core::cmp::PartialEq>::eq(self, other)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::db_enum_inner;
    use quote::quote;

    fn error_of(input: proc_macro2::TokenStream) -> String {
        db_enum_inner(input).err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn values_are_snake_case_or_renamed_in_declaration_order() {
        let out = db_enum_inner(quote! {
            enum Status { Draft, InReview, #[strata(rename = "live")] Published }
        })
        .unwrap()
        .to_string();
        assert!(
            out.contains(
                r#"const VALUES : & 'static [& 'static str] = & ["draft" , "in_review" , "live"]"#
            ),
            "{out}"
        );
        assert!(out.contains(r#"Self :: InReview => "in_review""#), "{out}");
        assert!(
            out.contains(r#""live" => :: core :: option :: Option :: Some (Self :: Published)"#),
            "{out}"
        );
        assert!(out.contains("impl :: strata :: __core :: value :: FieldType for Status"), "{out}");
        assert!(out.contains("ColumnType :: Text"), "{out}");
        assert!(
            out.contains(r#""draft, in_review, live""#),
            "the error lists the allowed values: {out}"
        );
    }

    #[test]
    fn the_crate_root_can_be_overridden() {
        let out = db_enum_inner(quote! {
            #[strata(crate = "my_orm::core")]
            enum Status { Draft }
        })
        .unwrap()
        .to_string();
        assert!(out.contains("impl my_orm :: core :: value :: DbEnum for Status"), "{out}");
        assert!(!out.contains("__core"), "{out}");
    }

    #[test]
    fn variants_with_fields_are_rejected_by_name() {
        let err = error_of(quote! { enum Status { Draft, Scheduled(u32), Other { at: i64 } } });
        assert!(err.contains("variant `Status::Scheduled` has fields"), "{err}");
        let all =
            db_enum_inner(quote! { enum Status { Draft, Scheduled(u32), Other { at: i64 } } })
                .err()
                .unwrap();
        assert_eq!(all.into_iter().count(), 2, "every bad variant is reported");
    }

    #[test]
    fn structs_empty_enums_and_duplicate_values_are_rejected() {
        assert!(
            error_of(quote! { struct Status; }).contains("applies to enums with unit variants")
        );
        assert!(error_of(quote! { enum Never {} }).contains("has no variants"));
        let err =
            error_of(quote! { enum S { InReview, #[strata(rename = "in_review")] Reviewing } });
        assert!(err.contains("two variants of `S` are stored as `in_review`"), "{err}");
        let err = error_of(quote! { enum S { #[strata(name = "x")] A } });
        assert!(err.contains("unknown attribute `name` on variant `A`"), "{err}");
    }
}
