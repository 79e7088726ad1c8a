//! Stored timestamps (milliseconds since the Unix epoch, UTC) in the forms people and the REST
//! API read.

/// Format a stored timestamp (ms since epoch, UTC) for people: `2026-11-22 23:14 UTC`.
pub fn format_timestamp(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02} UTC", rem / 3600, (rem % 3600) / 60)
}

/// A stored timestamp relative to `now` (both ms since epoch), as people say it: `just now`,
/// `3 minutes ago`, `yesterday`, `5 days ago`; older than a month, the date (`2026-10-02`).
/// A time ahead of `now` (clocks differ a little) reads as `just now`.
pub fn format_relative(ms: i64, now: i64) -> String {
    let secs = (now - ms).max(0) / 1000;
    let plural = |n: i64, unit: &str| format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" });
    match secs {
        0..=44 => "just now".into(),
        45..=3_599 => plural((secs / 60).max(1), "minute"),
        3_600..=86_399 => plural(secs / 3_600, "hour"),
        86_400..=172_799 => "yesterday".into(),
        172_800..=2_591_999 => plural(secs / 86_400, "day"),
        _ => format_timestamp(ms)[..10].to_string(),
    }
}

/// RFC 3339 with millisecond precision, as the REST API spells dates: `2026-11-22T22:54:00.000Z`.
/// Written digit by digit: a list of secrets formats two or three of these per secret, and
/// `format!` with seven padded numbers was a tenth of the server's work for a list of 1,000.
pub fn format_timestamp_rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    if !(0..=9999).contains(&y) {
        // Never a stored time; the general formatter writes the same text for any year.
        return rfc3339_by_format(ms);
    }
    let fields = [
        (y, 4, '-'),
        (i64::from(m), 2, '-'),
        (i64::from(d), 2, 'T'),
        (rem / 3600, 2, ':'),
        ((rem % 3600) / 60, 2, ':'),
        (rem % 60, 2, '.'),
        (ms.rem_euclid(1000), 3, 'Z'),
    ];
    let mut out = String::with_capacity(24);
    for (value, width, then) in fields {
        for place in (0..width).rev() {
            let digit = (value / 10_i64.pow(place)) % 10;
            out.push(char::from(b'0' + digit as u8));
        }
        out.push(then);
    }
    out
}

/// The same text through `format!`, for years outside 0 to 9999.
fn rfc3339_by_format(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        ms.rem_euclid(1000)
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm). Written by
/// hand because this runs in the browser too, where pulling a date crate costs WASM size.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A date as an `<input type="date">` gives it (`2026-11-30`) to the start of that day, UTC, in
/// ms since the epoch; `None` for anything else, including dates that do not exist (`2026-02-30`).
pub fn parse_date_utc(date: &str) -> Option<i64> {
    let mut parts = date.trim().splitn(3, '-');
    let mut number =
        |len: usize| parts.next().filter(|p| p.len() == len && p.bytes().all(|b| b.is_ascii_digit()));
    let (y, m, d): (i64, u32, u32) =
        (number(4)?.parse().ok()?, number(2)?.parse().ok()?, number(2)?.parse().ok()?);
    let days = days_from_civil(y, m, d);
    // Round-tripping rejects months and days out of range without a calendar table here.
    (civil_from_days(days) == (y, m, d)).then_some(days * 86_400_000)
}

/// The inverse of `civil_from_days` (the same algorithm, run backwards); out-of-range months
/// and days give some other date, which `parse_date_utc` detects.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times_read_as_people_say_them() {
        let now = 1_764_460_800_000; // 2025-11-30 00:00 UTC
        let ago = |secs: i64| format_relative(now - secs * 1000, now);
        assert_eq!(ago(0), "just now");
        assert_eq!(ago(-30), "just now", "a clock a little ahead");
        assert_eq!(ago(60), "1 minute ago");
        assert_eq!(ago(3 * 60 + 20), "3 minutes ago");
        assert_eq!(ago(3_600), "1 hour ago");
        assert_eq!(ago(5 * 3_600), "5 hours ago");
        assert_eq!(ago(86_400 + 10), "yesterday");
        assert_eq!(ago(3 * 86_400), "3 days ago");
        assert_eq!(ago(40 * 86_400), "2025-10-21");
    }

    #[test]
    fn timestamps_format_as_utc_dates() {
        assert_eq!(format_timestamp(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_timestamp(951_782_400_000), "2000-02-29 00:00 UTC");
        assert_eq!(format_timestamp(1_795_388_040_000), "2026-11-22 22:54 UTC");
        assert_eq!(format_timestamp_rfc3339(1_795_388_040_123), "2026-11-22T22:54:00.123Z");
    }

    #[test]
    fn rfc3339_digit_by_digit_matches_the_general_formatter() {
        // From 1970 to past 9999, in steps that reach every field's carries, and both ends.
        let mut ms = -1;
        while ms < 260_000_000_000_000 {
            assert_eq!(format_timestamp_rfc3339(ms), rfc3339_by_format(ms), "{ms}");
            ms += 9_876_543_211;
        }
        for ms in
            [0, 999, 1_000, 59_999, 86_399_999, 253_402_300_799_999, 253_402_300_800_000, -62_167_219_200_001]
        {
            assert_eq!(format_timestamp_rfc3339(ms), rfc3339_by_format(ms), "{ms}");
        }
        assert_eq!(format_timestamp_rfc3339(253_402_300_799_999), "9999-12-31T23:59:59.999Z");
        assert_eq!(format_timestamp_rfc3339(0), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn dates_from_date_inputs_parse_to_the_start_of_the_day() {
        assert_eq!(parse_date_utc("1970-01-01"), Some(0));
        assert_eq!(parse_date_utc("2000-02-29"), Some(951_782_400_000));
        assert_eq!(parse_date_utc("2026-11-22"), Some(1_795_388_040_000 - (22 * 3600 + 54 * 60) * 1000));
        for bad in ["", "2026-02-30", "2025-02-29", "2026-13-01", "2026-00-10", "26-11-22", "2026-1-2", "x"] {
            assert_eq!(parse_date_utc(bad), None, "{bad:?}");
        }
    }
}
