//! Property tests of whole runs and of the event queues. Random small worlds (Deployments, Jobs,
//! PDBs, node groups, NodePools, spot markets with interruptions and shortages), run under every
//! policy with the run invariants on, keep their books and give equal output for equal seeds,
//! in parallel threads too. Both event queues match a reference model of time order, FIFO on
//! ties and cancellation.
//!
//! The run property has 256 cases unless `PROPTEST_CASES` sets another count; the queue
//! properties, which are cheap, have 1024. The worlds last one to six simulated hours with at
//! most a few dozen pods, so that the file stays fast in debug builds.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::thread;

use autoscale_sim::cloud::{
    CapacityWindow, Catalog, GIB, InterruptionBand, LatencyModel, MIB, Resources, SpotSettings,
};
use autoscale_sim::engine::{EventId, EventQueue, HeapQueue, KeyedQueue, SimDuration, SimTime};
use autoscale_sim::kube::{
    CapacityType, IntOrPercent, LABEL_CAPACITY_TYPE, LabelSelector, PodDisruptionBudget, PodSpec,
};
use autoscale_sim::policy::requirements::{Operator, Requirement};
use autoscale_sim::policy::{
    BudgetNodes, ClusterAutoscalerConfig, ConsolidationPolicy, KarpenterConfig, MinValuesPolicy,
    NodeGroupConfig, NodePool, StaticConfig,
};
use autoscale_sim::sim::{Deployment, JobStream, Load, Replicas};
use autoscale_sim::workload::{HpaSpec, Trace};
use autoscale_sim::{PolicySpec, RunOutput, SimConfig, Simulation};
use proptest::prelude::*;

/// Instance types of the small catalog the random worlds use: general purpose, compute,
/// memory and burstable, amd64 and arm64, from 2 to 8 vCPUs.
const INSTANCE_TYPES: [&str; 8] = [
    "c5.large",
    "c5.xlarge",
    "m5.large",
    "m5.xlarge",
    "m5.2xlarge",
    "m6g.large",
    "r5.large",
    "t3.medium",
];

/// Instance categories of [`INSTANCE_TYPES`], for NodePool requirements.
const CATEGORIES: [&str; 4] = ["c", "m", "r", "t"];

/// Instance families of [`INSTANCE_TYPES`], for spot interruption rates.
const FAMILIES: [&str; 5] = ["c5", "m5", "m6g", "r5", "t3"];

/// Returns the built-in catalog cut down to [`INSTANCE_TYPES`], built once.
fn small_catalog() -> Arc<Catalog> {
    static CATALOG: OnceLock<Arc<Catalog>> = OnceLock::new();
    CATALOG
        .get_or_init(|| {
            let builtin = Catalog::builtin();
            let types = INSTANCE_TYPES
                .iter()
                .map(|name| builtin.by_name(name).expect("built-in type").clone())
                .collect();
            Arc::new(Catalog::new(types))
        })
        .clone()
}

/// Builds a pod template that requests `cpu_millis` and `memory_mib`, labelled `app: <name>`.
fn pod_spec(name: &str, cpu_millis: i64, memory_mib: i64) -> Arc<PodSpec> {
    Arc::new(PodSpec {
        requests: Resources::new(cpu_millis, memory_mib * MIB, 1),
        labels: BTreeMap::from([("app".to_string(), name.to_string())]),
        ..Default::default()
    })
}

/// Pod requests: mostly small, sometimes larger than every type of the catalog (64 CPUs), so
/// that some pods stay Pending.
fn requests() -> impl Strategy<Value = (i64, i64)> {
    prop_oneof![
        9 => (100i64..=3_000, 128i64..=6_144),
        1 => Just((64_000, 1_024)),
    ]
}

fn latency() -> impl Strategy<Value = LatencyModel> {
    prop_oneof![
        (10u64..=90).prop_map(|secs| LatencyModel::Fixed(SimDuration::from_secs(secs))),
        (20u64..=90, 0u64..=30).prop_map(|(mean, stddev)| LatencyModel::LogNormal {
            mean: SimDuration::from_secs(mean),
            stddev: SimDuration::from_secs(stddev),
            min: SimDuration::from_secs(10),
        }),
    ]
}

