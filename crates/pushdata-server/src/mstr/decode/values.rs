//! Parsing the value text formats of CONTRACTS.md ("Value text formats") into the numbers
//! Arrow stores: days, microseconds, exact decimals (the decimal text rule is the store's,
//! shared with the Veracity emulation).

pub(crate) use crate::store::plain_number;

/// An integer from a JSON integer, a float token with zero fraction (`3.0`) or a string of
/// digits.
pub(crate) fn parse_i64(text: &str) -> Result<i64, String> {
    if let Some((v, 0)) = plain_number(text.as_bytes()) {
        return Ok(v);
    }
    let t = text.trim();
    if let Ok(v) = t.parse::<i64>() {
        return Ok(v);
    }
    // `3.0`, `3.000`, `-2.0`: a whole number written as a float.
    if let Some((int, frac)) = t.split_once('.')
        && !frac.is_empty()
        && frac.bytes().all(|b| b == b'0')
        && let Ok(v) = int.parse::<i64>()
    {
        return Ok(v);
    }
    if looks_numeric(t) {
        Err(format!("{t} is not a whole number in range"))
    } else {
        Err(format!("{t:?} is not an integer"))
    }
}

fn looks_numeric(t: &str) -> bool {
    !t.is_empty()
        && t.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
}

/// A double from a number token or a numeric string.
pub(crate) fn parse_f64(text: &str) -> Result<f64, String> {
    text.trim()
        .parse::<f64>()
        .map_err(|_| format!("{:?} is not a number", text))
}

/// A boolean from `true`/`false`, `1`/`0`, or those words as strings.
pub(crate) fn parse_bool(text: &str) -> Result<bool, String> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("true") || t == "1" {
        Ok(true)
    } else if t.eq_ignore_ascii_case("false") || t == "0" {
        Ok(false)
    } else {
        Err(format!("{t:?} is not a boolean (true/false/1/0)"))
    }
}

fn digits(s: &str, min: usize, max: usize, what: &str) -> Result<u32, String> {
    if s.len() < min || s.len() > max || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("bad {what} {s:?}"));
    }
    s.parse::<u32>().map_err(|_| format!("bad {what} {s:?}"))
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date part `YYYY-M-D` (month and day one or two digits); returns days since epoch.
fn parse_date_part(s: &str) -> Result<i64, String> {
    let mut it = s.splitn(3, '-');
    let (y, m, d) = match (it.next(), it.next(), it.next()) {
        (Some(y), Some(m), Some(d)) => (y, m, d),
        _ => return Err(format!("{s:?} is not a date (expected YYYY-MM-DD)")),
    };
    let y = i64::from(digits(y, 4, 4, "year")?);
    let m = digits(m, 1, 2, "month")?;
    let d = digits(d, 1, 2, "day")?;
    if !(1..=12).contains(&m) {
        return Err(format!("month {m} out of range in {s:?}"));
    }
    if d < 1 || d > days_in_month(y, m) {
        return Err(format!("day {d} out of range in {s:?}"));
    }
    Ok(days_from_civil(y, m, d))
}

/// The fast path of date parsing: exactly `YYYY-MM-DD`, a valid date; `None` for anything
/// else (which the general parser handles or rejects with its message).
///
/// The ten bytes are checked as two words: the dashes compared at once, and each digit
/// byte minus `'0'` must be below 10 (a byte below `'0'` wraps to at least `0xD0`, one of
/// `0xB0` or more keeps its top bit, and one of 10 to `0x7F` reaches the top bit once
/// `0x76` is added; a valid byte neither borrows from nor carries into its neighbour).
#[inline(always)]
pub(crate) fn plain_date(b: &[u8]) -> Option<i32> {
    /// The digit bytes of `YYYY-MM-`.
    const DIGITS: u64 = 0x00FF_FF00_FFFF_FFFF;
    const DASHES: u64 = !DIGITS;
    const ONES: u64 = 0x0101_0101_0101_0101;
    if b.len() != 10 {
        return None;
    }
    let (head, tail) = b.split_at(8);
    let head = u64::from_le_bytes(head.try_into().ok()?);
    let tail: [u8; 2] = tail.try_into().ok()?;
    if head & DASHES != (u64::from(b'-') * ONES) & DASHES {
        return None;
    }
    let digits = (head & DIGITS).wrapping_sub((u64::from(b'0') * ONES) & DIGITS);
    let day = u16::from_le_bytes(tail).wrapping_sub(u16::from(b'0') * 0x0101);
    let bad = ((digits | digits.wrapping_add((0x76 * ONES) & DIGITS)) & (0x80 * ONES))
        | u64::from((day | day.wrapping_add(0x7676)) & 0x8080);
    if bad != 0 {
        return None;
    }
    // Byte k of `pairs`: ten times digit k plus digit k + 1 (at most 99: no carries).
    let pairs = digits * 10 + (digits >> 8);
    let byte = |k: u32| ((pairs >> (8 * k)) & 0xFF) as u32;
    let y = byte(0) * 100 + byte(2);
    let m = byte(5);
    let d = u32::from(day & 0xFF) * 10 + u32::from(day >> 8);
    if !(1..=12).contains(&m) || d < 1 || (d > 28 && d > days_in_month(i64::from(y), m)) {
        return None;
    }
    Some(days_from_civil_0_9999(y, m, d))
}

