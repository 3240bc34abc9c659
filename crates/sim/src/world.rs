//! The world: one run of one policy against the scenario's workloads and EC2.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use autoscale_sim_cloud::{KubeletConfig, LaunchStreams, LaunchTimes, SpotMarket, billing};
use autoscale_sim_engine::{Engine, RngStreams, SimDuration, SimRng, SimTime};
use autoscale_sim_kube::{
    CRITICAL_PRIORITY, Cluster, NodeId, NodeState, Owner, Pod, PodId, PodPhase, Preemption,
    Scheduler,
};
use autoscale_sim_policy::{
    Action, Actions, Autoscaler, ClusterView, DO_NOT_DISRUPT, DisruptionReason, DrainRules,
    PolicyEvent,
};
use autoscale_sim_workload::Hpa;

use crate::config::{ReplicaController, Replicas, SimConfig};
use crate::metrics::Metrics;
use crate::report::{Decision, Progress, RunOutput, decisions_heap_bytes};

mod ec2;
mod replicaset;
mod statefulset;

/// Events of the world's queue.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Event {
    PolicyStart,
    PolicyTimer(u64),
    HpaSync(usize),
    /// The instance entered EC2's `running` state; billing starts.
    InstanceRunning(NodeId),
    NodeReady(NodeId),
    /// The registration timeout of a launch whose node does not register in time.
    RegistrationTimeout(NodeId),
    NodeTerminated(NodeId),
    DrainNode(NodeId),
    PodStarted(PodId),
    PodTerminated(PodId),
    PodSucceeded(PodId),
    LaunchFailed(NodeId),
    SpotInterruption(NodeId),
    SpotTermination(NodeId),
    RebalanceRecommendation(NodeId),
    /// The `n`-th arrival of Job stream `job`.
    JobArrival {
        job: usize,
        n: usize,
    },
    Schedule,
    Sample,
    End,
}

/// Eviction reason of pods that kube-scheduler preempted, in the report and decision log.
const PREEMPTION_REASON: &str = "Preemption";

/// How often a drain retries evictions that a PodDisruptionBudget refused.
const EVICTION_RETRY: SimDuration = SimDuration::from_secs(5);

/// Shortest grace period a forced pod deletion gives, as Karpenter's terminator clamps it so
/// that the API server does not delete the pod at once.
const MIN_FORCED_GRACE: SimDuration = SimDuration::from_secs(1);

/// A node's drain in progress.
/// The pods of a drain that cannot be evicted now, by cause.
#[derive(Clone, Copy, Debug, Default)]
struct Blocked {
    /// Pods whose PodDisruptionBudget allows no eviction now.
    by_budget: usize,
    /// Pods that `karpenter.sh/do-not-disrupt` protects, in a Karpenter drain.
    protected: usize,
    /// The latest end of their protection, which is never for `"true"`.
    protected_until: SimTime,
}

#[derive(Clone, Copy, Debug)]
struct Drain {
    started: SimTime,
    deadline: Option<SimTime>,
    /// When the remaining pods are deleted whatever blocks their eviction.
    force_at: Option<SimTime>,
    /// Whether pods annotated do-not-disrupt wait for `force_at` instead of being evicted.
    keep_do_not_disrupt: bool,
    /// Whether the decision log already has the drain's `drain-blocked` entry.
    blocked_logged: bool,
    reason: DisruptionReason,
}

/// The reason a pod left the cluster, for the pod ledger that the run invariants check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Departure {
    /// A Job's pod completed.
    Succeeded,
    /// Its Deployment scaled down.
    ScaledDown,
    /// It was evicted or killed, and its controller created a replacement.
    Replaced,
    /// It was evicted or killed and had no controller: a bare pod, lost.
    Lost,
}

/// Pods that left the cluster, by why; with the pods still in the cluster they add up to the
/// pods ever created.
#[derive(Debug, Default)]
struct PodLedger {
    succeeded: u64,
    scaled_down: u64,
    replaced: u64,
    lost: u64,
    /// The departure of each pod now in its grace period.
    terminating: BTreeMap<PodId, Departure>,
}

impl PodLedger {
    fn record(&mut self, departure: Departure) {
        match departure {
            Departure::Succeeded => self.succeeded += 1,
            Departure::ScaledDown => self.scaled_down += 1,
            Departure::Replaced => self.replaced += 1,
            Departure::Lost => self.lost += 1,
        }
    }

    fn departed(&self) -> u64 {
        self.succeeded + self.scaled_down + self.replaced + self.lost
    }
}

/// A Deployment's or StatefulSet's live state.
struct DeploymentState {
    hpa: Option<Hpa>,
    pods: BTreeSet<PodId>,
    /// Replica count the HPA or the fixed count last set.
    desired: u32,
    /// A StatefulSet's pods by ordinal, terminating ones included until they are gone.
    ordinals: BTreeMap<u32, PodId>,
}

/// An interval of simulated time and what to call at each of its multiples.
pub(crate) type Observer<'a> = (SimDuration, &'a mut dyn FnMut(&Progress));

