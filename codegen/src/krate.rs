//! Writing a model as an ordinary Cargo library crate.
//!
//! The crate is self-contained: `#![no_std]`, no dependencies, the kernels it
//! calls vendored under `src/zk/`, weights as `static` data, and a
//! `zant-model.json` manifest describing its surface for the firmware stage.

use std::path::{Path, PathBuf};

use proc_macro2::TokenStream;
use quote::quote;

use crate::emit::{emit_model_profiled, format_file, EmitError};
use crate::ir::Graph;
use crate::kernel_set::KernelSet;
use crate::plan::Plan;

mod sources {
    include!(concat!(env!("OUT_DIR"), "/kernel_sources.rs"));
}

pub use zant_common::outdir::MARKER;
use zant_common::outdir::{Kind, OutDirError};

/// Errors of writing a crate.
#[derive(Debug, thiserror::Error)]
pub enum CrateError {
    /// Emission failed.
    #[error(transparent)]
    Emit(#[from] EmitError),
    /// The output directory holds files zant did not write.
    #[error(transparent)]
    NotOurs(zant_common::outdir::OutDirError),
    /// A package name that cargo would refuse.
    #[error("`{name}` cannot be a package name: {why}")]
    BadName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        why: String,
        /// A valid name made from it.
        suggestion: String,
    },
    /// I/O failure.
    #[error("cannot write {path}: {source}")]
    Io {
        /// Path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
}

impl CrateError {
    /// What to do about the error, kept apart from its message (`None`
    /// when zant has no advice for it).
    pub fn help(&self) -> Option<String> {
        match self {
            CrateError::NotOurs(e) => Some(e.help()),
            CrateError::BadName { suggestion, .. } => Some(format!("try --name {suggestion}")),
            _ => None,
        }
    }
}

/// The manifest written beside the crate (`zant-model.json`), read back by
/// the firmware stage.
pub use zant_common::surface::Manifest as CrateManifest;

/// A crate in memory: relative paths and contents.
#[derive(Debug, Clone)]
pub struct CrateFiles {
    /// Files, sorted by path.
    pub files: Vec<(PathBuf, String)>,
    /// The manifest.
    pub manifest: CrateManifest,
}

/// The package name zant gives a model crate, valid whatever the file was
/// called: lowercase ASCII letters and digits joined by `-`, `-model` at the
/// end, `onnx-` in front of a leading digit (`mnist-8` → `mnist-8-model`,
/// `8bit` → `onnx-8bit-model`, `my model` → `my-model-model`, `modèle` →
/// `mod-le-model`, `模型` → `onnx-model`).
pub fn package_name(model: &str) -> String {
    let mut s = String::new();
    for c in model.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('-') {
            s.push('-');
        }
    }
    let s = s.trim_matches('-');
    let s = if s.is_empty() { "onnx" } else { s };
    let s = if s.starts_with(|c: char| c.is_ascii_digit()) {
        format!("onnx-{s}")
    } else {
        s.to_string()
    };
    // Long names are cut at a separator: cargo accepts 64 characters.
    let mut s = s;
    while s.len() > 58 {
        s.truncate(s.rfind('-').filter(|&i| i > 0).unwrap_or(58));
    }
    format!("{s}-model")
}

/// Checks a package name given with `--name` (or [`crate::Builder`]): what
/// cargo accepts and what makes a Rust library name (`-` becomes `_`).
pub fn check_package_name(name: &str) -> Result<(), CrateError> {
    let bad = |why: &str| {
        Err(CrateError::BadName {
            name: name.to_string(),
            why: why.to_string(),
            suggestion: package_name(name),
        })
    };
    if name.is_empty() {
        return bad("it is empty");
    }
    if name.len() > 64 {
        return bad("cargo accepts at most 64 characters");
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return bad(&format!(
            "`{c}` is not allowed (ASCII letters, digits, `-` and `_` only)"
        ));
    }
    if name.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
        return bad("it must start with a letter or `_`");
    }
    let lib = name.replace('-', "_");
    if syn::parse_str::<syn::Ident>(&lib).is_err()
        || ["_", "test", "std", "core", "alloc", "proc_macro"].contains(&lib.as_str())
    {
        return bad("it is a Rust keyword or the name of a built-in crate");
    }
    Ok(())
}

/// The cargo workspace whose directory tree holds `dir`, if any: the nearest
/// ancestor `Cargo.toml` with a `[workspace]` table. A crate written there
/// must be listed in that workspace's `members` or `exclude`, or cargo
/// refuses to build it ("current package believes it's in a workspace when
/// it's not").
pub fn enclosing_workspace(dir: &Path) -> Option<PathBuf> {
    let abs = std::path::absolute(dir).ok()?;
    abs.ancestors().skip(1).find_map(|d| {
        let manifest = d.join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).ok()?;
        let doc: toml::Table = text.parse().ok()?;
        doc.contains_key("workspace").then_some(manifest)
    })
}

/// The vendored kernel files, as (path under `src/zk/`, contents).
pub fn kernel_files() -> Vec<(PathBuf, String)> {
    sources::KERNEL_SOURCES
        .iter()
        .map(|(path, text)| {
            if *path == "lib.rs" {
                // The crate root becomes a module: drop its inner attributes.
                let body: String = text
                    .lines()
                    .filter(|l| !l.trim_start().starts_with("#!["))
                    .map(|l| format!("{l}\n"))
                    .collect();
                (PathBuf::from("mod.rs"), body)
            } else {
                (PathBuf::from(path), text.to_string())
            }
        })
        .collect()
}

