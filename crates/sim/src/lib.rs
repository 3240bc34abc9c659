//! The simulated world of autoscale-sim: EC2, a Kubernetes cluster with kube-scheduler, the
//! workloads and one autoscaling policy, run event by event.
//!
//! # Building a world
//!
//! A [`Simulation`] contains everything but the policy: the EC2 catalog, zones, launch latency,
//! loads, Deployments, DaemonSets, Job streams, PodDisruptionBudgets and the spot market, all
//! in a [`SimConfig`]. Build one with [`Simulation::builder`], fill a [`SimConfig`] yourself
//! and pass it to [`Simulation::new`], or load a scenario file with the scenario crate.
//!
//! # Running policies
//!
//! [`Simulation::run`] runs one of the built-in policies, given as a [`PolicySpec`];
//! [`Simulation::run_with`] runs any [`Autoscaler`], such as one of your own. A simulation can
//! be run any number of times: every run starts from an empty cluster, and every random draw
//! comes from a stream named after what it is for (load noise, launch latency, spot prices),
//! so every policy faces the same demand and the same market, and the same seed gives the same
//! output.
//!
//! # Results
//!
//! A run returns a [`RunOutput`]: the [`RunReport`] summary (cost, node-hours, allocation, pod
//! pending-time percentiles, evictions, disruptions by reason), the [`Sample`] time series,
//! the [`Decision`] log, and every bound pod's pending time.
//!
//! ```
//! use autoscale_sim_cloud::{Catalog, GIB, Resources};
//! use autoscale_sim_engine::SimDuration;
//! use autoscale_sim_kube::PodSpec;
//! use autoscale_sim_policy::{ClusterAutoscalerConfig, KarpenterConfig, NodeGroupConfig};
//! use autoscale_sim_sim::{PolicySpec, Simulation};
//!
//! let api = PodSpec {
//!     // 1 vCPU, 2 GiB and one of the node's pod slots.
//!     requests: Resources::new(1_000, 2 * GIB, 1),
//!     ..Default::default()
//! };
//! let simulation = Simulation::builder("doc")
//!     .seed(42)
//!     .duration(SimDuration::from_hours(2))
//!     .deployment("api", api, 6)
//!     .build()
//!     .unwrap();
//!
//! let catalog = Catalog::builtin();
//! let cluster_autoscaler = PolicySpec::ClusterAutoscaler(ClusterAutoscalerConfig {
//!     node_groups: vec![NodeGroupConfig {
//!         name: "general".into(),
//!         instance_type: catalog.index_of("m5.2xlarge").unwrap(),
//!         min_size: 1,
//!         max_size: 10,
//!         zones: vec![],
//!         labels: Default::default(),
//!         taints: vec![],
//!         capacity_type: Default::default(),
//!         mixed_instances: None,
//!     }],
//!     ..Default::default()
//! });
//! let karpenter = PolicySpec::Karpenter(KarpenterConfig::default());
//!
//! for policy in [&cluster_autoscaler, &karpenter] {
//!     let output = simulation.run(policy);
//!     assert_eq!(output.report.pods_created, 6);
//!     assert_eq!(output.pod_pending_times_ms.len(), 6);
//!     assert!(output.report.total_cost_usd > 0.0);
//! }
//! ```
//!
//! ## Limitations
//!
//! A launch goes through request, running, registered and Ready, and is billed from running.
//! Until it is Ready the node is a Launching node: registration is a time, not a node state that
//! policies see. DaemonSet pods are node overhead, not pod objects. StatefulSets and persistent
//! volumes are not modelled. Time series are sampled at [`SimConfig::sample_interval`], but the
//! summary integrates at every event.

#![deny(missing_docs)]

mod builder;
mod config;
mod jobs;
mod metrics;
mod report;
mod world;

use std::sync::Arc;

use autoscale_sim_engine::{SimDuration, SimTime};