/// Generates a load: one value per 5 to 60 minutes, from 0 to 100, looping past its end.
fn load() -> impl Strategy<Value = Trace> {
    (5u64..=60, prop::collection::vec(0.0f64..=100.0, 1..=8)).prop_map(|(minutes, values)| {
        Trace::new(SimDuration::from_mins(minutes), values).expect("valid trace")
    })
}

/// How a Deployment sizes itself, before the load index is known.
#[derive(Clone, Debug)]
enum ReplicaChoice {
    Fixed(u32),
    Hpa { target: f64, min: u32, max: u32 },
}

/// Generates a Deployment: its replicas, requests, startup latency, and whether its pods are
/// annotated `karpenter.sh/do-not-disrupt: "true"` (one in five).
fn deployment() -> impl Strategy<Value = (ReplicaChoice, (i64, i64), LatencyModel, bool)> {
    let replicas = prop_oneof![
        (0u32..=10).prop_map(ReplicaChoice::Fixed),
        (5.0f64..=50.0, 0u32..=2, 1u32..=10).prop_map(|(target, min, extra)| ReplicaChoice::Hpa {
            target,
            min,
            max: min + extra,
        }),
    ];
    (replicas, requests(), latency(), prop::bool::weighted(0.2))
}

/// Generates a Job stream: arrivals per hour per unit of load (the loads reach 100), requests
/// and run time.
fn job_stream() -> impl Strategy<Value = (f64, (i64, i64), LatencyModel)> {
    (0.0f64..=0.05, requests(), latency())
}

/// Generates the limits of a PodDisruptionBudget over one Deployment's pods.
fn budget() -> impl Strategy<Value = (Option<IntOrPercent>, Option<IntOrPercent>)> {
    prop_oneof![
        (0i64..=2).prop_map(|n| (None, Some(IntOrPercent::Int(n)))),
        (0i64..=100).prop_map(|p| (Some(IntOrPercent::Percent(p)), None)),
        (0i64..=3).prop_map(|n| (Some(IntOrPercent::Int(n)), None)),
    ]
}

/// A node group: a catalog index, minSize, maxSize, an optional zone index and a capacity type.
type GroupChoice = (usize, u32, u32, Option<usize>, CapacityType);

fn capacity_type() -> impl Strategy<Value = CapacityType> {
    prop_oneof![Just(CapacityType::OnDemand), Just(CapacityType::Spot)]
}

fn node_group() -> impl Strategy<Value = GroupChoice> {
    (
        0..INSTANCE_TYPES.len(),
        0u32..=2,
        1u32..=5,
        prop::option::of(0usize..3),
        capacity_type(),
    )
        .prop_map(|(instance_type, min, extra, zone, capacity)| {
            (instance_type, min, min + extra, zone, capacity)
        })
}

fn node_pool() -> impl Strategy<Value = NodePool> {
    (
        prop::sample::subsequence(CATEGORIES.to_vec(), 0..=CATEGORIES.len()),
        any::<bool>(),
        prop::option::of(0u64..=120),
        prop_oneof![
            (0u32..=100).prop_map(BudgetNodes::Percent),
            (0u32..=3).prop_map(BudgetNodes::Count),
        ],
        prop::option::of(4i64..=64),
        -10i32..=10,
        prop::sample::subsequence(vec!["spot", "on-demand"], 0..=2),
        (
            prop::option::of(prop::sample::select(vec![60u64, 600, 3_600])),
            prop::option::of(1u32..=3),
        ),
    )
        .prop_map(
            |(
                categories,
                when_empty,
                consolidate_after,
                budget,
                cpu_limit,
                weight,
                capacity,
                (termination_grace, min_values),
            )| {
                let mut requirements = vec![];
                if !categories.is_empty() {
                    requirements.push(Requirement {
                        key: "karpenter.k8s.aws/instance-category".into(),
                        operator: Operator::In,
                        values: categories.iter().map(|c| c.to_string()).collect(),
                        // minValues may not exceed the number of values.
                        min_values: min_values.map(|min| min.min(categories.len() as u32)),
                    });
                }
                // No capacity-type requirement means on-demand only, as in Karpenter.
                if !capacity.is_empty() {
                    requirements.push(Requirement {
                        key: LABEL_CAPACITY_TYPE.into(),
                        operator: Operator::In,
                        values: capacity.iter().map(|c| c.to_string()).collect(),
                        min_values: None,
                    });
                }
                NodePool {
                    name: format!("pool-{weight}"),
                    weight,
                    requirements,
                    consolidation_policy: if when_empty {
                        ConsolidationPolicy::WhenEmpty
                    } else {
                        ConsolidationPolicy::WhenEmptyOrUnderutilized
                    },
                    consolidate_after: consolidate_after.map(SimDuration::from_secs),
                    budgets: vec![budget],
                    limits: cpu_limit
                        .map(|cores| Resources::new(cores * 1_000, cores * 8 * GIB, 10_000)),
                    termination_grace_period: termination_grace.map(SimDuration::from_secs),
                    ..NodePool::default()
                }
            },
        )
}

