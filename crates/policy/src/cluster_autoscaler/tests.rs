//! Cases with known right decisions, from the unit tests of Cluster Autoscaler 1.36
//! (kubernetes/autoscaler, `cluster-autoscaler/`) and from behaviour users reported.

use std::collections::BTreeMap;
use std::sync::Arc;

use autoscale_sim_cloud::{Catalog, GIB, MIB, Price, Resources};
use autoscale_sim_engine::{RngStreams, SimDuration, SimTime};
use autoscale_sim_kube::{NodeId, Owner, PodId, PodSpec};

use super::scale_down::utilization;
use super::scale_up::{ScaleUpOption, estimate, unschedulable_pods, waste_score};
use super::template::Template;
use super::{ClusterAutoscaler, ClusterAutoscalerConfig, NodeGroupConfig};
use crate::api::{Action, DisruptionReason, PolicyEvent};
use crate::testing::{
    TestWorld, ZONES, daemonset, deletions, fake_catalog, fake_type_name, instance_type, launches,
    pod_spec, secs, untimed,
};

/// Builds a node group of `instance_type` with these sizes, in the first zone.
fn group(
    catalog: &Catalog,
    name: &str,
    instance_type: &str,
    min_size: u32,
    max_size: u32,
) -> NodeGroupConfig {
    NodeGroupConfig {
        name: name.to_string(),
        instance_type: catalog
            .index_of(instance_type)
            .unwrap_or_else(|| panic!("{instance_type} is not in the catalog")),
        min_size,
        max_size,
        zone: None,
        labels: BTreeMap::new(),
        taints: vec![],
        capacity_type: Default::default(),
    }
}

fn autoscaler(node_groups: Vec<NodeGroupConfig>) -> ClusterAutoscaler {
    autoscaler_with(ClusterAutoscalerConfig {
        node_groups,
        ..Default::default()
    })
}

fn autoscaler_with(config: ClusterAutoscalerConfig) -> ClusterAutoscaler {
    ClusterAutoscaler::new(config, &RngStreams::new(7))
}

/// Builds the allocatable of a test node: `cpu_millis`, `memory_bytes` and 110 pod slots.
fn allocatable(cpu_millis: i64, memory_bytes: i64) -> Resources {
    Resources::new(cpu_millis, memory_bytes, 110)
}

/// Builds a template whose allocatable and capacity are both `cpu_millis`, `memory_bytes` and
/// `pods`.
fn template(cpu_millis: i64, memory_bytes: i64, pods: i64) -> Template {
    let resources = Resources::new(cpu_millis, memory_bytes, pods);
    Template {
        allocatable: resources,
        capacity: resources,
        labels: BTreeMap::new(),
        taints: vec![],
        daemon: Resources::ZERO,
        daemon_ports: vec![],
        from_real_node: false,
    }
}

/// Builds an equivalence group of `count` pods sharing one spec, with ids from `first_id` on.
fn pod_group(spec: &Arc<PodSpec>, first_id: u64, count: u64) -> (Arc<PodSpec>, Vec<PodId>) {
    (
        spec.clone(),
        (first_id..first_id + count).map(PodId).collect(),
    )
}

/// Reports the pods the scheduler cannot place, as the world does, then runs the loop that
/// follows 10 s later (the first call only waits out the 2 s buffer for new pods). Returns the
/// actions of every call.
fn report_pending_and_loop(
    world: &mut TestWorld,
    policy: &mut ClusterAutoscaler,
) -> Vec<(SimTime, Action)> {
    let pending = world.schedule();
    let mut log: Vec<(SimTime, Action)> = world
        .send(policy, PolicyEvent::PodsUnschedulable(pending))
        .actions
        .into_iter()
        .map(|action| (world.now, action))
        .collect();
    let next_loop = world.now + SimDuration::from_secs(10);
    log.extend(world.advance_to(policy, next_loop));
    log
}

