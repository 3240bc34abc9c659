//! Karpenter disruption driven from scenario files: a timed NodePool update that drifts nodes,
//! `expireAfter`, the `version` setting, and the errors for bad values of those fields.

use std::path::Path;

use autoscale_sim_engine::SimDuration;

use autoscale_sim_scenario::{Overrides, Scenario, load_str};
use autoscale_sim_sim::{PolicySpec, RunOutput, Simulation};

mod support;
use support::TempFolder;

fn scenario(yaml: &str) -> Scenario {
    load_str(yaml, Path::new("karpenter.yaml"), &Overrides::default())
        .unwrap_or_else(|e| panic!("{e}"))
}

fn error(yaml: &str) -> String {
    load_str(yaml, Path::new("karpenter.yaml"), &Overrides::default())
        .expect_err("the scenario is rejected")
        .to_string()
}

fn run(scenario: &Scenario) -> RunOutput {
    Simulation::new(scenario.config.clone())
        .unwrap()
        .run(&scenario.policies[0])
}

/// Four pods of 1.5 CPU on an m5 NodePool, which a NodePool update moves to c5 at 2 h.
const DRIFT: &str = r#"
name: karpenter-drift
seed: 1
duration: 4h
cloud:
  launchLatency: {distribution: fixed, mean: 40s}
workloads:
  - kind: Deployment
    metadata: {name: api}
    replicas: 4
    template:
      spec:
        containers: [{name: api, resources: {requests: {cpu: 1500m, memory: 2Gi}}}]
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
            disruption: {budgets: [{nodes: "100%"}]}
      nodePoolUpdates:
        - at: 2h
          nodePool:
            apiVersion: karpenter.sh/v1
            kind: NodePool
            metadata: {name: default}
            spec:
              template:
                spec:
                  requirements:
                    - {key: karpenter.k8s.aws/instance-family, operator: In, values: [c5]}
              disruption: {budgets: [{nodes: "100%"}]}
"#;

#[test]
fn requirement_update_drifts_nodes() {
    let output = run(&scenario(DRIFT));

    let before: Vec<_> = output
        .decisions
        .iter()
        .filter(|d| d.action == "launch" && d.time_ms < 7_200_000)
        .collect();
    let after: Vec<_> = output
        .decisions
        .iter()
        .filter(|d| d.action == "launch" && d.time_ms >= 7_200_000)
        .collect();
    let drifted: Vec<_> = output
        .decisions
        .iter()
        .filter(|d| d.action == "delete" && d.reason == "Drifted")
        .collect();
    assert!(!before.is_empty());
    assert!(before.iter().all(|d| d.instance_type.starts_with("m5.")));
    assert!(!after.is_empty());
    assert!(after.iter().all(|d| d.instance_type.starts_with("c5.")));
    assert!(
        after
            .iter()
            .all(|d| d.detail.starts_with("Drifted: replacement by drift"))
    );
    assert_eq!(drifted.len(), before.len());
    assert_eq!(
        output.report.disruptions_by_reason["Drifted"],
        before.len() as u32
    );
    assert_eq!(output.report.pods_pending_at_end, 0);
}

#[test]
fn annotated_nodes_do_not_drift() {
    // The same update drifts the nodes, but the NodePool's template annotates them with
    // do-not-disrupt, so Drift replaces none of them and each gets a disruption-blocked note.
    let pinned = DRIFT.replacen(
        "            template:\n              spec:",
        "            template:\n              metadata:\n                annotations: {karpenter.sh/do-not-disrupt: \"true\"}\n              spec:",
        1,
    );
    assert_ne!(pinned, DRIFT);
    let output = run(&scenario(&pinned));

    let launched: Vec<_> = output
        .decisions
        .iter()
        .filter(|d| d.action == "launch")
        .collect();
    let blocked: Vec<_> = output
        .decisions
        .iter()
        .filter(|d| {
            d.action == "disruption-blocked"
                && d.detail == "the node has the karpenter.sh/do-not-disrupt annotation"
        })
        .collect();
    assert!(!launched.is_empty());
    assert!(launched.iter().all(|d| d.time_ms < 7_200_000));
    assert!(launched.iter().all(|d| d.instance_type.starts_with("m5.")));
    assert_eq!(blocked.len(), launched.len());
    assert!(!output.report.disruptions_by_reason.contains_key("Drifted"));
}

