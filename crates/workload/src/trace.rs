//! Load traces: piecewise-constant time series of load, and their transformations.

use autoscale_sim_engine::{SimDuration, SimTime};
use serde::{Deserialize, Serialize};

mod load;

pub use load::TraceError;

/// Behavior of [`Trace::value_at`] at and after the end of a trace.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TraceEnd {
    /// Starts again from the first value, so the trace repeats forever.
    #[default]
    Loop,
    /// Keeps the last value forever.
    Hold,
    /// Returns no value, for runs that must not outlast their trace.
    Error,
}

/// A load time series in which `values[i]` is the load during `[i * step, (i + 1) * step)`.
///
/// Every value is finite and zero or more, the step is at least 1 ms, and there is at least
/// one value. The load unit is whatever the source measured, such as requests per minute.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    step: SimDuration,
    values: Vec<f64>,
    end: TraceEnd,
    first_timestamp_secs: u64,
}

/// An invalid trace built in memory, or an invalid argument to one of its transformations.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TraceDataError {
    /// The step is zero.
    #[error("invalid trace step 0s: expected a step of at least 1ms")]
    ZeroStep,
    /// The trace has no values.
    #[error("invalid trace: it has no values; expected at least one")]
    NoValues,
    /// A value is negative, NaN or infinite.
    #[error("invalid trace value {value} at index {index}: expected a finite number zero or more")]
    InvalidValue {
        /// Position of the value in the series.
        index: usize,
        /// The rejected value.
        value: f64,
    },
    /// The trace lasts longer than `SimTime` can count, or is too long to allocate.
    #[error(
        "invalid trace: {len} values of {step} each are too many to store or to count in milliseconds"
    )]
    TooLong {
        /// Number of values.
        len: u64,
        /// Length of each value's interval.
        step: SimDuration,
    },
    /// A scale factor is negative, NaN or infinite.
    #[error("invalid scale factor {0}: expected a finite number zero or more")]
    InvalidFactor(f64),
    /// A shift is not a whole number of steps.
    #[error(
        "invalid shift {offset}: expected a whole number of trace steps of {step}; resample the trace first"
    )]
    ShiftNotMultipleOfStep {
        /// The requested shift.
        offset: SimDuration,
        /// The trace's step.
        step: SimDuration,
    },
}

impl Trace {
    /// Builds a trace with `step` between values and [`TraceEnd::Loop`] past its end.
    pub fn new(step: SimDuration, values: Vec<f64>) -> Result<Trace, TraceDataError> {
        if step == SimDuration::ZERO {
            return Err(TraceDataError::ZeroStep);
        }
        if values.is_empty() {
            return Err(TraceDataError::NoValues);
        }
        if let Some((index, &value)) = values
            .iter()
            .enumerate()
            .find(|(_, v)| !v.is_finite() || **v < 0.0)
        {
            return Err(TraceDataError::InvalidValue { index, value });
        }
        let len = values.len() as u64;
        if step.as_millis().checked_mul(len).is_none() {
            return Err(TraceDataError::TooLong { len, step });
        }

        Ok(Trace {
            step,
            values,
            end: TraceEnd::default(),
            first_timestamp_secs: 0,
        })
    }

    /// Sets what [`Trace::value_at`] returns at and after the end.
    pub fn with_end(mut self, end: TraceEnd) -> Trace {
        self.end = end;
        self
    }

    /// Interval covered by each value.
    pub fn step(&self) -> SimDuration {
        self.step
    }

    /// The values, one per step, in time order.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Behavior at and after the end.
    pub fn end(&self) -> TraceEnd {
        self.end
    }

    /// Timestamp in seconds of the first row of the CSV file that t = 0 corresponds to.
    ///
    /// Loading subtracts it from every timestamp. It is 0 for traces built in memory, and
    /// the transformations keep it unchanged, including [`Trace::shifted`].
    pub fn first_timestamp_secs(&self) -> u64 {
        self.first_timestamp_secs
    }

