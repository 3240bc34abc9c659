//! Turns a parsed scenario file into a [`Scenario`]: checks every value, loads traces and
//! catalogs, and builds the world's configuration and the policies.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use autoscale_sim_cloud::{Catalog, ExtendedResource, LatencyModel, Resources};
use autoscale_sim_engine::{RngStreams, SimDuration, SimTime, parse_duration};
use autoscale_sim_kube::{
    CapacityType, DaemonSet, LABEL_CAPACITY_TYPE, PodSpec, ScoringStrategy, quantity,
};
use autoscale_sim_kube::{IntOrPercent, LABEL_ZONE, PodDisruptionBudget};
use autoscale_sim_policy::requirements::{
    LABEL_NODEPOOL, MODELLED_NODE_LABELS, Operator, Requirement, UNMODELLED_WELL_KNOWN_LABELS,
    instance_type_labels,
};
use autoscale_sim_policy::{
    BudgetNodes, BudgetReason, ClusterAutoscalerConfig, ConsolidationPolicy, CronSchedule,
    DO_NOT_DISRUPT, DisruptionBudget, KarpenterConfig, KarpenterVersion, MinValuesPolicy,
    NodeGroupConfig, NodePool, PreferencePolicy, StaticConfig,
};
use autoscale_sim_sim::{
    Deployment, JobStream, Load, PodManagementPolicy, PolicySpec, ReplicaController, Replicas,
    SimConfig, Snapshot,
};
use autoscale_sim_workload::{DiurnalLoad, Trace, TraceEnd};
use serde_saphyr::Spanned;

use crate::clock::{parse_utc, weekday};
use crate::error::ScenarioError;
use crate::flags::{apply_flag, no_effect_reason};
use crate::go_duration::parse_go_duration;
use crate::schema::*;
use crate::{Overrides, Scenario};

mod cluster_autoscaler;
mod ec2;
mod hpa;
mod karpenter_manifests;
mod limit_ranges;
mod priority;
mod resources;

use hpa::build_hpa;
use limit_ranges::LimitRanges;
use priority::PriorityClasses;

/// The cluster-wide objects that admission applies to every pod when it is created.
struct Admission {
    classes: PriorityClasses,
    limit_ranges: LimitRanges,
}

/// Instance types a NodePool's requirements allow (zone requirements aside), with the labels a
/// node of that type in the pool would carry.
fn pool_instance_types<'a>(
    pool: &'a NodePool,
    catalog: &'a Catalog,
) -> impl Iterator<
    Item = (
        &'a autoscale_sim_cloud::InstanceType,
        BTreeMap<String, String>,
    ),
> + 'a {
    catalog.types().iter().filter_map(move |instance_type| {
        let mut labels = instance_type_labels(instance_type);
        labels.extend(pool.labels.clone());
        labels.insert(LABEL_NODEPOOL.to_string(), pool.name.clone());
        // A node is on-demand when the pool allows it, and spot in a spot-only pool.
        ["on-demand", "spot"].into_iter().find_map(|capacity_type| {
            let mut labels = labels.clone();
            labels.insert(LABEL_CAPACITY_TYPE.to_string(), capacity_type.to_string());
            let allowed = pool
                .requirements
                .iter()
                .filter(|r| r.key != LABEL_ZONE)
                .all(|r| r.matches(&labels));
            allowed.then_some((instance_type, labels))
        })
    })
}

/// Checks whether a pod of `spec` fits a new node of `instance_type` with these labels and taints.
fn fits_new_node(
    spec: &PodSpec,
    allocatable: Resources,
    labels: &BTreeMap<String, String>,
    taints: &[autoscale_sim_kube::Taint],
    daemonsets: &[DaemonSet],
) -> bool {
    let room = allocatable - autoscale_sim_kube::daemon_overhead(daemonsets, labels, taints);
    autoscale_sim_kube::tolerates_all(&spec.tolerations, taints)
        && autoscale_sim_kube::plugins::node_affinity_matches(spec, labels)
        && spec.requests.fits_in(&room)
}

/// Returns the allocatable of a node of `instance_type` as Cluster Autoscaler's AWS node group
/// template has it for scale-up. Every GPU counts as `nvidia.com/gpu` and no other device is
/// advertised, so pods that request Neuron, AMD or Gaudi devices never trigger a scale-up.
fn template_allocatable(instance_type: &autoscale_sim_cloud::InstanceType) -> Resources {
    let mut allocatable = instance_type.allocatable();
    allocatable.extended = Default::default();
    allocatable.with_extended(
        ExtendedResource::NvidiaGpu,
        i64::from(instance_type.gpu_count),
    )
}

/// Returns the first `minValues` of `pool` that the instance types with `labels` fall short of:
/// the pool, the key, the minimum and the number of values they have. Keys that instance types
/// do not carry (zone, capacity type, custom labels) are left out, as in [`unmet_min_values`].
fn short_min_values(
    pool: &NodePool,
    labels: &[BTreeMap<String, String>],
) -> Option<(String, String, u32, usize)> {
    pool.requirements.iter().find_map(|requirement| {
        let min = requirement.min_values?;
        if requirement.key == LABEL_ZONE || requirement.key == LABEL_CAPACITY_TYPE {
            return None;
        }
        let values: BTreeSet<&String> = labels
            .iter()
            .filter_map(|l| l.get(&requirement.key))
            .collect();
        (!values.is_empty() && (values.len() as u32) < min).then(|| {
            (
                pool.name.clone(),
                requirement.key.clone(),
                min,
                values.len(),
            )
        })
    })
}

/// A workload's name and pod spec.
struct Named<'a> {
    name: &'a String,
    spec: &'a Arc<PodSpec>,
}

/// Warnings for Deployments and Jobs whose pods no node a policy may launch can hold.
/// Warns about NodePools whose requirements leave fewer distinct values of a key than its
/// `minValues`: Karpenter launches no node from such a pool. Requirements on keys that instance
/// types do not carry (zone, capacity type, custom labels) are left out of the check.
fn unmet_min_values(config: &SimConfig, policies: &[PolicySpec]) -> Vec<(String, String)> {
    let mut warnings = Vec::new();
    let labels: Vec<BTreeMap<String, String>> = config
        .catalog
        .types()
        .iter()
        .map(instance_type_labels)
        .collect();
    for policy in policies {
        let PolicySpec::Karpenter(karpenter) = policy else {
            continue;
        };
        for pool in &karpenter.node_pools {
            let known: Vec<&Requirement> = pool
                .requirements
                .iter()
                .filter(|r| labels.iter().any(|l| l.contains_key(&r.key)))
                .collect();
            for requirement in &pool.requirements {
                let Some(min) = requirement.min_values else {
                    continue;
                };
                let values: BTreeSet<&String> = labels
                    .iter()
                    .filter(|l| known.iter().all(|r| r.matches(l)))
                    .filter_map(|l| l.get(&requirement.key))
                    .collect();
                if (values.len() as u32) < min {
                    let warning = format!(
                        "NodePool {}: requirement {} has minValues {min}, but the instance types the NodePool allows have only {} values of it, so it launches no node",
                        pool.name,
                        requirement.key,
                        values.len()
                    );
                    warnings.push((policy.name().to_string(), warning));
                }
            }
        }
    }
    warnings
}

/// Returns warnings for Deployments and Jobs whose pods no node a policy may launch can hold,
/// each with the name of that policy.
fn unplaceable_pods(config: &SimConfig, policies: &[PolicySpec]) -> Vec<(String, String)> {
    let catalog = &config.catalog;
    let mut warnings = Vec::new();
    let workloads = config
        .deployments
        .iter()
        .map(|d| (&d.name, &d.spec))
        .chain(config.jobs.iter().map(|j| (&j.name, &j.spec)));
    for (name, spec) in workloads {
        let deployment = Named { name, spec };
        for policy in policies {
            // A NodePool whose types can hold the pod but not meet its minValues, under Strict.
            let mut short_pool: Option<(String, String, u32, usize)> = None;
            let fits = match policy {
                PolicySpec::ClusterAutoscaler(ca) => ca.node_groups.iter().any(|group| {
                    let others = group
                        .mixed_instances
                        .iter()
                        .flat_map(|m| &m.other_instance_types);
                    std::iter::once(&group.instance_type)
                        .chain(others)
                        .any(|&index| {
                            let instance_type = catalog.get(index);
                            let mut labels = instance_type_labels(instance_type);
                            labels.extend(group.labels.clone());
                            let zone = group.zones.first().unwrap_or(&config.zones[0]);
                            labels.insert(LABEL_ZONE.to_string(), zone.clone());
                            fits_new_node(
                                deployment.spec,
                                template_allocatable(instance_type),
                                &labels,
                                &group.taints,
                                &config.daemonsets,
                            )
                        })
                }),
                PolicySpec::Karpenter(k) => k.node_pools.iter().any(|pool| {
                    // Any of the pool's zones will do for this check.
                    let mut spec = (**deployment.spec).clone();
                    spec.node_selector.remove(LABEL_ZONE);
                    let mut fitting = pool_instance_types(pool, catalog).filter_map(
                        |(instance_type, mut labels)| {
                            labels.insert(LABEL_ZONE.to_string(), config.zones[0].clone());
                            fits_new_node(
                                &spec,
                                instance_type.allocatable(),
                                &labels,
                                &pool.taints,
                                &config.daemonsets,
                            )
                            .then_some(labels)
                        },
                    );
                    let strict_min_values = k.min_values_policy == MinValuesPolicy::Strict
                        && pool.requirements.iter().any(|r| r.min_values.is_some());
                    if !strict_min_values {
                        return fitting.next().is_some();
                    }
                    let fitting: Vec<BTreeMap<String, String>> = fitting.collect();
                    if fitting.is_empty() {
                        return false;
                    }
                    // A NodePool whose types all together fall short gets its own warning
                    // (`unmet_min_values`), so only a shortfall of the pod's types counts here.
                    let all: Vec<BTreeMap<String, String>> = pool_instance_types(pool, catalog)
                        .map(|(_, labels)| labels)
                        .collect();
                    if short_min_values(pool, &all).is_some() {
                        return true;
                    }
                    match short_min_values(pool, &fitting) {
                        Some(short) => {
                            short_pool.get_or_insert(short);
                            false
                        }
                        None => true,
                    }
                }),
                PolicySpec::Static(s) => {
                    let instance_type = catalog.get(s.instance_type);
                    let labels = instance_type_labels(instance_type);
                    fits_new_node(
                        deployment.spec,
                        instance_type.allocatable(),
                        &labels,
                        &[],
                        &config.daemonsets,
                    )
                }
            };
            if !fits {
                let requests = &deployment.spec.requests;
                let devices: String = ExtendedResource::ALL
                    .into_iter()
                    .filter(|r| requests.extended(*r) > 0)
                    .map(|r| format!(", {} {}", r.name(), requests.extended(r)))
                    .collect();
                let other_devices = ExtendedResource::ALL
                    .into_iter()
                    .any(|r| r != ExtendedResource::NvidiaGpu && requests.extended(r) > 0);
                let template_note = if matches!(policy, PolicySpec::ClusterAutoscaler(_))
                    && other_devices
                {
                    ", because Cluster Autoscaler's node group templates advertise GPUs only, as nvidia.com/gpu"
                } else {
                    ""
                };
                if let Some((pool, key, min, count)) = short_pool {
                    let values = if count == 1 { "value" } else { "values" };
                    let warning = format!(
                        "workload {}: under policy {}, the instance types of NodePool {pool} that can hold its pods have {count} {values} of {key}, fewer than its minValues {min}, so they will stay Pending; minValuesPolicy: BestEffort would relax the minimum",
                        deployment.name,
                        policy.name(),
                    );
                    warnings.push((policy.name().to_string(), warning));
                    continue;
                }
                let warning = format!(
                    "workload {}: no node that policy {} may launch can hold its pods (requests cpu {}, memory {}{devices}){template_note}; they will stay Pending",
                    deployment.name,
                    policy.name(),
                    quantity::format_cpu_millis(requests.cpu_millis),
                    quantity::format_bytes(requests.memory_bytes),
                );
                warnings.push((policy.name().to_string(), warning));
            }
        }
    }
    warnings
}

