//! Disruption: the controller loop, Emptiness and single-node consolidation, the consolidation
//! decision shared with multi-node consolidation, validation and the execution of commands
//! (`pkg/controllers/disruption/`).

use std::collections::BTreeSet;

use autoscale_sim_cloud::Price;
use autoscale_sim_engine::{SimDuration, SimTime};
use autoscale_sim_kube::{CapacityType, Node, NodeId, NodeState, PodId};

use super::multinode::PrefixPods;
use super::node_blocks::has_do_not_disrupt;
use super::pending_prefix::PendingPrefix;
pub(super) use super::pod_facts::PodFacts;
use super::pod_facts::pod_eviction_cost;
use super::verdicts::SingleNodeVerdicts;

use super::scheduling::{
    LonePodOptionStore, PendingCheckpoint, Placement, Removal, SimNode, SimPod, SimulationCache,
    SortedPods, any_host_ports, placement_order, simulation_order, solve, unschedulable_pods,
};
use super::{
    BudgetReason, ConsolidationPolicy, Karpenter, KarpenterVersion, ResolvedPool, TIMER_VALIDATION,
    min_values, token,
};
use crate::api::{Actions, ClusterView, DisruptionReason, LaunchRequest};
use crate::topology::TopologyTracker;

/// Longest time the "consolidated" state lasts before the cluster is evaluated again anyway.
const CONSOLIDATION_RECHECK: SimDuration = SimDuration::from_mins(5);

/// Cheaper instance types a single-node spot-to-spot replacement needs
/// (`MinInstanceTypesForSpotToSpotConsolidation`).
const MIN_SPOT_TO_SPOT_TYPES: usize = 15;

/// The disruption method that produced a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    Emptiness,
    Drift,
    MultiNode,
    SingleNode,
}

impl Method {
    /// Returns the reason the method's deletions are counted under.
    pub fn reason(self) -> DisruptionReason {
        match self {
            Method::Emptiness => DisruptionReason::Empty,
            Method::Drift => DisruptionReason::Drifted,
            Method::MultiNode | Method::SingleNode => DisruptionReason::Underutilized,
        }
    }

    /// Returns the method's name for the decision log.
    pub fn name(self) -> &'static str {
        match self {
            Method::Emptiness => "emptiness",
            Method::Drift => "drift",
            Method::MultiNode => "multi-node consolidation",
            Method::SingleNode => "single-node consolidation",
        }
    }
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

/// The result of a scheduling simulation without some candidates.
pub(super) struct Simulation {
    pub placement: Placement,
    /// Sum of the candidates' prices.
    pub candidate_price: Price,
}

/// A disruption decision waiting for validation or for its replacements. Consolidation has
/// at most one replacement; drift may have several.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Command {
    pub method: Method,
    pub candidates: Vec<NodeId>,
    pub replacements: Vec<Replacement>,
    pub candidate_price: Price,
}

/// A started command: its candidates are cordoned and wait until every replacement is Ready.
#[derive(Clone, Debug)]
pub(crate) struct InFlight {
    pub command: Command,
    /// Replacement nodes not Ready yet.
    pub waiting: BTreeSet<NodeId>,
}

/// Names a command's candidates with their instance types, as "name (type)".
fn candidate_names(view: &ClusterView<'_>, command: &Command) -> Vec<String> {
    command
        .candidates
        .iter()
        .filter_map(|id| view.cluster.node(*id))
        .map(|n| format!("{} ({})", n.name, view.catalog.get(n.instance_type).name))
        .collect()
}

/// The `k` of the `Balanced` policy: a move is approved when its score is at least 1/k
/// (kubernetes-sigs/karpenter v1.14 `BalancedK`).
const BALANCED_K: f64 = 2.0;

/// v1.14 `RescheduleDisruptionCost` of a node: 1 plus the positive eviction costs of its
/// active pods.
fn reschedule_cost(view: &ClusterView<'_>, node: &Node) -> f64 {
    1.0 + view
        .cluster
        .active_pods_on(node.id)
        .map(|p| pod_eviction_cost(&p.spec).max(0.0))
        .sum::<f64>()
}

/// Starting state shared by the consolidation simulations of one pass: the destination nodes in
/// the simulation's order, the pods already waiting, the NodePools' remaining limits, and what
/// the simulations on those nodes can share.
pub(super) struct ConsolidationBase<'v> {
    nodes: Vec<SimNode<'v>>,
    /// Sorted once per pass, so that each simulation only merges the candidates' pods in.
    pending: SortedPods<'v>,
    limits: Vec<super::scheduling::RemainingLimits>,
    cache: SimulationCache,
    /// The pending pods placed with no candidate removed, made by the first simulation that
    /// can use it.
    pending_prefix: Option<PendingPrefix>,
    /// Working lists of [`Karpenter::simulate_removal`], kept so that the next simulation
    /// reuses their memory: the excluded nodes, the pools' remaining limits and the ids of the
    /// candidates' pods.
    excluded: Vec<NodeId>,
    limits_scratch: Vec<super::scheduling::RemainingLimits>,
    rescheduled: Vec<PodId>,
    /// States after the first pending pods, which simulations start from instead of placing
    /// those pods again. It is `None` in a base built for a single simulation, and once a
    /// pending pod breaks the conditions of [`PendingCheckpoint`].
    checkpoints: Option<Vec<PendingCheckpoint>>,
}

impl<'v> ConsolidationBase<'v> {
    /// Returns the destination nodes, in the simulation's order.
    pub(super) fn nodes(&self) -> &[SimNode<'v>] {
        &self.nodes
    }

