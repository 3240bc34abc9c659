//! Inter-pod constraints in the autoscalers' what-if scheduling: the real cluster's pods plus the
//! pods a simulation has already placed on existing nodes or on nodes it would create.
//!
//! Both Karpenter (`scheduling/topology.go`) and Cluster Autoscaler (its scheduler-framework
//! snapshot) track placements made within one simulation. This tracker covers required pod
//! anti-affinity and DoNotSchedule topology spread on the hostname and zone keys, in both
//! directions (the incoming pod's terms and the placed pods' terms).
//!
//! NOTE: required pod affinity is checked against the real cluster only, not against pods placed
//! earlier in the same simulation; preferred terms and ScheduleAnyway spread are ignored here.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use autoscale_sim_kube::plugins::{InterPodState, node_affinity_matches};
use autoscale_sim_kube::{
    Cluster, LABEL_HOSTNAME, LABEL_ZONE, Node, PodId, PodSpec, WhenUnsatisfiable,
};

/// The domains of a node, real or simulated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Domain {
    /// Hostname label value (a unique name for a simulated node).
    pub hostname: String,
    /// Zone, when known.
    pub zone: Option<String>,
}

impl Domain {
    /// The domains of a real node.
    pub fn of(node: &Node) -> Domain {
        Domain {
            hostname: node
                .labels
                .get(LABEL_HOSTNAME)
                .cloned()
                .unwrap_or_else(|| node.name.clone()),
            zone: Some(node.zone.clone()),
        }
    }

    fn value(&self, key: &str) -> Option<&str> {
        match key {
            LABEL_HOSTNAME => Some(&self.hostname),
            LABEL_ZONE => self.zone.as_deref(),
            _ => None,
        }
    }
}

/// The state of a [`TopologyTracker`] at one moment, to return to with
/// [`TopologyTracker::rollback`].
#[derive(Clone, Copy, Debug)]
pub struct TrackerMark {
    placed: usize,
    placed_with_anti_affinity: usize,
    any_anti_affinity: bool,
}

/// Placements of one simulation on top of the real cluster.
#[derive(Clone)]
pub struct TopologyTracker<'a> {
    cluster: &'a Cluster,
    /// Zones a new node may go to, borrowed because a consolidation pass builds a tracker per
    /// simulation.
    zones: &'a [String],
    placed: Vec<(Domain, Arc<PodSpec>)>,
    /// Indexes into `placed` of the pods with required pod anti-affinity.
    placed_with_anti_affinity: Vec<usize>,
    /// Indexes into `placed` by hostname and by zone, for all pods and for those with required
    /// anti-affinity, so that anti-affinity checks look only at the pods of the same domain.
    by_hostname: BTreeMap<String, Vec<usize>>,
    by_zone: BTreeMap<String, Vec<usize>>,
    anti_by_hostname: BTreeMap<String, Vec<usize>>,
    anti_by_zone: BTreeMap<String, Vec<usize>>,
    real_states: BTreeMap<*const PodSpec, InterPodState>,
    any_anti_affinity: bool,
    /// Real pods that count nowhere, because the simulation is placing them again.
    rescheduled: Vec<PodId>,
    /// `rescheduled` as a set, built the first time a pod with inter-pod constraints needs the
    /// real cluster's state, so a simulation without such pods never builds it.
    rescheduled_set: Option<BTreeSet<PodId>>,
}

/// Placed pods in the same domain as `domain` for a topology key, from indexes by hostname and
/// by zone: the same hostname, or the same zone when both have one; no two pods share a domain
/// of any other key.
fn same_domain<'m>(
    by_hostname: &'m BTreeMap<String, Vec<usize>>,
    by_zone: &'m BTreeMap<String, Vec<usize>>,
    domain: &Domain,
    key: &str,
) -> &'m [usize] {
    let found = match key {
        LABEL_HOSTNAME => by_hostname.get(&domain.hostname),
        LABEL_ZONE => domain.zone.as_ref().and_then(|zone| by_zone.get(zone)),
        _ => None,
    };
    found.map_or(&[], Vec::as_slice)
}

fn selects(
    term_selector: &autoscale_sim_kube::LabelSelector,
    namespaces: &[String],
    owner: &PodSpec,
    other: &PodSpec,
) -> bool {
    let in_namespace = if namespaces.is_empty() {
        other.namespace() == owner.namespace()
    } else {
        namespaces.iter().any(|n| n == other.namespace())
    };
    in_namespace && term_selector.matches(&other.labels)
}