pub use autoscale_sim_sim::{MAX_DURATION, MAX_REPLICAS};

/// Default wall clock of t = 0: Monday 2026-01-05 00:00 UTC.
pub const DEFAULT_START: &str = "2026-01-05T00:00:00Z";

/// Context for errors: the file and its folder.
pub(crate) struct Ctx<'a> {
    pub file: &'a Path,
    /// The file's text, for positions within a block scalar.
    pub source: &'a str,
    pub dir: PathBuf,
    /// Warnings collected while building.
    pub warnings: std::cell::RefCell<Vec<String>>,
}

type Result<T> = std::result::Result<T, ScenarioError>;

fn location<T>(spanned: &Spanned<T>) -> Option<(u64, u64)> {
    let l = spanned.referenced;
    (l.line() > 0).then(|| (l.line(), l.column()))
}

impl Ctx<'_> {
    /// Records a warning about the file as a whole, after the file's path.
    fn warn(&self, message: String) {
        let text = format!("{}: {message}", self.file.display());
        self.warnings.borrow_mut().push(text);
    }

    /// Records a warning about one field, after the file's path, line and column and the
    /// field's path, as errors name them.
    fn warn_at<T>(&self, at: &Spanned<T>, field: &str, message: String) {
        let mut text = self.file.display().to_string();
        if let Some((line, column)) = location(at) {
            text.push_str(&format!(":{line}:{column}"));
        }
        text.push_str(&format!(": field {field}: {message}"));
        self.warnings.borrow_mut().push(text);
    }

    /// Records a warning that already names its own file, such as one from a price history.
    fn forward_warning(&self, warning: String) {
        self.warnings.borrow_mut().push(warning);
    }

    fn error<T>(
        &self,
        at: &Spanned<T>,
        field: &str,
        value: impl Into<Option<String>>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> ScenarioError {
        ScenarioError::at(self.file, location(at), field, value.into(), message, fix)
    }

    /// Parses a duration that may also be `Never` (Karpenter's `consolidateAfter` and
    /// `expireAfter`), which gives `None`.
    fn duration_or_never(
        &self,
        text: &Spanned<String>,
        field: &str,
    ) -> Result<Option<SimDuration>> {
        if text.value == "Never" {
            return Ok(None);
        }
        let message = if text.value.eq_ignore_ascii_case("never") {
            "Never is written with a capital N".to_string()
        } else {
            match parse_duration(&text.value) {
                Ok(duration) => return Ok(Some(duration)),
                Err(e) => e.reason.to_string(),
            }
        };
        Err(self.error(
            text,
            field,
            Some(text.value.clone()),
            message,
            "write a duration such as 30s, 10m or 1h, or Never",
        ))
    }

    fn duration(&self, text: &Spanned<String>, field: &str) -> Result<SimDuration> {
        parse_duration(&text.value).map_err(|e| {
            self.error(
                text,
                field,
                Some(text.value.clone()),
                e.reason.to_string(),
                "write a duration such as 500ms, 45s, 10m, 1h30m or 7d",
            )
        })
    }

    /// Maps `inner`, a line and column (both from 1) within the text of `scalar`, to its
    /// position in the file. This works for a literal block scalar (`key: |`), the usual way to
    /// embed YAML in a ConfigMap, because its lines appear in the file unchanged after the
    /// indentation. Quoted and folded scalars rewrite their lines, so they return `None`.
    fn position_in_block(&self, scalar: &Spanned<String>, inner: (u64, u64)) -> Option<(u64, u64)> {
        let (start_line, start_column) = location(scalar)?;
        let (line, column) = inner;
        let text_line = scalar
            .value
            .lines()
            .nth(usize::try_from(line.checked_sub(1)?).ok()?)?;
        let file_line_number = start_line + line - 1;
        let file_line = self
            .source
            .lines()
            .nth(usize::try_from(file_line_number - 1).ok()?)?;
        let indent = usize::try_from(start_column - 1).ok()?;
        let in_file: String = file_line.chars().skip(indent).collect();
        let indented = file_line.chars().take(indent).all(|c| c == ' ');
        (indented && in_file == text_line).then_some((file_line_number, start_column + column - 1))
    }

    fn path(&self, text: &str) -> PathBuf {
        let path = Path::new(text);
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.dir.join(path)
        }
    }
}

/// Builds the scenario from its parsed file.
pub(crate) fn build(file: ScenarioFile, ctx: &Ctx<'_>, overrides: &Overrides) -> Result<Scenario> {
    // Run length and clock.
    let duration = ctx.duration(&file.duration, "duration")?;
    if duration > MAX_DURATION {
        return Err(ctx.error(
            &file.duration,
            "duration",
            Some(file.duration.value.clone()),
            format!("the run is longer than the {MAX_DURATION} this version simulates"),
            format!("write a duration of at most {MAX_DURATION}"),
        ));
    }
    if duration == SimDuration::ZERO {
        return Err(ctx.error(
            &file.duration,
            "duration",
            Some(file.duration.value.clone()),
            "the run is empty",
            "write a positive duration such as 7d",
        ));
    }
    let start_unix_secs = match &file.start {
        Some(start) => parse_utc(&start.value).ok_or_else(|| {
            ctx.error(
                start,
                "start",
                Some(start.value.clone()),
                "not a UTC timestamp",
                "write YYYY-MM-DDTHH:MM:SSZ, such as 2026-01-05T00:00:00Z",
            )
        })?,
        None => parse_utc(DEFAULT_START).expect("default start is valid"),
    };
    let seed = overrides.seed.unwrap_or(file.seed);

    // Cloud.
    let catalog = build_catalog(&file.cloud, ctx)?;
    let mut config = SimConfig::new(&file.name, seed, duration, catalog.clone());
    config.start_unix_secs = start_unix_secs;
    if let Some(zones) = &file.cloud.zones {
        if zones.is_empty() {
            return Err(ScenarioError::at(
                ctx.file,
                None,
                "cloud.zones",
                None,
                "the zone list is empty",
                "list at least one zone, such as [us-east-1a]",
            ));
        }
        let mut unique = BTreeSet::new();
        if let Some(twice) = zones.iter().find(|zone| !unique.insert(zone.as_str())) {
            return Err(ScenarioError::at(
                ctx.file,
                None,
                "cloud.zones",
                Some(twice.clone()),
                "the zone is listed twice",
                "list each zone once",
            ));
        }
        config.zones = zones.clone();
    }
    if let Some(latency) = ec2::build_launch_latency(&file.cloud, ctx)? {
        config.launch_latency = latency;
    }
    if let Some(spot) = &file.cloud.spot {
        build_spot(spot, ctx, &mut config.spot)?;
        if let Some(rebalance) = &spot.rebalance_recommendations {
            ec2::build_rebalance(rebalance, ctx, &mut config.spot)?;
        }
        if let Some(history) = &spot.price_history {
            let path = ctx.path(&history.value);
            if !path.exists() {
                return Err(ctx.error(
                    history,
                    "cloud.spot.priceHistory",
                    Some(history.value.clone()),
                    format!("price history file {} not found", path.display()),
                    "give the path relative to the scenario file",
                ));
            }
            let mut warnings = Vec::new();
            config.spot.history = crate::prices::load(
                &path,
                start_unix_secs,
                &catalog,
                &config.zones,
                &mut warnings,
            )?;
            for warning in warnings {
                ctx.forward_warning(warning);
            }
        }
    }
    for (index, shortage) in file.cloud.capacity_shortages.iter().enumerate() {
        let window = build_shortage(
            shortage,
            ctx,
            &catalog,
            &config.zones,
            &format!("cloud.capacityShortages[{index}]"),
        )?;
        config.spot.capacity_windows.push(window);
    }
    for (index, shortage) in file.cloud.random_shortages.iter().enumerate() {
        let process = ec2::build_random_shortage(
            shortage,
            ctx,
            &catalog,
            &config.zones,
            &format!("cloud.randomShortages[{index}]"),
        )?;
        config.spot.shortage_processes.push(process);
    }
    if let Some(delay) = &file.cloud.termination_delay {
        config.termination_delay = ctx.duration(delay, "cloud.terminationDelay")?;
    }
    if let Some(interval) = &file.sample_interval {
        config.sample_interval = ctx.duration(interval, "sampleInterval")?;
        if config.sample_interval == SimDuration::ZERO {
            return Err(ctx.error(
                interval,
                "sampleInterval",
                Some(interval.value.clone()),
                "the interval is zero",
                "write a positive duration such as 1m",
            ));
        }
        let samples = autoscale_sim_sim::sample_count(duration, config.sample_interval);
        if samples > autoscale_sim_sim::MAX_SAMPLES {
            return Err(ctx.error(
                interval,
                "sampleInterval",
                Some(interval.value.clone()),
                format!(
                    "a run of {duration} would take {samples} samples, more than the {} a run keeps in memory",
                    autoscale_sim_sim::MAX_SAMPLES
                ),
                format!(
                    "write a sampleInterval of at least {}, or a shorter duration",
                    autoscale_sim_sim::shortest_sample_interval(duration)
                ),
            ));
        }
    }
    if let Some(strategy) = &file.scheduler.scoring_strategy {
        config.scoring = match strategy.value.as_str() {
            "LeastAllocated" => ScoringStrategy::LeastAllocated,
            "MostAllocated" => ScoringStrategy::MostAllocated,
            other => {
                return Err(ctx.error(
                    strategy,
                    "scheduler.scoringStrategy",
                    Some(other.to_string()),
                    "unknown scoring strategy",
                    "write LeastAllocated (the kube-scheduler default) or MostAllocated",
                ));
            }
        };
    }

    // Loads, workloads and snapshots.
    let streams = RngStreams::new(seed);
    let load_names: Vec<String> = file.loads.keys().cloned().collect();
    for name in overrides.traces.keys() {
        match file.loads.get(name) {
            None => {
                let known = if load_names.is_empty() {
                    "none".to_string()
                } else {
                    load_names.join(", ")
                };
                return Err(ScenarioError::file(
                    ctx.file,
                    format!(
                        "--trace names load {name:?}, which the scenario does not define (loads: {known})"
                    ),
                    "name a load listed under loads",
                ));
            }
            Some(spec) if spec.trace.is_none() => {
                return Err(ScenarioError::file(
                    ctx.file,
                    format!(
                        "--trace names load {name:?}, which is generated (diurnal), not read from a trace file"
                    ),
                    "use --trace only for loads written as trace: {file: ...}",
                ));
            }
            Some(_) => {}
        }
    }
    for (name, spec) in &file.loads {
        let trace = build_load(
            name,
            spec,
            ctx,
            overrides,
            duration,
            start_unix_secs,
            &streams,
        )?;
        config.loads.push(Load {
            name: name.clone(),
            trace,
        });
    }
    let admission = Admission {
        classes: PriorityClasses::collect(&file.workloads, ctx)?,
        limit_ranges: LimitRanges::collect(&file.workloads, ctx)?,
    };
    let mut replicated_names = BTreeSet::new();
    for (index, workload) in file.workloads.iter().enumerate() {
        build_workload(workload, index, ctx, &load_names, &admission, &mut config)?;
        // Reports and pod names identify a Deployment or StatefulSet by its name alone.
        if let ("Deployment" | "StatefulSet", Some(name)) =
            (workload.kind.value.as_str(), &workload.metadata.name)
            && !replicated_names.insert(name.value.as_str())
        {
            return Err(ctx.error(
                name,
                &format!("workloads[{index}].metadata.name"),
                Some(name.value.clone()),
                "another Deployment or StatefulSet has this name, so their pods and report rows could not be told apart",
                "give each Deployment and StatefulSet its own name, in any namespace",
            ));
        }
    }
    warn_unused(&config, &load_names, ctx);
    if config.deployments.is_empty() {
        return Err(ScenarioError::at(
            ctx.file,
            None,
            "workloads",
            None,
            "no Deployment or StatefulSet is listed",
            "add at least one workload of kind Deployment or StatefulSet",
        ));
    }
    for (index, snapshot) in file.snapshots.iter().enumerate() {
        let at = ctx.duration(&snapshot.at, &format!("snapshots[{index}].at"))?;
        if at > duration {
            return Err(ctx.error(
                &snapshot.at,
                &format!("snapshots[{index}].at"),
                Some(snapshot.at.value.clone()),
                format!("the snapshot is after the end of the run ({duration})"),
                "write a time within the run's duration",
            ));
        }
        config.snapshots.push(Snapshot {
            label: snapshot.label.clone(),
            at: SimTime::ZERO + at,
        });
    }

    // Policies.
    if file.policies.is_empty() {
        return Err(ScenarioError::at(
            ctx.file,
            None,
            "policies",
            None,
            "no policy is listed",
            "add a policy with clusterAutoscaler, karpenter or static settings",
        ));
    }
    let mut policies = Vec::new();
    for (index, entry) in file.policies.iter().enumerate() {
        if policies
            .iter()
            .any(|p: &PolicySpec| p.name() == entry.name.value)
        {
            return Err(ctx.error(
                &entry.name,
                &format!("policies[{index}].name"),
                Some(entry.name.value.clone()),
                "another policy has this name",
                "give each policy its own name",
            ));
        }
        let mut policy = build_policy(entry, index, ctx, &catalog, &config)?;
        if let PolicySpec::Karpenter(karpenter) = &mut policy {
            karpenter.start_unix_secs = start_unix_secs;
        }
        policies.push(policy);
    }

    let mut warning_policies = BTreeMap::new();
    let policy_warnings = unplaceable_pods(&config, &policies)
        .into_iter()
        .chain(unmet_min_values(&config, &policies));
    for (policy, warning) in policy_warnings {
        ctx.warn(warning);
        warning_policies.insert(ctx.warnings.borrow().len() - 1, policy);
    }
    Ok(Scenario {
        warnings: ctx.warnings.take(),
        warning_policies,
        limit_ranges: file
            .workloads
            .iter()
            .filter(|w| w.kind.value == "LimitRange")
            .count(),
        name: file.name,
        description: file.description,
        config,
        policies,
    })
}

