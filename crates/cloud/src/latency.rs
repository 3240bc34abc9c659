//! Latency distributions: launch phases, pod startup and Job run times.

use autoscale_sim_engine::{SimDuration, SimRng};
use rand::RngExt;
use rand_distr::{Distribution, LogNormal, Normal};
use serde::{Deserialize, Serialize};

/// Distribution of a latency, in milliseconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum LatencyModel {
    /// Always the same latency.
    Fixed(SimDuration),
    /// Normal with the given mean and standard deviation, truncated at `min`.
    Normal {
        /// Mean.
        mean: SimDuration,
        /// Standard deviation.
        stddev: SimDuration,
        /// Lowest value returned.
        min: SimDuration,
    },
    /// Log-normal with the given mean and standard deviation of the latency itself (not of its
    /// logarithm), truncated at `min`.
    LogNormal {
        /// Mean.
        mean: SimDuration,
        /// Standard deviation.
        stddev: SimDuration,
        /// Lowest value returned.
        min: SimDuration,
    },
    /// One of the recorded values, each with the same probability (the empirical
    /// distribution of a sample). Never empty; [`LatencyModel::empirical`] checks that.
    Empirical(Vec<SimDuration>),
}

impl Default for LatencyModel {
    /// Request to Ready: log-normal with mean 45 s and standard deviation 10 s, at least 20 s.
    /// The mean is the EKS node startup time reported on the KubeFM episode "Faster EKS Node and
    /// Pod Startup" (2026); the spread is an assumption of this model, not a measured figure.
    fn default() -> Self {
        LatencyModel::LogNormal {
            mean: SimDuration::from_secs(45),
            stddev: SimDuration::from_secs(10),
            min: SimDuration::from_secs(20),
        }
    }
}

impl LatencyModel {
    /// Returns the empirical distribution of `values`, or `None` when there are none.
    pub fn empirical(values: Vec<SimDuration>) -> Option<Self> {
        (!values.is_empty()).then_some(LatencyModel::Empirical(values))
    }

    /// Draws one latency.
    pub fn sample(&self, rng: &mut SimRng) -> SimDuration {
        match self {
            LatencyModel::Fixed(d) => *d,
            LatencyModel::Normal { mean, stddev, min } => {
                let normal = Normal::new(mean.as_millis() as f64, stddev.as_millis() as f64)
                    .expect("standard deviation is finite");
                SimDuration(normal.sample(rng).round().max(min.as_millis() as f64) as u64)
            }
            LatencyModel::LogNormal { mean, stddev, min } => {
                let m = mean.as_millis() as f64;
                let s = stddev.as_millis() as f64;
                if s == 0.0 {
                    return SimDuration(mean.as_millis().max(min.as_millis()));
                }
                // Parameters of the underlying normal from the mean and deviation of the latency.
                let sigma2 = (1.0 + (s * s) / (m * m)).ln();
                let mu = m.ln() - sigma2 / 2.0;
                let log_normal = LogNormal::new(mu, sigma2.sqrt()).expect("parameters are finite");
                SimDuration(log_normal.sample(rng).round().max(min.as_millis() as f64) as u64)
            }
            LatencyModel::Empirical(values) => values[rng.random_range(0..values.len())],
        }
    }

    /// Returns the shortest latency [`LatencyModel::sample`] can draw.
    pub fn minimum(&self) -> SimDuration {
        match self {
            LatencyModel::Fixed(d) => *d,
            LatencyModel::Normal { min, .. } => *min,
            // With no spread, every draw is the mean, raised to the minimum.
            LatencyModel::LogNormal { mean, stddev, min } if stddev.as_millis() == 0 => {
                (*mean).max(*min)
            }
            LatencyModel::LogNormal { min, .. } => *min,
            LatencyModel::Empirical(values) => {
                values.iter().copied().min().unwrap_or(SimDuration::ZERO)
            }
        }
    }

    /// The distribution's mean, before truncation; for an empirical one, the mean of its values
    /// rounded down to the millisecond.
    pub fn mean(&self) -> SimDuration {
        match self {
            LatencyModel::Fixed(d) => *d,
            LatencyModel::Normal { mean, .. } | LatencyModel::LogNormal { mean, .. } => *mean,
            LatencyModel::Empirical(values) => {
                let total: u128 = values.iter().map(|v| u128::from(v.as_millis())).sum();
                SimDuration((total / values.len() as u128) as u64)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use autoscale_sim_engine::RngStreams;

    #[test]
    fn default_latency_averages_45_seconds() {
        let model = LatencyModel::default();
        let mut rng = RngStreams::new(7).stream("launch");
        let n = 20_000u64;
        let total: u64 = (0..n).map(|_| model.sample(&mut rng).as_millis()).sum();
        let mean_secs = total as f64 / n as f64 / 1000.0;
        assert!((mean_secs - 45.0).abs() < 0.5, "mean {mean_secs}");
    }

    #[test]
    fn empirical_latency_draws_recorded_values() {
        let values: Vec<SimDuration> = [30, 40, 90].map(SimDuration::from_secs).to_vec();
        let model = LatencyModel::empirical(values.clone()).unwrap();
        let mut rng = RngStreams::new(3).stream("x");

        let draws: Vec<SimDuration> = (0..3_000).map(|_| model.sample(&mut rng)).collect();

        for value in &values {
            let count = draws.iter().filter(|d| *d == value).count();
            assert!((900..=1_100).contains(&count), "{value}: {count} of 3000");
        }
        // (30 + 40 + 90) s / 3 = 53.333 s, rounded down to the millisecond.
        assert_eq!(model.mean(), SimDuration(53_333));
        assert_eq!(LatencyModel::empirical(Vec::new()), None);
    }

    #[test]
    fn fixed_latency_is_fixed() {
        let mut rng = RngStreams::new(1).stream("x");
        assert_eq!(
            LatencyModel::Fixed(SimDuration::from_secs(3)).sample(&mut rng),
            SimDuration::from_secs(3)
        );
    }
}
