//! Launch phases: an EC2 launch goes from the request to a running instance, to a Node object
//! that kubelet registered, to a Ready node, each step with its own latency.
//!
//! EC2 bills an instance from when it enters the `running` state until it terminates, and not
//! in the `pending` state before it (EC2 User Guide, "Amazon EC2 instance state changes"). So
//! the phase a launch spends before `running` costs nothing, and the world bills from
//! [`LaunchTimes::running`].

use autoscale_sim_engine::{RngStreams, SimDuration, SimRng};

use crate::latency::LatencyModel;

/// Time a launch waits for its node to register before the autoscaler gives up on it: Karpenter's
/// registration timeout (`registrationTimeout` in `pkg/controllers/nodeclaim/lifecycle/liveness.go`,
/// 15 minutes, not configurable) and Cluster Autoscaler's `--max-node-provision-time` default
/// (15m, `config/flags/flags.go` of 1.36).
pub const DEFAULT_REGISTRATION_TIMEOUT: SimDuration = SimDuration::from_mins(15);

/// Mean of the default request-to-running phase, in milliseconds.
///
/// The CreateFleet call takes about 2 s: Karpenter's controller logs show 2.1 s from
/// `created nodeclaim` to `launched nodeclaim`. EC2 then keeps the instance
/// `pending`: ec2-boot-bench measured 1.5 s for RunInstances and 4.9 s from pending to running on
/// a c5.xlarge (daemonology.net, "EC2 boot time benchmarking", 2021), and
/// brevdev/ec2-coldboot-research measured 16.4 to 16.6 s from pending to running over six
/// instance types. 9 s is an estimate between those measurements.
const RUNNING_MEAN_MS: u64 = 9_000;

/// Mean of the default running-to-registered phase (boot, bootstrap, kubelet TLS bootstrap and
/// registration), in milliseconds.
const REGISTERED_MEAN_MS: u64 = 27_000;

/// Mean of the default registered-to-Ready phase (the CNI and kubelet reporting Ready), in
/// milliseconds.
///
/// NOTE: no published figure splits node startup into registration and readiness; Karpenter
/// hard-codes no startup latency. The two means are this model's estimate, chosen so that the
/// three phases add up to 45 s, the EKS node startup time reported on the KubeFM episode "Faster
/// EKS Node and Pod Startup" (2026).
const READY_MEAN_MS: u64 = 9_000;

/// Milestones of one launch, as times after the request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LaunchTimes {
    /// The instance enters `running`; billing starts.
    pub running: SimDuration,
    /// kubelet registers the Node object.
    pub registered: SimDuration,
    /// The node becomes Ready and kube-scheduler may place pods on it.
    pub ready: SimDuration,
}

/// Latency of each launch phase, each measured from the end of the phase before.
#[derive(Clone, Debug, PartialEq)]
pub struct LaunchPhases {
    /// From the launch request to the instance's `running` state (the EC2 API call and `pending`).
    pub running: LatencyModel,
    /// From `running` to the Node object's registration (boot, bootstrap, kubelet).
    pub registered: LatencyModel,
    /// From registration to the node's Ready condition.
    pub ready: LatencyModel,
}

impl Default for LaunchPhases {
    /// Log-normal phases with means 9 s, 27 s and 9 s (45 s in all; the sources are on the
    /// constants above). The standard deviations (3 s, 8 s, 3 s, about 9 s in all) and the
    /// minimums (2 s, 10 s, 1 s) are this model's assumptions.
    fn default() -> Self {
        LaunchPhases {
            running: LatencyModel::LogNormal {
                mean: SimDuration(RUNNING_MEAN_MS),
                stddev: SimDuration::from_secs(3),
                min: SimDuration::from_secs(2),
            },
            registered: LatencyModel::LogNormal {
                mean: SimDuration(REGISTERED_MEAN_MS),
                stddev: SimDuration::from_secs(8),
                min: SimDuration::from_secs(10),
            },
            ready: LatencyModel::LogNormal {
                mean: SimDuration(READY_MEAN_MS),
                stddev: SimDuration::from_secs(3),
                min: SimDuration::from_secs(1),
            },
        }
    }
}

/// How long a launch takes, phase by phase.
#[derive(Clone, Debug, PartialEq)]
pub enum LaunchLatency {
    /// Each phase drawn from its own distribution.
    Phases(LaunchPhases),
    /// One request-to-Ready latency `T` per launch, the shorthand of a scenario's
    /// `cloud.launchLatency`. The milestones split `T` in the proportions of the default phases'
    /// means: running at `T / 5` (9 of 45 s) and registered at `4 T / 5` (36 of 45 s), both
    /// rounded up to the millisecond.
    RequestToReady(LatencyModel),
}

impl Default for LaunchLatency {
    fn default() -> Self {
        LaunchLatency::Phases(LaunchPhases::default())
    }
}

impl From<LatencyModel> for LaunchLatency {
    fn from(request_to_ready: LatencyModel) -> Self {
        LaunchLatency::RequestToReady(request_to_ready)
    }
}

impl From<LaunchPhases> for LaunchLatency {
    fn from(phases: LaunchPhases) -> Self {
        LaunchLatency::Phases(phases)
    }
}

/// The random streams launch latencies draw from, one per phase, so that a phase's draws do not
/// depend on the other phases' distributions.
#[derive(Debug)]
pub struct LaunchStreams {
    /// `ec2/launch-latency`: the shorthand's request-to-Ready draws, the stream every launch used
    /// before launches had phases, so that a scenario's Ready times stay as they were.
    request_to_ready: SimRng,
    running: SimRng,
    registered: SimRng,
    ready: SimRng,
}

