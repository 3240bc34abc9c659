//! PriorityClass workloads, `priorityClassName` resolution, and a run in which high-priority
//! Jobs preempt a low-priority Deployment on a full static fleet.

use std::path::Path;

use autoscale_sim_kube::PreemptionPolicy;
use autoscale_sim_scenario::{Overrides, load_str};
use autoscale_sim_sim::Simulation;

/// Builds a scenario with `classes` added to the workloads and the web Deployment's pod spec
/// extended by `pod_fields` (YAML flow-mapping entries).
fn scenario(classes: &str, pod_fields: &str) -> String {
    format!(
        r#"
name: priorities
seed: 1
duration: 2h
loads:
  jobs:
    diurnal: {{base: 20, peak: 20}}
workloads:
{classes}
  - kind: Deployment
    metadata: {{name: web}}
    replicas: 6
    template:
      metadata: {{labels: {{app: web}}}}
      spec: {{containers: [{{resources: {{requests: {{cpu: 1500m, memory: 1Gi}}}}}}] {pod_fields}}}
policies:
  - name: fixed
    static: {{instanceType: m5.xlarge, count: 2}}
"#
    )
}

fn priority_of(text: &str) -> (i32, PreemptionPolicy) {
    let scenario = load_str(text, Path::new("priorities.yaml"), &Overrides::default())
        .unwrap_or_else(|e| panic!("scenario failed to load: {e}"));
    let spec = &scenario.config.deployments[0].spec;
    (spec.priority, spec.preemption_policy)
}

fn error_of(text: &str) -> String {
    match load_str(text, Path::new("priorities.yaml"), &Overrides::default()) {
        Ok(_) => panic!("the scenario should be rejected"),
        Err(error) => error.to_string(),
    }
}

const CLASSES: &str = r#"
  - kind: PriorityClass
    metadata: {name: batch-low}
    value: -10
    preemptionPolicy: Never
    description: batch work that waits
  - kind: PriorityClass
    metadata: {name: default-prio}
    value: 100
    globalDefault: true"#;

#[test]
fn priority_class_sets_priority_and_policy() {
    assert_eq!(
        priority_of(&scenario(CLASSES, ", priorityClassName: batch-low")),
        (-10, PreemptionPolicy::Never)
    );
}

#[test]
fn global_default_applies_without_class() {
    assert_eq!(
        priority_of(&scenario(CLASSES, "")),
        (100, PreemptionPolicy::PreemptLowerPriority)
    );
}

#[test]
fn builtin_classes_resolve() {
    assert_eq!(
        priority_of(&scenario(
            "",
            ", priorityClassName: system-cluster-critical"
        )),
        (2_000_000_000, PreemptionPolicy::PreemptLowerPriority)
    );
    assert_eq!(
        priority_of(&scenario("", ", priorityClassName: system-node-critical")),
        (2_000_001_000, PreemptionPolicy::PreemptLowerPriority)
    );
}

#[test]
fn no_class_means_priority_zero() {
    assert_eq!(
        priority_of(&scenario("", "")),
        (0, PreemptionPolicy::PreemptLowerPriority)
    );
    assert_eq!(
        priority_of(&scenario("", ", priority: 7, preemptionPolicy: Never")),
        (7, PreemptionPolicy::Never)
    );
}

#[test]
fn unknown_class_is_rejected() {
    let message = error_of(&scenario(CLASSES, ", priorityClassName: urgent"));
    assert!(
        message.contains("no PriorityClass has this name"),
        "{message}"
    );
    assert!(message.contains("batch-low, default-prio"), "{message}");
}

#[test]
fn conflicting_priority_is_rejected() {
    let message = error_of(&scenario(
        CLASSES,
        ", priorityClassName: batch-low, priority: 5",
    ));
    assert!(
        message.contains("differs from -10, the value of PriorityClass batch-low"),
        "{message}"
    );
}

