//! Cluster Autoscaler command-line flags, as written in its Deployment's `args`.

use autoscale_sim_cloud::GIB;
use autoscale_sim_engine::{SimDuration, parse_duration};
use autoscale_sim_policy::cluster_autoscaler::PriorityConfig;
use autoscale_sim_policy::{ClusterAutoscalerConfig, Expander};
use serde_saphyr::Spanned;
use std::collections::BTreeMap;

/// Flags that change the model, and the ones accepted but not modelled (listed so that a pasted
/// argument list loads).
const IGNORED_FLAGS: [&str; 8] = [
    "--cloud-provider",
    "--v",
    "--logtostderr",
    "--stderrthreshold",
    "--namespace",
    "--node-group-auto-discovery",
    "--aws-use-static-instance-list",
    "--cluster-name",
];

/// Flags of Cluster Autoscaler 1.36 that change nothing in this model, each with the reason.
/// They are accepted with any value, and the loader warns about each one a scenario sets.
const NO_EFFECT_FLAGS: [(&str, &str); 22] = [
    (
        "scale-down-non-empty-candidates-count",
        "Cluster Autoscaler 1.36 itself parses it and reads it nowhere",
    ),
    (
        "scale-down-candidates-pool-ratio",
        "Cluster Autoscaler 1.36 itself parses it and reads it nowhere",
    ),
    (
        "scale-down-candidates-pool-min-count",
        "Cluster Autoscaler 1.36 itself parses it and reads it nowhere",
    ),
    (
        "scale-down-simulation-timeout",
        "the model's removal simulation takes no simulated time",
    ),
    (
        "max-binpacking-time",
        "the model's estimator takes no simulated time",
    ),
    (
        "max-nodegroup-binpacking-duration",
        "the model's estimator takes no simulated time",
    ),
    (
        "max-bulk-soft-taint-count",
        "the soft taint on unneeded nodes is not modelled",
    ),
    (
        "max-bulk-soft-taint-time",
        "the soft taint on unneeded nodes is not modelled",
    ),
    (
        "node-info-cache-expire-time",
        "templates are cached without expiry, as with the default",
    ),
    (
        "debugging-snapshot-enabled",
        "it only adds a debugging endpoint",
    ),
    (
        "fastpath-binpacking-enabled",
        "it changes the estimator's speed, not its result",
    ),
    (
        "parallel-scale-up",
        "launches of several groups happen at once in the model anyway",
    ),
    (
        "bypassed-scheduler-names",
        "every simulated pod uses the default scheduler",
    ),
    (
        "cordon-node-before-terminating",
        "the model always cordons a node it removes; the taint alone has the same effect on scheduling",
    ),
    (
        "daemonset-eviction-for-empty-nodes",
        "DaemonSet pods are node overhead here, not evicted pods",
    ),
    (
        "daemonset-eviction-for-occupied-nodes",
        "DaemonSet pods are node overhead here, not evicted pods",
    ),
    (
        "ignore-mirror-pods-utilization",
        "the model has no mirror (static) pods",
    ),
    (
        "skip-nodes-with-custom-controller-pods",
        "every simulated pod has a built-in controller or none",
    ),
    (
        "max-node-startup-time",
        "simulated nodes become Ready a fixed time after they register (cloud.launchPhases)",
    ),
    (
        "force-delete-unregistered-nodes",
        "the world terminates unregistered nodes after --max-node-provision-time whatever the group's minimum",
    ),
    (
        "node-deletion-batcher-interval",
        "deletions are not batched; each node is terminated on its own",
    ),
    (
        "max-graceful-termination-sec",
        "grace periods are not capped; pods get their own terminationGracePeriodSeconds",
    ),
];

/// Returns why a Cluster Autoscaler flag changes nothing in this model, or `None` when it is
/// modelled, ignored as cosmetic, or not a flag.
pub fn no_effect_reason(flag: &str) -> Option<&'static str> {
    let name = flag.split_once('=').map_or(flag, |(name, _)| name);
    let bare = name.strip_prefix("--")?;
    NO_EFFECT_FLAGS
        .iter()
        .find(|(known, _)| *known == bare)
        .map(|(_, why)| *why)
}

