//! [`SimulationBuilder`]: a [`Simulation`] set up in code, step by step, with the same defaults
//! a scenario file has.

use std::sync::Arc;

use autoscale_sim_cloud::{Catalog, LatencyModel, LaunchLatency};
use autoscale_sim_engine::{RngStreams, SimDuration, SimTime};
use autoscale_sim_kube::{DaemonSet, PodDisruptionBudget, PodSpec};
use autoscale_sim_workload::{DiurnalLoad, HpaSpec, Trace};

use crate::config::{DEFAULT_POD_STARTUP, Deployment, Load, Replicas, SimConfig, Snapshot};
use crate::{SimError, Simulation};

/// Wall clock of t = 0 when none is set: Monday 2026-01-05 00:00 UTC, in seconds since the Unix
/// epoch. It is the default `start` of scenario files too.
pub const DEFAULT_START_UNIX_SECS: i64 = 1_767_571_200;

/// A load before [`SimulationBuilder::build`] turns it into a [`Trace`].
#[derive(Clone, Debug)]
enum LoadSource {
    /// A series given as it is.
    Trace(Trace),
    /// A diurnal load, generated for the run's duration and clock at build time.
    Diurnal(DiurnalLoad),
}

/// Builds a [`Simulation`]: the world's catalog, clock, loads and workloads. Start with
/// [`Simulation::builder`], chain the setters, and finish with [`SimulationBuilder::build`].
///
/// Defaults are those of a scenario file: the built-in us-east-1 catalog, zones us-east-1a, b
/// and c, t = 0 at Monday 2026-01-05 00:00 UTC, seed 0, a duration of one day, launch latency
/// log-normal with mean 45 s, and every pod starting [`DEFAULT_POD_STARTUP`] after binding.
/// Anything else of [`SimConfig`] (Job streams, the spot market, the scheduler's scoring) is set
/// through [`SimulationBuilder::configure`].
///
/// Loads are named, and Deployments refer to them by name, so the order of the calls does not
/// matter. A diurnal load draws its noise from the random stream `load/NAME` of the seed, as a
/// scenario's `loads.NAME.diurnal` does, so the same settings give the same series in both.
///
/// ```
/// use autoscale_sim_cloud::{GIB, Resources};
/// use autoscale_sim_engine::SimDuration;
/// use autoscale_sim_kube::PodSpec;
/// use autoscale_sim_policy::KarpenterConfig;
/// use autoscale_sim_sim::{PolicySpec, Simulation};
/// use autoscale_sim_workload::{DiurnalLoad, HpaSpec};
///
/// let web = PodSpec {
///     // 1 vCPU, 2 GiB and one of the node's pod slots.
///     requests: Resources::new(1_000, 2 * GIB, 1),
///     ..Default::default()
/// };
/// let simulation = Simulation::builder("doc")
///     .seed(7)
///     .duration(SimDuration::from_hours(6))
///     .diurnal_load("requests", DiurnalLoad::new(100.0, 400.0))
///     .deployment_with_hpa("web", web, "requests", HpaSpec::new(50.0, 2, 20))
///     .build()
///     .expect("a valid setup");
///
/// let output = simulation.run(&PolicySpec::Karpenter(KarpenterConfig::default()));
/// assert!(output.report.peak_nodes >= 1);
/// assert_eq!(output.report.pods_pending_at_end, 0);
/// ```
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until build() is called"]
pub struct SimulationBuilder {
    config: SimConfig,
    loads: Vec<(String, LoadSource)>,
    /// For each Deployment that follows a load, its index and the load's name.
    load_references: Vec<(usize, String)>,
    configure: Vec<ConfigureStep>,
}

/// A change to the finished [`SimConfig`], applied in order by [`SimulationBuilder::build`].
#[derive(Clone)]
struct ConfigureStep(Arc<dyn Fn(&mut SimConfig) + Send + Sync>);

impl std::fmt::Debug for ConfigureStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConfigureStep")
    }
}

impl Simulation {
    /// Starts a [`SimulationBuilder`] for a world named `name`, with the defaults listed there.
    pub fn builder(name: &str) -> SimulationBuilder {
        let mut config = SimConfig::new(
            name,
            0,
            SimDuration::from_days(1),
            Arc::new(Catalog::builtin()),
        );
        config.start_unix_secs = DEFAULT_START_UNIX_SECS;
        SimulationBuilder {
            config,
            loads: Vec::new(),
            load_references: Vec::new(),
            configure: Vec::new(),
        }
    }
}

