// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// What each NVIDIA GPU architecture allows a block and a multiprocessor: the numbers an
// occupancy calculation needs, and what the CPU answers for the GPU it stands in for.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace manycore {

/// The per-architecture limits of NVIDIA's published tables (CUDA C++ Programming Guide,
/// "Technical Specifications per Compute Capability") and of its occupancy calculator
/// (`cuda_occupancy.h`: allocation units, sub-partitions, reserved shared memory).
struct ArchLimits {
    int arch = 0;                              // 90 for sm_90
    unsigned warp_size = 32;
    unsigned max_threads_per_block = 1024;
    unsigned max_threads_per_sm = 0;
    unsigned max_warps_per_sm = 0;
    unsigned max_blocks_per_sm = 0;
    unsigned registers_per_sm = 65536;         // 32-bit registers
    unsigned max_registers_per_block = 65536;
    unsigned max_registers_per_thread = 255;
    unsigned register_allocation_unit = 256;   // registers, allocated per warp
    const char* register_allocation_granularity = "warp";
    unsigned sub_partitions = 4;               // warp schedulers, each with 1/4 of the registers
    std::size_t shared_per_sm = 0;             // bytes, the largest carve-out
    std::size_t max_shared_per_block = 48 * 1024;        // without opting in
    std::size_t max_shared_per_block_optin = 48 * 1024;  // with cuFuncSetAttribute
    std::size_t shared_allocation_unit = 256;  // bytes
    std::size_t reserved_shared_per_block = 0; // bytes the driver keeps per block (sm_80 on)

    /// "sm_90".
    std::string name() const { return "sm_" + std::to_string(arch); }
};

/// The limits of `arch` (90 for sm_90), or nullptr when the table has no such architecture.
/// Thread-safe.
const ArchLimits* find_arch_limits(int arch) noexcept;

/// The limits of an architecture named "sm_90" (also "90", "9.0", "compute_90"); throws
/// InvalidArgument naming the architectures there are. Thread-safe.
const ArchLimits& arch_limits(std::string_view arch);

/// Every architecture in the table, ascending (50, 52, ..., 121).
std::vector<int> known_architectures();

/// Parses "sm_90", "compute_90", "9.0" or "90" to 90; -1 when `text` is none of those forms.
int parse_architecture(std::string_view text) noexcept;

/// The GPU architecture the CPU device stands in for (MANYCORE_EMULATED_ARCH, default "sm_90"),
/// as "sm_NN". Thread-safe.
std::string emulated_arch();

}  // namespace manycore
