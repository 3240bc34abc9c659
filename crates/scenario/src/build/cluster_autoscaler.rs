//! The Cluster Autoscaler parts of a scenario beyond the flags: a node group's instance types
//! (one type or a mixed-instances policy) and zones, and the priority expander's ConfigMap.

use std::collections::BTreeMap;

use autoscale_sim_cloud::{Catalog, InstanceTypeIndex};
use autoscale_sim_engine::SimDuration;
use autoscale_sim_policy::cluster_autoscaler::{
    MixedInstancesPolicy, OnDemandAllocationStrategy, PriorityConfig, SpotAllocationStrategy,
};
use autoscale_sim_policy::{ClusterAutoscalerConfig, Expander};
use autoscale_sim_sim::SimConfig;

use super::{Ctx, Result, instance_type};
use crate::error::ScenarioError;
use crate::flags::{PRIORITY_CONFIG_MAP, parse_priorities};
use crate::schema::{ClusterAutoscalerYaml, NodeGroupYaml};

/// Most spot pools `SpotInstancePools` accepts (Auto Scaling API: 1 to 20).
const MAX_SPOT_INSTANCE_POOLS: u32 = 20;

/// The template's instance type of a group and its mixed-instances policy, if it has one.
pub(super) fn group_instance_types(
    group: &NodeGroupYaml,
    ctx: &Ctx<'_>,
    catalog: &Catalog,
    at: &str,
) -> Result<(InstanceTypeIndex, Option<MixedInstancesPolicy>)> {
    let Some(mixed) = &group.mixed_instances_policy else {
        let Some(text) = &group.instance_type else {
            return Err(ctx.error(
                &group.name,
                &format!("{at}.instanceType"),
                None,
                "the node group has no instance type",
                "add instanceType, or a mixedInstancesPolicy with launchTemplate.overrides",
            ));
        };
        return Ok((
            instance_type(catalog, text, ctx, &format!("{at}.instanceType"))?,
            None,
        ));
    };

    let field = format!("{at}.mixedInstancesPolicy");
    let mut types = Vec::with_capacity(mixed.launch_template.overrides.len());
    for (index, entry) in mixed.launch_template.overrides.iter().enumerate() {
        let here = format!("{field}.launchTemplate.overrides[{index}].instanceType");
        types.push(instance_type(catalog, &entry.instance_type, ctx, &here)?);
    }
    let Some(&first) = types.first() else {
        return Err(ctx.error(
            &group.name,
            &format!("{field}.launchTemplate.overrides"),
            None,
            "the mixed-instances policy lists no instance type",
            "list the instance types under launchTemplate.overrides, each as {instanceType: ...}",
        ));
    };
    if let Some(text) = &group.instance_type
        && instance_type(catalog, text, ctx, &format!("{at}.instanceType"))? != first
    {
        return Err(ctx.error(
            text,
            &format!("{at}.instanceType"),
            Some(text.value.clone()),
            "instanceType differs from the first launch template override, which Cluster Autoscaler builds the template from",
            "leave instanceType out of a mixed-instances group, or make it the first override",
        ));
    }
    if let Some(capacity_type) = &group.capacity_type {
        return Err(ctx.error(
            capacity_type,
            &format!("{at}.capacityType"),
            Some(capacity_type.value.clone()),
            "a mixed-instances group takes its capacity types from instancesDistribution",
            "remove capacityType and set instancesDistribution.onDemandPercentageAboveBaseCapacity (0 for all spot)",
        ));
    }

    let mut policy = MixedInstancesPolicy {
        other_instance_types: types[1..].to_vec(),
        ..MixedInstancesPolicy::default()
    };
    let Some(distribution) = &mixed.instances_distribution else {
        return Ok((first, Some(policy)));
    };
    let field = format!("{field}.instancesDistribution");
    if let Some(base) = distribution.on_demand_base_capacity {
        policy.on_demand_base_capacity = base;
    }
    if let Some(percentage) = &distribution.on_demand_percentage_above_base_capacity {
        if percentage.value > 100 {
            return Err(ctx.error(
                percentage,
                &format!("{field}.onDemandPercentageAboveBaseCapacity"),
                Some(percentage.value.to_string()),
                "more than 100 percent",
                "write a percentage from 0 (all spot) to 100 (all on-demand)",
            ));
        }
        policy.on_demand_percentage_above_base_capacity = percentage.value;
    }
    if let Some(text) = &distribution.on_demand_allocation_strategy {
        policy.on_demand_allocation_strategy = OnDemandAllocationStrategy::parse(&text.value)
            .ok_or_else(|| {
                ctx.error(
                    text,
                    &format!("{field}.onDemandAllocationStrategy"),
                    Some(text.value.clone()),
                    "unknown on-demand allocation strategy",
                    "write prioritized or lowest-price",
                )
            })?;
    }
    if let Some(text) = &distribution.spot_allocation_strategy {
        policy.spot_allocation_strategy = SpotAllocationStrategy::parse(&text.value)
            .ok_or_else(|| {
                ctx.error(
                    text,
                    &format!("{field}.spotAllocationStrategy"),
                    Some(text.value.clone()),
                    "unknown spot allocation strategy",
                    "write lowest-price, capacity-optimized, capacity-optimized-prioritized or price-capacity-optimized",
                )
            })?;
    }
    if let Some(pools) = &distribution.spot_instance_pools {
        if !(1..=MAX_SPOT_INSTANCE_POOLS).contains(&pools.value) {
            return Err(ctx.error(
                pools,
                &format!("{field}.spotInstancePools"),
                Some(pools.value.to_string()),
                "not from 1 to 20",
                "write a number of spot pools from 1 to 20",
            ));
        }
        policy.spot_instance_pools = pools.value;
    }
    if distribution.spot_max_price.is_some() {
        ctx.warn(format!(
            "node group {}: spotMaxPrice is accepted but not modelled",
            group.name.value
        ));
    }
    Ok((first, Some(policy)))
}

