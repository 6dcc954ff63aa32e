//! `ConvDirect`: not an ONNX operator but what the passes turn a suitable
//! Conv (2-D, batch 1, one group, stride 1, no dilation, constant weights)
//! into — weights packed in blocks of four output channels, the activation
//! fused, and optionally a following non-overlapping MaxPool fused so the
//! convolution output never exists in memory.
//!
//! On cores with an FPU micro-kernel (the kernel set's
//! [`indirect_conv`](crate::kernel_set::KernelSet::indirect_conv)) the node
//! carries the table of tap offsets as input 3 and calls
//! `fast::conv::conv_max_pool` (four channels × four positions per
//! micro-kernel call, `vfma`); elsewhere `fused::conv2d::conv2d`. Both read
//! the same packed weights.

use std::any::Any;

use proc_macro2::TokenStream;
use quote::quote;
use zant_kernels::fast::conv::DirectConvParams;
use zant_kernels::fused::conv2d::{Conv2dParams, MaxPoolFuse};

use super::util::req;
use super::{Activation, ActivationExt, InputInfo, Op, OpError, OutputInfo};
use crate::emit::{arr_usize, lit_usize, NodeCx};
use crate::ir::{numel, DType, TensorData};

/// A direct convolution with packed weights (input 1), optional bias (input
/// 2) and, when [`offsets`](ConvDirect::offsets) is set, the table of tap
/// offsets (input 3).
#[derive(Debug, Clone)]
pub struct ConvDirect {
    /// Output channels.
    pub out_channels: usize,
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Padding at the top and left.
    pub pads_begin: [usize; 2],
    /// Convolution output height and width.
    pub conv_hw: [usize; 2],
    /// Fused activation.
    pub activation: Activation,
    /// Fused max pooling.
    pub pool: Option<MaxPoolFuse>,
    /// Output positions per pass (see the kernel's `Conv2dParams::positions`).
    pub positions: usize,
    /// Input 3 holds the tap offsets (`fast::conv::offsets`) and the
    /// emitted code calls the micro-kernel driver `fast::conv::conv_max_pool`
    /// (with a fused pool) or `fast::conv::conv`.
    pub offsets: bool,
}

impl ConvDirect {
    fn params(&self, x: &[usize]) -> Conv2dParams {
        Conv2dParams {
            in_channels: x[1],
            out_channels: self.out_channels,
            in_hw: [x[2], x[3]],
            conv_hw: self.conv_hw,
            kernel: self.kernel,
            pads_begin: self.pads_begin,
            activation: self.activation,
            pool: self.pool,
            positions: self.positions,
        }
    }

    /// The parameters of the micro-kernel driver for input shape `x`.
    pub fn direct(&self, x: &[usize]) -> DirectConvParams {
        DirectConvParams {
            in_channels: x[1],
            out_channels: self.out_channels,
            in_hw: [x[2], x[3]],
            out_hw: self.conv_hw,
            kernel: self.kernel,
            strides: [1, 1],
            pads_begin: self.pads_begin,
            activation: self.activation,
        }
    }

    fn out_shape(&self) -> Vec<usize> {
        let [h, w] = self.pool.map(|p| p.out).unwrap_or(self.conv_hw);
        vec![1, self.out_channels, h, w]
    }
}

impl Op for ConvDirect {
    fn name(&self) -> String {
        let base = self.activation.suffixed("Conv");
        if self.pool.is_some() {
            format!("{base}+MaxPool")
        } else {
            base
        }
    }

    fn infer(&self, _inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        Ok(vec![OutputInfo::new(DType::F32, self.out_shape())])
    }

