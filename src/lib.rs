#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

/// Discrete-event kernel: simulated time, event queues, timers, named random streams.
pub use autoscale_sim_engine as engine;

/// Simulated EC2: instance catalog, allocatable, launch latency, billing.
pub use autoscale_sim_cloud as cloud;

/// Kubernetes objects and the kube-scheduler stand-in.
pub use autoscale_sim_kube as kube;

/// Load traces, the diurnal generator and the HPA model.
pub use autoscale_sim_workload as workload;

/// The `Autoscaler` trait and the Cluster Autoscaler, Karpenter and static policies.
pub use autoscale_sim_policy as policy;

/// The simulated world and its typed results.
pub use autoscale_sim_sim as sim;

/// Scenario files.
pub use autoscale_sim_scenario as scenario;

/// Tables, JSON and CSV writers, SVG plots and `report.html`, with the `report` feature (on by
/// default).
#[cfg(feature = "report")]
pub use autoscale_sim_report as report;

/// Parameter sweeps over seeds, their statistics, shards and merging, with the `sweep` feature
/// (on by default).
#[cfg(feature = "sweep")]
pub use autoscale_sim_sweep as sweep;

pub use autoscale_sim_sim::{PolicySpec, RunOutput, RunReport, SimConfig, Simulation};

/// The library guide, `docs/library.md`, attached here so that `cargo test --doc` runs its
/// examples. It needs the `report` feature, because one example writes files with the
/// `report` module.
#[cfg(all(doctest, feature = "report"))]
#[doc = include_str!("../docs/library.md")]
pub struct LibraryGuide;
