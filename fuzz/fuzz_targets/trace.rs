//! Fuzzes the load-trace CSV loader: any UTF-8 text gives a trace or a `TraceError`, and a trace
//! it returns keeps the invariants that `Trace` documents.

#![no_main]

use std::path::Path;

use autoscale_sim::engine::SimTime;
use autoscale_sim::workload::{Trace, TraceEnd};
use libfuzzer_sys::fuzz_target;

/// Value scales tried on every input: none, the identity, a small factor, and one large enough
/// to overflow an f64 with ordinary values.
const SCALES: [f64; 4] = [0.0, 1.0, 0.05, 1e300];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("fuzz.csv");

    for scale in SCALES {
        let Ok(trace) = Trace::from_csv_str(text, path, scale) else {
            continue;
        };

        assert!(!trace.values().is_empty(), "a loaded trace has values");
        assert!(trace.step().as_millis() > 0, "a loaded trace has a step");
        assert!(
            trace.values().iter().all(|v| v.is_finite() && *v >= 0.0),
            "a loaded trace has finite values zero or more"
        );
        let end = SimTime(trace.duration().as_millis());
        assert_eq!(trace.value_at(end), Some(trace.values()[0]));
        assert_eq!(trace.with_end(TraceEnd::Error).value_at(end), None);
    }
});
