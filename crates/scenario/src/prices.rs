//! Recorded spot prices: the JSON that `aws ec2 describe-spot-price-history` prints, or a CSV
//! file with the columns `timestamp,instance_type,zone,spot_usd_per_hour`.

use std::collections::BTreeMap;
use std::path::Path;

use autoscale_sim_cloud::{Catalog, Price};
use autoscale_sim_engine::SimTime;
use serde::Deserialize;

use crate::clock::parse_iso_utc;
use crate::error::ScenarioError;

/// Prices per pool (instance type, zone), sorted by time.
pub type History = BTreeMap<(String, String), Vec<(SimTime, Price)>>;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeOutput {
    spot_price_history: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    availability_zone: String,
    instance_type: String,
    #[serde(default)]
    product_description: String,
    spot_price: String,
    timestamp: String,
}

/// Loads recorded prices from `path`, as times relative to the run's start `start_unix_secs`.
/// Prices recorded before the start hold from t = 0 until the next record. Records of an
/// instance type not in `catalog` or of a zone not in `zones` are dropped. Each such instance
/// type and zone, pools whose first price comes after the start, and records that repeat a
/// pool's time with another price are described in `warnings`.
pub fn load(
    path: &Path,
    start_unix_secs: i64,
    catalog: &Catalog,
    zones: &[String],
    warnings: &mut Vec<String>,
) -> Result<History, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ScenarioError::file(
            path,
            format!("cannot read the price history: {e}"),
            "check the path; it is relative to the scenario file",
        )
    })?;
    let json = path.extension().is_some_and(|e| e == "json");
    let records = if json {
        from_json(&text, path)?
    } else {
        from_csv(&text, path)?
    };
    if records.is_empty() {
        return Err(ScenarioError::file(
            path,
            "the price history has no Linux prices",
            "give the output of aws ec2 describe-spot-price-history --product-descriptions Linux/UNIX, or a CSV with rows",
        ));
    }

    let records = drop_unknown_pools(records, &text, path, json, catalog, zones, warnings);

    let mut history: BTreeMap<(String, String), Vec<(i64, Price)>> = BTreeMap::new();
    for (unix, instance_type, zone, price, _) in records {
        history
            .entry((instance_type, zone))
            .or_default()
            .push((unix, price));
    }
    Ok(history
        .into_iter()
        .map(|(pool, mut entries)| {
            entries.sort();
            let (instance_type, zone) = &pool;
            let repeated = entries
                .windows(2)
                .filter(|pair| pair[0].0 == pair[1].0 && pair[0].1 != pair[1].1)
                .count();
            if repeated > 0 {
                let records = if repeated == 1 {
                    "a record".to_string()
                } else {
                    format!("{repeated} records")
                };
                warnings.push(format!(
                    "{}: {instance_type} in {zone} has {records} at the same time as another with a different price; at each such time the highest price is used",
                    path.display()
                ));
            }
            if let Some((first, _)) = entries.first()
                && *first > start_unix_secs
            {
                warnings.push(format!(
                    "{}: the first price of {instance_type} in {zone} is {} s after the run starts; it also holds before then",
                    path.display(),
                    first - start_unix_secs
                ));
            }
            // The latest record at or before the start holds from t = 0.
            let before = entries
                .iter()
                .filter(|(at, _)| *at <= start_unix_secs)
                .count();
            let kept: Vec<(SimTime, Price)> = entries
                .into_iter()
                .skip(before.saturating_sub(1))
                .map(|(at, price)| {
                    (
                        SimTime(((at - start_unix_secs).max(0) as u64) * 1000),
                        price,
                    )
                })
                .collect();
            (pool, kept)
        })
        .collect())
}

/// One price: Unix time, instance type, zone, price, and the CSV line it is on (`None` in JSON).
type Record = (i64, String, String, Price, Option<u64>);

