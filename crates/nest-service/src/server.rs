//! [`serve`]: the accept loop, one hyper HTTP/1 connection per client, and graceful shutdown,
//! with every wait on a client bounded by [`ServerSettings`].
//!
//! `axum::serve` is not used: it has no timeout options, and it gives hyper no timer, which
//! silently turns hyper's header timeout off. A client could then hold a connection, and a
//! graceful shutdown waiting for it, forever. Here:
//!
//! - **Headers** ([`ServerSettings::header_read_timeout`]): hyper's header timeout runs from the
//!   moment a connection waits for a request (just accepted, or kept alive after a response) to
//!   the end of that request's headers; bytes arriving in between do not restart it. So it
//!   bounds a connection that sends nothing, a client that sends its headers slowly, and an idle
//!   keep-alive connection (hyper 1.x restarts the timer after every response). It closes the
//!   connection without an answer. The body is read by the handler, so the request timeout
//!   (408, see `http::request_timeout`) bounds a body that never ends.
//! - **Writes** ([`ServerSettings::write_timeout`]): a response write that makes no progress
//!   for this long fails and closes the connection ([`WriteTimeout`] wraps the socket).
//! - **Shutdown** ([`ServerSettings::shutdown_timeout`]): when `shutdown` completes, the
//!   listener closes, idle connections close, requests in flight finish, and whatever is still
//!   open after this long (a client that never finishes its headers, a response nobody reads
//!   fast enough) is closed.
//!
//! Only HTTP/1.1 (and 1.0) is served, as by the NestJS original and by axum with its default
//! features. hyper-util's protocol-detecting builder is avoided on purpose: its first read,
//! which looks for the HTTP/2 preface, has no timeout.

use std::future::Future;
use std::io;
use std::pin::pin;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt;

use super::write_timeout::WriteTimeout;

/// How long [`serve`] waits on its clients; each field says what it bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerSettings {
    /// The longest a connection may take to deliver a request's headers, counted from when the
    /// server starts waiting for them: after accepting it, or after the previous response on a
    /// kept-alive connection. `HEADER_READ_TIMEOUT_SECS`.
    pub header_read_timeout: Duration,
    /// The longest a response write may make no progress (the client reads nothing).
    /// `WRITE_TIMEOUT_SECS`.
    pub write_timeout: Duration,
    /// The longest a graceful shutdown waits for open connections before closing them.
    /// `SHUTDOWN_TIMEOUT_SECS`.
    pub shutdown_timeout: Duration,
}

impl ServerSettings {
    /// The default of [`ServerSettings::header_read_timeout`]: 30 s, hyper's own default.
    pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
    /// The default of [`ServerSettings::write_timeout`]: 30 s.
    pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(30);
    /// The default of [`ServerSettings::shutdown_timeout`]: 10 s, well within the 30 s that
    /// orchestrators such as Kubernetes allow before they kill the process.
    pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            header_read_timeout: Self::DEFAULT_HEADER_READ_TIMEOUT,
            write_timeout: Self::DEFAULT_WRITE_TIMEOUT,
            shutdown_timeout: Self::DEFAULT_SHUTDOWN_TIMEOUT,
        }
    }
}

/// How long accepting pauses after an error that is not about one connection (too many open
/// files, say): retrying at once would spin.
const ACCEPT_PAUSE: Duration = Duration::from_secs(1);

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting, lets requests
/// in flight finish and returns once every connection is closed, or after
/// [`ServerSettings::shutdown_timeout`], closing what is left.
///
/// Connections speak HTTP/1.1 (and 1.0) with keep-alive. One that takes longer than
/// [`ServerSettings::header_read_timeout`] to deliver a request's headers (sending nothing,
/// sending slowly, or idle between requests) is closed, and so is one whose response makes no
/// progress for [`ServerSettings::write_timeout`] because its client does not read.
///
/// # Errors
///
/// None so far: a failed `accept` is logged and retried, as it is usually about one client or
/// a passing shortage of file descriptors. The `Result` keeps room for a listener that fails
/// for good.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    settings: ServerSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(settings.header_read_timeout);
    let (stop, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = pin!(shutdown);
    'accept: loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let connection =
                        serve_connection(stream, app.clone(), http.clone(), settings, stopping.clone());
                    connections.spawn(connection);
                }
                Err(e) if is_about_one_connection(&e) => {
                    tracing::debug!(error = %e, "a connection failed before it was accepted");
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot accept connections; retrying in 1 s");
                    tokio::select! {
                        () = &mut shutdown => break 'accept,
                        () = tokio::time::sleep(ACCEPT_PAUSE) => {}
                    }
                }
            },
            // Finished connections are collected as they end, so that the set stays small.
            Some(ended) = connections.join_next(), if !connections.is_empty() => log_panic(ended),
        }
    }
    drop(listener);
    // Every connection task sees this and shuts its connection down gracefully.
    let _ = stop.send(true);
    let drained = tokio::time::timeout(settings.shutdown_timeout, async {
        while let Some(ended) = connections.join_next().await {
            log_panic(ended);
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            connections = connections.len(),
            timeout_ms = settings.shutdown_timeout.as_millis() as u64,
            "closing the connections still open at the shutdown timeout"
        );
        connections.shutdown().await;
    }
    Ok(())
}

/// Runs one connection until it ends; once `stopping` turns true, lets its request in flight
/// finish and closes it (an idle connection at once).
async fn serve_connection(
    stream: TcpStream,
    app: Router,
    http: http1::Builder,
    settings: ServerSettings,
    mut stopping: watch::Receiver<bool>,
) {
    let io = TokioIo::new(WriteTimeout::new(stream, settings.write_timeout));
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        app.clone().oneshot(request.map(Body::new))
    });
    let mut connection = pin!(http.serve_connection(io, service));
    // A closed channel (the server's future was dropped) means stopping too.
    let stop = async move { drop(stopping.wait_for(|stop| *stop).await) };
    let ended = tokio::select! {
        ended = connection.as_mut() => ended,
        () = stop => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(e) = ended {
        // Clients hanging up, or timing out, are part of a server's life: not worth a warning.
        let timed_out = e.is_timeout()
            || std::error::Error::source(&e)
                .and_then(|s| s.downcast_ref::<io::Error>())
                .is_some_and(|e| e.kind() == io::ErrorKind::TimedOut);
        if timed_out {
            tracing::debug!(error = %e, "closed a connection that timed out");
        } else {
            tracing::debug!(error = %e, "a connection ended with an error");
        }
    }
}

/// Whether a failed `accept` concerns only the connection being accepted.
fn is_about_one_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::Interrupted
    )
}

fn log_panic(ended: Result<(), tokio::task::JoinError>) {
    if let Err(e) = ended
        && e.is_panic()
    {
        tracing::error!(error = %e, "a connection task panicked");
    }
}
