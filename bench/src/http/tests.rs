//! Tests with servers: the posts API of this repository's newest build (run `cargo build -p
//! posts-api` in the repository first) and the hand-written server, on a database of their own.

use super::server::{Server, free_port, send};
use super::*;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;

/// The posts API binary of this repository's newest build, release or debug.
fn built_posts_api() -> PathBuf {
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    ["release", "debug"]
        .iter()
        .map(|profile| target.join(profile).join("posts-api"))
        .filter_map(|p| Some((p.metadata().ok()?.modified().ok()?, p)))
        .max()
        .map(|(_, p)| p)
        .expect("a built posts API: run `cargo build -p posts-api` in the repository first")
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
        peers::start_posts_api(&control, &built_posts_api(), db.url(), &workdir, 4, true),
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
        let outcome = check::compare(&servers, &HttpScenario::ALL, || reset(&control)).await;
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