    /// Returns the pods already pending, in placement order.
    pub(super) fn pending(&self) -> &SortedPods<'v> {
        &self.pending
    }

    /// Returns each pool's room under its limits.
    pub(super) fn limits(&self) -> &[super::scheduling::RemainingLimits] {
        &self.limits
    }

    pub(super) fn new(karpenter: &Karpenter, view: &ClusterView<'v>, ports: bool) -> Self {
        ConsolidationBase {
            nodes: karpenter.destination_nodes(view, ports),
            pending: SortedPods::new(unschedulable_pods(view.cluster)),
            limits: karpenter.remaining_limits(view),
            cache: SimulationCache::default(),
            pending_prefix: None,
            excluded: Vec::new(),
            limits_scratch: Vec::new(),
            rescheduled: Vec::new(),
            checkpoints: None,
        }
    }

    /// Creates the starting state of a disruption pass, whose simulations reuse the lone-pod
    /// options that `karpenter` kept from earlier passes. [`Self::into_lone_pod_options`]
    /// returns them for the next pass.
    pub(super) fn for_pass(karpenter: &Karpenter, view: &ClusterView<'v>) -> Self {
        let mut lone_pod_options = karpenter.lone_pod_options.take();
        lone_pod_options.drop_unused();
        ConsolidationBase {
            cache: SimulationCache::with_lone_pod_options(lone_pod_options),
            checkpoints: Some(Vec::new()),
            ..ConsolidationBase::new(karpenter, view, false)
        }
    }

    /// Returns the lone-pod options of the pass's simulations, to keep for later passes.
    pub(super) fn into_lone_pod_options(self) -> LonePodOptionStore {
        self.cache.into_lone_pod_options()
    }

    /// Checks whether a simulation on the shared node list that removes `candidates` would end
    /// at once because the first of `moved` lands on an uninitialized node
    /// ([`PendingPrefix::moved_pod_lands_uninitialized`]). `excluded` lists the nodes that
    /// take no pods in any simulation of the pass, and `tracker` must be the simulation's.
    fn moved_pod_lands_uninitialized(
        &mut self,
        moved: &[SimPod<'_>],
        candidates: &[NodeId],
        excluded: &[NodeId],
        pools: &[ResolvedPool],
        tracker: &TopologyTracker<'_>,
    ) -> bool {
        let Some(first_moved) = moved.first() else {
            return false;
        };
        let prefix = self.pending_prefix.get_or_insert_with(|| {
            PendingPrefix::new(
                &self.pending,
                &self.nodes,
                &mut self.cache,
                excluded,
                pools,
                tracker,
            )
        });
        // The landing is checked first, because it costs less than the check that the
        // simulation stops there.
        prefix.moved_pod_lands_uninitialized(
            first_moved,
            candidates,
            &self.pending,
            &self.nodes,
            &mut self.cache,
        ) && self
            .cache
            .stops_at_moved_pod(&self.pending, moved, pools, &self.limits, tracker)
    }
}

/// Minimum number of pending pods ahead of a simulation's first moved pod for the simulation
/// to start from a [`PendingCheckpoint`]. Recording one costs a run over those pods.
const MIN_CHECKPOINT_PODS: usize = 8;

/// Maximum number of checkpoints recorded in one pass. Past it, a simulation starts from the
/// stored checkpoint with the most pending pods that it can use.
const MAX_CHECKPOINTS: usize = 16;

impl ConsolidationBase<'_> {
    /// Returns the index of a checkpoint for a simulation of `moved` that places at most the
    /// pending pods ahead of the first of `moved`, recording one at that count when the pass
    /// has none yet. `excluded` lists the nodes that take no pods in any simulation of the
    /// pass, and `tracker` must be the simulation's.
    fn checkpoint_for(
        &mut self,
        moved: &[SimPod<'_>],
        excluded: &[NodeId],
        pools: &[ResolvedPool],
        tracker: &mut TopologyTracker<'_>,
    ) -> Option<usize> {
        let checkpoints = self.checkpoints.as_mut()?;
        let pending = self.pending.pods();
        let ahead = moved.first().map_or(pending.len(), |first| {
            pending.partition_point(|pod| placement_order(pod, first).is_lt())
        });
        if ahead < MIN_CHECKPOINT_PODS {
            return None;
        }
        let best = (0..checkpoints.len())
            .filter(|&i| checkpoints[i].pending() <= ahead)
            .max_by_key(|&i| checkpoints[i].pending());
        if best.is_some_and(|i| checkpoints[i].pending() == ahead)
            || checkpoints.len() >= MAX_CHECKPOINTS
        {
            return best;
        }
        let mut limits = self.limits.clone();
        let removal = Removal {
            excluded,
            checkpoint_after: Some(ahead),
            no_existing_list: true,
            unsettled: true,
            ..Removal::default()
        };
        let placement = solve(
            &self.pending,
            &mut self.nodes,
            removal,
            pools,
            &mut limits,
            tracker,
            &mut self.cache,
        );
        match placement.checkpoint {
            Some(checkpoint) => {
                checkpoints.push(checkpoint);
                Some(checkpoints.len() - 1)
            }
            None => {
                self.checkpoints = None;
                None
            }
        }
    }
}

/// Sorts nodes by disruption cost, cheapest first, ties by id; each cost is computed once.
/// `expire_after` returns the `expireAfter` of a node's NodePool.
fn sort_by_disruption_cost(
    nodes: &mut Vec<&Node>,
    view: &ClusterView<'_>,
    facts: &PodFacts,
    expire_after: impl Fn(&Node) -> Option<SimDuration>,
) {
    let mut keyed: Vec<(f64, &Node)> = nodes
        .iter()
        .map(|n| (facts.disruption_cost(n, view, expire_after(n)), *n))
        .collect();
    // Node ids are unique, so the order is total and an unstable sort gives the stable order.
    keyed.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.id.cmp(&b.1.id)));
    nodes.clear();
    nodes.extend(keyed.into_iter().map(|(_, n)| n));
}

/// Checks a consolidation simulation's placement: every pod moved off the candidates
/// (`candidate_pods`, in id order) must land, and not on a node that is still initializing.
fn removal_verdict(
    placement: Placement,
    candidate_pods: &[PodId],
) -> Result<Placement, Unconsolidatable> {
    if placement.moved_pod_on_uninitialized {
        return Err(Unconsolidatable::UninitializedDestination);
    }
    let is_candidate_pod = |pod: &PodId| candidate_pods.binary_search(pod).is_ok();
    if placement.failed.iter().any(is_candidate_pod) {
        return Err(Unconsolidatable::PodsWouldNotSchedule);
    }
    // A candidate pod on a node that is not Ready. The candidate pods are exactly the moved
    // pods, because the pending pods are unbound and so on no candidate, and a simulated
    // node is initialized exactly when it is Ready in `view`, which the pass does not
    // change. So the simulation's flag gives this check without looking up each placement.
    if placement.moved_pod_landed_uninitialized {
        return Err(Unconsolidatable::UninitializedDestination);
    }
    Ok(placement)
}

