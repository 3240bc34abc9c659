//! Runs the shipped spot scenario and checks the spot market's common random numbers: every
//! interruption notice either policy received falls on its pool's fixed interruption schedule.

use std::path::PathBuf;

use autoscale_sim_cloud::SpotMarket;
use autoscale_sim_engine::SimTime;
use autoscale_sim_scenario::{Overrides, load};
use autoscale_sim_sim::Simulation;

#[test]
fn interruptions_follow_pool_schedules() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/spot-diurnal.yaml");
    let scenario = load(&path, &Overrides::default()).unwrap();
    let config = scenario.config.clone();
    let simulation = Simulation::new(config.clone()).unwrap();
    let mut reference = SpotMarket::new(config.spot.clone(), config.seed);

    let mut notices = 0;
    for policy in &scenario.policies {
        let output = simulation.run(policy);
        let mut seen = 0;
        for decision in output
            .decisions
            .iter()
            .filter(|d| d.action == "interruption-notice")
        {
            let instance_type = config.catalog.index_of(&decision.instance_type).unwrap();
            let before = SimTime(decision.time_ms - 1);
            let scheduled =
                reference.next_interruption(&config.catalog, instance_type, &decision.zone, before);
            assert_eq!(
                scheduled,
                Some(SimTime(decision.time_ms)),
                "{}: notice off its pool's schedule",
                policy.name()
            );
            seen += 1;
        }
        assert_eq!(
            seen,
            output.report.spot_interruptions as usize,
            "{}",
            policy.name()
        );
        notices += seen;
    }
    assert!(
        notices > 0,
        "no interruption happened, so the check proves nothing"
    );
}

#[test]
fn spot_scenario_falls_back_and_saves() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/spot-diurnal.yaml");
    let scenario = load(&path, &Overrides::default()).unwrap();
    let simulation = Simulation::new(scenario.config.clone()).unwrap();

    let karpenter = scenario
        .policies
        .iter()
        .find(|p| p.name() == "karpenter")
        .unwrap();
    let report = simulation.run(karpenter).report;

    // The day-2 shortage makes spot launches fail and some capacity fall back to on-demand.
    assert!(
        report
            .launch_failures
            .get("InsufficientInstanceCapacity")
            .copied()
            .unwrap_or(0)
            > 0
    );
    assert!(
        report
            .cost_by_capacity_type
            .get("on-demand")
            .copied()
            .unwrap_or(0.0)
            > 0.0
    );
    assert!(report.cost_by_capacity_type["spot"] > report.cost_by_capacity_type["on-demand"]);
    assert_eq!(report.pods_pending_at_end, 0);
}
