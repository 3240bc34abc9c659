//! Errors in the priority expander's ConfigMap point at the offending entry in the scenario
//! file, not at a line of the embedded text.

use std::path::Path;

use autoscale_sim_scenario::{Overrides, ScenarioError, load_str};

const SPOT_DIURNAL: &str = include_str!("../../../scenarios/spot-diurnal.yaml");

/// The ConfigMap's `priorities` block as spot-diurnal.yaml writes it.
const PRIORITIES: &str = "          priorities: |-
            50:
              - ^spot-.*
            10:
              - .*
";

fn load_error(priorities: &str) -> ScenarioError {
    assert!(
        SPOT_DIURNAL.contains(PRIORITIES),
        "spot-diurnal.yaml changed"
    );
    let text = SPOT_DIURNAL.replace(PRIORITIES, priorities);
    match load_str(&text, Path::new("spot.yaml"), &Overrides::default()) {
        Ok(_) => panic!("the scenario should be rejected"),
        Err(error) => error,
    }
}

/// Line (from 1) of the first line of spot-diurnal.yaml that contains `needle`.
fn line_of(needle: &str) -> u64 {
    let index = SPOT_DIURNAL
        .lines()
        .position(|line| line.contains(needle))
        .expect("needle in spot-diurnal.yaml");
    index as u64 + 1
}

#[test]
fn bad_regex_points_at_its_line() {
    let error = load_error(&PRIORITIES.replace("^spot-.*", "^spot-(.*"));

    assert_eq!(error.line, Some(line_of("- ^spot-.*")));
    assert_eq!(error.column, Some(17));
    assert_eq!(error.value.as_deref(), Some("^spot-(.*"));
    assert!(
        error.message.ends_with("unclosed group"),
        "{}",
        error.message
    );
}

#[test]
fn bad_key_points_at_its_line() {
    let error = load_error(&format!("{PRIORITIES}            ten: [x]\n"));

    assert_eq!(error.line, Some(line_of("              - .*") + 1));
    assert_eq!(error.column, Some(13));
    assert_eq!(error.value.as_deref(), Some("ten"));
    assert_eq!(error.message, "a priority is not a whole number");
    assert!(!error.message.contains("<input>"), "{}", error.message);
}

#[test]
fn quoted_text_points_at_scalar() {
    let error = load_error("          priorities: \"50: ['^spot-(.*']\"\n");

    assert_eq!(error.line, Some(line_of("priorities: |-")));
    assert_eq!(error.column, Some(23));
    assert_eq!(error.value.as_deref(), Some("^spot-(.*"));
}
