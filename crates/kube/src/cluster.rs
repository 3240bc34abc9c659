//! The cluster's mutable state: nodes, pods and the scheduling queue.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound::{Excluded, Unbounded};
use std::sync::Arc;

use autoscale_sim_cloud::{InstanceTypeIndex, Price, Resources};
use autoscale_sim_engine::SimTime;

use crate::node_table::{NodeTable, ReadyTotals};
use crate::objects::{
    CapacityType, DaemonSet, LABEL_CAPACITY_TYPE, LABEL_HOSTNAME, LABEL_ZONE, Node, NodeId,
    NodeState, Owner, Pod, PodDisruptionBudget, PodId, PodPhase, PodSpec, Taint, daemon_overhead,
};
use crate::pod_table::PodTable;
use crate::verdicts::VerdictCache;

/// Scheduling-queue key: higher priority first, then older pods, then lower id
/// (kube-scheduler's default `PrioritySort` queue order).
type QueueKey = (Reverse<i32>, SimTime, PodId);

/// The spec and Unschedulable mark of a queued pod, kept in the queue so that a scheduling
/// pass need not look the pod up.
#[derive(Clone, Debug)]
struct QueuedPod {
    spec: Arc<PodSpec>,
    /// The pod's `unschedulable` mark.
    unschedulable: bool,
}

/// A position in the scheduling queue: the key of the last pod visited, or the front.
///
/// A walk by cursor survives changes to the cluster between steps, where an iterator would
/// borrow the cluster for the whole walk.
#[derive(Clone, Copy, Debug, Default)]
pub struct QueueCursor(Option<QueueKey>);

/// Address of a spec's `Arc`, the key of [`Cluster`]'s index of queued pods per spec.
fn spec_address(spec: &Arc<PodSpec>) -> usize {
    Arc::as_ptr(spec) as usize
}

/// The fields the world supplies to create a node.
#[derive(Clone, Debug)]
pub struct NewNode {
    /// Node group or NodePool that launched it.
    pub owner: String,
    /// Instance type index in the run's catalog.
    pub instance_type: InstanceTypeIndex,
    /// Instance type name, for the node's name and labels.
    pub instance_type_name: String,
    /// Capacity type.
    pub capacity_type: CapacityType,
    /// Availability zone.
    pub zone: String,
    /// Billed price per hour.
    pub price: Price,
    /// Labels besides the ones every node gets (hostname, zone, capacity type).
    pub labels: BTreeMap<String, String>,
    /// Taints.
    pub taints: Vec<Taint>,
    /// Allocatable resources.
    pub allocatable: Resources,
}

/// Names of the workloads that own pods, by owner index.
#[derive(Clone, Debug, Default)]
struct OwnerNames {
    deployments: Vec<String>,
    jobs: Vec<String>,
}

/// Nodes, pods and the scheduling queue.
///
/// Every collection is ordered by id, so iteration never depends on hashing.
#[derive(Clone, Debug, Default)]
pub struct Cluster {
    nodes: NodeTable,
    pods: PodTable,
    queue: BTreeMap<QueueKey, QueuedPod>,
    /// Keys of the queued pods not marked Unschedulable, so that a scheduling pass can reach
    /// them without walking the marked ones.
    unmarked: BTreeSet<QueueKey>,
    /// Keys of the queued pods per spec, by the address of the spec's `Arc`, so that a
    /// scheduling pass can reach the pods of one spec without walking the others. An entry
    /// keeps its spec alive, so no other spec can take its address while it exists.
    queued_by_spec: BTreeMap<usize, (Arc<PodSpec>, BTreeSet<QueueKey>)>,
    daemonsets: Vec<DaemonSet>,
    pdbs: Vec<PodDisruptionBudget>,
    /// Names of the Deployments (and StatefulSets) and Jobs, by the index their pods' [`Owner`]
    /// holds, for [`Cluster::pod_name`]. Shared, since a clone never changes them.
    owner_names: Arc<OwnerNames>,
    next_pod: u64,
    next_node: u64,
    /// The lowest priority of any pod ever created; `None` before the first pod.
    lowest_priority: Option<i32>,
    generation: u64,
    /// Pending pods by the node they are nominated to after a preemption.
    nominated: BTreeMap<NodeId, BTreeSet<PodId>>,
    /// Bound pods with required pod anti-affinity, kept up to date by `bind` and `delete_pod` so
    /// that [`Cluster::has_required_anti_affinity`] does not scan the pods.
    bound_with_anti_affinity: usize,
    /// Terminating pods per node, for the nodes that have any, kept up to date by
    /// `begin_termination` and `delete_pod` so that [`Cluster::has_active_pods`] does not look
    /// at the pods.
    terminating_on: BTreeMap<NodeId, usize>,
    /// The scheduler's filter and score results per spec and node, each valid while its node
    /// keeps its version. A scheduling pass takes them out and puts them back.
    pub(crate) verdicts: VerdictCache,
}

