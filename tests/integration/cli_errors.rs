//! Invalid input (scenario files, scenario paths, command-line arguments) ends with exit code 2,
//! a message that names the problem, and no file written.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use super::support::{SMALL_WEB_YAML, TempDir, replace_once, run_in, static_m5_large_yaml};

/// Exit code for invalid input, as documented in the docs of the `autoscale-sim-cli` crate.
const INPUT_ERROR: Option<i32> = Some(2);

/// How a bad-input case prepares the scenario path it passes to the program.
enum ScenarioSetup {
    /// A file `scenario.yaml` with these bytes.
    File(Vec<u8>),
    /// A folder named `scenario.yaml`.
    Folder,
    /// Nothing at all at `scenario.yaml`.
    Missing,
}

/// A bad scenario, run through both `validate` and `compare`.
struct ScenarioCase {
    name: &'static str,
    setup: ScenarioSetup,
    /// Substrings expected in standard error. `{scenario}` stands for the scenario path and
    /// `{dir}` for the folder that contains it.
    expected: Vec<&'static str>,
}

/// A bad command line, run once. `{scenario}`, `{trace_scenario}` and `{dir}` in the arguments
/// and in `expected` stand for the small scenario, a scenario with a trace load, and the case's
/// folder.
struct ArgumentCase {
    name: &'static str,
    args: Vec<&'static str>,
    expected: Vec<&'static str>,
}

/// A minimal trace: a header, then one value per minute.
const WEB_TRACE_CSV: &str = "timestamp_seconds,value\n0,100\n60,200\n120,300\n";

