//! One event loop: a `mio` poll over the listening socket and the
//! connections this loop owns, turning readiness into calls of their
//! protocols.
//!
//! Every loop of a server watches the shared listening socket and accepts
//! what it can; a connection stays with the loop that accepted it. Loop 0
//! runs on the thread that called `serve_forever` and also watches the
//! server's wake-up channel (shutdown); the others have a `mio::Waker`.
//!
//! Readiness is edge-triggered, so the loop keeps, per connection, what it
//! learned: `readable` until a read comes back short (a stream socket
//! returns less than asked only when its queue is empty, and any byte that
//! arrives later raises a new event) — unless an event said the client
//! closed, whose end of file may wait behind the last bytes and raises no
//! event of its own — `write_blocked` from an `EAGAIN` on
//! `send` until the next writable event. A connection that still has input
//! after [`READS_PER_TURN`] reads waits in `again` for the next turn, so
//! one fast client cannot starve the others.

use std::io::ErrorKind;
use std::os::fd::RawFd;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use socket2::SockAddr;

use crate::addr::{Address, UnixAddr};
use crate::error::{Cause, Error, Result};

use super::super::config::Overflow;
use super::super::hooks::Panicked;
use super::calls;
use super::conn::{aborted, Ending};
use super::conn_state::{ConnState, Phase};
use super::flow::{Eof, Flow};
use super::inbox::{Command, Inbox, HANDLE_OUTPUT_LIMIT};
use super::server::Shared;
use super::step::{call, flush, split, step, After, Ctx};

const LISTENER: Token = Token(0);
const CONTROL: Token = Token(1);
pub(crate) const WAKE: Token = Token(2);
const FIRST_CONN: usize = 3;

/// Bytes read per `recv`; one buffer per loop, shared by its connections.
const READ_BUF: usize = 64 * 1024;
/// Connections accepted per turn before the others have theirs.
const ACCEPTS_PER_TURN: usize = 64;
/// How long a closing connection reads (and drops) what the client still
/// sends before it is closed anyway.
const LINGER: Duration = Duration::from_secs(2);
/// Pause before accepting again when the process is out of descriptors.
const ACCEPT_RETRY: Duration = Duration::from_millis(100);

const OP: &str = "serve_forever";

pub(crate) struct Reactor {
    poll: Poll,
    shared: Arc<Shared>,
    conns: Vec<Option<ConnState>>,
    free: Vec<usize>,
    scratch: Vec<u8>,
    accept_pending: bool,
    accept_retry_at: Option<Instant>,
    /// Connections that still had input when their turn ended.
    again: Vec<usize>,
    lingering: usize,
    next_sweep: Option<Instant>,
    inbox: Arc<Inbox>,
    /// Commands taken from the inbox (the vector is reused).
    commands: Vec<Command>,
    /// Connections that got commands, to drive once each.
    touched: Vec<usize>,
    /// Generation of the last connection opened.
    generation: u64,
}

impl Reactor {
    pub(crate) fn new(poll: Poll, shared: Arc<Shared>, inbox: Arc<Inbox>) -> Reactor {
        Reactor {
            inbox,
            commands: Vec::new(),
            touched: Vec::new(),
            generation: 0,
            poll,
            shared,
            conns: Vec::new(),
            free: Vec::new(),
            scratch: vec![0u8; READ_BUF],
            accept_pending: true,
            accept_retry_at: None,
            again: Vec::new(),
            lingering: 0,
            next_sweep: None,
        }
    }

    /// Runs until the server stops (or, for loop 0, a shutdown is asked
    /// for); then closes every connection this loop still has.
    /// `control` is the server's wake-up channel, watched by loop 0 only.
    pub(crate) fn run(mut self, control: Option<RawFd>) -> Result<()> {
        self.inbox.bind_to_current_thread();
        let result = self.turn_until_stopped(control);
        self.inbox.close();
        self.close_all();
        result
    }

