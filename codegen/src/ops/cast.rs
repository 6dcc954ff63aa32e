//! `Cast` between f32, f64, the 8/16/32/64-bit integers and bool, with ONNX
//! rules: float to integer truncates toward zero (saturating, NaN to 0),
//! anything to bool is `x != 0`, bool to a number is 0 or 1.

use std::any::Any;
use std::sync::Arc;

use proc_macro2::TokenStream;
use quote::quote;

use super::util::{const_in, req};
use super::{unsupported, InputInfo, Op, OpError, OutputInfo};
use crate::attrs::Attrs;
use crate::emit::NodeCx;
use crate::ir::{DType, TensorData};

/// A parsed `Cast` node.
#[derive(Debug, Clone)]
pub struct Cast {
    /// Target element type.
    pub to: DType,
}

/// Parses `Cast`.
pub fn parse(a: &Attrs, _opset: i64) -> Result<Arc<dyn Op>, OpError> {
    let code = a.int_req("to")?;
    let to = DType::from_onnx(code as i32).ok_or_else(|| OpError::Attribute {
        name: "to".into(),
        message: format!(
            "casting to {} is not supported",
            DType::onnx_name(code as i32)
        ),
    })?;
    check(to)?;
    Ok(Arc::new(Cast { to }))
}

fn check(dt: DType) -> Result<(), OpError> {
    if dt == DType::F16 {
        return Err(unsupported("Cast from or to float16"));
    }
    Ok(())
}

/// One element, decoded.
#[derive(Clone, Copy)]
enum V {
    F(f64),
    I(i64),
    U(u64),
}

fn decode(t: &TensorData) -> Vec<V> {
    match t.dtype {
        DType::F32 | DType::F64 | DType::F16 => t.to_f64().into_iter().map(V::F).collect(),
        DType::U64 => t.as_u64().into_iter().map(V::U).collect(),
        _ => t
            .to_i64()
            .unwrap_or_default()
            .into_iter()
            .map(V::I)
            .collect(),
    }
}

macro_rules! conv {
    ($v:expr, $t:ty) => {
        match $v {
            V::F(f) => f as $t,
            V::I(i) => i as $t,
            V::U(u) => u as $t,
        }
    };
}

/// Casts constant data to `to` (host side, same rules as the kernel).
pub fn cast_data(x: &TensorData, to: DType) -> Result<TensorData, OpError> {
    check(x.dtype)?;
    check(to)?;
    let vals = decode(x);
    let s = x.shape.clone();
    Ok(match to {
        // f64 -> f32 rounds like a direct f32 cast; integers to f32 go
        // through their own `as` to avoid double rounding.
        DType::F32 => {
            TensorData::from_f32(s, &vals.iter().map(|&v| conv!(v, f32)).collect::<Vec<_>>())
        }
        DType::F64 => {
            TensorData::from_f64(s, &vals.iter().map(|&v| conv!(v, f64)).collect::<Vec<_>>())
        }
        DType::I8 => {
            TensorData::from_i8(s, &vals.iter().map(|&v| conv!(v, i8)).collect::<Vec<_>>())
        }
        DType::U8 => {
            TensorData::from_u8(s, &vals.iter().map(|&v| conv!(v, u8)).collect::<Vec<_>>())
        }
        DType::I16 => {
            TensorData::from_i16(s, &vals.iter().map(|&v| conv!(v, i16)).collect::<Vec<_>>())
        }
        DType::U16 => {
            TensorData::from_u16(s, &vals.iter().map(|&v| conv!(v, u16)).collect::<Vec<_>>())
        }
        DType::I32 => {
            TensorData::from_i32(s, &vals.iter().map(|&v| conv!(v, i32)).collect::<Vec<_>>())
        }
        DType::U32 => {
            TensorData::from_u32(s, &vals.iter().map(|&v| conv!(v, u32)).collect::<Vec<_>>())
        }
        DType::I64 => {
            TensorData::from_i64(s, &vals.iter().map(|&v| conv!(v, i64)).collect::<Vec<_>>())
        }
        DType::U64 => {
            TensorData::from_u64(s, &vals.iter().map(|&v| conv!(v, u64)).collect::<Vec<_>>())
        }
        DType::Bool => TensorData::from_bool(
            s,
            &vals
                .iter()
                .map(|&v| match v {
                    V::F(f) => f != 0.0,
                    V::I(i) => i != 0,
                    V::U(u) => u != 0,
                })
                .collect::<Vec<_>>(),
        ),
        DType::F16 => return Err(unsupported("Cast to float16")),
    })
}

