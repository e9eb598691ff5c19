// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Reads a CUDA C++ source without compiling it: the kernels it declares, their parameters,
// which ones need barrier semantics, and the line-preserving rewrites the CPU prelude needs.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "manycore/detail/backend.hpp"

namespace manycore::detail {

struct SourceAnalysis {
    /// Every non-template `__global__` function, in source order; template kernels only when
    /// named in `name_expressions` (their parameter spellings keep the template parameters).
    std::vector<KernelDecl> kernels;
    /// The source with `extern __shared__ T name[];` rewritten so the host compiler can
    /// place dynamic shared memory; same number of lines, same line for every token.
    std::string prepared_source;
};

/// Analyses `source`; with `checked`, also rewrites the kernels' pointer parameters and the
/// shared arrays into checked pointers (include/manycore/prelude/checked.h), line for line,
/// and with `checked_helpers` the pointer parameters of non-template __device__ functions too.
/// Throws CompileError (with the user's line number) for constructs manycore
/// does not support that the host compiler would not name clearly: a kernel launch inside a
/// kernel (`<<<`), a name expression that names no template kernel.
SourceAnalysis analyse_source(std::string_view source,
                              const std::vector<std::string>& name_expressions,
                              bool checked = false, bool checked_helpers = false);

}  // namespace manycore::detail