#[test]
fn invalid_classes_are_rejected() {
    let two_defaults = r#"
  - kind: PriorityClass
    metadata: {name: one}
    value: 1
    globalDefault: true
  - kind: PriorityClass
    metadata: {name: two}
    value: 2
    globalDefault: true"#;
    assert!(error_of(&scenario(two_defaults, "")).contains("already the global default"));

    let reserved = r#"
  - kind: PriorityClass
    metadata: {name: system-mine}
    value: 1"#;
    assert!(error_of(&scenario(reserved, "")).contains("system- prefix is reserved"));

    let too_high = r#"
  - kind: PriorityClass
    metadata: {name: huge}
    value: 1000000001"#;
    assert!(error_of(&scenario(too_high, "")).contains("must be from"));

    let bad_policy = r#"
  - kind: PriorityClass
    metadata: {name: odd}
    value: 1
    preemptionPolicy: Sometimes"#;
    assert!(error_of(&scenario(bad_policy, "")).contains("unknown preemption policy"));
}

/// Two m5.xlarge nodes (3,920 millicores allocatable each) hold four 1.5-CPU web pods; the other
/// two stay Pending. Jobs of priority 1000 needing 2 CPUs then arrive and preempt web pods,
/// whose replacements wait.
fn preemption_scenario(job_policy: &str) -> String {
    format!(
        r#"
name: preemption
seed: 5
duration: 1h
loads:
  jobs:
    diurnal: {{base: 4, peak: 4}}
workloads:
  - kind: PriorityClass
    metadata: {{name: urgent}}
    value: 1000
    preemptionPolicy: {job_policy}
  - kind: Deployment
    metadata: {{name: web}}
    replicas: 6
    template:
      metadata: {{labels: {{app: web}}}}
      spec: {{containers: [{{resources: {{requests: {{cpu: 1500m, memory: 1Gi}}}}}}]}}
  - kind: Job
    metadata: {{name: urgent-batch}}
    arrivals: {{load: jobs, perHourPerUnit: 1}}
    duration: {{distribution: fixed, mean: 10m}}
    template:
      spec:
        priorityClassName: urgent
        containers: [{{resources: {{requests: {{cpu: 2, memory: 1Gi}}}}}}]
policies:
  - name: fixed
    static: {{instanceType: m5.xlarge, count: 2}}
"#
    )
}

fn run(text: &str) -> autoscale_sim_sim::RunOutput {
    let mut scenario = load_str(text, Path::new("preemption.yaml"), &Overrides::default())
        .unwrap_or_else(|e| panic!("scenario failed to load: {e}"));
    scenario.config.check_invariants = true;
    let simulation = Simulation::new(scenario.config.clone()).unwrap();
    simulation.run(&scenario.policies[0])
}

#[test]
fn jobs_preempt_web_pods() {
    let output = run(&preemption_scenario("PreemptLowerPriority"));

    let preempted: Vec<_> = output
        .decisions
        .iter()
        .filter(|d| d.action == "preempt")
        .collect();
    let victims: Vec<(&str, &str, &str)> = preempted
        .iter()
        .map(|d| {
            (
                d.time.as_str(),
                d.node.as_str(),
                d.pod.as_deref().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        victims,
        vec![
            ("0d00:05:57.197", "fixed-0", "web-pod-3"),
            ("0d00:18:38.124", "fixed-0", "web-pod-4"),
            ("0d00:24:26.709", "fixed-1", "web-pod-1"),
        ]
    );
    assert_eq!(
        output.report.evictions_by_reason.get("Preemption").copied(),
        Some(3)
    );
    assert_eq!(output.report.pods_evicted, 3);
    assert_eq!(output.report.bare_pods_lost, 0);
    // Six web pods, four Jobs and three replacements of preempted web pods were created. Every
    // Job ran, and the two web pods that never fit are still Pending.
    assert_eq!(output.report.pods_created, 13);
    assert_eq!(output.report.pods_succeeded, 4);
    assert_eq!(output.report.pods_pending_at_end, 2);
}

#[test]
fn never_policy_jobs_do_not_preempt() {
    let output = run(&preemption_scenario("Never"));

    assert!(output.decisions.iter().all(|d| d.action != "preempt"));
    assert_eq!(output.report.evictions_by_reason.get("Preemption"), None);
    assert_eq!(output.report.pods_evicted, 0);
}
