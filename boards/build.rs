//! Build script of zant-boards: lists every board file in `defs/` and every
//! chip file in `defs/chips/` as an `include_str!` table (sorted by name), so
//! a new file is built in by being there.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn tomls(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{} is readable: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "toml"))
        .map(|p| {
            let stem = p
                .file_stem()
                .expect("file name")
                .to_string_lossy()
                .into_owned();
            (stem, p)
        })
        .collect();
    out.sort();
    out
}

fn table(out: &mut String, name: &str, doc: &str, files: &[(String, PathBuf)]) {
    writeln!(out, "/// {doc}").unwrap();
    writeln!(out, "pub(crate) static {name}: &[(&str, &str)] = &[").unwrap();
    for (stem, path) in files {
        println!("cargo:rerun-if-changed={}", path.display());
        writeln!(
            out,
            "    ({stem:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .unwrap();
    }
    writeln!(out, "];").unwrap();
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let defs = manifest.join("defs");
    let chips = defs.join("chips");
    println!("cargo:rerun-if-changed={}", defs.display());
    println!("cargo:rerun-if-changed={}", chips.display());
    let mut out = String::new();
    table(
        &mut out,
        "BUILTIN_BOARDS",
        "Built-in board files: (name, text).",
        &tomls(&defs),
    );
    table(
        &mut out,
        "BUILTIN_CHIPS",
        "Built-in chip files: (name, text).",
        &tomls(&chips),
    );
    let dest =
        PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it")).join("builtin_defs.rs");
    std::fs::write(&dest, out).unwrap_or_else(|e| panic!("cannot write {}: {e}", dest.display()));
}
