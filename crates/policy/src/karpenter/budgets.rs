//! Disruption budgets that apply only to some reasons or only inside a cron window
//! (`spec.disruption.budgets[]` with `reasons`, `schedule` and `duration`), evaluated as
//! kubernetes-sigs/karpenter v1.13 does in `pkg/apis/v1/nodepool.go` (`IsActive`,
//! `GetAllowedDisruptionsByReason`). Schedules are standard five-field cron in UTC, parsed the
//! way Karpenter's cron library (robfig/cron v3 `ParseStandard`) reads them.

use autoscale_sim_engine::SimDuration;

use super::{BudgetNodes, NodePool};

/// A disruption reason a budget may name (`reasons`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum BudgetReason {
    /// Consolidation that deletes or replaces nodes whose pods fit elsewhere.
    Underutilized,
    /// Emptiness.
    Empty,
    /// Drift.
    Drifted,
}

impl BudgetReason {
    /// Parses the name Karpenter uses.
    pub fn parse(text: &str) -> Option<BudgetReason> {
        match text {
            "Underutilized" => Some(BudgetReason::Underutilized),
            "Empty" => Some(BudgetReason::Empty),
            "Drifted" => Some(BudgetReason::Drifted),
            _ => None,
        }
    }
}

/// One field of a cron schedule: the allowed values as bits, and whether it was `*` or `?`
/// (which changes how day of month and day of week combine).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct CronField {
    bits: u64,
    star: bool,
}

impl CronField {
    fn has(self, value: u32) -> bool {
        self.bits & (1 << value) != 0
    }
}

/// A cron schedule: minute, hour, day of month, month and day of week, in UTC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CronSchedule {
    /// The expression as written, for messages.
    text: String,
    minute: CronField,
    hour: CronField,
    day_of_month: CronField,
    month: CronField,
    day_of_week: CronField,
}

const MONTH_NAMES: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAY_NAMES: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// Parses a value or a name (`names[i]` is `i + offset`).
fn parse_value(text: &str, names: &[&str], offset: u32) -> Result<u32, String> {
    if let Some(index) = names.iter().position(|n| n.eq_ignore_ascii_case(text)) {
        return Ok(index as u32 + offset);
    }
    text.parse::<u32>().map_err(|_| match names.first() {
        Some(first) => format!("{text:?} is neither a number nor a name such as {first}"),
        None => format!("{text:?} is not a number"),
    })
}

/// Parses one comma-separated field within `min..=max`.
fn parse_field(
    text: &str,
    min: u32,
    max: u32,
    names: &[&str],
    offset: u32,
) -> Result<CronField, String> {
    let mut field = CronField {
        bits: 0,
        star: false,
    };
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => {
                let step = step
                    .parse::<u32>()
                    .map_err(|_| format!("step {step:?} is not a number"))?;
                (range, Some(step))
            }
            None => (part, None),
        };
        let (mut start, mut end, mut star) = if range == "*" || range == "?" {
            (min, max, true)
        } else {
            match range.split_once('-') {
                Some((low, high)) => (
                    parse_value(low, names, offset)?,
                    parse_value(high, names, offset)?,
                    false,
                ),
                None => {
                    let value = parse_value(range, names, offset)?;
                    (value, value, false)
                }
            }
        };
        let step = match step {
            Some(0) => return Err(format!("step of zero in {part:?}")),
            Some(step) => {
                // A single value with a step runs to the end of the range ("5/15" is "5-59/15").
                if !range.contains('-') && range != "*" && range != "?" {
                    end = max;
                }
                if step > 1 {
                    star = false;
                }
                step
            }
            None => 1,
        };
        if start < min || end > max || start > end {
            return Err(format!("{part:?} is outside {min}-{max}"));
        }
        while start <= end {
            field.bits |= 1 << start;
            start += step;
        }
        field.star |= star;
    }
    Ok(field)
}

impl CronSchedule {
    /// Parses a standard five-field cron expression or one of the descriptors Karpenter's
    /// NodePool validation allows (`@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`,
    /// `@midnight`, `@hourly`).
    pub fn parse(text: &str) -> Result<CronSchedule, String> {
        let expanded = match text.trim() {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            other if other.starts_with('@') => {
                return Err(format!("unknown descriptor {other:?}"));
            }
            other => other,
        };
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        let [minute, hour, day_of_month, month, day_of_week] = fields[..] else {
            return Err(format!(
                "expected 5 fields (minute hour day-of-month month day-of-week), found {}",
                fields.len()
            ));
        };
        Ok(CronSchedule {
            text: text.to_string(),
            minute: parse_field(minute, 0, 59, &[], 0)?,
            hour: parse_field(hour, 0, 23, &[], 0)?,
            day_of_month: parse_field(day_of_month, 1, 31, &[], 0)?,
            month: parse_field(month, 1, 12, &MONTH_NAMES, 1)?,
            day_of_week: parse_field(day_of_week, 0, 6, &DAY_NAMES, 0)?,
        })
    }

