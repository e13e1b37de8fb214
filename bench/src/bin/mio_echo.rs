//! A single-threaded mio echo loop: the hand-written event-loop peer.
//!
//! ```text
//! mio_echo [--port 0]
//! ```
//!
//! Every connection has a 64 KiB buffer; what is read is written back at
//! once, and only when the socket is full does the loop keep the rest and
//! wait for it to become writable (reading nothing more from that
//! connection meanwhile).

use std::io::{ErrorKind, Read, Write};

use ferrosock_bench::{announce, bind_addr, fail, Args};
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};

const PROGRAM: &str = "mio_echo";
const LISTENER: Token = Token(usize::MAX);

struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    /// Bytes of `buf` read but not yet written back: `buf[off..len]`.
    off: usize,
    len: usize,
}

fn main() {
    let args = Args::parse(PROGRAM, &[]);
    if let Err(e) = serve(&bind_addr(&args)) {
        fail(PROGRAM, &e.to_string());
    }
}

fn serve(addr: &str) -> std::io::Result<()> {
    let addr = addr
        .parse()
        .map_err(|_| std::io::Error::new(ErrorKind::InvalidInput, "bad address"))?;
    let mut listener = TcpListener::bind(addr)?;
    announce(listener.local_addr()?);
    let mut poll = Poll::new()?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let mut conns: Vec<Option<Conn>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    let mut events = Events::with_capacity(1024);
    loop {
        poll.poll(&mut events, None)?;
        for ev in events.iter() {
            if ev.token() == LISTENER {
                loop {
                    match listener.accept() {
                        Ok((mut stream, _)) => {
                            let slot = free.pop().unwrap_or_else(|| {
                                conns.push(None);
                                conns.len() - 1
                            });
                            poll.registry().register(
                                &mut stream,
                                Token(slot),
                                Interest::READABLE | Interest::WRITABLE,
                            )?;
                            conns[slot] = Some(Conn {
                                stream,
                                buf: vec![0u8; 64 * 1024],
                                off: 0,
                                len: 0,
                            });
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(_) => break,
                    }
                }
                continue;
            }
            let slot = ev.token().0;
            let Some(conn) = conns.get_mut(slot).and_then(Option::as_mut) else {
                continue;
            };
            if !pump(conn) {
                if let Some(mut c) = conns[slot].take() {
                    let _ = poll.registry().deregister(&mut c.stream);
                }
                free.push(slot);
            }
        }
    }
}

/// Echoes what can be echoed now; false when the connection is finished.
fn pump(c: &mut Conn) -> bool {
    loop {
        // Flush what is pending first.
        while c.off < c.len {
            match c.stream.write(&c.buf[c.off..c.len]) {
                Ok(n) => c.off += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        c.off = 0;
        c.len = 0;
        match c.stream.read(&mut c.buf) {
            Ok(0) => return false,
            Ok(n) => c.len = n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}
