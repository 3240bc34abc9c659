//! Pending pods over time and the distribution of pod pending time.

use autoscale_sim_sim::{RunOutput, percentile};
use plotters::prelude::*;

use super::{
    FONT, HEIGHT, LABEL_SIZE, LIGHT_GRID, LegendEntry, Mark, PlotError, Reduce, Series, TimeAxis,
    WIDTH, axis_number, caption_and_legend, count_axis, grouping_note, policy_colour, policy_lines,
    render_svg, upper_bound,
};

/// Draws the number of Pending pods over time, one line per policy. When samples are grouped,
/// each point is the group's maximum, so a short backlog stays visible.
pub fn pending_pods(outputs: &[RunOutput]) -> Result<String, PlotError> {
    let axis = TimeAxis::of(outputs);
    let lines = policy_lines(outputs, &axis, Reduce::Max, |s| s.pods_pending as f64);
    let (top, labels) = count_axis(lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)));
    let caption = format!(
        "Pending pods{}",
        outputs
            .first()
            .map(|o| grouping_note(&o.samples, Reduce::Max))
            .unwrap_or_default()
    );

    let legend: Vec<LegendEntry> = lines.iter().map(Series::legend_entry).collect();

    render_svg("pending pods", (WIDTH, HEIGHT), |root| {
        let area = caption_and_legend(root, &caption, &legend)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(12)
            .margin_top(4)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..axis.end, 0.0..top)?;
        chart
            .configure_mesh()
            .x_desc(axis.label)
            .y_desc("pending pods (count)")
            .y_labels(labels)
            .x_label_formatter(&axis_number)
            .y_label_formatter(&axis_number)
            .label_style((FONT, LABEL_SIZE))
            .axis_desc_style((FONT, LABEL_SIZE))
            .max_light_lines(1)
            .light_line_style(LIGHT_GRID)
            .draw()?;
        for line in &lines {
            chart.draw_series(LineSeries::new(
                line.points.iter().copied(),
                line.colour.stroke_width(2),
            ))?;
        }
        Ok(())
    })
}

/// Bin widths of the pending-time histogram, in seconds: spans that read as round numbers.
const BIN_WIDTHS_SECONDS: [u64; 17] = [
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21_600, 43_200, 86_400,
];

/// Most bins of the pending-time histogram, the overflow bin aside.
const MAX_BINS: u64 = 24;

/// Waits up to this long, in milliseconds, always get bins of their own (10 minutes).
const ALWAYS_COVERED_MS: u64 = 600_000;

/// The bins of a pending-time histogram: `count` bins of `width_ms` from 0, and, when
/// `overflow` is set, one more bin for every wait of `count × width_ms` or longer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Bins {
    width_ms: u64,
    count: u64,
    overflow: bool,
}

impl Bins {
    /// Chooses bins for the pending times of every policy (each sorted ascending). The bins
    /// cover every wait when the longest is at most [`ALWAYS_COVERED_MS`] or at most twice the
    /// largest 99th percentile of any policy. Otherwise they cover up to the larger of that
    /// percentile and [`ALWAYS_COVERED_MS`], and an overflow bin takes the rest, so that one pod
    /// that waited for hours does not squeeze all the others into the first bar.
    fn for_waits(waits: &[&[u64]]) -> Bins {
        let longest = waits
            .iter()
            .filter_map(|w| w.last())
            .copied()
            .max()
            .unwrap_or(0);
        let p99 = waits.iter().map(|w| percentile(w, 99)).max().unwrap_or(0);
        let enough = p99.max(ALWAYS_COVERED_MS);
        let covered = if longest <= p99.saturating_mul(2).max(enough) {
            longest
        } else {
            enough
        };

        // The narrowest round width that needs at most MAX_BINS bins to reach `covered`.
        let width_ms = BIN_WIDTHS_SECONDS
            .iter()
            .map(|s| s * 1000)
            .find(|w| covered / w < MAX_BINS)
            .unwrap_or_else(|| (covered / MAX_BINS + 1).next_multiple_of(86_400_000));
        let count = covered / width_ms + 1;
        Bins {
            width_ms,
            count,
            overflow: longest >= count * width_ms,
        }
    }

    /// Number of bars per policy, the overflow bin included.
    fn bars(&self) -> u64 {
        self.count + u64::from(self.overflow)
    }

