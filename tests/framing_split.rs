//! Property tests of the framing: however a stream of random frames is cut
//! into pieces, the decoder yields exactly the frames that were sent, and
//! fails the same way on a bad or truncated stream.
//!
//! A seeded PRNG (SplitMix64) drives a bounded number of cases, so a run is
//! deterministic and takes well under a second; a failure prints the seed
//! and case to replay.

use ferrosock::framing::{
    Codec, CrLf, Delimited, Endian, FrameDecoder, FramedSocket, HeaderWidth, LengthCounts,
    LengthPrefixed,
};
use ferrosock::{socketpair, Cause, ErrorKind};

const SEED: u64 = 0x5EED_F4A3_1A6E_0001;
const CASES: u64 = 300;

/// SplitMix64: small, fast and good enough to pick test cases.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// A random codec: any length-prefixed setting, or one of several
/// delimiters (single, multi-byte, self-overlapping) with either CR policy.
fn random_codec(rng: &mut Rng) -> Codec {
    if rng.below(2) == 0 {
        let width = *rng.pick(&[
            HeaderWidth::U8,
            HeaderWidth::U16,
            HeaderWidth::U32,
            HeaderWidth::U64,
        ]);
        let endian = *rng.pick(&[Endian::Big, Endian::Little]);
        let counts = *rng.pick(&[LengthCounts::Body, LengthCounts::HeaderAndBody]);
        LengthPrefixed::new()
            .with_header(width, endian)
            .with_length_counts(counts)
            .with_max_frame_size(200)
            .into()
    } else {
        let delimiter: &[u8] =
            rng.pick::<&[u8]>(&[&b"\n"[..], b"\r\n", b"\0", b"--", b"<END>", b"aba"]);
        let crlf = *rng.pick(&[CrLf::Keep, CrLf::Strip]);
        Delimited::new(delimiter.to_vec())
            .unwrap()
            .with_crlf(crlf)
            .with_max_frame_size(200)
            .into()
    }
}

/// Random frames the codec accepts, drawn from bytes that include the
/// delimiters' and '\r', so partial delimiters appear inside frames.
fn random_frames(rng: &mut Rng, codec: &Codec) -> Vec<Vec<u8>> {
    const ALPHABET: &[u8] = b"ab-<END>\r\n\0xyz";
    let count = rng.below(12);
    let mut frames = Vec::new();
    while frames.len() < count {
        let len = match rng.below(4) {
            0 => 0,
            1 => rng.below(4),
            _ => rng.below(201),
        };
        let frame: Vec<u8> = (0..len).map(|_| *rng.pick(ALPHABET)).collect();
        // Frames the codec refuses (containing the delimiter) are not sent.
        if codec.encode(&frame, &mut Vec::new()).is_ok() {
            frames.push(frame);
        }
    }
    frames
}

fn encode(codec: &Codec, frames: &[Vec<u8>]) -> Vec<u8> {
    let mut wire = Vec::new();
    for frame in frames {
        codec.encode(frame, &mut wire).unwrap();
    }
    wire
}

/// Cuts `wire` into pieces: all at once, a byte at a time, or at random
/// points.
fn random_split<'a>(rng: &mut Rng, wire: &'a [u8]) -> Vec<&'a [u8]> {
    let mut pieces = Vec::new();
    let mut rest = wire;
    let mode = rng.below(4);
    while !rest.is_empty() {
        let n = match mode {
            0 => rest.len(),
            1 => 1,
            2 => 1 + rng.below(8),
            _ => 1 + rng.below(rest.len()),
        };
        let (piece, tail) = rest.split_at(n.min(rest.len()));
        pieces.push(piece);
        rest = tail;
    }
    pieces
}

/// Pushes the pieces, taking frames out after each; stops at the first
/// error.
fn decode_pieces(
    codec: &Codec,
    pieces: &[&[u8]],
) -> (Vec<Vec<u8>>, ferrosock::Result<Option<Vec<u8>>>) {
    let mut decoder = FrameDecoder::new(codec.clone());
    let mut frames = Vec::new();
    for piece in pieces {
        decoder.push(piece);
        loop {
            match decoder.next_frame() {
                Ok(Some(frame)) => frames.push(frame),
                Ok(None) => break,
                Err(e) => return (frames, Err(e)),
            }
        }
    }
    (frames, decoder.next_frame_at_eof())
}

#[test]
fn any_split_of_a_random_stream_decodes_to_the_same_frames() {
    let mut rng = Rng::new(SEED);
    for case in 0..CASES {
        let codec = random_codec(&mut rng);
        let frames = random_frames(&mut rng, &codec);
        let wire = encode(&codec, &frames);
        let pieces = random_split(&mut rng, &wire);
        let (got, end) = decode_pieces(&codec, &pieces);
        assert_eq!(got, frames, "seed {SEED:#x} case {case} {codec:?}");
        assert_eq!(end.unwrap(), None, "seed {SEED:#x} case {case} {codec:?}");
    }
}

