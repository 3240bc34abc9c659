//! Fuzzes the instance catalog CSV loader: any UTF-8 text gives a catalog or a `CatalogError`,
//! and every instance type of a catalog it returns has a capacity and allocatable that the
//! node model can compute.

#![no_main]

use std::path::Path;

use autoscale_sim::cloud::Catalog;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };

    let Ok(catalog) = Catalog::from_csv_str(text, Path::new("fuzz.csv")) else {
        return;
    };

    assert!(!catalog.is_empty(), "a loaded catalog has instance types");
    for instance_type in catalog.types() {
        assert_eq!(catalog.by_name(&instance_type.name), Some(instance_type));
        let capacity = instance_type.capacity();
        let allocatable = instance_type.allocatable();
        assert!(capacity.cpu_millis >= allocatable.cpu_millis);
        assert!(capacity.memory_bytes >= allocatable.memory_bytes);
    }
});
