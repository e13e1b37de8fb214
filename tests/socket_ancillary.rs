//! `sendmsg`/`recvmsg` with control messages, and descriptor passing over
//! Unix sockets (`SCM_RIGHTS`).

mod util;

use std::io::{IoSlice, IoSliceMut, Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use ferrosock::{ControlMessageRef, ErrorKind, Socket, Timeout, MAX_CONTROL_LEN};
use util::{bounded, udp, v4};

/// A Unix stream socketpair, both ends under the test-wide timeout.
fn unix_pair() -> (Socket, Socket) {
    let (a, b) = Socket::pair(libc::AF_UNIX, libc::SOCK_STREAM, 0).unwrap();
    (bounded(a), bounded(b))
}

/// A pipe as (read end, write end).
fn pipe() -> (std::fs::File, std::fs::File) {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: pipe2 succeeded: both descriptors are new and ours.
    unsafe {
        use std::os::fd::FromRawFd;
        (
            std::fs::File::from_raw_fd(fds[0]),
            std::fs::File::from_raw_fd(fds[1]),
        )
    }
}

fn is_cloexec(fd: &OwnedFd) -> bool {
    // SAFETY: fcntl on an open descriptor.
    let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFD) };
    flags >= 0 && flags & libc::FD_CLOEXEC != 0
}

#[test]
fn send_fds_passes_a_pipe_that_works_on_the_other_side() {
    let (a, b) = unix_pair();
    let (reader, mut writer) = pipe();
    let sent = a
        .send_fds(&[IoSlice::new(b"fd!")], &[reader.as_fd()], 0, None)
        .unwrap();
    assert_eq!(sent, 3);
    drop(reader); // the receiver's copy keeps the pipe open

    let mut buf = [0u8; 16];
    let got = b.recv_fds(&mut buf, 4, 0).unwrap();
    assert_eq!(&buf[..got.bytes], b"fd!");
    assert_eq!(got.fds.len(), 1);
    assert_eq!(
        got.flags, 0,
        "no MSG_CTRUNC, and MSG_CMSG_CLOEXEC not echoed"
    );
    assert!(
        is_cloexec(&got.fds[0]),
        "received descriptors are close-on-exec"
    );

    writer.write_all(b"through the pipe").unwrap();
    drop(writer);
    let mut text = String::new();
    std::fs::File::from(got.fds.into_iter().next().unwrap())
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, "through the pipe");
}

#[test]
fn recv_fds_with_too_few_slots_flags_ctrunc_and_returns_only_what_fits() {
    let (a, b) = unix_pair();
    let pipes = [pipe(), pipe(), pipe()];
    let fds: Vec<_> = pipes.iter().map(|(r, _)| r.as_fd()).collect();
    a.send_fds(&[IoSlice::new(b"x")], &fds, 0, None).unwrap();
    let mut buf = [0u8; 4];
    let got = b.recv_fds(&mut buf, 1, 0).unwrap();
    assert_eq!(got.bytes, 1);
    assert_eq!(got.fds.len(), 1);
    assert_ne!(got.flags & libc::MSG_CTRUNC, 0);
}

#[test]
fn send_msg_gathers_buffers_and_recv_msg_scatters_them() {
    let (a, b) = unix_pair();
    let n = a
        .send_msg(
            &[IoSlice::new(b"hello "), IoSlice::new(b"world")],
            &[],
            0,
            None,
        )
        .unwrap();
    assert_eq!(n, 11);
    let (mut first, mut second) = ([0u8; 4], [0u8; 16]);
    let got = b
        .recv_msg(
            &mut [IoSliceMut::new(&mut first), IoSliceMut::new(&mut second)],
            0,
            0,
        )
        .unwrap();
    assert_eq!(got.bytes, 11);
    assert_eq!(&first, b"hell");
    assert_eq!(&second[..7], b"o world");
    assert!(got.control.is_empty());
    assert_eq!(got.address, None, "a connected stream reports no sender");
}

#[test]
fn recv_msg_returns_scm_rights_as_a_control_message() {
    let (a, b) = unix_pair();
    let (reader, _writer) = pipe();
    let raw = reader.as_raw_fd().to_ne_bytes();
    let rights = ControlMessageRef {
        level: libc::SOL_SOCKET,
        kind: libc::SCM_RIGHTS,
        data: &raw,
    };
    a.send_msg(&[IoSlice::new(b"m")], &[rights], 0, None)
        .unwrap();
    let mut buf = [0u8; 4];
    // SAFETY: CMSG_SPACE is arithmetic.
    let space = unsafe { libc::CMSG_SPACE(4) } as usize;
    let got = b
        .recv_msg(&mut [IoSliceMut::new(&mut buf)], space, 0)
        .unwrap();
    assert_eq!(got.control.len(), 1);
    let fds = got.control[0].rights();
    assert_eq!(fds.len(), 1);
    assert!(!got.is_control_truncated());
    // The caller owns what recv_msg delivers.
    // SAFETY: the descriptor was just received and nothing else owns it.
    drop(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fds[0]) });
}

#[test]
fn udp_send_msg_to_an_address_and_recv_msg_reports_sender_and_truncation() {
    let (a, a_addr) = udp(&v4(0));
    let (b, b_addr) = udp(&v4(0));
    let (a, b) = (bounded(a), bounded(b));
    let n = a
        .send_msg(
            &[IoSlice::new(b"dat"), IoSlice::new(b"agram")],
            &[],
            0,
            Some(&b_addr),
        )
        .unwrap();
    assert_eq!(n, 8);
    let mut buf = [0u8; 4];
    let got = b.recv_msg(&mut [IoSliceMut::new(&mut buf)], 0, 0).unwrap();
    assert_eq!(got.bytes, 4);
    assert_eq!(&buf, b"data");
    assert!(got.is_truncated());
    assert_eq!(got.address, Some(a_addr));
}

#[test]
fn recv_msg_times_out_and_nonblocking_would_block() {
    let (_a, b) = unix_pair();
    b.set_timeout(Timeout::After(Duration::from_millis(50)))
        .unwrap();
    let mut buf = [0u8; 4];
    let start = Instant::now();
    let err = b
        .recv_msg(&mut [IoSliceMut::new(&mut buf)], 64, 0)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert!(start.elapsed() >= Duration::from_millis(50));

    b.set_timeout(Timeout::NonBlocking).unwrap();
    let err = b.recv_fds(&mut buf, 1, 0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WouldBlock);
    let err = b
        .try_recv_msg(&mut [IoSliceMut::new(&mut buf)], 0, 0)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WouldBlock);
}

#[test]
fn closed_sockets_and_oversized_control_buffers_are_errors() {
    let (a, b) = unix_pair();
    let mut buf = [0u8; 4];
    let err = b
        .recv_msg(&mut [IoSliceMut::new(&mut buf)], MAX_CONTROL_LEN + 1, 0)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let err = b.recv_fds(&mut buf, usize::MAX / 2, 0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);

    a.close().unwrap();
    let err = a.send_msg(&[IoSlice::new(b"x")], &[], 0, None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Closed);
    let err = a.recv_fds(&mut buf, 1, 0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Closed);
}
