//! EC2 cost worked out by hand: one static m5.large node at 0.096 $/h, billed per second from
//! the moment its instance is running to the end of the run, with a 60 s minimum. The scenario's
//! 10 s `launchLatency` puts `running` at a fifth of it, 2 s after the request at t = 0.

use std::ffi::OsString;

use super::support::{TempDir, parse_json, result_of, run_ok, static_m5_large_yaml};

/// Runs `compare --format json` on the one-node scenario of `duration` and returns its result.
fn one_node_result(duration: &str) -> serde_json::Value {
    let temp = TempDir::new("cost");
    let scenario = temp.write("one-node.yaml", static_m5_large_yaml(duration));

    let stdout = run_ok(
        temp.path(),
        [
            OsString::from("compare"),
            scenario.into(),
            "--format".into(),
            "json".into(),
        ],
    );

    let summary = parse_json(&stdout, "compare --format json output");
    result_of(&summary, "fixed").clone()
}

#[test]
fn ninety_seconds_billed_exactly() {
    // Running from 2 s to 90 s: 0.096 $/h × 88 s / 3600 s = 0.0023467 $, 2347 micro-dollars.
    let result = one_node_result("90s");

    assert_eq!(result["total_cost_micro_usd"], 2347);
    assert_eq!(result["total_cost_usd"], 0.002347);
    assert_eq!(result["cost_by_instance_type"]["m5.large"], 0.002347);
    assert_eq!(result["cost_by_capacity_type"]["on-demand"], 0.002347);
    // Node hours count from the launch request: 90 s / 3600 s.
    assert_eq!(result["node_hours"], 0.025);
    assert_eq!(result["nodes_launched"], 1);
    assert_eq!(result["nodes_terminated"], 0);
}

#[test]
fn thirty_seconds_billed_minimum() {
    // The 28 s from running at 2 s are billed as the 60 s minimum: 0.096 $/h × 60 s / 3600 s =
    // 0.0016 $.
    let result = one_node_result("30s");

    assert_eq!(result["total_cost_micro_usd"], 1600);
    assert_eq!(result["total_cost_usd"], 0.0016);
    // Node hours are counted before the minimum: 30 s / 3600 s, rounded to six decimals.
    assert_eq!(result["node_hours"], 0.008333);
}

#[test]
fn fixed_latency_pending_time() {
    // The only pod waits for the node, which becomes Ready after the fixed 10 s latency.
    let result = one_node_result("90s");

    assert_eq!(result["pod_pending_max_seconds"], 10.0);
    assert_eq!(result["pending_pod_seconds"], 10.0);
}
