//! Integer fields of the Kubernetes objects in a scenario take only a plain number. The
//! Kubernetes API rejects a JSON string such as "3" in an `int32` or `int64` field, so the
//! loader rejects a quoted number there and names the field, the value and a fix.

mod support;

use autoscale_sim_scenario::{Scenario, ScenarioError};

/// A scenario that sets every integer field of its Kubernetes objects once, each to a
/// plain number that appears nowhere else in the text.
const SCENARIO: &str = r#"name: integers
seed: 1
duration: 1h
loads:
  web:
    diurnal: {base: 100, peak: 200}
workloads:
  - kind: PriorityClass
    metadata: {name: high}
    value: 1000
  - kind: Deployment
    metadata: {name: fixed}
    replicas: 2
    template:
      metadata: {labels: {app: fixed}}
      spec:
        priority: 7
        terminationGracePeriodSeconds: 45
        containers:
          - name: fixed
            resources: {requests: {cpu: 100m}}
            ports: [{containerPort: 8080, hostPort: 9090}]
        topologySpreadConstraints:
          - {maxSkew: 3, minDomains: 2, topologyKey: topology.kubernetes.io/zone, labelSelector: {matchLabels: {app: fixed}}}
        affinity:
          nodeAffinity:
            preferredDuringSchedulingIgnoredDuringExecution:
              - weight: 11
                preference: {matchExpressions: [{key: kubernetes.io/os, operator: In, values: [linux]}]}
          podAntiAffinity:
            preferredDuringSchedulingIgnoredDuringExecution:
              - weight: 12
                podAffinityTerm: {topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: fixed}}}
  - kind: Deployment
    metadata: {name: scaled}
    hpa: {load: web, targetPerReplica: 50, minReplicas: 4, maxReplicas: 40}
    template:
      spec:
        containers: [{name: scaled, resources: {requests: {cpu: 100m}}}]
policies:
  - name: karpenter
    karpenter:
      nodePools:
        - apiVersion: karpenter.sh/v1
          kind: NodePool
          metadata: {name: default}
          spec:
            weight: 13
            template:
              spec:
                nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: base}
                requirements:
                  - {key: karpenter.k8s.aws/instance-family, operator: In, values: [m5, c5, r5], minValues: 3}
      nodeClasses:
        - apiVersion: karpenter.k8s.aws/v1
          kind: EC2NodeClass
          metadata: {name: base}
          spec:
            kubelet: {maxPods: 58}
"#;

const SPEC: &str = "workloads[1].template.spec";
const POOL: &str = "policies[0].karpenter.nodePools[0].spec";

fn load(text: &str) -> Scenario {
    support::load_as(text, "integers.yaml")
}

/// Returns the error of a scenario that should be rejected for `case`.
fn error(text: &str, case: &str) -> ScenarioError {
    support::rejection_of(text, "integers.yaml", case)
}

#[test]
fn plain_integers_load() {
    let scenario = load(SCENARIO);

    let spec = &scenario.config.deployments[0].spec;
    assert_eq!(spec.priority, 7);
    assert_eq!(spec.termination_grace_secs, Some(45));
    assert_eq!(spec.host_ports, [9090]);
    assert_eq!(spec.topology_spread[0].max_skew, 3);
    assert_eq!(spec.topology_spread[0].min_domains, Some(2));
    assert_eq!(spec.node_affinity.preferred[0].weight, 11);
    assert_eq!(spec.pod_anti_affinity.preferred[0].weight, 12);
}

#[test]
fn quoted_integers_rejected() {
    // (the field as written, its path in the message)
    let cases = [
        ("value: 1000", "workloads[0].value".to_string()),
        ("replicas: 2", "workloads[1].replicas".to_string()),
        ("priority: 7", format!("{SPEC}.priority")),
        (
            "terminationGracePeriodSeconds: 45",
            format!("{SPEC}.terminationGracePeriodSeconds"),
        ),
        (
            "containerPort: 8080",
            format!("{SPEC}.containers[0].ports[0].containerPort"),
        ),
        (
            "hostPort: 9090",
            format!("{SPEC}.containers[0].ports[0].hostPort"),
        ),
        (
            "maxSkew: 3",
            format!("{SPEC}.topologySpreadConstraints[0].maxSkew"),
        ),
        (
            "minDomains: 2",
            format!("{SPEC}.topologySpreadConstraints[0].minDomains"),
        ),
        (
            "weight: 11",
            format!(
                "{SPEC}.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight"
            ),
        ),
        (
            "weight: 12",
            format!(
                "{SPEC}.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight"
            ),
        ),
        ("minReplicas: 4", "workloads[2].hpa.minReplicas".to_string()),
        (
            "maxReplicas: 40",
            "workloads[2].hpa.maxReplicas".to_string(),
        ),
        ("weight: 13", format!("{POOL}.weight")),
        (
            "minValues: 3",
            format!("{POOL}.template.spec.requirements[0].minValues"),
        ),
        (
            "maxPods: 58",
            "policies[0].karpenter.nodeClasses[0].spec.kubelet.maxPods".to_string(),
        ),
    ];
    for (written, field) in cases {
        let (key, number) = written.split_once(": ").unwrap();
        assert_eq!(SCENARIO.matches(written).count(), 1, "{written}");
        let text = SCENARIO.replace(written, &format!("{key}: \"{number}\""));

        let error = error(&text, written);

        assert_eq!(error.field.as_deref(), Some(field.as_str()), "{error}");
        assert_eq!(error.value.as_deref(), Some(number), "{error}");
        assert!(error.message.starts_with("the number is quoted"), "{error}");
        assert_eq!(
            error.fix,
            Some(format!("remove the quotes: {number}")),
            "{error}"
        );
        assert!(error.line.is_some(), "{error}");
    }
}

#[test]
fn quoted_number_with_spaces_fix() {
    let text = SCENARIO.replace("replicas: 2", "replicas: \" 2 \"");

    let error = error(&text, "replicas with spaces");

    assert_eq!(error.value.as_deref(), Some(" 2 "), "{error}");
    assert_eq!(
        error.fix.as_deref(),
        Some("remove the quotes: 2"),
        "{error}"
    );
}

#[test]
fn out_of_range_integers_rejected() {
    // (the field as written, the replacement, the message)
    let cases = [
        (
            "containerPort: 8080",
            "containerPort: 70000",
            "the number is larger than 65535, the most this field takes",
        ),
        (
            "priority: 7",
            "priority: 3000000000",
            "the number is larger than 2147483647, the most this field takes",
        ),
        (
            "replicas: 2",
            "replicas: -2",
            "invalid value: expected a whole number zero or more",
        ),
        (
            "maxSkew: 3",
            "maxSkew: 1.5",
            "invalid value: expected a whole number",
        ),
    ];
    for (written, replacement, message) in cases {
        let text = SCENARIO.replace(written, replacement);

        let error = error(&text, replacement);

        assert_eq!(error.message, message, "{error}");
    }
}