/// Drops the records of instance types not in `catalog` and of zones not in `zones`, because
/// no offering uses them, with one warning per such instance type and per such zone.
fn drop_unknown_pools(
    records: Vec<Record>,
    text: &str,
    path: &Path,
    json: bool,
    catalog: &Catalog,
    zones: &[String],
    warnings: &mut Vec<String>,
) -> Vec<Record> {
    // Count the rows of each unknown value, keeping the CSV line of its first row.
    let mut unknown_types: BTreeMap<String, (Option<u64>, usize)> = BTreeMap::new();
    let mut unknown_zones: BTreeMap<String, (Option<u64>, usize)> = BTreeMap::new();
    for (_, instance_type, zone, _, line) in &records {
        if catalog.by_name(instance_type).is_none() {
            let entry = unknown_types.entry(instance_type.clone());
            entry.or_insert((*line, 0)).1 += 1;
        }
        if !zones.contains(zone) {
            unknown_zones.entry(zone.clone()).or_insert((*line, 0)).1 += 1;
        }
    }

    // One warning per value, in the order of the file.
    let (type_field, zone_field) = if json {
        ("InstanceType", "AvailabilityZone")
    } else {
        ("instance_type", "zone")
    };
    let mut found: Vec<(Option<(u64, u64)>, String)> = Vec::new();
    for (instance_type, (line, rows)) in &unknown_types {
        found.push((
            locate(text, *line, 1, instance_type),
            format!(
                "field {type_field}, value {instance_type:?}: the instance type is not in the catalog, so {} ignored; use an instance type of the catalog, or remove the rows",
                rows_text(*rows)
            ),
        ));
    }
    for (zone, (line, rows)) in &unknown_zones {
        found.push((
            locate(text, *line, 2, zone),
            format!(
                "field {zone_field}, value {zone:?}: the zone is not in cloud.zones [{}], so {} ignored; add the zone to cloud.zones, or remove the rows",
                zones.join(", "),
                rows_text(*rows)
            ),
        ));
    }
    found.sort();
    for (location, message) in found {
        let at = match location {
            Some((line, column)) => format!(":{line}:{column}"),
            None => String::new(),
        };
        warnings.push(format!("{}{at}: {message}", path.display()));
    }

    records
        .into_iter()
        .filter(|(_, instance_type, zone, _, _)| {
            !unknown_types.contains_key(instance_type) && !unknown_zones.contains_key(zone)
        })
        .collect()
}

/// Returns "its row is" or "its N rows are".
fn rows_text(rows: usize) -> String {
    if rows == 1 {
        "its row is".to_string()
    } else {
        format!("its {rows} rows are")
    }
}

/// Returns the line and column, from 1, of `value`: in a CSV file, the start of column
/// `field_index` (from 0) on `csv_line`, and in JSON (`csv_line` is `None`), the first
/// occurrence of `value` as a quoted string.
fn locate(
    text: &str,
    csv_line: Option<u64>,
    field_index: usize,
    value: &str,
) -> Option<(u64, u64)> {
    match csv_line {
        Some(line) => {
            let source = text
                .lines()
                .nth(usize::try_from(line).ok()?.checked_sub(1)?)?;
            let before: usize = source
                .split(',')
                .take(field_index)
                .map(|field| field.chars().count() + 1)
                .sum();
            let field = source.split(',').nth(field_index)?;
            let padding = field.chars().take_while(|c| c.is_whitespace()).count();
            Some((line, (before + padding + 1) as u64))
        }
        None => {
            let offset = text.find(&format!("{value:?}"))?;
            let before = &text[..offset];
            let line = before.matches('\n').count() + 1;
            let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
            let column = before[line_start..].chars().count() + 1;
            Some((line as u64, column as u64))
        }
    }
}

fn bad(
    path: &Path,
    line: Option<u64>,
    field: &str,
    value: &str,
    message: &str,
    fix: &str,
) -> ScenarioError {
    ScenarioError::at(
        path,
        line.map(|l| (l, 1)),
        field,
        Some(value.to_string()),
        message,
        fix,
    )
}

