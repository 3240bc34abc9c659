//! Provisioning: the batch window and the launch of new NodeClaims.

use autoscale_sim_cloud::Resources;
use autoscale_sim_kube::{NodeState, quantity};

use super::offerings::capacity_label;
use super::scheduling::{
    RemainingLimits, Removal, SimNode, SimPod, SimulationCache, SortedPods, solve, sort_nodes,
    unschedulable_pods,
};
use super::{Karpenter, TIMER_BATCH_IDLE, TIMER_BATCH_MAX, token};
use super::{MinValuesPolicy, min_values};
use crate::api::{Actions, ClusterView, LaunchRequest};
use crate::topology::TopologyTracker;

/// Instance types a NodeClaim keeps, cheapest first (`MaxInstanceTypes` in kubernetes-sigs/karpenter
/// v1.13 `pkg/controllers/provisioning/scheduling/nodeclaimtemplate.go`; it was 60 up to v1.5).
pub(super) const MAX_INSTANCE_TYPES: usize = 600;

impl Karpenter {
    /// Opens a batch window, or restarts the idle timer of the open one (`provisioning/batcher.go`).
    pub(super) fn trigger_batch(&mut self, view: &ClusterView<'_>, actions: &mut Actions) {
        self.batch_generation += 1;
        actions.set_timer(
            view.now + self.config.batch_idle_duration,
            token(TIMER_BATCH_IDLE, self.batch_generation),
        );
        self.batch_idle = Some(self.batch_generation);
        if self.batch_max.is_none() {
            actions.set_timer(
                view.now + self.config.batch_max_duration,
                token(TIMER_BATCH_MAX, self.batch_generation),
            );
            self.batch_max = Some(self.batch_generation);
        }
    }

    /// Closes the batch window if `kind` and `generation` name its live idle or max timer.
    pub(super) fn batch_timer_fired(&mut self, kind: u64, generation: u64) -> bool {
        let live = match kind {
            TIMER_BATCH_IDLE => self.batch_idle == Some(generation),
            TIMER_BATCH_MAX => self.batch_max == Some(generation),
            _ => false,
        };
        if live {
            self.batch_idle = None;
            self.batch_max = None;
        }
        live
    }

