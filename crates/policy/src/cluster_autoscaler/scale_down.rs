//! Scale-down: find unneeded nodes by utilization and a greedy removal simulation, then delete
//! the ones unneeded for longer than the unneeded time.

use std::collections::BTreeMap;
use std::sync::Arc;

use autoscale_sim_cloud::{ExtendedResource, Resources};
use autoscale_sim_kube::{Node, NodeId, Owner, Pod, PodPhase, PodSpec, passes_static_filters};

use super::ClusterAutoscaler;
use super::node_pods::{NodePods, NodePodsCache};
use crate::api::{Actions, ClusterView, DisruptionReason};
use crate::topology::{Domain, TopologyTracker};

/// Utilization of a node as Cluster Autoscaler computes it (`simulator/utilization/info.go`):
/// the larger of CPU and memory requests over allocatable, or on a node with GPUs the GPU
/// requests over the GPUs alone. With `ignore_daemonsets`, DaemonSet requests are taken out of
/// the denominator, not just the numerator.
/// NOTE: Cluster Autoscaler compares a GPU node's utilization with
/// `--scale-down-gpu-utilization-threshold`; this model uses the CPU and memory threshold, whose
/// default (0.5) is the same.
pub(super) fn utilization(node: &Node, ignore_daemonsets: bool) -> f64 {
    utilization_excluding(node, ignore_daemonsets, Resources::ZERO)
}

/// Computes the utilization of `node` as [`utilization`] does, without the requests `excluded`
/// of pods that scale-down does not see (expendable pods).
fn utilization_excluding(node: &Node, ignore_daemonsets: bool, excluded: Resources) -> f64 {
    let ratio = |requested: i64, daemon: i64, allocatable: i64| -> f64 {
        let (numerator, denominator) = if ignore_daemonsets {
            (requested - daemon, allocatable - daemon)
        } else {
            (requested, allocatable)
        };
        if denominator <= 0 {
            0.0
        } else {
            numerator as f64 / denominator as f64
        }
    };
    let requested = node.requested() - excluded;
    let gpu = ExtendedResource::NvidiaGpu;
    if node.allocatable.extended(gpu) > 0 {
        return ratio(
            requested.extended(gpu),
            node.daemon_requests.extended(gpu),
            node.allocatable.extended(gpu),
        );
    }
    let cpu = ratio(
        requested.cpu_millis,
        node.daemon_requests.cpu_millis,
        node.allocatable.cpu_millis,
    );
    let memory = ratio(
        requested.memory_bytes,
        node.daemon_requests.memory_bytes,
        node.allocatable.memory_bytes,
    );
    cpu.max(memory)
}

/// The forked cluster state of one removal simulation.
struct RemovalState<'a> {
    /// Whether `free`, `targets`, `moved_span` and `removed` are built. They are built when
    /// the first candidate has pods to move, because no destination is searched before, so a
    /// loop in which no candidate gets that far skips the walk over the nodes.
    destinations_built: bool,
    /// Candidates found removable before the destinations were built, to mark in `removed`.
    removed_before_built: Vec<NodeId>,
    /// Free capacity of each schedulable node, in node id order.
    free: Vec<(NodeId, Resources)>,
    /// The node of each entry of `free`.
    targets: Vec<&'a Node>,
    /// Placements of the committed candidates, in order, as runs of pods (see [`Placement`]).
    /// One list instead of one per destination saves growing hundreds of small vectors in
    /// every loop.
    committed: Vec<Placement<'a>>,
    /// Per entry of `free`, the range of `committed` that contains every pod moved onto it by
    /// earlier candidates. Placements onto other nodes may lie in between, and the range is
    /// empty when no pod moved onto it.
    moved_span: Vec<std::ops::Range<usize>>,
    /// Whether each entry of `free` is a candidate already found removable.
    removed: Vec<bool>,
    /// Index in `free` where the last [`target_index`](Self::target_index) search ended.
    target_hint: usize,
    /// Search state of the first-fit search per pod spec met in this loop, in the order first met.
    specs: Vec<SpecSearch>,
    /// Number of the candidate being simulated, counted from 1.
    candidate_number: u64,
    tracker: TopologyTracker<'a>,
    /// Whether placements go into `tracker` at once. No check reads the tracker until a pod
    /// that needs topology checks comes up, so placements are not recorded until then. At that
    /// point `committed` contains all of them, and they are recorded in order, which leaves the
    /// tracker as if recorded at once.
    tracking: bool,
    pdb_remaining: Vec<i64>,
    /// Pods of each Deployment, counted only when `--min-replica-count` is set.
    replicas: BTreeMap<u32, u32>,
    /// The blocker of the last candidate found unremovable, for the decision log: the pod, and
    /// the PodDisruptionBudget where one is at fault.
    blocker: Option<String>,
}

/// A run of `count` consecutive pods of one spec, all moved onto one destination, an index
/// into `RemovalState::free`. A list of placements keeps the pods in the order they were
/// placed.
#[derive(Clone, Copy)]
struct Placement<'a> {
    destination: usize,
    spec: &'a Arc<PodSpec>,
    count: u32,
}

/// Appends `placement` to `list`, merged into the last entry if that has the same destination
/// and spec, which keeps the same pods in the same order.
fn push_placement<'a>(list: &mut Vec<Placement<'a>>, placement: Placement<'a>) {
    if let Some(last) = list.last_mut()
        && last.destination == placement.destination
        && Arc::ptr_eq(last.spec, placement.spec)
    {
        last.count += placement.count;
    } else {
        list.push(placement);
    }
}

/// Appends `count` pods of `spec` to `runs`, merged into the last run if it has the same spec.
fn push_run<'a>(runs: &mut Vec<(&'a Arc<PodSpec>, u32)>, spec: &'a Arc<PodSpec>, count: u32) {
    match runs.last_mut() {
        Some((last, last_count)) if Arc::ptr_eq(last, spec) => *last_count += count,
        _ => runs.push((spec, count)),
    }
}

