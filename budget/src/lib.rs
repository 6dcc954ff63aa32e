//! zant-budget: size and speed budgets for CI.
//!
//! A budget file (TOML, in the user's repository) lists model × board
//! entries with limits on flash, RAM, arena and instructions per inference,
//! each absolute (`65536`) or relative to a recorded baseline
//! (`"baseline + 2%"`). Baselines are written by `zant budget update` into a
//! JSON file beside the budget, with the size of every symbol of the
//! firmware, so a check can say which symbols grew.
//!
//! This crate holds the data, the comparison and the rendering; measuring is
//! done by the caller (firmware build + footprint + QEMU run).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod exit;
mod scale;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use scale::{junit, run_parallel, Shard, ShardError};

/// Errors of budget files.
#[derive(Debug, thiserror::Error)]
pub enum BudgetError {
    /// I/O.
    #[error("cannot read {path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// Not TOML.
    #[error("{}: {source}", .path.display())]
    Toml {
        /// File.
        path: PathBuf,
        /// The TOML parser's account, with line and column.
        #[source]
        source: toml::de::Error,
    },
    /// TOML that breaks the budget file's schema; every problem is listed.
    #[error("{}: {message}", .path.display())]
    Invalid {
        /// File.
        path: PathBuf,
        /// The problems.
        message: String,
    },
    /// A baselines file that is not valid baselines JSON.
    #[error("{}: {source}", .path.display())]
    BaselinesJson {
        /// File.
        path: PathBuf,
        /// The JSON parser's account.
        #[source]
        source: serde_json::Error,
    },
    /// Relative limits (`"baseline + 2%"`) of some entries have no recorded
    /// baseline to be relative to: the check could never fail, so it refuses.
    #[error("{}", missing_baseline_message(.path, .exists, .entries))]
    MissingBaseline {
        /// The budget file.
        budget: PathBuf,
        /// The baselines file that was looked for.
        path: PathBuf,
        /// Whether that file exists (it then lacks these entries).
        exists: bool,
        /// `entry metric` pairs whose relative limit has no baseline.
        entries: Vec<String>,
    },
    /// An ELF could not be read.
    #[error("cannot read the symbols of {}: {source}", .path.display())]
    ReadElf {
        /// File.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// An ELF could not be parsed.
    #[error("cannot read the symbols of {}: {source}", .path.display())]
    Elf {
        /// File.
        path: PathBuf,
        /// Cause.
        #[source]
        source: zant_common::elf::ElfError,
    },
}

impl BudgetError {
    /// What to do about the error, kept apart from its message (`None`
    /// when zant has no advice for it).
    pub fn help(&self) -> Option<String> {
        match self {
            BudgetError::MissingBaseline { budget, .. } => Some(format!("run `zant budget update {}` to record the baselines (and commit the file), or fix `baselines = …` in {} if it names the wrong file", budget.display(), budget.display())),
            _ => None,
        }
    }
}

fn missing_baseline_message(path: &Path, exists: &bool, entries: &[String]) -> String {
    let what = if *exists {
        format!("{} has no baseline for", path.display())
    } else {
        format!(
            "the baselines file {} does not exist, and it is needed by",
            path.display()
        )
    };
    format!("{what} the relative limits of {}", entries.join(", "))
}

/// A limit on one metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    /// At most this many (bytes or instructions).
    Absolute(u64),
    /// At most the baseline plus this many percent.
    BaselinePlus(f64),
}

impl Limit {
    /// Parses `65536`, `"64 KiB"`, `"baseline"`, `"baseline + 2%"`.
    pub fn parse(v: &toml::Value) -> Result<Limit, String> {
        match v {
            toml::Value::Integer(i) if *i >= 0 => Ok(Limit::Absolute(*i as u64)),
            toml::Value::String(s) => {
                let t: String = s
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect::<String>()
                    .to_lowercase();
                if let Some(rest) = t.strip_prefix("baseline") {
                    if rest.is_empty() {
                        return Ok(Limit::BaselinePlus(0.0));
                    }
                    let pct = rest
                        .strip_prefix('+')
                        .and_then(|r| r.strip_suffix('%'))
                        .and_then(|r| r.parse::<f64>().ok())
                        .filter(|p| *p >= 0.0)
                        .ok_or_else(|| format!("`{s}`: expected \"baseline + N%\""))?;
                    return Ok(Limit::BaselinePlus(pct));
                }
                let (num, mul) = if let Some(n) = t.strip_suffix("kib") {
                    (n, 1024)
                } else if let Some(n) = t.strip_suffix("mib") {
                    (n, 1024 * 1024)
                } else if let Some(n) = t.strip_suffix('k') {
                    (n, 1024)
                } else {
                    (t.as_str(), 1)
                };
                num.parse::<u64>()
                    .map(|n| Limit::Absolute(n * mul))
                    .map_err(|_| {
                        format!("`{s}`: expected a number, \"64 KiB\" or \"baseline + N%\"")
                    })
            }
            other => Err(format!(
                "expected a number or a string, found {}",
                other.type_str()
            )),
        }
    }

