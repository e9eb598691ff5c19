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

#define MC_ABI_VERSION 4u

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
    uint8_t checked;        // 1: checked mode made this pointer a checked pointer (GPU: mc_gpu_checked_ptr)
    uint8_t reserved[2];
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

// ---- Checked mode ------------------------------------------------------------------------------
// A checked module (MC_CHECKED) records every access through a pointer parameter or a shared
// array in shadow cells the runtime owns, and reports what it finds through mc_check_state.
// A checked launch runs as lanes, each a range of blocks on one OS thread with a state,
// variables and shadow cells of its own, so none of this is shared between OS threads.

/// One recorded access: which thread, in which barrier interval, at which line.
typedef struct mc_access {
    uint32_t thread;       // 1 + block_linear * threads_per_block + thread_linear; 0: none
    // Low 24 bits: barriers the thread's block had passed. High 8 bits: the launch's
    // generation; a record of another generation is stale (shadow memory is reused from
    // launch to launch without being cleared).
    uint32_t block_epoch;
    uint16_t warp_epoch;   // warp collectives the thread's warp had completed
    uint16_t line;         // in the user's source; 0 when unknown
} mc_access;

/// The shadow of one granule of memory: its last writer and one reader since.
typedef struct mc_shadow_cell {
    mc_access writer;
    mc_access reader;
} mc_shadow_cell;

/// Cells per chunk of a region's `touched` map: 2^MC_CHECK_CHUNK_SHIFT.
#define MC_CHECK_CHUNK_SHIFT 9

/// A range of memory with shadow cells, one per 2^granule_shift bytes from `begin`.
typedef struct mc_check_region {
    uintptr_t begin;
    mc_shadow_cell* cells;
    uint32_t granule_shift;
    uint8_t check_uninit;  // shared memory whose address never escaped as a raw pointer
    uint8_t reserved[3];
    // One byte per chunk of cells, set when an access of the lane records there: the chunks
    // that the runtime compares across lanes once the launch has run.
    uint8_t* touched;
} mc_check_region;

enum mc_check_space { MC_SPACE_GLOBAL = 0, MC_SPACE_SHARED = 1 };

struct mc_check_state;

/// A variable accesses are checked against: a pointer parameter or a shared array.
typedef struct mc_check_var {
    uintptr_t begin, end;     // the bytes it may access
    mc_check_region* region;  // where its accesses are recorded; NULL: bounds only
    struct mc_check_state* state;  // its launch's (at hand on the hot path, unlike a TLS read)
    uint32_t elem_size;       // of its element type (innermost, for arrays of arrays)
    uint32_t id;              // the runtime's index of its name
    uint8_t space;            // mc_check_space
    uint8_t reserved[7];
} mc_check_var;

enum mc_finding_kind {
    MC_FIND_OUT_OF_BOUNDS = 0,
    MC_FIND_RACE = 1,
    MC_FIND_BARRIER_DIVERGENCE = 2,
    MC_FIND_UNINITIALIZED_READ = 3,
};
enum mc_access_kind { MC_ACCESS_READ = 0, MC_ACCESS_WRITE = 1, MC_ACCESS_ATOMIC = 2 };

/// What kernel code found at one access.
typedef struct mc_check_event {
    uint8_t kind;          // mc_finding_kind
    uint8_t access;        // mc_access_kind
    uint8_t other_access;  // races: of `other`
    uint8_t reserved;
    uint32_t size;  // bytes accessed
    const mc_check_var* var;
    uintptr_t address;
    mc_access self;   // this access
    mc_access other;  // races: the earlier access it conflicts with
} mc_check_event;

/// The runtime's side of a checked launch, one per lane.
typedef struct mc_check_state {
    uint32_t threads_per_block;
    uint32_t block_epoch;    // barriers the running block has passed, and the generation (mc_access)
    uint16_t* warp_epochs;   // per warp of the running block: collectives it completed
    mc_check_var* params;    // one per kernel parameter (meaningful for pointers)
    uint32_t site_line;      // the line of the barrier or warp intrinsic being entered
    uint32_t self_base;      // 1 + block_linear * threads_per_block of the running block
    // Where the kernel code running the lane keeps threadIdx, set by that code at its first
    // recorded access (NULL until then), and blockDim.x and blockDim.x * blockDim.y: the
    // thread of an access without a thread-local lookup.
    const void* thread_idx;
    uint32_t block_x;
    uint32_t block_xy;
    /// The variable for a shared array of the running block (made on first use in a block).
    mc_check_var* (*shared_var)(struct mc_check_state* s, void* base, uint64_t bytes,
                                uint32_t elem_size, const char* name);
    void (*report)(struct mc_check_state* s, const mc_check_event* event);
    /// Loop mode: called before each block's threads run (fiber mode: the runtime knows).
    void (*begin_block)(struct mc_check_state* s, uint64_t block_linear);
} mc_check_state;