/// Returns `requests` times `count`, the requests of `count` pods of one spec, or `None` if a
/// quantity overflows.
fn multiply_requests(requests: Resources, count: u32) -> Option<Resources> {
    let count = i64::from(count);
    let mut extended = [0; autoscale_sim_cloud::EXTENDED_RESOURCES];
    for (total, request) in extended.iter_mut().zip(requests.extended) {
        *total = request.checked_mul(count)?;
    }
    Some(Resources {
        cpu_millis: requests.cpu_millis.checked_mul(count)?,
        memory_bytes: requests.memory_bytes.checked_mul(count)?,
        pods: requests.pods.checked_mul(count)?,
        extended,
    })
}

/// Returns how many pods with `requests`, at most `limit`, fit in `room` one after the other,
/// the first of which is known to fit. Each pod must fit in what the ones before it left, as
/// in a search that places them one at a time.
#[inline]
fn copies_that_fit(requests: &Resources, room: &Resources, limit: u32) -> u32 {
    if limit == 1 {
        return 1;
    }
    // With requests of zero or more, the pods fit one after the other exactly when their sum
    // fits, since every partial sum is no larger. This settles the common case, a destination
    // with room for the whole run, without a loop.
    let not_negative = requests.cpu_millis >= 0
        && requests.memory_bytes >= 0
        && requests.pods >= 0
        && requests.extended.iter().all(|quantity| *quantity >= 0);
    if not_negative && multiply_requests(*requests, limit).is_some_and(|total| total.fits_in(room))
    {
        return limit;
    }
    let mut copies = 1;
    let mut left = *room - *requests;
    while copies < limit && requests.fits_in(&left) {
        left -= *requests;
        copies += 1;
    }
    copies
}

/// Outcome of kube-scheduler's static filters for one pod spec on one node.
#[derive(Clone, Copy, PartialEq, Eq)]
enum StaticFilters {
    NotChecked,
    Pass,
    Fail,
}

/// The first-fit search's state for one pod spec, found by the spec's address. A loop meets
/// few specs, about one per workload, so a linear search finds the entry, and the resume
/// position and the filter outcomes then need no lookup of their own.
struct SpecSearch {
    spec: *const PodSpec,
    /// Index in `free` where the search for the next pod of the spec may start, for a spec
    /// without host ports or inter-pod constraints. It is `None` before the first search.
    resume: Option<usize>,
    /// The outcome of kube-scheduler's static filters on each entry of `free`. A pod's spec
    /// and a node's labels and taints do not change during a loop, so each pair is filtered
    /// once.
    static_filters: Vec<StaticFilters>,
    /// The number of the last candidate whose `undo_resume` contains this spec's resume
    /// position.
    undo_candidate: u64,
}

impl<'a> RemovalState<'a> {
    /// Returns the index in `free` and `targets` of node `id`, if it is a destination. The
    /// search reads the ids in `free`, which lie next to each other, rather than the nodes.
    /// Candidates come in node id order within each class. So the search gallops forward from
    /// where the last one ended, which reads a few nearby entries where a binary search reads
    /// scattered ones. The ids in `free` are sorted and unique, so it finds the same index.
    fn target_index(&mut self, id: NodeId) -> Option<usize> {
        let len = self.free.len();
        let hint = self.target_hint;
        let range = if hint < len && self.free[hint].0 <= id {
            // `low` is an entry at or before `id`, and the range ends at the first probe past it.
            let mut low = hint;
            let mut step = 1;
            loop {
                let next = low + step;
                if next >= len || self.free[next].0 > id {
                    break low..next.min(len);
                }
                low = next;
                step *= 2;
            }
        } else {
            // Every entry from `hint` on is past `id`.
            0..hint.min(len)
        };
        let found = self.free[range.clone()].binary_search_by_key(&id, |(target, _)| *target);
        let (Ok(offset) | Err(offset)) = found;
        self.target_hint = range.start + offset;
        let index = found.ok().map(|offset| range.start + offset);
        debug_assert_eq!(
            index,
            self.free
                .binary_search_by_key(&id, |(target, _)| *target)
                .ok()
        );
        index
    }

    /// Builds the destination lists from the schedulable nodes, unless they are built.
    fn build_destinations(&mut self, cluster: &'a autoscale_sim_kube::Cluster) {
        if self.destinations_built {
            return;
        }
        self.destinations_built = true;
        self.targets = Vec::with_capacity(cluster.node_count());
        self.free = Vec::with_capacity(cluster.node_count());
        for (id, node, free) in cluster.schedulable_free() {
            self.targets.push(node);
            self.free.push((id, free));
        }
        debug_assert!(
            self.targets
                .iter()
                .zip(&self.free)
                .all(|(node, (id, free))| node.id == *id && node.free() == *free),
            "the cluster's list of free room differs from its nodes"
        );
        self.removed = vec![false; self.targets.len()];
        self.moved_span = vec![0..0; self.targets.len()];
        for id in std::mem::take(&mut self.removed_before_built) {
            if let Some(index) = self.target_index(id) {
                self.removed[index] = true;
            }
        }
    }
}

/// The nodes eligible for the removal simulation, in two lists so that the larger one is not
/// copied to put them in order.
struct Candidates<'a> {
    /// Empty nodes and nodes unneeded in the previous loop, with their class, in order.
    classified: Vec<(u8, Candidate<'a>)>,
    /// Nodes with pods that were not unneeded, the last class, by node id.
    rest: Vec<Candidate<'a>>,
    /// Nodes left out of both lists because they are above the utilization threshold again,
    /// in node id order (see [`RepeatedFailure`]).
    repeated: Vec<RepeatedFailure>,
}

/// A node whose checks fail with NotUnderutilized again, the reason that its unremovable entry
/// already contains. Simulating it would only set the entry's time to the loop's time, because
/// the check fails before any destination is searched, and an unchanged reason writes no note.
/// So the node is left out of the simulation, and its entry is set afterwards if the
/// simulation would have reached it.
#[derive(Clone, Copy)]
struct RepeatedFailure {
    /// The node's class in the candidate order.
    class: u8,
    /// The node.
    id: NodeId,
    /// Position of the node's entry in the unremovable map.
    unremovable_position: usize,
}

impl<'a> Candidates<'a> {
    /// Iterates over the candidates in the order of the simulation.
    fn in_order(&self) -> impl Iterator<Item = &Candidate<'a>> + '_ {
        let classified = self.classified.iter().map(|(_, candidate)| candidate);
        classified.chain(&self.rest)
    }
}

