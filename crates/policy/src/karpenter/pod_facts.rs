//! Per-node facts about pods that the disruption methods use, and the cache that keeps them
//! across disruption passes.

use std::collections::BTreeMap;
use std::sync::Arc;

use autoscale_sim_engine::{SimDuration, SimTime};
use autoscale_sim_kube::{Cluster, Node, NodeId, Owner, PodId, PodPhase, PodSpec};

use super::scheduling::{SimPod, placement_order};
use crate::api::ClusterView;

/// Returns a pod's eviction cost: 1 + pod-deletion-cost / 2^27 + priority / 2^25, clamped to
/// [-10, 10], added up in that order (kubernetes-sigs/karpenter v1.13 and v1.14.1
/// `EvictionCost`, `pkg/utils/disruption/disruption.go`).
pub(super) fn pod_eviction_cost(spec: &PodSpec) -> f64 {
    let mut cost = 1.0;
    // Adding a zero term leaves the sum unchanged, so a pod without the annotation skips it.
    if spec.deletion_cost != 0 {
        cost += f64::from(spec.deletion_cost) / 2f64.powi(27);
    }
    cost += f64::from(spec.priority) / 2f64.powi(25);
    cost.clamp(-10.0, 10.0)
}

/// The pods of every node, summed up and kept from one disruption pass to the next.
///
/// A node's entry is rebuilt only when the node's `pod_changes` differs from the count the
/// entry was built at. The entry depends only on the node's pods: which pods are bound and
/// when, their phase (terminating or not), owner, spec and creation time. `Cluster` changes those only
/// through binds, removals, starts, preemption marks and terminations, and each of them adds
/// to the node's `pod_changes`. Node ids are never reused, so an unchanged id and count mean
/// unchanged pods, and the cached entry equals a fresh one. Facts that depend on the rest of
/// the cluster (PodDisruptionBudget allowances) are computed per pass in [`PodFacts::gather`].
///
/// NOTE: an entry is valid only while every refresh reads the same cluster's history, as one
/// policy instance does. Another cluster could hold a node of the same id and count with
/// other pods.
#[derive(Debug, Default)]
pub(super) struct PodCache {
    /// One entry per node, sorted by node id. After [`PodCache::refresh`] it lists exactly the
    /// cluster's nodes.
    nodes: Vec<CachedNode>,
}

/// The pod facts of one node, as of its `pod_changes`.
#[derive(Debug)]
struct CachedNode {
    id: NodeId,
    pod_changes: u64,
    /// Some pod on the node is reschedulable.
    active: bool,
    /// The latest end of a reschedulable pod's `karpenter.sh/do-not-disrupt` protection
    /// ([`autoscale_sim_kube::Pod::do_not_disrupt_until`]), if any pod carries the annotation.
    protected_until: Option<SimTime>,
    /// No reschedulable pod requests a host port or has inter-pod constraints.
    plain_pods: bool,
    /// Sum of the eviction costs of all pods bound to the node, terminating ones included.
    eviction_cost: f64,
    /// 1 plus the positive eviction costs of the node's reschedulable pods (v1.14
    /// `RescheduleDisruptionCost`).
    reschedule_cost: f64,
    /// The reschedulable pods, sorted by [`placement_order`].
    pods: Vec<CachedPod>,
    /// Ids of the reschedulable pods, in id order.
    pod_ids: Vec<PodId>,
}

/// A reschedulable pod, with what a consolidation simulation reads of it.
#[derive(Debug)]
pub(super) struct CachedPod {
    id: PodId,
    spec: Arc<PodSpec>,
    created: SimTime,
}

impl CachedPod {
    /// Returns the simulation's view of the pod, borrowing its spec.
    pub(super) fn sim_pod(&self) -> SimPod<'_> {
        SimPod {
            id: self.id,
            spec: &self.spec,
            created: self.created,
        }
    }
}

