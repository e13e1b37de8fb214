//! A tokio echo server, the async-Rust peer: a task per connection reading
//! into a 64 KiB buffer and writing it all back, or one task answering UDP
//! datagrams.
//!
//! ```text
//! tokio_echo --runtime current|multi [--udp] [--port 0]
//! ```
//!
//! `--runtime multi` uses tokio's default worker count (one per core).

use ferrosock_bench::{announce, bind_addr, fail, Args};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};

const PROGRAM: &str = "tokio_echo";

fn main() {
    let args = Args::parse(PROGRAM, &["udp"]);
    let runtime = match args.str("runtime", "multi").as_str() {
        "current" => tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build(),
        "multi" => tokio::runtime::Builder::new_multi_thread()
            .enable_io()
            .build(),
        other => fail(PROGRAM, &format!("--runtime current|multi, not {other:?}")),
    }
    .unwrap_or_else(|e| fail(PROGRAM, &e.to_string()));
    let addr = bind_addr(&args);
    let result = if args.flag("udp") {
        runtime.block_on(serve_udp(&addr))
    } else {
        runtime.block_on(serve_tcp(&addr))
    };
    if let Err(e) = result {
        fail(PROGRAM, &e.to_string());
    }
}

async fn serve_tcp(addr: &str) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    announce(listener.local_addr()?);
    loop {
        let (mut stream, _) = listener.accept().await?;
        tokio::spawn(async move {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        if stream.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                }
            }
        });
    }
}

async fn serve_udp(addr: &str) -> std::io::Result<()> {
    let sock = UdpSocket::bind(addr).await?;
    announce(sock.local_addr()?);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let (n, peer) = sock.recv_from(&mut buf).await?;
        let _ = sock.send_to(&buf[..n], peer).await;
    }
}
