// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// What a compiled kernel needs of a GPU: registers, shared, local and constant memory.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "manycore/arch_limits.hpp"

namespace manycore {

/// A kernel's resources on a GPU architecture. On a GPU they come from the driver
/// (cuFuncGetAttribute); on the CPU from compiling the kernel with NVRTC for the architecture
/// the CPU stands in for (MANYCORE_EMULATED_ARCH) and reading the cubin, with no GPU or driver.
/// The numbers are empty when they could not be had, and `reason` says why.
struct KernelResources {
    std::optional<int> registers;                   // per thread
    std::optional<std::size_t> shared_bytes;        // static __shared__ per block
    std::optional<std::size_t> local_bytes;         // per thread (stack frame, spills)
    std::optional<std::size_t> const_bytes;         // user __constant__ memory
    std::optional<unsigned> max_threads_per_block;  // what the registers and launch bounds allow
    std::string arch;                               // "sm_90"
    std::string source;                             // "driver" or "nvrtc"
    std::string reason;                             // empty when the numbers are there
};

namespace detail {
/// The largest block a kernel of `registers` registers per thread can launch with on `limits`,
/// no more than `launch_bound` threads when it is not 0 (__launch_bounds__, reqntid): the
/// registers of whole warps, allocated per warp in units, must fit one sub-partition's share of
/// the register file and the per-block limit (cuda_occupancy.h's rules). Rounded to warps.
unsigned max_threads_for_registers(const ArchLimits& limits, int registers,
                                   unsigned launch_bound) noexcept;
}  // namespace detail

}  // namespace manycore
