//! `ReadAhead::Exact` (a `FramedSocket` that never receives past the frame it
//! is reading) and `BorrowedSocket` (a `Socket` over a descriptor something
//! else owns), over real Unix socket pairs and TCP on 127.0.0.1.
//!
//! Every test that could wait sets a timeout first, so a failure fails
//! instead of hanging.

use std::os::fd::{AsFd, AsRawFd};
use std::thread;
use std::time::Duration;

use ferrosock::framing::{CrLf, Delimited, FramedSocket, LengthPrefixed, ReadAhead};
use ferrosock::{
    create_server, socketpair, Address, BorrowedSocket, ErrorKind, Family, ServerOptions, SockType,
    Socket, Timeout,
};

const WAIT: Timeout = Timeout::After(Duration::from_secs(5));

/// A connected TCP pair on 127.0.0.1 (client, server side), both with WAIT.
fn tcp_pair() -> (Socket, Socket) {
    let addr: Address = "127.0.0.1:0".parse().unwrap();
    let listener = create_server(&addr, ServerOptions::default()).unwrap();
    let client = Socket::new(Family::Inet, SockType::Stream).unwrap();
    client.connect(&listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    client.set_timeout(WAIT).unwrap();
    server.set_timeout(WAIT).unwrap();
    (client, server)
}

fn unix_pair() -> (Socket, Socket) {
    let (a, b) = socketpair().unwrap();
    a.set_timeout(WAIT).unwrap();
    b.set_timeout(WAIT).unwrap();
    (a, b)
}

fn pairs() -> Vec<(&'static str, Socket, Socket)> {
    let (a, b) = unix_pair();
    let (c, d) = tcp_pair();
    vec![("unix", a, b), ("tcp", c, d)]
}

/// Everything the socket still holds, read with a raw recv until `want`
/// bytes came (bounded by the socket's timeout).
fn raw_rest(sock: &Socket, want: usize) -> Vec<u8> {
    let mut out = vec![0u8; want];
    let mut got = 0;
    while got < want {
        let n = sock.recv(&mut out[got..], 0).unwrap();
        assert!(n > 0, "peer closed after {got} of {want} bytes");
        got += n;
    }
    out
}

#[test]
fn exact_length_prefixed_leaves_the_next_frame_in_the_socket() {
    for (kind, a, b) in pairs() {
        a.send_all(b"\x00\x00\x00\x05hello\x00\x00\x00\x03bye", 0)
            .unwrap();
        let mut framed =
            FramedSocket::new(&b, LengthPrefixed::new()).with_read_ahead(ReadAhead::Exact);
        assert_eq!(framed.read_ahead(), ReadAhead::Exact);
        assert_eq!(framed.recv_frame().unwrap().unwrap(), b"hello", "{kind}");
        assert_eq!(framed.decoder().buffered(), 0, "{kind}");
        // The second frame is still in the socket, whole.
        assert_eq!(raw_rest(&b, 7), b"\x00\x00\x00\x03bye", "{kind}");
    }
}

#[test]
fn exact_delimited_takes_only_up_to_the_delimiter() {
    for (kind, a, b) in pairs() {
        a.send_all(b"one\r\ntwo\r\nrest", 0).unwrap();
        let codec = Delimited::new(b"\r\n").unwrap();
        let mut framed = FramedSocket::new(&b, codec).with_read_ahead(ReadAhead::Exact);
        assert_eq!(framed.recv_frame().unwrap().unwrap(), b"one", "{kind}");
        assert_eq!(framed.decoder().buffered(), 0, "{kind}");
        assert_eq!(raw_rest(&b, 9), b"two\r\nrest", "{kind}");
    }
}

#[test]
fn exact_multi_byte_delimiter_split_across_sends() {
    let (a, b) = unix_pair();
    let codec = Delimited::new(b"\r\n").unwrap();
    let writer = thread::spawn(move || {
        for piece in [&b"ab\r"[..], b"\ncd\r", b"\n", b"tail"] {
            a.send_all(piece, 0).unwrap();
            thread::sleep(Duration::from_millis(20));
        }
        a
    });
    let mut framed = FramedSocket::new(&b, codec).with_read_ahead(ReadAhead::Exact);
    assert_eq!(framed.recv_frame().unwrap().unwrap(), b"ab");
    assert_eq!(framed.recv_frame().unwrap().unwrap(), b"cd");
    assert_eq!(framed.decoder().buffered(), 0);
    let _a = writer.join().unwrap();
    assert_eq!(raw_rest(&b, 4), b"tail");
}

#[test]
fn exact_one_byte_at_a_time_for_both_codecs() {
    let wire_len = b"\x00\x00\x00\x03abc".to_vec();
    let wire_line = b"xyz\n".to_vec();
    for (codec, wire, frame) in [
        (
            ferrosock::framing::Codec::from(LengthPrefixed::new()),
            wire_len,
            &b"abc"[..],
        ),
        (Delimited::lines().into(), wire_line, &b"xyz"[..]),
    ] {
        let (a, b) = unix_pair();
        let mut sent = wire.clone();
        sent.extend_from_slice(b"!");
        let writer = thread::spawn(move || {
            for byte in sent {
                a.send_all(&[byte], 0).unwrap();
                thread::sleep(Duration::from_millis(2));
            }
            a
        });
        let mut framed = FramedSocket::new(&b, codec).with_read_ahead(ReadAhead::Exact);
        assert_eq!(framed.recv_frame().unwrap().unwrap(), frame);
        let _a = writer.join().unwrap();
        assert_eq!(raw_rest(&b, 1), b"!");
    }
}

#[test]
fn exact_recv_line_and_recv_exactly_leave_the_rest() {
    let (a, b) = unix_pair();
    a.send_all(b"GET /\nRAW12345\x00\x00\x00\x01z", 0).unwrap();
    let mut framed = FramedSocket::new(&b, LengthPrefixed::new()).with_read_ahead(ReadAhead::Exact);
    assert_eq!(framed.recv_line().unwrap().unwrap(), b"GET /");
    assert_eq!(framed.recv_exactly(3).unwrap().unwrap(), b"RAW");
    assert_eq!(framed.decoder().buffered(), 0);
    assert_eq!(raw_rest(&b, 5), b"12345");
    assert_eq!(framed.recv_frame().unwrap().unwrap(), b"z");
}

#[test]
fn exact_crlf_strip_keeps_working() {
    let (a, b) = unix_pair();
    a.send_all(b"hi\r\nthere\n", 0).unwrap();
    let codec = Delimited::lines().with_crlf(CrLf::Strip);
    let mut framed = FramedSocket::new(&b, codec).with_read_ahead(ReadAhead::Exact);
    assert_eq!(framed.recv_frame().unwrap().unwrap(), b"hi");
    assert_eq!(framed.recv_frame().unwrap().unwrap(), b"there");
}

#[test]
fn exact_timeout_mid_frame_keeps_the_part_and_a_later_call_completes_it() {
    for codec in [
        ferrosock::framing::Codec::from(LengthPrefixed::new()),
        Delimited::lines().into(),
    ] {
        let (a, b) = unix_pair();
        b.set_timeout(Timeout::After(Duration::from_millis(50)))
            .unwrap();
        let mut wire = Vec::new();
        codec.encode(b"0123456789", &mut wire).unwrap();
        a.send_all(&wire[..6], 0).unwrap();
        let mut framed = FramedSocket::new(&b, codec).with_read_ahead(ReadAhead::Exact);
        let err = framed.recv_frame().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimedOut);
        assert_eq!(framed.decoder().buffered(), 6);
        a.send_all(&wire[6..], 0).unwrap();
        a.send_all(b"next", 0).unwrap();
        assert_eq!(framed.recv_frame().unwrap().unwrap(), b"0123456789");
        b.set_timeout(WAIT).unwrap();
        assert_eq!(raw_rest(&b, 4), b"next");
    }
}

