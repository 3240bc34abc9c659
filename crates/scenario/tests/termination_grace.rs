//! A Karpenter NodePool's `terminationGracePeriod`: drift picks nodes whose pods block eviction,
//! and their pods are deleted so that each ends by the deadline, whatever their
//! PodDisruptionBudget or do-not-disrupt annotation (kubernetes-sigs/karpenter v1.13
//! `node/termination/terminator/terminator.go`).

use std::path::Path;

use autoscale_sim_scenario::{Overrides, Scenario, load_str};
use autoscale_sim_sim::{Decision, RunOutput, Simulation};

/// Four pods of 1.5 CPU with a 2-minute grace period, whose eviction `BLOCKER` forbids, on an
/// m5 NodePool with `GRACE` that an update moves to c5 at 2 h.
const DRIFT: &str = r#"
name: termination-grace
seed: 1
duration: 4h
cloud:
  launchLatency: {distribution: fixed, mean: 40s}
workloads:
  - kind: Deployment
    metadata: {name: api}
    replicas: 4
    template:
      metadata: {labels: {app: api}ANNOTATIONS}
      spec:
        terminationGracePeriodSeconds: 120
        containers: [{name: api, resources: {requests: {cpu: 1500m, memory: 2Gi}}}]
PDB
policies:
  - name: karpenter
    karpenter:
      nodePools:
        - apiVersion: karpenter.sh/v1
          kind: NodePool
          metadata: {name: default}
          spec:
            template:
              spec:GRACE
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
                spec:GRACE
                  requirements:
                    - {key: karpenter.k8s.aws/instance-family, operator: In, values: [c5]}
              disruption: {budgets: [{nodes: "100%"}]}
"#;

const DO_NOT_DISRUPT: &str = r#", annotations: {karpenter.sh/do-not-disrupt: "true"}"#;

const PDB: &str = "  - kind: PodDisruptionBudget
    metadata: {name: api}
    spec:
      selector: {matchLabels: {app: api}}
      maxUnavailable: 0";

/// Builds the scenario with `blocker` (do-not-disrupt annotations or a PodDisruptionBudget)
/// and, when `grace` is given, that `terminationGracePeriod` in both NodePool versions.
fn scenario(blocker: &str, grace: Option<&str>) -> String {
    let (annotations, pdb) = if blocker == PDB {
        ("", PDB)
    } else {
        (blocker, "")
    };
    let grace = grace
        .map(|g| format!("\n                terminationGracePeriod: {g}"))
        .unwrap_or_default();
    let update_grace = grace.replace("\n                ", "\n                  ");
    let text = DRIFT
        .replace("ANNOTATIONS", annotations)
        .replace("PDB\n", &format!("{pdb}\n"))
        .replacen("spec:GRACE", &format!("spec:{grace}"), 1)
        .replacen("spec:GRACE", &format!("spec:{update_grace}"), 1);
    assert!(!text.contains("GRACE"));
    assert!(!text.contains("PDB\n"));
    text
}

fn load(text: &str) -> Scenario {
    load_str(text, Path::new("grace.yaml"), &Overrides::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn run(text: &str) -> RunOutput {
    let scenario = load(text);
    Simulation::new(scenario.config.clone())
        .unwrap()
        .run(&scenario.policies[0])
}

/// Lists the decisions of `action` about node `default-0`.
fn of_first_node<'a>(output: &'a RunOutput, action: &str) -> Vec<&'a Decision> {
    output
        .decisions
        .iter()
        .filter(|d| d.action == action && d.node == "default-0")
        .collect()
}

#[test]
fn grace_period_forces_blocked_drain() {
    for blocker in [DO_NOT_DISRUPT, PDB] {
        let output = run(&scenario(blocker, Some("10m")));

        // Drift deletes the first node 40 s after the update, once its replacement is Ready.
        let deletes = of_first_node(&output, "delete");
        assert_eq!(deletes.len(), 1);
        assert_eq!(deletes[0].reason, "Drifted");
        assert_eq!(deletes[0].time_ms, 7_240_000);
        // Its pods go at 10 m less their own 2 m grace period, with those 2 m to end in, and
        // the instance terminates at the deadline.
        let evictions = of_first_node(&output, "evict");
        assert_eq!(evictions.len(), 4);
        for eviction in &evictions {
            assert_eq!(eviction.time_ms, 7_240_000 + 480_000);
            assert!(
                eviction
                    .detail
                    .starts_with("deleted at the node's terminationGracePeriod with 2m of grace"),
                "{}",
                eviction.detail
            );
        }
        let terminations = of_first_node(&output, "terminate");
        assert_eq!(terminations.len(), 1);
        assert_eq!(terminations[0].time_ms, 7_240_000 + 600_000);
        // The decision log records once that the drain waits, and until when.
        let blocked = of_first_node(&output, "drain-blocked");
        assert_eq!(blocked.len(), 1);
        assert_eq!(blocked[0].time_ms, 7_240_000);
        let cause = if blocker == PDB {
            "4 pods wait: 4 for a PodDisruptionBudget that allows no eviction now;"
        } else {
            "4 pods wait: 4 protected by karpenter.sh/do-not-disrupt;"
        };
        assert!(
            blocked[0].detail.starts_with(cause),
            "{}",
            blocked[0].detail
        );
        assert!(
            blocked[0]
                .detail
                .ends_with("; they are deleted by 0d02:10:40.000"),
            "{}",
            blocked[0].detail
        );
    }
}

#[test]
fn blocked_node_not_drifted_without_grace() {
    // Without terminationGracePeriod the blocking pods keep the node from being a drift
    // candidate, so it runs to the end of the run.
    for blocker in [DO_NOT_DISRUPT, PDB] {
        let output = run(&scenario(blocker, None));

        assert!(of_first_node(&output, "delete").is_empty());
        assert!(of_first_node(&output, "evict").is_empty());
    }
}

#[test]
fn grace_period_parsed() {
    let scenario = load(&scenario(PDB, Some("1h30m")));
    let autoscale_sim_sim::PolicySpec::Karpenter(config) = &scenario.policies[0] else {
        panic!("expected Karpenter");
    };

    assert_eq!(
        config.node_pools[0].termination_grace_period,
        Some(autoscale_sim_engine::SimDuration::from_secs(5400))
    );
    assert!(scenario.warnings.is_empty(), "{:?}", scenario.warnings);
}

#[test]
fn grace_period_in_days_rejected() {
    let text = scenario(PDB, Some("2d"));

    let error = load_str(&text, Path::new("grace.yaml"), &Overrides::default())
        .expect_err("the scenario is rejected")
        .to_string();

    assert!(
        error.contains(
            "field policies[0].karpenter.nodePools[0].spec.template.spec.terminationGracePeriod, value \"2d\": terminationGracePeriod takes hours, minutes and seconds only"
        ),
        "{error}"
    );
}
