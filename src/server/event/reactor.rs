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
//! arrives later raises a new event), `write_blocked` from an `EAGAIN` on
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
use super::conn_state::{ConnState, Phase};
use super::inbox::{Command, Inbox, HANDLE_OUTPUT_LIMIT};
use super::protocol::{aborted, Conn, Ending, Protocol, OUTPUT_HIGH_WATER};
use super::server::Shared;

const LISTENER: Token = Token(0);
const CONTROL: Token = Token(1);
pub(crate) const WAKE: Token = Token(2);
const FIRST_CONN: usize = 3;

/// Bytes read per `recv`; one buffer per loop, shared by its connections.
const READ_BUF: usize = 64 * 1024;
/// Reads one connection gets per turn before the others have theirs.
const READS_PER_TURN: usize = 16;
/// Connections accepted per turn before the others have theirs.
const ACCEPTS_PER_TURN: usize = 64;
/// How long a closing connection reads (and drops) what the client still
/// sends before it is closed anyway.
const LINGER: Duration = Duration::from_secs(2);
/// Pause before accepting again when the process is out of descriptors.
const ACCEPT_RETRY: Duration = Duration::from_millis(100);
/// Buffers larger than this are given back when they empty, so that an
/// idle connection costs little memory after a burst.
const KEEP_CAPACITY: usize = 64 * 1024;

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

/// What one round of work on a connection left to do.
enum After {
    Keep,
    Finish(Option<Error>),
    Panicked(String),
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
                        self.on_event(t - FIRST_CONN, readable, writable);
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

    fn on_event(&mut self, i: usize, readable: bool, writable: bool) {
        if let Some(Some(c)) = self.conns.get_mut(i) {
            c.readable |= readable;
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
            phase: Phase::Open,
            readable: false,
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
            // Our side is closed: linger, reading until the client closes.
            if c.phase == Phase::Open && matches!(c.ending, Ending::Close) && c.out.is_empty() {
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
            let Some(c) = &self.conns[i] else { continue };
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
                let (slot, generation) = match &command {
                    Command::Write {
                        slot, generation, ..
                    }
                    | Command::Close { slot, generation }
                    | Command::Abort { slot, generation } => (*slot, *generation),
                };
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

/// Runs a protocol callback; a panic becomes its message.
fn call<R>(f: impl FnOnce() -> R) -> std::result::Result<R, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| Panicked::from_payload(payload).0)
}

fn peer_of(addr: &SockAddr) -> Address {
    Address::from_sockaddr(addr).unwrap_or(Address::Unix(UnixAddr::Unnamed))
}

/// One round on one connection; see [`Reactor::drive`].
/// What a round on one connection needs from its loop.
struct Ctx<'a> {
    shared: &'a Shared,
    inbox: &'a Arc<Inbox>,
    slot: usize,
}

fn step(c: &mut ConnState, scratch: &mut [u8], ctx: &Ctx<'_>, again: &mut Vec<usize>) -> After {
    if let Err(err) = flush(c) {
        return After::Finish(Some(err));
    }
    let mut reads = 0;
    while c.readable && c.out.len() < OUTPUT_HIGH_WATER && matches!(c.ending, Ending::No)
        || c.readable && c.phase == Phase::Lingering
    {
        if reads == READS_PER_TURN {
            again.push(ctx.slot);
            break;
        }
        reads += 1;
        let n = match calls::recv(c.fd(), scratch) {
            Ok(n) => n,
            Err(err) if err.kind() == ErrorKind::WouldBlock => {
                c.readable = false;
                break;
            }
            Err(err) if err.kind() == ErrorKind::Interrupted => continue,
            Err(err) => {
                let err = Error::os("recv", err).with_target(&c.peer);
                return After::Finish(Some(err));
            }
        };
        if c.timed {
            c.last_active = Instant::now();
        }
        if n < scratch.len() {
            c.readable = false;
        }
        if n == 0 {
            return end_of_input(c, ctx);
        }
        if c.phase == Phase::Lingering {
            continue;
        }
        if let Err(why) = deliver(c, &scratch[..n], ctx) {
            return After::Panicked(why);
        }
        if let Some(err) = c.failed() {
            return After::Finish(Some(err));
        }
        if let Err(err) = flush(c) {
            return After::Finish(Some(err));
        }
    }
    if let Some(err) = c.failed() {
        return After::Finish(Some(err));
    }
    if c.phase == Phase::Flushing && c.out.is_empty() {
        return After::Finish(None);
    }
    After::Keep
}

/// A connection's protocol, its unconsumed input, and the [`Conn`] its
/// callbacks get — borrowed apart, so that a callback can be given both.
fn split<'a>(
    c: &'a mut ConnState,
    ctx: &Ctx<'a>,
) -> (&'a mut Box<dyn Protocol>, &'a mut Vec<u8>, Conn<'a>) {
    let ConnState {
        peer,
        protocol,
        input,
        out,
        ending,
        generation,
        ..
    } = c;
    let conn = Conn {
        peer,
        out,
        ending,
        server: &ctx.shared.handle,
        inbox: ctx.inbox,
        slot: ctx.slot,
        generation: *generation,
    };
    (protocol, input, conn)
}

