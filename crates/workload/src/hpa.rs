//! Horizontal Pod Autoscaler model for a Deployment scaled on load per replica.
//!
//! [`Hpa::recommend`] follows the autoscaling/v2 path of Kubernetes' HPA controller
//! (`pkg/controller/podautoscaler/horizontal.go` and `replica_calculator.go`) for one External
//! metric with an `AverageValue` target:
//!
//! 1. Outside `[minReplicas, maxReplicas]`, the count jumps to the nearest bound, with no
//!    stabilization and no rate limit (`reconcileAutoscaler`).
//! 2. The usage ratio is `load / (current * target)`. From `1 - scale-down tolerance` to
//!    `1 + scale-up tolerance` the recommendation is the current count, otherwise
//!    `ceil(load / target)` (`GetExternalPerPodMetricReplicas`).
//! 3. Stabilization: the recommendation is raised to at least the lowest recommendation of the
//!    scale-up window and lowered to at most the highest of the scale-down window, both windows
//!    including this one and the count at the first sync (`stabilizeRecommendationWithBehaviors`).
//! 4. Rate limits: scaling policies cap the change relative to the count at the start of each
//!    policy period, then the count is clamped to `[minReplicas, maxReplicas]`
//!    (`convertDesiredReplicasWithBehaviorRate`).

use std::collections::VecDeque;

use autoscale_sim_engine::{SimDuration, SimTime};

/// Unit of the change that a [`ScalingPolicy`] allows (autoscaling/v2 `HPAScalingPolicyType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScalingPolicyType {
    /// A number of pods.
    Pods,
    /// A percentage of the count at the start of the period.
    Percent,
}

/// A limit on how much the replica count may change within `period` (autoscaling/v2
/// `HPAScalingPolicy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ScalingPolicy {
    /// Whether `value` counts pods or percent.
    pub policy_type: ScalingPolicyType,
    /// Pods, or percent of the count at the start of the period. At least 1.
    pub value: u32,
    /// Length of the look-back period over which the change is counted. At least 1 ms.
    pub period: SimDuration,
}

/// Rule for choosing among several policies (autoscaling/v2 `ScalingPolicySelect`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SelectPolicy {
    /// The policy that allows the largest change. The Kubernetes default.
    #[default]
    Max,
    /// The policy that allows the smallest change.
    Min,
    /// No change in this direction at all.
    Disabled,
}

/// Scaling behavior in one direction (autoscaling/v2 `HPAScalingRules`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScalingRules {
    /// Look-back window over which recommendations are stabilized.
    pub stabilization_window: SimDuration,
    /// Rule for choosing among the policies.
    pub select_policy: SelectPolicy,
    /// Limits on the rate of change. At least one is required unless `select_policy` is
    /// `Disabled`.
    pub policies: Vec<ScalingPolicy>,
}

impl ScalingRules {
    /// Returns the autoscaling/v2 default for scale-up: no stabilization, and per 15 s at most the larger
    /// of 4 pods and 100 % of the current count (`pkg/apis/autoscaling/v2/defaults.go`).
    pub fn default_scale_up() -> ScalingRules {
        ScalingRules {
            stabilization_window: SimDuration::ZERO,
            select_policy: SelectPolicy::Max,
            policies: vec![
                ScalingPolicy {
                    policy_type: ScalingPolicyType::Pods,
                    value: 4,
                    period: SimDuration::from_secs(15),
                },
                ScalingPolicy {
                    policy_type: ScalingPolicyType::Percent,
                    value: 100,
                    period: SimDuration::from_secs(15),
                },
            ],
        }
    }

    /// Returns the autoscaling/v2 default for scale-down: a 5-minute stabilization window (the default
    /// of kube-controller-manager's `--horizontal-pod-autoscaler-downscale-stabilization`), and
    /// per 15 s at most 100 % of the current count (`pkg/apis/autoscaling/v2/defaults.go`).
    pub fn default_scale_down() -> ScalingRules {
        ScalingRules {
            stabilization_window: SimDuration::from_mins(5),
            select_policy: SelectPolicy::Max,
            policies: vec![ScalingPolicy {
                policy_type: ScalingPolicyType::Percent,
                value: 100,
                period: SimDuration::from_secs(15),
            }],
        }
    }