/// [`days_from_civil`] for the years 0 to 9999 (a valid month and day), in unsigned
/// arithmetic: the year is moved up by one 400-year cycle (which repeats the calendar) so
/// that it never goes below zero.
#[inline(always)]
fn days_from_civil_0_9999(y: u32, m: u32, d: u32) -> i32 {
    let y = y + 400 - u32::from(m <= 2);
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    // At most 26 cycles of 146,097 days: fits an i32.
    (era * 146_097 + doe) as i32 - 719_468 - 146_097
}

/// Microseconds in a day.
const MICROS_PER_DAY: i64 = 86_400_000_000;

/// A TIME: time of day `h:mm[:ss[.f…]]` in microseconds, before 24:00 (a leap second at
/// 23:59:60 would be the next day, which a time of day cannot hold or be read back as).
pub(crate) fn parse_time(s: &str) -> Result<i64, String> {
    let micros = clock_micros(s)?;
    if micros >= MICROS_PER_DAY {
        return Err(format!(
            "{s:?} is not a valid time of day (a TIME is before 24:00:00)"
        ));
    }
    Ok(micros)
}

/// The clock part `h:mm[:ss[.f…]]` of a time in microseconds (second 60, a leap second,
/// taken as the next second); fractions finer than a microsecond must be zero.
fn clock_micros(s: &str) -> Result<i64, String> {
    let mut it = s.splitn(3, ':');
    let h = it.next().unwrap_or("");
    let m = it
        .next()
        .ok_or_else(|| format!("{s:?} is not a time (expected hh:mm:ss)"))?;
    let sec = it.next().unwrap_or("0");
    let h = digits(h, 1, 2, "hour")?;
    let m = digits(m, 1, 2, "minute")?;
    let (sec, frac) = match sec.split_once('.') {
        Some((a, b)) => (a, b),
        None => (sec, ""),
    };
    let sec = digits(sec, 1, 2, "second")?;
    if h > 23 || m > 59 || sec > 60 {
        return Err(format!("{s:?} is not a valid time of day"));
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("bad fraction of a second in {s:?}"));
    }
    let mut micros: i64 = 0;
    for (i, b) in frac.bytes().enumerate() {
        let d = i64::from(b - b'0');
        if i < 6 {
            micros = micros * 10 + d;
        } else if d != 0 {
            return Err(format!(
                "{s:?} has digits finer than a microsecond; the server stores microseconds and does not truncate"
            ));
        }
    }
    for _ in frac.len()..6 {
        micros *= 10;
    }
    Ok(((i64::from(h) * 60 + i64::from(m)) * 60 + i64::from(sec)) * 1_000_000 + micros)
}

/// Split an optional zone suffix (`Z`, `±hh:mm`, `±hhmm`, `±hh`) off a time; returns the
/// time text and the offset in seconds.
fn split_zone(t: &str) -> Result<(&str, i64), String> {
    if let Some(rest) = t.strip_suffix('Z').or_else(|| t.strip_suffix('z')) {
        return Ok((rest, 0));
    }
    if let Some(p) = t.rfind(['+', '-']) {
        let (time, zone) = t.split_at(p);
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let z = zone[1..].replace(':', "");
        if !z.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("bad time zone {zone:?}"));
        }
        let (hh, mm) = match z.len() {
            2 => (digits(&z, 2, 2, "zone hour")?, 0),
            4 => (
                digits(&z[..2], 2, 2, "zone hour")?,
                digits(&z[2..], 2, 2, "zone minute")?,
            ),
            _ => return Err(format!("bad time zone {zone:?}")),
        };
        return Ok((time, sign * (i64::from(hh) * 3600 + i64::from(mm) * 60)));
    }
    Ok((t, 0))
}

