//! The [`Scalar`] trait: arithmetic the generic elementwise kernels need, for
//! each numeric element type, with ONNX semantics and no panics.

use super::super::math;

/// Numeric element types the arithmetic kernels are generic over.
///
/// Integer arithmetic wraps on overflow, division by zero gives 0 (ONNX leaves
/// it undefined; a kernel must not panic) and integer division truncates
/// toward zero as ONNX `Div` requires.
pub trait Scalar: Copy + PartialOrd + PartialEq + Default + core::fmt::Debug {
    /// Additive identity.
    const ZERO: Self;
    /// Multiplicative identity.
    const ONE: Self;
    /// Smallest value (`-inf` for floats).
    const LOWEST: Self;
    /// Largest value (`+inf` for floats).
    const HIGHEST: Self;
    /// `self + rhs`.
    fn add(self, rhs: Self) -> Self;
    /// `self - rhs`.
    fn sub(self, rhs: Self) -> Self;
    /// `self * rhs`.
    fn mul(self, rhs: Self) -> Self;
    /// `self / rhs` (integers: truncated, 0 when `rhs == 0`).
    fn div(self, rhs: Self) -> Self;
    /// `self ^ rhs` (integers: negative exponents give the truncated result).
    fn pow(self, rhs: Self) -> Self;
    /// Remainder with the sign of the divisor (ONNX `Mod`, `fmod = 0`).
    fn rem_floor(self, rhs: Self) -> Self;
    /// Remainder with the sign of the dividend (ONNX `Mod`, `fmod = 1`).
    fn rem_trunc(self, rhs: Self) -> Self;
    /// Larger of two values; NaN if either is NaN (numpy `maximum`).
    fn max_of(self, rhs: Self) -> Self;
    /// Smaller of two values; NaN if either is NaN (numpy `minimum`).
    fn min_of(self, rhs: Self) -> Self;
    /// `-self` (wrapping for integers; identity for unsigned).
    fn neg(self) -> Self;
    /// `|self|` (wrapping for integers).
    fn abs(self) -> Self;
    /// Sign: -1, 0 or 1 (NaN stays NaN).
    fn sign(self) -> Self;
    /// Conversion from `f32` (truncating for integers); used for parameters.
    fn from_f32(v: f32) -> Self;
    /// Conversion to `f32`.
    fn to_f32(self) -> f32;
}

macro_rules! impl_float {
    ($t:ty, $pow:expr, $fmod:expr) => {
        impl Scalar for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const LOWEST: Self = <$t>::NEG_INFINITY;
            const HIGHEST: Self = <$t>::INFINITY;
            #[inline(always)]
            fn add(self, rhs: Self) -> Self {
                self + rhs
            }
            #[inline(always)]
            fn sub(self, rhs: Self) -> Self {
                self - rhs
            }
            #[inline(always)]
            fn mul(self, rhs: Self) -> Self {
                self * rhs
            }
            #[inline(always)]
            fn div(self, rhs: Self) -> Self {
                self / rhs
            }
            #[inline]
            fn pow(self, rhs: Self) -> Self {
                let f: fn($t, $t) -> $t = $pow;
                f(self, rhs)
            }
            #[inline]
            fn rem_floor(self, rhs: Self) -> Self {
                let fmod: fn($t, $t) -> $t = $fmod;
                let r = fmod(self, rhs);
                if r != 0.0 && ((r < 0.0) != (rhs < 0.0)) {
                    r + rhs
                } else {
                    r
                }
            }
            #[inline]
            fn rem_trunc(self, rhs: Self) -> Self {
                let fmod: fn($t, $t) -> $t = $fmod;
                fmod(self, rhs)
            }
            #[inline(always)]
            fn max_of(self, rhs: Self) -> Self {
                if self.is_nan() || rhs.is_nan() {
                    <$t>::NAN
                } else if self >= rhs {
                    self
                } else {
                    rhs
                }
            }
            #[inline(always)]
            fn min_of(self, rhs: Self) -> Self {
                if self.is_nan() || rhs.is_nan() {
                    <$t>::NAN
                } else if self <= rhs {
                    self
                } else {
                    rhs
                }
            }
            #[inline(always)]
            fn neg(self) -> Self {
                -self
            }
            #[inline(always)]
            fn abs(self) -> Self {
                if self.is_sign_negative() {
                    -self
                } else {
                    self
                }
            }
            #[inline]
            fn sign(self) -> Self {
                if self > 0.0 {
                    1.0
                } else if self < 0.0 {
                    -1.0
                } else {
                    self
                }
            }
            #[inline(always)]
            fn from_f32(v: f32) -> Self {
                v as $t
            }
            #[inline(always)]
            fn to_f32(self) -> f32 {
                self as f32
            }
        }
    };
}

impl_float!(f32, math::powf, math::fmodf);
impl_float!(f64, math::pow_f64, math::fmod_f64);

