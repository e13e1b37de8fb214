//! The event-loop mode's flow control and half-close, as asyncio's
//! transports have them: pausing and resuming reading (from the
//! connection's own callbacks and through handles from other threads), the
//! write buffer's water marks and the `write_paused` / `write_resumed`
//! callbacks, `write_eof`, and keeping a connection open after the
//! client's end of file.
//!
//! Every client socket has a timeout and every wait is bounded.

mod util;

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use ferrosock::server::{Conn, ConnHandle, Protocol, Server};
use ferrosock::{Address, ErrorKind, Shutdown, Socket, Timeout};
use util::server::{connect, poll_until, Recorder, RunningEvents as Running};

/// What a test's protocols did and saw, in order.
#[derive(Clone, Default)]
struct Log {
    events: Arc<Mutex<Vec<String>>>,
    handles: Arc<Mutex<Vec<ConnHandle>>>,
}

impl Log {
    fn push(&self, event: impl Into<String>) {
        self.events.lock().unwrap().push(event.into());
    }

    fn events(&self) -> Vec<String> {
        self.events.lock().unwrap().clone()
    }

    fn wait_for(&self, event: &str) {
        poll_until(&format!("event {event:?}"), || {
            self.events().iter().any(|e| e == event).then_some(())
        });
    }

    fn handle(&self) -> ConnHandle {
        poll_until("a connection", || {
            self.handles.lock().unwrap().first().cloned()
        })
    }
}

/// Reacts to lines: `pause` pauses reading, `eof` says `bye` and shuts its
/// side, `big N` writes N bytes, `end` closes; anything else is echoed.
/// Records every flow-control callback.
struct Scripted {
    log: Log,
    keep_open: bool,
}

impl Protocol for Scripted {
    fn opened(&mut self, conn: &mut Conn<'_>) {
        self.log.handles.lock().unwrap().push(conn.handle());
        assert!(conn.is_reading() && conn.can_write_eof() && !conn.is_write_shut());
        assert_eq!(conn.write_buffer_limits(), (64 * 1024, 16 * 1024));
    }

    fn received(&mut self, conn: &mut Conn<'_>, data: &[u8]) -> usize {
        let mut used = 0;
        while let Some(end) = data[used..].iter().position(|&b| b == b'\n') {
            let line = &data[used..used + end];
            used += end + 1;
            let text = String::from_utf8_lossy(line).to_string();
            self.log.push(format!("line {text}"));
            match text.split(' ').collect::<Vec<_>>().as_slice() {
                ["pause"] => {
                    conn.pause_reading();
                    self.log.push(format!("reading {}", conn.is_reading()));
                    // The rest of this chunk is kept for after the resume.
                    return used;
                }
                ["eof"] => {
                    conn.write(b"bye\n");
                    conn.write_eof();
                    conn.write(b"dropped\n");
                    self.log.push(format!("shut {}", conn.is_write_shut()));
                }
                ["big", n] => {
                    let n: usize = n.parse().unwrap();
                    conn.write(&vec![b'x'; n]);
                    self.log
                        .push(format!("writing paused {}", conn.is_writing_paused()));
                }
                ["end"] => conn.close(),
                _ => {
                    conn.write(line);
                    conn.write(b"\n");
                }
            }
        }
        used
    }

    fn end(&mut self, conn: &mut Conn<'_>, rest: &[u8]) {
        self.log.push(format!("end {}", rest.len()));
        if self.keep_open {
            conn.keep_open();
        }
    }

    fn write_paused(&mut self, conn: &mut Conn<'_>) {
        self.log
            .push(format!("paused {}", conn.pending() > 64 * 1024));
    }

    fn write_resumed(&mut self, conn: &mut Conn<'_>) {
        self.log
            .push(format!("resumed {}", conn.pending() <= 16 * 1024));
    }

    fn closed(&mut self, error: Option<&ferrosock::Error>) {
        self.log
            .push(format!("closed {:?}", error.map(|e| e.kind())));
    }
}

fn scripted(keep_open: bool, idle: Option<Duration>) -> (Running, Log, Recorder) {
    let log = Log::default();
    let recorder = Recorder::default();
    let l = log.clone();
    let mut builder = Server::builder()
        .bind("127.0.0.1:0")
        .loops(1)
        .hooks(recorder.clone());
    if let Some(idle) = idle {
        builder = builder.idle_timeout(idle);
    }
    let server = builder
        .build_events(move |_: &Address| Scripted {
            log: l.clone(),
            keep_open,
        })
        .unwrap();
    (Running::start(server), log, recorder)
}

