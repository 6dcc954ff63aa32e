//! ONNX import: bytes → [`Graph`].
//!
//! Decodes the protobuf, reads initializers in every encoding, binds dynamic
//! dimensions, parses every node with the operator registry, infers static
//! shapes node by node and folds nodes whose inputs are all constant (so the
//! `Shape → Gather → Unsqueeze → Concat → Reshape` chains of exporters become a
//! constant reshape). Unsupported operators are collected and reported all at
//! once.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use prost::Message;
use sha2::{Digest, Sha256};

use crate::attrs::Attrs;
use crate::ir::{numel, DType, Graph, Node, Tensor, TensorData, TensorId};
use crate::ops::{self, InputInfo, OpError, OutputInfo};
use crate::proto;

/// An operator zant cannot compile, with where it occurs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UnsupportedOp {
    /// Node name.
    pub node: String,
    /// ONNX op type.
    pub op_type: String,
    /// Domain (`""` is the default ONNX domain).
    pub domain: String,
    /// Opset version of that domain in the model.
    pub opset: i64,
    /// Why, when it is more than "unknown op".
    pub reason: String,
}

impl fmt::Display for UnsupportedOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let domain = if self.domain.is_empty() {
            "ai.onnx"
        } else {
            &self.domain
        };
        write!(
            f,
            "node `{}`: {} ({} opset {}): {}",
            self.node, self.op_type, domain, self.opset, self.reason
        )
    }
}

/// Everything that can go wrong while importing a model.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// File path.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The bytes are not a protobuf ONNX model (or it is truncated).
    #[error("not a valid ONNX model: {0}")]
    Protobuf(#[source] prost::DecodeError),
    /// The protobuf decodes but is not a usable ONNX model.
    #[error("not a valid ONNX model: {0}")]
    Decode(String),
    /// The model stores tensors in external files.
    #[error("tensor `{tensor}` keeps its data in an external file ({location})")]
    ExternalData {
        /// Tensor name.
        tensor: String,
        /// The external location named by the model.
        location: String,
    },
    /// A tensor has an element type zant does not handle.
    #[error("tensor `{tensor}` has element type {dtype}, which zant does not support")]
    UnsupportedType {
        /// Tensor name.
        tensor: String,
        /// ONNX type name.
        dtype: String,
    },
    /// One or more operators are not supported; all are listed.
    #[error("{} node{} use{} operators zant does not support ({}):\n{}", .0.len(), if .0.len() == 1 { "" } else { "s" }, if .0.len() == 1 { "s" } else { "" }, count_unsupported(.0), list_unsupported(.0))]
    Unsupported(Vec<UnsupportedOp>),
    /// A node failed shape inference or attribute parsing.
    #[error("node `{node}` ({op_type}): {error}")]
    Node {
        /// Node name.
        node: String,
        /// Op type.
        op_type: String,
        /// The operator's error.
        error: OpError,
    },
    /// The model is structurally invalid.
    #[error("invalid model: {0}")]
    Invalid(String),
    /// An input has a dynamic dimension nothing binds: zant plans every
    /// buffer at compile time, so each dimension needs a value.
    #[error("input `{input}` has a dynamic dimension {dim}{} that is not bound", param.as_ref().map(|p| format!(" (`{p}`)")).unwrap_or_default())]
    UnboundDim {
        /// The input's name.
        input: String,
        /// Which dimension (from 0).
        dim: usize,
        /// The dimension's symbolic name in the model (`batch`), if any.
        param: Option<String>,
        /// A `--shape` value to start from: the input's dimensions with
        /// each dynamic one as 1.
        example: String,
    },
    /// The model declares a default-domain opset that does not exist.
    #[error("invalid model: the model declares ONNX opset {opset}, which does not exist (zant knows opsets 1 to {MAX_OPSET})")]
    UnknownOpset {
        /// The opset the model declares.
        opset: i64,
    },
}

