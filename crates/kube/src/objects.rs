//! Kubernetes objects as the simulator models them: taints, tolerations, pods, nodes and
//! DaemonSets.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use autoscale_sim_cloud::{InstanceTypeIndex, Price, Resources};
use autoscale_sim_engine::{SimDuration, SimTime};
use serde::{Deserialize, Serialize};

use crate::constraints::{NodeAffinity, PodAffinity, TopologySpreadConstraint};

/// Label key of the node's instance type.
pub const LABEL_INSTANCE_TYPE: &str = "node.kubernetes.io/instance-type";
/// Label key of the node's zone.
pub const LABEL_ZONE: &str = "topology.kubernetes.io/zone";
/// Label key of the node's CPU architecture.
pub const LABEL_ARCH: &str = "kubernetes.io/arch";
/// Label key of the node's operating system.
pub const LABEL_OS: &str = "kubernetes.io/os";
/// Label key of the node's hostname.
pub const LABEL_HOSTNAME: &str = "kubernetes.io/hostname";
/// Label key of the node's capacity type (Karpenter's name, also set here for Cluster Autoscaler nodes).
pub const LABEL_CAPACITY_TYPE: &str = "karpenter.sh/capacity-type";

/// Identifier of a pod, unique within one run and never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PodId(pub u64);

/// Identifier of a node, unique within one run and never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NodeId(pub u64);

impl fmt::Display for PodId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pod-{}", self.0)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "node-{}", self.0)
    }
}

/// Effect of a taint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TaintEffect {
    /// New pods that do not tolerate the taint are not scheduled on the node.
    NoSchedule,
    /// The scheduler avoids the node for pods that do not tolerate the taint.
    PreferNoSchedule,
    /// Like NoSchedule; running pods that do not tolerate it are evicted too.
    NoExecute,
}

/// A node taint.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Taint {
    /// Taint key.
    #[serde(deserialize_with = "crate::string_value::taint_string")]
    pub key: String,
    /// Taint value; empty when the taint has none.
    #[serde(default, deserialize_with = "crate::string_value::taint_string")]
    pub value: String,
    /// Effect.
    pub effect: TaintEffect,
}

/// Operator of a toleration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TolerationOperator {
    /// The toleration matches when key and value are equal (the Kubernetes default).
    #[default]
    Equal,
    /// The toleration matches any value of the key, or any taint when the key is empty.
    Exists,
}

/// A pod's toleration of node taints.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Toleration {
    /// Taint key to match; empty with `Exists` matches every taint.
    #[serde(default, deserialize_with = "crate::string_value::taint_string")]
    pub key: String,
    /// How key and value are matched.
    #[serde(default)]
    pub operator: TolerationOperator,
    /// Value to match with `Equal`.
    #[serde(default, deserialize_with = "crate::string_value::taint_string")]
    pub value: String,
    /// Effect to match; `None` matches every effect.
    #[serde(default)]
    pub effect: Option<TaintEffect>,
}

impl Toleration {
    /// Whether this toleration tolerates `taint`, by the rules of `k8s.io/api/core/v1` `ToleratesTaint`.
    pub fn tolerates(&self, taint: &Taint) -> bool {
        if self.effect.is_some_and(|effect| effect != taint.effect) {
            return false;
        }
        if !self.key.is_empty() && self.key != taint.key {
            return false;
        }
        match self.operator {
            TolerationOperator::Exists => true,
            TolerationOperator::Equal => self.value == taint.value,
        }
    }
}

/// Whether `tolerations` tolerate every NoSchedule and NoExecute taint in `taints`.
pub fn tolerates_all(tolerations: &[Toleration], taints: &[Taint]) -> bool {
    taints
        .iter()
        .filter(|t| t.effect != TaintEffect::PreferNoSchedule)
        .all(|taint| tolerations.iter().any(|tol| tol.tolerates(taint)))
}