impl<'a> TopologyTracker<'a> {
    /// A tracker over `cluster`, whose new nodes may go to `zones`.
    pub fn new(cluster: &'a Cluster, zones: &'a [String]) -> Self {
        TopologyTracker {
            cluster,
            zones,
            placed: Vec::new(),
            placed_with_anti_affinity: Vec::new(),
            by_hostname: BTreeMap::new(),
            by_zone: BTreeMap::new(),
            anti_by_hostname: BTreeMap::new(),
            anti_by_zone: BTreeMap::new(),
            real_states: BTreeMap::new(),
            any_anti_affinity: cluster.has_required_anti_affinity(),
            rescheduled: Vec::new(),
            rescheduled_set: None,
        }
    }

    /// Creates a tracker over `cluster` in which the real pods `rescheduled` count nowhere, as
    /// Karpenter's topology leaves out the pods its scheduling simulation places
    /// (kubernetes-sigs/karpenter `pkg/controllers/provisioning/scheduling/topology.go`).
    pub fn rescheduling(
        cluster: &'a Cluster,
        zones: &'a [String],
        rescheduled: Vec<PodId>,
    ) -> Self {
        TopologyTracker {
            rescheduled,
            ..TopologyTracker::new(cluster, zones)
        }
    }

    /// Returns the real pods that count nowhere, as given to [`TopologyTracker::rescheduling`].
    pub fn rescheduled(&self) -> &[PodId] {
        &self.rescheduled
    }

    /// Returns the real pods that count nowhere, ending the tracker, so that their list can
    /// be reused.
    pub fn into_rescheduled(self) -> Vec<PodId> {
        self.rescheduled
    }

    /// Checks whether this simulation has placed a pod with required pod anti-affinity.
    pub fn has_placed_anti_affinity(&self) -> bool {
        !self.placed_with_anti_affinity.is_empty()
    }

    /// Checks whether a pod with `spec` needs topology checks at all.
    pub fn constrained(&self, spec: &PodSpec) -> bool {
        self.any_anti_affinity || spec.has_inter_pod_constraints()
    }

    /// Checks the real cluster's inter-pod filters and this simulation's placements for `spec`
    /// on an existing node.
    pub fn allows_existing(&mut self, spec: &Arc<PodSpec>, node: &Node) -> bool {
        if !self.constrained(spec) {
            return true;
        }
        let cluster = self.cluster;
        let rescheduled = &self.rescheduled;
        let rescheduled_set = &mut self.rescheduled_set;
        let state = self
            .real_states
            .entry(Arc::as_ptr(spec))
            .or_insert_with(|| {
                let removed =
                    rescheduled_set.get_or_insert_with(|| rescheduled.iter().copied().collect());
                InterPodState::compute_without(spec, cluster, removed)
            });
        state.filter(node).is_ok() && self.allows_simulated(spec, &Domain::of(node))
    }

    /// Checks this simulation's placements for `spec` in `domain`: anti-affinity both ways, and
    /// DoNotSchedule spread on hostname and zone counting the real and the simulated pods.
    pub fn allows_simulated(&self, spec: &PodSpec, domain: &Domain) -> bool {
        for term in &spec.pod_anti_affinity.required {
            for &index in same_domain(&self.by_hostname, &self.by_zone, domain, &term.topology_key)
            {
                let other = &self.placed[index].1;
                if selects(&term.label_selector, &term.namespaces, spec, other) {
                    return false;
                }
            }
        }
        for key in [LABEL_HOSTNAME, LABEL_ZONE] {
            for &index in same_domain(&self.anti_by_hostname, &self.anti_by_zone, domain, key) {
                let other = &self.placed[index].1;
                for term in &other.pod_anti_affinity.required {
                    if term.topology_key == key
                        && selects(&term.label_selector, &term.namespaces, other, spec)
                    {
                        return false;
                    }
                }
            }
        }
        spec.topology_spread
            .iter()
            .filter(|c| c.when_unsatisfiable == WhenUnsatisfiable::DoNotSchedule)
            .all(|c| {
                let Some(target) = domain.value(&c.topology_key) else {
                    return true;
                };
                let counts = self.spread_counts(spec, c);
                let here = counts.get(target).copied().unwrap_or(0);
                // A new node is a new hostname domain with no pods, so the minimum is 0 there.
                let min = if c.topology_key == LABEL_HOSTNAME {
                    0
                } else {
                    counts.values().copied().min().unwrap_or(0)
                };
                let self_match = i64::from(c.label_selector.matches(&spec.labels));
                here + self_match - min <= i64::from(c.max_skew)
            })
    }

