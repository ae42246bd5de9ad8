//! What the derive makes of relation fields: metadata the migrations, the commit order and
//! populate read.

use super::*;
use strata::metadata::{ReferentialAction, RelationKind};

#[test]
fn relation_metadata_names_columns_pivots_and_rules_as_mikro_orm() {
    let post = Post::meta();
    let author = post.relation("author").expect("author is a relation");
    assert_eq!(author.kind, RelationKind::ManyToOne);
    assert_eq!(author.target().table, "user");
    let column = &post.columns[author.join_column.expect("a join column")];
    assert_eq!((column.name, column.field, column.nullable), ("author_id", "author", false));
    assert_eq!(author.delete_rule(), None, "a required relation has no delete rule");
    assert_eq!(author.update_rule(), ReferentialAction::Cascade);
    assert_eq!(post.referenced_tables(), ["user"]);

    let categories = post.relation("categories").unwrap();
    assert_eq!(categories.kind, RelationKind::ManyToMany);
    let pivot = categories.pivot(post).unwrap();
    assert_eq!(
        (pivot.table.as_str(), pivot.owner_column.as_str(), pivot.target_column.as_str()),
        ("post_categories", "post_id", "category_id")
    );
    let inverse = Category::meta().relation("posts").unwrap();
    assert!(!inverse.is_owner());
    let seen_from_category = inverse.pivot(Category::meta()).unwrap();
    assert_eq!(seen_from_category.table, "post_categories");
    assert_eq!(seen_from_category.owner_column, "category_id");
    assert_eq!(seen_from_category.target_column, "post_id");

    let user = User::meta();
    let address = user.relation("address").unwrap();
    let column = &user.columns[address.join_column.unwrap()];
    assert_eq!((column.name, column.nullable, column.unique), ("address_id", true, true));
    assert_eq!(address.delete_rule(), Some(ReferentialAction::SetNull));
    let posts = user.relation("posts").unwrap();
    assert_eq!((posts.kind, posts.mapped_by), (RelationKind::OneToMany, Some("author")));
    assert!(posts.join_column.is_none(), "an inverse side has no column");
    assert_eq!(posts.owning_side().map(|r| r.field), Some("author"));
    assert_eq!(
        user.columns.iter().map(|c| c.name).collect::<Vec<_>>(),
        ["id", "email", "name", "password", "address_id"]
    );
}

#[test]
fn a_row_fills_references_with_keys_and_collections_as_unloaded() {
    use strata::Value;
    let post =
        Post::from_values(vec![Value::I32(1), Value::Text("t".into()), Value::I32(7)]).unwrap();
    assert_eq!(post.author.key(), Some(7));
    assert!(!post.author.is_loaded());
    assert!(post.categories.is_unloaded());
    assert_eq!(post.categories.len(), None, "unloaded is not empty");
    let f = Post::fields();
    let filter = f.author.eq(7);
    assert_eq!(format!("{:?}", filter.expr()), format!("{:?}", f.author.eq(7).expr()));
}