fn from_json(text: &str, path: &Path) -> Result<Vec<Record>, ScenarioError> {
    let output: DescribeOutput = serde_json::from_str(text).map_err(|e| {
        ScenarioError::at(
            path,
            Some((e.line() as u64, e.column() as u64)),
            "SpotPriceHistory",
            None,
            format!("invalid JSON: {e}"),
            "give the output of aws ec2 describe-spot-price-history --output json",
        )
    })?;
    let mut records = Vec::new();
    for entry in output.spot_price_history {
        if !entry.product_description.is_empty()
            && !entry.product_description.starts_with("Linux/UNIX")
        {
            continue;
        }
        let unix = parse_iso_utc(&entry.timestamp).ok_or_else(|| {
            bad(
                path,
                None,
                "Timestamp",
                &entry.timestamp,
                "not a UTC timestamp",
                "use the timestamps as AWS prints them, such as 2026-01-05T10:00:00+00:00",
            )
        })?;
        let price = Price::parse_usd(&entry.spot_price).ok_or_else(|| {
            bad(
                path,
                None,
                "SpotPrice",
                &entry.spot_price,
                "not a dollar amount",
                "write a price such as 0.0354",
            )
        })?;
        records.push((
            unix,
            entry.instance_type,
            entry.availability_zone,
            price,
            None,
        ));
    }
    Ok(records)
}