/// A `--nodes=MIN:MAX:NAME` flag: sizes for the node group `NAME`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodesFlag {
    /// Minimum size.
    pub min: u32,
    /// Maximum size.
    pub max: u32,
    /// Node group name.
    pub name: String,
}

/// Applies one flag to `config`; `--nodes` flags are returned for the caller to match with node
/// groups. Returns the problem and its fix on error.
pub fn apply_flag(
    flag: &str,
    config: &mut ClusterAutoscalerConfig,
) -> Result<Option<NodesFlag>, (String, String)> {
    let Some((name, value)) = flag.split_once('=') else {
        if flag.starts_with("--")
            && let Some((name, value)) = flag.split_once(' ')
        {
            // A list item is one argument, so the value cannot follow after a space as it
            // can on a command line.
            return Err((
                format!("{flag:?} has a space where = belongs"),
                format!("write {name}={}", value.trim()),
            ));
        }
        if let Some(name) = flag.strip_prefix("--") {
            if NO_EFFECT_FLAGS.iter().any(|(known, _)| *known == name) {
                return Ok(None);
            }
            return set_bool(name, "true", config).map(|_| None);
        }
        return Err((
            format!("{flag:?} is not a flag"),
            "write flags as --name=value, such as --scale-down-unneeded-time=10m".into(),
        ));
    };
    let Some(bare) = name.strip_prefix("--") else {
        return Err((
            format!("{flag:?} is not a flag"),
            "write flags as --name=value, such as --scale-down-unneeded-time=10m".into(),
        ));
    };

    let duration = |value: &str| {
        parse_duration(value).map_err(|e| {
            (
                e.to_string(),
                format!("write {name}=<duration>, such as {name}=10m"),
            )
        })
    };
    let count = |value: &str| {
        value.parse::<u32>().map_err(|_| {
            (
                format!("{value:?} is not a whole number"),
                format!("write {name}=<whole number>"),
            )
        })
    };
    let set_duration = |field: &mut SimDuration| -> Result<(), (String, String)> {
        *field = duration(value)?;
        Ok(())
    };
    let ratio = |value: &str| {
        value
            .parse::<f64>()
            .ok()
            .filter(|r| r.is_finite() && *r >= 0.0)
            .ok_or_else(|| {
                (
                    format!("{value:?} is not a number of 0 or more"),
                    format!("write {name}=<ratio>, such as {name}=0.05"),
                )
            })
    };
    match bare {
        "scan-interval" => {
            set_duration(&mut config.scan_interval)?;
            if config.scan_interval == SimDuration::ZERO {
                return Err((
                    "a scan interval of 0 would loop for ever".into(),
                    "write --scan-interval=10s or another positive duration".into(),
                ));
            }
        }
        "scale-down-unneeded-time" => set_duration(&mut config.scale_down_unneeded_time)?,
        "scale-down-unready-time" => set_duration(&mut config.scale_down_unready_time)?,
        "scale-down-delay-after-add" => set_duration(&mut config.scale_down_delay_after_add)?,
        "scale-down-delay-after-delete" => set_duration(&mut config.scale_down_delay_after_delete)?,
        "scale-down-delay-after-failure" => {
            set_duration(&mut config.scale_down_delay_after_failure)?
        }
        "new-pod-scale-up-delay" => set_duration(&mut config.new_pod_scale_up_delay)?,
        "unremovable-node-recheck-timeout" => {
            set_duration(&mut config.unremovable_node_recheck_timeout)?
        }
        "max-node-provision-time" => set_duration(&mut config.max_node_provision_time)?,
        "max-pod-eviction-time" => set_duration(&mut config.max_pod_eviction_time)?,
        "initial-node-group-backoff-duration" => {
            set_duration(&mut config.initial_node_group_backoff_duration)?
        }
        "max-node-group-backoff-duration" => {
            set_duration(&mut config.max_node_group_backoff_duration)?
        }
        "node-group-backoff-reset-timeout" => {
            set_duration(&mut config.node_group_backoff_reset_timeout)?
        }
        "max-scale-down-parallelism" => config.max_scale_down_parallelism = count(value)?,
        "max-drain-parallelism" => config.max_drain_parallelism = count(value)?,
        "max-nodes-total" => config.max_nodes_total = count(value)?,
        "max-nodes-per-scaleup" => config.max_nodes_per_scaleup = count(value)?,
        "scale-down-utilization-threshold" => {
            let threshold: f64 = value
                .parse()
                .ok()
                .filter(|t: &f64| (0.0..=1.0).contains(t))
                .ok_or_else(|| {
                    (
                        format!("{value:?} is not a number from 0 to 1"),
                        "write --scale-down-utilization-threshold=0.5".to_string(),
                    )
                })?;
            config.scale_down_utilization_threshold = threshold;
        }
        "expander" => {
            let mut chain = Vec::new();
            for part in value.split(',') {
                let expander = Expander::parse(part).ok_or_else(|| {
                    let known = if part == "grpc" { " is not modelled" } else { " is not an expander" };
                    (format!("{part:?}{known}"), "use random, most-pods, least-nodes, least-waste, price or priority, alone or as a comma-separated chain".to_string())
                })?;
                chain.push(expander);
            }
            config.expanders = chain;
        }
        "cores-total" => {
            let (min, max) = parse_min_max(name, value)?;
            config.resource_limits.cores = (min, max);
        }
        "memory-total" => {
            let (min, max) = parse_min_max(name, value)?;
            let bytes = |gib: i64| {
                gib.checked_mul(GIB).ok_or_else(|| {
                    (
                        format!("{gib} GiB is too large"),
                        format!("write {name}=<min>:<max> in GiB, such as {name}=0:6400000"),
                    )
                })
            };
            config.resource_limits.memory_bytes = (bytes(min)?, bytes(max)?);
        }
        "memory-difference-ratio" => config.balancing.memory_difference_ratio = ratio(value)?,
        "max-allocatable-difference-ratio" => {
            config.balancing.max_allocatable_difference_ratio = ratio(value)?
        }
        "max-free-difference-ratio" => config.balancing.max_free_difference_ratio = ratio(value)?,
        "balancing-ignore-label" | "balancing-label" => {
            if value.is_empty() {
                return Err((
                    format!("{name} needs a label key"),
                    format!("write {name}=<label key>, such as {name}=example.com/team"),
                ));
            }
            if bare == "balancing-label" {
                config.balancing.labels.push(value.to_string());
            } else {
                config.balancing.ignored_labels.insert(value.to_string());
            }
            if !config.balancing.labels.is_empty() && !config.balancing.ignored_labels.is_empty() {
                return Err((
                    "--balancing-label cannot be combined with --balancing-ignore-label".into(),
                    "keep --balancing-label to compare groups on those labels only, or --balancing-ignore-label to extend the built-in comparison".into(),
                ));
            }
        }
        "nodes" => return parse_nodes(value).map(Some),
        "blocking-system-pod-distruption-timeout" => {
            set_duration(&mut config.blocking_system_pod_disruption_timeout)?
        }
        "min-replica-count" => config.min_replica_count = count(value)?,
        "ok-total-unready-count" => config.ok_total_unready_count = count(value)?,
        "max-total-unready-percentage" => {
            config.max_total_unready_percentage = value
                .parse::<f64>()
                .ok()
                .filter(|p| p.is_finite() && (0.0..=100.0).contains(p))
                .ok_or_else(|| {
                    (
                        format!("{value:?} is not a number from 0 to 100"),
                        format!("write {name}=45"),
                    )
                })?;
        }
        "expendable-pods-priority-cutoff" => {
            config.expendable_pods_priority_cutoff = value.parse::<i32>().map_err(|_| {
                (
                    format!("{value:?} is not a whole number"),
                    format!("write {name}=-10, a pod priority below which pods are expendable"),
                )
            })?;
        }
        "estimator" if value == "binpacking" => {}
        "estimator" => {
            return Err((
                format!("{value:?} is not an estimator of Cluster Autoscaler 1.36"),
                format!("write {name}=binpacking, the only one"),
            ));
        }
        "scale-down-delay-type-local"
            if matches!(value, "false" | "0" | "f" | "F" | "FALSE" | "False") => {}
        "scale-down-delay-type-local" => {
            return Err((
                "per-group scale-down delays are not modelled".into(),
                format!("remove {name}, or write {name}=false"),
            ));
        }
        "max-empty-bulk-delete" => {
            return Err((
                "--max-empty-bulk-delete was removed in Cluster Autoscaler 1.33, so 1.36 does not start with it".into(),
                "remove it; --max-scale-down-parallelism sets the same limit".into(),
            ));
        }
        "grpc-expander-url" | "grpc-expander-cert" => {
            return Err((
                "the grpc expander is not modelled".into(),
                format!("remove {name}, and use another --expander"),
            ));
        }
        _ if NO_EFFECT_FLAGS.iter().any(|(known, _)| *known == bare) => {}
        "scale-down-enabled"
        | "frequent-loops-enabled"
        | "skip-nodes-with-system-pods"
        | "skip-nodes-with-local-storage"
        | "scale-down-unready-enabled"
        | "ignore-daemonsets-utilization"
        | "balance-similar-node-groups"
        | "enforce-node-group-min-size" => set_bool(bare, value, config)?,
        _ if IGNORED_FLAGS.contains(&name) => {}
        _ => {
            return Err((
                format!("flag --{bare} is unknown or not modelled yet"),
                "remove it, or use one of --scan-interval, --expander, --scale-down-*, --max-*, --cores-total, --memory-total, --balance-similar-node-groups, --balancing-label, --balancing-ignore-label, --memory-difference-ratio, --enforce-node-group-min-size, --new-pod-scale-up-delay, --ignore-daemonsets-utilization, --unremovable-node-recheck-timeout, --nodes, --skip-nodes-with-system-pods, --skip-nodes-with-local-storage, --min-replica-count, --expendable-pods-priority-cutoff, --frequent-loops-enabled, or another flag listed in docs/scenario-reference.md".into(),
            ));
        }
    }
    Ok(None)
}

