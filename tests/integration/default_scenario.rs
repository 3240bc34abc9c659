//! The built-in diurnal-web scenario (seven simulated days): `compare` with no scenario argument.
//! This is the only seven-day run of the suite.

use std::ffi::OsString;
use std::fs;

use super::support::{TWO_POLICIES, TempDir, parse_json, policy_names, result_of, run_ok};

#[test]
fn built_in_compare() {
    let temp = TempDir::new("built-in");
    let out = temp.join("out");

    let stdout = run_ok(
        temp.path(),
        [
            OsString::from("compare"),
            "--format".into(),
            "json".into(),
            "--out".into(),
            out.clone().into(),
        ],
    );

    // Standard output: both policies, and Karpenter cheaper than Cluster Autoscaler.
    let summary = parse_json(&stdout, "compare --format json output");
    assert_eq!(summary["scenario"], "diurnal-web");
    assert_eq!(summary["seed"], 42);
    assert_eq!(summary["duration_seconds"], 7 * 86_400);
    assert_eq!(policy_names(&summary), TWO_POLICIES);
    let karpenter_cost = result_of(&summary, "karpenter")["total_cost_usd"]
        .as_f64()
        .expect("karpenter has a total cost");
    let cluster_autoscaler_cost = result_of(&summary, "cluster-autoscaler")["total_cost_usd"]
        .as_f64()
        .expect("cluster-autoscaler has a total cost");
    assert!(
        karpenter_cost < cluster_autoscaler_cost,
        "karpenter costs {karpenter_cost} $, cluster-autoscaler {cluster_autoscaler_cost} $"
    );

    // summary.json: Cluster Autoscaler keeps its c5d.4xlarge group at one node or more at the
    // trough of day 7.
    let summary_file = fs::read_to_string(out.join("summary.json")).expect("summary.json exists");
    let summary_file = parse_json(&summary_file, "summary.json");
    let snapshots = result_of(&summary_file, "cluster-autoscaler")["snapshots"]
        .as_array()
        .expect("cluster-autoscaler has snapshots");
    let trough = snapshots
        .iter()
        .find(|s| s["label"] == "trough day 7 05:00")
        .expect("a snapshot is labelled \"trough day 7 05:00\"");
    assert_eq!(trough["time_seconds"], 6 * 86_400 + 5 * 3600);
    let c5d_nodes = trough["nodes"]["c5d.4xlarge"].as_u64().unwrap_or(0);
    assert!(
        c5d_nodes >= 1,
        "no c5d.4xlarge at the day-7 trough: {}",
        trough["nodes"]
    );
}
