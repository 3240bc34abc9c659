//! UTC timestamps of the form `2026-01-05T00:00:00Z`.

/// Seconds since the Unix epoch for an RFC 3339 UTC timestamp `YYYY-MM-DDTHH:MM:SSZ`.
pub fn parse_utc(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let number = |range: std::ops::Range<usize>| text.get(range)?.parse::<i64>().ok();
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's civil-date algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Seconds since the Unix epoch for an ISO 8601 timestamp as AWS tools print it:
/// `2026-01-05T10:00:00Z`, `2026-01-05T10:00:00+00:00` or with fractional seconds; only UTC
/// offsets of zero are accepted.
pub fn parse_iso_utc(text: &str) -> Option<i64> {
    let text = text.trim();
    let (base, zone) = text.split_at(text.len().min(19));
    let zone = zone.trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    if !matches!(zone, "Z" | "+00:00" | "") {
        return None;
    }
    parse_utc(&format!("{base}Z"))
}

/// Day of the week of a Unix time, 0 = Monday.
pub fn weekday(unix_secs: i64) -> u32 {
    // 1970-01-01 was a Thursday (3 when Monday is 0).
    ((unix_secs.div_euclid(86_400) + 3).rem_euclid(7)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_dates() {
        assert_eq!(parse_utc("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_utc("2026-01-05T00:00:00Z"), Some(1_767_571_200));
        assert_eq!(weekday(1_767_571_200), 0);
        assert_eq!(parse_utc("1995-07-01T04:00:00Z"), Some(804_571_200));
        assert_eq!(weekday(804_571_200), 5);
    }

    #[test]
    fn parses_aws_timestamps() {
        assert_eq!(
            parse_iso_utc("2026-01-05T00:00:00+00:00"),
            Some(1_767_571_200)
        );
        assert_eq!(
            parse_iso_utc("2026-01-05T00:00:00.000Z"),
            Some(1_767_571_200)
        );
        assert_eq!(parse_iso_utc("2026-01-05T00:00:00+02:00"), None);
    }

    #[test]
    fn rejects_bad_dates() {
        for bad in [
            "2026-02-30T00:00:00Z",
            "2026-01-05 00:00:00",
            "2026-13-01T00:00:00Z",
            "2026-01-05T24:00:00Z",
            "",
        ] {
            assert_eq!(parse_utc(bad), None, "{bad}");
        }
    }
}
