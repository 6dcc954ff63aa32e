//! The typed, statically shaped intermediate representation.
//!
//! A [`Graph`] is a list of [`Tensor`]s and a list of [`Node`]s in a valid
//! execution order. Every tensor has an element type and a static shape;
//! constants carry their data. A graph is immutable once built: passes take a
//! graph and return a new one.

use std::fmt;
use std::sync::Arc;

use crate::ops::{InputInfo, Op};

/// Element type of a tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    /// 32-bit IEEE float.
    F32,
    /// 16-bit IEEE float.
    F16,
    /// 64-bit IEEE float.
    F64,
    /// Signed 8-bit integer.
    I8,
    /// Unsigned 8-bit integer.
    U8,
    /// Signed 16-bit integer.
    I16,
    /// Unsigned 16-bit integer.
    U16,
    /// Signed 32-bit integer.
    I32,
    /// Unsigned 32-bit integer.
    U32,
    /// Signed 64-bit integer.
    I64,
    /// Unsigned 64-bit integer.
    U64,
    /// Boolean, one byte per element (0 or 1).
    Bool,
}

impl DType {
    /// Maps an ONNX `TensorProto.DataType` code; `None` for types zant does not know.
    pub fn from_onnx(code: i32) -> Option<DType> {
        Some(match code {
            1 => DType::F32,
            2 => DType::U8,
            3 => DType::I8,
            4 => DType::U16,
            5 => DType::I16,
            6 => DType::I32,
            7 => DType::I64,
            9 => DType::Bool,
            10 => DType::F16,
            11 => DType::F64,
            12 => DType::U32,
            13 => DType::U64,
            _ => return None,
        })
    }

    /// The ONNX name of an ONNX data type code, for error messages.
    pub fn onnx_name(code: i32) -> &'static str {
        match code {
            0 => "UNDEFINED",
            1 => "FLOAT",
            2 => "UINT8",
            3 => "INT8",
            4 => "UINT16",
            5 => "INT16",
            6 => "INT32",
            7 => "INT64",
            8 => "STRING",
            9 => "BOOL",
            10 => "FLOAT16",
            11 => "DOUBLE",
            12 => "UINT32",
            13 => "UINT64",
            14 => "COMPLEX64",
            15 => "COMPLEX128",
            16 => "BFLOAT16",
            17..=20 => "FLOAT8",
            21 => "UINT4",
            22 => "INT4",
            23 => "FLOAT4E2M1",
            _ => "unknown",
        }
    }

    /// Size of one element in bytes.
    pub fn size(self) -> usize {
        match self {
            DType::I8 | DType::U8 | DType::Bool => 1,
            DType::F16 | DType::I16 | DType::U16 => 2,
            DType::F32 | DType::I32 | DType::U32 => 4,
            DType::F64 | DType::I64 | DType::U64 => 8,
        }
    }

    /// The Rust element type name used in generated code.
    pub fn rust_name(self) -> &'static str {
        match self {
            DType::F32 => "f32",
            DType::F16 => "u16",
            DType::F64 => "f64",
            DType::I8 => "i8",
            DType::U8 => "u8",
            DType::I16 => "i16",
            DType::U16 => "u16",
            DType::I32 => "i32",
            DType::U32 => "u32",
            DType::I64 => "i64",
            DType::U64 => "u64",
            DType::Bool => "bool",
        }
    }

    /// True for floating-point types.
    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F16 | DType::F64)
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            DType::F32 => "float32",
            DType::F16 => "float16",
            DType::F64 => "float64",
            DType::I8 => "int8",
            DType::U8 => "uint8",
            DType::I16 => "int16",
            DType::U16 => "uint16",
            DType::I32 => "int32",
            DType::U32 => "uint32",
            DType::I64 => "int64",
            DType::U64 => "uint64",
            DType::Bool => "bool",
        };
        f.write_str(s)
    }
}

/// A static shape.
pub type Shape = Vec<usize>;

/// Number of elements of a shape (1 for a scalar).
pub fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// Formats a shape as `[1, 1, 28, 28]`.
pub fn fmt_shape(shape: &[usize]) -> String {
    let parts: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("[{}]", parts.join(", "))
}

/// Constant tensor data: raw little-endian bytes of a given type and shape.
#[derive(Clone, PartialEq)]
pub struct TensorData {
    /// Element type.
    pub dtype: DType,
    /// Shape.
    pub shape: Shape,
    /// `numel(shape) * dtype.size()` little-endian bytes.
    pub bytes: Vec<u8>,
}