fn scenario_cases() -> Vec<ScenarioCase> {
    let yaml = |from: &str, to: &str| {
        ScenarioSetup::File(replace_once(SMALL_WEB_YAML, from, to).into_bytes())
    };
    vec![
        ScenarioCase {
            name: "unknown field",
            setup: yaml("seed: 7\n", "seed: 7\nseeed: 3\n"),
            expected: vec![
                "{scenario}:3:1: field seeed: unknown field `seeed`",
                "fix: remove the field or correct its spelling",
            ],
        },
        ScenarioCase {
            name: "HPA behavior policy period",
            setup: yaml(
                "maxReplicas: 30}",
                "maxReplicas: 30, behavior: {scaleUp: {policies: [{type: Pods, value: 4, periodSeconds: 3600}]}}}",
            ),
            expected: vec![
                "field workloads[0].hpa.behavior.scaleUp.policies[0].periodSeconds, value \"3600\": the period is outside 1 to 1800 seconds, the range Kubernetes accepts",
                "fix: write whole seconds from 1 to 1800, such as 15 or 60",
            ],
        },
        ScenarioCase {
            name: "wrong type",
            setup: yaml("minSize: 1\n", "minSize: many\n"),
            expected: vec![
                "{scenario}:34:20: field policies[0].clusterAutoscaler.nodeGroups[0].minSize, value \"many\": invalid value: expected a whole number zero or more",
                "fix: write a whole number, 0 or more, without sign or decimals",
            ],
        },
        ScenarioCase {
            name: "unknown instance type",
            setup: yaml("instanceType: m5.xlarge", "instanceType: m5.hugex"),
            expected: vec![
                "{scenario}:33:25: field policies[0].clusterAutoscaler.nodeGroups[0].instanceType, value \"m5.hugex\": unknown instance type",
                "fix: use one of m5.",
                "m5.large",
            ],
        },
        ScenarioCase {
            name: "minSize above maxSize",
            setup: ScenarioSetup::File(
                replace_once(
                    &replace_once(SMALL_WEB_YAML, "minSize: 1\n", "minSize: 5\n"),
                    "maxSize: 10\n",
                    "maxSize: 2\n",
                )
                .into_bytes(),
            ),
            expected: vec![
                "{scenario}:34:20: field policies[0].clusterAutoscaler.nodeGroups[0].minSize, value \"5\": minSize is above maxSize (2)",
                "fix: make minSize at most maxSize",
            ],
        },
        ScenarioCase {
            name: "missing trace file",
            setup: yaml(
                "diurnal: {base: 50, peak: 800, peakHour: 14, troughHour: 5, noise: 0.1}",
                "trace: {file: traces/missing.csv}",
            ),
            expected: vec![
                "{scenario}:9:19: field loads.web.trace.file, value \"traces/missing.csv\"",
                "trace file {dir}/traces/missing.csv not found",
            ],
        },
        ScenarioCase {
            name: "empty file",
            setup: ScenarioSetup::File(Vec::new()),
            expected: vec!["{scenario}: the file is empty"],
        },
        ScenarioCase {
            name: "whitespace only",
            setup: ScenarioSetup::File(b"  \n\n\t\n".to_vec()),
            expected: vec!["{scenario}: the file is empty"],
        },
        ScenarioCase {
            name: "NUL bytes",
            setup: ScenarioSetup::File(b"name: x\n\0\0\x01\x02seed: 1\n".to_vec()),
            expected: vec!["{scenario}: the file contains NUL bytes and is not YAML text"],
        },
        ScenarioCase {
            name: "not UTF-8",
            setup: ScenarioSetup::File(vec![0xff, 0xfe, 0x6e, 0x61, 0x6d, 0x65]),
            expected: vec!["{scenario}: the file is not UTF-8 text"],
        },
        ScenarioCase {
            name: "folder as scenario",
            setup: ScenarioSetup::Folder,
            expected: vec!["{scenario}: this is a folder, not a scenario file"],
        },
        ScenarioCase {
            name: "nonexistent path",
            setup: ScenarioSetup::Missing,
            expected: vec!["{scenario}: cannot read the scenario"],
        },
        ScenarioCase {
            name: "unclosed flow sequence",
            setup: yaml("seed: 7\n", "seed: [7\n"),
            expected: vec!["{scenario}:2:7: field seed"],
        },
        ScenarioCase {
            name: "duration with a space",
            setup: yaml("duration: 6h\n", "duration: 7 days\n"),
            expected: vec![
                "{scenario}:4:11: field duration, value \"7 days\"",
                "fix: write a duration such as 500ms, 45s, 10m, 1h30m or 7d",
            ],
        },
        ScenarioCase {
            name: "cpu quantity not a number",
            setup: yaml("cpu: 1500m", "cpu: lots"),
            expected: vec![
                "{scenario}:20:31: field workloads[0].template.spec.containers[0].resources.requests.cpu, value \"lots\"",
                "fix: write a Kubernetes quantity",
            ],
        },
        ScenarioCase {
            name: "hpa names unknown load",
            setup: yaml("hpa: {load: web,", "hpa: {load: webb,"),
            expected: vec![
                "{scenario}:13:17: field workloads[0].hpa.load, value \"webb\": no load has this name (loads: web)",
            ],
        },
        ScenarioCase {
            name: "zero duration",
            setup: yaml("duration: 6h\n", "duration: 0s\n"),
            expected: vec!["{scenario}:4:11: field duration, value \"0s\": the run is empty"],
        },
    ]
}

