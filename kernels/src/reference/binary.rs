//! Binary elementwise kernels with numpy broadcasting (rank <= 6):
//! arithmetic, comparisons and logical ops.

use super::scalar::Scalar;
use super::shape::{broadcast_strides, contiguous_strides, for_each_row, numel, Dims, MAX_RANK};

/// An arithmetic binary operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    /// `a + b`.
    Add,
    /// `a - b`.
    Sub,
    /// `a * b`.
    Mul,
    /// `a / b` (integers truncate toward zero).
    Div,
    /// `a ^ b`.
    Pow,
    /// `max(a, b)`.
    Max,
    /// `min(a, b)`.
    Min,
    /// Remainder with the sign of the divisor (ONNX `Mod`, `fmod = 0`).
    Mod,
    /// Remainder with the sign of the dividend (ONNX `Mod`, `fmod = 1`).
    FMod,
    /// `a < 0 ? b * a : a` (ONNX `PRelu`, `b` the slope).
    PRelu,
}

/// A comparison producing booleans.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareOp {
    /// `a == b`.
    Equal,
    /// `a < b`.
    Less,
    /// `a <= b`.
    LessOrEqual,
    /// `a > b`.
    Greater,
    /// `a >= b`.
    GreaterOrEqual,
}

/// A logical operator on booleans.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogicalOp {
    /// `a && b`.
    And,
    /// `a || b`.
    Or,
    /// `a != b`.
    Xor,
}

/// Shapes of a broadcasting binary (or ternary) operation. All shapes have
/// `rank` dims: inputs of lower rank are left-padded with 1s, per numpy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BroadcastParams {
    /// Rank of the output (0..=6).
    pub rank: usize,
    /// Output shape.
    pub out_shape: Dims,
    /// Shape of the first input, left-padded with 1s to `rank`.
    pub a_shape: Dims,
    /// Shape of the second input, left-padded with 1s to `rank`.
    pub b_shape: Dims,
}

impl BroadcastParams {
    /// Broadcasts two shapes (numpy rules). Returns `None` when they are not
    /// broadcastable or the rank exceeds [`MAX_RANK`]. For host code and tests.
    pub fn new(a: &[usize], b: &[usize]) -> Option<Self> {
        let rank = a.len().max(b.len());
        if rank > MAX_RANK {
            return None;
        }
        let a_shape = super::shape::pad_shape(a, rank);
        let b_shape = super::shape::pad_shape(b, rank);
        let mut out_shape = [1usize; MAX_RANK];
        for d in 0..rank {
            out_shape[d] = match (a_shape[d], b_shape[d]) {
                (x, y) if x == y => x,
                (1, y) => y,
                (x, 1) => x,
                _ => return None,
            };
        }
        Some(BroadcastParams {
            rank,
            out_shape,
            a_shape,
            b_shape,
        })
    }

    /// Number of output elements.
    pub fn out_len(&self) -> usize {
        numel(&self.out_shape, self.rank)
    }
}