fn header(graph: &Graph) -> String {
    format!(
        "// Generated by zant {} from model `{}` (sha256 {}).\n// Do not edit: regenerate with `zant compile`.\n\n",
        env!("CARGO_PKG_VERSION"),
        graph.name,
        graph.model_hash
    )
}

/// Builds the files of a model crate in memory, calling the portable kernels,
/// named after the model ([`package_name`]).
pub fn crate_files(graph: &Graph, plan: &Plan) -> Result<CrateFiles, CrateError> {
    crate_files_for(graph, plan, &KernelSet::portable())
}

/// Builds the files of a model crate in memory, calling the kernels of `set`
/// (the graph was compiled with the same set, see
/// [`compile_for`](crate::compile_for)), named after the model.
pub fn crate_files_for(
    graph: &Graph,
    plan: &Plan,
    set: &KernelSet,
) -> Result<CrateFiles, CrateError> {
    crate_files_named(graph, plan, set, &package_name(&graph.name))
}

/// Builds the files of a model crate in memory, calling the kernels of `set`,
/// under the package name `package` (checked with [`check_package_name`]).
pub fn crate_files_named(
    graph: &Graph,
    plan: &Plan,
    set: &KernelSet,
    package: &str,
) -> Result<CrateFiles, CrateError> {
    crate_files_profiled(graph, plan, set, package, false)
}

/// [`crate_files_named`], and with `profile` a profiling build: the model
/// calls the firmware's `zant_profile_mark` between nodes
/// ([`emit_model_profiled`]) and the manifest lists the marked nodes
/// (`profile_marks`). Such a crate links only into a firmware that defines
/// the marker (`zant bench --profile` renders one).
pub fn crate_files_profiled(
    graph: &Graph,
    plan: &Plan,
    set: &KernelSet,
    package: &str,
    profile: bool,
) -> Result<CrateFiles, CrateError> {
    check_package_name(package)?;
    let model = emit_model_profiled(graph, plan, set, profile)?;
    let package = package.to_string();
    let lib_name = package.replace('-', "_");
    let items = model.tokens;
    let doc = format!(
        " `{}` compiled by zant {}: `no_std`, no heap, weights in flash.\n\n Call [`predict`] (static arena) or [`predict_in`] (your arena).",
        graph.name,
        env!("CARGO_PKG_VERSION")
    );
    let lib: TokenStream = quote! {
        #![doc = #doc]
        #![no_std]
        #![allow(clippy::all, clippy::pedantic, clippy::excessive_precision, clippy::approx_constant)]
        #![deny(unsafe_op_in_unsafe_fn)]

        #[allow(dead_code, unused_imports, clippy::all)]
        mod zk;

        #items
    };
    let lib_rs = header(graph) + &format_file(lib)?;

    let cargo = format!(
        "{}[package]\nname = \"{package}\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\ndescription = \"{} compiled by zant\"\nlicense = \"MIT OR Apache-2.0\"\n\n[lib]\npath = \"src/lib.rs\"\n\n[dependencies]\n\n# No [workspace] table and no profiles: the crate builds on its own, and\n# drops into your workspace as a member (list it in `members`). Inside a\n# workspace's directory that does not list it, add it to `members` or `exclude`.\n",
        header(graph).replace("//", "#"),
        graph.name.replace('"', "'")
    );

    let manifest = CrateManifest {
        zant_version: env!("CARGO_PKG_VERSION").to_string(),
        model: graph.name.clone(),
        model_sha256: graph.model_hash.clone(),
        package: package.clone(),
        lib_name,
        planner: plan.planner.to_string(),
        arena_lower_bound_bytes: plan.lower_bound,
        surface: model.surface,
        kernel_set: set.name().to_string(),
        kernels: model.kernels,
        profile_marks: model.profile_marks,
    };
    let mut files = vec![
        (PathBuf::from("Cargo.toml"), cargo),
        (PathBuf::from("src/lib.rs"), lib_rs),
        (
            PathBuf::from(zant_common::surface::MANIFEST_FILE),
            manifest.to_json(),
        ),
    ];
    for (p, text) in kernel_files() {
        files.push((Path::new("src/zk").join(p), text));
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(CrateFiles { files, manifest })
}

/// Checks that `dir` may be written as a model crate: absent, empty, or
/// made by `zant compile` with its files unchanged; `force` overrides all but
/// a firmware project ([`zant_common::outdir::check`]).
pub fn check_dir(dir: &Path, force: bool) -> Result<(), CrateError> {
    zant_common::outdir::check(dir, Kind::ModelCrate, force).map_err(crate_error)
}

fn crate_error(e: OutDirError) -> CrateError {
    match e {
        OutDirError::Io { path, source } => CrateError::Io { path, source },
        e => CrateError::NotOurs(e),
    }
}

/// Writes the crate into `dir`: rewrites the files zant wrote there before,
/// refuses to overwrite one the user changed (unless `force`), removes the
/// ones it no longer writes, and records what it wrote in the [`MARKER`].
pub fn write_crate(files: &CrateFiles, dir: &Path, force: bool) -> Result<(), CrateError> {
    let files: Vec<(PathBuf, Vec<u8>)> = files
        .files
        .iter()
        .map(|(p, t)| (p.clone(), t.as_bytes().to_vec()))
        .collect();
    zant_common::outdir::write_owned(dir, Kind::ModelCrate, &files, force).map_err(crate_error)
}
