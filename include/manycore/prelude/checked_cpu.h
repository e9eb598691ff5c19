// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Checked mode on the CPU: every access is checked for bounds and recorded in shadow memory.
//
// What checked.h needs of a device (var_ref, record, escape, scratch, the shared arrays) for the
// CPU: a variable is the runtime's mc_check_var, and an access, besides its bounds, updates the
// shadow cells of the bytes it touches: last writer and one reader, each with its thread and
// barrier interval. A conflict is reported to the runtime (abi.h, mc_check_state), which keeps
// the distinct findings.
#ifndef MANYCORE_PRELUDE_CHECKED_CPU_H
#define MANYCORE_PRELUDE_CHECKED_CPU_H

#include "checked_cpu_common.h"

namespace __mc {

// A cell no plain write reached but an atomic did (its writer stays "none", so no race).
constexpr uint32_t kWrittenByAtomic = 0xffffffffu;

// Who is accessing memory now, as plain scalars (kept in registers on the hot path).
struct accessor {
    uint32_t self;        // 1 + block_base + thread: mc_access.thread
    uint32_t block_base;  // block_linear * threads_per_block
    uint32_t thread;      // linear index in the block
    uint32_t block_epoch;
    uint32_t warp_epoch;
    uint32_t line;
    mc_access record() const {
        return mc_access{self, block_epoch, static_cast<uint16_t>(warp_epoch),
                         static_cast<uint16_t>(line)};
    }
};

__attribute__((always_inline)) inline accessor current_accessor(const mc_check_state* s,
                                                                unsigned line) {
    accessor a;
    a.thread = thread_linear();
    a.self = s->self_base + a.thread;
    a.block_base = s->self_base - 1u;
    a.block_epoch = s->block_epoch;
    a.warp_epoch = s->warp_epochs[a.thread >> 5];
    a.line = line;
    return a;
}

// Whether an earlier access may run at the same time as this one: another block's access
// always may (blocks never synchronise); one of this block only in the same barrier interval,
// and within one warp only when no warp collective came between.
__attribute__((always_inline)) inline bool concurrent(const mc_access& earlier, const accessor& now,
                                                      uint32_t threads_per_block) {
    if (earlier.thread == 0 || earlier.thread == now.self) return false;
    if ((earlier.block_epoch ^ now.block_epoch) >> 24) return false;  // an earlier launch's
    const uint32_t thread = earlier.thread - 1u - now.block_base;
    if (thread >= threads_per_block) return true;
    if (earlier.block_epoch != now.block_epoch) return false;
    return (thread >> 5) != (now.thread >> 5) ||
           earlier.warp_epoch == static_cast<uint16_t>(now.warp_epoch);
}

// Out of line and by value, so the hot path never has to keep its records in memory.
[[gnu::noinline, gnu::cold]] inline void report(uint8_t kind, uint8_t access, const mc_check_var* var,
                                                uintptr_t address, uint32_t size, accessor who,
                                                mc_access other, uint8_t other_access) {
    mc_check_state* s = var->state;
    mc_check_event e{};
    e.kind = kind;
    e.access = access;
    e.other_access = other_access;
    e.size = size;
    e.var = var;
    e.address = address;
    e.self = who.record();
    e.other = other;
    s->report(s, &e);
}

__attribute__((always_inline)) inline void store(mc_access& slot, const accessor& who) {
    slot.thread = who.self;
    slot.block_epoch = who.block_epoch;
    slot.warp_epoch = static_cast<uint16_t>(who.warp_epoch);
    slot.line = static_cast<uint16_t>(who.line);
}

// A record's thread and block epoch as one word (the first 8 bytes of mc_access), so the hot
// path tells "this very thread in this interval" and "no record of this launch" apart in one
// comparison each; the launch's generation is then the top 8 bits.
__attribute__((always_inline)) inline uint64_t stamp(const mc_access& a) {
    uint64_t v;
    __builtin_memcpy(&v, &a, sizeof v);
    return v;
}
__attribute__((always_inline)) inline bool settled(uint64_t earlier, uint64_t now) {
    return earlier == now || ((earlier ^ now) >> 56) != 0;
}

// One cell's update where the hot path's shortcut does not decide it: another thread's record
// of this launch, or an uninitialized read to look for.
[[gnu::noinline]] inline void record_cell(const mc_check_var* var, uintptr_t addr, uint32_t size,
                                          uint8_t access, unsigned line, mc_shadow_cell* cell) {
    const mc_check_state* state = var->state;
    const accessor who = current_accessor(state, line);
    const uint32_t tpb = state->threads_per_block;
    if (access == MC_ACCESS_READ) {
        if (cell->writer.thread == 0) {
            if (__builtin_expect(var->region->check_uninit, 0) &&
                cell->writer.block_epoch != kWrittenByAtomic) {
                report(MC_FIND_UNINITIALIZED_READ, access, var, addr, size, who, mc_access{}, 0);
            }
        } else if (__builtin_expect(concurrent(cell->writer, who, tpb), 0)) {
            report(MC_FIND_RACE, access, var, addr, size, who, cell->writer, MC_ACCESS_WRITE);
        }
        // Keep the first reader of an interval that may conflict with a later writer.
        const uint32_t reader = cell->reader.thread;
        if (reader == 0 || reader == who.self || !concurrent(cell->reader, who, tpb)) {
            store(cell->reader, who);
        }
    } else {
        if (__builtin_expect(concurrent(cell->writer, who, tpb), 0)) {
            report(MC_FIND_RACE, access, var, addr, size, who, cell->writer, MC_ACCESS_WRITE);
        } else if (__builtin_expect(concurrent(cell->reader, who, tpb), 0)) {
            report(MC_FIND_RACE, access, var, addr, size, who, cell->reader, MC_ACCESS_READ);
        }
        store(cell->writer, who);
    }
}

// An access that spans cells (a record wider than the granule, or one not aligned to it).
[[gnu::noinline]] inline void record_cells(const mc_check_var* var, uintptr_t addr, uint32_t size,
                                           uint8_t access, unsigned line) {
    mc_check_region* region = var->region;
    const uint32_t shift = region->granule_shift;
    const uintptr_t first = (addr - region->begin) >> shift;
    const uintptr_t last = (addr + size - 1 - region->begin) >> shift;
    region->touched[first >> MC_CHECK_CHUNK_SHIFT] = 1;
    region->touched[last >> MC_CHECK_CHUNK_SHIFT] = 1;
    for (uintptr_t i = first; i <= last; ++i) {
        record_cell(var, addr, size, access, line, region->cells + i);
    }
}

// Checks one access of `size` bytes at `address` through `var`; false when it is out of
// bounds (then it must not happen).
__attribute__((always_inline)) inline bool record(const mc_check_var* var, const volatile void* address,
                                                  uint32_t size, uint8_t access, unsigned line) {
    if (var == nullptr) return true;  // a raw pointer made checked: nothing known about it
    const auto addr = reinterpret_cast<uintptr_t>(const_cast<const void*>(address));
    // Unsigned: an address below `begin` is a huge offset, whose end overflows or passes the
    // extent.
    uintptr_t end;
    if (__builtin_expect(__builtin_add_overflow(addr - var->begin, uintptr_t{size}, &end) ||
                             end > var->end - var->begin,
                         0)) {
        report(MC_FIND_OUT_OF_BOUNDS, access, var, addr, size, current_accessor(var->state, line),
               mc_access{}, 0);
        return false;
    }
    mc_check_region* region = var->region;
    if (region == nullptr) return true;  // bounds only: who it was matters for reports only
    const uint32_t shift = region->granule_shift;
    const uintptr_t index = (addr - region->begin) >> shift;
    const uintptr_t last = (addr + size - 1 - region->begin) >> shift;
    if (access == MC_ACCESS_ATOMIC) {
        // Atomics never race, but they do initialise: shared memory set up by atomicExch or
        // atomicAdd alone is no uninitialized read later.
        for (mc_shadow_cell* cell = region->cells + index; cell <= region->cells + last; ++cell) {
            if (cell->writer.thread == 0) cell->writer.block_epoch = kWrittenByAtomic;
        }
        return true;
    }
    if (__builtin_expect(last != index, 0)) {
        record_cells(var, addr, size, access, line);
        return true;
    }
    // The common case, decided here: every record of the cell is of an earlier launch or of
    // this thread in this barrier interval, so nothing can conflict and only this access is
    // kept. Everything else goes to record_cell.
    mc_check_state* state = var->state;
    const uint32_t thread = recorded_thread(state);
    const uint64_t now = uint64_t{state->block_epoch} << 32 | (state->self_base + thread);
    mc_shadow_cell* cell = region->cells + index;
    const uint64_t writer = stamp(cell->writer);
    // A read of shared memory checked for initialisation is quiet only over this thread's
    // own write: a cell of no record may be an uninitialized read.
    const bool quiet_writer = access == MC_ACCESS_WRITE || region->check_uninit == 0
                                  ? settled(writer, now)
                                  : writer == now;
    if (__builtin_expect(quiet_writer && settled(stamp(cell->reader), now), 1)) {
        mc_access& slot = access == MC_ACCESS_WRITE ? cell->writer : cell->reader;
        __builtin_memcpy(&slot, &now, sizeof now);
        slot.warp_epoch = state->warp_epochs[thread >> 5];
        slot.line = static_cast<uint16_t>(line);
    } else {
        record_cell(var, addr, size, access, line, cell);
    }
    region->touched[index >> MC_CHECK_CHUNK_SHIFT] = 1;
    return true;
}

}  // namespace __mc

#endif  // MANYCORE_PRELUDE_CHECKED_CPU_H
