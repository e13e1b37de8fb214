//! `_ferrosock._ThreadCrew`: the handler threads of
//! `ferrosock.socketserver.ThreadingMixIn`, started and counted in Rust.
//!
//! Each request runs on a thread that Rust starts with SIGINT and SIGTERM
//! blocked ([`ferrosock::server::with_stop_signals_blocked`]: Ctrl-C
//! reaches the main thread, as Python expects) and counts in a core
//! [`ferrosock::server::Crew`], from which it removes itself as it ends, so
//! nothing accumulates however many requests are served (CPython 3.11 keeps
//! finished threads in a list until `server_close`). `join` waits for the
//! non-daemon threads with the GIL released; a second Ctrl-C interrupts it.
//!
//! The thread itself comes from CPython's own `PyThread_start_new_thread`,
//! not `std::thread`, for the sake of interpreter exit. CPython 3.11 ends a
//! thread that wants the GIL after finalization has begun (a daemon thread)
//! with `pthread_exit`, a forced unwind through everything on the thread's
//! stack. A `std::thread` has Rust frames that cannot be unwound that way
//! (its `catch_unwind`, pyo3's call wrappers): the process would abort. So
//! below the Python code there is only CPython's thread start and
//! [`run_job`], a "plain old frame" (no destructors, only `C-unwind` calls),
//! which a forced unwind may cross (RFC 2945) — exactly as for a thread
//! started by `threading`.

use std::ffi::{c_ulong, c_void, CString};

use ferrosock::server::{with_stop_signals_blocked, Crew, Enlistment};
use pyo3::exceptions::PyRuntimeError;
use pyo3::ffi::{PyGILState_STATE, PyObject};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::errors::{without_gil, OrRaise};

// The CPython calls a crew thread makes, declared `C-unwind`: they may end
// the thread with a forced unwind (see the module docs), which must be
// allowed to pass through the calling frame.
unsafe extern "C-unwind" {
    fn PyThread_start_new_thread(
        func: unsafe extern "C-unwind" fn(*mut c_void),
        arg: *mut c_void,
    ) -> c_ulong;
    fn PyGILState_Ensure() -> PyGILState_STATE;
    fn PyGILState_Release(state: PyGILState_STATE);
    fn PyObject_Call(
        callable: *mut PyObject,
        args: *mut PyObject,
        kwargs: *mut PyObject,
    ) -> *mut PyObject;
    fn PyErr_WriteUnraisable(obj: *mut PyObject);
    fn Py_DecRef(obj: *mut PyObject);
}

/// `PYTHREAD_INVALID_THREAD_ID`: what PyThread_start_new_thread returns on
/// failure.
const INVALID_THREAD_ID: c_ulong = c_ulong::MAX;

/// The threads of one server.
#[pyclass(name = "_ThreadCrew", module = "ferrosock._ferrosock", frozen, weakref)]
pub struct ThreadCrew {
    inner: Crew,
}

/// Everything one thread needs, owned, behind one raw pointer.
struct Job {
    /// Owned references (each released by the thread, GIL held).
    target: *mut PyObject,
    args: *mut PyObject,
    /// The `_ThreadCrew` object, kept alive while the thread runs, so weak
    /// registries of crews (threads to join at exit) keep it.
    crew: *mut PyObject,
    name: CString,
    enlistment: Enlistment,
}

#[pymethods]
impl ThreadCrew {
    #[new]
    #[pyo3(signature = (prefix = "fsock-req"))]
    fn new(prefix: &str) -> ThreadCrew {
        ThreadCrew {
            inner: Crew::new(prefix),
        }
    }

