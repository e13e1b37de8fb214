//! `LengthPrefixed` and `Delimited`: the core's codecs as immutable Python
//! objects (hashable, comparable), with the core's knobs under Python names.
//!
//! | Python                           | core                                  |
//! |----------------------------------|---------------------------------------|
//! | `width=1/2/4/8`                  | [`HeaderWidth::U8`] … `U64`           |
//! | `byteorder='big'/'little'`       | [`Endian`] (as `int.to_bytes`)        |
//! | `includes_header=False/True`     | [`LengthCounts::Body`] / `HeaderAndBody` |
//! | `strip_cr=False/True`            | [`CrLf::Keep`] / `Strip`              |
//! | `max_frame_size`                 | `with_max_frame_size`                 |

use ferrosock::framing::{
    Codec, CrLf, Endian, HeaderWidth, LengthCounts, DEFAULT_MAX_FRAME_SIZE, DEFAULT_MAX_LINE_SIZE,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::args::type_name;
use crate::buffer::BufferView;
use crate::framing_errors::to_pyerr;

/// LengthPrefixed(width=4, byteorder='big', includes_header=False, max_frame_size=8388608)
///
/// Each frame is a fixed-width length header, then the body. The default
/// is what ``struct.pack('>I', len(body)) + body`` writes: 4 bytes, big
/// endian, counting the body only. A received header declaring more than
/// ``max_frame_size`` raises ``FrameTooLarge`` before anything is allocated
/// for the body.
#[pyclass(module = "ferrosock.framing", frozen, eq, hash)]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct LengthPrefixed {
    pub(crate) inner: ferrosock::framing::LengthPrefixed,
}

#[pymethods]
impl LengthPrefixed {
    #[new]
    #[pyo3(signature = (width = 4, byteorder = "big", includes_header = false, max_frame_size = DEFAULT_MAX_FRAME_SIZE))]
    fn new(
        width: i64,
        byteorder: &str,
        includes_header: bool,
        max_frame_size: usize,
    ) -> PyResult<LengthPrefixed> {
        let width = match width {
            1 => HeaderWidth::U8,
            2 => HeaderWidth::U16,
            4 => HeaderWidth::U32,
            8 => HeaderWidth::U64,
            other => {
                return Err(PyValueError::new_err(format!(
                    "width must be 1, 2, 4 or 8 (bytes), not {other}"
                )))
            }
        };
        let endian = match byteorder {
            "big" => Endian::Big,
            "little" => Endian::Little,
            // int.to_bytes's own message.
            _ => {
                return Err(PyValueError::new_err(
                    "byteorder must be either 'little' or 'big'",
                ))
            }
        };
        let counts = if includes_header {
            LengthCounts::HeaderAndBody
        } else {
            LengthCounts::Body
        };
        let inner = ferrosock::framing::LengthPrefixed::new()
            .with_header(width, endian)
            .with_length_counts(counts)
            .with_max_frame_size(max_frame_size);
        Ok(LengthPrefixed { inner })
    }

    /// The header width in bytes: 1, 2, 4 or 8.
    #[getter]
    fn width(&self) -> usize {
        self.inner.header_width().bytes()
    }

    /// The header's byte order: 'big' or 'little'.
    #[getter]
    fn byteorder(&self) -> &'static str {
        match self.inner.endian() {
            Endian::Big => "big",
            Endian::Little => "little",
        }
    }

    /// Whether the length counts the header too.
    #[getter]
    fn includes_header(&self) -> bool {
        self.inner.length_counts() == LengthCounts::HeaderAndBody
    }

    /// The largest body sent or accepted, in bytes.
    #[getter]
    fn max_frame_size(&self) -> usize {
        self.inner.max_frame_size()
    }

    /// encode(data) -> bytes
    ///
    /// The frame for ``data``: header and body. Raises FrameTooLarge if the
    /// body is over the limit, or more than the header can count.
    fn encode<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        encode(py, &Codec::LengthPrefixed(self.inner), data)
    }

    fn __repr__(&self) -> String {
        format!(
            "LengthPrefixed(width={}, byteorder='{}', includes_header={}, max_frame_size={})",
            self.width(),
            self.byteorder(),
            if self.includes_header() {
                "True"
            } else {
                "False"
            },
            self.max_frame_size()
        )
    }
}

