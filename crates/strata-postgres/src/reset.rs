//! A connection whose user went away mid-statement or mid-transaction (a request that timed out,
//! a client that hung up: the future holding the connection was dropped) is put back in order
//! before anyone else gets it.
//!
//! Dropping the future does not stop the server: a statement waiting for a lock keeps waiting,
//! and PostgreSQL does not notice that its client closed the socket until it next talks to it.
//! Closing such a connection and letting the pool open another therefore leaves the old backend
//! behind; a burst of requests timing out on a locked row ends up holding many more backends
//! than the pool's size, up to `max_connections` for every client of the server. Instead:
//!
//! 1. a statement in flight is cancelled with the connection's cancel key (a cancel request on
//!    a connection of its own, as `pg_cancel_backend` does; it never becomes a backend), and
//!    the reset waits until the server has acted on it: the server closes the cancel
//!    connection once it has signalled the backend. tokio-postgres' `cancel_query` returns
//!    before that, and a cancel still on its way when the connection is reused would cancel
//!    its next user's statement (libpq's `PQcancel` waits for the same reason);
//! 2. a query is sent on the connection and awaited: requests on one connection are answered in
//!    order, so when it is answered the cancelled statement, and anything pipelined behind it,
//!    is over. The query is `ROLLBACK` when the server may be in a transaction, else an empty
//!    query (a `ROLLBACK` outside a transaction would log a warning). A statement still running
//!    after [`RECANCEL_AFTER`] (one pipelined behind the first) is cancelled as well;
//! 3. the connection goes back to the pool. If any of this fails or takes longer than the
//!    pool's connect timeout, the connection is closed instead; so is one whose cancel request
//!    could not be followed to its end (a configuration with several hosts, where
//!    tokio-postgres does not say which one the connection went to).
//!
//! The pool slot stays taken until then, so the backends of a pool never outnumber its size.
//!
//! Behind a transaction-pooling proxy (the statement cache off) no cancel request is sent: a
//! connection abandoned mid-statement is closed, and the proxy closes its server connection.
//! PgBouncer 1.18 (Debian 12's) exits on a cancel request whose client disconnects before the
//! server is done with it (pgbouncer#801, fixed in later versions), which a process that ends
//! with a reset under way does. The server then notices the closed connection itself, at once
//! with `client_connection_check_interval` set (PostgreSQL 14 and later; see
//! docs/deployment.md), else when the statement next writes to it.
//!
//! A server-side `statement_timeout` tied to the request timeout would also end such a
//! statement, but only when that timeout runs out, per statement rather than per request, and
//! only for the application that sets it; cancelling when the future is dropped ends the
//! statement at once, whatever dropped it, and needs no setting.

use std::error::Error as StdError;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::Object;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio_postgres::config::Host;
use tokio_postgres::{CancelToken, NoTls};

/// How long the synchronizing query may wait before whatever runs is cancelled again.
const RECANCEL_AFTER: Duration = Duration::from_millis(500);

type Failure = Box<dyn StdError + Send + Sync>;

/// Where the cancel requests of a pool's connections go.
#[derive(Debug, Clone)]
pub(crate) enum CancelTarget {
    /// A TCP server: a host name or address, and a port.
    Tcp(String, u16),
    /// A Unix socket: its path.
    #[cfg(unix)]
    Unix(std::path::PathBuf),
    /// Several hosts: the one a connection went to is unknown.
    Unknown,
    /// Behind a transaction-pooling proxy: close instead of cancelling.
    Never,
}

impl CancelTarget {
    /// The server of a configuration with one host (as tokio-postgres connects to it: its
    /// `hostaddr` when given, else its host, on its port or 5432).
    pub(crate) fn of(config: &tokio_postgres::Config) -> Self {
        let (hosts, addrs) = (config.get_hosts(), config.get_hostaddrs());
        if hosts.len().max(addrs.len()) != 1 {
            return Self::Unknown;
        }
        let port = config.get_ports().first().copied().unwrap_or(5432);
        match (addrs.first(), hosts.first()) {
            (Some(addr), _) => Self::Tcp(addr.to_string(), port),
            (None, Some(Host::Tcp(host))) => Self::Tcp(host.clone(), port),
            #[cfg(unix)]
            (None, Some(Host::Unix(dir))) => Self::Unix(dir.join(format!(".s.PGSQL.{port}"))),
            (None, None) => Self::Unknown,
        }
    }
}

