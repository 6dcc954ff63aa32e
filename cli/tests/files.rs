//! Files, cargo and terminal a user can trust (issue 16): zant rewrites only
//! the files it wrote and the user left alone, keeps model crates and
//! firmware projects apart, keeps its host build inside the project, writes
//! a `Cargo.lock` cargo takes as it is (`--locked`, `--offline`), and where
//! no spinner can be drawn prints timestamped step lines, cargo's own lines
//! (`-v`) whole between them. Each test runs the `zant` binary.

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
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("files-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs zant with `args` and `dir` as `-o`, expects exit code `code`,
/// returns stderr.
fn expect(args: &[&str], dir: &Path, code: i32) -> String {
    let out = zant().args(args).arg("-o").arg(dir).output().unwrap();
    let err = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(code),
        "zant {args:?} -o {}\nstdout: {}\nstderr: {err}",
        dir.display(),
        text(&out.stdout)
    );
    err
}

const COMPILE: &[&str] = &["compile", "examples/mnist-8.onnx"];

#[test]
fn compile_rewrites_its_own_files_and_refuses_to_overwrite_the_users() {
    let dir = tmp("compile");
    expect(COMPILE, &dir, 0);
    // Regenerating what zant wrote and nobody changed: no question asked.
    expect(COMPILE, &dir, 0);
    let lib = dir.join("src/lib.rs");
    let generated = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, format!("{generated}\n// my note\n")).unwrap();
    let err = expect(COMPILE, &dir, 2);
    assert!(err.contains("src/lib.rs"), "{err}");
    assert!(err.contains("--force"), "{err}");
    assert!(
        std::fs::read_to_string(&lib)
            .unwrap()
            .ends_with("// my note\n"),
        "the user's edit must survive a refused run"
    );
    // A file of the user's where zant writes one: refused too.
    std::fs::write(&lib, &generated).unwrap();
    let toml = dir.join("Cargo.toml");
    std::fs::write(&toml, "[package]\nname = \"mine\"\n").unwrap();
    let err = expect(COMPILE, &dir, 2);
    assert!(err.contains("Cargo.toml"), "{err}");
    // --force overwrites, and zant owns the files again.
    let mut forced = COMPILE.to_vec();
    forced.push("--force");
    expect(&forced, &dir, 0);
    assert!(std::fs::read_to_string(&toml)
        .unwrap()
        .contains("mnist-8-model"));
    expect(COMPILE, &dir, 0);
    // A file the user added beside zant's stays.
    std::fs::write(dir.join("NOTES.md"), "mine").unwrap();
    expect(COMPILE, &dir, 0);
    assert!(dir.join("NOTES.md").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// One firmware build, then everything that can happen to its directory:
/// the host build kept inside it, the lock file taken `--locked` and
/// `--offline`, cargo's `-v` lines whole between plain timestamped steps,
/// the user's edits refused, the model crate kind kept apart.
#[test]
fn a_firmware_project_is_the_users_to_edit_and_zant_keeps_to_its_own() {
    let fw = tmp("fw");
    let run = [
        "run",
        "--board",
        "qemu-mps2-an386",
        "examples/mnist-8.onnx",
        "--locked",
        "-v",
    ];
    // stderr is a pipe here: plain lines, no spinner.
    let err = expect(&run, &fw, 0);
    let steps: Vec<&str> = err.lines().filter(|l| l.starts_with('[')).collect();
    assert!(
        steps
            .iter()
            .any(|l| l.ends_with("] checking and compiling the model")),
        "{err}"
    );
    for l in &steps {
        let (time, _) = l.split_once("s] ").unwrap_or_else(|| panic!("{l:?}"));
        assert!(
            time.trim_start_matches('[').trim().parse::<f32>().is_ok(),
            "{l:?}"
        );
    }
    // cargo's own lines (`-v`), each whole on its own line.
    assert!(
        err.lines()
            .any(|l| l.trim_start().starts_with("Finished `release` profile")),
        "{err}"
    );
    // The lock file zant wrote, and the host build inside the project.
    assert!(fw.join("Cargo.lock").exists());
    assert!(fw.join("target/zant-host/Cargo.toml").exists());
    let sibling = fw.with_file_name("files-fw.host");
    assert!(!sibling.exists(), "{} was written", sibling.display());
    assert!(fw
        .join("target/thumbv7em-none-eabihf/release/zant-fw-mnist-8")
        .exists());
    // The HAL crates were built in the shared target directory, not here:
    // the project's own target/ holds the ELF copy and the host build only.
    assert!(!fw
        .join("target/thumbv7em-none-eabihf/release/deps")
        .exists());
    assert!(!fw.join("target/release").exists());

    // Again, offline: zant rewrites its own files, cargo needs no network.
    let build = [
        "build",
        "--board",
        "qemu-mps2-an386",
        "examples/mnist-8.onnx",
        "--offline",
        "--locked",
    ];
    expect(&build, &fw, 0);

    // The user's edit of the firmware: refused, named, kept.
    let main = fw.join("src/main.rs");
    let generated = std::fs::read_to_string(&main).unwrap();
    std::fs::write(&main, format!("{generated}// my change\n")).unwrap();
    let err = expect(&build, &fw, 2);
    assert!(err.contains("src/main.rs"), "{err}");
    assert!(std::fs::read_to_string(&main)
        .unwrap()
        .ends_with("// my change\n"));
    std::fs::write(&main, &generated).unwrap();
    // …and of the model crate inside it.
    let lib = fw.join("model/src/lib.rs");
    let generated = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, format!("{generated}// my change\n")).unwrap();
    let err = expect(&build, &fw, 2);
    assert!(err.contains("src/lib.rs"), "{err}");
    // --force takes zant's files back.
    let mut forced = build.to_vec();
    forced.push("--force");
    expect(&forced, &fw, 0);
    assert_eq!(std::fs::read_to_string(&lib).unwrap(), generated);

    // A model crate is not written over a firmware project, even with --force…
    let err = expect(&["compile", "examples/mnist-8.onnx", "--force"], &fw, 2);
    assert!(err.contains("is a firmware project"), "{err}");
    assert!(std::fs::read_to_string(fw.join("Cargo.toml"))
        .unwrap()
        .contains("zant-fw-mnist-8"));
    // …nor a firmware project over a model crate.
    let krate = tmp("fw-over-crate");
    expect(COMPILE, &krate, 0);
    let err = expect(&build, &krate, 2);
    assert!(err.contains("is a model crate"), "{err}");
    let _ = std::fs::remove_dir_all(&fw);
    let _ = std::fs::remove_dir_all(&krate);
}
