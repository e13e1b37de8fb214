//! [`timestamp`]: the `"time"` of a chat message.

use std::time::{SystemTime, UNIX_EPOCH};

/// The current local time as `"YYYY-MM-DD HH:MM:SS"`, the `"time"` clients
/// stamp on their messages and the server on its own.
///
/// The conversion is the C library's `localtime_r`, so the `TZ`
/// environment variable and the system's zone apply, as in every other
/// program on the machine. Should the C library fail (a clock beyond what
/// `time_t` can hold), the time is given in UTC instead.
///
/// ```
/// let t = ferrosock::chat::timestamp();
/// assert_eq!(t.len(), 19);
/// assert_eq!((&t[4..5], &t[10..11], &t[13..14]), ("-", " ", ":"));
/// ```
pub fn timestamp() -> String {
    let secs = match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(before) => -(before.duration().as_secs() as i64),
    };
    let fields = local(secs).unwrap_or_else(|| utc(secs));
    format_fields(fields)
}

/// Year, month (1-12), day, hour, minute, second.
type Fields = (i64, u32, u32, u32, u32, u32);

fn format_fields((y, mo, d, h, mi, s): Fields) -> String {
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
}

/// `secs` since the epoch in the local zone, by `localtime_r`.
fn local(secs: i64) -> Option<Fields> {
    let t = libc::time_t::try_from(secs).ok()?;
    // SAFETY: `tm` is plain data, for which all-zero bytes are a valid
    // value (a null `tm_zone` pointer included); localtime_r overwrites it.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are to live locals of the right types;
    // localtime_r is the thread-safe variant and keeps no pointer to them.
    let done = unsafe { libc::localtime_r(&t, &mut tm) };
    if done.is_null() {
        return None;
    }
    Some((
        i64::from(tm.tm_year) + 1900,
        (tm.tm_mon + 1) as u32,
        tm.tm_mday as u32,
        tm.tm_hour as u32,
        tm.tm_min as u32,
        // A leap second shows as :60, as date(1) shows it.
        tm.tm_sec as u32,
    ))
}

/// `secs` since the epoch in UTC, from the proleptic Gregorian calendar:
/// days are counted in 400-year eras of 146 097 days, with years starting
/// on March 1 so that the leap day falls at the end of a year.
fn utc(secs: i64) -> Fields {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400) as u32;
    let z = days + 719_468; // days from 0000-03-01 to 1970-01-01
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of the era, 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // 0..=365, from March 1
    let mp = (5 * doy + 2) / 153; // month from March, 0..=11
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, rem / 3600, rem / 60 % 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_fallback_matches_known_dates() {
        assert_eq!(format_fields(utc(0)), "1970-01-01 00:00:00");
        assert_eq!(format_fields(utc(951_782_400)), "2000-02-29 00:00:00");
        assert_eq!(format_fields(utc(1_708_732_799)), "2024-02-23 23:59:59");
        assert_eq!(format_fields(utc(-1)), "1969-12-31 23:59:59");
        assert_eq!(format_fields(utc(4_107_542_400)), "2100-03-01 00:00:00");
    }

    #[test]
    fn local_time_has_the_shape_of_the_protocol() {
        let t = timestamp();
        let digits: Vec<usize> = vec![0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];
        assert_eq!(t.len(), 19, "{t}");
        for i in digits {
            assert!(t.as_bytes()[i].is_ascii_digit(), "{t}");
        }
    }
}
