//! Running the examples as separate processes, the way the tutorial does:
//! a server in one process, a client in another, text typed on stdin.
//!
//! A test binary lists the examples it runs in one [`Examples`]; on first
//! use they are built together with `cargo build --example NAME...` into
//! this test's own target directory (cargo has released its lock by the
//! time tests run), then started from `target/<profile>/examples/`. Only
//! those are built, so an unrelated example that does not compile cannot
//! fail the test. Every wait is bounded by [`WAIT`]; every process started
//! here is killed by its PID when its [`Program`] is dropped.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use super::WAIT;

/// The examples one test binary runs, built together on first use.
pub struct Examples {
    names: &'static [&'static str],
    dir: OnceLock<PathBuf>,
}

impl Examples {
    /// The examples `names` (for a `static`).
    pub const fn new(names: &'static [&'static str]) -> Examples {
        Examples {
            names,
            dir: OnceLock::new(),
        }
    }

    /// Starts example `name` with `args`, its stdin, stdout and stderr
    /// piped.
    pub fn start(&self, name: &str, args: &[&str]) -> Program {
        let mut child = self
            .command(name)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        Program {
            name: format!("{name} {}", args.join(" ")),
            lines: lines_of(child.stdout.take().unwrap()),
            errors: lines_of(child.stderr.take().unwrap()),
            stdin: child.stdin.take(),
            child,
        }
    }

    /// Starts the server example `name` on 127.0.0.1, port 0, with `args`
    /// after those, and reads the port it announces on its first line
    /// (`listening on 127.0.0.1:PORT`).
    pub fn start_server(&self, name: &str, args: &[&str]) -> (Program, u16) {
        let all = [&["--host", "127.0.0.1", "--port", "0"], args].concat();
        let server = self.start(name, &all);
        let first = server.next_line();
        let port = first
            .strip_prefix("listening on 127.0.0.1:")
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("{name}: first line was {first:?}"));
        assert_ne!(port, 0, "{first}");
        (server, port)
    }

    /// Runs example `name` with `args` to completion, `input` on its stdin
    /// and then the end of input (Ctrl-D); what it printed.
    pub fn run(&self, name: &str, args: &[&str], input: &str) -> Output {
        let mut program = self.start(name, args);
        // A program that exits early may close its end first; that is not
        // an error here.
        let _ = program.stdin.take().unwrap().write_all(input.as_bytes());
        let (status, stdout) = program.wait();
        Output {
            ok: status.success(),
            stdout: text(stdout),
            stderr: text(read_to_end(&program.errors)),
        }
    }

    fn command(&self, name: &str) -> Command {
        assert!(
            self.names.contains(&name),
            "{name} is not in this test's list of examples"
        );
        let path = self.dir().join(name);
        assert!(path.exists(), "example binary {path:?} is missing");
        Command::new(path)
    }

    /// `target/<profile>/examples`, after building the examples once.
    fn dir(&self) -> &Path {
        self.dir.get_or_init(|| {
            // This test runs as target/<profile>/deps/NAME-<hash>.
            let exe = std::env::current_exe().unwrap();
            let profile_dir = exe.parent().unwrap().parent().unwrap();
            let target_dir = profile_dir.parent().unwrap();
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let mut build = Command::new(cargo);
            build.args(["build", "--quiet", "--manifest-path"]);
            build
                .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
                .arg("--target-dir")
                .arg(target_dir);
            for name in self.names {
                build.args(["--example", name]);
            }
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
                "cargo build of the examples {:?} failed:\n{}",
                self.names,
                String::from_utf8_lossy(&out.stderr)
            );
            profile_dir.join("examples")
        })
    }
}

/// What a finished program printed.
pub struct Output {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Asserts that a program succeeded, showing everything it printed if not.
#[track_caller]
pub fn assert_ok(out: &Output) {
    assert!(
        out.ok,
        "program failed\nstdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
}

/// A running example, with its stdin and its output lines.
pub struct Program {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    errors: Receiver<String>,
}

impl Program {
    /// The next line of output, waiting at most [`WAIT`].
    pub fn next_line(&self) -> String {
        self.lines.recv_timeout(WAIT).unwrap_or_else(|_| {
            panic!(
                "{}: no output in time; stderr: {:?}",
                self.name,
                self.stderr()
            )
        })
    }

    /// Lines of output up to and including the first that satisfies
    /// `wanted`, waiting at most [`WAIT`] for each.
    pub fn lines_until(&self, wanted: impl Fn(&str) -> bool) -> Vec<String> {
        let mut seen = Vec::new();
        // Bounded: no test expects anywhere near this many lines.
        for _ in 0..10_000 {
            let Ok(line) = self.lines.recv_timeout(WAIT) else {
                panic!(
                    "{}: no wanted line in time; it printed {seen:?}, and on stderr {:?}",
                    self.name,
                    self.stderr()
                )
            };
            let done = wanted(&line);
            seen.push(line);
            if done {
                return seen;
            }
        }
        panic!("{}: too many lines: {seen:?}", self.name)
    }

    /// Reads lines until one contains `text`; returns it.
    pub fn expect(&self, text: &str) -> String {
        let mut lines = self.lines_until(|line| line.contains(text));
        lines.pop().unwrap()
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
        (status, read_to_end(&self.lines))
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

/// The lines still to come from an exited program: its reader thread ends
/// at the end of file, which follows the exit.
fn read_to_end(lines: &Receiver<String>) -> Vec<String> {
    let mut rest = Vec::new();
    while let Ok(line) = lines.recv_timeout(WAIT) {
        rest.push(line);
    }
    rest
}

/// Lines as text, each ended by a newline.
fn text(lines: Vec<String>) -> String {
    lines.into_iter().map(|line| line + "\n").collect()
}