    /// Returns the expression as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Checks the date part: month, and day of month and day of week combined as cron does
    /// (both must match when either field is `*`, otherwise either may).
    fn day_matches(&self, date: &Date) -> bool {
        if !self.month.has(date.month) {
            return false;
        }
        let by_month_day = self.day_of_month.has(date.day);
        let by_week_day = self.day_of_week.has(date.weekday);
        if self.day_of_month.star || self.day_of_week.star {
            by_month_day && by_week_day
        } else {
            by_month_day || by_week_day
        }
    }

    /// Checks whether the schedule fires at some minute in `(from, to]`, both Unix seconds.
    /// The search walks back from `to`, skipping whole days and hours that cannot match.
    pub fn fires_within(&self, from: i64, to: i64) -> bool {
        let first = (from.div_euclid(60) + 1) * 60;
        let mut minute = to.div_euclid(60) * 60;
        while minute >= first {
            let date = Date::of(minute);
            if !self.day_matches(&date) {
                minute = minute.div_euclid(86_400) * 86_400 - 60;
                continue;
            }
            if !self.hour.has(date.hour) {
                minute = minute.div_euclid(3600) * 3600 - 60;
                continue;
            }
            if self.minute.has(date.minute) {
                return true;
            }
            minute -= 60;
        }
        false
    }
}

/// The calendar fields of a Unix time, in UTC.
struct Date {
    month: u32,
    day: u32,
    weekday: u32,
    hour: u32,
    minute: u32,
}

impl Date {
    fn of(unix_secs: i64) -> Date {
        let days = unix_secs.div_euclid(86_400);
        let seconds = unix_secs.rem_euclid(86_400);
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm, inverted).
        let shifted = days + 719_468;
        let era = shifted.div_euclid(146_097);
        let day_of_era = shifted - era * 146_097;
        let year_of_era =
            (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let month_index = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * month_index + 2) / 5 + 1;
        let month = if month_index < 10 {
            month_index + 3
        } else {
            month_index - 9
        };
        Date {
            month: month as u32,
            day: day as u32,
            // 1970-01-01 was a Thursday (4 when Sunday is 0).
            weekday: (days + 4).rem_euclid(7) as u32,
            hour: (seconds / 3600) as u32,
            minute: (seconds % 3600 / 60) as u32,
        }
    }
}

/// A disruption budget limited to some reasons, to a schedule window, or both.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisruptionBudget {
    /// `nodes`: how many of the NodePool's nodes may be disrupted at once.
    pub nodes: BudgetNodes,
    /// `reasons`; empty means every reason.
    pub reasons: Vec<BudgetReason>,
    /// `schedule` and `duration` (in seconds): the budget is active for that long after each
    /// time the schedule fires. `None` means always active.
    pub window: Option<(CronSchedule, i64)>,
}

impl DisruptionBudget {
    /// Checks whether the budget is active at `now_unix` (Unix seconds): the schedule fired
    /// within the last `duration`, the end excluded (`IsActive`).
    pub fn is_active(&self, now_unix: i64) -> bool {
        match &self.window {
            None => true,
            Some((schedule, duration)) => schedule.fires_within(now_unix - duration, now_unix),
        }
    }

    fn applies_to(&self, reason: BudgetReason) -> bool {
        self.reasons.is_empty() || self.reasons.contains(&reason)
    }
}

impl NodePool {
    /// Returns how many of the pool's `total` nodes may be disrupted for `reason` at
    /// `now_unix` (Unix seconds): the smallest allowance of the budgets that apply, or
    /// `u32::MAX` when none does.
    pub fn allowed_disruptions(&self, reason: BudgetReason, total: u32, now_unix: i64) -> u32 {
        let always = self.budgets.iter().map(|b| b.allowed(total));
        let conditional = self
            .conditional_budgets
            .iter()
            .filter(|b| b.applies_to(reason) && b.is_active(now_unix))
            .map(|b| b.nodes.allowed(total));
        always.chain(conditional).min().unwrap_or(u32::MAX)
    }

