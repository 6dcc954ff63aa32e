//! Firmware paths, tested by running the binary: build, size, deploy without
//! a probe, a board that is too small, budgets that fail.

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

fn tmp(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("fw-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs `zant CMD --board BOARD examples/mnist-8.onnx FLAGS… -o DIR`.
fn mnist(cmd: &str, board: &str, flags: &[&str], dir: &Path) -> std::process::Output {
    zant()
        .args([cmd, "--board", board, "examples/mnist-8.onnx"])
        .args(flags)
        .arg("-o")
        .arg(dir)
        .output()
        .unwrap()
}

#[test]
fn deploy_to_stm32h7_without_a_probe_builds_then_fails_clearly() {
    let dir = tmp("h7");
    let out = mnist("deploy", "stm32h7", &["-q"], &dir);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("no debug probe found") && err.contains("STM32H743ZITx"),
        "{err}"
    );
    // Without -q the footprint is printed before the probe is looked for.
    let out = mnist("deploy", "stm32h7", &[], &dir);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("weights") && stdout.contains("DTCM"),
        "{stdout}"
    );
    // --no-flash ends successfully with the footprint.
    let out = mnist("deploy", "stm32h7", &["--no-flash", "--json"], &dir);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for k in [
        "elf",
        "flash_bytes",
        "ram_bytes",
        "arena_bytes",
        "weights_bytes",
        "code_bytes",
        "stack_bytes",
        "regions",
    ] {
        assert!(!v[k].is_null(), "missing {k} in {v}");
    }
    assert!(v["weights_bytes"].as_u64().unwrap() >= 23_000);
    // `zant size` reads the same ELF.
    let elf = v["elf"].as_str().unwrap().to_string();
    let out = zant()
        .args(["size", &elf, "--board", "nucleo-h743zi", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["flash_bytes"], v["flash_bytes"]);
    let dtcm = s["regions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "DTCM")
        .unwrap();
    assert!(
        dtcm["used"].as_u64().unwrap() > 0,
        "the arena and stack go to DTCM: {s}"
    );
}

#[test]
fn a_board_too_small_for_the_model_says_by_how_much() {
    let dir = tmp("small");
    std::fs::create_dir_all(&dir).unwrap();
    let board = dir.join("tiny.toml");
    std::fs::write(
        &board,
        r#"schema-version = 1
name = "tiny"
report = "semihosting"
chip = { vendor = "Me", family = "Tiny", part = "T1", core = "cortex-m4", fpu = "single", clock-hz = 1000000, memory = [
  { name = "FLASH", kind = "flash", start = 0x0, size = 0x40000 },
  { name = "RAM", kind = "ram", start = 0x20000000, size = 0x2000 },
] }
[placement]
arena = ["RAM"]
stack = "RAM"
stack-size = 2048
weights = "FLASH"
[run.qemu]
binary = "qemu-system-arm"
machine = "mps2-an386"
"#,
    )
    .unwrap();
    let out = zant()
        .args(["build", "--board"])
        .arg(&board)
        .args(["examples/mnist-8.onnx", "-o"])
        .arg(dir.join("fw"))
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("does not fit") && err.contains("bytes short"),
        "{err}"
    );
}

#[test]
fn a_misspelt_board_key_is_reported_with_its_line() {
    let dir = tmp("misspelt");
    std::fs::create_dir_all(&dir).unwrap();
    let text_in = std::fs::read_to_string(root().join("boards/defs/qemu-mps2-an386.toml"))
        .unwrap()
        .replace("stack-size", "stak-size");
    let f = dir.join("b.toml");
    std::fs::write(&f, text_in).unwrap();
    let out = zant().args(["boards", "check"]).arg(&f).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("unknown key `stak-size`") && err.contains("did you mean `stack-size`"),
        "{err}"
    );
    assert!(err.contains("b.toml:"), "{err}");
}

