//! Timeout values between Python and the core's [`Timeout`]: `None` blocks,
//! `0` never waits, a positive number of seconds is a timeout. Conversions,
//! rounding and messages are CPython's (`socket_parse_timeout` and
//! `_PyTime_FromSecondsObject` with `_PyTime_ROUND_TIMEOUT`).

use std::time::Duration;

use ferrosock::Timeout;
use pyo3::exceptions::{PyOverflowError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyFloat;

use crate::args::as_long;

const NS_PER_SEC: i64 = 1_000_000_000;

/// A timeout argument (`settimeout`, `setdefaulttimeout`, `create_connection`).
pub fn parse_timeout(obj: &Bound<'_, PyAny>) -> PyResult<Timeout> {
    if obj.is_none() {
        return Ok(Timeout::Blocking);
    }
    let ns: i64 = if obj.is_instance_of::<PyFloat>() {
        let secs: f64 = obj.extract()?;
        if secs.is_nan() {
            return Err(PyValueError::new_err("Invalid value NaN (not a number)"));
        }
        // Round away from zero, so a tiny positive timeout stays a timeout.
        let scaled = secs * NS_PER_SEC as f64;
        let rounded = if scaled >= 0.0 {
            scaled.ceil()
        } else {
            scaled.floor()
        };
        if !(rounded >= i64::MIN as f64 && rounded < -(i64::MIN as f64)) {
            return Err(PyOverflowError::new_err(
                "timestamp out of range for platform time_t",
            ));
        }
        rounded as i64
    } else {
        let too_large =
            || PyOverflowError::new_err("timestamp too large to convert to C _PyTime_t");
        let secs = as_long(obj).map_err(|e| {
            if e.is_instance_of::<PyOverflowError>(obj.py()) {
                too_large()
            } else {
                e
            }
        })?;
        secs.checked_mul(NS_PER_SEC).ok_or_else(too_large)?
    };
    if ns < 0 {
        return Err(PyValueError::new_err("Timeout value out of range"));
    }
    Ok(if ns == 0 {
        Timeout::NonBlocking
    } else {
        Timeout::After(Duration::from_nanos(ns as u64))
    })
}

/// A timeout as `gettimeout` returns it: `None` or seconds as a float,
/// computed as CPython computes it so the values compare equal.
pub fn timeout_value(timeout: Timeout) -> Option<f64> {
    match timeout {
        Timeout::Blocking => None,
        Timeout::NonBlocking => Some(0.0),
        Timeout::After(d) => {
            let ns = d.as_nanos() as i64;
            Some(if ns % NS_PER_SEC == 0 {
                (ns / NS_PER_SEC) as f64
            } else {
                ns as f64 / 1e9
            })
        }
    }
}