    /// spawn(target, args, daemon)
    ///
    /// Run target(*args) on a new thread (SIGINT/SIGTERM blocked there).
    /// join() waits for it unless daemon is true. An exception escaping
    /// target is reported as unraisable. Raises RuntimeError if the thread
    /// cannot be started.
    fn spawn(
        slf: &Bound<'_, ThreadCrew>,
        target: Py<PyAny>,
        args: Py<PyTuple>,
        daemon: bool,
    ) -> PyResult<()> {
        let crew = &slf.get().inner;
        let name = CString::new(crew.thread_name()).unwrap_or_default();
        let job = Box::into_raw(Box::new(Job {
            target: target.into_ptr(),
            args: args.into_ptr(),
            crew: slf.clone().into_any().unbind().into_ptr(),
            name,
            enlistment: crew.enlist(!daemon),
        }));
        let started = with_stop_signals_blocked(|| {
            // SAFETY: run_job matches the start routine's C signature; it
            // takes ownership of `job`, which stays valid until it does.
            unsafe { PyThread_start_new_thread(run_job, job.cast()) }
        });
        match started {
            Ok(id) if id != INVALID_THREAD_ID => Ok(()),
            failed => {
                // SAFETY: the thread did not start, so `job` is still ours;
                // we hold the GIL (`slf`), which releasing references needs.
                unsafe {
                    let job = Box::from_raw(job);
                    Py_DecRef(job.target);
                    Py_DecRef(job.args);
                    Py_DecRef(job.crew);
                }
                let why = match failed {
                    Err(e) => e.to_string(),
                    Ok(_) => "the system refused a new thread".to_string(),
                };
                Err(PyRuntimeError::new_err(format!(
                    "can't start new thread: {why}"
                )))
            }
        }
    }

    /// join()
    ///
    /// Wait until every non-daemon thread (but the calling one) has
    /// finished, with the GIL released. Interruptible: a signal whose
    /// handler raises (Ctrl-C) ends the wait with that exception.
    fn join(&self, py: Python<'_>) -> PyResult<()> {
        // A signal already handled by the C handler brings no EINTR.
        py.check_signals()?;
        without_gil(py, || self.inner.join("server_close")).or_raise(py)
    }

    /// How many threads have not finished yet.
    #[getter]
    fn live(&self) -> usize {
        self.inner.live()
    }

    fn __repr__(&self) -> String {
        format!(
            "<ferrosock._ferrosock._ThreadCrew live={}>",
            self.inner.live()
        )
    }
}

/// The start routine of a crew thread.
///
/// A plain old frame: only raw pointers live here and every call that can
/// run Python is `C-unwind`, so CPython's `pthread_exit` at interpreter
/// exit may unwind through it (the job is then leaked with the process).
unsafe extern "C-unwind" fn run_job(arg: *mut c_void) {
    let job = arg.cast::<Job>();
    // SAFETY: `arg` is the Job that `spawn` handed over; from here on this
    // thread owns it. The Python calls follow the C API's rules: GIL taken
    // with PyGILState_Ensure, owned references released once.
    unsafe {
        started(job);
        let gil = PyGILState_Ensure();
        let result = PyObject_Call((*job).target, (*job).args, std::ptr::null_mut());
        if result.is_null() {
            PyErr_WriteUnraisable((*job).target);
        } else {
            Py_DecRef(result);
        }
        Py_DecRef((*job).target);
        Py_DecRef((*job).args);
        Py_DecRef((*job).crew);
        PyGILState_Release(gil);
        finished(job);
    }
}

/// Names the thread and tells the crew which thread it is.
///
/// # Safety
/// `job` must point to a live Job owned by the calling thread.
unsafe fn started(job: *mut Job) {
    // SAFETY: per this function's contract.
    let job = unsafe { &*job };
    // SAFETY: the name is a NUL-terminated string, which Linux truncates
    // to 15 bytes; naming our own thread has no other effect.
    unsafe { libc::pthread_setname_np(libc::pthread_self(), job.name.as_ptr()) };
    job.enlistment.started();
}

/// Frees the job; dropping its enlistment counts the thread out of the crew.
///
/// # Safety
/// `job` must come from `Box::into_raw` and not be used afterwards.
unsafe fn finished(job: *mut Job) {
    // SAFETY: per this function's contract.
    drop(unsafe { Box::from_raw(job) });
}
