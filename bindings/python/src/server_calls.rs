//! How the Rust server loop calls Python (the hooks and, through them, the
//! handlers), so that a daemon thread running it survives interpreter exit.
//!
//! CPython before 3.14 ends a thread that wants the GIL after finalization
//! has begun with `pthread_exit`: a forced unwind through the thread's
//! whole stack. A daemon thread running `serve_forever` has the loop's Rust
//! frames under the Python code of a hook; pyo3's call wrappers there are
//! declared not to unwind, so the forced unwind would abort the process on
//! its way out (a stdlib server on a daemon thread just disappears).
//!
//! The calls below therefore go through `C-unwind` declarations of the C
//! API, with a guard whose destructor parks the thread for ever: a forced
//! unwind out of the call runs that destructor, and the thread stops there
//! instead of unwinding further, until the process exits. This is what
//! pyo3 itself does around `PyEval_RestoreThread` and `PyGILState_Ensure`
//! (its `HangThread`), and what CPython 3.14 does for every such thread.
//! Running a destructor during a forced unwind is not specified by Rust
//! (RFC 2945); it is what rustc does, and what pyo3 relies on as well.

use std::ptr;

use pyo3::ffi::PyObject;
use pyo3::prelude::*;
use pyo3::types::PyString;

// The C API calls that may run Python code, declared `C-unwind` so that a
// forced unwind out of them reaches the guard's destructor.
unsafe extern "C-unwind" {
    fn PyObject_GetAttr(obj: *mut PyObject, name: *mut PyObject) -> *mut PyObject;
    fn PyObject_Vectorcall(
        callable: *mut PyObject,
        args: *const *mut PyObject,
        nargsf: usize,
        kwnames: *mut PyObject,
    ) -> *mut PyObject;
    fn PyObject_VectorcallMethod(
        name: *mut PyObject,
        args: *const *mut PyObject,
        nargsf: usize,
        kwnames: *mut PyObject,
    ) -> *mut PyObject;
}

/// The size of the argument vector, which lives on the stack: a method call
/// passes its object and up to three arguments, a plain call up to four
/// (the handler class gets the request, the client address and the server).
const MAX_ARGS: usize = 4;

/// Parks the thread for ever when dropped; forgotten on every normal path.
struct ParkOnForcedUnwind;

impl Drop for ParkOnForcedUnwind {
    fn drop(&mut self) {
        loop {
            std::thread::park();
        }
    }
}

/// `obj.name(*args)`, as Python's method call does it: no bound method
/// and no argument tuple are made (vectorcall).
///
/// # Panics
/// With more than three arguments (no hook takes more).
pub fn call<'py>(
    obj: &Bound<'py, PyAny>,
    name: &Bound<'py, PyString>,
    args: &[&Bound<'py, PyAny>],
) -> PyResult<Bound<'py, PyAny>> {
    assert!(args.len() < MAX_ARGS, "too many arguments for a hook");
    let mut vector = [ptr::null_mut(); MAX_ARGS];
    vector[0] = obj.as_ptr();
    for (slot, arg) in vector[1..].iter_mut().zip(args) {
        *slot = arg.as_ptr();
    }
    let guard = ParkOnForcedUnwind;
    // SAFETY: the thread is attached (we hold `obj`'s `py`); the vector
    // holds `obj` and then the borrowed arguments, all live for the call;
    // the result is a new reference or NULL with an exception set.
    let result = unsafe {
        PyObject_VectorcallMethod(
            name.as_ptr(),
            vector.as_ptr(),
            args.len() + 1,
            ptr::null_mut(),
        )
    };
    std::mem::forget(guard);
    // SAFETY: `result` is a new reference, or NULL with an exception set.
    unsafe { Bound::from_owned_ptr_or_err(obj.py(), result) }
}

/// `callable(*args)` (vectorcall).
///
/// # Panics
/// With more than four arguments.
pub fn call_object<'py>(
    callable: &Bound<'py, PyAny>,
    args: &[&Bound<'py, PyAny>],
) -> PyResult<Bound<'py, PyAny>> {
    assert!(args.len() <= MAX_ARGS, "too many arguments for a hook");
    let mut vector = [ptr::null_mut(); MAX_ARGS];
    for (slot, arg) in vector.iter_mut().zip(args) {
        *slot = arg.as_ptr();
    }
    let guard = ParkOnForcedUnwind;
    // SAFETY: attached; `callable` and the borrowed arguments are live for
    // the call; a new reference or NULL with an exception set.
    let result = unsafe {
        PyObject_Vectorcall(
            callable.as_ptr(),
            vector.as_ptr(),
            args.len(),
            ptr::null_mut(),
        )
    };
    std::mem::forget(guard);
    // SAFETY: as above.
    unsafe { Bound::from_owned_ptr_or_err(callable.py(), result) }
}

/// `obj.name`.
pub fn attr<'py>(
    obj: &Bound<'py, PyAny>,
    name: &Bound<'py, PyString>,
) -> PyResult<Bound<'py, PyAny>> {
    let guard = ParkOnForcedUnwind;
    // SAFETY: attached; live objects; a new reference or NULL with an
    // exception set.
    let result = unsafe { PyObject_GetAttr(obj.as_ptr(), name.as_ptr()) };
    std::mem::forget(guard);
    // SAFETY: as above.
    unsafe { Bound::from_owned_ptr_or_err(obj.py(), result) }
}
