//! The schema at start-up: creates `post_entity` from the migration file when it is missing.
//!
//! This is a stand-in for the migrator: [`prepare_schema`] runs the `.up.sql` of
//! `migrations/` only when the table does not exist yet, in one statement (a PL/pgSQL `DO`
//! block under an advisory lock, so two instances starting at once do not race). When the
//! migrator runs the migrations at start-up, it replaces this module; nothing else calls it
//! except [`crate::AppState`].

use std::sync::atomic::{AtomicBool, Ordering};

use strata::Orm;

/// The migration that creates the posts table (PostgreSQL).
pub const CREATE_POST_ENTITY: &str =
    include_str!("../migrations/20261124000000_create_post_entity.up.sql");

/// The table the migration creates.
const TABLE: &str = "post_entity";

/// An arbitrary key for `pg_advisory_xact_lock`, so that concurrent start-ups serialize.
const LOCK_KEY: i64 = 7_266_062;

/// Creates the posts table (in the configured default schema, if any) unless it exists.
///
/// # Errors
///
/// Any error of the database; a [`strata::ErrorKind::Connection`] error when it is down.
pub async fn prepare_schema(orm: &Orm) -> strata::Result<()> {
    orm.execute(&schema_script(orm.default_schema(), CREATE_POST_ENTITY)).await
}

/// One `DO` block: it runs in one implicit transaction, so it fails as a whole.
fn schema_script(schema: Option<&str>, up_sql: &str) -> String {
    let (qualified, enter_schema) = match schema {
        Some(s) => {
            let ident = quote_ident(s);
            (
                format!("{ident}.{}", quote_ident(TABLE)),
                format!(
                    "CREATE SCHEMA IF NOT EXISTS {ident};\n    \
                     PERFORM set_config('search_path', {}, true);\n    ",
                    quote_literal(&ident)
                ),
            )
        }
        None => (quote_ident(TABLE), String::new()),
    };
    let tag = dollar_tag(up_sql);
    format!(
        "DO $strata_schema$\nBEGIN\n  PERFORM pg_advisory_xact_lock({LOCK_KEY});\n  \
         IF to_regclass({}) IS NULL THEN\n    {enter_schema}EXECUTE {tag}{up_sql}{tag};\n  \
         END IF;\nEND\n$strata_schema$;",
        quote_literal(&qualified)
    )
}

/// A dollar-quote tag that does not occur in `text`.
fn dollar_tag(text: &str) -> String {
    let mut n = 0u32;
    loop {
        let tag = format!("$up{n}$");
        if !text.contains(&tag) {
            return tag;
        }
        n += 1;
    }
}

fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Remembers whether the schema is prepared, and lets one request at a time prepare it.
#[derive(Debug, Default)]
pub(crate) struct SchemaGate {
    ready: AtomicBool,
    lock: tokio::sync::Mutex<()>,
}

impl SchemaGate {
    pub(crate) async fn ensure(&self, orm: &Orm) -> strata::Result<()> {
        if self.ready.load(Ordering::Acquire) {
            return Ok(());
        }
        let _guard = self.lock.lock().await;
        if self.ready.load(Ordering::Acquire) {
            return Ok(());
        }
        prepare_schema(orm).await?;
        self.ready.store(true, Ordering::Release);
        tracing::info!(table = TABLE, "schema ready");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_qualifies_the_table_when_a_schema_is_configured() {
        let script = schema_script(Some("blog"), CREATE_POST_ENTITY);
        assert!(script.contains(r#"to_regclass('"blog"."post_entity"')"#), "{script}");
        assert!(script.contains(r#"CREATE SCHEMA IF NOT EXISTS "blog""#), "{script}");
        assert!(script.contains(r#"set_config('search_path', '"blog"', true)"#), "{script}");
    }

    #[test]
    fn the_script_uses_the_search_path_without_a_schema() {
        let script = schema_script(None, CREATE_POST_ENTITY);
        assert!(script.contains(r#"to_regclass('"post_entity"')"#), "{script}");
        assert!(!script.contains("CREATE SCHEMA"), "{script}");
        assert!(script.contains("EXECUTE $up0$create table"), "{script}");
    }

    #[test]
    fn the_dollar_tag_avoids_text_that_contains_it() {
        assert_eq!(dollar_tag("select 1"), "$up0$");
        assert_eq!(dollar_tag("select $up0$x$up0$"), "$up1$");
    }
}
