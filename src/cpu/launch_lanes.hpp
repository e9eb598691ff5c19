// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// A launch run as lanes: what the executor needs of checked mode and of the memory profile.
#pragma once

#include <cstddef>
#include <cstdint>

#include "manycore/prelude/abi.h"

namespace manycore::cpu {

class Checker;

/// A launch whose blocks are split into lanes, consecutive ranges of blocks, each run whole by
/// one thread with a state of its own (mc_launch::check), so that the lanes run at once with
/// nothing shared between them. Checked launches (CheckedLaunch) and memory-profiled launches
/// (MemoryLaunch) are such launches.
class LaunchLanes {
  public:
    virtual ~LaunchLanes() = default;
    virtual std::size_t lanes() const noexcept = 0;
    /// The blocks of lane k (linear ids) are [first_block(k), first_block(k + 1)).
    virtual std::uint64_t first_block(std::size_t k) const noexcept = 0;
    /// The state kernel code of lane k sees as `mc_launch::check`.
    virtual mc_check_state* state(std::size_t k) noexcept = 0;
    /// The checker the fiber scheduler reports barrier divergence to; none by default.
    virtual Checker* checker(std::size_t) noexcept { return nullptr; }
};

}  // namespace manycore::cpu