/// Warns about flag values that Cluster Autoscaler 1.36 accepts (`config/flags/flags.go`
/// checks none of them) although they leave the run with no scale-up, no scale-down or no node
/// that lasts. `seen` maps each flag name to the index of its last occurrence in `ca.flags`,
/// which is the one that applies. `world` gives the launch latency and the workloads.
pub(super) fn warn_void_flags(
    ca: &ClusterAutoscalerYaml,
    config: &ClusterAutoscalerConfig,
    seen: &BTreeMap<&str, usize>,
    world: &SimConfig,
    ctx: &Ctx<'_>,
    field: &str,
) {
    let warn = |name: &str, consequence: &str| {
        if let Some(&index) = seen.get(name) {
            let flag = &ca.flags[index];
            ctx.warn_at(
                flag,
                &format!("{field}.flags[{index}]"),
                format!("{} {consequence}", flag.value),
            );
        }
    };

    // The world fails a launch whose node has not registered before this time is up, so 0
    // fails every launch.
    let provision_time = config.max_node_provision_time;
    let shortest_registration = world.launch_latency.min_to_registered();
    if provision_time == SimDuration::ZERO {
        warn(
            "--max-node-provision-time",
            "gives up every node that takes longer than 0 s to register, which is every node: each launch fails with RegistrationTimeout, the node group backs off and no pod gets a new node; write the time a node may take to register, such as 15m (the default)",
        );
    } else if shortest_registration >= provision_time {
        warn(
            "--max-node-provision-time",
            &format!(
                "is no longer than the shortest time a node takes to register under cloud.launchPhases or cloud.launchLatency ({shortest_registration}): each launch fails with RegistrationTimeout, the node group backs off and no pod gets a new node; write a time longer than {shortest_registration}, or shorten the launch latency"
            ),
        );
    }
    // The planner's limit of unneeded nodes (unneededNodesLimit) and the deletion budget
    // (budgets.go CropNodes) are then 0, so scale-down never acts.
    if config.max_scale_down_parallelism == 0 {
        warn(
            "--max-scale-down-parallelism",
            "turns scale-down off: no node is ever found unneeded or deleted, as in the real program; write a positive number to allow scale-down",
        );
    }
    // The drain budget of budgets.go CropNodes is then 0; empty nodes need no drain.
    if config.max_drain_parallelism == 0 {
        warn(
            "--max-drain-parallelism",
            "lets scale-down delete empty nodes only: no node with pods to move is ever drained, as in the real program; write a positive number, such as 1 (the default), to allow drains",
        );
    }
    // Pods below the cutoff are expendable (`core/utils/expendable.go`). The priorities of
    // DaemonSet pods do not matter, because DaemonSets get no node of their own.
    let highest_priority = world
        .deployments
        .iter()
        .map(|deployment| deployment.spec.priority)
        .chain(world.jobs.iter().map(|jobs| jobs.spec.priority))
        .max();
    let cutoff = config.expendable_pods_priority_cutoff;
    if let Some(highest) = highest_priority.filter(|highest| *highest < cutoff) {
        warn(
            "--expendable-pods-priority-cutoff",
            &format!(
                "is above the priority of every workload's pods (the highest is {highest}), so every pod is expendable: none triggers a scale-up, and scale-down neither counts nor moves them; write a cutoff at or below the priority of the pods that need nodes, such as -10 (the default)"
            ),
        );
    }
    // `utils/backoff/exponential_backoff.go` starts at the initial duration and doubles up to
    // the maximum, so a zero start never backs off and a start above the maximum is cut to it
    // only from the second failure on.
    if config.initial_node_group_backoff_duration == SimDuration::ZERO {
        warn(
            "--initial-node-group-backoff-duration",
            "never backs a node group off: a group whose launches fail is retried at once on every loop, as in the real program; write a positive duration, such as 5m (the default)",
        );
    } else if config.initial_node_group_backoff_duration > config.max_node_group_backoff_duration {
        let (initial, max) = (
            config.initial_node_group_backoff_duration,
            config.max_node_group_backoff_duration,
        );
        let consequence = "the first backoff lasts the initial duration and later ones the maximum, as in the real program; make the initial duration at most the maximum";
        if seen.contains_key("--initial-node-group-backoff-duration") {
            warn(
                "--initial-node-group-backoff-duration",
                &format!("is longer than the maximum backoff ({max}): {consequence}"),
            );
        } else {
            warn(
                "--max-node-group-backoff-duration",
                &format!("is shorter than the initial backoff ({initial}): {consequence}"),
            );
        }
    }
    // The headroom to the maximum is then 0 whatever the cluster runs.
    if config.resource_limits.cores.1 == 0 {
        warn(
            "--cores-total",
            "allows at most 0 cores in the cluster, so no node group ever scales up, as in the real program; write a maximum above 0, such as --cores-total=0:320000 (the default)",
        );
    }
    if config.resource_limits.memory_bytes.1 == 0 {
        warn(
            "--memory-total",
            "allows at most 0 GiB of memory in the cluster, so no node group ever scales up, as in the real program; write a maximum above 0, such as --memory-total=0:6400000 (the default)",
        );
    }
}

