//! Name resolution through the system resolver: `getaddrinfo`,
//! `getnameinfo`, `gethostname`, the services and protocols databases, and
//! the rules that turn a `(host, port)` pair into an [`Address`] the way
//! CPython's socket module does.
//!
//! A host may be a name (`"localhost"`), a numeric address, `""` (any
//! address: `0.0.0.0` or `::`) or `"<broadcast>"` (`255.255.255.255`).
//!
//! Every function here is thread-safe. `getaddrinfo` and `getnameinfo` are
//! thread-safe in C; `getservbyname`, `getservbyport` and `getprotobyname`
//! answer in static storage, so ferrosock calls them under one private lock
//! and copies the answer out before releasing it (the `libc` crate does not
//! bind their reentrant `*_r` variants, which also differ between systems).

use std::ffi::{CStr, CString};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};

use parking_lot::Mutex;

use crate::addr::{parse_ip, split_host_port, Address, Family};
use crate::error::{Cause, Error, Result};

/// One answer of [`getaddrinfo`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrInfo {
    /// The `AF_*` family of the address.
    pub family: i32,
    /// The `SOCK_*` type the address is for.
    pub socktype: i32,
    /// The protocol number (`IPPROTO_*`).
    pub protocol: i32,
    /// The canonical name, when `AI_CANONNAME` asked for it (else empty).
    pub canonname: String,
    /// The address itself.
    pub address: Address,
}

/// Calls the system's `getaddrinfo`.
///
/// `host` and `port` may each be `None` (as NULL in C); `family` 0 means
/// any (`AF_UNSPEC`). Fails with [`Cause::Resolve`] carrying the `EAI_*`
/// code, or an OS error for `EAI_SYSTEM`.
pub fn getaddrinfo(
    host: Option<&str>,
    port: Option<&str>,
    family: i32,
    socktype: i32,
    protocol: i32,
    flags: i32,
) -> Result<Vec<AddrInfo>> {
    let target = format!("{}:{}", host.unwrap_or(""), port.unwrap_or(""));
    let to_c = |s: &str| {
        CString::new(s).map_err(|_| {
            Error::invalid(
                "getaddrinfo",
                "host and port must not contain NUL characters",
            )
        })
    };
    let c_host = host.map(to_c).transpose()?;
    let c_port = port.map(to_c).transpose()?;
    // SAFETY: an all-zero addrinfo is a valid "no hints" value.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_family = family;
    hints.ai_socktype = socktype;
    hints.ai_protocol = protocol;
    hints.ai_flags = flags;
    let mut list: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: the strings are NUL-terminated and outlive the call; `list` is
    // a valid out-pointer, freed below with freeaddrinfo.
    let rc = unsafe {
        libc::getaddrinfo(
            c_host.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
            c_port.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
            &hints,
            &mut list,
        )
    };
    if rc != 0 {
        return Err(gai_error("getaddrinfo", rc).with_target(target));
    }
    let mut out = Vec::new();
    let mut cursor = list;
    while !cursor.is_null() {
        // SAFETY: cursor walks the list getaddrinfo returned, which stays
        // valid until freeaddrinfo.
        let ai = unsafe { &*cursor };
        // SAFETY: ai_addr points to ai_addrlen bytes of a sockaddr.
        let converted = unsafe {
            socket2::SockAddr::try_init(|storage, len| {
                let n = (ai.ai_addrlen as usize).min(std::mem::size_of::<libc::sockaddr_storage>());
                std::ptr::copy_nonoverlapping(ai.ai_addr.cast::<u8>(), storage.cast::<u8>(), n);
                *len = n as libc::socklen_t;
                Ok(())
            })
        };
        if let Ok(((), sa)) = converted {
            if let Ok(address) = Address::from_sockaddr(&sa) {
                let canonname = if ai.ai_canonname.is_null() {
                    String::new()
                } else {
                    // SAFETY: a non-null ai_canonname is a NUL-terminated string.
                    unsafe { CStr::from_ptr(ai.ai_canonname) }
                        .to_string_lossy()
                        .into_owned()
                };
                out.push(AddrInfo {
                    family: ai.ai_family,
                    socktype: ai.ai_socktype,
                    protocol: ai.ai_protocol,
                    canonname,
                    address,
                });
            }
        }
        cursor = ai.ai_next;
    }
    // SAFETY: list came from a successful getaddrinfo and is freed once.
    unsafe { libc::freeaddrinfo(list) };
    Ok(out)
}

