// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Counter-based random numbers for kernels: Philox4x32-10, the same bits on every device.
//
// Usable as #include <manycore/random.h> on the CPU and under NVRTC: no standard headers, only
// unsigned int / unsigned long long and float/double arithmetic.
//
// The stream of manycore.random: element `index` of a draw with `seed` uses
//   counter = (lo32(index), hi32(index), 0, 0), key = (lo32(seed), hi32(seed)),
// and maps the four 32-bit outputs r0..r3 as follows:
//   float64 in [0, 1): (((u64)r0 << 32 | r1) >> 11) * 2^-53
//   float32 in [0, 1): four elements from one block, counter = index / 4: element 4g + k is
//     (r[k] >> 8) * 2^-24
//   uniform(low, high) = fma(high - low, u, low) in the element type
//   normal (Box-Muller, cosine branch): u1 from (r0, r1) mapped to (0, 1] as 1 - u,
//     u2 from (r2, r3) as above; z = sqrt(-2 log u1) * cos(2 pi u2); loc + scale * z
//   normal in float32: four elements from one block, counter = index / 4: element 4g + 2p + s
//     takes the pair p of words (r[2p], r[2p+1]): u1 = r[2p] * 2^-32 + 2^-33 in (0, 1],
//     t = (r[2p+1] >> 8) * 2^-24 in [0, 1), z = sqrt(-2 log u1) * (s ? sin : cos)(2 pi t), all
//     in single precision with this file's own log, sin, cos and sqrt evaluated by fmaf, so
//     every device gives the same bits; loc + scale * z as fma in double, rounded to
//     float. (Up to 6.7 sigma, as cuRAND's single-precision normals.)
//   integers in [low, low + range): two elements from one block, counter = index / 2: element
//     2g + p is low + hi64(((u64)r[2p] << 32 | r[2p+1]) * range)
//     (Lemire's multiply-shift without rejection; bias below range / 2^64).
#ifndef MANYCORE_RANDOM_H
#define MANYCORE_RANDOM_H

#if defined(__CUDACC__) || defined(__MANYCORE__)
// Forced inline: a call the compiler keeps out of line stops it vectorising the caller's loop.
#define MC_RANDOM_FN __device__ __forceinline__
#else
#define MC_RANDOM_FN inline
#endif
// The rounds unrolled, so that a loop over elements around them is one straight body that the
// host compiler vectorises.
#if defined(__CUDACC__)
#define MC_RANDOM_UNROLL _Pragma("unroll")
#elif defined(__GNUC__) && !defined(__clang__)
#define MC_RANDOM_UNROLL _Pragma("GCC unroll 10")
#else
#define MC_RANDOM_UNROLL
#endif

struct mc_philox4 {
    unsigned int v[4];
};

MC_RANDOM_FN void mc_mulhilo32(unsigned int a, unsigned int b, unsigned int* hi, unsigned int* lo) {
    const unsigned long long p = (unsigned long long)a * (unsigned long long)b;
    *hi = (unsigned int)(p >> 32);
    *lo = (unsigned int)p;
}

