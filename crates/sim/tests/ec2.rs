//! The simulated EC2 under a scripted policy: launch phases and billing from `running`, spot
//! billing across a price change and until an interruption's termination, the registration
//! timeout, rebalance recommendations and the fallback to on-demand. Every expected cost is
//! worked out by hand in the test.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use autoscale_sim_cloud::{CapacityWindow, Catalog, LatencyModel, LaunchPhases, Price, SpotMarket};
use autoscale_sim_engine::{SimDuration, SimTime};
use autoscale_sim_kube::{CapacityType, NodeId};
use autoscale_sim_policy::requirements::instance_type_labels;
use autoscale_sim_policy::{Actions, Autoscaler, ClusterView, LaunchRequest, PolicyEvent};
use autoscale_sim_sim::{RunOutput, SimConfig, Simulation};

/// Timer token of the scripted policy's second launch.
const LATE_LAUNCH: u64 = 1;

/// A policy that launches one node at the start, launches an on-demand node in its place when a
/// spot launch fails, optionally launches one more on-demand node at a set time, and records
/// every event it receives.
struct Scripted {
    capacity_type: CapacityType,
    late_on_demand_launch: Option<SimTime>,
    events: Arc<Mutex<Vec<(SimTime, PolicyEvent)>>>,
}

impl Scripted {
    fn launch(view: &ClusterView<'_>, actions: &mut Actions, capacity_type: CapacityType) {
        launch_m5_large(view, actions, capacity_type, "us-east-1a");
    }
}

/// Requests one m5.large of `capacity_type` in `zone`.
fn launch_m5_large(
    view: &ClusterView<'_>,
    actions: &mut Actions,
    capacity_type: CapacityType,
    zone: &str,
) {
    let instance_type = view.catalog.index_of("m5.large").unwrap();
    actions.launch(LaunchRequest {
        owner: "scripted".into(),
        instance_type,
        capacity_type,
        zone: zone.into(),
        labels: instance_type_labels(view.catalog.get(instance_type)),
        taints: vec![],
        annotations: BTreeMap::new(),
        reason: "scripted".into(),
        alternatives: vec![],
    });
}

impl Autoscaler for Scripted {
    fn name(&self) -> &str {
        "scripted"
    }

    fn on_event(&mut self, event: &PolicyEvent, view: &ClusterView<'_>, actions: &mut Actions) {
        self.events.lock().unwrap().push((view.now, event.clone()));
        match event {
            PolicyEvent::Start => {
                Self::launch(view, actions, self.capacity_type);
                if let Some(at) = self.late_on_demand_launch {
                    actions.set_timer(at, LATE_LAUNCH);
                }
            }
            PolicyEvent::Timer(LATE_LAUNCH) => Self::launch(view, actions, CapacityType::OnDemand),
            PolicyEvent::LaunchFailed {
                capacity_type: CapacityType::Spot,
                ..
            } => Self::launch(view, actions, CapacityType::OnDemand),
            _ => {}
        }
    }
}

type Events = Arc<Mutex<Vec<(SimTime, PolicyEvent)>>>;

/// Runs the scripted policy and returns the run and the events it received.
fn run(
    config: SimConfig,
    capacity_type: CapacityType,
    late: Option<SimTime>,
) -> (RunOutput, Events) {
    let events: Events = Arc::default();
    let policy = Scripted {
        capacity_type,
        late_on_demand_launch: late,
        events: events.clone(),
    };
    let output = Simulation::new(config).unwrap().run_with(Box::new(policy));
    (output, events)
}

/// Phases of fixed length: running 20 s after the request, registered `registered` later, Ready
/// 10 s after that.
fn fixed_phases(registered: SimDuration) -> LaunchPhases {
    LaunchPhases {
        running: LatencyModel::Fixed(SimDuration::from_secs(20)),
        registered: LatencyModel::Fixed(registered),
        ready: LatencyModel::Fixed(SimDuration::from_secs(10)),
    }
}

fn config(duration: SimDuration) -> SimConfig {
    let mut config = SimConfig::new("ec2", 5, duration, Arc::new(Catalog::builtin()));
    config.launch_latency = fixed_phases(SimDuration::from_secs(30)).into();
    config
}

