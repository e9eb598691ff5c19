// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Copies between two GPUs: peer to peer where the driver allows it, through host memory otherwise.
#pragma once

#include <cstddef>

#include "cuda/context.hpp"
#include "cuda/cuda_types.hpp"

namespace manycore::cuda {

/// Whether copies between `a` and `b` go peer to peer: MANYCORE_PEER_COPY allows it, the
/// driver says each can reach the other, and peer access has been enabled both ways (on the
/// first call for the pair; the answer is kept). Thread-safe.
bool peer_enabled(DeviceState& a, DeviceState& b);

/// Copies `bytes` from `src` on `from` to `dst` on `to` peer to peer (peer_enabled must have
/// said yes). On `stream` (of either device) it is queued and returns at once; without, it
/// comes after the work queued on both devices and has finished on return.
void peer_copy(DeviceState& to, CUdeviceptr dst, DeviceState& from, CUdeviceptr src, std::size_t bytes,
               CUstream stream, bool async);

/// Copies `bytes` from `src` on `from` to `dst` on `to` through pinned host memory, in chunks
/// whose way up overlaps the next one's way down; it comes after the work queued on the
/// default streams (and on `from_stream`/`to_stream`, when given) and has finished on return.
/// Thread-safe (concurrent staged copies take turns with the staging buffers).
void staged_copy(DeviceState& to, CUdeviceptr dst, CUstream to_stream, DeviceState& from, CUdeviceptr src,
                 CUstream from_stream, std::size_t bytes);

}  // namespace manycore::cuda
