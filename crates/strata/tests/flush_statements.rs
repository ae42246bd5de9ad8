//! The statements of a flush as each dialect renders them: one batch, the exact SQL, parameters
//! and result types of PostgreSQL (`UNNEST` arrays, chunks of rows) and of SQLite (multi-row
//! `VALUES`, chunks of parameters). The shapes are written once in `strata_core::sql::flush`;
//! these tests pin what each dialect's parts make of them.

#![allow(clippy::unwrap_used)]

use strata::driver::dialect::{
    DeleteBatch, Dialect, InsertBatch, TableName, UpdateBatch, UpdateRow,
};
use strata::driver::sql::FlushStatements;
use strata::driver::{Param, Statement, StatementKind};
use strata::metadata::ColumnMeta;
use strata::postgres::{DEFAULT_BATCH_ROWS, PgDialect};
use strata::sqlite::{MAX_PARAMS, SqliteDialect, declared_type};
use strata::{ColumnType, Value};
use strata_test::column;

const POST: TableName<'static> = TableName { schema: None, name: "post" };

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

/// An INSERT into `post`.
fn insert<'a>(
    columns: &[&'a ColumnMeta],
    rows: Vec<Vec<Value>>,
    returning: &[&'a ColumnMeta],
) -> InsertBatch<'a> {
    InsertBatch { table: POST, columns: columns.to_vec(), rows, returning: returning.to_vec() }
}

/// An UPDATE of `post` keyed by `pk`.
fn update<'a>(
    pk: &'a ColumnMeta,
    set: &[&'a ColumnMeta],
    version: Option<&'a ColumnMeta>,
    rows: Vec<UpdateRow>,
) -> UpdateBatch<'a> {
    UpdateBatch { table: POST, pk, set: set.to_vec(), version, rows }
}

/// One row of an update, with the version it was loaded with, if any.
fn row(key: Value, values: Vec<Value>, version: Option<i32>) -> UpdateRow {
    UpdateRow { key, values, version: version.map(Value::I32) }
}

/// A SQLite statement's parameters, each one value.
fn values(s: &Statement) -> Vec<Value> {
    s.params
        .iter()
        .map(|p| match p {
            Param::Value(v) => v.clone(),
            Param::Array(..) => panic!("SQLite statements bind no arrays"),
        })
        .collect()
}

/// The length of each statement's first array parameter (PostgreSQL).
fn first_array_lengths(statements: &[Statement]) -> Vec<usize> {
    statements
        .iter()
        .map(|s| match &s.params[0] {
            Param::Array(_, v) => v.len(),
            Param::Value(_) => 0,
        })
        .collect()
}

#[test]
fn an_insert_binds_its_rows_and_returns_the_generated_columns() {
    let (id, title, likes) = (
        column("id", ColumnType::I32),
        column("title", ColumnType::Varchar(255)),
        column("likes", ColumnType::I64),
    );
    let rows = || vec![vec![text("a"), Value::I64(1)], vec![text("b"), Value::Null]];

    let pg = PgDialect::new().insert(insert(&[&title, &likes], rows(), &[&id]));
    assert_eq!(pg.len(), 1);
    assert_eq!(
        pg[0].sql,
        r#"INSERT INTO "post" ("title", "likes") SELECT * FROM UNNEST($1::text[], $2::int8[]) RETURNING "id""#
    );
    assert_eq!(
        pg[0].params,
        vec![
            Param::Array(ColumnType::Varchar(255), vec![text("a"), text("b")]),
            Param::Array(ColumnType::I64, vec![Value::I64(1), Value::Null]),
        ]
    );

    let lite = SqliteDialect::new().insert(insert(&[&title, &likes], rows(), &[&id]));
    assert_eq!(lite.len(), 1);
    assert_eq!(
        lite[0].sql,
        r#"INSERT INTO "post" ("title", "likes") VALUES (?1, ?2), (?3, ?4) RETURNING "id""#
    );
    assert_eq!(values(&lite[0]), vec![text("a"), Value::I64(1), text("b"), Value::Null]);

    for s in [&pg[0], &lite[0]] {
        assert_eq!(s.returns, vec![ColumnType::I32]);
        assert_eq!(s.kind, StatementKind::Insert);
    }
}

