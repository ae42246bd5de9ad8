//! New rows that refer to each other: a cycle breaks at a nullable foreign key (inserted NULL,
//! then set by one UPDATE); a cycle of NOT NULL foreign keys is an error naming the entities.

use crate::common::*;
use strata::driver::StatementKind;
use strata::prelude::*;

#[derive(Entity, Debug, Clone)]
#[strata(table = "person")]
struct Person {
    #[strata(primary_key)]
    id: i32,
    name: String,
    #[strata(one_to_one)]
    card: Option<Reference<Card>>,
}

#[derive(Entity, Debug, Clone)]
#[strata(table = "card")]
struct Card {
    #[strata(primary_key)]
    id: i32,
    #[strata(many_to_one)]
    holder: Reference<Person>,
}

#[derive(Entity, Debug, Clone)]
#[strata(table = "hen")]
struct Hen {
    #[strata(primary_key)]
    id: i32,
    #[strata(many_to_one)]
    egg: Reference<Egg>,
}

#[derive(Entity, Debug, Clone)]
#[strata(table = "egg")]
struct Egg {
    #[strata(primary_key)]
    id: i32,
    #[strata(many_to_one)]
    hen: Reference<Hen>,
}

const CYCLE_DDL: Ddl = Ddl {
    postgres: r#"
    CREATE TABLE "person" ("id" serial PRIMARY KEY, "name" varchar(255) NOT NULL,
        "card_id" integer NULL UNIQUE);
    CREATE TABLE "card" ("id" serial PRIMARY KEY,
        "holder_id" integer NOT NULL REFERENCES "person" ("id"));
    ALTER TABLE "person" ADD FOREIGN KEY ("card_id") REFERENCES "card" ("id");
    CREATE TABLE "hen" ("id" serial PRIMARY KEY, "egg_id" integer NOT NULL);
    CREATE TABLE "egg" ("id" serial PRIMARY KEY, "hen_id" integer NOT NULL);"#,
    sqlite: r#"
    CREATE TABLE "person" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "name" varchar(255) NOT NULL,
        "card_id" INTEGER NULL UNIQUE REFERENCES "card" ("id"));
    CREATE TABLE "card" ("id" INTEGER PRIMARY KEY AUTOINCREMENT,
        "holder_id" INTEGER NOT NULL REFERENCES "person" ("id"));
    CREATE TABLE "hen" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "egg_id" INTEGER NOT NULL);
    CREATE TABLE "egg" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "hen_id" INTEGER NOT NULL);"#,
};

async fn a_nullable_cycle_of_new_rows_is_inserted_with_null_then_updated(b: Backend) {
    let (db, orm) = setup(b, &[CYCLE_DDL]).await;
    let em = orm.em();
    let person = Managed::new(Person { id: 0, name: "p".into(), card: None });
    let card = em.create(Card { id: 0, holder: Reference::to(&person) });
    person.update(|p| p.card = Some(Reference::to(&card)));
    em.persist(&person).unwrap();
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    let log = orm.query_log().take();
    let kinds: Vec<_> = data_statements(&log).iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        [StatementKind::Insert, StatementKind::Insert, StatementKind::Update],
        "{log:#?}"
    );
    let (p, c) = (person.read().id, card.read().id);
    assert_eq!(scalar_i64(&db, "SELECT card_id FROM person").await, i64::from(c));
    assert_eq!(scalar_i64(&db, "SELECT holder_id FROM card").await, i64::from(p));
    assert_eq!(person.read().card.as_ref().and_then(Reference::key), Some(c));
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    assert!(orm.query_log().take().is_empty(), "both rows are as the entities say");
}

async fn a_cycle_without_a_nullable_edge_is_an_error_naming_the_entities(b: Backend) {
    let (db, orm) = setup(b, &[CYCLE_DDL]).await;
    let em = orm.em();
    let hen = Managed::new(Hen { id: 0, egg: Reference::from_key(0) });
    let egg = em.create(Egg { id: 0, hen: Reference::to(&hen) });
    hen.update(|h| h.egg = Reference::to(&egg));
    em.persist(&hen).unwrap();
    let err = em.flush().await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Usage);
    assert!(
        err.message().contains("Egg, Hen") && err.message().contains("cycle"),
        "{}",
        err.message()
    );
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM hen").await, 0, "nothing was sent");
}

conformance!(
    a_nullable_cycle_of_new_rows_is_inserted_with_null_then_updated,
    a_cycle_without_a_nullable_edge_is_an_error_naming_the_entities,
);
