// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// CUDA's built-in vector types (float4, int2, uchar4, ...), their make_ functions, and dim3.
//
// Layouts match CUDA's vector_types.h exactly (member names, sizes and alignments), because kernels
// reinterpret arrays through these types (`reinterpret_cast<float4*>(p)`) and the runtime copies
// them as kernel parameters by size and alignment. Like CUDA, no arithmetic operators are defined:
// user code that brings its own (helper_math.h style) would otherwise collide with ours.
#ifndef MANYCORE_PRELUDE_VECTOR_TYPES_H
#define MANYCORE_PRELUDE_VECTOR_TYPES_H

// One component type T named `name`: name1..name4 with CUDA's alignment for the 2- and 4-wide
// forms (the 1- and 3-wide forms keep the component's own alignment, as in CUDA).
#define MC_VECTOR_FAMILY(name, T, align2, align4)                                              \
    struct name##1 {                                                                           \
        T x;                                                                                   \
    };                                                                                         \
    struct alignas(align2) name##2 {                                                           \
        T x, y;                                                                                \
    };                                                                                         \
    struct name##3 {                                                                           \
        T x, y, z;                                                                             \
    };                                                                                         \
    struct alignas(align4) name##4 {                                                           \
        T x, y, z, w;                                                                          \
    };                                                                                         \
    static constexpr inline name##1 make_##name##1(T x) { return name##1{x}; }                 \
    static constexpr inline name##2 make_##name##2(T x, T y) { return name##2{x, y}; }         \
    static constexpr inline name##3 make_##name##3(T x, T y, T z) { return name##3{x, y, z}; } \
    static constexpr inline name##4 make_##name##4(T x, T y, T z, T w) {                       \
        return name##4{x, y, z, w};                                                            \
    }

MC_VECTOR_FAMILY(char, signed char, 2, 4)
MC_VECTOR_FAMILY(uchar, unsigned char, 2, 4)
MC_VECTOR_FAMILY(short, short, 4, 8)
MC_VECTOR_FAMILY(ushort, unsigned short, 4, 8)
MC_VECTOR_FAMILY(int, int, 8, 16)
MC_VECTOR_FAMILY(uint, unsigned int, 8, 16)
// CUDA aligns long2 to 2*sizeof(long): 16 on LP64 Linux, 8 where long is 32 bits.
MC_VECTOR_FAMILY(long, long, 2 * sizeof(long), 16)
MC_VECTOR_FAMILY(ulong, unsigned long, 2 * sizeof(unsigned long), 16)
MC_VECTOR_FAMILY(longlong, long long, 16, 16)
MC_VECTOR_FAMILY(ulonglong, unsigned long long, 16, 16)
MC_VECTOR_FAMILY(float, float, 8, 16)
MC_VECTOR_FAMILY(double, double, 16, 16)

#undef MC_VECTOR_FAMILY

/// A launch shape. Not an aggregate (its constructor defaults missing extents to 1, as CUDA's
/// does), but trivially copyable, so it may be a kernel parameter or live in shared memory.
struct dim3 {
    unsigned int x, y, z;
    constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1)
        : x(vx), y(vy), z(vz) {}
    constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
    constexpr operator uint3() const { return uint3{x, y, z}; }
};

#endif  // MANYCORE_PRELUDE_VECTOR_TYPES_H