    /// The limit's value given a baseline (`None` without one for a relative limit).
    pub fn resolve(&self, baseline: Option<u64>) -> Option<u64> {
        match *self {
            Limit::Absolute(v) => Some(v),
            Limit::BaselinePlus(p) => {
                baseline.map(|b| (b as f64 * (1.0 + p / 100.0)).floor() as u64)
            }
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::Absolute(v) => write!(f, "{v}"),
            Limit::BaselinePlus(p) if *p == 0.0 => write!(f, "baseline"),
            Limit::BaselinePlus(p) => write!(f, "baseline + {p}%"),
        }
    }
}

/// The metrics a budget can limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Flash bytes.
    FlashBytes,
    /// Static RAM bytes.
    RamBytes,
    /// Arena bytes.
    ArenaBytes,
    /// Instructions per inference (QEMU boards).
    Instructions,
    /// Instructions of one node of the model (QEMU boards; measured on the
    /// profiling build, which has a marker between nodes). Set per node in
    /// an entry's `[entry.node-instructions]` table.
    NodeInstructions,
}

impl Metric {
    /// Every metric, in table order.
    pub const ALL: [Metric; 4] = [
        Metric::FlashBytes,
        Metric::RamBytes,
        Metric::ArenaBytes,
        Metric::Instructions,
    ];

    /// Key in the budget file.
    pub fn key(self) -> &'static str {
        match self {
            Metric::FlashBytes => "flash-bytes",
            Metric::RamBytes => "ram-bytes",
            Metric::ArenaBytes => "arena-bytes",
            Metric::Instructions => "instructions",
            Metric::NodeInstructions => "node-instructions",
        }
    }

    fn unit(self) -> &'static str {
        match self {
            Metric::Instructions | Metric::NodeInstructions => "",
            _ => " B",
        }
    }
}

/// One model × board entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Unique name (defaults to `model@board`).
    pub name: String,
    /// Model path (relative to the budget file).
    pub model: PathBuf,
    /// Board name, alias or TOML path.
    pub board: String,
    /// Limits by metric.
    pub limits: BTreeMap<Metric, Limit>,
    /// Limits on single nodes' instructions, by node name (of the compiled
    /// graph, as `zant bench --profile` names them).
    pub node_limits: BTreeMap<String, Limit>,
    /// Input tensor to compile in (raw little-endian; relative to the budget file).
    pub input: Option<PathBuf>,
    /// Expected outputs to check on the target (raw little-endian).
    pub expect: Option<PathBuf>,
    /// Largest absolute difference from `expect` a float output may have
    /// (`tolerance = 0.0039`: one quantization step of an int8 model's
    /// dequantized output); `None` for the default of `zant run`.
    pub tolerance: Option<f64>,
}

/// A parsed budget file.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// Entries in file order.
    pub entries: Vec<Entry>,
    /// Baselines file, relative to the budget file (`baselines = "…"`),
    /// default `<stem>.baseline.json` beside it.
    pub baselines: Option<PathBuf>,
}

/// JSON Schema of the budget file, for editors.
pub const SCHEMA: &str = include_str!("../schema/budget.schema.json");

fn did_you_mean(key: &str, known: &[&str]) -> String {
    match zant_common::suggest::close_matches(key, known).first() {
        Some(k) => format!(" (did you mean `{k}`?)"),
        None => format!(" (known keys: {})", known.join(", ")),
    }
}

