//! Karpenter's scheduling options: `minValues` under both `--min-values-policy` settings and in
//! consolidation's price filter (kubernetes-sigs/karpenter v1.13 `scheduling/nodeclaim.go`
//! `filterInstanceTypesByRequirements`, `disruption/consolidation.go`
//! `RemoveInstanceTypeOptionsByPriceAndMinValues`), and consolidation under
//! `--preference-policy=Ignore`.

use autoscale_sim_cloud::{Catalog, Price, SpotMarket, SpotSettings};
use autoscale_sim_engine::SimTime;
use autoscale_sim_kube::{LABEL_INSTANCE_TYPE, NodeId};

use super::provisioning_tests::{
    min_values_launches, min_values_pool, offered_types, wide_launches,
};
use super::tests::{
    EXISTING_NODE, add_nodes_preferring_apart, capacity_types, notes, numbered_types, pool,
};
use super::{Karpenter, KarpenterConfig, MinValuesPolicy, NodePool, PreferencePolicy};
use crate::api::{Action, PolicyEvent};
use crate::requirements::{Operator, Requirement};
use crate::testing::{
    TestWorld, deletions, fake_catalog, fake_type_name, instance_type, launches, pod_spec, secs,
    untimed,
};

/// Creates a Karpenter policy with `--min-values-policy=BestEffort`.
fn best_effort(node_pools: Vec<NodePool>) -> Karpenter {
    Karpenter::new(KarpenterConfig {
        node_pools,
        min_values_policy: MinValuesPolicy::BestEffort,
        ..Default::default()
    })
}

#[test]
fn best_effort_shares_node() {
    // Strict gives each pod its own NodeClaim to keep it1 and it2 (`min_values_keeps_two_types`).
    // BestEffort puts both on one NodeClaim narrowed to it2 and relaxes the minimum to 1.
    let (world, requests) = min_values_launches(best_effort(vec![min_values_pool(Some(2))]));

    assert_eq!(requests.len(), 1);
    assert_eq!(offered_types(&world, &requests[0]), ["it2"]);
    assert!(
        requests[0]
            .reason
            .ends_with("; minValues relaxed (BestEffort): node.kubernetes.io/instance-type 2 → 1"),
        "{}",
        requests[0].reason
    );
}

#[test]
fn best_effort_launches_short_pool() {
    // A NodePool of two types with minValues 3 launches nothing under Strict
    // (`min_values_unmet_by_pool`) and one NodeClaim under BestEffort.
    let (world, requests) = min_values_launches(best_effort(vec![min_values_pool(Some(3))]));

    assert_eq!(requests.len(), 1);
    assert_eq!(offered_types(&world, &requests[0]), ["it2"]);
    assert!(
        requests[0]
            .reason
            .ends_with("node.kubernetes.io/instance-type 3 → 1"),
        "{}",
        requests[0].reason
    );
}

#[test]
fn best_effort_skips_truncation_check() {
    // 700 types fit. Strict drops a NodeClaim whose 60 types sent at launch fall short of
    // minValues 61; BestEffort launches it with the 60 cheapest. With minValues 701 the
    // NodeClaim's 700 types already fall short, so the minimum is relaxed to 700.
    assert!(
        wide_launches(Some(61), MinValuesPolicy::Strict)
            .1
            .is_empty()
    );

    let (world, requests) = wide_launches(Some(61), MinValuesPolicy::BestEffort);
    assert_eq!(requests.len(), 1);
    assert_eq!(offered_types(&world, &requests[0]).len(), 60);
    assert!(!requests[0].reason.contains("minValues relaxed"));

    let (_, requests) = wide_launches(Some(701), MinValuesPolicy::BestEffort);
    assert_eq!(requests.len(), 1);
    assert!(
        requests[0]
            .reason
            .ends_with("node.kubernetes.io/instance-type 701 → 700"),
        "{}",
        requests[0].reason
    );
}

/// Builds an on-demand NodePool over `current`, `cheap` and `pricey`, with `min_values` on the
/// instance-type key.
fn three_type_pool(min_values: Option<u32>) -> NodePool {
    NodePool {
        requirements: vec![
            capacity_types(&["on-demand"]),
            Requirement {
                key: LABEL_INSTANCE_TYPE.to_string(),
                operator: Operator::In,
                values: ["current", "cheap", "pricey"].map(String::from).to_vec(),
                min_values,
            },
        ],
        ..pool("default")
    }
}

