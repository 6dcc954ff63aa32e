//! In-place forms of [`ConvFast`]: which convolutions may write their output
//! over their input (the planner's aliasing rule) and the calls of the
//! in-place drivers (`fast::inplace`).
//!
//! - A 1×1, stride-1 convolution runs over its input with a scratch of `k`
//!   channels × a tile of pixels ([`pointwise_scratch_len`]); when it has more
//!   output than input channels, the input's buffer is planned at the
//!   output's size (the in-place form still needs less than input + output).
//! - A depthwise convolution whose output plane is no larger than its input
//!   plane runs over it with a scratch of padded input rows, no more than one
//!   input plane but for planes smaller than the filter's rows
//!   ([`depthwise_scratch_len`]).
//!
//! The general direct convolution has no in-place form: each output row reads
//! several input rows of every channel.

use proc_macro2::TokenStream;
use quote::quote;
use zant_kernels::fast::inplace::{depthwise_scratch_len, pointwise_scratch_len};

use super::conv_fast::{ConvFast, FastKind};
use super::{ActivationExt, InPlace, OpError};
use crate::emit::{arr_usize, lit_usize, NodeCx};
use crate::ir::numel;

const F32: usize = std::mem::size_of::<f32>();

/// The in-place forms of `conv` (over input 0), if it has one.
pub fn forms(conv: &ConvFast) -> Vec<InPlace> {
    let in_plane = numel(&conv.in_hw);
    let out_plane = numel(&conv.out_hw);
    let scratch = match conv.kind {
        FastKind::Pointwise if in_plane == out_plane => {
            pointwise_scratch_len(conv.in_channels, out_plane)
        }
        FastKind::Depthwise if out_plane <= in_plane => depthwise_scratch_len(&conv.depthwise()),
        _ => return Vec::new(),
    };
    vec![InPlace {
        input: 0,
        shrink: true,
        grow: conv.kind == FastKind::Pointwise,
        scratch: scratch * F32,
    }]
}

/// The call of the in-place driver for `conv` (`y0` holds the input on entry,
/// `s0` is the scratch).
pub fn emit(conv: &ConvFast, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
    let act = conv.activation.tokens(&quote!(zk::reference::activation));
    let (ws, b, y, s) = (cx.x(1), cx.x_opt(2), cx.y(0), cx.scratch());
    match conv.kind {
        FastKind::Pointwise => {
            let f = cx.micro_kernel("fast::inplace::pointwise_inplace");
            let [m, k, n] =
                [conv.out_channels, conv.in_channels, numel(&conv.out_hw)].map(lit_usize);
            Ok(quote! {
                #f(#ws, #b, #y, #s, &zk::fast::inplace::PointwiseParams {
                    m: #m, k: #k, n: #n, activation: #act,
                });
            })
        }
        FastKind::Depthwise => {
            let f = cx.micro_kernel("fast::inplace::depthwise_inplace");
            let c = lit_usize(conv.out_channels);
            let [ihw, ohw, ker, st, pb] = [
                conv.in_hw,
                conv.out_hw,
                conv.kernel,
                conv.strides,
                conv.pads_begin,
            ]
            .map(|v| arr_usize(&v));
            Ok(quote! {
                #f(#ws, #b, #y, #s, &zk::fast::depthwise::DepthwiseParams {
                    channels: #c, in_hw: #ihw, out_hw: #ohw, kernel: #ker, strides: #st,
                    pads_begin: #pb, activation: #act,
                });
            })
        }
        FastKind::Direct => Err(super::unsupported(
            "the direct convolution has no in-place form",
        )),
    }
}
