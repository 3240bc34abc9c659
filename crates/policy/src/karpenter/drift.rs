//! NodePool changes during a run, drift, and expiration.
//!
//! * A NodeClaim is Drifted when its NodePool's template changed after it launched
//!   (kubernetes-sigs/karpenter v1.13 `pkg/controllers/nodeclaim/disruption/drift.go`). Either
//!   the hashed template fields differ (`NodePoolDrifted`), or the node's labels no longer
//!   satisfy the requirements (`RequirementsDrifted`). The hashed fields modelled are labels,
//!   annotations, taints, expireAfter and terminationGracePeriod, because requirements are `hash:"ignore"` in
//!   `pkg/apis/v1/nodeclaim.go`. A change of the EC2NodeClass the NodePool names, or of which
//!   class it names, drifts the nodes too (aws/karpenter-provider-aws v1.13
//!   `pkg/cloudprovider/drift.go`: the class's static hash, AMIs, subnets and security groups).
//! * The Drift method (`pkg/controllers/disruption/drift.go`) replaces one drifted node per
//!   pass within the `Drifted` budget: empty nodes first, then the others, each group oldest
//!   drift first. Emptiness runs before it and takes the empty nodes that may be consolidated,
//!   so Drift's empty nodes are those Emptiness may not take (consolidateAfter `Never` or not
//!   yet elapsed). It simulates scheduling without the node and launches however many
//!   NodeClaims its pods need, with no price check and no validation wait.
//! * Expiration (`pkg/controllers/nodeclaim/expiration/controller.go`) deletes a NodeClaim
//!   `expireAfter` after its creation, regardless of budgets and do-not-disrupt; the
//!   provisioner then finds room for its evicted pods.

use std::collections::BTreeMap;

use autoscale_sim_cloud::KubeletConfig;
use autoscale_sim_engine::{SimDuration, SimTime};
use autoscale_sim_kube::{CapacityType, Node, NodeState, Taint};

use super::disruption::{Command, Method, PodFacts, Replacement};
use super::{BudgetReason, Karpenter, NodePool, TIMER_EXPIRATION, TIMER_POOL_UPDATE, token};
use crate::api::{Actions, ClusterView, DisruptionReason, DrainRules};

/// The fields of a NodePool's template whose change drifts its NodeClaims statically.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct TemplateFields {
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    taints: Vec<Taint>,
    expire_after: Option<SimDuration>,
    termination_grace_period: Option<SimDuration>,
    node_class: Option<String>,
    node_class_revision: u32,
    kubelet: KubeletConfig,
}

impl TemplateFields {
    fn of(pool: &NodePool) -> Self {
        TemplateFields {
            labels: pool.labels.clone(),
            annotations: pool.annotations.clone(),
            taints: pool.taints.clone(),
            expire_after: pool.expire_after,
            termination_grace_period: pool.termination_grace_period,
            node_class: pool.node_class.clone(),
            node_class_revision: pool.node_class_revision,
            kubelet: pool.kubelet.clone(),
        }
    }
}

impl Karpenter {
    /// Records each NodePool's template as of the start and sets a timer per NodePool update.
    pub(super) fn start_pool_updates(&mut self, view: &ClusterView<'_>, actions: &mut Actions) {
        for pool in &self.config.node_pools {
            self.template_history.insert(
                pool.name.clone(),
                vec![(view.now, TemplateFields::of(pool))],
            );
        }
        for (index, update) in self.config.node_pool_updates.iter().enumerate() {
            actions.set_timer(
                SimTime::ZERO + update.at,
                token(TIMER_POOL_UPDATE, index as u64),
            );
        }
    }

    /// Applies NodePool update `index`: the pool's spec changes, its instance types are
    /// resolved again, and its nodes are marked Drifted where they no longer match.
    pub(super) fn apply_pool_update(
        &mut self,
        index: usize,
        view: &ClusterView<'_>,
        actions: &mut Actions,
    ) {
        let Some(update) = self.config.node_pool_updates.get(index).cloned() else {
            return;
        };
        let pool = update.pool;
        match self
            .config
            .node_pools
            .iter_mut()
            .find(|p| p.name == pool.name)
        {
            Some(existing) => *existing = pool.clone(),
            None => self.config.node_pools.push(pool.clone()),
        }
        self.pools = None;
        self.pools(view);
        self.single_node_verdicts.clear();
        self.lone_pod_options.get_mut().clear();
        self.expiry_bound = None;
        // A command computed against the old pools is dropped; the next pass recomputes it.
        if self.pending_command.take().is_some() {
            self.arm_disruption(view.now, actions);
        }

        let fields = TemplateFields::of(&pool);
        let history = self.template_history.entry(pool.name.clone()).or_default();
        if history.last().is_none_or(|(_, last)| *last != fields) {
            history.push((view.now, fields));
        }
        let nodes: Vec<&Node> = view
            .cluster
            .nodes()
            .filter(|n| n.owner == pool.name && n.state != NodeState::Deleting)
            .collect();
        for node in nodes {
            let drifted = self.is_drifted(node, &pool);
            if drifted {
                self.drifted.entry(node.id).or_insert(view.now);
            } else {
                self.drifted.remove(&node.id);
            }
        }
    }

