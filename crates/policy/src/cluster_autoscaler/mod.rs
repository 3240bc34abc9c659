//! A model of Kubernetes Cluster Autoscaler 1.36 with EC2 Auto Scaling groups as node groups.
//!
//! Each loop (`RunOnce`, every `--scan-interval`, at once after a productive loop, and when a pod
//! becomes Unschedulable) does, in order:
//! 1. skip everything while the oldest Unschedulable pod is younger than 2 s;
//! 2. drop pending pods that fit on existing nodes or on upcoming (launching) nodes;
//! 3. scale up: run the binpacking estimator on each node group's template, pick one option with
//!    the expander chain, and grow that group;
//! 4. scale down: mark nodes whose utilization is at most the threshold and whose pods fit
//!    elsewhere as unneeded, and delete those unneeded for longer than the unneeded time, unless
//!    a scale-up happened within the delay after add.
//!
//! Defaults, from `cluster-autoscaler/config/flags/flags.go` at tag cluster-autoscaler-1.36.1:
//!
//! | flag | default |
//! |---|---|
//! | `--scan-interval` | 10s |
//! | `--expander` | least-waste (random up to 1.32) |
//! | `--scale-down-utilization-threshold` | 0.5 |
//! | `--scale-down-unneeded-time` | 10m |
//! | `--scale-down-delay-after-add` | 10m |
//! | `--scale-down-delay-after-delete` | 0s |
//! | `--scale-down-delay-after-failure` | 3m |
//! | `--max-scale-down-parallelism` | 10 |
//! | `--max-drain-parallelism` | 1 |
//! | `--max-nodes-total` | 0 (no limit) |
//! | `--max-nodes-per-scaleup` | 1000 |
//! | `--new-pod-scale-up-delay` | 0s |
//! | `--ignore-daemonsets-utilization` | false |
//! | `--unremovable-node-recheck-timeout` | 5m |
//! | `--max-node-provision-time` | 15m |
//! | `--max-pod-eviction-time` | 2m |
//! | `--initial-node-group-backoff-duration` | 5m |
//! | `--max-node-group-backoff-duration` | 30m |
//! | `--node-group-backoff-reset-timeout` | 3h |

mod scale_down;
mod scale_up;
mod template;

use std::collections::BTreeMap;

use autoscale_sim_cloud::InstanceTypeIndex;
use autoscale_sim_engine::{RngStreams, SimDuration, SimRng, SimTime};
use autoscale_sim_kube::{CapacityType, NodeId, NodeState, Taint};

use crate::api::{Actions, Autoscaler, ClusterView, PolicyEvent};
use template::Template;

/// One node group: an EC2 Auto Scaling group of a single instance type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeGroupConfig {
    /// Node group name (the Auto Scaling group's name).
    pub name: String,
    /// Instance type of every node.
    pub instance_type: InstanceTypeIndex,
    /// Minimum size; the Auto Scaling group keeps at least this many instances from the start.
    pub min_size: u32,
    /// Maximum size.
    pub max_size: u32,
    /// Zone of the group's nodes; `None` uses the region's first zone.
    pub zone: Option<String>,
    /// Labels of the group's nodes, besides the instance type's.
    pub labels: BTreeMap<String, String>,
    /// Taints of the group's nodes.
    pub taints: Vec<Taint>,
    /// Capacity type.
    pub capacity_type: CapacityType,
}

/// An expander: picks among scale-up options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expander {
    /// Uniformly at random.
    Random,
    /// The options that help the most pods.
    MostPods,
    /// The options that add the fewest nodes.
    LeastNodes,
    /// The options with the least wasted CPU plus memory, as a share of the template's capacity.
    LeastWaste,
}

impl Expander {
    /// Parses an `--expander` value.
    pub fn parse(name: &str) -> Option<Expander> {
        match name {
            "random" => Some(Expander::Random),
            "most-pods" => Some(Expander::MostPods),
            "least-nodes" => Some(Expander::LeastNodes),
            "least-waste" => Some(Expander::LeastWaste),
            _ => None,
        }
    }

    /// The flag value.
    pub fn as_str(self) -> &'static str {
        match self {
            Expander::Random => "random",
            Expander::MostPods => "most-pods",
            Expander::LeastNodes => "least-nodes",
            Expander::LeastWaste => "least-waste",
        }
    }
}

