// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// A caching allocator of device memory, one per GPU: freed blocks are kept and reused by size class.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cuda/cuda_types.hpp"
#include "manycore/array.hpp"

namespace manycore::cuda {

class DeviceState;

/// Device memory for one GPU. cuMemAlloc costs tens of microseconds and synchronises; the pool
/// makes repeated allocations of the same sizes (the common case: arrays in a loop) free.
/// Thread-safe; never destroyed, so no driver call happens at exit.
class MemoryPool {
  public:
    explicit MemoryPool(DeviceState& device);
    MemoryPool(const MemoryPool&) = delete;
    MemoryPool& operator=(const MemoryPool&) = delete;

    /// A Buffer of `bytes` (on a block of size_class(bytes)) that returns its block to the pool
    /// when its last owner goes, from any thread. On CUDA_ERROR_OUT_OF_MEMORY the pool frees its
    /// cached blocks and tries once more, then throws OutOfMemory naming `what` (the API call),
    /// the bytes asked for and the bytes free.
    std::shared_ptr<Buffer> allocate(std::size_t bytes, std::string_view what);

    /// Frees every cached (unused) block back to the driver; returns the bytes freed.
    std::size_t free_all_blocks();
    /// Bytes in blocks that arrays hold (rounded up to their size classes).
    std::size_t used_bytes() const;
    /// Bytes the pool holds from the driver: used plus cached.
    std::size_t held_bytes() const;
    /// Blocks cached for reuse.
    std::size_t cached_blocks() const;

    /// The block size for a request: multiples of 512 bytes up to 1 MiB, then four classes per
    /// power of two (at most 25% waste). 0 when `bytes` is too large to round.
    static std::size_t size_class(std::size_t bytes) noexcept;

    /// Takes back a block (PoolBuffer's destructor). Makes no driver call unless streams are in
    /// use, and none at all once the process is exiting.
    void release(CUdeviceptr block, std::size_t block_bytes) noexcept;

  private:
    CUdeviceptr allocate_block(std::size_t block_bytes, std::size_t requested, std::string_view what);
    std::size_t free_cached_locked();

    DeviceState& device_;
    mutable std::mutex mutex_;
    std::unordered_map<std::size_t, std::vector<CUdeviceptr>> cached_;  // by block size
    std::size_t used_ = 0;
    std::size_t cached_bytes_ = 0;
    std::size_t cached_count_ = 0;
    std::once_flag release_marker_created_;
    CUevent release_marker_ = nullptr;  // see release(); written once, under the flag
};

}  // namespace manycore::cuda
