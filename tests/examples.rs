//! Runs the examples the way the tutorial does: a server in one process, a
//! client in another, text typed on stdin.
//!
//! The examples are built with `cargo build --example NAME...` into the same
//! target directory as this test (cargo has released its lock by the time
//! tests run), then started from `target/<profile>/examples/`. Servers are
//! started with `--port 0` and announce their port on the first line of
//! output. Every wait is bounded by [`WAIT`]; every process started here is
//! killed by its PID if it outlives its test.

mod util;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use ferrosock::{Family, SockType, Socket};
use util::{bounded, v4, WAIT};

/// The examples this file runs; only these are built, so that an
/// unrelated example that does not compile cannot fail these tests.
const EXAMPLES: &[&str] = &[
    "echo_server",
    "echo_client",
    "udp_echo_server",
    "udp_echo_client",
    "phone_server",
    "phone_client",
    "qq_chat_server",
    "qq_chat_client",
    "port_in_use",
];

/// `target/<profile>/examples`, after building the examples once.
fn examples_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // This test runs as target/<profile>/deps/examples-<hash>.
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
        for name in EXAMPLES {
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
            "cargo build of the examples failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        profile_dir.join("examples")
    })
}

fn example(name: &str) -> Command {
    let path = examples_dir().join(name);
    assert!(path.exists(), "example binary {path:?} is missing");
    Command::new(path)
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

/// Kills `child` by its PID and reaps it, waiting a bounded time.
fn kill(child: &mut Child) {
    if let Ok(None) = child.try_wait() {
        // SAFETY: kill(2) with a PID we started and have not reaped yet.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGKILL) };
    }
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        thread::sleep(Duration::from_millis(10));
    }
    panic!("process {} did not die", child.id());
}

/// A running example server.
struct Server {
    child: Child,
    stdin: Option<std::process::ChildStdin>,
    lines: Receiver<String>,
    errors: Receiver<String>,
    port: u16,
}

impl Server {
    /// Starts `name --port 0` and reads its `listening on HOST:PORT` line.
    fn start(name: &str) -> Server {
        let mut child = example(name)
            .args(["--host", "127.0.0.1", "--port", "0"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = lines_of(child.stdout.take().unwrap());
        let errors = lines_of(child.stderr.take().unwrap());
        let stdin = child.stdin.take();
        let mut server = Server {
            child,
            stdin,
            lines,
            errors,
            port: 0,
        };
        let first = server.next_line();
        let addr = first
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("{name}: first line was {first:?}"));
        assert!(addr.starts_with("127.0.0.1:"), "{first}");
        server.port = addr.rsplit(':').next().unwrap().parse().unwrap();
        assert_ne!(server.port, 0);
        server
    }

    fn next_line(&self) -> String {
        self.lines.recv_timeout(WAIT).unwrap_or_else(|_| {
            let errors: Vec<String> = self.errors.try_iter().collect();
            panic!("the server printed nothing in time; stderr: {errors:?}")
        })
    }

    /// Reads lines until one contains `text`; returns it.
    fn expect(&self, text: &str) -> String {
        let deadline = Instant::now() + WAIT;
        let mut seen = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(text) => return line,
                Ok(line) => seen.push(line),
                Err(_) => break,
            }
        }
        let errors: Vec<String> = self.errors.try_iter().collect();
        panic!("server never printed {text:?}; it printed {seen:?} and on stderr {errors:?}");
    }

    /// Writes `text` to the server's stdin.
    fn type_in(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(text.as_bytes()).unwrap();
        stdin.flush().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        kill(&mut self.child);
    }
}

/// What a finished client printed.
struct Output {
    ok: bool,
    stdout: String,
    stderr: String,
}

/// Runs a client example with `--port port` to completion, `input` on its
/// stdin. Killed by its PID if it takes longer than WAIT.
fn run_client(name: &str, port: u16, extra: &[&str], input: &str) -> Output {
    let mut child = example(name)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = lines_of(child.stdout.take().unwrap());
    let err = lines_of(child.stderr.take().unwrap());
    // Dropping stdin after writing is the end of input (Ctrl-D). A client
    // that exits early may close its end first; that is not an error here.
    let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            kill(&mut child);
            panic!("{name} did not finish in time");
        }
        thread::sleep(Duration::from_millis(10));
    };
    // The reader threads end at end of file, which follows the exit.
    let collect = |rx: Receiver<String>| {
        let mut text = String::new();
        while let Ok(line) = rx.recv_timeout(WAIT) {
            text.push_str(&line);
            text.push('\n');
        }
        text
    };
    Output {
        ok: status.success(),
        stdout: collect(out),
        stderr: collect(err),
    }
}

