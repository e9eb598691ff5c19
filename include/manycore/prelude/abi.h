// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The C contract between manycore's CPU runtime and a kernel library compiled at run time.
//
// This header is seen by both sides: by the runtime (src/cpu) and by every generated kernel
// translation unit (through the prelude). It is plain C so the layout is fixed across compilers.
// Bump MC_ABI_VERSION on any change; the version is part of the compile-cache key.
#ifndef MANYCORE_PRELUDE_ABI_H
#define MANYCORE_PRELUDE_ABI_H

#include <stddef.h>
#include <stdint.h>

#define MC_ABI_VERSION 1u

#ifdef __cplusplus
extern "C" {
#endif

/// Element and scalar types, as the compiler sees a kernel's parameters. Stable numbering.
enum mc_dtype_code {
    MC_DT_VOID = 0,  // `void*` (takes any array) or an unknown pointee
    MC_DT_BOOL = 1,
    MC_DT_INT8 = 2,
    MC_DT_INT16 = 3,
    MC_DT_INT32 = 4,
    MC_DT_INT64 = 5,
    MC_DT_UINT8 = 6,
    MC_DT_UINT16 = 7,
    MC_DT_UINT32 = 8,
    MC_DT_UINT64 = 9,
    MC_DT_FLOAT16 = 10,
    MC_DT_FLOAT32 = 11,
    MC_DT_FLOAT64 = 12,
    MC_DT_COMPLEX64 = 13,
    MC_DT_COMPLEX128 = 14,
    MC_DT_CHAR = 15,    // plain `char`: one byte of either signedness
    MC_DT_RECORD = 16,  // a user struct (or a CUDA vector type), identified by size only
};

enum mc_param_kind {
    MC_PARAM_SCALAR = 0,   // arithmetic value
    MC_PARAM_POINTER = 1,  // pointer to `dtype` (array argument)
    MC_PARAM_RECORD = 2,   // struct passed by value
};

/// One kernel parameter as the compiler declared it (after template substitution).
typedef struct mc_param_desc {
    uint8_t kind;           // mc_param_kind
    uint8_t dtype;          // scalar type, or the pointee's type for pointers
    uint8_t pointee_const;  // 1 when a pointer's pointee is const (read-only arrays allowed)
    uint8_t lanes;          // vector types (float4 -> 4 of MC_DT_FLOAT32 in `lane_dtype`), else 1
    uint8_t lane_dtype;     // component type of a vector type, else MC_DT_VOID
    uint8_t reserved[3];
    uint32_t size;       // sizeof the parameter itself
    uint32_t align;      // alignof the parameter itself
    uint32_t elem_size;  // sizeof the pointee, 0 for void*
    uint32_t reserved2;
} mc_param_desc;

typedef struct mc_dim3 {
    uint32_t x, y, z;
} mc_dim3;

/// Per-OS-thread state of the runtime that executes blocks; opaque to kernels.
struct mc_worker;

/// Operations of `__syncthreads*`.
enum mc_sync_op { MC_SYNC_PLAIN = 0, MC_SYNC_COUNT = 1, MC_SYNC_AND = 2, MC_SYNC_OR = 3 };

/// Services the runtime offers kernel code. Every entry may be called only from a kernel
/// thread that the runtime is running on this OS thread.
typedef struct mc_runtime_api {
    uint32_t abi_version;
    /// __syncthreads and its reducing variants: returns the reduction over the block's
    /// live threads (count, and, or) of `predicate`; 0 for MC_SYNC_PLAIN. Switches fibers.
    int (*sync_block)(struct mc_worker* w, int op, int predicate);
    /// The warp collective under every warp intrinsic: deposits `value` for this lane, waits
    /// until every live lane named in `mask` has deposited, then copies all 32 lanes' values
    /// into `lanes_out` and returns the mask of lanes that took part.
    uint32_t (*warp_collect)(struct mc_worker* w, uint32_t mask, uint64_t value,
                             uint64_t* lanes_out);
    /// The mask of lanes of the calling thread's warp that exist and have not exited.
    uint32_t (*active_mask)(struct mc_worker* w);
    /// Appends one formatted printf record; flushed in (block, thread, order) at launch end.
    void (*print)(struct mc_worker* w, uint64_t block_linear, uint32_t thread_linear,
                  const char* text, size_t length);
    /// A failed device-side assert or __trap: throws into the runtime (never returns).
    void (*fault)(struct mc_worker* w, const char* message, const char* file, unsigned line);
} mc_runtime_api;

/// One launch, shared read-only by every worker.
typedef struct mc_launch {
    mc_dim3 grid;
    mc_dim3 block;
    void* const* args;  // one pointer per parameter, to a value of the parameter's type
    size_t dynamic_shared_bytes;
    const mc_runtime_api* rt;
} mc_launch;

/// Runs blocks [first, last) (linear block ids, x fastest) with each block's threads as a
/// plain loop. Only valid for kernels that use no barrier and no warp intrinsic.
typedef void (*mc_run_blocks_fn)(const mc_launch* launch, struct mc_worker* w,
                                 void* dynamic_shared, uint64_t first, uint64_t last);
/// Runs one thread of one block to completion or to its next barrier switch (fiber mode).
typedef void (*mc_run_thread_fn)(const mc_launch* launch, struct mc_worker* w,
                                 void* dynamic_shared, mc_dim3 block_idx, mc_dim3 thread_idx);

typedef struct mc_kernel_entry {
    const char* name;  // the name the user asks for: "saxpy", or "reduce<float, 256>"
    uint32_t nparams;
    const mc_param_desc* params;
    mc_run_blocks_fn run_blocks;
    mc_run_thread_fn run_thread;
} mc_kernel_entry;

typedef struct mc_module_table {
    uint32_t abi_version;
    uint32_t nkernels;
    const mc_kernel_entry* kernels;
} mc_module_table;

/// Every compiled kernel library exports this one symbol.
#define MC_MODULE_TABLE_SYMBOL "mc_module_table_v1"
typedef const mc_module_table* (*mc_module_table_fn)(void);

#ifdef __cplusplus
}
#endif

#endif  // MANYCORE_PRELUDE_ABI_H
