// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// What NVRTC is, remembered between processes, so a cached GPU module loads without NVRTC.
#pragma once

#include <functional>

#include "core/compile_cache.hpp"
#include "cuda/nvrtc_api.hpp"

namespace manycore::cuda {

/// The NVRTC this process would load: version, architectures, toolkit folders and path. Read
/// from two small compile-cache entries when an earlier process recorded them, else loads
/// NVRTC and records them: opening the 100 MB library is most of what a cached module's load
/// would otherwise cost. The record is trusted only while what decides which file the loader
/// opens (MANYCORE_NVRTC_PATH, the folders searched, LD_LIBRARY_PATH, /etc/ld.so.cache) and the
/// file itself (size, modification time, inode) are unchanged. Thread-safe; computed once per
/// process. Throws DeviceUnavailable as nvrtc() does when there is no NVRTC.
const NvrtcIdentity& nvrtc_identity();

/// nvrtc_identity() for tests: `cache` holds the record, `load` loads NVRTC (and throws
/// DeviceUnavailable when it cannot); `search` is what the loader would be told.
NvrtcIdentity remembered_nvrtc_identity(detail::CompileCache& cache, const NvrtcSearch& search,
                                        const std::function<NvrtcIdentity()>& load);

}  // namespace manycore::cuda
