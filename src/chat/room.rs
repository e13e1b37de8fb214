//! [`Room`]: who is online, and getting every message to all of them.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use parking_lot::{Mutex, MutexGuard};

use super::config::ChatConfig;
use super::message::{self, Incoming};
use super::outbox::{Frame, Outbox, Pushed};
use crate::error::{Cause, Error, Result};
use crate::framing::{Codec, FramedSocket};
use crate::socket::Socket;
use crate::timeout::Timeout;
use crate::Shutdown;

/// At most this many bytes are read and thrown away while a connection
/// that broke the protocol is being closed (see [`Room::serve`]).
const LINGER_BYTES: usize = 1024 * 1024;

/// A reader that finds more messages already received relays up to this
/// many before it flushes the room's queues, so that they leave in one
/// send per client.
const FLUSH_EVERY: usize = 32;

/// A chat room: the clients online, each with its own bounded outgoing
/// queue and writer, and the rules of the [protocol](super) between them.
///
/// A room does not accept connections; something else does (the
/// [`ChatServer`](super::ChatServer) with the server engine, or a face's own
/// loop) and calls [`Room::serve`] on a thread of its own for each
/// connection. Every method takes `&self`; share the room with an `Arc`.
///
/// Internally one lock orders everything: a message is pushed into every
/// client's queue while it is held, so all clients see all messages in the
/// same order. The lock is never held while waiting on a socket: the
/// relaying thread sends to clients that keep up with sends that never
/// wait, and leaves the rest to their writers (see the
/// [module documentation](super#the-fan-out)).
pub struct Room {
    config: ChatConfig,
    codec: Codec,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Every connection being served, from [`Room::serve`]'s start to its
    /// end, online or on its way out.
    members: HashMap<u64, Member>,
    next_id: u64,
    closed: bool,
    /// Frames were pushed since the last [`Room::flush`].
    unflushed: bool,
    /// The buffer a flush copies several queued frames into, to send them
    /// at once; reused.
    scratch: Vec<u8>,
}

struct Member {
    outbox: Arc<Outbox>,
    /// A duplicate of the connection's socket: the room sends to it
    /// directly while the client keeps up, and shuts it down from other
    /// threads (a client too slow, a room closing). It lives only as long
    /// as the entry, so the descriptor cannot be reused under it.
    sock: Socket,
    /// The `"name"` of the connection's first message, once it came.
    name: Option<String>,
    /// Receiving broadcasts. False once it left, was dropped, or the room
    /// closed.
    online: bool,
}

/// Why a connection's reading ended.
enum End {
    /// The client closed the connection, or it broke, or the room dropped
    /// it.
    Left,
    /// The client broke the protocol: the text says how.
    Malformed(String),
}

/// Closes the outbox if the reader unwinds, so that the writer thread
/// stops and the scope that waits for it can end.
struct CloseOnDrop<'a>(&'a Outbox);

impl Drop for CloseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// Takes the connection out of the room when [`Room::serve`] ends, however
/// it ends.
struct Seat<'a> {
    room: &'a Room,
    id: u64,
}

impl Drop for Seat<'_> {
    fn drop(&mut self) {
        let mut st = self.room.lock();
        self.room.go_offline(&mut st, self.id);
        self.room.flush(&mut st);
        st.members.remove(&self.id);
    }
}

impl Room {
    /// An empty room. Fails with an invalid-input error if the
    /// configuration cannot work (a zero frame size or queue length).
    pub fn new(config: ChatConfig) -> Result<Room> {
        config.check()?;
        Ok(Room {
            codec: config.codec(),
            config,
            state: Mutex::new(State::default()),
        })
    }

    /// The room's configuration.
    pub fn config(&self) -> &ChatConfig {
        &self.config
    }

    /// How many connections receive the room's messages now, named or not.
    pub fn online(&self) -> usize {
        self.lock().members.values().filter(|m| m.online).count()
    }

    /// Sends `text` to everyone online as a message from the server
    /// (`{"name": "server", "msg": text, "time": now}`).
    pub fn announce(&self, text: &str) {
        if let Some(frame) = self.server_frame(text) {
            let mut st = self.lock();
            self.deliver(&mut st, VecDeque::from([frame]));
            self.flush(&mut st);
        }
    }

