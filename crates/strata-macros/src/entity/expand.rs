//! The code `#[derive(Entity)]` generates for a checked [`EntityDef`]: the `Entity` impl with its
//! `static` metadata, and the `…Fields` struct of typed columns.
//!
//! Every path to the core starts at `def.root` (`::strata::__core` unless the struct says
//! `#[strata(crate = "…")]`), and every conversion goes through `FieldType`, so that an
//! unsupported field type or an enum without `DbEnum` is a type error at the field.

use super::{ColumnDef, ColumnTypeDef, EntityDef, RelationDef};
use crate::attrs::{ActionAttr, RelationKindAttr};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

pub(super) fn expand(def: &EntityDef<'_>) -> TokenStream {
    let entity_impl = entity_impl(def);
    let fields_struct = fields_struct(def);
    let mapped_by_checks = def.relations.iter().filter_map(|r| mapped_by_check(def, r));
    quote! {
        #fields_struct
        #entity_impl
        #(#mapped_by_checks)*
    }
}

/// For an inverse side, a never-run function that names the target's field `mapped_by` with
/// the type it must have, so that a missing field, or one that is not the matching relation,
/// is a compile error naming it.
fn mapped_by_check(def: &EntityDef<'_>, r: &RelationDef<'_>) -> Option<TokenStream> {
    let mapped_by = r.mapped_by.as_ref()?;
    let (root, owner, target) = (&def.root, def.ident, r.target);
    let field = syn::Ident::new(&mapped_by.value(), mapped_by.span());
    let check = if r.to_many && r.kind == RelationKindAttr::ManyToMany {
        quote_spanned!(mapped_by.span()=> #root::relation::mapped_by_collection::<#owner, _>)
    } else {
        quote_spanned!(mapped_by.span()=> #root::relation::mapped_by_reference::<#owner, _>)
    };
    Some(quote_spanned! {mapped_by.span()=>
        const _: () = {
            #[allow(dead_code)]
            fn __strata_mapped_by() {
                #check(<#target as #root::entity::Entity>::fields().#field);
            }
        };
    })
}

fn action(root: &syn::Path, a: Option<ActionAttr>) -> TokenStream {
    match a {
        None => quote!(::core::option::Option::None),
        Some(a) => {
            let variant = match a {
                ActionAttr::Cascade => quote!(Cascade),
                ActionAttr::SetNull => quote!(SetNull),
                ActionAttr::Restrict => quote!(Restrict),
                ActionAttr::NoAction => quote!(NoAction),
            };
            quote!(::core::option::Option::Some(#root::metadata::ReferentialAction::#variant))
        }
    }
}

fn relation_meta(def: &EntityDef<'_>, r: &RelationDef<'_>) -> TokenStream {
    let root = &def.root;
    let (field, target) = (&r.field, r.target);
    let kind = match r.kind {
        RelationKindAttr::ManyToOne => quote!(ManyToOne),
        RelationKindAttr::OneToOne => quote!(OneToOne),
        RelationKindAttr::OneToMany => quote!(OneToMany),
        RelationKindAttr::ManyToMany => quote!(ManyToMany),
    };
    let mapped_by = option_str(r.mapped_by.as_ref().map(syn::LitStr::value).as_ref());
    let join_column = match r.column {
        Some(i) => quote!(::core::option::Option::Some(#i)),
        None => quote!(::core::option::Option::None),
    };
    let (nullable, orphan_removal) = (r.nullable, r.orphan_removal);
    let (persist, remove) = (r.cascade.persist, r.cascade.remove);
    let on_delete = action(root, r.on_delete);
    let on_update = action(root, r.on_update);
    let pivot_table = option_str(r.pivot_table.as_ref());
    let join_column_name = option_str(r.join_column_name.as_ref());
    let inverse_join_column_name = option_str(r.inverse_join_column_name.as_ref());
    quote_spanned! {target.span()=>
        #root::metadata::RelationMeta {
            field: #field,
            kind: #root::metadata::RelationKind::#kind,
            target: <#target as #root::entity::Entity>::meta,
            mapped_by: #mapped_by,
            join_column: #join_column,
            nullable: #nullable,
            cascade: #root::metadata::Cascade { persist: #persist, remove: #remove },
            orphan_removal: #orphan_removal,
            on_delete: #on_delete,
            on_update: #on_update,
            pivot_table: #pivot_table,
            join_column_name: #join_column_name,
            inverse_join_column_name: #inverse_join_column_name,
        }
    }
}

/// `<Ty as FieldType>`, spanned at the field's type so that type errors point there.
fn field_type(def: &EntityDef<'_>, c: &ColumnDef<'_>) -> TokenStream {
    let (root, ty) = (&def.root, c.ty);
    quote_spanned!(ty.span()=> <#ty as #root::value::FieldType>)
}

fn option_str(value: Option<&String>) -> TokenStream {
    match value {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    }
}

fn column_meta(def: &EntityDef<'_>, c: &ColumnDef<'_>) -> TokenStream {
    let root = &def.root;
    let ft = field_type(def, c);
    let (field, name) = (&c.field, &c.name);
    let ty = match c.column_type {
        ColumnTypeDef::FromField => quote!(#ft::COLUMN_TYPE),
        ColumnTypeDef::Text => quote!(#root::value::ColumnType::Text),
        ColumnTypeDef::Varchar(n) => quote!(#root::value::ColumnType::Varchar(#n)),
    };
    let default = option_str(c.default.as_ref());
    let renamed_from = option_str(c.renamed_from.as_ref());
    let generated = if c.identity {
        quote!(#root::metadata::Generated::Identity)
    } else {
        quote!(#root::metadata::Generated::No)
    };
    let (primary_key, unique, index, version) = (c.primary_key, c.unique, c.index, c.version);
    quote! {
        #root::metadata::ColumnMeta {
            field: #field,
            name: #name,
            ty: #ty,
            nullable: #ft::NULLABLE,
            default: #default,
            primary_key: #primary_key,
            generated: #generated,
            unique: #unique,
            index: #index,
            version: #version,
            enum_values: #ft::ENUM_VALUES,
            renamed_from: #renamed_from,
        }
    }
}

fn entity_impl(def: &EntityDef<'_>) -> TokenStream {
    let root = &def.root;
    let ident = def.ident;
    let entity = syn::ext::IdentExt::unraw(ident).to_string();
    let fields_ident = fields_ident(def);
    let pk = &def.columns[def.primary_key];
    let (pk_ident, pk_ty) = (pk.ident, pk.ty);
    let table = &def.table;
    let schema = option_str(def.schema.as_ref());
    let renamed_from = option_str(def.renamed_from.as_ref());
    let primary_key = def.primary_key;
    let count = def.columns.len();
    let metas = def.columns.iter().map(|c| column_meta(def, c));
    let idents: Vec<_> = def.columns.iter().map(|c| c.ident).collect();
    let names: Vec<_> = def.columns.iter().map(|c| &c.name).collect();
    let types: Vec<_> = def.columns.iter().map(|c| field_type(def, c)).collect();
    let labels: Vec<_> = def.columns.iter().map(|c| format!("{entity}.{}", c.field)).collect();
    let indexes: Vec<_> = (0..count).collect();
    let locals: Vec<_> = (0..count).map(|i| format_ident!("__strata_{}", i)).collect();
    let skipped = &def.skipped;
    let on_create = hooks(def, false);
    let on_update = hooks(def, true);
    let relation_metas: Vec<_> = def.relations.iter().map(|r| relation_meta(def, r)).collect();
    let rel_indexes: Vec<usize> = (0..def.relations.len()).collect();
    let rel_idents: Vec<_> = def.relations.iter().map(|r| r.ident).collect();
    // Relations without a column: filled as unloaded when a row is read.
    let rel_only: Vec<(usize, &RelationDef<'_>)> =
        def.relations.iter().enumerate().filter(|(_, r)| r.column.is_none()).collect();
    let rel_only_idents: Vec<_> = rel_only.iter().map(|(_, r)| r.ident).collect();
    let rel_only_indexes: Vec<usize> = rel_only.iter().map(|(i, _)| *i).collect();
    let rel_only_inits: Vec<TokenStream> = rel_only
        .iter()
        .map(|(_, r)| {
            if r.to_many {
                quote!(#root::relation::Collection::unloaded())
            } else {
                quote!(::core::option::Option::None)
            }
        })
        .collect();
    let has_on_update = def.columns.iter().any(|c| c.on_update.is_some());

    quote! {
        impl #root::entity::Entity for #ident {
            type Key = #pk_ty;
            type Fields = #fields_ident;

            fn meta() -> &'static #root::metadata::EntityMeta {
                static META: #root::metadata::EntityMeta = #root::metadata::EntityMeta {
                    name: #entity,
                    table: #table,
                    schema: #schema,
                    columns: &[#(#metas),*],
                    primary_key: #primary_key,
                    renamed_from: #renamed_from,
                    relations: &[#(#relation_metas),*],
                };
                &META
            }

            fn fields() -> #fields_ident {
                #fields_ident {
                    #(#idents: #root::query::Col::new(#indexes, #names),)*
                    #(#rel_only_idents: #root::query::Rel::new(#rel_only_indexes),)*
                }
            }

            fn key(&self) -> #pk_ty {
                self.#pk_ident
            }

            fn column_value(&self, index: usize) -> #root::value::Value {
                match index {
                    #(#indexes => #types::to_value(&self.#idents),)*
                    _ => #root::value::Value::Null,
                }
            }

            fn set_column(
                &mut self,
                index: usize,
                value: #root::value::Value,
            ) -> #root::error::Result<()> {
                match index {
                    #(#indexes => {
                        self.#idents = #types::from_value(value).map_err(|e| {
                            #root::error::Error::invalid_value(
                                ::std::format!("{}: {}", #labels, e.message()),
                            )
                        })?;
                    })*
                    _ => {
                        return ::core::result::Result::Err(#root::error::Error::usage(
                            ::std::format!(
                                "{} has no column {} (it has {} columns)",
                                #entity, index, #count,
                            ),
                        ));
                    }
                }
                ::core::result::Result::Ok(())
            }

            fn from_values(
                mut values: ::std::vec::Vec<#root::value::Value>,
            ) -> #root::error::Result<Self> {
                <Self as #root::entity::Entity>::take_values(&mut values)
            }

            fn take_values(
                values: &mut ::std::vec::Vec<#root::value::Value>,
            ) -> #root::error::Result<Self> {
                if values.len() < #count {
                    return ::core::result::Result::Err(#root::error::Error::usage(
                        ::std::format!(
                            "{} needs {} column values to load, got {}",
                            #entity, #count, values.len(),
                        ),
                    ));
                }
                let mut values = values.drain(..);
                #(
                    let #locals = #types::from_value(
                        ::core::iter::Iterator::next(&mut values)
                            .unwrap_or(#root::value::Value::Null),
                    )
                    .map_err(|e| {
                        #root::error::Error::invalid_value(
                            ::std::format!("{}: {}", #labels, e.message()),
                        )
                    })?;
                )*
                ::core::result::Result::Ok(Self {
                    #(#idents: #locals,)*
                    #(#rel_only_idents: #rel_only_inits,)*
                    #(#skipped: ::core::default::Default::default(),)*
                })
            }

            fn changed_columns(&self, snapshot: &Self, out: &mut ::std::vec::Vec<usize>) {
                #(
                    if !#types::same(&self.#idents, &snapshot.#idents) {
                        out.push(#indexes);
                    }
                )*
            }

            fn on_create(&mut self) {
                #on_create
            }

            fn on_update(&mut self) {
                #on_update
            }

            const HAS_ON_UPDATE: bool = #has_on_update;

            fn relation(
                &self,
                index: usize,
            ) -> ::core::option::Option<&dyn #root::relation::RelationValue> {
                match index {
                    #(#rel_indexes => ::core::option::Option::Some(&self.#rel_idents),)*
                    _ => ::core::option::Option::None,
                }
            }

            fn relation_mut(
                &mut self,
                index: usize,
            ) -> ::core::option::Option<&mut dyn #root::relation::RelationValue> {
                match index {
                    #(#rel_indexes => ::core::option::Option::Some(&mut self.#rel_idents),)*
                    _ => ::core::option::Option::None,
                }
            }
        }
    }
}