impl LoadError {
    /// What to do about the error, kept apart from its message (`None`
    /// when zant has no advice for it).
    pub fn help(&self) -> Option<String> {
        match self {
            LoadError::Protobuf(..) => Some("the file may be truncated or corrupt, or not an .onnx file at all".into()),
            LoadError::Decode(..) => Some("the file may be truncated or corrupt, or not an .onnx file at all".into()),
            LoadError::ExternalData { .. } => Some("zant compiles self-contained models so the weights can be embedded in flash; re-save the model with the data inside, e.g. `onnx.save_model(m, path, save_as_external_data=False)`".into()),
            LoadError::UnknownOpset { .. } => Some("re-export the model with a released opset, e.g. `torch.onnx.export(..., opset_version=17)`".into()),
            LoadError::UnboundDim { input, example, param, .. } => Some(format!(
                "bind it with --shape {input}={example}{}",
                param
                    .as_ref()
                    .map(|p| format!(", or every `{p}` at once with --dim {p}=N"))
                    .unwrap_or_default()
            )),
            _ => None,
        }
    }
}

fn count_unsupported(list: &[UnsupportedOp]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for u in list {
        *counts.entry(u.op_type.as_str()).or_default() += 1;
    }
    counts
        .iter()
        .map(|(op, n)| format!("{op}×{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn list_unsupported(list: &[UnsupportedOp]) -> String {
    list.iter()
        .map(|u| format!("  - {u}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Options of the import.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Shapes for graph inputs with dynamic dimensions, by input name
    /// (`--shape NAME=1,1,28,28`). A dynamic dimension bound by neither
    /// this nor [`LoadOptions::dims`] is an error ([`LoadError::UnboundDim`]).
    pub shapes: BTreeMap<String, Vec<usize>>,
    /// Values of symbolic dimensions by their name in the model
    /// (`--dim batch=1`), for every input that uses them.
    pub dims: BTreeMap<String, usize>,
    /// Keep nodes whose inputs are all constant instead of folding them.
    pub no_fold: bool,
    /// Graph inputs bound to constant values (`--const NAME=FILE`): shapes,
    /// axes, scales or indices that a model takes as inputs but that are
    /// fixed in a deployment. They become weights and are folded.
    pub constants: BTreeMap<String, TensorData>,
    /// Graph inputs bound to raw little-endian bytes (`--const NAME=FILE`),
    /// typed and shaped by the input's declaration (and `shapes`).
    pub constant_bytes: BTreeMap<String, Vec<u8>>,
}

/// The outcome of reading a model without compiling it: the nodes as written,
/// their support status and the initializers. Works for models with
/// unsupported operators, for `zant inspect`.
#[derive(Debug, Clone)]
pub struct Survey {
    /// Every node: (name, op type, domain).
    pub nodes: Vec<(String, String, String)>,
    /// Unsupported operators.
    pub unsupported: Vec<UnsupportedOp>,
    /// Initializers: (name, element type, element count).
    pub initializers: Vec<(String, DType, usize)>,
    /// Default-domain opset.
    pub opset: i64,
}

/// Reads and imports a model file.
pub fn load_file(path: &Path, opts: &LoadOptions) -> Result<Graph, LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    load_bytes(&bytes, &name, opts)
}

/// Hex SHA-256 of a byte string.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode(bytes: &[u8]) -> Result<proto::ModelProto, LoadError> {
    let model = proto::ModelProto::decode(bytes).map_err(LoadError::Protobuf)?;
    if model.graph.is_none() {
        return Err(LoadError::Decode("the file holds no graph".into()));
    }
    if model.ir_version.unwrap_or(0) <= 0 {
        return Err(LoadError::Decode("the model has no IR version".into()));
    }
    let opset = default_opset(&model);
    if !(1..=MAX_OPSET).contains(&opset) {
        return Err(LoadError::UnknownOpset { opset });
    }
    Ok(model)
}

/// The newest default-domain ONNX opset zant knows (ONNX 1.23). A model
/// declaring a newer one is rejected when it is read, before any work.
pub const MAX_OPSET: i64 = 28;

fn default_opset(model: &proto::ModelProto) -> i64 {
    model
        .opset_import
        .iter()
        .find(|o| matches!(o.domain(), "" | "ai.onnx"))
        .map(|o| o.version())
        .unwrap_or(1)
}

fn domain_opset(model: &proto::ModelProto, domain: &str) -> i64 {
    model
        .opset_import
        .iter()
        .find(|o| o.domain() == domain)
        .map(|o| o.version())
        .unwrap_or(0)
}

fn is_default_domain(d: &str) -> bool {
    d.is_empty() || d == "ai.onnx"
}

fn check_supported(model: &proto::ModelProto) -> Vec<UnsupportedOp> {
    let graph = model.graph.as_ref().expect("checked in decode");
    let opset = default_opset(model);
    let mut out = Vec::new();
    for (i, n) in graph.node.iter().enumerate() {
        let name = node_name(n, i);
        let domain = n.domain().to_string();
        let domain_set = if is_default_domain(&domain) {
            opset
        } else {
            domain_opset(model, &domain)
        };
        let reason = if !is_default_domain(&domain) && domain != ops::MS_DOMAIN {
            Some(format!("operators of domain `{domain}` are not supported"))
        } else if n.op_type() == "Constant" && is_default_domain(&domain) {
            None
        } else {
            match ops::lookup_in(&domain, n.op_type()) {
                None if is_default_domain(&domain) => Some("no implementation in zant".to_string()),
                None => Some(format!(
                    "no implementation in zant (of the `{domain}` operators zant compiles the QOperator ones of onnxruntime's quantizer)"
                )),
                Some(def) if domain_set < def.since => Some(format!(
                    "zant supports {} from opset {}",
                    def.op_type, def.since
                )),
                Some(_) => None,
            }
        };
        if let Some(reason) = reason {
            out.push(UnsupportedOp {
                node: name,
                op_type: n.op_type().to_string(),
                opset: domain_set,
                domain,
                reason,
            });
        }
    }
    out
}

fn node_name(n: &proto::NodeProto, index: usize) -> String {
    if n.name().is_empty() {
        format!("{}_{}", n.op_type(), index)
    } else {
        n.name().to_string()
    }
}

/// Reads a model far enough to list its nodes and their support, without
/// shape inference. Never fails on a decodable model.
pub fn survey_bytes(bytes: &[u8]) -> Result<Survey, LoadError> {
    let model = decode(bytes)?;
    let graph = model.graph.as_ref().expect("checked in decode");
    let nodes = graph
        .node
        .iter()
        .enumerate()
        .map(|(i, n)| {
            (
                node_name(n, i),
                n.op_type().to_string(),
                n.domain().to_string(),
            )
        })
        .collect();
    let initializers = graph
        .initializer
        .iter()
        .filter_map(|t| {
            let dt = DType::from_onnx(t.data_type())?;
            let n = t.dims.iter().map(|&d| d.max(0) as usize).product();
            Some((t.name().to_string(), dt, n))
        })
        .collect();
    Ok(Survey {
        nodes,
        unsupported: check_supported(&model),
        initializers,
        opset: default_opset(&model),
    })
}

/// Decodes a `TensorProto` into [`TensorData`].
pub fn tensor_from_proto(t: &proto::TensorProto) -> Result<TensorData, LoadError> {
    let name = t.name().to_string();
    if t.data_location() == proto::tensor_proto::DataLocation::External
        || !t.external_data.is_empty()
    {
        let location = t
            .external_data
            .iter()
            .find(|e| e.key() == "location")
            .map(|e| e.value().to_string())
            .unwrap_or_else(|| "unnamed file".into());
        return Err(LoadError::ExternalData {
            tensor: name,
            location,
        });
    }
    let dtype = DType::from_onnx(t.data_type()).ok_or_else(|| LoadError::UnsupportedType {
        tensor: name.clone(),
        dtype: DType::onnx_name(t.data_type()).to_string(),
    })?;
    let mut shape = Vec::with_capacity(t.dims.len());
    for &d in &t.dims {
        if d < 0 {
            return Err(LoadError::Invalid(format!(
                "tensor `{name}` has a negative dimension {d}"
            )));
        }
        shape.push(d as usize);
    }
    let n = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n.checked_mul(dtype.size()).is_some_and(|b| b <= (1 << 31)))
        .ok_or_else(|| LoadError::Invalid(format!("tensor `{name}` is impossibly large")))?;
    let want = n * dtype.size();
    let mismatch = |got: usize| {
        LoadError::Invalid(format!(
            "tensor `{name}` of shape {:?} needs {n} elements but holds {got}",
            shape
        ))
    };
    let bytes: Vec<u8> = if let Some(raw) = &t.raw_data {
        if raw.len() != want {
            return Err(mismatch(raw.len() / dtype.size().max(1)));
        }
        raw.clone()
    } else {
        let mut b = Vec::with_capacity(want);
        match dtype {
            DType::F32 => {
                if t.float_data.len() != n {
                    return Err(mismatch(t.float_data.len()));
                }
                t.float_data
                    .iter()
                    .for_each(|v| b.extend_from_slice(&v.to_le_bytes()));
            }
            DType::F64 => {
                if t.double_data.len() != n {
                    return Err(mismatch(t.double_data.len()));
                }
                t.double_data
                    .iter()
                    .for_each(|v| b.extend_from_slice(&v.to_le_bytes()));
            }
            DType::I64 => {
                if t.int64_data.len() != n {
                    return Err(mismatch(t.int64_data.len()));
                }
                t.int64_data
                    .iter()
                    .for_each(|v| b.extend_from_slice(&v.to_le_bytes()));
            }
            DType::U32 | DType::U64 => {
                if t.uint64_data.len() != n {
                    return Err(mismatch(t.uint64_data.len()));
                }
                for v in &t.uint64_data {
                    if dtype == DType::U32 {
                        b.extend_from_slice(&(*v as u32).to_le_bytes());
                    } else {
                        b.extend_from_slice(&v.to_le_bytes());
                    }
                }
            }
            // int32_data carries every type of 32 bits or fewer.
            DType::I32
            | DType::I8
            | DType::U8
            | DType::I16
            | DType::U16
            | DType::Bool
            | DType::F16 => {
                if t.int32_data.len() != n {
                    return Err(mismatch(t.int32_data.len()));
                }
                for &v in &t.int32_data {
                    match dtype {
                        DType::I32 => b.extend_from_slice(&v.to_le_bytes()),
                        DType::I16 | DType::U16 | DType::F16 => {
                            b.extend_from_slice(&(v as u16).to_le_bytes())
                        }
                        DType::Bool => b.push((v != 0) as u8),
                        _ => b.push(v as u8),
                    }
                }
            }
        }
        b
    };
    Ok(TensorData {
        dtype,
        shape,
        bytes,
    })
}

struct Builder {
    tensors: Vec<Tensor>,
    by_name: HashMap<String, TensorId>,
}

impl Builder {
    fn add(&mut self, t: Tensor) -> TensorId {
        let id = TensorId(self.tensors.len());
        self.by_name.insert(t.name.clone(), id);
        self.tensors.push(t);
        id
    }
}

/// An input's element type and shape: its fixed dimensions, `bound` (the
/// input's `--shape`) and the symbolic dimensions of `dims` (`--dim`); with
/// `dims` `None`, a dimension nothing binds is 1 (for reading the type only),
/// else it is an error.
fn value_info_shape(
    vi: &proto::ValueInfoProto,
    bound: Option<&Vec<usize>>,
    dims_by_name: Option<&BTreeMap<String, usize>>,
) -> Result<(DType, Vec<usize>), LoadError> {
    let name = vi.name();
    let tt = match vi.r#type.as_ref().and_then(|t| t.value.as_ref()) {
        Some(proto::type_proto::Value::TensorType(tt)) => tt,
        _ => {
            return Err(LoadError::Invalid(format!(
                "input `{name}` is not a tensor (sequences, maps and optionals are not supported)"
            )))
        }
    };
    let dtype = DType::from_onnx(tt.elem_type()).ok_or_else(|| LoadError::UnsupportedType {
        tensor: name.to_string(),
        dtype: DType::onnx_name(tt.elem_type()).to_string(),
    })?;
    let dims = tt.shape.as_ref().map(|s| s.dim.as_slice()).unwrap_or(&[]);
    if let Some(b) = bound {
        if b.len() != dims.len() && tt.shape.is_some() {
            return Err(LoadError::Invalid(format!(
                "--shape for `{name}` has {} dimensions but the input has {}",
                b.len(),
                dims.len()
            )));
        }
    }
    let mut shape = Vec::with_capacity(dims.len());
    for (i, d) in dims.iter().enumerate() {
        let param = match &d.value {
            Some(proto::tensor_shape_proto::dimension::Value::DimParam(p)) if !p.is_empty() => {
                Some(p.clone())
            }
            _ => None,
        };
        let fixed = match &d.value {
            Some(proto::tensor_shape_proto::dimension::Value::DimValue(v)) if *v >= 0 => {
                Some(*v as usize)
            }
            _ => param
                .as_ref()
                .and_then(|p| dims_by_name.and_then(|m| m.get(p)).copied()),
        };
        let v = match (bound, fixed) {
            (Some(b), Some(f)) if b[i] != f => {
                return Err(LoadError::Invalid(format!(
                    "--shape for `{name}` sets dimension {i} to {} but the model fixes it to {f}",
                    b[i]
                )))
            }
            (Some(b), _) => b[i],
            (None, Some(f)) => f,
            (None, None) if dims_by_name.is_none() => 1,
            (None, None) => {
                let example: Vec<String> = dims
                    .iter()
                    .map(|d| match &d.value {
                        Some(proto::tensor_shape_proto::dimension::Value::DimValue(v))
                            if *v >= 0 =>
                        {
                            v.to_string()
                        }
                        _ => "1".into(),
                    })
                    .collect();
                return Err(LoadError::UnboundDim {
                    input: name.to_string(),
                    dim: i,
                    param,
                    example: example.join(","),
                });
            }
        };
        shape.push(v);
    }
    Ok((dtype, shape))
}

