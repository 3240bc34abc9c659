//! A policy of one's own: a fixed daily schedule that pre-scales one node group before the
//! daily peak, with a small reactive scale-up for pods the schedule did not foresee. It runs on
//! the built-in default scenario beside the scenario's Cluster Autoscaler and Karpenter, and
//! prints the comparison table that `autoscale-sim compare` prints.
//!
//! Run it with `cargo run --release --example custom_policy`.

use std::collections::BTreeMap;

use autoscale_sim::Simulation;
use autoscale_sim::cloud::{InstanceTypeIndex, Resources};
use autoscale_sim::engine::{SimDuration, SimTime};
use autoscale_sim::kube::{CapacityType, NodeId, NodeState, daemon_overhead};
use autoscale_sim::policy::requirements::instance_type_labels;
use autoscale_sim::policy::{
    Actions, Autoscaler, ClusterView, DisruptionReason, LaunchRequest, PolicyEvent,
};
use autoscale_sim::report::comparison_table;
use autoscale_sim::scenario::{Overrides, default_scenario};
use autoscale_sim::sim::hour_of_day;

/// Timer token of the periodic check.
const CHECK: u64 = 1;

/// Time between two periodic checks.
const CHECK_INTERVAL: SimDuration = SimDuration::from_secs(30);

/// How long a node above the scheduled size must be empty before it is deleted.
const EMPTY_FOR: SimDuration = SimDuration::from_mins(10);

/// One node group whose size follows a daily schedule.
struct ScheduledNodeGroup {
    /// Instance type of every node.
    instance_type: InstanceTypeIndex,
    /// Nodes to keep from each hour of day (UTC) until the next entry, in increasing hour order.
    schedule: Vec<(f64, u32)>,
    /// Most nodes at once, the reactive scale-up included.
    max_nodes: u32,
    /// Wall clock of t = 0, in seconds since the Unix epoch, to tell the hour of day.
    start_unix_secs: i64,
    /// Empty Ready nodes, and since when they have been empty.
    empty_since: BTreeMap<NodeId, SimTime>,
}

impl ScheduledNodeGroup {
    /// Returns the scheduled size at `now`: the entry of the latest hour at or before the hour
    /// of day, or the last entry before midnight.
    fn scheduled_size(&self, now: SimTime) -> u32 {
        let hour = hour_of_day(now, self.start_unix_secs);
        self.schedule
            .iter()
            .rev()
            .find(|(from, _)| *from <= hour)
            .or(self.schedule.last())
            .map_or(0, |(_, nodes)| *nodes)
    }

    /// Room for pods on a new node: allocatable less the DaemonSets that would run on it.
    fn room(&self, view: &ClusterView<'_>) -> Resources {
        let instance_type = view.catalog.get(self.instance_type);
        let labels = instance_type_labels(instance_type);
        instance_type.allocatable() - daemon_overhead(view.cluster.daemonsets(), &labels, &[])
    }

    fn launch(&self, view: &ClusterView<'_>, actions: &mut Actions, count: u32, reason: &str) {
        for i in 0..count {
            let zone = &view.zones[(view.cluster.node_count() + i as usize) % view.zones.len()];
            actions.launch(LaunchRequest {
                owner: "scheduled".into(),
                instance_type: self.instance_type,
                capacity_type: CapacityType::OnDemand,
                zone: zone.clone(),
                labels: instance_type_labels(view.catalog.get(self.instance_type)),
                taints: vec![],
                annotations: BTreeMap::new(),
                reason: reason.to_string(),
                alternatives: vec![],
            });
        }
    }

