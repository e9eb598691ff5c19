// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// What kernels rewritten by loop fission call (src/core/fission.cpp writes the calls): the
// checks that a condition around a barrier holds alike in every thread, the block votes of
// __syncthreads_count/and/or, and warp intrinsics over a warp's exchange slots (each lane
// deposits its operand in one loop over the lanes, and reads its result in the next).
// Semantics follow the fiber path's (cpu_prelude.h), so both give the same results.
#ifndef MANYCORE_PRELUDE_FISSION_H
#define MANYCORE_PRELUDE_FISSION_H

namespace __mc::fx {

// ---- block context ----------------------------------------------------------------------------

[[noreturn]] inline void diverged(unsigned line, unsigned t_true, unsigned t_false) {
    const auto at = [](unsigned t, char* out, size_t size) {
        const unsigned bx = bdim.x, by = bdim.y;
        std::snprintf(out, size, "(%u,%u,%u)", t % bx, t / bx % by, t / (bx * by));
    };
    char yes[48], no[48], what[384];
    at(t_true, yes, sizeof yes);
    at(t_false, no, sizeof no);
    std::snprintf(what, sizeof what,
                  "barrier divergence: the condition at line %u, which controls a barrier, is "
                  "true in thread %s and false in thread %s of the block; every thread of a "
                  "block must reach the same barriers (rerun with checked=True to see where)",
                  line, yes, no);
    launch->rt->fault(worker, what, "kernel.cu", line);
    __builtin_unreachable();
}

/// The value every live thread computed for a condition that controls a barrier; a fault when
/// they differ. No live thread: false (the block has ended).
inline bool agree(const bool* cond, const bool* exited, unsigned n, unsigned line) {
    unsigned first = n;
    for (unsigned t = 0; t < n; ++t) {
        if (exited != nullptr && exited[t]) continue;
        if (first == n) {
            first = t;
        } else if (cond[t] != cond[first]) {
            if (cond[first]) diverged(line, first, t);
            diverged(line, t, first);
        }
    }
    return first < n && cond[first];
}

inline int vote_count(const bool* p, const bool* exited, unsigned n) {
    int count = 0;
    for (unsigned t = 0; t < n; ++t) count += (exited == nullptr || !exited[t]) && p[t];
    return count;
}
inline int vote_and(const bool* p, const bool* exited, unsigned n) {
    for (unsigned t = 0; t < n; ++t)
        if ((exited == nullptr || !exited[t]) && !p[t]) return 0;
    return 1;
}
inline int vote_or(const bool* p, const bool* exited, unsigned n) {
    return vote_count(p, exited, n) > 0 ? 1 : 0;
}

// ---- warp context ------------------------------------------------------------------------------

/// The lanes a warp of `lanes` threads has (the last warp of a block may be partial).
inline unsigned lanes(unsigned count) { return count >= 32u ? ~0u : (1u << count) - 1u; }

/// The lanes of warp `w` whose threads have returned.
inline unsigned exited_lanes(const bool* exited, unsigned w, unsigned count) {
    unsigned mask = 0;
    for (unsigned l = 0; l < count; ++l) mask |= static_cast<unsigned>(exited[w * 32u + l]) << l;
    return mask;
}

__attribute__((always_inline)) inline void set_tid(unsigned t, unsigned bx, unsigned by) {
    tid.x = t % bx;
    tid.y = t / bx % by;
    tid.z = t / (bx * by);
}

// A warp's exchange slots: 32 values of the operand's type, with 32 slots of padding either
// side, so that the shuffles' `lane + delta` and `lane - delta` are in bounds for every lane and
// the compiler can read them as whole vectors and pick per lane.
inline constexpr int slot_bytes = 96 * 8;

template <class T>
__attribute__((always_inline)) inline T* slots(unsigned char* raw) {
    static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>,
                  "manycore: warp intrinsics take values of at most 8 bytes");
    return reinterpret_cast<T*>(raw) + 32;
}
template <class T>
__attribute__((always_inline)) inline const T* slots(const unsigned char* raw) {
    return reinterpret_cast<const T*>(raw) + 32;
}
template <class T>
__attribute__((always_inline)) inline void put(unsigned char* raw, int lane, T value) {
    slots<T>(raw)[lane] = value;
}
/// __match_*_sync compare values of up to 8 bytes: each is kept as its bits, zero-extended.
template <class T>
__attribute__((always_inline)) inline void put_bits(unsigned char* raw, int lane, T value) {
    static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>,
                  "manycore: warp intrinsics take values of at most 8 bytes");
    unsigned long long bits = 0;
    std::memcpy(&bits, &value, sizeof(T));
    slots<unsigned long long>(raw)[lane] = bits;
}