/// The zones of a group: `zone`, or the list `zones`, each one of the scenario's.
pub(super) fn group_zones(
    group: &NodeGroupYaml,
    ctx: &Ctx<'_>,
    zones: &[String],
    at: &str,
) -> Result<Vec<String>> {
    if let (Some(zone), false) = (&group.zone, group.zones.is_empty()) {
        return Err(ctx.error(
            zone,
            &format!("{at}.zone"),
            Some(zone.value.clone()),
            "zone and zones are both set",
            "keep zone for one zone, or zones for an Auto Scaling group over several",
        ));
    }
    let listed: Vec<_> = group.zone.iter().chain(&group.zones).collect();
    let mut result: Vec<String> = Vec::with_capacity(listed.len());
    for (index, zone) in listed.into_iter().enumerate() {
        let field = if group.zone.is_some() {
            format!("{at}.zone")
        } else {
            format!("{at}.zones[{index}]")
        };
        if !zones.contains(&zone.value) {
            return Err(ctx.error(
                zone,
                &field,
                Some(zone.value.clone()),
                format!("not one of the scenario's zones ({})", zones.join(", ")),
                "use a zone listed under cloud.zones",
            ));
        }
        if result.contains(&zone.value) {
            return Err(ctx.error(
                zone,
                &field,
                Some(zone.value.clone()),
                "the zone is listed twice",
                "list each zone once",
            ));
        }
        result.push(zone.value.clone());
    }
    Ok(result)
}

