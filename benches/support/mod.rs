//! Fixtures shared by the Karpenter benchmarks: the pod mix, clusters built through the public
//! `Cluster` API, and a driver that calls the policy the way the world does.

// Each bench binary compiles this module and uses only part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;

use autoscale_sim::cloud::{Catalog, GIB, MIB, Resources};
use autoscale_sim::engine::{SimRng, SimTime};
use autoscale_sim::kube::{
    CapacityType, Cluster, LabelSelector, NewNode, NodeId, Owner, PodAffinity, PodAffinityTerm,
    PodId, PodSpec, TopologySpreadConstraint, WhenUnsatisfiable,
};
use autoscale_sim::kube::{LABEL_HOSTNAME, LABEL_ZONE};
use autoscale_sim::policy::requirements::{LABEL_NODEPOOL, instance_type_labels};
use autoscale_sim::policy::{
    Action, Actions, Autoscaler, ClusterView, Karpenter, KarpenterConfig, NodePool, PolicyEvent,
};
use rand::RngExt;

/// Zones of the benchmark region.
pub const ZONES: [&str; 3] = ["us-east-1a", "us-east-1b", "us-east-1c"];

/// CPU requests of the mixed pods, in millicores, as in Karpenter's scheduling benchmark
/// (kubernetes-sigs/karpenter `scheduling_benchmark_test.go`).
pub const POD_CPU_MILLIS: [i64; 5] = [100, 250, 500, 1000, 1500];

/// Memory requests of the mixed pods, in MiB, as in Karpenter's scheduling benchmark.
pub const POD_MEMORY_MIB: [i64; 6] = [100, 256, 512, 1024, 2048, 4096];

/// Values of the random `my-label` label, as in Karpenter's scheduling benchmark.
const LABEL_VALUES: [&str; 7] = ["a", "b", "c", "d", "e", "f", "g"];

/// Returns the zones as the world passes them to a policy.
pub fn zones() -> Vec<String> {
    ZONES.iter().map(|z| z.to_string()).collect()
}

/// Builds a Karpenter policy with one NodePool named `default` and these requirements, and
/// sends it the `Start` event at `now`. Returns the policy and the disruption timer it set.
pub fn start_karpenter(
    requirements: Vec<autoscale_sim::policy::requirements::Requirement>,
    cluster: &Cluster,
    catalog: &Catalog,
    zones: &[String],
    now: SimTime,
) -> (Karpenter, (SimTime, u64)) {
    let mut policy = Karpenter::new(KarpenterConfig {
        node_pools: vec![NodePool {
            name: "default".into(),
            requirements,
            ..Default::default()
        }],
        ..Default::default()
    });
    let reply = call(
        &mut policy,
        &PolicyEvent::Start,
        cluster,
        catalog,
        zones,
        now,
    );
    let timer = *reply
        .timers
        .first()
        .expect("Start arms the disruption timer");
    (policy, timer)
}

/// Actions and timers of one policy call.
pub struct Reply {
    pub actions: Vec<Action>,
    pub timers: Vec<(SimTime, u64)>,
}

impl Reply {
    /// Counts the launch requests.
    pub fn launches(&self) -> usize {
        self.actions
            .iter()
            .filter(|a| matches!(a, Action::Launch(_)))
            .count()
    }

    /// Counts the node deletions.
    pub fn deletions(&self) -> usize {
        self.actions
            .iter()
            .filter(|a| matches!(a, Action::DeleteNode { .. }))
            .count()
    }

    /// Returns the earliest timer the policy set.
    pub fn earliest_timer(&self) -> Option<(SimTime, u64)> {
        self.timers.iter().copied().min()
    }
}

/// Calls `policy` with `event` on a view of `cluster` at `now`.
pub fn call(
    policy: &mut impl Autoscaler,
    event: &PolicyEvent,
    cluster: &Cluster,
    catalog: &Catalog,
    zones: &[String],
    now: SimTime,
) -> Reply {
    let view = ClusterView {
        now,
        cluster,
        catalog,
        zones,
    };
    let mut actions = Actions::new(cluster.next_node_id());
    policy.on_event(event, &view, &mut actions);
    let (actions, timers) = actions.into_parts();
    Reply { actions, timers }
}

/// The kinds of pods in the provisioning mix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PodKind {
    /// Requests only.
    Generic,
    /// DoNotSchedule topology spread (maxSkew 1) over zones.
    ZoneSpread,
    /// DoNotSchedule topology spread (maxSkew 1) over hostnames.
    HostnameSpread,
    /// Required pod anti-affinity on hostname against every other pod of this kind.
    HostnameAntiAffinity,
}

