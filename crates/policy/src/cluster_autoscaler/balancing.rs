//! Balancing similar node groups (`--balance-similar-node-groups`, `processors/nodegroupset`,
//! 1.36): which groups count as similar, and how a scale-up is split over them.

use std::collections::BTreeSet;

use autoscale_sim_cloud::Resources;
use autoscale_sim_kube::quantity::{format_bytes, format_cpu_millis};

use super::template::Template;

/// Labels the AWS comparator ignores besides the `--balancing-ignore-label` ones: the basic
/// list of `compare_nodegroups.go` (hostname, zone and region labels, both spellings, the
/// fluentd migration label and kops' instance group) and the AWS additions of
/// `aws_nodegroups.go`.
pub const IGNORED_LABELS: [&str; 14] = [
    "kubernetes.io/hostname",
    "failure-domain.beta.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/region",
    "topology.kubernetes.io/zone",
    "topology.kubernetes.io/region",
    "beta.kubernetes.io/fluentd-ds-ready",
    "kops.k8s.io/instancegroup",
    "alpha.eksctl.io/instance-id",
    "alpha.eksctl.io/nodegroup-name",
    "eks.amazonaws.com/nodegroup",
    "k8s.amazonaws.com/eniConfig",
    "lifecycle",
    "topology.ebs.csi.aws.com/zone",
    "topology.k8s.aws/zone-id",
];

/// The prefix of the instance type labels that nodes carry here for Karpenter's sake
/// (instance family, category, size, CPU, memory, ...), not on a real Auto Scaling group.
const MODEL_ONLY_LABEL_PREFIX: &str = "karpenter.k8s.aws/";

/// Settings of `--balance-similar-node-groups` and its similarity rule.
#[derive(Clone, Debug, PartialEq)]
pub struct BalancingConfig {
    /// `--balance-similar-node-groups`; default false.
    pub enabled: bool,
    /// `--memory-difference-ratio`: how much memory capacity may differ, as a share of the
    /// larger; default 0.015.
    pub memory_difference_ratio: f64,
    /// `--max-allocatable-difference-ratio`; default 0.05.
    pub max_allocatable_difference_ratio: f64,
    /// `--max-free-difference-ratio`: free is allocatable less the template's DaemonSet
    /// requests; default 0.05.
    pub max_free_difference_ratio: f64,
    /// `--balancing-ignore-label`: more labels to ignore.
    pub ignored_labels: BTreeSet<String>,
    /// `--balancing-label`: when set, groups are similar when these labels, and only these,
    /// are equal.
    pub labels: Vec<String>,
}

impl Default for BalancingConfig {
    /// Returns the 1.36 defaults (`DefaultMaxCapacityMemoryDifferenceRatio`,
    /// `DefaultMaxAllocatableDifferenceRatio`, `DefaultMaxFreeDifferenceRatio` in
    /// `config/autoscaling_options.go`).
    fn default() -> Self {
        BalancingConfig {
            enabled: false,
            memory_difference_ratio: 0.015,
            max_allocatable_difference_ratio: 0.05,
            max_free_difference_ratio: 0.05,
            ignored_labels: BTreeSet::new(),
            labels: vec![],
        }
    }
}

/// Checks whether two quantities differ by at most `ratio` of the larger
/// (`resourceListWithinTolerance`).
fn within(a: i64, b: i64, ratio: f64) -> bool {
    let (larger, smaller) = (a.max(b) as f64, a.min(b) as f64);
    larger - smaller <= larger * ratio
}

/// A resource the comparator compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ResourceName {
    Cpu,
    Memory,
    Pods,
}

impl ResourceName {
    fn of(self, resources: Resources) -> i64 {
        match self {
            ResourceName::Cpu => resources.cpu_millis,
            ResourceName::Memory => resources.memory_bytes,
            ResourceName::Pods => resources.pods,
        }
    }

