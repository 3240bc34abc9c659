//! Cases with known right decisions, from the test suites of Karpenter (kubernetes-sigs/karpenter
//! v1.x, `pkg/controllers/`) and from behaviour users reported.

use std::collections::BTreeMap;
use std::sync::Arc;

use autoscale_sim_cloud::{Catalog, GIB, MIB, Price, Resources, SpotMarket, SpotSettings};
use autoscale_sim_engine::{SimDuration, SimTime};
use autoscale_sim_kube::{
    CapacityType, DaemonSet, IntOrPercent, LABEL_CAPACITY_TYPE, LABEL_HOSTNAME,
    LABEL_INSTANCE_TYPE, LabelSelector, NodeId, NodeState, Owner, PodAffinityTerm,
    PodDisruptionBudget, PodSpec, Taint, TaintEffect, Toleration, TolerationOperator,
    WeightedPodAffinityTerm,
};

use super::disruption::{Method, PodFacts};
use super::pod_facts::PodCache;
use super::{
    BudgetNodes, BudgetReason, ConsolidationPolicy, CronSchedule, DO_NOT_DISRUPT, DisruptionBudget,
    Karpenter, KarpenterConfig, KarpenterVersion, NodePool, NodePoolUpdate,
};
use crate::api::{Action, DisruptionReason, LaunchRequest, PolicyEvent};
use crate::requirements::{LABEL_NODEPOOL, Operator, Requirement};
use crate::testing::{
    TestWorld, daemonset, deletions, fake_catalog, fake_type_name, instance_type, launches,
    pod_spec, secs, untimed,
};

/// Allocatable the disruption suite gives existing nodes: 32 CPU and 100 pods. Memory plays no
/// part in those cases, so it is set high enough never to matter.
pub(super) const EXISTING_NODE: Resources = Resources::new(32_000, 32 * GIB, 100);

/// Builds a NodePool with a 100 % disruption budget, as in Karpenter's disruption suite.
pub(super) fn pool(name: &str) -> NodePool {
    NodePool {
        name: name.to_string(),
        budgets: vec![BudgetNodes::Percent(100)],
        ..Default::default()
    }
}

pub(super) fn karpenter(node_pools: Vec<NodePool>) -> Karpenter {
    Karpenter::new(KarpenterConfig {
        node_pools,
        ..Default::default()
    })
}

/// Lists the names of the instance types launched in `log`, in order.
pub(super) fn launched_types(world: &TestWorld, log: &[(SimTime, Action)]) -> Vec<String> {
    launches(untimed(log))
        .iter()
        .map(|request| world.catalog.get(request.instance_type).name.clone())
        .collect()
}

/// Names the cheapest fake type that fits a pod under the EKS allocatable, which leaves the
/// 1 GiB types no memory. It takes the place of Karpenter's least expensive type: no single node
/// cheaper than two of them can hold their pods, so multi-node consolidation finds nothing.
fn least_expensive_type() -> String {
    fake_type_name(1, 2)
}

/// Adds the two Ready nodes of "can delete nodes", of the least expensive type: A with two
/// request-less pods and B with one. Returns (A, B).
fn add_two_nodes(world: &mut TestWorld) -> (NodeId, NodeId) {
    let cheapest = least_expensive_type();
    let a = world.add_ready_node("default", &cheapest, EXISTING_NODE);
    let b = world.add_ready_node("default", &cheapest, EXISTING_NODE);
    let spec = pod_spec(0, 0);
    world.add_bound_pod(a, &spec);
    world.add_bound_pod(a, &spec);
    world.add_bound_pod(b, &spec);
    (a, b)
}

/// Lists the details of the decision-log notes in `log`, in order.
pub(super) fn notes(log: &[(SimTime, Action)]) -> Vec<String> {
    untimed(log)
        .filter_map(|action| match action {
            Action::Note { detail, .. } => Some(detail.clone()),
            _ => None,
        })
        .collect()
}

/// Lists the times of the deletions in `log`.
fn deletion_times(log: &[(SimTime, Action)]) -> Vec<SimTime> {
    log.iter()
        .filter(|(_, action)| matches!(action, Action::DeleteNode { .. }))
        .map(|(at, _)| *at)
        .collect()
}

// Consolidation: pkg/controllers/disruption/consolidation_test.go on the fake catalog. The
// disruption pass runs 10 s after the start and a command is validated 15 s later.

#[test]
fn delete_node_fewest_pods() {
    // "can delete nodes": A has 2 pods and B has 1, both of the cheapest type. B is deleted,
    // its pod moves to A, and no node is launched.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let mut policy = karpenter(vec![pool("default")]);
    let (a, b) = add_two_nodes(&mut world);
    world.send(&mut policy, PolicyEvent::Start);

    let log = world.advance_to(&mut policy, secs(60));
    let unplaced = world.schedule();

    assert_eq!(
        deletions(untimed(&log)),
        [(b, DisruptionReason::Underutilized)]
    );
    assert_eq!(deletion_times(&log), [secs(25)]);
    assert!(launches(untimed(&log)).is_empty());
    assert!(unplaced.is_empty());
    assert_eq!(world.cluster.node(a).unwrap().pods.len(), 3);
    assert_eq!(world.live_nodes("default"), [a]);
}

#[test]
fn replace_expensive_node() {
    // "can replace node": one node of the most expensive type with one pod is replaced by the
    // cheapest type that fits the pod. The old node is deleted once the new one is Ready.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let mut policy = karpenter(vec![pool("default")]);
    let most_expensive = fake_type_name(64, 128);
    let old = world.add_ready_node("default", &most_expensive, EXISTING_NODE);
    world.add_bound_pod(old, &pod_spec(0, 0));
    world.send(&mut policy, PolicyEvent::Start);

    let log = world.advance_to(&mut policy, secs(60));

    // The 1 GiB types have no allocatable memory left under the EKS formula, so the
    // cheapest type that fits a pod is 1 vCPU / 2 GiB.
    assert_eq!(launched_types(&world, &log), [fake_type_name(1, 2)]);
    assert!(log.iter().all(|(at, _)| *at == secs(25)));
    let cordons: Vec<&Action> = untimed(&log)
        .filter(|action| matches!(action, Action::Cordon { .. }))
        .collect();
    assert_eq!(
        cordons,
        [&Action::Cordon {
            node: old,
            cordoned: true
        }]
    );
    assert!(deletions(untimed(&log)).is_empty());

    // The NodeClaim's instance types exclude the type being replaced.
    let (&new_node, &command) = policy.replacements.iter().next().unwrap();
    let replacement = &policy.in_flight[&command].command.replacements[0];
    let pools = policy.pools.as_ref().unwrap();
    let offered: Vec<&str> = replacement
        .options
        .iter()
        .map(|&i| {
            world
                .catalog
                .get(pools[replacement.pool].options[i].instance_type)
                .name
                .as_str()
        })
        .collect();
    assert!(!offered.contains(&most_expensive.as_str()));
    assert_eq!(offered[0], fake_type_name(1, 2));

    let ready = world.make_ready(&mut policy, new_node);

    assert_eq!(
        deletions(&ready.actions),
        [(old, DisruptionReason::Underutilized)]
    );
}

#[test]
fn replace_skipped_when_pricier() {
    // "won't replace on-demand node if on-demand replacement is more expensive": the only
    // other on-demand type costs $0.60/h against the node's $0.50/h.
    let catalog = Catalog::new(vec![
        instance_type("current", 2, 8 * 1024, Price(500_000)),
        instance_type("alternative", 2, 8 * 1024, Price(600_000)),
    ]);
    let mut world = TestWorld::new(catalog, vec![]);
    let on_demand = NodePool {
        requirements: vec![Requirement {
            key: LABEL_CAPACITY_TYPE.to_string(),
            operator: Operator::In,
            values: vec!["on-demand".to_string()],
            min_values: None,
        }],
        ..pool("default")
    };
    let mut policy = karpenter(vec![on_demand]);
    let node = world.add_ready_node("default", "current", EXISTING_NODE);
    world.add_bound_pod(node, &pod_spec(0, 0));
    world.send(&mut policy, PolicyEvent::Start);

    let log = world.advance_to(&mut policy, secs(120));

    assert_eq!(
        notes(&log),
        ["Unconsolidatable: node default-0: Can't replace with a cheaper node"]
    );
    assert!(deletions(untimed(&log)).is_empty());
    assert!(launches(untimed(&log)).is_empty());
}

#[test]
fn uninitialized_destination_blocks() {
    // "won't delete node if it would require pods to schedule on an uninitialized node": A
    // (2 pods) is not initialized, B (1 pod) is. B's pod could only go to A, so nothing
    // happens.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let mut policy = karpenter(vec![pool("default")]);
    let cheapest = least_expensive_type();
    let a = world.add_launching_node("default", &cheapest, EXISTING_NODE);
    let b = world.add_ready_node("default", &cheapest, EXISTING_NODE);
    let spec = pod_spec(0, 0);
    world.add_bound_pod(a, &spec);
    world.add_bound_pod(a, &spec);
    world.add_bound_pod(b, &spec);
    world.send(&mut policy, PolicyEvent::Start);

    let log = world.advance_to(&mut policy, secs(120));

    assert_eq!(
        notes(&log),
        [
            "the node is not initialized yet",
            "Unconsolidatable: node default-1: Not all pods would schedule, would schedule against uninitialized nodeclaim"
        ]
    );
    assert!(deletions(untimed(&log)).is_empty());
    assert!(launches(untimed(&log)).is_empty());
}

#[test]
fn failed_pod_outranks_uninitialized_destination() {
    // B's pods are placed in the order 60, 8 and 1 CPU. The pool's CPU limit leaves room for one
    // 64-CPU NodeClaim, which the 60-CPU pod takes, so the 8-CPU pod fits nowhere. The 1-CPU pod
    // then goes to A, which is not initialized. The pod that fails decides the reason, so the
    // simulation may not stop when the 1-CPU pod lands on A, although every pod could open a
    // NodeClaim when it started.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let cheapest = least_expensive_type();
    // The two 1-vCPU nodes count against the limit, which leaves 64 CPU.
    let limited = NodePool {
        limits: Some(Resources::new(66_000, i64::MAX, i64::MAX)),
        ..pool("default")
    };
    let mut policy = karpenter(vec![limited]);
    world.add_launching_node("default", &cheapest, Resources::new(4000, 32 * GIB, 100));
    let b = world.add_ready_node("default", &cheapest, Resources::new(100_000, 32 * GIB, 100));
    world.add_bound_pod(b, &pod_spec(60_000, 0));
    world.add_bound_pod(b, &pod_spec(8000, 0));
    world.add_bound_pod(b, &pod_spec(1000, 0));
    world.send(&mut policy, PolicyEvent::Start);

    let log = world.advance_to(&mut policy, secs(120));

    assert_eq!(
        notes(&log),
        [
            "the node is not initialized yet",
            "Unconsolidatable: node default-1: Not all pods would schedule"
        ]
    );
    assert!(deletions(untimed(&log)).is_empty());
}