    /// Describes a budget that allows no disruptions for `reason` at `now_unix` (Unix seconds)
    /// whatever the pool's node count, such as `nodes "0" with reasons [Underutilized] and
    /// schedule "0 9 * * mon-fri" for 8h`, or returns `None` when no budget does. Only `0` and
    /// `0%` allow none: any other percentage of one node or more rounds up to one node.
    pub fn blocking_budget(&self, reason: BudgetReason, now_unix: i64) -> Option<String> {
        let nodes_text = |nodes: BudgetNodes| match nodes {
            BudgetNodes::Percent(percent) => format!("nodes \"{percent}%\""),
            BudgetNodes::Count(count) => format!("nodes \"{count}\""),
        };
        if let Some(&nodes) = self.budgets.iter().find(|b| b.allowed(1) == 0) {
            return Some(nodes_text(nodes));
        }
        let budget = self
            .conditional_budgets
            .iter()
            .find(|b| b.applies_to(reason) && b.is_active(now_unix) && b.nodes.allowed(1) == 0)?;
        let mut text = nodes_text(budget.nodes);
        if !budget.reasons.is_empty() {
            text.push_str(&format!(" with reasons {:?}", budget.reasons));
        }
        if let Some((schedule, duration)) = &budget.window {
            let joint = if budget.reasons.is_empty() {
                "with"
            } else {
                "and"
            };
            let duration = SimDuration::from_secs(duration.unsigned_abs());
            text.push_str(&format!(
                " {joint} schedule {:?} for {duration}",
                schedule.text()
            ));
        }
        Some(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-01-05T00:00:00Z, a Monday.
    const MONDAY: i64 = 1_767_571_200;

    fn budget(
        nodes: BudgetNodes,
        reasons: &[BudgetReason],
        window: Option<(&str, i64)>,
    ) -> DisruptionBudget {
        DisruptionBudget {
            nodes,
            reasons: reasons.to_vec(),
            window: window.map(|(cron, duration)| (CronSchedule::parse(cron).unwrap(), duration)),
        }
    }

    #[test]
    fn date_fields_of_known_time() {
        let date = Date::of(MONDAY + 13 * 3600 + 7 * 60);
        assert_eq!((date.month, date.day, date.weekday), (1, 5, 1));
        assert_eq!((date.hour, date.minute), (13, 7));
        let leap = Date::of(1_709_164_800); // 2024-02-29T00:00:00Z, a Thursday
        assert_eq!((leap.month, leap.day, leap.weekday), (2, 29, 4));
    }

    #[test]
    fn business_hours_window() {
        // "0 9 * * mon-fri" for 8h: active from 09:00 (included) to 17:00 (excluded) on weekdays.
        let window = budget(
            BudgetNodes::Count(0),
            &[],
            Some(("0 9 * * mon-fri", 8 * 3600)),
        );
        let hour = |h: i64| MONDAY + h * 3600;
        assert!(!window.is_active(hour(9) - 1));
        assert!(window.is_active(hour(9)));
        assert!(window.is_active(hour(17) - 1));
        assert!(!window.is_active(hour(17)));
        // Saturday 10:00.
        assert!(!window.is_active(MONDAY + 5 * 86_400 + 10 * 3600));
    }

    #[test]
    fn descriptors_and_steps() {
        let daily = CronSchedule::parse("@daily").unwrap();
        assert!(daily.fires_within(MONDAY - 1, MONDAY));
        assert!(!daily.fires_within(MONDAY, MONDAY + 86_399));
        let every_15 = CronSchedule::parse("*/15 * * * *").unwrap();
        assert!(every_15.fires_within(MONDAY + 14 * 60, MONDAY + 15 * 60));
        assert!(!every_15.fires_within(MONDAY + 15 * 60, MONDAY + 29 * 60));
        let from_5 = CronSchedule::parse("5/20 * * * *").unwrap();
        assert!(from_5.fires_within(MONDAY + 44 * 60, MONDAY + 45 * 60));
    }

    #[test]
    fn day_of_month_or_week() {
        // Both restricted: the 1st of the month or any Monday.
        let either = CronSchedule::parse("0 0 1 * mon").unwrap();
        assert!(either.fires_within(MONDAY - 1, MONDAY));
        assert!(either.fires_within(MONDAY + 27 * 86_400 - 1, MONDAY + 27 * 86_400)); // Feb 1st
        assert!(!either.fires_within(MONDAY + 86_400 - 1, MONDAY + 86_400)); // Tuesday 6th
    }

    #[test]
    fn invalid_schedules_rejected() {
        for bad in [
            "* * * *",
            "60 * * * *",
            "* 24 * * *",
            "* * 0 * *",
            "*/0 * * * *",
            "@often",
            "x * * * *",
            "* * * * 7",
        ] {
            assert!(CronSchedule::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn smallest_applying_budget_wins() {
        let pool = NodePool {
            budgets: vec![BudgetNodes::Percent(10)],
            conditional_budgets: vec![
                budget(BudgetNodes::Count(0), &[BudgetReason::Underutilized], None),
                budget(
                    BudgetNodes::Count(0),
                    &[],
                    Some(("0 9 * * mon-fri", 8 * 3600)),
                ),
            ],
            ..Default::default()
        };
        let night = MONDAY + 2 * 3600;
        let day = MONDAY + 10 * 3600;

        assert_eq!(pool.allowed_disruptions(BudgetReason::Empty, 25, night), 3);
        assert_eq!(
            pool.allowed_disruptions(BudgetReason::Underutilized, 25, night),
            0
        );
        assert_eq!(pool.allowed_disruptions(BudgetReason::Empty, 25, day), 0);
        let unlimited = NodePool {
            budgets: vec![],
            ..Default::default()
        };
        assert_eq!(
            unlimited.allowed_disruptions(BudgetReason::Drifted, 5, day),
            u32::MAX
        );
    }
}