/// A DATE as days since epoch: `YYYY-MM-DD` (single-digit month/day accepted), or a
/// date-time whose time is midnight.
pub(crate) fn parse_date(s: &str) -> Result<i32, String> {
    if let Some(days) = plain_date(s.as_bytes()) {
        return Ok(days);
    }
    let s = s.trim();
    let (date, time) = match s.find(['T', ' ']) {
        Some(p) => (&s[..p], Some(&s[p + 1..])),
        None => (s, None),
    };
    let days = parse_date_part(date)?;
    if let Some(t) = time {
        let (t, off) = split_zone(t)?;
        if clock_micros(t)? != 0 || off != 0 {
            return Err(format!(
                "{s:?} is not a date (a date-time is accepted only at midnight)"
            ));
        }
    }
    i32::try_from(days).map_err(|_| format!("{s:?} is out of range"))
}

/// A DATETIME as microseconds since epoch (UTC when a zone is given).
pub(crate) fn parse_datetime(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let (date, time) = match s.find(['T', ' ']) {
        Some(p) => (&s[..p], Some(&s[p + 1..])),
        None => (s, None),
    };
    let days = parse_date_part(date)?;
    let (micros, off) = match time {
        Some(t) => {
            let (t, off) = split_zone(t)?;
            (clock_micros(t)?, off)
        }
        None => (0, 0),
    };
    let at = days * MICROS_PER_DAY + micros - off * 1_000_000;
    // A zone offset can move the instant out of the years 0000-9999 that the text form
    // (and so the cube API, which writes it) has.
    if !(days_from_civil(0, 1, 1) * MICROS_PER_DAY..days_from_civil(10_000, 1, 1) * MICROS_PER_DAY)
        .contains(&at)
    {
        return Err(format!("{s:?} is out of range (years 0000 to 9999 in UTC)"));
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::store::parse_decimal;
    use arrow_buffer::i256;

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-01").unwrap(), 0);
        assert_eq!(parse_date("2017-12-4").unwrap(), 17504);
        assert_eq!(parse_date("2017-12-04T00:00:00").unwrap(), 17504);
        assert!(parse_date("2017-12-04T01:00:00").is_err());
        assert!(parse_date("2017-02-29").is_err());
        assert_eq!(parse_date("2000-02-29").unwrap(), 11016);
        assert_eq!(parse_date("0000-01-01").unwrap(), -719528);
    }

    #[test]
    fn times_and_datetimes() {
        assert_eq!(parse_time("11:00:00").unwrap(), 39_600_000_000);
        assert_eq!(parse_time("00:00:01.5").unwrap(), 1_500_000);
        assert_eq!(parse_time("00:00:01.123456000").unwrap(), 1_123_456);
        assert!(parse_time("00:00:01.1234567").is_err());
        assert_eq!(parse_datetime("1970-01-01T00:00:01").unwrap(), 1_000_000);
        assert_eq!(parse_datetime("1970-01-01 00:00:01").unwrap(), 1_000_000);
        assert_eq!(parse_datetime("1970-01-01T01:00:00+01:00").unwrap(), 0);
        assert_eq!(parse_datetime("1970-01-01T00:00:00Z").unwrap(), 0);
        assert_eq!(
            parse_datetime("2020-01-01T00:00:00.000").unwrap(),
            1_577_836_800_000_000
        );
        assert!(parse_datetime("2020-01-01T00:00:00+a\u{e9}1").is_err());
        assert!(parse_datetime("2020-01-01T\u{e9}\u{e9}:00").is_err());
        assert!(parse_date("\u{e9}\u{e9}-01-01").is_err());
        assert!(parse_time("1\u{e9}:00").is_err());
    }

    /// Fuzzing (`numbers`): `23:59:60` was a TIME of 24:00:00, which Arrow cannot write
    /// back as text (the cube API gave `""` for it). A leap second in a DATETIME is still
    /// the next second.
    #[test]
    fn time_of_day_ends_before_midnight() {
        assert!(parse_time("23:59:60").is_err());
        assert!(parse_time("23:59:60.5").is_err());
        assert_eq!(parse_time("23:59:59.999999").unwrap(), MICROS_PER_DAY - 1);
        assert_eq!(parse_time("10:00:60").unwrap(), 36_060_000_000);
        assert_eq!(
            parse_datetime("1970-01-01T23:59:60").unwrap(),
            MICROS_PER_DAY
        );
    }

    /// Fuzzing (`numbers`): a zone offset moved a DATETIME out of the years 0000-9999
    /// (`0000-01-01T00:00:00+01:00` is in year -1), which the cube API then wrote in a form
    /// (`-0001-12-31T23:00:00`) that no parser here reads back.
    #[test]
    fn date_times_stay_in_years_0000_to_9999() {
        assert!(parse_datetime("0000-01-01T00:00:00+01:00").is_err());
        assert!(parse_datetime("9999-12-31T23:59:59-01:00").is_err());
        assert!(parse_datetime("9999-12-31T23:59:60").is_err());
        assert_eq!(
            parse_datetime("0000-01-01T00:00:00Z").unwrap(),
            -719_528 * MICROS_PER_DAY
        );
        assert!(parse_datetime("9999-12-31T23:59:59.999999").is_ok());
        assert!(parse_datetime("0000-01-01T01:00:00+01:00").is_ok());
    }

    #[test]
    fn fast_paths_agree_with_the_general_parsers() {
        for t in [
            "0",
            "-0",
            "7",
            "-7",
            "12.5",
            "-0.001",
            "123456789012345678",
            "-123456789012345678",
            "1234567890123456789",
            "12345678901234567.8",
            "1.",
            ".5",
            "-",
            "",
            "1..2",
            "1.2.3",
            "+1",
            "1e3",
            " 1",
            "00012",
            "9.000",
        ] {
            if let Some((v, s)) = plain_number(t.as_bytes()) {
                let (g, gs) = parse_decimal(&format!(" {t}")).unwrap();
                assert_eq!((i256::from_i128(i128::from(v)), s), (g, gs), "{t}");
            }
        }
        assert_eq!(
            plain_number(b"123456789012345678"),
            Some((123456789012345678, 0))
        );
        assert_eq!(plain_number(b"1234567890123456789"), None);
        assert_eq!(
            plain_number(b"12345678901234567.8"),
            Some((123456789012345678, 1))
        );
        assert_eq!(plain_number(b"1."), None);
        assert_eq!(plain_number(b".5"), None);
        assert_eq!(plain_number(b"-"), None);
        for d in [
            "1970-01-01",
            "2000-02-29",
            "1999-12-31",
            "0001-01-01",
            "9999-12-31",
        ] {
            assert_eq!(
                plain_date(d.as_bytes()).map(i64::from),
                Some(parse_date_part(d).unwrap())
            );
        }
        for d in [
            "2001-02-29",
            "2001-13-01",
            "2001-00-10",
            "2001-01-00",
            "2001-1-01",
            "abcd-01-01",
        ] {
            assert_eq!(plain_date(d.as_bytes()), None, "{d}");
        }
        assert!(parse_date("2001-02-29").is_err());
    }

    /// The fast date path agrees with the general calendar on every day of the years 0 to
    /// 9999.
    #[test]
    fn plain_dates_agree_with_the_calendar() {
        for y in 0..=9999u32 {
            for m in 1..=12 {
                let last = days_in_month(i64::from(y), m);
                for d in 1..=31 {
                    let text = format!("{y:04}-{m:02}-{d:02}");
                    let want = (d <= last).then(|| days_from_civil(i64::from(y), m, d));
                    assert_eq!(plain_date(text.as_bytes()).map(i64::from), want, "{text}");
                }
            }
        }
    }

    #[test]
    fn plain_dates_take_only_digits_and_dashes() {
        // Every byte value at every position of valid dates: a plain date exactly when the
        // dashes and digits are in place and the calendar has the day.
        for base in ["2024-02-29", "1999-12-31", "0000-01-01", "9999-12-31"] {
            for at in 0..10 {
                for c in 0..=255u8 {
                    let mut b = base.as_bytes().to_vec();
                    b[at] = c;
                    let shape = b.iter().enumerate().all(|(i, &x)| {
                        if i == 4 || i == 7 {
                            x == b'-'
                        } else {
                            x.is_ascii_digit()
                        }
                    });
                    let want = std::str::from_utf8(&b)
                        .ok()
                        .filter(|_| shape)
                        .and_then(|s| parse_date_part(s).ok());
                    assert_eq!(plain_date(&b).map(i64::from), want, "{b:?}");
                }
            }
        }
        assert_eq!(plain_date(b"2024-02-2"), None);
        assert_eq!(plain_date(b"2024-02-290"), None);
    }

    #[test]
    fn integers_lenient() {
        assert_eq!(parse_i64("3.0").unwrap(), 3);
        assert_eq!(parse_i64(" 42 ").unwrap(), 42);
        assert!(parse_i64("3.5").is_err());
        assert!(parse_i64("99999999999999999999").is_err());
        assert!(parse_bool("TRUE").unwrap());
        assert!(!parse_bool("0").unwrap());
    }
}
