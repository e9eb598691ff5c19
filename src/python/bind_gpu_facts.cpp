// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Python view of what GPUs are made of: architecture limits, device attributes, kernel resources.
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <optional>

#include "manycore/arch_limits.hpp"
#include "manycore/kernel_resources.hpp"
#include "manycore/module.hpp"
#include "python/bindings.hpp"

namespace manycore::python {
namespace {

template <class T>
nb::object optional(const std::optional<T>& v) {
    return v ? nb::cast(*v) : nb::none();
}

nb::dict limits_dict(const ArchLimits& l) {
    nb::dict d;
    d["arch"] = l.name();
    d["warp_size"] = l.warp_size;
    d["max_threads_per_block"] = l.max_threads_per_block;
    d["max_threads_per_sm"] = l.max_threads_per_sm;
    d["max_warps_per_sm"] = l.max_warps_per_sm;
    d["max_blocks_per_sm"] = l.max_blocks_per_sm;
    d["registers_per_sm"] = l.registers_per_sm;
    d["max_registers_per_block"] = l.max_registers_per_block;
    d["max_registers_per_thread"] = l.max_registers_per_thread;
    d["register_allocation_unit"] = l.register_allocation_unit;
    d["register_allocation_granularity"] = l.register_allocation_granularity;
    d["sub_partitions"] = l.sub_partitions;
    d["shared_per_sm"] = l.shared_per_sm;
    d["max_shared_per_block"] = l.max_shared_per_block;
    d["max_shared_per_block_optin"] = l.max_shared_per_block_optin;
    d["shared_allocation_unit"] = l.shared_allocation_unit;
    d["reserved_shared_per_block"] = l.reserved_shared_per_block;
    return d;
}

}  // namespace

void bind_gpu_facts(nb::module_& m) {
    m.def(
        "arch_limits", [](const std::string& arch) { return limits_dict(arch_limits(arch)); },
        nb::arg("arch"), "The limits of a GPU architecture ('sm_90') as a dict.");
    m.def("known_architectures", &known_architectures,
          "Every architecture arch_limits knows, as numbers (50, ..., 121).");
    m.def("emulated_arch", &emulated_arch,
          "The GPU architecture the CPU stands in for (MANYCORE_EMULATED_ARCH, default sm_90).");
    m.def(
        "device_attribute",
        [](const Device& d, int attribute) {
            nb::gil_scoped_release release;
            return device_attribute(d, attribute);
        },
        nb::arg("device"), nb::arg("attribute"), "A GPU's CUdevice_attribute value.");
    m.def("memory_info", [](const Device& d) {
        std::pair<std::size_t, std::size_t> info;
        {
            nb::gil_scoped_release release;
            info = memory_info(d);
        }
        return nb::make_tuple(info.first, info.second);
    }, nb::arg("device"), "(free, total) bytes of the device's memory.");
    m.def("module_global", [](const Module& m, const std::string& name) { return m.global(name); },
          nb::arg("module"), nb::arg("name"),
          "The bytes of a module's __constant__ or __device__ variable, as a uint8 Array.");
    m.def(
        "function_resources",
        [](const Function& f) {
            KernelResources r;
            {
                nb::gil_scoped_release release;  // on the CPU, an NVRTC compile the first time
                r = f.resource_usage();
            }
            return nb::make_tuple(optional(r.registers), optional(r.shared_bytes),
                                  optional(r.local_bytes), optional(r.const_bytes),
                                  optional(r.max_threads_per_block), r.arch, r.source,
                                  r.reason.empty() ? nb::none() : nb::cast(r.reason));
        },
        nb::arg("function"),
        "(registers, shared, local, const, max threads, arch, source, reason).");
}

}  // namespace manycore::python
