//! [`Outbox`]: one client's bounded queue of frames to send, who may write
//! them to the socket, and the writer thread that takes over when the
//! socket is full.
//!
//! The room pushes frames into every client's outbox under its own lock
//! and then *flushes* them: while the client keeps up, the relaying thread
//! hands the queued bytes to the kernel itself, with one send that never
//! waits ([`Socket::try_send`]), and the client's writer thread sleeps.
//! Only when the kernel does not take everything (the client's socket
//! buffers are full) does the outbox hand the rest to the writer, which
//! waits on that client's socket alone, and wake it. So a fast client
//! costs one system call per flush and no thread switch, and a client that
//! does not read holds up nobody but its own writer: its queue fills up
//! instead, and the push that finds it full of bytes the kernel would not
//! take tells the room to drop that client.
//!
//! Exactly one side owns the socket's sending at a time ([`Owner`]), and
//! the owner always sends from the front of the queue, so frames leave in
//! the order they were pushed, whichever thread sends them.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use crate::error::Cause;
use crate::socket::Socket;
use crate::timeout::Timeout;
use crate::Shutdown;

/// The most bytes handed to one send (several frames at once when many are
/// waiting; a larger frame goes alone).
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

/// Who sends the queued frames to the socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    /// The room, from the relaying thread, with sends that never wait
    /// ([`Outbox::flush`]). The writer thread sleeps.
    Room,
    /// The writer thread: the socket was full, or the outbox is closing.
    /// It gives the socket back to the room once the queue is empty.
    Writer,
}

#[derive(Debug)]
struct Queue {
    frames: VecDeque<Frame>,
    /// How many bytes of the front frame were sent already (a send the
    /// kernel took only part of).
    front_sent: usize,
    /// Bytes queued and not yet sent.
    bytes: usize,
    phase: Phase,
    owner: Owner,
}

/// One client's queue of frames waiting to be sent.
#[derive(Debug)]
pub(crate) struct Outbox {
    queue: Mutex<Queue>,
    /// Notified when the writer is handed the queue or the phase changes.
    changed: Condvar,
    max_frames: usize,
    max_bytes: usize,
}

/// What [`Outbox::push`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pushed {
    /// Queued (or ignored, when the outbox is no longer open).
    Queued,
    /// The queue is full of bytes the kernel would not take: the client is
    /// not keeping up.
    Full,
}

impl Queue {
    /// Forgets the first `n` unsent bytes: the kernel took them.
    fn consume(&mut self, mut n: usize) {
        while n > 0 {
            let Some(front) = self.frames.front() else {
                return;
            };
            let left = front.len() - self.front_sent;
            if n < left {
                self.front_sent += n;
                self.bytes -= n;
                return;
            }
            n -= left;
            self.bytes -= left;
            self.front_sent = 0;
            self.frames.pop_front();
        }
    }

    /// Copies unsent bytes from the front into `out`, whole frames after
    /// the first, up to [`BATCH_BYTES`] (at least one frame). Removes
    /// nothing.
    fn gather(&self, out: &mut Vec<u8>) {
        for (i, frame) in self.frames.iter().enumerate() {
            let part = if i == 0 {
                &frame[self.front_sent..]
            } else {
                &frame[..]
            };
            if !out.is_empty() && out.len() + part.len() > BATCH_BYTES {
                return;
            }
            out.extend_from_slice(part);
        }
    }

    /// Throws the queue away.
    fn clear(&mut self) {
        self.frames.clear();
        self.front_sent = 0;
        self.bytes = 0;
    }
}

impl Outbox {
    /// An open outbox holding at most `max_frames` frames and `max_bytes`
    /// bytes (but always one frame, whatever its size).
    pub(crate) fn new(max_frames: usize, max_bytes: usize) -> Outbox {
        Outbox {
            queue: Mutex::new(Queue {
                frames: VecDeque::new(),
                front_sent: 0,
                bytes: 0,
                phase: Phase::Open,
                owner: Owner::Room,
            }),
            changed: Condvar::new(),
            max_frames,
            max_bytes,
        }
    }