/// Whether `labels` contain every key and value of `selector`.
pub fn selector_matches(
    selector: &BTreeMap<String, String>,
    labels: &BTreeMap<String, String>,
) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// The scheduling-relevant part of a pod template, shared by every pod of one owner.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodSpec {
    /// Requests, summed over containers; `pods` is always 1.
    pub requests: Resources,
    /// Pod labels, which selectors of spread and affinity constraints match.
    pub labels: BTreeMap<String, String>,
    /// Namespace; empty means `default`.
    pub namespace: String,
    /// Node labels the pod requires (`nodeSelector`).
    pub node_selector: BTreeMap<String, String>,
    /// Node affinity.
    pub node_affinity: NodeAffinity,
    /// Pod affinity.
    pub pod_affinity: PodAffinity,
    /// Pod anti-affinity.
    pub pod_anti_affinity: PodAffinity,
    /// Topology spread constraints.
    pub topology_spread: Vec<TopologySpreadConstraint>,
    /// Host ports the pod's containers bind.
    pub host_ports: Vec<u16>,
    /// Tolerations.
    pub tolerations: Vec<Toleration>,
    /// Priority (from the pod's priority class; 0 by default).
    pub priority: i32,
    /// `preemptionPolicy`: whether the pod may preempt lower-priority pods.
    pub preemption_policy: PreemptionPolicy,
    /// Annotation `karpenter.sh/do-not-disrupt: "true"`.
    pub do_not_disrupt: bool,
    /// Annotation `karpenter.sh/do-not-disrupt` with a duration such as `"30m"` (Karpenter
    /// v1.12 and later): the pod is protected for this long after it starts. Ignored when
    /// `do_not_disrupt` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub do_not_disrupt_for: Option<SimDuration>,
    /// Annotation `cluster-autoscaler.kubernetes.io/safe-to-evict`, when set.
    pub safe_to_evict: Option<bool>,
    /// Whether the pod mounts an `emptyDir` not backed by memory, or a `hostPath` volume.
    pub local_storage: bool,
    /// Annotation `controller.kubernetes.io/pod-deletion-cost`.
    pub deletion_cost: i32,
    /// `terminationGracePeriodSeconds`; `None` is Kubernetes' default of 30 s.
    pub termination_grace_secs: Option<u64>,
}

/// `preemptionPolicy` of a pod or PriorityClass.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PreemptionPolicy {
    /// The pod may preempt lower-priority pods (the Kubernetes default).
    #[default]
    PreemptLowerPriority,
    /// The pod waits in the queue and never preempts.
    Never,
}

/// Priority from which a pod counts as critical (`system-cluster-critical` is 2,000,000,000).
pub const CRITICAL_PRIORITY: i32 = 2_000_000_000;

/// Kubernetes' default termination grace period, in seconds.
pub const DEFAULT_TERMINATION_GRACE_SECS: u64 = 30;

impl PodSpec {
    /// Termination grace period in seconds, with Kubernetes' default of 30.
    pub fn termination_grace(&self) -> u64 {
        self.termination_grace_secs
            .unwrap_or(DEFAULT_TERMINATION_GRACE_SECS)
    }

    /// The namespace, with `default` for an empty one.
    pub fn namespace(&self) -> &str {
        if self.namespace.is_empty() {
            "default"
        } else {
            &self.namespace
        }
    }

    /// Checks whether the pod has constraints that depend on other pods' placement.
    pub fn has_inter_pod_constraints(&self) -> bool {
        !self.topology_spread.is_empty()
            || !self.pod_affinity.required.is_empty()
            || !self.pod_affinity.preferred.is_empty()
            || !self.pod_anti_affinity.required.is_empty()
            || !self.pod_anti_affinity.preferred.is_empty()
    }
}

/// What created a pod; decides what happens when it is evicted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Owner {
    /// A Deployment (through its ReplicaSet), by index in the workload list; evicted pods are recreated.
    Deployment(u32),
    /// A StatefulSet, by index in the workload list, and the pod's ordinal: the pod is named
    /// `name-ordinal`, and an evicted pod is recreated under the same name once it is gone.
    StatefulSet {
        /// Index of the StatefulSet in the workload list.
        set: u32,
        /// Ordinal of the pod, from 0.
        ordinal: u32,
    },
    /// A Job, by index in the workload list; an evicted pod is recreated and runs again.
    Job(u32),
    /// No controller: an evicted bare pod is lost.
    Bare,
}

/// An integer or a percentage, as in a PodDisruptionBudget.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IntOrPercent {
    /// A number of pods.
    Int(i64),
    /// A percentage of the expected pods, rounded up.
    Percent(i64),
}

impl IntOrPercent {
    /// The number of pods out of `total`, rounding percentages up as the disruption controller does.
    pub fn resolve(self, total: i64) -> i64 {
        match self {
            IntOrPercent::Int(n) => n,
            IntOrPercent::Percent(p) => (total * p + 99) / 100,
        }
    }
}

/// A PodDisruptionBudget.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodDisruptionBudget {
    /// Name.
    pub name: String,
    /// Namespace; empty means `default`.
    pub namespace: String,
    /// Pods covered.
    pub selector: crate::selector::LabelSelector,
    /// `minAvailable`.
    pub min_available: Option<IntOrPercent>,
    /// `maxUnavailable`.
    pub max_unavailable: Option<IntOrPercent>,
}