fn build_catalog(cloud: &CloudSpec, ctx: &Ctx<'_>) -> Result<Arc<Catalog>> {
    if let Some(region) = &cloud.region
        && region.value != "us-east-1"
    {
        let builtin = cloud.catalog.as_ref().is_none_or(|c| c.value == "builtin");
        if builtin {
            return Err(ctx.error(region, "cloud.region", Some(region.value.clone()), "the built-in catalog has us-east-1 prices only", "use region us-east-1, or give cloud.catalog a CSV file with this region's instance types"));
        }
    }
    match &cloud.catalog {
        None => Ok(Arc::new(Catalog::builtin())),
        Some(c) if c.value == "builtin" => Ok(Arc::new(Catalog::builtin())),
        Some(c) => {
            let path = ctx.path(&c.value);
            if !path.exists() {
                return Err(ctx.error(
                    c,
                    "cloud.catalog",
                    Some(c.value.clone()),
                    format!("catalog file {} not found", path.display()),
                    "write builtin, or a path to a catalog CSV relative to the scenario file",
                ));
            }
            Catalog::from_csv_path(&path)
                .map(Arc::new)
                .map_err(|e| ScenarioError {
                    file: e.file.clone(),
                    line: (e.line > 0).then_some(e.line),
                    column: e.column.map(|c| c as u64),
                    field: e.field.clone(),
                    value: e.value.clone(),
                    message: e.message.clone(),
                    fix: Some(format!(
                        "fix the catalog file; its columns are {}",
                        autoscale_sim_cloud::CSV_COLUMNS.join(",")
                    )),
                    snippet: None,
                })
        }
    }
}

fn build_spot(
    spot: &SpotYaml,
    ctx: &Ctx<'_>,
    settings: &mut autoscale_sim_cloud::SpotSettings,
) -> Result<()> {
    let share = |value: &Spanned<f64>, field: &str| -> Result<f64> {
        if value.value.is_finite() && (0.0..1.0).contains(&value.value) {
            Ok(value.value)
        } else {
            Err(ctx.error(
                value,
                field,
                Some(value.value.to_string()),
                "expected a share from 0 up to but not including 1",
                "write a discount such as 0.6 for 60 % off on-demand",
            ))
        }
    };
    let band = |value: &Spanned<String>,
                field: &str|
     -> Result<autoscale_sim_cloud::InterruptionBand> {
        autoscale_sim_cloud::InterruptionBand::parse(&value.value)
            .ok_or_else(|| ctx.error(value, field, Some(value.value.clone()), "not an interruption band", "write one of \"<5%\", \"5-10%\", \"10-15%\", \"15-20%\", \">20%\" (the Spot Instance Advisor's bands)"))
    };
    for (category, value) in &spot.discount {
        settings.discount_by_category.insert(
            category.clone(),
            share(value, &format!("cloud.spot.discount.{category}"))?,
        );
    }
    if let Some(value) = &spot.default_discount {
        settings.default_discount = share(value, "cloud.spot.defaultDiscount")?;
    }
    if let Some(value) = &spot.volatility {
        settings.volatility = share(value, "cloud.spot.volatility")?;
    }
    if let Some(text) = &spot.price_change_interval {
        settings.change_interval = ctx.duration(text, "cloud.spot.priceChangeInterval")?;
        if settings.change_interval == SimDuration::ZERO {
            return Err(ctx.error(
                text,
                "cloud.spot.priceChangeInterval",
                Some(text.value.clone()),
                "the interval is zero",
                "write a positive duration such as 6h",
            ));
        }
    }
    for (family, value) in &spot.interruption_bands {
        settings.band_by_family.insert(
            family.clone(),
            band(value, &format!("cloud.spot.interruptionBands.{family}"))?,
        );
    }
    if let Some(value) = &spot.default_interruption_band {
        settings.default_band = band(value, "cloud.spot.defaultInterruptionBand")?;
    }
    for (family, value) in &spot.interruptions_per_month {
        let ceiling = autoscale_sim_cloud::MAX_INTERRUPTIONS_PER_MONTH;
        if !value.value.is_finite() || value.value < 0.0 || value.value > ceiling {
            return Err(ctx.error(
                value,
                &format!("cloud.spot.interruptionsPerMonth.{family}"),
                Some(value.value.to_string()),
                format!("expected a finite number from 0 to {ceiling}"),
                "write the expected interruptions per instance and 30 days, such as 2",
            ));
        }
        settings
            .interruptions_per_month_by_family
            .insert(family.clone(), value.value);
    }
    if let Some(text) = &spot.notice {
        settings.notice = ctx.duration(text, "cloud.spot.notice")?;
    }
    Ok(())
}

/// Checks the pool a shortage applies to: its instance type (all when absent), zone (all when
/// absent) and capacity type; returns whether the pool is spot.
pub(super) fn check_pool(
    instance: Option<&Spanned<String>>,
    zone: Option<&Spanned<String>>,
    capacity_type: &Spanned<String>,
    ctx: &Ctx<'_>,
    catalog: &Catalog,
    zones: &[String],
    field: &str,
) -> Result<bool> {
    if let Some(name) = instance {
        instance_type(catalog, name, ctx, &format!("{field}.instanceType"))?;
    }
    if let Some(zone) = zone
        && !zones.contains(&zone.value)
    {
        return Err(ctx.error(
            zone,
            &format!("{field}.zone"),
            Some(zone.value.clone()),
            format!("not one of the scenario's zones ({})", zones.join(", ")),
            "use a zone listed under cloud.zones",
        ));
    }
    match capacity_type.value.as_str() {
        "spot" => Ok(true),
        "on-demand" => Ok(false),
        other => Err(ctx.error(
            capacity_type,
            &format!("{field}.capacityType"),
            Some(other.to_string()),
            "unknown capacity type",
            "write spot or on-demand",
        )),
    }
}

fn build_shortage(
    shortage: &ShortageYaml,
    ctx: &Ctx<'_>,
    catalog: &Catalog,
    zones: &[String],
    field: &str,
) -> Result<autoscale_sim_cloud::CapacityWindow> {
    let spot = check_pool(
        shortage.instance_type.as_ref(),
        shortage.zone.as_ref(),
        &shortage.capacity_type,
        ctx,
        catalog,
        zones,
        field,
    )?;
    let from = ctx.duration(&shortage.from, &format!("{field}.from"))?;
    let to = ctx.duration(&shortage.to, &format!("{field}.to"))?;
    if to <= from {
        return Err(ctx.error(
            &shortage.to,
            &format!("{field}.to"),
            Some(shortage.to.value.clone()),
            "the shortage ends before it starts",
            "make to later than from",
        ));
    }
    Ok(autoscale_sim_cloud::CapacityWindow {
        instance_type: shortage.instance_type.as_ref().map(|n| n.value.clone()),
        zone: shortage.zone.as_ref().map(|z| z.value.clone()),
        spot,
        from: SimTime::ZERO + from,
        to: SimTime::ZERO + to,
    })
}

fn build_latency(spec: &LatencySpec, ctx: &Ctx<'_>, field: &str) -> Result<LatencyModel> {
    if spec.distribution.value == "empirical" {
        return ec2::build_empirical(spec, ctx, field);
    }
    if let Some(file) = &spec.file {
        return Err(ctx.error(
            file,
            &format!("{field}.file"),
            Some(file.value.clone()),
            format!(
                "only an empirical latency reads a file, and this one is {}",
                spec.distribution.value
            ),
            "write distribution: empirical to draw the file's values, or remove file",
        ));
    }
    let Some(mean_text) = &spec.mean else {
        return Err(ctx.error(
            &spec.distribution,
            &format!("{field}.mean"),
            None,
            format!("a {} latency needs a mean", spec.distribution.value),
            "add a mean such as mean: 45s",
        ));
    };
    let mean = ctx.duration(mean_text, &format!("{field}.mean"))?;
    let stddev = spec
        .stddev
        .as_ref()
        .map(|s| ctx.duration(s, &format!("{field}.stddev")))
        .transpose()?
        .unwrap_or(SimDuration::ZERO);
    let min = spec
        .min
        .as_ref()
        .map(|s| ctx.duration(s, &format!("{field}.min")))
        .transpose()?
        .unwrap_or(SimDuration::ZERO);
    match spec.distribution.value.as_str() {
        "fixed" => Ok(LatencyModel::Fixed(mean)),
        "normal" => {
            // A normal draw more than two standard deviations below the mean has a
            // probability of about 2.3 %, and the model raises every draw below `min` to it.
            let gap = mean.as_millis().saturating_sub(min.as_millis());
            if let Some(stddev_text) = &spec.stddev
                && stddev.as_millis() * 2 > gap
            {
                ctx.warn_at(
                    stddev_text,
                    &format!("{field}.stddev"),
                    format!(
                        "with mean {mean} and min {min}, a standard deviation of {stddev} puts more than 2 % of the draws below min, and each of those takes exactly {min}; write a stddev below {}, a higher min, or distribution: logNormal for values with a long tail",
                        SimDuration::from_millis(gap.div_ceil(2))
                    ),
                );
            }
            Ok(LatencyModel::Normal { mean, stddev, min })
        }
        "logNormal" if mean == SimDuration::ZERO => Err(ctx.error(
            mean_text,
            &format!("{field}.mean"),
            Some(mean_text.value.clone()),
            "a log-normal latency needs a positive mean",
            "write a mean such as 45s",
        )),
        "logNormal" => Ok(LatencyModel::LogNormal { mean, stddev, min }),
        other => Err(ctx.error(
            &spec.distribution,
            &format!("{field}.distribution"),
            Some(other.to_string()),
            "unknown distribution",
            "write fixed, normal, logNormal or empirical",
        )),
    }
}

