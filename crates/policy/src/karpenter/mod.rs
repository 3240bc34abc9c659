//! A model of Karpenter v1.13 (kubernetes-sigs/karpenter with the AWS provider) with NodePools,
//! and v1.14's disruption changes behind [`KarpenterConfig::version`].
//!
//! * Provisioning: pods that kube-scheduler marked Unschedulable open a batch window (1 s idle,
//!   10 s max); the batch is bin-packed first-fit-decreasing onto existing and in-flight nodes,
//!   then onto NodeClaims opened in the same simulation, each keeping the set of instance types
//!   that still fit, then onto a new NodeClaim of the highest-weight NodePool. Each NodeClaim
//!   launches spot when its NodePool allows it, else its cheapest on-demand type (EC2
//!   CreateFleet `lowest-price`).
//! * Disruption: every 10 s (at once after acting), Emptiness, Drift, multi-node consolidation
//!   and single-node consolidation, in that order, each within the NodePool's disruption budget
//!   (default `nodes: 10%`, rounded up). Consolidation deletes nodes, or replaces them with one
//!   strictly cheaper NodeClaim, after a 15 s validation; drift replaces a node with as many
//!   NodeClaims as its pods need, at once. Replacements are Ready before the old nodes drain.
//! * Expiration deletes a node `expireAfter` after its launch, whatever the budgets; a spot
//!   interruption notice deletes the node at once.
//!
//! Defaults and their sources (kubernetes-sigs/karpenter v1.13 unless stated):
//!
//! | setting | default | source |
//! |---|---|---|
//! | batch idle / max duration | 1 s / 10 s | `pkg/operator/options/options.go` |
//! | nomination window | 20 s | `pkg/controllers/state/statenode.go` |
//! | disruption polling period | 10 s | `pkg/controllers/disruption/controller.go` |
//! | consolidation validation delay | 15 s | `pkg/controllers/disruption/consolidation.go` |
//! | forced re-check of a consolidated cluster | 5 min | `pkg/controllers/state/cluster.go` |
//! | consolidationPolicy / consolidateAfter | WhenEmptyOrUnderutilized / 0s | `pkg/apis/v1/nodepool.go` |
//! | disruption budget | `nodes: 10%` | `pkg/apis/v1/nodepool.go` |
//! | expireAfter | 720h | `pkg/apis/v1/nodepool.go` |
//! | instance types kept per NodeClaim | 600, cheapest first | `pkg/controllers/provisioning/scheduling/nodeclaimtemplate.go` |
//! | multi-node consolidation candidates | at most 100 (the search may reach 101) | `pkg/controllers/disruption/multinodeconsolidation.go` |
//! | SpotToSpotConsolidation feature gate | off | `pkg/controllers/disruption/consolidation.go` |
//! | cheaper types a single-node spot-to-spot replacement needs, and keeps | 15 | `pkg/controllers/disruption/consolidation.go` |
//! | `Balanced` threshold k (v1.14) | 2 | `pkg/controllers/disruption/balanced.go` |
//! | modelled version | v1.13 | this model |
//! | unavailable offering after insufficient capacity or interruption | 3 min | aws/karpenter-provider-aws `pkg/cache/cache.go` |
//! | instance types sent at launch | 60, cheapest first | aws/karpenter-provider-aws `pkg/providers/instance/instance.go` |
//! | preference policy | `Respect`: preferences count until relaxed | `pkg/operator/options/options.go` |
//! | minValues policy | `Strict` | `pkg/operator/options/options.go` |
//!
//! ## Limitations
//!
//! `minValues` follows the default `Strict` policy only, and preferences the default `Respect`
//! policy. A NodeClaim pins one zone once a pod restricts its zones, where Karpenter keeps the
//! set of allowed zones. Not modelled: drift from the EC2NodeClass or of static NodePools; the
//! multi-node (1 min) and single-node (3 min) search timeouts; v1.14's cost-based "empty" test.
//! A node is empty here when no reschedulable pod is left, under v1.14 too.

