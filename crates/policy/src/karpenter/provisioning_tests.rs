//! Provisioning cases from kubernetes-sigs/karpenter v1.13 (`pkg/controllers/provisioning/`
//! suites): minValues, preference relaxation, pessimistic NodePool limits, the order in which
//! the scheduling simulation tries nodes, nomination and instance-type truncation.

use autoscale_sim_cloud::{Catalog, MIB, Price};
use autoscale_sim_kube::LABEL_INSTANCE_TYPE;

use super::NodePool;
use super::tests::{karpenter, pool};
use crate::api::PolicyEvent;
use crate::requirements::{Operator, Requirement};
use crate::testing::{TestWorld, instance_type, launches, pod_spec, secs, untimed};

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
