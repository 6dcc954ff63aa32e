//! `ConvFast`: not an ONNX operator but what the passes turn a suitable 2-D
//! Conv (batch 1, f32, constant weights, no dilation) into when it does not
//! take the stride-1 [`ConvDirect`](super::conv_direct::ConvDirect) path:
//!
//! - [`FastKind::Pointwise`]: 1×1, stride 1, no padding, one group — a
//!   packed matrix product (`fast::matmul::matmul`);
//! - [`FastKind::Direct`]: one group, any kernel, strides and padding — the
//!   indirect direct convolution (`fast::conv::conv`) with a table of tap offsets;
//! - [`FastKind::Depthwise`]: `group = C = M` — `fast::depthwise::depthwise`.
//!
//! Inputs: 0 the activation, 1 the weights re-laid for the kernel, 2 the
//! optional bias, 3 (Direct only) the tap offsets (`u32`).

use std::any::Any;

use proc_macro2::TokenStream;
use quote::quote;
use zant_kernels::fast::conv::{im2col_len, DirectConvParams};
use zant_kernels::fast::depthwise::DepthwiseParams;
use zant_kernels::fast::matmul::MatmulParams;
use zant_kernels::micro::Portable;

use super::util::req;
use super::{Activation, ActivationExt, InPlace, InputInfo, Op, OpError, OutputInfo};
use crate::emit::{arr_usize, lit_usize, NodeCx};
use crate::ir::{numel, DType, TensorData};

/// Largest column tile [`ConvFast::im2col`] puts on the stack, in floats.
const IM2COL_MAX_FLOATS: usize = 1024;

/// Which fast kernel a [`ConvFast`] calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FastKind {
    /// 1×1 stride-1 convolution as a packed matrix product.
    Pointwise,
    /// General direct convolution through the indirect micro-kernel.
    Direct,
    /// Depthwise convolution.
    Depthwise,
}

/// A 2-D convolution on one of the fast kernels.
#[derive(Debug, Clone)]
pub struct ConvFast {
    /// Kernel.
    pub kind: FastKind,
    /// Input channels.
    pub in_channels: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Input height and width.
    pub in_hw: [usize; 2],
    /// Output height and width.
    pub out_hw: [usize; 2],
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Strides.
    pub strides: [usize; 2],
    /// Padding at the top and left.
    pub pads_begin: [usize; 2],
    /// Fused activation.
    pub activation: Activation,
}

impl ConvFast {
    /// The parameters of the general direct convolution's driver.
    pub fn direct(&self) -> DirectConvParams {
        DirectConvParams {
            in_channels: self.in_channels,
            out_channels: self.out_channels,
            in_hw: self.in_hw,
            out_hw: self.out_hw,
            kernel: self.kernel,
            strides: self.strides,
            pads_begin: self.pads_begin,
            activation: self.activation,
        }
    }

    /// Whether a [`FastKind::Direct`] convolution runs as a matrix product
    /// over gathered columns (`fast::conv::conv_im2col`) rather than the
    /// indirect direct convolution: when fewer than half of its outputs lie
    /// in the runs of four horizontal neighbours clear of the padding that
    /// the direct kernel computes in registers (the rest take its
    /// one-position border path), with at least 16 output channels (the
    /// gathering is shared by all of them) and a column tile of at most
    /// 1,024 floats (4 KiB on the stack). Taken on the kernel sets with an
    /// FPU micro-kernel ([`KernelSet::indirect_conv`](crate::kernel_set::KernelSet::indirect_conv)).
    pub fn im2col(&self) -> bool {
        // Output indices along one axis whose window lies inside the input.
        let inside = |axis: usize| {
            let (i, k, s, p) = (
                self.in_hw[axis],
                self.kernel[axis],
                self.strides[axis],
                self.pads_begin[axis],
            );
            (0..self.out_hw[axis])
                .filter(|&o| o * s >= p && o * s - p + k <= i)
                .count()
        };
        let fast = inside(0) * (inside(1) / 4 * 4);
        self.kind == FastKind::Direct
            && 2 * fast < numel(&self.out_hw)
            && self.out_channels >= 16
            && im2col_len(&self.direct()) <= IM2COL_MAX_FLOATS
    }

    /// The parameters of the depthwise kernels.
    pub(super) fn depthwise(&self) -> DepthwiseParams {
        DepthwiseParams {
            channels: self.out_channels,
            in_hw: self.in_hw,
            out_hw: self.out_hw,
            kernel: self.kernel,
            strides: self.strides,
            pads_begin: self.pads_begin,
            activation: self.activation,
        }
    }

    fn pointwise(&self) -> MatmulParams {
        let n = numel(&self.out_hw);
        MatmulParams {
            m: self.out_channels,
            k: self.in_channels,
            n,
            ldb: n,
            sb: 1,
            ldy: n,
            sy: 1,
            activation: self.activation,
        }
    }

    fn bias_input(&self) -> usize {
        2
    }
}

impl Op for ConvFast {
    fn name(&self) -> String {
        self.activation.suffixed(match self.kind {
            FastKind::Depthwise => "Conv(depthwise)",
            FastKind::Pointwise => "Conv(1x1)",
            FastKind::Direct => "Conv",
        })
    }