    /// Brings the group up to its scheduled size, launches nodes for Unschedulable pods that
    /// nothing launching will hold, and deletes nodes above the scheduled size that have been
    /// empty for long enough.
    fn reconcile(&mut self, view: &ClusterView<'_>, actions: &mut Actions) {
        let live: Vec<_> = view
            .cluster
            .nodes()
            .filter(|n| n.state != NodeState::Deleting)
            .collect();
        let scheduled = self.scheduled_size(view.now);

        // Scheduled size: launch the missing nodes ahead of the load.
        let size = live.len() as u32;
        if size < scheduled {
            let reason = format!("schedule: {scheduled} nodes from this hour, {size} running");
            self.launch(view, actions, scheduled - size, &reason);
            return;
        }

        // Reactive: enough new nodes for the Unschedulable pods' requests, counting the room of
        // the nodes still launching.
        let room = self.room(view);
        let launching = live
            .iter()
            .filter(|n| n.state == NodeState::Launching)
            .count() as i64;
        let requested: Resources = view
            .cluster
            .pending_pods()
            .filter(|p| p.unschedulable)
            .map(|p| p.spec.requests)
            .sum();
        let by_cpu = ceil_div(requested.cpu_millis, room.cpu_millis);
        let by_memory = ceil_div(requested.memory_bytes, room.memory_bytes);
        let missing = (by_cpu.max(by_memory) - launching).max(0) as u32;
        let allowed = self.max_nodes.saturating_sub(size).min(missing);
        if allowed > 0 {
            let reason = format!("reactive: {allowed} nodes for Unschedulable pods");
            self.launch(view, actions, allowed, &reason);
            return;
        }

        // Scale-down: only above the scheduled size, only nodes empty for EMPTY_FOR.
        let now = view.now;
        self.empty_since
            .retain(|id, _| live.iter().any(|n| n.id == *id));
        let mut above = size.saturating_sub(scheduled);
        for node in &live {
            let empty = node.state == NodeState::Ready
                && view.cluster.active_pods_on(node.id).next().is_none();
            if !empty {
                self.empty_since.remove(&node.id);
                continue;
            }
            let since = *self.empty_since.entry(node.id).or_insert(now);
            if above > 0 && now.since(since) >= EMPTY_FOR {
                let detail = format!("empty since {since}, above the scheduled {scheduled}");
                actions.delete_node(node.id, DisruptionReason::Other, detail);
                above -= 1;
            }
        }
    }
}

/// `amount / unit` rounded up, for an amount of zero or more and a positive unit.
fn ceil_div(amount: i64, unit: i64) -> i64 {
    let unit = unit.max(1);
    (amount.max(0) + unit - 1) / unit
}

impl Autoscaler for ScheduledNodeGroup {
    fn name(&self) -> &str {
        "scheduled"
    }

    fn on_event(&mut self, event: &PolicyEvent, view: &ClusterView<'_>, actions: &mut Actions) {
        match event {
            PolicyEvent::Start => {
                self.reconcile(view, actions);
                actions.set_timer(view.now + CHECK_INTERVAL, CHECK);
            }
            PolicyEvent::Timer(CHECK) => {
                self.reconcile(view, actions);
                actions.set_timer(view.now + CHECK_INTERVAL, CHECK);
            }
            PolicyEvent::PodsUnschedulable(_) => self.reconcile(view, actions),
            _ => {}
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let scenario = default_scenario(&Overrides::default())?;
    let catalog = scenario.config.catalog.clone();
    let start_unix_secs = scenario.config.start_unix_secs;
    let simulation = Simulation::new(scenario.config)?;

    // The built-in policies of the scenario.
    let mut reports: Vec<_> = scenario
        .policies
        .iter()
        .map(|policy| simulation.run(policy).report)
        .collect();

    // The schedule: the default scenario's load peaks at 14:00 UTC and bottoms at 05:00, so
    // the group grows from 07:00, keeps six nodes from 09:00 to 19:00 and shrinks by 22:00.
    let scheduled = ScheduledNodeGroup {
        instance_type: catalog
            .index_of("m5.4xlarge")
            .ok_or("m5.4xlarge is not in the catalog")?,
        schedule: vec![(0.0, 2), (7.0, 4), (9.0, 6), (19.0, 4), (22.0, 2)],
        max_nodes: 20,
        start_unix_secs,
        empty_since: BTreeMap::new(),
    };
    reports.push(simulation.run_with(Box::new(scheduled)).report);

    println!(
        "{} (seed {}, {} simulated)",
        scenario.name,
        simulation.config().seed,
        simulation.config().duration
    );
    print!("{}", comparison_table(&reports));
    Ok(())
}
