//! Cluster Autoscaler command-line flags, as written in its Deployment's `args`.

use autoscale_sim_engine::{SimDuration, parse_duration};
use autoscale_sim_policy::{ClusterAutoscalerConfig, Expander};

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
        if let Some(name) = flag.strip_prefix("--") {
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
                    let known = if part == "priority" || part == "price" || part == "grpc" { " is not modelled yet" } else { " is not an expander" };
                    (format!("{part:?}{known}"), "use random, most-pods, least-nodes or least-waste, alone or as a comma-separated chain".to_string())
                })?;
                chain.push(expander);
            }
            config.expanders = chain;
        }
        "nodes" => return parse_nodes(value).map(Some),
        "scale-down-enabled" | "ignore-daemonsets-utilization" => set_bool(bare, value, config)?,
        _ if IGNORED_FLAGS.contains(&name) => {}
        _ => {
            return Err((
                format!("flag --{bare} is unknown or not modelled yet"),
                "remove it, or use one of --scan-interval, --expander, --scale-down-*, --max-*, --new-pod-scale-up-delay, --ignore-daemonsets-utilization, --unremovable-node-recheck-timeout, --nodes".into(),
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
    let parsed = match value {
        "true" => true,
        "false" => false,
        _ => {
            return Err((
                format!("{value:?} is not true or false"),
                format!("write --{name}=true or --{name}=false"),
            ));
        }
    };
    match name {
        "scale-down-enabled" => config.scale_down_enabled = parsed,
        "ignore-daemonsets-utilization" => config.ignore_daemonsets_utilization = parsed,
        _ => {
            return Err((
                format!("flag --{name} needs a value"),
                format!("write --{name}=<value>"),
            ));
        }
    }
    Ok(())
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
            apply_flag("--expander=priority", &mut config)
                .unwrap_err()
                .0
                .contains("not modelled yet")
        );
        assert!(apply_flag("--scale-down-unneeded-time=ten", &mut config).is_err());
        assert!(
            apply_flag("--balance-similar-node-groups=true", &mut config)
                .unwrap_err()
                .0
                .contains("not modelled yet")
        );
        assert!(apply_flag("scan-interval=10s", &mut config).is_err());
        assert!(apply_flag("--nodes=1:calc", &mut config).is_err());
    }
}
