//! The [`Autoscaler`] trait and its implementations: [`ClusterAutoscaler`], [`Karpenter`] and the
//! [`StaticFleet`] baseline.
//!
//! A policy is woken by events ([`PolicyEvent`]), reads the world through a read-only
//! [`ClusterView`] and acts by filling [`Actions`]: launches, cordons, deletions and timers.
//!
//! ```
//! use autoscale_sim_policy::{Actions, Autoscaler, ClusterView, PolicyEvent};
//!
//! /// A policy that never does anything.
//! struct Idle;
//!
//! impl Autoscaler for Idle {
//!     fn name(&self) -> &str { "idle" }
//!     fn on_event(&mut self, _event: &PolicyEvent, _view: &ClusterView<'_>, _actions: &mut Actions) {}
//! }
//! ```

#![deny(missing_docs)]

mod api;
pub mod cluster_autoscaler;
pub mod karpenter;
pub mod requirements;
mod static_fleet;
#[cfg(test)]
mod testing;
pub mod topology;

pub use api::{
    Action, Actions, Autoscaler, ClusterView, DisruptionReason, LaunchRequest, PolicyEvent,
};
pub use cluster_autoscaler::{
    ClusterAutoscaler, ClusterAutoscalerConfig, Expander, NodeGroupConfig,
};
pub use karpenter::{BudgetNodes, ConsolidationPolicy, Karpenter, KarpenterConfig, NodePool};
pub use static_fleet::{StaticConfig, StaticFleet};