mod budget_blocks;
mod budgets;
mod disruption;
mod drift;
mod min_values;
mod multinode;
mod node_blocks;
mod offerings;
mod pending_prefix;
mod pod_blocks;
mod pod_facts;
mod preferences;
mod provisioning;
mod scheduling;
mod verdicts;

use std::collections::{BTreeMap, BTreeSet};

use autoscale_sim_cloud::{
    Catalog, InstanceTypeIndex, KubeletConfig, Price, Resources, allocatable,
};
use autoscale_sim_engine::{SimDuration, SimTime};
use autoscale_sim_kube::{
    CapacityType, DaemonSet, LABEL_CAPACITY_TYPE, LABEL_ZONE, NodeId, Taint, daemon_overhead,
};

use crate::api::{Actions, Autoscaler, ClusterView, PolicyEvent};
use crate::requirements::{LABEL_NODEPOOL, Requirement, all_match, instance_type_labels};
pub use budgets::{BudgetReason, CronSchedule, DisruptionBudget};

/// When a NodePool lets consolidation remove or replace nodes (`spec.disruption.consolidationPolicy`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ConsolidationPolicy {
    /// Only empty nodes.
    WhenEmpty,
    /// Empty nodes and nodes whose pods fit elsewhere or on a cheaper node (the default).
    #[default]
    WhenEmptyOrUnderutilized,
    /// Karpenter v1.14: like `WhenEmptyOrUnderutilized`, but a move must save at least half
    /// as large a share of the pool's cost as the share of the pool's disruption cost it
    /// causes (`pkg/controllers/disruption/balanced.go`, k = 2).
    Balanced,
}

impl ConsolidationPolicy {
    /// Checks whether the policy lets consolidation remove or replace nodes that have pods.
    pub fn consolidates_underutilized(self) -> bool {
        self != ConsolidationPolicy::WhenEmpty
    }
}

/// The Karpenter release whose disruption behaviour the policy follows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KarpenterVersion {
    /// v1.13: candidates ordered by disruption cost, no `Balanced` policy.
    #[default]
    V1_13,
    /// v1.14: candidates ordered by savings per disruption cost, the `Balanced` policy, and
    /// no consolidation onto nodes still inside their consolidateAfter window.
    V1_14,
}

impl KarpenterVersion {
    /// Parses `v1.13` or `v1.14`.
    pub fn parse(text: &str) -> Option<KarpenterVersion> {
        match text {
            "v1.13" => Some(KarpenterVersion::V1_13),
            "v1.14" => Some(KarpenterVersion::V1_14),
            _ => None,
        }
    }
}

/// A disruption budget's node allowance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BudgetNodes {
    /// A share of the NodePool's nodes, in percent, rounded up.
    Percent(u32),
    /// A number of nodes.
    Count(u32),
}

impl BudgetNodes {
    /// Nodes allowed to be disrupted out of `total`.
    pub fn allowed(self, total: u32) -> u32 {
        match self {
            BudgetNodes::Percent(p) => (u64::from(total) * u64::from(p)).div_ceil(100) as u32,
            BudgetNodes::Count(n) => n,
        }
    }
}

