//! Cluster Autoscaler behaviour that users reported, run end to end through the scenario
//! loader, the world and the policy. Each test states what
//! the real program 1.36 does and asserts it in numbers.

use std::path::{Path, PathBuf};

use autoscale_sim_scenario::{Overrides, load_str};
use autoscale_sim_sim::{Decision, RunOutput, Simulation};

mod support;
use support::TempFolder;

/// Writes a trace of `values`, one per `step_seconds`, to `NAME.csv` in `folder` and returns its
/// path.
fn write_trace(folder: &TempFolder, name: &str, step_seconds: u64, values: &[u32]) -> PathBuf {
    let mut text = String::from("timestamp_seconds,value\n");
    for (i, value) in values.iter().enumerate() {
        text.push_str(&format!("{},{value}\n", i as u64 * step_seconds));
    }
    folder.write(&format!("{name}.csv"), &text)
}

/// Loads `yaml` with each `(placeholder, trace)` pair's placeholder replaced by the trace's
/// path, and runs its only policy.
fn run(yaml: &str, traces: &[(&str, &Path)]) -> RunOutput {
    let mut yaml = yaml.to_string();
    for (placeholder, trace) in traces {
        yaml = yaml.replace(placeholder, &trace.display().to_string());
    }
    let scenario = load_str(&yaml, Path::new("report.yaml"), &Overrides::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let mut config = scenario.config.clone();
    config.check_invariants = true;
    Simulation::new(config).unwrap().run(&scenario.policies[0])
}

/// Lists the decisions with `action`, in time order.
fn with_action<'a>(output: &'a RunOutput, action: &str) -> Vec<&'a Decision> {
    output
        .decisions
        .iter()
        .filter(|d| d.action == action)
        .collect()
}

/// Report 6, kubernetes/autoscaler#581: replicas added one at a time until there are 3 nodes,
/// then removed slowly, with a minimum of 1 node. CA 1.1 flip-flopped around the minimum; since
/// scale-down simulates where the pods go, 1.36 steps down 3 → 2 → 1 and never grows again.
const FLIP_FLOP: &str = r#"
name: flip-flop
seed: 1
duration: 6h
cloud:
  launchLatency: {distribution: fixed, mean: 40s}
loads:
  demand:
    trace: {file: TRACE, end: hold}
workloads:
  - kind: Deployment
    metadata: {name: app}
    hpa: {load: demand, targetPerReplica: 1, minReplicas: 1, maxReplicas: 10}
    template:
      spec:
        # Two per m5.large (1930m allocatable), and one alone is at 0.47, under the 0.5 threshold.
        containers: [{name: app, resources: {requests: {cpu: 900m, memory: 1Gi}}}]
policies:
  - name: cluster-autoscaler
    clusterAutoscaler:
      nodeGroups:
        - {name: ng, instanceType: m5.large, minSize: 1, maxSize: 5}
"#;

#[test]
fn flip_flop_report_steps_down_once() {
    // One more replica every 15 minutes up to 6, then one fewer every 30 minutes down to 1.
    let mut values = vec![1, 2, 3, 4, 5, 6];
    for replicas in (1..=5).rev() {
        values.extend([replicas, replicas]);
    }
    values.extend([1; 8]);
    let folder = TempFolder::new("ca-reports-flip-flop");
    let output = run(
        FLIP_FLOP,
        &[("TRACE", &write_trace(&folder, "flip-flop", 900, &values))],
    );

    let launches = with_action(&output, "launch");
    let deletions = with_action(&output, "delete");
    // The minimum node at t = 0, then one node each for replicas 3 and 5.
    assert_eq!(launches.len(), 3, "{launches:#?}");
    assert_eq!(deletions.len(), 2, "{deletions:#?}");
    let last_launch = launches.last().unwrap().time_ms;
    assert!(
        deletions.iter().all(|d| d.time_ms > last_launch),
        "a launch came after a deletion: {launches:#?} {deletions:#?}"
    );
    assert!(deletions.iter().all(|d| d.reason == "ScaleDown"));
    assert_eq!(output.report.pods_pending_at_end, 0);
    assert_eq!(output.samples.last().unwrap().nodes, 1);
}