impl BudgetFile {
    /// Reads and validates a budget file; every problem is reported at once.
    pub fn load(path: &Path) -> Result<BudgetFile, BudgetError> {
        let text = std::fs::read_to_string(path).map_err(|source| BudgetError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses budget TOML text.
    pub fn parse(text: &str, path: &Path) -> Result<BudgetFile, BudgetError> {
        let invalid = |message: String| BudgetError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let doc: toml::Table =
            text.parse()
                .map_err(|source: toml::de::Error| BudgetError::Toml {
                    path: path.to_path_buf(),
                    source,
                })?;
        let mut problems = Vec::new();
        for k in doc.keys() {
            if k != "schema-version" && k != "entry" && k != "baselines" {
                problems.push(format!(
                    "unknown key `{k}`{}",
                    did_you_mean(k, &["schema-version", "entry", "baselines"])
                ));
            }
        }
        match doc.get("schema-version") {
            Some(toml::Value::Integer(1)) => {}
            Some(v) => problems.push(format!(
                "schema-version {v} is not supported (this zant reads 1)"
            )),
            None => problems.push("missing `schema-version = 1`".into()),
        }
        let mut entries = Vec::new();
        let list = match doc.get("entry") {
            Some(toml::Value::Array(a)) => a.clone(),
            Some(_) => {
                problems.push("`entry` must be an array of tables: [[entry]]".into());
                vec![]
            }
            None => {
                problems.push("no [[entry]] tables".into());
                vec![]
            }
        };
        const KEYS: [&str; 11] = [
            "node-instructions",
            "input",
            "tolerance",
            "expect",
            "name",
            "model",
            "board",
            "flash-bytes",
            "ram-bytes",
            "arena-bytes",
            "instructions",
        ];
        for (i, e) in list.iter().enumerate() {
            let Some(t) = e.as_table() else {
                problems.push(format!("entry {}: not a table", i + 1));
                continue;
            };
            let at = |k: &str| format!("entry {} key `{k}`", i + 1);
            for k in t.keys() {
                if !KEYS.contains(&k.as_str()) {
                    problems.push(format!("{}: unknown key{}", at(k), did_you_mean(k, &KEYS)));
                }
            }
            let s = |k: &str| t.get(k).and_then(|v| v.as_str()).map(str::to_string);
            let (Some(model), Some(board)) = (s("model"), s("board")) else {
                problems.push(format!(
                    "entry {}: `model` and `board` (strings) are required",
                    i + 1
                ));
                continue;
            };
            let mut limits = BTreeMap::new();
            for m in Metric::ALL {
                if let Some(v) = t.get(m.key()) {
                    match Limit::parse(v) {
                        Ok(l) => {
                            limits.insert(m, l);
                        }
                        Err(msg) => problems.push(format!("{}: {msg}", at(m.key()))),
                    }
                }
            }
            let mut node_limits = BTreeMap::new();
            match t.get("node-instructions") {
                None => {}
                Some(toml::Value::Table(nodes)) => {
                    for (node, v) in nodes {
                        match Limit::parse(v) {
                            Ok(l) => {
                                node_limits.insert(node.clone(), l);
                            }
                            Err(msg) => problems.push(format!(
                                "{} node `{node}`: {msg}",
                                at("node-instructions")
                            )),
                        }
                    }
                    if nodes.is_empty() {
                        problems.push(format!("{}: an empty table (name at least one node: `Convolution110 = \"baseline + 2%\"`)", at("node-instructions")));
                    }
                }
                Some(_) => problems.push(format!(
                    "{}: expected a table of node = limit (`[entry.node-instructions]` or `node-instructions = {{ Convolution110 = \"baseline + 2%\" }}`)",
                    at("node-instructions")
                )),
            }
            if limits.is_empty() && node_limits.is_empty() {
                problems.push(format!("entry {}: no limits (set at least one of flash-bytes, ram-bytes, arena-bytes, instructions, node-instructions)", i + 1));
            }
            let name = s("name").unwrap_or_else(|| {
                format!(
                    "{}@{board}",
                    Path::new(&model)
                        .file_stem()
                        .unwrap_or_default()
                        .to_string_lossy()
                )
            });
            if entries.iter().any(|e: &Entry| e.name == name) {
                problems.push(format!("entry {}: name `{name}` is used twice", i + 1));
            }
            let tolerance = match t.get("tolerance") {
                None => None,
                Some(v) => match v.as_float().or_else(|| v.as_integer().map(|i| i as f64)) {
                    Some(x) if x.is_finite() && x >= 0.0 => Some(x),
                    _ => {
                        problems.push(format!(
                            "{}: must be a finite number ≥ 0 (e.g. 0.0039, one step of an int8 output)",
                            at("tolerance")
                        ));
                        None
                    }
                },
            };
            entries.push(Entry {
                tolerance,
                name,
                model: PathBuf::from(model),
                board,
                limits,
                node_limits,
                input: s("input").map(PathBuf::from),
                expect: s("expect").map(PathBuf::from),
            });
        }
        let baselines = doc
            .get("baselines")
            .and_then(|v| v.as_str())
            .map(PathBuf::from);
        if problems.is_empty() {
            Ok(BudgetFile {
                path: path.to_path_buf(),
                entries,
                baselines,
            })
        } else {
            Err(invalid(format!(
                "{} problem(s):\n  - {}",
                problems.len(),
                problems.join("\n  - ")
            )))
        }
    }

    /// The model path of an entry, resolved against the budget file's folder.
    pub fn model_path(&self, e: &Entry) -> PathBuf {
        self.path.parent().unwrap_or(Path::new(".")).join(&e.model)
    }

    /// A path of an entry (input, expect), resolved against the budget file's folder.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        self.path.parent().unwrap_or(Path::new(".")).join(p)
    }

    /// Checks that every relative limit has a baseline to be relative to.
    ///
    /// A relative limit without a baseline can never fail, so a missing or
    /// mistyped baselines file (or an entry added without `zant budget
    /// update`) is an error naming the file and the fix, found before anything
    /// is built.
    pub fn require_baselines(&self, baselines: &Baselines) -> Result<(), BudgetError> {
        let mut missing = Vec::new();
        for e in &self.entries {
            for (metric, limit) in &e.limits {
                let Limit::BaselinePlus(_) = limit else {
                    continue;
                };
                let has = baselines
                    .entries
                    .get(&e.name)
                    .is_some_and(|b| b.get(*metric).is_some());
                if !has {
                    missing.push(format!("`{}` {}", e.name, metric.key()));
                }
            }
            for (node, limit) in &e.node_limits {
                let Limit::BaselinePlus(_) = limit else {
                    continue;
                };
                let has = baselines
                    .entries
                    .get(&e.name)
                    .is_some_and(|b| b.node_instructions.contains_key(node));
                if !has {
                    missing.push(format!("`{}` node-instructions of `{node}`", e.name));
                }
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        let path = self.baseline_path();
        Err(BudgetError::MissingBaseline {
            budget: self.path.clone(),
            exists: path.exists(),
            path,
            entries: missing,
        })
    }

    /// Where the baselines of this budget live (`baselines = …` or `<file stem>.baseline.json`).
    pub fn baseline_path(&self) -> PathBuf {
        if let Some(b) = &self.baselines {
            return self.resolve(b);
        }
        let stem = self.path.file_stem().unwrap_or_default().to_string_lossy();
        self.path.with_file_name(format!("{stem}.baseline.json"))
    }
}

/// Measured figures of one entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// Flash bytes.
    pub flash_bytes: u64,
    /// Static RAM bytes.
    pub ram_bytes: u64,
    /// Arena bytes.
    pub arena_bytes: u64,
    /// Instructions per inference (QEMU boards).
    pub instructions: Option<u64>,
    /// Size of every symbol of the firmware, by demangled name.
    #[serde(default)]
    pub symbols: BTreeMap<String, u64>,
    /// Instructions of each node, by name, from the profiling build
    /// (recorded for entries with per-node limits only).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_instructions: BTreeMap<String, u64>,
}

impl Measurement {
    /// Value of a metric.
    pub fn get(&self, m: Metric) -> Option<u64> {
        match m {
            Metric::FlashBytes => Some(self.flash_bytes),
            Metric::RamBytes => Some(self.ram_bytes),
            Metric::ArenaBytes => Some(self.arena_bytes),
            Metric::Instructions => self.instructions,
            Metric::NodeInstructions => None,
        }
    }
}

/// Recorded baselines, by entry name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Baselines {
    /// Format version.
    pub version: u32,
    /// Baselines by entry name.
    pub entries: BTreeMap<String, Measurement>,
}

impl Baselines {
    /// Reads baselines; a missing file means none (see
    /// [`BudgetFile::require_baselines`] for the check that needs them).
    pub fn load(path: &Path) -> Result<Baselines, BudgetError> {
        match std::fs::read_to_string(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Baselines {
                version: 1,
                entries: BTreeMap::new(),
            }),
            Err(source) => Err(BudgetError::Io {
                path: path.to_path_buf(),
                source,
            }),
            Ok(t) => serde_json::from_str(&t).map_err(|source| BudgetError::BaselinesJson {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Writes baselines (pretty JSON, stable order).
    pub fn save(&self, path: &Path) -> Result<(), BudgetError> {
        let text = serde_json::to_string_pretty(self).expect("baselines serialize") + "\n";
        std::fs::write(path, text).map_err(|source| BudgetError::Io {
            path: path.to_path_buf(),
            source,
        })
    }
}

/// Verdict of one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Within the limit.
    Ok,
    /// Over the limit.
    Over,
    /// Relative limit without a baseline, or metric not measured here.
    NoBaseline,
}

/// One row of the check table.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Entry name.
    pub entry: String,
    /// Metric.
    pub metric: Metric,
    /// The node, for `node-instructions`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// Baseline value.
    pub baseline: Option<u64>,
    /// Measured value.
    pub now: Option<u64>,
    /// now − baseline.
    pub change: Option<i64>,
    /// Change in percent of the baseline.
    pub change_percent: Option<f64>,
    /// The limit as written.
    pub limit: String,
    /// The limit's value.
    pub limit_value: Option<u64>,
    /// Verdict.
    pub verdict: Verdict,
}

impl Row {
    /// The metric as the tables name it: `instructions`, or
    /// `node-instructions Convolution110` for one node.
    pub fn what(&self) -> String {
        match &self.node {
            Some(n) => format!("{} {n}", self.metric.key()),
            None => self.metric.key().to_string(),
        }
    }
}

/// A symbol whose size changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SymbolDelta {
    /// Demangled name.
    pub name: String,
    /// Size in the baseline (0 = new).
    pub old: u64,
    /// Size now (0 = removed).
    pub new: u64,
}

impl SymbolDelta {
    /// new − old.
    pub fn delta(&self) -> i64 {
        self.new as i64 - self.old as i64
    }
}

/// Symbol-level difference, largest growth first (then largest shrink).
pub fn symbol_diff(old: &BTreeMap<String, u64>, new: &BTreeMap<String, u64>) -> Vec<SymbolDelta> {
    let mut out: Vec<SymbolDelta> = old
        .keys()
        .chain(new.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|n| SymbolDelta {
            name: n.clone(),
            old: old.get(n).copied().unwrap_or(0),
            new: new.get(n).copied().unwrap_or(0),
        })
        .filter(|d| d.old != d.new)
        .collect();
    out.sort_by(|a, b| b.delta().cmp(&a.delta()).then(a.name.cmp(&b.name)));
    out
}

/// The result of a check.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// One row per entry and limited metric.
    pub rows: Vec<Row>,
    /// Per entry whose flash grew: the symbols that changed.
    pub symbol_diffs: BTreeMap<String, Vec<SymbolDelta>>,
}