    /// Formats a quantity of the resource as Kubernetes prints it.
    fn format(self, value: i64) -> String {
        match self {
            ResourceName::Cpu => format_cpu_millis(value),
            ResourceName::Memory => format_bytes(value),
            ResourceName::Pods => value.to_string(),
        }
    }

    fn name(self) -> &'static str {
        match self {
            ResourceName::Cpu => "cpu",
            ResourceName::Memory => "memory",
            ResourceName::Pods => "pods",
        }
    }
}

/// The first comparison that two templates fail, in the comparator's order, with the value of
/// each side: `left` is the first template's, `right` the second's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Dissimilarity {
    /// A `--balancing-label` label is missing on a side or has another value.
    BalancingLabel {
        key: String,
        left: Option<String>,
        right: Option<String>,
    },
    /// CPU or pod capacity is not equal, or memory capacity differs by more than
    /// `--memory-difference-ratio`.
    Capacity {
        resource: ResourceName,
        left: i64,
        right: i64,
    },
    /// Allocatable differs by more than `--max-allocatable-difference-ratio`.
    Allocatable {
        resource: ResourceName,
        left: i64,
        right: i64,
    },
    /// Free resources differ by more than `--max-free-difference-ratio`.
    Free {
        resource: ResourceName,
        left: i64,
        right: i64,
    },
    /// A label that is not ignored is missing on a side or has another value.
    Label {
        key: String,
        left: Option<String>,
        right: Option<String>,
    },
}

impl Dissimilarity {
    /// Returns how far the comparison got before it failed: a higher stage is a closer match.
    fn stage(&self) -> u8 {
        match self {
            Dissimilarity::BalancingLabel { .. } | Dissimilarity::Capacity { .. } => 0,
            Dissimilarity::Allocatable { .. } => 1,
            Dissimilarity::Free { .. } => 2,
            Dissimilarity::Label { .. } => 3,
        }
    }

    /// Describes the failed comparison, naming `left_group` and `right_group` for the two
    /// sides, such as "memory capacity differs: ng2 has 8Gi and ng1 has 16Gi, beyond
    /// --memory-difference-ratio=0.015".
    pub(super) fn describe(
        &self,
        left_group: &str,
        right_group: &str,
        config: &BalancingConfig,
    ) -> String {
        let label_value = |value: &Option<String>| match value {
            Some(value) => format!("{value:?}"),
            None => "none".to_string(),
        };
        match self {
            Dissimilarity::BalancingLabel { key, left, right } => format!(
                "--balancing-label {key} differs: {right_group} has {} and {left_group} has {}",
                label_value(right),
                label_value(left)
            ),
            Dissimilarity::Label { key, left, right } => format!(
                "label {key} differs: {right_group} has {} and {left_group} has {}",
                label_value(right),
                label_value(left)
            ),
            Dissimilarity::Capacity {
                resource,
                left,
                right,
            } => {
                let rule = match resource {
                    ResourceName::Memory => format!(
                        "beyond --memory-difference-ratio={}",
                        config.memory_difference_ratio
                    ),
                    _ => "and it must be equal".to_string(),
                };
                format!(
                    "{} capacity differs: {right_group} has {} and {left_group} has {}, {rule}",
                    resource.name(),
                    resource.format(*right),
                    resource.format(*left)
                )
            }
            Dissimilarity::Allocatable {
                resource,
                left,
                right,
            } => format!(
                "allocatable {} differs: {right_group} has {} and {left_group} has {}, beyond \
                 --max-allocatable-difference-ratio={}",
                resource.name(),
                resource.format(*right),
                resource.format(*left),
                config.max_allocatable_difference_ratio
            ),
            Dissimilarity::Free {
                resource,
                left,
                right,
            } => format!(
                "free {} (allocatable less DaemonSet requests) differs: {right_group} has {} and \
                 {left_group} has {}, beyond --max-free-difference-ratio={}",
                resource.name(),
                resource.format(*right),
                resource.format(*left),
                config.max_free_difference_ratio
            ),
        }
    }
}