impl SimulationBuilder {
    /// Sets the seed of every random stream (load noise, launch latency, spot market, the
    /// random expander). Default 0.
    pub fn seed(mut self, seed: u64) -> Self {
        self.config.seed = seed;
        self
    }

    /// Sets the simulated time span. Default one day.
    pub fn duration(mut self, duration: SimDuration) -> Self {
        self.config.duration = duration;
        self
    }

    /// Sets the wall clock of t = 0, in seconds since the Unix epoch (UTC), which places the
    /// daily peak of diurnal loads and labels the hour of day in the time series. Default
    /// [`DEFAULT_START_UNIX_SECS`].
    pub fn start_unix_secs(mut self, start: i64) -> Self {
        self.config.start_unix_secs = start;
        self
    }

    /// Replaces the instance-type catalog. Default [`Catalog::builtin`].
    pub fn catalog(mut self, catalog: Arc<Catalog>) -> Self {
        self.config.catalog = catalog;
        self
    }

    /// Replaces the availability zones. Default us-east-1a, us-east-1b and us-east-1c.
    pub fn zones<Z: Into<String>>(mut self, zones: impl IntoIterator<Item = Z>) -> Self {
        self.config.zones = zones.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the launch latency: [`LaunchPhases`](autoscale_sim_cloud::LaunchPhases) for each
    /// phase, or a [`LatencyModel`] for the request-to-Ready shorthand. Default: the default
    /// phases, 45 s on average.
    pub fn launch_latency(mut self, latency: impl Into<LaunchLatency>) -> Self {
        self.config.launch_latency = latency.into();
        self
    }

    /// Adds a load series named `name`, used from t = 0 as it is.
    pub fn load(mut self, name: &str, trace: Trace) -> Self {
        self.loads
            .push((name.to_string(), LoadSource::Trace(trace)));
        self
    }

    /// Adds a diurnal load named `name`, generated at build time for the run's duration and
    /// start, with its noise drawn from the stream `load/NAME` of the seed.
    pub fn diurnal_load(mut self, name: &str, load: DiurnalLoad) -> Self {
        self.loads
            .push((name.to_string(), LoadSource::Diurnal(load)));
        self
    }

    /// Adds a Deployment of `replicas` pods of `spec`.
    pub fn deployment(mut self, name: &str, spec: PodSpec, replicas: u32) -> Self {
        self.config.deployments.push(Deployment {
            controller: Default::default(),
            name: name.to_string(),
            spec: Arc::new(spec),
            replicas: Replicas::Fixed(replicas),
            startup_latency: LatencyModel::Fixed(DEFAULT_POD_STARTUP),
        });
        self
    }

    /// Adds a Deployment of pods of `spec` whose replica count a horizontal pod autoscaler sets
    /// from the load named `load` (added before or after this call).
    pub fn deployment_with_hpa(
        mut self,
        name: &str,
        spec: PodSpec,
        load: &str,
        hpa: HpaSpec,
    ) -> Self {
        self.load_references
            .push((self.config.deployments.len(), load.to_string()));
        self.config.deployments.push(Deployment {
            controller: Default::default(),
            name: name.to_string(),
            spec: Arc::new(spec),
            // The index is set by build() once every load is known.
            replicas: Replicas::Hpa {
                load: usize::MAX,
                spec: hpa,
            },
            startup_latency: LatencyModel::Fixed(DEFAULT_POD_STARTUP),
        });
        self
    }

    /// Adds a DaemonSet: one pod of `spec` on every node whose labels and taints it matches,
    /// counted as node overhead.
    pub fn daemonset(mut self, name: &str, spec: PodSpec) -> Self {
        self.config.daemonsets.push(DaemonSet::new(name, spec));
        self
    }

    /// Adds a PodDisruptionBudget, which drains respect.
    pub fn pod_disruption_budget(mut self, budget: PodDisruptionBudget) -> Self {
        self.config.pdbs.push(budget);
        self
    }

    /// Records the fleet at `at` after the start in the report, under `label`.
    pub fn snapshot(mut self, label: &str, at: SimDuration) -> Self {
        self.config.snapshots.push(Snapshot {
            label: label.to_string(),
            at: SimTime::ZERO + at,
        });
        self
    }

    /// Changes the [`SimConfig`] directly, for settings this builder has no setter for. The
    /// changes run in order at build time, after the loads are generated and resolved, so they
    /// see and may change everything the other setters set.
    pub fn configure(mut self, change: impl Fn(&mut SimConfig) + Send + Sync + 'static) -> Self {
        self.configure.push(ConfigureStep(Arc::new(change)));
        self
    }

    /// Generates the loads, resolves the Deployments' load names and checks the setup.
    ///
    /// Fails when the duration is zero, two loads share a name, a Deployment names a load that
    /// does not exist, a diurnal load's settings are invalid, or [`Simulation::new`] rejects the
    /// configuration (it applies a scenario file's limits: duration, samples, snapshots,
    /// replicas and unique workload names).
    pub fn build(self) -> Result<Simulation, SimError> {
        let SimulationBuilder {
            mut config,
            loads,
            load_references,
            configure,
        } = self;
        let invalid = |what: String, message: String| SimError::InvalidConfig { what, message };
        if config.duration == SimDuration::ZERO {
            return Err(invalid(
                "duration".into(),
                "the run is empty; set a positive duration".into(),
            ));
        }

        // Loads, in the order they were added.
        let streams = RngStreams::new(config.seed);
        let weekday = ((config.start_unix_secs.div_euclid(86_400) + 3).rem_euclid(7)) as u32;
        let time_of_day = SimDuration::from_secs(config.start_unix_secs.rem_euclid(86_400) as u64);
        for (name, source) in loads {
            if config.loads.iter().any(|l| l.name == name) {
                return Err(invalid(
                    format!("load {name}"),
                    "another load has this name".into(),
                ));
            }
            let trace = match source {
                LoadSource::Trace(trace) => trace,
                LoadSource::Diurnal(diurnal) => {
                    let mut rng = streams.stream(&format!("load/{name}"));
                    diurnal
                        .generate(config.duration, weekday, time_of_day, &mut rng)
                        .map_err(|message| invalid(format!("load {name}"), message))?
                }
            };
            config.loads.push(Load { name, trace });
        }

        // Deployments that follow a load by name.
        for (deployment, load) in load_references {
            let index = config.loads.iter().position(|l| l.name == load);
            let known: Vec<&str> = config.loads.iter().map(|l| l.name.as_str()).collect();
            let entry = &mut config.deployments[deployment];
            let Some(index) = index else {
                return Err(invalid(
                    format!("deployment {}", entry.name),
                    format!("no load is named {load:?} (loads: {})", known.join(", ")),
                ));
            };
            if let Replicas::Hpa { load, .. } = &mut entry.replicas {
                *load = index;
            }
        }

        for step in &configure {
            (step.0)(&mut config);
        }
        Simulation::new(config)
    }
}

#[cfg(test)]
mod tests {
    use autoscale_sim_cloud::{GIB, Resources};
    use autoscale_sim_policy::KarpenterConfig;

