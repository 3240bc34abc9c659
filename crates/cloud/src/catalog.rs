//! EC2 instance types: the built-in us-east-1 catalog and user catalogs loaded from CSV.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::allocatable;
use crate::catalog_data::BUILTIN_US_EAST_1;
use crate::money::Price;
use crate::resources::{ExtendedResource, Resources};

/// CPU architecture, with the values of the `kubernetes.io/arch` label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// x86-64 (Intel and AMD).
    Amd64,
    /// 64-bit Arm (AWS Graviton).
    Arm64,
}

impl Arch {
    /// The `kubernetes.io/arch` label value.
    pub fn label(self) -> &'static str {
        match self {
            Arch::Amd64 => "amd64",
            Arch::Arm64 => "arm64",
        }
    }

    fn parse(text: &str) -> Option<Arch> {
        match text {
            "amd64" | "x86_64" => Some(Arch::Amd64),
            "arm64" | "aarch64" => Some(Arch::Arm64),
            _ => None,
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One EC2 instance type with the figures a node model needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceType {
    /// API name, such as `m5.large`.
    pub name: String,
    /// Family, such as `m5` or `c5d` (Karpenter label `karpenter.k8s.aws/instance-family`).
    pub family: String,
    /// Category: the family's leading letters, such as `m` or `c`
    /// (Karpenter label `karpenter.k8s.aws/instance-category`).
    pub category: String,
    /// Generation number (`karpenter.k8s.aws/instance-generation`).
    pub generation: u32,
    /// Size, such as `large` or `4xlarge` (`karpenter.k8s.aws/instance-size`).
    pub size: String,
    /// Number of vCPUs.
    pub vcpu: u32,
    /// Memory in MiB, as EC2 publishes it.
    pub memory_mib: u64,
    /// CPU architecture.
    pub arch: Arch,
    /// Maximum pods with the VPC CNI's ENI-limited density: ENIs × (IPv4 addresses per ENI − 1) + 2.
    /// `None` when no ENI data exists; the node then gets Kubernetes' default of 110.
    pub max_pods_eni: Option<u32>,
    /// Linux on-demand price in us-east-1. Serialised as `on_demand_micro_usd_per_hour`, the
    /// unit of [`Price`], as `total_cost_micro_usd` in `summary.json` names it.
    #[serde(rename = "on_demand_micro_usd_per_hour")]
    pub on_demand_price: Price,
    /// GPUs (Karpenter label `karpenter.k8s.aws/instance-gpu-count`); see
    /// [`InstanceType::gpu_resource`] for the resource they count as.
    pub gpu_count: u32,
    /// AWS Inferentia and Trainium chips (`aws.amazon.com/neuron`).
    pub neuron_devices: u32,
    /// NeuronCores over all of those chips (`aws.amazon.com/neuroncore`).
    pub neuron_cores: u32,
}

impl InstanceType {
    /// Node capacity as a running EKS node reports it (see [`allocatable::node_capacity`]).
    pub fn capacity(&self) -> Resources {
        allocatable::node_capacity(self)
    }

    /// Node allocatable by the EKS and Karpenter formulas (see [`allocatable::node_allocatable`]).
    pub fn allocatable(&self) -> Resources {
        allocatable::node_allocatable(self)
    }

    /// Returns the key that orders the sizes of a family smallest first: vCPUs, then memory,
    /// then the name, so that `m5.xlarge` comes before `m5.2xlarge` (text order would not).
    pub fn size_order_key(&self) -> (u32, u64, &str) {
        (self.vcpu, self.memory_mib, &self.name)
    }

    /// Returns the extended resource this type's GPUs are advertised as: `amd.com/gpu` for the
    /// AMD Radeon Pro V520 of the g4ad family, `habana.ai/gaudi` for the Habana Gaudi
    /// accelerators of the dl1 family, and `nvidia.com/gpu` for every other GPU type.
    pub fn gpu_resource(&self) -> ExtendedResource {
        match self.family.as_str() {
            "g4ad" => ExtendedResource::AmdGpu,
            "dl1" => ExtendedResource::HabanaGaudi,
            _ => ExtendedResource::NvidiaGpu,
        }
    }

    /// Pod slots of a node of this type: the ENI limit, or 110 without ENI data.
    pub fn max_pods(&self) -> u32 {
        self.max_pods_eni.unwrap_or(allocatable::DEFAULT_MAX_PODS)
    }
}

/// Splits a family name into its category: the letters before the generation digit (`c5d` → `c`,
/// `m7i-flex` → `m`, `u-6tb1` → `u`).
fn category_of(family: &str) -> String {
    family
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect()
}

/// A set of instance types, indexed by name, in name order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Catalog {
    types: Vec<InstanceType>,
    by_name: BTreeMap<String, usize>,
}

/// Index of an instance type within its [`Catalog`].
pub type InstanceTypeIndex = usize;

impl Catalog {
    /// A catalog of `types`; duplicate names keep the last entry. Types are sorted by name.
    pub fn new(mut types: Vec<InstanceType>) -> Self {
        types.sort_by(|a, b| a.name.cmp(&b.name));
        types.dedup_by(|later, earlier| {
            if later.name == earlier.name {
                std::mem::swap(later, earlier);
                true
            } else {
                false
            }
        });
        let by_name = types
            .iter()
            .enumerate()
            .map(|(i, t)| (t.name.clone(), i))
            .collect();
        Catalog { types, by_name }
    }

    /// The built-in us-east-1 catalog: every instance type AWS prices there for which vCPU,
    /// memory and architecture are published (1,352 types, on-demand prices of 2026-07).
    pub fn builtin() -> Self {
        // GPUs that the GPU-count source of the generated table leaves out: the NVIDIA V100s of
        // the P3 types (AWS, "Amazon EC2 P3 Instances": 1, 4 and 8) and the 8 Habana Gaudi
        // accelerators of dl1.24xlarge (AWS Compute Blog, "Amazon EC2 DL1 instances Deep Dive").
        const MISSING_GPUS: [(&str, u32); 4] = [
            ("p3.2xlarge", 1),
            ("p3.8xlarge", 4),
            ("p3.16xlarge", 8),
            ("dl1.24xlarge", 8),
        ];
        let types = BUILTIN_US_EAST_1
            .iter()
            .map(
                |&(name, family, generation, size, vcpu, memory_mib, arch, pods, price, gpus)| {
                    InstanceType {
                        name: name.to_string(),
                        family: family.to_string(),
                        category: category_of(family),
                        generation,
                        size: size.to_string(),
                        vcpu,
                        memory_mib,
                        arch: Arch::parse(arch).expect("built-in architecture is valid"),
                        max_pods_eni: (pods > 0).then_some(pods),
                        on_demand_price: Price::parse_usd(price).expect("built-in price is valid"),
                        gpu_count: MISSING_GPUS
                            .iter()
                            .find(|(missing, _)| *missing == name)
                            .map_or(gpus, |(_, count)| *count),
                        neuron_devices: neuron_of(name).0,
                        neuron_cores: neuron_of(name).1,
                    }
                },
            )
            .collect();
        Catalog::new(types)
    }

    /// Loads a catalog from a CSV file with the header
    /// `instance_type,family,generation,size,vcpu,memory_mib,arch,max_pods_eni,on_demand_usd_per_hour`
    /// (columns in any order; extra columns ignored; `max_pods_eni` may be empty) and an
    /// optional `gpu_count` column, whose empty cells mean no GPU. Inferentia and Trainium types
    /// get their Neuron devices by name, as in the built-in catalog.
    pub fn from_csv_path(path: &Path) -> Result<Self, CatalogError> {
        let text = std::fs::read_to_string(path).map_err(|e| CatalogError {
            file: path.to_path_buf(),
            line: 0,
            column: None,
            field: None,
            value: None,
            message: format!("cannot read the file: {e}"),
        })?;
        Self::from_csv_str(&text, path)
    }

    /// Parses catalog CSV text; `file` is only used in error messages.
    pub fn from_csv_str(text: &str, file: &Path) -> Result<Self, CatalogError> {
        let error = |line: u64,
                     column: Option<usize>,
                     field: Option<&str>,
                     value: Option<&str>,
                     message: String| CatalogError {
            file: file.to_path_buf(),
            line,
            column,
            field: field.map(str::to_string),
            value: value.map(str::to_string),
            message,
        };
        if text.trim().is_empty() {
            return Err(error(
                1,
                None,
                None,
                None,
                "the file is empty; expected a header line and one row per instance type".into(),
            ));
        }

        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let headers = reader
            .headers()
            .map_err(|e| error(1, None, None, None, format!("invalid CSV header: {e}")))?
            .clone();
        let column_of = |name: &str| headers.iter().position(|h| h == name);
        let mut columns = BTreeMap::new();
        for name in CSV_COLUMNS {
            match column_of(name) {
                Some(i) => {
                    columns.insert(name, i);
                }
                None => {
                    return Err(error(
                        1,
                        None,
                        Some(name),
                        None,
                        format!(
                            "the header has no column {name:?}; expected the columns {}",
                            CSV_COLUMNS.join(",")
                        ),
                    ));
                }
            }
        }

        let gpu_column = column_of(GPU_COLUMN);

        let mut types = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| {
                let line = e.position().map_or(0, |p| p.line());
                error(line, None, None, None, format!("invalid CSV row: {e}"))
            })?;
            let line = record.position().map_or(0, |p| p.line());
            let cell = |name: &str| {
                let i = if name == GPU_COLUMN {
                    gpu_column.expect("the GPU column is read only when present")
                } else {
                    columns[name]
                };
                (record.get(i).unwrap_or(""), column_number(&record, i))
            };
            // Returns `None` for an empty cell when `allow_empty`, and otherwise a whole number
            // within `range` or an error.
            let parse_u64 = |name: &str,
                             range: std::ops::RangeInclusive<u64>,
                             allow_empty: bool|
             -> Result<Option<u64>, CatalogError> {
                let (value, column) = cell(name);
                if value.is_empty() && allow_empty {
                    return Ok(None);
                }
                value
                    .parse::<u64>()
                    .ok()
                    .filter(|v| range.contains(v))
                    .map(Some)
                    .ok_or_else(|| {
                        error(
                            line,
                            Some(column),
                            Some(name),
                            Some(value),
                            format!(
                                "expected a whole number from {} to {}",
                                range.start(),
                                range.end()
                            ),
                        )
                    })
            };
            let u32_max = u64::from(u32::MAX);

            let (name, column) = cell("instance_type");
            if name.is_empty() {
                return Err(error(
                    line,
                    Some(column),
                    Some("instance_type"),
                    Some(name),
                    "the instance type name is empty".into(),
                ));
            }
            let (family, _) = cell("family");
            let (size, _) = cell("size");
            let (arch_text, arch_column) = cell("arch");
            let arch = Arch::parse(arch_text).ok_or_else(|| {
                error(
                    line,
                    Some(arch_column),
                    Some("arch"),
                    Some(arch_text),
                    "expected amd64 or arm64".into(),
                )
            })?;
            let (price_text, price_column) = cell("on_demand_usd_per_hour");
            let price = Price::parse_usd(price_text).ok_or_else(|| {
                error(
                    line,
                    Some(price_column),
                    Some("on_demand_usd_per_hour"),
                    Some(price_text),
                    "expected a dollar amount such as 0.096 with at most 6 decimals".into(),
                )
            })?;
            types.push(InstanceType {
                name: name.to_string(),
                family: family.to_string(),
                category: category_of(family),
                // The ranges keep every value within its field, so the casts are exact.
                generation: parse_u64("generation", 1..=u32_max, false)?.unwrap_or(0) as u32,
                size: size.to_string(),
                vcpu: parse_u64("vcpu", 1..=MAX_VCPU, false)?.unwrap_or(0) as u32,
                memory_mib: parse_u64("memory_mib", 1..=MAX_MEMORY_MIB, false)?.unwrap_or(0),
                arch,
                max_pods_eni: parse_u64("max_pods_eni", 0..=u32_max, true)?
                    .map(|p| p as u32)
                    .filter(|p| *p > 0),
                on_demand_price: price,
                gpu_count: match gpu_column {
                    Some(_) => parse_u64(GPU_COLUMN, 0..=MAX_GPUS, true)?.unwrap_or(0) as u32,
                    None => 0,
                },
                neuron_devices: neuron_of(name).0,
                neuron_cores: neuron_of(name).1,
            });
        }
        if types.is_empty() {
            return Err(error(
                1,
                None,
                None,
                None,
                "the file has a header but no instance types".into(),
            ));
        }
        Ok(Catalog::new(types))
    }

    /// All instance types, in name order.
    pub fn types(&self) -> &[InstanceType] {
        &self.types
    }

    /// The instance type at `index`.
    pub fn get(&self, index: InstanceTypeIndex) -> &InstanceType {
        &self.types[index]
    }

    /// The instance type called `name`.
    pub fn by_name(&self, name: &str) -> Option<&InstanceType> {
        self.index_of(name).map(|i| &self.types[i])
    }

    /// Index of the instance type called `name`.
    pub fn index_of(&self, name: &str) -> Option<InstanceTypeIndex> {
        self.by_name.get(name).copied()
    }

    /// Number of instance types.
    pub fn len(&self) -> usize {
        self.types.len()
    }

    /// Whether the catalog has no instance types.
    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }
}