pub use builder::{DEFAULT_START_UNIX_SECS, SimulationBuilder};
pub use config::{
    DEFAULT_POD_STARTUP, DEFAULT_TERMINATION_DELAY, Deployment, JobStream, Load,
    PodManagementPolicy, PolicySpec, ReplicaController, Replicas, SimConfig, Snapshot,
};
pub use metrics::hour_of_day;
pub use report::{Decision, FleetSnapshot, Progress, RunOutput, RunReport, Sample, percentile};

use autoscale_sim_policy::Autoscaler;

/// An invalid [`SimConfig`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// A part of the configuration cannot be simulated.
    #[error("invalid simulation setup, {what}: {message}")]
    InvalidConfig {
        /// Which part.
        what: String,
        /// What is wrong.
        message: String,
    },
}

/// Maximum run length: a year and a month, enough for a year of daily cycles plus warm-up.
pub const MAX_DURATION: SimDuration = SimDuration::from_days(400);

/// Maximum pods of one Deployment and nodes of a static fleet: well beyond the 5,000-node and
/// 150,000-pod limits Kubernetes documents for one cluster.
pub const MAX_REPLICAS: u32 = 200_000;

/// Maximum time-series samples of one run. A run keeps them in memory at about 100 bytes each
/// (measured), so this bounds them near 100 MB per policy.
pub const MAX_SAMPLES: u64 = 1_000_000;

/// Number of time-series samples a run of `duration` takes every `interval`: one at 0 and one
/// at each multiple of `interval` up to the end.
pub fn sample_count(duration: SimDuration, interval: SimDuration) -> u64 {
    match interval.as_millis() {
        0 => u64::MAX,
        step => duration.as_millis() / step + 1,
    }
}

/// Shortest sample interval, in whole seconds, that keeps a run of `duration` within
/// [`MAX_SAMPLES`].
pub fn shortest_sample_interval(duration: SimDuration) -> SimDuration {
    let seconds = duration.as_millis().div_ceil(1000 * (MAX_SAMPLES - 1));
    SimDuration::from_secs(seconds.max(1))
}

/// Checks the limits a scenario file enforces too, for worlds set up in code: the duration,
/// the sample count, the snapshots, the replica counts and unique workload names.
fn check_limits(config: &SimConfig) -> Result<(), (String, String)> {
    if config.duration == SimDuration::ZERO || config.duration > MAX_DURATION {
        return Err((
            "duration".into(),
            format!(
                "{} is not a run length from 1 ms to {MAX_DURATION}; set one in that range",
                config.duration
            ),
        ));
    }
    let mut zones = std::collections::BTreeSet::new();
    if let Some(twice) = config
        .zones
        .iter()
        .find(|zone| !zones.insert(zone.as_str()))
    {
        return Err((
            "zones".into(),
            format!("{twice} is listed twice; list each zone once"),
        ));
    }
    let samples = sample_count(config.duration, config.sample_interval);
    if samples > MAX_SAMPLES {
        return Err((
            "sample_interval".into(),
            format!(
                "{} over {} takes more than {MAX_SAMPLES} samples; set an interval of at least {}",
                config.sample_interval,
                config.duration,
                shortest_sample_interval(config.duration)
            ),
        ));
    }
    if let Some(snapshot) = config
        .snapshots
        .iter()
        .find(|s| s.at > SimTime::ZERO + config.duration)
    {
        return Err((
            format!("snapshot {}", snapshot.label),
            format!(
                "{} is after the end of the run ({})",
                snapshot.at.since(SimTime::ZERO),
                config.duration
            ),
        ));
    }
    let mut names = std::collections::BTreeSet::new();
    for deployment in &config.deployments {
        if !names.insert(deployment.name.as_str()) {
            return Err((
                format!("deployment {}", deployment.name),
                "another Deployment or StatefulSet has this name; give each its own name".into(),
            ));
        }
        let max = match &deployment.replicas {
            Replicas::Fixed(count) => *count,
            Replicas::Hpa { spec, .. } => spec.max_replicas,
        };
        if max > MAX_REPLICAS {
            return Err((
                format!("deployment {}", deployment.name),
                format!(
                    "{max} replicas is more than the {MAX_REPLICAS} accepted; set at most {MAX_REPLICAS}"
                ),
            ));
        }
    }
    config
        .spot
        .validate()
        .map_err(|message| ("spot".to_string(), message))?;
    let mut job_names = std::collections::BTreeSet::new();
    for job in &config.jobs {
        if !job_names.insert(job.name.as_str()) {
            return Err((
                format!("job {}", job.name),
                "another Job stream has this name; give each stream its own name".into(),
            ));
        }
    }
    Ok(())
}

