// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Settings read once from the environment (docs/env.md lists them).
#pragma once

#include <cstddef>
#include <string>

namespace manycore {

struct Config {
    std::string device;             // MANYCORE_DEVICE ("" = choose)
    unsigned num_threads = 0;       // MANYCORE_NUM_THREADS (0 = every core we may run on)
    std::string cache_dir;          // MANYCORE_CACHE_DIR, else $XDG_CACHE_HOME/manycore, else ~/.cache/manycore
    bool cache_enabled = true;      // MANYCORE_CACHE=0 bypasses the disk cache
    bool keep_source = false;       // MANYCORE_KEEP_SOURCE=1 keeps the generated source beside the entry
    std::string log_level;          // MANYCORE_LOG: "debug", "info", "warning" (default)
    bool launch_lints = true;       // MANYCORE_LINTS=0 starts with launch lints off
    std::string cxx;                // CXX: the host compiler
    std::size_t max_shared_per_block = 48 * 1024;  // MANYCORE_MAX_SHARED_BYTES
    std::size_t fiber_stack_bytes = 64 * 1024;     // MANYCORE_FIBER_STACK_BYTES
    double compile_timeout_seconds = 600;          // MANYCORE_COMPILE_TIMEOUT
    std::string cuda_driver_path;   // MANYCORE_CUDA_DRIVER_PATH ("" = libcuda.so.1 by soname)
    std::string nvrtc_path;         // MANYCORE_NVRTC_PATH, else MANYCORE_NVRTC ("" = search)
    bool check = false;             // MANYCORE_CHECK=1: every CPU module is checked
    std::string check_collect;      // MANYCORE_CHECK_COLLECT: findings appended here, no raise
    bool check_on_cpu = false;      // MANYCORE_CHECK_ON_CPU=1: GPU modules and arrays on the CPU
    bool cpu_fibers = false;        // MANYCORE_CPU_SCHEME=fibers ("auto" or "fission": false)
    std::string emulated_arch = "sm_90";  // MANYCORE_EMULATED_ARCH: the GPU the CPU answers for
    bool peer_copy = true;          // MANYCORE_PEER_COPY=0: copies between GPUs go through host memory

    /// The process-wide settings, read from the environment on first use. Thread-safe.
    static const Config& get();
    /// Reads the settings from the environment now (for tests and `manycore info`).
    static Config from_environment();
};

/// manycore's version, "0.1.0"; part of every cache key.
const char* version() noexcept;

}  // namespace manycore
