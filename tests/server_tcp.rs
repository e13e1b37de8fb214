//! The stream server engine over TCP (and one Unix stream case): concurrent
//! clients, clients that vanish, failing handlers, limits, timeouts,
//! restarts.
//!
//! Every client socket has a timeout, so a bug fails a test instead of
//! hanging it; every wait for the server is bounded polling.

mod util;

use std::io::{Read, Write};
use std::net::Shutdown;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use ferrosock::server::{Connection, HandlerResult, Hooks, Mode, Overflow, Request, Server};
use ferrosock::{Address, Cause, Timeout};
use util::server::{ask, connect, phone, poll_until, tcp, Recorder, Running, PATIENCE};

#[test]
fn two_clients_are_served_at_once_by_the_thread_per_connection_server() {
    let running = Running::start(tcp().mode(Mode::ThreadPerConnection).build(phone).unwrap());
    let a = connect(&running.addr());
    let b = connect(&running.addr());
    // The seeds' run: A and B take turns while both stay connected, which a
    // one-at-a-time server could not do.
    assert_eq!(ask(&a, "a"), "A");
    assert_eq!(ask(&b, "b"), "B");
    assert_eq!(ask(&a, "aaa"), "AAA");
    assert_eq!(ask(&b, "bbb"), "BBB");
    drop((a, b));
    running.stop();
}

#[test]
fn a_client_that_resets_mid_conversation_does_not_stop_the_server() {
    let log = Recorder::default();
    let running = Running::start(tcp().hooks(log.clone()).build(phone).unwrap());
    let gone = connect(&running.addr());
    assert_eq!(ask(&gone, "hello"), "HELLO");
    // Vanish: SO_LINGER 0 turns close into a reset, as a killed client does.
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: `linger` is a plain C struct; we view its bytes for setsockopt.
    let bytes = unsafe {
        std::slice::from_raw_parts(
            (&linger as *const libc::linger).cast::<u8>(),
            std::mem::size_of::<libc::linger>(),
        )
    };
    gone.set_option_bytes(libc::SOL_SOCKET, libc::SO_LINGER, bytes)
        .unwrap();
    gone.send_all(b"half a sent", 0).unwrap();
    gone.close().unwrap();

    let other = connect(&running.addr());
    assert_eq!(ask(&other, "still there?"), "STILL THERE?");
    // And a client that just closes mid-conversation is fine too.
    let polite = connect(&running.addr());
    assert_eq!(ask(&polite, "bye"), "BYE");
    polite.shutdown(Shutdown::Both).unwrap();
    let again = connect(&running.addr());
    assert_eq!(ask(&again, "again"), "AGAIN");
    drop((other, again, polite));
    running.stop();
}

#[test]
fn a_panicking_handler_is_logged_and_the_server_keeps_serving() {
    let log = Recorder::default();
    let running = Running::start(
        tcp()
            .hooks(log.clone())
            .build(|conn: &mut Connection| -> HandlerResult {
                let mut buf = [0u8; 64];
                let n = conn.read(&mut buf)?;
                if &buf[..n] == b"panic" {
                    panic!("asked to panic");
                }
                conn.write_all(&buf[..n].to_ascii_uppercase())?;
                Ok(())
            })
            .unwrap(),
    );
    let victim = connect(&running.addr());
    victim.send_all(b"panic", 0).unwrap();
    let mut buf = [0u8; 8];
    // The engine closes the connection of the failed handler.
    assert_eq!(victim.recv(&mut buf, 0).unwrap(), 0);
    let line = log.wait_for("panicked");
    assert!(line.contains("asked to panic"), "{line}");
    assert!(
        line.contains("127.0.0.1:"),
        "the line names the client: {line}"
    );

    let next = connect(&running.addr());
    assert_eq!(ask(&next, "fine"), "FINE");
    drop((victim, next));
    running.stop();
}

#[test]
fn a_failing_handler_is_logged_through_the_error_hook_and_the_server_keeps_serving() {
    #[derive(Clone, Default)]
    struct Errors(Arc<Mutex<Vec<String>>>);
    impl Hooks for Errors {
        fn error(&self, request: Request<'_>, error: &(dyn std::error::Error + Send + Sync)) {
            let line = format!("{} -> {error}", request.peer());
            self.0.lock().unwrap().push(line);
        }
    }
    let errors = Errors::default();
    let running = Running::start(
        tcp()
            .hooks(errors.clone())
            .build(|conn: &mut Connection| -> HandlerResult {
                let mut buf = [0u8; 64];
                let n = conn.read(&mut buf)?;
                if &buf[..n] == b"fail" {
                    return Err("the request was refused by the handler".into());
                }
                conn.write_all(&buf[..n].to_ascii_uppercase())?;
                Ok(())
            })
            .unwrap(),
    );
    let bad = connect(&running.addr());
    bad.send_all(b"fail", 0).unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(bad.recv(&mut buf, 0).unwrap(), 0);
    let line = poll_until("the error hook", || {
        errors.0.lock().unwrap().first().cloned()
    });
    assert!(line.contains("refused by the handler"), "{line}");

    let good = connect(&running.addr());
    assert_eq!(ask(&good, "ok"), "OK");
    drop((bad, good));
    running.stop();
}