/// A NodePool: where Karpenter may launch nodes and how it may disrupt them.
#[derive(Clone, Debug, PartialEq)]
pub struct NodePool {
    /// Name.
    pub name: String,
    /// `spec.weight`: higher-weight pools are tried first.
    pub weight: i32,
    /// `spec.template.spec.requirements`.
    pub requirements: Vec<Requirement>,
    /// `spec.template.metadata.labels`.
    pub labels: BTreeMap<String, String>,
    /// `spec.template.metadata.annotations`, which the pool's nodes carry from their launch.
    /// Of these, Karpenter itself reads only [`DO_NOT_DISRUPT`].
    pub annotations: BTreeMap<String, String>,
    /// `spec.template.spec.taints`.
    pub taints: Vec<Taint>,
    /// `spec.disruption.consolidationPolicy`.
    pub consolidation_policy: ConsolidationPolicy,
    /// `spec.disruption.consolidateAfter`; `None` is `Never`.
    pub consolidate_after: Option<SimDuration>,
    /// `spec.disruption.budgets[].nodes` of the budgets without `reasons` or `schedule`; the
    /// smallest allowance wins.
    pub budgets: Vec<BudgetNodes>,
    /// The budgets with `reasons` or a `schedule`, which apply only to those reasons or
    /// inside their window (see [`NodePool::allowed_disruptions`]).
    pub conditional_budgets: Vec<DisruptionBudget>,
    /// `spec.limits.cpu` and `spec.limits.memory`, as a total capacity of the pool's nodes.
    pub limits: Option<Resources>,
    /// `spec.limits.nodes`: the number of the pool's nodes.
    pub limit_nodes: Option<u32>,
    /// `spec.kubelet` of the EC2NodeClass the pool refers to, which sets node allocatable.
    pub kubelet: KubeletConfig,
    /// `spec.template.spec.nodeClassRef.name`, when the scenario gives EC2NodeClasses.
    pub node_class: Option<String>,
    /// Changes to that EC2NodeClass so far in the run. Karpenter marks a node Drifted when
    /// its class's hash, or the AMI, subnets or security groups the class resolves to, differ
    /// from its launch, so each change drifts the pool's nodes.
    pub node_class_revision: u32,
    /// `spec.template.spec.expireAfter`: a node is deleted this long after its launch,
    /// whatever the budgets; `None` is `Never`. Default 720 h.
    pub expire_after: Option<SimDuration>,
    /// `spec.template.spec.terminationGracePeriod`: once a node's deletion has lasted this long,
    /// its remaining pods are deleted whatever their PodDisruptionBudgets and do-not-disrupt
    /// annotations, and drift may pick nodes whose pods block eviction. `None` (the default)
    /// waits for ever.
    pub termination_grace_period: Option<SimDuration>,
}

impl Default for NodePool {
    fn default() -> Self {
        NodePool {
            name: "default".into(),
            weight: 0,
            requirements: vec![],
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            taints: vec![],
            consolidation_policy: ConsolidationPolicy::default(),
            consolidate_after: Some(SimDuration::ZERO),
            budgets: vec![BudgetNodes::Percent(10)],
            conditional_budgets: vec![],
            limits: None,
            limit_nodes: None,
            kubelet: KubeletConfig::default(),
            node_class: None,
            node_class_revision: 0,
            expire_after: Some(EXPIRE_AFTER),
            termination_grace_period: None,
        }
    }
}

/// The annotation that, set to `"true"` on a node, keeps every disruption method from picking
/// it (kubernetes-sigs/karpenter v1.14.1 `StateNode.ValidateNodeDisruptable`,
/// `pkg/controllers/state/statenode.go`). Expiration and interruption still delete the node.
pub const DO_NOT_DISRUPT: &str = "karpenter.sh/do-not-disrupt";

/// `expireAfter` default (kubernetes-sigs/karpenter v1.13 `pkg/apis/v1/nodepool.go`).
pub const EXPIRE_AFTER: SimDuration = SimDuration::from_hours(720);

/// A change to a NodePool during a run, as when an operator applies an edited manifest.
#[derive(Clone, Debug, PartialEq)]
pub struct NodePoolUpdate {
    /// When the change is applied, from the start of the run.
    pub at: SimDuration,
    /// The NodePool's new spec; its name says which NodePool changes.
    pub pool: NodePool,
}

