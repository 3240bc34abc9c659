//! Arrivals of batch Jobs: a non-homogeneous Poisson process whose rate follows a load.

use autoscale_sim_engine::{RngStreams, SimDuration, SimTime};
use rand::RngExt;

use crate::config::{JobStream, SimConfig};

/// Arrival times and run times of `job` over the run, by thinning: candidate arrivals come at
/// the highest rate of the load, and each is kept with probability rate(t) / highest rate.
/// Both draws use streams named after the Job, so every policy sees the same arrivals.
pub(crate) fn arrivals(
    job: &JobStream,
    config: &SimConfig,
    streams: &RngStreams,
) -> Vec<(SimTime, SimDuration)> {
    let trace = &config.loads[job.load].trace;
    let per_second = |value: f64| value.max(0.0) * job.arrivals_per_hour_per_unit / 3600.0;
    let highest = per_second(trace.max_value());
    if highest <= 0.0 || !highest.is_finite() {
        return Vec::new();
    }
    let mut arrival_rng = streams.stream(&format!("jobs/{}/arrivals", job.name));
    let mut duration_rng = streams.stream(&format!("jobs/{}/durations", job.name));

    let end = config.duration.as_millis() as f64 / 1000.0;
    let mut t = 0.0f64;
    let mut arrivals = Vec::new();
    loop {
        // Exponential gap at the highest rate, by inversion.
        let uniform: f64 = arrival_rng.random::<f64>();
        t += -(1.0 - uniform).ln() / highest;
        if t >= end {
            break;
        }
        let at = SimTime((t * 1000.0) as u64);
        let rate = per_second(trace.value_at(at).unwrap_or(0.0));
        if arrival_rng.random::<f64>() * highest < rate {
            arrivals.push((at, job.duration.sample(&mut duration_rng)));
        }
    }
    arrivals
}
