// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Host memory for CPU arrays: huge pages for large blocks, and a cache of freed large blocks.
#include "cpu/host_memory.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>

#include "manycore/error.hpp"

namespace manycore::cpu {
namespace {

constexpr std::size_t kHugePage = std::size_t{2} << 20;
constexpr std::size_t kLarge = std::size_t{4} << 20;  // NumPy's threshold for huge pages too

// Freed large blocks by size, kept resident for reuse: NumPy pays the page faults of a fresh
// output on every call; an array operation here reuses the pages of the last one of its size.
// At most an eighth of the machine's memory (and 4 GiB) is kept; a block over that is freed.
class BlockCache {
  public:
    static BlockCache& instance() {
        static auto* cache = new BlockCache();  // never destroyed: buffers may outlive statics
        return *cache;
    }
    void* take(std::size_t bytes) {
        std::lock_guard lock(mutex_);
        auto it = blocks_.find(bytes);
        if (it == blocks_.end()) return nullptr;
        void* p = it->second;
        blocks_.erase(it);
        cached_ -= bytes;
        used_ += bytes;
        return p;
    }
    void took_fresh(std::size_t bytes) {
        std::lock_guard lock(mutex_);
        used_ += bytes;
    }
    void give_back(void* p, std::size_t bytes) noexcept {
        try {
            std::lock_guard lock(mutex_);
            used_ -= bytes;
            if (cached_ + bytes <= limit_) {
                blocks_.emplace(bytes, p);
                cached_ += bytes;
                return;
            }
        } catch (...) {
            // No memory for the map node: free the block instead.
        }
        std::free(p);
    }
    std::size_t release_all() {
        std::lock_guard lock(mutex_);
        const std::size_t freed = cached_;
        for (auto& [bytes, p] : blocks_) std::free(p);
        blocks_.clear();
        cached_ = 0;
        return freed;
    }
    MemoryPoolStats stats() {
        std::lock_guard lock(mutex_);
        return {used_, used_ + cached_, blocks_.size()};
    }

  private:
    BlockCache() {
        const auto pages = static_cast<std::size_t>(::sysconf(_SC_PHYS_PAGES));
        const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
        limit_ = std::min(pages * page / 8, std::size_t{4} << 30);
    }
    std::mutex mutex_;
    std::multimap<std::size_t, void*> blocks_;
    std::size_t cached_ = 0, used_ = 0, limit_ = 0;
};

class HostBuffer final : public Buffer {
  public:
    HostBuffer(void* data, std::size_t size, std::size_t block_bytes)
        : Buffer(data, size, Device::cpu()), block_bytes_(block_bytes) {}
    ~HostBuffer() override {
        if (block_bytes_) BlockCache::instance().give_back(data(), block_bytes_);
        else std::free(data());
    }

  private:
    std::size_t block_bytes_;  // nonzero: a large block, given back to the cache
};

}  // namespace

std::shared_ptr<Buffer> allocate_host(std::size_t bytes) {
    const bool large = bytes >= kLarge;
    const std::size_t align = large ? kHugePage : 64;  // 64: a cache line, what AVX-512 loads want
    const std::size_t rounded = std::max((bytes + align - 1) / align * align, align);
    void* data = large ? BlockCache::instance().take(rounded) : nullptr;
    if (data == nullptr) {
        data = std::aligned_alloc(align, rounded);
        if (data == nullptr) {
            throw OutOfMemory("manycore.empty: cannot allocate " + std::to_string(bytes) +
                                  " bytes of host memory",
                              bytes, 0);
        }
        if (large) {
            (void)::madvise(data, rounded, MADV_HUGEPAGE);
            BlockCache::instance().took_fresh(rounded);
        }
    }
    try {
        return std::make_shared<HostBuffer>(data, bytes, large ? rounded : 0);
    } catch (...) {
        if (large) BlockCache::instance().give_back(data, rounded);
        else std::free(data);
        throw;
    }
}

MemoryPoolStats host_cache_stats() { return BlockCache::instance().stats(); }

std::size_t free_cached_host_blocks() { return BlockCache::instance().release_all(); }

}  // namespace manycore::cpu
