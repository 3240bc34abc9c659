//! Cases with known right decisions, from the unit tests of Cluster Autoscaler 1.36
//! (kubernetes/autoscaler, `cluster-autoscaler/`) and from behaviour users reported.

use std::collections::BTreeMap;
use std::sync::Arc;

use autoscale_sim_cloud::{Catalog, GIB, MIB, Price, Resources};
use autoscale_sim_engine::{RngStreams, SimDuration, SimTime};
use autoscale_sim_kube::{NodeId, Owner, PodDisruptionBudget, PodId, PodSpec};

use super::balancing::{balance, dissimilarity, explain_no_similar, similar};
use super::expander::{
    PriceInputs, preferred_node_cpu_millis, price_filter, price_score, priority_filter,
    stabilization_price, waste_score,
};
use super::scale_down::{SCALE_DOWN_DISABLED_ANNOTATION, utilization};
use super::scale_up::{ScaleUpOption, ScaleUpStatus, estimate, unschedulable_pods};
use super::template::Template;
use super::{
    Backoff, BalancingConfig, ClusterAutoscaler, ClusterAutoscalerConfig, Expander,
    MixedInstancesPolicy, NodeGroupConfig, PriorityConfig, ResourceLimits, Unremovable,
};
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
    let index = catalog
        .index_of(instance_type)
        .unwrap_or_else(|| panic!("{instance_type} is not in the catalog"));
    NodeGroupConfig::new(name, index, min_size, max_size)
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

