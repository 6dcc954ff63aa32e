//! Per-layer profiles through the library: mnist-8's profiling build under
//! QEMU, whose per-node instructions add up exactly to its whole inference,
//! beside a normal build that stays marker-free.

use std::path::{Path, PathBuf};

use zant_pipeline::{Check, Request, RunOptions, Silent, SortBy};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn tmp(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("pipeline-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn profile_on(board: &str) {
    let dir = tmp(&format!("profile-{board}"));
    let board = zant_boards::resolve(board).unwrap();
    let mut req = Request::new(root().join("examples/mnist-8.onnx"), board);
    req.out = Some(dir.clone());
    req.input = Some(root().join("tests/data/ref/mnist-8/input.bin"));
    let check = Check {
        expect: Some(root().join("tests/data/ref/mnist-8/output.bin")),
        tolerance: 1e-4,
    };
    let built = zant_pipeline::build_profiling(&req, &Silent).unwrap();
    let (fig, p) =
        zant_pipeline::run_profiled(&built, &check, &RunOptions::default(), &Silent).unwrap();
    assert!(fig.outputs_match, "max abs error {}", fig.max_abs_error);
    assert_eq!(p.unit, "instructions");
    // Exact: the nodes and the work outside them are the whole inference.
    assert_eq!(fig.instructions_per_inference, Some(p.total));
    let sum: u64 = p.nodes.iter().map(|n| n.count).sum();
    assert_eq!(sum + p.outside_nodes, p.total);
    assert!(p.nodes.len() >= 3, "{:?}", p.nodes);
    assert!(p.nodes.iter().all(|n| n.count > 0 && !n.op.is_empty()));
    assert_eq!(p.macs, p.nodes.iter().map(|n| n.macs).sum::<u64>());
    // The convolutions carry most of the work.
    let top = p.sorted(SortBy::Share)[0];
    assert!(top.op.starts_with("Conv"), "{top:?}");
    assert!(top.per_mac.is_some_and(|v| v > 0.0));
    // The same build runs the same count twice.
    let (_, again) =
        zant_pipeline::run_profiled(&built, &check, &RunOptions::default(), &Silent).unwrap();
    assert_eq!(again, p);
}

#[test]
fn mnist_profile_sums_exactly_on_the_m4f() {
    profile_on("qemu-mps2-an386");
}

#[test]
fn mnist_profile_sums_exactly_on_riscv() {
    profile_on("qemu-riscv32-virt");
}

#[test]
fn a_normal_build_is_not_a_profile() {
    let dir = tmp("profile-normal");
    let board = zant_boards::resolve("qemu-mps2-an386").unwrap();
    let mut req = Request::new(root().join("examples/mnist-8.onnx"), board);
    req.out = Some(dir.clone());
    let built = zant_pipeline::build(&req, &Silent).unwrap();
    let src = std::fs::read_to_string(dir.join("model/src/lib.rs")).unwrap();
    assert!(!src.contains("zant_profile_mark"));
    let e = zant_pipeline::run_profiled(&built, &Check::default(), &RunOptions::default(), &Silent)
        .unwrap_err();
    assert!(e.to_string().contains("not a profiling build"), "{e}");
    assert_eq!(e.exit_code(), 1);
}

/// Hardware boards cannot run here; their profiling firmware must still
/// build: the cycle counter (DWT on the M7, SysTick with wrap counting on the
/// M0+) read at each marker into the table the report prints.
#[test]
fn profiling_firmware_builds_for_hardware_counters() {
    for board in ["nucleo-h743zi", "rp-pico"] {
        let dir = tmp(&format!("profile-hw-{board}"));
        let b = zant_boards::resolve(board).unwrap();
        let mut req = Request::new(root().join("examples/mnist-8.onnx"), b);
        req.out = Some(dir.clone());
        let built = zant_pipeline::build_profiling(&req, &Silent).unwrap();
        assert!(built.elf().is_file());
        let main = std::fs::read_to_string(dir.join("src/main.rs")).unwrap();
        assert!(main.contains("fn zant_profile_mark"), "{board}");
        assert!(
            main.contains("profile_record(cycle_count() as u32)"),
            "{board}"
        );
        assert!(main.contains("write_profile(w)"), "{board}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
