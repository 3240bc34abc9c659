//! An HPA's `behavior` block in a scenario file: fields left out keep the autoscaling/v2
//! defaults, the rules set the pace of a run, and bad values are rejected with the field path.

use std::path::Path;

use autoscale_sim_engine::SimDuration;
use autoscale_sim_scenario::{Overrides, Scenario, load, load_str};
use autoscale_sim_sim::{Replicas, Simulation};
use autoscale_sim_workload::{
    HpaSpec, ScalingPolicy, ScalingPolicyType, ScalingRules, SelectPolicy,
};

mod support;
use support::TempFolder;

/// Writes a 40-minute scenario and its trace into a new folder named after `case` and returns
/// the folder. The load steps from 50 to 1,000 at 10 min, and `hpa` adds fields to the HPA.
fn write_scenario(case: &str, hpa: &str) -> TempFolder {
    let folder = TempFolder::new(&format!("hpa-behavior-{case}"));
    let mut trace = String::from("timestamp_seconds,value\n");
    for minute in 0..=40 {
        let value = if minute < 10 { 50 } else { 1000 };
        trace.push_str(&format!("{},{value}\n", minute * 60));
    }
    folder.write("web.csv", &trace);
    folder.write("scenario.yaml", &scenario_text(hpa));
    folder
}

/// Returns the scenario of [`write_scenario`], which reads its load from `web.csv`.
fn scenario_text(hpa: &str) -> String {
    format!(
        "name: hpa-behavior
seed: 1
duration: 40m
loads:
  web:
    trace: {{file: web.csv, end: hold}}
workloads:
  - kind: Deployment
    metadata: {{name: api}}
    hpa: {{load: web, targetPerReplica: 50, minReplicas: 1, maxReplicas: 40{hpa}}}
    template:
      spec:
        containers: [{{name: api, resources: {{requests: {{cpu: 100m}}}}}}]
policies:
  - name: static
    static: {{instanceType: m5.4xlarge, count: 1}}
"
    )
}

fn load_case(case: &str, hpa: &str) -> Scenario {
    let folder = write_scenario(case, hpa);
    load(&folder.path().join("scenario.yaml"), &Overrides::default())
        .unwrap_or_else(|e| panic!("{e}"))
}

fn error(case: &str, hpa: &str) -> String {
    let folder = write_scenario(case, hpa);
    load(&folder.path().join("scenario.yaml"), &Overrides::default())
        .expect_err("the scenario is rejected")
        .to_string()
}

/// Runs the scenario and returns the `pods` column: the replica count at each sample.
fn pods_per_sample(scenario: &Scenario) -> Vec<u64> {
    let output = Simulation::new(scenario.config.clone())
        .unwrap()
        .run(&scenario.policies[0]);
    output.samples.iter().map(|s| s.pods).collect()
}

/// Returns the HPA of the scenario's first Deployment.
fn hpa_spec(scenario: &Scenario) -> &HpaSpec {
    match &scenario.config.deployments[0].replicas {
        Replicas::Hpa { spec, .. } => spec,
        Replicas::Fixed(_) => panic!("the Deployment has an HPA"),
    }
}

fn rules(scenario: &Scenario) -> (ScalingRules, ScalingRules) {
    let spec = hpa_spec(scenario);
    (spec.scale_up.clone(), spec.scale_down.clone())
}

fn policy(policy_type: ScalingPolicyType, value: u32, secs: u64) -> ScalingPolicy {
    ScalingPolicy {
        policy_type,
        value,
        period: SimDuration::from_secs(secs),
    }
}

#[test]
fn behavior_fields_left_out_keep_defaults() {
    let scenario = load_case(
        "defaults",
        ", behavior: {scaleUp: {selectPolicy: Min, policies: [{type: Pods, value: 1, periodSeconds: 60}]}, scaleDown: {stabilizationWindowSeconds: 60}}",
    );

    let (up, down) = rules(&scenario);

    assert_eq!(
        up,
        ScalingRules {
            stabilization_window: SimDuration::ZERO,
            select_policy: SelectPolicy::Min,
            policies: vec![policy(ScalingPolicyType::Pods, 1, 60)],
        }
    );
    assert_eq!(
        down,
        ScalingRules {
            stabilization_window: SimDuration::from_secs(60),
            ..ScalingRules::default_scale_down()
        }
    );
}

