//! The JSON the API answers, one type per shape, with keys in the original's order. The
//! original's shapes follow from what MikroORM happened to have populated; here each route
//! names its shape:
//!
//! | route | shape |
//! | --- | --- |
//! | `GET /posts` | [`PostWithAll`]: author (with address) and categories as objects |
//! | `POST /posts` | [`PostWithAll`] with [`Categories::Keys`]: the ids as sent, without duplicates |
//! | `GET /posts/:id`, `PATCH /posts/:id` | [`PostView`]: `author` as its id; `categories` (ids) only when a PATCH set them |
//! | `POST /authentication/register` | [`RegisteredUser`]: `address` absent when the body had none, `posts: []` |
//! | `POST /authentication/log-in` | [`LoggedInUser`]: `address` (or `null`), the user's posts with `author` as an id |
//! | `GET /authentication` | [`UserView`] |
//! | categories | [`CategoryView`]; `POST` answers [`CreatedCategory`] (`name` first, as the original) |
//!
//! The password hash is in none of them.

use serde::Serialize;
use strata::Managed;

use crate::entities::{Address, Category, PostEntity, User};

/// `{"id","street","city","country"}`.
#[derive(Debug, Serialize)]
pub struct AddressView {
    id: i32,
    street: String,
    city: String,
    country: String,
}

impl AddressView {
    /// The view of an address.
    pub fn of(address: &Address) -> Self {
        Self {
            id: address.id,
            street: address.street.clone(),
            city: address.city.clone(),
            country: address.country.clone(),
        }
    }
}

/// `{"id","email","name","address"}`: `GET /authentication`, and a post's author.
#[derive(Debug, Serialize)]
pub struct UserView {
    id: i32,
    email: String,
    name: String,
    address: Option<AddressView>,
}

impl UserView {
    /// The view of a user whose address is populated.
    pub fn of(user: &Managed<User>) -> Self {
        let (id, email, name, address) = {
            let u = user.read();
            (u.id, u.email.clone(), u.name.clone(), u.address.clone())
        };
        let address = address.and_then(|a| a.get()).map(|a| AddressView::of(&a.read()));
        Self { id, email, name, address }
    }
}

/// `{"id","email","name",["address"],"posts":[]}`: the answer of a registration.
#[derive(Debug, Serialize)]
pub struct RegisteredUser {
    id: i32,
    email: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<Option<AddressView>>,
    posts: [(); 0],
}

impl RegisteredUser {
    /// The view of a new user; `address_given` says whether the body had an `address` key.
    pub fn of(user: &Managed<User>, address_given: bool) -> Self {
        let UserView { id, email, name, address } = UserView::of(user);
        Self { id, email, name, address: address_given.then_some(address), posts: [] }
    }
}

/// `{"id","email","name","address","posts":[…]}`: the answer of a log-in.
#[derive(Debug, Serialize)]
pub struct LoggedInUser {
    #[serde(flatten)]
    user: UserView,
    posts: Vec<PostView>,
}

impl LoggedInUser {
    /// The view of a user whose address and posts are populated; posts by id.
    pub fn of(user: &Managed<User>) -> Self {
        let posts = user.read().posts.items().unwrap_or_default();
        let mut posts: Vec<PostView> = posts.iter().map(|p| PostView::of(&p.read())).collect();
        posts.sort_by_key(|p| p.id);
        Self { user: UserView::of(user), posts }
    }
}

/// `{"id","title","content","author":<id>,["categories":[<ids>]]}`.
#[derive(Debug, Serialize)]
pub struct PostView {
    id: i32,
    title: String,
    content: String,
    author: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    categories: Option<Vec<i32>>,
}

impl PostView {
    /// The view of a post, its author as an id, no categories.
    pub fn of(post: &PostEntity) -> Self {
        Self {
            id: post.id,
            title: post.title.clone(),
            content: post.content.clone(),
            author: post.author.key(),
            categories: None,
        }
    }

    /// The view with the category ids a PATCH set.
    #[must_use]
    pub fn with_categories(mut self, keys: Vec<i32>) -> Self {
        self.categories = Some(keys);
        self
    }
}

/// A post's categories: objects when populated, ids when only linked.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Categories {
    /// `[{"id","name"}]`.
    Objects(Vec<CategoryView>),
    /// `[1,2]`.
    Keys(Vec<i32>),
}

/// `{"id","title","content","author":{…},"categories":[…]}`.
#[derive(Debug, Serialize)]
pub struct PostWithAll {
    id: i32,
    title: String,
    content: String,
    author: Option<UserView>,
    categories: Categories,
}

impl PostWithAll {
    /// The view of a post whose author (with address) and categories are populated.
    pub fn of(post: &Managed<PostEntity>) -> Self {
        let (id, title, content, author, categories) = {
            let p = post.read();
            (p.id, p.title.clone(), p.content.clone(), p.author.clone(), p.categories.items())
        };
        let categories =
            categories.unwrap_or_default().iter().map(|c| CategoryView::of(&c.read())).collect();
        Self {
            id,
            title,
            content,
            author: author.get().map(|a| UserView::of(&a)),
            categories: Categories::Objects(categories),
        }
    }

    /// The view of a new post by `author`, in the categories `keys`.
    pub fn created(post: &Managed<PostEntity>, author: &Managed<User>, keys: Vec<i32>) -> Self {
        let (id, title, content) = {
            let p = post.read();
            (p.id, p.title.clone(), p.content.clone())
        };
        Self {
            id,
            title,
            content,
            author: Some(UserView::of(author)),
            categories: Categories::Keys(keys),
        }
    }
}

/// `{"id","name"}`.
#[derive(Debug, Serialize)]
pub struct CategoryView {
    id: i32,
    name: String,
}

impl CategoryView {
    /// The view of a category.
    pub fn of(category: &Category) -> Self {
        Self { id: category.id, name: category.name.clone() }
    }
}

/// `{"name","id"}`: the answer of `POST /categories`, keys in the original's order.
#[derive(Debug, Serialize)]
pub struct CreatedCategory {
    name: String,
    id: i32,
}

impl CreatedCategory {
    /// The view of a new category.
    pub fn of(category: &Category) -> Self {
        Self { name: category.name.clone(), id: category.id }
    }
}
