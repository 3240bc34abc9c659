//! Checks the built-in catalog and the allocatable formulas against the reference data in
//! `../shared/data` beside the repository; skipped with a message when that folder is absent.

use std::path::PathBuf;

use autoscale_sim_cloud::{Catalog, MIB};

fn shared_data(file: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(file);
    if path.exists() {
        Some(path)
    } else {
        eprintln!(
            "skipped: reference file {} is absent (it lives outside the repository)",
            path.display()
        );
        None
    }
}

#[test]
fn builtin_rows_match_reference_csv() {
    let Some(path) = shared_data("ec2_us_east_1.csv") else {
        return;
    };
    let builtin = Catalog::builtin();
    let text = std::fs::read_to_string(&path).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let mut checked = 0;
    for row in reader.records() {
        let row = row.unwrap();
        if row[4].is_empty() || row[5].is_empty() || row[6].is_empty() {
            assert!(
                builtin.by_name(&row[0]).is_none(),
                "{} has no figures but is built in",
                &row[0]
            );
            continue;
        }
        let t = builtin
            .by_name(&row[0])
            .unwrap_or_else(|| panic!("{} missing from the built-in catalog", &row[0]));
        assert_eq!(t.family, row[1], "{}", t.name);
        assert_eq!(t.generation.to_string(), row[2], "{}", t.name);
        assert_eq!(t.size, row[3], "{}", t.name);
        assert_eq!(t.vcpu.to_string(), row[4], "{}", t.name);
        assert_eq!(t.memory_mib.to_string(), row[5], "{}", t.name);
        assert_eq!(t.arch.label(), &row[6], "{}", t.name);
        assert_eq!(
            t.max_pods_eni.map(|p| p.to_string()).unwrap_or_default(),
            row[7],
            "{}",
            t.name
        );
        assert_eq!(
            Some(t.on_demand_price),
            autoscale_sim_cloud::Price::parse_usd(&row[8]),
            "{}",
            t.name
        );
        checked += 1;
    }
    assert_eq!(checked, builtin.len());
}

#[test]
fn allocatable_matches_karpenter_docs() {
    let Some(path) = shared_data("ec2_us_east_1_karpenter_allocatable.csv") else {
        return;
    };
    let builtin = Catalog::builtin();
    let text = std::fs::read_to_string(&path).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let mut checked = 0;
    for row in reader.records() {
        let row = row.unwrap();
        let t = builtin.by_name(&row[0]).unwrap();
        let pods: i64 = row[3].parse().unwrap();
        if Some(pods as u32) != t.max_pods_eni {
            // Karpenter's doc uses its own ENI count for a few multi-card types; skip those.
            continue;
        }
        let allocatable = t.allocatable();
        assert_eq!(allocatable.cpu_millis.to_string(), row[1], "{} CPU", t.name);
        assert_eq!(
            (allocatable.memory_bytes / MIB).to_string(),
            row[2],
            "{} memory",
            t.name
        );
        checked += 1;
    }
    assert!(checked > 1300, "only {checked} rows compared");
}
