//! Fuzzes duration parsing: any UTF-8 text gives a duration or a `DurationError`, and a parsed
//! duration prints as text that parses back to it.

#![no_main]

use autoscale_sim::engine::parse_duration;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };

    if let Ok(duration) = parse_duration(text) {
        assert_eq!(parse_duration(&duration.to_string()), Ok(duration));
    }
});
