//! "Did you mean": edit distance to the closest known spelling.

/// Levenshtein distance between two strings, by characters.
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The candidate closest to `wanted` (case-insensitively), if it is close enough to be a typo: at most 2 edits,
/// or a fifth of the word for long names (`DescribeAutoScalingGroup` → `DescribeAutoScalingGroups`).
pub fn closest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let wanted = wanted.to_ascii_lowercase();
    let limit = (wanted.chars().count() / 5).max(2);
    candidates
        .into_iter()
        .map(|c| (distance(&wanted, &c.to_ascii_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, c.len()))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_their_word() {
        assert_eq!(distance("kitten", "sitting"), 3);
        let actions = ["GetObject", "GetObjectAcl", "PutObject"];
        assert_eq!(closest("GetObjects", actions), Some("GetObject"));
        assert_eq!(closest("getobjectacll", actions), Some("GetObjectAcl"));
        assert_eq!(closest("DeleteBucketPolicy", actions), None);
    }
}