#[test]
fn consolidate_after_delays_delete() {
    // "should not consolidate pods onto a destination node that is under its consolidateAfter
    // window", the part that applies to v1.13: with consolidateAfter 1m, nothing happens before
    // the nodes' pod events are a minute old, then B is deleted after the 15 s validation.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let waiting_pool = NodePool {
        consolidate_after: Some(SimDuration::from_mins(1)),
        ..pool("default")
    };
    let mut policy = karpenter(vec![waiting_pool]);
    let (_, b) = add_two_nodes(&mut world);
    world.send(&mut policy, PolicyEvent::Start);

    let log = world.advance_to(&mut policy, secs(120));

    assert_eq!(
        deletions(untimed(&log)),
        [(b, DisruptionReason::Underutilized)]
    );
    assert_eq!(deletion_times(&log), [secs(75)]);
}

// Emptiness: pkg/controllers/disruption/emptiness_test.go.

/// Creates ten empty nodes of the most expensive type under one budget, and returns them with
/// the actions of the first disruption pass and its validation.
fn ten_empty_nodes(budget_percent: u32) -> (Vec<NodeId>, Vec<(SimTime, Action)>) {
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let budgeted = NodePool {
        budgets: vec![BudgetNodes::Percent(budget_percent)],
        ..pool("default")
    };
    let mut policy = karpenter(vec![budgeted]);
    let nodes: Vec<NodeId> = (0..10)
        .map(|_| world.add_ready_node("default", &fake_type_name(64, 128), EXISTING_NODE))
        .collect();
    world.send(&mut policy, PolicyEvent::Start);

    let log = world.advance_to(&mut policy, secs(25));
    (nodes, log)
}

#[test]
fn empty_budget_30_percent() {
    // "should only allow 3 empty nodes to be deleted".
    let (nodes, log) = ten_empty_nodes(30);

    let expected: Vec<(NodeId, DisruptionReason)> = nodes[..3]
        .iter()
        .map(|&node| (node, DisruptionReason::Empty))
        .collect();
    assert_eq!(deletions(untimed(&log)), expected);
    assert_eq!(deletion_times(&log), [secs(25); 3]);
}

#[test]
fn empty_budget_100_percent() {
    // "should allow all empty nodes to be deleted".
    let (nodes, log) = ten_empty_nodes(100);

    let expected: Vec<(NodeId, DisruptionReason)> = nodes
        .iter()
        .map(|&node| (node, DisruptionReason::Empty))
        .collect();
    assert_eq!(deletions(untimed(&log)), expected);
}

#[test]
fn empty_budget_0_percent() {
    // "should not allow any empty nodes to be deleted".
    let (_, log) = ten_empty_nodes(0);

    // The log contains only the note that the budget blocks the ten empty nodes.
    assert_eq!(
        blocked_notes(&log),
        [
            "NodePool default: budget nodes \"0%\" allows no Empty disruptions, and 10 candidate \
          nodes for Empty wait"
        ]
    );
    assert_eq!(log.len(), 1);
}

#[test]
fn daemonset_only_node_empty() {
    // A node whose only pod is a DaemonSet pod counts as empty and is deleted.
    let mut world = TestWorld::new(fake_catalog(), vec![daemonset("ds", 100, 0)]);
    let mut policy = karpenter(vec![pool("default")]);
    let node = world.add_ready_node("default", &fake_type_name(1, 1), EXISTING_NODE);
    world.send(&mut policy, PolicyEvent::Start);

    let log = world.advance_to(&mut policy, secs(25));

    assert_eq!(deletions(untimed(&log)), [(node, DisruptionReason::Empty)]);
}

// Provisioning: pkg/controllers/provisioning/suite_test.go and batcher.go.

/// Builds a 1 CPU / 1 GiB pod, as in "should account for daemonsets", that tolerates `tolerations`.
fn one_cpu_pod(tolerations: Vec<Toleration>) -> Arc<PodSpec> {
    let mut spec = (*pod_spec(1000, GIB)).clone();
    spec.tolerations = tolerations;
    Arc::new(spec)
}

/// Creates the pods of `specs` on an empty cluster, reports them Unschedulable, and returns the
/// world with the actions taken until the batch window closes 1 s later.
pub(super) fn provision(
    node_pools: Vec<NodePool>,
    daemonsets: Vec<DaemonSet>,
    specs: &[Arc<PodSpec>],
) -> (TestWorld, Vec<(SimTime, Action)>) {
    let mut world = TestWorld::new(fake_catalog(), daemonsets);
    let mut policy = karpenter(node_pools);
    world.send(&mut policy, PolicyEvent::Start);
    for spec in specs {
        world.add_pending_pod(spec);
    }
    let pending = world.schedule();
    world.send(&mut policy, PolicyEvent::PodsUnschedulable(pending));

    let log = world.advance_to(&mut policy, secs(1));
    (world, log)
}

#[test]
fn daemonset_overhead_sizes_node() {
    // "should account for daemonsets": a 2 CPU / 2 GiB DaemonSet and a 1 CPU / 1 GiB pod need
    // 4 vCPU / 8 GiB under the EKS allocatable, while the pod alone fits 2 vCPU / 4 GiB.
    let pod = one_cpu_pod(vec![]);

    let (with_daemonset, log) = provision(
        vec![pool("default")],
        vec![daemonset("ds", 2000, 2 * GIB)],
        std::slice::from_ref(&pod),
    );
    let (without_daemonset, plain_log) = provision(vec![pool("default")], vec![], &[pod]);

    assert_eq!(
        launched_types(&with_daemonset, &log),
        [fake_type_name(4, 8)]
    );
    assert_eq!(
        launched_types(&without_daemonset, &plain_log),
        [fake_type_name(2, 4)]
    );
}

#[test]
fn daemonset_overhead_with_replicas() {
    // Nodes are sized for pods plus daemons. A 1200m / 600 MiB DaemonSet and three pods of
    // 1 CPU / 3 GiB fit one 8 vCPU / 16 GiB node, the cheapest type that fits them all.
    let replica = pod_spec(1000, 3 * GIB);

    let (world, log) = provision(
        vec![pool("default")],
        vec![daemonset("ds", 1200, 600 * MIB)],
        &[replica.clone(), replica.clone(), replica],
    );

    assert_eq!(launched_types(&world, &log), [fake_type_name(8, 16)]);
    let launched = world.catalog.by_name(&fake_type_name(8, 16)).unwrap();
    let needed = Resources::new(3 * 1000 + 1200, 3 * 3 * GIB + 600 * MIB, 4);
    assert!(needed.fits_in(&launched.allocatable()));
}

fn dedicated_taint() -> Taint {
    Taint {
        key: "dedicated".to_string(),
        value: "batch".to_string(),
        effect: TaintEffect::NoSchedule,
    }
}

fn tolerate_dedicated() -> Toleration {
    Toleration {
        key: "dedicated".to_string(),
        value: "batch".to_string(),
        ..Default::default()
    }
}

#[test]
fn exists_toleration_counts_overhead() {
    // A DaemonSet that tolerates every taint (`operator: Exists` with no key) runs on a
    // tainted NodePool's nodes, so its requests size the node. A DaemonSet without that
    // toleration does not run there and adds nothing.
    let tainted = NodePool {
        taints: vec![dedicated_taint()],
        ..pool("tainted")
    };
    let pod = one_cpu_pod(vec![tolerate_dedicated()]);
    let mut tolerant = daemonset("ds", 2000, 2 * GIB);
    tolerant.spec.tolerations = vec![Toleration {
        operator: TolerationOperator::Exists,
        ..Default::default()
    }];
    let intolerant = daemonset("ds", 2000, 2 * GIB);

    let (tolerant_world, tolerant_log) = provision(
        vec![tainted.clone()],
        vec![tolerant],
        std::slice::from_ref(&pod),
    );
    let (intolerant_world, intolerant_log) = provision(vec![tainted], vec![intolerant], &[pod]);

    assert_eq!(
        launched_types(&tolerant_world, &tolerant_log),
        [fake_type_name(4, 8)]
    );
    assert_eq!(
        launched_types(&intolerant_world, &intolerant_log),
        [fake_type_name(2, 4)]
    );
}

fn weighted_pools() -> Vec<NodePool> {
    vec![
        pool("unweighted"),
        NodePool {
            weight: 20,
            ..pool("weight-20")
        },
        NodePool {
            weight: 100,
            ..pool("weight-100")
        },
    ]
}

#[test]
fn weight_100_pool_wins() {
    // "should schedule to the nodepool with the highest priority always": three pods, one
    // NodeClaim, from the weight-100 pool.
    let spec = pod_spec(0, 0);

    let (_, log) = provision(
        weighted_pools(),
        vec![],
        &[spec.clone(), spec.clone(), spec],
    );

    let pools: Vec<&str> = launches(untimed(&log))
        .iter()
        .map(|request| request.owner.as_str())
        .collect();
    assert_eq!(pools, ["weight-100"]);
}

#[test]
fn node_selector_picks_pool() {
    // "should schedule to explicitly selected nodepool even if other nodePools are higher
    // priority": the pod selects the unweighted pool by its `karpenter.sh/nodepool` label.
    let mut spec = (*pod_spec(0, 0)).clone();
    spec.node_selector
        .insert(LABEL_NODEPOOL.to_string(), "unweighted".to_string());

    let (_, log) = provision(weighted_pools(), vec![], &[Arc::new(spec)]);

    let launched = launches(untimed(&log));
    assert_eq!(launched.len(), 1);
    assert_eq!(launched[0].owner, "unweighted");
    assert_eq!(launched[0].labels[LABEL_NODEPOOL], "unweighted");
}

