//! Fixtures for policy tests: a small catalog, nodes, pods and a world that calls a policy,
//! applies its actions and fires its timers.

use std::collections::BTreeMap;
use std::sync::Arc;

use autoscale_sim_cloud::{Arch, Catalog, GIB, InstanceType, Price, Resources};
use autoscale_sim_engine::SimTime;
use autoscale_sim_kube::{
    CapacityType, Cluster, DaemonSet, NewNode, NodeId, NodeState, Owner, PodId, PodSpec, Scheduler,
};

use crate::api::{
    Action, Actions, Autoscaler, ClusterView, DisruptionReason, LaunchRequest, PolicyEvent,
};
use crate::requirements::instance_type_labels;

/// Zones of the test region, named as in Karpenter's fake cloud provider.
pub(crate) const ZONES: [&str; 3] = ["test-zone-1", "test-zone-2", "test-zone-3"];

/// Converts `seconds` after the start to a simulated time.
pub(crate) fn secs(seconds: u64) -> SimTime {
    SimTime(seconds * 1000)
}

/// Builds an amd64 instance type with 110 pod slots.
pub(crate) fn instance_type(name: &str, vcpu: u32, memory_mib: u64, price: Price) -> InstanceType {
    InstanceType {
        name: name.to_string(),
        family: "fake".to_string(),
        category: "fake".to_string(),
        generation: 1,
        size: name.to_string(),
        vcpu,
        memory_mib,
        arch: Arch::Amd64,
        max_pods_eni: Some(110),
        on_demand_price: price,
        gpu_count: 0,
        neuron_devices: 0,
        neuron_cores: 0,
    }
}

/// Formats the name of the fake type with `vcpu` vCPUs and `memory_gib` GiB of memory.
pub(crate) fn fake_type_name(vcpu: u32, memory_gib: u64) -> String {
    format!("fake-{vcpu}cpu-{memory_gib}gi")
}

/// Builds the Linux, amd64, on-demand part of `fake.InstanceTypesAssorted` from Karpenter's
/// fake cloud provider. It has every combination of vCPU in {1, 2, 4, 8, 16, 32, 64} and
/// memory in {1, 2, 4, 8, 16, 32, 64, 128} GiB, priced at $0.1 per vCPU plus $0.1 per 10^9
/// bytes of memory (1 vCPU / 1 GiB costs $0.207374/h).
///
/// NOTE: Karpenter's fake types reserve only 100m CPU and 10Mi. A node launched here gets the
/// EKS allocatable of [`InstanceType::allocatable`] instead, which leaves the 1 GiB types no
/// allocatable memory.
pub(crate) fn fake_catalog() -> Catalog {
    let mut types = Vec::new();
    for vcpu in [1, 2, 4, 8, 16, 32, 64] {
        for memory_gib in [1, 2, 4, 8, 16, 32, 64, 128] {
            let memory_bytes = memory_gib as i64 * GIB;
            // $0.1 per 10^9 bytes is 1 micro-dollar per 10^4 bytes.
            let price = Price(100_000 * u64::from(vcpu) + (memory_bytes / 10_000) as u64);
            types.push(instance_type(
                &fake_type_name(vcpu, memory_gib),
                vcpu,
                memory_gib * 1024,
                price,
            ));
        }
    }
    Catalog::new(types)
}

/// Builds a pod spec with these requests and one pod slot.
pub(crate) fn pod_spec(cpu_millis: i64, memory_bytes: i64) -> Arc<PodSpec> {
    Arc::new(PodSpec {
        requests: Resources::new(cpu_millis, memory_bytes, 1),
        ..Default::default()
    })
}

/// Builds a DaemonSet whose pods request `cpu_millis` and `memory_bytes`.
pub(crate) fn daemonset(name: &str, cpu_millis: i64, memory_bytes: i64) -> DaemonSet {
    DaemonSet::new(
        name,
        PodSpec {
            requests: Resources::new(cpu_millis, memory_bytes, 1),
            ..Default::default()
        },
    )
}

/// The actions and timers of one policy call.
#[derive(Debug)]
pub(crate) struct Reply {
    pub actions: Vec<Action>,
    pub timers: Vec<(SimTime, u64)>,
}

/// Collects the launch requests among `actions`, in order.
pub(crate) fn launches<'a>(
    actions: impl IntoIterator<Item = &'a Action>,
) -> Vec<&'a LaunchRequest> {
    actions
        .into_iter()
        .filter_map(|action| match action {
            Action::Launch(request) => Some(request),
            _ => None,
        })
        .collect()
}

/// Collects the deleted nodes among `actions`, with their reasons, in order.
pub(crate) fn deletions<'a>(
    actions: impl IntoIterator<Item = &'a Action>,
) -> Vec<(NodeId, DisruptionReason)> {
    actions
        .into_iter()
        .filter_map(|action| match action {
            Action::DeleteNode { node, reason, .. } => Some((*node, *reason)),
            _ => None,
        })
        .collect()
}

