//! Disruption: Emptiness and single-node consolidation with budgets and validation
//! (`pkg/controllers/disruption/`).

use std::collections::{BTreeMap, BTreeSet};

use autoscale_sim_cloud::Price;
use autoscale_sim_engine::{SimDuration, SimTime};
use autoscale_sim_kube::{CapacityType, Node, NodeId, NodeState, PodPhase};

use super::scheduling::{SimNode, SimPod, any_host_ports, solve, sort_nodes};
use super::{ConsolidationPolicy, Karpenter, TIMER_VALIDATION, token};
use crate::api::{Actions, ClusterView, DisruptionReason, LaunchRequest};
use crate::topology::TopologyTracker;

/// `expireAfter` default, which scales the disruption cost by the node's remaining lifetime.
const EXPIRE_AFTER: SimDuration = SimDuration::from_hours(720);

/// Longest time the "consolidated" state lasts before the cluster is evaluated again anyway.
const CONSOLIDATION_RECHECK: SimDuration = SimDuration::from_mins(5);

/// Cheaper instance types a single-node spot-to-spot replacement needs
/// (`MinInstanceTypesForSpotToSpotConsolidation`).
const MIN_SPOT_TO_SPOT_TYPES: usize = 15;

/// The disruption method that produced a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    Emptiness,
    SingleNode,
}

/// A replacement NodeClaim: a pool and the price-ordered options cheaper than the candidates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Replacement {
    pub pool: usize,
    pub options: Vec<usize>,
    pub zone: Option<String>,
    /// Capacity type the replacement must launch as.
    pub capacity_type: CapacityType,
}

/// A disruption decision waiting for validation or for its replacement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Command {
    pub method: Method,
    pub candidates: Vec<NodeId>,
    pub replacement: Option<Replacement>,
    pub candidate_price: Price,
}

/// Per-node facts about pods that the disruption methods use. One sweep over the cluster's pods
/// per pass gathers them, instead of one lookup per node and method.
struct PodFacts {
    by_node: BTreeMap<NodeId, NodePodFacts>,
}

#[derive(Clone, Copy)]
struct NodePodFacts {
    /// Some pod on the node is not terminating.
    active: bool,
    /// No active pod carries `karpenter.sh/do-not-disrupt` or is protected by a
    /// PodDisruptionBudget that refuses its eviction (`ValidatePodsDisruptable`).
    disruptable: bool,
    /// Sum of the eviction costs of all pods bound to the node, terminating ones included.
    eviction_cost: f64,
}

impl PodFacts {
    fn gather(view: &ClusterView<'_>) -> PodFacts {
        // The value `Iterator::sum` starts from, so that the sums equal summing each node's pods.
        let zero: f64 = std::iter::empty::<f64>().sum();
        let none = NodePodFacts {
            active: false,
            disruptable: true,
            eviction_cost: zero,
        };
        let mut by_node: BTreeMap<NodeId, NodePodFacts> =
            view.cluster.nodes().map(|n| (n.id, none)).collect();
        let allowed = view.cluster.disruptions_allowed();
        let eviction_allowed = |spec: &autoscale_sim_kube::PodSpec| {
            let covering = view.cluster.pdbs_covering(spec);
            match covering.as_slice() {
                [] => true,
                [index] => allowed[*index] >= 1,
                _ => false,
            }
        };
        // Pods in id order, so each node's costs are added in the order of its pod set.
        for pod in view.cluster.pods() {
            let Some(facts) = pod.node.and_then(|id| by_node.get_mut(&id)) else {
                continue;
            };
            facts.eviction_cost += pod_eviction_cost(pod.spec.priority);
            if pod.phase != PodPhase::Terminating {
                facts.active = true;
                if facts.disruptable && (pod.spec.do_not_disrupt || !eviction_allowed(&pod.spec)) {
                    facts.disruptable = false;
                }
            }
        }
        PodFacts { by_node }
    }

    fn of(&self, node: &Node) -> NodePodFacts {
        self.by_node[&node.id]
    }

    /// Checks whether a node has no reschedulable pods: terminating pods do not count (DaemonSet
    /// pods are node overhead here and never count).
    fn is_empty(&self, node: &Node) -> bool {
        !self.of(node).active
    }

