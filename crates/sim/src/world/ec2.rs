//! The EC2 side of the world: launches and their phases, billing, failed launches, spot
//! interruptions and rebalance recommendations.

use autoscale_sim_cloud::{Cost, LaunchTimes, allocatable, billing};
use autoscale_sim_engine::{SimDuration, SimTime};
use autoscale_sim_kube::{CapacityType, NewNode, Node, NodeId, NodeState, Owner, PodId};
use autoscale_sim_policy::{LaunchRequest, PolicyEvent};

use super::{Departure, Event, World};
use crate::report::Decision;

/// Reason of a launch whose node did not register within the registration timeout.
const REGISTRATION_TIMEOUT: &str = "RegistrationTimeout";

/// Reason of a launch EC2 could not fill.
const INSUFFICIENT_CAPACITY: &str = "InsufficientInstanceCapacity";

/// Reason of a launch EC2 rejects, as for an availability zone it does not know.
const INVALID_PARAMETER: &str = "InvalidParameterValue";

impl World {
    /// Asks EC2 for an instance. The first offering of the request with capacity fills it, and
    /// the launch's phases are drawn. When no offering has capacity, the launch fails with
    /// InsufficientInstanceCapacity after the configured delay.
    pub(super) fn launch(&mut self, request: LaunchRequest, now: SimTime) {
        let catalog = self.config.catalog.clone();
        let spot = request.capacity_type == CapacityType::Spot;

        // EC2 fills the request with the first offering that has capacity.
        let offerings: Vec<(usize, String)> =
            std::iter::once((request.instance_type, request.zone.clone()))
                .chain(request.alternatives.iter().cloned())
                .collect();
        // A zone outside the scenario's: EC2 rejects the whole request at once, and nothing
        // is billed. Only a user's policy can ask for one.
        let unknown_zone = offerings
            .iter()
            .find(|(_, zone)| !self.config.zones.contains(zone))
            .map(|(_, zone)| zone.clone());
        let filled = offerings
            .iter()
            .filter(|_| unknown_zone.is_none())
            .find(|(t, z)| {
                !self
                    .market
                    .insufficient_capacity(&catalog.get(*t).name, z, spot, now)
            })
            .cloned();
        let (type_index, zone) = filled
            .clone()
            .unwrap_or_else(|| (request.instance_type, request.zone.clone()));
        let instance_type = catalog.get(type_index);
        let mut labels = request.labels;
        if type_index != request.instance_type {
            labels.extend(autoscale_sim_policy::requirements::instance_type_labels(
                instance_type,
            ));
        }
        let price = if spot && unknown_zone.is_none() {
            self.market.price(&catalog, type_index, &zone, now)
        } else {
            instance_type.on_demand_price
        };
        let node_allocatable = match self.node_kubelet.get(&request.owner) {
            Some(kubelet) => allocatable::node_allocatable_with(instance_type, kubelet),
            None => instance_type.allocatable(),
        };
        let new = NewNode {
            owner: request.owner,
            instance_type: type_index,
            instance_type_name: instance_type.name.clone(),
            capacity_type: request.capacity_type,
            zone: zone.clone(),
            price,
            labels,
            taints: request.taints,
            allocatable: node_allocatable,
        };
        let id = self.cluster.add_node(new, now);
        for (key, value) in &request.annotations {
            self.cluster.annotate_node(id, key, value);
        }
        self.log(now, "launch", id, None, "Launch", request.reason);

        if let Some(zone) = unknown_zone {
            self.rejected_launches.insert(id, zone);
            self.engine
                .schedule_in(SimDuration::ZERO, Event::LaunchFailed(id));
            return;
        }

        // No offering with capacity: InsufficientInstanceCapacity, and nothing is billed.
        if filled.is_none() {
            self.failed_launches.insert(id, offerings);
            self.engine.schedule_in(
                self.config.insufficient_capacity_delay,
                Event::LaunchFailed(id),
            );
            return;
        }
        self.metrics.node_launched();
        if spot {
            self.failed_spot_offerings.clear();
        } else if self.spot_still_short(now) {
            self.fallback_nodes.insert(id);
        }

        // The phases: running, then registered within the timeout and Ready, or a timeout.
        let times = self.config.launch_latency.sample(&mut self.launch_streams);
        let timeout = self.registration_timeout;
        if times.running < timeout {
            self.engine
                .schedule_in(times.running, Event::InstanceRunning(id));
        }
        if times.registered < timeout {
            self.engine.schedule_in(times.ready, Event::NodeReady(id));
        } else {
            self.engine
                .schedule_in(timeout, Event::RegistrationTimeout(id));
        }
        self.launch_times.insert(id, times);

        if spot {
            self.schedule_interruption(id, type_index, &zone, now, times);
        }
    }

