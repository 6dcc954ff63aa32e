//! Concat and Split along one axis, for any element type.
//!
//! The tensors are viewed as `[outer, chunk]` where `outer` is the product of
//! the dims before the axis and `chunk` = (axis length) x (product of the
//! dims after it), which differs per input.

/// `Concat`: `y[o] = inputs[0][o] ++ inputs[1][o] ++ ...` for each of the
/// `outer` blocks. Each input's chunk is `input.len() / outer` long.
pub fn concat<T: Copy>(inputs: &[&[T]], outer: usize, y: &mut [T]) {
    if outer == 0 {
        return;
    }
    let mut off = 0;
    for o in 0..outer {
        for x in inputs {
            let c = x.len() / outer;
            y[off..off + c].copy_from_slice(&x[o * c..o * c + c]);
            off += c;
        }
    }
    debug_assert_eq!(off, y.len());
}

/// `Split`: the inverse of [`concat()`]; each output's chunk is
/// `output.len() / outer` long.
pub fn split<T: Copy>(x: &[T], outer: usize, outputs: &mut [&mut [T]]) {
    if outer == 0 {
        return;
    }
    let mut off = 0;
    for o in 0..outer {
        for y in outputs.iter_mut() {
            let c = y.len() / outer;
            y[o * c..o * c + c].copy_from_slice(&x[off..off + c]);
            off += c;
        }
    }
    debug_assert_eq!(off, x.len());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concat_axis1_and_split_back() {
        // a [2,2], b [2,1] along axis 1 -> [2,3]
        let a = [1, 2, 3, 4];
        let b = [9, 8];
        let mut y = [0; 6];
        concat(&[&a, &b], 2, &mut y);
        assert_eq!(y, [1, 2, 9, 3, 4, 8]);
        let (mut a2, mut b2) = ([0; 4], [0; 2]);
        split(&y, 2, &mut [&mut a2, &mut b2]);
        assert_eq!((a2, b2), (a, b));
        // axis 0: outer 1
        let mut z = [0; 6];
        concat(&[&a, &[], &b], 1, &mut z);
        assert_eq!(z, [1, 2, 3, 4, 9, 8]);
    }
}
