//! Message framing: codecs, the incremental decoder and `FramedSocket`, over
//! real loopback sockets (Unix socket pairs and TCP on 127.0.0.1).
//!
//! Test names say the case they prove, after tokio-util's codec tests.

mod util;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Duration;

#[cfg(feature = "json")]
use ferrosock::framing::{from_json, to_json, ChatMessage};
use ferrosock::framing::{
    Codec, CrLf, Delimited, Endian, FrameDecoder, FramedSocket, HeaderWidth, LengthCounts,
    LengthPrefixed, DEFAULT_MAX_FRAME_SIZE, DEFAULT_MAX_LINE_SIZE,
};
use ferrosock::{socketpair, Cause, ErrorKind, Socket, Timeout};
use util::tcp_pair;

// ----- helpers ---------------------------------------------------------------

/// Records the largest single allocation made by each thread, to prove that
/// a huge declared length is refused without allocating for it.
struct Tracking;

thread_local! {
    static LARGEST_ALLOCATION: Cell<usize> = const { Cell::new(0) };
}

fn note_allocation(size: usize) {
    let _ = LARGEST_ALLOCATION.try_with(|largest| largest.set(largest.get().max(size)));
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// bookkeeping touches only a const-initialised thread-local Cell, which
// neither allocates nor panics.
unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation(layout.size());
        // SAFETY: same contract as this method's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation(layout.size());
        // SAFETY: same contract as this method's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation(new_size);
        // SAFETY: same contract as this method's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as this method's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Tracking = Tracking;

/// Both kinds of stream the framing runs over.
fn pairs() -> Vec<(&'static str, Socket, Socket)> {
    let (a, b) = socketpair().unwrap();
    let (c, d) = tcp_pair();
    vec![("unix", a, b), ("tcp", c, d)]
}

fn every_length_setting() -> Vec<LengthPrefixed> {
    let mut all = Vec::new();
    for width in [
        HeaderWidth::U8,
        HeaderWidth::U16,
        HeaderWidth::U32,
        HeaderWidth::U64,
    ] {
        for endian in [Endian::Big, Endian::Little] {
            for counts in [LengthCounts::Body, LengthCounts::HeaderAndBody] {
                all.push(
                    LengthPrefixed::new()
                        .with_header(width, endian)
                        .with_length_counts(counts),
                );
            }
        }
    }
    all
}

/// Sends `frames` from `a` and receives them on `b`, both framed with
/// `codec`: each must arrive whole, in order, with nothing left over.
#[track_caller]
fn assert_round_trip(kind: &str, a: &Socket, b: &Socket, codec: Codec, frames: &[&[u8]]) {
    let mut tx = FramedSocket::new(a, codec.clone());
    let mut rx = FramedSocket::new(b, codec.clone());
    for frame in frames {
        tx.send_frame(frame).unwrap();
    }
    for frame in frames {
        assert_eq!(
            rx.recv_frame().unwrap().as_deref(),
            Some(*frame),
            "{kind} {codec:?}"
        );
    }
    assert_eq!(rx.decoder().buffered(), 0, "{kind} {codec:?}");
}

fn encode_all(codec: &Codec, frames: &[&[u8]]) -> Vec<u8> {
    let mut wire = Vec::new();
    for frame in frames {
        codec.encode(frame, &mut wire).unwrap();
    }
    wire
}

fn cause_of<T: std::fmt::Debug>(result: ferrosock::Result<T>) -> Cause {
    match result {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => match e.cause() {
            Cause::FrameTooLarge { limit, declared } => Cause::FrameTooLarge {
                limit: *limit,
                declared: *declared,
            },
            Cause::MalformedHeader {
                declared,
                header_len,
            } => Cause::MalformedHeader {
                declared: *declared,
                header_len: *header_len,
            },
            Cause::IncompleteFrame { expected, received } => Cause::IncompleteFrame {
                expected: *expected,
                received: *received,
            },
            Cause::InvalidMessage(m) => Cause::InvalidMessage(m.clone()),
            Cause::InvalidInput(m) => Cause::InvalidInput(m.clone()),
            Cause::TimedOut => Cause::TimedOut,
            Cause::WouldBlock => Cause::WouldBlock,
            other => panic!("unexpected cause {other:?}"),
        },
    }
}

// ----- defaults and byte-level vectors -----------------------------------

#[test]
fn defaults_are_documented_values() {
    let lp = LengthPrefixed::default();
    assert_eq!(lp.header_width(), HeaderWidth::U32);
    assert_eq!(lp.endian(), Endian::Big);
    assert_eq!(lp.length_counts(), LengthCounts::Body);
    assert_eq!(lp.max_frame_size(), DEFAULT_MAX_FRAME_SIZE);
    assert_eq!(DEFAULT_MAX_FRAME_SIZE, 8 * 1024 * 1024);
    let d = Delimited::default();
    assert_eq!(d.delimiter(), b"\n");
    assert_eq!(d.crlf(), CrLf::Keep);
    assert_eq!(d.max_frame_size(), DEFAULT_MAX_LINE_SIZE);
    assert_eq!(DEFAULT_MAX_LINE_SIZE, 64 * 1024);
    assert_eq!(Codec::default(), Codec::LengthPrefixed(lp));
}

#[test]
fn python_struct_pack_big_endian_frame_decodes_and_encodes_identically() {
    // Python: struct.pack('>I', len(b'hello')) + b'hello'
    let python = b"\x00\x00\x00\x05hello";
    let mut decoder = FrameDecoder::new(LengthPrefixed::new());
    decoder.push(python);
    assert_eq!(decoder.next_frame().unwrap().unwrap(), b"hello");
    assert_eq!(decoder.next_frame_at_eof().unwrap(), None);

    let mut wire = Vec::new();
    LengthPrefixed::new().encode(b"hello", &mut wire).unwrap();
    assert_eq!(wire, python);
}

#[test]
fn header_bytes_match_python_struct_formats() {
    let cases: [(LengthPrefixed, &[u8], &[u8]); 6] = [
        // struct.pack('B', 3) + b'abc'
        (
            LengthPrefixed::new().with_header(HeaderWidth::U8, Endian::Big),
            b"abc",
            b"\x03abc",
        ),
        // struct.pack('<H', 3) + b'abc'
        (
            LengthPrefixed::new().with_header(HeaderWidth::U16, Endian::Little),
            b"abc",
            b"\x03\x00abc",
        ),
        // struct.pack('>H', 2 + 3) + b'abc': the length counts the header
        (
            LengthPrefixed::new()
                .with_header(HeaderWidth::U16, Endian::Big)
                .with_length_counts(LengthCounts::HeaderAndBody),
            b"abc",
            b"\x00\x05abc",
        ),
        // struct.pack('<I', 2) + b'hi'
        (
            LengthPrefixed::new().with_header(HeaderWidth::U32, Endian::Little),
            b"hi",
            b"\x02\x00\x00\x00hi",
        ),
        // struct.pack('>Q', 2) + b'hi'
        (
            LengthPrefixed::new().with_header(HeaderWidth::U64, Endian::Big),
            b"hi",
            b"\x00\x00\x00\x00\x00\x00\x00\x02hi",
        ),
        // struct.pack('<Q', 8 + 2) + b'hi'
        (
            LengthPrefixed::new()
                .with_header(HeaderWidth::U64, Endian::Little)
                .with_length_counts(LengthCounts::HeaderAndBody),
            b"hi",
            b"\x0a\x00\x00\x00\x00\x00\x00\x00hi",
        ),
    ];
    for (codec, body, wire) in cases {
        let mut out = Vec::new();
        codec.encode(body, &mut out).unwrap();
        assert_eq!(out, wire, "{codec:?}");
        let mut decoder = FrameDecoder::new(codec);
        decoder.push(wire);
        assert_eq!(decoder.next_frame().unwrap().unwrap(), body, "{codec:?}");
    }
}

#[test]
#[cfg(feature = "json")]
fn python_json_line_decodes_as_chat_message() {
    // Python: (json.dumps({"name": "张三", "msg": "你好", "time": "2024-2-24"}) + "\n").encode()
    let python =
        b"{\"name\": \"\\u5f20\\u4e09\", \"msg\": \"\\u4f60\\u597d\", \"time\": \"2024-2-24\"}\n";
    let mut decoder = FrameDecoder::new(Delimited::lines());
    decoder.push(python);
    let frame = decoder.next_frame().unwrap().unwrap();
    let msg: ChatMessage = from_json(&frame).unwrap();
    assert_eq!(msg, ChatMessage::new("张三", "你好", "2024-2-24"));
    // And ours, which Python's json.loads reads back to the same dict.
    assert_eq!(
        to_json(&msg).unwrap(),
        "{\"name\":\"张三\",\"msg\":\"你好\",\"time\":\"2024-2-24\"}".as_bytes()
    );
}

// ----- round trips -----------------------------------------------------------

#[test]
fn round_trip_every_length_prefixed_setting_over_unix_and_tcp() {
    let long = vec![0xA5u8; 254]; // the most a 1-byte header counting itself allows
    let frames: [&[u8]; 4] = [b"", b"a", b"hello world", &long];
    for (kind, a, b) in pairs() {
        for codec in every_length_setting() {
            assert_round_trip(kind, &a, &b, codec.into(), &frames);
        }
    }
}

#[test]
fn round_trip_delimiters_single_and_multi_byte_over_unix_and_tcp() {
    let codecs = [
        Delimited::lines(),
        Delimited::new(b"\r\n".to_vec()).unwrap(),
        Delimited::new(b"\0".to_vec()).unwrap(),
        Delimited::new(b"<END>".to_vec()).unwrap(),
        Delimited::lines().with_crlf(CrLf::Strip),
    ];
    let frames: [&[u8]; 5] = [
        b"hello",
        b"",
        b"with\rcarriage\rreturns inside",
        b"<EN",
        b"E>ND",
    ];
    for (kind, a, b) in pairs() {
        for codec in &codecs {
            assert_round_trip(kind, &a, &b, codec.clone().into(), &frames);
        }
    }
}

#[test]
fn zero_length_frames_round_trip() {
    let (a, b) = socketpair().unwrap();
    for codec in [Codec::default(), Delimited::lines().into()] {
        let mut tx = FramedSocket::new(&a, codec.clone());
        let mut rx = FramedSocket::new(&b, codec);
        tx.send_frame(b"").unwrap();
        tx.send_frame(b"").unwrap();
        assert_eq!(rx.recv_frame().unwrap(), Some(Vec::new()));
        assert_eq!(rx.recv_frame().unwrap(), Some(Vec::new()));
    }
}

#[test]
fn large_frame_round_trips_over_tcp_while_sender_blocks() {
    // 3 MiB is more than the socket buffers hold, so the sender blocks until
    // the receiver drains, and the frame arrives in many pieces.
    let body: Vec<u8> = (0..3 * 1024 * 1024).map(|i| (i * 7 % 251) as u8).collect();
    let (a, b) = tcp_pair();
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut tx = FramedSocket::new(&a, LengthPrefixed::new());
            tx.send_frame(&body).unwrap();
            tx.send_frame(b"after").unwrap();
        });
        let mut rx = FramedSocket::new(&b, LengthPrefixed::new());
        assert!(rx.recv_frame().unwrap().unwrap() == body);
        assert_eq!(rx.recv_frame().unwrap().unwrap(), b"after");
    });
}

