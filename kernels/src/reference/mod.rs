//! Reference kernels: plain, correct loops, one module per operator family.
//! They are the oracle for any optimized variant.
//!
//! # Conventions
//!
//! * Tensors are dense, row-major slices; layouts are NCHW (conv, pool).
//! * Shapes are [`shape::Dims`] (`[usize; 6]`) plus a `rank`; inputs that
//!   broadcast are left-padded with 1s to the output rank.
//! * "Axis" kernels take the tensor as `[outer, axis_len, inner]`.
//! * Spatial kernels (conv, pool) always take 3 spatial dims; 1-D and 2-D
//!   ops put unit dims (kernel 1, stride 1, pad 0) in front.
//! * Attributes arrive resolved: `auto_pad` as explicit pads, `ceil_mode` as
//!   the output shape, negative axes/indices normalized, Resize `sizes` as
//!   scales, ONNX defaults filled in.
//! * Kernels never allocate; the few that need working memory (RNNs) take a
//!   scratch slice. They do not panic on valid input; out-of-range indices
//!   and mismatched lengths are caller bugs (checked by `debug_assert!`).
//!
//! # ONNX operator -> kernel
//!
//! | ONNX | kernel |
//! |---|---|
//! | Conv | [`conv::conv`] (fused [`activation::Activation`]) |
//! | ConvTranspose | [`conv::conv_transpose`] |
//! | Gemm | [`gemm::gemm`] |
//! | MatMul | [`matmul::matmul`] |
//! | Add Sub Mul Div Pow Max Min Mod PRelu | [`binary::binary`], [`binary::binary_inplace`] |
//! | Sum Mean Max Min (n-ary) | [`binary::variadic`] |
//! | Equal Less LessOrEqual Greater GreaterOrEqual | [`binary::compare`] |
//! | And Or Xor / Not | [`binary::logical`] / [`unary::not`] |
//! | BitShift | [`binary::bit_shift`] |
//! | Expand | [`binary::expand`] |
//! | Relu LeakyRelu Sigmoid HardSigmoid HardSwish Tanh Clip Elu Selu Celu ThresholdedRelu Softplus Softsign Gelu Mish | [`unary::unary`] with [`unary::UnaryOp::Act`] |
//! | Erf Exp Log Neg Abs Sqrt Reciprocal Floor Ceil Round Sign Identity | [`unary::unary`] |
//! | Sin Cos Tan Asin Acos Atan Sinh Cosh Asinh Acosh Atanh | [`unary::unary`] |
//! | Neg Abs Relu Clip Sign on integers | [`unary::unary_generic`] |
//! | IsNaN IsInf | [`unary::is_nan`], [`unary::is_inf`] |
//! | MaxPool AveragePool | [`pool::max_pool`], [`pool::average_pool`] |
//! | GlobalAveragePool GlobalMaxPool | [`pool::global_average_pool`], [`pool::global_max_pool`] |
//! | Softmax LogSoftmax Hardmax | [`softmax::softmax`], [`softmax::log_softmax`], [`softmax::hardmax`] |
//! | BatchNormalization InstanceNormalization LayerNormalization GroupNormalization | [`norm`] |
//! | LRN MeanVarianceNormalization LpNormalization | [`norm`] |
//! | Transpose Tile | [`transpose::transpose`], [`transpose::tile`] |
//! | Concat Split | [`concat::concat`], [`concat::split`] |
//! | Slice | [`slice::slice`] |
//! | Pad | [`pad::pad`] |
//! | Gather GatherElements | [`gather::gather`], [`gather::gather_elements`] |
//! | Where | [`where_::where_`] |
//! | Cast | [`cast::cast`] |
//! | Reduce{Sum,Mean,Max,Min,Prod,SumSquare,L1,L2,LogSum,LogSumExp} | [`reduce::reduce`] |
//! | ArgMax ArgMin | [`reduce::argmax`], [`reduce::argmin`] |
//! | Resize Upsample | [`resize::resize`] |
//! | QuantizeLinear DequantizeLinear DynamicQuantizeLinear | [`quant`] |
//! | MatMulInteger QLinearMatMul ConvInteger QLinearConv | [`quant`] |
//! | QLinearConv QLinearMatMul, QDQ Add (integer-only requantization) | [`qint`] |
//! | com.microsoft QLinearAdd QGemm | [`qint`] |
//! | com.microsoft QLinearMul QLinear{Global,}AveragePool QLinearSigmoid QLinearLeakyRelu QLinearConcat QLinearSoftmax | [`qops`] |
//! | RNN GRU LSTM | [`rnn::rnn`] |
//! | LpPool RMSNormalization Shrink | [`pool::lp_pool`], [`norm::rms_norm`], [`unary::UnaryOp::Shrink`] |
//! | CumSum Trilu OneHot TopK | [`misc`] |
//! | BitwiseAnd BitwiseOr BitwiseXor BitwiseNot | [`misc::bitwise`], [`misc::bitwise_not`] |
//! | DepthToSpace SpaceToDepth | [`misc::depth_to_space`], [`misc::space_to_depth`] |
//! | ScatterND ScatterElements GatherND | [`misc`] |
//!
//! Reshape, Flatten, Squeeze, Unsqueeze, Identity and Dropout (inference)
//! need no kernel: the generator aliases or copies the buffer.

pub mod activation;
pub mod binary;
pub mod cast;
pub mod concat;
pub mod conv;
pub mod gather;
pub mod gemm;
pub mod matmul;
pub mod misc;
pub mod norm;
pub mod pad;
pub mod pool;
pub mod qint;
pub mod qops;
pub mod quant;
pub mod reduce;
pub mod resize;
pub mod rnn;
pub mod scalar;
pub mod shape;
pub mod slice;
pub mod softmax;
pub mod transpose;
pub mod unary;
pub mod where_;
