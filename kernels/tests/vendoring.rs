//! The compiler copies the kernel sources verbatim into generated crates under
//! another module path. This test enforces the rules that make that work.

use std::fs;
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read src dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn sources_use_only_relative_paths() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(
        files.len() > 5,
        "expected kernel sources under {}",
        src.display()
    );
    let mut problems = Vec::new();
    for f in &files {
        let text = fs::read_to_string(f).expect("read source");
        let is_lib = f.file_name().is_some_and(|n| n == "lib.rs");
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if code.contains("crate::")
                || code.contains("extern crate") && !code.contains("extern crate std;")
            {
                problems.push(format!("{}:{}: {}", f.display(), i + 1, line.trim()));
            }
            if code.contains("extern crate std;") && !text.contains("#[cfg(test)]") {
                problems.push(format!("{}:{}: std outside tests", f.display(), i + 1));
            }
            if !is_lib && code.trim_start().starts_with("#![") {
                problems.push(format!(
                    "{}:{}: inner attribute outside lib.rs",
                    f.display(),
                    i + 1
                ));
            }
            if code.contains("unsafe") && !unsafe_allowed(f, &text, i) {
                problems.push(format!("{}:{}: unsafe", f.display(), i + 1));
            }
            if code.contains("std::") && !code.contains("core::") && !in_test_module(&text, i) {
                problems.push(format!("{}:{}: std path outside tests", f.display(), i + 1));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "vendoring rule violations:\n{}",
        problems.join("\n")
    );
}

/// `unsafe` is allowed only in the assembly micro-kernels (`src/arm/`): the
/// naked functions themselves, and blocks that call them right after a
/// `// SAFETY:` comment.
fn unsafe_allowed(f: &Path, text: &str, i: usize) -> bool {
    let in_arm = f.components().any(|c| c.as_os_str() == "arm");
    if !in_arm {
        return false;
    }
    let lines: Vec<&str> = text.lines().collect();
    let line = lines[i].trim();
    if line == "#[unsafe(naked)]" || line.starts_with("unsafe extern \"C\" fn ") {
        return true;
    }
    lines[..i]
        .iter()
        .rev()
        .take(3)
        .any(|l| l.trim_start().starts_with("// SAFETY:"))
}

/// Whether line `i` lies after the file's `#[cfg(test)]` marker (test modules
/// are at the end of each file and may use `std`).
fn in_test_module(text: &str, i: usize) -> bool {
    match text.lines().position(|l| l.trim() == "#[cfg(test)]") {
        Some(start) => i > start,
        None => false,
    }
}