#[test]
fn postgres_casts_every_column_type_to_its_array_type() {
    let columns: Vec<ColumnMeta> = [
        ("a", ColumnType::Bool),
        ("b", ColumnType::I16),
        ("c", ColumnType::F32),
        ("d", ColumnType::F64),
        ("e", ColumnType::Text),
        ("f", ColumnType::Uuid),
        ("g", ColumnType::TimestampTz),
        ("h", ColumnType::Date),
        ("i", ColumnType::Json),
        ("j", ColumnType::Bytes),
    ]
    .into_iter()
    .map(|(n, t)| column(n, t))
    .collect();
    let all: Vec<&ColumnMeta> = columns.iter().collect();
    let s = &PgDialect::new().insert(insert(&all, vec![vec![Value::Null; columns.len()]], &[]))[0];
    assert_eq!(
        s.sql,
        "INSERT INTO \"post\" (\"a\", \"b\", \"c\", \"d\", \"e\", \"f\", \"g\", \"h\", \"i\", \"j\") \
         SELECT * FROM UNNEST($1::bool[], $2::int2[], $3::float4[], $4::float8[], $5::text[], \
         $6::uuid[], $7::timestamptz[], $8::date[], $9::jsonb[], $10::bytea[])"
    );
    assert!(s.returns.is_empty());
}

