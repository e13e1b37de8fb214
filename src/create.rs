//! Convenience constructors, as CPython's `create_connection`,
//! `create_server` and `socketpair`.

use crate::addr::{Address, Family};
use crate::error::{Error, Result};
use crate::resolve::{resolve, AddrInfo};
use crate::socket::{SockType, Socket, DEFAULT_BACKLOG};
use crate::timeout::Timeout;

/// Connects a TCP socket to `host:port`, trying every address the name
/// resolves to, in turn, until one connects.
///
/// `timeout` (`None`: the process-wide default) applies to each attempt and
/// stays on the returned socket; `source` binds the socket first. When every
/// address fails, the error of the last attempt is returned, as CPython 3.11
/// does without `all_errors`.
pub fn create_connection(
    host: &str,
    port: u16,
    timeout: Option<Timeout>,
    source: Option<&Address>,
) -> Result<Socket> {
    let mut last_error = None;
    for address in resolve(host, port, None, libc::SOCK_STREAM)? {
        let info = AddrInfo {
            family: address.family().raw(),
            socktype: libc::SOCK_STREAM,
            protocol: 0,
            canonname: String::new(),
            address,
        };
        match connect_addrinfo(&info, timeout, source) {
            Ok(sock) => return Ok(sock),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        Error::invalid("create_connection", "the name resolved to no address").with_target(host)
    }))
}

/// One attempt of [`create_connection`]: a new socket of `info`'s family,
/// type and protocol, put in `timeout` (`None`: the default), bound to
/// `source` if given, and connected to `info.address`.
///
/// Faces that loop over [`crate::resolve::getaddrinfo`] answers themselves
/// (Python's `create_connection(..., all_errors=True)` keeps every error)
/// make each attempt with this.
pub fn connect_addrinfo(
    info: &AddrInfo,
    timeout: Option<Timeout>,
    source: Option<&Address>,
) -> Result<Socket> {
    let sock = Socket::new_raw(info.family, info.socktype, info.protocol)?;
    if let Some(t) = timeout {
        sock.set_timeout(t)?;
    }
    if let Some(src) = source {
        sock.bind(src)?;
    }
    sock.connect(&info.address)?;
    Ok(sock)
}

/// How [`create_server`] sets up its listening socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ServerOptions {
    /// The `listen` backlog (`None`: [`DEFAULT_BACKLOG`]).
    pub backlog: Option<i32>,
    /// Set `SO_REUSEPORT`, so that several sockets can share the port.
    pub reuse_port: bool,
    /// On an IPv6 address, accept IPv4 connections too (`IPV6_V6ONLY` off).
    pub dualstack_ipv6: bool,
}

/// A listening TCP (or Unix stream) socket bound to `addr`.
///
/// `SO_REUSEADDR` is set first, so a restarted server can bind at once even
/// while old connections linger in `TIME_WAIT`; on IPv6, `IPV6_V6ONLY` is on
/// unless `dualstack_ipv6` asks otherwise.
pub fn create_server(addr: &Address, options: ServerOptions) -> Result<Socket> {
    let family = addr.family();
    if options.dualstack_ipv6 && family != Family::Inet6 {
        return Err(Error::invalid(
            "create_server",
            "dualstack_ipv6 requires an IPv6 address",
        ));
    }
    let sock = Socket::new(family, SockType::Stream)?;
    if family != Family::Unix {
        sock.set_reuse_address(true)?;
    }
    if options.reuse_port {
        sock.set_option(libc::SOL_SOCKET, libc::SO_REUSEPORT, 1)?;
    }
    if family == Family::Inet6 {
        sock.set_option(
            libc::IPPROTO_IPV6,
            libc::IPV6_V6ONLY,
            (!options.dualstack_ipv6) as i32,
        )?;
    }
    sock.bind(addr)?;
    sock.listen(options.backlog.unwrap_or(DEFAULT_BACKLOG))?;
    Ok(sock)
}

/// Whether this machine can accept IPv4 and IPv6 on one socket.
pub fn has_dualstack_ipv6() -> bool {
    Socket::new(Family::Inet6, SockType::Stream)
        .and_then(|s| s.set_option(libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, 0))
        .is_ok()
}

/// A connected pair of Unix stream sockets.
pub fn socketpair() -> Result<(Socket, Socket)> {
    Socket::pair(libc::AF_UNIX, libc::SOCK_STREAM, 0)
}