    use super::*;
    use crate::PolicySpec;

    fn pod(cpu_millis: i64) -> PodSpec {
        PodSpec {
            requests: Resources::new(cpu_millis, GIB, 1),
            ..Default::default()
        }
    }

    #[test]
    fn builder_defaults_match_scenarios() {
        let simulation = Simulation::builder("defaults").build().unwrap();

        let config = simulation.config();
        assert_eq!(config.seed, 0);
        assert_eq!(config.duration, SimDuration::from_days(1));
        assert_eq!(config.start_unix_secs, DEFAULT_START_UNIX_SECS);
        assert_eq!(config.zones, ["us-east-1a", "us-east-1b", "us-east-1c"]);
        assert_eq!(config.launch_latency, LaunchLatency::default());
    }

    #[test]
    fn build_applies_scenario_limits() {
        let web = |duration: SimDuration| {
            Simulation::builder("limits")
                .duration(duration)
                .deployment("web", pod(500), 1)
        };
        let late_snapshot = |config: &mut SimConfig| {
            config.snapshots.push(Snapshot {
                label: "late".into(),
                at: SimTime::ZERO + SimDuration::from_hours(5),
            })
        };
        let cases = [
            (
                web(SimDuration::from_days(401)),
                "duration: 401d is not a run length from 1 ms to 400d; set one in that range",
            ),
            (
                web(SimDuration::from_days(30))
                    .configure(|config| config.sample_interval = SimDuration::from_secs(1)),
                "sample_interval: 1s over 30d takes more than 1000000 samples; set an interval of at least 3s",
            ),
            (
                web(SimDuration::from_hours(1)).configure(late_snapshot),
                "snapshot late: 5h is after the end of the run (1h)",
            ),
            (
                web(SimDuration::from_hours(1))
                    .configure(|config| config.spot.default_discount = f64::NAN),
                "spot: default_discount NaN is invalid; expected a share from 0 up to but not including 1",
            ),
            (
                web(SimDuration::from_hours(1)).configure(|config| {
                    config
                        .spot
                        .interruptions_per_month_by_family
                        .insert("m5".into(), 1e9);
                }),
                "spot: interruptions per month of family m5 1000000000 is invalid; expected a number from 0 to 10000",
            ),
            (
                web(SimDuration::from_hours(1)).configure(|config| {
                    config.zones = vec!["us-east-1a".into(), "us-east-1a".into()];
                }),
                "zones: us-east-1a is listed twice; list each zone once",
            ),
            (
                web(SimDuration::from_hours(1)).deployment("web", pod(250), 2),
                "deployment web: another Deployment or StatefulSet has this name; give each its own name",
            ),
        ];

        for (builder, expected) in cases {
            match builder.build() {
                Err(SimError::InvalidConfig { what, message }) => {
                    assert_eq!(format!("{what}: {message}"), expected);
                }
                Ok(_) => panic!("built, expected {expected:?}"),
            }
        }
    }

