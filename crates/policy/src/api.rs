//! The policy interface: what a policy can read, when it is called, and what it may do. The
//! contract is on [`Autoscaler`].

use std::collections::BTreeMap;

use autoscale_sim_cloud::{Catalog, InstanceTypeIndex};
use autoscale_sim_engine::{SimDuration, SimTime};
use autoscale_sim_kube::{CapacityType, Cluster, NodeId, PodId, Taint};
use serde::{Deserialize, Serialize};

/// Read-only view of the world given to a policy at each call: the cluster as kube-scheduler
/// left it, the EC2 catalog and the zones. Loads, Deployments' HPAs, spot prices and the
/// scenario's wall clock are not in it; a policy that needs them gets them when it is built.
#[derive(Clone, Copy)]
pub struct ClusterView<'a> {
    /// Current simulated time, in milliseconds since the start of the run.
    pub now: SimTime,
    /// Every node (Launching, Ready and Deleting, of this policy: the run starts with an empty
    /// cluster) and every pod, with the `unschedulable` mark kube-scheduler sets.
    pub cluster: &'a Cluster,
    /// Instance types, indexed by [`InstanceTypeIndex`].
    pub catalog: &'a Catalog,
    /// Availability zones of the region, in order.
    pub zones: &'a [String],
}

/// What woke the policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyEvent {
    /// The run starts, at time zero; the policy launches its initial capacity (minimum sizes,
    /// static nodes). The workloads are created first, so a [`PolicyEvent::PodsUnschedulable`]
    /// for the first pods may come before it at the same time.
    Start,
    /// A timer the policy set with [`Actions::set_timer`] fired, with the policy's token.
    Timer(u64),
    /// kube-scheduler marked these pods Unschedulable for the first time since they were
    /// created. A pod that stays Unschedulable is not reported again, so a policy that does not
    /// act at once must look for pods with `unschedulable` set on a later call (its timers).
    PodsUnschedulable(Vec<PodId>),
    /// A node the policy launched became Ready; a kube-scheduler pass follows at the same time.
    NodeReady(NodeId),
    /// A node left the cluster: its instance terminated after a deletion or a spot
    /// interruption, and billing stopped. A launch that failed is reported as
    /// [`PolicyEvent::LaunchFailed`] instead.
    NodeRemoved(NodeId),
    /// A launch failed, and the node is already gone. Either EC2 returned
    /// InsufficientInstanceCapacity (2 s after the request by default, and nothing was billed),
    /// or the node did not register within the registration timeout (15 minutes by default), so
    /// the instance was terminated and billed from `running` until then.
    LaunchFailed {
        /// The node the launch would have been.
        node: NodeId,
        /// For InsufficientInstanceCapacity, every offering (instance type, zone) the request
        /// named, none of which had capacity. Empty for a registration timeout, where EC2 had
        /// filled the request, and for a rejected request.
        offerings: Vec<(InstanceTypeIndex, String)>,
        /// Their capacity type.
        capacity_type: CapacityType,
        /// `InsufficientInstanceCapacity`, `RegistrationTimeout`, or `InvalidParameterValue`
        /// for a request that names an availability zone outside the scenario's.
        reason: String,
    },
    /// EC2 sent a spot interruption notice for the node: it terminates after the notice period
    /// (`cloud.spot.notice`, 2 minutes by default) whatever the policy does, and its pods that
    /// are still there then are lost and replaced by their controllers.
    SpotInterruptionNotice(NodeId),
    /// EC2 sent a rebalance recommendation for the spot node: its pool is at elevated risk of
    /// interruption (`cloud.spot.rebalanceRecommendations`, off by default). Nothing else
    /// follows from it. Both real autoscalers ignore it: Karpenter's AWS interruption controller
    /// only records an event, and Cluster Autoscaler watches no EC2 events.
    RebalanceRecommendation(NodeId),
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
    /// Karpenter: the node no longer matches its NodePool's template, so it is replaced.
    Drifted,
    /// Karpenter: the node outlived its NodePool's `expireAfter` and is deleted forcefully.
    Expired,
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
            DisruptionReason::Drifted => "Drifted",
            DisruptionReason::Expired => "Expired",
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
    /// Availability zone, one of [`ClusterView::zones`]. EC2 rejects a request that names
    /// another zone, here or in `alternatives`, with a [`PolicyEvent::LaunchFailed`] of reason
    /// `InvalidParameterValue` at the same instant.
    pub zone: String,
    /// Node labels besides the well-known ones the world sets.
    pub labels: BTreeMap<String, String>,
    /// Node taints.
    pub taints: Vec<Taint>,
    /// Node annotations, such as `karpenter.sh/do-not-disrupt: "true"` from a NodePool's
    /// template. The node carries them from its launch.
    pub annotations: BTreeMap<String, String>,
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
    /// Cordon (`true`) or uncordon (`false`) a node; ignored for a node that is gone or being
    /// deleted.
    Cordon {
        /// The node.
        node: NodeId,
        /// New cordon state.
        cordoned: bool,
    },
    /// Remove a node: cordon it, evict its pods through the Eviction API (which respects
    /// PodDisruptionBudgets, retrying every 5 s), wait for their termination grace periods, then
    /// terminate the instance, no sooner than the termination delay (5 s by default) after the
    /// deletion. Evicted pods' controllers create replacements at once. A deletion of a node
    /// that is gone or already being deleted is ignored.
    DeleteNode {
        /// The node.
        node: NodeId,
        /// Why, as counted in the report.
        reason: DisruptionReason,
        /// Details for the decision log.
        detail: String,
        /// The rules of the node's drain.
        drain: DrainRules,
    },
    /// Write an entry to the decision log and change nothing else: a decision the policy made
    /// without acting on a node, such as finding a node unremovable.
    Note {
        /// The node the entry is about; `None` leaves the entry's node, instance type and zone
        /// empty. An entry about a node that is gone is not written.
        node: Option<NodeId>,
        /// The entry's `action`, such as `unremovable`. It should differ from the names the
        /// world writes (`launch`, `delete`, `terminate` and the others).
        action: String,
        /// The entry's reason category.
        reason: String,
        /// The policy's own explanation.
        detail: String,
    },
}

