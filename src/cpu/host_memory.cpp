// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Guarded host memory for arrays: a mapping per array, its end against a PROT_NONE page.
#include "cpu/host_memory.hpp"

#include <sys/mman.h>
#include <unistd.h>

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

// Mappings freed and kept for the next array of the same size: a loop of `a + b` on arrays
// of a few pages would otherwise pay three system calls and a fault per page each time.
constexpr std::size_t kCachedBytes = std::size_t{64} << 20;

std::size_t page_size() noexcept {
    static const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    return page;
}

std::size_t round_up(std::size_t n, std::size_t to) noexcept { return (n + to - 1) / to * to; }

class MappingCache {
  public:
    // A cached mapping of `total` bytes (its guard page still in place), or null.
    void* take(std::size_t total) {
        const std::lock_guard lock(mutex_);
        auto it = free_.find(total);
        if (it == free_.end()) return nullptr;
        void* base = it->second;
        free_.erase(it);
        cached_ -= total;
        return base;
    }
    // Keeps the mapping when there is room, else unmaps it.
    void give_back(void* base, std::size_t total) noexcept {
        {
            const std::lock_guard lock(mutex_);
            if (cached_ + total <= kCachedBytes) {
                try {
                    free_.emplace(total, base);
                    cached_ += total;
                    return;
                } catch (...) {
                }
            }
        }
        ::munmap(base, total);
    }

  private:
    std::mutex mutex_;
    std::multimap<std::size_t, void*> free_;
    std::size_t cached_ = 0;
};

MappingCache& cache() {
    static auto* c = new MappingCache();  // arrays may outlive static destructors
    return *c;
}

[[noreturn]] void out_of_memory(std::size_t bytes, int err) {
    throw OutOfMemory("manycore.empty: cannot allocate " + std::to_string(bytes) +
                          " bytes of host memory (" + std::strerror(err) + ")",
                      bytes, 0);
}

}  // namespace

void* allocate_host(std::size_t bytes) {
    const std::size_t page = page_size();
    if (bytes < page) {
        // 64-byte alignment: a cache line, and what AVX-512 loads want.
        void* data = std::aligned_alloc(64, round_up(bytes == 0 ? 1 : bytes, 64));
        if (data == nullptr) out_of_memory(bytes, ENOMEM);
        return data;
    }
    const std::size_t body = round_up(bytes, page);
    const std::size_t total = body + page;
    void* base = cache().take(total);
    if (base == nullptr) {
        base = ::mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (base == MAP_FAILED) out_of_memory(bytes, errno);
        if (::mprotect(static_cast<char*>(base) + body, page, PROT_NONE) != 0) {
            const int err = errno;
            ::munmap(base, total);
            out_of_memory(bytes, err);
        }
    }
    char* guard = static_cast<char*>(base) + body;
    char* data = guard - bytes;
    register_guarded_array(reinterpret_cast<std::uintptr_t>(data), bytes,
                           reinterpret_cast<std::uintptr_t>(guard));
    return data;
}

void free_host(void* data, std::size_t bytes) noexcept {
    if (data == nullptr) return;
    const std::size_t page = page_size();
    if (bytes < page) {
        std::free(data);
        return;
    }
    const std::size_t body = round_up(bytes, page);
    char* guard = static_cast<char*>(data) + bytes;
    unregister_guarded_array(reinterpret_cast<std::uintptr_t>(guard));
    cache().give_back(guard - body, body + page);
}

}  // namespace manycore::cpu
