// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// <cmath> for kernels compiled by NVRTC (registered under that name): CUDA's math functions, also in std.
#ifndef MANYCORE_NVRTC_CMATH
#define MANYCORE_NVRTC_CMATH
#include <math.h>
// NVRTC declares every function (and the float overloads of the double ones) at global scope,
// as CUDA's headers do; <cmath> makes them visible in std too.
namespace std {
using ::abs; using ::fabs; using ::sqrt; using ::cbrt; using ::exp; using ::exp2; using ::expm1;
using ::log; using ::log2; using ::log10; using ::log1p; using ::pow; using ::sin; using ::cos;
using ::tan; using ::asin; using ::acos; using ::atan; using ::atan2; using ::sinh; using ::cosh;
using ::tanh; using ::asinh; using ::acosh; using ::atanh; using ::floor; using ::ceil;
using ::trunc; using ::round; using ::rint; using ::nearbyint; using ::lround; using ::llround;
using ::lrint; using ::llrint; using ::fmod; using ::remainder; using ::remquo; using ::fmin;
using ::fmax; using ::fdim; using ::fma; using ::hypot; using ::copysign; using ::frexp;
using ::ldexp; using ::modf; using ::scalbn; using ::scalbln; using ::ilogb; using ::logb;
using ::nextafter; using ::erf; using ::erfc; using ::tgamma; using ::lgamma; using ::isnan;
using ::isinf; using ::isfinite; using ::signbit; using ::nan; using ::nanf;
using ::sqrtf; using ::expf; using ::logf; using ::powf; using ::sinf; using ::cosf; using ::fabsf;
using ::floorf; using ::ceilf; using ::fminf; using ::fmaxf; using ::fmaf;
}  // namespace std
#endif
