//! Name resolution: `getaddrinfo`, `getnameinfo`, CPython's host rules,
//! host names, the services and protocols databases, interface names.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4};

use ferrosock::inet::{if_indextoname, if_nameindex, if_nametoindex};
use ferrosock::resolve::{
    getaddrinfo, gethostbyname, gethostname, getnameinfo, protocol_number, resolve, resolve_one,
    resolve_text, service_name, service_port,
};
use ferrosock::{Address, Cause, ErrorKind, Family};

#[test]
fn getaddrinfo_localhost_gives_ipv4_loopback() {
    let answers = getaddrinfo(
        Some("localhost"),
        Some("8080"),
        libc::AF_INET,
        libc::SOCK_STREAM,
        0,
        0,
    )
    .unwrap();
    assert!(!answers.is_empty());
    for ai in &answers {
        assert_eq!(ai.family, libc::AF_INET);
        assert_eq!(ai.socktype, libc::SOCK_STREAM);
        assert_eq!(ai.protocol, libc::IPPROTO_TCP);
        assert_eq!(ai.address.to_string(), "127.0.0.1:8080");
    }
}

#[test]
fn getaddrinfo_numeric_hosts_need_no_resolver() {
    let v4 = getaddrinfo(
        Some("127.0.0.1"),
        Some("9000"),
        0,
        libc::SOCK_DGRAM,
        0,
        libc::AI_NUMERICHOST,
    )
    .unwrap();
    assert_eq!(v4.len(), 1);
    assert_eq!(v4[0].family, libc::AF_INET);
    assert_eq!(v4[0].protocol, libc::IPPROTO_UDP);
    assert_eq!(v4[0].address.to_string(), "127.0.0.1:9000");

    let v6 = getaddrinfo(
        Some("::1"),
        Some("9000"),
        0,
        libc::SOCK_STREAM,
        0,
        libc::AI_NUMERICHOST,
    )
    .unwrap();
    assert_eq!(v6.len(), 1);
    assert_eq!(v6[0].family, libc::AF_INET6);
    assert_eq!(v6[0].address.to_string(), "[::1]:9000");
}

#[test]
fn getaddrinfo_without_socktype_answers_every_type() {
    let answers = getaddrinfo(Some("127.0.0.1"), Some("80"), libc::AF_INET, 0, 0, 0).unwrap();
    let types: Vec<i32> = answers.iter().map(|ai| ai.socktype).collect();
    assert!(types.contains(&libc::SOCK_STREAM), "{types:?}");
    assert!(types.contains(&libc::SOCK_DGRAM), "{types:?}");
}

#[test]
fn getaddrinfo_passive_without_host_is_the_any_address() {
    let answers = getaddrinfo(
        None,
        Some("7000"),
        libc::AF_INET,
        libc::SOCK_STREAM,
        0,
        libc::AI_PASSIVE,
    )
    .unwrap();
    assert_eq!(answers[0].address.to_string(), "0.0.0.0:7000");
}

#[test]
fn getaddrinfo_canonname_is_filled_when_asked() {
    let answers = getaddrinfo(
        Some("localhost"),
        None,
        libc::AF_INET,
        libc::SOCK_STREAM,
        0,
        libc::AI_CANONNAME,
    )
    .unwrap();
    assert!(!answers[0].canonname.is_empty());
}

#[test]
fn getaddrinfo_name_with_numerichost_is_a_resolve_error() {
    // AI_NUMERICHOST forbids a lookup, so this fails without any network.
    let err = getaddrinfo(
        Some("localhost"),
        Some("80"),
        0,
        libc::SOCK_STREAM,
        0,
        libc::AI_NUMERICHOST,
    )
    .unwrap_err();
    match err.cause() {
        Cause::Resolve { code, message } => {
            assert_eq!(*code, libc::EAI_NONAME);
            assert!(!message.is_empty());
        }
        other => panic!("expected a resolver error, got {other:?}"),
    }
    assert_eq!(err.errno(), None);
    assert_eq!(err.op(), "getaddrinfo");
}

