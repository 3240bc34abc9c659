//! A simulation that starts from a `PendingCheckpoint` gets the same placement as one that
//! places every pending pod itself.

use autoscale_sim_cloud::Resources;
use autoscale_sim_kube::{NodeId, PodId};

use super::scheduling::{
    Placement, Removal, SimPod, SimulationCache, SortedPods, solve, sorted_sim_nodes,
};
use crate::testing::{TestWorld, fake_catalog, fake_type_name, pod_spec};
use crate::topology::TopologyTracker;

/// Free CPU, in millicores, of the nodes of one test, and the pending pods' CPU.
struct Layout {
    other_free: i64,
    candidate_free: i64,
    launching_free: i64,
    pending_cpu: Vec<i64>,
}

/// The parts of a placement that consolidation reads: the failed pods, the number of
/// NodeClaims and the two flags about uninitialized nodes.
type Outcome = (Vec<PodId>, usize, bool, bool);

fn outcome(placement: &Placement) -> Outcome {
    (
        placement.failed.clone(),
        placement.claims.len(),
        placement.moved_pod_on_uninitialized,
        placement.moved_pod_landed_uninitialized,
    )
}

/// Builds a Ready node, a Ready candidate with two 500m pods, a Launching node and larger
/// pending pods. Then simulates removing the candidate twice, once placing every pod and once
/// from a checkpoint after the pending pods, and returns the two outcomes, fresh first.
fn both_ways(layout: Layout) -> (Outcome, Outcome) {
    let mut world = TestWorld::new(fake_catalog(), vec![]);
    let type_name = fake_type_name(4, 16);
    let node = |cpu: i64| Resources::new(cpu, 16 << 30, 110);
    world.add_ready_node("default", &type_name, node(layout.other_free));
    let candidate = world.add_ready_node("default", &type_name, node(1000 + layout.candidate_free));
    world.add_launching_node("default", &type_name, node(layout.launching_free));
    let moved_ids = [
        world.add_bound_pod(candidate, &pod_spec(500, 0)),
        world.add_bound_pod(candidate, &pod_spec(500, 0)),
    ];
    let pending_ids: Vec<PodId> = layout
        .pending_cpu
        .iter()
        .map(|&cpu| world.add_pending_pod(&pod_spec(cpu, 0)))
        .collect();

    let cluster = &world.cluster;
    let mut nodes = sorted_sim_nodes(cluster);
    let start_free: Vec<Resources> = nodes.iter().map(|n| n.free).collect();
    let pending = SortedPods::new(
        pending_ids
            .iter()
            .map(|id| SimPod::of(cluster.pod(*id).unwrap()))
            .collect(),
    );
    let mut moved: Vec<SimPod<'_>> = moved_ids
        .iter()
        .map(|id| SimPod::of(cluster.pod(*id).unwrap()))
        .collect();
    moved.sort_by(super::scheduling::placement_order);
    let excluded: [NodeId; 1] = [candidate];
    let mut tracker = TopologyTracker::rescheduling(cluster, &world.zones, moved_ids.to_vec());
    let mut cache = SimulationCache::default();

    let record = Removal {
        checkpoint_after: Some(pending.pods().len()),
        no_existing_list: true,
        ..Removal::default()
    };
    let checkpoint = solve(
        &pending,
        &mut nodes,
        record,
        &[],
        &mut [],
        &mut tracker,
        &mut cache,
    )
    .checkpoint
    .expect("plain pending pods give a checkpoint");
    let removal = Removal {
        excluded: &excluded,
        moved: &moved,
        no_existing_list: true,
        ..Removal::default()
    };
    let fresh = solve(
        &pending,
        &mut nodes,
        removal,
        &[],
        &mut [],
        &mut tracker,
        &mut cache,
    );
    let resumed_removal = Removal {
        resume_from: Some(&checkpoint),
        ..removal
    };
    let resumed = solve(
        &pending,
        &mut nodes,
        resumed_removal,
        &[],
        &mut [],
        &mut tracker,
        &mut cache,
    );
    let end_free: Vec<Resources> = nodes.iter().map(|n| n.free).collect();
    assert_eq!(
        end_free, start_free,
        "solve leaves the nodes as it found them"
    );
    (outcome(&fresh), outcome(&resumed))
}

#[test]
fn checkpoint_matches_fresh_solve() {
    let cases = [
        // The pending pods fill the other node, and the moved pods land on the Launching node.
        (
            "pending pods on another node",
            Layout {
                other_free: 2000,
                candidate_free: 0,
                launching_free: 1000,
                pending_cpu: vec![1000, 1000],
            },
        ),
        // Without the candidate removed, the second pending pod lands on it, so the
        // simulation must not start from the checkpoint.
        (
            "pending pod lands on the candidate",
            Layout {
                other_free: 1000,
                candidate_free: 1000,
                launching_free: 1000,
                pending_cpu: vec![1000, 1000],
            },
        ),
        // A pending pod finds no place and goes to the back of the queue, behind the moved pods.
        (
            "pending pod finds no place",
            Layout {
                other_free: 1000,
                candidate_free: 0,
                launching_free: 1000,
                pending_cpu: vec![3000, 1000],
            },
        ),
    ];

    for (name, layout) in cases {
        let (fresh, resumed) = both_ways(layout);
        assert_eq!(resumed, fresh, "{name}");
    }
}
