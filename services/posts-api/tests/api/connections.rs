//! The server's bounds on its clients, driven with raw sockets against the real server: a
//! connection that sends nothing, headers sent too slowly, an idle keep-alive connection, a
//! client that never reads its response, and a graceful shutdown with a client that never
//! finishes its headers.
//!
//! How connections are handled does not depend on the database, so these tests run on SQLite
//! only; it also stores a response of several megabytes cheaply (it does not enforce
//! `varchar(255)`). Graceful shutdown on both databases is in `database.rs`.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use posts_api::{AppState, ServerSettings};
use reqwest::Method;
use serde_json::json;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::helpers::{Backend, client, send, serve_in_background, spawn_app, spawn_app_serving};

/// Settings with one timeout short and the others far beyond any test.
fn settings(adjust: impl FnOnce(&mut ServerSettings)) -> ServerSettings {
    let long = Duration::from_secs(600);
    let mut settings =
        ServerSettings { header_read_timeout: long, write_timeout: long, shutdown_timeout: long };
    adjust(&mut settings);
    settings
}

/// Reads until the server closes the connection (end of stream or reset) and returns what it
/// sent; panics if it is still open after `limit`.
async fn read_until_closed(stream: &mut (impl AsyncRead + Unpin), limit: Duration) -> Vec<u8> {
    let mut received = Vec::new();
    let read = tokio::time::timeout(limit, async {
        let mut buf = vec![0; 64 * 1024];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) => return,
                Ok(n) => received.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::ConnectionReset => return,
                Err(e) => panic!("reading from the server: {e}"),
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "the server still holds the connection after {limit:?} ({} bytes received)",
        received.len()
    );
    received
}

/// Reads one response of known length (`Content-Length`) and returns its head and body.
async fn read_response(stream: &mut TcpStream) -> (String, Vec<u8>) {
    let mut data = Vec::new();
    let mut buf = [0; 4096];
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8(data[..end].to_vec()).expect("a UTF-8 head");
                let length = content_length(&head).expect("a Content-Length");
                if data.len() >= end + 4 + length {
                    return (head, data[end + 4..end + 4 + length].to_vec());
                }
            }
            let n = stream.read(&mut buf).await.expect("the response can be read");
            assert!(
                n > 0,
                "the connection closed mid-response: {:?}",
                String::from_utf8_lossy(&data)
            );
            data.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    read.expect("a whole response within 10 s")
}

fn content_length(head: &str) -> Option<usize> {
    head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("content-length").then(|| value.trim().parse().ok())?
    })
}

