//! Unix-domain sockets: stream and datagram over paths in a temporary
//! directory, Linux abstract names, socket pairs and unnamed addresses.

mod util;

use ferrosock::{socketpair, Address, ErrorKind, Family, SockType, Socket, UnixAddr};
use util::{assert_os, bounded, recv_exact, unique_name, TempDir};

fn unix_socket(ty: SockType) -> Socket {
    bounded(Socket::new(Family::Unix, ty).unwrap())
}

#[test]
fn stream_over_a_path_echoes() {
    let dir = TempDir::new("unix-stream");
    let addr = Address::unix(dir.join("echo.sock"));
    let server = unix_socket(SockType::Stream);
    server.bind(&addr).unwrap();
    server.listen(4).unwrap();
    assert_eq!(server.local_addr().unwrap(), addr);
    assert!(dir.join("echo.sock").exists());

    let client = unix_socket(SockType::Stream);
    client.connect(&addr).unwrap();
    let (conn, peer) = server.accept().unwrap();
    let conn = bounded(conn);
    // The client never bound, so it has no name.
    assert_eq!(peer, Address::Unix(UnixAddr::Unnamed));
    assert_eq!(client.peer_addr().unwrap(), addr);
    assert_eq!(conn.family(), libc::AF_UNIX);

    client.send_all(b"over a path", 0).unwrap();
    let mut buf = [0u8; 11];
    recv_exact(&conn, &mut buf);
    conn.send_all(&buf, 0).unwrap();
    let mut back = [0u8; 11];
    recv_exact(&client, &mut back);
    assert_eq!(&back, b"over a path");
}

#[test]
fn datagram_over_paths_names_the_sender() {
    let dir = TempDir::new("unix-dgram");
    let a_addr = Address::unix(dir.join("a.sock"));
    let b_addr = Address::unix(dir.join("b.sock"));
    let a = unix_socket(SockType::Datagram);
    a.bind(&a_addr).unwrap();
    let b = unix_socket(SockType::Datagram);
    b.bind(&b_addr).unwrap();

    a.send_to(b"to b", 0, &b_addr).unwrap();
    let mut buf = [0u8; 16];
    let (n, from) = b.recv_from(&mut buf, 0).unwrap();
    assert_eq!(&buf[..n], b"to b");
    assert_eq!(from, a_addr);

    b.send_to(b"to a", 0, &from).unwrap();
    let (n, from) = a.recv_from(&mut buf, 0).unwrap();
    assert_eq!(&buf[..n], b"to a");
    assert_eq!(from, b_addr);
}

#[test]
fn datagram_from_an_unbound_sender_has_an_unnamed_address() {
    let dir = TempDir::new("unix-unnamed");
    let addr = Address::unix(dir.join("server.sock"));
    let server = unix_socket(SockType::Datagram);
    server.bind(&addr).unwrap();
    let client = unix_socket(SockType::Datagram);
    client.send_to(b"anonymous", 0, &addr).unwrap();
    let mut buf = [0u8; 16];
    let (n, from) = server.recv_from(&mut buf, 0).unwrap();
    assert_eq!(&buf[..n], b"anonymous");
    assert_eq!(from, Address::Unix(UnixAddr::Unnamed));
    assert_eq!(from.to_string(), "unix:(unnamed)");

    // There is no way to answer an unnamed sender.
    let err = server.send_to(b"reply", 0, &from).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert_eq!(err.op(), "sendto");
}

#[test]
fn abstract_name_needs_no_file() {
    let name = unique_name("abstract");
    let addr = Address::unix_abstract(name.as_bytes());
    assert_eq!(addr.to_string(), format!("unix:@{name}"));
    assert_eq!(addr.to_string().parse::<Address>().unwrap(), addr);

    let server = unix_socket(SockType::Stream);
    server.bind(&addr).unwrap();
    server.listen(4).unwrap();
    assert_eq!(server.local_addr().unwrap(), addr);

    let client = unix_socket(SockType::Stream);
    client.connect(&addr).unwrap();
    let (conn, _) = server.accept().unwrap();
    client.send_all(b"abstract", 0).unwrap();
    let mut buf = [0u8; 8];
    recv_exact(&bounded(conn), &mut buf);
    assert_eq!(&buf, b"abstract");

    // The name is taken while the server lives.
    let other = unix_socket(SockType::Stream);
    assert_os(&other.bind(&addr).unwrap_err(), libc::EADDRINUSE);
}