#[test]
fn reading_into_read_buf_never_buffers_more_than_the_limit_and_overhead() {
    let mut rng = Rng::new(SEED ^ 1);
    for case in 0..CASES {
        let codec = random_codec(&mut rng);
        let frames = random_frames(&mut rng, &codec);
        let wire = encode(&codec, &frames);
        let bound = codec.max_frame_size() + codec.overhead();
        let mut decoder = FrameDecoder::new(codec.clone());
        let mut got = Vec::new();
        let mut rest = &wire[..];
        while !rest.is_empty() {
            // A "recv" of a random amount, at most what the decoder offers.
            let room = decoder.read_buf();
            assert!(!room.is_empty());
            let n = (1 + rng.below(room.len())).min(rest.len());
            room[..n].copy_from_slice(&rest[..n]);
            decoder.commit(n);
            rest = &rest[n..];
            assert!(
                decoder.buffered() <= bound,
                "seed {SEED:#x} case {case}: {} buffered > {bound}",
                decoder.buffered()
            );
            while let Some(frame) = decoder.next_frame().unwrap() {
                got.push(frame);
            }
        }
        assert_eq!(got, frames, "seed {SEED:#x} case {case} {codec:?}");
    }
}

#[test]
fn an_oversized_frame_fails_the_same_way_however_split() {
    let mut rng = Rng::new(SEED ^ 2);
    for case in 0..CASES {
        let codec = random_codec(&mut rng);
        let frames = random_frames(&mut rng, &codec);
        // A sender with a larger limit writes one frame too many bytes long.
        let big: Codec = match &codec {
            Codec::LengthPrefixed(c) => c.with_max_frame_size(10_000).into(),
            Codec::Delimited(d) => d.clone().with_max_frame_size(10_000).into(),
        };
        let mut wire = encode(&codec, &frames);
        big.encode(&vec![b'y'; codec.max_frame_size() + 1], &mut wire)
            .unwrap();
        codec.encode(b"never seen", &mut wire).unwrap();
        let pieces = random_split(&mut rng, &wire);
        let (got, end) = decode_pieces(&codec, &pieces);
        assert_eq!(got, frames, "seed {SEED:#x} case {case} {codec:?}");
        let err = end.unwrap_err();
        let declared = match codec {
            Codec::LengthPrefixed(_) => Some(codec.max_frame_size() as u64 + 1),
            _ => None,
        };
        match err.cause() {
            Cause::FrameTooLarge { limit, declared: d } => {
                assert_eq!(*limit, codec.max_frame_size() as u64);
                assert_eq!(*d, declared, "seed {SEED:#x} case {case} {codec:?}");
            }
            other => panic!("seed {SEED:#x} case {case}: {other:?}"),
        }
    }
}

#[test]
fn a_truncated_stream_is_an_incomplete_frame_however_split() {
    let mut rng = Rng::new(SEED ^ 3);
    for case in 0..CASES {
        let codec = random_codec(&mut rng);
        let mut frames = random_frames(&mut rng, &codec);
        frames.push(b"the last frame".to_vec());
        let wire = encode(&codec, &frames);
        let last_len = encode(&codec, &frames[frames.len() - 1..]).len();
        // Cut inside the last frame: at least one byte of it gone, and at
        // least one byte of it kept.
        let cut = 1 + rng.below(last_len - 1);
        let truncated = &wire[..wire.len() - cut];
        let pieces = random_split(&mut rng, truncated);
        let (got, end) = decode_pieces(&codec, &pieces);
        assert_eq!(
            got,
            frames[..frames.len() - 1],
            "seed {SEED:#x} case {case}"
        );
        let err = end.unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::IncompleteFrame,
            "seed {SEED:#x} case {case}"
        );
        match err.cause() {
            Cause::IncompleteFrame { received, .. } => {
                assert_eq!(
                    *received,
                    (last_len - cut) as u64,
                    "seed {SEED:#x} case {case}"
                )
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn any_write_split_over_a_socketpair_reads_back_the_same_frames() {
    let mut rng = Rng::new(SEED ^ 4);
    for case in 0..40 {
        let codec = random_codec(&mut rng);
        let frames = random_frames(&mut rng, &codec);
        let wire = encode(&codec, &frames);
        let pieces = random_split(&mut rng, &wire);
        let (a, b) = socketpair().unwrap();
        std::thread::scope(|s| {
            s.spawn(|| {
                for piece in &pieces {
                    a.send_all(piece, 0).unwrap();
                }
                a.close().unwrap();
            });
            let mut rx = FramedSocket::new(&b, codec.clone());
            let mut got = Vec::new();
            while let Some(frame) = rx.recv_frame().unwrap() {
                got.push(frame);
            }
            assert_eq!(got, frames, "seed {SEED:#x} case {case} {codec:?}");
        });
    }
}
