//! StatefulSets: pods created by ordinal (one at a time with OrderedReady, all at once with
//! Parallel), named `name-ordinal`, and recreated under the same name after an eviction.

use std::path::Path;

use autoscale_sim_scenario::{Overrides, load_str};
use autoscale_sim_sim::{RunOutput, Simulation};

/// Builds a scenario with a 3-replica StatefulSet `db` with `extra` top-level fields, pods
/// starting 10 s after binding, on a static fleet of two m5.xlarge nodes.
fn scenario(extra: &str) -> String {
    format!(
        r#"
name: stateful
seed: 2
duration: 10m
sampleInterval: 1s
workloads:
  - kind: StatefulSet
    metadata: {{name: db}}
    replicas: 3
    startupLatency: 10s
    {extra}
    template:
      spec: {{containers: [{{resources: {{requests: {{cpu: 500m, memory: 1Gi}}}}}}]}}
policies:
  - name: fixed
    static: {{instanceType: m5.xlarge, count: 2}}
"#
    )
}

fn run(text: &str) -> RunOutput {
    let mut scenario = load_str(text, Path::new("stateful.yaml"), &Overrides::default())
        .unwrap_or_else(|e| panic!("scenario failed to load: {e}"));
    scenario.config.check_invariants = true;
    let simulation = Simulation::new(scenario.config.clone()).unwrap();
    simulation.run(&scenario.policies[0])
}

/// Returns the distinct pod counts of the samples, in time order.
fn pod_counts(output: &RunOutput) -> Vec<u64> {
    let mut counts: Vec<u64> = output.samples.iter().map(|s| s.pods).collect();
    counts.dedup();
    counts
}

#[test]
fn ordered_ready_creates_one_at_a_time() {
    let output = run(&scenario(""));

    assert_eq!(pod_counts(&output), vec![1, 2, 3]);
    assert_eq!(output.report.pods_created, 3);
    assert_eq!(output.report.pods_pending_at_end, 0);
}

#[test]
fn parallel_creates_all_at_once() {
    let output = run(&scenario("podManagementPolicy: Parallel"));

    assert_eq!(pod_counts(&output), vec![3]);
    assert_eq!(output.report.pods_created, 3);
}

#[test]
fn pod_management_policy_is_checked() {
    let error = load_str(
        &scenario("podManagementPolicy: Sometimes"),
        Path::new("stateful.yaml"),
        &Overrides::default(),
    )
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(error.contains("unknown pod management policy"), "{error}");

    let on_deployment =
        scenario("podManagementPolicy: Parallel").replace("StatefulSet", "Deployment");
    let error = load_str(
        &on_deployment,
        Path::new("stateful.yaml"),
        &Overrides::default(),
    )
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(error.contains("applies to a StatefulSet only"), "{error}");
}

/// A StatefulSet `web` of six 1.5-CPU pods on two m5.xlarge nodes, four fit, and high-priority
/// Jobs that preempt them.
const PREEMPTION: &str = r#"
name: stateful-preemption
seed: 5
duration: 1h
loads:
  jobs:
    diurnal: {base: 4, peak: 4}
workloads:
  - kind: PriorityClass
    metadata: {name: urgent}
    value: 1000
  - kind: StatefulSet
    metadata: {name: web}
    replicas: 6
    podManagementPolicy: Parallel
    template:
      spec: {containers: [{resources: {requests: {cpu: 1500m, memory: 1Gi}}}]}
  - kind: Job
    metadata: {name: urgent-batch}
    arrivals: {load: jobs, perHourPerUnit: 1}
    duration: {distribution: fixed, mean: 10m}
    template:
      spec:
        priorityClassName: urgent
        containers: [{resources: {requests: {cpu: 2, memory: 1Gi}}}]
policies:
  - name: fixed
    static: {instanceType: m5.xlarge, count: 2}
"#;

#[test]
fn evicted_pods_keep_their_names() {
    let output = run(PREEMPTION);

    let victims: Vec<&str> = output
        .decisions
        .iter()
        .filter(|d| d.action == "preempt")
        .filter_map(|d| d.pod.as_deref())
        .collect();
    // web-0 to web-3 are bound first; web-4 gets the room a finished Job leaves before the
    // recreated web-3, which is younger.
    assert_eq!(victims, vec!["web-3", "web-4", "web-1"]);
    assert_eq!(
        output.report.evictions_by_reason.get("Preemption"),
        Some(&3)
    );
    // Six pods, four Jobs, and three replacements created under the victims' names.
    assert_eq!(output.report.pods_created, 13);
    assert_eq!(output.report.pods_pending_at_end, 2);
}