fn set_bool(
    name: &str,
    value: &str,
    config: &mut ClusterAutoscalerConfig,
) -> Result<(), (String, String)> {
    // The spellings Go's flag package accepts (`strconv.ParseBool`).
    let parsed = match value {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => true,
        "0" | "f" | "F" | "false" | "FALSE" | "False" => false,
        _ => {
            return Err((
                format!("{value:?} is not true or false"),
                format!("write --{name}=true or --{name}=false"),
            ));
        }
    };
    match name {
        "scale-down-enabled" => config.scale_down_enabled = parsed,
        "scale-down-unready-enabled" => config.scale_down_unready_enabled = parsed,
        "frequent-loops-enabled" => config.frequent_loops_enabled = parsed,
        "skip-nodes-with-system-pods" => config.skip_nodes_with_system_pods = parsed,
        "skip-nodes-with-local-storage" => config.skip_nodes_with_local_storage = parsed,
        "ignore-daemonsets-utilization" => config.ignore_daemonsets_utilization = parsed,
        "balance-similar-node-groups" => config.balancing.enabled = parsed,
        "enforce-node-group-min-size" => config.enforce_node_group_min_size = parsed,
        _ => {
            return Err((
                format!("flag --{name} needs a value"),
                format!("write --{name}=<value>"),
            ));
        }
    }
    Ok(())
}

