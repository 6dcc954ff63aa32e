//! The model crate's surface: `zant-model.json`, written beside the crate by
//! codegen (`zant compile`) and read by the firmware stage.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// File name of the manifest in a model crate.
pub const MANIFEST_FILE: &str = "zant-model.json";

/// One input or output of the generated `predict`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IoSpec {
    /// ONNX name.
    pub name: String,
    /// Rust parameter name.
    pub ident: String,
    /// Rust element type (`f32`, `i8`, …).
    pub elem: String,
    /// Element count.
    pub len: usize,
    /// Shape.
    pub shape: Vec<usize>,
}

impl IoSpec {
    /// Bytes of one element.
    pub fn elem_size(&self) -> usize {
        match self.elem.as_str() {
            "i8" | "u8" | "bool" => 1,
            "i16" | "u16" => 2,
            "f64" | "i64" | "u64" => 8,
            _ => 4,
        }
    }

    /// Bytes of the tensor.
    pub fn bytes(&self) -> usize {
        self.len * self.elem_size()
    }
}

/// The typed surface of a generated model: what callers and firmware see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Surface {
    /// Inputs in order.
    pub inputs: Vec<IoSpec>,
    /// Outputs in order.
    pub outputs: Vec<IoSpec>,
    /// Arena bytes over all regions.
    pub arena_bytes: usize,
    /// Bytes of constant data (weights) in flash.
    pub weight_bytes: usize,
}

/// The manifest written beside a model crate ([`MANIFEST_FILE`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// zant version that wrote it.
    pub zant_version: String,
    /// Model name.
    pub model: String,
    /// SHA-256 of the model file.
    pub model_sha256: String,
    /// Cargo package name.
    pub package: String,
    /// Rust library name.
    pub lib_name: String,
    /// Planner used.
    pub planner: String,
    /// Arena lower bound.
    pub arena_lower_bound_bytes: usize,
    /// Inputs, outputs, arena and weights.
    #[serde(flatten)]
    pub surface: Surface,
    /// The kernel set the crate was compiled for (`portable`, `cortex-m-fpu`…).
    #[serde(default)]
    pub kernel_set: String,
    /// The kernel each node calls, in execution order.
    #[serde(default)]
    pub kernels: Vec<NodeKernel>,
    /// Profiling builds: the nodes a `zant_profile_mark` call precedes, in
    /// call order (one more call follows the last node). Absent otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profile_marks: Vec<String>,
}

/// Which kernel one node of the compiled graph calls.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeKernel {
    /// Node name.
    pub node: String,
    /// Kernel path under the vendored kernels (`fast::conv::conv<Portable>`,
    /// `fused::conv2d`, `reference`), or `view` for a node the plan aliases.
    pub kernel: String,
    /// Nodes of the imported graph this one absorbed that do not come
    /// right after it (a residual Add fused into the convolution before
    /// another node); the report shows them `fused into` this node.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub absorbs: Vec<String>,
}

/// The manifest could not be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {}: {source}", .path.display())]
pub struct ManifestError {
    /// Path of the manifest.
    pub path: PathBuf,
    /// Cause.
    #[source]
    pub source: ManifestCause,
}

/// Why the manifest could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ManifestCause {
    /// The file could not be read.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The file is not a manifest.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

impl Manifest {
    /// The manifest as written to disk (pretty JSON, final newline).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("manifest serializes") + "\n"
    }

    /// Reads the manifest of the model crate in `crate_dir`.
    pub fn read(crate_dir: &Path) -> Result<Manifest, ManifestError> {
        let path = crate_dir.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| ManifestError {
            path: path.clone(),
            source: e.into(),
        })?;
        serde_json::from_str(&text).map_err(|e| ManifestError {
            path,
            source: e.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip() {
        let io = IoSpec {
            name: "Input3".into(),
            ident: "input3".into(),
            elem: "f32".into(),
            len: 784,
            shape: vec![1, 1, 28, 28],
        };
        let m = Manifest {
            zant_version: "0.1.0".into(),
            model: "mnist-8".into(),
            model_sha256: "00".into(),
            package: "mnist-8-model".into(),
            lib_name: "mnist_8_model".into(),
            planner: "greedy".into(),
            arena_lower_bound_bytes: 10,
            surface: Surface {
                inputs: vec![io.clone()],
                outputs: vec![io],
                arena_bytes: 12,
                weight_bytes: 34,
            },
            kernel_set: "cortex-m-fpu".into(),
            kernels: vec![NodeKernel {
                node: "conv".into(),
                kernel: "fast::conv::conv".into(),
                absorbs: vec![],
            }],
            profile_marks: vec![],
        };
        let back: Manifest = serde_json::from_str(&m.to_json()).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.surface.inputs[0].bytes(), 784 * 4);
    }
}