/// Report 10, kubernetes/autoscaler#9287: three nodes, each holding one pod of a Deployment
/// with hard hostname spread (maxSkew 1), underutilized once a second Deployment shrinks.
/// Before the fix (PR #9288) CA approved removing a node, its evicted pod could not schedule
/// while the drained node still counted as an empty domain, and CA scaled up again, over and
/// over. With the tainted ghost node in the removal simulation, 1.36 finds those nodes
/// NoPlaceToMovePods and keeps them: no launch after the first three, no eviction.
const SPREAD_OSCILLATION: &str = r#"
name: spread-oscillation
seed: 1
duration: 4h
cloud:
  launchLatency: {distribution: fixed, mean: 40s}
loads:
  batch:
    trace: {file: TRACE, end: hold}
  web:
    trace: {file: WEB, end: hold}
workloads:
  - kind: Deployment
    metadata: {name: web}
    hpa: {load: web, targetPerReplica: 1, minReplicas: 0, maxReplicas: 3}
    template:
      metadata:
        labels: {app: web}
      spec:
        topologySpreadConstraints:
          - maxSkew: 1
            topologyKey: kubernetes.io/hostname
            whenUnsatisfiable: DoNotSchedule
            labelSelector: {matchLabels: {app: web}}
        containers: [{name: web, resources: {requests: {cpu: 100m, memory: 256Mi}}}]
  - kind: Deployment
    metadata: {name: batch}
    hpa: {load: batch, targetPerReplica: 1, minReplicas: 1, maxReplicas: 3}
    template:
      spec:
        containers: [{name: batch, resources: {requests: {cpu: 1500m, memory: 1Gi}}}]
policies:
  - name: cluster-autoscaler
    clusterAutoscaler:
      nodeGroups:
        - {name: ng, instanceType: m5.large, minSize: 1, maxSize: 6}
"#;

#[test]
fn spread_report_keeps_nodes_without_oscillation() {
    // Three batch pods for the first hour force three nodes, then one is left. The web pods
    // come 15 minutes in, once the three nodes are Ready, and spread one per node.
    let mut batch = vec![3; 4];
    batch.extend([1; 12]);
    let mut web = vec![0];
    web.extend([3; 15]);
    let folder = TempFolder::new("ca-reports-spread");
    let output = run(
        SPREAD_OSCILLATION,
        &[
            ("TRACE", &write_trace(&folder, "spread-batch", 900, &batch)),
            ("WEB", &write_trace(&folder, "spread-web", 900, &web)),
        ],
    );

    let launches = with_action(&output, "launch");
    assert_eq!(launches.len(), 3, "{launches:#?}");
    assert!(launches.iter().all(|d| d.time_ms < 3_600_000));
    assert_eq!(with_action(&output, "evict").len(), 0);
    assert_eq!(output.report.pods_pending_at_end, 0);
    let unremovable: Vec<&str> = with_action(&output, "unremovable")
        .iter()
        .map(|d| d.reason.as_str())
        .collect();
    assert!(
        unremovable.contains(&"NoPlaceToMovePods"),
        "{unremovable:?}"
    );
}

/// Nine pods of 1500m spread over three zones with maxSkew 1 (DoNotSchedule), one m5.large
/// node group per zone, starting from no nodes. One pod fits on each m5.large. The pods that
/// fit on upcoming nodes count in the estimator's spread, as they do in the real program's
/// cluster snapshot, so the groups grow by three nodes each and no more.
const ZONE_SPREAD_SCALE_UP: &str = r#"
name: zone-spread-scale-up
seed: 4
duration: 1h
workloads:
  - kind: Deployment
    metadata: {name: web}
    replicas: 9
    template:
      metadata: {labels: {app: web}}
      spec:
        topologySpreadConstraints:
          - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: web}}}
        containers:
          - resources: {requests: {cpu: 1500m, memory: 1Gi}}
policies:
  - name: cluster-autoscaler
    clusterAutoscaler:
      nodeGroups:
        - {name: a, instanceType: m5.large, minSize: 0, maxSize: 10, zone: us-east-1a}
        - {name: b, instanceType: m5.large, minSize: 0, maxSize: 10, zone: us-east-1b}
        - {name: c, instanceType: m5.large, minSize: 0, maxSize: 10, zone: us-east-1c}
