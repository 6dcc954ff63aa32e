//! The Arm micro-kernels on the cores they are written for: builds the test
//! firmware in `kernels/target-test` for QEMU's mps2-an386 (Cortex-M4F, the
//! same build also on mps2-an500, Cortex-M7) and mps3-an547 (Cortex-M55 with
//! Helium), runs every variant against
//! `Portable` over seeded random shapes, then counts the instructions of
//! single kernel calls with zant's QEMU plugin and checks the instructions
//! per multiply-accumulate of the inner loops.
//!
//! Run with `--nocapture` to see the table of figures.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use zant_runner::qemu::{self, QemuConfig};

/// One QEMU board and how the firmware is built for it.
struct Board {
    machine: &'static str,
    cpu: &'static str,
    triple: &'static str,
    target_cpu: &'static str,
    features: &'static [&'static str],
    variants: &'static [&'static str],
}

const AN386: Board = Board {
    machine: "mps2-an386",
    cpu: "cortex-m4",
    triple: "thumbv7em-none-eabihf",
    target_cpu: "cortex-m4",
    features: &[],
    variants: &["portable", "fpu"],
};

/// The Cortex-M7 (double-precision FPv5) runs the Cortex-M4F build: the
/// kernels are the same instructions, and one build serves both boards.
const AN500: Board = Board {
    machine: "mps2-an500",
    cpu: "cortex-m7",
    ..AN386
};

const AN547: Board = Board {
    machine: "mps3-an547",
    cpu: "cortex-m55",
    triple: "thumbv8m.main-none-eabihf",
    target_cpu: "cortex-m55",
    features: &["--features", "helium"],
    variants: &["portable", "fpu", "helium"],
};

/// Builds the test firmware for `board`; returns the ELF.
fn build(board: &Board) -> PathBuf {
    let project = Path::new(env!("CARGO_MANIFEST_DIR")).join("target-test");
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("micro-target");
    let flags = ["-C", "link-arg=-Tlink.x", "-C"]
        .iter()
        .map(|s| s.to_string())
        .chain([format!("target-cpu={}", board.target_cpu)])
        .collect::<Vec<_>>()
        .join("\x1f");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["build", "--release", "--quiet", "--target", board.triple])
        .args(board.features)
        .current_dir(&project)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env("CARGO_TARGET_DIR", &target_dir)
        .env("CARGO_ENCODED_RUSTFLAGS", flags)
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "building the micro-kernel test firmware for {} failed:\n{}",
        board.triple,
        String::from_utf8_lossy(&out.stderr)
    );
    target_dir
        .join(board.triple)
        .join("release")
        .join("zant-micro-target-test")
}

fn run(board: &Board, elf: &Path, append: Option<String>) -> qemu::RunOutcome {
    let extra_args = append.map_or_else(Vec::new, |a| vec!["-append".to_string(), a]);
    let cfg = QemuConfig {
        binary: "qemu-system-arm".into(),
        machine: board.machine.into(),
        cpu: Some(board.cpu.into()),
        extra_args,
        elf: elf.to_path_buf(),
        timeout: Duration::from_secs(120),
        count_instructions: false,
        per_function: false,
    };
    let cfg = QemuConfig {
        count_instructions: !cfg.extra_args.is_empty(),
        ..cfg
    };
    qemu::run(&cfg)
        .unwrap_or_else(|e| panic!("{} under QEMU {}: {e}", elf.display(), board.machine))
}

/// Instructions of one call of `kernel` by `variant` over `k` steps.
fn count(board: &Board, elf: &Path, variant: &str, kernel: &str, k: usize, sb: usize) -> u64 {
    let out = run(
        board,
        elf,
        Some(format!("bench {variant} {kernel} {k} {sb}")),
    );
    out.instructions.expect("counted")
}

/// Multiply-accumulates of one step of `kernel`.
fn macs_per_step(kernel: &str) -> u64 {
    match kernel {
        "mk8x1" => 8,
        // dw3: 4 rows of k outputs, 9 taps each.
        "dw3" => 36,
        _ => 16,
    }
}

