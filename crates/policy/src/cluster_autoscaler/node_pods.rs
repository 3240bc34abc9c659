//! Scale-down's cache of the pods on each node, kept from one loop to the next.
//!
//! Every loop looks at the pods of each underutilized candidate. Most nodes' pods do not change
//! between two loops, so the pods to move and the facts the drainability rules read from the
//! pods alone are kept per node and rebuilt only when the node's `Node::pod_changes` count has
//! moved.
//!
//! The cache is exact. An entry is a function of the node's bound non-DaemonSet pods, their
//! phases and their specs and owners. The cluster counts every bind, removal, start, preemption
//! mark and termination of those pods in `pod_changes`, and a pod's spec and owner never change.
//! Node ids are never reused, so the id and the count name one state of a node's pods, and an
//! entry built at that count stays valid until the count moves. What depends on anything else (the
//! time, the PodDisruptionBudgets' allowances, other nodes, the node's own state and
//! annotations) is not cached but computed in each loop.

use std::collections::BTreeMap;
use std::sync::Arc;

use autoscale_sim_cloud::Resources;
use autoscale_sim_kube::{Cluster, Node, NodeId, Owner, Pod, PodId, PodSpec};

/// The pods of one node as scale-down reads them, at one `Node::pod_changes` count.
#[derive(Debug)]
pub(super) struct NodePods {
    /// `Node::pod_changes` of the node when the entry was built.
    pod_changes: u64,
    /// Pods that a removal would move: bound, not terminating and not expendable, in the order
    /// of `Cluster::active_pods_on`, with their specs.
    pub(super) movable: Vec<(PodId, Arc<PodSpec>)>,
    /// Sum of the requests of the expendable pods that are bound and not terminating.
    pub(super) expendable_requests: Resources,
    /// Whether every movable pod passes the drainability rules that read only the pod, for
    /// any time and any flags (see [`passes_pod_rules`]).
    pub(super) all_pass_pod_rules: bool,
}

/// Checks whether `pod` passes the drainability rules that read only the pod, for any time
/// and any flags. A pod annotated safe-to-evict `"true"` skips them. Any other pod passes when
/// it has a controller, is not in kube-system, is not annotated safe-to-evict `"false"` and
/// uses no local storage.
/// A pod that fails this check may still pass the rules, for example a kube-system pod older
/// than `--blocking-system-pod-distruption-timeout`. Scale-down then applies the full rules.
fn passes_pod_rules(pod: &Pod) -> bool {
    let spec = &pod.spec;
    spec.safe_to_evict == Some(true)
        || (pod.owner != Owner::Bare
            && spec.namespace() != "kube-system"
            && spec.safe_to_evict != Some(false)
            && !spec.local_storage)
}

/// Cached [`NodePods`] by node id.
#[derive(Debug, Default)]
pub(super) struct NodePodsCache {
    entries: BTreeMap<NodeId, NodePods>,
}

impl NodePodsCache {
    /// Returns the entry of `node`, first rebuilding it if the node's pods changed since it
    /// was built. Pods with a priority below `expendable_cutoff` are expendable.
    pub(super) fn refresh(
        &mut self,
        cluster: &Cluster,
        node: &Node,
        expendable_cutoff: i32,
    ) -> &NodePods {
        let entry = self.entries.entry(node.id).or_insert_with(|| NodePods {
            // No node reaches this count, so a new entry is always rebuilt.
            pod_changes: u64::MAX,
            movable: Vec::new(),
            expendable_requests: Resources::ZERO,
            all_pass_pod_rules: true,
        });
        if entry.pod_changes != node.pod_changes {
            entry.pod_changes = node.pod_changes;
            entry.movable.clear();
            entry.expendable_requests = Resources::ZERO;
            entry.all_pass_pod_rules = true;
            for pod in cluster.active_pods_on(node.id) {
                if pod.spec.priority < expendable_cutoff {
                    entry.expendable_requests += pod.spec.requests;
                    continue;
                }
                entry.all_pass_pod_rules &= passes_pod_rules(pod);
                entry.movable.push((pod.id, Arc::clone(&pod.spec)));
            }
        }
        entry
    }

    /// Returns the entry of `node` if it is up to date with the node's pods.
    pub(super) fn get(&self, node: &Node) -> Option<&NodePods> {
        self.entries
            .get(&node.id)
            .filter(|entry| entry.pod_changes == node.pod_changes)
    }

    /// Drops the entry of a node that is gone.
    pub(super) fn remove(&mut self, id: NodeId) {
        self.entries.remove(&id);
    }

    /// Keeps the cache no larger than `cluster`: when it contains more entries than the cluster has
    /// nodes, drops the entries of the nodes that are gone, which catches nodes removed without
    /// a [`remove`](Self::remove).
    pub(super) fn retain_nodes_of(&mut self, cluster: &Cluster) {
        if self.entries.len() > cluster.node_count() {
            self.entries.retain(|id, _| cluster.node(*id).is_some());
        }
    }
}
