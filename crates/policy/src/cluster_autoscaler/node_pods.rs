//! Scale-down's cache of what it derives from each node's pods, kept from one loop to the next.
//!
//! Every loop checks the utilization of every candidate and looks at the pods of each
//! underutilized one. Most nodes' pods do not change between two loops. So the cache keeps, per
//! node, the utilization check, whether the node has pods, the pods to move and the facts the
//! drainability rules read from the pods alone. It rebuilds them only when the node's
//! `Node::pod_changes` count has moved.
//!
//! The cache is exact. The pods' part of an entry is a function of the node's bound
//! non-DaemonSet pods, their phases and their specs and owners. The cluster counts every bind,
//! removal, start, preemption mark and termination of those pods in `pod_changes`, and a pod's
//! spec and owner never change. The utilization also reads the node's allocatable resources
//! and DaemonSet requests, which the cluster sets when it adds the node and never changes.
//! Node ids are never reused, so the id and the count name one state of a node's pods, and an
//! entry built at that count stays valid until the count moves. What depends on anything else
//! (the time, the PodDisruptionBudgets' allowances, other nodes, the node's own state and
//! annotations) is not cached but computed in each loop. Debug builds check each cached
//! utilization against a fresh one.

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
    /// Whether `run_specs` and `run_lengths` contain the runs of `movable`. They do when it has
    /// at most [`INLINE_RUNS`] runs.
    runs_inline: bool,
    /// The spec of each run of consecutive pods of one spec in `movable`, in order, and `None`
    /// past the last run. Scale-down reads these in every loop in place of the pods, which lie
    /// behind a pointer of their own and are several times as many.
    run_specs: [Option<Arc<PodSpec>>; INLINE_RUNS],
    /// The number of pods in each run of `run_specs`.
    run_lengths: [u32; INLINE_RUNS],
}

/// Maximum number of runs that [`NodePods`] keeps inline. In the first 36 hours of
/// bench-30d-10k, the nodes that scale-down simulated had 2.4 runs on average.
const INLINE_RUNS: usize = 4;

impl NodePods {
    /// Returns `movable` as runs of consecutive pods of one spec, in order, with the length of
    /// each, or `None` if it has more than [`INLINE_RUNS`] runs.
    pub(super) fn runs(&self) -> Option<impl Iterator<Item = (&Arc<PodSpec>, u32)>> {
        let runs = self.run_specs.iter().map_while(Option::as_ref);
        self.runs_inline
            .then(|| runs.zip(self.run_lengths.iter().copied()))
    }

    /// Sets the inline runs from `movable`, or marks them absent if there are too many.
    fn set_runs(&mut self) {
        self.run_specs = [const { None }; INLINE_RUNS];
        self.run_lengths = [0; INLINE_RUNS];
        self.runs_inline = false;
        let mut count: usize = 0;
        for (_, spec) in &self.movable {
            if let Some(last) = count.checked_sub(1)
                && self.run_specs[last]
                    .as_ref()
                    .is_some_and(|last_spec| Arc::ptr_eq(last_spec, spec))
            {
                self.run_lengths[last] += 1;
                continue;
            }
            if count == INLINE_RUNS {
                self.run_specs = [const { None }; INLINE_RUNS];
                return;
            }
            self.run_specs[count] = Some(Arc::clone(spec));
            self.run_lengths[count] = 1;
            count += 1;
        }
        self.runs_inline = true;
    }
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

/// Cached utilization check of one node, at one `Node::pod_changes` count.
#[derive(Clone, Copy, Debug)]
struct NodeUsage {
    /// `Node::pod_changes` of the node when the entry was built, or [`NO_USAGE`].
    pod_changes: u64,
    /// Whether the utilization left out the requests of expendable pods.
    without_expendable: bool,
    /// Whether the node has a bound pod that is not terminating.
    has_active_pods: bool,
    /// Whether the utilization is above the scale-down threshold.
    above_threshold: bool,
}

/// `NodeUsage::pod_changes` of an entry not built yet. No node reaches this count.
const NO_USAGE: u64 = u64::MAX;

/// The facts of [`NodeUsage`] for one node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Usage {
    /// Whether the node has a bound pod that is not terminating.
    pub(super) has_active_pods: bool,
    /// Whether the utilization is above the scale-down threshold.
    pub(super) above_threshold: bool,
}

