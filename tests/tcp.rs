//! TCP over loopback: data transfer, connection life cycle, errors and
//! socket options.

mod util;

use std::io::{Read, Write};
use std::net::Shutdown;
use std::thread;

use ferrosock::{
    create_connection, create_server, has_dualstack_ipv6, Address, Cause, ErrorKind, Family,
    ServerOptions, SockType, Socket, Timeout,
};
use util::{assert_os, bounded, listener, recv_exact, tcp_pair, tcp_pair_on, v4, v6, WAIT};

/// Sends `msg` from `client`, echoes it on `server`, and checks the echo.
fn echo_once(client: &Socket, server: &Socket, msg: &[u8]) {
    client.send_all(msg, 0).unwrap();
    let mut buf = vec![0u8; msg.len()];
    recv_exact(server, &mut buf);
    server.send_all(&buf, 0).unwrap();
    let mut back = vec![0u8; msg.len()];
    recv_exact(client, &mut back);
    assert_eq!(back, msg);
}

#[test]
fn echo_over_ipv4_loopback() {
    let (client, server) = tcp_pair();
    assert_eq!(client.family(), libc::AF_INET);
    assert_eq!(client.sock_type(), libc::SOCK_STREAM);
    echo_once(&client, &server, "hello, 打电话".as_bytes());
}

#[test]
fn echo_over_ipv6_loopback() {
    if !util::ipv6_loopback_available() {
        return util::skip("::1 is not available");
    }
    let (client, server) = tcp_pair_on(&v6(0));
    assert_eq!(client.family(), libc::AF_INET6);
    assert!(matches!(server.peer_addr().unwrap(), Address::V6(_)));
    echo_once(&client, &server, b"hello over IPv6");
}

#[test]
fn send_all_delivers_8_mib_intact() {
    const LEN: usize = 8 << 20;
    let (client, server) = tcp_pair();
    let payload: Vec<u8> = (0..LEN).map(|i| (i % 251) as u8).collect();
    let sender = thread::spawn(move || {
        client.send_all(&payload, 0).unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        client
    });
    let mut got = Vec::with_capacity(LEN);
    let mut buf = vec![0u8; 64 * 1024];
    // Bounded: each recv returns at least one byte or ends the loop, and
    // every recv is bounded by the socket's timeout.
    loop {
        let n = server.recv(&mut buf, 0).unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        assert!(got.len() <= LEN, "received more than was sent");
    }
    sender.join().unwrap();
    assert_eq!(got.len(), LEN);
    assert!(got.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8));
}

#[test]
fn recv_returns_zero_after_peer_closes() {
    let (client, server) = tcp_pair();
    client.send_all(b"last words", 0).unwrap();
    client.close().unwrap();
    let mut buf = [0u8; 10];
    recv_exact(&server, &mut buf);
    assert_eq!(&buf, b"last words");
    assert_eq!(server.recv(&mut buf, 0).unwrap(), 0);
    // End of stream is sticky.
    assert_eq!(server.recv(&mut buf, 0).unwrap(), 0);
}

#[test]
fn shutdown_write_half_closes_but_still_receives() {
    let (client, server) = tcp_pair();
    client.send_all(b"request", 0).unwrap();
    client.shutdown(Shutdown::Write).unwrap();

    // The server sees the request, then end of stream...
    let mut buf = [0u8; 64];
    recv_exact(&server, &mut buf[..7]);
    assert_eq!(server.recv(&mut buf, 0).unwrap(), 0);
    // ...and can still answer on its own half.
    server.send_all(b"response", 0).unwrap();
    server.close().unwrap();

    let mut got = Vec::new();
    (&client).read_to_end(&mut got).unwrap();
    assert_eq!(got, b"response");
}

/// An address where nothing listens: a bound socket that never calls
/// `listen` holds the port (so no one else takes it) and refuses
/// connections.
fn refusing_address() -> (Socket, Address) {
    let holder = Socket::new(Family::Inet, SockType::Stream).unwrap();
    holder.bind(&v4(0)).unwrap();
    let addr = holder.local_addr().unwrap();
    (holder, addr)
}