impl PodDisruptionBudget {
    /// Checks whether the budget covers a pod of `spec`.
    pub fn covers(&self, spec: &PodSpec) -> bool {
        let namespace = if self.namespace.is_empty() {
            "default"
        } else {
            &self.namespace
        };
        spec.namespace() == namespace && self.selector.matches(&spec.labels)
    }

    /// Disruptions allowed with `expected` covered pods of which `healthy` are running, as the
    /// disruption controller computes `status.disruptionsAllowed`.
    pub fn disruptions_allowed(&self, expected: i64, healthy: i64) -> i64 {
        let desired_healthy = match (self.min_available, self.max_unavailable) {
            (Some(min), _) => min.resolve(expected),
            (None, Some(max)) => expected - max.resolve(expected),
            (None, None) => expected,
        };
        (healthy - desired_healthy).max(0)
    }
}

/// Where a pod is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PodPhase {
    /// Not bound to a node.
    Pending,
    /// Bound; containers are being created (startup latency).
    Starting,
    /// Bound and running.
    Running,
    /// Being deleted: still on its node and holding its requests until its termination grace
    /// period ends.
    Terminating,
}

/// A pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pod {
    /// Identifier.
    pub id: PodId,
    /// Owner.
    pub owner: Owner,
    /// Scheduling-relevant spec, shared with the owner's other pods.
    pub spec: Arc<PodSpec>,
    /// Phase.
    pub phase: PodPhase,
    /// Whether the scheduler marked the pod `PodScheduled=False, reason=Unschedulable`.
    pub unschedulable: bool,
    /// When the scheduler first marked it Unschedulable in its current pending spell.
    pub unschedulable_since: Option<SimTime>,
    /// Node the pod is bound to.
    pub node: Option<NodeId>,
    /// Creation time.
    pub created: SimTime,
    /// When the pod was bound, if it is; the pod's start time for preemption's ordering.
    pub bound_at: Option<SimTime>,
    /// `status.nominatedNodeName`: the node where the pod preempted others and waits for them
    /// to leave.
    pub nominated_node: Option<NodeId>,
    /// Whether the pod terminates because kube-scheduler preempted it (condition
    /// `DisruptionTarget` with reason `PreemptionByScheduler`).
    pub preempted: bool,
}

impl Pod {
    /// Start time as kube-scheduler's preemption orders pods by it: when the pod was bound, or
    /// its creation while it is Pending.
    pub fn start_time(&self) -> SimTime {
        self.bound_at.unwrap_or(self.created)
    }

    /// Returns the end of the pod's `karpenter.sh/do-not-disrupt` protection: never for
    /// `"true"`, the pod's start plus the duration for a duration value, and `None` without the
    /// annotation.
    pub fn do_not_disrupt_until(&self) -> Option<SimTime> {
        if self.spec.do_not_disrupt {
            return Some(SimTime::NEVER);
        }
        self.spec
            .do_not_disrupt_for
            .map(|duration| self.start_time() + duration)
    }

    /// Checks whether `karpenter.sh/do-not-disrupt` protects the pod at `now`: a duration value
    /// protects it while it has run for less than that duration (kubernetes-sigs/karpenter
    /// v1.14.1 `IsDoNotDisruptActive`, `pkg/utils/pod/scheduling.go`).
    pub fn do_not_disrupt_active(&self, now: SimTime) -> bool {
        self.do_not_disrupt_until().is_some_and(|until| now < until)
    }

    /// Checks whether the pod waits for the victims of its preemption (it has a
    /// `nominatedNodeName`); Karpenter's `IsProvisionable` leaves such pods out.
    pub fn is_preempting(&self) -> bool {
        self.nominated_node.is_some()
    }
}

/// Lifecycle of a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum NodeState {
    /// Requested from EC2, not Ready yet: counts as in-flight capacity for the autoscalers.
    Launching,
    /// Ready and schedulable unless cordoned.
    Ready,
    /// Being removed: tainted, pods evicted, instance about to terminate.
    Deleting,
}

/// EC2 capacity type of a node.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum CapacityType {
    /// On-demand.
    #[default]
    OnDemand,
    /// Spot.
    Spot,
}

impl CapacityType {
    /// Label value, as Karpenter writes it.
    pub fn label(self) -> &'static str {
        match self {
            CapacityType::OnDemand => "on-demand",
            CapacityType::Spot => "spot",
        }
    }
}

