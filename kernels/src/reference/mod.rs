//! Reference kernels: plain, correct loops, one module per operator family.
//! They are the oracle for any optimized variant.

pub mod activation;
pub mod binary;
pub mod conv;
pub mod gemm;
pub mod matmul;
pub mod norm;
pub mod pool;
pub mod scalar;
pub mod shape;
pub mod softmax;
pub mod unary;
