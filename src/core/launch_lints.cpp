// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Launch lints: per launch, a few integer comparisons; messages are built only when one fires.
#include "core/launch_lints.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>

#include "manycore/config.hpp"

namespace manycore {
namespace {

std::atomic<bool>& lints_flag() {
    static std::atomic<bool> enabled{Config::get().launch_lints};
    return enabled;
}

std::string dims(const Dim3& d) {
    return "(" + std::to_string(d.x) + ", " + std::to_string(d.y) + ", " + std::to_string(d.z) +
           ")";
}

// Elements of an array argument, counted in the parameter's element type (a `float*` given a
// byte buffer indexes nbytes / 4 elements); 0 when the extent is unknown.
std::uint64_t elements(const KernelArg& arg, const ParamInfo& param) {
    if (arg.kind() != KernelArg::Kind::array || !arg.from_array()) return 0;
    const std::size_t size = param.desc.elem_size ? param.desc.elem_size : arg.itemsize();
    return size ? arg.nbytes() / size : 0;
}

// The value of an integer scalar argument, when it is one and not negative.
bool count_value(const KernelArg& arg, std::uint64_t& out) {
    switch (arg.kind()) {
        case KernelArg::Kind::integer:
            if (arg.as_int64() < 0) return false;
            out = static_cast<std::uint64_t>(arg.as_int64());
            return true;
        case KernelArg::Kind::unsigned_integer:
            out = arg.as_uint64();
            return true;
        case KernelArg::Kind::typed: break;
        default: return false;
    }
    const void* b = arg.scalar_bytes();
    const auto read = [&](auto value) {
        std::memcpy(&value, b, sizeof value);
        if (value < 0) return false;
        out = static_cast<std::uint64_t>(value);
        return true;
    };
    switch (arg.dtype()) {
        case DType::int8: return read(std::int8_t{});
        case DType::int16: return read(std::int16_t{});
        case DType::int32: return read(std::int32_t{});
        case DType::int64: return read(std::int64_t{});
        case DType::uint8: return read(std::uint8_t{});
        case DType::uint16: return read(std::uint16_t{});
        case DType::uint32: return read(std::uint32_t{});
        case DType::uint64: return read(std::uint64_t{});
        default: return false;
    }
}

LaunchLint block_lint(const std::string& kernel, const Dim3& block, std::uint64_t threads) {
    const std::uint64_t warps = (threads + 31) / 32, idle = warps * 32 - threads;
    std::string fix = std::to_string(warps * 32);
    if (threads > 32) fix += " or " + std::to_string(threads / 32 * 32);
    return {LaunchLint::Kind::block_size,
            kernel + "(): block=" + dims(block) + " has " + std::to_string(threads) +
                " threads, not a multiple of 32 (the warp size): a GPU runs it as " +
                std::to_string(warps) + " warp" + (warps == 1 ? "" : "s") + " of 32 with " +
                std::to_string(idle) + " lane" + (idle == 1 ? "" : "s") +
                " idle in every block; use " + fix + " threads per block"};
}

LaunchLint overflow_lint(const std::string& kernel, const detail::LaunchLintFacts& f,
                         const std::string& array, std::uint64_t count, std::uint64_t limit) {
    const std::string what = f.int32_is_param
                                 ? "parameter '" + f.int32_name + "' is '" + f.int32_type + "'"
                                 : "index '" + f.int32_name + "' is declared '" + f.int32_type +
                                       "' at line " + std::to_string(f.int32_line);
    return {LaunchLint::Kind::index_overflow,
            kernel + "(): argument '" + array + "' has " + std::to_string(count) +
                " elements, more than the " + std::to_string(limit) + " a 32-bit '" +
                f.int32_type + "' can reach, and the kernel's " + what +
                ": indices past " + std::to_string(limit) +
                " wrap around; declare the index and size as 'long long' or 'size_t' "
                "(e.g. size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x)"};
}

// Built only when the lint fires: the launch path itself never allocates.
LaunchLint grid_lint(const std::string& kernel, const detail::LaunchLintFacts& f,
                     const LaunchConfig& config, std::uint64_t covered, std::uint64_t needed,
                     const std::string& source, bool from_guard) {
    const std::string why = from_guard ? source + " = " + std::to_string(needed)
                                       : "'" + source + "' has " + std::to_string(needed) +
                                             " elements";
    const std::string bound = from_guard ? source : std::string("n");
    const std::uint64_t block_x = config.block.x, grid_needed = (needed + block_x - 1) / block_x;
    return {LaunchLint::Kind::grid_too_small,
            kernel + "(): grid=" + dims(config.grid) + " x block=" + dims(config.block) +
                " runs " + std::to_string(covered) + " threads along x, but " + why +
                ", and the kernel handles one element per thread (index '" + f.index_name +
                "' at line " + std::to_string(f.index_line) +
                ") with no grid-stride loop: elements " + std::to_string(covered) + " to " +
                std::to_string(needed - 1) + " are never processed; launch grid=(" +
                std::to_string(grid_needed) + ",) (" + std::to_string(needed) + " / " +
                std::to_string(block_x) + " rounded up), or loop with 'for (; " + f.index_name +
                " < " + bound + "; " + f.index_name + " += blockDim.x * gridDim.x)'"};
}

LaunchLint past_end_lint(const std::string& kernel, const detail::LaunchLintFacts& f,
                         const std::string& bound, std::uint64_t bound_value,
                         const std::string& array, std::uint64_t count, std::uint64_t reached) {
    return {LaunchLint::Kind::past_end,
            kernel + "(): " + bound + " = " + std::to_string(bound_value) + " lets index '" +
                f.index_name + "' (line " + std::to_string(f.index_line) + ") reach " +
                std::to_string(reached - 1) + ", but argument '" + array + "' has only " +
                std::to_string(count) + " elements: threads " + std::to_string(count) + " to " +
                std::to_string(reached - 1) + " access memory past its end, which corrupts " +
                "whatever lies there; pass " + bound + " = len(" + array + ") or a longer array"};
}

}  // namespace

const char* lint_kind_name(LaunchLint::Kind kind) noexcept {
    switch (kind) {
        case LaunchLint::Kind::index_overflow: return "index-overflow";
        case LaunchLint::Kind::grid_too_small: return "grid-too-small";
        case LaunchLint::Kind::block_size: return "block-size";
        case LaunchLint::Kind::past_end: return "past-end";
        case LaunchLint::Kind::temporary_array: return "temporary-array";
    }
    return "unknown";
}

bool launch_lints_enabled() { return lints_flag().load(std::memory_order_relaxed); }
void set_launch_lints_enabled(bool enabled) noexcept {
    lints_flag().store(enabled, std::memory_order_relaxed);
}

namespace detail {

std::vector<LaunchLint> find_launch_lints(const std::string& kernel, const LaunchLintFacts* facts,
                                          const std::vector<ParamInfo>& params,
                                          const LaunchConfig& config,
                                          std::span<const KernelArg> args) {
    std::vector<LaunchLint> out;
    const Dim3& block = config.block;
    const std::uint64_t threads = std::uint64_t{block.x} * block.y * block.z;
    // One thread per block is a deliberate serial kernel, not a badly chosen block size.
    if (threads > 1 && threads % 32 != 0) out.push_back(block_lint(kernel, block, threads));
    if (facts == nullptr) return out;
    const std::size_t n = std::min(args.size(), params.size());

    if (!facts->int32_name.empty()) {
        const std::uint64_t limit = facts->int32_unsigned ? 0xffffffffull : 0x7fffffffull;
        std::size_t longest = n;
        std::uint64_t most = limit;
        for (std::size_t i = 0; i < n; ++i) {
            const std::uint64_t count = elements(args[i], params[i]);
            if (count > most) most = count, longest = i;
        }
        if (longest < n)
            out.push_back(overflow_lint(kernel, *facts, params[longest].name, most, limit));
    }

    if (!facts->index_name.empty() && !facts->grid_stride) {
        const std::uint64_t covered = std::uint64_t{config.grid.x} * block.x;
        std::uint64_t needed = 0;
        std::size_t source = n;  // the argument that says how many elements there are
        bool from_guard = false;
        const auto guard = static_cast<std::size_t>(facts->guard_param);
        if (facts->guard_param >= 0 && guard < n && count_value(args[guard], needed)) {
            source = guard, from_guard = true;
        } else {
            // Unguarded, the kernel touches x[i] for every thread, so a correct launch covers
            // at most the shortest array it indexes; only a grid short of even that one is
            // surely too small.
            for (const int q : facts->indexed_params) {
                const auto i = static_cast<std::size_t>(q);
                const std::uint64_t count = i < n ? elements(args[i], params[i]) : 0;
                if (count > 0 && (source == n || count < needed)) needed = count, source = i;
            }
        }
        if (needed > covered && block.x > 0)
            out.push_back(grid_lint(kernel, *facts, config, covered, needed, params[source].name,
                                    from_guard));
        // The guard lets indices up to its value through: an array it subscripts that is
        // shorter is written (or read) past its end by the launch's last threads.
        if (from_guard) {
            const std::uint64_t reached = std::min(needed, covered);
            for (const int q : facts->indexed_params) {
                const auto i = static_cast<std::size_t>(q);
                const std::uint64_t count = i < n ? elements(args[i], params[i]) : 0;
                if (count == 0 || count >= reached) continue;
                out.push_back(past_end_lint(kernel, *facts, params[source].name, needed,
                                            params[i].name, count, reached));
                break;
            }
        }
    }
    return out;
}

}  // namespace detail
}  // namespace manycore