/// Reads until `want` bytes arrived (or EOF).
fn read_n(sock: &Socket, want: usize) -> Vec<u8> {
    let mut got = Vec::new();
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

/// Whether nothing arrives within `quiet`.
fn silent_for(sock: &Socket, quiet: Duration) -> bool {
    sock.set_timeout(Timeout::After(quiet)).unwrap();
    let mut buf = [0u8; 64];
    let silent = matches!(sock.recv(&mut buf, 0), Err(e) if e.kind() == ErrorKind::TimedOut);
    sock.set_timeout(Timeout::After(util::server::PATIENCE))
        .unwrap();
    silent
}

#[test]
fn pause_reading_holds_input_and_resume_delivers_what_is_queued() {
    let (running, log, _) = scripted(false, None);
    let sock = connect(&running.addr());
    sock.send_all(b"pause\nheld 1\n", 0).unwrap();
    log.wait_for("reading false");
    sock.send_all(b"held 2\n", 0).unwrap();
    assert!(silent_for(&sock, Duration::from_millis(200)));
    assert!(!log.events().iter().any(|e| e.starts_with("line held")));
    // No new bytes arrive after the resume: the engine must remember that
    // the socket is readable (edge-triggered readiness).
    assert!(log.handle().resume_reading());
    assert_eq!(read_n(&sock, 14), b"held 1\nheld 2\n");
    sock.send_all(b"after\n", 0).unwrap();
    assert_eq!(read_n(&sock, 6), b"after\n");
}

#[test]
fn a_handle_pauses_and_resumes_reading_from_another_thread() {
    let (running, log, _) = scripted(false, None);
    let sock = connect(&running.addr());
    sock.send_all(b"one\n", 0).unwrap();
    assert_eq!(read_n(&sock, 4), b"one\n");
    let handle = log.handle();
    thread::spawn(move || assert!(handle.pause_reading()))
        .join()
        .unwrap();
    // The pause is a command: wait until the loop has surely taken it.
    thread::sleep(Duration::from_millis(50));
    sock.send_all(b"two\n", 0).unwrap();
    assert!(silent_for(&sock, Duration::from_millis(200)));
    let handle = log.handle();
    thread::spawn(move || assert!(handle.resume_reading()))
        .join()
        .unwrap();
    assert_eq!(read_n(&sock, 4), b"two\n");
}

#[test]
fn a_paused_connection_is_not_idle_timed_out_but_an_idle_one_still_is() {
    let (running, log, _) = scripted(false, Some(Duration::from_millis(150)));
    let sock = connect(&running.addr());
    sock.send_all(b"pause\n", 0).unwrap();
    log.wait_for("reading false");
    thread::sleep(Duration::from_millis(500));
    assert!(!log.events().iter().any(|e| e.starts_with("closed")));
    assert!(log.handle().resume_reading());
    log.wait_for("closed Some(TimedOut)");
}

#[test]
fn past_the_high_mark_the_protocol_pauses_and_resumes_once_drained() {
    let (running, log, _) = scripted(false, None);
    let sock = connect(&running.addr());
    // Much more than the socket buffers take: the client reads nothing yet.
    let n = 16 << 20;
    sock.send_all(format!("big {n}\n").as_bytes(), 0).unwrap();
    log.wait_for("paused true");
    assert!(log.events().contains(&"writing paused true".to_string()));
    assert!(!log.events().iter().any(|e| e.starts_with("resumed")));
    assert_eq!(read_n(&sock, n).len(), n);
    log.wait_for("resumed true");
    let events = log.events();
    let paused = events.iter().position(|e| e == "paused true").unwrap();
    let resumed = events.iter().position(|e| e == "resumed true").unwrap();
    assert!(paused < resumed);
    sock.send_all(b"still\n", 0).unwrap();
    assert_eq!(read_n(&sock, 6), b"still\n");
}

#[test]
fn a_reply_the_socket_takes_at_once_pauses_nothing() {
    let (running, log, _) = scripted(false, None);
    let sock = connect(&running.addr());
    sock.send_all(b"big 60000\nping\n", 0).unwrap();
    assert_eq!(read_n(&sock, 60005).len(), 60005);
    assert!(log.events().contains(&"writing paused false".to_string()));
    assert!(!log.events().iter().any(|e| e.starts_with("paused")));
}

/// Produces `total` bytes in chunks, as asyncio's producers do: while not
/// paused, in `opened` and again in each `write_resumed`.
struct Producer {
    left: usize,
    log: Log,
}

impl Producer {
    fn produce(&mut self, conn: &mut Conn<'_>) {
        while self.left > 0 && !conn.is_writing_paused() {
            let n = self.left.min(8192);
            conn.write(&vec![b'p'; n]);
            self.left -= n;
        }
        if self.left == 0 {
            conn.close();
        }
    }
}

impl Protocol for Producer {
    fn opened(&mut self, conn: &mut Conn<'_>) {
        conn.set_write_buffer_limits(Some(32 * 1024), Some(8 * 1024))
            .unwrap();
        let err = conn.set_write_buffer_limits(Some(1), Some(2)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err
            .to_string()
            .contains("high (1) must be >= low (2) must be >= 0"));
        assert_eq!(conn.write_buffer_limits(), (32 * 1024, 8 * 1024));
        self.produce(conn);
    }

    fn received(&mut self, _conn: &mut Conn<'_>, data: &[u8]) -> usize {
        data.len()
    }

    fn write_paused(&mut self, conn: &mut Conn<'_>) {
        assert!(conn.is_writing_paused());
        self.log.push("paused");
    }

    fn write_resumed(&mut self, conn: &mut Conn<'_>) {
        assert!(!conn.is_writing_paused() && conn.pending() <= 8 * 1024);
        self.log.push("resumed");
        self.produce(conn);
    }
}

#[test]
fn a_producer_driven_by_pause_and_resume_sends_everything_with_a_bounded_buffer() {
    let log = Log::default();
    let l = log.clone();
    let total = 8 << 20;
    let server = Server::builder()
        .bind("127.0.0.1:0")
        .loops(1)
        .build_events(move |_: &Address| Producer {
            left: total,
            log: l.clone(),
        })
        .unwrap();
    let running = Running::start(server);
    let sock = connect(&running.addr());
    thread::sleep(Duration::from_millis(100)); // let the buffers fill
    let got = read_n(&sock, usize::MAX);
    assert_eq!(got.len(), total);
    assert!(got.iter().all(|&b| b == b'p'));
    let events = log.events();
    assert!(events.iter().filter(|e| *e == "paused").count() >= 1);
    // Every pause was followed by a resume, and they alternate.
    for pair in events.windows(2) {
        assert_ne!(pair[0], pair[1], "{events:?}");
    }
}

#[test]
fn write_eof_half_closes_and_reading_goes_on() {
    let (running, log, recorder) = scripted(false, None);
    let sock = connect(&running.addr());
    sock.send_all(b"eof\n", 0).unwrap();
    // The client reads the reply, then end of file; not "dropped".
    assert_eq!(read_n(&sock, usize::MAX), b"bye\n");
    log.wait_for("shut true");
    recorder.wait_for("write after write_eof: 8 bytes dropped");
    // The server still reads: its protocol sees the line, though it can
    // no longer answer.
    sock.send_all(b"after eof\n", 0).unwrap();
    log.wait_for("line after eof");
    sock.shutdown(Shutdown::Write).unwrap();
    log.wait_for("closed None");
}

#[test]
fn a_handle_writes_then_shuts_the_writing_side_in_order() {
    let (running, log, _) = scripted(false, None);
    let sock = connect(&running.addr());
    sock.send_all(b"hi\n", 0).unwrap();
    assert_eq!(read_n(&sock, 3), b"hi\n");
    let handle = log.handle();
    thread::spawn(move || {
        assert!(handle.write(b"from afar\n"));
        assert!(handle.write_eof());
        assert!(handle.write(b"too late\n"));
    })
    .join()
    .unwrap();
    assert_eq!(read_n(&sock, usize::MAX), b"from afar\n");
    sock.shutdown(Shutdown::Write).unwrap();
    log.wait_for("closed None");
}

#[test]
fn without_keep_open_the_clients_eof_closes_the_connection() {
    let (running, log, _) = scripted(false, None);
    let sock = connect(&running.addr());
    sock.send_all(b"x\n", 0).unwrap();
    sock.shutdown(Shutdown::Write).unwrap();
    assert_eq!(read_n(&sock, usize::MAX), b"x\n");
    log.wait_for("closed None");
    let events = log.events();
    assert_eq!(events.iter().filter(|e| e.starts_with("end")).count(), 1);
}

#[test]
fn keep_open_lets_the_protocol_answer_after_the_clients_eof() {
    let (running, log, _) = scripted(true, None);
    let sock = connect(&running.addr());
    sock.send_all(b"question\n", 0).unwrap();
    assert_eq!(read_n(&sock, 9), b"question\n");
    sock.shutdown(Shutdown::Write).unwrap();
    log.wait_for("end 0");
    // The connection stays open: the answer comes later, from elsewhere.
    assert!(silent_for(&sock, Duration::from_millis(200)));
    assert!(!log.events().iter().any(|e| e.starts_with("closed")));
    let handle = log.handle();
    thread::spawn(move || {
        assert!(handle.write(b"late answer\n"));
        assert!(handle.write_eof());
    })
    .join()
    .unwrap();
    assert_eq!(read_n(&sock, usize::MAX), b"late answer\n");
    log.wait_for("closed None");
}

#[test]
fn keep_open_then_close_ends_the_connection_once_sent() {
    let (running, log, _) = scripted(true, None);
    let sock = connect(&running.addr());
    sock.shutdown(Shutdown::Write).unwrap();
    log.wait_for("end 0");
    let handle = log.handle();
    assert!(handle.write(b"bye\n"));
    assert!(handle.close());
    assert_eq!(read_n(&sock, usize::MAX), b"bye\n");
    log.wait_for("closed None");
}