    /// Checks whether a node no longer matches `pool`: its template fields as of its launch
    /// differ from the pool's, or its labels break one of the pool's requirements on a label
    /// it has.
    fn is_drifted(&self, node: &Node, pool: &NodePool) -> bool {
        let launched_with = self.launched_with(node);
        let static_drift = launched_with.is_some_and(|fields| *fields != TemplateFields::of(pool));
        let requirements_drift = pool
            .requirements
            .iter()
            .filter(|r| node.labels.contains_key(&r.key))
            .any(|r| !r.matches(&node.labels));
        static_drift || requirements_drift
    }

    /// Checks whether Drift may pick `node`. Drift is an eventual disruption, so a NodeClaim with
    /// a `terminationGracePeriod` is a candidate even when PodDisruptionBudgets or the
    /// do-not-disrupt annotation block its pods' eviction (kubernetes-sigs/karpenter v1.13
    /// `disruption/types.go` `NewCandidate`).
    pub(super) fn may_drift(&self, node: &Node, view: &ClusterView<'_>, facts: &PodFacts) -> bool {
        let bounded = self
            .launched_with(node)
            .is_some_and(|fields| fields.termination_grace_period.is_some());
        if bounded {
            self.is_disruptable_node(node, view)
        } else {
            self.is_disruptable(node, view, facts)
        }
    }

    /// Returns the template fields of `node`'s NodePool as of the node's launch.
    fn launched_with(&self, node: &Node) -> Option<&TemplateFields> {
        self.template_history.get(&node.owner).and_then(|history| {
            history
                .iter()
                .rev()
                .find(|(at, _)| *at <= node.launched_at)
                .or(history.first())
                .map(|(_, fields)| fields)
        })
    }

    /// Requests removal of `node` with the `terminationGracePeriod` that its NodeClaim got
    /// from its NodePool's template at launch.
    pub(super) fn delete(
        &self,
        actions: &mut Actions,
        node: &Node,
        reason: DisruptionReason,
        detail: String,
    ) {
        let drain = DrainRules {
            eviction_timeout: None,
            force_after: self
                .launched_with(node)
                .and_then(|fields| fields.termination_grace_period),
            keep_do_not_disrupt: true,
        };
        actions.delete_node_with(node.id, reason, detail, drain);
    }

    /// The Drift method: the first drifted node whose pods all schedule, within its pool's
    /// budget, taking empty nodes before the others and each group by drift time (v1.13
    /// `drift.go` `ComputeCommands`). It is deleted when its pods fit on other nodes, and
    /// replaced by as many NodeClaims as they need otherwise.
    pub(super) fn drift(&self, view: &ClusterView<'_>, facts: &PodFacts) -> Option<Command> {
        let mut drifted: Vec<(bool, SimTime, &Node)> = self
            .drifted
            .iter()
            .filter_map(|(id, since)| view.cluster.node(*id).map(|n| (n, *since)))
            .filter(|(n, _)| self.may_drift(n, view, facts))
            .map(|(n, since)| (!facts.is_empty(n), since, n))
            .collect();
        drifted.sort_by_key(|(occupied, since, n)| (*occupied, *since, n.id));

        let budgets = self.available_budgets(view, BudgetReason::Drifted);
        let pools = self.pools.as_ref().expect("pools resolved");
        for (_, _, node) in drifted {
            let pool = self.pool_index(&node.owner)?;
            if budgets[pool] == 0 {
                continue;
            }
            let Ok(mut simulation) = self.simulate_removal(view, &[node.id], None, None, facts)
            else {
                continue;
            };
            for claim in &mut simulation.placement.claims {
                claim.settle_options(&pools[claim.pool]);
            }
            let replacements = simulation
                .placement
                .claims
                .iter()
                .map(|claim| Replacement {
                    pool: claim.pool,
                    options: claim.options.clone(),
                    zone: claim.zone.clone(),
                    capacity_type: if pools[claim.pool].allows_spot {
                        CapacityType::Spot
                    } else {
                        CapacityType::OnDemand
                    },
                })
                .collect();
            return Some(Command {
                method: Method::Drift,
                candidates: vec![node.id],
                replacements,
                candidate_price: simulation.candidate_price,
            });
        }
        None
    }

