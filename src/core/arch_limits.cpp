// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The table of NVIDIA GPU architectures' limits, and the architecture the CPU stands in for.
#include "manycore/arch_limits.hpp"

#include <array>
#include <cctype>
#include <string>

#include "manycore/config.hpp"
#include "manycore/error.hpp"
#include "manycore/kernel_resources.hpp"

namespace manycore {
namespace {

constexpr std::size_t KiB = 1024;

// One row of the table: what differs between architectures. Every other field of ArchLimits
// is the same from sm_50 to sm_121 (warp of 32, 1024 threads and 64 Ki registers per block at
// most, 255 registers per thread, registers allocated per warp in units of 256, 48 KiB of
// shared memory per block without opting in).
struct Row {
    int arch;
    unsigned warps_per_sm;
    unsigned blocks_per_sm;
    unsigned registers_per_block;
    unsigned sub_partitions;
    std::size_t shared_per_sm_kib;
    std::size_t shared_per_block_optin_kib;
};

// The Programming Guide's "Technical Specifications per Compute Capability" (resident warps
// and blocks per SM, registers per block, shared memory per SM and per block with opt-in) and
// cuda_occupancy.h (sub-partitions, and the generic 8.x rows for sm_88, which the Guide's table
// does not list). sm_101 is what CUDA 12.8-12.9 called sm_110.
constexpr std::array<Row, 21> kRows = {{
    {50, 64, 32, 65536, 4, 64, 48},
    {52, 64, 32, 65536, 4, 96, 48},
    {53, 64, 32, 32768, 4, 64, 48},
    {60, 64, 32, 65536, 2, 64, 48},
    {61, 64, 32, 65536, 4, 96, 48},
    {62, 64, 32, 32768, 4, 64, 48},
    {70, 64, 32, 65536, 4, 96, 96},
    {72, 64, 32, 65536, 4, 96, 96},
    {75, 32, 16, 65536, 4, 64, 64},
    {80, 64, 32, 65536, 4, 164, 163},
    {86, 48, 16, 65536, 4, 100, 99},
    {87, 48, 16, 65536, 4, 164, 163},
    {88, 48, 16, 65536, 4, 100, 99},
    {89, 48, 24, 65536, 4, 100, 99},
    {90, 64, 32, 65536, 4, 228, 227},
    {100, 64, 32, 65536, 4, 228, 227},
    {101, 48, 24, 65536, 4, 228, 227},
    {103, 64, 32, 65536, 4, 228, 227},
    {110, 48, 24, 65536, 4, 228, 227},
    {120, 48, 24, 65536, 4, 100, 99},
    {121, 48, 24, 65536, 4, 100, 99},
}};

ArchLimits limits_of(const Row& r) {
    ArchLimits l;
    l.arch = r.arch;
    l.max_warps_per_sm = r.warps_per_sm;
    l.max_threads_per_sm = r.warps_per_sm * l.warp_size;
    l.max_blocks_per_sm = r.blocks_per_sm;
    l.max_registers_per_block = r.registers_per_block;
    l.sub_partitions = r.sub_partitions;
    l.shared_per_sm = r.shared_per_sm_kib * KiB;
    l.max_shared_per_block_optin = r.shared_per_block_optin_kib * KiB;
    // From Ampere on, shared memory is handed out in 128-byte units and the driver keeps 1 KiB
    // of every block's share for itself (cuda_occupancy.h).
    const bool ampere_or_later = r.arch >= 80;
    l.shared_allocation_unit = ampere_or_later ? 128 : 256;
    l.reserved_shared_per_block = ampere_or_later ? KiB : 0;
    return l;
}

const std::vector<ArchLimits>& table() {
    static const std::vector<ArchLimits> rows = [] {
        std::vector<ArchLimits> out;
        for (const Row& r : kRows) out.push_back(limits_of(r));
        return out;
    }();
    return rows;
}

std::string known_text() {
    std::string text;
    for (const ArchLimits& l : table()) text += (text.empty() ? "" : ", ") + l.name();
    return text;
}

}  // namespace

const ArchLimits* find_arch_limits(int arch) noexcept {
    for (const ArchLimits& l : table())
        if (l.arch == arch) return &l;
    return nullptr;
}

int parse_architecture(std::string_view text) noexcept {
    for (std::string_view prefix : {"sm_", "compute_"}) {
        if (text.substr(0, prefix.size()) == prefix) {
            text.remove_prefix(prefix.size());
            break;
        }
    }
    std::string digits;
    bool dot = false;
    for (char c : text) {
        if (c == '.' && !dot && !digits.empty()) {
            dot = true;
        } else if (std::isdigit(static_cast<unsigned char>(c))) {
            digits += c;
        } else {
            return -1;
        }
    }
    if (digits.empty() || digits.size() > 4 || (dot && text.back() == '.')) return -1;
    return std::stoi(digits);
}

const ArchLimits& arch_limits(std::string_view arch) {
    const int number = parse_architecture(arch);
    if (const ArchLimits* l = number < 0 ? nullptr : find_arch_limits(number)) return *l;
    throw InvalidArgument("arch_limits('" + std::string(arch) + "'): " +
                          (number < 0 ? "not an architecture name"
                                      : "no NVIDIA architecture of that number") +
                          "; write one of " + known_text());
}

std::vector<int> known_architectures() {
    std::vector<int> out;
    for (const ArchLimits& l : table()) out.push_back(l.arch);
    return out;
}

std::string emulated_arch() { return Config::get().emulated_arch; }

}  // namespace manycore

namespace manycore::detail {

unsigned max_threads_for_registers(const ArchLimits& limits, int registers,
                                   unsigned launch_bound) noexcept {
    unsigned threads = limits.max_threads_per_block;
    if (launch_bound != 0 && launch_bound < threads) threads = launch_bound;
    if (registers > 0) {
        const unsigned unit = limits.register_allocation_unit;
        const unsigned per_warp =
            (static_cast<unsigned>(registers) * limits.warp_size + unit - 1) / unit * unit;
        const unsigned per_sub_partition = limits.registers_per_sm / limits.sub_partitions;
        const unsigned by_sm = per_sub_partition / per_warp * limits.sub_partitions;
        const unsigned by_block = limits.max_registers_per_block / per_warp;
        const unsigned warps = by_sm < by_block ? by_sm : by_block;
        if (warps * limits.warp_size < threads) threads = warps * limits.warp_size;
    }
    return threads;
}

}  // namespace manycore::detail
