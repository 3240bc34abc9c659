//! Load and workload models of autoscale-sim: load traces, a diurnal load generator and a
//! Horizontal Pod Autoscaler model that turns load into a Deployment's replica count.
//!
//! A [`Trace`] is a piecewise-constant load series. It comes from a CSV file with the header
//! `timestamp_seconds,value` ([`Trace::from_csv_path`]) or from a generator such as
//! [`DiurnalLoad`], and can be scaled, shifted, resampled and looped ([`TraceEnd`]). An [`Hpa`]
//! reads the load at each sync and recommends a replica count the way Kubernetes' HPA
//! controller does, with its tolerance, stabilization windows and scaling policies.
//!
//! # Example
//!
//! A day of web load between 400 and 1600 requests per minute, served by replicas that each
//! carry 100, with the HPA syncing every 15 s:
//!
//! ```
//! use autoscale_sim_engine::{RngStreams, SimDuration, SimTime};
//! use autoscale_sim_workload::{DiurnalLoad, Hpa, HpaSpec};
//!
//! let load = DiurnalLoad::new(400.0, 1600.0);
//! let mut rng = RngStreams::new(42).stream("load/web");
//! let trace = load
//!     .generate(SimDuration::from_days(1), 0, SimDuration::ZERO, &mut rng)
//!     .unwrap();
//!
//! let mut hpa = Hpa::new(HpaSpec::new(100.0, 3, 50)).unwrap();
//! let mut replicas = 3;
//! let mut peak_replicas = 0;
//! let mut now = SimTime::ZERO;
//! while now < SimTime::ZERO + trace.duration() {
//!     let load = trace.value_at(now).unwrap();
//!     replicas = hpa.recommend(now, replicas, load);
//!     peak_replicas = peak_replicas.max(replicas);
//!     now += hpa.spec().sync_period;
//! }
//!
//! // The 14:00 peak needs 16 replicas, which the HPA reaches.
//! assert_eq!(peak_replicas, 16);
//! ```
//!
//! # Limitations
//!
//! - The HPA model has one metric, the load per replica, which behaves like an External metric
//!   with an `AverageValue` target. The Resource-metric path's adjustments for unready pods
//!   and missing metrics are not modelled.
//! - A Deployment at zero replicas with `min_replicas` above zero is scaled up, whereas
//!   Kubernetes would treat its HPA as disabled (see [`Hpa::recommend`]).
//! - Batch Jobs are not in this crate: the sim crate's `JobStream` draws their arrivals from a
//!   load. Load bursts are not modelled.

#![deny(missing_docs)]

mod diurnal;
mod hpa;
mod trace;

pub use diurnal::DiurnalLoad;
pub use hpa::{Hpa, HpaSpec, ScalingPolicy, ScalingPolicyType, ScalingRules, SelectPolicy};
pub use trace::{Trace, TraceDataError, TraceEnd, TraceError};