/// Parses a `MIN:MAX` value of `--cores-total` or `--memory-total` (`parseMinMaxFlag` in
/// `config/flags/flags.go`): two whole numbers with 0 ≤ MIN ≤ MAX.
fn parse_min_max(name: &str, value: &str) -> Result<(i64, i64), (String, String)> {
    let fix = format!("write {name}=<min>:<max>, such as {name}=0:320000");
    let Some((min, max)) = value.split_once(':') else {
        return Err((format!("{value:?} is not MIN:MAX"), fix));
    };
    let (Ok(min), Ok(max)) = (min.parse::<i64>(), max.parse::<i64>()) else {
        return Err((format!("{value:?} is not two whole numbers"), fix));
    };
    if min < 0 || max < min {
        return Err((format!("{value:?} needs 0 ≤ MIN ≤ MAX"), fix));
    }
    Ok((min, max))
}

fn parse_nodes(value: &str) -> Result<NodesFlag, (String, String)> {
    let fix = "write --nodes=MIN:MAX:NAME, such as --nodes=1:10:calc, where NAME is a node group of this policy".to_string();
    let parts: Vec<&str> = value.splitn(3, ':').collect();
    let [min, max, name] = parts.as_slice() else {
        return Err((format!("{value:?} is not MIN:MAX:NAME"), fix));
    };
    let (Ok(min), Ok(max)) = (min.parse::<u32>(), max.parse::<u32>()) else {
        return Err((
            format!("{value:?} does not start with two whole numbers"),
            fix,
        ));
    };
    Ok(NodesFlag {
        min,
        max,
        name: name.to_string(),
    })
}

