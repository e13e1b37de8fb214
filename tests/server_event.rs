//! The engine's event-loop mode over TCP and Unix streams: many clients on
//! few loops, messages split anywhere, large transfers with back-pressure,
//! clients that vanish or break the limits, panicking protocols, idle
//! timeouts, connection limits, shutdown and restart.
//!
//! Every client socket has a timeout, so a bug fails a test instead of
//! hanging it; every wait for the server is bounded polling.

mod util;

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use ferrosock::server::{Conn, ConnHandle, EventServer, Overflow, Protocol, Server};
use ferrosock::{Address, ErrorKind, Socket};
use util::server::{connect, poll_until, Recorder, RunningEvents as Running};

/// Echoes everything.
struct Echo;

impl Protocol for Echo {
    fn received(&mut self, conn: &mut Conn<'_>, data: &[u8]) -> usize {
        conn.write(data);
        data.len()
    }
}

/// What the protocols of a test saw end: one entry per closed connection.
#[derive(Clone, Default)]
struct Endings(Arc<Mutex<Vec<Option<ErrorKind>>>>);

impl Endings {
    fn wait_for(&self, n: usize) -> Vec<Option<ErrorKind>> {
        poll_until(&format!("{n} closed connections"), || {
            let seen = self.0.lock().unwrap().clone();
            (seen.len() >= n).then_some(seen)
        })
    }
}

/// Answers each `\n`-terminated line upper-cased; `quit` gets `bye` and a
/// close; `boom` panics; `stop` shuts the server down. Records endings.
struct Lines(Endings);

impl Protocol for Lines {
    fn received(&mut self, conn: &mut Conn<'_>, data: &[u8]) -> usize {
        let mut used = 0;
        while let Some(end) = data[used..].iter().position(|&b| b == b'\n') {
            let line = &data[used..used + end];
            used += end + 1;
            match line {
                b"quit" => {
                    conn.write(b"bye\n");
                    conn.close();
                    return used;
                }
                b"boom" => panic!("the client said boom"),
                b"stop" => conn.server().shutdown(),
                _ => {
                    conn.write(&line.to_ascii_uppercase());
                    conn.write(b"\n");
                }
            }
        }
        used
    }

    fn closed(&mut self, error: Option<&ferrosock::Error>) {
        self.0 .0.lock().unwrap().push(error.map(|e| e.kind()));
    }
}

fn lines_server(endings: &Endings) -> ferrosock::server::Builder {
    let _ = endings;
    Server::builder().bind("127.0.0.1:0").loops(2)
}

fn build_lines(builder: ferrosock::server::Builder, endings: &Endings) -> EventServer {
    let endings = endings.clone();
    builder
        .build_events(move |_: &Address| Lines(endings.clone()))
        .unwrap()
}