#[test]
fn batch_idle_closes_window() {
    // The batch window closes after 1 s without new pods (BATCH_IDLE_DURATION).
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let mut policy = karpenter(vec![pool("default")]);
    world.send(&mut policy, PolicyEvent::Start);
    world.add_pending_pod(&pod_spec(1000, GIB));
    let pending = world.schedule();

    let opened = world.send(&mut policy, PolicyEvent::PodsUnschedulable(pending));
    let before = world.advance_to(&mut policy, SimTime(999));
    let closed = world.advance_to(&mut policy, secs(1));

    let timer_times: Vec<SimTime> = opened.timers.iter().map(|(at, _)| *at).collect();
    assert_eq!(timer_times, [secs(1), secs(10)]);
    assert!(before.is_empty());
    assert_eq!(launches(untimed(&closed)).len(), 1);
    assert!(closed.iter().all(|(at, _)| *at == secs(1)));
}

#[test]
fn batch_max_closes_window() {
    // A pod every 0.5 s keeps restarting the 1 s idle timer, so the window only closes at the
    // 10 s maximum (BATCH_MAX_DURATION), with the 20 pods that arrived by then.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let mut policy = karpenter(vec![pool("default")]);
    world.send(&mut policy, PolicyEvent::Start);
    let spec = pod_spec(1000, 0);
    let mut log = Vec::new();

    for arrival in (0..=12_000).step_by(500) {
        log.extend(world.advance_to(&mut policy, SimTime(arrival)));
        world.add_pending_pod(&spec);
        let pending = world.schedule();
        world.send(&mut policy, PolicyEvent::PodsUnschedulable(pending));
    }

    let launch_times: Vec<SimTime> = log
        .iter()
        .filter(|(_, action)| matches!(action, Action::Launch(_)))
        .map(|(at, _)| *at)
        .collect();
    assert_eq!(launch_times, [secs(10)]);
    assert!(launches(untimed(&log))[0].reason.contains("for 20 pods"));
}

// Multi-node consolidation: pkg/controllers/disruption/consolidation_test.go
// "Multi-NodeClaim" and "Budgets" contexts.

/// Builds a requirement that the NodePool's nodes are of these capacity types.
pub(super) fn capacity_types(values: &[&str]) -> Requirement {
    Requirement {
        key: LABEL_CAPACITY_TYPE.to_string(),
        operator: Operator::In,
        values: values.iter().map(|v| v.to_string()).collect(),
        min_values: None,
    }
}

/// Creates a Karpenter policy with the SpotToSpotConsolidation gate set to `spot_to_spot`,
/// pricing spot offerings from a market at its default 60 % discount from on-demand.
fn spot_karpenter(node_pools: Vec<NodePool>, spot_to_spot: bool) -> Karpenter {
    Karpenter::with_market(
        KarpenterConfig {
            node_pools,
            spot_to_spot_consolidation: spot_to_spot,
            ..Default::default()
        },
        SpotMarket::new(SpotSettings::default(), 1),
    )
}

/// Runs the first disruption pass and its validation on three nodes of the most expensive
/// type, each with one request-less pod; node i is spot when `spot[i]` is true. Returns
/// the world, the policy, the nodes and the actions until 60 s.
fn merge_three(
    pool: NodePool,
    spot: [bool; 3],
) -> (TestWorld, Karpenter, Vec<NodeId>, Vec<(SimTime, Action)>) {
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let mut policy = spot_karpenter(vec![pool], true);
    let most_expensive = fake_type_name(64, 128);
    let nodes: Vec<NodeId> = spot
        .iter()
        .map(|&is_spot| {
            let node = if is_spot {
                world.add_ready_spot_node("default", &most_expensive, EXISTING_NODE)
            } else {
                world.add_ready_node("default", &most_expensive, EXISTING_NODE)
            };
            world.add_bound_pod(node, &pod_spec(0, 0));
            node
        })
        .collect();
    world.send(&mut policy, PolicyEvent::Start);

    let log = world.advance_to(&mut policy, secs(60));
    (world, policy, nodes, log)
}

/// Checks that `log` launched one replacement for all of `nodes` and that they are deleted
/// once it is Ready; returns the replacement's request.
fn assert_merged_into_one(
    world: &mut TestWorld,
    policy: &mut Karpenter,
    nodes: &[NodeId],
    log: &[(SimTime, Action)],
) -> LaunchRequest {
    let launched = launches(untimed(log));
    assert_eq!(launched.len(), 1);
    assert!(launched[0].reason.contains("by multi-node consolidation"));
    let cordoned: Vec<NodeId> = untimed(log)
        .filter_map(|action| match action {
            Action::Cordon {
                node,
                cordoned: true,
            } => Some(*node),
            _ => None,
        })
        .collect();
    assert_eq!(cordoned, nodes);
    assert!(deletions(untimed(log)).is_empty());
    let request = launched[0].clone();

    let new_node = *policy.replacements.keys().next().unwrap();
    let ready = world.make_ready(policy, new_node);

    let expected: Vec<(NodeId, DisruptionReason)> = nodes
        .iter()
        .map(|&node| (node, DisruptionReason::Underutilized))
        .collect();
    assert_eq!(deletions(&ready.actions), expected);
    request
}

#[test]
fn merge_three_on_demand_nodes() {
    // "can merge 3 nodes into 1": three of the most expensive on-demand type are replaced by
    // one node of the cheapest type that fits a pod.
    let (mut world, mut policy, nodes, log) = merge_three(pool("default"), [false; 3]);

    let request = assert_merged_into_one(&mut world, &mut policy, &nodes, &log);

    assert_eq!(
        world.catalog.get(request.instance_type).name,
        fake_type_name(1, 2)
    );
    assert_eq!(request.capacity_type, CapacityType::OnDemand);
}

#[test]
fn merge_three_spot_nodes() {
    // The spot variant: three spot nodes merge into one spot node.
    let spot_pool = NodePool {
        requirements: vec![capacity_types(&["spot"])],
        ..pool("default")
    };

    let (mut world, mut policy, nodes, log) = merge_three(spot_pool, [true; 3]);

    let request = assert_merged_into_one(&mut world, &mut policy, &nodes, &log);
    assert_eq!(
        world.catalog.get(request.instance_type).name,
        fake_type_name(1, 2)
    );
    assert_eq!(request.capacity_type, CapacityType::Spot);
}

#[test]
fn merge_mixed_capacity_nodes() {
    // Two on-demand nodes and one spot node merge into one node, launched as spot because the
    // pool allows both capacity types.
    let mixed_pool = NodePool {
        requirements: vec![capacity_types(&["spot", "on-demand"])],
        ..pool("default")
    };

    let (mut world, mut policy, nodes, log) = merge_three(mixed_pool, [false, false, true]);

    let request = assert_merged_into_one(&mut world, &mut policy, &nodes, &log);
    assert_eq!(request.capacity_type, CapacityType::Spot);
}

#[test]
fn multi_node_budget_30_percent() {
    // "should only allow 3 nodes to be deleted in multi node consolidation delete": ten of
    // the most expensive nodes with a 100m pod each. Without the budget the binary search
    // replaces all ten (next test); a 30 % budget lets the first three go, and their pods
    // move to the other seven.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let budgeted = NodePool {
        budgets: vec![BudgetNodes::Percent(30)],
        ..pool("default")
    };
    let mut policy = karpenter(vec![budgeted]);
    let nodes: Vec<NodeId> = (0..10)
        .map(|_| {
            let node = world.add_ready_node("default", &fake_type_name(64, 128), EXISTING_NODE);
            world.add_bound_pod(node, &pod_spec(100, 0));
            node
        })
        .collect();
    world.send(&mut policy, PolicyEvent::Start);

    let log = world.advance_to(&mut policy, secs(25));

    let expected: Vec<(NodeId, DisruptionReason)> = nodes[..3]
        .iter()
        .map(|&node| (node, DisruptionReason::Underutilized))
        .collect();
    assert_eq!(deletions(untimed(&log)), expected);
    assert!(launches(untimed(&log)).is_empty());
    assert_eq!(world.live_nodes("default"), nodes[3..]);
    assert!(
        untimed(&log)
            .filter_map(|action| match action {
                Action::DeleteNode { detail, .. } => Some(detail),
                _ => None,
            })
            .all(|detail| detail.contains("by multi-node consolidation with 3 candidates"))
    );
}

#[test]
fn multi_node_unlimited_replaces_all() {
    // The same ten nodes under a 100 % budget: the binary search's last step takes all ten
    // (prefix `mid + 1` with `mid` up to one less than the count), and their 1 CPU of pods
    // fits one node of the cheapest type that fits it.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let mut policy = karpenter(vec![pool("default")]);
    let nodes: Vec<NodeId> = (0..10)
        .map(|_| {
            let node = world.add_ready_node("default", &fake_type_name(64, 128), EXISTING_NODE);
            world.add_bound_pod(node, &pod_spec(100, 0));
            node
        })
        .collect();
    world.send(&mut policy, PolicyEvent::Start);

    let log = world.advance_to(&mut policy, secs(25));

    let request = assert_merged_into_one(&mut world, &mut policy, &nodes, &log);
    assert_eq!(
        world.catalog.get(request.instance_type).name,
        fake_type_name(2, 2)
    );
}

/// Builds the catalog of the spot-to-spot user report: four sizes of one family, on-demand
/// $0.10 per vCPU.
fn four_sizes() -> Catalog {
    Catalog::new(vec![
        instance_type("m.large", 2, 8 * 1024, Price(200_000)),
        instance_type("m.xlarge", 4, 16 * 1024, Price(400_000)),
        instance_type("m.2xlarge", 8, 32 * 1024, Price(800_000)),
        instance_type("m.4xlarge", 16, 64 * 1024, Price(1_600_000)),
    ])
}

#[test]
fn spot_merge_ignores_fifteen_rule() {
    // User report: three spot nodes whose pods fit on one node are merged even though each
    // alone has fewer than 15 cheaper spot types. Each m.4xlarge has 2 CPU allocatable left
    // for a 1.5 CPU pod, so no pod fits on another node; one m.2xlarge fits all three.
    let mut world = TestWorld::new(four_sizes(), vec![]);
    let spot_pool = NodePool {
        requirements: vec![capacity_types(&["spot"])],
        ..pool("default")
    };
    let mut policy = spot_karpenter(vec![spot_pool], true);
    let small = Resources::new(2000, 32 * GIB, 100);
    let nodes: Vec<NodeId> = (0..3)
        .map(|_| {
            let node = world.add_ready_spot_node("default", "m.4xlarge", small);
            world.add_bound_pod(node, &pod_spec(1500, 0));
            node
        })
        .collect();
    world.send(&mut policy, PolicyEvent::Start);

    // Single-node consolidation alone would refuse each node.
    let single = world.call(|view, _| {
        policy.pools(view);
        let mut cache = PodCache::default();
        cache.refresh(view.cluster);
        let facts = PodFacts::gather(view, &cache);
        let refusal = policy
            .compute_consolidation(view, Method::SingleNode, &[nodes[0]], None, None, &facts)
            .unwrap_err();
        assert_eq!(
            refusal.event().unwrap(),
            "SpotToSpotConsolidation requires 15 cheaper instance type options than the current candidate to consolidate, got 3"
        );
    });
    assert!(single.actions.is_empty());

    let log = world.advance_to(&mut policy, secs(60));

    let request = assert_merged_into_one(&mut world, &mut policy, &nodes, &log);
    assert_eq!(world.catalog.get(request.instance_type).name, "m.2xlarge");
    assert_eq!(request.capacity_type, CapacityType::Spot);
}

