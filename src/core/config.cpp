// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Reads manycore's environment variables, once.
#include "manycore/config.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "manycore/arch_limits.hpp"
#include "manycore/device.hpp"

#include "manycore/error.hpp"

namespace manycore {
namespace {

constexpr std::size_t kMaxThreads = 4096;
constexpr std::size_t kMaxBytes = std::size_t{1} << 30;
constexpr std::size_t kMinFiberStack = 16 * 1024;

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string();
}

// A whole number in [lo, hi], or `fallback` when unset. `unit` names what it counts.
std::size_t env_size(const char* name, std::size_t fallback, std::size_t lo, std::size_t hi,
                     const char* unit) {
    const std::string text = env(name);
    if (text.empty()) return fallback;
    const auto bad = [&](const std::string& why) {
        return InvalidArgument(std::string(name) + "='" + text + "' " + why + "; give a whole " +
                               "number of " + unit + " from " + std::to_string(lo) + " to " +
                               std::to_string(hi) + ", or unset it (default " +
                               std::to_string(fallback) + ")");
    };
    // strtoull would take "-1" as 2^64 - 1 and stop silently at "1e23"'s "e".
    if (text.find_first_not_of("0123456789") != std::string::npos) throw bad("is not a whole number");
    errno = 0;
    const unsigned long long v = std::strtoull(text.c_str(), nullptr, 10);
    if (errno == ERANGE || v < lo || v > hi) throw bad("is out of range");
    return static_cast<std::size_t>(v);
}

double env_seconds(const char* name, double fallback, double hi) {
    const std::string text = env(name);
    if (text.empty()) return fallback;
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || *end != '\0' || errno == ERANGE || !(v > 0) || v > hi) {
        throw InvalidArgument(std::string(name) + "='" + text + "' is not a time in seconds " +
                              "from more than 0 to " + std::to_string(static_cast<long>(hi)) +
                              "; give one such as 600, or unset it (default " +
                              std::to_string(static_cast<long>(fallback)) + ")");
    }
    return v;
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
    if (!c.device.empty()) {
        try {
            (void)Device::parse(c.device);
        } catch (const InvalidArgument&) {
            throw InvalidArgument("MANYCORE_DEVICE='" + c.device + "' is not a device name; " +
                                  "give cpu, cuda or cuda:N, or unset it (default: the first "
                                  "GPU, else the CPU)");
        }
    }
    c.num_threads =
        static_cast<unsigned>(env_size("MANYCORE_NUM_THREADS", 0, 1, kMaxThreads, "threads"));
    c.cache_dir = env("MANYCORE_CACHE_DIR");
    if (c.cache_dir.empty()) c.cache_dir = default_cache_dir();
    c.cache_enabled = env("MANYCORE_CACHE") != "0";
    c.keep_source = env("MANYCORE_KEEP_SOURCE") == "1";
    c.log_level = env("MANYCORE_LOG");
    c.launch_lints = env("MANYCORE_LINTS") != "0";
    c.cxx = env("CXX");
    c.max_shared_per_block = env_size("MANYCORE_MAX_SHARED_BYTES", c.max_shared_per_block, 0,
                                      kMaxBytes, "bytes");
    c.fiber_stack_bytes = env_size("MANYCORE_FIBER_STACK_BYTES", c.fiber_stack_bytes,
                                   kMinFiberStack, kMaxBytes, "bytes");
    c.compile_timeout_seconds =
        env_seconds("MANYCORE_COMPILE_TIMEOUT", c.compile_timeout_seconds, 7 * 24 * 3600.0);
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
    c.peer_copy = env("MANYCORE_PEER_COPY").empty() || flag("MANYCORE_PEER_COPY");
    return c;
}

const Config& Config::get() {
    static const Config config = from_environment();
    return config;
}

const char* version() noexcept { return MANYCORE_VERSION; }

}  // namespace manycore