/// Builds a diurnal load from its spec; an invalid field is reported at its own position.
fn build_diurnal(spec: &DiurnalSpec, field: &str, ctx: &Ctx<'_>) -> Result<DiurnalLoad> {
    let mut load = DiurnalLoad::new(spec.base.value, spec.peak.value);
    let optional = [
        (&spec.peak_hour, &mut load.peak_hour),
        (&spec.trough_hour, &mut load.trough_hour),
        (&spec.weekend_factor, &mut load.weekend_factor),
        (&spec.noise, &mut load.noise),
    ];
    for (given, value) in optional {
        if let Some(given) = given {
            *value = given.value;
        }
    }
    if let Some(step) = &spec.step {
        load.step = ctx.duration(step, &format!("{field}.step"))?;
    }
    load.validate().map_err(|message| {
        // The message starts with the name of the field it is about.
        let name = message.split(' ').next().unwrap_or_default();
        let number = |at: &Spanned<f64>| (location(at), Some(at.value.to_string()));
        let (position, value) = match name {
            "base" => number(&spec.base),
            "peak" => number(&spec.peak),
            "peakHour" => spec.peak_hour.as_ref().map_or((None, None), number),
            "troughHour" => spec.trough_hour.as_ref().map_or((None, None), number),
            "weekendFactor" => spec.weekend_factor.as_ref().map_or((None, None), number),
            "noise" => spec.noise.as_ref().map_or((None, None), number),
            "step" => spec
                .step
                .as_ref()
                .map_or((None, None), |s| (location(s), Some(s.value.clone()))),
            _ => (location(&spec.base), None),
        };
        let position = position.or(location(&spec.base));
        ScenarioError::at(
            ctx.file,
            position,
            &format!("{field}.{name}"),
            value,
            message,
            "fix the diurnal settings: base ≥ 0, peak ≥ base, hours within 0 to 24",
        )
    })?;
    Ok(load)
}

fn build_load(
    name: &str,
    spec: &LoadSpec,
    ctx: &Ctx<'_>,
    overrides: &Overrides,
    duration: SimDuration,
    start: i64,
    streams: &RngStreams,
) -> Result<Trace> {
    let field = format!("loads.{name}");
    match (&spec.diurnal, &spec.trace) {
        (Some(spec), None) => {
            let diurnal = build_diurnal(spec, &format!("{field}.diurnal"), ctx)?;
            let time_of_day = SimDuration::from_secs(start.rem_euclid(86_400) as u64);
            let mut rng = streams.stream(&format!("load/{name}"));
            diurnal
                .generate(duration, weekday(start), time_of_day, &mut rng)
                .map_err(|message| {
                    ScenarioError::at(
                        ctx.file,
                        location(&spec.base),
                        &format!("{field}.diurnal"),
                        None,
                        message,
                        "fix the diurnal settings: base ≥ 0, peak ≥ base, hours within 0 to 24",
                    )
                })
        }
        (None, Some(trace)) => {
            let (path, from_cli) = match overrides.traces.get(name) {
                Some(path) => (path.clone(), true),
                None => (ctx.path(&trace.file.value), false),
            };
            // A path from --trace is not in the file, so its errors name the file as a whole.
            let path_error = |message: String, fix: String| {
                if from_cli {
                    ScenarioError::file(ctx.file, message, fix)
                } else {
                    ctx.error(
                        &trace.file,
                        &format!("{field}.trace.file"),
                        Some(trace.file.value.clone()),
                        message,
                        fix,
                    )
                }
            };
            if !path.exists() {
                let (message, fix) = if from_cli {
                    (
                        format!(
                            "trace file {} not found (given with --trace {name}=PATH)",
                            path.display()
                        ),
                        "check the path; --trace paths are relative to the current folder"
                            .to_string(),
                    )
                } else {
                    (
                        format!("trace file {} not found", path.display()),
                        format!(
                            "give the path relative to the scenario file, or pass --trace {name}=PATH on the command line"
                        ),
                    )
                };
                return Err(path_error(message, fix));
            }
            if path.is_dir() {
                let origin = if from_cli {
                    format!(" (given with --trace {name}=PATH)")
                } else {
                    String::new()
                };
                return Err(path_error(
                    format!("{} is a folder, not a trace file{origin}", path.display()),
                    "give the path of the trace's CSV file".to_string(),
                ));
            }
            let scale = trace.value_scale.as_ref().map_or(1.0, |s| s.value);
            if !scale.is_finite() || scale < 0.0 {
                let at = trace.value_scale.as_ref().expect("a bad scale was written");
                return Err(ctx.error(
                    at,
                    &format!("{field}.trace.valueScale"),
                    Some(scale.to_string()),
                    "the scale must be a finite number zero or more",
                    "write a factor such as 0.05",
                ));
            }
            let named_by = match location(&trace.file) {
                _ if from_cli => format!("--trace {name}=PATH names"),
                Some((line, column)) => format!(
                    "{field}.trace.file names at {}:{line}:{column}",
                    ctx.file.display()
                ),
                None => format!("{field}.trace.file names in {}", ctx.file.display()),
            };
            let mut loaded = Trace::from_csv_path(&path, scale).map_err(|e| ScenarioError {
                file: e.file.clone(),
                line: (e.line > 0).then_some(e.line),
                column: e.column.map(|c| c as u64),
                field: e.field.clone(),
                value: e.value.clone(),
                message: e.message.clone(),
                fix: Some(format!(
                    "fix this trace file, which {named_by}: it needs a header timestamp_seconds,value, then evenly spaced rows with finite values zero or more"
                )),
                snippet: None,
            })?;
            if let Some(end) = &trace.end {
                let mode = match end.value.as_str() {
                    "loop" => TraceEnd::Loop,
                    "hold" => TraceEnd::Hold,
                    "error" => TraceEnd::Error,
                    other => {
                        return Err(ctx.error(
                            end,
                            &format!("{field}.trace.end"),
                            Some(other.to_string()),
                            "unknown end mode",
                            "write loop (start over), hold (keep the last value) or error",
                        ));
                    }
                };
                loaded = loaded.with_end(mode);
                if mode == TraceEnd::Error && loaded.duration() < duration {
                    return Err(ctx.error(
                        end,
                        &format!("{field}.trace.end"),
                        Some("error".into()),
                        format!(
                            "the trace covers {} but the run lasts {}",
                            loaded.duration(),
                            duration
                        ),
                        "shorten the run, or write end: loop or end: hold",
                    ));
                }
            }
            if let Some(shift) = &trace.shift {
                let offset = ctx.duration(shift, &format!("{field}.trace.shift"))?;
                loaded = loaded.shifted(offset).map_err(|e| {
                    ctx.error(
                        shift,
                        &format!("{field}.trace.shift"),
                        Some(shift.value.clone()),
                        e.to_string(),
                        "write a whole number of the trace's steps",
                    )
                })?;
                // Shifting keeps the trace's length.
                let length = loaded.duration();
                if offset >= length {
                    let effective =
                        SimDuration::from_millis(offset.as_millis() % length.as_millis());
                    let outcome = if effective == SimDuration::ZERO {
                        "no shift at all; remove it".to_string()
                    } else {
                        format!("a shift of {effective}; write {effective} to say so")
                    };
                    ctx.warn_at(
                        shift,
                        &format!("{field}.trace.shift"),
                        format!(
                            "shift {offset} is not shorter than the trace {}, which is {length} \
                             long, so the shift wraps around and acts as {outcome}",
                            path.display()
                        ),
                    );
                }
            }
            Ok(loaded)
        }
        _ => Err(ScenarioError::at(
            ctx.file,
            None,
            &field,
            None,
            "a load needs exactly one of diurnal or trace",
            "write diurnal: {base: 100, peak: 400} or trace: {file: traces/x.csv}",
        )),
    }
}

fn build_pod_spec(
    template: &PodTemplate,
    namespace: Option<&str>,
    admission: &Admission,
    ctx: &Ctx<'_>,
    field: &str,
) -> Result<PodSpec> {
    let spec = &template.spec;
    if spec.containers.is_empty() {
        return Err(ScenarioError::at(
            ctx.file,
            None,
            &format!("{field}.containers"),
            None,
            "the pod has no containers",
            "list at least one container with resources.requests",
        ));
    }
    let annotations = &template.metadata.annotations;
    // `field` is the template's `spec`; the annotations sit beside it, under `metadata`.
    let template_field = field.strip_suffix(".spec").unwrap_or(field);
    let annotation_field = |key: &str| format!("{template_field}.metadata.annotations.{key}");
    let annotation_bool = |key: &str| -> Result<Option<bool>> {
        let Some(value) = annotations.get(key) else {
            return Ok(None);
        };
        match value.value.as_str() {
            "true" => Ok(Some(true)),
            "false" => Ok(Some(false)),
            other => Err(ctx.error(
                value,
                &annotation_field(key),
                Some(other.to_string()),
                "expected \"true\" or \"false\"",
                "write the annotation as \"true\" or \"false\"",
            )),
        }
    };
    let (do_not_disrupt, do_not_disrupt_for) =
        do_not_disrupt(annotations, ctx, &annotation_field(DO_NOT_DISRUPT))?;
    let deletion_cost_key = "controller.kubernetes.io/pod-deletion-cost";
    let deletion_cost = match annotations.get(deletion_cost_key) {
        None => 0,
        Some(text) => text.value.parse::<i32>().map_err(|_| {
            ctx.error(
                text,
                &annotation_field(deletion_cost_key),
                Some(text.value.clone()),
                "expected a whole number",
                "write a number such as \"100\"",
            )
        })?,
    };

    let (priority, preemption_policy) = admission.classes.resolve(spec, ctx, field)?;
    let limit_ranges = admission.limit_ranges.for_namespace(namespace);
    let mut pod = PodSpec {
        requests: resources::pod_requests(spec, limit_ranges, ctx, field)?,
        labels: template.metadata.labels.clone(),
        namespace: namespace.unwrap_or("").to_string(),
        node_selector: spec.node_selector.clone(),
        tolerations: spec.tolerations.clone(),
        priority,
        preemption_policy,
        host_ports: spec
            .containers
            .iter()
            .flat_map(|c| c.ports.iter().filter_map(|p| p.host_port))
            .collect(),
        do_not_disrupt,
        do_not_disrupt_for,
        safe_to_evict: annotation_bool("cluster-autoscaler.kubernetes.io/safe-to-evict")?,
        local_storage: spec.volumes.iter().any(|v| {
            v.host_path.is_some()
                || v.empty_dir
                    .as_ref()
                    .is_some_and(|e| e.medium.as_deref() != Some("Memory"))
        }),
        deletion_cost,
        termination_grace_secs: spec.termination_grace_period_seconds,
        ..Default::default()
    };

    // Affinity.
    if let Some(affinity) = &spec.affinity {
        if let Some(node) = &affinity.node_affinity {
            pod.node_affinity.required = node
                .required_during_scheduling_ignored_during_execution
                .as_ref()
                .map(|r| r.node_selector_terms.clone())
                .unwrap_or_default();
            pod.node_affinity.preferred = node
                .preferred_during_scheduling_ignored_during_execution
                .clone();
        }
        if let Some(pod_affinity) = &affinity.pod_affinity {
            pod.pod_affinity.required = pod_affinity
                .required_during_scheduling_ignored_during_execution
                .clone();
            pod.pod_affinity.preferred = pod_affinity
                .preferred_during_scheduling_ignored_during_execution
                .clone();
        }
        if let Some(anti) = &affinity.pod_anti_affinity {
            pod.pod_anti_affinity.required = anti
                .required_during_scheduling_ignored_during_execution
                .clone();
            pod.pod_anti_affinity.preferred = anti
                .preferred_during_scheduling_ignored_during_execution
                .clone();
        }
        let at = format!("{field}.affinity");
        for term in &pod.node_affinity.required {
            for requirement in &term.match_expressions {
                requirement.validate().map_err(|m| {
                    ScenarioError::at(
                        ctx.file,
                        None,
                        &format!("{at}.nodeAffinity"),
                        None,
                        m,
                        "fix the values list for this operator",
                    )
                })?;
            }
        }
        let weights = pod
            .node_affinity
            .preferred
            .iter()
            .map(|p| p.weight)
            .chain(pod.pod_affinity.preferred.iter().map(|p| p.weight))
            .chain(pod.pod_anti_affinity.preferred.iter().map(|p| p.weight));
        if let Some(bad) = weights.into_iter().find(|w| !(1..=100).contains(w)) {
            return Err(ScenarioError::at(
                ctx.file,
                None,
                &at,
                Some(bad.to_string()),
                "a preferred term's weight must be from 1 to 100",
                "write a weight from 1 to 100",
            ));
        }
    }

    // Topology spread.
    for (index, constraint) in spec.topology_spread_constraints.iter().enumerate() {
        let at = format!("{field}.topologySpreadConstraints[{index}]");
        if constraint.value.max_skew < 1 {
            return Err(ctx.error(
                constraint,
                &format!("{at}.maxSkew"),
                Some(constraint.value.max_skew.to_string()),
                "maxSkew must be at least 1",
                "write maxSkew: 1 or more",
            ));
        }
        if constraint.value.min_domains.is_some_and(|m| m < 1) {
            return Err(ctx.error(
                constraint,
                &format!("{at}.minDomains"),
                None,
                "minDomains must be at least 1",
                "write minDomains: 1 or more, or leave it out",
            ));
        }
        if constraint.value.topology_key.is_empty() {
            return Err(ctx.error(
                constraint,
                &format!("{at}.topologyKey"),
                None,
                "the topology key is empty",
                "write a node label such as topology.kubernetes.io/zone or kubernetes.io/hostname",
            ));
        }
        pod.topology_spread.push(constraint.value.clone());
    }
    warn_unmodelled_selector(&pod, ctx, field);
    Ok(pod)
}