/// Maximum vCPUs a catalog row may give an instance type: 2^16. That is far above the largest
/// type of the built-in catalog (896 vCPUs), and keeps the per-core kube-reserved sum quick.
pub const MAX_VCPU: u64 = 1 << 16;

/// Maximum memory a catalog row may give an instance type, in MiB: 2^30 (1 PiB). That is far
/// above the largest type of the built-in catalog (32 TiB), and the memory of 8,000 such nodes
/// in bytes still fits in an `i64`.
pub const MAX_MEMORY_MIB: u64 = 1 << 30;

/// Returns the Neuron chips and NeuronCores of the built-in catalog's Inferentia and Trainium
/// types, by name, or zeros for any other type. An Inferentia chip has 4 NeuronCores, and an
/// Inferentia2 or Trainium chip 2 (AWS Neuron documentation, the Inf1, Inf2 and Trn1/Trn1n
/// architecture pages).
fn neuron_of(name: &str) -> (u32, u32) {
    const NEURON: [(&str, u32, u32); 11] = [
        ("inf1.xlarge", 1, 4),
        ("inf1.2xlarge", 1, 4),
        ("inf1.6xlarge", 4, 4),
        ("inf1.24xlarge", 16, 4),
        ("inf2.xlarge", 1, 2),
        ("inf2.8xlarge", 1, 2),
        ("inf2.24xlarge", 6, 2),
        ("inf2.48xlarge", 12, 2),
        ("trn1.2xlarge", 1, 2),
        ("trn1.32xlarge", 16, 2),
        ("trn1n.32xlarge", 16, 2),
    ];
    NEURON
        .iter()
        .find(|(neuron_type, _, _)| *neuron_type == name)
        .map_or((0, 0), |(_, chips, cores_per_chip)| {
            (*chips, chips * cores_per_chip)
        })
}