    /// Schedules every Unschedulable pod and launches the NodeClaims the simulation opens.
    pub(super) fn provision(&mut self, view: &ClusterView<'_>, actions: &mut Actions) {
        let mut pods = unschedulable_pods(view.cluster);
        // Pods still running on nodes being deleted, or held by a disruption command, get a
        // place before their node goes (`nodes.Deleting().CurrentlyReschedulablePods` in
        // kubernetes-sigs/karpenter v1.13 provisioner.go).
        let leaving = view
            .cluster
            .nodes()
            .filter(|n| n.state == NodeState::Deleting || self.disrupting.contains(&n.id));
        for node in leaving {
            pods.extend(view.cluster.active_pods_on(node.id).map(SimPod::of));
        }
        if pods.is_empty() {
            return;
        }
        self.pools(view);
        let pools = self.pools.as_ref().expect("pools resolved");

        // Existing and in-flight nodes that are not being removed.
        let pods = SortedPods::new(pods);
        let ports = pods.host_ports();
        let mut nodes: Vec<SimNode> = view
            .cluster
            .nodes()
            .filter(|n| {
                n.state != NodeState::Deleting && !n.cordoned && !self.disrupting.contains(&n.id)
            })
            .map(|n| SimNode::new(n, view.cluster, ports))
            .collect();
        sort_nodes(&mut nodes);
        let mut limits = self.remaining_limits(view);
        let mut tracker = TopologyTracker::new(view.cluster, view.zones);
        let placement = solve(
            &pods,
            &mut nodes,
            Removal::default(),
            pools,
            &mut limits,
            &mut tracker,
            &mut SimulationCache::default(),
        );

        // Nominate the existing nodes that received pods; they may not be disrupted meanwhile.
        let until = view.now + self.config.nomination_window();
        for (_, node) in &placement.on_existing {
            self.nominated_until.insert(*node, until);
        }

        for claim in &placement.claims {
            let pool = &pools[claim.pool];
            // Karpenter cuts a NodeClaim to its 600 cheapest types and drops it when the cut list
            // no longer meets minValues (`TruncateInstanceTypes`). The AWS provider then sends
            // the 60 cheapest, again only if they meet minValues. Under BestEffort neither cut
            // checks minValues (`InstanceTypes.Truncate`). Both cuts order by each type's
            // cheapest offering (`OrderByPrice`), and a type with no available offering goes
            // last. The options are in on-demand price order, so only a NodeClaim that may be
            // spot, or a cut while some offering is unavailable, needs a sort.
            let by_offering_price;
            let truncated: &[usize] = if claim.options.len() > MAX_INSTANCE_TYPES
                && (pool.allows_spot || !self.unavailable.is_empty())
            {
                let mut sorted = claim.options.clone();
                sorted.sort_by_cached_key(|&option| {
                    self.cheapest_offering_price(view, pool, option, claim.zone.as_ref(), None)
                        .map_or(u64::MAX, |price| price.0)
                });
                sorted.truncate(MAX_INSTANCE_TYPES);
                by_offering_price = sorted;
                &by_offering_price
            } else {
                &claim.options[..claim.options.len().min(MAX_INSTANCE_TYPES)]
            };
            let sent = self.launch_types(view, claim.pool, truncated, claim.zone.as_ref(), None);
            let strict = pool.min_values_policy == MinValuesPolicy::Strict;
            let relaxed = &claim.relaxed_min_values;
            if strict
                && (!min_values::satisfied(pool, relaxed, truncated, claim.zone.as_ref())
                    || !min_values::satisfied(pool, relaxed, &sent, claim.zone.as_ref()))
            {
                tracing::debug!(
                    nodepool = %pool.config.name,
                    pods = claim.pods.len(),
                    "NodeClaim dropped: its cheapest instance types do not meet minValues"
                );
                continue;
            }
            let Some(offering) =
                self.choose_offering(view, claim.pool, truncated, claim.zone.as_ref(), None)
            else {
                // Every offering is in the unavailable cache; the pods wait for the next batch.
                continue;
            };
            let chosen = &pool.options[offering.option];
            let instance_type = view.catalog.get(chosen.instance_type);
            let sent: Vec<&str> = sent
                .iter()
                .map(|&i| {
                    view.catalog
                        .get(pool.options[i].instance_type)
                        .name
                        .as_str()
                })
                .collect();
            let mut reason = format!(
                "Provisioning: NodeClaim from NodePool {} for {} pods (requests cpu {}, memory {} plus daemon overhead); {} instance types fit; launched {} {} in {} at ${:.4}/h; types sent: {}",
                pool.config.name,
                claim.pods.len(),
                quantity::format_cpu_millis(claim.requests.cpu_millis),
                quantity::format_bytes(claim.requests.memory_bytes),
                claim.options.len(),
                offering.capacity_type.label(),
                instance_type.name,
                offering.zone,
                offering.price.usd_per_hour(),
                sent.iter().take(5).copied().collect::<Vec<_>>().join(", ")
                    + if sent.len() > 5 { ", ..." } else { "" },
            );
            if !relaxed.is_empty() {
                // The scheduler annotates such a NodeClaim
                // `karpenter.sh/nodeclaim-min-values-relaxed: "true"`.
                let minimums: Vec<String> = pool
                    .min_values
                    .iter()
                    .zip(relaxed)
                    .filter(|((_, min), low)| *low < min)
                    .map(|((key, min), low)| format!("{key} {min} → {low}"))
                    .collect();
                reason.push_str(&format!(
                    "; minValues relaxed (BestEffort): {}",
                    minimums.join(", ")
                ));
            }
            let mut labels = chosen.labels.clone();
            let (key, value) = capacity_label(offering.capacity_type);
            labels.insert(key, value);
            actions.launch(LaunchRequest {
                owner: pool.config.name.clone(),
                instance_type: chosen.instance_type,
                capacity_type: offering.capacity_type,
                zone: offering.zone,
                labels,
                taints: pool.config.taints.clone(),
                annotations: pool.config.annotations.clone(),
                reason,
                alternatives: offering.alternatives,
            });
        }
    }

    /// Returns each pool's `spec.limits` less the capacity and the count of its nodes that are
    /// not being deleted. Karpenter v1.13 starts a simulation from the NodePools' limits less
    /// the capacity of every active state node (`updateRemainingResources` in scheduler.go).
    pub(super) fn remaining_limits(&self, view: &ClusterView<'_>) -> Vec<RemainingLimits> {
        let pools = self.pools.as_ref().expect("pools resolved");
        pools
            .iter()
            .map(|pool| {
                let active = || {
                    view.cluster.nodes().filter(|n| {
                        n.owner == pool.config.name
                            && n.state != NodeState::Deleting
                            && !self.disrupting.contains(&n.id)
                    })
                };
                RemainingLimits {
                    resources: pool.config.limits.map(|limit| {
                        let used: Resources = active()
                            .map(|n| view.catalog.get(n.instance_type).capacity())
                            .sum();
                        limit - used
                    }),
                    nodes: pool
                        .config
                        .limit_nodes
                        .map(|limit| i64::from(limit) - active().count() as i64),
                }
            })
            .collect()
    }
}
