//! Provisioning cases from kubernetes-sigs/karpenter v1.13 (`pkg/controllers/provisioning/`
//! suites): minValues, preference relaxation, pessimistic NodePool limits, the order in which
//! the scheduling simulation tries nodes, nomination and instance-type truncation.

use std::collections::BTreeMap;
use std::sync::Arc;

use autoscale_sim_cloud::{Catalog, GIB, MIB, Price, Resources};
use autoscale_sim_kube::{
    CapacityType, LABEL_HOSTNAME, LABEL_INSTANCE_TYPE, LABEL_ZONE, LabelSelector, NodeId,
    NodeSelectorTerm, PodAffinityTerm, PodSpec, PreferredNodeTerm, Taint, TaintEffect,
    TopologySpreadConstraint, WeightedPodAffinityTerm, WhenUnsatisfiable,
};

use super::tests::{capacity_types, fixed_spot_prices, karpenter, launched_types, pool, provision};
use super::{Karpenter, KarpenterConfig, MinValuesPolicy, NodePool, PreferencePolicy};
use crate::api::PolicyEvent;
use crate::requirements::{Operator, Requirement};
use crate::testing::{
    TestWorld, fake_catalog, fake_type_name, instance_type, launches, pod_spec, secs, untimed,
};

/// Builds the two instance types of the minValues case: `it1` has room for one of its pods,
/// `it2` for both. Eight pod slots keep the EKS kube-reserved memory small (343 MiB).
fn min_values_catalog() -> Catalog {
    let mut it1 = instance_type("it1", 1, 2048, Price(520_000));
    it1.max_pods_eni = Some(8);
    let mut it2 = instance_type("it2", 4, 8192, Price(1_000_000));
    it2.max_pods_eni = Some(8);
    Catalog::new(vec![it1, it2])
}

/// Builds a NodePool restricted to `it1` and `it2`, with `min_values` on the instance-type key.
pub(super) fn min_values_pool(min_values: Option<u32>) -> NodePool {
    NodePool {
        requirements: vec![Requirement {
            key: LABEL_INSTANCE_TYPE.to_string(),
            operator: Operator::In,
            values: vec!["it1".to_string(), "it2".to_string()],
            min_values,
        }],
        ..pool("default")
    }
}

/// Runs the minValues case: two pods of 900m / 900 MiB against `policy`.
pub(super) fn min_values_launches(
    mut policy: Karpenter,
) -> (TestWorld, Vec<crate::api::LaunchRequest>) {
    let mut world = TestWorld::new(min_values_catalog(), vec![]);
    world.send(&mut policy, PolicyEvent::Start);
    let spec = pod_spec(900, 900 * MIB);
    world.add_pending_pod(&spec);
    world.add_pending_pod(&spec);
    let pending = world.schedule();
    world.send(&mut policy, PolicyEvent::PodsUnschedulable(pending));

    let log = world.advance_to(&mut policy, secs(1));
    let requests = launches(untimed(&log)).into_iter().cloned().collect();
    (world, requests)
}