#[test]
fn drift_drain_waits_for_do_not_disrupt_duration() {
    // The pods, bound at 41 s, are protected for 3 h after that, and the NodePools have a 2 h
    // terminationGracePeriod, so Drift may pick their node at 2 h. Its drain, from 2 h 0 min
    // 40 s, leaves the pods in place until their protection ends at 3 h 0 min 41 s, and evicts
    // them at the next 5 s retry.
    let protected = protected_for("3h")
        .replace("duration: 4h", "duration: 5h")
        .replace(
            "\n                requirements:",
            "\n                terminationGracePeriod: 2h\n                requirements:",
        )
        .replace(
            "\n                  requirements:",
            "\n                  terminationGracePeriod: 2h\n                  requirements:",
        );
    let output = run(&scenario(&protected));

    let times = |action: &str| -> Vec<u64> {
        output
            .decisions
            .iter()
            .filter(|d| d.action == action)
            .map(|d| d.time_ms)
            .collect()
    };
    assert_eq!(output.report.disruptions_by_reason["Drifted"], 1);
    assert_eq!(times("drain-blocked"), [7_240_000]);
    let blocked = output
        .decisions
        .iter()
        .find(|d| d.action == "drain-blocked")
        .expect("a drain-blocked entry");
    assert_eq!(
        blocked.detail,
        "4 pods wait: 4 protected by karpenter.sh/do-not-disrupt until 0d03:00:41.000; retried every 5 s; they are deleted by 0d04:00:40.000"
    );
    assert_eq!(times("evict"), [10_845_000; 4]);
    let note = output
        .decisions
        .iter()
        .find(|d| d.action == "disruption-blocked" && d.detail.starts_with("pod "))
        .expect("a note on the protected pod");
    assert_eq!(
        note.detail,
        "pod default/api-pod-0 has the karpenter.sh/do-not-disrupt annotation, which protects it until 0d03:00:41.000"
    );
}

/// [`DRIFT`] with its pods annotated do-not-disrupt set to `value`.
fn protected_for(value: &str) -> String {
    DRIFT.replace(
        "    template:\n      spec:\n        containers",
        &format!(
            "    template:\n      metadata:\n        annotations: {{karpenter.sh/do-not-disrupt: \"{value}\"}}\n      spec:\n        containers"
        ),
    )
}

#[test]
fn do_not_disrupt_duration_read_as_go() {
    // Go's time.ParseDuration takes fractions and nanoseconds, and rejects spaces.
    let protection = |value: &str| {
        scenario(&protected_for(value)).config.deployments[0]
            .spec
            .do_not_disrupt_for
    };
    assert_eq!(protection("1.5h"), Some(SimDuration::from_mins(90)));
    assert_eq!(protection("2h0.5m"), Some(SimDuration::from_secs(7230)));
    assert_eq!(protection("1ns"), Some(SimDuration::from_millis(1)));
    let spaced = error(&protected_for(" 30m"));
    assert!(spaced.contains("as Go reads it"), "{spaced}");
    let days = error(&protected_for("2d"));
    assert!(days.contains("such as \"48h\""), "{days}");
    let huge = error(&protected_for("768614336404564651d"));
    assert!(huge.contains("such as \"30m\""), "{huge}");
}

/// The EC2NodeClass of [`class_drift`] and its update at 2 h: a new AMI selector and maxPods.
const NODE_CLASSES: &str = r#"      nodeClasses:
        - apiVersion: karpenter.k8s.aws/v1
          kind: EC2NodeClass
          metadata: {name: base}
          spec:
            amiSelectorTerms: [{alias: al2023@v20260101}]
            kubelet: {maxPods: 30}
      nodeClassUpdates:
        - at: 2h
          nodeClass:
            apiVersion: karpenter.k8s.aws/v1
            kind: EC2NodeClass
            metadata: {name: base}
            spec:
              amiSelectorTerms: [{alias: al2023@v20260201}]
              kubelet: {maxPods: 40}