#[test]
fn getaddrinfo_refuses_nul_in_the_host() {
    let err = getaddrinfo(Some("local\0host"), None, 0, 0, 0, 0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
}

#[test]
fn unknown_invalid_name_is_a_resolve_error_with_a_hint() {
    // ".invalid" is reserved (RFC 2606): it never resolves.
    let err = resolve_one("no-such-host.invalid", 80, Family::Inet).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Resolve, "{err}");
    assert!(matches!(err.cause(), Cause::Resolve { .. }), "{err:?}");
    assert_eq!(err.errno(), None);
    assert!(
        err.target().unwrap().contains("no-such-host.invalid"),
        "{err}"
    );
    assert!(err.to_string().contains("check the host name"), "{err}");
}

#[test]
fn empty_host_is_the_any_address() {
    assert_eq!(
        resolve_one("", 8080, Family::Inet).unwrap(),
        Address::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 8080))
    );
    assert_eq!(
        resolve_one("", 8080, Family::Inet6).unwrap().to_string(),
        "[::]:8080"
    );
    assert_eq!(
        resolve("", 1, None, 0).unwrap(),
        vec![resolve_one("", 1, Family::Inet).unwrap()]
    );
}

#[test]
fn broadcast_host_is_all_ones_and_ipv4_only() {
    assert_eq!(
        resolve_one("<broadcast>", 9, Family::Inet).unwrap(),
        Address::V4(SocketAddrV4::new(Ipv4Addr::BROADCAST, 9))
    );
    let err = resolve_one("<broadcast>", 9, Family::Inet6).unwrap_err();
    assert_eq!(err.errno(), Some(libc::EAFNOSUPPORT), "{err}");
}

#[test]
fn numeric_hosts_are_taken_as_they_are() {
    assert_eq!(
        resolve_one("127.0.0.1", 1, Family::Inet)
            .unwrap()
            .to_string(),
        "127.0.0.1:1"
    );
    let v6 = resolve_one("::1", 2, Family::Inet6).unwrap();
    assert!(matches!(&v6, Address::V6(a) if *a.ip() == Ipv6Addr::LOCALHOST));
    let scoped = resolve("fe80::1%3", 80, None, 0).unwrap();
    assert_eq!(scoped[0].to_string(), "[fe80::1%3]:80");
}

#[test]
fn numeric_host_of_the_other_family_does_not_resolve() {
    assert!(resolve_one("127.0.0.1", 1, Family::Inet6).is_err());
    assert!(resolve_one("::1", 1, Family::Inet).is_err());
}

#[test]
fn unix_family_has_no_host_and_port() {
    let err = resolve_one("localhost", 1, Family::Unix).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
}

#[test]
fn resolve_localhost_lists_each_address_once() {
    let all = resolve("localhost", 80, None, libc::SOCK_STREAM).unwrap();
    assert!(all.contains(&"127.0.0.1:80".parse().unwrap()), "{all:?}");
    let mut unique = all.clone();
    unique.dedup();
    assert_eq!(unique.len(), all.len());
}

#[test]
fn resolve_text_accepts_names_numbers_and_unix_paths() {
    assert_eq!(
        resolve_text("localhost:81", Some(Family::Inet))
            .unwrap()
            .to_string(),
        "127.0.0.1:81"
    );
    assert_eq!(
        resolve_text("[::1]:82", None).unwrap().to_string(),
        "[::1]:82"
    );
    assert_eq!(
        resolve_text("unix:/tmp/chat.sock", None).unwrap(),
        Address::unix("/tmp/chat.sock")
    );
    for bad in ["localhost", "localhost:port", "localhost:70000"] {
        let err = resolve_text(bad, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}: {err}");
    }
}

#[test]
fn gethostbyname_answers_ipv4() {
    assert_eq!(gethostbyname("localhost").unwrap(), Ipv4Addr::LOCALHOST);
    assert_eq!(
        gethostbyname("127.0.0.2").unwrap(),
        Ipv4Addr::new(127, 0, 0, 2)
    );
}

