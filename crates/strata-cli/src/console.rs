//! [`Console`]: where the commands write, the process's stdout and stderr or memory (tests).

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

#[derive(Debug)]
enum Sink {
    Stdout,
    Stderr,
    Memory(Vec<u8>),
}

impl Sink {
    fn write_line(&mut self, line: &str) {
        // Output that cannot be written (a closed pipe) is not worth failing a migration for.
        let _ = match self {
            Sink::Stdout => writeln!(std::io::stdout().lock(), "{line}"),
            Sink::Stderr => writeln!(std::io::stderr().lock(), "{line}"),
            Sink::Memory(buf) => writeln!(buf, "{line}"),
        };
    }

    fn write_partial(&mut self, text: &str) {
        let _ = match self {
            Sink::Stdout => {
                let mut out = std::io::stdout().lock();
                write!(out, "{text}").and_then(|()| out.flush())
            }
            Sink::Stderr => {
                let mut err = std::io::stderr().lock();
                write!(err, "{text}").and_then(|()| err.flush())
            }
            Sink::Memory(buf) => write!(buf, "{text}"),
        };
    }

    fn text(&self) -> String {
        match self {
            Sink::Memory(buf) => String::from_utf8_lossy(buf).into_owned(),
            _ => String::new(),
        }
    }
}

/// The output of the commands: results and progress on one stream, errors on the other.
/// Cheap to clone; clones share the streams, so the migrator's progress callback can write
/// while a command runs.
#[derive(Debug, Clone)]
pub struct Console {
    out: Arc<Mutex<Sink>>,
    err: Arc<Mutex<Sink>>,
}

impl Console {
    /// The process's stdout and stderr.
    pub fn stdio() -> Self {
        Self { out: Arc::new(Mutex::new(Sink::Stdout)), err: Arc::new(Mutex::new(Sink::Stderr)) }
    }

    /// Two in-memory buffers, read back with [`Console::stdout`] and [`Console::stderr`].
    pub fn memory() -> Self {
        Self {
            out: Arc::new(Mutex::new(Sink::Memory(Vec::new()))),
            err: Arc::new(Mutex::new(Sink::Memory(Vec::new()))),
        }
    }

    /// Writes a line of output.
    pub fn out(&self, line: impl AsRef<str>) {
        self.out.lock().unwrap_or_else(PoisonError::into_inner).write_line(line.as_ref());
    }

    /// Writes output without ending the line (a progress line that ends when a step is done).
    pub fn partial(&self, text: impl AsRef<str>) {
        self.out.lock().unwrap_or_else(PoisonError::into_inner).write_partial(text.as_ref());
    }

    /// Writes a line to the error stream.
    pub fn err(&self, line: impl AsRef<str>) {
        self.err.lock().unwrap_or_else(PoisonError::into_inner).write_line(line.as_ref());
    }

    /// What was written as output (memory consoles only; empty for [`Console::stdio`]).
    pub fn stdout(&self) -> String {
        self.out.lock().unwrap_or_else(PoisonError::into_inner).text()
    }

    /// What was written to the error stream (memory consoles only).
    pub fn stderr(&self) -> String {
        self.err.lock().unwrap_or_else(PoisonError::into_inner).text()
    }
}