/// Imports a model from bytes. `name` names the model in generated code.
///
/// The phases: [`decode`] and [`preflight`] (what makes the model unreadable
/// as a whole), [`add_initializers`], [`add_inputs`], [`convert_node`] per
/// node (with [`fold`] of constant subgraphs), [`graph_outputs`].
pub fn load_bytes(bytes: &[u8], name: &str, opts: &LoadOptions) -> Result<Graph, LoadError> {
    let model = decode(bytes)?;
    let opset = default_opset(&model);
    let g = model.graph.as_ref().expect("checked in decode");
    preflight(&model, g, opts)?;
    let mut b = Builder {
        tensors: Vec::new(),
        by_name: HashMap::new(),
    };
    add_initializers(&mut b, g)?;
    let inputs = add_inputs(&mut b, g, opts)?;
    let mut nodes: Vec<Node> = Vec::new();
    let mut names_seen: HashMap<String, usize> = HashMap::new();
    for (index, n) in g.node.iter().enumerate() {
        let mut node_name = node_name(n, index);
        let count = names_seen.entry(node_name.clone()).or_insert(0);
        *count += 1;
        if *count > 1 {
            node_name = format!("{node_name}_{count}");
        }
        nodes.extend(convert_node(&mut b, n, node_name, opset, opts)?);
    }
    let outputs = graph_outputs(&b, g)?;
    if outputs.is_empty() {
        return Err(LoadError::Invalid("the graph has no outputs".into()));
    }
    Ok(Graph {
        name: name.to_string(),
        model_hash: sha256_hex(bytes),
        opset,
        tensors: b.tensors,
        nodes,
        inputs,
        outputs,
    })
}

