//! Upload tree layout: where the upload server stores a client file.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

const MS_PER_DAY: i64 = 86_400_000;

/// Returns the path of a client file under `incoming` and creates its parent directories:
/// `incoming/<device_id>/<version>/<ISO year>/<ISO week>/<file_name>`.
///
/// See [`upload_relative_path`] for how the year and week are derived.
pub fn upload_path(
    incoming: &Path,
    device_id: &str,
    version: &str,
    session_ms: i64,
    file_name: &str,
) -> Result<PathBuf> {
    let path = incoming.join(upload_relative_path(
        device_id, version, session_ms, file_name,
    ));
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("failed to create directory {}", parent.display()))?;
    }
    Ok(path)
}

/// Returns `<device_id>/<version>/<ISO year>/<ISO week>/<file_name>` without touching the file
/// system. Year and week are the ISO-8601 week date of `session_ms` in UTC, and the week has no
/// leading zero (`2017/2`).
///
/// NOTE: the original Node.js upload server (hostview-upload, `FileController.js`) wrote the
/// calendar year of the server's local date next to the ISO week. Around New Year its folders
/// can therefore differ from these, for example `2016/53` instead of `2015/53`.
pub fn upload_relative_path(
    device_id: &str,
    version: &str,
    session_ms: i64,
    file_name: &str,
) -> PathBuf {
    let (year, week) = iso_week(session_ms);
    [
        device_id,
        version,
        &year.to_string(),
        &week.to_string(),
        file_name,
    ]
    .iter()
    .collect()
}

/// Returns the ISO-8601 `(year, week)` of a UTC instant given in epoch milliseconds.
///
/// ISO weeks start on Monday, and week 1 is the week that contains the year's first Thursday,
/// so 1–3 January can belong to the previous year's last week and 29–31 December to the next
/// year's week 1.
pub fn iso_week(epoch_ms: i64) -> (i32, u32) {
    let day = epoch_ms.div_euclid(MS_PER_DAY);
    // 1970-01-01 was a Thursday: weekday 0 is Monday.
    let weekday = (day + 3).rem_euclid(7);
    let thursday = day - weekday + 3;
    let (year, _, _) = civil_from_days(thursday);
    let first_of_year = days_from_civil(year, 1, 1);
    let week = (thursday - first_of_year) / 7 + 1;
    (year, week as u32)
}

/// Returns the day count since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    // Count years from March, so the leap day is the last day of the counted year.
    let year = i64::from(if month <= 2 { year - 1 } else { year });
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_from_march = i64::from((month + 9) % 12);
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Returns the proleptic Gregorian `(year, month, day)` of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i32, u32, u32) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year as i32, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(year: i32, month: u32, day: u32, hour: i64) -> i64 {
        days_from_civil(year, month, day) * MS_PER_DAY + hour * 3_600_000
    }

    #[test]
    fn civil_days_round_trip() {
        for day in -800_000..800_000 {
            let (year, month, day_of_month) = civil_from_days(day);
            assert_eq!(days_from_civil(year, month, day_of_month), day, "day {day}");
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn iso_week_known_dates() {
        let cases = [
            // (date, hour UTC, ISO year, ISO week)
            ((2016, 7, 18), 8, 2016, 29),
            ((2016, 1, 1), 9, 2015, 53),
            ((2016, 1, 4), 0, 2016, 1),
            ((2017, 1, 1), 23, 2016, 52),
            ((2017, 1, 9), 7, 2017, 2),
            ((2008, 12, 29), 12, 2009, 1),
            ((2012, 12, 31), 12, 2013, 1),
            ((2010, 1, 3), 12, 2009, 53),
            ((2020, 12, 31), 23, 2020, 53),
            ((2026, 12, 4), 0, 2026, 49),
            ((1969, 12, 31), 12, 1970, 1),
            ((1969, 12, 28), 12, 1969, 52),
        ];
        for ((year, month, day), hour, iso_year, iso_week_number) in cases {
            assert_eq!(
                iso_week(ms(year, month, day, hour)),
                (iso_year, iso_week_number),
                "{year}-{month:02}-{day:02}T{hour:02}Z"
            );
        }
    }

    #[test]
    fn iso_week_day_boundaries_utc() {
        // Sunday 2016-07-24 23:59:59.999 is week 29, Monday 00:00 is week 30.
        let monday = ms(2016, 7, 25, 0);
        assert_eq!(iso_week(monday - 1), (2016, 29));
        assert_eq!(iso_week(monday), (2016, 30));
    }

    #[test]
    fn relative_path_layout() {
        let path = upload_relative_path(
            "EXAMPLE-0000-4000-8000-000000000002",
            "2.1.3",
            1_451_640_600_000,
            "1451640600000_stats.db",
        );
        assert_eq!(
            path,
            PathBuf::from(
                "EXAMPLE-0000-4000-8000-000000000002/2.1.3/2015/53/1451640600000_stats.db"
            )
        );
    }

    #[test]
    fn upload_path_creates_parents() {
        let dir = tempfile::tempdir().unwrap();
        let incoming = dir.path().join("incoming");

        let path = upload_path(&incoming, "D1", "2.1.3", 1_483_945_530_500, "x_stats.db").unwrap();

        assert_eq!(path, incoming.join("D1/2.1.3/2017/2/x_stats.db"));
        assert!(path.parent().unwrap().is_dir());
        assert!(!path.exists());
    }
}
