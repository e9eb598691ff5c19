// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Launch lints: what the source says about a kernel's indexing (read once, when its module is
// built), and the few integer comparisons per launch that turn those facts into warnings.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "manycore/kernel_arg.hpp"
#include "manycore/module.hpp"

namespace manycore::detail {

/// What the source analysis found about how a kernel indexes its arrays. Everything here is
/// read from the text, so each field errs on the side of no warning: a lint that cries wolf on
/// correct kernels would be silenced and then miss the real bug.
struct LaunchLintFacts {
    /// A 32-bit integer that indexes or counts the kernel's arrays: a global index declared
    /// from blockIdx (`int i = blockIdx.x * blockDim.x + threadIdx.x`), else a 32-bit scalar
    /// parameter (`int n`). Empty name: none.
    std::string int32_name;
    std::string int32_type;  // as spelled: "int", "unsigned int"
    int int32_line = 0;
    bool int32_is_param = false;
    bool int32_unsigned = false;

    /// The kernel steps an index by the whole grid (`i += blockDim.x * gridDim.x`) in a loop,
    /// so any grid covers any length.
    bool grid_stride = false;

    /// The one-element-per-thread pattern: an index declared as exactly
    /// `blockIdx.x * blockDim.x + threadIdx.x` (in any order, casts allowed), which reaches
    /// only grid.x * block.x elements. Empty: the kernel indexes some other way, and the grid
    /// lint stays silent.
    std::string index_name;
    int index_line = 0;
    std::vector<int> indexed_params;  // parameters subscripted by the index: `x[i]`; with no
                                      // guard, the shortest of them is what a launch must cover
    int guard_param = -1;             // the scalar parameter bounding it: `if (i < n)`
};

/// The lints of one launch of `kernel` (facts may be null: only the block lint applies).
/// Allocates only when a lint fires. Thread-safe.
std::vector<LaunchLint> find_launch_lints(const std::string& kernel, const LaunchLintFacts* facts,
                                          const std::vector<ParamInfo>& params,
                                          const LaunchConfig& config,
                                          std::span<const KernelArg> args);

}  // namespace manycore::detail
