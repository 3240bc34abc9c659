//! LimitRange workloads and what the LimitRanger admission plugin does with them when a pod is
//! created (kubernetes/kubernetes `plugin/pkg/admission/limitranger/admission.go`), after the
//! API server's defaulting of the LimitRange itself (`pkg/apis/core/v1/defaults.go`,
//! `SetDefaults_LimitRangeItem`).
//!
//! A container item's `default` limits and `defaultRequest` requests fill in what a container
//! leaves out; `min` and `max` reject pods outside them, and `maxLimitRequestRatio` rejects a
//! limit too far above its request. A Pod item applies `min`, `max` and `maxLimitRequestRatio`
//! to the pod's total requests and limits. PersistentVolumeClaim items are not enforced,
//! because the simulation has no volumes. A DaemonSet's pods get the defaults too, while the
//! autoscalers estimate a new node's DaemonSet overhead from the template without them, as the
//! real programs do (kubernetes-sigs/karpenter, user report aws/karpenter-provider-aws #3199).

use std::collections::BTreeMap;

use autoscale_sim_cloud::Resources;

use super::resources::parse_resources;
use super::{Ctx, Result, location};
use crate::error::ScenarioError;
use crate::schema::{LimitRangeItemYaml, WorkloadSpec};

/// One `Container` or `Pod` item of a LimitRange, after the API server's defaulting, with each
/// resource's quantity parsed. A Pod item has no defaults.
#[derive(Clone, Debug, Default)]
pub(crate) struct ContainerLimits {
    /// The LimitRange's name, for messages.
    pub range: String,
    /// Line and column of the item's `type`, for errors about what the item sets.
    pub location: Option<(u64, u64)>,
    pub default_limits: BTreeMap<String, Resources>,
    pub default_requests: BTreeMap<String, Resources>,
    pub min: BTreeMap<String, Resources>,
    pub max: BTreeMap<String, Resources>,
    /// Highest limit-to-request ratio per resource, in thousandths.
    pub max_ratio_millis: BTreeMap<String, i64>,
}

/// The items of one namespace's LimitRanges, in the order of the LimitRanges' names.
#[derive(Clone, Debug, Default)]
pub(crate) struct NamespaceLimits {
    /// `Container` items.
    pub containers: Vec<ContainerLimits>,
    /// `Pod` items.
    pub pods: Vec<ContainerLimits>,
}

/// The scenario's LimitRanges, by namespace.
#[derive(Clone, Debug, Default)]
pub(crate) struct LimitRanges {
    by_namespace: BTreeMap<String, NamespaceLimits>,
}

impl LimitRanges {
    /// Collects the `LimitRange` entries of `workloads`, wherever they are in the list.
    /// `PersistentVolumeClaim` items are accepted with a warning.
    pub(crate) fn collect(workloads: &[WorkloadSpec], ctx: &Ctx<'_>) -> Result<Self> {
        let mut named: BTreeMap<(String, String), NamespaceLimits> = BTreeMap::new();
        for (index, workload) in workloads.iter().enumerate() {
            if workload.kind.value != "LimitRange" {
                continue;
            }
            let field = format!("workloads[{index}]");
            let Some(name) = workload.metadata.name.as_ref() else {
                return Err(ScenarioError::at(
                    ctx.file,
                    location(&workload.kind),
                    &format!("{field}.metadata.name"),
                    None,
                    "the LimitRange has no name",
                    "write metadata: {name: defaults}",
                ));
            };
            let Some(spec) = &workload.spec else {
                return Err(ctx.error(
                    &workload.kind,
                    &format!("{field}.spec"),
                    None,
                    "a LimitRange needs a spec",
                    "write spec: {limits: [{type: Container, defaultRequest: {cpu: 100m}}]}",
                ));
            };
            if spec.min_available.is_some()
                || spec.max_unavailable.is_some()
                || !spec.selector.match_labels.is_empty()
                || !spec.selector.match_expressions.is_empty()
            {
                return Err(ctx.error(
                    &workload.kind,
                    &format!("{field}.spec"),
                    None,
                    "a LimitRange takes only spec.limits",
                    "remove selector, minAvailable and maxUnavailable",
                ));
            }
            let namespace = workload
                .metadata
                .namespace
                .clone()
                .unwrap_or_else(|| "default".to_string());
            let mut items = NamespaceLimits::default();
            for (item_index, item) in spec.limits.iter().enumerate() {
                let at = format!("{field}.spec.limits[{item_index}]");
                match item.kind.value.as_str() {
                    "Container" => items
                        .containers
                        .push(container_item(item, &name.value, ctx, &at)?),
                    "Pod" => items.pods.push(pod_item(item, &name.value, ctx, &at)?),
                    "PersistentVolumeClaim" => ctx.warn_at(
                        &item.kind,
                        &format!("{at}.type"),
                        format!(
                            "LimitRange {}: PersistentVolumeClaim items are accepted and not enforced, because the simulation has no volumes",
                            name.value
                        ),
                    ),
                    other => {
                        return Err(ctx.error(
                            &item.kind,
                            &format!("{at}.type"),
                            Some(other.to_string()),
                            "unknown LimitRange item type",
                            "write Container, Pod or PersistentVolumeClaim",
                        ));
                    }
                }
            }
            named.insert((namespace, name.value.clone()), items);
        }
        let mut by_namespace: BTreeMap<String, NamespaceLimits> = BTreeMap::new();
        for ((namespace, _), items) in named {
            let limits = by_namespace.entry(namespace).or_default();
            limits.containers.extend(items.containers);
            limits.pods.extend(items.pods);
        }
        Ok(LimitRanges { by_namespace })
    }

