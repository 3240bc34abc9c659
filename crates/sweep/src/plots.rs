//! SVG plots of a sweep: mean cost against mean p95 pod pending time per configuration, and each
//! swept parameter against each main metric, with 95 % confidence intervals as error bars.
//!
//! A policy keeps the colour of its position in the base scenario, as in the plots of `compare`.

use std::collections::BTreeMap;

use autoscale_sim_report::plots::policy_colour;
use autoscale_sim_report::{Plot, PlotError};
use plotters::coord::Shift;
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

use crate::rows::{Group, Manifest, Row, left_out, metric_values};
use crate::spec::value_text;
use crate::stats::Estimate;

/// Metrics plotted against each swept parameter: report field and axis label.
pub const MAIN_METRICS: [(&str, &str); 5] = [
    ("total_cost_usd", "total cost ($)"),
    ("pod_pending_p95_seconds", "p95 pod pending time (s)"),
    ("pods_evicted", "pods evicted"),
    ("nodes_launched", "nodes launched"),
    (
        "mean_cpu_allocation",
        "mean CPU allocation (requested / allocatable)",
    ),
];

/// Width of every plot, in pixels.
const WIDTH: u32 = 1000;

/// Height of every plot, in pixels.
const HEIGHT: u32 = 520;

/// Font family; the SVG names a generic family, so the viewer's own font renders it.
const FONT: &str = "sans-serif";

/// Font size of labels and legends, in plotters units.
const LABEL_SIZE: u32 = 17;

/// Font size of captions, in plotters units.
const CAPTION_SIZE: u32 = 22;

/// Height of one legend row, in pixels.
const LEGEND_ROW: u32 = 24;

/// Most configurations labelled with their values in the cost plot. Beyond it the labels would
/// cover each other, so only the legend's colours tell the policies apart.
const MAX_POINT_LABELS: usize = 24;

type Canvas<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// One configuration's estimates of the two plotted quantities.
struct Summary {
    policy: usize,
    label: String,
    x: Estimate,
    y: Estimate,
    /// Whether no run of the configuration bound a pod, so that it has no p95.
    none_bound: bool,
}

/// Draws every plot of a sweep.
pub(crate) fn sweep_plots(
    manifest: &Manifest,
    rows: &[Row],
    groups: &[Group],
) -> Result<Vec<Plot>, PlotError> {
    let mut plots = vec![Plot {
        file_name: "cost-vs-p95-pending.svg".into(),
        title: "Mean total cost against mean p95 pod pending time per configuration, with 95 % confidence intervals".into(),
        svg: cost_against_pending(manifest, rows, groups)?,
    }];
    let stems = file_stems(manifest);
    for (axis, stem) in manifest
        .axes
        .iter()
        .enumerate()
        .zip(&stems)
        .map(|((i, _), s)| (i, s))
    {
        for (metric, label) in MAIN_METRICS {
            plots.push(Plot {
                file_name: format!("{stem}-vs-{metric}.svg"),
                title: format!("{label} against {}", manifest.axes[axis].name),
                svg: parameter_against_metric(manifest, rows, groups, axis, metric, label)?,
            });
        }
    }
    Ok(plots)
}

/// Returns the estimate of `metric` over a group's runs. A pending-time percentile leaves out
/// the runs that bound no pod, so a group in which no run bound a pod has a NaN mean and no
/// point in the plots.
fn estimate(rows: &[Row], group: &Group, metric: &str) -> Estimate {
    Estimate::of(&metric_values(rows, group, metric).values)
}

fn policy_index(manifest: &Manifest, policy: &str) -> usize {
    manifest
        .policies
        .iter()
        .position(|p| p == policy)
        .unwrap_or(0)
}