    /// Queues `frame`, to be sent at the next [`Outbox::flush`] (or by the
    /// writer, if it owns the socket). A closing or dropped outbox ignores
    /// it.
    ///
    /// If the queue is at a limit while the room still owns the socket,
    /// the queue is flushed first (on `sock`, with `scratch` as the
    /// buffer): only bytes the kernel would not take count against the
    /// client. [`Pushed::Full`] if the frame still does not fit.
    pub(crate) fn push(&self, frame: &Frame, sock: &Socket, scratch: &mut Vec<u8>) -> Pushed {
        let mut q = self.queue.lock();
        if q.phase != Phase::Open {
            return Pushed::Queued;
        }
        if self.over_limit(&q, frame.len()) {
            self.flush_locked(&mut q, sock, scratch);
            if q.phase != Phase::Open {
                return Pushed::Queued;
            }
            if self.over_limit(&q, frame.len()) {
                return Pushed::Full;
            }
        }
        q.bytes += frame.len();
        q.frames.push_back(Arc::clone(frame));
        Pushed::Queued
    }

    /// Whether one more frame of `len` bytes would pass a limit.
    fn over_limit(&self, q: &Queue, len: usize) -> bool {
        let over_bytes = !q.frames.is_empty() && q.bytes + len > self.max_bytes;
        q.frames.len() >= self.max_frames || over_bytes
    }

    /// Sends what is queued on `sock` without waiting, if the room owns
    /// the socket, with `scratch` as the buffer when several frames go at
    /// once. What the kernel does not take is handed to the writer, which
    /// is woken. A send that fails (the client reset the connection) drops
    /// the outbox and shuts `sock` down, which ends the client's reader
    /// too, as a failing writer does.
    pub(crate) fn flush(&self, sock: &Socket, scratch: &mut Vec<u8>) {
        let mut q = self.queue.lock();
        self.flush_locked(&mut q, sock, scratch);
    }

    fn flush_locked(&self, q: &mut Queue, sock: &Socket, scratch: &mut Vec<u8>) {
        if q.phase != Phase::Open || q.owner != Owner::Room {
            return;
        }
        while let Some(front) = q.frames.front() {
            // One frame goes from where it is; several are copied into one
            // send.
            let (sent, wanted) = if q.frames.len() == 1 {
                let part = &front[q.front_sent..];
                (sock.try_send(part, 0), part.len())
            } else {
                scratch.clear();
                q.gather(scratch);
                (sock.try_send(scratch, 0), scratch.len())
            };
            match sent {
                Ok(n) => {
                    q.consume(n);
                    if n < wanted {
                        break;
                    }
                }
                Err(e) if matches!(e.cause(), Cause::WouldBlock) => break,
                Err(_) => {
                    q.phase = Phase::Dropped;
                    q.clear();
                    let _ = sock.shutdown(Shutdown::Both);
                    self.changed.notify_one();
                    return;
                }
            }
        }
        if scratch.capacity() > BATCH_BYTES * 2 {
            *scratch = Vec::new();
        }
        if !q.frames.is_empty() {
            q.owner = Owner::Writer;
            self.changed.notify_one();
        }
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
        q.clear();
        self.changed.notify_one();
    }

    /// Phases only move forward: open, closing, dropped.
    fn set_phase(q: &mut Queue, phase: Phase) {
        if q.phase == Phase::Open {
            q.phase = phase;
        }
    }

    /// Waits until the writer owns the socket with something to send (it
    /// always does once closing), and moves up to [`BATCH_BYTES`] of the
    /// queue into `out` (at least one frame). The writer keeps the socket
    /// until it comes back to find the queue empty; then the room has it
    /// again. `None` when the writer should stop: dropped, or closing with
    /// nothing left. `Some(true)` when closing.
    fn take(&self, out: &mut Vec<u8>) -> Option<bool> {
        let mut q = self.queue.lock();
        loop {
            match (q.phase, q.owner, q.frames.is_empty()) {
                (Phase::Dropped, _, _) | (Phase::Closing, _, true) => return None,
                (Phase::Closing, _, false) | (Phase::Open, Owner::Writer, false) => break,
                (Phase::Open, Owner::Writer, true) => q.owner = Owner::Room,
                (Phase::Open, Owner::Room, _) => self.changed.wait(&mut q),
            }
        }
        q.owner = Owner::Writer;
        q.gather(out);
        q.consume(out.len());
        Some(q.phase == Phase::Closing)
    }

