// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The CPU device's memory: from one page up, each array ends at an inaccessible page; large
// ones are backed by huge pages; freed mappings are kept for reuse.
#pragma once

#include <cstddef>
#include <memory>

#include "manycore/array.hpp"
#include "manycore/memory.hpp"

namespace manycore::cpu {

/// `bytes` of host memory for an array. Below one page: 64-byte aligned heap memory. From one
/// page up: a mapping whose last page is inaccessible (PROT_NONE), with the array's last byte
/// just before it, so a kernel that writes past the end faults at once (a KernelFault naming
/// the array) instead of corrupting the heap; aligned to the largest power of two up to 64
/// that divides `bytes` (the element size, at least). Mappings of 4 MiB and more are asked to
/// be backed by transparent huge pages. Freed mappings are kept (up to an eighth of memory, 4
/// GiB at most) for the next array of their size: a fresh block costs a page fault per page on
/// first touch, which otherwise costs more than the kernel that writes it. Throws OutOfMemory.
/// Thread-safe.
std::shared_ptr<Buffer> allocate_host(std::size_t bytes);

/// The mappings arrays hold (used_bytes) and those kept for reuse. Thread-safe.
MemoryPoolStats host_cache_stats();
/// Unmaps the kept mappings; returns their bytes. Thread-safe.
std::size_t free_cached_host_blocks();

}  // namespace manycore::cpu
