//! Cluster-wide core and memory limits (`--cores-total`, `--memory-total`), as the quota
//! tracker of 1.36 applies them (`resourcequotas/tracker.go`, `resourcequotas/cache.go`).
//!
//! The tracker sums the capacity of every node in Cluster Autoscaler's snapshot, upcoming
//! nodes included. Cores are whole cores rounded up, as `Quantity.Value()` rounds. The first
//! node of a group that the tracker meets sets the resources of every node of the group, a new
//! one included. A group with no node uses its template.

use autoscale_sim_cloud::Resources;
use autoscale_sim_kube::NodeState;

use super::ClusterAutoscaler;
use super::template::Template;
use crate::api::ClusterView;

/// Cores and memory bytes of one node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct NodeResources {
    cores: i64,
    memory_bytes: i64,
}

impl NodeResources {
    fn of(capacity: Resources) -> Self {
        NodeResources {
            cores: (capacity.cpu_millis.max(0) + 999) / 1000,
            memory_bytes: capacity.memory_bytes.max(0),
        }
    }
}

/// Cores and memory left before a limit: headroom to the maximum for scale-up, or to the
/// minimum for scale-down.
#[derive(Clone, Debug)]
pub(super) struct QuotaTracker {
    cores_left: i64,
    memory_left: i64,
    /// Resources of one node of each group, indexed like the groups.
    per_group: Vec<NodeResources>,
}

impl QuotaTracker {
    /// Counts how many of `requested` nodes of `group` fit in what is left (`CheckQuota`).
    pub(super) fn allowed(&self, group: usize, requested: u32) -> u32 {
        let node = self.per_group[group];
        let mut allowed = i64::from(requested);
        for (left, per_node) in [
            (self.cores_left, node.cores),
            (self.memory_left, node.memory_bytes),
        ] {
            if per_node > 0 && left < per_node * i64::from(requested) {
                allowed = allowed.min(left / per_node);
            }
        }
        allowed.max(0) as u32
    }

    /// Names the limits that leave no room for one more node of `group`: `--cores-total`,
    /// `--memory-total` or both, as Cluster Autoscaler's skip reason lists the exceeded
    /// resources (`NewMaxResourceLimitReached`, 1.36 `skippedreasons.go`).
    pub(super) fn exceeded(&self, group: usize) -> Vec<&'static str> {
        let node = self.per_group[group];
        [
            (self.cores_left, node.cores, "--cores-total"),
            (self.memory_left, node.memory_bytes, "--memory-total"),
        ]
        .into_iter()
        .filter(|(left, per_node, _)| *per_node > 0 && left < per_node)
        .map(|(_, _, flag)| flag)
        .collect()
    }

    /// Takes `count` nodes of `group` off what is left, only if all of them fit
    /// (`ConsumeQuota`); returns whether they did.
    pub(super) fn consume(&mut self, group: usize, count: u32) -> bool {
        if self.allowed(group, count) < count {
            return false;
        }
        let node = self.per_group[group];
        self.cores_left = (self.cores_left - node.cores * i64::from(count)).max(0);
        self.memory_left = (self.memory_left - node.memory_bytes * i64::from(count)).max(0);
        true
    }
}

impl ClusterAutoscaler {
    /// Returns the resources per group and the summed cores and memory of every node.
    fn usage(
        &self,
        view: &ClusterView<'_>,
        templates: &[Template],
    ) -> (Vec<NodeResources>, i64, i64) {
        let mut first: Vec<Option<NodeResources>> = vec![None; templates.len()];
        // Registered nodes come before upcoming ones in the snapshot.
        for registered in [true, false] {
            for node in view.cluster.nodes() {
                if (node.state != NodeState::Launching) != registered {
                    continue;
                }
                if let Some(group) = self.group_of(node)
                    && first[group].is_none()
                {
                    first[group] = Some(if registered {
                        NodeResources::of(view.catalog.get(node.instance_type).capacity())
                    } else {
                        NodeResources::of(templates[group].capacity)
                    });
                }
            }
        }
        let per_group: Vec<NodeResources> = first
            .iter()
            .zip(templates)
            .map(|(found, template)| found.unwrap_or(NodeResources::of(template.capacity)))
            .collect();

        let (mut cores, mut memory) = (0, 0);
        for node in view.cluster.nodes() {
            let resources = match self.group_of(node) {
                Some(group) => per_group[group],
                None => NodeResources::of(view.catalog.get(node.instance_type).capacity()),
            };
            cores += resources.cores;
            memory += resources.memory_bytes;
        }
        (per_group, cores, memory)
    }

    /// Builds the tracker of the headroom to the `--cores-total` and `--memory-total` maximums
    /// (`NewMaxQuotasTracker`).
    pub(super) fn max_quota(&self, view: &ClusterView<'_>, templates: &[Template]) -> QuotaTracker {
        let (per_group, cores, memory) = self.usage(view, templates);
        let limits = self.config.resource_limits;
        QuotaTracker {
            cores_left: (limits.cores.1 - cores).max(0),
            memory_left: (limits.memory_bytes.1 - memory).max(0),
            per_group,
        }
    }

    /// Builds the tracker of what scale-down may remove before the minimums
    /// (`NewMinQuotasTracker`).
    pub(super) fn min_quota(&self, view: &ClusterView<'_>, templates: &[Template]) -> QuotaTracker {
        let (per_group, cores, memory) = self.usage(view, templates);
        let limits = self.config.resource_limits;
        QuotaTracker {
            cores_left: (cores - limits.cores.0).max(0),
            memory_left: (memory - limits.memory_bytes.0).max(0),
            per_group,
        }
    }
}
