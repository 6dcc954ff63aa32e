//! `ConvTranspose` (1-D to 3-D): groups, strides, dilations, pads,
//! output_padding, output_shape and auto_pad.

use std::any::Any;
use std::sync::Arc;

use proc_macro2::TokenStream;
use quote::quote;
use zant_kernels::reference::conv::ConvTransposeParams;

use super::util::{expect_dtype, opt, req};
use super::{
    shape_err, unsupported, Activation, ActivationExt, InputInfo, Op, OpError, OutputInfo,
};
use crate::attrs::Attrs;
use crate::emit::{arr_usize, lit_usize, NodeCx};
use crate::ir::{numel, DType, TensorData};

/// A parsed ConvTranspose node.
#[derive(Debug, Clone)]
pub struct ConvTranspose {
    /// `auto_pad` (NOTSET, SAME_UPPER, SAME_LOWER, VALID).
    pub auto_pad: String,
    /// Explicit kernel shape, if given.
    pub kernel_shape: Option<Vec<i64>>,
    /// Strides (default 1s).
    pub strides: Option<Vec<i64>>,
    /// Dilations (default 1s).
    pub dilations: Option<Vec<i64>>,
    /// Pads `[b1.., e1..]` (default 0s).
    pub pads: Option<Vec<i64>>,
    /// Output padding (default 0s).
    pub output_padding: Option<Vec<i64>>,
    /// Requested output shape.
    pub output_shape: Option<Vec<i64>>,
    /// Groups.
    pub group: usize,
    /// Activation fused by the passes.
    pub activation: Activation,
}

/// Parses `ConvTranspose`.
pub fn parse(a: &Attrs, _opset: i64) -> Result<Arc<dyn Op>, OpError> {
    let group = a.int("group", 1)?;
    if group < 1 {
        return Err(OpError::Attribute {
            name: "group".into(),
            message: "must be ≥ 1".into(),
        });
    }
    let auto_pad = a.string("auto_pad", "NOTSET")?;
    if !["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"].contains(&auto_pad.as_str()) {
        return Err(OpError::Attribute {
            name: "auto_pad".into(),
            message: format!("unknown value `{auto_pad}` (NOTSET, SAME_UPPER, SAME_LOWER, VALID)"),
        });
    }
    Ok(Arc::new(ConvTranspose {
        auto_pad,
        kernel_shape: a.ints_opt("kernel_shape")?,
        strides: a.ints_opt("strides")?,
        dilations: a.ints_opt("dilations")?,
        pads: a.ints_opt("pads")?,
        output_padding: a.ints_opt("output_padding")?,
        output_shape: a.ints_opt("output_shape")?,
        group: group as usize,
        activation: Activation::None,
    }))
}

fn per_axis(
    v: &Option<Vec<i64>>,
    n: usize,
    def: i64,
    what: &str,
    min: i64,
) -> Result<Vec<i64>, OpError> {
    match v {
        None => Ok(vec![def; n]),
        Some(v) if v.len() == n && v.iter().all(|&x| x >= min) => Ok(v.clone()),
        Some(v) => Err(OpError::Attribute {
            name: what.into(),
            message: format!("{v:?} must have {n} values ≥ {min}"),
        }),
    }
}

