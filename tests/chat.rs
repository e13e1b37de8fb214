//! The chat room of the tutorials (`ferrosock::chat`), tested as the
//! tutorial tests it: a fixture starts the server (in this process, on
//! port 0) and stops it; clients connect over loopback and talk.
//!
//! Every scenario runs in both framings. Every socket has the test-wide
//! timeout [`WAIT`], every loop a bound; nothing asserts on timing. A
//! client "joins" by saying hello and waiting for its own echo: from then
//! on the server has it in the room, so nothing sent later can miss it.

mod util;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use ferrosock::chat::{ChatClient, ChatConfig, ChatMessage, ChatServer, Framing};
use ferrosock::framing::FramedSocket;
use ferrosock::{ErrorKind, Family, SockType, Socket, Timeout};
use serde_json::Value;

use util::process::Examples;
use util::{bounded, v4, WAIT};

const FRAMINGS: [Framing; 2] = [Framing::Line, Framing::Length];

/// The example programs the last tests run as processes.
static CHAT_EXAMPLES: Examples = Examples::new(&["chat_server", "chat_client"]);

/// No test reads anywhere near this many messages on one connection.
const MAX_MESSAGES: usize = 200_000;

// ----- the fixture ---------------------------------------------------------

/// A chat server serving on its own thread; stopped (and joined) on drop.
struct Room {
    server: Arc<ChatServer>,
    thread: Option<JoinHandle<ferrosock::Result<()>>>,
    port: u16,
    framing: Framing,
}

impl Room {
    fn start(framing: Framing) -> Room {
        Room::with_config(ChatConfig {
            framing,
            ..ChatConfig::default()
        })
    }

    fn with_config(config: ChatConfig) -> Room {
        let framing = config.framing;
        let server = Arc::new(ChatServer::bind("127.0.0.1", 0, config).unwrap());
        let port = server.local_addr().port().unwrap();
        let serving = Arc::clone(&server);
        let thread = thread::spawn(move || serving.serve_forever());
        Room {
            server,
            thread: Some(thread),
            port,
            framing,
        }
    }

    /// A connected client that has not said anything yet.
    fn connect(&self, name: &str) -> ChatClient {
        let client = ChatClient::connect("127.0.0.1", self.port, self.framing, name).unwrap();
        client.socket().set_timeout(Timeout::After(WAIT)).unwrap();
        client
    }

    /// A client that said "hello" and got it back, so it is in the room;
    /// with the messages it got up to its echo.
    fn join(&self, name: &str) -> (ChatClient, Vec<ChatMessage>) {
        let mut client = self.connect(name);
        client.say("hello").unwrap();
        let seen = recv_until(&mut client, |m| m.name == name && m.msg == "hello");
        (client, seen)
    }

    /// A plain socket connected to the server, to send what a well-behaved
    /// client would not.
    fn raw(&self) -> Socket {
        let sock = bounded(Socket::new(Family::Inet, SockType::Stream).unwrap());
        sock.connect(&v4(self.port)).unwrap();
        sock
    }

    /// `bytes` framed for this room's framing.
    fn frame(&self, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        self.framing.codec(1 << 20).encode(bytes, &mut out).unwrap();
        out
    }

    /// Waits until `n` connections are online; bounded.
    fn wait_online(&self, n: usize) {
        for _ in 0..1000 {
            if self.server.room().online() == n {
                return;
            }
            thread::sleep(Duration::from_millis(10));
        }
        panic!("{} online, expected {n}", self.server.room().online());
    }
}

impl Drop for Room {
    fn drop(&mut self) {
        self.server.close();
        if let Some(t) = self.thread.take() {
            let served = t.join().expect("the serving thread panicked");
            if !thread::panicking() {
                served.expect("serve_forever failed");
            }
        }
    }
}

/// The next message; the server must not close the connection.
fn next(client: &mut ChatClient) -> ChatMessage {
    client
        .recv()
        .unwrap()
        .expect("the server closed the connection")
}