/// One run in progress.
pub(crate) struct World {
    config: Arc<SimConfig>,
    /// Kubelet settings by node owner, for the allocatable of the nodes it launches.
    node_kubelet: BTreeMap<String, KubeletConfig>,
    engine: Engine<Event>,
    cluster: Cluster,
    scheduler: Scheduler,
    policy: Box<dyn Autoscaler + Send>,
    policy_name: String,
    deployments: Vec<DeploymentState>,
    launch_streams: LaunchStreams,
    /// Time from a launch request within which the node must register.
    registration_timeout: SimDuration,
    /// Milestones of launches whose node is not Ready yet, for the decision log.
    launch_times: BTreeMap<NodeId, LaunchTimes>,
    /// When each node's instance entered `running`, the start of its billing; nodes whose
    /// instance is still `pending` are not in it.
    running_since: BTreeMap<NodeId, SimTime>,
    startup_rng: SimRng,
    schedule_queued: bool,
    /// Arrival times and run times of each Job stream, drawn before the run (common random
    /// numbers: the same for every policy).
    job_arrivals: Vec<Vec<(SimTime, SimDuration)>>,
    /// Run time of each live Job pod.
    job_run_times: BTreeMap<PodId, SimDuration>,
    /// Nodes being drained.
    draining: BTreeMap<NodeId, Drain>,
    /// Terminating pods whose end a forced deletion brought forward.
    forced: BTreeSet<PodId>,
    /// The spot market; the policies that need prices keep their own copy of it.
    market: SpotMarket,
    /// Spot nodes that received an interruption notice.
    interrupted: BTreeSet<NodeId>,
    /// Offerings named by launches that are about to fail.
    failed_launches: BTreeMap<NodeId, Vec<(usize, String)>>,
    /// Launches EC2 rejected because they name an availability zone outside the scenario's,
    /// with that zone.
    rejected_launches: BTreeMap<NodeId, String>,
    /// Spot offerings (instance type, zone) that failed with InsufficientInstanceCapacity since
    /// EC2 last filled a spot launch of this run.
    failed_spot_offerings: BTreeSet<(usize, String)>,
    /// On-demand nodes launched while one of `failed_spot_offerings` was still short of spot
    /// capacity: the fallback nodes whose running time the report sums.
    fallback_nodes: BTreeSet<NodeId>,
    metrics: Metrics,
    decisions: Vec<Decision>,
    /// Whether `decisions` is kept.
    decision_log: bool,
    ledger: PodLedger,
}

impl World {
    /// Sets the kubelet settings of each owner's nodes ([`crate::PolicySpec::node_kubelet`]).
    pub(crate) fn set_node_kubelet(&mut self, node_kubelet: BTreeMap<String, KubeletConfig>) {
        self.node_kubelet = node_kubelet;
    }

    /// Sets whether the run keeps its decision log.
    pub(crate) fn set_decision_log(&mut self, keep: bool) {
        self.decision_log = keep;
    }

    /// Adds `decision` to the decision log, if the run keeps one.
    fn record(&mut self, decision: Decision) {
        if self.decision_log {
            self.decisions.push(decision);
        }
    }

    pub(crate) fn new(
        config: Arc<SimConfig>,
        policy: Box<dyn Autoscaler + Send>,
        registration_timeout: SimDuration,
    ) -> Self {
        let streams = RngStreams::new(config.seed);
        let deployments = config
            .deployments
            .iter()
            .map(|d| DeploymentState {
                hpa: match &d.replicas {
                    Replicas::Hpa { spec, .. } => Some(
                        Hpa::new(spec.clone()).expect("Simulation::new validated every HPA spec"),
                    ),
                    Replicas::Fixed(_) => None,
                },
                pods: BTreeSet::new(),
                desired: 0,
                ordinals: BTreeMap::new(),
            })
            .collect();
        let policy_name = policy.name().to_string();
        World {
            node_kubelet: BTreeMap::new(),
            cluster: {
                let mut cluster = Cluster::new(config.daemonsets.clone());
                cluster.set_pdbs(config.pdbs.clone());
                cluster.set_owner_names(
                    config.deployments.iter().map(|d| d.name.clone()).collect(),
                    config.jobs.iter().map(|j| j.name.clone()).collect(),
                );
                cluster
            },
            scheduler: Scheduler::new(config.scoring),
            engine: Engine::default(),
            policy,
            deployments,
            launch_streams: LaunchStreams::new(&streams),
            registration_timeout,
            launch_times: BTreeMap::new(),
            running_since: BTreeMap::new(),
            startup_rng: streams.stream("kube/pod-startup"),
            schedule_queued: false,
            job_arrivals: config
                .jobs
                .iter()
                .map(|job| crate::jobs::arrivals(job, &config, &streams))
                .collect(),
            job_run_times: BTreeMap::new(),
            draining: BTreeMap::new(),
            forced: BTreeSet::new(),
            market: SpotMarket::new(config.spot.clone(), config.seed),
            interrupted: BTreeSet::new(),
            failed_launches: BTreeMap::new(),
            rejected_launches: BTreeMap::new(),
            failed_spot_offerings: BTreeSet::new(),
            fallback_nodes: BTreeSet::new(),
            metrics: Metrics::new(&policy_name),
            policy_name,
            decisions: Vec::new(),
            decision_log: true,
            ledger: PodLedger::default(),
            config,
        }
    }

    /// Runs to the end of the scenario and returns the results.
    pub(crate) fn run(self) -> RunOutput {
        self.run_observed(None)
    }