fn from_csv(text: &str, path: &Path) -> Result<Vec<Record>, ScenarioError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let expected = ["timestamp", "instance_type", "zone", "spot_usd_per_hour"];
    let headers = reader.headers().map_err(|e| {
        bad(
            path,
            Some(1),
            "header",
            "",
            &format!("invalid CSV: {e}"),
            "start with the header timestamp,instance_type,zone,spot_usd_per_hour",
        )
    })?;
    if headers.iter().collect::<Vec<_>>() != expected {
        let found = headers.iter().collect::<Vec<_>>().join(",");
        return Err(bad(
            path,
            Some(1),
            "header",
            &found,
            "unexpected columns",
            "start with the header timestamp,instance_type,zone,spot_usd_per_hour",
        ));
    }
    let mut records = Vec::new();
    for row in reader.records() {
        let row = row.map_err(|e| {
            bad(
                path,
                e.position().map(|p| p.line()),
                "row",
                "",
                &format!("invalid CSV row: {e}"),
                "write four columns per row",
            )
        })?;
        let line = row.position().map(|p| p.line());
        let unix = parse_iso_utc(&row[0]).ok_or_else(|| {
            bad(
                path,
                line,
                "timestamp",
                &row[0],
                "not a UTC timestamp",
                "write a timestamp such as 2026-01-05T10:00:00Z",
            )
        })?;
        let price = Price::parse_usd(&row[3]).ok_or_else(|| {
            bad(
                path,
                line,
                "spot_usd_per_hour",
                &row[3],
                "not a dollar amount",
                "write a price such as 0.0354",
            )
        })?;
        records.push((unix, row[1].to_string(), row[2].to_string(), price, line));
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: i64 = 1_767_571_200; // 2026-01-05T00:00:00Z

    /// Returns the zones of a scenario without `cloud.zones`.
    fn zones() -> Vec<String> {
        ["us-east-1a", "us-east-1b", "us-east-1c"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn json_from_aws_cli() {
        let dir = std::env::temp_dir().join(format!("autoscale-sim-prices-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("history.json");
        std::fs::write(
            &path,
            r#"{"SpotPriceHistory": [
                {"AvailabilityZone": "us-east-1a", "InstanceType": "m5.large", "ProductDescription": "Linux/UNIX", "SpotPrice": "0.036000", "Timestamp": "2026-01-05T06:00:00+00:00"},
                {"AvailabilityZone": "us-east-1a", "InstanceType": "m5.large", "ProductDescription": "Linux/UNIX", "SpotPrice": "0.035000", "Timestamp": "2026-01-04T20:00:00+00:00"},
                {"AvailabilityZone": "us-east-1a", "InstanceType": "m5.large", "ProductDescription": "Windows", "SpotPrice": "0.100000", "Timestamp": "2026-01-05T01:00:00+00:00"}
            ]}"#,
        )
        .unwrap();

        let mut warnings = Vec::new();
        let history = load(&path, START, &Catalog::builtin(), &zones(), &mut warnings).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        let pool = &history[&("m5.large".to_string(), "us-east-1a".to_string())];
        assert_eq!(
            pool,
            &vec![
                (SimTime(0), Price(35_000)),
                (SimTime(6 * 3_600_000), Price(36_000))
            ]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn late_and_repeated_prices_warn() {
        let dir =
            std::env::temp_dir().join(format!("autoscale-sim-prices-late-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("history.csv");
        std::fs::write(
            &path,
            "timestamp,instance_type,zone,spot_usd_per_hour\n\
             2026-01-05T02:00:00Z,m5.large,us-east-1a,0.030\n\
             2026-01-05T02:00:00Z,m5.large,us-east-1a,0.032\n\
             2026-01-05T03:00:00Z,m5.large,us-east-1a,0.031\n",
        )
        .unwrap();

        let mut warnings = Vec::new();
        let history = load(&path, START, &Catalog::builtin(), &zones(), &mut warnings).unwrap();

        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].ends_with("m5.large in us-east-1a has a record at the same time as another with a different price; at each such time the highest price is used"));
        assert!(warnings[1].ends_with("the first price of m5.large in us-east-1a is 7200 s after the run starts; it also holds before then"));
        let pool = &history[&("m5.large".to_string(), "us-east-1a".to_string())];
        assert_eq!(pool.len(), 3);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Writes `text` to a file `name` in a new temporary folder; returns the folder and file.
    fn write_history(
        label: &str,
        name: &str,
        text: &str,
    ) -> (std::path::PathBuf, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "autoscale-sim-prices-{label}-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn unknown_pools_warn_once_each() {
        let (dir, path) = write_history(
            "unknown",
            "history.csv",
            "timestamp,instance_type,zone,spot_usd_per_hour\n\
             2026-01-05T00:30:00Z,m5.large,us-east-1a,0.050000\n\
             2026-01-05T01:00:00Z,m5.large,us-east-1z,0.080000\n\
             2026-01-05T01:00:00Z,m9.large,us-east-1a,0.080000\n\
             2026-01-05T02:00:00Z, m9.large,us-east-1z,0.070000\n",
        );
        let zones = vec!["us-east-1a".to_string()];

        let mut warnings = Vec::new();
        let history = load(&path, START, &Catalog::builtin(), &zones, &mut warnings).unwrap();

        let file = path.display();
        assert_eq!(
            warnings,
            [
                format!(
                    "{file}:3:31: field zone, value \"us-east-1z\": the zone is not in cloud.zones [us-east-1a], so its 2 rows are ignored; add the zone to cloud.zones, or remove the rows"
                ),
                format!(
                    "{file}:4:22: field instance_type, value \"m9.large\": the instance type is not in the catalog, so its 2 rows are ignored; use an instance type of the catalog, or remove the rows"
                ),
                format!(
                    "{file}: the first price of m5.large in us-east-1a is 1800 s after the run starts; it also holds before then"
                ),
            ]
        );
        assert_eq!(
            history.keys().collect::<Vec<_>>(),
            [&("m5.large".to_string(), "us-east-1a".to_string())]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn unknown_pool_in_json_located() {
        let (dir, path) = write_history(
            "unknown-json",
            "history.json",
            r#"{"SpotPriceHistory": [
  {"AvailabilityZone": "us-east-1a", "InstanceType": "m5.large", "SpotPrice": "0.036000", "Timestamp": "2026-01-05T00:00:00+00:00"},
  {"AvailabilityZone": "us-east-1a", "InstanceType": "m9.large", "SpotPrice": "0.035000", "Timestamp": "2026-01-05T00:00:00+00:00"}
]}"#,
        );

        let mut warnings = Vec::new();
        let history = load(&path, START, &Catalog::builtin(), &zones(), &mut warnings).unwrap();

        assert_eq!(
            warnings,
            [format!(
                "{}:3:54: field InstanceType, value \"m9.large\": the instance type is not in the catalog, so its row is ignored; use an instance type of the catalog, or remove the rows",
                path.display()
            )]
        );
        assert_eq!(history.len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn csv_errors_name_the_cell() {
        let path = Path::new("prices.csv");
        let error = from_csv("timestamp,instance_type,zone,spot_usd_per_hour\n2026-01-05T00:00:00Z,m5.large,us-east-1a,cheap\n", path).unwrap_err();
        assert_eq!(error.line, Some(2));
        assert_eq!(error.field.as_deref(), Some("spot_usd_per_hour"));
        assert_eq!(error.value.as_deref(), Some("cheap"));
    }
}