/// What makes the model unreadable as a whole, before any tensor is built:
/// external weights (reported first: nothing else can be read), unsupported
/// operators (all of them at once), sparse initializers, and `--shape` /
/// `--const` options naming no input.
fn preflight(
    model: &proto::ModelProto,
    g: &proto::GraphProto,
    opts: &LoadOptions,
) -> Result<(), LoadError> {
    // Weights stored outside the file are reported first: nothing else can be read.
    for init in &g.initializer {
        if init.data_location() == proto::tensor_proto::DataLocation::External
            || !init.external_data.is_empty()
        {
            tensor_from_proto(init)?;
        }
    }
    let unsupported = check_supported(model);
    if !unsupported.is_empty() {
        return Err(LoadError::Unsupported(unsupported));
    }
    if !g.sparse_initializer.is_empty() {
        return Err(LoadError::Invalid(
            "sparse initializers are not supported".into(),
        ));
    }
    for k in opts
        .shapes
        .keys()
        .chain(opts.constants.keys())
        .chain(opts.constant_bytes.keys())
    {
        if !g.input.iter().any(|i| i.name() == k) {
            let names: Vec<&str> = g.input.iter().map(|i| i.name()).collect();
            return Err(LoadError::Invalid(format!(
                "--shape/--const names `{k}`, which is not an input of the model (inputs: {})",
                names.join(", ")
            )));
        }
    }
    let params: Vec<String> = g
        .input
        .iter()
        .filter_map(|i| match i.r#type.as_ref()?.value.as_ref()? {
            proto::type_proto::Value::TensorType(t) => t.shape.as_ref(),
            _ => None,
        })
        .flat_map(|s| s.dim.iter())
        .filter_map(|d| match &d.value {
            Some(proto::tensor_shape_proto::dimension::Value::DimParam(p)) => Some(p.clone()),
            _ => None,
        })
        .collect();
    for k in opts.dims.keys() {
        if !params.contains(k) {
            return Err(LoadError::Invalid(format!(
                "--dim names `{k}`, which is not a dimension of the model's inputs ({})",
                if params.is_empty() {
                    "they have no named dimensions".to_string()
                } else {
                    format!("named dimensions: {}", params.join(", "))
                }
            )));
        }
    }
    Ok(())
}

