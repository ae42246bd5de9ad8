//! The relation scenarios through Strata, as an application writes them.

use super::graph::categories_of;
use anyhow::{Result, ensure};
use strata::prelude::*;

/// An author of posts.
#[derive(Entity, Debug, Clone)]
#[strata(table = "author")]
pub(crate) struct Author {
    #[strata(primary_key)]
    pub(crate) id: i32,
    pub(crate) email: String,
    pub(crate) name: String,
}

/// A category of posts.
#[derive(Entity, Debug, Clone)]
#[strata(table = "category")]
pub(crate) struct Category {
    #[strata(primary_key)]
    pub(crate) id: i32,
    pub(crate) name: String,
}

/// A post with its author and categories.
#[derive(Entity, Debug, Clone)]
#[strata(table = "post")]
pub(crate) struct Post {
    #[strata(primary_key)]
    pub(crate) id: i32,
    pub(crate) title: String,
    pub(crate) content: String,
    #[strata(many_to_one)]
    pub(crate) author: Reference<Author>,
    #[strata(many_to_many)]
    pub(crate) categories: Collection<Category>,
}

/// `populate`: every post with its author and categories.
pub(super) async fn populate(orm: &Strata, n: usize) -> Result<()> {
    let em = orm.em();
    let f = Post::fields();
    let posts =
        em.find_all::<Post>(FindOptions::new().populate(f.author).populate(f.categories)).await?;
    ensure!(posts.len() == n, "loaded {} posts, expected {n}", posts.len());
    ensure!(
        posts.iter().all(|p| {
            let p = p.read();
            p.author.is_loaded() && p.categories.items().is_some_and(|c| c.len() == 2)
        }),
        "a post without its author or categories"
    );
    Ok(())
}

/// `flush_graph`: n new posts, each with a new author (inserted by cascade) and two existing
/// categories by key, in one flush.
pub(super) async fn flush_graph(orm: &Strata, n: usize) -> Result<()> {
    let em = orm.em();
    for i in 1..=n {
        let author = Managed::new(Author {
            id: 0,
            email: format!("author{i}@example.com"),
            name: format!("author {i}"),
        });
        let mut categories = Collection::new();
        for c in categories_of(i) {
            categories.add(Reference::from_key(c));
        }
        em.create(Post {
            id: 0,
            title: format!("title {i}"),
            content: format!("content {i}"),
            author: Reference::to(&author),
            categories,
        });
    }
    em.flush().await?;
    Ok(())
}