"#;

#[test]
fn zone_spread_scale_up_one_node_per_pod() {
    let output = run(ZONE_SPREAD_SCALE_UP, &[]);

    let launches = with_action(&output, "launch");
    let per_zone = |zone: &str| launches.iter().filter(|d| d.zone == zone).count();
    assert_eq!(launches.len(), 9);
    assert_eq!(per_zone("us-east-1a"), 3);
    assert_eq!(per_zone("us-east-1b"), 3);
    assert_eq!(per_zone("us-east-1c"), 3);
    assert_eq!(output.report.pods_pending_at_end, 0);
}

/// Flags set to 0, which Cluster Autoscaler 1.36 starts with (its `config/flags/flags.go`
/// checks none of them) and which leave no node that lasts, no drain or no scale-up. Each
/// one is on a line of its own, so that its warning names that line.
const ZERO_FLAGS: &str = r#"
name: zero-flags
seed: 9
duration: 1h
workloads:
  - kind: Deployment
    metadata: {name: web}
    replicas: 4
    template:
      spec:
        containers:
          - resources: {requests: {cpu: "3", memory: 4Gi}}
policies:
  - name: ca
    clusterAutoscaler:
      flags:
        - --max-node-provision-time=0s
        - --max-drain-parallelism=0
        - --cores-total=0:0
        - --memory-total=0:0
        - --max-scale-down-parallelism=0
      nodeGroups:
        - {name: m5-2xl, instanceType: m5.2xlarge, minSize: 0, maxSize: 10}
"#;

