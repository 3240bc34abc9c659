//! Checks the spot market's common random numbers. Every interruption notice either policy
//! received falls on its pool's fixed interruption schedule, and both policies see the same
//! interruptions in the pools they both use. Launches fail only inside the spells of a random
//! shortage process.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use autoscale_sim_cloud::SpotMarket;
use autoscale_sim_engine::SimTime;
use autoscale_sim_scenario::{Overrides, load, load_str};
use autoscale_sim_sim::{RunOutput, Simulation};

#[test]
fn interruptions_follow_pool_schedules() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/spot-diurnal.yaml");
    let scenario = load(&path, &Overrides::default()).unwrap();
    let config = scenario.config.clone();
    let simulation = Simulation::new(config.clone()).unwrap();
    let mut reference = SpotMarket::new(config.spot.clone(), config.seed);

    let mut notices = 0;
    for policy in &scenario.policies {
        let output = simulation.run(policy);
        let mut seen = 0;
        for decision in output
            .decisions
            .iter()
            .filter(|d| d.action == "interruption-notice")
        {
            let instance_type = config.catalog.index_of(&decision.instance_type).unwrap();
            let before = SimTime(decision.time_ms - 1);
            let scheduled =
                reference.next_interruption(&config.catalog, instance_type, &decision.zone, before);
            assert_eq!(
                scheduled,
                Some(SimTime(decision.time_ms)),
                "{}: notice off its pool's schedule",
                policy.name()
            );
            seen += 1;
        }
        assert_eq!(
            seen,
            output.report.spot_interruptions as usize,
            "{}",
            policy.name()
        );
        notices += seen;
    }
    assert!(
        notices > 0,
        "no interruption happened, so the check proves nothing"
    );
}

#[test]
fn spot_scenario_falls_back_and_saves() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/spot-diurnal.yaml");
    let scenario = load(&path, &Overrides::default()).unwrap();
    let simulation = Simulation::new(scenario.config.clone()).unwrap();

    let karpenter = scenario
        .policies
        .iter()
        .find(|p| p.name() == "karpenter")
        .unwrap();
    let report = simulation.run(karpenter).report;

    // The day-2 shortage makes spot launches fail and some capacity fall back to on-demand.
    assert!(
        report
            .launch_failures
            .get("InsufficientInstanceCapacity")
            .copied()
            .unwrap_or(0)
            > 0
    );
    assert!(
        report
            .cost_by_capacity_type
            .get("on-demand")
            .copied()
            .unwrap_or(0.0)
            > 0.0
    );
    assert!(report.cost_by_capacity_type["spot"] > report.cost_by_capacity_type["on-demand"]);
    assert_eq!(report.pods_pending_at_end, 0);
}

/// Both policies keep m5.xlarge spot nodes in us-east-1a and us-east-1b all the time: the pods
/// spread over the two zones, and each pool is interrupted about once a day.
const TWO_POOLS: &str = r#"
name: two-pools
seed: 8
duration: 6d
cloud:
  zones: [us-east-1a, us-east-1b]
  spot:
    interruptionsPerMonth: {m5: 30}
workloads:
  - kind: Deployment
    metadata: {name: api}
    replicas: 6
    template:
      metadata:
        labels: {app: api}
      spec:
        containers: [{name: api, resources: {requests: {cpu: "1", memory: 2Gi}}}]
        topologySpreadConstraints:
          - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, labelSelector: {matchLabels: {app: api}}}
policies:
  - name: cluster-autoscaler
    clusterAutoscaler:
      nodeGroups:
        - {name: spot-a, instanceType: m5.xlarge, capacityType: spot, zone: us-east-1a, minSize: 1, maxSize: 10}
        - {name: spot-b, instanceType: m5.xlarge, capacityType: spot, zone: us-east-1b, minSize: 1, maxSize: 10}
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
                  - {key: node.kubernetes.io/instance-type, operator: In, values: [m5.xlarge]}
                  - {key: karpenter.sh/capacity-type, operator: In, values: [spot]}
"#;

/// Collects the (instance type, zone, time) of every interruption notice of a run, each once
/// however many nodes of the pool it reached.
fn interruption_schedule(output: &RunOutput) -> BTreeSet<(String, String, u64)> {
    output
        .decisions
        .iter()
        .filter(|d| d.action == "interruption-notice")
        .map(|d| (d.instance_type.clone(), d.zone.clone(), d.time_ms))
        .collect()
}