    fn longest_period(&self) -> SimDuration {
        self.policies
            .iter()
            .map(|p| p.period)
            .max()
            .unwrap_or(SimDuration::ZERO)
    }

    fn validate(&self, direction: &str) -> Result<(), String> {
        if self.policies.is_empty() && self.select_policy != SelectPolicy::Disabled {
            return Err(format!(
                "{direction} has no policies; add at least one, or set selectPolicy to Disabled"
            ));
        }
        for (i, policy) in self.policies.iter().enumerate() {
            if policy.value == 0 {
                return Err(format!(
                    "{direction}.policies[{i}].value is 0; expected at least 1"
                ));
            }
            if policy.period == SimDuration::ZERO {
                return Err(format!(
                    "{direction}.policies[{i}].period is 0s; expected at least 1ms, such as 15s"
                ));
            }
        }
        Ok(())
    }
}

/// Configuration of a Horizontal Pod Autoscaler whose metric is load per replica.
#[derive(Clone, Debug, PartialEq)]
pub struct HpaSpec {
    /// Load that one replica should carry, in the load's unit. Finite and above zero.
    pub target_per_replica: f64,
    /// Lowest replica count. Zero allows scaling to zero, which Kubernetes gates behind the
    /// HPAScaleToZero feature.
    pub min_replicas: u32,
    /// Highest replica count. At least 1 and at least `min_replicas`.
    pub max_replicas: u32,
    /// Interval between syncs. Default 15 s, kube-controller-manager's
    /// `--horizontal-pod-autoscaler-sync-period`.
    pub sync_period: SimDuration,
    /// Relative deviation of the usage ratio from 1 within which the count does not change.
    /// Default 0.1, kube-controller-manager's `--horizontal-pod-autoscaler-tolerance`.
    pub tolerance: f64,
    /// Tolerance above 1 in place of `tolerance`, from `behavior.scaleUp.tolerance`
    /// (Kubernetes 1.33 alpha, 1.35 beta: the HPAConfigurableTolerance feature).
    pub scale_up_tolerance: Option<f64>,
    /// Tolerance below 1 in place of `tolerance`, from `behavior.scaleDown.tolerance`.
    pub scale_down_tolerance: Option<f64>,
    /// Scale-up behavior. Default [`ScalingRules::default_scale_up`].
    pub scale_up: ScalingRules,
    /// Scale-down behavior. Default [`ScalingRules::default_scale_down`].
    pub scale_down: ScalingRules,
}

impl HpaSpec {
    /// Creates a spec with the given target and bounds and every other field at its Kubernetes
    /// default.
    pub fn new(target_per_replica: f64, min_replicas: u32, max_replicas: u32) -> HpaSpec {
        HpaSpec {
            target_per_replica,
            min_replicas,
            max_replicas,
            sync_period: SimDuration::from_secs(15),
            tolerance: 0.1,
            scale_up_tolerance: None,
            scale_down_tolerance: None,
            scale_up: ScalingRules::default_scale_up(),
            scale_down: ScalingRules::default_scale_down(),
        }
    }

