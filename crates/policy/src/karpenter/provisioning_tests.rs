//! Provisioning cases from kubernetes-sigs/karpenter v1.13 (`pkg/controllers/provisioning/`
//! suites): minValues, preference relaxation, pessimistic NodePool limits, the order in which
//! the scheduling simulation tries nodes, nomination and instance-type truncation.

use std::collections::BTreeMap;
use std::sync::Arc;

use autoscale_sim_cloud::{Catalog, GIB, MIB, Price, Resources};
use autoscale_sim_kube::{
    LABEL_HOSTNAME, LABEL_INSTANCE_TYPE, LabelSelector, PodAffinityTerm, PodSpec,
};

use super::NodePool;
use super::tests::{karpenter, launched_types, pool, provision};
use crate::api::PolicyEvent;
use crate::requirements::{Operator, Requirement};
use crate::testing::{
    TestWorld, fake_catalog, fake_type_name, instance_type, launches, pod_spec, secs, untimed,
};

/// Builds the two instance types of the minValues case: `it1` holds one of its pods, `it2`
/// both. Eight pod slots keep the EKS kube-reserved memory small (343 MiB).
fn min_values_catalog() -> Catalog {
    let mut it1 = instance_type("it1", 1, 2048, Price(520_000));
    it1.max_pods_eni = Some(8);
    let mut it2 = instance_type("it2", 4, 8192, Price(1_000_000));
    it2.max_pods_eni = Some(8);
    Catalog::new(vec![it1, it2])
}

/// Builds a NodePool restricted to `it1` and `it2`, with `min_values` on the instance-type key.
fn min_values_pool(min_values: Option<u32>) -> NodePool {
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

/// Runs the minValues case: two pods of 900m / 900 MiB against `node_pool`.
fn min_values_launches(node_pool: NodePool) -> (TestWorld, Vec<crate::api::LaunchRequest>) {
    let mut world = TestWorld::new(min_values_catalog(), vec![]);
    let mut policy = karpenter(vec![node_pool]);
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
fn offered_types(world: &TestWorld, request: &crate::api::LaunchRequest) -> Vec<String> {
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
    let (world, requests) = min_values_launches(min_values_pool(Some(2)));

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
    let (world, requests) = min_values_launches(min_values_pool(None));

    assert_eq!(requests.len(), 1);
    assert_eq!(offered_types(&world, &requests[0]), ["it2"]);
}

#[test]
fn min_values_unmet_by_pool() {
    // A NodePool whose types cannot give 3 distinct instance types launches nothing.
    let (_, requests) = min_values_launches(min_values_pool(Some(3)));

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
    let (_, requests) = min_values_launches(node_pool);

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
    // One node left under `nodes: 2`: the limit only rules a NodePool out once used up, and an
    // instance type has no `nodes` capacity to take off, so one batch opens three NodeClaims
    // (Karpenter v1.13 behaves the same; its launch-time check compares usage before the batch).
    assert_eq!(launches_under_node_limit(1), 3);
}