    /// Disruption cost of a node: the pods' eviction costs times the share of the node's
    /// lifetime left before `expireAfter` (`pkg/utils/disruption/disruption.go`). Lower costs
    /// are disrupted first.
    fn disruption_cost(&self, node: &Node, view: &ClusterView<'_>) -> f64 {
        let age = view.now.since(node.launched_at).as_millis() as f64;
        let lifetime_remaining = ((EXPIRE_AFTER.as_millis() as f64 - age)
            / EXPIRE_AFTER.as_millis() as f64)
            .clamp(0.0, 1.0);
        self.of(node).eviction_cost * lifetime_remaining
    }
}

/// Returns a pod's eviction cost: 1 + priority / 2^25, clamped to [-10, 10].
fn pod_eviction_cost(priority: i32) -> f64 {
    (1.0 + f64::from(priority) / 2f64.powi(25)).clamp(-10.0, 10.0)
}

/// Starting state shared by the consolidation simulations of one pass: the destination nodes in
/// the simulation's order, the pods already waiting, and the NodePools' remaining limits.
pub(super) struct ConsolidationBase<'v> {
    nodes: Vec<SimNode<'v>>,
    pending: Vec<SimPod>,
    limits: Vec<Option<autoscale_sim_cloud::Resources>>,
}

impl<'v> ConsolidationBase<'v> {
    fn new(karpenter: &Karpenter, view: &ClusterView<'v>, ports: bool) -> Self {
        ConsolidationBase {
            nodes: karpenter.destination_nodes(view, ports),
            pending: view
                .cluster
                .pending_pods()
                .filter(|p| p.unschedulable && !p.is_preempting())
                .map(|p| SimPod {
                    id: p.id,
                    spec: p.spec.clone(),
                    created: p.created,
                })
                .collect(),
            limits: karpenter.remaining_limits(view),
        }
    }
}

/// Sorts nodes by disruption cost, cheapest first, ties by id; each cost is computed once.
fn sort_by_disruption_cost(nodes: &mut Vec<&Node>, view: &ClusterView<'_>, facts: &PodFacts) {
    let mut keyed: Vec<(f64, &Node)> = nodes
        .iter()
        .map(|n| (facts.disruption_cost(n, view), *n))
        .collect();
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.id.cmp(&b.1.id)));
    nodes.clear();
    nodes.extend(keyed.into_iter().map(|(_, n)| n));
}

impl Karpenter {
    /// One pass of the disruption controller: the first method that finds a command wins.
    pub(super) fn disrupt(&mut self, view: &ClusterView<'_>, actions: &mut Actions) {
        // The pod controller re-triggers provisioning every 10 s while pods stay Unschedulable.
        if self.batch_idle.is_none() && view.cluster.pending_pods().any(|p| p.unschedulable) {
            self.trigger_batch(view, actions);
        }
        self.nominated_until.retain(|_, until| *until > view.now);

        // The "consolidated" short-circuit (`state/cluster.go`): skip the methods while nothing
        // changed since a pass found nothing to do, until the 5-minute forced re-check or until
        // a node's consolidateAfter runs out (its Consolidatable condition flips).
        let unchanged = self.consolidated.is_some_and(|(generation, until)| {
            generation == view.cluster.generation() && view.now < until
        });
        if self.pending_command.is_none() && !unchanged {
            let facts = PodFacts::gather(view);
            let command = self
                .emptiness(view, &facts)
                .or_else(|| self.single_node_consolidation(view, &facts));
            if let Some(command) = command {
                self.consolidated = None;
                self.pending_command = Some(command);
                self.validation_generation += 1;
                actions.set_timer(
                    view.now + self.config.validation_delay,
                    token(TIMER_VALIDATION, self.validation_generation),
                );
                return;
            }
            // A pass held back by a budget does not count as consolidated, so it retries.
            let budget_blocked = self.available_budgets(view).contains(&0);
            self.consolidated =
                (!budget_blocked).then(|| (view.cluster.generation(), self.recheck_time(view)));
        }
        self.arm_disruption(view.now + self.config.disruption_poll_period, actions);
    }