#[test]
fn budget_growth_fails_with_metric_bytes_percent_and_symbols() {
    let dir = tmp("budget");
    std::fs::create_dir_all(&dir).unwrap();
    // One entry of the QEMU suite, against a baseline that is smaller than
    // today's firmware: as if the weights and a kernel had grown.
    let all: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("ci/baselines/qemu-suite.json")).unwrap(),
    )
    .unwrap();
    let mut e = all["entries"]["mnist-8@qemu-mps2-an386"].clone();
    let flash = e["flash_bytes"].as_u64().unwrap();
    e["flash_bytes"] = serde_json::json!(flash - 2000);
    let ins = e["instructions"].as_u64().unwrap();
    e["instructions"] = serde_json::json!(ins * 9 / 10);
    let syms = e["symbols"].as_object_mut().unwrap();
    let conv = syms
        .keys()
        .find(|k| k.contains("conv"))
        .cloned()
        .expect("a conv kernel symbol");
    let size = syms[&conv].as_u64().unwrap();
    syms.insert(conv.clone(), serde_json::json!(size - 2000));
    let base = serde_json::json!({"version": 1, "entries": {"mnist": e}});
    std::fs::write(
        dir.join("b.baseline.json"),
        serde_json::to_string_pretty(&base).unwrap(),
    )
    .unwrap();
    let model = root().join("examples/mnist-8.onnx");
    let input = root().join("tests/data/ref/mnist-8/input.bin");
    std::fs::write(
        dir.join("b.toml"),
        format!(
            "schema-version = 1\n[[entry]]\nname = \"mnist\"\nmodel = {:?}\nboard = \"qemu-mps2-an386\"\ninput = {:?}\nflash-bytes = \"baseline + 1%\"\ninstructions = \"baseline + 1%\"\nram-bytes = \"64 KiB\"\n",
            model.display().to_string(),
            input.display().to_string()
        ),
    )
    .unwrap();
    let out = zant()
        .args(["budget", "check"])
        .arg(dir.join("b.toml"))
        .args(["-q", "--build-dir"])
        .arg(dir.join("build"))
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}\n{stdout}",
        text(&out.stderr)
    );
    assert!(
        stdout.contains("flash-bytes") && stdout.contains("+2,000 B") && stdout.contains("OVER"),
        "{stdout}"
    );
    assert!(
        stdout.contains("instructions") && stdout.contains("(+11.11%)"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&conv) && stdout.contains("+2,000 B"),
        "symbol diff should name {conv}:\n{stdout}"
    );
    // Markdown for a pull-request comment.
    let md = zant()
        .args(["budget", "check"])
        .arg(dir.join("b.toml"))
        .args(["-q", "--format", "markdown", "--build-dir"])
        .arg(dir.join("build"))
        .output()
        .unwrap();
    assert_eq!(md.status.code(), Some(1));
    assert!(
        text(&md.stdout).contains("| mnist | flash-bytes |"),
        "{}",
        text(&md.stdout)
    );
}