/// A node eligible for the removal simulation.
#[derive(Clone, Copy)]
struct Candidate<'a> {
    node: &'a Node,
    /// The node's class: candidates are in order of class, then node id.
    class: u8,
    /// Position of the node's entry in the unremovable map, if it has one.
    unremovable_position: Option<usize>,
    /// Result of the checks of the node itself ([`ClusterAutoscaler::check_node`]).
    node_check: Result<(), Unremovable>,
}

/// Largest lengths that scale-down's per-loop lists reached in earlier loops. Each loop
/// allocates its lists at these capacities, which saves growing them step by step in every
/// loop. The lists borrow the loop's cluster view, so they cannot be kept between loops.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct ListCapacities {
    /// `Candidates::classified`.
    classified: usize,
    /// `RemovalState::committed`.
    committed: usize,
    /// The unneeded nodes found in a loop.
    found: usize,
    /// The deferred writes to the unremovable map.
    unremovable_writes: usize,
    /// The lists of [`Scratch`], whose lengths are bounded by the pods of one candidate.
    scratch: usize,
}

impl ListCapacities {
    /// Returns the larger of the two values of each capacity.
    fn max(self, other: ListCapacities) -> ListCapacities {
        ListCapacities {
            classified: self.classified.max(other.classified),
            committed: self.committed.max(other.committed),
            found: self.found.max(other.found),
            unremovable_writes: self.unremovable_writes.max(other.unremovable_writes),
            scratch: self.scratch.max(other.scratch),
        }
    }
}

/// Lists of one candidate's removal simulation, kept from one candidate to the next so that
/// each simulation reuses their memory. Every list is cleared before use.
#[derive(Default)]
struct Scratch<'a> {
    /// Specs of the node's own pods when the drainability rules are applied one by one
    /// instead of read from the node's cached pods.
    pods: Vec<&'a Arc<PodSpec>>,
    /// The pod of each of the node's own pods in `pods`, in the same order.
    pod_ids: Vec<autoscale_sim_kube::PodId>,
    /// PodDisruptionBudgets the evictions would use, one entry per eviction.
    pdb_use: Vec<usize>,
    /// Resume positions before the candidate's first search of each spec, by index in
    /// `RemovalState::specs`, to undo a failed candidate.
    undo_resume: Vec<(usize, Option<usize>)>,
    /// Every pod to move, in order (the node's own pods, then the pods moved onto it by
    /// earlier candidates), as runs of consecutive pods of one spec with their length.
    runs: Vec<(&'a Arc<PodSpec>, u32)>,
    /// The candidate's placements, in order.
    placements: Vec<Placement<'a>>,
}

/// Reason a node is not unneeded, in Cluster Autoscaler's terms (`simulator.UnremovableReason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unremovable {
    /// Utilization above the threshold.
    NotUnderutilized,
    /// A pod has no controller and would be lost.
    NotReplicated,
    /// The pods do not fit on the other nodes.
    NoPlaceToMovePods,
    /// A pod is annotated `cluster-autoscaler.kubernetes.io/safe-to-evict: "false"`.
    NotSafeToEvict,
    /// A pod uses local storage (emptyDir on disk or hostPath).
    LocalStorageRequested,
    /// A kube-system pod without a PodDisruptionBudget, younger than an hour.
    UnmovableKubeSystemPod,
    /// A PodDisruptionBudget allows no more disruptions.
    NotEnoughPdb,
    /// A pod's ReplicaSet has fewer replicas than `--min-replica-count`.
    MinReplicasReached,
    /// The node is annotated `cluster-autoscaler.kubernetes.io/scale-down-disabled: "true"`.
    ScaleDownDisabledAnnotation,
    /// The node is not Ready and `--scale-down-unready-enabled` is false.
    ScaleDownUnreadyDisabled,
}

impl Unremovable {
    /// Cluster Autoscaler's name for the reason.
    pub fn as_str(self) -> &'static str {
        match self {
            Unremovable::NotUnderutilized => "NotUnderutilized",
            Unremovable::NotReplicated => "NotReplicated",
            Unremovable::NoPlaceToMovePods => "NoPlaceToMovePods",
            Unremovable::NotSafeToEvict => "NotSafeToEvict",
            Unremovable::LocalStorageRequested => "LocalStorageRequested",
            Unremovable::UnmovableKubeSystemPod => "UnmovableKubeSystemPod",
            Unremovable::NotEnoughPdb => "NotEnoughPdb",
            Unremovable::MinReplicasReached => "MinReplicasReached",
            Unremovable::ScaleDownDisabledAnnotation => "ScaleDownDisabledAnnotation",
            Unremovable::ScaleDownUnreadyDisabled => "ScaleDownUnreadyDisabled",
        }
    }
}

/// The node annotation that keeps Cluster Autoscaler from removing a node
/// (`core/scaledown/eligibility/eligibility.go`, `ScaleDownDisabledKey`).
pub const SCALE_DOWN_DISABLED_ANNOTATION: &str =
    "cluster-autoscaler.kubernetes.io/scale-down-disabled";

/// Returns the spec of the pod at `position`, counted over all the pods of `runs`.
fn spec_at<'a>(runs: &[(&'a Arc<PodSpec>, u32)], position: usize) -> &'a Arc<PodSpec> {
    let mut start = 0;
    for &(spec, count) in runs {
        start += count as usize;
        if position < start {
            return spec;
        }
    }
    panic!("pod {position} is past the end of the runs");
}