fn assert_between(waited: Duration, at_least: Duration, below: Duration, what: &str) {
    assert!(waited >= at_least && waited < below, "{what} after {waited:?}");
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_after_the_header_read_timeout() {
    let timeout = Duration::from_millis(500);
    let app =
        spawn_app_serving(Backend::Sqlite, |s| s, settings(|s| s.header_read_timeout = timeout))
            .await;
    let started = Instant::now();
    let mut stream = TcpStream::connect(app.socket_addr()).await.expect("a connection");
    let received = read_until_closed(&mut stream, Duration::from_secs(10)).await;
    assert_between(started.elapsed(), timeout, timeout * 6, "closed");
    assert!(received.is_empty(), "no answer: {:?}", String::from_utf8_lossy(&received));
}

#[tokio::test]
async fn a_client_that_sends_its_headers_too_slowly_is_disconnected() {
    let timeout = Duration::from_millis(500);
    let app =
        spawn_app_serving(Backend::Sqlite, |s| s, settings(|s| s.header_read_timeout = timeout))
            .await;
    let stream = TcpStream::connect(app.socket_addr()).await.expect("a connection");
    let (mut reader, mut writer) = stream.into_split();
    let started = Instant::now();
    // A byte every 50 ms: the server keeps hearing from the client, but never a whole head.
    let trickle = tokio::spawn(async move {
        writer.write_all(b"GET /posts HTTP/1.1\r\nHost: localhost\r\nX-Slow: ").await?;
        for _ in 0..200 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            writer.write_all(b"a").await?;
        }
        Ok::<_, std::io::Error>(())
    });
    let received = read_until_closed(&mut reader, Duration::from_secs(5)).await;
    assert_between(started.elapsed(), timeout, timeout * 6, "disconnected");
    assert!(received.is_empty(), "no answer: {:?}", String::from_utf8_lossy(&received));
    trickle.abort();
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_header_read_timeout() {
    let timeout = Duration::from_millis(1500);
    let app =
        spawn_app_serving(Backend::Sqlite, |s| s, settings(|s| s.header_read_timeout = timeout))
            .await;
    let mut stream = TcpStream::connect(app.socket_addr()).await.expect("a connection");
    let request = b"GET /posts HTTP/1.1\r\nHost: localhost\r\n\r\n";
    stream.write_all(request).await.expect("the request is sent");
    let (head, body) = read_response(&mut stream).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(body, b"[]");

    // Kept alive: a second request within the timeout is served on the same connection, and
    // the timer starts again after its response.
    tokio::time::sleep(timeout / 5).await;
    stream.write_all(request).await.expect("the second request is sent");
    let (head, _) = read_response(&mut stream).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let idle_since = Instant::now();
    let received = read_until_closed(&mut stream, Duration::from_secs(10)).await;
    assert_between(idle_since.elapsed(), timeout, timeout * 6, "the idle connection closed");
    assert!(received.is_empty(), "{:?}", String::from_utf8_lossy(&received));
}

#[tokio::test]
async fn a_client_that_never_reads_its_response_is_disconnected() {
    let timeout = Duration::from_millis(500);
    let app =
        spawn_app_serving(Backend::Sqlite, |s| s, settings(|s| s.write_timeout = timeout)).await;
    // Ten posts of 1 MB: a response far larger than what the kernel buffers of both ends hold.
    let insert =
        r#"INSERT INTO "post_entity" ("title", "content") VALUES ('big', hex(zeroblob(500000)));"#;
    app.sql(&insert.repeat(10)).await;

    let socket = TcpSocket::new_v4().expect("a socket");
    // A small receive window, which the kernel would otherwise grow to many megabytes.
    socket.set_recv_buffer_size(16 * 1024).expect("a receive buffer size");
    let mut stream = socket.connect(app.socket_addr()).await.expect("a connection");
    stream.write_all(b"GET /posts HTTP/1.1\r\nHost: localhost\r\n\r\n").await.expect("sent");
    // The first bytes show that the response is being written; from then on, read nothing for
    // four times the timeout.
    let mut received = vec![0; 1024];
    let first = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut received)).await;
    received.truncate(first.expect("the response starts within 10 s").expect("readable"));
    tokio::time::sleep(timeout * 4).await;

    received.extend(read_until_closed(&mut stream, Duration::from_secs(10)).await);
    let end = received.windows(4).position(|w| w == b"\r\n\r\n").expect("the response's head");
    let head = String::from_utf8_lossy(&received[..end]).into_owned();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let length = content_length(&head).expect("a Content-Length");
    assert!(length > 10_000_000, "the response is large: {length} bytes");
    let body = received.len() - end - 4;
    assert!(body < length, "the server gave up on the response ({body} of {length} bytes sent)");

    // The server itself carries on.
    assert_eq!(app.get("/health").await.status, 200);
}

/// The partial request a client that never finishes its headers sends.
const UNFINISHED_HEAD: &[u8] = b"GET /posts HTTP/1.1\r\nHost: localhost\r\n";

#[tokio::test]
async fn shutdown_does_not_hang_behind_a_client_that_never_finishes_its_headers() {
    let base = spawn_app(Backend::Sqlite).await;
    let shutdown_timeout = Duration::from_secs(2);
    let settings = settings(|s| s.shutdown_timeout = shutdown_timeout);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (address, server) = serve_in_background(AppState::new(base.orm.clone()), settings, async {
        let _ = stopped.await;
    })
    .await;
    let addr: SocketAddr = crate::helpers::socket_addr(&address);

    let mut unfinished = TcpStream::connect(addr).await.expect("a connection");
    unfinished.write_all(UNFINISHED_HEAD).await.expect("part of a request is sent");
    let lock = base.lock_posts_table().await;
    let in_flight = tokio::spawn(send(
        client()
            .request(Method::POST, format!("{address}/posts"))
            .json(&json!({"title": "in", "content": "flight"})),
    ));
    tokio::time::sleep(Duration::from_millis(300)).await;

    stop.send(()).expect("the server listens for its shutdown");
    let stopping = Instant::now();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!in_flight.is_finished(), "the request waits for the lock");
    lock.release().await;
    let answer = in_flight.await.expect("the request task");
    assert_eq!(answer.status, 201, "the request in flight finished: {}", answer.text);

    let served = tokio::time::timeout(shutdown_timeout + Duration::from_secs(5), server).await;
    let served = served.expect("the server stopped within its shutdown timeout");
    served.expect("the server task").expect("the server ended without an error");
    assert_between(stopping.elapsed(), Duration::ZERO, shutdown_timeout * 2, "shut down");
    let received = read_until_closed(&mut unfinished, Duration::from_secs(1)).await;
    assert!(received.is_empty(), "{:?}", String::from_utf8_lossy(&received));
    assert!(TcpStream::connect(addr).await.is_err(), "the listener is closed");
}
