//! An echo server on ferrosock's server engine, with the knobs the
//! example `server_threaded_echo` does not have: the read size, TCP_NODELAY
//! and the mode; and a UDP echo server on the same engine.
//!
//! ```text
//! fsock_echo [--bufsize 65536] [--nodelay] [--mode thread|pool|sequential] [--threads 8] [--udp] [--port 0]
//! ```

use std::io::{Read, Write};

use ferrosock::server::{Connection, Datagram, HandlerResult, Mode, Server};
use ferrosock_bench::{announce, bind_addr, fail, Args};

const PROGRAM: &str = "fsock_echo";

fn main() {
    let args = Args::parse(PROGRAM, &["udp", "nodelay"]);
    let addr = bind_addr(&args);
    let mode = match args
        .str(
            "mode",
            if args.flag("udp") {
                "sequential"
            } else {
                "thread"
            },
        )
        .as_str()
    {
        "thread" => Mode::ThreadPerConnection,
        "pool" => Mode::Pool {
            threads: args.num("threads", 8usize),
        },
        "sequential" => Mode::Sequential,
        other => fail(
            PROGRAM,
            &format!("--mode thread|pool|sequential, not {other:?}"),
        ),
    };
    let result = if args.flag("udp") {
        Server::builder()
            .udp(&addr)
            .mode(mode)
            .build_datagram(|d: &Datagram| -> HandlerResult {
                d.reply(d.data())?;
                Ok(())
            })
    } else {
        let bufsize: usize = args.num("bufsize", 64 * 1024);
        let nodelay = args.flag("nodelay");
        Server::builder()
            .bind(&addr)
            .mode(mode)
            .block_on_close(false)
            .build(move |conn: &mut Connection| -> HandlerResult {
                if nodelay {
                    conn.socket().set_nodelay(true)?;
                }
                let mut buf = vec![0u8; bufsize];
                loop {
                    let n = conn.read(&mut buf)?;
                    if n == 0 {
                        return Ok(());
                    }
                    conn.write_all(&buf[..n])?;
                }
            })
    };
    let server = result.unwrap_or_else(|e| fail(PROGRAM, &e.to_string()));
    announce(server.local_addr());
    if let Err(e) = server.serve_forever() {
        fail(PROGRAM, &e.to_string());
    }
}