#[test]
fn connect_refused_gives_econnrefused_and_says_what_to_do() {
    let (_holder, addr) = refusing_address();
    let s = bounded(Socket::new(Family::Inet, SockType::Stream).unwrap());
    let err = s.connect(&addr).unwrap_err();
    assert_os(&err, libc::ECONNREFUSED);
    assert_eq!(err.op(), "connect");
    assert_eq!(err.target(), Some(addr.to_string().as_str()));
    assert_eq!(err.strerror(), "Connection refused");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "connect {addr}: connection refused (os error {}); ",
            libc::ECONNREFUSED
        )),
        "{text}"
    );
    assert!(text.contains("nothing is listening there"), "{text}");
}

#[test]
fn blocking_connect_refused_gives_econnrefused() {
    let (_holder, addr) = refusing_address();
    let s = Socket::new(Family::Inet, SockType::Stream).unwrap();
    s.set_timeout(Timeout::Blocking).unwrap();
    assert_os(&s.connect(&addr).unwrap_err(), libc::ECONNREFUSED);
}

#[test]
fn connect_ex_returns_errno_instead_of_failing() {
    let (_holder, refusing) = refusing_address();
    let s = bounded(Socket::new(Family::Inet, SockType::Stream).unwrap());
    assert_eq!(s.connect_ex(&refusing).unwrap(), libc::ECONNREFUSED);

    let (_l, addr) = listener(&v4(0));
    let s = bounded(Socket::new(Family::Inet, SockType::Stream).unwrap());
    assert_eq!(s.connect_ex(&addr).unwrap(), 0);

    s.close().unwrap();
    assert_eq!(s.connect_ex(&addr).unwrap(), libc::EBADF);
}

#[test]
fn nonblocking_connect_is_in_progress_then_completes() {
    let (l, addr) = listener(&v4(0));
    let s = Socket::new(Family::Inet, SockType::Stream).unwrap();
    s.set_timeout(Timeout::NonBlocking).unwrap();
    // On loopback the handshake may in principle finish inside the call, so
    // success is allowed; otherwise the kernel says EINPROGRESS.
    if let Err(err) = s.connect(&addr) {
        assert_os(&err, libc::EINPROGRESS);
    }
    s.set_timeout(Timeout::After(WAIT)).unwrap();
    assert!(s.wait_writable().unwrap());
    assert_eq!(s.option(libc::SOL_SOCKET, libc::SO_ERROR).unwrap(), 0);
    let (conn, peer) = l.accept().unwrap();
    assert_eq!(peer, s.local_addr().unwrap());
    drop(conn);
}

#[test]
fn bind_in_use_names_the_address_and_suggests_so_reuseaddr() {
    let (_l, addr) = listener(&v4(0));
    let s = Socket::new(Family::Inet, SockType::Stream).unwrap();
    let err = s.bind(&addr).unwrap_err();
    assert_os(&err, libc::EADDRINUSE);
    assert_eq!(err.op(), "bind");
    assert_eq!(err.strerror(), "Address already in use");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "bind {addr}: address already in use (os error {}); ",
            libc::EADDRINUSE
        )),
        "{text}"
    );
    assert!(text.contains("SO_REUSEADDR"), "{text}");
}