    /// Length of the trace: step times the number of values.
    pub fn duration(&self) -> SimDuration {
        // `new` checked that this product fits in a u64.
        SimDuration(self.step.as_millis() * self.values.len() as u64)
    }

    /// Load at `t`, following [`Trace::end`] at and after the end of the trace.
    ///
    /// Returns `None` only past the end with [`TraceEnd::Error`].
    pub fn value_at(&self, t: SimTime) -> Option<f64> {
        let len = self.values.len() as u64;
        let mut index = t.as_millis() / self.step.as_millis();
        if index >= len {
            index = match self.end {
                TraceEnd::Loop => index % len,
                TraceEnd::Hold => len - 1,
                TraceEnd::Error => return None,
            };
        }
        Some(self.values[index as usize])
    }

    /// Largest value.
    pub fn max_value(&self) -> f64 {
        self.values.iter().copied().fold(0.0, f64::max)
    }

    /// Mean of the values, which is the time-weighted mean load because every step is equal.
    pub fn mean(&self) -> f64 {
        self.values.iter().sum::<f64>() / self.values.len() as f64
    }

    /// Returns a copy with every value multiplied by `factor`.
    ///
    /// Fails when `factor` is negative or not finite, or when a product overflows to infinity.
    pub fn scaled(&self, factor: f64) -> Result<Trace, TraceDataError> {
        if !factor.is_finite() || factor < 0.0 {
            return Err(TraceDataError::InvalidFactor(factor));
        }
        let values = self.values.iter().map(|v| v * factor).collect();
        self.with_values(self.step, values)
    }

    /// Returns a copy rotated so that its value at `t` is this trace's value at `t + offset`.
    ///
    /// Values shifted out of the start wrap around to the end, so the copy has the same length.
    /// Use it to align a trace's hour of day with the scenario's start. `offset` must be a whole
    /// number of steps, and may exceed the trace's length.
    pub fn shifted(&self, offset: SimDuration) -> Result<Trace, TraceDataError> {
        let step = self.step.as_millis();
        if offset.as_millis() % step != 0 {
            return Err(TraceDataError::ShiftNotMultipleOfStep {
                offset,
                step: self.step,
            });
        }

        let steps = (offset.as_millis() / step) % self.values.len() as u64;
        let mut values = self.values.clone();
        values.rotate_left(steps as usize);
        self.with_values(self.step, values)
    }

    /// Returns a copy with one value per `step`, each the time-weighted mean of this trace over
    /// that interval.
    ///
    /// A finer step repeats each value, and a coarser one averages them. When `step` does not
    /// divide the duration, the last value averages only the part that this trace covers, so the
    /// copy may be up to one step longer.
    pub fn resampled(&self, step: SimDuration) -> Result<Trace, TraceDataError> {
        if step == SimDuration::ZERO {
            return Err(TraceDataError::ZeroStep);
        }
        let duration = self.duration().as_millis();
        let new_step = step.as_millis();
        let count = duration.div_ceil(new_step);
        let mut values = Vec::new();
        if values.try_reserve_exact(count as usize).is_err() {
            return Err(TraceDataError::TooLong { len: count, step });
        }

        for i in 0..count {
            let start = i * new_step;
            let end = start.saturating_add(new_step).min(duration);
            values.push(self.mean_between(start, end));
        }
        self.with_values(step, values)
    }

    /// Time-weighted mean over `[start, end)` in milliseconds, with `start < end <= duration`.
    fn mean_between(&self, start: u64, end: u64) -> f64 {
        let step = self.step.as_millis();
        let mut weighted_sum = 0.0;
        for index in start / step..end.div_ceil(step) {
            let overlap_start = start.max(index * step);
            let overlap_end = end.min((index + 1) * step);
            weighted_sum += self.values[index as usize] * (overlap_end - overlap_start) as f64;
        }
        weighted_sum / (end - start) as f64
    }