/// The initializers, as constant tensors.
fn add_initializers(b: &mut Builder, g: &proto::GraphProto) -> Result<(), LoadError> {
    for init in &g.initializer {
        let data = tensor_from_proto(init)?;
        b.add(Tensor {
            name: init.name().to_string(),
            dtype: data.dtype,
            shape: data.shape.clone(),
            data: Some(Arc::new(data)),
        });
    }
    Ok(())
}

/// The graph inputs: runtime inputs (returned, in order), or constants where
/// an initializer gives a default or `--const` a value.
fn add_inputs(
    b: &mut Builder,
    g: &proto::GraphProto,
    opts: &LoadOptions,
) -> Result<Vec<TensorId>, LoadError> {
    let mut inputs = Vec::new();
    for vi in &g.input {
        if b.by_name.contains_key(vi.name()) {
            continue; // an initializer with a default value: a constant
        }
        let from_bytes = match opts.constant_bytes.get(vi.name()) {
            Some(bytes) => {
                let (dtype, shape) =
                    value_info_shape(vi, opts.shapes.get(vi.name()), Some(&opts.dims))?;
                let want = numel(&shape) * dtype.size();
                if bytes.len() != want {
                    return Err(LoadError::Invalid(format!(
                        "--const for input `{}` has {} bytes, but {} {:?} needs {want}",
                        vi.name(),
                        bytes.len(),
                        dtype,
                        shape
                    )));
                }
                Some(TensorData {
                    dtype,
                    shape,
                    bytes: bytes.clone(),
                })
            }
            None => None,
        };
        if let Some(c) = from_bytes
            .as_ref()
            .or_else(|| opts.constants.get(vi.name()))
        {
            let (dtype, _) = value_info_shape(vi, Some(&c.shape), None)
                .or_else(|_| value_info_shape(vi, None, None))?;
            if dtype != c.dtype {
                return Err(LoadError::Invalid(format!(
                    "constant for input `{}` is {} but the input is {}",
                    vi.name(),
                    c.dtype,
                    dtype
                )));
            }
            b.add(Tensor {
                name: vi.name().to_string(),
                dtype,
                shape: c.shape.clone(),
                data: Some(Arc::new(c.clone())),
            });
            continue;
        }
        let (dtype, shape) = value_info_shape(vi, opts.shapes.get(vi.name()), Some(&opts.dims))?;
        let id = b.add(Tensor {
            name: vi.name().to_string(),
            dtype,
            shape,
            data: None,
        });
        inputs.push(id);
    }
    Ok(inputs)
}

