//! The datagram server engine: UDP and Unix datagram request/reply, and a
//! failing handler.

mod util;

use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use ferrosock::server::{Datagram, HandlerResult, Mode, Overflow, Server};
use ferrosock::{Address, Family, SockType, Socket, Timeout, UnixAddr};
use util::server::{Recorder, Running, PATIENCE};

/// The seeds' UDP server: answer each datagram upper-cased.
fn shout(d: &Datagram) -> HandlerResult {
    d.reply(&d.data().to_ascii_uppercase())?;
    Ok(())
}

fn client(family: Family) -> Socket {
    let s = Socket::new(family, SockType::Datagram).unwrap();
    s.set_timeout(Timeout::After(PATIENCE)).unwrap();
    s
}

fn ask(sock: &Socket, to: &Address, msg: &str) -> (String, Address) {
    sock.send_to(msg.as_bytes(), 0, to).unwrap();
    let mut buf = [0u8; 1024];
    let (n, from) = sock.recv_from(&mut buf, 0).unwrap();
    (String::from_utf8_lossy(&buf[..n]).into_owned(), from)
}

fn temp_path(tag: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("fsock-udp-{tag}-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&p);
    p
}

#[test]
fn udp_request_gets_a_reply_from_the_server_address() {
    let running = Running::start(
        Server::builder()
            .udp("127.0.0.1:0")
            .build_datagram(shout)
            .unwrap(),
    );
    let addr = running.addr();
    assert_ne!(addr.port(), Some(0), "port 0 is read back");
    let a = client(Family::Inet);
    let b = client(Family::Inet);
    let (reply, from) = ask(&a, &addr, "qq from a");
    assert_eq!(reply, "QQ FROM A");
    assert_eq!(from, addr);
    assert_eq!(ask(&b, &addr, "from b").0, "FROM B");
    assert_eq!(ask(&a, &addr, "a again").0, "A AGAIN");
    running.stop();
}

#[test]
fn udp_in_every_mode_answers_many_datagrams() {
    for mode in [
        Mode::Sequential,
        Mode::ThreadPerConnection,
        Mode::Pool { threads: 2 },
    ] {
        let running = Running::start(
            Server::builder()
                .bind("127.0.0.1:0")
                .mode(mode)
                .build_datagram(shout)
                .unwrap(),
        );
        let c = client(Family::Inet);
        for i in 0..10 {
            assert_eq!(
                ask(&c, &running.addr(), &format!("m{i}")).0,
                format!("M{i}")
            );
        }
        running.stop();
    }
}

#[test]
fn a_failing_datagram_handler_is_logged_and_the_server_keeps_serving() {
    let log = Recorder::default();
    let running = Running::start(
        Server::builder()
            .udp("127.0.0.1:0")
            .hooks(log.clone())
            .build_datagram(|d: &Datagram| -> HandlerResult {
                match d.data() {
                    b"fail" => Err("no thanks".into()),
                    b"panic" => panic!("datagram panic"),
                    _ => shout(d),
                }
            })
            .unwrap(),
    );
    let c = client(Family::Inet);
    c.send_to(b"fail", 0, &running.addr()).unwrap();
    c.send_to(b"panic", 0, &running.addr()).unwrap();
    log.wait_for("no thanks");
    log.wait_for("datagram panic");
    assert_eq!(ask(&c, &running.addr(), "ok").0, "OK");
    running.stop();
}

#[test]
fn a_unix_datagram_server_replies_to_a_bound_client() {
    let server_path = temp_path("srv");
    let client_path = temp_path("cli");
    let running = Running::start(
        Server::builder()
            .unix(&server_path)
            .build_datagram(shout)
            .unwrap(),
    );
    let c = client(Family::Unix);
    c.bind(&Address::unix(&client_path)).unwrap();
    let (reply, from) = ask(&c, &Address::unix(&server_path), "over a unix datagram");
    assert_eq!(reply, "OVER A UNIX DATAGRAM");
    assert_eq!(from, Address::unix(&server_path));
    running.stop();
    assert!(!server_path.exists(), "close removes the socket file");
    let _ = std::fs::remove_file(&client_path);
}

#[test]
fn replying_to_an_unbound_unix_sender_is_a_clear_error() {
    let server_path = temp_path("unbound");
    let log = Recorder::default();
    let running = Running::start(
        Server::builder()
            .unix(&server_path)
            .hooks(log.clone())
            .build_datagram(|d: &Datagram| -> HandlerResult {
                assert_eq!(d.peer(), &Address::Unix(UnixAddr::Unnamed));
                shout(d)
            })
            .unwrap(),
    );
    let c = client(Family::Unix);
    c.send_to(b"who am i", 0, &Address::unix(&server_path))
        .unwrap();
    let line = log.wait_for("not bound to a path");
    assert!(line.contains("unix:(unnamed)"), "{line}");
    running.stop();
}

#[test]
fn max_connections_with_refuse_drops_extra_datagrams_and_logs_it() {
    let log = Recorder::default();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let release_rx = Mutex::new(release_rx);
    let running = Running::start(
        Server::builder()
            .udp("127.0.0.1:0")
            .max_connections(1, Overflow::Refuse)
            .hooks(log.clone())
            .build_datagram(move |d: &Datagram| -> HandlerResult {
                if d.data() == b"hold" {
                    // Stay busy until the test lets go (bounded).
                    let _ = release_rx
                        .lock()
                        .unwrap()
                        .recv_timeout(Duration::from_secs(5));
                }
                shout(d)
            })
            .unwrap(),
    );
    let c = client(Family::Inet);
    c.send_to(b"hold", 0, &running.addr()).unwrap();
    // Wait until the first datagram is being handled, then send another.
    let start = Instant::now();
    while running.server.handler_threads() == 0 {
        assert!(start.elapsed() < PATIENCE);
        thread::sleep(Duration::from_millis(5));
    }
    c.send_to(b"extra", 0, &running.addr()).unwrap();
    let line = log.wait_for("dropped datagram");
    assert!(line.contains("max_connections = 1"), "{line}");
    release_tx.send(()).unwrap();
    let mut buf = [0u8; 16];
    let (n, _) = c.recv_from(&mut buf, 0).unwrap();
    assert_eq!(&buf[..n], b"HOLD");
    running.stop();
}

#[test]
fn a_stream_handler_on_a_udp_endpoint_is_refused() {
    let err = Server::builder()
        .udp("127.0.0.1:0")
        .build(|_: &mut ferrosock::server::Connection| -> HandlerResult { Ok(()) })
        .unwrap_err();
    assert!(err.to_string().contains("build_datagram"), "{err}");
}

/// Sends `count` datagrams `b{i}` in bursts of `burst` (each burst fits in
/// the default socket buffers, so none is dropped on the loopback), and
/// checks that every one is answered.
fn burst_is_answered(mode: Mode, count: usize, burst: usize) {
    let server = Server::builder()
        .udp("127.0.0.1:0")
        .mode(mode)
        .build_datagram(shout)
        .unwrap();
    // Larger buffers where the system allows it (it caps them silently).
    let _ = server
        .socket()
        .set_option(libc::SOL_SOCKET, libc::SO_RCVBUF, 1 << 20);
    let running = Running::start(server);
    let addr = running.addr();
    let c = client(Family::Inet);
    let _ = c.set_option(libc::SOL_SOCKET, libc::SO_RCVBUF, 1 << 20);
    let mut seen = vec![false; count];
    let mut buf = [0u8; 64];
    for start in (0..count).step_by(burst) {
        let end = (start + burst).min(count);
        for i in start..end {
            c.send_to(format!("b{i}").as_bytes(), 0, &addr).unwrap();
        }
        for _ in start..end {
            let (n, from) = c.recv_from(&mut buf, 0).unwrap();
            assert_eq!(from, addr);
            let text = std::str::from_utf8(&buf[..n]).unwrap();
            let i: usize = text.strip_prefix('B').unwrap().parse().unwrap();
            assert!(!seen[i], "{text} answered twice");
            seen[i] = true;
        }
    }
    assert!(seen.iter().all(|s| *s));
    running.stop();
}

#[test]
fn a_burst_of_datagrams_is_all_answered_in_every_mode() {
    burst_is_answered(Mode::Sequential, 500, 50);
    burst_is_answered(Mode::ThreadPerConnection, 200, 20);
    burst_is_answered(Mode::Pool { threads: 2 }, 200, 20);
}

#[test]
fn datagrams_of_every_size_up_to_the_limit_reuse_buffers_correctly() {
    // A short datagram after a long one must not show the long one's tail.
    let running = Running::start(
        Server::builder()
            .udp("127.0.0.1:0")
            .mode(Mode::Sequential)
            .max_datagram(16)
            .build_datagram(|d: &Datagram| -> HandlerResult {
                d.reply(d.data())?;
                Ok(())
            })
            .unwrap(),
    );
    let c = client(Family::Inet);
    let addr = running.addr();
    for msg in ["a long datagram, cut", "ab", "", "abcdefghijklmnopq", "x"] {
        c.send_to(msg.as_bytes(), 0, &addr).unwrap();
        let mut buf = [0u8; 64];
        let (n, _) = c.recv_from(&mut buf, 0).unwrap();
        let want = &msg.as_bytes()[..msg.len().min(16)];
        assert_eq!(&buf[..n], want);
    }
    running.stop();
}

#[test]
fn a_shutdown_asked_during_a_burst_stops_before_the_next_datagram() {
    let handled = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&handled);
    let server = Server::builder()
        .udp("127.0.0.1:0")
        .mode(Mode::Sequential)
        .build_datagram(move |d: &Datagram| -> HandlerResult {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if d.data() == b"stop" {
                d.server().shutdown(); // from the loop's thread: only asks
            }
            Ok(())
        })
        .unwrap();
    let addr = server.local_addr().clone();
    // The whole burst is queued before the loop starts: the first turn
    // finds all of it readable at once.
    let c = client(Family::Inet);
    c.send_to(b"stop", 0, &addr).unwrap();
    for i in 0..40 {
        c.send_to(format!("after {i}").as_bytes(), 0, &addr)
            .unwrap();
    }
    server.serve_forever().unwrap();
    assert_eq!(handled.load(std::sync::atomic::Ordering::SeqCst), 1);
    // The rest is still there for the next loop.
    let running = Running::start(server);
    util::server::wait_until("the rest of the burst", || {
        handled.load(std::sync::atomic::Ordering::SeqCst) == 41
    });
    running.stop();
}

#[test]
fn shutdown_from_another_thread_returns_during_a_flood() {
    let handled = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&handled);
    let running = Running::start(
        Server::builder()
            .udp("127.0.0.1:0")
            .mode(Mode::Sequential)
            .build_datagram(move |d: &Datagram| -> HandlerResult {
                counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                shout(d)
            })
            .unwrap(),
    );
    let addr = running.addr();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flooding = std::sync::Arc::clone(&stop);
    let flooder = thread::spawn(move || {
        let c = client(Family::Inet);
        for i in 0..200_000u32 {
            if flooding.load(std::sync::atomic::Ordering::Relaxed) {
                break;
            }
            // Replies are never read: the client's buffer fills and the
            // kernel drops them, which is fine for a flood.
            let _ = c.send_to(&i.to_be_bytes(), 0, &addr);
        }
    });
    util::server::wait_until("the flood is being served", || {
        handled.load(std::sync::atomic::Ordering::Relaxed) >= 100
    });
    running.stop(); // shutdown + join: must return while datagrams pour in
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    flooder.join().unwrap();
}