/// Checks every variant against `Portable`, then measures; returns the table
/// rows `(variant, kernel, sb, instructions at k=256, per MAC of the loop)`.
fn check_board(board: &Board) -> Vec<(String, &'static str, usize, u64, f64)> {
    let elf = build(board);
    let out = run(board, &elf, None);
    let values = &out.report.values;
    assert_eq!(
        values.get("failures").map(String::as_str),
        Some("0"),
        "{}",
        out.stdout
    );
    let cases: u64 = out.report.int("cases").expect("cases");
    assert!(cases >= 800, "{}", out.stdout);
    let dw_cases: u64 = out.report.int("dw_cases").expect("dw_cases");
    assert!(dw_cases >= 300, "{}", out.stdout);
    if board.variants.contains(&"helium") {
        // The i8 matrix product against its plain-Rust twin.
        let q8_cases: u64 = out.report.int("q8_cases").expect("q8_cases");
        assert!(q8_cases >= 200, "{}", out.stdout);
    }
    let mut rows = Vec::new();
    for &variant in board.variants {
        for (kernel, sb) in [
            ("mk4x4", 1),
            ("mk4x4", 2),
            ("mk4x4_ind", 1),
            ("mk4x4_taps", 1),
            ("mk4x4_taps", 2),
            ("mk8x1", 1),
            ("dw3", 1),
            ("dw3", 2),
        ] {
            let lo = count(board, &elf, variant, kernel, 128, sb);
            let hi = count(board, &elf, variant, kernel, 256, sb);
            // The loop's cost per step, without the call's fixed cost.
            let per_mac = (hi - lo) as f64 / (128 * macs_per_step(kernel)) as f64;
            rows.push((variant.to_string(), kernel, sb, hi, per_mac));
        }
    }
    rows
}

fn print(board: &Board, rows: &[(String, &str, usize, u64, f64)]) {
    eprintln!("{} ({})", board.machine, board.cpu);
    eprintln!("| variant | kernel | sb | instructions, k=256 | per MAC (loop) | per MAC (call) |");
    eprintln!("|---|---|---:|---:|---:|---:|");
    for (v, k, sb, n, per) in rows {
        let total = *n as f64 / (256 * macs_per_step(k)) as f64;
        eprintln!("| {v} | {k} | {sb} | {n} | {per:.3} | {total:.3} |");
    }
}

fn per_mac(rows: &[(String, &str, usize, u64, f64)], v: &str, k: &str, sb: usize) -> f64 {
    rows.iter()
        .find(|r| r.0 == v && r.1 == k && r.2 == sb)
        .map(|r| r.4)
        .expect("measured")
}

#[test]
fn fpu_kernels_on_cortex_m4f() {
    let rows = check_board(&AN386);
    print(&AN386, &rows);
    // 39 instructions per two steps of 16 MACs.
    assert!(per_mac(&rows, "fpu", "mk4x4", 1) <= 1.22);
    // 40 per two steps; mk4x4_ind also scans the offsets for their bound.
    assert!(per_mac(&rows, "fpu", "mk4x4_taps", 1) <= 1.25);
    assert!(per_mac(&rows, "fpu", "mk8x1", 1) <= 1.25);
    assert!(per_mac(&rows, "fpu", "mk4x4", 2) <= 1.63);
    // Per four outputs: 3 `vldmia`, 36 `vfma`, Relu 16, bias, store, loop.
    assert!(per_mac(&rows, "fpu", "dw3", 1) <= 1.9);
    assert!(per_mac(&rows, "fpu", "dw3", 2) <= 1.9);
}

#[test]
fn fpu_kernels_on_cortex_m7() {
    let rows = check_board(&AN500);
    print(&AN500, &rows);
    assert!(per_mac(&rows, "fpu", "mk4x4", 1) <= 1.22);
    assert!(per_mac(&rows, "fpu", "mk4x4_taps", 1) <= 1.25);
}

#[test]
fn helium_kernels_on_cortex_m55() {
    let rows = check_board(&AN547);
    print(&AN547, &rows);
    // 15 instructions per two steps of 16 MACs.
    assert!(per_mac(&rows, "helium", "mk4x4", 1) <= 0.47);
    assert!(per_mac(&rows, "helium", "mk4x4_taps", 1) <= 0.5);
    assert!(per_mac(&rows, "helium", "mk8x1", 1) <= 0.57);
    // Per four outputs: 9 loads, 9 `vfma`, bias, Relu 2, store, `letp`.
    assert!(per_mac(&rows, "helium", "dw3", 1) <= 0.7);
    assert!(per_mac(&rows, "helium", "dw3", 2) <= 0.8);
}
