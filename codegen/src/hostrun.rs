//! Running generated models on the host.
//!
//! Many models become modules of one generated `std` harness crate that is
//! built once with cargo; its binary runs every case on raw little-endian
//! input files and writes raw output files. This is how the ONNX node tests
//! run (hundreds of cases, one build) and how zant computes the host
//! reference of a model for `zant run`.

use std::path::{Path, PathBuf};
use std::process::Command;

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use crate::emit::{emit_model, format_file, rust_type, EmitError};
use crate::ir::{DType, Graph, TensorData};
use crate::krate::kernel_files;
use crate::plan::Plan;

/// Errors of the host harness.
#[derive(Debug, thiserror::Error)]
pub enum HostRunError {
    /// Emission failed for one case.
    #[error("case {case}: {source}")]
    Emit {
        /// Case name.
        case: String,
        /// Cause.
        source: EmitError,
    },
    /// cargo failed.
    #[error("building the host harness failed:\n{0}")]
    Build(String),
    /// I/O.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// One model to run on the host.
#[derive(Debug)]
pub struct HostCase<'a> {
    /// Case name (used for directories).
    pub name: String,
    /// The compiled graph.
    pub graph: &'a Graph,
    /// Its plan.
    pub plan: &'a Plan,
}

/// A built harness.
#[derive(Debug)]
pub struct Harness {
    /// The harness binary.
    pub exe: PathBuf,
    /// Case names, by index.
    pub cases: Vec<String>,
}

