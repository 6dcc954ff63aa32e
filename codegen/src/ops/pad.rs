//! `Pad`: constant, reflect, edge (and opset 19 wrap) padding, for any
//! element type. Opset < 11 takes `pads`/`value` attributes; from opset 11
//! they are inputs (`pads`, `constant_value`), opset 18 adds `axes`.

use std::any::Any;
use std::sync::Arc;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use zant_kernels::reference::pad as kp;

use super::movebytes::{
    check_rank, dims, dims_tokens, elems, isize_tokens, join, lit, per_size, scalar_tokens,
};
use super::util::{axis, const_in, const_ints, const_ints_opt, opt, req};
use super::{shape_err, InputInfo, Op, OpError, OutputInfo};
use crate::attrs::Attrs;
use crate::emit::NodeCx;
use crate::ir::{DType, TensorData};

/// A parsed `Pad` node.
#[derive(Debug, Clone)]
pub struct Pad {
    /// Padding mode.
    pub mode: kp::PadMode,
    /// `pads` attribute (opset < 11).
    pub pads: Option<Vec<i64>>,
    /// `value` attribute (opset < 11).
    pub value: f32,
}

/// Parses `Pad`.
pub fn parse(a: &Attrs, opset: i64) -> Result<Arc<dyn Op>, OpError> {
    let m = a.string("mode", "constant")?;
    let mode = match m.as_str() {
        "constant" => kp::PadMode::Constant,
        "reflect" => kp::PadMode::Reflect,
        "edge" => kp::PadMode::Edge,
        "wrap" => kp::PadMode::Wrap,
        other => {
            return Err(OpError::Attribute {
                name: "mode".into(),
                message: format!("unknown mode `{other}` (constant, reflect, edge or wrap)"),
            })
        }
    };
    let (pads, value) = if opset < 11 {
        let pads = a
            .ints_opt("pads")?
            .or(a.ints_opt("paddings")?)
            .ok_or_else(|| OpError::Attribute {
                name: "pads".into(),
                message: "required before opset 11".into(),
            })?;
        (Some(pads), a.float("value", 0.0)?)
    } else {
        (None, 0.0)
    };
    Ok(Arc::new(Pad { mode, pads, value }))
}