/// Philox4x32 with 10 rounds (Salmon et al., SC'11) of `counter` under `key`.
MC_RANDOM_FN mc_philox4 mc_philox4x32_10(mc_philox4 ctr, unsigned int k0, unsigned int k1) {
    MC_RANDOM_UNROLL for (int round = 0; round < 10; ++round) {
        unsigned int hi0, lo0, hi1, lo1;
        mc_mulhilo32(0xD2511F53u, ctr.v[0], &hi0, &lo0);
        mc_mulhilo32(0xCD9E8D57u, ctr.v[2], &hi1, &lo1);
        mc_philox4 next;
        next.v[0] = hi1 ^ ctr.v[1] ^ k0;
        next.v[1] = lo1;
        next.v[2] = hi0 ^ ctr.v[3] ^ k1;
        next.v[3] = lo0;
        ctr = next;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    return ctr;
}

/// The four 32-bit words of element `index` of the stream `seed`.
MC_RANDOM_FN mc_philox4 mc_random_bits(unsigned long long seed, unsigned long long index) {
    mc_philox4 c;
    c.v[0] = (unsigned int)index;
    c.v[1] = (unsigned int)(index >> 32);
    c.v[2] = 0u;
    c.v[3] = 0u;
    return mc_philox4x32_10(c, (unsigned int)seed, (unsigned int)(seed >> 32));
}

MC_RANDOM_FN double mc_bits_to_double(unsigned int a, unsigned int b) {
    const unsigned long long x = ((unsigned long long)a << 32 | b) >> 11;
    return (double)x * (1.0 / 9007199254740992.0);  // 2^-53: exact, in [0, 1)
}

/// Uniform in [0, 1): 53 random bits.
MC_RANDOM_FN double mc_uniform_double(unsigned long long seed, unsigned long long index) {
    const mc_philox4 r = mc_random_bits(seed, index);
    return mc_bits_to_double(r.v[0], r.v[1]);
}

/// Uniform numbers 4g .. 4g + 3 in [0, 1), 24 random bits each, from one block.
MC_RANDOM_FN void mc_uniform_float4(unsigned long long seed, unsigned long long group, float (&u)[4]) {
    const mc_philox4 r = mc_random_bits(seed, group);
    for (int k = 0; k < 4; ++k) u[k] = (float)(r.v[k] >> 8) * (1.0f / 16777216.0f);
}

/// Uniform in [0, 1): 24 random bits; element `index` of manycore.random.uniform(dtype=float32).
MC_RANDOM_FN float mc_uniform_float(unsigned long long seed, unsigned long long index) {
    float u[4];
    mc_uniform_float4(seed, index >> 2, u);
    return u[index & 3];
}

/// Standard normal (Box-Muller); equal across devices up to their log/cos/sqrt (a few ulp).
MC_RANDOM_FN double mc_normal_double(unsigned long long seed, unsigned long long index) {
    const mc_philox4 r = mc_random_bits(seed, index);
    const double u1 = 1.0 - mc_bits_to_double(r.v[0], r.v[1]);
    const double u2 = mc_bits_to_double(r.v[2], r.v[3]);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/// log(x) for a normal float x in (0, 1]: x = m 2^e with m in [sqrt(1/2), sqrt(2)), then
/// Cephes' logf polynomial in m - 1, every step an fmaf (no contraction choices left to a
/// compiler, so every device rounds alike).
MC_RANDOM_FN float mc_random_logf(float x) {
    const unsigned int bits = __float_as_uint(x);
    int e = (int)((bits >> 23) & 0xffu) - 127;
    float m = __uint_as_float((bits & 0x007fffffu) | 0x3f800000u);
    const bool big = m > 1.41421356f;
    m = big ? m * 0.5f : m;
    e = big ? e + 1 : e;
    const float f = m - 1.0f, z = f * f, fe = (float)e;
    float p = 7.0376836292e-2f;
    p = fmaf(p, f, -1.1514610310e-1f);
    p = fmaf(p, f, 1.1676998740e-1f);
    p = fmaf(p, f, -1.2420140846e-1f);
    p = fmaf(p, f, 1.4249322787e-1f);
    p = fmaf(p, f, -1.6668057665e-1f);
    p = fmaf(p, f, 2.0000714765e-1f);
    p = fmaf(p, f, -2.4999993993e-1f);
    p = fmaf(p, f, 3.3333331174e-1f);
    float y = (p * f) * z;
    y = fmaf(fe, -2.12194440e-4f, y);
    y = fmaf(-0.5f, z, y);
    return fmaf(fe, 0.693359375f, f + y);
}

/// cos and sin of 2 pi t for t in [0, 1) with 24 significant bits: the nearest quarter turn
/// k = round(4t) leaves a = (4t - k) pi/2 in [-pi/4, pi/4] (exactly, but for the product by
/// pi/2), where Cephes' sinf and cosf polynomials hold; then a rotation by k quarter turns.
MC_RANDOM_FN void mc_random_cossin_turns(float t, float* c, float* s) {
    const float y = 4.0f * t;
    const int k = (int)(y + 0.5f);
    const float a = (y - (float)k) * 1.57079632679489662f, z = a * a;
    float ps = -1.9515295891e-4f;
    ps = fmaf(ps, z, 8.3321608736e-3f);
    ps = fmaf(ps, z, -1.6666654611e-1f);
    const float sa = fmaf(a * z, ps, a);
    float pc = 2.443315711809948e-5f;
    pc = fmaf(pc, z, -1.388731625493765e-3f);
    pc = fmaf(pc, z, 4.166664568298827e-2f);
    const float ca = fmaf(z * z, pc, fmaf(-0.5f, z, 1.0f));
    const int q = k & 3;
    *c = q == 0 ? ca : (q == 1 ? -sa : (q == 2 ? -ca : sa));
    *s = q == 0 ? sa : (q == 1 ? ca : (q == 2 ? -sa : -ca));
}

/// sqrt(v) for v in [0, 64] as v / sqrt(v) by three Newton steps from the classic bit-trick
/// guess, every step an fmaf: a few ulp from the rounded root, the same bits on every device, and
/// (unlike sqrtf, which may set errno) a straight line the host compiler vectorises.
MC_RANDOM_FN float mc_random_sqrtf(float v) {
    v = v > 1e-30f ? v : 1e-30f;
    const float h = 0.5f * v;
    float y = __uint_as_float(0x5f3759dfu - (__float_as_uint(v) >> 1));
    y = y * fmaf(-h * y, y, 1.5f);
    y = y * fmaf(-h * y, y, 1.5f);
    y = y * fmaf(-h * y, y, 1.5f);
    return v * y;
}

/// One Box-Muller pair in single precision from two random words (see the header).
MC_RANDOM_FN void mc_random_box_muller_f(unsigned int w1, unsigned int w2, float* z0, float* z1) {
    const float u1 = fmaf((float)w1, 2.3283064365386963e-10f, 1.1641532182693481e-10f);  // (0, 1]
    const float r = mc_random_sqrtf(-2.0f * mc_random_logf(u1));
    float c, s;
    mc_random_cossin_turns((float)(w2 >> 8) * (1.0f / 16777216.0f), &c, &s);
    *z0 = r * c;
    *z1 = r * s;
}

/// Standard normals 4g .. 4g + 3 of the stream `seed`, in single precision (see the header).
MC_RANDOM_FN void mc_normal_float4(unsigned long long seed, unsigned long long group, float (&z)[4]) {
    const mc_philox4 r = mc_random_bits(seed, group);
    mc_random_box_muller_f(r.v[0], r.v[1], &z[0], &z[1]);
    mc_random_box_muller_f(r.v[2], r.v[3], &z[2], &z[3]);
}

/// Standard normal number `index` of the stream `seed` in single precision: the same bits on
/// every device, and the same as manycore.random.normal(..., dtype=float32).
MC_RANDOM_FN float mc_normal_float(unsigned long long seed, unsigned long long index) {
    float z[4];
    mc_normal_float4(seed, index >> 2, z);
    return z[index & 3];
}

/// The high 64 bits of the 128-bit product x * range: x mapped to [0, range).
MC_RANDOM_FN unsigned long long mc_random_scale(unsigned long long x, unsigned long long range) {
    const unsigned long long x0 = x & 0xffffffffull, x1 = x >> 32;
    const unsigned long long y0 = range & 0xffffffffull, y1 = range >> 32;
    const unsigned long long p00 = x0 * y0, p01 = x0 * y1, p10 = x1 * y0, p11 = x1 * y1;
    const unsigned long long mid = (p00 >> 32) + (p01 & 0xffffffffull) + (p10 & 0xffffffffull);
    return p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

/// Numbers 2g and 2g + 1 in [0, range), 64 random bits each, from one block.
MC_RANDOM_FN void mc_random_below2(unsigned long long seed, unsigned long long group, unsigned long long range,
                                   unsigned long long (&v)[2]) {
    const mc_philox4 r = mc_random_bits(seed, group);
    v[0] = mc_random_scale((unsigned long long)r.v[0] << 32 | r.v[1], range);
    v[1] = mc_random_scale((unsigned long long)r.v[2] << 32 | r.v[3], range);
}

/// Number `index` in [0, range) of the stream `seed`: manycore.random.integers less its low.
MC_RANDOM_FN unsigned long long mc_random_below(unsigned long long seed, unsigned long long index,
                                                unsigned long long range) {
    unsigned long long v[2];
    mc_random_below2(seed, index >> 1, range, v);
    return v[index & 1];
}

#endif  // MANYCORE_RANDOM_H