#[test]
fn an_insert_without_columns_takes_every_default() {
    let id = column("id", ColumnType::I32);

    let pg = &PgDialect::new().insert(insert(&[], vec![vec![]; 3], &[&id]))[0];
    assert_eq!(
        pg.sql,
        r#"INSERT INTO "post" SELECT FROM generate_series(1, $1::int8) RETURNING "id""#
    );
    assert_eq!(pg.params, vec![Param::Value(Value::I64(3))]);

    // `DEFAULT VALUES` inserts one row: one statement each.
    let lite = SqliteDialect::new().insert(insert(&[], vec![vec![]; 3], &[&id]));
    assert_eq!(lite.len(), 3);
    assert_eq!(lite[0].sql, r#"INSERT INTO "post" DEFAULT VALUES RETURNING "id""#);
    assert!(lite[0].params.is_empty());
}

#[test]
fn postgres_chunks_batches_by_rows() {
    let (id, title) = (column("id", ColumnType::I32), column("title", ColumnType::Text));
    let dialect = PgDialect::new().with_batch_rows(10);
    let rows = (0..25).map(|i| vec![text(&i.to_string())]).collect();
    let statements = dialect.insert(insert(&[&title], rows, &[&id]));
    assert_eq!(first_array_lengths(&statements), vec![10, 10, 5]);
    assert!(statements.iter().all(|s| s.sql == statements[0].sql), "one SQL text per chunk");
    assert_eq!(
        statements[2].params[0],
        Param::Array(ColumnType::Text, (20..25).map(|i| text(&i.to_string())).collect())
    );

    let changed = (0..25).map(|i| row(Value::I32(i), vec![text("x")], None)).collect();
    assert_eq!(dialect.update(update(&id, &[&title], None, changed)).len(), 3);
    let delete = DeleteBatch { table: POST, pk: &id, keys: (0..25).map(Value::I32).collect() };
    assert_eq!(dialect.delete(delete).len(), 3);
    let exact = DeleteBatch { table: POST, pk: &id, keys: (0..20).map(Value::I32).collect() };
    assert_eq!(dialect.delete(exact).len(), 2);
}

#[test]
fn sqlite_chunks_batches_by_parameters() {
    let (id, title) = (column("id", ColumnType::I32), column("title", ColumnType::Text));
    // 10 parameters: 5 rows of 2 columns, 10 keys.
    let dialect = SqliteDialect::new().with_max_params(10);
    assert_eq!(dialect.batch_rows(2), 5);
    assert_eq!(dialect.batch_rows(0), 10);
    assert_eq!(dialect.batch_rows(11), 1, "a row wider than the limit still goes alone");
    let param_counts = |s: Vec<Statement>| s.iter().map(|s| s.params.len()).collect::<Vec<_>>();
    let rows = (0..12).map(|i| vec![Value::I32(i), text("t")]).collect();
    assert_eq!(param_counts(dialect.insert(insert(&[&id, &title], rows, &[]))), vec![10, 10, 4]);
    let changed = (0..12).map(|i| row(Value::I32(i), vec![text("x")], None)).collect();
    assert_eq!(param_counts(dialect.update(update(&id, &[&title], None, changed))), [10, 10, 4]);

    let delete = DeleteBatch { table: POST, pk: &id, keys: (0..25).map(Value::I32).collect() };
    let statements = dialect.delete(delete);
    assert_eq!(statements.len(), 3);
    assert_eq!(values(&statements[2]), (20..25).map(Value::I32).collect::<Vec<_>>());
    assert!(statements[2].sql.ends_with(r#""id" IN (?1, ?2, ?3, ?4, ?5)"#));
}

#[test]
fn empty_batches_and_updates_with_nothing_to_set_render_nothing() {
    let (id, title) = (column("id", ColumnType::I32), column("title", ColumnType::Text));
    let (pg, lite) = (PgDialect::new(), SqliteDialect::new());
    for d in [&pg as &dyn Dialect, &lite] {
        assert!(d.insert(insert(&[&title], vec![], &[])).is_empty());
        assert!(d.update(update(&id, &[&title], None, vec![])).is_empty());
        assert!(d.delete(DeleteBatch { table: POST, pk: &id, keys: vec![] }).is_empty());
        let nothing_to_set = update(&id, &[], None, vec![row(Value::I32(1), vec![], None)]);
        assert!(d.update(nothing_to_set).is_empty());
    }
}

/// The one statement `d` renders for an UPDATE of `post` keyed by an `int4` id that sets the
/// two columns `set` of rows 1 and 2 to `values`.
fn two_row_update(
    d: &dyn Dialect,
    set: [(&'static str, ColumnType); 2],
    values: [[Value; 2]; 2],
) -> Statement {
    let id = column("id", ColumnType::I32);
    let set = set.map(|(name, ty)| column(name, ty));
    let rows = values
        .into_iter()
        .zip(1..)
        .map(|(values, key)| row(Value::I32(key), values.to_vec(), None))
        .collect();
    let mut statements = d.update(update(&id, &[&set[0], &set[1]], None, rows));
    assert_eq!(statements.len(), 1);
    statements.remove(0)
}

#[test]
fn an_update_sets_only_the_given_columns_from_a_row_set() {
    let pg = two_row_update(
        &PgDialect::new(),
        [("title", ColumnType::Varchar(255)), ("content", ColumnType::Text)],
        [[text("t1"), text("c1")], [text("t2"), Value::Null]],
    );
    assert_eq!(
        pg.sql,
        r#"UPDATE "post" AS t0 SET "title" = u."title", "content" = u."content" FROM UNNEST($1::int4[], $2::text[], $3::text[]) AS u("id", "title", "content") WHERE t0."id" = u."id""#
    );
    assert_eq!(
        pg.params,
        vec![
            Param::Array(ColumnType::I32, vec![Value::I32(1), Value::I32(2)]),
            Param::Array(ColumnType::Varchar(255), vec![text("t1"), text("t2")]),
            Param::Array(ColumnType::Text, vec![text("c1"), Value::Null]),
        ]
    );
    assert_eq!(pg.kind, StatementKind::Update);

    // SQLite joins a VALUES list, whose columns it numbers itself, on the key.
    let lite = two_row_update(
        &SqliteDialect::new(),
        [("title", ColumnType::Text), ("body", ColumnType::Text)],
        [[text("a"), text("b")], [text("c"), Value::Null]],
    );
    assert_eq!(
        lite.sql,
        r#"UPDATE "post" AS t0 SET "title" = u.column2, "body" = u.column3 FROM (VALUES (?1, ?2, ?3), (?4, ?5, ?6)) AS u WHERE t0."id" = u.column1"#
    );
    assert_eq!(
        values(&lite),
        vec![Value::I32(1), text("a"), text("b"), Value::I32(2), text("c"), Value::Null]
    );
    assert!(pg.returns.is_empty() && lite.returns.is_empty());
}

#[test]
fn a_versioned_update_checks_and_bumps_the_version_and_returns_the_keys() {
    let (uuid_id, title, version) = (
        column("id", ColumnType::Uuid),
        column("title", ColumnType::Text),
        column("version", ColumnType::I32),
    );
    let key = Value::Uuid(uuid::Uuid::nil());
    let batch = UpdateBatch {
        table: TableName { schema: Some("blog"), name: "post" },
        ..update(&uuid_id, &[&title], Some(&version), vec![row(key, vec![text("t")], Some(3))])
    };
    let s = &PgDialect::new().update(batch)[0];
    assert_eq!(
        s.sql,
        r#"UPDATE "blog"."post" AS t0 SET "title" = u."title", "version" = t0."version" + 1 FROM UNNEST($1::uuid[], $2::text[], $3::int4[]) AS u("id", "title", "__strata_version") WHERE t0."id" = u."id" AND t0."version" = u."__strata_version" RETURNING t0."id""#
    );
    assert_eq!(s.params[2], Param::Array(ColumnType::I32, vec![Value::I32(3)]));
    assert_eq!(s.returns, vec![ColumnType::Uuid]);

    let id = column("id", ColumnType::I64);
    let batch =
        update(&id, &[&title], Some(&version), vec![row(Value::I64(7), vec![text("a")], Some(3))]);
    let s = &SqliteDialect::new().update(batch)[0];
    assert_eq!(
        s.sql,
        r#"UPDATE "post" AS t0 SET "title" = u.column2, "version" = t0."version" + 1 FROM (VALUES (?1, ?2, ?3)) AS u WHERE t0."id" = u.column1 AND t0."version" = u.column3 RETURNING "id""#
    );
    assert_eq!(values(s), vec![Value::I64(7), text("a"), Value::I32(3)]);
    assert_eq!(s.returns, vec![ColumnType::I64]);
}

#[test]
fn a_versioned_update_without_changed_columns_still_bumps_the_version() {
    let (id, version) = (column("id", ColumnType::I64), column("version", ColumnType::I32));
    let batch = update(&id, &[], Some(&version), vec![row(Value::I64(1), vec![], None)]);
    let s = &PgDialect::new().update(batch)[0];
    assert_eq!(
        s.sql,
        r#"UPDATE "post" AS t0 SET "version" = t0."version" + 1 FROM UNNEST($1::int8[], $2::int4[]) AS u("id", "__strata_version") WHERE t0."id" = u."id" AND t0."version" = u."__strata_version" RETURNING t0."id""#
    );
    assert_eq!(s.params[1], Param::Array(ColumnType::I32, vec![Value::Null]));
}

#[test]
fn a_delete_binds_its_keys_as_one_array_on_postgres() {
    let id = column("id", ColumnType::I32);
    let batch = DeleteBatch { table: POST, pk: &id, keys: vec![Value::I32(4), Value::I32(5)] };
    let s = &PgDialect::new().delete(batch)[0];
    assert_eq!(s.sql, r#"DELETE FROM "post" WHERE "id" = ANY($1::int4[])"#);
    assert_eq!(s.params, vec![Param::Array(ColumnType::I32, vec![Value::I32(4), Value::I32(5)])]);
    assert_eq!(s.kind, StatementKind::Delete);
}

#[test]
fn identifiers_with_quotes_are_escaped_and_schemas_qualified() {
    let id = column("i\"d", ColumnType::I32);
    let title = column("ti\"tle", ColumnType::Text);
    let table = TableName { schema: Some("my\"schema"), name: "po\"st" };
    let d = PgDialect::new();
    let batch = InsertBatch { table, ..insert(&[&title], vec![vec![text("x")]], &[&id]) };
    assert_eq!(
        d.insert(batch)[0].sql,
        r#"INSERT INTO "my""schema"."po""st" ("ti""tle") SELECT * FROM UNNEST($1::text[]) RETURNING "i""d""#
    );
    let rows = vec![row(Value::I32(1), vec![text("x")], None)];
    let batch = UpdateBatch { table, ..update(&id, &[&title], None, rows) };
    assert_eq!(
        d.update(batch)[0].sql,
        r#"UPDATE "my""schema"."po""st" AS t0 SET "ti""tle" = u."ti""tle" FROM UNNEST($1::int4[], $2::text[]) AS u("i""d", "ti""tle") WHERE t0."i""d" = u."i""d""#
    );
    let delete = DeleteBatch { table, pk: &id, keys: vec![Value::I32(1)] };
    assert_eq!(
        d.delete(delete)[0].sql,
        r#"DELETE FROM "my""schema"."po""st" WHERE "i""d" = ANY($1::int4[])"#
    );

    let title = column("title", ColumnType::Text);
    let table = TableName { schema: Some("blog"), name: "post" };
    let batch = InsertBatch { table, ..insert(&[&title], vec![vec![text("a")]], &[]) };
    let s = &SqliteDialect::new().insert(batch)[0];
    assert_eq!(s.sql, r#"INSERT INTO "blog"."post" ("title") VALUES (?1)"#);
}

#[test]
fn each_dialect_has_its_placeholders_and_limits() {
    let mut out = String::new();
    PgDialect::new().placeholder(12, &mut out);
    assert_eq!(out, "$12");
    assert!(PgDialect::new().has_ilike());
    assert_eq!(PgDialect::new().batch_rows(3), DEFAULT_BATCH_ROWS);
    assert_eq!(PgDialect::new().with_batch_rows(0).batch_rows(3), 1);

    assert_eq!(SqliteDialect::new().batch_rows(3), 10_922);
    assert_eq!(SqliteDialect::new().batch_rows(1), MAX_PARAMS);
}

#[test]
fn sqlite_declares_types_that_keep_values_as_bound() {
    for ty in [ColumnType::Uuid, ColumnType::TimestampTz, ColumnType::Date, ColumnType::Json] {
        assert_eq!(declared_type(ty), "TEXT", "{ty:?}");
    }
    assert_eq!(declared_type(ColumnType::Bool), "INTEGER");
    assert_eq!(declared_type(ColumnType::F32), "REAL");
    assert_eq!(declared_type(ColumnType::Bytes), "BLOB");
}