#[test]
fn crlf_strip_accepts_both_line_endings() {
    let mut decoder = FrameDecoder::new(Delimited::lines().with_crlf(CrLf::Strip));
    decoder.push(b"telnet\r\nunix\n\r\n");
    assert_eq!(decoder.next_frame().unwrap().unwrap(), b"telnet");
    assert_eq!(decoder.next_frame().unwrap().unwrap(), b"unix");
    assert_eq!(decoder.next_frame().unwrap().unwrap(), b"");
    assert_eq!(decoder.next_frame().unwrap(), None);
}

#[test]
fn crlf_keep_returns_the_carriage_return() {
    let mut decoder = FrameDecoder::new(Delimited::lines());
    decoder.push(b"telnet\r\n");
    assert_eq!(decoder.next_frame().unwrap().unwrap(), b"telnet\r");
}

#[test]
fn crlf_strip_split_between_cr_and_lf() {
    let mut decoder = FrameDecoder::new(Delimited::lines().with_crlf(CrLf::Strip));
    decoder.push(b"abc\r");
    assert_eq!(decoder.next_frame().unwrap(), None);
    decoder.push(b"\n");
    assert_eq!(decoder.next_frame().unwrap().unwrap(), b"abc");
}

// ----- encoder refusals ----------------------------------------------------