/// Draws one point per configuration and policy at its mean cost and mean p95 pending time,
/// with error bars both ways. The cost is the mean over every run of the configuration, the
/// p95 the mean over the runs that bound a pod. A configuration in which no run bound a pod gets
/// no point, because one at 0 would sit in the corner that reads best, and its policy's legend
/// entry counts it as not drawn.
fn cost_against_pending(
    manifest: &Manifest,
    rows: &[Row],
    groups: &[Group],
) -> Result<String, PlotError> {
    let summaries: Vec<Summary> = groups
        .iter()
        .map(|g| Summary {
            policy: policy_index(manifest, &g.policy),
            label: g
                .parameters
                .iter()
                .map(|&(axis, value)| value_text(&manifest.axes[axis].values[value]))
                .collect::<Vec<_>>()
                .join(", "),
            x: estimate(rows, g, "total_cost_usd"),
            y: estimate(rows, g, "pod_pending_p95_seconds"),
            none_bound: g
                .runs
                .iter()
                .all(|&(_, row)| left_out(&rows[row], "pod_pending_p95_seconds")),
        })
        .collect();
    let x_range = padded_range(summaries.iter().flat_map(|s| interval(&s.x)));
    let y_range = padded_range(summaries.iter().flat_map(|s| interval(&s.y)));
    let legend = policy_legend(manifest, groups, &summaries);
    let seeds = manifest.seeds.len();

    render("cost against pending time", |root| {
        let area = caption_and_legend(
            root,
            &format!(
                "Mean cost against mean p95 pod pending time, 95 % CI over {seeds} seeds (lower left is better)"
            ),
            &legend,
        )?;
        let mut chart = ChartBuilder::on(&area)
            .margin(12)
            .margin_right(24)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .build_cartesian_2d(x_range, y_range)?;
        chart
            .configure_mesh()
            .x_desc("total cost ($)")
            .y_desc("p95 pod pending time (s)")
            .x_label_formatter(&axis_number)
            .y_label_formatter(&axis_number)
            .label_style((FONT, LABEL_SIZE))
            .axis_desc_style((FONT, LABEL_SIZE))
            .max_light_lines(1)
            .draw()?;

        for summary in &summaries {
            let colour = policy_colour(summary.policy);
            let (x, y) = (summary.x.mean, summary.y.mean);
            if !x.is_finite() || !y.is_finite() {
                continue;
            }
            if summary.x.half_width.is_finite() {
                chart.draw_series([PathElement::new(
                    [(summary.x.low(), y), (summary.x.high(), y)],
                    colour.stroke_width(2),
                )])?;
            }
            if summary.y.half_width.is_finite() {
                chart.draw_series([PathElement::new(
                    [(x, summary.y.low()), (x, summary.y.high())],
                    colour.stroke_width(2),
                )])?;
            }
            chart.draw_series([Circle::new((x, y), 6, colour.filled())])?;
            if summaries.len() <= MAX_POINT_LABELS && !summary.label.is_empty() {
                // Up and to the right of the point, clear of its error bars' middle.
                chart.draw_series([EmptyElement::at((x, y))
                    + Text::new(
                        summary.label.clone(),
                        (8, -22),
                        (FONT, LABEL_SIZE).into_font().color(&colour),
                    )])?;
            }
        }
        Ok(())
    })
}

/// One line of a parameter plot: a policy under one choice of the other parameters.
struct Line {
    label: String,
    policy: usize,
    /// (value position on the axis, estimate).
    points: Vec<(usize, Estimate)>,
}

/// Draws the mean of `metric` against the values of `axis`, one line per policy and choice of
/// the other parameters, with error bars.
fn parameter_against_metric(
    manifest: &Manifest,
    rows: &[Row],
    groups: &[Group],
    axis: usize,
    metric: &str,
    metric_label: &str,
) -> Result<String, PlotError> {
    // Lines keyed by policy and the other parameters, in order of first appearance.
    let mut lines: Vec<Line> = Vec::new();
    let mut by_key: BTreeMap<(String, Vec<(usize, usize)>), usize> = BTreeMap::new();
    for group in groups {
        let Some(&(_, value)) = group.parameters.iter().find(|(a, _)| *a == axis) else {
            continue;
        };
        let others: Vec<(usize, usize)> = group
            .parameters
            .iter()
            .copied()
            .filter(|(a, _)| *a != axis)
            .collect();
        let line = *by_key
            .entry((group.policy.clone(), others.clone()))
            .or_insert_with(|| {
                let mut label = group.policy.clone();
                for &(a, v) in &others {
                    label.push_str(&format!(
                        ", {}={}",
                        manifest.axes[a].name,
                        value_text(&manifest.axes[a].values[v])
                    ));
                }
                lines.push(Line {
                    label,
                    policy: policy_index(manifest, &group.policy),
                    points: Vec::new(),
                });
                lines.len() - 1
            });
        lines[line]
            .points
            .push((value, estimate(rows, group, metric)));
    }
    for line in &mut lines {
        line.points.sort_by_key(|(value, _)| *value);
    }

    let values: Vec<String> = manifest.axes[axis].values.iter().map(value_text).collect();
    let y_range = padded_range(
        lines
            .iter()
            .flat_map(|l| l.points.iter().flat_map(|(_, e)| interval(e))),
    );
    let legend: Vec<(String, RGBAColor)> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| (l.label.clone(), line_colour(&lines, i)))
        .collect();
    let axis_name = &manifest.axes[axis].name;
    let seeds = manifest.seeds.len();

    render("parameter against metric", |root| {
        let area = caption_and_legend(
            root,
            &format!("{metric_label} against {axis_name}, mean and 95 % CI over {seeds} seeds"),
            &legend,
        )?;
        // plotters' integer ranges include their end, so 0..last makes one segment per value.
        let last = values.len().max(1) as i32 - 1;
        let mut chart = ChartBuilder::on(&area)
            .margin(12)
            .margin_right(24)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .build_cartesian_2d((0..last).into_segmented(), y_range)?;
        let label_of = |x: &SegmentValue<i32>| match x {
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
                values.get(*i as usize).cloned().unwrap_or_default()
            }
            SegmentValue::Last => String::new(),
        };
        chart
            .configure_mesh()
            .x_desc(axis_name.as_str())
            .y_desc(metric_label)
            .x_labels(values.len() + 1)
            .x_label_formatter(&label_of)
            .y_label_formatter(&axis_number)
            .label_style((FONT, LABEL_SIZE))
            .axis_desc_style((FONT, LABEL_SIZE))
            .max_light_lines(1)
            .disable_x_mesh()
            .draw()?;

        for (index, line) in lines.iter().enumerate() {
            let colour = line_colour(&lines, index);
            let finite: Vec<(SegmentValue<i32>, f64)> = line
                .points
                .iter()
                .filter(|(_, e)| e.mean.is_finite())
                .map(|(v, e)| (SegmentValue::CenterOf(*v as i32), e.mean))
                .collect();
            chart.draw_series(LineSeries::new(finite.clone(), colour.stroke_width(2)))?;
            for (value, estimate) in &line.points {
                let x = SegmentValue::CenterOf(*value as i32);
                if estimate.half_width.is_finite() {
                    chart.draw_series([PathElement::new(
                        [(x.clone(), estimate.low()), (x.clone(), estimate.high())],
                        colour.stroke_width(2),
                    )])?;
                }
            }
            chart.draw_series(
                finite
                    .into_iter()
                    .map(|point| Circle::new(point, 5, colour.filled())),
            )?;
        }
        Ok(())
    })
}

