//! A pod's effective requests from its containers, init containers and overhead, as Kubernetes
//! computes them (kubernetes/kubernetes `staging/src/k8s.io/component-helpers/resource/helpers.go`
//! `PodRequests`, with sidecar containers as of Kubernetes 1.29), and the validation the API
//! server applies to container resources (`pkg/apis/core/validation`).

use std::collections::{BTreeMap, BTreeSet};

use autoscale_sim_cloud::{ExtendedResource, Resources};
use autoscale_sim_kube::quantity;
use serde_saphyr::Spanned;

use super::limit_ranges::{self, ContainerLimits, NamespaceLimits, Scope, format_amount};
use super::{Ctx, Result, location};
use crate::error::ScenarioError;
use crate::schema::{Container, PodSpecYaml, Scalar};

/// How a resource name is modelled.
enum ResourceKind {
    Cpu,
    Memory,
    /// Accepted and not counted.
    Ignored,
    Extended(ExtendedResource),
}

/// Classifies a resource name as Kubernetes does: a name with a domain prefix outside
/// `kubernetes.io` is an extended resource (`IsExtendedResourceName`); other native names than
/// cpu, memory and ephemeral-storage are not modelled.
fn kind_of(name: &str) -> Option<ResourceKind> {
    match name {
        "cpu" => Some(ResourceKind::Cpu),
        "memory" => Some(ResourceKind::Memory),
        "ephemeral-storage" => Some(ResourceKind::Ignored),
        _ if name.contains('/')
            && !name.contains("kubernetes.io/")
            && !name.starts_with("requests.") =>
        {
            Some(ResourceKind::Extended(ExtendedResource::from_name(name)))
        }
        _ => None,
    }
}

/// Parses one quantity of `kind` into `total`.
fn add_quantity(
    total: &mut Resources,
    kind: &ResourceKind,
    value: &Spanned<Scalar>,
    ctx: &Ctx<'_>,
    at: &str,
) -> Result<()> {
    let text = &value.value.0;
    let bad = |reason: String, fix: &str| ctx.error(value, at, Some(text.clone()), reason, fix);
    let quantity_fix =
        "write a Kubernetes quantity such as 500m or 1.5 for cpu, 512Mi or 2Gi for memory";
    match kind {
        ResourceKind::Cpu => {
            total.cpu_millis +=
                quantity::parse_cpu_millis(text).map_err(|e| bad(e.reason.into(), quantity_fix))?
        }
        ResourceKind::Memory => {
            total.memory_bytes +=
                quantity::parse_value(text).map_err(|e| bad(e.reason.into(), quantity_fix))?
        }
        ResourceKind::Ignored => {}
        ResourceKind::Extended(resource) => {
            let whole_fix = "write a whole number of devices such as 1";
            let millis =
                quantity::parse_cpu_millis(text).map_err(|e| bad(e.reason.into(), whole_fix))?;
            if millis % 1000 != 0 {
                return Err(bad(
                    "an extended resource must be a whole number".into(),
                    whole_fix,
                ));
            }
            total.extended[*resource as usize] += millis / 1000;
        }
    }
    Ok(())
}

/// Parses a map of resource quantities (a container's requests or limits, or the pod's
/// overhead), each name at `{field}.{name}`.
pub(super) fn parse_resources(
    map: &BTreeMap<String, Spanned<Scalar>>,
    ctx: &Ctx<'_>,
    field: &str,
) -> Result<BTreeMap<String, Resources>> {
    let mut parsed = BTreeMap::new();
    for (name, value) in map {
        let at = format!("{field}.{name}");
        let Some(kind) = kind_of(name) else {
            return Err(ctx.error(
                value,
                &at,
                Some(value.value.0.clone()),
                format!("resource {name:?} is not modelled"),
                "request cpu, memory or extended resources such as nvidia.com/gpu",
            ));
        };
        let mut one = Resources::ZERO;
        add_quantity(&mut one, &kind, value, ctx, &at)?;
        if !one.is_non_negative() {
            return Err(ctx.error(
                value,
                &at,
                Some(value.value.0.clone()),
                "the quantity is negative",
                "write a quantity of zero or more",
            ));
        }
        parsed.insert(name.clone(), one);
    }
    Ok(parsed)
}