    /// Share of `waits` in each bin, in percent, the overflow bin last; all zero when empty.
    fn shares(&self, waits: &[u64]) -> Vec<f64> {
        let mut counts = vec![0u64; self.bars() as usize];
        for wait in waits {
            let bin = (wait / self.width_ms).min(self.bars() - 1);
            counts[bin as usize] += 1;
        }
        let total = waits.len().max(1) as f64;
        counts
            .into_iter()
            .map(|count| count as f64 * 100.0 / total)
            .collect()
    }
}

/// Unit of the pending-time axis: seconds up to 10 minutes, minutes up to 3 hours, then hours.
fn time_unit(end_ms: u64) -> (f64, &'static str) {
    if end_ms <= 600_000 {
        (1000.0, "s")
    } else if end_ms <= 10_800_000 {
        (60_000.0, "min")
    } else {
        (3_600_000.0, "h")
    }
}

/// Returns `waits` sorted ascending, borrowing them when they already are.
fn sorted(waits: &[u64]) -> std::borrow::Cow<'_, [u64]> {
    if waits.is_sorted() {
        std::borrow::Cow::Borrowed(waits)
    } else {
        let mut owned = waits.to_vec();
        owned.sort_unstable();
        std::borrow::Cow::Owned(owned)
    }
}

/// Draws the distribution of pod pending time (creation to binding) as a histogram built from
/// every bound pod's wait ([`RunOutput::pod_pending_times_ms`]): per bin, one bar per policy
/// with the share of that policy's bound pods whose wait falls in the bin. Each policy's bars
/// add up to 100 %. The legend gives each policy's count of bound pods and of pods still
/// Pending at the end, which have no pending time and are not in the bars.
pub fn pending_time_histogram(outputs: &[RunOutput]) -> Result<String, PlotError> {
    let waits: Vec<std::borrow::Cow<'_, [u64]>> = outputs
        .iter()
        .map(|o| sorted(&o.pod_pending_times_ms))
        .collect();
    let bins = Bins::for_waits(&waits.iter().map(|w| w.as_ref()).collect::<Vec<_>>());
    let shares: Vec<Vec<f64>> = waits.iter().map(|w| bins.shares(w)).collect();
    let end_ms = bins.bars() * bins.width_ms;
    let (unit_ms, unit) = time_unit(end_ms);
    let width = bins.width_ms as f64 / unit_ms;
    let top = upper_bound(shares.iter().flatten().copied(), 1.0);
    let bar_width = 0.8 * width / outputs.len().max(1) as f64;

    let legend: Vec<LegendEntry> = outputs
        .iter()
        .enumerate()
        .map(|(index, output)| {
            let still = output.report.pods_pending_at_end;
            let pending = if still > 0 {
                format!(", {still} still Pending")
            } else {
                String::new()
            };
            LegendEntry {
                label: format!(
                    "{} ({} pods bound{pending})",
                    output.report.policy,
                    output.pod_pending_times_ms.len()
                ),
                mark: Mark::Fill(policy_colour(index), 1.0),
            }
        })
        .collect();
    let caption = format!(
        "Pod pending time, creation to binding: share of bound pods per {} bin",
        format_span(bins.width_ms)
    );
    let x_desc = if bins.overflow {
        format!(
            "pending time ({unit}); the last bar holds every wait of {} or more",
            format_span(bins.count * bins.width_ms)
        )
    } else {
        format!("pending time ({unit})")
    };

    render_svg("pending time histogram", (WIDTH, HEIGHT), |root| {
        let area = caption_and_legend(root, &caption, &legend)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(12)
            .margin_top(4)
            .margin_right(24)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..end_ms as f64 / unit_ms, 0.0..top)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels((bins.bars() as usize + 1).min(13))
            .x_label_formatter(&axis_number)
            .y_label_formatter(&axis_number)
            .x_desc(x_desc.as_str())
            .y_desc("share of bound pods (%)")
            .label_style((FONT, LABEL_SIZE))
            .axis_desc_style((FONT, LABEL_SIZE))
            .max_light_lines(1)
            .light_line_style(LIGHT_GRID)
            .draw()?;

        for (policy, bars) in shares.iter().enumerate() {
            let colour = policy_colour(policy);
            let left = |bin: usize| (bin as f64 + 0.1) * width + policy as f64 * bar_width;
            chart.draw_series(
                bars.iter()
                    .enumerate()
                    .filter(|(_, share)| **share > 0.0)
                    .map(|(bin, share)| {
                        Rectangle::new(
                            [(left(bin), 0.0), (left(bin) + bar_width, *share)],
                            colour.filled(),
                        )
                    }),
            )?;
        }
        Ok(())
    })
}