/// Cached [`NodePods`] and utilization checks by node id.
#[derive(Debug, Default)]
pub(super) struct NodePodsCache {
    /// The slot in `slots` of each node's entry, indexed by node id like `usage`, or
    /// [`NO_SLOT`]. Four bytes per node id of the run.
    slot_of: Vec<u32>,
    /// Entries of pods, side by side rather than behind a pointer each, which saves a cache
    /// miss per candidate in every loop. A slot freed by a node that is gone is reused, so
    /// the slots grow to the largest number of nodes with entries at once, not to the number
    /// of nodes of the run.
    slots: Vec<NodePods>,
    /// Indexes of the slots that no node uses, to be reused first.
    free: Vec<u32>,
    /// Utilization checks, indexed by node id. A node id is an index because ids are small
    /// counters, which saves a search per candidate in every loop. The vector grows to the
    /// largest id seen and keeps a few bytes per node of the run.
    usage: Vec<NodeUsage>,
}

impl NodePodsCache {
    /// Returns whether `node` has pods and whether its utilization is above the threshold.
    /// With `any_expendable`, the utilization leaves out the requests of pods with a priority
    /// below `expendable_cutoff`. `above_threshold` checks a utilization given the requests
    /// to leave out, and runs only when the node's pods changed since the last call.
    #[inline]
    pub(super) fn usage(
        &mut self,
        cluster: &Cluster,
        node: &Node,
        any_expendable: bool,
        expendable_cutoff: i32,
        above_threshold: impl Fn(Resources) -> bool,
    ) -> Usage {
        let index = node_index(node.id);
        if let Some(cached) = self.usage.get(index)
            && cached.pod_changes == node.pod_changes
            && cached.without_expendable == any_expendable
        {
            let usage = Usage {
                has_active_pods: cached.has_active_pods,
                above_threshold: cached.above_threshold,
            };
            debug_assert_eq!(
                usage,
                Usage {
                    has_active_pods: cluster.has_active_pods(node),
                    above_threshold: above_threshold(expendable_requests(
                        cluster,
                        node,
                        any_expendable,
                        expendable_cutoff
                    )),
                },
                "cached usage of node {} is stale",
                node.name
            );
            return usage;
        }
        if index >= self.usage.len() {
            self.usage.resize(
                index + 1,
                NodeUsage {
                    pod_changes: NO_USAGE,
                    without_expendable: false,
                    has_active_pods: false,
                    above_threshold: false,
                },
            );
        }
        let excluded = if any_expendable {
            self.refresh(cluster, node, expendable_cutoff)
                .expendable_requests
        } else {
            Resources::ZERO
        };
        let usage = Usage {
            has_active_pods: cluster.has_active_pods(node),
            above_threshold: above_threshold(excluded),
        };
        self.usage[index] = NodeUsage {
            pod_changes: node.pod_changes,
            without_expendable: any_expendable,
            has_active_pods: usage.has_active_pods,
            above_threshold: usage.above_threshold,
        };
        usage
    }

