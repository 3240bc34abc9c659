//! Diurnal load generator: a daily cycle with a weekend factor and multiplicative noise.

use std::f64::consts::PI;
use std::fmt;

use autoscale_sim_engine::{SimDuration, SimRng, parse_duration};
use rand_distr::{Distribution, StandardNormal};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use crate::Trace;

const HOURS_PER_DAY: f64 = 24.0;
const MILLIS_PER_HOUR: f64 = 3_600_000.0;
const DAY: SimDuration = SimDuration::from_days(1);
/// Weekday numbers of Saturday and Sunday, counting Monday as 0.
const WEEKEND: [u32; 2] = [5, 6];

/// Configuration of a diurnal load: the `diurnal` entry of a scenario's `loads`.
///
/// Within each day the load rises from `base` at `trough_hour` to `peak` at `peak_hour` along a
/// half cosine. It then falls back to `base` along a half cosine over the remaining hours, so
/// the rise and the fall may last different times. Saturday and Sunday values are multiplied by
/// `weekend_factor`, and every value by `1 + noise * N(0, 1)`, clamped at zero.
///
/// The default hours follow the NASA-HTTP web server trace of July 1995, which peaks near 14:00
/// and bottoms near 05:00 local time.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DiurnalLoad {
    /// Load at the daily trough, in the load's own unit (for example requests per minute).
    pub base: f64,
    /// Load at the daily peak, in the same unit. Must be at least `base`.
    pub peak: f64,
    /// Hour of day of the peak, from 0 up to but not including 24, and possibly fractional.
    /// Default 14.
    #[serde(default = "default_peak_hour")]
    pub peak_hour: f64,
    /// Hour of day of the trough, from 0 up to but not including 24, and possibly fractional.
    /// Default 5.
    #[serde(default = "default_trough_hour")]
    pub trough_hour: f64,
    /// Multiplier of the load on Saturday and Sunday. Default 1, no weekend effect.
    #[serde(default = "default_weekend_factor")]
    pub weekend_factor: f64,
    /// Relative standard deviation of the multiplicative Gaussian noise. Default 0, no noise.
    #[serde(default)]
    pub noise: f64,
    /// Interval of each generated value, written as a duration such as `60s`. Default 60 s.
    #[serde(default = "default_step", deserialize_with = "deserialize_duration")]
    pub step: SimDuration,
}

fn default_peak_hour() -> f64 {
    14.0
}

fn default_trough_hour() -> f64 {
    5.0
}

fn default_weekend_factor() -> f64 {
    1.0
}

fn default_step() -> SimDuration {
    SimDuration::from_secs(60)
}

impl DiurnalLoad {
    /// Creates a load between `base` and `peak` with every other field at its default.
    pub fn new(base: f64, peak: f64) -> DiurnalLoad {
        DiurnalLoad {
            base,
            peak,
            peak_hour: default_peak_hour(),
            trough_hour: default_trough_hour(),
            weekend_factor: default_weekend_factor(),
            noise: 0.0,
            step: default_step(),
        }
    }

    /// Checks every field and returns a message that names the first invalid one.
    pub fn validate(&self) -> Result<(), String> {
        check_non_negative("base", self.base)?;
        check_non_negative("peak", self.peak)?;
        if self.peak < self.base {
            return Err(format!(
                "peak {} is below base {}; the peak must be at least the base",
                self.peak, self.base
            ));
        }
        check_hour("peakHour", self.peak_hour)?;
        check_hour("troughHour", self.trough_hour)?;
        if self.peak_hour == self.trough_hour {
            return Err(format!(
                "peakHour and troughHour are both {}; they must differ so that the load can rise and fall",
                self.peak_hour
            ));
        }
        check_non_negative("weekendFactor", self.weekend_factor)?;
        check_non_negative("noise", self.noise)?;
        if self.step == SimDuration::ZERO {
            return Err("step is 0s; expected a duration of at least 1ms, such as 60s".into());
        }
        Ok(())
    }