    /// Checks every field and returns a message that names the first invalid one.
    pub fn validate(&self) -> Result<(), String> {
        let target = self.target_per_replica;
        if !target.is_finite() || target <= 0.0 {
            return Err(format!(
                "targetPerReplica {target} is invalid; expected a finite number above zero"
            ));
        }
        if self.max_replicas == 0 {
            return Err("maxReplicas is 0; expected at least 1".into());
        }
        if self.min_replicas > self.max_replicas {
            return Err(format!(
                "minReplicas {} is above maxReplicas {}; expected minReplicas <= maxReplicas",
                self.min_replicas, self.max_replicas
            ));
        }
        if self.sync_period == SimDuration::ZERO {
            return Err("syncPeriod is 0s; expected at least 1ms, such as 15s".into());
        }
        let tolerances = [
            ("tolerance", Some(self.tolerance)),
            ("scaleUp.tolerance", self.scale_up_tolerance),
            ("scaleDown.tolerance", self.scale_down_tolerance),
        ];
        for (name, tolerance) in tolerances {
            if let Some(tolerance) = tolerance
                && (!tolerance.is_finite() || tolerance < 0.0)
            {
                return Err(format!(
                    "{name} {tolerance} is invalid; expected a finite number zero or more"
                ));
            }
        }
        self.scale_up.validate("scaleUp")?;
        self.scale_down.validate("scaleDown")
    }
}

/// A past recommendation, kept for stabilization.
#[derive(Clone, Copy, Debug)]
struct Recommendation {
    time: SimTime,
    replicas: u32,
}

/// A past change of the replica count, kept for rate limits.
#[derive(Clone, Copy, Debug)]
struct ScaleEvent {
    time: SimTime,
    change: u32,
}

/// A Horizontal Pod Autoscaler for one Deployment, with its recommendation and scaling history.
#[derive(Clone, Debug)]
pub struct Hpa {
    spec: HpaSpec,
    recommendations: VecDeque<Recommendation>,
    scale_up_events: VecDeque<ScaleEvent>,
    scale_down_events: VecDeque<ScaleEvent>,
    synced: bool,
}

impl Hpa {
    /// Creates an autoscaler with no history, or returns a message when `spec` is invalid.
    pub fn new(spec: HpaSpec) -> Result<Hpa, String> {
        spec.validate()?;
        Ok(Hpa {
            spec,
            recommendations: VecDeque::new(),
            scale_up_events: VecDeque::new(),
            scale_down_events: VecDeque::new(),
            synced: false,
        })
    }

    /// The configuration.
    pub fn spec(&self) -> &HpaSpec {
        &self.spec
    }

    /// Runs one sync at `now` and returns the new replica count for the Deployment.
    ///
    /// `current` is the Deployment's replica count and `load` the total load on it. The caller
    /// is expected to apply the result at once, because a change is recorded for the rate
    /// limits of later syncs. A NaN load is treated as a failed metric read and keeps the count,
    /// a negative load counts as zero, and an infinite one scales toward `maxReplicas`.
    /// Calls must come in time order.
    pub fn recommend(&mut self, now: SimTime, current: u32, load: f64) -> u32 {
        // The controller seeds the history with the count at its first sync
        // (`recordInitialRecommendation`).
        if !self.synced {
            self.synced = true;
            self.recommendations.push_back(Recommendation {
                time: now,
                replicas: current,
            });
        }

        let replicas = match self.out_of_bounds_target(current, load) {
            Some(replicas) => replicas,
            None => self.recommend_from_metric(now, current, load),
        };

        self.record_scale_event(now, current, replicas);
        self.prune_history(now);
        replicas
    }

    /// Returns the bound that a Deployment outside `[min, max]` jumps to, bypassing
    /// stabilization and rate limits, or `None` within the bounds.
    fn out_of_bounds_target(&self, current: u32, load: f64) -> Option<u32> {
        let min = self.spec.min_replicas;
        let max = self.spec.max_replicas;
        if current == 0 && min > 0 {
            // NOTE: Kubernetes treats a target scaled to zero while minReplicas > 0 as
            // "scaling disabled" and leaves it at zero. This model instead scales it straight
            // to the metric's count within the bounds, so a Deployment can start from zero.
            return Some(self.metric_replicas(load).unwrap_or(min).clamp(min, max));
        }
        if current > max {
            return Some(max);
        }
        if current < min {
            return Some(min);
        }
        None
    }