#[test]
fn so_reuseaddr_allows_rebinding_while_old_connection_lingers() {
    // A server that closes first leaves its side of the connection in
    // TIME_WAIT, holding the port: the tutorial's 端口冲突 (port conflict)
    // on restart.
    let l = bounded(Socket::new(Family::Inet, SockType::Stream).unwrap());
    l.set_reuse_address(true).unwrap();
    l.bind(&v4(0)).unwrap();
    l.listen(1).unwrap();
    let addr = l.local_addr().unwrap();
    let client = bounded(Socket::new(Family::Inet, SockType::Stream).unwrap());
    client.connect(&addr).unwrap();
    let (conn, _) = l.accept().unwrap();
    conn.close().unwrap();
    let mut buf = [0u8; 1];
    assert_eq!(client.recv(&mut buf, 0).unwrap(), 0);
    client.close().unwrap();
    l.close().unwrap();

    // Without SO_REUSEADDR the lingering connection blocks the port...
    let plain = Socket::new(Family::Inet, SockType::Stream).unwrap();
    assert_os(&plain.bind(&addr).unwrap_err(), libc::EADDRINUSE);

    // ...with it, the restarted server binds and serves at once.
    let again = bounded(Socket::new(Family::Inet, SockType::Stream).unwrap());
    again.set_reuse_address(true).unwrap();
    again.bind(&addr).unwrap();
    again.listen(1).unwrap();
    let client = bounded(Socket::new(Family::Inet, SockType::Stream).unwrap());
    client.connect(&addr).unwrap();
    again.accept().unwrap();
}

#[test]
fn accept_peer_and_local_addresses_match() {
    let (l, addr) = listener(&v4(0));
    assert!(matches!(addr, Address::V4(a) if a.port() != 0));
    let client = bounded(Socket::new(Family::Inet, SockType::Stream).unwrap());
    client.connect(&addr).unwrap();
    let (conn, peer) = l.accept().unwrap();

    assert_eq!(peer, client.local_addr().unwrap());
    assert_eq!(conn.peer_addr().unwrap(), peer);
    assert_eq!(conn.local_addr().unwrap(), addr);
    assert_eq!(client.peer_addr().unwrap(), addr);
    assert_eq!(conn.family(), libc::AF_INET);
    assert_eq!(conn.sock_type(), libc::SOCK_STREAM);
}

#[test]
fn peer_addr_of_unconnected_socket_is_enotconn() {
    let s = Socket::new(Family::Inet, SockType::Stream).unwrap();
    let err = s.peer_addr().unwrap_err();
    assert_os(&err, libc::ENOTCONN);
    assert_eq!(err.op(), "getpeername");
}

/// Makes SIGPIPE kill the process again. Rust programs (this test harness
/// included) start with SIGPIPE ignored, which would hide a send that
/// forgot `MSG_NOSIGNAL`; with the default action restored, such a send
/// kills the test binary and the run fails.
fn restore_default_sigpipe() {
    // SAFETY: setting the default disposition of a signal has no memory
    // safety requirements; no handler function is involved.
    let old = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    assert_ne!(old, libc::SIG_ERR);
}

#[test]
fn send_after_shutdown_write_gives_epipe_not_sigpipe() {
    restore_default_sigpipe();
    let (client, _server) = tcp_pair();
    client.shutdown(Shutdown::Write).unwrap();
    let err = client.send(b"x", 0).unwrap_err();
    assert_os(&err, libc::EPIPE);
    assert!(err.to_string().contains("stop sending"), "{err}");
    assert_os(&client.send_all(b"x", 0).unwrap_err(), libc::EPIPE);
    assert_os(&client.try_send(b"x", 0).unwrap_err(), libc::EPIPE);
}

#[test]
fn send_to_vanished_peer_gives_epipe_or_econnreset_not_sigpipe() {
    restore_default_sigpipe();
    let (client, server) = tcp_pair();
    // SO_LINGER {on, 0}: close resets the connection at once, like a
    // process that was killed.
    let linger = [1i32.to_ne_bytes(), 0i32.to_ne_bytes()].concat();
    server
        .set_option_bytes(libc::SOL_SOCKET, libc::SO_LINGER, &linger)
        .unwrap();
    server.close().unwrap();

    // The reset travels asynchronously, so the first sends may still
    // succeed; after it arrives the kernel reports ECONNRESET once, then
    // EPIPE for ever. Bounded: at most 200 attempts, 10 ms apart.
    let mut errors = Vec::new();
    for _ in 0..200 {
        match client.send(b"are you there?", 0) {
            Ok(_) => thread::sleep(std::time::Duration::from_millis(10)),
            Err(e) => {
                let errno = e.errno().unwrap();
                assert!(
                    errno == libc::EPIPE || errno == libc::ECONNRESET,
                    "unexpected error: {e}"
                );
                errors.push(errno);
                if errno == libc::EPIPE {
                    break;
                }
            }
        }
    }
    assert_eq!(errors.last(), Some(&libc::EPIPE), "errors seen: {errors:?}");
}

