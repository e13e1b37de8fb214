//! [`Outbox`]: one client's bounded queue of frames to send, and the
//! writer that empties it.
//!
//! The room pushes frames into every client's outbox under its own lock,
//! which never waits on a socket; each client's writer thread takes them out
//! and waits on that client's socket alone. So a client that does not read
//! holds up nobody but its own writer, and its queue fills up instead: the
//! push that finds the queue full tells the room to drop that client.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use crate::socket::Socket;
use crate::timeout::Timeout;
use crate::Shutdown;

/// The most bytes a writer hands to one `send_all` (several frames at
/// once when many are waiting; a larger frame goes alone).
const BATCH_BYTES: usize = 256 * 1024;

/// A frame, encoded once and shared by every outbox it is pushed into.
pub(crate) type Frame = Arc<[u8]>;

/// Where the outbox is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Taking frames.
    Open,
    /// Taking no more; the writer sends what is queued, then stops.
    Closing,
    /// Taking no more, and what was queued is thrown away: the client was
    /// dropped, or its connection failed.
    Dropped,
}

#[derive(Debug)]
struct Queue {
    frames: VecDeque<Frame>,
    bytes: usize,
    phase: Phase,
}

/// One client's queue of frames waiting for its writer.
#[derive(Debug)]
pub(crate) struct Outbox {
    queue: Mutex<Queue>,
    /// Notified when a frame arrives or the phase changes.
    changed: Condvar,
    max_frames: usize,
    max_bytes: usize,
}

/// What [`Outbox::push`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pushed {
    /// Queued (or ignored, when the outbox is no longer open).
    Queued,
    /// The queue is full: the client is not keeping up.
    Full,
}

impl Outbox {
    /// An open outbox holding at most `max_frames` frames and `max_bytes`
    /// bytes (but always one frame, whatever its size).
    pub(crate) fn new(max_frames: usize, max_bytes: usize) -> Outbox {
        Outbox {
            queue: Mutex::new(Queue {
                frames: VecDeque::new(),
                bytes: 0,
                phase: Phase::Open,
            }),
            changed: Condvar::new(),
            max_frames,
            max_bytes,
        }
    }

    /// Queues `frame` unless that would pass a limit. A closing or dropped
    /// outbox ignores it.
    pub(crate) fn push(&self, frame: &Frame) -> Pushed {
        let mut q = self.queue.lock();
        if q.phase != Phase::Open {
            return Pushed::Queued;
        }
        let over_bytes = !q.frames.is_empty() && q.bytes + frame.len() > self.max_bytes;
        if q.frames.len() >= self.max_frames || over_bytes {
            return Pushed::Full;
        }
        q.bytes += frame.len();
        q.frames.push_back(Arc::clone(frame));
        self.changed.notify_one();
        Pushed::Queued
    }

    /// Queues `frame` as the last one, whatever the limits, and closes the
    /// outbox: the writer sends everything, then stops. For the error
    /// message that ends a connection.
    pub(crate) fn push_last(&self, frame: Frame) {
        let mut q = self.queue.lock();
        if q.phase == Phase::Open {
            q.bytes += frame.len();
            q.frames.push_back(frame);
        }
        Self::set_phase(&mut q, Phase::Closing);
        self.changed.notify_one();
    }

    /// Takes no more frames; the writer sends those queued, then stops.
    pub(crate) fn close(&self) {
        let mut q = self.queue.lock();
        Self::set_phase(&mut q, Phase::Closing);
        self.changed.notify_one();
    }

    /// Takes no more frames and forgets those queued; the writer stops as
    /// soon as it is not inside a send (the caller shuts the socket down to
    /// end one).
    pub(crate) fn drop_all(&self) {
        let mut q = self.queue.lock();
        q.phase = Phase::Dropped;
        q.frames.clear();
        q.bytes = 0;
        self.changed.notify_one();
    }

