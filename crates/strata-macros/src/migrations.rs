//! `embed_migrations!("migrations")`: the migration files of a directory, compiled into the
//! binary as a `&'static [EmbeddedMigration]`.
//!
//! The directory is relative to the `CARGO_MANIFEST_DIR` of the crate being compiled. Each file
//! is embedded with `include_str!`, so editing one rebuilds the crate; adding a file does not,
//! until a `build.rs` with `cargo:rerun-if-changed=migrations` (or any edit of the crate) asks
//! for it. Names are checked and files paired by `strata_conventions::migration::scan_dir`, the
//! rule `strata-migrate` reads directories with, so a malformed name is a compile error naming
//! the file.
//!
//! The macro is used through `strata_migrate::embed_migrations!`, which passes its own path
//! (`$crate`) as an optional first argument: `embed_migrations!($crate, "migrations")`. Without
//! it, the generated code names `::strata_migrate`.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use std::path::{Path, PathBuf};
use strata_conventions::migration::scan_dir;
use syn::parse::{Parse, ParseStream};
use syn::{LitStr, Token};

/// The arguments: an optional crate path and a comma, then the directory.
struct Args {
    krate: Option<TokenStream>,
    dir: LitStr,
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.peek(LitStr) {
            let dir = input.parse()?;
            let _: Option<Token![,]> = input.parse()?;
            return Ok(Self { krate: None, dir });
        }
        let mut krate = TokenStream::new();
        while !input.peek(Token![,]) {
            if input.is_empty() {
                return Err(input.error(
                    "expected the migrations directory: embed_migrations!(\"migrations\")",
                ));
            }
            let tt: proc_macro2::TokenTree = input.parse()?;
            krate.extend([tt]);
        }
        let _: Token![,] = input.parse()?;
        let dir = input.parse()?;
        let _: Option<Token![,]> = input.parse()?;
        Ok(Self { krate: Some(krate), dir })
    }
}

/// Expands `embed_migrations!`.
pub(crate) fn embed_migrations_inner(input: TokenStream) -> syn::Result<TokenStream> {
    let args: Args = syn::parse2(input)?;
    let base = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from).ok_or_else(|| {
        syn::Error::new(Span::call_site(), "CARGO_MANIFEST_DIR is not set: build with cargo")
    })?;
    let dir = base.join(args.dir.value());
    let found = scan_dir(&dir).map_err(|e| syn::Error::new(args.dir.span(), e.to_string()))?;
    let krate = args.krate.unwrap_or_else(|| quote!(::strata_migrate));
    let items = found.iter().map(|(id, f)| {
        let up = path_str(&f.up);
        let down = match &f.down {
            Some(p) => {
                let p = path_str(p);
                quote!(::core::option::Option::Some(::core::include_str!(#p)))
            }
            None => quote!(::core::option::Option::None),
        };
        quote! {
            #krate::files::EmbeddedMigration {
                id: #id,
                up: ::core::include_str!(#up),
                down: #down,
            }
        }
    });
    Ok(quote! {
        {
            static MIGRATIONS: &[#krate::files::EmbeddedMigration] = &[#(#items),*];
            MIGRATIONS
        }
    })
}

fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir()
            .join(format!("strata-macros-migrations-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("the temporary directory is writable");
        dir
    }

    #[test]
    fn expansion_uses_the_given_crate_path() {
        let dir = temp_dir("expand");
        std::fs::write(dir.join("20260101000000_a.up.sql"), "A").unwrap();
        let path = dir.to_string_lossy().into_owned();
        // An absolute directory replaces CARGO_MANIFEST_DIR in `join`.
        let out = embed_migrations_inner(quote!(my::path, #path)).unwrap().to_string();
        assert!(out.contains("my :: path :: files :: EmbeddedMigration"), "{out}");
        assert!(out.contains("include_str !"), "{out}");
        assert!(out.contains("\"20260101000000_a\""), "{out}");
        let out = embed_migrations_inner(quote!(#path)).unwrap().to_string();
        assert!(out.contains(":: strata_migrate :: files"), "{out}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