/// Optional column of a catalog CSV file with each type's GPU count.
pub const GPU_COLUMN: &str = "gpu_count";

/// Maximum GPUs a catalog row may give an instance type; the built-in types have at most 8.
pub const MAX_GPUS: u64 = 1024;

/// Column names of a catalog CSV file.
pub const CSV_COLUMNS: [&str; 9] = [
    "instance_type",
    "family",
    "generation",
    "size",
    "vcpu",
    "memory_mib",
    "arch",
    "max_pods_eni",
    "on_demand_usd_per_hour",
];

/// 1-based column of field `index` in `record`, counted in characters from the line start.
fn column_number(record: &csv::StringRecord, index: usize) -> usize {
    // With trimming the exact byte position is lost, so count the fields before it plus their separators.
    1 + (0..index)
        .map(|i| record.get(i).map_or(0, |f| f.chars().count()) + 1)
        .sum::<usize>()
}

/// An invalid catalog file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct CatalogError {
    /// The catalog file.
    pub file: PathBuf,
    /// 1-based line, or 0 when the whole file is at fault.
    pub line: u64,
    /// 1-based column, when one cell is at fault.
    pub column: Option<usize>,
    /// The CSV column name, when one column is at fault.
    pub field: Option<String>,
    /// The offending cell text.
    pub value: Option<String>,
    /// What is wrong and what to write instead.
    pub message: String,
}