/// Name of the priority expander's ConfigMap (`PriorityConfigMapName`, `expander/priority`).
pub const PRIORITY_CONFIG_MAP: &str = "cluster-autoscaler-priority-expander";

/// Returns the text of `line` (from 1) of `text` from `column` (from 1) on, trimmed.
fn entry_at(text: &str, line: u64, column: u64) -> Option<String> {
    let content = text
        .lines()
        .nth(usize::try_from(line.checked_sub(1)?).ok()?)?;
    let skip = usize::try_from(column.checked_sub(1)?).ok()?;
    let entry: String = content.chars().skip(skip).collect();
    Some(entry.trim().to_string())
}

/// A `priorities` text of the priority expander's ConfigMap that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrioritiesError {
    /// The problem, as a sentence.
    pub message: String,
    /// The correction to suggest.
    pub fix: String,
    /// Line and column within the text (both from 1) of the offending entry, when known.
    pub location: Option<(u64, u64)>,
    /// The offending entry, when known.
    pub value: Option<String>,
}

/// Parses the `priorities` key of the priority expander's ConfigMap: YAML that maps integer
/// priorities to lists of regular expressions over node group names.
///
/// Cluster Autoscaler ignores a ConfigMap it cannot parse, with a warning event, and lets
/// every option through. A scenario is checked before it runs, so the mistake is an error here.
pub fn parse_priorities(text: &str) -> Result<PriorityConfig, PrioritiesError> {
    let fix = "write integer priorities, each with a list of regular expressions, such as \"10: ['.*spot.*']\"";
    if text.trim().is_empty() {
        return Err(PrioritiesError {
            message: "the priorities are empty".into(),
            fix: fix.into(),
            location: None,
            value: None,
        });
    }
    let parsed: BTreeMap<i64, Vec<Spanned<String>>> =
        serde_saphyr::from_str(text).map_err(|e| {
            // The parser's first line carries its message. The rest is an excerpt with positions
            // in the embedded text, so it is dropped and the caller reports the file's position.
            let rendered = e.to_string();
            let first = rendered.lines().next().unwrap_or("invalid YAML");
            let reason = crate::strip_position_prefix(first);
            let location = e
                .location()
                .map(|l| (l.line(), l.column()))
                .filter(|(line, _)| *line > 0);
            // At a key, the value is the key rather than the whole entry.
            let value = location
                .and_then(|(line, column)| entry_at(text, line, column))
                .map(|entry| match entry.split_once(':') {
                    Some((key, _)) => key.trim().to_string(),
                    None => entry,
                })
                .filter(|value| !value.is_empty());
            let (message, fix) = if let Some(key) = reason.strip_prefix("duplicate mapping key: ") {
                let key = key.split(',').next().unwrap_or(key).trim();
                (
                    format!("the priority {key} appears twice"),
                    "list all of its expressions under one key".to_string(),
                )
            } else if reason.contains("tab") {
                (
                    format!("the priorities are not valid YAML: {reason}"),
                    "indent with spaces, because YAML does not allow tabs in indentation"
                        .to_string(),
                )
            } else if reason.contains("invalid i64") || reason.contains("invalid digit") {
                // The parser names the Rust type; a priority is a whole number.
                (
                    "a priority is not a whole number".to_string(),
                    fix.to_string(),
                )
            } else {
                (
                    format!(
                        "the priorities are not a map of integers to lists of strings: {reason}"
                    ),
                    fix.to_string(),
                )
            };
            PrioritiesError {
                message,
                fix,
                location,
                value,
            }
        })?;
    let patterns: BTreeMap<i64, Vec<String>> = parsed
        .iter()
        .map(|(priority, list)| (*priority, list.iter().map(|p| p.value.clone()).collect()))
        .collect();
    PriorityConfig::new(&patterns).map_err(|e| {
        let location = parsed
            .get(&e.priority)
            .and_then(|list| list.iter().find(|p| p.value == e.pattern))
            .map(|p| (p.referenced.line(), p.referenced.column()))
            .filter(|(line, _)| *line > 0);
        // The regex crate draws the expression with a caret above its reason. The error's value
        // and location already show the expression, so only the reason is kept.
        let reason = e
            .message
            .lines()
            .last()
            .map(|line| line.trim().trim_start_matches("error: ").to_string())
            .unwrap_or_default();
        PrioritiesError {
            message: format!(
                "priority {}: {:?} is not a valid regular expression: {reason}",
                e.priority, e.pattern
            ),
            fix: "write the expression in Go (RE2) syntax, escaping dots as \\.".into(),
            location,
            value: Some(e.pattern),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_set_config() {
        let mut config = ClusterAutoscalerConfig::default();
        apply_flag("--scale-down-unneeded-time=5m", &mut config).unwrap();
        apply_flag("--expander=most-pods,least-waste", &mut config).unwrap();
        apply_flag("--scale-down-utilization-threshold=0.7", &mut config).unwrap();
        apply_flag("--ignore-daemonsets-utilization", &mut config).unwrap();
        assert_eq!(config.scale_down_unneeded_time, SimDuration::from_mins(5));
        assert_eq!(
            config.expanders,
            vec![Expander::MostPods, Expander::LeastWaste]
        );
        assert_eq!(config.scale_down_utilization_threshold, 0.7);
        assert!(config.ignore_daemonsets_utilization);
        assert_eq!(
            apply_flag("--nodes=1:10:calc", &mut config).unwrap(),
            Some(NodesFlag {
                min: 1,
                max: 10,
                name: "calc".into()
            })
        );
    }

    #[test]
    fn bad_flags_explain() {
        let mut config = ClusterAutoscalerConfig::default();
        assert!(
            apply_flag("--expander=grpc", &mut config)
                .unwrap_err()
                .0
                .contains("not modelled")
        );
        assert!(apply_flag("--expander=cheapest", &mut config).is_err());
        assert!(apply_flag("--scale-down-unneeded-time=ten", &mut config).is_err());
        assert!(apply_flag("--balance-similar-node-groups=yes", &mut config).is_err());
        assert!(apply_flag("scan-interval=10s", &mut config).is_err());
        assert!(apply_flag("--nodes=1:calc", &mut config).is_err());
        assert!(apply_flag("--cores-total=8", &mut config).is_err());
        assert!(apply_flag("--cores-total=10:8", &mut config).is_err());
        assert!(apply_flag("--cores-total=-1:8", &mut config).is_err());
        assert!(apply_flag("--memory-total=0:lots", &mut config).is_err());
        assert!(apply_flag("--memory-difference-ratio=-0.1", &mut config).is_err());
        assert!(apply_flag("--balancing-label=", &mut config).is_err());
    }

    #[test]
    fn new_flags_set_config() {
        let mut config = ClusterAutoscalerConfig::default();
        for flag in [
            "--expander=priority,price,least-waste",
            "--balance-similar-node-groups",
            "--enforce-node-group-min-size=true",
            "--cores-total=2:48",
            "--memory-total=0:128",
            "--memory-difference-ratio=0.02",
            "--max-allocatable-difference-ratio=0.1",
            "--max-free-difference-ratio=0.2",
            "--balancing-ignore-label=example.com/team",
            "--max-node-provision-time=5m",
        ] {
            apply_flag(flag, &mut config).unwrap();
        }

        assert_eq!(
            config.expanders,
            [Expander::Priority, Expander::Price, Expander::LeastWaste]
        );
        assert!(config.balancing.enabled);
        assert!(config.enforce_node_group_min_size);
        assert_eq!(config.resource_limits.cores, (2, 48));
        assert_eq!(config.resource_limits.memory_bytes, (0, 128 * GIB));
        assert_eq!(config.balancing.memory_difference_ratio, 0.02);
        assert_eq!(config.balancing.max_allocatable_difference_ratio, 0.1);
        assert_eq!(config.balancing.max_free_difference_ratio, 0.2);
        assert!(config.balancing.ignored_labels.contains("example.com/team"));
        assert_eq!(config.max_node_provision_time, SimDuration::from_mins(5));
    }

    #[test]
    fn balancing_label_excludes_ignore_label() {
        let mut config = ClusterAutoscalerConfig::default();
        apply_flag("--balancing-ignore-label=a", &mut config).unwrap();

        let error = apply_flag("--balancing-label=b", &mut config).unwrap_err();

        assert!(error.0.contains("cannot be combined"));
    }

    #[test]
    fn drain_and_health_flags_set_config() {
        let mut config = ClusterAutoscalerConfig::default();
        for flag in [
            "--skip-nodes-with-system-pods=false",
            "--skip-nodes-with-local-storage=false",
            "--frequent-loops-enabled=false",
            "--scale-down-unready-enabled=false",
            "--scale-down-unready-time=30m",
            "--blocking-system-pod-distruption-timeout=2h",
            "--min-replica-count=2",
            "--expendable-pods-priority-cutoff=-100",
            "--ok-total-unready-count=5",
            "--max-total-unready-percentage=60",
            "--estimator=binpacking",
            "--scale-down-delay-type-local=false",
        ] {
            apply_flag(flag, &mut config).unwrap_or_else(|e| panic!("{flag}: {e:?}"));
            assert_eq!(no_effect_reason(flag), None, "{flag}");
        }

        assert!(!config.skip_nodes_with_system_pods);
        assert!(!config.skip_nodes_with_local_storage);
        assert!(!config.frequent_loops_enabled);
        assert!(!config.scale_down_unready_enabled);
        assert_eq!(config.scale_down_unready_time, SimDuration::from_mins(30));
        assert_eq!(
            config.blocking_system_pod_disruption_timeout,
            SimDuration::from_hours(2)
        );
        assert_eq!(config.min_replica_count, 2);
        assert_eq!(config.expendable_pods_priority_cutoff, -100);
        assert_eq!(config.ok_total_unready_count, 5);
        assert_eq!(config.max_total_unready_percentage, 60.0);
    }

    #[test]
    fn no_effect_flags_load_with_their_reason() {
        let mut config = ClusterAutoscalerConfig::default();
        let before = format!("{config:?}");
        for flag in [
            "--scale-down-non-empty-candidates-count=30",
            "--scale-down-simulation-timeout=30s",
            "--max-graceful-termination-sec=600",
            "--cordon-node-before-terminating",
        ] {
            apply_flag(flag, &mut config).unwrap_or_else(|e| panic!("{flag}: {e:?}"));
            assert!(no_effect_reason(flag).is_some(), "{flag}");
        }
        assert_eq!(format!("{config:?}"), before);
        assert_eq!(
            no_effect_reason("--scale-down-candidates-pool-ratio=0.1"),
            Some("Cluster Autoscaler 1.36 itself parses it and reads it nowhere")
        );
    }

    #[test]
    fn flag_with_space_suggests_equals() {
        let mut config = ClusterAutoscalerConfig::default();
        let (message, fix) = apply_flag("--expander priority", &mut config).unwrap_err();
        assert_eq!(
            message,
            "\"--expander priority\" has a space where = belongs"
        );
        assert_eq!(fix, "write --expander=priority");
    }

    #[test]
    fn removed_and_unmodelled_flags_rejected() {
        let mut config = ClusterAutoscalerConfig::default();
        let message = |flag: &str, config: &mut ClusterAutoscalerConfig| {
            apply_flag(flag, config).unwrap_err().0
        };
        assert!(
            message("--max-empty-bulk-delete=10", &mut config)
                .contains("removed in Cluster Autoscaler 1.33")
        );
        assert_eq!(
            message("--grpc-expander-url=localhost:7000", &mut config),
            "the grpc expander is not modelled"
        );
        assert!(message("--estimator=oldbinpacking", &mut config).contains("not an estimator"));
        assert_eq!(
            message("--scale-down-delay-type-local=true", &mut config),
            "per-group scale-down delays are not modelled"
        );
        assert!(
            message("--max-total-unready-percentage=120", &mut config).contains("from 0 to 100")
        );
        assert!(
            message("--expendable-pods-priority-cutoff=low", &mut config).contains("whole number")
        );
    }

    #[test]
    fn bool_flags_take_go_spellings() {
        let mut config = ClusterAutoscalerConfig::default();
        apply_flag("--scale-down-enabled=0", &mut config).unwrap();
        assert!(!config.scale_down_enabled);
        apply_flag("--scale-down-enabled=True", &mut config).unwrap();
        assert!(config.scale_down_enabled);
    }

    #[test]
    fn priorities_parse_config_map_format() {
        let text = "10:\n  - .*t2\\.large.*\n  - .*t3\\.large.*\n50:\n  - .*m4\\.4xlarge.*\n";

        let config = parse_priorities(text).unwrap();

        assert_eq!(config.priority_of("asg-m4.4xlarge-1"), Some(50));
        assert_eq!(config.priority_of("asg-t3.large"), Some(10));
        assert_eq!(config.priority_of("asg-t2.micro"), None);
    }

    #[test]
    fn priorities_reject_bad_input() {
        assert!(parse_priorities("").is_err());
        assert!(parse_priorities("high: ['.*']").is_err());
        assert!(parse_priorities("10: '.*'").is_err());
        let error = parse_priorities("10: ['(unclosed']").unwrap_err();
        assert!(error.message.contains("not a valid regular expression"));
        assert_eq!(error.value.as_deref(), Some("(unclosed"));
    }

    #[test]
    fn priorities_errors_locate_entry() {
        let text = "50:\n  - ^spot-.*\n10:\n  - .*\n  - a(b\n";
        let error = parse_priorities(text).unwrap_err();
        assert_eq!(error.location, Some((5, 5)));

        let text = "50:\n  - ^spot-.*\nten: [x]\n";
        let error = parse_priorities(text).unwrap_err();
        assert_eq!(error.location, Some((3, 1)));
        assert_eq!(error.value.as_deref(), Some("ten"));
        assert!(!error.message.contains("-->"), "{}", error.message);

        let error = parse_priorities("50:\n  - ^spot-.*\nhigh:\n  - .*\n").unwrap_err();
        assert_eq!(error.value.as_deref(), Some("high"));
        assert_eq!(error.message, "a priority is not a whole number");

        let error = parse_priorities("50:\n  - a\n50:\n  - b\n").unwrap_err();
        assert_eq!(error.message, "the priority 50 appears twice");
        assert_eq!(error.fix, "list all of its expressions under one key");
    }
}