/// Generates a spot market: price volatility and step, interruption rates per family (up to
/// about 30 per instance over six hours), and up to two capacity shortages.
fn spot_settings() -> impl Strategy<Value = SpotSettings> {
    let window = (
        prop::option::of(0..INSTANCE_TYPES.len()),
        prop::option::of(0usize..3),
        any::<bool>(),
        0u64..=360,
        1u64..=120,
    );
    (
        0.0f64..=0.2,
        10u64..=120,
        prop::collection::vec(0.0f64..=3_600.0, FAMILIES.len()),
        prop_oneof![
            Just(InterruptionBand::Under5),
            Just(InterruptionBand::From10To15),
            Just(InterruptionBand::Over20),
        ],
        prop::collection::vec(window, 0..=2),
    )
        .prop_map(|(volatility, minutes, rates, band, windows)| {
            let zones = ["us-east-1a", "us-east-1b", "us-east-1c"];
            SpotSettings {
                volatility,
                change_interval: SimDuration::from_mins(minutes),
                default_band: band,
                interruptions_per_month_by_family: FAMILIES
                    .iter()
                    .zip(rates)
                    .map(|(family, rate)| (family.to_string(), rate))
                    .collect(),
                capacity_windows: windows
                    .into_iter()
                    .map(
                        |(instance_type, zone, spot, start, length)| CapacityWindow {
                            instance_type: instance_type.map(|i| INSTANCE_TYPES[i].to_string()),
                            zone: zone.map(|z| zones[z].to_string()),
                            spot,
                            from: SimTime(start * 60_000),
                            to: SimTime((start + length) * 60_000),
                        },
                    )
                    .collect(),
                ..SpotSettings::default()
            }
        })
}

/// A random world and the policies to run it under.
#[derive(Clone, Debug)]
struct World {
    config: SimConfig,
    policies: Vec<PolicySpec>,
}

fn world() -> impl Strategy<Value = World> {
    (
        (any::<u64>(), 1u64..=6, latency(), spot_settings()),
        prop::collection::vec(load(), 1..=2),
        prop::collection::vec((deployment(), any::<prop::sample::Index>()), 1..=3),
        prop::collection::vec((job_stream(), any::<prop::sample::Index>()), 0..=2),
        prop::collection::vec((budget(), any::<prop::sample::Index>()), 0..=2),
        prop::collection::vec(node_group(), 1..=3),
        prop::collection::vec(node_pool(), 1..=2),
        (0..INSTANCE_TYPES.len(), 0u32..=3, any::<bool>()),
    )
        .prop_map(
            |(
                (seed, hours, launch_latency, spot),
                loads,
                deployments,
                jobs,
                budgets,
                groups,
                pools,
                (static_type, static_count, best_effort),
            )| {
                build_world(
                    seed,
                    hours,
                    launch_latency,
                    spot,
                    loads,
                    deployments,
                    jobs,
                    budgets,
                    groups,
                    pools,
                    (static_type, static_count, best_effort),
                )
            },
        )
}

