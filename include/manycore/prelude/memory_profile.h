// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The C contract of the memory profile between the CPU runtime and a kernel library.
//
// A module built for the memory profile (MC_MEMORY_PROFILE, on top of checked mode's rewrite
// and proxies) hands every access through a pointer parameter or a shared array, and every
// branch condition, to the lane's mc_memory_state. The kernel side (memory_profile_cpu.h)
// files lane i's n-th execution of an access site (line, variable, load or store, width) into
// the n-th request of that site for lane i's warp, and the runtime (src/cpu/memory_launch.cpp)
// turns each complete warp's requests into sectors, bank-conflict wavefronts and divergent
// branches. Plain C, seen by both sides, like abi.h.
#ifndef MANYCORE_PRELUDE_MEMORY_PROFILE_H
#define MANYCORE_PRELUDE_MEMORY_PROFILE_H

#include "abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/// Entries of the kernel side's cache of site keys (a power of two).
#define MC_MEM_SITE_CACHE 256u
/// A key no site has (line 0xffffffff).
#define MC_MEM_NO_KEY (~(uint64_t)0)

/// Where `key` goes in the kernel side's cache (both sides fill it).
static inline uint32_t mc_mem_site_slot(uint64_t key) {
    return (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> 56) & (MC_MEM_SITE_CACHE - 1u);
}

/// One warp-level request of an access site: the offset each lane accessed, from the start of
/// its variable. Which lanes took part needs no store: lane l took part in request n when it
/// executed the site more than n times (its count).
typedef struct mc_mem_request {
    uint64_t offset[32];
} mc_mem_request;

/// The requests of one site for one warp of the running block, by execution number.
typedef struct mc_mem_table {
    mc_mem_request* requests;
    uint32_t capacity;
    uint32_t reserved;
} mc_mem_table;

/// One warp-level execution of a branch: each lane's way (1: the condition was true); the
/// lanes that evaluated it follow from their counts, as for accesses.
typedef struct mc_branch_request {
    uint8_t taken[32];
} mc_branch_request;

typedef struct mc_branch_table {
    mc_branch_request* requests;
    uint32_t capacity;
    uint32_t reserved;
} mc_branch_table;

/// The state of one lane of a memory-profiled launch. Kernel code reaches it from a
/// variable's `state` (an access) or from the lane's mc_check_state (a branch).
typedef struct mc_memory_state {
    mc_check_state check;  // first: the checked prelude's entry points use it as theirs
    // The warp whose lanes record now, and the thread of the first slot: threads run one after
    // the other in loop mode, so only one warp is in flight there (slot = thread - 32 * warp);
    // fibers interleave the warps of a block, so there every thread has its slot.
    uint32_t warp;
    uint32_t thread_base;
    uint32_t slots;  // thread slots per site: 32, or the block's threads rounded up to 32
    uint32_t warps;  // slots / 32
    uint32_t sites;  // access sites known (rows of counts and tables)
    uint32_t branch_sites;  // branch ids with rows (ids below this)
    uint64_t site_keys[MC_MEM_SITE_CACHE];  // key: line << 32 | id << 16 | access << 12 | size
    uint32_t site_index[MC_MEM_SITE_CACHE];
    uint32_t* counts;                // [site * slots + slot]: executions of the site so far
    mc_mem_table* tables;            // [site * warps + warp]
    uint32_t* branch_counts;         // [id * slots + slot]
    mc_branch_table* branch_tables;  // [id * warps + warp]
    uint64_t out_of_bounds;          // accesses outside their variable (not made, not counted)
    /// The index of the site `key` of `var` (registered on first sight); fills the cache.
    uint32_t (*site)(struct mc_memory_state* s, uint64_t key, const mc_check_var* var);
    /// A thread of another warp than `warp` records: loop mode folds the finished warp.
    void (*warp_changed)(struct mc_memory_state* s, uint32_t thread);
    /// The table of (site, warp) must hold request `n`.
    void (*grow)(struct mc_memory_state* s, uint32_t site, uint32_t warp, uint32_t n);
    /// Branch `id` (at `line`) must have rows, and its table of `warp` hold request `n`.
    void (*branch_grow)(struct mc_memory_state* s, uint32_t id, uint32_t line, uint32_t warp,
                        uint32_t n);
} mc_memory_state;

#ifdef __cplusplus
}
#endif

#endif  // MANYCORE_PRELUDE_MEMORY_PROFILE_H
