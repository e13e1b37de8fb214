//! Running the chat examples as separate processes, for `tests/chat.rs`.
//!
//! The two examples are built with `cargo build --example chat_server
//! --example chat_client` into this test's own target directory (cargo has
//! released its lock by the time tests run), then started from
//! `target/<profile>/examples/`. Every wait is bounded by [`WAIT`]; every
//! process started here is killed by its PID when its handle is dropped.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use super::util::WAIT;

/// `target/<profile>/examples`, after building the chat examples once.
fn examples_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // This test runs as target/<profile>/deps/chat-<hash>.
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe.parent().unwrap().parent().unwrap();
        let target_dir = profile_dir.parent().unwrap();
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut build = Command::new(cargo);
        build.args(["build", "--quiet", "--manifest-path"]);
        build
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
            .arg("--target-dir")
            .arg(target_dir)
            .args(["--example", "chat_server", "--example", "chat_client"]);
        match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") => {}
            Some("release") => {
                build.arg("--release");
            }
            Some(other) => {
                build.args(["--profile", other]);
            }
            None => panic!("unexpected test location {exe:?}"),
        }
        let out = build.output().expect("running cargo build");
        assert!(
            out.status.success(),
            "cargo build of the chat examples failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        profile_dir.join("examples")
    })
}

/// Lines of a child's output, read by a thread so the child never blocks
/// on a full pipe.
fn lines_of(out: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// A running chat example, with its stdin and its output lines.
pub struct Program {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    errors: Receiver<String>,
}

impl Program {
    /// Starts example `example` with `args`, stdin, stdout and stderr piped.
    pub fn start(example: &str, args: &[&str]) -> Program {
        let path = examples_dir().join(example);
        assert!(path.exists(), "example binary {path:?} is missing");
        let mut child = Command::new(path)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        Program {
            name: format!("{example} {}", args.join(" ")),
            lines: lines_of(child.stdout.take().unwrap()),
            errors: lines_of(child.stderr.take().unwrap()),
            stdin: child.stdin.take(),
            child,
        }
    }

    /// The next line of output, waiting at most [`WAIT`].
    pub fn next_line(&self) -> String {
        self.lines.recv_timeout(WAIT).unwrap_or_else(|_| {
            let errors: Vec<String> = self.errors.try_iter().collect();
            panic!("{}: no output in time; stderr: {errors:?}", self.name)
        })
    }

    /// Lines of output up to and including the first that satisfies
    /// `wanted`, waiting at most [`WAIT`] for each.
    pub fn lines_until(&self, wanted: impl Fn(&str) -> bool) -> Vec<String> {
        let mut seen = Vec::new();
        // Bounded: no test expects anywhere near this many lines.
        for _ in 0..10_000 {
            let line = self.next_line();
            let done = wanted(&line);
            seen.push(line);
            if done {
                return seen;
            }
        }
        panic!("{}: too many lines: {seen:?}", self.name)
    }

    /// Writes `text` to the program's stdin.
    pub fn type_in(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().expect("stdin already closed");
        stdin.write_all(text.as_bytes()).unwrap();
        stdin.flush().unwrap();
    }

    /// Closes the program's stdin: the end of input (Ctrl-D).
    pub fn end_input(&mut self) {
        self.stdin = None;
    }

    /// Waits at most [`WAIT`] for the program to exit; then every line it
    /// printed that was not read yet.
    pub fn wait(&mut self) -> (ExitStatus, Vec<String>) {
        let deadline = Instant::now() + WAIT;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not exit in time",
                self.name
            );
            thread::sleep(Duration::from_millis(10));
        };
        // The reader thread ends at end of file, which follows the exit.
        let mut rest = Vec::new();
        while let Ok(line) = self.lines.recv_timeout(WAIT) {
            rest.push(line);
        }
        (status, rest)
    }

    /// What the program wrote on stderr so far.
    pub fn stderr(&self) -> Vec<String> {
        self.errors.try_iter().collect()
    }
}

impl Drop for Program {
    /// Kills the program by its PID, if it is still running, and reaps it.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // SAFETY: kill(2) on a PID we started and have not reaped yet.
            unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGKILL) };
        }
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(10));
        }
        if !thread::panicking() {
            panic!("process {} did not die", self.child.id());
        }
    }
}
