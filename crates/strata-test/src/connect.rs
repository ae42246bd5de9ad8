//! Opening raw `tokio-postgres` connections and describing their errors.

use std::time::Duration;

use tokio_postgres::{Client, Config, NoTls};

/// How long to wait for the server when the URL does not say (`connect_timeout=`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens a connection to `url` and drives it on a task of the current runtime.
pub(crate) async fn connect(url: &str) -> Result<Client, tokio_postgres::Error> {
    let mut config: Config = url.parse()?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    let (client, connection) = config.connect(NoTls).await?;
    // The connection ends with an error when its database is dropped WITH (FORCE); the client
    // then reports it on its next query, which is where a test wants to see it.
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// The server's message and SQLSTATE, or the client error and its cause.
pub(crate) fn describe(error: &tokio_postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        return format!("{}: {} (SQLSTATE {})", db.severity(), db.message(), db.code().code());
    }
    match std::error::Error::source(error) {
        Some(cause) => format!("{error}: {cause}"),
        None => error.to_string(),
    }
}