#[test]
fn same_type_replacement_filtered() {
    // `filterOutSameType`: two m.2xlarge nodes whose 3 CPU of pods would fit one m.xlarge or
    // one m.2xlarge. The m.2xlarge option and every pricier one are dropped, leaving m.xlarge.
    let mut world = TestWorld::new(four_sizes(), vec![]);
    let mut policy = karpenter(vec![pool("default")]);
    let small = Resources::new(2000, 32 * GIB, 100);
    let nodes: Vec<NodeId> = (0..2)
        .map(|_| {
            let node = world.add_ready_node("default", "m.2xlarge", small);
            world.add_bound_pod(node, &pod_spec(1500, 0));
            node
        })
        .collect();
    world.send(&mut policy, PolicyEvent::Start);

    let log = world.advance_to(&mut policy, secs(60));

    let request = assert_merged_into_one(&mut world, &mut policy, &nodes, &log);
    assert_eq!(world.catalog.get(request.instance_type).name, "m.xlarge");
}

// Drift and expiration: pkg/controllers/disruption/drift_test.go and
// pkg/controllers/nodeclaim/expiration/suite_test.go.

/// Builds a requirement that the NodePool's nodes are of these instance types.
fn instance_types(values: &[&str]) -> Requirement {
    Requirement {
        key: LABEL_INSTANCE_TYPE.to_string(),
        operator: Operator::In,
        values: values.iter().map(|v| v.to_string()).collect(),
        min_values: None,
    }
}

/// Creates a Karpenter policy whose NodePools change at the times of `updates`, each as
/// (seconds after the start, new NodePool).
fn karpenter_with_updates(node_pools: Vec<NodePool>, updates: Vec<(u64, NodePool)>) -> Karpenter {
    Karpenter::new(KarpenterConfig {
        node_pools,
        node_pool_updates: updates
            .into_iter()
            .map(|(at, pool)| NodePoolUpdate {
                at: SimDuration::from_secs(at),
                pool,
            })
            .collect(),
        ..Default::default()
    })
}

#[test]
fn drift_replaces_one_with_three() {
    // "can replace drifted nodes with multiple nodes": a node with 8 CPU allocatable runs
    // three 2 CPU pods. Its NodePool changes to allow only a 3 vCPU type, which fits one pod
    // each, so drift launches three nodes and deletes the old one when all are Ready.
    let catalog = Catalog::new(vec![
        instance_type("current", 8, 32 * 1024, Price(800_000)),
        instance_type("small", 3, 8 * 1024, Price(300_000)),
    ]);
    let mut world = TestWorld::new(catalog, vec![]);
    let changed = NodePool {
        requirements: vec![instance_types(&["small"])],
        ..pool("default")
    };
    let mut policy = karpenter_with_updates(vec![pool("default")], vec![(5, changed)]);
    let old = world.add_ready_node("default", "current", Resources::new(8000, 32 * GIB, 100));
    for _ in 0..3 {
        world.add_bound_pod(old, &pod_spec(2000, 0));
    }
    world.send(&mut policy, PolicyEvent::Start);

    let log = world.advance_to(&mut policy, secs(10));

    assert_eq!(launched_types(&world, &log), ["small", "small", "small"]);
    assert!(log.iter().all(|(at, _)| *at == secs(10)));
    assert!(
        launches(untimed(&log))
            .iter()
            .all(|r| r.reason.starts_with("Drifted: replacement by drift"))
    );
    assert!(deletions(untimed(&log)).is_empty());
    let new_nodes: Vec<NodeId> = policy.replacements.keys().copied().collect();
    assert_eq!(new_nodes.len(), 3);

    let first = world.make_ready(&mut policy, new_nodes[0]);
    let second = world.make_ready(&mut policy, new_nodes[1]);
    let third = world.make_ready(&mut policy, new_nodes[2]);

    assert!(deletions(&first.actions).is_empty());
    assert!(deletions(&second.actions).is_empty());
    assert_eq!(
        deletions(&third.actions),
        [(old, DisruptionReason::Drifted)]
    );
}

#[test]
fn drift_only_mismatched_nodes() {
    // A requirement change drifts the nodes whose labels break it and leaves the others:
    // the pool moves from any type to [m.large, m.xlarge], so only the m.2xlarge node is
    // replaced, by an m.xlarge that fits its 3 CPU pod.
    let mut world = TestWorld::new(four_sizes(), vec![]);
    let changed = NodePool {
        requirements: vec![instance_types(&["m.large", "m.xlarge"])],
        ..pool("default")
    };
    let mut policy = karpenter_with_updates(vec![pool("default")], vec![(5, changed)]);
    let kept = world.add_ready_node("default", "m.xlarge", Resources::new(3000, 16 * GIB, 100));
    world.add_bound_pod(kept, &pod_spec(2500, 0));
    let drifted = world.add_ready_node("default", "m.2xlarge", Resources::new(3000, 32 * GIB, 100));
    world.add_bound_pod(drifted, &pod_spec(3000, 0));
    world.send(&mut policy, PolicyEvent::Start);

    let log = world.advance_to(&mut policy, secs(10));

    assert_eq!(launched_types(&world, &log), ["m.xlarge"]);
    assert_eq!(
        policy.drifted.keys().copied().collect::<Vec<_>>(),
        [drifted]
    );
    let new_node = *policy.replacements.keys().next().unwrap();
    let ready = world.make_ready(&mut policy, new_node);
    assert_eq!(
        deletions(&ready.actions),
        [(drifted, DisruptionReason::Drifted)]
    );
}

/// Builds a Karpenter whose NodePool, with consolidateAfter `Never`, gains the template label
/// `team: web` 5 s into the run, which drifts every node launched before.
fn relabelled_at_5s() -> Karpenter {
    let never = NodePool {
        consolidate_after: None,
        ..pool("default")
    };
    let mut relabelled = never.clone();
    relabelled
        .labels
        .insert("team".to_string(), "web".to_string());
    karpenter_with_updates(vec![never], vec![(5, relabelled)])
}

#[test]
fn label_change_drifts_statically() {
    // A change of the template's labels (a hashed field) drifts every node launched before
    // it. Drift deletes the empty node first, although consolidateAfter Never turns Emptiness
    // off, and then replaces the node with a pod by a node with the new label.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let mut policy = relabelled_at_5s();
    let busy = world.add_ready_node("default", &fake_type_name(2, 4), EXISTING_NODE);
    world.add_bound_pod(busy, &pod_spec(1000, GIB));
    let empty = world.add_ready_node(
        "default",
        &fake_type_name(2, 4),
        Resources::new(500, GIB, 100),
    );
    world.send(&mut policy, PolicyEvent::Start);

    let log = world.advance_to(&mut policy, secs(60));

    let launched = launches(untimed(&log));
    assert_eq!(launched.len(), 1);
    assert_eq!(launched[0].labels["team"], "web");
    assert_eq!(launched_types(&world, &log), [fake_type_name(2, 4)]);
    assert_eq!(
        deletions(untimed(&log)),
        [(empty, DisruptionReason::Drifted)]
    );
    assert_eq!(
        policy.drifted.keys().copied().collect::<Vec<_>>(),
        [busy, empty]
    );
    let new_node = *policy.replacements.keys().next().unwrap();
    let ready = world.make_ready(&mut policy, new_node);
    assert_eq!(
        deletions(&ready.actions),
        [(busy, DisruptionReason::Drifted)]
    );
    assert_eq!(world.live_nodes("default"), [new_node]);
}

#[test]
fn unchanged_template_no_drift() {
    // An update that changes only the disruption settings drifts nothing.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let never = NodePool {
        consolidate_after: None,
        ..pool("default")
    };
    let budget_only = NodePool {
        budgets: vec![BudgetNodes::Count(5)],
        ..never.clone()
    };
    let mut policy = karpenter_with_updates(vec![never], vec![(5, budget_only)]);
    world.add_ready_node("default", &fake_type_name(2, 4), EXISTING_NODE);
    world.send(&mut policy, PolicyEvent::Start);

    let log = world.advance_to(&mut policy, secs(60));

    assert!(log.is_empty());
    assert!(policy.drifted.is_empty());
}

#[test]
fn expiration_at_720_hours() {
    // A node expires 720 h after its launch, the default expireAfter, even under a 0 %
    // budget: expiration is forceful. Its evicted pod comes back Unschedulable and the
    // provisioner launches a node for it.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let no_budget = NodePool {
        budgets: vec![BudgetNodes::Percent(0)],
        ..pool("default")
    };
    let mut policy = karpenter(vec![no_budget]);
    let node = world.add_ready_node("default", &fake_type_name(2, 4), EXISTING_NODE);
    world.add_bound_pod(node, &pod_spec(1000, GIB));
    world.send(&mut policy, PolicyEvent::Start);
    let expiry = SimTime::ZERO + SimDuration::from_hours(720);

    let mut before = Vec::new();
    for day in 1..30 {
        before.extend(world.advance_to(
            &mut policy,
            SimTime::ZERO + SimDuration::from_hours(24 * day),
        ));
    }
    before.extend(world.advance_to(&mut policy, SimTime(expiry.0 - 1)));
    let log = world.advance_to(&mut policy, expiry);

    // Before the expiry the log contains only the note that the budget blocks consolidation.
    assert_eq!(
        blocked_notes(&before),
        [
            "NodePool default: budget nodes \"0%\" allows no Underutilized disruptions, and 1 \
          candidate node for Underutilized waits"
        ]
    );
    assert_eq!(before.len(), 1);
    assert_eq!(
        deletions(untimed(&log)),
        [(node, DisruptionReason::Expired)]
    );
    assert_eq!(deletion_times(&log), [expiry]);

    let pending = world.schedule();
    assert_eq!(pending.len(), 1);
    world.send(&mut policy, PolicyEvent::PodsUnschedulable(pending));
    let provisioned = world.advance_to(&mut policy, expiry + SimDuration::from_secs(1));
    assert_eq!(launched_types(&world, &provisioned), [fake_type_name(2, 4)]);
}

