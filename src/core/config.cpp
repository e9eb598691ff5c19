// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Reads manycore's environment variables, once.
#include "manycore/config.hpp"

#include <unistd.h>

#include <cstdlib>
#include <string>

#include "manycore/arch_limits.hpp"
#include "manycore/error.hpp"

namespace manycore {
namespace {

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string();
}

std::size_t env_size(const char* name, std::size_t fallback) {
    const std::string text = env(name);
    if (text.empty()) return fallback;
    char* end = nullptr;
    const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
    if (end == text.c_str() || *end != '\0') {
        throw InvalidArgument(std::string(name) + "='" + text +
                              "' is not a whole number; unset it or give a count such as 4");
    }
    return static_cast<std::size_t>(v);
}

// "1" (or "true", "yes", "on") turns a switch on; "", "0", "false", "no", "off" leave it off.
bool flag(const char* name) {
    const std::string text = env(name);
    if (text.empty() || text == "0" || text == "false" || text == "no" || text == "off") return false;
    if (text == "1" || text == "true" || text == "yes" || text == "on") return true;
    throw InvalidArgument(std::string(name) + "='" + text + "' is not a switch; set it to 1 or 0");
}

// MANYCORE_EMULATED_ARCH: exactly "sm_" and the digits of an architecture in the table.
std::string emulated_arch_setting() {
    const std::string text = env("MANYCORE_EMULATED_ARCH");
    if (text.empty()) return "sm_90";
    const bool spelled = text.rfind("sm_", 0) == 0 && text.size() > 3 &&
                         text.find_first_not_of("0123456789", 3) == std::string::npos;
    if (spelled) {
        if (const ArchLimits* limits = find_arch_limits(parse_architecture(text))) {
            return limits->name();
        }
    }
    std::string known;
    for (int arch : known_architectures())
        known += (known.empty() ? "sm_" : ", sm_") + std::to_string(arch);
    throw InvalidArgument("MANYCORE_EMULATED_ARCH='" + text +
                          "' is not a GPU architecture manycore knows; set it to one of " + known +
                          " (sm_50 to sm_121), or unset it for sm_90");
}

std::string default_cache_dir() {
    const std::string xdg = env("XDG_CACHE_HOME");
    if (!xdg.empty()) return xdg + "/manycore";
    const std::string home = env("HOME");
    if (!home.empty()) return home + "/.cache/manycore";
    return "/tmp/manycore-cache-" + std::to_string(static_cast<long>(::geteuid()));
}

}  // namespace

Config Config::from_environment() {
    Config c;
    c.device = env("MANYCORE_DEVICE");
    c.num_threads = static_cast<unsigned>(env_size("MANYCORE_NUM_THREADS", 0));
    c.cache_dir = env("MANYCORE_CACHE_DIR");
    if (c.cache_dir.empty()) c.cache_dir = default_cache_dir();
    c.cache_enabled = env("MANYCORE_CACHE") != "0";
    c.keep_source = env("MANYCORE_KEEP_SOURCE") == "1";
    c.log_level = env("MANYCORE_LOG");
    c.launch_lints = env("MANYCORE_LINTS") != "0";
    c.cxx = env("CXX");
    c.max_shared_per_block = env_size("MANYCORE_MAX_SHARED_BYTES", c.max_shared_per_block);
    c.fiber_stack_bytes = env_size("MANYCORE_FIBER_STACK_BYTES", c.fiber_stack_bytes);
    c.cuda_driver_path = env("MANYCORE_CUDA_DRIVER_PATH");
    c.nvrtc_path = env("MANYCORE_NVRTC_PATH");
    if (c.nvrtc_path.empty()) c.nvrtc_path = env("MANYCORE_NVRTC");  // the spelling
    c.check = flag("MANYCORE_CHECK");
    c.check_collect = env("MANYCORE_CHECK_COLLECT");
    c.check_on_cpu = flag("MANYCORE_CHECK_ON_CPU");
    const std::string scheme = env("MANYCORE_CPU_SCHEME");
    if (scheme == "fibers") {
        c.cpu_fibers = true;
    } else if (!scheme.empty() && scheme != "auto" && scheme != "fission") {
        throw InvalidArgument("MANYCORE_CPU_SCHEME='" + scheme +
                              "' is not a scheme; set it to auto (loop fission where it can, "
                              "fibers elsewhere) or fibers, or unset it");
    }
    c.emulated_arch = emulated_arch_setting();
    return c;
}

const Config& Config::get() {
    static const Config config = from_environment();
    return config;
}

const char* version() noexcept { return MANYCORE_VERSION; }

}  // namespace manycore
