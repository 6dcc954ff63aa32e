//! `Concat` and `Split` along one axis, for any element type.

use std::any::Any;
use std::sync::Arc;

use proc_macro2::TokenStream;
use quote::quote;
use zant_kernels::reference::concat as kc;

use super::movebytes::{elems, join, lit, per_size};
use super::util::{axis, const_in, const_ints_opt, req};
use super::{shape_err, unsupported, InputInfo, Op, OpError, OutputInfo};
use crate::attrs::Attrs;
use crate::emit::NodeCx;
use crate::ir::TensorData;

/// A parsed `Concat` node.
#[derive(Debug, Clone)]
pub struct Concat {
    /// Concatenation axis (may be negative).
    pub axis: i64,
}

/// Parses `Concat` (`axis` is required from opset 4, defaults to 1 before).
pub fn parse_concat(a: &Attrs, opset: i64) -> Result<Arc<dyn Op>, OpError> {
    let axis = if opset < 4 {
        a.int("axis", 1)?
    } else {
        a.int_req("axis")?
    };
    Ok(Arc::new(Concat { axis }))
}

impl Op for Concat {
    fn name(&self) -> String {
        "Concat".into()
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let first = req(inputs, 0)?;
        let rank = first.shape.len();
        let ax = axis(self.axis, rank)?;
        let mut shape = first.shape.to_vec();
        shape[ax] = 0;
        for (i, inp) in inputs.iter().enumerate() {
            let inp = inp.ok_or_else(|| shape_err(format!("input {i} is missing")))?;
            if inp.dtype != first.dtype {
                return Err(shape_err(format!(
                    "input {i} is {} but input 0 is {}",
                    inp.dtype, first.dtype
                )));
            }
            let ok = inp.shape.len() == rank
                && (0..rank).all(|d| d == ax || inp.shape[d] == first.shape[d]);
            if !ok {
                return Err(shape_err(format!(
                    "input {i} has shape {:?}, which does not match {:?} outside axis {ax}",
                    inp.shape, first.shape
                )));
            }
            shape[ax] += inp.shape[ax];
        }
        Ok(vec![OutputInfo::new(first.dtype, shape)])
    }

