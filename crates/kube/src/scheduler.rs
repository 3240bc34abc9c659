//! A kube-scheduler stand-in: filter, score, bind, or mark Unschedulable.
//!
//! Filters and scores are the default profile's plugins (see [`crate::plugins`]). Nodes are
//! searched from a rotating start index, and in clusters of 100 nodes or more the search stops
//! once `percentageOfNodesToScore` of them (adaptive by default: 50 % minus 1 % per 125 nodes, at
//! least 5 % and at least 100 nodes) were found feasible, as kube-scheduler does.
//!
//! A pod that passes no node's filters may preempt lower-priority pods (see
//! [`crate::preemption`]). A pod nominated to a node is tried there first. The requests of
//! nominated pods are reserved on their node against pods of equal or lower priority.
//!
//! NOTE: kube-scheduler picks at random among equally scored nodes; this stand-in picks the
//! first of them in search order, so that the choice is reproducible without a random stream.
//! NOTE: kube-scheduler also adds nominated pods to a node for the inter-pod filters; this
//! stand-in reserves only their requests.
//! NOTE: kube-scheduler retries an Unschedulable pod after a cluster event that may help it, with
//! a backoff of 1 s doubling up to 10 s, and flushes the rest after 5 minutes
//! (`pkg/scheduler/internal/queue`). This stand-in retries every Pending pod at every pass, and
//! the world runs a pass after each change.

use std::collections::BTreeSet;
use std::sync::Arc;

use autoscale_sim_cloud::Resources;
use autoscale_sim_engine::SimTime;
use serde::{Deserialize, Serialize};

use crate::cluster::{Cluster, QueueCursor};
use crate::objects::{Node, NodeId, Owner, PodId, PodSpec, tolerates_all};
use crate::plugins::{
    InterPodState, RawScores, best_scored, filter_node, node_affinity_matches, raw_scores,
};
use crate::preemption::{PostFilterOutcome, Preemption, preempt};
use crate::verdicts::VerdictCache;

/// Scoring strategy of the NodeResourcesFit plugin.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ScoringStrategy {
    /// Prefer the node with the most free CPU and memory after placement (kube-scheduler default).
    #[default]
    LeastAllocated,
    /// Prefer the fullest node that still fits.
    MostAllocated,
}

/// Checks whether a pod with `spec` passes the node-local filters on `node` with `free` as the
/// node's free capacity: schedulable, taints, node affinity and resources. Host ports and
/// inter-pod constraints need the whole cluster; see [`Scheduler::pick_node`].
pub fn fits_on(spec: &PodSpec, node: &Node, free: &Resources) -> bool {
    node.is_schedulable() && passes_static_filters(spec, node) && spec.requests.fits_in(free)
}

/// Checks the filters that do not depend on the node's load: taints, node selector and
/// required node affinity.
pub fn passes_static_filters(spec: &PodSpec, node: &Node) -> bool {
    tolerates_all(&spec.tolerations, &node.taints) && node_affinity_matches(spec, &node.labels)
}

/// NodeResourcesFit score in 0..=100 for CPU and memory with equal weights, as kube-scheduler
/// computes it: per resource `(allocatable − requested) × 100 / allocatable` for
/// LeastAllocated, or `requested × 100 / allocatable` for MostAllocated, then averaged.
pub fn score(
    strategy: ScoringStrategy,
    allocatable: &Resources,
    requested_after: &Resources,
) -> i64 {
    let per_resource = |requested: i64, allocatable: i64| -> i64 {
        if allocatable <= 0 {
            return 0;
        }
        match strategy {
            ScoringStrategy::LeastAllocated => (allocatable - requested).max(0) * 100 / allocatable,
            ScoringStrategy::MostAllocated => requested.min(allocatable) * 100 / allocatable,
        }
    };
    (per_resource(requested_after.cpu_millis, allocatable.cpu_millis)
        + per_resource(requested_after.memory_bytes, allocatable.memory_bytes))
        / 2
}

