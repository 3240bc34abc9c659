//! A shortcut to consolidation's "would schedule against uninitialized nodeclaim" verdict.
//!
//! Most consolidation simulations that end with that verdict end at the first pod moved off
//! the candidates, after placing every pending pod that comes before it in placement order.
//! Those pending pods land on the same nodes in every simulation of a pass, unless one of them
//! lands on a candidate. So the pass places the pending pods once, without removing any
//! candidate, and records how long each node keeps room for a pod of a given spec. A
//! simulation whose first moved pod would then land on an uninitialized node gets the verdict
//! without being run.

use std::collections::BTreeMap;
use std::sync::Arc;

use autoscale_sim_cloud::Resources;
use autoscale_sim_kube::{NodeId, PodSpec};

use super::scheduling::{SimNode, SimPod, SimulationCache, SortedPods, placement_order};
use super::{ResolvedPool, scheduling};
use crate::topology::TopologyTracker;

/// The pending pods of a consolidation pass placed on the pass's destination nodes with no
/// candidate removed, from which the landing of a simulation's first moved pod follows.
///
/// It holds only for a pass whose pending pods each take the path of a plain pod in
/// [`scheduling::solve`]: no host port, no inter-pod constraint, no preference to relax, and no
/// bound pod in the cluster with required anti-affinity. Such a pod is tried once, with its own
/// spec, and lands on the first node of its spec's list in [`SimulationCache`] that has room
/// and is not excluded. When no node takes it, it goes to a NodeClaim or fails, and neither
/// changes a node.
#[derive(Debug)]
pub(crate) struct PendingPrefix {
    /// Whether every pending pod is plain, as above. Without it every check returns `false`.
    plain: bool,
    /// Nodes that take no pods in any simulation of the pass.
    excluded: Vec<NodeId>,
    /// Per pending pod, in placement order, the index in the destination list of the node it
    /// lands on, or `None` when no node takes it.
    landings: Vec<Option<usize>>,
    /// Per node that a pending pod lands on, the position of the first such pod.
    first_landing: BTreeMap<NodeId, usize>,
    /// The room deadlines of the specs asked about so far.
    deadlines: Vec<RoomDeadlines>,
}

/// How long each node keeps room for a pod of one spec while the pending pods are placed.
///
/// A node's deadline is the number of pending pods after whose placement it no longer has
/// room, or `usize::MAX` when it keeps room throughout. Only the nodes of the spec's list
/// count: the others have no room from the start.
#[derive(Debug)]
struct RoomDeadlines {
    spec: *const PodSpec,
    /// Initialized nodes with their deadlines, latest deadline first.
    initialized: Vec<(usize, NodeId)>,
    /// Uninitialized nodes with their deadlines, latest deadline first.
    uninitialized: Vec<(usize, NodeId)>,
}