"#;

/// [`DRIFT`] with its NodePool naming an EC2NodeClass, which changes at 2 h, and no NodePool
/// update.
fn class_drift() -> String {
    let start = DRIFT
        .find("      nodePoolUpdates:")
        .expect("DRIFT has NodePool updates");
    let yaml = DRIFT[..start].replace(
        "              spec:\n                requirements:",
        "              spec:\n                nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: base}\n                requirements:",
    );
    assert_ne!(yaml, DRIFT[..start]);
    yaml + NODE_CLASSES
}

#[test]
fn node_class_update_drifts_nodes() {
    let scenario = scenario(&class_drift());
    let output = run(&scenario);

    let PolicySpec::Karpenter(config) = &scenario.policies[0] else {
        panic!("expected Karpenter");
    };
    assert_eq!(config.node_pool_updates.len(), 1);
    let update = &config.node_pool_updates[0];
    assert_eq!(update.at, SimDuration::from_hours(2));
    assert_eq!(update.pool.kubelet.max_pods, Some(40));
    assert_eq!(update.pool.node_class_revision, 1);

    let before = output
        .decisions
        .iter()
        .filter(|d| d.action == "launch" && d.time_ms < 7_200_000)
        .count();
    let drifted = output
        .decisions
        .iter()
        .filter(|d| d.action == "delete" && d.reason == "Drifted")
        .count();
    assert!(before > 0);
    assert_eq!(drifted, before);
    assert_eq!(output.report.pods_pending_at_end, 0);
}

/// [`class_drift`] without its class update, run for 50 hours, with the class selecting
/// `alias` and AMI releases every 90 minutes from 1 h.
fn ami_release_drift(alias: &str) -> String {
    let base = class_drift();
    let start = base
        .find("      nodeClassUpdates:")
        .expect("class_drift has a class update");
    let yaml = base[..start]
        .replace("al2023@v20260101", alias)
        .replace("duration: 4h\n", "duration: 50h\n");
    yaml + "      amiReleases: {every: 90m, first: 1h}\n"
}

#[test]
fn ami_release_drifts_latest_class() {
    let scenario = scenario(&ami_release_drift("al2023@latest"));
    let output = run(&scenario);

    let PolicySpec::Karpenter(config) = &scenario.policies[0] else {
        panic!("expected Karpenter");
    };
    // Karpenter resolves the alias again one reconcile minute after its 24-hour cache expires.
    // It finds the releases from 1 h to 23 h 30 m at 24 h 1 min, and the next ones at 48 h 2 min.
    let times: Vec<SimDuration> = config.node_pool_updates.iter().map(|u| u.at).collect();
    assert_eq!(
        times,
        [SimDuration::from_mins(1441), SimDuration::from_mins(2882)]
    );
    assert_eq!(config.node_pool_updates[1].pool.node_class_revision, 2);
    assert!(scenario.warnings.is_empty(), "{:?}", scenario.warnings);
    let drift_times: Vec<u64> = output
        .decisions
        .iter()
        .filter(|d| d.action == "delete" && d.reason == "Drifted")
        .map(|d| d.time_ms)
        .collect();
    let first_seen = 1441 * 60_000;
    let second_seen = 2882 * 60_000;
    assert!(drift_times.iter().all(|t| *t >= first_seen));
    assert!(
        drift_times
            .iter()
            .any(|t| (first_seen..first_seen + 3_600_000).contains(t))
    );
    assert!(drift_times.iter().any(|t| *t >= second_seen));
}

#[test]
fn ami_release_without_drift() {
    let short_run = ami_release_drift("al2023@latest").replace("duration: 50h\n", "duration: 4h\n");
    let cases = [
        (
            ami_release_drift("al2023@v20260101"),
            "karpenter.yaml: policies[0].karpenter.amiReleases: no EC2NodeClass selects an @latest alias in amiSelectorTerms, so the releases drift no node",
        ),
        (
            short_run,
            "karpenter.yaml: policies[0].karpenter.amiReleases: Karpenter resolves @latest aliases at the start and then every 1d1m, so it sees none of the 2 releases before the end of the run (4h); run for longer than 1d1m to see one",
        ),
    ];

    for (yaml, warning) in cases {
        let scenario = scenario(&yaml);
        let output = run(&scenario);

        let PolicySpec::Karpenter(config) = &scenario.policies[0] else {
            panic!("expected Karpenter");
        };
        assert!(config.node_pool_updates.is_empty(), "{warning}");
        assert!(output.decisions.iter().all(|d| d.reason != "Drifted"));
        assert_eq!(scenario.warnings, [warning]);
    }
}