/// Lists the distinct instance types a launch request lets EC2 choose from.
pub(super) fn offered_types(world: &TestWorld, request: &crate::api::LaunchRequest) -> Vec<String> {
    let mut names: Vec<String> = std::iter::once(request.instance_type)
        .chain(request.alternatives.iter().map(|(t, _)| *t))
        .map(|t| world.catalog.get(t).name.clone())
        .collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn min_values_keeps_two_types() {
    // "should schedule respecting the minValues from instance-type requirements": both pods on
    // one NodeClaim would leave only it2, below minValues 2, so each gets its own NodeClaim
    // that may still launch it1 or it2.
    let (world, requests) = min_values_launches(karpenter(vec![min_values_pool(Some(2))]));

    assert_eq!(requests.len(), 2);
    assert_eq!(offered_types(&world, &requests[0]), ["it1", "it2"]);
    assert_eq!(offered_types(&world, &requests[1]), ["it1", "it2"]);
    assert_eq!(
        requests
            .iter()
            .map(|r| world.catalog.get(r.instance_type).name.as_str())
            .collect::<Vec<_>>(),
        ["it1", "it1"]
    );
}

#[test]
fn without_min_values_one_node() {
    // The same pods without minValues share one NodeClaim narrowed to it2.
    let (world, requests) = min_values_launches(karpenter(vec![min_values_pool(None)]));

    assert_eq!(requests.len(), 1);
    assert_eq!(offered_types(&world, &requests[0]), ["it2"]);
}

#[test]
fn min_values_unmet_by_pool() {
    // A NodePool whose types cannot give 3 distinct instance types launches nothing.
    let (_, requests) = min_values_launches(karpenter(vec![min_values_pool(Some(3))]));

    assert!(requests.is_empty());
}

#[test]
fn min_values_on_family_key() {
    // minValues on another key counts that label's distinct values: the fake types all share
    // family `fake`, so minValues 2 on the family cannot be met.
    let node_pool = NodePool {
        requirements: vec![Requirement {
            key: crate::requirements::LABEL_INSTANCE_FAMILY.to_string(),
            operator: Operator::Exists,
            values: vec![],
            min_values: Some(2),
        }],
        ..pool("default")
    };
    let (_, requests) = min_values_launches(karpenter(vec![node_pool]));

    assert!(requests.is_empty());
}

/// Builds a 3 CPU / 1 GiB pod labelled `app: spread` that may not share a node with another
/// such pod (required pod anti-affinity on the hostname).
fn spread_pod() -> Arc<PodSpec> {
    let mut spec = (*pod_spec(3000, GIB)).clone();
    spec.labels = BTreeMap::from([("app".to_string(), "spread".to_string())]);
    spec.pod_anti_affinity.required = vec![PodAffinityTerm {
        label_selector: LabelSelector {
            match_labels: spec.labels.clone(),
            ..Default::default()
        },
        topology_key: LABEL_HOSTNAME.to_string(),
        namespaces: vec![],
    }];
    Arc::new(spec)
}

/// Builds a NodePool limited to `cpu` vCPUs of capacity and to instance types of at most
/// 16 vCPUs, so that a 3 CPU pod fits the 4, 8 and 16 vCPU types.
fn cpu_limited_pool(cpu: i64) -> NodePool {
    NodePool {
        requirements: vec![Requirement {
            key: crate::requirements::LABEL_INSTANCE_CPU.to_string(),
            operator: Operator::Lt,
            values: vec!["17".to_string()],
            min_values: None,
        }],
        limits: Some(Resources::new(cpu * 1000, i64::MAX, i64::MAX)),
        ..pool("default")
    }
}

#[test]
fn pessimistic_cpu_limit_12() {
    // Limit 12 CPU: the first NodeClaim may be a 4 or 8 vCPU type (16 exceeds the limit), so
    // 8 is taken off and 4 remain. The second may only be a 4 vCPU type, which leaves 0, and
    // the third pod gets no NodeClaim although three 4 vCPU nodes would use exactly 12.
    let spec = spread_pod();

    let (world, log) = provision(
        vec![cpu_limited_pool(12)],
        vec![],
        &[spec.clone(), spec.clone(), spec],
    );

    assert_eq!(
        launched_types(&world, &log),
        [fake_type_name(4, 4), fake_type_name(4, 4)]
    );
}

#[test]
fn pessimistic_cpu_limit_16() {
    // Limit 16 CPU: the first NodeClaim may still become a 16 vCPU type, so all 16 are taken
    // off and the other two pods get no NodeClaim in this batch.
    let spec = spread_pod();

    let (world, log) = provision(
        vec![cpu_limited_pool(16)],
        vec![],
        &[spec.clone(), spec.clone(), spec],
    );

    assert_eq!(launched_types(&world, &log), [fake_type_name(4, 4)]);
}

#[test]
fn cpu_limit_counts_existing_nodes() {
    // An existing 8 vCPU node of the pool leaves 4 of a 12 CPU limit: one 4 vCPU NodeClaim.
    let spec = spread_pod();
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let mut policy = karpenter(vec![cpu_limited_pool(12)]);
    world.send(&mut policy, PolicyEvent::Start);
    world.add_ready_node("default", &fake_type_name(8, 16), Resources::new(0, 0, 0));
    world.add_pending_pod(&spec);
    world.add_pending_pod(&spec);
    let pending = world.schedule();
    world.send(&mut policy, PolicyEvent::PodsUnschedulable(pending));

    let log = world.advance_to(&mut policy, secs(1));

    assert_eq!(launched_types(&world, &log), [fake_type_name(4, 4)]);
}

/// Runs three anti-affine pods against a NodePool with `spec.limits.nodes: 2` that already has
/// `existing` full nodes, and returns the number of NodeClaims launched.
fn launches_under_node_limit(existing: usize) -> usize {
    let spec = spread_pod();
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let node_pool = NodePool {
        limit_nodes: Some(2),
        ..pool("default")
    };
    let mut policy = karpenter(vec![node_pool]);
    world.send(&mut policy, PolicyEvent::Start);
    for _ in 0..existing {
        world.add_ready_node("default", &fake_type_name(1, 1), Resources::new(0, 0, 0));
    }
    for _ in 0..3 {
        world.add_pending_pod(&spec);
    }
    let pending = world.schedule();
    world.send(&mut policy, PolicyEvent::PodsUnschedulable(pending));

    let log = world.advance_to(&mut policy, secs(1));
    launches(untimed(&log)).len()
}

#[test]
fn node_limit_used_up() {
    // Two nodes already exist under `nodes: 2`, so the NodePool opens no NodeClaim.
    assert_eq!(launches_under_node_limit(2), 0);
}

#[test]
fn node_limit_not_counted_in_batch() {
    // One node left under `nodes: 2`. The limit only rules a NodePool out once used up, and an
    // instance type has no `nodes` capacity to take off, so one batch opens three NodeClaims.
    // Karpenter v1.13 does the same: its launch-time check compares the usage before the batch.
    assert_eq!(launches_under_node_limit(1), 3);
}

// Preference relaxation: `pkg/controllers/provisioning/scheduling/preferences.go`.

/// Builds a node-selector term of one `In` requirement.
fn term(key: &str, values: &[&str]) -> NodeSelectorTerm {
    NodeSelectorTerm {
        match_expressions: vec![Requirement {
            key: key.to_string(),
            operator: Operator::In,
            values: values.iter().map(|v| v.to_string()).collect(),
            min_values: None,
        }],
    }
}

/// Builds a 1 CPU / 1 GiB pod that prefers nodes in `zone`.
fn pod_preferring_zone(zone: &str) -> Arc<PodSpec> {
    let mut spec = (*pod_spec(1000, GIB)).clone();
    spec.node_affinity.preferred = vec![PreferredNodeTerm {
        weight: 10,
        preference: term(LABEL_ZONE, &[zone]),
    }];
    Arc::new(spec)
}

/// Lists the zones of the launches in `log`.
fn launched_zones(log: &[(autoscale_sim_engine::SimTime, crate::api::Action)]) -> Vec<String> {
    launches(untimed(log))
        .iter()
        .map(|request| request.zone.clone())
        .collect()
}

#[test]
fn satisfiable_preference_honoured() {
    // Karpenter treats the preferred zone as required while it can be met, so the NodeClaim
    // goes to test-zone-3; without the preference it goes to the first zone.
    let (_, preferring) = provision(
        vec![pool("default")],
        vec![],
        &[pod_preferring_zone("test-zone-3")],
    );
    let (_, plain) = provision(vec![pool("default")], vec![], &[pod_spec(1000, GIB)]);

    assert_eq!(launched_zones(&preferring), ["test-zone-3"]);
    assert_eq!(launched_zones(&plain), ["test-zone-1"]);
}

#[test]
fn ignore_policy_drops_preferences() {
    // Under `--preference-policy=Ignore` the preferred zone plays no part, so the NodeClaim
    // goes to the first zone as for a pod without the preference.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let mut policy = Karpenter::new(KarpenterConfig {
        node_pools: vec![pool("default")],
        preference_policy: PreferencePolicy::Ignore,
        ..Default::default()
    });
    world.send(&mut policy, PolicyEvent::Start);
    world.add_pending_pod(&pod_preferring_zone("test-zone-3"));
    let pending = world.schedule();
    world.send(&mut policy, PolicyEvent::PodsUnschedulable(pending));

    let log = world.advance_to(&mut policy, secs(1));

    assert_eq!(launched_zones(&log), ["test-zone-1"]);
}