/// Cluster Autoscaler settings; each field's default is the flag default of version 1.36.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterAutoscalerConfig {
    /// Name in reports.
    pub name: String,
    /// Node groups, in the order the expander's ties are reported.
    pub node_groups: Vec<NodeGroupConfig>,
    /// `--scan-interval`.
    pub scan_interval: SimDuration,
    /// `--expander`, as a chain.
    pub expanders: Vec<Expander>,
    /// `--scale-down-enabled`.
    pub scale_down_enabled: bool,
    /// `--scale-down-utilization-threshold`: a node is underutilized when max(CPU, memory)
    /// requests over allocatable is at most this.
    pub scale_down_utilization_threshold: f64,
    /// `--scale-down-unneeded-time`.
    pub scale_down_unneeded_time: SimDuration,
    /// `--scale-down-delay-after-add`.
    pub scale_down_delay_after_add: SimDuration,
    /// `--scale-down-delay-after-delete`.
    pub scale_down_delay_after_delete: SimDuration,
    /// `--scale-down-delay-after-failure`.
    pub scale_down_delay_after_failure: SimDuration,
    /// `--max-scale-down-parallelism`.
    pub max_scale_down_parallelism: u32,
    /// `--max-drain-parallelism`.
    pub max_drain_parallelism: u32,
    /// `--max-nodes-total`; 0 means no limit.
    pub max_nodes_total: u32,
    /// `--max-nodes-per-scaleup`.
    pub max_nodes_per_scaleup: u32,
    /// `--new-pod-scale-up-delay`.
    pub new_pod_scale_up_delay: SimDuration,
    /// `--ignore-daemonsets-utilization`.
    pub ignore_daemonsets_utilization: bool,
    /// `--unremovable-node-recheck-timeout`.
    pub unremovable_node_recheck_timeout: SimDuration,
    /// `--max-node-provision-time`.
    pub max_node_provision_time: SimDuration,
    /// `--max-pod-eviction-time`: how long a drain retries evictions before the deletion fails.
    pub max_pod_eviction_time: SimDuration,
    /// `--initial-node-group-backoff-duration`.
    pub initial_node_group_backoff_duration: SimDuration,
    /// `--max-node-group-backoff-duration`.
    pub max_node_group_backoff_duration: SimDuration,
    /// `--node-group-backoff-reset-timeout`.
    pub node_group_backoff_reset_timeout: SimDuration,
}

impl Default for ClusterAutoscalerConfig {
    fn default() -> Self {
        ClusterAutoscalerConfig {
            name: "cluster-autoscaler".into(),
            node_groups: vec![],
            scan_interval: SimDuration::from_secs(10),
            expanders: vec![Expander::LeastWaste],
            scale_down_enabled: true,
            scale_down_utilization_threshold: 0.5,
            scale_down_unneeded_time: SimDuration::from_mins(10),
            scale_down_delay_after_add: SimDuration::from_mins(10),
            scale_down_delay_after_delete: SimDuration::ZERO,
            scale_down_delay_after_failure: SimDuration::from_mins(3),
            max_scale_down_parallelism: 10,
            max_drain_parallelism: 1,
            max_nodes_total: 0,
            max_nodes_per_scaleup: 1000,
            new_pod_scale_up_delay: SimDuration::ZERO,
            ignore_daemonsets_utilization: false,
            unremovable_node_recheck_timeout: SimDuration::from_mins(5),
            max_node_provision_time: SimDuration::from_mins(15),
            max_pod_eviction_time: SimDuration::from_mins(2),
            initial_node_group_backoff_duration: SimDuration::from_mins(5),
            max_node_group_backoff_duration: SimDuration::from_mins(30),
            node_group_backoff_reset_timeout: SimDuration::from_hours(3),
        }
    }
}

/// Exponential backoff of a node group after failed scale-ups
/// (`utils/backoff/exponential_backoff.go`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Backoff {
    duration: SimDuration,
    until: SimTime,
    last_failure: Option<SimTime>,
}

impl Backoff {
    /// Records a failure at `now`: the first backs off for the initial duration; one during an
    /// active backoff keeps the duration and moves the end; a later one doubles the duration up
    /// to the maximum, unless the reset timeout has passed since the last failure.
    pub(crate) fn fail(&mut self, now: SimTime, config: &ClusterAutoscalerConfig) {
        let active = self.last_failure.is_some() && self.until >= now;
        let recent = self
            .last_failure
            .is_some_and(|at| now.since(at) < config.node_group_backoff_reset_timeout);
        self.duration = if active {
            self.duration
        } else if recent {
            SimDuration::from_millis(
                (self.duration.as_millis() * 2)
                    .min(config.max_node_group_backoff_duration.as_millis()),
            )
        } else {
            config.initial_node_group_backoff_duration
        };
        self.until = now + self.duration;
        self.last_failure = Some(now);
    }

    /// Checks whether the group is backed off at `now`.
    pub(crate) fn active(&self, now: SimTime) -> bool {
        self.last_failure.is_some() && self.until > now
    }
}

/// Pods younger than this keep the whole loop waiting (`unschedulablePodTimeBuffer`, 2 s).
const UNSCHEDULABLE_POD_TIME_BUFFER: SimDuration = SimDuration::from_secs(2);