#[test]
fn bad_ami_alias_rejected() {
    let message = error(&ami_release_drift("amazonlinux@latest"));

    assert!(
        message.contains(
            "field policies[0].karpenter.nodeClasses[0].spec.amiSelectorTerms[0].alias, value \"amazonlinux@latest\": invalid AMI alias"
        ),
        "{message}"
    );
}

#[test]
fn pool_update_keeps_class_settings() {
    // A NodePool update after the class change takes the class as it is then.
    let base = class_drift();
    let yaml = base.replace(
        "      nodeClassUpdates:\n",
        "      nodePoolUpdates:\n        - at: 3h\n          nodePool:\n            apiVersion: karpenter.sh/v1\n            kind: NodePool\n            metadata: {name: default}\n            spec:\n              template:\n                spec:\n                  nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: base}\n                  requirements:\n                    - {key: karpenter.k8s.aws/instance-family, operator: In, values: [m5, c5]}\n              disruption: {budgets: [{nodes: \"100%\"}]}\n      nodeClassUpdates:\n",
    );
    assert_ne!(yaml, base);

    let scenario = scenario(&yaml);

    let PolicySpec::Karpenter(config) = &scenario.policies[0] else {
        panic!("expected Karpenter");
    };
    let times: Vec<SimDuration> = config.node_pool_updates.iter().map(|u| u.at).collect();
    assert_eq!(
        times,
        [SimDuration::from_hours(2), SimDuration::from_hours(3)]
    );
    let later = &config.node_pool_updates[1].pool;
    assert_eq!(later.kubelet.max_pods, Some(40));
    assert_eq!(later.node_class_revision, 1);
    assert_eq!(later.node_class.as_deref(), Some("base"));
}

#[test]
fn unknown_class_update_rejected() {
    let base = class_drift();
    let yaml = base.replacen(
        "metadata: {name: base}\n            spec:",
        "metadata: {name: other}\n            spec:",
        1,
    );
    assert_ne!(yaml, base);

    let message = error(&yaml);

    assert!(
        message.contains("policies[0].karpenter.nodeClassUpdates[0].nodeClass.metadata.name"),
        "{message}"
    );
    assert!(
        message.contains("the update names no EC2NodeClass of nodeClasses or manifests"),
        "{message}"
    );
    assert!(message.contains("name one of: base"), "{message}");
}

#[test]
fn expire_after_parsed() {
    let yaml = DRIFT.replace(
        "            template:\n              spec:\n                requirements:\n                  - {key: karpenter.k8s.aws/instance-family, operator: In, values: [m5]}",
        "            template:\n              spec:\n                expireAfter: 1h\n                requirements:\n                  - {key: karpenter.k8s.aws/instance-family, operator: In, values: [m5]}",
    );
    assert_ne!(yaml, DRIFT);

    let output = run(&scenario(&yaml));

    let expired: Vec<_> = output
        .decisions
        .iter()
        .filter(|d| d.action == "delete" && d.reason == "Expired")
        .collect();
    assert!(!expired.is_empty());
    assert!(expired[0].time_ms >= 3_600_000);
    assert!(expired[0].time_ms < 3_700_000);
    assert!(expired[0].detail.contains("with expireAfter 1h"));
}

#[test]
fn unknown_version_rejected() {
    let yaml = DRIFT.replace("    karpenter:\n", "    karpenter:\n      version: v1.12\n");

    let message = error(&yaml);

    assert!(message.contains("karpenter.yaml:"), "{message}");
    assert!(
        message.contains("policies[0].karpenter.version"),
        "{message}"
    );
    assert!(message.contains("unknown Karpenter version"), "{message}");
    assert!(message.contains("write v1.13 or v1.14"), "{message}");
}

