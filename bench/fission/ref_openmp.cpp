// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The anchors of bench/fission: what the barrier kernels compute, as OpenMP loops.
//
// Built by run.py with the compiler manycore uses (g++ -O3 -march=native -fopenmp) and run with
// OMP_NUM_THREADS set to manycore's thread count. Usage: ref_openmp MODE N REPEAT
//   sum N        the sum of n float32, x[i] = 1 + (i % 7) / 8: a reduction(+) loop
//   transpose N  an N x N float32 transpose in 32 x 32 blocks
//   matmul N     C = A B of N x N float32 as the i-k-j loop nest (the inner loop vectorises)
// Each prints one JSON object: the best and median of REPEAT timed runs after a warm-up, and
// a checksum of the result.
#include <omp.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "../ref_common.h"

namespace {

template <class Run>
bench::Timing timed(int repeat, Run&& run) {
    std::vector<double> seconds;
    for (int r = 0; r <= repeat; ++r) {  // r == 0 is the warm-up
        const double start = omp_get_wtime();
        run();
        const double took = omp_get_wtime() - start;
        if (r > 0) seconds.push_back(took);
    }
    return bench::summarise(seconds);
}

void print(const char* mode, long n, int repeat, const bench::Timing& t, double checksum) {
    std::printf("{\"mode\": \"%s\", \"n\": %ld, \"threads\": %d, \"repeat\": %d, \"best_s\": %.9g, "
                "\"median_s\": %.9g, \"checksum\": %.17g}\n",
                mode, n, omp_get_max_threads(), repeat, t.best, t.median, checksum);
}

int sum(long n, int repeat) {
    auto* x = bench::aligned_array<float>(n);
    if (!x) return 1;
    // First touch in parallel with the loop's schedule, so pages sit next to their readers.
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; ++i) x[i] = 1.0f + static_cast<float>(i % 7) * 0.125f;
    float total = 0.0f;
    const bench::Timing t = timed(repeat, [&] {
        float s = 0.0f;
        // `simd` lets each thread keep one partial sum per vector lane (a reassociation plain
        // C++ forbids for floats), as a kernel's tree does.
#pragma omp parallel for simd schedule(static) reduction(+ : s)
        for (long i = 0; i < n; ++i) s += x[i];
        total = s;
    });
    print("sum", n, repeat, t, total);
    std::free(x);
    return 0;
}

int transpose(long n, int repeat) {
    auto* in = bench::aligned_array<float>(n * n);
    auto* out = bench::aligned_array<float>(n * n);
    if (!in || !out) return 1;
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; ++i)
        for (long j = 0; j < n; ++j) {
            in[i * n + j] = static_cast<float>((i * 131 + j) % 1000);
            out[i * n + j] = 0;
        }
    constexpr long B = 32;
    const bench::Timing t = timed(repeat, [&] {
#pragma omp parallel for collapse(2) schedule(static)
        for (long ib = 0; ib < n; ib += B)
            for (long jb = 0; jb < n; jb += B)
                for (long i = ib; i < ib + B && i < n; ++i)
                    for (long j = jb; j < jb + B && j < n; ++j) out[j * n + i] = in[i * n + j];
    });
    double checksum = 0;
    for (long k = 0; k < n * n; k += 997) checksum += out[k] * static_cast<double>(k % 13);
    print("transpose", n, repeat, t, checksum);
    std::free(in);
    std::free(out);
    return 0;
}

int matmul(long n, int repeat) {
    auto* a = bench::aligned_array<float>(n * n);
    auto* b = bench::aligned_array<float>(n * n);
    auto* c = bench::aligned_array<float>(n * n);
    if (!a || !b || !c) return 1;
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; ++i)
        for (long j = 0; j < n; ++j) {
            a[i * n + j] = static_cast<float>((i + 2 * j) % 4);
            b[i * n + j] = static_cast<float>((3 * i + j) % 4);
            c[i * n + j] = 0;
        }
    const bench::Timing t = timed(repeat, [&] {
#pragma omp parallel for schedule(static)
        for (long i = 0; i < n; ++i) {
            float* row = c + i * n;
            for (long j = 0; j < n; ++j) row[j] = 0;
            for (long k = 0; k < n; ++k) {
                const float aik = a[i * n + k];
                const float* bk = b + k * n;
                for (long j = 0; j < n; ++j) row[j] += aik * bk[j];
            }
        }
    });
    double checksum = 0;
    for (long k = 0; k < n * n; ++k) checksum += c[k];
    print("matmul", n, repeat, t, checksum);
    std::free(a);
    std::free(b);
    std::free(c);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    long n = 0;
    int repeat = 0;
    if (argc != 4 || !bench::parse_arguments(3, argv + 1, n, repeat)) {
        std::fprintf(stderr, "usage: %s sum|transpose|matmul N REPEAT\n", argv[0]);
        return 2;
    }
    if (std::strcmp(argv[1], "sum") == 0) return sum(n, repeat);
    if (std::strcmp(argv[1], "transpose") == 0) return transpose(n, repeat);
    if (std::strcmp(argv[1], "matmul") == 0) return matmul(n, repeat);
    std::fprintf(stderr, "unknown mode '%s': sum, transpose or matmul\n", argv[1]);
    return 2;
}
