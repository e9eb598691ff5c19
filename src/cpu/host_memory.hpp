// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The memory of manycore's own CPU arrays: from one page up, each ends at an inaccessible page.
#pragma once

#include <cstddef>

namespace manycore::cpu {

/// `bytes` of host memory for an array. Below one page: 64-byte aligned heap memory. From one
/// page up: a mapping whose last page is inaccessible (PROT_NONE), with the array's last byte
/// just before it, so a kernel that writes past the end faults at once (a KernelFault naming
/// the array) instead of corrupting the heap; aligned to the largest power of two up to 64
/// that divides `bytes` (the element size, at least). Freed mappings are kept for reuse, up to
/// a bound, as malloc keeps its blocks. Throws OutOfMemory. Thread-safe.
void* allocate_host(std::size_t bytes);

/// Gives back what allocate_host(bytes) returned. Thread-safe.
void free_host(void* data, std::size_t bytes) noexcept;

}  // namespace manycore::cpu
