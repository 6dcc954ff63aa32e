//! Helpers shared by operator implementations.

use super::{shape_err, InputInfo, OpError};
use crate::ir::{DType, TensorData};

/// Input `i`, which must be present.
pub fn req<'a>(inputs: &[Option<InputInfo<'a>>], i: usize) -> Result<InputInfo<'a>, OpError> {
    inputs
        .get(i)
        .copied()
        .flatten()
        .ok_or_else(|| shape_err(format!("input {i} is required but missing")))
}

/// Input `i` if present.
pub fn opt<'a>(inputs: &[Option<InputInfo<'a>>], i: usize) -> Option<InputInfo<'a>> {
    inputs.get(i).copied().flatten()
}

/// Fails unless the element type is one of `allowed`.
pub fn expect_dtype(what: &str, dt: DType, allowed: &[DType]) -> Result<(), OpError> {
    if allowed.contains(&dt) {
        Ok(())
    } else {
        Err(super::unsupported(format!(
            "{what} of element type {dt} (supported: {})",
            allowed
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )))
    }
}

/// Normalizes a possibly negative axis for a tensor of rank `rank`.
pub fn axis(a: i64, rank: usize) -> Result<usize, OpError> {
    let r = rank as i64;
    let v = if a < 0 { a + r } else { a };
    if v < 0 || v >= r.max(1) {
        return Err(shape_err(format!(
            "axis {a} is out of range for rank {rank}"
        )));
    }
    Ok(v as usize)
}

/// The integer values of a constant input (shape, axes, pads…), which must be constant.
pub fn const_ints(
    inputs: &[Option<InputInfo<'_>>],
    i: usize,
    what: &str,
) -> Result<Vec<i64>, OpError> {
    let inp = req(inputs, i)?;
    let data = inp.data.ok_or_else(|| {
        super::unsupported(format!(
            "{what} computed at run time (zant needs it constant to fix shapes at compile time; if it is a graph input fixed in your deployment, bind it with --const NAME=FILE)"
        ))
    })?;
    data.to_i64().ok_or_else(|| {
        shape_err(format!(
            "{what} must be an integer tensor, found {}",
            data.dtype
        ))
    })
}

/// Optional constant integer input.
pub fn const_ints_opt(
    inputs: &[Option<InputInfo<'_>>],
    i: usize,
    what: &str,
) -> Result<Option<Vec<i64>>, OpError> {
    match opt(inputs, i) {
        None => Ok(None),
        Some(_) => const_ints(inputs, i, what).map(Some),
    }
}

/// Optional constant float input (scales, alpha…).
pub fn const_floats_opt(
    inputs: &[Option<InputInfo<'_>>],
    i: usize,
    what: &str,
) -> Result<Option<Vec<f64>>, OpError> {
    match opt(inputs, i) {
        None => Ok(None),
        Some(inp) => {
            let data: &TensorData = inp.data.ok_or_else(|| {
                super::unsupported(format!("{what} computed at run time (it must be constant)"))
            })?;
            Ok(Some(data.to_f64()))
        }
    }
}

/// Numpy-style broadcast of two shapes.
pub fn broadcast(a: &[usize], b: &[usize]) -> Result<Vec<usize>, OpError> {
    let r = a.len().max(b.len());
    let mut out = vec![0; r];
    for i in 0..r {
        let da = if i + a.len() >= r {
            a[i + a.len() - r]
        } else {
            1
        };
        let db = if i + b.len() >= r {
            b[i + b.len() - r]
        } else {
            1
        };
        out[i] = if da == db || db == 1 {
            da
        } else if da == 1 {
            db
        } else {
            return Err(shape_err(format!(
                "shapes {a:?} and {b:?} cannot be broadcast together"
            )));
        };
    }
    Ok(out)
}

/// Constant input `i` for constant folding ([`Op::eval`](super::Op::eval)):
/// [`OpError::NotFoldable`] when it is absent or not known at compile time.
pub fn const_in<'a>(
    inputs: &[Option<&'a TensorData>],
    i: usize,
) -> Result<&'a TensorData, OpError> {
    inputs.get(i).copied().flatten().ok_or(OpError::NotFoldable)
}