impl ClusterAutoscaler {
    /// Updates the unneeded nodes and deletes the removable ones; returns whether a deletion started.
    pub(super) fn scale_down(&mut self, view: &ClusterView<'_>, actions: &mut Actions) -> bool {
        let mut node_pods = std::mem::take(&mut self.node_pods);
        node_pods.retain_nodes_of(view.cluster);
        // One list of each node's group serves both the target sizes and the candidates.
        let groups = self.groups_of_nodes(view);
        let sizes = groups.sizes.clone();
        let candidates = self.candidates(view, &sizes, &groups.groups, &mut node_pods);
        drop(groups);
        let classified = &mut self.list_capacities.classified;
        *classified = (*classified).max(candidates.classified.len());
        let found = self.simulate_removal(
            view,
            candidates.in_order(),
            &candidates.repeated,
            &node_pods,
            actions,
        );
        self.node_pods = node_pods;

        // Nodes that stay unneeded keep their "since", and a node that drops out starts over.
        // The found nodes, sorted by id, are merged with the old map in one walk. Each node is
        // a candidate once, so found once.
        let mut by_id: Vec<(NodeId, usize)> = found.iter().copied().zip(0..).collect();
        by_id.sort_unstable();
        debug_assert!(
            by_id.windows(2).all(|pair| pair[0].0 < pair[1].0),
            "a node was found unneeded twice in one loop"
        );
        let mut was_unneeded = vec![false; found.len()];
        let mut old = self.unneeded.keys().peekable();
        for &(id, position) in &by_id {
            while old.next_if(|other| **other < id).is_some() {}
            was_unneeded[position] = old.next_if(|other| **other == id).is_some();
        }
        // The map is updated in place: the nodes that dropped out leave it, and the new ones
        // join it below. A new map would allocate all its tree nodes again in every loop, and
        // at night it contains thousands of entries.
        let mut found_ids = by_id.iter().map(|(id, _)| id).peekable();
        self.unneeded.retain(|id, _| {
            while found_ids.next_if(|other| *other < id).is_some() {}
            found_ids.peek() == Some(&id)
        });
        // The notes of the newly unneeded nodes go out in the order they were found.
        for (&id, &kept) in found.iter().zip(&was_unneeded) {
            if kept {
                continue;
            }
            let value = view.cluster.node(id).map_or(0.0, |n| {
                utilization(n, self.config.ignore_daemonsets_utilization)
            });
            let detail = format!(
                "utilization {value:.2}; deletable once unneeded for longer than {}",
                self.config.scale_down_unneeded_time
            );
            actions.note(Some(id), "unneeded", "ScaleDown", detail);
            self.unneeded.insert(id, view.now);
        }
        debug_assert_eq!(self.unneeded.len(), found.len());

        if self.in_cooldown(view) {
            return false;
        }
        self.delete_removable(view, sizes, actions)
    }

