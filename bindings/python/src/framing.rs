//! The compiled half of `ferrosock.framing`: whole messages over a byte
//! stream (粘包 and 分包), on the core's `ferrosock::framing`.
//!
//! | file               | what                                                   |
//! |--------------------|--------------------------------------------------------|
//! | `framing_codec.rs` | `LengthPrefixed`, `Delimited`: the core's codecs       |
//! | `framing_io.rs`    | `_Framer` (a decoder's state), `_send_frame`, `_recv_frame`, on ferrosock and stdlib sockets |
//! | `framing_errors.rs`| core framing errors → `FrameTooLarge`, `IncompleteFrame`, … |
//!
//! `python/ferrosock/framing.py` builds the public module on top: the
//! exception classes, `Framed`, the module-level functions and JSON.

use pyo3::prelude::*;
use pyo3::types::PyModule;

use crate::framing_codec::{Delimited, LengthPrefixed};
use crate::framing_io::{recv_frame, send_frame, Framer};

/// Adds the framing classes and functions to `_ferrosock`, under private
/// names (a leading underscore), so that `ferrosock.socket`, which exports
/// the compiled module's public names as the stdlib's, does not pick them
/// up. Their own `__name__` is the public one.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("_LengthPrefixed", py.get_type::<LengthPrefixed>())?;
    m.add("_Delimited", py.get_type::<Delimited>())?;
    m.add("_Framer", py.get_type::<Framer>())?;
    m.add_function(wrap_pyfunction!(send_frame, m)?)?;
    m.add_function(wrap_pyfunction!(recv_frame, m)?)?;
    m.add(
        "_DEFAULT_MAX_FRAME_SIZE",
        ferrosock::framing::DEFAULT_MAX_FRAME_SIZE,
    )?;
    m.add(
        "_DEFAULT_MAX_LINE_SIZE",
        ferrosock::framing::DEFAULT_MAX_LINE_SIZE,
    )?;
    Ok(())
}
