// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The CPU's peaks, measured by hand-written loops (never manycore kernels): STREAM's copy and
// triad over arrays far larger than the caches, and FMA chains on registers in FP32 and FP64.
// Built by `manycore peak` with the host compiler manycore uses (-O3 -march=native -fopenmp),
// run with OMP_NUM_THREADS set to the CPU device's threads; prints one `name value` line per
// measure (bytes per second, floating-point operations per second), the best of `repeat`.
//
//   peak_cpu <elements per array> <repeat> <fma iterations>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Each thread first touches the part of the arrays it will stream, so their pages sit on
// its memory node.
void first_touch(double* a, double* b, double* c, long n) {
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; ++i) {
        a[i] = 1.0;
        b[i] = 2.0;
        c[i] = 0.0;
    }
}

double copy_rate(const double* a, double* c, long n, int repeat) {
    double best = 1e30;
    for (int r = 0; r < repeat; ++r) {
        const auto t0 = Clock::now();
#pragma omp parallel for schedule(static)
        for (long i = 0; i < n; ++i) c[i] = a[i];
        best = std::min(best, seconds_since(t0));
    }
    return 2.0 * sizeof(double) * static_cast<double>(n) / best;  // STREAM counts no write-allocate
}

double triad_rate(double* a, const double* b, const double* c, long n, int repeat) {
    const double s = 3.0;
    double best = 1e30;
    for (int r = 0; r < repeat; ++r) {
        const auto t0 = Clock::now();
#pragma omp parallel for schedule(static)
        for (long i = 0; i < n; ++i) a[i] = b[i] + s * c[i];
        best = std::min(best, seconds_since(t0));
    }
    return 3.0 * sizeof(double) * static_cast<double>(n) / best;
}

#if defined(__AVX512F__)
constexpr int kVectorBytes = 64;
#elif defined(__AVX__)
constexpr int kVectorBytes = 32;
#else
constexpr int kVectorBytes = 16;
#endif
// Independent chains per thread: enough to cover an FMA's latency on two pipes, few enough to
// stay in 16 vector registers.
constexpr int kChains = 12;

template <class T>
double fma_rate(long iterations, int repeat) {
    typedef T V __attribute__((vector_size(kVectorBytes)));
    constexpr int lanes = kVectorBytes / sizeof(T);
    double best = 1e30;
    volatile T sink = 0;
    for (int r = 0; r < repeat; ++r) {
        const auto t0 = Clock::now();
#pragma omp parallel
        {
            V acc[kChains];
            for (int c = 0; c < kChains; ++c) acc[c] = V{} + static_cast<T>(c + omp_get_thread_num());
            const V m = V{} + static_cast<T>(0.9999999);
            const V a = V{} + static_cast<T>(1e-7);
            for (long i = 0; i < iterations; ++i) {
#pragma GCC unroll 12
                for (int c = 0; c < kChains; ++c) acc[c] = acc[c] * m + a;
            }
            T total = 0;
            for (int c = 0; c < kChains; ++c)
                for (int l = 0; l < lanes; ++l) total += acc[c][l];
#pragma omp critical
            sink = sink + total;
        }
        best = std::min(best, seconds_since(t0));
    }
    const double threads = omp_get_max_threads();
    return 2.0 * lanes * kChains * static_cast<double>(iterations) * threads / best;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s <elements per array> <repeat> <fma iterations>\n", argv[0]);
        return 2;
    }
    const long n = std::atol(argv[1]);
    const int repeat = std::atoi(argv[2]);
    const long iterations = std::atol(argv[3]);
    if (n <= 0 || repeat <= 0 || iterations <= 0) return 2;
    std::unique_ptr<double[]> a(new double[n]), b(new double[n]), c(new double[n]);
    first_touch(a.get(), b.get(), c.get(), n);
    std::printf("threads %d\n", omp_get_max_threads());
    std::printf("copy %.6e\n", copy_rate(a.get(), c.get(), n, repeat));
    std::fflush(stdout);
    std::printf("triad %.6e\n", triad_rate(a.get(), b.get(), c.get(), n, repeat));
    std::fflush(stdout);
    std::printf("fp32 %.6e\n", fma_rate<float>(iterations, repeat));
    std::fflush(stdout);
    std::printf("fp64 %.6e\n", fma_rate<double>(iterations, repeat));
    return 0;
}
