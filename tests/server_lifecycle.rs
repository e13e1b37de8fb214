//! Starting and stopping: `shutdown` from outside and from inside a
//! handler, `handle_request` with a timeout, `close` and its threads, and
//! the signal mask of the engine's threads.
//!
//! No test asserts how fast something happens; "promptly" is checked
//! against a generous bound that only a hang would exceed.

mod util;

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use ferrosock::server::{Connection, HandlerResult, Hooks, Mode, Server};
use ferrosock::ErrorKind;
use util::server::{ask, connect, phone, tcp, wait_until, PATIENCE};

/// Runs `serve_forever` on a scoped thread and returns its result once
/// `stop` (run on this thread) has returned and the loop has ended.
fn serve_while(server: &Server, stop: impl FnOnce()) -> ferrosock::Result<()> {
    thread::scope(|s| {
        let looping = s.spawn(|| server.serve_forever());
        stop();
        looping.join().expect("loop thread")
    })
}

#[test]
fn shutdown_from_another_thread_returns_promptly() {
    let server = tcp().build(phone).unwrap();
    let handle = server.handle();
    let result = serve_while(&server, || {
        // Let the loop get into its wait, then stop it.
        let c = connect(server.local_addr());
        assert_eq!(ask(&c, "up"), "UP");
        let start = Instant::now();
        handle.shutdown();
        // Generous: only a loop that never wakes up would take this long.
        assert!(
            start.elapsed() < PATIENCE,
            "shutdown took {:?}",
            start.elapsed()
        );
    });
    result.unwrap();
}

#[test]
fn shutdown_before_serve_forever_makes_it_return_at_once() {
    let server = tcp().build(phone).unwrap();
    server.shutdown(); // no loop yet: must not hang (CPython's would)
    server.serve_forever().unwrap();
    // The request was used up: handle_request works normally afterwards.
    assert!(!server
        .handle_request(Some(Duration::from_millis(10)))
        .unwrap());
}

#[test]
fn shutdown_from_inside_a_handler_does_not_deadlock_in_any_mode() {
    for mode in [
        Mode::Sequential,
        Mode::ThreadPerConnection,
        Mode::Pool { threads: 1 },
    ] {
        let server = tcp()
            .mode(mode)
            .build(|conn: &mut Connection| -> HandlerResult {
                conn.server().shutdown(); // only asks; returns at once
                conn.write_all(b"bye")?;
                Ok(())
            })
            .unwrap();
        let addr = server.local_addr().clone();
        let result = thread::scope(|s| {
            let looping = s.spawn(|| server.serve_forever());
            let c = connect(&addr);
            let mut buf = [0u8; 8];
            let n = c.recv(&mut buf, 0).unwrap();
            assert_eq!(&buf[..n], b"bye", "{mode:?}");
            looping.join().expect("loop thread")
        });
        result.unwrap_or_else(|e| panic!("{mode:?}: {e}"));
        server.close();
        assert_eq!(server.handler_threads(), 0, "{mode:?}");
    }
}

#[test]
fn handle_request_with_a_timeout_returns_when_nothing_arrives() {
    #[derive(Clone, Default)]
    struct Timeouts(Arc<AtomicUsize>);
    impl Hooks for Timeouts {
        fn timeout(&self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let timeouts = Timeouts::default();
    let server = tcp().hooks(timeouts.clone()).build(phone).unwrap();
    let start = Instant::now();
    assert!(!server
        .handle_request(Some(Duration::from_millis(50)))
        .unwrap());
    assert!(start.elapsed() < PATIENCE);
    assert_eq!(timeouts.0.load(Ordering::SeqCst), 1, "handle_timeout ran");
}

#[test]
fn handle_request_serves_exactly_one_request() {
    let server = tcp().mode(Mode::Sequential).build(phone).unwrap();
    let addr = server.local_addr().clone();
    let client = thread::spawn(move || {
        let c = connect(&addr);
        let reply = ask(&c, "just one");
        drop(c);
        reply
    });
    assert!(server.handle_request(Some(PATIENCE)).unwrap());
    assert_eq!(client.join().unwrap(), "JUST ONE");
}

/// The names of this process's threads, as the kernel lists them.
fn os_thread_names() -> Vec<String> {
    let mut names = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        if let Ok(comm) = std::fs::read_to_string(task.path().join("comm")) {
            names.push(comm.trim_end().to_string());
        }
    }
    names
}

#[test]
fn finished_handler_threads_are_reaped_as_they_finish() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let names = Arc::clone(&seen);
    let server = tcp()
        .mode(Mode::ThreadPerConnection)
        .build(move |conn: &mut Connection| -> HandlerResult {
            // Thread names are unique in the process (numbered), so the
            // test can look for this very thread in /proc afterwards.
            let name = thread::current().name().unwrap_or("?").to_string();
            names.lock().unwrap().push(name);
            phone(conn)
        })
        .unwrap();
    let handle = server.handle();
    let live_while_connected = Mutex::new(Vec::new());
    serve_while(&server, || {
        for i in 0..20 {
            let c = connect(server.local_addr());
            assert_eq!(ask(&c, &format!("c{i}")), format!("C{i}"));
            live_while_connected
                .lock()
                .unwrap()
                .push(server.handler_threads());
            drop(c);
            // The thread ends when its client leaves, and is not kept: the
            // engine's count drops back, and the kernel no longer lists it.
            wait_until("the handler thread to end", || {
                server.handler_threads() == 0
            });
            let name = seen.lock().unwrap().last().cloned().unwrap();
            wait_until("the OS thread to go", || !os_thread_names().contains(&name));
        }
        handle.shutdown();
    })
    .unwrap();
    assert!(live_while_connected.lock().unwrap().iter().all(|&n| n == 1));
    assert_eq!(seen.lock().unwrap().len(), 20);
    assert_eq!(server.handler_threads(), 0);
}

