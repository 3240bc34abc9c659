//! The EC2 parts of a scenario added with launch phases: `cloud.launchPhases`,
//! `cloud.randomShortages`, `cloud.spot.rebalanceRecommendations` and empirical latencies read
//! from a CSV file.

use std::path::Path;

use autoscale_sim_cloud::{
    Catalog, LatencyModel, LaunchLatency, LaunchPhases, ShortageProcess, SpotSettings,
};
use autoscale_sim_engine::SimDuration;

use super::{Ctx, Result, build_latency, check_pool};
use crate::error::ScenarioError;
use crate::schema::{CloudSpec, LatencySpec, RandomShortageYaml, RebalanceYaml};

/// Shortest mean time between two random shortage spells of one pool. Every spell of a pool is
/// kept for the run, so a shorter mean over a 400-day run could hold millions of spells per pool.
const MIN_MEAN_TIME_BETWEEN_SHORTAGES: SimDuration = SimDuration::from_hours(1);

/// Builds the launch latency from `cloud.launchLatency` (the request-to-Ready shorthand) or
/// `cloud.launchPhases`; `None` when the file sets neither.
pub(super) fn build_launch_latency(
    cloud: &CloudSpec,
    ctx: &Ctx<'_>,
) -> Result<Option<LaunchLatency>> {
    match (&cloud.launch_latency, &cloud.launch_phases) {
        (Some(total), Some(_)) => Err(ctx.error(
            &total.distribution,
            "cloud.launchLatency",
            None,
            "launchLatency and launchPhases both set the launch latency",
            "keep launchPhases for a latency per phase, or launchLatency for one request-to-Ready latency",
        )),
        (Some(total), None) => Ok(Some(LaunchLatency::RequestToReady(build_latency(
            total,
            ctx,
            "cloud.launchLatency",
        )?))),
        (None, Some(phases)) => {
            let defaults = LaunchPhases::default();
            let phase = |spec: &Option<LatencySpec>, name: &str, default: LatencyModel| {
                spec.as_ref().map_or(Ok(default), |spec| {
                    build_latency(spec, ctx, &format!("cloud.launchPhases.{name}"))
                })
            };
            Ok(Some(LaunchLatency::Phases(LaunchPhases {
                running: phase(&phases.running, "running", defaults.running)?,
                registered: phase(&phases.registered, "registered", defaults.registered)?,
                ready: phase(&phases.ready, "ready", defaults.ready)?,
            })))
        }
        (None, None) => Ok(None),
    }
}

/// Checks one `cloud.randomShortages` entry.
pub(super) fn build_random_shortage(
    yaml: &RandomShortageYaml,
    ctx: &Ctx<'_>,
    catalog: &Catalog,
    zones: &[String],
    field: &str,
) -> Result<ShortageProcess> {
    let spot = check_pool(
        yaml.instance_type.as_ref(),
        yaml.zone.as_ref(),
        &yaml.capacity_type,
        ctx,
        catalog,
        zones,
        field,
    )?;
    let mean_interval =
        ctx.duration(&yaml.mean_time_between, &format!("{field}.meanTimeBetween"))?;
    if mean_interval < MIN_MEAN_TIME_BETWEEN_SHORTAGES {
        return Err(ctx.error(
            &yaml.mean_time_between,
            &format!("{field}.meanTimeBetween"),
            Some(yaml.mean_time_between.value.clone()),
            format!(
                "shortages this frequent are not supported; the mean time between two spells of one pool must be at least {MIN_MEAN_TIME_BETWEEN_SHORTAGES}"
            ),
            "write a duration of 1h or more, such as 3d, and lengthen the spells' duration for a scarcer pool",
        ));
    }
    let duration = build_latency(&yaml.duration, ctx, &format!("{field}.duration"))?;
    Ok(ShortageProcess {
        instance_type: yaml.instance_type.as_ref().map(|n| n.value.clone()),
        zone: yaml.zone.as_ref().map(|z| z.value.clone()),
        spot,
        mean_interval,
        duration,
    })
}

/// Reads `cloud.spot.rebalanceRecommendations` into the settings.
pub(super) fn build_rebalance(
    yaml: &RebalanceYaml,
    ctx: &Ctx<'_>,
    settings: &mut SpotSettings,
) -> Result<()> {
    let lead = ctx.duration(
        &yaml.lead_time,
        "cloud.spot.rebalanceRecommendations.leadTime",
    )?;
    settings.rebalance_lead = Some(lead);
    Ok(())
}