    fn recommend_from_metric(&mut self, now: SimTime, current: u32, load: f64) -> u32 {
        let Some(desired) = self.desired_from_usage_ratio(current, load) else {
            return current;
        };

        let stabilized = self.stabilize(now, current, desired);

        self.limit_rate(now, current, stabilized)
    }

    /// Returns the metric's recommendation, or the current count within the tolerance.
    /// Returns `None` for a NaN load.
    fn desired_from_usage_ratio(&self, current: u32, load: f64) -> Option<u32> {
        let desired = self.metric_replicas(load)?;
        let target = self.spec.target_per_replica;
        let usage_ratio = load.max(0.0) / (f64::from(current) * target);
        let up = self.spec.scale_up_tolerance.unwrap_or(self.spec.tolerance);
        let down = self
            .spec
            .scale_down_tolerance
            .unwrap_or(self.spec.tolerance);
        // With zero replicas the ratio is infinite, or NaN for zero load, which counts as
        // within the tolerance and keeps the count at zero, as in Kubernetes.
        let within = if usage_ratio >= 1.0 {
            usage_ratio - 1.0 <= up
        } else if usage_ratio < 1.0 {
            1.0 - usage_ratio <= down
        } else {
            true
        };
        if within { Some(current) } else { Some(desired) }
    }

    /// Computes `ceil(load / target)`, saturating at `u32::MAX`, or `None` for a NaN load.
    fn metric_replicas(&self, load: f64) -> Option<u32> {
        if load.is_nan() {
            return None;
        }
        // `as` saturates, so an infinite load gives u32::MAX and the bounds then apply.
        Some((load.max(0.0) / self.spec.target_per_replica).ceil() as u32)
    }

    /// Applies both stabilization windows to `desired` and records it in the history.
    fn stabilize(&mut self, now: SimTime, current: u32, desired: u32) -> u32 {
        let up_window = self.spec.scale_up.stabilization_window;
        let down_window = self.spec.scale_down.stabilization_window;
        let mut lowest_up = desired;
        let mut highest_down = desired;
        for recommendation in &self.recommendations {
            if within(recommendation.time, up_window, now) {
                lowest_up = lowest_up.min(recommendation.replicas);
            }
            if within(recommendation.time, down_window, now) {
                highest_down = highest_down.max(recommendation.replicas);
            }
        }

        self.recommendations.push_back(Recommendation {
            time: now,
            replicas: desired,
        });
        current.max(lowest_up).min(highest_down)
    }

    /// Caps the change from `current` to `stabilized` by the scaling policies and the bounds.
    fn limit_rate(&self, now: SimTime, current: u32, stabilized: u32) -> u32 {
        let current_i = i64::from(current);
        let min = i64::from(self.spec.min_replicas);
        let max = i64::from(self.spec.max_replicas);
        let stabilized_i = i64::from(stabilized);

        let limited = if stabilized > current {
            // A limit below the current count means "no further scale-up", never a scale-down.
            let scale_up_limit = self.scale_up_limit(now, current_i).max(current_i);
            stabilized_i.min(max.min(scale_up_limit))
        } else if stabilized < current {
            let scale_down_limit = self.scale_down_limit(now, current_i).min(current_i);
            stabilized_i.max(min.max(scale_down_limit))
        } else {
            stabilized_i
        };
        limited.clamp(0, i64::from(u32::MAX)) as u32
    }

    /// Highest count the scale-up policies allow (`calculateScaleUpLimitWithScalingRules`).
    fn scale_up_limit(&self, now: SimTime, current: i64) -> i64 {
        let rules = &self.spec.scale_up;
        let proposals = rules.policies.iter().map(|policy| {
            let start = self.count_at_period_start(now, current, policy.period);
            let value = i64::from(policy.value);
            match policy.policy_type {
                ScalingPolicyType::Pods => start + value,
                // Rounded up so that a small count can still grow.
                ScalingPolicyType::Percent => {
                    (start as f64 * (1.0 + value as f64 / 100.0)).ceil() as i64
                }
            }
        });
        match rules.select_policy {
            SelectPolicy::Max => proposals.max().unwrap_or(i64::MIN),
            SelectPolicy::Min => proposals.min().unwrap_or(i64::MAX),
            SelectPolicy::Disabled => current,
        }
    }

