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
//   float32 in [0, 1): (r0 >> 8) * 2^-24
//   uniform(low, high) = fma(high - low, u, low) in the element type
//   normal (Box-Muller, cosine branch): u1 from (r0, r1) mapped to (0, 1] as 1 - u,
//     u2 from (r2, r3) as above; z = sqrt(-2 log u1) * cos(2 pi u2); loc + scale * z
//   integers in [low, low + range): low + hi64(((u64)r0 << 32 | r1) * range)
//     (Lemire's multiply-shift without rejection; bias below range / 2^64).
#ifndef MANYCORE_RANDOM_H
#define MANYCORE_RANDOM_H

#if defined(__CUDACC__) || defined(__MANYCORE__)
#define MC_RANDOM_FN __device__ inline
#else
#define MC_RANDOM_FN inline
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
    for (int round = 0; round < 10; ++round) {
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

/// Uniform in [0, 1): 24 random bits.
MC_RANDOM_FN float mc_uniform_float(unsigned long long seed, unsigned long long index) {
    const mc_philox4 r = mc_random_bits(seed, index);
    return (float)(r.v[0] >> 8) * (1.0f / 16777216.0f);
}

/// Standard normal (Box-Muller); equal across devices up to their log/cos/sqrt (a few ulp).
MC_RANDOM_FN double mc_normal_double(unsigned long long seed, unsigned long long index) {
    const mc_philox4 r = mc_random_bits(seed, index);
    const double u1 = 1.0 - mc_bits_to_double(r.v[0], r.v[1]);
    const double u2 = mc_bits_to_double(r.v[2], r.v[3]);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/// 64 random bits mapped to [0, range) by multiply-shift (exact 64x64 -> high 64 product).
MC_RANDOM_FN unsigned long long mc_random_below(unsigned long long seed, unsigned long long index,
                                                unsigned long long range) {
    const mc_philox4 r = mc_random_bits(seed, index);
    const unsigned long long x = (unsigned long long)r.v[0] << 32 | r.v[1];
    const unsigned long long x0 = x & 0xffffffffull, x1 = x >> 32;
    const unsigned long long y0 = range & 0xffffffffull, y1 = range >> 32;
    const unsigned long long p00 = x0 * y0, p01 = x0 * y1, p10 = x1 * y0, p11 = x1 * y1;
    const unsigned long long mid = (p00 >> 32) + (p01 & 0xffffffffull) + (p10 & 0xffffffffull);
    return p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

#endif  // MANYCORE_RANDOM_H
