//! `Cast` between numeric types and bool with ONNX rules: float to integer
//! truncates toward zero (saturating, NaN to 0), anything to bool is
//! `x != 0`, bool to a number is 0 or 1.

/// Conversion of one element to `D`.
pub trait CastTo<D> {
    /// Converts `self` to `D`.
    fn cast_to(self) -> D;
}

macro_rules! cast_row {
    ($s:ty; $($d:ty),*) => {$(
        impl CastTo<$d> for $s {
            #[inline(always)]
            fn cast_to(self) -> $d {
                self as $d
            }
        }
    )*};
}

macro_rules! cast_all {
    ($($s:ty),*) => {$(
        cast_row!($s; f32, f64, i8, u8, i16, u16, i32, u32, i64, u64);
        impl CastTo<bool> for $s {
            #[inline(always)]
            fn cast_to(self) -> bool {
                self != (0 as $s)
            }
        }
        impl CastTo<$s> for bool {
            #[inline(always)]
            fn cast_to(self) -> $s {
                (self as u8) as $s
            }
        }
    )*};
}

cast_all!(f32, f64, i8, u8, i16, u16, i32, u32, i64, u64);

impl CastTo<bool> for bool {
    #[inline(always)]
    fn cast_to(self) -> bool {
        self
    }
}

/// `y[i] = x[i] as D` with ONNX semantics.
pub fn cast<S: CastTo<D> + Copy, D>(x: &[S], y: &mut [D]) {
    debug_assert_eq!(x.len(), y.len());
    for (o, &v) in y.iter_mut().zip(x) {
        *o = v.cast_to();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn onnx_cast_rules() {
        let mut i = [0i32; 5];
        cast(&[1.9f32, -1.9, f32::NAN, 3.0e10, -0.5], &mut i);
        assert_eq!(i, [1, -1, 0, i32::MAX, 0]);
        let mut b = [false; 4];
        cast(&[0.0f32, -0.0, 0.1, f32::NAN], &mut b);
        assert_eq!(b, [false, false, true, true]);
        let mut f = [0.0f32; 2];
        cast(&[true, false], &mut f);
        assert_eq!(f, [1.0, 0.0]);
        let mut u = [0u8; 2];
        cast(&[300i32, -1], &mut u);
        assert_eq!(u, [44, 255]);
        let mut l = [0i64; 1];
        cast(&[-3i8], &mut l);
        assert_eq!(l, [-3]);
    }
}