    /// Runs to the end of the scenario, calling the observer, if any, every given interval
    /// before the events of that time; returns the results.
    pub(crate) fn run_observed(mut self, mut observer: Option<Observer<'_>>) -> RunOutput {
        let end = SimTime::ZERO + self.config.duration;
        self.start_workloads();
        self.engine.schedule_at(SimTime::ZERO, Event::PolicyStart);
        self.engine.schedule_at(SimTime::ZERO, Event::Sample);
        self.engine.schedule_at(end, Event::End);
        let mut next_probe = SimTime::ZERO;

        while let Some((now, event)) = self.engine.next_event() {
            if let Some((every, observe)) = &mut observer {
                while next_probe <= now {
                    observe(&Progress {
                        now: next_probe,
                        events_processed: self.engine.events_processed(),
                        metrics_heap_bytes: self.metrics.heap_bytes()
                            + decisions_heap_bytes(&self.decisions),
                    });
                    next_probe += (*every).max(SimDuration::from_millis(1));
                }
            }
            let fallback_running = self
                .fallback_nodes
                .iter()
                .filter(|id| self.running_since.contains_key(id))
                .count();
            self.metrics.advance(now, &self.cluster, fallback_running);
            if event == Event::End {
                // A snapshot at the end of the run comes after the last sample.
                self.snapshot_fleet(now);
                break;
            }
            self.handle(now, event);
            if self.config.check_invariants {
                self.check_invariants(now);
                let view = ClusterView {
                    now,
                    cluster: &self.cluster,
                    catalog: &self.config.catalog,
                    zones: &self.config.zones,
                };
                if let Err(broken) = self.policy.check_invariants(&view) {
                    panic!(
                        "invariant violated at {now}: policy {}: {broken}",
                        self.policy_name
                    );
                }
            }
        }

        let now = self.engine.now();
        let running: Vec<autoscale_sim_kube::Node> = self.cluster.nodes().cloned().collect();
        for node in &running {
            let cost = self.bill(node, now);
            self.metrics
                .node_running_at_end(node, cost, &self.config.catalog);
        }
        let events = self.engine.events_processed();
        self.metrics
            .finish(now, &self.cluster, events, self.decisions)
    }

    fn handle(&mut self, now: SimTime, event: Event) {
        match event {
            Event::PolicyStart => self.call_policy(PolicyEvent::Start),
            Event::PolicyTimer(token) => self.call_policy(PolicyEvent::Timer(token)),
            Event::HpaSync(index) => self.sync_deployment(index, now),
            Event::InstanceRunning(id) => {
                if self.cluster.node(id).is_some() {
                    self.running_since.insert(id, now);
                }
            }
            Event::NodeReady(id) => self.node_ready(id, now),
            Event::RegistrationTimeout(id) => self.registration_timeout(id, now),
            Event::NodeTerminated(id) => self.terminate(id, now),
            Event::DrainNode(id) => self.drain(id, now),
            Event::PodTerminated(pod) => self.pod_terminated(pod, now),
            Event::PodStarted(pod) => self.pod_started(pod, now),
            Event::PodSucceeded(pod) => self.pod_succeeded(pod, now),
            Event::LaunchFailed(id) => self.launch_failed(id, now),
            Event::SpotInterruption(id) => self.spot_interruption(id, now),
            Event::SpotTermination(id) => self.spot_termination(id, now),
            Event::RebalanceRecommendation(id) => self.rebalance_recommendation(id, now),
            Event::JobArrival { job, n } => self.job_arrival(job, n, now),
            Event::Schedule => self.run_scheduler(now),
            Event::Sample => {
                self.metrics.sample(
                    now,
                    &self.cluster,
                    &self.config,
                    &self.load_at(now),
                    &self.running_since,
                );
                self.snapshot_fleet(now);
                self.engine
                    .schedule_in(self.config.sample_interval, Event::Sample);
            }
            Event::End => {}
        }
    }

    fn load_at(&self, now: SimTime) -> Vec<f64> {
        self.config
            .loads
            .iter()
            .map(|l| l.trace.value_at(now).unwrap_or(0.0))
            .collect()
    }

    fn snapshot_fleet(&mut self, now: SimTime) {
        for snapshot in &self.config.snapshots {
            if snapshot.at <= now && !self.metrics.has_snapshot(&snapshot.label) {
                self.metrics.take_snapshot(
                    &snapshot.label,
                    now,
                    &self.cluster,
                    &self.config.catalog,
                );
            }
        }
    }

    /// Creates each Deployment's initial replicas, starts the HPA syncs and the Job arrivals.
    fn start_workloads(&mut self) {
        for (job, arrivals) in self.job_arrivals.iter().enumerate() {
            if let Some((at, _)) = arrivals.first() {
                self.engine
                    .schedule_at(*at, Event::JobArrival { job, n: 0 });
            }
        }
        for index in 0..self.config.deployments.len() {
            let deployment = &self.config.deployments[index];
            let initial = match &deployment.replicas {
                Replicas::Fixed(n) => *n,
                Replicas::Hpa { load, spec } => {
                    let value = self.config.loads[*load]
                        .trace
                        .value_at(SimTime::ZERO)
                        .unwrap_or(0.0);
                    let wanted = (value / spec.target_per_replica).ceil();
                    (wanted.max(0.0) as u32).clamp(spec.min_replicas, spec.max_replicas)
                }
            };
            self.scale_deployment(index, initial, SimTime::ZERO);
            if let Replicas::Hpa { spec, .. } = &self.config.deployments[index].replicas {
                self.engine
                    .schedule_at(SimTime::ZERO + spec.sync_period, Event::HpaSync(index));
            }
        }
        self.queue_schedule();
    }

    /// One HPA sync: recommend a replica count from the load and scale to it.
    fn sync_deployment(&mut self, index: usize, now: SimTime) {
        let Replicas::Hpa { load, spec } = &self.config.deployments[index].replicas else {
            return;
        };
        let value = self.config.loads[*load].trace.value_at(now).unwrap_or(0.0);
        let period = spec.sync_period;
        let current = self.current_replicas(index);
        let hpa = self.deployments[index]
            .hpa
            .as_mut()
            .expect("HPA deployments have an HPA");
        let desired = hpa.recommend(now, current, value);
        self.scale_deployment(index, desired, now);
        self.engine.schedule_in(period, Event::HpaSync(index));
    }