/// Outcome of one scheduling pass.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SchedulePass {
    /// Pods bound, with their nodes, in binding order.
    pub bound: Vec<(PodId, NodeId)>,
    /// Pods marked Unschedulable for the first time in their pending spell.
    pub newly_unschedulable: Vec<PodId>,
    /// Pods that stayed Pending.
    pub still_pending: usize,
    /// Preemptions carried out, in queue order.
    pub preemptions: Vec<Preemption>,
}

/// Number of feasible nodes kube-scheduler looks for before it stops searching
/// (`numFeasibleNodesToFind`): all nodes below 100; otherwise `percentage` of them, or with 0 the
/// adaptive 50 % − nodes/125 (at least 5 %), and never fewer than 100.
pub fn feasible_nodes_to_find(nodes: usize, percentage: u32) -> usize {
    const MIN_FEASIBLE_NODES: usize = 100;
    if nodes < MIN_FEASIBLE_NODES || percentage >= 100 {
        return nodes;
    }
    let percentage = if percentage == 0 {
        (50usize.saturating_sub(nodes / 125)).max(5)
    } else {
        percentage as usize
    };
    (nodes * percentage / 100).max(MIN_FEASIBLE_NODES)
}

/// Lists that the node search and scoring fill for one pod. A scheduling pass keeps them from
/// one pod to the next, so that each pod reuses their memory and a run of pods of one spec can
/// reuse one search (see [`Reusable`]).
#[derive(Default)]
struct SearchBuffers {
    /// Positions in [`Cluster::nodes`] order of the feasible nodes, in search order.
    feasible: Vec<usize>,
    /// Raw scores of the feasible nodes, in the order of `feasible`.
    raw: Vec<RawScores>,
    /// The search whose results `feasible` and `raw` contain, when the next pod of its spec
    /// may reuse them.
    reusable: Option<Reusable>,
    /// The cluster's verdicts per spec and node, taken out of the cluster for the pass.
    verdicts: VerdictCache,
}

/// A search over every node for a spec without inter-pod scoring state, while no pod was
/// nominated, which the next pod of the same spec may reuse.
///
/// Such a search processed every node, so it leaves the start index where it was, and the
/// next pod's search would start at the same node and visit the same nodes in the same order.
/// Its filters and scores read only the spec and the node, so they give the same results
/// on every node that did not change. Within a pass, only a bind or a preemption changes
/// nodes. [`Scheduler::rescore_bound_node`] updates the entry of the node a pod was bound to,
/// and a preemption drops the whole search. A node that failed the filters still fails them
/// after a bind, because a bind only takes capacity and host ports away.
struct Reusable {
    /// The spec searched for.
    spec: Arc<PodSpec>,
    /// Start index of the search.
    start: usize,
    /// Number of nodes at the time of the search.
    node_count: usize,
}

/// The specs that failed in a scheduling pass, by address, because the pods of one workload
/// share one `Arc` of their spec.
#[derive(Default)]
struct FailedSpecs {
    /// Addresses of the failed specs.
    addresses: BTreeSet<*const PodSpec>,
    /// The failed specs, held so that no other spec takes an address in `addresses`.
    specs: Vec<Arc<PodSpec>>,
}

impl FailedSpecs {
    fn contains(&self, spec: &Arc<PodSpec>) -> bool {
        !self.addresses.is_empty() && self.addresses.contains(&Arc::as_ptr(spec))
    }

    fn insert(&mut self, spec: Arc<PodSpec>) {
        if self.addresses.insert(Arc::as_ptr(&spec)) {
            self.specs.push(spec);
        }
    }

    fn clear(&mut self) {
        self.addresses.clear();
        self.specs.clear();
    }
}

