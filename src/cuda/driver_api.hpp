// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The CUDA driver, loaded with dlopen and resolved through cuGetProcAddress into one table.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "cuda/cuda_types.hpp"

namespace manycore::cuda {

/// The oldest driver this backend runs on (cuDriverGetVersion's encoding: 1000 * major + 10 * minor).
inline constexpr int kMinimumDriverVersion = 12000;

// Every driver entry point this backend calls: name, return type, parameter types. The names are
// CUDA's unversioned ones; cuGetProcAddress at kMinimumDriverVersion picks each one's ABI
// (cuMemAlloc -> cuMemAlloc_v2, ...), so the signatures below are those of that version.
#define MC_CUDA_DRIVER_FUNCTIONS(X)                                                              \
    X(cuGetErrorName, CUresult, CUresult, const char**)                                          \
    X(cuGetErrorString, CUresult, CUresult, const char**)                                        \
    X(cuInit, CUresult, unsigned)                                                                \
    X(cuDriverGetVersion, CUresult, int*)                                                        \
    X(cuDeviceGetCount, CUresult, int*)                                                          \
    X(cuDeviceGet, CUresult, CUdevice*, int)                                                     \
    X(cuDeviceGetName, CUresult, char*, int, CUdevice)                                           \
    X(cuDeviceTotalMem, CUresult, std::size_t*, CUdevice)                                        \
    X(cuDeviceGetAttribute, CUresult, int*, int, CUdevice)                                       \
    X(cuDevicePrimaryCtxRetain, CUresult, CUcontext*, CUdevice)                                  \
    X(cuCtxGetCurrent, CUresult, CUcontext*)                                                     \
    X(cuCtxSetCurrent, CUresult, CUcontext)                                                      \
    X(cuCtxSynchronize, CUresult)                                                                \
    X(cuMemGetInfo, CUresult, std::size_t*, std::size_t*)                                        \
    X(cuMemAlloc, CUresult, CUdeviceptr*, std::size_t)                                           \
    X(cuMemFree, CUresult, CUdeviceptr)                                                          \
    X(cuMemHostAlloc, CUresult, void**, std::size_t, unsigned)                                   \
    X(cuMemFreeHost, CUresult, void*)                                                            \
    X(cuMemcpyHtoD, CUresult, CUdeviceptr, const void*, std::size_t)                             \
    X(cuMemcpyDtoH, CUresult, void*, CUdeviceptr, std::size_t)                                   \
    X(cuMemcpyDtoD, CUresult, CUdeviceptr, CUdeviceptr, std::size_t)                             \
    X(cuMemcpyHtoDAsync, CUresult, CUdeviceptr, const void*, std::size_t, CUstream)              \
    X(cuMemcpyDtoHAsync, CUresult, void*, CUdeviceptr, std::size_t, CUstream)                    \
    X(cuMemcpyDtoDAsync, CUresult, CUdeviceptr, CUdeviceptr, std::size_t, CUstream)              \
    X(cuMemcpyPeer, CUresult, CUdeviceptr, CUcontext, CUdeviceptr, CUcontext, std::size_t)       \
    X(cuMemcpyPeerAsync, CUresult, CUdeviceptr, CUcontext, CUdeviceptr, CUcontext, std::size_t,  \
      CUstream)                                                                                  \
    X(cuDeviceCanAccessPeer, CUresult, int*, CUdevice, CUdevice)                                 \
    X(cuCtxEnablePeerAccess, CUresult, CUcontext, unsigned)                                      \
    X(cuMemsetD8, CUresult, CUdeviceptr, unsigned char, std::size_t)                             \
    X(cuMemsetD8Async, CUresult, CUdeviceptr, unsigned char, std::size_t, CUstream)              \
    X(cuPointerGetAttribute, CUresult, void*, int, CUdeviceptr)                                  \
    X(cuModuleLoadDataEx, CUresult, CUmodule*, const void*, unsigned, int*, void**)              \
    X(cuModuleUnload, CUresult, CUmodule)                                                        \
    X(cuModuleGetFunction, CUresult, CUfunction*, CUmodule, const char*)                         \
    X(cuModuleGetGlobal, CUresult, CUdeviceptr*, std::size_t*, CUmodule, const char*)            \
    X(cuFuncGetAttribute, CUresult, int*, int, CUfunction)                                       \
    X(cuOccupancyMaxActiveBlocksPerMultiprocessor, CUresult, int*, CUfunction, int, std::size_t) \
    X(cuLaunchKernel, CUresult, CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned,    \
      unsigned, unsigned, CUstream, void**, void**)                                              \
    X(cuStreamCreate, CUresult, CUstream*, unsigned)                                             \
    X(cuStreamDestroy, CUresult, CUstream)                                                       \
    X(cuStreamSynchronize, CUresult, CUstream)                                                   \
    X(cuStreamQuery, CUresult, CUstream)                                                         \
    X(cuStreamWaitEvent, CUresult, CUstream, CUevent, unsigned)                                  \
    X(cuEventCreate, CUresult, CUevent*, unsigned)                                               \
    X(cuEventDestroy, CUresult, CUevent)                                                         \
    X(cuEventRecord, CUresult, CUevent, CUstream)                                                \
    X(cuEventSynchronize, CUresult, CUevent)                                                     \
    X(cuEventQuery, CUresult, CUevent)                                                           \
    X(cuEventElapsedTime, CUresult, float*, CUevent, CUevent)

/// The driver's entry points. A symbol the driver lacks holds a stub that throws
/// DeviceUnavailable naming it. Immutable once loaded; safe to use from any thread.
struct DriverApi {
#define MC_CUDA_MEMBER(name, ret, ...) ret (*name)(__VA_ARGS__) = nullptr;
    MC_CUDA_DRIVER_FUNCTIONS(MC_CUDA_MEMBER)
#undef MC_CUDA_MEMBER
    std::string path;    // what was dlopened ("libcuda.so.1" or MANYCORE_CUDA_DRIVER_PATH)
    int version = 0;     // cuDriverGetVersion
    int device_count = 0;
};

/// Opens the driver at `explicit_path` (or libcuda.so.1 by soname when empty), checks its
/// version and runs cuInit. Returns "" and fills `out`, or returns why the driver cannot be used.
/// Never throws and never dlcloses (libraries stay loaded for the life of the process).
std::string load_driver(const std::string& explicit_path, DriverApi& out) noexcept;

/// The process's driver, loaded once from Config (MANYCORE_CUDA_DRIVER_PATH); nullptr when
/// unusable, with `reason` set. Thread-safe; cheap after the first call.
const DriverApi* driver_or_null(std::string* reason = nullptr) noexcept;

/// The process's driver; throws DeviceUnavailable saying what is missing. Thread-safe.
const DriverApi& driver();

/// "CUDA_ERROR_ILLEGAL_ADDRESS".
std::string error_name(CUresult result);
/// "CUDA_ERROR_ILLEGAL_ADDRESS (an illegal memory access was encountered)".
std::string error_text(CUresult result);

/// Throws CudaError "<where>: <call> failed: <error_text>" unless `result` is CUDA_SUCCESS.
void check(CUresult result, std::string_view call, std::string_view where);

/// "12.4" from 12040.
std::string version_text(int cuda_version);

}  // namespace manycore::cuda
