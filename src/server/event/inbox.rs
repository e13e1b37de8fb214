//! [`ConnHandle`]: writing to a connection from outside its callbacks —
//! from another connection's protocol (a chat room relaying a message to
//! every member) or from any other thread.
//!
//! Each loop has an inbox: a list of commands under a lock, and a
//! `mio::Waker`. A handle pushes a command and wakes the loop — unless it
//! is called on the loop's own thread, where the loop empties its inbox
//! after every turn anyway, so relaying a message to a thousand members of
//! one loop costs a thousand pushes and no wake-up at all. Commands name
//! the connection by slot and generation, so a command for a connection
//! that has closed (and whose slot serves another) is dropped, not
//! misdelivered.
//!
//! Order: bytes reach a client in the order they were written, however
//! they were written. While commands wait in a loop's inbox, a callback's
//! own [`crate::server::Conn::write`] queues behind them instead of going
//! straight to its buffer; when none wait (an echo server, always) it
//! costs one atomic load.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::{self, ThreadId};

use mio::Waker;
use parking_lot::Mutex;

/// What a handle asks the loop to do.
pub(crate) enum Command {
    Write {
        slot: usize,
        generation: u64,
        data: Vec<u8>,
    },
    Close {
        slot: usize,
        generation: u64,
    },
    Abort {
        slot: usize,
        generation: u64,
    },
    WriteEof {
        slot: usize,
        generation: u64,
    },
    Reading {
        slot: usize,
        generation: u64,
        paused: bool,
    },
}

impl Command {
    /// The connection the command is for: slot and generation.
    pub(crate) fn target(&self) -> (usize, u64) {
        match self {
            Command::Write {
                slot, generation, ..
            }
            | Command::Reading {
                slot, generation, ..
            }
            | Command::Close { slot, generation }
            | Command::Abort { slot, generation }
            | Command::WriteEof { slot, generation } => (*slot, *generation),
        }
    }
}

pub(crate) struct Inbox {
    commands: Mutex<Vec<Command>>,
    waker: Waker,
    /// The loop's thread, for the no-wake-up path; set when it starts.
    thread: OnceLock<ThreadId>,
    /// The loop has ended: commands would never be carried out.
    closed: AtomicBool,
    /// Commands wait: a callback's own writes must queue behind them.
    pending: AtomicBool,
}

impl Inbox {
    /// An inbox whose loop is woken by `waker`.
    pub(crate) fn new(waker: Waker) -> Inbox {
        Inbox {
            commands: Mutex::new(Vec::new()),
            waker,
            thread: OnceLock::new(),
            closed: AtomicBool::new(false),
            pending: AtomicBool::new(false),
        }
    }

    /// Whether commands wait (one atomic load; no lock).
    pub(crate) fn pending(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }

    /// The loop runs on the calling thread from now on.
    pub(crate) fn bind_to_current_thread(&self) {
        let _ = self.thread.set(thread::current().id());
    }

    /// Wakes the loop (to stop it, or to look at its inbox).
    pub(crate) fn wake(&self) {
        let _ = self.waker.wake();
    }

    /// Whether commands wait.
    pub(crate) fn is_empty(&self) -> bool {
        self.commands.lock().is_empty()
    }

    /// Queues `command`; `false` if the loop has ended.
    pub(crate) fn push(&self, command: Command) -> bool {
        let mut commands = self.commands.lock();
        if self.closed.load(Ordering::Acquire) {
            return false;
        }
        let first = commands.is_empty();
        commands.push(command);
        self.pending.store(true, Ordering::Release);
        drop(commands);
        if first && self.thread.get() != Some(&thread::current().id()) {
            let _ = self.waker.wake();
        }
        true
    }

    /// Takes every queued command (into `into`, which is reused).
    pub(crate) fn take(&self, into: &mut Vec<Command>) {
        let mut commands = self.commands.lock();
        std::mem::swap(&mut *commands, into);
        self.pending.store(false, Ordering::Release);
    }

