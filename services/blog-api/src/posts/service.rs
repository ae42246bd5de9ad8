//! [`PostsService`]: the original's `PostsService` on a request's EntityManager, with Strata's
//! relations used as the article uses MikroORM's.
//!
//! | call | statements |
//! | --- | --- |
//! | [`PostsService::get_all`] | the posts; their authors; the authors' addresses (none when no author has one); their categories through the pivot — 4 for any number of posts, 1 when there are none |
//! | [`PostsService::get_by_id`] | 1 |
//! | [`PostsService::create`] | BEGIN, INSERT the post, one INSERT of every pivot row (none for `[]`), COMMIT: the author is the logged-in user and the categories are linked by key, never loaded |
//! | [`PostsService::update`] | SELECT the post (and its categories' links when `categories` is given); then BEGIN, an UPDATE of the changed columns, a DELETE of the links removed and an INSERT of those added, COMMIT — only what changed, nothing when nothing did |
//! | [`PostsService::delete`] | SELECT, BEGIN, DELETE, COMMIT (the links go by `on delete cascade`) |
//!
//! A category id that does not exist makes the flush fail on the pivot's foreign key; the
//! transaction is rolled back (nothing is stored) and one SELECT finds which ids are missing,
//! for a 400 that names them.

use nest_service::ApiError;
use strata::query::FindOptions;
use strata::{Collection, Entity, EntityManager, Managed, Reference};

use super::dto::{CategoryIds, CreatePostDto, UpdatePostDto};
use crate::entities::{Category, PostEntity, User};
use crate::errors::{gone_is, missing_categories, post_not_found, user_not_found};

/// The posts of one request.
#[derive(Debug)]
pub struct PostsService<'a> {
    em: &'a EntityManager,
}

impl<'a> PostsService<'a> {
    /// A service over `em` (the request's).
    pub fn new(em: &'a EntityManager) -> Self {
        Self { em }
    }

    /// Every post by id, with its author, the author's address and its categories.
    ///
    /// # Errors
    ///
    /// The database's error.
    pub async fn get_all(&self) -> Result<Vec<Managed<PostEntity>>, ApiError> {
        let (p, u) = (PostEntity::fields(), User::fields());
        let options = FindOptions::new()
            .order_by(p.id.asc())
            .populate(p.author.then(u.address))
            .populate(p.categories);
        Ok(self.em.find_all::<PostEntity>(options).await?)
    }

    /// The post with this id, nothing populated.
    ///
    /// # Errors
    ///
    /// 404 `Post with id N not found`.
    pub async fn get_by_id(&self, id: i32) -> Result<Managed<PostEntity>, ApiError> {
        self.em.find_one::<PostEntity>(id).await?.ok_or_else(|| post_not_found(&id.to_string()))
    }

    /// Creates a post by `author` in the categories `dto.categories`.
    ///
    /// # Errors
    ///
    /// 400 naming the category ids that do not exist (nothing is stored); 404 `User not found`
    /// when the author was deleted meanwhile.
    pub async fn create(
        &self,
        author: &Managed<User>,
        dto: CreatePostDto,
    ) -> Result<Managed<PostEntity>, ApiError> {
        let CreatePostDto { title, content, categories } = dto;
        if !categories.impossible.is_empty() {
            return Err(self.missing(&categories).await);
        }
        let mut post = PostEntity {
            id: 0,
            title,
            content,
            author: Reference::to(author),
            categories: Collection::new(),
        };
        post.categories.set_keys(categories.keys.iter().copied());
        let post = self.em.create(post);
        if let Err(e) = self.em.flush().await {
            // The post stays unflushed in this request's EntityManager, which ends here.
            return Err(if e.is_foreign_key_violation() {
                self.unknown_reference(&categories, user_not_found).await
            } else {
                e.into()
            });
        }
        Ok(post)
    }

    /// Sets the fields given; `categories` replaces the post's categories, writing only the
    /// links that change.
    ///
    /// # Errors
    ///
    /// 404 when there is no such post (or it was deleted meanwhile); 400 naming the category
    /// ids that do not exist (nothing is stored).
    pub async fn update(
        &self,
        id: i32,
        dto: UpdatePostDto,
    ) -> Result<Managed<PostEntity>, ApiError> {
        let UpdatePostDto { title, content, categories } = dto;
        let p = PostEntity::fields();
        let mut options = FindOptions::new().limit(1);
        if categories.is_some() {
            options = options.populate(p.categories);
        }
        let post = self.em.find(p.id.eq(id), options).await?.into_iter().next();
        let post = post.ok_or_else(|| post_not_found(&id.to_string()))?;
        if let Some(categories) = categories.as_ref().filter(|c| !c.impossible.is_empty()) {
            return Err(self.missing(categories).await);
        }
        post.update(|post| {
            if let Some(title) = title {
                post.title = title;
            }
            if let Some(content) = content {
                post.content = content;
            }
            if let Some(categories) = &categories {
                post.categories.set_keys(categories.keys.iter().copied());
            }
        });
        if let Err(e) = self.em.flush().await {
            let not_found = || post_not_found(&id.to_string());
            return Err(match &categories {
                Some(categories) if e.is_foreign_key_violation() => {
                    self.unknown_reference(categories, not_found).await
                }
                _ => gone_is(e, not_found),
            });
        }
        Ok(post)
    }

    /// Deletes the post with this id.
    ///
    /// # Errors
    ///
    /// 404 when there is no such post.
    pub async fn delete(&self, id: i32) -> Result<(), ApiError> {
        let post = self.get_by_id(id).await?;
        self.em
            .remove_and_flush(&post)
            .await
            .map_err(|e| gone_is(e, || post_not_found(&id.to_string())))
    }

    /// A flush failed on a foreign key: the categories that do not exist, or, when they all
    /// do, the other row that went away meanwhile (`otherwise`).
    async fn unknown_reference(
        &self,
        categories: &CategoryIds,
        otherwise: impl FnOnce() -> ApiError,
    ) -> ApiError {
        match self.missing_ids(categories).await {
            Ok(missing) if missing.is_empty() => otherwise(),
            Ok(missing) => missing_categories(&missing),
            Err(e) => e,
        }
    }

    /// The 400 that names the ids of `categories` no category has.
    async fn missing(&self, categories: &CategoryIds) -> ApiError {
        match self.missing_ids(categories).await {
            Ok(missing) => missing_categories(&missing),
            Err(e) => e,
        }
    }

    /// The ids of `categories` that no category has, in the order sent: one SELECT of those
    /// that exist (none when every id is impossible).
    async fn missing_ids(&self, categories: &CategoryIds) -> Result<Vec<f64>, ApiError> {
        let mut missing = Vec::new();
        if !categories.keys.is_empty() {
            let c = Category::fields();
            let found =
                self.em.find(c.id.in_(categories.keys.iter().copied()), FindOptions::new()).await?;
            let found: Vec<i32> = found.iter().map(Managed::key).collect();
            missing.extend(
                categories.keys.iter().filter(|k| !found.contains(k)).map(|&k| f64::from(k)),
            );
        }
        missing.extend(categories.impossible.iter().copied());
        Ok(missing)
    }
}