/// Messages up to and including the first that satisfies `wanted`.
fn recv_until(client: &mut ChatClient, wanted: impl Fn(&ChatMessage) -> bool) -> Vec<ChatMessage> {
    let mut seen = Vec::new();
    for _ in 0..MAX_MESSAGES {
        let m = next(client);
        let done = wanted(&m);
        seen.push(m);
        if done {
            return seen;
        }
    }
    panic!("no wanted message among {MAX_MESSAGES}");
}

fn is_server(m: &ChatMessage, text: &str) -> bool {
    m.name == "server" && m.msg == text
}

/// `(name, msg)` of each message, to compare sequences.
fn pairs(messages: &[ChatMessage]) -> Vec<(&str, &str)> {
    messages
        .iter()
        .map(|m| (m.name.as_str(), m.msg.as_str()))
        .collect()
}

// ----- relaying ------------------------------------------------------------

#[test]
fn message_reaches_every_client_including_sender() {
    for framing in FRAMINGS {
        let room = Room::start(framing);
        let (mut alice, seen) = room.join("alice");
        assert_eq!(
            pairs(&seen),
            [("server", "alice joined"), ("alice", "hello")],
            "{framing}"
        );
        let (mut bob, _) = room.join("bob");
        let (mut carol, _) = room.join("carol");
        alice.say("hi all").unwrap();
        for c in [&mut bob, &mut carol] {
            let got = recv_until(c, |m| m.msg == "hi all");
            assert_eq!(got.last().unwrap().name, "alice");
        }
        // One lock orders the room: alice saw everything in this order.
        let rest = recv_until(&mut alice, |m| m.msg == "hi all");
        assert_eq!(
            pairs(&rest),
            [
                ("server", "bob joined"),
                ("bob", "hello"),
                ("server", "carol joined"),
                ("carol", "hello"),
                ("alice", "hi all"),
            ],
            "{framing}"
        );
    }
}

#[test]
fn join_and_leave_are_announced_by_the_server() {
    for framing in FRAMINGS {
        let room = Room::start(framing);
        let (mut alice, _) = room.join("alice");
        let (bob, _) = room.join("张三");
        let got = recv_until(&mut alice, |m| m.name == "张三");
        assert_eq!(pairs(&got), [("server", "张三 joined"), ("张三", "hello")]);
        let joined = &got[0];
        assert_eq!(joined.time.len(), 19, "server time {:?}", joined.time);
        drop(bob);
        let left = next(&mut alice);
        assert!(is_server(&left, "张三 left"), "{left:?}");
        room.wait_online(1);
    }
}

#[test]
fn silent_client_hears_everything_and_leaves_unannounced() {
    for framing in FRAMINGS {
        let room = Room::start(framing);
        let (mut alice, _) = room.join("alice");
        let mut silent = room.connect("silent");
        room.wait_online(2);
        alice.say("anyone?").unwrap();
        let got = recv_until(&mut silent, |m| m.msg == "anyone?");
        assert_eq!(pairs(&got), [("alice", "anyone?")]);
        drop(silent);
        room.wait_online(1);
        // The next thing alice hears is bob, not a notice about silent.
        let (_bob, _) = room.join("bob");
        let got = recv_until(&mut alice, |m| m.name == "bob");
        assert_eq!(
            pairs(&got),
            [
                ("alice", "anyone?"),
                ("server", "bob joined"),
                ("bob", "hello")
            ]
        );
    }
}