/// Recorded spot prices of m5.large in us-east-1a.
fn m5_large_prices(config: &mut SimConfig, prices: Vec<(SimTime, Price)>) {
    config
        .spot
        .history
        .insert(("m5.large".into(), "us-east-1a".into()), prices);
}

fn decision_times(output: &RunOutput, action: &str) -> Vec<u64> {
    output
        .decisions
        .iter()
        .filter(|d| d.action == action)
        .map(|d| d.time_ms)
        .collect()
}

#[test]
fn on_demand_billed_from_running() {
    let (output, _) = run(
        config(SimDuration::from_hours(1)),
        CapacityType::OnDemand,
        None,
    );

    // m5.large at 96,000 micro-dollars per hour, running from 20 s to 3,600 s:
    // 96,000 × 3,580 / 3,600 = 95,466.67, rounded to 95,467 micro-dollars.
    assert_eq!(output.report.total_cost_micro_usd, 95_467);
    // Ready at 20 + 30 + 10 = 60 s, with the milestones in the decision log.
    assert_eq!(decision_times(&output, "ready"), [60_000]);
    let ready = output
        .decisions
        .iter()
        .find(|d| d.action == "ready")
        .unwrap();
    assert_eq!(
        ready.detail,
        "running after 20.000 s, registered after 50.000 s, Ready after 60.000 s"
    );
    // Node hours count from the request.
    assert_eq!(output.report.node_hours, 1.0);
}

#[test]
fn spot_billed_across_price_change() {
    let mut config = config(SimDuration::from_hours(1));
    m5_large_prices(
        &mut config,
        vec![
            (SimTime::ZERO, Price(30_000)),
            (SimTime::ZERO + SimDuration::from_mins(30), Price(36_000)),
        ],
    );

    let (output, _) = run(config, CapacityType::Spot, None);

    // Running from 20 s: 1,780 s at 0.030 $/h and 1,800 s at 0.036 $/h.
    // 30,000 × 1,780 / 3,600 + 36,000 × 1,800 / 3,600 = 14,833.33 + 18,000 = 32,833.33.
    assert_eq!(output.report.spot_interruptions, 0);
    assert_eq!(output.report.total_cost_micro_usd, 32_833);
    assert_eq!(output.report.cost_by_capacity_type["spot"], 0.032833);
    assert!(
        !output
            .report
            .cost_by_capacity_type
            .contains_key("on-demand")
    );
}

#[test]
fn interrupted_spot_billed_until_termination() {
    let mut config = config(SimDuration::from_hours(1));
    m5_large_prices(&mut config, vec![(SimTime::ZERO, Price(30_000))]);
    // About one interruption an hour per instance.
    config
        .spot
        .interruptions_per_month_by_family
        .insert("m5".into(), 720.0);
    let catalog = config.catalog.clone();
    let m5_large = catalog.index_of("m5.large").unwrap();
    let notice = SpotMarket::new(config.spot.clone(), config.seed)
        .next_interruption(&catalog, m5_large, "us-east-1a", SimTime::ZERO)
        .unwrap();
    let termination = notice + SimDuration::from_mins(2);
    assert!(
        notice > SimTime(20_000),
        "the notice must come after running"
    );
    config.duration = termination.since(SimTime::ZERO) + SimDuration::from_hours(1);

    let (output, events) = run(config, CapacityType::Spot, None);

    // Billed from running at 20 s to termination two minutes after the notice, rounded up to
    // whole seconds, at 30,000 micro-dollars per hour.
    let billed_secs = (termination.as_millis() - 20_000).div_ceil(1000);
    let expected = (30_000 * u128::from(billed_secs) + 1800) / 3600;
    assert_eq!(u128::from(output.report.total_cost_micro_usd), expected);
    assert_eq!(output.report.spot_interruptions, 1);
    assert_eq!(output.report.nodes_terminated, 1);
    assert_eq!(
        decision_times(&output, "interruption-notice"),
        [notice.as_millis()]
    );
    assert_eq!(
        decision_times(&output, "terminate"),
        [termination.as_millis()]
    );
    let terminate = output
        .decisions
        .iter()
        .find(|d| d.action == "terminate")
        .unwrap();
    assert!(
        terminate
            .detail
            .starts_with(&format!("billed {billed_secs} s")),
        "{}",
        terminate.detail
    );
    let events = events.lock().unwrap();
    assert!(events.contains(&(notice, PolicyEvent::SpotInterruptionNotice(NodeId(0)))));
    assert!(events.contains(&(termination, PolicyEvent::NodeRemoved(NodeId(0)))));
}