impl Report {
    /// True when some limit is exceeded.
    pub fn over(&self) -> bool {
        self.rows.iter().any(|r| r.verdict == Verdict::Over)
    }
}

/// Compares measurements with the limits and baselines.
pub fn check(
    budget: &BudgetFile,
    baselines: &Baselines,
    measured: &BTreeMap<String, Measurement>,
) -> Report {
    let mut rows = Vec::new();
    let mut symbol_diffs = BTreeMap::new();
    for e in &budget.entries {
        let base = baselines.entries.get(&e.name);
        let now = measured.get(&e.name);
        let metrics = e.limits.iter().map(|(&m, l)| (m, None, l));
        let nodes = e
            .node_limits
            .iter()
            .map(|(n, l)| (Metric::NodeInstructions, Some(n.as_str()), l));
        for (metric, node, limit) in metrics.chain(nodes) {
            let value = |m: &Measurement| match node {
                Some(node) => m.node_instructions.get(node).copied(),
                None => m.get(metric),
            };
            let b = base.and_then(value);
            let n = now.and_then(value);
            let lv = limit.resolve(b);
            let change = match (b, n) {
                (Some(b), Some(n)) => Some(n as i64 - b as i64),
                _ => None,
            };
            let change_percent = match (b, change) {
                (Some(b), Some(c)) if b > 0 => Some(100.0 * c as f64 / b as f64),
                _ => None,
            };
            let verdict = match (n, lv) {
                (Some(n), Some(l)) if n > l => Verdict::Over,
                (Some(_), Some(_)) => Verdict::Ok,
                _ => Verdict::NoBaseline,
            };
            rows.push(Row {
                entry: e.name.clone(),
                metric,
                node: node.map(str::to_string),
                baseline: b,
                now: n,
                change,
                change_percent,
                limit: limit.to_string(),
                limit_value: lv,
                verdict,
            });
        }
        if let (Some(b), Some(n)) = (base, now) {
            if n.flash_bytes > b.flash_bytes {
                symbol_diffs.insert(e.name.clone(), symbol_diff(&b.symbols, &n.symbols));
            }
        }
    }
    Report { rows, symbol_diffs }
}