    /// Nodes eligible for the simulation, in CA's order: empty nodes first, then nodes unneeded
    /// in the previous loop, then the rest; by node id within each class. `groups` contains the
    /// node group of each node in the order of `Cluster::nodes`.
    ///
    /// Each candidate also gets the checks of the node itself, which read nothing that the
    /// simulation changes. The pods of each candidate that passes them are refreshed in
    /// `node_pods` before the simulation borrows them. A candidate after the point where enough
    /// nodes are unneeded is checked without need, which changes no result.
    fn candidates<'a>(
        &self,
        view: &ClusterView<'a>,
        sizes: &[u32],
        groups: &[Option<usize>],
        node_pods: &mut NodePodsCache,
    ) -> Candidates<'a> {
        // The nodes, the unremovable map and the unneeded map are all in node id order, so one
        // walk along both maps finds each node's entries without a lookup per node.
        //
        // The eligible nodes come in id order, so a stable split by (has pods, was not
        // unneeded) gives that order. The class index is 2 for a node with pods plus 1 for a
        // node that was not unneeded, which orders the four classes as the pair does. Most
        // nodes fall in the last class, so they go straight to `rest` and only the others
        // need the stable sort.
        let unremovable = &self.unremovable_until;
        let cutoff = self.config.expendable_pods_priority_cutoff;
        let any_expendable = view.cluster.may_hold_priority_below(cutoff);
        let ignore_daemonsets = self.config.ignore_daemonsets_utilization;
        let threshold = self.config.scale_down_utilization_threshold;
        let mut cursor = 0;
        let mut unneeded = self.unneeded.keys().peekable();
        // The nodes being deleted are in node id order too.
        let mut deleting = self.deleting.keys().peekable();
        let above_min: Vec<bool> = (self.config.node_groups.iter().zip(sizes))
            .map(|(group, size)| *size > group.min_size)
            .collect();
        let mut classified: Vec<(u8, Candidate)> =
            Vec::with_capacity(self.list_capacities.classified);
        let mut rest: Vec<Candidate> = Vec::with_capacity(view.cluster.node_count());
        let mut repeated = Vec::new();
        for (node, group) in view.cluster.nodes().zip(groups) {
            while deleting.next_if(|other| **other < node.id).is_some() {}
            if !node.is_in_service() || deleting.peek() == Some(&&node.id) {
                continue;
            }
            if !group.is_some_and(|g| above_min[g]) {
                continue;
            }
            while cursor < unremovable.len() && unremovable.entry_at(cursor).0 < node.id {
                cursor += 1;
            }
            let position = (cursor < unremovable.len()
                && unremovable.entry_at(cursor).0 == node.id)
                .then_some(cursor);
            if let Some(position) = position
                && unremovable.entry_at(position).1.0 > view.now
            {
                continue;
            }

            while unneeded.next_if(|other| **other < node.id).is_some() {}
            let was_unneeded = unneeded.peek() == Some(&&node.id);
            // Expendable pods are not in Cluster Autoscaler's snapshot: they count for nothing
            // and need no place.
            let usage = node_pods.usage(view.cluster, node, any_expendable, cutoff, |excluded| {
                utilization_excluding(node, ignore_daemonsets, excluded) > threshold
            });
            let class = 2 * u8::from(usage.has_active_pods) + u8::from(!was_unneeded);
            let node_check = self.check_node(node, usage.above_threshold);
            if node_check == Err(Unremovable::NotUnderutilized)
                && let Some(position) = position
                && unremovable.entry_at(position).1.1 == Unremovable::NotUnderutilized
            {
                repeated.push(RepeatedFailure {
                    class,
                    id: node.id,
                    unremovable_position: position,
                });
                continue;
            }
            if node_check.is_ok() {
                node_pods.refresh(view.cluster, node, cutoff);
            }
            let candidate = Candidate {
                node,
                class,
                unremovable_position: position,
                node_check,
            };
            if class == 3 {
                rest.push(candidate);
            } else {
                classified.push((class, candidate));
            }
        }
        classified.sort_by_key(|(class, _)| *class);
        Candidates {
            classified,
            rest,
            repeated,
        }
    }

    /// The greedy, cumulative removal simulation (`core/scaledown/planner`): each candidate's
    /// pods are placed on the other nodes, and a success is committed before the next candidate.
    /// A node found unremovable for another reason than before gets an `unremovable` note.
    /// `node_pods` contains the pods of every candidate that passed the checks of the node.
    /// The entries of the `repeated` failures are set as their simulation would set them.
    fn simulate_removal<'c>(
        &mut self,
        view: &ClusterView<'_>,
        candidates: impl Iterator<Item = &'c Candidate<'c>>,
        repeated: &[RepeatedFailure],
        node_pods: &NodePodsCache,
        actions: &mut Actions,
    ) -> Vec<NodeId> {
        let mut state = RemovalState {
            destinations_built: false,
            removed_before_built: Vec::new(),
            free: Vec::new(),
            removed: Vec::new(),
            target_hint: 0,
            specs: Vec::new(),
            candidate_number: 0,
            committed: Vec::with_capacity(self.list_capacities.committed),
            moved_span: Vec::new(),
            targets: Vec::new(),
            // The removed nodes' pods still count where they are, like the tainted copy Cluster
            // Autoscaler leaves in its snapshot so that topology domains keep their pods.
            tracker: TopologyTracker::new(view.cluster, view.zones),
            tracking: false,
            // Disruptions left per PodDisruptionBudget; moved pods use them up (`RemainingPdbTracker`).
            pdb_remaining: view.cluster.disruptions_allowed(),
            replicas: BTreeMap::new(),
            blocker: None,
        };
        let pods = (self.config.min_replica_count > 0).then(|| view.cluster.pods());
        for pod in pods.into_iter().flatten() {
            if self.config.min_replica_count > 0
                && let Owner::Deployment(index) = pod.owner
                && pod.phase != PodPhase::Terminating
            {
                *state.replicas.entry(index).or_default() += 1;
            }
        }
        let capacities = self.list_capacities;
        let mut unneeded = Vec::with_capacity(capacities.found);
        let mut scratch = Scratch {
            pods: Vec::with_capacity(capacities.scratch),
            pod_ids: Vec::with_capacity(capacities.scratch),
            pdb_use: Vec::new(),
            undo_resume: Vec::with_capacity(capacities.scratch),
            runs: Vec::with_capacity(capacities.scratch),
            placements: Vec::with_capacity(capacities.scratch),
        };
        // Entries added to or removed from the unremovable map, applied after the loop. An
        // existing entry is replaced at its position at once, and positions stay valid until
        // the deferred writes are applied. Nothing in the loop reads the map except a
        // candidate's own entry, and each node is a candidate once, so deferring the writes
        // changes no result.
        let mut unremovable_writes = Vec::with_capacity(capacities.unremovable_writes);

        let limit = self.unneeded_nodes_limit(view.now);
        // The class and id of the candidate that made `limit` nodes unneeded. The loop simulates
        // no candidate after it.
        let mut limit_reached_at: Option<(u8, NodeId)> = None;
        for &Candidate {
            node,
            class,
            unremovable_position: position,
            node_check,
        } in candidates
        {
            let previous = position.map(|position| *self.unremovable_until.entry_at(position).1);
            // Once enough nodes are unneeded, the rest are not simulated in this loop.
            if unneeded.len() >= limit {
                break;
            }
            let result = node_check.and_then(|()| {
                let pods_of_node = node_pods
                    .get(node)
                    .expect("the pods of a candidate that passed the node checks are cached");
                self.try_remove(view, node, pods_of_node, &mut state, &mut scratch)
            });
            match result {
                Ok(()) => {
                    // `targets` is in node id order. A candidate that is not a target is
                    // never searched as a destination, so it needs no mark.
                    if !state.destinations_built {
                        state.removed_before_built.push(node.id);
                    } else if let Some(index) = state.target_index(node.id) {
                        state.removed[index] = true;
                    }
                    unneeded.push(node.id);
                    if unneeded.len() == limit {
                        limit_reached_at = Some((class, node.id));
                    }
                    if position.is_some() {
                        unremovable_writes.push((node.id, None));
                    }
                }
                Err(reason) => {
                    // NotUnderutilized is reported but checked again in the next loop; the other
                    // reasons wait for --unremovable-node-recheck-timeout.
                    let blocker = state.blocker.take();
                    let until = if reason == Unremovable::NotUnderutilized {
                        view.now
                    } else {
                        tracing::debug!(time = %view.now, node = %node.name, reason = reason.as_str(), "unremovable");
                        view.now + self.config.unremovable_node_recheck_timeout
                    };
                    match position {
                        Some(position) => {
                            self.unremovable_until.set_at(position, (until, reason));
                        }
                        None => unremovable_writes.push((node.id, Some((until, reason)))),
                    }
                    if previous.is_none_or(|(_, old)| old != reason) {
                        // The detail is written only with a note, which is rare.
                        let detail = if reason == Unremovable::NotUnderutilized {
                            let threshold = self.config.scale_down_utilization_threshold;
                            let value =
                                utilization(node, self.config.ignore_daemonsets_utilization);
                            format!("utilization {value:.2} above the threshold {threshold}")
                        } else {
                            let blocker = blocker.map(|b| format!("{b}; ")).unwrap_or_default();
                            format!("{blocker}not checked again until {until}")
                        };
                        actions.note(Some(node.id), "unremovable", reason.as_str(), detail);
                    }
                }
            }
        }
        // Candidates are in order of class, then node id, and the loop reaches every candidate
        // before the one that made `limit` nodes unneeded, or every candidate if none did.
        // With a limit of 0, it reaches none.
        for failure in repeated {
            let reached =
                limit > 0 && limit_reached_at.is_none_or(|last| (failure.class, failure.id) < last);
            if reached {
                self.unremovable_until.set_at(
                    failure.unremovable_position,
                    (view.now, Unremovable::NotUnderutilized),
                );
            }
        }

        let reached = ListCapacities {
            classified: capacities.classified,
            committed: state.committed.len(),
            found: unneeded.len(),
            unremovable_writes: unremovable_writes.len(),
            scratch: scratch.pods.capacity(),
        };
        self.list_capacities = capacities.max(reached);
        self.unremovable_until.apply(&mut unremovable_writes);
        unneeded
    }

    /// Most unneeded nodes worth finding in one pass (`Planner.unneededNodesLimit`): with N the
    /// scale-down parallelism, the nodes unneeded so far plus 2N, and at most N times the
    /// loops that fit in the unneeded time, plus N. The loop interval is the shortest seen
    /// between two passes.
    /// NOTE: loops that run at once after a productive one are 0 ms apart here, where the real
    /// loop takes some milliseconds. The interval is taken as at least 1 ms, which lifts the
    /// second bound as a real loop of a few milliseconds does.
    fn unneeded_nodes_limit(&mut self, now: autoscale_sim_engine::SimTime) -> usize {
        if let Some(last) = self.last_scale_down_pass {
            let interval = now
                .since(last)
                .max(autoscale_sim_engine::SimDuration::from_millis(1));
            self.min_scale_down_interval = self.min_scale_down_interval.min(interval);
        }
        self.last_scale_down_pass = Some(now);
        let n = self.config.max_scale_down_parallelism as u64;
        let interval = self.min_scale_down_interval.as_millis().max(1);
        let unneeded_time = self
            .config
            .scale_down_unneeded_time
            .as_millis()
            .max(interval);
        let incremental = self.unneeded.len() as u64 + 2 * n;
        let upper = n.saturating_mul(unneeded_time / interval).saturating_add(n);
        incremental.min(upper) as usize
    }

    /// Checks the node itself, before its pods, in the order of
    /// `unremovableReasonAndNodeUtilization` (`core/scaledown/eligibility/eligibility.go`,
    /// Cluster Autoscaler 1.36): the scale-down-disabled annotation, the Ready condition, and
    /// the utilization, `above_threshold` telling whether it is above the threshold.
    fn check_node(&self, node: &Node, above_threshold: bool) -> Result<(), Unremovable> {
        if node
            .annotations
            .get(SCALE_DOWN_DISABLED_ANNOTATION)
            .is_some_and(|value| value == "true")
        {
            return Err(Unremovable::ScaleDownDisabledAnnotation);
        }
        if node.not_ready_since.is_some() && !self.config.scale_down_unready_enabled {
            return Err(Unremovable::ScaleDownUnreadyDisabled);
        }
        if above_threshold {
            return Err(Unremovable::NotUnderutilized);
        }
        Ok(())
    }

    /// Simulates the removal of `node`, which passed [`check_node`](Self::check_node), with
    /// `pods_of_node` its cached pods: applies the drainability rules to its pods and places
    /// them and the pods moved onto it by earlier candidates on the other nodes.
    fn try_remove<'a>(
        &self,
        view: &ClusterView<'a>,
        node: &Node,
        pods_of_node: &'a NodePods,
        state: &mut RemovalState<'a>,
        scratch: &mut Scratch<'a>,
    ) -> Result<(), Unremovable> {
        // Drainability rules, in Cluster Autoscaler's order (`simulator/drainability/rules`).
        let cluster: &'a autoscale_sim_kube::Cluster = view.cluster;
        let Scratch {
            pods,
            pod_ids,
            pdb_use,
            undo_resume,
            runs,
            placements,
        } = scratch;
        pods.clear();
        pod_ids.clear();
        pdb_use.clear();
        undo_resume.clear();
        runs.clear();
        placements.clear();
        state.candidate_number += 1;
        // The node's own pods come first, then the pods moved onto it. `cached` contains the
        // own pods when they are taken from the cache as they are, and is empty otherwise.
        let mut cached: &'a [(autoscale_sim_kube::PodId, Arc<PodSpec>)] = &[];
        if pods_of_node.all_pass_pod_rules
            && self.config.min_replica_count == 0
            && cluster.pdbs().is_empty()
        {
            // With no PodDisruptionBudget and no `--min-replica-count`, the rules read nothing
            // but the pod, and every cached pod passes them, so the loop below would take
            // exactly the cached pods, in the same order.
            cached = &pods_of_node.movable;
        } else {
            let cutoff = self.config.expendable_pods_priority_cutoff;
            for pod in cluster.active_pods_on(node.id) {
                if pod.spec.priority < cutoff {
                    continue;
                }
                if let Err((reason, why)) = self.check_drainable(pod, view, state, pdb_use) {
                    state.blocker = Some(format!("{}: {why}", pod.id));
                    return Err(reason);
                }
                pods.push(&pod.spec);
                pod_ids.push(pod.id);
            }
        }
        if !cached.is_empty() || !pods.is_empty() {
            state.build_destinations(cluster);
        }
        // The cached runs, where the entry has them, are the runs of `cached`.
        match pods_of_node.runs() {
            Some(cached_runs) if !cached.is_empty() => {
                for (spec, count) in cached_runs {
                    push_run(runs, spec, count);
                }
            }
            _ => {
                for (_, spec) in cached {
                    push_run(runs, spec, 1);
                }
            }
        }
        debug_assert_eq!(
            runs.iter()
                .map(|&(spec, count)| (Arc::as_ptr(spec), count))
                .collect::<Vec<_>>(),
            {
                let mut expected = Vec::new();
                for (_, spec) in cached {
                    push_run(&mut expected, spec, 1);
                }
                expected
                    .iter()
                    .map(|&(spec, count)| (Arc::as_ptr(spec), count))
                    .collect::<Vec<_>>()
            },
            "cached runs of node {} differ from its pods",
            node.name
        );
        for &spec in pods.iter() {
            push_run(runs, spec, 1);
        }
        // `targets` is in node id order. Pods are moved only onto targets, so a candidate that
        // is not one has none, and before the destinations are built no pod has moved.
        if let Some(index) = state.target_index(node.id) {
            let span = state.moved_span[index].clone();
            for moved in &state.committed[span] {
                if moved.destination == index {
                    push_run(runs, moved.spec, moved.count);
                }
            }
        }
        let runs: &[(&'a Arc<PodSpec>, u32)] = runs;

        // Place every pod on another node, first fit in node order. The placements change
        // `state` in place and are undone if a pod finds no node, which gives the same result
        // as working on copies without the cost of copying the cluster per candidate.
        if !state.tracking && runs.iter().any(|(spec, _)| state.tracker.constrained(spec)) {
            for placement in &state.committed {
                let domain = Domain::of(state.targets[placement.destination]);
                for _ in 0..placement.count {
                    state.tracker.place(placement.spec, domain.clone());
                }
            }
            state.tracking = true;
        }
        let tracker_mark = state.tracker.mark();
        // The position of the first pod that found no node, counted over all the pods.
        let mut failed = None;
        // The number of pods before the current run.
        let mut run_start = 0;
        'runs: for &(spec, count) in runs {
            let key = Arc::as_ptr(spec);
            let slot = match state.specs.iter().position(|search| search.spec == key) {
                Some(slot) => slot,
                None => {
                    state.specs.push(SpecSearch {
                        spec: key,
                        resume: None,
                        static_filters: vec![StaticFilters::NotChecked; state.free.len()],
                        undo_candidate: 0,
                    });
                    state.specs.len() - 1
                }
            };
            let mut left = count;
            while left > 0 {
                // Free capacity only shrinks and removed nodes stay removed within a loop. So for
                // a spec without host ports or inter-pod constraints, the search resumes at the
                // last node that took one, because no earlier node can take it now. The search
                // places nothing, so the spec stays constrained or not throughout it.
                let constrained = state.tracker.constrained(spec);
                let cacheable = spec.host_ports.is_empty() && !constrained;
                let start = if cacheable {
                    state.specs[slot].resume.unwrap_or(0)
                } else {
                    0
                };
                let static_filters = &mut state.specs[slot].static_filters;
                let committed = &state.committed;
                let moved_span = &state.moved_span;
                let removed = &state.removed;
                let tracker = &mut state.tracker;
                let destination = (start..state.free.len()).find(|&index| {
                    let (id, room) = &state.free[index];
                    if !spec.requests.fits_in(room) || *id == node.id || removed[index] {
                        return false;
                    }
                    let target = state.targets[index];
                    let ports_free = spec.host_ports.iter().all(|port| {
                        let mut moved_ports = committed[moved_span[index].clone()]
                            .iter()
                            .chain(placements.iter())
                            .filter(|moved| moved.destination == index)
                            .map(|moved| moved.spec);
                        !target.daemon_host_ports.contains(port)
                            && !target
                                .pods
                                .iter()
                                .filter_map(|p| view.cluster.pod(*p))
                                .any(|p| p.spec.host_ports.contains(port))
                            && !moved_ports.any(|s| s.host_ports.contains(port))
                    });
                    if !ports_free {
                        return false;
                    }
                    let passes = match static_filters[index] {
                        StaticFilters::Pass => true,
                        StaticFilters::Fail => false,
                        StaticFilters::NotChecked => {
                            let passes = passes_static_filters(spec, target);
                            static_filters[index] = if passes {
                                StaticFilters::Pass
                            } else {
                                StaticFilters::Fail
                            };
                            passes
                        }
                    };
                    // `allows_existing` allows every node for an unconstrained spec.
                    passes && (!constrained || tracker.allows_existing(spec, target))
                });
                if cacheable {
                    // Undoing restores the position from before the candidate's first search
                    // of the spec, so later searches of the spec need no entry.
                    let search = &mut state.specs[slot];
                    let previous = search
                        .resume
                        .replace(destination.unwrap_or(state.free.len()));
                    if search.undo_candidate != state.candidate_number {
                        search.undo_candidate = state.candidate_number;
                        undo_resume.push((slot, previous));
                    }
                }
                let Some(index) = destination else {
                    failed = Some(run_start + (count - left) as usize);
                    break 'runs;
                };
                // The next pods of a cacheable spec would resume their search at `index` and
                // stop there while they fit, since nothing else about the node changes. So
                // they are placed together. Other specs search from the first node again.
                let placed = if cacheable {
                    copies_that_fit(&spec.requests, &state.free[index].1, left)
                } else {
                    1
                };
                state.free[index].1 -= multiply_requests(spec.requests, placed)
                    .expect("the requests of pods that fit in a node do not overflow");
                if state.tracking {
                    let domain = Domain::of(state.targets[index]);
                    for _ in 0..placed {
                        state.tracker.place(spec, domain.clone());
                    }
                }
                push_placement(
                    placements,
                    Placement {
                        destination: index,
                        spec,
                        count: placed,
                    },
                );
                left -= placed;
            }
            run_start += count as usize;
        }
        if let Some(position) = failed {
            let own_pod = match cached.get(position) {
                Some((id, _)) => Some(*id),
                None => pod_ids.get(position - cached.len()).copied(),
            };
            let blocking_pod = own_pod.map_or(
                "a pod moved here from another candidate".to_string(),
                |id| id.to_string(),
            );
            let spec = spec_at(runs, position);
            state.blocker = Some(format!(
                "{blocking_pod} (cpu {}m, memory {} MiB) fits on no other node",
                spec.requests.cpu_millis,
                spec.requests.memory_bytes / (1024 * 1024)
            ));
            // Integer subtraction is undone exactly by adding the requests back.
            for placement in placements.drain(..).rev() {
                state.free[placement.destination].1 +=
                    multiply_requests(placement.spec.requests, placement.count)
                        .expect("the requests of pods that fit in a node do not overflow");
            }
            for (slot, previous) in undo_resume.drain(..) {
                state.specs[slot].resume = previous;
            }
            state.tracker.rollback(tracker_mark);
            return Err(Unremovable::NoPlaceToMovePods);
        }

        for &index in pdb_use.iter() {
            state.pdb_remaining[index] -= 1;
        }
        for placement in placements.drain(..) {
            let position = state.committed.len();
            let span = &mut state.moved_span[placement.destination];
            if span.start == span.end {
                *span = position..position + 1;
            } else {
                span.end = position + 1;
            }
            state.committed.push(placement);
        }
        Ok(())
    }

    fn in_cooldown(&self, view: &ClusterView<'_>) -> bool {
        let after = |last: Option<_>, delay| last.is_some_and(|at| at + delay > view.now);
        after(self.last_scale_up, self.config.scale_down_delay_after_add)
            || after(
                self.last_scale_down_delete,
                self.config.scale_down_delay_after_delete,
            )
            || after(
                self.last_scale_down_failure,
                self.config.scale_down_delay_after_failure,
            )
    }

    /// Applies the drainability rules to one pod (`simulator/drainability/rules`); records the
    /// budgets the pod's eviction would use.
    fn check_drainable(
        &self,
        pod: &Pod,
        view: &ClusterView<'_>,
        state: &RemovalState<'_>,
        pdb_use: &mut Vec<usize>,
    ) -> Result<(), (Unremovable, String)> {
        let config = &self.config;
        if config.min_replica_count > 0
            && let Owner::Deployment(index) = pod.owner
            && state.replicas.get(&index).copied().unwrap_or(0) < config.min_replica_count
        {
            return Err((
                Unremovable::MinReplicasReached,
                format!(
                    "its Deployment has fewer than {} pods",
                    config.min_replica_count
                ),
            ));
        }
        let covering = view.cluster.pdbs_covering(&pod.spec);
        if pod.spec.safe_to_evict != Some(true) {
            if pod.owner == Owner::Bare {
                return Err((
                    Unremovable::NotReplicated,
                    "no controller would replace it".into(),
                ));
            }
            if config.skip_nodes_with_system_pods
                && pod.spec.namespace() == "kube-system"
                && covering.is_empty()
                && view.now.since(pod.created) < config.blocking_system_pod_disruption_timeout
            {
                return Err((
                    Unremovable::UnmovableKubeSystemPod,
                    "a kube-system pod without a PodDisruptionBudget".into(),
                ));
            }
            if pod.spec.safe_to_evict == Some(false) {
                return Err((
                    Unremovable::NotSafeToEvict,
                    "annotated cluster-autoscaler.kubernetes.io/safe-to-evict: \"false\"".into(),
                ));
            }
            if config.skip_nodes_with_local_storage && pod.spec.local_storage {
                return Err((
                    Unremovable::LocalStorageRequested,
                    "uses local storage (emptyDir on disk or hostPath)".into(),
                ));
            }
        }
        for index in covering {
            let used = pdb_use.iter().filter(|i| **i == index).count() as i64;
            if state.pdb_remaining[index] - used < 1 {
                let pdb = &view.cluster.pdbs()[index];
                return Err((
                    Unremovable::NotEnoughPdb,
                    format!(
                        "PodDisruptionBudget {}/{} allows no more disruptions",
                        if pdb.namespace.is_empty() {
                            "default"
                        } else {
                            &pdb.namespace
                        },
                        pdb.name
                    ),
                ));
            }
            pdb_use.push(index);
        }
        Ok(())
    }

    /// Deletes unneeded nodes past the unneeded time: empty nodes first within the parallelism
    /// budget, then nodes that need a drain within the drain budget, never taking a group below
    /// its minimum size.
    fn delete_removable(
        &mut self,
        view: &ClusterView<'_>,
        mut sizes: Vec<u32>,
        actions: &mut Actions,
    ) -> bool {
        let drains_in_progress = self.deleting.values().filter(|drain| **drain).count() as u32;
        let mut parallel_budget = self
            .config
            .max_scale_down_parallelism
            .saturating_sub(self.deleting.len() as u32);
        let mut drain_budget = self
            .config
            .max_drain_parallelism
            .saturating_sub(drains_in_progress);
        // With no parallelism left, the loop below skips every node before it changes
        // anything, so the removable nodes need not be listed.
        if parallel_budget == 0 {
            return false;
        }

        // `has_active_pods` reads a counter where `active_pods_on` would look up each pod.
        let mut removable: Vec<(NodeId, bool)> = self
            .unneeded
            .iter()
            .filter_map(|(id, since)| {
                let node = view.cluster.node(*id);
                // An unready node waits `--scale-down-unready-time` instead
                // (`core/scaledown/unneeded/nodes.go`, `RemovableAt`).
                let unready = node.is_some_and(|n| n.not_ready_since.is_some());
                let wait = if unready {
                    self.config.scale_down_unready_time
                } else {
                    self.config.scale_down_unneeded_time
                };
                if view.now.since(*since) <= wait {
                    return None;
                }
                Some((*id, node.is_some_and(|n| view.cluster.has_active_pods(n))))
            })
            .collect();
        removable.sort_by_key(|&(id, drain)| (drain, id));

        // `--cores-total` and `--memory-total` minimums, when set, are used up node by node.
        let limits = self.config.resource_limits;
        let mut min_quota = (limits.cores.0 > 0 || limits.memory_bytes.0 > 0)
            .then(|| self.min_quota(view, &self.templates(view)));

        let mut deleted = false;
        for (id, drain) in removable {
            let node = view.cluster.node(id).expect("removable node exists");
            let group = self.group_of(node).expect("candidates belong to groups");
            if sizes[group] <= self.config.node_groups[group].min_size
                || parallel_budget == 0
                || (drain && drain_budget == 0)
            {
                continue;
            }
            if let Some(quota) = &mut min_quota
                && !quota.consume(group, 1)
            {
                // `MinimalResourceLimitExceeded`.
                continue;
            }
            sizes[group] -= 1;
            parallel_budget -= 1;
            if drain {
                drain_budget -= 1;
            }
            let since = self.unneeded[&id];
            let detail = format!(
                "ScaleDown: node {} of group {} unneeded since {} (utilization {:.2}), {}",
                node.name,
                node.owner,
                since,
                utilization(node, self.config.ignore_daemonsets_utilization),
                if drain {
                    format!("draining {} pods", node.pods.len())
                } else {
                    "empty".to_string()
                },
            );
            actions.delete_node_within(
                id,
                DisruptionReason::ScaleDown,
                detail,
                self.config.max_pod_eviction_time,
            );
            self.deleting.insert(id, drain);
            self.unneeded.remove(&id);
            deleted = true;
        }
        if deleted {
            self.last_scale_down_delete = Some(view.now);
        }
        deleted
    }
}
