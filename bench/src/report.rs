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

/// One scenario's figures for Fieldbook and, if measured, the reference.
pub struct Row {
    pub scenario: String,
    pub fieldbook: Vec<Figure>,
    pub reference: Option<Vec<Figure>>,
}

/// Prints one markdown table: each figure for Fieldbook and the reference,
/// and how many times lower Fieldbook's is (every figure is lower-is-better).
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from("| scenario | measure | fieldbook | reference | reference ÷ fieldbook |\n|---|---|---|---|---|\n");
    for row in rows {
        for (i, figure) in row.fieldbook.iter().enumerate() {
            let other = row.reference.as_ref().and_then(|t| t.get(i));
            let (their_text, ratio) = match other {
                Some(other) if figure.value > 0.0 => (
                    show(other.value, other.unit),
                    format!("{:.1}×", other.value / figure.value),
                ),
                Some(other) => (show(other.value, other.unit), "–".to_owned()),
                None => ("–".to_owned(), "–".to_owned()),
            };
            out.push_str(&format!(
                "| {} | {} | {} | {their_text} | {ratio} |\n",
                row.scenario,
                figure.name,
                show(figure.value, figure.unit)
            ));
        }
    }
    out
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
        let ours = vec![Figure::new("time", 100.0, "ms")];
        let theirs = Some(vec![Figure::new("time", 500.0, "ms")]);
        let text = table(&[Row {
            scenario: "sync".into(),
            fieldbook: ours,
            reference: theirs,
        }]);
        assert!(
            text.contains("| sync | time | 100 ms | 500 ms | 5.0× |"),
            "{text}"
        );
    }
}