    /// Builds a trace with new data and this trace's end behavior and source timestamp.
    fn with_values(&self, step: SimDuration, values: Vec<f64>) -> Result<Trace, TraceDataError> {
        let mut trace = Trace::new(step, values)?;
        trace.end = self.end;
        trace.first_timestamp_secs = self.first_timestamp_secs;
        Ok(trace)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minutes(values: &[f64]) -> Trace {
        Trace::new(SimDuration::from_mins(1), values.to_vec()).unwrap()
    }

    fn at_secs(secs: u64) -> SimTime {
        SimTime(secs * 1000)
    }

    #[test]
    fn new_rejects_invalid_data() {
        let step = SimDuration::from_secs(60);
        assert_eq!(
            Trace::new(SimDuration::ZERO, vec![1.0]),
            Err(TraceDataError::ZeroStep)
        );
        assert_eq!(Trace::new(step, vec![]), Err(TraceDataError::NoValues));
        assert_eq!(
            Trace::new(step, vec![1.0, -2.0]),
            Err(TraceDataError::InvalidValue {
                index: 1,
                value: -2.0
            })
        );
        assert!(matches!(
            Trace::new(step, vec![f64::NAN]),
            Err(TraceDataError::InvalidValue { index: 0, .. })
        ));
        assert!(matches!(
            Trace::new(step, vec![f64::INFINITY]),
            Err(TraceDataError::InvalidValue { index: 0, .. })
        ));
        assert!(matches!(
            Trace::new(SimDuration(u64::MAX), vec![1.0, 2.0]),
            Err(TraceDataError::TooLong { len: 2, .. })
        ));
    }

    #[test]
    fn value_at_covers_each_step() {
        let trace = minutes(&[10.0, 20.0, 30.0]);

        assert_eq!(trace.value_at(SimTime::ZERO), Some(10.0));
        assert_eq!(trace.value_at(SimTime(59_999)), Some(10.0));
        assert_eq!(trace.value_at(at_secs(60)), Some(20.0));
        assert_eq!(trace.value_at(at_secs(179)), Some(30.0));
    }

    #[test]
    fn value_at_past_end_follows_trace_end() {
        let trace = minutes(&[10.0, 20.0, 30.0]);
        let past_end = at_secs(180);
        let far_past_end = at_secs(60 * 301);

        assert_eq!(trace.end(), TraceEnd::Loop);
        assert_eq!(trace.value_at(past_end), Some(10.0));
        assert_eq!(trace.value_at(far_past_end), Some(20.0));

        let hold = trace.clone().with_end(TraceEnd::Hold);
        assert_eq!(hold.value_at(past_end), Some(30.0));
        assert_eq!(hold.value_at(SimTime::NEVER), Some(30.0));

        let error = trace.with_end(TraceEnd::Error);
        assert_eq!(error.value_at(SimTime(179_999)), Some(30.0));
        assert_eq!(error.value_at(past_end), None);
    }

    #[test]
    fn summary_statistics() {
        let trace = minutes(&[10.0, 40.0, 10.0, 20.0]);

        assert_eq!(trace.duration(), SimDuration::from_mins(4));
        assert_eq!(trace.max_value(), 40.0);
        assert_eq!(trace.mean(), 20.0);
    }

    #[test]
    fn scaled_multiplies_values() {
        let trace = minutes(&[10.0, 20.0]).with_end(TraceEnd::Hold);

        let scaled = trace.scaled(0.5).unwrap();

        assert_eq!(scaled.values(), &[5.0, 10.0]);
        assert_eq!(scaled.step(), trace.step());
        assert_eq!(scaled.end(), TraceEnd::Hold);
    }

    #[test]
    fn scaled_rejects_bad_factors() {
        let trace = minutes(&[10.0, f64::MAX]);

        assert_eq!(trace.scaled(-1.0), Err(TraceDataError::InvalidFactor(-1.0)));
        assert!(matches!(
            trace.scaled(f64::NAN),
            Err(TraceDataError::InvalidFactor(_))
        ));
        assert!(matches!(
            trace.scaled(2.0),
            Err(TraceDataError::InvalidValue { index: 1, .. })
        ));
    }

    #[test]
    fn shifted_rotates_values() {
        let trace = minutes(&[0.0, 1.0, 2.0, 3.0]);

        let shifted = trace.shifted(SimDuration::from_mins(1)).unwrap();
        assert_eq!(shifted.values(), &[1.0, 2.0, 3.0, 0.0]);
        for secs in [0, 30, 60, 150, 179] {
            let t = at_secs(secs);
            assert_eq!(
                shifted.value_at(t),
                trace.value_at(t + SimDuration::from_mins(1)),
                "at {secs} s"
            );
        }

        let wrapped = trace.shifted(SimDuration::from_mins(6)).unwrap();
        assert_eq!(wrapped.values(), &[2.0, 3.0, 0.0, 1.0]);
        assert_eq!(trace.shifted(SimDuration::ZERO).unwrap(), trace);
    }

    #[test]
    fn shifted_rejects_partial_steps() {
        let trace = minutes(&[0.0, 1.0]);

        assert_eq!(
            trace.shifted(SimDuration::from_secs(90)),
            Err(TraceDataError::ShiftNotMultipleOfStep {
                offset: SimDuration::from_secs(90),
                step: SimDuration::from_mins(1),
            })
        );
    }

    #[test]
    fn resampled_coarser_averages() {
        let trace = minutes(&[10.0, 20.0, 30.0, 40.0]);

        let coarse = trace.resampled(SimDuration::from_mins(2)).unwrap();

        assert_eq!(coarse.step(), SimDuration::from_mins(2));
        assert_eq!(coarse.values(), &[15.0, 35.0]);
    }

    #[test]
    fn resampled_finer_repeats() {
        let trace = minutes(&[10.0, 20.0]);

        let fine = trace.resampled(SimDuration::from_secs(30)).unwrap();

        assert_eq!(fine.values(), &[10.0, 10.0, 20.0, 20.0]);
        assert_eq!(fine.duration(), trace.duration());
    }

    #[test]
    fn resampled_uneven_step_weights_overlap() {
        let trace = minutes(&[10.0, 20.0, 30.0]);

        let resampled = trace.resampled(SimDuration::from_secs(90)).unwrap();

        // [0, 90 s) is 60 s of 10 and 30 s of 20; [90 s, 180 s) is 30 s of 20 and 60 s of 30.
        assert_eq!(resampled.values(), &[40.0 / 3.0, 80.0 / 3.0]);
    }

    #[test]
    fn resampled_partial_last_interval_averages_covered_part() {
        let trace = minutes(&[10.0, 20.0, 30.0]);

        let resampled = trace.resampled(SimDuration::from_mins(2)).unwrap();

        assert_eq!(resampled.values(), &[15.0, 30.0]);
        assert_eq!(resampled.duration(), SimDuration::from_mins(4));
    }

    #[test]
    fn resampled_rejects_zero_step() {
        assert_eq!(
            minutes(&[1.0]).resampled(SimDuration::ZERO),
            Err(TraceDataError::ZeroStep)
        );
    }

    #[test]
    fn data_error_messages_name_value() {
        let error = TraceDataError::InvalidValue {
            index: 3,
            value: -1.5,
        };
        assert_eq!(
            error.to_string(),
            "invalid trace value -1.5 at index 3: expected a finite number zero or more"
        );
        let error = TraceDataError::ShiftNotMultipleOfStep {
            offset: SimDuration::from_secs(90),
            step: SimDuration::from_mins(1),
        };
        assert_eq!(
            error.to_string(),
            "invalid shift 1m30s: expected a whole number of trace steps of 1m; resample the trace first"
        );
    }
}