#[test]
fn balanced_needs_v1_14() {
    let yaml = DRIFT.replacen(
        "disruption: {budgets: [{nodes: \"100%\"}]}",
        "disruption: {consolidationPolicy: Balanced}",
        1,
    );

    let message = error(&yaml);
    let accepted =
        scenario(&yaml.replace("    karpenter:\n", "    karpenter:\n      version: v1.14\n"));

    assert!(
        message.contains("policies[0].karpenter.nodePools[0].spec.disruption.consolidationPolicy"),
        "{message}"
    );
    assert!(
        message.contains("the Balanced consolidation policy needs Karpenter v1.14"),
        "{message}"
    );
    assert_eq!(accepted.policies.len(), 1);
}

#[test]
fn balanced_update_needs_v1_14() {
    // Only the update's line has this indentation, so the NodePool itself stays as it is.
    let yaml = DRIFT.replace(
        "              disruption: {budgets: [{nodes: \"100%\"}]}\n",
        "              disruption: {consolidationPolicy: Balanced}\n",
    );
    assert_ne!(yaml, DRIFT);

    let message = error(&yaml);

    assert!(
        message.contains(
            "policies[0].karpenter.nodePoolUpdates[0].nodePool.spec.disruption.consolidationPolicy"
        ),
        "{message}"
    );
    assert!(
        message.contains("the Balanced consolidation policy needs Karpenter v1.14"),
        "{message}"
    );
}

#[test]
fn update_warning_given_once() {
    let yaml = DRIFT.replace(
        "                spec:\n                  requirements:",
        "                spec:\n                  startupTaints: [{key: example.com/a, effect: NoSchedule}]\n                  requirements:",
    );
    assert_ne!(yaml, DRIFT);

    let scenario = scenario(&yaml);

    assert_eq!(
        scenario.warnings,
        [
            "karpenter.yaml: field policies[0].karpenter.nodePoolUpdates[0].nodePool.spec.template.spec.startupTaints: NodePool default: startupTaints are accepted but not modelled yet"
        ]
    );
}

#[test]
fn update_of_unknown_pool_rejected() {
    let yaml = DRIFT.replacen(
        "metadata: {name: default}\n            spec:\n              template",
        "metadata: {name: other}\n            spec:\n              template",
        1,
    );
    assert_ne!(yaml, DRIFT);

    let message = error(&yaml);

    assert!(
        message.contains("policies[0].karpenter.nodePoolUpdates[0].nodePool.metadata.name"),
        "{message}"
    );
    assert!(
        message.contains("the update names no NodePool of nodePools"),
        "{message}"
    );
    assert!(message.contains("name one of: default"), "{message}");
}

#[test]
fn bad_update_time_rejected() {
    let yaml = DRIFT.replace("        - at: 2h\n", "        - at: soon\n");

    let message = error(&yaml);

    assert!(
        message.contains("policies[0].karpenter.nodePoolUpdates[0].at"),
        "{message}"
    );
    assert!(message.contains("soon"), "{message}");
}

#[test]
fn update_after_run_end_warns() {
    let yaml = DRIFT.replace("        - at: 2h\n", "        - at: 4h\n");
    assert_ne!(yaml, DRIFT);

    let late = scenario(&yaml);
    let on_time = scenario(DRIFT);

    assert_eq!(
        late.warnings,
        [
            "karpenter.yaml:28:15: field policies[0].karpenter.nodePoolUpdates[0].at: the update of NodePool default at 4h comes at or after the end of the run (4h), so it never applies"
        ]
    );
    assert!(on_time.warnings.is_empty(), "{:?}", on_time.warnings);

    // A late EC2NodeClass update is named by its own list.
    let class_yaml = class_drift().replace("        - at: 2h\n", "        - at: 5h\n");
    assert_ne!(class_yaml, class_drift());
    let late_class = scenario(&class_yaml);
    assert_eq!(late_class.warnings.len(), 1, "{:?}", late_class.warnings);
    assert!(
        late_class.warnings[0].contains(
            "field policies[0].karpenter.nodeClassUpdates[0].at: the update of EC2NodeClass base at 5h comes at or after the end of the run (4h)"
        ),
        "{:?}",
        late_class.warnings
    );
}

