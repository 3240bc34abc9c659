//! Recorded spot prices: the JSON that `aws ec2 describe-spot-price-history` prints, or a CSV
//! file with the columns `timestamp,instance_type,zone,spot_usd_per_hour`.

use std::collections::BTreeMap;
use std::path::Path;

use autoscale_sim_cloud::Price;
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
/// Prices recorded before the start hold from t = 0 until the next record. Pools whose first
/// price comes after the start, and records that repeat a pool's time with another price, are
/// described in `warnings`.
pub fn load(
    path: &Path,
    start_unix_secs: i64,
    warnings: &mut Vec<String>,
) -> Result<History, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ScenarioError::file(
            path,
            format!("cannot read the price history: {e}"),
            "check the path; it is relative to the scenario file",
        )
    })?;
    let records = if path.extension().is_some_and(|e| e == "json") {
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

    let mut history: BTreeMap<(String, String), Vec<(i64, Price)>> = BTreeMap::new();
    for (unix, instance_type, zone, price) in records {
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

type Record = (i64, String, String, Price);

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
        records.push((unix, entry.instance_type, entry.availability_zone, price));
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
        records.push((unix, row[1].to_string(), row[2].to_string(), price));
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: i64 = 1_767_571_200; // 2026-01-05T00:00:00Z

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
        let history = load(&path, START, &mut warnings).unwrap();
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
        let history = load(&path, START, &mut warnings).unwrap();

        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].ends_with("m5.large in us-east-1a has a record at the same time as another with a different price; at each such time the highest price is used"));
        assert!(warnings[1].ends_with("the first price of m5.large in us-east-1a is 7200 s after the run starts; it also holds before then"));
        let pool = &history[&("m5.large".to_string(), "us-east-1a".to_string())];
        assert_eq!(pool.len(), 3);
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
