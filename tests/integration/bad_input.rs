//! Bad input through the `autoscale-sim` binary, one table row per kind. The rows cover binary
//! and oversized files, a YAML bomb, NaN, infinite and negative numbers, bad trace timestamps, a
//! trace shorter than the run, unknown names, zero and absurd limits, an unquoted number where a
//! string is declared, and an unwritable `--out`.
//! Each is rejected with exit code 2 and nothing written, with a message that names the file,
//! position, field and value where they apply. A pod larger than every instance type is only a
//! warning, and the run finishes with the pods unplaced.
//!
//! A NodePool limit of 0 is only a warning: Karpenter accepts it, and operators use it to stop a
//! NodePool from launching.

use std::ffi::OsString;
use std::fs;
use std::path::Path;

use super::support::{
    SMALL_WEB_YAML, TempDir, parse_json, replace_once, result_of, run_in, static_m5_large_yaml,
};

/// Exit code for invalid input, as documented in the docs of the `autoscale-sim-cli` crate.
const INPUT_ERROR: Option<i32> = Some(2);

/// Largest scenario file the loader accepts, in bytes (`MAX_SCENARIO_BYTES`).
const MAX_SCENARIO_BYTES: usize = 4 * 1024 * 1024;

/// The `diurnal` load of [`SMALL_WEB_YAML`], which trace rows replace.
const DIURNAL: &str = "diurnal: {base: 50, peak: 800, peakHour: 14, troughHour: 5, noise: 0.1}";

