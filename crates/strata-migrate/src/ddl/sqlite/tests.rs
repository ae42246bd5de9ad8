//! Unit tests of the SQLite DDL on in-memory schemas.

use crate::ddl::render;
use crate::diff::diff;
use crate::schema::{Column, PrimaryKey, Schema, SqlType, Table};
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
    s.normalize();
    s
}

#[test]
fn create_table_uses_the_driver_types_and_an_autoincrement_key() {
    let sql = render(&diff(&Schema::default(), &schema(vec![post()])), DbKind::Sqlite).unwrap();
    assert_eq!(
        sql.up,
        [
            r#"create table "post" ("id" integer primary key autoincrement, "title" varchar(255) not null)"#
        ]
    );
    assert_eq!(sql.down, [r#"drop table "post""#]);
}

#[test]
fn changes_alone_cannot_rebuild_a_table_they_do_not_create() {
    let from = schema(vec![post()]);
    let mut t = post();
    t.columns[1].nullable = true;
    let d = diff(&from, &schema(vec![t]));
    let err = crate::ddl::render_changes(&d.changes, DbKind::Sqlite).unwrap_err();
    assert!(err.message().contains("ddl::render"), "{err}");
    assert!(render(&d, DbKind::Sqlite).is_ok());
}

#[test]
fn an_identity_column_outside_the_key_is_refused() {
    let mut t = post();
    t.columns[1] = Column { identity: true, ..Column::new("n", SqlType::BigInt) };
    let err = render(&diff(&Schema::default(), &schema(vec![t])), DbKind::Sqlite).unwrap_err();
    assert!(err.message().contains("\"post\".\"n\""), "{err}");
}

#[test]
fn a_named_key_and_a_non_identity_integer_key_are_declared_so_they_read_back() {
    let mut t = post();
    t.columns[0].identity = false;
    t.primary_key.as_mut().unwrap().name = "post_key".into();
    let sql = render(&diff(&Schema::default(), &schema(vec![t])), DbKind::Sqlite).unwrap();
    assert_eq!(
        sql.up,
        [
            r#"create table "post" ("id" int not null, "title" varchar(255) not null, constraint "post_key" primary key ("id"))"#
        ]
    );
}

#[test]
fn an_integer_widened_to_bigint_is_no_statement() {
    let from = schema(vec![post()]);
    let mut t = post();
    t.columns[0].ty = SqlType::BigInt;
    let d = diff(&from, &schema(vec![t]));
    assert_eq!(d.changes.len(), 1, "the diff between targets sees it");
    let sql = render(&d, DbKind::Sqlite).unwrap();
    assert!(sql.up.is_empty() && sql.down.is_empty(), "{sql:?}");
}
