//! Operators: one file per ONNX operator, registered in [`REGISTRY`].
//!
//! Each operator file holds attribute parsing (with the ONNX defaults of each
//! opset), shape inference, the multiply-accumulate count, host evaluation
//! (used for constant folding) and emission of the kernel call.

use std::any::Any;
use std::fmt::Debug;
use std::sync::Arc;

use proc_macro2::TokenStream;

use crate::attrs::Attrs;
use crate::emit::NodeCx;
use crate::ir::{DType, Shape, TensorData};

/// What an operator knows about one of its inputs during shape inference.
#[derive(Clone, Copy, Debug)]
pub struct InputInfo<'a> {
    /// Element type.
    pub dtype: DType,
    /// Static shape.
    pub shape: &'a [usize],
    /// Data, when the input is a constant.
    pub data: Option<&'a TensorData>,
}

/// Inferred type and shape of an output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputInfo {
    /// Element type.
    pub dtype: DType,
    /// Static shape.
    pub shape: Shape,
}

impl OutputInfo {
    /// Convenience constructor.
    pub fn new(dtype: DType, shape: Shape) -> Self {
        OutputInfo { dtype, shape }
    }
}

/// An error of an operator, without the node context (added by the caller).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OpError {
    /// An attribute is missing, of the wrong type, or has a bad value.
    #[error("attribute `{name}`: {message}")]
    Attribute {
        /// Attribute name.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// Input shapes or types are inconsistent.
    #[error("{0}")]
    Shape(String),
    /// The node uses a feature zant does not support (yet).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The op cannot be evaluated on the host (not foldable).
    #[error("cannot be evaluated at compile time")]
    NotFoldable,
}

/// Shorthand for a shape error.
pub fn shape_err(msg: impl Into<String>) -> OpError {
    OpError::Shape(msg.into())
}

/// Shorthand for an unsupported-feature error.
pub fn unsupported(msg: impl Into<String>) -> OpError {
    OpError::Unsupported(msg.into())
}

/// One way an operator computes output 0 over the storage of an input (the
/// planner's aliasing rule: "output 0 may alias input `input`").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InPlace {
    /// The input whose storage output 0 takes over; it must be an arena
    /// tensor of the same element type that no later node reads.
    pub input: usize,
    /// Output 0 may be smaller than the input (it then occupies the first
    /// bytes of the input's buffer); otherwise both must be the same size.
    pub shrink: bool,
    /// Output 0 may be larger than the input: the input's buffer is then
    /// planned at the larger size for its whole life.
    pub grow: bool,
    /// Bytes of arena scratch the in-place form needs while the node runs
    /// (bound as `s0`, elements of output 0's type; see
    /// [`NodeCx::scratch`](crate::emit::NodeCx::scratch)).
    pub scratch: usize,
}

impl InPlace {
    /// An element-wise form: same size, no scratch.
    pub fn same_size(input: usize) -> Self {
        InPlace {
            input,
            shrink: false,
            grow: false,
            scratch: 0,
        }
    }
}

/// A parsed operator of one node.
pub trait Op: Debug + Send + Sync + Any {
    /// Name shown in tables, e.g. `Conv` or `Conv+Relu` after fusion.
    fn name(&self) -> String;

    /// Infers output types and shapes from the inputs (`None` = omitted optional input).
    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError>;