/// The Cluster Autoscaler policy.
#[derive(Debug)]
pub struct ClusterAutoscaler {
    config: ClusterAutoscalerConfig,
    rng: SimRng,
    /// Template per group, cached from the first good real node (CA caches without expiry).
    cached_templates: BTreeMap<usize, Template>,
    /// Unneeded nodes and since when.
    unneeded: BTreeMap<NodeId, SimTime>,
    /// Nodes found unremovable, and until when they are not checked again.
    unremovable_until: BTreeMap<NodeId, SimTime>,
    /// Nodes this policy is deleting, and whether each needed a drain.
    deleting: BTreeMap<NodeId, bool>,
    last_scale_up: Option<SimTime>,
    last_scale_down_delete: Option<SimTime>,
    last_scale_down_failure: Option<SimTime>,
    /// Generation of the loop timer; older timer tokens are stale.
    loop_generation: u64,
    /// Nodes launched but not yet seen Ready, per group.
    upcoming: BTreeMap<NodeId, usize>,
    /// Backoff of node groups whose launches failed.
    backoff: BTreeMap<usize, Backoff>,
}

impl ClusterAutoscaler {
    /// A Cluster Autoscaler with `config`; the random expander draws from the run's
    /// `cluster-autoscaler/expander` stream.
    pub fn new(config: ClusterAutoscalerConfig, streams: &RngStreams) -> Self {
        ClusterAutoscaler {
            rng: streams.stream(&format!("{}/expander", config.name)),
            config,
            cached_templates: BTreeMap::new(),
            unneeded: BTreeMap::new(),
            unremovable_until: BTreeMap::new(),
            deleting: BTreeMap::new(),
            last_scale_up: None,
            last_scale_down_delete: None,
            last_scale_down_failure: None,
            loop_generation: 0,
            upcoming: BTreeMap::new(),
            backoff: BTreeMap::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ClusterAutoscalerConfig {
        &self.config
    }

    fn group_of(&self, owner: &str) -> Option<usize> {
        self.config.node_groups.iter().position(|g| g.name == owner)
    }

    fn arm_loop(&mut self, at: SimTime, actions: &mut Actions) {
        self.loop_generation += 1;
        actions.set_timer(at, self.loop_generation);
    }

    /// Target size of each group: its nodes that are not being deleted, launching ones included.
    fn target_sizes(&self, view: &ClusterView<'_>) -> Vec<u32> {
        let mut sizes = vec![0u32; self.config.node_groups.len()];
        for node in view.cluster.nodes() {
            if node.state != NodeState::Deleting
                && let Some(group) = self.group_of(&node.owner)
            {
                sizes[group] += 1;
            }
        }
        sizes
    }

    /// One `RunOnce` iteration.
    fn run_once(&mut self, view: &ClusterView<'_>, actions: &mut Actions) {
        self.refresh_templates(view);

        let pending = scale_up::unschedulable_pods(view, self.config.new_pod_scale_up_delay);
        if let Some(oldest) = pending.iter().filter_map(|p| p.unschedulable_since).min()
            && view.now.since(oldest) < UNSCHEDULABLE_POD_TIME_BUFFER
        {
            // All pods are new: no scale-up and no scale-down in this loop (`allPodsAreNew`).
            self.arm_loop(view.now + self.config.scan_interval, actions);
            return;
        }

        let scaled_up = self.scale_up(view, &pending, actions);
        if scaled_up {
            self.last_scale_up = Some(view.now);
        }
        let deleted = self.config.scale_down_enabled && self.scale_down(view, actions);

        // Frequent loops (`--frequent-loops-enabled`, default true): a productive loop runs again at once.
        let next = if scaled_up || deleted {
            view.now
        } else {
            view.now + self.config.scan_interval
        };
        self.arm_loop(next, actions);
    }
}

impl Autoscaler for ClusterAutoscaler {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn on_event(&mut self, event: &PolicyEvent, view: &ClusterView<'_>, actions: &mut Actions) {
        match event {
            PolicyEvent::Start => {
                self.launch_min_sizes(view, actions);
                self.arm_loop(view.now + self.config.scan_interval, actions);
            }
            PolicyEvent::Timer(token) if *token == self.loop_generation => {
                self.run_once(view, actions)
            }
            PolicyEvent::Timer(_) => {}
            PolicyEvent::PodsUnschedulable(_) => self.run_once(view, actions),
            PolicyEvent::NodeReady(node) => {
                self.upcoming.remove(node);
            }
            PolicyEvent::LaunchFailed { node, .. } => {
                // The Auto Scaling group's failed scaling activity ends the scale-up at once
                // ("early abort", Cluster Autoscaler 1.24 and later) and backs the group off.
                if let Some(group) = self.upcoming.remove(node) {
                    self.backoff
                        .entry(group)
                        .or_default()
                        .fail(view.now, &self.config);
                }
            }
            // Cluster Autoscaler does not watch interruption notices; the node just disappears.
            PolicyEvent::SpotInterruptionNotice(_) => {}
            PolicyEvent::NodeDeletionFailed(node) => {
                self.deleting.remove(node);
                self.last_scale_down_failure = Some(view.now);
            }
            PolicyEvent::NodeRemoved(node) => {
                self.upcoming.remove(node);
                self.deleting.remove(node);
                self.unneeded.remove(node);
                self.unremovable_until.remove(node);
            }
        }
    }
}

#[cfg(test)]
mod tests;