/// Lists the node groups of the launches in `log`, in order.
fn launched_groups(log: &[(SimTime, Action)]) -> Vec<String> {
    launches(untimed(log))
        .iter()
        .map(|request| request.owner.clone())
        .collect()
}

/// Runs one scale-down pass (unneeded marking, then deletion) at the world's current time.
fn scale_down_once(world: &mut TestWorld, policy: &mut ClusterAutoscaler) {
    world.call(|view, actions| {
        policy.scale_down(view, actions);
    });
}

fn unneeded(policy: &ClusterAutoscaler) -> Vec<NodeId> {
    policy.unneeded.keys().copied().collect()
}

fn unremovable(policy: &ClusterAutoscaler) -> Vec<NodeId> {
    policy.unremovable_until.keys().copied().collect()
}

// Least-waste expander: expander/waste/waste_test.go TestLeastWaste. Each option is one node
// holding one pod of 500m / 1000 MiB.

fn least_waste_catalog() -> Catalog {
    Catalog::new(vec![
        instance_type("balanced", 8, 16_000, Price(1_000_000)),
        instance_type("highmem", 8, 32_000, Price(1_000_000)),
        instance_type("lowcpu", 4, 16_000, Price(1_000_000)),
    ])
}

#[test]
fn least_waste_exact_scores() {
    let option = ScaleUpOption {
        group: 0,
        node_count: 1,
        pods: vec![PodId(0)],
        requests: Resources::new(500, 1000 * MIB, 1),
    };

    assert_eq!(
        waste_score(&template(8000, 16_000 * MIB, 110), &option),
        1.875
    );
    assert_eq!(
        waste_score(&template(8000, 32_000 * MIB, 110), &option),
        1.90625
    );
    assert_eq!(
        waste_score(&template(4000, 16_000 * MIB, 110), &option),
        1.8125
    );
}

/// Runs a scale-up for one pending 500m / 1000 MiB pod over groups of the named types (each
/// group named after its type) and returns the groups that grew.
fn least_waste_choice(types: &[&str]) -> Vec<String> {
    let mut world = TestWorld::new(least_waste_catalog(), vec![]);
    let groups = types
        .iter()
        .map(|name| group(&world.catalog, name, name, 1, 10))
        .collect();
    let mut policy = autoscaler(groups);
    world.add_pending_pod(&pod_spec(500, 1000 * MIB));

    let log = report_pending_and_loop(&mut world, &mut policy);
    launched_groups(&log)
}

#[test]
fn least_waste_prefers_balanced() {
    assert_eq!(least_waste_choice(&["balanced", "highmem"]), ["balanced"]);
}

#[test]
fn least_waste_prefers_lowcpu() {
    assert_eq!(
        least_waste_choice(&["balanced", "highmem", "lowcpu"]),
        ["lowcpu"]
    );
}

#[test]
fn least_waste_single_option() {
    assert_eq!(least_waste_choice(&["highmem"]), ["highmem"]);
}

// Binpacking estimator: estimator/binpacking_estimator_test.go TestBinpackingEstimate. The
// template allows 10 pods per node.

#[test]
fn estimate_two_pods_per_node() {
    let pods = [pod_group(&pod_spec(350, 0), 0, 10)];

    let (nodes, placed, _) = estimate(&template(1000, 2000 * MIB, 10), &pods, 1000);

    assert_eq!(nodes, 5);
    assert_eq!(placed.len(), 10);
}

#[test]
fn estimate_pod_slots_limit() {
    let pods = [pod_group(&pod_spec(10, 0), 0, 20)];

    let (nodes, placed, _) = estimate(&template(10_000, 2000 * MIB, 10), &pods, 1000);

    assert_eq!(nodes, 2);
    assert_eq!(placed.len(), 20);
}

#[test]
fn estimate_node_limit() {
    let pods = [pod_group(&pod_spec(500, 0), 0, 20)];

    let (nodes, placed, _) = estimate(&template(1000, 2000 * MIB, 10), &pods, 5);

    assert_eq!(nodes, 5);
    assert_eq!(placed.len(), 10);
}

