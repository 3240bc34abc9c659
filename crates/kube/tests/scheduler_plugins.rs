//! Filter and score plugins of the kube-scheduler stand-in, case by case, against what
//! kube-scheduler's default profile does with the same nodes and pods.

use std::collections::BTreeMap;
use std::sync::Arc;

use autoscale_sim_cloud::{ExtendedResource, GIB, Price, Resources};
use autoscale_sim_engine::SimTime;
use autoscale_sim_kube::plugins::{
    FilterFailure, InterPodState, balanced_allocation, filter_node, node_affinity_matches,
    normalize_spread, system_default_spread,
};
use autoscale_sim_kube::{
    CapacityType, Cluster, DaemonSet, LABEL_HOSTNAME, LABEL_ZONE, LabelSelector, NewNode, Node,
    NodeAffinity, NodeId, NodeSelectorTerm, Operator, Owner, PodAffinity, PodAffinityTerm, PodId,
    PodSpec, PreferredNodeTerm, Requirement, Scheduler, ScoringStrategy, Taint, TaintEffect,
    Toleration, TolerationOperator, TopologySpreadConstraint, WeightedPodAffinityTerm,
    WhenUnsatisfiable, feasible_nodes_to_find, score,
};

/// A topology key that only some nodes carry.
const RACK: &str = "topology.example.com/rack";

const PASS: Result<(), FilterFailure> = Ok(());
const UNSCHEDULABLE: Result<(), FilterFailure> = Err(FilterFailure::NodeUnschedulable);
const TAINT: Result<(), FilterFailure> = Err(FilterFailure::TaintToleration);
const NODE_AFFINITY: Result<(), FilterFailure> = Err(FilterFailure::NodeAffinity);
const PORTS: Result<(), FilterFailure> = Err(FilterFailure::NodePorts);
const RESOURCES: Result<(), FilterFailure> = Err(FilterFailure::NodeResourcesFit);
const SPREAD: Result<(), FilterFailure> = Err(FilterFailure::PodTopologySpread);
const INTER_POD: Result<(), FilterFailure> = Err(FilterFailure::InterPodAffinity);

fn label_map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect()
}

/// Describes a node of 4 CPUs, 8 GiB and 110 pod slots in `zone`, with extra `labels`.
fn new_node(zone: &str, labels: &[(&str, &str)]) -> NewNode {
    NewNode {
        owner: "general".into(),
        instance_type: 0,
        instance_type_name: "m5.xlarge".into(),
        capacity_type: CapacityType::OnDemand,
        zone: zone.into(),
        price: Price(192_000),
        labels: label_map(labels),
        taints: vec![],
        allocatable: Resources::new(4000, 8 * GIB, 110),
    }
}

fn add_ready(cluster: &mut Cluster, new: NewNode) -> NodeId {
    let id = cluster.add_node(new, SimTime(0));
    cluster.mark_ready(id, SimTime(0));
    id
}

fn with_taint(mut new: NewNode, key: &str, effect: TaintEffect) -> NewNode {
    new.taints.push(Taint {
        key: key.into(),
        value: "true".into(),
        effect,
    });
    new
}

fn requests(cpu_millis: i64, memory_bytes: i64) -> PodSpec {
    PodSpec {
        requests: Resources::new(cpu_millis, memory_bytes, 1),
        ..Default::default()
    }
}

/// Returns a pod with no CPU or memory request, labelled `app` in `namespace`.
fn app_pod(namespace: &str, app: &str) -> PodSpec {
    PodSpec {
        requests: Resources::new(0, 0, 1),
        labels: label_map(&[("app", app)]),
        namespace: namespace.into(),
        ..Default::default()
    }
}

fn web() -> PodSpec {
    app_pod("", "web")
}

/// Creates a pod with `spec` and binds it to `node`, with no filter in the way.
fn bind(cluster: &mut Cluster, spec: PodSpec, node: NodeId) -> PodId {
    let pod = cluster.create_pod(Owner::Bare, Arc::new(spec), SimTime(0));
    cluster.bind(pod, node, SimTime(0));
    pod
}

/// Runs every filter plugin on `node` in the default profile's order and returns the first
/// failure.
fn check(spec: &PodSpec, cluster: &Cluster, node: NodeId) -> Result<(), FilterFailure> {
    let node = cluster.node(node).expect("node exists");
    filter_node(spec, node, &node.free(), cluster)?;
    InterPodState::compute(spec, cluster).filter(node)
}

fn selector(app: &str) -> LabelSelector {
    LabelSelector {
        match_labels: label_map(&[("app", app)]),
        ..Default::default()
    }
}

fn requirement(key: &str, operator: Operator, values: &[&str]) -> Requirement {
    Requirement {
        key: key.into(),
        operator,
        values: values.iter().map(|v| v.to_string()).collect(),
        min_values: None,
    }
}

fn toleration(key: &str, effect: Option<TaintEffect>) -> Toleration {
    Toleration {
        key: key.into(),
        operator: TolerationOperator::Exists,
        effect,
        ..Default::default()
    }
}

/// Returns a DoNotSchedule constraint with maxSkew `max_skew` over pods labelled `app`.
fn spread(key: &str, max_skew: i32, app: &str) -> TopologySpreadConstraint {
    TopologySpreadConstraint {
        max_skew,
        topology_key: key.into(),
        when_unsatisfiable: WhenUnsatisfiable::DoNotSchedule,
        label_selector: selector(app),
        min_domains: None,
    }
}

fn with_min_domains(constraint: TopologySpreadConstraint, min: i32) -> TopologySpreadConstraint {
    TopologySpreadConstraint {
        min_domains: Some(min),
        ..constraint
    }
}

/// Returns a web pod with topology spread `constraints`.
fn spread_pod(constraints: Vec<TopologySpreadConstraint>) -> PodSpec {
    PodSpec {
        topology_spread: constraints,
        ..web()
    }
}

/// Returns a pod affinity term over pods labelled with all of `labels` in the owner's namespace.
fn term(key: &str, labels: &[(&str, &str)]) -> PodAffinityTerm {
    PodAffinityTerm {
        label_selector: LabelSelector {
            match_labels: label_map(labels),
            ..Default::default()
        },
        topology_key: key.into(),
        namespaces: vec![],
    }
}

fn required(terms: Vec<PodAffinityTerm>) -> PodAffinity {
    PodAffinity {
        required: terms,
        preferred: vec![],
    }
}

fn preferred(weight: i32, term: PodAffinityTerm) -> PodAffinity {
    PodAffinity {
        required: vec![],
        preferred: vec![WeightedPodAffinityTerm {
            weight,
            pod_affinity_term: term,
        }],
    }
}

/// Returns a pod labelled `labels` in the default namespace with required `affinity`.
fn affine_pod(labels: &[(&str, &str)], affinity: Vec<PodAffinityTerm>) -> PodSpec {
    PodSpec {
        requests: Resources::new(0, 0, 1),
        labels: label_map(labels),
        pod_affinity: required(affinity),
        ..Default::default()
    }
}