/// The rules by which the world drains a node that a policy deletes. The default evicts every
/// pod through the Eviction API, retrying those a PodDisruptionBudget refuses, for as long as
/// it takes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DrainRules {
    /// Give up when pods are still not evicted after this long (Cluster Autoscaler's
    /// `--max-pod-eviction-time`); `None` waits for ever.
    pub eviction_timeout: Option<SimDuration>,
    /// Deadline after the start of the deletion, such as a Karpenter NodePool's
    /// `terminationGracePeriod`. Each remaining pod is deleted when only its own grace period
    /// is left before it, whatever blocks its eviction. `None` never forces.
    pub force_after: Option<SimDuration>,
    /// Leave the pods that `karpenter.sh/do-not-disrupt` protects on the node until
    /// `force_after`, or until a duration value's protection ends, as Karpenter's terminator
    /// does not evict them meanwhile.
    pub keep_do_not_disrupt: bool,
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
        self.delete_node_with(node, reason, detail, DrainRules::default());
    }

    /// Requests removal of `node`, drained by `drain`.
    pub fn delete_node_with(
        &mut self,
        node: NodeId,
        reason: DisruptionReason,
        detail: String,
        drain: DrainRules,
    ) {
        self.list.push(Action::DeleteNode {
            node,
            reason,
            detail,
            drain,
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
        let drain = DrainRules {
            eviction_timeout: Some(timeout),
            ..DrainRules::default()
        };
        self.delete_node_with(node, reason, detail, drain);
    }

    /// Cordons or uncordons `node`.
    pub fn cordon(&mut self, node: NodeId, cordoned: bool) {
        self.list.push(Action::Cordon { node, cordoned });
    }

    /// Writes a decision-log entry with `action`, `reason` and `detail`, about `node` when one is
    /// given; see [`Action::Note`].
    pub fn note(
        &mut self,
        node: Option<NodeId>,
        action: impl Into<String>,
        reason: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.list.push(Action::Note {
            node,
            action: action.into(),
            reason: reason.into(),
            detail: detail.into(),
        });
    }

    /// Asks to be called with [`PolicyEvent::Timer`]`(token)` at `time` (at once if it is
    /// past). Timers cannot be cancelled; a policy ignores a stale one by its token.
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

/// A node autoscaling policy: Cluster Autoscaler, Karpenter, the static baseline, or one of
/// your own, which `Simulation::run_with` of the sim crate runs.
///
/// # When it is called
///
/// The world calls [`Autoscaler::on_event`] once per [`PolicyEvent`], in simulated-time order:
///
/// * [`PolicyEvent::Start`] once, at time zero. The first [`PolicyEvent::PodsUnschedulable`]
///   may come before it at the same time, because the workloads' first pods are created and
///   scheduled first.
/// * [`PolicyEvent::PodsUnschedulable`] after each kube-scheduler pass that marked pods
///   Unschedulable for the first time. Passes run after pods are created or deleted, after a
///   node becomes Ready, is uncordoned or starts its deletion, and after a pod leaves a node.
/// * [`PolicyEvent::Timer`] for each timer the policy set, with its token.
/// * [`PolicyEvent::NodeReady`], [`PolicyEvent::NodeRemoved`], [`PolicyEvent::LaunchFailed`],
///   [`PolicyEvent::SpotInterruptionNotice`], [`PolicyEvent::RebalanceRecommendation`] and
///   [`PolicyEvent::NodeDeletionFailed`] as those happen to the policy's nodes.
///
/// There is no periodic call besides the policy's own timers: a policy that loops, as both
/// real autoscalers do, sets a timer on [`PolicyEvent::Start`] and again on each timer call.
///
/// # What it may see
///
/// Only the [`ClusterView`]: the time, every node with its state, labels, taints, allocatable
/// and pods, every pod with its requests, constraints, phase and `unschedulable` mark, the
/// DaemonSets and PodDisruptionBudgets, the catalog and the zones. Anything else it needs
/// (prices of spot offerings, the wall clock of time zero, a random stream) it receives when it
/// is built.
///
/// # What it may do
///
/// It fills [`Actions`]: [`Actions::launch`] (a node of one instance type in one zone and
/// capacity type, with alternatives EC2 may fill the request with), [`Actions::cordon`],
/// [`Actions::delete_node`] and [`Actions::delete_node_within`] (cordon, drain, terminate;
/// each deletion with a [`DisruptionReason`] that the report counts), [`Actions::note`] (a
/// decision-log entry and nothing else) and [`Actions::set_timer`]. Launches and deletions
/// carry a reason for the decision log.
///
/// The world applies the actions in order right after the call returns, then schedules the
/// timers, and enforces what the policy cannot change: launch latency, insufficient capacity
/// and the registration timeout, per-second billing, PodDisruptionBudgets during drains, pod termination grace
/// periods and spot interruptions. A launched node exists at once in the Launching state with
/// the id [`Actions::launch`] returned; kube-scheduler places pods only on Ready nodes.
///
/// # What it must guarantee
///
/// Determinism: its decisions may depend on the view, its own state and the random streams it
/// was given, never on hash-map iteration order, addresses or wall-clock time, so that the same
/// scenario and seed give the same run. It must be [`Send`]: `Simulation::run_with` takes a
/// `Box<dyn Autoscaler + Send>`, so that the policies of a comparison can run on separate
/// threads.
///
/// ```
/// use autoscale_sim_engine::SimDuration;
/// use autoscale_sim_policy::{Actions, Autoscaler, ClusterView, PolicyEvent};
///
/// /// Counts Unschedulable pods every minute and does nothing else.
/// struct Watcher {
///     longest_backlog: usize,
/// }
///
/// impl Autoscaler for Watcher {
///     fn name(&self) -> &str {
///         "watcher"
///     }
///
///     fn on_event(&mut self, event: &PolicyEvent, view: &ClusterView<'_>, actions: &mut Actions) {
///         if matches!(event, PolicyEvent::Start | PolicyEvent::Timer(_)) {
///             let backlog = view.cluster.pending_pods().filter(|p| p.unschedulable).count();
///             self.longest_backlog = self.longest_backlog.max(backlog);
///             actions.set_timer(view.now + SimDuration::from_mins(1), 0);
///         }
///     }
/// }
/// ```
pub trait Autoscaler {
    /// Name shown in reports and the decision log, such as `karpenter`.
    fn name(&self) -> &str;

    /// Handles one event: reads `view` and records in `actions` what to do about it.
    fn on_event(&mut self, event: &PolicyEvent, view: &ClusterView<'_>, actions: &mut Actions);

    /// Checks the limits this policy promises to keep, such as node group sizes, against the
    /// cluster; returns the first one broken. The world calls it after every event when the
    /// run's invariants are on. By default there is nothing to check.
    fn check_invariants(&self, view: &ClusterView<'_>) -> Result<(), String> {
        let _ = view;
        Ok(())
    }
}
