//! Everything a run needs, independent of the policy.

use std::collections::BTreeMap;
use std::sync::Arc;

use autoscale_sim_cloud::launch::DEFAULT_REGISTRATION_TIMEOUT;
use autoscale_sim_cloud::{
    Catalog, KubeletConfig, LatencyModel, LaunchLatency, SpotMarket, SpotSettings,
};
use autoscale_sim_engine::{RngStreams, SimDuration, SimTime};
use autoscale_sim_kube::{DaemonSet, PodDisruptionBudget, PodSpec, ScoringStrategy};
use autoscale_sim_policy::{
    Autoscaler, ClusterAutoscaler, ClusterAutoscalerConfig, Karpenter, KarpenterConfig,
    StaticConfig, StaticFleet,
};
use autoscale_sim_workload::{HpaSpec, Trace};

/// A named load series that Deployments follow.
#[derive(Clone, Debug)]
pub struct Load {
    /// Name, as Deployments refer to it.
    pub name: String,
    /// The series, already generated or loaded, scaled and aligned to t = 0.
    pub trace: Trace,
}

/// How many replicas a Deployment runs.
#[derive(Clone, Debug)]
pub enum Replicas {
    /// A constant count.
    Fixed(u32),
    /// A horizontal pod autoscaler following a load.
    Hpa {
        /// Index into [`SimConfig::loads`].
        load: usize,
        /// The HPA settings.
        spec: HpaSpec,
    },
}

/// A StatefulSet's pod management policy (`spec.podManagementPolicy`): the order in which it
/// creates and removes pods.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PodManagementPolicy {
    /// One pod at a time in ordinal order: a pod is created once every lower ordinal runs, and
    /// removed once every higher ordinal is gone (the Kubernetes default).
    #[default]
    OrderedReady,
    /// Every pod at once.
    Parallel,
}

/// The controller that keeps a replicated workload's pods.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReplicaController {
    /// A Deployment's ReplicaSet: an evicted pod is replaced at once by a pod with a new name.
    #[default]
    ReplicaSet,
    /// A StatefulSet: pods are named `name-0` to `name-(N-1)`, and an evicted pod is recreated
    /// under its name once the old pod is gone.
    StatefulSet(PodManagementPolicy),
}

/// A Deployment or StatefulSet and its pod template.
#[derive(Clone, Debug)]
pub struct Deployment {
    /// Name.
    pub name: String,
    /// The controller: a Deployment's ReplicaSet or a StatefulSet.
    pub controller: ReplicaController,
    /// Pod spec shared by every replica.
    pub spec: Arc<PodSpec>,
    /// Replica count.
    pub replicas: Replicas,
    /// Time from binding until a pod runs (image pull, container start).
    pub startup_latency: LatencyModel,
}

/// A stream of batch Jobs: one pod each, arriving as a Poisson process whose rate follows a load,
/// running for a random duration once started.
#[derive(Clone, Debug)]
pub struct JobStream {
    /// Name.
    pub name: String,
    /// Pod spec of every Job's pod.
    pub spec: Arc<PodSpec>,
    /// Index into [`SimConfig::loads`] of the load that sets the arrival rate.
    pub load: usize,
    /// Arrivals per hour for each unit of the load.
    pub arrivals_per_hour_per_unit: f64,
    /// Run time of a Job's pod from Running to Succeeded.
    pub duration: LatencyModel,
    /// Time from binding until the pod runs.
    pub startup_latency: LatencyModel,
}

/// A moment at which the report records the fleet, such as the nightly trough.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// Label in reports.
    pub label: String,
    /// Time of the snapshot.
    pub at: SimTime,
}

/// The simulated world's setup: everything but the policy.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Scenario name.
    pub name: String,
    /// Seed of every random stream.
    pub seed: u64,
    /// Simulated time span.
    pub duration: SimDuration,
    /// Wall-clock time of t = 0, in seconds since the Unix epoch (UTC), for hour of day.
    pub start_unix_secs: i64,
    /// Availability zones, in order.
    pub zones: Vec<String>,
    /// Instance types.
    pub catalog: Arc<Catalog>,
    /// Time from a launch request until the instance runs, the node registers and it becomes
    /// Ready. A [`LatencyModel`] converts into the request-to-Ready shorthand with `.into()`.
    pub launch_latency: LaunchLatency,
    /// Time from a launch request within which the node must register, or the launch fails and
    /// the instance is terminated, under a policy run with [`crate::Simulation::run_with`] or the
    /// static fleet. Cluster Autoscaler uses its `--max-node-provision-time` and Karpenter its
    /// fixed 15 minutes instead ([`PolicySpec::registration_timeout`]).
    pub registration_timeout: SimDuration,
    /// Time from a deletion decision until the instance is terminated and billing stops.
    pub termination_delay: SimDuration,
    /// Load series.
    pub loads: Vec<Load>,
    /// Deployments.
    pub deployments: Vec<Deployment>,
    /// DaemonSets.
    pub daemonsets: Vec<DaemonSet>,
    /// Batch Job streams.
    pub jobs: Vec<JobStream>,
    /// PodDisruptionBudgets.
    pub pdbs: Vec<PodDisruptionBudget>,
    /// kube-scheduler scoring strategy.
    pub scoring: ScoringStrategy,
    /// Interval of the time-series samples.
    pub sample_interval: SimDuration,
    /// Fleet snapshots for the report.
    pub snapshots: Vec<Snapshot>,
    /// The spot market and capacity shortages.
    pub spot: SpotSettings,
    /// Time from a launch request until EC2 answers InsufficientInstanceCapacity for an offering
    /// that has none.
    pub insufficient_capacity_delay: SimDuration,
    /// Check the run's invariants after every event (no node over-committed, every pod in one
    /// place) and panic on a violation; on by default in debug builds and tests.
    pub check_invariants: bool,
}

