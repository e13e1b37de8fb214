//! UDP over loopback: datagrams, their boundaries and sender addresses,
//! connected UDP sockets.

mod util;

use ferrosock::{Address, ErrorKind, Family, SockType, Socket};
use util::{assert_os, bounded, udp, v4, v6};

/// Sends `msg` from `a` to `b` and back with `sendto`/`recvfrom`.
fn round_trip(a: &Socket, a_addr: &Address, b: &Socket, b_addr: &Address, msg: &[u8]) {
    assert_eq!(a.send_to(msg, 0, b_addr).unwrap(), msg.len());
    let mut buf = [0u8; 1024];
    let (n, from) = b.recv_from(&mut buf, 0).unwrap();
    assert_eq!(&buf[..n], msg);
    assert_eq!(&from, a_addr);

    // Reply to whoever sent it, as a UDP server does.
    b.send_to(&buf[..n], 0, &from).unwrap();
    let (n, from) = a.recv_from(&mut buf, 0).unwrap();
    assert_eq!(&buf[..n], msg);
    assert_eq!(&from, b_addr);
}

#[test]
fn sendto_and_recvfrom_over_ipv4() {
    let (a, a_addr) = udp(&v4(0));
    let (b, b_addr) = udp(&v4(0));
    assert_eq!(a.sock_type(), libc::SOCK_DGRAM);
    round_trip(&a, &a_addr, &b, &b_addr, "QQ 消息".as_bytes());
}

#[test]
fn sendto_and_recvfrom_over_ipv6() {
    if !util::ipv6_loopback_available() {
        return util::skip("::1 is not available");
    }
    let (a, a_addr) = udp(&v6(0));
    let (b, b_addr) = udp(&v6(0));
    round_trip(&a, &a_addr, &b, &b_addr, b"over IPv6");
}

#[test]
fn unbound_sender_gets_an_address_on_first_sendto() {
    let (server, server_addr) = udp(&v4(0));
    let client = bounded(Socket::new(Family::Inet, SockType::Datagram).unwrap());
    client.send_to(b"hi", 0, &server_addr).unwrap();
    let mut buf = [0u8; 16];
    let (n, from) = server.recv_from(&mut buf, 0).unwrap();
    assert_eq!(&buf[..n], b"hi");
    // The kernel bound the client implicitly (to 0.0.0.0 and a free port);
    // recvfrom names that port on the loopback address.
    assert_eq!(from.port(), client.local_addr().unwrap().port());
    assert_eq!(from, v4(from.port().unwrap()));
    assert_ne!(from.port(), Some(0));
}

#[test]
fn empty_datagram_arrives_as_zero_bytes() {
    // Unlike TCP, where 0 means end of stream, UDP can carry an empty
    // datagram (the tutorial's 空数据的处理).
    let (a, a_addr) = udp(&v4(0));
    let (b, b_addr) = udp(&v4(0));
    assert_eq!(a.send_to(b"", 0, &b_addr).unwrap(), 0);
    let mut buf = [0u8; 16];
    let (n, from) = b.recv_from(&mut buf, 0).unwrap();
    assert_eq!(n, 0);
    assert_eq!(from, a_addr);
}

#[test]
fn datagram_boundaries_are_kept() {
    let (a, _) = udp(&v4(0));
    let (b, b_addr) = udp(&v4(0));
    for msg in [&b"one"[..], b"two two", b"three three three"] {
        a.send_to(msg, 0, &b_addr).unwrap();
    }
    let mut buf = [0u8; 64];
    for msg in [&b"one"[..], b"two two", b"three three three"] {
        let n = b.recv(&mut buf, 0).unwrap();
        assert_eq!(&buf[..n], msg);
    }
}

#[test]
fn datagram_larger_than_the_buffer_is_truncated() {
    let (a, _) = udp(&v4(0));
    let (b, b_addr) = udp(&v4(0));
    let big: Vec<u8> = (0..100u8).collect();
    a.send_to(&big, 0, &b_addr).unwrap();
    a.send_to(b"next", 0, &b_addr).unwrap();
    let mut small = [0u8; 10];
    // The first 10 bytes arrive; the rest of that datagram is discarded...
    assert_eq!(b.recv(&mut small, 0).unwrap(), 10);
    assert_eq!(&small[..], &big[..10]);
    // ...and the next recv gets the next datagram, not the remainder.
    let mut buf = [0u8; 64];
    let n = b.recv(&mut buf, 0).unwrap();
    assert_eq!(&buf[..n], b"next");
}

#[test]
fn msg_trunc_reports_the_real_datagram_length() {
    let (a, _) = udp(&v4(0));
    let (b, b_addr) = udp(&v4(0));
    a.send_to(&[7u8; 100], 0, &b_addr).unwrap();
    let mut small = [0u8; 10];
    assert_eq!(b.recv(&mut small, libc::MSG_TRUNC).unwrap(), 100);
    assert_eq!(small, [7u8; 10]);
}

