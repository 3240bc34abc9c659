//! Typed results of a run: the summary, the time series and the decision log.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Summary of one policy's run. Serialised as the `results` entries of `summary.json`; every
/// figure is a function of the scenario and seed only (no wall-clock time).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// Policy name.
    pub policy: String,
    /// Total EC2 cost in dollars (per-second billing, 60 s minimum), rounded to the micro-dollar.
    pub total_cost_usd: f64,
    /// Total cost in integer micro-dollars, for exact comparison.
    pub total_cost_micro_usd: u64,
    /// Cost by instance type, in dollars.
    pub cost_by_instance_type: BTreeMap<String, f64>,
    /// Cost by capacity type (`on-demand`, `spot`), in dollars.
    pub cost_by_capacity_type: BTreeMap<String, f64>,
    /// Integral of the number of nodes over time, in hours: from each launch request to the
    /// instance's termination, so Launching nodes count before they are billed.
    pub node_hours: f64,
    /// Most nodes at once (launching and deleting included).
    pub peak_nodes: u32,
    /// Fewest nodes at once after the first hour.
    pub min_nodes: u32,
    /// Nodes launched.
    pub nodes_launched: u32,
    /// Nodes terminated.
    pub nodes_terminated: u32,
    /// Time-weighted mean of CPU requests over allocatable CPU of Ready nodes (DaemonSets included).
    pub mean_cpu_allocation: f64,
    /// Time-weighted mean of memory requests over allocatable memory of Ready nodes.
    pub mean_memory_allocation: f64,
    /// Integral of the number of Pending pods over time, in pod-seconds.
    pub pending_pod_seconds: f64,
    /// Median time from pod creation to binding, in seconds, over the pods that were bound.
    pub pod_pending_p50_seconds: f64,
    /// 95th percentile of pod pending time, in seconds.
    pub pod_pending_p95_seconds: f64,
    /// 99th percentile of pod pending time, in seconds.
    pub pod_pending_p99_seconds: f64,
    /// Longest pod pending time, in seconds, including pods still pending at the end.
    pub pod_pending_max_seconds: f64,
    /// Pods created.
    pub pods_created: u64,
    /// Pods bound to a node: those whose pending times the `pod_pending_*` percentiles are
    /// taken from. When it is 0, the percentiles have no value and are written as 0.
    pub pods_bound: u64,
    /// Pods still Pending when the run ended.
    pub pods_pending_at_end: u64,
    /// Pods still Pending when the run ended that had waited for over an hour: usually pods no
    /// node the policy may launch can hold.
    pub pods_pending_over_an_hour_at_end: u64,
    /// Pods evicted by node deletions or preempted by kube-scheduler.
    pub pods_evicted: u64,
    /// Evicted pods by reason: the disruption reason of the node deletion that evicted them
    /// (Empty, Underutilized, ScaleDown, ...), or `Preemption`.
    pub evictions_by_reason: BTreeMap<String, u64>,
    /// Job pods that ran to completion.
    pub pods_succeeded: u64,
    /// Bare pods lost with their node.
    pub bare_pods_lost: u64,
    /// Node disruptions by reason (Empty, Underutilized, ScaleDown, ...).
    pub disruptions_by_reason: BTreeMap<String, u32>,
    /// Spot interruption notices received.
    pub spot_interruptions: u32,
    /// Rebalance recommendations received (none unless the scenario enables them).
    pub rebalance_recommendations: u32,
    /// Time during which at least one fallback node was running, in seconds: an on-demand node
    /// launched while a spot offering whose launch had failed with InsufficientInstanceCapacity
    /// since the last filled spot launch was still short of capacity.
    pub fallback_on_demand_seconds: f64,
    /// Integral of the number of running fallback nodes over time, in hours.
    pub fallback_on_demand_node_hours: f64,
    /// Failed launches by reason: `InsufficientInstanceCapacity`, or `RegistrationTimeout` for a
    /// node that did not register in time.
    pub launch_failures: BTreeMap<String, u32>,
    /// Pods still on a spot node when EC2 terminated it after the interruption notice.
    pub pods_disrupted_by_interruptions: u64,
    /// Events the engine processed.
    pub events_processed: u64,
    /// Fleet by instance type at each snapshot time of the scenario.
    pub snapshots: Vec<FleetSnapshot>,
}

/// The fleet at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetSnapshot {
    /// Label from the scenario, such as `night`.
    pub label: String,
    /// Simulated time, in seconds since the start.
    pub time_seconds: u64,
    /// Node count by instance type (launching and deleting nodes included).
    pub nodes: BTreeMap<String, u32>,
}

