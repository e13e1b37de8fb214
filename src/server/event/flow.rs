//! Flow control and half-close of one connection, as asyncio's transports
//! have them: whether the protocol paused reading, the write buffer's
//! high and low water marks and whether the protocol has been told to
//! pause writing, and how far the protocol has shut its side.
//!
//! This module only keeps the state and its rules; the loop acts on it
//! (`reactor.rs`, `step.rs`) and a [`super::Conn`] changes it.

use crate::error::{Error, Result};

/// Default high water mark of a connection's write buffer: above it the
/// protocol is told to pause writing ([`super::Protocol::write_paused`]).
/// 64 KiB, asyncio's default.
pub const WRITE_HIGH_WATER: usize = 64 * 1024;

/// Default low water mark of a connection's write buffer: once a paused
/// protocol's buffer drains to it, the protocol is told to resume
/// ([`super::Protocol::write_resumed`]). 16 KiB, asyncio's default (a
/// quarter of the high mark).
pub const WRITE_LOW_WATER: usize = WRITE_HIGH_WATER / 4;

/// How far the protocol has shut the writing side (`write_eof`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Eof {
    /// Writing is open.
    #[default]
    No,
    /// Asked from a callback while handles' commands waited in the inbox:
    /// the callback's later writes are refused, the queued ones still go.
    Queued,
    /// Asked: shut the side once the buffer is sent.
    Asked,
    /// `shutdown(SHUT_WR)` is done.
    Shut,
}

/// A connection's flow-control and half-close state.
#[derive(Debug)]
pub(crate) struct Flow {
    pub(crate) high: usize,
    pub(crate) low: usize,
    /// The protocol is paused for writing (told, or to be told when its
    /// callback returns).
    pub(crate) writing_paused: bool,
    /// `write_paused` is due: the mark was crossed during a callback.
    pub(crate) pause_due: bool,
    /// The protocol paused reading ([`super::Conn::pause_reading`]).
    pub(crate) reading_paused: bool,
    pub(crate) eof: Eof,
    /// The protocol asked, in `end`, to keep the connection open after
    /// the client's end of file ([`super::Conn::keep_open`]).
    pub(crate) keep_open: bool,
}

impl Default for Flow {
    fn default() -> Flow {
        Flow {
            high: WRITE_HIGH_WATER,
            low: WRITE_LOW_WATER,
            writing_paused: false,
            pause_due: false,
            reading_paused: false,
            eof: Eof::No,
            keep_open: false,
        }
    }
}

impl Flow {
    /// Notes that `buffered` bytes now wait to be sent: past the high
    /// mark, a pause becomes due (asyncio's `_maybe_pause_protocol`).
    pub(crate) fn after_write(&mut self, buffered: usize) {
        if !self.writing_paused && buffered > self.high {
            self.writing_paused = true;
            self.pause_due = true;
        }
    }

    /// Whether a paused protocol should now hear `write_resumed`: the
    /// buffer has drained to the low mark (asyncio's
    /// `_maybe_resume_protocol`). Clears the pause when it says yes.
    pub(crate) fn take_resume(&mut self, buffered: usize) -> bool {
        if self.writing_paused && !self.pause_due && buffered <= self.low {
            self.writing_paused = false;
            true
        } else {
            false
        }
    }

    /// Whether a callback may still write (`write_eof` not asked).
    pub(crate) fn may_write(&self) -> bool {
        self.eof == Eof::No
    }
}

/// The water marks asyncio's `set_write_buffer_limits(high, low)` sets:
/// `None` for both is 64 KiB and 16 KiB; a missing high mark is four times
/// the low one, a missing low mark a quarter of the high one. Refused
/// unless `high >= low` (both are unsigned, so `>= 0` holds).
pub(crate) fn write_limits(high: Option<usize>, low: Option<usize>) -> Result<(usize, usize)> {
    let high = match (high, low) {
        (Some(high), _) => high,
        (None, None) => WRITE_HIGH_WATER,
        (None, Some(low)) => low.saturating_mul(4),
    };
    let low = low.unwrap_or(high / 4);
    if high < low {
        return Err(Error::invalid(
            "set_write_buffer_limits",
            format!("high ({high}) must be >= low ({low}) must be >= 0"),
        ));
    }
    Ok((high, low))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_default_and_derive_like_asyncio() {
        assert_eq!(write_limits(None, None).unwrap(), (65536, 16384));
        assert_eq!(write_limits(Some(1000), None).unwrap(), (1000, 250));
        assert_eq!(write_limits(None, Some(100)).unwrap(), (400, 100));
        assert_eq!(write_limits(Some(0), Some(0)).unwrap(), (0, 0));
        let err = write_limits(Some(1), Some(2)).unwrap_err();
        assert!(err
            .to_string()
            .contains("high (1) must be >= low (2) must be >= 0"));
    }

    #[test]
    fn a_pause_is_due_once_past_high_and_resumes_at_low() {
        let mut flow = Flow {
            high: 10,
            low: 4,
            ..Flow::default()
        };
        flow.after_write(10);
        assert!(!flow.writing_paused);
        flow.after_write(11);
        assert!(flow.writing_paused && flow.pause_due);
        flow.pause_due = false; // told
        assert!(!flow.take_resume(5));
        assert!(flow.take_resume(4));
        assert!(!flow.writing_paused);
    }
}