/// The error for a non-zero `getaddrinfo` return code.
fn gai_error(op: &'static str, rc: i32) -> Error {
    if rc == libc::EAI_SYSTEM {
        return Error::os(op, std::io::Error::last_os_error());
    }
    // SAFETY: gai_strerror returns a pointer to a static NUL-terminated string.
    let message = unsafe { CStr::from_ptr(libc::gai_strerror(rc)) }
        .to_string_lossy()
        .into_owned();
    Error::new(op, Cause::Resolve { code: rc, message })
}

/// Resolves `host` and `port` to every address of `family` (`None`: any of
/// IPv4 and IPv6) usable for `socktype`, in the resolver's order.
///
/// `""` and `"<broadcast>"` follow [`resolve_one`]'s rules.
pub fn resolve(
    host: &str,
    port: u16,
    family: Option<Family>,
    socktype: i32,
) -> Result<Vec<Address>> {
    if let Some(addr) = special_or_numeric(host, port, family)? {
        return Ok(vec![addr]);
    }
    let fam = family.map_or(libc::AF_UNSPEC, Family::raw);
    let mut seen = Vec::new();
    for info in getaddrinfo(Some(host), Some(&port.to_string()), fam, socktype, 0, 0)? {
        if !seen.contains(&info.address) {
            seen.push(info.address);
        }
    }
    if seen.is_empty() {
        return Err(Error::new(
            "getaddrinfo",
            Cause::Resolve {
                code: libc::EAI_NONAME,
                message: "Name or service not known".into(),
            },
        )
        .with_target(host));
    }
    Ok(seen)
}

/// Resolves `(host, port)` to the one address a socket of `family` binds,
/// connects or sends to, following CPython's rules: `""` is the any address,
/// `"<broadcast>"` is `255.255.255.255`, numeric addresses are taken as they
/// are, and names go to the resolver, whose first answer is used.
pub fn resolve_one(host: &str, port: u16, family: Family) -> Result<Address> {
    if family == Family::Unix {
        return Err(Error::invalid(
            "resolve",
            "a Unix socket's address is a path, not (host, port)",
        ));
    }
    Ok(resolve(host, port, Some(family), 0)?.remove(0))
}

/// Resolves text of the form `HOST:PORT`, `[IPV6]:PORT`, `unix:PATH` or
/// `unix:@NAME`, where HOST may be a name. `family` restricts the answer
/// (`None`: the resolver's first).
pub fn resolve_text(text: &str, family: Option<Family>) -> Result<Address> {
    if text.starts_with("unix:") {
        return text.parse();
    }
    let (host, port) = split_host_port(text)?;
    let port: u16 = port.parse().map_err(|_| {
        Error::invalid(
            "address",
            format!("{text:?}: the port must be a number from 0 to 65535"),
        )
    })?;
    Ok(resolve(host, port, family, 0)?.remove(0))
}

fn special_or_numeric(host: &str, port: u16, family: Option<Family>) -> Result<Option<Address>> {
    let v4 = |ip| Address::V4(SocketAddrV4::new(ip, port));
    let v6 = |ip, scope| Address::V6(SocketAddrV6::new(ip, port, 0, scope));
    let mismatch = || Error::from_errno("resolve", libc::EAFNOSUPPORT).with_target(host);
    match host {
        "" => {
            return Ok(Some(match family {
                Some(Family::Inet6) => v6(Ipv6Addr::UNSPECIFIED, 0),
                _ => v4(Ipv4Addr::UNSPECIFIED),
            }))
        }
        "<broadcast>" => {
            return match family {
                Some(Family::Inet6) => Err(mismatch()),
                _ => Ok(Some(v4(Ipv4Addr::BROADCAST))),
            }
        }
        _ => {}
    }
    match (parse_ip(host), family) {
        (None, _) => Ok(None),
        (Some((std::net::IpAddr::V4(ip), _)), None | Some(Family::Inet)) => Ok(Some(v4(ip))),
        (Some((std::net::IpAddr::V6(ip), scope)), None | Some(Family::Inet6)) => {
            Ok(Some(v6(ip, scope)))
        }
        // A numeric address of the other family: let the resolver decide
        // (it maps nothing, and says so in its own words).
        (Some(_), _) => Ok(None),
    }
}