fn fmt_num(v: Option<u64>, m: Metric) -> String {
    match v {
        Some(v) => format!("{}{}", thousands(v as i128), m.unit()),
        None => "—".into(),
    }
}

fn fmt_change(r: &Row) -> String {
    match (r.change, r.change_percent) {
        (Some(c), Some(p)) => format!(
            "{}{}{} ({:+.2}%)",
            if c > 0 { "+" } else { "" },
            thousands(c as i128),
            r.metric.unit(),
            p
        ),
        (Some(c), None) => format!("{}{}", thousands(c as i128), r.metric.unit()),
        _ => "—".into(),
    }
}

/// `12,345` (with sign for negatives).
pub fn thousands(n: i128) -> String {
    zant_common::numfmt::thousands(n)
}

fn verdict_text(v: Verdict) -> &'static str {
    match v {
        Verdict::Ok => "ok",
        Verdict::Over => "OVER",
        Verdict::NoBaseline => "no baseline",
    }
}

/// Table cells of a report: header and rows (for any renderer).
pub fn table_cells(r: &Report) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let header = vec![
        "entry", "metric", "baseline", "now", "change", "limit", "verdict",
    ];
    let rows = r
        .rows
        .iter()
        .map(|row| {
            vec![
                row.entry.clone(),
                row.what(),
                fmt_num(row.baseline, row.metric),
                fmt_num(row.now, row.metric),
                fmt_change(row),
                match (row.limit_value, &row.limit) {
                    (Some(v), l) if l.starts_with("baseline") => {
                        format!("{} ({l})", fmt_num(Some(v), row.metric))
                    }
                    (Some(v), _) => fmt_num(Some(v), row.metric),
                    (None, l) => l.clone(),
                },
                verdict_text(row.verdict).to_string(),
            ]
        })
        .collect();
    (header, rows)
}

