//! Priority preemption, as kube-scheduler's DefaultPreemption PostFilter plugin does it
//! (kubernetes/kubernetes `pkg/scheduler/framework/plugins/defaultpreemption/default_preemption.go`
//! and `pkg/scheduler/framework/preemption/preemption.go`, master of 2026).
//!
//! When a pod passes the filters on no node, the plugin looks for nodes where removing pods of
//! lower priority would let it pass. On each such node it reprieves as many of those pods as it
//! can, most important first and pods whose PodDisruptionBudget would be violated before the
//! others. It then chooses one node by a fixed ordering, deletes that node's victims with their
//! grace period and sets the pod's `nominatedNodeName`. The pod stays Pending until the victims
//! are gone.
//!
//! NOTE: kube-scheduler starts the dry run at a random node offset and breaks the last tie
//! between candidate nodes by Go map order. This model starts at the first node and takes the
//! first candidate in node order, so that runs are reproducible without a random stream.

use std::cmp::Reverse;
use std::collections::BTreeSet;

use autoscale_sim_cloud::Resources;
use autoscale_sim_engine::SimTime;

use crate::cluster::Cluster;
use crate::objects::{Node, NodeId, Pod, PodId, PodSpec, PreemptionPolicy};
use crate::plugins::{InterPodState, filter_node, filter_node_without};

/// `minCandidateNodesPercentage` of DefaultPreemptionArgs (kube-scheduler default 10).
const MIN_CANDIDATE_NODES_PERCENTAGE: usize = 10;
/// `minCandidateNodesAbsolute` of DefaultPreemptionArgs (kube-scheduler default 100).
const MIN_CANDIDATE_NODES_ABSOLUTE: usize = 100;

/// A preemption kube-scheduler carried out: the preemptor is nominated to `node` and the
/// victims were set terminating.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Preemption {
    /// The pod that preempted.
    pub preemptor: PodId,
    /// The node it is nominated to.
    pub node: NodeId,
    /// Victims, most important first, including any that were already terminating.
    pub victims: Vec<PodId>,
    /// Victims whose termination this preemption started, in `victims` order.
    pub newly_terminating: Vec<PodId>,
}

/// Outcome of the PostFilter step for one pod that passed no node's filters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PostFilterOutcome {
    /// The pod preempted pods on a node and is nominated to it.
    Preempted(Preemption),
    /// The pod may not preempt: `preemptionPolicy: Never`, or victims of its earlier preemption
    /// are still terminating on its nominated node.
    NotEligible,
    /// No node would fit the pod with lower-priority pods removed; any nomination is cleared.
    NoCandidate,
}

/// The victims chosen on one candidate node.
#[derive(Clone, Debug)]
struct Candidate {
    node: NodeId,
    /// Most important first.
    victims: Vec<PodId>,
    pdb_violations: usize,
}

/// Orders pods as kube-scheduler's `MoreImportantPod`: higher priority first, then the earlier
/// start time; the pod id breaks the remaining ties.
fn importance_key(pod: &Pod) -> (Reverse<i32>, SimTime, PodId) {
    (Reverse(pod.spec.priority), pod.start_time(), pod.id)
}

/// Inputs shared by every dry-run check of one preemptor.
struct DryRun<'a> {
    cluster: &'a Cluster,
    pod: &'a Pod,
    /// Whether the inter-pod filters apply to this pod.
    inter_pod: bool,
}

