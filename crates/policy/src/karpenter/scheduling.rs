//! Karpenter's scheduling simulation, shared by provisioning and consolidation
//! (`pkg/controllers/provisioning/scheduling/scheduler.go`).
//!
//! Pods are placed in first-fit-decreasing order (CPU, then memory, descending; ties by creation
//! time, then id): on the first existing node that fits (initialized nodes first, then by name),
//! else on the open NodeClaim with the fewest pods whose remaining instance types can still hold
//! it, else on a new NodeClaim from the first NodePool (highest weight) that can hold it alone.
//! A NodeClaim keeps every instance type whose allocatable fits its pods plus that type's
//! DaemonSet overhead, so adding pods only narrows the set.

use std::borrow::Cow;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use autoscale_sim_cloud::Resources;
use autoscale_sim_engine::SimTime;
use autoscale_sim_kube::plugins::used_host_ports;
use autoscale_sim_kube::{
    Cluster, LABEL_ZONE, Node, NodeId, NodeState, Pod, PodId, PodSpec, WhenUnsatisfiable,
    passes_static_filters,
};

use super::preferences::{self, Preferences, tolerates_every};
use super::{MinValuesPolicy, ResolvedPool, min_values};
use crate::topology::{Domain, TopologyTracker};

/// A pod to place. It borrows the spec, so that building and dropping the pods of each
/// simulation does no atomic reference counting.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SimPod<'a> {
    pub id: PodId,
    pub spec: &'a Arc<PodSpec>,
    pub created: SimTime,
}

impl<'a> SimPod<'a> {
    /// Creates the simulation's view of a cluster pod.
    pub fn of(pod: &'a Pod) -> Self {
        SimPod {
            id: pod.id,
            spec: &pod.spec,
            created: pod.created,
        }
    }
}

/// Collects the pods kube-scheduler marked Unschedulable, except those waiting for a preemption.
pub(crate) fn unschedulable_pods(cluster: &Cluster) -> Vec<SimPod<'_>> {
    cluster
        .pending_pods()
        .filter(|p| p.unschedulable && !p.is_preempting())
        .map(SimPod::of)
        .collect()
}

/// An existing or in-flight node in the simulation, with its free capacity.
#[derive(Clone, Debug)]
pub(crate) struct SimNode<'a> {
    pub node: &'a Node,
    pub free: Resources,
    pub initialized: bool,
    /// Host ports in use, by DaemonSets, bound pods and pods placed by the simulation.
    pub ports: Vec<u16>,
}

impl<'a> SimNode<'a> {
    /// Creates the simulation's view of `node`. Host ports in use are collected only with
    /// `ports`, because they matter only when a pod to place requests one ([`any_host_ports`]).
    pub fn new(node: &'a Node, cluster: &Cluster, ports: bool) -> Self {
        // Karpenter counts a node's DaemonSet overhead from the templates until the daemon
        // pods are bound, and then the larger of the two for each resource
        // (kubernetes-sigs/karpenter v1.13 `scheduling/existingnode.go`, `NewExistingNode`).
        // The model binds daemon pods when the node becomes Ready.
        let free = if node.daemon_estimate == node.daemon_requests {
            node.free()
        } else if node.state == NodeState::Ready {
            node.allocatable - node.pod_requests - node.daemon_estimate.max(&node.daemon_requests)
        } else {
            node.allocatable - node.pod_requests - node.daemon_estimate
        };
        SimNode {
            node,
            free,
            initialized: node.state == NodeState::Ready,
            ports: if ports {
                used_host_ports(node, cluster).into_iter().collect()
            } else {
                Vec::new()
            },
        }
    }
}

/// Compares two pods in the order the simulation places them: first-fit decreasing by CPU, then
/// memory, ties by creation time, then id. Pod ids are unique, so this is a total order.
pub(crate) fn placement_order(a: &SimPod<'_>, b: &SimPod<'_>) -> std::cmp::Ordering {
    (b.spec.requests.cpu_millis, b.spec.requests.memory_bytes)
        .cmp(&(a.spec.requests.cpu_millis, a.spec.requests.memory_bytes))
        .then(a.created.cmp(&b.created))
        .then(a.id.cmp(&b.id))
}

/// Pods sorted by [`placement_order`], with the facts about them that a simulation would
/// otherwise collect by a pass over all of them.
#[derive(Clone, Debug, Default)]
pub(crate) struct SortedPods<'a> {
    pods: Vec<SimPod<'a>>,
    /// Indexes of the pods whose spec is not the one of the pod before.
    spec_runs: Vec<usize>,
    /// Some pod has inter-pod constraints.
    inter_pod_constraints: bool,
    /// Some pod requests a host port.
    host_ports: bool,
}

impl<'a> SortedPods<'a> {
    /// Sorts `pods` by [`placement_order`] and collects their facts.
    pub fn new(mut pods: Vec<SimPod<'a>>) -> Self {
        pods.sort_by(placement_order);
        let spec_runs = (0..pods.len())
            .filter(|&i| i == 0 || !Arc::ptr_eq(pods[i - 1].spec, pods[i].spec))
            .collect();
        SortedPods {
            spec_runs,
            inter_pod_constraints: pods.iter().any(|p| p.spec.has_inter_pod_constraints()),
            host_ports: any_host_ports(&pods),
            pods,
        }
    }

    /// Checks whether some pod requests a host port.
    pub fn host_ports(&self) -> bool {
        self.host_ports
    }

    /// Checks whether some pod has inter-pod constraints.
    pub fn inter_pod_constraints(&self) -> bool {
        self.inter_pod_constraints
    }

    /// Returns the pods, in placement order.
    pub fn pods(&self) -> &[SimPod<'a>] {
        &self.pods
    }

    /// Iterates over the pods' ids, in placement order.
    pub fn ids(&self) -> impl Iterator<Item = PodId> + '_ {
        self.pods.iter().map(|pod| pod.id)
    }
}

/// Karpenter's scheduling queue over two lists sorted by [`placement_order`]. Pods leave in
/// the merged order of the lists, and a pod that finds no place goes to the back. Each pod
/// leaves with a flag that is true when it came from the first list.
struct PodQueue<'p, 'a> {
    first: &'p [SimPod<'a>],
    second: &'p [SimPod<'a>],
    back: VecDeque<(&'p SimPod<'a>, bool)>,
}

impl<'p, 'a> PodQueue<'p, 'a> {
    fn len(&self) -> usize {
        self.first.len() + self.second.len() + self.back.len()
    }

    fn pop_front(&mut self) -> Option<(&'p SimPod<'a>, bool)> {
        let from_first = match (self.first.first(), self.second.first()) {
            (None, None) => return self.back.pop_front(),
            (Some(a), Some(b)) => placement_order(a, b).is_le(),
            (Some(_), None) => true,
            (None, Some(_)) => false,
        };
        let list = if from_first {
            &mut self.first
        } else {
            &mut self.second
        };
        let (pod, rest) = list.split_first()?;
        *list = rest;
        Some((pod, from_first))
    }