impl ConvTranspose {
    /// Resolves the kernel parameters and output shape.
    pub fn params(
        &self,
        x: &[usize],
        w: &[usize],
    ) -> Result<(ConvTransposeParams, Vec<usize>), OpError> {
        if x.len() < 3 || x.len() > 5 || w.len() != x.len() {
            return Err(shape_err(format!(
                "ConvTranspose needs X [N, C, D1..] (1 to 3 spatial dims) and W of the same rank, got {x:?} and {w:?}"
            )));
        }
        let ns = x.len() - 2;
        let g = self.group;
        if x[1] != w[0] || !x[1].is_multiple_of(g) {
            return Err(shape_err(format!(
                "W {w:?} must be [C, M/group, k..] with C = {} divisible by group {g}",
                x[1]
            )));
        }
        let kernel: Vec<i64> = match &self.kernel_shape {
            Some(k) => {
                if k.len() != ns || k.iter().zip(&w[2..]).any(|(&a, &b)| a as usize != b) {
                    return Err(shape_err(format!(
                        "kernel_shape {k:?} does not match W {w:?}"
                    )));
                }
                k.clone()
            }
            None => w[2..].iter().map(|&d| d as i64).collect(),
        };
        let s = per_axis(&self.strides, ns, 1, "strides", 1)?;
        let d = per_axis(&self.dilations, ns, 1, "dilations", 1)?;
        let op = per_axis(&self.output_padding, ns, 0, "output_padding", 0)?;
        let pads = per_axis(&self.pads, 2 * ns, 0, "pads", 0)?;
        let mut out = vec![0i64; ns];
        let mut pb = vec![0i64; ns];
        let mut pe = vec![0i64; ns];
        let requested: Option<Vec<i64>> = self.output_shape.as_ref().map(|o| {
            if o.len() > ns {
                o[o.len() - ns..].to_vec()
            } else {
                o.clone()
            }
        });
        if let Some(r) = &requested {
            if r.len() != ns {
                return Err(OpError::Attribute {
                    name: "output_shape".into(),
                    message: format!("{r:?} must have {ns} spatial values"),
                });
            }
        }
        for i in 0..ns {
            let inp = x[2 + i] as i64;
            let eff = (kernel[i] - 1) * d[i] + 1;
            let full = s[i] * (inp - 1) + op[i] + eff;
            let target = match (&requested, self.auto_pad.as_str()) {
                (Some(r), _) => Some(r[i]),
                (None, "SAME_UPPER" | "SAME_LOWER") => Some(inp * s[i]),
                _ => None,
            };
            match target {
                Some(t) => {
                    // Negative padding (an output larger than the full result)
                    // extends the end with bias-only values.
                    let total = full - t;
                    let half = total.div_euclid(2);
                    let (b, e) = if self.auto_pad == "SAME_UPPER" {
                        (half, total - half)
                    } else {
                        (total - half, half)
                    };
                    if b < 0 || t < 0 {
                        return Err(unsupported(format!(
                            "output size {t} on spatial axis {i} needs negative leading padding (full size {full})"
                        )));
                    }
                    pb[i] = b;
                    pe[i] = e.max(0);
                    out[i] = t;
                }
                None => {
                    if self.auto_pad != "VALID" {
                        pb[i] = pads[i];
                        pe[i] = pads[ns + i];
                    }
                    out[i] = full - pb[i] - pe[i];
                    if out[i] < 0 {
                        return Err(shape_err(format!(
                            "negative output size on spatial axis {i}"
                        )));
                    }
                }
            }
        }
        let pad3 = |v: &[i64], f: usize| -> [usize; 3] {
            let mut a = [f; 3];
            for (k, &x) in v.iter().enumerate() {
                a[3 - ns + k] = x as usize;
            }
            a
        };
        let in_sp: Vec<i64> = x[2..].iter().map(|&v| v as i64).collect();
        let p = ConvTransposeParams {
            batch: x[0],
            in_channels: x[1],
            out_channels: w[1] * g,
            group: g,
            in_spatial: pad3(&in_sp, 1),
            out_spatial: pad3(&out, 1),
            kernel: pad3(&kernel, 1),
            strides: pad3(&s, 1),
            dilations: pad3(&d, 1),
            pads_begin: pad3(&pb, 0),
            pads_end: pad3(&pe, 0),
            activation: self.activation,
        };
        let mut shape = vec![x[0], w[1] * g];
        shape.extend(out.iter().map(|&v| v as usize));
        Ok((p, shape))
    }
}

impl Op for ConvTranspose {
    fn name(&self) -> String {
        self.activation.suffixed("ConvTranspose")
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let x = req(inputs, 0)?;
        let w = req(inputs, 1)?;
        expect_dtype("ConvTranspose X", x.dtype, &[DType::F32])?;
        expect_dtype("ConvTranspose W", w.dtype, &[DType::F32])?;
        let (p, shape) = self.params(x.shape, w.shape)?;
        if let Some(b) = opt(inputs, 2) {
            if b.shape != [p.out_channels] {
                return Err(shape_err(format!(
                    "B must have shape [{}], got {:?}",
                    p.out_channels, b.shape
                )));
            }
        }
        Ok(vec![OutputInfo::new(DType::F32, shape)])
    }