/// Formats a span of milliseconds in its largest whole unit: `5 s`, `2 min`, `1 h`, `1500 ms`.
fn format_span(ms: u64) -> String {
    if ms % 3_600_000 == 0 {
        format!("{} h", ms / 3_600_000)
    } else if ms % 60_000 == 0 {
        format!("{} min", ms / 60_000)
    } else if ms % 1000 == 0 {
        format!("{} s", ms / 1000)
    } else {
        format!("{ms} ms")
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_data::*;
    use super::*;

    #[test]
    fn pending_line_per_policy() {
        let outputs = two_policies();

        let svg = pending_pods(&outputs).unwrap();

        assert_well_formed(&svg);
        assert!(svg.contains("pending pods (count)"));
        assert!(svg.contains("time since start (hours)"));
        assert!(svg.contains("cluster-autoscaler"));
        assert!(svg.contains("karpenter"));
        assert_eq!(
            count_elements(&svg, "polyline", &["stroke-width=\"2\""]),
            2,
            "a line per policy"
        );
        assert_eq!(
            count_elements(&svg, "polyline", &["stroke=\"#0072B2\""]),
            2,
            "line and legend"
        );
    }

    #[test]
    fn bins_cover_short_waits() {
        let bins = Bins::for_waits(&[&[0, 500, 45_000, 74_000], &[0, 60_000]]);

        assert_eq!(
            bins,
            Bins {
                width_ms: 5_000,
                count: 15,
                overflow: false
            }
        );
    }

    #[test]
    fn bins_overflow_long_tail() {
        let mut waits = vec![1_000; 200];
        waits.push(5 * 3_600_000);

        let bins = Bins::for_waits(&[&waits]);

        assert_eq!(
            bins,
            Bins {
                width_ms: 30_000,
                count: 21,
                overflow: true
            }
        );
        let shares = bins.shares(&waits);
        assert_eq!(shares.len(), 22);
        assert_eq!(shares[0], 200.0 * 100.0 / 201.0);
        assert_eq!(
            shares[21],
            100.0 / 201.0,
            "the 5-hour wait is in the last bar"
        );
    }

    #[test]
    fn bins_of_no_waits() {
        let bins = Bins::for_waits(&[&[], &[]]);

        assert_eq!(bins.bars(), 1);
        assert_eq!(bins.shares(&[]), [0.0]);
    }

    #[test]
    fn shares_add_to_hundred() {
        let bins = Bins::for_waits(&[&[0, 0, 3_000, 9_999, 10_000, 42_000]]);

        let total: f64 = bins
            .shares(&[0, 0, 3_000, 9_999, 10_000, 42_000])
            .iter()
            .sum();

        assert!((total - 100.0).abs() < 1e-9, "total {total}");
    }

    #[test]
    fn histogram_bars_per_policy() {
        let outputs = two_policies();

        let svg = pending_time_histogram(&outputs).unwrap();

        assert_well_formed(&svg);
        assert!(svg.contains("share of bound pods (%)"));
        assert!(svg.contains("pending time (s)"));
        assert!(svg.contains("per 5 s bin"));
        assert!(svg.contains("cluster-autoscaler (6 pods bound)"));
        assert!(svg.contains("karpenter (6 pods bound)"));
        // Waits 0, 0, 2 s, 41 s or 47 s, 60 s, 90 s: bins 0, 8 or 9, 12 and 18, and a legend.
        assert_eq!(count_elements(&svg, "rect", &["fill=\"#0072B2\""]), 5);
        assert_eq!(count_elements(&svg, "rect", &["fill=\"#D55E00\""]), 5);
    }

    #[test]
    fn histogram_deterministic() {
        let outputs = two_policies();

        let first = pending_time_histogram(&outputs).unwrap();
        let second = pending_time_histogram(&outputs).unwrap();

        assert_eq!(first, second);
    }

    #[test]
    fn histogram_names_still_pending() {
        let mut outputs = two_policies();
        outputs[1].report.pods_pending_at_end = 3;

        let svg = pending_time_histogram(&outputs).unwrap();

        assert!(svg.contains("karpenter (6 pods bound, 3 still Pending)"));
    }
}