impl Op for Cast {
    fn name(&self) -> String {
        "Cast".into()
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let x = req(inputs, 0)?;
        check(x.dtype)?;
        Ok(vec![OutputInfo::new(self.to, x.shape.to_vec())])
    }

    fn eval(
        &self,
        inputs: &[Option<&TensorData>],
        _outputs: &[OutputInfo],
    ) -> Result<Vec<TensorData>, OpError> {
        let x = const_in(inputs, 0)?;
        Ok(vec![cast_data(x, self.to)?])
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let (k, x, y) = (cx.kernels(), cx.x(0), cx.y(0));
        let same = cx.input(0).is_some_and(|i| i.dtype == self.to);
        Ok(if same {
            quote!(#y.copy_from_slice(#x);)
        } else {
            quote!(#k::cast::cast(#x, #y);)
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A parsed `CastLike` node: `Cast` to the element type of input 1.
#[derive(Debug, Clone)]
pub struct CastLike;

/// Parses `CastLike`.
pub fn parse_cast_like(_: &Attrs, _opset: i64) -> Result<Arc<dyn Op>, OpError> {
    Ok(Arc::new(CastLike))
}

impl Op for CastLike {
    fn name(&self) -> String {
        "CastLike".into()
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let to = req(inputs, 1)?.dtype;
        check(to)?;
        Cast { to }.infer(inputs)
    }

    fn eval(
        &self,
        inputs: &[Option<&TensorData>],
        _outputs: &[OutputInfo],
    ) -> Result<Vec<TensorData>, OpError> {
        let x = const_in(inputs, 0)?;
        let like = const_in(inputs, 1)?;
        Ok(vec![cast_data(x, like.dtype)?])
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let to = cx.output(0).dtype;
        Cast { to }.emit(cx)
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

    #[test]
    fn onnx_cast_rules() {
        let x = TensorData::from_f32(vec![5], &[-1.7, 0.0, 2.9, 300.0, f32::NAN]);
        assert_eq!(
            cast_data(&x, DType::I8).unwrap().as_i8(),
            vec![-1, 0, 2, 127, 0]
        );
        assert_eq!(
            cast_data(&x, DType::U8).unwrap().as_u8(),
            vec![0, 0, 2, 255, 0]
        );
        assert_eq!(
            cast_data(&x, DType::Bool).unwrap().bytes,
            vec![1, 0, 1, 1, 1]
        );
        let b = TensorData::from_bool(vec![2], &[true, false]);
        assert_eq!(cast_data(&b, DType::F32).unwrap().as_f32(), vec![1.0, 0.0]);
        let i = TensorData::from_i64(vec![2], &[-1, 1 << 40]);
        assert_eq!(cast_data(&i, DType::I32).unwrap().as_i32(), vec![-1, 0]);
        assert_eq!(
            cast_data(&i, DType::F64).unwrap().as_f64_exact(),
            vec![-1.0, (1u64 << 40) as f64]
        );
        assert!(cast_data(&i, DType::F16).is_err());
        let like = TensorData::from_u8(vec![], &[0]);
        let y = CastLike.eval(&[Some(&x), Some(&like)], &[]).unwrap();
        assert_eq!(y[0].as_u8(), vec![0, 0, 2, 255, 0]);
    }
}
