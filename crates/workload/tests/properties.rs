//! Invariants of traces and the HPA model over generated inputs.

use autoscale_sim_engine::{SimDuration, SimTime};
use autoscale_sim_workload::{Hpa, HpaSpec, Trace, TraceEnd};
use proptest::prelude::*;

fn trace_strategy() -> impl Strategy<Value = Trace> {
    (1u64..=3_600_000, prop::collection::vec(0.0..1e6f64, 1..50))
        .prop_map(|(step, values)| Trace::new(SimDuration(step), values).unwrap())
}

/// Generates one sync: the time since the previous sync in ms, the load, and an optional replica
/// count that replaces the applied one, as when a user edits the Deployment.
fn sync_strategy() -> impl Strategy<Value = (u64, f64, Option<u32>)> {
    let load = prop_oneof![
        8 => 0.0..1e5f64,
        1 => Just(0.0),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => -1e3..0.0f64,
    ];
    (0u64..120_000, load, prop::option::weighted(0.1, 0u32..2000))
}

proptest! {
    #[test]
    fn loop_trace_always_has_value(trace in trace_strategy(), t in any::<u64>()) {
        let trace = trace.with_end(TraceEnd::Loop);

        let value = trace.value_at(SimTime(t));

        prop_assert!(value.is_some());
        let index = (t / trace.step().as_millis()) % trace.values().len() as u64;
        prop_assert_eq!(value, Some(trace.values()[index as usize]));
    }

    #[test]
    fn hold_trace_keeps_last_value(trace in trace_strategy(), past_end in any::<u64>()) {
        let trace = trace.with_end(TraceEnd::Hold);
        let end = trace.duration().as_millis();
        let t = end.saturating_add(past_end % (u64::MAX - end).max(1));

        prop_assert_eq!(trace.value_at(SimTime(t)), trace.values().last().copied());
    }

    #[test]
    fn error_trace_has_no_value_past_end(trace in trace_strategy(), past_end in any::<u64>()) {
        let trace = trace.with_end(TraceEnd::Error);
        let end = trace.duration().as_millis();
        let t = end.saturating_add(past_end % (u64::MAX - end).max(1));

        prop_assert_eq!(trace.value_at(SimTime(t)), None);
        prop_assert!(trace.value_at(SimTime(end - 1)).is_some());
    }

    #[test]
    fn resampled_trace_keeps_mean_load(trace in trace_strategy(), divisor in 1u64..10) {
        // A step that divides the duration keeps the total load, so the mean is unchanged.
        let duration = trace.duration().as_millis();
        prop_assume!(duration % divisor == 0);

        let resampled = trace.resampled(SimDuration(duration / divisor)).unwrap();

        let tolerance = 1e-9 * trace.max_value().max(1.0);
        prop_assert!((resampled.mean() - trace.mean()).abs() <= tolerance);
    }

    #[test]
    fn hpa_stays_within_bounds(
        min in 0u32..20,
        extra in 0u32..200,
        target in 1.0..1000.0f64,
        initial in 0u32..500,
        syncs in prop::collection::vec(sync_strategy(), 1..200),
    ) {
        let max = (min + extra).max(1);
        let mut hpa = Hpa::new(HpaSpec::new(target, min, max)).unwrap();
        let mut replicas = initial;
        let mut now = SimTime::ZERO;

        for (gap, load, replaced) in syncs {
            now += SimDuration(gap);
            let current = replaced.unwrap_or(replicas);

            replicas = hpa.recommend(now, current, load);

            prop_assert!(
                (min..=max).contains(&replicas),
                "{} outside [{}, {}] from current {} and load {}",
                replicas, min, max, current, load
            );
        }
    }
}
