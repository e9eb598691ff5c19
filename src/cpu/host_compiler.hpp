// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Finds the host C++ compiler and turns one translation unit into a shared library.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace manycore::cpu {

struct HostCompiler {
    std::filesystem::path path;  // resolved absolute path of the driver
    /// What decides its output without running it: path, size, mtime and inode of the
    /// driver, plus the host CPU's model (for -march=native). Cheap; used in cache keys.
    std::string identity;
};

/// CXX when set, else g++ then clang++ on PATH. Cached after the first call; thread-safe.
/// Never runs the compiler, so a module found in the cache loads without spawning anything.
/// Throws DeviceUnavailable naming what was tried when none is found.
const HostCompiler& host_compiler();

/// The first line of `host_compiler() --version`, e.g. "g++ (Debian 12.2.0-14) 12.2.0": runs
/// the compiler once per process, when something compiles or reports it. Throws
/// DeviceUnavailable when the compiler does not run.
const std::string& host_compiler_version();

/// Default options when the user passes none: {"-O3", "-march=native"}.
std::vector<std::string> default_compile_options();

/// Compiles `translation_unit` (C++20, -fPIC -shared, exceptions on) into a shared library and
/// returns its bytes. `options` are added after manycore's own. Diagnostics mention
/// `display_name` for the user's file. Throws CompileError carrying the compiler's log (with
/// the temporary paths removed) and `user_source`.
std::vector<std::byte> compile_shared_library(const HostCompiler& compiler,
                                              std::string_view translation_unit,
                                              const std::vector<std::string>& options,
                                              std::string_view user_source);

}  // namespace manycore::cpu