#[test]
fn unsatisfiable_preference_relaxed() {
    // No NodePool zone matches the preference, so it is dropped and the pod still gets a node.
    let (world, log) = provision(
        vec![pool("default")],
        vec![],
        &[pod_preferring_zone("nowhere")],
    );

    assert_eq!(launched_types(&world, &log), [fake_type_name(2, 4)]);
    assert_eq!(launched_zones(&log), ["test-zone-1"]);
}

#[test]
fn required_terms_tried_in_order() {
    // Karpenter tries the first required node-affinity term alone and moves to the next only
    // when the first cannot be met, so the pod gets the 8 vCPU type of the first term although
    // the second allows a cheaper one.
    let mut spec = (*pod_spec(1000, GIB)).clone();
    spec.node_affinity.required = vec![
        term(LABEL_INSTANCE_TYPE, &[&fake_type_name(8, 16)]),
        term(LABEL_INSTANCE_TYPE, &[&fake_type_name(2, 4)]),
    ];
    let mut missing_first = spec.clone();
    missing_first.node_affinity.required[0] = term(LABEL_INSTANCE_TYPE, &["not-a-type"]);

    let (world, log) = provision(vec![pool("default")], vec![], &[Arc::new(spec)]);
    let (relaxed_world, relaxed_log) =
        provision(vec![pool("default")], vec![], &[Arc::new(missing_first)]);

    assert_eq!(launched_types(&world, &log), [fake_type_name(8, 16)]);
    assert_eq!(
        launched_types(&relaxed_world, &relaxed_log),
        [fake_type_name(2, 4)]
    );
}