impl Karpenter {
    /// One pass of the disruption controller: the methods in Karpenter's order (Emptiness,
    /// Drift, multi-node, then single-node consolidation); the first that finds a command wins.
    pub(super) fn disrupt(&mut self, view: &ClusterView<'_>, actions: &mut Actions) {
        // The pod controller re-triggers provisioning every 10 s while pods stay Unschedulable.
        if self.batch_idle.is_none() && view.cluster.pending_pods().any(|p| p.unschedulable) {
            self.trigger_batch(view, actions);
        }
        self.nominated_until.retain(|_, until| *until > view.now);
        self.expire(view, actions);

        // The "consolidated" short-circuit (`state/cluster.go`): skip the consolidation methods
        // while nothing changed since a pass found nothing to do, until the 5-minute forced
        // re-check or until a node's consolidateAfter runs out (its Consolidatable condition
        // flips). Drift is not short-circuited.
        let unchanged = self.consolidated.is_some_and(|(generation, until)| {
            generation == view.cluster.generation() && view.now < until
        });
        // A short-circuited pass with no drifted node skips the sweep over the pods, because
        // Drift looks only at drifted nodes and the consolidation methods do not run.
        if self.pending_command.is_none() && (!unchanged || !self.drifted.is_empty()) {
            self.pod_cache.refresh(view.cluster);
            let facts = PodFacts::gather(view, &self.pod_cache);
            let mut command = None;
            let candidates = if unchanged {
                Vec::new()
            } else {
                self.sorted_candidates(view, &facts)
            };
            let mut blocked = std::mem::take(&mut self.blocked_budgets);
            self.note_blocking_budgets(&mut blocked, view, &facts, &candidates, actions);
            self.blocked_budgets = blocked;
            let mut blocked_nodes = std::mem::take(&mut self.blocked_nodes);
            self.note_blocked_nodes(&mut blocked_nodes, view, actions);
            self.blocked_nodes = blocked_nodes;
            let mut blocking_pods = std::mem::take(&mut self.blocking_pods);
            self.note_blocking_pods(&mut blocking_pods, view, &facts, actions);
            self.blocking_pods = blocking_pods;
            if !unchanged {
                command = self.emptiness(view, &facts, &candidates);
            }
            if command.is_none()
                && let Some(drift) = self.drift(view, &facts)
            {
                // Drift acts at once, without the validation wait (`drift.go`).
                self.execute(drift, view, actions);
                self.arm_disruption(view.now, actions);
                return;
            }
            if !unchanged {
                // Both consolidation methods simulate on the same starting state, built once.
                let mut base = None;
                command = command.or_else(|| {
                    self.multi_node_consolidation(view, &facts, &candidates, &mut base)
                });
                if command.is_none() {
                    let mut verdicts = std::mem::take(&mut self.single_node_verdicts);
                    let (found, reasons) = self.single_node_consolidation(
                        view,
                        &facts,
                        &candidates,
                        &mut verdicts,
                        &mut base,
                    );
                    self.single_node_verdicts = verdicts;
                    for (node, reason) in reasons {
                        self.note_unconsolidatable(node, reason, view, actions);
                    }
                    command = found;
                }
                if let Some(base) = base {
                    *self.lone_pod_options.get_mut() = base.into_lone_pod_options();
                }
            }
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
            if !unchanged {
                // A pass held back by a budget does not count as consolidated, so it retries.
                let budget_blocked = [BudgetReason::Empty, BudgetReason::Underutilized]
                    .into_iter()
                    .any(|reason| self.available_budgets(view, reason).contains(&0));
                self.consolidated =
                    (!budget_blocked).then(|| (view.cluster.generation(), self.recheck_time(view)));
            }
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

    /// Checks whether `node` may be disrupted gracefully now by any method (`NewCandidate`):
    /// Ready, not cordoned or already held by a command, not nominated, and with no pod that
    /// blocks its eviction.
    pub(super) fn is_disruptable(
        &self,
        node: &Node,
        view: &ClusterView<'_>,
        facts: &PodFacts,
    ) -> bool {
        self.is_disruptable_node(node, view) && facts.is_disruptable(node)
    }

    /// Checks the node-level conditions of [`Karpenter::is_disruptable`], leaving out its pods.
    pub(super) fn is_disruptable_node(&self, node: &Node, view: &ClusterView<'_>) -> bool {
        self.pool_index(&node.owner).is_some()
            && node.state == NodeState::Ready
            && !node.cordoned
            && !self.disrupting.contains(&node.id)
            && self
                .nominated_until
                .get(&node.id)
                .is_none_or(|until| *until <= view.now)
            && !has_do_not_disrupt(node)
    }

    /// Checks whether `node` may be consolidated now: disruptable, and past its NodePool's
    /// consolidateAfter (the Consolidatable condition of consolidation's `ShouldDisrupt`).
    pub(super) fn is_candidate(
        &self,
        node: &Node,
        view: &ClusterView<'_>,
        facts: &PodFacts,
    ) -> bool {
        let Some(pool) = self.pool_index(&node.owner) else {
            return false;
        };
        let pool = &self.pools.as_ref().expect("pools resolved")[pool].config;
        let Some(consolidate_after) = pool.consolidate_after else {
            return false;
        };
        view.now.since(node.last_pod_event) >= consolidate_after
            && self.is_disruptable(node, view, facts)
    }

    /// Nodes each pool may still disrupt: the smallest budget allowance over the pool's
    /// initialized nodes, minus its nodes already being disrupted
    /// (`BuildDisruptionBudgetMapping`), for disruptions of `reason`.
    pub(super) fn available_budgets(
        &self,
        view: &ClusterView<'_>,
        reason: BudgetReason,
    ) -> Vec<u32> {
        let now_unix = self.config.start_unix_secs + (view.now.as_millis() / 1000) as i64;
        let pools = self.pools.as_ref().expect("pools resolved");
        pools
            .iter()
            .map(|pool| {
                // The pool's nodes past launch, and how many of them are being disrupted.
                let mut total = 0u32;
                let mut disrupting = 0u32;
                for n in view.cluster.nodes() {
                    if n.owner != pool.config.name || n.state == NodeState::Launching {
                        continue;
                    }
                    total += 1;
                    if n.state == NodeState::Deleting || self.disrupting.contains(&n.id) {
                        disrupting += 1;
                    }
                }
                let allowed = pool.config.allowed_disruptions(reason, total, now_unix);
                allowed.saturating_sub(disrupting)
            })
            .collect()
    }

    /// Lists the candidates of every pool ([`Karpenter::is_candidate`]) in the order Karpenter
    /// tries them ([`Karpenter::sort_candidates`]). Ties in that order break by node id, so the
    /// candidates of one method, taken from this list in order, are in the order that sorting
    /// them alone would give.
    fn sorted_candidates<'v>(&self, view: &ClusterView<'v>, facts: &PodFacts) -> Vec<&'v Node> {
        let mut candidates: Vec<&Node> = view
            .cluster
            .nodes()
            .filter(|n| self.is_candidate(n, view, facts))
            .collect();
        self.sort_candidates(&mut candidates, view, facts);
        candidates
    }