/// Asserts that a client succeeded, showing everything it printed if not.
#[track_caller]
fn assert_ok(out: &Output) {
    assert!(
        out.ok,
        "client failed\nstdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
}

#[test]
fn echo_client_gets_its_message_back() {
    let server = Server::start("echo_server");
    let out = run_client("echo_client", server.port, &["hello", "打电话"], "");
    assert_ok(&out);
    assert_eq!(
        out.stdout,
        "sending: hello 打电话\nreceived: hello 打电话\n"
    );
    server.expect("connected: 127.0.0.1:");

    // The default message, from a second client: the server keeps serving.
    let out = run_client("echo_client", server.port, &[], "");
    assert_ok(&out);
    assert!(
        out.stdout.contains("received: Hello, world"),
        "{}",
        out.stdout
    );
}

#[test]
fn echo_server_serves_clients_at_the_same_time() {
    let server = Server::start("echo_server");
    // One client stays connected and silent; another is still served,
    // because each connection has its own thread.
    let idle = bounded(Socket::new(Family::Inet, SockType::Stream).unwrap());
    idle.connect(&v4(server.port)).unwrap();
    let out = run_client("echo_client", server.port, &["meanwhile"], "");
    assert_ok(&out);
    assert!(out.stdout.contains("received: meanwhile"), "{}", out.stdout);
    idle.send_all(b"still here", 0).unwrap();
    let mut buf = [0u8; 10];
    util::recv_exact(&idle, &mut buf);
    assert_eq!(&buf, b"still here");
}

#[test]
fn udp_echo_answers_each_line_upper_cased() {
    let server = Server::start("udp_echo_server");
    let input = "hello udp\n\nsecond 中文 line\n";
    let out = run_client("udp_echo_client", server.port, &[], input);
    assert_ok(&out);
    let port = server.port;
    assert_eq!(
        out.stdout,
        format!(
            "reply from 127.0.0.1:{port}: HELLO UDP\nreply from 127.0.0.1:{port}: SECOND 中文 LINE\n"
        )
    );
    server.expect(": hello udp");
    server.expect(": second 中文 line");
}

#[test]
fn phone_server_survives_vanished_clients_and_serves_the_next() {
    let server = Server::start("phone_server");

    // A polite client: talks, then says "q". Empty lines are not sent.
    let out = run_client("phone_client", server.port, &[], "hello\n\n你好 abc\nq\n");
    assert_ok(&out);
    assert_eq!(out.stdout, "HELLO\n你好 ABC\n");
    server.expect("heard from 127.0.0.1:");
    server.expect("hung up");

    // A client whose input just ends: it leaves without "q".
    let out = run_client("phone_client", server.port, &[], "bye without q\n");
    assert_ok(&out);
    assert_eq!(out.stdout, "BYE WITHOUT Q\n");
    server.expect("hung up");

    // A client that vanishes mid-call: the connection is reset (SO_LINGER
    // 0), as when the process is killed.
    let rude = bounded(Socket::new(Family::Inet, SockType::Stream).unwrap());
    rude.connect(&v4(server.port)).unwrap();
    rude.send_all(b"ping", 0).unwrap();
    let mut buf = [0u8; 4];
    util::recv_exact(&rude, &mut buf);
    assert_eq!(&buf, b"PING");
    let linger = [1i32.to_ne_bytes(), 0i32.to_ne_bytes()].concat();
    rude.set_option_bytes(libc::SOL_SOCKET, libc::SO_LINGER, &linger)
        .unwrap();
    rude.close().unwrap();
    server.expect("hung up");

    // The server is still there for the next call.
    let out = run_client("phone_client", server.port, &[], "still up?\nq\n");
    assert_ok(&out);
    assert_eq!(out.stdout, "STILL UP?\n");
}

#[test]
fn phone_client_reports_a_refused_call() {
    // A port that refuses: bound, never listening.
    let holder = Socket::new(Family::Inet, SockType::Stream).unwrap();
    holder.bind(&v4(0)).unwrap();
    let port = holder.local_addr().unwrap().port().unwrap();
    let out = run_client("phone_client", port, &[], "hello\n");
    assert!(!out.ok, "{}", out.stdout);
    let expected = format!("phone_client: connect 127.0.0.1:{port}: connection refused");
    assert!(out.stderr.starts_with(&expected), "{}", out.stderr);
    assert!(
        out.stderr.contains("nothing is listening there"),
        "{}",
        out.stderr
    );
}

#[test]
fn qq_chat_server_answers_with_typed_lines() {
    let mut server = Server::start("qq_chat_server");
    // The reply is typed before the message arrives; the server reads it
    // when it has a message to answer.
    server.type_in("hi from the server\n");
    let out = run_client("qq_chat_client", server.port, &[], "hello qq\nquit\n");
    assert_ok(&out);
    assert_eq!(
        out.stdout,
        format!(
            "message from [127.0.0.1:{}]: hi from the server\n",
            server.port
        )
    );
    server.expect("]: hello qq");
    server.expect("reply: hi from the server");
}

#[test]
fn port_in_use_shows_the_error_and_the_fix() {
    let out = run_client("port_in_use", 0, &[], "");
    assert_ok(&out);
    let text = &out.stdout;
    assert!(
        text.contains(": address already in use (os error 98); "),
        "{text}"
    );
    assert!(text.contains("SO_REUSEADDR"), "{text}");
    assert!(
        text.contains("restart with SO_REUSEADDR: listening on"),
        "{text}"
    );
    assert!(text.contains("got 5 bytes: \"hello\""), "{text}");
    assert!(text.contains("got back \"你好, socket\""), "{text}");
}

#[test]
fn servers_refuse_unknown_arguments() {
    let out = run_client("echo_server", 0, &["--bogus"], "");
    assert!(!out.ok);
    assert!(
        out.stderr.contains("unknown argument \"--bogus\""),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("usage: echo_server"), "{}", out.stderr);
}
