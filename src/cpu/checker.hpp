// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The runtime side of a checked launch: variables, shadow memory, barrier checks, findings.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/finding_report.hpp"
#include "manycore/finding.hpp"
#include "manycore/prelude/abi.h"

namespace manycore::cpu {

/// A pointer parameter of a checked launch: its name and what the caller passed.
struct CheckedParam {
    std::string name;
    bool pointer = false;
    std::uint32_t elem_size = 0;   // of the pointee; 0 for void*
    std::uint32_t lane_size = 0;   // of one lane of a vector type, else elem_size
    const void* address = nullptr;
    std::size_t extent_bytes = 0;  // from `address` to the end of the array or view
    bool extent_known = false;     // false for raw pointers from C++
    bool writable = false;         // a pointer to non-const
};

struct ShadowBuffer;

/// One lane of a checked launch (CheckedLaunch): the blocks it runs see its variables and its
/// own shadow memory, as if they were the whole launch. Kernel code reaches it through state()
/// (abi.h's mc_check_state); the fiber scheduler calls the block, barrier and warp hooks. Runs
/// on one OS thread at a time; not thread-safe.
class Checker {
  public:
    Checker(std::string_view kernel, std::vector<CheckedParam> params, mc_dim3 grid,
            mc_dim3 block);
    ~Checker();
    Checker(const Checker&) = delete;
    Checker& operator=(const Checker&) = delete;

    mc_check_state* state() noexcept { return &state_; }

    /// Before the threads of block `linear` run: fresh shared memory, no barrier passed.
    void begin_block(std::uint64_t linear);
    /// The line of the barrier or warp intrinsic the running thread is entering.
    std::uint32_t site() const noexcept { return state_.site_line; }
    /// Every live thread of the block passed a barrier.
    void barrier_passed() noexcept {
        settle_uninitialized_reads();
        state_.block_epoch = generation_ | ((state_.block_epoch + 1) & 0xffffffu);
    }
    /// The uninitialized reads of shared memory since the last barrier that no other thread's
    /// write followed become findings (at a barrier, a block's end, the lane's end).
    void settle_uninitialized_reads() noexcept;
    /// A warp collective of warp `w` completed.
    void warp_synced(std::uint32_t w) noexcept { ++warp_epochs_[w]; }

    /// Threads of the running block released from one barrier wait at different barriers
    /// (sites: line and column, as the prelude's __syncthreads gives them).
    void barrier_sites_differ(mc_dim3 block, mc_dim3 thread, std::uint32_t site,
                              mc_dim3 other_thread, std::uint32_t other_site);
    /// A barrier released while `returned` had returned without reaching it.
    void barrier_skipped(mc_dim3 block, mc_dim3 waiting, std::uint32_t site, mc_dim3 returned);
    /// The line and the column of a barrier's or warp intrinsic's site.
    static std::uint32_t site_line(std::uint32_t site) noexcept { return site & 0xfffffu; }
    static std::uint32_t site_column(std::uint32_t site) noexcept { return site >> 20 & 0x7ffu; }
    /// A warp collective completed without lanes its mask names (`missing`), which exited or
    /// do not exist.
    void warp_lanes_missing(mc_dim3 block, mc_dim3 thread, std::uint32_t line,
                            std::uint32_t mask, std::uint32_t missing, bool nonexistent);
    /// Threads wait at a barrier while others wait in a warp collective for them: the block
    /// can never finish. `thread` waits at `line` (a barrier), `other_thread` at `other_line`.
    void deadlocked(mc_dim3 block, mc_dim3 thread, std::uint32_t line, bool in_warp,
                    mc_dim3 other_thread, std::uint32_t other_line, bool other_in_warp);

    /// The block the lane's kernel code runs now, and its thread where kernel code has told it
    /// (by a checked access in this block; fiber mode knows it without).
    std::uint64_t running_block_linear() const noexcept {
        return (state_.self_base - 1u) / state_.threads_per_block;
    }
    mc_dim3 running_block() const noexcept { return block_of(state_.self_base); }
    std::optional<mc_dim3> running_thread() const noexcept;
    /// An arithmetic fault (integer division by zero) of `thread` in `block`: a finding.
    void arithmetic_fault(const std::string& what, mc_dim3 block, std::optional<mc_dim3> thread);
    /// Ctrl-C stopped `thread` of `block` while it ran: most likely it waits in a loop for
    /// another thread of its block, which on the CPU runs only after it.
    void spin_wait(mc_dim3 block, std::optional<mc_dim3> thread);

