//! The tutorial's phone-model client (打电话模型): sends each line typed on
//! stdin and prints the server's upper-cased answer. `q` ends the call;
//! so does end of input (Ctrl-D), without saying goodbye, which the server
//! must survive.
//!
//! ```text
//! cargo run --example phone_client -- --port 8080
//! ```

#[path = "common/mod.rs"]
mod common;

use std::process::ExitCode;

use ferrosock::resolve::resolve;
use ferrosock::{SockType, Socket};

const DEFAULT_PORT: u16 = 8080;

fn main() -> ExitCode {
    let (host, port) = common::host_and_port("phone_client", DEFAULT_PORT);
    common::exit_status("phone_client", call(&host, port))
}

fn call(host: &str, port: u16) -> Result<(), Box<dyn std::error::Error>> {
    let server = resolve(host, port, None, SockType::Stream.raw())?.remove(0);
    // Buy a phone (买手机) and dial (拨电话). If no server runs there, the
    // error says "connection refused" and what to do about it.
    let phone = Socket::new(server.family(), SockType::Stream)?;
    phone.connect(&server)?;

    for line in common::typed_lines(">>: ") {
        let line = line?;
        let msg = line.trim();
        // Never send an empty message: TCP carries no empty messages, so the
        // server would not notice it and both sides would wait for each
        // other (the tutorial's third-generation problem).
        if msg.is_empty() {
            continue;
        }
        // Talk (说话): only bytes can be sent, so encode the text.
        phone.send_all(msg.as_bytes(), 0)?;
        if msg == "q" {
            break;
        }
        // Listen (听话). TCP is a byte stream (水流式): the answer may come
        // in pieces, so read until all of it is here. The server's answer
        // has exactly as many bytes as the question.
        let mut answer = Vec::with_capacity(msg.len());
        let mut buf = [0u8; 1024];
        while answer.len() < msg.len() {
            let n = phone.recv(&mut buf, 0)?;
            if n == 0 {
                println!("the server hung up");
                return Ok(());
            }
            answer.extend_from_slice(&buf[..n]);
        }
        println!("{}", String::from_utf8_lossy(&answer));
    }
    // Hang up (挂电话).
    phone.close()?;
    Ok(())
}