/// What a row runs.
enum Run {
    /// `validate scenario.yaml`, then `compare scenario.yaml --out out`.
    ValidateAndCompare,
    /// Only `validate scenario.yaml`, for scenarios that would not finish if they ran.
    ValidateOnly,
    /// These arguments, in which `{dir}` is the row's folder.
    Args(Vec<&'static str>),
}

/// One bad input: the files of its folder, what runs, and the substrings expected on stderr.
struct Case {
    name: &'static str,
    /// Files written into the row's folder before the run, as (relative path, contents).
    files: Vec<(&'static str, Vec<u8>)>,
    run: Run,
    /// Substrings of standard error, in which `{dir}` is the row's folder.
    expected: Vec<&'static str>,
}

/// Builds a row whose folder contains `scenario.yaml` with `text`.
fn scenario_case(
    name: &'static str,
    text: impl Into<Vec<u8>>,
    expected: Vec<&'static str>,
) -> Case {
    Case {
        name,
        files: vec![("scenario.yaml", text.into())],
        run: Run::ValidateAndCompare,
        expected,
    }
}

/// Builds a row whose scenario is [`SMALL_WEB_YAML`] with `from` replaced by `to`.
fn small_web_case(name: &'static str, from: &str, to: &str, expected: Vec<&'static str>) -> Case {
    scenario_case(name, replace_once(SMALL_WEB_YAML, from, to), expected)
}

/// Builds a row whose scenario loads `traces/web.csv` with `trace` (a flow mapping) and whose
/// folder contains that file with `csv`.
fn trace_case(
    name: &'static str,
    trace: &str,
    csv: &'static str,
    expected: Vec<&'static str>,
) -> Case {
    let mut case = small_web_case(name, DIURNAL, trace, expected);
    case.files.push(("traces/web.csv", csv.as_bytes().to_vec()));
    case
}

/// Builds a row whose scenario loads a good `traces/web.csv`, which `validate` replaces with
/// `--trace` and `option`. The folder also contains `file`, as (relative path, contents).
fn trace_given_with_option(
    name: &'static str,
    file: (&'static str, &'static str),
    option: &'static str,
    expected: Vec<&'static str>,
) -> Case {
    let good = "timestamp_seconds,value\n0,100\n60,200\n";
    let mut case = trace_case(name, "trace: {file: traces/web.csv}", good, expected);
    case.files.push((file.0, file.1.as_bytes().to_vec()));
    case.run = Run::Args(vec!["validate", "scenario.yaml", "--trace", option]);
    case
}

/// Returns [`SMALL_WEB_YAML`] with a Job workload whose arrival rate is `rate`, on line 29
/// column 43.
fn small_web_with_job(rate: &str) -> String {
    let job = format!(
        "  - kind: Job
    metadata: {{name: report}}
    arrivals: {{load: web, perHourPerUnit: {rate}}}
    duration: {{distribution: fixed, mean: 10m}}
    template:
      spec:
        containers: [{{name: report, resources: {{requests: {{cpu: 500m}}}}}}]
policies:
"
    );
    replace_once(SMALL_WEB_YAML, "policies:\n", &job)
}

/// Returns [`SMALL_WEB_YAML`] with a billion-laughs YAML bomb on line 19: nine levels of
/// anchors, each a list of nine aliases of the level before. It is the `env` of the first
/// container, a field whose contents are ignored, so only a size limit can stop the expansion.
fn yaml_bomb() -> String {
    let mut levels = vec![format!("&l0 [{}]", ["\"lol\""; 9].join(","))];
    for level in 1..9 {
        let aliases = vec![format!("*l{}", level - 1); 9].join(",");
        levels.push(format!("&l{level} [{aliases}]"));
    }
    let env = format!("            env: [{}]\n", levels.join(", "));
    replace_once(
        SMALL_WEB_YAML,
        "          - name: api\n",
        &format!("          - name: api\n{env}"),
    )
}

/// Returns [`SMALL_WEB_YAML`] padded with comment lines to one byte over the size limit.
fn oversized_scenario() -> Vec<u8> {
    let mut text = SMALL_WEB_YAML.as_bytes().to_vec();
    let line = format!("# {}\n", "x".repeat(77));
    while text.len() + line.len() <= MAX_SCENARIO_BYTES {
        text.extend_from_slice(line.as_bytes());
    }
    text.resize(MAX_SCENARIO_BYTES, b'#');
    text.extend_from_slice(b"\n");
    text
}

/// Returns the start of a gzip file, which is neither UTF-8 nor YAML.
fn binary_file() -> Vec<u8> {
    let mut bytes = vec![0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03];
    bytes.extend((0u8..=255).rev());
    bytes
}

/// Returns a folder name longer than the 255 bytes that Linux and macOS allow in one path
/// component.
fn overlong_name() -> &'static str {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| "x".repeat(300))
}

fn cases() -> Vec<Case> {
    vec![
        small_web_case(
            "unquoted NodePool requirement value",
            "{key: kubernetes.io/arch, operator: In, values: [amd64]}",
            "{key: karpenter.k8s.aws/instance-generation, operator: Gt, values: [4]}",
            vec![
                "scenario.yaml:47:89: field policies[1].karpenter.nodePools[0].spec.template.spec.requirements[1].values[0], value \"4\": selector and requirement values are strings, but YAML reads this one as a number",
                "fix: quote it: \"4\"",
            ],
        ),
        small_web_case(
            "budget duration in seconds",
            "consolidateAfter: 30s}",
            "consolidateAfter: 30s, budgets: [{nodes: \"0\", schedule: \"0 9 * * mon-fri\", duration: 90s}]}",
            vec![
                "scenario.yaml:48:158: field policies[1].karpenter.nodePools[0].spec.disruption.budgets[0].duration, value \"90s\": a budget duration takes hours and minutes only",
                "fix: write a duration such as 8h, 30m or 1h30m",
            ],
        ),
        Case {
            name: "EC2NodeClass maxPods 0 in a manifest file",
            files: vec![
                (
                    "scenario.yaml",
                    replace_once(
                        SMALL_WEB_YAML,
                        "      nodePools:\n",
                        "      manifests: [karpenter.yaml]\n      nodePools:\n",
                    )
                    .into_bytes(),
                ),
                (
                    "karpenter.yaml",
                    b"apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata: {name: default}\nspec:\n  kubelet: {maxPods: 0}\n".to_vec(),
                ),
            ],
            run: Run::ValidateAndCompare,
            expected: vec![
                "karpenter.yaml:5:22: field documents[0].spec.kubelet.maxPods, value \"0\": maxPods must be from 1 to 10000",
                "fix: write a whole number such as 110",
            ],
        },
        scenario_case(
            "binary file",
            binary_file(),
            vec!["scenario.yaml: the file is not UTF-8 text"],
        ),
        scenario_case(
            "yaml bomb",
            yaml_bomb(),
            vec![
                "scenario.yaml:19:",
                "field workloads[0].template.spec.containers[0].env",
                "repeated aliases (*name) do in a YAML bomb",
                "fix: write the values out instead of repeating aliases",
            ],
        ),
        scenario_case(
            "file over 4 MiB",
            oversized_scenario(),
            vec![
                "scenario.yaml: the file is 4194305 bytes; scenarios are limited to 4194304 bytes",
                "fix: keep large data in trace files and refer to them",
            ],
        ),
        scenario_case(
            "NaN job arrival rate",
            small_web_with_job(".nan"),
            vec![
                "scenario.yaml:29:43: field workloads[2].arrivals.perHourPerUnit, value \"NaN\": the rate must be a finite number zero or more",
            ],
        ),
        scenario_case(
            "negative job arrival rate",
            small_web_with_job("-1"),
            vec![
                "scenario.yaml:29:43: field workloads[2].arrivals.perHourPerUnit, value \"-1\": the rate must be a finite number zero or more",
            ],
        ),
        trace_case(
            "infinite trace value scale",
            "trace: {file: traces/web.csv, valueScale: .inf}",
            "timestamp_seconds,value\n0,100\n60,200\n",
            vec![
                "scenario.yaml:9:47: field loads.web.trace.valueScale, value \"inf\": the scale must be a finite number zero or more",
            ],
        ),
        small_web_case(
            "tab indentation",
            "\n  launchLatency:",
            "\n\tlaunchLatency:",
            vec![
                "scenario.yaml:6:2: field cloud",
                "tabs disallowed within this context (block indentation)",
                "fix: indent with spaces, because YAML does not allow tabs in indentation",
            ],
        ),
        small_web_case(
            "tab starting a line after a plain scalar",
            "\n    metadata: {name: api}",
            "\n\t  metadata: {name: api}",
            vec![
                "scenario.yaml:12:1: field workloads[0], value \"metadata: {name: api}\": while scanning a plain scalar, found a tab",
                "fix: indent with spaces, because YAML does not allow tabs in indentation",
            ],
        ),
        small_web_case(
            "do-not-disrupt not a boolean",
            "    startupLatency: 10s\n    template:\n",
            "    startupLatency: 10s\n    template:\n      metadata: {annotations: {karpenter.sh/do-not-disrupt: \"yes\"}}\n",
            vec![
                "scenario.yaml:16:61: field workloads[0].template.metadata.annotations.karpenter.sh/do-not-disrupt, value \"yes\": expected \"true\", \"false\" or a duration as Go reads it (a number is missing before a unit), because Karpenter ignores any other value",
                "fix: write \"true\", \"false\", or a duration such as \"30m\" or \"1h30m\"",
            ],
        ),
        small_web_case(
            "do-not-disrupt in days",
            "    startupLatency: 10s\n    template:\n",
            "    startupLatency: 10s\n    template:\n      metadata: {annotations: {karpenter.sh/do-not-disrupt: \"7d\"}}\n",
            vec![
                "value \"7d\": expected \"true\", \"false\" or a duration as Go reads it (the unit is not one of ns, us, ms, s, m, h), because Karpenter ignores any other value",
                "fix: write the duration in hours, such as \"168h\"",
            ],
        ),
        small_web_case(
            "do-not-disrupt zero duration",
            "    startupLatency: 10s\n    template:\n",
            "    startupLatency: 10s\n    template:\n      metadata: {annotations: {karpenter.sh/do-not-disrupt: \"0s\"}}\n",
            vec![
                "value \"0s\": a duration that is not positive protects nothing, and Karpenter ignores it",
            ],
        ),
        small_web_case(
            "pod-deletion-cost not a number",
            "    startupLatency: 10s\n    template:\n",
            "    startupLatency: 10s\n    template:\n      metadata: {annotations: {controller.kubernetes.io/pod-deletion-cost: abc}}\n",
            vec![
                "scenario.yaml:16:76: field workloads[0].template.metadata.annotations.controller.kubernetes.io/pod-deletion-cost, value \"abc\": expected a whole number",
            ],
        ),
        small_web_case(
            "negative maxSize",
            "maxSize: 10\n",
            "maxSize: -1\n",
            vec![
                "scenario.yaml:35:20: field policies[0].clusterAutoscaler.nodeGroups[0].maxSize, value \"-1\": invalid value: expected a whole number zero or more",
            ],
        ),
        small_web_case(
            "infinite maxReplicas",
            "maxReplicas: 30}",
            "maxReplicas: .inf}",
            vec![
                "scenario.yaml:13:73: field workloads[0].hpa.maxReplicas, value \".inf\": YAML reads .inf as a number that is not finite",
                "fix: write a finite number",
            ],
        ),
        small_web_case(
            "negative targetPerReplica",
            "targetPerReplica: 50,",
            "targetPerReplica: -50,",
            vec![
                "scenario.yaml:13:40: field workloads[0].hpa.targetPerReplica, value \"-50\": targetPerReplica -50 is invalid; expected a finite number above zero",
            ],
        ),
        small_web_case(
            "NaN HPA tolerance",
            "maxReplicas: 30}",
            "maxReplicas: 30, tolerance: .nan}",
            vec![
                "scenario.yaml:13:88: field workloads[0].hpa.tolerance, value \"NaN\": tolerance NaN is invalid",
            ],
        ),
        small_web_case(
            "NaN diurnal base",
            "base: 50,",
            "base: .nan,",
            vec![
                "scenario.yaml:9:21: field loads.web.diurnal.base, value \"NaN\": base NaN is invalid",
            ],
        ),
        small_web_case(
            "negative cpu request",
            "cpu: 1500m",
            "cpu: -1500m",
            vec![
                "scenario.yaml:20:31: field workloads[0].template.spec.containers[0].resources.requests.cpu, value \"-1500m\": the quantity is negative",
            ],
        ),
        small_web_case(
            "NaN memory request",
            "memory: 2Gi",
            "memory: .nan",
            vec![
                "scenario.yaml:20:46: field workloads[0].template.spec.containers[0].resources.requests.memory, value \".nan\"",
                "fix: write a Kubernetes quantity",
            ],
        ),
        trace_case(
            "NaN trace value",
            "trace: {file: traces/web.csv}",
            "timestamp_seconds,value\n0,100\n60,NaN\n120,300\n",
            vec![
                "traces/web.csv:3:4: field value, value \"NaN\": expected a finite number zero or more",
            ],
        ),
        trace_case(
            "infinite trace value",
            "trace: {file: traces/web.csv}",
            "timestamp_seconds,value\n0,100\n60,inf\n120,300\n",
            vec![
                "traces/web.csv:3:4: field value, value \"inf\": expected a finite number zero or more",
            ],
        ),
        trace_case(
            "negative trace value",
            "trace: {file: traces/web.csv}",
            "timestamp_seconds,value\n0,100\n60,-5\n120,300\n",
            vec![
                "traces/web.csv:3:4: field value, value \"-5\": expected a finite number zero or more",
            ],
        ),
        trace_case(
            "trace timestamps out of order",
            "trace: {file: traces/web.csv}",
            "timestamp_seconds,value\n0,100\n60,200\n30,300\n",
            vec![
                "traces/web.csv:4:1: field timestamp_seconds, value \"30\": timestamp out of order: it is earlier than 60 on line 3; sort the rows by timestamp",
            ],
        ),
        trace_case(
            "trace timestamp duplicated",
            "trace: {file: traces/web.csv}",
            "timestamp_seconds,value\n0,100\n60,200\n60,300\n",
            vec![
                "traces/web.csv:4:1: field timestamp_seconds, value \"60\": duplicated timestamp: line 3 has the same one; timestamps must be strictly increasing",
            ],
        ),
        trace_case(
            "trace shorter than run",
            "trace: {file: traces/web.csv, end: error}",
            "timestamp_seconds,value\n0,100\n60,200\n120,300\n",
            vec![
                "scenario.yaml:9:40: field loads.web.trace.end, value \"error\": the trace covers 3m but the run lasts 6h",
                "fix: shorten the run, or write end: loop or end: hold",
            ],
        ),
        Case {
            name: "run unknown policy",
            files: vec![("scenario.yaml", SMALL_WEB_YAML.as_bytes().to_vec())],
            run: Run::Args(vec![
                "run",
                "scenario.yaml",
                "--policy",
                "karpenterr",
                "--out",
                "out",
            ]),
            expected: vec![
                "the scenario has no policy named \"karpenterr\"; its policies are: cluster-autoscaler, karpenter",
            ],
        },
        small_web_case(
            "unknown instance type",
            "instanceType: m5.xlarge",
            "instanceType: m5.hugex",
            vec![
                "scenario.yaml:33:25: field policies[0].clusterAutoscaler.nodeGroups[0].instanceType, value \"m5.hugex\": unknown instance type",
                "fix: use one of m5.large, m5.xlarge,",
            ],
        ),
        scenario_case(
            "maxSize 0",
            replace_once(
                &replace_once(SMALL_WEB_YAML, "minSize: 1\n", "minSize: 0\n"),
                "maxSize: 10\n",
                "maxSize: 0\n",
            ),
            vec![
                "scenario.yaml:35:20: field policies[0].clusterAutoscaler.nodeGroups[0].maxSize, value \"0\": the group can never have a node",
                "fix: write a maxSize of at least 1",
            ],
        ),
        small_web_case(
            "duration 100000d",
            "duration: 6h\n",
            "duration: 100000d\n",
            vec![
                "scenario.yaml:4:11: field duration, value \"100000d\": the run is longer than the 400d this version simulates",
                "fix: write a duration of at most 400d",
            ],
        ),
        small_web_case(
            "replicas beyond u32",
            "maxReplicas: 30}",
            "maxReplicas: 100000000000}",
            vec![
                "scenario.yaml:13:73: field workloads[0].hpa.maxReplicas, value \"100000000000\": the number is larger than 4294967295, the most this field takes",
                "fix: write a smaller number",
            ],
        ),
        small_web_case(
            "seed beyond u64",
            "seed: 7\n",
            "seed: 18446744073709551616\n",
            vec![
                "scenario.yaml:2:7: field seed, value \"18446744073709551616\": the number is larger than 18446744073709551615",
            ],
        ),
        small_web_case(
            "list as name",
            "name: small-web\n",
            "name: [1, 2]\n",
            vec![
                "scenario.yaml:1:7: field name, value \"[1, 2]\"",
                "fix: write one value here, not a list or a mapping",
            ],
        ),
        scenario_case(
            "workloads without a value",
            "name: empty\nduration: 2h\nworkloads:\npolicies: []\n",
            vec![
                "scenario.yaml:3:10: field workloads: expected sequence start",
                "fix: write a list here",
            ],
        ),
        small_web_case(
            "lower-case Never",
            "consolidateAfter: 30s}",
            "consolidateAfter: never}",
            vec![
                "scenario.yaml:48:91: field policies[1].karpenter.nodePools[0].spec.disruption.consolidateAfter, value \"never\": Never is written with a capital N",
                "fix: write a duration such as 30s, 10m or 1h, or Never",
            ],
        ),
        small_web_case(
            "negative terminationGracePeriod",
            "                requirements:\n                  - {key: karpenter.k8s.aws/instance-category",
            "                terminationGracePeriod: -5m\n                requirements:\n                  - {key: karpenter.k8s.aws/instance-category",
            vec![
                "field policies[1].karpenter.nodePools[0].spec.template.spec.terminationGracePeriod, value \"-5m\": the duration is negative",
            ],
        ),
        small_web_case(
            "zone listed twice",
            "  launchLatency:",
            "  zones: [us-east-1a, us-east-1a]\n  launchLatency:",
            vec![
                "scenario.yaml: field cloud.zones, value \"us-east-1a\": the zone is listed twice",
                "fix: list each zone once",
            ],
        ),
        small_web_case(
            "budget over 100%",
            "consolidateAfter: 30s}",
            "consolidateAfter: 30s, budgets: [{nodes: \"150%\"}]}",
            vec![
                "field policies[1].karpenter.nodePools[0].spec.disruption.budgets[0].nodes, value \"150%\": the percentage is above 100%",
                "fix: write a percentage of at most 100%",
            ],
        ),
        small_web_case(
            "too many samples",
            "duration: 6h\n",
            "duration: 6h\nsampleInterval: 10ms\n",
            vec![
                "scenario.yaml:5:17: field sampleInterval, value \"10ms\": a run of 6h would take 2160001 samples, more than the 1000000 a run keeps in memory",
                "fix: write a sampleInterval of at least 1s, or a shorter duration",
            ],
        ),
        small_web_case(
            "two Deployments of one name",
            "  - kind: DaemonSet\n    metadata: {name: kube-proxy}",
            "  - kind: Deployment\n    metadata: {name: api}\n    replicas: 1\n    template: {spec: {containers: [{name: a}]}}\n  - kind: DaemonSet\n    metadata: {name: kube-proxy}",
            vec![
                "scenario.yaml:22:22: field workloads[1].metadata.name, value \"api\": another Deployment or StatefulSet has this name",
            ],
        ),
        Case {
            name: "out name too long",
            files: vec![("scenario.yaml", SMALL_WEB_YAML.as_bytes().to_vec())],
            run: Run::Args(vec!["compare", "scenario.yaml", "--out", "{long}/out"]),
            expected: vec![
                "cannot write to --out {long}/out",
                "choose a folder you can write to",
            ],
        },
        small_web_case(
            "unclosed flow mapping after a number",
            "maxReplicas: 30}",
            "maxReplicas: 30",
            vec![
                "scenario.yaml:13:73: field workloads[0].hpa.maxReplicas, value \"30\": the number continues on the next line, so it is read as text; a { or [ not closed on this line is a likely cause",
                "fix: close the { or [ on this line, or end the value at the end of the line",
            ],
        ),
        scenario_case(
            "two YAML documents",
            format!("{SMALL_WEB_YAML}---\n{SMALL_WEB_YAML}"),
            vec![
                "scenario.yaml:52:1: the file contains more than one YAML document (a --- line starts another one)",
                "fix: keep one scenario per file: remove the --- line and the document after it, or move that document to a file of its own",
            ],
        ),
        small_web_case(
            "unclosed quote on line 1",
            "name: small-web\n",
            "name: \"small-web\n",
            vec![
                "scenario.yaml:30:16: field policies[0].clusterAutoscaler.flags[0], value \"--scale-down-unneeded-time=10m\": invalid trailing content after double-quoted scalar; the quote at line 1, column 7 is not closed on its line, which is a likely cause",
                "fix: close the quote at line 1, column 7",
                // The excerpt's caret line carries the message once.
                "^ invalid trailing content after double-quoted scalar; the quote at line 1, column 7 is not closed on its line, which is a likely cause\n",
            ],
        ),
        small_web_case(
            "infinity for a label value",
            "metadata: {name: api}",
            "metadata: {name: api, labels: {tier: .inf}}",
            vec![
                "scenario.yaml:12:42: field workloads[0].metadata.labels.tier, value \".inf\": YAML reads .inf as a number that is not finite",
                "fix: write a finite number, or quote it if it is text: \".inf\"",
            ],
        ),
        small_web_case(
            "list for a number",
            "targetPerReplica: 50",
            "targetPerReplica: [50]",
            vec![
                "scenario.yaml:13:40: field workloads[0].hpa.targetPerReplica, value \"[50]\": expected a single value, such as a number or a name, but found a list",
            ],
        ),
        small_web_case(
            "duplicate key in nested flow mapping",
            "resources:\n              requests: {cpu: 1500m, memory: 2Gi}",
            "resources: {requests: {cpu: 1500m, memory: 2Gi, cpu: 1}}",
            vec![
                "scenario.yaml:19:61: field workloads[0].template.spec.containers[0].resources.requests.cpu: the key cpu appears twice in the same mapping",
            ],
        ),
        scenario_case(
            "only comments",
            "# a scenario to write\n\n  # later\n",
            vec![
                "scenario.yaml: the file has no content apart from comments",
                "fix: write a scenario; see scenarios/diurnal-web.yaml for a complete example",
            ],
        ),
        trace_given_with_option(
            "bad trace given with --trace",
            ("gap.csv", "timestamp_seconds,value\n0,1\n60,1\n180,1\n"),
            "web=gap.csv",
            vec!["fix: fix this trace file, which --trace web=PATH names: it needs a header"],
        ),
        small_web_case(
            "minAvailable above 100%",
            "policies:\n",
            "  - kind: PodDisruptionBudget\n    metadata: {name: api}\n    spec: {selector: {matchLabels: {app: api}}, minAvailable: 150%}\npolicies:\n",
            vec![
                "scenario.yaml:29:63: field workloads[2].spec.minAvailable, value \"150%\": the percentage is out of range: it must be from 0% to 100%",
                "fix: write a whole number such as 1, or a percentage from 0% to 100% such as 50%",
            ],
        ),
        trace_case(
            "trace file is a folder",
            "trace: {file: traces}",
            "timestamp_seconds,value\n0,100\n60,200\n",
            vec![
                "scenario.yaml:9:19: field loads.web.trace.file, value \"traces\": ./traces is a folder, not a trace file",
                "fix: give the path of the trace's CSV file",
            ],
        ),
        trace_given_with_option(
            "--trace names a folder",
            ("folder/web.csv", "timestamp_seconds,value\n0,100\n60,200\n"),
            "web=folder",
            vec![
                "scenario.yaml: folder is a folder, not a trace file (given with --trace web=PATH)",
                "fix: give the path of the trace's CSV file",
            ],
        ),
    ]
}

/// Lists the files and folders under `dir`, with file sizes, sorted by path.
fn list_tree(dir: &Path) -> Vec<(String, u64)> {
    let mut entries = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in fs::read_dir(&folder).expect("the folder can be listed") {
            let path = entry.expect("the folder entry can be read").path();
            let metadata = fs::symlink_metadata(&path).expect("the entry has metadata");
            let size = if metadata.is_dir() {
                pending.push(path.clone());
                0
            } else {
                metadata.len()
            };
            entries.push((path.display().to_string(), size));
        }
    }
    entries.sort();
    entries
}