    fn eval(
        &self,
        inputs: &[Option<&TensorData>],
        outputs: &[OutputInfo],
    ) -> Result<Vec<TensorData>, OpError> {
        let xs: Vec<&TensorData> = inputs
            .iter()
            .map(|i| i.ok_or(OpError::NotFoldable))
            .collect::<Result<_, _>>()?;
        let first = xs.first().ok_or(OpError::NotFoldable)?;
        let ax = axis(self.axis, first.shape.len())?;
        let outer: usize = first.shape[..ax].iter().product();
        let bytes = per_size!(first.dtype.size(), N => {
            let parts: Vec<Vec<[u8; N]>> = xs.iter().map(|x| elems::<N>(&x.bytes)).collect();
            let refs: Vec<&[[u8; N]]> = parts.iter().map(|p| p.as_slice()).collect();
            let mut y = vec![[0u8; N]; parts.iter().map(|p| p.len()).sum()];
            kc::concat(&refs, outer, &mut y);
            join(&y)
        })?;
        Ok(vec![TensorData {
            dtype: first.dtype,
            shape: outputs[0].shape.clone(),
            bytes,
        }])
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let out = cx.output(0);
        let ax = axis(self.axis, out.shape.len())?;
        let outer = lit(out.shape[..ax].iter().product());
        let xs: Vec<TokenStream> = (0..cx.node().inputs.len()).map(|i| cx.x(i)).collect();
        let (k, y) = (cx.kernels(), cx.y(0));
        Ok(quote!(#k::concat::concat(&[#(#xs),*], #outer, #y);))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A parsed `Split` node.
#[derive(Debug, Clone)]
pub struct Split {
    /// Split axis (may be negative).
    pub axis: i64,
    /// `split` attribute (opset < 13).
    pub split: Option<Vec<i64>>,
    /// `num_outputs` attribute (opset 18).
    pub num_outputs: Option<i64>,
}

/// Parses `Split`.
pub fn parse_split(a: &Attrs, opset: i64) -> Result<Arc<dyn Op>, OpError> {
    let split = if opset < 13 {
        a.ints_opt("split")?
    } else {
        None
    };
    let num_outputs = if opset >= 18 {
        a.int_opt("num_outputs")?
    } else {
        None
    };
    // Without `split` (attribute or input) the axis is split into equal parts,
    // one per declared output; the input form is checked at infer time.
    let num_outputs = num_outputs.or(if split.is_none() {
        Some(a.output_count() as i64)
    } else {
        None
    });
    Ok(Arc::new(Split {
        axis: a.int("axis", 0)?,
        split,
        num_outputs,
    }))
}

impl Split {
    /// Lengths of the parts along the axis.
    fn parts(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<(usize, Vec<usize>), OpError> {
        let x = req(inputs, 0)?;
        let ax = axis(self.axis, x.shape.len())?;
        let len = x.shape[ax];
        let split = match &self.split {
            Some(s) => Some(s.clone()),
            None => const_ints_opt(inputs, 1, "Split split")?,
        };
        // Equal parts must divide the axis exactly unless num_outputs was given (opset 18).
        let parts = if let Some(s) = split {
            if s.iter().any(|&v| v < 0) || s.iter().sum::<i64>() != len as i64 {
                return Err(shape_err(format!(
                    "split {s:?} does not add up to the axis length {len}"
                )));
            }
            s.iter().map(|&v| v as usize).collect()
        } else if let Some(n) = self.num_outputs {
            if n < 1 {
                return Err(shape_err(format!("num_outputs is {n}")));
            }
            let n = n as usize;
            let chunk = len.div_ceil(n);
            if chunk * (n - 1) > len {
                return Err(shape_err(format!(
                    "an axis of length {len} cannot be split into {n} outputs"
                )));
            }
            (0..n)
                .map(|i| {
                    if i + 1 < n {
                        chunk
                    } else {
                        len - chunk * (n - 1)
                    }
                })
                .collect()
        } else {
            return Err(unsupported(
                "Split without `split` or `num_outputs` (equal parts over the node's outputs)",
            ));
        };
        Ok((ax, parts))
    }
}

impl Op for Split {
    fn name(&self) -> String {
        "Split".into()
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let x = req(inputs, 0)?;
        let (ax, parts) = self.parts(inputs)?;
        Ok(parts
            .into_iter()
            .map(|p| {
                let mut s = x.shape.to_vec();
                s[ax] = p;
                OutputInfo::new(x.dtype, s)
            })
            .collect())
    }

    fn eval(
        &self,
        inputs: &[Option<&TensorData>],
        outputs: &[OutputInfo],
    ) -> Result<Vec<TensorData>, OpError> {
        let x = const_in(inputs, 0)?;
        let ax = axis(self.axis, x.shape.len())?;
        let outer: usize = x.shape[..ax].iter().product();
        let outs = per_size!(x.dtype.size(), N => {
            let xs = elems::<N>(&x.bytes);
            let mut ys: Vec<Vec<[u8; N]>> =
                outputs.iter().map(|o| vec![[0u8; N]; o.shape.iter().product()]).collect();
            let mut refs: Vec<&mut [[u8; N]]> = ys.iter_mut().map(|v| v.as_mut_slice()).collect();
            kc::split(&xs, outer, &mut refs);
            ys.iter().map(|y| join(y)).collect::<Vec<_>>()
        })?;
        Ok(outs
            .into_iter()
            .zip(outputs)
            .map(|(bytes, o)| TensorData {
                dtype: x.dtype,
                shape: o.shape.clone(),
                bytes,
            })
            .collect())
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let xi = cx
            .input(0)
            .ok_or_else(|| shape_err("input 0 is required"))?;
        let ax = axis(self.axis, xi.shape.len())?;
        let outer = lit(xi.shape[..ax].iter().product());
        let ys: Vec<TokenStream> = (0..cx.node().outputs.len()).map(|i| cx.y(i)).collect();
        let (k, x) = (cx.kernels(), cx.x(0));
        Ok(quote!(#k::concat::split(#x, #outer, &mut [#(#ys),*]);))
    }

    fn reads_input(&self, i: usize) -> bool {
        i == 0
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::DType;

    fn info(t: &TensorData) -> Option<InputInfo<'_>> {
        Some(InputInfo {
            dtype: t.dtype,
            shape: &t.shape,
            data: Some(t),
        })
    }

    #[test]
    fn concat_then_split_round_trips() {
        let a = TensorData::from_f32(vec![2, 1], &[1.0, 2.0]);
        let b = TensorData::from_f32(vec![2, 2], &[3.0, 4.0, 5.0, 6.0]);
        let c = Concat { axis: -1 };
        let outs = c.infer(&[info(&a), info(&b)]).unwrap();
        assert_eq!(outs[0].shape, vec![2, 3]);
        let y = c.eval(&[Some(&a), Some(&b)], &outs).unwrap().remove(0);
        assert_eq!(y.as_f32(), vec![1.0, 3.0, 4.0, 2.0, 5.0, 6.0]);
        let s = Split {
            axis: 1,
            split: Some(vec![1, 2]),
            num_outputs: None,
        };
        let souts = s.infer(&[info(&y)]).unwrap();
        let parts = s.eval(&[Some(&y)], &souts).unwrap();
        assert_eq!(parts[0], a);
        assert_eq!(parts[1], b);
    }

    #[test]
    fn split_num_outputs_uneven() {
        let x = TensorData::from_i64(vec![5], &[1, 2, 3, 4, 5]);
        let s = Split {
            axis: 0,
            split: None,
            num_outputs: Some(2),
        };
        let outs = s.infer(&[info(&x)]).unwrap();
        assert_eq!(
            outs.iter().map(|o| o.shape[0]).collect::<Vec<_>>(),
            vec![3, 2]
        );
        assert_eq!(outs[0].dtype, DType::I64);
        let sp = TensorData::from_i64(vec![2], &[2, 2]);
        assert!(Split {
            axis: 0,
            split: None,
            num_outputs: None
        }
        .infer(&[info(&x), info(&sp)])
        .is_err());
    }
}
