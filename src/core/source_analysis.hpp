// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Reads a CUDA C++ source without compiling it: the kernels it declares, their parameters,
// which ones need barrier semantics, how they index their arrays (for the launch lints), and
// the line-preserving rewrites the CPU prelude needs.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/launch_lints.hpp"
#include "manycore/detail/backend.hpp"

namespace manycore::detail {

struct SourceAnalysis {
    /// Every non-template `__global__` function, in source order; template kernels only when
    /// named in `name_expressions` (their parameter spellings keep the template parameters).
    std::vector<KernelDecl> kernels;
    /// What the launch lints need to know of each kernel, in the order of `kernels`.
    std::vector<LaunchLintFacts> lint_facts;
    /// The source with `extern __shared__ T name[];` rewritten so the host compiler can
    /// place dynamic shared memory; same number of lines, same line for every token.
    std::string prepared_source;
};

/// Which __device__ functions a checked analysis gives checked pointer parameters, besides the
/// kernels: none, the plain functions, or function templates as well.
enum class CheckedHelpers { none, plain, all };

/// Analyses `source`; with `checked`, also rewrites the kernels' pointer parameters and the
/// shared arrays into checked pointers (include/manycore/prelude/checked.h), line for line,
/// and those of the __device__ functions `checked_helpers` names.
/// Throws CompileError (with the user's line number) for constructs manycore
/// does not support that the host compiler would not name clearly: a kernel launch inside a
/// kernel (`<<<`), a name expression that names no template kernel.
SourceAnalysis analyse_source(std::string_view source,
                              const std::vector<std::string>& name_expressions,
                              bool checked = false,
                              CheckedHelpers checked_helpers = CheckedHelpers::none);

}  // namespace manycore::detail