impl DryRun<'_> {
    fn spec(&self) -> &PodSpec {
        &self.pod.spec
    }

    /// Runs every filter on `node` as if the pods in `removed` were gone, with the requests of
    /// higher- or equal-priority pods nominated to the node reserved.
    fn fits_without(&self, node: &Node, removed: &BTreeSet<PodId>) -> bool {
        let freed: Resources = removed
            .iter()
            .filter_map(|id| self.cluster.pod(*id))
            .map(|p| p.spec.requests)
            .sum();
        let reserved = self
            .cluster
            .nominated_requests(node.id, self.spec().priority, self.pod.id);
        let free = node.free() + freed - reserved;
        if filter_node_without(self.spec(), node, &free, self.cluster, removed).is_err() {
            return false;
        }
        !self.inter_pod
            || InterPodState::compute_without(self.spec(), self.cluster, removed)
                .filter(node)
                .is_ok()
    }

    /// Checks whether the filters reject the pod on `node` with a status that removing pods
    /// could fix (Unschedulable, not UnschedulableAndUnresolvable). As kube-scheduler runs the
    /// filter plugins in order and keeps the first failure, only that failure decides.
    fn resolvable_failure(&self, node: &Node, state: Option<&InterPodState>) -> bool {
        let reserved = self
            .cluster
            .nominated_requests(node.id, self.spec().priority, self.pod.id);
        let free = node.free() - reserved;
        match filter_node(self.spec(), node, &free, self.cluster) {
            Err(failure) => !failure.unresolvable(),
            Ok(()) => state.is_some_and(|s| s.filter(node).is_err() && !s.unresolvable(node)),
        }
    }

    /// kube-scheduler's `SelectVictimsOnNode`: removes every lower-priority pod, checks that the
    /// pod then fits, and adds pods back, most important first and PDB-violating ones before the
    /// others, keeping each that still lets the pod fit.
    /// NOTE: DaemonSet pods are node overhead in this model, so they are never victims, where
    /// kube-scheduler may preempt a DaemonSet pod of lower priority.
    fn select_victims(&self, node: &Node, pdb_allowed: &[(usize, i64)]) -> Option<Candidate> {
        let priority = self.spec().priority;
        let mut potential: Vec<&Pod> = node
            .pods
            .iter()
            .filter_map(|id| self.cluster.pod(*id))
            .filter(|p| p.spec.priority < priority)
            .collect();
        if potential.is_empty() {
            return None;
        }
        let mut removed: BTreeSet<PodId> = potential.iter().map(|p| p.id).collect();
        if !self.fits_without(node, &removed) {
            return None;
        }
        potential.sort_by_key(|p| importance_key(p));

        // Split by PodDisruptionBudget, as filterPodsWithPDBViolation does: each covered pod
        // uses one of its budget's allowed disruptions, and a pod that takes a budget below
        // zero would violate it.
        let mut allowed: Vec<i64> = pdb_allowed.iter().map(|(_, a)| *a).collect();
        let (mut violating, mut non_violating) = (Vec::new(), Vec::new());
        for pod in potential {
            let mut violates = false;
            for (slot, (pdb_index, _)) in pdb_allowed.iter().enumerate() {
                if preemption_pdb_matches(self.cluster, *pdb_index, pod) {
                    allowed[slot] -= 1;
                    violates |= allowed[slot] < 0;
                }
            }
            if violates {
                violating.push(pod);
            } else {
                non_violating.push(pod);
            }
        }

        // Reprieve.
        let mixed = !violating.is_empty() && !non_violating.is_empty();
        let mut victims: Vec<&Pod> = Vec::new();
        let mut pdb_violations = 0;
        for (pod, violates) in violating
            .into_iter()
            .map(|p| (p, true))
            .chain(non_violating.into_iter().map(|p| (p, false)))
        {
            removed.remove(&pod.id);
            if !self.fits_without(node, &removed) {
                removed.insert(pod.id);
                victims.push(pod);
                pdb_violations += usize::from(violates);
            }
        }
        if mixed {
            victims.sort_by_key(|p| importance_key(p));
        }
        if victims.is_empty() {
            return None;
        }
        Some(Candidate {
            node: node.id,
            victims: victims.iter().map(|p| p.id).collect(),
            pdb_violations,
        })
    }
}

/// Checks whether PodDisruptionBudget `index` counts `pod` in preemption: same namespace and a
/// selector that matches its labels. Unlike the Eviction API, preemption treats an empty
/// selector as matching no pod, and a pod without labels matches no budget.
/// NOTE: a budget's `status.disruptedPods` (evictions admitted but not yet carried out) is not
/// tracked, so such pods use an allowed disruption again here.
fn preemption_pdb_matches(cluster: &Cluster, index: usize, pod: &Pod) -> bool {
    let pdb = &cluster.pdbs()[index];
    let selector_empty =
        pdb.selector.match_labels.is_empty() && pdb.selector.match_expressions.is_empty();
    !pod.spec.labels.is_empty() && !selector_empty && pdb.covers(&pod.spec)
}

/// Number of candidate nodes the dry run looks for (`calculateNumCandidates`): 10 % of the
/// potential nodes, at least 100, at most all of them.
pub fn candidates_to_find(potential_nodes: usize) -> usize {
    (potential_nodes * MIN_CANDIDATE_NODES_PERCENTAGE / 100)
        .max(MIN_CANDIDATE_NODES_ABSOLUTE)
        .min(potential_nodes)
}

