//! Output formats: the JSON summary and its fields, summary.json and timing.json, the time
//! series CSV, the decision log, the table, and the catalog listing.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fs;

use serde_json::Value;

use super::support::{
    SMALL_WEB_YAML, TWO_POLICIES, TempDir, parse_json, policy_names, replace_once, result_of,
    run_in, run_ok,
};

/// The per-policy fields that the design promises in every `results` entry.
const REPORT_FIELDS: [&str; 20] = [
    "policy",
    "total_cost_usd",
    "cost_by_instance_type",
    "cost_by_capacity_type",
    "node_hours",
    "peak_nodes",
    "min_nodes",
    "nodes_launched",
    "nodes_terminated",
    "mean_cpu_allocation",
    "mean_memory_allocation",
    "pending_pod_seconds",
    "pod_pending_p50_seconds",
    "pod_pending_p95_seconds",
    "pod_pending_p99_seconds",
    "pod_pending_max_seconds",
    "pods_evicted",
    "disruptions_by_reason",
    "spot_interruptions",
    "events_processed",
];

/// The actions a decision log line may carry: node actions, then notes, which record a
/// decision without acting on a node.
const DECISION_ACTIONS: [&str; 12] = [
    "launch",
    "ready",
    "cordon",
    "uncordon",
    "delete",
    "evict",
    "terminate",
    "unremovable",
    "unneeded",
    "backoff",
    "unconsolidatable",
    "disruption-blocked",
];

/// Notes that may name no node (a node group's backoff, a NodePool's blocking budget).
const NODELESS_NOTES: [&str; 2] = ["backoff", "disruption-blocked"];

/// Output of `compare SMALL_WEB --format json --out DIR`: standard output and the folder.
struct SmallWebRun {
    temp: TempDir,
    stdout: String,
}

impl SmallWebRun {
    fn new(label: &str) -> SmallWebRun {
        let temp = TempDir::new(label);
        let scenario = temp.write("small-web.yaml", SMALL_WEB_YAML);
        let stdout = run_ok(
            temp.path(),
            [
                OsString::from("compare"),
                scenario.into(),
                "--format".into(),
                "json".into(),
                "--out".into(),
                temp.join("out").into(),
            ],
        );
        SmallWebRun { temp, stdout }
    }

    fn read(&self, name: &str) -> String {
        let path = self.temp.join("out").join(name);
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
    }
}

/// Appends every object key anywhere in `value` to `keys`, as a path such as `.results[0].policy`.
fn all_keys(value: &Value, path: &str, keys: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let child_path = format!("{path}.{key}");
                keys.push(child_path.clone());
                all_keys(child, &child_path, keys);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                all_keys(child, &format!("{path}[{index}]"), keys);
            }
        }
        _ => {}
    }
}

#[test]
fn json_results_have_design_fields() {
    let run = SmallWebRun::new("json-fields");

    let summary = parse_json(&run.stdout, "compare --format json output");

    assert_eq!(policy_names(&summary), TWO_POLICIES);
    for policy in TWO_POLICIES {
        let result = result_of(&summary, policy);
        for field in REPORT_FIELDS {
            assert!(
                result.get(field).is_some(),
                "the {policy} result lacks {field}"
            );
        }
    }
}

#[test]
fn summary_header_values() {
    let run = SmallWebRun::new("summary-header");

    let summary = parse_json(&run.stdout, "compare --format json output");

    assert_eq!(summary["scenario"], "small-web");
    assert_eq!(summary["seed"], 7);
    assert_eq!(summary["duration_seconds"], 6 * 3600);
}

#[test]
fn summary_file_matches_stdout() {
    let run = SmallWebRun::new("summary-file");

    let summary_file = run.read("summary.json");

    assert_eq!(summary_file, run.stdout);
}

#[test]
fn summary_has_no_wall_time() {
    let run = SmallWebRun::new("no-wall-time");

    let summary = parse_json(&run.read("summary.json"), "summary.json");
    let timing = parse_json(&run.read("timing.json"), "timing.json");

    let top_level: BTreeSet<&str> = summary
        .as_object()
        .expect("summary.json is an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        top_level,
        BTreeSet::from(["scenario", "seed", "duration_seconds", "results"])
    );
    let mut keys = Vec::new();
    all_keys(&summary, "", &mut keys);
    let timing_keys: Vec<&String> = keys
        .iter()
        .filter(|k| k.contains("wall") || k.contains("elapsed") || k.contains("timing"))
        .collect();
    assert!(
        timing_keys.is_empty(),
        "summary.json has wall-clock keys {timing_keys:?}"
    );
    let wall: BTreeSet<&str> = timing["wall_seconds"]
        .as_object()
        .expect("timing.json has a wall_seconds object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(wall, BTreeSet::from(TWO_POLICIES));
}

#[test]
fn timeseries_rows_per_policy() {
    let run = SmallWebRun::new("timeseries");

    let csv = run.read("timeseries.csv");

    let mut lines = csv.lines();
    let header: Vec<&str> = lines
        .next()
        .expect("the CSV has a header")
        .split(',')
        .collect();
    for column in [
        "policy",
        "time_seconds",
        "pods_pending",
        "nodes",
        "cpu_requested_millis",
        "cpu_allocatable_millis",
        "cost_rate_usd_per_hour",
        "fleet",
    ] {
        assert!(header.contains(&column), "the header lacks {column}");
    }
    let time_column = header.iter().position(|c| *c == "time_seconds").unwrap();
    let mut rows: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(
            cells.len(),
            header.len(),
            "row {line:?} has another column count"
        );
        let time: u64 = cells[time_column]
            .parse()
            .expect("time_seconds is a whole number");
        rows.entry(cells[0]).or_default().push(time);
    }
    // The default sample interval is one minute: samples at 0, 60, ..., 5 h 59 min.
    let expected_times: Vec<u64> = (0..360).map(|minute| minute * 60).collect();
    for policy in TWO_POLICIES {
        assert_eq!(
            rows.get(policy),
            Some(&expected_times),
            "sample times of {policy}"
        );
    }
}

