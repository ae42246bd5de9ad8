//! `debug`: the configuration (password hidden), the migrations source, and every entity with
//! its table and columns.

use super::Ctx;
use strata::metadata::{EntityMeta, Generated};
use strata::{DbKind, Result};
use strata_migrate::schema::SqlType;

/// `debug`.
pub(crate) async fn run(ctx: &Ctx<'_>) -> Result<u8> {
    let c = ctx.config;
    let out = |line: String| ctx.console.out(line);
    out("Configuration".into());
    out(format!("  database:        {}", c.redacted_url()));
    let schema = match (ctx.backend(), c.default_schema.as_deref()) {
        (Ok(DbKind::Sqlite), _) => "(none: SQLite has no schemas)",
        (_, Some(schema)) => schema,
        (_, None) => "(the database's search path, usually public)",
    };
    out(format!("  schema:          {schema}"));
    out(format!("  pool size:       {}", c.pool_size));
    out(format!("  connect timeout: {} s", c.connect_timeout.as_secs_f64()));
    out(format!("  log SQL:         {}", if c.log_sql { "on" } else { "off" }));
    let reachable = match ctx.orm().await {
        Ok(orm) => match orm.ping().await {
            Ok(()) => "reachable".to_owned(),
            Err(e) => format!("unreachable: {}", e.message()),
        },
        Err(e) => format!("unreachable: {}", e.message()),
    };
    out(format!("  connection:      {}", reachable.replace('\n', "\n                   ")));
    let migrations = match ctx.backend().and_then(|b| ctx.project.source_for(b, None)) {
        Ok(source) => source.describe(),
        Err(e) => e.message().to_owned(),
    };
    out(format!("  migrations:      {migrations}"));
    let entities = ctx.project.entities();
    out(format!("Entities ({})", entities.len()));
    for e in entities {
        entity(ctx, e, c.default_schema.as_deref());
    }
    Ok(0)
}

fn entity(ctx: &Ctx<'_>, e: &EntityMeta, default_schema: Option<&str>) {
    let table = match e.schema_or(default_schema) {
        Some(s) => format!("{s}.{}", e.table),
        None => e.table.to_owned(),
    };
    ctx.console.out(format!("  {} -> table {table}", e.name));
    let width = e.columns.iter().map(|c| c.name.len()).max().unwrap_or(0);
    for c in e.columns {
        let mut notes = Vec::new();
        if c.primary_key {
            notes.push("primary key".to_owned());
        }
        if c.generated == Generated::Identity {
            notes.push("generated".to_owned());
        }
        notes.push(if c.nullable { "null" } else { "not null" }.to_owned());
        if let Some(d) = c.default {
            notes.push(format!("default {d}"));
        }
        if c.unique {
            notes.push("unique".to_owned());
        }
        if c.index {
            notes.push("index".to_owned());
        }
        if c.version {
            notes.push("version".to_owned());
        }
        if let Some(values) = c.enum_values {
            notes.push(format!("one of {}", values.join(", ")));
        }
        if c.field != c.name {
            notes.push(format!("field {}", c.field));
        }
        ctx.console.out(format!(
            "    {:width$}  {}  {}",
            c.name,
            SqlType::from_column_type(c.ty),
            notes.join(", ")
        ));
    }
}