    /// Creates or deletes pods until the Deployment has `desired` of them. Deletion follows the
    /// ReplicaSet controller's ranking (see [`replicaset::pods_to_delete`]).
    fn scale_deployment(&mut self, index: usize, desired: u32, now: SimTime) {
        self.deployments[index].desired = desired;
        if let ReplicaController::StatefulSet(_) = self.config.deployments[index].controller {
            self.sync_statefulset(index, now);
            return;
        }
        let current = self.deployments[index].pods.len() as u32;
        if desired > current {
            let spec = self.config.deployments[index].spec.clone();
            for _ in current..desired {
                let id =
                    self.cluster
                        .create_pod(Owner::Deployment(index as u32), spec.clone(), now);
                self.deployments[index].pods.insert(id);
            }
            self.queue_schedule();
        } else if desired < current {
            let doomed = replicaset::pods_to_delete(
                &self.cluster,
                &self.deployments[index].pods,
                (current - desired) as usize,
                now,
            );
            for id in doomed {
                self.terminate_pod(id, Departure::ScaledDown, now);
                self.deployments[index].pods.remove(&id);
            }
            self.queue_schedule();
        }
    }

    /// Removes a pod from the cluster for `departure`, and records it in the metrics and the
    /// pod ledger.
    fn remove_pod(&mut self, id: PodId, departure: Departure, now: SimTime) {
        self.forced.remove(&id);
        if let Some(pod) = self.cluster.delete_pod(id, now) {
            self.ledger.terminating.remove(&id);
            self.ledger.record(departure);
            self.metrics.pod_removed(&pod, now);
        }
    }

    fn queue_schedule(&mut self) {
        if !self.schedule_queued {
            self.schedule_queued = true;
            self.engine.schedule_in(SimDuration::ZERO, Event::Schedule);
        }
    }

    fn run_scheduler(&mut self, now: SimTime) {
        self.schedule_queued = false;
        let pass = self.scheduler.schedule(&mut self.cluster, now);
        for preemption in &pass.preemptions {
            self.preempted(preemption, now);
        }
        if !pass.preemptions.is_empty() {
            self.queue_schedule();
        }
        for (pod, _) in &pass.bound {
            let created = self.cluster.pod(*pod).expect("bound pod exists").created;
            self.metrics.pod_bound(now.since(created));
            let latency = match self.cluster.pod(*pod).map(|p| p.owner) {
                Some(Owner::Job(j)) => self.config.jobs[j as usize]
                    .startup_latency
                    .sample(&mut self.startup_rng),
                Some(Owner::Deployment(d) | Owner::StatefulSet { set: d, .. }) => {
                    self.config.deployments[d as usize]
                        .startup_latency
                        .sample(&mut self.startup_rng)
                }
                _ => crate::config::DEFAULT_POD_STARTUP,
            };
            self.engine.schedule_in(latency, Event::PodStarted(*pod));
        }
        if !pass.newly_unschedulable.is_empty() {
            self.call_policy(PolicyEvent::PodsUnschedulable(pass.newly_unschedulable));
        }
    }

    /// Calls the policy and applies what it returns.
    fn call_policy(&mut self, event: PolicyEvent) {
        let now = self.engine.now();
        let mut actions = Actions::new(self.cluster.next_node_id());
        let view = ClusterView {
            now,
            cluster: &self.cluster,
            catalog: &self.config.catalog,
            zones: &self.config.zones,
        };
        self.policy.on_event(&event, &view, &mut actions);

        let (list, timers) = actions.into_parts();
        for action in list {
            match action {
                Action::Launch(request) => self.launch(request, now),
                Action::Cordon { node, cordoned } => self.cordon(node, cordoned, now),
                Action::DeleteNode {
                    node,
                    reason,
                    detail,
                    drain,
                } => self.delete_node(node, reason, detail, drain, now),
                Action::Note {
                    node,
                    action,
                    reason,
                    detail,
                } => self.note(node, &action, &reason, detail, now),
            }
        }
        for (time, token) in timers {
            self.engine.schedule_at(time, Event::PolicyTimer(token));
        }
    }

    /// Writes a policy's [`Action::Note`] to the decision log.
    fn note(
        &mut self,
        node: Option<NodeId>,
        action: &str,
        reason: &str,
        detail: String,
        now: SimTime,
    ) {
        match node {
            Some(node) => self.log(now, action, node, None, reason, detail),
            None => self.record(Decision {
                time_ms: now.as_millis(),
                time: now.to_string(),
                policy: self.policy_name.clone(),
                action: action.into(),
                reason: reason.into(),
                detail,
                ..Default::default()
            }),
        }
    }

    fn cordon(&mut self, node: NodeId, cordoned: bool, now: SimTime) {
        if self
            .cluster
            .node(node)
            .is_none_or(|n| n.state == NodeState::Deleting)
        {
            return;
        }
        self.cluster.set_cordoned(node, cordoned);
        let action = if cordoned { "cordon" } else { "uncordon" };
        self.log(now, action, node, None, "Disruption", String::new());
        if !cordoned {
            self.queue_schedule();
        }
    }

    /// Starts removing a node: cordons it and drains it by `rules` (see [`World::drain`]).
    fn delete_node(
        &mut self,
        id: NodeId,
        reason: DisruptionReason,
        detail: String,
        rules: DrainRules,
        now: SimTime,
    ) {
        if self
            .cluster
            .node(id)
            .is_none_or(|n| n.state == NodeState::Deleting)
        {
            return;
        }
        if self.config.check_invariants {
            self.check_may_disrupt(id, reason, now);
        }
        self.cluster.mark_deleting(id);
        self.metrics.disruption(reason);
        self.log(now, "delete", id, None, reason.as_str(), detail);
        let deadline = rules.eviction_timeout.map(|t| now + t);
        self.draining.insert(
            id,
            Drain {
                started: now,
                deadline,
                force_at: rules.force_after.map(|t| now + t),
                keep_do_not_disrupt: rules.keep_do_not_disrupt,
                blocked_logged: false,
                reason,
            },
        );
        self.drain(id, now);
        self.queue_schedule();
    }