    /// Expiration: deletes every node of a NodePool whose `expireAfter` has passed since its
    /// launch, ignoring budgets, and arms a timer for the next expiry.
    pub(super) fn expire(&mut self, view: &ClusterView<'_>, actions: &mut Actions) {
        if !self.expiry_walk_needed(view) {
            return;
        }
        let pools = self.pools.as_ref().expect("pools resolved");
        let mut next: Option<SimTime> = None;
        let mut expired = Vec::new();
        for node in view.cluster.nodes() {
            if node.state == NodeState::Deleting {
                continue;
            }
            let Some(expire_after) = self
                .pool_index(&node.owner)
                .and_then(|p| pools[p].config.expire_after)
            else {
                continue;
            };
            let at = node.launched_at + expire_after;
            if at <= view.now {
                expired.push((node.id, expire_after));
            } else {
                next = Some(next.map_or(at, |n| n.min(at)));
            }
        }
        let expired_none = expired.is_empty();
        for (id, expire_after) in expired {
            let node = view.cluster.node(id).expect("listed above");
            let detail = format!(
                "Expired: delete node {} ({} {}, ${:.4}/h, {} pods), launched at {} with expireAfter {}",
                node.name,
                node.capacity_type.label(),
                view.catalog.get(node.instance_type).name,
                node.price.usd_per_hour(),
                node.pods.len(),
                node.launched_at,
                expire_after,
            );
            self.delete(actions, node, DisruptionReason::Expired, detail);
            self.disrupting.insert(id);
        }
        // Karpenter's provisioner wakes for a node tainted for deletion (the provisioning
        // NodeController, kubernetes-sigs/karpenter v1.14) and finds its pods a place before
        // they leave it. Pods that wait for their eviction, such as do-not-disrupt pods, would
        // otherwise get a node only once theirs is gone.
        if !expired_none {
            self.trigger_batch(view, actions);
        }
        // Nodes expired here may still be walked next time, if they are not yet being deleted,
        // so the bound is kept only after a walk that expired none.
        self.expiry_bound = expired_none.then(|| (next, view.cluster.next_node_id()));
        if let Some(at) = next
            && self.expiration_timer.is_none_or(|armed| armed > at)
        {
            self.expiration_timer = Some(at);
            actions.set_timer(at, token(TIMER_EXPIRATION, 0));
        }
    }

    /// Checks whether [`Karpenter::expire`] must walk the nodes, after folding the nodes
    /// launched since the last walk into the stored bound on their expiry.
    ///
    /// Skipping the walk is exact, because the bound is at most the expiry of every node not
    /// being deleted. It was the least expiry of those nodes when stored, a node's launch time
    /// and NodePool never change, and a node that leaves or starts deleting only drops out of
    /// the minimum. Node ids grow with each launch, so the nodes from the stored id on are exactly
    /// the new ones, and they sit at the end of the id order. When the bound is after now and
    /// the armed timer is not after it, the walk would expire no node and arm no timer.
    fn expiry_walk_needed(&mut self, view: &ClusterView<'_>) -> bool {
        let Some((mut bound, first_new)) = self.expiry_bound else {
            return true;
        };
        let pools = self.pools.as_ref().expect("pools resolved");
        for position in (0..view.cluster.node_count()).rev() {
            let node = view.cluster.node_at(position);
            if node.id < first_new {
                break;
            }
            if node.state == NodeState::Deleting {
                continue;
            }
            let expire_after = self
                .pool_index(&node.owner)
                .and_then(|p| pools[p].config.expire_after);
            if let Some(expire_after) = expire_after {
                let at = node.launched_at + expire_after;
                bound = Some(bound.map_or(at, |b| b.min(at)));
            }
        }
        self.expiry_bound = Some((bound, view.cluster.next_node_id()));

        let quiet = bound.is_none_or(|at| {
            at > view.now && self.expiration_timer.is_some_and(|armed| armed <= at)
        });
        !quiet
    }
}