impl CatalogError {
    fn render(&self) -> String {
        let mut place = self.file.display().to_string();
        if self.line > 0 {
            place.push_str(&format!(":{}", self.line));
            if let Some(column) = self.column {
                place.push_str(&format!(":{column}"));
            }
        }
        let mut text = format!("{place}: invalid instance catalog");
        if let Some(field) = &self.field {
            text.push_str(&format!(", column {field}"));
        }
        if let Some(value) = &self.value {
            text.push_str(&format!(", value {value:?}"));
        }
        text.push_str(&format!(": {}", self.message));
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_covers_required_families() {
        let catalog = Catalog::builtin();
        for family in [
            "c5", "c5a", "c5d", "c6i", "c6a", "c6g", "c7i", "c7g", "m5", "m5a", "m6i", "m6a",
            "m6g", "m7i", "m7g", "r5", "r5a", "r6i", "r6a", "r6g", "r7i", "r7g", "t3", "t3a",
            "t4g",
        ] {
            assert!(
                catalog.types().iter().any(|t| t.family == family),
                "family {family} missing"
            );
        }
        let c5d = catalog.by_name("c5d.4xlarge").unwrap();
        assert_eq!(
            (
                c5d.vcpu,
                c5d.memory_mib,
                c5d.category.as_str(),
                c5d.generation
            ),
            (16, 32768, "c", 5)
        );
        assert_eq!(c5d.on_demand_price, Price(768_000));
        let m5 = catalog.by_name("m5.large").unwrap();
        assert_eq!(
            (m5.max_pods_eni, m5.on_demand_price, m5.arch),
            (Some(29), Price(96_000), Arch::Amd64)
        );
        assert_eq!(catalog.by_name("m7g.large").unwrap().arch, Arch::Arm64);
        assert_eq!(catalog.len(), 1352);
    }

    #[test]
    fn csv_round_trip_and_errors() {
        let good = "instance_type,family,generation,size,vcpu,memory_mib,arch,max_pods_eni,on_demand_usd_per_hour\nx1.big,x1,1,big,4,8192,amd64,,0.5\n";
        let catalog = Catalog::from_csv_str(good, Path::new("mine.csv")).unwrap();
        assert_eq!(catalog.by_name("x1.big").unwrap().max_pods(), 110);

        let bad_price = good.replace("0.5", "cheap");
        let err = Catalog::from_csv_str(&bad_price, Path::new("mine.csv")).unwrap_err();
        assert_eq!(
            (err.line, err.field.as_deref(), err.value.as_deref()),
            (2, Some("on_demand_usd_per_hour"), Some("cheap"))
        );
        assert_eq!(err.column, Some(31));
        assert!(err.to_string().starts_with("mine.csv:2:31: invalid instance catalog, column on_demand_usd_per_hour, value \"cheap\""), "{err}");

        let err = Catalog::from_csv_str("", Path::new("empty.csv")).unwrap_err();
        assert!(err.to_string().contains("empty"));
        let err = Catalog::from_csv_str("instance_type,vcpu\n", Path::new("h.csv")).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("family"));
    }