    fn turn_until_stopped(&mut self, control: Option<RawFd>) -> Result<()> {
        let listener = self.shared.listener.fileno();
        let registry = self.poll.registry();
        registry
            .register(&mut SourceFd(&listener), LISTENER, Interest::READABLE)
            .map_err(|e| Error::os(OP, e))?;
        if let Some(fd) = control {
            registry
                .register(&mut SourceFd(&fd), CONTROL, Interest::READABLE)
                .map_err(|e| Error::os(OP, e))?;
        }
        let mut events = Events::with_capacity(1024);
        loop {
            let timeout = self.timeout();
            if let Err(err) = self.poll.poll(&mut events, timeout) {
                if err.kind() == ErrorKind::Interrupted {
                    crate::sys::on_interrupt(OP)?;
                    continue;
                }
                return Err(Error::os(OP, err));
            }
            let mut woken = false;
            for ev in events.iter() {
                match ev.token() {
                    LISTENER => self.accept_pending = true,
                    CONTROL | WAKE => woken = true,
                    Token(t) => {
                        let readable = ev.is_readable() || ev.is_read_closed() || ev.is_error();
                        let writable = ev.is_writable() || ev.is_write_closed() || ev.is_error();
                        let closed = ev.is_read_closed() || ev.is_error();
                        self.on_event(t - FIRST_CONN, readable, writable, closed);
                    }
                }
            }
            if woken && self.should_stop() {
                return Ok(());
            }
            if self.accept_pending && self.accept_retry_at.map_or(true, |t| Instant::now() >= t) {
                self.accept_retry_at = None;
                self.accept()?;
            }
            if !self.again.is_empty() {
                for i in std::mem::take(&mut self.again) {
                    self.drive(i);
                }
            }
            self.empty_inbox();
            if self.next_sweep.is_some_and(|t| Instant::now() >= t) {
                self.sweep();
            }
        }
    }

    /// After a wake-up: whether this loop should end.
    fn should_stop(&self) -> bool {
        let control = &self.shared.control;
        control.waker.drain();
        self.shared.stopping.load(Ordering::Acquire) || control.lock().shutdown_requested
    }

    /// How long the next poll may sleep.
    fn timeout(&mut self) -> Option<Duration> {
        if !self.again.is_empty()
            || (self.accept_pending && self.accept_retry_at.is_none())
            || !self.inbox.is_empty()
        {
            return Some(Duration::ZERO);
        }
        let now = Instant::now();
        if self.next_sweep.is_none() && (self.lingering > 0 || self.idle_timeout().is_some()) {
            self.next_sweep = Some(now + self.sweep_every());
        }
        [self.next_sweep, self.accept_retry_at]
            .into_iter()
            .flatten()
            .min()
            .map(|t| t.saturating_duration_since(now))
    }

    fn idle_timeout(&self) -> Option<Duration> {
        self.shared.config.idle_timeout
    }

    fn sweep_every(&self) -> Duration {
        let base = self.idle_timeout().map_or(LINGER, |t| t.min(LINGER));
        (base / 4).max(Duration::from_millis(5))
    }

    fn on_event(&mut self, i: usize, readable: bool, writable: bool, closed: bool) {
        if let Some(Some(c)) = self.conns.get_mut(i) {
            c.readable |= readable;
            c.read_closed |= closed;
            if writable {
                c.write_blocked = false;
            }
            self.drive(i);
        }
    }

