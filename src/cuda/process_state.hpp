// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Process-wide facts the CUDA backend must respect: a fork after cuInit, and the process exiting.
#pragma once

namespace manycore::cuda {

inline constexpr const char* kForkedMessage =
    "CUDA cannot be used in a process forked after CUDA was initialised; use the 'spawn' start "
    "method (multiprocessing.set_start_method('spawn')) or initialise CUDA only in the children";

/// Called once cuInit succeeded (and again after each context is created): registers the fork
/// and exit hooks. Thread-safe.
void process_state_after_init() noexcept;

/// True in a child forked after cuInit: the parent's contexts and memory are not ours to use.
bool forked_after_init() noexcept;

/// True once the process is exiting (or is such a child): destructors then leave device
/// objects to the driver's own teardown instead of calling into a driver that may be gone.
bool shutting_down() noexcept;

/// Throws DeviceUnavailable(kForkedMessage) in a forked child.
void check_not_forked();

}  // namespace manycore::cuda
