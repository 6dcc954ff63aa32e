//! Compiling a model from a `build.rs`, the way `prost-build` compiles
//! `.proto` files.
//!
//! ```no_run
//! // in build.rs's `fn main` (with `zant-codegen` under [build-dependencies])
//! zant_codegen::Builder::new("model/mnist-8.onnx")
//!     .compile()
//!     .expect("compiling the model");
//! ```
//!
//! ```ignore
//! // src/main.rs or src/lib.rs
//! #[allow(dead_code, clippy::all)]
//! mod model {
//!     include!(concat!(env!("OUT_DIR"), "/mnist_8.rs"));
//! }
//! // model::predict(&input, &mut output)
//! ```
//!
//! The module file is `<name>.rs` in `OUT_DIR` (`name` from the model's file
//! stem, made a Rust identifier: `mnist-8.onnx` → `mnist_8.rs`;
//! [`Builder::module`] sets it). It holds the same items as a crate written
//! by `zant compile` (`predict`, `predict_in`, the arena type, the weights);
//! the kernels it calls are written beside it under `<name>_zk/`. Cargo is
//! told to run the build script again when the `.onnx` file changes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use quote::quote;

use crate::emit::{emit_model, format_file, EmitError};
use crate::krate::kernel_files;
use crate::load::{load_file, LoadError, LoadOptions};
use crate::plan;

/// Errors of [`Builder::compile`].
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The model could not be loaded.
    #[error("cannot load model {path}: {source}")]
    Load {
        /// Model file.
        path: PathBuf,
        /// Cause.
        source: LoadError,
    },
    /// Code generation failed.
    #[error(transparent)]
    Emit(#[from] EmitError),
    /// Neither [`Builder::out_dir`] nor `OUT_DIR` (set by cargo for build scripts).
    #[error(
        "OUT_DIR is not set: call Builder::compile from a build script, or set Builder::out_dir"
    )]
    NoOutDir,
    /// The module name is not a Rust identifier.
    #[error("`{0}` is not a valid module name (a Rust identifier: letters, digits, `_`)")]
    BadModule(String),
    /// Writing the output failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// Path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
}

/// Compiles one ONNX model into a Rust module for `include!`; see the
/// [module documentation](self).
#[derive(Debug, Clone)]
pub struct Builder {
    model: PathBuf,
    module: Option<String>,
    out_dir: Option<PathBuf>,
    shapes: BTreeMap<String, Vec<usize>>,
    planner: String,
    rerun: bool,
}

impl Builder {
    /// A builder for the model file `model` (relative paths are relative to
    /// the package, where cargo runs build scripts).
    pub fn new(model: impl AsRef<Path>) -> Self {
        Builder {
            model: model.as_ref().to_path_buf(),
            module: None,
            out_dir: None,
            shapes: BTreeMap::new(),
            planner: "greedy-by-size".into(),
            rerun: true,
        }
    }

    /// Name of the module file (`<module>.rs`); default: the model's file stem
    /// as an identifier.
    pub fn module(mut self, name: &str) -> Self {
        self.module = Some(name.to_string());
        self
    }

    /// Where to write; default `OUT_DIR`.
    pub fn out_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.out_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Binds a dynamic input's shape (as `zant compile --shape`).
    pub fn shape(mut self, input: &str, dims: &[usize]) -> Self {
        self.shapes.insert(input.to_string(), dims.to_vec());
        self
    }

    /// Memory planner by name (`greedy-by-size`, the default, or `naive`).
    pub fn planner(mut self, name: &str) -> Self {
        self.planner = name.to_string();
        self
    }

    /// Whether to print `cargo:rerun-if-changed` for the model (default yes).
    pub fn emit_rerun_if_changed(mut self, yes: bool) -> Self {
        self.rerun = yes;
        self
    }

    /// Loads, compiles and writes the module; returns the path of `<module>.rs`.
    pub fn compile(self) -> Result<PathBuf, BuildError> {
        if self.rerun {
            println!("cargo:rerun-if-changed={}", self.model.display());
        }
        let out_dir = match self.out_dir.clone() {
            Some(d) => d,
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or(BuildError::NoOutDir)?,
        };
        let opts = LoadOptions {
            shapes: self.shapes.clone(),
            ..Default::default()
        };
        let graph = load_file(&self.model, &opts).map_err(|source| BuildError::Load {
            path: self.model.clone(),
            source,
        })?;
        let module = match &self.module {
            Some(m) => m.clone(),
            None => crate::emit::sanitize(&graph.name),
        };
        if syn::parse_str::<syn::Ident>(&module).is_err() {
            return Err(BuildError::BadModule(module));
        }
        let planner = plan::planner_by_name(&self.planner)
            .ok_or_else(|| EmitError::Unsupported(format!("unknown planner `{}`", self.planner)))?;
        let (compiled, plan) = crate::compile(&graph, planner.as_ref());
        let model = emit_model(&compiled, &plan)?;
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| BuildError::Io { path, source }
        };
        let zk = out_dir.join(format!("{module}_zk"));
        if zk.exists() {
            std::fs::remove_dir_all(&zk).map_err(io(&zk))?;
        }
        for (rel, text) in kernel_files() {
            let path = zk.join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(io(parent))?;
            }
            std::fs::write(&path, text).map_err(io(&path))?;
        }
        let zk_mod = std::path::absolute(zk.join("mod.rs")).map_err(io(&zk))?;
        let zk_mod = zk_mod.display().to_string();
        let items = model.tokens;
        let file = quote! {
            #[allow(dead_code, unused_imports, unsafe_op_in_unsafe_fn, clippy::all)]
            #[path = #zk_mod]
            mod zk;

            #items
        };
        let text = format!(
            "// Generated by zant-codegen {} from {} (sha256 {}) in a build script.\n\n{}",
            env!("CARGO_PKG_VERSION"),
            self.model.display(),
            graph.model_hash,
            format_file(file)?
        );
        let path = out_dir.join(format!("{module}.rs"));
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&path, text).map_err(io(&path))?;
        }
        Ok(path)
    }
}
