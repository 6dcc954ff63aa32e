//! Numbers as zant prints them.

/// `1,546,176`; negatives keep their sign (`-1,024`).
pub fn thousands(n: impl Into<i128>) -> String {
    let n: i128 = n.into();
    let s = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn groups_by_three_with_the_sign() {
        assert_eq!(thousands(0u64), "0");
        assert_eq!(thousands(999u64), "999");
        assert_eq!(thousands(1_546_176u64), "1,546,176");
        assert_eq!(thousands(-1024i64), "-1,024");
        assert_eq!(thousands(u64::MAX), "18,446,744,073,709,551,615");
    }
}
