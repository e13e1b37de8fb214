//! 粘包 and 分包 (sticky and split packets) on a real TCP connection, then
//! the fix with both codecs.
//!
//! Run with `cargo run --example framing_demo`. Everything happens over
//! 127.0.0.1 on a port the system picks.

use ferrosock::framing::{Delimited, FramedSocket, LengthPrefixed};
use ferrosock::{create_connection, create_server, Address, Result, ServerOptions, Socket};

fn main() -> Result<()> {
    let listener = create_server(&"127.0.0.1:0".parse::<Address>()?, ServerOptions::default())?;
    let port = listener.local_addr()?.port().unwrap_or(0);
    let client = create_connection("127.0.0.1", port, None, None)?;
    let (server, peer) = listener.accept()?;
    println!("connected: {peer} -> 127.0.0.1:{port}\n");

    sticky_packets(&client, &server)?;
    split_packets(&client, &server)?;
    length_prefixed_fix(&client, &server)?;
    delimited_fix(&client, &server)?;
    Ok(())
}

/// Two sends, one recv: the message boundary is gone.
fn sticky_packets(client: &Socket, server: &Socket) -> Result<()> {
    println!("1. 粘包 (sticky packets): send(b\"hello\") then send(b\"world\")");
    client.send_all(b"hello", 0)?;
    client.send_all(b"world", 0)?;
    let mut buf = [0u8; 1024];
    let mut got = Vec::new();
    // Both sends are already queued on loopback, so one recv usually takes
    // both; read until all ten bytes are in, whatever happened.
    let mut recvs = 0;
    while got.len() < 10 {
        let n = server.recv(&mut buf, 0)?;
        recvs += 1;
        println!("   recv(1024) -> {:?}", show(&buf[..n]));
        got.extend_from_slice(&buf[..n]);
    }
    if recvs == 1 {
        println!("   two messages came out of one recv: which was \"hello\"?\n");
    } else {
        println!("   (this time the boundary happened to survive; nothing guarantees it)\n");
    }
    Ok(())
}

/// One send, several recvs: a message arrives in pieces.
fn split_packets(client: &Socket, server: &Socket) -> Result<()> {
    println!("2. 分包 (split packets): one send(b\"helloworld\"), read with recv(4)");
    client.send_all(b"helloworld", 0)?;
    let mut buf = [0u8; 4];
    let mut total = 0;
    while total < 10 {
        let n = server.recv(&mut buf, 0)?;
        total += n;
        println!("   recv(4) -> {:?}", show(&buf[..n]));
    }
    println!("   (here a small buffer cuts the message; on a real network the kernel does)\n");
    Ok(())
}

/// The fix, first way: a 4-byte big-endian length before each body.
fn length_prefixed_fix(client: &Socket, server: &Socket) -> Result<()> {
    println!("3. the fix: length-prefixed frames (struct.pack('>I', len(body)) + body)");
    let mut tx = FramedSocket::new(client, LengthPrefixed::new());
    let mut rx = FramedSocket::new(server, LengthPrefixed::new());
    tx.send_frame(b"hello")?;
    tx.send_frame(b"world")?;
    tx.send_frame(b"")?;
    for _ in 0..3 {
        let frame = rx.recv_frame()?.unwrap_or_default();
        println!("   recv_frame -> {:?}", show(&frame));
    }
    println!();
    Ok(())
}

/// The fix, second way: an end marker after each message, as in the chat
/// room (one JSON object per line).
fn delimited_fix(client: &Socket, server: &Socket) -> Result<()> {
    println!("4. the fix: \"\\n\"-delimited frames (json.dumps(msg) + \"\\n\")");
    let mut tx = FramedSocket::new(client, Delimited::lines());
    let mut rx = FramedSocket::new(server, Delimited::lines());
    // Written in one go on purpose, 粘包 and all: the decoder splits them.
    client.send_all(b"first line\nsecond line\nthird", 0)?;
    client.send_all(b" line, sent in two pieces\n", 0)?;
    for _ in 0..3 {
        let frame = rx.recv_frame()?.unwrap_or_default();
        println!("   recv_frame -> {:?}", show(&frame));
    }
    #[cfg(feature = "json")]
    {
        use ferrosock::framing::ChatMessage;
        tx.send_json(&ChatMessage::new("张三", "你好", "2024-2-24"))?;
        tx.send_json(&ChatMessage::new("李四", "大家好", "2024-2-24"))?;
        for _ in 0..2 {
            if let Some(msg) = rx.recv_json::<ChatMessage>()? {
                println!("   recv_json -> {}: {} ({})", msg.name, msg.msg, msg.time);
            }
        }
    }
    #[cfg(not(feature = "json"))]
    tx.send_frame(b"(build with the json feature for the chat messages)")?;
    Ok(())
}

/// Bytes as text, for printing.
fn show(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