impl CachedNode {
    /// Sums up the pods bound to `node`, in id order.
    fn of(node: &Node, cluster: &Cluster) -> CachedNode {
        // The value `Iterator::sum` starts from, so that the sum equals summing the node's pods.
        let zero: f64 = std::iter::empty::<f64>().sum();
        let mut entry = CachedNode {
            id: node.id,
            pod_changes: node.pod_changes,
            active: false,
            protected_until: None,
            plain_pods: true,
            eviction_cost: zero,
            reschedule_cost: 1.0,
            pods: Vec::with_capacity(node.pods.len()),
            pod_ids: Vec::with_capacity(node.pods.len()),
        };
        // Costs are added in id order, the order of the node's pod set.
        for pod in node.pods.iter().filter_map(|id| cluster.pod(*id)) {
            let cost = pod_eviction_cost(&pod.spec);
            entry.eviction_cost += cost;
            // Karpenter's `IsReschedulable`: a terminating pod no longer counts, except a
            // StatefulSet's, whose replacement needs the same name once it is gone.
            if pod.phase != PodPhase::Terminating || matches!(pod.owner, Owner::StatefulSet { .. })
            {
                entry.active = true;
                entry.reschedule_cost += cost.max(0.0);
                entry.protected_until = entry.protected_until.max(pod.do_not_disrupt_until());
                entry.plain_pods &=
                    pod.spec.host_ports.is_empty() && !pod.spec.has_inter_pod_constraints();
                entry.pod_ids.push(pod.id);
                entry.pods.push(CachedPod {
                    id: pod.id,
                    spec: Arc::clone(&pod.spec),
                    created: pod.created,
                });
            }
        }
        entry
            .pods
            .sort_by(|a, b| placement_order(&a.sim_pod(), &b.sim_pod()));
        entry
    }
}

impl PodCache {
    /// Brings the cache up to date with `cluster`: drops the entries of removed nodes, and
    /// rebuilds those of new nodes and of nodes whose pods changed.
    pub(super) fn refresh(&mut self, cluster: &Cluster) {
        let mut old = std::mem::take(&mut self.nodes).into_iter().peekable();
        self.nodes.reserve(cluster.node_count());
        for node in cluster.nodes() {
            // Both lists are sorted by id, so entries with a lower id belong to removed nodes.
            while old.next_if(|entry| entry.id < node.id).is_some() {}
            let entry = match old.next_if(|entry| entry.id == node.id) {
                Some(entry) if entry.pod_changes == node.pod_changes => entry,
                _ => CachedNode::of(node, cluster),
            };
            self.nodes.push(entry);
        }
    }
}

/// Per-node facts about pods that the disruption methods use, for one pass. The cluster's pods
/// are read only for the nodes whose pods changed since the last pass ([`PodCache`]).
pub(super) struct PodFacts<'c> {
    /// The cache's entries, one per node, sorted by node id (the order of `Cluster::nodes`).
    nodes: &'c [CachedNode],
    /// Per node, in the same order: no reschedulable pod carries `karpenter.sh/do-not-disrupt`
    /// or is protected by a PodDisruptionBudget that rejects its eviction
    /// (`ValidatePodsDisruptable`).
    disruptable: Vec<bool>,
}

