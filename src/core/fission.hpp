// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Loop fission: a kernel that synchronises (__syncthreads, warp intrinsics) is rewritten so
// that the CPU runs each block as loops over its threads, split at every barrier, instead of
// one fiber per thread. Loops that all threads of a block run in step (grid-stride loops among
// them) run iteration-major: every thread's step k before any thread's step k+1.
//
// The rewrite is text to text, after the user's source; every statement keeps its line
// (`#line`), so diagnostics name the user's lines. What it cannot take runs as fibers, with
// the reason.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/fission_inline.hpp"
#include "core/source_lexer.hpp"
#include "manycore/module.hpp"

namespace manycore::detail {

namespace fission {

/// What the source around a kernel tells the rewrite.
struct SourceFacts {
    /// __device__ functions with a body, by name.
    std::unordered_map<std::string, Helper> helpers;
    /// Names (functions, macros, variables) whose use reaches a barrier or warp intrinsic.
    std::function<bool(std::string_view)> reaches_barrier;
    /// Object-like and function-like macros: name -> replacement text.
    std::unordered_map<std::string, std::string> macros;
    /// Variables at namespace scope that kernels may write (__device__, __managed__).
    std::vector<std::string> mutable_globals;
    /// Read-only arrays at namespace scope (__constant__), whose elements are the same for
    /// every thread.
    std::vector<std::string> constant_globals;
};

struct KernelPlan {
    ExecutionMode mode = ExecutionMode::loop;
    std::string reason;
    /// The kernel's new definition, to replace tokens [first, last) of the source; empty when
    /// the kernel keeps its text (loop mode without steps to reorder, or fibers).
    std::string definition;
    /// The new body loops over a range of blocks itself (MC_KERNEL_GRID_MAJOR): a kernel with
    /// no barriers and no shared memory whose grid-stride loop takes every block at each step.
    bool grid_major = false;
};

/// Plans the kernel whose definition is tokens [first, last) of `t`, lexed from `source`,
/// with its parameter list's '(' at `params`. `uses_barriers`: whether the kernel reaches a
/// barrier or warp intrinsic (the source analysis knows). With `fibers_only`, a kernel that
/// synchronises runs as fibers whatever it is (MANYCORE_CPU_SCHEME=fibers).
KernelPlan plan_kernel(std::string_view source, const std::vector<source::Token>& t,
                       std::size_t first, std::size_t params, std::size_t last,
                       bool uses_barriers, bool fibers_only, const SourceFacts& facts);

}  // namespace fission
}  // namespace manycore::detail
