//! `assign`: PATCH semantics for managed entities.
//!
//! Fields present in the patch are set; absent fields are untouched; an explicit `null` sets a
//! nullable column to NULL (and is an error for a non-nullable one). JSON columns are replaced,
//! or merged recursively with [`AssignOptions::merge_objects`] (MikroORM's `mergeObjects`).
//! The primary key is never assigned. A patch that fails changes nothing.

use crate::entity::Entity;
use crate::entity_manager::EntityManager;
use crate::error::{Error, Result};
use crate::managed::Managed;
use crate::value::{ColumnType, Value};
use serde::Serialize;

/// Options of [`EntityManager::assign_with`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AssignOptions {
    /// Merge JSON objects into JSON columns recursively instead of replacing them.
    pub merge_objects: bool,
}

fn merge_json(target: &mut serde_json::Value, patch: &serde_json::Value) {
    match (target, patch) {
        (serde_json::Value::Object(t), serde_json::Value::Object(p)) => {
            for (k, v) in p {
                match t.get_mut(k) {
                    Some(existing) if existing.is_object() && v.is_object() => {
                        merge_json(existing, v);
                    }
                    _ => {
                        t.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

impl EntityManager {
    /// Sets the fields present in `patch` (any `Serialize` value that serializes to a map,
    /// such as a DTO with `#[serde(skip_serializing_if = "Option::is_none")]` fields, or a
    /// `serde_json::Value` object). Keys match field names or column names; unknown keys are
    /// ignored. The next flush writes the columns that really changed.
    pub fn assign<T: Entity>(&self, entity: &Managed<T>, patch: impl Serialize) -> Result<()> {
        self.assign_with(entity, patch, AssignOptions::default())
    }

    /// [`EntityManager::assign`] with options.
    pub fn assign_with<T: Entity>(
        &self,
        entity: &Managed<T>,
        patch: impl Serialize,
        options: AssignOptions,
    ) -> Result<()> {
        let patch = serde_json::to_value(patch)
            .map_err(|e| Error::invalid_value(format!("the patch could not be serialized: {e}")))?;
        let serde_json::Value::Object(fields) = patch else {
            return Err(Error::usage("assign takes a patch that serializes to an object"));
        };
        let meta = T::meta();
        let mut next = entity.get();
        for (name, json) in &fields {
            let Some(idx) = meta.column_index(name) else { continue };
            let column = &meta.columns[idx];
            if column.primary_key {
                continue;
            }
            let value = if column.ty == ColumnType::Json
                && options.merge_objects
                && json.is_object()
            {
                let mut current = match next.column_value(idx) {
                    Value::Json(j) => j,
                    _ => serde_json::Value::Object(serde_json::Map::new()),
                };
                merge_json(&mut current, json);
                Value::Json(current)
            } else {
                Value::from_json(column.ty, json).map_err(|e| {
                    Error::invalid_value(format!("{}.{}: {}", meta.name, column.field, e.message()))
                })?
            };
            next.set_column(idx, value)?;
        }
        *entity.write() = next;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::merge_json;
    use serde_json::json;

    #[test]
    fn merge_is_recursive_and_replaces_non_objects() {
        let mut a = json!({"a": 1, "b": {"c": 2, "d": 3}, "e": [1]});
        merge_json(&mut a, &json!({"b": {"c": 20}, "e": [2], "f": null}));
        assert_eq!(a, json!({"a": 1, "b": {"c": 20, "d": 3}, "e": [2], "f": null}));
    }
}
