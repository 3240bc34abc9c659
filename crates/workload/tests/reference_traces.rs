//! Loads the real diurnal traces from the reference data folder beside the repository, when it is
//! present, and checks their length, step and daily cycle.

use std::path::PathBuf;

use autoscale_sim_engine::SimDuration;
use autoscale_sim_workload::Trace;

fn reference_trace(file: &str) -> Option<Trace> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/traces")
        .join(file);
    if !path.exists() {
        eprintln!(
            "skipped: reference trace {} is absent (it lives outside the repository)",
            path.display()
        );
        return None;
    }
    Some(Trace::from_csv_path(&path, 1.0).unwrap())
}

/// Mean value per hour of day, assuming the trace starts at midnight.
fn hourly_means(trace: &Trace) -> Vec<f64> {
    let per_hour = (3_600_000 / trace.step().as_millis()) as usize;
    let mut sums = [0.0; 24];
    let mut counts = [0usize; 24];
    for (index, value) in trace.values().iter().enumerate() {
        let hour = (index / per_hour) % 24;
        sums[hour] += value;
        counts[hour] += 1;
    }
    sums.iter()
        .zip(&counts)
        .map(|(sum, count)| sum / *count as f64)
        .collect()
}

#[test]
fn nasa_trace_has_daily_cycle() {
    let Some(trace) = reference_trace("nasa_http_jul1995_per_minute.csv") else {
        return;
    };

    assert_eq!(trace.values().len(), 39_692);
    assert_eq!(trace.step(), SimDuration::from_secs(60));
    let means = hourly_means(&trace);
    let (peak_hour, peak) = means
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .unwrap();
    let (trough_hour, trough) = means
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(b.1))
        .unwrap();
    assert_eq!(peak_hour, 14);
    assert_eq!(trough_hour, 5);
    assert!(
        (peak / trough - 3.98).abs() < 0.01,
        "peak/trough {}",
        peak / trough
    );
}

#[test]
fn five_minute_traces_load() {
    let Some(azure) = reference_trace("azure_vm_2019_cpu_5min.csv") else {
        return;
    };
    let Some(google) = reference_trace("google_2019_cpu_5min.csv") else {
        return;
    };

    assert_eq!(azure.values().len(), 8_640);
    assert_eq!(azure.step(), SimDuration::from_secs(300));
    assert_eq!(google.values().len(), 8_064);
    assert_eq!(google.step(), SimDuration::from_secs(300));
    assert!(google.max_value() <= 1.0);
}
