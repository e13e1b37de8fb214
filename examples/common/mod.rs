//! What the examples share and none of them is about: reading the command
//! line (`--host`, `--port`, ...), reading lines typed on stdin, printing
//! `listening on ADDR`, and stopping a server cleanly on Ctrl-C.
//!
//! The socket calls stay in each example, where the tutorial can show
//! them. Each example includes this file with
//! `#[path = "common/mod.rs"] mod common;` (a folder of `examples/` without
//! a `main.rs` is not an example of its own).

// Each example uses only some of these.
#![allow(dead_code)]

use std::fmt::Display;
use std::io::{BufRead, IsTerminal, Lines, StdinLock, Write};
use std::mem::MaybeUninit;
use std::process::ExitCode;
use std::str::FromStr;

use ferrosock::server::ServerHandle;

/// The host every example uses unless `--host` says otherwise.
pub const DEFAULT_HOST: &str = "127.0.0.1";

/// An example's command line, read one argument at a time. `-h`/`--help`
/// and every mistake print the usage line and exit with status 2.
pub struct CommandLine {
    name: &'static str,
    synopsis: &'static str,
    rest: std::iter::Skip<std::env::Args>,
}

impl CommandLine {
    /// The arguments of the example `name`, whose usage line is
    /// `usage: NAME SYNOPSIS`.
    pub fn new(name: &'static str, synopsis: &'static str) -> CommandLine {
        CommandLine {
            name,
            synopsis,
            rest: std::env::args().skip(1),
        }
    }

    /// The next argument; `None` after the last. Answers `-h` and `--help`.
    pub fn next(&mut self) -> Option<String> {
        let arg = self.rest.next()?;
        if arg == "-h" || arg == "--help" {
            self.usage("");
        }
        Some(arg)
    }

    /// The value that follows `flag`.
    pub fn value(&mut self, flag: &str) -> String {
        self.rest
            .next()
            .unwrap_or_else(|| self.usage(&format!("{flag} needs a value")))
    }

    /// The value that follows `flag`, parsed; `expected` says what it must
    /// be, for the message when it is not.
    pub fn parsed<T: FromStr>(&mut self, flag: &str, expected: &str) -> T {
        self.rest
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| self.usage(&format!("{flag} needs {expected}")))
    }

    /// The value that follows `--port`.
    pub fn port(&mut self) -> u16 {
        self.parsed("--port", "a number from 0 to 65535")
    }

    /// Refuses `arg`.
    pub fn unknown(&self, arg: &str) -> ! {
        self.usage(&format!("unknown argument {arg:?}"))
    }

    /// Prints `NAME: PROBLEM` (unless `problem` is empty) and the usage
    /// line, and exits with status 2.
    pub fn usage(&self, problem: &str) -> ! {
        if !problem.is_empty() {
            eprintln!("{}: {problem}", self.name);
        }
        eprintln!("usage: {} {}", self.name, self.synopsis);
        std::process::exit(2)
    }
}

/// The command line of most examples: `--host HOST` (default 127.0.0.1)
/// and `--port PORT` (default `default_port`), nothing else.
pub fn host_and_port(name: &'static str, default_port: u16) -> (String, u16) {
    let mut args = CommandLine::new(
        name,
        "[--host HOST] [--port PORT]   (port 0: any free port)",
    );
    let mut host = String::from(DEFAULT_HOST);
    let mut port = default_port;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--host" => host = args.value(&arg),
            "--port" => port = args.port(),
            _ => args.unknown(&arg),
        }
    }
    (host, port)
}

/// `HOST:PORT`, with an IPv6 host in brackets: the address text the server
/// engine binds.
pub fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The exit status of an example whose work ended with `result`: success,
/// or failure after printing the error as `NAME: ERROR`. A ferrosock error
/// reads as a sentence: what, where, why, and what to do.
pub fn exit_status<E: Display>(name: &str, result: Result<(), E>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Prints `listening on ADDR`, a server's first line of output (with port
/// 0, the tests read the port the system picked from it), and flushes it
/// out at once.
pub fn announce(addr: impl Display) -> std::io::Result<()> {
    println!("listening on {addr}");
    std::io::stdout().flush()
}

/// The lines typed on stdin, each asked for with a prompt when a person is
/// typing (not when the input is piped in, as the tests do). The iteration
/// ends at the end of input (Ctrl-D).
pub struct Typed {
    prompt: &'static str,
    interactive: bool,
    lines: Lines<StdinLock<'static>>,
}

/// [`Typed`] lines, asked for with `prompt`.
pub fn typed_lines(prompt: &'static str) -> Typed {
    Typed {
        prompt,
        interactive: std::io::stdin().is_terminal(),
        lines: std::io::stdin().lock().lines(),
    }
}

impl Typed {
    /// Whether a person is typing (stdin is a terminal).
    pub fn interactive(&self) -> bool {
        self.interactive
    }
}

impl Iterator for Typed {
    type Item = std::io::Result<String>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.interactive {
            print!("{}", self.prompt);
            if let Err(e) = std::io::stdout().flush() {
                return Some(Err(e));
            }
        }
        self.lines.next()
    }
}

/// Blocks SIGINT and SIGTERM in this thread, and so in every thread
/// started after it; returns the set for [`stop_on_signal`]. Call it before
/// the server starts any thread.
pub fn block_stop_signals() -> libc::sigset_t {
    let mut set = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigemptyset initialises the set before the other calls read
    // it; pthread_sigmask only reads it.
    unsafe {
        libc::sigemptyset(set.as_mut_ptr());
        libc::sigaddset(set.as_mut_ptr(), libc::SIGINT);
        libc::sigaddset(set.as_mut_ptr(), libc::SIGTERM);
        libc::pthread_sigmask(libc::SIG_BLOCK, set.as_ptr(), std::ptr::null_mut());
        set.assume_init()
    }
}

/// Waits on a thread of its own, with `sigwait(3)`, for SIGINT (Ctrl-C) or
/// SIGTERM, then stops the server: its `serve_forever` returns.
pub fn stop_on_signal(set: libc::sigset_t, server: ServerHandle) {
    std::thread::spawn(move || {
        let mut signal = 0;
        // SAFETY: `set` is an initialised signal set and `signal` is
        // writable; sigwait only writes the signal number.
        unsafe { libc::sigwait(&set, &mut signal) };
        server.shutdown();
    });
}