    /// When a consolidated cluster must be looked at again: after the forced re-check period, or
    /// when the next node leaves its consolidateAfter window, whichever is sooner.
    fn recheck_time(&self, view: &ClusterView<'_>) -> SimTime {
        let pools = self.pools.as_ref().expect("pools resolved");
        let next_eligible = view
            .cluster
            .nodes()
            .filter_map(|n| {
                let pool = &pools[self.pool_index(&n.owner)?].config;
                let at = n.last_pod_event + pool.consolidate_after?;
                (at > view.now).then_some(at)
            })
            .min();
        let forced = view.now + CONSOLIDATION_RECHECK;
        next_eligible.map_or(forced, |at| at.min(forced))
    }

    /// Checks whether `node` may be disrupted gracefully now (`NewCandidate`, `ShouldDisrupt`).
    fn is_candidate(&self, node: &Node, view: &ClusterView<'_>, facts: &PodFacts) -> bool {
        let Some(pool) = self.pool_index(&node.owner) else {
            return false;
        };
        let pool = &self.pools.as_ref().expect("pools resolved")[pool].config;
        let Some(consolidate_after) = pool.consolidate_after else {
            return false;
        };
        node.state == NodeState::Ready
            && !node.cordoned
            && !self.disrupting.contains(&node.id)
            && self
                .nominated_until
                .get(&node.id)
                .is_none_or(|until| *until <= view.now)
            && view.now.since(node.last_pod_event) >= consolidate_after
            && facts.of(node).disruptable
    }

    /// Nodes each pool may still disrupt: the smallest budget allowance over the pool's
    /// initialized nodes, minus its nodes already being disrupted.
    fn available_budgets(&self, view: &ClusterView<'_>) -> Vec<u32> {
        let pools = self.pools.as_ref().expect("pools resolved");
        pools
            .iter()
            .map(|pool| {
                let nodes: Vec<&Node> = view
                    .cluster
                    .nodes()
                    .filter(|n| n.owner == pool.config.name && n.state != NodeState::Launching)
                    .collect();
                let total = nodes.len() as u32;
                let allowed = pool
                    .config
                    .budgets
                    .iter()
                    .map(|b| b.allowed(total))
                    .min()
                    .unwrap_or(u32::MAX);
                let disrupting = nodes
                    .iter()
                    .filter(|n| n.state == NodeState::Deleting || self.disrupting.contains(&n.id))
                    .count() as u32;
                allowed.saturating_sub(disrupting)
            })
            .collect()
    }

    /// Emptiness: every empty candidate, cheapest to disrupt first, within each pool's budget.
    fn emptiness(&self, view: &ClusterView<'_>, facts: &PodFacts) -> Option<Command> {
        let mut budgets = self.available_budgets(view);
        let mut empty: Vec<&Node> = view
            .cluster
            .nodes()
            .filter(|n| facts.is_empty(n) && self.is_candidate(n, view, facts))
            .collect();
        sort_by_disruption_cost(&mut empty, view, facts);

        let mut candidates = Vec::new();
        let mut price = Price(0);
        for node in empty {
            let pool = self
                .pool_index(&node.owner)
                .expect("candidates belong to pools");
            if budgets[pool] == 0 {
                continue;
            }
            budgets[pool] -= 1;
            candidates.push(node.id);
            price = Price(price.0 + node.price.0);
        }
        (!candidates.is_empty()).then_some(Command {
            method: Method::Emptiness,
            candidates,
            replacement: None,
            candidate_price: price,
        })
    }

