//! Scheduling constraints of a pod: node affinity, inter-pod (anti-)affinity and topology spread,
//! with Kubernetes' field names.

use serde::{Deserialize, Serialize};

use crate::selector::{LabelSelector, Requirement};

/// One term of required node affinity: every requirement must hold (`nodeSelectorTerms[]`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeSelectorTerm {
    /// Requirements on node labels.
    #[serde(default)]
    pub match_expressions: Vec<Requirement>,
}

/// A preferred node-affinity term with its weight (1–100).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PreferredNodeTerm {
    /// Weight added to a node's score when the term matches.
    #[serde(deserialize_with = "crate::whole_number::integer")]
    pub weight: i32,
    /// The term.
    pub preference: NodeSelectorTerm,
}

/// Node affinity: required terms (any one must hold) and preferred terms.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NodeAffinity {
    /// `requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`; empty means no requirement.
    pub required: Vec<NodeSelectorTerm>,
    /// `preferredDuringSchedulingIgnoredDuringExecution`.
    pub preferred: Vec<PreferredNodeTerm>,
}

/// A pod (anti-)affinity term: pods matching `label_selector` in the same `topology_key` domain.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PodAffinityTerm {
    /// Which pods the term is about.
    #[serde(default)]
    pub label_selector: LabelSelector,
    /// Node label that defines the domain, such as `kubernetes.io/hostname` or
    /// `topology.kubernetes.io/zone`.
    #[serde(deserialize_with = "crate::string_value::topology_key")]
    pub topology_key: String,
    /// Namespaces of the pods considered; empty means the pod's own namespace.
    #[serde(default, deserialize_with = "crate::string_value::namespaces")]
    pub namespaces: Vec<String>,
}

/// A preferred pod (anti-)affinity term with its weight (1–100).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WeightedPodAffinityTerm {
    /// Weight.
    #[serde(deserialize_with = "crate::whole_number::integer")]
    pub weight: i32,
    /// The term.
    pub pod_affinity_term: PodAffinityTerm,
}

/// Pod affinity or anti-affinity: required and preferred terms.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PodAffinity {
    /// `requiredDuringSchedulingIgnoredDuringExecution`.
    pub required: Vec<PodAffinityTerm>,
    /// `preferredDuringSchedulingIgnoredDuringExecution`.
    pub preferred: Vec<WeightedPodAffinityTerm>,
}

/// What the scheduler does when a topology spread constraint cannot be met.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WhenUnsatisfiable {
    /// A hard constraint: the pod stays Pending rather than skew the spread.
    #[default]
    DoNotSchedule,
    /// A soft constraint: the scheduler prefers nodes that reduce the skew.
    ScheduleAnyway,
}

/// A topology spread constraint (`topologySpreadConstraints[]`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TopologySpreadConstraint {
    /// Largest allowed difference between the number of matching pods in a domain and the
    /// smallest number in any eligible domain.
    #[serde(deserialize_with = "crate::whole_number::integer")]
    pub max_skew: i32,
    /// Node label that defines the domains.
    #[serde(deserialize_with = "crate::string_value::topology_key")]
    pub topology_key: String,
    /// Hard or soft.
    #[serde(default)]
    pub when_unsatisfiable: WhenUnsatisfiable,
    /// Pods counted.
    #[serde(default)]
    pub label_selector: LabelSelector,
    /// Minimum number of eligible domains; while fewer exist, the smallest count is taken as 0.
    #[serde(default, deserialize_with = "crate::whole_number::optional_integer")]
    pub min_domains: Option<i32>,
}