#[test]
fn zero_flags_warn_at_load() {
    let scenario = load_str(ZERO_FLAGS, Path::new("zero.yaml"), &Overrides::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let warning_of = |flag: &str| {
        scenario
            .warnings
            .iter()
            .find(|w| w.contains(&format!(": {flag} ")))
            .unwrap_or_else(|| panic!("no warning about {flag} in {:#?}", scenario.warnings))
            .clone()
    };

    assert_eq!(
        warning_of("--max-node-provision-time=0s"),
        "zero.yaml:17:11: field policies[0].clusterAutoscaler.flags[0]: --max-node-provision-time=0s gives up every node that takes longer than 0 s to register, which is every node: each launch fails with RegistrationTimeout, the node group backs off and no pod gets a new node; write the time a node may take to register, such as 15m (the default)"
    );
    assert!(
        warning_of("--max-drain-parallelism=0").starts_with(
            "zero.yaml:18:11: field policies[0].clusterAutoscaler.flags[1]: --max-drain-parallelism=0 lets scale-down delete empty nodes only"
        )
    );
    assert!(
        warning_of("--cores-total=0:0").starts_with(
            "zero.yaml:19:11: field policies[0].clusterAutoscaler.flags[2]: --cores-total=0:0 allows at most 0 cores in the cluster, so no node group ever scales up"
        )
    );
    assert!(
        warning_of("--memory-total=0:0").starts_with(
            "zero.yaml:20:11: field policies[0].clusterAutoscaler.flags[3]: --memory-total=0:0 allows at most 0 GiB of memory"
        )
    );
    assert!(
        warning_of("--max-scale-down-parallelism=0").starts_with(
            "zero.yaml:21:11: field policies[0].clusterAutoscaler.flags[4]: --max-scale-down-parallelism=0 turns scale-down off"
        )
    );
}

#[test]
fn backoff_flags_warn_at_load() {
    // (flags, the warning's start)
    let cases = [
        (
            "        - --initial-node-group-backoff-duration=0s\n",
            "zero.yaml:17:11: field policies[0].clusterAutoscaler.flags[0]: --initial-node-group-backoff-duration=0s never backs a node group off",
        ),
        (
            "        - --initial-node-group-backoff-duration=40m\n        - --max-node-group-backoff-duration=10m\n",
            "zero.yaml:17:11: field policies[0].clusterAutoscaler.flags[0]: --initial-node-group-backoff-duration=40m is longer than the maximum backoff (10m)",
        ),
        (
            "        - --max-node-group-backoff-duration=1m\n",
            "zero.yaml:17:11: field policies[0].clusterAutoscaler.flags[0]: --max-node-group-backoff-duration=1m is shorter than the initial backoff (5m)",
        ),
    ];
    let zero_lines = "        - --max-node-provision-time=0s\n        - --max-drain-parallelism=0\n        - --cores-total=0:0\n        - --memory-total=0:0\n        - --max-scale-down-parallelism=0\n";
    for (flags, expected) in cases {
        let yaml = ZERO_FLAGS.replace(zero_lines, flags);

        let scenario = load_str(&yaml, Path::new("zero.yaml"), &Overrides::default())
            .unwrap_or_else(|e| panic!("{e}"));

        assert!(
            scenario.warnings.iter().any(|w| w.starts_with(expected)),
            "{expected} not in {:#?}",
            scenario.warnings
        );
    }
}

#[test]
fn zero_provision_time_fails_every_launch() {
    // What the warning above promises, run: every launch fails and no pod is bound.
    let output = run(
        &ZERO_FLAGS.replace(
            "        - --max-drain-parallelism=0\n        - --cores-total=0:0\n        - --memory-total=0:0\n        - --max-scale-down-parallelism=0\n",
            "",
        ),
        &[],
    );

    assert!(!with_action(&output, "launch").is_empty());
    assert!(output.report.launch_failures["RegistrationTimeout"] > 0);
    assert!(output.pod_pending_times_ms.is_empty());
    assert_eq!(output.report.pods_pending_at_end, 4);
}

#[test]
fn provision_time_below_registration_warns() {
    // Every node takes 2 s to run (the default phase's minimum) and 8 m more to register, so a
    // provision time of 5 m fails every launch, as --max-node-provision-time=0s does.
    let yaml = ZERO_FLAGS
        .replace(
            "duration: 1h\n",
            "duration: 1h\ncloud:\n  launchPhases:\n    registered: {distribution: fixed, mean: 8m}\n",
        )
        .replace(
            "--max-node-provision-time=0s",
            "--max-node-provision-time=5m",
        );

    let scenario = load_str(&yaml, Path::new("slow.yaml"), &Overrides::default())
        .unwrap_or_else(|e| panic!("{e}"));

    assert!(
        scenario.warnings.iter().any(|w| w
            == "slow.yaml:20:11: field policies[0].clusterAutoscaler.flags[0]: --max-node-provision-time=5m is no longer than the shortest time a node takes to register under cloud.launchPhases or cloud.launchLatency (8m2s): each launch fails with RegistrationTimeout, the node group backs off and no pod gets a new node; write a time longer than 8m2s, or shorten the launch latency"),
        "{:#?}",
        scenario.warnings
    );
}

#[test]
fn provision_time_above_registration_quiet() {
    let yaml = ZERO_FLAGS.replace(
        "--max-node-provision-time=0s",
        "--max-node-provision-time=1m",
    );

    let scenario = load_str(&yaml, Path::new("zero.yaml"), &Overrides::default())
        .unwrap_or_else(|e| panic!("{e}"));

    assert!(
        !scenario
            .warnings
            .iter()
            .any(|w| w.contains("--max-node-provision-time")),
        "{:#?}",
        scenario.warnings
    );
}

#[test]
fn cutoff_above_every_priority_warns() {
    // The Deployment's pods have the default priority 0, below the cutoff 1.
    let yaml = ZERO_FLAGS.replace(
        "--max-node-provision-time=0s",
        "--expendable-pods-priority-cutoff=1",
    );

    let scenario = load_str(&yaml, Path::new("cutoff.yaml"), &Overrides::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let quiet = load_str(
        &yaml.replace("cutoff=1", "cutoff=0"),
        Path::new("cutoff.yaml"),
        &Overrides::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));

    assert!(
        scenario.warnings.iter().any(|w| w
            == "cutoff.yaml:17:11: field policies[0].clusterAutoscaler.flags[0]: --expendable-pods-priority-cutoff=1 is above the priority of every workload's pods (the highest is 0), so every pod is expendable: none triggers a scale-up, and scale-down neither counts nor moves them; write a cutoff at or below the priority of the pods that need nodes, such as -10 (the default)"),
        "{:#?}",
        scenario.warnings
    );
    assert!(
        !quiet.warnings.iter().any(|w| w.contains("expendable")),
        "{:#?}",
        quiet.warnings
    );
}