    /// The loop ends: refuse further commands and drop queued ones.
    pub(crate) fn close(&self) {
        let mut commands = self.commands.lock();
        self.closed.store(true, Ordering::Release);
        self.pending.store(false, Ordering::Release);
        commands.clear();
    }
}

/// A connection of an event-loop server that can be written to, closed,
/// half-closed or paused from anywhere: from another connection's
/// [`crate::server::Protocol`], or from any thread. Cheap to clone; get one
/// with [`crate::server::Conn::handle`].
///
/// What a handle writes is queued for the connection's loop, which sends it
/// after what the connection's own callbacks wrote before. Output is
/// bounded: a write that finds more than [`HANDLE_OUTPUT_LIMIT`] bytes
/// still unsent to that client fails the connection (the client does not
/// read; its protocol's `closed` says so), so one stuck reader cannot make
/// the server buffer without bound while others talk to it.
#[derive(Clone)]
pub struct ConnHandle {
    pub(crate) inbox: Arc<Inbox>,
    pub(crate) slot: usize,
    pub(crate) generation: u64,
}

/// How many unsent bytes a connection may have when a [`ConnHandle`]
/// writes to it (see there).
pub const HANDLE_OUTPUT_LIMIT: usize = 8 << 20;

impl ConnHandle {
    /// Queues `data` for the client. `false` when the server's loop has
    /// stopped (nothing will be sent); `true` otherwise — if the connection
    /// closes first, the data is dropped with it, as with any socket.
    pub fn write(&self, data: &[u8]) -> bool {
        self.inbox.push(Command::Write {
            slot: self.slot,
            generation: self.generation,
            data: data.to_vec(),
        })
    }

    /// Closes the connection once what was queued before is sent, as
    /// [`crate::server::Conn::close`]. `false` when the loop has stopped.
    pub fn close(&self) -> bool {
        self.inbox.push(Command::Close {
            slot: self.slot,
            generation: self.generation,
        })
    }

    /// Closes the connection at once, dropping what is queued and unsent,
    /// as [`crate::server::Conn::abort`]. `false` when the loop has stopped.
    pub fn abort(&self) -> bool {
        self.inbox.push(Command::Abort {
            slot: self.slot,
            generation: self.generation,
        })
    }

    /// Shuts the connection's writing side once what was queued before is
    /// sent, as [`crate::server::Conn::write_eof`]; later writes are
    /// dropped (logged). `false` when the loop has stopped.
    pub fn write_eof(&self) -> bool {
        self.inbox.push(Command::WriteEof {
            slot: self.slot,
            generation: self.generation,
        })
    }

    /// Stops reading from the client, as
    /// [`crate::server::Conn::pause_reading`], once the loop takes the
    /// command: bytes already being delivered still are. Pauses and
    /// resumes take effect in the order they were asked, by handles and
    /// the connection's own callbacks alike. `false` when the loop has
    /// stopped.
    pub fn pause_reading(&self) -> bool {
        self.reading(true)
    }

    /// Reads from the client again, as
    /// [`crate::server::Conn::resume_reading`] (what arrived meanwhile is
    /// delivered at once). `false` when the loop has stopped.
    pub fn resume_reading(&self) -> bool {
        self.reading(false)
    }

    fn reading(&self, paused: bool) -> bool {
        self.inbox.push(Command::Reading {
            slot: self.slot,
            generation: self.generation,
            paused,
        })
    }

    /// Whether two handles name the same connection.
    pub fn same(&self, other: &ConnHandle) -> bool {
        Arc::ptr_eq(&self.inbox, &other.inbox)
            && self.slot == other.slot
            && self.generation == other.generation
    }
}

impl std::fmt::Debug for ConnHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnHandle")
            .field("slot", &self.slot)
            .field("generation", &self.generation)
            .finish()
    }
}