#[test]
fn servers_and_handles_can_be_shared_between_threads() {
    fn send_sync<T: Send + Sync + Clone>() {}
    fn send_sync_server<T: Send + Sync>() {}
    send_sync::<ferrosock::server::ServerHandle>();
    send_sync_server::<Server>();
}

#[test]
fn close_waits_for_handler_threads_when_block_on_close_is_set() {
    let finished = Arc::new(AtomicBool::new(false));
    let done = Arc::clone(&finished);
    let server = tcp()
        .block_on_close(true)
        .build(move |conn: &mut Connection| -> HandlerResult {
            phone(conn)?;
            // Some work after the client left, which close must wait for.
            thread::sleep(Duration::from_millis(100));
            done.store(true, Ordering::SeqCst);
            Ok(())
        })
        .unwrap();
    let handle = server.handle();
    serve_while(&server, || {
        let c = connect(server.local_addr());
        assert_eq!(ask(&c, "x"), "X");
        drop(c);
        handle.shutdown();
    })
    .unwrap();
    server.close();
    assert!(
        finished.load(Ordering::SeqCst),
        "close returned before the handler"
    );
    assert_eq!(server.handler_threads(), 0);
}

#[test]
fn close_without_block_on_close_leaves_threads_to_finish_on_their_own() {
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let rx = Mutex::new(rx);
    let server = tcp()
        .block_on_close(false)
        .build(move |conn: &mut Connection| -> HandlerResult {
            conn.write_all(b"in")?;
            let _ = rx.lock().unwrap().recv_timeout(PATIENCE);
            Ok(())
        })
        .unwrap();
    let handle = server.handle();
    let c = thread::scope(|s| {
        let looping = s.spawn(|| server.serve_forever());
        let c = connect(server.local_addr());
        let mut buf = [0u8; 4];
        assert_eq!(c.recv(&mut buf, 0).unwrap(), 2);
        handle.shutdown();
        looping.join().unwrap().unwrap();
        c
    });
    server.close(); // returns with the handler still running
    assert_eq!(server.handler_threads(), 1);
    tx.send(()).unwrap();
    wait_until("the detached thread to end", || {
        server.handler_threads() == 0
    });
    drop(c);
}

#[test]
fn a_second_loop_on_the_same_server_is_refused() {
    let server = tcp().build(phone).unwrap();
    let handle = server.handle();
    serve_while(&server, || {
        // Wait until the loop runs, seen through a served request.
        let c = connect(server.local_addr());
        assert_eq!(ask(&c, "a"), "A");
        let err = server
            .handle_request(Some(Duration::from_millis(1)))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("already serving"), "{err}");
        drop(c);
        handle.shutdown();
    })
    .unwrap();
}

#[test]
fn serving_after_close_fails_with_closed() {
    let server = tcp().build(phone).unwrap();
    server.close();
    server.close(); // idempotent
    let err = server.serve_forever().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Closed);
}

#[test]
fn the_service_hook_runs_every_interval_while_idle() {
    #[derive(Clone, Default)]
    struct Ticks(Arc<AtomicUsize>);
    impl Hooks for Ticks {
        fn service(&self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
        fn service_interval(&self) -> Option<Duration> {
            Some(Duration::from_millis(10))
        }
    }
    let ticks = Ticks::default();
    let server = tcp().hooks(ticks.clone()).build(phone).unwrap();
    let handle = server.handle();
    serve_while(&server, || {
        wait_until("three service turns", || {
            ticks.0.load(Ordering::SeqCst) >= 3
        });
        handle.shutdown();
    })
    .unwrap();
}

/// Whether `sig` is blocked on the calling thread.
fn blocked(sig: i32) -> bool {
    let mut mask = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: with a null new set, pthread_sigmask only writes the current
    // mask into `mask`, which we read after it succeeded.
    unsafe {
        assert_eq!(
            libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), mask.as_mut_ptr()),
            0
        );
        libc::sigismember(mask.as_ptr(), sig) == 1
    }
}

#[test]
fn handler_threads_block_sigint_and_sigterm_and_the_caller_keeps_its_mask() {
    let before = (blocked(libc::SIGINT), blocked(libc::SIGTERM));
    for mode in [Mode::ThreadPerConnection, Mode::Pool { threads: 1 }] {
        let server = tcp()
            .mode(mode)
            .build(|conn: &mut Connection| -> HandlerResult {
                let answer = format!("{} {}", blocked(libc::SIGINT), blocked(libc::SIGTERM));
                conn.write_all(answer.as_bytes())?;
                Ok(())
            })
            .unwrap();
        let addr = server.local_addr().clone();
        let client = thread::spawn(move || {
            let c = connect(&addr);
            let mut buf = [0u8; 32];
            let n = c.recv(&mut buf, 0).unwrap();
            String::from_utf8_lossy(&buf[..n]).into_owned()
        });
        // The loop runs on this thread, so the mask is restored here.
        assert!(server.handle_request(Some(PATIENCE)).unwrap());
        assert_eq!(client.join().unwrap(), "true true", "{mode:?}");
        assert_eq!(
            (blocked(libc::SIGINT), blocked(libc::SIGTERM)),
            before,
            "{mode:?}"
        );
    }
}
