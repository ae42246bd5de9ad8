//! The entities of article #63, declared as the original declares them with MikroORM.
//!
//! | entity | table | relations |
//! | --- | --- | --- |
//! | [`Address`] | `address` | — |
//! | [`User`] | `user` | `address`: one-to-one, nullable, owning (`address_id`, unique, `on delete set null`); `posts`: one-to-many mapped by `author` |
//! | [`Category`] | `category` | — |
//! | [`PostEntity`] | `post_entity` | `author`: many-to-one (`author_id not null`); `categories`: many-to-many through `post_entity_categories` |
//!
//! Every text column is `varchar(255) not null`. The JSON the API answers is built by
//! `crate::views`, not by serializing these: each route's shape is the original's.

use strata::{Collection, Entity, Reference};

/// A postal address, inserted with its user by cascade.
#[derive(Entity, Debug, Clone)]
pub struct Address {
    /// The id (`serial`).
    #[strata(primary_key)]
    pub id: i32,
    /// The street.
    pub street: String,
    /// The city.
    pub city: String,
    /// The country.
    pub country: String,
}

/// A user who can log in.
#[derive(Entity, Debug, Clone)]
pub struct User {
    /// The id (`serial`).
    #[strata(primary_key)]
    pub id: i32,
    /// The email, unique (`user_email_unique`), matched case-sensitively at log-in.
    #[strata(unique)]
    pub email: String,
    /// The name.
    pub name: String,
    /// The bcrypt hash of the password (`$2b$10$…`); never answered, never logged.
    pub password: String,
    /// The address, if the user gave one.
    #[strata(one_to_one)]
    pub address: Option<Reference<Address>>,
    /// The user's posts (the posts hold the key).
    #[strata(one_to_many, mapped_by = "author")]
    pub posts: Collection<PostEntity>,
}

/// A category of posts.
#[derive(Entity, Debug, Clone)]
pub struct Category {
    /// The id (`serial`).
    #[strata(primary_key)]
    pub id: i32,
    /// The name.
    pub name: String,
}

/// A post, written by a user, in any number of categories.
#[derive(Entity, Debug, Clone)]
pub struct PostEntity {
    /// The id (`serial`).
    #[strata(primary_key)]
    pub id: i32,
    /// The title.
    pub title: String,
    /// The content.
    pub content: String,
    /// The author: the user logged in when the post was created.
    #[strata(many_to_one)]
    pub author: Reference<User>,
    /// The categories (pivot `post_entity_categories`).
    #[strata(many_to_many)]
    pub categories: Collection<Category>,
}