    /// Lowest count the scale-down policies allow (`calculateScaleDownLimitWithBehaviors`).
    fn scale_down_limit(&self, now: SimTime, current: i64) -> i64 {
        let rules = &self.spec.scale_down;
        let proposals = rules.policies.iter().map(|policy| {
            let start = self.count_at_period_start(now, current, policy.period);
            let value = i64::from(policy.value);
            match policy.policy_type {
                ScalingPolicyType::Pods => start - value,
                // Truncated toward zero, as Go's int32 conversion does.
                ScalingPolicyType::Percent => (start as f64 * (1.0 - value as f64 / 100.0)) as i64,
            }
        });
        // "Max" selects the policy allowing the largest change, which is the lowest count.
        match rules.select_policy {
            SelectPolicy::Max => proposals.min().unwrap_or(i64::MAX),
            SelectPolicy::Min => proposals.max().unwrap_or(i64::MIN),
            SelectPolicy::Disabled => current,
        }
    }

    /// The count at the start of the policy period ending `now`: current minus the pods added
    /// plus the pods removed within it.
    fn count_at_period_start(&self, now: SimTime, current: i64, period: SimDuration) -> i64 {
        let change_within = |events: &VecDeque<ScaleEvent>| -> i64 {
            events
                .iter()
                .filter(|event| within(event.time, period, now))
                .map(|event| i64::from(event.change))
                .sum()
        };
        current - change_within(&self.scale_up_events) + change_within(&self.scale_down_events)
    }

    /// Records a change of the count for the rate limits of later syncs (`storeScaleEvent`).
    fn record_scale_event(&mut self, now: SimTime, current: u32, replicas: u32) {
        if replicas > current {
            self.scale_up_events.push_back(ScaleEvent {
                time: now,
                change: replicas - current,
            });
        } else if replicas < current {
            self.scale_down_events.push_back(ScaleEvent {
                time: now,
                change: current - replicas,
            });
        }
    }

    /// Drops history that no window or policy period reaches any more, so memory stays bounded
    /// by the number of syncs within the longest window.
    fn prune_history(&mut self, now: SimTime) {
        let longest_window = self
            .spec
            .scale_up
            .stabilization_window
            .max(self.spec.scale_down.stabilization_window);
        drop_older(&mut self.recommendations, |r| r.time, longest_window, now);

        let up_period = self.spec.scale_up.longest_period();
        drop_older(&mut self.scale_up_events, |e| e.time, up_period, now);
        let down_period = self.spec.scale_down.longest_period();
        drop_older(&mut self.scale_down_events, |e| e.time, down_period, now);
    }

    #[cfg(test)]
    fn history_len(&self) -> usize {
        self.recommendations.len() + self.scale_up_events.len() + self.scale_down_events.len()
    }
}

/// Whether `time` lies within the `window` that ends at `now`, start excluded.
///
/// Kubernetes keeps a sample when its timestamp is after `now - window`, so a zero window
/// contains no earlier sample.
fn within(time: SimTime, window: SimDuration, now: SimTime) -> bool {
    time + window > now
}

