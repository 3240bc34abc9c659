//! The scenario fields of the simulated EC2 added with launch phases: `cloud.launchPhases`,
//! empirical latencies from a CSV file, `cloud.randomShortages` and
//! `cloud.spot.rebalanceRecommendations`, valid and invalid.

use std::path::Path;

use autoscale_sim_cloud::{LatencyModel, LaunchLatency, LaunchPhases};
use autoscale_sim_engine::SimDuration;
use autoscale_sim_scenario::{Overrides, Scenario, ScenarioError, load, load_str};

mod support;
use support::TempFolder;

/// Returns a valid scenario whose `cloud:` section is `cloud`, indented by two spaces per line.
fn with_cloud(cloud: &str) -> String {
    format!(
        "name: ec2\nseed: 1\nduration: 1h\ncloud:\n{cloud}\nworkloads:\n  - kind: Deployment\n    metadata: {{name: web}}\n    replicas: 1\n    template:\n      spec:\n        containers: [{{name: web, resources: {{requests: {{cpu: 500m, memory: 1Gi}}}}}}]\npolicies:\n  - name: fixed\n    static: {{instanceType: m5.large, count: 1}}\n"
    )
}

fn ok(cloud: &str) -> Scenario {
    load_str(
        &with_cloud(cloud),
        Path::new("ec2.yaml"),
        &Overrides::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn error(cloud: &str) -> ScenarioError {
    load_str(
        &with_cloud(cloud),
        Path::new("ec2.yaml"),
        &Overrides::default(),
    )
    .unwrap_err()
}

#[test]
fn launch_latency_is_the_shorthand() {
    let scenario = ok("  launchLatency: {distribution: fixed, mean: 60s}");

    assert_eq!(
        scenario.config.launch_latency,
        LaunchLatency::RequestToReady(LatencyModel::Fixed(SimDuration::from_secs(60)))
    );
}

#[test]
fn wide_normal_latency_warns() {
    let wide = ok("  launchLatency: {distribution: normal, mean: 10s, stddev: 60s}");
    let narrow = ok("  launchLatency: {distribution: normal, mean: 45s, stddev: 10s, min: 20s}");

    assert_eq!(
        wide.warnings,
        [
            "ec2.yaml:5:60: field cloud.launchLatency.stddev: with mean 10s and min 0s, a standard deviation of 1m puts more than 2 % of the draws below min, and each of those takes exactly 0s; write a stddev below 5s, a higher min, or distribution: logNormal for values with a long tail"
        ]
    );
    assert!(narrow.warnings.is_empty(), "{:?}", narrow.warnings);
}

#[test]
fn launch_phases_default_the_missing_ones() {
    let scenario = ok(
        "  launchPhases:\n    registered: {distribution: normal, mean: 50s, stddev: 5s, min: 30s}",
    );

    let defaults = LaunchPhases::default();
    assert_eq!(
        scenario.config.launch_latency,
        LaunchLatency::Phases(LaunchPhases {
            running: defaults.running,
            registered: LatencyModel::Normal {
                mean: SimDuration::from_secs(50),
                stddev: SimDuration::from_secs(5),
                min: SimDuration::from_secs(30),
            },
            ready: defaults.ready,
        })
    );
}

#[test]
fn launch_latency_and_phases_conflict() {
    let error = error(
        "  launchLatency: {distribution: fixed, mean: 60s}\n  launchPhases:\n    ready: {distribution: fixed, mean: 5s}",
    );

    assert_eq!(error.field.as_deref(), Some("cloud.launchLatency"));
    assert_eq!(error.line, Some(5));
    assert!(error.message.contains("both"), "{}", error.message);
}

#[test]
fn empirical_latency_reads_its_file() {
    let folder = TempFolder::new("empirical");
    folder.write("boot.csv", "seconds\n31.5\n40\n52.25\n");
    let scenario_path = folder.write(
        "scenario.yaml",
        &with_cloud("  launchPhases:\n    registered: {distribution: empirical, file: boot.csv}"),
    );

    let scenario = load(&scenario_path, &Overrides::default()).unwrap();

    let LaunchLatency::Phases(phases) = &scenario.config.launch_latency else {
        panic!("phases expected");
    };
    assert_eq!(
        phases.registered,
        LatencyModel::Empirical(vec![
            SimDuration(31_500),
            SimDuration(40_000),
            SimDuration(52_250)
        ])
    );
}

#[test]
fn empirical_latency_errors() {
    let folder = TempFolder::new("empirical-errors");
    folder.write("bad.csv", "seconds\n31.5\nslow\n");
    let load_cloud = |cloud: &str| {
        let path = folder.write("scenario.yaml", &with_cloud(cloud));
        load(&path, &Overrides::default()).unwrap_err()
    };

    let missing = load_cloud("  launchLatency: {distribution: empirical, file: none.csv}");
    assert_eq!(missing.field.as_deref(), Some("cloud.launchLatency.file"));
    assert!(missing.message.contains("not found"), "{}", missing.message);

    let bad_value = load_cloud("  launchLatency: {distribution: empirical, file: bad.csv}");
    assert!(bad_value.file.ends_with("bad.csv"));
    assert_eq!(bad_value.line, Some(3));
    assert_eq!(bad_value.value.as_deref(), Some("slow"));

    let no_file = load_cloud("  launchLatency: {distribution: empirical}");
    assert_eq!(no_file.field.as_deref(), Some("cloud.launchLatency.file"));

    let with_mean =
        load_cloud("  launchLatency: {distribution: empirical, file: bad.csv, mean: 40s}");
    assert_eq!(with_mean.field.as_deref(), Some("cloud.launchLatency.mean"));

    let file_without_empirical =
        load_cloud("  launchLatency: {distribution: logNormal, mean: 40s, file: bad.csv}");
    assert_eq!(
        file_without_empirical.field.as_deref(),
        Some("cloud.launchLatency.file")
    );

    let no_mean = load_cloud("  launchPhases:\n    ready: {distribution: logNormal}");
    assert_eq!(
        no_mean.field.as_deref(),
        Some("cloud.launchPhases.ready.mean")
    );

    let unknown = load_cloud("  launchPhases:\n    ready: {distribution: weibull, mean: 5s}");
    assert_eq!(
        unknown.field.as_deref(),
        Some("cloud.launchPhases.ready.distribution")
    );
    assert!(unknown.fix.as_deref().unwrap().contains("empirical"));
}

#[test]
fn random_shortages_load() {
    let scenario = ok(
        "  randomShortages:\n    - {capacityType: spot, instanceType: m5.large, zone: us-east-1b, meanTimeBetween: 2d, duration: {distribution: logNormal, mean: 1h, stddev: 30m}}",
    );

    let process = &scenario.config.spot.shortage_processes[0];
    assert!(process.spot);
    assert_eq!(process.instance_type.as_deref(), Some("m5.large"));
    assert_eq!(process.zone.as_deref(), Some("us-east-1b"));
    assert_eq!(process.mean_interval, SimDuration::from_days(2));
    assert_eq!(process.duration.mean(), SimDuration::from_hours(1));
}

#[test]
fn random_shortage_errors() {
    let shortage = |fields: &str| {
        error(&format!(
            "  randomShortages:\n    - {{{fields}, duration: {{distribution: fixed, mean: 1h}}}}"
        ))
    };

    let too_frequent = shortage("capacityType: spot, meanTimeBetween: 10m");
    assert_eq!(
        too_frequent.field.as_deref(),
        Some("cloud.randomShortages[0].meanTimeBetween")
    );
    assert_eq!(too_frequent.value.as_deref(), Some("10m"));

    let capacity = shortage("capacityType: reserved, meanTimeBetween: 1d");
    assert_eq!(
        capacity.field.as_deref(),
        Some("cloud.randomShortages[0].capacityType")
    );

    let zone = shortage("capacityType: spot, zone: eu-west-1a, meanTimeBetween: 1d");
    assert_eq!(zone.field.as_deref(), Some("cloud.randomShortages[0].zone"));

    let instance_type = shortage("capacityType: spot, instanceType: m5.huge, meanTimeBetween: 1d");
    assert_eq!(
        instance_type.field.as_deref(),
        Some("cloud.randomShortages[0].instanceType")
    );

    let missing = error("  randomShortages:\n    - {capacityType: spot, meanTimeBetween: 1d}");
    assert!(missing.message.contains("duration"), "{}", missing.message);
}

#[test]
fn rebalance_recommendations_load() {
    let scenario = ok("  spot:\n    rebalanceRecommendations: {leadTime: 10m}");
    assert_eq!(
        scenario.config.spot.rebalance_lead,
        Some(SimDuration::from_mins(10))
    );

    let default = ok("  spot: {}");
    assert_eq!(default.config.spot.rebalance_lead, None);

    let bad = error("  spot:\n    rebalanceRecommendations: {leadTime: soon}");
    assert_eq!(
        bad.field.as_deref(),
        Some("cloud.spot.rebalanceRecommendations.leadTime")
    );
}