#[test]
fn registration_timeout_fails_launch() {
    let mut config = config(SimDuration::from_hours(1));
    // Registered 20 minutes after running: past the 15-minute timeout.
    config.launch_latency = fixed_phases(SimDuration::from_mins(20)).into();

    let (output, events) = run(config, CapacityType::OnDemand, None);

    // The instance ran from 20 s to the timeout at 900 s: 96,000 × 880 / 3,600 = 23,466.67.
    assert_eq!(output.report.total_cost_micro_usd, 23_467);
    assert_eq!(output.report.launch_failures["RegistrationTimeout"], 1);
    assert_eq!(output.report.nodes_launched, 1);
    assert_eq!(output.report.nodes_terminated, 1);
    assert_eq!(decision_times(&output, "launch-failed"), [900_000]);
    assert!(decision_times(&output, "ready").is_empty());
    let failed = output
        .decisions
        .iter()
        .find(|d| d.action == "launch-failed")
        .unwrap();
    assert_eq!(failed.reason, "RegistrationTimeout");
    assert_eq!(
        failed.detail,
        "the node did not register within 15m; the instance was terminated, billed 880 s, $0.023467"
    );
    let events = events.lock().unwrap();
    let expected = PolicyEvent::LaunchFailed {
        node: NodeId(0),
        offerings: vec![],
        capacity_type: CapacityType::OnDemand,
        reason: "RegistrationTimeout".into(),
    };
    assert!(events.contains(&(SimTime(900_000), expected)), "{events:?}");
}

#[test]
fn registration_just_in_time_succeeds() {
    let mut config = config(SimDuration::from_hours(1));
    // Registered at 20 s + 14 min 39.999 s = 14 min 59.999 s, just inside 15 minutes.
    config.launch_latency = fixed_phases(SimDuration(879_999)).into();

    let (output, _) = run(config, CapacityType::OnDemand, None);

    assert!(output.report.launch_failures.is_empty());
    assert_eq!(decision_times(&output, "ready"), [909_999]);
}

#[test]
fn registration_timeout_is_configurable() {
    let mut config = config(SimDuration::from_hours(1));
    config.registration_timeout = SimDuration::from_mins(5);
    config.launch_latency = fixed_phases(SimDuration::from_mins(6)).into();

    let (output, _) = run(config, CapacityType::OnDemand, None);

    assert_eq!(decision_times(&output, "launch-failed"), [300_000]);
    // 96,000 × 280 / 3,600 = 7,466.67.
    assert_eq!(output.report.total_cost_micro_usd, 7_467);
}

#[test]
fn rebalance_recommendation_precedes_notice() {
    let mut config = config(SimDuration::from_days(2));
    config
        .spot
        .interruptions_per_month_by_family
        .insert("m5".into(), 720.0);
    config.spot.rebalance_lead = Some(SimDuration::from_mins(10));
    let catalog = config.catalog.clone();
    let m5_large = catalog.index_of("m5.large").unwrap();
    let notice = SpotMarket::new(config.spot.clone(), config.seed)
        .next_interruption(&catalog, m5_large, "us-east-1a", SimTime::ZERO)
        .unwrap();
    assert!(notice < SimTime::ZERO + SimDuration::from_days(2));
    let recommended = (notice - SimDuration::from_mins(10)).max(SimTime(20_000));

    let (output, events) = run(config, CapacityType::Spot, None);

    assert_eq!(output.report.rebalance_recommendations, 1);
    assert_eq!(
        decision_times(&output, "rebalance-recommendation"),
        [recommended.as_millis()]
    );
    let events = events.lock().unwrap();
    let position = |wanted: &PolicyEvent| events.iter().position(|(_, e)| e == wanted);
    let rebalance = position(&PolicyEvent::RebalanceRecommendation(NodeId(0))).unwrap();
    let interruption = position(&PolicyEvent::SpotInterruptionNotice(NodeId(0))).unwrap();
    assert!(rebalance < interruption);
    assert_eq!(events[rebalance].0, recommended);
}

