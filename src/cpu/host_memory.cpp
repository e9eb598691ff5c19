// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Host memory for CPU arrays: a mapping per array with its end against a PROT_NONE page, huge
// pages for large ones, and a cache of freed mappings.
#include "cpu/host_memory.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>

#include "cpu/kernel_faults.hpp"
#include "manycore/error.hpp"

namespace manycore::cpu {
namespace {

constexpr std::size_t kLarge = std::size_t{4} << 20;  // NumPy's threshold for huge pages too

std::size_t page_size() noexcept {
    static const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    return page;
}

std::size_t round_up(std::size_t n, std::size_t to) noexcept { return (n + to - 1) / to * to; }

// Freed mappings by size, kept resident for reuse: NumPy pays the page faults of a fresh output
// on every call; an array operation here reuses the pages of the last one of its size (and a
// loop of `a + b` on small arrays saves three system calls each time).
class MappingCache {
  public:
    static MappingCache& instance() {
        static auto* cache = new MappingCache();  // never destroyed: arrays may outlive statics
        return *cache;
    }
    // A kept mapping of `total` bytes (its guard page still in place), or null.
    void* take(std::size_t total) {
        const std::lock_guard lock(mutex_);
        auto it = free_.find(total);
        if (it == free_.end()) return nullptr;
        void* base = it->second;
        free_.erase(it);
        cached_ -= total;
        used_ += total;
        return base;
    }
    void took_fresh(std::size_t total) {
        const std::lock_guard lock(mutex_);
        used_ += total;
    }
    // Keeps the mapping when there is room, else unmaps it.
    void give_back(void* base, std::size_t total) noexcept {
        try {
            const std::lock_guard lock(mutex_);
            used_ -= total;
            if (cached_ + total <= limit_) {
                free_.emplace(total, base);
                cached_ += total;
                return;
            }
        } catch (...) {
            // No memory for the map node: unmap instead.
        }
        ::munmap(base, total);
    }
    std::size_t release_all() noexcept {
        const std::lock_guard lock(mutex_);
        const std::size_t freed = cached_;
        for (auto& [total, base] : free_) ::munmap(base, total);
        free_.clear();
        cached_ = 0;
        return freed;
    }
    MemoryPoolStats stats() {
        const std::lock_guard lock(mutex_);
        return {used_, used_ + cached_, free_.size()};
    }

  private:
    MappingCache() {
        const auto pages = static_cast<std::size_t>(::sysconf(_SC_PHYS_PAGES));
        limit_ = std::min(pages * page_size() / 8, std::size_t{4} << 30);
    }
    std::mutex mutex_;
    std::multimap<std::size_t, void*> free_;
    std::size_t cached_ = 0, used_ = 0, limit_ = 0;
};

[[noreturn]] void out_of_memory(std::size_t bytes, int err) {
    throw OutOfMemory("manycore.empty: cannot allocate " + std::to_string(bytes) +
                          " bytes of host memory (" + std::strerror(err) + ")",
                      bytes, 0);
}

// Heap memory below one page; a guarded mapping from one page up.
void* allocate(std::size_t bytes) {
    const std::size_t page = page_size();
    if (bytes < page) {
        // 64-byte alignment: a cache line, and what AVX-512 loads want.
        void* data = std::aligned_alloc(64, round_up(bytes == 0 ? 1 : bytes, 64));
        if (data == nullptr) out_of_memory(bytes, ENOMEM);
        return data;
    }
    const std::size_t body = round_up(bytes, page);
    const std::size_t total = body + page;
    void* base = MappingCache::instance().take(total);
    if (base == nullptr) {
        base = ::mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (base == MAP_FAILED) out_of_memory(bytes, errno);
        if (::mprotect(static_cast<char*>(base) + body, page, PROT_NONE) != 0) {
            const int err = errno;
            ::munmap(base, total);
            out_of_memory(bytes, err);
        }
        if (bytes >= kLarge) (void)::madvise(base, body, MADV_HUGEPAGE);
        MappingCache::instance().took_fresh(total);
    }
    char* guard = static_cast<char*>(base) + body;
    char* data = guard - bytes;
    register_guarded_array(reinterpret_cast<std::uintptr_t>(data), bytes,
                           reinterpret_cast<std::uintptr_t>(guard));
    return data;
}

void release(void* data, std::size_t bytes) noexcept {
    if (data == nullptr) return;
    const std::size_t page = page_size();
    if (bytes < page) {
        std::free(data);
        return;
    }
    const std::size_t body = round_up(bytes, page);
    char* guard = static_cast<char*>(data) + bytes;
    unregister_guarded_array(reinterpret_cast<std::uintptr_t>(guard));
    MappingCache::instance().give_back(guard - body, body + page);
}

class HostBuffer final : public Buffer {
  public:
    HostBuffer(void* data, std::size_t size) : Buffer(data, size, Device::cpu()) {}
    ~HostBuffer() override { release(data(), size()); }
};

}  // namespace

std::shared_ptr<Buffer> allocate_host(std::size_t bytes) {
    void* data = allocate(bytes);
    try {
        return std::make_shared<HostBuffer>(data, bytes);
    } catch (...) {
        release(data, bytes);
        throw;
    }
}

MemoryPoolStats host_cache_stats() { return MappingCache::instance().stats(); }

std::size_t free_cached_host_blocks() { return MappingCache::instance().release_all(); }

}  // namespace manycore::cpu