/// Builds a 1 CPU / 1 GiB pod labelled `app: soft` with `constraint` applied to it.
fn soft_pod(constraint: impl FnOnce(&mut PodSpec, LabelSelector)) -> Arc<PodSpec> {
    let mut spec = (*pod_spec(1000, GIB)).clone();
    spec.labels = BTreeMap::from([("app".to_string(), "soft".to_string())]);
    let selector = LabelSelector {
        match_labels: spec.labels.clone(),
        ..Default::default()
    };
    constraint(&mut spec, selector);
    Arc::new(spec)
}

#[test]
fn preferred_anti_affinity_honoured() {
    // Preferred hostname anti-affinity counts as required, so two pods get two NodeClaims
    // where they would otherwise share one.
    let spread = soft_pod(|spec, selector| {
        spec.pod_anti_affinity.preferred = vec![WeightedPodAffinityTerm {
            weight: 50,
            pod_affinity_term: PodAffinityTerm {
                label_selector: selector,
                topology_key: LABEL_HOSTNAME.to_string(),
                namespaces: vec![],
            },
        }];
    });
    let plain = soft_pod(|_, _| {});

    let (_, spread_log) = provision(vec![pool("default")], vec![], &[spread.clone(), spread]);
    let (_, plain_log) = provision(vec![pool("default")], vec![], &[plain.clone(), plain]);

    assert_eq!(launches(untimed(&spread_log)).len(), 2);
    assert_eq!(launches(untimed(&plain_log)).len(), 1);
}

#[test]
fn schedule_anyway_spread_honoured() {
    // A ScheduleAnyway zone spread counts as DoNotSchedule while it can be met: three pods,
    // three NodeClaims, one per zone.
    let spread = soft_pod(|spec, selector| {
        spec.topology_spread = vec![TopologySpreadConstraint {
            max_skew: 1,
            topology_key: LABEL_ZONE.to_string(),
            when_unsatisfiable: WhenUnsatisfiable::ScheduleAnyway,
            label_selector: selector,
            min_domains: None,
        }];
    });

    let (_, log) = provision(
        vec![pool("default")],
        vec![],
        &[spread.clone(), spread.clone(), spread],
    );

    assert_eq!(
        launched_zones(&log),
        ["test-zone-1", "test-zone-2", "test-zone-3"]
    );
}

#[test]
fn preferred_anti_affinity_blocks_both_ways() {
    // A 4 CPU limit lets the first NodeClaim take all of it (pessimistically), so the second
    // pod cannot have a node of its own. Dropping its own preferred anti-affinity does not let
    // it join the first NodeClaim: Karpenter also keeps the first pod's preferred term, as an
    // inverse anti-affinity (`Topology.Update` with the Respect policy), so the second pod
    // waits for the next batch.
    let limited = NodePool {
        limits: Some(Resources::new(4000, i64::MAX, i64::MAX)),
        ..pool("default")
    };
    let spread = soft_pod(|spec, selector| {
        spec.pod_anti_affinity.preferred = vec![WeightedPodAffinityTerm {
            weight: 50,
            pod_affinity_term: PodAffinityTerm {
                label_selector: selector,
                topology_key: LABEL_HOSTNAME.to_string(),
                namespaces: vec![],
            },
        }];
    });

    let (_, log) = provision(vec![limited], vec![], &[spread.clone(), spread]);

    let launched = launches(untimed(&log));
    assert_eq!(launched.len(), 1);
    assert!(
        launched[0].reason.contains("for 1 pods"),
        "{}",
        launched[0].reason
    );
}

fn prefer_no_schedule_pool() -> NodePool {
    NodePool {
        weight: 100,
        taints: vec![Taint {
            key: "spare".to_string(),
            value: "true".to_string(),
            effect: TaintEffect::PreferNoSchedule,
        }],
        ..pool("soft-tainted")
    }
}

#[test]
fn prefer_no_schedule_taint_avoided() {
    // Karpenter counts PreferNoSchedule taints when it matches pods to NodePools, so a pod
    // without a toleration skips the higher-weight tainted pool while another pool fits.
    let (_, log) = provision(
        vec![prefer_no_schedule_pool(), pool("plain")],
        vec![],
        &[pod_spec(1000, GIB)],
    );

    let owners: Vec<&str> = launches(untimed(&log))
        .iter()
        .map(|r| r.owner.as_str())
        .collect();
    assert_eq!(owners, ["plain"]);
}

#[test]
fn prefer_no_schedule_tolerated_last() {
    // With only the tainted pool, the last relaxation step tolerates PreferNoSchedule taints.
    let (_, log) = provision(
        vec![prefer_no_schedule_pool()],
        vec![],
        &[pod_spec(1000, GIB)],
    );

    let owners: Vec<&str> = launches(untimed(&log))
        .iter()
        .map(|r| r.owner.as_str())
        .collect();
    assert_eq!(owners, ["soft-tainted"]);
}

