//! Collection of the figures in the report and the time series.

use std::collections::BTreeMap;

use autoscale_sim_cloud::{Catalog, Cost};
use autoscale_sim_engine::{SimDuration, SimTime};
use autoscale_sim_kube::{Cluster, Node, NodeId, NodeState, Pod};
use autoscale_sim_policy::DisruptionReason;

use crate::config::SimConfig;
use crate::report::{Decision, FleetSnapshot, RunOutput, RunReport, Sample, percentile};
use crate::world::fleet_by_type;

/// The first hour is left out of `min_nodes`, so the empty cluster at t = 0 does not count.
const WARM_UP: SimDuration = SimDuration::from_hours(1);

/// Running totals of one run.
pub(crate) struct Metrics {
    policy: String,
    last: SimTime,
    pending_pod_ms: u128,
    node_ms: u128,
    cpu_requested_ms: i128,
    cpu_allocatable_ms: i128,
    memory_requested_ms: i128,
    memory_allocatable_ms: i128,
    peak_nodes: u32,
    min_nodes: Option<u32>,
    pending_times_ms: Vec<u64>,
    cost_by_type: BTreeMap<String, Cost>,
    cost_by_capacity: BTreeMap<String, Cost>,
    nodes_launched: u32,
    nodes_terminated: u32,
    pods_evicted: u64,
    evictions_by_reason: BTreeMap<String, u64>,
    pods_succeeded: u64,
    bare_pods_lost: u64,
    launch_failures: BTreeMap<String, u32>,
    spot_interruptions: u32,
    rebalance_recommendations: u32,
    pods_disrupted_by_interruptions: u64,
    /// Time during which at least one fallback node was running.
    fallback_ms: u128,
    /// Integral of the number of running fallback nodes over time.
    fallback_node_ms: u128,
    disruptions: BTreeMap<String, u32>,
    samples: Vec<Sample>,
    snapshots: Vec<FleetSnapshot>,
}