/// Lists the nodes found unremovable for a reason other than their utilization.
fn unremovable(policy: &ClusterAutoscaler) -> Vec<NodeId> {
    policy
        .unremovable_nodes()
        .filter(|(_, reason, _)| *reason != Unremovable::NotUnderutilized)
        .map(|(id, _, _)| id)
        .collect()
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

#[test]
fn core_limit_cap_in_reason() {
    // Three pods that each need a 4-core node, under --cores-total=0:10 with 4 cores running:
    // the +3 option is cut to +1, and the launch reason names the limit.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let ng = group(&world.catalog, "ng", &fake_type_name(4, 8), 1, 10);
    let mut policy = autoscaler_with(ClusterAutoscalerConfig {
        node_groups: vec![ng],
        resource_limits: ResourceLimits {
            cores: (0, 10),
            ..Default::default()
        },
        ..Default::default()
    });
    let n1 = world.add_ready_node("ng", &fake_type_name(4, 8), allocatable(4000, 8 * GIB));
    world.add_bound_pod(n1, &pod_spec(3000, 0));
    world.now = secs(120);
    let spec = pod_spec(3000, 100 * MIB);
    for _ in 0..3 {
        world.add_pending_pod(&spec);
    }

    let log = report_pending_and_loop(&mut world, &mut policy);

    let launched = launches(untimed(&log));
    assert_eq!(launched.len(), 1);
    assert!(
        launched[0].reason.starts_with(
            "ScaleUp: node group ng +1 for 3 unschedulable pods, capped from +3 by the cluster's core or memory limit (--cores-total, --memory-total);"
        ),
        "{}",
        launched[0].reason
    );
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
fn max_nodes_total_noted_once() {
    // Two loops held back by the limit write one note; the limit's status is
    // ScaleUpLimitedByMaxNodesTotal (core/static_autoscaler.go).
    let (mut world, mut policy, ..) = one_full_node_and_one_pending(ClusterAutoscalerConfig {
        max_nodes_total: 1,
        ..Default::default()
    });

    let capped = report_pending_and_loop(&mut world, &mut policy);

    let noted = note_fields(&capped);
    assert_eq!(
        noted,
        [(
            "scale-up-limited".to_string(),
            "ScaleUpLimitedByMaxNodesTotal".to_string(),
            "no scale-up for 1 unschedulable pod with 1 node Ready, at --max-nodes-total=1"
                .to_string()
        )]
    );
}

#[test]
fn core_limit_noted_once() {
    // The one node uses the whole --cores-total, so two loops give the pending pod no scale-up
    // and write one NotTriggerScaleUp note.
    let (mut world, mut policy, ..) = one_full_node_and_one_pending(ClusterAutoscalerConfig {
        resource_limits: ResourceLimits {
            cores: (0, 1),
            ..ResourceLimits::default()
        },
        ..Default::default()
    });

    let first = report_pending_and_loop(&mut world, &mut policy);
    let next_loop = world.now + SimDuration::from_secs(10);
    let second = world.advance_to(&mut policy, next_loop);

    assert!(launches(untimed(&first)).is_empty());
    assert_eq!(
        note_fields(&first),
        [(
            "no-scale-up".to_string(),
            "NotTriggerScaleUp".to_string(),
            "no scale-up for 1 unschedulable pod: ng1 (max cluster resources reached: --cores-total)"
                .to_string()
        )]
    );
    assert!(note_fields(&second).is_empty());
}

#[test]
fn memory_limit_named() {
    // The one node uses the whole --memory-total, which the note names.
    let (mut world, mut policy, ..) = one_full_node_and_one_pending(ClusterAutoscalerConfig {
        resource_limits: ResourceLimits {
            memory_bytes: (0, GIB),
            ..ResourceLimits::default()
        },
        ..Default::default()
    });

    let log = report_pending_and_loop(&mut world, &mut policy);

    assert_eq!(
        note_fields(&log),
        [(
            "no-scale-up".to_string(),
            "NotTriggerScaleUp".to_string(),
            "no scale-up for 1 unschedulable pod: ng1 (max cluster resources reached: --memory-total)"
                .to_string()
        )]
    );
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
fn preempting_pods_skip_scale_up() {
    // FilterOutExpendableAndSplit: a pod nominated to a node waits for its preemption's
    // victims, so scale-up leaves it out.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    // A node too small for the pods, so that both stay Unschedulable.
    let node = world.add_ready_node("ng1", &fake_type_name(1, 2), Resources::new(50, GIB, 110));
    let waiting = world.add_pending_pod(&pod_spec(100, 0));
    let plain = world.add_pending_pod(&pod_spec(100, 0));
    world.schedule();
    world.cluster.nominate(waiting, Some(node));
    let mut pending = Vec::new();

    world.call(|view, _| {
        pending = unschedulable_pods(view, SimDuration::ZERO, -10)
            .iter()
            .map(|p| p.id)
            .collect();
    });

    assert_eq!(pending, [plain]);
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
        with_no_delay = unschedulable_pods(view, SimDuration::ZERO, -10)
            .iter()
            .map(|p| p.id)
            .collect();
        with_5m_delay = unschedulable_pods(view, SimDuration::from_mins(5), -10)
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
fn zero_parallelism_finds_no_unneeded_node() {
    // With --max-scale-down-parallelism=0 the planner's limit of unneeded nodes is 0
    // (Cluster Autoscaler 1.36 `Planner.unneededNodesLimit`), so even an empty node stays.
    let config = ClusterAutoscalerConfig {
        max_scale_down_parallelism: 0,
        ..Default::default()
    };
    let (mut world, mut policy, node) = eligibility_setup(config, None, &[]);

    let (value, is_unneeded) = utilization_and_unneeded(&mut world, &mut policy, node);

    assert_eq!(value, 0.0);
    assert!(!is_unneeded);
    assert!(unneeded(&policy).is_empty());
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

/// Lists the unremovable nodes with their reasons.
fn unremovable_reasons(policy: &ClusterAutoscaler) -> Vec<(NodeId, &'static str)> {
    policy
        .unremovable_nodes()
        .map(|(id, reason, _)| (id, reason.as_str()))
        .collect()
}

#[test]
fn eligibility_scale_down_disabled_annotation() {
    // "marked no scale down is filtered out": an empty node annotated scale-down-disabled is
    // unremovable, and stays so after the recheck timeout.
    let (mut world, mut policy, node) = eligibility_setup(Default::default(), None, &[]);
    world
        .cluster
        .annotate_node(node, SCALE_DOWN_DISABLED_ANNOTATION, "true");

    scale_down_once(&mut world, &mut policy);
    assert!(unneeded(&policy).is_empty());
    assert_eq!(
        unremovable_reasons(&policy),
        [(node, "ScaleDownDisabledAnnotation")]
    );

    // Any other value than "true" leaves the node removable, as in `HasNoScaleDownAnnotation`.
    let (mut world, mut policy, node) = eligibility_setup(Default::default(), None, &[]);
    world
        .cluster
        .annotate_node(node, SCALE_DOWN_DISABLED_ANNOTATION, "yes");
    scale_down_once(&mut world, &mut policy);
    assert_eq!(unneeded(&policy), [node]);
}

#[test]
fn eligibility_unready_node_unneeded() {
    // "unready node stays": an empty node whose Ready condition is false is unneeded.
    let (mut world, mut policy, node) = eligibility_setup(Default::default(), None, &[]);
    world.cluster.set_node_not_ready(node, Some(world.now));

    scale_down_once(&mut world, &mut policy);

    assert_eq!(unneeded(&policy), [node]);
    assert!(unremovable_reasons(&policy).is_empty());
}

#[test]
fn eligibility_unready_disabled() {
    // "unready node is filtered out when scale-down of unready is disabled".
    let config = ClusterAutoscalerConfig {
        scale_down_unready_enabled: false,
        ..Default::default()
    };
    let (mut world, mut policy, node) = eligibility_setup(config, None, &[]);
    world.cluster.set_node_not_ready(node, Some(world.now));

    scale_down_once(&mut world, &mut policy);

    assert!(unneeded(&policy).is_empty());
    assert_eq!(
        unremovable_reasons(&policy),
        [(node, "ScaleDownUnreadyDisabled")]
    );
}

#[test]
fn unready_node_waits_unready_time() {
    // An unready node is removed once unneeded for longer than --scale-down-unready-time (20m),
    // not --scale-down-unneeded-time (10m); a Ready empty node beside it goes after 10m.
    let config = ClusterAutoscalerConfig {
        scale_down_delay_after_add: SimDuration::ZERO,
        ..Default::default()
    };
    let (mut world, mut policy, unready) = eligibility_setup(config, None, &[]);
    let ready = world.add_ready_node("ng1", &fake_type_name(1, 1), allocatable(1000, GIB));
    world.cluster.set_node_not_ready(unready, Some(world.now));
    let start = world.now;
    // Start launches ng2's minimum size, so its first node may go too; only ng1 is followed.
    world.send(&mut policy, PolicyEvent::Start);
    let ng1_deletions = |log: &[(SimTime, Action)]| -> Vec<(NodeId, DisruptionReason)> {
        deletions(untimed(log))
            .into_iter()
            .filter(|(id, _)| [ready, unready].contains(id))
            .collect()
    };

    let first = world.advance_to(&mut policy, start + SimDuration::from_mins(11));
    assert_eq!(
        ng1_deletions(&first),
        [(ready, DisruptionReason::ScaleDown)]
    );
    let second = world.advance_to(&mut policy, start + SimDuration::from_mins(19));
    assert!(ng1_deletions(&second).is_empty());
    let third = world.advance_to(&mut policy, start + SimDuration::from_mins(21));
    assert_eq!(
        ng1_deletions(&third),
        [(unready, DisruptionReason::ScaleDown)]
    );
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

/// Collects the notes among `actions`, in order.
fn notes(actions: &[Action]) -> Vec<&Action> {
    actions
        .iter()
        .filter(|action| matches!(action, Action::Note { .. }))
        .collect()
}

/// Returns the action, reason and detail of each note in `log`.
fn note_fields(log: &[(SimTime, Action)]) -> Vec<(String, String, String)> {
    untimed(log)
        .filter_map(|action| match action {
            Action::Note {
                action,
                reason,
                detail,
                ..
            } => Some((action.clone(), reason.clone(), detail.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn unremovable_note_on_reason_change() {
    // The bare pod makes the node NotReplicated. The pass after the recheck timeout finds the
    // same reason and writes no note. Once the pod is gone, the pass after the next recheck
    // timeout finds the node unneeded.
    let (mut world, mut policy, node) = eligibility_setup(Default::default(), None, &[]);
    let bare = world
        .cluster
        .create_pod(Owner::Bare, pod_spec(100, 0), world.now);
    world.cluster.bind(bare, node, world.now);

    let first = world.call(|view, actions| {
        policy.scale_down(view, actions);
    });
    world.now = secs(310);
    let recheck = world.call(|view, actions| {
        policy.scale_down(view, actions);
    });
    world.cluster.delete_pod(bare, world.now);
    world.now = secs(620);
    let emptied = world.call(|view, actions| {
        policy.scale_down(view, actions);
    });

    assert_eq!(
        notes(&first.actions),
        [&Action::Note {
            node: Some(node),
            action: "unremovable".into(),
            reason: "NotReplicated".into(),
            detail: "pod-0: no controller would replace it; not checked again until 0d00:05:00.000"
                .into(),
        }]
    );
    assert!(notes(&recheck.actions).is_empty());
    assert_eq!(
        notes(&emptied.actions),
        [&Action::Note {
            node: Some(node),
            action: "unneeded".into(),
            reason: "ScaleDown".into(),
            detail: "utilization 0.00; deletable once unneeded for longer than 10m".into(),
        }]
    );
}

#[test]
fn not_underutilized_noted_once() {
    let (mut world, mut policy, node) = eligibility_setup(Default::default(), None, &[600]);

    let first = world.call(|view, actions| {
        policy.scale_down(view, actions);
    });
    world.now = secs(10);
    let second = world.call(|view, actions| {
        policy.scale_down(view, actions);
    });

    assert_eq!(
        notes(&first.actions),
        [&Action::Note {
            node: Some(node),
            action: "unremovable".into(),
            reason: "NotUnderutilized".into(),
            detail: "utilization 0.60 above the threshold 0.5".into(),
        }]
    );
    assert!(notes(&second.actions).is_empty());
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

/// Creates a world and a policy for the removal tests with the node groups "ng1" of
/// `ng1_vcpus`-vCPU nodes, minimum size 0, and "ng2" of `ng2_vcpus`-vCPU nodes, minimum size 1,
/// so that a single ng2 node is no candidate.
fn two_group_removal_setup(ng1_vcpus: u32, ng2_vcpus: u32) -> (TestWorld, ClusterAutoscaler) {
    let world = TestWorld::new(fake_catalog(), vec![]);
    let groups = vec![
        group(&world.catalog, "ng1", &fake_type_name(ng1_vcpus, 1), 0, 10),
        group(&world.catalog, "ng2", &fake_type_name(ng2_vcpus, 1), 1, 10),
    ];
    (world, autoscaler_with(removal_config(groups)))
}

/// Creates the world of [`two_group_removal_setup`] for `vcpus`, the vCPUs of ng1's and ng2's
/// types, with the nodes n1 and n2 of ng1 and n3 of ng2, of the allocatable CPU `cpu_millis`
/// in that order, and returns n1 and n2.
fn three_node_removal_setup(
    vcpus: (u32, u32),
    cpu_millis: [i64; 3],
) -> (TestWorld, ClusterAutoscaler, NodeId, NodeId) {
    let (mut world, policy) = two_group_removal_setup(vcpus.0, vcpus.1);
    let ng1_type = fake_type_name(vcpus.0, 1);
    let n1 = world.add_ready_node("ng1", &ng1_type, allocatable(cpu_millis[0], GIB));
    let n2 = world.add_ready_node("ng1", &ng1_type, allocatable(cpu_millis[1], GIB));
    let ng2_type = fake_type_name(vcpus.1, 1);
    world.add_ready_node("ng2", &ng2_type, allocatable(cpu_millis[2], GIB));
    (world, policy, n1, n2)
}

#[test]
fn removal_only_n1_eligible() {
    // n1 (1000m) runs 2 x 500m and n2 (1000m) is empty and not a candidate, so n1 is
    // unneeded.
    let (mut world, mut policy) = two_group_removal_setup(1, 1);
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
fn removal_moves_moved_pods_again() {
    // n1's pods are committed onto n2, the first node with room. n2 is simulated next and
    // moves its own pod and n1's onto n3, which is at its group's minimum size and so no
    // candidate. Both n1 and n2 are unneeded.
    let (mut world, mut policy, n1, n2) = three_node_removal_setup((1, 4), [1000, 1000, 4000]);
    let spec = pod_spec(250, 1);
    world.add_bound_pod(n1, &spec);
    world.add_bound_pod(n1, &spec);
    world.add_bound_pod(n2, &pod_spec(0, 1));

    scale_down_once(&mut world, &mut policy);

    assert_eq!(unneeded(&policy), [n1, n2]);
    assert!(unremovable(&policy).is_empty());
}

#[test]
fn removal_sees_changed_pods() {
    // n1 is underutilized in the first pass, and its pod fits on n2, which is above the 0.5
    // threshold. Two more pods take n1 above it before the second pass, which must not reuse
    // the first pass's cached state.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let groups = vec![group(&world.catalog, "ng1", &fake_type_name(1, 1), 0, 10)];
    let mut policy = autoscaler_with(ClusterAutoscalerConfig {
        node_groups: groups,
        ..Default::default()
    });
    let n1 = world.add_ready_node("ng1", &fake_type_name(1, 1), allocatable(1000, GIB));
    let n2 = world.add_ready_node("ng1", &fake_type_name(1, 1), allocatable(1000, GIB));
    let spec = pod_spec(250, 1);
    world.add_bound_pod(n1, &spec);
    world.add_bound_pod(n2, &pod_spec(750, 1));

    scale_down_once(&mut world, &mut policy);
    assert_eq!(unneeded(&policy), [n1]);

    world.add_bound_pod(n1, &spec);
    world.add_bound_pod(n1, &spec);
    scale_down_once(&mut world, &mut policy);

    assert!(unneeded(&policy).is_empty());
    let not_underutilized = Unremovable::NotUnderutilized.as_str();
    assert_eq!(
        unremovable_reasons(&policy),
        [(n1, not_underutilized), (n2, not_underutilized)]
    );
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
    let (mut world, mut policy, n1, n2) = three_node_removal_setup((2, 1), [2000, 1000, 500]);
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
        config.zones = vec![zone.to_string()];
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

// Helpers for the cases below.

/// Runs one scale-up at the world's current time over the pods kube-scheduler leaves
/// Unschedulable, with the loop's templates, and returns what it did with the pods.
fn scale_up_once(world: &mut TestWorld, policy: &mut ClusterAutoscaler) -> ScaleUpStatus {
    world.schedule();
    let mut status = ScaleUpStatus::default();
    world.call(|view, actions| {
        policy.refresh_templates(view);
        let templates = policy.templates(view);
        let pending = unschedulable_pods(view, SimDuration::ZERO, -10);
        status = policy.scale_up_status(view, &templates, &pending, actions);
    });
    status
}

/// Lets kube-scheduler mark the pending pods, then runs one whole loop 10 s later and returns
/// its launches' groups.
fn run_loop(world: &mut TestWorld, policy: &mut ClusterAutoscaler) -> Vec<String> {
    world.schedule();
    world.now += SimDuration::from_secs(10);
    let reply = world.call(|view, actions| policy.run_once(view, actions));
    launches(&reply.actions)
        .iter()
        .map(|request| request.owner.clone())
        .collect()
}

fn sorted(mut names: Vec<String>) -> Vec<String> {
    names.sort();
    names
}

// Price expander: expander/price/price_test.go TestPriceExpander. Node n1 has 1000m and n2
// 4000m; pods p1 and p2 cost 20 and 10; the stabilization pod costs 10.

/// Scores of ng1 (`ng1_nodes` nodes of n1) and ng2 (`ng2_nodes` nodes of n2), both holding
/// p1 and p2.
fn price_scores(n1: f64, n2: f64, ng1_nodes: u32, ng2_nodes: u32, preferred: i64) -> [f64; 2] {
    let score = |node_price, node_cpu_millis, node_count| {
        let inputs = PriceInputs {
            node_price,
            node_cpu_millis,
            pods_price: 30.0,
            node_count,
        };
        price_score(inputs, 10.0, preferred)
    };
    [score(n1, 1000, ng1_nodes), score(n2, 4000, ng2_nodes)]
}

#[test]
fn price_cheaper_group_wins() {
    // n1 = 20, n2 = 200, preferred 2000m: ng1 ≈ 2.42 against ng2 = 10.5.
    let scores = price_scores(20.0, 200.0, 2, 1, 2000);

    assert!((scores[0] - 2.4168).abs() < 1e-3, "{scores:?}");
    assert_eq!(scores[1], 10.5);
    assert_eq!(price_filter(&scores, &[0, 1]), [0]);
}

#[test]
fn price_preferred_size_wins() {
    // n1 = 50, n2 = 200, preferred 4000m: ng2's size fits, 5.25 against ng1's ≈ 10.45.
    let scores = price_scores(50.0, 200.0, 2, 1, 4000);

    assert_eq!(scores[1], 5.25);
    assert!((scores[0] - 10.451).abs() < 1e-2, "{scores:?}");
    assert_eq!(price_filter(&scores, &[0, 1]), [1]);
}

#[test]
fn price_many_nodes_suppress_unfitness() {
    // 80 nodes of n1 against 40 of n2: tanh suppression makes ng1's unfitness about 1.
    let scores = price_scores(20.0, 200.0, 80, 40, 4000);

    assert!((scores[0] - 40.25).abs() < 0.1, "{scores:?}");
    assert_eq!(price_filter(&scores, &[0, 1]), [0]);
}

#[test]
fn price_second_group_cheaper() {
    let scores = price_scores(200.0, 100.0, 2, 1, 2000);

    assert_eq!(price_filter(&scores, &[0, 1]), [1]);
}

#[test]
fn price_preferred_node_doubles_per_tripling() {
    let sizes = [
        (0, 1000),
        (2, 1000),
        (3, 2000),
        (6, 2000),
        (20, 4000),
        (60, 8000),
    ];
    for (nodes, millis) in sizes {
        assert_eq!(preferred_node_cpu_millis(nodes), millis, "{nodes} nodes");
    }
    assert_eq!(preferred_node_cpu_millis(200), 16_000);
    assert_eq!(preferred_node_cpu_millis(201), 32_000);
}

#[test]
fn price_pod_at_gce_base_rates() {
    // 0.5 CPU and 500 MiB at $0.033174 per core-hour and $0.004446 per GiB-hour.
    let expected = 0.5 * 0.033174 + 500.0 / 1024.0 * 0.004446;

    assert!((stabilization_price() - expected).abs() < 1e-12);
}

// Priority expander: expander/priority/priority_test.go.

fn priorities(entries: &[(i64, &[&str])]) -> PriorityConfig {
    let map: BTreeMap<i64, Vec<String>> = entries
        .iter()
        .map(|(priority, patterns)| (*priority, patterns.iter().map(|p| p.to_string()).collect()))
        .collect();
    PriorityConfig::new(&map).unwrap()
}

fn priority_choice(config: &PriorityConfig, names: &[&str]) -> Vec<String> {
    let live: Vec<usize> = (0..names.len()).collect();
    priority_filter(Some(config), names, &live)
        .into_iter()
        .map(|i| names[i].to_string())
        .collect()
}

#[test]
fn priority_highest_wins() {
    let config = priorities(&[
        (5, &[r".*t2\.micro.*"]),
        (10, &[r".*t2\.large.*", r".*t3\.large.*"]),
        (50, &[r".*m4\.4xlarge.*"]),
    ]);

    assert_eq!(
        priority_choice(&config, &["my-asg.t2.large", "my-asg.m4.4xlarge"]),
        ["my-asg.m4.4xlarge"]
    );
    assert_eq!(
        priority_choice(
            &config,
            &["my-asg.t2.large", "my-asg.t3.large", "my-asg.t2.micro"]
        ),
        ["my-asg.t2.large", "my-asg.t3.large"]
    );
}

#[test]
fn priority_catch_all_loses() {
    // The expressions match anywhere in the name, so ".t2" needs a character before "t2".
    let config = priorities(&[(5, &[".*"]), (10, &[r".t2\.large.*"])]);

    assert_eq!(
        priority_choice(&config, &["my-asg.t2.large", "my-asg.t2.micro"]),
        ["my-asg.t2.large"]
    );
}

#[test]
fn priority_unmatched_passes_all() {
    let config = priorities(&[(10, &["^gpu-.*"])]);

    assert_eq!(priority_choice(&config, &["a", "b"]), ["a", "b"]);
    let live = [0, 1];
    assert_eq!(priority_filter(None, &["a", "b"], &live), [0, 1]);
}

#[test]
fn priority_rejects_bad_regex() {
    let map = BTreeMap::from([(10, vec!["(".to_string()])]);

    let error = PriorityConfig::new(&map).unwrap_err();

    assert_eq!(error.priority, 10);
}

#[test]
fn spot_falls_back_to_on_demand() {
    // User report (#3241, #4438): a spot group at high priority, an on-demand one at low
    // priority. Since the early abort of 1.24 a failed spot launch backs the spot group off at
    // once, and the next loop grows the on-demand group.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let mut spot = group(&world.catalog, "spot-ng", &fake_type_name(2, 8), 0, 10);
    spot.capacity_type = autoscale_sim_kube::CapacityType::Spot;
    let on_demand = group(&world.catalog, "on-demand-ng", &fake_type_name(2, 8), 0, 10);
    let mut policy = autoscaler_with(ClusterAutoscalerConfig {
        node_groups: vec![spot, on_demand],
        expanders: vec![Expander::Priority],
        priorities: Some(priorities(&[(50, &["^spot-"]), (10, &["^on-demand-"])])),
        ..Default::default()
    });
    world.add_pending_pod(&pod_spec(1000, GIB));

    let first = report_pending_and_loop(&mut world, &mut policy);
    let spot_node = world.live_nodes("spot-ng")[0];
    world.cluster.remove_node(spot_node);
    let failed = world.send(
        &mut policy,
        PolicyEvent::LaunchFailed {
            node: spot_node,
            offerings: vec![],
            capacity_type: autoscale_sim_kube::CapacityType::Spot,
            reason: "InsufficientInstanceCapacity".into(),
        },
    );
    let next_loop = world.now + SimDuration::from_secs(10);
    let second = world.advance_to(&mut policy, next_loop);

    assert_eq!(launched_groups(&first), ["spot-ng"]);
    assert_eq!(
        notes(&failed.actions),
        [&Action::Note {
            node: None,
            action: "backoff".into(),
            reason: "InsufficientInstanceCapacity".into(),
            detail: "node group spot-ng backed off for 5m until 0d00:05:10.000: a launch failed"
                .into(),
        }]
    );
    assert_eq!(launched_groups(&second), ["on-demand-ng"]);
}

#[test]
fn launches_failing_together_one_backoff() {
    // Two launches of one group fail for one reason at the same time: Cluster Autoscaler
    // registers one failed scale-up for them, so one note.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let mut spot = group(&world.catalog, "spot-ng", &fake_type_name(2, 8), 0, 10);
    spot.capacity_type = autoscale_sim_kube::CapacityType::Spot;
    let mut policy = autoscaler_with(ClusterAutoscalerConfig {
        node_groups: vec![spot],
        ..Default::default()
    });
    world.add_pending_pod(&pod_spec(1500, GIB));
    world.add_pending_pod(&pod_spec(1500, GIB));

    report_pending_and_loop(&mut world, &mut policy);
    let launched = world.live_nodes("spot-ng");
    let mut backoff_notes = Vec::new();
    for node in &launched {
        world.cluster.remove_node(*node);
        let reply = world.send(
            &mut policy,
            PolicyEvent::LaunchFailed {
                node: *node,
                offerings: vec![],
                capacity_type: autoscale_sim_kube::CapacityType::Spot,
                reason: "InsufficientInstanceCapacity".into(),
            },
        );
        backoff_notes.extend(notes(&reply.actions).into_iter().cloned());
    }

    assert_eq!(launched.len(), 2);
    assert_eq!(backoff_notes.len(), 1);
    assert_eq!(
        backoff_notes[0],
        Action::Note {
            node: None,
            action: "backoff".into(),
            reason: "InsufficientInstanceCapacity".into(),
            detail: "node group spot-ng backed off for 5m until 0d00:05:10.000: a launch failed"
                .into(),
        }
    );
}

// Binpacking estimator, the host port case of TestBinpackingEstimate.

#[test]
fn estimate_host_port_one_per_node() {
    let spec = Arc::new(PodSpec {
        requests: Resources::new(200, 0, 1),
        host_ports: vec![8080],
        ..Default::default()
    });
    let pods = [pod_group(&spec, 0, 8)];

    let (nodes, placed, _) = estimate(&template(1000, 2000 * MIB, 10), &pods, 1000);

    assert_eq!(nodes, 8);
    assert_eq!(placed.len(), 8);
}

#[test]
fn mixed_scale_up_classifies_pods() {
    // TestMixedScaleUp. The orchestrator test skips filter_out_schedulable, so p1 also takes
    // 900 B here, which keeps `awaiting` off n1 itself while it fits ng1's empty template.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let ng1 = group(&world.catalog, "ng1", &fake_type_name(1, 1), 1, 10);
    let ng2 = group(&world.catalog, "ng2", &fake_type_name(1, 1), 1, 10);
    let mut policy = autoscaler(vec![ng1, ng2]);
    let n1 = world.add_ready_node("ng1", &fake_type_name(1, 1), allocatable(100, 1000));
    let n2 = world.add_ready_node("ng2", &fake_type_name(1, 1), allocatable(1000, 100));
    world.add_bound_pod(n1, &pod_spec(80, 900));
    world.add_bound_pod(n2, &pod_spec(800, 0));
    world.now = secs(120);
    let triggering = world.add_pending_pod(&pod_spec(900, 0));
    let remaining = world.add_pending_pod(&pod_spec(2000, 0));
    let awaiting = world.add_pending_pod(&pod_spec(0, 200));

    let status = scale_up_once(&mut world, &mut policy);

    assert_eq!(status.grown, [(1, 1)]);
    assert_eq!(status.triggered, [triggering]);
    assert_eq!(status.remain_unschedulable, [remaining]);
    assert_eq!(status.awaiting_evaluation, [awaiting]);
}

// Limits: core/scaleup/orchestrator/orchestrator_test.go.

#[test]
fn max_cores_caps_option() {
    // TestScaleUpMaxCoresLimitHit: 6 of 9 cores in use; ng1 +2 would add 4 cores, so it is
    // capped to +1.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let ng1 = group(&world.catalog, "ng1", &fake_type_name(2, 2), 1, 10);
    let ng2 = group(&world.catalog, "ng2", &fake_type_name(4, 16), 1, 10);
    let mut policy = autoscaler_with(ClusterAutoscalerConfig {
        node_groups: vec![ng1, ng2],
        resource_limits: ResourceLimits {
            cores: (0, 9),
            ..Default::default()
        },
        ..Default::default()
    });
    let n1 = world.add_ready_node("ng1", &fake_type_name(2, 2), allocatable(2000, 2 * GIB));
    let n2 = world.add_ready_node("ng2", &fake_type_name(4, 16), allocatable(4000, 16 * GIB));
    world.add_bound_pod(n1, &pod_spec(1000, 0));
    world.add_bound_pod(n2, &pod_spec(3000, 0));
    world.now = secs(120);
    let spec = pod_spec(2000, GIB);
    world.add_pending_pod(&spec);
    world.add_pending_pod(&spec);

    let status = scale_up_once(&mut world, &mut policy);

    assert_eq!(status.grown, [(0, 1)]);
    assert_eq!(status.triggered.len(), 2);
}

#[test]
fn enforce_min_size_capped_by_cores() {
    // TestScaleUpToMeetNodeGroupMinSize: ng1 (min 3) and ng2 (min 1) each have one 16-core
    // node, and at most 48 cores are allowed, so ng1 grows to 2, not 3.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let mut ng1 = group(&world.catalog, "ng1", &fake_type_name(16, 64), 3, 10);
    let ng2 = group(&world.catalog, "ng2", &fake_type_name(16, 64), 1, 10);
    ng1.zones = vec![ZONES[0].to_string()];
    let mut policy = autoscaler_with(ClusterAutoscalerConfig {
        node_groups: vec![ng1, ng2],
        resource_limits: ResourceLimits {
            cores: (0, 48),
            ..Default::default()
        },
        enforce_node_group_min_size: true,
        ..Default::default()
    });
    let type_name = fake_type_name(16, 64);
    world.add_ready_node("ng1", &type_name, allocatable(16_000, 64 * GIB));
    world.add_ready_node("ng2", &type_name, allocatable(16_000, 64 * GIB));
    world.now = secs(120);

    let launched = run_loop(&mut world, &mut policy);

    assert_eq!(launched, ["ng1"]);
    assert_eq!(world.live_nodes("ng1").len(), 2);
    assert_eq!(world.live_nodes("ng2").len(), 1);
}

#[test]
fn enforce_min_size_grows_group() {
    // TestStaticAutoscalerRunOnce: ng3 has min 3 and one node; with
    // --enforce-node-group-min-size it grows by 2. Without the flag it does not.
    for (enforce, expected) in [(true, 2), (false, 0)] {
        let mut world = TestWorld::new(fake_catalog(), vec![]);
        let ng3 = group(&world.catalog, "ng3", &fake_type_name(1, 1), 3, 10);
        let mut policy = autoscaler_with(ClusterAutoscalerConfig {
            node_groups: vec![ng3],
            enforce_node_group_min_size: enforce,
            ..Default::default()
        });
        world.add_ready_node("ng3", &fake_type_name(1, 1), allocatable(1000, 1000));
        world.now = secs(120);

        let launched = run_loop(&mut world, &mut policy);

        assert_eq!(launched.len(), expected, "enforce {enforce}");
    }
}

#[test]
fn min_cores_blocks_scale_down() {
    // A 2-core minimum (--cores-total=2:...) keeps one of two empty 1-core nodes.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let ng1 = group(&world.catalog, "ng1", &fake_type_name(1, 1), 0, 10);
    let mut policy = autoscaler_with(ClusterAutoscalerConfig {
        node_groups: vec![ng1],
        resource_limits: ResourceLimits {
            cores: (1, 100),
            ..Default::default()
        },
        scale_down_unneeded_time: SimDuration::from_mins(1),
        ..Default::default()
    });
    world.add_ready_node("ng1", &fake_type_name(1, 1), allocatable(1000, GIB));
    world.add_ready_node("ng1", &fake_type_name(1, 1), allocatable(1000, GIB));
    scale_down_once(&mut world, &mut policy);
    world.now = secs(61);

    let reply = world.call(|view, actions| {
        policy.scale_down(view, actions);
    });

    assert_eq!(deletions(&reply.actions).len(), 1);
}

// Balancing similar node groups.

/// Four identical groups of 100m nodes, each node running an 80m pod: ng1 1 node (max 1), ng2
/// 1 (max 2), ng3 1 (max 5), ng4 3 (max 5), and two pending 80m pods.
fn balance_world() -> (TestWorld, Vec<NodeGroupConfig>) {
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let type_name = fake_type_name(1, 1);
    let mut groups = Vec::new();
    for (name, nodes, max) in [("ng1", 1, 1), ("ng2", 1, 2), ("ng3", 1, 5), ("ng4", 3, 5)] {
        groups.push(group(&world.catalog, name, &type_name, 0, max));
        for _ in 0..nodes {
            let node = world.add_ready_node(name, &type_name, allocatable(100, GIB));
            world.add_bound_pod(node, &pod_spec(80, 0));
        }
    }
    world.now = secs(120);
    world.add_pending_pod(&pod_spec(80, 0));
    world.add_pending_pod(&pod_spec(80, 0));
    (world, groups)
}

#[test]
fn balance_grows_smallest_groups() {
    // TestScaleUpBalanceGroups: ng1 is at its maximum. ng2 and ng3 are the smallest of the
    // similar groups, so they grow to 2 each, whichever group the expander picked.
    for seed in 0..5 {
        let (mut world, groups) = balance_world();
        let mut config = ClusterAutoscalerConfig {
            node_groups: groups,
            ..Default::default()
        };
        config.balancing.enabled = true;
        let mut policy = ClusterAutoscaler::new(config, &RngStreams::new(seed));

        let launched = run_loop(&mut world, &mut policy);

        assert_eq!(sorted(launched), ["ng2", "ng3"], "seed {seed}");
        assert_eq!(world.live_nodes("ng1").len(), 1);
        assert_eq!(world.live_nodes("ng4").len(), 3);
    }
}

#[test]
fn balance_off_grows_one_group() {
    let (mut world, groups) = balance_world();
    let mut policy = autoscaler(groups);

    let launched = run_loop(&mut world, &mut policy);

    assert_eq!(launched.len(), 2);
    assert!(launched.iter().all(|name| *name == launched[0]));
}

#[test]
fn similarity_rule_tolerances() {
    let config = BalancingConfig::default();
    let base = template(4000, 16_000 * MIB, 110);
    let mut memory_close = base.clone();
    memory_close.capacity.memory_bytes = base.capacity.memory_bytes * 99 / 100;
    memory_close.allocatable.memory_bytes = memory_close.capacity.memory_bytes;
    let mut memory_far = base.clone();
    memory_far.capacity.memory_bytes = base.capacity.memory_bytes * 97 / 100;
    let mut other_pods = base.clone();
    other_pods.capacity.pods = 29;
    let mut other_zone = base.clone();
    other_zone
        .labels
        .insert("topology.kubernetes.io/zone".into(), "b".into());
    let mut other_team = base.clone();
    other_team.labels.insert("team".into(), "b".into());

    assert!(similar(&base, &memory_close, &config));
    assert!(!similar(&base, &memory_far, &config));
    assert!(!similar(&base, &other_pods, &config));
    assert!(similar(&base, &other_zone, &config));
    assert!(!similar(&base, &other_team, &config));
    let ignoring_team = BalancingConfig {
        ignored_labels: ["team".to_string()].into(),
        ..BalancingConfig::default()
    };
    assert!(similar(&base, &other_team, &ignoring_team));
    let by_team = BalancingConfig {
        labels: vec!["team".into()],
        ..BalancingConfig::default()
    };
    assert!(!similar(&base, &other_team, &by_team));
    assert!(!similar(&base, &base, &by_team));
}

#[test]
fn dissimilarity_names_failed_comparison() {
    let config = BalancingConfig::default();
    let base = template(4000, 16 * GIB, 110);
    let describe = |other: &Template, config: &BalancingConfig| {
        dissimilarity(&base, other, config)
            .map(|d| d.describe("ng1", "ng2", config))
            .unwrap_or_default()
    };
    let mut other_cpu = base.clone();
    other_cpu.capacity.cpu_millis = 8000;
    let mut memory_far = base.clone();
    memory_far.capacity.memory_bytes = 15 * GIB;
    let mut allocatable_far = base.clone();
    allocatable_far.allocatable.memory_bytes = 14 * GIB;
    let mut free_far = base.clone();
    free_far.daemon.cpu_millis = 500;
    let mut other_team = base.clone();
    other_team.labels.insert("team".into(), "b".into());
    let by_team = BalancingConfig {
        labels: vec!["team".into()],
        ..BalancingConfig::default()
    };

    assert_eq!(dissimilarity(&base, &base, &config), None);
    assert_eq!(
        describe(&other_cpu, &config),
        "cpu capacity differs: ng2 has 8 and ng1 has 4, and it must be equal"
    );
    assert_eq!(
        describe(&memory_far, &config),
        "memory capacity differs: ng2 has 15Gi and ng1 has 16Gi, beyond \
         --memory-difference-ratio=0.015"
    );
    assert_eq!(
        describe(&allocatable_far, &config),
        "allocatable memory differs: ng2 has 14Gi and ng1 has 16Gi, beyond \
         --max-allocatable-difference-ratio=0.05"
    );
    assert_eq!(
        describe(&free_far, &config),
        "free cpu (allocatable less DaemonSet requests) differs: ng2 has 3500m and ng1 has 4, \
         beyond --max-free-difference-ratio=0.05"
    );
    assert_eq!(
        describe(&other_team, &config),
        "label team differs: ng2 has \"b\" and ng1 has none"
    );
    assert_eq!(
        describe(&other_team, &by_team),
        "--balancing-label team differs: ng2 has \"b\" and ng1 has none"
    );
}

#[test]
fn instance_family_labels_not_compared() {
    let mut base = template(4000, 16 * GIB, 110);
    base.labels.insert(
        "node.kubernetes.io/instance-type".into(),
        "m5.xlarge".into(),
    );
    base.labels
        .insert("karpenter.k8s.aws/instance-family".into(), "m5".into());
    let mut amd = base.clone();
    amd.labels.insert(
        "node.kubernetes.io/instance-type".into(),
        "m5a.xlarge".into(),
    );
    amd.labels
        .insert("karpenter.k8s.aws/instance-family".into(), "m5a".into());
    let ignoring_type = BalancingConfig {
        ignored_labels: ["node.kubernetes.io/instance-type".to_string()].into(),
        ..BalancingConfig::default()
    };

    let described = dissimilarity(&base, &amd, &BalancingConfig::default())
        .map(|d| d.describe("ng1", "ng2", &BalancingConfig::default()));

    assert_eq!(
        described.as_deref(),
        Some(
            "label node.kubernetes.io/instance-type differs: ng2 has \"m5a.xlarge\" and ng1 has \"m5.xlarge\""
        )
    );
    assert_eq!(dissimilarity(&base, &amd, &ignoring_type), None);
    assert!(similar(&base, &amd, &ignoring_type));
}

#[test]
fn no_similar_group_explanations() {
    let config = BalancingConfig::default();
    let base = template(4000, 16 * GIB, 110);
    let mut other_cpu = base.clone();
    other_cpu.capacity.cpu_millis = 8000;
    let mut other_team = base.clone();
    other_team.labels.insert("team".into(), "b".into());
    let templates = [base.clone(), other_cpu, other_team, base];
    let name = |group: usize| format!("ng{}", group + 1);

    assert_eq!(
        explain_no_similar(0, &[], &templates, name, &config),
        "no other node group may scale up"
    );
    // ng3 fails only on a label, later than ng2 on capacity, so it is the closest.
    assert_eq!(
        explain_no_similar(0, &[1, 2], &templates, name, &config),
        "closest is ng3, whose label team differs: ng3 has \"b\" and ng1 has none"
    );
    assert_eq!(
        explain_no_similar(0, &[1, 3], &templates, name, &config),
        "closest is ng4, which is similar but cannot hold every pod group that ng1 can hold"
    );
}

#[test]
fn balance_split_caps_at_room() {
    // Three groups of sizes 1, 1 and 3 with maxima 2, 5 and 5 share 10 nodes; only 7 fit.
    let parts = balance(&[(0, 1, 2), (1, 1, 5), (2, 3, 5)], 10);
    let added: Vec<(usize, u32)> = parts.iter().map(|p| (p.group, p.new - p.current)).collect();

    assert_eq!(added, [(0, 1), (1, 4), (2, 2)]);
}

#[test]
fn balance_does_not_rescue_per_zone_groups() {
    // User report (#1676, #4165): three m5.large groups, one per zone, only the first with a
    // node, balancing on. The real node's template reports less memory and fewer pods than the
    // instance-type templates of the empty groups, so the groups are not similar and every
    // scale-up goes to the first group.
    let mut world = TestWorld::new(Catalog::builtin(), vec![]);
    let mut groups = Vec::new();
    for (index, zone) in ZONES.iter().enumerate() {
        let mut config = group(&world.catalog, &format!("m5-{zone}"), "m5.large", 0, 10);
        config.min_size = u32::from(index == 0);
        config.zones = vec![zone.to_string()];
        groups.push(config);
    }
    let mut config = ClusterAutoscalerConfig {
        node_groups: groups,
        ..Default::default()
    };
    config.balancing.enabled = true;
    let mut policy = autoscaler_with(config);
    let m5_large = world.catalog.by_name("m5.large").unwrap().allocatable();
    let node = world.add_ready_node("m5-test-zone-1", "m5.large", m5_large);
    world.add_bound_pod(node, &pod_spec(1500, 0));
    world.now = secs(120);
    world.add_pending_pod(&pod_spec(1000, GIB));

    let log = report_pending_and_loop(&mut world, &mut policy);

    assert_eq!(launched_groups(&log), ["m5-test-zone-1"]);
    let launch = launches(untimed(&log))[0].clone();
    assert!(
        launch.reason.contains(
            ", no similar node group to balance with (closest is m5-test-zone-2, whose \
                 memory capacity differs: m5-test-zone-2 has 8Gi and m5-test-zone-1 has 7577Mi, \
                 beyond --memory-difference-ratio=0.015);"
        ),
        "{}",
        launch.reason
    );
}

// Cap on unneeded nodes: core/scaledown/planner/planner_test.go
// TestUpdateClusterStatUnneededNodesLimit, 100 empty candidates, parallelism 10.

fn unneeded_after_pass(
    unneeded_time: SimDuration,
    interval: SimDuration,
    previous: usize,
) -> usize {
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let ng = group(&world.catalog, "ng", &fake_type_name(1, 1), 0, 200);
    let mut policy = autoscaler_with(ClusterAutoscalerConfig {
        node_groups: vec![ng],
        scale_down_unneeded_time: unneeded_time,
        ..Default::default()
    });
    let nodes: Vec<NodeId> = (0..100)
        .map(|_| world.add_ready_node("ng", &fake_type_name(1, 1), allocatable(1000, GIB)))
        .collect();
    world.now = secs(600);
    for id in &nodes[..previous] {
        policy.unneeded.insert(*id, world.now);
    }
    policy.min_scale_down_interval = interval;

    scale_down_once(&mut world, &mut policy);
    policy.unneeded.len()
}

#[test]
fn unneeded_nodes_capped() {
    let minute = SimDuration::from_mins(1);
    let cases = [
        (minute, secs(10), 0, 20),
        (minute, secs(10), 3, 23),
        (minute, secs(10), 77, 70),
        (minute, secs(1), 13, 33),
        (minute, secs(30), 13, 30),
        (SimDuration::ZERO, secs(10), 0, 20),
    ];
    for (unneeded_time, interval, previous, expected) in cases {
        let interval = SimDuration::from_millis(interval.as_millis());

        let found = unneeded_after_pass(unneeded_time, interval, previous);

        assert_eq!(
            found, expected,
            "unneeded time {unneeded_time}, interval {interval}, {previous} previously unneeded"
        );
    }
}

// Backoff: utils/backoff/exponential_backoff_test.go TestMaxBackoff, initial 1m, max 3m.

#[test]
fn backoff_duration_rules() {
    let config = ClusterAutoscalerConfig {
        initial_node_group_backoff_duration: SimDuration::from_mins(1),
        max_node_group_backoff_duration: SimDuration::from_mins(3),
        ..Default::default()
    };
    let t0 = secs(1000);
    let mut backoff = Backoff::default();

    backoff.fail(t0, &config);
    assert!(backoff.active(t0));
    assert!(!backoff.active(t0 + SimDuration::from_millis(60_001)));

    // A failure exactly at the end is still during the backoff: the duration stays 1m.
    backoff.fail(t0 + SimDuration::from_mins(1), &config);
    assert!(backoff.active(t0 + SimDuration::from_millis(119_999)));
    assert!(!backoff.active(t0 + SimDuration::from_mins(2)));

    // After it has expired, the duration doubles to 2m.
    let t3 = t0 + SimDuration::from_mins(3);
    backoff.fail(t3, &config);
    assert!(backoff.active(t3 + SimDuration::from_millis(119_999)));
    assert!(!backoff.active(t3 + SimDuration::from_mins(2)));
}

#[test]
fn provision_timeout_backs_off() {
    // --max-node-provision-time=1m: the node launched at 10 s for the pending pod is still
    // not Ready after a minute. The first loop after 70 s backs its group off. A backed-off
    // group's node is no longer upcoming, so the same loop grows the other group.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let slow = group(&world.catalog, "slow", &fake_type_name(2, 8), 0, 10);
    let other = group(&world.catalog, "other", &fake_type_name(2, 16), 0, 10);
    let mut policy = autoscaler_with(ClusterAutoscalerConfig {
        node_groups: vec![slow, other],
        max_node_provision_time: SimDuration::from_mins(1),
        ..Default::default()
    });
    world.add_pending_pod(&pod_spec(1000, GIB));

    let first = report_pending_and_loop(&mut world, &mut policy);
    let waiting = world.advance_to(&mut policy, secs(70));
    let backed_off_at_70 = policy.backed_off(0, world.now);
    let timed_out = world.advance_to(&mut policy, secs(80));

    assert_eq!(launched_groups(&first), ["slow"]);
    assert!(launches(untimed(&waiting)).is_empty());
    assert!(!backed_off_at_70);
    assert_eq!(launched_groups(&timed_out), ["other"]);
    assert!(policy.backed_off(0, world.now));
}

// Drainability: simulator/drain_test.go, with the 1h timeout for kube-system pods.

/// Runs one scale-down pass over a 1000m node running one pod of `spec` created `age` ago,
/// with room elsewhere, and returns why the node is unremovable, if it is.
fn drain_check(
    spec: PodSpec,
    age: SimDuration,
    pdbs: Vec<PodDisruptionBudget>,
) -> Option<Unremovable> {
    drain_check_with(Default::default(), spec, age, pdbs)
}

/// Runs [`drain_check`] with `config`.
fn drain_check_with(
    config: ClusterAutoscalerConfig,
    spec: PodSpec,
    age: SimDuration,
    pdbs: Vec<PodDisruptionBudget>,
) -> Option<Unremovable> {
    let (mut world, mut policy, node) = eligibility_setup(config, None, &[]);
    world.cluster.set_pdbs(pdbs);
    let pod = world
        .cluster
        .create_pod(Owner::Deployment(0), Arc::new(spec), world.now);
    world.cluster.bind(pod, node, world.now);
    world.cluster.set_running(pod);
    world.now += age;

    scale_down_once(&mut world, &mut policy);
    policy
        .unremovable_nodes()
        .find(|(id, _, _)| *id == node)
        .map(|(_, reason, _)| reason)
}

/// A drainability case: its name, the pod, its age, the budgets and the expected reason.
type DrainCase = (
    &'static str,
    PodSpec,
    SimDuration,
    Vec<PodDisruptionBudget>,
    Option<Unremovable>,
);

fn small_pod() -> PodSpec {
    PodSpec {
        requests: Resources::new(100, 0, 1),
        labels: BTreeMap::from([("app".to_string(), "web".to_string())]),
        ..Default::default()
    }
}

fn pdb(namespace: &str, max_unavailable: i64) -> PodDisruptionBudget {
    PodDisruptionBudget {
        name: "web".into(),
        namespace: namespace.into(),
        selector: autoscale_sim_kube::LabelSelector {
            match_labels: BTreeMap::from([("app".to_string(), "web".to_string())]),
            match_expressions: vec![],
        },
        min_available: None,
        max_unavailable: Some(autoscale_sim_kube::IntOrPercent::Int(max_unavailable)),
    }
}

/// Builds a small kube-system pod and a small pod with local storage.
fn system_and_local_pods() -> (PodSpec, PodSpec) {
    let kube_system = PodSpec {
        namespace: "kube-system".into(),
        ..small_pod()
    };
    let local = PodSpec {
        local_storage: true,
        ..small_pod()
    };
    (kube_system, local)
}

#[test]
fn drain_rule_flags() {
    // The flags that turn drainability rules off or change them, each against the default.
    let minute = SimDuration::from_mins(1);
    let (kube_system, local) = system_and_local_pods();
    let check = |config: ClusterAutoscalerConfig, spec: &PodSpec, age| {
        drain_check_with(config, spec.clone(), age, vec![])
    };

    let no_system = ClusterAutoscalerConfig {
        skip_nodes_with_system_pods: false,
        ..Default::default()
    };
    assert_eq!(check(no_system, &kube_system, minute), None);
    let no_local = ClusterAutoscalerConfig {
        skip_nodes_with_local_storage: false,
        ..Default::default()
    };
    assert_eq!(check(no_local, &local, minute), None);

    // --blocking-system-pod-distruption-timeout=2h: a 61-minute-old kube-system pod still blocks.
    let two_hours = ClusterAutoscalerConfig {
        blocking_system_pod_disruption_timeout: SimDuration::from_hours(2),
        ..Default::default()
    };
    assert_eq!(
        check(two_hours, &kube_system, SimDuration::from_mins(61)),
        Some(Unremovable::UnmovableKubeSystemPod)
    );

    // --min-replica-count=2: the node's pod is its Deployment's only replica.
    let min_two = ClusterAutoscalerConfig {
        min_replica_count: 2,
        ..Default::default()
    };
    assert_eq!(
        check(min_two, &small_pod(), minute),
        Some(Unremovable::MinReplicasReached)
    );
    let min_one = ClusterAutoscalerConfig {
        min_replica_count: 1,
        ..Default::default()
    };
    assert_eq!(check(min_one, &small_pod(), minute), None);
}

#[test]
fn expendable_pods_ignored() {
    // core/utils/expendable.go: a pod below --expendable-pods-priority-cutoff (-10) neither
    // triggers a scale-up nor counts in scale-down.
    let expendable = Arc::new(PodSpec {
        priority: -11,
        ..(*pod_spec(900, 0)).clone()
    });
    let (mut world, mut policy, node) = eligibility_setup(Default::default(), None, &[]);
    let bound = world
        .cluster
        .create_pod(Owner::Deployment(0), expendable.clone(), world.now);
    world.cluster.bind(bound, node, world.now);

    // At 900m of 1000m the node would be NotUnderutilized; without the expendable pod it is
    // empty, and unneeded.
    scale_down_once(&mut world, &mut policy);
    assert_eq!(unneeded(&policy), [node]);

    world.add_pending_pod(&expendable);
    world.now += SimDuration::from_secs(10);
    let status = scale_up_once(&mut world, &mut policy);
    assert!(status.grown.is_empty());
    assert!(status.remain_unschedulable.is_empty());

    // At the cutoff itself a pod is not expendable.
    let (mut world, mut policy, node) = eligibility_setup(Default::default(), None, &[]);
    let at_cutoff = Arc::new(PodSpec {
        priority: -10,
        ..(*pod_spec(900, 0)).clone()
    });
    let bound = world
        .cluster
        .create_pod(Owner::Deployment(0), at_cutoff, world.now);
    world.cluster.bind(bound, node, world.now);
    scale_down_once(&mut world, &mut policy);
    assert!(unneeded(&policy).is_empty());
}

/// Lists the node groups of the launches among `actions`, in order.
fn launched_groups_of(actions: &[Action]) -> Vec<String> {
    launches(actions.iter())
        .iter()
        .map(|request| request.owner.clone())
        .collect()
}

#[test]
fn unhealthy_cluster_does_nothing() {
    // ClusterStateRegistry.IsClusterHealthy: 4 unready nodes out of 6 is more than both
    // --ok-total-unready-count (3) and --max-total-unready-percentage (45 %), so the loop
    // neither scales up nor marks nodes unneeded, and writes one note with the reason.
    let (mut world, mut policy, node) = eligibility_setup(Default::default(), None, &[]);
    let mut others = Vec::new();
    for _ in 0..4 {
        others.push(world.add_ready_node("ng1", &fake_type_name(1, 1), allocatable(1000, GIB)));
    }
    for id in &others {
        world.cluster.set_node_not_ready(*id, Some(world.now));
    }
    // The first pod fits ng2's empty node; the second needs a new one.
    let big = pod_spec(1500, 0);
    world.add_pending_pod(&big);
    world.add_pending_pod(&big);
    world.schedule();
    world.now += SimDuration::from_secs(10);

    let token = policy.loop_generation;
    let reply = world.send(&mut policy, PolicyEvent::Timer(token));
    assert!(launched_groups_of(&reply.actions).is_empty());
    assert!(unneeded(&policy).is_empty());
    let notes: Vec<&str> = reply
        .actions
        .iter()
        .filter_map(|action| match action {
            Action::Note { reason, .. } => Some(reason.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(notes, ["ClusterUnhealthy"]);

    // With one of them Ready again, 3 unready is within --ok-total-unready-count: the loop
    // scales up and the empty Ready nodes become unneeded.
    world.cluster.set_node_not_ready(others[0], None);
    let token = policy.loop_generation;
    let reply = world.send(&mut policy, PolicyEvent::Timer(token));
    assert_eq!(launched_groups_of(&reply.actions), ["ng2"]);
    assert!(unneeded(&policy).contains(&node));
}

#[test]
fn frequent_loops_off_waits_for_scan_interval() {
    // --frequent-loops-enabled=false: a newly Unschedulable pod waits for the next scan.
    let (mut world, mut policy, _) = eligibility_setup(
        ClusterAutoscalerConfig {
            frequent_loops_enabled: false,
            ..Default::default()
        },
        None,
        &[],
    );
    world.send(&mut policy, PolicyEvent::Start);
    // The first pod goes to ng2's empty node, the second will fit the node Start launched for
    // ng2's minimum size, and the third needs a new one.
    let big = pod_spec(1500, 0);
    world.add_pending_pod(&big);
    world.add_pending_pod(&big);
    let pod = world.add_pending_pod(&big);
    world.schedule();
    world.now += SimDuration::from_secs(3);
    let reply = world.send(&mut policy, PolicyEvent::PodsUnschedulable(vec![pod]));
    assert!(reply.actions.is_empty());

    // The Start timer fires 10 s after the start and scales up then.
    let log = world.advance_to(&mut policy, world.now + SimDuration::from_secs(7));
    assert_eq!(launched_groups(&log), ["ng2"]);
}

#[test]
fn drain_rules() {
    let minute = SimDuration::from_mins(1);
    let (kube_system, local) = system_and_local_pods();
    let safe = |spec: &PodSpec| PodSpec {
        safe_to_evict: Some(true),
        ..spec.clone()
    };
    let cases: Vec<DrainCase> = vec![
        ("ReplicaSet pod moves", small_pod(), minute, vec![], None),
        (
            "young kube-system pod without PDB",
            kube_system.clone(),
            minute,
            vec![],
            Some(Unremovable::UnmovableKubeSystemPod),
        ),
        (
            "old kube-system pod",
            kube_system.clone(),
            SimDuration::from_mins(61),
            vec![],
            None,
        ),
        (
            "kube-system pod with a PDB elsewhere",
            kube_system.clone(),
            minute,
            vec![pdb("default", 1)],
            Some(Unremovable::UnmovableKubeSystemPod),
        ),
        (
            "kube-system pod with its PDB",
            kube_system.clone(),
            minute,
            vec![pdb("kube-system", 1)],
            None,
        ),
        (
            "safe-to-evict kube-system pod",
            safe(&kube_system),
            minute,
            vec![],
            None,
        ),
        (
            "local storage",
            local.clone(),
            minute,
            vec![],
            Some(Unremovable::LocalStorageRequested),
        ),
        (
            "safe-to-evict local storage",
            safe(&local),
            minute,
            vec![],
            None,
        ),
        (
            "PDB with no disruption left",
            small_pod(),
            minute,
            vec![pdb("default", 0)],
            Some(Unremovable::NotEnoughPdb),
        ),
        (
            "safe-to-evict false",
            PodSpec {
                safe_to_evict: Some(false),
                ..small_pod()
            },
            minute,
            vec![],
            Some(Unremovable::NotSafeToEvict),
        ),
    ];
    for (name, spec, age, pdbs, expected) in cases {
        assert_eq!(drain_check(spec, age, pdbs), expected, "{name}");
    }
}

// Auto Scaling groups: mixed instances and zones.

#[test]
fn mixed_instances_distribution() {
    // One on-demand instance as the base, then half of the rest on-demand, rounded toward
    // on-demand: OD, OD, spot, OD, spot.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let mut mixed = group(&world.catalog, "mixed", &fake_type_name(2, 8), 5, 10);
    mixed.mixed_instances = Some(MixedInstancesPolicy {
        other_instance_types: vec![world.catalog.index_of(&fake_type_name(2, 16)).unwrap()],
        on_demand_base_capacity: 1,
        on_demand_percentage_above_base_capacity: 50,
        ..Default::default()
    });
    let mut policy = autoscaler(vec![mixed]);

    let reply = world.send(&mut policy, PolicyEvent::Start);
    let capacity: Vec<&str> = launches(&reply.actions)
        .iter()
        .map(|r| r.capacity_type.label())
        .collect();

    assert_eq!(
        capacity,
        ["on-demand", "on-demand", "spot", "on-demand", "spot"]
    );
    for request in launches(&reply.actions) {
        assert_eq!(request.alternatives.len(), 1);
    }
}

#[test]
fn mixed_template_uses_first_override() {
    // Cluster Autoscaler sizes an empty mixed group by its first override, even when the
    // others are larger, and its template has no capacity-type label.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let mut mixed = group(&world.catalog, "mixed", &fake_type_name(2, 8), 0, 10);
    mixed.mixed_instances = Some(MixedInstancesPolicy {
        other_instance_types: vec![world.catalog.index_of(&fake_type_name(8, 32)).unwrap()],
        ..Default::default()
    });
    let policy = autoscaler(vec![mixed]);
    let mut template_capacity = Resources::ZERO;
    let mut labelled = true;

    world.call(|view, _| {
        let template = policy.template(0, view);
        template_capacity = template.capacity;
        labelled = template
            .labels
            .contains_key(autoscale_sim_kube::LABEL_CAPACITY_TYPE);
    });

    assert_eq!(template_capacity.cpu_millis, 2000);
    assert_eq!(template_capacity.memory_bytes, 8 * GIB);
    assert!(!labelled);
}

#[test]
fn multi_zone_group_spreads_launches() {
    // An Auto Scaling group over three zones launches into the zone with the fewest instances;
    // Cluster Autoscaler's template carries the first zone only.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let mut spread = group(&world.catalog, "spread", &fake_type_name(2, 8), 4, 10);
    spread.zones = ZONES.iter().map(|z| z.to_string()).collect();
    let mut policy = autoscaler(vec![spread]);

    let reply = world.send(&mut policy, PolicyEvent::Start);
    let zones: Vec<&str> = launches(&reply.actions)
        .iter()
        .map(|r| r.zone.as_str())
        .collect();
    let mut template_zone = None;
    world.call(|view, _| {
        template_zone = policy
            .template(0, view)
            .labels
            .get(autoscale_sim_kube::LABEL_ZONE)
            .cloned();
    });

    assert_eq!(zones, [ZONES[0], ZONES[1], ZONES[2], ZONES[0]]);
    assert_eq!(template_zone.as_deref(), Some(ZONES[0]));
    let first = &launches(&reply.actions)[0];
    let alternative_zones: Vec<&str> = first.alternatives.iter().map(|(_, z)| z.as_str()).collect();
    assert_eq!(alternative_zones, [ZONES[1], ZONES[2]]);
}

#[test]
fn eligibility_reports_not_underutilized() {
    let (mut world, mut policy, node) = eligibility_setup(Default::default(), None, &[600]);

    scale_down_once(&mut world, &mut policy);

    let reasons: Vec<(NodeId, Unremovable)> = policy
        .unremovable_nodes()
        .map(|(id, reason, _)| (id, reason))
        .collect();
    assert_eq!(reasons, [(node, Unremovable::NotUnderutilized)]);
}

#[test]
fn kube_system_pod_unblocks_after_hour() {
    // User report (#64, #1577): a node whose only pod is a kube-system pod without a
    // PodDisruptionBudget is never removed. Since 1.33 the pod stops blocking at one hour of
    // age. The node is re-checked every 5 minutes, is unneeded from 3600 s, and is deleted at
    // the first loop more than 10 minutes later.
    let (mut world, mut policy, node) = eligibility_setup(Default::default(), None, &[]);
    let spec = Arc::new(PodSpec {
        namespace: "kube-system".into(),
        ..small_pod()
    });
    let pod = world
        .cluster
        .create_pod(Owner::Deployment(0), spec, world.now);
    world.cluster.bind(pod, node, world.now);
    world.cluster.set_running(pod);
    world.call(|view, actions| policy.run_once(view, actions));

    let log = world.advance_to(&mut policy, secs(2 * 3600));

    let deleted_at: Vec<(SimTime, NodeId)> = log
        .iter()
        .filter_map(|(at, action)| match action {
            Action::DeleteNode { node, .. } => Some((*at, *node)),
            _ => None,
        })
        .collect();
    assert_eq!(deleted_at, [(secs(4210), node)]);
}