/// Returns the colour of line `index`: its policy's colour, lighter for each further line of
/// the same policy so that they stay apart.
fn line_colour(lines: &[Line], index: usize) -> RGBAColor {
    let policy = lines[index].policy;
    let rank = lines[..index].iter().filter(|l| l.policy == policy).count();
    policy_colour(policy).mix(1.0 / (1.0 + 0.6 * rank as f64))
}

/// Returns the legend of the policies that have results, in scenario order. The entry of a
/// policy with configurations that bound no pod in any run counts them as not drawn.
fn policy_legend(
    manifest: &Manifest,
    groups: &[Group],
    summaries: &[Summary],
) -> Vec<(String, RGBAColor)> {
    manifest
        .policies
        .iter()
        .enumerate()
        .filter(|(_, p)| groups.iter().any(|g| &g.policy == *p))
        .map(|(i, p)| {
            let unbound = summaries
                .iter()
                .filter(|s| s.policy == i && s.none_bound)
                .count();
            let label = match unbound {
                0 => p.clone(),
                1 => format!("{p}: 1 configuration with no pod bound, not drawn"),
                n => format!("{p}: {n} configurations with no pod bound, not drawn"),
            };
            (label, policy_colour(i).to_rgba())
        })
        .collect()
}

/// Formats an axis value without trailing zeros: `0`, `2.5`, `1200`, `0.125`.
fn axis_number(value: &f64) -> String {
    let rounded = (value * 1000.0).round() / 1000.0;
    if rounded == rounded.trunc() {
        format!("{rounded:.0}")
    } else {
        format!("{rounded:.3}").trim_end_matches('0').to_string()
    }
}

/// Returns the confidence interval's ends, or the mean alone when there is no interval.
fn interval(estimate: &Estimate) -> Vec<f64> {
    if estimate.half_width.is_finite() {
        vec![estimate.low(), estimate.high()]
    } else {
        vec![estimate.mean]
    }
}

/// Returns a range around the finite `values` with 10 % room at each end, or a range of width
/// 2 around a single value, or `0..1` when there is none.
fn padded_range(values: impl Iterator<Item = f64>) -> std::ops::Range<f64> {
    let (low, high) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if low > high {
        return 0.0..1.0;
    }
    if low == high {
        return low - 1.0..high + 1.0;
    }
    let room = (high - low) * 0.1;
    low - room..high + room
}

/// Returns file-name stems for the axes: the name with characters other than ASCII letters,
/// digits, `-`, `_` and `.` replaced by `_`, and the axis position appended when two collide.
fn file_stems(manifest: &Manifest) -> Vec<String> {
    let stems: Vec<String> = manifest
        .axes
        .iter()
        .map(|a| {
            a.name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                        c
                    } else {
                        '_'
                    }
                })
                .collect::<String>()
                .trim_start_matches('.')
                .to_string()
        })
        .collect();
    stems
        .iter()
        .enumerate()
        .map(|(index, stem)| {
            if stem.is_empty() || stems.iter().filter(|s| *s == stem).count() > 1 {
                format!("{stem}-{}", index + 1)
            } else {
                stem.clone()
            }
        })
        .collect()
}