#[test]
fn abstract_datagram_names_the_sender() {
    let a_addr = Address::unix_abstract(unique_name("dgram-a"));
    let b_addr = Address::unix_abstract(unique_name("dgram-b"));
    let a = unix_socket(SockType::Datagram);
    a.bind(&a_addr).unwrap();
    let b = unix_socket(SockType::Datagram);
    b.bind(&b_addr).unwrap();
    a.send_to(b"hello", 0, &b_addr).unwrap();
    let mut buf = [0u8; 8];
    let (n, from) = b.recv_from(&mut buf, 0).unwrap();
    assert_eq!(&buf[..n], b"hello");
    assert_eq!(from, a_addr);
}

#[test]
fn socketpair_is_connected_both_ways_and_unnamed() {
    let (a, b) = socketpair().unwrap();
    let (a, b) = (bounded(a), bounded(b));
    assert_eq!(a.family(), libc::AF_UNIX);
    assert_eq!(a.sock_type(), libc::SOCK_STREAM);
    for s in [&a, &b] {
        assert_eq!(s.local_addr().unwrap(), Address::Unix(UnixAddr::Unnamed));
        assert_eq!(s.peer_addr().unwrap(), Address::Unix(UnixAddr::Unnamed));
    }
    a.send_all(b"ping", 0).unwrap();
    let mut buf = [0u8; 4];
    recv_exact(&b, &mut buf);
    assert_eq!(&buf, b"ping");
    b.send_all(b"pong", 0).unwrap();
    recv_exact(&a, &mut buf);
    assert_eq!(&buf, b"pong");

    a.close().unwrap();
    assert_eq!(b.recv(&mut buf, 0).unwrap(), 0);
}

#[test]
fn datagram_pair_keeps_boundaries() {
    let (a, b) = Socket::pair(libc::AF_UNIX, libc::SOCK_DGRAM, 0).unwrap();
    let b = bounded(b);
    assert_eq!(a.sock_type(), libc::SOCK_DGRAM);
    a.send(b"first", 0).unwrap();
    a.send(b"", 0).unwrap();
    a.send(b"third", 0).unwrap();
    let mut buf = [0u8; 16];
    for msg in [&b"first"[..], b"", b"third"] {
        let (n, from) = b.recv_from(&mut buf, 0).unwrap();
        assert_eq!(&buf[..n], msg);
        assert_eq!(from, Address::Unix(UnixAddr::Unnamed));
    }
}

#[test]
fn connect_to_a_missing_path_is_enoent_with_a_hint() {
    let dir = TempDir::new("unix-missing");
    let addr = Address::unix(dir.join("nobody-here.sock"));
    let client = unix_socket(SockType::Stream);
    let err = client.connect(&addr).unwrap_err();
    assert_os(&err, libc::ENOENT);
    assert_eq!(err.op(), "connect");
    assert_eq!(err.target(), Some(addr.to_string().as_str()));
    let text = err.to_string();
    assert!(
        text.contains("no Unix socket exists at that path"),
        "{text}"
    );
}

#[test]
fn connect_to_a_path_without_listener_is_econnrefused() {
    let dir = TempDir::new("unix-refused");
    let addr = Address::unix(dir.join("bound-only.sock"));
    let holder = unix_socket(SockType::Stream);
    holder.bind(&addr).unwrap();
    let client = unix_socket(SockType::Stream);
    assert_os(&client.connect(&addr).unwrap_err(), libc::ECONNREFUSED);
}

#[test]
fn binding_an_existing_path_is_eaddrinuse() {
    let dir = TempDir::new("unix-inuse");
    let addr = Address::unix(dir.join("taken.sock"));
    let first = unix_socket(SockType::Stream);
    first.bind(&addr).unwrap();
    // The file stays after close: a restarted server must remove it first.
    first.close().unwrap();
    let second = unix_socket(SockType::Stream);
    let err = second.bind(&addr).unwrap_err();
    assert_os(&err, libc::EADDRINUSE);
    std::fs::remove_file(dir.join("taken.sock")).unwrap();
    second.bind(&addr).unwrap();
}

#[test]
fn path_longer_than_sun_path_is_invalid_input() {
    let addr = Address::unix(format!("/tmp/{}", "x".repeat(200)));
    let s = unix_socket(SockType::Stream);
    let err = s.bind(&addr).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert_eq!(err.op(), "bind");
    assert!(err.to_string().contains("too long"), "{err}");
}

#[test]
fn unix_address_text_forms_parse() {
    assert_eq!(
        "unix:/run/x.sock".parse::<Address>().unwrap(),
        Address::unix("/run/x.sock")
    );
    assert_eq!(
        "unix:@name".parse::<Address>().unwrap(),
        Address::unix_abstract("name")
    );
    assert_eq!(Address::unix("/a").family(), Family::Unix);
    assert_eq!(Address::unix("/a").port(), None);
}