    /// The distinct findings kept (at most kMaxKept), each with its key (what makes it
    /// distinct), and the keys of every distinct finding seen (at most kMaxSeen).
    const std::vector<Finding>& findings() const noexcept { return findings_; }
    const std::vector<std::string>& finding_keys() const noexcept { return keys_; }
    const std::unordered_set<std::string>& seen() const noexcept { return seen_; }

    /// The shadow of the pointer parameters, region by region; every lane of a launch has the
    /// same regions over the same memory, with cells and touched chunks of its own.
    std::size_t regions() const noexcept { return regions_.size(); }
    const mc_check_region& region(std::size_t g) const noexcept { return regions_[g]; }
    std::size_t region_cells(std::size_t g) const noexcept { return region_cells_[g]; }
    /// Whether a record in this lane's shadow is of this launch (else it counts as none).
    bool current(const mc_access& a) const noexcept {
        return a.thread != 0 && (a.block_epoch >> 24) == (generation_ >> 24);
    }
    /// A race the cross-lane merge found: `self`, an access of this lane to `address` in
    /// region `g`, and `other`, an access of an earlier lane.
    void lane_race(std::size_t g, std::uintptr_t address, const mc_access& self,
                   std::uint8_t access, const mc_access& other, std::uint8_t other_access);

    static constexpr std::size_t kMaxKept = detail::kFindingsKept;
    static constexpr std::size_t kMaxPending = 4096;
    static constexpr std::size_t kMaxSeen = 100000;

  private:
    struct Shared {
        mc_check_var var{};
        mc_check_region region{};
        std::vector<mc_shadow_cell> cells;
        std::vector<std::uint8_t> touched;  // never read: a block's shared memory is its own
    };

    static mc_check_var* on_shared_var(mc_check_state* s, void* base, std::uint64_t bytes,
                                       std::uint32_t elem_size, const char* name);
    static void on_report(mc_check_state* s, const mc_check_event* e);
    static void on_begin_block(mc_check_state* s, std::uint64_t linear);

    mc_check_var* shared_var(void* base, std::uint64_t bytes, std::uint32_t elem_size,
                             const char* name);
    void report(const mc_check_event& e);
    void add(Finding f, std::string key);
    /// A barrier-divergence finding of `thread` at `line` in `block`; with `other_thread`, the
    /// thread of the same block it diverged from, at `other_line`. The message is the caller's.
    Finding barrier_finding(mc_dim3 block, mc_dim3 thread, std::uint32_t line,
                            const mc_dim3* other_thread = nullptr,
                            std::uint32_t other_line = 0) const;
    std::string variable_name(const mc_check_var& v) const;
    std::string aliases(const mc_check_var& v, std::uintptr_t address) const;
    mc_dim3 block_of(std::uint32_t thread) const noexcept;
    mc_dim3 thread_of(std::uint32_t thread) const noexcept;

    mc_check_state state_{};  // first, so kernel callbacks find the Checker from it
    std::string kernel_;
    std::vector<CheckedParam> params_;
    mc_dim3 grid_;
    mc_dim3 block_;
    std::vector<mc_check_var> param_vars_;
    std::vector<mc_check_region> regions_;
    std::vector<std::size_t> region_cells_;
    std::vector<std::vector<std::uint8_t>> touched_;  // per region, MC_CHECK_CHUNK_SHIFT
    std::unique_ptr<ShadowBuffer> shadow_;
    std::vector<std::string> names_;  // by mc_check_var::id: parameters, then shared arrays
    std::vector<std::unique_ptr<Shared>> shared_;  // reused from block to block
    std::size_t shared_used_ = 0;
    std::vector<std::uint16_t> warp_epochs_;
    struct Pending {  // an uninitialized read, until the next barrier decides it
        Finding finding;
        std::string key;
        const mc_shadow_cell* cell;
        std::uint32_t reader;  // its thread, as mc_access::thread
    };
    std::vector<Pending> pending_;
    std::vector<Finding> findings_;
    std::vector<std::string> keys_;
    std::unordered_set<std::string> seen_;
    std::uint32_t generation_ = 0;  // this launch's, in the high 8 bits of every block epoch
};

}  // namespace manycore::cpu
