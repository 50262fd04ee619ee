//! The report of a workload's rounds: one row per contender, written as a
//! markdown heading and table.

use std::fmt;

use super::Spread;

/// One contender's results.
#[derive(Debug, Clone)]
pub struct Row {
    /// The contender's name.
    pub name: String,
    /// Elements in one run.
    pub elements: u64,
    /// Runs in each sample.
    pub runs_per_sample: u64,
    /// Seconds per run, over the rounds.
    pub time: Spread,
    /// Time per element divided by the baseline's in the same round; `None`
    /// for the baseline.
    pub ratio: Option<Spread>,
    /// Seconds per run minus the baseline's in the same round; `None` for
    /// the baseline.
    pub difference: Option<Spread>,
    /// Median heap allocations per element, when counted.
    pub allocations_per_element: Option<f64>,
    /// What a run returned, per element (bytes per event, say).
    pub output_per_element: Option<f64>,
    /// Whether the contender measured itself ([`Contender::self_timed`](super::Contender::self_timed)).
    pub self_timed: bool,
}

/// The results of a workload's rounds; its `Display` is a markdown heading
/// and table.
#[derive(Debug, Clone)]
pub struct Report {
    pub(super) name: String,
    pub(super) element: String,
    pub(super) output: Option<String>,
    pub(super) rounds: usize,
    /// Thread CPU time over wall time, over every sample, when timed by
    /// [`Clock::ThreadCpu`](super::Clock::ThreadCpu).
    pub(super) on_cpu: Option<Spread>,
    pub(super) show_difference: bool,
    pub(super) rows: Vec<Row>,
}

impl Report {
    /// One row per contender, the baseline first.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// The workload's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Adds a column with the median of the within-round differences to the
    /// baseline's time per run (for an overhead, where the difference is the
    /// answer).
    #[must_use]
    pub fn with_difference(mut self) -> Self {
        self.show_difference = true;
        self
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let baseline = &self.rows[0];
        let element = &self.element;
        let elements = plural(element);
        let self_timed = self.rows.iter().all(|row| row.self_timed);
        let same_size = self
            .rows
            .iter()
            .all(|row| row.elements == baseline.elements);
        write!(f, "### {}", self.name)?;
        if same_size && !self_timed {
            let unit = if baseline.elements == 1 {
                element
            } else {
                &elements
            };
            write!(f, ", {} {unit} per run", thousands(baseline.elements))?;
        }
        let rounds = self.rounds;
        let s = if rounds == 1 { "" } else { "s" };
        match self.on_cpu {
            Some(share) => writeln!(
                f,
                " ({rounds} round{s}, order varied; thread CPU time, on a CPU for {:.0}% of the wall time, median)\n",
                share.median * 100.0
            )?,
            None => writeln!(f, " ({rounds} round{s}, order varied)\n")?,
        }

        let mut header = vec!["contender".to_owned()];
        if self_timed {
            header.push("median of rounds (min–max)".to_owned());
        } else {
            header.push("time per run, median (min–max)".to_owned());
            header.push(format!("per {element}"));
            header.push(format!("{elements}/s"));
        }
        let allocations = baseline.allocations_per_element.is_some();
        if allocations {
            header.push(format!("allocations/{element}"));
        }
        if let Some(output) = &self.output {
            header.push(format!("{output}/{element}"));
        }
        let per = if self_timed {
            String::new()
        } else {
            format!(" per {element}")
        };
        header.push(format!("÷ {}{per}, median of rounds", baseline.name));
        header.push("IQR".to_owned());
        header.push("min–max".to_owned());
        if self.show_difference {
            header.push("− baseline per run, median".to_owned());
        }
        writeln!(f, "| {} |", header.join(" | "))?;
        let rule: Vec<&str> = (0..header.len())
            .map(|column| if column == 0 { "---" } else { "---:" })
            .collect();
        writeln!(f, "| {} |", rule.join(" | "))?;

        for row in &self.rows {
            let mut cells = Vec::with_capacity(header.len());
            cells.push(if same_size {
                row.name.clone()
            } else {
                format!("{} ({} {elements})", row.name, thousands(row.elements))
            });
            let range = format!(
                "{} ({}–{})",
                seconds(row.time.median),
                seconds(row.time.min),
                seconds(row.time.max)
            );
            cells.push(range);
            if !self_timed {
                let per_element = row.time.median / row.elements as f64;
                cells.push(seconds(per_element));
                cells.push(rate(1.0 / per_element));
            }
            if allocations {
                cells.push(
                    row.allocations_per_element
                        .map_or_else(String::new, allocations_text),
                );
            }
            if self.output.is_some() {
                cells.push(
                    row.output_per_element
                        .map_or_else(String::new, |output| format!("{output:.1}")),
                );
            }
            match &row.ratio {
                Some(ratio) => {
                    cells.push(format!("**{:.2}×**", ratio.median));
                    cells.push(format!("{:.2}–{:.2}×", ratio.q1, ratio.q3));
                    cells.push(format!("{:.2}–{:.2}×", ratio.min, ratio.max));
                }
                None => {
                    cells.push("1 (baseline)".to_owned());
                    cells.extend([String::new(), String::new()]);
                }
            }
            if self.show_difference {
                cells.push(
                    row.difference
                        .map_or_else(String::new, |difference| signed_seconds(difference.median)),
                );
            }
            writeln!(f, "| {} |", cells.join(" | "))?;
        }
        Ok(())
    }
}

/// The plural of an English noun, for the few this crate's workloads count
/// in ("event", "delivery", "publish").
pub(super) fn plural(noun: &str) -> String {
    if let Some(stem) = noun.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'o', 'u'])
    {
        format!("{stem}ies")
    } else if noun.ends_with(['s', 'x']) || noun.ends_with("sh") || noun.ends_with("ch") {
        format!("{noun}es")
    } else {
        format!("{noun}s")
    }
}

/// `1234567` as `1,234,567`.
pub(super) fn thousands(number: u64) -> String {
    let digits = number.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Seconds in the unit that gives three or four significant digits.
pub(super) fn seconds(value: f64) -> String {
    let (scaled, unit) = if value >= 1.0 {
        (value, "s")
    } else if value >= 1e-3 {
        (value * 1e3, "ms")
    } else if value >= 1e-6 {
        (value * 1e6, "µs")
    } else {
        (value * 1e9, "ns")
    };
    if scaled >= 100.0 {
        format!("{scaled:.1} {unit}")
    } else {
        format!("{scaled:.2} {unit}")
    }
}

pub(super) fn signed_seconds(value: f64) -> String {
    if value < 0.0 {
        format!("−{}", seconds(-value))
    } else {
        format!("+{}", seconds(value))
    }
}

pub(super) fn rate(per_second: f64) -> String {
    if per_second >= 1e9 {
        format!("{:.2} G", per_second / 1e9)
    } else if per_second >= 1e6 {
        format!("{:.2} M", per_second / 1e6)
    } else if per_second >= 1e3 {
        format!("{:.1} k", per_second / 1e3)
    } else {
        format!("{per_second:.0}")
    }
}

pub(super) fn allocations_text(per_element: f64) -> String {
    if per_element > 0.0 && per_element < 0.001 {
        "< 0.001".to_owned()
    } else {
        format!("{per_element:.3}")
    }
}