    /// Single-node consolidation: candidates in disruption-cost order, interleaved across pools;
    /// the first that can be deleted or replaced by a cheaper node wins.
    fn single_node_consolidation(
        &self,
        view: &ClusterView<'_>,
        facts: &PodFacts,
    ) -> Option<Command> {
        let budgets = self.available_budgets(view);
        let pools = self.pools.as_ref().expect("pools resolved");
        let mut per_pool: Vec<Vec<&Node>> = vec![Vec::new(); pools.len()];
        for node in view.cluster.nodes() {
            let Some(pool) = self.pool_index(&node.owner) else {
                continue;
            };
            if !facts.is_empty(node)
                && pools[pool].config.consolidation_policy
                    == ConsolidationPolicy::WhenEmptyOrUnderutilized
                && self.is_candidate(node, view, facts)
            {
                per_pool[pool].push(node);
            }
        }
        for nodes in &mut per_pool {
            sort_by_disruption_cost(nodes, view, facts);
        }

        // Round-robin across pools.
        let mut base = ConsolidationBase::new(self, view, false);
        let longest = per_pool.iter().map(Vec::len).max().unwrap_or(0);
        for rank in 0..longest {
            for (pool, nodes) in per_pool.iter().enumerate() {
                let Some(node) = nodes.get(rank) else {
                    continue;
                };
                if budgets[pool] == 0 {
                    continue;
                }
                if let Some(command) = self.compute_consolidation(view, &[node.id], Some(&mut base))
                {
                    return Some(command);
                }
            }
        }
        None
    }