#[test]
fn decisions_are_consistent() {
    let run = SmallWebRun::new("decisions");

    let log = run.read("decisions.jsonl");

    // Launch time of each (policy, node) seen so far. Every other action must name one of them.
    let mut launched: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut actions_seen: BTreeSet<String> = BTreeSet::new();
    let mut last_time: BTreeMap<String, u64> = BTreeMap::new();
    let mut terminated = 0;
    for (index, line) in log.lines().enumerate() {
        let number = index + 1;
        let decision = parse_json(line, &format!("decisions.jsonl line {number}"));
        let action = decision["action"].as_str().unwrap_or_default();
        let policy = decision["policy"].as_str().unwrap_or_default().to_string();
        let node = decision["node"].as_str().unwrap_or_default().to_string();
        let time = decision["time_ms"]
            .as_u64()
            .expect("time_ms is a whole number");
        assert!(
            DECISION_ACTIONS.contains(&action),
            "line {number}: unknown action {action:?}"
        );
        assert!(
            TWO_POLICIES.contains(&policy.as_str()),
            "line {number}: unknown policy {policy:?}"
        );
        assert!(
            time >= last_time.get(&policy).copied().unwrap_or(0),
            "line {number}: time goes back for {policy}"
        );
        last_time.insert(policy.clone(), time);
        actions_seen.insert(action.to_string());

        if action == "launch" {
            let detail = decision["detail"].as_str().unwrap_or_default();
            assert!(!detail.is_empty(), "line {number}: launch without detail");
            launched.insert((policy, node), time);
        } else if NODELESS_NOTES.contains(&action) && node.is_empty() {
            let detail = decision["detail"].as_str().unwrap_or_default();
            assert!(!detail.is_empty(), "line {number}: {action} without detail");
        } else {
            let launch_time = launched.get(&(policy, node.clone()));
            assert!(
                launch_time.is_some(),
                "line {number}: {action} of {node}, which was never launched"
            );
            if action == "terminate" {
                terminated += 1;
            }
        }
    }
    // The scenario is chosen so that the log has these actions. Without them, the checks above
    // would pass on an almost empty log.
    for action in ["launch", "ready", "delete", "evict", "terminate"] {
        assert!(actions_seen.contains(action), "no {action} in the log");
    }
    assert!(terminated > 0, "no node was terminated");
}

#[test]
fn table_lists_both_policies() {
    let temp = TempDir::new("table");
    let scenario = temp.write("small-web.yaml", SMALL_WEB_YAML);

    let stdout = run_ok(temp.path(), [OsString::from("compare"), scenario.into()]);

    let first_line = stdout.lines().next().unwrap_or_default();
    assert_eq!(first_line, "small-web (seed 7, 6h simulated)");
    for policy in TWO_POLICIES {
        let row = format!("| {policy} ");
        assert!(
            stdout.contains(&row),
            "no table row for {policy}:\n{stdout}"
        );
    }
    assert!(
        stdout.contains("Fleet at snapshot times:"),
        "no snapshot section:\n{stdout}"
    );
}

#[test]
fn run_reports_one_policy() {
    let temp = TempDir::new("run-one");
    let scenario = temp.write("small-web.yaml", SMALL_WEB_YAML);

    let stdout = run_ok(
        temp.path(),
        [
            OsString::from("run"),
            scenario.into(),
            "--policy".into(),
            "cluster-autoscaler".into(),
            "--format".into(),
            "json".into(),
        ],
    );

    let summary = parse_json(&stdout, "run --format json output");
    assert_eq!(policy_names(&summary), ["cluster-autoscaler"]);
}