/// `self.field = path();` for every column with an `on_update` hook (`on_update` true); for an
/// `on_create` hook, only when the field is unset (`FieldType::is_unset_value`: `None`, zero,
/// empty, the epoch), so a value the application set is kept, as in MikroORM.
fn hooks(def: &EntityDef<'_>, on_update: bool) -> TokenStream {
    let assignments = def.columns.iter().filter_map(|c| {
        let path = if on_update { c.on_update.as_ref() } else { c.on_create.as_ref() }?;
        let ident = c.ident;
        let ft = field_type(def, c);
        // Spanned at the attribute's string, so that a wrong path or return type is
        // reported there rather than at the derive.
        Some(if on_update {
            quote_spanned!(path.span()=> self.#ident = #path();)
        } else {
            quote_spanned!(path.span()=> if #ft::is_unset_value(&self.#ident) {
                self.#ident = #path();
            })
        })
    });
    quote!(#(#assignments)*)
}

fn fields_ident(def: &EntityDef<'_>) -> syn::Ident {
    format_ident!("{}Fields", def.ident)
}

fn fields_struct(def: &EntityDef<'_>) -> TokenStream {
    let (root, ident, vis) = (&def.root, def.ident, def.vis);
    let entity = syn::ext::IdentExt::unraw(ident).to_string();
    let fields_ident = fields_ident(def);
    let example = def.columns.iter().find(|c| !c.primary_key).unwrap_or(&def.columns[0]);
    let doc = format!(
        "The typed columns of `{entity}`, to build filters: `{entity}::fields().{}.eq(…)`. \
         Generated by `#[derive(Entity)]`.",
        example.field
    );
    let fields = def.columns.iter().map(|c| {
        let (field, ty) = (c.ident, c.ty);
        let doc = format!("The column `{}` of `{entity}.{}`.", c.name, c.field);
        quote! {
            #[doc = #doc]
            #vis #field: #root::query::Col<#ident, #ty>,
        }
    });
    let relation_fields = def.relations.iter().filter(|r| r.column.is_none()).map(|r| {
        let (field, ty) = (r.ident, r.ty);
        let doc = format!("The relation `{entity}.{}`, to populate it.", r.field);
        quote! {
            #[doc = #doc]
            #vis #field: #root::query::Rel<#ident, #ty>,
        }
    });
    quote! {
        #[doc = #doc]
        #[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug)]
        // Field names mirror the entity's, whose own lints already speak about them.
        #[allow(non_snake_case)]
        #vis struct #fields_ident {
            #(#fields)*
            #(#relation_fields)*
        }
    }
}