/// Replaces `{dir}` and `{long}` in `text`.
fn fill(text: &str, dir: &Path) -> String {
    text.replace("{dir}", &dir.display().to_string())
        .replace("{long}", overlong_name())
}

/// Runs `args` in `dir` and checks exit code 2, each expected substring of stderr, an empty
/// stdout, and that no file in `dir` was added, removed or changed in size.
fn check_rejected(case: &str, dir: &Path, args: &[OsString], expected: &[String]) {
    let before = list_tree(dir);

    let outcome = run_in(dir, args);

    assert_eq!(
        outcome.code, INPUT_ERROR,
        "{case}: exit code of autoscale-sim {args:?}; stderr:\n{}",
        outcome.stderr
    );
    for substring in expected {
        assert!(
            outcome.stderr.contains(substring.as_str()),
            "{case}: stderr of autoscale-sim {args:?} lacks {substring:?}:\n{}",
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
        "{case}: autoscale-sim {args:?} changed the files of its folder"
    );
}

/// Writes the row's files into a new folder under `temp` and checks every command of the row.
fn check_case(temp: &TempDir, index: usize, case: &Case) {
    let dir = temp.join(&format!("case-{index}"));
    for (name, contents) in &case.files {
        let path = dir.join(name);
        fs::create_dir_all(path.parent().expect("a file has a folder")).expect("folder created");
        fs::write(&path, contents).expect("input file written");
    }
    let expected: Vec<String> = case.expected.iter().map(|e| fill(e, &dir)).collect();
    let commands: Vec<Vec<OsString>> = match &case.run {
        Run::ValidateAndCompare => vec![
            vec!["validate".into(), "scenario.yaml".into()],
            vec![
                "compare".into(),
                "scenario.yaml".into(),
                "--out".into(),
                "out".into(),
            ],
        ],
        Run::ValidateOnly => vec![vec!["validate".into(), "scenario.yaml".into()]],
        Run::Args(args) => vec![args.iter().map(|a| fill(a, &dir).into()).collect()],
    };

    for args in &commands {
        check_rejected(case.name, &dir, args, &expected);
    }
    assert!(
        !dir.join("out").exists(),
        "{}: the --out folder was created",
        case.name
    );
}

#[test]
fn bad_input_table() {
    let temp = TempDir::new("bad-input");
    for (index, case) in cases().iter().enumerate() {
        check_case(&temp, index, case);
    }
}

#[test]
fn out_in_read_only_folder() {
    let temp = TempDir::new("read-only-out");
    let scenario = temp.write("scenario.yaml", SMALL_WEB_YAML);
    let locked = temp.join("locked");
    fs::create_dir(&locked).expect("folder created");
    let mut permissions = fs::metadata(&locked).expect("metadata").permissions();
    permissions.set_readonly(true);
    fs::set_permissions(&locked, permissions).expect("permissions set");
    if fs::create_dir(locked.join("probe")).is_ok() {
        // Root and some file systems ignore the permission bits; nothing can be tested here.
        eprintln!("skipped: {} is writable despite its mode", locked.display());
        return;
    }
    let out = locked.join("out");

    let args: Vec<OsString> = vec![
        "compare".into(),
        scenario.into(),
        "--out".into(),
        out.clone().into(),
    ];
    check_rejected(
        "read-only folder",
        temp.path(),
        &args,
        &[format!("cannot write to --out {}", out.display())],
    );
}

#[test]
fn oversized_pod_unplaced() {
    // Three replicas of 500 CPUs each: no instance type of the built-in catalog can run one.
    let temp = TempDir::new("oversized-pod");
    let yaml = replace_once(
        &replace_once(
            SMALL_WEB_YAML,
            "    hpa: {load: web, targetPerReplica: 50, minReplicas: 1, maxReplicas: 30}\n",
            "    replicas: 3\n",
        ),
        "cpu: 1500m",
        "cpu: 500",
    );
    temp.write("scenario.yaml", yaml);

    let outcome = run_in(
        temp.path(),
        [
            "compare",
            "scenario.yaml",
            "--format",
            "json",
            "--out",
            "out",
        ],
    );

    assert_eq!(outcome.code, Some(0), "stderr:\n{}", outcome.stderr);
    for policy in ["cluster-autoscaler", "karpenter"] {
        let warning = format!(
            "warning: scenario.yaml: workload api: no node that policy {policy} may launch can hold its pods (requests cpu 500, memory 2Gi); they will stay Pending"
        );
        assert!(
            outcome.stderr.contains(&warning),
            "stderr lacks {warning:?}:\n{}",
            outcome.stderr
        );
        let pending = format!("warning: under {policy}, 3 pods were still Pending at the end");
        assert!(
            outcome.stderr.contains(&pending),
            "stderr lacks {pending:?}:\n{}",
            outcome.stderr
        );
    }
    assert!(temp.join("out/summary.json").is_file());

    let summary = parse_json(&outcome.stdout, "stdout");
    let cluster_autoscaler = result_of(&summary, "cluster-autoscaler");
    assert_eq!(cluster_autoscaler["pods_created"], 3);
    assert_eq!(cluster_autoscaler["pods_pending_at_end"], 3);
    assert_eq!(cluster_autoscaler["pods_pending_over_an_hour_at_end"], 3);
    // Only the node group's minSize of 1: no launches for pods that no node can hold.
    assert_eq!(cluster_autoscaler["nodes_launched"], 1);
    let karpenter = result_of(&summary, "karpenter");
    assert_eq!(karpenter["pods_created"], 3);
    assert_eq!(karpenter["pods_pending_at_end"], 3);
    assert_eq!(karpenter["pods_pending_over_an_hour_at_end"], 3);
    assert_eq!(karpenter["nodes_launched"], 0);
}

#[test]
fn pending_warning_names_failed_launches() {
    // Nodes that need 20 minutes to register time out after 15 (RegistrationTimeout), so the
    // one pod stays Pending through the 40-minute run.
    let temp = TempDir::new("failed-launches");
    temp.write(
        "scenario.yaml",
        "name: failed-launches\nseed: 1\nduration: 40m\ncloud:\n  zones: [us-east-1a]\n  launchPhases:\n    running: {distribution: fixed, mean: 10s}\n    registered: {distribution: fixed, mean: 20m}\nworkloads:\n  - kind: Deployment\n    metadata: {name: api}\n    replicas: 1\n    template:\n      spec:\n        containers:\n          - resources: {requests: {cpu: 100m, memory: 100Mi}}\npolicies:\n  - name: cluster-autoscaler\n    clusterAutoscaler:\n      nodeGroups:\n        - {name: od, instanceType: m5.large, minSize: 0, maxSize: 3}\n",
    );

    let outcome = run_in(temp.path(), ["compare", "scenario.yaml"]);

    assert_eq!(outcome.code, Some(0), "stderr:\n{}", outcome.stderr);
    let warning = "warning: under cluster-autoscaler, 1 pod was still Pending at the end (0 of them for over an hour); launches failed (2 RegistrationTimeout), see launch-failed in the decision log; also check the decision log for limits that held scale-up back (no-scale-up, scale-up-limited)";
    assert!(
        outcome.stderr.contains(warning),
        "stderr lacks {warning:?}:\n{}",
        outcome.stderr
    );
}

#[test]
fn other_policy_warning_left_out() {
    // Pods of 6 CPUs: no m5.xlarge of Cluster Autoscaler's node group can hold one, but
    // Karpenter's larger c and m types can.
    let temp = TempDir::new("other-policy-warning");
    temp.write(
        "scenario.yaml",
        replace_once(SMALL_WEB_YAML, "cpu: 1500m", "cpu: 6"),
    );
    let warning = "warning: scenario.yaml: workload api: no node that policy cluster-autoscaler may launch can hold its pods";

    let validated = run_in(temp.path(), ["validate", "scenario.yaml"]);
    let karpenter_only = run_in(
        temp.path(),
        ["run", "scenario.yaml", "--policy", "karpenter", "--quiet"],
    );

    assert_eq!(validated.code, Some(0), "stderr:\n{}", validated.stderr);
    assert!(
        validated.stderr.contains(warning),
        "validate stderr lacks {warning:?}:\n{}",
        validated.stderr
    );
    assert_eq!(
        karpenter_only.code,
        Some(0),
        "stderr:\n{}",
        karpenter_only.stderr
    );
    assert!(
        !karpenter_only.stderr.contains("cluster-autoscaler"),
        "run --policy karpenter warns about cluster-autoscaler:\n{}",
        karpenter_only.stderr
    );
}

/// Checks one row on its own, outside the table.
fn check_known_gap(case: Case) {
    let temp = TempDir::new("bad-input-gap");
    check_case(&temp, 0, &case);
}

/// Returns the line and column, counted from 1, of the first occurrence of `needle` in `text`.
fn line_and_column(text: &str, needle: &str) -> (usize, usize) {
    let offset = text.find(needle).expect("the needle is in the text");
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line = text[..offset].matches('\n').count() + 1;
    (line, offset - line_start + 1)
}

/// Validates [`SMALL_WEB_YAML`] with its Cluster Autoscaler flags replaced by `flags`, expects
/// success, and checks for a warning at the flag that starts with `flag`, ending in `message`.
fn check_flag_warning(label: &str, flags: &str, flag: &str, message: &str) {
    let temp = TempDir::new(label);
    let yaml = replace_once(
        SMALL_WEB_YAML,
        r#"flags: ["--scale-down-unneeded-time=10m"]"#,
        flags,
    );
    temp.write("scenario.yaml", yaml.clone());
    let outcome = run_in(temp.path(), ["validate", "scenario.yaml"]);
    assert_eq!(outcome.code, Some(0), "stderr:\n{}", outcome.stderr);

    let (line, column) = line_and_column(&yaml, &format!("\"{flag}"));
    let expected = format!(
        "warning: scenario.yaml:{line}:{column}: field policies[0].clusterAutoscaler.flags[1]: {message}"
    );
    assert!(
        outcome.stderr.contains(&expected),
        "stderr lacks {expected:?}:\n{}",
        outcome.stderr
    );
}

#[test]
fn ca_no_effect_flag_location() {
    // A flag that changes nothing in the model loads, with a warning that names where it is.
    check_flag_warning(
        "no-effect-flag",
        r#"flags: ["--scale-down-unneeded-time=10m", "--scale-down-simulation-timeout=30s"]"#,
        "--scale-down-simulation-timeout",
        "--scale-down-simulation-timeout=30s is accepted and changes nothing here: the model's removal simulation takes no simulated time",
    );
}

#[test]
fn ca_repeated_flag_warns() {
    // A flag given twice loads with the last value, and a warning names both places.
    check_flag_warning(
        "repeated-flag",
        r#"flags: ["--scale-down-unneeded-time=10m", "--scale-down-unneeded-time=20m"]"#,
        "--scale-down-unneeded-time=20m",
        "--scale-down-unneeded-time is also given at policies[0].clusterAutoscaler.flags[0]; the last value applies, as on the real command line",
    );
}

#[test]
fn nodepool_zero_cpu_limit() {
    // Karpenter accepts a zero limit, which operators set to stop a NodePool from launching.
    // So the loader warns and the run goes on with the pods Pending. A negative limit is an
    // error.
    let temp = TempDir::new("zero-limit");
    let yaml = replace_once(
        SMALL_WEB_YAML,
        "            disruption:",
        "            limits: {cpu: 0}\n            disruption:",
    );
    temp.write("scenario.yaml", yaml.clone());
    let outcome = run_in(temp.path(), ["validate", "scenario.yaml"]);
    assert_eq!(outcome.code, Some(0), "stderr:\n{}", outcome.stderr);
    let (line, limit_column) = line_and_column(&yaml, "limits: {cpu: 0}");
    let column = limit_column + "limits: {cpu: ".len();
    let expected = format!(
        "warning: scenario.yaml:{line}:{column}: field policies[1].karpenter.nodePools[0].spec.limits.cpu: NodePool default launches no node with a limit of 0"
    );
    assert!(
        outcome.stderr.contains(&expected),
        "stderr lacks {expected:?}:\n{}",
        outcome.stderr
    );

    temp.write(
        "scenario.yaml",
        replace_once(&yaml, "{cpu: 0}", "{cpu: -4}"),
    );
    let outcome = run_in(temp.path(), ["validate", "scenario.yaml"]);
    assert_eq!(outcome.code, INPUT_ERROR, "stderr:\n{}", outcome.stderr);
    assert!(
        outcome.stderr.contains(
            "scenario.yaml:48:27: field policies[1].karpenter.nodePools[0].spec.limits.cpu, value \"-4\": a limit is zero or more"
        ),
        "{}",
        outcome.stderr
    );
}

#[test]
fn static_count_absurd() {
    let mut case = scenario_case(
        "static count 4e9",
        replace_once(
            &static_m5_large_yaml("1h"),
            "count: 1}",
            "count: 4000000000}",
        ),
        vec!["field policies[0].static.count, value \"4000000000\""],
    );
    case.run = Run::ValidateOnly;
    check_known_gap(case);
}

#[test]
fn replicas_absurd() {
    let mut case = scenario_case(
        "replicas 4e9",
        replace_once(
            &static_m5_large_yaml("1h"),
            "replicas: 1\n",
            "replicas: 4000000000\n",
        ),
        vec!["field workloads[0].replicas, value \"4000000000\""],
    );
    case.run = Run::ValidateOnly;
    check_known_gap(case);
}

#[test]
fn scan_interval_zero() {
    let mut case = small_web_case(
        "scan interval 0s",
        "\"--scale-down-unneeded-time=10m\"",
        "\"--scan-interval=0s\"",
        vec![
            "scenario.yaml:30:15: field policies[0].clusterAutoscaler.flags[0], value \"--scan-interval=0s\"",
        ],
    );
    case.run = Run::ValidateOnly;
    check_known_gap(case);
}

#[test]
fn ca_zero_scale_down_parallelism_warns() {
    // The real program accepts 0, which turns scale-down off, so the loader warns about it.
    check_flag_warning(
        "zero-parallelism",
        r#"flags: ["--scale-down-unneeded-time=10m", "--max-scale-down-parallelism=0"]"#,
        "--max-scale-down-parallelism=0",
        "--max-scale-down-parallelism=0 turns scale-down off: no node is ever found unneeded or deleted, as in the real program; write a positive number to allow scale-down",
    );
}

#[test]
fn ca_nodes_flag_replacing_sizes_warns() {
    // --nodes sets the group's bounds, as on the real command line, and the warning names
    // the sizes it replaced.
    check_flag_warning(
        "nodes-flag",
        r#"flags: ["--scale-down-unneeded-time=10m", "--nodes=1:4:general"]"#,
        "--nodes=1:4:general",
        "--nodes=1:4:general replaces minSize 1 and maxSize 10 of node group general, as the real program takes a group's bounds from --nodes",
    );
}

#[test]
fn unused_load_and_pdb_warn() {
    // A load no HPA reads and a budget over no workload's pods load, each with a warning.
    let temp = TempDir::new("unused");
    let yaml = replace_once(
        &replace_once(
            SMALL_WEB_YAML,
            "\nloads:\n",
            "\nloads:\n  spare:\n    diurnal: {base: 1, peak: 2}\n",
        ),
        "  - kind: DaemonSet\n",
        "  - kind: PodDisruptionBudget\n    metadata: {name: db}\n    spec: {minAvailable: 1, selector: {matchLabels: {app: db}}}\n  - kind: DaemonSet\n",
    );
    temp.write("scenario.yaml", yaml);

    let outcome = run_in(temp.path(), ["validate", "scenario.yaml"]);

    assert_eq!(outcome.code, Some(0), "stderr:\n{}", outcome.stderr);
    assert!(
        outcome.stderr.contains(
            "warning: scenario.yaml: field loads.spare: no HPA or Job stream reads this load, so it changes nothing"
        ),
        "{}",
        outcome.stderr
    );
    assert!(
        outcome.stderr.contains(
            "warning: scenario.yaml: PodDisruptionBudget db: its selector matches the pods of no Deployment, StatefulSet or Job in its namespace, so it limits nothing"
        ),
        "{}",
        outcome.stderr
    );
}

#[test]
fn ca_repeated_expander_warns() {
    check_flag_warning(
        "repeated-expander",
        r#"flags: ["--scale-down-unneeded-time=10m", "--expander=least-waste,least-waste"]"#,
        "--expander=least-waste,least-waste",
        "--expander=least-waste,least-waste names an expander twice; the second one changes nothing",
    );
}