/// Builds the spec of one pod of `kind` with random requests from the benchmark's sizes.
pub fn random_pod_spec(kind: PodKind, rng: &mut SimRng) -> PodSpec {
    let cpu = POD_CPU_MILLIS[rng.random_range(0..POD_CPU_MILLIS.len())];
    let memory = POD_MEMORY_MIB[rng.random_range(0..POD_MEMORY_MIB.len())] * MIB;
    let mut random_label = || {
        BTreeMap::from([(
            "my-label".to_string(),
            LABEL_VALUES[rng.random_range(0..7)].to_string(),
        )])
    };
    let mut spec = PodSpec {
        requests: Resources::new(cpu, memory, 1),
        ..Default::default()
    };
    match kind {
        PodKind::Generic => spec.labels = random_label(),
        PodKind::ZoneSpread | PodKind::HostnameSpread => {
            spec.labels = random_label();
            let key = if kind == PodKind::ZoneSpread {
                LABEL_ZONE
            } else {
                LABEL_HOSTNAME
            };
            spec.topology_spread = vec![TopologySpreadConstraint {
                max_skew: 1,
                topology_key: key.to_string(),
                when_unsatisfiable: WhenUnsatisfiable::DoNotSchedule,
                label_selector: LabelSelector {
                    match_labels: random_label(),
                    match_expressions: vec![],
                },
                min_domains: None,
            }];
        }
        PodKind::HostnameAntiAffinity => {
            let app = BTreeMap::from([("app".to_string(), "nginx".to_string())]);
            spec.labels = app.clone();
            spec.pod_anti_affinity = PodAffinity {
                required: vec![PodAffinityTerm {
                    label_selector: LabelSelector {
                        match_labels: app,
                        match_expressions: vec![],
                    },
                    topology_key: LABEL_HOSTNAME.to_string(),
                    namespaces: vec![],
                }],
                preferred: vec![],
            };
        }
    }
    spec
}

/// Creates `count` Pending pods of the given kinds in turn and marks them Unschedulable, as
/// kube-scheduler does when no node exists. Returns their ids.
pub fn add_unschedulable_pods(
    cluster: &mut Cluster,
    count: usize,
    kinds: &[PodKind],
    rng: &mut SimRng,
    now: SimTime,
) -> Vec<PodId> {
    let mut ids = Vec::with_capacity(count);
    for i in 0..count {
        let spec = Arc::new(random_pod_spec(kinds[i % kinds.len()], rng));
        let id = cluster.create_pod(Owner::Bare, spec, now);
        cluster.mark_unschedulable(id, now);
        ids.push(id);
    }
    ids
}

/// Adds a Ready node of `instance_type` owned by NodePool `default`, in the zones in turn.
pub fn add_ready_node(
    cluster: &mut Cluster,
    catalog: &Catalog,
    instance_type: &str,
    launched: SimTime,
    ready: SimTime,
) -> NodeId {
    let index = catalog
        .index_of(instance_type)
        .unwrap_or_else(|| panic!("{instance_type} is not in the catalog"));
    let instance = catalog.get(index);
    let mut labels = instance_type_labels(instance);
    labels.insert(LABEL_NODEPOOL.to_string(), "default".to_string());
    let zone = ZONES[cluster.node_count() % ZONES.len()].to_string();
    let id = cluster.add_node(
        NewNode {
            owner: "default".into(),
            instance_type: index,
            instance_type_name: instance.name.clone(),
            capacity_type: CapacityType::OnDemand,
            zone,
            price: instance.on_demand_price,
            labels,
            taints: vec![],
            allocatable: instance.allocatable(),
        },
        launched,
    );
    cluster.mark_ready(id, ready);
    id
}

/// Binds `count` pods of `spec` to `node`.
pub fn bind_pods(
    cluster: &mut Cluster,
    node: NodeId,
    spec: &Arc<PodSpec>,
    count: usize,
    now: SimTime,
) {
    for _ in 0..count {
        let pod = cluster.create_pod(Owner::Bare, spec.clone(), now);
        cluster.bind(pod, node, now);
    }
}

/// Builds a pod spec with `cpu_millis` and `memory_gib` of requests.
pub fn plain_spec(cpu_millis: i64, memory_gib: i64) -> Arc<PodSpec> {
    Arc::new(PodSpec {
        requests: Resources::new(cpu_millis, memory_gib * GIB, 1),
        ..Default::default()
    })
}