macro_rules! impl_int {
    ($t:ty, $signed:expr) => {
        impl Scalar for $t {
            const ZERO: Self = 0;
            const ONE: Self = 1;
            const LOWEST: Self = <$t>::MIN;
            const HIGHEST: Self = <$t>::MAX;
            #[inline(always)]
            fn add(self, rhs: Self) -> Self {
                self.wrapping_add(rhs)
            }
            #[inline(always)]
            fn sub(self, rhs: Self) -> Self {
                self.wrapping_sub(rhs)
            }
            #[inline(always)]
            fn mul(self, rhs: Self) -> Self {
                self.wrapping_mul(rhs)
            }
            #[inline]
            fn div(self, rhs: Self) -> Self {
                if rhs == 0 {
                    0
                } else {
                    self.wrapping_div(rhs)
                }
            }
            #[inline]
            fn pow(self, rhs: Self) -> Self {
                #[allow(unused_comparisons)]
                let negative = rhs < 0;
                if negative {
                    // Truncated reciprocal: only |base| == 1 survives.
                    return if self == 1 {
                        1
                    } else if $signed && self == (0 as $t).wrapping_sub(1) {
                        if rhs % 2 == 0 {
                            1
                        } else {
                            self
                        }
                    } else {
                        0
                    };
                }
                let mut base = self;
                let mut e = rhs;
                let mut acc: $t = 1;
                while e > 0 {
                    if e & 1 == 1 {
                        acc = acc.wrapping_mul(base);
                    }
                    base = base.wrapping_mul(base);
                    e >>= 1;
                }
                acc
            }
            #[inline]
            fn rem_floor(self, rhs: Self) -> Self {
                if rhs == 0 {
                    return 0;
                }
                let r = self.wrapping_rem(rhs);
                #[allow(unused_comparisons)]
                let fix = r != 0 && ((r < 0) != (rhs < 0));
                if fix {
                    r.wrapping_add(rhs)
                } else {
                    r
                }
            }
            #[inline]
            fn rem_trunc(self, rhs: Self) -> Self {
                if rhs == 0 {
                    0
                } else {
                    self.wrapping_rem(rhs)
                }
            }
            #[inline(always)]
            fn max_of(self, rhs: Self) -> Self {
                if self >= rhs {
                    self
                } else {
                    rhs
                }
            }
            #[inline(always)]
            fn min_of(self, rhs: Self) -> Self {
                if self <= rhs {
                    self
                } else {
                    rhs
                }
            }
            #[inline(always)]
            fn neg(self) -> Self {
                if $signed {
                    (0 as $t).wrapping_sub(self)
                } else {
                    self
                }
            }
            #[inline(always)]
            fn abs(self) -> Self {
                #[allow(unused_comparisons)]
                let negative = self < 0;
                if negative {
                    (0 as $t).wrapping_sub(self)
                } else {
                    self
                }
            }
            #[inline]
            fn sign(self) -> Self {
                #[allow(unused_comparisons)]
                let negative = self < 0;
                if self == 0 {
                    0
                } else if negative {
                    (0 as $t).wrapping_sub(1)
                } else {
                    1
                }
            }
            #[inline(always)]
            fn from_f32(v: f32) -> Self {
                v as $t
            }
            #[inline(always)]
            fn to_f32(self) -> f32 {
                self as f32
            }
        }
    };
}

impl_int!(i8, true);
impl_int!(u8, false);
impl_int!(i16, true);
impl_int!(u16, false);
impl_int!(i32, true);
impl_int!(u32, false);
impl_int!(i64, true);
impl_int!(u64, false);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_semantics() {
        assert_eq!((-7i32).div(2), -3);
        assert_eq!(7i32.div(0), 0);
        assert_eq!(i32::MIN.div(-1), i32::MIN);
        assert_eq!((-7i32).rem_floor(3), 2);
        assert_eq!((-7i32).rem_trunc(3), -1);
        assert_eq!(7i32.rem_floor(-3), -2);
        assert_eq!(Scalar::pow(3i64, 4), 81);
        assert_eq!(Scalar::pow(2i32, -1), 0);
        assert_eq!(Scalar::pow(-1i32, -3), -1);
        assert_eq!(Scalar::add(200u8, 100), 44);
        assert_eq!((-5i8).abs(), 5);
        assert_eq!(5u8.neg(), 5);
    }

    #[test]
    fn float_semantics() {
        assert_eq!((-7.0f32).rem_floor(3.0), 2.0);
        assert_eq!((-7.0f32).rem_trunc(3.0), -1.0);
        assert!(1.0f32.max_of(f32::NAN).is_nan());
        assert_eq!(Scalar::pow(2.0f32, 10.0), 1024.0);
        assert_eq!((-0.0f32).sign(), 0.0);
    }
}