    /// Schedules the pool's next interruption for a new spot node, and the rebalance
    /// recommendation ahead of it when those are enabled: `lead` before the notice, but not
    /// before the instance runs, and with the notice at the latest.
    fn schedule_interruption(
        &mut self,
        id: NodeId,
        instance_type: usize,
        zone: &str,
        now: SimTime,
        times: LaunchTimes,
    ) {
        let catalog = self.config.catalog.clone();
        let Some(at) = self
            .market
            .next_interruption(&catalog, instance_type, zone, now)
        else {
            return;
        };
        if at >= SimTime::ZERO + self.config.duration {
            return;
        }
        if let Some(lead) = self.config.spot.rebalance_lead {
            let recommended = (at - lead).max(now + times.running).min(at);
            self.engine
                .schedule_at(recommended, Event::RebalanceRecommendation(id));
        }
        self.engine.schedule_at(at, Event::SpotInterruption(id));
    }

    /// Checks whether a spot offering that failed since the last filled spot launch is still
    /// short of capacity at `now`, which makes an on-demand launch a fallback.
    fn spot_still_short(&mut self, now: SimTime) -> bool {
        let failed: Vec<(usize, String)> = self.failed_spot_offerings.iter().cloned().collect();
        failed.iter().any(|(instance_type, zone)| {
            let name = &self.config.catalog.get(*instance_type).name;
            self.market.insufficient_capacity(name, zone, true, now)
        })
    }

    /// Cost of a node from its instance's `running` state to `now`: per-second billing with the
    /// 60 s minimum, at the on-demand price or at the spot prices in force. An instance that
    /// never left `pending` costs nothing.
    pub(super) fn bill(&mut self, node: &Node, now: SimTime) -> Cost {
        let Some(&from) = self.running_since.get(&node.id) else {
            return Cost::ZERO;
        };
        match node.capacity_type {
            CapacityType::OnDemand => billing::instance_cost(node.price, now.since(from)),
            CapacityType::Spot => {
                let catalog = self.config.catalog.clone();
                self.market
                    .cost(&catalog, node.instance_type, &node.zone, from, now)
            }
        }
    }

    /// Marks a Launching node Ready, logs the launch's milestones and notifies the policy.
    pub(super) fn node_ready(&mut self, id: NodeId, now: SimTime) {
        if self
            .cluster
            .node(id)
            .is_none_or(|n| n.state != NodeState::Launching)
        {
            return;
        }
        self.cluster.mark_ready(id, now);
        let detail = match self.launch_times.remove(&id) {
            Some(times) => format!(
                "running after {:.3} s, registered after {:.3} s, Ready after {:.3} s",
                times.running.as_secs_f64(),
                times.registered.as_secs_f64(),
                times.ready.as_secs_f64()
            ),
            None => String::new(),
        };
        self.log(now, "ready", id, None, "NodeReady", detail);
        self.call_policy(PolicyEvent::NodeReady(id));
        self.queue_schedule();
    }

    /// Ends a launch that found no capacity.
    pub(super) fn launch_failed(&mut self, id: NodeId, now: SimTime) {
        let Some(node) = self.cluster.remove_node(id) else {
            return;
        };
        let offerings = self.failed_launches.remove(&id).unwrap_or_default();
        if let Some(zone) = self.rejected_launches.remove(&id) {
            self.metrics.launch_failed(INVALID_PARAMETER);
            let detail = format!(
                "availability zone {zone} is not one of the scenario's zones ({})",
                self.config.zones.join(", ")
            );
            self.log_launch_failure(&node, now, INVALID_PARAMETER, detail);
            self.call_policy(PolicyEvent::LaunchFailed {
                node: id,
                offerings: Vec::new(),
                capacity_type: node.capacity_type,
                reason: INVALID_PARAMETER.into(),
            });
            return;
        }
        let reason = INSUFFICIENT_CAPACITY;
        self.metrics.launch_failed(reason);
        let detail = format!(
            "no {} capacity for this offering",
            node.capacity_type.label()
        );
        self.log_launch_failure(&node, now, reason, detail);
        if node.capacity_type == CapacityType::Spot {
            self.failed_spot_offerings.extend(offerings.iter().cloned());
        }
        self.call_policy(PolicyEvent::LaunchFailed {
            node: id,
            offerings,
            capacity_type: node.capacity_type,
            reason: reason.into(),
        });
    }

