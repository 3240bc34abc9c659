//! String fields of the Kubernetes objects in a scenario: taint and toleration keys and values,
//! `topologyKey` and `namespaces` reject a value that YAML reads as a number or a boolean.

use std::path::Path;

use autoscale_sim_scenario::{Overrides, Scenario, ScenarioError, load_str};

/// A scenario with a tainted node group, a tolerating pod, a spread constraint and a pod
/// affinity term, whose string fields are each written once, quoted where YAML would read a
/// number or a boolean.
const SCENARIO: &str = r#"name: strings
seed: 1
duration: 1h
workloads:
  - kind: Deployment
    metadata: {name: web}
    replicas: 2
    template:
      metadata: {labels: {app: web}}
      spec:
        containers: [{name: web, resources: {requests: {cpu: 100m}}}]
        tolerations:
          - {key: dedicated, operator: Equal, value: "7", effect: NoSchedule}
          - {key: "true", operator: Exists}
        topologySpreadConstraints:
          - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, labelSelector: {matchLabels: {app: web}}}
        affinity:
          podAffinity:
            preferredDuringSchedulingIgnoredDuringExecution:
              - weight: 10
                podAffinityTerm: {topologyKey: kubernetes.io/hostname, namespaces: [default, "2024"], labelSelector: {matchLabels: {app: web}}}
policies:
  - name: cluster-autoscaler
    clusterAutoscaler:
      nodeGroups:
        - name: tainted
          instanceType: m5.large
          minSize: 1
          maxSize: 3
          taints: [{key: "42", value: "false", effect: NoSchedule}]
"#;

const SPEC: &str = "workloads[0].template.spec";

fn load(text: &str) -> Scenario {
    load_str(text, Path::new("strings.yaml"), &Overrides::default())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Returns the error of a scenario that should be rejected for `case`.
fn error(text: &str, case: &str) -> ScenarioError {
    match load_str(text, Path::new("strings.yaml"), &Overrides::default()) {
        Ok(_) => panic!("the scenario loads, but it should be rejected for {case}"),
        Err(error) => error,
    }
}

#[test]
fn quoted_strings_load() {
    let scenario = load(SCENARIO);

    let spec = &scenario.config.deployments[0].spec;
    assert_eq!(spec.tolerations[0].value, "7");
    assert_eq!(spec.tolerations[1].key, "true");
    assert_eq!(
        spec.pod_affinity.preferred[0].pod_affinity_term.namespaces,
        ["default", "2024"]
    );
}

#[test]
fn unquoted_numbers_and_booleans_rejected() {
    let taints = "policies[0].clusterAutoscaler.nodeGroups[0].taints[0]";
    let term =
        "affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm";
    // (the field as written, the field unquoted, its path, what YAML reads, the message start)
    let cases = [
        (
            r#"value: "7""#,
            "value: 7",
            format!("{SPEC}.tolerations[0].value"),
            "a number",
            "taint and toleration keys and values are strings",
        ),
        (
            r#"key: "true""#,
            "key: true",
            format!("{SPEC}.tolerations[1].key"),
            "a boolean",
            "taint and toleration keys and values are strings",
        ),
        (
            r#"key: "42""#,
            "key: 42",
            format!("{taints}.key"),
            "a number",
            "taint and toleration keys and values are strings",
        ),
        (
            r#"value: "false""#,
            "value: false",
            format!("{taints}.value"),
            "a boolean",
            "taint and toleration keys and values are strings",
        ),
        (
            "topologyKey: topology.kubernetes.io/zone",
            "topologyKey: 5",
            format!("{SPEC}.topologySpreadConstraints[0].topologyKey"),
            "a number",
            "a topologyKey is a string, the key of a node label",
        ),
        (
            "topologyKey: kubernetes.io/hostname",
            "topologyKey: yes",
            format!("{SPEC}.{term}.topologyKey"),
            "a boolean",
            "a topologyKey is a string, the key of a node label",
        ),
        (
            r#"[default, "2024"]"#,
            "[default, 2024]",
            format!("{SPEC}.{term}.namespaces[1]"),
            "a number",
            "namespaces are strings",
        ),
    ];
    for (written, unquoted, field, found, description) in cases {
        assert_eq!(SCENARIO.matches(written).count(), 1, "{written}");
        let text = SCENARIO.replace(written, unquoted);

        let error = error(&text, unquoted);

        let value = unquoted
            .rsplit([' ', '[', ','])
            .next()
            .unwrap()
            .trim_end_matches(']');
        assert_eq!(error.field.as_deref(), Some(field.as_str()), "{error}");
        assert_eq!(error.value.as_deref(), Some(value), "{error}");
        assert_eq!(
            error.message,
            format!("{description}, but YAML reads this one as {found}"),
            "{error}"
        );
        assert_eq!(error.fix, Some(format!("quote it: \"{value}\"")), "{error}");
    }
}
