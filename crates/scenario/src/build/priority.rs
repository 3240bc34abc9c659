//! PriorityClass workloads and the resolution of a pod's `priorityClassName`, as the Priority
//! admission plugin does it (kubernetes/kubernetes `plugin/pkg/admission/priority/admission.go`
//! and `pkg/apis/scheduling` for the built-in classes and the limits).

use std::collections::BTreeMap;

use autoscale_sim_kube::PreemptionPolicy;

use super::{Ctx, Result, location};
use crate::error::ScenarioError;
use crate::schema::{PodSpecYaml, WorkloadSpec};

/// Highest value a user-defined PriorityClass may have (`HighestUserDefinablePriority`).
const HIGHEST_USER_DEFINABLE_PRIORITY: i64 = 1_000_000_000;

/// The built-in classes every cluster has (`SystemPriorityClasses`).
const SYSTEM_CLASSES: [(&str, i32); 2] = [
    ("system-cluster-critical", 2_000_000_000),
    ("system-node-critical", 2_000_001_000),
];

/// One PriorityClass.
#[derive(Clone, Copy, Debug)]
struct PriorityClass {
    value: i32,
    global_default: bool,
    preemption_policy: PreemptionPolicy,
}

/// The scenario's PriorityClasses with the built-in ones, by name.
#[derive(Clone, Debug)]
pub(crate) struct PriorityClasses {
    by_name: BTreeMap<String, PriorityClass>,
}

fn parse_policy(text: &str) -> Option<PreemptionPolicy> {
    match text {
        "PreemptLowerPriority" => Some(PreemptionPolicy::PreemptLowerPriority),
        "Never" => Some(PreemptionPolicy::Never),
        _ => None,
    }
}

fn policy_name(policy: PreemptionPolicy) -> &'static str {
    match policy {
        PreemptionPolicy::PreemptLowerPriority => "PreemptLowerPriority",
        PreemptionPolicy::Never => "Never",
    }
}

impl PriorityClasses {
    /// Collects the `PriorityClass` entries of `workloads`, wherever they are in the list.
    pub(crate) fn collect(workloads: &[WorkloadSpec], ctx: &Ctx<'_>) -> Result<Self> {
        let mut by_name: BTreeMap<String, PriorityClass> = SYSTEM_CLASSES
            .iter()
            .map(|(name, value)| {
                let class = PriorityClass {
                    value: *value,
                    global_default: false,
                    preemption_policy: PreemptionPolicy::PreemptLowerPriority,
                };
                (name.to_string(), class)
            })
            .collect();
        let mut global_default: Option<String> = None;
        for (index, workload) in workloads.iter().enumerate() {
            if workload.kind.value != "PriorityClass" {
                continue;
            }
            let field = format!("workloads[{index}]");
            let Some(name) = workload.metadata.name.as_ref() else {
                return Err(ScenarioError::at(
                    ctx.file,
                    location(&workload.kind),
                    &format!("{field}.metadata.name"),
                    None,
                    "the PriorityClass has no name",
                    "write metadata: {name: high-priority}",
                ));
            };
            if name.value.starts_with("system-") {
                return Err(ctx.error(
                    name,
                    &format!("{field}.metadata.name"),
                    Some(name.value.clone()),
                    "the system- prefix is reserved for the built-in PriorityClasses",
                    "choose a name without the system- prefix",
                ));
            }
            if by_name.contains_key(&name.value) {
                return Err(ctx.error(
                    name,
                    &format!("{field}.metadata.name"),
                    Some(name.value.clone()),
                    "another PriorityClass has this name",
                    "give each PriorityClass its own name",
                ));
            }
            let Some(value) = &workload.value else {
                return Err(ctx.error(
                    &workload.kind,
                    &format!("{field}.value"),
                    None,
                    "the PriorityClass has no value",
                    "write value: 1000",
                ));
            };
            if value.value > HIGHEST_USER_DEFINABLE_PRIORITY || value.value < i64::from(i32::MIN) {
                return Err(ctx.error(
                    value,
                    &format!("{field}.value"),
                    Some(value.value.to_string()),
                    format!(
                        "a PriorityClass value must be from {} to {HIGHEST_USER_DEFINABLE_PRIORITY}",
                        i32::MIN
                    ),
                    format!("write a value of at most {HIGHEST_USER_DEFINABLE_PRIORITY}"),
                ));
            }
            let preemption_policy = match &workload.preemption_policy {
                None => PreemptionPolicy::PreemptLowerPriority,
                Some(text) => parse_policy(&text.value).ok_or_else(|| {
                    ctx.error(
                        text,
                        &format!("{field}.preemptionPolicy"),
                        Some(text.value.clone()),
                        "unknown preemption policy",
                        "write PreemptLowerPriority or Never",
                    )
                })?,
            };
            let is_default = workload.global_default.unwrap_or(false);
            if is_default {
                if let Some(other) = &global_default {
                    return Err(ctx.error(
                        name,
                        &format!("{field}.globalDefault"),
                        Some("true".into()),
                        format!("PriorityClass {other} is already the global default"),
                        "set globalDefault: true on one PriorityClass only",
                    ));
                }
                global_default = Some(name.value.clone());
            }
            by_name.insert(
                name.value.clone(),
                PriorityClass {
                    value: value.value as i32,
                    global_default: is_default,
                    preemption_policy,
                },
            );
        }
        Ok(PriorityClasses { by_name })
    }