impl PendingPrefix {
    /// Places `pending` on `nodes` as [`scheduling::solve`] would with only `excluded` taken
    /// out, and records where each pod lands. `tracker` is the pass's, which marks the specs
    /// with topology constraints.
    pub(super) fn new(
        pending: &SortedPods<'_>,
        nodes: &[SimNode<'_>],
        cache: &mut SimulationCache,
        excluded: &[NodeId],
        pools: &[ResolvedPool],
        tracker: &TopologyTracker<'_>,
    ) -> Self {
        let preferences = scheduling::pool_preferences(pools);
        let plain = pending.pods().iter().all(|pod| {
            pod.spec.host_ports.is_empty()
                && !tracker.constrained(pod.spec)
                && !preferences.applies_to(pod.spec)
        });
        let mut prefix = PendingPrefix {
            plain,
            excluded: excluded.to_vec(),
            landings: Vec::new(),
            first_landing: BTreeMap::new(),
            deadlines: Vec::new(),
        };
        if !plain {
            return prefix;
        }

        // First fit on each spec's list. The nodes that could not take a pod of a spec cannot
        // take a later one either, since free capacity only shrinks, so each spec's search
        // resumes where its previous pod landed, as in `solve`.
        let mut free: Vec<Resources> = nodes.iter().map(|n| n.free).collect();
        let mut resume: Vec<(*const PodSpec, usize)> = Vec::new();
        prefix.landings.reserve(pending.pods().len());
        for (position, pod) in pending.pods().iter().enumerate() {
            let key = Arc::as_ptr(pod.spec);
            let slot = match resume.iter().position(|(spec, _)| *spec == key) {
                Some(slot) => slot,
                None => {
                    resume.push((key, 0));
                    resume.len() - 1
                }
            };
            let list = cache.node_list(pod.spec, nodes);
            let found = (resume[slot].1..list.len()).find(|&at| {
                let index = list[at];
                pod.spec.requests.fits_in(&free[index]) && !excluded.contains(&nodes[index].node.id)
            });
            resume[slot].1 = found.unwrap_or(list.len());
            let landing = found.map(|at| list[at]);
            if let Some(index) = landing {
                free[index] -= pod.spec.requests;
                prefix
                    .first_landing
                    .entry(nodes[index].node.id)
                    .or_insert(position);
            }
            prefix.landings.push(landing);
        }
        prefix
    }

    /// Checks whether a simulation of the pass that removes `candidates` and moves their pods
    /// stops at `first_moved`, the first of them in placement order, because it lands on an
    /// uninitialized node. The caller must have checked that the simulation stops at the first
    /// moved pod to land on an uninitialized node ([`SimulationCache::stops_at_moved_pod`]),
    /// that it runs on `nodes`, and that `first_moved` has no host port.
    ///
    /// `false` means only that this shortcut cannot tell, and the simulation must run.
    ///
    /// This is exact. Before `first_moved`, the simulation places exactly the pending pods
    /// ahead of it in placement order, because a pod that finds no place goes to the back of
    /// the queue. While none of those pods lands on a candidate here, each lands on the same
    /// node in the simulation. The nodes before it in its spec's list had no room or were
    /// excluded here, so they are excluded or without room there too. So the nodes have the same
    /// free capacity when `first_moved` comes, and it lands on the first node of its spec's
    /// list that still has room and is neither a candidate nor excluded. Initialized nodes
    /// come before uninitialized ones in that list, so it lands on an uninitialized node
    /// exactly when no initialized node qualifies and some uninitialized node does.
    pub(super) fn moved_pod_lands_uninitialized(
        &mut self,
        first_moved: &SimPod<'_>,
        candidates: &[NodeId],
        pending: &SortedPods<'_>,
        nodes: &[SimNode<'_>],
        cache: &mut SimulationCache,
    ) -> bool {
        if !self.plain || !first_moved.spec.host_ports.is_empty() {
            return false;
        }
        // Pod ids are unique, so no pending pod ties with `first_moved`.
        let ahead = pending
            .pods()
            .partition_point(|pod| placement_order(pod, first_moved).is_lt());
        let diverges = candidates.iter().any(|candidate| {
            self.first_landing
                .get(candidate)
                .is_some_and(|&position| position < ahead)
        });
        if diverges {
            return false;
        }
        let deadlines = self.deadlines(first_moved.spec, pending, nodes, cache);
        // The latest deadline among the nodes that are not candidates; 0 when there are none.
        let latest = |nodes: &[(usize, NodeId)]| {
            nodes
                .iter()
                .find(|(_, id)| !candidates.contains(id))
                .map_or(0, |&(deadline, _)| deadline)
        };
        latest(&deadlines.initialized) <= ahead && latest(&deadlines.uninitialized) > ahead
    }

    /// Returns the room deadlines of `spec`, computed from the recorded landings the first
    /// time.
    fn deadlines(
        &mut self,
        spec: &Arc<PodSpec>,
        pending: &SortedPods<'_>,
        nodes: &[SimNode<'_>],
        cache: &mut SimulationCache,
    ) -> &RoomDeadlines {
        let key = Arc::as_ptr(spec);
        if let Some(found) = self.deadlines.iter().position(|d| d.spec == key) {
            return &self.deadlines[found];
        }

        // Replay the landings and note when each node loses its room for `spec`.
        let mut free: Vec<Resources> = nodes.iter().map(|n| n.free).collect();
        let mut deadline = vec![usize::MAX; nodes.len()];
        for (position, landing) in self.landings.iter().enumerate() {
            let Some(index) = *landing else {
                continue;
            };
            free[index] -= pending.pods()[position].spec.requests;
            if deadline[index] == usize::MAX && !spec.requests.fits_in(&free[index]) {
                deadline[index] = position + 1;
            }
        }

        // Split the nodes of the spec's list by initialized state.
        let mut initialized = Vec::new();
        let mut uninitialized = Vec::new();
        for &index in cache.node_list(spec, nodes) {
            let node = &nodes[index];
            if self.excluded.contains(&node.node.id) {
                continue;
            }
            let entry = (deadline[index], node.node.id);
            if node.initialized {
                initialized.push(entry);
            } else {
                uninitialized.push(entry);
            }
        }
        // Latest deadline first; ties by node id, although only the deadlines are read.
        initialized.sort_unstable_by(|a, b| b.cmp(a));
        uninitialized.sort_unstable_by(|a, b| b.cmp(a));
        self.deadlines.push(RoomDeadlines {
            spec: key,
            initialized,
            uninitialized,
        });
        self.deadlines.last().expect("pushed above")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{TestWorld, fake_catalog, fake_type_name, pod_spec};
    use autoscale_sim_kube::PodId;

    /// Free CPU, in millicores, of the nodes of one test.
    struct Layout {
        candidate_free: i64,
        launching_free: i64,
        /// CPU of a pending pod that comes before the moved pod; `None` for no pending pod.
        pending_cpu: Option<i64>,
    }

    /// Builds a Ready candidate with one 500m pod, a Launching node and maybe a larger pending
    /// pod, and checks whether the candidate's pod lands on the Launching node.
    fn lands_uninitialized(layout: Layout) -> bool {
        let mut world = TestWorld::new(fake_catalog(), vec![]);
        let type_name = fake_type_name(4, 16);
        let node = |cpu: i64| Resources::new(cpu, 16 << 30, 110);
        let candidate =
            world.add_ready_node("default", &type_name, node(500 + layout.candidate_free));
        world.add_launching_node("default", &type_name, node(layout.launching_free));
        let moved_id = world.add_bound_pod(candidate, &pod_spec(500, 0));
        let pending_ids: Vec<PodId> = layout
            .pending_cpu
            .map(|cpu| world.add_pending_pod(&pod_spec(cpu, 0)))
            .into_iter()
            .collect();

        let cluster = &world.cluster;
        let nodes = scheduling::sorted_sim_nodes(cluster);
        let pending = SortedPods::new(
            pending_ids
                .iter()
                .map(|id| SimPod::of(cluster.pod(*id).unwrap()))
                .collect(),
        );
        let moved = SimPod::of(cluster.pod(moved_id).unwrap());
        let tracker = TopologyTracker::new(cluster, &world.zones);
        let mut cache = SimulationCache::default();
        let mut prefix = PendingPrefix::new(&pending, &nodes, &mut cache, &[], &[], &tracker);
        prefix.moved_pod_lands_uninitialized(&moved, &[candidate], &pending, &nodes, &mut cache)
    }

    #[test]
    fn shortcut_cases() {
        let cases = [
            // Nothing comes before the moved pod, and only the Launching node has room.
            (
                "lands on the Launching node",
                Layout {
                    candidate_free: 0,
                    launching_free: 1000,
                    pending_cpu: None,
                },
                true,
            ),
            // The 1000m pending pod comes first and takes all of the Launching node's room.
            (
                "pending pod fills the Launching node",
                Layout {
                    candidate_free: 0,
                    launching_free: 1000,
                    pending_cpu: Some(1000),
                },
                false,
            ),
            // Without the candidate removed, the pending pod lands on it. The simulation that
            // removes the candidate puts the pending pod on the Launching node instead, which
            // leaves no room there for the moved pod, so the shortcut must not report a landing.
            (
                "pending pod lands on the candidate",
                Layout {
                    candidate_free: 1000,
                    launching_free: 1000,
                    pending_cpu: Some(1000),
                },
                false,
            ),
        ];

        for (name, layout, expected) in cases {
            assert_eq!(lands_uninitialized(layout), expected, "{name}");
        }
    }
}