#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn build_world(
    seed: u64,
    hours: u64,
    launch_latency: LatencyModel,
    spot: SpotSettings,
    loads: Vec<Trace>,
    deployments: Vec<(
        (ReplicaChoice, (i64, i64), LatencyModel, bool),
        prop::sample::Index,
    )>,
    jobs: Vec<((f64, (i64, i64), LatencyModel), prop::sample::Index)>,
    budgets: Vec<(
        (Option<IntOrPercent>, Option<IntOrPercent>),
        prop::sample::Index,
    )>,
    groups: Vec<GroupChoice>,
    pools: Vec<NodePool>,
    (static_type, static_count, best_effort): (usize, u32, bool),
) -> World {
    let catalog = small_catalog();
    let mut config = SimConfig::new(
        "property",
        seed,
        SimDuration::from_hours(hours),
        catalog.clone(),
    );
    config.check_invariants = true;
    config.launch_latency = launch_latency.into();
    config.spot = spot;
    config.loads = loads
        .into_iter()
        .enumerate()
        .map(|(index, trace)| Load {
            name: format!("load-{index}"),
            trace,
        })
        .collect();

    // Workloads: Deployments follow a load or keep a count, and Jobs arrive with a load.
    for (index, ((choice, (cpu, memory), startup, do_not_disrupt), load)) in
        deployments.into_iter().enumerate()
    {
        let name = format!("web-{index}");
        let replicas = match choice {
            ReplicaChoice::Fixed(count) => Replicas::Fixed(count),
            ReplicaChoice::Hpa { target, min, max } => Replicas::Hpa {
                load: load.index(config.loads.len()),
                spec: HpaSpec::new(target, min, max),
            },
        };
        let mut spec = (*pod_spec(&name, cpu, memory)).clone();
        spec.do_not_disrupt = do_not_disrupt;
        config.deployments.push(Deployment {
            controller: Default::default(),
            spec: Arc::new(spec),
            name,
            replicas,
            startup_latency: startup,
        });
    }
    for (index, ((rate, (cpu, memory), duration), load)) in jobs.into_iter().enumerate() {
        let name = format!("job-{index}");
        config.jobs.push(JobStream {
            spec: pod_spec(&name, cpu, memory),
            name,
            load: load.index(config.loads.len()),
            arrivals_per_hour_per_unit: rate,
            duration,
            startup_latency: LatencyModel::Fixed(SimDuration::from_secs(5)),
        });
    }
    for (index, ((min_available, max_unavailable), target)) in budgets.into_iter().enumerate() {
        let deployment = &config.deployments[target.index(config.deployments.len())];
        config.pdbs.push(PodDisruptionBudget {
            name: format!("pdb-{index}"),
            namespace: String::new(),
            selector: LabelSelector {
                match_labels: deployment.spec.labels.clone(),
                match_expressions: vec![],
            },
            min_available,
            max_unavailable,
        });
    }

    // Policies: one of each, over the same small catalog.
    let node_groups = groups
        .into_iter()
        .enumerate()
        .map(
            |(index, (instance_type, min_size, max_size, zone, capacity_type))| NodeGroupConfig {
                name: format!("group-{index}"),
                instance_type,
                min_size,
                max_size,
                zones: zone.map(|z| config.zones[z].clone()).into_iter().collect(),
                labels: BTreeMap::new(),
                taints: vec![],
                capacity_type,
                mixed_instances: None,
            },
        )
        .collect();
    let mut pools = pools;
    for (index, pool) in pools.iter_mut().enumerate() {
        pool.name = format!("pool-{index}");
    }
    let policies = vec![
        PolicySpec::ClusterAutoscaler(ClusterAutoscalerConfig {
            node_groups,
            ..Default::default()
        }),
        PolicySpec::Karpenter(KarpenterConfig {
            node_pools: pools,
            min_values_policy: if best_effort {
                MinValuesPolicy::BestEffort
            } else {
                MinValuesPolicy::Strict
            },
            ..Default::default()
        }),
        PolicySpec::Static(StaticConfig {
            name: "static".into(),
            instance_type: static_type,
            count: static_count,
        }),
    ];
    World { config, policies }
}

/// Runs `policy` twice at the same time, in two threads, and returns both outputs.
fn run_twice_in_parallel(simulation: &Simulation, policy: &PolicySpec) -> (RunOutput, RunOutput) {
    thread::scope(|scope| {
        let first = scope.spawn(|| simulation.run(policy));
        let second = scope.spawn(|| simulation.run(policy));
        (
            first.join().expect("the first run finishes"),
            second.join().expect("the second run finishes"),
        )
    })
}