/// Picks the candidate node as `pickOneNodeForPreemption` does: fewest PodDisruptionBudget
/// violations, then the lowest highest-priority victim, the smallest sum of victim priorities,
/// the fewest victims, and the latest start among the highest-priority victims. The first
/// candidate in list order wins the remaining ties.
fn pick_candidate<'c>(cluster: &Cluster, candidates: &'c [Candidate]) -> Option<&'c Candidate> {
    let key = |c: &Candidate| {
        let victims: Vec<&Pod> = c.victims.iter().filter_map(|id| cluster.pod(*id)).collect();
        let highest = victims.first().map_or(i32::MIN, |p| p.spec.priority);
        // kube-scheduler adds MaxInt32 + 1 to each priority so that every term is positive.
        let sum: i64 = victims
            .iter()
            .map(|p| i64::from(p.spec.priority) + i64::from(i32::MAX) + 1)
            .sum();
        let earliest_start = victims
            .iter()
            .filter(|p| p.spec.priority == highest)
            .map(|p| p.start_time())
            .min();
        (
            c.pdb_violations,
            highest,
            sum,
            victims.len(),
            Reverse(earliest_start),
        )
    };
    candidates
        .iter()
        .enumerate()
        .min_by_key(|(index, c)| (key(c), *index))
        .map(|(_, c)| c)
}

/// Runs DefaultPreemption's PostFilter for the Pending pod `pod_id`, which passed no node's
/// filters, and carries out the preemption it decides: victims start terminating, lower-priority
/// pods nominated to the node lose their nomination, and the pod is nominated to the node.
pub fn preempt(cluster: &mut Cluster, pod_id: PodId, now: SimTime) -> PostFilterOutcome {
    let Some(pod) = cluster.pod(pod_id) else {
        return PostFilterOutcome::NoCandidate;
    };
    let spec = pod.spec.clone();

    // Eligibility (PodEligibleToPreemptOthers).
    if spec.preemption_policy == PreemptionPolicy::Never {
        return PostFilterOutcome::NotEligible;
    }
    let inter_pod = spec.has_inter_pod_constraints() || cluster.has_required_anti_affinity();
    let state = inter_pod.then(|| InterPodState::compute(&spec, cluster));
    let dry_run = DryRun {
        cluster,
        pod,
        inter_pod,
    };
    if let Some(nominated) = pod.nominated_node.and_then(|id| cluster.node(id)) {
        let unresolvable = {
            let free =
                nominated.free() - cluster.nominated_requests(nominated.id, spec.priority, pod_id);
            match filter_node(&spec, nominated, &free, cluster) {
                Err(failure) => failure.unresolvable(),
                Ok(()) => state.as_ref().is_some_and(|s| s.unresolvable(nominated)),
            }
        };
        let victims_leaving = nominated
            .pods
            .iter()
            .filter_map(|id| cluster.pod(*id))
            .any(|p| p.preempted && p.spec.priority < spec.priority);
        if !unresolvable && victims_leaving {
            return PostFilterOutcome::NotEligible;
        }
    }

    // With no pod of lower priority anywhere, no node has victims: skip the scan.
    if !cluster.may_hold_priority_below(spec.priority) {
        cluster.nominate(pod_id, None);
        return PostFilterOutcome::NoCandidate;
    }

    // Candidates (findCandidates, DryRunPreemption).
    let potential: Vec<&Node> = cluster
        .nodes()
        .filter(|node| dry_run.resolvable_failure(node, state.as_ref()))
        .collect();
    let candidate_target = candidates_to_find(potential.len());
    let pdb_allowed: Vec<(usize, i64)> = cluster
        .disruptions_allowed()
        .into_iter()
        .enumerate()
        .collect();
    let (mut non_violating, mut violating) = (Vec::new(), Vec::new());
    for node in potential {
        let Some(candidate) = dry_run.select_victims(node, &pdb_allowed) else {
            continue;
        };
        if candidate.pdb_violations == 0 {
            non_violating.push(candidate);
        } else {
            violating.push(candidate);
        }
        if !non_violating.is_empty() && non_violating.len() + violating.len() >= candidate_target {
            break;
        }
    }
    non_violating.extend(violating);
    let candidates = non_violating;

    // Selection (SelectCandidate).
    let Some(best) = pick_candidate(cluster, &candidates).cloned() else {
        cluster.nominate(pod_id, None);
        return PostFilterOutcome::NoCandidate;
    };

    // Preparation (prepareCandidate): delete the victims not already being deleted, clear the
    // nominations of lower-priority pods to the node, and nominate the preemptor.
    let mut newly_terminating = Vec::new();
    for victim in &best.victims {
        let already = cluster
            .pod(*victim)
            .is_some_and(|p| p.phase == crate::objects::PodPhase::Terminating);
        if !already {
            cluster.begin_preemption(*victim, now);
            newly_terminating.push(*victim);
        }
    }
    let lower: Vec<PodId> = cluster
        .nominated_on(best.node)
        .filter(|p| p.spec.priority < spec.priority)
        .map(|p| p.id)
        .collect();
    for other in lower {
        cluster.nominate(other, None);
    }
    cluster.nominate(pod_id, Some(best.node));
    PostFilterOutcome::Preempted(Preemption {
        preemptor: pod_id,
        node: best.node,
        victims: best.victims,
        newly_terminating,
    })
}
