// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Runs a launch of a compiled kernel on the CPU: blocks spread over the thread pool, each
// block's threads as a plain loop or, when the kernel synchronises, as fibers.
#pragma once

#include <cstddef>
#include <string_view>

#include "manycore/prelude/abi.h"

namespace manycore::cpu {

class LaunchLanes;

struct LaunchRequest {
    const mc_kernel_entry* kernel = nullptr;
    std::string_view kernel_name;
    mc_dim3 grid{1, 1, 1};
    mc_dim3 block{1, 1, 1};
    std::size_t dynamic_shared_bytes = 0;
    void* const* args = nullptr;
    bool use_fibers = false;  // the kernel reaches a barrier or a warp intrinsic
    LaunchLanes* checked = nullptr;  // checked or memory-profiled: its lanes at once, one thread each
};

/// Runs the launch to completion on the process's thread pool (the calling thread helps; a
/// launch of a single block runs on the calling thread alone). printf output of the launch is
/// written to stdout at the end, ordered by block, then thread, then call. Launches from several
/// threads at once are safe. Throws KernelFault naming the kernel when a thread faults
/// (device-side assert, __trap) or the block deadlocks (threads waiting at a barrier others
/// never reach); the remaining blocks are cancelled.
void execute(const LaunchRequest& request);

/// The worker threads the pool runs (MANYCORE_NUM_THREADS, else every core we may run on).
unsigned worker_count();

/// The services kernels call back into (barriers, warp collectives, printf, faults).
const mc_runtime_api* runtime_api() noexcept;

}  // namespace manycore::cpu