impl LaunchStreams {
    /// Creates the streams of one run from its `streams`.
    pub fn new(streams: &RngStreams) -> Self {
        LaunchStreams {
            request_to_ready: streams.stream("ec2/launch-latency"),
            running: streams.stream("ec2/launch-latency/running"),
            registered: streams.stream("ec2/launch-latency/registered"),
            ready: streams.stream("ec2/launch-latency/ready"),
        }
    }
}

impl LaunchLatency {
    /// Draws the milestones of one launch.
    pub fn sample(&self, streams: &mut LaunchStreams) -> LaunchTimes {
        match self {
            LaunchLatency::Phases(phases) => {
                let running = phases.running.sample(&mut streams.running);
                let registered = running + phases.registered.sample(&mut streams.registered);
                let ready = registered + phases.ready.sample(&mut streams.ready);
                LaunchTimes {
                    running,
                    registered,
                    ready,
                }
            }
            LaunchLatency::RequestToReady(total) => {
                let ready = total.sample(&mut streams.request_to_ready);
                let share = |numerator: u64| {
                    SimDuration(
                        (ready.as_millis() * numerator)
                            .div_ceil(5)
                            .min(ready.as_millis()),
                    )
                };
                LaunchTimes {
                    running: share(1),
                    registered: share(4),
                    ready,
                }
            }
        }
    }

    /// Returns the shortest time from the request to the node's registration that
    /// [`LaunchLatency::sample`] can draw.
    pub fn min_to_registered(&self) -> SimDuration {
        match self {
            LaunchLatency::Phases(phases) => phases.running.minimum() + phases.registered.minimum(),
            LaunchLatency::RequestToReady(total) => {
                let ready = total.minimum().as_millis();
                SimDuration((ready * 4).div_ceil(5).min(ready))
            }
        }
    }

    /// Mean time from the request to a Ready node, before truncation at the minimums.
    pub fn mean_to_ready(&self) -> SimDuration {
        match self {
            LaunchLatency::Phases(phases) => {
                phases.running.mean() + phases.registered.mean() + phases.ready.mean()
            }
            LaunchLatency::RequestToReady(total) => total.mean(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn streams() -> LaunchStreams {
        LaunchStreams::new(&RngStreams::new(7))
    }

    #[test]
    fn min_to_registered_bounds_draws() {
        let phases = LaunchLatency::default();
        let shorthand = LaunchLatency::RequestToReady(LatencyModel::Empirical(vec![
            SimDuration::from_secs(50),
            SimDuration::from_secs(45),
        ]));
        let mut streams = streams();

        assert_eq!(phases.min_to_registered(), SimDuration::from_secs(12));
        assert_eq!(shorthand.min_to_registered(), SimDuration::from_secs(36));
        for _ in 0..1000 {
            let phases_times = phases.sample(&mut streams);
            let shorthand_times = shorthand.sample(&mut streams);
            assert!(phases_times.registered >= phases.min_to_registered());
            assert!(shorthand_times.registered >= shorthand.min_to_registered());
        }
    }

    #[test]
    fn default_phases_average_45_seconds() {
        let latency = LaunchLatency::default();
        let mut streams = streams();
        let n = 20_000u64;

        let draws: Vec<LaunchTimes> = (0..n).map(|_| latency.sample(&mut streams)).collect();

        let mean = |pick: fn(&LaunchTimes) -> SimDuration| {
            draws.iter().map(|t| pick(t).as_millis()).sum::<u64>() as f64 / n as f64 / 1000.0
        };
        assert!(
            (mean(|t| t.running) - 9.0).abs() < 0.3,
            "{}",
            mean(|t| t.running)
        );
        assert!((mean(|t| t.registered) - 36.0).abs() < 0.5);
        assert!((mean(|t| t.ready) - 45.0).abs() < 0.5);
        assert_eq!(latency.mean_to_ready(), SimDuration::from_secs(45));
        assert!(
            draws
                .iter()
                .all(|t| t.running <= t.registered && t.registered <= t.ready)
        );
    }

    #[test]
    fn shorthand_splits_total_by_fifths() {
        let latency = LaunchLatency::from(LatencyModel::Fixed(SimDuration::from_secs(10)));

        let times = latency.sample(&mut streams());

        assert_eq!(times.running, SimDuration::from_secs(2));
        assert_eq!(times.registered, SimDuration::from_secs(8));
        assert_eq!(times.ready, SimDuration::from_secs(10));
    }

    #[test]
    fn shorthand_keeps_old_ready_times() {
        // The shorthand draws from the stream every launch used before launches had phases.
        let model = LatencyModel::default();
        let mut old = RngStreams::new(11).stream("ec2/launch-latency");
        let mut streams = LaunchStreams::new(&RngStreams::new(11));
        let latency = LaunchLatency::from(model.clone());

        for _ in 0..100 {
            assert_eq!(latency.sample(&mut streams).ready, model.sample(&mut old));
        }
    }

    #[test]
    fn shorthand_rounds_milestones_up() {
        // 7 ms / 5 = 1.4 ms rounds up to 2 ms; 4 × 7 / 5 = 5.6 ms rounds up to 6 ms.
        let latency = LaunchLatency::from(LatencyModel::Fixed(SimDuration(7)));

        let times = latency.sample(&mut streams());

        assert_eq!(
            (times.running, times.registered, times.ready),
            (SimDuration(2), SimDuration(6), SimDuration(7))
        );
    }
}
