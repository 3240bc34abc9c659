//! Invariants of a scheduling pass over generated clusters: every binding satisfies every hard
//! constraint, and no pod is left Unschedulable while a node passes all filters for it.
//!
//! The scheduler places pods one at a time in queue order, so PodTopologySpread and "no feasible
//! node" hold at the moment of each decision, not for the final state. Later bindings can raise
//! a spread's global minimum (opening a domain to a pod rejected before) or add matching pods
//! that another pod's constraint never saw. The test therefore replays the pass in queue order
//! and checks each decision against the cluster as it was then. After that it runs passes until
//! none binds or preempts, as kube-scheduler retries Unschedulable pods on cluster events, and
//! checks that no Unschedulable pod has a feasible node in that final state. Those later passes
//! may preempt: every victim must have lower priority than its preemptor, and the pods
//! nominated to a node must fit there once the terminating pods have left.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use autoscale_sim_cloud::{GIB, MIB, Price, Resources};
use autoscale_sim_engine::SimTime;
use autoscale_sim_kube::plugins::{FilterFailure, InterPodState, filter_node};
use autoscale_sim_kube::{
    CapacityType, Cluster, LABEL_HOSTNAME, LABEL_ZONE, LabelSelector, NewNode, Node, NodeId,
    NodeState, Owner, Pod, PodAffinity, PodAffinityTerm, PodId, PodPhase, PodSpec, Preemption,
    Scheduler, ScoringStrategy, Taint, TaintEffect, Toleration, TolerationOperator,
    TopologySpreadConstraint, WhenUnsatisfiable,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

const ZONES: [&str; 3] = ["a", "b", "c"];
const APPS: [&str; 3] = ["web", "api", "worker"];
/// Taint keys and effects of the generated nodes. The generated tolerations name these keys.
const TAINTS: [(&str, TaintEffect); 3] = [
    ("dedicated", TaintEffect::NoSchedule),
    ("gpu", TaintEffect::NoExecute),
    ("spot", TaintEffect::PreferNoSchedule),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lifecycle {
    Ready,
    Cordoned,
    Launching,
}

#[derive(Clone, Debug)]
struct NodePlan {
    zone: usize,
    allocatable: Resources,
    taint: Option<usize>,
    ssd: bool,
    lifecycle: Lifecycle,
}

/// A Deployment-like template whose replicas share one `Arc<PodSpec>`.
#[derive(Clone, Debug)]
struct TemplatePlan {
    spec: PodSpec,
    replicas: usize,
}

#[derive(Clone, Debug)]
struct WorldPlan {
    nodes: Vec<NodePlan>,
    templates: Vec<TemplatePlan>,
    strategy: ScoringStrategy,
}

fn node_plan() -> impl Strategy<Value = NodePlan> {
    let lifecycle = prop_oneof![
        6 => Just(Lifecycle::Ready),
        1 => Just(Lifecycle::Cordoned),
        1 => Just(Lifecycle::Launching),
    ];
    (
        0..ZONES.len(),
        1..=8i64,
        1..=16i64,
        2..=8i64,
        prop::option::weighted(0.4, 0..TAINTS.len()),
        any::<bool>(),
        lifecycle,
    )
        .prop_map(|(zone, cpus, gib, slots, taint, ssd, lifecycle)| NodePlan {
            zone,
            allocatable: Resources::new(cpus * 1000, gib * GIB, slots),
            taint,
            ssd,
            lifecycle,
        })
}

fn app_selector(app: &str) -> LabelSelector {
    LabelSelector {
        match_labels: [("app".to_string(), app.to_string())].into(),
        ..Default::default()
    }
}

fn spread(key: &str, app: &str, min_domains: Option<i32>) -> TopologySpreadConstraint {
    TopologySpreadConstraint {
        max_skew: 1,
        topology_key: key.into(),
        when_unsatisfiable: WhenUnsatisfiable::DoNotSchedule,
        label_selector: app_selector(app),
        min_domains,
    }
}

fn template_plan() -> impl Strategy<Value = TemplatePlan> {
    // Node selector: 0 none, 1 to 3 a zone, 4 an SSD node.
    let node_selector = prop_oneof![2 => Just(0usize), 1 => 1..=3usize, 1 => Just(4usize)];
    (
        (0..APPS.len(), prop::bool::weighted(0.2)),
        prop::bool::weighted(0.2),
        (1..=20i64, 1..=32i64),
        node_selector,
        0..8u8,
        prop::option::weighted(0.4, prop::option::weighted(0.3, 1..=4i32)),
        prop::bool::weighted(0.3),
        prop::bool::weighted(0.5),
        1..=4usize,
        prop_oneof![Just(0), Just(10)],
    )
        .prop_map(
            |(
                (app, spread_other_app),
                batch,
                (cpu_tenths, memory_128mib),
                node_selector,
                toleration_bits,
                zone_spread,
                hostname_spread,
                anti_affinity,
                replicas,
                priority,
            )| {
                let app_name = APPS[app];
                // Spread constraints mostly count the pod's own app; otherwise the next app, so
                // that the pod does not match its own selector.
                let spread_app = if spread_other_app {
                    APPS[(app + 1) % APPS.len()]
                } else {
                    app_name
                };
                let mut spec = PodSpec {
                    requests: Resources::new(cpu_tenths * 100, memory_128mib * 128 * MIB, 1),
                    labels: [("app".to_string(), app_name.to_string())].into(),
                    namespace: if batch { "batch".into() } else { String::new() },
                    priority,
                    ..Default::default()
                };
                match node_selector {
                    0 => {}
                    4 => {
                        spec.node_selector.insert("disk".into(), "ssd".into());
                    }
                    zone => {
                        spec.node_selector
                            .insert(LABEL_ZONE.into(), ZONES[zone - 1].into());
                    }
                }
                for (bit, (key, _)) in TAINTS.iter().enumerate() {
                    if toleration_bits & (1 << bit) != 0 {
                        spec.tolerations.push(Toleration {
                            key: (*key).into(),
                            operator: TolerationOperator::Exists,
                            ..Default::default()
                        });
                    }
                }
                if let Some(min_domains) = zone_spread {
                    spec.topology_spread
                        .push(spread(LABEL_ZONE, spread_app, min_domains));
                }
                if hostname_spread {
                    spec.topology_spread
                        .push(spread(LABEL_HOSTNAME, spread_app, None));
                }
                // Only web pods keep away from each other, node by node.
                if anti_affinity && app_name == "web" {
                    spec.pod_anti_affinity = PodAffinity {
                        required: vec![PodAffinityTerm {
                            label_selector: app_selector("web"),
                            topology_key: LABEL_HOSTNAME.into(),
                            namespaces: vec![],
                        }],
                        preferred: vec![],
                    };
                }
                TemplatePlan { spec, replicas }
            },
        )
}

fn world_plan() -> impl Strategy<Value = WorldPlan> {
    let strategy = prop_oneof![
        Just(ScoringStrategy::LeastAllocated),
        Just(ScoringStrategy::MostAllocated),
    ];
    (
        prop::collection::vec(node_plan(), 1..8),
        prop::collection::vec(template_plan(), 1..8),
        strategy,
    )
        .prop_map(|(nodes, templates, strategy)| WorldPlan {
            nodes,
            templates,
            strategy,
        })
}

/// Builds the cluster with every pod Pending.
fn build(plan: &WorldPlan) -> Cluster {
    let mut cluster = Cluster::new(vec![]);
    for node in &plan.nodes {
        let disk = if node.ssd { "ssd" } else { "hdd" };
        let id = cluster.add_node(
            NewNode {
                owner: "general".into(),
                instance_type: 0,
                instance_type_name: "m5.large".into(),
                capacity_type: CapacityType::OnDemand,
                zone: ZONES[node.zone].into(),
                price: Price(96_000),
                labels: [("disk".to_string(), disk.to_string())].into(),
                taints: node
                    .taint
                    .map(|index| Taint {
                        key: TAINTS[index].0.into(),
                        value: String::new(),
                        effect: TAINTS[index].1,
                    })
                    .into_iter()
                    .collect(),
                allocatable: node.allocatable,
            },
            SimTime(0),
        );
        if node.lifecycle != Lifecycle::Launching {
            cluster.mark_ready(id, SimTime(0));
        }
        if node.lifecycle == Lifecycle::Cordoned {
            cluster.set_cordoned(id, true);
        }
    }
    let mut second = 0;
    for (index, template) in plan.templates.iter().enumerate() {
        let spec = Arc::new(template.spec.clone());
        for _ in 0..template.replicas {
            second += 1;
            cluster.create_pod(
                Owner::Deployment(index as u32),
                spec.clone(),
                SimTime(second * 1000),
            );
        }
    }
    cluster
}

/// Checks that no node passes every filter for the pod `pod` of `cluster`, with the requests of
/// pods nominated to a node at equal or higher priority reserved there.
fn no_feasible_node(cluster: &Cluster, pod: PodId, when: &str) -> Result<(), TestCaseError> {
    let spec = cluster.pod(pod).expect("pod exists").spec.clone();
    let state = InterPodState::compute(&spec, cluster);
    for node in cluster.nodes() {
        let free = node.free() - cluster.nominated_requests(node.id, spec.priority, pod);
        let passes = filter_node(&spec, node, &free, cluster).is_ok() && state.filter(node).is_ok();
        prop_assert!(
            !passes,
            "{when}: Unschedulable {pod} passes every filter on {}",
            node.id
        );
    }
    Ok(())
}

/// Pods bound to a node, with that node.
fn bound_pods(cluster: &Cluster) -> Vec<(&Pod, &Node)> {
    cluster
        .pods()
        .filter_map(|p| Some((p, cluster.node(p.node?)?)))
        .collect()
}

/// Bound pods that are not terminating, the ones kube-scheduler's spread and inter-pod
/// affinity count, with their nodes.
fn live_bound_pods(cluster: &Cluster) -> Vec<(&Pod, &Node)> {
    bound_pods(cluster)
        .into_iter()
        .filter(|(p, _)| p.phase != PodPhase::Terminating)
        .collect()
}

fn requests_fit(cluster: &Cluster, spec: &PodSpec, node: &Node) -> bool {
    let on_node: Resources = bound_pods(cluster)
        .iter()
        .filter(|(_, n)| n.id == node.id)
        .map(|(p, _)| p.spec.requests)
        .sum();
    (on_node + spec.requests).fits_in(&node.allocatable)
}

/// Checks that every NoSchedule and NoExecute taint is tolerated. The generated tolerations are
/// `Exists` on a taint key.
fn taints_tolerated(spec: &PodSpec, node: &Node) -> bool {
    let tolerated: BTreeSet<&str> = spec.tolerations.iter().map(|t| t.key.as_str()).collect();
    node.taints
        .iter()
        .filter(|t| t.effect != TaintEffect::PreferNoSchedule)
        .all(|t| tolerated.contains(t.key.as_str()))
}

fn node_selector_matches(spec: &PodSpec, node: &Node) -> bool {
    spec.node_selector
        .iter()
        .all(|(key, value)| node.labels.get(key) == Some(value))
}

/// Checks each DoNotSchedule constraint of `spec` on `node` by kube-scheduler's definition,
/// counting only bound pods. The eligible nodes are the registered ones that pass the pod's node
/// selector and carry every constraint's key. A constraint counts the pods of the pod's namespace
/// that its selector matches on eligible nodes. The skew is the count in the node's domain, plus
/// 1 if the pod matches itself, minus the smallest count over the eligible domains (0 while there
/// are fewer domains than minDomains), and it must not exceed maxSkew.
fn spread_within_skew(cluster: &Cluster, spec: &PodSpec, node: &Node) -> bool {
    let eligible: BTreeMap<NodeId, &Node> = cluster
        .nodes()
        .filter(|n| n.state != NodeState::Launching && node_selector_matches(spec, n))
        .filter(|n| {
            spec.topology_spread
                .iter()
                .all(|c| n.labels.contains_key(&c.topology_key))
        })
        .map(|n| (n.id, n))
        .collect();
    let bound = live_bound_pods(cluster);
    spec.topology_spread.iter().all(|constraint| {
        let key = &constraint.topology_key;
        let Some(target) = node.labels.get(key) else {
            return false;
        };
        let mut counts: BTreeMap<&str, i64> = eligible
            .values()
            .map(|n| (n.labels[key].as_str(), 0))
            .collect();
        for (other, other_node) in &bound {
            let counted = eligible.contains_key(&other_node.id)
                && other.spec.namespace() == spec.namespace()
                && constraint.label_selector.matches(&other.spec.labels);
            if counted {
                *counts
                    .get_mut(other_node.labels[key].as_str())
                    .expect("domain of an eligible node") += 1;
            }
        }
        let too_few_domains = constraint
            .min_domains
            .is_some_and(|m| (counts.len() as i64) < i64::from(m));
        let min = if too_few_domains {
            0
        } else {
            counts.values().copied().min().unwrap_or(0)
        };
        let in_target = counts.get(target.as_str()).copied().unwrap_or(0);
        let self_match = i64::from(constraint.label_selector.matches(&spec.labels));
        in_target + self_match - min <= i64::from(constraint.max_skew)
    })
}

/// Checks whether `term`, owned by a pod in `owner_namespace`, selects a pod of `other`.
fn term_selects(term: &PodAffinityTerm, owner_namespace: &str, other: &PodSpec) -> bool {
    let namespace_listed = if term.namespaces.is_empty() {
        other.namespace() == owner_namespace
    } else {
        term.namespaces.iter().any(|n| n == other.namespace())
    };
    namespace_listed && term.label_selector.matches(&other.labels)
}

/// Required anti-affinity in both directions: the pod's own terms against the bound pods, and the
/// bound pods' terms against the pod.
fn anti_affinity_allows(cluster: &Cluster, spec: &PodSpec, node: &Node) -> bool {
    let same_domain = |key: &str, other_node: &Node| {
        node.labels
            .get(key)
            .is_some_and(|v| other_node.labels.get(key) == Some(v))
    };
    live_bound_pods(cluster).iter().all(|(other, other_node)| {
        let own_terms_allow = spec.pod_anti_affinity.required.iter().all(|term| {
            !(same_domain(&term.topology_key, other_node)
                && term_selects(term, spec.namespace(), &other.spec))
        });
        let their_terms_allow = other.spec.pod_anti_affinity.required.iter().all(|term| {
            !(same_domain(&term.topology_key, other_node)
                && term_selects(term, other.spec.namespace(), spec))
        });
        own_terms_allow && their_terms_allow
    })
}

/// Returns the hard constraint a pod of `spec` breaks on `node`, or `None` when it may go there.
/// The rules follow kube-scheduler's and share no code with the plugins.
fn broken_constraint(cluster: &Cluster, spec: &PodSpec, node: &Node) -> Option<&'static str> {
    if node.state != NodeState::Ready || node.cordoned {
        Some("node not Ready or cordoned")
    } else if !taints_tolerated(spec, node) {
        Some("untolerated taint")
    } else if !node_selector_matches(spec, node) {
        Some("node selector")
    } else if !requests_fit(cluster, spec, node) {
        Some("requests over allocatable")
    } else if !spread_within_skew(cluster, spec, node) {
        Some("topology spread skew")
    } else if !anti_affinity_allows(cluster, spec, node) {
        Some("pod anti-affinity")
    } else {
        None
    }
}

/// Checks that the plugins and `broken_constraint` agree on every node for a pod of `spec`.
fn plugins_agree(cluster: &Cluster, pod: PodId, spec: &PodSpec) -> Result<(), TestCaseError> {
    let state = InterPodState::compute(spec, cluster);
    for node in cluster.nodes() {
        let plugins: Result<(), FilterFailure> =
            filter_node(spec, node, &node.free(), cluster).and_then(|()| state.filter(node));
        let broken = broken_constraint(cluster, spec, node);
        prop_assert_eq!(
            plugins.is_ok(),
            broken.is_none(),
            "{} on {}: plugins {:?}, expected {:?}",
            pod,
            node.id,
            plugins,
            broken
        );
    }
    Ok(())
}

/// Checks the final state: requests within allocatable on every node, and no two pods in one
/// domain where one's required anti-affinity selects the other.
fn final_state_holds(cluster: &Cluster) -> Result<(), TestCaseError> {
    let mut requested: BTreeMap<NodeId, Resources> = BTreeMap::new();
    for (pod, node) in bound_pods(cluster) {
        *requested.entry(node.id).or_default() += pod.spec.requests;
    }
    for (id, requested) in &requested {
        let node = cluster.node(*id).expect("bound node exists");
        prop_assert!(
            requested.fits_in(&node.allocatable),
            "{id} requests {requested:?} over allocatable {:?}",
            node.allocatable
        );
    }

    let bound = live_bound_pods(cluster);
    for (pod, node) in &bound {
        for term in &pod.spec.pod_anti_affinity.required {
            for (other, other_node) in &bound {
                let selected =
                    other.id != pod.id && term_selects(term, pod.spec.namespace(), &other.spec);
                let same_domain = node.labels.get(&term.topology_key)
                    == other_node.labels.get(&term.topology_key);
                prop_assert!(
                    !(selected && same_domain),
                    "{} and {} share {} on {}",
                    pod.id,
                    other.id,
                    term.topology_key,
                    node.id
                );
            }
        }
    }
    Ok(())
}

/// Checks one preemption: the preemptor is nominated to the node, and every victim had lower
/// priority, ran there and is now terminating.
fn preemption_holds(cluster: &Cluster, preemption: &Preemption) -> Result<(), TestCaseError> {
    let preemptor = cluster.pod(preemption.preemptor).expect("preemptor exists");
    prop_assert_eq!(preemptor.nominated_node, Some(preemption.node));
    prop_assert!(
        !preemption.victims.is_empty(),
        "a preemption without victims"
    );
    for victim in &preemption.victims {
        let pod = cluster.pod(*victim).expect("victim exists");
        prop_assert!(
            pod.spec.priority < preemptor.spec.priority,
            "{} not lower",
            victim
        );
        prop_assert_eq!(pod.node, Some(preemption.node), "{} elsewhere", victim);
        prop_assert_eq!(pod.phase, PodPhase::Terminating, "{} still running", victim);
    }
    Ok(())
}

/// Checks that once every terminating pod has left, the pods nominated to each node fit there
/// beside the pods that stay.
fn nominated_pods_fit(cluster: &Cluster) -> Result<(), TestCaseError> {
    for node in cluster.nodes() {
        let staying: Resources = cluster
            .active_pods_on(node.id)
            .map(|p| p.spec.requests)
            .sum();
        let nominated: Resources = cluster.nominated_on(node.id).map(|p| p.spec.requests).sum();
        prop_assert!(
            (node.daemon_requests + staying + nominated).fits_in(&node.allocatable),
            "pods nominated to {} need {:?} beside {:?} of {:?}",
            node.id,
            nominated,
            staying,
            node.allocatable
        );
    }
    Ok(())
}

fn schedule_pass_holds(plan: WorldPlan) -> Result<(), TestCaseError> {
    let mut cluster = build(&plan);
    let before = cluster.clone();
    let queue: Vec<PodId> = cluster.pending_pods().map(|p| p.id).collect();
    let mut scheduler = Scheduler::new(plan.strategy);

    let pass = scheduler.schedule(&mut cluster, SimTime(100_000));

    // Bookkeeping: every queued pod is either bound or left Pending and Unschedulable.
    let bound: BTreeMap<PodId, NodeId> = pass.bound.iter().copied().collect();
    prop_assert_eq!(bound.len(), pass.bound.len(), "a pod bound twice");
    prop_assert_eq!(pass.bound.len() + pass.still_pending, queue.len());
    for id in &queue {
        let pod = cluster.pod(*id).expect("queued pod exists");
        prop_assert_eq!(pod.node, bound.get(id).copied(), "{} binding", id);
        prop_assert_eq!(pod.unschedulable, !bound.contains_key(id), "{} mark", id);
    }

    // Replay in queue order: each decision against the cluster as it was at that moment.
    let mut replay = before;
    let mut next_binding = 0;
    for id in &queue {
        let spec = replay.pod(*id).expect("queued pod exists").spec.clone();
        plugins_agree(&replay, *id, &spec)?;
        match bound.get(id) {
            Some(node_id) => {
                prop_assert_eq!(pass.bound[next_binding].0, *id, "binding order");
                next_binding += 1;
                let node = replay.node(*node_id).expect("bound node exists");
                prop_assert_eq!(
                    broken_constraint(&replay, &spec, node),
                    None,
                    "{} on {}",
                    id,
                    node_id
                );
                replay.bind(*id, *node_id, SimTime(100_000));
            }
            None => no_feasible_node(&replay, *id, "at its turn")?,
        }
    }
    final_state_holds(&cluster)?;

    // Retry until a pass binds nothing. After that no Unschedulable pod may have a feasible node.
    // Later passes may preempt: pods of priority 10 that found no node in the first pass can
    // evict priority-0 pods bound in it.
    for round in 0.. {
        prop_assert!(round <= queue.len(), "passes keep binding pods");
        let pass = scheduler.schedule(&mut cluster, SimTime(200_000));
        for preemption in &pass.preemptions {
            preemption_holds(&cluster, preemption)?;
        }
        nominated_pods_fit(&cluster)?;
        if pass.bound.is_empty() && pass.preemptions.is_empty() {
            break;
        }
    }
    final_state_holds(&cluster)?;
    let pending: Vec<(PodId, Arc<PodSpec>)> = cluster
        .pending_pods()
        .map(|p| (p.id, p.spec.clone()))
        .collect();
    for (id, spec) in pending {
        no_feasible_node(&cluster, id, "after the last pass")?;
        plugins_agree(&cluster, id, &spec)?;
    }
    Ok(())
}

proptest! {
    // Failing inputs are printed, not saved, so the run leaves no proptest-regressions files.
    #![proptest_config(ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn schedule_respects_hard_constraints(plan in world_plan()) {
        schedule_pass_holds(plan)?;
    }
}
