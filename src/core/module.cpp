// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Modules and functions: the in-process module cache, launch checks, dispatch to the backends.
#include "manycore/module.hpp"

#include <atomic>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/argument_packing.hpp"
#include "core/compile_cache.hpp"
#include "core/compile_support.hpp"
#include "core/kernel_resources.hpp"
#include "core/launch_lints.hpp"
#include "core/profiler_hook.hpp"
#include "core/source_analysis.hpp"
#include "manycore/config.hpp"
#include "manycore/detail/backend.hpp"
#include "manycore/error.hpp"

namespace manycore {

namespace detail {
struct ModuleLints {
    std::vector<std::pair<std::string, LaunchLintFacts>> by_kernel;
    // What the module was built from, for its memory-profile build (Function::memory_profile_build).
    std::shared_ptr<const std::string> source;
    ModuleOptions options;
};
}  // namespace detail

namespace {

std::string dims(const Dim3& d) {
    return "(" + std::to_string(d.x) + ", " + std::to_string(d.y) + ", " + std::to_string(d.z) +
           ")";
}

void check_launch(const std::string& kernel, const LaunchConfig& c, const DeviceInfo& info,
                  std::size_t static_shared, const Device& device) {
    const auto where = kernel + "(): ";
    const std::uint32_t block[3] = {c.block.x, c.block.y, c.block.z};
    const std::uint32_t grid[3] = {c.grid.x, c.grid.y, c.grid.z};
    const char* axis[3] = {"x", "y", "z"};
    for (int i = 0; i < 3; ++i) {
        if (block[i] == 0) {
            throw InvalidLaunch(where + "block=" + dims(c.block) +
                                " has a zero dimension; every dimension must be at least 1");
        }
        if (grid[i] == 0) {
            throw InvalidLaunch(where + "grid=" + dims(c.grid) +
                                " has a zero dimension; every dimension must be at least 1");
        }
        if (block[i] > info.max_block_dim[i]) {
            throw InvalidLaunch(where + "block=" + dims(c.block) + ": block." + axis[i] + " = " +
                                std::to_string(block[i]) + " exceeds " + device.str() +
                                "'s limit of " + std::to_string(info.max_block_dim[i]));
        }
        if (grid[i] > info.max_grid_dim[i]) {
            throw InvalidLaunch(where + "grid=" + dims(c.grid) + ": grid." + axis[i] + " = " +
                                std::to_string(grid[i]) + " exceeds " + device.str() +
                                "'s limit of " + std::to_string(info.max_grid_dim[i]));
        }
    }
    const std::uint64_t threads =
        static_cast<std::uint64_t>(c.block.x) * c.block.y * c.block.z;
    if (threads > info.max_threads_per_block) {
        throw InvalidLaunch(where + "block=" + dims(c.block) + " has " + std::to_string(threads) +
                            " threads; " + device.str() + " allows at most " +
                            std::to_string(info.max_threads_per_block) +
                            " per block: use a smaller block and a larger grid");
    }
    if (c.shared_bytes + static_shared > info.max_shared_per_block) {
        throw InvalidLaunch(where + "shared=" + std::to_string(c.shared_bytes) + " bytes plus " +
                            std::to_string(static_shared) +
                            " bytes of static __shared__ memory exceed the " +
                            std::to_string(info.max_shared_per_block) +
                            " bytes a block may use on " + device.str() +
                            " (MANYCORE_MAX_SHARED_BYTES raises the CPU's limit)");
    }
}

std::atomic<int>& scheme_flag() {
    static std::atomic<int> flag{Config::get().cpu_fibers ? static_cast<int>(CpuScheme::fibers)
                                                          : static_cast<int>(CpuScheme::automatic)};
    return flag;
}

std::string options_text(const ModuleOptions& o) {
    std::string text = detail::key_field(o.compiler_options) + '\x1e' +
                       detail::key_field(o.name_expressions);
    text += o.checked ? "\x1e" "checked" : "";
    text += o.memory_profile ? "\x1e" "memory" : "";
    text += o.cpu_scheme == CpuScheme::fibers ? "\x1e" "fibers" : "";
    return text;
}

// Identical modules built in this process: a second SourceModule of the same source costs a
// hash and a lookup. The lint facts read from the source are kept beside each module, so a
// reused module has them without reading the source again.
struct RegisteredModule {
    std::shared_ptr<const detail::ModuleImpl> impl;
    std::shared_ptr<const detail::ModuleLints> lints;
    std::shared_ptr<detail::ModuleResources> resources;
};

class ModuleRegistry {
  public:
    RegisteredModule find(const std::string& key) {
        std::lock_guard lock(mutex_);
        auto it = modules_.find(key);
        return it == modules_.end() ? RegisteredModule{} : it->second;
    }
    RegisteredModule insert(const std::string& key, RegisteredModule m) {
        std::lock_guard lock(mutex_);
        return modules_.try_emplace(key, std::move(m)).first->second;
    }

