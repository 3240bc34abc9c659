//! Provisioning: the batch window and the launch of new NodeClaims.

use autoscale_sim_cloud::Resources;
use autoscale_sim_kube::{NodeState, quantity};

use super::offerings::{MAX_INSTANCE_TYPES_AT_LAUNCH, capacity_label};
use super::scheduling::{SimNode, SimPod, any_host_ports, solve, sort_nodes};
use super::{Karpenter, TIMER_BATCH_IDLE, TIMER_BATCH_MAX, token};
use crate::api::{Actions, ClusterView, LaunchRequest};
use crate::topology::TopologyTracker;

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
        let pods: Vec<SimPod> = view
            .cluster
            .pending_pods()
            .filter(|p| p.unschedulable && !p.is_preempting())
            .map(|p| SimPod {
                id: p.id,
                spec: p.spec.clone(),
                created: p.created,
            })
            .collect();
        if pods.is_empty() {
            return;
        }
        self.pools(view);
        let pools = self.pools.as_ref().expect("pools resolved");

        // Existing and in-flight nodes that are not being removed.
        let ports = any_host_ports(&pods);
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
        let placement = solve(pods, &mut nodes, &[], pools, &mut limits, &mut tracker);

        // Nominate the existing nodes that received pods; they may not be disrupted meanwhile.
        let until = view.now + self.config.nomination_window();
        for (_, node) in &placement.on_existing {
            self.nominated_until.insert(*node, until);
        }

        for claim in &placement.claims {
            let pool = &pools[claim.pool];
            let Some(offering) =
                self.choose_offering(view, claim.pool, &claim.options, claim.zone.as_ref(), None)
            else {
                // Every offering is in the unavailable cache; the pods wait for the next batch.
                continue;
            };
            let chosen = &pool.options[offering.option];
            let instance_type = view.catalog.get(chosen.instance_type);
            let sent: Vec<&str> = claim
                .options
                .iter()
                .take(MAX_INSTANCE_TYPES_AT_LAUNCH)
                .map(|&i| {
                    view.catalog
                        .get(pool.options[i].instance_type)
                        .name
                        .as_str()
                })
                .collect();
            let reason = format!(
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
                reason,
                alternatives: offering.alternatives.clone(),
            });
        }
    }

    /// Each pool's `spec.limits` minus the capacity of its current nodes.
    pub(super) fn remaining_limits(&self, view: &ClusterView<'_>) -> Vec<Option<Resources>> {
        let pools = self.pools.as_ref().expect("pools resolved");
        pools
            .iter()
            .map(|pool| {
                pool.config.limits.map(|limit| {
                    let used: Resources = view
                        .cluster
                        .nodes()
                        .filter(|n| n.owner == pool.config.name)
                        .map(|n| view.catalog.get(n.instance_type).capacity())
                        .sum();
                    limit - used
                })
            })
            .collect()
    }
}