/// A node and the EC2 instance behind it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// Identifier.
    pub id: NodeId,
    /// Node name.
    pub name: String,
    /// Node group or NodePool that launched it.
    pub owner: String,
    /// Instance type, as an index into the run's catalog.
    pub instance_type: InstanceTypeIndex,
    /// Capacity type.
    pub capacity_type: CapacityType,
    /// Availability zone.
    pub zone: String,
    /// Price per hour the instance is billed at.
    pub price: Price,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Taints.
    pub taints: Vec<Taint>,
    /// Allocatable resources.
    pub allocatable: Resources,
    /// Requests of DaemonSet pods that run on the node.
    pub daemon_requests: Resources,
    /// DaemonSet overhead as an autoscaler estimates it from the DaemonSets' templates. It
    /// equals `daemon_requests` unless admission changed the daemon pods' requests.
    pub daemon_estimate: Resources,
    /// Host ports of DaemonSet pods that run on the node.
    pub daemon_host_ports: Vec<u16>,
    /// Requests of bound non-DaemonSet pods.
    pub pod_requests: Resources,
    /// Bound non-DaemonSet pods.
    pub pods: BTreeSet<PodId>,
    /// Number of changes to the node's non-DaemonSet pods: binds, removals, and bound pods that
    /// start running, are preempted or begin terminating. Node ids are not reused, so a policy
    /// can cache per-node facts under the id and this number.
    pub pod_changes: u64,
    /// Lifecycle state.
    pub state: NodeState,
    /// Cordoned (`spec.unschedulable`).
    pub cordoned: bool,
    /// When the launch was requested.
    pub launched_at: SimTime,
    /// When the node became Ready.
    pub ready_at: Option<SimTime>,
    /// Last time a non-DaemonSet pod was bound to or removed from the node (Karpenter's
    /// `lastPodEventTime`).
    pub last_pod_event: SimTime,
    /// Annotations, such as `cluster-autoscaler.kubernetes.io/scale-down-disabled`.
    pub annotations: BTreeMap<String, String>,
    /// Since when the Ready condition is false after the node was Ready (the kubelet stopped
    /// reporting). The node lifecycle controller then taints it `node.kubernetes.io/not-ready`,
    /// so kube-scheduler places nothing on it.
    /// NOTE: the world never sets this; library users and tests do, with
    /// [`crate::Cluster::set_node_not_ready`].
    pub not_ready_since: Option<SimTime>,
}

impl Node {
    /// Requests of every pod on the node, DaemonSet pods included.
    #[inline]
    pub fn requested(&self) -> Resources {
        self.daemon_requests + self.pod_requests
    }

    /// Allocatable minus all requests.
    #[inline]
    pub fn free(&self) -> Resources {
        self.allocatable - self.requested()
    }

    /// Whether the scheduler may bind new pods here (Ready, its Ready condition true, and not
    /// cordoned).
    #[inline]
    pub fn is_schedulable(&self) -> bool {
        self.is_in_service() && self.not_ready_since.is_none()
    }

    /// Whether the node is Ready in its lifecycle and not cordoned, regardless of its Ready
    /// condition.
    #[inline]
    pub fn is_in_service(&self) -> bool {
        self.state == NodeState::Ready && !self.cordoned
    }
}

/// A DaemonSet: one pod on every node it selects and tolerates.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaemonSet {
    /// Name.
    pub name: String,
    /// Pod spec of the DaemonSet's template, from which the autoscalers estimate the overhead
    /// of a node they have not launched yet.
    pub spec: PodSpec,
    /// Requests of the daemon pod that runs on each node. They differ from the template's when
    /// admission fills in requests the template leaves out (a LimitRange's defaults), which
    /// the autoscalers' estimates miss.
    pub node_requests: Resources,
}

impl DaemonSet {
    /// Builds a DaemonSet whose pods request what its template requests.
    pub fn new(name: &str, spec: PodSpec) -> Self {
        DaemonSet {
            name: name.to_string(),
            node_requests: spec.requests,
            spec,
        }
    }

    /// Checks whether a daemon pod runs on a node with these labels and taints, as the
    /// DaemonSet controller's `NodeShouldRunDaemonPod` decides: the pod template's node
    /// selector and required node affinity match, and its tolerations cover the NoSchedule and
    /// NoExecute taints.
    /// NOTE: the controller also adds tolerations for the node condition taints and
    /// `node.kubernetes.io/unschedulable`; this model has no such taints.
    pub fn runs_on(&self, labels: &BTreeMap<String, String>, taints: &[Taint]) -> bool {
        crate::plugins::node_affinity_matches(&self.spec, labels)
            && tolerates_all(&self.spec.tolerations, taints)
    }
}