    fn macs(&self, inputs: &[Option<InputInfo<'_>>], _outputs: &[OutputInfo]) -> u64 {
        match (opt(inputs, 0), opt(inputs, 1)) {
            // Every input element meets every tap of its group's filters.
            (Some(x), Some(w)) => (numel(x.shape) * numel(&w.shape[1..])) as u64,
            _ => 0,
        }
    }

    fn eval(
        &self,
        inputs: &[Option<&TensorData>],
        outputs: &[OutputInfo],
    ) -> Result<Vec<TensorData>, OpError> {
        let (Some(Some(x)), Some(Some(w))) = (inputs.first(), inputs.get(1)) else {
            return Err(OpError::NotFoldable);
        };
        let (p, _) = self.params(&x.shape, &w.shape)?;
        let b = inputs.get(2).copied().flatten().map(|b| b.as_f32());
        let mut y = vec![0f32; numel(&outputs[0].shape)];
        zant_kernels::reference::conv::conv_transpose(
            &x.as_f32(),
            &w.as_f32(),
            b.as_deref(),
            &mut y,
            &p,
        );
        Ok(vec![TensorData::from_f32(outputs[0].shape.clone(), &y)])
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let ins = cx.inputs();
        let (p, _) = self.params(req(&ins, 0)?.shape, req(&ins, 1)?.shape)?;
        let k = cx.kernels();
        let act = self.activation.tokens(&quote!(#k::activation));
        let [n, c, m, g] = [p.batch, p.in_channels, p.out_channels, p.group].map(lit_usize);
        let [is, os, ks, st, dil, pb, pe] = [
            p.in_spatial,
            p.out_spatial,
            p.kernel,
            p.strides,
            p.dilations,
            p.pads_begin,
            p.pads_end,
        ]
        .map(|a| arr_usize(&a));
        let (x, w, b, y) = (cx.x(0), cx.x(1), cx.x_opt(2), cx.y(0));
        Ok(quote! {
            #k::conv::conv_transpose(#x, #w, #b, #y, &#k::conv::ConvTransposeParams {
                batch: #n, in_channels: #c, out_channels: #m, group: #g,
                in_spatial: #is, out_spatial: #os, kernel: #ks, strides: #st,
                dilations: #dil, pads_begin: #pb, pads_end: #pe, activation: #act,
            });
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ct(attrs: impl FnOnce(&mut ConvTranspose)) -> ConvTranspose {
        let mut c = ConvTranspose {
            auto_pad: "NOTSET".into(),
            kernel_shape: None,
            strides: None,
            dilations: None,
            pads: None,
            output_padding: None,
            output_shape: None,
            group: 1,
            activation: Activation::None,
        };
        attrs(&mut c);
        c
    }

    #[test]
    fn shapes() {
        // ONNX test_convtranspose: X [1,1,3,3], W [1,2,3,3] -> [1,2,5,5]
        let (_, s) = ct(|_| {}).params(&[1, 1, 3, 3], &[1, 2, 3, 3]).unwrap();
        assert_eq!(s, vec![1, 2, 5, 5]);
        // strides 3,2 + output_padding 1,1 -> [1,2,10,8]
        let c = ct(|c| {
            c.strides = Some(vec![3, 2]);
            c.output_padding = Some(vec![1, 1]);
        });
        assert_eq!(
            c.params(&[1, 1, 3, 3], &[1, 2, 3, 3]).unwrap().1,
            vec![1, 2, 10, 8]
        );
        let c = ct(|c| {
            c.strides = Some(vec![3, 2]);
            c.output_shape = Some(vec![10, 8]);
        });
        assert_eq!(
            c.params(&[1, 1, 3, 3], &[1, 2, 3, 3]).unwrap().1,
            vec![1, 2, 10, 8]
        );
        let c = ct(|c| {
            c.strides = Some(vec![2, 2]);
            c.auto_pad = "SAME_UPPER".into();
        });
        assert_eq!(
            c.params(&[1, 1, 3, 3], &[1, 2, 3, 3]).unwrap().1,
            vec![1, 2, 6, 6]
        );
    }

    #[test]
    fn eval_1d() {
        // X [1,1,3] = [0,1,2], W [1,2,3] of ones -> [1,2,5]: [0,1,3,3,2] twice.
        let x = TensorData::from_f32(vec![1, 1, 3], &[0., 1., 2.]);
        let w = TensorData::from_f32(vec![1, 2, 3], &[1.; 6]);
        let c = ct(|_| {});
        let xi = InputInfo {
            dtype: DType::F32,
            shape: &x.shape,
            data: None,
        };
        let wi = InputInfo {
            dtype: DType::F32,
            shape: &w.shape,
            data: None,
        };
        let out = c.infer(&[Some(xi), Some(wi)]).unwrap();
        let y = c
            .eval(&[Some(&x), Some(&w)], &out)
            .unwrap()
            .remove(0)
            .as_f32();
        assert_eq!(y, vec![0., 1., 3., 3., 2., 0., 1., 3., 3., 2.]);
    }
}