    /// Returns the items that apply to pods of `namespace` (`default` when it is empty).
    pub(crate) fn for_namespace(&self, namespace: Option<&str>) -> &NamespaceLimits {
        static NONE: NamespaceLimits = NamespaceLimits {
            containers: Vec::new(),
            pods: Vec::new(),
        };
        let namespace = namespace.filter(|n| !n.is_empty()).unwrap_or("default");
        self.by_namespace.get(namespace).unwrap_or(&NONE)
    }
}

/// Parses one `Pod` item. The API server rejects `default` and `defaultRequest` on a Pod item
/// and defaults nothing in it (`ValidateLimitRange`, `SetDefaults_LimitRangeItem`).
fn pod_item(
    item: &LimitRangeItemYaml,
    range: &str,
    ctx: &Ctx<'_>,
    field: &str,
) -> Result<ContainerLimits> {
    let defaults = [
        ("default", &item.default),
        ("defaultRequest", &item.default_request),
    ];
    for (key, values) in defaults {
        if let Some((name, value)) = values.iter().next() {
            return Err(ctx.error(
                value,
                &format!("{field}.{key}.{name}"),
                Some(value.value.0.clone()),
                format!("a Pod item takes no {key}"),
                format!("move {key} to a Container item, or remove it"),
            ));
        }
    }
    let limits = ContainerLimits {
        range: range.to_string(),
        location: location(&item.kind),
        min: parse_resources(&item.min, ctx, &format!("{field}.min"))?,
        max: parse_resources(&item.max, ctx, &format!("{field}.max"))?,
        max_ratio_millis: parse_ratios(item, ctx, field)?,
        ..ContainerLimits::default()
    };
    check_item(&limits, item, ctx, field)?;
    Ok(limits)
}

/// Parses an item's `maxLimitRequestRatio`, in thousandths.
fn parse_ratios(
    item: &LimitRangeItemYaml,
    ctx: &Ctx<'_>,
    field: &str,
) -> Result<BTreeMap<String, i64>> {
    let mut ratios = BTreeMap::new();
    for (name, value) in &item.max_limit_request_ratio {
        let at = format!("{field}.maxLimitRequestRatio.{name}");
        let ratio = autoscale_sim_kube::quantity::parse_cpu_millis(&value.value.0)
            .ok()
            .filter(|r| *r >= 1000);
        let Some(ratio) = ratio else {
            return Err(ctx.error(
                value,
                &at,
                Some(value.value.0.clone()),
                "invalid ratio",
                "write a ratio of 1 or more, such as 2 or 1.5",
            ));
        };
        ratios.insert(name.clone(), ratio);
    }
    Ok(ratios)
}