/// Draws `caption` and, below it, the legend in rows that wrap at the right edge; returns the
/// area left for the chart. Label widths are estimated at 8 px per character.
fn caption_and_legend<'a>(
    root: &Canvas<'a>,
    caption: &str,
    entries: &[(String, RGBAColor)],
) -> Result<Canvas<'a>, Box<dyn std::error::Error>> {
    use plotters::style::text_anchor::{HPos, Pos, VPos};

    let area = root.titled(caption, (FONT, CAPTION_SIZE))?;
    let right = WIDTH as i32 - 12;
    let mut corners = Vec::new();
    let (mut x, mut y) = (76, 0);
    for (label, _) in entries {
        let width = 30 + 8 * label.chars().count() as i32 + 26;
        if x > 76 && x + width > right {
            x = 76;
            y += LEGEND_ROW as i32;
        }
        corners.push((x, y));
        x += width;
    }
    let rows = corners
        .last()
        .map_or(0, |(_, y)| *y as u32 / LEGEND_ROW + 1);
    let (legend, chart) = area.split_vertically(rows * LEGEND_ROW + 6);
    let font =
        TextStyle::from((FONT, LABEL_SIZE).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    for ((label, colour), (x, y)) in entries.iter().zip(corners) {
        let middle = y + LEGEND_ROW as i32 / 2;
        legend.draw(&Circle::new((x + 11, middle), 7, colour.filled()))?;
        legend.draw(&Text::new(label.clone(), (x + 30, middle), font.clone()))?;
    }
    Ok(chart)
}

/// Runs `draw` on a white SVG canvas and returns the SVG text.
fn render(plot: &str, draw: impl FnOnce(&Canvas<'_>) -> DrawResult) -> Result<String, PlotError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        let result = root
            .fill(&WHITE)
            .map_err(Into::into)
            .and_then(|()| draw(&root))
            .and_then(|()| root.present().map_err(Into::into));
        result.map_err(|error: Box<dyn std::error::Error>| PlotError {
            plot: plot.to_string(),
            message: error.to_string(),
        })?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    #[test]
    fn axis_numbers_trim_zeros() {
        assert_eq!(axis_number(&300.0), "300");
        assert_eq!(axis_number(&2.5), "2.5");
        assert_eq!(axis_number(&0.125), "0.125");
        assert_eq!(axis_number(&-0.0001), "-0");
    }

    /// Returns a row of `policy` with `fields`, and a group of every row.
    fn rows_and_group(policy: &str, fields: &[Value]) -> (Vec<Row>, Group) {
        let rows: Vec<Row> = fields
            .iter()
            .enumerate()
            .map(|(point, fields)| Row {
                line: fields.to_string(),
                point,
                policy: policy.into(),
                fields: fields.as_object().unwrap().clone(),
            })
            .collect();
        let group = Group {
            config_id: "c0".into(),
            policy: policy.into(),
            parameters: Vec::new(),
            runs: (0..rows.len()).map(|row| (row as u64 + 1, row)).collect(),
        };
        (rows, group)
    }

    #[test]
    fn percentiles_skip_unbound_runs() {
        let (rows, group) = rows_and_group(
            "b",
            &[
                json!({"pod_pending_p95_seconds": 20.0, "pods_bound": 4, "total_cost_usd": 1.0}),
                json!({"pod_pending_p95_seconds": 40.0, "pods_bound": 9, "total_cost_usd": 2.0}),
                json!({"pod_pending_p95_seconds": 0.0, "pods_bound": 0, "total_cost_usd": 6.0}),
            ],
        );

        let p95 = estimate(&rows, &group, "pod_pending_p95_seconds");
        let cost = estimate(&rows, &group, "total_cost_usd");

        assert_eq!(p95.n, 2);
        assert_eq!(p95.mean, 30.0);
        assert_eq!(cost.n, 3);
        assert_eq!(cost.mean, 3.0);
    }

    #[test]
    fn percentiles_of_unbound_group_nan() {
        let unbound = json!({"pod_pending_p95_seconds": 0.0, "pods_bound": 0});
        let (rows, group) = rows_and_group("b", &[unbound.clone(), unbound]);

        let p95 = estimate(&rows, &group, "pod_pending_p95_seconds");

        assert_eq!(p95.n, 0);
        assert!(p95.mean.is_nan());
    }

    #[test]
    fn ranges_pad_or_widen() {
        assert_eq!(padded_range([10.0, 20.0].into_iter()), 9.0..21.0);
        assert_eq!(padded_range([5.0].into_iter()), 4.0..6.0);
        assert_eq!(padded_range(std::iter::empty()), 0.0..1.0);
        assert_eq!(padded_range([f64::NAN, 2.0, 4.0].into_iter()), 1.8..4.2);
    }
}
