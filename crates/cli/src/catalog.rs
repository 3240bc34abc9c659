//! The `catalog` command: the built-in instance types, filtered, with unit prices.

use std::collections::BTreeSet;

use autoscale_sim_cloud::{Arch, Catalog, ExtendedResource, InstanceType, MIB};
use clap::{Args, ValueEnum};
use serde::Serialize;

use crate::{Failure, Format, emit};

/// MiB in a GiB.
const MIB_PER_GIB: f64 = 1024.0;

/// Filters of `catalog`; every one left out matches all types.
#[derive(Debug, Default, Args)]
pub(crate) struct Filters {
    /// Only this instance family, such as m5 or c5d [default: all families]
    #[arg(long)]
    family: Option<String>,
    /// Only this CPU architecture (the kubernetes.io/arch label) [default: both]
    #[arg(long, value_enum)]
    arch: Option<ArchFilter>,
    /// Only types with at least this many vCPUs [default: no minimum]
    #[arg(long, value_name = "VCPUS", allow_negative_numbers = true, value_parser = whole_vcpus)]
    min_vcpu: Option<u32>,
    /// Only types with at most this many vCPUs [default: no maximum]
    #[arg(long, value_name = "VCPUS", allow_negative_numbers = true, value_parser = whole_vcpus)]
    max_vcpu: Option<u32>,
    /// Only types with at least this much memory, in GiB (16 or 0.5) or as a Kubernetes
    /// quantity (16Gi, 512Mi) [default: no minimum]
    #[arg(long, value_name = "MEMORY", allow_negative_numbers = true, value_parser = memory_gib)]
    min_memory: Option<f64>,
    /// Only types whose Linux on-demand price is at most this, in US dollars per hour
    /// [default: no maximum]
    #[arg(
        long,
        value_name = "USD_PER_HOUR",
        allow_negative_numbers = true,
        value_parser = non_negative
    )]
    max_price: Option<f64>,
}

/// `--arch` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ArchFilter {
    /// x86-64 (Intel and AMD).
    Amd64,
    /// 64-bit Arm (AWS Graviton).
    Arm64,
}

impl ArchFilter {
    fn arch(self) -> Arch {
        match self {
            ArchFilter::Amd64 => Arch::Amd64,
            ArchFilter::Arm64 => Arch::Arm64,
        }
    }
}

/// Parses a whole number of vCPUs for `--min-vcpu` and `--max-vcpu`.
fn whole_vcpus(text: &str) -> Result<u32, String> {
    text.trim()
        .parse()
        .map_err(|_| "expected a whole number of vCPUs of zero or more, such as 4".into())
}

/// Parses a finite number of zero or more, for the GiB and dollar filters.
fn non_negative(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(value) if value.is_finite() && value >= 0.0 => Ok(value),
        Ok(_) => Err("expected a finite number of zero or more".into()),
        Err(_) => Err("expected a number such as 4 or 0.5".into()),
    }
}

/// Parses `--min-memory` into GiB: a plain number is GiB, and a number with a unit is a
/// Kubernetes quantity (`16Gi`, `512Mi`, `16G`), parsed as in a pod's memory request.
fn memory_gib(text: &str) -> Result<f64, String> {
    let text = text.trim();
    if text.ends_with(|c: char| c.is_ascii_digit() || c == '.') {
        return non_negative(text);
    }
    match autoscale_sim_kube::quantity::parse_value(text) {
        Ok(bytes) if bytes >= 0 => Ok(bytes as f64 / (MIB as f64 * MIB_PER_GIB)),
        _ => Err("expected a number of GiB such as 16, or a quantity such as 16Gi or 512Mi".into()),
    }
}

impl Filters {
    /// Rejects filters that no type can match: a minimum above its maximum.
    fn check(&self) -> Result<(), Failure> {
        if let (Some(min), Some(max)) = (self.min_vcpu, self.max_vcpu) {
            if min > max {
                return Err(Failure::input(format!(
                    "--min-vcpu {min} is above --max-vcpu {max}; lower the minimum or raise the maximum"
                )));
            }
        }
        Ok(())
    }

