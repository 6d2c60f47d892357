//! Date, time and timestamp text, written by hand (days-from-civil arithmetic, no allocation).
//!
//! - DATE `YYYY-MM-DD`, years 0000..=9999 (proleptic Gregorian);
//! - TIME `hh:mm:ss[.f]`, fraction trimmed of trailing zeros, up to 9 digits;
//! - DATETIME `YYYY-MM-DDThh:mm:ss[.f]`, no zone.

pub(crate) const SECS_PER_DAY: i64 = 86_400;
/// Nanoseconds per second.
pub(crate) const NANOS_PER_SEC: i64 = 1_000_000_000;

/// Days since the epoch of 0000-01-01.
pub(crate) const MIN_DATE_DAYS: i64 = -719_528;
/// Days since the epoch of 9999-12-31.
pub(crate) const MAX_DATE_DAYS: i64 = 2_932_896;

/// The civil date `(year, month, day)` of `days` since 1970-01-01 (H. Hinnant's algorithm).
/// Exact for `|days| < 2^60`; larger values saturate.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days.clamp(-(1 << 60), 1 << 60) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32; // [1, 31]
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32; // [1, 12]
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Days since 1970-01-01 of a civil date (inverse of [`civil_from_days`]).
#[cfg(test)]
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Write `YYYY-MM-DD` (no quotes) for `days` since the epoch; errors outside years 0..=9999.
#[inline]
pub(crate) fn write_date(days: i64, out: &mut Vec<u8>) -> Result<(), String> {
    out.extend_from_slice(&date_bytes(days)?);
    Ok(())
}

/// `YYYY-MM-DD` of `days` since the epoch; errors outside years 0..=9999.
#[inline]
pub(crate) fn date_bytes(days: i64) -> Result<[u8; 10], String> {
    if !(MIN_DATE_DAYS..=MAX_DATE_DAYS).contains(&days) {
        let (y, _, _) = civil_from_days(days);
        return Err(format!(
            "date with year {y} is outside 0000..=9999, which the API's YYYY-MM-DD cannot carry"
        ));
    }
    // Dates of 1900..2100 are copied from a table built once (730 KB, of which only the rows
    // of the dates that occur are touched), the rest computed.
    Ok(usize::try_from(days - TABLE_FIRST_DAY)
        .ok()
        .and_then(|i| DATE_TABLE.get(i))
        .copied()
        .unwrap_or_else(|| date_text(days)))
}

/// Write `"YYYY-MM-DD"` (with the quotes) for `days` since the epoch (the dates of
/// 1900..2100 come from a table built once); errors outside years 0..=9999.
#[inline]
pub(crate) fn write_date_quoted(days: i64, out: &mut Vec<u8>) -> Result<(), String> {
    let text = match usize::try_from(days - TABLE_FIRST_DAY)
        .ok()
        .and_then(|i| DATE_TABLE.get(i))
    {
        Some(text) => *text,
        None => {
            if !(MIN_DATE_DAYS..=MAX_DATE_DAYS).contains(&days) {
                let (y, _, _) = civil_from_days(days);
                return Err(format!(
                    "date with year {y} is outside 0000..=9999, which the API's YYYY-MM-DD \
                     cannot carry"
                ));
            }
            date_text(days)
        }
    };
    out.push(b'"');
    out.extend_from_slice(&text);
    out.push(b'"');
    Ok(())
}

/// `YYYY-MM-DD` of `days` since the epoch if it is in the table of 1900..2100.
#[inline(always)]
pub(crate) fn table_date(days: i64) -> Option<&'static [u8; 10]> {
    usize::try_from(days - TABLE_FIRST_DAY)
        .ok()
        .and_then(|i| DATE_TABLE.get(i))
}

/// Days since the epoch of 1900-01-01, the first day of [`DATE_TABLE`].
const TABLE_FIRST_DAY: i64 = -25_567;
/// Days in 1900-01-01..=2099-12-31.
const TABLE_DAYS: usize = 73_049;

