//! Seeded mutation fuzzing of everything zant reads from users: ONNX models
//! (`examples/`, `../shared/models/`), board files (`boards/defs/`) and
//! budget files (`zant-budget.toml`, `tests/qemu-suite.toml`), through the
//! library entry points in-process: model load, board parse + validate,
//! budget parse. Mutations: truncations, bit flips, byte insertions and
//! deletions, and (TOML) value swaps. Asserts no panic, and no hang (a
//! watchdog ends the run when one input takes longer than the limit).
//!
//! `ZANT_FUZZ_COUNT` inputs (default 3,000 in the test suite;
//! `ci/fuzz.sh` runs 100,000), `ZANT_FUZZ_SEED` the seed.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Values a TOML mutation puts in place of another (types, limits, nonsense).
const VALUES: &[&str] = &[
    "0",
    "-1",
    "1",
    "4294967296",
    "18446744073709551615",
    "99999999999999999999999",
    "0xFFFF_FFFF",
    "1e309",
    "nan",
    "-inf",
    "0.5",
    "true",
    "\"\"",
    "\"x\"",
    "\"baseline + 2%\"",
    "\"baseline + -5%\"",
    "\"64 KiB\"",
    "\"../../../../etc/passwd\"",
    "\"FLASH\"",
    "\"cortex-m7\"",
    "[]",
    "[\"FLASH\", \"FLASH\"]",
    "{}",
    "{ name = \"X\" }",
    "1979-05-27T07:32:00Z",
];

/// One mutation of `seed`: a truncation, 1–8 bit flips, byte insertions or
/// deletions, or (TOML) a value swap.
fn mutate(rng: &mut Rng, seed: &[u8], toml: bool) -> (Vec<u8>, &'static str) {
    let mut b = seed.to_vec();
    let kinds = if toml { 5 } else { 4 };
    match rng.below(kinds) {
        0 => {
            b.truncate(rng.below(b.len()));
            (b, "truncation")
        }
        1 => {
            for _ in 0..1 + rng.below(8) {
                let i = rng.below(b.len());
                b[i] ^= 1 << rng.below(8);
            }
            (b, "bit flips")
        }
        2 => {
            for _ in 0..1 + rng.below(4) {
                let i = rng.below(b.len() + 1);
                let v = if toml {
                    let bytes = b"=[]{}\"'\n.,#\\0x-9";
                    bytes[rng.below(bytes.len())]
                } else {
                    rng.next() as u8
                };
                b.insert(i, v);
            }
            (b, "insertions")
        }
        3 => {
            for _ in 0..1 + rng.below(4) {
                if !b.is_empty() {
                    let i = rng.below(b.len());
                    let n = 1 + rng.below(8.min(b.len() - i));
                    b.drain(i..i + n);
                }
            }
            (b, "deletions")
        }
        _ => {
            // Swap the value of one `key = value` line with another line's
            // value or with one of VALUES.
            let text = String::from_utf8_lossy(seed).into_owned();
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            let assigns: Vec<usize> = (0..lines.len())
                .filter(|&i| lines[i].contains(" = ") && !lines[i].trim_start().starts_with('#'))
                .collect();
            if assigns.is_empty() {
                return (b, "value swap (none)");
            }
            for _ in 0..1 + rng.below(3) {
                let i = assigns[rng.below(assigns.len())];
                let value = if rng.below(2) == 0 {
                    VALUES[rng.below(VALUES.len())].to_string()
                } else {
                    let j = assigns[rng.below(assigns.len())];
                    lines[j]
                        .split_once(" = ")
                        .map(|x| x.1.to_string())
                        .unwrap_or_default()
                };
                let key = lines[i]
                    .split_once(" = ")
                    .map(|x| x.0.to_string())
                    .unwrap_or_default();
                lines[i] = format!("{key} = {value}");
            }
            ((lines.join("\n") + "\n").into_bytes(), "value swap")
        }
    }
}