#[test]
fn preference_policy_parsed() {
    let ignore = DRIFT.replace(
        "    karpenter:\n",
        "    karpenter:\n      preferencePolicy: Ignore\n",
    );
    let bad = DRIFT.replace(
        "    karpenter:\n",
        "    karpenter:\n      preferencePolicy: Skip\n",
    );
    assert_ne!(ignore, DRIFT);

    let PolicySpec::Karpenter(config) = &scenario(&ignore).policies[0] else {
        panic!("expected Karpenter");
    };
    let message = error(&bad);

    assert_eq!(
        config.preference_policy,
        autoscale_sim_policy::PreferencePolicy::Ignore
    );
    assert!(
        message.contains("policies[0].karpenter.preferencePolicy, value \"Skip\""),
        "{message}"
    );
    assert!(message.contains("write Respect or Ignore"), "{message}");
}

#[test]
fn min_values_policy_parsed() {
    let best_effort = DRIFT.replace(
        "    karpenter:\n",
        "    karpenter:\n      minValuesPolicy: BestEffort\n",
    );
    let bad = DRIFT.replace(
        "    karpenter:\n",
        "    karpenter:\n      minValuesPolicy: Loose\n",
    );
    assert_ne!(best_effort, DRIFT);

    let PolicySpec::Karpenter(config) = &scenario(&best_effort).policies[0] else {
        panic!("expected Karpenter");
    };
    let PolicySpec::Karpenter(default) = &scenario(DRIFT).policies[0] else {
        panic!("expected Karpenter");
    };
    let message = error(&bad);

    assert_eq!(
        config.min_values_policy,
        autoscale_sim_policy::MinValuesPolicy::BestEffort
    );
    assert_eq!(
        default.min_values_policy,
        autoscale_sim_policy::MinValuesPolicy::Strict
    );
    assert!(
        message.contains("policies[0].karpenter.minValuesPolicy, value \"Loose\""),
        "{message}"
    );
    assert!(message.contains("write Strict or BestEffort"), "{message}");
}

/// One Deployment whose pods must run on r5, and a NodePool over m5, c5 and r5 that wants 3
/// instance families, under `policy_fields`.
fn pinned_pods(policy_fields: &str) -> String {
    format!(
        r#"
name: minvalues
seed: 1
duration: 1h
workloads:
  - kind: Deployment
    metadata: {{name: mem}}
    replicas: 2
    template:
      spec:
        nodeSelector: {{karpenter.k8s.aws/instance-family: r5}}
        containers: [{{name: m, resources: {{requests: {{cpu: "1", memory: 4Gi}}}}}}]
policies:
  - name: karpenter
    karpenter:{policy_fields}
      nodePools:
        - apiVersion: karpenter.sh/v1
          kind: NodePool
          metadata: {{name: default}}
          spec:
            template:
              spec:
                requirements:
                  - {{key: karpenter.k8s.aws/instance-family, operator: In, values: [m5, c5, r5], minValues: 3}}
"#
    )
}

#[test]
fn pinned_pods_below_min_values_warn() {
    let strict = scenario(&pinned_pods(""));
    let best_effort = scenario(&pinned_pods("\n      minValuesPolicy: BestEffort"));

    assert_eq!(
        strict.warnings,
        [
            "karpenter.yaml: workload mem: under policy karpenter, the instance types of NodePool default that can hold its pods have 1 value of karpenter.k8s.aws/instance-family, fewer than its minValues 3, so they will stay Pending; minValuesPolicy: BestEffort would relax the minimum"
        ]
    );
    assert!(
        best_effort.warnings.is_empty(),
        "{:?}",
        best_effort.warnings
    );
    assert_eq!(run(&strict).report.pods_pending_at_end, 2);
    assert_eq!(run(&best_effort).report.pods_pending_at_end, 0);
}