#[test]
fn exact_line_over_the_limit_is_frame_too_large() {
    let (a, b) = unix_pair();
    a.send_all(&[b'x'; 64], 0).unwrap();
    let codec = Delimited::lines().with_max_frame_size(10);
    let mut framed = FramedSocket::new(&b, codec).with_read_ahead(ReadAhead::Exact);
    let err = framed.recv_frame().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::FrameTooLarge);
    // Nothing past the limit (and the delimiter's room) was taken.
    assert!(
        framed.decoder().buffered() <= 11,
        "{}",
        framed.decoder().buffered()
    );
}

#[test]
fn exact_peer_closing_mid_frame_and_between_frames() {
    let (a, b) = unix_pair();
    a.send_all(b"done\npart", 0).unwrap();
    a.close().unwrap();
    let mut framed = FramedSocket::new(&b, Delimited::lines()).with_read_ahead(ReadAhead::Exact);
    assert_eq!(framed.recv_frame().unwrap().unwrap(), b"done");
    assert_eq!(
        framed.recv_frame().unwrap_err().kind(),
        ErrorKind::IncompleteFrame
    );

    let (c, d) = unix_pair();
    c.send_all(b"\x00\x00\x00\x01!", 0).unwrap();
    c.close().unwrap();
    let mut framed = FramedSocket::new(&d, LengthPrefixed::new()).with_read_ahead(ReadAhead::Exact);
    assert_eq!(framed.recv_frame().unwrap().unwrap(), b"!");
    assert_eq!(framed.recv_frame().unwrap(), None);
}