impl fmt::Debug for TensorData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TensorData({} {}", self.dtype, fmt_shape(&self.shape))?;
        if self.bytes.len() <= 64 {
            write!(f, " {:?}", self.to_f64())?;
        }
        write!(f, ")")
    }
}

macro_rules! typed_access {
    ($($to:ident, $from:ident, $t:ty, $dt:expr;)*) => {$(
        /// Decodes the data as this element type (the data must be of it).
        pub fn $to(&self) -> Vec<$t> {
            debug_assert_eq!(self.dtype, $dt);
            self.bytes
                .chunks_exact(std::mem::size_of::<$t>())
                .map(|c| <$t>::from_le_bytes(c.try_into().expect("chunk size")))
                .collect()
        }
        /// Builds tensor data of this element type.
        pub fn $from(shape: Shape, values: &[$t]) -> TensorData {
            debug_assert_eq!(numel(&shape), values.len());
            let mut bytes = Vec::with_capacity(values.len() * std::mem::size_of::<$t>());
            for v in values {
                bytes.extend_from_slice(&v.to_le_bytes());
            }
            TensorData { dtype: $dt, shape, bytes }
        }
    )*};
}

impl TensorData {
    typed_access! {
        as_f32, from_f32, f32, DType::F32;
        as_f64_exact, from_f64, f64, DType::F64;
        as_i64, from_i64, i64, DType::I64;
        as_i32, from_i32, i32, DType::I32;
        as_i8, from_i8, i8, DType::I8;
        as_u8, from_u8, u8, DType::U8;
        as_i16, from_i16, i16, DType::I16;
        as_u16, from_u16, u16, DType::U16;
        as_u32, from_u32, u32, DType::U32;
        as_u64, from_u64, u64, DType::U64;
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        numel(&self.shape)
    }

    /// Builds boolean data.
    pub fn from_bool(shape: Shape, values: &[bool]) -> TensorData {
        TensorData {
            dtype: DType::Bool,
            shape,
            bytes: values.iter().map(|&b| b as u8).collect(),
        }
    }

    /// Every element converted to f64 (f16 decoded), for inspection and integer
    /// attributes-as-inputs (shapes, axes, pads).
    pub fn to_f64(&self) -> Vec<f64> {
        let b = &self.bytes;
        match self.dtype {
            DType::F32 => self.as_f32().into_iter().map(f64::from).collect(),
            DType::F64 => self.as_f64_exact(),
            DType::F16 => b
                .chunks_exact(2)
                .map(|c| f16_to_f32(u16::from_le_bytes([c[0], c[1]])) as f64)
                .collect(),
            DType::I8 => self.as_i8().into_iter().map(f64::from).collect(),
            DType::U8 => self.as_u8().into_iter().map(f64::from).collect(),
            DType::Bool => b.iter().map(|&v| (v != 0) as u8 as f64).collect(),
            DType::I16 => self.as_i16().into_iter().map(f64::from).collect(),
            DType::U16 => self.as_u16().into_iter().map(f64::from).collect(),
            DType::I32 => self.as_i32().into_iter().map(f64::from).collect(),
            DType::U32 => self.as_u32().into_iter().map(f64::from).collect(),
            DType::I64 => self.as_i64().into_iter().map(|v| v as f64).collect(),
            DType::U64 => self.as_u64().into_iter().map(|v| v as f64).collect(),
        }
    }

    /// Integer view of integer data (shapes, axes, indices). `None` for floats.
    pub fn to_i64(&self) -> Option<Vec<i64>> {
        Some(match self.dtype {
            DType::I64 => self.as_i64(),
            DType::I32 => self.as_i32().into_iter().map(i64::from).collect(),
            DType::I16 => self.as_i16().into_iter().map(i64::from).collect(),
            DType::I8 => self.as_i8().into_iter().map(i64::from).collect(),
            DType::U8 => self.as_u8().into_iter().map(i64::from).collect(),
            DType::U16 => self.as_u16().into_iter().map(i64::from).collect(),
            DType::U32 => self.as_u32().into_iter().map(i64::from).collect(),
            DType::U64 => self.as_u64().into_iter().map(|v| v as i64).collect(),
            DType::Bool => self.bytes.iter().map(|&v| (v != 0) as i64).collect(),
            _ => return None,
        })
    }

    /// The same data with another shape of equal element count.
    pub fn reshaped(&self, shape: Shape) -> TensorData {
        debug_assert_eq!(numel(&shape), self.numel());
        TensorData {
            dtype: self.dtype,
            shape,
            bytes: self.bytes.clone(),
        }
    }
}

