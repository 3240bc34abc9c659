//! Node templates: what Cluster Autoscaler believes a new node of a group will look like.
//!
//! A template comes from a real node of the group that has been Ready for over a minute, and is
//! then cached for good (`--node-info-cache-expire-time` defaults to 87600h). A group with no
//! such node gets a template built from the instance type alone, as the AWS cloud provider's
//! `buildNodeFromTemplate` does: all vCPUs, the full EC2 memory, 110 pods, and allocatable equal
//! to capacity, with no kube-reserved or eviction reserve. That template is larger than a real
//! node, which is how Cluster Autoscaler can launch a node that then cannot hold the pod. A
//! mixed-instances group's template is built from its first launch template override
//! (`getInstanceTypesForAsgs` in `cloudprovider/aws/aws_wrapper.go`), whatever type the group
//! launches.

use std::collections::BTreeMap;

use autoscale_sim_cloud::{ExtendedResource, MIB, Resources};
use autoscale_sim_engine::SimDuration;
use autoscale_sim_kube::{
    LABEL_CAPACITY_TYPE, LABEL_HOSTNAME, LABEL_ZONE, NodeState, Taint, daemon_overhead,
};

use super::{ClusterAutoscaler, NodeGroupConfig};
use crate::api::ClusterView;
use crate::requirements::instance_type_labels;

/// How long a node must have been Ready before it can serve as a template.
const TEMPLATE_NODE_MIN_READY: SimDuration = SimDuration::from_mins(1);

/// Pod slots of a template built from the instance type (AWS cloud provider).
const TEMPLATE_MAX_PODS: i64 = 110;

/// What a new node of a group is expected to offer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Template {
    /// Allocatable, pod slots included.
    pub allocatable: Resources,
    /// Capacity, which the least-waste expander divides by.
    pub capacity: Resources,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Taints.
    pub taints: Vec<Taint>,
    /// Requests of the DaemonSet pods expected on the node.
    pub daemon: Resources,
    /// Host ports of the DaemonSet pods expected on the node.
    pub daemon_ports: Vec<u16>,
    /// Whether it was copied from a real node.
    pub from_real_node: bool,
}

impl Template {
    /// Room left for workload pods on a fresh node.
    pub fn free(&self) -> Resources {
        self.allocatable - self.daemon
    }
}

/// The template built from the instance type alone.
pub(crate) fn from_instance_type(group: &NodeGroupConfig, view: &ClusterView<'_>) -> Template {
    let instance_type = view.catalog.get(group.instance_type);
    // The AWS provider advertises every GPU type's GPUs as nvidia.com/gpu, AMD ones included.
    let capacity = Resources::new(
        i64::from(instance_type.vcpu) * 1000,
        instance_type.memory_mib as i64 * MIB,
        TEMPLATE_MAX_PODS,
    )
    .with_extended(
        ExtendedResource::NvidiaGpu,
        i64::from(instance_type.gpu_count),
    );
    let mut labels = instance_type_labels(instance_type);
    labels.extend(group.labels.clone());
    labels.insert(LABEL_ZONE.to_string(), group_zone(group, view));
    // The AWS provider labels a template only from the group's tags; a mixed-instances group
    // has no single capacity type to label it with.
    if group.mixed_instances.is_none() {
        labels.insert(
            LABEL_CAPACITY_TYPE.to_string(),
            group.capacity_type.label().to_string(),
        );
    }
    let daemon = daemon_overhead(view.cluster.daemonsets(), &labels, &group.taints);
    let daemon_ports = view
        .cluster
        .daemonsets()
        .iter()
        .filter(|ds| ds.runs_on(&labels, &group.taints))
        .flat_map(|ds| ds.spec.host_ports.iter().copied())
        .collect();
    Template {
        allocatable: capacity,
        capacity,
        labels,
        taints: group.taints.clone(),
        daemon,
        daemon_ports,
        from_real_node: false,
    }
}

/// The zone of a group's template: its first zone, as the AWS provider labels a template with
/// the Auto Scaling group's first Availability Zone (`cloudprovider/aws/aws_manager.go`).
pub(crate) fn group_zone(group: &NodeGroupConfig, view: &ClusterView<'_>) -> String {
    super::asg::group_zones(group, view)[0].clone()
}

impl ClusterAutoscaler {
    /// Caches a template from a good real node for every group that has none yet.
    pub(super) fn refresh_templates(&mut self, view: &ClusterView<'_>) {
        // The keys are group indices, so a map with one entry per group has them all.
        if self.cached_templates.len() == self.config.node_groups.len() {
            return;
        }
        for node in view.cluster.nodes() {
            let Some(group) = self.group_of(node) else {
                continue;
            };
            if self.cached_templates.contains_key(&group) {
                continue;
            }
            let ready_long_enough = node
                .ready_at
                .is_some_and(|at| view.now.since(at) > TEMPLATE_NODE_MIN_READY);
            if node.state != NodeState::Ready || node.cordoned || !ready_long_enough {
                continue;
            }
            let mut labels = node.labels.clone();
            labels.remove(LABEL_HOSTNAME);
            let template = Template {
                allocatable: node.allocatable,
                capacity: view.catalog.get(node.instance_type).capacity(),
                labels,
                taints: node.taints.clone(),
                daemon: node.daemon_requests,
                daemon_ports: node.daemon_host_ports.clone(),
                from_real_node: true,
            };
            self.cached_templates.insert(group, template);
        }
    }

    /// The template of group `group`.
    pub(super) fn template(&self, group: usize, view: &ClusterView<'_>) -> Template {
        self.cached_templates
            .get(&group)
            .cloned()
            .unwrap_or_else(|| from_instance_type(&self.config.node_groups[group], view))
    }

    /// Builds the template of every group, indexed like the groups, once per loop.
    pub(super) fn templates(&self, view: &ClusterView<'_>) -> Vec<Template> {
        (0..self.config.node_groups.len())
            .map(|group| self.template(group, view))
            .collect()
    }
}