    /// The nodes a consolidation may move pods to, before the candidates are taken out: not
    /// being deleted, not cordoned, not being disrupted; in the simulation's order. Host ports in
    /// use are collected only with `ports`.
    fn destination_nodes<'v>(&self, view: &ClusterView<'v>, ports: bool) -> Vec<SimNode<'v>> {
        let mut nodes: Vec<SimNode<'v>> = view
            .cluster
            .nodes()
            .filter(|n| {
                n.state != NodeState::Deleting && !n.cordoned && !self.disrupting.contains(&n.id)
            })
            .map(|n| SimNode::new(n, view.cluster, ports))
            .collect();
        sort_nodes(&mut nodes);
        nodes
    }

    /// Simulates removing `candidates`: delete when their pods fit on other nodes, replace when
    /// they need exactly one new NodeClaim with options strictly cheaper than the candidates
    /// (`computeConsolidation`), otherwise nothing.
    pub(super) fn compute_consolidation<'v>(
        &self,
        view: &ClusterView<'v>,
        candidates: &[NodeId],
        base: Option<&mut ConsolidationBase<'v>>,
    ) -> Option<Command> {
        let pools = self.pools.as_ref().expect("pools resolved");
        let candidate_set: BTreeSet<NodeId> = candidates.iter().copied().collect();

        // Pods to place: the candidates' pods, plus every pod already pending.
        let mut candidate_pods = BTreeSet::new();
        let mut pods = Vec::new();
        let mut candidate_price = Price(0);
        for id in candidates {
            let node = view.cluster.node(*id)?;
            // A spot node is priced at its offering's current spot price.
            let price = match node.capacity_type {
                CapacityType::Spot => self
                    .spot_price(view, node.instance_type, &node.zone)
                    .unwrap_or(node.price),
                CapacityType::OnDemand => node.price,
            };
            candidate_price = Price(candidate_price.0 + price.0);
            for pod in view.cluster.active_pods_on(*id) {
                candidate_pods.insert(pod.id);
                pods.push(SimPod {
                    id: pod.id,
                    spec: pod.spec.clone(),
                    created: pod.created,
                });
            }
        }
        let mut fresh = None;
        let base = match base {
            Some(base) => base,
            None => fresh.insert(ConsolidationBase::new(self, view, false)),
        };
        pods.extend(base.pending.iter().cloned());

        // The other nodes: the pass's shared list, unless a pod needs host ports, which the
        // shared list leaves out.
        let mut limits = base.limits.clone();
        let mut tracker = TopologyTracker::new(view.cluster, view.zones);
        let candidate_ids: Vec<NodeId> = candidate_set.iter().copied().collect();
        let placement = if any_host_ports(&pods) {
            let mut nodes = self.destination_nodes(view, true);
            solve(
                pods,
                &mut nodes,
                &candidate_ids,
                pools,
                &mut limits,
                &mut tracker,
            )
        } else {
            solve(
                pods,
                &mut base.nodes,
                &candidate_ids,
                pools,
                &mut limits,
                &mut tracker,
            )
        };

        // Every candidate pod must land, and not on a node that is still initializing.
        if placement.failed.iter().any(|p| candidate_pods.contains(p)) {
            return None;
        }
        if placement.on_existing.iter().any(|(pod, node)| {
            candidate_pods.contains(pod)
                && view
                    .cluster
                    .node(*node)
                    .is_none_or(|n| n.state != NodeState::Ready)
        }) {
            return None;
        }

        match placement.claims.as_slice() {
            [] => Some(Command {
                method: Method::SingleNode,
                candidates: candidates.to_vec(),
                replacement: None,
                candidate_price,
            }),
            [claim] => {
                let pool = &pools[claim.pool];
                let all_spot = candidates
                    .iter()
                    .filter_map(|id| view.cluster.node(*id))
                    .all(|n| n.capacity_type == CapacityType::Spot);
                if all_spot && pool.allows_spot && !self.config.spot_to_spot_consolidation {
                    // Feature gate SpotToSpotConsolidation, off by default: no spot-to-spot replace.
                    return None;
                }
                // A replacement that may be spot is launched as spot (OD → [OD, spot] is
                // constrained to spot), priced at its worst current spot price.
                let capacity_type = if pool.allows_spot {
                    CapacityType::Spot
                } else {
                    CapacityType::OnDemand
                };
                let price_of = |i: usize| match capacity_type {
                    CapacityType::Spot => self.worst_spot_price(
                        view,
                        pool,
                        pool.options[i].instance_type,
                        claim.zone.as_ref(),
                    ),
                    CapacityType::OnDemand => Some(pool.options[i].price),
                };
                let mut cheaper: Vec<usize> = claim
                    .options
                    .iter()
                    .copied()
                    .filter(|&i| price_of(i).is_some_and(|p| p < candidate_price))
                    .collect();
                if all_spot && capacity_type == CapacityType::Spot {
                    // Single-node spot-to-spot needs 15 cheaper types and keeps only those 15.
                    if candidates.len() == 1 && cheaper.len() < MIN_SPOT_TO_SPOT_TYPES {
                        return None;
                    }
                    cheaper.sort_by_key(|&i| price_of(i));
                    cheaper.truncate(MIN_SPOT_TO_SPOT_TYPES);
                }
                (!cheaper.is_empty()).then(|| Command {
                    method: Method::SingleNode,
                    candidates: candidates.to_vec(),
                    replacement: Some(Replacement {
                        pool: claim.pool,
                        options: cheaper,
                        zone: claim.zone.clone(),
                        capacity_type,
                    }),
                    candidate_price,
                })
            }
            _ => None,
        }
    }

    /// After the validation delay: re-check the command against the current state, then act.
    pub(super) fn validate_and_execute(&mut self, view: &ClusterView<'_>, actions: &mut Actions) {
        let Some(command) = self.pending_command.take() else {
            return;
        };
        let facts = PodFacts::gather(view);
        let validated = match command.method {
            Method::Emptiness => {
                // Emptiness keeps the candidates that are still empty and eligible, within budget.
                let mut budgets = self.available_budgets(view);
                let still: Vec<NodeId> = command
                    .candidates
                    .iter()
                    .copied()
                    .filter(|id| {
                        view.cluster.node(*id).is_some_and(|n| {
                            facts.is_empty(n) && self.is_candidate(n, view, &facts)
                        })
                    })
                    .filter(|id| {
                        let pool = self
                            .pool_index(&view.cluster.node(*id).expect("checked above").owner)
                            .expect("pool node");
                        let ok = budgets[pool] > 0;
                        if ok {
                            budgets[pool] -= 1;
                        }
                        ok
                    })
                    .collect();
                (!still.is_empty()).then_some(Command {
                    candidates: still,
                    ..command
                })
            }
            Method::SingleNode => {
                let eligible = command.candidates.iter().all(|id| {
                    view.cluster
                        .node(*id)
                        .is_some_and(|n| self.is_candidate(n, view, &facts))
                });
                let fresh = if eligible {
                    self.compute_consolidation(view, &command.candidates, None)
                } else {
                    None
                };
                match (fresh, &command.replacement) {
                    (Some(fresh), None) if fresh.replacement.is_none() => Some(command),
                    (
                        Some(Command {
                            replacement: Some(new),
                            ..
                        }),
                        Some(old),
                    ) if old.options.iter().all(|o| new.options.contains(o)) => Some(command),
                    _ => None,
                }
            }
        };
        match validated {
            Some(command) => {
                self.execute(command, view, actions);
                self.arm_disruption(view.now, actions);
            }
            None => self.arm_disruption(view.now + self.config.disruption_poll_period, actions),
        }
    }

    fn execute(&mut self, command: Command, view: &ClusterView<'_>, actions: &mut Actions) {
        let reason = if command.method == Method::Emptiness {
            DisruptionReason::Empty
        } else {
            DisruptionReason::Underutilized
        };
        let Some(replacement) = &command.replacement else {
            for id in &command.candidates {
                let node = view.cluster.node(*id).expect("validated candidate exists");
                let detail = format!(
                    "{}: delete node {} ({}, ${:.4}/h, {} pods)",
                    reason.as_str(),
                    node.name,
                    view.catalog.get(node.instance_type).name,
                    node.price.usd_per_hour(),
                    node.pods.len()
                );
                actions.delete_node(*id, reason, detail);
                self.disrupting.insert(*id);
            }
            return;
        };

        // Replace: launch the cheapest cheaper option, cordon the candidates, and delete them
        // once the replacement is Ready.
        let zone = replacement.zone.clone().or_else(|| {
            view.cluster
                .node(command.candidates[0])
                .map(|n| n.zone.clone())
        });
        let Some(offering) = self.choose_offering(
            view,
            replacement.pool,
            &replacement.options,
            zone.as_ref(),
            Some(replacement.capacity_type),
        ) else {
            return;
        };
        let pools = self.pools.as_ref().expect("pools resolved");
        let pool = &pools[replacement.pool];
        let option = &pool.options[offering.option];
        let mut labels = option.labels.clone();
        let (key, value) = super::offerings::capacity_label(offering.capacity_type);
        labels.insert(key, value);
        let names: Vec<String> = command
            .candidates
            .iter()
            .filter_map(|id| view.cluster.node(*id))
            .map(|n| format!("{} ({})", n.name, view.catalog.get(n.instance_type).name))
            .collect();
        let new_node = actions.launch(LaunchRequest {
            owner: pool.config.name.clone(),
            instance_type: option.instance_type,
            capacity_type: offering.capacity_type,
            zone: offering.zone.clone(),
            labels,
            taints: pool.config.taints.clone(),
            reason: format!(
                "Underutilized: replacement for {} at ${:.4}/h; {} cheaper instance types, launched {} {} at ${:.4}/h",
                names.join(", "),
                command.candidate_price.usd_per_hour(),
                replacement.options.len(),
                offering.capacity_type.label(),
                view.catalog.get(option.instance_type).name,
                offering.price.usd_per_hour()
            ),
            alternatives: offering.alternatives.clone(),
        });
        for id in &command.candidates {
            actions.cordon(*id, true);
            self.disrupting.insert(*id);
        }
        self.replacements.insert(new_node, command);
    }

    /// Deletes the candidates of a command once its replacement is Ready.
    pub(super) fn on_replacement_ready(
        &mut self,
        node: NodeId,
        view: &ClusterView<'_>,
        actions: &mut Actions,
    ) {
        let Some(command) = self.replacements.remove(&node) else {
            return;
        };
        let replacement = view
            .cluster
            .node(node)
            .map(|n| format!("{} ({})", n.name, view.catalog.get(n.instance_type).name))
            .unwrap_or_default();
        for id in command.candidates {
            if let Some(candidate) = view.cluster.node(id) {
                let detail = format!(
                    "Underutilized: replace node {} ({}, ${:.4}/h) with {replacement}",
                    candidate.name,
                    view.catalog.get(candidate.instance_type).name,
                    candidate.price.usd_per_hour()
                );
                actions.delete_node(id, DisruptionReason::Underutilized, detail);
            }
        }
    }

    /// Forgets a removed node; a replacement that failed before Ready releases its candidates.
    pub(super) fn on_node_removed(&mut self, node: NodeId, actions: &mut Actions) {
        self.disrupting.remove(&node);
        self.nominated_until.remove(&node);
        if let Some(command) = self.replacements.remove(&node) {
            for id in command.candidates {
                self.disrupting.remove(&id);
                actions.cordon(id, false);
            }
        }
    }
}