/// Returns the first resource of `resources` on which `a` and `b` differ by more than `ratio`.
fn first_beyond(
    a: Resources,
    b: Resources,
    ratio: f64,
    resources: &[ResourceName],
) -> Option<(ResourceName, i64, i64)> {
    resources
        .iter()
        .map(|&resource| (resource, resource.of(a), resource.of(b)))
        .find(|&(_, left, right)| !within(left, right, ratio))
}

/// Returns the first label, in key order, that is missing on a side or differs, as
/// (key, value in `left`, value in `right`). Both iterators must be sorted by key.
fn first_label_difference<'l>(
    mut left: impl Iterator<Item = (&'l String, &'l String)>,
    mut right: impl Iterator<Item = (&'l String, &'l String)>,
) -> Option<(String, Option<String>, Option<String>)> {
    let (mut x, mut y) = (left.next(), right.next());
    loop {
        match (x, y) {
            (None, None) => return None,
            (Some((key, value)), None) => return Some((key.clone(), Some(value.clone()), None)),
            (None, Some((key, value))) => return Some((key.clone(), None, Some(value.clone()))),
            (Some((key_a, value_a)), Some((key_b, value_b))) => {
                if key_a < key_b {
                    return Some((key_a.clone(), Some(value_a.clone()), None));
                }
                if key_b < key_a {
                    return Some((key_b.clone(), None, Some(value_b.clone())));
                }
                if value_a != value_b {
                    return Some((key_a.clone(), Some(value_a.clone()), Some(value_b.clone())));
                }
                (x, y) = (left.next(), right.next());
            }
        }
    }
}

/// Checks whether two groups' templates are similar (`IsCloudProviderNodeInfoSimilar` with the AWS
/// comparator, or the label comparator when `--balancing-label` is set).
pub(super) fn similar(a: &Template, b: &Template, config: &BalancingConfig) -> bool {
    dissimilarity(a, b, config).is_none()
}

/// Returns the first comparison of [`similar`] that `a` and `b` fail, or `None` when they are
/// similar. Capacity is compared resource by resource (CPU, memory, pods), although the real
/// comparator walks a Go map, whose order varies, so it may log another resource first.
pub(super) fn dissimilarity(
    a: &Template,
    b: &Template,
    config: &BalancingConfig,
) -> Option<Dissimilarity> {
    if !config.labels.is_empty() {
        return config.labels.iter().find_map(|key| {
            let (left, right) = (a.labels.get(key), b.labels.get(key));
            match (left, right) {
                (Some(x), Some(y)) if x == y => None,
                _ => Some(Dissimilarity::BalancingLabel {
                    key: key.clone(),
                    left: left.cloned(),
                    right: right.cloned(),
                }),
            }
        });
    }

    // Capacity: memory within its ratio, everything else equal.
    let capacity = [ResourceName::Cpu, ResourceName::Memory, ResourceName::Pods]
        .into_iter()
        .map(|resource| (resource, resource.of(a.capacity), resource.of(b.capacity)))
        .find(|&(resource, left, right)| match resource {
            ResourceName::Memory => !within(left, right, config.memory_difference_ratio),
            _ => left != right,
        });
    if let Some((resource, left, right)) = capacity {
        return Some(Dissimilarity::Capacity {
            resource,
            left,
            right,
        });
    }
    let every_resource = [ResourceName::Cpu, ResourceName::Memory, ResourceName::Pods];
    if let Some((resource, left, right)) = first_beyond(
        a.allocatable,
        b.allocatable,
        config.max_allocatable_difference_ratio,
        &every_resource,
    ) {
        return Some(Dissimilarity::Allocatable {
            resource,
            left,
            right,
        });
    }
    // Free resources: CPU and memory; the requested pod count is not a resource here.
    if let Some((resource, left, right)) = first_beyond(
        a.free(),
        b.free(),
        config.max_free_difference_ratio,
        &[ResourceName::Cpu, ResourceName::Memory],
    ) {
        return Some(Dissimilarity::Free {
            resource,
            left,
            right,
        });
    }

    // The model labels every node with the instance type's `karpenter.k8s.aws/` labels, which
    // a real Auto Scaling group's template does not carry. So in the real comparator they never
    // differ. The instance type itself still differs in `node.kubernetes.io/instance-type`.
    let ignored = |key: &String| {
        IGNORED_LABELS.contains(&key.as_str())
            || key.starts_with(MODEL_ONLY_LABEL_PREFIX)
            || config.ignored_labels.contains(key)
    };
    let left = a.labels.iter().filter(|(k, _)| !ignored(k));
    let right = b.labels.iter().filter(|(k, _)| !ignored(k));
    first_label_difference(left, right).map(|(key, left, right)| Dissimilarity::Label {
        key,
        left,
        right,
    })
}

