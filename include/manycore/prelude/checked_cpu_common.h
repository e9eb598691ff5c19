// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// What checked mode (checked_cpu.h) and the memory profile (memory_profile_cpu.h) share on the
// CPU: a variable is the runtime's mc_check_var, a lane's state its mc_check_state, and shared
// arrays are made per block by the runtime's shared_var. Each includer then gives `record`.
#ifndef MANYCORE_PRELUDE_CHECKED_CPU_COMMON_H
#define MANYCORE_PRELUDE_CHECKED_CPU_COMMON_H

namespace __mc {

static thread_local mc_check_state* check;

/// What a checked pointer knows of its variable: the runtime's record of it (NULL: a raw
/// pointer made checked, about which nothing is known).
using var_ref = const mc_check_var*;

// threadIdx linear, as thread_linear(), through the lane's pointer to it: a thread-local
// lookup costs a call into the dynamic loader in a library that is loaded at run time.
[[gnu::noinline, gnu::cold]] inline const uint3* remember_thread_idx(mc_check_state* s) {
    s->thread_idx = &tid;
    return &tid;
}
__attribute__((always_inline)) inline uint32_t recorded_thread(mc_check_state* s) {
    const void* where = s->thread_idx;
    const uint3* t = __builtin_expect(where != nullptr, 1) ? static_cast<const uint3*>(where)
                                                           : remember_thread_idx(s);
    return t->x + t->y * s->block_x + t->z * s->block_xy;
}

// A raw pointer taken from a checked one: the array's bytes may now change unseen, so reads
// of bytes nobody wrote are no longer reported for it.
inline void escape(var_ref v) {
    if (v != nullptr && v->region != nullptr) v->region->check_uninit = 0;
}

// Where an out-of-bounds access of a record goes instead: a value of this OS thread.
template <class T>
inline T& scratch() {
    static thread_local T value;
    value = T{};
    return value;
}

template <class T>
class checked_ptr;

// A shared array of the running block, as a checked pointer to its first row or element.
template <class A>
inline checked_ptr<std::remove_extent_t<A>> shared_array(A& storage, const char* name) {
    using E = std::remove_all_extents_t<A>;
    void* base = (void*)&storage;  // NOLINT: drops the element type's cv-qualifiers
    mc_check_var* v = check->shared_var(check, base, sizeof(A), sizeof(E), name);
    return checked_ptr<std::remove_extent_t<A>>(storage, v);
}
template <class E>
inline checked_ptr<E> dynamic_shared_array(const char* name) {
    void* base = dynamic_shared;
    mc_check_var* v = check->shared_var(check, base, launch->dynamic_shared_bytes, sizeof(E), name);
    return checked_ptr<E>(static_cast<E*>(base), v);
}

}  // namespace __mc

#define MC_CHECKED_PRINTF __mc_printf

#endif  // MANYCORE_PRELUDE_CHECKED_CPU_COMMON_H
