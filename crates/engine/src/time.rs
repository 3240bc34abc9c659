//! Integer simulated time.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

use serde::{Deserialize, Serialize};

/// A point in simulated time: milliseconds since the scenario's start.
///
/// Two times cannot be subtracted with `-`. [`SimTime::since`] returns the [`SimDuration`]
/// between them, and a time plus or minus a [`SimDuration`] is another time.
///
/// ```
/// use autoscale_sim_engine::{SimDuration, SimTime};
///
/// let launched = SimTime(90_000);
/// let ready = launched + SimDuration::from_secs(45);
/// assert_eq!(ready.since(launched), SimDuration::from_secs(45));
/// ```
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct SimTime(pub u64);

/// A span of simulated time in milliseconds.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct SimDuration(pub u64);

impl SimTime {
    /// The scenario's start.
    pub const ZERO: SimTime = SimTime(0);
    /// A time later than any event, used as "never".
    pub const NEVER: SimTime = SimTime(u64::MAX);

    /// Milliseconds since the start.
    pub fn as_millis(self) -> u64 {
        self.0
    }

    /// Whole seconds since the start, rounded down.
    pub fn as_secs(self) -> u64 {
        self.0 / 1000
    }

    /// Time elapsed since `earlier`, or zero when `earlier` is later than `self`.
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }

    /// Seconds since the start as a float, for output only.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }
}

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration(0);

    /// A duration of `ms` milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        SimDuration(ms)
    }

    /// A duration of `s` seconds.
    pub const fn from_secs(s: u64) -> Self {
        SimDuration(s * 1000)
    }

    /// A duration of `m` minutes.
    pub const fn from_mins(m: u64) -> Self {
        SimDuration(m * 60_000)
    }

    /// A duration of `h` hours.
    pub const fn from_hours(h: u64) -> Self {
        SimDuration(h * 3_600_000)
    }

    /// A duration of `d` days.
    pub const fn from_days(d: u64) -> Self {
        SimDuration(d * 86_400_000)
    }

    /// Length in milliseconds.
    pub fn as_millis(self) -> u64 {
        self.0
    }

    /// Length in seconds as a float, for output only.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, rhs: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, rhs: SimDuration) {
        *self = *self + rhs;
    }
}

impl Sub<SimDuration> for SimTime {
    type Output = SimTime;
    fn sub(self, rhs: SimDuration) -> SimTime {
        SimTime(self.0.saturating_sub(rhs.0))
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, rhs: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(rhs.0))
    }
}

impl fmt::Display for SimDuration {
    /// Formats as the shortest exact duration string, such as `10m`, `1h30m` or `1500ms`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0s");
        }
        let mut rest = self.0;
        for (unit, ms) in [
            ("d", 86_400_000),
            ("h", 3_600_000),
            ("m", 60_000),
            ("s", 1000),
            ("ms", 1),
        ] {
            if rest >= ms {
                write!(f, "{}{}", rest / ms, unit)?;
                rest %= ms;
            }
        }
        Ok(())
    }
}

impl fmt::Display for SimTime {
    /// Formats as days, hours, minutes and seconds since the start, such as `2d03:15:07.250`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0 % 1000;
        let s = self.0 / 1000;
        write!(
            f,
            "{}d{:02}:{:02}:{:02}.{:03}",
            s / 86_400,
            s / 3600 % 24,
            s / 60 % 60,
            s % 60,
            ms
        )
    }
}

/// Error from [`parse_duration`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid duration {input:?}: {reason}; write a number followed by a unit, such as 500ms, 45s, 10m, 1h30m or 7d"
)]
pub struct DurationError {
    /// The text that failed to parse.
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Parses a duration in the Go and Kubernetes style: one or more `<integer><unit>` parts with units
/// `ms`, `s`, `m`, `h` and `d`, such as `10m`, `1h30m` or `500ms`. A bare `0` is zero.
///
/// Fractions are rejected so that every accepted duration is an exact number of milliseconds.
pub fn parse_duration(input: &str) -> Result<SimDuration, DurationError> {
    let error = |reason| DurationError {
        input: input.to_string(),
        reason,
    };
    let text = input.trim();
    if text.is_empty() {
        return Err(error("it is empty"));
    }
    if text == "0" {
        return Ok(SimDuration::ZERO);
    }
    if text.contains(char::is_whitespace) {
        return Err(error("it contains a space"));
    }
    let bytes = text.as_bytes();
    let mut total: u64 = 0;
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if start == i {
            return Err(error(if bytes[i] == b'-' {
                "it is negative"
            } else {
                "a number is missing before a unit"
            }));
        }
        let number: u64 = text[start..i]
            .parse()
            .map_err(|_| error("the number is too large"))?;
        let unit_start = i;
        while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
            i += 1;
        }
        let unit_ms: u64 = match &text[unit_start..i] {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "" if i < bytes.len() && bytes[i] == b'.' => {
                return Err(error("fractions are not supported"));
            }
            "" => return Err(error("the unit is missing")),
            _ => return Err(error("the unit is not one of ms, s, m, h, d")),
        };
        let part = number
            .checked_mul(unit_ms)
            .ok_or_else(|| error("the number is too large"))?;
        total = total
            .checked_add(part)
            .ok_or_else(|| error("the number is too large"))?;
    }
    Ok(SimDuration(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_duration_accepts_go_style() {
        assert_eq!(parse_duration("10m"), Ok(SimDuration::from_mins(10)));
        assert_eq!(parse_duration("1h30m"), Ok(SimDuration::from_mins(90)));
        assert_eq!(parse_duration("500ms"), Ok(SimDuration::from_millis(500)));
        assert_eq!(parse_duration("7d"), Ok(SimDuration::from_days(7)));
        assert_eq!(parse_duration("0"), Ok(SimDuration::ZERO));
        assert_eq!(parse_duration("0s"), Ok(SimDuration::ZERO));
    }

    #[test]
    fn parse_duration_rejects_bad_input() {
        for bad in [
            "",
            "10",
            "m",
            "-5s",
            "1.5h",
            "10x",
            "99999999999999999999s",
            "7 days",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be rejected");
        }
        assert_eq!(
            parse_duration("1.5h").unwrap_err().reason,
            "fractions are not supported"
        );
        assert_eq!(parse_duration("-5s").unwrap_err().reason, "it is negative");
        assert_eq!(
            parse_duration("7 days").unwrap_err().reason,
            "it contains a space"
        );
    }

    #[test]
    fn duration_display_round_trips() {
        for text in ["10m", "1h30m", "500ms", "7d", "1d2h3m4s5ms"] {
            assert_eq!(parse_duration(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn time_display_shows_day_and_clock() {
        assert_eq!(
            SimTime(2 * 86_400_000 + 3_600_000 * 3 + 15 * 60_000 + 7250).to_string(),
            "2d03:15:07.250"
        );
    }
}