/// Core broadcasting loop: `y[i] = f(a[ia], b[ib])`.
#[inline(always)]
fn broadcast_map<A: Copy, B: Copy, Y, F: Fn(A, B) -> Y>(
    a: &[A],
    b: &[B],
    y: &mut [Y],
    p: &BroadcastParams,
    f: F,
) {
    let n = y.len();
    debug_assert_eq!(n, p.out_len());
    if a.len() == n && b.len() == n {
        // Same shapes: plain zip.
        for ((o, &x), &z) in y.iter_mut().zip(a).zip(b) {
            *o = f(x, z);
        }
        return;
    }
    if b.len() == 1 && a.len() == n {
        let z = b[0];
        for (o, &x) in y.iter_mut().zip(a) {
            *o = f(x, z);
        }
        return;
    }
    if a.len() == 1 && b.len() == n {
        let x = a[0];
        for (o, &z) in y.iter_mut().zip(b) {
            *o = f(x, z);
        }
        return;
    }
    let sy = contiguous_strides(&p.out_shape, p.rank);
    let sa = broadcast_strides(&p.a_shape, &p.out_shape, p.rank);
    let sb = broadcast_strides(&p.b_shape, &p.out_shape, p.rank);
    for_each_row(
        &p.out_shape,
        p.rank,
        [0, 0, 0],
        &[sy, sa, sb],
        |o, len, inner| {
            let yo = o[0] as usize;
            let (ao, bo) = (o[1] as usize, o[2] as usize);
            let yr = &mut y[yo..yo + len];
            match (inner[1], inner[2]) {
                (1, 1) => {
                    for ((o, &x), &z) in yr.iter_mut().zip(&a[ao..ao + len]).zip(&b[bo..bo + len]) {
                        *o = f(x, z);
                    }
                }
                (1, 0) => {
                    let z = b[bo];
                    for (o, &x) in yr.iter_mut().zip(&a[ao..ao + len]) {
                        *o = f(x, z);
                    }
                }
                (0, 1) => {
                    let x = a[ao];
                    for (o, &z) in yr.iter_mut().zip(&b[bo..bo + len]) {
                        *o = f(x, z);
                    }
                }
                (ia, ib) => {
                    for (j, o) in yr.iter_mut().enumerate() {
                        let x = a[(ao as isize + j as isize * ia) as usize];
                        let z = b[(bo as isize + j as isize * ib) as usize];
                        *o = f(x, z);
                    }
                }
            }
        },
    );
}

/// Broadcasting loop updating `a_and_y` (which has the output shape) in place.
#[inline(always)]
fn broadcast_update<T: Copy, B: Copy, F: Fn(T, B) -> T>(
    a_and_y: &mut [T],
    b: &[B],
    p: &BroadcastParams,
    f: F,
) {
    let n = a_and_y.len();
    debug_assert_eq!(n, p.out_len());
    if b.len() == n {
        for (o, &z) in a_and_y.iter_mut().zip(b) {
            *o = f(*o, z);
        }
        return;
    }
    if b.len() == 1 {
        let z = b[0];
        for o in a_and_y.iter_mut() {
            *o = f(*o, z);
        }
        return;
    }
    let sy = contiguous_strides(&p.out_shape, p.rank);
    let sb = broadcast_strides(&p.b_shape, &p.out_shape, p.rank);
    for_each_row(&p.out_shape, p.rank, [0, 0], &[sy, sb], |o, len, inner| {
        let yo = o[0] as usize;
        let bo = o[1] as usize;
        let yr = &mut a_and_y[yo..yo + len];
        if inner[1] == 0 {
            let z = b[bo];
            for o in yr.iter_mut() {
                *o = f(*o, z);
            }
        } else {
            for (j, o) in yr.iter_mut().enumerate() {
                *o = f(*o, b[(bo as isize + j as isize * inner[1]) as usize]);
            }
        }
    });
}

#[inline(always)]
fn prelu<T: Scalar>(x: T, s: T) -> T {
    if x < T::ZERO {
        s.mul(x)
    } else {
        x
    }
}

/// `y = a op b` with broadcasting. `y` has the output shape of `p`.
pub fn binary<T: Scalar>(op: BinaryOp, a: &[T], b: &[T], y: &mut [T], p: &BroadcastParams) {
    match op {
        BinaryOp::Add => broadcast_map(a, b, y, p, T::add),
        BinaryOp::Sub => broadcast_map(a, b, y, p, T::sub),
        BinaryOp::Mul => broadcast_map(a, b, y, p, T::mul),
        BinaryOp::Div => broadcast_map(a, b, y, p, T::div),
        BinaryOp::Pow => broadcast_map(a, b, y, p, T::pow),
        BinaryOp::Max => broadcast_map(a, b, y, p, T::max_of),
        BinaryOp::Min => broadcast_map(a, b, y, p, T::min_of),
        BinaryOp::Mod => broadcast_map(a, b, y, p, T::rem_floor),
        BinaryOp::FMod => broadcast_map(a, b, y, p, T::rem_trunc),
        BinaryOp::PRelu => broadcast_map(a, b, y, p, prelu),
    }
}

