//! A model of Kubernetes Cluster Autoscaler 1.36 with EC2 Auto Scaling groups as node groups.
//!
//! Each loop (`RunOnce`, every `--scan-interval`, at once after a productive loop, and when a pod
//! becomes Unschedulable) does, in order:
//! 1. time out scale-ups whose nodes are still not Ready `--max-node-provision-time` after the
//!    group last grew, and back the group off;
//! 2. skip everything else while the oldest Unschedulable pod is younger than 2 s;
//! 3. drop pending pods that fit on existing nodes or on upcoming (launching) nodes;
//! 4. scale up: run the binpacking estimator on each node group's template, pick one option with
//!    the expander chain, cap it by `--max-nodes-total`, `--cores-total` and `--memory-total`,
//!    split it over similar node groups when `--balance-similar-node-groups` is on, and grow
//!    those groups;
//! 5. scale down: mark nodes whose utilization is at most the threshold and whose pods fit
//!    elsewhere as unneeded, and delete those unneeded for longer than the unneeded time, unless
//!    a scale-up happened within the delay after add;
//! 6. with `--enforce-node-group-min-size`, grow every group below its minimum size.
//!
//! Defaults, from `cluster-autoscaler/config/flags/flags.go` at tag cluster-autoscaler-1.36.1
//! unless stated:
//!
//! | flag | default |
//! |---|---|
//! | `--scan-interval` | 10s |
//! | `--expander` | least-waste (random up to 1.32) |
//! | `--scale-down-utilization-threshold` | 0.5 |
//! | `--scale-down-unneeded-time` | 10m |
//! | `--scale-down-unready-time` | 20m |
//! | `--scale-down-unready-enabled` | true |
//! | `--scale-down-delay-after-add` | 10m |
//! | `--scale-down-delay-after-delete` | 0s |
//! | `--scale-down-delay-after-failure` | 3m |
//! | `--max-scale-down-parallelism` | 10 |
//! | `--max-drain-parallelism` | 1 |
//! | `--max-nodes-total` | 0 (no limit) |
//! | `--cores-total` | 0:320000 (`config/const.go`, `DefaultMaxClusterCores`) |
//! | `--memory-total` | 0:6400000, in GiB (`config/const.go`, `DefaultMaxClusterMemory`) |
//! | `--max-nodes-per-scaleup` | 1000 |
//! | `--new-pod-scale-up-delay` | 0s |
//! | `--ignore-daemonsets-utilization` | false |
//! | `--unremovable-node-recheck-timeout` | 5m |
//! | `--max-node-provision-time` | 15m |
//! | `--max-pod-eviction-time` | 2m |
//! | `--initial-node-group-backoff-duration` | 5m |
//! | `--max-node-group-backoff-duration` | 30m |
//! | `--node-group-backoff-reset-timeout` | 3h |
//! | `--enforce-node-group-min-size` | false |
//! | `--frequent-loops-enabled` | true |
//! | `--skip-nodes-with-system-pods` | true |
//! | `--skip-nodes-with-local-storage` | true |
//! | `--blocking-system-pod-distruption-timeout` | 1h (1.33 and later) |
//! | `--min-replica-count` | 0 |
//! | `--expendable-pods-priority-cutoff` | -10 |
//! | `--ok-total-unready-count` | 3 |
//! | `--max-total-unready-percentage` | 45 |
//! | `--balance-similar-node-groups` | false |
//! | `--memory-difference-ratio` | 0.015 (`config/autoscaling_options.go`) |
//! | `--max-allocatable-difference-ratio` | 0.05 (`config/autoscaling_options.go`) |
//! | `--max-free-difference-ratio` | 0.05 (`config/autoscaling_options.go`) |
//!
//! ## Limitations
//!
//! The decision log holds launches and deletions, with Cluster Autoscaler's reasons (ScaleUp
//! with the options weighed and the node groups skipped, with their backoff; ScaleDown with the
//! unneeded time), and three kinds of notes: `unneeded` when a node starts its unneeded time,
//! `unremovable` when a node is found unremovable for another reason than in the loop before
//! (NotUnderutilized included), and `backoff` when a failed launch or a scale-up timeout backs
//! a node group off. Unremovable nodes are also listed by
//! [`ClusterAutoscaler::unremovable_nodes`].

