// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// NVRTC, found and loaded with dlopen at the first GPU compile, resolved into one table.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "cuda/cuda_types.hpp"

namespace manycore::cuda {

/// The oldest NVRTC this backend uses (it needs -std=c++20 and nvrtcGetCUBIN).
inline constexpr int kMinimumNvrtcMajor = 12;

#define MC_NVRTC_FUNCTIONS(X)                                                                   \
    X(nvrtcGetErrorString, const char*, nvrtcResult)                                            \
    X(nvrtcVersion, nvrtcResult, int*, int*)                                                    \
    X(nvrtcGetNumSupportedArchs, nvrtcResult, int*)                                             \
    X(nvrtcGetSupportedArchs, nvrtcResult, int*)                                                \
    X(nvrtcCreateProgram, nvrtcResult, nvrtcProgram*, const char*, const char*, int,            \
      const char* const*, const char* const*)                                                   \
    X(nvrtcDestroyProgram, nvrtcResult, nvrtcProgram*)                                          \
    X(nvrtcCompileProgram, nvrtcResult, nvrtcProgram, int, const char* const*)                  \
    X(nvrtcGetPTXSize, nvrtcResult, nvrtcProgram, std::size_t*)                                 \
    X(nvrtcGetPTX, nvrtcResult, nvrtcProgram, char*)                                            \
    X(nvrtcGetCUBINSize, nvrtcResult, nvrtcProgram, std::size_t*)                               \
    X(nvrtcGetCUBIN, nvrtcResult, nvrtcProgram, char*)                                          \
    X(nvrtcGetProgramLogSize, nvrtcResult, nvrtcProgram, std::size_t*)                          \
    X(nvrtcGetProgramLog, nvrtcResult, nvrtcProgram, char*)                                     \
    X(nvrtcAddNameExpression, nvrtcResult, nvrtcProgram, const char*)                           \
    X(nvrtcGetLoweredName, nvrtcResult, nvrtcProgram, const char*, const char**)

/// What the cache key, the target and the compile options need to know of an NVRTC: all of it
/// but its entry points, so it can be remembered between processes (nvrtc_identity.hpp).
struct NvrtcIdentity {
    std::string path;                // the file loaded, as dladdr reports it
    int major = 0, minor = 0;        // nvrtcVersion
    std::vector<int> archs;          // nvrtcGetSupportedArchs: 75, 80, ..., ascending
    /// A CUDA toolkit's include folders, when one is installed beside NVRTC (or under
    /// CUDA_HOME / CUDA_PATH / /usr/local/cuda): cuda_fp16.h, cooperative_groups.h and libcu++
    /// then resolve there, after manycore's own stand-ins. Empty when there is none.
    std::vector<std::string> toolkit_includes;

    std::string version_text() const { return std::to_string(major) + "." + std::to_string(minor); }
    friend bool operator==(const NvrtcIdentity&, const NvrtcIdentity&) = default;
};

/// NVRTC's entry points; a missing one throws DeviceUnavailable naming it. Immutable once
/// loaded; NVRTC itself is thread-safe for distinct programs.
struct NvrtcApi : NvrtcIdentity {
#define MC_NVRTC_MEMBER(name, ret, ...) ret (*name)(__VA_ARGS__) = nullptr;
    MC_NVRTC_FUNCTIONS(MC_NVRTC_MEMBER)
#undef MC_NVRTC_MEMBER
};

/// Where NVRTC is looked for, in order (cuda.pathfinder's order, less the NVIDIA wheels: the
/// Python package may put a wheel's library in MANYCORE_NVRTC_PATH before first use).
struct NvrtcSearch {
    std::string explicit_path;          // MANYCORE_NVRTC_PATH (or MANYCORE_NVRTC): only this one
    std::vector<std::string> sonames;   // by the system loader: libnvrtc.so.13, libnvrtc.so.12
    std::vector<std::string> folders;   // $CUDA_HOME/lib64, $CUDA_PATH/lib64, /usr/local/cuda/lib64
    /// The search of this process, from Config and CUDA_HOME / CUDA_PATH.
    static NvrtcSearch from_config();
};

/// Loads NVRTC as `search` says. Returns "" and fills `out`, or returns what was tried and why
/// it failed. Never throws, never dlcloses. Tests call it with their own search.
std::string load_nvrtc(const NvrtcSearch& search, NvrtcApi& out) noexcept;

/// The process's NVRTC, loaded once; throws DeviceUnavailable naming every place tried.
/// Thread-safe.
const NvrtcApi& nvrtc();

}  // namespace manycore::cuda