// The order the simulation tries places in, and what a batch covers: `scheduler.go`,
// `provisioner.go` and `statenode.go`.

/// Creates a pod with `spec` that kube-scheduler finds no node for, on an empty cluster.
fn unschedulable_pod(world: &mut TestWorld, spec: &Arc<PodSpec>) -> Vec<autoscale_sim_kube::PodId> {
    world.add_pending_pod(spec);
    world.schedule()
}

/// Makes a 1 CPU pod pending with an in-flight node (default-0) and an initialized node
/// (default-1) that both have room for it. Returns the world, the policy and the two nodes.
fn pod_with_two_nodes() -> (TestWorld, Karpenter, NodeId, NodeId) {
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let mut policy = karpenter(vec![pool("default")]);
    world.send(&mut policy, PolicyEvent::Start);
    let pending = unschedulable_pod(&mut world, &pod_spec(1000, GIB));
    let room = Resources::new(4000, 8 * GIB, 10);
    let in_flight = world.add_launching_node("default", &fake_type_name(4, 8), room);
    let initialized = world.add_ready_node("default", &fake_type_name(4, 8), room);
    world.send(&mut policy, PolicyEvent::PodsUnschedulable(pending));
    (world, policy, in_flight, initialized)
}

#[test]
fn initialized_node_tried_first() {
    // Both an in-flight node (default-0, sorted first by name) and an initialized node
    // (default-1) have room: the pod is nominated to the initialized one, for 20 s
    // (max(2 x BATCH_MAX_DURATION, 10 s)), and no NodeClaim is opened.
    let (mut world, mut policy, in_flight, initialized) = pod_with_two_nodes();

    let log = world.advance_to(&mut policy, secs(1));

    assert!(launches(untimed(&log)).is_empty());
    assert_eq!(
        policy.nominated_until.keys().copied().collect::<Vec<_>>(),
        [initialized]
    );
    assert_eq!(policy.nominated_until[&initialized], secs(21));
    assert!(!policy.nominated_until.contains_key(&in_flight));
}