#[test]
fn missing_time_is_filled_in_and_other_fields_are_relayed() {
    for framing in FRAMINGS {
        let room = Room::start(framing);
        let raw = room.raw();
        let mut framed = FramedSocket::new(&raw, framing.codec(64 * 1024));
        // Python's json.dumps style: spaces, \u escapes, no time.
        framed
            .send_frame(br#"{"name": "\u5f20\u4e09", "msg": "hi", "mood": [1, 2]}"#)
            .unwrap();
        let joined: Value = serde_json::from_slice(&framed.recv_frame().unwrap().unwrap()).unwrap();
        assert_eq!(joined["msg"], "张三 joined");
        let frame = framed.recv_frame().unwrap().unwrap();
        let text = String::from_utf8(frame).unwrap();
        let time = serde_json::from_str::<Value>(&text).unwrap()["time"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(time.len(), 19, "{text}");
        assert_eq!(
            text,
            format!(r#"{{"name":"张三","msg":"hi","time":"{time}","mood":[1,2]}}"#)
        );
        // A time the client gives is kept as it is.
        framed
            .send_frame(br#"{"name":"x","msg":"m","time":"2024-2-24"}"#)
            .unwrap();
        let frame = framed.recv_frame().unwrap().unwrap();
        assert_eq!(frame, br#"{"name":"x","msg":"m","time":"2024-2-24"}"#);
    }
}

#[test]
fn fifty_clients_lose_and_reorder_nothing_line() {
    fifty_clients_lose_and_reorder_nothing(Framing::Line);
}

#[test]
fn fifty_clients_lose_and_reorder_nothing_length() {
    fifty_clients_lose_and_reorder_nothing(Framing::Length);
}

/// 50 clients, all in the room, each say 20 numbered lines at once; each
/// client then gets all 1000, each sender's in the order sent.
fn fifty_clients_lose_and_reorder_nothing(framing: Framing) {
    const CLIENTS: usize = 50;
    const EACH: usize = 20;
    let room = Room::start(framing);
    let clients: Vec<ChatClient> = (0..CLIENTS)
        .map(|i| room.join(&format!("c{i}")).0)
        .collect();
    thread::scope(|s| {
        for mut client in clients {
            s.spawn(move || {
                for k in 0..EACH {
                    client.say(&format!("seq {k}")).unwrap();
                }
                let mut next_seq: HashMap<String, usize> = HashMap::new();
                let mut got = 0;
                for _ in 0..MAX_MESSAGES {
                    if got == CLIENTS * EACH {
                        break;
                    }
                    let m = next(&mut client);
                    let Some(k) = m.msg.strip_prefix("seq ") else {
                        continue; // joins and hellos of later clients
                    };
                    let expected = next_seq.entry(m.name.clone()).or_insert(0);
                    assert_eq!(
                        k.parse::<usize>().unwrap(),
                        *expected,
                        "{} got {} out of order",
                        client.name(),
                        m.name
                    );
                    *expected += 1;
                    got += 1;
                }
                assert_eq!(got, CLIENTS * EACH, "{}", client.name());
                assert_eq!(next_seq.len(), CLIENTS);
                assert!(next_seq.values().all(|n| *n == EACH), "{next_seq:?}");
            });
        }
    });
}

/// A burst of whole messages in one send is relayed in order; when the
/// burst ends with the start of a message, those before it still go out
/// at once, before the rest of that message arrives (the room sends what
/// it queued before it waits for more bytes). A socket timeout of
/// [`WAIT`] bounds each receive, so a room that held them back would fail
/// here rather than hang.
#[test]
fn messages_before_a_partial_one_are_relayed_without_waiting_for_it() {
    for framing in FRAMINGS {
        let room = Room::start(framing);
        let (mut watcher, _) = room.join("watcher");
        let burst = room.raw();
        let mut wire = Vec::new();
        for k in 0..5 {
            wire.extend(room.frame(format!(r#"{{"name":"burst","msg":"m{k}"}}"#).as_bytes()));
        }
        let last = room.frame(br#"{"name":"burst","msg":"the last one"}"#);
        let cut = last.len() / 2;
        wire.extend_from_slice(&last[..cut]);
        burst.send_all(&wire, 0).unwrap();
        let got = recv_until(&mut watcher, |m| m.msg == "m4");
        assert_eq!(
            pairs(&got),
            [
                ("server", "burst joined"),
                ("burst", "m0"),
                ("burst", "m1"),
                ("burst", "m2"),
                ("burst", "m3"),
                ("burst", "m4"),
            ],
            "{framing}"
        );
        burst.send_all(&last[cut..], 0).unwrap();
        assert_eq!(next(&mut watcher).msg, "the last one", "{framing}");
    }
}

// ----- clients that misbehave ----------------------------------------------

#[test]
fn client_vanishing_mid_frame_leaves_others_chatting() {
    for framing in FRAMINGS {
        let room = Room::start(framing);
        let (mut alice, _) = room.join("alice");
        let (mut bob, _) = room.join("bob");
        let ghost = room.raw();
        ghost
            .send_all(&room.frame(br#"{"name":"ghost","msg":"boo"}"#), 0)
            .unwrap();
        // Half of the next frame, then gone.
        let next_frame = room.frame(br#"{"name":"ghost","msg":"this is cut short"}"#);
        ghost
            .send_all(&next_frame[..next_frame.len() / 2], 0)
            .unwrap();
        ghost.close().unwrap();

        let got = recv_until(&mut alice, |m| is_server(m, "ghost left"));
        assert_eq!(
            pairs(&got),
            [
                ("server", "bob joined"),
                ("bob", "hello"),
                ("server", "ghost joined"),
                ("ghost", "boo"),
                ("server", "ghost left"),
            ],
            "{framing}"
        );
        bob.say("still here").unwrap();
        let got = recv_until(&mut alice, |m| m.msg == "still here");
        assert_eq!(pairs(&got), [("bob", "still here")]);
    }
}

/// What an offender sends after a good first message, and what the error
/// it gets back must say.
fn bad_frames(framing: Framing) -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let frame = |b: &[u8]| {
        let mut out = Vec::new();
        framing.codec(1 << 20).encode(b, &mut out).unwrap();
        out
    };
    let mut cases = vec![
        ("bad JSON", frame(b"{\"name\": \"bad\", "), "invalid JSON"),
        (
            "not an object",
            frame(b"[\"bad\", \"hi\"]"),
            "must be a JSON object",
        ),
        ("no name", frame(br#"{"msg":"hi"}"#), "has no \"name\""),
        (
            "msg not a string",
            frame(br#"{"name":"bad","msg":42}"#),
            "\"msg\" must be a string",
        ),
        (
            "invalid UTF-8",
            frame(b"{\"name\":\"\xff\",\"msg\":\"x\"}"),
            "invalid JSON",
        ),
    ];
    match framing {
        Framing::Line => {
            // 70 KiB without a newline: over the 64 KiB limit.
            cases.push(("oversized line", vec![b'a'; 70 * 1024], "frame too large"));
        }
        Framing::Length => {
            let mut over = (64 * 1024 + 1u32).to_be_bytes().to_vec();
            over.extend_from_slice(b"{}");
            cases.push(("oversized frame", over, "frame too large"));
            // An HTTP request where a length header should be: "GET " is
            // a length of 1 195 725 856.
            cases.push((
                "garbage length header",
                b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
                "1195725856 bytes",
            ));
        }
    }
    cases
}

#[test]
fn malformed_message_gets_an_error_then_disconnect() {
    for framing in FRAMINGS {
        let room = Room::start(framing);
        let (mut alice, _) = room.join("alice");
        for (case, bytes, says) in bad_frames(framing) {
            let sock = room.raw();
            sock.send_all(&room.frame(br#"{"name":"bad","msg":"hi"}"#), 0)
                .unwrap();
            sock.send_all(&bytes, 0).unwrap();
            let mut bad = ChatClient::from_socket(sock, framing, "bad");
            let got = recv_until(&mut bad, |m| {
                m.name == "server" && m.msg.starts_with("error: ")
            });
            let error = got.last().unwrap();
            assert!(
                error.msg.contains(says),
                "{framing} {case}: {:?} should say {says:?}",
                error.msg
            );
            assert_eq!(error.time.len(), 19);
            // Then the server closes the connection, cleanly.
            assert!(bad.recv().unwrap().is_none(), "{framing} {case}");

            // The others heard it join and leave, and chat on.
            let got = recv_until(&mut alice, |m| is_server(m, "bad left"));
            assert_eq!(
                pairs(&got),
                [
                    ("server", "bad joined"),
                    ("bad", "hi"),
                    ("server", "bad left")
                ],
                "{framing} {case}"
            );
            alice.say(case).unwrap();
            assert_eq!(pairs(&[next(&mut alice)]), [("alice", case)]);
        }
    }
}

#[test]
fn malformed_first_message_gets_an_error_and_no_announcement() {
    for framing in FRAMINGS {
        let room = Room::start(framing);
        let (mut alice, _) = room.join("alice");
        let sock = room.raw();
        sock.send_all(&room.frame(b"hello?"), 0).unwrap();
        let mut bad = ChatClient::from_socket(sock, framing, "?");
        let error = next(&mut bad);
        assert_eq!(error.name, "server");
        assert!(error.msg.starts_with("error: invalid JSON"), "{error:?}");
        assert!(bad.recv().unwrap().is_none());
        room.wait_online(1);
        alice.say("after").unwrap();
        assert_eq!(pairs(&[next(&mut alice)]), [("alice", "after")]);
    }
}

#[test]
fn slow_reader_is_dropped_and_others_get_everything() {
    for framing in FRAMINGS {
        slow_reader_is_dropped(framing);
    }
}

/// "slow" joins and never reads again, while "talker" says 4 KiB lines
/// until "watcher" hears that slow was dropped. Slow's socket buffers fill,
/// then its queue (1 MiB, the default), and it is dropped; talker and
/// watcher, who read, get every line in order.
fn slow_reader_is_dropped(framing: Framing) {
    /// Enough to fill a few MiB of socket buffers and the queue.
    const MAX_LINES: usize = 10_000;
    let room = Room::start(framing);
    let (mut watcher, _) = room.join("watcher");

    let slow = bounded(Socket::new(Family::Inet, SockType::Stream).unwrap());
    // A small receive window, so the kernel holds less for it.
    slow.set_option(libc::SOL_SOCKET, libc::SO_RCVBUF, 4096)
        .unwrap();
    slow.connect(&v4(room.port)).unwrap();
    slow.send_all(&room.frame(br#"{"name":"slow","msg":"hello"}"#), 0)
        .unwrap();
    recv_until(&mut watcher, |m| m.name == "slow");

    let (talker, _) = room.join("talker");
    recv_until(&mut watcher, |m| m.name == "talker");
    let (mut say, mut hear) = talker.split();
    let dropped = AtomicBool::new(false);
    let payload = "x".repeat(4096);
    thread::scope(|s| {
        // The talker's own echoes, read so that it keeps up.
        s.spawn(|| {
            let mut n = 0;
            for _ in 0..MAX_MESSAGES {
                let m = hear.recv().unwrap().expect("talker was disconnected");
                if m.name == "talker" {
                    if m.msg == "done" {
                        return;
                    }
                    n += 1;
                }
            }
            panic!("talker heard {n} of its lines and no done");
        });
        let watch = s.spawn(|| {
            let mut next_line = 0;
            let mut notice = false;
            for _ in 0..MAX_MESSAGES {
                let m = next(&mut watcher);
                if is_server(&m, "slow was disconnected: too slow") {
                    notice = true;
                    dropped.store(true, Ordering::SeqCst);
                } else if m.name == "talker" && m.msg == "done" {
                    return (next_line, notice);
                } else if m.name == "talker" {
                    let (k, text) = m.msg.split_once(' ').unwrap();
                    assert_eq!(k.parse::<usize>().unwrap(), next_line);
                    assert_eq!(text.len(), 4096);
                    next_line += 1;
                } else {
                    panic!("unexpected {m:?}");
                }
            }
            panic!("no done among {MAX_MESSAGES} messages");
        });
        let mut sent = 0;
        while sent < MAX_LINES && !dropped.load(Ordering::SeqCst) {
            say.say(&format!("{sent} {payload}")).unwrap();
            sent += 1;
        }
        say.say("done").unwrap();
        let (heard, notice) = watch.join().unwrap();
        eprintln!("{framing}: slow was dropped after {sent} lines of 4 KiB");
        assert!(notice, "{framing}: slow was not dropped after {sent} lines");
        assert_eq!(heard, sent, "{framing}: the watcher missed lines");
    });
    // The server shut slow's connection down: after what the kernel
    // buffered, it reads the end (or a reset).
    let mut buf = vec![0u8; 64 * 1024];
    let mut ended = false;
    for _ in 0..100_000 {
        match slow.recv(&mut buf, 0) {
            Ok(0) => {
                ended = true;
                break;
            }
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Os => {
                ended = true;
                break;
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert!(ended, "slow's connection never ended");
    room.wait_online(2);
}

// ----- the server's life ---------------------------------------------------

#[test]
fn closing_the_server_disconnects_everyone() {
    for framing in FRAMINGS {
        let room = Room::start(framing);
        let (mut alice, _) = room.join("alice");
        let mut silent = room.connect("silent");
        room.wait_online(2);
        room.server.close();
        assert!(alice.recv().unwrap().is_none());
        assert!(silent.recv().unwrap().is_none());
        assert_eq!(room.server.room().online(), 0);
    }
}

#[test]
fn bad_configuration_is_refused() {
    let config = ChatConfig {
        queue_messages: 0,
        ..ChatConfig::default()
    };
    let err = ChatServer::bind("127.0.0.1", 0, config).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
}

// ----- the example programs ------------------------------------------------

#[test]
fn example_programs_chat_line() {
    example_programs_chat(Framing::Line);
}

#[test]
fn example_programs_chat_length() {
    example_programs_chat(Framing::Length);
}

/// `(name, msg)` of a line a client program printed, checking its shape.
fn parse_line(line: &str) -> (String, String) {
    let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{line:?}: {e}"));
    assert_eq!(v["time"].as_str().map(str::len), Some(19), "{line}");
    assert!(!line.contains(": "), "not compact: {line}");
    (
        v["name"].as_str().unwrap().to_string(),
        v["msg"].as_str().unwrap().to_string(),
    )
}

fn named(name: &str, msg: &str) -> (String, String) {
    (name.to_string(), msg.to_string())
}

/// The example server in one process, two example clients in two more, and
/// a client in this process: everyone hears everyone.
fn example_programs_chat(framing: Framing) {
    let f = framing.as_str();
    let (server, port) = CHAT_EXAMPLES.start_server("chat_server", &["--framing", f]);
    let p = port.to_string();
    let client_args = |name: &'static str| -> Vec<&str> {
        vec![
            "--host",
            "127.0.0.1",
            "--port",
            &p,
            "--framing",
            f,
            "--name",
            name,
        ]
    };

    // The watcher joins first, so that it is in the room for all that follows.
    let mut watcher = ChatClient::connect("127.0.0.1", port, framing, "watcher").unwrap();
    watcher.socket().set_timeout(Timeout::After(WAIT)).unwrap();
    watcher.say("hello").unwrap();
    recv_until(&mut watcher, |m| m.name == "watcher");

    let mut alice = CHAT_EXAMPLES.start("chat_client", &client_args("alice"));
    alice.type_in("hello from alice\n");
    let lines = alice.lines_until(|l| l.contains("hello from alice"));
    let got: Vec<_> = lines.iter().map(|l| parse_line(l)).collect();
    assert_eq!(
        got,
        [
            named("server", "alice joined"),
            named("alice", "hello from alice")
        ]
    );

    let mut bob = CHAT_EXAMPLES.start("chat_client", &client_args("bob"));
    bob.type_in("hi alice, 你好\n");
    bob.lines_until(|l| l.contains("hi alice"));
    let lines = alice.lines_until(|l| l.contains("hi alice"));
    let got: Vec<_> = lines.iter().map(|l| parse_line(l)).collect();
    assert_eq!(
        got,
        [
            named("server", "bob joined"),
            named("bob", "hi alice, 你好")
        ]
    );

    // End of input: alice leaves, and exits cleanly.
    alice.end_input();
    let (status, _) = alice.wait();
    assert!(status.success(), "alice: {status}, {:?}", alice.stderr());
    let lines = bob.lines_until(|l| l.contains("alice left"));
    assert_eq!(
        parse_line(lines.last().unwrap()),
        named("server", "alice left")
    );
    bob.end_input();
    let (status, _) = bob.wait();
    assert!(status.success(), "bob: {status}, {:?}", bob.stderr());

    // The in-process client heard it all, in order.
    let got = recv_until(&mut watcher, |m| is_server(m, "bob left"));
    assert_eq!(
        pairs(&got),
        [
            ("server", "alice joined"),
            ("alice", "hello from alice"),
            ("server", "bob joined"),
            ("bob", "hi alice, 你好"),
            ("server", "alice left"),
            ("server", "bob left"),
        ]
    );
    drop(server); // killed by its PID
}