/// One node: its operator parsed and its outputs inferred; `None` when it
/// became constants (a `Constant` node, or folded).
fn convert_node(
    b: &mut Builder,
    n: &proto::NodeProto,
    node_name: String,
    opset: i64,
    opts: &LoadOptions,
) -> Result<Option<Node>, LoadError> {
    let node_err = |error: OpError| LoadError::Node {
        node: node_name.clone(),
        op_type: n.op_type().to_string(),
        error,
    };

    let mut tensor_attrs = Vec::new();
    for a in &n.attribute {
        if let Some(t) = &a.t {
            tensor_attrs.push((a.name().to_string(), tensor_from_proto(t)?));
        }
    }
    let attrs = Attrs::new(n.attribute.clone(), tensor_attrs).with_output_count(n.output.len());
    if attrs.has_graph() {
        return Err(node_err(OpError::Unsupported(
            "operators with subgraphs are not supported".into(),
        )));
    }

    if n.op_type() == "Constant" {
        let data = constant_value(&attrs).map_err(node_err)?;
        let out = n
            .output
            .first()
            .ok_or_else(|| node_err(OpError::Shape("Constant has no output".into())))?;
        b.add(Tensor {
            name: out.clone(),
            dtype: data.dtype,
            shape: data.shape.clone(),
            data: Some(Arc::new(data)),
        });
        return Ok(None);
    }

    let def = ops::lookup_in(n.domain(), n.op_type()).expect("checked in check_supported");
    let op = (def.parse)(&attrs, opset).map_err(node_err)?;

    let mut in_ids = Vec::with_capacity(n.input.len());
    for name in &n.input {
        if name.is_empty() {
            in_ids.push(None);
            continue;
        }
        match b.by_name.get(name) {
            Some(&id) => in_ids.push(Some(id)),
            None => {
                return Err(LoadError::Invalid(format!(
                    "node `{node_name}` reads `{name}`, which no earlier node, input or initializer defines (the graph is not in topological order or is incomplete)"
                )))
            }
        }
    }
    // Trailing omitted inputs are the same as absent ones.
    while matches!(in_ids.last(), Some(None)) {
        in_ids.pop();
    }
    let infos = input_infos(b, &in_ids);
    let outs: Vec<OutputInfo> = op.infer(&infos).map_err(node_err)?;
    let out_names: Vec<&String> = n.output.iter().collect();
    if let Some((i, name)) = out_names
        .iter()
        .enumerate()
        .skip(outs.len())
        .find(|(_, s)| !s.is_empty())
    {
        return Err(node_err(OpError::Unsupported(format!(
            "output {i} (`{name}`) of {}: zant computes only the first {}",
            n.op_type(),
            outs.len()
        ))));
    }
    for o in &outs {
        if o.shape
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .is_none_or(|n| n > (1 << 31))
        {
            return Err(node_err(OpError::Shape(format!(
                "output shape {:?} is impossibly large",
                o.shape
            ))));
        }
    }

    // Constant folding: every present input constant (or a Shape op).
    if fold(b, n, op.as_ref(), &in_ids, &outs, &out_names, opts).map_err(node_err)? {
        return Ok(None);
    }

    let mut out_ids = Vec::new();
    // Outputs the node does not name (optional trailing ones) are not computed.
    for (i, o) in outs.into_iter().take(out_names.len().max(1)).enumerate() {
        let name = match out_names.get(i) {
            Some(s) if !s.is_empty() => (*s).clone(),
            // Unnamed or unused optional output: keep a private tensor.
            _ => format!("{node_name}:out{i}"),
        };
        if b.by_name.contains_key(&name) {
            return Err(LoadError::Invalid(format!(
                "tensor `{name}` is defined twice (node `{node_name}`)"
            )));
        }
        out_ids.push(b.add(Tensor {
            name,
            dtype: o.dtype,
            shape: o.shape,
            data: None,
        }));
    }
    Ok(Some(Node {
        name: node_name.clone(),
        op_type: n.op_type().to_string(),
        opset,
        inputs: in_ids,
        outputs: out_ids,
        op,
    }))
}

