//! Typed column values as the mapping produces them, and their text encodings.
//!
//! A [`Value`] is backend-neutral: the PostgreSQL store encodes it for `COPY … FROM STDIN` text
//! format and the SQLite store binds it as a parameter. Times are UTC epoch milliseconds until
//! they are encoded, because that is what the client writes and it needs no time zone handling.

use std::fmt::Write as _;
use std::net::IpAddr;

/// One column value of an output row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
    /// UTC epoch milliseconds, already checked by [`checked_epoch_ms`].
    Time(i64),
    Inet(IpAddr),
    TextArray(Vec<String>),
}

impl Value {
    /// Wraps an optional string, mapping `None` to [`Value::Null`].
    pub fn text(value: Option<String>) -> Value {
        value.map_or(Value::Null, Value::Text)
    }

    /// Wraps an optional integer, mapping `None` to [`Value::Null`].
    pub fn int(value: Option<i64>) -> Value {
        value.map_or(Value::Null, Value::Int)
    }

    /// Wraps an optional float, mapping `None` to [`Value::Null`].
    pub fn float(value: Option<f64>) -> Value {
        value.map_or(Value::Null, Value::Float)
    }

    /// Wraps an optional epoch-millisecond time, mapping `None` to [`Value::Null`].
    pub fn time(value: Option<i64>) -> Value {
        value.map_or(Value::Null, Value::Time)
    }
}

/// Earliest time accepted: 0001-01-01T00:00:00Z in epoch milliseconds.
const MIN_EPOCH_MS: i64 = -62_135_596_800_000;
/// Latest time accepted: 9999-12-31T23:59:59.999Z in epoch milliseconds.
const MAX_EPOCH_MS: i64 = 253_402_300_799_999;

/// Returns `ms` when it lies within years 1 to 9999, the range that both ISO-8601 text and
/// PostgreSQL `timestamptz` represent without special cases.
pub fn checked_epoch_ms(ms: i64) -> Option<i64> {
    (MIN_EPOCH_MS..=MAX_EPOCH_MS).contains(&ms).then_some(ms)
}

/// Converts days since 1970-01-01 to a proleptic Gregorian (year, month, day).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Shift the epoch to 0000-03-01 so that leap days fall at the end of a 400-year era.
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Appends `ms` as `YYYY-MM-DD<sep>HH:MM:SS.mmm` to `out`.
fn write_date_time(out: &mut String, ms: i64, separator: char) {
    let days = ms.div_euclid(86_400_000);
    let ms_of_day = ms.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    let hour = ms_of_day / 3_600_000;
    let minute = ms_of_day / 60_000 % 60;
    let second = ms_of_day / 1_000 % 60;
    let milli = ms_of_day % 1_000;
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        "{year:04}-{month:02}-{day:02}{separator}{hour:02}:{minute:02}:{second:02}.{milli:03}"
    );
}

/// Appends `ms` as ISO-8601 UTC with milliseconds, such as `2016-07-18T14:37:03.282Z`.
pub fn write_iso8601(out: &mut String, ms: i64) {
    write_date_time(out, ms, 'T');
    out.push('Z');
}

/// Formats `ms` as ISO-8601 UTC with milliseconds, such as `2016-07-18T14:37:03.282Z`.
pub fn iso8601(ms: i64) -> String {
    let mut out = String::with_capacity(24);
    write_iso8601(&mut out, ms);
    out
}

/// Appends `ms` as a PostgreSQL `timestamptz` literal with an explicit UTC offset.
pub fn write_pg_timestamptz(out: &mut String, ms: i64) {
    write_date_time(out, ms, ' ');
    out.push_str("+00");
}

/// Parses an IP address as the client writes it, or returns `None`.
///
/// An IPv6 zone suffix such as `%14` is dropped because `inet` cannot store it, and an
/// IPv4-mapped IPv6 address (`::ffff:10.1.2.3`) becomes the IPv4 address it maps.
pub fn parse_ip(text: &str) -> Option<IpAddr> {
    let trimmed = text.trim();
    let without_zone = trimmed
        .split_once('%')
        .map_or(trimmed, |(address, _zone)| address);
    let address: IpAddr = without_zone.parse().ok()?;
    Some(address.to_canonical())
}

/// Splits a comma-separated client list into trimmed, non-empty items.
pub fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_known_instants() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_468_852_623_282), "2016-07-18T14:37:03.282Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso8601(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(iso8601(MIN_EPOCH_MS), "0001-01-01T00:00:00.000Z");
        assert_eq!(iso8601(MAX_EPOCH_MS), "9999-12-31T23:59:59.999Z");
    }

    #[test]
    fn pg_timestamptz_has_utc_offset() {
        let mut out = String::new();
        write_pg_timestamptz(&mut out, 1_479_381_234_567);
        assert_eq!(out, "2016-11-17 11:13:54.567+00");
    }

    #[test]
    fn checked_epoch_ms_rejects_out_of_range() {
        assert_eq!(checked_epoch_ms(0), Some(0));
        assert_eq!(checked_epoch_ms(MAX_EPOCH_MS + 1), None);
        assert_eq!(checked_epoch_ms(MIN_EPOCH_MS - 1), None);
        assert_eq!(checked_epoch_ms(i64::MAX), None);
    }

    #[test]
    fn civil_from_days_matches_day_counter() {
        // Walk day by day from 1800-01-01 and compare with a simple calendar counter.
        let (mut year, mut month, mut day) = (1800_i64, 1_u32, 1_u32);
        let start = -62_091; // days from 1970-01-01 back to 1800-01-01
        for offset in 0..(400 * 366) {
            assert_eq!(civil_from_days(start + offset), (year, month, day));
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
            let month_days = match month {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            day += 1;
            if day > month_days {
                day = 1;
                month += 1;
                if month > 12 {
                    month = 1;
                    year += 1;
                }
            }
        }
    }

    #[test]
    fn parse_ip_cases() {
        assert_eq!(parse_ip("10.1.2.3"), Some("10.1.2.3".parse().unwrap()));
        assert_eq!(parse_ip("fe80::1%14"), Some("fe80::1".parse().unwrap()));
        assert_eq!(
            parse_ip("::ffff:10.1.2.3"),
            Some("10.1.2.3".parse().unwrap())
        );
        assert_eq!(
            parse_ip(" 2001:db8::1 "),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(parse_ip(""), None);
        assert_eq!(parse_ip("h6d0.example.com"), None);
        assert_eq!(parse_ip("10.1.2"), None);
    }

    #[test]
    fn split_list_drops_empty_items() {
        assert_eq!(split_list("a, b,,c ,"), vec!["a", "b", "c"]);
        assert!(split_list("").is_empty());
    }
}