    fn push_back(&mut self, pod: &'p SimPod<'a>, from_first: bool) {
        self.back.push_back((pod, from_first));
    }
}

/// Checks whether any of `pods` requests a host port.
pub(crate) fn any_host_ports<'p, 'a: 'p>(pods: impl IntoIterator<Item = &'p SimPod<'a>>) -> bool {
    pods.into_iter().any(|p| !p.spec.host_ports.is_empty())
}

/// Sorts nodes into the order the simulation tries them: initialized first, then by name.
pub(crate) fn sort_nodes(nodes: &mut [SimNode<'_>]) {
    nodes.sort_by(|a, b| simulation_order(a.node, b.node));
}

/// Lists every node of `cluster` for a simulation, in the simulation's order, without host
/// ports.
#[cfg(test)]
pub(crate) fn sorted_sim_nodes(cluster: &Cluster) -> Vec<SimNode<'_>> {
    let mut nodes: Vec<SimNode<'_>> = cluster
        .nodes()
        .map(|n| SimNode::new(n, cluster, false))
        .collect();
    sort_nodes(&mut nodes);
    nodes
}

/// Compares two nodes in the order the simulation tries them: initialized (Ready) first, then
/// by name. [`SimNode::new`] marks exactly the Ready nodes initialized.
pub(crate) fn simulation_order(a: &Node, b: &Node) -> std::cmp::Ordering {
    let initialized = |node: &Node| node.state == NodeState::Ready;
    initialized(b)
        .cmp(&initialized(a))
        .then_with(|| a.name.cmp(&b.name))
}

/// A NodeClaim opened by the simulation.
#[derive(Clone, Debug)]
pub(crate) struct SimClaim {
    /// Index into the resolved pools.
    pub pool: usize,
    /// Indexes into the pool's price-ordered options that still fit.
    pub options: Vec<usize>,
    /// Zone, when a pod pinned one.
    pub zone: Option<String>,
    /// Placeholder hostname, a topology domain of its own.
    pub hostname: String,
    /// Host ports taken by its pods.
    pub ports: Vec<u16>,
    pub pods: Vec<PodId>,
    pub requests: Resources,
    /// Its `minValues` minimums, one per key of the pool's, once `--min-values-policy=BestEffort`
    /// relaxed one; empty while it keeps the pool's.
    pub relaxed_min_values: Vec<u32>,
}

impl SimClaim {
    fn domain(&self) -> Domain {
        Domain {
            hostname: self.hostname.clone(),
            zone: self.zone.clone(),
        }
    }
}

/// Checks that none of the pod's host ports is in `used`.
fn ports_free(spec: &PodSpec, used: &[u16]) -> bool {
    spec.host_ports.iter().all(|p| !used.contains(p))
}

/// A NodePool's room under its `spec.limits` during one simulation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct RemainingLimits {
    /// CPU and memory capacity left; `None` without a CPU or memory limit.
    pub resources: Option<Resources>,
    /// Nodes left; `None` without a `nodes` limit.
    pub nodes: Option<i64>,
}

impl RemainingLimits {
    /// Checks whether a node of `capacity` fits the CPU and memory left. Karpenter drops an
    /// instance type whose capacity exceeds what is left (`filterByRemainingResources`).
    fn admits(&self, capacity: &Resources) -> bool {
        self.resources.is_none_or(|left| {
            capacity.cpu_millis <= left.cpu_millis && capacity.memory_bytes <= left.memory_bytes
        })
    }

    /// Checks whether the `nodes` limit is used up, which rules the NodePool out at once.
    fn nodes_exhausted(&self) -> bool {
        self.nodes.is_some_and(|left| left <= 0)
    }

    /// Takes the largest CPU and the largest memory among `capacities` off what is left: the
    /// NodeClaim may launch any of its options, so Karpenter assumes the largest
    /// (`subtractMax`). Instance types have no `nodes` capacity, so the node count left does
    /// not change within one simulation.
    fn subtract_max(&mut self, capacities: impl Iterator<Item = Resources>) {
        if let Some(left) = self.resources.as_mut() {
            let largest = capacities.fold(Resources::ZERO, |a, b| a.max(&b));
            left.cpu_millis -= largest.cpu_millis;
            left.memory_bytes -= largest.memory_bytes;
        }
    }
}

/// Results that stay the same across the simulations on one destination list, within one solve
/// or across the simulations of a consolidation pass, which each start from the same state.
///
/// Specs are keyed by address, which stays theirs while the cluster the simulations read is
/// alive. The specs built for relaxed pods are never keyed, because their addresses may be
/// reused by the next simulation.
#[derive(Debug, Default)]
pub(crate) struct SimulationCache {
    /// Per pod spec, the nodes of the list on which a pod of that spec fits before a simulation
    /// places anything. It applies the checks that stay the same on the list, which are
    /// requests against free capacity, the static filters and taints. Simulations only take
    /// capacity away and give it back when they end, so a node missing from a spec's list
    /// cannot take a pod of that spec in any simulation on the list. First-fit searches walk
    /// these lists instead of every node.
    fits: BTreeMap<*const PodSpec, Vec<usize>>,
    /// The options of new NodeClaims for lone pods, for the pools without a CPU or memory limit
    /// (which would make them depend on the NodeClaims already opened).
    lone_pods: LonePodCache,
    /// Working lists of a simulation, kept so that the next simulation reuses their memory.
    scratch: Scratch,
}

/// Working lists that a simulation empties before use, see [`solve`].
#[derive(Debug, Default)]
struct Scratch {
    undo: Vec<(usize, Resources, usize)>,
    claim_order: Vec<usize>,
    claim_room: Vec<Resources>,
}

/// The options of new NodeClaims for lone pods, kept apart from the node lists of
/// [`SimulationCache`] so that a simulation can read those lists while it adds options here.
#[derive(Debug, Default)]
struct LonePodCache {
    options: LonePodOptionStore,
    /// Per pod spec checked by [`moved_pods_always_land`], whether some pool without a CPU or
    /// memory limit can open a NodeClaim for a lone pod of it at the start of a simulation.
    opens_alone: Vec<(*const PodSpec, bool)>,
}

/// The options a new NodeClaim keeps for a lone pod, per pool, pod spec and zone, for the
/// pools without a CPU or memory limit.
///
/// These options depend only on the pool's options, the spec and the zone, and never on the
/// cluster's state, so the store can outlive a consolidation pass. It must be cleared when the
/// pools are resolved again. Each entry keeps a reference to its spec, so that the spec's
/// address, which keys the entry, cannot go to another spec while the entry exists.
#[derive(Debug, Default)]
pub(crate) struct LonePodOptionStore {
    entries: Vec<LonePodOptions>,
}

impl LonePodOptionStore {
    /// Drops the entries whose spec no pod uses any more. No later simulation can look such a
    /// spec up, so this frees memory and changes no result.
    pub(crate) fn drop_unused(&mut self) {
        self.entries
            .retain(|entry| Arc::strong_count(&entry.spec) > 1);
    }

    /// Drops every entry, for pools resolved again.
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }
}