    fn matches(&self, t: &InstanceType) -> bool {
        self.family.as_deref().is_none_or(|f| t.family == f)
            && self.arch.is_none_or(|a| t.arch == a.arch())
            && self.min_vcpu.is_none_or(|v| t.vcpu >= v)
            && self.max_vcpu.is_none_or(|v| t.vcpu <= v)
            && self
                .min_memory
                .is_none_or(|gib| t.memory_mib as f64 >= gib * MIB_PER_GIB)
            && self
                .max_price
                .is_none_or(|usd| t.on_demand_price.0 as f64 <= (usd * 1e6).round())
    }

    /// Describes the filters in effect as command-line options, for error messages.
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(family) = &self.family {
            parts.push(format!("--family {family}"));
        }
        if let Some(arch) = self.arch {
            parts.push(format!("--arch {}", arch.arch().label()));
        }
        if let Some(v) = self.min_vcpu {
            parts.push(format!("--min-vcpu {v}"));
        }
        if let Some(v) = self.max_vcpu {
            parts.push(format!("--max-vcpu {v}"));
        }
        if let Some(gib) = self.min_memory {
            parts.push(format!("--min-memory {gib} (GiB)"));
        }
        if let Some(usd) = self.max_price {
            parts.push(format!("--max-price {usd} ($/h)"));
        }
        parts.join(" ")
    }
}

/// One catalog entry as `--format json` prints it: the instance type, its allocatable
/// resources and its unit prices.
#[derive(Serialize)]
struct Entry<'a> {
    #[serde(flatten)]
    instance_type: &'a InstanceType,
    /// Node allocatable by the EKS and Karpenter formulas, as the table's last column shows it.
    allocatable: Allocatable,
    /// On-demand price in dollars per hour, rounded to 6 decimals. The exact price is
    /// `on_demand_micro_usd_per_hour`.
    on_demand_usd_per_hour: f64,
    /// On-demand price per vCPU, in dollars per vCPU-hour, rounded to 6 decimals.
    usd_per_vcpu_hour: Option<f64>,
    /// On-demand price per GiB of memory, in dollars per GiB-hour, rounded to 6 decimals.
    usd_per_gib_hour: Option<f64>,
}

/// Allocatable resources of a node of one instance type.
#[derive(Serialize)]
struct Allocatable {
    /// CPU in millicores.
    cpu_millicores: i64,
    /// Memory in MiB, rounded down.
    memory_mib: i64,
    /// Pods.
    pods: i64,
}

