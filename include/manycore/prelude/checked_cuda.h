// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Checked mode on a GPU: bounds checks, with findings recorded in the module's table.
//
// What checked.h needs of a device, for NVRTC: a variable is the bytes a checked pointer may
// access, carried by value in the pointer itself (the host builds one per pointer argument,
// abi.h's mc_gpu_checked_ptr; a shared array's comes from its declaration). An access outside
// them is not made: a read yields zero, a write is dropped, and the first thread to make each
// distinct one (variable, line, read or write) records it in __mc_findings for the host to
// read after the launch. Races, barriers and uninitialized reads are compute-sanitizer's part
// on a GPU (`manycore check --sanitizer`).
#ifndef MANYCORE_PRELUDE_CHECKED_CUDA_H
#define MANYCORE_PRELUDE_CHECKED_CUDA_H

extern "C" {
// One per module (the prelude is in one translation unit per module).
__device__ mc_gpu_findings __mc_findings;
}

namespace __mc {

/// What a checked pointer knows of its variable; the layout of mc_gpu_check_var. The default
/// is a raw pointer made checked: any byte may be its.
struct var_ref {
    uintptr_t begin = 0, end = ~uintptr_t{0};
    const char* name = nullptr;
    uint32_t param = MC_GPU_NOT_A_PARAM;
    uint32_t elem_size = 1;
};
static_assert(sizeof(var_ref) == sizeof(mc_gpu_check_var), "var_ref is mc_gpu_check_var");

__device__ inline unsigned long long finding_key(const var_ref& v, uint8_t access, unsigned line) {
    unsigned long long h = reinterpret_cast<uintptr_t>(v.name) ^ (0x9e3779b97f4a7c15ull * (v.param + 1ull));
    h ^= (static_cast<unsigned long long>(line) << 2 | access) * 0xc2b2ae3d27d4eb4full;
    h ^= h >> 29;
    return h | 1u;  // 0 marks a free slot
}

// Cold and out of line: the checked access itself stays a compare and a branch.
__device__ __noinline__ void report_out_of_bounds(var_ref v, uintptr_t address, uint8_t access,
                                                  unsigned line) {
    const unsigned long long key = finding_key(v, access, line);
    for (unsigned probe = 0; probe < MC_GPU_FINDING_SLOTS; ++probe) {
        mc_gpu_finding& slot = __mc_findings.slots[(key + probe) % MC_GPU_FINDING_SLOTS];
        const unsigned long long seen = atomicCAS(&slot.key, 0ull, key);
        if (seen != 0ull && seen != key) continue;
        atomicAdd(&slot.count, 1u);
        if (seen == key) return;  // the first thread's details are kept
        const long long bytes = static_cast<long long>(address - v.begin);
        slot.param = v.param;
        slot.index = bytes >= 0 ? bytes / v.elem_size : -((-bytes + v.elem_size - 1) / v.elem_size);
        slot.extent = static_cast<long long>((v.end - v.begin) / v.elem_size);
        slot.block = mc_dim3{blockIdx.x, blockIdx.y, blockIdx.z};
        slot.thread = mc_dim3{threadIdx.x, threadIdx.y, threadIdx.z};
        slot.line = line;
        slot.access = access;
        unsigned k = 0;
        for (; v.name != nullptr && v.name[k] != '\0' && k + 1 < MC_GPU_NAME_BYTES; ++k)
            slot.name[k] = v.name[k];
        slot.name[k] = '\0';
        return;
    }
    atomicAdd(&__mc_findings.dropped, 1u);
}

// Whether an access of `size` bytes at `address` through `v` may happen.
__device__ __forceinline__ bool record(const var_ref& v, const volatile void* address,
                                       uint32_t size, uint8_t access, unsigned line) {
    const auto a = reinterpret_cast<uintptr_t>(const_cast<const void*>(address));
    if (__builtin_expect(a >= v.begin && a <= v.end && v.end - a >= size, 1)) return true;
    report_out_of_bounds(v, a, access, line);
    return false;
}

// Raw pointers leave checking; on a GPU nothing else depends on it.
__device__ inline void escape(const var_ref&) {}

// Where an out-of-bounds access of a record goes instead. Threads share it: what it holds is
// never read for a result that counts, only written to keep the access from faulting.
template <class T>
__device__ T scratch_value;
template <class T>
__device__ inline T& scratch() {
    return scratch_value<T>;
}

template <class T>
class checked_ptr;

// A shared array of the running block, as a checked pointer to its first row or element.
template <class A>
__device__ inline checked_ptr<std::remove_extent_t<A>> shared_array(A& storage, const char* name) {
    var_ref v;
    v.begin = reinterpret_cast<uintptr_t>(&storage);
    v.end = v.begin + sizeof(A);
    v.name = name;
    v.elem_size = sizeof(std::remove_all_extents_t<A>);
    return checked_ptr<std::remove_extent_t<A>>(storage, v);
}

// The block's dynamic shared memory, as many bytes as the launch gave it.
__device__ inline unsigned char* dynamic_shared_base() {
    extern __shared__ __align__(16) unsigned char __mc_dynamic_shared_bytes[];
    return __mc_dynamic_shared_bytes;
}
template <class E>
__device__ inline checked_ptr<E> dynamic_shared_array(const char* name) {
    unsigned bytes;
    asm("mov.u32 %0, %%dynamic_smem_size;" : "=r"(bytes));
    var_ref v;
    v.begin = reinterpret_cast<uintptr_t>(dynamic_shared_base());
    v.end = v.begin + bytes;
    v.name = name;
    v.elem_size = sizeof(E);
    return checked_ptr<E>(reinterpret_cast<E*>(dynamic_shared_base()), v);
}

}  // namespace __mc

#define MC_CHECKED_PRINTF printf

#endif  // MANYCORE_PRELUDE_CHECKED_CUDA_H