/// The scheduler stand-in.
#[derive(Clone, Copy, Debug, Default)]
pub struct Scheduler {
    /// Scoring strategy of NodeResourcesFit.
    pub strategy: ScoringStrategy,
    /// `percentageOfNodesToScore`; 0 is kube-scheduler's adaptive default.
    pub percentage_of_nodes_to_score: u32,
    /// Index in node order where the next search starts (`nextStartNodeIndex`).
    next_start: usize,
}

impl Scheduler {
    /// A scheduler with `strategy` and the adaptive node sampling.
    pub fn new(strategy: ScoringStrategy) -> Self {
        Scheduler {
            strategy,
            ..Default::default()
        }
    }

    /// Tries every Pending pod in queue order: binds each to its best feasible node, or marks it
    /// Unschedulable when no node passes the filters.
    pub fn schedule(&mut self, cluster: &mut Cluster, now: SimTime) -> SchedulePass {
        let mut pass = SchedulePass::default();
        // Specs without inter-pod constraints that found no node and could not preempt since
        // the last preemption of this pass. Binding only shrinks capacity and the queue runs
        // from higher to lower priority, so such a spec cannot fit or preempt until the next
        // preemption.
        let mut failed = FailedSpecs::default();
        let mut buffers = SearchBuffers {
            verdicts: std::mem::take(&mut cluster.verdicts),
            ..SearchBuffers::default()
        };

        // Walk the queue by cursor. A pass never adds a pod to the queue and removes only the
        // pod it binds, so the walk visits the pods queued at the start, in the same order.
        // A pod of a failed spec that is already marked Unschedulable stays Pending with no
        // change, because only binding clears the mark, so the walk passes over it.
        let mut cursor = QueueCursor::default();
        while let Some((pod_id, spec, marked)) =
            cluster.next_pending_to_try(&mut cursor, |spec| failed.contains(spec))
        {
            if failed.contains(spec) {
                self.leave_pending(cluster, pod_id, marked, now, &mut pass);
                continue;
            }
            let spec = Arc::clone(spec);
            if let Some(node_id) =
                self.pick_node_with(cluster, pod_id, &spec, Some(&spec), &mut buffers)
            {
                cluster.bind(pod_id, node_id, now);
                self.rescore_bound_node(cluster, node_id, &mut buffers);
                pass.bound.push((pod_id, node_id));
                continue;
            }
            buffers.reusable = None;
            match preempt(cluster, pod_id, now) {
                PostFilterOutcome::Preempted(preemption) => {
                    // Terminating victims no longer count for inter-pod constraints, and
                    // cleared nominations release their reservations, so a failed spec may fit
                    // now.
                    failed.clear();
                    pass.preemptions.push(preemption);
                }
                PostFilterOutcome::NotEligible
                    if cluster
                        .pod(pod_id)
                        .is_some_and(|p| p.nominated_node.is_some()) => {}
                PostFilterOutcome::NotEligible | PostFilterOutcome::NoCandidate => {
                    if !spec.has_inter_pod_constraints() {
                        failed.insert(spec);
                    }
                }
            }
            self.leave_pending(cluster, pod_id, marked, now, &mut pass);
        }
        cluster.verdicts = buffers.verdicts;
        // Every pod queued at the start that was not bound is still queued, and none other.
        pass.still_pending = cluster.pending_count();
        pass
    }

    /// Marks a pod that found no node Unschedulable, unless it is `marked` already.
    fn leave_pending(
        &self,
        cluster: &mut Cluster,
        pod_id: PodId,
        marked: bool,
        now: SimTime,
        pass: &mut SchedulePass,
    ) {
        if !marked && cluster.mark_unschedulable(pod_id, now) {
            pass.newly_unschedulable.push(pod_id);
        }
    }

    /// Runs the filters over the nodes from the rotating start, scores the feasible ones, and
    /// returns the best, for a pod that is not in the cluster; ties go to the first in search
    /// order.
    pub fn pick_node(&mut self, cluster: &Cluster, spec: &PodSpec) -> Option<NodeId> {
        self.pick_node_for(cluster, PodId(u64::MAX), spec)
    }

