//! One round of work on one connection, as far as it can go without
//! waiting: send what is buffered, read and deliver, tell the protocol
//! about its write buffer's water marks, and say whether the connection
//! is done. The loop around it (`reactor.rs`) turns readiness into rounds.
//!
//! Reading happens only while the connection is open, the protocol has
//! not paused it ([`super::Conn::pause_reading`]) and less than
//! [`OUTPUT_HIGH_WATER`] bytes of output wait; `readable` is remembered
//! meanwhile (readiness is edge-triggered), so a round after a resume
//! reads what is queued without waiting for a new event.

use std::io::ErrorKind;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Instant;

use crate::error::{Cause, Error, Result};

use super::super::hooks::Panicked;
use super::calls;
use super::conn::{Conn, Ending, OUTPUT_HIGH_WATER};
use super::conn_state::{ConnState, Phase};
use super::inbox::Inbox;
use super::protocol::Protocol;
use super::server::Shared;

/// Reads one connection gets per round before the others have theirs.
const READS_PER_TURN: usize = 16;
/// Buffers larger than this are given back when they empty, so that an
/// idle connection costs little memory after a burst.
pub(crate) const KEEP_CAPACITY: usize = 64 * 1024;
/// Pause/resume exchanges per round: a protocol that refills its buffer
/// in every `write_resumed` while the socket keeps taking it goes on in
/// the next round, after the other connections.
const FLOW_ROUNDS: usize = 4;

/// What one round of work on a connection left to do.
pub(crate) enum After {
    Keep,
    Finish(Option<Error>),
    Panicked(String),
}

/// What a round on one connection needs from its loop.
pub(crate) struct Ctx<'a> {
    pub(crate) shared: &'a Shared,
    pub(crate) inbox: &'a Arc<Inbox>,
    pub(crate) slot: usize,
}

/// Runs a protocol callback; a panic becomes its message.
pub(crate) fn call<R>(f: impl FnOnce() -> R) -> std::result::Result<R, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| Panicked::from_payload(payload).0)
}

/// Whether the loop may read from `c` now.
fn may_read(c: &ConnState) -> bool {
    c.phase == Phase::Open
        && matches!(c.ending, Ending::No)
        && !c.flow.reading_paused
        && c.out.len() < OUTPUT_HIGH_WATER
}

/// One round on one connection; see the module docs. A connection that
/// can still read when the round ends is put in `again`.
pub(crate) fn step(
    c: &mut ConnState,
    scratch: &mut [u8],
    ctx: &Ctx<'_>,
    again: &mut Vec<usize>,
) -> After {
    if let Err(err) = flush(c) {
        return After::Finish(Some(err));
    }
    let mut reads = 0;
    let mut queued = false;
    while c.readable && (may_read(c) || c.phase == Phase::Lingering) {
        if reads == READS_PER_TURN {
            again.push(ctx.slot);
            queued = true;
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
        if n < scratch.len() && !c.read_closed {
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
    match write_flow(c, ctx) {
        Err(after) => return after,
        Ok(more) => {
            // More flow-control work, or reading resumed by a callback of
            // this round with input already waiting: next round.
            if !queued && (more || c.readable && may_read(c)) {
                again.push(ctx.slot);
            }
        }
    }
    if c.phase == Phase::Flushing && c.out.is_empty() {
        return After::Finish(None);
    }
    After::Keep
}

/// Tells the protocol that its write buffer crossed a water mark:
/// `write_paused` when a write (its own or a handle's) took it above the
/// high mark, `write_resumed` when sending has drained it to the low one.
/// Both come here, after the callback that wrote and after a send, never
/// from inside `Conn::write`. `Ok(true)`: the protocol keeps refilling
/// what the socket takes; the rest waits for the next round.
fn write_flow(c: &mut ConnState, ctx: &Ctx<'_>) -> std::result::Result<bool, After> {
    for _ in 0..FLOW_ROUNDS {
        if !matches!(c.ending, Ending::No) {
            return Ok(false);
        }
        // A handle's writes reach `out` without passing `Conn::write`.
        c.flow.after_write(c.out.len());
        if c.flow.pause_due {
            c.flow.pause_due = false;
            let (protocol, _, mut conn) = split(c, ctx);
            call(|| protocol.write_paused(&mut conn)).map_err(After::Panicked)?;
            settle(c)?;
        }
        if !c.flow.take_resume(c.out.len()) {
            return Ok(false);
        }
        let (protocol, _, mut conn) = split(c, ctx);
        call(|| protocol.write_resumed(&mut conn)).map_err(After::Panicked)?;
        settle(c)?;
    }
    Ok(true)
}

/// After a callback: its failure, or a send of what it wrote.
fn settle(c: &mut ConnState) -> std::result::Result<(), After> {
    if let Some(err) = c.failed() {
        return Err(After::Finish(Some(err)));
    }
    flush(c).map_err(|err| After::Finish(Some(err)))
}

/// A connection's protocol, its unconsumed input, and the [`Conn`] its
/// callbacks get — borrowed apart, so that a callback can be given both.
pub(crate) fn split<'a>(
    c: &'a mut ConnState,
    ctx: &Ctx<'a>,
) -> (&'a mut Box<dyn Protocol>, &'a mut Vec<u8>, Conn<'a>) {
    let fd = c.fd();
    let ConnState {
        peer,
        protocol,
        input,
        out,
        ending,
        flow,
        write_blocked,
        generation,
        ..
    } = c;
    let conn = Conn {
        peer,
        out,
        ending,
        flow,
        fd,
        write_blocked,
        server: &ctx.shared.handle,
        hooks: &*ctx.shared.hooks,
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
/// send what is buffered and close — or, if the protocol kept the
/// connection open ([`super::Conn::keep_open`]), go on until it ends it.
fn end_of_input(c: &mut ConnState, ctx: &Ctx<'_>) -> After {
    if c.phase == Phase::Lingering {
        return After::Finish(None);
    }
    c.phase = Phase::Flushing;
    let rest = std::mem::take(&mut c.input);
    c.flow.keep_open = false;
    let (protocol, _, mut conn) = split(c, ctx);
    if let Err(why) = call(|| protocol.end(&mut conn, &rest)) {
        return After::Panicked(why);
    }
    if let Some(err) = c.failed() {
        return After::Finish(Some(err));
    }
    if c.flow.keep_open && matches!(c.ending, Ending::No) {
        c.phase = Phase::KeptOpen;
    }
    if let Err(err) = flush(c) {
        return After::Finish(Some(err));
    }
    if let Err(after) = write_flow(c, ctx) {
        return after;
    }
    if c.phase == Phase::Flushing && c.out.is_empty() {
        return After::Finish(None);
    }
    After::Keep
}

/// Sends buffered output until it is all gone or the socket is full.
pub(crate) fn flush(c: &mut ConnState) -> Result<()> {
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