/// Explains why the group `chosen` has no similar group to balance with, for the decision
/// log: the closest of the `candidates` (the other groups that may scale up) is the one whose
/// comparison failed latest, the first in `candidates` on a tie. A candidate with a similar template
/// is not similar only because it cannot hold every pod group that `chosen` can hold.
/// `name_of` returns a group's name.
pub(super) fn explain_no_similar(
    chosen: usize,
    candidates: &[usize],
    templates: &[Template],
    name_of: impl Fn(usize) -> String,
    config: &BalancingConfig,
) -> String {
    let mut closest: Option<(u8, usize, Option<Dissimilarity>)> = None;
    for &other in candidates {
        let difference = dissimilarity(&templates[chosen], &templates[other], config);
        // A similar template that cannot hold every pod group got past every comparison.
        let stage = difference.as_ref().map_or(u8::MAX, Dissimilarity::stage);
        if closest.as_ref().is_none_or(|(best, _, _)| stage > *best) {
            closest = Some((stage, other, difference));
        }
    }
    let chosen_name = name_of(chosen);
    match closest {
        None => "no other node group may scale up".to_string(),
        Some((_, other, Some(difference))) => format!(
            "closest is {}, whose {}",
            name_of(other),
            difference.describe(&chosen_name, &name_of(other), config)
        ),
        Some((_, other, None)) => format!(
            "closest is {}, which is similar but cannot hold every pod group that \
             {chosen_name} can hold",
            name_of(other)
        ),
    }
}

/// One group's part of a balanced scale-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct GroupSize {
    pub group: usize,
    pub current: u32,
    pub new: u32,
    pub max: u32,
}

/// Splits `new_nodes` over `groups` (`BalanceScaleUpBetweenGroups`): groups at their maximum
/// drop out, the total is capped at the room left, and each node goes to the currently
/// smallest group. Groups of the same size are filled in the order given, as Go's sort of a
/// short slice keeps it (the chosen group first, then the similar ones).
pub(super) fn balance(groups: &[(usize, u32, u32)], new_nodes: u32) -> Vec<GroupSize> {
    let mut sizes: Vec<GroupSize> = groups
        .iter()
        .filter(|(_, current, max)| current < max)
        .map(|&(group, current, max)| GroupSize {
            group,
            current,
            new: current,
            max,
        })
        .collect();
    let room: u32 = sizes.iter().map(|s| s.max - s.current).sum();
    let mut left = new_nodes.min(room);
    sizes.sort_by_key(|s| s.current);
    while left > 0 {
        let smallest = sizes
            .iter_mut()
            .filter(|s| s.new < s.max)
            .min_by_key(|s| s.new)
            .expect("the total is capped at the room left");
        smallest.new += 1;
        left -= 1;
    }
    sizes.retain(|s| s.new > s.current);
    sizes
}
