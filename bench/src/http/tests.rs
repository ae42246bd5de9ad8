//! Tests of the options, and tests with servers: the posts API and the blog API of this
//! repository's newest build (run `cargo build -p posts-api -p blog-api` in the repository
//! first) and the hand-written server, on databases of their own.

use super::server::{Server, free_port, send};
use super::*;
use std::net::{Ipv4Addr, SocketAddr};

/// A service's binary of this repository's newest build, release or debug.
fn built(package: &str) -> PathBuf {
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    ["release", "debug"]
        .iter()
        .map(|profile| target.join(profile).join(package))
        .filter_map(|p| Some((p.metadata().ok()?.modified().ok()?, p)))
        .max()
        .map(|(_, p)| p)
        .unwrap_or_else(|| panic!("a built {package}: run `cargo build -p {package}` first"))
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

#[test]
fn the_blog_route_and_its_implementations_are_chosen_by_name() {
    let chosen = parse_list(&strings(&["blog_get_all"]), &HttpScenario::ALL, HttpScenario::name);
    assert_eq!(chosen.unwrap(), [HttpScenario::BlogGetAll]);
    let all = parse_list(&[], &HttpScenario::ALL, HttpScenario::name).unwrap();
    assert_eq!(all.len(), 5, "all routes when none is given");
    let impls = parse_list(&strings(&["nestjs-blog", "posts-api", "blog-api"]), &IMPLS, |i| i);
    assert_eq!(impls.unwrap(), ["posts-api", "blog-api", "nestjs-blog"], "in the tables' order");
    let bad = parse_list(&strings(&["blog"]), &HttpScenario::ALL, HttpScenario::name);
    let message = bad.unwrap_err().to_string();
    assert!(message.contains("\"blog\"") && message.contains("blog_get_all"), "{message}");
}

#[test]
fn each_route_is_served_by_its_own_service() {
    let blog = HttpScenario::BlogGetAll;
    assert_eq!(blog.service(), Service::Blog);
    assert!(blog.served_by("blog-api") && blog.served_by("nestjs-blog"));
    for other in ["posts-api", "handwritten", "nestjs", "pgbench"] {
        assert!(!blog.served_by(other), "{other} does not serve the blog's route");
        assert!(HttpScenario::GetAll.served_by(other), "{other} serves the posts' routes");
    }
    assert!(!HttpScenario::GetAll.served_by("blog-api"));
    assert_eq!(pgbench::script(blog), None, "no ceiling for the blog's route");
}

/// Runs `test` with a fresh benchmark database (with its hand-made table, as after the ORM
/// benchmark), a control connection to it and the posts API started on it; cleans up after.
async fn with_posts_api<F, Fut>(test: F)
where
    F: FnOnce(String, tokio_postgres::Client, SocketAddr) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let server_url = std::env::var("STRATA_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let db = crate::db::BenchDb::create(&server_url).await.unwrap();
    // A directory per test: tests run side by side in one process.
    let workdir = std::env::temp_dir().join(format!("strata_bench_test_{}", db.name()));
    tokio::fs::create_dir_all(&workdir).await.unwrap();
    let control = crate::db::connect(db.url()).await.unwrap();
    let started = tokio::time::timeout(
        Duration::from_secs(90),
        peers::start_posts_api(&control, &built("posts-api"), db.url(), &workdir, 4, true),
    )
    .await
    .expect("the server starts within 90 s");
    let outcome = match started {
        Ok(server) => {
            let addr = server.addr;
            let outcome = test(db.url().to_owned(), control, addr).await;
            Server::stop(server).await;
            outcome
        }
        Err(e) => Err(e),
    };
    let _ = tokio::fs::remove_dir_all(&workdir).await;
    db.drop_db().await.unwrap();
    outcome.unwrap();
}

/// The benchmark's database is one the posts API starts healthy on, and the routes serve the
/// seeded posts.
#[tokio::test]
async fn the_posts_api_answers_health_with_200_on_the_benchmark_database() {
    with_posts_api(|_, control, addr| async move {
        reset(&control).await?;
        let answer = send(addr, Method::GET, "/posts/1", None).await?;
        assert_eq!(
            (answer.status, String::from_utf8_lossy(&answer.body).as_ref()),
            (200, r#"{"id":1,"title":"title 1","content":"content 1"}"#)
        );
        Ok(())
    })
    .await;
}

/// The hand-written server answers every benchmarked request as the posts API does (the
/// check the benchmark runs before timing), and a few it does not benchmark.
#[tokio::test]
async fn the_handwritten_server_answers_like_the_posts_api() {
    with_posts_api(|url, control, api| async move {
        let port = free_port()?;
        let serving = tokio::spawn(async move { handwritten::serve(&url, port, 4).await });
        let hand = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while send(hand, Method::GET, "/posts", None).await.is_err() {
            assert!(std::time::Instant::now() < deadline, "the hand-written server starts");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let servers = [("posts-api", api), ("handwritten", hand)];
        let posts: Vec<HttpScenario> =
            HttpScenario::ALL.into_iter().filter(|s| s.service() == Service::Posts).collect();
        let outcome = check::compare(&servers, &posts, || reset(&control)).await;
        // Answers the benchmark does not time, compared the same way.
        let mut others = Vec::new();
        for (method, path, body) in [
            (Method::DELETE, "/posts/2", None),
            (Method::DELETE, "/posts/999", None),
            (Method::PATCH, "/posts/999", Some(r#"{"title":"x"}"#)),
            (Method::POST, "/posts", Some(r#"{"title":""}"#)),
            (Method::GET, "/posts/abc", None),
        ] {
            reset(&control).await?;
            let a = send(api, method.clone(), path, body.map(str::to_owned)).await?;
            reset(&control).await?;
            let h = send(hand, method.clone(), path, body.map(str::to_owned)).await?;
            others.push((format!("{method} {path}"), a.status, h.status, a.body, h.body));
        }
        serving.abort();
        outcome?;
        for (request, api_status, hand_status, api_body, hand_body) in others {
            assert_eq!(
                (hand_status, hand_body),
                (api_status, api_body),
                "{request}: the hand-written answer differs"
            );
        }
        Ok(())
    })
    .await;
}

/// The blog API migrates a database beside the benchmark's, the seed fills it, and
/// `GET /posts` answers the 100 posts with their authors, addresses and categories, as the
/// benchmark's check expects of every peer.
#[tokio::test]
async fn the_blog_api_answers_the_seeded_posts_populated() {
    let server_url = std::env::var("STRATA_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let db = crate::db::BenchDb::create(&server_url).await.unwrap();
    let blog_db = crate::db::BenchDb::create_beside(db.url(), "blog").await.unwrap();
    let blog_name = blog_db.name().to_owned();
    assert_eq!(blog_name, format!("{}_blog", db.name()));
    let workdir = std::env::temp_dir().join(format!("strata_bench_test_{blog_name}"));
    tokio::fs::create_dir_all(&workdir).await.unwrap();
    let outcome = async {
        let binary = built("blog-api");
        let started = peers::start_blog_api(&binary, blog_db.url(), &workdir, 4, true);
        let server = tokio::time::timeout(Duration::from_secs(90), started)
            .await
            .context("the blog API starts within 90 s")??;
        let control = crate::db::connect(blog_db.url()).await?;
        blog::reset(&control).await?;
        let answer = send(server.addr, Method::GET, "/posts", None).await;
        Server::stop(server).await;
        let answer = answer?;
        let posts: serde_json::Value = serde_json::from_slice(&answer.body)?;
        let posts = posts.as_array().context("an array of posts")?.clone();
        anyhow::ensure!(answer.status == 200 && posts.len() == blog::POSTS, "{answer:?}");
        let fifth = serde_json::json!({
            "id": 5, "title": "title 5", "content": "content 5",
            "author": {
                "id": 5, "email": "user5@example.com", "name": "User 5",
                "address": {"id": 5, "street": "5 Main Street", "city": "City 5", "country": "Country 5"}
            },
            "categories": [{"id": 1, "name": "Category 1"}, {"id": 5, "name": "Category 5"}]
        });
        assert_eq!(posts[4], fifth);
        Ok::<_, anyhow::Error>(())
    }
    .await;
    let _ = tokio::fs::remove_dir_all(&workdir).await;
    // Drops the blog's database with it.
    db.drop_db().await.unwrap();
    let admin = crate::db::connect(&server_url).await.unwrap();
    let left =
        admin.query("SELECT 1 FROM pg_database WHERE datname = $1", &[&blog_name]).await.unwrap();
    assert!(left.is_empty(), "{blog_name} is dropped with the benchmark database");
    outcome.unwrap();
}