    /// Evicts what the Eviction API allows from a Deleting node, critical pods last; retries the
    /// rest every 5 s; terminates the instance once no pod is left (at least the termination
    /// delay after the drain started); gives up at the deletion's deadline. A drain with a
    /// forced-deletion time deletes the pods that are still there first (see
    /// [`World::force_deletions`]).
    fn drain(&mut self, id: NodeId, now: SimTime) {
        let Some(drain) = self.draining.get(&id).copied() else {
            return;
        };
        let next_forced = match drain.force_at {
            Some(force_at) => self.force_deletions(id, force_at, drain.reason, now),
            None => None,
        };

        // Evict, non-critical pods first, as kubelet and the autoscalers order drains.
        let mut active: Vec<(bool, PodId)> = self
            .cluster
            .active_pods_on(id)
            .map(|p| (p.spec.priority >= CRITICAL_PRIORITY, p.id))
            .collect();
        active.sort();
        let mut blocked = Blocked::default();
        for (_, pod_id) in active {
            let protected_until = self
                .cluster
                .pod(pod_id)
                .filter(|pod| drain.keep_do_not_disrupt && pod.do_not_disrupt_active(now))
                .and_then(|pod| pod.do_not_disrupt_until());
            if let Some(until) = protected_until {
                blocked.protected += 1;
                blocked.protected_until = blocked.protected_until.max(until);
            } else if self.cluster.eviction_allowed(pod_id) {
                self.evict(pod_id, id, drain.reason, now);
            } else {
                blocked.by_budget += 1;
            }
        }
        let blocked_count = blocked.by_budget + blocked.protected;

        // Finish, retry, or give up.
        let node = self.cluster.node(id).expect("draining node exists");
        if node.pods.is_empty() {
            self.draining.remove(&id);
            let at = now.max(drain.started + self.config.termination_delay);
            self.engine.schedule_at(at, Event::NodeTerminated(id));
        } else if blocked_count > 0 {
            if drain.deadline.is_some_and(|deadline| now >= deadline) {
                self.draining.remove(&id);
                self.cluster.cancel_deletion(id);
                self.log(now, "uncordon", id, None, "EvictionTimeout", format!("{blocked_count} pods could not be evicted (PodDisruptionBudget); deletion abandoned"));
                self.call_policy(PolicyEvent::NodeDeletionFailed(id));
                self.queue_schedule();
            } else {
                if !drain.blocked_logged {
                    self.log_blocked_drain(id, blocked, drain, now);
                }
                let retry = now + EVICTION_RETRY;
                let at = next_forced.map_or(retry, |forced| forced.min(retry));
                self.engine.schedule_at(at, Event::DrainNode(id));
            }
        } else if let Some(forced) = next_forced {
            // Only terminating pods are left; one may outlast the forced-deletion time.
            self.engine.schedule_at(forced, Event::DrainNode(id));
        }
    }

    /// Writes once per drain that some of node `id`'s pods cannot be evicted now, why, and what
    /// ends the wait.
    fn log_blocked_drain(&mut self, id: NodeId, blocked: Blocked, drain: Drain, now: SimTime) {
        if let Some(entry) = self.draining.get_mut(&id) {
            entry.blocked_logged = true;
        }
        let count = blocked.by_budget + blocked.protected;
        let waiting = if count == 1 {
            "1 pod waits".to_string()
        } else {
            format!("{count} pods wait")
        };
        let mut causes = Vec::new();
        if blocked.by_budget > 0 {
            causes.push(format!(
                "{} for a PodDisruptionBudget that allows no eviction now",
                blocked.by_budget
            ));
        }
        if blocked.protected > 0 {
            let until = if blocked.protected_until == SimTime::NEVER {
                String::new()
            } else {
                format!(" until {}", blocked.protected_until)
            };
            causes.push(format!(
                "{} protected by karpenter.sh/do-not-disrupt{until}",
                blocked.protected
            ));
        }
        let causes = causes.join(", ");
        let end = match (drain.deadline, drain.force_at) {
            (Some(deadline), _) => format!("; the deletion is abandoned at {deadline}"),
            (None, Some(force_at)) => format!("; they are deleted by {force_at}"),
            (None, None) if blocked.by_budget == 0 && blocked.protected_until != SimTime::NEVER => {
                String::new()
            }
            (None, None) => "; the drain waits for as long as it takes".to_string(),
        };
        self.log(
            now,
            "drain-blocked",
            id,
            None,
            "EvictionBlocked",
            format!("{waiting}: {causes}; retried every 5 s{end}"),
        );
    }

