//! Node autoscaling policies: the [`Autoscaler`] trait and its implementations,
//! [`ClusterAutoscaler`] (Cluster Autoscaler 1.36 with EC2 Auto Scaling groups as node groups),
//! [`Karpenter`] (Karpenter v1.13 with NodePools) and the [`StaticFleet`] baseline.
//!
//! # How a policy works
//!
//! A policy is woken by events ([`PolicyEvent`]): the start, its own timers, pods that
//! kube-scheduler marked Unschedulable, nodes becoming Ready or leaving, failed launches and spot
//! interruption notices. It reads the world through a read-only [`ClusterView`] and acts only by
//! filling [`Actions`] with launches, cordons, deletions and timers, each with a reason for the
//! decision log. The world applies them and enforces launch latency, billing, drains and
//! PodDisruptionBudgets. The contract, what a policy may see and do and when it is called, is on
//! [`Autoscaler`].
//!
//! # The built-in policies
//!
//! Each is configured by a plain struct whose `Default` holds the real program's defaults, with
//! the version and source file named on the field or in the module docs:
//!
//! * [`ClusterAutoscalerConfig`]: node groups ([`NodeGroupConfig`]) and the command-line flags,
//!   such as `scan_interval` for `--scan-interval` and `expanders` for `--expander`.
//! * [`KarpenterConfig`]: NodePools ([`NodePool`]) with requirements, disruption settings,
//!   budgets and limits, and the batching and disruption timings.
//! * [`StaticConfig`]: a fixed number of nodes of one instance type.
//!
//! The [`cluster_autoscaler`] and [`karpenter`] module docs list what each models, step by step,
//! and where it departs from the real program.
//!
//! ```
//! use autoscale_sim_cloud::Catalog;
//! use autoscale_sim_engine::SimDuration;
//! use autoscale_sim_policy::requirements::{LABEL_INSTANCE_CATEGORY, Operator, Requirement};
//! use autoscale_sim_policy::{
//!     ClusterAutoscalerConfig, Expander, KarpenterConfig, NodeGroupConfig, NodePool,
//! };
//!
//! let catalog = Catalog::builtin();
//!
//! // Cluster Autoscaler: one node group, a 5-minute unneeded time.
//! let cluster_autoscaler = ClusterAutoscalerConfig {
//!     node_groups: vec![NodeGroupConfig {
//!         name: "general".into(),
//!         instance_type: catalog.index_of("m5.xlarge").unwrap(),
//!         min_size: 1,
//!         max_size: 20,
//!         zones: vec![],
//!         labels: Default::default(),
//!         taints: vec![],
//!         capacity_type: Default::default(),
//!         mixed_instances: None,
//!     }],
//!     scale_down_unneeded_time: SimDuration::from_mins(5),
//!     ..Default::default()
//! };
//! assert_eq!(cluster_autoscaler.expanders, [Expander::LeastWaste]);
//! assert_eq!(cluster_autoscaler.scan_interval, SimDuration::from_secs(10));
//!
//! // Karpenter: one NodePool over the c, m and r categories.
//! let karpenter = KarpenterConfig {
//!     node_pools: vec![NodePool {
//!         requirements: vec![Requirement {
//!             key: LABEL_INSTANCE_CATEGORY.into(),
//!             operator: Operator::In,
//!             values: vec!["c".into(), "m".into(), "r".into()],
//!             min_values: None,
//!         }],
//!         ..Default::default()
//!     }],
//!     ..Default::default()
//! };
//! assert_eq!(karpenter.batch_max_duration, SimDuration::from_secs(10));
//! ```
//!
//! # Writing a policy of your own
//!
//! Implement [`Autoscaler`] and run it with `Simulation::run_with` from the sim crate. The
//! labels a node of an instance type carries, as Karpenter and EKS set them, come from
//! [`requirements::instance_type_labels`]; [`topology::TopologyTracker`] checks required pod
//! anti-affinity and DoNotSchedule topology spread for pods placed in a what-if simulation.
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
//!
//! ## Limitations
//!
//! The bin-packing simulations of the two autoscalers (Cluster Autoscaler's binpacking
//! estimator and Karpenter's scheduler) are internal to their modules, not a public what-if
//! API. Each policy's own departures from the real program are listed in its module docs.

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
    Action, Actions, Autoscaler, ClusterView, DisruptionReason, DrainRules, LaunchRequest,
    PolicyEvent,
};
pub use cluster_autoscaler::{
    ClusterAutoscaler, ClusterAutoscalerConfig, Expander, NodeGroupConfig,
};
pub use karpenter::{
    BudgetNodes, BudgetReason, ConsolidationPolicy, CronSchedule, DO_NOT_DISRUPT, DisruptionBudget,
    EXPIRE_AFTER, Karpenter, KarpenterConfig, KarpenterVersion, MinValuesPolicy, NodePool,
    NodePoolUpdate, PreferencePolicy,
};
pub use static_fleet::{StaticConfig, StaticFleet};