/// Decodes an IEEE half-precision float.
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) & 1) as u32;
    let exp = ((h >> 10) & 0x1f) as u32;
    let frac = (h & 0x3ff) as u32;
    let bits = if exp == 0 {
        if frac == 0 {
            sign << 31
        } else {
            // subnormal: renormalize
            let mut e = 127 - 15 + 1;
            let mut f = frac;
            while f & 0x400 == 0 {
                f <<= 1;
                e -= 1;
            }
            (sign << 31) | ((e as u32) << 23) | ((f & 0x3ff) << 13)
        }
    } else if exp == 0x1f {
        (sign << 31) | (0xff << 23) | (frac << 13)
    } else {
        (sign << 31) | ((exp + 127 - 15) << 23) | (frac << 13)
    };
    f32::from_bits(bits)
}

/// Index of a tensor in [`Graph::tensors`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TensorId(pub usize);

/// A tensor of the graph.
#[derive(Clone, Debug)]
pub struct Tensor {
    /// Name in the ONNX model (unique in the graph).
    pub name: String,
    /// Element type.
    pub dtype: DType,
    /// Static shape.
    pub shape: Shape,
    /// Data for constants (initializers, folded values); `None` for activations.
    pub data: Option<Arc<TensorData>>,
}

impl Tensor {
    /// Number of elements.
    pub fn numel(&self) -> usize {
        numel(&self.shape)
    }
    /// Size in bytes.
    pub fn bytes(&self) -> usize {
        self.numel() * self.dtype.size()
    }
    /// True for a constant.
    pub fn is_const(&self) -> bool {
        self.data.is_some()
    }
}

/// A node: one operator application.
#[derive(Clone, Debug)]
pub struct Node {
    /// Node name (made unique and non-empty on import).
    pub name: String,
    /// ONNX op type as written in the model (`Conv`).
    pub op_type: String,
    /// Opset version of the node's domain.
    pub opset: i64,
    /// Inputs; `None` for an omitted optional input.
    pub inputs: Vec<Option<TensorId>>,
    /// Outputs.
    pub outputs: Vec<TensorId>,
    /// The parsed operator.
    pub op: Arc<dyn Op>,
}

impl Node {
    /// Input `i` if present.
    pub fn input(&self, i: usize) -> Option<TensorId> {
        self.inputs.get(i).copied().flatten()
    }
}

/// A typed, statically shaped graph in execution order.
#[derive(Clone, Debug)]
pub struct Graph {
    /// Model name (from the file name or the graph name).
    pub name: String,
    /// SHA-256 of the model file, hex.
    pub model_hash: String,
    /// Default-domain opset of the model.
    pub opset: i64,
    /// All tensors.
    pub tensors: Vec<Tensor>,
    /// Nodes in a valid execution order.
    pub nodes: Vec<Node>,
    /// Graph inputs that are not constants, in model order.
    pub inputs: Vec<TensorId>,
    /// Graph outputs, in model order.
    pub outputs: Vec<TensorId>,
}

impl Graph {
    /// The tensor with this id.
    pub fn tensor(&self, id: TensorId) -> &Tensor {
        &self.tensors[id.0]
    }

    /// Finds a tensor by name.
    pub fn find(&self, name: &str) -> Option<TensorId> {
        self.tensors
            .iter()
            .position(|t| t.name == name)
            .map(TensorId)
    }

    /// Type, shape and (for constants) data of tensor `id`, as operators
    /// see their inputs.
    pub fn input_info(&self, id: TensorId) -> InputInfo<'_> {
        let t = self.tensor(id);
        InputInfo {
            dtype: t.dtype,
            shape: &t.shape,
            data: t.data.as_deref(),
        }
    }

    /// Every input of `node` as given to [`Op::infer`] (`None` for an
    /// omitted optional input).
    pub fn input_infos(&self, node: &Node) -> Vec<Option<InputInfo<'_>>> {
        node.inputs
            .iter()
            .map(|id| id.map(|id| self.input_info(id)))
            .collect()
    }

    /// For each tensor, the index of the node producing it, if any.
    pub fn producers(&self) -> Vec<Option<usize>> {
        let mut p = vec![None; self.tensors.len()];
        for (i, n) in self.nodes.iter().enumerate() {
            for o in &n.outputs {
                p[o.0] = Some(i);
            }
        }
        p
    }

    /// For each tensor, the indices of the nodes reading it.
    pub fn consumers(&self) -> Vec<Vec<usize>> {
        let mut c = vec![Vec::new(); self.tensors.len()];
        for (i, n) in self.nodes.iter().enumerate() {
            for t in n.inputs.iter().flatten() {
                if !c[t.0].contains(&i) {
                    c[t.0].push(i);
                }
            }
        }
        c
    }
}