#[test]
fn close_twice_is_ok_and_later_calls_fail_with_closed_ebadf() {
    let (client, _server) = tcp_pair();
    assert!(client.fileno() >= 0);
    client.close().unwrap();
    client.close().unwrap();
    assert!(client.is_closed());
    assert_eq!(client.fileno(), -1);

    let mut buf = [0u8; 4];
    let err = client.recv(&mut buf, 0).unwrap_err();
    assert!(matches!(err.cause(), Cause::Closed), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Closed);
    assert_eq!(err.errno(), Some(libc::EBADF));
    assert_eq!(err.op(), "recv");
    assert_eq!(err.strerror(), "Bad file descriptor");

    for err in [
        client.send(b"x", 0).unwrap_err(),
        client.send_all(b"x", 0).unwrap_err(),
        client.try_recv(&mut buf, 0).unwrap_err(),
        client.local_addr().unwrap_err(),
        client.set_timeout(Timeout::Blocking).unwrap_err(),
        client.option(libc::SOL_SOCKET, libc::SO_TYPE).unwrap_err(),
        client.shutdown(Shutdown::Both).unwrap_err(),
        client.dup().unwrap_err(),
    ] {
        assert_eq!(err.kind(), ErrorKind::Closed, "{err}");
        assert_eq!(err.errno(), Some(libc::EBADF), "{err}");
    }
}

#[test]
fn detach_hands_over_the_fd_and_leaves_the_socket_closed() {
    let (client, server) = tcp_pair();
    let fd = client.detach();
    assert!(fd >= 0);
    assert!(client.is_closed());
    assert_eq!(client.detach(), -1);
    assert_eq!(client.send(b"x", 0).unwrap_err().kind(), ErrorKind::Closed);
    drop(client); // must not close the detached fd

    // SAFETY: fd is an open socket that nothing else owns any more.
    let adopted = unsafe { Socket::from_raw_fd(fd, None, None, None) }.unwrap();
    assert_eq!(adopted.family(), libc::AF_INET);
    assert_eq!(adopted.sock_type(), libc::SOCK_STREAM);
    assert_eq!(adopted.protocol(), libc::IPPROTO_TCP);
    let adopted = bounded(adopted);
    echo_once(&adopted, &server, b"still connected");
}

#[test]
fn dup_shares_the_connection_and_outlives_the_original() {
    let (client, server) = tcp_pair();
    let copy = client.dup().unwrap();
    assert_ne!(copy.fileno(), client.fileno());
    assert_eq!(copy.family(), client.family());
    assert_eq!(copy.sock_type(), client.sock_type());
    assert_eq!(copy.timeout(), Timeout::After(WAIT));
    client.close().unwrap();
    echo_once(&copy, &server, b"through the duplicate");
}