/// Runs a node of type `current` ($0.50/h) with a request-less pod under `policy`, where only
/// `cheap` ($0.30/h) is cheaper and `pricey` costs $0.70/h. Returns the node and the actions
/// until 2 minutes.
fn replace_current(mut policy: Karpenter) -> (NodeId, Vec<(SimTime, Action)>) {
    let catalog = Catalog::new(vec![
        instance_type("current", 2, 8 * 1024, Price(500_000)),
        instance_type("cheap", 2, 8 * 1024, Price(300_000)),
        instance_type("pricey", 2, 8 * 1024, Price(700_000)),
    ]);
    let mut world = TestWorld::new(catalog, vec![]);
    let node = world.add_ready_node("default", "current", EXISTING_NODE);
    world.add_bound_pod(node, &pod_spec(0, 0));
    world.send(&mut policy, PolicyEvent::Start);

    let log = world.advance_to(&mut policy, secs(120));
    (node, log)
}

#[test]
fn price_filter_keeps_min_values() {
    // Without minValues the node is replaced by `cheap`. With minValues 2, the one cheaper type
    // falls short, so the node stays under either policy: the NodeClaim's three types met the
    // minimum, so BestEffort relaxed nothing.
    let (_, log) = replace_current(super::tests::karpenter(vec![three_type_pool(None)]));
    let launched = launches(untimed(&log));
    assert_eq!(launched.len(), 1);

    for policy in [
        super::tests::karpenter(vec![three_type_pool(Some(2))]),
        best_effort(vec![three_type_pool(Some(2))]),
    ] {
        let (node, log) = replace_current(policy);

        assert!(launches(untimed(&log)).is_empty());
        assert!(deletions(untimed(&log)).is_empty());
        assert_eq!(
            notes(&log),
            [format!(
                "Unconsolidatable: node default-{}: Filtering by price: minValues requirement is not met for label(s) node.kubernetes.io/instance-type",
                node.0
            )]
        );
    }
}

#[test]
fn spot_to_spot_keeps_min_values_types() {
    // Single-node spot-to-spot keeps the 15 cheapest types, or as many as minValues needs
    // where that is more: 20 of the 29 cheaper types with minValues 20.
    for (min_values, kept) in [(None, "15 instance types"), (Some(20), "20 instance types")] {
        let mut world = TestWorld::new(numbered_types(30), vec![]);
        let spot_pool = NodePool {
            requirements: vec![
                capacity_types(&["spot"]),
                Requirement {
                    key: LABEL_INSTANCE_TYPE.to_string(),
                    operator: Operator::Exists,
                    values: vec![],
                    min_values,
                },
            ],
            ..pool("default")
        };
        let mut policy = Karpenter::with_market(
            KarpenterConfig {
                node_pools: vec![spot_pool],
                spot_to_spot_consolidation: true,
                ..Default::default()
            },
            SpotMarket::new(SpotSettings::default(), 1),
        );
        let node = world.add_ready_spot_node("default", "type-29", EXISTING_NODE);
        world.add_bound_pod(node, &pod_spec(0, 0));
        world.send(&mut policy, PolicyEvent::Start);

        let log = world.advance_to(&mut policy, secs(120));

        let launched = launches(untimed(&log));
        assert_eq!(launched.len(), 1);
        assert!(launched[0].reason.contains(kept), "{}", launched[0].reason);
    }
}

#[test]
fn ignored_preferences_let_pods_pile_up() {
    // User report aws/karpenter-provider-aws#5120: consolidation piled pods with preferred
    // hostname anti-affinity onto one node. Under the default Respect policy the pods stay
    // apart (`preferred_anti_affinity_respected`). Under Ignore the scheduling simulation
    // leaves the preference out, so multi-node consolidation merges the three nodes into one.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let mut policy = Karpenter::new(KarpenterConfig {
        node_pools: vec![pool("default")],
        preference_policy: PreferencePolicy::Ignore,
        ..Default::default()
    });
    add_nodes_preferring_apart(&mut world);
    world.send(&mut policy, PolicyEvent::Start);

    let log = world.advance_to(&mut policy, secs(25));

    let launched = launches(untimed(&log));
    assert_eq!(launched.len(), 1);
    assert!(
        launched[0].reason.starts_with(
            "Underutilized: replacement by multi-node consolidation for default-0 (fake-2cpu-4gi), default-1 (fake-2cpu-4gi), default-2 (fake-2cpu-4gi)"
        ),
        "{}",
        launched[0].reason
    );
    assert_eq!(
        world.catalog.get(launched[0].instance_type).name,
        fake_type_name(1, 2)
    );
}