    /// Deletes the pods of node `id` whose eviction must no longer wait, as Karpenter's
    /// terminator does for a NodeClaim with a `terminationGracePeriod` (kubernetes-sigs/karpenter
    /// v1.13 `node/termination/terminator/terminator.go`, `DeleteExpiringPods`). A pod is
    /// deleted once only its own grace period is left before `force_at`, whatever its
    /// PodDisruptionBudget or do-not-disrupt annotation, with the time left until `force_at` as
    /// its grace period (at least 1 s). At `force_at`, pods that are already terminating end
    /// within 1 s. Returns when the next such deletion is due, if one is.
    fn force_deletions(
        &mut self,
        id: NodeId,
        force_at: SimTime,
        reason: DisruptionReason,
        now: SimTime,
    ) -> Option<SimTime> {
        let node = self.cluster.node(id)?;
        let pods: Vec<(PodId, bool, SimDuration)> = node
            .pods
            .iter()
            .filter_map(|pod_id| self.cluster.pod(*pod_id))
            .map(|pod| {
                let grace = SimDuration::from_secs(pod.spec.termination_grace());
                (pod.id, pod.phase == PodPhase::Terminating, grace)
            })
            .collect();
        let mut next: Option<SimTime> = None;
        let mut due = |at: SimTime| next = Some(next.map_or(at, |n: SimTime| n.min(at)));
        for (pod_id, terminating, grace) in pods {
            if terminating {
                if now >= force_at {
                    if self.forced.insert(pod_id) {
                        self.engine
                            .schedule_at(now + MIN_FORCED_GRACE, Event::PodTerminated(pod_id));
                    }
                } else {
                    due(force_at);
                }
                continue;
            }
            let delete_at = force_at - grace;
            if now < delete_at {
                due(delete_at);
                continue;
            }
            let left = force_at.since(now).max(MIN_FORCED_GRACE);
            self.force_delete(pod_id, id, reason, left, now);
        }
        next
    }

    /// Deletes one pod of a draining node without the Eviction API, over `grace`; its
    /// controller replaces it at once (a bare pod is lost).
    fn force_delete(
        &mut self,
        pod_id: PodId,
        node: NodeId,
        reason: DisruptionReason,
        grace: SimDuration,
        now: SimTime,
    ) {
        let pod = self
            .cluster
            .pod(pod_id)
            .expect("deleted pod exists")
            .clone();
        self.log(
            now,
            "evict",
            node,
            Some(pod_id),
            reason.as_str(),
            format!(
                "deleted at the node's terminationGracePeriod with {grace} of grace, bypassing PodDisruptionBudgets and do-not-disrupt ({})",
                reason.as_str()
            ),
        );
        let departure = if pod.owner == Owner::Bare {
            Departure::Lost
        } else {
            Departure::Replaced
        };
        self.forced.insert(pod_id);
        self.terminate_pod_within(pod_id, departure, grace, now);
        self.metrics
            .pod_evicted(pod.owner == Owner::Bare, reason.as_str());
        self.replace(&pod, now);
    }

    /// Evicts one pod: it terminates over its grace period, and its controller replaces it at
    /// once (a bare pod is lost).
    fn evict(&mut self, pod_id: PodId, node: NodeId, reason: DisruptionReason, now: SimTime) {
        if self.config.check_invariants {
            let allowed = self.cluster.disruptions_allowed();
            let spec = &self.cluster.pod(pod_id).expect("evicted pod exists").spec;
            for index in self.cluster.pdbs_covering(spec) {
                assert!(
                    allowed[index] >= 1,
                    "invariant violated at {now}: {} evicted although its PodDisruptionBudget allows no disruption",
                    self.pod_name(pod_id)
                );
            }
        }
        let pod = self
            .cluster
            .pod(pod_id)
            .expect("evicted pod exists")
            .clone();
        self.log(
            now,
            "evict",
            node,
            Some(pod_id),
            reason.as_str(),
            format!("evicted while deleting the node ({})", reason.as_str()),
        );
        let departure = if pod.owner == Owner::Bare {
            Departure::Lost
        } else {
            Departure::Replaced
        };
        self.terminate_pod(pod_id, departure, now);
        self.metrics
            .pod_evicted(pod.owner == Owner::Bare, reason.as_str());
        self.replace(&pod, now);
    }

    /// Handles the victims of a preemption: kube-scheduler already set them terminating, so
    /// each leaves its node after its grace period and its controller replaces it at once (a
    /// bare pod is lost).
    fn preempted(&mut self, preemption: &Preemption, now: SimTime) {
        let preemptor = self.pod_name(preemption.preemptor);
        for victim in &preemption.newly_terminating {
            let Some(pod) = self.cluster.pod(*victim).cloned() else {
                continue;
            };
            self.log(
                now,
                "preempt",
                preemption.node,
                Some(*victim),
                PREEMPTION_REASON,
                format!(
                    "preempted by {preemptor} (priority {} over {})",
                    self.cluster
                        .pod(preemption.preemptor)
                        .map_or(0, |p| p.spec.priority),
                    pod.spec.priority
                ),
            );
            let departure = if pod.owner == Owner::Bare {
                Departure::Lost
            } else {
                Departure::Replaced
            };
            self.ledger.terminating.insert(*victim, departure);
            let grace = SimDuration::from_secs(pod.spec.termination_grace());
            self.engine
                .schedule_in(grace, Event::PodTerminated(*victim));
            self.metrics
                .pod_evicted(pod.owner == Owner::Bare, PREEMPTION_REASON);
            self.replace(&pod, now);
        }
    }

    /// Has a pod's controller create a replacement for it: the ReplicaSet a new replica, the Job
    /// controller a new pod that runs from the beginning again, the StatefulSet the same name
    /// once the old pod is gone. A bare pod has none.
    fn replace(&mut self, pod: &Pod, now: SimTime) {
        match pod.owner {
            Owner::Deployment(index) => {
                let index = index as usize;
                self.deployments[index].pods.remove(&pod.id);
                let replacement = self.cluster.create_pod(pod.owner, pod.spec.clone(), now);
                self.deployments[index].pods.insert(replacement);
            }
            Owner::StatefulSet { set, .. } => self.sync_statefulset(set as usize, now),
            Owner::Job(_) => {
                let run_time = self.job_run_times.remove(&pod.id).unwrap_or_default();
                let replacement = self.cluster.create_pod(pod.owner, pod.spec.clone(), now);
                self.job_run_times.insert(replacement, run_time);
            }
            Owner::Bare => {}
        }
    }

