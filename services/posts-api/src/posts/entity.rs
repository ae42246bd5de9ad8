//! [`PostEntity`]: the `post_entity` table.

use serde::Serialize;
use strata::Entity;

/// A post. Serializes as `{"id":1,"title":"Hello","content":"World"}` (keys in this order).
#[derive(Entity, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PostEntity {
    /// The id, assigned by the database (`serial`).
    #[strata(primary_key)]
    pub id: i32,
    /// The title, at most 255 characters (`varchar(255) not null`).
    #[strata(length = 255)]
    pub title: String,
    /// The content, at most 255 characters (`varchar(255) not null`).
    #[strata(length = 255)]
    pub content: String,
}
