//! The tutorial's chat room (socket聊天室), client side: each line you type
//! goes to everyone in the room, and everything said in the room (your own
//! lines too, as the server echoes them) is printed as it arrives.
//!
//! ```text
//! cargo run --example chat_server -- --port 8888
//! cargo run --example chat_client -- --port 8888 --name 张三
//! ```
//!
//! Each line of input is sent as `{"name": NAME, "msg": LINE, "time": NOW}`
//! (the time is local, `YYYY-MM-DD HH:MM:SS`). Each message received is
//! printed as one line of compact JSON, `{"name":…,"msg":…,"time":…}`.
//! Sending and receiving run at once: a thread prints while the main
//! thread waits for input.
//!
//! At the end of input the client tells the server it is done (it shuts
//! down its sending side), prints what still arrives until the server
//! closes the connection or 300 ms pass, and exits with status 0. If the
//! server closes the connection first, the client exits at once: status 0
//! for a clean close, 1 for a broken connection.

#[path = "common/mod.rs"]
mod common;

use std::io::{self, BufRead, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use ferrosock::chat::{ChatClient, ChatReceiver, Framing, DEFAULT_PORT};
use ferrosock::framing::to_json;
use ferrosock::{ErrorKind, Shutdown};

/// How long, after the end of input, the client waits for messages still
/// on their way.
const GRACE: Duration = Duration::from_millis(300);

/// Set once the input has ended: from then on the connection closing is
/// expected, and the main thread, not the printer, ends the program.
static FINISHING: AtomicBool = AtomicBool::new(false);

struct Args {
    host: String,
    port: u16,
    framing: Framing,
    name: String,
}

fn main() -> ExitCode {
    let args = parse_args();
    common::exit_status("chat_client", chat(&args))
}

fn chat(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let client = ChatClient::connect(&args.host, args.port, args.framing, &args.name)?;
    let (mut sender, receiver) = client.split();

    let (done_tx, done_rx) = mpsc::channel::<()>();
    let printer = thread::spawn(move || {
        print_messages(receiver);
        let _ = done_tx.send(());
    });

    for line in io::stdin().lock().lines() {
        let line = line?;
        // A line typed on Windows, or piped from a file written there.
        let text = line.strip_suffix('\r').unwrap_or(&line);
        if let Err(e) = sender.say(text) {
            FINISHING.store(true, Ordering::SeqCst);
            let _ = sender.socket().shutdown(Shutdown::Both);
            let _ = printer.join();
            return Err(e.into());
        }
    }

    // End of input: tell the server, which closes the connection once it
    // has sent us what was queued; stop waiting after the grace period.
    FINISHING.store(true, Ordering::SeqCst);
    let _ = sender.finish();
    let _ = done_rx.recv_timeout(GRACE);
    let _ = sender.socket().shutdown(Shutdown::Both);
    let _ = printer.join();
    Ok(())
}

/// Prints each message as a line of compact JSON until the connection
/// ends. If the server ends it while input is still being read, exits the
/// program.
fn print_messages(mut receiver: ChatReceiver) {
    let failure = loop {
        match receiver.recv() {
            Ok(Some(message)) => {
                let Ok(json) = to_json(&message) else {
                    continue;
                };
                let mut out = io::stdout().lock();
                let _ = out.write_all(&json);
                let _ = out.write_all(b"\n");
                let _ = out.flush();
            }
            Ok(None) => break None,
            // One bad message: say so and go on with the next.
            Err(e) if e.kind() == ErrorKind::InvalidMessage => {
                eprintln!("chat_client: skipped a message: {e}");
            }
            Err(e) => break Some(e),
        }
    };
    if FINISHING.load(Ordering::SeqCst) {
        return;
    }
    match failure {
        None => {
            eprintln!("chat_client: the server closed the connection");
            std::process::exit(0);
        }
        Some(e) => {
            eprintln!("chat_client: {e}");
            std::process::exit(1);
        }
    }
}

/// `--host HOST` (default 127.0.0.1), `--port PORT` (default 8888),
/// `--framing line|length` (default line) and `--name NAME` (default guest).
fn parse_args() -> Args {
    let mut args = common::CommandLine::new(
        "chat_client",
        "[--host HOST] [--port PORT] [--framing line|length] [--name NAME]",
    );
    let mut parsed = Args {
        host: String::from(common::DEFAULT_HOST),
        port: DEFAULT_PORT,
        framing: Framing::Line,
        name: String::from("guest"),
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--host" => parsed.host = args.value(&arg),
            "--port" => parsed.port = args.port(),
            "--framing" => parsed.framing = args.parsed(&arg, "\"line\" or \"length\""),
            "--name" => parsed.name = args.value(&arg),
            _ => args.unknown(&arg),
        }
    }
    parsed
}