/// `YYYY-MM-DD` of every day of 1900..2100.
static DATE_TABLE: std::sync::LazyLock<Box<[[u8; 10]]>> = std::sync::LazyLock::new(|| {
    (0..TABLE_DAYS as i64)
        .map(|i| date_text(TABLE_FIRST_DAY + i))
        .collect()
});

/// `YYYY-MM-DD` of `days` since the epoch, for years 0..=9999.
#[inline]
fn date_text(days: i64) -> [u8; 10] {
    let (y, m, d) = civil_from_days(days);
    let y = y as u32;
    let digit = |v: u32| b'0' + (v % 10) as u8;
    [
        digit(y / 1000),
        digit(y / 100),
        digit(y / 10),
        digit(y),
        b'-',
        digit(m / 10),
        digit(m),
        b'-',
        digit(d / 10),
        digit(d),
    ]
}

/// Write `hh:mm:ss[.f]` (no quotes) for a second of the day and a nanosecond fraction.
#[inline]
pub(crate) fn write_time(secs_of_day: u32, nanos: u32, out: &mut Vec<u8>) {
    let (h, m, s) = (secs_of_day / 3600, secs_of_day / 60 % 60, secs_of_day % 60);
    let digit = |v: u32| b'0' + (v % 10) as u8;
    out.extend_from_slice(&[
        digit(h / 10),
        digit(h),
        b':',
        digit(m / 10),
        digit(m),
        b':',
        digit(s / 10),
        digit(s),
    ]);
    if nanos != 0 {
        out.push(b'.');
        let mut digits = [0u8; 9];
        let mut n = nanos;
        for slot in digits.iter_mut().rev() {
            *slot = b'0' + (n % 10) as u8;
            n /= 10;
        }
        let mut len = 9;
        while len > 1 && digits[len - 1] == b'0' {
            len -= 1;
        }
        out.extend_from_slice(&digits[..len]);
    }
}

/// Write `YYYY-MM-DDThh:mm:ss[.f]` (no quotes) for seconds since the epoch plus nanoseconds.
#[inline]
pub(crate) fn write_datetime(secs: i64, nanos: u32, out: &mut Vec<u8>) -> Result<(), String> {
    let days = secs.div_euclid(SECS_PER_DAY);
    let sod = secs.rem_euclid(SECS_PER_DAY) as u32;
    write_date(days, out)?;
    out.push(b'T');
    write_time(sod, nanos, out);
    Ok(())
}

/// Split a timestamp of `unit` into whole seconds and nanoseconds (floor division).
#[inline]
pub(crate) fn split_timestamp(v: i64, unit: arrow_schema::TimeUnit) -> (i64, u32) {
    use arrow_schema::TimeUnit as U;
    let per_sec: i64 = match unit {
        U::Second => return (v, 0),
        U::Millisecond => 1_000,
        U::Microsecond => 1_000_000,
        U::Nanosecond => NANOS_PER_SEC,
    };
    let secs = v.div_euclid(per_sec);
    let frac = v.rem_euclid(per_sec);
    (secs, (frac * (NANOS_PER_SEC / per_sec)) as u32)
}