impl<'c> PodFacts<'c> {
    /// Gathers the facts of the cluster's nodes from `cache`, which [`PodCache::refresh`] must
    /// have brought up to date with the view's cluster. The budget allowances depend on pods of
    /// every node, so they are counted again on each call.
    pub(super) fn gather(view: &ClusterView<'_>, cache: &'c PodCache) -> PodFacts<'c> {
        let nodes: &'c [CachedNode] = &cache.nodes;
        debug_assert!(
            nodes
                .iter()
                .map(|e| e.id)
                .eq(view.cluster.nodes().map(|n| n.id))
        );
        let allowed = view.cluster.disruptions_allowed();
        // Pods of one spec share its covering budgets, so each spec is matched against the
        // budgets once per pass.
        let mut allowed_by_spec: BTreeMap<*const PodSpec, bool> = BTreeMap::new();
        let mut eviction_allowed = |spec: &Arc<PodSpec>| {
            *allowed_by_spec.entry(Arc::as_ptr(spec)).or_insert_with(|| {
                let covering = view.cluster.pdbs_covering(spec);
                match covering.as_slice() {
                    [] => true,
                    [index] => allowed[*index] >= 1,
                    _ => false,
                }
            })
        };
        // Without PodDisruptionBudgets no budget covers a pod, so only do-not-disrupt counts.
        let disruptable = nodes
            .iter()
            .map(|entry| {
                entry.protected_until.is_none_or(|until| view.now >= until)
                    && (allowed.is_empty()
                        || entry.pods.iter().all(|pod| eviction_allowed(&pod.spec)))
            })
            .collect();
        PodFacts { nodes, disruptable }
    }

    fn index(&self, node: &Node) -> usize {
        self.nodes
            .binary_search_by_key(&node.id, |entry| entry.id)
            .expect("facts gathered for every node")
    }

    fn entry(&self, node: &Node) -> &'c CachedNode {
        &self.nodes[self.index(node)]
    }

    /// Checks whether no reschedulable pod on the node is protected now by
    /// `karpenter.sh/do-not-disrupt` or by a PodDisruptionBudget that rejects its eviction.
    pub(super) fn is_disruptable(&self, node: &Node) -> bool {
        self.disruptable[self.index(node)]
    }

    /// Returns, per node in the order of `Cluster::nodes`, whether its pods allow its
    /// disruption ([`PodFacts::is_disruptable`]).
    pub(super) fn disruptable_flags(&self) -> &[bool] {
        &self.disruptable
    }

    /// Returns the node's reschedulable pods (Karpenter's `IsReschedulable`: not terminating,
    /// or a StatefulSet's), sorted by [`placement_order`].
    pub(super) fn reschedulable_pods(&self, node: &Node) -> &'c [CachedPod] {
        &self.entry(node).pods
    }

    /// Returns the ids of the node's reschedulable pods, in id order.
    pub(super) fn reschedulable_pod_ids(&self, node: &Node) -> &'c [PodId] {
        &self.entry(node).pod_ids
    }

    /// Checks that none of the node's reschedulable pods requests a host port or has inter-pod
    /// constraints.
    pub(super) fn has_plain_pods(&self, node: &Node) -> bool {
        self.entry(node).plain_pods
    }

    /// Checks whether a node has no reschedulable pods: terminating pods do not count (DaemonSet
    /// pods are node overhead here and never count).
    pub(super) fn is_empty(&self, node: &Node) -> bool {
        !self.entry(node).active
    }

    /// v1.14 `RescheduleDisruptionCost` of a node.
    pub(super) fn reschedule_cost(&self, node: &Node) -> f64 {
        self.entry(node).reschedule_cost
    }

    /// Disruption cost of a node: the pods' eviction costs times the share of the node's
    /// lifetime left before `expire_after`, the whole of it for `Never`
    /// (`pkg/utils/disruption/disruption.go`). Lower costs are disrupted first.
    pub(super) fn disruption_cost(
        &self,
        node: &Node,
        view: &ClusterView<'_>,
        expire_after: Option<SimDuration>,
    ) -> f64 {
        let lifetime_remaining = match expire_after {
            Some(expire_after) if expire_after > SimDuration::ZERO => {
                let age = view.now.since(node.launched_at).as_millis() as f64;
                let total = expire_after.as_millis() as f64;
                ((total - age) / total).clamp(0.0, 1.0)
            }
            Some(_) => 0.0,
            None => 1.0,
        };
        self.entry(node).eviction_cost * lifetime_remaining
    }
}

#[cfg(test)]
mod tests {
    use autoscale_sim_kube::PodSpec;

    use super::pod_eviction_cost;

    fn cost(deletion_cost: i32, priority: i32) -> f64 {
        pod_eviction_cost(&PodSpec {
            deletion_cost,
            priority,
            ..Default::default()
        })
    }

    #[test]
    fn eviction_cost_terms() {
        // "Pod Eviction Cost" in kubernetes-sigs/karpenter v1.14.1
        // pkg/controllers/disruption/suite_test.go, with exact values.
        assert_eq!(cost(0, 0), 1.0);
        assert_eq!(cost(1 << 27, 0), 2.0);
        assert_eq!(cost(-(1 << 27), 0), 0.0);
        assert!(cost(100, 0) > 1.0);
        assert!(cost(-100, 0) < 1.0);
        assert!(cost(101, 0) > cost(100, 0));
        assert!(cost(100, 0) > cost(99, 0));
        assert_eq!(cost(0, 1 << 25), 2.0);
        assert!(cost(0, -1) < 1.0);
        assert_eq!(cost(i32::MAX, 1_000_000_000), 10.0);
        assert_eq!(cost(i32::MIN, i32::MIN), -10.0);
    }
}