/// Constant folding: when every present input is constant (or the node is a
/// `Shape`), evaluates the node on the host and adds its outputs as
/// constants. `Ok(false)` when it is not folded.
fn fold(
    b: &mut Builder,
    n: &proto::NodeProto,
    op: &dyn ops::Op,
    in_ids: &[Option<TensorId>],
    outs: &[OutputInfo],
    out_names: &[&String],
    opts: &LoadOptions,
) -> Result<bool, OpError> {
    let infos = input_infos(b, in_ids);
    let all_const = infos.iter().flatten().all(|i| i.data.is_some());
    if opts.no_fold || !(all_const || n.op_type() == "Shape") {
        return Ok(false);
    }
    let datas: Vec<Option<&TensorData>> = infos.iter().map(|i| i.and_then(|i| i.data)).collect();
    let values = match op.eval(&datas, outs) {
        Ok(values) => values,
        Err(OpError::NotFoldable) => return Ok(false),
        Err(e) => return Err(e),
    };
    for (name, v) in out_names.iter().zip(values) {
        if name.is_empty() {
            continue;
        }
        b.add(Tensor {
            name: (*name).clone(),
            dtype: v.dtype,
            shape: v.shape.clone(),
            data: Some(Arc::new(v)),
        });
    }
    Ok(true)
}

