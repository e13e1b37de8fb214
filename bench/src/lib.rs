//! Shared pieces of ferrosock's benchmark programs: argument parsing, the
//! CPU and memory figures read from `/proc`, percentiles, and the JSON
//! lines every program prints.
//!
//! The programs are driven by `bench/run.py` (through `scripts/bench`);
//! each prints one JSON object per line on stdout and nothing else there,
//! except servers, whose first line is `listening on HOST:PORT`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::time::Duration;

/// `--key value` and `--flag` arguments, looked up by name.
pub struct Args {
    values: HashMap<String, String>,
    program: &'static str,
}

impl Args {
    /// Parses the process's arguments; `flags` are the names that take no
    /// value. Exits with a usage message on anything malformed.
    pub fn parse(program: &'static str, flags: &[&str]) -> Args {
        let list: Vec<String> = std::env::args().skip(1).collect();
        Args::parse_list(program, &list, flags)
    }

    /// Parses `list` (arguments without the program name) like
    /// [`Args::parse`].
    pub fn parse_list(program: &'static str, list: &[String], flags: &[&str]) -> Args {
        let mut values = HashMap::new();
        let mut it = list.iter().cloned();
        while let Some(arg) = it.next() {
            let Some(name) = arg.strip_prefix("--") else {
                fail(program, &format!("unexpected argument {arg:?}"));
            };
            if flags.contains(&name) {
                values.insert(name.to_string(), "1".to_string());
            } else {
                let value = it
                    .next()
                    .unwrap_or_else(|| fail(program, &format!("--{name} needs a value")));
                values.insert(name.to_string(), value);
            }
        }
        Args { values, program }
    }

    /// The value of `--name`, or `default`.
    pub fn str(&self, name: &str, default: &str) -> String {
        self.values
            .get(name)
            .cloned()
            .unwrap_or_else(|| default.to_string())
    }

    /// The value of `--name` as a number, or `default`.
    pub fn num<T: std::str::FromStr>(&self, name: &str, default: T) -> T {
        match self.values.get(name) {
            None => default,
            Some(v) => v
                .parse()
                .unwrap_or_else(|_| fail(self.program, &format!("--{name}: not a number: {v:?}"))),
        }
    }

    /// Seconds, fractions allowed.
    pub fn secs(&self, name: &str, default: f64) -> Duration {
        Duration::from_secs_f64(self.num(name, default))
    }

    /// Whether the flag `--name` was given.
    pub fn flag(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }
}

/// Prints `program: message` on stderr and exits with status 2.
pub fn fail(program: &str, message: &str) -> ! {
    eprintln!("{program}: {message}");
    std::process::exit(2)
}

/// Clock ticks per second, the unit of `/proc/PID/stat`'s CPU times.
pub fn clock_ticks() -> f64 {
    // SAFETY: sysconf only reads a configuration value.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 {
        hz as f64
    } else {
        100.0
    }
}

/// CPU seconds (user + system) a process has used so far, all its threads
/// included, from `/proc/PID/stat`; `None` if it cannot be read.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces and parentheses: count fields
    // from the last ')'. utime and stime are fields 14 and 15 of the line,
    // so the 12th and 13th after the name.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) as f64 / clock_ticks())
}

/// The resident set size of a process in KiB, from `/proc/PID/status`.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The number of threads of a process, from `/proc/PID/status`.
pub fn threads(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("Threads:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU seconds all CPUs of the machine have spent busy so far (everything
/// but idle and iowait in the `cpu` line of `/proc/stat`).
pub fn machine_busy_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    if fields.len() < 8 {
        return None;
    }
    // user nice system idle iowait irq softirq steal
    let busy = fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + fields[7];
    Some(busy as f64 / clock_ticks())
}

/// CPU seconds this process has used so far.
pub fn own_cpu_seconds() -> f64 {
    cpu_seconds(std::process::id()).unwrap_or(0.0)
}

/// The `p`-th percentile (0..=100) of sorted samples, nearest rank; 0 for
/// no samples.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// One JSON object, built field by field and printed as one line.
#[derive(Default)]
pub struct JsonLine {
    text: String,
}

impl JsonLine {
    /// An empty object.
    pub fn new() -> JsonLine {
        JsonLine::default()
    }

    fn key(&mut self, key: &str) {
        self.text.push(if self.text.is_empty() { '{' } else { ',' });
        let _ = write!(self.text, "\"{key}\":");
    }

    /// Adds a number field (NaN and infinities become `null`).
    pub fn num(mut self, key: &str, value: f64) -> JsonLine {
        self.key(key);
        if value.is_finite() {
            let _ = write!(self.text, "{value}");
        } else {
            self.text.push_str("null");
        }
        self
    }

    /// Adds an integer field.
    pub fn int(mut self, key: &str, value: u64) -> JsonLine {
        self.key(key);
        let _ = write!(self.text, "{value}");
        self
    }

    /// Adds a string field.
    pub fn str(mut self, key: &str, value: &str) -> JsonLine {
        self.key(key);
        self.text.push('"');
        for c in value.chars() {
            match c {
                '"' => self.text.push_str("\\\""),
                '\\' => self.text.push_str("\\\\"),
                c if (c as u32) < 0x20 => {
                    let _ = write!(self.text, "\\u{:04x}", c as u32);
                }
                c => self.text.push(c),
            }
        }
        self.text.push('"');
        self
    }

    /// Prints the object as one line on stdout and flushes.
    pub fn print(mut self) {
        if self.text.is_empty() {
            self.text.push('{');
        }
        self.text.push('}');
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", self.text);
        let _ = out.flush();
    }
}

/// Prints `listening on ADDR` and flushes, the line `run.py` waits for.
pub fn announce(addr: impl std::fmt::Display) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening on {addr}");
    let _ = out.flush();
}

/// The `--host`/`--port` pair of a server, as `HOST:PORT`.
pub fn bind_addr(args: &Args) -> String {
    format!(
        "{}:{}",
        args.str("host", "127.0.0.1"),
        args.num("port", 0u16)
    )
}

/// The byte a connection's message holds at `index`: a pattern that
/// differs between connections and positions, so a byte echoed to the
/// wrong place or the wrong connection is noticed.
pub fn pattern_byte(conn: usize, index: usize) -> u8 {
    (conn.wrapping_mul(131) ^ index.wrapping_mul(7)) as u8 | 1
}

/// Fills `buf` with connection `conn`'s pattern.
pub fn fill_pattern(buf: &mut [u8], conn: usize) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b = pattern_byte(conn, i);
    }
}

/// Writes a sequence number into the first (up to) 8 bytes of a message,
/// so every request differs from the one before.
pub fn stamp(buf: &mut [u8], seq: u64) {
    let bytes = seq.to_le_bytes();
    let n = buf.len().min(8);
    buf[..n].copy_from_slice(&bytes[..n]);
}