fn argument_cases() -> Vec<ArgumentCase> {
    vec![
        ArgumentCase {
            name: "run unknown policy",
            args: vec![
                "run",
                "{scenario}",
                "--policy",
                "nope",
                "--out",
                "{dir}/out",
            ],
            expected: vec![
                "the scenario has no policy named \"nope\"; its policies are: cluster-autoscaler, karpenter",
            ],
        },
        ArgumentCase {
            name: "run without policy",
            args: vec!["run", "{scenario}"],
            expected: vec!["--policy <POLICY>"],
        },
        ArgumentCase {
            name: "compare trace without equals",
            args: vec![
                "compare",
                "{scenario}",
                "--trace",
                "web",
                "--out",
                "{dir}/out",
            ],
            expected: vec!["--trace \"web\" is not NAME=PATH"],
        },
        ArgumentCase {
            name: "validate trace without name",
            args: vec!["validate", "{scenario}", "--trace", "=traces/web.csv"],
            expected: vec!["--trace \"=traces/web.csv\" is not NAME=PATH"],
        },
        ArgumentCase {
            name: "compare trace without path",
            args: vec!["compare", "{scenario}", "--trace", "web="],
            expected: vec!["--trace \"web=\" is not NAME=PATH"],
        },
        ArgumentCase {
            name: "validate trace given twice",
            args: vec![
                "validate",
                "{scenario}",
                "--trace",
                "web=a.csv",
                "--trace",
                "web=b.csv",
            ],
            expected: vec![
                "--trace names load \"web\" twice, with a.csv and b.csv; give each load one --trace",
            ],
        },
        ArgumentCase {
            name: "trace override file missing",
            args: vec![
                "compare",
                "{trace_scenario}",
                "--trace",
                "web={dir}/none.csv",
                "--out",
                "{dir}/out",
            ],
            expected: vec!["trace file {dir}/none.csv not found"],
        },
        ArgumentCase {
            name: "out under a regular file",
            args: vec!["compare", "{scenario}", "--out", "{dir}/plain-file/out"],
            expected: vec!["cannot write to --out {dir}/plain-file/out"],
        },
        ArgumentCase {
            name: "out is a regular file",
            args: vec!["compare", "{scenario}", "--out", "{dir}/plain-file"],
            expected: vec!["--out {dir}/plain-file is a file, not a folder"],
        },
        ArgumentCase {
            name: "seed not a number",
            args: vec![
                "compare",
                "{scenario}",
                "--seed",
                "abc",
                "--out",
                "{dir}/out",
            ],
            expected: vec!["invalid value 'abc' for '--seed"],
        },
        ArgumentCase {
            name: "negative seed",
            args: vec!["compare", "{scenario}", "--seed", "-1"],
            expected: vec![
                "invalid value '-1' for '--seed <N>': the seed must be a whole number from 0 to 18446744073709551615",
            ],
        },
        ArgumentCase {
            name: "unknown format",
            args: vec!["compare", "{scenario}", "--format", "xml"],
            expected: vec!["invalid value 'xml' for '--format <FORMAT>'"],
        },
        ArgumentCase {
            name: "unknown subcommand",
            args: vec!["simulate", "{scenario}"],
            expected: vec!["unrecognized subcommand 'simulate'"],
        },
    ]
}

/// Lists every file and folder under `dir` with its size in bytes (0 for folders), sorted by path.
fn list_tree(dir: &Path) -> Vec<(PathBuf, u64)> {
    let mut entries = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in fs::read_dir(&folder).expect("the folder can be listed") {
            let path = entry.expect("the folder entry can be read").path();
            let metadata = fs::symlink_metadata(&path).expect("the entry has metadata");
            if metadata.is_dir() {
                pending.push(path.clone());
                entries.push((path, 0));
            } else {
                entries.push((path, metadata.len()));
            }
        }
    }
    entries.sort();
    entries
}

fn fill_placeholders(text: &str, scenario: &Path, dir: &Path) -> String {
    text.replace("{scenario}", &scenario.display().to_string())
        .replace("{dir}", &dir.display().to_string())
}