#[test]
fn expire_after_never_keeps_node() {
    // With expireAfter Never a node outlives 720 h.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let forever = NodePool {
        budgets: vec![BudgetNodes::Percent(0)],
        expire_after: None,
        ..pool("default")
    };
    let mut policy = karpenter(vec![forever]);
    let node = world.add_ready_node("default", &fake_type_name(2, 4), EXISTING_NODE);
    world.add_bound_pod(node, &pod_spec(1000, GIB));
    world.send(&mut policy, PolicyEvent::Start);

    let mut log = Vec::new();
    for day in 1..=31 {
        log.extend(world.advance_to(
            &mut policy,
            SimTime::ZERO + SimDuration::from_hours(24 * day),
        ));
    }

    // The log contains only the note that the budget blocks consolidation.
    assert_eq!(
        blocked_notes(&log),
        [
            "NodePool default: budget nodes \"0%\" allows no Underutilized disruptions, and 1 \
          candidate node for Underutilized waits"
        ]
    );
    assert_eq!(log.len(), 1);
    assert_eq!(world.live_nodes("default"), [node]);
}

// Karpenter v1.14: candidate order, the consolidateAfter check on destinations, and the
// Balanced policy (pkg/controllers/disruption/balanced.go).

/// Creates a Karpenter policy that models v1.14.
fn karpenter_v1_14(node_pools: Vec<NodePool>) -> Karpenter {
    Karpenter::new(KarpenterConfig {
        node_pools,
        version: KarpenterVersion::V1_14,
        ..Default::default()
    })
}

/// Runs S1's cluster with a consolidateAfter of 1 minute, where A (two pods) receives a third
/// pod at 50 s, under `policy`; returns the nodes and the actions until 3 minutes.
fn destination_in_window(mut policy: Karpenter) -> (NodeId, NodeId, Vec<(SimTime, Action)>) {
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let (a, b) = add_two_nodes(&mut world);
    world.send(&mut policy, PolicyEvent::Start);

    let mut log = world.advance_to(&mut policy, secs(50));
    world.add_bound_pod(a, &pod_spec(0, 0));
    log.extend(world.advance_to(&mut policy, secs(180)));
    (a, b, log)
}

/// Builds S1's NodePool with a consolidateAfter of 1 minute.
fn one_minute_pool() -> NodePool {
    NodePool {
        consolidate_after: Some(SimDuration::from_mins(1)),
        ..pool("default")
    }
}

#[test]
fn v1_13_moves_onto_busy_destination() {
    // v1.13 has no destination check: B is eligible at 60 s and its pod moves to A, which is
    // still inside its window after the pod that arrived at 50 s.
    let (_, b, log) = destination_in_window(karpenter(vec![one_minute_pool()]));

    assert_eq!(
        deletions(untimed(&log)),
        [(b, DisruptionReason::Underutilized)]
    );
    assert_eq!(deletion_times(&log), [secs(75)]);
}

#[test]
fn v1_14_waits_for_destination() {
    // "should not consolidate pods onto a destination node that is under its consolidateAfter
    // window": v1.14 keeps B's pod off A until A's window ends at 110 s. The pass at 110 s
    // finds the move, and B is deleted after the 15 s validation.
    let (_, b, log) = destination_in_window(karpenter_v1_14(vec![one_minute_pool()]));

    assert_eq!(
        deletions(untimed(&log)),
        [(b, DisruptionReason::Underutilized)]
    );
    assert_eq!(deletion_times(&log), [secs(125)]);
}

#[test]
fn v1_14_replace_not_gated() {
    // The replace path is not gated: an expensive node that is past its own window is
    // replaced by a new node while the only other node is inside its window. v1.13 moves
    // the pod to that node and deletes the expensive one instead.
    let run = |mut policy: Karpenter| {
        let mut world = TestWorld::new(fake_catalog(), vec![]);
        let expensive = world.add_ready_node("default", &fake_type_name(64, 128), EXISTING_NODE);
        world.add_bound_pod(expensive, &pod_spec(0, 0));
        let busy = world.add_ready_node("default", &least_expensive_type(), EXISTING_NODE);
        world.send(&mut policy, PolicyEvent::Start);
        let mut log = world.advance_to(&mut policy, secs(50));
        world.add_bound_pod(busy, &pod_spec(0, 0));
        log.extend(world.advance_to(&mut policy, secs(75)));
        (expensive, log)
    };

    let (expensive, v1_14) = run(karpenter_v1_14(vec![one_minute_pool()]));
    let (same_node, v1_13) = run(karpenter(vec![one_minute_pool()]));

    assert_eq!(
        launched_types(&TestWorld::new(fake_catalog(), vec![]), &v1_14),
        [fake_type_name(1, 2)]
    );
    assert!(deletions(untimed(&v1_14)).is_empty());
    assert!(launches(untimed(&v1_13)).is_empty());
    assert_eq!(
        deletions(untimed(&v1_13)),
        [(same_node, DisruptionReason::Underutilized)]
    );
    assert_eq!(expensive, same_node);
}

/// Runs two nodes, X of the most expensive type with two pods and Y of the least expensive
/// one with one pod, under `policy`; returns them with the actions until 60 s.
fn savings_order(mut policy: Karpenter) -> (NodeId, NodeId, Vec<(SimTime, Action)>) {
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let x = world.add_ready_node("default", &fake_type_name(64, 128), EXISTING_NODE);
    let y = world.add_ready_node("default", &least_expensive_type(), EXISTING_NODE);
    let spec = pod_spec(0, 0);
    world.add_bound_pod(x, &spec);
    world.add_bound_pod(x, &spec);
    world.add_bound_pod(y, &spec);
    world.send(&mut policy, PolicyEvent::Start);

    let log = world.advance_to(&mut policy, secs(60));
    (x, y, log)
}

#[test]
fn v1_13_orders_by_disruption_cost() {
    // Fewer pods first: Y (one pod) is deleted and its pod moves to X.
    let (_, y, log) = savings_order(karpenter(vec![pool("default")]));

    assert_eq!(
        deletions(untimed(&log)),
        [(y, DisruptionReason::Underutilized)]
    );
}

#[test]
fn v1_14_orders_by_savings_ratio() {
    // "should consolidate the node with best savings ratio first": X costs $20.14/h for a
    // disruption cost of 3, Y $0.31/h for 2, so X goes first and its pods move to Y.
    let (x, _, log) = savings_order(karpenter_v1_14(vec![pool("default")]));

    assert_eq!(
        deletions(untimed(&log)),
        [(x, DisruptionReason::Underutilized)]
    );
}

/// Runs a NodePool of a "big" node (8 CPU, one 6 CPU pod) and a "small" node (2 CPU, 20
/// request-less pods) under `policy`; returns the small node and the actions until 60 s.
/// The only move is deleting the small node, whose pods fit in the big node's spare room.
fn costly_move(mut policy: Karpenter) -> (NodeId, Vec<(SimTime, Action)>) {
    let catalog = Catalog::new(vec![
        instance_type("small", 2, 8 * 1024, Price(200_000)),
        instance_type("big", 8, 32 * 1024, Price(800_000)),
    ]);
    let mut world = TestWorld::new(catalog, vec![]);
    let big = world.add_ready_node("default", "big", Resources::new(8000, 32 * GIB, 100));
    world.add_bound_pod(big, &pod_spec(6000, 0));
    let small = world.add_ready_node("default", "small", Resources::new(2000, 8 * GIB, 100));
    for _ in 0..20 {
        world.add_bound_pod(small, &pod_spec(0, 0));
    }
    world.send(&mut policy, PolicyEvent::Start);

    let log = world.advance_to(&mut policy, secs(60));
    (small, log)
}

#[test]
fn underutilized_takes_costly_move() {
    let (small, log) = costly_move(karpenter_v1_14(vec![pool("default")]));

    assert_eq!(
        deletions(untimed(&log)),
        [(small, DisruptionReason::Underutilized)]
    );
}

#[test]
fn balanced_rejects_costly_move() {
    // Deleting the small node saves 20 % of the pool's cost but moves 21 of its 23 units of
    // disruption cost: a score of 0.22, below 1/2, so a Balanced pool keeps it.
    let balanced = NodePool {
        consolidation_policy: ConsolidationPolicy::Balanced,
        ..pool("default")
    };

    let (_, log) = costly_move(karpenter_v1_14(vec![balanced]));

    assert!(deletions(untimed(&log)).is_empty());
    assert!(launches(untimed(&log)).is_empty());
    assert_eq!(
        notes(&log),
        ["Unconsolidatable: node default-0: Can't replace with a cheaper node"]
    );
}

#[test]
fn balanced_approves_good_move() {
    // S1 under Balanced: deleting B saves half the pool's cost for 2 of its 5 units of
    // disruption cost, a score of 1.25.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let balanced = NodePool {
        consolidation_policy: ConsolidationPolicy::Balanced,
        ..pool("default")
    };
    let mut policy = karpenter_v1_14(vec![balanced]);
    let (_, b) = add_two_nodes(&mut world);
    world.send(&mut policy, PolicyEvent::Start);

    let log = world.advance_to(&mut policy, secs(60));

    assert_eq!(
        deletions(untimed(&log)),
        [(b, DisruptionReason::Underutilized)]
    );
}

// The remaining consolidation cases of consolidation_test.go and emptiness_test.go, and the
// behaviour users reported.

/// Builds a pod spec without requests labelled `app: name`.
fn app_pod(name: &str) -> Arc<PodSpec> {
    let mut spec = (*pod_spec(0, 0)).clone();
    spec.labels.insert("app".to_string(), name.to_string());
    Arc::new(spec)
}

