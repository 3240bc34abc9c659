//! String fields of the Kubernetes objects in a scenario: taint and toleration keys and values,
//! `topologyKey` and `namespaces` reject a value that YAML reads as a number or a boolean.

mod support;

use autoscale_sim_scenario::{Scenario, ScenarioError};

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
    support::load_as(text, "strings.yaml")
}

/// Returns the error of a scenario that should be rejected for `case`.
fn error(text: &str, case: &str) -> ScenarioError {
    support::rejection_of(text, "strings.yaml", case)
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

/// A scenario with labels, a node selector, a label selector, node group labels and a NodePool
/// whose label keys and values are all valid.
const LABELS: &str = r#"name: labels
seed: 1
duration: 1h
workloads:
  - kind: Deployment
    metadata: {name: web}
    replicas: 2
    template:
      metadata: {labels: {app: web, example.com/tier: front-end_1.0, empty: ""}}
      spec:
        nodeSelector: {kubernetes.io/os: linux}
        containers: [{name: web, resources: {requests: {cpu: 100m}}}]
  - kind: PodDisruptionBudget
    metadata: {name: web}
    spec:
      selector: {matchLabels: {app: web}}
      maxUnavailable: 1
policies:
  - name: cluster-autoscaler
    clusterAutoscaler:
      nodeGroups:
        - {name: general, instanceType: m5.large, minSize: 1, maxSize: 3, labels: {pool: general}}
  - name: karpenter
    karpenter:
      nodePools:
        - apiVersion: karpenter.sh/v1
          kind: NodePool
          metadata: {name: default}
          spec:
            template:
              metadata: {labels: {team: blue}}
              spec:
                requirements:
                  - {key: karpenter.k8s.aws/instance-category, operator: In, values: [c, m]}
"#;

const VALUE_FIX: &str = "write at most 63 ASCII letters, digits, '-', '_' or '.', beginning and ending with a letter or digit, or \"\" for an empty value";

const KEY_FIX: &str = "write a key such as app or example.com/tier: an optional lowercase DNS prefix and '/', then at most 63 ASCII letters, digits, '-', '_' or '.', beginning and ending with a letter or digit";

#[test]
fn valid_labels_load() {
    let scenario = load(LABELS);

    let spec = &scenario.config.deployments[0].spec;
    assert_eq!(spec.labels["example.com/tier"], "front-end_1.0");
    assert_eq!(spec.labels["empty"], "");
}

#[test]
fn invalid_label_values_rejected() {
    let pod_labels = "workloads[0].template.metadata.labels";
    let only_alphanumerics =
        "it contains ' ', but only ASCII letters, digits, '-', '_' and '.' are allowed";
    let long = "x".repeat(64);
    // (the entry as written, its replacement, the field, the value, the rule broken)
    let cases = [
        (
            "app: web,",
            "app: \"a b!\",".to_string(),
            format!("{pod_labels}.app"),
            "a b!",
            only_alphanumerics.to_string(),
        ),
        (
            "app: web,",
            "app: \"-5\",".to_string(),
            format!("{pod_labels}.app"),
            "-5",
            "it must begin with an ASCII letter or digit".to_string(),
        ),
        (
            "app: web,",
            format!("app: {long},"),
            format!("{pod_labels}.app"),
            long.as_str(),
            "it has 64 characters, more than the maximum of 63".to_string(),
        ),
        (
            "kubernetes.io/os: linux",
            "kubernetes.io/os: linux_".to_string(),
            "workloads[0].template.spec.nodeSelector.kubernetes.io/os".to_string(),
            "linux_",
            "it must end with an ASCII letter or digit".to_string(),
        ),
        (
            "matchLabels: {app: web}",
            "matchLabels: {app: \"web!\"}".to_string(),
            "workloads[1].spec.selector.matchLabels.app".to_string(),
            "web!",
            "it contains '!', but only ASCII letters, digits, '-', '_' and '.' are allowed"
                .to_string(),
        ),
        (
            "labels: {pool: general}",
            "labels: {pool: \"general pool\"}".to_string(),
            "policies[0].clusterAutoscaler.nodeGroups[0].labels.pool".to_string(),
            "general pool",
            only_alphanumerics.to_string(),
        ),
        (
            "labels: {team: blue}",
            "labels: {team: \"blue team\"}".to_string(),
            "policies[1].karpenter.nodePools[0].spec.template.metadata.labels.team".to_string(),
            "blue team",
            only_alphanumerics.to_string(),
        ),
        (
            "values: [c, m]",
            "values: [c, \"m m\"]".to_string(),
            "policies[1].karpenter.nodePools[0].spec.template.spec.requirements[0].values[1]"
                .to_string(),
            "m m",
            only_alphanumerics.to_string(),
        ),
    ];
    for (written, replacement, field, value, rule) in cases {
        assert_eq!(LABELS.matches(written).count(), 1, "{written}");
        let text = LABELS.replace(written, &replacement);

        let error = error(&text, &replacement);

        assert_eq!(error.field.as_deref(), Some(field.as_str()), "{error}");
        assert_eq!(error.value.as_deref(), Some(value), "{error}");
        assert_eq!(
            error.message,
            format!("invalid label value: {rule}"),
            "{error}"
        );
        assert_eq!(error.fix.as_deref(), Some(VALUE_FIX), "{error}");
    }
}

#[test]
fn invalid_label_keys_rejected() {
    let pod_labels = "workloads[0].template.metadata.labels";
    // (the entry as written, its replacement, the field, the key, the rule broken)
    let cases = [
        (
            "app: web,",
            "\"bad key\": web,",
            format!("{pod_labels}.bad key"),
            "bad key",
            "it contains ' ', but only ASCII letters, digits, '-', '_' and '.' are allowed",
        ),
        (
            "app: web,",
            "Example.com/app: web,",
            format!("{pod_labels}.Example.com/app"),
            "Example.com/app",
            "the prefix \"Example.com\" is not a DNS subdomain: lowercase letters, digits, '-' and '.', with each part between dots beginning and ending with a letter or digit",
        ),
        (
            "kubernetes.io/os: linux",
            "kubernetes.io/os/x: linux",
            "workloads[0].template.spec.nodeSelector.kubernetes.io/os/x".to_string(),
            "kubernetes.io/os/x",
            "it contains more than one '/'",
        ),
        (
            "matchLabels: {app: web}",
            "matchLabels: {example.com/: web}",
            "workloads[1].spec.selector.matchLabels.example.com/".to_string(),
            "example.com/",
            "the name after '/' is empty",
        ),
        (
            "key: karpenter.k8s.aws/instance-category",
            "key: karpenter.k8s.aws/-category",
            "policies[1].karpenter.nodePools[0].spec.template.spec.requirements[0].key".to_string(),
            "karpenter.k8s.aws/-category",
            "the name after '/' must begin with an ASCII letter or digit",
        ),
    ];
    for (written, replacement, field, key, rule) in cases {
        assert_eq!(LABELS.matches(written).count(), 1, "{written}");
        let text = LABELS.replace(written, replacement);

        let error = error(&text, replacement);

        assert_eq!(error.field.as_deref(), Some(field.as_str()), "{error}");
        assert_eq!(error.value.as_deref(), Some(key), "{error}");
        assert_eq!(
            error.message,
            format!("invalid label key: {rule}"),
            "{error}"
        );
        assert_eq!(error.fix.as_deref(), Some(KEY_FIX), "{error}");
    }
}

#[test]
fn null_label_value_rejected() {
    for replacement in ["app: null,", "app: ,", "app: ~,"] {
        let text = LABELS.replace("app: web,", replacement);

        let error = error(&text, replacement);

        assert_eq!(
            error.field.as_deref(),
            Some("workloads[0].template.metadata.labels.app"),
            "{error}"
        );
        assert_eq!(
            error.message, "a label value is a string and cannot be null",
            "{error}"
        );
        assert_eq!(
            error.fix.as_deref(),
            Some("write \"\" for an empty value, or write the value"),
            "{error}"
        );
    }
}
