//! Summary statistics over seeds: mean, sample standard deviation and 95 % confidence intervals
//! from Student's t distribution, for one configuration and for paired and unpaired
//! differences between two.
//!
//! The t quantile is computed, not looked up: the t distribution's CDF through the regularized
//! incomplete beta function (a continued fraction), inverted by bisection. Results agree with
//! the closed forms for 1 and 2 degrees of freedom to 1e-9 (see the tests).

/// Confidence level of every interval.
pub const CONFIDENCE: f64 = 0.95;

/// Mean, spread and 95 % confidence interval of a sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// Number of values.
    pub n: usize,
    /// Arithmetic mean; NaN when `n` is 0.
    pub mean: f64,
    /// Sample standard deviation (divisor `n - 1`); NaN when `n` < 2.
    pub std_dev: f64,
    /// Half-width of the 95 % confidence interval of the mean, `t(0.975, n - 1) * s / sqrt(n)`;
    /// NaN when `n` < 2.
    pub half_width: f64,
}

impl Estimate {
    /// Computes the estimate of `values`.
    pub fn of(values: &[f64]) -> Estimate {
        let n = values.len();
        let mean = if n == 0 {
            f64::NAN
        } else {
            values.iter().sum::<f64>() / n as f64
        };
        if n < 2 {
            return Estimate {
                n,
                mean,
                std_dev: f64::NAN,
                half_width: f64::NAN,
            };
        }
        // Two passes: the mean first, then squared deviations from it, which loses less
        // precision than a running sum of squares.
        let squares: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
        let std_dev = (squares / (n - 1) as f64).sqrt();
        let half_width =
            t_quantile(0.5 + CONFIDENCE / 2.0, (n - 1) as f64) * std_dev / (n as f64).sqrt();
        Estimate {
            n,
            mean,
            std_dev,
            half_width,
        }
    }

    /// Returns the lower end of the confidence interval.
    pub fn low(&self) -> f64 {
        self.mean - self.half_width
    }

    /// Returns the upper end of the confidence interval.
    pub fn high(&self) -> f64 {
        self.mean + self.half_width
    }
}

/// Half-width of the 95 % confidence interval of `mean(b) - mean(a)` when the two samples are
/// treated as independent (Welch's t interval, with the Welch–Satterthwaite degrees of freedom).
/// NaN when either sample has fewer than 2 values. Set beside a paired interval, it shows how
/// much the common random numbers of paired runs narrow the comparison.
pub fn welch_half_width(a: &Estimate, b: &Estimate) -> f64 {
    if a.n < 2 || b.n < 2 {
        return f64::NAN;
    }
    let va = a.std_dev.powi(2) / a.n as f64;
    let vb = b.std_dev.powi(2) / b.n as f64;
    let standard_error = (va + vb).sqrt();
    if standard_error == 0.0 {
        return 0.0;
    }
    let df = (va + vb).powi(2) / (va.powi(2) / (a.n - 1) as f64 + vb.powi(2) / (b.n - 1) as f64);
    t_quantile(0.5 + CONFIDENCE / 2.0, df) * standard_error
}

/// Returns the `p` quantile (0.5 < `p` < 1) of Student's t distribution with `df` degrees of
/// freedom (any real `df` > 0).
pub fn t_quantile(p: f64, df: f64) -> f64 {
    assert!(
        p > 0.5 && p < 1.0 && df > 0.0,
        "t_quantile needs 0.5 < p < 1 and df > 0, got p = {p}, df = {df}"
    );
    // Bracket the quantile, then bisect: the CDF is increasing, and 200 halvings reach the
    // precision of f64.
    let mut high = 1.0;
    while t_cdf(high, df) < p {
        high *= 2.0;
    }
    let mut low = 0.0;
    for _ in 0..200 {
        let middle = (low + high) / 2.0;
        if middle == low || middle == high {
            break;
        }
        if t_cdf(middle, df) < p {
            low = middle;
        } else {
            high = middle;
        }
    }
    (low + high) / 2.0
}