/// Summed template requests of the DaemonSets that run on a node with these labels and taints,
/// as an autoscaler estimates them.
pub fn daemon_overhead(
    daemonsets: &[DaemonSet],
    labels: &BTreeMap<String, String>,
    taints: &[Taint],
) -> Resources {
    daemonsets
        .iter()
        .filter(|ds| ds.runs_on(labels, taints))
        .map(|ds| ds.spec.requests)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taint(key: &str, value: &str, effect: TaintEffect) -> Taint {
        Taint {
            key: key.into(),
            value: value.into(),
            effect,
        }
    }

    #[test]
    fn toleration_rules() {
        let gpu = taint("nvidia.com/gpu", "true", TaintEffect::NoSchedule);
        let exists_all = Toleration {
            operator: TolerationOperator::Exists,
            ..Default::default()
        };
        let equal = Toleration {
            key: "nvidia.com/gpu".into(),
            value: "true".into(),
            ..Default::default()
        };
        let wrong_value = Toleration {
            key: "nvidia.com/gpu".into(),
            value: "false".into(),
            ..Default::default()
        };
        let wrong_effect = Toleration {
            key: "nvidia.com/gpu".into(),
            operator: TolerationOperator::Exists,
            effect: Some(TaintEffect::NoExecute),
            ..Default::default()
        };

        assert!(exists_all.tolerates(&gpu));
        assert!(equal.tolerates(&gpu));
        assert!(!wrong_value.tolerates(&gpu));
        assert!(!wrong_effect.tolerates(&gpu));
        assert!(tolerates_all(
            &[],
            &[taint("soft", "", TaintEffect::PreferNoSchedule)]
        ));
        assert!(!tolerates_all(&[], &[gpu]));
    }

    #[test]
    fn daemonset_honours_required_node_affinity() {
        let arm_only = DaemonSet::new(
            "arm-agent",
            PodSpec {
                requests: Resources::new(50, 0, 1),
                node_affinity: crate::constraints::NodeAffinity {
                    required: vec![crate::constraints::NodeSelectorTerm {
                        match_expressions: vec![crate::selector::Requirement {
                            key: LABEL_ARCH.into(),
                            operator: crate::selector::Operator::In,
                            values: vec!["arm64".into()],
                            min_values: None,
                        }],
                    }],
                    preferred: vec![],
                },
                ..Default::default()
            },
        );
        let with_selector = DaemonSet::new(
            "zone-a-agent",
            PodSpec {
                requests: Resources::new(30, 0, 1),
                node_selector: [(LABEL_ZONE.to_string(), "us-east-1a".to_string())].into(),
                ..Default::default()
            },
        );
        let arm_in_a: BTreeMap<String, String> = [
            (LABEL_ARCH.to_string(), "arm64".to_string()),
            (LABEL_ZONE.to_string(), "us-east-1a".to_string()),
        ]
        .into();
        let amd_in_b: BTreeMap<String, String> = [
            (LABEL_ARCH.to_string(), "amd64".to_string()),
            (LABEL_ZONE.to_string(), "us-east-1b".to_string()),
        ]
        .into();
        let both = [arm_only.clone(), with_selector.clone()];

        assert!(arm_only.runs_on(&arm_in_a, &[]));
        assert!(!arm_only.runs_on(&amd_in_b, &[]));
        assert!(with_selector.runs_on(&arm_in_a, &[]));
        assert!(!with_selector.runs_on(&amd_in_b, &[]));
        assert_eq!(
            daemon_overhead(&both, &arm_in_a, &[]),
            Resources::new(80, 0, 2)
        );
        assert_eq!(daemon_overhead(&both, &amd_in_b, &[]), Resources::ZERO);
    }

    #[test]
    fn tolerate_all_daemonset_runs_on_tainted_node() {
        let ds = DaemonSet::new(
            "aws-node",
            PodSpec {
                requests: Resources::new(25, 0, 1),
                tolerations: vec![Toleration {
                    operator: TolerationOperator::Exists,
                    ..Default::default()
                }],
                ..Default::default()
            },
        );
        let picky = DaemonSet::new(
            "picky",
            PodSpec {
                requests: Resources::new(100, 0, 1),
                ..Default::default()
            },
        );
        let taints = vec![taint("dedicated", "batch", TaintEffect::NoSchedule)];

        assert_eq!(
            daemon_overhead(&[ds.clone(), picky.clone()], &BTreeMap::new(), &taints),
            Resources::new(25, 0, 1)
        );
        assert_eq!(
            daemon_overhead(&[ds, picky], &BTreeMap::new(), &[]),
            Resources::new(125, 0, 2)
        );
    }
}