/// Reads the priority expander's ConfigMap and warns about expanders that behave differently
/// from the real program on AWS.
pub(super) fn priority_config(
    ca: &ClusterAutoscalerYaml,
    config: &ClusterAutoscalerConfig,
    ctx: &Ctx<'_>,
    field: &str,
) -> Result<Option<PriorityConfig>> {
    if config.expanders.contains(&Expander::Price) {
        ctx.warn(format!(
            "policy {}: the price expander exits Cluster Autoscaler at start on AWS, which has no pricing model; this run prices nodes at their EC2 price and pods at the GCE provider's base rates",
            config.name
        ));
    }
    let uses_priority = config.expanders.contains(&Expander::Priority);
    let Some(manifest) = &ca.priority_config_map else {
        if uses_priority {
            ctx.warn(format!(
                "policy {}: --expander=priority without priorityConfigMap lets every option through, as Cluster Autoscaler does when its ConfigMap is missing",
                config.name
            ));
        }
        return Ok(None);
    };

    let field = format!("{field}.priorityConfigMap");
    if let Some(kind) = &manifest.kind
        && kind.value != "ConfigMap"
    {
        return Err(ctx.error(
            kind,
            &format!("{field}.kind"),
            Some(kind.value.clone()),
            "not a ConfigMap",
            "write kind: ConfigMap",
        ));
    }
    let Some(name) = &manifest.metadata.name else {
        return Err(ScenarioError::at(
            ctx.file,
            None,
            &format!("{field}.metadata.name"),
            None,
            "the ConfigMap has no name",
            format!("name it {PRIORITY_CONFIG_MAP}"),
        ));
    };
    if name.value != PRIORITY_CONFIG_MAP {
        return Err(ctx.error(
            name,
            &format!("{field}.metadata.name"),
            Some(name.value.clone()),
            format!("Cluster Autoscaler reads the priority expander's settings only from the ConfigMap {PRIORITY_CONFIG_MAP}"),
            format!("name it {PRIORITY_CONFIG_MAP}"),
        ));
    }
    let Some(text) = manifest.data.get("priorities") else {
        return Err(ctx.error(
            name,
            &format!("{field}.data"),
            None,
            "the ConfigMap has no priorities key",
            "add data.priorities with integer priorities, each with a list of regular expressions",
        ));
    };
    let priorities = parse_priorities(&text.value).map_err(|e| {
        let at = e
            .location
            .and_then(|inner| ctx.position_in_block(text, inner))
            .or_else(|| super::location(text));
        ScenarioError::at(
            ctx.file,
            at,
            &format!("{field}.data.priorities"),
            e.value,
            e.message,
            e.fix,
        )
    })?;
    if !uses_priority {
        ctx.warn(format!(
            "policy {}: priorityConfigMap is set, but --expander does not list priority, so it is not used",
            config.name
        ));
    }
    for group in &config.node_groups {
        if uses_priority && priorities.priority_of(&group.name).is_none() {
            ctx.warn(format!(
                "policy {}: node group {} matches no priority, so the priority expander never chooses it while another group matches",
                config.name, group.name
            ));
        }
    }
    Ok(Some(priorities))
}
