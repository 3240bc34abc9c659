//! The filter and score plugins of kube-scheduler's default profile, as far as this model goes.
//!
//! Filters: NodeUnschedulable, TaintToleration, NodeAffinity (node selector and required
//! terms), NodePorts, NodeResourcesFit, PodTopologySpread and InterPodAffinity. Scores, with the
//! default profile's weights: NodeResourcesFit (1), NodeResourcesBalancedAllocation (1),
//! TaintToleration (3), NodeAffinity (2), PodTopologySpread (2) and InterPodAffinity (2).
//!
//! NOTE: the default profile's volume plugins (VolumeBinding, VolumeRestrictions, VolumeZone,
//! the CSI and EBS limits) and the ImageLocality score are not modelled, because pods here have
//! no persistent volumes or images.

use std::collections::{BTreeMap, BTreeSet};

use autoscale_sim_cloud::Resources;

use crate::cluster::Cluster;
use crate::constraints::{PodAffinityTerm, TopologySpreadConstraint, WhenUnsatisfiable};
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
    /// Whether the spread constraints are kube-scheduler's system defaults rather than the
    /// pod's own, in which case scoring ignores no node for lacking a topology key.
    system_defaulted: bool,
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
        Self::compute_with(spec, cluster, removed, &spec.topology_spread)
    }

    /// Scans the cluster for a pod that kube-scheduler is placing: as [`InterPodState::compute`]
    /// does, with the system default spread constraints (see [`system_default_spread`]) when
    /// the pod has none of its own and a ReplicaSet or StatefulSet owns it (`replicated`).
    pub fn compute_for_scheduling(
        spec: &PodSpec,
        cluster: &Cluster,
        replicated: bool,
    ) -> InterPodState {
        let defaults = if replicated && spec.topology_spread.is_empty() {
            system_default_spread(spec)
        } else {
            Vec::new()
        };
        if defaults.is_empty() {
            return Self::compute(spec, cluster);
        }
        let mut state = Self::compute_with(spec, cluster, &BTreeSet::new(), &defaults);
        state.system_defaulted = true;
        state
    }

    fn compute_with(
        spec: &PodSpec,
        cluster: &Cluster,
        removed: &BTreeSet<PodId>,
        constraints: &[TopologySpreadConstraint],
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
                    && constraints
                        .iter()
                        .all(|c| n.labels.contains_key(&c.topology_key))
            })
            .collect();
        for constraint in constraints {
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

    /// Raw PodTopologySpread scores of the `feasible` nodes for the ScheduleAnyway constraints,
    /// as kube-scheduler's Score computes them (lower is better). Each constraint adds
    /// `matching pods in the node's domain × ln(domains + 2) + maxSkew − 1`, where `domains`
    /// counts the feasible nodes' domains (for the hostname key, the feasible nodes), and the
    /// sum is rounded. A node lacking a constraint's key is ignored (`None`) unless the
    /// constraints are the system defaults. Without ScheduleAnyway constraints the plugin is
    /// skipped and every node gets `None`.
    pub fn spread_scores(&self, feasible: &[&Node]) -> Vec<Option<i64>> {
        let soft: Vec<&Spread> = self.spreads.iter().filter(|s| !s.hard).collect();
        if soft.is_empty() {
            return vec![None; feasible.len()];
        }
        let ignored = |node: &Node| {
            !self.system_defaulted && soft.iter().any(|s| !node.labels.contains_key(&s.key))
        };
        let scored: Vec<&Node> = feasible.iter().copied().filter(|n| !ignored(n)).collect();
        let weights: Vec<f64> = soft
            .iter()
            .map(|spread| {
                let domains = if spread.key == crate::objects::LABEL_HOSTNAME {
                    scored.len()
                } else {
                    scored
                        .iter()
                        .filter_map(|n| n.labels.get(&spread.key))
                        .collect::<BTreeSet<_>>()
                        .len()
                };
                ((domains + 2) as f64).ln()
            })
            .collect();
        feasible
            .iter()
            .map(|node| {
                if ignored(node) {
                    return None;
                }
                let score: f64 = soft
                    .iter()
                    .zip(&weights)
                    .filter_map(|(spread, weight)| {
                        let domain = node.labels.get(&spread.key)?;
                        let count = spread.counts.get(domain).copied().unwrap_or(0);
                        Some(count as f64 * weight + (spread.max_skew - 1) as f64)
                    })
                    .sum();
                Some(score.round() as i64)
            })
            .collect()
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
    /// PodTopologySpread's raw score; `None` for a node the plugin ignores or skips.
    pub spread: Option<i64>,
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
        spread: None,
        inter_pod: state.map_or(0, |s| s.affinity_raw(node)),
    }
}

/// Normalizes a PodTopologySpread raw score as the plugin's NormalizeScore does: an ignored or
/// skipped node gets 0, every node gets 100 when the highest score is 0, and otherwise
/// `100 × (max + min − score) / max`, so fewer matching pods is better.
pub fn normalize_spread(score: Option<i64>, min: i64, max: i64) -> i64 {
    match score {
        None => 0,
        Some(_) if max == 0 => 100,
        Some(score) => 100 * (max + min - score) / max,
    }
}