#[test]
fn estimate_decreasing_order() {
    let small = pod_group(&pod_spec(50, 0), 0, 10);
    let large = pod_group(&pod_spec(500, 0), 100, 10);

    let (nodes, placed, requests) =
        estimate(&template(1000, 2000 * MIB, 10), &[small, large.clone()], 5);

    assert_eq!(nodes, 5);
    assert_eq!(placed, large.1);
    assert_eq!(requests, Resources::new(5000, 0, 10));
}

// Scale-up through the whole policy: core/scaleup/orchestrator/orchestrator_test.go.

#[test]
fn scale_up_ok_grows_ng2() {
    // TestScaleUpOK: ng1's 100m template cannot hold the 500m pod, but ng2's 1000m one can.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let ng1 = group(&world.catalog, "ng1", &fake_type_name(1, 1), 1, 10);
    let ng2 = group(&world.catalog, "ng2", &fake_type_name(1, 2), 1, 10);
    let ng2_type = ng2.instance_type;
    let mut policy = autoscaler(vec![ng1, ng2]);
    let n1 = world.add_ready_node("ng1", &fake_type_name(1, 1), allocatable(100, GIB));
    let n2 = world.add_ready_node("ng2", &fake_type_name(1, 2), allocatable(1000, GIB));
    world.add_bound_pod(n1, &pod_spec(80, 0));
    world.add_bound_pod(n2, &pod_spec(800, 0));
    // Templates come from nodes that have been Ready for over a minute.
    world.now = secs(120);
    world.add_pending_pod(&pod_spec(500, 0));

    let log = report_pending_and_loop(&mut world, &mut policy);

    let launched = launches(untimed(&log));
    assert_eq!(launched.len(), 1);
    assert_eq!(launched[0].owner, "ng2");
    assert_eq!(launched[0].instance_type, ng2_type);
    assert_eq!(launched[0].zone, ZONES[0]);
}

#[test]
fn max_nodes_total_caps_option() {
    // TestScaleUpCapToMaxTotalNodesLimit: 2 nodes, limit 3, and three pods that each need a
    // new ng2 node, so the option of +3 is cut to +1.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let ng1 = group(&world.catalog, "ng1", &fake_type_name(2, 8), 1, 10);
    let ng2 = group(&world.catalog, "ng2", &fake_type_name(4, 8), 1, 10);
    let mut policy = autoscaler_with(ClusterAutoscalerConfig {
        node_groups: vec![ng1, ng2],
        max_nodes_total: 3,
        ..Default::default()
    });
    world.add_ready_node("ng1", &fake_type_name(2, 8), allocatable(2000, 8 * GIB));
    let n2 = world.add_ready_node("ng2", &fake_type_name(4, 8), allocatable(4000, 8 * GIB));
    world.add_bound_pod(n2, &pod_spec(3000, 0));
    world.now = secs(120);
    let spec = pod_spec(4000, 100 * MIB);
    for _ in 0..3 {
        world.add_pending_pod(&spec);
    }

    let log = report_pending_and_loop(&mut world, &mut policy);

    assert_eq!(launched_groups(&log), ["ng2"]);
}

/// Sets up one ng1 node (1000m / 1000 B) running a 600m / 100 B pod, and a pending pod of the
/// same size, two minutes in (core/static_autoscaler_test.go and the in-memory integration test).
fn one_full_node_and_one_pending(
    config: ClusterAutoscalerConfig,
) -> (TestWorld, ClusterAutoscaler, NodeId, PodId, PodId) {
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let ng1 = group(&world.catalog, "ng1", &fake_type_name(1, 1), 1, 10);
    let policy = autoscaler_with(ClusterAutoscalerConfig {
        node_groups: vec![ng1],
        ..config
    });
    let n1 = world.add_ready_node("ng1", &fake_type_name(1, 1), allocatable(1000, 1000));
    let spec = pod_spec(600, 100);
    let p1 = world.add_bound_pod(n1, &spec);
    world.now = secs(120);
    let p2 = world.add_pending_pod(&spec);
    (world, policy, n1, p1, p2)
}