impl Metrics {
    /// Counts the heap bytes of what grows with the run: the time-series rows and the pending
    /// times, from each vector's and string's capacity.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.samples.capacity() * std::mem::size_of::<Sample>()
            + self
                .samples
                .iter()
                .map(|s| s.policy.capacity() + s.fleet.capacity())
                .sum::<usize>()
            + self.pending_times_ms.capacity() * std::mem::size_of::<u64>()
    }

    pub(crate) fn new(policy: &str) -> Self {
        Metrics {
            policy: policy.to_string(),
            last: SimTime::ZERO,
            pending_pod_ms: 0,
            node_ms: 0,
            cpu_requested_ms: 0,
            cpu_allocatable_ms: 0,
            memory_requested_ms: 0,
            memory_allocatable_ms: 0,
            peak_nodes: 0,
            min_nodes: None,
            pending_times_ms: Vec::new(),
            cost_by_type: BTreeMap::new(),
            cost_by_capacity: BTreeMap::new(),
            nodes_launched: 0,
            nodes_terminated: 0,
            pods_evicted: 0,
            evictions_by_reason: BTreeMap::new(),
            pods_succeeded: 0,
            bare_pods_lost: 0,
            launch_failures: BTreeMap::new(),
            spot_interruptions: 0,
            rebalance_recommendations: 0,
            pods_disrupted_by_interruptions: 0,
            fallback_ms: 0,
            fallback_node_ms: 0,
            disruptions: BTreeMap::new(),
            samples: Vec::new(),
            snapshots: Vec::new(),
        }
    }

    /// Integrates the state that held from the previous event until `now`, with
    /// `fallback_running` on-demand fallback nodes running meanwhile.
    pub(crate) fn advance(&mut self, now: SimTime, cluster: &Cluster, fallback_running: usize) {
        let dt = now.since(self.last).as_millis();
        let nodes = cluster.node_count() as u32;
        if dt > 0 {
            let dt128 = i128::from(dt);
            self.pending_pod_ms += cluster.pending_count() as u128 * u128::from(dt);
            self.node_ms += u128::from(nodes) * u128::from(dt);
            if fallback_running > 0 {
                self.fallback_ms += u128::from(dt);
                self.fallback_node_ms += fallback_running as u128 * u128::from(dt);
            }
            let [
                cpu_requested,
                cpu_allocatable,
                memory_requested,
                memory_allocatable,
            ] = Self::ready_sums(cluster);
            self.cpu_requested_ms += cpu_requested * dt128;
            self.cpu_allocatable_ms += cpu_allocatable * dt128;
            self.memory_requested_ms += memory_requested * dt128;
            self.memory_allocatable_ms += memory_allocatable * dt128;
            // The count is constant over the span, so a span that ends after 1 h counts even
            // when it starts before.
            if now > SimTime::ZERO + WARM_UP {
                self.min_nodes = Some(self.min_nodes.map_or(nodes, |m| m.min(nodes)));
            }
        }
        self.peak_nodes = self.peak_nodes.max(nodes);
        self.last = now;
    }

    /// Sums over the Ready nodes of CPU requested, CPU allocatable, memory requested and memory
    /// allocatable, which the cluster keeps up to date with every change to a node.
    /// Integrating the sums times the interval equals adding each node's product: the
    /// arithmetic is integer.
    fn ready_sums(cluster: &Cluster) -> [i128; 4] {
        let totals = cluster.ready_totals();
        [
            totals.cpu_requested,
            totals.cpu_allocatable,
            totals.memory_requested,
            totals.memory_allocatable,
        ]
    }

    pub(crate) fn pod_bound(&mut self, waited: SimDuration) {
        self.pending_times_ms.push(waited.as_millis());
    }

    pub(crate) fn pod_removed(&mut self, _pod: &Pod, _now: SimTime) {}

    pub(crate) fn pod_succeeded(&mut self) {
        self.pods_succeeded += 1;
    }

    /// Counts a pod evicted by a drain or preempted by kube-scheduler, under `reason`.
    pub(crate) fn pod_evicted(&mut self, bare: bool, reason: &str) {
        self.pods_evicted += 1;
        *self
            .evictions_by_reason
            .entry(reason.to_string())
            .or_insert(0) += 1;
        if bare {
            self.bare_pods_lost += 1;
        }
    }

    pub(crate) fn node_launched(&mut self) {
        self.nodes_launched += 1;
    }

    pub(crate) fn disruption(&mut self, reason: DisruptionReason) {
        *self
            .disruptions
            .entry(reason.as_str().to_string())
            .or_insert(0) += 1;
    }

    /// Adds the cost of a node still running when the run ends.
    pub(crate) fn node_running_at_end(&mut self, node: &Node, cost: Cost, catalog: &Catalog) {
        self.add_cost(node, cost, catalog);
    }

    pub(crate) fn launch_failed(&mut self, reason: &str) {
        *self.launch_failures.entry(reason.to_string()).or_insert(0) += 1;
    }

    pub(crate) fn spot_interrupted(&mut self) {
        self.spot_interruptions += 1;
    }

    pub(crate) fn rebalance_recommended(&mut self) {
        self.rebalance_recommendations += 1;
    }

    pub(crate) fn pod_disrupted_by_interruption(&mut self, bare: bool) {
        self.pods_disrupted_by_interruptions += 1;
        if bare {
            self.bare_pods_lost += 1;
        }
    }

    pub(crate) fn node_terminated(&mut self, node: &Node, cost: Cost, catalog: &Catalog) {
        self.nodes_terminated += 1;
        self.add_cost(node, cost, catalog);
    }

    /// Adds a node's cost to the splits; a node whose instance never ran costs nothing and
    /// adds no entry.
    fn add_cost(&mut self, node: &Node, cost: Cost, catalog: &Catalog) {
        if cost == Cost::ZERO {
            return;
        }
        *self
            .cost_by_type
            .entry(catalog.get(node.instance_type).name.clone())
            .or_default() += cost;
        *self
            .cost_by_capacity
            .entry(node.capacity_type.label().to_string())
            .or_default() += cost;
    }

    pub(crate) fn has_snapshot(&self, label: &str) -> bool {
        self.snapshots.iter().any(|s| s.label == label)
    }

    pub(crate) fn take_snapshot(
        &mut self,
        label: &str,
        now: SimTime,
        cluster: &Cluster,
        catalog: &Catalog,
    ) {
        self.snapshots.push(FleetSnapshot {
            label: label.to_string(),
            time_seconds: now.as_secs(),
            nodes: fleet_by_type(cluster, catalog),
        });
    }

    /// Records one row of the time series; the cost rate counts the nodes in `running_since`,
    /// whose instances are billed.
    pub(crate) fn sample(
        &mut self,
        now: SimTime,
        cluster: &Cluster,
        config: &SimConfig,
        loads: &[f64],
        running_since: &BTreeMap<NodeId, SimTime>,
    ) {
        let mut sample = Sample {
            policy: self.policy.clone(),
            time_seconds: now.as_secs(),
            hour_of_day: hour_of_day(now, config.start_unix_secs),
            load: loads.iter().fold(0.0, |total, value| total + value),
            pods: cluster.pod_count() as u64,
            pods_pending: cluster.pending_count() as u64,
            nodes: cluster.node_count() as u32,
            ..Default::default()
        };
        let mut rate = 0u64;
        // Both the nodes and `running_since` are in node id order, so one walk along both
        // finds each node's entry without a lookup.
        let mut running = running_since.keys().peekable();
        for node in cluster.nodes() {
            while running.next_if(|id| **id < node.id).is_some() {}
            if running.next_if_eq(&&node.id).is_some() {
                rate += node.price.0;
            }
            match node.state {
                NodeState::Launching => sample.nodes_launching += 1,
                NodeState::Ready => {
                    let requested = node.requested();
                    sample.cpu_requested_millis += requested.cpu_millis;
                    sample.cpu_allocatable_millis += node.allocatable.cpu_millis;
                    sample.memory_requested_bytes += requested.memory_bytes;
                    sample.memory_allocatable_bytes += node.allocatable.memory_bytes;
                }
                NodeState::Deleting => {}
            }
        }
        sample.cost_rate_usd_per_hour = rate as f64 / 1e6;
        sample.fleet = fleet_by_type(cluster, &config.catalog)
            .iter()
            .map(|(t, n)| format!("{t}={n}"))
            .collect::<Vec<_>>()
            .join(";");
        self.samples.push(sample);
    }

    /// Bills the nodes still running at the end and builds the results.
    pub(crate) fn finish(
        self,
        now: SimTime,
        cluster: &Cluster,
        events: u64,
        decisions: Vec<Decision>,
    ) -> RunOutput {
        let mut waits = self.pending_times_ms;
        let still_pending = cluster
            .pending_pods()
            .map(|p| now.since(p.created).as_millis());
        let max_wait = waits
            .iter()
            .copied()
            .chain(still_pending)
            .max()
            .unwrap_or(0);
        waits.sort_unstable();

        let total: Cost = self.cost_by_type.values().copied().sum();
        let ratio = |numerator: i128, denominator: i128| {
            if denominator == 0 {
                0.0
            } else {
                round6(numerator as f64 / denominator as f64)
            }
        };
        let report = RunReport {
            policy: self.policy.clone(),
            total_cost_usd: total.usd(),
            total_cost_micro_usd: total.micro_usd() as u64,
            cost_by_instance_type: self
                .cost_by_type
                .iter()
                .map(|(k, v)| (k.clone(), v.usd()))
                .collect(),
            cost_by_capacity_type: self
                .cost_by_capacity
                .iter()
                .map(|(k, v)| (k.clone(), v.usd()))
                .collect(),
            node_hours: round6(self.node_ms as f64 / 3_600_000.0),
            peak_nodes: self.peak_nodes,
            min_nodes: self.min_nodes.unwrap_or(self.peak_nodes),
            nodes_launched: self.nodes_launched,
            nodes_terminated: self.nodes_terminated,
            mean_cpu_allocation: ratio(self.cpu_requested_ms, self.cpu_allocatable_ms),
            mean_memory_allocation: ratio(self.memory_requested_ms, self.memory_allocatable_ms),
            pending_pod_seconds: round6(self.pending_pod_ms as f64 / 1000.0),
            pod_pending_p50_seconds: percentile(&waits, 50) as f64 / 1000.0,
            pod_pending_p95_seconds: percentile(&waits, 95) as f64 / 1000.0,
            pod_pending_p99_seconds: percentile(&waits, 99) as f64 / 1000.0,
            pod_pending_max_seconds: max_wait as f64 / 1000.0,
            pods_created: cluster.pods_created(),
            pods_bound: waits.len() as u64,
            pods_pending_at_end: cluster.pending_count() as u64,
            pods_pending_over_an_hour_at_end: cluster
                .pending_pods()
                .filter(|p| now.since(p.created) > SimDuration::from_hours(1))
                .count() as u64,
            pods_evicted: self.pods_evicted,
            evictions_by_reason: self.evictions_by_reason.clone(),
            pods_succeeded: self.pods_succeeded,
            bare_pods_lost: self.bare_pods_lost,
            disruptions_by_reason: self.disruptions.clone(),
            spot_interruptions: self.spot_interruptions,
            rebalance_recommendations: self.rebalance_recommendations,
            fallback_on_demand_seconds: round6(self.fallback_ms as f64 / 1000.0),
            fallback_on_demand_node_hours: round6(self.fallback_node_ms as f64 / 3_600_000.0),
            launch_failures: self.launch_failures.clone(),
            pods_disrupted_by_interruptions: self.pods_disrupted_by_interruptions,
            events_processed: events,
            snapshots: self.snapshots.clone(),
        };
        RunOutput {
            report,
            samples: self.samples,
            decisions,
            pod_pending_times_ms: waits,
        }
    }
}

