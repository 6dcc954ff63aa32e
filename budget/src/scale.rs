//! The suite at scale: shards across CI machines, cases in parallel on one
//! machine, and a JUnit report CI dashboards read.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};

use crate::{BudgetFile, Report, Verdict};

/// One part of a suite split across `count` machines: `--shard K/N`, the
/// `index`-th of `count` (both from 1). Entry `i` (0-based, in file order)
/// belongs to shard `i % count + 1`, so the split depends only on the file
/// and every entry runs on exactly one machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which part, from 1.
    pub index: usize,
    /// How many parts.
    pub count: usize,
}

/// Why a `--shard` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--shard `{given}`: {why} (e.g. `--shard 2/4`: the second of four parts)")]
pub struct ShardError {
    /// The value given.
    pub given: String,
    /// What is wrong with it.
    pub why: String,
}

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(s: &str) -> Result<Shard, ShardError> {
        let err = |why: &str| ShardError {
            given: s.to_string(),
            why: why.to_string(),
        };
        let (k, n) = s.split_once('/').ok_or_else(|| err("expected K/N"))?;
        let k: usize = k
            .trim()
            .parse()
            .map_err(|_| err("K must be a whole number"))?;
        let n: usize = n
            .trim()
            .parse()
            .map_err(|_| err("N must be a whole number"))?;
        if n == 0 {
            return Err(err("N must be at least 1"));
        }
        if k == 0 || k > n {
            return Err(err(&format!("K must be between 1 and {n}")));
        }
        Ok(Shard { index: k, count: n })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// True when entry `i` (0-based, file order) is this shard's.
    pub fn owns(&self, i: usize) -> bool {
        i % self.count == self.index - 1
    }
}

impl BudgetFile {
    /// The same budget with only `shard`'s entries.
    pub fn shard(&self, shard: Shard) -> BudgetFile {
        BudgetFile {
            entries: self
                .entries
                .iter()
                .enumerate()
                .filter(|(i, _)| shard.owns(*i))
                .map(|(_, e)| e.clone())
                .collect(),
            ..self.clone()
        }
    }
}

