//! Spot cases that users of the real autoscalers reported, reproduced as the real programs
//! behave, and the registration timeout under each policy.
//!
//! * Cluster Autoscaler, spot shortage then fallback: since 1.24 a failed spot scale-up backs
//!   the group off at once ("early abort"), so the on-demand group takes over within a loop or
//!   two instead of after `--max-node-provision-time`.
//! * Karpenter, spot InsufficientInstanceCapacity on the only type that fits a batch: the
//!   NodeClaim's types are fixed when it is created, so Karpenter launches that type on-demand
//!   rather than two smaller spot nodes.

use std::path::Path;

use autoscale_sim_scenario::{Overrides, Scenario, load_str};
use autoscale_sim_sim::{RunOutput, Simulation};

fn scenario(yaml: &str) -> Scenario {
    load_str(yaml, Path::new("oracle.yaml"), &Overrides::default())
        .unwrap_or_else(|e| panic!("{e}"))
}

fn run(scenario: &Scenario, policy: &str) -> RunOutput {
    let spec = scenario
        .policies
        .iter()
        .find(|p| p.name() == policy)
        .unwrap_or_else(|| panic!("no policy {policy}"));
    Simulation::new(scenario.config.clone()).unwrap().run(spec)
}

const CA_SPOT_FALLBACK: &str = r#"
name: ca-spot-fallback
seed: 1
duration: 1h
cloud:
  launchLatency: {distribution: fixed, mean: 40s}
  capacityShortages:
    - {capacityType: spot, from: 0s, to: 2h}
workloads:
  - kind: Deployment
    metadata: {name: api}
    replicas: 1
    template:
      spec:
        containers: [{name: api, resources: {requests: {cpu: 1500m, memory: 6Gi}}}]
policies:
  - name: cluster-autoscaler
    clusterAutoscaler:
      nodeGroups:
        # least-waste prefers the spot m5.large, which the pod nearly fills.
        - {name: spot-m5-large, instanceType: m5.large, capacityType: spot, minSize: 0, maxSize: 5}
        - {name: od-m5-xlarge, instanceType: m5.xlarge, capacityType: on-demand, minSize: 0, maxSize: 5}
"#;

#[test]
fn cluster_autoscaler_falls_back_fast() {
    let output = run(&scenario(CA_SPOT_FALLBACK), "cluster-autoscaler");

    // The spot scale-up fails; the on-demand group is launched within seconds, far inside the
    // 15-minute --max-node-provision-time.
    let failed = output
        .decisions
        .iter()
        .find(|d| d.action == "launch-failed")
        .expect("the spot launch fails");
    assert_eq!(failed.instance_type, "m5.large");
    assert_eq!(failed.reason, "InsufficientInstanceCapacity");
    let fallback = output
        .decisions
        .iter()
        .find(|d| d.action == "launch" && d.instance_type == "m5.xlarge")
        .expect("the on-demand group scales up");
    assert!(
        fallback.time_ms >= failed.time_ms && fallback.time_ms - failed.time_ms <= 15_000,
        "fallback launch {} ms after the failure",
        fallback.time_ms - failed.time_ms
    );
    assert_eq!(
        output.report.launch_failures["InsufficientInstanceCapacity"],
        1
    );
    assert_eq!(output.report.pods_pending_at_end, 0);
    assert!(output.report.pod_pending_max_seconds < 90.0);
    assert!(output.report.fallback_on_demand_seconds > 3_000.0);
    assert!(!output.report.cost_by_capacity_type.contains_key("spot"));
}

const KARPENTER_BIG_FALLBACK: &str = r#"
name: karpenter-ice-fallback
seed: 1
duration: 1h
cloud:
  launchLatency: {distribution: fixed, mean: 40s}
  capacityShortages:
    - {instanceType: m5.24xlarge, capacityType: spot, from: 0s, to: 2h}
workloads:
  - kind: Deployment
    metadata: {name: batch}
    replicas: 2
    template:
      spec:
        containers: [{name: batch, resources: {requests: {cpu: "40", memory: 32Gi}}}]
policies:
  - name: karpenter
    karpenter:
      nodePools:
        - apiVersion: karpenter.sh/v1
          kind: NodePool
          metadata: {name: default}
          spec:
            template:
              spec:
                requirements:
                  - {key: karpenter.k8s.aws/instance-family, operator: In, values: [m5]}
                  - {key: karpenter.k8s.aws/instance-size, operator: In, values: [12xlarge, 16xlarge, 24xlarge]}
                  - {key: karpenter.sh/capacity-type, operator: In, values: [spot, on-demand]}
"#;