/// Rounds to six decimals so that summaries print the same on every platform.
fn round6(value: f64) -> f64 {
    (value * 1e6).round() / 1e6
}

/// Hour of day (0 ≤ h < 24, fractional) at `now` in UTC, for a run whose t = 0 is `start_unix_secs`.
pub fn hour_of_day(now: SimTime, start_unix_secs: i64) -> f64 {
    let seconds = (start_unix_secs + now.as_secs() as i64).rem_euclid(86_400);
    round6(seconds as f64 / 3600.0)
}

#[cfg(test)]
mod tests {
    use autoscale_sim_cloud::{Price, Resources};
    use autoscale_sim_kube::{CapacityType, NewNode};

    use super::*;

    fn node() -> NewNode {
        NewNode {
            owner: "group".into(),
            instance_type: 0,
            instance_type_name: "m5.large".into(),
            capacity_type: CapacityType::OnDemand,
            zone: "us-east-1a".into(),
            price: Price(96_000),
            labels: BTreeMap::new(),
            taints: vec![],
            allocatable: Resources::new(2000, 8 << 30, 29),
        }
    }

    /// Returns `min_nodes` of a 2-hour run with two nodes, of which one is removed at
    /// `removed` and a new one added at `added`, with an event every 7 min besides.
    fn min_nodes_with_gap(removed: SimDuration, added: SimDuration) -> Option<u32> {
        let mut cluster = Cluster::new(vec![]);
        let first = cluster.add_node(node(), SimTime::ZERO);
        cluster.add_node(node(), SimTime::ZERO);
        let mut metrics = Metrics::new("test");
        let mut events: Vec<SimDuration> =
            (1..=17).map(|k| SimDuration::from_mins(7 * k)).collect();
        events.extend([removed, added, SimDuration::from_hours(2)]);
        events.sort();
        events.dedup();
        for at in events {
            let now = SimTime::ZERO + at;
            metrics.advance(now, &cluster, 0);
            if at == removed {
                cluster.remove_node(first);
            }
            if at == added {
                cluster.add_node(node(), now);
            }
        }
        metrics.min_nodes
    }

    #[test]
    fn min_nodes_counts_span_across_warm_up() {
        // One node from 56 to 63 min: the span starts before the warm-up ends at 1 h.
        let min = min_nodes_with_gap(SimDuration::from_mins(56), SimDuration::from_mins(63));

        assert_eq!(min, Some(1));
    }

    #[test]
    fn min_nodes_skips_span_before_warm_up() {
        // One node from 49 to 56 min, all before 1 h.
        let min = min_nodes_with_gap(SimDuration::from_mins(49), SimDuration::from_mins(56));

        assert_eq!(min, Some(2));
    }
}
