// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// GPU modules: the cache entry's payload format, loading it into a context, and kernels that launch.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "manycore/detail/backend.hpp"
#include "manycore/prelude/abi.h"

namespace manycore::cuda {

class DeviceState;

/// A cache entry's payload: everything needed to load the module without NVRTC.
///
/// Layout (little-endian), version 1:
///   "MCGPUMOD" | u32 version | u32 image kind (0 cubin, 1 PTX) | u32 kernels | u32 0
///   per kernel: u32 n + name | u32 n + lowered name | u32 params + mc_param_desc[params]
///   zero padding to a multiple of 16 | u64 image size | u64 0 | image bytes
struct ModulePayload {
    struct Kernel {
        std::string name;     // as get_function takes it
        std::string lowered;  // the mangled symbol for cuModuleGetFunction
        std::vector<mc_param_desc> params;
    };
    bool cubin = true;
    std::vector<Kernel> kernels;
    std::vector<char> image;

    std::vector<std::byte> serialise() const;
    /// Throws Error (naming `path` and how to clear the cache) when `bytes` is not a payload.
    static ModulePayload parse(const std::byte* bytes, std::size_t size, const std::string& path);
};

/// Compiles (or loads from the disk cache) `source` for `device`. Thread-safe.
std::shared_ptr<const detail::ModuleImpl> build_module(DeviceState& device,
                                                       const detail::ModuleSource& source);

}  // namespace manycore::cuda