#[test]
fn encode_refuses_frames_over_the_limit_without_writing() {
    let mut out = b"kept".to_vec();
    let lp = LengthPrefixed::new().with_max_frame_size(4);
    assert!(matches!(
        cause_of(lp.encode(b"12345", &mut out)),
        Cause::FrameTooLarge {
            limit: 4,
            declared: Some(5)
        }
    ));
    let d = Delimited::lines().with_max_frame_size(4);
    assert!(matches!(
        cause_of(d.encode(b"12345", &mut out)),
        Cause::FrameTooLarge {
            limit: 4,
            declared: Some(5)
        }
    ));
    assert_eq!(out, b"kept");
}

#[test]
fn encode_refuses_frames_the_header_is_too_narrow_for() {
    let mut out = Vec::new();
    let u8_body = LengthPrefixed::new().with_header(HeaderWidth::U8, Endian::Big);
    assert_eq!(u8_body.effective_max_frame_size(), 255);
    u8_body.encode(&[0; 255], &mut out).unwrap();
    assert!(matches!(
        cause_of(u8_body.encode(&[0; 256], &mut out)),
        Cause::FrameTooLarge {
            limit: 255,
            declared: Some(256)
        }
    ));
    let u8_total = u8_body.with_length_counts(LengthCounts::HeaderAndBody);
    assert_eq!(u8_total.effective_max_frame_size(), 254);
    assert!(matches!(
        cause_of(u8_total.encode(&[0; 255], &mut out)),
        Cause::FrameTooLarge { limit: 254, .. }
    ));
}

