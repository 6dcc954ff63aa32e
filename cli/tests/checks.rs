//! Checks before the cross-compile, board-file diagnostics, and the
//! regression suite at scale (issue 16). Each test runs the `zant` binary;
//! the early checks must fail before any firmware project is written.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn zant() -> Command {
    let mut c = Command::cargo_bin("zant").unwrap();
    c.current_dir(root()).env("NO_COLOR", "1");
    c
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn tempdir() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "checks-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs zant, expects exit `code` within `limit` (no cross-compile fits in
/// it) and no firmware project at `dir`; returns stderr.
fn fails_early(cmd: &mut Command, code: i32, dir: &Path) -> String {
    let out = cmd.output().unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{err}");
    // "Early" is shown by what exists, not by a clock: the firmware project
    // (written just before the cross-compile) must not be there.
    assert!(
        !dir.join("Cargo.toml").exists(),
        "the check must come before the firmware project is written: {err}"
    );
    err
}

/// A Cortex-M4F board file: `flash` is the `[[memory]]`-style region list of
/// its chip, `machine` its QEMU machine.
fn board(dir: &Path, flash: &str, machine: &str) -> PathBuf {
    let p = dir.join("board.toml");
    std::fs::write(
        &p,
        format!(
            r#"schema-version = 1
name = "small"
report = "semihosting"
chip = {{ vendor = "Me", family = "Small", part = "S1", core = "cortex-m4", fpu = "single", clock-hz = 25000000, memory = [
  {flash}
  {{ name = "RAM", kind = "ram", start = 0x20000000, size = 0x40000 }},
] }}
[placement]
arena = ["RAM"]
stack = "RAM"
stack-size = 4096
weights = "FLASH"
[run.qemu]
binary = "qemu-system-arm"
machine = "{machine}"
"#
        ),
    )
    .unwrap();
    p
}

#[test]
fn weights_too_big_for_the_flash_fail_before_the_build_saying_by_how_much_and_where() {
    let d = tempdir();
    let fw = d.join("fw");
    // mnist-8's weights (about 23 KB) in a 16 KiB region, with a 64 KiB
    // flash region elsewhere on the chip.
    let b = board(
        &d,
        r#"{ name = "FLASH", kind = "flash", start = 0x0, size = 0x4000 },
  { name = "FLASH2", kind = "flash", start = 0x10000000, size = 0x10000 },"#,
        "mps2-an386",
    );
    let err = fails_early(
        zant()
            .args(["build", "examples/mnist-8.onnx", "--board"])
            .arg(&b)
            .arg("-o")
            .arg(&fw),
        1,
        &fw,
    );
    assert!(
        err.contains("flash region FLASH has 16384 B") && err.contains("too many"),
        "{err}"
    );
    assert!(err.contains("FLASH2 (65536 B)"), "{err}");
    assert!(!err.contains("rust-lld"), "{err}");
}

#[test]
fn run_options_and_the_target_are_checked_before_the_build() {
    let d = tempdir();
    let fw = d.join("fw");
    let model = "examples/debug_model.onnx";
    // --expect of the wrong size.
    let bad = d.join("expect.bin");
    std::fs::write(&bad, [0u8; 7]).unwrap();
    let err = fails_early(
        zant()
            .args(["run", model, "--board", "qemu-mps2-an386", "--expect"])
            .arg(&bad)
            .arg("-o")
            .arg(&fw),
        2,
        &fw,
    );
    assert!(
        err.contains("has 7 bytes; the model's outputs take"),
        "{err}"
    );
    // A malformed --probe, and --port on a probe-rs board.
    let err = fails_early(
        zant()
            .args(["run", model, "--board", "stm32h7", "--probe", "zz:1"])
            .arg("-o")
            .arg(&fw),
        2,
        &fw,
    );
    assert!(err.contains("expected VID:PID"), "{err}");
    let err = fails_early(
        zant()
            .args([
                "deploy",
                model,
                "--board",
                "stm32h7",
                "--port",
                "/dev/ttyUSB0",
            ])
            .arg("-o")
            .arg(&fw),
        2,
        &fw,
    );
    assert!(err.contains("--port does not apply"), "{err}");
    // A serial port that does not exist.
    let err = fails_early(
        zant()
            .args(["deploy", model, "--board", "esp32-c3-devkit"])
            .args(["--port", "/dev/zant-no-such-port"])
            .arg("-o")
            .arg(&fw),
        2,
        &fw,
    );
    assert!(err.contains("does not exist"), "{err}");
    // QEMU missing from PATH.
    let err = fails_early(
        zant()
            .args(["bench", model, "--board", "qemu-mps2-an386", "-o"])
            .arg(&fw)
            .env("PATH", "/nonexistent"),
        2,
        &fw,
    );
    assert!(err.contains("qemu-system-arm was not found"), "{err}");
    // A machine zant knows but this QEMU does not emulate (QEMU 7.2 has no
    // b-l475e-iot01a): found by asking QEMU, before the build.
    if !text(
        &std::process::Command::new("qemu-system-arm")
            .args(["-machine", "help"])
            .output()
            .unwrap()
            .stdout,
    )
    .contains("b-l475e-iot01a")
    {
        let b = board(
            &d,
            r#"{ name = "FLASH", kind = "flash", start = 0x0, size = 0x100000 },"#,
            "b-l475e-iot01a",
        );
        let err = fails_early(
            zant()
                .args(["run", model, "--board"])
                .arg(&b)
                .arg("-o")
                .arg(&fw),
            2,
            &fw,
        );
        assert!(err.contains("has no machine `b-l475e-iot01a`"), "{err}");
    }
}

