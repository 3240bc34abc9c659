//! The filter and score plugins of kube-scheduler's default profile, as far as this model goes.
//!
//! Filters: NodeUnschedulable, TaintToleration, NodeAffinity (node selector and required
//! terms), NodePorts, NodeResourcesFit, PodTopologySpread and InterPodAffinity. Scores, with the
//! default profile's weights: NodeResourcesFit (1), NodeResourcesBalancedAllocation (1),
//! TaintToleration (3), NodeAffinity (2), PodTopologySpread (2) and InterPodAffinity (2).

use std::collections::{BTreeMap, BTreeSet};

use autoscale_sim_cloud::Resources;

use crate::cluster::Cluster;
use crate::constraints::{PodAffinityTerm, WhenUnsatisfiable};
use crate::objects::{
    Node, NodeState, PodId, PodPhase, PodSpec, TaintEffect, selector_matches, tolerates_all,
};
use crate::selector::all_match;

/// Why a node failed a filter, named after the plugin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FilterFailure {
    /// Not Ready, or cordoned.
    NodeUnschedulable,
    /// A NoSchedule or NoExecute taint the pod does not tolerate.
    TaintToleration,
    /// The node selector or required node affinity does not match.
    NodeAffinity,
    /// A host port is already in use on the node.
    NodePorts,
    /// Not enough CPU, memory or pod slots.
    NodeResourcesFit,
    /// Placing the pod would exceed a DoNotSchedule constraint's max skew, or the node lacks
    /// the constraint's topology key.
    PodTopologySpread,
    /// Required pod affinity or anti-affinity is not met.
    InterPodAffinity,
}

/// Checks the node selector and required node affinity (any one term must match). As in
/// Kubernetes, a term without expressions matches no node.
pub fn node_affinity_matches(spec: &PodSpec, labels: &BTreeMap<String, String>) -> bool {
    selector_matches(&spec.node_selector, labels)
        && (spec.node_affinity.required.is_empty()
            || spec.node_affinity.required.iter().any(|term| {
                !term.match_expressions.is_empty() && all_match(&term.match_expressions, labels)
            }))
}

/// Nodes that exist for the scheduler: registered (not Launching).
fn registered(node: &Node) -> bool {
    node.state != NodeState::Launching
}

fn term_matches(term: &PodAffinityTerm, owner_namespace: &str, candidate: &PodSpec) -> bool {
    let in_namespace = if term.namespaces.is_empty() {
        candidate.namespace() == owner_namespace
    } else {
        term.namespaces.iter().any(|n| n == candidate.namespace())
    };
    in_namespace && term.label_selector.matches(&candidate.labels)
}

/// Counts of the spread state of one topology spread constraint.
#[derive(Clone, Debug)]
struct Spread {
    key: String,
    hard: bool,
    max_skew: i64,
    counts: BTreeMap<String, i64>,
    min: i64,
    self_match: i64,
}

/// What the inter-pod plugins need to know about the rest of the cluster for one pod, computed
/// once per pod by a scan over the bound pods.
#[derive(Clone, Debug, Default)]
pub struct InterPodState {
    spreads: Vec<Spread>,
    /// Per required anti-affinity term: its topology key and the domains holding a matching pod.
    anti_required: Vec<(String, BTreeSet<String>)>,
    /// Per required affinity term: its topology key and the domains holding a pod that matches
    /// every required affinity term.
    affinity_required: Vec<(String, BTreeSet<String>)>,
    /// Whether the pod is the first of a self-affine group: no bound pod matches every required
    /// affinity term and the pod matches them all itself.
    first_of_affine_group: bool,
    /// Domains that existing pods' required anti-affinity closes to this pod: (key, value).
    forbidden: BTreeSet<(String, String)>,
    /// Preferred terms: key, domain → number of matching pods, and signed weight.
    preferred: Vec<(String, BTreeMap<String, i64>, i64)>,
}

impl InterPodState {
    /// Scans the cluster's bound pods for what `spec`'s constraints need.
    pub fn compute(spec: &PodSpec, cluster: &Cluster) -> InterPodState {
        Self::compute_without(spec, cluster, &BTreeSet::new())
    }

