//! Cases with known right decisions, from the test suites of Karpenter (kubernetes-sigs/karpenter
//! v1.x, `pkg/controllers/`) and from behaviour users reported.

use std::sync::Arc;

use autoscale_sim_cloud::{Catalog, GIB, MIB, Price, Resources};
use autoscale_sim_engine::{SimDuration, SimTime};
use autoscale_sim_kube::{
    DaemonSet, LABEL_CAPACITY_TYPE, NodeId, PodSpec, Taint, TaintEffect, Toleration,
    TolerationOperator,
};

use super::{BudgetNodes, Karpenter, KarpenterConfig, NodePool};
use crate::api::{Action, DisruptionReason, PolicyEvent};
use crate::requirements::{LABEL_NODEPOOL, Operator, Requirement};
use crate::testing::{
    TestWorld, daemonset, deletions, fake_catalog, fake_type_name, instance_type, launches,
    pod_spec, secs, untimed,
};

/// Allocatable the disruption suite gives existing nodes: 32 CPU and 100 pods. Memory plays no
/// part in those cases, so it is set high enough never to matter.
const EXISTING_NODE: Resources = Resources::new(32_000, 32 * GIB, 100);

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
    let cheapest = fake_type_name(1, 1);
    let a = world.add_ready_node("default", &cheapest, EXISTING_NODE);
    let b = world.add_ready_node("default", &cheapest, EXISTING_NODE);
    let spec = pod_spec(0, 0);
    world.add_bound_pod(a, &spec);
    world.add_bound_pod(a, &spec);
    world.add_bound_pod(b, &spec);
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
    let (&new_node, command) = policy.replacements.iter().next().unwrap();
    let replacement = command.replacement.as_ref().unwrap();
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

    assert!(log.is_empty());
}

#[test]
fn uninitialized_destination_blocks() {
    // "won't delete node if it would require pods to schedule on an uninitialized node": A
    // (2 pods) is not initialized, B (1 pod) is. B's pod could only go to A, so nothing
    // happens.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let mut policy = karpenter(vec![pool("default")]);
    let cheapest = fake_type_name(1, 1);
    let a = world.add_launching_node("default", &cheapest, EXISTING_NODE);
    let b = world.add_ready_node("default", &cheapest, EXISTING_NODE);
    let spec = pod_spec(0, 0);
    world.add_bound_pod(a, &spec);
    world.add_bound_pod(a, &spec);
    world.add_bound_pod(b, &spec);
    world.send(&mut policy, PolicyEvent::Start);

    let log = world.advance_to(&mut policy, secs(120));

    assert!(log.is_empty());
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
    let cheapest = fake_type_name(1, 1);
    let a = world.add_ready_node("default", &cheapest, EXISTING_NODE);
    let b = world.add_ready_node("default", &cheapest, EXISTING_NODE);
    let spec = pod_spec(0, 0);
    world.add_bound_pod(a, &spec);
    world.add_bound_pod(a, &spec);
    world.add_bound_pod(b, &spec);
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

    assert!(log.is_empty());
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
