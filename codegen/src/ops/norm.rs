//! `InstanceNormalization` and `LayerNormalization` (opset 17, with the
//! optional `Mean` and `InvStdDev` outputs).

use std::any::Any;
use std::sync::Arc;

use proc_macro2::TokenStream;
use quote::quote;
use zant_kernels::reference::norm::{InstanceNormParams, LayerNormParams};

use super::util::{expect_dtype, opt, req};
use super::{shape_err, unsupported, InputInfo, Op, OpError, OutputInfo};
use crate::attrs::Attrs;
use crate::emit::{lit_f32, lit_usize, NodeCx};
use crate::ir::{DType, TensorData};

/// A parsed InstanceNormalization node.
#[derive(Debug, Clone)]
pub struct InstanceNorm {
    /// Added to the variance.
    pub epsilon: f32,
}

/// Parses `InstanceNormalization`.
pub fn parse_instance(a: &Attrs, _opset: i64) -> Result<Arc<dyn Op>, OpError> {
    Ok(Arc::new(InstanceNorm {
        epsilon: a.float("epsilon", 1e-5)?,
    }))
}

impl InstanceNorm {
    /// Kernel parameters for an input of shape `x`.
    pub fn params(&self, x: &[usize]) -> Result<InstanceNormParams, OpError> {
        if x.len() < 3 {
            return Err(shape_err(format!(
                "InstanceNormalization input must be [N, C, D1, ...], got {x:?}"
            )));
        }
        Ok(InstanceNormParams {
            batch: x[0],
            channels: x[1],
            spatial: x[2..].iter().product(),
            epsilon: self.epsilon,
        })
    }
}

impl Op for InstanceNorm {
    fn name(&self) -> String {
        "InstanceNormalization".into()
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let x = req(inputs, 0)?;
        expect_dtype("input", x.dtype, &[DType::F32])?;
        let p = self.params(x.shape)?;
        for (i, what) in [(1, "scale"), (2, "B")] {
            let t = req(inputs, i)?;
            expect_dtype(what, t.dtype, &[DType::F32])?;
            if t.shape != [p.channels] {
                return Err(shape_err(format!(
                    "{what} must have shape [{}], got {:?}",
                    p.channels, t.shape
                )));
            }
        }
        Ok(vec![OutputInfo::new(DType::F32, x.shape.to_vec())])
    }