    /// Scans the cluster's bound pods as [`InterPodState::compute`] does, as if the pods in
    /// `removed` were gone (preemption's dry run).
    pub fn compute_without(
        spec: &PodSpec,
        cluster: &Cluster,
        removed: &BTreeSet<PodId>,
    ) -> InterPodState {
        let mut state = InterPodState::default();
        // Terminating pods are left out, as kube-scheduler leaves out pods being deleted.
        let bound: Vec<(&PodSpec, &Node)> = cluster
            .pods()
            .filter(|p| p.phase != PodPhase::Terminating && !removed.contains(&p.id))
            .filter_map(|p| Some((p.spec.as_ref(), cluster.node(p.node?)?)))
            .collect();
        let namespace = spec.namespace();

        // Topology spread: like kube-scheduler, count matching pods node by node over the nodes
        // that pass the pod's node selector and required node affinity and carry the topology
        // keys of all its constraints. Pods on any other node count nowhere.
        let spread_nodes: Vec<&Node> = cluster
            .nodes()
            .filter(|n| {
                registered(n)
                    && node_affinity_matches(spec, &n.labels)
                    && spec
                        .topology_spread
                        .iter()
                        .all(|c| n.labels.contains_key(&c.topology_key))
            })
            .collect();
        for constraint in &spec.topology_spread {
            let key = &constraint.topology_key;
            let mut counts: BTreeMap<String, i64> = BTreeMap::new();
            for node in &spread_nodes {
                let matching = node
                    .pods
                    .iter()
                    .filter(|id| !removed.contains(id))
                    .filter_map(|id| cluster.pod(*id))
                    .filter(|other| {
                        // kube-scheduler's countPodsMatchSelector skips terminating pods.
                        other.phase != PodPhase::Terminating
                            && other.spec.namespace() == namespace
                            && constraint.label_selector.matches(&other.spec.labels)
                    })
                    .count() as i64;
                *counts.entry(node.labels[key].clone()).or_insert(0) += matching;
            }
            let mut min = counts.values().copied().min().unwrap_or(0);
            if constraint
                .min_domains
                .is_some_and(|m| (counts.len() as i64) < i64::from(m))
            {
                min = 0;
            }
            state.spreads.push(Spread {
                key: key.clone(),
                hard: constraint.when_unsatisfiable == WhenUnsatisfiable::DoNotSchedule,
                max_skew: i64::from(constraint.max_skew),
                counts,
                min,
                self_match: i64::from(constraint.label_selector.matches(&spec.labels)),
            });
        }

        // Required and preferred inter-pod terms of the incoming pod.
        let domains_of = |term: &PodAffinityTerm| -> BTreeMap<String, i64> {
            let mut domains = BTreeMap::new();
            for (other, node) in &bound {
                if term_matches(term, namespace, other)
                    && let Some(domain) = node.labels.get(&term.topology_key)
                {
                    *domains.entry(domain.clone()).or_insert(0) += 1;
                }
            }
            domains
        };
        for term in &spec.pod_anti_affinity.required {
            state.anti_required.push((
                term.topology_key.clone(),
                domains_of(term).into_keys().collect(),
            ));
        }
        // Required affinity: kube-scheduler counts only pods that match every term.
        let affinity_terms = &spec.pod_affinity.required;
        let matches_every_term = |other: &PodSpec| {
            affinity_terms
                .iter()
                .all(|t| term_matches(t, namespace, other))
        };
        for term in affinity_terms {
            let domains = bound
                .iter()
                .filter(|(other, _)| matches_every_term(other))
                .filter_map(|(_, node)| node.labels.get(&term.topology_key).cloned())
                .collect();
            state
                .affinity_required
                .push((term.topology_key.clone(), domains));
        }
        state.first_of_affine_group = !affinity_terms.is_empty()
            && state.affinity_required.iter().all(|(_, d)| d.is_empty())
            && matches_every_term(spec);
        for weighted in &spec.pod_affinity.preferred {
            let term = &weighted.pod_affinity_term;
            state.preferred.push((
                term.topology_key.clone(),
                domains_of(term),
                i64::from(weighted.weight),
            ));
        }
        for weighted in &spec.pod_anti_affinity.preferred {
            let term = &weighted.pod_affinity_term;
            state.preferred.push((
                term.topology_key.clone(),
                domains_of(term),
                -i64::from(weighted.weight),
            ));
        }

        // Existing pods whose required anti-affinity rejects the incoming pod.
        for (other, node) in &bound {
            for term in &other.pod_anti_affinity.required {
                if term_matches(term, other.namespace(), spec)
                    && let Some(domain) = node.labels.get(&term.topology_key)
                {
                    state
                        .forbidden
                        .insert((term.topology_key.clone(), domain.clone()));
                }
            }
        }
        state
    }

