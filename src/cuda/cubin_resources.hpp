// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// A kernel's resources read from a cubin (an ELF file) without a GPU or a driver.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "manycore/detail/backend.hpp"

namespace manycore::cuda {

/// What a cubin says of one kernel.
struct CubinKernel {
    int registers = 0;
    std::size_t shared_bytes = 0;  // the kernel's .nv.shared section, less the driver's reserve
    std::size_t local_bytes = 0;   // its stack frame per thread
    std::size_t const_bytes = 0;   // the module's user __constant__ bank
    unsigned launch_bound = 0;     // threads of __launch_bounds__ or reqntid; 0 when none
};

/// Reads kernel `symbol` (its lowered name) from `cubin`. `reserved_shared` is the bytes the
/// architecture reserves per block, which cubins from sm_90 on count in each kernel's shared
/// section. Throws Error when the image is not a cubin or holds no such kernel.
CubinKernel read_cubin_kernel(std::span<const char> cubin, std::string_view symbol,
                              std::size_t reserved_shared);

/// Each kernel of `source` compiled by NVRTC for the architecture of `limits` and read from
/// the cubin, without a GPU or a driver: for the CPU device's answer. The numbers are empty,
/// with a reason, when there is no NVRTC, when this NVRTC does not know the architecture, or
/// when the source does not compile for it (NVRTC's first message). Thread-safe.
std::vector<KernelResources> offline_resources(const detail::ModuleSource& source,
                                               const ArchLimits& limits);

}  // namespace manycore::cuda