#[test]
fn spot_to_spot_gate_parsed() {
    let on = DRIFT.replace(
        "    karpenter:\n",
        "    karpenter:\n      featureGates: {spotToSpotConsolidation: true}\n",
    );

    let gated = scenario(&on);
    let default = scenario(DRIFT);

    let gate = |s: &Scenario| match &s.policies[0] {
        autoscale_sim_sim::PolicySpec::Karpenter(config) => config.spot_to_spot_consolidation,
        _ => panic!("not a karpenter policy"),
    };
    assert!(gate(&gated));
    assert!(!gate(&default));
}

#[test]
fn unknown_feature_gate_rejected() {
    let yaml = DRIFT.replace(
        "    karpenter:\n",
        "    karpenter:\n      featureGates: {drift: true}\n",
    );

    let message = error(&yaml);

    assert!(message.contains("drift"), "{message}");
}

/// Six StatefulSet pods spread over three zones (maxSkew 1) under a PodDisruptionBudget, on
/// nodes that expire every hour.
const SPREAD_AFTER_EXPIRY: &str = r#"
name: spread-after-expiry
seed: 9
duration: 4h
workloads:
  - kind: StatefulSet
    metadata: {name: db}
    replicas: 6
    podManagementPolicy: Parallel
    template:
      metadata: {labels: {app: db}}
      spec:
        terminationGracePeriodSeconds: 60
        containers: [{resources: {requests: {cpu: "1", memory: 2Gi}}}]
        topologySpreadConstraints:
          - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: db}}}
  - kind: PodDisruptionBudget
    metadata: {name: db}
    spec:
      selector: {matchLabels: {app: db}}
      minAvailable: 5
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
                expireAfter: 1h
                requirements:
                  - {key: karpenter.k8s.aws/instance-category, operator: In, values: [m]}
                  - {key: karpenter.k8s.aws/instance-generation, operator: Gt, values: ["5"]}
                  - {key: kubernetes.io/arch, operator: In, values: [amd64]}
            disruption: {consolidationPolicy: WhenEmptyOrUnderutilized, budgets: [{nodes: "100%"}]}
"#;

#[test]
fn zone_spread_pods_not_consolidated_into_a_loop() {
    // The candidates' own pods count nowhere in the consolidation simulation's topology, as in
    // Karpenter. When they counted at their old node, each node left after an expiry looked
    // deletable: its pods seemed to fit in the other zones, kube-scheduler's spread refused
    // them, and a new node came up in the same zone, every few minutes.
    let output = run(&scenario(SPREAD_AFTER_EXPIRY));

    let underutilized = output
        .report
        .disruptions_by_reason
        .get("Underutilized")
        .copied()
        .unwrap_or(0);
    assert_eq!(
        underutilized, 0,
        "{:?}",
        output.report.disruptions_by_reason
    );
    assert!(output.report.disruptions_by_reason["Expired"] >= 6);
    assert_eq!(output.report.pods_pending_at_end, 0);
}

#[test]
fn same_time_pool_updates_warn() {
    // A second update of the NodePool at 2 h, back to m5, replaces the first.
    let start = DRIFT
        .find("        - at: 2h")
        .expect("DRIFT has an update at 2h");
    let second = DRIFT[start..].replace("values: [c5]", "values: [m5]");
    let yaml = format!("{DRIFT}{second}");

    let scenario = scenario(&yaml);

    assert_eq!(
        scenario.warnings,
        [
            "karpenter.yaml:39:15: field policies[0].karpenter.nodePoolUpdates[1].at: policies[0].karpenter.nodePoolUpdates[0] also updates NodePool default at 2h; this later entry replaces it"
        ]
    );
    let output = run(&scenario);
    assert!(output.decisions.iter().all(|d| d.reason != "Drifted"));
}

/// Four do-not-disrupt pods on nodes that expire after 2 h and wait up to 10 min for them.
const PINNED_EXPIRY: &str = r#"
name: pinned-expiry
seed: 1
duration: 3h
cloud:
  launchLatency: {distribution: fixed, mean: 40s}
workloads:
  - kind: Deployment
    metadata: {name: web}
    replicas: 4
    template:
      metadata:
        annotations: {karpenter.sh/do-not-disrupt: "true"}
      spec:
        containers: [{name: web, resources: {requests: {cpu: "1", memory: 2Gi}}}]
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
                expireAfter: 2h
                terminationGracePeriod: 10m
                requirements:
                  - {key: karpenter.k8s.aws/instance-family, operator: In, values: [m6i]}
            disruption: {consolidateAfter: Never, budgets: [{nodes: "0"}]}