impl Cluster {
    /// Creates an empty cluster whose nodes run `daemonsets`.
    pub fn new(daemonsets: Vec<DaemonSet>) -> Self {
        Cluster {
            daemonsets,
            ..Default::default()
        }
    }

    /// Sets the names of the workloads that own pods: `deployments` by the index of
    /// [`Owner::Deployment`] and [`Owner::StatefulSet`], `jobs` by that of [`Owner::Job`].
    pub fn set_owner_names(&mut self, deployments: Vec<String>, jobs: Vec<String>) {
        self.owner_names = Arc::new(OwnerNames { deployments, jobs });
    }

    /// Names a pod as the decision log does: after its Deployment or Job, as `api-pod-17`,
    /// after its StatefulSet and ordinal, as `db-2`, or `pod-17` for a bare pod or an owner
    /// without a name.
    pub fn pod_name(&self, pod: PodId) -> String {
        let names = &self.owner_names;
        let named = |list: &Vec<String>, index: u32| list.get(index as usize).cloned();
        match self.pod(pod).map(|p| p.owner) {
            Some(Owner::Deployment(index)) => {
                named(&names.deployments, index).map(|name| format!("{name}-{pod}"))
            }
            Some(Owner::StatefulSet { set, ordinal }) => {
                named(&names.deployments, set).map(|name| format!("{name}-{ordinal}"))
            }
            Some(Owner::Job(index)) => {
                named(&names.jobs, index).map(|name| format!("{name}-{pod}"))
            }
            _ => None,
        }
        .unwrap_or_else(|| pod.to_string())
    }

    /// Sets the cluster's PodDisruptionBudgets.
    pub fn set_pdbs(&mut self, pdbs: Vec<PodDisruptionBudget>) {
        self.pdbs = pdbs;
    }

    /// PodDisruptionBudgets.
    pub fn pdbs(&self) -> &[PodDisruptionBudget] {
        &self.pdbs
    }

    /// Disruptions each PodDisruptionBudget allows now, in `pdbs()` order: covered pods that are
    /// not terminating are expected, and the Running ones are healthy.
    pub fn disruptions_allowed(&self) -> Vec<i64> {
        self.pdbs
            .iter()
            .map(|pdb| {
                let covered = self
                    .pods
                    .values()
                    .filter(|p| p.phase != PodPhase::Terminating && pdb.covers(&p.spec));
                let (expected, healthy) = covered.fold((0, 0), |(e, h), p| {
                    (e + 1, h + i64::from(p.phase == PodPhase::Running))
                });
                pdb.disruptions_allowed(expected, healthy)
            })
            .collect()
    }

    /// Indexes of the PodDisruptionBudgets covering a pod of `spec`.
    pub fn pdbs_covering(&self, spec: &PodSpec) -> Vec<usize> {
        self.pdbs
            .iter()
            .enumerate()
            .filter(|(_, pdb)| pdb.covers(spec))
            .map(|(i, _)| i)
            .collect()
    }

    /// Checks whether the Eviction API would evict `pod` now: no covering budget is at zero and
    /// at most one budget covers it (the API rejects pods covered by several).
    pub fn eviction_allowed(&self, pod: PodId) -> bool {
        let Some(pod) = self.pods.get(pod) else {
            return false;
        };
        let covering = self.pdbs_covering(&pod.spec);
        match covering.as_slice() {
            [] => true,
            [index] => self.disruptions_allowed()[*index] >= 1,
            _ => false,
        }
    }

    /// Starts a pod's termination: it stays on its node, holding its requests, until
    /// [`Cluster::delete_pod`] removes it when its grace period ends. A Pending pod is deleted at once.
    pub fn begin_termination(&mut self, pod_id: PodId, now: SimTime) -> Option<Pod> {
        let pod = self.pods.get_mut(pod_id)?;
        let Some(node_id) = pod.node else {
            return self.delete_pod(pod_id, now);
        };
        if pod.phase != PodPhase::Terminating {
            self.generation += 1;
            pod.phase = PodPhase::Terminating;
            *self.terminating_on.entry(node_id).or_default() += 1;
            if let Some(mut node) = self.nodes.get_mut(node_id) {
                node.last_pod_event = now;
                node.pod_changes += 1;
            }
        }
        Some(pod.clone())
    }

    /// Starts the termination of a pod that kube-scheduler preempted, as
    /// [`Cluster::begin_termination`] does, and marks it preempted.
    pub fn begin_preemption(&mut self, pod_id: PodId, now: SimTime) -> Option<Pod> {
        if let Some(pod) = self.pods.get_mut(pod_id) {
            // `begin_termination` counts the change unless the pod is already terminating.
            if !pod.preempted
                && pod.phase == PodPhase::Terminating
                && let Some(mut node) = pod.node.and_then(|id| self.nodes.get_mut(id))
            {
                node.pod_changes += 1;
            }
            pod.preempted = true;
        }
        self.begin_termination(pod_id, now)
    }