/// Returns P(T <= t) for t >= 0 under Student's t with `df` degrees of freedom:
/// `1 - I_x(df/2, 1/2) / 2` with `x = df / (df + t^2)`.
fn t_cdf(t: f64, df: f64) -> f64 {
    let x = df / (df + t * t);
    1.0 - 0.5 * regularized_incomplete_beta(x, df / 2.0, 0.5)
}

/// Returns the regularized incomplete beta function `I_x(a, b)` for 0 <= x <= 1, from its
/// continued fraction, using the symmetry `I_x(a, b) = 1 - I_{1-x}(b, a)` where the fraction
/// converges slowly.
fn regularized_incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    if x > (a + 1.0) / (a + b + 2.0) {
        return 1.0 - regularized_incomplete_beta(1.0 - x, b, a);
    }
    let log_front = a * x.ln() + b * (1.0 - x).ln() - ln_beta(a, b);
    log_front.exp() / a * beta_continued_fraction(x, a, b)
}

/// Evaluates the continued fraction `1 / (1 + d1 / (1 + d2 / (1 + ...)))` of the incomplete
/// beta function by the modified Lentz method, where
/// `d(2m+1) = -(a+m)(a+b+m) x / ((a+2m)(a+2m+1))` and `d(2m) = m(b-m) x / ((a+2m-1)(a+2m))`.
fn beta_continued_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    const EPSILON: f64 = 1e-15;
    let guard = |v: f64| if v.abs() < TINY { TINY } else { v };

    let mut c = 1.0;
    let mut d = 1.0 / guard(1.0 - (a + b) * x / (a + 1.0));
    let mut fraction = d;
    for m in 1..10_000 {
        let m = m as f64;
        // Even step d(2m).
        let even = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
        d = 1.0 / guard(1.0 + even * d);
        c = guard(1.0 + even / c);
        fraction *= d * c;
        // Odd step d(2m+1).
        let odd = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
        d = 1.0 / guard(1.0 + odd * d);
        c = guard(1.0 + odd / c);
        let change = d * c;
        fraction *= change;
        if (change - 1.0).abs() < EPSILON {
            break;
        }
    }
    fraction
}

