// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The memory profile on the CPU: what checked.h needs of a device, recording instead of checking.
//
// A module built for the memory profile is a checked module (the same rewrite, the same
// checked pointers and shared arrays) whose `record` files each access into its warp's
// requests (memory_profile.h) instead of checking it against shadow memory, and whose branch
// conditions, wrapped by the source analysis as `::__mc::branch(id, line, (cond))`, file each
// evaluation the same way. Bounds are still checked: an access outside its variable is not
// made (a read yields zero) and is counted, never filed.
#ifndef MANYCORE_PRELUDE_MEMORY_PROFILE_CPU_H
#define MANYCORE_PRELUDE_MEMORY_PROFILE_CPU_H

#include "memory_profile.h"
#include "checked_cpu_common.h"

namespace __mc {

__attribute__((always_inline)) inline mc_memory_state* memory_state(mc_check_state* s) {
    return reinterpret_cast<mc_memory_state*>(s);
}

// The slot of the running thread, once `warp` is its warp (loop mode folds a finished warp
// when the next one starts).
__attribute__((always_inline)) inline uint32_t memory_slot(mc_memory_state* s) {
    const uint32_t thread = recorded_thread(&s->check);
    if (__builtin_expect((thread >> 5) != s->warp, 0)) s->warp_changed(s, thread);
    return thread - s->thread_base;
}

__attribute__((always_inline)) inline uint32_t site_of(mc_memory_state* s, uint64_t key,
                                                       const mc_check_var* var) {
    const uint32_t h = mc_mem_site_slot(key);
    return __builtin_expect(s->site_keys[h] == key, 1) ? s->site_index[h] : s->site(s, key, var);
}

// Files one access of `size` bytes at `address` through `var`; false when it is outside the
// variable (then it must not happen).
__attribute__((always_inline)) inline bool record(const mc_check_var* var,
                                                  const volatile void* address, uint32_t size,
                                                  uint8_t access, unsigned line) {
    if (var == nullptr) return true;  // a raw pointer made checked: not a variable we know
    const auto addr = reinterpret_cast<uintptr_t>(const_cast<const void*>(address));
    mc_memory_state* s = memory_state(var->state);
    uintptr_t end;
    if (__builtin_expect(__builtin_add_overflow(addr - var->begin, uintptr_t{size}, &end) ||
                             end > var->end - var->begin,
                         0)) {
        ++s->out_of_bounds;
        return false;
    }
    const uint32_t slot = memory_slot(s);
    const uint64_t key = uint64_t{line} << 32 | uint64_t{var->id & 0xffffu} << 16 |
                         uint64_t{access & 0xfu} << 12 | (size < 0xfffu ? size : 0xfffu);
    const uint32_t site = site_of(s, key, var);
    const uint32_t n = s->counts[site * s->slots + slot]++;
    const uint32_t warp = slot >> 5;
    mc_mem_table* t = &s->tables[site * s->warps + warp];
    if (__builtin_expect(n >= t->capacity, 0)) s->grow(s, site, warp, n);
    t->requests[n].offset[slot & 31u] = addr - var->begin;
    return true;
}

// One evaluation of branch `id`'s condition (the source analysis numbers the branches of a
// module and wraps each condition); the condition's value, unchanged.
template <class C>
__attribute__((always_inline)) constexpr bool branch(unsigned id, unsigned line, C&& condition) {
    const bool taken = static_cast<bool>(std::forward<C>(condition));
    if (std::is_constant_evaluated() || check == nullptr) return taken;
    mc_memory_state* s = memory_state(check);
    const uint32_t slot = memory_slot(s);
    if (__builtin_expect(id >= s->branch_sites, 0)) s->branch_grow(s, id, line, 0, 0);
    const uint32_t n = s->branch_counts[id * s->slots + slot]++;
    const uint32_t warp = slot >> 5;
    mc_branch_table* t = &s->branch_tables[id * s->warps + warp];
    if (__builtin_expect(n >= t->capacity, 0)) s->branch_grow(s, id, line, warp, n);
    t->requests[n].taken[slot & 31u] = taken;
    return taken;
}

}  // namespace __mc

#endif  // MANYCORE_PRELUDE_MEMORY_PROFILE_CPU_H