    /// Emptiness: every empty candidate, cheapest to disrupt first, within each pool's budget.
    /// `sorted` lists the pass's candidates in order ([`Karpenter::sorted_candidates`]).
    fn emptiness(
        &self,
        view: &ClusterView<'_>,
        facts: &PodFacts,
        sorted: &[&Node],
    ) -> Option<Command> {
        let mut budgets = self.available_budgets(view, BudgetReason::Empty);
        let empty = sorted.iter().filter(|n| facts.is_empty(n));

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
            replacements: vec![],
            candidate_price: price,
        })
    }

    /// Single-node consolidation: candidates in disruption order, interleaved across pools;
    /// the first that can be deleted or replaced by a cheaper node wins. Returns it with the
    /// reasons the candidates tried before it cannot be consolidated, in the order tried, for
    /// the decision log (Karpenter's `Unconsolidatable` event).
    ///
    /// A candidate whose verdict `verdicts` stored under the same inputs gets that verdict
    /// without a simulation. Its reason is left out of the returned list, because
    /// [`Karpenter::note_unconsolidatable`] noted it when it was stored.
    fn single_node_consolidation<'v>(
        &self,
        view: &ClusterView<'v>,
        facts: &PodFacts,
        sorted: &[&Node],
        verdicts: &mut SingleNodeVerdicts,
        base: &mut Option<ConsolidationBase<'v>>,
    ) -> (Option<Command>, Vec<(NodeId, Unconsolidatable)>) {
        let budgets = self.available_budgets(view, BudgetReason::Underutilized);
        let pools = self.pools.as_ref().expect("pools resolved");
        // Each pool's candidates keep the order of `sorted`.
        let mut per_pool: Vec<Vec<&Node>> = vec![Vec::new(); pools.len()];
        for &node in sorted {
            let pool = self
                .pool_index(&node.owner)
                .expect("candidates belong to pools");
            if !facts.is_empty(node)
                && pools[pool]
                    .config
                    .consolidation_policy
                    .consolidates_underutilized()
            {
                per_pool[pool].push(node);
            }
        }

        // Round-robin across pools.
        let base = base.get_or_insert_with(|| ConsolidationBase::for_pass(self, view));
        verdicts.start_pass(self.shared_inputs(view, base));
        let longest = per_pool.iter().map(Vec::len).max().unwrap_or(0);
        let mut found = None;
        let mut reasons = Vec::new();
        'search: for rank in 0..longest {
            for (pool, nodes) in per_pool.iter().enumerate() {
                let Some(node) = nodes.get(rank) else {
                    continue;
                };
                if budgets[pool] == 0 {
                    continue;
                }
                let reusable = verdicts.active() && self.verdict_reusable(node, facts);
                // A stored verdict was noted in the pass that stored it, and noted reasons are
                // forgotten only when the node leaves, so noting it again would change nothing.
                if reusable && verdicts.get(node).is_some() {
                    continue;
                }
                match self.compute_consolidation(
                    view,
                    Method::SingleNode,
                    &[node.id],
                    Some(base),
                    None,
                    facts,
                ) {
                    Ok(command) => {
                        found = Some(command);
                        break 'search;
                    }
                    Err(reason) => {
                        if reusable {
                            verdicts.insert(node, &reason);
                        }
                        reasons.push((node.id, reason));
                    }
                }
            }
        }
        (found, reasons)
    }

    /// Writes a candidate's reason for staying to the decision log, the first time the node
    /// has that reason, so that a node flipping between two reasons does not flood the log.
    fn note_unconsolidatable(
        &mut self,
        node: NodeId,
        reason: Unconsolidatable,
        view: &ClusterView<'_>,
        actions: &mut Actions,
    ) {
        // Two reasons have the same text only when they are equal, so the check compares
        // reasons, which saves formatting the text of a reason already noted.
        let noted = |reasons: &Vec<Unconsolidatable>| reasons.contains(&reason);
        if self.unconsolidatable.get(&node).is_some_and(noted) {
            return;
        }
        let Some(text) = reason.event() else {
            return;
        };
        let Some(n) = view.cluster.node(node) else {
            return;
        };
        actions.note(
            Some(node),
            "unconsolidatable",
            "Unconsolidatable",
            format!("Unconsolidatable: node {}: {text}", n.name),
        );
        self.unconsolidatable.entry(node).or_default().push(reason);
    }

    /// Sorts consolidation and emptiness candidates into the order Karpenter tries them, ties
    /// by node id. v1.13 takes the lowest disruption cost first. v1.14 takes the highest
    /// savings per disruption first: the node's price over its `RescheduleDisruptionCost`.
    ///
    /// NOTE: the v1.14 order is modelled from a description of v1.14's `types.go`; the
    /// v1.14 source of the sort was not checked here.
    pub(super) fn sort_candidates(
        &self,
        nodes: &mut Vec<&Node>,
        view: &ClusterView<'_>,
        facts: &PodFacts,
    ) {
        match self.config.version {
            KarpenterVersion::V1_13 => {
                let pools = self.pools.as_ref().expect("pools resolved");
                sort_by_disruption_cost(nodes, view, facts, |n| {
                    self.pool_index(&n.owner)
                        .and_then(|p| pools[p].config.expire_after)
                })
            }
            KarpenterVersion::V1_14 => {
                let mut keyed: Vec<(f64, &Node)> = nodes
                    .iter()
                    .map(|n| {
                        let price = self.node_price(view, n).0 as f64;
                        (price / facts.reschedule_cost(n), *n)
                    })
                    .collect();
                // Node ids are unique, so an unstable sort gives the stable order.
                keyed.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.id.cmp(&b.1.id)));
                nodes.clear();
                nodes.extend(keyed.into_iter().map(|(_, n)| n));
            }
        }
    }

    /// Returns the price Karpenter gives a node: its offering's current spot price for spot,
    /// its on-demand price otherwise.
    pub(super) fn node_price(&self, view: &ClusterView<'_>, node: &Node) -> Price {
        match node.capacity_type {
            CapacityType::Spot => self
                .spot_price(view, node.instance_type, &node.zone)
                .unwrap_or(node.price),
            CapacityType::OnDemand => node.price,
        }
    }

    /// The nodes a consolidation may move pods to, before the candidates are taken out: not
    /// being deleted, not cordoned, not being disrupted; in the simulation's order. Host ports in
    /// use are collected only with `ports`.
    fn destination_nodes<'v>(&self, view: &ClusterView<'v>, ports: bool) -> Vec<SimNode<'v>> {
        let mut nodes: Vec<&'v Node> = view
            .cluster
            .nodes()
            .filter(|n| {
                n.state != NodeState::Deleting && !n.cordoned && !self.disrupting.contains(&n.id)
            })
            .collect();
        // Sorting the references, on the keys of `sort_nodes` and from the same order, gives
        // the order `sort_nodes` would, and moves a pointer per swap instead of a `SimNode`.
        nodes.sort_by(|a, b| simulation_order(a, b));
        nodes
            .into_iter()
            .map(|n| SimNode::new(n, view.cluster, ports))
            .collect()
    }

    /// Nodes that may not receive a consolidation candidate's pods because they are still
    /// inside their NodePool's consolidateAfter window: none in v1.13; in v1.14 the
    /// `IsConsolidationSimulation` check of the scheduler's existing nodes.
    pub(super) fn destinations_under_consolidate_after(
        &self,
        view: &ClusterView<'_>,
    ) -> Vec<NodeId> {
        if self.config.version == KarpenterVersion::V1_13 {
            return Vec::new();
        }
        let pools = self.pools.as_ref().expect("pools resolved");
        view.cluster
            .nodes()
            .filter(|n| {
                self.pool_index(&n.owner)
                    .and_then(|p| pools[p].config.consolidate_after)
                    .is_some_and(|after| view.now.since(n.last_pod_event) < after)
            })
            .map(|n| n.id)
            .collect()
    }

    /// Simulates scheduling without `candidates`: their active pods and every pending pod,
    /// onto the other nodes and new NodeClaims (`SimulateScheduling`). Fails when a
    /// candidate's pod would not schedule, or only on a node that is not initialized.
    ///
    /// Leaves the NodeClaims' options unsettled ([`Removal::unsettled`]), so a caller that
    /// reads them drops those that cannot hold the NodeClaim's pods. Leaves the placement's
    /// `on_existing` empty ([`Removal::no_existing_list`]). `presorted`, when given,
    /// contains the sorted pods of the earlier prefixes of the list `candidates` is a prefix of.
    pub(super) fn simulate_removal<'v, 'c>(
        &self,
        view: &ClusterView<'v>,
        candidates: &[NodeId],
        base: Option<&mut ConsolidationBase<'v>>,
        presorted: Option<&mut PrefixPods<'c>>,
        facts: &PodFacts<'c>,
    ) -> Result<Simulation, Unconsolidatable> {
        let pools = self.pools.as_ref().expect("pools resolved");
        let mut fresh = None;
        let base = match base {
            Some(base) => base,
            None => fresh.insert(ConsolidationBase::new(self, view, false)),
        };

        // Pods to place: the candidates' pods, plus every pod already pending.
        let mut pods = Vec::new();
        let mut candidate_pods = std::mem::take(&mut base.rescheduled);
        candidate_pods.clear();
        let mut candidate_price = Price(0);
        for id in candidates {
            let node = view.cluster.node(*id).ok_or(Unconsolidatable::Gone)?;
            candidate_price = Price(candidate_price.0 + self.node_price(view, node).0);
            if presorted.is_none() {
                // Karpenter's reschedulable pods: a terminating StatefulSet pod still needs a
                // place.
                pods.extend(facts.reschedulable_pods(node).iter().map(|p| p.sim_pod()));
                candidate_pods.extend_from_slice(facts.reschedulable_pod_ids(node));
            }
        }
        let sorted = presorted.is_some();
        if let Some(presorted) = presorted {
            presorted.take(candidates, view, facts, &mut pods, &mut candidate_pods);
        } else if candidates.len() > 1 {
            // Each node's pods come sorted, so the pods of a single candidate need no sort.
            candidate_pods.sort_unstable();
        }
        // Pod ids are unique, so `placement_order` is a total order and an unstable sort gives
        // the order a stable one would.
        if !sorted && candidates.len() > 1 {
            pods.sort_unstable_by(placement_order);
        }

        // The other nodes: the pass's shared list, unless a pod needs host ports, which the
        // shared list leaves out.
        // NOTE: v1.14 keeps only the candidates' pods off nodes inside their consolidateAfter
        // window; here the pending pods are kept off them too.
        let mut limits = std::mem::take(&mut base.limits_scratch);
        limits.clone_from(&base.limits);
        // The candidates' pods are placed again, so they count nowhere in topology. The tracker
        // keeps their ids, which the checks below read back.
        let mut tracker = TopologyTracker::rescheduling(view.cluster, view.zones, candidate_pods);
        let mut excluded = std::mem::take(&mut base.excluded);
        excluded.clear();
        excluded.extend_from_slice(candidates);
        excluded.sort_unstable();
        excluded.dedup();
        let under_consolidate_after = self.destinations_under_consolidate_after(view);
        excluded.extend_from_slice(&under_consolidate_after);
        let shared_nodes = !base.pending.host_ports() && !any_host_ports(&pods);
        let lands_uninitialized = shared_nodes
            && base.moved_pod_lands_uninitialized(
                &pods,
                candidates,
                &under_consolidate_after,
                pools,
                &tracker,
            );
        let placement = if lands_uninitialized {
            None
        } else {
            let checkpoint = if shared_nodes {
                base.checkpoint_for(&pods, &under_consolidate_after, pools, &mut tracker)
            } else {
                None
            };
            let removal = Removal {
                excluded: &excluded,
                moved: &pods,
                unsettled: true,
                no_existing_list: true,
                resume_from: checkpoint.and_then(|i| base.checkpoints.as_ref()?.get(i)),
                checkpoint_after: None,
            };
            // The pending pods are borrowed, so that they are not copied per simulation.
            Some(if !shared_nodes {
                let mut nodes = self.destination_nodes(view, true);
                solve(
                    &base.pending,
                    &mut nodes,
                    removal,
                    pools,
                    &mut limits,
                    &mut tracker,
                    &mut SimulationCache::default(),
                )
            } else {
                solve(
                    &base.pending,
                    &mut base.nodes,
                    removal,
                    pools,
                    &mut limits,
                    &mut tracker,
                    &mut base.cache,
                )
            })
        };
        // The working lists go back to the base for its next simulation.
        let candidate_pods = tracker.into_rescheduled();
        let placement = placement.ok_or(Unconsolidatable::UninitializedDestination);
        let verdict = placement.and_then(|placement| {
            removal_verdict(placement, &candidate_pods).map(|placement| Simulation {
                placement,
                candidate_price,
            })
        });
        base.rescheduled = candidate_pods;
        base.excluded = excluded;
        base.limits_scratch = limits;
        verdict
    }

    /// Simulates removing `candidates`: delete when their pods fit on other nodes, replace when
    /// they need exactly one new NodeClaim with options strictly cheaper than the candidates
    /// (`computeConsolidation`); otherwise the reason nothing can be done. `presorted`, when
    /// given, keeps the sorted pods of the earlier prefixes of the list `candidates` is a prefix
    /// of.
    pub(super) fn compute_consolidation<'v, 'c>(
        &self,
        view: &ClusterView<'v>,
        method: Method,
        candidates: &[NodeId],
        base: Option<&mut ConsolidationBase<'v>>,
        presorted: Option<&mut PrefixPods<'c>>,
        facts: &PodFacts<'c>,
    ) -> Result<Command, Unconsolidatable> {
        let pools = self.pools.as_ref().expect("pools resolved");
        let Simulation {
            placement,
            candidate_price,
        } = self.simulate_removal(view, candidates, base, presorted, facts)?;

        let claim = match placement.claims.as_slice() {
            [] => {
                let command = Command {
                    method,
                    candidates: candidates.to_vec(),
                    replacements: vec![],
                    candidate_price,
                };
                self.check_balanced(view, &command)?;
                return Ok(command);
            }
            [claim] => claim,
            claims => return Err(Unconsolidatable::NeedsManyNodes(claims.len())),
        };
        let pool = &pools[claim.pool];
        let all_spot = candidates
            .iter()
            .filter_map(|id| view.cluster.node(*id))
            .all(|n| n.capacity_type == CapacityType::Spot);
        if all_spot && pool.allows_spot && !self.config.spot_to_spot_consolidation {
            // Feature gate SpotToSpotConsolidation, off by default: no spot-to-spot replace.
            return Err(Unconsolidatable::SpotToSpotDisabled);
        }
        // A replacement that may be spot is launched as spot (OD → [OD, spot] is constrained
        // to spot), priced at its worst current spot price.
        let capacity_type = if pool.allows_spot {
            CapacityType::Spot
        } else {
            CapacityType::OnDemand
        };
        let price_of =
            |i: usize| self.option_price(view, pool, i, capacity_type, claim.zone.as_ref());
        // On-demand prices never fall along the options, because the pool's options are sorted
        // by on-demand price and a NodeClaim keeps its options in the pool's order. So the
        // options cheaper than the candidates are a prefix, found by a binary search.
        let considered = match capacity_type {
            CapacityType::OnDemand => {
                debug_assert!(claim.options.is_sorted());
                let end = claim
                    .options
                    .partition_point(|&i| pool.options[i].price < candidate_price);
                // The options are pool indexes in ascending order, so the room of each one
                // considered fits in a room of the pool's frontier up to the last of them. When
                // the NodeClaim's requests fit in none of those rooms, no option fits the pods,
                // and the filter below would keep none.
                let holds_none = end > 0
                    && !pool.prefix_room_frontier[claim.options[end - 1]]
                        .iter()
                        .any(|room| claim.requests.fits_in(room));
                if holds_none {
                    &claim.options[..0]
                } else {
                    &claim.options[..end]
                }
            }
            CapacityType::Spot => &claim.options[..],
        };
        // The simulation leaves the options unsettled, so the options that cannot hold the pods
        // are dropped here, in the same pass as the price filter.
        let mut cheaper: Vec<usize> = considered
            .iter()
            .copied()
            .filter(|&i| {
                claim.option_holds_pods(pool, i) && price_of(i).is_some_and(|p| p < candidate_price)
            })
            .collect();
        // The cheaper types must still meet minValues, the NodeClaim's relaxed ones under
        // BestEffort, before the empty check (`RemoveInstanceTypeOptionsByPriceAndMinValues`).
        let relaxed = &claim.relaxed_min_values;
        let zone = claim.zone.as_ref();
        if !min_values::satisfied(pool, relaxed, &cheaper, zone) {
            let keys = min_values::unmet_keys(pool, relaxed, &cheaper, zone);
            return Err(Unconsolidatable::MinValuesAfterPriceFilter(
                keys.into_iter().map(str::to_string).collect(),
            ));
        }
        if cheaper.is_empty() {
            return Err(Unconsolidatable::NotCheaper);
        }
        // Single-node spot-to-spot needs 15 cheaper types. It keeps the 15 cheapest, or as many
        // of the cheapest as minValues needs where that is more. Multi-node spot-to-spot has
        // no such rule (`computeSpotToSpotConsolidation`). "Cheapest" orders by the lowest
        // compatible offering price (`OrderByPrice`), while the filter above used the highest.
        if all_spot && capacity_type == CapacityType::Spot && candidates.len() == 1 {
            if cheaper.len() < MIN_SPOT_TO_SPOT_TYPES {
                return Err(Unconsolidatable::TooFewCheaperSpotTypes(cheaper.len()));
            }
            cheaper.sort_by_key(|&i| {
                self.cheapest_offering_price(view, pool, i, claim.zone.as_ref(), None)
                    .map_or(u64::MAX, |p| p.0)
            });
            let for_min_values = min_values::needed(pool, relaxed, &cheaper, zone).unwrap_or(0);
            cheaper.truncate(MIN_SPOT_TO_SPOT_TYPES.max(for_min_values));
        }
        let command = Command {
            method,
            candidates: candidates.to_vec(),
            replacements: vec![Replacement {
                pool: claim.pool,
                options: cheaper,
                zone: claim.zone.clone(),
                capacity_type,
            }],
            candidate_price,
        };
        self.check_balanced(view, &command)?;
        Ok(command)
    }

    /// Checks a move against the `Balanced` policy of every candidate's NodePool that has it
    /// (v1.14 `pkg/controllers/disruption/balanced.go`): the pool's share of the savings over
    /// its total cost, divided by the pool's share of the move's disruption cost over its total
    /// disruption cost, must be at least 1/k with k = 2. Savings are the candidates' price less
    /// the replacement's cheapest option, split across pools by the candidates' prices.
    fn check_balanced(
        &self,
        view: &ClusterView<'_>,
        command: &Command,
    ) -> Result<(), Unconsolidatable> {
        let pools = self.pools.as_ref().expect("pools resolved");
        let balanced: BTreeSet<usize> = command
            .candidates
            .iter()
            .filter_map(|id| view.cluster.node(*id))
            .filter_map(|n| self.pool_index(&n.owner))
            .filter(|&p| pools[p].config.consolidation_policy == ConsolidationPolicy::Balanced)
            .collect();
        if balanced.is_empty() {
            return Ok(());
        }
        let replacement_price = command.replacements.first().map_or(0, |r| {
            let pool = &pools[r.pool];
            r.options
                .iter()
                .filter_map(|&i| self.option_price(view, pool, i, r.capacity_type, r.zone.as_ref()))
                .min()
                .map_or(0, |p| p.0)
        });
        let savings = command.candidate_price.0.saturating_sub(replacement_price) as f64;
        // Total price and disruption cost of some nodes.
        let totals = |nodes: &[&Node]| -> (f64, f64) {
            let cost = nodes
                .iter()
                .map(|n| self.node_price(view, n).0 as f64)
                .sum();
            let disruption = nodes.iter().map(|n| reschedule_cost(view, n)).sum();
            (cost, disruption)
        };
        for pool in balanced {
            let name = &pools[pool].config.name;
            let nodes: Vec<&Node> = view
                .cluster
                .nodes()
                .filter(|n| &n.owner == name && n.state != NodeState::Deleting)
                .collect();
            let (pool_cost, pool_disruption) = totals(&nodes);
            let sources: Vec<&Node> = command
                .candidates
                .iter()
                .filter_map(|id| view.cluster.node(*id))
                .filter(|n| &n.owner == name)
                .collect();
            let (source_cost, move_disruption) = totals(&sources);
            let share = source_cost / (command.candidate_price.0 as f64).max(1.0);
            let score = (savings * share / pool_cost.max(1.0))
                / (move_disruption / pool_disruption.max(1.0));
            if score < 1.0 / BALANCED_K {
                return Err(Unconsolidatable::BalancedScoreTooLow);
            }
        }
        Ok(())
    }

    /// Worst-case launch price of option `i` of `pool` in `capacity_type`: the highest spot
    /// price over the zones it may launch in, or the on-demand price
    /// (`Offerings.WorstLaunchPrice`). `None` when no spot offering is available.
    pub(super) fn option_price(
        &self,
        view: &ClusterView<'_>,
        pool: &ResolvedPool,
        i: usize,
        capacity_type: CapacityType,
        zone: Option<&String>,
    ) -> Option<Price> {
        match capacity_type {
            CapacityType::Spot => {
                self.worst_spot_price(view, pool, pool.options[i].instance_type, zone)
            }
            CapacityType::OnDemand => Some(pool.options[i].price),
        }
    }

    /// After the validation delay: re-check the command against the current state, then act.
    pub(super) fn validate_and_execute(&mut self, view: &ClusterView<'_>, actions: &mut Actions) {
        let Some(command) = self.pending_command.take() else {
            return;
        };
        self.pod_cache.refresh(view.cluster);
        let facts = PodFacts::gather(view, &self.pod_cache);
        let validated = match command.method {
            Method::Emptiness => {
                // Emptiness keeps the candidates that are still empty and eligible, within budget.
                let mut budgets = self.available_budgets(view, BudgetReason::Empty);
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
            Method::SingleNode | Method::MultiNode | Method::Drift => {
                self.revalidate(view, &facts, command)
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

    /// Re-simulates a consolidation command (`validation.go`): every candidate must still be
    /// one, the new result must be of the same kind, and a replacement's options must all
    /// still be among the new result's options.
    fn revalidate(
        &self,
        view: &ClusterView<'_>,
        facts: &PodFacts,
        command: Command,
    ) -> Option<Command> {
        let eligible = command.candidates.iter().all(|id| {
            view.cluster
                .node(*id)
                .is_some_and(|n| self.is_candidate(n, view, facts))
        });
        if !eligible {
            return None;
        }
        let mut fresh = self
            .compute_consolidation(view, command.method, &command.candidates, None, None, facts)
            .ok()?;
        if command.method == Method::MultiNode {
            self.filter_out_same_type(view, &mut fresh);
        }
        let same = match (
            fresh.replacements.as_slice(),
            command.replacements.as_slice(),
        ) {
            ([], []) => true,
            ([new], [old]) => old.options.iter().all(|o| new.options.contains(o)),
            _ => false,
        };
        same.then_some(command)
    }

    /// Starts a command: deletes the candidates at once when it has no replacement; otherwise
    /// launches each replacement, cordons the candidates and deletes them once every
    /// replacement is Ready (`queue.go`).
    pub(super) fn execute(
        &mut self,
        command: Command,
        view: &ClusterView<'_>,
        actions: &mut Actions,
    ) {
        let reason = command.method.reason();
        if command.replacements.is_empty() {
            for id in &command.candidates {
                let node = view.cluster.node(*id).expect("validated candidate exists");
                // Pods in their grace period are counted apart: an empty node may still hold them.
                let active = view.cluster.active_pods_on(*id).count();
                let terminating = node.pods.len() - active;
                let pods = if terminating > 0 {
                    format!("{active} pods, {terminating} terminating")
                } else {
                    format!("{active} pods")
                };
                let detail = format!(
                    "{}: delete node {} ({} {}, ${:.4}/h, {pods}) by {}{}",
                    reason.as_str(),
                    node.name,
                    node.capacity_type.label(),
                    view.catalog.get(node.instance_type).name,
                    self.node_price(view, node).usd_per_hour(),
                    command.method.name(),
                    self.candidate_list(view, &command),
                );
                self.delete(actions, node, reason, detail);
                self.disrupting.insert(*id);
            }
            return;
        }

        // Replace: launch the cheapest option of each replacement, cordon the candidates, and
        // delete them once the replacements are Ready.
        let mut waiting = BTreeSet::new();
        for replacement in &command.replacements {
            match self.launch_replacement(view, &command, replacement, actions) {
                Some(node) => {
                    waiting.insert(node);
                }
                None => {
                    // Every offering is unavailable: the command fails, and the replacements
                    // already launched stay as ordinary nodes.
                    return;
                }
            }
        }
        for id in &command.candidates {
            actions.cordon(*id, true);
            self.disrupting.insert(*id);
        }
        self.next_command += 1;
        for node in &waiting {
            self.replacements.insert(*node, self.next_command);
        }
        self.in_flight
            .insert(self.next_command, InFlight { command, waiting });
    }

    /// Lists a command's candidates for the decision log when there is more than one.
    fn candidate_list(&self, view: &ClusterView<'_>, command: &Command) -> String {
        if command.candidates.len() < 2 {
            return String::new();
        }
        let names = candidate_names(view, command);
        format!(
            " with {} candidates [{}] at ${:.4}/h",
            names.len(),
            names.join(", "),
            command.candidate_price.usd_per_hour()
        )
    }

    /// Launches one replacement NodeClaim of a command and returns its node.
    fn launch_replacement(
        &self,
        view: &ClusterView<'_>,
        command: &Command,
        replacement: &Replacement,
        actions: &mut Actions,
    ) -> Option<NodeId> {
        let zone = replacement.zone.clone().or_else(|| {
            view.cluster
                .node(command.candidates[0])
                .map(|n| n.zone.clone())
        });
        let offering = self.choose_offering(
            view,
            replacement.pool,
            &replacement.options,
            zone.as_ref(),
            Some(replacement.capacity_type),
        )?;
        let pools = self.pools.as_ref().expect("pools resolved");
        let pool = &pools[replacement.pool];
        let option = &pool.options[offering.option];
        let mut labels = option.labels.clone();
        let (key, value) = super::offerings::capacity_label(offering.capacity_type);
        labels.insert(key, value);
        let names = candidate_names(view, command);
        // The options in Karpenter's order (`OrderByPrice`, by the cheapest offering; stable
        // here), each with that price and the worst-case one the price filter compared.
        let claim_zone = replacement.zone.as_ref();
        let mut priced: Vec<(Option<Price>, Option<Price>, usize)> = replacement
            .options
            .iter()
            .map(|&i| {
                let worst = self.option_price(view, pool, i, replacement.capacity_type, claim_zone);
                let cheapest = match replacement.capacity_type {
                    CapacityType::Spot => {
                        self.cheapest_offering_price(view, pool, i, claim_zone, None)
                    }
                    CapacityType::OnDemand => worst,
                };
                (cheapest, worst, i)
            })
            .collect();
        priced.sort_by_key(|&(cheapest, _, _)| cheapest.map_or(u64::MAX, |p| p.0));
        let types: Vec<String> = priced
            .iter()
            .take(5)
            .map(|&(cheapest, worst, i)| {
                let name = &view.catalog.get(pool.options[i].instance_type).name;
                match (cheapest, worst) {
                    (Some(low), Some(high)) if low != high => format!(
                        "{name} ${:.4}-{:.4}/h",
                        low.usd_per_hour(),
                        high.usd_per_hour()
                    ),
                    (_, Some(price)) => format!("{name} ${:.4}/h", price.usd_per_hour()),
                    _ => name.clone(),
                }
            })
            .collect();
        let more = if replacement.options.len() > 5 {
            ", ..."
        } else {
            ""
        };
        Some(actions.launch(LaunchRequest {
            owner: pool.config.name.clone(),
            instance_type: option.instance_type,
            capacity_type: offering.capacity_type,
            zone: offering.zone.clone(),
            labels,
            taints: pool.config.taints.clone(),
            annotations: pool.config.annotations.clone(),
            reason: format!(
                "{}: replacement by {} for {} at ${:.4}/h; {} instance types [{}{more}], launched {} {} at ${:.4}/h",
                command.method.reason().as_str(),
                command.method.name(),
                names.join(", "),
                command.candidate_price.usd_per_hour(),
                replacement.options.len(),
                types.join(", "),
                offering.capacity_type.label(),
                view.catalog.get(option.instance_type).name,
                offering.price.usd_per_hour()
            ),
            alternatives: offering.alternatives.clone(),
        }))
    }

    /// Deletes the candidates of a command once its last replacement is Ready.
    pub(super) fn on_replacement_ready(
        &mut self,
        node: NodeId,
        view: &ClusterView<'_>,
        actions: &mut Actions,
    ) {
        let Some(id) = self.replacements.remove(&node) else {
            return;
        };
        let Some(in_flight) = self.in_flight.get_mut(&id) else {
            return;
        };
        in_flight.waiting.remove(&node);
        if !in_flight.waiting.is_empty() {
            return;
        }
        let command = self.in_flight.remove(&id).expect("looked up above").command;
        let replacement = view
            .cluster
            .node(node)
            .map(|n| format!("{} ({})", n.name, view.catalog.get(n.instance_type).name))
            .unwrap_or_default();
        let reason = command.method.reason();
        for candidate_id in command.candidates {
            if let Some(candidate) = view.cluster.node(candidate_id) {
                let detail = format!(
                    "{}: replace node {} ({} {}, ${:.4}/h) by {}; last replacement ready: {replacement}",
                    reason.as_str(),
                    candidate.name,
                    candidate.capacity_type.label(),
                    view.catalog.get(candidate.instance_type).name,
                    candidate.price.usd_per_hour(),
                    command.method.name(),
                );
                self.delete(actions, candidate, reason, detail);
            }
        }
    }

    /// Forgets a removed node; a replacement that failed before Ready fails its command and
    /// releases the candidates.
    pub(super) fn on_node_removed(&mut self, node: NodeId, actions: &mut Actions) {
        self.disrupting.remove(&node);
        self.nominated_until.remove(&node);
        self.unconsolidatable.remove(&node);
        self.blocking_pods.remove(&node);
        self.blocked_nodes.remove(&node);
        self.drifted.remove(&node);
        let Some(id) = self.replacements.remove(&node) else {
            return;
        };
        let Some(in_flight) = self.in_flight.remove(&id) else {
            return;
        };
        self.replacements.retain(|_, command| *command != id);
        for candidate in in_flight.command.candidates {
            self.disrupting.remove(&candidate);
            actions.cordon(candidate, false);
        }
    }
}

/// The reason candidates cannot be consolidated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Unconsolidatable {
    /// A candidate left the cluster.
    Gone,
    /// Some of the candidates' pods would not schedule.
    PodsWouldNotSchedule,
    /// Some pod would only fit on a node that is not initialized.
    UninitializedDestination,
    /// The pods need this many new nodes.
    NeedsManyNodes(usize),
    /// No replacement option is cheaper than the candidates.
    NotCheaper,
    /// The candidates are spot, and the feature gate SpotToSpotConsolidation is off.
    SpotToSpotDisabled,
    /// A single spot candidate has this many cheaper spot types, fewer than 15.
    TooFewCheaperSpotTypes(usize),
    /// The replacement's types that are cheaper than the candidates fall short of `minValues`
    /// for these keys.
    MinValuesAfterPriceFilter(Vec<String>),
    /// A `Balanced` NodePool rejects the move: it saves too little for the pods it moves.
    BalancedScoreTooLow,
}

impl Unconsolidatable {
    /// Returns the text of Karpenter's `Unconsolidatable` event for a single candidate
    /// (`pkg/controllers/disruption/consolidation.go`), or `None` for a reason without one.
    pub fn event(&self) -> Option<String> {
        match self {
            Unconsolidatable::Gone | Unconsolidatable::BalancedScoreTooLow => None,
            Unconsolidatable::PodsWouldNotSchedule => {
                Some("Not all pods would schedule".to_string())
            }
            Unconsolidatable::UninitializedDestination => Some(
                "Not all pods would schedule, would schedule against uninitialized nodeclaim"
                    .to_string(),
            ),
            Unconsolidatable::NeedsManyNodes(n) => {
                Some(format!("Can't remove without creating {n} candidates"))
            }
            Unconsolidatable::NotCheaper => Some("Can't replace with a cheaper node".to_string()),
            Unconsolidatable::SpotToSpotDisabled => Some(
                "SpotToSpotConsolidation is disabled, can't replace a spot node with a spot node"
                    .to_string(),
            ),
            Unconsolidatable::MinValuesAfterPriceFilter(keys) => Some(format!(
                "Filtering by price: minValues requirement is not met for label(s) {}",
                keys.join(", ")
            )),
            Unconsolidatable::TooFewCheaperSpotTypes(got) => Some(format!(
                "SpotToSpotConsolidation requires {MIN_SPOT_TO_SPOT_TYPES} cheaper instance type options than the current candidate to consolidate, got {got}"
            )),
        }
    }
}