/// Checks the books of one run: cost by instance type and by capacity type add up to the total,
/// nodes and pods are all accounted for.
fn check_books(output: &RunOutput) -> Result<(), TestCaseError> {
    let report = &output.report;
    let policy = &report.policy;

    // Each per-type figure is rounded to the micro-dollar on its own, so the sum may differ from
    // the total by up to one micro-dollar per entry.
    let micro = |usd: f64| (usd * 1e6).round() as i64;
    let total = report.total_cost_micro_usd as i64;
    let by_type: i64 = report
        .cost_by_instance_type
        .values()
        .map(|v| micro(*v))
        .sum();
    let by_capacity: i64 = report
        .cost_by_capacity_type
        .values()
        .map(|v| micro(*v))
        .sum();
    prop_assert!(
        (total - by_type).abs() <= report.cost_by_instance_type.len() as i64,
        "{policy}: total {total} µ$ but the instance types add up to {by_type} µ$"
    );
    prop_assert!(
        (total - by_capacity).abs() <= report.cost_by_capacity_type.len() as i64,
        "{policy}: total {total} µ$ but the capacity types add up to {by_capacity} µ$"
    );
    prop_assert_eq!(micro(report.total_cost_usd), total);

    prop_assert!(
        report.nodes_launched >= report.nodes_terminated,
        "{policy}: {} nodes terminated but only {} launched",
        report.nodes_terminated,
        report.nodes_launched
    );
    prop_assert!(
        report.peak_nodes >= report.min_nodes,
        "{policy}: peak {} below min {}",
        report.peak_nodes,
        report.min_nodes
    );
    prop_assert!(
        report.pods_created >= report.pods_succeeded + report.pods_pending_at_end,
        "{policy}: {} pods created, but {} succeeded and {} still pending",
        report.pods_created,
        report.pods_succeeded,
        report.pods_pending_at_end
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        // Shrinking re-runs whole simulations; a short bound keeps a failure's report quick.
        max_shrink_iters: 64,
        ..ProptestConfig::default()
    })]

    #[test]
    fn runs_keep_books_and_repeat(world in world()) {
        let simulation = Simulation::new(world.config).expect("the generated world is valid");

        for policy in &world.policies {
            let (first, second) = run_twice_in_parallel(&simulation, policy);

            prop_assert!(
                first == second,
                "{}: two runs with the same seed differ",
                policy.name()
            );
            check_books(&first)?;
        }
    }
}

#[test]
fn seeds_change_outputs() {
    // With log-normal launch latency and job arrivals, a handful of seeds cannot all agree.
    let mut config = SimConfig::new("seeds", 0, SimDuration::from_hours(3), small_catalog());
    config.loads.push(Load {
        name: "load".into(),
        trace: Trace::new(SimDuration::from_mins(30), vec![10.0, 60.0, 30.0]).expect("trace"),
    });
    config.deployments.push(Deployment {
        controller: Default::default(),
        name: "web".into(),
        spec: pod_spec("web", 1_000, 1_024),
        replicas: Replicas::Fixed(4),
        startup_latency: LatencyModel::default(),
    });
    config.jobs.push(JobStream {
        name: "batch".into(),
        spec: pod_spec("batch", 500, 512),
        load: 0,
        arrivals_per_hour_per_unit: 0.2,
        duration: LatencyModel::default(),
        startup_latency: LatencyModel::default(),
    });
    let policy = PolicySpec::Karpenter(KarpenterConfig::default());

    let outputs: Vec<RunOutput> = (1..=4)
        .map(|seed| {
            let mut config = config.clone();
            config.seed = seed;
            Simulation::new(config).expect("valid").run(&policy)
        })
        .collect();

    assert!(
        outputs.windows(2).any(|pair| pair[0] != pair[1]),
        "four seeds gave the same output"
    );
}

/// One step of a random sequence of queue operations. Indices pick among the events scheduled
/// so far, in scheduling order.
#[derive(Clone, Debug)]
enum QueueOp {
    Schedule(u64),
    Cancel(prop::sample::Index),
    Reschedule(prop::sample::Index, u64),
    Pop,
    PeekTime,
}

fn queue_op() -> impl Strategy<Value = QueueOp> {
    // Few distinct times, so that ties are common.
    prop_oneof![
        4 => (0u64..20).prop_map(QueueOp::Schedule),
        1 => any::<prop::sample::Index>().prop_map(QueueOp::Cancel),
        1 => (any::<prop::sample::Index>(), 0u64..20).prop_map(|(i, t)| QueueOp::Reschedule(i, t)),
        2 => Just(QueueOp::Pop),
        1 => Just(QueueOp::PeekTime),
    ]
}

/// Reference event queue: a list of live events, each with its time and the sequence number of
/// its last scheduling. The earliest (time, sequence) fires first.
#[derive(Default)]
struct ModelQueue {
    /// Live events as (time, sequence, payload).
    live: Vec<(u64, u64, u32)>,
    next_sequence: u64,
}

