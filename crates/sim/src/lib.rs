//! The simulated world of autoscale-sim: one [`SimConfig`] (EC2 catalog, workloads, DaemonSets)
//! run under one policy gives a typed [`RunOutput`]: the [`RunReport`] summary, the time series
//! and the decision log.
//!
//! ```
//! use std::sync::Arc;
//! use autoscale_sim_cloud::{Catalog, Resources, GIB};
//! use autoscale_sim_engine::SimDuration;
//! use autoscale_sim_kube::PodSpec;
//! use autoscale_sim_policy::{KarpenterConfig, NodePool};
//! use autoscale_sim_sim::{Deployment, PolicySpec, Replicas, SimConfig, Simulation};
//!
//! let mut config = SimConfig::new("doc", 42, SimDuration::from_hours(2), Arc::new(Catalog::builtin()));
//! config.deployments.push(Deployment {
//!     name: "web".into(),
//!     spec: Arc::new(PodSpec { requests: Resources::new(1000, 2 * GIB, 1), ..Default::default() }),
//!     replicas: Replicas::Fixed(6),
//!     startup_latency: Default::default(),
//! });
//! let simulation = Simulation::new(config).unwrap();
//! let output = simulation.run(&PolicySpec::Karpenter(KarpenterConfig::default()));
//! assert!(output.report.total_cost_usd > 0.0);
//! assert_eq!(output.report.pods_created, 6);
//! ```

#![deny(missing_docs)]

mod config;
mod jobs;
mod metrics;
mod report;
mod world;

use std::sync::Arc;

pub use config::{
    DEFAULT_POD_STARTUP, DEFAULT_TERMINATION_DELAY, Deployment, JobStream, Load, PolicySpec,
    Replicas, SimConfig, Snapshot,
};
pub use metrics::hour_of_day;
pub use report::{Decision, FleetSnapshot, RunOutput, RunReport, Sample, percentile};

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

/// A configured world that can be run under any number of policies.
#[derive(Clone, Debug)]
pub struct Simulation {
    config: Arc<SimConfig>,
}

impl Simulation {
    /// A simulation of `config`, after checking what the world relies on.
    pub fn new(config: SimConfig) -> Result<Self, SimError> {
        let invalid =
            |what: String, message: String| Err(SimError::InvalidConfig { what, message });
        if config.zones.is_empty() {
            return invalid("zones".into(), "at least one zone is needed".into());
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
        })
    }

    /// The configuration.
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// Runs one built-in policy.
    pub fn run(&self, policy: &PolicySpec) -> RunOutput {
        self.run_with(policy.build(&self.config))
    }

    /// Runs any policy, such as one of your own.
    pub fn run_with(&self, policy: Box<dyn Autoscaler + Send>) -> RunOutput {
        world::World::new(self.config.clone(), policy).run()
    }
}