mod asg;
mod balancing;
mod expander;
mod limits;
mod node_map;
mod node_pods;
mod scale_down;
mod scale_up;
mod template;

use std::collections::BTreeMap;

use autoscale_sim_cloud::{InstanceTypeIndex, SpotMarket};
use autoscale_sim_engine::{RngStreams, SimDuration, SimRng, SimTime};
use autoscale_sim_kube::{CapacityType, Node, NodeId, Taint};

use crate::api::{Actions, Autoscaler, ClusterView, PolicyEvent};
pub use asg::{MixedInstancesPolicy, OnDemandAllocationStrategy, SpotAllocationStrategy};
pub use balancing::BalancingConfig;
pub use expander::{Expander, PriorityConfig, PriorityConfigError};
pub use scale_down::Unremovable;
use template::Template;

/// One node group: an EC2 Auto Scaling group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeGroupConfig {
    /// Node group name (the Auto Scaling group's name).
    pub name: String,
    /// Instance type of every node; for a mixed-instances group, the first launch template
    /// override, which Cluster Autoscaler builds the group's template from.
    pub instance_type: InstanceTypeIndex,
    /// Minimum size; the Auto Scaling group keeps at least this many instances from the start.
    pub min_size: u32,
    /// Maximum size.
    pub max_size: u32,
    /// Availability zones of the group. Empty means the region's first zone. Cluster
    /// Autoscaler's template carries the first zone only.
    pub zones: Vec<String>,
    /// Labels of the group's nodes, besides the instance type's.
    pub labels: BTreeMap<String, String>,
    /// Taints of the group's nodes.
    pub taints: Vec<Taint>,
    /// Capacity type of a group with one instance type; a mixed-instances group takes its
    /// capacity types from [`MixedInstancesPolicy`] instead.
    pub capacity_type: CapacityType,
    /// The Auto Scaling group's mixed-instances policy, if it has one.
    pub mixed_instances: Option<MixedInstancesPolicy>,
}

impl NodeGroupConfig {
    /// Creates a group of one instance type in the region's first zone, on-demand, without
    /// labels, taints or a mixed-instances policy.
    pub fn new(
        name: impl Into<String>,
        instance_type: InstanceTypeIndex,
        min_size: u32,
        max_size: u32,
    ) -> Self {
        NodeGroupConfig {
            name: name.into(),
            instance_type,
            min_size,
            max_size,
            zones: vec![],
            labels: BTreeMap::new(),
            taints: vec![],
            capacity_type: CapacityType::OnDemand,
            mixed_instances: None,
        }
    }
}

/// Cluster-wide limits on the total cores and memory of the nodes (`--cores-total`,
/// `--memory-total`): scale-up stops below the maximum, scale-down above the minimum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResourceLimits {
    /// Minimum and maximum total cores.
    pub cores: (i64, i64),
    /// Minimum and maximum total memory, in bytes (the flag is in GiB).
    pub memory_bytes: (i64, i64),
}