/// Karpenter settings.
#[derive(Clone, Debug, PartialEq)]
pub struct KarpenterConfig {
    /// Name in reports.
    pub name: String,
    /// NodePools.
    pub node_pools: Vec<NodePool>,
    /// `BATCH_IDLE_DURATION`.
    pub batch_idle_duration: SimDuration,
    /// `BATCH_MAX_DURATION`.
    pub batch_max_duration: SimDuration,
    /// Disruption controller polling period.
    pub disruption_poll_period: SimDuration,
    /// Wait before a consolidation command is validated and executed.
    pub validation_delay: SimDuration,
    /// Feature gate `SpotToSpotConsolidation` (default false).
    pub spot_to_spot_consolidation: bool,
    /// Wall clock of simulated time zero, in Unix seconds, for budget schedules (UTC).
    pub start_unix_secs: i64,
    /// Release whose disruption behaviour is modelled; default v1.13.
    pub version: KarpenterVersion,
    /// NodePool changes during the run, in time order.
    pub node_pool_updates: Vec<NodePoolUpdate>,
    /// `--preference-policy` (Helm `settings.preferencePolicy`); default `Respect`.
    pub preference_policy: PreferencePolicy,
    /// `--min-values-policy` (Helm `settings.minValuesPolicy`); default `Strict`.
    pub min_values_policy: MinValuesPolicy,
}

/// The scheduling simulation's treatment of a NodeClaim whose instance types cannot meet a
/// requirement's `minValues` (kubernetes-sigs/karpenter v1.13 `pkg/operator/options/options.go`,
/// since v1.6).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MinValuesPolicy {
    /// The NodeClaim takes no pod that would leave it short, and a NodeClaim launched short is
    /// dropped.
    #[default]
    Strict,
    /// The NodeClaim takes the pod, and the minimum drops to what its instance types still
    /// offer.
    BestEffort,
}

/// The scheduling simulation's treatment of a pod's preferences (kubernetes-sigs/karpenter v1.13
/// `pkg/operator/options/options.go`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PreferencePolicy {
    /// Preferences count as requirements, and are dropped one at a time when a pod fits
    /// nowhere.
    #[default]
    Respect,
    /// Preferred affinities and ScheduleAnyway spread constraints are left out from the start.
    Ignore,
}

impl Default for KarpenterConfig {
    fn default() -> Self {
        KarpenterConfig {
            name: "karpenter".into(),
            node_pools: vec![NodePool::default()],
            batch_idle_duration: SimDuration::from_secs(1),
            batch_max_duration: SimDuration::from_secs(10),
            disruption_poll_period: SimDuration::from_secs(10),
            validation_delay: SimDuration::from_secs(15),
            spot_to_spot_consolidation: false,
            start_unix_secs: 0,
            version: KarpenterVersion::V1_13,
            node_pool_updates: Vec::new(),
            preference_policy: PreferencePolicy::Respect,
            min_values_policy: MinValuesPolicy::Strict,
        }
    }
}

impl KarpenterConfig {
    /// Returns how long a node that received pods in a provisioning simulation is protected
    /// from disruption: max(2 × batch max duration, 10 s).
    pub fn nomination_window(&self) -> SimDuration {
        SimDuration::from_millis((2 * self.batch_max_duration.as_millis()).max(10_000))
    }
}

/// One instance type a NodePool may launch, with what the pool's nodes of that type offer.
#[derive(Clone, Debug)]
pub(crate) struct PoolOption {
    pub instance_type: InstanceTypeIndex,
    pub labels: BTreeMap<String, String>,
    pub capacity: Resources,
    /// Room for pods: allocatable less the DaemonSet overhead.
    pub room: Resources,
    /// Host ports of the DaemonSets that would run on the node.
    pub daemon_ports: Vec<u16>,
    pub price: Price,
}