/// Reads until `want` bytes arrived (or EOF).
fn read_n(sock: &Socket, want: usize) -> Vec<u8> {
    let mut got = Vec::with_capacity(want.min(1 << 20));
    let mut buf = vec![0u8; 64 * 1024];
    while got.len() < want {
        let n = sock.recv(&mut buf, 0).unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    got
}

fn read_to_end(sock: &Socket) -> Vec<u8> {
    read_n(sock, usize::MAX)
}

#[test]
fn many_clients_on_two_loops_get_every_byte_back_in_order() {
    let running = Running::start(
        Server::builder()
            .bind("127.0.0.1:0")
            .loops(2)
            .build_events(|_: &Address| Echo)
            .unwrap(),
    );
    assert_eq!(running.server.loops(), 2);
    let addr = running.addr();
    let clients: Vec<_> = (0..40u8)
        .map(|k| {
            let addr = addr.clone();
            thread::spawn(move || {
                let sock = connect(&addr);
                for (round, size) in [0usize, 1, 13, 4096, 70_000].into_iter().enumerate() {
                    let msg: Vec<u8> = (0..size.max(1))
                        .map(|i| (i as u8) ^ k ^ round as u8)
                        .collect();
                    sock.send_all(&msg, 0).unwrap();
                    assert_eq!(read_n(&sock, msg.len()), msg, "client {k} round {round}");
                }
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
    running.stop().unwrap();
}

#[test]
fn a_message_split_anywhere_is_kept_until_it_is_whole() {
    let endings = Endings::default();
    let running = Running::start(build_lines(lines_server(&endings), &endings));
    let sock = connect(&running.addr());
    for piece in ["hel", "lo\nwor", "ld", "\n"] {
        sock.send_all(piece.as_bytes(), 0).unwrap();
        thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(read_n(&sock, 12), b"HELLO\nWORLD\n");
    drop(sock);
    assert_eq!(endings.wait_for(1), vec![None]);
    running.stop().unwrap();
}

#[test]
fn a_large_echo_streams_through_with_bounded_buffers() {
    let running = Running::start(
        Server::builder()
            .bind("127.0.0.1:0")
            .build_events(|_: &Address| Echo)
            .unwrap(),
    );
    let sock = Arc::new(connect(&running.addr()));
    let data: Arc<Vec<u8>> = Arc::new((0..24 << 20).map(|i: u32| (i % 251) as u8).collect());
    let writer = {
        let (sock, data) = (Arc::clone(&sock), Arc::clone(&data));
        thread::spawn(move || sock.send_all(&data, 0).unwrap())
    };
    let back = read_n(&sock, data.len());
    writer.join().unwrap();
    assert!(back == *data, "the echo differs from what was sent");
    running.stop().unwrap();
}

#[test]
fn a_client_that_vanishes_mid_message_is_reported_and_the_others_go_on() {
    let endings = Endings::default();
    let running = Running::start(build_lines(lines_server(&endings), &endings));
    let other = connect(&running.addr());
    let gone = connect(&running.addr());
    gone.send_all(b"half a li", 0).unwrap();
    thread::sleep(Duration::from_millis(20));
    drop(gone);
    assert_eq!(endings.wait_for(1), vec![Some(ErrorKind::IncompleteFrame)]);
    other.send_all(b"still here\n", 0).unwrap();
    assert_eq!(read_n(&other, 11), b"STILL HERE\n");
    running.stop().unwrap();
}

#[test]
fn input_past_max_unconsumed_fails_that_connection_only() {
    let endings = Endings::default();
    let running = Running::start(build_lines(
        lines_server(&endings).max_unconsumed(1000),
        &endings,
    ));
    let flood = connect(&running.addr());
    // Part of this may be refused by a reset once the server closes.
    let _ = flood.send_all(&[b'x'; 5000], 0);
    assert_eq!(endings.wait_for(1), vec![Some(ErrorKind::FrameTooLarge)]);
    assert!(read_to_end(&flood).is_empty());
    let other = connect(&running.addr());
    other.send_all(b"ok\n", 0).unwrap();
    assert_eq!(read_n(&other, 3), b"OK\n");
    running.stop().unwrap();
}

#[test]
fn close_sends_the_reply_first_even_with_unread_input_behind_it() {
    let endings = Endings::default();
    let running = Running::start(build_lines(lines_server(&endings), &endings));
    let sock = connect(&running.addr());
    // `quit` and then more lines the server never reads: its close must
    // not become a reset that destroys `bye`.
    sock.send_all(b"a\nquit\nnever\nread\n", 0).unwrap();
    assert_eq!(read_to_end(&sock), b"A\nbye\n");
    drop(sock);
    assert_eq!(endings.wait_for(1), vec![None]);
    running.stop().unwrap();
}

#[test]
fn a_panicking_protocol_is_logged_and_only_its_connection_closes() {
    let endings = Endings::default();
    let log = Recorder::default();
    let running = Running::start(build_lines(
        lines_server(&endings).hooks(log.clone()),
        &endings,
    ));
    let other = connect(&running.addr());
    let bad = connect(&running.addr());
    bad.send_all(b"boom\n", 0).unwrap();
    assert!(read_to_end(&bad).is_empty());
    let line = log.wait_for("panicked");
    assert!(line.contains("the client said boom"), "{line}");
    other.send_all(b"fine\n", 0).unwrap();
    assert_eq!(read_n(&other, 5), b"FINE\n");
    running.stop().unwrap();
}

#[test]
fn an_idle_connection_is_closed_with_a_timeout() {
    let endings = Endings::default();
    let running = Running::start(build_lines(
        lines_server(&endings).idle_timeout(Duration::from_millis(100)),
        &endings,
    ));
    let sock = connect(&running.addr());
    sock.send_all(b"hi\n", 0).unwrap();
    assert_eq!(read_n(&sock, 3), b"HI\n");
    // Then silence: the server closes, the client reads end of file.
    assert!(read_to_end(&sock).is_empty());
    assert_eq!(endings.wait_for(1), vec![Some(ErrorKind::TimedOut)]);
    running.stop().unwrap();
}

#[test]
fn past_max_connections_refuse_closes_the_newcomer_with_a_log_line() {
    let log = Recorder::default();
    let running = Running::start(
        Server::builder()
            .bind("127.0.0.1:0")
            .loops(1)
            .max_connections(1, Overflow::Refuse)
            .hooks(log.clone())
            .build_events(|_: &Address| Echo)
            .unwrap(),
    );
    let first = connect(&running.addr());
    first.send_all(b"1", 0).unwrap();
    assert_eq!(read_n(&first, 1), b"1");
    let second = connect(&running.addr());
    assert!(read_to_end(&second).is_empty());
    assert!(log.wait_for("refused").contains("max_connections"));
    assert_eq!(running.server.connections(), 1);
    running.stop().unwrap();
}

#[test]
fn past_max_connections_wait_serves_the_newcomer_when_a_place_frees() {
    let running = Running::start(
        Server::builder()
            .bind("127.0.0.1:0")
            .loops(2)
            .max_connections(1, Overflow::Wait)
            .build_events(|_: &Address| Echo)
            .unwrap(),
    );
    let first = connect(&running.addr());
    first.send_all(b"1", 0).unwrap();
    assert_eq!(read_n(&first, 1), b"1");
    let second = connect(&running.addr());
    second.send_all(b"2", 0).unwrap();
    thread::sleep(Duration::from_millis(50));
    assert_eq!(running.server.connections(), 1, "the second must wait");
    drop(first);
    assert_eq!(read_n(&second, 1), b"2");
    running.stop().unwrap();
}

#[test]
fn shutdown_from_a_protocol_stops_every_loop_and_closes_the_connections() {
    let endings = Endings::default();
    let server = Arc::new(build_lines(lines_server(&endings).loops(3), &endings));
    let looping = Arc::clone(&server);
    let thread = thread::spawn(move || looping.serve_forever());
    let idle = connect(server.local_addr());
    idle.send_all(b"x\n", 0).unwrap();
    assert_eq!(read_n(&idle, 2), b"X\n");
    let stopper = connect(server.local_addr());
    stopper.send_all(b"stop\n", 0).unwrap();
    thread.join().unwrap().unwrap();
    // Both connections were closed by the stop, with the server's reason.
    let mut seen = endings.wait_for(2);
    seen.sort_by_key(|k| format!("{k:?}"));
    assert_eq!(seen, vec![Some(ErrorKind::Closed); 2]);
    assert!(read_to_end(&idle).is_empty());
    // The server can serve again after a shutdown.
    let again = Running::start(Arc::into_inner(server).expect("only owner"));
    let sock = connect(&again.addr());
    sock.send_all(b"back\n", 0).unwrap();
    assert_eq!(read_n(&sock, 5), b"BACK\n");
    again.stop().unwrap();
}

#[test]
fn a_unix_stream_event_server_serves_and_removes_its_file() {
    let dir = std::env::temp_dir().join(format!("fsock-ev-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("echo.sock");
    let _ = std::fs::remove_file(&path);
    let running = Running::start(
        Server::builder()
            .unix(&path)
            .build_events(|_: &Address| Echo)
            .unwrap(),
    );
    let sock = connect(&running.addr());
    sock.send_all(b"over a unix socket", 0).unwrap();
    assert_eq!(read_n(&sock, 18), b"over a unix socket");
    drop(sock);
    let server = Arc::clone(&running.server);
    running.stop().unwrap();
    server.close();
    assert!(!path.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_udp_address_or_zero_loops_is_refused_with_a_reason() {
    let err = Server::builder()
        .udp("127.0.0.1:0")
        .build_events(|_: &Address| Echo)
        .unwrap_err();
    assert!(err.to_string().contains("stream server"), "{err}");
    let err = Server::builder()
        .bind("127.0.0.1:0")
        .loops(0)
        .build_events(|_: &Address| Echo)
        .unwrap_err();
    assert!(err.to_string().contains("at least one loop"), "{err}");
}

#[test]
fn serving_twice_at_once_is_refused_and_a_closed_server_does_not_serve() {
    let running = Running::start(
        Server::builder()
            .bind("127.0.0.1:0")
            .build_events(|_: &Address| Echo)
            .unwrap(),
    );
    // An answered echo proves the loop runs.
    let sock = connect(&running.addr());
    sock.send_all(b"1", 0).unwrap();
    assert_eq!(read_n(&sock, 1), b"1");
    let err = running.server.serve_forever().unwrap_err();
    assert!(err.to_string().contains("already serving"), "{err}");
    let server = Arc::clone(&running.server);
    running.stop().unwrap();
    server.close();
    assert_eq!(
        server.serve_forever().unwrap_err().kind(),
        ErrorKind::Closed
    );
}

/// A chat room on the event loop: each line from a member goes to every
/// member (the sender too) through their [`ConnHandle`]s.
struct Member {
    room: Arc<Mutex<Vec<ConnHandle>>>,
    me: Option<ConnHandle>,
    endings: Endings,
}

impl Protocol for Member {
    fn opened(&mut self, conn: &mut Conn<'_>) {
        let me = conn.handle();
        self.room.lock().unwrap().push(me.clone());
        self.me = Some(me);
        conn.write(b"welcome\n");
    }

    fn received(&mut self, conn: &mut Conn<'_>, data: &[u8]) -> usize {
        let Some(end) = data.iter().rposition(|&b| b == b'\n') else {
            return 0;
        };
        let me = self.me.as_ref().unwrap();
        for member in self.room.lock().unwrap().iter() {
            if member.same(me) {
                // Its own copy straight to its buffer: must still come
                // after the lines other members' handles queued for it.
                conn.write(&data[..=end]);
            } else {
                assert!(member.write(&data[..=end]));
            }
        }
        end + 1
    }

    fn closed(&mut self, error: Option<&ferrosock::Error>) {
        let me = self.me.take().unwrap();
        self.room.lock().unwrap().retain(|m| !m.same(&me));
        self.endings.0.lock().unwrap().push(error.map(|e| e.kind()));
    }
}

fn room_server(loops: usize) -> (Running, Arc<Mutex<Vec<ConnHandle>>>, Endings) {
    let room = Arc::new(Mutex::new(Vec::new()));
    let endings = Endings::default();
    let (r, e) = (Arc::clone(&room), endings.clone());
    let server = Server::builder()
        .bind("127.0.0.1:0")
        .loops(loops)
        .build_events(move |_: &Address| Member {
            room: Arc::clone(&r),
            me: None,
            endings: e.clone(),
        })
        .unwrap();
    (Running::start(server), room, endings)
}

#[test]
fn handles_relay_every_line_to_every_member_across_loops_in_order() {
    let (running, room, _) = room_server(2);
    let members: Vec<Socket> = (0..10).map(|_| connect(&running.addr())).collect();
    for m in &members {
        assert_eq!(read_n(m, 8), b"welcome\n");
    }
    poll_until("10 members", || {
        (room.lock().unwrap().len() == 10).then_some(())
    });
    // One sender at a time: a sender sees its own copy only after its line
    // was queued for everyone, so every member must see one order.
    let mut seen: Vec<Vec<u8>> = vec![Vec::new(); members.len()];
    let mut expected = Vec::new();
    for k in 0..50 {
        let line = format!("message {k} from member {}\n", k % 10);
        members[k % 10].send_all(line.as_bytes(), 0).unwrap();
        expected.extend_from_slice(line.as_bytes());
        let mine = &mut seen[k % 10];
        while !mine.ends_with(line.as_bytes()) {
            let more = read_n(&members[k % 10], 1);
            assert!(!more.is_empty(), "member {} left", k % 10);
            mine.extend_from_slice(&more);
        }
    }
    for (i, m) in members.iter().enumerate() {
        let rest = read_n(m, expected.len() - seen[i].len());
        seen[i].extend_from_slice(&rest);
        assert!(seen[i] == expected, "member {i} saw another order");
    }
    running.stop().unwrap();
}

#[test]
fn a_handle_writes_from_another_thread_and_reports_a_stopped_server() {
    let (running, room, _) = room_server(1);
    let sock = connect(&running.addr());
    assert_eq!(read_n(&sock, 8), b"welcome\n");
    let handle = poll_until("the member", || room.lock().unwrap().first().cloned());
    let writer = thread::spawn(move || {
        for k in 0..100 {
            assert!(handle.write(format!("tick {k}\n").as_bytes()));
        }
        handle
    });
    let handle = writer.join().unwrap();
    let want: Vec<u8> = (0..100)
        .flat_map(|k| format!("tick {k}\n").into_bytes())
        .collect();
    assert_eq!(read_n(&sock, want.len()), want);
    assert!(handle.close());
    assert!(read_to_end(&sock).is_empty());
    running.stop().unwrap();
    assert!(!handle.write(b"too late\n"), "the loop has stopped");
}

#[test]
fn a_member_that_never_reads_is_dropped_and_the_room_goes_on() {
    let (running, room, endings) = room_server(1);
    let stuck = connect(&running.addr());
    let talker = connect(&running.addr());
    assert_eq!(read_n(&talker, 8), b"welcome\n");
    poll_until("2 members", || {
        (room.lock().unwrap().len() == 2).then_some(())
    });
    // 64 KiB lines until the stuck member's output passes the limit; the
    // talker reads its own copies, so only the stuck one falls behind.
    let line = [vec![b'x'; 65535], vec![b'\n']].concat();
    let mut sent = 0;
    while endings.0.lock().unwrap().is_empty() {
        assert!(sent < 1000, "the stuck member was never dropped");
        talker.send_all(&line, 0).unwrap();
        assert_eq!(read_n(&talker, line.len()).len(), line.len());
        sent += 1;
    }
    let seen = endings.wait_for(1);
    assert_eq!(seen, vec![Some(ErrorKind::Os)]);
    talker.send_all(b"still talking\n", 0).unwrap();
    assert_eq!(read_n(&talker, 14), b"still talking\n");
    drop(stuck);
    running.stop().unwrap();
}

#[test]
fn a_handle_aborts_its_connection_and_the_protocol_hears_why() {
    let (running, room, endings) = room_server(1);
    let sock = connect(&running.addr());
    assert_eq!(read_n(&sock, 8), b"welcome\n");
    let handle = poll_until("the member", || room.lock().unwrap().first().cloned());
    let aborter = thread::spawn(move || handle.abort());
    assert!(aborter.join().unwrap());
    assert!(read_to_end(&sock).is_empty());
    assert_eq!(endings.wait_for(1), vec![Some(ErrorKind::Os)]);
    running.stop().unwrap();
}
