//! The policy interface: what a policy sees, when it is called, and what it may do.

use std::collections::BTreeMap;

use autoscale_sim_cloud::{Catalog, InstanceTypeIndex};
use autoscale_sim_engine::{SimDuration, SimTime};
use autoscale_sim_kube::{CapacityType, Cluster, NodeId, PodId, Taint};
use serde::{Deserialize, Serialize};

/// Read-only view of the world given to a policy at each call.
#[derive(Clone, Copy)]
pub struct ClusterView<'a> {
    /// Current simulated time.
    pub now: SimTime,
    /// Nodes (Launching, Ready, Deleting) and pods.
    pub cluster: &'a Cluster,
    /// Instance types, indexed by [`InstanceTypeIndex`].
    pub catalog: &'a Catalog,
    /// Availability zones of the region, in order.
    pub zones: &'a [String],
}

/// What woke the policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyEvent {
    /// The run starts; the policy launches its initial capacity (minimum sizes, static nodes).
    Start,
    /// A timer the policy set with [`Actions::set_timer`] fired, with the policy's token.
    Timer(u64),
    /// kube-scheduler marked these pods Unschedulable for the first time in their pending spell.
    PodsUnschedulable(Vec<PodId>),
    /// A node the policy launched became Ready.
    NodeReady(NodeId),
    /// A node left the cluster: terminated after a deletion, or its launch failed.
    NodeRemoved(NodeId),
    /// A launch failed (EC2 answered InsufficientInstanceCapacity); the node is already gone.
    LaunchFailed {
        /// The node the launch would have been.
        node: NodeId,
        /// Every offering (instance type, zone) the request named; none had capacity.
        offerings: Vec<(InstanceTypeIndex, String)>,
        /// Their capacity type.
        capacity_type: CapacityType,
        /// The EC2 error, such as `InsufficientInstanceCapacity`.
        reason: String,
    },
    /// EC2 sent a spot interruption notice for the node: it terminates after the notice period
    /// (2 minutes) whatever the policy does.
    SpotInterruptionNotice(NodeId),
    /// A deletion with an eviction timeout gave up: some pods could not be evicted in time
    /// (their PodDisruptionBudgets allowed no disruption), so the node was uncordoned and stays.
    NodeDeletionFailed(NodeId),
}

/// Why a node is disrupted; the report counts disruptions by this reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum DisruptionReason {
    /// Karpenter: the node had no reschedulable pods.
    Empty,
    /// Karpenter: consolidation found the node's pods a cheaper home.
    Underutilized,
    /// Cluster Autoscaler: the node was unneeded for longer than the unneeded time.
    ScaleDown,
    /// A spot interruption notice (Karpenter drains on it; EC2 terminates the node anyway).
    Interrupted,
    /// Any other reason a custom policy gives.
    Other,
}

impl DisruptionReason {
    /// Name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            DisruptionReason::Empty => "Empty",
            DisruptionReason::Underutilized => "Underutilized",
            DisruptionReason::ScaleDown => "ScaleDown",
            DisruptionReason::Interrupted => "Interrupted",
            DisruptionReason::Other => "Other",
        }
    }
}

/// A request to launch one node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LaunchRequest {
    /// Node group or NodePool the node belongs to.
    pub owner: String,
    /// The instance type to launch.
    pub instance_type: InstanceTypeIndex,
    /// Capacity type.
    pub capacity_type: CapacityType,
    /// Availability zone.
    pub zone: String,
    /// Node labels besides the well-known ones the world sets.
    pub labels: BTreeMap<String, String>,
    /// Node taints.
    pub taints: Vec<Taint>,
    /// Why, in the policy's own terms, for the decision log.
    pub reason: String,
    /// Further offerings (instance type, zone) of the same capacity type EC2 may fill the request
    /// with, in order of preference, when the first has no capacity: the other overrides of an
    /// EC2 CreateFleet request. Empty for a single-type Auto Scaling group.
    pub alternatives: Vec<(InstanceTypeIndex, String)>,
}

