//! Pooling: MaxPool, AveragePool (count_include_pad, ceil_mode),
//! GlobalAveragePool, GlobalMaxPool.

use std::any::Any;
use std::sync::Arc;

use proc_macro2::TokenStream;
use quote::quote;

use super::conv::{spatial3, Resolved, Window};
use super::util::{expect_dtype, req};
use super::{shape_err, unsupported, InputInfo, Op, OpError, OutputInfo};
use crate::attrs::Attrs;
use crate::emit::{arr_usize, lit_usize, NodeCx};
use crate::ir::{numel, DType};

/// Which pooling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolKind {
    /// Maximum over the window.
    Max,
    /// Mean over the window.
    Average,
}

/// A parsed pooling node.
#[derive(Debug, Clone)]
pub struct Pool {
    /// Max or average.
    pub kind: PoolKind,
    /// Window (ignored for global pooling).
    pub window: Window,
    /// Global pooling over all spatial dims.
    pub global: bool,
    /// Average pooling counts padded cells.
    pub count_include_pad: bool,
}

/// Parses `MaxPool`.
pub fn parse_max(a: &Attrs, _opset: i64) -> Result<Arc<dyn Op>, OpError> {
    if a.int("storage_order", 0)? != 0 {
        return Err(unsupported(
            "MaxPool with storage_order=1 (column-major indices)",
        ));
    }
    pool(a, PoolKind::Max, false)
}
/// Parses `AveragePool`.
pub fn parse_average(a: &Attrs, _opset: i64) -> Result<Arc<dyn Op>, OpError> {
    pool(a, PoolKind::Average, false)
}
/// Parses `GlobalMaxPool`.
pub fn parse_global_max(a: &Attrs, _opset: i64) -> Result<Arc<dyn Op>, OpError> {
    pool(a, PoolKind::Max, true)
}
/// Parses `GlobalAveragePool`.
pub fn parse_global_average(a: &Attrs, _opset: i64) -> Result<Arc<dyn Op>, OpError> {
    pool(a, PoolKind::Average, true)
}

fn pool(a: &Attrs, kind: PoolKind, global: bool) -> Result<Arc<dyn Op>, OpError> {
    let window = if global {
        Window::parse(&Attrs::default())?
    } else {
        let w = Window::parse(a)?;
        if w.kernel.is_empty() {
            return Err(OpError::Attribute {
                name: "kernel_shape".into(),
                message: "required attribute is missing".into(),
            });
        }
        w
    };
    Ok(Arc::new(Pool {
        kind,
        window,
        global,
        count_include_pad: a.int("count_include_pad", 0)? != 0,
    }))
}

impl Pool {
    /// Resolved window for an input shape (not for global pooling).
    pub fn geometry(&self, x: &[usize]) -> Result<Resolved, OpError> {
        if x.len() < 3 || x.len() > 5 {
            return Err(unsupported(format!(
                "pooling on a rank-{} input (1-D to 3-D are supported)",
                x.len()
            )));
        }
        if self.window.kernel.len() != x.len() - 2 {
            return Err(shape_err(format!(
                "kernel_shape has {} entries for {} spatial dims",
                self.window.kernel.len(),
                x.len() - 2
            )));
        }
        self.window.resolve(&x[2..], &self.window.kernel)
    }
}

impl Op for Pool {
    fn name(&self) -> String {
        match (self.kind, self.global) {
            (PoolKind::Max, false) => "MaxPool",
            (PoolKind::Average, false) => "AveragePool",
            (PoolKind::Max, true) => "GlobalMaxPool",
            (PoolKind::Average, true) => "GlobalAveragePool",
        }
        .to_string()
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let x = req(inputs, 0)?;
        // MaxPool also runs on 8-bit quantized tensors (QOperator graphs):
        // the maximum of the integers is the integer of the maximum.
        let int_max = self.kind == PoolKind::Max && !self.global;
        let allowed: &[DType] = if int_max {
            &[DType::F32, DType::I8, DType::U8]
        } else {
            &[DType::F32]
        };
        expect_dtype(&self.name(), x.dtype, allowed)?;
        if x.shape.len() < 3 {
            return Err(shape_err(format!(
                "input of rank {}; pooling needs N, C and spatial dims",
                x.shape.len()
            )));
        }
        let mut shape = x.shape[..2].to_vec();
        if self.global {
            shape.extend(std::iter::repeat_n(1, x.shape.len() - 2));
        } else {
            shape.extend(self.geometry(x.shape)?.out);
        }
        // MaxPool's optional Indices output is not computed (the loader says so).
        Ok(vec![OutputInfo::new(x.dtype, shape)])
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let ins = cx.inputs();
        let x = req(&ins, 0)?;
        let k = cx.kernels();
        let (xs, y) = (cx.x(0), cx.y(0));
        if self.global {
            let spatial = lit_usize(numel(&x.shape[2..]));
            return Ok(match self.kind {
                PoolKind::Max => quote!(#k::pool::global_max_pool(#xs, #y, #spatial);),
                PoolKind::Average => quote!(#k::pool::global_average_pool(#xs, #y, #spatial);),
            });
        }
        let g = self.geometry(x.shape)?;
        let [batch, ch] = [x.shape[0], x.shape[1]].map(lit_usize);
        let ins3 = arr_usize(&spatial3(&x.shape[2..], 1));
        let [outs, ker, st, dil] =
            [&g.out, &g.kernel, &g.strides, &g.dilations].map(|v| arr_usize(&spatial3(v, 1)));
        let [pb, pe] = [&g.pads_begin, &g.pads_end].map(|v| arr_usize(&spatial3(v, 0)));
        let cip = self.count_include_pad;
        let f = match self.kind {
            PoolKind::Max if x.dtype != DType::F32 => quote!(qops::qmax_pool),
            PoolKind::Max => quote!(pool::max_pool),
            PoolKind::Average => quote!(pool::average_pool),
        };
        Ok(quote! {
            #k::#f(#xs, #y, &#k::pool::PoolParams {
                batch: #batch, channels: #ch, in_spatial: #ins3, out_spatial: #outs, kernel: #ker,
                strides: #st, dilations: #dil, pads_begin: #pb, pads_end: #pe, count_include_pad: #cip,
            });
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