/// A NodePool with its instance types resolved.
#[derive(Clone, Debug)]
pub(crate) struct ResolvedPool {
    pub config: NodePool,
    /// Options sorted by on-demand price, then name.
    pub options: Vec<PoolOption>,
    pub zones: Vec<String>,
    /// Whether the pool's `karpenter.sh/capacity-type` requirement allows spot.
    pub allows_spot: bool,
    /// Whether it allows on-demand.
    pub allows_on_demand: bool,
    /// `minValues` of the pool's requirements: label key and the number of distinct values a
    /// NodeClaim's instance types must keep.
    pub min_values: Vec<(String, u32)>,
    /// Each quantity's maximum over the room of the options. Requests that exceed it fit none.
    pub max_room: Resources,
    /// Per option, the Pareto frontier of the rooms of that option and the options before it:
    /// the rooms that fit in no other room listed. Each of those options' rooms fits in a listed
    /// room, so requests that fit in none of them fit none of those options.
    pub prefix_room_frontier: Vec<Vec<Resources>>,
    /// The policy's `--preference-policy`, which the scheduling simulation reads from its pools.
    pub preference_policy: PreferencePolicy,
    /// The policy's `--min-values-policy`, read from the pools in the same way.
    pub min_values_policy: MinValuesPolicy,
}

/// Resolves each pool's instance types and zones against the catalog.
fn resolve_pools(
    config: &KarpenterConfig,
    catalog: &Catalog,
    zones: &[String],
    daemonsets: &[DaemonSet],
) -> Vec<ResolvedPool> {
    let mut pools: Vec<ResolvedPool> = config
        .node_pools
        .iter()
        .map(|pool| {
            let zone_requirements: Vec<&Requirement> = pool
                .requirements
                .iter()
                .filter(|r| r.key == LABEL_ZONE)
                .collect();
            let pool_zones: Vec<String> = zones
                .iter()
                .filter(|z| {
                    zone_requirements.iter().all(|r| {
                        r.matches(&BTreeMap::from([(LABEL_ZONE.to_string(), (*z).clone())]))
                    })
                })
                .cloned()
                .collect();
            let type_requirements: Vec<Requirement> = pool
                .requirements
                .iter()
                .filter(|r| r.key != LABEL_ZONE && r.key != LABEL_CAPACITY_TYPE)
                .cloned()
                .collect();
            let allows_spot = allows_capacity_type(pool, CapacityType::Spot);
            // NOTE: options carry one capacity-type label, the one launched first (spot when
            // allowed), so a pod selecting the other type on a mixed pool does not match.
            let preferred = if allows_spot {
                CapacityType::Spot
            } else {
                CapacityType::OnDemand
            };
            let mut options: Vec<PoolOption> = catalog
                .types()
                .iter()
                .enumerate()
                .filter_map(|(index, instance_type)| {
                    let mut labels = instance_type_labels(instance_type);
                    labels.extend(pool.labels.clone());
                    labels.insert(LABEL_NODEPOOL.to_string(), pool.name.clone());
                    labels.insert(
                        LABEL_CAPACITY_TYPE.to_string(),
                        preferred.label().to_string(),
                    );
                    if !all_match(&type_requirements, &labels) {
                        return None;
                    }
                    let daemon = daemon_overhead(daemonsets, &labels, &pool.taints);
                    Some(PoolOption {
                        instance_type: index,
                        room: allocatable::node_allocatable_with(instance_type, &pool.kubelet)
                            - daemon,
                        daemon_ports: daemonsets
                            .iter()
                            .filter(|ds| ds.runs_on(&labels, &pool.taints))
                            .flat_map(|ds| ds.spec.host_ports.iter().copied())
                            .collect(),
                        labels,
                        capacity: allocatable::node_capacity_with(instance_type, &pool.kubelet),
                        price: instance_type.on_demand_price,
                    })
                })
                .collect();
            let min_values = min_values_of(&pool.requirements);
            options.sort_by(|a, b| {
                (a.price, &catalog.get(a.instance_type).name)
                    .cmp(&(b.price, &catalog.get(b.instance_type).name))
            });
            let mut resolved = ResolvedPool {
                config: pool.clone(),
                options,
                zones: pool_zones,
                allows_spot,
                allows_on_demand: allows_capacity_type(pool, CapacityType::OnDemand),
                min_values,
                max_room: Resources::ZERO,
                prefix_room_frontier: Vec::new(),
                preference_policy: config.preference_policy,
                min_values_policy: config.min_values_policy,
            };
            // A NodePool whose instance types cannot meet its own minValues is skipped under
            // the Strict policy, and kept under BestEffort (`NewScheduler` in
            // kubernetes-sigs/karpenter v1.13 scheduling/scheduler.go).
            let all: Vec<usize> = (0..resolved.options.len()).collect();
            if config.min_values_policy == MinValuesPolicy::Strict
                && min_values::needed(&resolved, &[], &all, None).is_none()
            {
                resolved.options.clear();
            }
            resolved.max_room = resolved
                .options
                .iter()
                .fold(Resources::ZERO, |room, option| room.max(&option.room));
            let mut frontier: Vec<Resources> = Vec::new();
            resolved.prefix_room_frontier = resolved
                .options
                .iter()
                .map(|option| {
                    let room = option.room;
                    if !frontier.iter().any(|kept| room.fits_in(kept)) {
                        frontier.retain(|kept| !kept.fits_in(&room));
                        frontier.push(room);
                    }
                    frontier.clone()
                })
                .collect();
            resolved
        })
        .collect();
    // Highest weight first; equal weights by name.
    pools.sort_by(|a, b| {
        b.config
            .weight
            .cmp(&a.config.weight)
            .then_with(|| a.config.name.cmp(&b.config.name))
    });
    pools
}