impl<'a> Entry<'a> {
    fn new(t: &'a InstanceType) -> Entry<'a> {
        let price = t.on_demand_price.usd_per_hour();
        let gib = t.memory_mib as f64 / MIB_PER_GIB;
        let resources = t.allocatable();
        Entry {
            instance_type: t,
            allocatable: Allocatable {
                cpu_millicores: resources.cpu_millis,
                memory_mib: resources.memory_bytes / MIB,
                pods: resources.pods,
            },
            on_demand_usd_per_hour: round_micro(price),
            usd_per_vcpu_hour: (t.vcpu > 0).then(|| round_micro(price / f64::from(t.vcpu))),
            usd_per_gib_hour: (gib > 0.0).then(|| round_micro(price / gib)),
        }
    }
}

/// Rounds dollars to 6 decimals (micro-dollars, the unit of the catalog's prices), so that
/// JSON shows 0.048 and not 0.047999999999999994.
fn round_micro(usd: f64) -> f64 {
    (usd * 1e6).round() / 1e6
}

/// Describes the ranges of vCPUs, memory and price in `types`, for the error message of
/// filters that matched nothing.
fn describe_ranges(types: &[InstanceType]) -> String {
    let vcpu = types.iter().map(|t| t.vcpu);
    let memory = types.iter().map(|t| t.memory_mib);
    let price = types.iter().map(|t| t.on_demand_price.0);
    format!(
        "the built-in types have {} to {} vCPUs, {} to {} GiB of memory and cost {} to {} $/h",
        vcpu.clone().min().unwrap_or(0),
        vcpu.max().unwrap_or(0),
        gib(memory.clone().min().unwrap_or(0)),
        gib(memory.max().unwrap_or(0)),
        price.clone().min().unwrap_or(0) as f64 / 1e6,
        price.max().unwrap_or(0) as f64 / 1e6
    )
}

/// Formats an optional unit price with six decimals, or `-` when the divisor was zero.
fn unit_price(value: Option<f64>) -> String {
    value.map_or("-".into(), |v| format!("{v:.6}"))
}

/// Formats GiB with up to two decimals: `4`, `0.5`, `3.75`.
fn gib(memory_mib: u64) -> String {
    let text = format!("{:.2}", memory_mib as f64 / MIB_PER_GIB);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Prints the built-in instance types that pass `filters`.
pub(crate) fn print_catalog(filters: &Filters, format: Format) -> Result<(), Failure> {
    filters.check()?;
    let catalog = Catalog::builtin();
    if let Some(family) = &filters.family {
        if !catalog.types().iter().any(|t| &t.family == family) {
            let families: BTreeSet<&str> =
                catalog.types().iter().map(|t| t.family.as_str()).collect();
            return Err(Failure::input(format!(
                "no instance type of family {family:?}; the families are: {}",
                families.into_iter().collect::<Vec<_>>().join(", ")
            )));
        }
    }
    // By family, then by size within it, as the message of an unknown instance type lists them.
    let mut types: Vec<&InstanceType> = catalog
        .types()
        .iter()
        .filter(|t| filters.matches(t))
        .collect();
    types.sort_by(|a, b| (&a.family, a.size_order_key()).cmp(&(&b.family, b.size_order_key())));
    if types.is_empty() {
        return Err(Failure::input(format!(
            "no instance type matches {}; {}",
            filters.describe(),
            describe_ranges(catalog.types())
        )));
    }

    if format == Format::Json {
        let entries: Vec<Entry<'_>> = types.into_iter().map(Entry::new).collect();
        outln!(
            "{}",
            serde_json::to_string_pretty(&entries).expect("instance types serialise")
        );
        return Ok(());
    }
    // The name column is as wide as its longest entry. The allocatable column comes last, with
    // the devices (GPUs, Neuron chips and cores) after the CPU and memory.
    let allocatable: Vec<String> = types
        .iter()
        .map(|t| {
            let resources = t.allocatable();
            let devices: String = ExtendedResource::ALL
                .into_iter()
                .filter(|r| resources.extended(*r) > 0)
                .map(|r| format!(" {} {}", resources.extended(r), r.name()))
                .collect();
            format!(
                "{}m/{}Mi{devices}",
                resources.cpu_millis,
                resources.memory_bytes / MIB
            )
        })
        .collect();
    let name_width = types
        .iter()
        .map(|t| t.name.len())
        .chain(["instance type".len()])
        .max()
        .unwrap_or(0);
    outln!(
        "{:<name_width$} {:>5} {:>8} {:>6} {:>5} {:>10} {:>10} {:>10} {}",
        "instance type",
        "vCPU",
        "mem GiB",
        "arch",
        "pods",
        "$/h",
        "$/vCPU-h",
        "$/GiB-h",
        "allocatable"
    );
    for (t, allocatable) in types.into_iter().zip(&allocatable) {
        let entry = Entry::new(t);
        outln!(
            "{:<name_width$} {:>5} {:>8} {:>6} {:>5} {:>10.6} {:>10} {:>10} {}",
            t.name,
            t.vcpu,
            gib(t.memory_mib),
            t.arch.label(),
            t.max_pods(),
            t.on_demand_price.usd_per_hour(),
            unit_price(entry.usd_per_vcpu_hour),
            unit_price(entry.usd_per_gib_hour),
            allocatable
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m5_large() -> InstanceType {
        Catalog::builtin()
            .by_name("m5.large")
            .expect("m5.large is built in")
            .clone()
    }

    #[test]
    fn filters_match_bounds() {
        let t = m5_large(); // 2 vCPU, 8 GiB, amd64, 0.096 $/h
        let pass = [
            Filters {
                min_vcpu: Some(2),
                max_vcpu: Some(2),
                ..Default::default()
            },
            Filters {
                min_memory: Some(8.0),
                ..Default::default()
            },
            Filters {
                max_price: Some(0.096),
                ..Default::default()
            },
            Filters {
                arch: Some(ArchFilter::Amd64),
                family: Some("m5".into()),
                ..Default::default()
            },
        ];
        let fail = [
            Filters {
                min_vcpu: Some(3),
                ..Default::default()
            },
            Filters {
                max_vcpu: Some(1),
                ..Default::default()
            },
            Filters {
                min_memory: Some(8.01),
                ..Default::default()
            },
            Filters {
                max_price: Some(0.095999),
                ..Default::default()
            },
            Filters {
                arch: Some(ArchFilter::Arm64),
                ..Default::default()
            },
            Filters {
                family: Some("m5a".into()),
                ..Default::default()
            },
        ];

        for filters in &pass {
            assert!(
                filters.matches(&t),
                "{} matches m5.large",
                filters.describe()
            );
        }
        for filters in &fail {
            assert!(
                !filters.matches(&t),
                "{} rejects m5.large",
                filters.describe()
            );
        }
    }

    #[test]
    fn unit_prices_of_m5_large() {
        let t = m5_large();

        let entry = Entry::new(&t);

        assert!((entry.usd_per_vcpu_hour.unwrap() - 0.048).abs() < 1e-12);
        assert!((entry.usd_per_gib_hour.unwrap() - 0.012).abs() < 1e-12);
    }

    #[test]
    fn json_prices_name_their_unit() {
        let t = m5_large();

        let json: serde_json::Value = serde_json::to_value(Entry::new(&t)).unwrap();

        assert_eq!(json["on_demand_usd_per_hour"].to_string(), "0.096");
        assert_eq!(json["on_demand_micro_usd_per_hour"], 96_000);
        assert_eq!(json["usd_per_vcpu_hour"].to_string(), "0.048");
        assert!(json.get("on_demand_price").is_none(), "{json}");
    }

    #[test]
    fn non_negative_parses() {
        assert_eq!(non_negative("0.5"), Ok(0.5));
        assert_eq!(non_negative("0"), Ok(0.0));
        assert!(non_negative("-1").is_err());
        assert!(non_negative("NaN").is_err());
        assert!(non_negative("inf").is_err());
        assert!(non_negative("8GiB").is_err());
    }

    #[test]
    fn min_above_max_rejected() {
        let filters = Filters {
            min_vcpu: Some(8),
            max_vcpu: Some(4),
            ..Default::default()
        };

        let failure = filters.check().unwrap_err();

        assert_eq!(failure.code, 2);
        assert!(
            failure
                .message
                .contains("--min-vcpu 8 is above --max-vcpu 4")
        );
    }

    #[test]
    fn whole_vcpus_parses() {
        assert_eq!(whole_vcpus("4"), Ok(4));
        assert!(whole_vcpus("-3").is_err());
        assert!(whole_vcpus("2.5").is_err());
    }

    #[test]
    fn ranges_described() {
        let catalog = Catalog::builtin();
        let types: Vec<InstanceType> = ["m5.large", "m5.xlarge"]
            .iter()
            .map(|name| catalog.by_name(name).unwrap().clone())
            .collect();

        let text = describe_ranges(&types);

        assert_eq!(
            text,
            "the built-in types have 2 to 4 vCPUs, 8 to 16 GiB of memory and cost 0.096 to 0.192 $/h"
        );
    }

    #[test]
    fn gib_formats() {
        assert_eq!(gib(8192), "8");
        assert_eq!(gib(512), "0.5");
        assert_eq!(gib(3840), "3.75");
    }
}