/// Warns about a load that no HPA or Job stream reads and a PodDisruptionBudget that covers no
/// pod of any workload: both load and change nothing, which is likely a mistake.
fn warn_unused(config: &SimConfig, load_names: &[String], ctx: &Ctx<'_>) {
    for (index, name) in load_names.iter().enumerate() {
        let by_hpa = config
            .deployments
            .iter()
            .any(|d| matches!(d.replicas, Replicas::Hpa { load, .. } if load == index));
        let by_job = config.jobs.iter().any(|job| job.load == index);
        if !by_hpa && !by_job {
            ctx.warn(format!(
                "field loads.{name}: no HPA or Job stream reads this load, so it changes nothing"
            ));
        }
    }
    for pdb in &config.pdbs {
        let covered = config.deployments.iter().any(|d| pdb.covers(&d.spec))
            || config.jobs.iter().any(|job| pdb.covers(&job.spec));
        if !covered {
            ctx.warn(format!(
                "PodDisruptionBudget {}: its selector matches the pods of no Deployment, StatefulSet or Job in its namespace, so it limits nothing",
                pdb.name
            ));
        }
    }
}

/// Warns when the pods can only run on nodes with a label that nodes here never carry: a node
/// selector on a Karpenter label without values in the catalog, or required node affinity
/// whose every term needs one. Real Karpenter would launch instance types that carry it.
fn warn_unmodelled_selector(pod: &PodSpec, ctx: &Ctx<'_>, field: &str) {
    let unmodelled = |key: &str| UNMODELLED_WELL_KNOWN_LABELS.contains(&key);
    let by_selector = pod.node_selector.keys().find(|key| unmodelled(key));
    // In, Exists, Gt and Lt need the label; NotIn and DoesNotExist hold without it.
    fn needs(
        term: &autoscale_sim_kube::NodeSelectorTerm,
        unmodelled: impl Fn(&str) -> bool,
    ) -> Option<&String> {
        term.match_expressions
            .iter()
            .find(|r| {
                unmodelled(&r.key)
                    && !matches!(r.operator, Operator::NotIn | Operator::DoesNotExist)
            })
            .map(|r| &r.key)
    }
    let required = &pod.node_affinity.required;
    let by_affinity = if required.is_empty() {
        None
    } else {
        required
            .iter()
            .map(|term| needs(term, unmodelled))
            .collect::<Option<Vec<_>>>()
    };
    let key = by_selector.or_else(|| by_affinity.and_then(|keys| keys.first().copied()));
    if let Some(key) = key {
        ctx.warn(format!(
            "field {field}: the pods need nodes labelled {key}, which Karpenter sets but the built-in catalog has no values for, so no node here carries it and the pods stay Pending"
        ));
    }
}

fn build_workload(
    workload: &WorkloadSpec,
    index: usize,
    ctx: &Ctx<'_>,
    load_names: &[String],
    admission: &Admission,
    config: &mut SimConfig,
) -> Result<()> {
    let field = format!("workloads[{index}]");
    if matches!(workload.kind.value.as_str(), "PriorityClass" | "LimitRange") {
        // Collected before the other workloads into the Admission.
        return Ok(());
    }
    let name = workload
        .metadata
        .name
        .as_ref()
        .map(|n| n.value.clone())
        .ok_or_else(|| {
            ScenarioError::at(
                ctx.file,
                location(&workload.kind),
                &format!("{field}.metadata.name"),
                None,
                "the workload has no name",
                "write metadata: {name: my-service}",
            )
        })?;
    if workload.kind.value == "PodDisruptionBudget" {
        let pdb = build_pdb(workload, name, ctx, &field)?;
        config.pdbs.push(pdb);
        return Ok(());
    }
    let Some(template) = &workload.template else {
        return Err(ctx.error(
            &workload.kind,
            &format!("{field}.template"),
            None,
            format!("a {} needs a pod template", workload.kind.value),
            "add template: {spec: {containers: [...]}}",
        ));
    };
    let spec = build_pod_spec(
        template,
        workload.metadata.namespace.as_deref(),
        admission,
        ctx,
        &format!("{field}.template.spec"),
    )?;
    match workload.kind.value.as_str() {
        "DaemonSet" => {
            // The autoscalers read the template, which LimitRange defaults do not change.
            let mut daemonset = DaemonSet::new(&name, spec.clone());
            daemonset.spec.requests = resources::pod_requests(
                &template.spec,
                &limit_ranges::NamespaceLimits::default(),
                ctx,
                &format!("{field}.template.spec"),
            )?;
            config.daemonsets.push(daemonset);
            Ok(())
        }
        "Deployment" | "StatefulSet" => {
            let controller = match (
                workload.kind.value.as_str(),
                &workload.pod_management_policy,
            ) {
                ("Deployment", None) => ReplicaController::ReplicaSet,
                ("Deployment", Some(policy)) => {
                    return Err(ctx.error(
                        policy,
                        &format!("{field}.podManagementPolicy"),
                        Some(policy.value.clone()),
                        "podManagementPolicy applies to a StatefulSet only",
                        "remove podManagementPolicy, or make the workload a StatefulSet",
                    ));
                }
                (_, None) => ReplicaController::StatefulSet(PodManagementPolicy::OrderedReady),
                (_, Some(policy)) => ReplicaController::StatefulSet(match policy.value.as_str() {
                    "OrderedReady" => PodManagementPolicy::OrderedReady,
                    "Parallel" => PodManagementPolicy::Parallel,
                    _ => {
                        return Err(ctx.error(
                            policy,
                            &format!("{field}.podManagementPolicy"),
                            Some(policy.value.clone()),
                            "unknown pod management policy",
                            "write OrderedReady or Parallel",
                        ));
                    }
                }),
            };
            let replicas = match (&workload.replicas, &workload.hpa) {
                (Some(count), None) if count.value > MAX_REPLICAS => {
                    return Err(ctx.error(
                        count,
                        &format!("{field}.replicas"),
                        Some(count.value.to_string()),
                        format!("more than {MAX_REPLICAS} replicas"),
                        format!("write at most {MAX_REPLICAS}"),
                    ));
                }
                (Some(count), None) => Replicas::Fixed(count.value),
                (None, Some(hpa)) => Replicas::Hpa {
                    load: find_load(hpa, ctx, load_names, &field)?,
                    spec: build_hpa(hpa, ctx, &field)?,
                },
                (None, None) => Replicas::Fixed(1),
                (Some(count), Some(_)) => {
                    return Err(ctx.error(
                        count,
                        &format!("{field}.replicas"),
                        Some(count.value.to_string()),
                        "replicas and hpa are both set",
                        "keep replicas for a fixed count, or hpa to follow a load",
                    ));
                }
            };
            let startup_latency = match &workload.startup_latency {
                Some(text) => {
                    LatencyModel::Fixed(ctx.duration(text, &format!("{field}.startupLatency"))?)
                }
                None => LatencyModel::Fixed(autoscale_sim_sim::DEFAULT_POD_STARTUP),
            };
            config.deployments.push(Deployment {
                controller,
                name,
                spec: Arc::new(spec),
                replicas,
                startup_latency,
            });
            Ok(())
        }
        "Job" => {
            let Some(arrivals) = &workload.arrivals else {
                return Err(ctx.error(
                    &workload.kind,
                    &format!("{field}.arrivals"),
                    None,
                    "a Job stream needs arrivals",
                    "write arrivals: {load: NAME, perHourPerUnit: 1.0}",
                ));
            };
            let Some(duration) = &workload.duration else {
                return Err(ctx.error(
                    &workload.kind,
                    &format!("{field}.duration"),
                    None,
                    "a Job stream needs a run time",
                    "write duration: {distribution: logNormal, mean: 10m, stddev: 5m}",
                ));
            };
            let load = load_names
                .iter()
                .position(|l| *l == arrivals.load.value)
                .ok_or_else(|| {
                    ctx.error(
                        &arrivals.load,
                        &format!("{field}.arrivals.load"),
                        Some(arrivals.load.value.clone()),
                        format!("no load has this name (loads: {})", load_names.join(", ")),
                        "name a load defined under loads",
                    )
                })?;
            let rate = arrivals.per_hour_per_unit.value;
            if !rate.is_finite() || rate < 0.0 {
                return Err(ctx.error(
                    &arrivals.per_hour_per_unit,
                    &format!("{field}.arrivals.perHourPerUnit"),
                    Some(rate.to_string()),
                    "the rate must be a finite number zero or more",
                    "write a rate such as 1.0",
                ));
            }
            let startup_latency = match &workload.startup_latency {
                Some(text) => {
                    LatencyModel::Fixed(ctx.duration(text, &format!("{field}.startupLatency"))?)
                }
                None => LatencyModel::Fixed(autoscale_sim_sim::DEFAULT_POD_STARTUP),
            };
            config.jobs.push(JobStream {
                name,
                spec: Arc::new(spec),
                load,
                arrivals_per_hour_per_unit: rate,
                duration: build_latency(duration, ctx, &format!("{field}.duration"))?,
                startup_latency,
            });
            Ok(())
        }
        other => Err(ctx.error(
            &workload.kind,
            &format!("{field}.kind"),
            Some(other.to_string()),
            "unknown workload kind",
            "write Deployment, StatefulSet, DaemonSet, Job, PodDisruptionBudget, PriorityClass or LimitRange",
        )),
    }
}

fn build_pdb(
    workload: &WorkloadSpec,
    name: String,
    ctx: &Ctx<'_>,
    field: &str,
) -> Result<PodDisruptionBudget> {
    let Some(spec) = &workload.spec else {
        return Err(ctx.error(
            &workload.kind,
            &format!("{field}.spec"),
            None,
            "a PodDisruptionBudget needs a spec",
            "write spec: {selector: {matchLabels: {app: web}}, maxUnavailable: 1}",
        ));
    };
    if !spec.limits.is_empty() {
        return Err(ctx.error(
            &workload.kind,
            &format!("{field}.spec.limits"),
            None,
            "a PodDisruptionBudget takes no limits; they belong to a LimitRange",
            "remove spec.limits, or write kind: LimitRange",
        ));
    }
    let parse = |value: &Spanned<Scalar>, key: &str| -> Result<IntOrPercent> {
        let text = value.value.0.trim();
        let parsed = match text.strip_suffix('%') {
            Some(p) => p
                .parse::<i64>()
                .ok()
                .filter(|p| (0..=100).contains(p))
                .map(IntOrPercent::Percent),
            None => text
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .map(IntOrPercent::Int),
        };
        parsed.ok_or_else(|| {
            let message = if text
                .strip_suffix('%')
                .is_some_and(|p| p.parse::<i64>().is_ok())
            {
                "the percentage is out of range: it must be from 0% to 100%"
            } else {
                "not a pod count or a percentage"
            };
            ctx.error(
                value,
                &format!("{field}.spec.{key}"),
                Some(text.to_string()),
                message,
                "write a whole number such as 1, or a percentage from 0% to 100% such as 50%",
            )
        })
    };
    let min_available = spec
        .min_available
        .as_ref()
        .map(|v| parse(v, "minAvailable"))
        .transpose()?;
    let max_unavailable = spec
        .max_unavailable
        .as_ref()
        .map(|v| parse(v, "maxUnavailable"))
        .transpose()?;
    if min_available.is_some() == max_unavailable.is_some() {
        return Err(ctx.error(
            &workload.kind,
            &format!("{field}.spec"),
            None,
            "a PodDisruptionBudget needs exactly one of minAvailable and maxUnavailable",
            "keep one of the two",
        ));
    }
    Ok(PodDisruptionBudget {
        name,
        namespace: workload.metadata.namespace.clone().unwrap_or_default(),
        selector: spec.selector.clone(),
        min_available,
        max_unavailable,
    })
}

