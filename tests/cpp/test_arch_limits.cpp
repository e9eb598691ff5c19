// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The architecture table, architecture names, and the register limit of a block.
#include <gtest/gtest.h>

#include "manycore/arch_limits.hpp"
#include "manycore/error.hpp"
#include "manycore/kernel_resources.hpp"

namespace manycore {
namespace {

TEST(ArchLimits, EveryRowIsConsistent) {
    const auto archs = known_architectures();
    ASSERT_FALSE(archs.empty());
    EXPECT_EQ(archs.front(), 50);
    EXPECT_EQ(archs.back(), 121);
    for (int arch : archs) {
        const ArchLimits* l = find_arch_limits(arch);
        ASSERT_NE(l, nullptr) << arch;
        EXPECT_EQ(l->arch, arch);
        EXPECT_EQ(l->max_threads_per_sm, l->max_warps_per_sm * l->warp_size) << arch;
        EXPECT_LE(l->max_threads_per_block, l->max_threads_per_sm) << arch;
        EXPECT_LE(l->max_shared_per_block, l->max_shared_per_block_optin) << arch;
        EXPECT_LE(l->max_shared_per_block_optin + l->reserved_shared_per_block, l->shared_per_sm)
            << arch;
        EXPECT_EQ(l->registers_per_sm % l->sub_partitions, 0u) << arch;
    }
}

// Values of NVIDIA's tables for the GPUs the course meets most.
TEST(ArchLimits, PublishedValues) {
    const ArchLimits& h100 = arch_limits("sm_90");
    EXPECT_EQ(h100.max_threads_per_sm, 2048u);
    EXPECT_EQ(h100.max_blocks_per_sm, 32u);
    EXPECT_EQ(h100.shared_per_sm, 228u * 1024);
    EXPECT_EQ(h100.max_shared_per_block_optin, 227u * 1024);
    EXPECT_EQ(h100.reserved_shared_per_block, 1024u);
    EXPECT_EQ(h100.shared_allocation_unit, 128u);
    const ArchLimits& turing = arch_limits("7.5");
    EXPECT_EQ(turing.max_threads_per_sm, 1024u);
    EXPECT_EQ(turing.max_blocks_per_sm, 16u);
    EXPECT_EQ(turing.reserved_shared_per_block, 0u);
    EXPECT_EQ(turing.shared_allocation_unit, 256u);
    EXPECT_EQ(arch_limits("86").max_warps_per_sm, 48u);
    EXPECT_EQ(arch_limits("compute_89").max_blocks_per_sm, 24u);
    EXPECT_EQ(arch_limits("sm_53").max_registers_per_block, 32768u);
    EXPECT_EQ(arch_limits("sm_60").sub_partitions, 2u);
}

TEST(ArchLimits, NamesAndUnknownArchitectures) {
    EXPECT_EQ(parse_architecture("sm_90"), 90);
    EXPECT_EQ(parse_architecture("compute_120"), 120);
    EXPECT_EQ(parse_architecture("8.6"), 86);
    EXPECT_EQ(parse_architecture("sm_"), -1);
    EXPECT_EQ(parse_architecture("sm_9x"), -1);
    EXPECT_EQ(parse_architecture("9."), -1);
    EXPECT_THROW(arch_limits("sm_91"), InvalidArgument);
    EXPECT_THROW(arch_limits("hopper"), InvalidArgument);
    try {
        arch_limits("sm_91");
    } catch (const InvalidArgument& e) {
        EXPECT_NE(std::string(e.what()).find("sm_90"), std::string::npos) << e.what();
    }
}

// cuda_occupancy.h's register rule: whole warps' registers, in units of 256, out of one
// sub-partition's quarter of the register file.
TEST(ArchLimits, MaxThreadsForRegisters) {
    const ArchLimits& h100 = arch_limits("sm_90");
    EXPECT_EQ(detail::max_threads_for_registers(h100, 32, 0), 1024u);
    EXPECT_EQ(detail::max_threads_for_registers(h100, 64, 0), 1024u);
    EXPECT_EQ(detail::max_threads_for_registers(h100, 72, 0), 896u);   // 2304 per warp: 7 a quarter
    EXPECT_EQ(detail::max_threads_for_registers(h100, 80, 0), 768u);   // 2560 per warp: 6 a quarter
    EXPECT_EQ(detail::max_threads_for_registers(h100, 255, 0), 256u);  // 8192 per warp: 2 a quarter
    EXPECT_EQ(detail::max_threads_for_registers(h100, 16, 128), 128u);
    EXPECT_EQ(detail::max_threads_for_registers(arch_limits("sm_53"), 64, 0), 512u);
}

}  // namespace
}  // namespace manycore