"#;

#[test]
fn expired_node_pods_replaced_at_once() {
    // The provisioner wakes when the expired node is tainted, so its pinned pods get a new
    // node one batch idle time (1 s) after the deletion, not when the old node is gone.
    let output = run(&scenario(PINNED_EXPIRY));

    let expired = output
        .decisions
        .iter()
        .find(|d| d.action == "delete" && d.reason == "Expired")
        .expect("the node expires");
    let next_launch = output
        .decisions
        .iter()
        .find(|d| d.action == "launch" && d.time_ms > expired.time_ms)
        .expect("a replacement is launched");
    assert_eq!(next_launch.time_ms, expired.time_ms + 1_000);
    let terminated = output
        .decisions
        .iter()
        .find(|d| d.action == "terminate" && d.node == expired.node)
        .expect("the expired node terminates");
    assert!(next_launch.time_ms < terminated.time_ms);
}

/// 30 pods for an hour, then 2, on m5.large and m5.xlarge nodes, with a budget that allows no
/// `Empty` disruptions. `VERSION` is replaced by the Karpenter version.
const EMPTY_BUDGET: &str = r#"
name: empty-budget
seed: 3
duration: 3h
loads:
  web:
    trace: {file: TRACE, end: hold}
workloads:
  - kind: Deployment
    metadata: {name: web}
    hpa: {load: web, targetPerReplica: 10, minReplicas: 1, maxReplicas: 40, scaleDownStabilization: 1m}
    template:
      spec:
        containers:
          - resources: {requests: {cpu: "1", memory: 2Gi}}
policies:
  - name: karpenter
    karpenter:
      version: VERSION
      nodePools:
        - apiVersion: karpenter.sh/v1
          kind: NodePool
          metadata: {name: default}
          spec:
            template:
              spec:
                requirements:
                  - {key: karpenter.k8s.aws/instance-family, operator: In, values: [m5]}
                  - {key: karpenter.k8s.aws/instance-size, operator: In, values: [large, xlarge]}
            disruption:
              consolidationPolicy: WhenEmptyOrUnderutilized
              consolidateAfter: 1m
              budgets: [{nodes: "0", reasons: [Empty]}, {nodes: "50%"}]
"#;

/// Runs [`EMPTY_BUDGET`] under `version` and returns the number of pods on each node that
/// consolidation deleted, in order.
fn pods_on_deleted_nodes(version: &str) -> Vec<u32> {
    let folder = TempFolder::new(&format!("empty-budget-{version}"));
    let mut text = String::from("timestamp_seconds,value\n");
    for minute in 0..180 {
        let value = if minute < 60 { 300 } else { 20 };
        text.push_str(&format!("{},{value}\n", minute * 60));
    }
    let trace = folder.write(&format!("{version}.csv"), &text);
    let yaml = EMPTY_BUDGET
        .replace("TRACE", &trace.display().to_string())
        .replace("VERSION", version);
    let output = run(&scenario(&yaml));

    output
        .decisions
        .iter()
        .filter(|d| d.action == "delete" && d.reason == "Underutilized")
        .map(|d| {
            let pods = d
                .detail
                .split(", ")
                .find_map(|part| part.split_once(" pods)").map(|(count, _)| count))
                .expect("a delete names its pod count");
            pods.parse().unwrap()
        })
        .collect()
}

#[test]
fn empty_budget_spares_empty_nodes_v1_14() {
    let v1_13 = pods_on_deleted_nodes("v1.13");
    let v1_14 = pods_on_deleted_nodes("v1.14");

    // v1.13's multi-node consolidation takes the empty nodes under Underutilized.
    assert_eq!(v1_13.iter().filter(|&&pods| pods == 0).count(), 8);
    // v1.14 leaves them to Emptiness, which the budget stops.
    assert!(!v1_14.is_empty());
    assert!(v1_14.iter().all(|&pods| pods > 0), "{v1_14:?}");
}