#[test]
fn pdb_blocks_fewest_pods() {
    // "can delete nodes, considers PDB": B's pod is covered by a PodDisruptionBudget with
    // maxUnavailable 0, so B is no candidate and A is deleted, its two pods moving to B.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    world.cluster.set_pdbs(vec![PodDisruptionBudget {
        name: "b".to_string(),
        namespace: String::new(),
        selector: LabelSelector {
            match_labels: BTreeMap::from([("app".to_string(), "b".to_string())]),
            match_expressions: vec![],
        },
        min_available: None,
        max_unavailable: Some(IntOrPercent::Int(0)),
    }]);
    let mut policy = karpenter(vec![pool("default")]);
    let cheapest = least_expensive_type();
    let a = world.add_ready_node("default", &cheapest, EXISTING_NODE);
    let b = world.add_ready_node("default", &cheapest, EXISTING_NODE);
    world.add_bound_pod(a, &app_pod("a"));
    world.add_bound_pod(a, &app_pod("a"));
    world.add_bound_pod(b, &app_pod("b"));
    world.send(&mut policy, PolicyEvent::Start);

    let log = world.advance_to(&mut policy, secs(60));

    assert_eq!(
        deletions(untimed(&log)),
        [(a, DisruptionReason::Underutilized)]
    );
    assert!(launches(untimed(&log)).is_empty());
    assert_eq!(world.live_nodes("default"), [b]);
}

/// Builds a spot market whose prices are fixed: `prices` lists (instance type, micro-dollars
/// per hour) in every test zone; other types keep the model's 60 % discount.
pub(super) fn fixed_spot_prices(prices: &[(&str, u64)]) -> SpotMarket {
    let mut settings = SpotSettings::default();
    for (name, price) in prices {
        for zone in crate::testing::ZONES {
            settings.history.insert(
                (name.to_string(), zone.to_string()),
                vec![(SimTime::ZERO, Price(*price))],
            );
        }
    }
    SpotMarket::new(settings, 1)
}

/// Runs one spot node of `candidate` with a request-less pod in a spot-only NodePool, with
/// the SpotToSpotConsolidation gate set to `gate`; returns the node and the actions until
/// 2 minutes.
fn spot_candidate(
    catalog: Catalog,
    market: SpotMarket,
    candidate: &str,
    gate: bool,
) -> (NodeId, Vec<(SimTime, Action)>) {
    let mut world = TestWorld::new(catalog, vec![]);
    let spot_pool = NodePool {
        requirements: vec![capacity_types(&["spot"])],
        ..pool("default")
    };
    let mut policy = Karpenter::with_market(
        KarpenterConfig {
            node_pools: vec![spot_pool],
            spot_to_spot_consolidation: gate,
            ..Default::default()
        },
        market,
    );
    let node = world.add_ready_spot_node("default", candidate, EXISTING_NODE);
    world.add_bound_pod(node, &pod_spec(0, 0));
    world.send(&mut policy, PolicyEvent::Start);

    let log = world.advance_to(&mut policy, secs(120));
    (node, log)
}

#[test]
fn spot_to_spot_gate_off() {
    // "cannot replace spot with spot if the spotToSpotConsolidation is disabled".
    let market = SpotMarket::new(SpotSettings::default(), 1);

    let (node, log) = spot_candidate(fake_catalog(), market, &fake_type_name(64, 128), false);

    assert!(deletions(untimed(&log)).is_empty());
    assert!(launches(untimed(&log)).is_empty());
    assert_eq!(
        notes(&log),
        [format!(
            "Unconsolidatable: node default-{}: SpotToSpotConsolidation is disabled, can't replace a spot node with a spot node",
            node.0
        )]
    );
}

/// Builds `count` fake types of 2 vCPU and 4 GiB upwards in memory, named `type-0` ..,
/// priced $0.1 per vCPU plus $0.1 per GiB on-demand.
pub(super) fn numbered_types(count: u64) -> Catalog {
    Catalog::new(
        (0..count)
            .map(|i| {
                let memory_gib = 4 + i;
                instance_type(
                    &format!("type-{i}"),
                    2,
                    memory_gib * 1024,
                    Price(200_000 + 100_000 * memory_gib),
                )
            })
            .collect(),
    )
}

#[test]
fn spot_to_spot_needs_fifteen() {
    // "cannot replace spot with spot if less than minimum InstanceTypes flexibility": five
    // types, one forced to spot at $0.001, the other three priced above the candidate, the
    // most expensive type.
    let market = fixed_spot_prices(&[
        ("type-0", 1_000),
        ("type-1", 900_000),
        ("type-2", 900_000),
        ("type-3", 900_000),
    ]);

    let (node, log) = spot_candidate(numbered_types(5), market, "type-4", true);

    assert!(deletions(untimed(&log)).is_empty());
    assert!(launches(untimed(&log)).is_empty());
    assert_eq!(
        notes(&log),
        [format!(
            "Unconsolidatable: node default-{}: SpotToSpotConsolidation requires 15 cheaper instance type options than the current candidate to consolidate, got 1",
            node.0
        )]
    );
}

#[test]
fn spot_among_fifteen_cheapest() {
    // "cannot replace spot with spot if it is part of the 15 cheapest instance types": twenty
    // types, the cheapest forced to spot at $0.001, the candidate the second cheapest. Only
    // one type is cheaper, so the node and its NodeClaim stay.
    let market = fixed_spot_prices(&[("type-0", 1_000)]);

    let (node, log) = spot_candidate(numbered_types(20), market, "type-1", true);

    assert!(deletions(untimed(&log)).is_empty());
    assert!(launches(untimed(&log)).is_empty());
    assert_eq!(
        notes(&log),
        [format!(
            "Unconsolidatable: node default-{}: SpotToSpotConsolidation requires 15 cheaper instance type options than the current candidate to consolidate, got 1",
            node.0
        )]
    );
}

#[test]
fn spot_to_spot_with_fifteen_cheaper() {
    // The same twenty types with the candidate the most expensive: nineteen are cheaper, so
    // the node is replaced and the NodeClaim keeps the 15 cheapest.
    let market = SpotMarket::new(SpotSettings::default(), 1);

    let (_, log) = spot_candidate(numbered_types(20), market, "type-19", true);

    let launched = launches(untimed(&log));
    assert_eq!(launched.len(), 1);
    assert_eq!(launched[0].capacity_type, CapacityType::Spot);
    assert!(launched[0].reason.contains("15 instance types"));
}

#[test]
fn anti_affinity_blocks_consolidation() {
    // "won't delete node if it would violate pod anti-affinity": three nodes of the least
    // expensive type with 1 CPU allocatable, each running one of three 1 CPU pods with
    // required hostname anti-affinity among themselves. No pod can move, and a replacement
    // big enough for a 1 CPU pod costs more.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let mut policy = karpenter(vec![pool("default")]);
    let mut spec = (*pod_spec(1000, 0)).clone();
    spec.labels.insert("app".to_string(), "spread".to_string());
    spec.pod_anti_affinity.required.push(PodAffinityTerm {
        label_selector: LabelSelector {
            match_labels: BTreeMap::from([("app".to_string(), "spread".to_string())]),
            match_expressions: vec![],
        },
        topology_key: LABEL_HOSTNAME.to_string(),
        namespaces: vec![],
    });
    let spec = Arc::new(spec);
    let nodes: Vec<NodeId> = (0..3)
        .map(|_| {
            let node = world.add_ready_node(
                "default",
                &least_expensive_type(),
                Resources::new(1000, 32 * GIB, 100),
            );
            world.add_bound_pod(node, &spec);
            node
        })
        .collect();
    world.send(&mut policy, PolicyEvent::Start);

    let log = world.advance_to(&mut policy, secs(120));

    assert!(deletions(untimed(&log)).is_empty());
    assert!(launches(untimed(&log)).is_empty());
    let expected: Vec<String> = nodes
        .iter()
        .map(|n| {
            format!(
                "Unconsolidatable: node default-{}: Can't replace with a cheaper node",
                n.0
            )
        })
        .collect();
    assert_eq!(notes(&log), expected);
}

#[test]
fn terminating_pods_count_as_empty() {
    // emptiness_test.go: a node whose three ReplicaSet pods are all terminating is empty.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let mut policy = karpenter(vec![pool("default")]);
    let node = world.add_ready_node("default", &least_expensive_type(), EXISTING_NODE);
    for _ in 0..3 {
        let pod = world.add_bound_pod(node, &pod_spec(0, 0));
        world.cluster.begin_termination(pod, world.now);
    }
    world.send(&mut policy, PolicyEvent::Start);

    let log = world.advance_to(&mut policy, secs(25));

    assert_eq!(deletions(untimed(&log)), [(node, DisruptionReason::Empty)]);
}

#[test]
fn terminating_stateful_pod_keeps_node() {
    // emptiness_test.go: a terminating StatefulSet pod is reschedulable, so its node is not
    // empty and stays.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let mut policy = karpenter(vec![pool("default")]);
    let node = world.add_ready_node("default", &least_expensive_type(), EXISTING_NODE);
    let owner = Owner::StatefulSet { set: 0, ordinal: 0 };
    let pod = world.cluster.create_pod(owner, pod_spec(0, 0), world.now);
    world.cluster.bind(pod, node, world.now);
    world.cluster.set_running(pod);
    world.cluster.begin_termination(pod, world.now);
    world.send(&mut policy, PolicyEvent::Start);

    let log = world.advance_to(&mut policy, secs(25));

    assert!(deletions(untimed(&log)).is_empty());
    assert_eq!(world.live_nodes("default"), [node]);
}

#[test]
fn consolidate_after_gates_empty_node() {
    // User report: consolidateAfter delays the deletion of empty nodes too. The node's last
    // pod leaves at 60 s; with consolidateAfter 10m it is deleted only after 660 s plus the
    // 15 s validation.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let slow = NodePool {
        consolidate_after: Some(SimDuration::from_mins(10)),
        ..pool("default")
    };
    let mut policy = karpenter(vec![slow]);
    let node = world.add_ready_node("default", &least_expensive_type(), EXISTING_NODE);
    let pod = world.add_bound_pod(node, &pod_spec(0, 0));
    world.send(&mut policy, PolicyEvent::Start);

    let mut log = world.advance_to(&mut policy, secs(60));
    world.cluster.delete_pod(pod, world.now);
    log.extend(world.advance_to(&mut policy, secs(1200)));

    assert_eq!(deletions(untimed(&log)), [(node, DisruptionReason::Empty)]);
    assert_eq!(deletion_times(&log), [secs(675)]);
}