#[test]
fn catalog_c5d_4xlarge() {
    let temp = TempDir::new("catalog");

    let stdout = run_ok(
        temp.path(),
        ["catalog", "--family", "c5d", "--format", "json"],
    );

    let types = parse_json(&stdout, "catalog --format json output");
    let types = types.as_array().expect("the catalog is a JSON array");
    for entry in types {
        assert_eq!(entry["family"], "c5d", "entry {}", entry["name"]);
    }
    let c5d_4xlarge = types
        .iter()
        .find(|t| t["name"] == "c5d.4xlarge")
        .expect("c5d.4xlarge is listed");
    assert_eq!(c5d_4xlarge["vcpu"], 16);
    assert_eq!(c5d_4xlarge["memory_mib"], 32768);
}

#[test]
fn catalog_sorted_by_size() {
    let temp = TempDir::new("catalog-order");

    let stdout = run_ok(temp.path(), ["catalog", "--family", "m5"]);

    let names: Vec<&str> = stdout
        .lines()
        .skip(1)
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert_eq!(
        names[..4],
        ["m5.large", "m5.xlarge", "m5.2xlarge", "m5.4xlarge"],
        "{stdout}"
    );
}

#[test]
fn catalog_json_allocatable_and_prices() {
    let temp = TempDir::new("catalog-json");

    let stdout = run_ok(
        temp.path(),
        ["catalog", "--family", "m5", "--format", "json"],
    );

    let types = parse_json(&stdout, "catalog --format json output");
    let m5_large = types
        .as_array()
        .expect("the catalog is a JSON array")
        .iter()
        .find(|t| t["name"] == "m5.large")
        .expect("m5.large is listed");
    assert_eq!(m5_large["allocatable"]["cpu_millicores"], 1930);
    assert_eq!(m5_large["allocatable"]["memory_mib"], 6903);
    assert_eq!(m5_large["allocatable"]["pods"], 29);
    assert_eq!(m5_large["on_demand_usd_per_hour"].to_string(), "0.096");
    assert_eq!(m5_large["on_demand_micro_usd_per_hour"], 96_000);
    assert_eq!(m5_large["usd_per_vcpu_hour"].to_string(), "0.048");
    assert_eq!(m5_large["usd_per_gib_hour"].to_string(), "0.012");
}

#[test]
fn catalog_min_memory_quantity() {
    let temp = TempDir::new("catalog-memory");

    let quantity = run_ok(temp.path(), ["catalog", "--min-memory", "16Gi"]);
    let gib = run_ok(temp.path(), ["catalog", "--min-memory", "16"]);
    let mebibytes = run_ok(temp.path(), ["catalog", "--min-memory", "16384Mi"]);

    assert_eq!(quantity, gib);
    assert_eq!(mebibytes, gib);
    assert!(!gib.contains("m5.large "), "{gib}");
    assert!(gib.contains("m5.xlarge "), "{gib}");
}

#[test]
fn validate_counts_workload_kinds() {
    let temp = TempDir::new("validate-counts");
    let yaml = replace_once(
        SMALL_WEB_YAML,
        "  - kind: DaemonSet\n",
        "  - kind: LimitRange\n    metadata: {name: defaults}\n    spec: {limits: [{type: Container, defaultRequest: {cpu: 100m}}]}\n  - kind: DaemonSet\n",
    );
    temp.write("scenario.yaml", yaml);

    let outcome = run_in(temp.path(), ["validate", "scenario.yaml"]);

    assert_eq!(outcome.code, Some(0), "stderr:\n{}", outcome.stderr);
    assert!(
        outcome.stdout.contains(
            "; 1 Deployment, 0 StatefulSets, 0 Job streams, 1 DaemonSet, 0 PodDisruptionBudgets, 1 LimitRange; policies cluster-autoscaler, karpenter"
        ),
        "{}",
        outcome.stdout
    );
}

#[test]
fn reused_out_drops_stale_plots() {
    let run = SmallWebRun::new("reused-out");
    let out = run.temp.join("out");
    fs::write(out.join("notes.txt"), "mine").unwrap();
    let karpenter_only = replace_once(
        SMALL_WEB_YAML,
        "  - name: cluster-autoscaler\n",
        "  - name: cluster-autoscaler-off\n",
    );
    let scenario = run.temp.write("renamed.yaml", karpenter_only);

    let outcome = run_in(
        run.temp.path(),
        [
            OsString::from("compare"),
            scenario.into(),
            "--out".into(),
            out.clone().into(),
            "--quiet".into(),
        ],
    );

    assert_eq!(outcome.code, Some(0), "{}", outcome.stderr);
    assert!(
        outcome
            .stderr
            .contains("removed 2 per-policy plots from an earlier run in",),
        "{}",
        outcome.stderr
    );
    assert!(!out.join("nodes-cluster-autoscaler.svg").exists());
    assert!(!out.join("allocation-cluster-autoscaler.svg").exists());
    assert!(out.join("nodes-cluster-autoscaler-off.svg").exists());
    assert!(out.join("nodes-karpenter.svg").exists());
    assert_eq!(fs::read_to_string(out.join("notes.txt")).unwrap(), "mine");
}