fn find_load(hpa: &HpaYaml, ctx: &Ctx<'_>, load_names: &[String], field: &str) -> Result<usize> {
    load_names
        .iter()
        .position(|l| *l == hpa.load.value)
        .ok_or_else(|| {
            let known = if load_names.is_empty() {
                "none".to_string()
            } else {
                load_names.join(", ")
            };
            ctx.error(
                &hpa.load,
                &format!("{field}.hpa.load"),
                Some(hpa.load.value.clone()),
                format!("no load has this name (loads: {known})"),
                "name a load defined under loads",
            )
        })
}

fn instance_type(
    catalog: &Catalog,
    text: &Spanned<String>,
    ctx: &Ctx<'_>,
    field: &str,
) -> Result<usize> {
    catalog.index_of(&text.value).ok_or_else(|| {
        let family = text.value.split('.').next().unwrap_or("");
        // Every size of the family, smallest first.
        let mut sizes: Vec<_> = catalog
            .types()
            .iter()
            .filter(|t| t.family == family)
            .collect();
        sizes.sort_by_key(|t| t.size_order_key());
        let similar: Vec<&str> = sizes.iter().map(|t| t.name.as_str()).collect();
        let hint = if similar.is_empty() {
            "run `autoscale-sim catalog` to list the instance types".to_string()
        } else {
            format!(
                "use one of {}, or run `autoscale-sim catalog`",
                similar.join(", ")
            )
        };
        ctx.error(
            text,
            field,
            Some(text.value.clone()),
            "unknown instance type",
            hint,
        )
    })
}

/// Builds one entry of `policies` for the world `config`, whose zones, duration, launch
/// latency and workloads are already set.
fn build_policy(
    entry: &PolicyEntry,
    index: usize,
    ctx: &Ctx<'_>,
    catalog: &Catalog,
    config: &SimConfig,
) -> Result<PolicySpec> {
    let (zones, run_end) = (config.zones.as_slice(), config.duration);
    let field = format!("policies[{index}]");
    let name = entry.name.value.clone();
    match (
        &entry.cluster_autoscaler,
        &entry.karpenter,
        &entry.static_fleet,
    ) {
        (Some(ca), None, None) => build_cluster_autoscaler(
            ca,
            name,
            ctx,
            catalog,
            config,
            &format!("{field}.clusterAutoscaler"),
        ),
        (None, Some(k), None) => {
            let spec = build_karpenter(
                k,
                name,
                ctx,
                (zones, run_end),
                &format!("{field}.karpenter"),
            )?;
            if let PolicySpec::Karpenter(config) = &spec {
                for (index, pool) in config.node_pools.iter().enumerate() {
                    if pool_instance_types(pool, catalog).next().is_none() {
                        // Inline NodePools come first; one from a manifest file is named
                        // without a position.
                        let (at, pool_field) = match k.node_pools.get(index) {
                            Some(manifest) => (
                                location(&manifest.kind),
                                format!("{field}.karpenter.nodePools[{index}]"),
                            ),
                            None => (None, format!("{field}.karpenter.manifests")),
                        };
                        return Err(ScenarioError::at(
                            ctx.file,
                            at,
                            &format!("{pool_field}.spec.template.spec.requirements"),
                            None,
                            format!(
                                "NodePool {} matches no instance type of the catalog",
                                pool.name
                            ),
                            "check the requirements' keys and values against `autoscale-sim catalog`; Karpenter's labels are karpenter.k8s.aws/instance-category, -family, -generation, -size, -cpu, -memory, node.kubernetes.io/instance-type and kubernetes.io/arch",
                        ));
                    }
                }
            }
            Ok(spec)
        }
        (None, None, Some(s)) => {
            let instance_type = instance_type(
                catalog,
                &s.instance_type,
                ctx,
                &format!("{field}.static.instanceType"),
            )?;
            if s.count.value > MAX_REPLICAS {
                return Err(ctx.error(
                    &s.count,
                    &format!("{field}.static.count"),
                    Some(s.count.value.to_string()),
                    format!("more than {MAX_REPLICAS} nodes"),
                    format!("write at most {MAX_REPLICAS}"),
                ));
            }
            Ok(PolicySpec::Static(StaticConfig {
                name,
                instance_type,
                count: s.count.value,
            }))
        }
        _ => Err(ctx.error(
            &entry.name,
            &field,
            Some(entry.name.value.clone()),
            "a policy needs exactly one of clusterAutoscaler, karpenter or static",
            "keep one of the three settings blocks",
        )),
    }
}

/// Builds a Cluster Autoscaler policy for the world `world`, whose zones, launch latency and
/// workloads are already set.
fn build_cluster_autoscaler(
    ca: &ClusterAutoscalerYaml,
    name: String,
    ctx: &Ctx<'_>,
    catalog: &Catalog,
    world: &SimConfig,
    field: &str,
) -> Result<PolicySpec> {
    let zones = world.zones.as_slice();
    let mut config = ClusterAutoscalerConfig {
        name,
        ..Default::default()
    };
    if ca.node_groups.is_empty() {
        return Err(ScenarioError::at(
            ctx.file,
            None,
            &format!("{field}.nodeGroups"),
            None,
            "no node group is listed",
            "add a node group with name, instanceType, minSize and maxSize",
        ));
    }
    for (index, group) in ca.node_groups.iter().enumerate() {
        let at = format!("{field}.nodeGroups[{index}]");
        if config
            .node_groups
            .iter()
            .any(|g: &NodeGroupConfig| g.name == group.name.value)
        {
            return Err(ctx.error(
                &group.name,
                &format!("{at}.name"),
                Some(group.name.value.clone()),
                "another node group has this name",
                "give each node group its own name",
            ));
        }
        let (instance_type, mixed_instances) =
            cluster_autoscaler::group_instance_types(group, ctx, catalog, &at)?;
        if group.min_size.value > group.max_size.value {
            return Err(ctx.error(
                &group.min_size,
                &format!("{at}.minSize"),
                Some(group.min_size.value.to_string()),
                format!("minSize is above maxSize ({})", group.max_size.value),
                "make minSize at most maxSize",
            ));
        }
        if group.max_size.value == 0 {
            return Err(ctx.error(
                &group.max_size,
                &format!("{at}.maxSize"),
                Some("0".into()),
                "the group can never have a node",
                "write a maxSize of at least 1",
            ));
        }
        let group_zones = cluster_autoscaler::group_zones(group, ctx, zones, &at)?;
        let capacity_type = match group.capacity_type.as_ref().map(|c| c.value.as_str()) {
            None | Some("on-demand") => CapacityType::OnDemand,
            Some("spot") => CapacityType::Spot,
            Some(other) => {
                let at_value = group.capacity_type.as_ref().expect("checked above");
                let message = "unknown capacity type";
                return Err(ctx.error(
                    at_value,
                    &format!("{at}.capacityType"),
                    Some(other.to_string()),
                    message,
                    "write on-demand or spot",
                ));
            }
        };
        config.node_groups.push(NodeGroupConfig {
            name: group.name.value.clone(),
            instance_type,
            min_size: group.min_size.value,
            max_size: group.max_size.value,
            zones: group_zones,
            labels: group.labels.clone(),
            taints: group.taints.clone(),
            capacity_type,
            mixed_instances,
        });
    }
    // Flags that take a list, one value per occurrence, as the real command line does.
    const REPEATABLE: [&str; 3] = ["--nodes", "--balancing-ignore-label", "--balancing-label"];
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (index, flag) in ca.flags.iter().enumerate() {
        let at = format!("{field}.flags[{index}]");
        let nodes = apply_flag(&flag.value, &mut config).map_err(|(message, fix)| {
            ctx.error(flag, &at, Some(flag.value.clone()), message, fix)
        })?;
        let name = flag.value.split('=').next().unwrap_or_default();
        if let Some(earlier) = seen.insert(name, index)
            && !REPEATABLE.contains(&name)
        {
            ctx.warn_at(
                flag,
                &at,
                format!(
                    "{name} is also given at {field}.flags[{earlier}]; the last value applies, as on the real command line"
                ),
            );
        }
        if let Some(why) = no_effect_reason(&flag.value) {
            ctx.warn_at(
                flag,
                &at,
                format!("{} is accepted and changes nothing here: {why}", flag.value),
            );
        }
        if let Some(nodes) = nodes {
            let Some(group) = config.node_groups.iter_mut().find(|g| g.name == nodes.name) else {
                return Err(ctx.error(
                    flag,
                    &at,
                    Some(flag.value.clone()),
                    format!("no node group is named {:?}", nodes.name),
                    "name a group listed under nodeGroups",
                ));
            };
            if nodes.min > nodes.max || nodes.max == 0 {
                return Err(ctx.error(
                    flag,
                    &at,
                    Some(flag.value.clone()),
                    "MIN is above MAX, or MAX is 0",
                    "write --nodes=MIN:MAX:NAME with 0 ≤ MIN ≤ MAX and MAX ≥ 1",
                ));
            }
            if (group.min_size, group.max_size) != (nodes.min, nodes.max) {
                ctx.warn_at(
                    flag,
                    &at,
                    format!(
                        "{} replaces minSize {} and maxSize {} of node group {}, as the real program takes a group's bounds from --nodes",
                        flag.value, group.min_size, group.max_size, group.name
                    ),
                );
            }
            group.min_size = nodes.min;
            group.max_size = nodes.max;
        }
    }
    cluster_autoscaler::warn_void_flags(ca, &config, &seen, world, ctx, field);
    // A filter that comes again in the chain gets the options it already narrowed, so it
    // changes nothing the second time.
    let chain = &config.expanders;
    if (1..chain.len()).any(|i| chain[..i].contains(&chain[i]))
        && let Some(index) = seen.get("--expander")
    {
        let flag = &ca.flags[*index];
        ctx.warn_at(
            flag,
            &format!("{field}.flags[{index}]"),
            format!(
                "{} names an expander twice; the second one changes nothing",
                flag.value
            ),
        );
    }
    config.priorities = cluster_autoscaler::priority_config(ca, &config, ctx, field)?;
    Ok(PolicySpec::ClusterAutoscaler(config))
}