/// kube-scheduler's system default spread constraints (`defaultingType: System`): ScheduleAnyway
/// on the hostname with maxSkew 3 and on the zone with maxSkew 5, over the pods that the pod's
/// controller selects. None when the pod has no labels.
/// NOTE: kube-scheduler takes the selector of the Services, ReplicaSets and StatefulSets that
/// select the pod. This model takes the pod template's labels, which a ReplicaSet's selector
/// usually equals.
pub fn system_default_spread(spec: &PodSpec) -> Vec<TopologySpreadConstraint> {
    if spec.labels.is_empty() {
        return Vec::new();
    }
    let selector = crate::selector::LabelSelector {
        match_labels: spec.labels.clone(),
        match_expressions: Vec::new(),
    };
    [
        (crate::objects::LABEL_HOSTNAME, 3),
        (crate::objects::LABEL_ZONE, 5),
    ]
    .into_iter()
    .map(|(key, max_skew)| TopologySpreadConstraint {
        max_skew,
        topology_key: key.to_string(),
        when_unsatisfiable: WhenUnsatisfiable::ScheduleAnyway,
        label_selector: selector.clone(),
        min_domains: None,
    })
    .collect()
}

/// Combines raw scores into final scores with the default profile's normalizations and weights.
/// Returns the index of the highest score, or of the first of equal highest ones, and `None`
/// for no nodes.
pub(crate) fn best_scored(raw: &[RawScores]) -> Option<usize> {
    // The ranges of the raw scores, in one pass. Each range is that of the nodes' values, or
    // for PodTopologySpread (0, 0) when no node is scored.
    let first = raw.first()?;
    let mut max_taints = first.untolerated_soft_taints;
    let mut max_affinity = first.node_affinity;
    let mut spread_range: Option<(i64, i64)> = None;
    let (mut min_inter, mut max_inter) = (first.inter_pod, first.inter_pod);
    // The first node with the highest NodeResourcesFit plus BalancedAllocation score, the best
    // node when the other scores are the same on every node.
    let mut best_fit_and_balance = (0, first.fit + first.balanced);
    for (index, r) in raw.iter().enumerate() {
        let fit_and_balance = r.fit + r.balanced;
        if fit_and_balance > best_fit_and_balance.1 {
            best_fit_and_balance = (index, fit_and_balance);
        }
        max_taints = max_taints.max(r.untolerated_soft_taints);
        max_affinity = max_affinity.max(r.node_affinity);
        if let Some(spread) = r.spread {
            spread_range = Some(match spread_range {
                None => (spread, spread),
                Some((min, max)) => (min.min(spread), max.max(spread)),
            });
        }
        min_inter = min_inter.min(r.inter_pod);
        max_inter = max_inter.max(r.inter_pod);
    }
    // With no untolerated soft taint, no preferred node affinity, no spread score and one
    // inter-pod score on every node, the normalized scores below are the same on every node,
    // so the totals differ only in fit plus balance.
    if max_taints == 0 && max_affinity == 0 && spread_range.is_none() && min_inter == max_inter {
        return Some(best_fit_and_balance.0);
    }
    let (min_spread, max_spread) = spread_range.unwrap_or((0, 0));
    let total = |r: &RawScores| {
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
        let spread = normalize_spread(r.spread, min_spread, max_spread);
        // InterPodAffinity: min-max normalized signed weights.
        let inter = if max_inter == min_inter {
            0
        } else {
            (r.inter_pod - min_inter) * 100 / (max_inter - min_inter)
        };
        r.fit + r.balanced + 3 * taint + 2 * affinity + 2 * spread + 2 * inter
    };

    // Only a strictly higher total replaces the best so far, so ties go to the first node.
    let mut best = (0, total(first));
    for (index, r) in raw.iter().enumerate().skip(1) {
        let score = total(r);
        if score > best.1 {
            best = (index, score);
        }
    }
    Some(best.0)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(fit: i64, balanced: i64, soft_taints: i64) -> RawScores {
        RawScores {
            fit,
            balanced,
            untolerated_soft_taints: soft_taints,
            ..Default::default()
        }
    }

    #[test]
    fn best_scored_by_fit_and_balance() {
        let scores = [
            raw(50, 90, 0),
            raw(60, 80, 0),
            raw(70, 90, 0),
            raw(80, 80, 0),
        ];
        // Nodes 2 and 3 tie at 160, and a tie goes to the first.
        assert_eq!(best_scored(&scores), Some(2));
        assert_eq!(best_scored(&[]), None);
    }

    #[test]
    fn best_scored_normalizes_other_scores() {
        // Node 1 leads in fit, but its soft taint costs it 3 × 100 after normalization.
        let scores = [raw(50, 90, 0), raw(90, 90, 1)];
        assert_eq!(best_scored(&scores), Some(0));

        let spread = |score| RawScores {
            spread: Some(score),
            ..raw(50, 90, 0)
        };
        // With equal fit and balance, the node with fewer matching pods wins on spread.
        assert_eq!(best_scored(&[spread(4), spread(1)]), Some(1));
    }
}