/// Adds three Ready nodes of 2 vCPU and 4 GiB, each running one 100m pod labelled `app: web`
/// with preferred hostname anti-affinity against the others. Returns the nodes.
pub(super) fn add_nodes_preferring_apart(world: &mut TestWorld) -> Vec<NodeId> {
    let mut spec = (*pod_spec(100, 0)).clone();
    spec.labels.insert("app".to_string(), "web".to_string());
    spec.pod_anti_affinity
        .preferred
        .push(WeightedPodAffinityTerm {
            weight: 100,
            pod_affinity_term: PodAffinityTerm {
                label_selector: LabelSelector {
                    match_labels: BTreeMap::from([("app".to_string(), "web".to_string())]),
                    match_expressions: vec![],
                },
                topology_key: LABEL_HOSTNAME.to_string(),
                namespaces: vec![],
            },
        });
    let spec = Arc::new(spec);
    (0..3)
        .map(|_| {
            let node = world.add_ready_node("default", &fake_type_name(2, 4), EXISTING_NODE);
            world.add_bound_pod(node, &spec);
            node
        })
        .collect()
}

#[test]
fn preferred_anti_affinity_respected() {
    // User report aws/karpenter-provider-aws#5120 saw consolidation pile pods with preferred
    // anti-affinity onto one node. Under v1.13's default preference policy (Respect) the
    // scheduling simulation treats preferences as required until a pod fits nowhere, and a new
    // NodeClaim always fits, so preferences are never relaxed there: consolidation keeps the
    // pods apart, the case the disruption docs warn about. Three nodes each run one such pod.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let mut policy = karpenter(vec![pool("default")]);
    let nodes = add_nodes_preferring_apart(&mut world);
    world.send(&mut policy, PolicyEvent::Start);

    let log = world.advance_to(&mut policy, secs(25));

    // No merge of the three: each pod would need its own new node, so multi-node finds no
    // command. Single-node consolidation replaces the first node with one cheaper node.
    let launched = launches(untimed(&log));
    assert_eq!(launched.len(), 1);
    assert!(
        launched[0]
            .reason
            .starts_with("Underutilized: replacement by single-node consolidation for default-0"),
        "{}",
        launched[0].reason
    );
    assert_eq!(world.live_nodes("default").len(), 4);
    assert!(
        nodes
            .iter()
            .all(|n| world.cluster.node(*n).unwrap().pods.len() == 1)
    );
}

/// Runs two 1.9 CPU pods on two 2 vCPU nodes for an hour, where a 4 vCPU / 2 GiB node really
/// has `merged_cpu_millis` of allocatable CPU against the 3.92 CPU Karpenter estimates. The
/// world makes launched nodes Ready after 1 s, removes deleted nodes and binds pods at once.
/// Returns how many 4 vCPU nodes consolidation launched and how many nodes provisioning
/// launched.
fn run_merge_hour(merged_cpu_millis: i64) -> (usize, usize) {
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let merged_type = fake_type_name(4, 2);
    let estimate = world.catalog.by_name(&merged_type).unwrap().allocatable();
    world.true_allocatable.insert(
        merged_type.clone(),
        Resources::new(merged_cpu_millis, estimate.memory_bytes, estimate.pods),
    );
    let mut policy = karpenter(vec![pool("default")]);
    let small = Resources::new(1930, 2 * GIB, 100);
    for _ in 0..2 {
        let node = world.add_ready_node("default", &fake_type_name(2, 2), small);
        world.add_bound_pod(node, &pod_spec(1900, 0));
    }
    world.send(&mut policy, PolicyEvent::Start);

    let mut log = Vec::new();
    for second in 1..=3600 {
        log.extend(world.advance_to(&mut policy, secs(second)));
        let launching: Vec<NodeId> = world
            .cluster
            .nodes()
            .filter(|n| n.state == NodeState::Launching)
            .map(|n| n.id)
            .collect();
        for node in launching {
            let reply = world.make_ready(&mut policy, node);
            log.extend(reply.actions.into_iter().map(|a| (world.now, a)));
        }
        let deleting: Vec<NodeId> = world
            .cluster
            .nodes()
            .filter(|n| n.state == NodeState::Deleting)
            .map(|n| n.id)
            .collect();
        for node in deleting {
            world.terminate(&mut policy, node);
        }
        let pending = world.schedule();
        if !pending.is_empty() {
            world.send(&mut policy, PolicyEvent::PodsUnschedulable(pending));
        }
    }

    let launched = launches(untimed(&log));
    let merges = launched
        .iter()
        .filter(|r| world.catalog.get(r.instance_type).name == merged_type)
        .count();
    let provisioned = launched
        .iter()
        .filter(|r| r.reason.starts_with("Provisioning"))
        .count();
    (merges, provisioned)
}

#[test]
fn allocatable_overestimate_churns() {
    // User report: when Karpenter estimates more allocatable than a node really has,
    // consolidation merges two nodes into one that cannot hold both pods, a node is launched
    // for the pod left over, and the cycle repeats: here 72 times in an hour.
    let (merges, provisioned) = run_merge_hour(3720);

    assert_eq!(merges, 72);
    assert_eq!(provisioned, 72);
}

#[test]
fn accurate_allocatable_merges_once() {
    // The same cluster when the estimate is right: one merge, and nothing more.
    let (merges, provisioned) = run_merge_hour(3920);

    assert_eq!(merges, 1);
    assert_eq!(provisioned, 0);
}

#[test]
fn drift_waits_for_budget() {
    // Drift stays within the NodePool's budget: under `nodes: 0` the drifted node stays.
    let catalog = Catalog::new(vec![
        instance_type("current", 8, 32 * 1024, Price(800_000)),
        instance_type("small", 3, 8 * 1024, Price(300_000)),
    ]);
    let mut world = TestWorld::new(catalog, vec![]);
    let frozen = NodePool {
        budgets: vec![BudgetNodes::Count(0)],
        ..pool("default")
    };
    let changed = NodePool {
        requirements: vec![instance_types(&["small"])],
        ..frozen.clone()
    };
    let mut policy = karpenter_with_updates(vec![frozen], vec![(5, changed)]);
    let old = world.add_ready_node("default", "current", Resources::new(8000, 32 * GIB, 100));
    world.add_bound_pod(old, &pod_spec(2000, 0));
    world.send(&mut policy, PolicyEvent::Start);

    let log = world.advance_to(&mut policy, secs(120));

    assert_eq!(policy.drifted.keys().copied().collect::<Vec<_>>(), [old]);
    assert!(launches(untimed(&log)).is_empty());
    assert!(deletions(untimed(&log)).is_empty());
    // The first pass, after the update, notes both blocked reasons in the order the methods run.
    assert_eq!(
        blocked_notes(&log),
        [
            "NodePool default: budget nodes \"0\" allows no Drifted disruptions, and 1 candidate \
             node for Drifted waits",
            "NodePool default: budget nodes \"0\" allows no Underutilized disruptions, and 1 \
             candidate node for Underutilized waits"
        ]
    );
}

/// Lists the details of the `disruption-blocked` notes in `log`, in order.
fn blocked_notes(log: &[(SimTime, Action)]) -> Vec<String> {
    untimed(log)
        .filter_map(|action| match action {
            Action::Note { action, detail, .. } if action == "disruption-blocked" => {
                Some(detail.clone())
            }
            _ => None,
        })
        .collect()
}

#[test]
fn blocking_budget_noted_once_per_block() {
    // From 00:00 to 01:00 UTC every day a budget allows no Underutilized disruptions. Two
    // underutilized nodes wait: one note when the block starts, none on the passes after it.
    // The block lifts at 01:00 and B is deleted; the next day's block gets a note again,
    // for A alone.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let nightly = DisruptionBudget {
        nodes: BudgetNodes::Count(0),
        reasons: vec![BudgetReason::Underutilized],
        window: Some((CronSchedule::parse("0 0 * * *").unwrap(), 3600)),
    };
    let mut policy = karpenter(vec![NodePool {
        conditional_budgets: vec![nightly],
        ..pool("default")
    }]);
    let (_, b) = add_two_nodes(&mut world);
    world.send(&mut policy, PolicyEvent::Start);

    let during = world.advance_to(&mut policy, secs(3590));
    let after = world.advance_to(&mut policy, secs(7200));
    let next_day = world.advance_to(&mut policy, secs(86_400 + 60));

    assert_eq!(
        blocked_notes(&during),
        [
            "NodePool default: budget nodes \"0\" with reasons [Underutilized] and schedule \
          \"0 0 * * *\" for 1h allows no Underutilized disruptions, and 2 candidate \
          nodes for Underutilized wait"
        ]
    );
    assert!(deletions(untimed(&during)).is_empty());
    assert!(blocked_notes(&after).is_empty());
    assert_eq!(
        deletions(untimed(&after)),
        [(b, DisruptionReason::Underutilized)]
    );
    assert_eq!(
        blocked_notes(&next_day),
        [
            "NodePool default: budget nodes \"0\" with reasons [Underutilized] and schedule \
          \"0 0 * * *\" for 1h allows no Underutilized disruptions, and 1 candidate \
          node for Underutilized waits"
        ]
    );
}

