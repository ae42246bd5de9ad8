//! `database:create`: the configured database created on its server.

use super::Ctx;
use crate::connect::{connect, maintenance};
use strata::driver::{Param, Statement, StatementKind};
use strata::{ColumnType, DbKind, Result, Value};
use strata_migrate::schema::quote_ident;

/// `database:create`: creates the configured database unless it exists, connecting to the
/// server's `postgres` database to do so.
pub(crate) async fn create(ctx: &Ctx<'_>) -> Result<u8> {
    if ctx.backend()? == DbKind::Sqlite {
        // Opening a SQLite database creates its file (and directory): nothing to do here.
        let orm = ctx.orm().await?;
        ctx.console.out(format!(
            "{} is ready (SQLite creates the file when it is first opened)",
            orm.driver().describe()
        ));
        return Ok(0);
    }
    let (name, maint) = maintenance(ctx.config)?;
    let orm = connect(&maint, ctx.project.settings()).await.map_err(|e| {
        e.with_hint(format!(
            "database:create connects to the server's `postgres` database to create {name:?}"
        ))
    })?;
    let mut conn = orm.driver().acquire().await?;
    let exists = conn
        .run(&Statement {
            sql: "SELECT count(*)::int4 FROM pg_catalog.pg_database WHERE datname = $1".into(),
            params: vec![Param::Value(Value::Text(name.clone()))],
            returns: vec![ColumnType::I32],
            kind: StatementKind::Select,
        })
        .await?;
    let count = exists.rows.first().and_then(|r| r.first()).and_then(Value::as_i64).unwrap_or(0);
    if count > 0 {
        ctx.console.out(format!("Database {name} already exists"));
        return Ok(0);
    }
    conn.batch_execute(&format!("CREATE DATABASE {}", quote_ident(&name))).await?;
    ctx.console.out(format!("Created database {name}"));
    Ok(0)
}