/// Runs `f` on every item with at most `jobs` at a time (at least one) and
/// returns the results in the items' order, whatever order they finished in.
pub fn run_parallel<T: Sync, R: Send>(
    items: &[T],
    jobs: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    let workers = jobs.clamp(1, items.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(item) = items.get(i) else { break };
                let r = f(item);
                results.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(r);
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .map(|r| r.expect("every item was run"))
        .collect()
}

/// A JUnit XML report of a check: one test suite named after the budget
/// file, one test case per entry. An entry whose limits hold passes; one over
/// a limit is a failure naming each metric with its figures; one that could
/// not be built or run is an error with the message. `times` gives each
/// entry's wall-clock time (build and run).
pub fn junit(
    budget: &BudgetFile,
    report: &Report,
    failed: &BTreeMap<String, String>,
    times: &BTreeMap<String, Duration>,
) -> String {
    let suite_name = budget.path.display().to_string();
    let mut suite = TestSuite::new(suite_name.as_str());
    let mut total = Duration::ZERO;
    for e in &budget.entries {
        let status = if let Some(msg) = failed.get(&e.name) {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            s.set_message(first_line(msg)).set_description(msg.as_str());
            s
        } else {
            let over: Vec<String> = report
                .rows
                .iter()
                .filter(|r| r.entry == e.name && r.verdict == Verdict::Over)
                .map(|r| {
                    format!(
                        "{}: {} > limit {} ({}; baseline {})",
                        r.what(),
                        r.now.unwrap_or(0),
                        r.limit_value.unwrap_or(0),
                        r.limit,
                        r.baseline
                            .map(|b| b.to_string())
                            .unwrap_or_else(|| "none".into())
                    )
                })
                .collect();
            if over.is_empty() {
                TestCaseStatus::success()
            } else {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(format!("over budget: {}", over.join("; ")))
                    .set_type("over-budget")
                    .set_description(over.join("\n"));
                s
            }
        };
        let mut case = TestCase::new(e.name.as_str(), status);
        case.set_classname(suite_name.as_str());
        if let Some(t) = times.get(&e.name) {
            case.set_time(*t);
            total += *t;
        }
        suite.add_test_case(case);
    }
    suite.set_time(total);
    let mut r = quick_junit::Report::new("zant budget check");
    r.add_test_suite(suite);
    r.to_string().unwrap_or_else(|e| {
        // Serialising to memory fails only on invalid UTF-8, which these
        // strings cannot hold; say so in the file rather than panic.
        format!("<!-- zant could not write the JUnit report: {e} -->\n")
    })
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{check, Baselines, Measurement};
    use std::path::Path;

    fn budget(n: usize) -> BudgetFile {
        let mut text = String::from("schema-version = 1\n");
        for i in 0..n {
            text.push_str(&format!(
                "[[entry]]\nname = \"e{i}\"\nmodel = \"m.onnx\"\nboard = \"qemu-mps2-an386\"\nflash-bytes = 1000\n"
            ));
        }
        BudgetFile::parse(&text, Path::new("suite.toml")).unwrap()
    }

    #[test]
    fn shards_split_every_entry_exactly_once() {
        let b = budget(7);
        let mut seen: Vec<String> = Vec::new();
        for k in 1..=3 {
            let s: Shard = format!("{k}/3").parse().unwrap();
            seen.extend(b.shard(s).entries.into_iter().map(|e| e.name));
        }
        seen.sort();
        let mut all: Vec<String> = b.entries.iter().map(|e| e.name.clone()).collect();
        all.sort();
        assert_eq!(seen, all);
        let first: Vec<String> = b
            .shard("1/3".parse().unwrap())
            .entries
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(first, ["e0", "e3", "e6"]);
    }

    #[test]
    fn bad_shards_say_why() {
        for (s, why) in [
            ("3", "expected K/N"),
            ("0/2", "between 1 and 2"),
            ("3/2", "between 1 and 2"),
            ("1/0", "at least 1"),
            ("a/2", "whole number"),
        ] {
            let e = s.parse::<Shard>().unwrap_err();
            assert!(e.to_string().contains(why), "{s}: {e}");
        }
    }

    #[test]
    fn parallel_results_keep_the_items_order() {
        let items: Vec<u64> = (0..20).collect();
        let out = run_parallel(&items, 4, |&i| {
            std::thread::sleep(Duration::from_millis((20 - i) * 2));
            i * 10
        });
        assert_eq!(out, items.iter().map(|i| i * 10).collect::<Vec<_>>());
        assert!(run_parallel(&[] as &[u64], 3, |&i| i).is_empty());
    }

    #[test]
    fn junit_has_a_case_per_entry_with_failures_and_errors() {
        let b = budget(3);
        let m = |flash| Measurement {
            flash_bytes: flash,
            ..Default::default()
        };
        let measured = BTreeMap::from([("e0".to_string(), m(900)), ("e1".to_string(), m(1200))]);
        let report = check(&b, &Baselines::default(), &measured);
        let failed = BTreeMap::from([(
            "e2".to_string(),
            "entry `e2`: cannot load model\nmore".to_string(),
        )]);
        let times = BTreeMap::from([("e0".to_string(), Duration::from_millis(1500))]);
        let xml = junit(&b, &report, &failed, &times);
        assert!(xml.contains(r#"tests="3""#), "{xml}");
        assert!(xml.contains(r#"failures="1""#), "{xml}");
        assert!(xml.contains(r#"errors="1""#), "{xml}");
        assert!(xml.contains("flash-bytes: 1200 &gt; limit 1000"), "{xml}");
        assert!(xml.contains(r#"time="1.500""#), "{xml}");
    }
}
