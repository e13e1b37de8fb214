//! How long a socket operation may wait: CPython's three modes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The blocking mode of a socket, as in CPython's `settimeout`.
///
/// | CPython            | ferrosock                  | the fd        |
/// |--------------------|----------------------------|---------------|
/// | `settimeout(None)` | `Timeout::Blocking`        | blocking      |
/// | `settimeout(0.0)`  | `Timeout::NonBlocking`     | non-blocking  |
/// | `settimeout(2.5)`  | `Timeout::After(2.5 s)`    | non-blocking; each call waits with `poll` up to its deadline |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Timeout {
    /// Calls wait for as long as it takes.
    #[default]
    Blocking,
    /// Calls never wait: they fail with [`crate::Cause::WouldBlock`] instead.
    NonBlocking,
    /// Calls wait at most this long, then fail with [`crate::Cause::TimedOut`].
    /// A zero duration means [`Timeout::NonBlocking`].
    After(Duration),
}

impl Timeout {
    /// From CPython's representation: `None` blocks, `0.0` does not, a
    /// positive number of seconds is a timeout. Negative or non-finite values
    /// are refused.
    pub fn from_secs_f64(secs: Option<f64>) -> Option<Timeout> {
        match secs {
            None => Some(Timeout::Blocking),
            Some(0.0) => Some(Timeout::NonBlocking),
            Some(s) if s > 0.0 && s.is_finite() => {
                Duration::try_from_secs_f64(s).ok().map(Timeout::After)
            }
            Some(_) => None,
        }
    }

    /// To CPython's representation (see [`Timeout::from_secs_f64`]).
    pub fn as_secs_f64(self) -> Option<f64> {
        match self {
            Timeout::Blocking => None,
            Timeout::NonBlocking => Some(0.0),
            Timeout::After(d) => Some(d.as_secs_f64()),
        }
    }

    /// Whether the file descriptor is put in non-blocking mode.
    pub fn fd_nonblocking(self) -> bool {
        !matches!(self, Timeout::Blocking)
    }

    /// Packs the mode into a `u64` for atomic storage.
    pub(crate) fn to_bits(self) -> u64 {
        match self {
            Timeout::Blocking => u64::MAX,
            Timeout::NonBlocking => 0,
            Timeout::After(d) => (d.as_nanos().min(u64::MAX as u128 - 1) as u64).max(1),
        }
    }

    /// Unpacks [`Timeout::to_bits`].
    pub(crate) fn from_bits(bits: u64) -> Timeout {
        match bits {
            u64::MAX => Timeout::Blocking,
            0 => Timeout::NonBlocking,
            n => Timeout::After(Duration::from_nanos(n)),
        }
    }

    /// Normalises a zero `After` to `NonBlocking`.
    pub(crate) fn normalized(self) -> Timeout {
        match self {
            Timeout::After(d) if d.is_zero() => Timeout::NonBlocking,
            other => other,
        }
    }
}

static DEFAULT_TIMEOUT: AtomicU64 = AtomicU64::new(u64::MAX);

/// The mode new sockets start in (CPython's `getdefaulttimeout`).
pub fn default_timeout() -> Timeout {
    Timeout::from_bits(DEFAULT_TIMEOUT.load(Ordering::Relaxed))
}

/// Sets the mode new sockets start in, process-wide (CPython's
/// `setdefaulttimeout`). Sockets that already exist keep theirs.
pub fn set_default_timeout(timeout: Timeout) {
    DEFAULT_TIMEOUT.store(timeout.normalized().to_bits(), Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpython_values_map_both_ways() {
        for v in [None, Some(0.0), Some(2.5)] {
            assert_eq!(Timeout::from_secs_f64(v).unwrap().as_secs_f64(), v);
        }
        assert_eq!(Timeout::from_secs_f64(Some(-1.0)), None);
        assert_eq!(Timeout::from_secs_f64(Some(f64::NAN)), None);
        for t in [
            Timeout::Blocking,
            Timeout::NonBlocking,
            Timeout::After(Duration::from_millis(1500)),
        ] {
            assert_eq!(Timeout::from_bits(t.to_bits()), t);
        }
    }
}
