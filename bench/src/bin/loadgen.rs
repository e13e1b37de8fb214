//! The load generator: one thread, one `mio` poll, many connections.
//!
//! ```text
//! loadgen echo --addr 127.0.0.1:PORT --conns 16 --size 64 --duration 3 --warmup 0.5 --server-pid PID
//! loadgen udp  --addr 127.0.0.1:PORT --clients 16 --size 64 --duration 3 --server-pid PID
//! loadgen idle --addr 127.0.0.1:PORT --conns 1000 --server-pid PID
//! loadgen chat --addr 127.0.0.1:PORT --clients 100 --duration 3 --window 16 --server-pid PID
//! ```
//!
//! Each mode prints one JSON line with its figures. The request/response
//! modes are closed loops: every connection has one request outstanding,
//! and sends the next as soon as the whole answer is back and verified
//! byte for byte. A mismatch ends the run with status 1: figures from a
//! server that echoes the wrong bytes mean nothing.
//!
//! The load generator costs one `write` and usually one `read` per request
//! plus its share of an `epoll_wait`; it reports its own CPU use so that
//! `run.py` can tell when it, not the server, was the bottleneck.

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream as StdTcp};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use ferrosock_bench::{
    cpu_seconds, fill_pattern, machine_busy_seconds, own_cpu_seconds, percentile, rss_kib, stamp,
    threads, Args, JsonLine,
};
use mio::net::{TcpStream, UdpSocket};
use mio::{Events, Interest, Poll, Token};

const PROGRAM: &str = "loadgen";

fn main() -> ExitCode {
    let mode = std::env::args().nth(1).unwrap_or_default();
    // Args::parse skips the program name only; drop the mode too.
    let args = {
        let rest: Vec<String> = std::env::args().skip(2).collect();
        parse_rest(&rest)
    };
    let result = match mode.as_str() {
        "echo" => echo(&args),
        "udp" => udp(&args),
        "idle" => idle(&args),
        "chat" => chat(&args),
        _ => Err("usage: loadgen echo|udp|idle|chat --addr HOST:PORT [options]".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{PROGRAM}: {e}");
            ExitCode::FAILURE
        }
    }
}

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn parse_rest(rest: &[String]) -> Args {
    Args::parse_list(PROGRAM, rest, &[])
}

/// The address and the server's PID (0: unknown) every mode takes.
fn target(args: &Args) -> Res<(SocketAddr, u32)> {
    let addr = args.str("addr", "");
    let addr: SocketAddr = addr.parse().map_err(|_| format!("bad --addr {addr:?}"))?;
    Ok((addr, args.num("server-pid", 0u32)))
}

/// Where the run is: settling in, measuring, or done.
struct Clock {
    start_measure: Instant,
    end: Instant,
}

impl Clock {
    fn new(args: &Args) -> Clock {
        let now = Instant::now();
        let start_measure = now + args.secs("warmup", 0.5);
        Clock {
            start_measure,
            end: start_measure + args.secs("duration", 3.0),
        }
    }
}

/// CPU use of the server and of the load generator over the measured
/// window.
struct CpuWindow {
    pid: u32,
    server0: Option<f64>,
    own0: f64,
    busy0: Option<f64>,
    t0: Instant,
}

impl CpuWindow {
    fn start(pid: u32) -> CpuWindow {
        CpuWindow {
            pid,
            server0: if pid == 0 { None } else { cpu_seconds(pid) },
            own0: own_cpu_seconds(),
            busy0: machine_busy_seconds(),
            t0: Instant::now(),
        }
    }

    /// Adds the window's length and CPU figures to `line`; `units` is the
    /// number of requests (or messages) served in the window.
    fn finish(self, line: JsonLine, units: u64) -> JsonLine {
        let secs = self.t0.elapsed().as_secs_f64();
        let own = own_cpu_seconds() - self.own0;
        let mut line = line.num("seconds", secs).num("loadgen_cpu", own / secs);
        let server_used = match (self.server0, cpu_seconds(self.pid)) {
            (Some(a), Some(b)) => b - a,
            _ => 0.0,
        };
        // Everything else the machine did meanwhile: other processes (the
        // sign of a noisy run), interrupts, and work the kernel does for
        // these two outside their own accounting.
        if let (Some(a), Some(b)) = (self.busy0, machine_busy_seconds()) {
            line = line.num("other_cpu", ((b - a) - server_used - own).max(0.0) / secs);
        }
        if let (Some(a), Some(b)) = (self.server0, cpu_seconds(self.pid)) {
            let server = b - a;
            line = line
                .num("server_cpu", server / secs)
                .num("server_cpu_seconds", server);
            // Under 5 clock ticks the quotient is mostly rounding: leave it
            // out rather than report a precise-looking guess.
            if units > 0 && server * ferrosock_bench::clock_ticks() >= 5.0 {
                line = line.num("server_cpu_us_per_req", server * 1e6 / units as f64);
            }
        }
        if let Some(t) = threads(self.pid) {
            line = line.int("server_threads", t);
        }
        line
    }
}