    /// Picks the node for Pending pod `pod_id`: its nominated node if it passes the filters
    /// there (kube-scheduler's `evaluateNominatedNode`), otherwise the best-scored feasible node
    /// from the rotating start. Requests of pods nominated to a node with equal or higher
    /// priority count as used there.
    pub fn pick_node_for(
        &mut self,
        cluster: &Cluster,
        pod_id: PodId,
        spec: &PodSpec,
    ) -> Option<NodeId> {
        self.pick_node_with(cluster, pod_id, spec, None, &mut SearchBuffers::default())
    }

    /// Picks the node for Pending pod `pod_id` as [`Scheduler::pick_node_for`] does, filling
    /// `buffers` in place of lists of its own. When `shared` is the `Arc` of `spec`, the search
    /// may reuse the last one in `buffers`, or stay there for the next pod.
    fn pick_node_with(
        &mut self,
        cluster: &Cluster,
        pod_id: PodId,
        spec: &PodSpec,
        shared: Option<&Arc<PodSpec>>,
        buffers: &mut SearchBuffers,
    ) -> Option<NodeId> {
        let node_count = cluster.node_count();
        if node_count == 0 {
            return None;
        }
        // kube-scheduler's system default spread constraints apply to pods that a ReplicaSet or
        // StatefulSet owns and that have no constraints of their own.
        let replicated = cluster
            .pod(pod_id)
            .is_some_and(|p| matches!(p.owner, Owner::Deployment(_) | Owner::StatefulSet { .. }));
        let defaulted = replicated && spec.topology_spread.is_empty() && !spec.labels.is_empty();
        let inter_pod =
            (spec.has_inter_pod_constraints() || cluster.has_required_anti_affinity() || defaulted)
                .then(|| InterPodState::compute_for_scheduling(spec, cluster, replicated));
        // Without nominations, every node's nominated requests are zero, so the lookup per node
        // is skipped.
        let any_nominated = cluster.has_nominations();
        let passes = |node: &Node| {
            // Nominated pods only take capacity away, so a pod that does not fit the node's own
            // free capacity fails NodeResourcesFit there whatever the other filters find. This
            // check saves the nomination lookup and the other filters on full nodes.
            let mut free = node.free();
            if !spec.requests.fits_in(&free) {
                return false;
            }
            if any_nominated {
                free -= cluster.nominated_requests(node.id, spec.priority, pod_id);
            }
            filter_node(spec, node, &free, cluster).is_ok()
                && inter_pod
                    .as_ref()
                    .is_none_or(|state| state.filter(node).is_ok())
        };
        if let Some(nominated) = cluster
            .pod(pod_id)
            .and_then(|p| p.nominated_node)
            .and_then(|id| cluster.node(id))
            && passes(nominated)
        {
            return Some(nominated.id);
        }
        let nodes_to_find = feasible_nodes_to_find(node_count, self.percentage_of_nodes_to_score);

        // Filter, from the rotating start, until enough feasible nodes are found. The nodes in
        // search order are those from the start position on, then those before it. The
        // cluster's room index skips runs of nodes that are not schedulable or lack the CPU,
        // memory or pod slots for the pod. `passes` rejects each of them with no side effect,
        // so skipping them finds the same feasible nodes. They still count as processed, as
        // kube-scheduler counts every node it filtered, which keeps the next start index.
        let start = self.next_start % node_count;
        let reuse = inter_pod.is_none()
            && !any_nominated
            && buffers.reusable.as_ref().is_some_and(|search| {
                std::ptr::eq(Arc::as_ptr(&search.spec), spec)
                    && search.start == start
                    && search.node_count == node_count
            });
        if reuse {
            // The reused search processed every node, as a new one would.
            self.next_start = (self.next_start + node_count) % node_count;
            let best = best_scored(&buffers.raw)?;
            return Some(cluster.node_at(buffers.feasible[best]).id);
        }
        buffers.reusable = None;
        let SearchBuffers {
            feasible,
            raw,
            verdicts,
            ..
        } = buffers;
        // Without inter-pod state, nominations or host ports, the filters and scores read
        // only the spec, the strategy and the node. So a node's verdict stays valid while its
        // version is the same, and the search takes it from the cache.
        let mut cached = shared
            .filter(|_| inter_pod.is_none() && !any_nominated && spec.host_ports.is_empty())
            .map(|shared| verdicts.for_spec(shared, self.strategy, node_count));
        feasible.clear();
        raw.clear();
        let mut processed = node_count;
        'search: for (from, to) in [(start, node_count), (0, start)] {
            let mut position = from;
            while let Some(found) = cluster.next_node_with_room(position, to, &spec.requests) {
                position = found + 1;
                let node = cluster.node_at(found);
                if let Some(table) = cached.as_mut() {
                    let version = cluster.node_version_at(found);
                    let verdict = table.get(found, version).unwrap_or_else(|| {
                        let verdict =
                            passes(node).then(|| self.raw_scores_on(spec, node, None, None));
                        table.set(found, version, verdict);
                        verdict
                    });
                    let Some(scores) = verdict else {
                        continue;
                    };
                    raw.push(scores);
                } else if !passes(node) {
                    continue;
                }
                feasible.push(found);
                if feasible.len() >= nodes_to_find {
                    // Nodes from the start up to and including this one were processed.
                    processed = (found + node_count - start) % node_count + 1;
                    break 'search;
                }
            }
        }
        self.next_start = (self.next_start + processed) % node_count;

