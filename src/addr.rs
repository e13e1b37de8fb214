//! Socket addresses: IPv4, IPv6 and Unix (path, Linux abstract name, unnamed).
//!
//! An [`Address`] is always concrete: host names are resolved before one is
//! made (see [`crate::resolve`]). Its text form is the one the C face and the
//! examples use: `127.0.0.1:8080`, `[::1]:8080`, `[fe80::1%2]:80`,
//! `unix:/tmp/chat.sock` and `unix:@abstract-name`.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use socket2::SockAddr;

use crate::error::{Error, Result};

/// An address family, as in `socket(2)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// IPv4 (`AF_INET`).
    Inet,
    /// IPv6 (`AF_INET6`).
    Inet6,
    /// Unix domain (`AF_UNIX`).
    Unix,
}

impl Family {
    /// The `AF_*` constant.
    pub fn raw(self) -> i32 {
        match self {
            Family::Inet => libc::AF_INET,
            Family::Inet6 => libc::AF_INET6,
            Family::Unix => libc::AF_UNIX,
        }
    }

    /// The family of an `AF_*` constant, if ferrosock supports it.
    pub fn from_raw(raw: i32) -> Option<Family> {
        match raw {
            libc::AF_INET => Some(Family::Inet),
            libc::AF_INET6 => Some(Family::Inet6),
            libc::AF_UNIX => Some(Family::Unix),
            _ => None,
        }
    }
}

/// The address of a Unix-domain socket.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UnixAddr {
    /// A path in the file system.
    Path(PathBuf),
    /// A Linux abstract name (the bytes after the leading NUL).
    Abstract(Vec<u8>),
    /// An unbound socket, such as either end of a `socketpair`.
    Unnamed,
}

/// A concrete socket address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Address {
    /// An IPv4 address and port.
    V4(SocketAddrV4),
    /// An IPv6 address, port, flow label and scope id.
    V6(SocketAddrV6),
    /// A Unix-domain address.
    Unix(UnixAddr),
}

impl Address {
    /// An IPv4 or IPv6 address from the standard library's type.
    pub fn ip(addr: SocketAddr) -> Address {
        match addr {
            SocketAddr::V4(a) => Address::V4(a),
            SocketAddr::V6(a) => Address::V6(a),
        }
    }

    /// A Unix socket path.
    pub fn unix(path: impl AsRef<Path>) -> Address {
        Address::Unix(UnixAddr::Path(path.as_ref().to_path_buf()))
    }

    /// A Linux abstract Unix name (given without its leading NUL).
    pub fn unix_abstract(name: impl AsRef<[u8]>) -> Address {
        Address::Unix(UnixAddr::Abstract(name.as_ref().to_vec()))
    }

    /// The family this address belongs to.
    pub fn family(&self) -> Family {
        match self {
            Address::V4(_) => Family::Inet,
            Address::V6(_) => Family::Inet6,
            Address::Unix(_) => Family::Unix,
        }
    }

    /// The port of an IP address.
    pub fn port(&self) -> Option<u16> {
        match self {
            Address::V4(a) => Some(a.port()),
            Address::V6(a) => Some(a.port()),
            Address::Unix(_) => None,
        }
    }

    /// The IP address as the standard library's type.
    pub fn as_socket_addr(&self) -> Option<SocketAddr> {
        match self {
            Address::V4(a) => Some(SocketAddr::V4(*a)),
            Address::V6(a) => Some(SocketAddr::V6(*a)),
            Address::Unix(_) => None,
        }
    }

    /// Converts to the form the system calls take.
    pub fn to_sockaddr(&self) -> Result<SockAddr> {
        match self {
            Address::V4(a) => Ok(SockAddr::from(*a)),
            Address::V6(a) => Ok(SockAddr::from(*a)),
            Address::Unix(UnixAddr::Path(p)) => SockAddr::unix(p).map_err(|_| {
                Error::invalid("address", "Unix socket path too long (at most 107 bytes)")
            }),
            Address::Unix(UnixAddr::Abstract(name)) => {
                let mut bytes = Vec::with_capacity(name.len() + 1);
                bytes.push(0u8);
                bytes.extend_from_slice(name);
                SockAddr::unix(std::ffi::OsStr::from_bytes(&bytes)).map_err(|_| {
                    Error::invalid("address", "abstract Unix name too long (at most 106 bytes)")
                })
            }
            Address::Unix(UnixAddr::Unnamed) => Err(Error::invalid(
                "address",
                "an unnamed Unix address cannot be used as a destination",
            )),
        }
    }

    /// Converts from what a system call returned.
    pub fn from_sockaddr(addr: &SockAddr) -> Result<Address> {
        if let Some(a) = addr.as_socket() {
            return Ok(Address::ip(a));
        }
        if addr.is_unix() {
            if addr.is_unnamed() {
                return Ok(Address::Unix(UnixAddr::Unnamed));
            }
            if let Some(name) = addr.as_abstract_namespace() {
                return Ok(Address::Unix(UnixAddr::Abstract(name.to_vec())));
            }
            if let Some(path) = addr.as_pathname() {
                return Ok(Address::Unix(UnixAddr::Path(path.to_path_buf())));
            }
        }
        Err(Error::invalid(
            "address",
            format!("unsupported address family {}", addr.family()),
        ))
    }
}

