// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// What the OpenMP anchors of bench/ share: their command line (N REPEAT), 64-byte aligned
// arrays as manycore allocates them, and the best and median of their timed runs.
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace bench {

/// N and REPEAT from `ref_openmp N REPEAT`; false (after saying why) when they are not two
/// positive numbers.
inline bool parse_arguments(int argc, char** argv, long& n, int& repeat) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s N REPEAT\n", argv[0]);
        return false;
    }
    n = std::atol(argv[1]);
    repeat = std::atoi(argv[2]);
    if (n <= 0 || repeat <= 0) {
        std::fprintf(stderr, "N and REPEAT must be positive\n");
        return false;
    }
    return true;
}

/// `n` elements, 64-byte aligned as manycore's own allocations; the pages are not touched
/// yet, so the caller's first touch decides where they live. Null (after saying so) on failure.
template <class T>
T* aligned_array(long n) {
    const std::size_t bytes = (static_cast<std::size_t>(n) * sizeof(T) + 63) / 64 * 64;
    auto* p = static_cast<T*>(std::aligned_alloc(64, bytes));
    if (p == nullptr) std::fprintf(stderr, "cannot allocate %zu bytes\n", bytes);
    return p;
}

struct Timing {
    double best;
    double median;
};

/// Best and median of `seconds` (not empty).
inline Timing summarise(std::vector<double> seconds) {
    std::sort(seconds.begin(), seconds.end());
    const std::size_t k = seconds.size();
    return {seconds.front(), k % 2 ? seconds[k / 2] : 0.5 * (seconds[k / 2 - 1] + seconds[k / 2])};
}

}  // namespace bench