/// Hands bytes to the protocol, keeping what it does not consume.
fn deliver(c: &mut ConnState, data: &[u8], ctx: &Ctx<'_>) -> std::result::Result<(), String> {
    let (protocol, input, mut conn) = split(c, ctx);
    if input.is_empty() {
        let used = call(|| protocol.received(&mut conn, data))?.min(data.len());
        input.extend_from_slice(&data[used..]);
    } else {
        input.extend_from_slice(data);
        let used = call(|| protocol.received(&mut conn, input))?.min(input.len());
        input.drain(..used);
        if input.is_empty() && input.capacity() > KEEP_CAPACITY {
            *input = Vec::new();
        }
    }
    let limit = ctx.shared.config.max_unconsumed;
    if input.len() > limit && matches!(conn.ending, Ending::No) {
        conn.fail(
            Error::new(
                "recv",
                Cause::FrameTooLarge {
                    limit: limit as u64,
                    declared: None,
                },
            )
            .with_target(format!(
                "{} ({} bytes unconsumed)",
                conn.peer(),
                input.len()
            )),
        );
    }
    Ok(())
}

/// The client sent end of file: let the protocol see what is left, then
/// send what is buffered and close.
fn end_of_input(c: &mut ConnState, ctx: &Ctx<'_>) -> After {
    if c.phase == Phase::Lingering {
        return After::Finish(None);
    }
    c.phase = Phase::Flushing;
    let rest = std::mem::take(&mut c.input);
    let (protocol, _, mut conn) = split(c, ctx);
    if let Err(why) = call(|| protocol.end(&mut conn, &rest)) {
        return After::Panicked(why);
    }
    if let Some(err) = c.failed() {
        return After::Finish(Some(err));
    }
    if let Err(err) = flush(c) {
        return After::Finish(Some(err));
    }
    if c.out.is_empty() {
        After::Finish(None)
    } else {
        After::Keep
    }
}

/// Sends buffered output until it is all gone or the socket is full.
fn flush(c: &mut ConnState) -> Result<()> {
    if c.out.is_empty() || c.write_blocked {
        return Ok(());
    }
    let mut sent = 0;
    let result = loop {
        if sent == c.out.len() {
            break Ok(());
        }
        match calls::send(c.fd(), &c.out[sent..]) {
            Ok(n) => sent += n,
            Err(err) if err.kind() == ErrorKind::WouldBlock => {
                c.write_blocked = true;
                break Ok(());
            }
            Err(err) if err.kind() == ErrorKind::Interrupted => {}
            Err(err) => break Err(Error::os("send", err).with_target(&c.peer)),
        }
    };
    if sent > 0 {
        if c.timed {
            c.last_active = Instant::now();
        }
        if sent == c.out.len() {
            c.out.clear();
            if c.out.capacity() > KEEP_CAPACITY {
                c.out = Vec::new();
            }
        } else {
            c.out.drain(..sent);
        }
    }
    result
}