    /// Creates the pod of a Job arrival and schedules the next arrival.
    fn job_arrival(&mut self, job: usize, n: usize, now: SimTime) {
        let (_, run_time) = self.job_arrivals[job][n];
        let spec = self.config.jobs[job].spec.clone();
        let pod = self.cluster.create_pod(Owner::Job(job as u32), spec, now);
        self.job_run_times.insert(pod, run_time);
        if let Some((at, _)) = self.job_arrivals[job].get(n + 1) {
            self.engine
                .schedule_at(*at, Event::JobArrival { job, n: n + 1 });
        }
        self.queue_schedule();
    }

    /// Marks a pod Running; a Job's pod then runs for its run time, and a StatefulSet may
    /// create its next ordinal.
    fn pod_started(&mut self, pod: PodId, now: SimTime) {
        let still_starting = self
            .cluster
            .pod(pod)
            .is_some_and(|p| p.phase == PodPhase::Starting);
        let owner = self.cluster.pod(pod).map(|p| p.owner);
        self.cluster.set_running(pod);
        if still_starting && let Some(run_time) = self.job_run_times.get(&pod) {
            self.engine.schedule_in(*run_time, Event::PodSucceeded(pod));
        }
        if let Some(Owner::StatefulSet { set, .. }) = owner {
            self.sync_statefulset(set as usize, now);
        }
    }

    /// Completes a Job's pod: it leaves its node as Succeeded.
    fn pod_succeeded(&mut self, pod: PodId, now: SimTime) {
        if self
            .cluster
            .pod(pod)
            .is_none_or(|p| p.phase != PodPhase::Running)
        {
            return;
        }
        let node = self.cluster.pod(pod).and_then(|p| p.node);
        self.job_run_times.remove(&pod);
        self.remove_pod(pod, Departure::Succeeded, now);
        self.metrics.pod_succeeded();
        self.queue_schedule();
        if let Some(node) = node
            && self.draining.contains_key(&node)
        {
            self.drain(node, now);
        }
    }

    /// Starts a pod's graceful termination for `departure`; it leaves its node when the grace
    /// period ends. An unbound pod leaves at once.
    fn terminate_pod(&mut self, pod_id: PodId, departure: Departure, now: SimTime) {
        let Some(grace) = self
            .cluster
            .pod(pod_id)
            .map(|pod| SimDuration::from_secs(pod.spec.termination_grace()))
        else {
            return;
        };
        self.terminate_pod_within(pod_id, departure, grace, now);
    }

    /// Starts a pod's termination for `departure` over `grace`, as [`World::terminate_pod`]
    /// does over the pod's own grace period.
    fn terminate_pod_within(
        &mut self,
        pod_id: PodId,
        departure: Departure,
        grace: SimDuration,
        now: SimTime,
    ) {
        let Some(pod) = self.cluster.begin_termination(pod_id, now) else {
            return;
        };
        if pod.node.is_some() {
            self.ledger.terminating.insert(pod_id, departure);
            self.engine.schedule_in(grace, Event::PodTerminated(pod_id));
        } else {
            self.ledger.record(departure);
            self.metrics.pod_removed(&pod, now);
        }
    }

    /// Removes a pod whose grace period ended, and continues its node's drain if there is one.
    fn pod_terminated(&mut self, pod_id: PodId, now: SimTime) {
        let node = self.cluster.pod(pod_id).and_then(|p| p.node);
        // A pod that left earlier, with its node or at a forced deletion, has no recorded
        // departure any more.
        let Some(departure) = self.ledger.terminating.get(&pod_id).copied() else {
            return;
        };
        let owner = self.cluster.pod(pod_id).map(|p| p.owner);
        self.remove_pod(pod_id, departure, now);
        if let Some(Owner::StatefulSet { set, .. }) = owner {
            self.sync_statefulset(set as usize, now);
        }
        self.queue_schedule();
        if let Some(node) = node
            && self.draining.contains_key(&node)
        {
            self.drain(node, now);
        }
    }

    fn terminate(&mut self, id: NodeId, now: SimTime) {
        let Some(node) = self.cluster.remove_node(id) else {
            return;
        };
        let cost = self.bill(&node, now);
        let running_since = self.running_since.get(&id).copied();
        self.forget_node(id);
        self.metrics
            .node_terminated(&node, cost, &self.config.catalog);
        let detail = match running_since {
            Some(from) => format!(
                "billed {} s, ${:.6}",
                billing::billed_secs(now.since(from)),
                cost.usd()
            ),
            None => "terminated before it was running, not billed".into(),
        };
        self.record(Decision {
            time_ms: now.as_millis(),
            time: now.to_string(),
            policy: self.policy_name.clone(),
            action: "terminate".into(),
            node: node.name.clone(),
            instance_type: self.config.catalog.get(node.instance_type).name.clone(),
            zone: node.zone.clone(),
            pod: None,
            reason: "Terminated".into(),
            detail,
        });
        self.call_policy(PolicyEvent::NodeRemoved(id));
    }

