//! Bulk TCP on ferrosock's `Socket`: a sink that counts what one
//! connection sends, and a source that streams N bytes to it.
//!
//! ```text
//! fsock_bulk --role sink [--port 0] [--chunk 262144]
//! fsock_bulk --role source --addr 127.0.0.1:PORT --bytes 1073741824 [--chunk 262144]
//! ```
//!
//! The sink answers the end of the stream with the byte count as 8
//! big-endian bytes; the source checks it and prints one JSON line with
//! the throughput. The same protocol as `bench/c/bulk.c` and
//! `bench/python/bulk.py`.

use std::time::Instant;

use ferrosock::{Address, Family, Shutdown, SockType, Socket};
use ferrosock_bench::{announce, bind_addr, fail, Args, JsonLine};

const PROGRAM: &str = "fsock_bulk";

fn main() {
    let args = Args::parse(PROGRAM, &[]);
    let chunk: usize = args.num("chunk", 256 * 1024);
    let result = match args.str("role", "").as_str() {
        "sink" => sink(&bind_addr(&args), chunk),
        "source" => source(&args.str("addr", ""), args.num("bytes", 1u64 << 30), chunk),
        _ => fail(PROGRAM, "--role sink|source"),
    };
    if let Err(e) = result {
        fail(PROGRAM, &e.to_string());
    }
}

fn sink(addr: &str, chunk: usize) -> ferrosock::Result<()> {
    let listener = Socket::new(Family::Inet, SockType::Stream)?;
    listener.set_reuse_address(true)?;
    listener.bind(&addr.parse::<Address>()?)?;
    listener.listen(16)?;
    announce(listener.local_addr()?);
    let mut buf = vec![0u8; chunk];
    loop {
        let (conn, _) = listener.accept()?;
        let mut total: u64 = 0;
        loop {
            let n = conn.recv(&mut buf, 0)?;
            if n == 0 {
                break;
            }
            total += n as u64;
        }
        conn.send_all(&total.to_be_bytes(), 0)?;
        conn.close()?;
    }
}

fn source(addr: &str, bytes: u64, chunk: usize) -> ferrosock::Result<()> {
    let addr: Address = addr.parse()?;
    let sock = Socket::new(Family::Inet, SockType::Stream)?;
    sock.connect(&addr)?;
    let buf = vec![0x5au8; chunk];
    let t0 = Instant::now();
    let mut left = bytes;
    while left > 0 {
        let n = left.min(chunk as u64) as usize;
        sock.send_all(&buf[..n], 0)?;
        left -= n as u64;
    }
    sock.shutdown(Shutdown::Write)?;
    let mut count = [0u8; 8];
    let mut got = 0;
    while got < 8 {
        let n = sock.recv(&mut count[got..], 0)?;
        if n == 0 {
            break;
        }
        got += n;
    }
    let secs = t0.elapsed().as_secs_f64();
    let counted = u64::from_be_bytes(count);
    if got != 8 || counted != bytes {
        fail(
            PROGRAM,
            &format!("the sink counted {counted} bytes of {bytes}"),
        );
    }
    JsonLine::new()
        .str("mode", "bulk")
        .int("bytes", bytes)
        .num("seconds", secs)
        .num("gbps", bytes as f64 / secs / 1e9)
        .print();
    Ok(())
}
