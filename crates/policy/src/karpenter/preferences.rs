//! Preferences in Karpenter's scheduling simulation: with the default `--preference-policy=Respect`
//! a pod's preferences count as requirements, and a pod that fits nowhere has them dropped one
//! at a time until it fits (kubernetes-sigs/karpenter v1.13
//! `pkg/controllers/provisioning/scheduling/preferences.go` and `pkg/scheduling/requirements.go`).

use autoscale_sim_kube::{
    PodSpec, Taint, TaintEffect, Toleration, TolerationOperator, WhenUnsatisfiable,
};

/// The relaxation steps that apply to a simulation.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Preferences {
    /// Whether the last step adds a toleration of PreferNoSchedule taints. Karpenter adds it
    /// only when some NodePool has such a taint.
    pub tolerate_prefer_no_schedule: bool,
}

/// Builds the toleration the last relaxation step adds: every taint with the PreferNoSchedule
/// effect.
fn prefer_no_schedule_toleration() -> Toleration {
    Toleration {
        operator: TolerationOperator::Exists,
        effect: Some(TaintEffect::PreferNoSchedule),
        ..Default::default()
    }
}

impl Preferences {
    /// Builds the steps for NodePools with these taints.
    pub(crate) fn for_taints<'a>(mut taints: impl Iterator<Item = &'a Taint>) -> Self {
        Preferences {
            tolerate_prefer_no_schedule: taints.any(|t| t.effect == TaintEffect::PreferNoSchedule),
        }
    }

    /// Checks whether Karpenter would see `spec` differently from kube-scheduler, or could relax
    /// it: it has preferences, several required node-affinity terms (Karpenter tries them one
    /// at a time) or, with a PreferNoSchedule taint in play, no toleration for it.
    pub(crate) fn applies_to(&self, spec: &PodSpec) -> bool {
        spec.node_affinity.required.len() > 1
            || !spec.node_affinity.preferred.is_empty()
            || !spec.pod_affinity.preferred.is_empty()
            || !spec.pod_anti_affinity.preferred.is_empty()
            || spec
                .topology_spread
                .iter()
                .any(|c| c.when_unsatisfiable == WhenUnsatisfiable::ScheduleAnyway)
            || (self.tolerate_prefer_no_schedule && !tolerates_prefer_no_schedule(spec))
    }

    /// Drops one preference of `spec` in Karpenter's order and returns whether it found one.
    /// The order: the first of several required node-affinity terms, the heaviest preferred pod
    /// affinity term, the heaviest preferred pod anti-affinity term and the heaviest preferred
    /// node-affinity term. Then a ScheduleAnyway spread constraint goes, and last the pod gets a
    /// toleration of PreferNoSchedule taints.
    pub(crate) fn relax(&self, spec: &mut PodSpec) -> bool {
        if spec.node_affinity.required.len() > 1 {
            spec.node_affinity.required.remove(0);
            return true;
        }
        if !spec.pod_affinity.preferred.is_empty() {
            spec.pod_affinity.preferred.sort_by_key(|t| -t.weight);
            spec.pod_affinity.preferred.remove(0);
            return true;
        }
        if !spec.pod_anti_affinity.preferred.is_empty() {
            spec.pod_anti_affinity.preferred.sort_by_key(|t| -t.weight);
            spec.pod_anti_affinity.preferred.remove(0);
            return true;
        }
        if !spec.node_affinity.preferred.is_empty() {
            spec.node_affinity.preferred.sort_by_key(|t| -t.weight);
            spec.node_affinity.preferred.remove(0);
            return true;
        }
        if let Some(index) = spec
            .topology_spread
            .iter()
            .position(|c| c.when_unsatisfiable == WhenUnsatisfiable::ScheduleAnyway)
        {
            // Karpenter moves the last constraint into the removed one's place.
            spec.topology_spread.swap_remove(index);
            return true;
        }
        if self.tolerate_prefer_no_schedule && !tolerates_prefer_no_schedule(spec) {
            spec.tolerations.push(prefer_no_schedule_toleration());
            return true;
        }
        false
    }
}

/// Checks whether `spec` already has a toleration that the added one would match.
fn tolerates_prefer_no_schedule(spec: &PodSpec) -> bool {
    let added = prefer_no_schedule_toleration();
    spec.tolerations.iter().any(|t| {
        t.operator == added.operator
            && t.key.is_empty()
            && t.effect.is_none_or(|e| e == TaintEffect::PreferNoSchedule)
    })
}

/// Returns `spec` as Karpenter's simulation reads it: the first required node-affinity term
/// joined with the heaviest preferred one, preferred pod (anti-)affinity terms as required
/// ones, and ScheduleAnyway spread constraints as DoNotSchedule.
pub(crate) fn as_required(spec: &PodSpec) -> PodSpec {
    let mut strict = spec.clone();

    let heaviest = spec
        .node_affinity
        .preferred
        .iter()
        .enumerate()
        .max_by_key(|(index, t)| (t.weight, std::cmp::Reverse(*index)))
        .map(|(_, t)| t.preference.clone());
    strict.node_affinity.required.truncate(1);
    if let Some(preference) = heaviest {
        match strict.node_affinity.required.first_mut() {
            Some(first) => first.match_expressions.extend(preference.match_expressions),
            None => strict.node_affinity.required.push(preference),
        }
    }
    strict.node_affinity.preferred.clear();

    let affinity = std::mem::take(&mut strict.pod_affinity.preferred);
    strict
        .pod_affinity
        .required
        .extend(affinity.into_iter().map(|t| t.pod_affinity_term));
    let anti_affinity = std::mem::take(&mut strict.pod_anti_affinity.preferred);
    strict
        .pod_anti_affinity
        .required
        .extend(anti_affinity.into_iter().map(|t| t.pod_affinity_term));

    for constraint in &mut strict.topology_spread {
        constraint.when_unsatisfiable = WhenUnsatisfiable::DoNotSchedule;
    }
    strict
}

/// Returns `spec` without its preferences, as the simulation reads a pod under
/// `--preference-policy=Ignore`: no preferred node affinity, no preferred pod affinity or
/// anti-affinity, and no ScheduleAnyway spread constraints.
pub(crate) fn without_preferences(spec: &PodSpec) -> PodSpec {
    let mut plain = spec.clone();
    plain.node_affinity.preferred.clear();
    plain.pod_affinity.preferred.clear();
    plain.pod_anti_affinity.preferred.clear();
    plain
        .topology_spread
        .retain(|c| c.when_unsatisfiable != WhenUnsatisfiable::ScheduleAnyway);
    plain
}

/// Checks whether `tolerations` tolerate every taint in `taints`, PreferNoSchedule ones
/// included, as Karpenter's `Taints.Tolerates` does (kube-scheduler ignores PreferNoSchedule
/// when filtering).
pub(crate) fn tolerates_every(tolerations: &[Toleration], taints: &[Taint]) -> bool {
    taints
        .iter()
        .all(|taint| tolerations.iter().any(|t| t.tolerates(taint)))
}