/// The machine's host name (`gethostname`).
pub fn gethostname() -> Result<String> {
    let mut buf = [0u8; 256];
    // SAFETY: buf is valid for its length.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return Err(Error::os("gethostname", std::io::Error::last_os_error()));
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    Ok(String::from_utf8_lossy(&buf[..end]).into_owned())
}

/// Sets the machine's host name (`sethostname(2)`): the bytes of `name`,
/// which the kernel limits to 64. Needs `CAP_SYS_ADMIN`; without it fails
/// with `EPERM` (an OS error), a name too long with `EINVAL`.
pub fn sethostname(name: &[u8]) -> Result<()> {
    // SAFETY: name is valid for name.len() bytes; the kernel reads no more.
    let rc = unsafe { libc::sethostname(name.as_ptr().cast(), name.len()) };
    if rc != 0 {
        return Err(Error::os("sethostname", std::io::Error::last_os_error()));
    }
    Ok(())
}

/// The first IPv4 address of `name`, as CPython's `gethostbyname` gives it.
pub fn gethostbyname(name: &str) -> Result<Ipv4Addr> {
    match resolve_one(name, 0, Family::Inet)? {
        Address::V4(a) => Ok(*a.ip()),
        other => Err(Error::invalid(
            "gethostbyname",
            format!("resolver answered a non-IPv4 address {other}"),
        )),
    }
}

/// Names an IP address and port with the system's `getnameinfo(3)`: the
/// host name (or numeric address) and the service name (or port number).
///
/// `flags` are the `NI_*` flags: `NI_NUMERICHOST` and `NI_NUMERICSERV` ask
/// for numbers without any lookup, `NI_NAMEREQD` makes a missing host name an
/// error instead of the numeric form, `NI_DGRAM` looks the port up as a UDP
/// service. A reverse lookup may query the network's resolver, so the call
/// can take time.
///
/// Fails with [`Cause::Resolve`] carrying the `EAI_*` code (`EAI_NONAME`
/// when `NI_NAMEREQD` finds no name; `EAI_FAMILY` for a Unix address, which
/// has no host or port), or an OS error for `EAI_SYSTEM`.
pub fn getnameinfo(addr: &Address, flags: i32) -> Result<(String, String)> {
    if matches!(addr, Address::Unix(_)) {
        return Err(gai_error("getnameinfo", libc::EAI_FAMILY).with_target(addr));
    }
    let sa = addr.to_sockaddr()?;
    // NI_MAXHOST and NI_MAXSERV of <netdb.h>: the longest answers, with NUL.
    let mut host = [0 as libc::c_char; 1025];
    let mut serv = [0 as libc::c_char; 32];
    // SAFETY: sa points to sa.len() bytes of a valid sockaddr; host and serv
    // are writable buffers of the lengths passed. getnameinfo is thread-safe.
    let rc = unsafe {
        libc::getnameinfo(
            sa.as_ptr().cast(),
            sa.len(),
            host.as_mut_ptr(),
            host.len() as libc::socklen_t,
            serv.as_mut_ptr(),
            serv.len() as libc::socklen_t,
            flags,
        )
    };
    if rc != 0 {
        return Err(gai_error("getnameinfo", rc).with_target(addr));
    }
    let text = |buf: &[libc::c_char]| {
        // SAFETY: on success getnameinfo wrote a NUL-terminated string into
        // each buffer.
        unsafe { CStr::from_ptr(buf.as_ptr()) }
            .to_string_lossy()
            .into_owned()
    };
    Ok((text(&host), text(&serv)))
}

/// Serialises the services and protocols database look-ups, whose answers
/// live in static storage that the next look-up overwrites.
static NETDB: Mutex<()> = Mutex::new(());

