// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// What `manycore info` and `manycore cache` report: versions, compiler, threads, cache.
#include <nanobind/stl/string.h>

#include "core/compile_cache.hpp"
#include "cpu/executor.hpp"
#include "cpu/host_compiler.hpp"
#include "manycore/config.hpp"
#include "manycore/error.hpp"
#include "python/bindings.hpp"

namespace manycore::python {
namespace {

nb::dict cache_info() {
    const auto info = detail::CompileCache::instance().info();
    nb::dict d;
    d["directory"] = info.directory.string();
    d["usable"] = info.usable;
    d["reason"] = info.reason;
    d["entries"] = info.entries;
    d["bytes"] = info.bytes;
    d["enabled"] = Config::get().cache_enabled;
    return d;
}

nb::dict compiler_info() {
    nb::dict d;
    try {
        const auto& c = cpu::host_compiler();
        d["path"] = c.path.string();
        d["version"] = cpu::host_compiler_version();
        d["available"] = true;
    } catch (const DeviceUnavailable& e) {
        d["available"] = false;
        d["reason"] = std::string(e.what());
    }
    return d;
}

}  // namespace

void bind_info(nb::module_& m) {
    m.attr("__version__") = version();
    m.def("cache_info", &cache_info, "The compile cache's folder, state, entries and bytes.");
    m.def("cache_clear", [] { return detail::CompileCache::instance().clear(); },
          "Removes every compiled module of this version; returns how many.");
    m.def("compiler_info", &compiler_info, "The host compiler the CPU device uses.");
    m.def("num_threads", &cpu::worker_count, "Threads the CPU device runs blocks on.");
}

}  // namespace manycore::python