/// The options a new NodeClaim of a pool keeps for a lone pod of a spec in a zone.
#[derive(Debug)]
struct LonePodOptions {
    pool: usize,
    spec: Arc<PodSpec>,
    zone: Option<String>,
    /// `None` when no option fits or the options do not meet the pool's minValues.
    options: Option<Vec<usize>>,
}

impl SimulationCache {
    /// Creates an empty cache that starts from the lone-pod options of `store`, which
    /// [`SimulationCache::into_lone_pod_options`] gives back with the options added.
    pub(crate) fn with_lone_pod_options(store: LonePodOptionStore) -> Self {
        SimulationCache {
            lone_pods: LonePodCache {
                options: store,
                opens_alone: Vec::new(),
            },
            ..SimulationCache::default()
        }
    }

    /// Returns the cache's lone-pod options, to keep for the caches of later passes.
    pub(crate) fn into_lone_pod_options(self) -> LonePodOptionStore {
        self.lone_pods.options
    }

    /// Lists the nodes that can take a pod of `spec`, in the order of `nodes`, unless the spec is
    /// listed already. `nodes` must be as they were when the first spec was listed.
    fn add(&mut self, spec: &Arc<PodSpec>, nodes: &[SimNode<'_>]) {
        self.fits.entry(Arc::as_ptr(spec)).or_insert_with(|| {
            (0..nodes.len())
                .filter(|&index| {
                    let n = &nodes[index];
                    spec.requests.fits_in(&n.free)
                        && passes_static_filters(spec, n.node)
                        && tolerates_every(&spec.tolerations, &n.node.taints)
                })
                .collect()
        });
    }
}

impl SimulationCache {
    /// Returns the nodes of `nodes` that can take a pod of `spec` before a simulation places
    /// anything, listing them first if needed (see [`SimulationCache::add`]).
    pub(super) fn node_list(&mut self, spec: &Arc<PodSpec>, nodes: &[SimNode<'_>]) -> &[usize] {
        self.add(spec, nodes);
        &self.fits[&Arc::as_ptr(spec)]
    }

    /// Checks whether [`solve`], given `remaining_limits`, `tracker` and this cache, would end
    /// a simulation of `pods` and `moved` as soon as one of `moved` lands on an uninitialized
    /// node ([`Placement::moved_pod_on_uninitialized`]).
    pub(super) fn stops_at_moved_pod(
        &mut self,
        pods: &SortedPods<'_>,
        moved: &[SimPod<'_>],
        pools: &[ResolvedPool],
        remaining_limits: &[RemainingLimits],
        tracker: &TopologyTracker<'_>,
    ) -> bool {
        stops_at_moved_pod(
            pods,
            moved,
            pools,
            remaining_limits,
            tracker,
            &mut self.lone_pods,
        )
    }
}

impl LonePodCache {
    /// Returns the options of a new NodeClaim of `pool` for a lone pod of `spec` in `zone`,
    /// computed by `compute` the first time. The options are borrowed from the cache, so that a
    /// caller that only checks for them copies nothing.
    fn lone_pod_options(
        &mut self,
        pool: usize,
        spec: &Arc<PodSpec>,
        zone: &Option<String>,
        compute: impl FnOnce() -> Option<Vec<usize>>,
    ) -> Option<&[usize]> {
        let key = Arc::as_ptr(spec);
        let entries = &mut self.options.entries;
        let found = entries.iter().position(|entry| {
            entry.pool == pool && Arc::as_ptr(&entry.spec) == key && &entry.zone == zone
        });
        let index = match found {
            Some(index) => index,
            None => {
                entries.push(LonePodOptions {
                    pool,
                    spec: Arc::clone(spec),
                    zone: zone.clone(),
                    options: compute(),
                });
                entries.len() - 1
            }
        };
        entries[index].options.as_deref()
    }
}

/// Result of a simulation.
#[derive(Clone, Debug, Default)]
pub(crate) struct Placement {
    /// Pods placed on existing nodes.
    pub on_existing: Vec<(PodId, NodeId)>,
    /// New NodeClaims.
    pub claims: Vec<SimClaim>,
    /// Pods that found no place.
    pub failed: Vec<PodId>,
    /// The simulation ended early, when one of [`Removal::moved`] landed on an uninitialized
    /// node. The other fields then hold only the placements made until then, and `failed` is
    /// empty, because none of the moved pods could have failed. The NodeClaims' options are
    /// then not settled, so some may be too small for their pods.
    pub moved_pod_on_uninitialized: bool,
    /// One of [`Removal::moved`] landed on an existing node that is not initialized, whether
    /// or not the simulation ended there.
    pub moved_pod_landed_uninitialized: bool,
    /// The state after [`Removal::checkpoint_after`] pending pods, when it was set and every
    /// one of those pods meets the conditions of [`PendingCheckpoint`].
    pub checkpoint: Option<PendingCheckpoint>,
}

impl SimClaim {
    /// Checks whether option `option` of `pool`, the NodeClaim's pool, can hold the NodeClaim's
    /// pods. Settling keeps the options that pass this check.
    pub fn option_holds_pods(&self, pool: &ResolvedPool, option: usize) -> bool {
        self.requests.fits_in(&pool.options[option].room)
    }

    /// Drops the options that cannot hold the NodeClaim's pods, for a simulation run with
    /// [`Removal::unsettled`].
    pub fn settle_options(&mut self, pool: &ResolvedPool) {
        let requests = self.requests;
        self.options
            .retain(|&o| requests.fits_in(&pool.options[o].room));
    }
}

/// The nodes a consolidation simulation takes away and the pods it moves off them.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Removal<'r> {
    /// Nodes that take no pods.
    pub excluded: &'r [NodeId],
    /// The pods moved off the removed nodes, sorted by [`placement_order`].
    pub moved: &'r [SimPod<'r>],
    /// Leaves the NodeClaims' options unsettled: they may include options too small for the
    /// NodeClaim's pods, which [`SimClaim::settle_options`] drops. A caller that reads the
    /// options of only some results sets it, to skip settling the others.
    pub unsettled: bool,
    /// Leaves [`Placement::on_existing`] empty, for a caller that reads only the NodeClaims,
    /// the failed pods and the flags, which saves allocating and filling the list.
    pub no_existing_list: bool,
    /// A state to start from instead of placing the checkpoint's pending pods again. [`solve`]
    /// starts from it only where that gives the same result, and from the beginning otherwise.
    pub resume_from: Option<&'r PendingCheckpoint>,
    /// Stops after this many pending pods, before any pod of `moved`, and returns the state in
    /// [`Placement::checkpoint`].
    pub checkpoint_after: Option<usize>,
}

/// The state of a simulation after it placed the first pending pods, before any moved pod.
///
/// Every simulation on the same destination list, from the same remaining limits, reaches this
/// state when those pending pods come before its first moved pod and none of them landed on a
/// node it excludes. Each such pod then finds the same place. The nodes ahead of its place in
/// first-fit order had no room or were excluded here, so they have no room or are excluded
/// there too, and its place is not excluded. A pod that found no node here finds none there,
/// and meets the same NodeClaims. This needs pods whose checks read nothing else that differs
/// between the simulations: no host ports, no inter-pod constraints, no preferences to relax,
/// and a simulation that records no placements in the topology tracker.
#[derive(Clone, Debug, Default)]
pub(crate) struct PendingCheckpoint {
    /// How many pending pods, in placement order, the state has placed or requeued.
    pending: usize,
    /// Per node that took a pod, its index in the destination list and the requests it took.
    node_requests: Vec<(usize, Resources)>,
    /// Ids of the nodes that took a pod, sorted.
    used_nodes: Vec<NodeId>,
    claims: Vec<SimClaim>,
    claim_order: Vec<usize>,
    claim_room: Vec<Resources>,
    limits: Vec<RemainingLimits>,
    /// Per spec, the position in its node list where the next first-fit search starts.
    resume: Vec<(*const PodSpec, usize)>,
    /// The pending pods that found no place, by index, with the queue's length after each went
    /// to the back, not counting the moved pods.
    requeued: Vec<(usize, usize)>,
}

impl PendingCheckpoint {
    /// Returns how many pending pods the state has placed or requeued.
    pub(crate) fn pending(&self) -> usize {
        self.pending
    }
}

/// The start of the first-fit search for the next pod of a spec.
struct ResumePoint<'l> {
    spec: *const PodSpec,
    /// A position in `list` when the spec has one, otherwise a node index.
    at: usize,
    /// The spec's list of [`SimulationCache`], when it has one.
    list: Option<&'l [usize]>,
}

