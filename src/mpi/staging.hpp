// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The memory MPI sees for an Array: its own (CPU, or a GPU with a CUDA-aware MPI) or a host copy.
#pragma once

#include <cstddef>

#include "manycore/array.hpp"

namespace manycore::mpi::detail {

/// Gives MPI a pointer for `a`. GPU arrays are staged through pinned host memory unless the
/// MPI library is CUDA-aware, in which case the device is synchronised (pending kernels finish
/// before MPI reads the buffer) and the device pointer is used.
class Staged {
  public:
    /// `what` names the call for error messages; `load` copies the array's data in now.
    Staged(const Array& a, const char* what, bool load);
    void* data() noexcept { return ptr_; }
    /// Copies the host copy back to the device (nothing for direct buffers).
    void store(Array& a) const;

  private:
    void* ptr_ = nullptr;
    Array host_;  // pinned bytes, for a GPU array with an MPI that cannot read GPU memory
    bool staged_ = false;
};

/// Throws InvalidArgument unless `a` is C-contiguous (and writable when `write`).
void require_usable(const Array& a, const char* what, bool write);
/// Waits for work queued on `a`'s device (a no-op on the CPU).
void synchronize(const Array& a);
/// A pinned host array of `a.nbytes()` bytes (uint8), for staging.
Array pinned_bytes(const Array& a);

}  // namespace manycore::mpi::detail