/// An action a policy returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Launch a node; it appears at once in the Launching state with the id [`Actions::launch`] returned.
    Launch(LaunchRequest),
    /// Cordon (`true`) or uncordon (`false`) a node.
    Cordon {
        /// The node.
        node: NodeId,
        /// New cordon state.
        cordoned: bool,
    },
    /// Remove a node: cordon it, evict its pods through the Eviction API (which respects
    /// PodDisruptionBudgets, retrying every 5 s), wait for their termination grace periods, then
    /// terminate the instance.
    DeleteNode {
        /// The node.
        node: NodeId,
        /// Why, as counted in the report.
        reason: DisruptionReason,
        /// Details for the decision log.
        detail: String,
        /// Give up when pods are still not evicted after this long (Cluster Autoscaler's
        /// `--max-pod-eviction-time`); `None` waits for ever (Karpenter).
        eviction_timeout: Option<SimDuration>,
    },
}

/// Actions and timers collected during one policy call; the world applies them in order.
#[derive(Debug)]
pub struct Actions {
    list: Vec<Action>,
    timers: Vec<(SimTime, u64)>,
    next_node: u64,
}

impl Actions {
    /// An empty list; `next_node` is the id the cluster will give the next node it adds.
    pub fn new(next_node: NodeId) -> Self {
        Actions {
            list: Vec::new(),
            timers: Vec::new(),
            next_node: next_node.0,
        }
    }

    /// Requests a launch and returns the id the node will have.
    pub fn launch(&mut self, request: LaunchRequest) -> NodeId {
        let id = NodeId(self.next_node);
        self.next_node += 1;
        self.list.push(Action::Launch(request));
        id
    }

    /// Requests removal of `node`.
    pub fn delete_node(&mut self, node: NodeId, reason: DisruptionReason, detail: String) {
        self.list.push(Action::DeleteNode {
            node,
            reason,
            detail,
            eviction_timeout: None,
        });
    }

    /// Requests removal of `node`, giving up if its pods cannot all be evicted within `timeout`.
    pub fn delete_node_within(
        &mut self,
        node: NodeId,
        reason: DisruptionReason,
        detail: String,
        timeout: SimDuration,
    ) {
        self.list.push(Action::DeleteNode {
            node,
            reason,
            detail,
            eviction_timeout: Some(timeout),
        });
    }

    /// Cordons or uncordons `node`.
    pub fn cordon(&mut self, node: NodeId, cordoned: bool) {
        self.list.push(Action::Cordon { node, cordoned });
    }

    /// Asks to be called with [`PolicyEvent::Timer`]`(token)` at `time` (at once if it is past).
    pub fn set_timer(&mut self, time: SimTime, token: u64) {
        self.timers.push((time, token));
    }

    /// Takes the collected actions and timers.
    pub fn into_parts(self) -> (Vec<Action>, Vec<(SimTime, u64)>) {
        (self.list, self.timers)
    }

    /// Actions collected so far.
    pub fn actions(&self) -> &[Action] {
        &self.list
    }
}

/// A node autoscaling policy.
///
/// Contract:
/// * the world calls [`Autoscaler::on_event`] once with [`PolicyEvent::Start`] at time zero, then
///   for every event the policy can see: its timers, newly Unschedulable pods, its nodes becoming
///   Ready, and nodes leaving;
/// * the policy reads the world only through the [`ClusterView`] and acts only through
///   [`Actions`]: launches, cordons, deletions and timers, each applied by the world in order
///   right after the call returns;
/// * the world enforces physics: launch latency, billing, eviction; a deletion of a node that is
///   already being deleted is ignored;
/// * the policy must be deterministic: its decisions may depend on the view, its own state and
///   random streams it was given, never on hash-map iteration order or wall-clock time.
pub trait Autoscaler {
    /// Name shown in reports, such as `karpenter`.
    fn name(&self) -> &str;

    /// Handles one event.
    fn on_event(&mut self, event: &PolicyEvent, view: &ClusterView<'_>, actions: &mut Actions);
}