/// Returns a pod labelled `app` in `namespace` with required anti-affinity `terms`.
fn anti_affine_pod(namespace: &str, app: &str, terms: Vec<PodAffinityTerm>) -> PodSpec {
    PodSpec {
        pod_anti_affinity: required(terms),
        ..app_pod(namespace, app)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Lifecycle {
    Ready,
    Cordoned,
    Launching,
}

/// One node of a table case.
#[derive(Clone, Copy)]
struct NodeRow {
    zone: &'static str,
    labels: &'static [(&'static str, &'static str)],
    lifecycle: Lifecycle,
}

const fn ready(zone: &'static str) -> NodeRow {
    NodeRow {
        zone,
        labels: &[],
        lifecycle: Lifecycle::Ready,
    }
}

const fn labelled(zone: &'static str, labels: &'static [(&'static str, &'static str)]) -> NodeRow {
    NodeRow {
        zone,
        labels,
        lifecycle: Lifecycle::Ready,
    }
}

const fn cordoned(zone: &'static str) -> NodeRow {
    NodeRow {
        zone,
        labels: &[],
        lifecycle: Lifecycle::Cordoned,
    }
}

const fn launching(zone: &'static str) -> NodeRow {
    NodeRow {
        zone,
        labels: &[],
        lifecycle: Lifecycle::Launching,
    }
}

/// Nodes, the pods already bound to them (by node index), an incoming pod and the expected
/// filter outcome on each node.
struct Case {
    name: &'static str,
    nodes: Vec<NodeRow>,
    existing: Vec<(usize, PodSpec)>,
    incoming: PodSpec,
    expected: Vec<Result<(), FilterFailure>>,
}

fn run_cases(cases: Vec<Case>) {
    for case in cases {
        let mut cluster = Cluster::new(vec![]);
        let ids: Vec<NodeId> = case
            .nodes
            .iter()
            .map(|row| {
                let id = cluster.add_node(new_node(row.zone, row.labels), SimTime(0));
                if row.lifecycle != Lifecycle::Launching {
                    cluster.mark_ready(id, SimTime(0));
                }
                if row.lifecycle == Lifecycle::Cordoned {
                    cluster.set_cordoned(id, true);
                }
                id
            })
            .collect();
        for (index, spec) in case.existing {
            bind(&mut cluster, spec, ids[index]);
        }

        assert_eq!(
            ids.len(),
            case.expected.len(),
            "{}: one expected outcome per node",
            case.name
        );
        for (index, (id, expected)) in ids.iter().zip(&case.expected).enumerate() {
            assert_eq!(
                check(&case.incoming, &cluster, *id),
                *expected,
                "{}: node {index}",
                case.name
            );
        }
    }
}

/// Each filter plugin on its own: the failure it reports and the nodes it lets through.
mod filters {
    use super::*;

    #[test]
    fn node_unschedulable_cordoned_and_launching() {
        let mut cluster = Cluster::new(vec![]);
        let cordoned = add_ready(&mut cluster, new_node("a", &[]));
        cluster.set_cordoned(cordoned, true);
        let launching = cluster.add_node(new_node("a", &[]), SimTime(0));
        let deleting = add_ready(&mut cluster, new_node("a", &[]));
        cluster.mark_deleting(deleting);
        let ready = add_ready(&mut cluster, new_node("a", &[]));
        let spec = requests(100, GIB);

        assert_eq!(check(&spec, &cluster, cordoned), UNSCHEDULABLE);
        assert_eq!(check(&spec, &cluster, launching), UNSCHEDULABLE);
        assert_eq!(check(&spec, &cluster, deleting), UNSCHEDULABLE);
        assert_eq!(check(&spec, &cluster, ready), PASS);

        cluster.set_cordoned(cordoned, false);
        cluster.mark_ready(launching, SimTime(1));
        assert_eq!(check(&spec, &cluster, cordoned), PASS);
        assert_eq!(check(&spec, &cluster, launching), PASS);
    }

    #[test]
    fn taint_toleration_by_effect() {
        let mut cluster = Cluster::new(vec![]);
        let no_schedule = add_ready(
            &mut cluster,
            with_taint(new_node("a", &[]), "dedicated", TaintEffect::NoSchedule),
        );
        let no_execute = add_ready(
            &mut cluster,
            with_taint(new_node("a", &[]), "gpu", TaintEffect::NoExecute),
        );
        let prefer_no_schedule = add_ready(
            &mut cluster,
            with_taint(new_node("a", &[]), "spot", TaintEffect::PreferNoSchedule),
        );
        let plain = requests(100, GIB);
        let tolerant = PodSpec {
            tolerations: vec![
                toleration("dedicated", Some(TaintEffect::NoSchedule)),
                toleration("gpu", None),
            ],
            ..requests(100, GIB)
        };
        let wrong_effect = PodSpec {
            tolerations: vec![toleration("dedicated", Some(TaintEffect::NoExecute))],
            ..requests(100, GIB)
        };

        assert_eq!(check(&plain, &cluster, no_schedule), TAINT);
        assert_eq!(check(&plain, &cluster, no_execute), TAINT);
        assert_eq!(check(&plain, &cluster, prefer_no_schedule), PASS);
        assert_eq!(check(&tolerant, &cluster, no_schedule), PASS);
        assert_eq!(check(&tolerant, &cluster, no_execute), PASS);
        assert_eq!(check(&wrong_effect, &cluster, no_schedule), TAINT);
    }

    #[test]
    fn node_affinity_node_selector() {
        let mut cluster = Cluster::new(vec![]);
        let ssd = add_ready(&mut cluster, new_node("a", &[("disk", "ssd")]));
        let hdd = add_ready(&mut cluster, new_node("b", &[("disk", "hdd")]));
        let spec = PodSpec {
            node_selector: label_map(&[("disk", "ssd")]),
            ..requests(100, GIB)
        };
        let by_zone = PodSpec {
            node_selector: label_map(&[("disk", "ssd"), (LABEL_ZONE, "b")]),
            ..requests(100, GIB)
        };

        assert_eq!(check(&spec, &cluster, ssd), PASS);
        assert_eq!(check(&spec, &cluster, hdd), NODE_AFFINITY);
        assert_eq!(check(&by_zone, &cluster, ssd), NODE_AFFINITY);
        assert_eq!(check(&by_zone, &cluster, hdd), NODE_AFFINITY);
    }

    #[test]
    fn node_affinity_terms_or_expressions_and() {
        // Term 0: an SSD of generation above 6. Term 1: zone b.
        let terms = vec![
            NodeSelectorTerm {
                match_expressions: vec![
                    requirement("disk", Operator::In, &["ssd"]),
                    requirement("generation", Operator::Gt, &["6"]),
                ],
            },
            NodeSelectorTerm {
                match_expressions: vec![requirement(LABEL_ZONE, Operator::In, &["b"])],
            },
        ];
        let spec = PodSpec {
            node_affinity: NodeAffinity {
                required: terms.clone(),
                preferred: vec![],
            },
            ..requests(100, GIB)
        };
        let with_selector = PodSpec {
            node_selector: label_map(&[("disk", "ssd")]),
            ..spec.clone()
        };
        let mut cluster = Cluster::new(vec![]);
        let old_ssd = add_ready(
            &mut cluster,
            new_node("a", &[("disk", "ssd"), ("generation", "5")]),
        );
        let zone_b_hdd = add_ready(
            &mut cluster,
            new_node("b", &[("disk", "hdd"), ("generation", "5")]),
        );
        let new_ssd = add_ready(
            &mut cluster,
            new_node("a", &[("disk", "ssd"), ("generation", "7")]),
        );
        let new_hdd = add_ready(
            &mut cluster,
            new_node("a", &[("disk", "hdd"), ("generation", "7")]),
        );
        let zone_b_ssd = add_ready(&mut cluster, new_node("b", &[("disk", "ssd")]));

        assert_eq!(check(&spec, &cluster, old_ssd), NODE_AFFINITY);
        assert_eq!(check(&spec, &cluster, zone_b_hdd), PASS);
        assert_eq!(check(&spec, &cluster, new_ssd), PASS);
        assert_eq!(check(&spec, &cluster, new_hdd), NODE_AFFINITY);
        // The node selector and the required terms must both hold.
        assert_eq!(check(&with_selector, &cluster, zone_b_hdd), NODE_AFFINITY);
        assert_eq!(check(&with_selector, &cluster, zone_b_ssd), PASS);
    }

    #[test]
    fn node_affinity_empty_term_matches_nothing() {
        // In Kubernetes a null or empty nodeSelectorTerm selects no node, so a required term
        // list holding only an empty term matches nothing.
        let labels = label_map(&[(LABEL_ZONE, "a")]);
        let empty_only = PodSpec {
            node_affinity: NodeAffinity {
                required: vec![NodeSelectorTerm::default()],
                preferred: vec![],
            },
            ..Default::default()
        };
        let empty_or_zone = PodSpec {
            node_affinity: NodeAffinity {
                required: vec![
                    NodeSelectorTerm::default(),
                    NodeSelectorTerm {
                        match_expressions: vec![requirement(LABEL_ZONE, Operator::In, &["a"])],
                    },
                ],
                preferred: vec![],
            },
            ..Default::default()
        };

        assert!(!node_affinity_matches(&empty_only, &labels));
        assert!(node_affinity_matches(&empty_or_zone, &labels));
        assert!(node_affinity_matches(&PodSpec::default(), &labels));
    }

    #[test]
    fn node_affinity_operators() {
        let labels = label_map(&[("disk", "ssd"), ("generation", "5")]);
        let cases = [
            (requirement("disk", Operator::In, &["ssd", "nvme"]), true),
            (requirement("disk", Operator::In, &["hdd"]), false),
            (requirement("disk", Operator::NotIn, &["hdd"]), true),
            (requirement("disk", Operator::NotIn, &["ssd"]), false),
            (requirement("gpu", Operator::NotIn, &["a100"]), true),
            (requirement("disk", Operator::Exists, &[]), true),
            (requirement("gpu", Operator::Exists, &[]), false),
            (requirement("gpu", Operator::DoesNotExist, &[]), true),
            (requirement("disk", Operator::DoesNotExist, &[]), false),
            (requirement("generation", Operator::Gt, &["4"]), true),
            (requirement("generation", Operator::Gt, &["5"]), false),
            (requirement("generation", Operator::Lt, &["6"]), true),
            (requirement("generation", Operator::Lt, &["5"]), false),
            (requirement("disk", Operator::Gt, &["1"]), false),
            (requirement("gpu", Operator::Lt, &["9"]), false),
        ];
        let mut cluster = Cluster::new(vec![]);
        let node = add_ready(
            &mut cluster,
            new_node("a", &[("disk", "ssd"), ("generation", "5")]),
        );

        for (requirement, matches) in cases {
            let spec = PodSpec {
                node_affinity: NodeAffinity {
                    required: vec![NodeSelectorTerm {
                        match_expressions: vec![requirement.clone()],
                    }],
                    preferred: vec![],
                },
                ..requests(100, GIB)
            };
            let expected = if matches { PASS } else { NODE_AFFINITY };

            assert_eq!(
                node_affinity_matches(&spec, &labels),
                matches,
                "{requirement:?}"
            );
            assert_eq!(check(&spec, &cluster, node), expected, "{requirement:?}");
        }
    }

    #[test]
    fn node_ports_bound_pod_conflict() {
        let mut cluster = Cluster::new(vec![]);
        let busy = add_ready(&mut cluster, new_node("a", &[]));
        let free = add_ready(&mut cluster, new_node("a", &[]));
        bind(
            &mut cluster,
            PodSpec {
                host_ports: vec![8080],
                ..requests(100, GIB)
            },
            busy,
        );
        let same_port = PodSpec {
            host_ports: vec![9090, 8080],
            ..requests(100, GIB)
        };
        let other_port = PodSpec {
            host_ports: vec![9090],
            ..requests(100, GIB)
        };

        assert_eq!(check(&same_port, &cluster, busy), PORTS);
        assert_eq!(check(&same_port, &cluster, free), PASS);
        assert_eq!(check(&other_port, &cluster, busy), PASS);
        assert_eq!(check(&requests(100, GIB), &cluster, busy), PASS);
    }

    #[test]
    fn node_ports_daemonset_conflict() {
        // A DaemonSet's host port is taken on every node it runs on, and only there.
        let exporter = DaemonSet::new(
            "node-exporter",
            PodSpec {
                requests: Resources::new(100, 128 << 20, 1),
                node_selector: label_map(&[("monitoring", "on")]),
                host_ports: vec![9100],
                ..Default::default()
            },
        );
        let mut cluster = Cluster::new(vec![exporter]);
        let monitored = add_ready(&mut cluster, new_node("a", &[("monitoring", "on")]));
        let unmonitored = add_ready(&mut cluster, new_node("a", &[]));
        let spec = PodSpec {
            host_ports: vec![9100],
            ..requests(100, GIB)
        };

        assert_eq!(check(&spec, &cluster, monitored), PORTS);
        assert_eq!(check(&spec, &cluster, unmonitored), PASS);
    }

    #[test]
    fn node_resources_fit_cpu_memory_pods() {
        let mut cluster = Cluster::new(vec![]);
        let mut small = new_node("a", &[]);
        small.allocatable = Resources::new(2000, 4 * GIB, 3);
        let node = add_ready(&mut cluster, small);
        bind(&mut cluster, requests(1000, GIB), node);
        bind(&mut cluster, requests(0, GIB), node);
        // Free now: 1000 millicores, 2 GiB, 1 pod slot.

        assert_eq!(check(&requests(1000, 2 * GIB), &cluster, node), PASS);
        assert_eq!(check(&requests(1001, GIB), &cluster, node), RESOURCES);
        assert_eq!(
            check(&requests(500, 2 * GIB + 1), &cluster, node),
            RESOURCES
        );

        bind(&mut cluster, requests(0, 0), node);
        assert_eq!(check(&requests(0, 0), &cluster, node), RESOURCES);
    }

    #[test]
    fn node_resources_fit_counts_daemonsets() {
        let agent = DaemonSet::new("log-agent", requests(500, GIB));
        let mut cluster = Cluster::new(vec![agent]);
        let mut small = new_node("a", &[]);
        small.allocatable = Resources::new(2000, 4 * GIB, 3);
        let node = add_ready(&mut cluster, small);

        assert_eq!(check(&requests(1500, 3 * GIB), &cluster, node), PASS);
        assert_eq!(check(&requests(1501, GIB), &cluster, node), RESOURCES);
        assert_eq!(
            check(&requests(100, 3 * GIB + 1), &cluster, node),
            RESOURCES
        );
    }

    #[test]
    fn first_failure_reported() {
        // kube-scheduler stops at the first failing filter, in the default profile's order.
        let mut cluster = Cluster::new(vec![]);
        let mut everything_wrong =
            with_taint(new_node("a", &[]), "dedicated", TaintEffect::NoSchedule);
        everything_wrong.allocatable = Resources::new(100, GIB, 110);
        let node = add_ready(&mut cluster, everything_wrong);
        let spec = PodSpec {
            node_selector: label_map(&[("disk", "ssd")]),
            ..requests(1000, 2 * GIB)
        };
        let tolerant = PodSpec {
            tolerations: vec![toleration("dedicated", None)],
            ..spec.clone()
        };
        let tolerant_anywhere = PodSpec {
            node_selector: BTreeMap::new(),
            ..tolerant.clone()
        };

        assert_eq!(check(&spec, &cluster, node), TAINT);
        assert_eq!(check(&tolerant, &cluster, node), NODE_AFFINITY);
        assert_eq!(check(&tolerant_anywhere, &cluster, node), RESOURCES);
        cluster.set_cordoned(node, true);
        assert_eq!(check(&spec, &cluster, node), UNSCHEDULABLE);
    }
}

/// PodTopologySpread with DoNotSchedule constraints, one table row per rule.
mod topology_spread {
    use super::*;

    #[test]
    fn do_not_schedule_table() {
        let zone_skew_1 = || spread_pod(vec![spread(LABEL_ZONE, 1, "web")]);
        let cases = vec![
            Case {
                name: "zone, maxSkew 1: only the empty zone is within the skew",
                nodes: vec![ready("a"), ready("b"), ready("c")],
                existing: vec![(0, web()), (0, web()), (1, web())],
                incoming: zone_skew_1(),
                expected: vec![SPREAD, SPREAD, PASS],
            },
            Case {
                name: "zone, maxSkew 2: a zone one above the minimum passes",
                nodes: vec![ready("a"), ready("b"), ready("c")],
                existing: vec![(0, web()), (0, web()), (1, web())],
                incoming: spread_pod(vec![spread(LABEL_ZONE, 2, "web")]),
                expected: vec![SPREAD, PASS, PASS],
            },
            Case {
                name: "hostname, maxSkew 1: the node without a replica",
                nodes: vec![ready("a"), ready("a"), ready("b")],
                existing: vec![(0, web()), (1, web())],
                incoming: spread_pod(vec![spread(LABEL_HOSTNAME, 1, "web")]),
                expected: vec![SPREAD, SPREAD, PASS],
            },
            Case {
                name: "hostname, maxSkew 1: balanced nodes all pass",
                nodes: vec![ready("a"), ready("a"), ready("b")],
                existing: vec![(0, web()), (1, web()), (2, web())],
                incoming: spread_pod(vec![spread(LABEL_HOSTNAME, 1, "web")]),
                expected: vec![PASS, PASS, PASS],
            },
            Case {
                name: "two zones without minDomains: the global minimum is 1",
                nodes: vec![ready("a"), ready("b")],
                existing: vec![(0, web()), (1, web())],
                incoming: zone_skew_1(),
                expected: vec![PASS, PASS],
            },
            Case {
                name: "two zones with minDomains 3: the global minimum is taken as 0",
                nodes: vec![ready("a"), ready("b")],
                existing: vec![(0, web()), (1, web())],
                incoming: spread_pod(vec![with_min_domains(spread(LABEL_ZONE, 1, "web"), 3)]),
                expected: vec![SPREAD, SPREAD],
            },
            Case {
                name: "two zones with minDomains 2: the real minimum applies",
                nodes: vec![ready("a"), ready("b")],
                existing: vec![(0, web()), (1, web())],
                incoming: spread_pod(vec![with_min_domains(spread(LABEL_ZONE, 1, "web"), 2)]),
                expected: vec![PASS, PASS],
            },
            Case {
                name: "a node lacking the key fails the filter",
                nodes: vec![
                    labelled("a", &[(RACK, "r1")]),
                    labelled("a", &[(RACK, "r2")]),
                    ready("a"),
                ],
                existing: vec![(0, web()), (2, web()), (2, web()), (2, web())],
                incoming: spread_pod(vec![spread(RACK, 1, "web")]),
                expected: vec![SPREAD, PASS, SPREAD],
            },
            Case {
                name: "pods in another namespace are not counted",
                nodes: vec![ready("a"), ready("b")],
                existing: vec![
                    (0, app_pod("batch", "web")),
                    (0, app_pod("batch", "web")),
                    (1, web()),
                ],
                incoming: zone_skew_1(),
                expected: vec![PASS, SPREAD],
            },
            Case {
                name: "pods the selector does not match are not counted",
                nodes: vec![ready("a"), ready("b")],
                existing: vec![
                    (0, app_pod("", "db")),
                    (0, app_pod("", "db")),
                    (0, app_pod("", "db")),
                ],
                incoming: zone_skew_1(),
                expected: vec![PASS, PASS],
            },
            Case {
                name: "selector not matching the incoming pod: self match 0, skew 1 allowed",
                nodes: vec![ready("a"), ready("b")],
                existing: vec![(0, web())],
                incoming: PodSpec {
                    topology_spread: vec![spread(LABEL_ZONE, 1, "web")],
                    ..app_pod("", "api")
                },
                expected: vec![PASS, PASS],
            },
            Case {
                name: "selector not matching the incoming pod: skew 2 still rejected",
                nodes: vec![ready("a"), ready("b")],
                existing: vec![(0, web()), (0, web())],
                incoming: PodSpec {
                    topology_spread: vec![spread(LABEL_ZONE, 1, "web")],
                    ..app_pod("", "api")
                },
                expected: vec![SPREAD, PASS],
            },
            Case {
                name: "ScheduleAnyway never filters",
                nodes: vec![ready("a"), ready("b")],
                existing: vec![(0, web()), (0, web()), (0, web())],
                incoming: spread_pod(vec![TopologySpreadConstraint {
                    when_unsatisfiable: WhenUnsatisfiable::ScheduleAnyway,
                    ..spread(LABEL_ZONE, 1, "web")
                }]),
                expected: vec![PASS, PASS],
            },
            Case {
                name: "a cordoned node's zone is a domain with 0 pods",
                nodes: vec![ready("a"), ready("b"), cordoned("c")],
                existing: vec![(0, web()), (1, web())],
                incoming: zone_skew_1(),
                expected: vec![SPREAD, SPREAD, UNSCHEDULABLE],
            },
            Case {
                name: "a Launching node's zone is no domain yet",
                nodes: vec![ready("a"), ready("b"), launching("c")],
                existing: vec![(0, web()), (1, web())],
                incoming: zone_skew_1(),
                expected: vec![PASS, PASS, UNSCHEDULABLE],
            },
            Case {
                name: "a zone the node selector excludes is no domain",
                nodes: vec![
                    labelled("a", &[("pool", "gpu")]),
                    labelled("b", &[("pool", "general")]),
                    labelled("c", &[("pool", "general")]),
                ],
                existing: vec![(1, web()), (2, web())],
                incoming: PodSpec {
                    node_selector: label_map(&[("pool", "general")]),
                    ..zone_skew_1()
                },
                expected: vec![NODE_AFFINITY, PASS, PASS],
            },
            Case {
                name: "pods on a node the node selector excludes are not counted",
                nodes: vec![
                    labelled("a", &[("pool", "gpu")]),
                    labelled("a", &[("pool", "general")]),
                    labelled("b", &[("pool", "general")]),
                ],
                existing: vec![(0, web()), (0, web())],
                incoming: PodSpec {
                    node_selector: label_map(&[("pool", "general")]),
                    ..zone_skew_1()
                },
                expected: vec![NODE_AFFINITY, PASS, PASS],
            },
            Case {
                name: "a node lacking another constraint's key is not counted",
                nodes: vec![
                    labelled("a", &[(RACK, "r1")]),
                    ready("a"),
                    labelled("b", &[(RACK, "r2")]),
                ],
                existing: vec![(1, web()), (1, web())],
                incoming: spread_pod(vec![spread(LABEL_ZONE, 1, "web"), spread(RACK, 1, "web")]),
                expected: vec![PASS, SPREAD, PASS],
            },
            Case {
                name: "zone and hostname constraints both apply",
                nodes: vec![ready("a"), ready("a"), ready("b"), ready("b")],
                existing: vec![(0, web()), (2, web())],
                incoming: spread_pod(vec![
                    spread(LABEL_ZONE, 1, "web"),
                    spread(LABEL_HOSTNAME, 1, "web"),
                ]),
                expected: vec![SPREAD, PASS, SPREAD, PASS],
            },
        ];

        run_cases(cases);
    }
}

/// InterPodAffinity: required affinity and anti-affinity, in both directions.
mod inter_pod_affinity {
    use super::*;

    #[test]
    fn required_terms_table() {
        // Nodes 0 and 1 are in zone a, node 2 in zone b.
        let nodes = || vec![ready("a"), ready("a"), ready("b")];
        let cases = vec![
            Case {
                name: "anti-affinity, hostname: only the node with the pod",
                nodes: nodes(),
                existing: vec![(0, web())],
                incoming: anti_affine_pod("", "web", vec![term(LABEL_HOSTNAME, &[("app", "web")])]),
                expected: vec![INTER_POD, PASS, PASS],
            },
            Case {
                name: "anti-affinity, zone: the whole zone with the pod",
                nodes: nodes(),
                existing: vec![(0, web())],
                incoming: anti_affine_pod("", "web", vec![term(LABEL_ZONE, &[("app", "web")])]),
                expected: vec![INTER_POD, INTER_POD, PASS],
            },
            Case {
                name: "anti-affinity ignores pods in another namespace",
                nodes: nodes(),
                existing: vec![(0, app_pod("batch", "web"))],
                incoming: anti_affine_pod("", "web", vec![term(LABEL_ZONE, &[("app", "web")])]),
                expected: vec![PASS, PASS, PASS],
            },
            Case {
                name: "anti-affinity term listing the other namespace",
                nodes: nodes(),
                existing: vec![(0, app_pod("batch", "web"))],
                incoming: anti_affine_pod(
                    "",
                    "web",
                    vec![PodAffinityTerm {
                        namespaces: vec!["batch".into()],
                        ..term(LABEL_ZONE, &[("app", "web")])
                    }],
                ),
                expected: vec![INTER_POD, INTER_POD, PASS],
            },
            Case {
                name: "existing pod's anti-affinity, hostname, rejects a plain pod",
                nodes: nodes(),
                existing: vec![(
                    0,
                    anti_affine_pod("", "db", vec![term(LABEL_HOSTNAME, &[("app", "web")])]),
                )],
                incoming: web(),
                expected: vec![INTER_POD, PASS, PASS],
            },
            Case {
                name: "existing pod's anti-affinity, zone, closes the zone",
                nodes: nodes(),
                existing: vec![(
                    0,
                    anti_affine_pod("", "db", vec![term(LABEL_ZONE, &[("app", "web")])]),
                )],
                incoming: web(),
                expected: vec![INTER_POD, INTER_POD, PASS],
            },
            Case {
                name: "existing pod's anti-affinity covers its own namespace only",
                nodes: nodes(),
                existing: vec![(
                    0,
                    anti_affine_pod("batch", "db", vec![term(LABEL_ZONE, &[("app", "web")])]),
                )],
                incoming: web(),
                expected: vec![PASS, PASS, PASS],
            },
            Case {
                name: "existing pod's anti-affinity not selecting the incoming pod",
                nodes: nodes(),
                existing: vec![(
                    0,
                    anti_affine_pod("", "db", vec![term(LABEL_ZONE, &[("app", "api")])]),
                )],
                incoming: web(),
                expected: vec![PASS, PASS, PASS],
            },
            Case {
                name: "affinity, hostname: only the node with the pod",
                nodes: nodes(),
                existing: vec![(1, app_pod("", "cache"))],
                incoming: affine_pod(
                    &[("app", "web")],
                    vec![term(LABEL_HOSTNAME, &[("app", "cache")])],
                ),
                expected: vec![INTER_POD, PASS, INTER_POD],
            },
            Case {
                name: "affinity, zone: every node of the zone with the pod",
                nodes: nodes(),
                existing: vec![(0, app_pod("", "cache"))],
                incoming: affine_pod(
                    &[("app", "web")],
                    vec![term(LABEL_ZONE, &[("app", "cache")])],
                ),
                expected: vec![PASS, PASS, INTER_POD],
            },
            Case {
                name: "affinity with no matching pod anywhere",
                nodes: nodes(),
                existing: vec![(0, web())],
                incoming: affine_pod(
                    &[("app", "web")],
                    vec![term(LABEL_ZONE, &[("app", "cache")])],
                ),
                expected: vec![INTER_POD, INTER_POD, INTER_POD],
            },
            Case {
                name: "affinity ignores matching pods in another namespace",
                nodes: nodes(),
                existing: vec![(0, app_pod("batch", "cache"))],
                incoming: affine_pod(
                    &[("app", "web")],
                    vec![term(LABEL_ZONE, &[("app", "cache")])],
                ),
                expected: vec![INTER_POD, INTER_POD, INTER_POD],
            },
            Case {
                name: "first pod of a self-affine group may go anywhere",
                nodes: nodes(),
                existing: vec![],
                incoming: affine_pod(
                    &[("app", "cache")],
                    vec![term(LABEL_ZONE, &[("app", "cache")])],
                ),
                expected: vec![PASS, PASS, PASS],
            },
            Case {
                name: "later pods of a self-affine group follow the first",
                nodes: nodes(),
                existing: vec![(2, app_pod("", "cache"))],
                incoming: affine_pod(
                    &[("app", "cache")],
                    vec![term(LABEL_ZONE, &[("app", "cache")])],
                ),
                expected: vec![INTER_POD, INTER_POD, PASS],
            },
            Case {
                name: "first pod of a self-affine group needs the topology key",
                nodes: vec![labelled("a", &[(RACK, "r1")]), ready("a"), ready("b")],
                existing: vec![],
                incoming: affine_pod(&[("app", "cache")], vec![term(RACK, &[("app", "cache")])]),
                expected: vec![PASS, INTER_POD, INTER_POD],
            },
            Case {
                name: "two affinity terms need pods matching both terms",
                nodes: nodes(),
                existing: vec![
                    (0, app_pod("", "cache")),
                    (1, affine_pod(&[("tier", "db")], vec![])),
                ],
                incoming: affine_pod(
                    &[("app", "web")],
                    vec![
                        term(LABEL_ZONE, &[("app", "cache")]),
                        term(LABEL_HOSTNAME, &[("tier", "db")]),
                    ],
                ),
                expected: vec![INTER_POD, INTER_POD, INTER_POD],
            },
            Case {
                name: "a pod matching both affinity terms satisfies both",
                nodes: nodes(),
                existing: vec![(1, affine_pod(&[("app", "cache"), ("tier", "db")], vec![]))],
                incoming: affine_pod(
                    &[("app", "web")],
                    vec![
                        term(LABEL_ZONE, &[("app", "cache")]),
                        term(LABEL_HOSTNAME, &[("tier", "db")]),
                    ],
                ),
                expected: vec![INTER_POD, PASS, INTER_POD],
            },
            Case {
                name: "first-pod rule holds while no pod matches every term",
                nodes: nodes(),
                existing: vec![(2, app_pod("", "cache"))],
                incoming: affine_pod(
                    &[("app", "cache"), ("tier", "db")],
                    vec![
                        term(LABEL_ZONE, &[("app", "cache")]),
                        term(LABEL_ZONE, &[("tier", "db")]),
                    ],
                ),
                expected: vec![PASS, PASS, PASS],
            },
        ];

        run_cases(cases);
    }
}

/// Whole scheduling passes with inter-pod constraints.
mod scheduling_passes {
    use super::*;

    #[test]
    fn schedule_spreads_replicas_across_zones() {
        let mut cluster = Cluster::new(vec![]);
        let zones: Vec<NodeId> = ["a", "b", "c"]
            .iter()
            .map(|zone| add_ready(&mut cluster, new_node(zone, &[])))
            .collect();
        let replica = Arc::new(PodSpec {
            requests: Resources::new(100, 128 << 20, 1),
            ..spread_pod(vec![spread(LABEL_ZONE, 1, "web")])
        });
        for second in 0..7 {
            cluster.create_pod(Owner::Deployment(0), replica.clone(), SimTime(second));
        }

        let pass = Scheduler::default().schedule(&mut cluster, SimTime(10));

        assert_eq!(pass.bound.len(), 7);
        assert_eq!(pass.still_pending, 0);
        let per_zone: Vec<usize> = zones
            .iter()
            .map(|id| cluster.node(*id).unwrap().pods.len())
            .collect();
        assert_eq!(per_zone, vec![3, 2, 2]);
    }

    #[test]
    fn schedule_anti_affinity_leaves_extra_replica() {
        let mut cluster = Cluster::new(vec![]);
        for zone in ["a", "a", "b"] {
            add_ready(&mut cluster, new_node(zone, &[]));
        }
        let replica = Arc::new(anti_affine_pod(
            "",
            "web",
            vec![term(LABEL_HOSTNAME, &[("app", "web")])],
        ));
        let pods: Vec<PodId> = (0..4)
            .map(|second| {
                cluster.create_pod(Owner::Deployment(0), replica.clone(), SimTime(second))
            })
            .collect();

        let pass = Scheduler::default().schedule(&mut cluster, SimTime(10));

        assert_eq!(pass.bound.len(), 3);
        assert_eq!(pass.newly_unschedulable, vec![pods[3]]);
        let hosts: std::collections::BTreeSet<NodeId> = pass.bound.iter().map(|b| b.1).collect();
        assert_eq!(hosts.len(), 3);
    }

    #[test]
    fn schedule_honours_existing_anti_affinity() {
        // The incoming pod has no inter-pod constraint of its own. The bound pod's anti-affinity
        // still keeps it off that node.
        let mut cluster = Cluster::new(vec![]);
        let guarded = add_ready(&mut cluster, new_node("a", &[]));
        let other = add_ready(&mut cluster, new_node("a", &[]));
        bind(
            &mut cluster,
            PodSpec {
                requests: Resources::new(2000, 4 * GIB, 1),
                ..anti_affine_pod("", "db", vec![term(LABEL_HOSTNAME, &[("app", "web")])])
            },
            guarded,
        );
        // LeastAllocated alone would pick the guarded node: it is emptier than the other one.
        bind(&mut cluster, requests(3000, 6 * GIB), other);
        let pod = cluster.create_pod(Owner::Bare, Arc::new(web()), SimTime(1));

        let pass = Scheduler::default().schedule(&mut cluster, SimTime(2));

        assert_eq!(pass.bound, vec![(pod, other)]);
    }
}

/// Score plugins, observed through the node `pick_node` returns.
mod scores {
    use super::*;

    /// Three 4-CPU 8-GiB nodes loaded with 2 CPUs + 4 GiB, nothing, and 1 CPU + 2 GiB.
    fn three_loaded_nodes() -> (Cluster, Vec<NodeId>) {
        let mut cluster = Cluster::new(vec![]);
        let ids: Vec<NodeId> = (0..3)
            .map(|_| add_ready(&mut cluster, new_node("a", &[])))
            .collect();
        bind(&mut cluster, requests(2000, 4 * GIB), ids[0]);
        bind(&mut cluster, requests(1000, 2 * GIB), ids[2]);
        (cluster, ids)
    }

    #[test]
    fn least_and_most_allocated_pick() {
        let (cluster, ids) = three_loaded_nodes();
        let spec = requests(500, GIB);
        let allocatable = Resources::new(4000, 8 * GIB, 110);

        // kube-scheduler's per-resource integer scores, averaged with integer division.
        let least_allocated = ScoringStrategy::LeastAllocated;
        let most_allocated = ScoringStrategy::MostAllocated;
        assert_eq!(
            score(
                least_allocated,
                &allocatable,
                &Resources::new(2500, 5 * GIB, 2)
            ),
            37
        );
        assert_eq!(
            score(least_allocated, &allocatable, &Resources::new(500, GIB, 1)),
            87
        );
        assert_eq!(
            score(
                least_allocated,
                &allocatable,
                &Resources::new(1500, 3 * GIB, 2)
            ),
            62
        );
        assert_eq!(
            score(
                most_allocated,
                &allocatable,
                &Resources::new(2500, 5 * GIB, 2)
            ),
            62
        );
        assert_eq!(
            score(most_allocated, &allocatable, &Resources::new(500, GIB, 1)),
            12
        );
        assert_eq!(
            score(
                most_allocated,
                &allocatable,
                &Resources::new(1500, 3 * GIB, 2)
            ),
            37
        );

        let least_allocated_pick = Scheduler::new(least_allocated).pick_node(&cluster, &spec);
        let most_allocated_pick = Scheduler::new(most_allocated).pick_node(&cluster, &spec);

        assert_eq!(least_allocated_pick, Some(ids[1]));
        assert_eq!(most_allocated_pick, Some(ids[0]));
    }

    #[test]
    fn balanced_allocation_exact_values() {
        let square = Resources::new(4000, 4 * GIB, 110);

        assert_eq!(
            balanced_allocation(&square, &Resources::new(1000, 3 * GIB, 2)),
            75
        );
        assert_eq!(
            balanced_allocation(&square, &Resources::new(2000, 2 * GIB, 2)),
            100
        );
        assert_eq!(
            balanced_allocation(&square, &Resources::new(4000, 0, 1)),
            50
        );
        // 1/3 against 1: the deviation is 1/3 and the score 66.67, truncated.
        assert_eq!(
            balanced_allocation(
                &Resources::new(3000, 3 * GIB, 110),
                &Resources::new(1000, 3 * GIB, 1)
            ),
            66
        );
        // Fractions above 1 count as 1.
        assert_eq!(
            balanced_allocation(
                &Resources::new(1000, 4 * GIB, 110),
                &Resources::new(3000, 2 * GIB, 1)
            ),
            75
        );
        // A resource with no allocatable counts as fraction 0.
        assert_eq!(
            balanced_allocation(&Resources::new(1000, 0, 110), &Resources::new(500, 0, 1)),
            75
        );
    }

    #[test]
    fn balanced_allocation_breaks_fit_tie() {
        // Both nodes end at a LeastAllocated score of 50, but only the second ends balanced.
        let mut cluster = Cluster::new(vec![]);
        let mut square = new_node("a", &[]);
        square.allocatable = Resources::new(4000, 4 * GIB, 110);
        let lopsided = add_ready(&mut cluster, square.clone());
        let even = add_ready(&mut cluster, square);
        bind(&mut cluster, requests(0, 2 * GIB), lopsided);
        bind(&mut cluster, requests(1000, GIB), even);
        let spec = requests(1000, GIB);
        let allocatable = Resources::new(4000, 4 * GIB, 110);
        let lopsided_after = Resources::new(1000, 3 * GIB, 2);
        let even_after = Resources::new(2000, 2 * GIB, 2);

        assert_eq!(
            score(
                ScoringStrategy::LeastAllocated,
                &allocatable,
                &lopsided_after
            ),
            50
        );
        assert_eq!(
            score(ScoringStrategy::LeastAllocated, &allocatable, &even_after),
            50
        );
        assert_eq!(balanced_allocation(&allocatable, &lopsided_after), 75);
        assert_eq!(balanced_allocation(&allocatable, &even_after), 100);
        assert_eq!(Scheduler::default().pick_node(&cluster, &spec), Some(even));
    }

    #[test]
    fn prefer_no_schedule_taint_avoided() {
        let mut cluster = Cluster::new(vec![]);
        let tainted = add_ready(
            &mut cluster,
            with_taint(new_node("a", &[]), "spot", TaintEffect::PreferNoSchedule),
        );
        let busy = add_ready(&mut cluster, new_node("a", &[]));
        bind(&mut cluster, requests(2000, 4 * GIB), busy);
        let plain = requests(500, GIB);
        let tolerant = PodSpec {
            tolerations: vec![toleration("spot", Some(TaintEffect::PreferNoSchedule))],
            ..plain.clone()
        };
        let tolerates_other_effect = PodSpec {
            tolerations: vec![toleration("spot", Some(TaintEffect::NoSchedule))],
            ..plain.clone()
        };

        // The tainted node is emptier, but TaintToleration (weight 3) outweighs NodeResourcesFit.
        assert_eq!(Scheduler::default().pick_node(&cluster, &plain), Some(busy));
        assert_eq!(
            Scheduler::default().pick_node(&cluster, &tolerates_other_effect),
            Some(busy)
        );
        assert_eq!(
            Scheduler::default().pick_node(&cluster, &tolerant),
            Some(tainted)
        );
    }

    #[test]
    fn preferred_node_affinity_weights() {
        let preference = |weight: i32, key: &str, value: &str| PreferredNodeTerm {
            weight,
            preference: NodeSelectorTerm {
                match_expressions: vec![requirement(key, Operator::In, &[value])],
            },
        };
        let spec = PodSpec {
            node_affinity: NodeAffinity {
                required: vec![],
                preferred: vec![preference(10, "disk", "ssd"), preference(50, "gen", "new")],
            },
            ..requests(500, GIB)
        };
        let ssd_only = PodSpec {
            node_affinity: NodeAffinity {
                required: vec![],
                preferred: vec![preference(10, "disk", "ssd")],
            },
            ..requests(500, GIB)
        };
        let mut cluster = Cluster::new(vec![]);
        let unlabelled = add_ready(&mut cluster, new_node("a", &[]));
        let ssd = add_ready(&mut cluster, new_node("a", &[("disk", "ssd")]));
        let new_gen = add_ready(&mut cluster, new_node("a", &[("gen", "new")]));
        // The heaviest preference wins even on the fullest node.
        bind(&mut cluster, requests(2000, 4 * GIB), new_gen);

        assert_eq!(
            Scheduler::default().pick_node(&cluster, &spec),
            Some(new_gen)
        );
        assert_eq!(
            Scheduler::default().pick_node(&cluster, &ssd_only),
            Some(ssd)
        );
        assert_eq!(
            Scheduler::default().pick_node(&cluster, &requests(500, GIB)),
            Some(unlabelled)
        );

        let both = add_ready(
            &mut cluster,
            new_node("a", &[("disk", "ssd"), ("gen", "new")]),
        );
        bind(&mut cluster, requests(2000, 4 * GIB), both);
        assert_eq!(Scheduler::default().pick_node(&cluster, &spec), Some(both));
    }

    #[test]
    fn empty_preferred_term_ignored() {
        // An empty preference term adds no weight anywhere, so it must not dilute the others when
        // NodeAffinity scores are normalized over the best node.
        let spec = PodSpec {
            node_affinity: NodeAffinity {
                required: vec![],
                preferred: vec![
                    PreferredNodeTerm {
                        weight: 100,
                        preference: NodeSelectorTerm::default(),
                    },
                    PreferredNodeTerm {
                        weight: 10,
                        preference: NodeSelectorTerm {
                            match_expressions: vec![requirement("disk", Operator::In, &["ssd"])],
                        },
                    },
                ],
            },
            ..requests(500, GIB)
        };
        let mut cluster = Cluster::new(vec![]);
        add_ready(&mut cluster, new_node("a", &[]));
        let ssd = add_ready(&mut cluster, new_node("a", &[("disk", "ssd")]));
        bind(&mut cluster, requests(2000, 4 * GIB), ssd);

        assert_eq!(Scheduler::default().pick_node(&cluster, &spec), Some(ssd));
    }

    #[test]
    fn schedule_anyway_prefers_emptier_zone() {
        let mut cluster = Cluster::new(vec![]);
        let crowded = add_ready(&mut cluster, new_node("a", &[]));
        let loaded = add_ready(&mut cluster, new_node("b", &[]));
        bind(&mut cluster, web(), crowded);
        bind(&mut cluster, web(), crowded);
        bind(&mut cluster, requests(2000, 4 * GIB), loaded);
        let soft = PodSpec {
            requests: Resources::new(500, GIB, 1),
            ..spread_pod(vec![TopologySpreadConstraint {
                when_unsatisfiable: WhenUnsatisfiable::ScheduleAnyway,
                ..spread(LABEL_ZONE, 1, "web")
            }])
        };
        let unconstrained = PodSpec {
            requests: Resources::new(500, GIB, 1),
            ..web()
        };

        assert_eq!(
            Scheduler::default().pick_node(&cluster, &soft),
            Some(loaded)
        );
        assert_eq!(
            Scheduler::default().pick_node(&cluster, &unconstrained),
            Some(crowded)
        );
    }

    #[test]
    fn preferred_anti_affinity_steers_away() {
        let mut cluster = Cluster::new(vec![]);
        let with_web = add_ready(&mut cluster, new_node("a", &[]));
        let loaded = add_ready(&mut cluster, new_node("a", &[]));
        bind(&mut cluster, web(), with_web);
        bind(&mut cluster, requests(2000, 4 * GIB), loaded);
        let avoiding = PodSpec {
            pod_anti_affinity: preferred(100, term(LABEL_HOSTNAME, &[("app", "web")])),
            ..PodSpec {
                requests: Resources::new(500, GIB, 1),
                ..web()
            }
        };
        let unconstrained = PodSpec {
            requests: Resources::new(500, GIB, 1),
            ..web()
        };

        assert_eq!(
            Scheduler::default().pick_node(&cluster, &avoiding),
            Some(loaded)
        );
        assert_eq!(
            Scheduler::default().pick_node(&cluster, &unconstrained),
            Some(with_web)
        );
    }

    #[test]
    fn preferred_affinity_steers_toward() {
        let mut cluster = Cluster::new(vec![]);
        let empty = add_ready(&mut cluster, new_node("a", &[]));
        let with_cache = add_ready(&mut cluster, new_node("b", &[]));
        bind(
            &mut cluster,
            PodSpec {
                requests: Resources::new(2000, 4 * GIB, 1),
                ..app_pod("", "cache")
            },
            with_cache,
        );
        let seeking = PodSpec {
            requests: Resources::new(500, GIB, 1),
            pod_affinity: preferred(100, term(LABEL_ZONE, &[("app", "cache")])),
            ..web()
        };

        assert_eq!(
            Scheduler::default().pick_node(&cluster, &seeking),
            Some(with_cache)
        );
        assert_eq!(
            Scheduler::default().pick_node(&cluster, &requests(500, GIB)),
            Some(empty)
        );
    }
}

/// kube-scheduler's node sampling (percentageOfNodesToScore).
mod node_sampling {
    use super::*;

    #[test]
    fn feasible_nodes_to_find_values() {
        // kube-scheduler's numFeasibleNodesToFind returns every node in clusters below 100 nodes.
        // Otherwise it returns the percentage (adaptive: 50 - nodes/125, at least 5) of the nodes,
        // and at least 100.
        assert_eq!(feasible_nodes_to_find(50, 0), 50);
        assert_eq!(feasible_nodes_to_find(99, 0), 99);
        assert_eq!(feasible_nodes_to_find(100, 0), 100);
        assert_eq!(feasible_nodes_to_find(125, 0), 100);
        assert_eq!(feasible_nodes_to_find(1000, 0), 420);
        assert_eq!(feasible_nodes_to_find(5000, 0), 500);
        assert_eq!(feasible_nodes_to_find(10_000, 0), 500);
        assert_eq!(feasible_nodes_to_find(1000, 30), 300);
        assert_eq!(feasible_nodes_to_find(1000, 5), 100);
        assert_eq!(feasible_nodes_to_find(1000, 100), 1000);
        assert_eq!(feasible_nodes_to_find(50, 30), 50);
    }

    #[test]
    fn pick_node_rotates_search_start() {
        // With 200 nodes the adaptive percentage is 49 %, or 98 nodes, raised to the minimum of
        // 100. Each search stops after 100 feasible nodes and the next one starts where it stopped.
        let mut cluster = Cluster::new(vec![]);
        let ids: Vec<NodeId> = (0..200)
            .map(|_| add_ready(&mut cluster, new_node("a", &[])))
            .collect();
        let spec = requests(100, GIB);
        let mut sampling = Scheduler::default();
        let mut exhaustive = Scheduler::default();
        exhaustive.percentage_of_nodes_to_score = 100;

        assert_eq!(sampling.pick_node(&cluster, &spec), Some(ids[0]));
        assert_eq!(sampling.pick_node(&cluster, &spec), Some(ids[100]));
        assert_eq!(sampling.pick_node(&cluster, &spec), Some(ids[0]));
        assert_eq!(exhaustive.pick_node(&cluster, &spec), Some(ids[0]));
        assert_eq!(exhaustive.pick_node(&cluster, &spec), Some(ids[0]));
    }

    #[test]
    fn pick_node_none_without_feasible_node() {
        let mut cluster = Cluster::new(vec![]);
        add_ready(&mut cluster, new_node("a", &[]));

        assert_eq!(
            Scheduler::default().pick_node(&Cluster::new(vec![]), &web()),
            None
        );
        assert_eq!(
            Scheduler::default().pick_node(&cluster, &requests(4001, GIB)),
            None
        );
    }
}

/// PodTopologySpread leaves terminating pods out of the domain counts, as kube-scheduler's
/// countPodsMatchSelector does.
#[test]
fn spread_skips_terminating_pods() {
    let mut cluster = Cluster::new(vec![]);
    let a = add_ready(&mut cluster, new_node("us-east-1a", &[]));
    let b = add_ready(&mut cluster, new_node("us-east-1b", &[]));
    let leaving = bind(&mut cluster, web(), a);
    bind(&mut cluster, web(), b);
    let incoming = spread_pod(vec![spread(LABEL_ZONE, 1, "web")]);

    assert_eq!(check(&incoming, &cluster, a), PASS);
    assert_eq!(check(&incoming, &cluster, b), PASS);

    cluster.begin_termination(leaving, SimTime(1));

    // Zone a now counts 0 and zone b 1, so a second pod in zone b would skew by 2.
    assert_eq!(check(&incoming, &cluster, a), PASS);
    assert_eq!(check(&incoming, &cluster, b), SPREAD);
}

/// NodeResourcesFit counts extended resources: a GPU pod fits only where a GPU is free.
#[test]
fn resources_fit_counts_gpus() {
    let mut cluster = Cluster::new(vec![]);
    let plain = add_ready(&mut cluster, new_node("us-east-1a", &[]));
    let mut gpu_node = new_node("us-east-1a", &[]);
    gpu_node.allocatable = gpu_node
        .allocatable
        .with_extended(ExtendedResource::NvidiaGpu, 1);
    let gpu = add_ready(&mut cluster, gpu_node);
    let gpu_pod = PodSpec {
        requests: Resources::new(100, GIB, 1).with_extended(ExtendedResource::NvidiaGpu, 1),
        ..Default::default()
    };

    assert_eq!(check(&gpu_pod, &cluster, plain), RESOURCES);
    assert_eq!(check(&gpu_pod, &cluster, gpu), PASS);

    bind(&mut cluster, gpu_pod.clone(), gpu);

    assert_eq!(check(&gpu_pod, &cluster, gpu), RESOURCES);
    assert_eq!(check(&requests(100, GIB), &cluster, gpu), PASS);
}

/// PodTopologySpread scoring with kube-scheduler's system default constraints (hostname maxSkew 3
/// and zone maxSkew 5, ScheduleAnyway) for a replicated pod without constraints of its own.
#[test]
fn default_spread_scores_exact() {
    let mut cluster = Cluster::new(vec![]);
    let a = add_ready(&mut cluster, new_node("us-east-1a", &[]));
    let b = add_ready(&mut cluster, new_node("us-east-1b", &[]));
    let c = add_ready(&mut cluster, new_node("us-east-1c", &[]));
    bind(&mut cluster, web(), a);
    bind(&mut cluster, web(), a);
    bind(&mut cluster, web(), b);
    let nodes: Vec<&Node> = [a, b, c]
        .iter()
        .map(|id| cluster.node(*id).unwrap())
        .collect();

    let state = InterPodState::compute_for_scheduling(&web(), &cluster, true);
    let raw = state.spread_scores(&nodes);

    // Three domains per key, so each weight is ln 5 = 1.609. Node a: 2 × 1.609 + 2 (hostname)
    // + 2 × 1.609 + 4 (zone) = 12.44 → 12; node b: 9.22 → 9; node c: 0 + 2 + 0 + 4 = 6.
    assert_eq!(raw, vec![Some(12), Some(9), Some(6)]);
    let normalized: Vec<i64> = raw
        .iter()
        .map(|score| normalize_spread(*score, 6, 12))
        .collect();
    // 100 × (12 + 6 − score) / 12.
    assert_eq!(normalized, vec![50, 75, 100]);

    // A bare pod, or one with no labels, gets no default constraints: the plugin is skipped.
    let bare = InterPodState::compute_for_scheduling(&web(), &cluster, false);
    assert_eq!(bare.spread_scores(&nodes), vec![None, None, None]);
    assert_eq!(system_default_spread(&requests(100, GIB)), vec![]);
}

/// A node that lacks the key of one of the pod's own ScheduleAnyway constraints is ignored
/// and scores 0; the others are normalized without it.
#[test]
fn own_spread_ignores_nodes_without_key() {
    let mut cluster = Cluster::new(vec![]);
    let r1 = add_ready(&mut cluster, new_node("us-east-1a", &[(RACK, "r1")]));
    let r2 = add_ready(&mut cluster, new_node("us-east-1a", &[(RACK, "r2")]));
    let none = add_ready(&mut cluster, new_node("us-east-1a", &[]));
    bind(&mut cluster, web(), r1);
    let mut constraint = spread(RACK, 1, "web");
    constraint.when_unsatisfiable = WhenUnsatisfiable::ScheduleAnyway;
    let pod = spread_pod(vec![constraint]);
    let nodes: Vec<&Node> = [r1, r2, none]
        .iter()
        .map(|id| cluster.node(*id).unwrap())
        .collect();

    let raw = InterPodState::compute_for_scheduling(&pod, &cluster, true).spread_scores(&nodes);

    // Two racks: weight ln 4 = 1.386. r1: 1 × 1.386 + 0 → 1; r2: 0.
    assert_eq!(raw, vec![Some(1), Some(0), None]);
    let normalized: Vec<i64> = raw.iter().map(|s| normalize_spread(*s, 0, 1)).collect();
    assert_eq!(normalized, vec![0, 100, 0]);
}