// ---- Checked mode on a GPU ----------------------------------------------------------------------
// Bounds only: each checked pointer carries the bytes it may access, and an access outside
// them is recorded, once per variable, line and kind of access, in the module's findings
// table (the device variable MC_GPU_FINDINGS_SYMBOL), which the host clears before a checked
// launch and reads after it.

/// What a checked pointer knows of its variable on a GPU (checked_cuda.h's var_ref).
typedef struct mc_gpu_check_var {
    uintptr_t begin, end;  // the bytes it may access; [0, UINTPTR_MAX] when unknown
    const char* name;      // shared arrays: the name's device address; NULL for parameters
    uint32_t param;        // the parameter's index; MC_GPU_NOT_A_PARAM for shared arrays
    uint32_t elem_size;    // of its element type (innermost, for arrays of arrays)
} mc_gpu_check_var;

/// A checked pointer parameter of a GPU kernel, as the host passes it.
typedef struct mc_gpu_checked_ptr {
    void* pointer;
    mc_gpu_check_var var;
} mc_gpu_checked_ptr;

#define MC_GPU_NOT_A_PARAM 0xffffffffu
#define MC_GPU_FINDING_SLOTS 128u
#define MC_GPU_NAME_BYTES 32u

/// One distinct out-of-bounds access: the first thread that made it, and how often it was made.
typedef struct mc_gpu_finding {
    unsigned long long key;  // 0: free; else a hash of (variable, line, access)
    uint32_t count;          // accesses of this kind (the first one's details below)
    uint32_t param;          // as mc_gpu_check_var::param
    int64_t index;           // element index, from the variable's first element
    int64_t extent;          // elements in the variable
    mc_dim3 block, thread;
    uint32_t line;           // in the user's source; 0 when unknown
    uint8_t access;          // mc_access_kind
    uint8_t reserved[3];
    char name[MC_GPU_NAME_BYTES];  // shared arrays: the name, cut to fit
} mc_gpu_finding;

typedef struct mc_gpu_findings {
    uint32_t dropped;   // distinct findings that found no free slot
    uint32_t reserved;
    mc_gpu_finding slots[MC_GPU_FINDING_SLOTS];
} mc_gpu_findings;

#define MC_GPU_FINDINGS_SYMBOL "__mc_findings"

/// One launch, shared read-only by every worker (each lane of a checked launch has a copy
/// whose `check` is the lane's).
typedef struct mc_launch {
    mc_dim3 grid;
    mc_dim3 block;
    void* const* args;  // one pointer per parameter, to a value of the parameter's type
    size_t dynamic_shared_bytes;
    const mc_runtime_api* rt;
    mc_check_state* check;  // checked launches only, else NULL
} mc_launch;

/// Runs blocks [first, last) (linear block ids, x fastest) with each block's threads as a
/// plain loop. Only valid for kernels that use no barrier and no warp intrinsic.
typedef void (*mc_run_blocks_fn)(const mc_launch* launch, struct mc_worker* w,
                                 void* dynamic_shared, uint64_t first, uint64_t last);
/// Runs one thread of one block to completion or to its next barrier switch (fiber mode).
typedef void (*mc_run_thread_fn)(const mc_launch* launch, struct mc_worker* w,
                                 void* dynamic_shared, mc_dim3 block_idx, mc_dim3 thread_idx);

/// The kernel's loops run across the blocks of each run_blocks call (a grid-stride loop whose
/// steps take every block of the range in turn): the executor then gives each thread one
/// contiguous range of blocks, so that each thread's accesses are contiguous.
#define MC_KERNEL_GRID_MAJOR 1u

typedef struct mc_kernel_entry {
    const char* name;  // the name the user asks for: "saxpy", or "reduce<float, 256>"
    uint32_t nparams;
    const mc_param_desc* params;
    mc_run_blocks_fn run_blocks;
    mc_run_thread_fn run_thread;
    uint32_t flags;  // MC_KERNEL_GRID_MAJOR
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