    /// Generates one value per step for `duration`, rounded up to whole steps.
    ///
    /// `start_weekday` is the weekday of t = 0 (0 is Monday, 6 is Sunday), and
    /// `start_time_of_day` is the time of day of t = 0. An offset of a day or more also advances
    /// the weekday. Each value is the shape at the start of its step. Noise draws one standard
    /// normal number per step from `rng`, and no draws when `noise` is 0. Fails with a message
    /// when the configuration is invalid, `duration` is zero or `start_weekday` is above 6.
    pub fn generate(
        &self,
        duration: SimDuration,
        start_weekday: u32,
        start_time_of_day: SimDuration,
        rng: &mut SimRng,
    ) -> Result<Trace, String> {
        self.validate()?;
        if duration == SimDuration::ZERO {
            return Err("the duration to generate is 0s; expected at least one step".into());
        }
        if start_weekday > 6 {
            return Err(format!(
                "start weekday {start_weekday} is out of range; expected 0 (Monday) to 6 (Sunday)"
            ));
        }

        let count = duration.as_millis().div_ceil(self.step.as_millis());
        let mut values = Vec::new();
        values
            .try_reserve_exact(count as usize)
            .map_err(|_| format!("{count} steps of {} are too many to store", self.step))?;
        for i in 0..count {
            let since_midnight =
                start_time_of_day + SimDuration(i.saturating_mul(self.step.as_millis()));
            let value = self.value_at(since_midnight, start_weekday);
            values.push(value * self.noise_factor(rng));
        }

        Trace::new(self.step, values).map_err(|e| e.to_string())
    }

    /// Noise-free load at `hour_of_day` (0 up to 24) on `weekday` (0 is Monday).
    pub fn noise_free_value(&self, hour_of_day: f64, weekday: u32) -> f64 {
        let value = self.daily_shape(hour_of_day);
        if WEEKEND.contains(&weekday) {
            value * self.weekend_factor
        } else {
            value
        }
    }

    /// Noise-free load at `since_midnight` after midnight of a day whose weekday is
    /// `start_weekday`. The offset may span several days.
    fn value_at(&self, since_midnight: SimDuration, start_weekday: u32) -> f64 {
        let days = since_midnight.as_millis() / DAY.as_millis();
        let weekday = ((u64::from(start_weekday) + days) % 7) as u32;
        let hour = (since_midnight.as_millis() % DAY.as_millis()) as f64 / MILLIS_PER_HOUR;
        self.noise_free_value(hour, weekday)
    }

    /// Value of the daily cycle, before the weekend factor, at `hour` of the day.
    fn daily_shape(&self, hour: f64) -> f64 {
        let rise_hours = (self.peak_hour - self.trough_hour).rem_euclid(HOURS_PER_DAY);
        let fall_hours = HOURS_PER_DAY - rise_hours;
        let since_trough = (hour - self.trough_hour).rem_euclid(HOURS_PER_DAY);
        let amplitude = self.peak - self.base;

        if since_trough <= rise_hours {
            self.base + amplitude * half_cosine(since_trough / rise_hours)
        } else {
            self.peak - amplitude * half_cosine((since_trough - rise_hours) / fall_hours)
        }
    }

    /// Multiplier `1 + noise * N(0, 1)`, clamped at zero so that the load never goes negative.
    fn noise_factor(&self, rng: &mut SimRng) -> f64 {
        if self.noise == 0.0 {
            return 1.0;
        }
        let z: f64 = StandardNormal.sample(rng);
        (1.0 + self.noise * z).max(0.0)
    }
}

/// Rises from 0 at `fraction` 0 to 1 at `fraction` 1 along half a cosine period.
fn half_cosine(fraction: f64) -> f64 {
    (1.0 - (PI * fraction).cos()) / 2.0
}

fn check_non_negative(field: &str, value: f64) -> Result<(), String> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(format!(
            "{field} {value} is invalid; expected a finite number zero or more"
        ))
    }
}

fn check_hour(field: &str, hour: f64) -> Result<(), String> {
    if (0.0..HOURS_PER_DAY).contains(&hour) {
        Ok(())
    } else {
        Err(format!(
            "{field} {hour} is out of range; expected an hour from 0 up to but not including 24"
        ))
    }
}