#[test]
fn node_level_blocks_noted_once() {
    // A provisioning pass nominates the initialized node for the pod, so the disruption passes
    // from 10 s on skip it, as they skip the in-flight node. Over a minute of passes, each node
    // gets one note.
    let (mut world, mut policy, in_flight, initialized) = pod_with_two_nodes();

    let log = world.advance_to(&mut policy, secs(60));

    let blocked: Vec<(Option<NodeId>, &str)> = untimed(&log)
        .filter_map(|action| match action {
            crate::api::Action::Note {
                node,
                action,
                detail,
                ..
            } if action == "disruption-blocked" => Some((*node, detail.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(
        blocked,
        [
            (Some(in_flight), "the node is not initialized yet"),
            (
                Some(initialized),
                "the node is nominated for pending pods that a provisioning pass placed on it"
            ),
        ]
    );
}

#[test]
fn in_flight_node_before_new_claim() {
    // An in-flight node with room takes the pod before any new NodeClaim.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let mut policy = karpenter(vec![pool("default")]);
    world.send(&mut policy, PolicyEvent::Start);
    let pending = unschedulable_pod(&mut world, &pod_spec(1000, GIB));
    let in_flight = world.add_launching_node(
        "default",
        &fake_type_name(4, 8),
        Resources::new(4000, 8 * GIB, 10),
    );
    world.send(&mut policy, PolicyEvent::PodsUnschedulable(pending));

    let log = world.advance_to(&mut policy, secs(1));

    assert!(launches(untimed(&log)).is_empty());
    assert!(policy.nominated_until.contains_key(&in_flight));
}

#[test]
fn open_claims_fewest_pods_first() {
    // Two anti-affine 2 CPU pods open two NodeClaims. The smaller pods then go, one at a time,
    // to the NodeClaim with the fewest pods (the first on a tie): 1 CPU to the first, 900m to
    // the second, 800m to the first. First fit would have put all three on the first.
    let mut anti = (*pod_spec(2000, GIB)).clone();
    anti.labels = BTreeMap::from([("app".to_string(), "big".to_string())]);
    anti.pod_anti_affinity.required = vec![PodAffinityTerm {
        label_selector: LabelSelector {
            match_labels: anti.labels.clone(),
            ..Default::default()
        },
        topology_key: LABEL_HOSTNAME.to_string(),
        namespaces: vec![],
    }];
    let anti = Arc::new(anti);

    let (_, log) = provision(
        vec![pool("default")],
        vec![],
        &[
            anti.clone(),
            anti,
            pod_spec(1000, GIB),
            pod_spec(900, GIB),
            pod_spec(800, GIB),
        ],
    );

    let pods_per_claim: Vec<bool> = launches(untimed(&log))
        .iter()
        .map(|r| r.reason.contains("for 3 pods"))
        .collect();
    assert_eq!(pods_per_claim, [true, false]);
    assert!(launches(untimed(&log))[1].reason.contains("for 2 pods"));
}

#[test]
fn deleting_node_pods_in_batch() {
    // A node being deleted still runs a 2 CPU pod. The next batch, opened by a new 1 CPU pod,
    // provisions for both: one NodeClaim for 2 pods.
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let mut policy = karpenter(vec![pool("default")]);
    world.send(&mut policy, PolicyEvent::Start);
    let leaving = world.add_ready_node(
        "default",
        &fake_type_name(4, 8),
        Resources::new(4000, 8 * GIB, 10),
    );
    world.add_bound_pod(leaving, &pod_spec(2000, GIB));
    world.cluster.mark_deleting(leaving);
    let pending = unschedulable_pod(&mut world, &pod_spec(1000, GIB));
    world.send(&mut policy, PolicyEvent::PodsUnschedulable(pending));

    let log = world.advance_to(&mut policy, secs(1));

    let launched = launches(untimed(&log));
    assert_eq!(launched.len(), 1);
    assert!(
        launched[0].reason.contains("for 2 pods"),
        "{}",
        launched[0].reason
    );
}

#[test]
fn daemonset_host_port_blocks_pod() {
    // "should account for daemonset hostports": a DaemonSet with hostPort 8080 runs on every
    // node, so a pod that needs hostPort 8080 fits no node and no NodeClaim is opened.
    let mut daemon = crate::testing::daemonset("ds", 2000, 2 * GIB);
    daemon.spec.host_ports = vec![8080];
    let mut spec = (*pod_spec(1000, GIB)).clone();
    spec.host_ports = vec![8080];
    let mut other_port = spec.clone();
    other_port.host_ports = vec![8081];

    let (_, blocked) = provision(
        vec![pool("default")],
        vec![daemon.clone()],
        &[Arc::new(spec)],
    );
    let (world, allowed) = provision(vec![pool("default")], vec![daemon], &[Arc::new(other_port)]);

    assert!(launches(untimed(&blocked)).is_empty());
    assert_eq!(launched_types(&world, &allowed), [fake_type_name(4, 8)]);
}

/// Builds 700 on-demand instance types `t000` to `t699`, cheapest first, each with room for a
/// small pod.
fn wide_catalog() -> Catalog {
    Catalog::new(
        (0..700)
            .map(|i| instance_type(&format!("t{i:03}"), 2, 8192, Price(100_000 + i)))
            .collect(),
    )
}

/// Provisions one small pod on the wide catalog with `min_values` on the instance type, and
/// returns the launches.
pub(super) fn wide_launches(
    min_values: Option<u32>,
    min_values_policy: MinValuesPolicy,
) -> (TestWorld, Vec<crate::api::LaunchRequest>) {
    let mut world = TestWorld::new(wide_catalog(), vec![]);
    let node_pool = NodePool {
        requirements: vec![Requirement {
            key: LABEL_INSTANCE_TYPE.to_string(),
            operator: Operator::Exists,
            values: vec![],
            min_values,
        }],
        ..pool("default")
    };
    let mut policy = Karpenter::new(KarpenterConfig {
        node_pools: vec![node_pool],
        min_values_policy,
        ..Default::default()
    });
    let requests = launch_small_pod(&mut world, &mut policy);
    (world, requests)
}

/// Starts `policy`, makes one 100m / 100 MiB pod pending and returns the launches after a
/// second.
fn launch_small_pod(
    world: &mut TestWorld,
    policy: &mut Karpenter,
) -> Vec<crate::api::LaunchRequest> {
    world.send(policy, PolicyEvent::Start);
    let pending = unschedulable_pod(world, &pod_spec(100, 100 * MIB));
    world.send(policy, PolicyEvent::PodsUnschedulable(pending));
    let log = world.advance_to(policy, secs(1));
    launches(untimed(&log)).into_iter().cloned().collect()
}

#[test]
fn launch_sends_60_cheapest() {
    // 700 types fit; the launch offers EC2 the 60 cheapest, t000 to t059.
    let (world, requests) = wide_launches(None, MinValuesPolicy::Strict);

    assert_eq!(requests.len(), 1);
    let offered = offered_types(&world, &requests[0]);
    assert_eq!(offered.len(), 60);
    assert_eq!(offered.first().map(String::as_str), Some("t000"));
    assert_eq!(offered.last().map(String::as_str), Some("t059"));
}

#[test]
fn cut_moves_unavailable_types_last() {
    // `OrderByPrice` prices a type with no available offering at the maximum, so the cut to 600
    // keeps t600 to t699 ahead of the 600 cheaper types whose on-demand offerings have all
    // failed with insufficient capacity, and the NodeClaim launches t600.
    let mut world = TestWorld::new(wide_catalog(), vec![]);
    let node_pool = NodePool {
        requirements: vec![capacity_types(&["on-demand"])],
        ..pool("default")
    };
    let mut policy = karpenter(vec![node_pool]);
    for index in 0..600 {
        let instance_type = world
            .catalog
            .index_of(&format!("t{index:03}"))
            .expect("wide catalog type");
        for zone in world.zones.clone() {
            policy.mark_unavailable(instance_type, &zone, CapacityType::OnDemand, secs(0));
        }
    }
    let requests = launch_small_pod(&mut world, &mut policy);

    assert_eq!(requests.len(), 1);
    assert_eq!(world.catalog.get(requests[0].instance_type).name, "t600");
    let offered = offered_types(&world, &requests[0]);
    assert_eq!(offered.first().map(String::as_str), Some("t600"));
    assert_eq!(offered.len(), 60);
}

#[test]
fn spot_launch_sends_cheapest_spot() {
    // A spot NodeClaim's 60 types are the cheapest by spot price (`Truncate` orders by the
    // cheapest offering): t650 is the 651st by on-demand price but the cheapest spot type, so
    // it is sent and launched.
    let mut world = TestWorld::new(wide_catalog(), vec![]);
    let spot_pool = NodePool {
        requirements: vec![capacity_types(&["spot"])],
        ..pool("default")
    };
    let mut policy = Karpenter::with_market(
        KarpenterConfig {
            node_pools: vec![spot_pool],
            ..Default::default()
        },
        fixed_spot_prices(&[("t650", 1_000)]),
    );
    let requests = launch_small_pod(&mut world, &mut policy);

    assert_eq!(requests.len(), 1);
    assert_eq!(world.catalog.get(requests[0].instance_type).name, "t650");
    let offered = offered_types(&world, &requests[0]);
    assert_eq!(offered.len(), 60);
    assert!(offered.contains(&"t650".to_string()));
}

#[test]
fn truncation_respects_min_values() {
    // minValues 60 survives both cuts. minValues 61 survives the cut to 600 but not the 60
    // sent at launch, and 601 not even the first cut, so neither launches.
    assert_eq!(wide_launches(Some(60), MinValuesPolicy::Strict).1.len(), 1);
    assert!(
        wide_launches(Some(61), MinValuesPolicy::Strict)
            .1
            .is_empty()
    );
    assert!(
        wide_launches(Some(601), MinValuesPolicy::Strict)
            .1
            .is_empty()
    );
    assert!(
        wide_launches(Some(700), MinValuesPolicy::Strict)
            .1
            .is_empty()
    );
}

#[test]
fn node_class_max_pods_sizes_claims() {
    // An EC2NodeClass with `kubelet.maxPods: 2` gives every node two pod slots, so three small
    // pods need two NodeClaims where the default ENI-limited slots would take them on one.
    let two_slots = NodePool {
        kubelet: autoscale_sim_cloud::KubeletConfig {
            max_pods: Some(2),
            ..Default::default()
        },
        ..pool("default")
    };
    let spec = pod_spec(100, 100 * MIB);

    let (_, limited) = provision(
        vec![two_slots],
        vec![],
        &[spec.clone(), spec.clone(), spec.clone()],
    );
    let (_, plain) = provision(
        vec![pool("default")],
        vec![],
        &[spec.clone(), spec.clone(), spec],
    );

    assert_eq!(launches(untimed(&limited)).len(), 2);
    assert_eq!(launches(untimed(&plain)).len(), 1);
}

#[test]
fn daemon_overhead_on_builtin_catalog() {
    // The report of kubernetes-sigs/karpenter #1185 on real instance types: a 1200m / 600 MiB
    // DaemonSet and three 1 CPU / 3 GiB replicas need 4.2 CPU and 9.6 GiB on one node, so the
    // 4 vCPU types are too small. The NodeClaim launches c6a.2xlarge (8 vCPU, 16 GiB), the
    // cheapest type with room for the pods and the daemon.
    let mut world = TestWorld::new(
        Catalog::builtin(),
        vec![crate::testing::daemonset("ds", 1200, 600 * MIB)],
    );
    let node_pool = NodePool {
        requirements: vec![
            Requirement {
                key: crate::requirements::LABEL_INSTANCE_CATEGORY.to_string(),
                operator: Operator::In,
                values: vec!["c".into(), "m".into(), "r".into()],
                min_values: None,
            },
            Requirement {
                key: crate::requirements::LABEL_INSTANCE_GENERATION.to_string(),
                operator: Operator::Gt,
                values: vec!["4".into()],
                min_values: None,
            },
            Requirement {
                key: autoscale_sim_kube::LABEL_ARCH.to_string(),
                operator: Operator::In,
                values: vec!["amd64".into()],
                min_values: None,
            },
        ],
        ..pool("default")
    };
    let mut policy = karpenter(vec![node_pool]);
    world.send(&mut policy, PolicyEvent::Start);
    let replica = pod_spec(1000, 3 * GIB);
    for _ in 0..3 {
        world.add_pending_pod(&replica);
    }
    let pending = world.schedule();
    world.send(&mut policy, PolicyEvent::PodsUnschedulable(pending));

    let log = world.advance_to(&mut policy, secs(1));

    assert_eq!(launched_types(&world, &log), ["c6a.2xlarge"]);
    let launched = world.catalog.by_name("c6a.2xlarge").unwrap();
    let needed = Resources::new(3 * 1000 + 1200, 3 * 3 * GIB + 600 * MIB, 4);
    assert!(needed.fits_in(&launched.allocatable()));
    let four_vcpu = world.catalog.by_name("c6a.xlarge").unwrap();
    assert!(!needed.fits_in(&four_vcpu.allocatable()));
}

/// Runs one pending pod of `spec` against a catalog of `neuron1` (one Inferentia2 chip,
/// $0.40/h), `gpu1` (one GPU, $0.50/h), `metal1` (bare metal, $0.60/h) and `plain1`
/// ($0.80/h), all 4 vCPUs and 16 GiB, and returns the types the launch request offers EC2.
fn exotic_launch(spec: Arc<PodSpec>, node_pool: NodePool) -> Vec<String> {
    let mut neuron = instance_type("neuron1", 4, 16_384, Price(400_000));
    neuron.neuron_devices = 1;
    neuron.neuron_cores = 2;
    let mut gpu = instance_type("gpu1", 4, 16_384, Price(500_000));
    gpu.gpu_count = 1;
    let mut metal = instance_type("metal1", 4, 16_384, Price(600_000));
    metal.size = "metal".to_string();
    let plain = instance_type("plain1", 4, 16_384, Price(800_000));
    let mut world = TestWorld::new(Catalog::new(vec![neuron, gpu, metal, plain]), vec![]);
    let mut policy = karpenter(vec![node_pool]);
    world.send(&mut policy, PolicyEvent::Start);
    world.add_pending_pod(&spec);
    let pending = world.schedule();
    world.send(&mut policy, PolicyEvent::PodsUnschedulable(pending));

    let log = world.advance_to(&mut policy, secs(1));
    let requests = launches(untimed(&log));
    assert_eq!(requests.len(), 1);
    let launched = world.catalog.get(requests[0].instance_type).name.clone();
    let others = offered_types(&world, requests[0])
        .into_iter()
        .filter(|t| *t != launched);
    std::iter::once(launched.clone()).chain(others).collect()
}

#[test]
fn exotic_types_dropped_at_launch() {
    // The AWS provider launches the cheapest generic type although Neuron, GPU and metal types
    // are cheaper, because a generic type fits.
    let types = exotic_launch(pod_spec(1000, GIB), pool("default"));

    assert_eq!(types, ["plain1"]);
}

#[test]
fn exotic_types_kept_when_needed() {
    // A GPU pod fits only the GPU type, which is then the whole list.
    let gpu_pod = Arc::new(PodSpec {
        requests: Resources::new(1000, GIB, 1)
            .with_extended(autoscale_sim_cloud::ExtendedResource::NvidiaGpu, 1),
        ..Default::default()
    });
    let gpu_types = exotic_launch(gpu_pod, pool("default"));
    let neuron_pod = Arc::new(PodSpec {
        requests: Resources::new(1000, GIB, 1)
            .with_extended(autoscale_sim_cloud::ExtendedResource::AwsNeuronCore, 2),
        ..Default::default()
    });
    let neuron_types = exotic_launch(neuron_pod, pool("default"));

    // A NodePool with minValues skips the filter, so the cheapest type launches.
    let with_min_values = NodePool {
        requirements: vec![Requirement {
            key: LABEL_INSTANCE_TYPE.to_string(),
            operator: Operator::Exists,
            values: vec![],
            min_values: Some(1),
        }],
        ..pool("default")
    };
    let min_values_types = exotic_launch(pod_spec(1000, GIB), with_min_values);

    assert_eq!(gpu_types, ["gpu1"]);
    assert_eq!(neuron_types, ["neuron1"]);
    assert_eq!(min_values_types, ["neuron1", "gpu1", "metal1", "plain1"]);
}
