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

/// The JWT variables of a service that starts.
pub(crate) const JWT: [(&str, &str); 2] =
    [("JWT_SECRET", "binary-test-secret"), ("JWT_EXPIRATION_TIME", "3600")];

/// A working directory of one test, removed afterwards.
pub(crate) struct WorkDir(PathBuf);

impl WorkDir {
    pub(crate) fn new(name: &str) -> WorkDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "blog-api-binary-{}-{}-{name}",
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
fn blog_api(dir: &Path, vars: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_blog-api"));
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
    fn of(output: Output) -> Run {
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

/// Runs `blog-api <args>` to completion.
pub(crate) fn run(dir: &Path, vars: &[(&str, &str)], args: &[&str]) -> Run {
    let output =
        blog_api(dir, vars).args(args).stdin(Stdio::null()).output().expect("the binary runs");
    let run = Run::of(output);
    assert!(!run.stderr.contains("panicked"), "blog-api {args:?} panicked: {run}");
    run
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
        for _ in 0..3 {
            let mut service = Service::spawn(dir, vars);
            match service.wait_until_ready() {
                Ok(()) => return service,
                Err(log) if log.contains("cannot listen on port") => continue,
                Err(log) => panic!("the service exited before serving:\n{log}"),
            }
        }
        panic!("the service found no free port in three attempts");
    }

    fn spawn(dir: &Path, vars: &[(&str, &str)]) -> Service {
        static N: AtomicUsize = AtomicUsize::new(0);
        let port = {
            let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
            listener.local_addr().expect("a bound address").port()
        };
        let log = dir.with_extension(format!("{}.log", N.fetch_add(1, Ordering::Relaxed)));
        let out = File::create(&log).expect("a log file");
        let err = out.try_clone().expect("a second handle on the log file");
        let child = blog_api(dir, vars)
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("the binary starts");
        Service { child, port, log }
    }

    fn wait_until_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("the child can be polled") {
                return Err(format!("({status})\n{}", self.log()));
            }
            if self.log().contains("blog API listening")
                && TcpStream::connect(("127.0.0.1", self.port)).is_ok()
            {
                return Ok(());
            }
            assert!(Instant::now() < deadline, "not listening after 60 s:\n{}", self.log());
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

    /// Sends SIGTERM and waits for the process to exit.
    pub(crate) fn stop(mut self) -> (ExitStatus, String) {
        let pid = self.child.id().to_string();
        let kill = Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
        assert!(kill.success(), "kill -TERM {pid} failed");
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("the child can be polled") {
                break status;
            }
            assert!(Instant::now() < deadline, "no exit 30 s after SIGTERM:\n{}", self.log());
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

/// POSTs `body` (or GETs without one) and returns the status, the body and the `Set-Cookie`.
pub(crate) async fn call(
    service: &Service,
    path: &str,
    body: Option<&Value>,
    cookie: Option<&str>,
) -> (u16, String, Option<String>) {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let mut request = match body {
        Some(body) => client.post(service.url(path)).json(body),
        None => client.get(service.url(path)),
    };
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.unwrap_or_else(|e| panic!("{path}: {e}"));
    let status = response.status().as_u16();
    let set_cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .map(|c| c.split(';').next().unwrap_or_default().to_owned());
    (status, response.text().await.expect("a readable body"), set_cookie)
}