#[test]
fn max_nodes_total_blocks_scale_up() {
    // core/static_autoscaler_test.go TestStaticAutoscalerRunOnce: with max-nodes-total 1 the
    // pending pod gets no node; once the limit is 10, ng1 grows by one.
    let (mut world, mut policy, ..) = one_full_node_and_one_pending(ClusterAutoscalerConfig {
        max_nodes_total: 1,
        ..Default::default()
    });

    let capped = report_pending_and_loop(&mut world, &mut policy);
    policy.config.max_nodes_total = 10;
    let next_loop = world.now + SimDuration::from_secs(10);
    let raised = world.advance_to(&mut policy, next_loop);

    assert!(launches(untimed(&capped)).is_empty());
    assert_eq!(launched_groups(&raised), ["ng1"]);
}

#[test]
fn full_lifecycle_up_and_down() {
    // test/integration/inmemory/staticautoscaler_test.go TestStaticAutoscaler_FullLifecycle,
    // with unneeded time 1m and no scale-down delays.
    let (mut world, mut policy, n1, p1, p2) =
        one_full_node_and_one_pending(ClusterAutoscalerConfig {
            scale_down_unneeded_time: SimDuration::from_mins(1),
            scale_down_delay_after_add: SimDuration::ZERO,
            scale_down_delay_after_failure: SimDuration::ZERO,
            ..Default::default()
        });

    // The loop 10 s after the pod became Unschedulable grows ng1 to a target size of 2.
    let scale_up = report_pending_and_loop(&mut world, &mut policy);
    assert_eq!(launched_groups(&scale_up), ["ng1"]);
    assert!(scale_up.iter().all(|(at, _)| *at == secs(130)));
    assert_eq!(world.live_nodes("ng1").len(), 2);
    let n2 = world.live_nodes("ng1")[1];

    // The pending pod goes away and the new node joins empty, so the next loop marks it
    // unneeded.
    world.advance_to(&mut policy, secs(150));
    world.cluster.delete_pod(p2, world.now);
    world.make_ready(&mut policy, n2);
    let marking = world.advance_to(&mut policy, secs(160));
    assert!(deletions(untimed(&marking)).is_empty());
    assert_eq!(unneeded(&policy), [n2]);
    assert_eq!(policy.unneeded[&n2], secs(160));

    // A node unneeded for exactly the unneeded time stays, and the loop after that deletes it.
    let waiting = world.advance_to(&mut policy, secs(220));
    assert!(deletions(untimed(&waiting)).is_empty());
    let deleting = world.advance_to(&mut policy, secs(230));
    assert_eq!(
        deletions(untimed(&deleting)),
        [(n2, DisruptionReason::ScaleDown)]
    );
    assert!(deleting.iter().all(|(at, _)| *at == secs(230)));
    assert_eq!(world.live_nodes("ng1"), [n1]);

    // The last node stays even when empty, because the group is at its minimum size.
    world.terminate(&mut policy, n2);
    world.cluster.delete_pod(p1, world.now);
    let later = world.advance_to(&mut policy, secs(230 + 30 * 60));
    assert!(deletions(untimed(&later)).is_empty());
    assert_eq!(world.live_nodes("ng1"), [n1]);
}

#[test]
fn young_pods_wait_for_delay() {
    // TestFilterOutYoungPods, global delay only: pods created a minute ago count with no
    // delay and are all held back by a 5m delay.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let pod = world.add_pending_pod(&pod_spec(100, 0));
    world.schedule();
    world.now = secs(60);
    let mut with_no_delay = Vec::new();
    let mut with_5m_delay = Vec::new();

    world.call(|view, _| {
        with_no_delay = unschedulable_pods(view, SimDuration::ZERO)
            .iter()
            .map(|p| p.id)
            .collect();
        with_5m_delay = unschedulable_pods(view, SimDuration::from_mins(5))
            .iter()
            .map(|p| p.id)
            .collect();
    });

    assert_eq!(with_no_delay, [pod]);
    assert!(with_5m_delay.is_empty());
}

