//! Results: one [`Row`] per figure, the printed table and the JSON file.
//!
//! Every figure is measured twice in the same run — once through our stack
//! and once through the baseline relay — so a row carries both values and
//! their ratio. A row's [`Target`] says what "good enough" means; a miss is
//! printed as such, never hidden.

use std::path::Path;

use serde::Serialize;

/// What a figure is compared against.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Target {
    /// ours / baseline must be at most this (latency, cost).
    RatioAtMost(f64),
    /// ours / baseline must be at least this (rates).
    RatioAtLeast(f64),
    /// ours itself must be at most this, in the row's unit.
    AtMost(f64),
    /// ours itself must be at least this, in the row's unit.
    AtLeast(f64),
    /// Reported, no target.
    None,
}

impl Target {
    fn text(&self, unit: &str) -> String {
        match self {
            Target::RatioAtMost(r) => format!("<= {r}x"),
            Target::RatioAtLeast(r) => format!(">= {r}x"),
            Target::AtMost(v) => format!("<= {} {unit}", fmt_num(*v)),
            Target::AtLeast(v) => format!(">= {} {unit}", fmt_num(*v)),
            Target::None => "-".into(),
        }
    }

    fn judge(&self, ours: Option<f64>, ratio: Option<f64>) -> Option<bool> {
        match self {
            Target::RatioAtMost(r) => ratio.map(|x| x <= *r),
            Target::RatioAtLeast(r) => ratio.map(|x| x >= *r),
            Target::AtMost(v) => ours.map(|x| x <= *v),
            Target::AtLeast(v) => ours.map(|x| x >= *v),
            Target::None => None,
        }
    }
}

/// One measured figure.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub scenario: String,
    pub figure: String,
    pub unit: String,
    pub ours: Option<f64>,
    pub baseline: Option<f64>,
    /// ours / baseline.
    pub ratio: Option<f64>,
    pub target: Target,
    pub target_text: String,
    /// `None` when there is no target or a value is missing.
    pub pass: Option<bool>,
    /// Why a value is missing, or what to keep in mind reading it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// How many runs the values are the median of (1: a single run).
    pub runs: usize,
    /// Lowest and highest of ours over the runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ours_range: Option<(f64, f64)>,
    /// Lowest and highest ratio over the runs (each run's ours / baseline).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratio_range: Option<(f64, f64)>,
}

impl Row {
    pub fn new(
        scenario: &str,
        figure: &str,
        unit: &str,
        ours: Option<f64>,
        baseline: Option<f64>,
        target: Target,
    ) -> Row {
        let ratio = match (ours, baseline) {
            (Some(o), Some(b)) if b != 0.0 => Some(o / b),
            _ => None,
        };
        Row {
            scenario: scenario.into(),
            figure: figure.into(),
            unit: unit.into(),
            ours,
            baseline,
            ratio,
            target_text: target.text(unit),
            pass: target.judge(ours, ratio),
            target,
            note: None,
            runs: 1,
            ours_range: None,
            ratio_range: None,
        }
    }

    pub fn note(mut self, note: impl Into<String>) -> Row {
        self.note = Some(note.into());
        self
    }
}

/// Merges several runs of the same scenario into one set of rows: each
/// value is the median over the runs (the upper one of the middle two for
/// an even count), the ratio is the median of the runs' own ratios (each
/// measured with both systems under the same conditions, so drift between
/// runs cancels out), and the lowest and highest are kept as the spread.
/// Rows are matched by scenario and figure; a figure some run could not
/// measure keeps that run's note, so a failure is never hidden by the
/// others' success.
pub fn merge_runs(runs: Vec<Vec<Row>>) -> Vec<Row> {
    let count = runs.len();
    let is_failure = |r: &Row| r.note.as_deref().is_some_and(|n| n.starts_with("failed"));
    let Some(first) = runs.first() else {
        return Vec::new();
    };
    let mut out: Vec<Row> = Vec::new();
    let mut reported: Vec<&str> = Vec::new();
    for row in first {
        let scenario = row.scenario.as_str();
        // A scenario some run failed in is shown as that failure.
        if let Some(f) = runs
            .iter()
            .flatten()
            .find(|r| r.scenario == scenario && is_failure(r))
        {
            if !reported.contains(&scenario) {
                reported.push(scenario);
                out.push(f.clone());
            }
            continue;
        }
        let same: Vec<&Row> = runs
            .iter()
            .filter_map(|r| {
                r.iter()
                    .find(|x| x.scenario == row.scenario && x.figure == row.figure)
            })
            .collect();
        let median_of = |get: fn(&Row) -> Option<f64>| {
            let mut v: Vec<f64> = same
                .iter()
                .filter_map(|r| get(r))
                .filter(|x| x.is_finite())
                .collect();
            v.sort_by(f64::total_cmp);
            let range = (v.len() > 1).then(|| (v[0], v[v.len() - 1]));
            (v.get(v.len() / 2).copied(), range)
        };
        let (ours, ours_range) = median_of(|r| r.ours);
        let (baseline, _) = median_of(|r| r.baseline);
        let (ratio, ratio_range) = median_of(|r| r.ratio);
        out.push(Row {
            ours,
            baseline,
            ratio,
            pass: row.target.judge(ours, ratio),
            runs: count,
            ours_range,
            ratio_range,
            ..row.clone()
        });
    }
    out
}