/// Runs `args` in `dir`, then checks the exit code, the expected substrings of standard error,
/// and that `dir` contains exactly the same files of the same sizes as before.
fn check_rejected(case: &str, dir: &Path, args: &[OsString], expected: &[String]) {
    let before = list_tree(dir);

    let outcome = run_in(dir, args);

    assert_eq!(
        outcome.code, INPUT_ERROR,
        "{case}: autoscale-sim {args:?} exit code; stderr:\n{}",
        outcome.stderr
    );
    for substring in expected {
        assert!(
            outcome.stderr.contains(substring.as_str()),
            "{case}: autoscale-sim {args:?}: stderr lacks {substring:?}:\n{}",
            outcome.stderr
        );
    }
    assert!(
        outcome.stdout.is_empty(),
        "{case}: autoscale-sim {args:?} printed to stdout:\n{}",
        outcome.stdout
    );
    assert_eq!(
        list_tree(dir),
        before,
        "{case}: autoscale-sim {args:?} changed the files in {}",
        dir.display()
    );
}

#[test]
fn bad_scenarios_exit_two() {
    let temp = TempDir::new("bad-scenarios");
    for (index, case) in scenario_cases().into_iter().enumerate() {
        let dir = temp.join(&format!("case-{index}"));
        fs::create_dir(&dir).expect("the case folder can be created");
        let scenario = dir.join("scenario.yaml");
        match &case.setup {
            ScenarioSetup::File(bytes) => fs::write(&scenario, bytes).expect("scenario written"),
            ScenarioSetup::Folder => fs::create_dir(&scenario).expect("folder created"),
            ScenarioSetup::Missing => {}
        }
        let expected: Vec<String> = case
            .expected
            .iter()
            .map(|e| fill_placeholders(e, &scenario, &dir))
            .collect();

        let validate = ["validate".into(), scenario.clone().into_os_string()];
        check_rejected(case.name, &dir, &validate, &expected);

        let out = dir.join("out");
        let compare = [
            "compare".into(),
            scenario.clone().into_os_string(),
            "--out".into(),
            out.clone().into_os_string(),
        ];
        check_rejected(case.name, &dir, &compare, &expected);
        assert!(
            !out.exists(),
            "{}: compare created {}",
            case.name,
            out.display()
        );
    }
}

#[test]
fn bad_arguments_exit_two() {
    let temp = TempDir::new("bad-arguments");
    for (index, case) in argument_cases().into_iter().enumerate() {
        let dir = temp.join(&format!("case-{index}"));
        fs::create_dir(&dir).expect("the case folder can be created");
        let scenario = dir.join("small-web.yaml");
        fs::write(&scenario, SMALL_WEB_YAML).expect("scenario written");
        let trace_scenario = dir.join("traced.yaml");
        let traced_yaml = replace_once(
            SMALL_WEB_YAML,
            "diurnal: {base: 50, peak: 800, peakHour: 14, troughHour: 5, noise: 0.1}",
            "trace: {file: traces/web.csv, end: loop}",
        );
        fs::write(&trace_scenario, traced_yaml).expect("scenario written");
        fs::create_dir(dir.join("traces")).expect("traces folder created");
        fs::write(dir.join("traces/web.csv"), WEB_TRACE_CSV).expect("trace written");
        fs::write(dir.join("plain-file"), b"").expect("plain file written");
        let fill = |text: &str| {
            fill_placeholders(text, &scenario, &dir)
                .replace("{trace_scenario}", &trace_scenario.display().to_string())
        };
        let args: Vec<OsString> = case.args.iter().map(|a| fill(a).into()).collect();
        let expected: Vec<String> = case.expected.iter().map(|e| fill(e)).collect();

        check_rejected(case.name, &dir, &args, &expected);
    }
}

#[test]
fn trace_scenario_control_runs() {
    // The trace scenario of the argument cases is valid, so their failures come from the
    // arguments alone.
    let temp = TempDir::new("trace-control");
    temp.write("traces/web.csv", WEB_TRACE_CSV);
    let traced_yaml = replace_once(
        SMALL_WEB_YAML,
        "diurnal: {base: 50, peak: 800, peakHour: 14, troughHour: 5, noise: 0.1}",
        "trace: {file: traces/web.csv, end: loop}",
    );
    let scenario = temp.write("traced.yaml", traced_yaml);

    let outcome = run_in(temp.path(), [OsString::from("validate"), scenario.into()]);

    assert_eq!(outcome.code, Some(0), "stderr:\n{}", outcome.stderr);
}