#[test]
fn cortex_m0plus_and_m33_boards_link() {
    // One board per core family not covered by the QEMU suite (M0+, M33).
    for (board, triple, extra) in [
        ("rp-pico", "thumbv6m-none-eabi", ".boot2"),
        ("rp-pico2", "thumbv8m.main-none-eabihf", ".start_block"),
    ] {
        let dir = tmp(board);
        let out = mnist("build", board, &["--json"], &dir);
        assert!(out.status.success(), "{board}: {}", text(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let elf = v["elf"].as_str().unwrap();
        assert!(elf.contains(triple), "{elf}");
        let data = std::fs::read(elf).unwrap();
        // The boot block the chip's ROM needs is in the image.
        assert!(
            data.windows(extra.len()).any(|w| w == extra.as_bytes()),
            "{board}: no {extra} section"
        );
    }
}

#[test]
fn esp32_c3_builds_a_bootable_image_and_deploy_needs_its_serial_port() {
    let dir = tmp("esp32c3");
    let out = mnist("build", "esp32-c3-devkit", &["--json"], &dir);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["elf"]
        .as_str()
        .unwrap()
        .contains("riscv32imc-unknown-none-elf"));
    assert!(v["weights_bytes"].as_u64().unwrap() >= 23_000);
    // Flash is one region seen at two addresses (IROM, DROM): all of it counts in FLASH.
    let regions = v["regions"].as_array().unwrap();
    let used = |n: &str| {
        regions
            .iter()
            .find(|r| r["name"] == n)
            .map(|r| r["used"].as_u64().unwrap())
    };
    assert_eq!(used("FLASH"), v["flash_bytes"].as_u64(), "{v}");
    assert_eq!(used("DROM"), Some(0), "{v}");
    assert_eq!(used("DRAM"), v["ram_bytes"].as_u64(), "{v}");
    // The image espflash would write: boot loader at 0, partition table at
    // 0x8000, the application at 0x10000 for the ESP32-C3 (chip id 5),
    // carrying the application descriptor the boot loader checks.
    let img = &v["flash_image"];
    let data = std::fs::read(img["path"].as_str().unwrap()).unwrap();
    assert_eq!(data[0], 0xE9, "boot loader image magic");
    assert_eq!(
        &data[0x8000..0x8002],
        &[0xAA, 0x50],
        "partition table magic"
    );
    let app = &data[0x10000..];
    assert_eq!(app[0], 0xE9, "application image magic");
    assert_eq!(
        u16::from_le_bytes([app[12], app[13]]),
        5,
        "ESP32-C3 chip id"
    );
    assert!(
        app.windows(4).any(|w| w == 0xABCD_5432u32.to_le_bytes()),
        "application descriptor"
    );
    assert_eq!(
        img["app_bytes"].as_u64().unwrap() as usize,
        data.len() - 0x10000
    );
    // Deploying needs the board's serial port.
    if !zant_runner::esp::list().is_empty() {
        eprintln!("skipped the no-serial-port check: this machine has USB serial ports");
        return;
    }
    let out = mnist("deploy", "esp32-c3-devkit", &[], &dir);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("no serial port found") && err.contains("esp32c3"),
        "{err}"
    );
    // The footprint is printed before the port is looked for.
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("weights") && stdout.contains("DRAM"),
        "{stdout}"
    );
    let out = mnist(
        "deploy",
        "esp32-c3-devkit",
        &["--port", "/dev/zant-no-such-port"],
        &dir,
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("/dev/zant-no-such-port does not exist"),
        "{err}"
    );
}