    /// The writer: sends what it is handed (see [`Outbox::take`]) on `sock`
    /// until the outbox is dropped, or closed and empty. Once closing, each
    /// send is bounded by `linger`, so a client that has left and does not
    /// read cannot keep the thread. A failed send drops the outbox and
    /// shuts the socket down, which ends the reader too.
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
    use crate::create::socketpair;

    fn frame(bytes: &[u8]) -> Frame {
        Arc::from(bytes)
    }

    /// A connected pair whose first socket's send buffer is as small as
    /// the kernel allows, so that it fills quickly.
    fn pair() -> (Socket, Socket) {
        let (a, b) = socketpair().unwrap();
        a.set_option(libc::SOL_SOCKET, libc::SO_SNDBUF, 1).unwrap();
        a.set_timeout(Timeout::After(Duration::from_secs(10)))
            .unwrap();
        b.set_timeout(Timeout::After(Duration::from_secs(10)))
            .unwrap();
        (a, b)
    }

    fn owner(o: &Outbox) -> Owner {
        o.queue.lock().owner
    }

    #[test]
    fn full_by_count() {
        let (a, _b) = pair();
        let mut scratch = Vec::new();
        // Fill the socket, so that the flush inside push cannot help.
        let big = frame(&vec![b'x'; 1 << 20]);
        let o = Outbox::new(2, 4 << 20);
        assert_eq!(o.push(&big, &a, &mut scratch), Pushed::Queued);
        o.flush(&a, &mut scratch);
        assert_eq!(owner(&o), Owner::Writer);
        assert_eq!(o.push(&frame(b"a"), &a, &mut scratch), Pushed::Queued);
        assert_eq!(o.push(&frame(b"b"), &a, &mut scratch), Pushed::Full);
    }

    #[test]
    fn full_by_bytes_but_one_frame_always_fits() {
        let (a, _b) = pair();
        let mut scratch = Vec::new();
        // Take the socket away from the room: nothing is flushed.
        let o = Outbox::new(100, 4);
        o.queue.lock().owner = Owner::Writer;
        assert_eq!(o.push(&frame(b"123456"), &a, &mut scratch), Pushed::Queued);
        assert_eq!(o.push(&frame(b"1"), &a, &mut scratch), Pushed::Full);
        let mut out = Vec::new();
        assert_eq!(o.take(&mut out), Some(false));
        assert_eq!(out, b"123456");
        assert_eq!(o.push(&frame(b"12"), &a, &mut scratch), Pushed::Queued);
        assert_eq!(o.push(&frame(b"34"), &a, &mut scratch), Pushed::Queued);
        assert_eq!(o.push(&frame(b"5"), &a, &mut scratch), Pushed::Full);
    }

    #[test]
    fn a_full_queue_is_flushed_before_it_counts_as_full() {
        let (a, b) = pair();
        let mut scratch = Vec::new();
        let o = Outbox::new(2, 1 << 20);
        for m in [b"a", b"b", b"c", b"d"] {
            assert_eq!(o.push(&frame(m), &a, &mut scratch), Pushed::Queued);
        }
        o.flush(&a, &mut scratch);
        assert_eq!(owner(&o), Owner::Room);
        let mut buf = [0u8; 8];
        let mut got = Vec::new();
        while got.len() < 4 {
            let n = b.recv(&mut buf, 0).unwrap();
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, b"abcd");
    }

    #[test]
    fn what_the_socket_does_not_take_goes_to_the_writer_in_order() {
        let (a, b) = pair();
        let mut scratch = Vec::new();
        let o = Outbox::new(1000, 64 << 20);
        let frames: Vec<Frame> = (0..64u8).map(|i| frame(&[i; 64 * 1024])).collect();
        for f in &frames {
            assert_eq!(o.push(f, &a, &mut scratch), Pushed::Queued);
        }
        o.flush(&a, &mut scratch);
        assert_eq!(owner(&o), Owner::Writer, "4 MiB fit in the socket");
        std::thread::scope(|s| {
            s.spawn(|| o.run_writer(&a, Duration::from_secs(10)));
            let mut got = Vec::new();
            let mut buf = vec![0u8; 64 * 1024];
            while got.len() < 64 * 64 * 1024 {
                let n = b.recv(&mut buf, 0).unwrap();
                assert!(n > 0, "the stream ended early");
                got.extend_from_slice(&buf[..n]);
            }
            let want: Vec<u8> = frames.iter().flat_map(|f| f.iter().copied()).collect();
            assert!(got == want, "bytes out of order");
            o.close();
        });
        // The writer gave the socket back before it saw the close, or
        // stopped on it; either way nothing is left.
        assert!(o.queue.lock().frames.is_empty());
    }