/// Parses one `Container` item and applies the API server's defaulting: a missing default
/// limit takes the max, then a missing default request takes the default limit, then the min.
fn container_item(
    item: &LimitRangeItemYaml,
    range: &str,
    ctx: &Ctx<'_>,
    field: &str,
) -> Result<ContainerLimits> {
    let mut limits = ContainerLimits {
        range: range.to_string(),
        location: location(&item.kind),
        default_limits: parse_resources(&item.default, ctx, &format!("{field}.default"))?,
        default_requests: parse_resources(
            &item.default_request,
            ctx,
            &format!("{field}.defaultRequest"),
        )?,
        min: parse_resources(&item.min, ctx, &format!("{field}.min"))?,
        max: parse_resources(&item.max, ctx, &format!("{field}.max"))?,
        max_ratio_millis: parse_ratios(item, ctx, field)?,
    };
    for (name, max) in &limits.max {
        limits.default_limits.entry(name.clone()).or_insert(*max);
    }
    for (name, limit) in &limits.default_limits {
        limits
            .default_requests
            .entry(name.clone())
            .or_insert(*limit);
    }
    for (name, min) in &limits.min {
        limits.default_requests.entry(name.clone()).or_insert(*min);
    }
    check_item(&limits, item, ctx, field)?;
    Ok(limits)
}

