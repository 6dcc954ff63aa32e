//! Host-side helpers for data-movement operators: run a generic kernel
//! (`fn<T: Copy>`) over raw little-endian bytes by viewing elements as
//! `[u8; N]`, so constant folding works for every element type.

use super::{unsupported, OpError};
use crate::emit::{arr_usize_n, lit_usize};
use proc_macro2::TokenStream;
use quote::quote;
use zant_kernels::reference::shape::{Dims, MAX_RANK};

/// Splits raw bytes into `N`-byte elements.
pub fn elems<const N: usize>(b: &[u8]) -> Vec<[u8; N]> {
    b.chunks_exact(N)
        .map(|c| {
            let mut a = [0u8; N];
            a.copy_from_slice(c);
            a
        })
        .collect()
}

/// Joins `N`-byte elements back into raw bytes.
pub fn join<const N: usize>(v: &[[u8; N]]) -> Vec<u8> {
    v.iter().flatten().copied().collect()
}

/// Runs `$body` with `$n` bound to a `const usize` equal to the element size
/// (1, 2, 4 or 8 bytes).
macro_rules! per_size {
    ($size:expr, $n:ident => $body:expr) => {
        match $size {
            1 => {
                const $n: usize = 1;
                Ok($body)
            }
            2 => {
                const $n: usize = 2;
                Ok($body)
            }
            4 => {
                const $n: usize = 4;
                Ok($body)
            }
            8 => {
                const $n: usize = 8;
                Ok($body)
            }
            s => Err($crate::ops::unsupported(format!("element size {s}"))),
        }
    };
}
pub(crate) use per_size;

/// Fails for tensors of rank above the kernels' [`MAX_RANK`].
pub fn check_rank(what: &str, rank: usize) -> Result<(), OpError> {
    if rank > MAX_RANK {
        return Err(unsupported(format!(
            "{what} of rank {rank} (the kernels support rank <= {MAX_RANK})"
        )));
    }
    Ok(())
}

/// A kernel [`Dims`] from a shape of rank <= 6 (padded with 1s).
pub fn dims(shape: &[usize]) -> Dims {
    let mut d = [1usize; MAX_RANK];
    d[..shape.len()].copy_from_slice(shape);
    d
}

/// `[a, b, …]` literal of a `Dims` (6 entries, padded with 1s).
pub fn dims_tokens(shape: &[usize]) -> TokenStream {
    arr_usize_n(shape, MAX_RANK, 1)
}

/// `[a, b, …]` literal of `isize` values padded with `fill` to 6 entries.
pub fn isize_tokens(v: &[isize], fill: isize) -> TokenStream {
    let mut a = v.to_vec();
    a.resize(MAX_RANK.max(v.len()), fill);
    let items = a.iter().map(|&x| proc_macro2::Literal::isize_unsuffixed(x));
    quote!([#(#items),*])
}

/// `usize` literal.
pub fn lit(v: usize) -> proc_macro2::Literal {
    lit_usize(v)
}

/// A typed Rust literal of the first element of `bytes`, read as `dt`.
pub fn scalar_tokens(dt: crate::ir::DType, bytes: &[u8]) -> Result<TokenStream, OpError> {
    use crate::ir::DType as D;
    use proc_macro2::Literal as L;
    let b = |n: usize| -> Result<[u8; 8], OpError> {
        let mut a = [0u8; 8];
        let src = bytes
            .get(..n)
            .ok_or_else(|| super::shape_err("a scalar value is empty"))?;
        a[..n].copy_from_slice(src);
        Ok(a)
    };
    Ok(match dt {
        D::F32 => {
            let v = f32::from_le_bytes(b(4)?[..4].try_into().unwrap_or([0; 4]));
            let t = crate::emit::lit_f32(v);
            quote!((#t as f32))
        }
        D::F64 => {
            let v = f64::from_le_bytes(b(8)?);
            if v.is_finite() {
                let l = L::f64_suffixed(v);
                quote!(#l)
            } else if v.is_nan() {
                quote!(f64::NAN)
            } else if v > 0.0 {
                quote!(f64::INFINITY)
            } else {
                quote!(f64::NEG_INFINITY)
            }
        }
        D::I8 => L::i8_suffixed(b(1)?[0] as i8).into_token_stream(),
        D::U8 => L::u8_suffixed(b(1)?[0]).into_token_stream(),
        D::I16 => L::i16_suffixed(i16::from_le_bytes([b(2)?[0], b(2)?[1]])).into_token_stream(),
        D::U16 | D::F16 => {
            L::u16_suffixed(u16::from_le_bytes([b(2)?[0], b(2)?[1]])).into_token_stream()
        }
        D::I32 => L::i32_suffixed(i32::from_le_bytes(b(4)?[..4].try_into().unwrap_or([0; 4])))
            .into_token_stream(),
        D::U32 => L::u32_suffixed(u32::from_le_bytes(b(4)?[..4].try_into().unwrap_or([0; 4])))
            .into_token_stream(),
        D::I64 => L::i64_suffixed(i64::from_le_bytes(b(8)?)).into_token_stream(),
        D::U64 => L::u64_suffixed(u64::from_le_bytes(b(8)?)).into_token_stream(),
        D::Bool => {
            if b(1)?[0] != 0 {
                quote!(true)
            } else {
                quote!(false)
            }
        }
    })
}

use quote::ToTokens;

/// The [`InputInfo`](super::InputInfo) of a constant tensor.
pub fn const_info(t: &crate::ir::TensorData) -> Option<super::InputInfo<'_>> {
    Some(super::InputInfo {
        dtype: t.dtype,
        shape: &t.shape,
        data: Some(t),
    })
}