#[test]
fn reuseaddr_and_keepalive_round_trip() {
    let s = Socket::new(Family::Inet, SockType::Stream).unwrap();
    for (level, name) in [
        (libc::SOL_SOCKET, libc::SO_REUSEADDR),
        (libc::SOL_SOCKET, libc::SO_KEEPALIVE),
        (libc::SOL_SOCKET, libc::SO_REUSEPORT),
        (libc::IPPROTO_TCP, libc::TCP_NODELAY),
    ] {
        assert_eq!(s.option(level, name).unwrap(), 0, "option {name} off");
        s.set_option(level, name, 1).unwrap();
        assert_ne!(s.option(level, name).unwrap(), 0, "option {name} on");
        s.set_option(level, name, 0).unwrap();
        assert_eq!(s.option(level, name).unwrap(), 0, "option {name} off");
    }
    s.set_reuse_address(true).unwrap();
    assert_eq!(s.option(libc::SOL_SOCKET, libc::SO_REUSEADDR).unwrap(), 1);
    s.set_nodelay(true).unwrap();
    assert_eq!(s.option(libc::IPPROTO_TCP, libc::TCP_NODELAY).unwrap(), 1);
}

#[test]
fn buffer_sizes_round_trip_at_least_as_large_as_asked() {
    let s = Socket::new(Family::Inet, SockType::Stream).unwrap();
    for name in [libc::SO_RCVBUF, libc::SO_SNDBUF] {
        s.set_option(libc::SOL_SOCKET, name, 65536).unwrap();
        // Linux doubles the value to account for its bookkeeping.
        let got = s.option(libc::SOL_SOCKET, name).unwrap();
        assert!(got >= 65536, "option {name}: {got}");
    }
}

#[test]
fn linger_round_trips_as_raw_bytes() {
    let s = Socket::new(Family::Inet, SockType::Stream).unwrap();
    let linger = [1i32.to_ne_bytes(), 7i32.to_ne_bytes()].concat();
    s.set_option_bytes(libc::SOL_SOCKET, libc::SO_LINGER, &linger)
        .unwrap();
    let back = s
        .option_bytes(libc::SOL_SOCKET, libc::SO_LINGER, 64)
        .unwrap();
    assert_eq!(back, linger);
}

#[test]
fn option_bytes_refuses_a_buffer_outside_1_to_1024() {
    let s = Socket::new(Family::Inet, SockType::Stream).unwrap();
    for max in [0, 1025] {
        let err = s
            .option_bytes(libc::SOL_SOCKET, libc::SO_LINGER, max)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    }
}

#[test]
fn so_error_is_zero_and_so_type_is_stream() {
    let (client, _server) = tcp_pair();
    assert_eq!(client.option(libc::SOL_SOCKET, libc::SO_ERROR).unwrap(), 0);
    assert_eq!(
        client.option(libc::SOL_SOCKET, libc::SO_TYPE).unwrap(),
        libc::SOCK_STREAM
    );
}

#[test]
fn tcp_keepalive_timers_round_trip() {
    let s = Socket::new(Family::Inet, SockType::Stream).unwrap();
    for (name, value) in [
        (libc::TCP_KEEPIDLE, 60),
        (libc::TCP_KEEPINTVL, 10),
        (libc::TCP_KEEPCNT, 5),
    ] {
        s.set_option(libc::IPPROTO_TCP, name, value).unwrap();
        assert_eq!(s.option(libc::IPPROTO_TCP, name).unwrap(), value);
    }
}

#[test]
fn ipv6_v6only_round_trips() {
    let Ok(s) = Socket::new(Family::Inet6, SockType::Stream) else {
        return util::skip("no IPv6 sockets");
    };
    for value in [1, 0] {
        s.set_option(libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, value)
            .unwrap();
        assert_eq!(
            s.option(libc::IPPROTO_IPV6, libc::IPV6_V6ONLY).unwrap(),
            value
        );
    }
}

#[test]
fn unknown_option_is_an_os_error() {
    let s = Socket::new(Family::Inet, SockType::Stream).unwrap();
    let err = s.option(libc::SOL_SOCKET, 9999).unwrap_err();
    assert_os(&err, libc::ENOPROTOOPT);
    assert_eq!(err.op(), "getsockopt");
}