/// Dtype, shape and constant data of a node's inputs.
fn input_infos<'a>(b: &'a Builder, in_ids: &[Option<TensorId>]) -> Vec<Option<InputInfo<'a>>> {
    in_ids
        .iter()
        .map(|id| {
            id.map(|id| {
                let t = &b.tensors[id.0];
                InputInfo {
                    dtype: t.dtype,
                    shape: &t.shape,
                    data: t.data.as_deref(),
                }
            })
        })
        .collect()
}

/// The graph outputs, each checked against its declared type and shape.
fn graph_outputs(b: &Builder, g: &proto::GraphProto) -> Result<Vec<TensorId>, LoadError> {
    let mut outputs = Vec::new();
    for o in &g.output {
        let id = *b.by_name.get(o.name()).ok_or_else(|| {
            LoadError::Invalid(format!(
                "graph output `{}` is not produced by any node",
                o.name()
            ))
        })?;
        // Check the declared output type against the inferred one.
        if let Some(proto::type_proto::Value::TensorType(tt)) =
            o.r#type.as_ref().and_then(|t| t.value.as_ref())
        {
            let t = &b.tensors[id.0];
            if let Some(dt) = DType::from_onnx(tt.elem_type()) {
                if dt != t.dtype {
                    return Err(LoadError::Invalid(format!(
                        "graph output `{}` is declared {} but computes {}",
                        o.name(),
                        dt,
                        t.dtype
                    )));
                }
            }
            if let Some(s) = &tt.shape {
                let declared: Vec<Option<i64>> = s
                    .dim
                    .iter()
                    .map(|d| match d.value {
                        Some(proto::tensor_shape_proto::dimension::Value::DimValue(v)) => Some(v),
                        _ => None,
                    })
                    .collect();
                let ok = declared.len() == t.shape.len()
                    && declared
                        .iter()
                        .zip(&t.shape)
                        .all(|(d, &s)| d.is_none_or(|d| d < 0 || d as usize == s));
                if !ok && numel(&t.shape) > 0 {
                    return Err(LoadError::Invalid(format!(
                        "graph output `{}` is declared with shape {:?} but computes {:?}",
                        o.name(),
                        declared,
                        t.shape
                    )));
                }
            }
        }
        outputs.push(id);
    }
    Ok(outputs)
}

/// The value of a `Constant` node.
fn constant_value(attrs: &Attrs) -> Result<TensorData, OpError> {
    if let Some(t) = attrs.tensor_opt("value") {
        return Ok(t.clone());
    }
    if let Some(v) = attrs.float_opt("value_float")? {
        return Ok(TensorData::from_f32(vec![], &[v]));
    }
    if let Some(v) = attrs.floats_opt("value_floats")? {
        return Ok(TensorData::from_f32(vec![v.len()], &v));
    }
    if let Some(v) = attrs.int_opt("value_int")? {
        return Ok(TensorData::from_i64(vec![], &[v]));
    }
    if let Some(v) = attrs.ints_opt("value_ints")? {
        return Ok(TensorData::from_i64(vec![v.len()], &v));
    }
    if attrs.has("sparse_value") || attrs.has("value_string") || attrs.has("value_strings") {
        return Err(OpError::Unsupported(
            "Constant with sparse or string value".into(),
        ));
    }
    Err(OpError::Attribute {
        name: "value".into(),
        message: "Constant node has no value".into(),
    })
}