fn build_karpenter(
    k: &KarpenterYaml,
    name: String,
    ctx: &Ctx<'_>,
    (zones, run_end): (&[String], SimDuration),
    field: &str,
) -> Result<PolicySpec> {
    let mut config = KarpenterConfig {
        name,
        node_pools: Vec::new(),
        ..Default::default()
    };
    if let Some(d) = &k.batch_idle_duration {
        config.batch_idle_duration = ctx.duration(d, &format!("{field}.batchIdleDuration"))?;
    }
    if let Some(d) = &k.batch_max_duration {
        config.batch_max_duration = ctx.duration(d, &format!("{field}.batchMaxDuration"))?;
    }
    if let Some(idle) = &k.batch_idle_duration
        && config.batch_idle_duration > config.batch_max_duration
    {
        ctx.warn_at(
            idle,
            &format!("{field}.batchIdleDuration"),
            format!(
                "{} is longer than batchMaxDuration ({}), which ends every batch first, so it changes nothing",
                config.batch_idle_duration, config.batch_max_duration
            ),
        );
    }
    if let Some(gates) = &k.feature_gates {
        config.spot_to_spot_consolidation = gates.spot_to_spot_consolidation;
    }
    if let Some(version) = &k.version {
        config.version = KarpenterVersion::parse(&version.value).ok_or_else(|| {
            ctx.error(
                version,
                &format!("{field}.version"),
                Some(version.value.clone()),
                "unknown Karpenter version",
                "write v1.13 or v1.14",
            )
        })?;
    }
    if let Some(policy) = &k.preference_policy {
        config.preference_policy = match policy.value.as_str() {
            "Respect" => PreferencePolicy::Respect,
            "Ignore" => PreferencePolicy::Ignore,
            other => {
                return Err(ctx.error(
                    policy,
                    &format!("{field}.preferencePolicy"),
                    Some(other.to_string()),
                    "unknown preference policy",
                    "write Respect or Ignore",
                ));
            }
        };
    }
    if let Some(policy) = &k.min_values_policy {
        config.min_values_policy = match policy.value.as_str() {
            "Strict" => MinValuesPolicy::Strict,
            "BestEffort" => MinValuesPolicy::BestEffort,
            other => {
                return Err(ctx.error(
                    policy,
                    &format!("{field}.minValuesPolicy"),
                    Some(other.to_string()),
                    "unknown minValues policy",
                    "write Strict or BestEffort",
                ));
            }
        };
    }
    let (node_pools, node_classes) = karpenter_manifests::build_node_pools(k, ctx, zones, field)?;
    config.node_pools = node_pools;
    for (index, manifest) in k.node_pools.iter().enumerate() {
        let name = manifest.metadata.name.as_ref().map(|n| n.value.as_str());
        if let Some(pool) = config
            .node_pools
            .iter()
            .find(|p| Some(p.name.as_str()) == name)
        {
            check_policy_version(
                pool,
                manifest,
                config.version,
                ctx,
                &format!("{field}.nodePools[{index}]"),
            )?;
        }
    }
    if config.version != KarpenterVersion::V1_14
        && let Some(pool) = config
            .node_pools
            .iter()
            .find(|p| p.consolidation_policy == ConsolidationPolicy::Balanced)
    {
        return Err(ScenarioError::at(
            ctx.file,
            None,
            &format!("{field}.manifests"),
            Some(pool.name.clone()),
            "the Balanced consolidation policy of this NodePool needs Karpenter v1.14",
            "set version: v1.14 in the karpenter policy, or write WhenEmptyOrUnderutilized",
        ));
    }
    config.node_pool_updates = karpenter_manifests::build_updates(
        k,
        (&config.node_pools, config.version),
        &node_classes,
        ctx,
        (zones, run_end),
        field,
    )?;
    Ok(PolicySpec::Karpenter(config))
}

/// Checks a manifest's `apiVersion` and `kind` against the `expected` values.
pub(crate) fn check_manifest_type(
    ctx: &Ctx<'_>,
    field: &str,
    api_version: (&Spanned<String>, &str),
    kind: (&Spanned<String>, &str),
) -> Result<()> {
    let (api_version, expected_api) = api_version;
    if api_version.value != expected_api {
        return Err(ctx.error(
            api_version,
            &format!("{field}.apiVersion"),
            Some(api_version.value.clone()),
            format!("unsupported {} API version", kind.1),
            format!("write apiVersion: {expected_api}"),
        ));
    }
    let (kind, expected_kind) = kind;
    if kind.value != expected_kind {
        return Err(ctx.error(
            kind,
            &format!("{field}.kind"),
            Some(kind.value.clone()),
            format!("the kind is not {expected_kind}"),
            format!("write kind: {expected_kind}"),
        ));
    }
    Ok(())
}

/// Rejects the `Balanced` consolidation policy outside Karpenter v1.14; `field` is the
/// NodePool manifest's path.
fn check_policy_version(
    pool: &NodePool,
    manifest: &NodePoolManifest,
    version: KarpenterVersion,
    ctx: &Ctx<'_>,
    field: &str,
) -> Result<()> {
    if pool.consolidation_policy != ConsolidationPolicy::Balanced
        || version == KarpenterVersion::V1_14
    {
        return Ok(());
    }
    let policy = manifest
        .spec
        .disruption
        .as_ref()
        .and_then(|d| d.consolidation_policy.as_ref())
        .expect("a Balanced pool has a consolidationPolicy");
    Err(ctx.error(
        policy,
        &format!("{field}.spec.disruption.consolidationPolicy"),
        Some(policy.value.clone()),
        "the Balanced consolidation policy needs Karpenter v1.14",
        "set version: v1.14 in the karpenter policy, or write WhenEmptyOrUnderutilized",
    ))
}

/// Reads a pod template's `karpenter.sh/do-not-disrupt` annotation, found at `field`. `"true"`
/// protects the pod for as long as it runs, and a positive duration such as `"30m"` for that
/// long after it starts (kubernetes-sigs/karpenter v1.14.1 `IsDoNotDisruptActive`). Karpenter
/// ignores any other value, which is rejected here instead.
fn do_not_disrupt(
    annotations: &BTreeMap<String, Spanned<String>>,
    ctx: &Ctx<'_>,
    field: &str,
) -> Result<(bool, Option<SimDuration>)> {
    let Some(value) = annotations.get(DO_NOT_DISRUPT) else {
        return Ok((false, None));
    };
    let fix = "write \"true\", \"false\", or a duration such as \"30m\" or \"1h30m\"";
    match value.value.as_str() {
        "true" => return Ok((true, None)),
        "false" => return Ok((false, None)),
        _ => {}
    }
    let error =
        |problem: &str, fix: &str| ctx.error(value, field, Some(value.value.clone()), problem, fix);
    // Karpenter parses the value with Go's time.ParseDuration and ignores what that rejects.
    let nanos = match parse_go_duration(&value.value) {
        Ok(nanos) => nanos,
        Err(reason) => {
            let days = value
                .value
                .strip_suffix('d')
                .and_then(|n| n.parse::<u64>().ok())
                .and_then(|n| n.checked_mul(24));
            let day_fix =
                days.map(|hours| format!("write the duration in hours, such as \"{hours}h\""));
            return Err(error(
                &format!(
                    "expected \"true\", \"false\" or a duration as Go reads it ({reason}), because Karpenter ignores any other value"
                ),
                day_fix.as_deref().unwrap_or(fix),
            ));
        }
    };
    if nanos <= 0 {
        return Err(error(
            "a duration that is not positive protects nothing, and Karpenter ignores it",
            fix,
        ));
    }
    // The run counts whole milliseconds: rounding up keeps "protected while it has run for
    // less than the duration" exact at every millisecond.
    let millis = u64::try_from((nanos + 999_999) / 1_000_000).unwrap_or(u64::MAX);
    Ok((false, Some(SimDuration::from_millis(millis))))
}

