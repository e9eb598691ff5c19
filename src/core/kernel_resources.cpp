// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Function::resource_usage: the driver's numbers on a GPU, NVRTC's for the emulated GPU on the CPU.
#include "core/kernel_resources.hpp"

#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "manycore/config.hpp"
#include "manycore/error.hpp"
#include "manycore/module.hpp"

namespace manycore::detail {

struct ModuleResources {
    ModuleSource source;
    std::once_flag once;
    std::vector<KernelResources> by_kernel;  // source.kernels' order, once worked out
};

std::shared_ptr<ModuleResources> make_module_resources(ModuleSource source) {
    auto r = std::make_shared<ModuleResources>();
    r->source = std::move(source);
    return r;
}

KernelResources KernelImpl::resources() const {
    KernelResources r;
    r.reason = "this device reports no kernel resources";
    return r;
}

std::vector<KernelResources> Backend::offline_resources(const ModuleSource&,
                                                        const ArchLimits&) const {
    throw DeviceUnavailable("this manycore was built without the CUDA room "
                            "(MANYCORE_ENABLE_CUDA=OFF), which compiles kernels with NVRTC");
}

int Backend::device_attribute(int, int) const {
    throw DeviceUnavailable("device attributes come from a GPU's driver; this device has none");
}

namespace {

// The CPU's answer: the module compiled for the emulated architecture, one entry per kernel.
std::vector<KernelResources> emulated(const ModuleSource& source) {
    const std::string arch = Config::get().emulated_arch;
    const ArchLimits& limits = arch_limits(arch);
    std::vector<KernelResources> out;
    try {
        out = backend(DeviceKind::cuda).offline_resources(source, limits);
    } catch (const Error& e) {
        out.assign(source.kernels.size(), KernelResources{});
        for (auto& r : out) r.reason = e.what();
    }
    for (auto& r : out) {
        r.arch = arch;
        r.source = "nvrtc";
    }
    return out;
}

}  // namespace
}  // namespace manycore::detail

namespace manycore {

KernelResources Function::resource_usage() const {
    if (device().kind() != DeviceKind::cpu) return kernel_->resources();
    detail::ModuleResources& m = *resources_;
    std::call_once(m.once, [&m] { m.by_kernel = detail::emulated(m.source); });
    for (std::size_t i = 0; i < m.source.kernels.size() && i < m.by_kernel.size(); ++i)
        if (m.source.kernels[i].name == name()) return m.by_kernel[i];
    KernelResources r;
    r.arch = Config::get().emulated_arch;
    r.source = "nvrtc";
    r.reason = "kernel '" + name() + "' was not found in its module's source";
    return r;
}

}  // namespace manycore