#[test]
fn scale_up_policy_paces_the_run() {
    let paced = load_case(
        "paced",
        ", behavior: {scaleUp: {policies: [{type: Pods, value: 1, periodSeconds: 60}]}}",
    );
    let default = load_case("default", "");

    let paced = pods_per_sample(&paced);
    let default = pods_per_sample(&default);

    // One pod a minute from the step at 10 min. From 19 replicas the usage ratio, 1,000 / (19 *
    // 50), is within the 0.1 tolerance, so the count stays short of ceil(1,000 / 50) = 20. With
    // the defaults the count may double each 15 s sync (4 pods at least), so it reaches 20
    // within a minute.
    let largest_step = |pods: &[u64]| pods.windows(2).map(|w| w[1].saturating_sub(w[0])).max();
    assert_eq!(paced[10], 1);
    assert_eq!(largest_step(&paced), Some(1));
    assert_eq!(paced.iter().position(|&p| p == 19), Some(28));
    assert_eq!(paced.last(), Some(&19));
    assert_eq!(default[10], 1);
    assert_eq!(default[11], 20);
}

#[test]
fn select_policy_alone_keeps_default_policies() {
    let scenario = load_case(
        "disabled",
        ", behavior: {scaleDown: {selectPolicy: Disabled}}",
    );

    let (_, down) = rules(&scenario);

    assert_eq!(down.select_policy, SelectPolicy::Disabled);
    assert_eq!(down.policies, ScalingRules::default_scale_down().policies);
}

#[test]
fn tolerance_per_direction_loads() {
    let scenario = load_case(
        "tolerance",
        ", tolerance: 0.2, behavior: {scaleUp: {tolerance: 0.05}, scaleDown: {tolerance: \"150m\"}}",
    );
    let plain = load_case("no-tolerance", "");

    assert_eq!(hpa_spec(&scenario).tolerance, 0.2);
    assert_eq!(hpa_spec(&scenario).scale_up_tolerance, Some(0.05));
    assert_eq!(hpa_spec(&scenario).scale_down_tolerance, Some(0.15));
    assert_eq!(hpa_spec(&plain).scale_up_tolerance, None);
    assert_eq!(hpa_spec(&plain).scale_down_tolerance, None);
}

#[test]
fn bad_behavior_values_are_rejected() {
    // (case, extra HPA fields, field path, the value and what is wrong)
    let cases = [
        (
            "select",
            ", behavior: {scaleUp: {selectPolicy: max}}",
            "field workloads[0].hpa.behavior.scaleUp.selectPolicy, value \"max\": not a select policy",
        ),
        (
            "window",
            ", behavior: {scaleDown: {stabilizationWindowSeconds: 3601}}",
            "field workloads[0].hpa.behavior.scaleDown.stabilizationWindowSeconds, value \"3601\": the window is outside 0 to 3600 seconds",
        ),
        (
            "empty",
            ", behavior: {scaleUp: {policies: []}}",
            "field workloads[0].hpa.behavior.scaleUp.policies, value \"[]\": the list is empty",
        ),
        (
            "type",
            ", behavior: {scaleUp: {policies: [{type: Replicas, value: 1, periodSeconds: 15}]}}",
            "field workloads[0].hpa.behavior.scaleUp.policies[0].type, value \"Replicas\": not a scaling policy type",
        ),
        (
            "value",
            ", behavior: {scaleUp: {policies: [{type: Pods, value: 0, periodSeconds: 15}]}}",
            "field workloads[0].hpa.behavior.scaleUp.policies[0].value, value \"0\": the value is outside 1 to 2147483647",
        ),
        (
            "period",
            ", behavior: {scaleDown: {policies: [{type: Percent, value: 10, periodSeconds: 1801}]}}",
            "field workloads[0].hpa.behavior.scaleDown.policies[0].periodSeconds, value \"1801\": the period is outside 1 to 1800 seconds",
        ),
        (
            "negative tolerance",
            ", behavior: {scaleUp: {tolerance: -0.1}}",
            "field workloads[0].hpa.behavior.scaleUp.tolerance, value \"-0.1\": the tolerance is negative",
        ),
        (
            "tolerance unit",
            ", behavior: {scaleDown: {tolerance: 5%}}",
            "field workloads[0].hpa.behavior.scaleDown.tolerance, value \"5%\": not a quantity",
        ),
        (
            "twice",
            ", scaleDownStabilization: 10m, behavior: {scaleDown: {stabilizationWindowSeconds: 60}}",
            "field workloads[0].hpa.behavior.scaleDown.stabilizationWindowSeconds, value \"60\": scaleDownStabilization (10m) already sets this window",
        ),
    ];
    for (case, hpa, expected) in cases {
        let message = error(case, hpa);

        assert!(message.contains(expected), "{case}: {message}");
        assert!(message.contains("scenario.yaml:10:"), "{case}: {message}");
    }
}

