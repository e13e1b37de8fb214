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

use pyo3::ffi::PyObject;
use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple};

// The C API calls that may run Python code, declared `C-unwind` so that a
// forced unwind out of them reaches the guard's destructor.
unsafe extern "C-unwind" {
    fn PyObject_GetAttr(obj: *mut PyObject, name: *mut PyObject) -> *mut PyObject;
    fn PyObject_Call(
        callable: *mut PyObject,
        args: *mut PyObject,
        kwargs: *mut PyObject,
    ) -> *mut PyObject;
    fn Py_DecRef(obj: *mut PyObject);
}

/// Parks the thread for ever when dropped; forgotten on every normal path.
struct ParkOnForcedUnwind;

impl Drop for ParkOnForcedUnwind {
    fn drop(&mut self) {
        loop {
            std::thread::park();
        }
    }
}

/// `obj.name(*args)`.
pub fn call<'py>(
    obj: &Bound<'py, PyAny>,
    name: &Bound<'py, PyString>,
    args: impl IntoPyObject<'py, Target = PyTuple, Output = Bound<'py, PyTuple>>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = obj.py();
    let args = args.into_pyobject(py).map_err(Into::into)?;
    let guard = ParkOnForcedUnwind;
    // SAFETY: the thread is attached (we hold `py`); `obj`, `name` and
    // `args` are live objects; GetAttr and Call return a new reference or
    // NULL with an exception set, and the method's reference is released
    // exactly once.
    let result = unsafe {
        let method = PyObject_GetAttr(obj.as_ptr(), name.as_ptr());
        if method.is_null() {
            method
        } else {
            let result = PyObject_Call(method, args.as_ptr(), std::ptr::null_mut());
            Py_DecRef(method);
            result
        }
    };
    std::mem::forget(guard);
    // SAFETY: `result` is a new reference, or NULL with an exception set.
    unsafe { Bound::from_owned_ptr_or_err(py, result) }
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