fn build_node_pool(
    manifest: &NodePoolManifest,
    ctx: &Ctx<'_>,
    zones: &[String],
    field: &str,
) -> Result<NodePool> {
    check_manifest_type(
        ctx,
        field,
        (&manifest.api_version, "karpenter.sh/v1"),
        (&manifest.kind, "NodePool"),
    )?;
    let name = manifest
        .metadata
        .name
        .as_ref()
        .map(|n| n.value.clone())
        .ok_or_else(|| {
            ctx.error(
                &manifest.kind,
                &format!("{field}.metadata.name"),
                None,
                "the NodePool has no name",
                "write metadata: {name: default}",
            )
        })?;
    let spec = &manifest.spec;
    let annotations = &spec.template.metadata.annotations;
    if let Some(value) = annotations.get(DO_NOT_DISRUPT)
        && value.value != "true"
        && value.value != "false"
    {
        ctx.warn_at(
            value,
            &format!("{field}.spec.template.metadata.annotations.{DO_NOT_DISRUPT}"),
            format!(
                "{:?} does not keep the nodes from disruption: Karpenter reads only \"true\" on a node (a duration works on a pod's annotation only)",
                value.value
            ),
        );
    }
    let mut pool = NodePool {
        name,
        labels: spec.template.metadata.labels.clone(),
        annotations: annotations
            .iter()
            .map(|(key, value)| (key.clone(), value.value.clone()))
            .collect(),
        taints: spec.template.spec.taints.clone(),
        ..Default::default()
    };
    if let Some(weight) = &spec.weight {
        if !(1..=100).contains(&weight.value) {
            return Err(ctx.error(
                weight,
                &format!("{field}.spec.weight"),
                Some(weight.value.to_string()),
                "weight must be from 1 to 100",
                "write a weight from 1 to 100, or leave it out",
            ));
        }
        pool.weight = weight.value;
    }

    // Requirements.
    for (index, req) in spec.template.spec.requirements.iter().enumerate() {
        let at = format!("{field}.spec.template.spec.requirements[{index}]");
        let operator = match req.operator.value.as_str() {
            "In" => Operator::In,
            "NotIn" => Operator::NotIn,
            "Exists" => Operator::Exists,
            "DoesNotExist" => Operator::DoesNotExist,
            "Gt" => Operator::Gt,
            "Lt" => Operator::Lt,
            other => {
                return Err(ctx.error(
                    &req.operator,
                    &format!("{at}.operator"),
                    Some(other.to_string()),
                    "unknown operator",
                    "write In, NotIn, Exists, DoesNotExist, Gt or Lt",
                ));
            }
        };
        let min_values = match &req.min_values {
            Some(min) => Some(validate_min_values(min, operator, &req.values, ctx, &at)?),
            None => None,
        };
        let key = req.key.value.as_str();
        if UNMODELLED_WELL_KNOWN_LABELS.contains(&key) {
            return Err(ctx.error(
                &req.key,
                &format!("{at}.key"),
                Some(key.to_string()),
                "Karpenter labels nodes with this key, but the built-in catalog has no values for it, so a requirement on it is not modelled",
                "remove the requirement, and choose instance types by karpenter.k8s.aws/instance-category, -family, -generation, -size, -cpu or -memory instead (see `autoscale-sim catalog`)",
            ));
        }
        // Karpenter labels a node with a custom key from the values that the NodePool and the
        // pods allow together (v1.14 `NodeClaimTemplate.resolveCustomLabelsFromRequirements`).
        // Here node labels come from the instance type and the template's labels only, so such
        // a requirement needs a template label.
        if !MODELLED_NODE_LABELS.contains(&key)
            && !pool.labels.contains_key(key)
            && operator != Operator::DoesNotExist
        {
            return Err(ctx.error(
                &req.key,
                &format!("{at}.key"),
                Some(key.to_string()),
                "a requirement on a label that is neither an instance-type label nor set under spec.template.metadata.labels is not modelled: Karpenter would take the node's value from the pods that need it",
                format!("set the label's value under spec.template.metadata.labels (such as {key}: example), or remove the requirement"),
            ));
        }
        let requirement = Requirement {
            key: req.key.value.clone(),
            operator,
            values: req.values.clone(),
            min_values,
        };
        requirement.validate().map_err(|message| {
            ctx.error(
                &req.operator,
                &at,
                None,
                message,
                "fix the values list for this operator",
            )
        })?;
        if let Some(label) = pool.labels.get(key)
            && !requirement.matches(&BTreeMap::from([(key.to_string(), label.clone())]))
        {
            return Err(ctx.error(
                &req.key,
                &format!("{at}.key"),
                Some(key.to_string()),
                format!("the requirement excludes the template's own label {key}: {label}, so the NodePool can launch no node"),
                format!("make the requirement allow {label}, or change the label under spec.template.metadata.labels"),
            ));
        }
        let allows = |value: &str| {
            requirement.matches(&BTreeMap::from([(
                LABEL_CAPACITY_TYPE.to_string(),
                value.to_string(),
            )]))
        };
        if requirement.key == LABEL_CAPACITY_TYPE && !allows("on-demand") && !allows("spot") {
            return Err(ctx.error(
                &req.key,
                &format!("{at}.values"),
                Some(req.values.join(",")),
                "the requirement allows neither spot nor on-demand capacity",
                "write values: [spot, on-demand], [spot] or [on-demand]",
            ));
        }
        pool.requirements.push(requirement);
    }
    if let Some(zone_req) = pool
        .requirements
        .iter()
        .find(|r| r.key == autoscale_sim_kube::LABEL_ZONE)
        && !zones.iter().any(|z| {
            zone_req.matches(&BTreeMap::from([(
                autoscale_sim_kube::LABEL_ZONE.to_string(),
                z.clone(),
            )]))
        })
    {
        return Err(ScenarioError::at(
            ctx.file,
            None,
            &format!("{field}.spec.template.spec.requirements"),
            None,
            "the zone requirement matches none of the scenario's zones",
            "allow at least one zone listed under cloud.zones",
        ));
    }

    if let Some(expire_after) = &spec.template.spec.expire_after {
        pool.expire_after = ctx.duration_or_never(
            expire_after,
            &format!("{field}.spec.template.spec.expireAfter"),
        )?;
        if pool.expire_after == Some(SimDuration::ZERO) {
            ctx.warn_at(
                expire_after,
                &format!("{field}.spec.template.spec.expireAfter"),
                "every node expires as soon as it launches, so its pods never run; write a longer duration or Never".to_string(),
            );
        }
    }

    if let Some(grace) = &spec.template.spec.termination_grace_period {
        let at = format!("{field}.spec.template.spec.terminationGracePeriod");
        if grace.value.trim_start().starts_with('-') {
            return Err(ctx.error(
                grace,
                &at,
                Some(grace.value.clone()),
                "the duration is negative",
                "write a positive duration such as 48h, 30m or 1h30m",
            ));
        }
        // The NodePool CRD's pattern, `^([0-9]+(s|m|h))+$`, admits hours, minutes and seconds.
        if !is_seconds_minutes_hours(&grace.value) {
            return Err(ctx.error(
                grace,
                &at,
                Some(grace.value.clone()),
                "terminationGracePeriod takes hours, minutes and seconds only",
                "write a duration such as 48h, 30m or 1h30m",
            ));
        }
        pool.termination_grace_period = Some(ctx.duration(grace, &at)?);
    }

    // Fields accepted but not modelled yet.
    let name = &pool.name;
    if !spec.template.spec.startup_taints.is_empty() {
        ctx.warn(format!(
            "field {field}.spec.template.spec.startupTaints: NodePool {name}: startupTaints are accepted but not modelled yet"
        ));
    }

    // Disruption.
    if let Some(disruption) = &spec.disruption {
        if let Some(policy) = &disruption.consolidation_policy {
            pool.consolidation_policy = match policy.value.as_str() {
                "WhenEmpty" => ConsolidationPolicy::WhenEmpty,
                "WhenEmptyOrUnderutilized" => ConsolidationPolicy::WhenEmptyOrUnderutilized,
                "Balanced" => ConsolidationPolicy::Balanced,
                other => {
                    return Err(ctx.error(
                        policy,
                        &format!("{field}.spec.disruption.consolidationPolicy"),
                        Some(other.to_string()),
                        "unknown consolidation policy",
                        "write WhenEmpty, WhenEmptyOrUnderutilized or (with version v1.14) Balanced",
                    ));
                }
            };
        }
        if let Some(after) = &disruption.consolidate_after {
            pool.consolidate_after =
                ctx.duration_or_never(after, &format!("{field}.spec.disruption.consolidateAfter"))?;
        }
        if let Some(budgets) = &disruption.budgets {
            pool.budgets = Vec::new();
            for (index, budget) in budgets.iter().enumerate() {
                let at = format!("{field}.spec.disruption.budgets[{index}]");
                let nodes = parse_budget_nodes(&budget.nodes, ctx, &at)?;
                let reasons = parse_budget_reasons(budget, ctx, &at)?;
                let window = parse_budget_window(budget, ctx, &at)?;
                if reasons.is_empty() && window.is_none() {
                    pool.budgets.push(nodes);
                } else {
                    pool.conditional_budgets.push(DisruptionBudget {
                        nodes,
                        reasons,
                        window,
                    });
                }
            }
        }
    }

    // Limits.
    if !spec.limits.is_empty() {
        let mut limit = Resources {
            extended: [i64::MAX; autoscale_sim_cloud::EXTENDED_RESOURCES],
            ..Resources::new(i64::MAX, i64::MAX, i64::MAX)
        };
        let mut resource_limit = false;
        for (key, value) in &spec.limits {
            let at = format!("{field}.spec.limits.{key}");
            let bad = |reason: &str| {
                ctx.error(
                    value,
                    &at,
                    Some(value.value.0.clone()),
                    reason.to_string(),
                    "write a quantity such as 1000 for cpu or 1000Gi for memory",
                )
            };
            match key.as_str() {
                "cpu" => {
                    limit.cpu_millis =
                        quantity::parse_cpu_millis(&value.value.0).map_err(|e| bad(e.reason))?;
                    resource_limit = true;
                }
                "memory" => {
                    limit.memory_bytes =
                        quantity::parse_value(&value.value.0).map_err(|e| bad(e.reason))?;
                    resource_limit = true;
                }
                "nodes" => {
                    let nodes = value.value.0.trim().parse::<u32>().map_err(|_| {
                        ctx.error(
                            value,
                            &at,
                            Some(value.value.0.clone()),
                            "not a whole number of nodes",
                            "write a whole number such as 10",
                        )
                    })?;
                    pool.limit_nodes = Some(nodes);
                }
                other => {
                    return Err(ctx.error(
                        value,
                        &at,
                        Some(value.value.0.clone()),
                        format!("limit {other:?} is not modelled yet"),
                        "limit cpu, memory and nodes only",
                    ));
                }
            }
        }
        if resource_limit {
            pool.limits = Some(limit);
        }
        for (key, value) in &spec.limits {
            let amount = match key.as_str() {
                "cpu" => limit.cpu_millis,
                "memory" => limit.memory_bytes,
                _ => pool.limit_nodes.map_or(1, i64::from),
            };
            if amount < 0 {
                return Err(ctx.error(
                    value,
                    &format!("{field}.spec.limits.{key}"),
                    Some(value.value.0.clone()),
                    "a limit is zero or more",
                    "write a quantity such as 1000 for cpu or 1000Gi for memory",
                ));
            }
            if amount == 0 {
                // Karpenter accepts a zero limit, which operators use to stop a NodePool from
                // launching.
                ctx.warn_at(
                    value,
                    &format!("{field}.spec.limits.{key}"),
                    format!("NodePool {} launches no node with a limit of 0", pool.name),
                );
            }
        }
    }
    Ok(pool)
}

/// Checks `minValues` as the NodePool CRD does (kubernetes-sigs/karpenter v1.13
/// `pkg/apis/v1/nodepool.go` and its validation rules): 1 to 50, and with `In` no more than the
/// number of values listed.
fn validate_min_values(
    min: &Spanned<i64>,
    operator: Operator,
    values: &[String],
    ctx: &Ctx<'_>,
    at: &str,
) -> Result<u32> {
    let field = format!("{at}.minValues");
    if !(1..=50).contains(&min.value) {
        return Err(ctx.error(
            min,
            &field,
            Some(min.value.to_string()),
            "minValues must be from 1 to 50",
            "write a whole number from 1 to 50, or leave minValues out",
        ));
    }
    if operator == Operator::In && min.value as usize > values.len() {
        return Err(ctx.error(
            min,
            &field,
            Some(min.value.to_string()),
            format!(
                "minValues is larger than the {} values the In requirement lists",
                values.len()
            ),
            "list at least as many values as minValues, or lower minValues",
        ));
    }
    Ok(min.value as u32)
}

/// Parses a budget's `nodes`: a whole number or a percentage up to 100%.
fn parse_budget_nodes(
    nodes: &Spanned<BudgetNodesText>,
    ctx: &Ctx<'_>,
    at: &str,
) -> Result<BudgetNodes> {
    let text = nodes.value.0.trim();
    let parsed = match text.strip_suffix('%') {
        Some(p) => p
            .parse::<u32>()
            .ok()
            .filter(|p| *p <= 100)
            .map(BudgetNodes::Percent),
        None => text.parse::<u32>().ok().map(BudgetNodes::Count),
    };
    let over_100 = text
        .strip_suffix('%')
        .and_then(|p| p.parse::<u64>().ok())
        .is_some_and(|p| p > 100);
    parsed.ok_or_else(|| {
        let (message, fix) = if over_100 {
            (
                "the percentage is above 100%",
                "write a percentage of at most 100%",
            )
        } else {
            (
                "not a node count or a percentage",
                "write a whole number such as \"2\", or a percentage such as \"10%\"",
            )
        };
        ctx.error(
            nodes,
            &format!("{at}.nodes"),
            Some(text.to_string()),
            message,
            fix,
        )
    })
}

/// Parses a budget's `reasons`: `Underutilized`, `Empty` or `Drifted`.
fn parse_budget_reasons(budget: &BudgetYaml, ctx: &Ctx<'_>, at: &str) -> Result<Vec<BudgetReason>> {
    let mut reasons = Vec::new();
    for (index, reason) in budget.reasons.iter().flatten().enumerate() {
        let parsed = BudgetReason::parse(&reason.value).ok_or_else(|| {
            ctx.error(
                reason,
                &format!("{at}.reasons[{index}]"),
                Some(reason.value.clone()),
                "unknown disruption reason",
                "write Underutilized, Empty or Drifted",
            )
        })?;
        if !reasons.contains(&parsed) {
            reasons.push(parsed);
        }
    }
    Ok(reasons)
}

/// Parses a budget's `schedule` and `duration`, which go together. The duration takes hours
/// and minutes only, as the NodePool CRD's pattern does.
fn parse_budget_window(
    budget: &BudgetYaml,
    ctx: &Ctx<'_>,
    at: &str,
) -> Result<Option<(CronSchedule, i64)>> {
    let (schedule, duration) = match (&budget.schedule, &budget.duration) {
        (None, None) => return Ok(None),
        (Some(schedule), Some(duration)) => (schedule, duration),
        (Some(schedule), None) => {
            return Err(ctx.error(
                schedule,
                &format!("{at}.duration"),
                None,
                "a budget with a schedule needs a duration",
                "add a duration such as 8h or 30m",
            ));
        }
        (None, Some(duration)) => {
            return Err(ctx.error(
                duration,
                &format!("{at}.schedule"),
                None,
                "a budget with a duration needs a schedule",
                "add a schedule in cron syntax such as \"0 9 * * mon-fri\"",
            ));
        }
    };
    let cron = CronSchedule::parse(&schedule.value).map_err(|reason| {
        ctx.error(
            schedule,
            &format!("{at}.schedule"),
            Some(schedule.value.clone()),
            format!("invalid cron schedule: {reason}"),
            "write five fields (minute hour day-of-month month day-of-week) such as \"0 9 * * mon-fri\", or @daily",
        )
    })?;
    let seconds = parse_hours_minutes(&duration.value).ok_or_else(|| {
        ctx.error(
            duration,
            &format!("{at}.duration"),
            Some(duration.value.clone()),
            "a budget duration takes hours and minutes only",
            "write a duration such as 8h, 30m or 1h30m",
        )
    })?;
    Ok(Some((cron, seconds)))
}

/// Parses `XhYm`, `Xh` or `Ym`, optionally followed by `0s` as Go prints durations, into seconds.
fn parse_hours_minutes(text: &str) -> Option<i64> {
    let body = text.strip_suffix("0s").unwrap_or(text);
    let number = |s: &str| {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse::<i64>().ok()
    };
    if let Some(minutes) = body.strip_suffix('m') {
        match minutes.split_once('h') {
            Some((hours, minutes)) => Some(number(hours)? * 3600 + number(minutes)? * 60),
            None => Some(number(minutes)? * 60),
        }
    } else {
        Some(number(body.strip_suffix('h')?)? * 3600)
    }
}

/// Checks `text` against the pattern `^([0-9]+(s|m|h))+$` of Karpenter's NodePool duration
/// fields such as `terminationGracePeriod`.
fn is_seconds_minutes_hours(text: &str) -> bool {
    let mut digits = 0;
    for c in text.chars() {
        match c {
            '0'..='9' => digits += 1,
            's' | 'm' | 'h' if digits > 0 => digits = 0,
            _ => return false,
        }
    }
    !text.is_empty() && digits == 0
}