fn load_fn(dt: DType) -> TokenStream {
    let ty = rust_type(dt);
    match dt {
        DType::Bool => quote!(|b: &[u8]| b.iter().map(|&v| v != 0).collect::<Vec<bool>>()),
        _ => {
            let n = Literal::usize_unsuffixed(dt.size());
            quote!(|b: &[u8]| b.chunks_exact(#n).map(|c| #ty::from_le_bytes(c.try_into().unwrap())).collect::<Vec<#ty>>())
        }
    }
}

fn store_fn(dt: DType) -> TokenStream {
    let ty = rust_type(dt);
    match dt {
        DType::Bool => quote!(|v: &[bool]| v.iter().map(|&b| b as u8).collect::<Vec<u8>>()),
        _ => quote!(|v: &[#ty]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>()),
    }
}

/// Writes and builds a harness crate for `cases` in `dir` (release mode).
pub fn build_harness(
    cases: &[HostCase<'_>],
    dir: &Path,
    target_dir: Option<&Path>,
) -> Result<Harness, HostRunError> {
    // cargo runs inside `dir`: make every path absolute first.
    let dir = &std::path::absolute(dir)?;
    let target_dir = target_dir.map(std::path::absolute).transpose()?;
    let target_dir = target_dir.as_deref();
    let mut modules = Vec::new();
    let mut arms = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let m = emit_model(c.graph, c.plan).map_err(|source| HostRunError::Emit {
            case: c.name.clone(),
            source,
        })?;
        let modname = format_ident!("m{}", i);
        let items = m.tokens;
        modules.push(quote! {
            #[allow(dead_code, unused_variables, unused_imports, clippy::all)]
            mod #modname {
                use crate::zk;
                #items
            }
        });
        let mut loads = Vec::new();
        let mut args = Vec::new();
        for (k, &id) in c.graph.inputs.iter().enumerate() {
            let t = c.graph.tensor(id);
            let v = format_ident!("in{}", k);
            let f = load_fn(t.dtype);
            let file = format!("input_{k}.bin");
            let n = Literal::usize_unsuffixed(t.numel());
            let ty = rust_type(t.dtype);
            loads.push(quote! {
                let raw = std::fs::read(dir.join(#file)).map_err(|e| format!("{}: {e}", #file))?;
                let vals = (#f)(&raw);
                if vals.len() != #n { return Err(format!("{}: {} elements, expected {}", #file, vals.len(), #n)); }
                let #v: Box<[#ty; #n]> = vals.into_boxed_slice().try_into().map_err(|_| "size".to_string())?;
            });
            args.push(quote!(&#v));
        }
        let mut outs = Vec::new();
        let mut stores = Vec::new();
        for (k, &id) in c.graph.outputs.iter().enumerate() {
            let t = c.graph.tensor(id);
            let v = format_ident!("out{}", k);
            let ty = rust_type(t.dtype);
            let n = Literal::usize_unsuffixed(t.numel());
            let file = format!("output_{k}.bin");
            let f = store_fn(t.dtype);
            outs.push(quote! {
                let mut #v: Box<[#ty; #n]> = vec![<#ty>::default(); #n].into_boxed_slice().try_into().map_err(|_| "size".to_string())?;
            });
            args.push(quote!(&mut #v));
            stores.push(quote! {
                std::fs::write(dir.join(#file), (#f)(&#v[..])).map_err(|e| format!("{}: {e}", #file))?;
            });
        }
        let idx = Literal::usize_unsuffixed(i);
        arms.push(quote! {
            #idx => {
                #(#loads)*
                #(#outs)*
                #modname::predict(#(#args),*).map_err(|_| "arena busy".to_string())?;
                #(#stores)*
                Ok(())
            }
        });
    }
    let main = quote! {
        #![allow(clippy::all, unused_parens)]
        #[allow(dead_code, unused_imports, clippy::all)]
        mod zk;
        #(#modules)*

        fn run(case: usize, dir: &std::path::Path) -> Result<(), String> {
            match case {
                #(#arms)*
                _ => Err(format!("no case {case}")),
            }
        }

        /// Usage: harness ROOT CASE_INDEX… — reads ROOT/<index>/input_k.bin, writes output_k.bin.
        fn main() {
            let args: Vec<String> = std::env::args().collect();
            let root = std::path::PathBuf::from(&args[1]);
            let mut failed = 0;
            for a in &args[2..] {
                let case: usize = a.parse().expect("case index");
                let dir = root.join(a);
                let r = std::panic::catch_unwind(|| run(case, &dir));
                let msg = match r {
                    Ok(Ok(())) => continue,
                    Ok(Err(e)) => e,
                    Err(_) => "panicked".to_string(),
                };
                failed += 1;
                let _ = std::fs::write(dir.join("error.txt"), msg);
            }
            std::process::exit(if failed > 0 { 1 } else { 0 });
        }
    };
    std::fs::create_dir_all(dir.join("src"))?;
    let zk = dir.join("src/zk");
    if zk.exists() {
        std::fs::remove_dir_all(&zk)?;
    }
    for (p, text) in kernel_files() {
        let path = zk.join(p);
        std::fs::create_dir_all(path.parent().expect("has parent"))?;
        std::fs::write(path, text)?;
    }
    let src = format_file(main).map_err(|source| HostRunError::Emit {
        case: "harness".into(),
        source,
    })?;
    write_if_changed(&dir.join("src/main.rs"), &src)?;
    write_if_changed(
        &dir.join("Cargo.toml"),
        "[package]\nname = \"zant-host-harness\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[workspace]\n\n[profile.release]\nopt-level = 1\ndebug = false\nincremental = true\n",
    )?;
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    // From outside `dir`: cargo reads its configuration from the working
    // directory up, and a firmware project's `.cargo/config.toml` (the
    // harness may sit in its `target/`) would cross-compile the harness.
    cmd.arg("build")
        .arg("--release")
        .arg("--quiet")
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .current_dir(std::env::temp_dir());
    let target = target_dir
        .map(Path::to_path_buf)
        .unwrap_or_else(|| dir.join("target"));
    cmd.env("CARGO_TARGET_DIR", &target);
    // Host build: ignore cross-compilation settings of the caller's environment.
    cmd.env_remove("CARGO_BUILD_TARGET").env_remove("RUSTFLAGS");
    let out = cmd.output()?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().take(80).collect();
        return Err(HostRunError::Build(tail.join("\n")));
    }
    Ok(Harness {
        exe: target.join("release/zant-host-harness"),
        cases: cases.iter().map(|c| c.name.clone()).collect(),
    })
}

fn write_if_changed(path: &Path, text: &str) -> std::io::Result<()> {
    if std::fs::read_to_string(path).ok().as_deref() == Some(text) {
        return Ok(());
    }
    std::fs::write(path, text)
}

/// Result of one case.
#[derive(Debug, Clone)]
pub enum CaseResult {
    /// Outputs.
    Ok(Vec<TensorData>),
    /// The case failed at run time.
    Failed(String),
}

/// Runs cases `indices` of a harness with their inputs; returns outputs.
pub fn run_cases(
    h: &Harness,
    graphs: &[&Graph],
    inputs: &[Vec<TensorData>],
    work: &Path,
) -> Result<Vec<CaseResult>, HostRunError> {
    let work = &std::path::absolute(work)?;
    let mut idx = Vec::new();
    for (i, ins) in inputs.iter().enumerate() {
        let d = work.join(i.to_string());
        if d.exists() {
            std::fs::remove_dir_all(&d)?;
        }
        std::fs::create_dir_all(&d)?;
        for (k, t) in ins.iter().enumerate() {
            std::fs::write(d.join(format!("input_{k}.bin")), &t.bytes)?;
        }
        idx.push(i.to_string());
    }
    // Run in chunks so one crash does not lose everything and argv stays short.
    for chunk in idx.chunks(64) {
        let _ = Command::new(&h.exe).arg(work).args(chunk).output()?;
    }
    let mut results = Vec::new();
    for (i, g) in graphs.iter().enumerate() {
        let d = work.join(i.to_string());
        if let Ok(e) = std::fs::read_to_string(d.join("error.txt")) {
            results.push(CaseResult::Failed(e));
            continue;
        }
        let mut outs = Vec::new();
        let mut missing = None;
        for (k, &id) in g.outputs.iter().enumerate() {
            let t = g.tensor(id);
            match std::fs::read(d.join(format!("output_{k}.bin"))) {
                Ok(bytes) => outs.push(TensorData {
                    dtype: t.dtype,
                    shape: t.shape.clone(),
                    bytes,
                }),
                Err(_) => missing = Some(format!("no output {k} (the harness crashed)")),
            }
        }
        results.push(match missing {
            Some(m) => CaseResult::Failed(m),
            None => CaseResult::Ok(outs),
        });
    }
    Ok(results)
}
