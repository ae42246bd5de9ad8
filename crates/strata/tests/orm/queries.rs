use crate::common::*;
use strata::prelude::*;

async fn seeded(b: Backend) -> (Db, Strata) {
    let (db, orm) = setup(b, &[ARTICLE_DDL]).await;
    let mut rows = Vec::new();
    for (i, slug) in ["alpha", "beta", "gamma", "delta", "epsilon"].iter().enumerate() {
        let mut a = article(slug);
        a.views = i32::try_from(i).unwrap() * 10;
        a.rating = if i % 2 == 0 { Some(i as f64) } else { None };
        a.status = if i < 2 { Status::Published } else { Status::Draft };
        rows.push(a);
    }
    orm.em().native_insert(rows).await.unwrap();
    (db, orm)
}

fn slugs(found: &[Managed<Article>]) -> Vec<String> {
    found.iter().map(|a| a.read().slug.clone()).collect()
}

async fn every_filter_operator_selects_the_right_rows(b: Backend) {
    let (_db, orm) = seeded(b).await;
    let f = Article::fields();
    let by_id = || FindOptions::new().order_by(f.id.asc());
    let cases: Vec<(&str, Filter<Article>, Vec<&str>)> = vec![
        ("eq", f.slug.eq("beta"), vec!["beta"]),
        ("ne", f.slug.ne("beta"), vec!["alpha", "gamma", "delta", "epsilon"]),
        ("gt", f.views.gt(20), vec!["delta", "epsilon"]),
        ("gte", f.views.gte(20), vec!["gamma", "delta", "epsilon"]),
        ("lt", f.views.lt(10), vec!["alpha"]),
        ("lte", f.views.lte(10), vec!["alpha", "beta"]),
        ("in", f.slug.in_(["alpha", "delta", "nope"]), vec!["alpha", "delta"]),
        ("empty in", f.slug.in_(Vec::<&str>::new()), vec![]),
        ("not in", f.slug.not_in(["alpha", "delta"]), vec!["beta", "gamma", "epsilon"]),
        ("like", f.slug.like("%ta"), vec!["beta", "delta"]),
        ("ilike", f.slug.ilike("%TA"), vec!["beta", "delta"]),
        ("is null", f.rating.is_null(), vec!["beta", "delta"]),
        ("is not null", f.rating.is_not_null(), vec!["alpha", "gamma", "epsilon"]),
        ("eq none", f.rating.eq(None::<f64>), vec!["beta", "delta"]),
        ("and", f.views.gt(0) & f.rating.is_not_null(), vec!["gamma", "epsilon"]),
        ("or", f.slug.eq("alpha") | f.views.gte(40), vec!["alpha", "epsilon"]),
        ("not", !f.status.eq(Status::Draft), vec!["alpha", "beta"]),
        ("enum eq", f.status.eq(Status::Published), vec!["alpha", "beta"]),
        ("all", Filter::all(), vec!["alpha", "beta", "gamma", "delta", "epsilon"]),
    ];
    for (name, filter, expected) in cases {
        let found = orm.em().find(filter, by_id()).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(slugs(&found), expected, "filter {name}");
    }
}

async fn order_limit_offset_count_and_find_and_count(b: Backend) {
    let (_db, orm) = seeded(b).await;
    let em = orm.em();
    let f = Article::fields();
    let page = em
        .find(Filter::all(), FindOptions::new().order_by(f.views.desc()).limit(2).offset(1))
        .await
        .unwrap();
    assert_eq!(slugs(&page), ["delta", "gamma"]);
    let skipped = em.find_all(FindOptions::new().order_by(f.id.asc()).offset(3)).await.unwrap();
    assert_eq!(slugs(&skipped), ["delta", "epsilon"]);
    assert_eq!(em.count(f.views.gt(15)).await.unwrap(), 3);
    let (items, total) = em
        .find_and_count(f.views.gt(15), FindOptions::new().order_by(f.id.asc()).limit(1))
        .await
        .unwrap();
    assert_eq!((slugs(&items), total), (vec!["gamma".to_owned()], 3));
    let first = em.find_one_by(f.status.eq(Status::Draft)).await.unwrap().unwrap();
    assert_eq!(first.read().status, Status::Draft);
    assert!(em.find_one_by(f.slug.eq("zzz")).await.unwrap().is_none());
    assert!(em.find_one_by_or_fail(f.slug.eq("zzz")).await.unwrap_err().is_not_found());
}