    /// Checks the PodTopologySpread and InterPodAffinity filters on `node`.
    pub fn filter(&self, node: &Node) -> Result<(), FilterFailure> {
        for spread in self.spreads.iter().filter(|s| s.hard) {
            let Some(domain) = node.labels.get(&spread.key) else {
                return Err(FilterFailure::PodTopologySpread);
            };
            let count = spread.counts.get(domain).copied().unwrap_or(0);
            if count + spread.self_match - spread.min > spread.max_skew {
                return Err(FilterFailure::PodTopologySpread);
            }
        }
        for (key, domains) in &self.anti_required {
            if node.labels.get(key).is_some_and(|d| domains.contains(d)) {
                return Err(FilterFailure::InterPodAffinity);
            }
        }
        for (key, domains) in &self.affinity_required {
            let here = node.labels.get(key).is_some_and(|d| domains.contains(d));
            let first_here = self.first_of_affine_group && node.labels.contains_key(key);
            if !(here || first_here) {
                return Err(FilterFailure::InterPodAffinity);
            }
        }
        if self
            .forbidden
            .iter()
            .any(|(key, value)| node.labels.get(key) == Some(value))
        {
            return Err(FilterFailure::InterPodAffinity);
        }
        Ok(())
    }

    /// Checks whether the first inter-pod filter that rejects `node` reports
    /// UnschedulableAndUnresolvable, a failure that removing pods cannot fix, so preemption
    /// skips the node. That is the case when the node lacks the topology key of a DoNotSchedule
    /// spread constraint or the pod's required pod affinity is not met there. A skew or
    /// anti-affinity failure is resolvable.
    pub fn unresolvable(&self, node: &Node) -> bool {
        for spread in self.spreads.iter().filter(|s| s.hard) {
            let Some(domain) = node.labels.get(&spread.key) else {
                return true;
            };
            let count = spread.counts.get(domain).copied().unwrap_or(0);
            if count + spread.self_match - spread.min > spread.max_skew {
                return false;
            }
        }
        self.affinity_required.iter().any(|(key, domains)| {
            let here = node.labels.get(key).is_some_and(|d| domains.contains(d));
            let first_here = self.first_of_affine_group && node.labels.contains_key(key);
            !(here || first_here)
        })
    }

    /// Raw PodTopologySpread score of `node` for the ScheduleAnyway constraints: matching pods in
    /// its domains (lower is better).
    fn spread_raw(&self, node: &Node) -> i64 {
        self.spreads
            .iter()
            .filter(|s| !s.hard)
            .map(|s| {
                node.labels
                    .get(&s.key)
                    .and_then(|d| s.counts.get(d))
                    .copied()
                    .unwrap_or(0)
            })
            .sum()
    }

    /// Raw InterPodAffinity score: signed weights of preferred terms times matching pods.
    fn affinity_raw(&self, node: &Node) -> i64 {
        self.preferred
            .iter()
            .map(|(key, domains, weight)| {
                node.labels
                    .get(key)
                    .and_then(|d| domains.get(d))
                    .map_or(0, |count| weight * count)
            })
            .sum()
    }
}

/// Host ports in use on `node`.
pub fn used_host_ports(node: &Node, cluster: &Cluster) -> BTreeSet<u16> {
    used_host_ports_without(node, cluster, &BTreeSet::new())
}

/// Host ports in use on `node` if the pods in `removed` were gone.
fn used_host_ports_without(
    node: &Node,
    cluster: &Cluster,
    removed: &BTreeSet<PodId>,
) -> BTreeSet<u16> {
    let mut ports: BTreeSet<u16> = node.daemon_host_ports.iter().copied().collect();
    let present = node.pods.iter().filter(|id| !removed.contains(id));
    for pod in present.filter_map(|id| cluster.pod(*id)) {
        ports.extend(pod.spec.host_ports.iter().copied());
    }
    ports
}

/// Runs the node-local filters (everything but the inter-pod plugins) on `node`, with `free` as
/// its free capacity.
pub fn filter_node(
    spec: &PodSpec,
    node: &Node,
    free: &Resources,
    cluster: &Cluster,
) -> Result<(), FilterFailure> {
    filter_node_without(spec, node, free, cluster, &BTreeSet::new())
}

/// Runs the node-local filters as [`filter_node`] does, as if the pods in `removed` were gone;
/// `free` must already count their requests as free.
pub fn filter_node_without(
    spec: &PodSpec,
    node: &Node,
    free: &Resources,
    cluster: &Cluster,
    removed: &BTreeSet<PodId>,
) -> Result<(), FilterFailure> {
    // NOTE: kube-scheduler's NodeUnschedulable admits a pod that tolerates the
    // node.kubernetes.io/unschedulable:NoSchedule taint onto a cordoned node; this model rejects it.
    if !node.is_schedulable() {
        return Err(FilterFailure::NodeUnschedulable);
    }
    if !tolerates_all(&spec.tolerations, &node.taints) {
        return Err(FilterFailure::TaintToleration);
    }
    if !node_affinity_matches(spec, &node.labels) {
        return Err(FilterFailure::NodeAffinity);
    }
    if !spec.host_ports.is_empty() {
        let used = used_host_ports_without(node, cluster, removed);
        if spec.host_ports.iter().any(|p| used.contains(p)) {
            return Err(FilterFailure::NodePorts);
        }
    }
    if !spec.requests.fits_in(free) {
        return Err(FilterFailure::NodeResourcesFit);
    }
    Ok(())
}