/// Rejects an item whose bounds contradict each other, as the API server's validation of a
/// LimitRange does: for each resource, min ≤ defaultRequest ≤ default ≤ max, and min ≤ max.
fn check_item(
    limits: &ContainerLimits,
    item: &LimitRangeItemYaml,
    ctx: &Ctx<'_>,
    field: &str,
) -> Result<()> {
    let bounds = [
        ("min", &limits.min),
        ("defaultRequest", &limits.default_requests),
        ("default", &limits.default_limits),
        ("max", &limits.max),
    ];
    for (low_index, (low_name, low)) in bounds.iter().enumerate() {
        for (high_name, high) in &bounds[low_index + 1..] {
            for (resource, low_value) in low.iter() {
                let Some(high_value) = high.get(resource) else {
                    continue;
                };
                if amount(low_value) > amount(high_value) {
                    return Err(ScenarioError::at(
                        ctx.file,
                        location(&item.kind),
                        &format!("{field}.{low_name}.{resource}"),
                        Some(format_amount(resource, low_value)),
                        format!(
                            "the {low_name} {resource} is above the {high_name} {}",
                            format_amount(resource, high_value)
                        ),
                        format!(
                            "keep min ≤ defaultRequest ≤ default ≤ max for {resource}, as the API server requires"
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Returns the amount of the one resource a parsed quantity holds: each map entry holds one
/// resource, so the sum of its fields is that resource's amount.
fn amount(resources: &Resources) -> i64 {
    resources.cpu_millis
        + resources.memory_bytes
        + resources
            .extended
            .iter()
            .map(|count| count * 1000)
            .sum::<i64>()
}

/// Formats the amount of resource `name` as Kubernetes writes quantities.
pub(super) fn format_amount(name: &str, resources: &Resources) -> String {
    match name {
        "cpu" => autoscale_sim_kube::quantity::format_cpu_millis(resources.cpu_millis),
        "memory" => autoscale_sim_kube::quantity::format_bytes(resources.memory_bytes),
        _ => resources.extended.iter().sum::<i64>().to_string(),
    }
}

/// Fills in a container's missing limits and requests from each item in turn, as LimitRanger's
/// `mergeContainerResources` does, so an earlier LimitRange's value is kept.
///
/// Returns the item that set each defaulted limit or request, by resource name.
pub(super) fn apply_defaults<'a>(
    items: &'a [ContainerLimits],
    requests: &mut BTreeMap<String, Resources>,
    limits: &mut BTreeMap<String, Resources>,
) -> BTreeMap<String, &'a ContainerLimits> {
    let mut origins = BTreeMap::new();
    for item in items {
        for (name, limit) in &item.default_limits {
            if !limits.contains_key(name) {
                limits.insert(name.clone(), *limit);
                origins.insert(name.clone(), item);
            }
        }
        for (name, request) in &item.default_requests {
            if !requests.contains_key(name) {
                requests.insert(name.clone(), *request);
                origins.entry(name.clone()).or_insert(item);
            }
        }
    }
    origins
}

/// A container or pod that a LimitRange rejects.
pub(super) struct Violation<'a> {
    /// The resource at fault.
    pub resource: String,
    /// The item that rejects the container or pod.
    pub item: &'a ContainerLimits,
    /// Whether the limit is at fault rather than the request.
    pub on_limit: bool,
    pub message: String,
    pub fix: String,
}

/// What a check covers: one container, against `Container` items, or the whole pod, against
/// `Pod` items.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Scope {
    Container,
    Pod,
}

/// Checks final requests and limits against each item's min, max and ratio, as LimitRanger's
/// `minConstraint`, `maxConstraint` and `limitRequestRatioConstraint` do, and returns the first
/// violation. For [`Scope::Pod`], `requests` and `limits` are the pod's totals.
pub(super) fn check<'a>(
    items: &'a [ContainerLimits],
    requests: &BTreeMap<String, Resources>,
    limits: &BTreeMap<String, Resources>,
    scope: Scope,
) -> Option<Violation<'a>> {
    let (subject, whose) = match scope {
        Scope::Container => ("container", ""),
        Scope::Pod => ("pod", "pod's total "),
    };
    let violation = |item: &'a ContainerLimits,
                     (resource, on_limit): (&str, bool),
                     message: String,
                     fix: String| {
        Some(Violation {
            resource: resource.to_string(),
            item,
            on_limit,
            message: format!("LimitRange {} rejects the pods: {message}", item.range),
            fix,
        })
    };
    for item in items {
        for (name, min) in &item.min {
            let min_text = format_amount(name, min);
            let Some(request) = requests.get(name) else {
                return violation(
                    item,
                    (name, false),
                    format!("the {subject} has no {name} request, and the minimum is {min_text}"),
                    format!("request at least {min_text} of {name}"),
                );
            };
            let below = [("request", Some(request)), ("limit", limits.get(name))]
                .into_iter()
                .find_map(|(kind, value)| {
                    value
                        .filter(|value| amount(value) < amount(min))
                        .map(|value| (kind, value))
                });
            if let Some((kind, value)) = below {
                return violation(
                    item,
                    (name, kind == "limit"),
                    format!(
                        "the {whose}{name} {kind} {} is below the minimum {min_text}",
                        format_amount(name, value)
                    ),
                    match kind {
                        "request" => format!(
                            "request at least {min_text} of {name}, or lower the LimitRange's min"
                        ),
                        _ => format!(
                            "set a {name} limit of at least {min_text}, or lower the LimitRange's min"
                        ),
                    },
                );
            }
        }
        for (name, max) in &item.max {
            let max_text = format_amount(name, max);
            let Some(limit) = limits.get(name) else {
                return violation(
                    item,
                    (name, true),
                    format!("the {subject} has no {name} limit, and the maximum is {max_text}"),
                    format!("set a {name} limit of at most {max_text}"),
                );
            };
            let above = [("limit", Some(limit)), ("request", requests.get(name))]
                .into_iter()
                .find_map(|(kind, value)| {
                    value
                        .filter(|value| amount(value) > amount(max))
                        .map(|value| (kind, value))
                });
            if let Some((kind, value)) = above {
                return violation(
                    item,
                    (name, kind == "limit"),
                    format!(
                        "the {whose}{name} {kind} {} is above the maximum {max_text}",
                        format_amount(name, value)
                    ),
                    format!(
                        "set a {name} {kind} of at most {max_text}, or raise the LimitRange's max"
                    ),
                );
            }
        }
        for (name, ratio_millis) in &item.max_ratio_millis {
            let ratio_text = autoscale_sim_kube::quantity::format_cpu_millis(*ratio_millis);
            let (Some(request), Some(limit)) = (requests.get(name), limits.get(name)) else {
                return violation(
                    item,
                    (name, true),
                    format!(
                        "maxLimitRequestRatio {ratio_text} needs both a {name} request and a {name} limit"
                    ),
                    format!("set both the {name} request and limit"),
                );
            };
            let (request_amount, limit_amount) = (amount(request), amount(limit));
            if request_amount == 0
                || i128::from(limit_amount) * 1000
                    > i128::from(request_amount) * i128::from(*ratio_millis)
            {
                return violation(
                    item,
                    (name, true),
                    format!(
                        "the {whose}{name} limit {} is more than maxLimitRequestRatio {ratio_text} times the request {}",
                        format_amount(name, limit),
                        format_amount(name, request),
                    ),
                    format!(
                        "bring the {name} limit closer to the request, or raise maxLimitRequestRatio"
                    ),
                );
            }
        }
    }
    None
}