/// Collects the `minValues` of `requirements`; with several requirements on one key the largest
/// wins, as when Karpenter merges them.
fn min_values_of(requirements: &[Requirement]) -> Vec<(String, u32)> {
    let mut by_key: BTreeMap<String, u32> = BTreeMap::new();
    for requirement in requirements {
        if let Some(min) = requirement.min_values {
            let entry = by_key.entry(requirement.key.clone()).or_insert(0);
            *entry = (*entry).max(min);
        }
    }
    by_key.into_iter().collect()
}

/// Checks whether a NodePool's requirements allow capacity of `capacity_type`. Without a
/// `karpenter.sh/capacity-type` requirement a NodePool is on-demand only, the default Karpenter
/// v1 adds to the NodeClaim template.
pub fn allows_capacity_type(pool: &NodePool, capacity_type: CapacityType) -> bool {
    let labels = BTreeMap::from([(
        LABEL_CAPACITY_TYPE.to_string(),
        capacity_type.label().to_string(),
    )]);
    let mut requirements = pool
        .requirements
        .iter()
        .filter(|r| r.key == LABEL_CAPACITY_TYPE)
        .peekable();
    if requirements.peek().is_none() {
        return capacity_type == CapacityType::OnDemand;
    }
    requirements.all(|r| r.matches(&labels))
}

/// Timer kinds, in the top byte of a timer token.
const TIMER_BATCH_IDLE: u64 = 1;
const TIMER_BATCH_MAX: u64 = 2;
const TIMER_DISRUPTION: u64 = 3;
const TIMER_VALIDATION: u64 = 4;
const TIMER_POOL_UPDATE: u64 = 5;
const TIMER_EXPIRATION: u64 = 6;

fn token(kind: u64, generation: u64) -> u64 {
    (kind << 56) | generation
}