    /// Multiply-accumulates performed for these input and output shapes.
    fn macs(&self, _inputs: &[Option<InputInfo<'_>>], _outputs: &[OutputInfo]) -> u64 {
        0
    }

    /// Evaluates the op on constant inputs (constant folding).
    fn eval(
        &self,
        _inputs: &[Option<&TensorData>],
        _outputs: &[OutputInfo],
    ) -> Result<Vec<TensorData>, OpError> {
        Err(OpError::NotFoldable)
    }

    /// Emits the Rust statements computing the node.
    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError>;

    /// Output 0 may be written over input `i` when that input dies at this node
    /// (element-wise ops). The emitter then calls the in-place form.
    fn inplace_input(&self) -> Option<usize> {
        None
    }

    /// The ways output 0 may be computed over one of the inputs, in order of
    /// preference; the planner takes the first whose input dies at this node
    /// and fits (see [`InPlace`]). The default is the element-wise form of
    /// [`inplace_input`](Self::inplace_input): same size, no scratch.
    fn inplace_forms(&self) -> Vec<InPlace> {
        self.inplace_input()
            .map(InPlace::same_size)
            .into_iter()
            .collect()
    }

    /// False for inputs used only at compile time (a Reshape's shape, Clip's
    /// bounds, Pad's pads…): they are not bound or stored in the generated code.
    fn reads_input(&self, _i: usize) -> bool {
        true
    }

    /// Output 0 is input 0 reinterpreted with another shape (zero-copy view).
    fn is_view(&self) -> bool {
        false
    }

    /// Names of imported nodes this op absorbed that the report cannot place
    /// by order (see [`NodeKernel::absorbs`](crate::emit::NodeKernel)).
    fn absorbs(&self) -> Vec<String> {
        Vec::new()
    }

    /// For downcasting in passes.
    fn as_any(&self) -> &dyn Any;
}

/// Parses a node's attributes into an [`Op`] for the given opset.
pub type ParseFn = fn(&Attrs, i64) -> Result<Arc<dyn Op>, OpError>;

/// One registered operator.
#[derive(Debug, Clone, Copy)]
pub struct OpDef {
    /// ONNX op type.
    pub op_type: &'static str,
    /// Lowest opset zant accepts for it.
    pub since: i64,
    /// Parser.
    pub parse: ParseFn,
}

/// Builds [`REGISTRY`] from rows grouped by the module that implements them.
/// The modules themselves are declared above as ordinary items, so rustfmt
/// and every other tool sees their files.
macro_rules! registry {
    ($($module:ident => [$($op:literal : $since:literal => $parse:path),* $(,)?];)*) => {
        /// Every supported operator, by ONNX op type.
        pub static REGISTRY: &[OpDef] = &[
            $($(OpDef { op_type: $op, since: $since, parse: $parse },)*)*
        ];
    };
}

pub mod batch_norm;
pub mod binary;
pub mod cast;
pub mod concat;
pub mod conv;
pub mod conv_transpose;
pub mod expand;
pub mod gather;
pub mod gemm;
pub mod matmul;
pub mod norm;
pub mod pad;
pub mod pool;
pub mod qcontrib;
pub mod qinteger;
pub mod qlinear;
pub mod quant;
pub mod reduce;
pub mod resize;
pub mod shape;
pub mod slice;
pub mod softmax;
pub mod transpose;
pub mod unary;
pub mod view;
pub mod where_op;

mod activation;
pub mod conv_direct;
pub mod conv_fast;
pub mod conv_inplace;
pub mod conv_residual;
pub mod movebytes;
pub mod qconv_fast;
pub mod util;
pub use activation::{Activation, ActivationExt};

registry! {
    conv => ["Conv": 1 => conv::parse];
    gemm => ["Gemm": 1 => gemm::parse];
    pool => [
        "MaxPool": 1 => pool::parse_max,
        "AveragePool": 1 => pool::parse_average,
        "GlobalMaxPool": 1 => pool::parse_global_max,
        "GlobalAveragePool": 1 => pool::parse_global_average,
    ];
    unary => [
        "Relu": 1 => unary::parse_relu,
        "LeakyRelu": 1 => unary::parse_leaky_relu,
        "Sigmoid": 1 => unary::parse_sigmoid,
        "HardSigmoid": 1 => unary::parse_hard_sigmoid,
        "HardSwish": 14 => unary::parse_hard_swish,
        "Tanh": 1 => unary::parse_tanh,
        "Elu": 1 => unary::parse_elu,
        "Clip": 1 => unary::parse_clip,
        "Erf": 9 => unary::parse_erf,
        "Exp": 1 => unary::parse_exp,
        "Log": 1 => unary::parse_log,
        "Neg": 1 => unary::parse_neg,
        "Abs": 1 => unary::parse_abs,
        "Sqrt": 1 => unary::parse_sqrt,
        "Reciprocal": 1 => unary::parse_reciprocal,
        "Floor": 1 => unary::parse_floor,
        "Ceil": 1 => unary::parse_ceil,
        "Softplus": 1 => unary::parse_softplus,
        "Round": 11 => unary::parse_round,
        "Sign": 9 => unary::parse_sign,
    ];
    binary => [
        "Add": 1 => binary::parse_add,
        "Sub": 1 => binary::parse_sub,
        "Mul": 1 => binary::parse_mul,
        "Div": 1 => binary::parse_div,
        "Pow": 1 => binary::parse_pow,
        "Max": 1 => binary::parse_max,
        "Min": 1 => binary::parse_min,
        "Sum": 1 => binary::parse_sum,
        "Mean": 1 => binary::parse_mean,
        "PRelu": 1 => binary::parse_prelu,
        "Equal": 1 => binary::parse_equal,
        "Less": 1 => binary::parse_less,
        "Greater": 1 => binary::parse_greater,
        "LessOrEqual": 12 => binary::parse_less_or_equal,
        "GreaterOrEqual": 12 => binary::parse_greater_or_equal,
    ];
    batch_norm => ["BatchNormalization": 1 => batch_norm::parse];
    norm => [
        "InstanceNormalization": 1 => norm::parse_instance,
        "LayerNormalization": 17 => norm::parse_layer,
    ];
    reduce => [
        "ReduceMean": 1 => reduce::parse_mean,
        "ReduceSum": 1 => reduce::parse_sum,
        "ReduceMax": 1 => reduce::parse_max,
        "ReduceMin": 1 => reduce::parse_min,
        "ReduceProd": 1 => reduce::parse_prod,
        "ReduceSumSquare": 1 => reduce::parse_sum_square,
        "ReduceL2": 1 => reduce::parse_l2,
        "ReduceL1": 1 => reduce::parse_l1,
        "ReduceLogSum": 1 => reduce::parse_log_sum,
        "ReduceLogSumExp": 1 => reduce::parse_log_sum_exp,
    ];
    conv_transpose => ["ConvTranspose": 1 => conv_transpose::parse];
    resize => [
        "Resize": 10 => resize::parse_resize,
        "Upsample": 7 => resize::parse_upsample,
    ];
    matmul => ["MatMul": 1 => matmul::parse];
    softmax => [
        "Softmax": 1 => softmax::parse_softmax,
        "LogSoftmax": 1 => softmax::parse_log_softmax,
    ];
    view => [
        "Reshape": 1 => view::parse_reshape,
        "Flatten": 1 => view::parse_flatten,
        "Squeeze": 1 => view::parse_squeeze,
        "Unsqueeze": 1 => view::parse_unsqueeze,
        "Identity": 1 => view::parse_identity,
        "Dropout": 1 => view::parse_dropout,
    ];
    transpose => ["Transpose": 1 => transpose::parse];
    concat => ["Concat": 1 => concat::parse_concat, "Split": 1 => concat::parse_split];
    slice => ["Slice": 1 => slice::parse];
    gather => ["Gather": 1 => gather::parse];
    shape => [
        "Shape": 1 => shape::parse_shape,
        "Size": 1 => shape::parse_size,
        "ConstantOfShape": 9 => shape::parse_constant_of_shape,
        "Range": 11 => shape::parse_range,
    ];
    cast => ["Cast": 1 => cast::parse, "CastLike": 15 => cast::parse_cast_like];
    pad => ["Pad": 1 => pad::parse];
    where_op => ["Where": 9 => where_op::parse];
    expand => ["Expand": 8 => expand::parse_expand, "Tile": 6 => expand::parse_tile];
    quant => [
        "QuantizeLinear": 10 => quant::parse_quantize,
        "DequantizeLinear": 10 => quant::parse_dequantize,
    ];
    qlinear => [
        "QLinearConv": 10 => qlinear::parse_conv,
        "QLinearMatMul": 10 => qlinear::parse_matmul,
    ];
    qinteger => [
        "ConvInteger": 10 => qinteger::parse_conv_integer,
        "MatMulInteger": 10 => qinteger::parse_matmul_integer,
    ];
}

/// Looks up an operator by ONNX op type.
pub fn lookup(op_type: &str) -> Option<&'static OpDef> {
    REGISTRY.iter().find(|d| d.op_type == op_type)
}

