//! `Expand` (broadcast to a constant shape) and `Tile` (repeat along each
//! axis), for any element type.

use std::any::Any;
use std::sync::Arc;

use proc_macro2::TokenStream;
use quote::quote;
use zant_kernels::reference::binary::BroadcastParams;
use zant_kernels::reference::transpose as kt;

use super::movebytes::{check_rank, dims, dims_tokens, elems, join, lit, per_size};
use super::util::{broadcast, const_in, const_ints, req};
use super::{shape_err, InputInfo, Op, OpError, OutputInfo};
use crate::attrs::Attrs;
use crate::emit::NodeCx;
use crate::ir::TensorData;

/// A parsed `Expand` node.
#[derive(Debug, Clone)]
pub struct Expand;

/// Parses `Expand`.
pub fn parse_expand(_: &Attrs, _: i64) -> Result<Arc<dyn Op>, OpError> {
    Ok(Arc::new(Expand))
}

fn expand_params(inputs: &[Option<InputInfo<'_>>]) -> Result<BroadcastParams, OpError> {
    let x = req(inputs, 0)?;
    let s = const_ints(inputs, 1, "Expand shape")?;
    if s.iter().any(|&d| d < 0) {
        return Err(shape_err(format!(
            "Expand shape {s:?} has a negative dimension"
        )));
    }
    let s: Vec<usize> = s.iter().map(|&d| d as usize).collect();
    let out = broadcast(x.shape, &s)?;
    check_rank("Expand", out.len())?;
    BroadcastParams::new(x.shape, &out).ok_or_else(|| shape_err("Expand shapes do not broadcast"))
}

fn infos<'a>(inputs: &'a [Option<&'a TensorData>]) -> Vec<Option<InputInfo<'a>>> {
    inputs
        .iter()
        .map(|t| t.and_then(super::movebytes::const_info))
        .collect()
}

impl Op for Expand {
    fn name(&self) -> String {
        "Expand".into()
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let x = req(inputs, 0)?;
        let p = expand_params(inputs)?;
        Ok(vec![OutputInfo::new(
            x.dtype,
            p.out_shape[..p.rank].to_vec(),
        )])
    }

    fn eval(
        &self,
        inputs: &[Option<&TensorData>],
        outputs: &[OutputInfo],
    ) -> Result<Vec<TensorData>, OpError> {
        let x = const_in(inputs, 0)?;
        let p = expand_params(&infos(inputs))?;
        let n: usize = outputs[0].shape.iter().product();
        let bytes = per_size!(x.dtype.size(), N => {
            let xs = elems::<N>(&x.bytes);
            let mut ys = vec![[0u8; N]; n];
            if n > 0 {
                zant_kernels::reference::binary::expand(&xs, &mut ys, &p);
            }
            join(&ys)
        })?;
        Ok(vec![TensorData {
            dtype: x.dtype,
            shape: outputs[0].shape.clone(),
            bytes,
        }])
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let p = expand_params(&cx.inputs())?;
        if p.out_shape[..p.rank].contains(&0) {
            return Ok(TokenStream::new());
        }
        let (k, x, y) = (cx.kernels(), cx.x(0), cx.y(0));
        let r = lit(p.rank);
        let (o, a) = (
            dims_tokens(&p.out_shape[..p.rank]),
            dims_tokens(&p.a_shape[..p.rank]),
        );
        Ok(
            quote!(#k::binary::expand(#x, #y, &#k::binary::BroadcastParams { rank: #r, out_shape: #o, a_shape: #a, b_shape: #o });),
        )
    }

    fn reads_input(&self, i: usize) -> bool {
        i == 0
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A parsed `Tile` node.
#[derive(Debug, Clone)]
pub struct Tile;

/// Parses `Tile`.
pub fn parse_tile(_: &Attrs, _: i64) -> Result<Arc<dyn Op>, OpError> {
    Ok(Arc::new(Tile))
}

fn tile_repeats(inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<usize>, OpError> {
    let x = req(inputs, 0)?;
    check_rank("Tile", x.shape.len())?;
    let r = const_ints(inputs, 1, "Tile repeats")?;
    if r.len() != x.shape.len() || r.iter().any(|&v| v < 0) {
        return Err(shape_err(format!(
            "repeats {r:?} must hold {} non-negative values",
            x.shape.len()
        )));
    }
    Ok(r.iter().map(|&v| v as usize).collect())
}

impl Op for Tile {
    fn name(&self) -> String {
        "Tile".into()
    }

    fn infer(&self, inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        let x = req(inputs, 0)?;
        let r = tile_repeats(inputs)?;
        Ok(vec![OutputInfo::new(
            x.dtype,
            x.shape.iter().zip(&r).map(|(a, b)| a * b).collect(),
        )])
    }

    fn eval(
        &self,
        inputs: &[Option<&TensorData>],
        outputs: &[OutputInfo],
    ) -> Result<Vec<TensorData>, OpError> {
        let x = const_in(inputs, 0)?;
        let r = tile_repeats(&infos(inputs))?;
        let p = kt::TileParams {
            rank: x.shape.len(),
            in_shape: dims(&x.shape),
            repeats: dims(&r),
        };
        let n: usize = outputs[0].shape.iter().product();
        let bytes = per_size!(x.dtype.size(), N => {
            let xs = elems::<N>(&x.bytes);
            let mut ys = vec![[0u8; N]; n];
            if n > 0 {
                kt::tile(&xs, &mut ys, &p);
            }
            join(&ys)
        })?;
        Ok(vec![TensorData {
            dtype: x.dtype,
            shape: outputs[0].shape.clone(),
            bytes,
        }])
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let ins = cx.inputs();
        let x = req(&ins, 0)?;
        let r = tile_repeats(&ins)?;
        if cx.output(0).shape.contains(&0) {
            return Ok(TokenStream::new());
        }
        let (k, xt, y) = (cx.kernels(), cx.x(0), cx.y(0));
        let rank = lit(x.shape.len());
        let (s, rp) = (dims_tokens(x.shape), dims_tokens(&r));
        Ok(
            quote!(#k::transpose::tile(#xt, #y, &#k::transpose::TileParams { rank: #rank, in_shape: #s, repeats: #rp });),
        )
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
    use crate::ops::movebytes::const_info as info;

    #[test]
    fn expand_and_tile() {
        let x = TensorData::from_u8(vec![3, 1], &[1, 2, 3]);
        let s = TensorData::from_i64(vec![3], &[2, 1, 2]);
        let outs = Expand.infer(&[info(&x), info(&s)]).unwrap();
        assert_eq!(outs[0].shape, vec![2, 3, 2]);
        let y = Expand.eval(&[Some(&x), Some(&s)], &outs).unwrap();
        assert_eq!(y[0].as_u8(), vec![1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3]);
        let x = TensorData::from_f32(vec![2], &[1., 2.]);
        let r = TensorData::from_i64(vec![1], &[3]);
        let outs = Tile.infer(&[info(&x), info(&r)]).unwrap();
        assert_eq!(
            Tile.eval(&[Some(&x), Some(&r)], &outs).unwrap()[0].as_f32(),
            vec![1., 2., 1., 2., 1., 2.]
        );
        let bad = TensorData::from_i64(vec![2], &[1, 1]);
        assert!(Tile.infer(&[info(&x), info(&bad)]).is_err());
    }
}