// Utilization and eligibility: core/scaledown/eligibility/eligibility_test.go, threshold 0.5,
// a 1000m node whose memory is negligible.

/// Sets up a 1000m ng1 node running pods of `pod_millis`, and a 2000m ng2 node at its group's
/// minimum size that can take the pods. Returns the world, the policy and the 1000m node.
fn eligibility_setup(
    config: ClusterAutoscalerConfig,
    daemon_millis: Option<i64>,
    pod_millis: &[i64],
) -> (TestWorld, ClusterAutoscaler, NodeId) {
    let daemonsets = daemon_millis
        .map(|millis| vec![daemonset("ds", millis, 0)])
        .unwrap_or_default();
    let mut world = TestWorld::new(fake_catalog(), daemonsets);
    let ng1 = group(&world.catalog, "ng1", &fake_type_name(1, 1), 0, 10);
    let ng2 = group(&world.catalog, "ng2", &fake_type_name(2, 1), 1, 10);
    let policy = autoscaler_with(ClusterAutoscalerConfig {
        node_groups: vec![ng1, ng2],
        ..config
    });
    let node = world.add_ready_node("ng1", &fake_type_name(1, 1), allocatable(1000, GIB));
    world.add_ready_node("ng2", &fake_type_name(2, 1), allocatable(2000, GIB));
    for &millis in pod_millis {
        world.add_bound_pod(node, &pod_spec(millis, 0));
    }
    (world, policy, node)
}

/// Computes the utilization of `node`, then runs one scale-down pass and returns it with
/// whether the pass marked the node unneeded.
fn utilization_and_unneeded(
    world: &mut TestWorld,
    policy: &mut ClusterAutoscaler,
    node: NodeId,
) -> (f64, bool) {
    let ignore_daemonsets = policy.config.ignore_daemonsets_utilization;
    let value = utilization(world.cluster.node(node).unwrap(), ignore_daemonsets);
    scale_down_once(world, policy);
    (value, policy.unneeded.contains_key(&node))
}

#[test]
fn eligibility_empty_node() {
    let (mut world, mut policy, node) = eligibility_setup(Default::default(), None, &[]);

    let (value, is_unneeded) = utilization_and_unneeded(&mut world, &mut policy, node);

    assert_eq!(value, 0.0);
    assert!(is_unneeded);
}

#[test]
fn eligibility_600m_pod_not_underutilized() {
    let (mut world, mut policy, node) = eligibility_setup(Default::default(), None, &[600]);

    let (value, is_unneeded) = utilization_and_unneeded(&mut world, &mut policy, node);

    assert_eq!(value, 0.6);
    assert!(!is_unneeded);
    assert!(unremovable(&policy).is_empty());
}

#[test]
fn eligibility_100m_pod_unneeded() {
    let (mut world, mut policy, node) = eligibility_setup(Default::default(), None, &[100]);

    let (value, is_unneeded) = utilization_and_unneeded(&mut world, &mut policy, node);

    assert_eq!(value, 0.1);
    assert!(is_unneeded);
}

#[test]
fn eligibility_daemonset_counted() {
    // A 100m pod plus a 500m DaemonSet pod make 0.6 with ignore-daemonsets-utilization off.
    let (mut world, mut policy, node) = eligibility_setup(Default::default(), Some(500), &[100]);

    let (value, is_unneeded) = utilization_and_unneeded(&mut world, &mut policy, node);

    assert_eq!(value, 0.6);
    assert!(!is_unneeded);
}

