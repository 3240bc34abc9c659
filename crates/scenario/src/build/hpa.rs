//! A Deployment's `hpa`: the HorizontalPodAutoscaler settings, with `behavior` filled in and
//! checked as Kubernetes' autoscaling/v2 defaulting and validation do
//! (`pkg/apis/autoscaling/v2/defaults.go`, `pkg/apis/autoscaling/validation/validation.go`).

use autoscale_sim_engine::SimDuration;
use autoscale_sim_workload::{
    HpaSpec, ScalingPolicy, ScalingPolicyType, ScalingRules, SelectPolicy,
};
use serde_saphyr::Spanned;

use super::{Ctx, MAX_REPLICAS, Result, location};
use crate::error::ScenarioError;
use crate::schema::{HpaScalingPolicyYaml, HpaScalingRulesYaml, HpaYaml};

/// Builds the HPA of the workload at `field`.
pub(super) fn build_hpa(hpa: &HpaYaml, ctx: &Ctx<'_>, field: &str) -> Result<HpaSpec> {
    if hpa.max_replicas.value > MAX_REPLICAS {
        return Err(ctx.error(
            &hpa.max_replicas,
            &format!("{field}.hpa.maxReplicas"),
            Some(hpa.max_replicas.value.to_string()),
            format!("more than {MAX_REPLICAS} replicas"),
            format!("write at most {MAX_REPLICAS}"),
        ));
    }
    let mut spec = HpaSpec::new(
        hpa.target_per_replica.value,
        hpa.min_replicas.value,
        hpa.max_replicas.value,
    );
    if let Some(period) = &hpa.sync_period {
        spec.sync_period = ctx.duration(period, &format!("{field}.hpa.syncPeriod"))?;
    }
    if let Some(tolerance) = &hpa.tolerance {
        spec.tolerance = tolerance.value;
    }
    if let Some(behavior) = &hpa.behavior {
        if let Some(rules) = &behavior.scale_up {
            let path = format!("{field}.hpa.behavior.scaleUp");
            spec.scale_up_tolerance = build_tolerance(&rules.value, ctx, &path)?;
            spec.scale_up = build_scaling_rules(rules, spec.scale_up, ctx, &path)?;
        }
        if let Some(rules) = &behavior.scale_down {
            let path = format!("{field}.hpa.behavior.scaleDown");
            if let (Some(short), Some(window)) = (
                &hpa.scale_down_stabilization,
                &rules.value.stabilization_window_seconds,
            ) {
                return Err(ctx.error(
                    window,
                    &format!("{path}.stabilizationWindowSeconds"),
                    Some(window.value.to_string()),
                    format!(
                        "scaleDownStabilization ({}) already sets this window",
                        short.value
                    ),
                    "keep one of the two: scaleDownStabilization is a short form of this field",
                ));
            }
            spec.scale_down_tolerance = build_tolerance(&rules.value, ctx, &path)?;
            spec.scale_down = build_scaling_rules(rules, spec.scale_down, ctx, &path)?;
        }
    }
    if let Some(window) = &hpa.scale_down_stabilization {
        spec.scale_down.stabilization_window =
            ctx.duration(window, &format!("{field}.hpa.scaleDownStabilization"))?;
    }
    if hpa.min_replicas.value > hpa.max_replicas.value {
        return Err(ctx.error(
            &hpa.min_replicas,
            &format!("{field}.hpa.minReplicas"),
            Some(hpa.min_replicas.value.to_string()),
            format!(
                "minReplicas is above maxReplicas ({})",
                hpa.max_replicas.value
            ),
            "make minReplicas at most maxReplicas",
        ));
    }
    spec.validate().map_err(|message| {
        // The message starts with the name of the field it is about.
        let name = message.split(' ').next().unwrap_or_default();
        let field = format!("{field}.hpa.{name}");
        let text = |at: &Spanned<String>| (location(at), Some(at.value.clone()));
        let (position, value) = match name {
            "maxReplicas" => (
                location(&hpa.max_replicas),
                Some(hpa.max_replicas.value.to_string()),
            ),
            "syncPeriod" => hpa.sync_period.as_ref().map_or((None, None), text),
            "tolerance" => hpa.tolerance.as_ref().map_or((None, None), |at| {
                (location(at), Some(at.value.to_string()))
            }),
            "scaleDown" => hpa
                .scale_down_stabilization
                .as_ref()
                .map_or((None, None), text),
            _ => (
                location(&hpa.target_per_replica),
                Some(hpa.target_per_replica.value.to_string()),
            ),
        };
        let position = position.or(location(&hpa.target_per_replica));
        let fix = match name {
            "maxReplicas" => "write a maxReplicas of 1 or more",
            "syncPeriod" => "write a positive duration, such as 15s (the HPA controller's default)",
            "tolerance" => {
                "write a fraction zero or more, such as 0.1 (the HPA controller's default)"
            }
            "scaleUp" | "scaleDown" => {
                "correct the value the message names in the scaling behavior"
            }
            _ => {
                "write targetPerReplica as a positive number of load units per replica, such as 50"
            }
        };
        ScenarioError::at(ctx.file, position, &field, value, message, fix)
    })?;
    Ok(spec)
}

