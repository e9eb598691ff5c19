// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// A checked launch as lanes of blocks that run at once, and the races between the lanes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "cpu/checker.hpp"
#include "cpu/launch_lanes.hpp"

namespace manycore::cpu {

/// A checked launch. Its blocks are split into lanes, consecutive ranges of blocks, each
/// checked by a Checker of its own (variables, shadow memory, findings) and run whole by one
/// thread, so the lanes run at once on the pool with no shared shadow to contend for. Blocks
/// of different lanes are different blocks, which never synchronise: once every lane has run,
/// finish() compares the lanes' shadow cells wherever more than one lane recorded (their
/// `touched` chunks) and reports each conflict to the later lane. Findings are then merged
/// lane by lane, in lane order, so they do not depend on which thread ran which lane or when.
/// Not thread-safe; lanes are, each on one thread at a time.
class CheckedLaunch final : public LaunchLanes {
  public:
    /// `workers`: the threads that may run lanes at once (1: a single lane, all blocks).
    CheckedLaunch(std::string_view kernel, const std::vector<CheckedParam>& params, mc_dim3 grid,
                  mc_dim3 block, unsigned workers);
    ~CheckedLaunch();
    CheckedLaunch(const CheckedLaunch&) = delete;
    CheckedLaunch& operator=(const CheckedLaunch&) = delete;

    std::size_t lanes() const noexcept override { return lanes_.size(); }
    Checker& lane(std::size_t k) noexcept { return *lanes_[k]; }
    std::uint64_t first_block(std::size_t k) const noexcept override {
        return blocks_ * k / lanes_.size();
    }
    mc_check_state* state(std::size_t k) noexcept override { return lanes_[k]->state(); }
    Checker* checker(std::size_t k) noexcept override { return lanes_[k].get(); }

    /// Once the lanes have run (or stopped at a fault): the races between lanes, then the
    /// findings of all lanes merged. Call once.
    void finish();

    /// The distinct findings kept (at most Checker::kMaxKept) and how many distinct ones there
    /// were; after finish().
    const std::vector<Finding>& findings() const noexcept { return findings_; }
    std::size_t findings_total() const noexcept { return total_; }

    /// Fewer blocks per lane than this and the lanes' own cost (a shadow each, the merge)
    /// outweighs what running them at once gains.
    static constexpr std::uint64_t kMinBlocksPerLane = 16;

  private:
    void compare_lanes(std::size_t region);
    void compare_cell(std::size_t region, std::size_t chunk, std::size_t cell);

    std::vector<std::unique_ptr<Checker>> lanes_;
    std::uint64_t blocks_ = 0;
    std::vector<Finding> findings_;
    std::size_t total_ = 0;
};

/// Throws the KernelFault a checked launch with findings raises, or, with
/// MANYCORE_CHECK_COLLECT, appends them to that file and returns. Nothing when there are none.
void report_findings(const CheckedLaunch& launch, std::string_view kernel);

}  // namespace manycore::cpu