#[test]
fn eligibility_daemonset_ignored() {
    // The same with ignore-daemonsets-utilization on: 100 / (1000 - 500) = 0.2.
    let config = ClusterAutoscalerConfig {
        ignore_daemonsets_utilization: true,
        ..Default::default()
    };
    let (mut world, mut policy, node) = eligibility_setup(config, Some(500), &[100]);

    let (value, is_unneeded) = utilization_and_unneeded(&mut world, &mut policy, node);

    assert_eq!(value, 0.2);
    assert!(is_unneeded);
}

#[test]
fn eligibility_daemonset_only_threshold_zero() {
    // A node with only a DaemonSet pod is eligible at threshold 0 when
    // ignore-daemonsets-utilization is on.
    let config = ClusterAutoscalerConfig {
        ignore_daemonsets_utilization: true,
        scale_down_utilization_threshold: 0.0,
        ..Default::default()
    };
    let (mut world, mut policy, node) = eligibility_setup(config, Some(500), &[]);

    let (value, is_unneeded) = utilization_and_unneeded(&mut world, &mut policy, node);

    assert_eq!(value, 0.0);
    assert!(is_unneeded);
}

#[test]
fn eligibility_deleting_node_skipped() {
    // A node already being deleted (tainted ToBeDeleted) is skipped: neither unneeded nor
    // unremovable.
    let (mut world, mut policy, node) = eligibility_setup(Default::default(), None, &[]);
    world.cluster.mark_deleting(node);

    scale_down_once(&mut world, &mut policy);

    assert!(unneeded(&policy).is_empty());
    assert!(unremovable(&policy).is_empty());
}

#[test]
fn bare_pod_blocks_scale_down() {
    // simulator/drain_test.go: a pod with no controller blocks the node (NotReplicated), so
    // the node is unremovable even though its utilization is low.
    let (mut world, mut policy, node) = eligibility_setup(Default::default(), None, &[]);
    let bare = world
        .cluster
        .create_pod(Owner::Bare, pod_spec(100, 0), world.now);
    world.cluster.bind(bare, node, world.now);

    scale_down_once(&mut world, &mut policy);

    assert!(unneeded(&policy).is_empty());
    assert_eq!(unremovable(&policy), [node]);
}

// Greedy removal simulation: core/scaledown/planner/planner_test.go TestUpdateClusterState.
// That test fakes the eligibility check. Here a threshold of 1.0 makes every node eligible, and
// a node group at its minimum size keeps a node out of the candidates. Pods take 1 byte of
// memory.

fn removal_config(node_groups: Vec<NodeGroupConfig>) -> ClusterAutoscalerConfig {
    ClusterAutoscalerConfig {
        node_groups,
        scale_down_utilization_threshold: 1.0,
        ..Default::default()
    }
}

#[test]
fn removal_only_n1_eligible() {
    // n1 (1000m) runs 2 x 500m and n2 (1000m) is empty and not a candidate, so n1 is
    // unneeded.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let groups = vec![
        group(&world.catalog, "ng1", &fake_type_name(1, 1), 0, 10),
        group(&world.catalog, "ng2", &fake_type_name(1, 1), 1, 10),
    ];
    let mut policy = autoscaler_with(removal_config(groups));
    let n1 = world.add_ready_node("ng1", &fake_type_name(1, 1), allocatable(1000, GIB));
    world.add_ready_node("ng2", &fake_type_name(1, 1), allocatable(1000, GIB));
    let spec = pod_spec(500, 1);
    world.add_bound_pod(n1, &spec);
    world.add_bound_pod(n1, &spec);

    scale_down_once(&mut world, &mut policy);

    assert_eq!(unneeded(&policy), [n1]);
    assert!(unremovable(&policy).is_empty());
}

