//! Shape-valued operators: `Shape` (opset 15 `start`/`end`), `Size`,
//! `ConstantOfShape` and `Range`. Shapes are static, so `Shape` and `Size`
//! always fold to constants; this lets `Shape→Gather→Unsqueeze→Concat→Reshape`
//! chains fold away entirely.

use std::any::Any;
use std::sync::{Arc, Mutex};

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::movebytes::scalar_tokens;
use super::util::{const_ints, req};
use super::{shape_err, unsupported, InputInfo, Op, OpError, OutputInfo};
use crate::attrs::Attrs;
use crate::emit::NodeCx;
use crate::ir::{numel, DType, TensorData};

/// Which shape operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeKind {
    /// `Shape` with `start`/`end` (opset 15).
    Shape {
        /// First dim (may be negative).
        start: i64,
        /// One past the last dim (may be negative); `None` = rank.
        end: Option<i64>,
    },
    /// `Size`: number of elements.
    Size,
}

/// A parsed `Shape` or `Size` node. The input's shape is recorded by
/// [`Op::infer`] so that [`Op::eval`] can fold it without input data.
#[derive(Debug)]
pub struct ShapeOf {
    /// Which operator.
    pub kind: ShapeKind,
    seen: Mutex<Vec<i64>>,
}

/// Parses `Shape`.
pub fn parse_shape(a: &Attrs, opset: i64) -> Result<Arc<dyn Op>, OpError> {
    let (start, end) = if opset >= 15 {
        (a.int("start", 0)?, a.int_opt("end")?)
    } else {
        (0, None)
    };
    Ok(Arc::new(ShapeOf {
        kind: ShapeKind::Shape { start, end },
        seen: Mutex::new(Vec::new()),
    }))
}

/// Parses `Size`.
pub fn parse_size(_: &Attrs, _: i64) -> Result<Arc<dyn Op>, OpError> {
    Ok(Arc::new(ShapeOf {
        kind: ShapeKind::Size,
        seen: Mutex::new(Vec::new()),
    }))
}

impl ShapeOf {
    /// The output values for an input of shape `shape`.
    pub fn values(&self, shape: &[usize]) -> Vec<i64> {
        match self.kind {
            ShapeKind::Size => vec![numel(shape) as i64],
            ShapeKind::Shape { start, end } => {
                let r = shape.len() as i64;
                let fix = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
                let (s, e) = (fix(start), fix(end.unwrap_or(r)));
                shape
                    .get(s..e.max(s))
                    .unwrap_or(&[])
                    .iter()
                    .map(|&d| d as i64)
                    .collect()
            }
        }
    }

    fn out_shape(&self, n: usize) -> Vec<usize> {
        match self.kind {
            ShapeKind::Size => vec![],
            ShapeKind::Shape { .. } => vec![n],
        }
    }
}

impl Op for ShapeOf {
    fn name(&self) -> String {
        match self.kind {
            ShapeKind::Shape { .. } => "Shape",
            ShapeKind::Size => "Size",
        }
        .into()
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let x = req(inputs, 0)?;
        let v = self.values(x.shape);
        let shape = self.out_shape(v.len());
        if let Ok(mut seen) = self.seen.lock() {
            *seen = v;
        }
        Ok(vec![OutputInfo::new(DType::I64, shape)])
    }

