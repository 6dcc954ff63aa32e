//! Temporary: emission glue pending the kernel API.
#![allow(missing_docs, unused)]
use super::*;
use crate::emit::NodeCx;
use crate::ir::TensorData;
use proc_macro2::TokenStream;
fn pending() -> OpError {
    OpError::Unsupported("emission pending".into())
}
pub fn conv(_: &conv::Conv, _: &NodeCx<'_>) -> Result<TokenStream, OpError> {
    Err(pending())
}
pub fn unary(_: &unary::Unary, _: &NodeCx<'_>) -> Result<TokenStream, OpError> {
    Err(pending())
}
pub fn binary(_: &binary::Binary, _: &NodeCx<'_>) -> Result<TokenStream, OpError> {
    Err(pending())
}
pub fn pool(_: &pool::Pool, _: &NodeCx<'_>) -> Result<TokenStream, OpError> {
    Err(pending())
}
pub fn gemm(_: &gemm::Gemm, _: &NodeCx<'_>) -> Result<TokenStream, OpError> {
    Err(pending())
}
pub fn eval_unary(_: &unary::Unary, _: &[Option<&TensorData>]) -> Result<Vec<TensorData>, OpError> {
    Err(OpError::NotFoldable)
}
pub fn eval_binary(
    _: &binary::Binary,
    _: &[Option<&TensorData>],
    _: &[OutputInfo],
) -> Result<Vec<TensorData>, OpError> {
    Err(OpError::NotFoldable)
}