impl From<SocketAddr> for Address {
    fn from(a: SocketAddr) -> Address {
        Address::ip(a)
    }
}

impl From<SocketAddrV4> for Address {
    fn from(a: SocketAddrV4) -> Address {
        Address::V4(a)
    }
}

impl From<SocketAddrV6> for Address {
    fn from(a: SocketAddrV6) -> Address {
        Address::V6(a)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::V4(a) => write!(f, "{a}"),
            Address::V6(a) => {
                write!(f, "[{}", a.ip())?;
                if a.scope_id() != 0 {
                    write!(f, "%{}", a.scope_id())?;
                }
                write!(f, "]:{}", a.port())
            }
            Address::Unix(UnixAddr::Path(p)) => write!(f, "unix:{}", p.display()),
            Address::Unix(UnixAddr::Abstract(name)) => {
                write!(f, "unix:@{}", String::from_utf8_lossy(name))
            }
            Address::Unix(UnixAddr::Unnamed) => f.write_str("unix:(unnamed)"),
        }
    }
}

impl FromStr for Address {
    type Err = Error;

    /// Parses `127.0.0.1:8080`, `[::1]:8080`, `[fe80::1%2]:80`,
    /// `unix:/path` or `unix:@name`. Host names are not resolved here: use
    /// [`crate::resolve::resolve`] for `localhost:8080`.
    fn from_str(text: &str) -> Result<Address> {
        if let Some(rest) = text.strip_prefix("unix:") {
            if let Some(name) = rest.strip_prefix('@') {
                return Ok(Address::unix_abstract(name.as_bytes()));
            }
            if rest.is_empty() {
                return Err(Error::invalid("address", "empty Unix socket path"));
            }
            return Ok(Address::unix(rest));
        }
        let (host, port) = split_host_port(text)?;
        let port: u16 = port.parse().map_err(|_| {
            Error::invalid(
                "address",
                format!("{text:?}: the port must be a number from 0 to 65535"),
            )
        })?;
        let ip = parse_ip(host).ok_or_else(|| {
            Error::invalid(
                "address",
                format!("{text:?}: not a numeric address (names are resolved with resolve())"),
            )
        })?;
        Ok(match ip {
            (IpAddr::V4(v4), _) => Address::V4(SocketAddrV4::new(v4, port)),
            (IpAddr::V6(v6), scope) => Address::V6(SocketAddrV6::new(v6, port, 0, scope)),
        })
    }
}

/// Splits `host:port` or `[v6]:port` into its parts, without resolving.
pub(crate) fn split_host_port(text: &str) -> Result<(&str, &str)> {
    let bad = || {
        Error::invalid(
            "address",
            format!("{text:?}: expected HOST:PORT, [IPV6]:PORT or unix:PATH"),
        )
    };
    if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or_else(bad)?;
        let port = after.strip_prefix(':').ok_or_else(bad)?;
        return Ok((host, port));
    }
    let (host, port) = text.rsplit_once(':').ok_or_else(bad)?;
    if host.contains(':') {
        return Err(bad());
    }
    Ok((host, port))
}

/// Parses a numeric IPv4 or IPv6 address, the latter with an optional
/// numeric `%scope`.
pub(crate) fn parse_ip(host: &str) -> Option<(IpAddr, u32)> {
    if let Ok(v4) = host.parse::<Ipv4Addr>() {
        return Some((IpAddr::V4(v4), 0));
    }
    let (ip, scope) = match host.split_once('%') {
        Some((ip, scope)) => (ip, scope.parse().ok()?),
        None => (host, 0),
    };
    ip.parse::<Ipv6Addr>()
        .ok()
        .map(|v6| (IpAddr::V6(v6), scope))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips() {
        for text in [
            "127.0.0.1:8080",
            "[::1]:8080",
            "[fe80::1%2]:80",
            "unix:/tmp/x.sock",
            "unix:@chat",
        ] {
            let addr: Address = text.parse().unwrap();
            assert_eq!(addr.to_string(), text);
        }
    }

    #[test]
    fn rejects_names_and_garbage_with_a_reason() {
        let e = "localhost:80".parse::<Address>().unwrap_err();
        assert!(e.to_string().contains("not a numeric address"), "{e}");
        assert!("127.0.0.1".parse::<Address>().is_err());
        assert!("127.0.0.1:99999".parse::<Address>().is_err());
        assert!("::1:80".parse::<Address>().is_err());
        assert!("unix:".parse::<Address>().is_err());
    }

    #[test]
    fn sockaddr_round_trips() {
        for text in ["127.0.0.1:1", "[::1]:2", "unix:/tmp/y.sock", "unix:@abs"] {
            let addr: Address = text.parse().unwrap();
            let back = Address::from_sockaddr(&addr.to_sockaddr().unwrap()).unwrap();
            assert_eq!(addr, back);
        }
    }
}
