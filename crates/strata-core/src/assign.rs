//! `assign`: PATCH semantics for managed entities.
//!
//! Fields present in the patch are set; absent fields are untouched; an explicit `null` sets a
//! nullable column to NULL (`None`, JSON columns included) and is an error for a non-nullable
//! one. JSON columns are replaced, or merged recursively with [`AssignOptions::merge_objects`]
//! (MikroORM's `mergeObjects`). A key that names no field is an error (a typo would otherwise
//! change nothing, silently), unless [`AssignOptions::ignore_unknown`] is set (MikroORM's
//! `onlyProperties`). The primary key is never assigned. A patch that fails changes nothing.

use crate::entity::Entity;
use crate::entity_manager::EntityManager;
use crate::error::{Error, Result};
use crate::managed::Managed;
use crate::value::{ColumnType, Value};
use serde::Serialize;

/// Options of [`EntityManager::assign_with`].
///
/// ```
/// # use strata_core::AssignOptions;
/// let options = AssignOptions::new().merge_objects().ignore_unknown();
/// assert!(options.merge_objects && options.ignore_unknown);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AssignOptions {
    /// Merge JSON objects into JSON columns recursively instead of replacing them.
    pub merge_objects: bool,
    /// Skip keys that name no field instead of failing (for patches that legitimately carry
    /// more than the entity, such as a request body whose extra fields a client may send).
    pub ignore_unknown: bool,
}

impl AssignOptions {
    /// The defaults: replace JSON values, refuse unknown keys.
    pub fn new() -> Self {
        Self::default()
    }

    /// Merge JSON objects recursively.
    #[must_use]
    pub fn merge_objects(mut self) -> Self {
        self.merge_objects = true;
        self
    }

    /// Skip unknown keys.
    #[must_use]
    pub fn ignore_unknown(mut self) -> Self {
        self.ignore_unknown = true;
        self
    }
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
    /// `serde_json::Value` object). Keys match field names or column names; a key that matches
    /// neither is an `InvalidValue` error naming it (see [`AssignOptions::ignore_unknown`]).
    /// The next flush writes the columns that really changed.
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
        if !options.ignore_unknown {
            let unknown: Vec<&str> = fields
                .keys()
                .filter(|k| meta.column_index(k).is_none())
                .map(String::as_str)
                .collect();
            if !unknown.is_empty() {
                return Err(Error::invalid_value(format!(
                    "{} has no field {}; fix the name, or assign with \
                     AssignOptions::ignore_unknown to skip unknown keys",
                    meta.name,
                    unknown.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
                )));
            }
        }
        let mut live = entity.change_for("assign to", None)?;
        let mut next = live.clone();
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
        *live = next;
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