/// Builds an `empirical` latency: the values of its CSV file, each drawn with the same
/// probability.
pub(super) fn build_empirical(
    spec: &LatencySpec,
    ctx: &Ctx<'_>,
    field: &str,
) -> Result<LatencyModel> {
    for (name, value) in [
        ("mean", &spec.mean),
        ("stddev", &spec.stddev),
        ("min", &spec.min),
    ] {
        if let Some(value) = value {
            return Err(ctx.error(
                value,
                &format!("{field}.{name}"),
                Some(value.value.clone()),
                "an empirical latency draws the values of its file, so it takes no mean, stddev or min",
                format!("remove {name}, or write distribution: logNormal to use it"),
            ));
        }
    }
    let Some(file) = &spec.file else {
        return Err(ctx.error(
            &spec.distribution,
            &format!("{field}.file"),
            None,
            "an empirical latency needs the file of its recorded values",
            "add file: latencies.csv, a CSV file beside the scenario with the header seconds and one value per row",
        ));
    };
    let path = ctx.path(&file.value);
    if !path.is_file() {
        return Err(ctx.error(
            file,
            &format!("{field}.file"),
            Some(file.value.clone()),
            format!("latency file {} not found", path.display()),
            "give the path relative to the scenario file",
        ));
    }
    let values = load_seconds_csv(&path)?;
    Ok(LatencyModel::empirical(values).expect("load_seconds_csv returns at least one value"))
}

/// Reads a CSV file with the header `seconds` and one duration in seconds per row, such as
/// `41.5`, with at most three decimals. Fails on an empty file, a bad header or a bad value.
pub(crate) fn load_seconds_csv(path: &Path) -> Result<Vec<SimDuration>> {
    let fix = "write the header seconds, then one value per row, such as 41.5";
    let text = std::fs::read_to_string(path).map_err(|e| {
        ScenarioError::file(
            path,
            format!("cannot read the latency file: {e}"),
            "check the path; it is relative to the scenario file",
        )
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| {
            ScenarioError::at(
                path,
                Some((1, 1)),
                "header",
                None,
                format!("invalid CSV: {e}"),
                fix,
            )
        })?
        .iter()
        .map(str::to_string)
        .collect();
    if header != ["seconds"] {
        return Err(ScenarioError::at(
            path,
            Some((1, 1)),
            "header",
            Some(header.join(",")),
            "unexpected columns",
            fix,
        ));
    }
    let mut values = Vec::new();
    for row in reader.records() {
        let row = row.map_err(|e| {
            ScenarioError::at(
                path,
                e.position().map(|p| (p.line(), 1)),
                "seconds",
                None,
                format!("invalid CSV row: {e}"),
                fix,
            )
        })?;
        let line = row.position().map(|p| (p.line(), 1));
        let text = row.get(0).unwrap_or_default();
        let value = parse_seconds(text).ok_or_else(|| {
            ScenarioError::at(
                path,
                line,
                "seconds",
                Some(text.to_string()),
                "not a number of seconds zero or more with at most three decimals",
                fix,
            )
        })?;
        values.push(value);
    }
    if values.is_empty() {
        return Err(ScenarioError::file(
            path,
            "the latency file has no values",
            fix,
        ));
    }
    Ok(values)
}

/// Parses a non-negative decimal number of seconds with at most three decimals, exactly.
fn parse_seconds(text: &str) -> Option<SimDuration> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || fraction.len() > 3 {
        return None;
    }
    let millis = format!("{fraction:0<3}").parse::<u64>().ok()?;
    let secs = whole.parse::<u64>().ok()?;
    secs.checked_mul(1000)?.checked_add(millis).map(SimDuration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_parse_exactly() {
        assert_eq!(parse_seconds("41.5"), Some(SimDuration(41_500)));
        assert_eq!(parse_seconds("41.505"), Some(SimDuration(41_505)));
        assert_eq!(parse_seconds("7"), Some(SimDuration(7_000)));
        assert_eq!(parse_seconds("0.001"), Some(SimDuration(1)));
        assert_eq!(parse_seconds("1.0005"), None);
        assert_eq!(parse_seconds("-3"), None);
        assert_eq!(parse_seconds(".5"), None);
        assert_eq!(parse_seconds("5s"), None);
        assert_eq!(parse_seconds(""), None);
    }

    #[test]
    fn seconds_csv_errors_name_the_line() {
        let dir =
            std::env::temp_dir().join(format!("autoscale-sim-seconds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("latencies.csv");

        std::fs::write(&path, "seconds\n41.5\nfast\n").unwrap();
        let error = load_seconds_csv(&path).unwrap_err();
        assert_eq!(error.line, Some(3));
        assert_eq!(error.value.as_deref(), Some("fast"));

        std::fs::write(&path, "latency\n41.5\n").unwrap();
        let error = load_seconds_csv(&path).unwrap_err();
        assert_eq!(error.field.as_deref(), Some("header"));

        std::fs::write(&path, "seconds\n").unwrap();
        let error = load_seconds_csv(&path).unwrap_err();
        assert!(error.message.contains("no values"), "{}", error.message);

        std::fs::write(&path, "seconds\n30\n45.25\n").unwrap();
        assert_eq!(
            load_seconds_csv(&path).unwrap(),
            [SimDuration(30_000), SimDuration(45_250)]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
