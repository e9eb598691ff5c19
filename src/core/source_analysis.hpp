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
#include "manycore/error.hpp"

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
    /// With `split`: prepared_source with every kernel that loop fission rewrote replaced by
    /// its new definition (each statement keeping its line through #line); "" when none was.
    std::string split_source;
};

/// Which __device__ functions a checked analysis gives checked pointer parameters, besides the
/// kernels: none, the plain functions, or function templates as well.
enum class CheckedHelpers { none, plain, all };

/// Whether the analysis wraps branch conditions for the memory profile (a type of its own, so
/// that no other flag's argument can take its place).
enum class BranchSites : bool { kept, wrapped };

/// Analyses `source`; with `checked`, also rewrites the kernels' pointer parameters and the
/// shared arrays into checked pointers (include/manycore/prelude/checked.h), line for line,
/// and those of the __device__ functions `checked_helpers` names.
/// With `branch_sites` (the memory profile), it also wraps every branch condition
/// (branch_rewrites.hpp).
/// Throws CompileError (with the user's line number) for constructs manycore
/// does not support that the host compiler would not name clearly: a kernel launch inside a
/// kernel (`<<<`), a name expression that names no template kernel.
/// With `split` (a CPU module, unchecked), each kernel's execution mode is planned: loop
/// fission for kernels that synchronise, iteration-major loops for the others, fibers for what
/// fission cannot take (or for every kernel that synchronises, with `fibers_only`).
SourceAnalysis analyse_source(std::string_view source,
                              const std::vector<std::string>& name_expressions,
                              bool checked = false,
                              CheckedHelpers checked_helpers = CheckedHelpers::none,
                              bool split = false, bool fibers_only = false,
                              BranchSites branch_sites = BranchSites::kept);

/// The CompileError of a checked build that failed with every rewrite, with a note on the code
/// checked mode cannot compile.
CompileError checked_compile_error(const CompileError& e);

/// Checked mode: `build(helpers)` with the widest rewrite of the __device__ helpers that
/// compiles. A checked pointer deduces no `T*` and a raw one no `checked_ptr<T>`, so whether a
/// helper may be rewritten depends on its callers: helpers and helper templates are tried,
/// then plain helpers, then the kernels and shared arrays alone. `build` throws CompileError
/// when its rewrite does not compile.
template <class Build>
auto build_widest_checked(Build&& build) -> decltype(build(CheckedHelpers::none)) {
    for (const CheckedHelpers helpers : {CheckedHelpers::all, CheckedHelpers::plain}) {
        try {
            return build(helpers);
        } catch (const CompileError&) {
        }
    }
    try {
        return build(CheckedHelpers::none);
    } catch (const CompileError& e) {
        throw checked_compile_error(e);
    }
}

}  // namespace manycore::detail
