// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The anchor of bench/triad: c = a + s*b as a hand-written OpenMP loop, printed as JSON.
//
// Built by run.py with the compiler manycore uses (g++ -O3 -march=native -fopenmp) and run with
// OMP_NUM_THREADS set to manycore's thread count. Usage: ref_openmp N REPEAT
#include <omp.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "../ref_common.h"

int main(int argc, char** argv) {
    long n = 0;
    int repeat = 0;
    if (!bench::parse_arguments(argc, argv, n, repeat)) return 2;
    const double s = 3.0;
    auto* a = bench::aligned_array<double>(n);
    auto* b = bench::aligned_array<double>(n);
    auto* c = bench::aligned_array<double>(n);
    if (!a || !b || !c) return 1;
    // First touch in parallel with the loop's own schedule: each thread's pages are then
    // local to the memory it runs next to (on a multi-socket machine this is what decides
    // the bandwidth).
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; ++i) {
        a[i] = 1.0 + static_cast<double>(i % 7);
        b[i] = 0.5;
        c[i] = 0.0;
    }

    std::vector<double> seconds;
    for (int r = 0; r <= repeat; ++r) {  // r == 0 is the warm-up
        const double start = omp_get_wtime();
#pragma omp parallel for schedule(static)
        for (long i = 0; i < n; ++i) c[i] = a[i] + s * b[i];
        const double took = omp_get_wtime() - start;
        if (r > 0) seconds.push_back(took);
    }
    // Reading c back keeps the compiler from dropping the loops, and checks them.
    double checksum = 0.0;
#pragma omp parallel for reduction(+ : checksum)
    for (long i = 0; i < n; ++i) checksum += c[i];
    double expected = 0.0;
    for (long k = 0; k < 7; ++k) {
        const long count = n / 7 + (k < n % 7 ? 1 : 0);
        expected += static_cast<double>(count) * (1.0 + static_cast<double>(k) + s * 0.5);
    }

    const bench::Timing t = bench::summarise(seconds);
    const double moved = 3.0 * sizeof(double) * static_cast<double>(n);
    std::printf("{\"n\": %ld, \"threads\": %d, \"repeat\": %d, \"best_s\": %.9g, "
                "\"median_s\": %.9g, \"gbps\": %.6g, \"checksum_ok\": %s}\n",
                n, omp_get_max_threads(), repeat, t.best, t.median, moved / t.best / 1e9,
                checksum == expected ? "true" : "false");
    std::free(a);
    std::free(b);
    std::free(c);
    return 0;
}
