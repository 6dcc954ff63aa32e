//! `Conv`: N-d convolution (1-D to 3-D), groups, strides, dilations, pads, auto_pad.

use std::any::Any;
use std::sync::Arc;

use proc_macro2::TokenStream;
use quote::quote;

use super::util::{expect_dtype, opt, req};
use super::{shape_err, unsupported, ActivationExt, InputInfo, Op, OpError, OutputInfo};
use crate::attrs::Attrs;
use crate::emit::{arr_usize, lit_usize, NodeCx};
use crate::ir::{DType, TensorData};

/// How padding is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoPad {
    /// Explicit `pads`.
    NotSet,
    /// Output = ceil(input / stride), extra padding at the end.
    SameUpper,
    /// Output = ceil(input / stride), extra padding at the start.
    SameLower,
    /// No padding.
    Valid,
}

impl AutoPad {
    /// Parses the `auto_pad` attribute.
    pub fn parse(attrs: &Attrs) -> Result<AutoPad, OpError> {
        Ok(match attrs.string("auto_pad", "NOTSET")?.as_str() {
            "NOTSET" | "" => AutoPad::NotSet,
            "SAME_UPPER" => AutoPad::SameUpper,
            "SAME_LOWER" => AutoPad::SameLower,
            "VALID" => AutoPad::Valid,
            other => {
                return Err(OpError::Attribute {
                    name: "auto_pad".into(),
                    message: format!("unknown value `{other}`"),
                })
            }
        })
    }
}

/// Window geometry shared by Conv and the pooling ops.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// Kernel spatial size (empty = from the weights).
    pub kernel: Vec<usize>,
    /// Strides.
    pub strides: Vec<usize>,
    /// Dilations.
    pub dilations: Vec<usize>,
    /// Explicit pads: begins then ends.
    pub pads: Vec<usize>,
    /// Auto padding.
    pub auto_pad: AutoPad,
    /// Pooling only: ceil instead of floor for the output size.
    pub ceil_mode: bool,
}

