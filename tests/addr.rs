//! Addresses: their text form and conversions.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV6};

use ferrosock::{Address, ErrorKind, Family, UnixAddr};

#[test]
fn text_form_round_trips() {
    for text in [
        "127.0.0.1:8080",
        "0.0.0.0:0",
        "[::1]:8080",
        "[::]:0",
        "[fe80::1%2]:80",
        "unix:/tmp/x.sock",
        "unix:@chat",
    ] {
        let addr: Address = text.parse().unwrap();
        assert_eq!(addr.to_string(), text);
    }
}

#[test]
fn text_form_refuses_names_and_garbage_with_a_reason() {
    for bad in [
        "localhost:80",
        "127.0.0.1",
        "127.0.0.1:65536",
        "::1:80",
        "[::1]80",
        "unix:",
        "",
    ] {
        let err = bad.parse::<Address>().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}: {err}");
    }
    let err = "localhost:80".parse::<Address>().unwrap_err();
    assert!(err.to_string().contains("resolve"), "{err}");
}

#[test]
fn converts_from_and_to_std_addresses() {
    let std_addr: SocketAddr = "127.0.0.1:9000".parse().unwrap();
    let addr = Address::from(std_addr);
    assert_eq!(addr.family(), Family::Inet);
    assert_eq!(addr.port(), Some(9000));
    assert_eq!(addr.as_socket_addr(), Some(std_addr));
    let v6 = Address::from(SocketAddrV6::new("::1".parse().unwrap(), 1, 0, 0));
    assert_eq!(v6.family(), Family::Inet6);
    assert_eq!(Address::unix("/x").as_socket_addr(), None);
}

#[test]
fn sockaddr_round_trips_for_every_kind() {
    for addr in [
        Address::ip(SocketAddr::from((Ipv4Addr::LOCALHOST, 5))),
        "[::1]:6".parse().unwrap(),
        Address::unix("/tmp/y.sock"),
        Address::unix_abstract(b"abs\x01name"),
    ] {
        let back = Address::from_sockaddr(&addr.to_sockaddr().unwrap()).unwrap();
        assert_eq!(back, addr);
    }
}

#[test]
fn unnamed_unix_address_cannot_be_a_destination() {
    let err = Address::Unix(UnixAddr::Unnamed).to_sockaddr().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
}

#[test]
fn family_numbers_match_libc() {
    for fam in [Family::Inet, Family::Inet6, Family::Unix] {
        assert_eq!(Family::from_raw(fam.raw()), Some(fam));
    }
    assert_eq!(Family::Inet.raw(), libc::AF_INET);
    assert_eq!(Family::from_raw(libc::AF_PACKET), None);
}