impl Default for ResourceLimits {
    /// 0:320000 cores and 0:6400000 GiB (`DefaultMaxClusterCores` and `DefaultMaxClusterMemory`
    /// in `cluster-autoscaler/config/const.go`, 1.36).
    fn default() -> Self {
        ResourceLimits {
            cores: (0, 5000 * 64),
            memory_bytes: (0, 5000 * 64 * 20 * autoscale_sim_cloud::GIB),
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
    /// The priority expander's ConfigMap `cluster-autoscaler-priority-expander`; with none, the
    /// priority expander lets every option through, as the real one does when the ConfigMap is
    /// missing.
    pub priorities: Option<PriorityConfig>,
    /// `--scale-down-enabled`.
    pub scale_down_enabled: bool,
    /// `--scale-down-utilization-threshold`: a node is underutilized when max(CPU, memory)
    /// requests over allocatable is at most this.
    pub scale_down_utilization_threshold: f64,
    /// `--scale-down-unneeded-time`.
    pub scale_down_unneeded_time: SimDuration,
    /// `--scale-down-unready-time`: how long a node whose Ready condition is false must be
    /// unneeded before it is removed.
    pub scale_down_unready_time: SimDuration,
    /// `--scale-down-unready-enabled`: whether nodes whose Ready condition is false may be
    /// removed at all.
    pub scale_down_unready_enabled: bool,
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
    /// `--cores-total` and `--memory-total`.
    pub resource_limits: ResourceLimits,
    /// `--max-nodes-per-scaleup`.
    pub max_nodes_per_scaleup: u32,
    /// `--new-pod-scale-up-delay`.
    pub new_pod_scale_up_delay: SimDuration,
    /// `--ignore-daemonsets-utilization`.
    pub ignore_daemonsets_utilization: bool,
    /// `--unremovable-node-recheck-timeout`.
    pub unremovable_node_recheck_timeout: SimDuration,
    /// `--max-node-provision-time`: a scale-up whose nodes are not all Ready this long after
    /// the group last grew times out and backs the group off. The world also terminates a node
    /// that has not registered this long after its launch request.
    pub max_node_provision_time: SimDuration,
    /// `--max-pod-eviction-time`: how long a drain retries evictions before the deletion fails.
    pub max_pod_eviction_time: SimDuration,
    /// `--initial-node-group-backoff-duration`.
    pub initial_node_group_backoff_duration: SimDuration,
    /// `--max-node-group-backoff-duration`.
    pub max_node_group_backoff_duration: SimDuration,
    /// `--node-group-backoff-reset-timeout`.
    pub node_group_backoff_reset_timeout: SimDuration,
    /// `--enforce-node-group-min-size`: grow a group below its minimum size in every loop.
    pub enforce_node_group_min_size: bool,
    /// `--frequent-loops-enabled`: a loop runs at once after a productive loop and when a pod
    /// becomes Unschedulable; without it, loops run every `--scan-interval` only.
    pub frequent_loops_enabled: bool,
    /// `--skip-nodes-with-system-pods`: a kube-system pod without a PodDisruptionBudget blocks
    /// its node's removal (for its first `--blocking-system-pod-distruption-timeout`).
    pub skip_nodes_with_system_pods: bool,
    /// `--skip-nodes-with-local-storage`: a pod with local storage blocks its node's removal.
    pub skip_nodes_with_local_storage: bool,
    /// `--blocking-system-pod-distruption-timeout` (the flag's own spelling): age after which a
    /// kube-system pod without a PodDisruptionBudget stops blocking scale-down.
    pub blocking_system_pod_disruption_timeout: SimDuration,
    /// `--min-replica-count`: a ReplicaSet's pod blocks its node's removal when the ReplicaSet
    /// has fewer replicas than this.
    pub min_replica_count: u32,
    /// `--expendable-pods-priority-cutoff`: pods below this priority trigger no scale-up, and
    /// scale-down neither counts nor moves them.
    pub expendable_pods_priority_cutoff: i32,
    /// `--ok-total-unready-count` and `--max-total-unready-percentage`: with more unready
    /// nodes than both, the cluster is unhealthy and a loop does nothing.
    pub ok_total_unready_count: u32,
    /// See `ok_total_unready_count`; in percent of all nodes.
    pub max_total_unready_percentage: f64,
    /// `--balance-similar-node-groups` and the flags of its similarity rule; boxed to keep
    /// this struct small, since it is rarely set.
    pub balancing: Box<BalancingConfig>,
}

impl Default for ClusterAutoscalerConfig {
    fn default() -> Self {
        ClusterAutoscalerConfig {
            name: "cluster-autoscaler".into(),
            node_groups: vec![],
            scan_interval: SimDuration::from_secs(10),
            expanders: vec![Expander::LeastWaste],
            priorities: None,
            scale_down_enabled: true,
            scale_down_utilization_threshold: 0.5,
            scale_down_unneeded_time: SimDuration::from_mins(10),
            scale_down_unready_time: SimDuration::from_mins(20),
            scale_down_unready_enabled: true,
            scale_down_delay_after_add: SimDuration::from_mins(10),
            scale_down_delay_after_delete: SimDuration::ZERO,
            scale_down_delay_after_failure: SimDuration::from_mins(3),
            max_scale_down_parallelism: 10,
            max_drain_parallelism: 1,
            max_nodes_total: 0,
            resource_limits: ResourceLimits::default(),
            max_nodes_per_scaleup: 1000,
            new_pod_scale_up_delay: SimDuration::ZERO,
            ignore_daemonsets_utilization: false,
            unremovable_node_recheck_timeout: SimDuration::from_mins(5),
            max_node_provision_time: SimDuration::from_mins(15),
            max_pod_eviction_time: SimDuration::from_mins(2),
            initial_node_group_backoff_duration: SimDuration::from_mins(5),
            max_node_group_backoff_duration: SimDuration::from_mins(30),
            node_group_backoff_reset_timeout: SimDuration::from_hours(3),
            enforce_node_group_min_size: false,
            frequent_loops_enabled: true,
            skip_nodes_with_system_pods: true,
            skip_nodes_with_local_storage: true,
            blocking_system_pod_disruption_timeout: SimDuration::from_hours(1),
            min_replica_count: 0,
            expendable_pods_priority_cutoff: -10,
            ok_total_unready_count: 3,
            max_total_unready_percentage: 45.0,
            balancing: Box::default(),
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

/// A scale-up still waiting for its nodes (`ScaleUpRequest` in `clusterstate/clusterstate.go`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ScaleUpRequest {
    /// Nodes requested since the group last had no upcoming node.
    increase: u32,
    /// When the scale-up times out: the last increase plus `--max-node-provision-time`.
    expected_add_time: SimTime,
}

/// Pods younger than this keep the whole loop waiting (`unschedulablePodTimeBuffer`, 2 s).
const UNSCHEDULABLE_POD_TIME_BUFFER: SimDuration = SimDuration::from_secs(2);

/// The Cluster Autoscaler policy.
#[derive(Debug)]
pub struct ClusterAutoscaler {
    config: ClusterAutoscalerConfig,
    rng: SimRng,
    /// The run's spot market, for the price expander and the spot allocation strategies of
    /// mixed-instances groups; `None` prices spot like on-demand.
    market: Option<std::cell::RefCell<SpotMarket>>,
    /// Template per group, cached from the first good real node (CA caches without expiry).
    cached_templates: BTreeMap<usize, Template>,
    /// Unneeded nodes and since when.
    unneeded: BTreeMap<NodeId, SimTime>,
    /// Nodes found unremovable, until when they are not checked again, and why.
    unremovable_until: node_map::NodeMap<(SimTime, Unremovable)>,
    /// Pods of the nodes that scale-down looked at, kept while each node's pods do not change.
    node_pods: node_pods::NodePodsCache,
    /// Nodes this policy is deleting, and whether each needed a drain.
    deleting: BTreeMap<NodeId, bool>,
    last_scale_up: Option<SimTime>,
    last_scale_down_delete: Option<SimTime>,
    last_scale_down_failure: Option<SimTime>,
    /// Time of the last scale-down pass and the shortest interval seen between two passes,
    /// which bound how many unneeded nodes a pass looks for (`Planner.minUpdateInterval`).
    last_scale_down_pass: Option<SimTime>,
    min_scale_down_interval: SimDuration,
    /// Generation of the loop timer; older timer tokens are stale.
    loop_generation: u64,
    /// Nodes launched but not yet seen Ready, per group.
    upcoming: BTreeMap<NodeId, usize>,
    /// Scale-ups waiting for their nodes, per group.
    scale_up_requests: BTreeMap<usize, ScaleUpRequest>,
    /// Backoff of node groups whose launches failed or timed out.
    backoff: BTreeMap<usize, Backoff>,
    /// The time of the last `backoff` note and the (group, reason) pairs noted then, so that
    /// several launches of one group failing for one reason at once give one note.
    backoff_notes: (SimTime, Vec<(usize, String)>),
    /// Whether the last loop found the cluster unhealthy.
    unhealthy: bool,
    /// Node group of each node seen so far, indexed by node id: [`GROUP_UNKNOWN`] for a node not
    /// looked up yet, [`GROUP_NONE`] for a node of no group. A node's owner is set when the
    /// node is created and never changes, and node ids are never reused, so the first lookup
    /// by name holds for the node's life and later ones skip the name comparisons.
    group_by_node: std::cell::RefCell<Vec<u32>>,
    /// Node group of every node and node count of every group, kept while the set of nodes
    /// stays the same.
    groups_of_nodes: std::cell::RefCell<GroupsOfNodes>,
    /// Largest lengths of scale-down's per-loop lists so far.
    list_capacities: scale_down::ListCapacities,
    /// Whether the last scale-up found `--max-nodes-total` reached, so that the note is
    /// written once when the limit starts to hold pods back.
    max_total_reached: bool,
    /// The groups and reasons of the last `no-scale-up` note, so that loops held back for the
    /// same reasons write it once.
    no_scale_up_noted: Option<String>,
}

/// The node group of every node of one set of nodes, and the node count of every group.
///
/// The cluster gives each new node its next node id, which then grows, and never adds a node
/// again once removed. Adding nodes thus changes the next node id and removing them alone
/// lowers the node count, so two walks over one cluster that see the same node count and next
/// node id see the same nodes in the same order. A node's group never changes, so the lists
/// stay exact for as long as both numbers do.
#[derive(Debug, Default)]
struct GroupsOfNodes {
    /// `Cluster::node_count` and `Cluster::next_node_id` when the lists were built; `None`
    /// before the first build.
    node_set: Option<(usize, NodeId)>,
    /// Node group of each node, in the order of `Cluster::nodes`.
    groups: Vec<Option<usize>>,
    /// Number of nodes of each group, launching and deleting ones included.
    sizes: Vec<u32>,
}

/// Entry of `group_by_node` for a node not looked up yet.
const GROUP_UNKNOWN: u32 = u32::MAX;
/// Entry of `group_by_node` for a node that belongs to no node group.
const GROUP_NONE: u32 = u32::MAX - 1;

impl ClusterAutoscaler {
    /// A Cluster Autoscaler with `config`; the random expander draws from the run's
    /// `cluster-autoscaler/expander` stream.
    pub fn new(config: ClusterAutoscalerConfig, streams: &RngStreams) -> Self {
        // Planner.New starts the shortest loop interval at the unneeded time, or 1 ns for 0.
        let min_scale_down_interval = config
            .scale_down_unneeded_time
            .max(SimDuration::from_millis(1));
        ClusterAutoscaler {
            rng: streams.stream(&format!("{}/expander", config.name)),
            config,
            market: None,
            cached_templates: BTreeMap::new(),
            unneeded: BTreeMap::new(),
            unremovable_until: node_map::NodeMap::default(),
            node_pods: node_pods::NodePodsCache::default(),
            deleting: BTreeMap::new(),
            last_scale_up: None,
            last_scale_down_delete: None,
            last_scale_down_failure: None,
            last_scale_down_pass: None,
            min_scale_down_interval,
            loop_generation: 0,
            upcoming: BTreeMap::new(),
            scale_up_requests: BTreeMap::new(),
            backoff: BTreeMap::new(),
            backoff_notes: (SimTime::ZERO, Vec::new()),
            unhealthy: false,
            group_by_node: std::cell::RefCell::new(Vec::new()),
            groups_of_nodes: std::cell::RefCell::new(GroupsOfNodes::default()),
            list_capacities: scale_down::ListCapacities::default(),
            max_total_reached: false,
            no_scale_up_noted: None,
        }
    }

    /// Creates a Cluster Autoscaler that reads spot prices and interruption bands from `market`,
    /// a copy of the run's market (the same seed gives the same prices).
    pub fn with_market(
        config: ClusterAutoscalerConfig,
        streams: &RngStreams,
        market: SpotMarket,
    ) -> Self {
        let mut autoscaler = ClusterAutoscaler::new(config, streams);
        autoscaler.market = Some(std::cell::RefCell::new(market));
        autoscaler
    }

    /// The configuration.
    pub fn config(&self) -> &ClusterAutoscalerConfig {
        &self.config
    }

    /// Nodes the last removal simulations found unremovable, with why and until when they are
    /// not simulated again.
    pub fn unremovable_nodes(&self) -> impl Iterator<Item = (NodeId, Unremovable, SimTime)> + '_ {
        self.unremovable_until
            .iter()
            .map(|(id, (until, reason))| (id, *reason, *until))
    }

    /// Finds the node group of `node` from its owner name, looked up once per node.
    fn group_of(&self, node: &Node) -> Option<usize> {
        self.cached_group_of(&mut self.group_by_node.borrow_mut(), node)
    }

    /// Returns the node group of every node, in the order of `Cluster::nodes`, as
    /// [`ClusterAutoscaler::group_of`] finds it, and the node count of every group (see
    /// [`ClusterAutoscaler::target_sizes`]). The lists are rebuilt only when the set of nodes
    /// changed since the last call (see [`GroupsOfNodes`]).
    fn groups_of_nodes(&self, view: &ClusterView<'_>) -> std::cell::Ref<'_, GroupsOfNodes> {
        let cluster = view.cluster;
        {
            let mut snapshot = self.groups_of_nodes.borrow_mut();
            let node_set = Some((cluster.node_count(), cluster.next_node_id()));
            if snapshot.node_set != node_set {
                let (groups, sizes) = self.groups_and_sizes(view);
                *snapshot = GroupsOfNodes {
                    node_set,
                    groups,
                    sizes,
                };
            }
            debug_assert_eq!(
                (snapshot.groups.clone(), snapshot.sizes.clone()),
                self.groups_and_sizes(view),
                "the node groups of the nodes are stale"
            );
        }
        self.groups_of_nodes.borrow()
    }

    /// Finds the node group of every node, in the order of `Cluster::nodes`, as
    /// [`ClusterAutoscaler::group_of`] does, borrowing the cache once for the whole walk, and
    /// counts the nodes of each group in the same walk.
    fn groups_and_sizes(&self, view: &ClusterView<'_>) -> (Vec<Option<usize>>, Vec<u32>) {
        let mut cache = self.group_by_node.borrow_mut();
        let mut groups = Vec::with_capacity(view.cluster.node_count());
        let mut sizes = vec![0u32; self.config.node_groups.len()];
        for node in view.cluster.nodes() {
            let group = self.cached_group_of(&mut cache, node);
            if let Some(group) = group {
                sizes[group] += 1;
            }
            groups.push(group);
        }
        (groups, sizes)
    }

    /// Finds the node group of `node` in `cache`, the contents of `group_by_node`, and fills
    /// the entry on the first lookup.
    #[inline]
    fn cached_group_of(&self, cache: &mut Vec<u32>, node: &Node) -> Option<usize> {
        let Ok(index) = usize::try_from(node.id.0) else {
            return self.group_named(&node.owner);
        };
        if index >= cache.len() {
            cache.resize(index + 1, GROUP_UNKNOWN);
        }
        match cache[index] {
            GROUP_NONE => None,
            GROUP_UNKNOWN => {
                let group = self.group_named(&node.owner);
                cache[index] = group.map_or(GROUP_NONE, |g| g as u32);
                group
            }
            group => Some(group as usize),
        }
    }

    /// Finds the node group named `owner`.
    fn group_named(&self, owner: &str) -> Option<usize> {
        self.config.node_groups.iter().position(|g| g.name == owner)
    }

    fn arm_loop(&mut self, at: SimTime, actions: &mut Actions) {
        self.loop_generation += 1;
        actions.set_timer(at, self.loop_generation);
    }

    fn backed_off(&self, group: usize, now: SimTime) -> bool {
        self.backoff.get(&group).is_some_and(|b| b.active(now))
    }

    /// Returns the target size of each group: all its nodes, launching and deleting ones
    /// included. A node being drained stays in the Auto Scaling group's desired capacity until
    /// it terminates, so a drain that fails cannot leave the group above its maximum.
    fn target_sizes(&self, view: &ClusterView<'_>) -> Vec<u32> {
        self.groups_of_nodes(view).sizes.clone()
    }

    /// Records that `group` grew by `delta` nodes (`RegisterScaleUp`): the scale-up request
    /// grows and its deadline moves to now plus `--max-node-provision-time`.
    fn register_scale_up(&mut self, group: usize, delta: u32, now: SimTime) {
        let deadline = now + self.config.max_node_provision_time;
        let request = self
            .scale_up_requests
            .entry(group)
            .or_insert(ScaleUpRequest {
                increase: 0,
                expected_add_time: deadline,
            });
        request.increase += delta;
        request.expected_add_time = deadline;
    }

    /// Ends finished scale-ups and times out late ones (`updateScaleRequests`): a group whose
    /// nodes are not all Ready by the deadline is backed off. The world itself terminates an
    /// instance that has not registered within `--max-node-provision-time` and reports the
    /// failed launch, as 1.36 removes long-unregistered nodes. A node that registered stays.
    fn update_scale_up_requests(&mut self, view: &ClusterView<'_>, actions: &mut Actions) {
        let groups: Vec<usize> = self.scale_up_requests.keys().copied().collect();
        for group in groups {
            let launching = self.upcoming.values().filter(|g| **g == group).count();
            if launching == 0 {
                self.scale_up_requests.remove(&group);
                continue;
            }
            let request = self.scale_up_requests[&group];
            if request.expected_add_time >= view.now {
                continue;
            }
            self.scale_up_requests.remove(&group);
            let cause = format!(
                "{launching} of {} requested nodes not Ready within {}",
                request.increase, self.config.max_node_provision_time
            );
            self.back_off(group, "ScaleUpTimedOut", &cause, view.now, actions);
        }
    }

    /// Backs `group` off after a failed scale-up, traces it and writes a `backoff` note with
    /// `reason`, the backoff's end and `cause`.
    fn back_off(
        &mut self,
        group: usize,
        reason: &str,
        cause: &str,
        now: SimTime,
        actions: &mut Actions,
    ) {
        let backoff = self.backoff.entry(group).or_default();
        backoff.fail(now, &self.config);
        let (until, duration) = (backoff.until, backoff.duration);
        // Cluster Autoscaler registers one failed scale-up per node group and error code for
        // the instances that failed together (1.36 `handleInstanceCreationErrorsForNodeGroup`).
        // A repeat at the same time leaves the backoff as it was, so it gets no second note.
        let (noted_at, noted) = &mut self.backoff_notes;
        if *noted_at != now {
            *noted_at = now;
            noted.clear();
        }
        if noted.iter().any(|(g, r)| *g == group && r == reason) {
            return;
        }
        noted.push((group, reason.to_string()));
        let name = &self.config.node_groups[group].name;
        tracing::debug!(time = %now, group = %name, reason, %until, cause, "node group backed off");
        let detail = format!("node group {name} backed off for {duration} until {until}: {cause}");
        actions.note(None, "backoff", reason, detail);
    }

    /// Checks the cluster's health (`ClusterStateRegistry.IsClusterHealthy`): unhealthy when
    /// more nodes are unready than both `--ok-total-unready-count` and
    /// `--max-total-unready-percentage` of all nodes allow. Launching nodes do not count.
    fn cluster_healthy(&self, view: &ClusterView<'_>) -> (bool, usize, usize) {
        let totals = view.cluster.ready_totals();
        let (total, unready) = (totals.nodes, totals.unready);
        let over_count = unready > self.config.ok_total_unready_count as usize;
        let over_share =
            unready as f64 > self.config.max_total_unready_percentage / 100.0 * total as f64;
        (!(over_count && over_share), unready, total)
    }

    /// One `RunOnce` iteration.
    fn run_once(&mut self, view: &ClusterView<'_>, actions: &mut Actions) {
        self.update_scale_up_requests(view, actions);
        self.refresh_templates(view);
        let templates = self.templates(view);

        let (healthy, unready, total) = self.cluster_healthy(view);
        if !healthy {
            // The loop returns and clears the unneeded nodes (`static_autoscaler.go`).
            if !self.unneeded.is_empty() || !self.unhealthy {
                let detail =
                    format!("{unready} of {total} nodes unready; no scale-up or scale-down");
                actions.note(None, "unhealthy", "ClusterUnhealthy", detail);
            }
            self.unhealthy = true;
            self.unneeded.clear();
            self.arm_loop(view.now + self.config.scan_interval, actions);
            return;
        }
        self.unhealthy = false;

        let pending = scale_up::unschedulable_pods(
            view,
            self.config.new_pod_scale_up_delay,
            self.config.expendable_pods_priority_cutoff,
        );
        if let Some(oldest) = pending.iter().filter_map(|p| p.unschedulable_since).min()
            && view.now.since(oldest) < UNSCHEDULABLE_POD_TIME_BUFFER
        {
            // All pods are new: no scale-up and no scale-down in this loop (`allPodsAreNew`).
            self.arm_loop(view.now + self.config.scan_interval, actions);
            return;
        }

        let mut scaled_up = self.scale_up(view, &templates, &pending, actions);
        let deleted = self.config.scale_down_enabled && self.scale_down(view, actions);
        if self.config.enforce_node_group_min_size {
            scaled_up |= self.scale_up_to_min_size(view, &templates, actions);
        }
        if scaled_up {
            self.last_scale_up = Some(view.now);
        }

        // Frequent loops (`--frequent-loops-enabled`, default true): a productive loop runs again at once.
        let next = if (scaled_up || deleted) && self.config.frequent_loops_enabled {
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

    /// Checks that no node group is above its maximum size and the cluster is not above
    /// `--max-nodes-total`, counting launching and deleting nodes.
    fn check_invariants(&self, view: &ClusterView<'_>) -> Result<(), String> {
        let sizes = self.target_sizes(view);
        for (group, size) in self.config.node_groups.iter().zip(&sizes) {
            if *size > group.max_size {
                return Err(format!(
                    "node group {} has {size} nodes, above its maximum size {}",
                    group.name, group.max_size
                ));
            }
        }
        let total: u32 = sizes.iter().sum();
        let limit = self.config.max_nodes_total;
        if limit > 0 && total > limit {
            return Err(format!(
                "the node groups have {total} nodes, above --max-nodes-total={limit}"
            ));
        }
        Ok(())
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
            PolicyEvent::PodsUnschedulable(_) if self.config.frequent_loops_enabled => {
                self.run_once(view, actions)
            }
            PolicyEvent::PodsUnschedulable(_) => {}
            PolicyEvent::NodeReady(node) => {
                self.upcoming.remove(node);
            }
            PolicyEvent::LaunchFailed { node, reason, .. } => {
                // The Auto Scaling group's failed scaling activity ends the scale-up at once
                // ("early abort", Cluster Autoscaler 1.24 and later) and backs the group off; so
                // does an instance that did not register within --max-node-provision-time.
                if let Some(group) = self.upcoming.remove(node) {
                    self.back_off(group, reason, "a launch failed", view.now, actions);
                }
            }
            // Cluster Autoscaler watches no EC2 events: an interrupted node just disappears.
            PolicyEvent::SpotInterruptionNotice(_) | PolicyEvent::RebalanceRecommendation(_) => {}
            PolicyEvent::NodeDeletionFailed(node) => {
                self.deleting.remove(node);
                self.last_scale_down_failure = Some(view.now);
            }
            PolicyEvent::NodeRemoved(node) => {
                self.upcoming.remove(node);
                self.deleting.remove(node);
                self.unneeded.remove(node);
                self.unremovable_until.remove(*node);
                self.node_pods.remove(*node);
            }
        }
    }
}

#[cfg(test)]
mod tests;