#[test]
fn karpenter_falls_back_to_big_on_demand() {
    let output = run(&scenario(KARPENTER_BIG_FALLBACK), "karpenter");

    // Both 40-CPU pods fit only an m5.24xlarge. Its spot offerings fail in every zone, and the
    // next NodeClaim, again m5.24xlarge alone, goes on-demand.
    let first_failure = output
        .decisions
        .iter()
        .find(|d| d.action == "launch-failed")
        .expect("the spot launch fails");
    assert_eq!(first_failure.instance_type, "m5.24xlarge");
    assert_eq!(first_failure.detail, "no spot capacity for this offering");
    let launches: Vec<_> = output
        .decisions
        .iter()
        .filter(|d| d.action == "launch")
        .collect();
    assert_eq!(launches[0].node, first_failure.node);
    assert!(launches[1].time_ms - first_failure.time_ms <= 15_000);
    // No smaller spot node is ever tried. After each 3-minute unavailable-offerings TTL,
    // consolidation tries to replace the on-demand node by a cheaper spot m5.24xlarge, which
    // fails again while the shortage lasts.
    assert!(launches.iter().all(|d| d.instance_type == "m5.24xlarge"));
    assert!(
        output
            .decisions
            .iter()
            .filter(|d| d.action == "launch-failed")
            .all(|d| d.detail == "no spot capacity for this offering")
    );
    assert_eq!(
        output
            .report
            .cost_by_instance_type
            .keys()
            .collect::<Vec<_>>(),
        ["m5.24xlarge"]
    );
    assert!(!output.report.cost_by_capacity_type.contains_key("spot"));
    assert_eq!(output.report.pods_pending_at_end, 0);
    assert!(output.report.fallback_on_demand_seconds > 3_000.0);
}

const SLOW_REGISTRATION: &str = r#"
name: slow-registration
seed: 1
duration: 1h
cloud:
  launchPhases:
    running: {distribution: fixed, mean: 10s}
    registered: {distribution: fixed, mean: 10m}
    ready: {distribution: fixed, mean: 10s}
workloads:
  - kind: Deployment
    metadata: {name: api}
    replicas: 1
    template:
      spec:
        containers: [{name: api, resources: {requests: {cpu: 500m, memory: 1Gi}}}]
policies:
  - name: cluster-autoscaler
    clusterAutoscaler:
      flags: ["--max-node-provision-time=5m"]
      nodeGroups:
        - {name: general, instanceType: m5.large, minSize: 1, maxSize: 3}
  - name: karpenter
    karpenter:
      nodePools:
        - apiVersion: karpenter.sh/v1
          kind: NodePool
          metadata: {name: default}
          spec:
            template:
              spec:
                requirements:
                  - {key: node.kubernetes.io/instance-type, operator: In, values: [m5.large]}
"#;

#[test]
fn registration_timeout_per_policy() {
    let scenario = scenario(SLOW_REGISTRATION);

    // Cluster Autoscaler gives up after its --max-node-provision-time of 5 minutes.
    let ca = run(&scenario, "cluster-autoscaler");
    let ca_first = ca.decisions.iter().find(|d| d.action == "launch").unwrap();
    let ca_failed = ca
        .decisions
        .iter()
        .find(|d| d.action == "launch-failed")
        .unwrap();
    assert_eq!(ca_failed.reason, "RegistrationTimeout");
    assert_eq!(ca_failed.node, ca_first.node);
    assert_eq!(ca_failed.time_ms - ca_first.time_ms, 300_000);

    // Karpenter after its fixed 15 minutes, registering at 10 min 10 s is in time.
    let karpenter = run(&scenario, "karpenter");
    assert!(karpenter.report.launch_failures.is_empty());
    assert_eq!(karpenter.report.pods_pending_at_end, 0);
}

#[test]
fn karpenter_registration_timeout_is_fifteen_minutes() {
    let yaml = SLOW_REGISTRATION.replace("mean: 10m", "mean: 20m");
    let karpenter = run(&scenario(&yaml), "karpenter");

    let first = karpenter
        .decisions
        .iter()
        .find(|d| d.action == "launch")
        .unwrap();
    let failed = karpenter
        .decisions
        .iter()
        .find(|d| d.action == "launch-failed")
        .unwrap();
    assert_eq!(failed.reason, "RegistrationTimeout");
    assert_eq!(failed.time_ms - first.time_ms, 900_000);
    // Every launch times out: the pod is never bound.
    assert_eq!(karpenter.report.pods_pending_at_end, 1);
    assert!(karpenter.report.launch_failures["RegistrationTimeout"] >= 2);
}