/// `a = a op b` in place, for when input A already has the output shape and
/// its buffer is reused for the output.
pub fn binary_inplace<T: Scalar>(op: BinaryOp, a_and_y: &mut [T], b: &[T], p: &BroadcastParams) {
    match op {
        BinaryOp::Add => broadcast_update(a_and_y, b, p, T::add),
        BinaryOp::Sub => broadcast_update(a_and_y, b, p, T::sub),
        BinaryOp::Mul => broadcast_update(a_and_y, b, p, T::mul),
        BinaryOp::Div => broadcast_update(a_and_y, b, p, T::div),
        BinaryOp::Pow => broadcast_update(a_and_y, b, p, T::pow),
        BinaryOp::Max => broadcast_update(a_and_y, b, p, T::max_of),
        BinaryOp::Min => broadcast_update(a_and_y, b, p, T::min_of),
        BinaryOp::Mod => broadcast_update(a_and_y, b, p, T::rem_floor),
        BinaryOp::FMod => broadcast_update(a_and_y, b, p, T::rem_trunc),
        BinaryOp::PRelu => broadcast_update(a_and_y, b, p, prelu),
    }
}

/// `b = a op b` in place, for when input B has the output shape and its
/// buffer is reused for the output (`p` still describes `a op b`).
pub fn binary_inplace_rhs<T: Scalar>(
    op: BinaryOp,
    a: &[T],
    b_and_y: &mut [T],
    p: &BroadcastParams,
) {
    let q = BroadcastParams {
        rank: p.rank,
        out_shape: p.out_shape,
        a_shape: p.b_shape,
        b_shape: p.a_shape,
    };
    match op {
        BinaryOp::Add => broadcast_update(b_and_y, a, &q, |y, x| T::add(x, y)),
        BinaryOp::Sub => broadcast_update(b_and_y, a, &q, |y, x| T::sub(x, y)),
        BinaryOp::Mul => broadcast_update(b_and_y, a, &q, |y, x| T::mul(x, y)),
        BinaryOp::Div => broadcast_update(b_and_y, a, &q, |y, x| T::div(x, y)),
        BinaryOp::Pow => broadcast_update(b_and_y, a, &q, |y, x| T::pow(x, y)),
        BinaryOp::Max => broadcast_update(b_and_y, a, &q, |y, x| T::max_of(x, y)),
        BinaryOp::Min => broadcast_update(b_and_y, a, &q, |y, x| T::min_of(x, y)),
        BinaryOp::Mod => broadcast_update(b_and_y, a, &q, |y, x| T::rem_floor(x, y)),
        BinaryOp::FMod => broadcast_update(b_and_y, a, &q, |y, x| T::rem_trunc(x, y)),
        BinaryOp::PRelu => broadcast_update(b_and_y, a, &q, |y, x| prelu(x, y)),
    }
}

/// `y = a cmp b` with broadcasting, for any ordered element type.
pub fn compare<T: Copy + PartialOrd>(
    op: CompareOp,
    a: &[T],
    b: &[T],
    y: &mut [bool],
    p: &BroadcastParams,
) {
    match op {
        CompareOp::Equal => broadcast_map(a, b, y, p, |x, z| x == z),
        CompareOp::Less => broadcast_map(a, b, y, p, |x, z| x < z),
        CompareOp::LessOrEqual => broadcast_map(a, b, y, p, |x, z| x <= z),
        CompareOp::Greater => broadcast_map(a, b, y, p, |x, z| x > z),
        CompareOp::GreaterOrEqual => broadcast_map(a, b, y, p, |x, z| x >= z),
    }
}