#[test]
fn removal_commits_moved_pods() {
    // Both are eligible and simulated in the order n1, n2. n1's pods are committed onto n2,
    // so n2 then has nowhere to go. Cluster Autoscaler puts empty nodes first, so n2 runs a
    // 0m pod here to keep the order n1, n2 of the original case.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let groups = vec![group(&world.catalog, "ng1", &fake_type_name(1, 1), 0, 10)];
    let mut policy = autoscaler_with(removal_config(groups));
    let n1 = world.add_ready_node("ng1", &fake_type_name(1, 1), allocatable(1000, GIB));
    let n2 = world.add_ready_node("ng1", &fake_type_name(1, 1), allocatable(1000, GIB));
    let spec = pod_spec(500, 1);
    world.add_bound_pod(n1, &spec);
    world.add_bound_pod(n1, &spec);
    world.add_bound_pod(n2, &pod_spec(0, 1));

    scale_down_once(&mut world, &mut policy);

    assert_eq!(unneeded(&policy), [n1]);
    assert_eq!(unremovable(&policy), [n2]);
}

#[test]
fn removal_simulates_empty_first() {
    // In the original case n2 is empty. Cluster Autoscaler's candidate order puts the empty n2
    // first, so n2 is unneeded and n1's pods have nowhere to go.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let groups = vec![group(&world.catalog, "ng1", &fake_type_name(1, 1), 0, 10)];
    let mut policy = autoscaler_with(removal_config(groups));
    let n1 = world.add_ready_node("ng1", &fake_type_name(1, 1), allocatable(1000, GIB));
    let n2 = world.add_ready_node("ng1", &fake_type_name(1, 1), allocatable(1000, GIB));
    let spec = pod_spec(500, 1);
    world.add_bound_pod(n1, &spec);
    world.add_bound_pod(n1, &spec);

    scale_down_once(&mut world, &mut policy);

    assert_eq!(unneeded(&policy), [n2]);
    assert_eq!(unremovable(&policy), [n1]);
}

#[test]
fn removal_nothing_fits() {
    // n1 (2000m) runs 2 x 1000m, n2 (1000m) runs 1000m, and n3 (500m) is empty and not a
    // candidate. Neither n1's nor n2's pods fit elsewhere.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let groups = vec![
        group(&world.catalog, "ng1", &fake_type_name(2, 1), 0, 10),
        group(&world.catalog, "ng2", &fake_type_name(1, 1), 1, 10),
    ];
    let mut policy = autoscaler_with(removal_config(groups));
    let n1 = world.add_ready_node("ng1", &fake_type_name(2, 1), allocatable(2000, GIB));
    let n2 = world.add_ready_node("ng1", &fake_type_name(2, 1), allocatable(1000, GIB));
    world.add_ready_node("ng2", &fake_type_name(1, 1), allocatable(500, GIB));
    let spec = pod_spec(1000, 1);
    world.add_bound_pod(n1, &spec);
    world.add_bound_pod(n1, &spec);
    world.add_bound_pod(n2, &spec);

    scale_down_once(&mut world, &mut policy);

    assert!(unneeded(&policy).is_empty());
    assert_eq!(unremovable(&policy), [n1, n2]);
}

// Behaviour users reported.

/// Sets up two ng1 nodes of 2000m with 1000m of DaemonSet requests each. `subject` runs a 300m
/// pod and the other a 600m pod. The scale-down loop runs from time zero.
fn daemonset_heavy_nodes(
    ignore_daemonsets_utilization: bool,
) -> (TestWorld, ClusterAutoscaler, NodeId, NodeId) {
    let mut world = TestWorld::new(fake_catalog(), vec![daemonset("ds", 1000, 0)]);
    let ng1 = group(&world.catalog, "ng1", &fake_type_name(2, 2), 1, 10);
    let mut policy = autoscaler_with(ClusterAutoscalerConfig {
        node_groups: vec![ng1],
        ignore_daemonsets_utilization,
        ..Default::default()
    });
    let subject = world.add_ready_node("ng1", &fake_type_name(2, 2), allocatable(2000, GIB));
    let other = world.add_ready_node("ng1", &fake_type_name(2, 2), allocatable(2000, GIB));
    world.add_bound_pod(subject, &pod_spec(300, 0));
    world.add_bound_pod(other, &pod_spec(600, 0));
    world.call(|view, actions| policy.run_once(view, actions));
    (world, policy, subject, other)
}