// As in cpu_prelude.h: within segments of `width` lanes; a source outside the caller's
// segment (up, down, xor) yields the caller's own value.
template <class T>
__attribute__((always_inline)) inline T shfl(const unsigned char* raw, int lane, int src, int width) {
    const int base = lane & ~(width - 1);
    return slots<T>(raw)[base + (src & (width - 1))];
}
template <class T>
__attribute__((always_inline)) inline T shfl_up(const unsigned char* raw, int lane, unsigned delta,
                                                int width) {
    const T* s = slots<T>(raw);
    const int base = lane & ~(width - 1), src = lane - static_cast<int>(delta);
    const T own = s[lane], other = s[delta < 32u ? src : lane];
    return src < base ? own : other;
}
template <class T>
__attribute__((always_inline)) inline T shfl_down(const unsigned char* raw, int lane, unsigned delta,
                                                  int width) {
    const T* s = slots<T>(raw);
    const int base = lane & ~(width - 1), src = lane + static_cast<int>(delta);
    const T own = s[lane], other = s[delta < 32u ? src : lane];
    return src >= base + width ? own : other;
}
template <class T>
__attribute__((always_inline)) inline T shfl_xor(const unsigned char* raw, int lane, int mask,
                                                 int width) {
    const int base = lane & ~(width - 1), src = lane ^ mask;
    return slots<T>(raw)[src >= base + width ? lane : (src & 31)];
}

inline unsigned match_any(const unsigned char* raw, int lane, unsigned took) {
    const unsigned long long* s = slots<unsigned long long>(raw);
    unsigned bits = 0;
    for (int l = 0; l < 32; ++l)
        if ((took >> l & 1u) && s[l] == s[lane]) bits |= 1u << l;
    return bits;
}
inline unsigned match_all(const unsigned char* raw, int lane, unsigned took, int* pred) {
    const unsigned long long* s = slots<unsigned long long>(raw);
    for (int l = 0; l < 32; ++l) {
        if ((took >> l & 1u) && s[l] != s[lane]) {
            *pred = 0;
            return 0;
        }
    }
    *pred = 1;
    return took;
}

template <class T, class Op>
inline T warp_fold(const unsigned char* raw, unsigned took, Op op) {
    const T* s = slots<T>(raw);
    bool first = true;
    T acc{};
    for (unsigned lane = 0; lane < 32; ++lane) {
        if (!(took >> lane & 1u)) continue;
        acc = first ? s[lane] : op(acc, s[lane]);
        first = false;
    }
    return acc;
}
template <class T>
inline T reduce_add(const unsigned char* s, unsigned took) {
    return warp_fold<T>(s, took, [](T a, T b) {  // in unsigned: wraps as CUDA's does
        return static_cast<T>(static_cast<unsigned>(a) + static_cast<unsigned>(b));
    });
}
template <class T>
inline T reduce_min(const unsigned char* s, unsigned took) {
    return warp_fold<T>(s, took, [](T a, T b) { return a < b ? a : b; });
}
template <class T>
inline T reduce_max(const unsigned char* s, unsigned took) {
    return warp_fold<T>(s, took, [](T a, T b) { return a > b ? a : b; });
}
template <class T>
inline T reduce_and(const unsigned char* s, unsigned took) {
    return warp_fold<T>(s, took, [](T a, T b) { return a & b; });
}
template <class T>
inline T reduce_or(const unsigned char* s, unsigned took) {
    return warp_fold<T>(s, took, [](T a, T b) { return a | b; });
}
template <class T>
inline T reduce_xor(const unsigned char* s, unsigned took) {
    return warp_fold<T>(s, took, [](T a, T b) { return a ^ b; });
}

}  // namespace __mc::fx

#endif  // MANYCORE_PRELUDE_FISSION_H