    /// Picks the zone for a new node holding `spec`: the allowed zone with the fewest matching
    /// pods for its zone spread constraints, or `None` when the pod has none.
    pub fn zone_for_new_node(&self, spec: &PodSpec, allowed: &[String]) -> Option<String> {
        let constraint = spec.topology_spread.iter().find(|c| {
            c.topology_key == LABEL_ZONE && c.when_unsatisfiable == WhenUnsatisfiable::DoNotSchedule
        })?;
        let counts = self.spread_counts(spec, constraint);
        allowed
            .iter()
            .min_by_key(|z| counts.get(*z).copied().unwrap_or(0))
            .cloned()
    }

    /// Matching pods per domain of `constraint`: real bound pods on nodes the pod could use, plus
    /// this simulation's placements. Zones without pods count as 0.
    fn spread_counts(
        &self,
        spec: &PodSpec,
        constraint: &autoscale_sim_kube::TopologySpreadConstraint,
    ) -> BTreeMap<String, i64> {
        let mut counts: BTreeMap<String, i64> = BTreeMap::new();
        if constraint.topology_key == LABEL_ZONE {
            for zone in self.zones {
                counts.insert(zone.clone(), 0);
            }
        }
        let matches = |other: &PodSpec| {
            other.namespace() == spec.namespace()
                && constraint.label_selector.matches(&other.labels)
        };
        for pod in self.cluster.pods() {
            let Some(node) = pod.node.and_then(|id| self.cluster.node(id)) else {
                continue;
            };
            if !node_affinity_matches(spec, &node.labels) || !matches(&pod.spec) {
                continue;
            }
            if let Some(value) = Domain::of(node).value(&constraint.topology_key) {
                *counts.entry(value.to_string()).or_insert(0) += 1;
            }
        }
        for (domain, other) in &self.placed {
            if matches(other)
                && let Some(value) = domain.value(&constraint.topology_key)
            {
                *counts.entry(value.to_string()).or_insert(0) += 1;
            }
        }
        counts
    }

    /// Returns a mark of the placements so far, for [`TopologyTracker::rollback`].
    pub fn mark(&self) -> TrackerMark {
        TrackerMark {
            placed: self.placed.len(),
            placed_with_anti_affinity: self.placed_with_anti_affinity.len(),
            any_anti_affinity: self.any_anti_affinity,
        }
    }

    /// Forgets the placements made since `mark`, so that a failed what-if leaves no trace
    /// without cloning the tracker.
    pub fn rollback(&mut self, mark: TrackerMark) {
        while self.placed.len() > mark.placed {
            let (domain, spec) = self.placed.pop().expect("more placements than the mark");
            let anti = !spec.pod_anti_affinity.required.is_empty();
            let unindex = |map: &mut BTreeMap<String, Vec<usize>>, key: &String| {
                if let Some(list) = map.get_mut(key) {
                    list.pop();
                    if list.is_empty() {
                        map.remove(key);
                    }
                }
            };
            unindex(&mut self.by_hostname, &domain.hostname);
            if anti {
                unindex(&mut self.anti_by_hostname, &domain.hostname);
            }
            if let Some(zone) = &domain.zone {
                unindex(&mut self.by_zone, zone);
                if anti {
                    unindex(&mut self.anti_by_zone, zone);
                }
            }
        }
        self.placed_with_anti_affinity
            .truncate(mark.placed_with_anti_affinity);
        self.any_anti_affinity = mark.any_anti_affinity;
    }

    /// Records that the simulation placed `spec` in `domain`.
    pub fn place(&mut self, spec: &Arc<PodSpec>, domain: Domain) {
        let index = self.placed.len();
        let anti = !spec.pod_anti_affinity.required.is_empty();
        if anti {
            self.any_anti_affinity = true;
            self.placed_with_anti_affinity.push(index);
        }
        let add = |map: &mut BTreeMap<String, Vec<usize>>, key: &String| {
            map.entry(key.clone()).or_default().push(index);
        };
        add(&mut self.by_hostname, &domain.hostname);
        if anti {
            add(&mut self.anti_by_hostname, &domain.hostname);
        }
        if let Some(zone) = &domain.zone {
            add(&mut self.by_zone, zone);
            if anti {
                add(&mut self.anti_by_zone, zone);
            }
        }
        self.placed.push((domain, spec.clone()));
    }
}