/// A container's requests: each resource's request, or its limit when it has no request (the
/// API server's defaulting). A request above its limit is rejected, and an extended resource
/// needs a limit equal to its request, because extended resources cannot be overcommitted.
///
/// Then `limit_ranges` fill in what is still missing and check the result, as the LimitRanger
/// admission plugin does after the defaulting. Returns the container's final requests and
/// limits by resource name.
fn container_resources(
    container: &Container,
    limit_ranges: &[ContainerLimits],
    ctx: &Ctx<'_>,
    field: &str,
) -> Result<ContainerResources> {
    let mut requests = parse_resources(
        &container.resources.requests,
        ctx,
        &format!("{field}.resources.requests"),
    )?;
    let mut limits = parse_resources(
        &container.resources.limits,
        ctx,
        &format!("{field}.resources.limits"),
    )?;
    for (name, limit) in &limits {
        requests.entry(name.clone()).or_insert(*limit);
    }
    let defaulted = limit_ranges::apply_defaults(limit_ranges, &mut requests, &mut limits);
    // An error points at the container's own request or limit of the resource, or else at the
    // LimitRange item that set it.
    let locate = |name: &str, item: Option<&ContainerLimits>, on_limit: bool| {
        let own = own_value(&container.resources, name, on_limit);
        match (own, item) {
            (Some(value), _) => location(value),
            (None, Some(item)) => item.location,
            (None, None) => None,
        }
    };
    if let Some(violation) = limit_ranges::check(limit_ranges, &requests, &limits, Scope::Container)
    {
        return Err(ScenarioError::at(
            ctx.file,
            locate(
                &violation.resource,
                Some(violation.item),
                violation.on_limit,
            ),
            &format!("{field}.resources"),
            None,
            violation.message,
            violation.fix,
        ));
    }
    let names: BTreeSet<&String> = requests.keys().chain(limits.keys()).collect();
    for name in names {
        let extended = matches!(kind_of(name), Some(ResourceKind::Extended(_)));
        let at = format!("{field}.resources.requests.{name}");
        let problem = match (requests.get(name), limits.get(name)) {
            (Some(_), None) if extended => Some((
                "an extended resource needs a limit",
                "write the same quantity under resources.limits",
            )),
            (Some(request), Some(limit)) if extended && request != limit => Some((
                "an extended resource's request must equal its limit",
                "write the same quantity as request and limit",
            )),
            (Some(request), Some(limit)) if !request.fits_in(limit) => {
                let origin = match defaulted.get(name.as_str()) {
                    Some(item) => format!(" that LimitRange {} sets by default", item.range),
                    None => String::new(),
                };
                return Err(ScenarioError::at(
                    ctx.file,
                    locate(name, defaulted.get(name.as_str()).copied(), false),
                    &at,
                    Some(format_amount(name, request)),
                    format!(
                        "the request is above the limit {}{origin}",
                        format_amount(name, limit)
                    ),
                    "write a request no higher than the limit, or a limit of the container's own",
                ));
            }
            _ => None,
        };
        if let Some((message, fix)) = problem {
            return Err(ScenarioError::at(
                ctx.file,
                locate(name, defaulted.get(name.as_str()).copied(), false),
                &at,
                None,
                message,
                fix,
            ));
        }
    }
    Ok(ContainerResources { requests, limits })
}

/// Returns a container's own request of resource `name`, or its limit when it has no
/// request; the other way round when `on_limit` is set.
fn own_value<'a>(
    resources: &'a crate::schema::ContainerResources,
    name: &str,
    on_limit: bool,
) -> Option<&'a Spanned<Scalar>> {
    let (first, second) = if on_limit {
        (&resources.limits, &resources.requests)
    } else {
        (&resources.requests, &resources.limits)
    };
    first.get(name).or(second.get(name))
}

/// A container's final requests and limits, by resource name.
struct ContainerResources {
    requests: BTreeMap<String, Resources>,
    limits: BTreeMap<String, Resources>,
}

/// Sums resource maps by name.
fn add_named(total: &mut BTreeMap<String, Resources>, more: &BTreeMap<String, Resources>) {
    for (name, value) in more {
        *total.entry(name.clone()).or_default() += *value;
    }
}

/// Raises each of `total`'s entries to `other`'s where that is more, adding missing names.
fn max_named(total: &mut BTreeMap<String, Resources>, other: &BTreeMap<String, Resources>) {
    for (name, value) in other {
        let entry = total.entry(name.clone()).or_default();
        *entry = entry.max(value);
    }
}