/// `y = a op b` on booleans with broadcasting.
pub fn logical(op: LogicalOp, a: &[bool], b: &[bool], y: &mut [bool], p: &BroadcastParams) {
    match op {
        LogicalOp::And => broadcast_map(a, b, y, p, |x, z| x & z),
        LogicalOp::Or => broadcast_map(a, b, y, p, |x, z| x | z),
        LogicalOp::Xor => broadcast_map(a, b, y, p, |x, z| x ^ z),
    }
}

/// Bitwise shift direction for [`bit_shift`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShiftDirection {
    /// `a << b`.
    Left,
    /// `a >> b`.
    Right,
}

/// Integer types usable with [`bit_shift`].
pub trait Unsigned: Copy {
    /// `self << s` or `self >> s` (arithmetic for signed types); shifts by
    /// the full width or more give 0 (or -1 for a right shift of a negative
    /// value); a negative amount counts as the full width.
    fn shift(self, s: Self, dir: ShiftDirection) -> Self;
}

macro_rules! impl_shift {
    ($($t:ty),*) => {$(
        impl Unsigned for $t {
            #[inline]
            #[allow(unused_comparisons)]
            fn shift(self, s: Self, dir: ShiftDirection) -> Self {
                // Negative amounts count as "the full width or more".
                let s = if s < 0 { u32::MAX } else { u32::try_from(s).unwrap_or(u32::MAX) };
                match dir {
                    ShiftDirection::Left => self.checked_shl(s).unwrap_or(0),
                    ShiftDirection::Right => match self.checked_shr(s) {
                        Some(v) => v,
                        None => if self < 0 { (0 as $t).wrapping_sub(1) } else { 0 },
                    },
                }
            }
        }
    )*};
}
impl_shift!(u8, u16, u32, u64, i8, i16, i32, i64);

/// ONNX `BitShift` with broadcasting.
pub fn bit_shift<T: Unsigned>(
    dir: ShiftDirection,
    a: &[T],
    b: &[T],
    y: &mut [T],
    p: &BroadcastParams,
) {
    broadcast_map(a, b, y, p, |x, s| x.shift(s, dir));
}

/// `Expand`: copies `x` (shape `p.a_shape`) broadcast to `p.out_shape` into
/// `y`. `p.b_shape` is ignored.
pub fn expand<T: Copy>(x: &[T], y: &mut [T], p: &BroadcastParams) {
    let sy = contiguous_strides(&p.out_shape, p.rank);
    let sa = broadcast_strides(&p.a_shape, &p.out_shape, p.rank);
    for_each_row(&p.out_shape, p.rank, [0, 0], &[sy, sa], |o, len, inner| {
        let (yo, ao) = (o[0] as usize, o[1] as usize);
        let yr = &mut y[yo..yo + len];
        match inner[1] {
            1 => yr.copy_from_slice(&x[ao..ao + len]),
            0 => yr.fill(x[ao]),
            s => {
                for (j, v) in yr.iter_mut().enumerate() {
                    *v = x[(ao as isize + j as isize * s) as usize];
                }
            }
        }
    });
}

/// A variadic elementwise operator (ONNX `Sum`, `Mean`, `Max`, `Min`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VariadicOp {
    /// Sum of all inputs.
    Sum,
    /// Mean of all inputs.
    Mean,
    /// Elementwise maximum.
    Max,
    /// Elementwise minimum.
    Min,
}