/// The `com.microsoft` domain of onnxruntime's contrib operators.
pub const MS_DOMAIN: &str = "com.microsoft";

/// The `com.microsoft` operators zant compiles: the QOperator ops of
/// onnxruntime's quantizer (`since` is that domain's opset, 1).
pub static MS_REGISTRY: &[OpDef] = &[
    OpDef {
        op_type: "QLinearAdd",
        since: 1,
        parse: qcontrib::parse_qlinear_add,
    },
    OpDef {
        op_type: "QLinearMul",
        since: 1,
        parse: qcontrib::parse_qlinear_mul,
    },
    OpDef {
        op_type: "QLinearGlobalAveragePool",
        since: 1,
        parse: qcontrib::parse_qlinear_global_average_pool,
    },
    OpDef {
        op_type: "QLinearAveragePool",
        since: 1,
        parse: qcontrib::parse_qlinear_average_pool,
    },
    OpDef {
        op_type: "QLinearSigmoid",
        since: 1,
        parse: qcontrib::parse_qlinear_sigmoid,
    },
    OpDef {
        op_type: "QLinearLeakyRelu",
        since: 1,
        parse: qcontrib::parse_qlinear_leaky_relu,
    },
    OpDef {
        op_type: "QLinearConcat",
        since: 1,
        parse: qcontrib::parse_qlinear_concat,
    },
    OpDef {
        op_type: "QLinearSoftmax",
        since: 1,
        parse: qcontrib::parse_qlinear_softmax,
    },
    OpDef {
        op_type: "QGemm",
        since: 1,
        parse: qcontrib::parse_qgemm,
    },
];

/// Looks up an operator by domain and op type (`""` and `ai.onnx` are the
/// default domain).
pub fn lookup_in(domain: &str, op_type: &str) -> Option<&'static OpDef> {
    match domain {
        "" | "ai.onnx" => lookup(op_type),
        MS_DOMAIN => MS_REGISTRY.iter().find(|d| d.op_type == op_type),
        _ => None,
    }
}