/// Reads the `tolerance` of one direction: a quantity zero or more, as the API server requires
/// (`HPAScalingRules.tolerance`, Kubernetes 1.33 alpha and 1.35 beta behind the
/// HPAConfigurableTolerance feature gate).
fn build_tolerance(rules: &HpaScalingRulesYaml, ctx: &Ctx<'_>, path: &str) -> Result<Option<f64>> {
    let Some(tolerance) = &rules.tolerance else {
        return Ok(None);
    };
    let text = tolerance.value.0.trim();
    let invalid = |message: String| {
        ctx.error(
            tolerance,
            &format!("{path}.tolerance"),
            Some(text.to_string()),
            message,
            "write a fraction zero or more, such as 0.05 or \"50m\" (5 %)",
        )
    };
    let micros = autoscale_sim_kube::quantity::parse_micros(text)
        .map_err(|e| invalid(format!("not a quantity: {}", e.reason)))?;
    if micros < 0 {
        return Err(invalid("the tolerance is negative".to_string()));
    }
    Ok(Some(micros as f64 / 1_000_000.0))
}

/// Longest stabilization window the API server accepts (autoscaling validation,
/// `MaxStabilizationWindowSeconds`, unchanged from Kubernetes 1.27 to 1.35).
const MAX_STABILIZATION_WINDOW_SECONDS: i64 = 3600;
/// Longest scaling policy period the API server accepts (autoscaling validation,
/// `MaxPeriodSeconds`, unchanged from Kubernetes 1.27 to 1.35).
const MAX_POLICY_PERIOD_SECONDS: i64 = 1800;

/// Fills `defaults` with the fields that `rules` sets, as the autoscaling/v2 defaulting does
/// (`GenerateHPAScaleUpRules` and `GenerateHPAScaleDownRules`: a given `policies` list
/// replaces the default list whole), and checks them as the API server's validation does.
fn build_scaling_rules(
    rules: &Spanned<HpaScalingRulesYaml>,
    mut defaults: ScalingRules,
    ctx: &Ctx<'_>,
    path: &str,
) -> Result<ScalingRules> {
    let yaml = &rules.value;
    if let Some(window) = &yaml.stabilization_window_seconds {
        if !(0..=MAX_STABILIZATION_WINDOW_SECONDS).contains(&window.value) {
            return Err(ctx.error(
                window,
                &format!("{path}.stabilizationWindowSeconds"),
                Some(window.value.to_string()),
                format!(
                    "the window is outside 0 to {MAX_STABILIZATION_WINDOW_SECONDS} seconds, the range Kubernetes accepts"
                ),
                "write whole seconds from 0 to 3600, such as 300",
            ));
        }
        defaults.stabilization_window = SimDuration::from_secs(window.value.unsigned_abs());
    }
    if let Some(select) = &yaml.select_policy {
        defaults.select_policy = match select.value.as_str() {
            "Max" => SelectPolicy::Max,
            "Min" => SelectPolicy::Min,
            "Disabled" => SelectPolicy::Disabled,
            _ => {
                return Err(ctx.error(
                    select,
                    &format!("{path}.selectPolicy"),
                    Some(select.value.clone()),
                    "not a select policy",
                    "write Max (the default), Min or Disabled",
                ));
            }
        };
    }
    if let Some(policies) = &yaml.policies {
        if policies.is_empty() {
            return Err(ctx.error(
                rules,
                &format!("{path}.policies"),
                Some("[]".to_string()),
                "the list is empty; Kubernetes requires at least one policy",
                "add a policy such as {type: Percent, value: 100, periodSeconds: 15}, or leave policies out to keep the defaults",
            ));
        }
        defaults.policies = policies
            .iter()
            .enumerate()
            .map(|(i, policy)| build_scaling_policy(policy, ctx, &format!("{path}.policies[{i}]")))
            .collect::<Result<_>>()?;
    }
    Ok(defaults)
}

fn build_scaling_policy(
    policy: &Spanned<HpaScalingPolicyYaml>,
    ctx: &Ctx<'_>,
    path: &str,
) -> Result<ScalingPolicy> {
    let yaml = &policy.value;
    let policy_type = match yaml.kind.value.as_str() {
        "Pods" => ScalingPolicyType::Pods,
        "Percent" => ScalingPolicyType::Percent,
        _ => {
            return Err(ctx.error(
                &yaml.kind,
                &format!("{path}.type"),
                Some(yaml.kind.value.clone()),
                "not a scaling policy type",
                "write Pods or Percent",
            ));
        }
    };
    let value = u32::try_from(yaml.value.value)
        .ok()
        .filter(|v| (1..=i32::MAX as u32).contains(v))
        .ok_or_else(|| {
            ctx.error(
                &yaml.value,
                &format!("{path}.value"),
                Some(yaml.value.value.to_string()),
                "the value is outside 1 to 2147483647, the range Kubernetes accepts",
                "write the pods, or the percent of the current count, that one period allows, such as 4 or 100",
            )
        })?;
    let period = yaml.period_seconds.value;
    if !(1..=MAX_POLICY_PERIOD_SECONDS).contains(&period) {
        return Err(ctx.error(
            &yaml.period_seconds,
            &format!("{path}.periodSeconds"),
            Some(period.to_string()),
            format!(
                "the period is outside 1 to {MAX_POLICY_PERIOD_SECONDS} seconds, the range Kubernetes accepts"
            ),
            "write whole seconds from 1 to 1800, such as 15 or 60",
        ));
    }
    Ok(ScalingPolicy {
        policy_type,
        value,
        period: SimDuration::from_secs(period.unsigned_abs()),
    })
}
