//! The server engine under test: a server serving on its own thread, a
//! recorder of what it logs, the seeds' phone handler and its clients, and
//! bounded waiting for something the server does on another thread.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use ferrosock::server::{
    Builder, Connection, EventServer, HandlerResult, Hooks, Server, ServerHandle,
};
use ferrosock::{Address, Result, SockType, Socket, Timeout};

/// How long a test waits for the server to do something before it fails;
/// only a hang takes this long.
pub const PATIENCE: Duration = Duration::from_secs(5);

/// A TCP server builder on 127.0.0.1, port 0.
pub fn tcp() -> Builder {
    Server::builder().bind("127.0.0.1:0")
}

/// A server running `serve_forever` on its own thread; stopped on drop.
pub struct Running {
    pub server: Arc<Server>,
    handle: ServerHandle,
    thread: Option<JoinHandle<Result<()>>>,
}

impl Running {
    /// Starts serving `server` on a new thread.
    pub fn start(server: Server) -> Running {
        let server = Arc::new(server);
        let handle = server.handle();
        let looping = Arc::clone(&server);
        let thread = thread::spawn(move || looping.serve_forever());
        Running {
            server,
            handle,
            thread: Some(thread),
        }
    }

    /// The address the server is bound to (with port 0, the real port).
    pub fn addr(&self) -> Address {
        self.server.local_addr().clone()
    }

    /// Stops the loop and closes the server; panics if the loop failed.
    pub fn stop(mut self) {
        self.handle.shutdown();
        let result = self.thread.take().unwrap().join().expect("loop thread");
        result.expect("serve_forever failed");
        self.server.close();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            self.handle.shutdown();
            let _ = t.join();
        }
    }
}

/// An event-loop server ([`EventServer`]) serving on its own thread;
/// stopped on drop.
pub struct RunningEvents {
    pub server: Arc<EventServer>,
    handle: ServerHandle,
    thread: Option<JoinHandle<Result<()>>>,
}

impl RunningEvents {
    /// Starts serving `server` on a new thread.
    pub fn start(server: EventServer) -> RunningEvents {
        let server = Arc::new(server);
        let handle = server.handle();
        let looping = Arc::clone(&server);
        let thread = thread::spawn(move || looping.serve_forever());
        RunningEvents {
            server,
            handle,
            thread: Some(thread),
        }
    }

    /// The address the server is bound to (with port 0, the real port).
    pub fn addr(&self) -> Address {
        self.server.local_addr().clone()
    }

    /// Stops the loops; returns what `serve_forever` returned.
    pub fn stop(mut self) -> Result<()> {
        self.handle.shutdown();
        self.thread.take().unwrap().join().expect("loop thread")
    }
}

impl Drop for RunningEvents {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            self.handle.shutdown();
            let _ = t.join();
        }
    }
}

/// Hooks that record what the engine logs.
#[derive(Default, Clone)]
pub struct Recorder {
    lines: Arc<Mutex<Vec<String>>>,
}

impl Recorder {
    /// Every line logged so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// The first line logged that contains `needle`, waiting for it.
    pub fn wait_for(&self, needle: &str) -> String {
        poll_until(&format!("a log line with {needle:?}"), || {
            self.lines().into_iter().find(|l| l.contains(needle))
        })
    }
}

impl Hooks for Recorder {
    fn log(&self, line: &str) {
        self.lines.lock().unwrap().push(line.to_string());
    }
}

/// Polls `probe` until it gives a value; bounded by [`PATIENCE`].
pub fn poll_until<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(start.elapsed() < PATIENCE, "gave up waiting for {what}");
        thread::sleep(Duration::from_millis(10));
    }
}

/// Polls `ok` until it is true; bounded by [`PATIENCE`].
pub fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    poll_until(what, || ok().then_some(()))
}

/// The seeds' phone server: answer each message upper-cased; stop at EOF.
pub fn phone(conn: &mut Connection) -> HandlerResult {
    let mut buf = [0u8; 1024];
    loop {
        let n = conn.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        conn.write_all(&buf[..n].to_ascii_uppercase())?;
    }
}

/// A stream client connected to `addr`, with a timeout of [`PATIENCE`].
pub fn connect(addr: &Address) -> Socket {
    let sock = Socket::new(addr.family(), SockType::Stream).unwrap();
    sock.set_timeout(Timeout::After(PATIENCE)).unwrap();
    sock.connect(addr).unwrap();
    sock
}

/// Sends `msg` and reads one reply (the handlers answer each message with
/// one write, and tests keep messages small).
pub fn ask(sock: &Socket, msg: &str) -> String {
    sock.send_all(msg.as_bytes(), 0).unwrap();
    let mut buf = [0u8; 1024];
    let n = sock.recv(&mut buf, 0).unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}