    /// Serves one connected client until it leaves, breaks the protocol,
    /// is dropped for being too slow, or the room closes; blocks all that
    /// time, so call it on a thread of its own for each connection.
    ///
    /// The client receives the room's messages from the start. This thread
    /// reads the client's messages and relays them (sending them on to
    /// every client that keeps up); a second thread, started here and ended
    /// before this returns, writes to this client what its socket could
    /// not take at once. A client that broke the protocol gets the
    /// error message; then the socket's sending side is shut down and what
    /// the client still sends is read and discarded for at most
    /// [`ChatConfig::linger`] (and 1 MiB), so that closing the socket does
    /// not reset the connection and destroy the error message on its way.
    ///
    /// `sock` is put in blocking mode first (a chat client may stay silent
    /// for as long as it likes); it is left in a timeout mode when the
    /// connection is being closed. Returns `Ok(())` whatever the client
    /// did; fails only if the server could not serve it at all (no file
    /// descriptor to duplicate, no thread to start). The caller closes the
    /// socket afterwards.
    pub fn serve(&self, sock: &Socket) -> Result<()> {
        sock.set_timeout(crate::Timeout::Blocking)?;
        // Chat messages are small and wanted at once; not for Unix sockets.
        let _ = sock.set_nodelay(true);
        let dup = sock.dup()?;
        let outbox = Arc::new(Outbox::new(
            self.config.queue_messages,
            self.config.queue_bytes,
        ));
        let id = {
            let mut st = self.lock();
            if st.closed {
                return Ok(());
            }
            let id = st.next_id;
            st.next_id += 1;
            let member = Member {
                outbox: Arc::clone(&outbox),
                sock: dup,
                name: None,
                online: true,
            };
            st.members.insert(id, member);
            id
        };
        let _seat = Seat { room: self, id };
        let end = thread::scope(|s| {
            let _close = CloseOnDrop(&outbox);
            let writer = thread::Builder::new()
                .name("fsock-chat-writer".into())
                .spawn_scoped(s, || outbox.run_writer(sock, self.config.linger))
                .map_err(|e| Error::os("chat writer thread", e))?;
            let end = self.read(sock, id);
            self.finish(id, &outbox, &end);
            let _ = writer.join();
            Ok::<End, Error>(end)
        })?;
        if let End::Malformed(_) = end {
            self.linger(sock);
        }
        Ok(())
    }