    #[test]
    fn default_start_is_monday_midnight() {
        assert_eq!(DEFAULT_START_UNIX_SECS % 86_400, 0);
        assert_eq!((DEFAULT_START_UNIX_SECS / 86_400 + 3) % 7, 0, "a Monday");
    }

    #[test]
    fn hpa_resolves_load_added_later() {
        let simulation = Simulation::builder("later")
            .deployment_with_hpa("web", pod(500), "second", HpaSpec::new(10.0, 1, 5))
            .load(
                "first",
                Trace::new(SimDuration::from_mins(1), vec![1.0]).unwrap(),
            )
            .diurnal_load("second", DiurnalLoad::new(10.0, 40.0))
            .build()
            .unwrap();

        let Replicas::Hpa { load, .. } = &simulation.config().deployments[0].replicas else {
            panic!("the Deployment follows a load");
        };
        assert_eq!(*load, 1);
        assert_eq!(simulation.config().loads[1].name, "second");
    }

    #[test]
    fn unknown_load_rejected() {
        let error = Simulation::builder("typo")
            .diurnal_load("web", DiurnalLoad::new(10.0, 40.0))
            .deployment_with_hpa("api", pod(500), "wbe", HpaSpec::new(10.0, 1, 5))
            .build()
            .unwrap_err();

        let message = error.to_string();
        assert!(message.contains("deployment api"), "{message}");
        assert!(message.contains("\"wbe\""), "{message}");
        assert!(message.contains("loads: web"), "{message}");
    }

    #[test]
    fn duplicate_load_rejected() {
        let error = Simulation::builder("twice")
            .diurnal_load("web", DiurnalLoad::new(10.0, 40.0))
            .diurnal_load("web", DiurnalLoad::new(10.0, 40.0))
            .build()
            .unwrap_err();

        assert!(error.to_string().contains("another load has this name"));
    }

    #[test]
    fn zero_duration_rejected() {
        let error = Simulation::builder("empty")
            .duration(SimDuration::ZERO)
            .build()
            .unwrap_err();

        assert!(error.to_string().contains("the run is empty"));
    }

    #[test]
    fn invalid_diurnal_rejected() {
        let error = Simulation::builder("upside-down")
            .diurnal_load("web", DiurnalLoad::new(40.0, 10.0))
            .build()
            .unwrap_err();

        assert!(error.to_string().contains("load web"), "{error}");
    }

    #[test]
    fn configure_runs_last() {
        let simulation = Simulation::builder("configured")
            .seed(1)
            .configure(|config| config.seed = 9)
            .build()
            .unwrap();

        assert_eq!(simulation.config().seed, 9);
    }

    #[test]
    fn builder_run_matches_hand_built_config() {
        let spec = pod(1_000);
        let built = Simulation::builder("same")
            .seed(3)
            .duration(SimDuration::from_hours(2))
            .deployment("web", spec.clone(), 4)
            .build()
            .unwrap();
        let mut config = SimConfig::new(
            "same",
            3,
            SimDuration::from_hours(2),
            Arc::new(Catalog::builtin()),
        );
        config.start_unix_secs = DEFAULT_START_UNIX_SECS;
        config.deployments.push(Deployment {
            controller: Default::default(),
            name: "web".into(),
            spec: Arc::new(spec),
            replicas: Replicas::Fixed(4),
            startup_latency: LatencyModel::Fixed(DEFAULT_POD_STARTUP),
        });
        let by_hand = Simulation::new(config).unwrap();
        let policy = PolicySpec::Karpenter(KarpenterConfig::default());

        assert_eq!(built.run(&policy), by_hand.run(&policy));
    }
}