/// The Karpenter policy.
#[derive(Debug)]
pub struct Karpenter {
    config: KarpenterConfig,
    pools: Option<Vec<ResolvedPool>>,
    /// Generation of the live idle timer and of the max timer of the open batch window.
    batch_idle: Option<u64>,
    batch_max: Option<u64>,
    batch_generation: u64,
    disruption_generation: u64,
    /// Nodes nominated by a provisioning simulation, and until when.
    nominated_until: BTreeMap<NodeId, SimTime>,
    /// A command waiting for its validation timer.
    pending_command: Option<disruption::Command>,
    validation_generation: u64,
    /// Replacement node → the started command it belongs to.
    replacements: BTreeMap<NodeId, u64>,
    /// Started commands waiting for their replacements, by id.
    in_flight: BTreeMap<u64, disruption::InFlight>,
    next_command: u64,
    /// The reasons written to the decision log for each node consolidation keeps.
    unconsolidatable: BTreeMap<NodeId, Vec<disruption::Unconsolidatable>>,
    /// NodePool index and reason of each budget block noted in the decision log and not yet
    /// lifted.
    blocked_budgets: BTreeSet<(usize, BudgetReason)>,
    /// The causes noted in the decision log for each node whose pods kept it from being
    /// disrupted.
    blocking_pods: BTreeMap<NodeId, Vec<pod_blocks::PodBlock>>,
    /// The causes noted in the decision log for each node whose own state kept it from being
    /// disrupted.
    blocked_nodes: BTreeMap<NodeId, Vec<node_blocks::NodeBlock>>,
    /// Nodes whose NodeClaim is Drifted, and since when.
    drifted: BTreeMap<NodeId, SimTime>,
    /// Per NodePool name, its template's drift-relevant fields from each time on, in time
    /// order; a node was launched with the fields in force at its launch.
    template_history: BTreeMap<String, Vec<(SimTime, drift::TemplateFields)>>,
    /// Time of the armed expiration timer, if any.
    expiration_timer: Option<SimTime>,
    /// A lower bound on the expiry of the nodes not being deleted (`None` when no node expires),
    /// and the id the next launched node gets. The field is `None` when the next expiration
    /// check must walk every node.
    expiry_bound: Option<(Option<SimTime>, NodeId)>,
    /// Nodes held by a command (candidates cordoned for replacement or being deleted).
    disrupting: BTreeSet<NodeId>,
    /// The spot market as this policy sees it (the run's prices), when spot is in play.
    market: Option<std::cell::RefCell<autoscale_sim_cloud::SpotMarket>>,
    /// Offerings EC2 recently had no capacity for (or interrupted), and until when Karpenter
    /// avoids them (the AWS provider's unavailable-offerings cache, 3 minutes).
    unavailable: BTreeMap<(InstanceTypeIndex, String, CapacityType), SimTime>,
    /// Cluster generation at the last disruption pass that found nothing to do, and the time
    /// until which that result is valid.
    consolidated: Option<(u64, SimTime)>,
    /// Each node's pod facts, kept across disruption passes.
    pod_cache: pod_facts::PodCache,
    /// Single-node consolidation verdicts kept across disruption passes.
    single_node_verdicts: verdicts::SingleNodeVerdicts,
    /// The options of new NodeClaims for lone pods, kept across disruption passes until the
    /// pools are resolved again. A pass moves them into its [`disruption::ConsolidationBase`]
    /// and back at its end.
    lone_pod_options: std::cell::RefCell<scheduling::LonePodOptionStore>,
}

impl Karpenter {
    /// Creates a Karpenter policy with `config`.
    pub fn new(config: KarpenterConfig) -> Self {
        Karpenter {
            config,
            pools: None,
            batch_idle: None,
            batch_max: None,
            batch_generation: 0,
            disruption_generation: 0,
            nominated_until: BTreeMap::new(),
            pending_command: None,
            validation_generation: 0,
            replacements: BTreeMap::new(),
            in_flight: BTreeMap::new(),
            next_command: 0,
            unconsolidatable: BTreeMap::new(),
            blocked_budgets: BTreeSet::new(),
            blocking_pods: BTreeMap::new(),
            blocked_nodes: BTreeMap::new(),
            drifted: BTreeMap::new(),
            template_history: BTreeMap::new(),
            expiration_timer: None,
            expiry_bound: None,
            disrupting: BTreeSet::new(),
            consolidated: None,
            pod_cache: pod_facts::PodCache::default(),
            single_node_verdicts: verdicts::SingleNodeVerdicts::default(),
            lone_pod_options: Default::default(),
            market: None,
            unavailable: BTreeMap::new(),
        }
    }