    /// Accepts until the backlog is empty, the turn's share is used, or the
    /// connection limit says to wait.
    fn accept(&mut self) -> Result<()> {
        let listener = self.shared.listener.fileno();
        for _ in 0..ACCEPTS_PER_TURN {
            let refuse = match self.shared.config.max_connections {
                Some((max, when_full)) if self.shared.active.load(Ordering::Acquire) >= max => {
                    if when_full == Overflow::Wait {
                        // A connection that closes, in any loop, resumes.
                        self.shared.accept_paused.store(true, Ordering::Release);
                        self.accept_pending = false;
                        return Ok(());
                    }
                    Some(max)
                }
                _ => None,
            };
            match calls::accept(listener) {
                Ok((socket, addr)) => match refuse {
                    Some(max) => {
                        let peer = peer_of(&addr);
                        self.log(&format!(
                            "refused {peer}: {max} connections already open (max_connections)"
                        ));
                        drop(socket);
                    }
                    None => self.open(socket, &addr),
                },
                Err(err) if err.kind() == ErrorKind::WouldBlock => {
                    self.accept_pending = false;
                    return Ok(());
                }
                Err(err) if calls::accept_error_is_transient(&err) => {}
                Err(err) if calls::accept_error_is_exhaustion(&err) => {
                    self.log(&format!(
                        "accept: {}; retrying in {} ms",
                        Error::os("accept", err),
                        ACCEPT_RETRY.as_millis()
                    ));
                    self.accept_retry_at = Some(Instant::now() + ACCEPT_RETRY);
                    return Ok(());
                }
                Err(err) => {
                    return Err(Error::os("accept", err).with_target(self.shared.control.local()))
                }
            }
        }
        Ok(())
    }

    /// Sets up a new connection and calls its protocol's `opened`.
    fn open(&mut self, socket: socket2::Socket, addr: &SockAddr) {
        if self.shared.tcp && self.shared.config.nodelay {
            let _ = socket.set_tcp_nodelay(true);
        }
        let peer = peer_of(addr);
        let protocol = match catch_unwind(AssertUnwindSafe(|| self.shared.factory.open(&peer))) {
            Ok(p) => p,
            Err(payload) => {
                let why = Panicked::from_payload(payload);
                self.log(&format!(
                    "{peer}: the protocol factory panicked ({why}); connection closed"
                ));
                return;
            }
        };
        let i = match self.free.pop() {
            Some(i) => i,
            None => {
                self.conns.push(None);
                self.conns.len() - 1
            }
        };
        let fd = {
            use std::os::fd::AsRawFd;
            socket.as_raw_fd()
        };
        let interest = Interest::READABLE | Interest::WRITABLE;
        if let Err(err) =
            self.poll
                .registry()
                .register(&mut SourceFd(&fd), Token(FIRST_CONN + i), interest)
        {
            self.free.push(i);
            self.log(&format!(
                "{peer}: cannot watch the connection ({err}); closed"
            ));
            return;
        }
        self.shared.active.fetch_add(1, Ordering::AcqRel);
        self.generation += 1;
        self.conns[i] = Some(ConnState {
            socket,
            peer,
            protocol,
            input: Vec::new(),
            out: Vec::new(),
            ending: Ending::No,
            flow: Flow::default(),
            phase: Phase::Open,
            readable: false,
            read_closed: false,
            write_blocked: false,
            last_active: Instant::now(),
            timed: self.shared.config.idle_timeout.is_some(),
            generation: self.generation,
            touched: false,
        });
        let after = {
            let ctx = Ctx {
                shared: &self.shared,
                inbox: &self.inbox,
                slot: i,
            };
            let (protocol, _, mut conn) = split(self.conns[i].as_mut().expect("just stored"), &ctx);
            match call(|| protocol.opened(&mut conn)) {
                Err(why) => After::Panicked(why),
                Ok(()) => After::Keep,
            }
        };
        match after {
            After::Keep => self.drive(i),
            other => self.apply(i, other),
        }
    }