  private:
    std::mutex mutex_;
    std::unordered_map<std::string, RegisteredModule> modules_;
};

ModuleRegistry& registry() {
    static ModuleRegistry r;
    return r;
}

}  // namespace

Function::Function(std::shared_ptr<const detail::ModuleImpl> module,
                   std::shared_ptr<const detail::KernelImpl> kernel,
                   std::shared_ptr<const detail::ModuleLints> module_facts,
                   std::shared_ptr<const detail::LaunchLintFacts> lint_facts,
                   std::shared_ptr<detail::ModuleResources> resources)
    : module_(std::move(module)), kernel_(std::move(kernel)),
      module_facts_(std::move(module_facts)), lint_facts_(std::move(lint_facts)),
      resources_(std::move(resources)) {}

const std::string& Function::name() const noexcept { return kernel_->name(); }
const std::vector<ParamInfo>& Function::params() const noexcept { return kernel_->params(); }
bool Function::uses_fibers() const noexcept { return kernel_->uses_fibers(); }
ExecutionMode Function::execution_mode() const noexcept { return kernel_->execution_mode(); }
const std::string& Function::execution_reason() const noexcept {
    return kernel_->execution_reason();
}

const char* execution_mode_name(ExecutionMode mode) noexcept {
    switch (mode) {
        case ExecutionMode::loop:
            return "loop";
        case ExecutionMode::fission:
            return "fission";
        case ExecutionMode::fibers:
            return "fibers";
        case ExecutionMode::gpu:
            return "gpu";
    }
    return "loop";
}

CpuScheme cpu_scheme() { return static_cast<CpuScheme>(scheme_flag().load(std::memory_order_relaxed)); }
void set_cpu_scheme(CpuScheme scheme) noexcept {
    scheme_flag().store(static_cast<int>(scheme), std::memory_order_relaxed);
}
std::size_t Function::static_shared_bytes() const noexcept {
    return kernel_->static_shared_bytes();
}
const Device& Function::device() const noexcept { return module_->device(); }

std::string Function::signature() const {
    std::string s = name() + "(";
    const auto& ps = params();
    for (std::size_t i = 0; i < ps.size(); ++i) {
        if (i) s += ", ";
        s += (ps[i].spelling.empty() ? detail::describe_param_type(ps[i].desc) : ps[i].spelling) +
             " " + ps[i].name;
    }
    return s + ")";
}

void Function::launch(const LaunchConfig& config, std::span<const KernelArg> args,
                      ArgumentRules rules) const {
    const Device& device = module_->device();
    check_launch(name(), config, module_->device_info(), kernel_->static_shared_bytes(), device);
    detail::PackedArgs packed;
    detail::pack_arguments(name(), kernel_->params(), device, args, packed, rules);
    // The one test a launch makes for profiling: no profile, no profiling code.
    if (detail::active_profile.load(std::memory_order_relaxed) != nullptr) [[unlikely]] {
        detail::profiled_launch(*this, config, args, packed.pointers());
        return;
    }
    run(config, args, packed.pointers());
}

void Function::run(const LaunchConfig& config, std::span<const KernelArg> args,
                   void* const* packed) const {
    if (kernel_->checked()) {
        std::vector<detail::ArgExtent> extents(args.size());
        for (std::size_t i = 0; i < args.size(); ++i) {
            if (args[i].kind() == KernelArg::Kind::array && args[i].from_array()) {
                extents[i] = {args[i].nbytes(), true};
            }
        }
        kernel_->launch_checked(config, packed, extents);
        return;
    }
    kernel_->launch(config, packed);
}

Function Function::memory_profile_build() const {
    if (!module_facts_) {
        throw InvalidArgument("kernel '" + name() + "': its source is not known, so it cannot "
                              "be built for the memory profile");
    }
    ModuleOptions options;
    if (module_->device().kind() == DeviceKind::cpu) {
        options.compiler_options = module_facts_->options.compiler_options;
    } else {
        // The host compiler takes none of NVRTC's options but its macros and folders.
        for (const std::string& o : module_facts_->options.compiler_options)
            if (o.rfind("-D", 0) == 0 || o.rfind("-U", 0) == 0 || o.rfind("-I", 0) == 0)
                options.compiler_options.push_back(o);
        if (!options.compiler_options.empty()) options.compiler_options.insert(options.compiler_options.begin(), "-O2");
    }
    options.name_expressions = module_facts_->options.name_expressions;
    options.follow_environment = false;
    options.memory_profile = true;
    return Module(*module_facts_->source, Device::cpu(), std::move(options)).function(name());
}

std::shared_ptr<const std::string> Function::source_text() const {
    return module_facts_ ? module_facts_->source : nullptr;
}

void detail::KernelImpl::launch_checked(const LaunchConfig&, void* const*,
                                        std::span<const ArgExtent>) const {
    throw InvalidArgument("kernel '" + name() + "': this device cannot run checked kernels");
}

int detail::KernelImpl::active_blocks_per_multiprocessor(unsigned, std::size_t) const {
    throw InvalidArgument("kernel '" + name() + "': only a GPU's driver has an occupancy "
                          "calculator; manycore.occupancy() computes it on the CPU");
}

int Function::active_blocks_per_multiprocessor(unsigned threads,
                                               std::size_t dynamic_shared) const {
    return kernel_->active_blocks_per_multiprocessor(threads, dynamic_shared);
}

MemoryProfile detail::KernelImpl::launch_memory_profile(const LaunchConfig&, void* const*,
                                                        std::span<const ArgExtent>) const {
    throw InvalidArgument("kernel '" + name() + "': it was not built for the memory profile");
}

void Function::check(const LaunchConfig& config, std::span<const KernelArg> args,
                     ArgumentRules rules) const {
    check_launch(name(), config, module_->device_info(), kernel_->static_shared_bytes(),
                 module_->device());
    detail::PackedArgs packed;
    detail::pack_arguments(name(), kernel_->params(), module_->device(), args, packed, rules);
}

std::vector<ArgumentNote> Function::pycuda_notes(std::span<const KernelArg> args) const {
    return detail::pycuda_notes(name(), kernel_->params(), args);
}

std::vector<LaunchLint> Function::lints(const LaunchConfig& config,
                                        std::span<const KernelArg> args) const {
    return detail::find_launch_lints(name(), lint_facts_.get(), params(), config, args);
}

Module::Module(std::string_view source, const Device& asked, ModuleOptions options) {
    const Device device = effective_device(asked);
    // On a GPU, checked mode is bounds checks; races, barriers and uninitialized reads there are
    // compute-sanitizer's (`manycore check --sanitizer`).
    if (Config::get().check && options.follow_environment) options.checked = true;
    if (options.memory_profile && device.kind() != DeviceKind::cpu) {
        throw InvalidArgument("SourceModule: the memory profile's build runs on the CPU only, "
                              "not on " + device.str());
    }
    options.cpu_scheme = cpu_scheme();
    (void)device.info();  // DeviceUnavailable before any work
    const auto key = detail::CacheKey::of({device.str(), source, options_text(options)}).hex();
    if (auto found = registry().find(key); found.impl) {
        impl_ = std::move(found.impl);
        lints_ = std::move(found.lints);
        resources_ = std::move(found.resources);
        return;
    }
    detail::SourceAnalysis analysis;
    detail::ModuleSource module_source;
    const auto build = [&](detail::CheckedHelpers checked_helpers) {
        // Checked and memory-profile builds run each block's threads as a loop or as fibers.
        const bool split = device.kind() == DeviceKind::cpu && !options.checked &&
                           !options.memory_profile;
        analysis = detail::analyse_source(source, options.name_expressions,
                                          options.checked || options.memory_profile,
                                          checked_helpers, split,
                                          options.cpu_scheme == CpuScheme::fibers,
                                          options.memory_profile ? detail::BranchSites::wrapped
                                                                 : detail::BranchSites::kept);
        module_source.user_source = std::string(source);
        module_source.prepared_source = analysis.prepared_source;
        module_source.split_source = analysis.split_source;
        module_source.kernels = analysis.kernels;
        module_source.options = options;
        return detail::backend(device.kind()).build(device.index(), module_source);
    };
    const std::shared_ptr<const detail::ModuleImpl> built =
        options.checked || options.memory_profile ? detail::build_widest_checked(build)
                                                  : build(detail::CheckedHelpers::none);
    auto lints = std::make_shared<detail::ModuleLints>();
    lints->source = std::make_shared<const std::string>(source);
    lints->options = options;
    for (std::size_t k = 0; k < analysis.kernels.size(); ++k)
        lints->by_kernel.emplace_back(analysis.kernels[k].name, std::move(analysis.lint_facts[k]));
    auto resources = detail::make_module_resources(std::move(module_source));
    auto registered =
        registry().insert(key, {std::move(built), std::move(lints), std::move(resources)});
    impl_ = std::move(registered.impl);
    lints_ = std::move(registered.lints);
    resources_ = std::move(registered.resources);
}

Function Module::function(std::string_view name) const {
    auto kernel = impl_->kernel(name);
    if (!kernel) {
        std::string message = "SourceModule.get_function('" + std::string(name) +
                              "'): no kernel named '" + std::string(name) + "'; ";
        const auto names = impl_->kernel_names();
        if (names.empty()) {
            message += "this module has no __global__ functions";
        } else {
            message += "kernels here: ";
            for (std::size_t i = 0; i < names.size(); ++i) {
                message += (i ? ", '" : "'") + names[i] + "'";
            }
        }
        if (name.find('<') != std::string_view::npos) {
            message += " (template kernels must be named in name_expressions when the module "
                       "is built)";
        }
        throw KernelNotFound(message);
    }
    // Aliasing: the facts live as long as the module's lint table, without a copy per Function.
    std::shared_ptr<const detail::LaunchLintFacts> facts;
    for (const auto& [kernel_name, kernel_facts] : lints_->by_kernel)
        if (kernel_name == name) facts = {lints_, &kernel_facts};
    return Function(impl_, std::move(kernel), lints_, std::move(facts), resources_);
}

std::vector<std::string> Module::kernel_names() const { return impl_->kernel_names(); }

detail::ModuleImpl::Global detail::ModuleImpl::global(std::string_view) const { return {}; }

Array Module::global(std::string_view name) const {
    const auto g = impl_->global(name);
    if (g.address == nullptr) {
        throw KernelNotFound("SourceModule.get_global('" + std::string(name) + "'): no " +
                             "__constant__ or __device__ variable named '" + std::string(name) +
                             "' at namespace scope in this module");
    }
    return Array::wrap(g.address, {static_cast<std::int64_t>(g.bytes)}, {}, DType::uint8,
                       impl_->device(), impl_);
}
const Device& Module::device() const noexcept { return impl_->device(); }
std::string Module::cache_path() const { return impl_->cache_path(); }
bool Module::from_cache() const noexcept { return impl_->from_cache(); }

}  // namespace manycore
