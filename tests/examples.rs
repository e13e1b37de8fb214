//! Runs the examples the way the tutorial does: a server in one process, a
//! client in another, text typed on stdin.
//!
//! Servers are started with `--port 0` and announce their port on the
//! first line of output. Every wait is bounded by `util::WAIT`; every process
//! started here is killed by its PID if it outlives its test (see
//! `util::process`).

mod util;

use ferrosock::{Family, SockType, Socket};
use util::process::{assert_ok, Examples, Output};
use util::{bounded, v4};

/// The examples this file runs; only these are built.
static EXAMPLES: Examples = Examples::new(&[
    "echo_server",
    "echo_client",
    "udp_echo_server",
    "udp_echo_client",
    "phone_server",
    "phone_client",
    "qq_chat_server",
    "qq_chat_client",
    "port_in_use",
    "server_event_echo",
]);

/// Runs a client example with `--host 127.0.0.1 --port port` and `extra`
/// to completion, `input` on its stdin.
fn run_client(name: &str, port: u16, extra: &[&str], input: &str) -> Output {
    let port = port.to_string();
    let args = [&["--host", "127.0.0.1", "--port", &port], extra].concat();
    EXAMPLES.run(name, &args, input)
}

#[test]
fn echo_client_gets_its_message_back() {
    let (server, port) = EXAMPLES.start_server("echo_server", &[]);
    let out = run_client("echo_client", port, &["hello", "打电话"], "");
    assert_ok(&out);
    assert_eq!(
        out.stdout,
        "sending: hello 打电话\nreceived: hello 打电话\n"
    );
    server.expect("connected: 127.0.0.1:");

    // The default message, from a second client: the server keeps serving.
    let out = run_client("echo_client", port, &[], "");
    assert_ok(&out);
    assert!(
        out.stdout.contains("received: Hello, world"),
        "{}",
        out.stdout
    );
}

#[test]
fn echo_server_serves_clients_at_the_same_time() {
    let (_server, port) = EXAMPLES.start_server("echo_server", &[]);
    // One client stays connected and silent; another is still served,
    // because each connection has its own thread.
    let idle = bounded(Socket::new(Family::Inet, SockType::Stream).unwrap());
    idle.connect(&v4(port)).unwrap();
    let out = run_client("echo_client", port, &["meanwhile"], "");
    assert_ok(&out);
    assert!(out.stdout.contains("received: meanwhile"), "{}", out.stdout);
    idle.send_all(b"still here", 0).unwrap();
    let mut buf = [0u8; 10];
    util::recv_exact(&idle, &mut buf);
    assert_eq!(&buf, b"still here");
}

#[test]
fn event_loop_echo_server_serves_a_silent_client_and_a_talking_one() {
    let (_server, port) = EXAMPLES.start_server("server_event_echo", &[]);
    // One loop or several, no client holds a thread: the silent one does
    // not keep the other waiting.
    let idle = bounded(Socket::new(Family::Inet, SockType::Stream).unwrap());
    idle.connect(&v4(port)).unwrap();
    let out = run_client("echo_client", port, &["meanwhile", "事件循环"], "");
    assert_ok(&out);
    assert!(
        out.stdout.contains("received: meanwhile 事件循环"),
        "{}",
        out.stdout
    );
    idle.send_all(b"still here", 0).unwrap();
    let mut buf = [0u8; 10];
    util::recv_exact(&idle, &mut buf);
    assert_eq!(&buf, b"still here");
}

#[test]
fn udp_echo_answers_each_line_upper_cased() {
    let (server, port) = EXAMPLES.start_server("udp_echo_server", &[]);
    let input = "hello udp\n\nsecond 中文 line\n";
    let out = run_client("udp_echo_client", port, &[], input);
    assert_ok(&out);
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
    let (server, port) = EXAMPLES.start_server("phone_server", &[]);

    // A polite client: talks, then says "q". Empty lines are not sent.
    let out = run_client("phone_client", port, &[], "hello\n\n你好 abc\nq\n");
    assert_ok(&out);
    assert_eq!(out.stdout, "HELLO\n你好 ABC\n");
    server.expect("heard from 127.0.0.1:");
    server.expect("hung up");

    // A client whose input just ends: it leaves without "q".
    let out = run_client("phone_client", port, &[], "bye without q\n");
    assert_ok(&out);
    assert_eq!(out.stdout, "BYE WITHOUT Q\n");
    server.expect("hung up");

    // A client that vanishes mid-call: the connection is reset (SO_LINGER
    // 0), as when the process is killed.
    let rude = bounded(Socket::new(Family::Inet, SockType::Stream).unwrap());
    rude.connect(&v4(port)).unwrap();
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
    let out = run_client("phone_client", port, &[], "still up?\nq\n");
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
    let (mut server, port) = EXAMPLES.start_server("qq_chat_server", &[]);
    // The reply is typed before the message arrives; the server reads it
    // when it has a message to answer.
    server.type_in("hi from the server\n");
    let out = run_client("qq_chat_client", port, &[], "hello qq\nquit\n");
    assert_ok(&out);
    assert_eq!(
        out.stdout,
        format!("message from [127.0.0.1:{}]: hi from the server\n", port)
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