/// The place a simulation found for a pod.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Landing {
    Node { initialized: bool },
    NodeClaim,
}

/// Checks the pod's node selector against `labels`, with the zone key checked against the pool's zones and the claim's zone.
fn selector_fits(
    spec: &PodSpec,
    labels: &BTreeMap<String, String>,
    zones: &[String],
    zone: Option<&String>,
) -> bool {
    spec.node_selector.iter().all(|(key, value)| {
        if key == LABEL_ZONE {
            zones.contains(value) && zone.is_none_or(|z| z == value)
        } else {
            labels.get(key) == Some(value)
        }
    })
}

/// Checks a requirement on the zone against `zone`.
fn zone_matches(requirement: &autoscale_sim_kube::Requirement, zone: &str) -> bool {
    requirement.matches(&BTreeMap::from([(
        LABEL_ZONE.to_string(),
        zone.to_string(),
    )]))
}

/// Checks the pod's required node affinity against `labels`: some term must hold, with its
/// zone requirements checked against the claim's zone, or any of the pool's zones while the
/// claim has none.
fn affinity_fits(
    spec: &PodSpec,
    labels: &BTreeMap<String, String>,
    zones: &[String],
    zone: Option<&String>,
) -> bool {
    let terms = &spec.node_affinity.required;
    terms.is_empty()
        || terms.iter().any(|term| {
            !term.match_expressions.is_empty()
                && term.match_expressions.iter().all(|r| {
                    if r.key != LABEL_ZONE {
                        return r.matches(labels);
                    }
                    match zone {
                        Some(z) => zone_matches(r, z),
                        None => zones.iter().any(|z| zone_matches(r, z)),
                    }
                })
        })
}

/// Checks whether [`new_node_zone`] can pick a zone for a pod with `spec`. Without a zone in
/// its node selector, a required node-affinity term or a DoNotSchedule zone spread constraint,
/// it returns `Some(None)` or `None`, so the NodeClaim's zone stays unset.
fn may_pin_zone(spec: &PodSpec) -> bool {
    spec.node_selector.contains_key(LABEL_ZONE)
        || !spec.node_affinity.required.is_empty()
        || spec.topology_spread.iter().any(|c| {
            c.topology_key == LABEL_ZONE && c.when_unsatisfiable == WhenUnsatisfiable::DoNotSchedule
        })
}

/// Picks the zone of a new NodeClaim for a pod with `spec` among the pool's `zones`: `None`
/// when the pod allows none of them, `Some(None)` when any will do.
///
/// NOTE: Karpenter keeps the set of zones a NodeClaim's pods allow. This model pins one zone
/// as soon as a pod restricts them through its node selector or a required node-affinity
/// term. It takes the zone the pod's spread prefers, else the first allowed.
fn new_node_zone(
    spec: &PodSpec,
    zones: &[String],
    tracker: &TopologyTracker<'_>,
) -> Option<Option<String>> {
    let selected = spec.node_selector.get(LABEL_ZONE);
    let terms = &spec.node_affinity.required;
    // A pod that restricts no zone allows them all, so the filter below would keep every zone.
    if selected.is_none() && terms.is_empty() && !zones.is_empty() {
        return Some(tracker.zone_for_new_node(spec, zones));
    }
    let allowed: Vec<String> = zones
        .iter()
        .filter(|z| selected.is_none_or(|s| s == *z))
        .filter(|z| {
            terms.is_empty()
                || terms.iter().any(|term| {
                    term.match_expressions
                        .iter()
                        .filter(|r| r.key == LABEL_ZONE)
                        .all(|r| zone_matches(r, z))
                })
        })
        .cloned()
        .collect();
    if allowed.is_empty() {
        return None;
    }
    if allowed.len() == zones.len() {
        return Some(tracker.zone_for_new_node(spec, zones));
    }
    Some(
        tracker
            .zone_for_new_node(spec, &allowed)
            .or_else(|| allowed.first().cloned()),
    )
}

/// Checks whether option `i` of `pool` can hold `requests` and its labels suit `spec`.
fn option_fits(
    pool: &ResolvedPool,
    i: usize,
    spec: &PodSpec,
    requests: &Resources,
    zone: Option<&String>,
) -> bool {
    let option = &pool.options[i];
    requests.fits_in(&option.room)
        && ports_free(spec, &option.daemon_ports)
        && (spec.node_selector.is_empty() || selector_fits(spec, &option.labels, &pool.zones, zone))
        && affinity_fits(spec, &option.labels, &pool.zones, zone)
}

/// A NodeClaim that a simulation may open in one pool for a lone pod.
struct NewClaim<'c> {
    pool_index: usize,
    pool: &'c ResolvedPool,
    /// The pool's room under its limits in this simulation.
    limits: &'c RemainingLimits,
    /// Placeholder hostname of the NodeClaim, a topology domain of its own.
    hostname: &'c str,
}

