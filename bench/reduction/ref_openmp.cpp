// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The anchor of bench/reduction: the sum of n float32 values as an OpenMP reduction loop.
//
// Built by run.py with the compiler manycore uses (g++ -O3 -march=native -fopenmp) and run with
// OMP_NUM_THREADS set to manycore's thread count. Usage: ref_openmp N REPEAT
// The data are x[i] = 1 + (i % 7) / 8, the same as run.py gives manycore, so both sums can be
// checked against the exact value.
#include <omp.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "../ref_common.h"

int main(int argc, char** argv) {
    long n = 0;
    int repeat = 0;
    if (!bench::parse_arguments(argc, argv, n, repeat)) return 2;
    auto* x = bench::aligned_array<float>(n);
    if (!x) return 1;
    // First touch in parallel with the loop's schedule, so pages sit next to their readers.
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; ++i) x[i] = 1.0f + static_cast<float>(i % 7) * 0.125f;

    std::vector<double> seconds;
    float sum = 0.0f;
    for (int r = 0; r <= repeat; ++r) {  // r == 0 is the warm-up
        const double start = omp_get_wtime();
        float s = 0.0f;
        // `simd` lets each thread keep one partial sum per vector lane (a reassociation that
        // plain C++ forbids for floats), as the kernel's tree does.
#pragma omp parallel for simd schedule(static) reduction(+ : s)
        for (long i = 0; i < n; ++i) s += x[i];
        const double took = omp_get_wtime() - start;
        if (r > 0) seconds.push_back(took);
        sum = s;
    }
    long double exact = 0;
    for (long k = 0; k < 7; ++k) {
        const long count = n / 7 + (k < n % 7 ? 1 : 0);
        exact += static_cast<long double>(count) * (1.0L + k * 0.125L);
    }
    const bench::Timing t = bench::summarise(seconds);
    const double rel = std::fabs(static_cast<double>(sum - exact)) / static_cast<double>(exact);
    std::printf("{\"n\": %ld, \"threads\": %d, \"repeat\": %d, \"best_s\": %.9g, "
                "\"median_s\": %.9g, \"gbps\": %.6g, \"sum\": %.9g, \"relative_error\": %.3g}\n",
                n, omp_get_max_threads(), repeat, t.best, t.median,
                sizeof(float) * static_cast<double>(n) / t.best / 1e9, static_cast<double>(sum), rel);
    std::free(x);
    return 0;
}