    /// Pods bound to `node` that are not terminating, in id order.
    pub fn active_pods_on(&self, node: NodeId) -> impl Iterator<Item = &Pod> + '_ {
        self.nodes
            .get(node)
            .into_iter()
            .flat_map(|n| n.pods.iter())
            .filter_map(|id| self.pods.get(*id))
            .filter(|p| p.phase != PodPhase::Terminating)
    }

    /// Checks whether `node` has a bound pod that is not terminating, as
    /// `active_pods_on(node.id).next().is_some()` does, without looking at the pods.
    pub fn has_active_pods(&self, node: &Node) -> bool {
        let terminating = self.terminating_on.get(&node.id).copied().unwrap_or(0);
        node.pods.len() > terminating
    }

    /// DaemonSets that run on the cluster's nodes.
    pub fn daemonsets(&self) -> &[DaemonSet] {
        &self.daemonsets
    }

    /// Adds a node in the Launching state and returns its id.
    pub fn add_node(&mut self, new: NewNode, now: SimTime) -> NodeId {
        self.generation += 1;
        let id = NodeId(self.next_node);
        self.next_node += 1;
        let name = format!("{}-{}", new.owner, id.0);
        let mut labels = new.labels;
        labels.insert(LABEL_HOSTNAME.to_string(), name.clone());
        labels.insert(LABEL_ZONE.to_string(), new.zone.clone());
        labels.insert(
            LABEL_CAPACITY_TYPE.to_string(),
            new.capacity_type.label().to_string(),
        );
        let daemon_estimate = daemon_overhead(&self.daemonsets, &labels, &new.taints);
        let daemon_requests = self
            .daemonsets
            .iter()
            .filter(|ds| ds.runs_on(&labels, &new.taints))
            .map(|ds| ds.node_requests)
            .sum();
        let daemon_host_ports = self
            .daemonsets
            .iter()
            .filter(|ds| ds.runs_on(&labels, &new.taints))
            .flat_map(|ds| ds.spec.host_ports.iter().copied())
            .collect();
        let node = Node {
            id,
            name,
            owner: new.owner,
            instance_type: new.instance_type,
            capacity_type: new.capacity_type,
            zone: new.zone,
            price: new.price,
            labels,
            taints: new.taints,
            allocatable: new.allocatable,
            daemon_requests,
            daemon_estimate,
            daemon_host_ports,
            pod_requests: Resources::ZERO,
            pods: BTreeSet::new(),
            pod_changes: 0,
            state: NodeState::Launching,
            cordoned: false,
            launched_at: now,
            ready_at: None,
            last_pod_event: now,
            annotations: BTreeMap::new(),
            not_ready_since: None,
        };
        self.nodes.push(node);
        id
    }

    /// Checks whether any bound pod has required pod anti-affinity, which every other pod's
    /// scheduling must then respect.
    pub fn has_required_anti_affinity(&self) -> bool {
        self.bound_with_anti_affinity > 0
    }

    /// Returns a counter that grows with every change to nodes, bindings or pods (not with pod phase
    /// changes), so that a policy can tell whether anything changed since it last looked.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The id the next added node will get.
    pub fn next_node_id(&self) -> NodeId {
        NodeId(self.next_node)
    }

    /// Marks a Launching node Ready.
    pub fn mark_ready(&mut self, id: NodeId, now: SimTime) {
        self.generation += 1;
        if let Some(mut node) = self.nodes.get_mut(id)
            && node.state == NodeState::Launching
        {
            node.state = NodeState::Ready;
            node.ready_at = Some(now);
            node.last_pod_event = now;
        }
    }

    /// Sets the node's Ready condition: false since `since`, or true again with `None`. A
    /// node that is not Ready takes no new pods.
    pub fn set_node_not_ready(&mut self, id: NodeId, since: Option<SimTime>) {
        self.generation += 1;
        if let Some(mut node) = self.nodes.get_mut(id) {
            node.not_ready_since = since;
        }
    }

    /// Sets an annotation on a node.
    pub fn annotate_node(&mut self, id: NodeId, key: &str, value: &str) {
        self.generation += 1;
        if let Some(mut node) = self.nodes.get_mut(id) {
            node.annotations.insert(key.to_string(), value.to_string());
        }
    }

    /// Cordons a node and marks it Deleting; the scheduler stops using it.
    pub fn mark_deleting(&mut self, id: NodeId) {
        self.generation += 1;
        if let Some(mut node) = self.nodes.get_mut(id) {
            node.state = NodeState::Deleting;
            node.cordoned = true;
        }
    }

    /// Takes a Deleting node back into service: Ready (or Launching if it never became Ready)
    /// and uncordoned, after a deletion gave up.
    pub fn cancel_deletion(&mut self, id: NodeId) {
        self.generation += 1;
        if let Some(mut node) = self.nodes.get_mut(id) {
            node.state = if node.ready_at.is_some() {
                NodeState::Ready
            } else {
                NodeState::Launching
            };
            node.cordoned = false;
        }
    }

    /// Sets or clears a node's cordon.
    pub fn set_cordoned(&mut self, id: NodeId, cordoned: bool) {
        self.generation += 1;
        if let Some(mut node) = self.nodes.get_mut(id) {
            node.cordoned = cordoned;
        }
    }

    /// Removes a node that has no pods left and returns it.
    pub fn remove_node(&mut self, id: NodeId) -> Option<Node> {
        self.generation += 1;
        let node = self.nodes.remove(id)?;
        for pod in self.nominated.remove(&id).unwrap_or_default() {
            if let Some(pod) = self.pods.get_mut(pod) {
                pod.nominated_node = None;
            }
        }
        debug_assert!(
            node.pods.is_empty(),
            "{} removed with pods still bound",
            node.name
        );
        Some(node)
    }

    /// Returns the node `id`.
    pub fn node(&self, id: NodeId) -> Option<&Node> {
        self.nodes.get(id)
    }

    /// Iterates over all nodes in id order (launch order).
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.nodes.as_slice().iter()
    }

    /// Iterates over the schedulable nodes in id order, with their ids and [`Node::free`]. It
    /// reads the ids and the free room from lists kept beside the nodes, so a walk over every
    /// node reads none of the nodes themselves.
    pub fn schedulable_free(&self) -> impl Iterator<Item = (NodeId, &Node, Resources)> {
        self.nodes.schedulable_free()
    }

    /// Returns the position of node `id` in the order of [`Cluster::nodes`].
    pub(crate) fn node_position(&self, id: NodeId) -> Option<usize> {
        self.nodes.position(id)
    }

    /// Returns the version of the node at `position`, which changes with every change to the
    /// node and which no other node has.
    pub(crate) fn node_version_at(&self, position: usize) -> u64 {
        self.nodes.version_at(position)
    }

    /// Returns the node at `position` in the order of [`Cluster::nodes`].
    pub fn node_at(&self, position: usize) -> &Node {
        &self.nodes.as_slice()[position]
    }

    /// Returns the first position in `from..to`, in the order of [`Cluster::nodes`], whose
    /// node may hold `requests`. Every node before it in `from..to` is not schedulable or
    /// lacks the free CPU, memory or pod slots for `requests`, so it fails kube-scheduler's
    /// filters. The node at the returned position may still fail them. The search skips runs
    /// of full nodes in logarithmic time.
    pub fn next_node_with_room(
        &self,
        from: usize,
        to: usize,
        requests: &Resources,
    ) -> Option<usize> {
        self.nodes.next_with_room(from, to, requests)
    }

    /// Returns the counts and sums over the nodes that are Ready in their lifecycle, kept
    /// up to date with every change, so reading them walks no nodes.
    pub fn ready_totals(&self) -> ReadyTotals {
        self.nodes.ready_totals()
    }

    /// Number of nodes in every state.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Creates a Pending pod and queues it for scheduling.
    pub fn create_pod(&mut self, owner: Owner, spec: Arc<PodSpec>, now: SimTime) -> PodId {
        self.generation += 1;
        let id = PodId(self.next_pod);
        self.next_pod += 1;
        self.lowest_priority = Some(
            self.lowest_priority
                .map_or(spec.priority, |p| p.min(spec.priority)),
        );
        let key = (Reverse(spec.priority), now, id);
        self.queue.insert(
            key,
            QueuedPod {
                spec: spec.clone(),
                unschedulable: false,
            },
        );
        self.unmarked.insert(key);
        self.queued_by_spec
            .entry(spec_address(&spec))
            .or_insert_with(|| (Arc::clone(&spec), BTreeSet::new()))
            .1
            .insert(key);
        let pod = Pod {
            id,
            owner,
            spec,
            phase: PodPhase::Pending,
            unschedulable: false,
            unschedulable_since: None,
            node: None,
            created: now,
            bound_at: None,
            nominated_node: None,
            preempted: false,
        };
        self.pods.insert(pod);
        id
    }

    /// Number of existing pods.
    pub fn pod_count(&self) -> usize {
        self.pods.len()
    }

    /// Number of pods ever created.
    pub fn pods_created(&self) -> u64 {
        self.next_pod
    }

    /// Checks whether a pod of priority below `priority` may exist: one was created at some
    /// point. `false` means no pod can be preempted by, or is expendable below, `priority`.
    pub fn may_hold_priority_below(&self, priority: i32) -> bool {
        self.lowest_priority.is_some_and(|lowest| lowest < priority)
    }

    /// Returns the pod `id`.
    pub fn pod(&self, id: PodId) -> Option<&Pod> {
        self.pods.get(id)
    }

    /// Iterates over all existing pods in id order.
    pub fn pods(&self) -> impl Iterator<Item = &Pod> {
        self.pods.values()
    }

    /// Pending pods in scheduling-queue order.
    pub fn pending_pods(&self) -> impl Iterator<Item = &Pod> + '_ {
        self.queue
            .keys()
            .map(|(_, _, id)| self.pods.get(*id).expect("queued pods exist"))
    }

    /// Pending pods in scheduling-queue order as [`Cluster::pending_pods`] lists them, each with
    /// its spec and whether it is marked Unschedulable, without looking up the pods.
    pub fn pending_queue(&self) -> impl Iterator<Item = (PodId, &Arc<PodSpec>, bool)> + '_ {
        self.queue
            .iter()
            .map(|((_, _, id), queued)| (*id, &queued.spec, queued.unschedulable))
    }

    /// Moves `cursor` to the next Pending pod in scheduling-queue order that is not both
    /// marked Unschedulable and of a spec that `failed` accepts, and returns that pod as
    /// [`Cluster::pending_queue`] lists it.
    ///
    /// The pod is the first after the cursor among the unmarked pods and the pods of each spec
    /// that did not fail, so the pods passed over are never read. `failed` is called once per
    /// spec of a queued pod, in no particular order.
    pub fn next_pending_to_try(
        &self,
        cursor: &mut QueueCursor,
        mut failed: impl FnMut(&Arc<PodSpec>) -> bool,
    ) -> Option<(PodId, &Arc<PodSpec>, bool)> {
        let first_after = |keys: &BTreeSet<QueueKey>| match &cursor.0 {
            Some(key) => keys.range((Excluded(*key), Unbounded)).next().copied(),
            None => keys.first().copied(),
        };
        let mut next = first_after(&self.unmarked);
        for (spec, keys) in self.queued_by_spec.values() {
            if failed(spec) {
                continue;
            }
            if let Some(key) = first_after(keys) {
                next = Some(next.map_or(key, |other| other.min(key)));
            }
        }

        let key = next?;
        cursor.0 = Some(key);
        let queued = &self.queue[&key];
        Some((key.2, &queued.spec, queued.unschedulable))
    }

    /// Removes the queued pod `key` from the queue and its indexes.
    fn dequeue(
        queue: &mut BTreeMap<QueueKey, QueuedPod>,
        unmarked: &mut BTreeSet<QueueKey>,
        queued_by_spec: &mut BTreeMap<usize, (Arc<PodSpec>, BTreeSet<QueueKey>)>,
        key: QueueKey,
    ) {
        let Some(queued) = queue.remove(&key) else {
            return;
        };
        unmarked.remove(&key);
        let address = spec_address(&queued.spec);
        if let Some((_, keys)) = queued_by_spec.get_mut(&address) {
            keys.remove(&key);
            if keys.is_empty() {
                queued_by_spec.remove(&address);
            }
        }
    }

    /// Number of Pending pods.
    pub fn pending_count(&self) -> usize {
        self.queue.len()
    }

    /// Binds a Pending pod to a node; the pod enters Starting.
    pub fn bind(&mut self, pod_id: PodId, node_id: NodeId, now: SimTime) {
        self.generation += 1;
        let pod = self.pods.get_mut(pod_id).expect("bind: pod exists");
        debug_assert_eq!(pod.phase, PodPhase::Pending);
        Self::dequeue(
            &mut self.queue,
            &mut self.unmarked,
            &mut self.queued_by_spec,
            (Reverse(pod.spec.priority), pod.created, pod_id),
        );
        pod.phase = PodPhase::Starting;
        pod.node = Some(node_id);
        if let Some(nominated) = pod.nominated_node.take() {
            Self::unindex_nomination(&mut self.nominated, nominated, pod_id);
        }
        pod.bound_at = Some(now);
        pod.unschedulable = false;
        if !pod.spec.pod_anti_affinity.required.is_empty() {
            self.bound_with_anti_affinity += 1;
        }
        let mut node = self.nodes.get_mut(node_id).expect("bind: node exists");
        node.pods.insert(pod_id);
        node.pod_requests += pod.spec.requests;
        node.last_pod_event = now;
        node.pod_changes += 1;
    }

    /// Sets a Pending pod's `nominatedNodeName`, or clears it with `None`.
    pub fn nominate(&mut self, pod_id: PodId, node: Option<NodeId>) {
        let Some(pod) = self.pods.get_mut(pod_id) else {
            return;
        };
        if let Some(old) = pod.nominated_node.take() {
            Self::unindex_nomination(&mut self.nominated, old, pod_id);
        }
        if let Some(node) = node
            && pod.node.is_none()
            && self.nodes.contains(node)
        {
            pod.nominated_node = Some(node);
            self.nominated.entry(node).or_default().insert(pod_id);
        }
    }

    fn unindex_nomination(
        nominated: &mut BTreeMap<NodeId, BTreeSet<PodId>>,
        node: NodeId,
        pod: PodId,
    ) {
        if let Some(pods) = nominated.get_mut(&node) {
            pods.remove(&pod);
            if pods.is_empty() {
                nominated.remove(&node);
            }
        }
    }

    /// Pending pods nominated to `node`, in id order.
    pub fn nominated_on(&self, node: NodeId) -> impl Iterator<Item = &Pod> + '_ {
        self.nominated
            .get(&node)
            .into_iter()
            .flat_map(|pods| pods.iter())
            .filter_map(|id| self.pods.get(*id))
    }

    /// Checks whether any Pending pod is nominated to a node.
    pub fn has_nominations(&self) -> bool {
        !self.nominated.is_empty()
    }

    /// Requests that pods nominated to `node` reserve against a pod of `priority`: those of
    /// every nominated pod of equal or higher priority other than `except`, as kube-scheduler
    /// adds nominated pods to a node before it runs the filters.
    pub fn nominated_requests(&self, node: NodeId, priority: i32, except: PodId) -> Resources {
        self.nominated_on(node)
            .filter(|p| p.id != except && p.spec.priority >= priority)
            .map(|p| p.spec.requests)
            .sum()
    }

    /// Marks a Pending pod Unschedulable, keeping the time of the first mark.
    pub fn mark_unschedulable(&mut self, pod_id: PodId, now: SimTime) -> bool {
        let pod = self.pods.get_mut(pod_id).expect("mark: pod exists");
        let newly = !pod.unschedulable;
        pod.unschedulable = true;
        pod.unschedulable_since.get_or_insert(now);
        let key = (Reverse(pod.spec.priority), pod.created, pod_id);
        if newly && let Some(queued) = self.queue.get_mut(&key) {
            queued.unschedulable = true;
            self.unmarked.remove(&key);
        }
        newly
    }

    /// Moves a Starting pod to Running.
    pub fn set_running(&mut self, pod_id: PodId) {
        if let Some(pod) = self.pods.get_mut(pod_id)
            && pod.phase == PodPhase::Starting
        {
            pod.phase = PodPhase::Running;
            if let Some(mut node) = pod.node.and_then(|id| self.nodes.get_mut(id)) {
                node.pod_changes += 1;
            }
        }
    }

    /// Deletes a pod in any phase and returns it.
    pub fn delete_pod(&mut self, pod_id: PodId, now: SimTime) -> Option<Pod> {
        self.generation += 1;
        let pod = self.pods.remove(pod_id)?;
        match pod.node {
            Some(node_id) => {
                if !pod.spec.pod_anti_affinity.required.is_empty() {
                    self.bound_with_anti_affinity -= 1;
                }
                let mut node = self
                    .nodes
                    .get_mut(node_id)
                    .expect("delete: node of a bound pod exists");
                node.pods.remove(&pod_id);
                node.pod_requests -= pod.spec.requests;
                node.last_pod_event = now;
                node.pod_changes += 1;
                if pod.phase == PodPhase::Terminating
                    && let Some(count) = self.terminating_on.get_mut(&node_id)
                {
                    *count -= 1;
                    if *count == 0 {
                        self.terminating_on.remove(&node_id);
                    }
                }
            }
            None => {
                Self::dequeue(
                    &mut self.queue,
                    &mut self.unmarked,
                    &mut self.queued_by_spec,
                    (Reverse(pod.spec.priority), pod.created, pod_id),
                );
                if let Some(nominated) = pod.nominated_node {
                    Self::unindex_nomination(&mut self.nominated, nominated, pod_id);
                }
            }
        }
        Some(pod)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn pod_names_follow_owners() {
        let mut cluster = Cluster::new(vec![]);
        cluster.set_owner_names(vec!["web".into(), "db".into()], vec!["batch".into()]);
        let spec = Arc::new(PodSpec::default());
        let mut create = |owner| cluster.create_pod(owner, spec.clone(), SimTime::ZERO);
        let web = create(Owner::Deployment(0));
        let db = create(Owner::StatefulSet { set: 1, ordinal: 2 });
        let job = create(Owner::Job(0));
        let bare = create(Owner::Bare);
        let unnamed = create(Owner::Deployment(5));

        assert_eq!(cluster.pod_name(web), "web-pod-0");
        assert_eq!(cluster.pod_name(db), "db-2");
        assert_eq!(cluster.pod_name(job), "batch-pod-2");
        assert_eq!(cluster.pod_name(bare), "pod-3");
        assert_eq!(cluster.pod_name(unnamed), "pod-4");
    }

    pub(crate) fn new_node(owner: &str, cpu: i64, mem: i64) -> NewNode {
        NewNode {
            owner: owner.into(),
            instance_type: 0,
            instance_type_name: "test.large".into(),
            capacity_type: CapacityType::OnDemand,
            zone: "us-east-1a".into(),
            price: Price(100_000),
            labels: BTreeMap::new(),
            taints: vec![],
            allocatable: Resources::new(cpu, mem, 110),
        }
    }

    #[test]
    fn bind_and_delete_keep_node_totals() {
        let mut cluster = Cluster::new(vec![]);
        let node = cluster.add_node(new_node("ng", 2000, 4000), SimTime(0));
        cluster.mark_ready(node, SimTime(5));
        let spec = Arc::new(PodSpec {
            requests: Resources::new(500, 1000, 1),
            ..Default::default()
        });
        let a = cluster.create_pod(Owner::Deployment(0), spec.clone(), SimTime(10));
        let b = cluster.create_pod(Owner::Deployment(0), spec, SimTime(11));

        cluster.bind(a, node, SimTime(12));
        assert_eq!(cluster.pending_count(), 1);
        assert_eq!(
            cluster.node(node).unwrap().free(),
            Resources::new(1500, 3000, 109)
        );

        cluster.delete_pod(a, SimTime(20));
        cluster.delete_pod(b, SimTime(20));
        assert_eq!(cluster.pending_count(), 0);
        assert_eq!(
            cluster.node(node).unwrap().free(),
            Resources::new(2000, 4000, 110)
        );
        assert_eq!(cluster.node(node).unwrap().last_pod_event, SimTime(20));
    }

    #[test]
    fn pod_changes_counts_node_pod_events() {
        let mut cluster = Cluster::new(vec![]);
        let node = cluster.add_node(new_node("ng", 2000, 4000), SimTime(0));
        let changes = |cluster: &Cluster| cluster.node(node).unwrap().pod_changes;
        cluster.mark_ready(node, SimTime(1));
        let spec = Arc::new(PodSpec::default());
        let a = cluster.create_pod(Owner::Deployment(0), spec.clone(), SimTime(1));
        let b = cluster.create_pod(Owner::Deployment(0), spec, SimTime(1));
        assert_eq!(
            changes(&cluster),
            0,
            "node and pending pods are not bound pods"
        );
        cluster.bind(a, node, SimTime(2));
        cluster.bind(b, node, SimTime(2));
        assert_eq!(changes(&cluster), 2);
        cluster.set_running(a);
        cluster.set_running(a);
        assert_eq!(changes(&cluster), 3, "only the first start counts");
        cluster.begin_termination(a, SimTime(3));
        cluster.begin_preemption(a, SimTime(3));
        assert_eq!(changes(&cluster), 5, "termination, then the preempted mark");
        cluster.begin_termination(a, SimTime(3));
        assert_eq!(changes(&cluster), 5, "a second termination changes nothing");
        cluster.delete_pod(a, SimTime(4));
        assert_eq!(changes(&cluster), 6);
    }

    #[test]
    fn has_active_pods_counts_terminating() {
        let mut cluster = Cluster::new(vec![]);
        let node = cluster.add_node(new_node("ng", 2000, 4000), SimTime(0));
        cluster.mark_ready(node, SimTime(0));
        let spec = Arc::new(PodSpec::default());
        let a = cluster.create_pod(Owner::Deployment(0), spec.clone(), SimTime(1));
        let b = cluster.create_pod(Owner::Deployment(0), spec, SimTime(1));
        let active = |cluster: &Cluster| cluster.has_active_pods(cluster.node(node).unwrap());
        assert!(!active(&cluster));

        cluster.bind(a, node, SimTime(2));
        cluster.bind(b, node, SimTime(2));
        cluster.begin_termination(a, SimTime(3));
        cluster.begin_termination(a, SimTime(4));
        assert!(active(&cluster));

        cluster.begin_termination(b, SimTime(5));
        assert!(!active(&cluster));

        cluster.delete_pod(a, SimTime(6));
        assert!(!active(&cluster));
        cluster.delete_pod(b, SimTime(6));
        assert!(!active(&cluster));
        assert!(cluster.terminating_on.is_empty());
    }

    fn low_and_high_priority_specs() -> (Arc<PodSpec>, Arc<PodSpec>) {
        let high = PodSpec {
            priority: 100,
            ..Default::default()
        };
        (Arc::new(PodSpec::default()), Arc::new(high))
    }

    #[test]
    fn queue_orders_by_priority_then_age() {
        let mut cluster = Cluster::new(vec![]);
        let (low, high) = low_and_high_priority_specs();
        let first = cluster.create_pod(Owner::Bare, low.clone(), SimTime(1));
        let urgent = cluster.create_pod(Owner::Bare, high, SimTime(2));
        let second = cluster.create_pod(Owner::Bare, low, SimTime(3));
        let order: Vec<PodId> = cluster.pending_pods().map(|p| p.id).collect();
        assert_eq!(order, vec![urgent, first, second]);
    }

    #[test]
    fn pending_queue_mirrors_pods() {
        let mut cluster = Cluster::new(vec![]);
        let (low, high) = low_and_high_priority_specs();
        let first = cluster.create_pod(Owner::Bare, low.clone(), SimTime(1));
        let urgent = cluster.create_pod(Owner::Bare, high.clone(), SimTime(2));
        cluster.mark_unschedulable(first, SimTime(3));

        let queue: Vec<(PodId, *const PodSpec, bool)> = cluster
            .pending_queue()
            .map(|(id, spec, marked)| (id, Arc::as_ptr(spec), marked))
            .collect();
        assert_eq!(
            queue,
            vec![
                (urgent, Arc::as_ptr(&high), false),
                (first, Arc::as_ptr(&low), true)
            ]
        );
        let marks: Vec<bool> = cluster.pending_pods().map(|p| p.unschedulable).collect();
        assert_eq!(marks, vec![false, true]);
    }

    #[test]
    fn next_pending_passes_over_failed_marked() {
        let mut cluster = Cluster::new(vec![]);
        let (low, high) = low_and_high_priority_specs();
        let marked_low = cluster.create_pod(Owner::Bare, low.clone(), SimTime(1));
        let unmarked_low = cluster.create_pod(Owner::Bare, low.clone(), SimTime(2));
        let marked_high = cluster.create_pod(Owner::Bare, high.clone(), SimTime(3));
        cluster.mark_unschedulable(marked_low, SimTime(4));
        cluster.mark_unschedulable(marked_high, SimTime(4));
        let low_failed = |spec: &Arc<PodSpec>| Arc::ptr_eq(spec, &low);

        let mut cursor = QueueCursor::default();
        let mut visited = Vec::new();
        while let Some((id, _, marked)) = cluster.next_pending_to_try(&mut cursor, low_failed) {
            visited.push((id, marked));
        }

        assert_eq!(visited, vec![(marked_high, true), (unmarked_low, false)]);
    }

    #[test]
    fn next_pending_after_bind_and_delete() {
        let mut cluster = Cluster::new(vec![]);
        let (low, _) = low_and_high_priority_specs();
        let node = cluster.add_node(new_node("ng", 2000, 4000), SimTime(0));
        let bound = cluster.create_pod(Owner::Bare, low.clone(), SimTime(1));
        let deleted = cluster.create_pod(Owner::Bare, low.clone(), SimTime(2));
        let still_pending = cluster.create_pod(Owner::Bare, low.clone(), SimTime(3));

        cluster.bind(bound, node, SimTime(4));
        cluster.delete_pod(deleted, SimTime(4));
        let mut cursor = QueueCursor::default();
        let first = cluster.next_pending_to_try(&mut cursor, |_| true);

        assert_eq!(first.map(|(id, _, _)| id), Some(still_pending));
        assert!(cluster.next_pending_to_try(&mut cursor, |_| true).is_none());
    }

    /// Finds, by a scan, the first position in `from..to` whose node is schedulable with the
    /// CPU, memory and pod slots for `requests`.
    fn first_with_room_by_scan(
        cluster: &Cluster,
        from: usize,
        to: usize,
        requests: &Resources,
    ) -> Option<usize> {
        (from..to.min(cluster.node_count())).find(|&position| {
            let node = cluster.node_at(position);
            let free = node.free();
            node.is_schedulable()
                && requests.cpu_millis <= free.cpu_millis
                && requests.memory_bytes <= free.memory_bytes
                && requests.pods <= free.pods
        })
    }

    #[test]
    fn next_node_with_room_matches_scan() {
        let mut cluster = Cluster::new(vec![]);
        // A fixed linear congruential sequence gives varied sizes and loads without a seed.
        let mut state: u64 = 12345;
        let mut next = |bound: u64| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) % bound
        };
        let mut nodes = Vec::new();
        for _ in 0..37 {
            let cpu = 1000 * (1 + next(8) as i64);
            let memory = 1024 * (1 + next(8) as i64);
            let id = cluster.add_node(new_node("ng", cpu, memory), SimTime(0));
            if next(5) > 0 {
                cluster.mark_ready(id, SimTime(0));
            }
            nodes.push(id);
        }
        for (index, &id) in nodes.iter().enumerate() {
            for _ in 0..next(4) {
                let requests = Resources::new(250 * (1 + next(4) as i64), 256, 1);
                let spec = Arc::new(PodSpec {
                    requests,
                    ..Default::default()
                });
                let pod = cluster.create_pod(Owner::Bare, spec, SimTime(1));
                cluster.bind(pod, id, SimTime(1));
            }
            if index % 7 == 3 {
                cluster.set_cordoned(id, true);
            }
        }
        // Removing nodes moves the later ones down; the index must follow.
        for id in [nodes[0], nodes[20], nodes[36]] {
            for pod in cluster.node(id).unwrap().pods.clone() {
                cluster.delete_pod(pod, SimTime(2));
            }
            assert!(cluster.remove_node(id).is_some());
        }

        let count = cluster.node_count();
        for cpu in [0, 250, 1000, 3000, 7000, 9000] {
            for memory in [0, 1024, 5000] {
                let requests = Resources::new(cpu, memory, 1);
                for from in 0..=count {
                    for to in [from, from + 1, count / 2, count, count + 3] {
                        assert_eq!(
                            cluster.next_node_with_room(from, to, &requests),
                            first_with_room_by_scan(&cluster, from, to, &requests),
                            "cpu {cpu}, memory {memory}, positions {from}..{to}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn next_node_with_room_past_mixed_maximum() {
        // Node 0 has free CPU only and node 1 free memory only, so their subtree's maximum
        // seems to fit a pod that neither fits. Node 2 fits it.
        let mut cluster = Cluster::new(vec![]);
        let shapes = [(4000, 1000), (1000, 4000), (4000, 4000), (1000, 1000)];
        for (cpu, memory) in shapes {
            let id = cluster.add_node(new_node("ng", cpu, memory), SimTime(0));
            cluster.mark_ready(id, SimTime(0));
        }
        let requests = Resources::new(2000, 2000, 1);

        assert_eq!(cluster.next_node_with_room(0, 4, &requests), Some(2));
        assert_eq!(cluster.next_node_with_room(0, 2, &requests), None);
        assert_eq!(cluster.next_node_with_room(3, 4, &requests), None);
    }
}