#[test]
fn binding_a_taken_port_fails_with_an_error_naming_the_address() {
    let first = tcp().build(phone).unwrap();
    let taken = first.local_addr().to_string();
    let err = Server::builder().bind(&taken).build(phone).unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with(&format!("bind {taken}: ")), "{text}");
    assert_eq!(err.errno(), Some(libc::EADDRINUSE), "{text}");
}

#[test]
fn a_server_restarts_on_the_same_port_right_after_close() {
    let running = Running::start(tcp().build(phone).unwrap());
    let addr = running.addr();
    let client = connect(&addr);
    assert_eq!(ask(&client, "one"), "ONE");
    drop(client);
    running.stop();

    // The old connection may linger in TIME_WAIT; SO_REUSEADDR (on by
    // default) lets the new server bind anyway.
    let again = Running::start(
        Server::builder()
            .bind(&addr.to_string())
            .build(phone)
            .unwrap(),
    );
    assert_eq!(again.addr(), addr);
    let client = connect(&addr);
    assert_eq!(ask(&client, "two"), "TWO");
    drop(client);
    again.stop();
}

#[test]
fn max_connections_with_refuse_closes_the_extra_client_and_logs_it() {
    let log = Recorder::default();
    let running = Running::start(
        tcp()
            .max_connections(1, Overflow::Refuse)
            .hooks(log.clone())
            .build(phone)
            .unwrap(),
    );
    let first = connect(&running.addr());
    assert_eq!(ask(&first, "in"), "IN");

    let extra = connect(&running.addr());
    let mut buf = [0u8; 8];
    // Accepted and closed at once: end-of-file (or a reset).
    match extra.recv(&mut buf, 0) {
        Ok(n) => assert_eq!(n, 0),
        Err(e) => assert_eq!(e.errno(), Some(libc::ECONNRESET), "{e}"),
    }
    let line = log.wait_for("refused connection");
    assert!(line.contains("max_connections = 1"), "{line}");
    assert!(line.contains("Refuse"), "{line}");

    // Once the first client leaves there is room again.
    drop(first);
    let served = poll_until("room under the limit", || {
        let c = connect(&running.addr());
        c.send_all(b"later", 0).ok()?;
        let mut buf = [0u8; 16];
        match c.recv(&mut buf, 0) {
            Ok(n) if n > 0 => Some(String::from_utf8_lossy(&buf[..n]).into_owned()),
            _ => None,
        }
    });
    assert_eq!(served, "LATER");
    running.stop();
}

#[test]
fn max_connections_with_wait_holds_the_extra_client_until_one_finishes() {
    let log = Recorder::default();
    let running = Running::start(
        tcp()
            .max_connections(1, Overflow::Wait)
            .hooks(log.clone())
            .build(phone)
            .unwrap(),
    );
    let first = connect(&running.addr());
    assert_eq!(ask(&first, "first"), "FIRST");

    // The second connection completes in the kernel's backlog, but is not
    // served while the first one is: its question gets no answer yet.
    let second = connect(&running.addr());
    second.send_all(b"second", 0).unwrap();
    second
        .set_timeout(Timeout::After(Duration::from_millis(300)))
        .unwrap();
    let mut buf = [0u8; 16];
    let err = second.recv(&mut buf, 0).unwrap_err();
    assert!(matches!(err.cause(), Cause::TimedOut), "{err}");

    // When the first leaves, the second is accepted and answered.
    drop(first);
    second.set_timeout(Timeout::After(PATIENCE)).unwrap();
    let n = second.recv(&mut buf, 0).unwrap();
    assert_eq!(&buf[..n], b"SECOND");
    assert!(log.lines().is_empty(), "nothing refused: {:?}", log.lines());
    drop(second);
    running.stop();
}

