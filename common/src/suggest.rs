//! Did-you-mean for misspelt keys and names.

/// Up to two entries of `known` close to `word` (Jaro-Winkler similarity
/// above 0.8), closest first.
pub fn close_matches<S: AsRef<str>>(word: &str, known: &[S]) -> Vec<String> {
    let mut v: Vec<(f64, &str)> = known
        .iter()
        .map(|k| (strsim::jaro_winkler(word, k.as_ref()), k.as_ref()))
        .filter(|(s, _)| *s > 0.8)
        .collect();
    v.sort_by(|a, b| b.0.total_cmp(&a.0));
    v.into_iter().take(2).map(|(_, k)| k.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_close_keys() {
        let keys = ["schema-version", "entry", "baselines"];
        assert_eq!(close_matches("entri", &keys), ["entry"]);
        assert!(close_matches("zzz", &keys).is_empty());
        assert_eq!(
            close_matches("flash-byts", &["flash-bytes", "ram-bytes"])[0],
            "flash-bytes"
        );
    }
}