/// Drops the times from a timed log of actions.
pub(crate) fn untimed(log: &[(SimTime, Action)]) -> impl Iterator<Item = &Action> {
    log.iter().map(|(_, action)| action)
}

/// A cluster, a catalog and a timer queue standing in for the simulated world.
///
/// Like the world, it applies a policy's actions right after each call. A launch adds a
/// Launching node with the EKS allocatable of its type and the request's annotations, and a
/// cordon sets the cordon. A deletion
/// marks the node Deleting and evicts its pods: a Deployment's pod comes back Pending, and a
/// bare pod is lost. Nodes become Ready and pods get bound only when a test calls for it.
pub(crate) struct TestWorld {
    pub cluster: Cluster,
    pub catalog: Catalog,
    pub zones: Vec<String>,
    pub now: SimTime,
    /// Pending timers as (time, sequence number, token). The sequence number keeps timers due
    /// at the same time in the order they were set.
    timers: Vec<(SimTime, u64, u64)>,
    next_timer: u64,
    /// Allocatable that launched nodes of these instance types really get, where it differs
    /// from the EKS formula the policies estimate with.
    pub true_allocatable: BTreeMap<String, Resources>,
}

impl TestWorld {
    /// Creates an empty world at time zero whose nodes run `daemonsets`.
    pub fn new(catalog: Catalog, daemonsets: Vec<DaemonSet>) -> Self {
        TestWorld {
            cluster: Cluster::new(daemonsets),
            catalog,
            zones: ZONES.iter().map(|z| z.to_string()).collect(),
            now: SimTime::ZERO,
            timers: Vec::new(),
            next_timer: 0,
            true_allocatable: BTreeMap::new(),
        }
    }

    /// Adds an on-demand node in the Launching state, in the first zone, billed at its type's
    /// price.
    pub fn add_launching_node(
        &mut self,
        owner: &str,
        type_name: &str,
        allocatable: Resources,
    ) -> NodeId {
        self.add_node_of(owner, type_name, allocatable, CapacityType::OnDemand)
    }

    /// Adds a Ready spot node in the first zone, with the capacity-type label Karpenter sets.
    pub fn add_ready_spot_node(
        &mut self,
        owner: &str,
        type_name: &str,
        allocatable: Resources,
    ) -> NodeId {
        let id = self.add_node_of(owner, type_name, allocatable, CapacityType::Spot);
        self.cluster.mark_ready(id, self.now);
        id
    }

    /// Adds a node of `capacity_type` in the Launching state, in the first zone.
    fn add_node_of(
        &mut self,
        owner: &str,
        type_name: &str,
        allocatable: Resources,
        capacity_type: CapacityType,
    ) -> NodeId {
        let index = self
            .catalog
            .index_of(type_name)
            .unwrap_or_else(|| panic!("instance type {type_name} is not in the test catalog"));
        let instance_type = self.catalog.get(index);
        let new = NewNode {
            owner: owner.to_string(),
            instance_type: index,
            instance_type_name: instance_type.name.clone(),
            capacity_type,
            zone: self.zones[0].clone(),
            price: instance_type.on_demand_price,
            labels: {
                let mut labels = instance_type_labels(instance_type);
                labels.insert(
                    autoscale_sim_kube::LABEL_CAPACITY_TYPE.to_string(),
                    capacity_type.label().to_string(),
                );
                labels
            },
            taints: vec![],
            allocatable,
        };
        self.cluster.add_node(new, self.now)
    }

    /// Adds a node like [`TestWorld::add_launching_node`] and marks it Ready.
    pub fn add_ready_node(
        &mut self,
        owner: &str,
        type_name: &str,
        allocatable: Resources,
    ) -> NodeId {
        let id = self.add_launching_node(owner, type_name, allocatable);
        self.cluster.mark_ready(id, self.now);
        id
    }

    /// Creates a Pending pod owned by a Deployment.
    pub fn add_pending_pod(&mut self, spec: &Arc<PodSpec>) -> PodId {
        self.cluster
            .create_pod(Owner::Deployment(0), spec.clone(), self.now)
    }

    /// Creates a pod owned by a Deployment and binds it to `node`.
    pub fn add_bound_pod(&mut self, node: NodeId, spec: &Arc<PodSpec>) -> PodId {
        let pod = self.add_pending_pod(spec);
        self.cluster.bind(pod, node, self.now);
        pod
    }

    /// Runs the kube-scheduler stand-in and returns the pods it newly marked Unschedulable.
    pub fn schedule(&mut self) -> Vec<PodId> {
        Scheduler::default()
            .schedule(&mut self.cluster, self.now)
            .newly_unschedulable
    }