/// Deserializes a duration string such as `60s` or `1m30s` with [`parse_duration`].
fn deserialize_duration<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<SimDuration, D::Error> {
    struct DurationVisitor;

    impl Visitor<'_> for DurationVisitor {
        type Value = SimDuration;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a duration string such as 60s or 5m")
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<SimDuration, E> {
            parse_duration(text).map_err(E::custom)
        }
    }

    deserializer.deserialize_str(DurationVisitor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use autoscale_sim_engine::{RngStreams, SimTime};
    use serde::de::IntoDeserializer;
    use serde::de::value::{Error as ValueError, MapDeserializer};

    fn at(hours: u64, minutes: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_hours(hours) + SimDuration::from_mins(minutes)
    }

    fn day_trace(load: &DiurnalLoad, days: u64) -> Trace {
        let mut rng = RngStreams::new(1).stream("test");
        load.generate(SimDuration::from_days(days), 0, SimDuration::ZERO, &mut rng)
            .unwrap()
    }

    fn close(actual: f64, expected: f64) -> bool {
        (actual - expected).abs() < 1e-9
    }

    #[test]
    fn shape_hits_trough_peak_and_midpoint() {
        let trace = day_trace(&DiurnalLoad::new(100.0, 400.0), 1);

        assert_eq!(trace.value_at(at(14, 0)), Some(400.0));
        assert_eq!(trace.value_at(at(5, 0)), Some(100.0));
        let rise_midpoint = trace.value_at(at(9, 30)).unwrap();
        assert!(close(rise_midpoint, 250.0), "{rise_midpoint}");
        // The fall lasts 15 h, from 14:00 to 05:00, so its midpoint is 21:30.
        let fall_midpoint = trace.value_at(at(21, 30)).unwrap();
        assert!(close(fall_midpoint, 250.0), "{fall_midpoint}");
    }

    #[test]
    fn shape_stays_between_base_and_peak() {
        let trace = day_trace(&DiurnalLoad::new(100.0, 400.0), 1);

        assert_eq!(trace.values().len(), 24 * 60);
        assert_eq!(trace.max_value(), 400.0);
        let min = trace.values().iter().copied().fold(f64::INFINITY, f64::min);
        assert_eq!(min, 100.0);
        assert!(close(trace.mean(), 250.0), "{}", trace.mean());
    }

    #[test]
    fn shape_wraps_across_midnight() {
        let mut load = DiurnalLoad::new(100.0, 400.0);
        load.peak_hour = 2.0;
        load.trough_hour = 20.0;

        assert_eq!(load.noise_free_value(2.0, 0), 400.0);
        assert_eq!(load.noise_free_value(20.0, 0), 100.0);
        // The rise lasts 6 h, from 20:00 to 02:00, so its midpoint is 23:00.
        assert!(close(load.noise_free_value(23.0, 0), 250.0));
    }

    #[test]
    fn weekend_factor_applies_saturday_and_sunday() {
        let mut load = DiurnalLoad::new(100.0, 400.0);
        load.weekend_factor = 0.5;
        let trace = day_trace(&load, 7);

        for day in 0..7 {
            let peak = trace.value_at(at(day * 24 + 14, 0)).unwrap();
            let expected = if day >= 5 { 200.0 } else { 400.0 };
            assert_eq!(peak, expected, "day {day}");
        }
    }

    #[test]
    fn start_weekday_and_time_of_day_offset() {
        let mut load = DiurnalLoad::new(100.0, 400.0);
        load.weekend_factor = 0.5;
        let mut rng = RngStreams::new(1).stream("test");

        // t = 0 is Friday 12:00, so t = 26 h is Saturday 14:00.
        let trace = load
            .generate(
                SimDuration::from_days(2),
                4,
                SimDuration::from_hours(12),
                &mut rng,
            )
            .unwrap();

        assert_eq!(trace.value_at(at(2, 0)), Some(400.0));
        assert_eq!(trace.value_at(at(26, 0)), Some(200.0));
        assert_eq!(trace.value_at(at(17, 0)), Some(50.0));
    }

    #[test]
    fn duration_rounds_up_to_whole_steps() {
        let mut load = DiurnalLoad::new(1.0, 2.0);
        load.step = SimDuration::from_mins(5);
        let mut rng = RngStreams::new(1).stream("test");

        let trace = load
            .generate(SimDuration::from_mins(11), 0, SimDuration::ZERO, &mut rng)
            .unwrap();

        assert_eq!(trace.values().len(), 3);
        assert_eq!(trace.step(), SimDuration::from_mins(5));
    }

    #[test]
    fn noise_is_deterministic_per_stream() {
        let mut load = DiurnalLoad::new(100.0, 400.0);
        load.noise = 0.1;
        let generate = |seed, name: &str| {
            let mut rng = RngStreams::new(seed).stream(name);
            load.generate(SimDuration::from_days(1), 0, SimDuration::ZERO, &mut rng)
                .unwrap()
        };

        let first = generate(7, "load/web");
        let again = generate(7, "load/web");
        let other = generate(7, "load/other");
        let noiseless = day_trace(&DiurnalLoad::new(100.0, 400.0), 1);

        assert_eq!(first, again);
        assert_ne!(first, other);
        assert_ne!(first, noiseless);
        assert!(first.values().iter().all(|v| *v >= 0.0));
    }

    #[test]
    fn noise_keeps_daily_peak_to_trough_ratio() {
        let mut load = DiurnalLoad::new(100.0, 400.0);
        load.noise = 0.05;
        let trace = day_trace(&load, 7);

        // Mean of each hour of day over the week, as the trace provenance measures the ratio.
        let mut hour_sums = [0.0; 24];
        for (i, value) in trace.values().iter().enumerate() {
            hour_sums[i / 60 % 24] += value;
        }
        let max = hour_sums.iter().copied().fold(f64::MIN, f64::max);
        let min = hour_sums.iter().copied().fold(f64::MAX, f64::min);
        let ratio = max / min;

        assert!((3.7..4.3).contains(&ratio), "peak/trough ratio {ratio}");
    }

    #[test]
    fn noise_clamps_at_zero() {
        let mut load = DiurnalLoad::new(100.0, 400.0);
        load.noise = 5.0;
        let trace = day_trace(&load, 1);

        assert!(trace.values().contains(&0.0));
        assert!(trace.values().iter().all(|v| *v >= 0.0));
    }

    /// A change that makes a valid configuration invalid, and the expected message.
    type InvalidCase = (fn(&mut DiurnalLoad), &'static str);

    #[test]
    fn validate_rejects_bad_fields() {
        let cases: [InvalidCase; 10] = [
            (
                |l| l.peak = 50.0,
                "peak 50 is below base 100; the peak must be at least the base",
            ),
            (
                |l| l.base = -1.0,
                "base -1 is invalid; expected a finite number zero or more",
            ),
            (
                |l| l.base = f64::NAN,
                "base NaN is invalid; expected a finite number zero or more",
            ),
            (
                |l| l.peak = f64::INFINITY,
                "peak inf is invalid; expected a finite number zero or more",
            ),
            (
                |l| l.peak_hour = 24.0,
                "peakHour 24 is out of range; expected an hour from 0 up to but not including 24",
            ),
            (
                |l| l.trough_hour = -0.5,
                "troughHour -0.5 is out of range; expected an hour from 0 up to but not including 24",
            ),
            (
                |l| l.trough_hour = 14.0,
                "peakHour and troughHour are both 14; they must differ so that the load can rise and fall",
            ),
            (
                |l| l.weekend_factor = -0.1,
                "weekendFactor -0.1 is invalid; expected a finite number zero or more",
            ),
            (
                |l| l.noise = f64::NAN,
                "noise NaN is invalid; expected a finite number zero or more",
            ),
            (
                |l| l.step = SimDuration::ZERO,
                "step is 0s; expected a duration of at least 1ms, such as 60s",
            ),
        ];

        assert_eq!(DiurnalLoad::new(100.0, 100.0).validate(), Ok(()));
        for (change, message) in cases {
            let mut load = DiurnalLoad::new(100.0, 400.0);
            change(&mut load);
            assert_eq!(load.validate(), Err(message.to_string()));
        }
    }

    #[test]
    fn generate_rejects_bad_arguments() {
        let load = DiurnalLoad::new(100.0, 400.0);
        let mut rng = RngStreams::new(1).stream("test");

        assert_eq!(
            load.generate(SimDuration::ZERO, 0, SimDuration::ZERO, &mut rng),
            Err("the duration to generate is 0s; expected at least one step".to_string())
        );
        assert_eq!(
            load.generate(SimDuration::from_days(1), 7, SimDuration::ZERO, &mut rng),
            Err("start weekday 7 is out of range; expected 0 (Monday) to 6 (Sunday)".to_string())
        );
        let invalid = DiurnalLoad::new(100.0, 50.0);
        assert!(
            invalid
                .generate(SimDuration::from_days(1), 0, SimDuration::ZERO, &mut rng)
                .is_err()
        );
    }

    /// A scalar of a test document; serde has no ready-made value type for mixed maps.
    #[derive(Clone, Copy)]
    enum Scalar {
        Number(f64),
        Text(&'static str),
    }

    impl<'de> de::Deserializer<'de> for Scalar {
        type Error = ValueError;

        fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
            match self {
                Scalar::Number(n) => visitor.visit_f64(n),
                Scalar::Text(s) => visitor.visit_str(s),
            }
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map struct enum identifier ignored_any
        }
    }

    impl IntoDeserializer<'_, ValueError> for Scalar {
        type Deserializer = Scalar;

        fn into_deserializer(self) -> Scalar {
            self
        }
    }

    fn from_map(entries: &[(&'static str, Scalar)]) -> Result<DiurnalLoad, ValueError> {
        DiurnalLoad::deserialize(MapDeserializer::new(entries.iter().copied()))
    }

    #[test]
    fn deserialize_camel_case_with_defaults() {
        let load = from_map(&[
            ("base", Scalar::Number(400.0)),
            ("peak", Scalar::Number(1600.0)),
        ])
        .unwrap();
        assert_eq!(load, DiurnalLoad::new(400.0, 1600.0));

        let load = from_map(&[
            ("base", Scalar::Number(400.0)),
            ("peak", Scalar::Number(1600.0)),
            ("peakHour", Scalar::Number(13.5)),
            ("troughHour", Scalar::Number(4.0)),
            ("weekendFactor", Scalar::Number(0.7)),
            ("noise", Scalar::Number(0.05)),
            ("step", Scalar::Text("5m")),
        ])
        .unwrap();
        assert_eq!(load.peak_hour, 13.5);
        assert_eq!(load.trough_hour, 4.0);
        assert_eq!(load.weekend_factor, 0.7);
        assert_eq!(load.noise, 0.05);
        assert_eq!(load.step, SimDuration::from_mins(5));
    }

    #[test]
    fn deserialize_rejects_unknown_fields_and_bad_steps() {
        let unknown = from_map(&[
            ("base", Scalar::Number(1.0)),
            ("peak", Scalar::Number(2.0)),
            ("peak_hour", Scalar::Number(3.0)),
        ])
        .unwrap_err();
        assert!(
            unknown.to_string().contains("unknown field `peak_hour`"),
            "{unknown}"
        );

        let fraction = from_map(&[
            ("base", Scalar::Number(1.0)),
            ("peak", Scalar::Number(2.0)),
            ("step", Scalar::Text("1.5m")),
        ])
        .unwrap_err();
        assert!(
            fraction.to_string().contains("fractions are not supported"),
            "{fraction}"
        );

        let bare_number = from_map(&[
            ("base", Scalar::Number(1.0)),
            ("peak", Scalar::Number(2.0)),
            ("step", Scalar::Number(60.0)),
        ])
        .unwrap_err();
        assert!(
            bare_number
                .to_string()
                .contains("a duration string such as 60s or 5m"),
            "{bare_number}"
        );
    }
}