        // Score and pick. The cached search has scored the feasible nodes already.
        if cached.is_none() {
            let spread = inter_pod.as_ref().map(|state| {
                let nodes: Vec<&Node> = feasible.iter().map(|&p| cluster.node_at(p)).collect();
                state.spread_scores(&nodes)
            });
            raw.extend(feasible.iter().enumerate().map(|(index, &position)| {
                let spread = spread.as_ref().and_then(|scores| scores[index]);
                self.raw_scores_on(spec, cluster.node_at(position), inter_pod.as_ref(), spread)
            }));
        }
        if let Some(spec) = shared
            && processed == node_count
            && inter_pod.is_none()
            && !any_nominated
        {
            buffers.reusable = Some(Reusable {
                spec: Arc::clone(spec),
                start,
                node_count,
            });
        }
        let best = best_scored(&buffers.raw)?;
        Some(cluster.node_at(buffers.feasible[best]).id)
    }

    /// Raw scores of `spec` on feasible node `node`, with `spread` its PodTopologySpread score.
    fn raw_scores_on(
        &self,
        spec: &PodSpec,
        node: &Node,
        inter_pod: Option<&InterPodState>,
        spread: Option<i64>,
    ) -> RawScores {
        let fit = score(
            self.strategy,
            &node.allocatable,
            &(node.requested() + spec.requests),
        );
        RawScores {
            spread,
            ..raw_scores(spec, node, inter_pod, fit)
        }
    }

    /// Updates the reusable search in `buffers` after a pod was bound to `node_id`: filters and
    /// scores the node again if it was feasible. With a nomination in the cluster, the search
    /// is dropped, because the filters would read nominated requests.
    fn rescore_bound_node(&self, cluster: &Cluster, node_id: NodeId, buffers: &mut SearchBuffers) {
        let Some(search) = &buffers.reusable else {
            return;
        };
        let position = cluster.node_position(node_id);
        if cluster.has_nominations() || position.is_none() {
            buffers.reusable = None;
            return;
        }
        let Some(index) = buffers.feasible.iter().position(|p| Some(*p) == position) else {
            // The node failed the filters before the bind, and still fails them.
            return;
        };
        let node = cluster.node_at(buffers.feasible[index]);
        let spec = search.spec.as_ref();
        let free = node.free();
        if spec.requests.fits_in(&free) && filter_node(spec, node, &free, cluster).is_ok() {
            buffers.raw[index] = self.raw_scores_on(spec, node, None, None);
        } else {
            buffers.feasible.remove(index);
            buffers.raw.remove(index);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::NewNode;
    use crate::objects::{CapacityType, Owner, Taint, TaintEffect};
    use autoscale_sim_cloud::Price;
    use std::collections::BTreeMap;

    fn ready_node(
        cluster: &mut Cluster,
        cpu: i64,
        mem: i64,
        taints: Vec<Taint>,
        zone: &str,
    ) -> NodeId {
        let id = cluster.add_node(
            NewNode {
                owner: "ng".into(),
                instance_type: 0,
                instance_type_name: "t.large".into(),
                capacity_type: CapacityType::OnDemand,
                zone: zone.into(),
                price: Price(1),
                labels: BTreeMap::new(),
                taints,
                allocatable: Resources::new(cpu, mem, 110),
            },
            SimTime(0),
        );
        cluster.mark_ready(id, SimTime(0));
        id
    }

    fn spec(cpu: i64, mem: i64) -> Arc<PodSpec> {
        Arc::new(PodSpec {
            requests: Resources::new(cpu, mem, 1),
            ..Default::default()
        })
    }

    #[test]
    fn least_allocated_prefers_emptier_node() {
        let mut cluster = Cluster::new(vec![]);
        let busy = ready_node(&mut cluster, 4000, 8000, vec![], "a");
        let idle = ready_node(&mut cluster, 4000, 8000, vec![], "a");
        let filler = cluster.create_pod(Owner::Bare, spec(2000, 4000), SimTime(0));
        cluster.bind(filler, busy, SimTime(0));
        cluster.create_pod(Owner::Bare, spec(500, 500), SimTime(1));

        let pass = Scheduler::default().schedule(&mut cluster, SimTime(2));
        assert_eq!(pass.bound.len(), 1);
        assert_eq!(pass.bound[0].1, idle);
    }

    #[test]
    fn most_allocated_prefers_fuller_node() {
        let mut cluster = Cluster::new(vec![]);
        let busy = ready_node(&mut cluster, 4000, 8000, vec![], "a");
        ready_node(&mut cluster, 4000, 8000, vec![], "a");
        let filler = cluster.create_pod(Owner::Bare, spec(2000, 4000), SimTime(0));
        cluster.bind(filler, busy, SimTime(0));
        cluster.create_pod(Owner::Bare, spec(500, 500), SimTime(1));

        let pass =
            Scheduler::new(ScoringStrategy::MostAllocated).schedule(&mut cluster, SimTime(2));
        assert_eq!(pass.bound[0].1, busy);
    }

    #[test]
    fn score_values() {
        let alloc = Resources::new(4000, 8000, 110);
        assert_eq!(
            score(
                ScoringStrategy::LeastAllocated,
                &alloc,
                &Resources::new(1000, 2000, 1)
            ),
            75
        );
        assert_eq!(
            score(
                ScoringStrategy::MostAllocated,
                &alloc,
                &Resources::new(1000, 6000, 1)
            ),
            50
        );
    }

    #[test]
    fn taints_selectors_and_capacity_filter() {
        let mut cluster = Cluster::new(vec![]);
        ready_node(
            &mut cluster,
            1000,
            1000,
            vec![Taint {
                key: "dedicated".into(),
                value: "x".into(),
                effect: TaintEffect::NoSchedule,
            }],
            "a",
        );
        let small = ready_node(&mut cluster, 1000, 1000, vec![], "b");
        let too_big = cluster.create_pod(Owner::Bare, spec(1500, 100), SimTime(0));
        let mut selective = PodSpec {
            requests: Resources::new(100, 100, 1),
            ..Default::default()
        };
        selective
            .node_selector
            .insert("topology.kubernetes.io/zone".into(), "b".into());
        let fits = cluster.create_pod(Owner::Bare, Arc::new(selective), SimTime(1));

        let pass = Scheduler::default().schedule(&mut cluster, SimTime(2));
        assert_eq!(pass.bound, vec![(fits, small)]);
        assert_eq!(pass.newly_unschedulable, vec![too_big]);
        assert!(cluster.pod(too_big).unwrap().unschedulable);

        let again = Scheduler::default().schedule(&mut cluster, SimTime(3));
        assert!(again.newly_unschedulable.is_empty());
        assert_eq!(
            cluster.pod(too_big).unwrap().unschedulable_since,
            Some(SimTime(2))
        );
    }

    #[test]
    fn launching_and_cordoned_nodes_are_skipped() {
        let mut cluster = Cluster::new(vec![]);
        let cordoned = ready_node(&mut cluster, 4000, 4000, vec![], "a");
        cluster.set_cordoned(cordoned, true);
        let launching = cluster.add_node(
            NewNode {
                owner: "ng".into(),
                instance_type: 0,
                instance_type_name: "t".into(),
                capacity_type: CapacityType::OnDemand,
                zone: "a".into(),
                price: Price(1),
                labels: BTreeMap::new(),
                taints: vec![],
                allocatable: Resources::new(4000, 4000, 110),
            },
            SimTime(0),
        );
        let pod = cluster.create_pod(Owner::Bare, spec(100, 100), SimTime(0));
        let pass = Scheduler::default().schedule(&mut cluster, SimTime(1));
        assert_eq!(pass.newly_unschedulable, vec![pod]);

        cluster.mark_ready(launching, SimTime(2));
        let pass = Scheduler::default().schedule(&mut cluster, SimTime(2));
        assert_eq!(pass.bound, vec![(pod, launching)]);
    }
    #[test]
    fn cached_verdicts_match_fresh_search() {
        // 300 nodes, so that a search stops after a share of them and the start rotates.
        let mut cluster = Cluster::new(vec![]);
        let nodes: Vec<NodeId> = (0..300)
            .map(|index| {
                let cpu = 2000 + 500 * (index % 5);
                ready_node(&mut cluster, cpu, 8000, vec![], "a")
            })
            .collect();
        let small = spec(300, 500);
        let large = spec(900, 1500);
        let mut scheduler = Scheduler::default();
        let mut pods = Vec::new();
        for round in 0..12u64 {
            let now = SimTime(round);
            for index in 0..40 {
                let spec = if index % 3 == 0 { &large } else { &small };
                pods.push(cluster.create_pod(Owner::Bare, Arc::clone(spec), now));
            }
            // Changes between passes: a cordon, a deleted pod and a removed empty node.
            cluster.set_cordoned(nodes[(round as usize * 37) % 300], round % 2 == 0);
            if let Some(pod) = pods.get(round as usize * 7).copied() {
                cluster.delete_pod(pod, now);
            }
            let empty = nodes
                .iter()
                .rev()
                .copied()
                .find(|id| cluster.node(*id).is_some_and(|node| node.pods.is_empty()));
            if round % 4 == 3
                && let Some(empty) = empty
            {
                cluster.remove_node(empty);
            }

            // A clone has no cached verdicts, so its pass computes every verdict afresh.
            let mut fresh_cluster = cluster.clone();
            let mut fresh_scheduler = scheduler;
            let fresh = fresh_scheduler.schedule(&mut fresh_cluster, now);
            let pass = scheduler.schedule(&mut cluster, now);
            assert_eq!(pass, fresh, "pass {round}");
            // Each pass deletes at most one of its new pods before it runs.
            assert!(pass.bound.len() >= 39, "pass {round}");
        }
    }
}