#[test]
fn daemonset_requests_keep_node() {
    // DaemonSet requests count toward utilization: (1000 + 300) / 2000 = 0.65 > 0.5, so the
    // node is never unneeded, however long it stays this way.
    let (mut world, mut policy, subject, _) = daemonset_heavy_nodes(false);
    let subject_utilization = utilization(world.cluster.node(subject).unwrap(), false);

    let log = world.advance_to(&mut policy, secs(3600));

    assert_eq!(subject_utilization, 0.65);
    assert!(deletions(untimed(&log)).is_empty());
    assert!(unneeded(&policy).is_empty());
}

#[test]
fn ignore_daemonsets_shrinks_denominator() {
    // With ignore-daemonsets-utilization, DaemonSet requests leave the denominator too:
    // 300 / (2000 - 1000) = 0.3, not 300 / 2000. The node is unneeded from the first loop and
    // deleted at the first loop more than 10m later.
    let (mut world, mut policy, subject, other) = daemonset_heavy_nodes(true);
    let subject_utilization = utilization(world.cluster.node(subject).unwrap(), true);
    let other_utilization = utilization(world.cluster.node(other).unwrap(), true);

    let log = world.advance_to(&mut policy, secs(3600));

    assert_eq!(subject_utilization, 0.3);
    assert_eq!(other_utilization, 0.6);
    assert_eq!(
        deletions(untimed(&log)),
        [(subject, DisruptionReason::ScaleDown)]
    );
    let deleted_at: Vec<SimTime> = log
        .iter()
        .filter(|(_, action)| matches!(action, Action::DeleteNode { .. }))
        .map(|(at, _)| *at)
        .collect();
    assert_eq!(deleted_at, [secs(610)]);
}

#[test]
fn least_waste_prefers_group_with_node() {
    // Three m5.large groups, one per zone, only the first with a node. The template copied
    // from that node has the memory capacity a running node reports, which is less than the
    // instance type's, so its option shows less waste and wins.
    let mut world = TestWorld::new(Catalog::builtin(), vec![]);
    let mut groups = Vec::new();
    for (index, zone) in ZONES.iter().enumerate() {
        let min_size = if index == 0 { 1 } else { 0 };
        let mut config = group(
            &world.catalog,
            &format!("m5-{zone}"),
            "m5.large",
            min_size,
            10,
        );
        config.zone = Some(zone.to_string());
        groups.push(config);
    }
    let mut policy = autoscaler(groups);
    let m5_large = world.catalog.by_name("m5.large").unwrap().allocatable();
    let node = world.add_ready_node("m5-test-zone-1", "m5.large", m5_large);
    world.add_bound_pod(node, &pod_spec(1500, 0));
    world.now = secs(120);
    world.add_pending_pod(&pod_spec(1000, GIB));

    let log = report_pending_and_loop(&mut world, &mut policy);

    assert_eq!(launched_groups(&log), ["m5-test-zone-1"]);
}

#[test]
fn group_at_max_skipped() {
    // A group at its maximum size is no option, so pods spill onto any other group that can
    // hold them, such as a larger (GPU) group without taints.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let cpu = group(&world.catalog, "cpu", &fake_type_name(4, 8), 1, 1);
    let gpu = group(&world.catalog, "gpu", &fake_type_name(8, 32), 0, 10);
    let mut policy = autoscaler(vec![cpu, gpu]);
    let node = world.add_ready_node("cpu", &fake_type_name(4, 8), allocatable(4000, 8 * GIB));
    world.add_bound_pod(node, &pod_spec(3500, 0));
    world.now = secs(120);
    world.add_pending_pod(&pod_spec(1000, 0));

    let log = report_pending_and_loop(&mut world, &mut policy);

    assert_eq!(launched_groups(&log), ["gpu"]);
}