    /// Disconnects everyone and takes no one new: every connection's
    /// [`Room::serve`] returns soon after. Queued messages are dropped.
    pub fn close(&self) {
        let mut st = self.lock();
        st.closed = true;
        for m in st.members.values_mut() {
            m.online = false;
            m.outbox.drop_all();
            let _ = m.sock.shutdown(Shutdown::Both);
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock()
    }

    /// Reads and relays the client's messages until the connection ends.
    ///
    /// Messages that were received already are relayed one after the
    /// other and flushed together (at most [`FLUSH_EVERY`] at a time); the
    /// queues are flushed before every wait for more.
    fn read(&self, sock: &Socket, id: u64) -> End {
        let mut framed = FramedSocket::new(sock, self.codec.clone());
        let mut unflushed = 0;
        loop {
            let received = match framed.try_recv_frame() {
                Err(e) if matches!(e.cause(), Cause::WouldBlock) => {
                    if unflushed > 0 {
                        self.flush(&mut self.lock());
                        unflushed = 0;
                    }
                    framed.recv_frame()
                }
                other => other,
            };
            let frame = match received {
                Ok(Some(frame)) => frame,
                Ok(None) => return End::Left,
                Err(e) => {
                    return match e.cause() {
                        Cause::FrameTooLarge { .. } | Cause::MalformedHeader { .. } => {
                            End::Malformed(e.cause().to_string())
                        }
                        // Closed mid-frame, reset, or shut down by the room:
                        // there is nobody left to tell.
                        _ => End::Left,
                    };
                }
            };
            let incoming = match message::parse(&frame) {
                Ok(m) => m,
                Err(why) => return End::Malformed(why),
            };
            let frame = match self.encode(&incoming.to_json()) {
                Ok(f) => f,
                Err(e) => {
                    return End::Malformed(format!("the message cannot be relayed: {}", e.cause()))
                }
            };
            unflushed += 1;
            let flush = unflushed >= FLUSH_EVERY;
            if flush {
                unflushed = 0;
            }
            if !self.relay(id, &incoming, frame, flush) {
                return End::Left;
            }
        }
    }

    /// Queues a client's message for everyone online, announcing the
    /// client first if this is its first message, and sends the queues on
    /// if `flush`. False if the client is no longer online.
    fn relay(&self, id: u64, incoming: &Incoming, frame: Frame, flush: bool) -> bool {
        let mut st = self.lock();
        let Some(member) = st.members.get_mut(&id).filter(|m| m.online) else {
            return false;
        };
        let mut frames = VecDeque::with_capacity(2);
        if member.name.is_none() {
            member.name = Some(incoming.name.clone());
            frames.extend(self.server_frame(&format!("{} joined", incoming.name)));
        }
        frames.push_back(frame);
        self.deliver(&mut st, frames);
        if flush {
            self.flush(&mut st);
        }
        true
    }

    /// Ends a connection's membership after its reading ended: announces
    /// that it left, sends on what its reader left queued, and lets its
    /// writer finish with the error message, if any, as the last one.
    fn finish(&self, id: u64, outbox: &Outbox, end: &End) {
        {
            let mut st = self.lock();
            self.go_offline(&mut st, id);
            self.flush(&mut st);
        }
        match end {
            End::Left => outbox.close(),
            End::Malformed(why) => match self.server_frame(&format!("error: {why}")) {
                Some(frame) => outbox.push_last(frame),
                None => outbox.close(),
            },
        }
    }

    /// Stops broadcasts to `id`; if it was online with a name, tells the
    /// others it left.
    fn go_offline(&self, st: &mut State, id: u64) {
        let Some(member) = st.members.get_mut(&id) else {
            return;
        };
        if !std::mem::replace(&mut member.online, false) {
            return;
        }
        if let Some(name) = member.name.clone() {
            let frames = self.server_frame(&format!("{name} left"));
            self.deliver(st, frames.into_iter().collect());
        }
    }

    /// Queues each frame, in order, for everyone online; they leave at the
    /// next [`Room::flush`]. A client whose queue is full of what its
    /// socket would not take is dropped on the spot (its socket shut down,
    /// which ends its reader and writer), and the others get a notice after
    /// the frames already pending.
    fn deliver(&self, st: &mut State, mut pending: VecDeque<Frame>) {
        let State {
            members, scratch, ..
        } = &mut *st;
        while let Some(frame) = pending.pop_front() {
            let slow: Vec<u64> = members
                .iter()
                .filter(|(_, m)| {
                    m.online && m.outbox.push(&frame, &m.sock, scratch) == Pushed::Full
                })
                .map(|(id, _)| *id)
                .collect();
            for id in slow {
                let Some(m) = members.get_mut(&id) else {
                    continue;
                };
                m.online = false;
                m.outbox.drop_all();
                let _ = m.sock.shutdown(Shutdown::Both);
                // One that never spoke was never announced, so it goes
                // silently too.
                if let Some(name) = &m.name {
                    let text = format!("{name} was disconnected: too slow");
                    pending.extend(self.server_frame(&text));
                }
            }
        }
        st.unflushed = true;
    }

    /// Sends what was queued to every client online whose socket takes it
    /// now; what does not fit goes to the client's writer (see
    /// [`Outbox::flush`]).
    fn flush(&self, st: &mut State) {
        if !std::mem::replace(&mut st.unflushed, false) {
            return;
        }
        let State {
            members, scratch, ..
        } = &mut *st;
        for m in members.values().filter(|m| m.online) {
            m.outbox.flush(&m.sock, scratch);
        }
    }

    /// A server message, framed; `None` in the corner case where it would
    /// not fit in a frame (a name close to the frame limit), in which case
    /// the notice is skipped.
    fn server_frame(&self, text: &str) -> Option<Frame> {
        self.encode(&message::server_message(text)).ok()
    }

    fn encode(&self, json: &[u8]) -> Result<Frame> {
        let mut wire = Vec::with_capacity(json.len() + self.codec.overhead());
        self.codec.encode(json, &mut wire)?;
        Ok(wire.into())
    }

    /// Closes a connection that broke the protocol politely: shut down
    /// sending (the error message is on its way), then read and discard
    /// until the client closes, a bound is reached, or the room closes.
    fn linger(&self, sock: &Socket) {
        let _ = sock.shutdown(Shutdown::Write);
        let deadline = Instant::now() + self.config.linger;
        let mut buf = vec![0u8; 16 * 1024];
        let mut total = 0;
        while total < LINGER_BYTES {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || sock.set_timeout(Timeout::After(left)).is_err() {
                return;
            }
            match sock.recv(&mut buf, 0) {
                Ok(0) | Err(_) => return,
                Ok(n) => total += n,
            }
        }
    }
}

impl fmt::Debug for Room {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Room")
            .field("config", &self.config)
            .field("online", &self.online())
            .finish_non_exhaustive()
    }
}