#[test]
fn rebalance_recommendations_off_by_default() {
    let mut config = config(SimDuration::from_days(2));
    config
        .spot
        .interruptions_per_month_by_family
        .insert("m5".into(), 720.0);

    let (output, _) = run(config, CapacityType::Spot, None);

    assert_eq!(output.report.spot_interruptions, 1);
    assert_eq!(output.report.rebalance_recommendations, 0);
}

#[test]
fn fallback_counts_until_shortage_ends() {
    let mut config = config(SimDuration::from_hours(2));
    config.spot.capacity_windows.push(CapacityWindow {
        instance_type: None,
        zone: None,
        spot: true,
        from: SimTime::ZERO,
        to: SimTime::ZERO + SimDuration::from_hours(1),
    });
    let late = SimTime::ZERO + SimDuration::from_mins(90);

    let (output, _) = run(config, CapacityType::Spot, Some(late));

    // The spot launch fails at 2 s. Its on-demand replacement, requested then while spot is
    // still short, runs from 22 s to the end at 7,200 s. The on-demand node requested at 90 min,
    // after the shortage, is not a fallback.
    assert_eq!(
        output.report.launch_failures["InsufficientInstanceCapacity"],
        1
    );
    assert_eq!(decision_times(&output, "launch-failed"), [2_000]);
    assert_eq!(output.report.fallback_on_demand_seconds, 7_178.0);
    // 7,178 s / 3,600 = 1.993888..., rounded to six decimals.
    assert_eq!(output.report.fallback_on_demand_node_hours, 1.993889);
    assert_eq!(output.report.nodes_launched, 2);
}

/// A policy that launches one m5.large into `zone` at the start and records every event.
struct OneLaunch {
    zone: &'static str,
    events: Events,
}

impl Autoscaler for OneLaunch {
    fn name(&self) -> &str {
        "one-launch"
    }

    fn on_event(&mut self, event: &PolicyEvent, view: &ClusterView<'_>, actions: &mut Actions) {
        self.events.lock().unwrap().push((view.now, event.clone()));
        if *event == PolicyEvent::Start {
            launch_m5_large(view, actions, CapacityType::OnDemand, self.zone);
        }
    }
}

#[test]
fn unknown_zone_launch_rejected() {
    let events: Events = Arc::default();
    let policy = OneLaunch {
        zone: "nowhere-1z",
        events: events.clone(),
    };

    let output = Simulation::new(config(SimDuration::from_hours(1)))
        .unwrap()
        .run_with(Box::new(policy));

    // EC2 rejects the request at once: nothing runs and nothing is billed.
    assert_eq!(output.report.total_cost_micro_usd, 0);
    assert_eq!(output.report.nodes_launched, 0);
    assert_eq!(decision_times(&output, "launch-failed"), [0]);
    let failed = output
        .decisions
        .iter()
        .find(|d| d.action == "launch-failed")
        .unwrap();
    assert_eq!(failed.reason, "InvalidParameterValue");
    assert!(
        failed.detail.starts_with(
            "availability zone nowhere-1z is not one of the scenario's zones (us-east-1a"
        ),
        "{}",
        failed.detail
    );
    let failures: Vec<PolicyEvent> = events
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, event)| matches!(event, PolicyEvent::LaunchFailed { .. }))
        .map(|(_, event)| event.clone())
        .collect();
    assert_eq!(
        failures,
        [PolicyEvent::LaunchFailed {
            node: NodeId(0),
            offerings: vec![],
            capacity_type: CapacityType::OnDemand,
            reason: "InvalidParameterValue".into(),
        }]
    );
}
