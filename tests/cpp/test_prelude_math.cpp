// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The prelude's CUDA vector types, math functions and intrinsics, checked against CUDA's answers.
//
// The headers are included as the CPU prelude includes them (after the C headers, before user
// code) and called unqualified, as a kernel calls them. Reference values come from mpmath at 50
// digits; "CUDA" in a comment means the answer the CUDA Math API or the PTX ISA documents.
#include <gtest/gtest.h>

#include <cfenv>
#include <cfloat>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <thread>
#include <type_traits>

#include "manycore/prelude/cuda/math_constants.h"
#include "manycore/prelude/cuda_math.h"
#include "manycore/prelude/vector_types.h"

namespace {

// Distance in units in the last place, by the ordered bit patterns (0 when both are NaN).
int64_t ulps(double a, double b) {
    if (std::isnan(a) && std::isnan(b)) return 0;
    auto key = [](double v) {
        const int64_t i = __builtin_bit_cast(int64_t, v);
        return i < 0 ? INT64_MIN - i : i;
    };
    const int64_t d = key(a) - key(b);
    return d < 0 ? -d : d;
}
int64_t ulps(float a, float b) {
    if (std::isnan(a) && std::isnan(b)) return 0;
    auto key = [](float v) {
        const int32_t i = __builtin_bit_cast(int32_t, v);
        return int64_t(i < 0 ? INT32_MIN - i : i);
    };
    const int64_t d = key(a) - key(b);
    return d < 0 ? -d : d;
}

bool same_bits(float a, float b) {
    return __builtin_bit_cast(uint32_t, a) == __builtin_bit_cast(uint32_t, b);
}
bool same_bits(double a, double b) {
    return __builtin_bit_cast(uint64_t, a) == __builtin_bit_cast(uint64_t, b);
}

// Values the optimiser cannot see through, so the operations under test run at run time.
template <class T>
T opaque(T v) {
    volatile T s = v;
    return s;
}

constexpr float kInfF = std::numeric_limits<float>::infinity();
constexpr double kInf = std::numeric_limits<double>::infinity();
const float kNanF = std::numeric_limits<float>::quiet_NaN();
const double kNan = std::numeric_limits<double>::quiet_NaN();

// ---------------------------------------------------------------------------------------------
// vector_types.h

template <class V, size_t size, size_t align>
constexpr bool layout_is() {
    return sizeof(V) == size && alignof(V) == align && std::is_trivially_copyable_v<V> &&
           std::is_standard_layout_v<V>;
}

TEST(VectorTypes, SizesAndAlignmentsAreCudas) {
    static_assert(layout_is<char1, 1, 1>() && layout_is<char2, 2, 2>() &&
                  layout_is<char3, 3, 1>() && layout_is<char4, 4, 4>());
    static_assert(layout_is<uchar2, 2, 2>() && layout_is<uchar3, 3, 1>() &&
                  layout_is<uchar4, 4, 4>());
    static_assert(layout_is<short2, 4, 4>() && layout_is<short3, 6, 2>() &&
                  layout_is<short4, 8, 8>());
    static_assert(layout_is<ushort4, 8, 8>());
    static_assert(layout_is<int1, 4, 4>() && layout_is<int2, 8, 8>() && layout_is<int3, 12, 4>() &&
                  layout_is<int4, 16, 16>());
    static_assert(layout_is<uint2, 8, 8>() && layout_is<uint3, 12, 4>() &&
                  layout_is<uint4, 16, 16>());
    static_assert(layout_is<long2, 2 * sizeof(long), 2 * sizeof(long)>() &&
                  layout_is<long4, 4 * sizeof(long), 16>());
    static_assert(layout_is<ulong3, 3 * sizeof(long), alignof(long)>());
    static_assert(layout_is<longlong1, 8, 8>() && layout_is<longlong2, 16, 16>() &&
                  layout_is<longlong3, 24, 8>() && layout_is<longlong4, 32, 16>());
    static_assert(layout_is<ulonglong2, 16, 16>() && layout_is<ulonglong4, 32, 16>());
    static_assert(layout_is<float1, 4, 4>() && layout_is<float2, 8, 8>() &&
                  layout_is<float3, 12, 4>() && layout_is<float4, 16, 16>());
    static_assert(layout_is<double1, 8, 8>() && layout_is<double2, 16, 16>() &&
                  layout_is<double3, 24, 8>() && layout_is<double4, 32, 16>());
    static_assert(std::is_aggregate_v<float4> && std::is_trivial_v<float4> &&
                  std::is_trivial_v<int3>);
    static_assert(std::is_same_v<decltype(char2::x), signed char>);
    EXPECT_EQ(offsetof(float4, w), 12u);
    EXPECT_EQ(offsetof(double2, y), 8u);
}

TEST(VectorTypes, MakeFunctionsFillEveryMember) {
    const float4 f = make_float4(1.0f, 2.0f, 3.0f, 4.0f);
    EXPECT_EQ(f.x + 10 * f.y + 100 * f.z + 1000 * f.w, 4321.0f);
    const int3 i = make_int3(-1, 2, -3);
    EXPECT_EQ(i.x, -1);
    EXPECT_EQ(i.z, -3);
    const uchar4 c = make_uchar4(1, 2, 3, 255);
    EXPECT_EQ(c.w, 255);
    const double2 d = make_double2(0.5, -0.25);
    EXPECT_EQ(d.y, -0.25);
    constexpr ulonglong2 u = make_ulonglong2(1, ~0ull);
    static_assert(u.y == ~0ull);
    EXPECT_EQ(make_char1(-5).x, -5);
    EXPECT_EQ(make_longlong3(1, 2, 3).z, 3);
}

TEST(VectorTypes, ArraysOfVectorsAliasTheScalarArray) {
    alignas(16) float raw[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    float4 v[2];
    std::memcpy(v, raw, sizeof v);
    EXPECT_EQ(v[1].y, 5.0f);
    EXPECT_EQ(reinterpret_cast<const float4*>(raw)[1].w, 7.0f);
}

TEST(VectorTypes, Dim3DefaultsMissingExtentsToOne) {
    constexpr dim3 a;
    static_assert(a.x == 1 && a.y == 1 && a.z == 1);
    constexpr dim3 b(7);
    static_assert(b.x == 7 && b.y == 1 && b.z == 1);
    const dim3 c(2, 3);
    EXPECT_EQ(c.z, 1u);
    const uint3 u = dim3(4, 5, 6);
    EXPECT_EQ(u.y, 5u);
    const dim3 d = make_uint3(8, 9, 10);
    EXPECT_EQ(d.z, 10u);
    static_assert(sizeof(dim3) == 12 && std::is_trivially_copyable_v<dim3>);
    static_assert(std::is_same_v<decltype(dim3::x), unsigned int>);
}

// ---------------------------------------------------------------------------------------------
// cuda_math.h

TEST(CudaMath, CLibraryFunctionsKeepWorkingWithFloatOverloadsAtGlobalScope) {
    // CUDA's headers give sqrt(float) etc. at global scope; so does the C++ <math.h> we include.
    static_assert(std::is_same_v<decltype(sqrt(1.0f)), float>);
    static_assert(std::is_same_v<decltype(abs(-2.5f)), float>);
    static_assert(std::is_same_v<decltype(abs(-3ll)), long long>);
    EXPECT_EQ(abs(-2.5f), 2.5f);  // not abs(int)
    EXPECT_EQ(abs(-5000000000ll), 5000000000ll);
    EXPECT_EQ(sinf(0.0f), 0.0f);
    EXPECT_EQ(fmaf(2.0f, 3.0f, 1.0f), 7.0f);
    EXPECT_TRUE(isnan(kNanF) && isinf(kInf) && isfinite(1.0f) && signbit(-0.0));
    EXPECT_EQ(exp10f(2.0f), 100.0f);
    EXPECT_LE(ulps(exp10(-1.0), 0.1), 1);
    float s, c;
    sincosf(0.0f, &s, &c);
    EXPECT_EQ(c, 1.0f);
    EXPECT_LE(ulps(j0f(2.0f), float(0x1.ca873fb24cef8p-3)), 4);
    EXPECT_LE(ulps(y1(3.0), 0x1.4c7773d150462p-2), 4);
    static_assert(std::is_same_v<decltype(j0(2.0f)), float>);
    static_assert(std::is_same_v<decltype(j0(2)), double>);
}

TEST(CudaMath, ReciprocalRoots) {
    EXPECT_EQ(rsqrtf(4.0f), 0.5f);
    EXPECT_LE(ulps(rsqrtf(2.0f), float(M_SQRT1_2)), 2);  // CUDA: 2 ulp
    EXPECT_LE(ulps(rsqrt(2.0), 0x1.6a09e667f3bcdp-1), 1);
    EXPECT_EQ(rsqrt(0.25), 2.0);
    EXPECT_EQ(rsqrtf(0.0f), kInfF);
    EXPECT_EQ(rsqrtf(-0.0f), -kInfF);
    EXPECT_EQ(rsqrt(kInf), 0.0);
    EXPECT_TRUE(std::isnan(rsqrt(-1.0)));
    EXPECT_EQ(rcbrtf(27.0f), 1.0f / 3.0f);
    EXPECT_LE(ulps(rcbrt(27.0), 0x1.5555555555555p-2), 1);
    EXPECT_LE(ulps(rcbrt(-2.0), -0x1.965fea53d6e3dp-1), 1);
    EXPECT_EQ(rcbrt(-0.0), -kInf);
    static_assert(std::is_same_v<decltype(rsqrt(2.0f)), float>);
    static_assert(std::is_same_v<decltype(rsqrt(2)), double>);
    EXPECT_EQ(rsqrt(4), 0.5);
}

TEST(CudaMath, SinPiCosPiAreExactAtTheSpecialPoints) {
    EXPECT_TRUE(same_bits(sinpi(1.0), 0.0));
    EXPECT_TRUE(same_bits(sinpi(-1.0), -0.0));
    EXPECT_TRUE(same_bits(sinpi(-0.0), -0.0));
    EXPECT_TRUE(same_bits(sinpif(2.0f), 0.0f));
    EXPECT_TRUE(same_bits(cospi(0.5), 0.0));
    EXPECT_TRUE(same_bits(cospi(-1.5), 0.0));
    EXPECT_EQ(sinpi(0.5), 1.0);
    EXPECT_EQ(sinpi(-2.5), -1.0);
    EXPECT_EQ(cospi(1.0), -1.0);
    EXPECT_EQ(cospi(0x1p52 + 1.0), -1.0);  // large odd integer
    EXPECT_EQ(cospi(0x1p60), 1.0);
    EXPECT_EQ(sinpi(1e300), 0.0);
    EXPECT_TRUE(std::isnan(sinpi(kInf)) && std::isnan(cospif(-kInfF)) && std::isnan(sinpi(kNan)));
    EXPECT_LE(ulps(sinpi(0.25), 0x1.6a09e667f3bcdp-1), 1);
    EXPECT_LE(ulps(sinpi(1e6 + 0.1), 0x1.3c6ef371cca0cp-2), 1);  // no pi * x rounding error
    EXPECT_LE(ulps(sinpif(1e6f + 0.125f), float(std::sin(M_PI / 8))), 1);
    float s, c;
    sincospif(0.75f, &s, &c);
    EXPECT_EQ(s, -c);
    double sd, cd;
    sincospi(1.0 / 6.0, &sd, &cd);
    EXPECT_LE(ulps(sd, 0.5), 1);
}

TEST(CudaMath, ErrorFunctionInverses) {
    EXPECT_LE(ulps(erfinv(0.5), 0x1.e861fbb24c00ap-2), 2);  // CUDA: 2 ulp
    EXPECT_LE(ulps(erfinv(-0.999), -0x1.29d311405cdb4p+1), 2);
    EXPECT_LE(ulps(erfinv(1e-10), 0x1.85c4480205e36p-34), 2);
    EXPECT_LE(ulps(erfcinv(1e-300), 0x1.a359fd2c5e942p+4), 4);  // CUDA: 4 ulp
    EXPECT_LE(ulps(erfcinv(std::numeric_limits<double>::denorm_min()), 0x1.b369a6244e684p+4), 4);
    EXPECT_LE(ulps(erfcinv(1.5), -0x1.e861fbb24c00ap-2), 4);
    EXPECT_LE(ulps(erfcinv(0.1), 0x1.29c0146770650p+0), 4);
    EXPECT_LE(ulps(erfinvf(0.5f), float(0x1.e861fbb24c00ap-2)), 2);
    EXPECT_LE(ulps(erfcinvf(1e-40f), float(erfcinv(double(1e-40f)))), 1);
    EXPECT_EQ(erfinv(1.0), kInf);
    EXPECT_EQ(erfinvf(-1.0f), -kInfF);
    EXPECT_EQ(erfcinv(0.0), kInf);
    EXPECT_EQ(erfcinv(2.0), -kInf);
    EXPECT_TRUE(same_bits(erfinv(-0.0), -0.0));
    EXPECT_TRUE(std::isnan(erfinv(1.5)) && std::isnan(erfcinvf(-0.5f)) && std::isnan(erfinv(kNan)));
    for (double y = -0.99; y < 1.0; y += 0.0625) EXPECT_NEAR(erf(erfinv(y)), y, 4e-16);
}

TEST(CudaMath, NormalDistribution) {
    EXPECT_EQ(normcdf(0.0), 0.5);
    EXPECT_EQ(normcdff(0.0f), 0.5f);
    EXPECT_LE(ulps(normcdf(-20.0), 0x1.c0bd0f1880783p-295), 5);  // CUDA: 5 ulp
    EXPECT_LE(ulps(normcdf(1.5), 0x1.ddcb724ed3702p-1), 5);
    EXPECT_EQ(normcdf(-kInf), 0.0);
    EXPECT_EQ(normcdf(kInf), 1.0);
    EXPECT_LE(ulps(normcdfinv(0.025), -0x1.f5c0331eeff85p+0), 5);
    EXPECT_LE(ulps(normcdfinv(1e-100), -0x1.546010d755221p+4), 5);
    EXPECT_TRUE(same_bits(normcdfinv(0.5), 0.0));  // +0, as CUDA's
    EXPECT_TRUE(same_bits(normcdfinvf(0.5f), 0.0f));
    EXPECT_EQ(normcdfinv(0.0), -kInf);
    EXPECT_EQ(normcdfinvf(1.0f), kInfF);
    EXPECT_LE(ulps(normcdfinvf(0.975f), float(-normcdfinv(double(1.0f - 0.975f)))), 2);
    EXPECT_LE(ulps(erfcx(10.0), 0x1.cbe831f997124p-5), 4);  // CUDA: 4 ulp
    EXPECT_LE(ulps(erfcx(-3.0), 0x1.fa6fe92c4925fp+13), 4);
    EXPECT_LE(ulps(erfcx(100.0), 0x1.71ba92b1d1777p-8), 4);
    EXPECT_EQ(erfcx(0.0), 1.0);
    EXPECT_EQ(erfcx(-30.0), kInf);
    EXPECT_EQ(erfcx(kInf), 0.0);
    EXPECT_LE(ulps(erfcxf(10.0f), float(0x1.cbe831f997124p-5)), 4);
}

TEST(CudaMath, BesselI) {
    EXPECT_EQ(cyl_bessel_i0(0.0), 1.0);
    EXPECT_LE(ulps(cyl_bessel_i0(1.0), 0x1.441ce4b386c2dp+0), 6);  // CUDA: 6 ulp
    EXPECT_LE(ulps(cyl_bessel_i1(-2.5), -0x1.4223c20769d70p+1), 6);
    EXPECT_LE(ulps(cyl_bessel_i0(100.0), 0x1.8a6f2011ec0d2p+139), 6);
    EXPECT_LE(ulps(cyl_bessel_i0(700.0), 0x1.c8cdeeadb5df0p+1003), 6);
    EXPECT_EQ(cyl_bessel_i0(714.0), kInf);
    EXPECT_LE(ulps(cyl_bessel_i0f(1.0f), float(0x1.441ce4b386c2dp+0)), 6);
}

TEST(CudaMath, NormsNeitherOverflowNorUnderflow) {
    EXPECT_EQ(norm3df(3.0f, 4.0f, 12.0f), 13.0f);
    EXPECT_EQ(rnorm3df(3.0f, 4.0f, 12.0f), 1.0f / 13.0f);
    EXPECT_EQ(norm4df(2.0f, 4.0f, 5.0f, 6.0f), 9.0f);
    EXPECT_EQ(rnorm4df(0.0f, 0.0f, 0.0f, 0.0f), kInfF);
    EXPECT_EQ(norm3df(3e38f, 3e38f, 0.0f), float(3e38 * M_SQRT2));
    EXPECT_EQ(norm3d(3.0, 4.0, 12.0), 13.0);
    EXPECT_EQ(norm4d(2.0, 4.0, 5.0, 6.0), 9.0);
    EXPECT_LE(ulps(norm3d(1e300, 1e300, 1e300), 0x1.4b0d0eea55018p+997), 1);
    EXPECT_EQ(norm3d(3e-320, 4e-320, 0.0), 0x0.0000000002788p-1022);
    EXPECT_EQ(rnorm3d(0.0, 0.0, 0.0), kInf);
    EXPECT_EQ(rnorm4d(kInf, 0.0, 0.0, 0.0), 0.0);
    // CUDA's rule, as hypot's: an infinite component gives infinity even beside a NaN.
    EXPECT_EQ(norm3df(kNanF, kInfF, 1.0f), kInfF);
    EXPECT_EQ(norm3d(kNan, -kInf, 1.0), kInf);
    EXPECT_TRUE(std::isnan(norm3d(kNan, 1.0, 1.0)));
    EXPECT_EQ(rhypotf(3.0f, 4.0f), 0.2f);
    EXPECT_EQ(rhypot(3e300, 4e300), 1.0 / 5e300);
    const float vf[5] = {1, 2, 2, 4, 0};
    EXPECT_EQ(normf(5, vf), 5.0f);
    EXPECT_EQ(rnormf(5, vf), 0.2f);
    const double vd[6] = {1e200, 1e200, 1e200, 1e200, 0, 0};
    EXPECT_EQ(norm(6, vd), 2e200);
    EXPECT_EQ(rnorm(6, vd), 0.5e-200);
}

TEST(CudaMath, SmallHelpers) {
    EXPECT_EQ(fdividef(1.0f, 4.0f), 0.25f);
    EXPECT_EQ(__saturatef(1.5f), 1.0f);
    EXPECT_EQ(__saturatef(-0.5f), 0.0f);
    EXPECT_EQ(__saturatef(0.25f), 0.25f);
}

TEST(CudaMath, MinMaxFollowCudasOverloads) {
    static_assert(std::is_same_v<decltype(min(3, 4u)), unsigned int>);
    EXPECT_EQ(min(3, 4u), 3u);
    EXPECT_EQ(min(-1, 1u), 1u);  // -1 converts to 0xffffffff, as in CUDA
    EXPECT_EQ(max(-1, 1u), 0xffffffffu);
    EXPECT_EQ(min(-7, 3), -7);
    size_t a = 5, b = 9;
    static_assert(std::is_same_v<decltype(min(a, b)), unsigned long>);
    EXPECT_EQ(min(a, b), 5u);
    EXPECT_EQ(max(a, b), 9u);
    EXPECT_EQ(min(-5l, 3l), -5l);
    EXPECT_EQ(max(-5ll, 3ull), ~0ull - 4);
    EXPECT_EQ(min(1ll << 40, 1ll << 41), 1ll << 40);
    static_assert(std::is_same_v<decltype(max(1.0f, 2.0)), double>);
    EXPECT_EQ(max(1.0f, 2.0), 2.0);
    static_assert(std::is_same_v<decltype(min(1.0f, 2.0f)), float>);
    EXPECT_EQ(min(1.0f, 2.0f), 1.0f);
    EXPECT_EQ(min(kNanF, 2.0f), 2.0f);  // fminf: a NaN operand yields the other
    EXPECT_EQ(max(2.0, kNan), 2.0);
    EXPECT_TRUE(std::isnan(min(kNan, kNan)));
    // -0 < +0, as the GPU's min and max have it (whatever the operand order).
    EXPECT_TRUE(same_bits(min(0.0f, -0.0f), -0.0f));
    EXPECT_TRUE(same_bits(min(-0.0f, 0.0f), -0.0f));
    EXPECT_TRUE(same_bits(max(-0.0f, 0.0f), 0.0f));
    EXPECT_TRUE(same_bits(max(0.0, -0.0), 0.0));
    EXPECT_TRUE(same_bits(min(0.0, -0.0), -0.0));
    EXPECT_EQ(min(2.5f, 2.5f), 2.5f);
    EXPECT_EQ(max(-kInf, -1e308), -1e308);
    EXPECT_EQ(umin(3u, 2u), 2u);
    EXPECT_EQ(umax(3u, 2u), 3u);
    EXPECT_EQ(llmin(-1ll, 1ll), -1ll);
    EXPECT_EQ(llmax(-1ll, 1ll), 1ll);
    EXPECT_EQ(ullmin(1ull << 63, 1ull), 1ull);
    EXPECT_EQ(ullmax(1ull << 63, 1ull), 1ull << 63);
}

// ---------------------------------------------------------------------------------------------
// cuda_intrinsics.h

TEST(CudaIntrinsics, FastMathIsAtLeastAsAccurateAsCuda) {
    EXPECT_LE(ulps(__expf(1.0f), float(M_E)), 2);
    EXPECT_EQ(__exp10f(2.0f), 100.0f);
    EXPECT_EQ(__logf(1.0f), 0.0f);
    EXPECT_EQ(__log2f(8.0f), 3.0f);
    EXPECT_EQ(__log10f(1000.0f), 3.0f);
    EXPECT_EQ(__powf(2.0f, 10.0f), 1024.0f);
    EXPECT_LE(ulps(__sinf(1.0f), std::sin(1.0f)), 1);
    EXPECT_LE(ulps(__cosf(1.0f), std::cos(1.0f)), 1);
    EXPECT_LE(ulps(__tanf(1.0f), std::tan(1.0f)), 1);
    float s, c;
    __sincosf(0.5f, &s, &c);
    EXPECT_LE(ulps(s, std::sin(0.5f)), 1);
    EXPECT_LE(ulps(c, std::cos(0.5f)), 1);
    EXPECT_EQ(__fdividef(3.0f, 4.0f), 0.75f);
    EXPECT_EQ(__saturatef(2.0f), 1.0f);
    EXPECT_EQ(__saturatef(kNanF), 0.0f);
}

TEST(CudaIntrinsics, DirectedRoundingRoundsThatWay) {
    const float third = opaque(1.0f / 3.0f);
    // float(1/3) is a little above 1/3: three of it is 1 + 2^-25, between 1 and the next float.
    const float up = __fmul_ru(third, 3.0f), down = __fmul_rd(third, 3.0f);
    EXPECT_EQ(ulps(up, down), 1);
    EXPECT_EQ(up, std::nextafter(1.0f, 2.0f));
    EXPECT_EQ(down, 1.0f);
    EXPECT_EQ(__fmul_rz(third, 3.0f), down);
    EXPECT_EQ(__fmul_rn(third, 3.0f), 1.0f);
    const float tiny = opaque(1e-10f);
    EXPECT_EQ(__fadd_ru(1.0f, tiny), std::nextafter(1.0f, 2.0f));
    EXPECT_EQ(__fadd_rd(1.0f, tiny), 1.0f);
    EXPECT_EQ(__fadd_rz(-1.0f, -tiny), -1.0f);
    EXPECT_EQ(__fadd_rd(-1.0f, -tiny), std::nextafter(-1.0f, -2.0f));
    EXPECT_TRUE(same_bits(__fadd_rd(1.0f, -1.0f),
                          -0.0f));  // IEEE: exact zero sums are -0 when rounding down
    EXPECT_TRUE(same_bits(__fsub_rn(opaque(1.0f), 1.0f), 0.0f));
    EXPECT_EQ(__fsub_ru(1.0f, tiny), 1.0f);
    EXPECT_EQ(__fsub_rz(1.0f, tiny), std::nextafter(1.0f, 0.0f));
    EXPECT_EQ(__fdiv_ru(1.0f, 3.0f), std::nextafter(__fdiv_rd(1.0f, 3.0f), 1.0f));
    EXPECT_EQ(__frcp_rz(opaque(3.0f)), __fdiv_rd(1.0f, 3.0f));
    EXPECT_EQ(__fsqrt_ru(2.0f), std::nextafter(__fsqrt_rd(2.0f), 2.0f));
    EXPECT_EQ(__fsqrt_rz(opaque(4.0f)), 2.0f);
    EXPECT_EQ(__fmaf_ru(third, 3.0f, -1.0f), __fmaf_rd(third, 3.0f, -1.0f));  // exact: no rounding
    EXPECT_EQ(__fmaf_ru(1.0f, 1.0f, tiny), std::nextafter(1.0f, 2.0f));
    EXPECT_EQ(__fmaf_rz(1.0f, 1.0f, -tiny), std::nextafter(1.0f, 0.0f));
    EXPECT_EQ(__fadd_rz(FLT_MAX, FLT_MAX), FLT_MAX);  // overflow rounds to the largest finite
    EXPECT_EQ(__fadd_ru(FLT_MAX, FLT_MAX), kInfF);
    const double thirdd = opaque(1.0 / 3.0);
    EXPECT_EQ(ulps(__dmul_ru(thirdd, 3.0), __dmul_rd(thirdd, 3.0)), 1);
    EXPECT_EQ(__dadd_ru(1.0, 1e-30), std::nextafter(1.0, 2.0));
    EXPECT_EQ(__dadd_rz(1.0, -1e-30), std::nextafter(1.0, 0.0));
    EXPECT_EQ(__dsub_rd(1.0, 1e-30), std::nextafter(1.0, 0.0));
    EXPECT_EQ(__ddiv_ru(1.0, 3.0), std::nextafter(__ddiv_rz(1.0, 3.0), 1.0));
    EXPECT_EQ(__drcp_rd(3.0), __ddiv_rz(1.0, 3.0));
    EXPECT_EQ(__dsqrt_ru(2.0), std::nextafter(__dsqrt_rd(2.0), 2.0));
    EXPECT_EQ(__fma_ru(1.0, 1.0, 1e-300), std::nextafter(1.0, 2.0));
    EXPECT_EQ(__fma_rd(1.0, 1.0, 1e-300), 1.0);
    // The caller's rounding mode is left as it was.
    EXPECT_EQ(std::fegetround(), FE_TONEAREST);
}

TEST(CudaIntrinsics, RoundToNearestOpsAreCorrectlyRoundedAndNeverContracted) {
    EXPECT_EQ(__fadd_rn(0.1f, 0.2f), 0.1f + 0.2f);
    EXPECT_EQ(__dmul_rn(0.1, 3.0), 0.1 * 3.0);
    EXPECT_EQ(__fdiv_rn(1.0f, 3.0f), 1.0f / 3.0f);
    EXPECT_EQ(__frcp_rn(4.0f), 0.25f);
    EXPECT_EQ(__fsqrt_rn(2.0f), std::sqrt(2.0f));
    EXPECT_EQ(__frsqrt_rn(4.0f), 0.5f);
    EXPECT_EQ(__frsqrt_rn(2.0f), float(M_SQRT1_2));  // correctly rounded, unlike 1/sqrtf
    EXPECT_EQ(__ddiv_rn(1.0, 3.0), 1.0 / 3.0);
    EXPECT_EQ(__drcp_rn(8.0), 0.125);
    EXPECT_EQ(__dsqrt_rn(2.0), std::sqrt(2.0));
    EXPECT_EQ(__fmaf_rn(2.0f, 3.0f, 1.0f), 7.0f);
    EXPECT_EQ(__fma_rn(2.0, 3.0, 1.0), 7.0);
    // a*a = 1 + 2^-11 + 2^-24 exactly; rounded it is 1 + 2^-11, so a fused a*a - (1 + 2^-11)
    // would give 2^-24 where the separate operations give 0. Built with -march=native this
    // catches the compiler contracting across the intrinsic.
    const float a = opaque(1.0f + 0x1p-12f), c = opaque(-(1.0f + 0x1p-11f));
    EXPECT_EQ(__fmul_rn(a, a) + c, 0.0f);
    EXPECT_EQ(__fadd_rn(a * a, c), 0.0f);
    const double ad = opaque(1.0 + 0x1p-27), cd = opaque(-(1.0 + 0x1p-26));
    EXPECT_EQ(__dmul_rn(ad, ad) + cd, 0.0);
    EXPECT_EQ(__dsub_rn(ad * ad, -cd), 0.0);
}

TEST(CudaIntrinsics, FloatToIntegerSaturatesAsPtx) {
    EXPECT_EQ(__float2int_rn(2.5f), 2);
    EXPECT_EQ(__float2int_rn(3.5f), 4);
    EXPECT_EQ(__float2int_rn(-2.5f), -2);
    EXPECT_EQ(__float2int_rz(-2.7f), -2);
    EXPECT_EQ(__float2int_ru(-2.7f), -2);
    EXPECT_EQ(__float2int_rd(-2.7f), -3);
    EXPECT_EQ(__float2int_ru(2.1f), 3);
    EXPECT_EQ(__float2int_rn(1e20f), INT_MAX);
    EXPECT_EQ(__float2int_rn(-1e20f), INT_MIN);
    EXPECT_EQ(__float2int_rz(2147483648.0f), INT_MAX);
    EXPECT_EQ(__float2int_rz(-2147483648.0f), INT_MIN);
    EXPECT_EQ(__float2int_rn(kInfF), INT_MAX);
    EXPECT_EQ(__float2int_rn(kNanF), 0);  // PTX: f32 NaN to a 32-bit integer is 0
    EXPECT_EQ(__float2uint_rn(-1.0f), 0u);
    EXPECT_EQ(__float2uint_rd(-0.5f), 0u);
    EXPECT_EQ(__float2uint_rz(5e9f), UINT_MAX);
    EXPECT_EQ(__float2uint_rn(kNanF), 0u);
    EXPECT_EQ(__float2ll_rn(-1e30f), LLONG_MIN);
    EXPECT_EQ(__float2ll_ru(1e30f), LLONG_MAX);
    EXPECT_EQ(__float2ll_rz(-3.9f), -3ll);
    EXPECT_EQ(__float2ll_rn(kNanF), LLONG_MIN);  // PTX: to 64 bits, NaN is 1 << 63
    EXPECT_EQ(__float2ull_rn(kNanF), 1ull << 63);
    EXPECT_EQ(__float2ull_rd(1e20f), ULLONG_MAX);
    EXPECT_EQ(__float2ull_rn(16777216.0f), 16777216ull);
    EXPECT_EQ(__double2int_rn(-2.5), -2);
    EXPECT_EQ(__double2int_rd(2.9999999), 2);
    EXPECT_EQ(__double2int_ru(2.0000001), 3);
    EXPECT_EQ(__double2int_rz(1e10), INT_MAX);
    EXPECT_EQ(__double2int_rn(kNan), INT_MIN);  // PTX: from f64, NaN is 1 << (bits - 1)
    EXPECT_EQ(__double2uint_rz(kNan), 0x80000000u);
    EXPECT_EQ(__double2uint_ru(4294967295.5), UINT_MAX);
    EXPECT_EQ(__double2ll_rn(0x1p62 + 0.5), (1ll << 62));
    EXPECT_EQ(__double2ll_rz(-1e19), LLONG_MIN);
    EXPECT_EQ(__double2ull_rn(1.8e19), 18000000000000000000ull);
    EXPECT_EQ(__double2ull_rn(2e19), ULLONG_MAX);
    EXPECT_EQ(__double2ull_rd(-1.0), 0ull);
}

TEST(CudaIntrinsics, ConversionsToFloatingPointRoundAsAsked) {
    EXPECT_EQ(__int2float_rn(16777217), 16777216.0f);  // tie to even
    EXPECT_EQ(__int2float_rz(16777219), 16777218.0f);
    EXPECT_EQ(__int2float_ru(16777217), 16777218.0f);
    EXPECT_EQ(__int2float_rd(-16777217), -16777218.0f);
    EXPECT_EQ(__uint2float_rn(4294967295u), 4294967296.0f);
    EXPECT_EQ(__uint2float_rz(4294967295u), 4294967040.0f);
    EXPECT_EQ(__ll2float_rd((1ll << 40) + 1), float(1ll << 40));
    EXPECT_EQ(__ll2float_ru((1ll << 40) + 1), std::nextafter(float(1ll << 40), kInfF));
    EXPECT_EQ(__ull2float_rz(~0ull), std::nextafter(0x1p64f, 0.0f));
    EXPECT_EQ(__ull2float_rn(~0ull), 0x1p64f);
    EXPECT_EQ(__ll2double_rn((1ll << 53) + 1), 0x1p53);
    EXPECT_EQ(__ll2double_ru((1ll << 53) + 1), 0x1p53 + 2);
    EXPECT_EQ(__ull2double_rd(~0ull), std::nextafter(0x1p64, 0.0));
    EXPECT_EQ(__int2double_rn(-7), -7.0);
    EXPECT_EQ(__uint2double_rn(4294967295u), 4294967295.0);
    EXPECT_EQ(__double2float_rn(1.0 / 3.0), 1.0f / 3.0f);
    EXPECT_EQ(__double2float_ru(1.0 / 3.0), std::nextafter(__double2float_rd(1.0 / 3.0), 1.0f));
    EXPECT_EQ(__double2float_rz(-1.0 / 3.0), -__double2float_rd(1.0 / 3.0));
    EXPECT_EQ(__double2float_rz(1e300), FLT_MAX);
    EXPECT_EQ(__double2float_ru(1e300), kInfF);
}

TEST(CudaIntrinsics, Reinterpretations) {
    EXPECT_EQ(__float_as_int(1.0f), 0x3f800000);
    EXPECT_EQ(__float_as_int(-0.0f), INT_MIN);
    EXPECT_EQ(__int_as_float(0x40490fdb), 3.14159274f);
    EXPECT_EQ(__float_as_uint(-2.0f), 0xc0000000u);
    EXPECT_EQ(__uint_as_float(0x7f800000u), kInfF);
    EXPECT_EQ(__double_as_longlong(1.0), 0x3ff0000000000000ll);
    EXPECT_EQ(__longlong_as_double(0x4000000000000000ll), 2.0);
    EXPECT_EQ(__double2hiint(1.0), 0x3ff00000);
    EXPECT_EQ(__double2loint(__longlong_as_double(0x00000001ffffffffll)), -1);
    EXPECT_EQ(__double2hiint(-2.0), int(0xc0000000u));
    EXPECT_EQ(__hiloint2double(0x3ff00000, 1), std::nextafter(1.0, 2.0));
    EXPECT_EQ(__hiloint2double(int(0xbff00000u), 0), -1.0);
    static_assert(__float_as_uint(1.0f) == 0x3f800000u);  // constexpr
}

TEST(CudaIntrinsics, BitCountsAndReversal) {
    EXPECT_EQ(__popc(0u), 0);
    EXPECT_EQ(__popc(0xffffffffu), 32);
    EXPECT_EQ(__popc(0xf0f0u), 8);
    EXPECT_EQ(__popcll(~0ull), 64);
    EXPECT_EQ(__clz(0), 32);
    EXPECT_EQ(__clz(1), 31);
    EXPECT_EQ(__clz(-1), 0);
    EXPECT_EQ(__clzll(0), 64);
    EXPECT_EQ(__clzll(1ll << 40), 23);
    EXPECT_EQ(__ffs(0), 0);
    EXPECT_EQ(__ffs(1), 1);
    EXPECT_EQ(__ffs(0x80), 8);
    EXPECT_EQ(__ffs(INT_MIN), 32);
    EXPECT_EQ(__ffsll(0), 0);
    EXPECT_EQ(__ffsll(1ll << 40), 41);
    EXPECT_EQ(__brev(1u), 0x80000000u);
    EXPECT_EQ(__brev(0x12345678u), 0x1e6a2c48u);
    EXPECT_EQ(__brevll(1ull), 1ull << 63);
    EXPECT_EQ(__brevll(0x0123456789abcdefull), 0xf7b3d591e6a2c480ull);
}

TEST(CudaIntrinsics, BytePermuteAndFunnelShifts) {
    EXPECT_EQ(__byte_perm(0x33221100u, 0x77665544u, 0x5410), 0x55441100u);
    EXPECT_EQ(__byte_perm(0x33221100u, 0x77665544u, 0x0123), 0x00112233u);  // byte swap
    EXPECT_EQ(__byte_perm(0x03020100u, 0x07060504u, 0x7531), 0x07050301u);
    EXPECT_EQ(__byte_perm(0x33221100u, 0x77665544u, 0xffff8888),
              0x00000000u);  // bit 3 and high half ignored
    EXPECT_EQ(__funnelshift_l(0x89abcdefu, 0x01234567u, 8), 0x23456789u);
    EXPECT_EQ(__funnelshift_l(0x89abcdefu, 0x01234567u, 40), 0x23456789u);   // shift mod 32
    EXPECT_EQ(__funnelshift_lc(0x89abcdefu, 0x01234567u, 40), 0x89abcdefu);  // clamped to 32
    EXPECT_EQ(__funnelshift_l(0x89abcdefu, 0x01234567u, 0), 0x01234567u);
    EXPECT_EQ(__funnelshift_r(0x89abcdefu, 0x01234567u, 8), 0x6789abcdu);
    EXPECT_EQ(__funnelshift_r(0x89abcdefu, 0x01234567u, 33), 0xc4d5e6f7u);
    EXPECT_EQ(__funnelshift_rc(0x89abcdefu, 0x01234567u, 33), 0x01234567u);
    EXPECT_EQ(__funnelshift_l(0x80000000u, 0x00000001u, 1), 0x00000003u);  // rotate-through
}

TEST(CudaIntrinsics, MultiplyAndAverage) {
    EXPECT_EQ(__mul24(0x01000003, 5), 15);  // bits above 24 ignored
    EXPECT_EQ(__mul24(0x00ffffff, 2), -2);  // 0xffffff is -1 as a 24-bit number
    EXPECT_EQ(__mul24(-3, 7), -21);
    EXPECT_EQ(__umul24(0xff000002u, 0x00000003u), 6u);
    EXPECT_EQ(__umul24(0xffffffu, 0xffffffu), 0xfe000001u);
    EXPECT_EQ(__mulhi(0x40000000, 8), 2);
    EXPECT_EQ(__mulhi(-1, 1), -1);
    EXPECT_EQ(__umulhi(0xffffffffu, 0xffffffffu), 0xfffffffeu);
    EXPECT_EQ(__mul64hi(1ll << 62, 8), 2);
    EXPECT_EQ(__mul64hi(-1, 1), -1);
    EXPECT_EQ(__umul64hi(~0ull, ~0ull), ~0ull - 1);
    EXPECT_EQ(__hadd(-3, 0), -2);  // floor(-1.5)
    EXPECT_EQ(__hadd(3, 0), 1);
    EXPECT_EQ(__hadd(INT_MAX, INT_MAX), INT_MAX);  // no overflow
    EXPECT_EQ(__rhadd(-3, 0), -1);
    EXPECT_EQ(__rhadd(3, 0), 2);
    EXPECT_EQ(__uhadd(0xffffffffu, 0xffffffffu), 0xffffffffu);
    EXPECT_EQ(__urhadd(0xffffffffu, 0u), 0x80000000u);
    EXPECT_EQ(__sad(-5, 5, 1u), 11u);
    EXPECT_EQ(__sad(INT_MIN, INT_MAX, 0u), 0xffffffffu);
    EXPECT_EQ(__usad(3u, 10u, 2u), 9u);
    EXPECT_EQ(__dp4a(0x01020304, 0x01010101, 10), 20);
    EXPECT_EQ(__dp4a(int(0xff00ff00u), 0x02020202, 0), -4);  // signed bytes
    EXPECT_EQ(__dp4a(0xff00ff00u, 0x02020202u, 0u), 1020u);  // unsigned bytes
}

TEST(CudaIntrinsics, CacheHintedLoadsAndStores) {
    alignas(16) float4 src[2] = {make_float4(1, 2, 3, 4), make_float4(5, 6, 7, 8)};
    EXPECT_EQ(__ldg(&src[1]).z, 7.0f);
    EXPECT_EQ(__ldcg(&src[0]).w, 4.0f);
    EXPECT_EQ(__ldca(&src[0].x), 1.0f);
    EXPECT_EQ(__ldcs(&src[1].x), 5.0f);
    EXPECT_EQ(__ldlu(&src[1].y), 6.0f);
    EXPECT_EQ(__ldcv(&src[0].y), 2.0f);
    float out[4] = {};
    __stcg(&out[0], 1);  // the int converts, as with CUDA's non-template overloads
    __stcs(&out[1], 2.0);
    __stwb(&out[2], 3.0f);
    __stwt(&out[3], 4.0f);
    EXPECT_EQ(out[0] + out[1] + out[2] + out[3], 10.0f);
    int4 iv;
    __stcg(&iv, make_int4(1, 2, 3, 4));
    EXPECT_EQ(iv.w, 4);
}

TEST(CudaIntrinsics, ClocksFencesAndSleep) {
    const long long t0 = clock64();
    const clock_t c0 = clock();  // the cycle counter, not the C library's CPU time
    __threadfence();
    __threadfence_block();
    __threadfence_system();
    __prof_trigger(0);
    const auto w0 = std::chrono::steady_clock::now();
    __nanosleep(200000);
    const auto slept = std::chrono::steady_clock::now() - w0;
    const long long t1 = clock64();
    EXPECT_GT(t1, t0);
    EXPECT_GE(static_cast<long long>(clock()), static_cast<long long>(c0));
    // Across a 0.2 ms sleep a cycle-like counter moves by far more than the C library's
    // microseconds of CPU time would.
    EXPECT_GT(t1 - t0, 10000);
    EXPECT_GE(slept, std::chrono::microseconds(200));
    EXPECT_LT(slept, std::chrono::milliseconds(500));
    static_assert(std::is_same_v<decltype(clock()), clock_t>);
    // The name itself is the device's counter (so a kernel may be named clock too).
    clock_t (*device_clock)() = &clock;
    EXPECT_GE(static_cast<long long>(device_clock()), t1);
}

// ---------------------------------------------------------------------------------------------
// math_constants.h

TEST(MathConstants, ValuesAndBitPatternsAreCudas) {
    EXPECT_EQ(CUDART_PI_F, float(M_PI));
    EXPECT_EQ(CUDART_PI, M_PI);
    EXPECT_EQ(CUDART_PIO2_F, float(M_PI_2));
    EXPECT_EQ(CUDART_SQRT_2PI, double(2.50662827463100050241576528481104525L));
    EXPECT_EQ(CUDART_L2E, M_LOG2E);
    EXPECT_EQ(CUDART_LN2_F, float(M_LN2));
    EXPECT_EQ(CUDART_SQRT_HALF_F, float(M_SQRT1_2));
    EXPECT_EQ(CUDART_SQRT_HALF_LO_F, float(0.70710678118654752440L - CUDART_SQRT_HALF_HI_F));
    // Each _LO makes its _HI exact to double-double precision.
    EXPECT_EQ(CUDART_PI_HI + (long double)CUDART_PI_LO, 3.14159265358979323846264338327950288L);
    EXPECT_EQ(CUDART_LN2_HI + (long double)CUDART_LN2_LO, 0.693147180559945309417232121458176568L);
    EXPECT_EQ(CUDART_SQRT_2PI_HI + (long double)CUDART_SQRT_2PI_LO,
              2.50662827463100050241576528481104525L);
    EXPECT_TRUE(isinf(CUDART_INF_F) && isinf(CUDART_INF) && CUDART_INF > 0);
    EXPECT_EQ(__float_as_uint(CUDART_NAN_F), 0x7fffffffu);
    EXPECT_TRUE(isnan(CUDART_NAN));
    EXPECT_TRUE(signbit(CUDART_NEG_ZERO_F) && CUDART_NEG_ZERO == 0.0);
    EXPECT_EQ(CUDART_MIN_DENORM_F, std::numeric_limits<float>::denorm_min());
    EXPECT_EQ(CUDART_MIN_DENORM, std::numeric_limits<double>::denorm_min());
    EXPECT_EQ(CUDART_MAX_NORMAL_F, FLT_MAX);
    EXPECT_EQ(CUDART_NORM_HUGE_F, FLT_MAX);
    EXPECT_EQ(CUDART_TWO_TO_M126_F, FLT_MIN);
    EXPECT_EQ(CUDART_TWO_TO_M1022, DBL_MIN);
    EXPECT_EQ(CUDART_TWO_TO_M54, 0x1p-54);
    EXPECT_EQ(CUDART_REMQUO_MASK_F, 7u);
    constexpr float inf = CUDART_INF_F;  // usable in constant expressions
    static_assert(inf > 1e38f);
}

}  // namespace
