//! A working directory of one test, the binary run to completion or as a service, and HTTP
//! calls to it.

use std::fs::File;
use std::net::{TcpListener, TcpStream};
pub(crate) use std::path::Path;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub(crate) use serde_json::{Value, json};
pub(crate) use strata_test::TestDb;

/// The first migration, which every database gets.
pub(crate) const MIGRATION: &str = "20261124000000_create_post_entity";

/// Every migration the service ships (for each database the same ids), in order: the first
/// one, and any a developer added since.
pub(crate) fn shipped() -> Vec<&'static str> {
    posts_api::db::POSTGRES_MIGRATIONS.iter().map(|m| m.id).collect()
}

/// `1 migration`, `2 migrations`.
pub(crate) fn migrations(n: usize) -> String {
    format!("{n} migration{}", if n == 1 { "" } else { "s" })
}

/// A working directory of one test, removed afterwards.
pub(crate) struct WorkDir(PathBuf);

impl WorkDir {
    pub(crate) fn new(name: &str) -> WorkDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "posts-api-binary-{}-{}-{name}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("the working directory can be created");
        WorkDir(dir)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The binary with a clean environment: `PATH`, `HOME` and `vars`, run in `dir`.
pub(crate) fn posts_api(dir: &Path, vars: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_posts-api"));
    command.env_clear().current_dir(dir);
    for inherited in ["PATH", "HOME"] {
        if let Some(value) = std::env::var_os(inherited) {
            command.env(inherited, value);
        }
    }
    command.envs(vars.iter().copied());
    command
}

/// A command's exit code, stdout and stderr.
pub(crate) struct Run {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    pub(crate) fn of(output: Output) -> Run {
        Run {
            code: output.status.code(),
            stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
        }
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit code {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `posts-api <args>` to completion.
pub(crate) fn run(dir: &Path, vars: &[(&str, &str)], args: &[&str]) -> Run {
    let output = posts_api(dir, vars)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the posts-api binary runs");
    let run = Run::of(output);
    assert!(!run.stderr.contains("panicked"), "posts-api {args:?} panicked: {run}");
    run
}

/// A port nobody listens on (bound, read, released).
pub(crate) fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("a bound address").port()
}

/// The service running as a child process, its output going to a log file; killed if a test
/// ends without stopping it.
pub(crate) struct Service {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Service {
    /// Starts the service in `dir` on a free port and waits until it accepts connections.
    pub(crate) fn start(dir: &Path, vars: &[(&str, &str)]) -> Service {
        // The free port may be taken by another test between `free_port` and the service's
        // bind: then start again on another one.
        for _ in 0..3 {
            let mut service = Service::spawn(dir, vars);
            match service.wait_until_ready() {
                Ok(()) => return service,
                Err(log) if log.contains("cannot listen on port") => continue,
                Err(log) => panic!(
                    "the service exited before serving:
{log}"
                ),
            }
        }
        panic!("the service found no free port in three attempts");
    }

    pub(crate) fn spawn(dir: &Path, vars: &[(&str, &str)]) -> Service {
        static N: AtomicUsize = AtomicUsize::new(0);
        let port = free_port();
        // Beside the working directory, so that the service's own files are all it holds.
        let log = dir.with_extension(format!("{}.log", N.fetch_add(1, Ordering::Relaxed)));
        let out = File::create(&log).expect("a log file");
        let err = out.try_clone().expect("a second handle on the log file");
        let child = posts_api(dir, vars)
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("the posts-api binary starts");
        Service { child, port, log }
    }

    /// Waits until the service says it listens and accepts a connection; `Err` holds the log
    /// of a service that exited instead.
    pub(crate) fn wait_until_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("the child can be polled") {
                return Err(format!("({status})\n{}", self.log()));
            }
            if self.log().contains("posts API listening")
                && TcpStream::connect(("127.0.0.1", self.port)).is_ok()
            {
                return Ok(());
            }
            assert!(
                Instant::now() < deadline,
                "the service does not listen on port {} after 60 s:\n{}",
                self.port,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Everything the service printed so far.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends SIGTERM, without waiting.
    pub(crate) fn terminate(&self) {
        let pid = self.child.id().to_string();
        let kill = Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
        assert!(kill.success(), "kill -TERM {pid} failed");
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub(crate) fn stop(self) -> (ExitStatus, String) {
        self.terminate();
        self.wait()
    }

    /// Waits (at most 30 s) for the process to exit.
    pub(crate) fn wait(mut self) -> (ExitStatus, String) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("the child can be polled") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "the service did not exit 30 s after SIGTERM:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        (status, self.log())
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ = std::fs::remove_file(&self.log);
    }
}

/// An HTTP answer: status and body.
pub(crate) async fn call(
    method: reqwest::Method,
    url: &str,
    body: Option<&Value>,
) -> (u16, String) {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let mut request = client.request(method, url);
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.unwrap_or_else(|e| panic!("{url}: {e}"));
    let status = response.status().as_u16();
    (status, response.text().await.expect("a readable body"))
}

pub(crate) async fn get(service: &Service, path: &str) -> (u16, String) {
    call(reqwest::Method::GET, &service.url(path), None).await
}

pub(crate) async fn post(service: &Service, path: &str, body: &Value) -> (u16, String) {
    call(reqwest::Method::POST, &service.url(path), Some(body)).await
}

/// `url` with a password: its own if it has one, else `s3cret` (which a trust-auth server
/// ignores). Returns the URL and the password.
pub(crate) fn with_password(url: &str) -> (String, String) {
    let start = url.find("://").expect("a URL with a scheme") + 3;
    let at = start + url[start..].find('@').expect("a URL with a user");
    let userinfo = &url[start..at];
    if let Some((_, password)) = userinfo.split_once(':') {
        return (url.to_owned(), password.to_owned());
    }
    (format!("{}:s3cret{}", &url[..at], &url[at..]), "s3cret".to_owned())
}
