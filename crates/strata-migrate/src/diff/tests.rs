//! Unit tests of the diff on in-memory schemas.

use super::*;
use crate::ddl::render;
use crate::schema::{Check, ForeignKey, ForeignKeyAction, Index, PrimaryKey, SqlType, Unique};
use strata_core::DbKind;

fn post() -> Table {
    let mut t = Table::new(None, "post");
    let mut id = Column::new("id", SqlType::Integer);
    id.identity = true;
    t.columns = vec![id, Column::new("title", SqlType::Varchar(255))];
    t.primary_key = Some(PrimaryKey { name: "post_pkey".into(), columns: vec!["id".into()] });
    t
}

fn schema(tables: Vec<Table>) -> Schema {
    let mut s = Schema { tables, ..Schema::default() };
    for t in &s.tables {
        if let Some(ns) = &t.namespace {
            s.namespaces.push(ns.clone());
        }
    }
    s.normalize();
    s
}

fn up(from: &Schema, to: &Schema) -> Vec<String> {
    render(&diff(from, to), DbKind::Postgres).unwrap().up
}

#[test]
fn identical_schemas_have_no_changes() {
    let s = schema(vec![post()]);
    assert!(diff(&s, &s).is_empty());
}

#[test]
fn the_default_namespace_named_explicitly_is_the_same_table() {
    let mut introspected = schema(vec![post()]);
    introspected.default_namespace = Some("public".into());
    let mut qualified = post();
    qualified.namespace = Some("public".into());
    let target = schema(vec![qualified]);
    assert!(diff(&introspected, &target).is_empty());
    assert_eq!(introspected, target);
}

#[test]
fn column_order_does_not_matter() {
    let a = schema(vec![post()]);
    let mut t = post();
    t.columns.reverse();
    let b = schema(vec![t]);
    assert!(diff(&a, &b).is_empty());
    assert_eq!(a, b);
}

#[test]
fn every_down_is_the_reverse_of_its_up() {
    let from = schema(vec![post()]);
    let mut t = post();
    t.columns[1].ty = SqlType::Varchar(100);
    t.columns[1].nullable = true;
    t.columns.push(Column::new("body", SqlType::Text));
    let to = schema(vec![t]);
    let d = diff(&from, &to);
    let back = d.reverse();
    assert_eq!(back.changes.len(), d.changes.len());
    assert_eq!(back.changes[0], d.changes.last().unwrap().inverse());
    assert_eq!(
        back.summaries().last().unwrap(),
        "alter column \"post\".\"title\" type varchar(100) -> varchar(255)"
    );
    assert_eq!(d.reverse().reverse(), d);
}

#[test]
fn drops_and_narrowing_are_destructive_widening_is_not() {
    let from = schema(vec![post()]);
    let mut narrower = post();
    narrower.columns[1].ty = SqlType::Varchar(100);
    let d = diff(&from, &schema(vec![narrower]));
    assert_eq!(d.destructive().len(), 1);
    assert_eq!(
        d.destructive()[0].summary(),
        "alter column \"post\".\"title\" type varchar(255) -> varchar(100)"
    );

    let mut wider = post();
    wider.columns[1].ty = SqlType::Text;
    wider.columns[0].ty = SqlType::BigInt;
    assert!(diff(&from, &schema(vec![wider])).destructive().is_empty());

    let mut fewer = post();
    fewer.columns.pop();
    assert!(diff(&from, &schema(vec![fewer])).changes[0].is_destructive());
    assert!(diff(&from, &Schema::default()).changes[0].is_destructive());
    assert!(diff(&Schema::default(), &from).destructive().is_empty());
}

#[test]
fn a_declared_table_rename_renames_the_table_and_its_constraints() {
    let mut old = post();
    old.uniques.push(Unique { name: "post_title_unique".into(), columns: vec!["title".into()] });
    let mut renamed = old.clone();
    renamed.name = "article".into();
    renamed.renamed_from = Some("post".into());
    renamed.primary_key.as_mut().unwrap().name = "article_pkey".into();
    renamed.uniques[0].name = "article_title_unique".into();
    assert_eq!(
        up(&schema(vec![old]), &schema(vec![renamed])),
        [
            r#"alter table "post" rename to "article""#,
            r#"alter table "article" rename constraint "post_pkey" to "article_pkey""#,
            r#"alter table "article" rename constraint "post_title_unique" to "article_title_unique""#,
            r#"alter sequence "post_id_seq" rename to "article_id_seq""#,
        ]
    );
}