impl NewClaim<'_> {
    /// Returns the options and zone of the NodeClaim for a lone pod of `spec`, or `None` when
    /// the pool cannot hold the pod alone. `own_spec` is false for the specs built for a
    /// relaxed pod, which must not key `cache`. Options that `cache` stores are borrowed.
    fn options<'s>(
        &self,
        spec: &Arc<PodSpec>,
        own_spec: bool,
        tracker: &TopologyTracker<'_>,
        cache: &'s mut LonePodCache,
    ) -> Option<(Cow<'s, [usize]>, Option<String>)> {
        let pool = self.pool;
        if !tolerates_every(&spec.tolerations, &pool.config.taints) || pool.zones.is_empty() {
            return None;
        }
        let zone = new_node_zone(spec, &pool.zones, tracker)?;

        // A pod without required anti-affinity or spread constraints passes `allows_simulated`
        // in every domain while no placed pod has required anti-affinity. So the domain and its
        // hostname string are built only when the check can fail.
        let topology_may_reject = !spec.pod_anti_affinity.required.is_empty()
            || !spec.topology_spread.is_empty()
            || tracker.has_placed_anti_affinity();
        if topology_may_reject {
            let domain = Domain {
                hostname: self.hostname.to_string(),
                zone: zone.clone(),
            };
            if !tracker.allows_simulated(spec, &domain) {
                return None;
            }
        }

        if self.limits.nodes_exhausted() {
            return None;
        }
        let within_limits = |i: &usize| self.limits.admits(&pool.options[*i].capacity);
        let compute = || {
            let options: Vec<usize> = (0..pool.options.len())
                .filter(within_limits)
                .filter(|&i| option_fits(pool, i, spec, &spec.requests, zone.as_ref()))
                .collect();
            let meets_min_values = pool.min_values_policy == MinValuesPolicy::BestEffort
                || min_values::satisfied(pool, &[], &options, zone.as_ref());
            (!options.is_empty() && meets_min_values).then_some(options)
        };
        let options = if own_spec && self.limits.resources.is_none() {
            cache
                .lone_pod_options(self.pool_index, spec, &zone, compute)
                .map(Cow::Borrowed)
        } else {
            compute().map(Cow::Owned)
        };
        options.map(|options| (options, zone))
    }
}

/// Checks that a NodeClaim's options that would still fit after it takes a pod with `spec`
/// (`requests` is the NodeClaim's total with that pod) meet its pool's `minValues`. Under the
/// Strict policy Karpenter rejects the pod rather than narrow the NodeClaim below them. Under
/// BestEffort it takes the pod and relaxes them (`filterInstanceTypesByRequirements` in
/// kubernetes-sigs/karpenter v1.13 scheduling/nodeclaim.go).
fn keeps_min_values(
    pool: &ResolvedPool,
    claim: &SimClaim,
    spec: &PodSpec,
    requests: &Resources,
) -> bool {
    if pool.min_values.is_empty() || pool.min_values_policy == MinValuesPolicy::BestEffort {
        return true;
    }
    let zone = claim.zone.as_ref();
    let remaining: Vec<usize> = claim
        .options
        .iter()
        .copied()
        .filter(|&o| option_fits(pool, o, spec, requests, zone))
        .collect();
    min_values::satisfied(pool, &claim.relaxed_min_values, &remaining, zone)
}

/// Checks that each pod of `moved` finds a place whenever a simulation tries it, in any state
/// the simulation reaches, provided it records no placement in `tracker`.
///
/// Such a pod has no inter-pod constraints and nothing for Karpenter to relax, so it is tried
/// with its own spec, and some pool without a CPU or memory limit can open a NodeClaim for it
/// alone now. That stays true for the whole simulation, for four reasons. The pool's zone
/// choice for an unconstrained pod reads no counts. The tracker's anti-affinity checks read
/// only placements, which do not change. A pool's `nodes` limit does not change within a
/// simulation, and a pool without a CPU or memory limit admits every option. So when the
/// existing nodes and open NodeClaims cannot take the pod, a new NodeClaim can.
fn moved_pods_always_land(
    moved: &[SimPod<'_>],
    pools: &[ResolvedPool],
    remaining_limits: &[RemainingLimits],
    tracker: &TopologyTracker<'_>,
    cache: &mut LonePodCache,
    preferences: &Preferences,
) -> bool {
    if tracker.has_placed_anti_affinity() {
        return false;
    }
    let mut previous: Option<&Arc<PodSpec>> = None;
    moved.iter().all(|pod| {
        // Pods of one spec mostly sit next to each other, and the check depends only on the spec.
        if previous.is_some_and(|spec| Arc::ptr_eq(spec, pod.spec)) {
            return true;
        }
        previous = Some(pod.spec);
        let spec = &pod.spec;
        if spec.has_inter_pod_constraints() || preferences.applies_to(spec) {
            return false;
        }
        // A spec without inter-pod constraints gets the same options in every simulation that
        // starts from these limits: with no placed anti-affinity, `NewClaim::options` reads the
        // tracker only for a zone spread, which such a spec lacks. The cache's simulations all
        // start from the same limits, so the check is kept per spec.
        let key = Arc::as_ptr(spec);
        if let Some(&(_, opens)) = cache.opens_alone.iter().find(|(s, _)| *s == key) {
            return opens;
        }
        let opens = pools.iter().enumerate().any(|(index, pool)| {
            let new_claim = NewClaim {
                pool_index: index,
                pool,
                limits: &remaining_limits[index],
                hostname: "nodeclaim",
            };
            remaining_limits[index].resources.is_none()
                && new_claim.options(spec, true, tracker, cache).is_some()
        });
        cache.opens_alone.push((key, opens));
        opens
    })
}

/// Checks whether a simulation of `pods` and `moved` records its placements in the topology
/// tracker. Placements matter to later pods only through inter-pod constraints, so when no pod
/// to place has any, recording them would not change any result of the tracker.
fn records_placements(pods: &SortedPods<'_>, moved: &[SimPod<'_>]) -> bool {
    pods.inter_pod_constraints || moved.iter().any(|p| p.spec.has_inter_pod_constraints())
}

/// Returns the preferences that the pools' taints make Karpenter relax.
pub(super) fn pool_preferences(pools: &[ResolvedPool]) -> Preferences {
    Preferences::for_taints(pools.iter().flat_map(|p| p.config.taints.iter()))
}