    /// Calls `f` with a view of the world and applies the actions it collects.
    pub fn call(&mut self, f: impl FnOnce(&ClusterView<'_>, &mut Actions)) -> Reply {
        let mut actions = Actions::new(self.cluster.next_node_id());
        let view = ClusterView {
            now: self.now,
            cluster: &self.cluster,
            catalog: &self.catalog,
            zones: &self.zones,
        };
        f(&view, &mut actions);

        let (list, timers) = actions.into_parts();
        self.apply(&list);
        for &(time, token) in &timers {
            self.timers.push((time, self.next_timer, token));
            self.next_timer += 1;
        }
        Reply {
            actions: list,
            timers,
        }
    }

    /// Sends `event` to `policy` and applies the actions it returns.
    pub fn send(&mut self, policy: &mut dyn Autoscaler, event: PolicyEvent) -> Reply {
        self.call(|view, actions| policy.on_event(&event, view, actions))
    }

    /// Fires every timer due up to `until` in time order, then moves the clock to `until`.
    /// Returns the actions of those calls with the time each was taken.
    pub fn advance_to(
        &mut self,
        policy: &mut dyn Autoscaler,
        until: SimTime,
    ) -> Vec<(SimTime, Action)> {
        let mut log = Vec::new();
        for _ in 0..100_000 {
            let next = self
                .timers
                .iter()
                .enumerate()
                .filter(|(_, (time, _, _))| *time <= until)
                .min_by_key(|(_, (time, sequence, _))| (*time, *sequence))
                .map(|(position, _)| position);
            let Some(position) = next else {
                self.now = self.now.max(until);
                return log;
            };
            let (time, _, token) = self.timers.swap_remove(position);
            self.now = self.now.max(time);
            let reply = self.send(policy, PolicyEvent::Timer(token));
            log.extend(reply.actions.into_iter().map(|action| (self.now, action)));
        }
        panic!("the policy kept setting timers at or before {until}");
    }

    /// Marks a Launching node Ready and sends `NodeReady` to the policy.
    pub fn make_ready(&mut self, policy: &mut dyn Autoscaler, node: NodeId) -> Reply {
        self.cluster.mark_ready(node, self.now);
        self.send(policy, PolicyEvent::NodeReady(node))
    }

    /// Removes a node whose pods are gone and sends `NodeRemoved` to the policy.
    pub fn terminate(&mut self, policy: &mut dyn Autoscaler, node: NodeId) -> Reply {
        self.cluster
            .remove_node(node)
            .unwrap_or_else(|| panic!("{node} is not in the cluster"));
        self.send(policy, PolicyEvent::NodeRemoved(node))
    }

    /// Lists the nodes of `owner` that are not being deleted, which is what a node group's
    /// target size counts.
    pub fn live_nodes(&self, owner: &str) -> Vec<NodeId> {
        self.cluster
            .nodes()
            .filter(|n| n.owner == owner && n.state != NodeState::Deleting)
            .map(|n| n.id)
            .collect()
    }

    fn apply(&mut self, actions: &[Action]) {
        for action in actions {
            match action {
                Action::Launch(request) => {
                    let instance_type = self.catalog.get(request.instance_type);
                    let new = NewNode {
                        owner: request.owner.clone(),
                        instance_type: request.instance_type,
                        instance_type_name: instance_type.name.clone(),
                        capacity_type: request.capacity_type,
                        zone: request.zone.clone(),
                        price: instance_type.on_demand_price,
                        labels: request.labels.clone(),
                        taints: request.taints.clone(),
                        allocatable: self
                            .true_allocatable
                            .get(&instance_type.name)
                            .copied()
                            .unwrap_or_else(|| instance_type.allocatable()),
                    };
                    let id = self.cluster.add_node(new, self.now);
                    for (key, value) in &request.annotations {
                        self.cluster.annotate_node(id, key, value);
                    }
                }
                Action::Cordon { node, cordoned } => self.cluster.set_cordoned(*node, *cordoned),
                Action::DeleteNode { node, .. } => self.evict_and_mark_deleting(*node),
                Action::Note { .. } => {}
            }
        }
    }

    fn evict_and_mark_deleting(&mut self, node: NodeId) {
        self.cluster.mark_deleting(node);
        let pods: Vec<PodId> = self
            .cluster
            .node(node)
            .map(|n| n.pods.iter().copied().collect())
            .unwrap_or_default();
        for pod in pods {
            let evicted = self
                .cluster
                .delete_pod(pod, self.now)
                .expect("a bound pod exists");
            if evicted.owner != Owner::Bare {
                self.cluster
                    .create_pod(evicted.owner, evicted.spec, self.now);
            }
        }
    }
}