/// Cancels the statement in flight on `client` (when `cancel`), ends its transaction (when
/// `rollback`) and returns it to the pool; closes it if that fails or exceeds `timeout`.
pub(crate) async fn reset(
    client: Object,
    cancel: bool,
    rollback: bool,
    target: Arc<CancelTarget>,
    timeout: Duration,
) {
    if cancel && matches!(*target, CancelTarget::Never) {
        tracing::debug!("closing a connection abandoned mid-statement (no cancel behind a pooler)");
        drop(Object::take(client));
        return;
    }
    let outcome =
        tokio::time::timeout(timeout, put_in_order(&client, cancel, rollback, &target)).await;
    let failure = match outcome {
        Ok(Ok(true)) => {
            tracing::debug!(cancelled = cancel, rolled_back = rollback, "connection reset");
            return;
        }
        Ok(Ok(false)) => "a cancel request may still be on its way".to_owned(),
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!("no answer within {timeout:?}"),
    };
    tracing::debug!(
        reason = %failure,
        "closing a PostgreSQL connection whose request was abandoned instead of reusing it"
    );
    // Taken out of the pool, it is closed when it drops here.
    drop(Object::take(client));
}

/// Cancels, then waits for the synchronizing query; true when the connection can be reused.
async fn put_in_order(
    client: &Object,
    cancel: bool,
    rollback: bool,
    target: &CancelTarget,
) -> Result<bool, Failure> {
    let token = client.cancel_token();
    let mut settled = true;
    if cancel {
        settled &= cancel_and_wait(&token, target).await?;
    }
    let mut sync = pin!(client.batch_execute(if rollback { "ROLLBACK" } else { "" }));
    loop {
        match tokio::time::timeout(RECANCEL_AFTER, &mut sync).await {
            Ok(done) => return done.map(|()| settled).map_err(Failure::from),
            Err(_) => settled &= cancel_and_wait(&token, target).await?,
        }
    }
}

/// Sends a cancel request and waits until the server has acted on it; false when it cannot
/// be waited for ([`CancelTarget::Unknown`]).
async fn cancel_and_wait(token: &CancelToken, target: &CancelTarget) -> Result<bool, Failure> {
    match target {
        CancelTarget::Tcp(host, port) => {
            send_and_wait(token, tokio::net::TcpStream::connect((host.as_str(), *port)).await?)
                .await?;
        }
        #[cfg(unix)]
        CancelTarget::Unix(path) => {
            send_and_wait(token, tokio::net::UnixStream::connect(path).await?).await?;
        }
        CancelTarget::Never => return Ok(false),
        CancelTarget::Unknown => {
            token.cancel_query(NoTls).await?;
            return Ok(false);
        }
    }
    Ok(true)
}

/// Sends the cancel request on `stream`, then reads until the server closes it, which it does
/// after signalling the backend.
async fn send_and_wait<S: AsyncRead + AsyncWrite + Unpin>(
    token: &CancelToken,
    mut stream: S,
) -> Result<(), Failure> {
    token.cancel_query_raw(&mut stream, NoTls).await?;
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn target(url: &str) -> CancelTarget {
        CancelTarget::of(&tokio_postgres::Config::from_str(url).expect("a valid URL"))
    }

    #[test]
    fn cancel_requests_go_to_the_one_host_of_the_configuration() {
        let tcp = |t: CancelTarget| match t {
            CancelTarget::Tcp(host, port) => Some((host, port)),
            _ => None,
        };
        assert_eq!(tcp(target("postgres://u@db.example/x")), Some(("db.example".into(), 5432)));
        assert_eq!(tcp(target("postgres://u@127.0.0.1:5433/x")), Some(("127.0.0.1".into(), 5433)));
        let with_addr = target("postgres://u@db.example:6000/x?hostaddr=10.0.0.7");
        assert_eq!(tcp(with_addr), Some(("10.0.0.7".into(), 6000)));
        assert!(matches!(target("postgres://u@a,b/x"), CancelTarget::Unknown));
        #[cfg(unix)]
        match target("host=/run/postgresql port=5433 user=u") {
            CancelTarget::Unix(path) => {
                assert_eq!(path, std::path::Path::new("/run/postgresql/.s.PGSQL.5433"));
            }
            other => panic!("a Unix socket, got {other:?}"),
        }
    }
}
