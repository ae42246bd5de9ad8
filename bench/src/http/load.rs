//! A small HTTP/1.1 load generator: `connections` keep-alive connections, each sending its
//! next request as soon as the previous response has been read, until the deadline. Every
//! response body is read in full; any status other than 2xx counts as an error.

use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// The request a worker sends; `i` counts requests per worker, so bodies can differ.
pub(crate) type MakeRequest = fn(worker: usize, i: u64) -> (Method, &'static str, Option<String>);

/// What the workers measured.
#[derive(Debug, Default)]
pub(crate) struct LoadResult {
    /// Response times in microseconds, of every completed request.
    pub(crate) latencies_us: Vec<u32>,
    /// Responses whose status was not 2xx.
    pub(crate) errors: u64,
    /// The first unexpected status, with its body, for the report.
    pub(crate) first_error: Option<String>,
    /// The time from the first request to the end.
    pub(crate) elapsed: Duration,
}

impl LoadResult {
    /// Completed requests per second.
    pub(crate) fn rps(&self) -> f64 {
        self.latencies_us.len() as f64 / self.elapsed.as_secs_f64()
    }

    /// The mean latency, in milliseconds.
    pub(crate) fn mean_ms(&self) -> f64 {
        let sum: u64 = self.latencies_us.iter().map(|&us| u64::from(us)).sum();
        sum as f64 / self.latencies_us.len().max(1) as f64 / 1000.0
    }

    /// The latency at quantile `q` (0..=1), in milliseconds.
    pub(crate) fn quantile_ms(&self, q: f64) -> f64 {
        quantile_ms(&self.latencies_us, q)
    }
}

/// The value at quantile `q` of unsorted microsecond samples, in milliseconds (nearest rank).
pub(crate) fn quantile_ms(samples_us: &[u32], q: f64) -> f64 {
    if samples_us.is_empty() {
        return f64::NAN;
    }
    let mut sorted = samples_us.to_vec();
    sorted.sort_unstable();
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    f64::from(sorted[rank - 1]) / 1000.0
}

/// Runs the load for `duration` with `connections` connections to `addr`.
pub(crate) async fn run(
    addr: SocketAddr,
    connections: usize,
    duration: Duration,
    make: MakeRequest,
) -> Result<LoadResult> {
    let start = Instant::now();
    let deadline = start + duration;
    let workers: Vec<_> =
        (0..connections).map(|w| tokio::spawn(worker(addr, w, deadline, make))).collect();
    let mut total = LoadResult::default();
    for w in workers {
        let r = w.await.context("a load worker panicked")??;
        total.latencies_us.extend(r.latencies_us);
        total.errors += r.errors;
        if total.first_error.is_none() {
            total.first_error = r.first_error;
        }
    }
    total.elapsed = start.elapsed();
    Ok(total)
}

async fn worker(
    addr: SocketAddr,
    w: usize,
    deadline: Instant,
    make: MakeRequest,
) -> Result<LoadResult> {
    let stream = TcpStream::connect(addr)
        .await
        .with_context(|| format!("cannot connect to the server at {addr}"))?;
    stream.set_nodelay(true)?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        // Ends when the sender is dropped or the server closes; failures surface in send.
        let _ = conn.await;
    });
    let host = addr.to_string();
    let mut out = LoadResult::default();
    let mut i = 0u64;
    while Instant::now() < deadline {
        let (method, path, body) = make(w, i);
        i += 1;
        let mut req = Request::builder().method(method).uri(path).header("host", &host);
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        let req = req.body(Full::new(Bytes::from(body.unwrap_or_default())))?;
        let sent = Instant::now();
        sender.ready().await.context("the server closed the connection")?;
        let res = sender.send_request(req).await.context("the request failed")?;
        let status = res.status();
        let body = res.into_body().collect().await.context("cannot read the response")?;
        let took = sent.elapsed();
        out.latencies_us.push(u32::try_from(took.as_micros()).unwrap_or(u32::MAX));
        if !status.is_success() {
            out.errors += 1;
            if out.first_error.is_none() {
                let text =
                    String::from_utf8_lossy(&body.to_bytes()).chars().take(200).collect::<String>();
                out.first_error = Some(format!("{status}: {text}"));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_use_the_nearest_rank() {
        let samples: Vec<u32> = (1..=100).map(|ms| ms * 1000).collect();
        assert_eq!(quantile_ms(&samples, 0.5), 50.0);
        assert_eq!(quantile_ms(&samples, 0.99), 99.0);
        assert_eq!(quantile_ms(&samples, 1.0), 100.0);
        assert!(quantile_ms(&[], 0.5).is_nan());
    }
}
