// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The CPU's measured peaks for the labs: memory bandwidth (a STREAM triad over arrays far
// larger than the caches) and single-precision FMA throughput (independent chains in
// registers), on OMP_NUM_THREADS threads. Built by manycore/labs/peak.py with the compiler
// manycore uses (-O3 -march=native -fopenmp); prints one JSON object.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

double seconds_now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// a[i] = b[i] + s * c[i]: 24 bytes of traffic per element (write-allocate not counted,
// as STREAM does).
double triad_bandwidth(long n, int rounds) {
    std::vector<double> a(n), b(n), c(n);
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; ++i) {  // first touch by the thread that later uses the page
        a[i] = 0.0;
        b[i] = 1.0;
        c[i] = 2.0;
    }
    double best = 1e30;
    const double s = 3.0;
    for (int r = 0; r < rounds; ++r) {
        double t0 = seconds_now();
#pragma omp parallel for schedule(static)
        for (long i = 0; i < n; ++i) a[i] = b[i] + s * c[i];
        best = std::min(best, seconds_now() - t0);
    }
    if (a[n / 2] != 7.0) std::abort();  // the loop really ran
    return 24.0 * static_cast<double>(n) / best;
}

// 64 independent multiply-adds per step in each thread: enough chains to cover the FMA
// latency on every vector unit the compiler targets.
constexpr int kChains = 64;

double fma_flops(long steps, int rounds) {
    double best = 1e30;
    float sink = 0.0f;
    for (int r = 0; r < rounds; ++r) {
        double t0 = seconds_now();
#pragma omp parallel reduction(+ : sink)
        {
            float acc[kChains];
            for (int j = 0; j < kChains; ++j) acc[j] = 1.0f + 1e-3f * (j + omp_get_thread_num());
            const float m = 0.999999f, k = 1e-7f;
            for (long s = 0; s < steps; ++s) {
#pragma omp simd
                for (int j = 0; j < kChains; ++j) acc[j] = acc[j] * m + k;
            }
            float total = 0.0f;
            for (int j = 0; j < kChains; ++j) total += acc[j];
            sink += total;
        }
        best = std::min(best, seconds_now() - t0);
    }
    if (sink == 12345.0f) std::puts("");  // keeps the chains alive
    return 2.0 * kChains * static_cast<double>(steps) * omp_get_max_threads() / best;
}

}  // namespace

int main(int argc, char** argv) {
    long n = argc > 1 ? std::atol(argv[1]) : (1L << 24);
    long steps = argc > 2 ? std::atol(argv[2]) : (1L << 21);
    double bw = triad_bandwidth(n, 5);
    double fl = fma_flops(steps, 5);
    std::printf("{\"bandwidth\": %.6e, \"flops\": %.6e, \"threads\": %d, \"triad_elements\": %ld}\n",
                bw, fl, omp_get_max_threads(), n);
    return 0;
}