/// The progress of a run at one of its probe times, passed to the observer
/// ([`crate::Simulation::run_observed`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// The probe time.
    pub now: autoscale_sim_engine::SimTime,
    /// Events handled so far.
    pub events_processed: u64,
    /// Heap bytes held by what the run keeps for its output (time-series rows, decision log,
    /// pending times), counted from the capacity of each vector and string.
    pub metrics_heap_bytes: usize,
}

/// Counts the heap bytes of `decisions`: the vector's capacity and each entry's strings.
pub(crate) fn decisions_heap_bytes(decisions: &Vec<Decision>) -> usize {
    decisions.capacity() * std::mem::size_of::<Decision>()
        + decisions
            .iter()
            .map(|d| {
                d.time.capacity()
                    + d.policy.capacity()
                    + d.action.capacity()
                    + d.node.capacity()
                    + d.instance_type.capacity()
                    + d.zone.capacity()
                    + d.pod.as_ref().map_or(0, String::capacity)
                    + d.reason.capacity()
                    + d.detail.capacity()
            })
            .sum::<usize>()
}

/// One row of the time series.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Policy name.
    pub policy: String,
    /// Simulated time, in seconds since the start.
    pub time_seconds: u64,
    /// Hour of day in the scenario's clock, fractional.
    pub hour_of_day: f64,
    /// Sum of the loads at this time.
    pub load: f64,
    /// Pods of all Deployments (desired replicas).
    pub pods: u64,
    /// Pending pods.
    pub pods_pending: u64,
    /// All nodes.
    pub nodes: u32,
    /// Nodes not yet Ready.
    pub nodes_launching: u32,
    /// CPU requested on Ready nodes, in millicores.
    pub cpu_requested_millis: i64,
    /// CPU allocatable on Ready nodes, in millicores.
    pub cpu_allocatable_millis: i64,
    /// Memory requested on Ready nodes, in bytes.
    pub memory_requested_bytes: i64,
    /// Memory allocatable on Ready nodes, in bytes.
    pub memory_allocatable_bytes: i64,
    /// Sum of the hourly prices of the nodes whose instance is running (billed), in dollars per
    /// hour.
    pub cost_rate_usd_per_hour: f64,
    /// Nodes by instance type, as `type=count` pairs joined by `;`.
    pub fleet: String,
}

/// One entry of the decision log.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// Simulated time in milliseconds since the start.
    pub time_ms: u64,
    /// The same time as `<days>d<hh:mm:ss.mmm>`.
    pub time: String,
    /// Policy name.
    pub policy: String,
    /// `launch`, `launch-failed`, `ready`, `cordon`, `uncordon`, `delete`, `drain-blocked`,
    /// `evict`, `interruption-notice`, `rebalance-recommendation` or `terminate`, or a policy's
    /// note (Cluster Autoscaler's `unneeded`, `unremovable`, `backoff`, `unhealthy`,
    /// `scale-up-limited` and `no-scale-up`, Karpenter's `unconsolidatable` and
    /// `disruption-blocked`).
    pub action: String,
    /// Node name; empty for a note about no node.
    pub node: String,
    /// Instance type of the node.
    pub instance_type: String,
    /// Zone of the node.
    pub zone: String,
    /// Pod, for evictions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    /// Reason category (the disruption reason for deletions).
    pub reason: String,
    /// The policy's own explanation.
    pub detail: String,
}

/// Everything a run produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunOutput {
    /// The summary.
    pub report: RunReport,
    /// Time series.
    pub samples: Vec<Sample>,
    /// Decision log; empty when the run keeps none ([`crate::Simulation::keep_decision_log`]).
    pub decisions: Vec<Decision>,
    /// Every bound pod's pending time (creation to binding), in milliseconds, sorted ascending:
    /// the values the `pod_pending_*` percentiles of [`RunReport`] are taken from. The
    /// replacement of an evicted pod is a new pod with a value of its own. Pods still Pending at
    /// the end have none.
    pub pod_pending_times_ms: Vec<u64>,
}

/// The `p`-th percentile (0–100) of sorted `values` by the nearest-rank method; 0 when empty.
pub fn percentile(sorted: &[u64], p: u32) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (u64::from(p) * sorted.len() as u64).div_ceil(100).max(1) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&values, 50), 50);
        assert_eq!(percentile(&values, 95), 95);
        assert_eq!(percentile(&values, 100), 100);
        assert_eq!(percentile(&[7], 99), 7);
        assert_eq!(percentile(&[], 50), 0);
    }
}