#[test]

fn flow_mapping_error_value() {
    let temp = TempDir::new("flow-field");
    let flow_group =
        "        - {name: general, instanceType: m5.xlarge, minSize: many, maxSize: 10}\n";
    let block_group = "        - name: general\n          instanceType: m5.xlarge\n          minSize: 1\n          maxSize: 10\n";
    let scenario = temp.write(
        "scenario.yaml",
        replace_once(SMALL_WEB_YAML, block_group, flow_group),
    );

    let outcome = run_in(temp.path(), [OsString::from("validate"), scenario.into()]);

    assert_eq!(outcome.code, INPUT_ERROR);
    assert!(
        outcome
            .stderr
            .contains("field policies[0].clusterAutoscaler.nodeGroups[0].minSize, value \"many\":"),
        "stderr:\n{}",
        outcome.stderr
    );
}

#[test]

fn trace_for_unknown_load() {
    let temp = TempDir::new("trace-unknown-load");
    let scenario = temp.write("small-web.yaml", SMALL_WEB_YAML);
    let trace = temp.write("web.csv", WEB_TRACE_CSV);
    let mut argument = OsString::from("nosuch=");
    argument.push(trace);

    let outcome = run_in(
        temp.path(),
        [
            OsString::from("validate"),
            scenario.into(),
            "--trace".into(),
            argument,
        ],
    );

    assert_eq!(outcome.code, INPUT_ERROR, "stdout:\n{}", outcome.stdout);
    assert!(
        outcome.stderr.contains("nosuch"),
        "stderr:\n{}",
        outcome.stderr
    );
}

#[test]

fn snapshot_after_end() {
    let temp = TempDir::new("late-snapshot");
    let yaml = replace_once(
        SMALL_WEB_YAML,
        "  - {label: \"hour 2\", at: 2h}\n",
        "  - {label: \"day 10\", at: 10d}\n",
    );
    let scenario = temp.write("scenario.yaml", yaml);

    let outcome = run_in(temp.path(), [OsString::from("validate"), scenario.into()]);

    assert_eq!(outcome.code, INPUT_ERROR, "stdout:\n{}", outcome.stdout);
    assert!(
        outcome.stderr.contains("snapshots[0].at"),
        "stderr:\n{}",
        outcome.stderr
    );
}

#[test]

fn absurd_duration_rejected() {
    let temp = TempDir::new("absurd-duration");
    let scenario = temp.write("scenario.yaml", static_m5_large_yaml("99999999999d"));

    // Only validate runs here: compare would not return.
    let outcome = run_in(temp.path(), [OsString::from("validate"), scenario.into()]);

    assert_eq!(outcome.code, INPUT_ERROR, "stdout:\n{}", outcome.stdout);
    assert!(
        outcome.stderr.contains("field duration"),
        "stderr:\n{}",
        outcome.stderr
    );
}

#[test]
fn closed_stderr_exits_two() {
    let temp = TempDir::new("closed-stderr");
    let scenario = temp.write(
        "scenario.yaml",
        replace_once(SMALL_WEB_YAML, "seed: 7\n", "seed: many\n"),
    );
    // A pipe whose reading end is already closed: `true` exits without reading its stdin.
    let mut reader = std::process::Command::new("true")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("`true` starts");
    let closed_pipe = reader.stdin.take().expect("stdin is piped");
    reader.wait().expect("`true` exits");

    let status = std::process::Command::new(env!("CARGO_BIN_EXE_autoscale-sim"))
        .args([OsString::from("validate"), scenario.into()])
        .stderr(closed_pipe)
        .status()
        .expect("the autoscale-sim binary starts");

    assert_eq!(status.code(), INPUT_ERROR);
}