    #[test]
    fn handing_the_socket_over_and_back_keeps_the_order() {
        let (a, b) = pair();
        let mut scratch = Vec::new();
        let o = Outbox::new(1 << 20, 1 << 30);
        // A first frame larger than the socket's buffer, then frames of 1
        // to 3000 bytes, each filled with its own number.
        let mut frames = vec![frame(&[250; 256 * 1024])];
        frames.extend((0..2000usize).map(|i| frame(&vec![(i % 250) as u8; 1 + i * 7919 % 3000])));
        let want: Vec<u8> = frames.iter().flat_map(|f| f.iter().copied()).collect();
        // Nobody reads yet: the first flush must hand over.
        assert_eq!(o.push(&frames[0], &a, &mut scratch), Pushed::Queued);
        o.flush(&a, &mut scratch);
        assert_eq!(owner(&o), Owner::Writer);
        let mut given_back = 0;
        std::thread::scope(|s| {
            s.spawn(|| o.run_writer(&a, Duration::from_secs(10)));
            let reader = s.spawn(|| {
                let mut got = Vec::new();
                let mut buf = vec![0u8; 4096];
                while got.len() < want.len() {
                    let n = b.recv(&mut buf, 0).unwrap();
                    assert!(n > 0, "the stream ended early");
                    got.extend_from_slice(&buf[..n]);
                }
                got
            });
            // Whichever side owns the socket at each step (that depends
            // on the reader's pace), the bytes arrive in order.
            // Every tenth group waits (bounded) for the writer to give
            // the socket back.
            for (k, group) in frames[1..].chunks(7).enumerate() {
                for _ in 0..if k % 10 == 0 { 5000 } else { 0 } {
                    if owner(&o) == Owner::Room {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
                given_back += usize::from(owner(&o) == Owner::Room);
                for f in group {
                    assert_eq!(o.push(f, &a, &mut scratch), Pushed::Queued);
                }
                o.flush(&a, &mut scratch);
            }
            let got = reader.join().unwrap();
            assert!(got == want, "bytes lost or out of order");
            o.close();
        });
        eprintln!("the room owned the socket at {given_back} of the flushes");
    }

    #[test]
    fn closing_sends_what_is_queued_then_stops() {
        let (a, _b) = pair();
        let mut scratch = Vec::new();
        let o = Outbox::new(10, 100);
        o.push(&frame(b"a"), &a, &mut scratch);
        o.push_last(frame(b"error"));
        assert_eq!(o.push(&frame(b"late"), &a, &mut scratch), Pushed::Queued); // ignored
        o.flush(&a, &mut scratch); // the writer owns a closing outbox
        let mut out = Vec::new();
        assert_eq!(o.take(&mut out), Some(true));
        assert_eq!(out, b"aerror");
        assert_eq!(o.take(&mut out), None);
    }

    #[test]
    fn dropping_forgets_the_queue() {
        let (a, _b) = pair();
        let o = Outbox::new(10, 100);
        o.push(&frame(b"a"), &a, &mut Vec::new());
        o.drop_all();
        o.close(); // phases only move forward
        assert_eq!(o.take(&mut Vec::new()), None);
    }

    #[test]
    fn a_failed_send_drops_the_outbox() {
        let (a, b) = pair();
        drop(b);
        let mut scratch = Vec::new();
        let o = Outbox::new(10, 100);
        o.push(&frame(b"a"), &a, &mut scratch);
        o.flush(&a, &mut scratch);
        assert_eq!(o.queue.lock().phase, Phase::Dropped);
        assert_eq!(o.take(&mut Vec::new()), None);
    }
}
