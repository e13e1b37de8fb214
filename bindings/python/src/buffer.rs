//! Python memory that the core reads from or receives into, without copies.
//!
//! * [`BufferView`]: a bytes-like object (`bytes`, `bytearray`,
//!   `memoryview`, `array`, …) through the buffer protocol, as CPython's
//!   `y*` (readable) and `w*` (writable) argument formats take it.
//! * [`NewBytes`]: a fresh `bytes` object that `recv` fills in place and then
//!   shrinks to the received length, as CPython's `sock_recv` does.
//!
//! Both hand the core a plain slice, which may cross `py.detach` (a slice is
//! `Send`); the Python objects themselves stay on this side of the GIL.

use std::ffi::c_char;
use std::mem::MaybeUninit;

use pyo3::exceptions::PyTypeError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::args::type_name;

unsafe extern "C" {
    // Part of CPython's C API on every version we support (it is how
    // bytes objects are shrunk in place); pyo3-ffi keeps its binding private.
    fn _PyBytes_Resize(bytes: *mut *mut ffi::PyObject, newsize: ffi::Py_ssize_t)
        -> std::ffi::c_int;
}

/// A held buffer export (`PyObject_GetBuffer`), released on drop.
pub struct BufferView {
    // Boxed so the Py_buffer keeps its address while the export is held.
    view: Box<ffi::Py_buffer>,
}

impl BufferView {
    /// A read-only view, or CPython's own error ("a bytes-like object is
    /// required, not 'str'").
    pub fn readable(obj: &Bound<'_, PyAny>) -> PyResult<BufferView> {
        BufferView::get(obj, ffi::PyBUF_SIMPLE)
    }

    /// A writable view, or the message of CPython's `w*` format:
    /// "recv_into() argument 1 must be read-write bytes-like object, not bytes".
    pub fn writable(obj: &Bound<'_, PyAny>, fname: &str) -> PyResult<BufferView> {
        BufferView::get(obj, ffi::PyBUF_WRITABLE).map_err(|_| {
            let tname = if obj.is_none() {
                "None".to_owned()
            } else {
                type_name(obj)
            };
            PyTypeError::new_err(format!(
                "{fname}() argument 1 must be read-write bytes-like object, not {tname}"
            ))
        })
    }

    fn get(obj: &Bound<'_, PyAny>, flags: std::ffi::c_int) -> PyResult<BufferView> {
        let mut view: Box<MaybeUninit<ffi::Py_buffer>> = Box::new(MaybeUninit::uninit());
        // SAFETY: `view` points to writable memory for one Py_buffer and obj
        // is a live object (we hold the GIL). On success the struct is filled
        // in; on failure an exception is set and nothing needs releasing.
        let rc = unsafe { ffi::PyObject_GetBuffer(obj.as_ptr(), view.as_mut_ptr(), flags) };
        if rc != 0 {
            return Err(PyErr::fetch(obj.py()));
        }
        // SAFETY: PyObject_GetBuffer succeeded, so the struct is initialised.
        let view = unsafe { Box::from_raw(Box::into_raw(view).cast::<ffi::Py_buffer>()) };
        Ok(BufferView { view })
    }

    /// The number of bytes in the buffer.
    pub fn len(&self) -> usize {
        self.view.len as usize
    }

    /// The bytes, for the core to send.
    pub fn as_slice(&self) -> &[u8] {
        if self.len() == 0 {
            return &[];
        }
        // SAFETY: the exporter guarantees `buf` is valid for `len` contiguous
        // bytes (PyBUF_SIMPLE / PyBUF_WRITABLE ask for C-contiguous memory)
        // for as long as the export is held, which is as long as `self`.
        unsafe { std::slice::from_raw_parts(self.view.buf.cast::<u8>(), self.len()) }
    }

    /// The bytes, for the core to receive into. Only for writable views.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        debug_assert_eq!(self.view.readonly, 0);
        if self.len() == 0 {
            return &mut [];
        }
        // SAFETY: as in `as_slice`, and the exporter granted write access
        // (PyBUF_WRITABLE). Another Python thread could write to the same
        // object meanwhile, exactly as with CPython's recv_into; the slice
        // only reaches the kernel through the core, never Rust reads.
        unsafe { std::slice::from_raw_parts_mut(self.view.buf.cast::<u8>(), self.len()) }
    }
}

impl Drop for BufferView {
    fn drop(&mut self) {
        // A view is only ever created and dropped while attached; attach is
        // then a cheap re-entry, and it keeps the release sound regardless.
        Python::attach(|_py| {
            // SAFETY: the view was filled by a successful PyObject_GetBuffer
            // and is released exactly once.
            unsafe { ffi::PyBuffer_Release(&mut *self.view) }
        });
    }
}

/// A new `bytes` object under construction: allocated at full size, filled by
/// the core, then shrunk in place to what arrived.
pub struct NewBytes {
    obj: *mut ffi::PyObject,
    len: usize,
}

impl NewBytes {
    /// Allocates `len` bytes (`MemoryError` if that is impossible).
    pub fn new(py: Python<'_>, len: usize) -> PyResult<NewBytes> {
        let size = ffi::Py_ssize_t::try_from(len)
            .map_err(|_| PyErr::new::<pyo3::exceptions::PyMemoryError, _>(()))?;
        // SAFETY: a NULL source asks CPython for an uninitialised object of
        // `size` bytes; we own the returned reference (or get NULL and an
        // exception).
        let obj = unsafe { ffi::PyBytes_FromStringAndSize(std::ptr::null::<c_char>(), size) };
        if obj.is_null() {
            return Err(PyErr::fetch(py));
        }
        Ok(NewBytes { obj, len })
    }

    /// The object's storage, for the core to receive into.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        if self.len == 0 {
            return &mut [];
        }
        // SAFETY: the object is a bytes object of `len` bytes that nobody else
        // has seen yet (we hold its only reference), so we may write it. Its
        // contents are not initialised: the core turns this slice straight
        // into `&mut [MaybeUninit<u8>]` for recv(2) and never reads it, and
        // `finish` cuts the object to the bytes the kernel wrote.
        unsafe {
            std::slice::from_raw_parts_mut(ffi::PyBytes_AsString(self.obj).cast::<u8>(), self.len)
        }
    }

    /// Shrinks the object to its first `filled` bytes and hands it over.
    pub fn finish(mut self, py: Python<'_>, filled: usize) -> PyResult<Bound<'_, PyBytes>> {
        debug_assert!(filled <= self.len);
        let mut obj = std::mem::replace(&mut self.obj, std::ptr::null_mut());
        if filled < self.len {
            // SAFETY: obj is the only reference to a bytes object not yet
            // shared, which is what _PyBytes_Resize requires. On failure it
            // frees the object, sets obj to NULL and raises MemoryError.
            if unsafe { _PyBytes_Resize(&mut obj, filled as ffi::Py_ssize_t) } != 0 {
                return Err(PyErr::fetch(py));
            }
        }
        // SAFETY: obj is an owned reference to a bytes object.
        Ok(unsafe { Bound::from_owned_ptr(py, obj).cast_into_unchecked() })
    }
}

impl Drop for NewBytes {
    fn drop(&mut self) {
        if !self.obj.is_null() {
            let obj = self.obj;
            // SAFETY: we own this reference; releasing it needs the GIL,
            // which `attach` guarantees (it is held already in practice).
            Python::attach(|_py| unsafe { ffi::Py_DECREF(obj) });
        }
    }
}
