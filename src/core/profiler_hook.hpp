// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The launch path's one link to profiling: the active profile's pointer, and where a launch
// goes when it is set.
#pragma once

#include <atomic>
#include <span>

#include "manycore/kernel_arg.hpp"
#include "manycore/module.hpp"

namespace manycore::detail {

class ProfilerState;

/// The started profile, or null: Function::launch tests it once, and reaches
/// profiled_launch only when it is set.
extern std::atomic<ProfilerState*> active_profile;

/// A launch made while a profile is started: checked and packed as usual, then run, timed and
/// recorded by the active profile (or just run, when it was stopped meanwhile).
void profiled_launch(const Function& f, const LaunchConfig& config,
                     std::span<const KernelArg> args, void* const* packed);

}  // namespace manycore::detail
