//! Kubernetes objects and the kube-scheduler stand-in of autoscale-sim.
//!
//! A [`Cluster`] holds nodes, pods and the scheduling queue; the [`Scheduler`] binds Pending
//! pods to nodes or marks them Unschedulable, which is what both autoscalers react to.
//! Quantities such as `500m` and `2Gi` are parsed exactly by [`quantity`].
//!
//! ```
//! use std::sync::Arc;
//! use autoscale_sim_cloud::{Catalog, Price};
//! use autoscale_sim_engine::SimTime;
//! use autoscale_sim_kube::{Cluster, NewNode, Owner, PodSpec, Scheduler, quantity, CapacityType};
//!
//! let catalog = Catalog::builtin();
//! let m5 = catalog.by_name("m5.large").unwrap();
//! let mut cluster = Cluster::new(vec![]);
//! let node = cluster.add_node(NewNode {
//!     owner: "general".into(), instance_type: catalog.index_of("m5.large").unwrap(),
//!     instance_type_name: m5.name.clone(), capacity_type: CapacityType::OnDemand,
//!     zone: "us-east-1a".into(), price: m5.on_demand_price, labels: Default::default(),
//!     taints: vec![], allocatable: m5.allocatable(),
//! }, SimTime(0));
//! cluster.mark_ready(node, SimTime(45_000));
//!
//! let mut spec = PodSpec::default();
//! spec.requests.cpu_millis = quantity::parse_cpu_millis("500m").unwrap();
//! spec.requests.memory_bytes = quantity::parse_value("1Gi").unwrap();
//! spec.requests.pods = 1;
//! cluster.create_pod(Owner::Bare, Arc::new(spec), SimTime(50_000));
//! let pass = Scheduler::default().schedule(&mut cluster, SimTime(50_000));
//! assert_eq!(pass.bound.len(), 1);
//! ```
//!
//! ## Limitations
//!
//! The scheduler stand-in has the default profile's filters and scores (see [`plugins`]),
//! kube-scheduler's system default spread constraints, and priority preemption (see
//! [`preemption`]). DaemonSet pods are accounted as per-node overhead rather than as pod
//! objects. Extended resources are counted in fixed slots (see
//! `autoscale_sim_cloud::ExtendedResource`), with one shared slot for unknown names.

#![deny(missing_docs)]

mod cluster;
mod constraints;
pub mod label;
mod node_table;
mod objects;
pub mod plugins;
mod pod_table;
pub mod preemption;
pub mod quantity;
mod scheduler;
mod selector;
pub mod string_value;
mod verdicts;
pub mod whole_number;

pub use cluster::{Cluster, NewNode, QueueCursor};
pub use constraints::*;
pub use node_table::ReadyTotals;
pub use objects::*;
pub use preemption::{PostFilterOutcome, Preemption};
pub use scheduler::{
    SchedulePass, Scheduler, ScoringStrategy, feasible_nodes_to_find, fits_on,
    passes_static_filters, score,
};
pub use selector::{LabelSelector, Operator, Requirement, all_match};