#[test]
fn encode_refuses_frame_containing_the_delimiter() {
    let mut out = Vec::new();
    let err = Delimited::lines()
        .encode(b"two\nlines", &mut out)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(out.is_empty());
    // "a" + delimiter "aa" would be read back as an empty frame, then junk.
    let aa = Delimited::new(b"aa".to_vec()).unwrap();
    assert_eq!(
        aa.encode(b"xa", &mut out).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert!(out.is_empty());
    // Under CrLf::Strip a trailing '\r' would vanish.
    let strip = Delimited::lines().with_crlf(CrLf::Strip);
    assert_eq!(
        strip.encode(b"x\r", &mut out).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

#[test]
fn empty_delimiter_is_refused() {
    assert_eq!(
        Delimited::new(Vec::new()).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

#[test]
fn send_frame_refuses_oversized_frame_and_sends_nothing() {
    let (a, b) = socketpair().unwrap();
    let mut tx = FramedSocket::new(&a, LengthPrefixed::new().with_max_frame_size(3));
    let err = tx.send_frame(b"1234").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::FrameTooLarge);
    assert_eq!(err.op(), "send_frame");
    assert_eq!(err.errno(), Some(libc::EMSGSIZE));
    assert_eq!(
        err.to_string(),
        "send_frame: frame too large: 4 bytes, over the limit of 3; \
         split the message, or raise max_frame_size on both ends"
    );
    tx.send_frame(b"123").unwrap();
    let mut rx = FramedSocket::new(&b, LengthPrefixed::new());
    assert_eq!(rx.recv_frame().unwrap().unwrap(), b"123");
}

// ----- split and merged reads ----------------------------------------------

#[test]
fn read_single_frame_multi_packet() {
    for (kind, a, b) in pairs() {
        let mut rx = FramedSocket::new(&b, LengthPrefixed::new());
        for piece in [&b"\x00\x00"[..], b"\x00\x0b", b"hello", b" wor"] {
            a.send_all(piece, 0).unwrap();
            // Never a frame before its last byte; what arrived stays buffered.
            assert_eq!(
                rx.try_recv_frame().unwrap_err().kind(),
                ErrorKind::WouldBlock,
                "{kind}"
            );
        }
        a.send_all(b"ld", 0).unwrap();
        assert_eq!(rx.recv_frame().unwrap().unwrap(), b"hello world", "{kind}");
    }
}

#[test]
fn read_multi_frames_single_packet() {
    for (kind, a, b) in pairs() {
        for codec in [Codec::default(), Delimited::lines().into()] {
            let wire = encode_all(&codec, &[b"one", b"two", b"three"]);
            a.send_all(&wire, 0).unwrap(); // one send: 粘包 on purpose
            let mut rx = FramedSocket::new(&b, codec.clone());
            assert_eq!(rx.recv_frame().unwrap().unwrap(), b"one", "{kind}");
            assert_eq!(rx.recv_frame().unwrap().unwrap(), b"two", "{kind}");
            assert_eq!(rx.recv_frame().unwrap().unwrap(), b"three", "{kind}");
            assert_eq!(rx.decoder().buffered(), 0);
        }
    }
}

#[test]
fn read_incomplete_head() {
    let (a, b) = socketpair().unwrap();
    let mut rx = FramedSocket::new(&b, LengthPrefixed::new());
    a.send_all(b"\x00\x00", 0).unwrap();
    assert_eq!(
        rx.try_recv_frame().unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
    assert_eq!(rx.decoder().buffered(), 2);
    a.send_all(b"\x00\x02hi", 0).unwrap();
    assert_eq!(rx.recv_frame().unwrap().unwrap(), b"hi");
}

#[test]
fn read_one_byte_per_push_for_every_codec() {
    let mut codecs: Vec<Codec> = every_length_setting()
        .into_iter()
        .map(Codec::from)
        .collect();
    codecs.push(Delimited::new(b"--".to_vec()).unwrap().into());
    codecs.push(Delimited::lines().with_crlf(CrLf::Strip).into());
    for codec in codecs {
        let frames: [&[u8]; 3] = [b"first", b"", b"-third frame"];
        let wire = encode_all(&codec, &frames);
        let mut decoder = FrameDecoder::new(codec.clone());
        let mut got = Vec::new();
        for byte in &wire {
            decoder.push(std::slice::from_ref(byte));
            while let Some(frame) = decoder.next_frame().unwrap() {
                got.push(frame);
            }
        }
        assert_eq!(got, frames, "{codec:?}");
        assert_eq!(decoder.next_frame_at_eof().unwrap(), None);
    }
}

#[test]
fn read_max_frame_len() {
    for (kind, a, b) in pairs() {
        // Exactly the limit passes, one byte more does not.
        let limit = 1000;
        let tx_codec = LengthPrefixed::new();
        let mut tx = FramedSocket::new(&a, tx_codec);
        let mut rx = FramedSocket::new(&b, tx_codec.with_max_frame_size(limit));
        tx.send_frame(&vec![1; limit]).unwrap();
        assert_eq!(rx.recv_frame().unwrap().unwrap().len(), limit, "{kind}");
        tx.send_frame(&vec![2; limit + 1]).unwrap();
        assert!(
            matches!(
                cause_of(rx.recv_frame()),
                Cause::FrameTooLarge {
                    limit: 1000,
                    declared: Some(1001)
                }
            ),
            "{kind}"
        );
    }
}

#[test]
fn read_max_line_len() {
    let (a, b) = socketpair().unwrap();
    let mut rx = FramedSocket::new(&b, Delimited::lines().with_max_frame_size(8));
    a.send_all(b"12345678\n", 0).unwrap();
    assert_eq!(rx.recv_frame().unwrap().unwrap(), b"12345678");
    a.send_all(b"123456789\n", 0).unwrap();
    assert!(matches!(
        cause_of(rx.recv_frame()),
        Cause::FrameTooLarge {
            limit: 8,
            declared: None
        }
    ));
}

#[test]
fn line_over_limit_without_delimiter_fails_without_buffering_more() {
    let (a, b) = socketpair().unwrap();
    let limit = 100;
    let codec = Delimited::lines().with_max_frame_size(limit);
    let mut rx = FramedSocket::new(&b, codec);
    a.send_all(&vec![b'x'; 10 * limit], 0).unwrap();
    let err = rx.recv_frame().unwrap_err();
    assert!(matches!(
        err.cause(),
        Cause::FrameTooLarge {
            limit: 100,
            declared: None
        }
    ));
    // It read no further than the limit plus the delimiter.
    assert_eq!(rx.decoder().buffered(), limit + 1);
    // And it stays failed rather than reading on.
    assert_eq!(
        rx.recv_frame().unwrap_err().kind(),
        ErrorKind::FrameTooLarge
    );
    assert_eq!(rx.decoder().buffered(), limit + 1);
}

#[test]
fn oversized_declared_length_rejected_without_allocation() {
    let (a, b) = socketpair().unwrap();
    let codec = LengthPrefixed::new().with_header(HeaderWidth::U64, Endian::Big);
    let mut rx = FramedSocket::new(&b, codec);
    a.send_all(&u64::MAX.to_be_bytes(), 0).unwrap();
    a.send_all(b"some body bytes", 0).unwrap();
    LARGEST_ALLOCATION.with(|l| l.set(0));
    let err = rx.recv_frame().unwrap_err();
    let largest = LARGEST_ALLOCATION.with(|l| l.get());
    assert!(matches!(
        err.cause(),
        Cause::FrameTooLarge {
            limit,
            declared: Some(u64::MAX)
        } if *limit == DEFAULT_MAX_FRAME_SIZE as u64
    ));
    assert!(largest < 1024 * 1024, "allocated {largest} bytes");
    assert!(rx.decoder().capacity() < 1024 * 1024);
    let text = err.to_string();
    assert!(text.starts_with("recv_frame: frame too large: "), "{text}");
    assert!(text.contains("max_frame_size"), "{text}");
}

#[test]
fn oversized_declared_length_counting_the_header_is_rejected_too() {
    let codec = LengthPrefixed::new()
        .with_header(HeaderWidth::U32, Endian::Little)
        .with_length_counts(LengthCounts::HeaderAndBody)
        .with_max_frame_size(16);
    let mut decoder = FrameDecoder::new(codec);
    decoder.push(&(4u32 + 17).to_le_bytes());
    assert!(matches!(
        cause_of(decoder.next_frame()),
        Cause::FrameTooLarge {
            limit: 16,
            declared: Some(17)
        }
    ));
}

#[test]
fn malformed_header_declares_less_than_itself() {
    let (a, b) = socketpair().unwrap();
    let codec = LengthPrefixed::new().with_length_counts(LengthCounts::HeaderAndBody);
    let mut rx = FramedSocket::new(&b, codec);
    a.send_all(b"\x00\x00\x00\x03abc", 0).unwrap();
    let err = rx.recv_frame().unwrap_err();
    assert!(matches!(
        err.cause(),
        Cause::MalformedHeader {
            declared: 3,
            header_len: 4
        }
    ));
    assert_eq!(err.errno(), Some(libc::EPROTO));
    // Exactly the header's size is an empty body, not malformed.
    let mut decoder = FrameDecoder::new(codec);
    decoder.push(b"\x00\x00\x00\x04");
    assert_eq!(decoder.next_frame().unwrap(), Some(Vec::new()));
}

// ----- end of stream -------------------------------------------------------

#[test]
fn peer_closes_mid_frame_is_incomplete_frame() {
    for (kind, a, b) in pairs() {
        a.send_all(b"\x00\x00\x00\x0ahel", 0).unwrap();
        a.close().unwrap();
        let mut rx = FramedSocket::new(&b, LengthPrefixed::new());
        let err = rx.recv_frame().unwrap_err();
        assert!(
            matches!(
                err.cause(),
                Cause::IncompleteFrame {
                    expected: Some(14),
                    received: 7
                }
            ),
            "{kind}: {err}"
        );
        assert_eq!(err.kind(), ErrorKind::IncompleteFrame);
        assert_eq!(err.errno(), Some(libc::ECONNRESET));
    }
}

#[test]
fn peer_closes_mid_header_is_incomplete_frame_of_unknown_size() {
    let (a, b) = socketpair().unwrap();
    a.send_all(b"\x00\x00", 0).unwrap();
    a.close().unwrap();
    let mut rx = FramedSocket::new(&b, LengthPrefixed::new());
    assert!(matches!(
        cause_of(rx.recv_frame()),
        Cause::IncompleteFrame {
            expected: None,
            received: 2
        }
    ));
}

#[test]
fn peer_closes_mid_line_is_incomplete_frame() {
    let (a, b) = socketpair().unwrap();
    a.send_all(b"whole\npart", 0).unwrap();
    a.close().unwrap();
    let mut rx = FramedSocket::new(&b, Delimited::lines());
    assert_eq!(rx.recv_frame().unwrap().unwrap(), b"whole");
    assert!(matches!(
        cause_of(rx.recv_frame()),
        Cause::IncompleteFrame {
            expected: None,
            received: 4
        }
    ));
}

#[test]
fn clean_eof_between_frames_is_none() {
    for (kind, a, b) in pairs() {
        let mut tx = FramedSocket::new(&a, LengthPrefixed::new());
        tx.send_frame(b"last").unwrap();
        tx.send_frame(b"words").unwrap();
        drop(tx);
        a.close().unwrap();
        let mut rx = FramedSocket::new(&b, LengthPrefixed::new());
        assert_eq!(rx.recv_frame().unwrap().unwrap(), b"last", "{kind}");
        assert_eq!(rx.recv_frame().unwrap().unwrap(), b"words", "{kind}");
        assert_eq!(rx.recv_frame().unwrap(), None, "{kind}");
        assert_eq!(rx.recv_frame().unwrap(), None, "{kind}: stays at the end");
        assert_eq!(rx.recv_line().unwrap(), None, "{kind}");
        assert_eq!(rx.recv_exactly(3).unwrap(), None, "{kind}");
    }
}

#[test]
fn decoder_at_eof_returns_buffered_frames_first() {
    let mut decoder = FrameDecoder::new(Delimited::lines());
    decoder.push(b"a\nb\n");
    assert_eq!(decoder.next_frame_at_eof().unwrap().unwrap(), b"a");
    assert_eq!(decoder.next_frame_at_eof().unwrap().unwrap(), b"b");
    assert_eq!(decoder.next_frame_at_eof().unwrap(), None);
}

// ----- timeouts and non-blocking -------------------------------------------

#[test]
fn timeout_mid_frame_keeps_the_partial_frame_and_a_later_call_completes_it() {
    for (kind, a, b) in pairs() {
        b.set_timeout(Timeout::After(Duration::from_millis(50)))
            .unwrap();
        let mut rx = FramedSocket::new(&b, LengthPrefixed::new());
        a.send_all(b"\x00\x00\x00\x0bhello", 0).unwrap();
        let err = rx.recv_frame().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimedOut, "{kind}: {err}");
        assert_eq!(rx.decoder().buffered(), 9, "{kind}");
        a.send_all(b" world", 0).unwrap();
        assert_eq!(rx.recv_frame().unwrap().unwrap(), b"hello world", "{kind}");
    }
}

#[test]
fn timeout_mid_line_keeps_the_partial_line() {
    let (a, b) = socketpair().unwrap();
    b.set_timeout(Timeout::After(Duration::from_millis(50)))
        .unwrap();
    let mut rx = FramedSocket::new(&b, Delimited::lines());
    a.send_all(b"{\"name\":", 0).unwrap();
    assert_eq!(rx.recv_frame().unwrap_err().kind(), ErrorKind::TimedOut);
    a.send_all(b"1}\n", 0).unwrap();
    assert_eq!(rx.recv_frame().unwrap().unwrap(), b"{\"name\":1}");
}

#[test]
fn non_blocking_socket_gives_would_block_and_keeps_bytes() {
    let (a, b) = socketpair().unwrap();
    b.set_timeout(Timeout::NonBlocking).unwrap();
    let mut rx = FramedSocket::new(&b, Delimited::lines());
    assert_eq!(rx.recv_frame().unwrap_err().kind(), ErrorKind::WouldBlock);
    a.send_all(b"par", 0).unwrap();
    assert_eq!(rx.recv_frame().unwrap_err().kind(), ErrorKind::WouldBlock);
    a.send_all(b"tial\n", 0).unwrap();
    assert_eq!(rx.recv_frame().unwrap().unwrap(), b"partial");
}

#[test]
fn try_recv_frame_never_waits_on_a_blocking_socket() {
    let (a, b) = socketpair().unwrap();
    assert_eq!(b.timeout(), Timeout::Blocking);
    let mut rx = FramedSocket::new(&b, LengthPrefixed::new());
    assert_eq!(
        rx.try_recv_frame().unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
    let mut tx = FramedSocket::new(&a, LengthPrefixed::new());
    tx.send_frame(b"ready").unwrap();
    assert_eq!(rx.try_recv_frame().unwrap().unwrap(), b"ready");
    a.close().unwrap();
    assert_eq!(rx.try_recv_frame().unwrap(), None);
}

// ----- raw reads beside the codec ------------------------------------------

#[test]
fn recv_exactly_takes_raw_bytes_then_frames_continue() {
    let (a, b) = socketpair().unwrap();
    // A 4-byte magic number, then frames: one send, so the frame bytes are
    // buffered by recv_exactly's read.
    let mut wire = b"FSK1".to_vec();
    LengthPrefixed::new().encode(b"framed", &mut wire).unwrap();
    a.send_all(&wire, 0).unwrap();
    let mut rx = FramedSocket::new(&b, LengthPrefixed::new());
    assert_eq!(rx.recv_exactly(4).unwrap().unwrap(), b"FSK1");
    assert_eq!(rx.recv_frame().unwrap().unwrap(), b"framed");
    assert_eq!(rx.recv_exactly(0).unwrap().unwrap(), b"");
}

#[test]
fn recv_exactly_cut_short_is_incomplete_frame() {
    let (a, b) = socketpair().unwrap();
    a.send_all(b"abc", 0).unwrap();
    a.close().unwrap();
    let mut rx = FramedSocket::new(&b, LengthPrefixed::new());
    assert!(matches!(
        cause_of(rx.recv_exactly(5)),
        Cause::IncompleteFrame {
            expected: Some(5),
            received: 3
        }
    ));
}

#[test]
fn recv_exactly_across_a_timeout_loses_nothing() {
    let (a, b) = socketpair().unwrap();
    b.set_timeout(Timeout::After(Duration::from_millis(50)))
        .unwrap();
    let mut rx = FramedSocket::new(&b, LengthPrefixed::new());
    a.send_all(b"12", 0).unwrap();
    assert_eq!(rx.recv_exactly(4).unwrap_err().kind(), ErrorKind::TimedOut);
    a.send_all(b"34", 0).unwrap();
    assert_eq!(rx.recv_exactly(4).unwrap().unwrap(), b"1234");
}

#[test]
fn recv_line_reads_lines_whatever_the_codec() {
    let (a, b) = socketpair().unwrap();
    let mut wire = b"HELLO ferrosock/1\nsecond line\n".to_vec();
    LengthPrefixed::new()
        .encode(b"then frames", &mut wire)
        .unwrap();
    a.send_all(&wire, 0).unwrap();
    let mut rx = FramedSocket::new(&b, LengthPrefixed::new());
    assert_eq!(rx.recv_line().unwrap().unwrap(), b"HELLO ferrosock/1");
    assert_eq!(rx.recv_line().unwrap().unwrap(), b"second line");
    assert_eq!(rx.recv_frame().unwrap().unwrap(), b"then frames");
}

// ----- JSON ----------------------------------------------------------------

#[test]
#[cfg(feature = "json")]
fn json_chat_message_round_trip_over_tcp_with_both_codecs() {
    let msg = ChatMessage::new("张三", "你好", "2024-2-24");
    for codec in [Codec::from(Delimited::lines()), Codec::default()] {
        let (a, b) = tcp_pair();
        let mut tx = FramedSocket::new(a, codec.clone());
        let mut rx = FramedSocket::new(b, codec.clone());
        tx.send_json(&msg).unwrap();
        tx.send_json(&ChatMessage::new(
            "李四",
            "line\nbreak \"quoted\"",
            "2024-2-25",
        ))
        .unwrap();
        assert_eq!(rx.recv_json::<ChatMessage>().unwrap().unwrap(), msg);
        let second: ChatMessage = rx.recv_json().unwrap().unwrap();
        assert_eq!(second.msg, "line\nbreak \"quoted\"");
        drop(tx);
        assert_eq!(rx.recv_json::<ChatMessage>().unwrap(), None);
    }
}

#[test]
#[cfg(feature = "json")]
fn malformed_json_is_invalid_message_and_the_next_message_still_arrives() {
    let (a, b) = socketpair().unwrap();
    a.send_all(b"{\"name\": \"x\", \"msg\": \nnot json at all\n", 0)
        .unwrap();
    a.send_all(
        b"{\"name\":\"x\",\"msg\":\"hi\",\"time\":\"t\",\"extra\":1}\n",
        0,
    )
    .unwrap();
    let mut rx = FramedSocket::new(&b, Delimited::lines());
    for _ in 0..2 {
        let err = rx.recv_json::<ChatMessage>().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidMessage);
        assert_eq!(err.op(), "recv_json");
        assert_eq!(err.errno(), Some(libc::EBADMSG));
    }
    // Unknown fields are ignored; missing ones are an error.
    assert_eq!(
        rx.recv_json::<ChatMessage>().unwrap().unwrap(),
        ChatMessage::new("x", "hi", "t")
    );
    let err = from_json::<ChatMessage>(b"{\"name\":\"x\"}").unwrap_err();
    assert!(err.to_string().contains("missing field"), "{err}");
}

// ----- errors --------------------------------------------------------------

#[test]
fn framing_errors_have_kind_errno_hint_and_io_kind() {
    use ferrosock::Error;
    use std::io;
    let cases = [
        (
            Cause::FrameTooLarge {
                limit: 10,
                declared: Some(11),
            },
            ErrorKind::FrameTooLarge,
            libc::EMSGSIZE,
            io::ErrorKind::InvalidData,
        ),
        (
            Cause::MalformedHeader {
                declared: 1,
                header_len: 4,
            },
            ErrorKind::MalformedHeader,
            libc::EPROTO,
            io::ErrorKind::InvalidData,
        ),
        (
            Cause::IncompleteFrame {
                expected: Some(9),
                received: 6,
            },
            ErrorKind::IncompleteFrame,
            libc::ECONNRESET,
            io::ErrorKind::UnexpectedEof,
        ),
        (
            Cause::InvalidMessage("expected value".into()),
            ErrorKind::InvalidMessage,
            libc::EBADMSG,
            io::ErrorKind::InvalidData,
        ),
    ];
    for (cause, kind, errno, io_kind) in cases {
        let err = Error::new("recv_frame", cause);
        assert_eq!(err.kind(), kind);
        assert_eq!(err.errno(), Some(errno));
        assert!(err.hint().is_some(), "{err}");
        assert_eq!(io::Error::from(err).kind(), io_kind);
    }
    let e = Error::new(
        "recv_frame",
        Cause::IncompleteFrame {
            expected: Some(9),
            received: 6,
        },
    );
    assert!(
        e.to_string()
            .starts_with("recv_frame: connection closed mid-frame: 6 of 9 bytes received; "),
        "{e}"
    );
}
