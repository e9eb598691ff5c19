// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The anchor for bench/arrays: y = a*x + y over n doubles, OpenMP over every core.
// Usage: ref_openmp N REPS  -> prints the best time of one pass in seconds.
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>

int main(int argc, char** argv) {
    const long long n = argc > 1 ? std::atoll(argv[1]) : (1LL << 26);
    const int reps = argc > 2 ? std::atoi(argv[2]) : 10;
    std::unique_ptr<double[]> x(new double[n]), y(new double[n]);
#pragma omp parallel for schedule(static)
    for (long long i = 0; i < n; ++i) {  // first touch by the threads that use the pages
        x[i] = 1.0 + i % 7;
        y[i] = 2.0;
    }
    const double a = 0.5;
    double best = 1e30;
    for (int r = 0; r < reps; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        double* __restrict__ xp = x.get();
        double* __restrict__ yp = y.get();
#pragma omp parallel for schedule(static)
        for (long long i = 0; i < n; ++i) yp[i] = a * xp[i] + yp[i];
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (s < best) best = s;
    }
    std::printf("%.9f %g\n", best, y[n / 2]);
    return 0;
}