/// Formats a number with about four significant digits.
pub fn fmt_num(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if a >= 1_000_000.0 {
        format!("{:.2}M", v / 1_000_000.0)
    } else if a >= 10_000.0 {
        format!("{:.1}k", v / 1_000.0)
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

fn cell(v: Option<f64>, unit: &str, range: Option<(f64, f64)>) -> String {
    let spread = range.map_or(String::new(), |(lo, hi)| {
        format!(" ({}-{})", fmt_num(lo), fmt_num(hi))
    });
    match v {
        Some(v) if unit.is_empty() => format!("{}{spread}", fmt_num(v)),
        Some(v) => format!("{} {unit}{spread}", fmt_num(v)),
        None => "n/a".into(),
    }
}

/// The table as Markdown (readable in a terminal and pasteable in docs).
/// A figure measured over several runs shows its median and, in
/// parentheses, the lowest and highest run.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| scenario | figure | ours | baseline | ratio | target | result |\n\
         | --- | --- | ---: | ---: | ---: | --- | --- |\n",
    );
    for r in rows {
        let result = match r.pass {
            Some(true) => "pass",
            Some(false) => "MISS",
            None => "-",
        };
        let mut figure = match &r.note {
            Some(n) => format!("{} ({n})", r.figure),
            None => r.figure.clone(),
        };
        if r.runs > 1 {
            figure.push_str(&format!(", median of {}", r.runs));
        }
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            r.scenario,
            figure,
            cell(r.ours, &r.unit, r.ours_range),
            cell(r.baseline, &r.unit, None),
            r.ratio.map_or("n/a".into(), |x| match r.ratio_range {
                Some((lo, hi)) => format!("{x:.2}x ({lo:.2}-{hi:.2})"),
                None => format!("{x:.2}x"),
            }),
            r.target_text,
            result,
        ));
    }
    out
}

/// Where and how the run happened.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cpus: usize,
    pub cpu_model: String,
    pub memory_gib: f64,
    pub kernel: String,
}

impl Machine {
    pub fn detect() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_else(|| "unknown".into());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let mem_kb: f64 = meminfo
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        Machine {
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu_model,
            memory_gib: (mem_kb / 1024.0 / 1024.0 * 10.0).round() / 10.0,
            kernel,
        }
    }
}

/// The whole JSON document.
#[derive(Debug, Serialize)]
pub struct Results<'a> {
    pub command: String,
    pub quick: bool,
    pub machine: Machine,
    pub unix_time: u64,
    pub wall_seconds: f64,
    pub rows: &'a [Row],
}

pub fn write_json(path: &Path, results: &Results<'_>) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let text = serde_json::to_string_pretty(results).map_err(std::io::Error::other)?;
    std::fs::write(path, text + "\n")
}

/// Nearest-rank percentile of sorted values (`p` in 0..=100).
pub fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    // The small slack keeps float error (99.9 / 100 * 1000 = 999.0000001)
    // from moving the rank up by one.
    let rank = (p * sorted.len() as f64 / 100.0 - 1e-9).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let v: Vec<u64> = (1..=1000).collect();
        assert_eq!(percentile(&v, 50.0), Some(500));
        assert_eq!(percentile(&v, 99.0), Some(990));
        assert_eq!(percentile(&v, 99.9), Some(999));
        assert_eq!(percentile(&v, 100.0), Some(1000));
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[7], 99.9), Some(7));
    }

    #[test]
    fn rows_judge_their_targets() {
        let r = Row::new(
            "s",
            "p50",
            "us",
            Some(12.0),
            Some(10.0),
            Target::RatioAtMost(1.2),
        );
        assert_eq!(r.pass, Some(true));
        let r = Row::new(
            "s",
            "p50",
            "us",
            Some(13.0),
            Some(10.0),
            Target::RatioAtMost(1.2),
        );
        assert_eq!(r.pass, Some(false));
        let r = Row::new(
            "s",
            "rate",
            "/s",
            Some(7.0),
            Some(10.0),
            Target::RatioAtLeast(0.8),
        );
        assert_eq!(r.pass, Some(false));
        let r = Row::new("s", "mem", "KB", Some(25.0), None, Target::AtMost(20.0));
        assert_eq!(r.pass, Some(false));
        let r = Row::new("s", "x", "", None, Some(1.0), Target::RatioAtMost(1.0));
        assert_eq!(r.pass, None);
        assert!(table(&[r]).contains("n/a"));
    }

    #[test]
    fn runs_merge_into_medians_with_their_spread() {
        let run = |ours: f64, base: f64| {
            vec![
                Row::new(
                    "s",
                    "p50",
                    "us",
                    Some(ours),
                    Some(base),
                    Target::RatioAtMost(1.1),
                ),
                Row::new("s", "other", "", Some(1.0), None, Target::None),
            ]
        };
        let merged = merge_runs(vec![run(10.0, 10.0), run(30.0, 10.0), run(12.0, 12.0)]);
        assert_eq!(merged.len(), 2);
        let r = &merged[0];
        assert_eq!((r.ours, r.baseline, r.runs), (Some(12.0), Some(10.0), 3));
        // The ratios are 1.0, 3.0 and 1.0: the median is 1.0, not 12 / 10.
        assert_eq!(r.ratio, Some(1.0));
        assert_eq!(r.ours_range, Some((10.0, 30.0)));
        assert_eq!(r.ratio_range, Some((1.0, 3.0)));
        assert_eq!(r.pass, Some(true));
        assert!(table(&merged).contains("12.0 us (10.0-30.0)"));
        assert!(table(&merged).contains("median of 3"));
        // One failed run is reported as the failure.
        let failed = vec![Row::new("s", "set-up", "", None, None, Target::None).note("failed: x")];
        let merged = merge_runs(vec![run(10.0, 10.0), failed]);
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].note.as_deref(), Some("failed: x"));
        assert_eq!(merge_runs(vec![run(5.0, 10.0)])[0].ours_range, None);
    }
}