/// A pod's total requests or limits by resource name (`limits` picks which), without its
/// overhead: the sum over containers and sidecars, or the largest init container plus the
/// sidecars started before it where that is more. A name is present when some container sets
/// it. LimitRanger checks Pod items against these totals, computed as `PodRequests` and
/// `PodLimits` do (kubernetes/kubernetes `component-helpers/resource/helpers.go`).
fn pod_totals(
    containers: &[ContainerResources],
    init_containers: &[(ContainerResources, bool)],
    limits: bool,
) -> BTreeMap<String, Resources> {
    let pick = |resources: &ContainerResources| {
        if limits {
            resources.limits.clone()
        } else {
            resources.requests.clone()
        }
    };
    let mut total = BTreeMap::new();
    for container in containers {
        add_named(&mut total, &pick(container));
    }
    let mut sidecars = BTreeMap::new();
    let mut init_peak = BTreeMap::new();
    for (container, sidecar) in init_containers {
        let own = pick(container);
        let running_with_it = if *sidecar {
            add_named(&mut total, &own);
            add_named(&mut sidecars, &own);
            sidecars.clone()
        } else {
            let mut running = own;
            add_named(&mut running, &sidecars);
            running
        };
        max_named(&mut init_peak, &running_with_it);
    }
    max_named(&mut total, &init_peak);
    total
}

/// The pod's effective requests: the sum over its containers and sidecars, or the largest init
/// container's requests (plus the sidecars started before it) where that is more, for each
/// resource separately, plus the pod overhead; `pods` is 1.
///
/// `limit_ranges` default and check each container, then their Pod items check the pod's
/// totals without the overhead, as LimitRanger does.
pub(super) fn pod_requests(
    spec: &PodSpecYaml,
    limit_ranges: &NamespaceLimits,
    ctx: &Ctx<'_>,
    field: &str,
) -> Result<Resources> {
    let mut containers = Vec::with_capacity(spec.containers.len());
    for (index, container) in spec.containers.iter().enumerate() {
        let at = format!("{field}.containers[{index}]");
        if let Some(policy) = &container.restart_policy {
            return Err(ctx.error(
                policy,
                &format!("{at}.restartPolicy"),
                Some(policy.value.clone()),
                "only init containers take a restartPolicy",
                "remove restartPolicy, or move the container to initContainers as a sidecar",
            ));
        }
        containers.push(container_resources(
            container,
            &limit_ranges.containers,
            ctx,
            &at,
        )?);
    }

    let mut init_containers = Vec::with_capacity(spec.init_containers.len());
    for (index, container) in spec.init_containers.iter().enumerate() {
        let at = format!("{field}.initContainers[{index}]");
        let resources = container_resources(container, &limit_ranges.containers, ctx, &at)?;
        let sidecar = match &container.restart_policy {
            None => false,
            Some(policy) if policy.value == "Always" => true,
            Some(policy) => {
                return Err(ctx.error(
                    policy,
                    &format!("{at}.restartPolicy"),
                    Some(policy.value.clone()),
                    "an init container's restartPolicy can only be Always",
                    "write restartPolicy: Always for a sidecar, or leave it out",
                ));
            }
        };
        init_containers.push((resources, sidecar));
    }

    if !limit_ranges.pods.is_empty() {
        let requests = pod_totals(&containers, &init_containers, false);
        let limits = pod_totals(&containers, &init_containers, true);
        if let Some(violation) =
            limit_ranges::check(&limit_ranges.pods, &requests, &limits, Scope::Pod)
        {
            // The error points at the first container that sets the resource itself, or else
            // at the Pod item.
            let own = spec
                .containers
                .iter()
                .chain(&spec.init_containers)
                .find_map(|container| {
                    own_value(
                        &container.resources,
                        &violation.resource,
                        violation.on_limit,
                    )
                });
            return Err(ScenarioError::at(
                ctx.file,
                own.and_then(location).or(violation.item.location),
                &format!("{field}.containers"),
                None,
                violation.message,
                violation.fix,
            ));
        }
    }

    // Init containers run one at a time; a sidecar keeps running after it starts, so it adds
    // to the containers' sum and to every init container that starts after it. Each
    // container's resources are summed first, as the model counts them, because unknown
    // extended resources share one slot.
    let sum = |resources: &ContainerResources| -> Resources {
        resources.requests.values().copied().sum()
    };
    let mut total: Resources = containers.iter().map(sum).sum();
    let mut sidecars = Resources::ZERO;
    let mut init_peak = Resources::ZERO;
    for (container, sidecar) in &init_containers {
        let running_with_it = if *sidecar {
            total += sum(container);
            sidecars += sum(container);
            sidecars
        } else {
            sum(container) + sidecars
        };
        init_peak = init_peak.max(&running_with_it);
    }
    total = total.max(&init_peak);
    let overhead = parse_resources(&spec.overhead, ctx, &format!("{field}.overhead"))?;
    total += overhead.into_values().sum();
    total.pods = 1;
    Ok(total)
}