/// Raw scores of one feasible node, before normalization across nodes.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RawScores {
    pub fit: i64,
    pub balanced: i64,
    pub untolerated_soft_taints: i64,
    pub node_affinity: i64,
    pub spread: i64,
    pub inter_pod: i64,
}

/// NodeResourcesBalancedAllocation: 100 × (1 − standard deviation of the CPU and memory
/// fractions after placement); with two resources the deviation is half their difference.
pub fn balanced_allocation(allocatable: &Resources, requested_after: &Resources) -> i64 {
    let fraction = |requested: i64, allocatable: i64| {
        if allocatable <= 0 {
            0.0
        } else {
            (requested as f64 / allocatable as f64).min(1.0)
        }
    };
    let cpu = fraction(requested_after.cpu_millis, allocatable.cpu_millis);
    let memory = fraction(requested_after.memory_bytes, allocatable.memory_bytes);
    ((1.0 - (cpu - memory).abs() / 2.0) * 100.0) as i64
}

pub(crate) fn raw_scores(
    spec: &PodSpec,
    node: &Node,
    state: Option<&InterPodState>,
    fit: i64,
) -> RawScores {
    let requested_after = node.requested() + spec.requests;
    let soft_taints = node
        .taints
        .iter()
        .filter(|t| {
            t.effect == TaintEffect::PreferNoSchedule
                && !spec.tolerations.iter().any(|tol| tol.tolerates(t))
        })
        .count() as i64;
    let node_affinity = spec
        .node_affinity
        .preferred
        .iter()
        .filter(|p| {
            // Kubernetes skips a preference term without expressions.
            !p.preference.match_expressions.is_empty()
                && all_match(&p.preference.match_expressions, &node.labels)
        })
        .map(|p| i64::from(p.weight))
        .sum();
    RawScores {
        fit,
        balanced: balanced_allocation(&node.allocatable, &requested_after),
        untolerated_soft_taints: soft_taints,
        node_affinity,
        spread: state.map_or(0, |s| s.spread_raw(node)),
        inter_pod: state.map_or(0, |s| s.affinity_raw(node)),
    }
}

/// Combines raw scores into final scores with the default profile's normalizations and weights.
pub(crate) fn combine(raw: &[RawScores]) -> Vec<i64> {
    let range = |f: &dyn Fn(&RawScores) -> i64| {
        let values = raw.iter().map(f);
        (values.clone().min().unwrap_or(0), values.max().unwrap_or(0))
    };
    let (_, max_taints) = range(&|r| r.untolerated_soft_taints);
    let (_, max_affinity) = range(&|r| r.node_affinity);
    let (min_spread, max_spread) = range(&|r| r.spread);
    let (min_inter, max_inter) = range(&|r| r.inter_pod);
    raw.iter()
        .map(|r| {
            // TaintToleration: fewer untolerated PreferNoSchedule taints is better.
            let taint = if max_taints == 0 {
                100
            } else {
                100 - r.untolerated_soft_taints * 100 / max_taints
            };
            // NodeAffinity: preferred weights over the best node.
            let affinity = if max_affinity == 0 {
                0
            } else {
                r.node_affinity * 100 / max_affinity
            };
            // PodTopologySpread: fewer matching pods in the node's domains is better.
            // NOTE: kube-scheduler also weights each constraint by its number of domains; this
            // model uses the plain counts.
            let spread = if max_spread == min_spread {
                100
            } else {
                (max_spread - r.spread) * 100 / (max_spread - min_spread)
            };
            // InterPodAffinity: min-max normalized signed weights.
            let inter = if max_inter == min_inter {
                0
            } else {
                (r.inter_pod - min_inter) * 100 / (max_inter - min_inter)
            };
            r.fit + r.balanced + 3 * taint + 2 * affinity + 2 * spread + 2 * inter
        })
        .collect()
}

impl FilterFailure {
    /// Checks whether removing pods from the node can never fix this failure: kube-scheduler's
    /// UnschedulableAndUnresolvable status, on which preemption does not try the node. The
    /// inter-pod cases that are unresolvable are checked by [`InterPodState::unresolvable`].
    pub fn unresolvable(self) -> bool {
        matches!(
            self,
            FilterFailure::NodeUnschedulable
                | FilterFailure::TaintToleration
                | FilterFailure::NodeAffinity
        )
    }
}
