//! The static baseline: a fixed number of nodes of one instance type, never scaled.

use std::collections::BTreeMap;

use autoscale_sim_cloud::InstanceTypeIndex;
use autoscale_sim_kube::CapacityType;

use crate::api::{Actions, Autoscaler, ClusterView, LaunchRequest, PolicyEvent};
use crate::requirements::instance_type_labels;

/// Configuration of the static baseline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaticConfig {
    /// Name in reports.
    pub name: String,
    /// Instance type of every node.
    pub instance_type: InstanceTypeIndex,
    /// Number of nodes, spread over the zones in turn.
    pub count: u32,
}

/// A fleet of a fixed size launched at the start.
#[derive(Clone, Debug)]
pub struct StaticFleet {
    config: StaticConfig,
}

impl StaticFleet {
    /// A static fleet.
    pub fn new(config: StaticConfig) -> Self {
        StaticFleet { config }
    }
}

impl Autoscaler for StaticFleet {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn on_event(&mut self, event: &PolicyEvent, view: &ClusterView<'_>, actions: &mut Actions) {
        if *event != PolicyEvent::Start {
            return;
        }
        let labels: BTreeMap<String, String> =
            instance_type_labels(view.catalog.get(self.config.instance_type));
        for i in 0..self.config.count as usize {
            actions.launch(LaunchRequest {
                owner: self.config.name.clone(),
                instance_type: self.config.instance_type,
                capacity_type: CapacityType::OnDemand,
                zone: view.zones[i % view.zones.len()].clone(),
                labels: labels.clone(),
                taints: vec![],
                annotations: BTreeMap::new(),
                reason: format!("static fleet of {} nodes", self.config.count),
                alternatives: vec![],
            });
        }
    }
}
