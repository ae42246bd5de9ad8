//! A server under test running as a child process: started on a free loopback port, waited
//! for until a readiness path answers 200, and watched for its CPU time and peak memory
//! through `/proc/<pid>`.

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

/// How long a server may take to answer its readiness path with 200.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Linux reports CPU times in `/proc/<pid>/stat` in clock ticks of `USER_HZ`, which is 100 on
/// every architecture Linux exposes to user space.
const TICKS_PER_SECOND: f64 = 100.0;

/// A free port on loopback (free when asked; the server binds it a moment later).
pub(crate) fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(l.local_addr()?.port())
}

/// A server running as a child process.
pub(crate) struct Server {
    /// What it is, for messages and the report: an implementation name of `super::IMPLS`.
    pub(crate) name: &'static str,
    child: Child,
    pub(crate) pid: u32,
    pub(crate) addr: SocketAddr,
}

impl Server {
    /// Starts `command` (which must listen on `port` of loopback) and waits until `ready_path`
    /// answers 200.
    pub(crate) async fn start(
        name: &'static str,
        mut command: Command,
        port: u16,
        ready_path: &str,
    ) -> Result<Self> {
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start the {name} server"))?;
        let pid = child.id().with_context(|| format!("the {name} server exited at once"))?;
        let mut server =
            Self { name, child, pid, addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)) };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            server.check_alive()?;
            let last = send(server.addr, Method::GET, ready_path, None).await;
            if last.as_ref().is_ok_and(|a| a.status == 200) {
                return Ok(server);
            }
            if Instant::now() > deadline {
                let answer = match last {
                    Ok(a) => format!("{} {}", a.status, String::from_utf8_lossy(&a.body)),
                    Err(e) => format!("no answer: {e:#}"),
                };
                bail!(
                    "the {name} server did not answer GET {ready_path} with 200 within {} s; \
                     its last answer: {answer}",
                    START_TIMEOUT.as_secs()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Fails when the server has exited.
    pub(crate) fn check_alive(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("the {} server exited ({status}); its output is above", self.name);
        }
        Ok(())
    }

    /// `VmHWM` (peak resident set) of the server, in KiB.
    pub(crate) fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
    }

    /// The CPU time (user + system, all threads) the server has used so far, in seconds.
    pub(crate) fn cpu_seconds(&self) -> Option<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).ok()?;
        cpu_seconds_of_stat(&stat)
    }

    pub(crate) async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

/// utime + stime of a `/proc/<pid>/stat` line, in seconds. The command name (field 2) is in
/// parentheses and may hold spaces, so fields are counted after its closing one: utime and
/// stime are fields 14 and 15.
fn cpu_seconds_of_stat(stat: &str) -> Option<f64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / TICKS_PER_SECOND)
}

/// One response, read in full.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) content_type: Option<String>,
    pub(crate) body: Bytes,
}

/// Sends one request on a fresh connection (a JSON body when given) and reads the answer.
pub(crate) async fn send(
    addr: SocketAddr,
    method: Method,
    path: &str,
    json_body: Option<String>,
) -> Result<Answer> {
    let stream = TcpStream::connect(addr).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let mut req = Request::builder().method(method).uri(path).header("host", addr.to_string());
    if json_body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let req = req.body(Full::new(Bytes::from(json_body.unwrap_or_default())))?;
    let res = sender.send_request(req).await?;
    let status = res.status().as_u16();
    let content_type =
        res.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = res.into_body().collect().await?.to_bytes();
    Ok(Answer { status, content_type, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_is_read_after_the_command_name() {
        let stat = "4242 (tokio runtime w) S 1 4242 4242 0 -1 4194560 1131 0 0 0 250 37 0 0 20 \
                    0 3 0 123 45678 890";
        assert_eq!(cpu_seconds_of_stat(stat), Some(2.87));
        assert_eq!(cpu_seconds_of_stat("garbage"), None);
    }
}