    #[test]
    fn csv_reads_optional_gpu_count() {
        let header = format!("{},{GPU_COLUMN}", CSV_COLUMNS.join(","));
        let text = format!(
            "{header}\nx1.big,x1,1,big,4,8192,amd64,,0.5,4\ny1.big,y1,1,big,4,8192,amd64,,0.5,\n"
        );

        let catalog = Catalog::from_csv_str(&text, Path::new("g.csv")).unwrap();

        assert_eq!(catalog.by_name("x1.big").unwrap().gpu_count, 4);
        assert_eq!(catalog.by_name("y1.big").unwrap().gpu_count, 0);
        assert_eq!(
            Catalog::from_csv_str(&one_row("4", "8192", ""), Path::new("c.csv"))
                .unwrap()
                .by_name("x1.big")
                .unwrap()
                .gpu_count,
            0
        );
        let bad = text.replace(",4\n", ",many\n");
        let err = Catalog::from_csv_str(&bad, Path::new("g.csv")).unwrap_err();
        assert_eq!(err.field.as_deref(), Some(GPU_COLUMN));
        assert_eq!(err.message, "expected a whole number from 0 to 1024");
    }

    #[test]
    fn builtin_gpu_counts() {
        let catalog = Catalog::builtin();
        let gpus = |name: &str| catalog.by_name(name).unwrap().gpu_count;
        assert_eq!(gpus("g4dn.xlarge"), 1);
        assert_eq!(gpus("g5.12xlarge"), 4);
        assert_eq!(gpus("p4d.24xlarge"), 8);
        assert_eq!(gpus("p3.2xlarge"), 1);
        assert_eq!(gpus("p3.8xlarge"), 4);
        assert_eq!(gpus("p3.16xlarge"), 8);
        assert_eq!(gpus("m5.large"), 0);
        assert_eq!(gpus("dl1.24xlarge"), 8);
        assert_eq!(
            catalog.by_name("dl1.24xlarge").unwrap().gpu_resource(),
            ExtendedResource::HabanaGaudi
        );
        assert_eq!(
            catalog.types().iter().filter(|t| t.gpu_count > 0).count(),
            68
        );
    }