    /// Moves a connection along as far as it can go without waiting:
    /// send what is buffered, read and deliver, then end it if it is done.
    fn drive(&mut self, i: usize) {
        let Some(Some(c)) = self.conns.get_mut(i) else {
            return;
        };
        let ctx = Ctx {
            shared: &self.shared,
            inbox: &self.inbox,
            slot: i,
        };
        let after = step(c, &mut self.scratch, &ctx, &mut self.again);
        if let After::Keep = after {
            if !c.out.is_empty() {
                return;
            }
            // Half-close (`write_eof`): everything is sent, shut our side.
            if c.flow.eof == Eof::Asked && matches!(c.ending, Ending::No) {
                if let Err(err) = c.socket.shutdown(std::net::Shutdown::Write) {
                    let err = Error::os("shutdown", err).with_target(&c.peer);
                    return self.finish(i, Some(err), true);
                }
                c.flow.eof = Eof::Shut;
            }
            // The client closed first and the protocol, which kept the
            // connection open, has now finished with it too.
            if c.phase == Phase::KeptOpen
                && (matches!(c.ending, Ending::Close) || c.flow.eof == Eof::Shut)
            {
                return self.finish(i, None, true);
            }
            // Our side is closed: linger, reading until the client closes.
            if c.phase == Phase::Open && matches!(c.ending, Ending::Close) {
                let _ = c.socket.shutdown(std::net::Shutdown::Write);
                c.phase = Phase::Lingering;
                c.timed = true;
                c.last_active = Instant::now();
                c.input = Vec::new();
                self.lingering += 1;
                // Input may already be waiting: read it away now.
                if c.readable {
                    self.again.push(i);
                }
            }
            return;
        }
        self.apply(i, after);
    }

    fn apply(&mut self, i: usize, after: After) {
        match after {
            After::Keep => {}
            After::Finish(err) => self.finish(i, err, true),
            After::Panicked(why) => {
                if let Some(Some(c)) = self.conns.get(i) {
                    let line = format!(
                        "{}: the protocol panicked ({}); connection closed",
                        c.peer,
                        Panicked(why)
                    );
                    self.log(&line);
                }
                self.finish(i, None, false);
            }
        }
    }

    /// Closes connection `i`: tells its protocol (unless it panicked), frees
    /// the slot, and lets a loop paused by the connection limit accept again.
    fn finish(&mut self, i: usize, err: Option<Error>, tell: bool) {
        let Some(mut c) = self.conns.get_mut(i).and_then(Option::take) else {
            return;
        };
        self.free.push(i);
        if c.phase == Phase::Lingering {
            self.lingering -= 1;
        }
        let _ = self.poll.registry().deregister(&mut SourceFd(&c.fd()));
        if tell {
            let protocol = &mut c.protocol;
            if let Err(why) = call(|| protocol.closed(err.as_ref())) {
                let line = format!("{}: the protocol panicked in closed ({why})", c.peer);
                self.log(&line);
            }
        }
        drop(c);
        self.shared.active.fetch_sub(1, Ordering::AcqRel);
        if self.shared.accept_paused.swap(false, Ordering::AcqRel) {
            self.accept_pending = true;
        }
    }

    /// Ends lingering connections past [`LINGER`] and idle ones past the
    /// idle timeout.
    fn sweep(&mut self) {
        let now = Instant::now();
        let idle = self.idle_timeout();
        for i in 0..self.conns.len() {
            let Some(c) = &mut self.conns[i] else {
                continue;
            };
            if c.flow.reading_paused && c.phase != Phase::Lingering {
                // The protocol, not the client, is waiting: the idle
                // clock starts again when reading resumes.
                c.last_active = now;
                continue;
            }
            let quiet = now.saturating_duration_since(c.last_active);
            if c.phase == Phase::Lingering {
                if quiet >= LINGER {
                    self.finish(i, None, true);
                }
            } else if let Some(limit) = idle.filter(|t| quiet >= *t) {
                let err = Error::new("recv", Cause::TimedOut).with_target(format!(
                    "{} (idle for {} ms, idle_timeout {} ms)",
                    c.peer,
                    quiet.as_millis(),
                    limit.as_millis()
                ));
                self.finish(i, Some(err), true);
            }
        }
        self.next_sweep = (self.lingering > 0 || idle.is_some()).then(|| now + self.sweep_every());
    }

