//! Exact parsing of Kubernetes resource quantities such as `500m`, `1.5`, `2Gi` and `512M`.
//!
//! Kubernetes (`k8s.io/apimachinery/pkg/api/resource`) reads a quantity as a signed decimal
//! number, optionally with an exponent (`1e3`), followed by a binary suffix (`Ki` … `Ei`) or a
//! decimal suffix (`n`, `u`, `m`, none, `k`, `M`, `G`, `T`, `P`, `E`). Converting to millicores
//! or bytes rounds up, as `Quantity.MilliValue()` and `Quantity.Value()` do.

/// An invalid quantity string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid quantity {input:?}: {reason}; write a Kubernetes quantity such as 500m, 1.5, 2Gi or 512M"
)]
pub struct QuantityError {
    /// The text that failed to parse.
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// A parsed quantity as the exact fraction `numerator / denominator`.
///
/// The denominator is a power of ten, so dividing it by 1000 is exact whenever it is at least
/// 1000, which [`ceil_div_scaled`] relies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Exact {
    numerator: i128,
    denominator: i128,
}

/// Largest power of ten that fits an `i128`.
const MAX_DENOMINATOR: i128 = 10i128.pow(38);

fn parse_exact(input: &str) -> Result<Exact, QuantityError> {
    let error = |reason| QuantityError {
        input: input.to_string(),
        reason,
    };
    let text = input.trim();
    if text.is_empty() {
        return Err(error("it is empty"));
    }

    // Split off the sign and the numeric part.
    let (negative, rest) = match text.as_bytes()[0] {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let number_end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(number_end);
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() {
        return Err(error("a number is missing"));
    }
    if fraction.contains('.') {
        return Err(error("it has more than one decimal point"));
    }
    if whole.len() + fraction.len() > 30 {
        return Err(error("it has too many digits"));
    }
    let digits: i128 = format!("{whole}{fraction}")
        .parse()
        .map_err(|_| error("the number is invalid"))?;
    let mut numerator = digits;
    let mut denominator: i128 = 10i128.pow(fraction.len() as u32);
    let mut divisor: i128 = 1;

    // Apply the suffix: binary, decimal SI, or a decimal exponent.
    let scale_up = |value: i128, factor: i128| {
        value
            .checked_mul(factor)
            .ok_or_else(|| error("the value is too large"))
    };
    match suffix {
        "" => {}
        "Ki" => numerator = scale_up(numerator, 1 << 10)?,
        "Mi" => numerator = scale_up(numerator, 1 << 20)?,
        "Gi" => numerator = scale_up(numerator, 1 << 30)?,
        "Ti" => numerator = scale_up(numerator, 1 << 40)?,
        "Pi" => numerator = scale_up(numerator, 1 << 50)?,
        "Ei" => numerator = scale_up(numerator, 1 << 60)?,
        "n" => divisor = 1_000_000_000,
        "u" => divisor = 1_000_000,
        "m" => divisor = 1_000,
        "k" => numerator = scale_up(numerator, 1_000)?,
        "M" => numerator = scale_up(numerator, 1_000_000)?,
        "G" => numerator = scale_up(numerator, 1_000_000_000)?,
        "T" => numerator = scale_up(numerator, 1_000_000_000_000)?,
        "P" => numerator = scale_up(numerator, 1_000_000_000_000_000)?,
        "E" => numerator = scale_up(numerator, 1_000_000_000_000_000_000)?,
        exponent if exponent.starts_with(['e', 'E']) => {
            let power: i32 = exponent[1..]
                .parse()
                .map_err(|_| error("the exponent is invalid"))?;
            if power.abs() > 18 {
                return Err(error("the exponent is out of range"));
            }
            if power >= 0 {
                numerator = scale_up(numerator, 10i128.pow(power as u32))?;
            } else {
                divisor = 10i128.pow((-power) as u32);
            }
        }
        _ => {
            return Err(error(
                "the suffix is not one of Ki, Mi, Gi, Ti, Pi, Ei, n, u, m, k, M, G, T, P, E",
            ));
        }
    }
    match denominator.checked_mul(divisor) {
        Some(product) => denominator = product,
        None => {
            // At least 10^39 over at most 30 digits: the magnitude is below 10^-9, so only its
            // sign matters for rounding up to a millicore or a byte, and 1 / 10^38 keeps it.
            numerator = numerator.signum();
            denominator = MAX_DENOMINATOR;
        }
    }
    if negative {
        numerator = -numerator;
    }
    Ok(Exact {
        numerator,
        denominator,
    })
}

fn ceil_div(numerator: i128, denominator: i128) -> i128 {
    let quotient = numerator.div_euclid(denominator);
    if numerator.rem_euclid(denominator) == 0 {
        quotient
    } else {
        quotient + 1
    }
}

/// Returns `exact` times `scale` (1 or 1000) rounded up, or `None` when it overflows an `i128`.
///
/// The whole part and the remainder are scaled apart, so that a numerator near `i128::MAX`
/// does not overflow when the value itself is small enough.
fn ceil_div_scaled(exact: Exact, scale: i128) -> Option<i128> {
    let Exact {
        numerator,
        denominator,
    } = exact;
    let whole = numerator.div_euclid(denominator).checked_mul(scale)?;
    let remainder = numerator.rem_euclid(denominator);
    let fraction = if denominator % scale == 0 {
        ceil_div(remainder, denominator / scale)
    } else {
        // The denominator is a power of ten below `scale`, so this product is small.
        ceil_div(remainder * scale, denominator)
    };
    whole.checked_add(fraction)
}

fn to_i64(value: i128, input: &str) -> Result<i64, QuantityError> {
    i64::try_from(value).map_err(|_| QuantityError {
        input: input.to_string(),
        reason: "the value is too large",
    })
}

/// Parses a CPU quantity into millicores, rounding up (`100u` → 1 millicore).
pub fn parse_cpu_millis(input: &str) -> Result<i64, QuantityError> {
    let exact = parse_exact(input)?;
    to_i64(ceil_div_scaled(exact, 1000).unwrap_or(i128::MAX), input)
}

/// Parses a quantity into millionths, rounding up (`50m` → 50,000, `0.05` → 50,000).
pub fn parse_micros(input: &str) -> Result<i64, QuantityError> {
    let exact = parse_exact(input)?;
    to_i64(
        ceil_div_scaled(exact, 1_000_000).unwrap_or(i128::MAX),
        input,
    )
}

/// Parses a quantity into a whole number (bytes for memory, a count for pods), rounding up.
pub fn parse_value(input: &str) -> Result<i64, QuantityError> {
    let exact = parse_exact(input)?;
    to_i64(ceil_div_scaled(exact, 1).unwrap_or(i128::MAX), input)
}

/// Formats millicores the way Kubernetes prints them: whole cores without a suffix, otherwise `m`.
pub fn format_cpu_millis(millis: i64) -> String {
    if millis % 1000 == 0 {
        (millis / 1000).to_string()
    } else {
        format!("{millis}m")
    }
}

/// Formats bytes with the largest binary suffix that divides them exactly.
pub fn format_bytes(bytes: i64) -> String {
    for (suffix, unit) in [
        ("Ti", 1i64 << 40),
        ("Gi", 1 << 30),
        ("Mi", 1 << 20),
        ("Ki", 1 << 10),
    ] {
        if bytes != 0 && bytes % unit == 0 {
            return format!("{}{suffix}", bytes / unit);
        }
    }
    bytes.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_quantities() {
        assert_eq!(parse_cpu_millis("500m"), Ok(500));
        assert_eq!(parse_cpu_millis("1.5"), Ok(1500));
        assert_eq!(parse_cpu_millis("2"), Ok(2000));
        assert_eq!(parse_cpu_millis("0.1"), Ok(100));
        assert_eq!(parse_cpu_millis("100u"), Ok(1));
        assert_eq!(parse_cpu_millis("1e3"), Ok(1_000_000));
        assert!(parse_cpu_millis("1e3m").is_err());
        assert_eq!(parse_cpu_millis("1.0005"), Ok(1001));
    }

    #[test]
    fn memory_quantities() {
        assert_eq!(parse_value("2Gi"), Ok(2 * 1024 * 1024 * 1024));
        assert_eq!(parse_value("512M"), Ok(512_000_000));
        assert_eq!(parse_value("1.5Gi"), Ok(1_610_612_736));
        assert_eq!(parse_value("128974848"), Ok(128_974_848));
        assert_eq!(parse_value("129e6"), Ok(129_000_000));
        assert_eq!(parse_value("123Mi"), Ok(128_974_848));
        assert_eq!(parse_value("1k"), Ok(1000));
    }

    #[test]
    fn invalid_quantities() {
        for bad in [
            "",
            "abc",
            "1.2.3",
            "5GB",
            "Gi",
            "1e99",
            "99999999999999999999999999999999Ei",
        ] {
            assert!(parse_value(bad).is_err(), "{bad:?} should be rejected");
        }
        assert_eq!(
            parse_value("5GB").unwrap_err().reason,
            "the suffix is not one of Ki, Mi, Gi, Ti, Pi, Ei, n, u, m, k, M, G, T, P, E"
        );
    }

    #[test]
    fn long_fraction_with_binary_suffix() {
        // Found by fuzzing: the millicores overflowed an i128 before the division and came out
        // as 1701411835.
        let input = "200.00051000000000000000000000Gi";

        assert_eq!(parse_value(input), Ok(214_748_912_409));
        assert_eq!(parse_cpu_millis(input), Ok(214_748_912_408_331));
    }

    #[test]
    fn denominator_beyond_i128() {
        // 10^30 from the fraction times 10^9 from the suffix does not fit an i128.
        let tiny = ".000000000000000000000000000001n";
        assert_eq!(parse_cpu_millis(tiny), Ok(1));
        assert_eq!(parse_value(tiny), Ok(1));

        let negative = "-.000000000000000000000000000001n";
        assert_eq!(parse_cpu_millis(negative), Ok(0));
        assert_eq!(parse_value(negative), Ok(0));

        let zero = ".000000000000000000000000000000e-18";
        assert_eq!(parse_cpu_millis(zero), Ok(0));
        assert_eq!(parse_value(zero), Ok(0));
    }

    #[test]
    fn formatting() {
        assert_eq!(format_cpu_millis(1500), "1500m");
        assert_eq!(format_cpu_millis(2000), "2");
        assert_eq!(format_bytes(3 * (1 << 30)), "3Gi");
        assert_eq!(format_bytes(1000), "1000");
    }
}