impl ModelQueue {
    fn schedule(&mut self, time: u64, payload: u32) {
        self.live.push((time, self.next_sequence, payload));
        self.next_sequence += 1;
    }

    fn cancel(&mut self, payload: u32) -> bool {
        let before = self.live.len();
        self.live.retain(|(_, _, p)| *p != payload);
        self.live.len() != before
    }

    fn reschedule(&mut self, payload: u32, time: u64) -> bool {
        let Some(entry) = self.live.iter_mut().find(|(_, _, p)| *p == payload) else {
            return false;
        };
        *entry = (time, self.next_sequence, payload);
        self.next_sequence += 1;
        true
    }

    /// Removes the earliest event and returns its (time, sequence, payload).
    fn pop(&mut self) -> Option<(u64, u64, u32)> {
        let position = (0..self.live.len()).min_by_key(|&i| (self.live[i].0, self.live[i].1))?;
        Some(self.live.remove(position))
    }

    fn peek_time(&self) -> Option<u64> {
        self.live.iter().map(|(time, _, _)| *time).min()
    }
}

/// Applies `ops` to `queue` and to the reference model, and checks that every result agrees,
/// that cancelled events never fire, and that a final drain comes out in (time, sequence) order.
fn check_queue_against_model<Q: EventQueue<u32> + Default>(
    ops: &[QueueOp],
) -> Result<(), TestCaseError> {
    let mut queue = Q::default();
    let mut model = ModelQueue::default();
    // Ids of scheduled events, in scheduling order. An event's payload is its position here.
    let mut scheduled: Vec<EventId> = Vec::new();
    let mut cancelled = std::collections::BTreeSet::new();

    for op in ops {
        match op {
            QueueOp::Schedule(time) => {
                let payload = scheduled.len() as u32;
                scheduled.push(queue.schedule(SimTime(*time), payload));
                model.schedule(*time, payload);
            }
            QueueOp::Cancel(index) if !scheduled.is_empty() => {
                let payload = index.index(scheduled.len());
                let removed = queue.cancel(scheduled[payload]);
                prop_assert_eq!(removed, model.cancel(payload as u32));
                if removed {
                    cancelled.insert(payload as u32);
                }
            }
            QueueOp::Reschedule(index, time) if !scheduled.is_empty() => {
                let payload = index.index(scheduled.len());
                let moved = queue.reschedule(scheduled[payload], SimTime(*time));
                prop_assert_eq!(moved, model.reschedule(payload as u32, *time));
            }
            QueueOp::Cancel(_) | QueueOp::Reschedule(..) => {}
            QueueOp::Pop => {
                let fired = queue.pop().map(|f| (f.time.0, f.event));
                let expected = model.pop().map(|(time, _, payload)| (time, payload));
                prop_assert_eq!(fired, expected);
                if let Some((_, payload)) = fired {
                    prop_assert!(
                        !cancelled.contains(&payload),
                        "cancelled event {payload} fired"
                    );
                }
            }
            QueueOp::PeekTime => {
                prop_assert_eq!(queue.peek_time().map(|t| t.0), model.peek_time());
            }
        }
        prop_assert_eq!(queue.len(), model.live.len());
    }

    // Drain: time order, FIFO among equal times, nothing cancelled.
    let mut previous: Option<(u64, u64)> = None;
    while let Some((time, sequence, payload)) = model.pop() {
        let fired = queue.pop().map(|f| (f.time.0, f.event));
        prop_assert_eq!(fired, Some((time, payload)));
        prop_assert!(
            !cancelled.contains(&payload),
            "cancelled event {payload} fired"
        );
        if let Some(earlier) = previous {
            prop_assert!(
                earlier < (time, sequence),
                "{earlier:?} fired before {:?}",
                (time, sequence)
            );
        }
        previous = Some((time, sequence));
    }
    prop_assert!(queue.pop().is_none());
    prop_assert!(queue.is_empty());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn keyed_queue_matches_model(ops in prop::collection::vec(queue_op(), 0..200)) {
        check_queue_against_model::<KeyedQueue<u32>>(&ops)?;
    }

    #[test]
    fn heap_queue_matches_model(ops in prop::collection::vec(queue_op(), 0..200)) {
        check_queue_against_model::<HeapQueue<u32>>(&ops)?;
    }
}
