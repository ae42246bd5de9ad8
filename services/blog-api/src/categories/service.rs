//! [`CategoriesService`]: the original's `CategoriesService` on a request's EntityManager.
//!
//! Statements: the list and one category one SELECT each; create BEGIN, INSERT, COMMIT;
//! update one SELECT, then BEGIN, an UPDATE of the name, COMMIT only when it changed; delete
//! one SELECT, then BEGIN, DELETE, COMMIT (the post links go by `on delete cascade`).

use nest_service::ApiError;
use strata::query::FindOptions;
use strata::{Entity, EntityManager, Managed};

use super::dto::{CreateCategoryDto, UpdateCategoryDto};
use crate::entities::Category;
use crate::errors::{category_not_found, gone_is};

/// The categories of one request.
#[derive(Debug)]
pub struct CategoriesService<'a> {
    em: &'a EntityManager,
}

impl<'a> CategoriesService<'a> {
    /// A service over `em` (the request's).
    pub fn new(em: &'a EntityManager) -> Self {
        Self { em }
    }

    /// Every category, by id.
    ///
    /// # Errors
    ///
    /// The database's error.
    pub async fn get_all(&self) -> Result<Vec<Managed<Category>>, ApiError> {
        let by_id = FindOptions::new().order_by(Category::fields().id.asc());
        Ok(self.em.find_all::<Category>(by_id).await?)
    }

    /// The category with this id.
    ///
    /// # Errors
    ///
    /// 404 `Category with id N not found`.
    pub async fn get_by_id(&self, id: i32) -> Result<Managed<Category>, ApiError> {
        self.em.find_one::<Category>(id).await?.ok_or_else(|| category_not_found(&id.to_string()))
    }

    /// Creates a category; the database assigns its id.
    ///
    /// # Errors
    ///
    /// The database's error.
    pub async fn create(&self, dto: CreateCategoryDto) -> Result<Managed<Category>, ApiError> {
        let category = self.em.create(Category { id: 0, name: dto.name });
        self.em.flush().await?;
        Ok(category)
    }

    /// Sets the fields given and writes what changed.
    ///
    /// # Errors
    ///
    /// 404 when there is no such category (or it was deleted meanwhile).
    pub async fn update(
        &self,
        id: i32,
        dto: UpdateCategoryDto,
    ) -> Result<Managed<Category>, ApiError> {
        let category = self.get_by_id(id).await?;
        if let Some(name) = dto.name {
            category.update(|c| c.name = name);
        }
        self.em.flush().await.map_err(|e| gone_is(e, || category_not_found(&id.to_string())))?;
        Ok(category)
    }

    /// Deletes the category with this id (its links to posts go with it).
    ///
    /// # Errors
    ///
    /// 404 when there is no such category.
    pub async fn delete(&self, id: i32) -> Result<(), ApiError> {
        let category = self.get_by_id(id).await?;
        self.em
            .remove_and_flush(&category)
            .await
            .map_err(|e| gone_is(e, || category_not_found(&id.to_string())))
    }
}