fn usizes(attrs: &Attrs, name: &str) -> Result<Option<Vec<usize>>, OpError> {
    match attrs.ints_opt(name)? {
        None => Ok(None),
        Some(v) => v
            .into_iter()
            .map(|x| {
                usize::try_from(x).map_err(|_| OpError::Attribute {
                    name: name.into(),
                    message: format!("negative value {x}"),
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
    }
}

impl Window {
    /// Parses the window attributes.
    pub fn parse(attrs: &Attrs) -> Result<Window, OpError> {
        let w = Window {
            kernel: usizes(attrs, "kernel_shape")?.unwrap_or_default(),
            strides: usizes(attrs, "strides")?.unwrap_or_default(),
            dilations: usizes(attrs, "dilations")?.unwrap_or_default(),
            pads: usizes(attrs, "pads")?.unwrap_or_default(),
            auto_pad: AutoPad::parse(attrs)?,
            ceil_mode: attrs.int("ceil_mode", 0)? != 0,
        };
        if w.strides.contains(&0) || w.dilations.contains(&0) {
            return Err(OpError::Attribute {
                name: "strides/dilations".into(),
                message: "must be positive".into(),
            });
        }
        Ok(w)
    }

    /// Resolves the geometry for `spatial` input dims and a kernel size:
    /// (kernel, strides, dilations, pads_begin, pads_end, output dims).
    pub fn resolve(&self, spatial: &[usize], kernel: &[usize]) -> Result<Resolved, OpError> {
        let r = spatial.len();
        let strides = if self.strides.is_empty() {
            vec![1; r]
        } else {
            self.strides.clone()
        };
        let dil = if self.dilations.is_empty() {
            vec![1; r]
        } else {
            self.dilations.clone()
        };
        if strides.len() != r || dil.len() != r || kernel.len() != r {
            return Err(shape_err(format!(
                "kernel/strides/dilations must have {r} entries (got {}, {}, {})",
                kernel.len(),
                strides.len(),
                dil.len()
            )));
        }
        if kernel.contains(&0) {
            return Err(shape_err(format!("kernel size {kernel:?} has a zero")));
        }
        let mut begin = vec![0; r];
        let mut end = vec![0; r];
        let mut out = vec![0; r];
        for i in 0..r {
            let eff = (kernel[i] - 1) * dil[i] + 1;
            match self.auto_pad {
                AutoPad::NotSet => {
                    if !self.pads.is_empty() {
                        if self.pads.len() != 2 * r {
                            return Err(shape_err(format!("pads must have {} entries", 2 * r)));
                        }
                        begin[i] = self.pads[i];
                        end[i] = self.pads[i + r];
                    }
                    let total = spatial[i] + begin[i] + end[i];
                    if total < eff {
                        return Err(shape_err(format!(
                            "kernel extent {eff} exceeds padded input {total} on spatial axis {i}"
                        )));
                    }
                    out[i] = if self.ceil_mode {
                        let o = (total - eff).div_ceil(strides[i]) + 1;
                        // The last window must start inside the input or left padding.
                        if (o - 1) * strides[i] >= spatial[i] + begin[i] {
                            o - 1
                        } else {
                            o
                        }
                    } else {
                        (total - eff) / strides[i] + 1
                    };
                }
                AutoPad::Valid => {
                    if spatial[i] < eff {
                        return Err(shape_err("kernel larger than input with VALID padding"));
                    }
                    out[i] = (spatial[i] - eff) / strides[i] + 1;
                }
                AutoPad::SameUpper | AutoPad::SameLower => {
                    out[i] = spatial[i].div_ceil(strides[i]);
                    let need = ((out[i] - 1) * strides[i] + eff).saturating_sub(spatial[i]);
                    let small = need / 2;
                    let big = need - small;
                    if self.auto_pad == AutoPad::SameUpper {
                        begin[i] = small;
                        end[i] = big;
                    } else {
                        begin[i] = big;
                        end[i] = small;
                    }
                }
            }
        }
        Ok(Resolved {
            kernel: kernel.to_vec(),
            strides,
            dilations: dil,
            pads_begin: begin,
            pads_end: end,
            out,
        })
    }
}

/// Resolved window geometry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// Kernel size per spatial axis.
    pub kernel: Vec<usize>,
    /// Strides.
    pub strides: Vec<usize>,
    /// Dilations.
    pub dilations: Vec<usize>,
    /// Padding at the start.
    pub pads_begin: Vec<usize>,
    /// Padding at the end.
    pub pads_end: Vec<usize>,
    /// Output spatial size.
    pub out: Vec<usize>,
}

/// A parsed Conv node (possibly with a fused activation).
#[derive(Debug, Clone)]
pub struct Conv {
    /// Window attributes.
    pub window: Window,
    /// Groups.
    pub group: usize,
    /// Activation fused by the passes.
    pub activation: super::Activation,
}

/// Parses `Conv`.
pub fn parse(attrs: &Attrs, _opset: i64) -> Result<Arc<dyn Op>, OpError> {
    let group = attrs.int("group", 1)?;
    if group < 1 {
        return Err(OpError::Attribute {
            name: "group".into(),
            message: "must be ≥ 1".into(),
        });
    }
    Ok(Arc::new(Conv {
        window: Window::parse(attrs)?,
        group: group as usize,
        activation: super::Activation::None,
    }))
}

impl Conv {
    /// Resolves the geometry for these inputs.
    pub fn geometry(&self, x: &[usize], w: &[usize]) -> Result<Resolved, OpError> {
        if x.len() < 3 || x.len() > 5 {
            return Err(unsupported(format!(
                "Conv on a rank-{} input (1-D to 3-D convolutions are supported)",
                x.len()
            )));
        }
        if w.len() != x.len() {
            return Err(shape_err(format!(
                "weights of rank {} for an input of rank {}",
                w.len(),
                x.len()
            )));
        }
        if x[1] != w[1] * self.group {
            return Err(shape_err(format!(
                "input has {} channels but weights expect {} × group {}",
                x[1], w[1], self.group
            )));
        }
        if !w[0].is_multiple_of(self.group) {
            return Err(shape_err(format!(
                "{} output channels not divisible by group {}",
                w[0], self.group
            )));
        }
        if !self.window.kernel.is_empty() && self.window.kernel != w[2..] {
            return Err(shape_err(format!(
                "kernel_shape {:?} differs from the weights' {:?}",
                self.window.kernel,
                &w[2..]
            )));
        }
        self.window.resolve(&x[2..], &w[2..])
    }
}

/// Pads a 1-D to 3-D spatial list to three entries.
pub fn spatial3(v: &[usize], fill: usize) -> [usize; 3] {
    let mut a = [fill; 3];
    a[..v.len()].copy_from_slice(v);
    a
}

impl Conv {
    /// Kernel parameters for these input and weight shapes.
    pub fn params(
        &self,
        x: &[usize],
        w: &[usize],
    ) -> Result<zant_kernels::reference::conv::ConvParams, OpError> {
        let g = self.geometry(x, w)?;
        Ok(zant_kernels::reference::conv::ConvParams {
            batch: x[0],
            in_channels: x[1],
            out_channels: w[0],
            group: self.group,
            in_spatial: spatial3(&x[2..], 1),
            out_spatial: spatial3(&g.out, 1),
            kernel: spatial3(&g.kernel, 1),
            strides: spatial3(&g.strides, 1),
            dilations: spatial3(&g.dilations, 1),
            pads_begin: spatial3(&g.pads_begin, 0),
            pads_end: spatial3(&g.pads_end, 0),
            activation: self.activation,
        })
    }
}

impl Op for Conv {
    fn name(&self) -> String {
        self.activation.suffixed("Conv")
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let x = req(inputs, 0)?;
        let w = req(inputs, 1)?;
        expect_dtype("Conv input", x.dtype, &[DType::F32])?;
        expect_dtype("Conv weights", w.dtype, &[DType::F32])?;
        let g = self.geometry(x.shape, w.shape)?;
        if let Some(b) = opt(inputs, 2) {
            if b.shape != [w.shape[0]] {
                return Err(shape_err(format!(
                    "bias of shape {:?}, expected [{}]",
                    b.shape, w.shape[0]
                )));
            }
        }
        let mut shape = vec![x.shape[0], w.shape[0]];
        shape.extend(g.out);
        Ok(vec![OutputInfo::new(DType::F32, shape)])
    }

    fn macs(&self, inputs: &[Option<InputInfo<'_>>], outputs: &[OutputInfo]) -> u64 {
        let (Some(Some(w)), Some(y)) = (inputs.get(1), outputs.first()) else {
            return 0;
        };
        // Each output element: C/group × kernel taps.
        let per_out: usize = w.shape[1..].iter().product();
        (crate::ir::numel(&y.shape) * per_out) as u64
    }

    fn eval(
        &self,
        inputs: &[Option<&TensorData>],
        outputs: &[OutputInfo],
    ) -> Result<Vec<TensorData>, OpError> {
        let (Some(Some(x)), Some(Some(w))) = (inputs.first(), inputs.get(1)) else {
            return Err(OpError::NotFoldable);
        };
        let p = self.params(&x.shape, &w.shape)?;
        let b = inputs.get(2).copied().flatten().map(|b| b.as_f32());
        let mut y = vec![0f32; crate::ir::numel(&outputs[0].shape)];
        zant_kernels::reference::conv::conv(&x.as_f32(), &w.as_f32(), b.as_deref(), &mut y, &p);
        Ok(vec![TensorData::from_f32(outputs[0].shape.clone(), &y)])
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let x = req(&cx.inputs(), 0)?;
        let w = req(&cx.inputs(), 1)?;
        let p = self.params(x.shape, w.shape)?;
        let k = cx.kernels();
        let act = self.activation.tokens(&quote!(#k::activation));
        let (xs, ws, b, y) = (cx.x(0), cx.x(1), cx.x_opt(2), cx.y(0));
        let params = params_tokens(&p, &k, &act);
        Ok(quote! {
            #k::conv::conv(#xs, #ws, #b, #y, &#params);
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The `ConvParams { .. }` literal of `p` for generated code, with `act` as
/// its activation; `k` is the path of the vendored kernels. Every operator
/// that calls a kernel taking `ConvParams` builds it here.
pub(crate) fn params_tokens(
    p: &zant_kernels::reference::conv::ConvParams,
    k: &TokenStream,
    act: &TokenStream,
) -> TokenStream {
    let [batch, cin, cout, group] =
        [p.batch, p.in_channels, p.out_channels, p.group].map(lit_usize);
    let [ins, outs, ker, st, dil, pb, pe] = [
        p.in_spatial,
        p.out_spatial,
        p.kernel,
        p.strides,
        p.dilations,
        p.pads_begin,
        p.pads_end,
    ]
    .map(|v| arr_usize(&v));
    quote! {
        #k::conv::ConvParams {
            batch: #batch, in_channels: #cin, out_channels: #cout, group: #group,
            in_spatial: #ins, out_spatial: #outs, kernel: #ker, strides: #st,
            dilations: #dil, pads_begin: #pb, pads_end: #pe, activation: #act,
        }
    }
}
