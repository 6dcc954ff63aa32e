//! Build script of zant-codegen:
//!
//! 1. generates the ONNX protobuf types from the vendored `proto/onnx.proto`
//!    (`protox` parses it in pure Rust, so no `protoc` is needed);
//! 2. lists the source files of `zant-kernels`, which the compiler vendors
//!    verbatim into every generated model crate.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn walk(dir: &Path, base: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("kernels/src is readable")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, base, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p.strip_prefix(base).expect("under base").to_path_buf());
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/onnx.proto");
    let fds = protox::compile(["proto/onnx.proto"], ["proto"])?;
    prost_build::Config::new().compile_fds(fds)?;

    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let kernels = manifest.join("../kernels/src").canonicalize()?;
    println!("cargo:rerun-if-changed={}", kernels.display());
    let mut files = Vec::new();
    walk(&kernels, &kernels, &mut files);
    let mut src = String::from("/// Kernel sources: (path under kernels/src, contents).\npub static KERNEL_SOURCES: &[(&str, &str)] = &[\n");
    for f in &files {
        println!("cargo:rerun-if-changed={}", kernels.join(f).display());
        let rel = f.to_string_lossy().replace('\\', "/");
        writeln!(
            src,
            "    ({rel:?}, include_str!({:?})),",
            kernels.join(f).display().to_string()
        )?;
    }
    src.push_str("];\n");
    std::fs::write(
        PathBuf::from(std::env::var("OUT_DIR")?).join("kernel_sources.rs"),
        src,
    )?;
    Ok(())
}