#[test]
fn gethostname_is_a_plain_nonempty_name() {
    let name = gethostname().unwrap();
    assert!(!name.is_empty());
    assert!(!name.contains('\0'));
    assert!(name.len() < 256);
}

#[test]
fn getnameinfo_numeric_gives_the_address_and_port_as_text() {
    let numeric = libc::NI_NUMERICHOST | libc::NI_NUMERICSERV;
    let v4: Address = "127.0.0.1:80".parse().unwrap();
    assert_eq!(
        getnameinfo(&v4, numeric).unwrap(),
        ("127.0.0.1".to_string(), "80".to_string())
    );
    let v6: Address = "[::1]:8080".parse().unwrap();
    assert_eq!(
        getnameinfo(&v6, numeric).unwrap(),
        ("::1".to_string(), "8080".to_string())
    );
}

#[test]
fn getnameinfo_names_a_known_service() {
    let addr: Address = "127.0.0.1:80".parse().unwrap();
    let (host, service) = getnameinfo(&addr, libc::NI_NUMERICHOST).unwrap();
    assert_eq!(host, "127.0.0.1");
    assert_eq!(service, "http");
}

#[test]
fn getnameinfo_of_a_unix_address_is_a_family_error() {
    let err = getnameinfo(&Address::unix("/tmp/x.sock"), 0).unwrap_err();
    match err.cause() {
        Cause::Resolve { code, message } => {
            assert_eq!(*code, libc::EAI_FAMILY);
            assert!(!message.is_empty());
        }
        other => panic!("expected a resolver error, got {other:?}"),
    }
    assert_eq!(err.op(), "getnameinfo");
    assert_eq!(err.errno(), None);
}

#[test]
fn service_port_reads_the_services_database() {
    assert_eq!(service_port("http", Some("tcp")), Some(80));
    assert_eq!(service_port("http", None), Some(80));
    assert_eq!(service_port("domain", Some("udp")), Some(53));
    assert_eq!(service_port("no-such-service", None), None);
    assert_eq!(service_port("http", Some("no-such-proto")), None);
    assert_eq!(service_port("ht\0tp", None), None);
}

#[test]
fn service_name_reads_the_services_database() {
    assert_eq!(service_name(80, Some("tcp")).as_deref(), Some("http"));
    assert_eq!(service_name(80, None).as_deref(), Some("http"));
    assert_eq!(service_name(22, Some("tcp")).as_deref(), Some("ssh"));
    assert_eq!(service_name(80, Some("tc\0p")), None);
}

#[test]
fn protocol_number_reads_the_protocols_database() {
    assert_eq!(protocol_number("tcp"), Some(libc::IPPROTO_TCP));
    assert_eq!(protocol_number("udp"), Some(libc::IPPROTO_UDP));
    assert_eq!(protocol_number("no-such-protocol"), None);
    assert_eq!(protocol_number("t\0cp"), None);
}

#[test]
fn database_lookups_are_safe_from_many_threads() {
    // The answers live in static storage in C; the core's lock keeps each
    // thread's answer its own.
    let threads: Vec<_> = (0..4)
        .map(|i| {
            std::thread::spawn(move || {
                for _ in 0..200 {
                    if i % 2 == 0 {
                        assert_eq!(service_name(80, Some("tcp")).as_deref(), Some("http"));
                        assert_eq!(service_port("ssh", Some("tcp")), Some(22));
                    } else {
                        assert_eq!(service_name(22, Some("tcp")).as_deref(), Some("ssh"));
                        assert_eq!(protocol_number("udp"), Some(libc::IPPROTO_UDP));
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn loopback_interface_index_round_trips() {
    let index = if_nametoindex("lo").unwrap();
    assert!(index > 0);
    assert_eq!(if_indextoname(index).unwrap(), "lo");
    let all = if_nameindex().unwrap();
    assert!(all.contains(&(index, "lo".to_string())), "{all:?}");
}

#[test]
fn unknown_interface_name_is_an_os_error() {
    let err = if_nametoindex("no-such-if0").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Os, "{err}");
    assert_eq!(err.errno(), Some(libc::ENODEV), "{err}");
}
