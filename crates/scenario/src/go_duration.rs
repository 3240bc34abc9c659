//! Durations as Go's `time.ParseDuration` reads them, for values that a Kubernetes controller
//! written in Go parses that way, such as Karpenter's `karpenter.sh/do-not-disrupt` annotation.
//! It differs from the scenario's own duration format: fractions (`1.5h`), a sign and the units
//! `ns`, `us` (`µs`, `μs`) are accepted, spaces and the unit `d` are not.

/// Reads `text` as Go's `time.ParseDuration` does and returns the duration in nanoseconds, or
/// what is wrong with it. A fraction of a nanosecond is dropped, as in Go.
pub(crate) fn parse_go_duration(text: &str) -> Result<i128, &'static str> {
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err("it is empty");
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let whole_end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (whole, after) = rest.split_at(whole_end);
        let (fraction, after) = match after.strip_prefix('.') {
            Some(tail) => {
                let end = tail
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(tail.len());
                tail.split_at(end)
            }
            None => ("", after),
        };
        if whole.is_empty() && fraction.is_empty() {
            return Err("a number is missing before a unit");
        }
        let unit_end = after
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(after.len());
        let (unit, tail) = after.split_at(unit_end);
        let unit_ns: i128 = match unit {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "" => return Err("the unit is missing"),
            _ => return Err("the unit is not one of ns, us, ms, s, m, h"),
        };
        let whole: i128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| "the number is too large")?
        };
        let mut part = whole
            .checked_mul(unit_ns)
            .ok_or("the number is too large")?;
        // The fraction adds its share of the unit, truncated to whole nanoseconds. Digits past
        // the 18th change less than a nanosecond of an hour, so they are dropped.
        let mut numerator: i128 = 0;
        let mut denominator: i128 = 1;
        for digit in fraction.bytes().take(18) {
            numerator = numerator * 10 + i128::from(digit - b'0');
            denominator *= 10;
        }
        part += numerator * unit_ns / denominator;
        total = total.checked_add(part).ok_or("the number is too large")?;
        // Go's durations are signed 64-bit nanoseconds.
        if total > i128::from(i64::MAX) {
            return Err("the number is too large");
        }
        rest = tail;
    }
    Ok(if negative { -total } else { total })
}

#[cfg(test)]
mod tests {
    use super::parse_go_duration;

    #[test]
    fn go_duration_accepts_go_forms() {
        let hour: i128 = 3_600_000_000_000;
        assert_eq!(parse_go_duration("30m"), Ok(hour / 2));
        assert_eq!(parse_go_duration("1.5h"), Ok(hour * 3 / 2));
        assert_eq!(parse_go_duration("2h0.5m"), Ok(2 * hour + 30_000_000_000));
        assert_eq!(parse_go_duration(".5s"), Ok(500_000_000));
        assert_eq!(parse_go_duration("1\u{b5}s"), Ok(1_000));
        assert_eq!(parse_go_duration("1us"), Ok(1_000));
        assert_eq!(parse_go_duration("3600000000000ns"), Ok(hour));
        assert_eq!(parse_go_duration("-5m"), Ok(-300_000_000_000));
        assert_eq!(parse_go_duration("+5m"), Ok(300_000_000_000));
        assert_eq!(parse_go_duration("0"), Ok(0));
        assert_eq!(parse_go_duration("1.0000000001s"), Ok(1_000_000_000));
    }

    #[test]
    fn go_duration_rejects_other_forms() {
        for bad in [
            "", " 30m", "30m ", "\t30m", "30", "7d", "1 h", "h", ".s", "1.5", "abc",
        ] {
            assert!(
                parse_go_duration(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
        assert_eq!(
            parse_go_duration("7d"),
            Err("the unit is not one of ns, us, ms, s, m, h")
        );
        assert_eq!(
            parse_go_duration("9999999999h"),
            Err("the number is too large")
        );
    }
}