/// Checks whether the run had a node in the pool at `t` that an interruption at `t` would reach:
/// launched before `t`, not terminated or failed by then, and with no earlier notice.
fn exposed(output: &RunOutput, instance_type: &str, zone: &str, t: u64) -> bool {
    let launched: BTreeSet<&str> = output
        .decisions
        .iter()
        .filter(|d| {
            d.action == "launch"
                && d.instance_type == instance_type
                && d.zone == zone
                && d.time_ms < t
        })
        .map(|d| d.node.as_str())
        .collect();
    launched.iter().any(|node| {
        !output.decisions.iter().any(|d| {
            d.node == *node
                && ((matches!(d.action.as_str(), "terminate" | "launch-failed") && d.time_ms <= t)
                    || (d.action == "interruption-notice" && d.time_ms < t))
        })
    })
}

#[test]
fn same_interruptions_under_both_policies() {
    let scenario = load_str(
        TWO_POOLS,
        Path::new("two-pools.yaml"),
        &Overrides::default(),
    )
    .unwrap();
    let config = scenario.config.clone();
    let simulation = Simulation::new(config.clone()).unwrap();
    let outputs: Vec<RunOutput> = scenario
        .policies
        .iter()
        .map(|p| simulation.run(p))
        .collect();
    let mut reference = SpotMarket::new(config.spot.clone(), config.seed);
    let m5_xlarge = config.catalog.index_of("m5.xlarge").unwrap();
    let end = SimTime::ZERO + config.duration;

    // Walk each pool's fixed schedule: a policy with a node in the pool is interrupted at each
    // scheduled time, and one without is not.
    let mut both_hit = BTreeSet::new();
    for zone in ["us-east-1a", "us-east-1b"] {
        let mut t = SimTime::ZERO;
        while let Some(at) = reference
            .next_interruption(&config.catalog, m5_xlarge, zone, t)
            .filter(|at| *at < end)
        {
            let mut hit = Vec::new();
            for (policy, output) in scenario.policies.iter().zip(&outputs) {
                let notified = interruption_schedule(output).contains(&(
                    "m5.xlarge".into(),
                    zone.into(),
                    at.as_millis(),
                ));
                assert_eq!(
                    notified,
                    exposed(output, "m5.xlarge", zone, at.as_millis()),
                    "{} in {zone} at {at}",
                    policy.name()
                );
                hit.push(notified);
            }
            if hit.iter().all(|h| *h) {
                both_hit.insert((zone, at));
            }
            t = at;
        }
    }

    // Both policies met the same interruptions in both pools.
    let zones: BTreeSet<&str> = both_hit.iter().map(|(zone, _)| *zone).collect();
    assert_eq!(zones, BTreeSet::from(["us-east-1a", "us-east-1b"]));
    assert!(both_hit.len() >= 4, "{both_hit:?}");
    for output in &outputs {
        assert!(
            interruption_schedule(output)
                .iter()
                .all(|(_, _, time)| SimTime(*time) < end),
            "every notice is on a pool's schedule"
        );
    }
}
#[test]
fn random_shortages_follow_pool_spells() {
    let yaml = TWO_POOLS.replace(
        "    interruptionsPerMonth: {m5: 30}\n",
        "    interruptionsPerMonth: {m5: 30}\n  randomShortages:\n    - {capacityType: spot, meanTimeBetween: 12h, duration: {distribution: fixed, mean: 2h}}\n",
    );
    let scenario = load_str(&yaml, Path::new("two-pools.yaml"), &Overrides::default()).unwrap();
    let config = scenario.config.clone();
    let simulation = Simulation::new(config.clone()).unwrap();
    let mut reference = SpotMarket::new(config.spot.clone(), config.seed);

    let mut failures = 0;
    for policy in &scenario.policies {
        let output = simulation.run(policy);
        for failed in output
            .decisions
            .iter()
            .filter(|d| d.action == "launch-failed")
        {
            let at = SimTime(failed.time_ms - 2_000);
            let spells = reference.shortage_spells(0, &failed.instance_type, &failed.zone, at);
            assert!(
                spells.iter().any(|(start, end)| *start <= at && at < *end),
                "{}: failed launch at {at} outside the pool's spells",
                policy.name()
            );
            failures += 1;
        }
    }
    assert!(
        failures > 0,
        "no launch met a shortage, so the check proves nothing"
    );
}

#[test]
fn interruption_rate_has_a_ceiling() {
    let yaml = TWO_POOLS.replace(
        "    interruptionsPerMonth: {m5: 30}\n",
        "    interruptionsPerMonth: {m5: 1e9}\n",
    );

    let Err(error) = load_str(&yaml, Path::new("two-pools.yaml"), &Overrides::default()) else {
        panic!("a rate of 1e9 is accepted");
    };

    assert_eq!(
        error.to_string().lines().next().unwrap(),
        "two-pools.yaml:8:33: field cloud.spot.interruptionsPerMonth.m5, value \"1000000000\": expected a finite number from 0 to 10000"
    );
}