#[test]
fn create_connection_reaches_a_listener_through_localhost() {
    let (l, addr) = listener(&v4(0));
    let client = create_connection(
        "localhost",
        addr.port().unwrap(),
        Some(Timeout::After(WAIT)),
        None,
    )
    .unwrap();
    assert_eq!(client.timeout(), Timeout::After(WAIT));
    assert_eq!(client.peer_addr().unwrap(), addr);
    let (conn, _) = l.accept().unwrap();
    echo_once(&client, &bounded(conn), b"via localhost");
}

#[test]
fn create_connection_binds_the_source_address() {
    let (l, addr) = listener(&v4(0));
    let client = create_connection(
        "127.0.0.1",
        addr.port().unwrap(),
        Some(Timeout::After(WAIT)),
        Some(&v4(0)),
    )
    .unwrap();
    let (_conn, peer) = l.accept().unwrap();
    assert_eq!(peer, client.local_addr().unwrap());
}

#[test]
fn create_connection_refused_reports_the_attempt() {
    let (_holder, addr) = refusing_address();
    let err = create_connection(
        "127.0.0.1",
        addr.port().unwrap(),
        Some(Timeout::After(WAIT)),
        None,
    )
    .unwrap_err();
    assert_os(&err, libc::ECONNREFUSED);
    assert_eq!(err.target(), Some(addr.to_string().as_str()));
}

#[test]
fn create_server_listens_with_so_reuseaddr() {
    let server = bounded(create_server(&v4(0), ServerOptions::default()).unwrap());
    assert_eq!(
        server.option(libc::SOL_SOCKET, libc::SO_REUSEADDR).unwrap(),
        1
    );
    assert_eq!(
        server
            .option(libc::SOL_SOCKET, libc::SO_ACCEPTCONN)
            .unwrap(),
        1
    );
    let addr = server.local_addr().unwrap();
    let client = bounded(Socket::new(Family::Inet, SockType::Stream).unwrap());
    client.connect(&addr).unwrap();
    server.accept().unwrap();
}

#[test]
fn create_server_with_reuse_port_lets_two_servers_share_a_port() {
    let options = ServerOptions {
        reuse_port: true,
        ..ServerOptions::default()
    };
    let first = create_server(&v4(0), options).unwrap();
    let addr = first.local_addr().unwrap();
    let second = create_server(&addr, options).unwrap();
    assert_eq!(second.local_addr().unwrap(), addr);
}

#[test]
fn create_server_refuses_dualstack_on_an_ipv4_address() {
    let options = ServerOptions {
        dualstack_ipv6: true,
        ..ServerOptions::default()
    };
    let err = create_server(&v4(0), options).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
}

#[test]
fn create_server_on_ipv6_is_v6only_by_default() {
    if !util::ipv6_loopback_available() {
        return util::skip("::1 is not available");
    }
    let server = create_server(&v6(0), ServerOptions::default()).unwrap();
    assert_eq!(
        server
            .option(libc::IPPROTO_IPV6, libc::IPV6_V6ONLY)
            .unwrap(),
        1
    );
}

#[test]
fn create_server_dualstack_accepts_ipv4_and_ipv6_clients() {
    if !has_dualstack_ipv6() || !util::ipv6_loopback_available() {
        return util::skip("no dual-stack IPv6");
    }
    let any6: Address = "[::]:0".parse().unwrap();
    let options = ServerOptions {
        dualstack_ipv6: true,
        ..ServerOptions::default()
    };
    let server = bounded(create_server(&any6, options).unwrap());
    assert_eq!(
        server
            .option(libc::IPPROTO_IPV6, libc::IPV6_V6ONLY)
            .unwrap(),
        0
    );
    let port = server.local_addr().unwrap().port().unwrap();

    for target in [v4(port), v6(port)] {
        let client = bounded(Socket::new(target.family(), SockType::Stream).unwrap());
        client.connect(&target).unwrap();
        let (conn, peer) = server.accept().unwrap();
        // An IPv4 client appears as an IPv4-mapped IPv6 address.
        let Address::V6(peer6) = peer else {
            panic!("peer of a dual-stack server should be IPv6: {peer}")
        };
        match target {
            Address::V4(_) => assert_eq!(
                peer6.ip().to_ipv4_mapped(),
                Some(std::net::Ipv4Addr::LOCALHOST)
            ),
            _ => assert_eq!(*peer6.ip(), std::net::Ipv6Addr::LOCALHOST),
        }
        echo_once(&client, &bounded(conn), b"dual stack");
    }
}