    /// Panics when the cluster's books do not balance: a node's bound requests above its
    /// allocatable, a pod bound to a node that does not list it, a pending pod on a node, a
    /// pod that left the cluster without a recorded reason, a terminating pod without one, or
    /// kept totals of the Ready nodes that differ from a walk over them.
    fn check_invariants(&self, now: SimTime) {
        let live = self.cluster.pods().count() as u64;
        let created = self.cluster.pods_created();
        assert_eq!(
            created,
            live + self.ledger.departed(),
            "invariant violated at {now}: {created} pods created, {live} in the cluster, and {} left it (ledger {:?})",
            self.ledger.departed(),
            self.ledger
        );
        let terminating = self
            .cluster
            .pods()
            .filter(|pod| pod.phase == PodPhase::Terminating)
            .count();
        assert_eq!(
            terminating,
            self.ledger.terminating.len(),
            "invariant violated at {now}: {terminating} pods terminating, {} with a recorded reason",
            self.ledger.terminating.len()
        );
        for node in self.cluster.nodes() {
            let requested = node.requested();
            // DaemonSet overhead alone may exceed a tiny node's allocatable; pods may not.
            assert!(
                node.pods.is_empty() || requested.fits_in(&node.allocatable),
                "invariant violated at {now}: {} requests {:?} above allocatable {:?}",
                node.name,
                requested,
                node.allocatable
            );
            for pod in &node.pods {
                let bound = self.cluster.pod(*pod).and_then(|p| p.node);
                assert_eq!(
                    bound,
                    Some(node.id),
                    "invariant violated at {now}: {} lists {pod} bound elsewhere",
                    node.name
                );
            }
        }
        let walked = autoscale_sim_kube::ReadyTotals::of(self.cluster.nodes());
        assert_eq!(
            walked,
            self.cluster.ready_totals(),
            "invariant violated at {now}: the kept totals of the Ready nodes differ from a walk"
        );
        for pod in self.cluster.pods() {
            match pod.node {
                Some(node) => assert!(
                    self.cluster
                        .node(node)
                        .is_some_and(|n| n.pods.contains(&pod.id)),
                    "invariant violated at {now}: {} bound to a node that does not list it",
                    pod.id
                ),
                None => assert_eq!(
                    pod.phase,
                    PodPhase::Pending,
                    "invariant violated at {now}: unbound {} is {:?}",
                    pod.id,
                    pod.phase
                ),
            }
        }
    }

    /// Panics when a policy deletes a node for a voluntary reason although the node or a pod on
    /// it forbids that policy to. The node's `karpenter.sh/do-not-disrupt: "true"` forbids
    /// emptiness, consolidation and drift, and a pod's active `karpenter.sh/do-not-disrupt`
    /// forbids consolidation. A pod's `cluster-autoscaler.kubernetes.io/safe-to-evict: "false"`
    /// forbids Cluster Autoscaler's scale-down.
    fn check_may_disrupt(&self, id: NodeId, reason: DisruptionReason, now: SimTime) {
        let voluntary = matches!(
            reason,
            DisruptionReason::Empty | DisruptionReason::Underutilized | DisruptionReason::Drifted
        );
        let node = self.cluster.node(id);
        let annotated = node.and_then(|n| n.annotations.get(DO_NOT_DISRUPT));
        if voluntary && annotated.is_some_and(|value| value == "true") {
            panic!(
                "invariant violated at {now}: {} deleted {} ({}) although its karpenter.sh/do-not-disrupt annotation forbids it",
                self.policy_name,
                node.map_or("?", |n| n.name.as_str()),
                reason.as_str(),
            );
        }
        let blocks = |pod: &autoscale_sim_kube::Pod| match reason {
            DisruptionReason::Empty | DisruptionReason::Underutilized => {
                pod.do_not_disrupt_active(now)
            }
            DisruptionReason::ScaleDown => pod.spec.safe_to_evict == Some(false),
            _ => false,
        };
        if let Some(pod) = self.cluster.active_pods_on(id).find(|pod| blocks(pod)) {
            panic!(
                "invariant violated at {now}: {} deleted {} ({}) although {} forbids it",
                self.policy_name,
                self.cluster.node(id).map_or("?", |n| n.name.as_str()),
                reason.as_str(),
                self.pod_name(pod.id)
            );
        }
    }

    /// Returns the departure of a terminating pod; `None` for a pod not in its grace period.
    pub(super) fn ledger_departure(&self, pod: PodId) -> Option<Departure> {
        self.ledger.terminating.get(&pod).copied()
    }

    /// Names a pod after its Deployment or Job, as `api-pod-17`, or its StatefulSet, as `db-2`,
    /// or `pod-17` for a bare pod.
    fn pod_name(&self, pod: PodId) -> String {
        self.cluster.pod_name(pod)
    }

    fn log(
        &mut self,
        now: SimTime,
        action: &str,
        node: NodeId,
        pod: Option<PodId>,
        reason: &str,
        detail: String,
    ) {
        let Some(n) = self.cluster.node(node) else {
            return;
        };
        if !self.decision_log {
            return;
        }
        self.record(Decision {
            time_ms: now.as_millis(),
            time: now.to_string(),
            policy: self.policy_name.clone(),
            action: action.into(),
            node: n.name.clone(),
            instance_type: self.config.catalog.get(n.instance_type).name.clone(),
            zone: n.zone.clone(),
            pod: pod.map(|p| self.pod_name(p)),
            reason: reason.into(),
            detail,
        });
    }
}

/// Counts nodes by instance type name.
pub(crate) fn fleet_by_type(
    cluster: &Cluster,
    catalog: &autoscale_sim_cloud::Catalog,
) -> BTreeMap<String, u32> {
    // Counting by index first clones each instance type's name once, not once per node.
    let mut by_index: BTreeMap<autoscale_sim_cloud::InstanceTypeIndex, u32> = BTreeMap::new();
    for node in cluster.nodes() {
        *by_index.entry(node.instance_type).or_insert(0) += 1;
    }
    let mut fleet = BTreeMap::new();
    for (index, count) in by_index {
        *fleet.entry(catalog.get(index).name.clone()).or_insert(0) += count;
    }
    fleet
}
