//! What makes a tool trusted (issue 16): honest budget gates, inputs checked
//! up front, ELF checks against the board, cargo-friendly crates, and the
//! `--json` contract also on failure. Each test runs the `zant` binary.

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
        "trust-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs zant with `args`, expects exit code `code`, returns stderr.
fn fails(args: &[&str], code: i32) -> String {
    let out = zant().args(args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "zant {args:?}\nstdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stderr)
}

#[test]
fn a_relative_limit_without_baselines_is_an_error_not_a_pass() {
    let d = tempdir();
    let model = root().join("examples/mnist-8.onnx");
    let budget = d.join("zant-budget.toml");
    let entry = format!(
        "[[entry]]\nmodel = {:?}\nboard = \"qemu-mps2-an385\"\nflash-bytes = \"baseline + 2%\"\n",
        model.display().to_string()
    );
    // Mistyped `baselines = …`, then the default file missing.
    for head in ["baselines = \"baseline.jsno\"\n", ""] {
        std::fs::write(&budget, format!("schema-version = 1\n{head}{entry}")).unwrap();
        let e = fails(&["budget", "check", budget.to_str().unwrap()], 2);
        let file = if head.is_empty() {
            "zant-budget.baseline.json"
        } else {
            "baseline.jsno"
        };
        assert!(
            e.contains(file) && e.contains("does not exist") && e.contains("zant budget update"),
            "{e}"
        );
        assert!(!e.contains("no baseline"), "{e}");
        // Found before anything was built.
        assert!(!d.join("target").exists());
    }
}

#[test]
fn nonsense_options_are_rejected_up_front() {
    for (args, want) in [
        (&["--tolerance", "nan"][..], "finite number"),
        (&["--tolerance=-1"][..], "finite number"),
        (&["--tolerance", "inf"][..], "finite number"),
        (&["--timeout", "0"][..], "--timeout"),
    ] {
        for cmd in ["run", "bench", "deploy"] {
            let mut a = vec![cmd, "--board", "qemu-mps2-an385", "examples/mnist-8.onnx"];
            a.extend_from_slice(args);
            let e = fails(&a, 2);
            assert!(e.contains(want), "{a:?}: {e}");
        }
    }
}

#[test]
fn a_board_clocked_at_zero_hz_is_invalid() {
    let d = tempdir();
    let f = d.join("zero.toml");
    let board = std::fs::read_to_string(root().join("boards/defs/qemu-mps2-an385.toml"))
        .unwrap()
        .replace(
            "name = \"qemu-mps2-an385\"",
            "name = \"zero\"\nclock-hz = 0",
        );
    std::fs::write(&f, board).unwrap();
    let e = fails(&["boards", "check", f.to_str().unwrap()], 2);
    assert!(e.contains("clock-hz is 0"), "{e}");
    let e = fails(
        &[
            "build",
            "--board",
            f.to_str().unwrap(),
            "examples/mnist-8.onnx",
        ],
        2,
    );
    assert!(e.contains("clock-hz is 0"), "{e}");
}

#[test]
fn size_refuses_an_elf_of_another_machine() {
    // The zant binary itself and /bin/ls: host ELFs, not the board's Cortex-M7.
    let exe = env!("CARGO_BIN_EXE_zant");
    for elf in [exe, "/bin/ls"] {
        if !Path::new(elf).exists() {
            continue;
        }
        let e = fails(&["size", elf, "--board", "stm32h7"], 2);
        assert!(
            e.contains("ELF, but board `nucleo-h743zi` has a cortex-m7 core")
                && e.contains("expected a 32-bit ARM little-endian ELF"),
            "{e}"
        );
        if cfg!(target_arch = "x86_64") {
            assert!(e.contains("is an x86-64 little-endian ELF"), "{e}");
        }
    }
}

#[test]
fn compile_names_the_crate_validly_and_notes_the_workspace() {
    let d = tempdir();
    let model = d.join("8bit.onnx");
    std::fs::copy(root().join("examples/debug_model.onnx"), &model).unwrap();
    let out = zant()
        .args(["compile", model.to_str().unwrap(), "-o"])
        .arg(d.join("a"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let manifest = std::fs::read_to_string(d.join("a/Cargo.toml")).unwrap();
    assert!(
        manifest.contains("name = \"onnx-8bit-model\""),
        "{manifest}"
    );
    // The test's temp dir is inside zant's own workspace: say what to do.
    let err = text(&out.stderr);
    assert!(
        err.contains("inside the cargo workspace") && err.contains("`exclude`"),
        "{err}"
    );
    let out = zant()
        .args([
            "compile",
            model.to_str().unwrap(),
            "--name",
            "digits",
            "--json",
            "-o",
        ])
        .arg(d.join("b"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["package"], "digits");
    assert_eq!(v["lib_name"], "digits");
    let e = fails(
        &[
            "compile",
            model.to_str().unwrap(),
            "--name",
            "8bit",
            "-o",
            "/nonexistent/x",
        ],
        2,
    );
    assert!(
        e.contains("`8bit` cannot be a package name") && e.contains("--name onnx-8bit-model"),
        "{e}"
    );
}

/// Runs zant with `args` (which ask for JSON) and expects exit `code` with
/// exactly one JSON object on stdout: the error.
fn json_error(args: &[&str], code: i32) -> serde_json::Value {
    let out = zant().args(args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "{args:?}: {}",
        text(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: stdout is not one JSON object ({e}): {}",
            text(&out.stdout)
        )
    });
    let err = &v["error"];
    assert_eq!(err["exit_code"], code, "{v}");
    assert!(
        err["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{v}"
    );
    assert!(
        err["kind"].is_string() && (err["help"].is_string() || err["help"].is_null()),
        "{v}"
    );
    v
}

#[test]
fn a_failing_json_command_prints_one_error_object() {
    let v = json_error(&["inspect", "nope.onnx", "--json"], 2);
    assert_eq!(v["error"]["kind"], "input");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nope.onnx"),
        "{v}"
    );
    let v = json_error(
        &[
            "size",
            env!("CARGO_BIN_EXE_zant"),
            "--board",
            "stm32h7",
            "--json",
        ],
        2,
    );
    assert!(
        v["error"]["help"]
            .as_str()
            .unwrap()
            .contains("zant build --board"),
        "{v}"
    );
    let v = json_error(&["boards", "show", "stm32h8", "--json"], 2);
    assert!(
        v["error"]["message"].as_str().unwrap().contains("stm32h8"),
        "{v}"
    );
    let v = json_error(
        &[
            "run",
            "--board",
            "qemu-mps2-an385",
            "m.onnx",
            "--timeout",
            "0",
            "--json",
        ],
        2,
    );
    assert_eq!(v["error"]["kind"], "usage");
    let v = json_error(
        &["budget", "check", "missing-budget.toml", "--format", "json"],
        2,
    );
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("missing-budget.toml"),
        "{v}"
    );
    // A command that reports its result and then fails prints only the result.
    let out = zant()
        .args(["inspect", "cli/tests/data/unsupported-ops.onnx", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["unsupported"].is_array() && v.get("error").is_none());
}

#[test]
fn boards_json_is_an_object() {
    let out = zant().args(["boards", "--json"]).output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let boards = v["boards"]
        .as_array()
        .expect("an object with a `boards` list");
    assert!(boards.iter().any(|b| b["name"] == "nucleo-h743zi"));
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn colours_follow_the_conventions_and_keep_tables_aligned() {
    let run = |envs: &[(&str, &str)], args: &[&str]| {
        let mut c = Command::cargo_bin("zant").unwrap();
        c.current_dir(root())
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR")
            .env_remove("CLICOLOR_FORCE")
            .envs(envs.iter().copied())
            .args(args);
        let out = c.output().unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let plain = run(&[], &["boards"]);
    assert!(!plain.contains('\u{1b}'), "not a terminal: no colour");
    let forced = run(&[("CLICOLOR_FORCE", "1")], &["boards"]);
    assert!(forced.contains('\u{1b}'), "CLICOLOR_FORCE colours");
    // Padding comes before colour: without the escapes, the same table.
    assert_eq!(strip_ansi(&forced), plain);
    assert_eq!(run(&[], &["--color", "always", "boards"]), forced);
    for env in [("NO_COLOR", "1"), ("TERM", "dumb")] {
        let out = run(&[env], &["boards", "--color", "auto"]);
        assert!(!out.contains('\u{1b}'), "{env:?}");
    }
    assert!(!run(&[("CLICOLOR_FORCE", "1")], &["boards", "--color", "never"]).contains('\u{1b}'));
}

#[test]
fn every_subcommand_accepts_v_and_q() {
    for args in [
        &["inspect", "examples/debug_model.onnx", "-q"][..],
        &["inspect", "examples/debug_model.onnx", "-v"],
        &["boards", "-q"],
        &["boards", "show", "stm32h7", "-v"],
        &["doctor", "-q", "--help"],
        &["size", "-v", "--help"],
    ] {
        let out = zant().args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    }
    let d = tempdir();
    let out = zant()
        .args(["compile", "examples/debug_model.onnx", "-q", "-o"])
        .arg(d.join("m"))
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stdout.is_empty(),
        "{}",
        text(&out.stderr)
    );
}

/// Runs zant on a real pseudo-terminal (util-linux `script`), with `envs`;
/// returns what the terminal received (stdout and stderr together, ANSI
/// escapes kept) and the exit status. `None` when `script` is missing.
fn on_a_terminal(args: &[&str], envs: &[(&str, &str)]) -> Option<(String, bool)> {
    let probe = std::process::Command::new("script")
        .arg("--version")
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: util-linux `script` is not installed (Debian package bsdutils), so no pseudo-terminal");
        return None;
    }
    let quote = |a: &str| format!("'{}'", a.replace('\'', r"'\''"));
    let mut cmd = quote(env!("CARGO_BIN_EXE_zant"));
    for a in args {
        cmd.push(' ');
        cmd.push_str(&quote(a));
    }
    let out = std::process::Command::new("script")
        .args(["-q", "-e", "-f", "-c", &cmd, "/dev/null"])
        .current_dir(root())
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE")
        .env("TERM", "xterm-256color")
        .env("COLUMNS", "200")
        .envs(envs.iter().copied())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    Some((text(&out.stdout), out.status.success()))
}

/// The pieces of terminal output between carriage returns and newlines,
/// escapes removed: what each redraw or line left on the screen.
fn screen_pieces(raw: &str) -> Vec<String> {
    strip_ansi(raw)
        .split(['\r', '\n'])
        .map(str::to_string)
        .collect()
}

#[test]
fn on_a_terminal_cargo_lines_go_above_the_spinner_and_tables_stay_aligned() {
    let d = tempdir();
    let fw = d.join("fw");
    let Some((raw, ok)) = on_a_terminal(
        &[
            "build",
            "--board",
            "qemu-mps2-an386",
            "examples/debug_model.onnx",
            "-v",
            "-o",
            fw.to_str().unwrap(),
        ],
        &[],
    ) else {
        return;
    };
    assert!(ok, "{raw}");
    let pieces = screen_pieces(&raw);
    // The spinner was drawn (a terminal), with its step message…
    assert!(raw.contains('\u{1b}'), "no escapes on a terminal: {raw:?}");
    assert!(
        pieces.iter().any(|p| p.contains("cross-compiling for")),
        "{raw:?}"
    );
    // …and each of cargo's lines stands alone on its line, never appended
    // to the spinner's text or cut by it.
    let cargo: Vec<&String> = pieces
        .iter()
        .filter(|p| p.contains("Compiling ") || p.contains("Finished `release`"))
        .collect();
    assert!(
        cargo.iter().any(|p| p.contains("Finished `release`")),
        "{raw:?}"
    );
    for p in cargo {
        let t = p.trim_start();
        assert!(
            t.starts_with("Compiling ") || t.starts_with("Finished `release`"),
            "a cargo line mixed with the spinner: {p:?}"
        );
    }

    // TERM=dumb on a terminal: no spinner, no colour, plain timestamped lines.
    let Some((raw, ok)) = on_a_terminal(
        &[
            "build",
            "--board",
            "qemu-mps2-an386",
            "examples/debug_model.onnx",
            "-o",
            fw.to_str().unwrap(),
        ],
        &[("TERM", "dumb")],
    ) else {
        return;
    };
    assert!(ok, "{raw}");
    assert!(!raw.contains('\u{1b}'), "TERM=dumb: {raw:?}");
    assert!(
        raw.lines()
            .any(|l| l.starts_with('[') && l.contains("s] cross-compiling for")),
        "{raw:?}"
    );

    // A coloured table on a terminal has the columns of the plain one.
    let Some((coloured, ok)) = on_a_terminal(&["boards"], &[]) else {
        return;
    };
    assert!(ok && coloured.contains('\u{1b}'), "{coloured:?}");
    let plain = zant().arg("boards").output().unwrap();
    assert_eq!(
        strip_ansi(&coloured).replace('\r', ""),
        text(&plain.stdout),
        "padding must not count the escapes"
    );
}
