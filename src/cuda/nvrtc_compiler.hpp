// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Compiling a module's source with NVRTC: the translation unit, the target, options, lowered names.
#pragma once

#include <string>
#include <vector>

#include "cuda/nvrtc_api.hpp"
#include "manycore/detail/backend.hpp"

namespace manycore::cuda {

/// What NVRTC should produce for a device: a cubin for an architecture it knows, else PTX for
/// the newest virtual architecture not above the device's, which the driver's JIT finishes.
struct Target {
    int arch = 0;        // 90
    bool cubin = true;   // false: PTX
    std::string option;  // "--gpu-architecture=sm_90" or "--gpu-architecture=compute_90"
    std::string text() const { return (cubin ? "sm_" : "compute_") + std::to_string(arch); }
};

/// The target for compute capability `cc` (10 * major + minor). Throws DeviceUnavailable when
/// the device is older than every architecture this NVRTC supports.
Target choose_target(const NvrtcIdentity& nvrtc, int cc, const std::string& device_name);

/// The program NVRTC compiles: the prelude, the user's source as given (`#line 1 "kernel.cu"`,
/// so messages carry the user's line numbers) and one parameter table per kernel.
std::string translation_unit(const detail::ModuleSource& source);

/// The options given to NVRTC: ours first (target, C++ dialect, line info), then the user's,
/// then the toolkit's include folders (a user's -I wins over them).
std::vector<std::string> nvrtc_options(const NvrtcIdentity& nvrtc, const Target& target,
                                       const std::vector<std::string>& user_options);

/// What a compile gives.
struct CompiledProgram {
    std::vector<char> image;                 // cubin, or PTX with its terminating NUL
    std::vector<std::string> lowered_names;  // one per kernel, in ModuleSource order
    std::string log;                         // NVRTC's warnings (may be empty)
};

/// Compiles `tu` (translation_unit(source)) for `target`. Throws CompileError with NVRTC's log (file:line: form, the
/// user's lines), the user's source and the user's options; DeviceUnavailable when NVRTC is
/// missing. `where` opens messages ("SourceModule(device='cuda:0')"). Thread-safe.
CompiledProgram compile_program(const NvrtcApi& nvrtc, const detail::ModuleSource& source,
                                const std::string& tu, const Target& target,
                                const std::string& where);

/// Rewrites NVRTC's "file(12): error: ..." to "file:12: error: ...", the form the host
/// compiler uses, so logs read and parse the same on every device.
std::string normalise_log(const std::string& log);

}  // namespace manycore::cuda

namespace manycore::cuda {

/// What manycore.cuda.compile gives: the image NVRTC produced for an architecture.
struct OfflineImage {
    std::vector<char> image;  // cubin, or PTX with its terminating NUL
    bool cubin = true;
    std::string target;  // "sm_90" or "compute_90"
    std::string log;     // NVRTC's warnings
};

/// Compiles `source` exactly as a SourceModule on a GPU of compute capability `cc` would
/// (same prelude, same options, same analysis), without a GPU or a driver: NVRTC is enough.
/// With `checked`, as SourceModule(checked=True) would. Throws CompileError,
/// DeviceUnavailable (no NVRTC; `cc` older than NVRTC supports).
OfflineImage compile_for_architecture(std::string_view source, int cc,
                                      const std::vector<std::string>& options,
                                      const std::vector<std::string>& name_expressions,
                                      bool checked = false);

}  // namespace manycore::cuda
