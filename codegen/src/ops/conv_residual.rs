//! `ConvResidual`: not an ONNX operator but what [`fuse_residual_add`]
//! makes of a direct convolution (on the indirect micro-kernel, no
//! activation of its own) whose only reader is a residual `Add`, together
//! with the activation after the Add when there is one:
//! `y = act(conv(x) + bias + skip)`.
//!
//! The sum is computed over the skip tensor (`fast::conv::conv_residual`):
//! when the skip dies at this node the planner gives the output its buffer
//! ([`InPlace`] over input 4), so neither the convolution's output nor the
//! Add's exists on its own — a ResNet block needs two feature maps where it
//! needed three. Otherwise the skip is copied into the output first.
//!
//! Inputs: 0 the activation, 1 the packed weights, 2 the optional bias, 3 the
//! tap offsets (`u32`), 4 the skip tensor.
//!
//! [`fuse_residual_add`]: crate::passes::fuse_residual_add

use std::any::Any;

use proc_macro2::TokenStream;
use quote::quote;
use zant_kernels::fast::conv::DirectConvParams;
use zant_kernels::micro::Portable;

use super::util::req;
use super::{shape_err, ActivationExt, InPlace, InputInfo, Op, OpError, OutputInfo};
use crate::emit::{arr_usize, lit_usize, NodeCx};
use crate::ir::{numel, DType, TensorData};

/// Index of the skip tensor among the inputs.
pub const SKIP_INPUT: usize = 4;

/// A direct convolution with a residual Add (and the activation after it)
/// fused in.
#[derive(Debug, Clone)]
pub struct ConvResidual {
    /// The convolution's shape; its `activation` is the one applied after
    /// the Add.
    pub params: DirectConvParams,
    /// The Add node and the activation node after it, by name.
    pub absorbs: Vec<String>,
}

impl ConvResidual {
    fn out_shape(&self) -> Vec<usize> {
        let [h, w] = self.params.out_hw;
        vec![1, self.params.out_channels, h, w]
    }
}

impl Op for ConvResidual {
    fn name(&self) -> String {
        self.params.activation.suffixed("Conv+Add")
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let shape = self.out_shape();
        let skip = req(inputs, SKIP_INPUT)?;
        if skip.shape != shape.as_slice() || skip.dtype != DType::F32 {
            return Err(shape_err(format!(
                "the skip tensor is {:?} {:?}, the convolution's output {shape:?} f32",
                skip.dtype, skip.shape
            )));
        }
        Ok(vec![OutputInfo::new(DType::F32, shape)])
    }

    fn macs(&self, _inputs: &[Option<InputInfo<'_>>], _outputs: &[OutputInfo]) -> u64 {
        let p = &self.params;
        (numel(&p.out_hw) * p.out_channels * p.in_channels * p.kernel[0] * p.kernel[1]) as u64
    }

    fn eval(
        &self,
        inputs: &[Option<&TensorData>],
        outputs: &[OutputInfo],
    ) -> Result<Vec<TensorData>, OpError> {
        let get = |i: usize| inputs.get(i).copied().flatten();
        let (Some(x), Some(w), Some(o), Some(skip)) = (get(0), get(1), get(3), get(SKIP_INPUT))
        else {
            return Err(OpError::NotFoldable);
        };
        let b = get(2).map(|b| b.as_f32());
        let mut y = skip.as_f32();
        zant_kernels::fast::conv::conv_residual::<Portable>(
            &x.as_f32(),
            &w.as_f32(),
            &o.as_u32(),
            b.as_deref(),
            &mut y,
            &self.params,
        );
        Ok(vec![TensorData::from_f32(outputs[0].shape.clone(), &y)])
    }

    fn inplace_forms(&self) -> Vec<InPlace> {
        vec![InPlace::same_size(SKIP_INPUT)]
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        req(&cx.inputs(), 0)?;
        let k = cx.kernels();
        let p = &self.params;
        let act = p.activation.tokens(&quote!(#k::activation));
        let (xs, ws, b, o, y) = (cx.x(0), cx.x(1), cx.x_opt(2), cx.x(3), cx.y(0));
        // In place, `y0` is the skip tensor's buffer; otherwise the skip is
        // copied into the output first.
        let copy = if cx.inplace_form().is_some() {
            quote!()
        } else {
            let s = cx.x(SKIP_INPUT);
            quote!(#y.copy_from_slice(#s);)
        };
        let f = cx.micro_kernel("fast::conv::conv_residual");
        let [ihw, ohw, ker, st, pb] =
            [p.in_hw, p.out_hw, p.kernel, p.strides, p.pads_begin].map(|v| arr_usize(&v));
        let [ci, co] = [p.in_channels, p.out_channels].map(lit_usize);
        Ok(quote! {
            #copy
            #f(#xs, #ws, #o, #b, #y, &zk::fast::conv::DirectConvParams {
                in_channels: #ci, out_channels: #co, in_hw: #ihw, out_hw: #ohw,
                kernel: #ker, strides: #st, pads_begin: #pb, activation: #act,
            });
        })
    }

    fn absorbs(&self) -> Vec<String> {
        self.absorbs.clone()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
