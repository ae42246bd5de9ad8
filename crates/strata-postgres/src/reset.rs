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
//!    a connection of its own, as `pg_cancel_backend` does; it never becomes a backend);
//! 2. a query is sent on the connection and awaited: requests on one connection are answered in
//!    order, so when it is answered the cancelled statement, and anything pipelined behind it,
//!    is over. The query is `ROLLBACK` when the server may be in a transaction, else an empty
//!    query (a `ROLLBACK` outside a transaction would log a warning). A statement still running
//!    after [`RECANCEL_AFTER`] (one pipelined behind the first) is cancelled as well;
//! 3. the connection goes back to the pool. If any of this fails or takes longer than the
//!    pool's connect timeout, the connection is closed instead.
//!
//! The pool slot stays taken until then, so the backends of a pool never outnumber its size.
//!
//! A server-side `statement_timeout` tied to the request timeout would also end such a
//! statement, but only when that timeout runs out, per statement rather than per request, and
//! only for the application that sets it; cancelling when the future is dropped ends the
//! statement at once, whatever dropped it, and needs no setting.

use std::pin::pin;
use std::time::Duration;

use deadpool_postgres::Object;
use tokio_postgres::NoTls;

/// How long the synchronizing query may wait before whatever runs is cancelled again.
const RECANCEL_AFTER: Duration = Duration::from_millis(500);

/// Cancels the statement in flight on `client` (when `cancel`), ends its transaction (when
/// `rollback`) and returns it to the pool; closes it if that fails or exceeds `timeout`.
pub(crate) async fn reset(client: Object, cancel: bool, rollback: bool, timeout: Duration) {
    let outcome = tokio::time::timeout(timeout, put_in_order(&client, cancel, rollback)).await;
    let failure = match outcome {
        Ok(Ok(())) => {
            tracing::debug!(cancelled = cancel, rolled_back = rollback, "connection reset");
            return;
        }
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!("no answer within {timeout:?}"),
    };
    tracing::warn!(
        error = %failure,
        "closing a PostgreSQL connection whose request was abandoned: it could not be reset"
    );
    // Taken out of the pool, it is closed when it drops here.
    drop(Object::take(client));
}

async fn put_in_order(
    client: &Object,
    cancel: bool,
    rollback: bool,
) -> Result<(), tokio_postgres::Error> {
    let token = client.cancel_token();
    if cancel {
        token.cancel_query(NoTls).await?;
    }
    let mut sync = pin!(client.batch_execute(if rollback { "ROLLBACK" } else { "" }));
    loop {
        match tokio::time::timeout(RECANCEL_AFTER, &mut sync).await {
            Ok(done) => return done,
            Err(_) => token.cancel_query(NoTls).await?,
        }
    }
}