    /// Resolves a pod's priority and preemption policy: from its `priorityClassName`; else from
    /// its own `priority` when set (a shorthand the real API lacks); else from the global
    /// default class; else 0 and PreemptLowerPriority. A `priority` or `preemptionPolicy`
    /// written beside a class must equal the class's, as the admission plugin rejects the pod
    /// otherwise.
    pub(crate) fn resolve(
        &self,
        spec: &PodSpecYaml,
        ctx: &Ctx<'_>,
        field: &str,
    ) -> Result<(i32, PreemptionPolicy)> {
        let own_policy = match spec.preemption_policy.as_deref() {
            None => None,
            Some(text) => Some(parse_policy(text).ok_or_else(|| {
                ScenarioError::at(
                    ctx.file,
                    None,
                    &format!("{field}.preemptionPolicy"),
                    Some(text.to_string()),
                    "unknown preemption policy",
                    "write PreemptLowerPriority or Never",
                )
            })?),
        };
        let class = match &spec.priority_class_name {
            Some(name) => Some((
                name.value.clone(),
                *self.by_name.get(&name.value).ok_or_else(|| {
                    let known: Vec<&str> = self.by_name.keys().map(String::as_str).collect();
                    ctx.error(
                        name,
                        &format!("{field}.priorityClassName"),
                        Some(name.value.clone()),
                        format!(
                            "no PriorityClass has this name (known: {})",
                            known.join(", ")
                        ),
                        "define it as a workload of kind PriorityClass, or name a known class",
                    )
                })?,
            )),
            None if spec.priority.is_some() => None,
            None => self
                .by_name
                .iter()
                .find(|(_, c)| c.global_default)
                .map(|(name, class)| (name.clone(), *class)),
        };
        let Some((name, class)) = class else {
            return Ok((spec.priority.unwrap_or(0), own_policy.unwrap_or_default()));
        };
        if let Some(priority) = spec.priority
            && priority != class.value
        {
            return Err(ScenarioError::at(
                ctx.file,
                None,
                &format!("{field}.priority"),
                Some(priority.to_string()),
                format!(
                    "the priority differs from {}, the value of PriorityClass {name}",
                    class.value
                ),
                "leave priority out and let the PriorityClass set it",
            ));
        }
        if let Some(policy) = own_policy
            && policy != class.preemption_policy
        {
            return Err(ScenarioError::at(
                ctx.file,
                None,
                &format!("{field}.preemptionPolicy"),
                Some(policy_name(policy).to_string()),
                format!(
                    "the preemption policy differs from {}, the policy of PriorityClass {name}",
                    policy_name(class.preemption_policy)
                ),
                "leave preemptionPolicy out and let the PriorityClass set it",
            ));
        }
        Ok((class.value, class.preemption_policy))
    }
}