#[test]
fn behavior_integers_need_plain_numbers() {
    // (case, extra HPA fields, field path and value, message, fix)
    let quoted = "the number is quoted, so YAML reads it as a string, but Kubernetes declares this field an integer";
    let seconds = "expected a whole number of seconds";
    let seconds_fix = "fix: write the seconds as a whole number without a unit, such as 60";
    let cases = [
        (
            "quoted-window",
            ", behavior: {scaleDown: {stabilizationWindowSeconds: \"60\"}}",
            "field workloads[0].hpa.behavior.scaleDown.stabilizationWindowSeconds, value \"60\"",
            quoted,
            "fix: remove the quotes: 60",
        ),
        (
            "quoted-value",
            ", behavior: {scaleUp: {policies: [{type: Pods, value: '4', periodSeconds: 15}]}}",
            "field workloads[0].hpa.behavior.scaleUp.policies[0].value, value \"4\"",
            quoted,
            "fix: remove the quotes: 4",
        ),
        (
            "quoted-period",
            ", behavior: {scaleUp: {policies: [{type: Pods, value: 4, periodSeconds: \"15\"}]}}",
            "field workloads[0].hpa.behavior.scaleUp.policies[0].periodSeconds, value \"15\"",
            quoted,
            "fix: remove the quotes: 15",
        ),
        (
            "window-unit",
            ", behavior: {scaleDown: {stabilizationWindowSeconds: 60s}}",
            "field workloads[0].hpa.behavior.scaleDown.stabilizationWindowSeconds, value \"60s\"",
            seconds,
            seconds_fix,
        ),
        (
            "period-unit",
            ", behavior: {scaleDown: {policies: [{type: Percent, value: 10, periodSeconds: 1m}]}}",
            "field workloads[0].hpa.behavior.scaleDown.policies[0].periodSeconds, value \"1m\"",
            seconds,
            seconds_fix,
        ),
        (
            "window-fraction",
            ", behavior: {scaleUp: {stabilizationWindowSeconds: 1.5}}",
            "field workloads[0].hpa.behavior.scaleUp.stabilizationWindowSeconds, value \"1.5\"",
            seconds,
            seconds_fix,
        ),
    ];
    for (case, hpa, field, message, fix) in cases {
        let error = error(case, hpa);

        assert!(
            error.contains(&format!("{field}: {message}")),
            "{case}: {error}"
        );
        assert!(error.contains(fix), "{case}: {error}");
        assert!(error.contains("scenario.yaml:10:"), "{case}: {error}");
    }
}

#[test]
fn null_window_keeps_default() {
    let scenario = load_case(
        "null-window",
        ", behavior: {scaleDown: {stabilizationWindowSeconds: ~}}",
    );

    let (_, scale_down) = rules(&scenario);
    assert_eq!(scale_down.stabilization_window, SimDuration::from_secs(300));
}

#[test]
fn unknown_behavior_field_is_named() {
    let message = load_str(
        &scenario_text("").replace(
            "maxReplicas: 40",
            "maxReplicas: 40, behavior: {scaleUp: {stabilizationWindow: 60}}",
        ),
        Path::new("scenario.yaml"),
        &Overrides::default(),
    )
    .expect_err("the scenario is rejected")
    .to_string();

    assert!(
        message.contains("unknown field `stabilizationWindow`"),
        "{message}"
    );
}
