//! Figures from one scenario run, and the side-by-side table.

/// One measured figure.
#[derive(Debug, Clone)]
pub struct Figure {
    pub name: String,
    pub value: f64,
    pub unit: &'static str,
}

impl Figure {
    pub fn new(name: impl Into<String>, value: f64, unit: &'static str) -> Self {
        Self {
            name: name.into(),
            value,
            unit,
        }
    }
}

fn show(value: f64, unit: &str) -> String {
    if value >= 100.0 || value == value.trunc() {
        format!("{value:.0} {unit}")
    } else {
        format!("{value:.2} {unit}")
    }
}

/// What one run of a scenario on one server gave.
#[derive(Debug, Clone)]
pub enum Outcome {
    Measured(Vec<Figure>),
    /// Still not done when the time cap ran out: the time is a lower bound,
    /// and so is the server's peak memory until then (MiB).
    TimedOut {
        cap: std::time::Duration,
        peak_memory: f64,
    },
    NotRun,
}

/// One scenario's outcome on Fieldbook and on each reference server.
pub struct Row {
    pub scenario: String,
    pub fieldbook: Outcome,
    /// automerge-repo's Node sync server.
    pub reference: Outcome,
    pub samod: Outcome,
}

/// The figure a run stopped at the time cap still has, as a lower bound.
pub const PEAK_MEMORY: &str = "server peak memory";

/// Prints one markdown table: each figure for Fieldbook and each reference
/// server, and how many times lower Fieldbook's is than each reference's
/// (every figure is lower-is-better).
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| scenario | measure | fieldbook | reference | reference ÷ fieldbook | samod | samod ÷ fieldbook |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for row in rows {
        let names: Vec<&Figure> = [&row.fieldbook, &row.reference, &row.samod]
            .into_iter()
            .find_map(|outcome| match outcome {
                Outcome::Measured(figures) => Some(figures.iter().collect()),
                _ => None,
            })
            .unwrap_or_default();
        for (i, figure) in names.iter().enumerate() {
            let mut line = format!(
                "| {} | {} | {} |",
                row.scenario,
                figure.name,
                cell(&row.fieldbook, i, &figure.name)
            );
            for theirs in [&row.reference, &row.samod] {
                line.push_str(&format!(
                    " {} | {} |",
                    cell(theirs, i, &figure.name),
                    ratio(&row.fieldbook, theirs, i, &figure.name)
                ));
            }
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

/// How many times a reference's figure is Fieldbook's, or a lower bound on
/// it when the reference was stopped at the time cap.
fn ratio(ours: &Outcome, theirs: &Outcome, i: usize, name: &str) -> String {
    match (ours, theirs) {
        (Outcome::Measured(f), _) if f[i].value <= 0.0 => "–".to_owned(),
        (Outcome::Measured(f), Outcome::Measured(r)) => format!("{:.1}×", r[i].value / f[i].value),
        (Outcome::Measured(f), Outcome::TimedOut { cap, .. }) if i == 0 => {
            format!("> {:.1}×", cap.as_secs_f64() * 1e3 / f[0].value)
        }
        (Outcome::Measured(f), Outcome::TimedOut { peak_memory, .. }) if name == PEAK_MEMORY => {
            format!("≥ {:.1}×", peak_memory / f[i].value)
        }
        _ => "–".to_owned(),
    }
}

fn cell(outcome: &Outcome, i: usize, name: &str) -> String {
    match outcome {
        Outcome::Measured(figures) => show(figures[i].value, figures[i].unit),
        Outcome::TimedOut { cap, .. } if i == 0 => {
            format!("not done in {:.0} s", cap.as_secs_f64())
        }
        Outcome::TimedOut { peak_memory, .. } if name == PEAK_MEMORY => {
            format!("≥ {} by then", show(*peak_memory, "MiB"))
        }
        _ => "–".to_owned(),
    }
}

/// The value at quantile `q` (0..=1) of sorted `values`.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[rank]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_pick_by_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&values, 0.5), 51.0);
        assert_eq!(quantile(&values, 0.99), 99.0);
        assert_eq!(quantile(&values, 1.0), 100.0);
        assert_eq!(quantile(&[], 0.5), 0.0);
    }

    #[test]
    fn table_shows_the_ratio() {
        let ours = Outcome::Measured(vec![
            Figure::new("time", 100.0, "ms"),
            Figure::new(PEAK_MEMORY, 40.0, "MiB"),
        ]);
        let theirs = Outcome::Measured(vec![
            Figure::new("time", 500.0, "ms"),
            Figure::new(PEAK_MEMORY, 200.0, "MiB"),
        ]);
        let faster = Outcome::Measured(vec![
            Figure::new("time", 50.0, "ms"),
            Figure::new(PEAK_MEMORY, 80.0, "MiB"),
        ]);
        let text = table(&[Row {
            scenario: "sync".into(),
            fieldbook: ours.clone(),
            reference: theirs,
            samod: faster,
        }]);
        assert!(
            text.contains("| sync | time | 100 ms | 500 ms | 5.0× | 50 ms | 0.5× |"),
            "{text}"
        );
        let capped = table(&[Row {
            scenario: "sync".into(),
            fieldbook: ours,
            reference: Outcome::TimedOut {
                cap: std::time::Duration::from_secs(60),
                peak_memory: 300.0,
            },
            samod: Outcome::NotRun,
        }]);
        assert!(
            capped.contains("| 100 ms | not done in 60 s | > 600.0× | – | – |"),
            "{capped}"
        );
        assert!(
            capped.contains("| 40 MiB | ≥ 300 MiB by then | ≥ 7.5× | – | – |"),
            "{capped}"
        );
    }
}
