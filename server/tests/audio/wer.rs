//! Word error rate: (substitutions + deletions + insertions) / reference
//! words, after the usual normalisation (as Whisper's own English
//! normaliser does): lower case, no punctuation, hyphenated words split,
//! "Mr." read as "mister". "coldhearted" against "cold hearted" still
//! counts as errors.

pub fn words(text: &str) -> Vec<String> {
    text.replace('-', " ")
        .split_whitespace()
        .map(|word| {
            word.chars()
                .filter(|c| c.is_alphanumeric() || *c == '\'')
                .flat_map(char::to_lowercase)
                .collect::<String>()
        })
        .filter(|word| !word.is_empty())
        .map(|word| match word.as_str() {
            "mr" => "mister".to_owned(),
            _ => word,
        })
        .collect()
}

/// Edit distance in words between `reference` and `hypothesis`.
pub fn word_errors(reference: &str, hypothesis: &str) -> (usize, usize) {
    let (reference, hypothesis) = (words(reference), words(hypothesis));
    let mut previous: Vec<usize> = (0..=hypothesis.len()).collect();
    for (i, want) in reference.iter().enumerate() {
        let mut current = vec![i + 1; hypothesis.len() + 1];
        for (j, got) in hypothesis.iter().enumerate() {
            let substitution = previous[j] + usize::from(want != got);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    (previous[hypothesis.len()], reference.len())
}

pub fn word_error_rate(reference: &str, hypothesis: &str) -> f64 {
    let (errors, total) = word_errors(reference, hypothesis);
    errors as f64 / total.max(1) as f64
}

#[test]
fn word_error_rate_counts_substitutions_deletions_and_insertions() {
    assert_eq!(word_error_rate("he was not ill", "He was not ill."), 0.0);
    assert_eq!(word_error_rate("he was not ill", "he was ill"), 0.25);
    assert_eq!(word_error_rate("he was not ill", "she was not ill"), 0.25);
    assert_eq!(
        word_error_rate("he was not ill", "he was not very ill"),
        0.25
    );
    assert_eq!(word_error_rate("a b", "c d e f"), 2.0);
    assert_eq!(word_error_rate("one two three four", ""), 1.0);
    assert_eq!(word_errors("mister john", "Mr. John"), (0, 2));
    assert_eq!(
        word_errors("to be ill disposed", "to be ill-disposed."),
        (0, 4)
    );
    assert_eq!(word_errors("cold hearted", "coldhearted"), (2, 2));
}