    fn infer(&self, _inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let [h, w] = self.out_hw;
        Ok(vec![OutputInfo::new(
            DType::F32,
            vec![1, self.out_channels, h, w],
        )])
    }

    fn macs(&self, _inputs: &[Option<InputInfo<'_>>], _outputs: &[OutputInfo]) -> u64 {
        let per_out = match self.kind {
            FastKind::Depthwise => 1,
            _ => self.in_channels,
        };
        (numel(&self.out_hw) * self.out_channels * per_out * self.kernel[0] * self.kernel[1]) as u64
    }

    fn eval(
        &self,
        inputs: &[Option<&TensorData>],
        outputs: &[OutputInfo],
    ) -> Result<Vec<TensorData>, OpError> {
        let (Some(Some(x)), Some(Some(w))) = (inputs.first(), inputs.get(1)) else {
            return Err(OpError::NotFoldable);
        };
        let (x, w) = (x.as_f32(), w.as_f32());
        let b = inputs
            .get(self.bias_input())
            .copied()
            .flatten()
            .map(|b| b.as_f32());
        let mut y = vec![0f32; numel(&outputs[0].shape)];
        match self.kind {
            FastKind::Pointwise => zant_kernels::fast::matmul::matmul::<Portable>(
                &w,
                &x,
                b.as_deref(),
                &mut y,
                &self.pointwise(),
            ),
            FastKind::Depthwise => zant_kernels::fast::depthwise::depthwise::<Portable>(
                &x,
                &w,
                b.as_deref(),
                &mut y,
                &self.depthwise(),
            ),
            FastKind::Direct => {
                let Some(Some(o)) = inputs.get(3) else {
                    return Err(OpError::NotFoldable);
                };
                zant_kernels::fast::conv::conv::<Portable>(
                    &x,
                    &w,
                    &o.as_u32(),
                    b.as_deref(),
                    &mut y,
                    &self.direct(),
                )
            }
        }
        Ok(vec![TensorData::from_f32(outputs[0].shape.clone(), &y)])
    }

    fn inplace_forms(&self) -> Vec<InPlace> {
        super::conv_inplace::forms(self)
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        req(&cx.inputs(), 0)?;
        if cx.inplace_form().is_some() {
            return super::conv_inplace::emit(self, cx);
        }
        let k = cx.kernels();
        let act = self.activation.tokens(&quote!(#k::activation));
        let (xs, ws, b, y) = (cx.x(0), cx.x(1), cx.x_opt(2), cx.y(0));
        let [ihw, ohw, ker, st, pb] = [
            self.in_hw,
            self.out_hw,
            self.kernel,
            self.strides,
            self.pads_begin,
        ]
        .map(|v| arr_usize(&v));
        Ok(match self.kind {
            FastKind::Pointwise => {
                let p = self.pointwise();
                let f = cx.micro_kernel("fast::matmul::matmul");
                let [m, kk, n] = [p.m, p.k, p.n].map(lit_usize);
                quote! {
                    #f(#ws, #xs, #b, #y, &zk::fast::matmul::MatmulParams {
                        m: #m, k: #kk, n: #n, ldb: #n, sb: 1, ldy: #n, sy: 1, activation: #act,
                    });
                }
            }
            FastKind::Depthwise => {
                let f = cx.micro_kernel("fast::depthwise::depthwise");
                let c = lit_usize(self.out_channels);
                quote! {
                    #f(#xs, #ws, #b, #y, &zk::fast::depthwise::DepthwiseParams {
                        channels: #c, in_hw: #ihw, out_hw: #ohw, kernel: #ker, strides: #st,
                        pads_begin: #pb, activation: #act,
                    });
                }
            }
            // On the cores with an FPU micro-kernel (`vfma`): in plain Rust
            // the direct convolution's border path is the cheaper one.
            FastKind::Direct if self.im2col() && cx.kernel_set().indirect_conv() => {
                let f = cx.micro_kernel("fast::conv::conv_im2col");
                let len = lit_usize(im2col_len(&self.direct()));
                let [ci, co] = [self.in_channels, self.out_channels].map(lit_usize);
                quote! {
                    let mut col = [0f32; #len];
                    #f(#xs, #ws, #b, &mut col, #y, &zk::fast::conv::DirectConvParams {
                        in_channels: #ci, out_channels: #co, in_hw: #ihw, out_hw: #ohw,
                        kernel: #ker, strides: #st, pads_begin: #pb, activation: #act,
                    });
                }
            }
            FastKind::Direct => {
                let f = cx.micro_kernel("fast::conv::conv");
                let o = cx.x(3);
                let [ci, co] = [self.in_channels, self.out_channels].map(lit_usize);
                quote! {
                    #f(#xs, #ws, #o, #b, #y, &zk::fast::conv::DirectConvParams {
                        in_channels: #ci, out_channels: #co, in_hw: #ihw, out_hw: #ohw,
                        kernel: #ker, strides: #st, pads_begin: #pb, activation: #act,
                    });
                }
            }
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
