//! [`PostsService`]: the article's service on a request-scoped EntityManager.
//!
//! Per call it sends: `get_all_posts` one SELECT; `get_post_by_id` one SELECT; `create_post`
//! one INSERT in a transaction; `update_post` one SELECT and an UPDATE of only the changed
//! columns (nothing when nothing changed); `delete_post` one SELECT and one DELETE.
//!
//! A post deleted by a concurrent request between the SELECT and the write is not found: the
//! flush reports the row gone (`ErrorKind::RowGone`), and nothing is written.

use strata::query::FindOptions;
use strata::{Entity, EntityManager, Managed};

use super::dto::{CreatePostDto, UpdatePostDto};
use super::entity::PostEntity;

/// What a posts operation can fail with.
#[derive(Debug)]
pub enum PostsError {
    /// No post has this id.
    NotFound(i32),
    /// The database failed (unreachable, a constraint, …).
    Database(strata::Error),
}

impl From<strata::Error> for PostsError {
    fn from(e: strata::Error) -> Self {
        Self::Database(e)
    }
}

/// The posts service of one request.
#[derive(Debug)]
pub struct PostsService {
    em: EntityManager,
}

impl PostsService {
    /// A service over `em` (a fresh fork per request).
    pub fn new(em: EntityManager) -> Self {
        Self { em }
    }

    /// Every post, ordered by id ascending. The managed instances are returned as they are:
    /// a response serializes them in place (`p.read()`), without copying their strings.
    pub async fn get_all_posts(&self) -> Result<Vec<Managed<PostEntity>>, PostsError> {
        let by_id = FindOptions::new().order_by(PostEntity::fields().id.asc());
        Ok(self.em.find_all::<PostEntity>(by_id).await?)
    }

    /// The post with this id.
    pub async fn get_post_by_id(&self, id: i32) -> Result<Managed<PostEntity>, PostsError> {
        self.em.find_one::<PostEntity>(id).await?.ok_or(PostsError::NotFound(id))
    }

    /// Creates a post; the database assigns its id.
    pub async fn create_post(
        &self,
        post: CreatePostDto,
    ) -> Result<Managed<PostEntity>, PostsError> {
        let CreatePostDto { title, content } = post;
        let new_post = self.em.create(PostEntity { id: 0, title, content });
        self.em.persist_and_flush(&new_post).await?;
        Ok(new_post)
    }

    /// Sets the fields present in `post` and writes the columns that changed.
    pub async fn update_post(
        &self,
        id: i32,
        post: UpdatePostDto,
    ) -> Result<Managed<PostEntity>, PostsError> {
        let existing = self.em.find_one::<PostEntity>(id).await?.ok_or(PostsError::NotFound(id))?;
        // The DTO holds only the entity's fields (unknown JSON keys are dropped when the body is
        // read, as NestJS ignores them), so the strict `assign` never sees an unknown key.
        self.em.assign(&existing, &post)?;
        self.em.flush().await.map_err(|e| gone_is_not_found(e, id))?;
        Ok(existing)
    }

    /// Deletes the post with this id.
    pub async fn delete_post(&self, id: i32) -> Result<(), PostsError> {
        let existing = self.em.find_one::<PostEntity>(id).await?.ok_or(PostsError::NotFound(id))?;
        self.em.remove_and_flush(&existing).await.map_err(|e| gone_is_not_found(e, id))?;
        Ok(())
    }
}

/// A row that a concurrent request deleted is a post that does not exist.
fn gone_is_not_found(e: strata::Error, id: i32) -> PostsError {
    if e.is_row_gone() { PostsError::NotFound(id) } else { PostsError::Database(e) }
}