/// Returns `ln B(a, b) = ln Γ(a) + ln Γ(b) - ln Γ(a + b)`.
fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// Returns `ln Γ(x)` for x > 0: Stirling's series at x + k >= 10, shifted down by
/// `ln Γ(x) = ln Γ(x + k) - ln(x (x + 1) ... (x + k - 1))`. The series' first omitted term is
/// below 1e-13 at 10.
fn ln_gamma(x: f64) -> f64 {
    let mut shift = 0.0;
    let mut z = x;
    while z < 10.0 {
        shift += z.ln();
        z += 1.0;
    }
    let inverse = 1.0 / z;
    let inverse_squared = inverse * inverse;
    let series = inverse
        * (1.0 / 12.0
            - inverse_squared
                * (1.0 / 360.0 - inverse_squared * (1.0 / 1260.0 - inverse_squared / 1680.0)));
    (z - 0.5) * z.ln() - z + 0.5 * (2.0 * std::f64::consts::PI).ln() + series - shift
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_close(actual: f64, expected: f64, tolerance: f64) {
        assert!(
            (actual - expected).abs() <= tolerance,
            "{actual} is not within {tolerance} of {expected}"
        );
    }

    #[test]
    fn t_quantile_closed_forms() {
        // One degree of freedom is the Cauchy distribution: tan(pi (p - 1/2)).
        assert_close(
            t_quantile(0.975, 1.0),
            (std::f64::consts::PI * 0.475).tan(),
            1e-9,
        );
        // Two degrees of freedom: F(t) = 1/2 + t / (2 sqrt(2 + t^2)), so with q = 2p - 1,
        // t = q sqrt(2 / (1 - q^2)).
        let q: f64 = 0.95;
        assert_close(
            t_quantile(0.975, 2.0),
            q * (2.0 / (1.0 - q * q)).sqrt(),
            1e-9,
        );
    }

    #[test]
    fn t_quantile_table_values() {
        // Two-sided 95 % critical values as printed in t tables, to three decimals.
        for (df, expected) in [
            (3.0, 3.182),
            (4.0, 2.776),
            (5.0, 2.571),
            (9.0, 2.262),
            (10.0, 2.228),
            (29.0, 2.045),
            (120.0, 1.980),
            (1e6, 1.960),
        ] {
            assert_close(t_quantile(0.975, df), expected, 5e-4);
        }
    }

    #[test]
    fn ln_gamma_known_values() {
        assert_close(ln_gamma(1.0), 0.0, 1e-12);
        assert_close(ln_gamma(0.5), std::f64::consts::PI.sqrt().ln(), 1e-12);
        assert_close(ln_gamma(5.0), 24f64.ln(), 1e-12);
        assert_close(ln_gamma(20.5), 40.831_500_974_530_8, 1e-9);
    }

    #[test]
    fn estimate_by_hand() {
        // Values 1, 2, 3, 4: mean 2.5, squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5, so
        // s = sqrt(5 / 3), and the half-width is t(0.975, 3) * s / 2.
        let estimate = Estimate::of(&[1.0, 2.0, 3.0, 4.0]);

        assert_eq!(estimate.n, 4);
        assert_close(estimate.mean, 2.5, 1e-12);
        assert_close(estimate.std_dev, (5.0f64 / 3.0).sqrt(), 1e-12);
        assert_close(
            estimate.half_width,
            3.182_446_305 * (5.0f64 / 3.0).sqrt() / 2.0,
            1e-8,
        );
        assert_close(estimate.low(), 2.5 - estimate.half_width, 1e-12);
    }

    #[test]
    fn estimate_two_values_uses_cauchy_quantile() {
        // n = 2 has one degree of freedom: s = |a - b| / sqrt(2), half-width 12.706 * s / sqrt(2).
        let estimate = Estimate::of(&[10.0, 12.0]);

        assert_close(estimate.mean, 11.0, 1e-12);
        assert_close(estimate.std_dev, 2f64.sqrt(), 1e-12);
        assert_close(
            estimate.half_width,
            (std::f64::consts::PI * 0.475).tan(),
            1e-9,
        );
    }

    #[test]
    fn estimate_of_too_few_values() {
        let single = Estimate::of(&[3.0]);
        let none = Estimate::of(&[]);

        assert_eq!(single.mean, 3.0);
        assert!(single.std_dev.is_nan());
        assert!(single.half_width.is_nan());
        assert!(none.mean.is_nan());
    }

    #[test]
    fn constant_values_have_zero_width() {
        let estimate = Estimate::of(&[7.0; 5]);

        assert_eq!(estimate.std_dev, 0.0);
        assert_eq!(estimate.half_width, 0.0);
    }

    #[test]
    fn welch_by_hand() {
        // a = 1, 2, 3 (s^2 = 1) and b = 2, 4, 6 (s^2 = 4): standard error sqrt(1/3 + 4/3),
        // df = (5/3)^2 / ((1/3)^2 / 2 + (4/3)^2 / 2) = 25/9 / (17/18) = 50/17.
        let a = Estimate::of(&[1.0, 2.0, 3.0]);
        let b = Estimate::of(&[2.0, 4.0, 6.0]);

        let half_width = welch_half_width(&a, &b);

        let expected = t_quantile(0.975, 50.0 / 17.0) * (5.0f64 / 3.0).sqrt();
        assert_close(half_width, expected, 1e-12);
        // Between the t quantiles at 2 and 3 degrees of freedom.
        assert!(half_width > 3.182 * (5.0f64 / 3.0).sqrt());
        assert!(half_width < 4.303 * (5.0f64 / 3.0).sqrt());
    }
}