#[test]
fn bench_counts_are_deterministic_and_outputs_checked() {
    let dir = tmp("bench-twice");
    let run = |functions: bool| {
        let out = zant()
            .args([
                "bench",
                "--board",
                "qemu-mps2-an386",
                "examples/debug_model.onnx",
                "--json",
                "-o",
            ])
            .arg(&dir)
            .args([
                "--input",
                "tests/data/ref/debug_model/input.bin",
                "--expect",
                "tests/data/ref/debug_model/output.bin",
            ])
            .args(functions.then_some("--functions"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        for k in [
            "board",
            "model",
            "instructions_per_inference",
            "macs",
            "flash_bytes",
            "ram_bytes",
            "arena_bytes",
            "stack_peak_bytes",
            "max_abs_error",
            "outputs_match",
        ] {
            assert!(!v[k].is_null(), "missing {k}");
        }
        assert_eq!(v["outputs_match"], true);
        assert!(v["max_abs_error"].as_f64().unwrap() <= 1e-4);
        let n = v["instructions_per_inference"].as_u64().unwrap();
        // `--functions`: every counted instruction in exactly one function,
        // most first, the model's own code among them.
        match v["functions"].as_array() {
            None => assert!(!functions, "no functions with --functions"),
            Some(fs) => {
                assert!(functions, "functions without --functions");
                let counts: Vec<u64> = fs
                    .iter()
                    .map(|f| f["instructions"].as_u64().unwrap())
                    .collect();
                assert_eq!(counts.iter().sum::<u64>(), n);
                assert!(counts.windows(2).all(|w| w[0] >= w[1]));
                assert!(fs.iter().any(|f| f["function"]
                    .as_str()
                    .unwrap()
                    .starts_with("debug_model_model::")));
            }
        }
        n
    };
    let (a, b) = (run(false), run(true));
    assert!(a > 0);
    assert_eq!(a, b, "the same ELF must give the same instruction count");
}

#[test]
fn opt_size_builds_a_smaller_firmware_whose_outputs_still_match() {
    let bench = |opt: &str| {
        let dir = tmp(&format!("opt-{opt}"));
        let out = zant()
            .args([
                "bench",
                "--board",
                "qemu-mps2-an386",
                "examples/debug_model.onnx",
            ])
            .args(["--opt", opt, "--json", "-o"])
            .arg(&dir)
            .args(["--expect", "tests/data/ref/debug_model/output.bin"])
            .args(["--input", "tests/data/ref/debug_model/input.bin"])
            .output()
            .unwrap();
        assert!(out.status.success(), "--opt {opt}: {}", text(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["outputs_match"], true, "--opt {opt}");
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        (v["flash_bytes"].as_u64().unwrap(), manifest)
    };
    let (speed, speed_toml) = bench("speed");
    let (size, size_toml) = bench("size");
    assert!(speed_toml.contains("opt-level = 3"), "{speed_toml}");
    assert!(size_toml.contains("opt-level = \"z\""), "{size_toml}");
    assert!(size < speed, "--opt size {size} B, --opt speed {speed} B");

    let out = mnist(
        "build",
        "qemu-mps2-an386",
        &["--opt", "fast"],
        &tmp("opt-bad"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("speed"), "{}", text(&out.stderr));
}

#[test]
fn bench_report_writes_the_figures_and_their_data() {
    let dir = tmp("bench-report");
    let report = dir.join("report");
    let out = zant()
        .args([
            "bench",
            "--board",
            "qemu-mps2-an386",
            "examples/debug_model.onnx",
            "--json",
            "--input",
            "tests/data/ref/debug_model/input.bin",
            "--expect",
            "tests/data/ref/debug_model/output.bin",
            "-o",
        ])
        .arg(dir.join("fw"))
        .arg("--report")
        .arg(&report)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // --report implies the profile.
    let total = v["profile"]["total"].as_u64().unwrap();
    for stem in ["layers", "arena", "memory"] {
        let svg = std::fs::read_to_string(report.join(format!("{stem}.svg"))).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("<text"),
            "{stem}.svg"
        );
        let png = std::fs::read(report.join(format!("{stem}.png"))).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{stem}.png");
    }
    let f: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report.join("figures.json")).unwrap()).unwrap();
    assert_eq!(f["layers"]["total"].as_u64(), Some(total));
    assert_eq!(f["memory"]["flash_bytes"], v["flash_bytes"]);
    assert_eq!(f["arena"]["lanes"][0]["arena_bytes"], v["arena_bytes"]);
    let md = std::fs::read_to_string(report.join("summary.md")).unwrap();
    assert!(
        md.contains("zant bench --board qemu-mps2-an386") && md.contains("--report"),
        "{md}"
    );
}

/// An int8 model compiled for Helium takes the `i8` weight layout; with no
/// `--expect`, its reference is the host build of that graph, which must
/// emit the layout with the plain-Rust twin of the 8-bit dot product.
#[test]
fn helium_int8_layout_checks_against_the_host_build() {
    let dir = tmp("helium-int8-host");
    let out = zant()
        .args([
            "bench",
            "--board",
            "qemu-mps3-an547",
            "tests/data/qops/net_qoperator_u8/model.onnx",
            "--json",
            "-o",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["outputs_match"], true);
    assert_eq!(v["max_abs_error"].as_f64(), Some(0.0));
    assert!(v["reference"].as_str().unwrap().contains("host build"));
    let model = std::fs::read_to_string(dir.join("model/src/lib.rs")).unwrap();
    assert!(model.contains("conv8"), "the i8 layout was not taken");
}
