//! Fuzzes Kubernetes quantity parsing: any UTF-8 text gives a number or a `QuantityError`, the
//! two conversions agree, and the formatted result parses back to the same number.

#![no_main]

use autoscale_sim::kube::quantity::{
    format_bytes, format_cpu_millis, parse_cpu_millis, parse_value,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };

    let millis = parse_cpu_millis(text);
    let value = parse_value(text);

    // Both round up the same exact number, so the whole value is the millicores rounded up.
    if let (Ok(millis), Ok(value)) = (&millis, &value) {
        assert_eq!(
            millis.div_euclid(1000) + i64::from(millis.rem_euclid(1000) != 0),
            *value
        );
    }
    if let Ok(millis) = millis {
        assert_eq!(parse_cpu_millis(&format_cpu_millis(millis)), Ok(millis));
    }
    if let Ok(value) = value {
        assert_eq!(parse_value(&format_bytes(value)), Ok(value));
    }
});
