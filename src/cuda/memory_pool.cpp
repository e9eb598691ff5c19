// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The caching device-memory pool: size classes, reuse, emptying and a retry on out-of-memory.
#include "cuda/memory_pool.hpp"

#include <bit>
#include <string>

#include "cuda/context.hpp"
#include "cuda/process_state.hpp"
#include "manycore/error.hpp"

namespace manycore::cuda {
namespace {

class PoolBuffer final : public Buffer {
  public:
    PoolBuffer(MemoryPool& pool, CUdeviceptr block, std::size_t block_bytes, std::size_t bytes,
               const Device& device)
        : Buffer(reinterpret_cast<void*>(block), bytes, device), pool_(pool),
          block_bytes_(block_bytes) {}
    ~PoolBuffer() override {
        pool_.release(reinterpret_cast<CUdeviceptr>(data()), block_bytes_);
    }

  private:
    MemoryPool& pool_;
    std::size_t block_bytes_;
};

}  // namespace

MemoryPool::MemoryPool(DeviceState& device) : device_(device) {}

std::size_t MemoryPool::size_class(std::size_t bytes) noexcept {
    constexpr std::size_t kSmallStep = 512;
    constexpr std::size_t kSmallLimit = std::size_t{1} << 20;
    if (bytes <= kSmallStep) return kSmallStep;  // also 0: cuMemAlloc refuses empty blocks
    if (bytes <= kSmallLimit) return (bytes + kSmallStep - 1) / kSmallStep * kSmallStep;
    const std::size_t step = std::bit_floor(bytes) / 4;
    if (bytes > SIZE_MAX - step) return 0;
    return (bytes + step - 1) / step * step;
}

std::shared_ptr<Buffer> MemoryPool::allocate(std::size_t bytes, std::string_view what) {
    device_.check_usable();  // a cached block of a forked parent or a lost context is no use
    const std::size_t block_bytes = size_class(bytes);
    CUdeviceptr block = 0;
    {
        std::lock_guard lock(mutex_);
        auto it = cached_.find(block_bytes);
        if (it != cached_.end() && !it->second.empty()) {
            block = it->second.back();
            it->second.pop_back();
            cached_bytes_ -= block_bytes;
            --cached_count_;
            used_ += block_bytes;
        }
    }
    if (block == 0) block = allocate_block(block_bytes, bytes, what);
    try {
        return std::make_shared<PoolBuffer>(*this, block, block_bytes, bytes, device_.device());
    } catch (...) {
        release(block, block_bytes);
        throw;
    }
}

CUdeviceptr MemoryPool::allocate_block(std::size_t block_bytes, std::size_t requested,
                                       std::string_view what) {
    const auto& api = device_.api();
    ScopedContext scope(device_);
    const std::string where = std::string(what) + " on " + device_.name();
    CUdeviceptr block = 0;
    CUresult r = block_bytes == 0 ? CUDA_ERROR_OUT_OF_MEMORY : api.cuMemAlloc(&block, block_bytes);
    if (r == CUDA_ERROR_OUT_OF_MEMORY && block_bytes != 0) {
        // The cached blocks may be what is missing: give them back and try once more.
        std::lock_guard lock(mutex_);
        if (free_cached_locked() > 0) r = api.cuMemAlloc(&block, block_bytes);
    }
    if (r == CUDA_ERROR_OUT_OF_MEMORY) {
        std::size_t free_bytes = 0, total = 0;
        (void)api.cuMemGetInfo(&free_bytes, &total);
        throw OutOfMemory(std::string(what) + ": cannot allocate " + std::to_string(requested) + " bytes (" +
                              format_bytes(requested) + ") on " + device_.name() + ": " +
                              std::to_string(free_bytes) + " bytes (" + format_bytes(free_bytes) + ")" +
                              " free of " + format_bytes(total) +
                              "; free arrays or call manycore.cuda.memory_pool().free_all_blocks()",
                          requested, free_bytes);
    }
    device_.check(r, "cuMemAlloc", where);
    std::lock_guard lock(mutex_);
    used_ += block_bytes;
    return block;
}

void MemoryPool::release(CUdeviceptr block, std::size_t block_bytes) noexcept {
    if (shutting_down()) return;  // the driver frees everything at exit; a forked child owns nothing
    if (device_.streams_used()) {
        // A block freed while work on another stream may still read it must not be handed to
        // the next kernel before that work ends. A marker on the legacy default stream waits for
        // everything queued so far on blocking streams, and every later operation on a blocking
        // stream waits for the marker: the block's next use is ordered after its last one.
        // Streams created with CU_STREAM_NON_BLOCKING by other libraries are not covered.
        // The record runs outside mutex_: a driver call that waits (as every call may under
        // compute-sanitizer) must not hold up threads that only want the free list.
        try {
            ScopedContext scope(device_);
            const auto& api = device_.api();
            std::call_once(release_marker_created_, [&] {
                if (api.cuEventCreate(&release_marker_, CU_EVENT_DISABLE_TIMING) != CUDA_SUCCESS)
                    release_marker_ = nullptr;
            });
            if (release_marker_) (void)api.cuEventRecord(release_marker_, nullptr);
        } catch (...) {
            // A lost context: nothing will run on this block again anyway.
        }
    }
    try {
        std::lock_guard lock(mutex_);
        cached_[block_bytes].push_back(block);
        used_ -= block_bytes;
        cached_bytes_ += block_bytes;
        ++cached_count_;
    } catch (...) {
        // Out of host memory for the free list: the block leaks, which is harmless.
    }
}

std::size_t MemoryPool::free_all_blocks() {
    std::lock_guard lock(mutex_);
    if (cached_count_ == 0) return 0;
    ScopedContext scope(device_);
    return free_cached_locked();
}

std::size_t MemoryPool::free_cached_locked() {
    // The caller holds mutex_ and has made the context current.
    const auto& api = device_.api();
    if (cached_count_ == 0) return 0;
    // Queued work may still use a cached block (freed by its array, not yet run): wait for it.
    (void)api.cuCtxSynchronize();
    std::size_t freed = 0;
    for (auto& [bytes, blocks] : cached_) {
        for (CUdeviceptr b : blocks) {
            (void)api.cuMemFree(b);
            freed += bytes;
        }
        blocks.clear();
    }
    cached_.clear();
    cached_bytes_ = 0;
    cached_count_ = 0;
    return freed;
}

std::size_t MemoryPool::used_bytes() const {
    std::lock_guard lock(mutex_);
    return used_;
}

std::size_t MemoryPool::held_bytes() const {
    std::lock_guard lock(mutex_);
    return used_ + cached_bytes_;
}

std::size_t MemoryPool::cached_blocks() const {
    std::lock_guard lock(mutex_);
    return cached_count_;
}

}  // namespace manycore::cuda
