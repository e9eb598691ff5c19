// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// A memory-profiled launch: the accesses and branches of each warp, as a GPU would serve them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cpu/checker.hpp"
#include "cpu/launch_lanes.hpp"
#include "manycore/prelude/memory_profile.h"
#include "manycore/profile.hpp"

namespace manycore::cpu {

/// One lane of a memory-profiled launch: the blocks it runs file their accesses and branches
/// into its mc_memory_state; whenever a warp's requests are complete (the next warp starts, in
/// loop mode; the block ends, with fibers) they are turned into sectors, wavefronts and
/// divergent steps. One OS thread at a time; not thread-safe.
class MemoryLane {
  public:
    MemoryLane(const std::vector<CheckedParam>& params, mc_dim3 block, bool fibers);
    MemoryLane(const MemoryLane&) = delete;
    MemoryLane& operator=(const MemoryLane&) = delete;

    mc_check_state* state() noexcept { return &state_.check; }
    /// Counts what is still in flight; once the lane has run.
    void finish();
    /// This lane's counts, added to `out` (sites matched by line, variable, space, access and
    /// width; branches by line and number).
    void add_to(MemoryProfile& out, std::unordered_map<std::string, std::size_t>& site_index,
                std::unordered_map<std::uint64_t, std::size_t>& branch_index) const;

  private:
    struct Site {
        std::uint32_t var = 0;
        AccessSite counts;
    };
    struct Branch {
        std::uint32_t id = 0;
        BranchSite counts;
    };

    static std::uint32_t on_site(mc_memory_state* s, std::uint64_t key, const mc_check_var* var);
    static void on_warp_changed(mc_memory_state* s, std::uint32_t thread);
    static void on_grow(mc_memory_state* s, std::uint32_t site, std::uint32_t warp,
                        std::uint32_t n);
    static void on_branch_grow(mc_memory_state* s, std::uint32_t id, std::uint32_t line,
                               std::uint32_t warp, std::uint32_t n);
    static mc_check_var* on_shared_var(mc_check_state* s, void* base, std::uint64_t bytes,
                                       std::uint32_t elem_size, const char* name);
    static void on_begin_block(mc_check_state* s, std::uint64_t linear);

    std::uint32_t add_site(std::uint64_t key, const mc_check_var& var);
    void add_branch_rows(std::uint32_t id, std::uint32_t line);
    void fold(std::uint32_t warp);
    void fold_all();
    // One request, whose lanes are those of `mask`.
    void count_global(AccessSite& site, const mc_mem_request& r, std::uint32_t mask) const;
    void count_shared(AccessSite& site, const mc_mem_request& r, std::uint32_t mask) const;
    void sync_pointers() noexcept;

    mc_memory_state state_{};  // first: kernel callbacks find the lane from it
    bool fibers_;
    std::vector<mc_check_var> vars_;   // parameters, then shared arrays (stable addresses:
    std::vector<std::unique_ptr<mc_check_var>> shared_vars_;  // shared ones are kept apart)
    std::vector<std::string> names_;   // by mc_check_var::id
    std::vector<Site> sites_;
    std::unordered_map<std::uint64_t, std::uint32_t> site_by_key_;
    std::vector<std::uint32_t> counts_;
    std::vector<mc_mem_table> tables_;
    std::vector<std::vector<mc_mem_request>> requests_;  // behind tables_, same index
    std::vector<Branch> branches_;     // by id
    std::vector<std::uint32_t> branch_counts_;
    std::vector<mc_branch_table> branch_tables_;
    std::vector<std::vector<mc_branch_request>> branch_requests_;
};

/// A memory-profiled launch, split into lanes (consecutive ranges of blocks) that the
/// executor runs at once, as a checked launch is; their counts are added up at the end.
class MemoryLaunch final : public LaunchLanes {
  public:
    MemoryLaunch(const std::vector<CheckedParam>& params, mc_dim3 grid, mc_dim3 block,
                 bool fibers, unsigned workers);

    std::size_t lanes() const noexcept override { return lanes_.size(); }
    std::uint64_t first_block(std::size_t k) const noexcept override {
        return blocks_ * k / lanes_.size();
    }
    mc_check_state* state(std::size_t k) noexcept override { return lanes_[k]->state(); }

    /// Every lane's counts, added up; once the launch has run.
    MemoryProfile finish();

    /// Fewer blocks per lane than this and a lane's tables cost more than running at once gains.
    static constexpr std::uint64_t kMinBlocksPerLane = 16;

  private:
    std::vector<std::unique_ptr<MemoryLane>> lanes_;
    std::uint64_t blocks_ = 0;
};

}  // namespace manycore::cpu
