//! Native operations: INSERT, UPDATE and DELETE sent directly, bypassing the identity map and
//! the unit of work (MikroORM's `nativeInsert`, `nativeUpdate`, `nativeDelete`).

use crate::dialect::InsertBatch;
use crate::entity::{Entity, Key};
use crate::entity_manager::EntityManager;
use crate::error::Result;
use crate::metadata::Generated;
use crate::query::{Filter, Set};
use crate::sql;
use crate::sql::FlushStatements;
use std::collections::HashMap;

pub(crate) async fn insert<T: Entity>(
    em: &EntityManager,
    entities: impl IntoIterator<Item = T>,
) -> Result<u64> {
    let meta = T::meta();
    // Group rows by the columns they write (an unset identity key is left to the database).
    let mut groups: HashMap<Vec<usize>, Vec<Vec<crate::value::Value>>> = HashMap::new();
    let mut order = Vec::new();
    let version = meta.version_column();
    for mut e in entities {
        // The same preparation as a flush: hooks, application-generated keys, version 1.
        e.on_create();
        if e.key().is_unset()
            && let Some(k) = <T::Key as crate::entity::Key>::generate()
        {
            e.set_column(meta.primary_key, crate::value::FieldType::to_value(&k))?;
        }
        if let Some(v) = version
            && e.column_value(v).as_i64() == Some(0)
        {
            e.set_column(v, crate::value::Value::I32(1))?;
        }
        let columns: Vec<usize> = meta
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                !(c.primary_key && c.generated == Generated::Identity && e.key().is_unset())
            })
            .filter(|(i, c)| !(c.default.is_some() && e.column_value(*i).is_null()))
            .map(|(i, _)| i)
            .collect();
        let row = columns.iter().map(|&c| e.column_value(c)).collect();
        if !groups.contains_key(&columns) {
            order.push(columns.clone());
        }
        groups.entry(columns).or_default().push(row);
    }
    let table = em.table_name::<T>();
    let dialect = em.orm().dialect();
    let mut statements = Vec::new();
    for columns in order {
        let rows = groups.remove(&columns).unwrap_or_default();
        statements.extend(dialect.insert(InsertBatch {
            table,
            columns: columns.iter().map(|&c| &meta.columns[c]).collect(),
            rows,
            returning: Vec::new(),
        }));
    }
    if statements.is_empty() {
        return Ok(0);
    }
    let mut session = em.session().await?;
    let outcomes = if statements.len() == 1 || em.in_transaction() {
        session.run_all(&statements).await?
    } else {
        session.begin().await?;
        match session.run_all(&statements).await {
            Ok(o) => {
                session.commit().await?;
                o
            }
            Err(e) => {
                let _ = session.rollback().await;
                return Err(e);
            }
        }
    };
    Ok(outcomes.iter().map(|o| o.rows_affected).sum())
}

pub(crate) async fn update<T: Entity>(
    em: &EntityManager,
    filter: Filter<T>,
    values: impl IntoIterator<Item = Set<T>>,
) -> Result<u64> {
    let sets: Vec<(&str, crate::value::Value)> =
        values.into_iter().map(|s| (s.column, s.value)).collect();
    if sets.is_empty() {
        return Ok(0);
    }
    // As a flush does, a native update moves the version on, so that an instance loaded before
    // it fails its next flush instead of overwriting it (unless the caller sets the version).
    let meta = T::meta();
    let version = meta
        .version_column()
        .map(|v| meta.columns[v].name)
        .filter(|name| !sets.iter().any(|(c, _)| c == name));
    let stmt = sql::update_where(
        em.orm().dialect(),
        em.table_name::<T>(),
        &sets,
        version,
        Some(filter.expr()),
    );
    Ok(em.session().await?.run(&stmt).await?.rows_affected)
}

pub(crate) async fn delete<T: Entity>(em: &EntityManager, filter: Filter<T>) -> Result<u64> {
    let stmt = sql::delete_where(em.orm().dialect(), em.table_name::<T>(), Some(filter.expr()));
    Ok(em.session().await?.run(&stmt).await?.rows_affected)
}