#[test]
fn an_unbound_dynamic_dimension_is_an_error_naming_it_and_how_to_bind_it() {
    let model = "cli/tests/data/dynamic_batch.onnx";
    let out = zant().args(["inspect", model]).output().unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("input `x` has a dynamic dimension 0 (`batch`)")
            && err.contains("--shape x=1,4")
            && err.contains("--dim batch=N"),
        "{err}"
    );
    for bind in [&["--dim", "batch=3"][..], &["--shape", "x=3,4"][..]] {
        let out = zant()
            .args(["inspect", model, "--json"])
            .args(bind)
            .output()
            .unwrap();
        assert!(out.status.success(), "{bind:?}: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains("[3,4]") || text(&out.stdout).contains("3,\n"));
    }
    let out = zant()
        .args(["inspect", model, "--dim", "btach=3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("named dimensions: batch"));
}

#[test]
fn a_board_file_reports_every_type_error_with_its_key_at_once() {
    let d = tempdir();
    let p = d.join("bad.toml");
    std::fs::write(
        &p,
        r#"schema-version = 1
name = "bad"
report = "semihosting"
chip = { vendor = "Me", family = "Bad", part = "B1", core = "cortex-m4", clock-hz = "fast", memory = [
  { name = "FLASH", kind = "flash", start = 0x0, size = "256k" },
  { name = "RAM", kind = "ram", start = 0x20000000, size = 0x10000 },
] }
[placement]
arena = "RAM"
stack = "RAM"
stack-size = -4
weights = "FLASH"
[run.qemu]
binary = "qemu-system-arm"
"#,
    )
    .unwrap();
    let out = zant().args(["boards", "check"]).arg(&p).output().unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for want in [
        "`chip.clock-hz`: expected a whole number, found a string (`\"fast\"`)",
        "`chip.memory.0.size`: expected a whole number",
        "`placement.arena`: expected a list, found a string",
        "`placement.stack-size`: -4 is negative",
        "`run.qemu` lacks the required key `machine`",
    ] {
        assert!(err.contains(want), "missing {want:?} in:\n{err}");
    }
    assert!(!err.contains("untagged enum"), "{err}");
    assert!(err.contains("5 problems"), "{err}");
}

#[test]
fn board_names_ignore_case_and_qemu_machines_are_checked() {
    let out = zant()
        .args(["boards", "show", "QEMU-MPS2-AN386", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = zant()
        .args(["boards", "show", "QEMU-MPS2-AN368"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("did you mean `qemu-mps2-an386`"),
        "{}",
        text(&out.stderr)
    );
    let d = tempdir();
    let b = board(
        &d,
        r#"{ name = "FLASH", kind = "flash", start = 0x0, size = 0x100000 },"#,
        "mps2-an368",
    );
    let out = zant().args(["boards", "check"]).arg(&b).output().unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("`run.qemu.machine`")
            && err.contains("not a microcontroller machine of qemu-system-arm")
            && err.contains("did you mean `mps2-an386`"),
        "{err}"
    );
}

#[test]
fn budget_runs_in_parallel_shards_writes_junit_and_update_goes_on_past_a_failure() {
    let d = tempdir();
    let budget = d.join("suite.toml");
    let model = root().join("examples/debug_model.onnx");
    std::fs::write(
        &budget,
        format!(
            r#"schema-version = 1
[[entry]]
name = "good"
model = {model:?}
board = "qemu-mps2-an386"
flash-bytes = 1000000
instructions = "baseline + 1%"

[[entry]]
name = "broken"
model = {model:?}
board = "qemu-mps2-an3866"
flash-bytes = 1000000
"#,
            model = model.display().to_string()
        ),
    )
    .unwrap();
    let build_dir = d.join("build");
    let run = |args: &[&str]| {
        zant()
            .args(args)
            .arg(&budget)
            .arg("--build-dir")
            .arg(&build_dir)
            .output()
            .unwrap()
    };
    // update: the broken entry is reported, the good one still recorded.
    let out = run(&["budget", "update", "-q"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("entry `broken`") && err.contains("unknown board"),
        "{err}"
    );
    let baselines: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("suite.baseline.json")).unwrap())
            .unwrap();
    assert!(
        baselines["entries"]["good"]["instructions"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert!(baselines["entries"].get("broken").is_none());
    // check -j 2 with a JUnit report: one pass, one error.
    let junit = d.join("report.xml");
    let out = run(&[
        "budget",
        "check",
        "-q",
        "-j",
        "2",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains(r#"tests="2""#) && xml.contains(r#"errors="1""#),
        "{xml}"
    );
    assert!(xml.contains(r#"<testcase name="good""#), "{xml}");
    // --shard 1/2 runs only the first entry: within budget.
    let out = run(&["budget", "check", "-q", "--shard", "1/2", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let entries: Vec<&str> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["entry"].as_str().unwrap())
        .collect();
    assert!(entries.iter().all(|e| *e == "good"), "{v}");
    let out = run(&["budget", "check", "--shard", "3/2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("between 1 and 2"));
}

#[test]
fn run_json_carries_every_key_of_build_json() {
    let d = tempdir();
    let fw = d.join("fw");
    let model = "examples/debug_model.onnx";
    let keys = |args: &[&str]| {
        let out = zant()
            .args(args)
            .args([model, "--board", "qemu-mps2-an386", "--json", "-o"])
            .arg(&fw)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v.as_object().unwrap().keys().cloned().collect::<Vec<_>>()
    };
    let build = keys(&["build"]);
    for cmd in ["run", "bench"] {
        let other = keys(&[cmd]);
        for k in &build {
            assert!(other.contains(k), "{cmd} --json lacks build's key `{k}`");
        }
    }
}
