//! Balancing similar node groups (`--balance-similar-node-groups`, `processors/nodegroupset`,
//! 1.36): which groups count as similar, and how a scale-up is split over them.

use std::collections::BTreeSet;

use autoscale_sim_cloud::Resources;

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

fn all_within(a: Resources, b: Resources, ratio: f64) -> bool {
    within(a.cpu_millis, b.cpu_millis, ratio)
        && within(a.memory_bytes, b.memory_bytes, ratio)
        && within(a.pods, b.pods, ratio)
}

/// Checks whether two groups' templates are similar (`IsCloudProviderNodeInfoSimilar` with the AWS
/// comparator, or the label comparator when `--balancing-label` is set).
pub(super) fn similar(a: &Template, b: &Template, config: &BalancingConfig) -> bool {
    if !config.labels.is_empty() {
        return config.labels.iter().all(|label| {
            matches!((a.labels.get(label), b.labels.get(label)), (Some(x), Some(y)) if x == y)
        });
    }

    // Capacity: memory within its ratio, everything else equal.
    if a.capacity.cpu_millis != b.capacity.cpu_millis
        || a.capacity.pods != b.capacity.pods
        || !within(
            a.capacity.memory_bytes,
            b.capacity.memory_bytes,
            config.memory_difference_ratio,
        )
    {
        return false;
    }
    if !all_within(
        a.allocatable,
        b.allocatable,
        config.max_allocatable_difference_ratio,
    ) {
        return false;
    }
    // Free resources: CPU and memory; the requested pod count is not a resource here.
    let (free_a, free_b) = (a.free(), b.free());
    if !within(
        free_a.cpu_millis,
        free_b.cpu_millis,
        config.max_free_difference_ratio,
    ) || !within(
        free_a.memory_bytes,
        free_b.memory_bytes,
        config.max_free_difference_ratio,
    ) {
        return false;
    }

    let ignored = |key: &String| {
        IGNORED_LABELS.contains(&key.as_str()) || config.ignored_labels.contains(key)
    };
    let mut left = a.labels.iter().filter(|(k, _)| !ignored(k));
    let mut right = b.labels.iter().filter(|(k, _)| !ignored(k));
    loop {
        match (left.next(), right.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if x == y => {}
            _ => return false,
        }
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