#[test]
fn msg_peek_leaves_the_datagram_queued() {
    let (a, _) = udp(&v4(0));
    let (b, b_addr) = udp(&v4(0));
    a.send_to(b"peeked", 0, &b_addr).unwrap();
    let mut buf = [0u8; 16];
    let n = b.recv(&mut buf, libc::MSG_PEEK).unwrap();
    assert_eq!(&buf[..n], b"peeked");
    let n = b.recv(&mut buf, 0).unwrap();
    assert_eq!(&buf[..n], b"peeked");
}

#[test]
fn broadcast_option_round_trips() {
    let s = Socket::new(Family::Inet, SockType::Datagram).unwrap();
    assert_eq!(s.option(libc::SOL_SOCKET, libc::SO_BROADCAST).unwrap(), 0);
    s.set_broadcast(true).unwrap();
    assert_eq!(s.option(libc::SOL_SOCKET, libc::SO_BROADCAST).unwrap(), 1);
    s.set_broadcast(false).unwrap();
    assert_eq!(s.option(libc::SOL_SOCKET, libc::SO_BROADCAST).unwrap(), 0);
    assert_eq!(
        s.option(libc::SOL_SOCKET, libc::SO_TYPE).unwrap(),
        libc::SOCK_DGRAM
    );
}

#[test]
fn connected_udp_uses_send_and_recv() {
    let (server, server_addr) = udp(&v4(0));
    let client = bounded(Socket::new(Family::Inet, SockType::Datagram).unwrap());
    client.connect(&server_addr).unwrap();
    assert_eq!(client.peer_addr().unwrap(), server_addr);
    let client_addr = client.local_addr().unwrap();

    assert_eq!(client.send(b"ping", 0).unwrap(), 4);
    let mut buf = [0u8; 16];
    let (n, from) = server.recv_from(&mut buf, 0).unwrap();
    assert_eq!(&buf[..n], b"ping");
    assert_eq!(from, client_addr);

    server.send_to(b"pong", 0, &from).unwrap();
    let n = client.recv(&mut buf, 0).unwrap();
    assert_eq!(&buf[..n], b"pong");
}

#[test]
fn connected_udp_only_receives_from_its_peer() {
    let (server, server_addr) = udp(&v4(0));
    let (stranger, _) = udp(&v4(0));
    let (client, client_addr) = udp(&v4(0));
    client.connect(&server_addr).unwrap();

    // The kernel drops the stranger's datagram; the server's arrives.
    stranger.send_to(b"spam", 0, &client_addr).unwrap();
    server.send_to(b"real", 0, &client_addr).unwrap();
    let mut buf = [0u8; 16];
    let (n, from) = client.recv_from(&mut buf, 0).unwrap();
    assert_eq!(&buf[..n], b"real");
    assert_eq!(from, server_addr);
}

#[test]
fn send_on_unconnected_udp_needs_an_address() {
    let (s, _) = udp(&v4(0));
    let err = s.send(b"to whom?", 0).unwrap_err();
    assert_os(&err, libc::EDESTADDRREQ);
}

#[test]
fn connected_udp_to_a_closed_port_reports_econnrefused() {
    // A port with no socket: bound once, then released.
    let port = {
        let (s, addr) = udp(&v4(0));
        drop(s);
        addr.port().unwrap()
    };
    let client = bounded(Socket::new(Family::Inet, SockType::Datagram).unwrap());
    client.connect(&v4(port)).unwrap();
    client.send(b"anyone?", 0).unwrap();
    // The ICMP "port unreachable" answer becomes ECONNREFUSED on the next
    // call; the recv is bounded by the socket's timeout.
    let mut buf = [0u8; 16];
    let err = client.recv(&mut buf, 0).unwrap_err();
    assert_os(&err, libc::ECONNREFUSED);
}

#[test]
fn sendto_an_ipv6_address_from_an_ipv4_socket_fails() {
    let (s, _) = udp(&v4(0));
    let err = s.send_to(b"x", 0, &v6(9)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Os, "{err}");
    assert_eq!(err.op(), "sendto");
    assert_eq!(err.target(), Some("[::1]:9"));
}

#[test]
fn datagram_too_large_is_emsgsize() {
    let (a, _) = udp(&v4(0));
    let (_b, b_addr) = udp(&v4(0));
    let huge = vec![0u8; 70_000];
    let err = a.send_to(&huge, 0, &b_addr).unwrap_err();
    assert_os(&err, libc::EMSGSIZE);
    assert!(err.to_string().contains("split it"), "{err}");
}