#[test]
fn a_pool_serves_more_clients_than_it_has_threads() {
    let running = Running::start(tcp().mode(Mode::Pool { threads: 2 }).build(phone).unwrap());
    let addr = running.addr();
    let clients: Vec<_> = (0..6)
        .map(|i| {
            let addr = addr.clone();
            thread::spawn(move || {
                let c = connect(&addr);
                for round in 0..3 {
                    let msg = format!("client {i} round {round}");
                    assert_eq!(ask(&c, &msg), msg.to_uppercase());
                }
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
    assert!(running.server.handler_threads() <= 2);
    running.stop();
}

#[test]
fn a_pool_queues_a_third_client_until_a_thread_is_free() {
    let running = Running::start(tcp().mode(Mode::Pool { threads: 2 }).build(phone).unwrap());
    let a = connect(&running.addr());
    let b = connect(&running.addr());
    assert_eq!(ask(&a, "a"), "A");
    assert_eq!(ask(&b, "b"), "B");
    let c = connect(&running.addr());
    c.send_all(b"c", 0).unwrap();
    drop(a); // frees a thread, which takes the queued connection
    let mut buf = [0u8; 4];
    let n = c.recv(&mut buf, 0).unwrap();
    assert_eq!(&buf[..n], b"C");
    assert_eq!(running.server.handler_threads(), 2);
    drop((b, c));
    running.stop();
}

#[test]
fn the_idle_timeout_closes_a_silent_connection() {
    let log = Recorder::default();
    let running = Running::start(
        tcp()
            .idle_timeout(Duration::from_millis(200))
            .hooks(log.clone())
            .build(phone)
            .unwrap(),
    );
    let silent = connect(&running.addr());
    let mut buf = [0u8; 8];
    // We say nothing; the server gives up on us and closes.
    assert_eq!(silent.recv(&mut buf, 0).unwrap(), 0);
    let line = log.wait_for("timed out");
    assert!(line.contains("127.0.0.1:"), "{line}");
    // A talkative client is still served.
    let talker = connect(&running.addr());
    assert_eq!(ask(&talker, "hi"), "HI");
    drop(talker);
    running.stop();
}

#[test]
fn sequential_mode_serves_clients_one_after_another() {
    let running = Running::start(tcp().mode(Mode::Sequential).build(phone).unwrap());
    for i in 0..3 {
        let c = connect(&running.addr());
        assert_eq!(ask(&c, &format!("n{i}")), format!("N{i}"));
    }
    assert_eq!(running.server.handler_threads(), 0);
    running.stop();
}

#[test]
fn the_verify_hook_can_turn_a_client_away() {
    struct NoOne;
    impl Hooks for NoOne {
        fn verify(&self, _request: Request<'_>) -> bool {
            false
        }
    }
    let running = Running::start(tcp().hooks(NoOne).build(phone).unwrap());
    let c = connect(&running.addr());
    let _ = c.send_all(b"let me in", 0);
    let mut buf = [0u8; 8];
    match c.recv(&mut buf, 0) {
        Ok(n) => assert_eq!(n, 0),
        Err(e) => assert_eq!(e.errno(), Some(libc::ECONNRESET), "{e}"),
    }
    running.stop();
}

#[test]
fn a_unix_stream_server_serves_on_a_temp_path_and_removes_it_on_close() {
    let path = std::env::temp_dir().join(format!("fsock-srv-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let running = Running::start(Server::builder().unix(&path).build(phone).unwrap());
    assert_eq!(running.addr(), Address::unix(&path));
    let c = connect(&Address::unix(&path));
    assert_eq!(ask(&c, "over unix"), "OVER UNIX");
    let d = connect(&Address::unix(&path));
    assert_eq!(ask(&d, "two"), "TWO");
    drop((c, d));
    running.stop();
    assert!(!path.exists(), "close removes the socket file");
}

#[test]
fn a_handler_can_write_with_the_socket_directly() {
    let running = Running::start(
        tcp()
            .build(|conn: &mut Connection| -> HandlerResult {
                let peer = conn.peer().to_string();
                conn.socket().send_all(peer.as_bytes(), 0)?;
                Ok(())
            })
            .unwrap(),
    );
    let c = connect(&running.addr());
    let mut buf = [0u8; 64];
    let n = c.recv(&mut buf, 0).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&buf[..n]),
        c.local_addr().unwrap().to_string()
    );
    running.stop();
}

#[test]
fn an_ipv6_server_serves_on_the_loopback() {
    let server = match Server::builder().bind("[::1]:0").build(phone) {
        Ok(s) => s,
        // A machine without IPv6 on its loopback has nothing to test here.
        Err(e) if matches!(e.errno(), Some(libc::EADDRNOTAVAIL | libc::EAFNOSUPPORT)) => return,
        Err(e) => panic!("{e}"),
    };
    let running = Running::start(server);
    assert!(running.addr().to_string().starts_with("[::1]:"));
    let c = connect(&running.addr());
    assert_eq!(ask(&c, "six"), "SIX");
    drop(c);
    running.stop();
}

/// The `TCP_NODELAY` value of an accepted connection, as its handler sees
/// it (the handler sends it back as one byte).
fn nodelay_seen(builder: ferrosock::server::Builder) -> u8 {
    let running = Running::start(
        builder
            .mode(Mode::Sequential)
            .build(|conn: &mut Connection| -> HandlerResult {
                let on = conn.socket().option(libc::IPPROTO_TCP, libc::TCP_NODELAY)?;
                conn.write_all(&[u8::from(on != 0)])?;
                Ok(())
            })
            .unwrap(),
    );
    let c = connect(&running.addr());
    let mut got = [9u8; 1];
    (&c).read_exact(&mut got).unwrap();
    running.stop();
    got[0]
}

#[test]
fn accepted_tcp_connections_have_nodelay_by_default() {
    assert_eq!(nodelay_seen(tcp()), 1);
}

#[test]
fn nodelay_false_keeps_the_os_default_on_accepted_connections() {
    assert_eq!(nodelay_seen(tcp().nodelay(false)), 0);
    assert_eq!(nodelay_seen(tcp().nodelay(true)), 1);
}