fn seeds(dir: &Path, ext: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == ext) {
                out.push((p.display().to_string(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[derive(Default)]
struct Tally {
    inputs: u64,
    accepted: u64,
    rejected: u64,
    slowest: Duration,
}

#[test]
fn mutated_models_boards_and_budgets_never_panic_or_hang() {
    let count: u64 = std::env::var("ZANT_FUZZ_COUNT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3_000);
    let seed: u64 = std::env::var("ZANT_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x2026_1201);
    let limit = Duration::from_secs(
        std::env::var("ZANT_FUZZ_LIMIT_SECS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(20),
    );
    let mut models = seeds(&root().join("examples"), "onnx");
    models.extend(seeds(&root().join("../shared/models"), "onnx"));
    let boards = seeds(&root().join("boards/defs"), "toml");
    let mut budgets: Vec<(String, Vec<u8>)> = ["zant-budget.toml", "tests/qemu-suite.toml"]
        .iter()
        .map(|p| (p.to_string(), std::fs::read(root().join(p)).unwrap()))
        .collect();
    budgets.sort();
    assert!(
        models.len() >= 3 && boards.len() >= 10,
        "seed files missing"
    );

    // Watchdog: the index of the input being run and when it started.
    let current = Arc::new(AtomicU64::new(u64::MAX));
    let started = Arc::new(AtomicU64::new(0));
    let t0 = Instant::now();
    {
        let (current, started) = (current.clone(), started.clone());
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(200));
            let i = current.load(Ordering::SeqCst);
            let since =
                (t0.elapsed().as_millis() as u64).saturating_sub(started.load(Ordering::SeqCst));
            if i != u64::MAX && since > limit.as_millis() as u64 {
                eprintln!(
                    "HANG: input {i} (seed {seed:#x}) ran {since} ms > {limit:?}; rerun with ZANT_FUZZ_SEED={seed} ZANT_FUZZ_COUNT={}",
                    i + 1
                );
                std::process::exit(101);
            }
        });
    }

    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fuzz");
    std::fs::create_dir_all(&dir).unwrap();
    let board_file = dir.join("board.toml");
    let mut rng = Rng(seed | 1);
    let mut tallies = [Tally::default(), Tally::default(), Tally::default()];
    let mut panics: Vec<String> = Vec::new();
    for i in 0..count {
        let which = (i % 3) as usize;
        let (name, seed_bytes) = match which {
            0 => &models[rng.below(models.len())],
            1 => &boards[rng.below(boards.len())],
            _ => &budgets[rng.below(budgets.len())],
        };
        let (input, how) = mutate(&mut rng, seed_bytes, which != 0);
        if which == 1 {
            std::fs::write(&board_file, &input).unwrap();
        }
        started.store(t0.elapsed().as_millis() as u64, Ordering::SeqCst);
        current.store(i, Ordering::SeqCst);
        let t = Instant::now();
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let r = std::panic::catch_unwind(|| match which {
            0 => zant_codegen::load_bytes(&input, "fuzz", &zant_codegen::LoadOptions::default())
                .is_ok(),
            1 => zant_boards::check_file(&board_file).is_ok(),
            _ => {
                let text = String::from_utf8_lossy(&input);
                zant_budget::BudgetFile::parse(&text, Path::new("fuzz-budget.toml")).is_ok()
            }
        });
        std::panic::set_hook(hook);
        current.store(u64::MAX, Ordering::SeqCst);
        let tally = &mut tallies[which];
        tally.inputs += 1;
        tally.slowest = tally.slowest.max(t.elapsed());
        match r {
            Ok(true) => tally.accepted += 1,
            Ok(false) => tally.rejected += 1,
            Err(_) => {
                let ext = if which == 0 { "onnx" } else { "toml" };
                let kept = dir.join(format!("panic-{i}.{ext}"));
                std::fs::write(&kept, &input).unwrap();
                panics.push(format!(
                    "input {i}: {how} of {name} (kept as {})",
                    kept.display()
                ));
            }
        }
    }
    let elapsed = t0.elapsed();
    for (what, t) in ["ONNX models", "board files", "budget files"]
        .iter()
        .zip(&tallies)
    {
        eprintln!(
            "fuzz: {what}: {} inputs, {} accepted, {} rejected with an error, slowest {:?}",
            t.inputs, t.accepted, t.rejected, t.slowest
        );
    }
    eprintln!(
        "fuzz: {count} inputs (seed {seed:#x}) in {elapsed:.1?}: {} panics, 0 hangs (limit {limit:?} per input)",
        panics.len()
    );
    assert!(panics.is_empty(), "panics:\n{}", panics.join("\n"));
}