/// Checks whether [`solve`] on `pods` and `moved` ends as soon as one of `moved` lands on an
/// uninitialized node, which it does when none of `moved` can fail to find a place
/// ([`moved_pods_always_land`]) and the simulation records no placement. `remaining_limits`
/// and `tracker` must be as `solve` gets them.
///
/// A simulation records no placement when no pod has inter-pod constraints
/// ([`records_placements`]). `moved_pods_always_land` fails for a moved pod with them, so only
/// the pending pods are checked here.
fn stops_at_moved_pod(
    pods: &SortedPods<'_>,
    moved: &[SimPod<'_>],
    pools: &[ResolvedPool],
    remaining_limits: &[RemainingLimits],
    tracker: &TopologyTracker<'_>,
    lone_pods: &mut LonePodCache,
) -> bool {
    !moved.is_empty()
        && !pods.inter_pod_constraints
        && moved_pods_always_land(
            moved,
            pools,
            remaining_limits,
            tracker,
            lone_pods,
            &pool_preferences(pools),
        )
}

/// Checks that the first `count` of `pods` meet the conditions of [`PendingCheckpoint`], in a
/// simulation that moves no pods and so records no placements when no pod has inter-pod
/// constraints.
fn checkpoint_holds(
    pods: &SortedPods<'_>,
    count: usize,
    moved: &[SimPod<'_>],
    pools: &[ResolvedPool],
    tracker: &TopologyTracker<'_>,
) -> bool {
    let preferences = pool_preferences(pools);
    moved.is_empty()
        && !records_placements(pods, moved)
        && count <= pods.pods.len()
        && pods.pods[..count].iter().all(|pod| {
            pod.spec.host_ports.is_empty()
                && !tracker.constrained(pod.spec)
                && !preferences.applies_to(pod.spec)
        })
}

/// Checks that a simulation of `pods` and `removal` reaches `checkpoint`. The checkpoint's
/// pending pods must all come before the first moved pod, and none of them may have landed on
/// an excluded node. The caller must read no list of placements on existing nodes, because
/// the checkpoint does not keep one.
fn resumes_at(checkpoint: &PendingCheckpoint, pods: &SortedPods<'_>, removal: Removal<'_>) -> bool {
    let ahead = removal.moved.first().map_or(pods.pods.len(), |first| {
        pods.pods
            .partition_point(|pod| placement_order(pod, first).is_lt())
    });
    removal.no_existing_list
        && checkpoint.pending <= ahead
        && !removal
            .excluded
            .iter()
            .any(|id| checkpoint.used_nodes.binary_search(id).is_ok())
}

/// Runs the simulation for `pods` and `removal.moved` against `nodes` and the pools.
///
/// `nodes` must be in the order of [`sort_nodes`]; the nodes in `removal.excluded` take no
/// pods. The simulation works on `nodes` in place and leaves them as it found them.
///
/// The simulation ends early, with [`Placement::moved_pod_on_uninitialized`] set, when one of
/// `removal.moved` lands on an uninitialized node and none of them can fail to find a place.
///
/// `cache` must be new, or come from earlier simulations on `nodes` in the state they are in now
/// that started from the same `remaining_limits`. The checkpoint of [`Removal::resume_from`]
/// must come from such a simulation of `pods` that excluded only nodes that this one excludes.
///
/// `remaining_limits` contains each pool's `spec.limits` minus its existing nodes. A new
/// NodeClaim only keeps types whose capacity fits, and then takes the largest capacity among
/// its options off the remainder, as Karpenter does (pessimistically). A pool whose `nodes`
/// limit is used up opens no NodeClaim.
pub(crate) fn solve(
    pods: &SortedPods<'_>,
    nodes: &mut [SimNode<'_>],
    removal: Removal<'_>,
    pools: &[ResolvedPool],
    remaining_limits: &mut [RemainingLimits],
    tracker: &mut TopologyTracker<'_>,
    cache: &mut SimulationCache,
) -> Placement {
    debug_assert!(
        removal
            .moved
            .is_sorted_by(|a, b| placement_order(a, b).is_le())
    );
    if let Some(count) = removal.checkpoint_after
        && !checkpoint_holds(pods, count, removal.moved, pools, tracker)
    {
        return Placement::default();
    }
    // The cache lists each spec against the nodes as they are now, before any placement.
    // Listing a spec again changes nothing, so only the first pod of each run of one spec in
    // `pods` is looked at, and a moved pod with the same spec as the one before it is skipped.
    let run_starts = pods.spec_runs.iter().map(|&i| &pods.pods[i]);
    let mut previous: Option<&Arc<PodSpec>> = None;
    for pod in removal.moved.iter().chain(run_starts) {
        if previous.is_some_and(|spec| Arc::ptr_eq(spec, pod.spec)) {
            continue;
        }
        previous = Some(pod.spec);
        if pod.spec.host_ports.is_empty() && !tracker.constrained(pod.spec) {
            cache.add(pod.spec, nodes);
        }
    }
    // The node lists stay as they are for the rest of the simulation, which adds only options
    // of new NodeClaims to the cache.
    let SimulationCache {
        fits: node_lists,
        lone_pods,
        scratch,
    } = cache;
    let node_lists: &BTreeMap<*const PodSpec, Vec<usize>> = node_lists;
    // A pod that lands is not tried again, so each pod adds at most one entry to the two lists
    // below. Sizing them for every pod up front saves their growth by copying.
    let max_placements = removal.moved.len() + pods.pods.len();
    // Free capacity and ports of `nodes` as they were, restored before returning.
    let mut undo = std::mem::take(&mut scratch.undo);
    undo.clear();
    undo.reserve(max_placements);

    let mut placement = Placement {
        on_existing: if removal.no_existing_list {
            Vec::new()
        } else {
            Vec::with_capacity(max_placements)
        },
        ..Placement::default()
    };
    // For a spec without host ports or inter-pod constraints, the nodes that could not take one
    // of its pods cannot take a later one either (free capacity only shrinks), so the first-fit
    // search resumes at the node that took the previous pod of the spec: the same node as a
    // scan from the start, found without rescanning. For a spec in `cache`, it stores the
    // position in the spec's list, which saves a binary search per pod, and the list itself,
    // which saves a map lookup per pod.
    // A simulation places pods of a few specs, so a list searched from the front finds a spec
    // faster than a map. Its order never matters, because it is only looked up.
    let mut resume: Vec<ResumePoint<'_>> = Vec::new();
    // The open NodeClaims in the order a pod tries to join them (by pod count, then index), kept
    // up to date as pods join instead of sorted per pod.
    let mut claim_order = std::mem::take(&mut scratch.claim_order);
    claim_order.clear();
    // Per open NodeClaim, each quantity's maximum over the room of its options. Requests that
    // exceed it fit none of the options, so the NodeClaim is passed over without a scan.
    let mut claim_room = std::mem::take(&mut scratch.claim_room);
    claim_room.clear();
    let max_room = |pool: &ResolvedPool, options: &[usize]| {
        options
            .iter()
            .fold(Resources::ZERO, |room, &o| room.max(&pool.options[o].room))
    };
    let stop_on_moved_pod = stops_at_moved_pod(
        pods,
        removal.moved,
        pools,
        remaining_limits,
        tracker,
        lone_pods,
    );
    // A simulation that stops at a moved pod has no pod with inter-pod constraints, so it
    // records nothing, and the pods need no second look.
    let record = !stop_on_moved_pod && records_placements(pods, removal.moved);
    let preferences = pool_preferences(pools);
    let start = removal
        .resume_from
        .filter(|checkpoint| !record && resumes_at(checkpoint, pods, removal));
    if let Some(checkpoint) = start {
        for &(index, requests) in &checkpoint.node_requests {
            let node = &mut nodes[index];
            undo.push((index, node.free, node.ports.len()));
            node.free -= requests;
        }
        placement.claims.clone_from(&checkpoint.claims);
        claim_order.extend_from_slice(&checkpoint.claim_order);
        claim_room.extend_from_slice(&checkpoint.claim_room);
        remaining_limits.copy_from_slice(&checkpoint.limits);
        resume.extend(checkpoint.resume.iter().map(|&(spec, at)| ResumePoint {
            spec,
            at,
            list: node_lists.get(&spec).map(Vec::as_slice),
        }));
    }
    // Places one pod and returns where, or returns `None`. `own_spec` is false for the specs
    // built for a relaxed pod, whose addresses must not key the resume cache.
    let mut try_add = |pod: &SimPod<'_>, own_spec: bool| -> Option<Landing> {
        // 1. Existing and in-flight nodes.
        let key = Arc::as_ptr(pod.spec);
        let cacheable =
            own_spec && pod.spec.host_ports.is_empty() && !tracker.constrained(pod.spec);
        let point = cacheable.then(|| {
            let slot = match resume.iter().position(|point| point.spec == key) {
                Some(slot) => slot,
                None => {
                    resume.push(ResumePoint {
                        spec: key,
                        at: 0,
                        list: node_lists.get(&key).map(Vec::as_slice),
                    });
                    resume.len() - 1
                }
            };
            &mut resume[slot]
        });
        let start = point.as_ref().map_or(0, |point| point.at);
        let mut fits = |index: usize| {
            let n = &nodes[index];
            pod.spec.requests.fits_in(&n.free)
                && !removal.excluded.contains(&n.node.id)
                && passes_static_filters(pod.spec, n.node)
                && tolerates_every(&pod.spec.tolerations, &n.node.taints)
                && ports_free(pod.spec, &n.ports)
                && tracker.allows_existing(pod.spec, n.node)
        };
        // With a listed spec, `start` and the resume point are positions in its list, otherwise
        // node indexes. The cache gains no spec during a solve, so each key keeps one kind.
        let listed = point.as_ref().and_then(|point| point.list);
        let resume_at = point.map(|point| &mut point.at);
        let found = match listed {
            Some(list) => {
                // The list holds only nodes that pass the static filters and taints for the
                // spec. A listed spec requests no host port and has no inter-pod constraints, so
                // the port and topology checks pass too. Only free capacity and the excluded
                // nodes are left to check.
                let fits_listed = |index: usize| {
                    let n = &nodes[index];
                    pod.spec.requests.fits_in(&n.free) && !removal.excluded.contains(&n.node.id)
                };
                let position = (start..list.len()).find(|&position| fits_listed(list[position]));
                if let Some(at) = resume_at {
                    *at = position.unwrap_or(list.len());
                }
                position.map(|position| list[position])
            }
            None => {
                let found = (start..nodes.len()).find(|&index| fits(index));
                if let Some(at) = resume_at {
                    *at = found.unwrap_or(nodes.len());
                }
                found
            }
        };
        if let Some(index) = found {
            let slot = &mut nodes[index];
            undo.push((index, slot.free, slot.ports.len()));
            slot.free -= pod.spec.requests;
            slot.ports.extend(pod.spec.host_ports.iter().copied());
            if record {
                tracker.place(pod.spec, Domain::of(slot.node));
            }
            if !removal.no_existing_list {
                placement.on_existing.push((pod.id, slot.node.id));
            }
            return Some(Landing::Node {
                initialized: slot.initialized,
            });
        }

        // 2. NodeClaims opened in this simulation, fewest pods first.
        let plain_spec = pod.spec.host_ports.is_empty()
            && pod.spec.node_selector.is_empty()
            && pod.spec.node_affinity.required.is_empty();
        // Options are price-ordered, so the larger ones that are likelier to fit come last; the
        // search runs from there.
        let joined = claim_order.iter().position(|&i| {
            let claim = &placement.claims[i];
            let pool = &pools[claim.pool];
            let requests = claim.requests + pod.spec.requests;
            requests.fits_in(&claim_room[i])
                && tolerates_every(&pod.spec.tolerations, &pool.config.taints)
                && ports_free(pod.spec, &claim.ports)
                && claim.options.iter().rev().any(|&o| {
                    // For a spec without host ports, node selector or required node affinity,
                    // `option_fits` checks only the resources.
                    if plain_spec {
                        requests.fits_in(&pool.options[o].room)
                    } else {
                        option_fits(pool, o, pod.spec, &requests, claim.zone.as_ref())
                    }
                })
                && keeps_min_values(pool, claim, pod.spec, &requests)
                && (!record || tracker.allows_simulated(pod.spec, &claim.domain()))
        });
        if let Some(position) = joined {
            let i = claim_order[position];
            let claim = &mut placement.claims[i];
            let pool = &pools[claim.pool];
            let requests = claim.requests + pod.spec.requests;
            if pod.spec.node_selector.is_empty()
                && pod.spec.node_affinity.required.is_empty()
                && pod.spec.host_ports.is_empty()
                && pool.min_values.is_empty()
            {
                // Only the resource check can drop options; it is applied once at the end
                // (`settle_options`), which keeps the same options since requests only grow.
            } else {
                let zone = claim.zone.clone();
                claim
                    .options
                    .retain(|&o| option_fits(pool, o, pod.spec, &requests, zone.as_ref()));
                claim_room[i] = max_room(pool, &claim.options);
                if pool.min_values_policy == MinValuesPolicy::BestEffort
                    && !pool.min_values.is_empty()
                {
                    claim.relaxed_min_values = min_values::relax(
                        pool,
                        &claim.relaxed_min_values,
                        &claim.options,
                        zone.as_ref(),
                    );
                }
            }
            claim.requests = requests;
            // A pod that cannot pin a zone leaves the NodeClaim's zone unset, so the zone choice
            // is skipped for it.
            if claim.zone.is_none() && may_pin_zone(pod.spec) {
                claim.zone = new_node_zone(pod.spec, &pool.zones, tracker).flatten();
            }
            claim.ports.extend(pod.spec.host_ports.iter().copied());
            claim.pods.push(pod.id);
            if record {
                tracker.place(pod.spec, claim.domain());
            }
            // The NodeClaim has one more pod, so it moves past those that now have fewer pods, or
            // as many with a lower index.
            let key = |i: usize| (placement.claims[i].pods.len(), i);
            let mut at = position;
            while at + 1 < claim_order.len() && key(claim_order[at + 1]) < key(i) {
                claim_order.swap(at, at + 1);
                at += 1;
            }
            return Some(Landing::NodeClaim);
        }

        // 3. A new NodeClaim from the first pool, in weight order, that can hold the pod alone.
        let hostname = format!("nodeclaim-{}", placement.claims.len());
        let opened = pools.iter().enumerate().find_map(|(index, pool)| {
            let new_claim = NewClaim {
                pool_index: index,
                pool,
                limits: &remaining_limits[index],
                hostname: &hostname,
            };
            let (options, zone) = new_claim.options(pod.spec, own_spec, tracker, lone_pods)?;
            Some((index, options.into_owned(), zone))
        });
        match opened {
            Some((pool, options, zone)) => {
                remaining_limits[pool]
                    .subtract_max(options.iter().map(|&i| pools[pool].options[i].capacity));
                let resolved = &pools[pool];
                let relaxed_min_values = if resolved.min_values_policy
                    == MinValuesPolicy::BestEffort
                    && !resolved.min_values.is_empty()
                {
                    min_values::relax(resolved, &[], &options, zone.as_ref())
                } else {
                    Vec::new()
                };
                // A NodeClaim takes at most its largest option's pod count, and at most every
                // pod of the simulation. Reserving that up front saves growing the list by
                // copying as pods join. The capacity changes no result.
                let max_pods = usize::try_from(pools[pool].max_room.pods)
                    .unwrap_or(1)
                    .clamp(1, max_placements);
                let mut claim_pods = Vec::with_capacity(max_pods);
                claim_pods.push(pod.id);
                let claim = SimClaim {
                    pool,
                    options,
                    zone,
                    hostname,
                    ports: pod.spec.host_ports.clone(),
                    pods: claim_pods,
                    requests: pod.spec.requests,
                    relaxed_min_values,
                };
                if record {
                    tracker.place(pod.spec, claim.domain());
                }
                // A new NodeClaim has one pod and the highest index.
                let index = placement.claims.len();
                let at = claim_order.partition_point(|&i| placement.claims[i].pods.len() <= 1);
                claim_order.insert(at, index);
                // Its options are some of the pool's, so the pool's maximum bounds them.
                claim_room.push(pools[pool].max_room);
                placement.claims.push(claim);
                Some(Landing::NodeClaim)
            }
            None => None,
        }
    };

    let ignore_preferences = pools
        .first()
        .is_some_and(|p| p.preference_policy == super::PreferencePolicy::Ignore);
    // The specs built for relaxed pods stay alive until the end, so that no later spec reuses
    // an address that the tracker keys a cache by.
    let mut relaxed_specs: Vec<Arc<PodSpec>> = Vec::new();
    // Karpenter's queue: a pod that finds no place goes to the back, and the simulation ends
    // when a pod comes round again with no other pod placed since (`Queue.Pop`).
    let mut queue = PodQueue {
        first: removal.moved,
        second: &pods.pods[start.map_or(0, PendingCheckpoint::pending)..],
        back: VecDeque::new(),
    };
    let mut requeued_at: BTreeMap<PodId, usize> = BTreeMap::new();
    // The checkpoint's queue lengths leave out the moved pods, which are all still queued.
    for &(index, length) in start.iter().flat_map(|checkpoint| &checkpoint.requeued) {
        let pod = &pods.pods[index];
        queue.push_back(pod, false);
        requeued_at.insert(pod.id, length + removal.moved.len());
    }
    // With `checkpoint_after`, `moved` is empty, so the first pods to leave the queue are the
    // pending pods in order. The list records those that go to the back.
    let mut popped = 0;
    let mut requeued = Vec::new();
    // The last spec checked for preferences, and whether they apply to it.
    let mut last_checked: Option<(&Arc<PodSpec>, bool)> = None;
    let mut stopped = false;
    let mut moved_landed_uninitialized = false;
    // The pod that came round again with no other pod placed since. It heads the failed pods.
    let mut first_failed = None;
    while removal.checkpoint_after != Some(popped) {
        let Some((original, moved)) = queue.pop_front() else {
            break;
        };
        popped += 1;
        if requeued_at.get(&original.id) == Some(&(queue.len() + 1)) {
            first_failed = Some(original);
            break;
        }
        // A pod with preferences is tried with them as requirements, then with one dropped at
        // a time until it fits or none is left (`trySchedule`).
        // Under `--preference-policy=Ignore` the preferences are gone before the first try; a
        // pod's several required node-affinity terms and PreferNoSchedule taints still relax.
        // Pods of one spec mostly come one after another, and the check depends only on the spec.
        if !last_checked
            .as_ref()
            .is_some_and(|(spec, _)| Arc::ptr_eq(spec, original.spec))
        {
            last_checked = Some((original.spec, preferences.applies_to(original.spec)));
        }
        let applies = last_checked.as_ref().is_some_and(|(_, applies)| *applies);
        let mut relaxed = applies.then(|| {
            if ignore_preferences {
                preferences::without_preferences(original.spec)
            } else {
                (**original.spec).clone()
            }
        });
        let placed = loop {
            let strict;
            let strict_pod;
            let pod = match &relaxed {
                None => original,
                Some(spec) => {
                    strict = Arc::new(preferences::as_required(spec));
                    relaxed_specs.push(strict.clone());
                    strict_pod = SimPod {
                        id: original.id,
                        spec: &strict,
                        created: original.created,
                    };
                    &strict_pod
                }
            };
            if let Some(landing) = try_add(pod, relaxed.is_none()) {
                break Some(landing);
            }
            let relaxed_further = relaxed.as_mut().is_some_and(|spec| preferences.relax(spec));
            if !relaxed_further {
                break None;
            }
        };
        match placed {
            None => {
                let id = original.id;
                queue.push_back(original, moved);
                requeued_at.insert(id, queue.len());
                if removal.checkpoint_after.is_some() {
                    requeued.push((popped - 1, queue.len()));
                }
            }
            // No moved pod can fail, so once one is on an uninitialized node, the pods still
            // queued cannot change the caller's verdict.
            Some(Landing::Node { initialized: false }) if moved => {
                moved_landed_uninitialized = true;
                if stop_on_moved_pod {
                    stopped = true;
                    break;
                }
            }
            Some(_) => {}
        }
    }
    placement.failed = if stopped || removal.checkpoint_after.is_some() {
        Vec::new()
    } else {
        let rest = std::iter::from_fn(|| queue.pop_front()).map(|(pod, _)| pod);
        first_failed.into_iter().chain(rest).map(|p| p.id).collect()
    };
    placement.moved_pod_on_uninitialized = stopped;
    placement.moved_pod_landed_uninitialized = moved_landed_uninitialized;
    drop(relaxed_specs);
    // Each node's free capacity at the end, for the checkpoint.
    let mut final_free: Vec<(usize, Resources)> = Vec::new();
    if removal.checkpoint_after.is_some() {
        final_free.extend(undo.iter().map(|&(index, _, _)| (index, nodes[index].free)));
        final_free.sort_unstable_by_key(|&(index, _)| index);
        final_free.dedup_by_key(|&mut (index, _)| index);
    }
    for &(index, free, ports) in undo.iter().rev() {
        nodes[index].free = free;
        nodes[index].ports.truncate(ports);
    }
    if let Some(pending) = removal.checkpoint_after {
        let mut used_nodes: Vec<NodeId> = final_free
            .iter()
            .map(|&(index, _)| nodes[index].node.id)
            .collect();
        used_nodes.sort_unstable();
        placement.checkpoint = Some(PendingCheckpoint {
            pending,
            node_requests: final_free
                .iter()
                .map(|&(index, free)| (index, nodes[index].free - free))
                .collect(),
            used_nodes,
            claims: std::mem::take(&mut placement.claims),
            claim_order: claim_order.clone(),
            claim_room: claim_room.clone(),
            limits: remaining_limits.to_vec(),
            resume: resume.iter().map(|point| (point.spec, point.at)).collect(),
            requeued,
        });
    }
    scratch.undo = undo;
    scratch.claim_order = claim_order;
    scratch.claim_room = claim_room;
    // The caller rejects a stopped simulation without reading its NodeClaims, so their options
    // are settled only when the simulation ran to the end.
    if !stopped && !removal.unsettled {
        for claim in &mut placement.claims {
            claim.settle_options(&pools[claim.pool]);
        }
    }
    placement
}