#[test]
fn read_and_write_traits_move_bytes() {
    let (mut client, server) = tcp_pair();
    client.write_all(b"through io::Write").unwrap();
    client.flush().unwrap();
    let mut buf = [0u8; 17];
    (&server).read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"through io::Write");

    (&server).write_all(b"and back").unwrap();
    let mut back = [0u8; 8];
    client.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"and back");
}

#[test]
fn io_errors_keep_their_kind_through_the_traits() {
    let (client, _server) = tcp_pair();
    client.set_timeout(Timeout::NonBlocking).unwrap();
    let mut buf = [0u8; 4];
    let err = (&client).read(&mut buf).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
    client.shutdown(Shutdown::Write).unwrap();
    let err = (&client).write(b"x").unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
    assert_eq!(err.raw_os_error(), None); // wrapped: the ferrosock error is inside
    let inner = err.get_ref().unwrap().to_string();
    assert!(inner.starts_with("send "), "{inner}");
}

#[test]
fn listen_on_a_connected_socket_fails_with_einval() {
    let (client, _server) = tcp_pair();
    let err = client.listen(1).unwrap_err();
    assert_os(&err, libc::EINVAL);
}

#[test]
fn socket_is_send_and_sync_so_threads_share_it() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Socket>();

    let (client, server) = tcp_pair();
    let client = std::sync::Arc::new(client);
    let reader = {
        let client = client.clone();
        thread::spawn(move || {
            let mut buf = [0u8; 4];
            recv_exact(&client, &mut buf);
            buf
        })
    };
    client.send_all(b"ping", 0).unwrap();
    let mut buf = [0u8; 4];
    recv_exact(&server, &mut buf);
    server.send_all(b"pong", 0).unwrap();
    assert_eq!(&reader.join().unwrap(), b"pong");
}

#[test]
fn recv_from_on_tcp_keeps_the_data_and_names_the_peer() {
    // The kernel reports no sender on a stream socket; the bytes must not
    // be lost for want of an address.
    let (client, server) = tcp_pair();
    client.send_all(b"abc", 0).unwrap();
    let mut buf = [0u8; 8];
    let (n, from) = server.recv_from(&mut buf, 0).unwrap();
    assert_eq!(&buf[..n], b"abc");
    assert_eq!(from, client.local_addr().unwrap());
}

#[test]
fn so_error_reports_a_refused_nonblocking_connect() {
    let (_holder, addr) = refusing_address();
    let s = Socket::new(Family::Inet, SockType::Stream).unwrap();
    s.set_timeout(Timeout::NonBlocking).unwrap();
    // The refusal may already be known when connect returns (on loopback
    // the reset can be processed inside the call); otherwise it is pending
    // in SO_ERROR once the socket turns writable.
    match s.connect(&addr) {
        Err(e) if e.errno() == Some(libc::ECONNREFUSED) => {}
        Err(e) => {
            assert_os(&e, libc::EINPROGRESS);
            s.set_timeout(Timeout::After(WAIT)).unwrap();
            assert!(s.wait_writable().unwrap());
            assert_eq!(
                s.option(libc::SOL_SOCKET, libc::SO_ERROR).unwrap(),
                libc::ECONNREFUSED
            );
            // Reading SO_ERROR clears it.
            assert_eq!(s.option(libc::SOL_SOCKET, libc::SO_ERROR).unwrap(), 0);
        }
        Ok(()) => panic!("connected to a port nobody listens on"),
    }
}