/// Parse a zone that is UTC or a fixed offset into seconds east of UTC.
///
/// Accepts `UTC`, `Z`, `GMT`, `Etc/UTC`, `Etc/GMT` (any case) and `±hh:mm`, `±hhmm`, `±hh`.
/// Returns `None` for anything else (named IANA zones).
pub(crate) fn parse_fixed_offset(zone: &str) -> Option<i32> {
    let z = zone.trim();
    if ["UTC", "Z", "GMT", "Etc/UTC", "Etc/GMT", "+00:00", "-00:00"]
        .iter()
        .any(|u| z.eq_ignore_ascii_case(u))
    {
        return Some(0);
    }
    let (sign, rest) = match z.as_bytes().first() {
        Some(b'+') => (1, &z[1..]),
        Some(b'-') => (-1, &z[1..]),
        _ => return None,
    };
    let digits: Vec<u8> = rest.bytes().filter(|b| *b != b':').collect();
    if rest.matches(':').count() > 1 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let num = |s: &[u8]| -> i32 { s.iter().fold(0, |a, d| a * 10 + i32::from(d - b'0')) };
    let (h, m) = match digits.len() {
        2 => (num(&digits), 0),
        4 => (num(&digits[..2]), num(&digits[2..])),
        _ => return None,
    };
    if rest.contains(':') && digits.len() != 4 {
        return None;
    }
    if h > 23 || m > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn date(days: i64) -> String {
        let mut v = Vec::new();
        write_date(days, &mut v).unwrap();
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn civil_round_trip_over_wide_range() {
        for d in (-800_000..3_000_000).step_by(97) {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }

    #[test]
    fn dates() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(-1), "1969-12-31");
        assert_eq!(date(days_from_civil(2000, 2, 29)), "2000-02-29");
        assert_eq!(date(days_from_civil(1, 1, 1)), "0001-01-01");
        assert_eq!(date(days_from_civil(0, 1, 1)), "0000-01-01");
        assert_eq!(date(days_from_civil(9999, 12, 31)), "9999-12-31");
        assert!(write_date(days_from_civil(10000, 1, 1), &mut Vec::new()).is_err());
        assert!(write_date(days_from_civil(-1, 12, 31), &mut Vec::new()).is_err());
        assert_eq!(days_from_civil(0, 1, 1), MIN_DATE_DAYS);
        assert_eq!(days_from_civil(9999, 12, 31), MAX_DATE_DAYS);
        assert!(write_date(i64::MAX, &mut Vec::new()).is_err());
        assert!(write_date(i64::MIN, &mut Vec::new()).is_err());
        assert!(write_datetime(i64::MAX, 0, &mut Vec::new()).is_err());
    }

    #[test]
    fn times_and_datetimes() {
        let mut v = Vec::new();
        write_time(13 * 3600 + 5 * 60 + 9, 0, &mut v);
        assert_eq!(v, b"13:05:09");
        v.clear();
        write_time(0, 500_000_000, &mut v);
        assert_eq!(v, b"00:00:00.5");
        v.clear();
        write_time(86_399, 1, &mut v);
        assert_eq!(v, b"23:59:59.000000001");
        v.clear();
        let (s, n) = split_timestamp(-1, arrow_schema::TimeUnit::Millisecond);
        write_datetime(s, n, &mut v).unwrap();
        assert_eq!(v, b"1969-12-31T23:59:59.999");
    }

    #[test]
    fn offsets() {
        assert_eq!(parse_fixed_offset("+02:00"), Some(7200));
        assert_eq!(parse_fixed_offset("-0530"), Some(-(5 * 3600 + 30 * 60)));
        assert_eq!(parse_fixed_offset("+02"), Some(7200));
        assert_eq!(parse_fixed_offset("UTC"), Some(0));
        assert_eq!(parse_fixed_offset("utc"), Some(0));
        assert_eq!(parse_fixed_offset("Z"), Some(0));
        assert_eq!(parse_fixed_offset("Europe/Paris"), None);
        assert_eq!(parse_fixed_offset("+25:00"), None);
        assert_eq!(parse_fixed_offset("+2:00"), None);
        assert_eq!(parse_fixed_offset("+02:0:0"), None);
    }

    #[test]
    fn date_table_matches_arithmetic() {
        assert_eq!(days_from_civil(1900, 1, 1), TABLE_FIRST_DAY);
        assert_eq!(
            days_from_civil(2100, 1, 1) - TABLE_FIRST_DAY,
            TABLE_DAYS as i64
        );
        for days in (TABLE_FIRST_DAY - 3..TABLE_FIRST_DAY + TABLE_DAYS as i64 + 3).step_by(7) {
            let mut v = Vec::new();
            write_date(days, &mut v).unwrap();
            assert_eq!(v, date_text(days), "{days}");
        }
        let mut v = Vec::new();
        write_date(days_from_civil(2099, 12, 31), &mut v).unwrap();
        write_date(days_from_civil(2100, 1, 1), &mut v).unwrap();
        write_date(days_from_civil(1899, 12, 31), &mut v).unwrap();
        assert_eq!(v, b"2099-12-312100-01-011899-12-31");
    }
}