/// A configured world that can be run under any number of policies.
#[derive(Clone, Debug)]
pub struct Simulation {
    config: Arc<SimConfig>,
    /// Whether runs keep their decision log ([`Simulation::keep_decision_log`]).
    decision_log: bool,
}

impl Simulation {
    /// A simulation of `config`, after checking what the world relies on.
    pub fn new(config: SimConfig) -> Result<Self, SimError> {
        let invalid =
            |what: String, message: String| Err(SimError::InvalidConfig { what, message });
        if config.zones.is_empty() {
            return invalid("zones".into(), "at least one zone is needed".into());
        }
        if let Err((what, message)) = check_limits(&config) {
            return invalid(what, message);
        }
        for job in &config.jobs {
            if job.load >= config.loads.len() {
                return invalid(
                    format!("job {}", job.name),
                    format!("load index {} does not exist", job.load),
                );
            }
            if !job.arrivals_per_hour_per_unit.is_finite() || job.arrivals_per_hour_per_unit < 0.0 {
                return invalid(
                    format!("job {}", job.name),
                    "the arrival rate must be a finite number zero or more".into(),
                );
            }
        }
        for deployment in &config.deployments {
            if let Replicas::Hpa { load, spec } = &deployment.replicas {
                if *load >= config.loads.len() {
                    return invalid(
                        format!("deployment {}", deployment.name),
                        format!("load index {load} does not exist"),
                    );
                }
                if let Err(message) = autoscale_sim_workload::Hpa::new(spec.clone()) {
                    return invalid(format!("deployment {}", deployment.name), message);
                }
            }
        }
        Ok(Simulation {
            config: Arc::new(config),
            decision_log: true,
        })
    }

    /// Sets whether runs keep their decision log (on by default). Without it,
    /// [`RunOutput::decisions`] is empty, and a run saves the memory the log takes, which grows
    /// with its length: about 190 MB for a month of a 1,000-node cluster. Nothing else in the
    /// run or its output changes.
    pub fn keep_decision_log(mut self, keep: bool) -> Self {
        self.decision_log = keep;
        self
    }

    /// The configuration.
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// Runs one built-in policy, with the registration timeout it uses
    /// ([`PolicySpec::registration_timeout`]).
    pub fn run(&self, policy: &PolicySpec) -> RunOutput {
        self.world(policy).run()
    }

    /// Builds the world of a run of one built-in policy, with the registration timeout the
    /// policy uses and the kubelet settings of its nodes.
    fn world(&self, policy: &PolicySpec) -> world::World {
        let timeout = policy.registration_timeout(&self.config);
        let mut world = world::World::new(self.config.clone(), policy.build(&self.config), timeout);
        world.set_node_kubelet(policy.node_kubelet());
        world.set_decision_log(self.decision_log);
        world
    }

    /// Runs one built-in policy as [`Simulation::run`] does, and calls `observer` every `every`
    /// of simulated time (at 0, `every`, 2 × `every`, …, before the events of that time), for
    /// progress or memory checks. Observing changes nothing in the run or its output.
    pub fn run_observed(
        &self,
        policy: &PolicySpec,
        every: autoscale_sim_engine::SimDuration,
        observer: &mut dyn FnMut(&Progress),
    ) -> RunOutput {
        self.world(policy).run_observed(Some((every, observer)))
    }

    /// Runs any policy, such as one of your own, with [`SimConfig::registration_timeout`].
    pub fn run_with(&self, policy: Box<dyn Autoscaler + Send>) -> RunOutput {
        let timeout = self.config.registration_timeout;
        let mut world = world::World::new(self.config.clone(), policy, timeout);
        world.set_decision_log(self.decision_log);
        world.run()
    }
}