#[test]
fn do_not_disrupt_pod_noted_once() {
    // Node B's only pod carries do-not-disrupt, so consolidation passes it over. Every pass
    // until 10 min finds it blocked, and one note names the pod.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let mut policy = karpenter(vec![pool("default")]);
    let cheapest = least_expensive_type();
    let a = world.add_ready_node("default", &cheapest, EXISTING_NODE);
    let b = world.add_ready_node("default", &cheapest, EXISTING_NODE);
    world.add_bound_pod(a, &pod_spec(0, 0));
    let mut pinned = (*pod_spec(0, 0)).clone();
    pinned.do_not_disrupt = true;
    let pod = world.add_bound_pod(b, &Arc::new(pinned));
    world.send(&mut policy, PolicyEvent::Start);

    let log = world.advance_to(&mut policy, secs(600));

    let blocked: Vec<(Option<NodeId>, String)> = untimed(&log)
        .filter_map(|action| match action {
            Action::Note {
                node,
                action,
                detail,
                ..
            } if action == "disruption-blocked" => Some((*node, detail.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        blocked,
        [(
            Some(b),
            format!("pod default/{pod} has the karpenter.sh/do-not-disrupt annotation")
        )]
    );
    assert_eq!(
        deletions(untimed(&log)),
        [(a, DisruptionReason::Underutilized)]
    );
}

#[test]
fn expiration_ignores_do_not_disrupt() {
    // Expiration is forceful: neither a pod annotated `karpenter.sh/do-not-disrupt` nor the
    // node's own annotation keeps an expired node, here after an expireAfter of 1 h.
    for on_node in [false, true] {
        let mut world = TestWorld::new(fake_catalog(), vec![]);
        let hourly = NodePool {
            expire_after: Some(SimDuration::from_hours(1)),
            ..pool("default")
        };
        let mut policy = karpenter(vec![hourly]);
        let node = world.add_ready_node("default", &fake_type_name(2, 4), EXISTING_NODE);
        let mut spec = (*pod_spec(1000, GIB)).clone();
        if on_node {
            world.cluster.annotate_node(node, DO_NOT_DISRUPT, "true");
        } else {
            spec.do_not_disrupt = true;
        }
        world.add_bound_pod(node, &Arc::new(spec));
        world.send(&mut policy, PolicyEvent::Start);

        let log = world.advance_to(&mut policy, secs(3600));

        assert_eq!(
            deletions(untimed(&log)),
            [(node, DisruptionReason::Expired)],
            "annotation on the node: {on_node}"
        );
        assert_eq!(deletion_times(&log), [secs(3600)]);
    }
}

#[test]
fn multi_node_validation_rejects_change() {
    // A multi-node command is validated again after 15 s: a do-not-disrupt pod that lands on
    // one candidate during the wait voids it. The next pass, at 35 s, deletes the other two
    // nodes, whose pods now fit on the pinned one, and the deletion follows at 50 s.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let mut policy = karpenter(vec![pool("default")]);
    let nodes: Vec<NodeId> = (0..3)
        .map(|_| {
            let node = world.add_ready_node("default", &fake_type_name(64, 128), EXISTING_NODE);
            world.add_bound_pod(node, &pod_spec(0, 0));
            node
        })
        .collect();
    world.send(&mut policy, PolicyEvent::Start);
    let mut pinned = (*pod_spec(0, 0)).clone();
    pinned.do_not_disrupt = true;

    let first = world.advance_to(&mut policy, secs(15));
    world.add_bound_pod(nodes[1], &Arc::new(pinned));
    let voided = world.advance_to(&mut policy, secs(25));
    let log = world.advance_to(&mut policy, secs(60));

    assert!(first.is_empty());
    assert!(voided.is_empty());
    assert_eq!(
        deletions(untimed(&log)),
        [
            (nodes[0], DisruptionReason::Underutilized),
            (nodes[2], DisruptionReason::Underutilized)
        ]
    );
    assert_eq!(deletion_times(&log), [secs(50), secs(50)]);
    assert!(launches(untimed(&log)).is_empty());
}

// The node's own `karpenter.sh/do-not-disrupt` annotation (v1.14.1 `ValidateNodeDisruptable`).

/// Runs "can delete nodes" for 60 s with B annotated do-not-disrupt set to `value`, and returns
/// A, B and the log.
fn two_nodes_b_annotated(value: &str) -> (NodeId, NodeId, Vec<(SimTime, Action)>) {
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let mut policy = karpenter(vec![pool("default")]);
    let (a, b) = add_two_nodes(&mut world);
    world.cluster.annotate_node(b, DO_NOT_DISRUPT, value);
    world.send(&mut policy, PolicyEvent::Start);
    let log = world.advance_to(&mut policy, secs(60));
    (a, b, log)
}

#[test]
fn node_do_not_disrupt_keeps_node() {
    // "can delete nodes, considers karpenter.sh/do-not-disrupt set to true on nodes": B, which
    // would go first, carries the annotation, so A is deleted instead and its pods move to B.
    let (a, _, log) = two_nodes_b_annotated("true");

    assert_eq!(
        deletions(untimed(&log)),
        [(a, DisruptionReason::Underutilized)]
    );
    assert_eq!(
        notes(&log),
        ["the node has the karpenter.sh/do-not-disrupt annotation"]
    );
    assert!(launches(untimed(&log)).is_empty());
}

#[test]
fn node_do_not_disrupt_false_is_ignored() {
    // "should delete nodes with the karpenter.sh/do-not-disrupt annotation set to false": only
    // "true" blocks, so B goes as in "can delete nodes".
    let (_, b, log) = two_nodes_b_annotated("false");

    assert_eq!(
        deletions(untimed(&log)),
        [(b, DisruptionReason::Underutilized)]
    );
    assert!(!notes(&log).iter().any(|note| note.contains(DO_NOT_DISRUPT)));
}

#[test]
fn pool_annotations_reach_nodes_and_drift() {
    // A NodePool's template annotations go on its launch requests. A change of them drifts the
    // nodes launched before it, because the template hash covers its metadata. Here the new
    // template sets do-not-disrupt, and Drift replaces the old node with an annotated one.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let plain = pool("default");
    let mut pinned = plain.clone();
    pinned
        .annotations
        .insert(DO_NOT_DISRUPT.to_string(), "true".to_string());
    let mut policy = karpenter_with_updates(vec![plain], vec![(5, pinned)]);
    let old = world.add_ready_node("default", &fake_type_name(2, 4), EXISTING_NODE);
    world.add_bound_pod(old, &pod_spec(1000, GIB));
    world.send(&mut policy, PolicyEvent::Start);

    let log = world.advance_to(&mut policy, secs(60));

    let launched = launches(untimed(&log));
    assert_eq!(launched.len(), 1);
    assert_eq!(launched[0].annotations[DO_NOT_DISRUPT], "true");
    assert_eq!(policy.drifted.keys().copied().collect::<Vec<_>>(), [old]);
    let new_node = *policy.replacements.keys().next().unwrap();
    assert_eq!(
        world.cluster.node(new_node).unwrap().annotations[DO_NOT_DISRUPT],
        "true"
    );
    let ready = world.make_ready(&mut policy, new_node);
    assert_eq!(
        deletions(&ready.actions),
        [(old, DisruptionReason::Drifted)]
    );
}

#[test]
fn drift_ignores_node_do_not_disrupt() {
    // "should ignore nodes with the karpenter.sh/do-not-disrupt annotation set to true": a label
    // change drifts both nodes, and Drift deletes only the one without the annotation, although
    // the annotated one is empty and would go first.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let mut policy = relabelled_at_5s();
    let pinned = world.add_ready_node("default", &fake_type_name(2, 4), EXISTING_NODE);
    world.cluster.annotate_node(pinned, DO_NOT_DISRUPT, "true");
    let busy = world.add_ready_node("default", &fake_type_name(2, 4), EXISTING_NODE);
    world.add_bound_pod(busy, &pod_spec(1000, GIB));
    world.send(&mut policy, PolicyEvent::Start);

    let log = world.advance_to(&mut policy, secs(60));

    assert_eq!(
        policy.drifted.keys().copied().collect::<Vec<_>>(),
        [pinned, busy]
    );
    assert_eq!(
        deletions(untimed(&log)),
        [(busy, DisruptionReason::Drifted)],
        "the drifted pod moves to the pinned node, so nothing is launched"
    );
    assert!(launches(untimed(&log)).is_empty());
}

/// Adds the two nodes of "can delete nodes", with each pod of B (or of both nodes, when `all`)
/// annotated do-not-disrupt for 2 minutes from its start at 0 s.
fn two_nodes_protected_2m(world: &mut TestWorld, all: bool) -> (NodeId, NodeId) {
    let cheapest = least_expensive_type();
    let a = world.add_ready_node("default", &cheapest, EXISTING_NODE);
    let b = world.add_ready_node("default", &cheapest, EXISTING_NODE);
    let mut protected = (*pod_spec(0, 0)).clone();
    protected.do_not_disrupt_for = Some(SimDuration::from_mins(2));
    let protected = Arc::new(protected);
    let plain = pod_spec(0, 0);
    let on_a = if all { &protected } else { &plain };
    world.add_bound_pod(a, on_a);
    world.add_bound_pod(a, on_a);
    world.add_bound_pod(b, &protected);
    (a, b)
}

#[test]
fn do_not_disrupt_duration_protects_node() {
    // "does not consolidate nodes with pods that have a duration-based do-not-disrupt
    // annotation that is still active": B's pod is protected for 2 minutes, so the first pass
    // deletes A instead, and the note gives the end of B's protection.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let mut policy = karpenter(vec![pool("default")]);
    let (a, b) = two_nodes_protected_2m(&mut world, false);
    let pod = *world.cluster.node(b).unwrap().pods.first().unwrap();
    world.send(&mut policy, PolicyEvent::Start);

    let log = world.advance_to(&mut policy, secs(60));

    assert_eq!(
        deletions(untimed(&log)),
        [(a, DisruptionReason::Underutilized)]
    );
    assert_eq!(deletion_times(&log), [secs(25)]);
    assert_eq!(
        notes(&log),
        [format!(
            "pod default/{pod} has the karpenter.sh/do-not-disrupt annotation, which protects it until 0d00:02:00.000"
        )]
    );
}

#[test]
fn do_not_disrupt_duration_expires() {
    // "can consolidate nodes after duration-based do-not-disrupt annotation expires": every pod
    // is protected for 2 minutes, so nothing happens before then. The protection's end changes
    // nothing in the cluster, so consolidation waits for its 5-minute forced re-check after
    // the pass at 10 s that found nothing, and B goes 15 s after the pass at 5 min 10 s.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let mut policy = karpenter(vec![pool("default")]);
    let (_, b) = two_nodes_protected_2m(&mut world, true);
    world.send(&mut policy, PolicyEvent::Start);

    let protected = world.advance_to(&mut policy, secs(120));
    let later = world.advance_to(&mut policy, secs(600));

    assert!(deletions(untimed(&protected)).is_empty());
    assert_eq!(
        deletions(untimed(&later)),
        [(b, DisruptionReason::Underutilized)]
    );
    assert_eq!(deletion_times(&later), [secs(325)]);
}

#[test]
fn deletion_cost_orders_candidates() {
    // Eviction costs count the pod-deletion-cost annotation (`EvictionCost`). B's one pod, with
    // a deletion cost of 2^28, costs 3 to evict against 2 for A's two plain pods. So A goes
    // first, where "can delete nodes" without the annotation deletes B.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let mut policy = karpenter(vec![pool("default")]);
    let cheapest = least_expensive_type();
    let a = world.add_ready_node("default", &cheapest, EXISTING_NODE);
    let b = world.add_ready_node("default", &cheapest, EXISTING_NODE);
    let plain = pod_spec(0, 0);
    let mut costly = (*plain).clone();
    costly.deletion_cost = 1 << 28;
    world.add_bound_pod(a, &plain);
    world.add_bound_pod(a, &plain);
    world.add_bound_pod(b, &Arc::new(costly));
    world.send(&mut policy, PolicyEvent::Start);

    let log = world.advance_to(&mut policy, secs(60));

    assert_eq!(
        deletions(untimed(&log)),
        [(a, DisruptionReason::Underutilized)]
    );
}