    /// Returns the entry of `node`, first rebuilding it if the node's pods changed since it
    /// was built. Pods with a priority below `expendable_cutoff` are expendable.
    pub(super) fn refresh(
        &mut self,
        cluster: &Cluster,
        node: &Node,
        expendable_cutoff: i32,
    ) -> &NodePods {
        let index = node_index(node.id);
        if index >= self.slot_of.len() {
            self.slot_of.resize(index + 1, NO_SLOT);
        }
        if self.slot_of[index] == NO_SLOT {
            // No node reaches the count u64::MAX, so a new entry is always rebuilt. A reused
            // slot keeps the capacity of its `movable` list.
            self.slot_of[index] = match self.free.pop() {
                Some(slot) => {
                    self.slots[slot as usize].pod_changes = u64::MAX;
                    slot
                }
                None => {
                    self.slots.push(NodePods {
                        pod_changes: u64::MAX,
                        movable: Vec::new(),
                        expendable_requests: Resources::ZERO,
                        all_pass_pod_rules: true,
                        runs_inline: false,
                        run_specs: [const { None }; INLINE_RUNS],
                        run_lengths: [0; INLINE_RUNS],
                    });
                    u32::try_from(self.slots.len() - 1).expect("fewer than 2^32 nodes at once")
                }
            };
        }
        let entry = &mut self.slots[self.slot_of[index] as usize];
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
            entry.set_runs();
        }
        entry
    }

    /// Returns the entry of `node` if it is up to date with the node's pods.
    pub(super) fn get(&self, node: &Node) -> Option<&NodePods> {
        let slot = *self.slot_of.get(node_index(node.id))?;
        if slot == NO_SLOT {
            return None;
        }
        Some(&self.slots[slot as usize]).filter(|entry| entry.pod_changes == node.pod_changes)
    }

    /// Drops the entries of a node that is gone.
    pub(super) fn remove(&mut self, id: NodeId) {
        if let Some(slot) = self.slot_of.get_mut(node_index(id)) {
            release(&mut self.slots, &mut self.free, slot);
        }
        if let Some(usage) = usize::try_from(id.0)
            .ok()
            .and_then(|index| self.usage.get_mut(index))
        {
            usage.pod_changes = NO_USAGE;
        }
    }

    /// Keeps the cache of pods no larger than `cluster`. When it contains more entries than the
    /// cluster has nodes, it drops the entries of the nodes that are gone, which catches nodes
    /// removed without a [`remove`](Self::remove).
    pub(super) fn retain_nodes_of(&mut self, cluster: &Cluster) {
        if self.slots.len() - self.free.len() > cluster.node_count() {
            for (index, slot) in self.slot_of.iter_mut().enumerate() {
                if *slot != NO_SLOT && cluster.node(NodeId(index as u64)).is_none() {
                    release(&mut self.slots, &mut self.free, slot);
                }
            }
        }
    }
}

/// Frees the entry in `slots` that `slot` names, if any, onto `free`, and marks `slot` absent.
fn release(slots: &mut [NodePods], free: &mut Vec<u32>, slot: &mut u32) {
    if *slot != NO_SLOT {
        let entry = &mut slots[*slot as usize];
        entry.movable.clear();
        entry.run_specs = [const { None }; INLINE_RUNS];
        entry.runs_inline = false;
        free.push(*slot);
        *slot = NO_SLOT;
    }
}

/// The mark in [`NodePodsCache::slot_of`] of a node without an entry.
const NO_SLOT: u32 = u32::MAX;

/// Index of node `id` in the vectors of [`NodePodsCache`]. Node ids are small counters.
fn node_index(id: NodeId) -> usize {
    usize::try_from(id.0).expect("node ids fit in usize")
}

/// Sums the requests of the expendable pods on `node` that are bound and not terminating, or
/// returns zero without `any_expendable`, as a reference for the debug check of the cache.
fn expendable_requests(
    cluster: &Cluster,
    node: &Node,
    any_expendable: bool,
    expendable_cutoff: i32,
) -> Resources {
    if !any_expendable {
        return Resources::ZERO;
    }
    cluster
        .active_pods_on(node.id)
        .filter(|pod| pod.spec.priority < expendable_cutoff)
        .fold(Resources::ZERO, |sum, pod| sum + pod.spec.requests)
}
