//! A trace `shift` as long as the trace or longer wraps around, which the loader accepts with a
//! warning that names the scenario file, the shift, the trace file and its length.

use std::path::{Path, PathBuf};

use autoscale_sim_scenario::{Overrides, load};

mod support;
use support::TempFolder;

/// Builds a one-hour trace of one value a minute.
fn trace_csv() -> String {
    let mut csv = String::from("timestamp_seconds,value\n");
    for minute in 0..60 {
        csv.push_str(&format!("{},{}\n", minute * 60, 100 + minute));
    }
    csv
}

/// Writes a scenario whose load `web` reads `traces/web.csv` with `shift`, and the trace, into
/// a new folder named after `case`, and returns the folder and the scenario's path.
fn write_scenario(case: &str, shift: &str) -> (TempFolder, PathBuf) {
    let folder = TempFolder::new(&format!("trace-shift-{case}"));
    folder.write("traces/web.csv", &trace_csv());
    let yaml = format!(
        "name: shifted\nseed: 1\nduration: 2h\nloads:\n  web:\n    trace: {{file: traces/web.csv, end: loop, shift: {shift}}}\nworkloads:\n  - kind: Deployment\n    metadata: {{name: api}}\n    hpa: {{load: web, targetPerReplica: 50, minReplicas: 1, maxReplicas: 5}}\n    template:\n      spec:\n        containers: [{{name: api, resources: {{requests: {{cpu: 500m}}}}}}]\npolicies:\n  - name: static\n    static: {{instanceType: m5.large, count: 1}}\n"
    );
    let path = folder.write("scenario.yaml", &yaml);
    (folder, path)
}

fn warnings(path: &Path) -> Vec<String> {
    let scenario = load(path, &Overrides::default()).unwrap_or_else(|e| panic!("{e}"));
    scenario.warnings
}

#[test]
fn shift_not_shorter_warns() {
    // (case, shift as written, shift as the warning prints it, what it acts as)
    let cases = [
        (
            "beyond",
            "90m",
            "1h30m",
            "a shift of 30m; write 30m to say so",
        ),
        ("whole", "1h", "1h", "no shift at all; remove it"),
    ];
    for (case, shift, shift_text, outcome) in cases {
        let (_folder, path) = write_scenario(case, shift);
        let trace = path.parent().unwrap().join("traces/web.csv");

        let warnings = warnings(&path);

        assert_eq!(
            warnings,
            [format!(
                "{}:6:53: field loads.web.trace.shift: shift {shift_text} is not shorter than \
                 the trace {}, which is 1h long, so the shift wraps around and acts as {outcome}",
                path.display(),
                trace.display()
            )],
            "{case}"
        );
    }
}

#[test]
fn shift_within_trace_silent() {
    let (_folder, path) = write_scenario("within", "59m");

    assert!(warnings(&path).is_empty());
}
