// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The CPU device's memory: aligned blocks, large ones backed by huge pages and kept for reuse.
#pragma once

#include <cstddef>
#include <memory>

#include "manycore/array.hpp"
#include "manycore/memory.hpp"

namespace manycore::cpu {

/// `bytes` of host memory for an array, 64-byte aligned. Large blocks (4 MiB and more) are
/// 2 MiB aligned and asked to be backed by transparent huge pages, and when freed they are
/// kept (up to a limit) for the next allocation of their size: a fresh block costs a page
/// fault per page on first touch, which otherwise costs more than the kernel that writes it.
/// Throws OutOfMemory. Thread-safe.
std::shared_ptr<Buffer> allocate_host(std::size_t bytes);

/// The kept blocks (used_bytes: in blocks arrays hold, large ones only). Thread-safe.
MemoryPoolStats host_cache_stats();
/// Frees the kept blocks; returns their bytes. Thread-safe.
std::size_t free_cached_host_blocks();

}  // namespace manycore::cpu