    fn macs(&self, inputs: &[Option<InputInfo<'_>>], _outputs: &[OutputInfo]) -> u64 {
        let Some(Some(x)) = inputs.first() else {
            return 0;
        };
        (numel(&self.conv_hw) * self.out_channels * x.shape[1] * self.kernel[0] * self.kernel[1])
            as u64
    }

    fn eval(
        &self,
        inputs: &[Option<&TensorData>],
        outputs: &[OutputInfo],
    ) -> Result<Vec<TensorData>, OpError> {
        let (Some(Some(x)), Some(Some(w))) = (inputs.first(), inputs.get(1)) else {
            return Err(OpError::NotFoldable);
        };
        let b = inputs.get(2).copied().flatten().map(|b| b.as_f32());
        let mut y = vec![0f32; numel(&outputs[0].shape)];
        if self.offsets {
            let Some(Some(o)) = inputs.get(3) else {
                return Err(OpError::NotFoldable);
            };
            let (xs, ws, os, p) = (x.as_f32(), w.as_f32(), o.as_u32(), self.direct(&x.shape));
            type P = zant_kernels::micro::Portable;
            match self.pool {
                Some(pool) => zant_kernels::fast::conv::conv_max_pool_act::<P>(
                    &xs,
                    &ws,
                    &os,
                    b.as_deref(),
                    &mut y,
                    &p,
                    pool,
                ),
                None => {
                    zant_kernels::fast::conv::conv::<P>(&xs, &ws, &os, b.as_deref(), &mut y, &p)
                }
            }
            return Ok(vec![TensorData::from_f32(outputs[0].shape.clone(), &y)]);
        }
        zant_kernels::fused::conv2d::conv2d(
            &x.as_f32(),
            &w.as_f32(),
            b.as_deref(),
            &mut y,
            &self.params(&x.shape),
        );
        Ok(vec![TensorData::from_f32(outputs[0].shape.clone(), &y)])
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let x = req(&cx.inputs(), 0)?;
        let p = self.params(x.shape);
        let k = cx.kernels();
        let f = quote!(zk::fused::conv2d);
        let act = self.activation.tokens(&quote!(#k::activation));
        let [cin, cout, positions] = [p.in_channels, p.out_channels, p.positions].map(lit_usize);
        let [ihw, chw, ker, pb] =
            [p.in_hw, p.conv_hw, p.kernel, p.pads_begin].map(|v| arr_usize(&v));
        let pool = match p.pool {
            None => quote!(None),
            Some(m) => {
                let [pk, ps, pp, po] =
                    [m.kernel, m.strides, m.pads_begin, m.out].map(|v| arr_usize(&v));
                quote!(Some(#f::MaxPoolFuse { kernel: #pk, strides: #ps, pads_begin: #pp, out: #po }))
            }
        };
        let (xs, ws, b, y) = (cx.x(0), cx.x(1), cx.x_opt(2), cx.y(0));
        if self.offsets {
            let o = cx.x(3);
            let params = quote! {
                &zk::fast::conv::DirectConvParams {
                    in_channels: #cin, out_channels: #cout, in_hw: #ihw, out_hw: #chw,
                    kernel: #ker, strides: [1, 1], pads_begin: #pb, activation: #act,
                }
            };
            // The pooled and the plain driver are separate functions, so a
            // firmware links only the one its model uses.
            return Ok(match p.pool {
                Some(m) => {
                    // Relu or none: the driver that links no other
                    // activation's code.
                    let call = cx.micro_kernel(match self.activation {
                        Activation::None | Activation::Relu => "fast::conv::conv_max_pool",
                        _ => "fast::conv::conv_max_pool_act",
                    });
                    let [pk, ps, pp, po] =
                        [m.kernel, m.strides, m.pads_begin, m.out].map(|v| arr_usize(&v));
                    quote! {
                        #call(#xs, #ws, #o, #b, #y, #params, #f::MaxPoolFuse {
                            kernel: #pk, strides: #ps, pads_begin: #pp, out: #po,
                        });
                    }
                }
                None => {
                    let call = cx.micro_kernel("fast::conv::conv");
                    quote!(#call(#xs, #ws, #o, #b, #y, #params);)
                }
            });
        }
        let call = cx.kernel("fused::conv2d::conv2d");
        Ok(quote! {
            #call(#xs, #ws, #b, #y, &#f::Conv2dParams {
                in_channels: #cin, out_channels: #cout, in_hw: #ihw, conv_hw: #chw, kernel: #ker,
                pads_begin: #pb, activation: #act, pool: #pool, positions: #positions,
            });
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