/// Connects with a blocking connect (retried briefly when the backlog is
/// full), then hands the stream to mio.
fn connect(addr: SocketAddr) -> Res<TcpStream> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match StdTcp::connect_timeout(&addr, Duration::from_secs(5)) {
            Ok(s) => {
                s.set_nodelay(true)?;
                s.set_nonblocking(true)?;
                return Ok(TcpStream::from_std(s));
            }
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(format!("connect {addr}: {e}").into()),
        }
    }
}

// ---------------------------------------------------------------------------
// TCP echo

struct EchoConn {
    stream: TcpStream,
    want: Vec<u8>,
    got: Vec<u8>,
    got_len: usize,
    sent: usize,
    seq: u64,
    t0: Instant,
}

impl EchoConn {
    /// Writes what is left of the current request; false if the socket is
    /// full (a writable event will come).
    fn push(&mut self) -> Res<bool> {
        while self.sent < self.want.len() {
            match self.stream.write(&self.want[self.sent..]) {
                Ok(n) => self.sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(true)
    }

    fn next_request(&mut self) -> Res<()> {
        self.seq += 1;
        stamp(&mut self.want, self.seq);
        self.sent = 0;
        self.got_len = 0;
        self.t0 = Instant::now();
        self.push()?;
        Ok(())
    }

    /// Reads what has arrived; `Some(latency)` once the whole echo is in
    /// and verified.
    fn pull(&mut self) -> Res<Option<Duration>> {
        loop {
            if self.got_len == self.want.len() {
                if self.got != self.want {
                    return Err(format!("echo mismatch on request {}", self.seq).into());
                }
                return Ok(Some(self.t0.elapsed()));
            }
            match self.stream.read(&mut self.got[self.got_len..]) {
                Ok(0) => return Err("the server closed a connection".into()),
                Ok(n) => self.got_len += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
}

fn echo(args: &Args) -> Res<()> {
    let (addr, pid) = target(args)?;
    let nconns: usize = args.num("conns", 1);
    let size: usize = args.num("size", 64);
    let mut poll = Poll::new()?;
    let mut conns = Vec::with_capacity(nconns);
    for i in 0..nconns {
        let mut stream = connect(addr)?;
        poll.registry().register(
            &mut stream,
            Token(i),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        let mut want = vec![0u8; size];
        fill_pattern(&mut want, i);
        conns.push(EchoConn {
            stream,
            want,
            got: vec![0u8; size],
            got_len: 0,
            sent: 0,
            seq: 0,
            t0: Instant::now(),
        });
    }
    for c in conns.iter_mut() {
        c.next_request()?;
    }
    let clock = Clock::new(args);
    let mut events = Events::with_capacity(1024);
    let mut window: Option<CpuWindow> = None;
    let mut latencies: Vec<u64> = Vec::with_capacity(1 << 20);
    let mut done: u64 = 0;
    let mut verified_bytes: u64 = 0;
    loop {
        let now = Instant::now();
        if now >= clock.end {
            break;
        }
        if window.is_none() && now >= clock.start_measure {
            window = Some(CpuWindow::start(pid));
            latencies.clear();
            done = 0;
            verified_bytes = 0;
        }
        poll.poll(&mut events, Some(Duration::from_millis(50)))?;
        for ev in events.iter() {
            let c = &mut conns[ev.token().0];
            if ev.is_writable() && c.sent < c.want.len() {
                c.push()?;
            }
            if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                if let Some(lat) = c.pull()? {
                    latencies.push(lat.as_nanos() as u64);
                    done += 1;
                    verified_bytes += size as u64;
                    c.next_request()?;
                }
            }
        }
    }
    let window = window.ok_or("the run ended before the measured window began")?;
    latencies.sort_unstable();
    let secs = window.t0.elapsed().as_secs_f64();
    let line = JsonLine::new()
        .str("mode", "echo")
        .int("conns", nconns as u64)
        .int("size", size as u64)
        .int("requests", done)
        .int("verified_bytes", verified_bytes)
        .num("rps", done as f64 / secs)
        .num("p50_us", percentile(&latencies, 50.0) as f64 / 1e3)
        .num("p99_us", percentile(&latencies, 99.0) as f64 / 1e3)
        .num(
            "max_us",
            latencies.last().copied().unwrap_or(0) as f64 / 1e3,
        );
    window.finish(line, done).print();
    Ok(())
}

// ---------------------------------------------------------------------------
// UDP echo

struct UdpClient {
    sock: UdpSocket,
    want: Vec<u8>,
    seq: u64,
    t0: Instant,
}

fn udp(args: &Args) -> Res<()> {
    let (addr, pid) = target(args)?;
    let nclients: usize = args.num("clients", 1);
    let size: usize = args.num("size", 64);
    let timeout = Duration::from_millis(args.num("timeout-ms", 20u64));
    let mut poll = Poll::new()?;
    let mut clients = Vec::with_capacity(nclients);
    for i in 0..nclients {
        let mut sock = UdpSocket::bind("127.0.0.1:0".parse()?)?;
        sock.connect(addr)?;
        poll.registry()
            .register(&mut sock, Token(i), Interest::READABLE)?;
        let mut want = vec![0u8; size];
        fill_pattern(&mut want, i);
        clients.push(UdpClient {
            sock,
            want,
            seq: 0,
            t0: Instant::now(),
        });
    }
    let send = |c: &mut UdpClient| -> Res<()> {
        c.seq += 1;
        stamp(&mut c.want, c.seq);
        c.t0 = Instant::now();
        match c.sock.send(&c.want) {
            Ok(_) => Ok(()),
            // A full send buffer or a refused port (no server yet): the
            // datagram counts as lost when its time is up.
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::ConnectionRefused
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    };
    for c in clients.iter_mut() {
        send(c)?;
    }
    let clock = Clock::new(args);
    let mut events = Events::with_capacity(1024);
    let mut window: Option<CpuWindow> = None;
    let mut latencies: Vec<u64> = Vec::with_capacity(1 << 20);
    let (mut received, mut lost, mut stale) = (0u64, 0u64, 0u64);
    let mut buf = vec![0u8; 65536];
    let mut last_sweep = Instant::now();
    loop {
        let now = Instant::now();
        if now >= clock.end {
            break;
        }
        if window.is_none() && now >= clock.start_measure {
            window = Some(CpuWindow::start(pid));
            latencies.clear();
            (received, lost, stale) = (0, 0, 0);
        }
        poll.poll(&mut events, Some(Duration::from_millis(5)))?;
        for ev in events.iter() {
            let c = &mut clients[ev.token().0];
            loop {
                match c.sock.recv(&mut buf) {
                    Ok(n) => {
                        if buf[..n] == c.want[..] {
                            latencies.push(c.t0.elapsed().as_nanos() as u64);
                            received += 1;
                            send(c)?;
                        } else if n == size && buf[8.min(n)..n] == c.want[8.min(n)..] {
                            // A late answer to a request already counted lost.
                            stale += 1;
                        } else {
                            return Err("UDP echo mismatch".into());
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::ConnectionRefused => break,
                    Err(e) => return Err(e.into()),
                }
            }
        }
        let now = Instant::now();
        if now.duration_since(last_sweep) >= Duration::from_millis(2) {
            last_sweep = now;
            for c in clients.iter_mut() {
                if now.duration_since(c.t0) > timeout {
                    lost += 1;
                    send(c)?;
                }
            }
        }
    }
    let window = window.ok_or("the run ended before the measured window began")?;
    latencies.sort_unstable();
    let secs = window.t0.elapsed().as_secs_f64();
    let line = JsonLine::new()
        .str("mode", "udp")
        .int("clients", nclients as u64)
        .int("size", size as u64)
        .int("datagrams", received)
        .int("lost", lost)
        .int("late", stale)
        .num("rps", received as f64 / secs)
        .num("p50_us", percentile(&latencies, 50.0) as f64 / 1e3)
        .num("p99_us", percentile(&latencies, 99.0) as f64 / 1e3);
    window.finish(line, received).print();
    Ok(())
}

// ---------------------------------------------------------------------------
// Idle connections: the server's memory per connection

/// One blocking echo round trip, so the server has surely accepted the
/// connection and set up whatever it keeps for it.
fn round_trip(stream: &mut StdTcp, conn: usize) -> Res<()> {
    let mut msg = [0u8; 16];
    fill_pattern(&mut msg, conn);
    stream.write_all(&msg)?;
    let mut got = [0u8; 16];
    stream.read_exact(&mut got)?;
    if got != msg {
        return Err("echo mismatch on an idle connection".into());
    }
    Ok(())
}

fn idle(args: &Args) -> Res<()> {
    let (addr, pid) = target(args)?;
    if pid == 0 {
        return Err("idle needs --server-pid".into());
    }
    let n: usize = args.num("conns", 1000);
    let settle = args.secs("settle", 0.5);
    let open = |i: usize| -> Res<StdTcp> {
        let mut s = StdTcp::connect_timeout(&addr, Duration::from_secs(10))?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        s.set_nodelay(true)?;
        round_trip(&mut s, i)?;
        Ok(s)
    };
    let first = open(0)?;
    std::thread::sleep(settle);
    let rss0 = rss_kib(pid).ok_or("cannot read the server's RSS")?;
    let threads0 = threads(pid).unwrap_or(0);
    let mut held = vec![first];
    for i in 1..=n {
        held.push(open(i)?);
    }
    std::thread::sleep(settle);
    let rss1 = rss_kib(pid).ok_or("cannot read the server's RSS")?;
    let threads1 = threads(pid).unwrap_or(0);
    JsonLine::new()
        .str("mode", "idle")
        .int("conns", n as u64)
        .int("rss0_kib", rss0)
        .int("rss1_kib", rss1)
        .num("kib_per_conn", (rss1 as f64 - rss0 as f64) / n as f64)
        .int("threads0", threads0)
        .int("threads1", threads1)
        .print();
    drop(held);
    Ok(())
}

// ---------------------------------------------------------------------------
// Chat room fan-out

struct ChatConn {
    stream: TcpStream,
    buf: Vec<u8>,
    len: usize,
}

/// The sequence number in a relayed `{"name":"bench",...,"msg":"m<seq>"}`,
/// or `None` for the server's own messages (joins, leaves).
fn chat_seq(line: &[u8]) -> Option<u64> {
    const KEY: &[u8] = b"\"msg\":\"m";
    let at = line.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let digits = &line[at..];
    let end = digits.iter().position(|b| !b.is_ascii_digit())?;
    std::str::from_utf8(&digits[..end]).ok()?.parse().ok()
}

/// Sends probe messages (`"msg":"p<k>"`, which [`chat_seq`] ignores) from
/// client 0 until one probe reaches every client: then all have joined.
/// Everything read meanwhile (join notices, probes) is dropped.
fn wait_until_all_joined(poll: &mut Poll, conns: &mut [ChatConn]) -> Res<()> {
    let mut events = Events::with_capacity(4096);
    for k in 0..100u32 {
        let probe =
            format!("{{\"name\":\"bench\",\"msg\":\"p{k}\",\"time\":\"2024-01-01 00:00:00\"}}\n");
        let needle = format!("\"msg\":\"p{k}\"");
        conns[0].stream.write_all(probe.as_bytes())?;
        let mut got = vec![false; conns.len()];
        let deadline = Instant::now() + Duration::from_millis(300);
        while got.iter().any(|g| !g) && Instant::now() < deadline {
            poll.poll(&mut events, Some(Duration::from_millis(20)))?;
            for ev in events.iter() {
                let i = ev.token().0;
                let c = &mut conns[i];
                loop {
                    match c.stream.read(&mut c.buf[c.len..]) {
                        Ok(0) => return Err(format!("the server closed chat client {i}").into()),
                        Ok(m) => c.len += m,
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                        Err(e) => return Err(e.into()),
                    }
                    let seen = &c.buf[..c.len];
                    if seen.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                        got[i] = true;
                    }
                    // Keep only a partial last line.
                    let keep = seen
                        .iter()
                        .rposition(|&b| b == b'\n')
                        .map_or(0, |nl| nl + 1);
                    c.buf.copy_within(keep..c.len, 0);
                    c.len -= keep;
                    if c.len == c.buf.len() {
                        return Err("a chat line longer than 64 KiB".into());
                    }
                }
            }
        }
        if got.iter().all(|g| *g) {
            // Let the last probes' copies drain before measuring.
            std::thread::sleep(Duration::from_millis(50));
            return Ok(());
        }
    }
    Err("not every chat client joined the room within 100 probes".into())
}

fn chat(args: &Args) -> Res<()> {
    let (addr, pid) = target(args)?;
    let n: usize = args.num("clients", 10);
    let window_msgs: usize = args.num("window", 16);
    let mut poll = Poll::new()?;
    let mut conns = Vec::with_capacity(n);
    for i in 0..n {
        let mut stream = connect(addr)?;
        poll.registry()
            .register(&mut stream, Token(i), Interest::READABLE)?;
        conns.push(ChatConn {
            stream,
            buf: vec![0u8; 64 * 1024],
            len: 0,
        });
    }
    // The room relays to a connection from the moment it joins: wait until
    // every client is in (a fixed sleep lost the race on a loaded machine).
    wait_until_all_joined(&mut poll, &mut conns)?;
    // Messages in flight: (seq, deliveries so far, sent at).
    let mut inflight: VecDeque<(u64, usize, Instant)> = VecDeque::new();
    let mut next_seq = 1u64;
    let mut send =
        |conns: &mut Vec<ChatConn>, inflight: &mut VecDeque<(u64, usize, Instant)>| -> Res<()> {
            let msg = format!(
                "{{\"name\":\"bench\",\"msg\":\"m{next_seq}\",\"time\":\"2024-01-01 00:00:00\"}}\n"
            );
            // Small and rare next to the fan-out: a blocking-style retry loop
            // is fine.
            let mut off = 0;
            let deadline = Instant::now() + Duration::from_secs(5);
            while off < msg.len() {
                match conns[0].stream.write(&msg.as_bytes()[off..]) {
                    Ok(k) => off += k,
                    Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < deadline => {
                        std::thread::yield_now()
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            inflight.push_back((next_seq, 0, Instant::now()));
            next_seq += 1;
            Ok(())
        };
    for _ in 0..window_msgs {
        send(&mut conns, &mut inflight)?;
    }
    let clock = Clock::new(args);
    let mut events = Events::with_capacity(4096);
    let mut window: Option<CpuWindow> = None;
    let (mut delivered, mut completed) = (0u64, 0u64);
    let mut latencies: Vec<u64> = Vec::new();
    let stall = Duration::from_secs(5);
    let mut last_progress = Instant::now();
    loop {
        let now = Instant::now();
        if now >= clock.end {
            break;
        }
        if now.duration_since(last_progress) > stall {
            return Err(format!(
                "no message delivered for {}s (the server may have dropped slow clients)",
                stall.as_secs()
            )
            .into());
        }
        if window.is_none() && now >= clock.start_measure {
            window = Some(CpuWindow::start(pid));
            (delivered, completed) = (0, 0);
            latencies.clear();
        }
        poll.poll(&mut events, Some(Duration::from_millis(50)))?;
        for ev in events.iter() {
            let i = ev.token().0;
            loop {
                let c = &mut conns[i];
                if c.len == c.buf.len() {
                    return Err("a chat line longer than 64 KiB".into());
                }
                match c.stream.read(&mut c.buf[c.len..]) {
                    Ok(0) => return Err(format!("the server closed chat client {i}").into()),
                    Ok(k) => c.len += k,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e.into()),
                }
                // Take every whole line.
                let mut start = 0;
                while let Some(nl) = c.buf[start..c.len].iter().position(|&b| b == b'\n') {
                    let line = &c.buf[start..start + nl];
                    if let Some(seq) = chat_seq(line) {
                        let front = inflight.front().map(|m| m.0).unwrap_or(seq);
                        let slot = seq.checked_sub(front).map(|d| d as usize);
                        match slot.and_then(|s| inflight.get_mut(s)) {
                            Some(m) => m.1 += 1,
                            None => return Err(format!("unexpected chat message m{seq}").into()),
                        }
                        delivered += 1;
                        last_progress = Instant::now();
                    }
                    start += nl + 1;
                }
                c.buf.copy_within(start..c.len, 0);
                c.len -= start;
            }
            while inflight.front().is_some_and(|m| m.1 == n) {
                let (_, _, t0) = inflight.pop_front().unwrap_or((0, 0, Instant::now()));
                latencies.push(t0.elapsed().as_nanos() as u64);
                completed += 1;
            }
            while inflight.len() < window_msgs {
                send(&mut conns, &mut inflight)?;
            }
        }
    }
    let window = window.ok_or("the run ended before the measured window began")?;
    latencies.sort_unstable();
    let secs = window.t0.elapsed().as_secs_f64();
    let line = JsonLine::new()
        .str("mode", "chat")
        .int("clients", n as u64)
        .int("delivered", delivered)
        .int("messages", completed)
        .num("rps", delivered as f64 / secs)
        .num("messages_per_s", completed as f64 / secs)
        .num("p50_us", percentile(&latencies, 50.0) as f64 / 1e3)
        .num("p99_us", percentile(&latencies, 99.0) as f64 / 1e3);
    window.finish(line, delivered).print();
    Ok(())
}