/// `y = op(inputs...)` with numpy broadcasting. `shapes[i]` is input `i`'s
/// shape left-padded with 1s to `rank`; `out_shape` is the broadcast shape.
pub fn variadic<T: Scalar>(
    op: VariadicOp,
    inputs: &[&[T]],
    shapes: &[Dims],
    rank: usize,
    out_shape: &Dims,
    y: &mut [T],
) {
    let (Some(first), Some(first_shape)) = (inputs.first(), shapes.first()) else {
        return;
    };
    let p0 = BroadcastParams {
        rank,
        out_shape: *out_shape,
        a_shape: *first_shape,
        b_shape: *out_shape,
    };
    expand(first, y, &p0);
    let bop = match op {
        VariadicOp::Sum | VariadicOp::Mean => BinaryOp::Add,
        VariadicOp::Max => BinaryOp::Max,
        VariadicOp::Min => BinaryOp::Min,
    };
    for (x, shape) in inputs.iter().zip(shapes).skip(1) {
        let p = BroadcastParams {
            rank,
            out_shape: *out_shape,
            a_shape: *out_shape,
            b_shape: *shape,
        };
        binary_inplace(bop, y, x, &p);
    }
    if op == VariadicOp::Mean {
        let n = T::from_f32(inputs.len() as f32);
        for v in y.iter_mut() {
            *v = v.div(n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variadic_ops() {
        use super::super::shape::dims;
        // Sum of [2,2], [2] and a scalar; Mean and Max of the same.
        let a = [1.0f32, 2.0, 3.0, 4.0];
        let b = [10.0f32, 20.0];
        let c = [100.0f32];
        let shapes = [dims(&[2, 2]), dims(&[1, 2]), dims(&[1, 1])];
        let mut y = [0.0f32; 4];
        variadic(
            VariadicOp::Sum,
            &[&a, &b, &c],
            &shapes,
            2,
            &dims(&[2, 2]),
            &mut y,
        );
        assert_eq!(y, [111.0, 122.0, 113.0, 124.0]);
        variadic(
            VariadicOp::Mean,
            &[&a, &b, &c],
            &shapes,
            2,
            &dims(&[2, 2]),
            &mut y,
        );
        assert_eq!(y, [37.0, 122.0 / 3.0, 113.0 / 3.0, 124.0 / 3.0]);
        variadic(
            VariadicOp::Max,
            &[&b, &a],
            &[dims(&[1, 2]), dims(&[2, 2])],
            2,
            &dims(&[2, 2]),
            &mut y,
        );
        assert_eq!(y, [10.0, 20.0, 10.0, 20.0]);
    }

    #[test]
    fn broadcast_shapes() {
        let p = BroadcastParams::new(&[2, 1, 3], &[4, 1]).unwrap();
        assert_eq!(p.rank, 3);
        assert_eq!(&p.out_shape[..3], &[2, 4, 3]);
        assert!(BroadcastParams::new(&[2, 3], &[4]).is_none());
    }

    #[test]
    fn add_broadcast_and_fast_paths() {
        // a: [2,3], b: [3]
        let a = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
        let b = [10.0f32, 20.0, 30.0];
        let p = BroadcastParams::new(&[2, 3], &[3]).unwrap();
        let mut y = [0.0f32; 6];
        binary(BinaryOp::Add, &a, &b, &mut y, &p);
        assert_eq!(y, [11.0, 22.0, 33.0, 14.0, 25.0, 36.0]);
        // column broadcast b: [2,1]
        let p = BroadcastParams::new(&[2, 3], &[2, 1]).unwrap();
        binary(BinaryOp::Sub, &a, &[1.0, 2.0], &mut y, &p);
        assert_eq!(y, [0.0, 1.0, 2.0, 2.0, 3.0, 4.0]);
        // outer product [2,1] x [1,3]
        let p = BroadcastParams::new(&[2, 1], &[1, 3]).unwrap();
        binary(BinaryOp::Mul, &[1.0, 2.0], &[1.0, 2.0, 3.0], &mut y, &p);
        assert_eq!(y, [1.0, 2.0, 3.0, 2.0, 4.0, 6.0]);
        // scalar
        let p = BroadcastParams::new(&[2, 3], &[]).unwrap();
        binary(BinaryOp::Div, &a, &[2.0], &mut y, &p);
        assert_eq!(y, [0.5, 1.0, 1.5, 2.0, 2.5, 3.0]);
        let p = BroadcastParams::new(&[], &[2, 3]).unwrap();
        binary(BinaryOp::Pow, &[2.0], &a, &mut y, &p);
        assert_eq!(y, [2.0, 4.0, 8.0, 16.0, 32.0, 64.0]);
        // same shape
        let p = BroadcastParams::new(&[2, 3], &[2, 3]).unwrap();
        binary(
            BinaryOp::Max,
            &a,
            &[3.0, 3.0, 3.0, 3.0, 3.0, 3.0],
            &mut y,
            &p,
        );
        assert_eq!(y, [3.0, 3.0, 3.0, 4.0, 5.0, 6.0]);
    }

    #[test]
    fn nchw_channel_broadcast() {
        // x [1,2,2,2] + bias [2,1,1]
        let x: [f32; 8] = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0];
        let p = BroadcastParams::new(&[1, 2, 2, 2], &[2, 1, 1]).unwrap();
        let mut y = [0.0f32; 8];
        binary(BinaryOp::Add, &x, &[100.0, 200.0], &mut y, &p);
        assert_eq!(y, [100.0, 101.0, 102.0, 103.0, 204.0, 205.0, 206.0, 207.0]);
        let mut z = x;
        binary_inplace(BinaryOp::Add, &mut z, &[100.0, 200.0], &p);
        assert_eq!(z, y);
        // b op a in place into b: [2,1,1] - x would need b to be the big one.
        let p = BroadcastParams::new(&[2, 1, 1], &[1, 2, 2, 2]).unwrap();
        let mut w = x;
        binary_inplace_rhs(BinaryOp::Sub, &[100.0, 200.0], &mut w, &p);
        assert_eq!(w, [100.0, 99.0, 98.0, 97.0, 196.0, 195.0, 194.0, 193.0]);
    }

    #[test]
    fn integer_and_prelu() {
        let p = BroadcastParams::new(&[4], &[4]).unwrap();
        let mut y = [0i32; 4];
        binary(BinaryOp::Div, &[7, -7, 7, -7], &[2, 2, -2, -2], &mut y, &p);
        assert_eq!(y, [3, -3, -3, 3]);
        binary(BinaryOp::Mod, &[7, -7, 7, -7], &[3, 3, -3, -3], &mut y, &p);
        assert_eq!(y, [1, 2, -2, -1]);
        binary(BinaryOp::FMod, &[7, -7, 7, -7], &[3, 3, -3, -3], &mut y, &p);
        assert_eq!(y, [1, -1, 1, -1]);
        let p = BroadcastParams::new(&[2, 2], &[2]).unwrap();
        let mut f = [0.0f32; 4];
        binary(
            BinaryOp::PRelu,
            &[-1.0, 1.0, -2.0, 2.0],
            &[0.1, 0.2],
            &mut f,
            &p,
        );
        assert_eq!(f, [-0.1, 1.0, -0.2, 2.0]);
    }

    #[test]
    fn comparisons_logical_shift_expand() {
        let p = BroadcastParams::new(&[3], &[]).unwrap();
        let mut y = [false; 3];
        compare(CompareOp::Less, &[1, 2, 3], &[2], &mut y, &p);
        assert_eq!(y, [true, false, false]);
        compare(
            CompareOp::GreaterOrEqual,
            &[1.0, 2.0, 3.0],
            &[2.0],
            &mut y,
            &p,
        );
        assert_eq!(y, [false, true, true]);
        let p = BroadcastParams::new(&[2], &[2]).unwrap();
        let mut z = [false; 2];
        logical(LogicalOp::Xor, &[true, true], &[false, true], &mut z, &p);
        assert_eq!(z, [true, false]);
        let mut s = [0u8; 2];
        bit_shift(ShiftDirection::Left, &[1u8, 255], &[3, 1], &mut s, &p);
        assert_eq!(s, [8, 254]);
        bit_shift(ShiftDirection::Right, &[16u8, 255], &[2, 8], &mut s, &p);
        assert_eq!(s, [4, 0]);
        let p = BroadcastParams::new(&[3, 1], &[1, 2]).unwrap();
        let mut e = [0i64; 6];
        expand(&[1i64, 2, 3], &mut e, &p);
        assert_eq!(e, [1, 1, 2, 2, 3, 3]);
    }
}