    fn eval(
        &self,
        inputs: &[Option<&TensorData>],
        outputs: &[OutputInfo],
    ) -> Result<Vec<TensorData>, OpError> {
        let v = match inputs.first().copied().flatten() {
            Some(x) => self.values(&x.shape),
            None => self.seen.lock().map_err(|_| OpError::NotFoldable)?.clone(),
        };
        if numel(&outputs[0].shape) != v.len() {
            return Err(OpError::NotFoldable);
        }
        Ok(vec![TensorData::from_i64(outputs[0].shape.clone(), &v)])
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let x = cx
            .input(0)
            .ok_or_else(|| shape_err("input 0 is required"))?;
        let items = self.values(x.shape).into_iter().map(Literal::i64_suffixed);
        let y = cx.y(0);
        Ok(quote!(#y.copy_from_slice(&[#(#items),*]);))
    }

    fn reads_input(&self, _i: usize) -> bool {
        false
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A parsed `ConstantOfShape` node.
#[derive(Debug, Clone)]
pub struct ConstantOfShape {
    /// The one-element `value` tensor (default: float32 zero).
    pub value: TensorData,
}

/// Parses `ConstantOfShape`.
pub fn parse_constant_of_shape(a: &Attrs, _: i64) -> Result<Arc<dyn Op>, OpError> {
    let value = match a.tensor_opt("value") {
        Some(t) if t.numel() == 1 => t.clone(),
        Some(t) => {
            return Err(OpError::Attribute {
                name: "value".into(),
                message: format!("must hold one element, holds {}", t.numel()),
            })
        }
        None => TensorData::from_f32(vec![1], &[0.0]),
    };
    Ok(Arc::new(ConstantOfShape { value }))
}

impl Op for ConstantOfShape {
    fn name(&self) -> String {
        "ConstantOfShape".into()
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let s = const_ints(inputs, 0, "ConstantOfShape shape")?;
        if s.iter().any(|&d| d < 0) {
            return Err(shape_err(format!("negative dimension in shape {s:?}")));
        }
        Ok(vec![OutputInfo::new(
            self.value.dtype,
            s.iter().map(|&d| d as usize).collect(),
        )])
    }

    fn eval(
        &self,
        _inputs: &[Option<&TensorData>],
        outputs: &[OutputInfo],
    ) -> Result<Vec<TensorData>, OpError> {
        let shape = outputs[0].shape.clone();
        Ok(vec![TensorData {
            dtype: self.value.dtype,
            bytes: self.value.bytes.repeat(numel(&shape)),
            shape,
        }])
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let v = scalar_tokens(self.value.dtype, &self.value.bytes)?;
        let y = cx.y(0);
        Ok(quote!(#y.fill(#v);))
    }

    fn reads_input(&self, _i: usize) -> bool {
        false
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A parsed `Range` node (`start`, `limit`, `delta` must be constant since
/// they fix the output length).
#[derive(Debug, Clone)]
pub struct Range;

/// Parses `Range`.
pub fn parse_range(_: &Attrs, _: i64) -> Result<Arc<dyn Op>, OpError> {
    Ok(Arc::new(Range))
}

fn scalar(
    inputs: &[Option<InputInfo<'_>>],
    i: usize,
    what: &str,
) -> Result<(DType, f64, i64), OpError> {
    let x = req(inputs, i)?;
    let d = x.data.ok_or_else(|| {
        unsupported(format!(
            "Range {what} computed at run time (it fixes the output length)"
        ))
    })?;
    let f = *d
        .to_f64()
        .first()
        .ok_or_else(|| shape_err(format!("Range {what} is empty")))?;
    let n = d.to_i64().and_then(|v| v.first().copied()).unwrap_or(0);
    Ok((x.dtype, f, n))
}

impl Range {
    fn values(inputs: &[Option<InputInfo<'_>>]) -> Result<(DType, Vec<f64>, Vec<i64>), OpError> {
        let (dt, s, si) = scalar(inputs, 0, "start")?;
        let (_, l, li) = scalar(inputs, 1, "limit")?;
        let (_, d, di) = scalar(inputs, 2, "delta")?;
        if dt.is_float() {
            if d == 0.0 || !d.is_finite() {
                return Err(shape_err("Range delta must be finite and non-zero"));
            }
            let n = ((l - s) / d).ceil().max(0.0) as usize;
            Ok((dt, (0..n).map(|i| s + i as f64 * d).collect(), vec![]))
        } else {
            if di == 0 {
                return Err(shape_err("Range delta is 0"));
            }
            let n = ((li as i128 - si as i128) as f64 / di as f64)
                .ceil()
                .max(0.0) as usize;
            Ok((dt, vec![], (0..n as i64).map(|i| si + i * di).collect()))
        }
    }
}

impl Op for Range {
    fn name(&self) -> String {
        "Range".into()
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let (dt, f, i) = Self::values(inputs)?;
        super::util::expect_dtype(
            "Range",
            dt,
            &[DType::F32, DType::F64, DType::I16, DType::I32, DType::I64],
        )?;
        Ok(vec![OutputInfo::new(dt, vec![f.len().max(i.len())])])
    }

    fn eval(
        &self,
        inputs: &[Option<&TensorData>],
        outputs: &[OutputInfo],
    ) -> Result<Vec<TensorData>, OpError> {
        let infos: Vec<_> = inputs
            .iter()
            .map(|t| t.and_then(super::movebytes::const_info))
            .collect();
        let (dt, f, i) = Self::values(&infos)?;
        let shape = outputs[0].shape.clone();
        Ok(vec![match dt {
            DType::F32 => {
                TensorData::from_f32(shape, &f.iter().map(|&v| v as f32).collect::<Vec<_>>())
            }
            DType::F64 => TensorData::from_f64(shape, &f),
            DType::I16 => {
                TensorData::from_i16(shape, &i.iter().map(|&v| v as i16).collect::<Vec<_>>())
            }
            DType::I32 => {
                TensorData::from_i32(shape, &i.iter().map(|&v| v as i32).collect::<Vec<_>>())
            }
            DType::I64 => TensorData::from_i64(shape, &i),
            other => return Err(unsupported(format!("Range of {other}"))),
        }])
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        // Reached only with folding disabled: write the folded values.
        let ins = cx.inputs();
        let datas: Vec<Option<&TensorData>> = ins.iter().map(|i| i.and_then(|i| i.data)).collect();
        let v = self.eval(&datas, &cx.outputs())?.remove(0);
        let sz = v.dtype.size();
        let items = v
            .bytes
            .chunks_exact(sz)
            .map(|c| scalar_tokens(v.dtype, c))
            .collect::<Result<Vec<_>, _>>()?;
        let y = cx.y(0);
        Ok(quote!(#y.copy_from_slice(&[#(#items),*]);))
    }

    fn reads_input(&self, _i: usize) -> bool {
        false
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
    fn shape_folds_without_data() {
        let op = ShapeOf {
            kind: ShapeKind::Shape {
                start: 1,
                end: Some(-1),
            },
            seen: Mutex::new(vec![]),
        };
        let x = InputInfo {
            dtype: DType::F32,
            shape: &[2, 3, 4, 5],
            data: None,
        };
        let outs = op.infer(&[Some(x)]).unwrap();
        assert_eq!(outs[0].shape, vec![2]);
        assert_eq!(op.eval(&[None], &outs).unwrap()[0].as_i64(), vec![3, 4]);
        let size = ShapeOf {
            kind: ShapeKind::Size,
            seen: Mutex::new(vec![]),
        };
        let outs = size.infer(&[Some(x)]).unwrap();
        assert_eq!(size.eval(&[None], &outs).unwrap()[0].as_i64(), vec![120]);
    }

    #[test]
    fn constant_of_shape_and_range() {
        let s = TensorData::from_i64(vec![2], &[2, 3]);
        let op = ConstantOfShape {
            value: TensorData::from_i32(vec![1], &[7]),
        };
        let outs = op.infer(&[info(&s)]).unwrap();
        let y = op.eval(&[Some(&s)], &outs).unwrap();
        assert_eq!(y[0].as_i32(), vec![7; 6]);
        let (a, b, c) = (
            TensorData::from_i32(vec![], &[10]),
            TensorData::from_i32(vec![], &[4]),
            TensorData::from_i32(vec![], &[-3]),
        );
        let outs = Range.infer(&[info(&a), info(&b), info(&c)]).unwrap();
        assert_eq!(
            Range.eval(&[Some(&a), Some(&b), Some(&c)], &outs).unwrap()[0].as_i32(),
            vec![10, 7]
        );
        let (a, b, c) = (
            TensorData::from_f32(vec![], &[1.0]),
            TensorData::from_f32(vec![], &[2.0]),
            TensorData::from_f32(vec![], &[0.3]),
        );
        let outs = Range.infer(&[info(&a), info(&b), info(&c)]).unwrap();
        assert_eq!(outs[0].shape, vec![4]);
    }

    /// `Abs → Shape → Gather → Unsqueeze → Concat → Reshape → Transpose →
    /// Slice(step -3)` (opset 13, built with the onnx Python helpers): the
    /// shape computation folds away and only real data movement remains.
    #[test]
    fn shape_chain_folds_to_constants() {
        let bytes = include_bytes!("testdata/shape_chain.onnx");
        let g = crate::load_bytes(bytes, "shape_chain", &crate::LoadOptions::default()).unwrap();
        let ops: Vec<&str> = g.nodes.iter().map(|n| n.op_type.as_str()).collect();
        assert_eq!(ops, ["Abs", "Reshape", "Transpose", "Slice"]);
        let out = g.tensor(g.outputs[0]);
        assert_eq!(out.shape, vec![4, 2]);
    }
}