    /// The loop is ending: send what each connection has buffered, as far as
    /// its socket takes it without waiting, and close them all.
    fn close_all(&mut self) {
        for i in 0..self.conns.len() {
            if let Some(Some(c)) = self.conns.get_mut(i) {
                let _ = flush(c);
                let err = Error::new("serve_forever", Cause::Closed)
                    .with_target(format!("{} (the server stopped)", c.peer));
                self.finish(i, Some(err), true);
            }
        }
    }

    /// Carries out what [`super::ConnHandle`]s asked: appends writes to
    /// their connections' output (failing a connection whose client has
    /// stopped reading), marks closes, then drives each connection touched
    /// once, so many writes to one client leave in one `send`. Commands
    /// that callbacks queue meanwhile are taken in the next round (at most
    /// a few rounds per turn; the rest waits for the next turn).
    fn empty_inbox(&mut self) {
        for _ in 0..4 {
            self.inbox.take(&mut self.commands);
            if self.commands.is_empty() {
                return;
            }
            let mut commands = std::mem::take(&mut self.commands);
            for command in commands.drain(..) {
                let (slot, generation) = command.target();
                let Some(Some(c)) = self.conns.get_mut(slot) else {
                    continue;
                };
                if c.generation != generation || c.phase == Phase::Lingering {
                    continue;
                }
                match command {
                    Command::Write { data, .. } => {
                        if !matches!(c.ending, Ending::No) {
                            continue;
                        }
                        if matches!(c.flow.eof, Eof::Asked | Eof::Shut) {
                            let line = format!(
                                "{}: write after write_eof: {} bytes dropped",
                                c.peer,
                                data.len()
                            );
                            self.log(&line);
                            continue;
                        }
                        if c.out.len() > HANDLE_OUTPUT_LIMIT {
                            let err =
                                Error::os("send", std::io::Error::from_raw_os_error(libc::ENOBUFS))
                                    .with_target(format!(
                                        "{} (the client does not read: {} bytes wait to be sent)",
                                        c.peer,
                                        c.out.len()
                                    ));
                            c.out.clear();
                            c.ending = Ending::Fail(err);
                        } else if c.out.is_empty() {
                            c.out = data;
                        } else {
                            c.out.extend_from_slice(&data);
                        }
                    }
                    Command::Close { .. } => {
                        if matches!(c.ending, Ending::No) {
                            c.ending = Ending::Close;
                        }
                    }
                    Command::Abort { .. } => {
                        if !matches!(c.ending, Ending::Fail(_)) {
                            c.out.clear();
                            c.ending = Ending::Fail(aborted(&c.peer));
                        }
                    }
                    Command::WriteEof { .. } => {
                        if matches!(c.flow.eof, Eof::No | Eof::Queued) {
                            c.flow.eof = Eof::Asked;
                        }
                    }
                    Command::Reading { paused, .. } => {
                        if matches!(c.ending, Ending::No) {
                            if c.flow.reading_paused && !paused {
                                c.last_active = Instant::now();
                            }
                            c.flow.reading_paused = paused;
                        }
                    }
                }
                if !c.touched {
                    c.touched = true;
                    self.touched.push(slot);
                }
            }
            self.commands = commands;
            for slot in std::mem::take(&mut self.touched) {
                if let Some(Some(c)) = self.conns.get_mut(slot) {
                    c.touched = false;
                }
                self.drive(slot);
            }
        }
    }

    fn log(&self, line: &str) {
        let hooks = &self.shared.hooks;
        let _ = catch_unwind(AssertUnwindSafe(|| hooks.log(line)));
    }
}

fn peer_of(addr: &SockAddr) -> Address {
    Address::from_sockaddr(addr).unwrap_or(Address::Unix(UnixAddr::Unnamed))
}