#[test]
fn try_recv_line_and_try_recv_exactly_never_wait_and_keep_bytes() {
    for read_ahead in [ReadAhead::Buffer, ReadAhead::Exact] {
        let (a, b) = unix_pair();
        b.set_timeout(Timeout::Blocking).unwrap();
        let mut framed = FramedSocket::new(&b, LengthPrefixed::new()).with_read_ahead(read_ahead);
        a.send_all(b"par", 0).unwrap();
        assert_eq!(
            framed.try_recv_line().unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        a.send_all(b"t\nabc", 0).unwrap();
        assert_eq!(framed.try_recv_line().unwrap().unwrap(), b"part");
        assert_eq!(
            framed.try_recv_exactly(5).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        a.send_all(b"de", 0).unwrap();
        assert_eq!(framed.try_recv_exactly(5).unwrap().unwrap(), b"abcde");
        assert_eq!(framed.try_recv_exactly(0).unwrap().unwrap(), b"");
    }
}

/// Whether `fd` is an open descriptor.
fn is_open(fd: i32) -> bool {
    // SAFETY: F_GETFD only reads the descriptor table entry.
    unsafe { libc::fcntl(fd, libc::F_GETFD) != -1 }
}

fn is_nonblocking(fd: i32) -> bool {
    // SAFETY: F_GETFL only reads the descriptor's status flags.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    flags & libc::O_NONBLOCK != 0
}

#[test]
fn borrowed_socket_never_closes_the_descriptor() {
    let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    let fd = a.as_raw_fd();
    {
        let lent = BorrowedSocket::new(a.as_fd(), Timeout::Blocking).unwrap();
        assert_eq!(lent.family(), libc::AF_UNIX);
        assert_eq!(lent.sock_type(), libc::SOCK_STREAM);
        lent.send_all(b"x", 0).unwrap();
        lent.close().unwrap();
        assert!(lent.is_closed());
        assert!(is_open(fd));
    }
    let lent = BorrowedSocket::with_kind(
        a.as_fd(),
        libc::AF_UNIX,
        libc::SOCK_STREAM,
        0,
        Timeout::Blocking,
    );
    drop(lent);
    assert!(is_open(fd));
    drop(b);
    drop(a);
}

#[test]
fn borrowed_socket_keeps_the_owners_o_nonblock_flag() {
    let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    // Blocking descriptor, lent as blocking: still blocking afterwards.
    let lent = BorrowedSocket::new(a.as_fd(), Timeout::Blocking).unwrap();
    assert!(!is_nonblocking(a.as_raw_fd()));
    drop(lent);
    // A non-blocking descriptor lent with a timeout (as CPython keeps a
    // socket with a timeout): the flag stays, and the timeout applies.
    a.set_nonblocking(true).unwrap();
    let lent = BorrowedSocket::new(a.as_fd(), Timeout::After(Duration::from_millis(30))).unwrap();
    assert_eq!(lent.timeout(), Timeout::After(Duration::from_millis(30)));
    let mut framed = FramedSocket::new(&*lent, LengthPrefixed::new());
    assert_eq!(framed.recv_frame().unwrap_err().kind(), ErrorKind::TimedOut);
    std::io::Write::write_all(&mut &b, b"\x00\x00\x00\x02ok").unwrap();
    assert_eq!(framed.recv_frame().unwrap().unwrap(), b"ok");
    drop(framed);
    drop(lent);
    assert!(is_nonblocking(a.as_raw_fd()));
}

#[test]
fn borrowed_socket_of_a_non_socket_fails() {
    let file = std::fs::File::open("/dev/null").unwrap();
    let err = BorrowedSocket::new(file.as_fd(), Timeout::Blocking).unwrap_err();
    assert_eq!(err.errno(), Some(libc::ENOTSOCK));
}