/// Removes the entries at the front of `history` that are no longer within `window` of `now`.
fn drop_older<T>(
    history: &mut VecDeque<T>,
    time_of: impl Fn(&T) -> SimTime,
    window: SimDuration,
    now: SimTime,
) {
    while let Some(oldest) = history.front() {
        if within(time_of(oldest), window, now) {
            break;
        }
        history.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYNC: SimDuration = SimDuration::from_secs(15);

    fn at_secs(secs: u64) -> SimTime {
        SimTime(secs * 1000)
    }

    fn hpa(min: u32, max: u32) -> Hpa {
        Hpa::new(HpaSpec::new(100.0, min, max)).unwrap()
    }

    /// Runs syncs every 15 s from t = 0, applying each result, and returns the counts.
    fn run(hpa: &mut Hpa, mut replicas: u32, loads: &[f64]) -> Vec<u32> {
        let mut now = SimTime::ZERO;
        let mut counts = Vec::new();
        for &load in loads {
            replicas = hpa.recommend(now, replicas, load);
            counts.push(replicas);
            now += SYNC;
        }
        counts
    }

    #[test]
    fn defaults_match_kubernetes() {
        let spec = HpaSpec::new(100.0, 1, 10);

        assert_eq!(spec.sync_period, SimDuration::from_secs(15));
        assert_eq!(spec.tolerance, 0.1);
        assert_eq!(spec.scale_up.stabilization_window, SimDuration::ZERO);
        assert_eq!(
            spec.scale_down.stabilization_window,
            SimDuration::from_mins(5)
        );
        assert_eq!(spec.scale_up.policies.len(), 2);
        assert_eq!(spec.scale_down.policies.len(), 1);
    }

    #[test]
    fn steady_load_within_tolerance_keeps_count() {
        let mut hpa = hpa(1, 50);

        let counts = run(&mut hpa, 10, &[1000.0, 1090.0, 910.0, 1050.0, 950.0]);

        assert_eq!(counts, vec![10, 10, 10, 10, 10]);
    }

    #[test]
    fn tolerance_per_direction() {
        // Scale-up tolerance 0 and scale-down tolerance 0.5: 1 % above the target scales up,
        // 40 % below it does not scale down.
        let mut spec = HpaSpec::new(100.0, 1, 50);
        spec.scale_up_tolerance = Some(0.0);
        spec.scale_down_tolerance = Some(0.5);
        spec.scale_down.stabilization_window = SimDuration::ZERO;
        let mut hpa = Hpa::new(spec).unwrap();

        assert_eq!(hpa.recommend(SimTime::ZERO, 10, 1010.0), 11);
        assert_eq!(
            hpa.recommend(SimTime::ZERO + SimDuration::from_secs(15), 11, 660.0),
            11
        );
        assert_eq!(
            hpa.recommend(SimTime::ZERO + SimDuration::from_secs(30), 11, 500.0),
            5
        );
    }

    #[test]
    fn load_beyond_tolerance_scales_to_ceiling() {
        let mut hpa = hpa(1, 50);

        assert_eq!(hpa.recommend(SimTime::ZERO, 10, 1150.0), 12);
    }

    #[test]
    fn jump_up_is_rate_limited() {
        let mut hpa = hpa(1, 50);

        // From 2 the larger policy adds 4 pods (100 % adds only 2), so 6. From 6 it adds 100 %,
        // so 12. From 12 the limit is 24, above the desired 20.
        let counts = run(&mut hpa, 2, &[2000.0; 5]);

        assert_eq!(counts, vec![6, 12, 20, 20, 20]);
    }

    #[test]
    fn scale_up_limit_counts_changes_within_period() {
        let mut spec = HpaSpec::new(100.0, 1, 100);
        spec.scale_up.policies = vec![ScalingPolicy {
            policy_type: ScalingPolicyType::Pods,
            value: 4,
            period: SimDuration::from_secs(60),
        }];
        let mut hpa = Hpa::new(spec).unwrap();

        // At most 4 pods per 60 s, counted from the count 60 s earlier.
        let counts = run(&mut hpa, 2, &[5000.0; 6]);

        assert_eq!(counts, vec![6, 6, 6, 6, 10, 10]);
    }

    #[test]
    fn scale_down_is_held_for_stabilization_window() {
        let mut hpa = hpa(1, 50);
        let mut replicas = hpa.recommend(SimTime::ZERO, 20, 2000.0);
        assert_eq!(replicas, 20);

        // The load drops at 15 s, but the recommendation of 20 at 0 s stays in the 5-minute
        // window until 300 s.
        for secs in (15..300).step_by(15) {
            replicas = hpa.recommend(at_secs(secs), replicas, 500.0);
            assert_eq!(replicas, 20, "at {secs} s");
        }
        replicas = hpa.recommend(at_secs(300), replicas, 500.0);

        assert_eq!(replicas, 5);
    }

    #[test]
    fn scale_down_window_uses_highest_recent_recommendation() {
        let mut hpa = hpa(1, 50);
        let mut replicas = 20;
        replicas = hpa.recommend(at_secs(0), replicas, 2000.0);
        replicas = hpa.recommend(at_secs(15), replicas, 1200.0);
        replicas = hpa.recommend(at_secs(30), replicas, 500.0);
        assert_eq!(replicas, 20);

        // 0 s leaves the window at 300 s, so the highest is 12 from 15 s until 315 s.
        replicas = hpa.recommend(at_secs(300), replicas, 500.0);
        assert_eq!(replicas, 12);
        replicas = hpa.recommend(at_secs(315), replicas, 500.0);
        assert_eq!(replicas, 5);
    }

    #[test]
    fn first_sync_count_holds_scale_down() {
        let mut hpa = hpa(1, 50);

        // The count seen at the first sync is a recommendation too, so 8 holds for 5 minutes.
        assert_eq!(hpa.recommend(SimTime::ZERO, 8, 100.0), 8);
        assert_eq!(hpa.recommend(at_secs(285), 8, 100.0), 8);
        assert_eq!(hpa.recommend(at_secs(300), 8, 100.0), 1);
    }

    #[test]
    fn scale_up_stabilization_uses_lowest_recent_recommendation() {
        let mut spec = HpaSpec::new(100.0, 1, 50);
        spec.scale_up.stabilization_window = SimDuration::from_secs(60);
        let mut hpa = Hpa::new(spec).unwrap();

        let counts = run(
            &mut hpa,
            5,
            &[500.0, 1000.0, 1000.0, 1000.0, 1000.0, 1000.0],
        );

        // The recommendations of 5 at 0 s leave the 60 s window at 60 s.
        assert_eq!(counts, vec![5, 5, 5, 5, 10, 10]);
    }

    #[test]
    fn clamps_to_min_and_max() {
        let mut spec = HpaSpec::new(100.0, 2, 15);
        spec.scale_down.stabilization_window = SimDuration::ZERO;
        let mut hpa = Hpa::new(spec).unwrap();

        assert_eq!(hpa.recommend(at_secs(0), 3, 0.0), 2);
        assert_eq!(hpa.recommend(at_secs(15), 10, 1e6), 15);
        assert_eq!(hpa.recommend(at_secs(30), 15, f64::INFINITY), 15);
        assert_eq!(hpa.recommend(at_secs(45), 15, -50.0), 2);
    }

    #[test]
    fn out_of_bounds_count_jumps_to_bound() {
        let mut hpa = hpa(3, 10);

        assert_eq!(hpa.recommend(at_secs(0), 30, 500.0), 10);
        assert_eq!(hpa.recommend(at_secs(15), 1, 5000.0), 3);
    }

    #[test]
    fn zero_replicas_with_min_scale_to_metric() {
        let mut hpa = hpa(2, 50);

        assert_eq!(hpa.recommend(SimTime::ZERO, 0, 1000.0), 10);
        assert_eq!(hpa.recommend(SimTime::ZERO, 0, 0.0), 2);
        assert_eq!(hpa.recommend(SimTime::ZERO, 0, 1e9), 50);
    }

    #[test]
    fn scale_to_zero_follows_rate_limits() {
        let mut hpa = hpa(0, 50);

        assert_eq!(hpa.recommend(at_secs(0), 0, 0.0), 0);
        // From 0 the Pods policy allows 4 and the Percent policy none.
        assert_eq!(hpa.recommend(at_secs(15), 0, 1000.0), 4);
    }

    #[test]
    fn nan_load_keeps_count() {
        let mut hpa = hpa(1, 50);

        assert_eq!(hpa.recommend(SimTime::ZERO, 7, f64::NAN), 7);
        assert_eq!(hpa.recommend(at_secs(15), 60, f64::NAN), 50);
    }

    #[test]
    fn select_policy_min_and_disabled() {
        let mut spec = HpaSpec::new(100.0, 1, 100);
        spec.scale_up.select_policy = SelectPolicy::Min;
        let mut hpa = Hpa::new(spec.clone()).unwrap();
        // From 10 the smaller change is 4 pods rather than 100 %, so 14.
        assert_eq!(hpa.recommend(SimTime::ZERO, 10, 5000.0), 14);

        spec.scale_up.select_policy = SelectPolicy::Disabled;
        spec.scale_down.select_policy = SelectPolicy::Disabled;
        spec.scale_down.stabilization_window = SimDuration::ZERO;
        let mut hpa = Hpa::new(spec).unwrap();
        assert_eq!(hpa.recommend(at_secs(0), 10, 5000.0), 10);
        assert_eq!(hpa.recommend(at_secs(15), 10, 100.0), 10);
    }

    #[test]
    fn scale_down_pods_policy_limits_rate() {
        let mut spec = HpaSpec::new(100.0, 1, 100);
        spec.scale_down.stabilization_window = SimDuration::ZERO;
        spec.scale_down.policies = vec![ScalingPolicy {
            policy_type: ScalingPolicyType::Pods,
            value: 3,
            period: SimDuration::from_secs(15),
        }];
        let mut hpa = Hpa::new(spec).unwrap();

        let counts = run(&mut hpa, 10, &[100.0; 5]);

        assert_eq!(counts, vec![7, 4, 1, 1, 1]);
    }

    #[test]
    fn history_stays_bounded() {
        let mut hpa = hpa(1, 1000);
        let mut replicas = 1;
        let mut now = SimTime::ZERO;
        for i in 0..10_000u32 {
            let load = f64::from(i % 500) * 100.0;
            replicas = hpa.recommend(now, replicas, load);
            now += SYNC;
        }

        // 5 minutes of 15 s syncs is 20 recommendations, plus the scale event of the last sync.
        assert!(hpa.history_len() <= 21, "{}", hpa.history_len());
    }

    /// A change that makes a valid configuration invalid, and the expected message.
    type InvalidCase = (fn(&mut HpaSpec), &'static str);

    #[test]
    fn validate_rejects_bad_specs() {
        let cases: [InvalidCase; 8] = [
            (
                |s| s.target_per_replica = 0.0,
                "targetPerReplica 0 is invalid; expected a finite number above zero",
            ),
            (
                |s| s.target_per_replica = f64::NAN,
                "targetPerReplica NaN is invalid; expected a finite number above zero",
            ),
            (
                |s| s.max_replicas = 0,
                "maxReplicas is 0; expected at least 1",
            ),
            (
                |s| s.min_replicas = 11,
                "minReplicas 11 is above maxReplicas 10; expected minReplicas <= maxReplicas",
            ),
            (
                |s| s.sync_period = SimDuration::ZERO,
                "syncPeriod is 0s; expected at least 1ms, such as 15s",
            ),
            (
                |s| s.tolerance = -0.1,
                "tolerance -0.1 is invalid; expected a finite number zero or more",
            ),
            (
                |s| s.scale_up.policies.clear(),
                "scaleUp has no policies; add at least one, or set selectPolicy to Disabled",
            ),
            (
                |s| s.scale_down.policies[0].value = 0,
                "scaleDown.policies[0].value is 0; expected at least 1",
            ),
        ];

        for (change, message) in cases {
            let mut spec = HpaSpec::new(100.0, 1, 10);
            change(&mut spec);
            assert_eq!(spec.validate(), Err(message.to_string()));
            assert_eq!(Hpa::new(spec).unwrap_err(), message);
        }
    }
}