    #[test]
    fn builtin_neuron_counts() {
        let catalog = Catalog::builtin();
        let neuron = |name: &str| {
            let instance_type = catalog.by_name(name).unwrap();
            (instance_type.neuron_devices, instance_type.neuron_cores)
        };
        assert_eq!(neuron("inf1.6xlarge"), (4, 16));
        assert_eq!(neuron("inf2.48xlarge"), (12, 24));
        assert_eq!(neuron("trn1.32xlarge"), (16, 32));
        assert_eq!(neuron("m5.large"), (0, 0));
        assert_eq!(
            catalog
                .types()
                .iter()
                .filter(|t| t.neuron_devices > 0)
                .count(),
            11
        );
        let capacity = catalog.by_name("inf2.24xlarge").unwrap().capacity();
        assert_eq!(capacity.extended[ExtendedResource::AwsNeuron as usize], 6);
        assert_eq!(
            capacity.extended[ExtendedResource::AwsNeuronCore as usize],
            12
        );
    }

    /// A one-row catalog with `vcpu`, `memory_mib` and `max_pods_eni` as written.
    fn one_row(vcpu: &str, memory_mib: &str, max_pods_eni: &str) -> String {
        format!(
            "{}\nx1.big,x1,1,big,{vcpu},{memory_mib},amd64,{max_pods_eni},0.5\n",
            CSV_COLUMNS.join(",")
        )
    }

    #[test]
    fn csv_rejects_memory_beyond_bytes() {
        // A crashing input of the catalog fuzz target: 99999999999999 MiB overflowed the node's
        // memory in bytes, a panic in debug builds when the node's capacity was computed.
        let err = Catalog::from_csv_str(&one_row("4", "99999999999999", ""), Path::new("c.csv"))
            .unwrap_err();

        assert_eq!(err.line, 2);
        assert_eq!(err.column, Some(19));
        assert_eq!(err.field.as_deref(), Some("memory_mib"));
        assert_eq!(err.value.as_deref(), Some("99999999999999"));
        assert_eq!(err.message, "expected a whole number from 1 to 1073741824");
    }

    #[test]
    fn csv_rejects_counts_beyond_u32() {
        // Wrong values under the catalog fuzz target: 4294967297 vCPUs were stored as 1, and
        // 4294967296 ENI pods as none.
        let vcpu = Catalog::from_csv_str(&one_row("4294967297", "8192", ""), Path::new("c.csv"))
            .unwrap_err();
        assert_eq!(vcpu.field.as_deref(), Some("vcpu"));
        assert_eq!(vcpu.message, "expected a whole number from 1 to 65536");

        let pods = Catalog::from_csv_str(&one_row("4", "8192", "4294967296"), Path::new("c.csv"))
            .unwrap_err();
        assert_eq!(pods.field.as_deref(), Some("max_pods_eni"));
        assert_eq!(pods.message, "expected a whole number from 0 to 4294967295");
    }

    #[test]
    fn csv_accepts_largest_values() {
        let text = one_row("65536", "1073741824", "4294967295");

        let catalog = Catalog::from_csv_str(&text, Path::new("c.csv")).unwrap();

        let instance_type = catalog.by_name("x1.big").unwrap();
        assert_eq!(instance_type.vcpu, 65_536);
        assert_eq!(instance_type.memory_mib, 1 << 30);
        assert_eq!(instance_type.max_pods(), u32::MAX);
        // Both compute without overflow.
        assert_eq!(
            instance_type.capacity().memory_bytes,
            993_211_187 * 1024 * 1024
        );
        assert!(instance_type.allocatable().cpu_millis > 0);
    }
}
