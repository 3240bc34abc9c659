//! Simulated AWS EC2 for autoscale-sim.
//!
//! * [`Catalog`]: instance types with vCPU, memory, architecture, ENI-limited max pods and the
//!   Linux on-demand price; [`Catalog::builtin`] holds us-east-1, and [`Catalog::from_csv_path`]
//!   loads a user's own.
//! * [`allocatable`]: node capacity and allocatable by the EKS and Karpenter formulas.
//! * [`billing`]: per-second billing with a 60-second minimum, in exact integer [`Cost`].
//! * [`LatencyModel`]: a latency distribution (fixed, normal, log-normal or empirical).
//! * [`launch`]: the phases of a launch, request to running to registered to Ready, each with
//!   its own [`LatencyModel`] ([`LaunchLatency`]).
//! * [`SpotMarket`]: spot prices per offering over time, interruptions and capacity shortages.
//!
//! ```
//! use autoscale_sim_cloud::{Catalog, billing, MIB};
//! use autoscale_sim_engine::SimDuration;
//!
//! let catalog = Catalog::builtin();
//! let m5 = catalog.by_name("m5.large").unwrap();
//! assert_eq!(m5.allocatable().memory_bytes, 6903 * MIB);
//! let cost = billing::instance_cost(m5.on_demand_price, SimDuration::from_secs(90));
//! assert_eq!(cost.micro_usd(), 2_400);
//! ```
//!
//! ## Limitations
//!
//! Spot prices come from the model in [`spot`] unless recorded prices are given
//! ([`SpotSettings::history`]). Interruptions, rebalance recommendations and random shortages
//! always come from the model. A launch's phases are independent draws; a node never registers
//! late for any other reason than a long draw.

#![deny(missing_docs)]

pub mod allocatable;
pub mod billing;
mod catalog;
mod catalog_data;
mod latency;
pub mod launch;
mod money;
mod resources;
pub mod spot;

pub use allocatable::{EvictionThreshold, KubeletConfig};
pub use catalog::{Arch, CSV_COLUMNS, Catalog, CatalogError, InstanceType, InstanceTypeIndex};
pub use latency::LatencyModel;
pub use launch::{LaunchLatency, LaunchPhases, LaunchStreams, LaunchTimes};
pub use money::{Cost, Price};
pub use resources::{EXTENDED_RESOURCES, ExtendedResource, GIB, MIB, Resources};
pub use spot::{
    CapacityWindow, InterruptionBand, MAX_INTERRUPTIONS_PER_MONTH, ShortageProcess, SpotMarket,
    SpotSettings,
};