/// Delimited(delimiter=b'\n', strip_cr=False, max_frame_size=65536)
///
/// Each frame is its bytes followed by ``delimiter``, as the tutorial's
/// ``json.dumps(msg) + "\n"``. With ``strip_cr``, one ``\r`` just before the
/// delimiter is removed (lines from telnet or Windows). A frame that runs
/// past ``max_frame_size`` without its delimiter raises ``FrameTooLarge``.
#[pyclass(module = "ferrosock.framing", frozen, eq, hash)]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Delimited {
    pub(crate) inner: ferrosock::framing::Delimited,
}

#[pymethods]
impl Delimited {
    #[new]
    #[pyo3(signature = (delimiter = None, strip_cr = false, max_frame_size = DEFAULT_MAX_LINE_SIZE))]
    fn new(
        delimiter: Option<&Bound<'_, PyAny>>,
        strip_cr: bool,
        max_frame_size: usize,
    ) -> PyResult<Delimited> {
        let delimiter = match delimiter {
            None => b"\n".to_vec(),
            Some(d) => {
                if d.is_instance_of::<pyo3::types::PyString>() {
                    return Err(PyTypeError::new_err(format!(
                        "delimiter must be bytes, not {}",
                        type_name(d)
                    )));
                }
                BufferView::readable(d)?.as_slice().to_vec()
            }
        };
        let crlf = if strip_cr { CrLf::Strip } else { CrLf::Keep };
        let inner = ferrosock::framing::Delimited::new(delimiter)
            .map_err(|e| PyValueError::new_err(e.cause().to_string()))?
            .with_crlf(crlf)
            .with_max_frame_size(max_frame_size);
        Ok(Delimited { inner })
    }

    /// The delimiter.
    #[getter]
    fn delimiter<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.inner.delimiter())
    }

    /// Whether a '\r' just before the delimiter is removed.
    #[getter]
    fn strip_cr(&self) -> bool {
        self.inner.crlf() == CrLf::Strip
    }

    /// The longest frame sent or accepted, in bytes, without the delimiter.
    #[getter]
    fn max_frame_size(&self) -> usize {
        self.inner.max_frame_size()
    }

    /// encode(data) -> bytes
    ///
    /// The frame for ``data``: the bytes and the delimiter. Raises
    /// FrameTooLarge if ``data`` is over the limit, ValueError if it contains
    /// the delimiter (the receiver would cut it there).
    fn encode<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        encode(py, &Codec::Delimited(self.inner.clone()), data)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let delimiter = self.delimiter(py).repr()?;
        Ok(format!(
            "Delimited(delimiter={}, strip_cr={}, max_frame_size={})",
            delimiter,
            if self.strip_cr() { "True" } else { "False" },
            self.max_frame_size()
        ))
    }
}

/// The core codec of a Python codec argument; `None` is the default codec
/// (4-byte big-endian length header, 8 MiB).
pub fn codec_of(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Codec> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(Codec::default());
    };
    if let Ok(c) = obj.cast::<LengthPrefixed>() {
        return Ok(Codec::LengthPrefixed(c.get().inner));
    }
    if let Ok(c) = obj.cast::<Delimited>() {
        return Ok(Codec::Delimited(c.get().inner.clone()));
    }
    Err(PyTypeError::new_err(format!(
        "codec must be LengthPrefixed or Delimited, not {}",
        type_name(obj)
    )))
}

/// The Python object for a core codec.
pub fn codec_object(py: Python<'_>, codec: &Codec) -> PyResult<Py<PyAny>> {
    Ok(match codec {
        Codec::LengthPrefixed(c) => Py::new(py, LengthPrefixed { inner: *c })?.into_any(),
        Codec::Delimited(c) => Py::new(py, Delimited { inner: c.clone() })?.into_any(),
    })
}

/// `codec.encode(data)` as bytes.
fn encode<'py>(
    py: Python<'py>,
    codec: &Codec,
    data: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    let view = BufferView::readable(data)?;
    let mut wire = Vec::with_capacity(view.len() + codec.overhead());
    codec
        .encode(view.as_slice(), &mut wire)
        .map_err(|e| to_pyerr(py, e))?;
    Ok(PyBytes::new(py, &wire))
}