    fn macs(&self, inputs: &[Option<InputInfo<'_>>], _outputs: &[OutputInfo]) -> u64 {
        // Square for the variance and the final scale, per element.
        opt(inputs, 0)
            .map(|x| 2 * x.shape.iter().product::<usize>() as u64)
            .unwrap_or(0)
    }

    fn eval(
        &self,
        inputs: &[Option<&TensorData>],
        outputs: &[OutputInfo],
    ) -> Result<Vec<TensorData>, OpError> {
        let (Some(Some(x)), Some(Some(s)), Some(Some(b))) =
            (inputs.first(), inputs.get(1), inputs.get(2))
        else {
            return Err(OpError::NotFoldable);
        };
        let p = self.params(&x.shape)?;
        let xv = x.as_f32();
        let mut y = vec![0f32; xv.len()];
        zant_kernels::reference::norm::instance_norm(&xv, &mut y, &s.as_f32(), &b.as_f32(), &p);
        Ok(vec![TensorData::from_f32(outputs[0].shape.clone(), &y)])
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let ins = cx.inputs();
        let p = self.params(req(&ins, 0)?.shape)?;
        let k = cx.kernels();
        let [b, c, s] = [p.batch, p.channels, p.spatial].map(lit_usize);
        let eps = lit_f32(p.epsilon);
        let (x, sc, bi, y) = (cx.x(0), cx.x(1), cx.x(2), cx.y(0));
        Ok(quote! {
            #k::norm::instance_norm(#x, #y, #sc, #bi, &#k::norm::InstanceNormParams {
                batch: #b, channels: #c, spatial: #s, epsilon: #eps,
            });
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A parsed LayerNormalization node.
#[derive(Debug, Clone)]
pub struct LayerNorm {
    /// First normalized axis (possibly negative).
    pub axis: i64,
    /// Added to the variance.
    pub epsilon: f32,
}

/// Parses `LayerNormalization` (opset 17). `stash_type` other than 1 (f32) is rejected.
pub fn parse_layer(a: &Attrs, _opset: i64) -> Result<Arc<dyn Op>, OpError> {
    let stash = a.int("stash_type", 1)?;
    if stash != 1 {
        return Err(unsupported(format!(
            "LayerNormalization with stash_type={stash} (only 1, float32, is supported)"
        )));
    }
    Ok(Arc::new(LayerNorm {
        axis: a.int("axis", -1)?,
        epsilon: a.float("epsilon", 1e-5)?,
    }))
}

impl LayerNorm {
    /// Kernel parameters and the normalized axis for an input of shape `x`.
    pub fn params(&self, x: &[usize]) -> Result<(LayerNormParams, usize), OpError> {
        if x.is_empty() {
            return Err(shape_err("LayerNormalization of a scalar"));
        }
        let ax = super::util::axis(self.axis, x.len())?;
        Ok((
            LayerNormParams {
                outer: x[..ax].iter().product(),
                inner: x[ax..].iter().product(),
                epsilon: self.epsilon,
            },
            ax,
        ))
    }
}

fn check_vec(
    what: &str,
    t: Option<InputInfo<'_>>,
    inner: usize,
    norm_shape: &[usize],
) -> Result<(), OpError> {
    if let Some(t) = t {
        expect_dtype(what, t.dtype, &[DType::F32])?;
        if t.shape.iter().product::<usize>() != inner
            || t.shape
                .iter()
                .rev()
                .zip(norm_shape.iter().rev())
                .any(|(a, b)| a != b)
        {
            return Err(unsupported(format!(
                "{what} of shape {:?}: zant needs it to cover the normalized shape {norm_shape:?} fully (no broadcasting)",
                t.shape
            )));
        }
    }
    Ok(())
}

impl Op for LayerNorm {
    fn name(&self) -> String {
        "LayerNormalization".into()
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let x = req(inputs, 0)?;
        expect_dtype("input X", x.dtype, &[DType::F32])?;
        let (p, ax) = self.params(x.shape)?;
        check_vec("Scale", Some(req(inputs, 1)?), p.inner, &x.shape[ax..])?;
        check_vec("B", opt(inputs, 2), p.inner, &x.shape[ax..])?;
        let stat: Vec<usize> = x
            .shape
            .iter()
            .enumerate()
            .map(|(i, &d)| if i < ax { d } else { 1 })
            .collect();
        Ok(vec![
            OutputInfo::new(DType::F32, x.shape.to_vec()),
            OutputInfo::new(DType::F32, stat.clone()),
            OutputInfo::new(DType::F32, stat),
        ])
    }

    fn macs(&self, inputs: &[Option<InputInfo<'_>>], _outputs: &[OutputInfo]) -> u64 {
        opt(inputs, 0)
            .map(|x| 2 * x.shape.iter().product::<usize>() as u64)
            .unwrap_or(0)
    }

    fn eval(
        &self,
        inputs: &[Option<&TensorData>],
        outputs: &[OutputInfo],
    ) -> Result<Vec<TensorData>, OpError> {
        let (Some(Some(x)), Some(Some(s))) = (inputs.first(), inputs.get(1)) else {
            return Err(OpError::NotFoldable);
        };
        let bias = inputs.get(2).copied().flatten().map(|b| b.as_f32());
        let (p, _) = self.params(&x.shape)?;
        let xv = x.as_f32();
        let mut y = vec![0f32; xv.len()];
        zant_kernels::reference::norm::layer_norm(&xv, &mut y, &s.as_f32(), bias.as_deref(), &p);
        let (mean, inv) = stats(&xv, p.inner, p.epsilon);
        let mut res = vec![TensorData::from_f32(outputs[0].shape.clone(), &y)];
        if outputs.len() > 1 {
            res.push(TensorData::from_f32(outputs[1].shape.clone(), &mean));
        }
        if outputs.len() > 2 {
            res.push(TensorData::from_f32(outputs[2].shape.clone(), &inv));
        }
        Ok(res)
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let ins = cx.inputs();
        let (p, _) = self.params(req(&ins, 0)?.shape)?;
        let k = cx.kernels();
        let [o, i] = [p.outer, p.inner].map(lit_usize);
        let eps = lit_f32(p.epsilon);
        let (x, sc, bi, y) = (cx.x(0), cx.x(1), cx.x_opt(2), cx.y(0));
        let mut ts = quote! {
            #k::norm::layer_norm(#x, #y, #sc, #bi, &#k::norm::LayerNormParams {
                outer: #o, inner: #i, epsilon: #eps,
            });
        };
        let n_out = cx.node().outputs.len();
        if n_out > 1 && p.inner > 0 {
            let m = cx.math();
            let mean_out = cx.y(1);
            let inv = if n_out > 2 {
                let y2 = cx.y(2);
                quote!(if let Some(r) = #y2.get_mut(o) { *r = 1.0 / #m::sqrtf(var + #eps); })
            } else {
                quote!(let _ = var;)
            };
            ts.extend(quote! {
                for (o, row) in #x.chunks(#i).enumerate() {
                    let n = row.len() as f32;
                    let mean = row.iter().sum::<f32>() / n;
                    let var = row.iter().map(|&v| (v - mean) * (v - mean)).sum::<f32>() / n;
                    if let Some(mo) = #mean_out.get_mut(o) { *mo = mean; }
                    #inv
                }
            });
        }
        Ok(ts)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Per-row mean and 1/sqrt(var + eps) of `x` viewed as rows of `inner`.
fn stats(x: &[f32], inner: usize, eps: f32) -> (Vec<f32>, Vec<f32>) {
    if inner == 0 {
        return (vec![], vec![]);
    }
    x.chunks(inner)
        .map(|row| {
            let n = row.len() as f32;
            let mean = row.iter().sum::<f32>() / n;
            let var = row.iter().map(|&v| (v - mean) * (v - mean)).sum::<f32>() / n;
            (mean, 1.0 / zant_kernels::math::sqrtf(var + eps))
        })
        .unzip()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(t: &TensorData) -> Option<InputInfo<'_>> {
        Some(InputInfo {
            dtype: DType::F32,
            shape: &t.shape,
            data: Some(t),
        })
    }

    #[test]
    fn layer_norm_eval() {
        let op = LayerNorm {
            axis: -1,
            epsilon: 0.0,
        };
        let x = TensorData::from_f32(vec![2, 2], &[1., 3., 2., 4.]);
        let s = TensorData::from_f32(vec![2], &[1., 1.]);
        let out = op.infer(&[info(&x), info(&s)]).unwrap();
        assert_eq!(out[1].shape, vec![2, 1]);
        let r = op.eval(&[Some(&x), Some(&s)], &out).unwrap();
        assert_eq!(r[0].as_f32(), vec![-1., 1., -1., 1.]);
        assert_eq!(r[1].as_f32(), vec![2., 3.]);
        assert_eq!(r[2].as_f32()[0], 1.0);
    }

    #[test]
    fn instance_norm_eval() {
        let op = InstanceNorm { epsilon: 0.0 };
        let x = TensorData::from_f32(vec![1, 1, 2], &[1., 3.]);
        let s = TensorData::from_f32(vec![1], &[2.]);
        let b = TensorData::from_f32(vec![1], &[1.]);
        let out = op.infer(&[info(&x), info(&s), info(&b)]).unwrap();
        let y = op.eval(&[Some(&x), Some(&s), Some(&b)], &out).unwrap();
        assert_eq!(y[0].as_f32(), vec![-1., 3.]);
        assert!(op.infer(&[info(&s), info(&s), info(&b)]).is_err());
    }
}