/// The port of the service `name` (`getservbyname(3)`, the services
/// database such as `/etc/services`): `"http"` gives 80.
///
/// `proto` restricts the answer to a protocol (`"tcp"`, `"udp"`); `None`
/// takes the first entry of any. `None` when there is no such service, or a
/// name contains a NUL character.
pub fn service_port(name: &str, proto: Option<&str>) -> Option<u16> {
    let name = CString::new(name).ok()?;
    let proto = proto.map(CString::new).transpose().ok()?;
    let _guard = NETDB.lock();
    // SAFETY: both strings are NUL-terminated and outlive the call. The
    // result is NULL or points to static storage, which no other ferrosock
    // call overwrites while we hold the lock, and which we read at once.
    let ent = unsafe {
        libc::getservbyname(
            name.as_ptr(),
            proto.as_ref().map_or(std::ptr::null(), |p| p.as_ptr()),
        )
    };
    if ent.is_null() {
        return None;
    }
    // SAFETY: ent is a valid servent (checked non-NULL above). s_port holds
    // the port in network byte order in its low 16 bits.
    Some(u16::from_be(unsafe { (*ent).s_port } as u16))
}

/// The name of the service on `port` (`getservbyport(3)`): port 80 gives
/// `"http"`.
///
/// `proto` restricts the answer to a protocol (`"tcp"`, `"udp"`); `None`
/// takes the first entry of any. `None` when no service is listed for the
/// port, or `proto` contains a NUL character.
pub fn service_name(port: u16, proto: Option<&str>) -> Option<String> {
    let proto = proto.map(CString::new).transpose().ok()?;
    let _guard = NETDB.lock();
    // SAFETY: proto is NUL-terminated (or NULL) and outlives the call; the
    // port is passed in network byte order as the function expects. The
    // result is NULL or static storage that we copy out under the lock.
    let ent = unsafe {
        libc::getservbyport(
            i32::from(port.to_be()),
            proto.as_ref().map_or(std::ptr::null(), |p| p.as_ptr()),
        )
    };
    if ent.is_null() {
        return None;
    }
    // SAFETY: ent is a valid servent whose s_name is a NUL-terminated string.
    let name = unsafe { CStr::from_ptr((*ent).s_name) };
    Some(name.to_string_lossy().into_owned())
}

/// The number of the protocol `name` (`getprotobyname(3)`, the protocols
/// database such as `/etc/protocols`): `"tcp"` gives 6 (`IPPROTO_TCP`).
///
/// `None` when there is no such protocol, or the name contains a NUL
/// character.
pub fn protocol_number(name: &str) -> Option<i32> {
    let name = CString::new(name).ok()?;
    let _guard = NETDB.lock();
    // SAFETY: name is NUL-terminated and outlives the call; the result is
    // NULL or static storage that we read under the lock.
    let ent = unsafe { libc::getprotobyname(name.as_ptr()) };
    if ent.is_null() {
        return None;
    }
    // SAFETY: ent is a valid protoent (checked non-NULL above).
    Some(unsafe { (*ent).p_proto })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_host_is_any_and_broadcast_is_all_ones() {
        assert_eq!(
            resolve_one("", 5, Family::Inet).unwrap().to_string(),
            "0.0.0.0:5"
        );
        assert_eq!(
            resolve_one("", 5, Family::Inet6).unwrap().to_string(),
            "[::]:5"
        );
        assert_eq!(
            resolve_one("<broadcast>", 9, Family::Inet)
                .unwrap()
                .to_string(),
            "255.255.255.255:9"
        );
    }

    #[test]
    fn localhost_resolves_to_loopback() {
        let a = resolve_one("localhost", 80, Family::Inet).unwrap();
        assert_eq!(a.to_string(), "127.0.0.1:80");
        assert_eq!(gethostbyname("localhost").unwrap(), Ipv4Addr::LOCALHOST);
        assert_eq!(
            resolve_text("localhost:81", Some(Family::Inet))
                .unwrap()
                .to_string(),
            "127.0.0.1:81"
        );
    }

    #[test]
    fn unknown_name_is_a_resolve_error() {
        let e = resolve_one("no-such-host.invalid", 80, Family::Inet).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Resolve, "{e}");
    }

    #[test]
    fn hostname_is_not_empty() {
        assert!(!gethostname().unwrap().is_empty());
    }
}