    /// A Karpenter policy that prices spot offerings from `market`, a copy of the run's market.
    pub fn with_market(config: KarpenterConfig, market: autoscale_sim_cloud::SpotMarket) -> Self {
        let mut karpenter = Karpenter::new(config);
        karpenter.market = Some(std::cell::RefCell::new(market));
        karpenter
    }

    /// The configuration.
    pub fn config(&self) -> &KarpenterConfig {
        &self.config
    }

    fn pools(&mut self, view: &ClusterView<'_>) -> &[ResolvedPool] {
        self.pools.get_or_insert_with(|| {
            resolve_pools(
                &self.config,
                view.catalog,
                view.zones,
                view.cluster.daemonsets(),
            )
        })
    }

    fn pool_index(&self, owner: &str) -> Option<usize> {
        self.pools
            .as_ref()?
            .iter()
            .position(|p| p.config.name == owner)
    }

    fn arm_disruption(&mut self, at: SimTime, actions: &mut Actions) {
        self.disruption_generation += 1;
        actions.set_timer(at, token(TIMER_DISRUPTION, self.disruption_generation));
    }
}

impl Autoscaler for Karpenter {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn on_event(&mut self, event: &PolicyEvent, view: &ClusterView<'_>, actions: &mut Actions) {
        match event {
            PolicyEvent::Start => {
                self.pools(view);
                self.start_pool_updates(view, actions);
                self.arm_disruption(view.now + self.config.disruption_poll_period, actions);
            }
            PolicyEvent::PodsUnschedulable(_) => self.trigger_batch(view, actions),
            PolicyEvent::Timer(t) => {
                let (kind, generation) = (t >> 56, t & ((1 << 56) - 1));
                match kind {
                    TIMER_BATCH_IDLE | TIMER_BATCH_MAX
                        if self.batch_timer_fired(kind, generation) =>
                    {
                        self.provision(view, actions)
                    }
                    TIMER_DISRUPTION if generation == self.disruption_generation => {
                        self.disrupt(view, actions)
                    }
                    TIMER_VALIDATION if generation == self.validation_generation => {
                        self.validate_and_execute(view, actions)
                    }
                    TIMER_POOL_UPDATE => self.apply_pool_update(generation as usize, view, actions),
                    TIMER_EXPIRATION => {
                        self.expiration_timer = None;
                        self.expire(view, actions);
                    }
                    _ => {}
                }
            }
            PolicyEvent::NodeReady(node) => self.on_replacement_ready(*node, view, actions),
            PolicyEvent::NodeRemoved(node) => self.on_node_removed(*node, actions),
            // Karpenter never gives up a deletion; it waits for the evictions.
            PolicyEvent::NodeDeletionFailed(_) => {}
            PolicyEvent::LaunchFailed {
                node,
                offerings,
                capacity_type,
                ..
            } => {
                for (instance_type, zone) in offerings {
                    self.mark_unavailable(*instance_type, zone, *capacity_type, view.now);
                }
                self.on_node_removed(*node, actions);
                self.trigger_batch(view, actions);
            }
            PolicyEvent::SpotInterruptionNotice(node) => self.on_interruption(*node, view, actions),
            // The AWS interruption controller only records an event for a rebalance
            // recommendation (`actionForMessage` returns NoAction).
            PolicyEvent::RebalanceRecommendation(_) => {}
        }
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod provisioning_tests;

#[cfg(test)]
mod option_tests;

#[cfg(test)]
mod checkpoint_tests;