impl SimConfig {
    /// A configuration with the given name, seed, duration and catalog, us-east-1a/b/c zones,
    /// default latencies, and no workloads yet.
    pub fn new(name: &str, seed: u64, duration: SimDuration, catalog: Arc<Catalog>) -> Self {
        SimConfig {
            name: name.to_string(),
            seed,
            duration,
            start_unix_secs: 0,
            zones: vec![
                "us-east-1a".into(),
                "us-east-1b".into(),
                "us-east-1c".into(),
            ],
            catalog,
            launch_latency: LaunchLatency::default(),
            registration_timeout: DEFAULT_REGISTRATION_TIMEOUT,
            termination_delay: DEFAULT_TERMINATION_DELAY,
            loads: vec![],
            deployments: vec![],
            daemonsets: vec![],
            jobs: vec![],
            pdbs: vec![],
            scoring: ScoringStrategy::default(),
            sample_interval: SimDuration::from_secs(60),
            snapshots: vec![],
            spot: SpotSettings::default(),
            insufficient_capacity_delay: SimDuration::from_secs(2),
            check_invariants: cfg!(debug_assertions),
        }
    }
}

/// Time from a deletion decision until billing stops: the 5 s both autoscalers wait after
/// tainting before they evict (Karpenter's minimum drain time, Cluster Autoscaler's
/// `--node-delete-delay-after-taint`).
/// NOTE: here the evictions start at once and the wait runs alongside them: the instance
/// terminates when the last pod has left after its grace period, and no sooner than this delay.
pub const DEFAULT_TERMINATION_DELAY: SimDuration = SimDuration::from_secs(5);

/// Default pod startup latency (image pull and container start).
/// NOTE: an assumption of this model, not a measured figure; set it per Deployment.
pub const DEFAULT_POD_STARTUP: SimDuration = SimDuration::from_secs(5);

/// A policy and its settings, as a scenario lists them.
// A run builds one spec per policy and keeps it for the whole run, so the size of the largest
// variant costs nothing that boxing would save.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum PolicySpec {
    /// Cluster Autoscaler with node groups.
    ClusterAutoscaler(ClusterAutoscalerConfig),
    /// Karpenter with NodePools.
    Karpenter(KarpenterConfig),
    /// A fixed fleet.
    Static(StaticConfig),
}

impl PolicySpec {
    /// Name in reports.
    pub fn name(&self) -> &str {
        match self {
            PolicySpec::ClusterAutoscaler(c) => &c.name,
            PolicySpec::Karpenter(c) => &c.name,
            PolicySpec::Static(c) => &c.name,
        }
    }

    /// Time from a launch request within which the policy expects the node to register: Cluster
    /// Autoscaler's `--max-node-provision-time`, Karpenter's registration timeout (15 minutes,
    /// `pkg/controllers/nodeclaim/lifecycle/liveness.go`, not configurable), and for the static
    /// fleet [`SimConfig::registration_timeout`]. The world fails a launch whose node has not
    /// registered by then.
    pub fn registration_timeout(&self, config: &SimConfig) -> SimDuration {
        match self {
            PolicySpec::ClusterAutoscaler(c) => c.max_node_provision_time,
            PolicySpec::Karpenter(_) => DEFAULT_REGISTRATION_TIMEOUT,
            PolicySpec::Static(_) => config.registration_timeout,
        }
    }

    /// Returns the kubelet settings that set the allocatable of nodes launched for each owner
    /// (NodePool name): those of Karpenter NodePools whose EC2NodeClass sets `spec.kubelet`.
    pub fn node_kubelet(&self) -> BTreeMap<String, KubeletConfig> {
        match self {
            PolicySpec::Karpenter(c) => c
                .node_pools
                .iter()
                .filter(|pool| pool.kubelet != KubeletConfig::default())
                .map(|pool| (pool.name.clone(), pool.kubelet.clone()))
                .collect(),
            _ => BTreeMap::new(),
        }
    }

    /// Builds the policy for a run of `config`: random choices draw from streams of its seed,
    /// and both autoscalers read spot prices from their own copy of the run's market (the same
    /// streams give the same prices).
    pub fn build(&self, config: &SimConfig) -> Box<dyn Autoscaler + Send> {
        match self {
            PolicySpec::ClusterAutoscaler(c) => Box::new(ClusterAutoscaler::with_market(
                c.clone(),
                &RngStreams::new(config.seed),
                SpotMarket::new(config.spot.clone(), config.seed),
            )),
            PolicySpec::Karpenter(c) => Box::new(Karpenter::with_market(
                c.clone(),
                SpotMarket::new(config.spot.clone(), config.seed),
            )),
            PolicySpec::Static(c) => Box::new(StaticFleet::new(c.clone())),
        }
    }
}