#[test]
fn a_table_rename_on_sqlite_is_not_summarised_with_a_sequence() {
    let mut renamed = post();
    renamed.name = "article".into();
    renamed.renamed_from = Some("post".into());
    renamed.primary_key.as_mut().unwrap().name = "article_pkey".into();
    let d = diff(&schema(vec![post()]), &schema(vec![renamed]));
    let sequence = r#"rename sequence "post_id_seq" to "article_id_seq""#;
    assert!(d.summaries_for(DbKind::Postgres).iter().any(|s| s == sequence), "{d:?}");
    let sqlite = d.summaries_for(DbKind::Sqlite);
    assert!(sqlite.iter().all(|s| !s.contains("sequence")), "{sqlite:?}");
    assert_eq!(sqlite[0], r#"rename table "post" to "article""#);
}

#[test]
fn an_undeclared_rename_is_a_drop_and_a_create() {
    let mut renamed = post();
    renamed.name = "article".into();
    let d = diff(&schema(vec![post()]), &schema(vec![renamed]));
    assert_eq!(d.summaries(), ["create table \"article\"", "drop table \"post\""]);
}

#[test]
fn a_declared_column_rename_keeps_the_column_and_renames_its_index() {
    let mut old = post();
    old.indexes.push(Index {
        name: "post_title_index".into(),
        columns: vec!["title".into()],
        unique: false,
    });
    let mut new = old.clone();
    new.columns[1].name = "headline".into();
    new.columns[1].renamed_from = Some("title".into());
    new.indexes[0] = Index {
        name: "post_headline_index".into(),
        columns: vec!["headline".into()],
        unique: false,
    };
    let from = schema(vec![old]);
    let to = schema(vec![new]);
    assert_eq!(
        up(&from, &to),
        [
            r#"alter table "post" rename column "title" to "headline""#,
            r#"alter index "post_title_index" rename to "post_headline_index""#,
        ]
    );
    // Once applied, the declaration is harmless: the new name exists.
    assert!(diff(&to, &to).is_empty());
}

#[test]
fn nullability_default_and_identity_render_in_a_reversible_order() {
    let from = schema(vec![post()]);
    let mut t = post();
    t.columns[0].identity = false;
    t.columns[1].nullable = true;
    t.columns[1].default = Some("'untitled'".into());
    let sql = render(&diff(&from, &schema(vec![t])), DbKind::Postgres).unwrap();
    assert_eq!(
        sql.up,
        [
            r#"alter table "post" alter column "id" drop default"#,
            r#"drop sequence "post_id_seq""#,
            r#"alter table "post" alter column "title" set default 'untitled'"#,
            r#"alter table "post" alter column "title" drop not null"#,
        ]
    );
    assert_eq!(
        sql.down,
        [
            r#"alter table "post" alter column "title" set not null"#,
            r#"alter table "post" alter column "title" drop default"#,
            r#"create sequence "post_id_seq" as int owned by "post"."id""#,
            r#"select setval('"post_id_seq"', coalesce(max("id"), 0) + 1, false) from "post""#,
            r#"alter table "post" alter column "id" set default nextval('"post_id_seq"')"#,
        ]
    );
}

#[test]
fn foreign_keys_are_added_after_tables_and_dropped_before() {
    let mut comment = Table::new(Some("blog".into()), "comment");
    comment.columns =
        vec![Column::new("id", SqlType::Uuid), Column::new("post_id", SqlType::Integer)];
    comment.foreign_keys.push(ForeignKey {
        name: "comment_post_id_foreign".into(),
        columns: vec!["post_id".into()],
        referenced_namespace: None,
        referenced_table: "post".into(),
        referenced_columns: vec!["id".into()],
        on_delete: ForeignKeyAction::Cascade,
        on_update: ForeignKeyAction::NoAction,
    });
    let to = schema(vec![post(), comment]);
    let sql = render(&diff(&Schema::default(), &to), DbKind::Postgres).unwrap();
    assert_eq!(
        sql.up,
        [
            r#"create schema if not exists "blog""#,
            r#"create table "post" ("id" serial primary key, "title" varchar(255) not null)"#,
            r#"create table "blog"."comment" ("id" uuid not null, "post_id" int not null)"#,
            r#"alter table "blog"."comment" add constraint "comment_post_id_foreign" foreign key ("post_id") references "post" ("id") on delete cascade"#,
        ]
    );
    assert_eq!(
        sql.down,
        [
            r#"alter table "blog"."comment" drop constraint "comment_post_id_foreign""#,
            r#"drop table "blog"."comment""#,
            r#"drop table "post""#,
            r#"drop schema "blog""#,
        ]
    );
}

#[test]
fn enum_checks_primary_keys_and_uniques_change_as_drop_then_add() {
    let mut from_t = post();
    from_t.columns.push(Column::new("status", SqlType::Text));
    from_t.checks.push(Check {
        name: "post_status_check".into(),
        column: "status".into(),
        values: vec!["draft".into()],
    });
    let mut to_t = from_t.clone();
    to_t.checks[0].values.push("it's".into());
    to_t.primary_key =
        Some(PrimaryKey { name: "post_pkey".into(), columns: vec!["id".into(), "title".into()] });
    to_t.uniques.push(Unique { name: "post_title_unique".into(), columns: vec!["title".into()] });
    assert_eq!(
        up(&schema(vec![from_t]), &schema(vec![to_t])),
        [
            r#"alter table "post" drop constraint "post_status_check""#,
            r#"alter table "post" drop constraint "post_pkey""#,
            r#"alter table "post" add constraint "post_pkey" primary key ("id", "title")"#,
            r#"alter table "post" add constraint "post_title_unique" unique ("title")"#,
            r#"alter table "post" add constraint "post_status_check" check ("status" in ('draft', 'it''s'))"#,
        ]
    );
}

#[test]
fn summaries_are_one_line_each() {
    let d = diff(&Schema::default(), &schema(vec![post()]));
    assert_eq!(d.summaries(), ["create table \"post\""]);
    let mut t = post();
    t.namespace = Some("blog".into());
    let d = diff(&Schema::default(), &schema(vec![t]));
    assert_eq!(d.summaries(), ["create schema \"blog\"", "create table \"blog\".\"post\""]);
}

#[test]
fn public_named_explicitly_never_creates_the_public_schema() {
    let mut qualified = post();
    qualified.namespace = Some("public".into());
    let target = schema(vec![qualified]);
    assert_eq!(target.namespaces, ["public"]);
    assert_eq!(diff(&Schema::default(), &target).summaries(), ["create table \"post\""]);
    assert!(diff(&schema(vec![post()]), &target).is_empty());
}