impl Pad {
    /// Per-axis begin pads and the output shape.
    fn resolve(
        &self,
        inputs: &[Option<InputInfo<'_>>],
    ) -> Result<(Vec<isize>, Vec<usize>), OpError> {
        let x = req(inputs, 0)?;
        let rank = x.shape.len();
        let raw = match &self.pads {
            Some(p) => p.clone(),
            None => const_ints(inputs, 1, "Pad pads")?,
        };
        let axes: Vec<usize> = match const_ints_opt(inputs, 3, "Pad axes")? {
            Some(a) => a.iter().map(|&v| axis(v, rank)).collect::<Result<_, _>>()?,
            None => (0..rank).collect(),
        };
        let n = axes.len();
        if raw.len() != 2 * n {
            return Err(shape_err(format!(
                "pads has {} values; {} expected (begin and end for {n} axes)",
                raw.len(),
                2 * n
            )));
        }
        let mut begin = vec![0isize; rank];
        let mut shape: Vec<i64> = x.shape.iter().map(|&d| d as i64).collect();
        for (i, &a) in axes.iter().enumerate() {
            begin[a] = raw[i] as isize;
            shape[a] += raw[i] + raw[i + n];
        }
        if shape.iter().any(|&d| d < 0) {
            return Err(shape_err(format!(
                "pads {raw:?} crop {:?} below zero",
                x.shape
            )));
        }
        let shape: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
        if self.mode != kp::PadMode::Constant {
            for (d, (&i, &o)) in x.shape.iter().zip(&shape).enumerate() {
                if i == 0 && o > 0 {
                    return Err(shape_err(format!(
                        "cannot {:?}-pad axis {d} of length 0",
                        self.mode
                    )));
                }
            }
        }
        Ok((begin, shape))
    }

    fn params(&self, in_shape: &[usize], begin: &[isize], out: &[usize]) -> kp::PadParams {
        let mut pb = [0isize; 6];
        pb[..begin.len()].copy_from_slice(begin);
        kp::PadParams {
            rank: in_shape.len(),
            in_shape: dims(in_shape),
            out_shape: dims(out),
            pads_begin: pb,
            mode: self.mode,
        }
    }

    /// Raw bytes of the constant fill value in element type `dt`.
    fn value_bytes(
        &self,
        inputs: &[Option<InputInfo<'_>>],
        dt: DType,
    ) -> Result<Option<Vec<u8>>, OpError> {
        if let Some(v) = opt(inputs, 2) {
            return Ok(match v.data {
                Some(d) if d.numel() >= 1 => Some(d.bytes[..dt.size()].to_vec()),
                Some(_) => Some(vec![0; dt.size()]),
                None => None,
            });
        }
        let f = TensorData::from_f32(vec![1], &[self.value]);
        Ok(Some(
            super::cast::cast_data(&f, dt)
                .map(|t| t.bytes)
                .unwrap_or_else(|_| vec![0; dt.size()]),
        ))
    }
}

impl Op for Pad {
    fn name(&self) -> String {
        "Pad".into()
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let x = req(inputs, 0)?;
        check_rank("Pad", x.shape.len())?;
        if let Some(v) = opt(inputs, 2) {
            if v.dtype != x.dtype {
                return Err(shape_err(format!(
                    "constant_value is {} but the input is {}",
                    v.dtype, x.dtype
                )));
            }
        }
        Ok(vec![OutputInfo::new(x.dtype, self.resolve(inputs)?.1)])
    }

    fn eval(
        &self,
        inputs: &[Option<&TensorData>],
        _outputs: &[OutputInfo],
    ) -> Result<Vec<TensorData>, OpError> {
        let infos: Vec<_> = inputs
            .iter()
            .map(|t| t.and_then(super::movebytes::const_info))
            .collect();
        let x = const_in(inputs, 0)?;
        let (begin, out) = self.resolve(&infos)?;
        let p = self.params(&x.shape, &begin, &out);
        let vb = self
            .value_bytes(&infos, x.dtype)?
            .ok_or(OpError::NotFoldable)?;
        let n: usize = out.iter().product();
        let bytes = per_size!(x.dtype.size(), N => {
            let xs = elems::<N>(&x.bytes);
            let v = elems::<N>(&vb)[0];
            let mut ys = vec![[0u8; N]; n];
            kp::pad(&xs, &mut ys, v, &p);
            join(&ys)
        })?;
        Ok(vec![TensorData {
            dtype: x.dtype,
            shape: out,
            bytes,
        }])
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let ins = cx.inputs();
        let x = req(&ins, 0)?;
        let (begin, out) = self.resolve(&ins)?;
        let (k, xt, y) = (cx.kernels(), cx.x(0), cx.y(0));
        let value = match self.value_bytes(&ins, x.dtype)? {
            Some(b) => scalar_tokens(x.dtype, &b)?,
            None => {
                let x2 = cx.x(2);
                quote!(match #x2.first() { Some(&v) => v, None => Default::default() })
            }
        };
        let mode = format_ident!("{}", format!("{:?}", self.mode));
        let rank = lit(x.shape.len());
        let (is, os, pb) = (
            dims_tokens(x.shape),
            dims_tokens(&out),
            isize_tokens(&begin, 0),
        );
        Ok(
            quote!(#k::pad::pad(#xt, #y, #value, &#k::pad::PadParams { rank: #rank, in_shape: #is, out_shape: #os, pads_begin: #pb, mode: #k::pad::PadMode::#mode });),
        )
    }

    fn reads_input(&self, i: usize) -> bool {
        // constant_value is read at run time only when it is not constant;
        // binding it costs nothing when it is.
        i == 0 || i == 2
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::movebytes::const_info as info;

    #[test]
    fn modes() {
        let x = TensorData::from_f32(vec![1, 3], &[1., 2., 3.]);
        let pads = TensorData::from_i64(vec![4], &[0, 2, 0, 1]);
        for (mode, want) in [
            (kp::PadMode::Constant, vec![9., 9., 1., 2., 3., 9.]),
            (kp::PadMode::Reflect, vec![3., 2., 1., 2., 3., 2.]),
            (kp::PadMode::Edge, vec![1., 1., 1., 2., 3., 3.]),
        ] {
            let op = Pad {
                mode,
                pads: None,
                value: 0.0,
            };
            let v = TensorData::from_f32(vec![], &[9.0]);
            let outs = op.infer(&[info(&x), info(&pads), info(&v)]).unwrap();
            assert_eq!(outs[0].shape, vec![1, 6]);
            let y = op.eval(&[Some(&x), Some(&pads), Some(&v)], &outs).unwrap();
            assert_eq!(y[0].as_f32(), want, "{mode:?}");
        }
    }

    #[test]
    fn attribute_form_and_axes() {
        let x = TensorData::from_i32(vec![2, 2], &[1, 2, 3, 4]);
        let op = Pad {
            mode: kp::PadMode::Constant,
            pads: Some(vec![1, 0, 0, 0]),
            value: 5.0,
        };
        let outs = op.infer(&[info(&x)]).unwrap();
        assert_eq!(
            op.eval(&[Some(&x)], &outs).unwrap()[0].as_i32(),
            vec![5, 5, 1, 2, 3, 4]
        );
        let op = Pad {
            mode: kp::PadMode::Edge,
            pads: None,
            value: 0.0,
        };
        let pads = TensorData::from_i64(vec![2], &[0, 1]);
        let axes = TensorData::from_i64(vec![1], &[-1]);
        let outs = op
            .infer(&[info(&x), info(&pads), None, info(&axes)])
            .unwrap();
        assert_eq!(outs[0].shape, vec![2, 3]);
        assert_eq!(
            op.eval(&[Some(&x), Some(&pads), None, Some(&axes)], &outs)
                .unwrap()[0]
                .as_i32(),
            vec![1, 2, 2, 3, 4, 4]
        );
    }
}
