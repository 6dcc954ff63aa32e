//! Reference kernels: plain, correct loops, one module per operator family.
//! They are the oracle for any optimized variant.

pub mod activation;
pub mod binary;
pub mod cast;
pub mod concat;
pub mod conv;
pub mod gather;
pub mod gemm;
pub mod matmul;
pub mod norm;
pub mod pad;
pub mod pool;
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
