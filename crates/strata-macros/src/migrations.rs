//! `embed_migrations!("migrations")`: the migration files of a directory, compiled into the
//! binary as a `&'static [EmbeddedMigration]`.
//!
//! The directory is relative to the `CARGO_MANIFEST_DIR` of the crate being compiled. Each file
//! is embedded with `include_str!`, so editing one rebuilds the crate; adding a file does not,
//! until a `build.rs` with `cargo:rerun-if-changed=migrations` (or any edit of the crate) asks
//! for it. Names are checked here, so a malformed name is a compile error naming the file.
//!
//! The macro is used through `strata_migrate::embed_migrations!`, which passes its own path
//! (`$crate`) as an optional first argument: `embed_migrations!($crate, "migrations")`. Without
//! it, the generated code names `::strata_migrate`.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use syn::parse::{Parse, ParseStream};
use syn::{LitStr, Token};

// The id rule of `strata_migrate::files::check_id`, compiled here from the same file.
#[path = "../../strata-migrate/src/migration_id.rs"]
mod migration_id;
use migration_id::check_id;

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

/// One migration found on disk.
#[derive(Debug, Default)]
struct Found {
    up: Option<PathBuf>,
    down: Option<PathBuf>,
}

/// Expands `embed_migrations!`.
pub(crate) fn embed_migrations_inner(input: TokenStream) -> syn::Result<TokenStream> {
    let args: Args = syn::parse2(input)?;
    let base = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from).ok_or_else(|| {
        syn::Error::new(Span::call_site(), "CARGO_MANIFEST_DIR is not set: build with cargo")
    })?;
    let dir = base.join(args.dir.value());
    let found = scan(&dir).map_err(|msg| syn::Error::new(args.dir.span(), msg))?;
    let krate = args.krate.unwrap_or_else(|| quote!(::strata_migrate));
    let items = found.iter().map(|(id, f)| {
        let up = f.up.as_deref().map(path_str).unwrap_or_default();
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

/// The migrations of `dir` by id; an error message naming the file for anything malformed.
fn scan(dir: &Path) -> Result<BTreeMap<String, Found>, String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read the migrations directory {}: {e}", dir.display()))?;
    let mut found: BTreeMap<String, Found> = BTreeMap::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        let path = entry.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
        if !path.is_file() || name.starts_with('.') {
            continue;
        }
        let Some(stem) = name.strip_suffix(".sql") else { continue };
        let (id, up) = if let Some(id) = stem.strip_suffix(".up") {
            (id, true)
        } else if let Some(id) = stem.strip_suffix(".down") {
            (id, false)
        } else {
            return Err(format!(
                "malformed migration file name {}: a migration file ends in .up.sql or .down.sql",
                path.display()
            ));
        };
        check_id(id)
            .map_err(|why| format!("malformed migration file name {}: {why}", path.display()))?;
        let slot = found.entry(id.to_owned()).or_default();
        if up {
            slot.up = Some(path);
        } else {
            slot.down = Some(path);
        }
    }
    if let Some((id, f)) = found.iter().find(|(_, f)| f.up.is_none()) {
        let down = f.down.as_deref().map(path_str).unwrap_or_default();
        return Err(format!(
            "{down} has no matching {id}.up.sql: every migration needs an up file"
        ));
    }
    Ok(found)
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
    fn scan_pairs_files_and_skips_others() {
        let dir = temp_dir("pairs");
        std::fs::write(dir.join("20260101000000_a.up.sql"), "A").unwrap();
        std::fs::write(dir.join("20260101000000_a.down.sql"), "-A").unwrap();
        std::fs::write(dir.join("20260102000000_b.up.sql"), "B").unwrap();
        std::fs::write(dir.join(".snapshot.json"), "{}").unwrap();
        let found = scan(&dir).unwrap();
        assert_eq!(found.keys().collect::<Vec<_>>(), ["20260101000000_a", "20260102000000_b"]);
        assert!(found["20260101000000_a"].down.is_some());
        assert!(found["20260102000000_b"].down.is_none());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn scan_names_a_malformed_file() {
        let dir = temp_dir("bad");
        std::fs::write(dir.join("posts.up.sql"), "A").unwrap();
        let err = scan(&dir).unwrap_err();
        assert!(err.contains("posts.up.sql"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
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