    /// Fails a launch whose node has not registered within the registration timeout: the
    /// autoscaler gives up on it and the instance terminates, billed from `running`. A node
    /// being deleted meanwhile is left to its deletion.
    pub(super) fn registration_timeout(&mut self, id: NodeId, now: SimTime) {
        if self
            .cluster
            .node(id)
            .is_none_or(|n| n.state != NodeState::Launching)
        {
            return;
        }

        // Terminate the instance and bill it from `running`.
        let node = self
            .cluster
            .remove_node(id)
            .expect("the node was just found");
        let cost = self.bill(&node, now);
        let running = self.running_since.get(&id).map(|from| now.since(*from));
        self.forget_node(id);
        self.metrics
            .node_terminated(&node, cost, &self.config.catalog);
        self.metrics.launch_failed(REGISTRATION_TIMEOUT);

        // Log the failure and notify the policy, with no offering to mark unavailable.
        let billed = match running {
            Some(running) => format!(
                "billed {} s, ${:.6}",
                billing::billed_secs(running),
                cost.usd()
            ),
            None => "never running, not billed".into(),
        };
        let detail = format!(
            "the node did not register within {}; the instance was terminated, {billed}",
            self.registration_timeout
        );
        self.log_launch_failure(&node, now, REGISTRATION_TIMEOUT, detail);
        self.call_policy(PolicyEvent::LaunchFailed {
            node: id,
            offerings: Vec::new(),
            capacity_type: node.capacity_type,
            reason: REGISTRATION_TIMEOUT.into(),
        });
    }

    /// Drops the world's per-node launch and billing records of a node that left the cluster.
    pub(super) fn forget_node(&mut self, id: NodeId) {
        self.launch_times.remove(&id);
        self.running_since.remove(&id);
        self.fallback_nodes.remove(&id);
        self.interrupted.remove(&id);
    }

    fn log_launch_failure(&mut self, node: &Node, now: SimTime, reason: &str, detail: String) {
        self.decisions.push(Decision {
            time_ms: now.as_millis(),
            time: now.to_string(),
            policy: self.policy_name.clone(),
            action: "launch-failed".into(),
            node: node.name.clone(),
            instance_type: self.config.catalog.get(node.instance_type).name.clone(),
            zone: node.zone.clone(),
            pod: None,
            reason: reason.into(),
            detail,
        });
    }

    /// Delivers a rebalance recommendation for a spot node that is neither gone nor already
    /// interrupted.
    pub(super) fn rebalance_recommendation(&mut self, id: NodeId, now: SimTime) {
        if self.cluster.node(id).is_none() || self.interrupted.contains(&id) {
            return;
        }
        self.metrics.rebalance_recommended();
        self.log(
            now,
            "rebalance-recommendation",
            id,
            None,
            "RebalanceRecommendation",
            "EC2 reports an elevated risk of interruption for this spot pool".into(),
        );
        self.call_policy(PolicyEvent::RebalanceRecommendation(id));
    }

    /// Delivers a spot interruption notice; the instance terminates after the notice period.
    pub(super) fn spot_interruption(&mut self, id: NodeId, now: SimTime) {
        if self.cluster.node(id).is_none() || !self.interrupted.insert(id) {
            return;
        }
        self.metrics.spot_interrupted();
        self.log(
            now,
            "interruption-notice",
            id,
            None,
            "SpotInterruption",
            format!("EC2 reclaims the instance in {}", self.config.spot.notice),
        );
        self.engine
            .schedule_in(self.config.spot.notice, Event::SpotTermination(id));
        self.call_policy(PolicyEvent::SpotInterruptionNotice(id));
    }

    /// Terminates an interrupted spot instance: pods still on it are killed and replaced by
    /// their controllers (bare pods are lost).
    pub(super) fn spot_termination(&mut self, id: NodeId, now: SimTime) {
        let Some(node) = self.cluster.node(id) else {
            return;
        };
        let pods: Vec<PodId> = node.pods.iter().copied().collect();
        for pod_id in pods {
            let pod = self.cluster.pod(pod_id).expect("bound pod exists").clone();
            let departure = match self.ledger_departure(pod_id) {
                Some(departure) => departure,
                None => {
                    self.metrics
                        .pod_disrupted_by_interruption(pod.owner == Owner::Bare);
                    self.replace(&pod, now);
                    if pod.owner == Owner::Bare {
                        Departure::Lost
                    } else {
                        Departure::Replaced
                    }
                }
            };
            self.remove_pod(pod_id, departure, now);
        }
        self.draining.remove(&id);
        self.terminate(id, now);
        self.queue_schedule();
    }
}