async fn filter_values_are_bound_never_executed(b: Backend) {
    let (db, orm) = setup(b, &[POST_DDL]).await;
    let em = orm.em();
    em.native_insert([PostEntity::new("a", "b")]).await.unwrap();
    let evil = "'; drop table post_entity; --";
    let f = PostEntity::fields();
    assert!(em.find(f.title.eq(evil), FindOptions::new()).await.unwrap().is_empty());
    assert!(em.find(f.title.like(evil), FindOptions::new()).await.unwrap().is_empty());
    assert_eq!(em.native_update(f.title.eq(evil), [f.content.set(evil)]).await.unwrap(), 0);
    em.create(PostEntity::new(evil, evil));
    em.flush().await.unwrap();
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM post_entity").await, 2, "the table survived");
    let stored = orm.em().find_one_by_or_fail(f.title.eq(evil)).await.unwrap();
    assert_eq!(stored.read().content, evil);
}

async fn native_operations_bypass_the_unit_of_work(b: Backend) {
    let (db, orm) = setup(b, &[POST_DDL]).await;
    let em = orm.em();
    let f = PostEntity::fields();
    assert_eq!(
        em.native_insert((0..3).map(|i| PostEntity::new(&format!("t{i}"), "c"))).await.unwrap(),
        3
    );
    assert_eq!(em.managed_count(), 0, "native inserts are not managed");
    let loaded = em.find_one_or_fail::<PostEntity>(1).await.unwrap();
    assert_eq!(em.native_update(f.id.lte(2), [f.content.set("native")]).await.unwrap(), 2);
    assert_eq!(loaded.read().content, "c", "managed instances are not touched by native updates");
    assert_eq!(em.native_delete(f.title.eq("t2")).await.unwrap(), 1);
    assert_eq!(
        scalar_i64(&db, "SELECT count(*) FROM post_entity WHERE content = 'native'").await,
        2
    );
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM post_entity").await, 2);
}

async fn like_is_case_sensitive_and_honours_backslash_escapes_on_every_database(b: Backend) {
    let (_db, orm) = setup(b, &[POST_DDL]).await;
    let em = orm.em();
    let titles =
        ["Hello", "hello", "HELLO there", "100%", "100 percent", "a_b", "axb", r"back\slash"];
    em.native_insert(titles.iter().map(|t| PostEntity::new(t, "x"))).await.unwrap();
    let f = PostEntity::fields();
    let cases: Vec<(&str, Filter<PostEntity>, Vec<&str>)> = vec![
        ("like is case-sensitive", f.title.like("h%"), vec!["hello"]),
        (
            "not like",
            f.title.not_like("%l%"),
            vec!["HELLO there", "100%", "100 percent", "a_b", "axb"],
        ),
        ("ilike folds case", f.title.ilike("h%"), vec!["Hello", "hello", "HELLO there"]),
        ("an escaped %", f.title.like(r"100\%"), vec!["100%"]),
        ("an escaped _", f.title.like(r"a\_b"), vec!["a_b"]),
        ("an unescaped _", f.title.like("a_b"), vec!["a_b", "axb"]),
        ("an escaped backslash", f.title.like(r"back\\%"), vec![r"back\slash"]),
        ("ilike with an escape", f.title.ilike(r"A\_%"), vec!["a_b"]),
    ];
    for (name, filter, expected) in cases {
        let found = em.find(filter, FindOptions::new().order_by(f.id.asc())).await.unwrap();
        let got: Vec<String> = found.iter().map(|p| p.read().title.clone()).collect();
        assert_eq!(got, expected, "{name}");
    }
}

conformance!(
    like_is_case_sensitive_and_honours_backslash_escapes_on_every_database,
    every_filter_operator_selects_the_right_rows,
    order_limit_offset_count_and_find_and_count,
    filter_values_are_bound_never_executed,
    native_operations_bypass_the_unit_of_work,
);