/// The symbols that changed, as lines `+1,234 B  name (old → new)`, at most `max`.
pub fn symbol_lines(d: &[SymbolDelta], max: usize) -> Vec<String> {
    d.iter()
        .take(max)
        .map(|s| {
            format!(
                "{:>10}  {} ({} → {})",
                format!(
                    "{}{} B",
                    if s.delta() > 0 { "+" } else { "" },
                    thousands(s.delta() as i128)
                ),
                s.name,
                thousands(s.old as i128),
                thousands(s.new as i128)
            )
        })
        .collect()
}

/// A Markdown summary fit for a pull-request comment.
pub fn markdown(r: &Report) -> String {
    let (header, rows) = table_cells(r);
    let mut s = String::new();
    let status = if r.over() {
        "❌ over budget"
    } else {
        "✅ within budget"
    };
    s.push_str(&format!("### zant size budget: {status}\n\n"));
    s.push_str(&format!("| {} |\n", header.join(" | ")));
    s.push_str(&format!(
        "|{}\n",
        header
            .iter()
            .map(|h| if *h == "entry" || *h == "metric" {
                "---|"
            } else {
                "---:|"
            })
            .collect::<String>()
    ));
    for row in rows {
        let mut cells = row;
        if cells[6] == "OVER" {
            cells[6] = "**OVER**".into();
        }
        s.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    for (entry, d) in &r.symbol_diffs {
        if d.is_empty() {
            continue;
        }
        s.push_str(&format!(
            "\n<details><summary>{entry}: symbols that changed ({} shown of {})</summary>\n\n```\n",
            d.len().min(20),
            d.len()
        ));
        for l in symbol_lines(d, 20) {
            s.push_str(&l);
            s.push('\n');
        }
        s.push_str("```\n</details>\n");
    }
    s
}

/// Sizes of the functions and data objects of an ELF, by demangled name
/// (hash suffix removed so names are stable across builds).
pub fn elf_symbols(path: &Path) -> Result<BTreeMap<String, u64>, BudgetError> {
    let data = std::fs::read(path).map_err(|source| BudgetError::ReadElf {
        path: path.to_path_buf(),
        source,
    })?;
    let elf = zant_common::elf::Elf::parse(&data).map_err(|source| BudgetError::Elf {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(elf.sizes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
schema-version = 1

[[entry]]
model = "examples/mnist-8.onnx"
board = "qemu-mps2-an386"
flash-bytes = "baseline + 1%"
ram-bytes = "64 KiB"
instructions = "baseline + 2%"
"#;

    fn meas(flash: u64, instr: u64) -> Measurement {
        Measurement {
            flash_bytes: flash,
            ram_bytes: 20_000,
            arena_bytes: 7_296,
            instructions: Some(instr),
            symbols: [("conv2d".to_string(), flash / 2), ("main".to_string(), 100)]
                .into_iter()
                .collect(),

            node_instructions: BTreeMap::new(),
        }
    }

    #[test]
    fn parses_limits() {
        let b = BudgetFile::parse(FILE, Path::new("zant-budget.toml")).unwrap();
        assert_eq!(b.entries[0].name, "mnist-8@qemu-mps2-an386");
        assert_eq!(
            b.entries[0].limits[&Metric::RamBytes],
            Limit::Absolute(65536)
        );
        assert_eq!(
            b.entries[0].limits[&Metric::FlashBytes],
            Limit::BaselinePlus(1.0)
        );
    }

    #[test]
    fn entry_tolerance_is_a_non_negative_number() {
        let entry = |t: &str| {
            format!("schema-version = 1\n[[entry]]\nmodel = \"m.onnx\"\nboard = \"b\"\nram-bytes = 1\n{t}")
        };
        let b = BudgetFile::parse(&entry("tolerance = 0.0039"), Path::new("b.toml")).unwrap();
        assert_eq!(b.entries[0].tolerance, Some(0.0039));
        let b = BudgetFile::parse(&entry(""), Path::new("b.toml")).unwrap();
        assert_eq!(b.entries[0].tolerance, None);
        for bad in [
            "tolerance = -1.0",
            "tolerance = \"one step\"",
            "tolerance = nan",
        ] {
            let e = BudgetFile::parse(&entry(bad), Path::new("b.toml"))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("`tolerance`: must be a finite number"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn every_problem_at_once() {
        let bad = "schema-version = 2\nentri = 1\n[[entry]]\nmodel = \"m.onnx\"\nboard = \"b\"\nflash-byts = 3\nram-bytes = \"lots\"\n";
        let e = BudgetFile::parse(bad, Path::new("b.toml"))
            .unwrap_err()
            .to_string();
        for want in [
            "schema-version 2",
            "`entri`",
            "did you mean `entry`",
            "did you mean `flash-bytes`",
            "`lots`",
        ] {
            assert!(e.contains(want), "missing {want:?} in {e}");
        }
    }

    #[test]
    fn relative_limits_need_a_baseline() {
        let dir = std::env::temp_dir().join(format!("zant-budget-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("zant-budget.toml");
        let text = format!("baselines = \"mistyped.json\"\n{FILE}");
        let b = BudgetFile::parse(&text, &path).unwrap();
        let none = Baselines::load(&b.baseline_path()).unwrap();
        let err = b.require_baselines(&none).unwrap_err();
        let help = err.help();
        assert!(
            help.as_deref()
                .is_some_and(|h| h.contains("zant budget update")),
            "{help:?}"
        );
        let e = err.to_string();
        assert!(
            !e.contains("help:"),
            "the help is apart from the message: {e}"
        );
        for want in [
            "mistyped.json does not exist",
            "`mnist-8@qemu-mps2-an386` flash-bytes",
            "`mnist-8@qemu-mps2-an386` instructions",
        ] {
            assert!(e.contains(want), "missing {want:?} in {e}");
        }
        // A file that exists but lacks the metric names it too.
        let name = b.entries[0].name.clone();
        let mut partial = meas(40_000, 1);
        partial.instructions = None;
        let some = Baselines {
            version: 1,
            entries: [(name, partial)].into_iter().collect(),
        };
        some.save(&b.baseline_path()).unwrap();
        let e = b.require_baselines(&some).unwrap_err().to_string();
        assert!(
            e.contains("has no baseline for") && e.contains("instructions"),
            "{e}"
        );
        assert!(!e.contains("flash-bytes"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn growth_past_the_limit_fails_with_symbols() {
        let b = BudgetFile::parse(FILE, Path::new("zant-budget.toml")).unwrap();
        let name = b.entries[0].name.clone();
        let base = Baselines {
            version: 1,
            entries: [(name.clone(), meas(40_000, 1_000_000))]
                .into_iter()
                .collect(),
        };
        let ok = check(
            &b,
            &base,
            &[(name.clone(), meas(40_200, 1_010_000))]
                .into_iter()
                .collect(),
        );
        assert!(!ok.over());
        let over = check(
            &b,
            &base,
            &[(name.clone(), meas(41_000, 1_000_000))]
                .into_iter()
                .collect(),
        );
        assert!(over.over());
        let row = over
            .rows
            .iter()
            .find(|r| r.metric == Metric::FlashBytes)
            .unwrap();
        assert_eq!(row.change, Some(1_000));
        assert!((row.change_percent.unwrap() - 2.5).abs() < 1e-9);
        assert_eq!(over.symbol_diffs[&name][0].name, "conv2d");
        let md = markdown(&over);
        assert!(
            md.contains("**OVER**") && md.contains("+1,000 B (+2.50%)") && md.contains("conv2d"),
            "{md}"
        );
    }

    const NODES: &str = r#"
schema-version = 1

[[entry]]
name = "mnist"
model = "examples/mnist-8.onnx"
board = "qemu-mps2-an386"
instructions = "baseline + 1%"

[entry.node-instructions]
Convolution110 = "baseline + 2%"
Gemm_7 = 9000
"#;

    fn nodes(conv: u64, gemm: u64) -> Measurement {
        Measurement {
            instructions: Some(1_546_176),
            node_instructions: [
                ("Convolution110".to_string(), conv),
                ("Gemm_7".to_string(), gemm),
            ]
            .into_iter()
            .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn a_slower_node_is_named_with_its_figure_limit_and_baseline() {
        let b = BudgetFile::parse(NODES, Path::new("suite.toml")).unwrap();
        let e = &b.entries[0];
        assert_eq!(e.node_limits["Convolution110"], Limit::BaselinePlus(2.0));
        assert_eq!(e.node_limits["Gemm_7"], Limit::Absolute(9000));
        // Relative node limits need the node's baseline.
        let none = Baselines::default();
        let err = b.require_baselines(&none).unwrap_err().to_string();
        assert!(
            err.contains("node-instructions of `Convolution110`"),
            "{err}"
        );
        assert!(
            !err.contains("Gemm_7"),
            "an absolute limit needs no baseline: {err}"
        );
        let base = Baselines {
            version: 1,
            entries: [("mnist".to_string(), nodes(1_000_000, 6_000))]
                .into_iter()
                .collect(),
        };
        b.require_baselines(&base).unwrap();
        let ok = check(
            &b,
            &base,
            &[("mnist".into(), nodes(1_019_000, 8_000))].into(),
        );
        assert!(!ok.over(), "{:?}", ok.rows);
        let slow = check(
            &b,
            &base,
            &[("mnist".into(), nodes(1_030_000, 8_000))].into(),
        );
        assert!(slow.over());
        let row = slow
            .rows
            .iter()
            .find(|r| r.verdict == Verdict::Over)
            .unwrap();
        assert_eq!(row.metric, Metric::NodeInstructions);
        assert_eq!(row.node.as_deref(), Some("Convolution110"));
        assert_eq!(
            (row.baseline, row.now, row.limit_value),
            (Some(1_000_000), Some(1_030_000), Some(1_020_000))
        );
        assert_eq!(row.what(), "node-instructions Convolution110");
        // The table, the Markdown, the JSON and the JUnit name the node, its
        // figure, the limit and the baseline.
        let (_, cells) = table_cells(&slow);
        let over = cells.iter().find(|c| c[6] == "OVER").unwrap();
        assert_eq!(over[1], "node-instructions Convolution110");
        assert_eq!(over[2], "1,000,000");
        assert_eq!(over[3], "1,030,000");
        assert!(over[5].starts_with("1,020,000 (baseline + 2%)"), "{over:?}");
        let md = markdown(&slow);
        assert!(
            md.contains("| mnist | node-instructions Convolution110 | 1,000,000 | 1,030,000 |"),
            "{md}"
        );
        let json = serde_json::to_value(&slow).unwrap();
        let j = json["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["verdict"] == "over")
            .unwrap();
        assert_eq!(j["metric"], "node_instructions");
        assert_eq!(j["node"], "Convolution110");
        assert_eq!(j["now"], 1_030_000);
        assert_eq!(j["limit_value"], 1_020_000);
        assert_eq!(j["baseline"], 1_000_000);
        let xml = crate::junit(&b, &slow, &BTreeMap::new(), &BTreeMap::new());
        assert!(
            xml.contains("node-instructions Convolution110: 1030000 &gt; limit 1020000 (baseline + 2%; baseline 1000000)")
                || xml.contains("node-instructions Convolution110: 1030000 > limit 1020000 (baseline + 2%; baseline 1000000)"),
            "{xml}"
        );
        // A row without a node carries no `node` key.
        let plain = json["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["metric"] == "instructions")
            .unwrap();
        assert!(plain.get("node").is_none());
        // Baselines keep the per-node counts.
        let text = serde_json::to_string(&base).unwrap();
        let back: Baselines = serde_json::from_str(&text).unwrap();
        assert_eq!(back, base);
    }

    #[test]
    fn node_limits_must_be_a_table_of_limits() {
        let bad = NODES.replace("Gemm_7 = 9000", "Gemm_7 = \"fast\"");
        let e = BudgetFile::parse(&bad, Path::new("s.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("entry 1 key `node-instructions` node `Gemm_7`"),
            "{e}"
        );
        let bad = "schema-version = 1\n[[entry]]\nmodel = \"m.onnx\"\nboard = \"b\"\nnode-instructions = 5\n";
        let e = BudgetFile::parse(bad, Path::new("s.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("expected a table of node = limit"), "{e}");
        // Node limits alone are limits.
        let only = "schema-version = 1\n[[entry]]\nmodel = \"m.onnx\"\nboard = \"b\"\nnode-instructions = { conv = 10 }\n";
        assert!(BudgetFile::parse(only, Path::new("s.toml")).is_ok());
    }
}