    /// Phases only move forward: open, closing, dropped.
    fn set_phase(q: &mut Queue, phase: Phase) {
        if q.phase == Phase::Open {
            q.phase = phase;
        }
    }

    /// Waits for frames and moves up to [`BATCH_BYTES`] of them into `out`
    /// (at least one). `None` when the writer should stop: dropped, or
    /// closing with nothing left. `Some(true)` when closing.
    fn take(&self, out: &mut Vec<u8>) -> Option<bool> {
        let mut q = self.queue.lock();
        loop {
            match q.phase {
                Phase::Dropped => return None,
                Phase::Closing if q.frames.is_empty() => return None,
                _ if !q.frames.is_empty() => break,
                _ => self.changed.wait(&mut q),
            }
        }
        while let Some(frame) = q.frames.front() {
            if !out.is_empty() && out.len() + frame.len() > BATCH_BYTES {
                break;
            }
            out.extend_from_slice(frame);
            q.bytes -= frame.len();
            q.frames.pop_front();
        }
        Some(q.phase == Phase::Closing)
    }

    /// The writer: sends queued frames on `sock` until the outbox is
    /// dropped, or closed and empty. Once closing, each send is bounded by
    /// `linger`, so a client that has left and does not read cannot keep
    /// the thread. A failed send drops the outbox and shuts the socket down,
    /// which ends the reader too.
    pub(crate) fn run_writer(&self, sock: &Socket, linger: Duration) {
        let mut buf = Vec::new();
        let mut lingering = false;
        loop {
            buf.clear();
            let Some(closing) = self.take(&mut buf) else {
                return;
            };
            // The reader has stopped by the time the outbox closes, so the
            // socket's mode is the writer's alone to change.
            if closing && !lingering {
                lingering = true;
                if sock.set_timeout(Timeout::After(linger)).is_err() {
                    return;
                }
            }
            if sock.send_all(&buf, 0).is_err() {
                self.drop_all();
                let _ = sock.shutdown(Shutdown::Both);
                return;
            }
            if buf.capacity() > BATCH_BYTES * 2 {
                buf = Vec::new();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(bytes: &[u8]) -> Frame {
        Arc::from(bytes)
    }

    #[test]
    fn full_by_count() {
        let o = Outbox::new(2, 1 << 20);
        assert_eq!(o.push(&frame(b"a")), Pushed::Queued);
        assert_eq!(o.push(&frame(b"b")), Pushed::Queued);
        assert_eq!(o.push(&frame(b"c")), Pushed::Full);
    }

    #[test]
    fn full_by_bytes_but_one_frame_always_fits() {
        let o = Outbox::new(100, 4);
        assert_eq!(o.push(&frame(b"123456")), Pushed::Queued);
        assert_eq!(o.push(&frame(b"1")), Pushed::Full);
        let mut out = Vec::new();
        assert_eq!(o.take(&mut out), Some(false));
        assert_eq!(out, b"123456");
        assert_eq!(o.push(&frame(b"12")), Pushed::Queued);
        assert_eq!(o.push(&frame(b"34")), Pushed::Queued);
        assert_eq!(o.push(&frame(b"5")), Pushed::Full);
    }

    #[test]
    fn closing_sends_what_is_queued_then_stops() {
        let o = Outbox::new(10, 100);
        o.push(&frame(b"a"));
        o.push_last(frame(b"error"));
        assert_eq!(o.push(&frame(b"late")), Pushed::Queued); // ignored
        let mut out = Vec::new();
        assert_eq!(o.take(&mut out), Some(true));
        assert_eq!(out, b"aerror");
        assert_eq!(o.take(&mut out), None);
    }

    #[test]
    fn dropping_forgets_the_queue() {
        let o = Outbox::new(10, 100);
        o.push(&frame(b"a"));
        o.drop_all();
        o.close(); // phases only move forward
        assert_eq!(o.take(&mut Vec::new()), None);
    }
}
