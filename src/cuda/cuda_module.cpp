// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// GPU modules: compile or load from the cache, read the parameter tables, launch kernels.
#include "cuda/cuda_module.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <tuple>
#include <utility>

#include "core/compile_cache.hpp"
#include "core/compile_support.hpp"
#include "core/finding_report.hpp"
#include "core/kernel_table.hpp"
#include "core/posix_file.hpp"
#include "cuda/context.hpp"
#include "cuda/nvrtc_compiler.hpp"
#include "cuda/nvrtc_identity.hpp"
#include "cuda/process_state.hpp"
#include "manycore/config.hpp"
#include "manycore/error.hpp"

namespace manycore::cuda {
namespace {

constexpr char kMagic[8] = {'M', 'C', 'G', 'P', 'U', 'M', 'O', 'D'};
constexpr std::uint32_t kPayloadVersion = 1;

// Little-endian hosts only (x86-64, aarch64), like the rest of the cache.
void put_bytes(std::vector<std::byte>& out, const void* data, std::size_t size) {
    if (size == 0) return;
    const std::size_t at = out.size();
    out.resize(at + size);
    std::memcpy(out.data() + at, data, size);
}
void put_u32(std::vector<std::byte>& out, std::uint32_t v) { put_bytes(out, &v, sizeof v); }
void put_u64(std::vector<std::byte>& out, std::uint64_t v) { put_bytes(out, &v, sizeof v); }

[[noreturn]] void corrupt_entry(const std::string& path) {
    throw Error("SourceModule: the cached GPU module " + path +
                " is not a manycore module of this version; clear the cache with "
                "`manycore cache clear`");
}

class Reader {
  public:
    Reader(const std::byte* data, std::size_t size, const std::string& path)
        : data_(data), size_(size), path_(path) {}
    void read(void* out, std::size_t n) {
        if (n > size_ - pos_) corrupt();
        std::memcpy(out, data_ + pos_, n);
        pos_ += n;
    }
    std::uint32_t u32() { std::uint32_t v; read(&v, 4); return v; }
    std::uint64_t u64() { std::uint64_t v; read(&v, 8); return v; }
    std::string string() {
        const std::uint32_t n = u32();
        if (n > size_ - pos_) corrupt();
        std::string s(reinterpret_cast<const char*>(data_ + pos_), n);
        pos_ += n;
        return s;
    }
    void align(std::size_t a) { pos_ = (pos_ + a - 1) / a * a; if (pos_ > size_) corrupt(); }
    std::size_t left() const noexcept { return size_ - pos_; }
    [[noreturn]] void corrupt() const { corrupt_entry(path_); }

  private:
    const std::byte* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
    const std::string& path_;
};

// Owns a loaded CUmodule until a CudaModule takes it.
class LoadedModule {
  public:
    LoadedModule() = default;
    LoadedModule(const DriverApi* api, CUmodule m) : api_(api), module_(m) {}
    LoadedModule(LoadedModule&& o) noexcept : api_(o.api_), module_(std::exchange(o.module_, nullptr)) {}
    LoadedModule& operator=(LoadedModule&& o) noexcept {
        std::swap(api_, o.api_);
        std::swap(module_, o.module_);
        return *this;
    }
    ~LoadedModule() {
        if (module_ && !shutting_down()) (void)api_->cuModuleUnload(module_);
    }
    CUmodule get() const noexcept { return module_; }
    CUmodule release() noexcept { return std::exchange(module_, nullptr); }

  private:
    const DriverApi* api_ = nullptr;
    CUmodule module_ = nullptr;
};

// A checked module's findings table (abi.h, mc_gpu_findings) in device memory. Checked
// launches of the module's kernels take turns with it: each clears it, launches, and reads it.
struct FindingsTable {
    CUdeviceptr address = 0;
    std::mutex turn;
};

class CudaKernel final : public detail::KernelImpl {
  public:
    CudaKernel(DeviceState& device, CUfunction function, std::string name,
               std::vector<ParamInfo> params, std::size_t static_shared,
               std::shared_ptr<FindingsTable> findings)
        : device_(device), function_(function), name_(std::move(name)),
          where_(name_ + "()"), interned_(intern_kernel_name(name_)), params_(std::move(params)),
          static_shared_(static_shared), findings_(std::move(findings)) {}

    const std::string& name() const noexcept override { return name_; }
    const std::vector<ParamInfo>& params() const noexcept override { return params_; }
    bool uses_fibers() const noexcept override { return false; }  // GPU threads are hardware threads
    ExecutionMode execution_mode() const noexcept override { return ExecutionMode::gpu; }
    const std::string& execution_reason() const noexcept override {
        static const std::string reason = "every thread is a thread of the GPU";
        return reason;
    }
    std::size_t static_shared_bytes() const noexcept override { return static_shared_; }

    void launch(const LaunchConfig& config, void* const* args) const override {
        ScopedContext scope(device_);
        auto stream = static_cast<CUstream>(config.stream);
        if (stream != nullptr) device_.note_stream_used();
        const CUresult r = device_.api().cuLaunchKernel(
            function_, config.grid.x, config.grid.y, config.grid.z, config.block.x,
            config.block.y, config.block.z, static_cast<unsigned>(config.shared_bytes), stream,
            const_cast<void**>(args), nullptr);
        // A sticky error here comes from an earlier kernel: raise() names the last one launched.
        if (r != CUDA_SUCCESS) device_.raise(r, "cuLaunchKernel", where_);
        device_.note_launch(interned_);
    }

    bool checked() const noexcept override { return findings_ != nullptr; }

    int active_blocks_per_multiprocessor(unsigned threads,
                                         std::size_t dynamic_shared) const override {
        ScopedContext scope(device_);
        int blocks = 0;
        device_.check(device_.api().cuOccupancyMaxActiveBlocksPerMultiprocessor(
                          &blocks, function_, static_cast<int>(threads), dynamic_shared),
                      "cuOccupancyMaxActiveBlocksPerMultiprocessor", where_);
        return blocks;
    }

    // The driver's numbers, asked once.
    KernelResources resources() const override {
        std::call_once(resources_once_, [this] {
            KernelResources& r = resources_;
            r.arch = "sm_" + std::to_string(device_.compute_capability());
            r.source = "driver";
            const auto attribute = [this](int which) {
                int value = 0;
                device_.check(device_.api().cuFuncGetAttribute(&value, which, function_),
                              "cuFuncGetAttribute", where_);
                return value;
            };
            const auto bytes = [&](int which) { return static_cast<std::size_t>(attribute(which)); };
            r.max_threads_per_block =
                static_cast<unsigned>(attribute(CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK));
            r.shared_bytes = bytes(CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES);
            r.const_bytes = bytes(CU_FUNC_ATTRIBUTE_CONST_SIZE_BYTES);
            r.local_bytes = bytes(CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES);
            r.registers = attribute(CU_FUNC_ATTRIBUTE_NUM_REGS);
        });
        return resources_;
    }

    // Each checked pointer parameter gets the bytes its argument may reach; the launch then
    // runs to completion on its stream, and the findings table is read back.
    void launch_checked(const LaunchConfig& config, void* const* args,
                        std::span<const detail::ArgExtent> extents) const override {
        std::vector<mc_gpu_checked_ptr> pointers(params_.size());
        std::vector<void*> packed(args, args + params_.size());
        for (std::size_t i = 0; i < params_.size(); ++i) {
            const mc_param_desc& d = params_[i].desc;
            if (!d.checked) continue;
            mc_gpu_checked_ptr& p = pointers[i];
            p.pointer = *static_cast<void* const*>(args[i]);
            p.var.param = static_cast<std::uint32_t>(i);
            p.var.elem_size = d.elem_size == 0 ? 1 : d.elem_size;
            const auto begin = reinterpret_cast<std::uintptr_t>(p.pointer);
            const bool known = i < extents.size() && extents[i].known;
            p.var.begin = known ? begin : 0;
            p.var.end = known ? begin + extents[i].bytes : UINTPTR_MAX;
            packed[i] = &p;
        }
        mc_gpu_findings table;
        {
            std::lock_guard turn(findings_->turn);
            ScopedContext scope(device_);
            const auto& api = device_.api();
            auto stream = static_cast<CUstream>(config.stream);
            if (stream != nullptr) device_.note_stream_used();
            device_.check(api.cuMemsetD8Async(findings_->address, 0, sizeof table, stream),
                          "cuMemsetD8Async", where_);
            launch(config, packed.data());
            device_.check(api.cuMemcpyDtoHAsync(&table, findings_->address, sizeof table, stream),
                          "cuMemcpyDtoHAsync", where_);
            device_.check(api.cuStreamSynchronize(stream), "cuStreamSynchronize", where_,
                          interned_);
        }
        std::fflush(stdout);  // the kernel's printf output, as at every host wait
        report(table);
    }

  private:
    void report(const mc_gpu_findings& table) const {
        std::vector<const mc_gpu_finding*> used;
        for (const mc_gpu_finding& slot : table.slots)
            if (slot.key != 0) used.push_back(&slot);
        if (used.empty() && table.dropped == 0) return;
        // Slots are filled in hash order: shown by line, then variable, as a reader looks.
        std::sort(used.begin(), used.end(), [](const mc_gpu_finding* a, const mc_gpu_finding* b) {
            return std::tie(a->line, a->param, a->access) < std::tie(b->line, b->param, b->access);
        });
        std::vector<Finding> findings;
        for (const mc_gpu_finding* f : used) {
            if (findings.size() == detail::kFindingsKept) break;
            const bool shared = f->param == MC_GPU_NOT_A_PARAM;
            const std::string name =
                shared ? std::string(f->name, strnlen(f->name, sizeof f->name))
                       : (f->param < params_.size() ? params_[f->param].name
                                                    : "arg" + std::to_string(f->param));
            findings.push_back(detail::out_of_bounds_finding(name_, name, shared, f->index,
                                                             f->extent, f->access, f->line,
                                                             f->block, f->thread));
        }
        detail::report_findings(findings, used.size() + table.dropped, name_);
    }

    DeviceState& device_;
    CUfunction function_;
    std::string name_;
    std::string where_;
    const std::string* interned_;
    std::vector<ParamInfo> params_;
    std::size_t static_shared_;
    std::shared_ptr<FindingsTable> findings_;  // checked modules only
    mutable std::once_flag resources_once_;
    mutable KernelResources resources_;
};

class CudaModule final : public detail::ModuleImpl {
  public:
    CudaModule(DeviceState& device, LoadedModule module, std::string path, bool from_cache)
        : device_(device), module_(std::move(module)), path_(std::move(path)),
          from_cache_(from_cache) {}

    const Device& device() const noexcept override { return device_.device(); }
    const DeviceInfo& device_info() const noexcept override { return device_.info(); }
    std::shared_ptr<const detail::KernelImpl> kernel(std::string_view name) const override {
        return kernels_.find(name);
    }
    std::vector<std::string> kernel_names() const override { return kernels_.names(); }
    std::string cache_path() const override { return path_; }
    bool from_cache() const noexcept override { return from_cache_; }

    CUmodule handle() const noexcept { return module_.get(); }

    Global global(std::string_view name) const override {
        ScopedContext scope(device_);
        CUdeviceptr ptr = 0;
        std::size_t bytes = 0;
        const std::string symbol(name);
        const CUresult r = device_.api().cuModuleGetGlobal(&ptr, &bytes, module_.get(), symbol.c_str());
        if (r == CUDA_ERROR_NOT_FOUND) return {};
        device_.check(r, "cuModuleGetGlobal(" + symbol + ")", "SourceModule.get_global");
        return {reinterpret_cast<void*>(ptr), bytes};
    }

    void add(std::shared_ptr<const detail::KernelImpl> k) { kernels_.add(std::move(k)); }

  private:
    DeviceState& device_;
    LoadedModule module_;  // unloaded with the last Function (never at exit)
    std::string path_;
    bool from_cache_;
    detail::KernelTable kernels_;
};

// cuModuleLoadDataEx, with the JIT's error log for PTX. The context must be current.
LoadedModule load_image(DeviceState& device, const std::vector<char>& image, bool cubin,
                        const std::string& where) {
    const auto& api = device.api();
    std::vector<char> error_log(16384, '\0');
    int options[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
    void* values[] = {error_log.data(),
                      reinterpret_cast<void*>(static_cast<std::uintptr_t>(error_log.size() - 1))};
    CUmodule module = nullptr;
    const CUresult r = api.cuModuleLoadDataEx(&module, image.data(), 2, options, values);
    if (r == CUDA_SUCCESS) return LoadedModule(&api, module);
    if (r == CUDA_ERROR_NO_BINARY_FOR_GPU || r == CUDA_ERROR_INVALID_PTX ||
        r == CUDA_ERROR_UNSUPPORTED_PTX_VERSION) {
        std::string message = where + ": " + device.name() + " cannot load the " +
                              (cubin ? "cubin" : "PTX") + " NVRTC made: " + error_text(r) +
                              "; the NVIDIA driver (CUDA " + version_text(api.version) +
                              ") is probably older than NVRTC: update the driver, or point "
                              "MANYCORE_NVRTC_PATH at an NVRTC no newer than the driver";
        const std::string log(error_log.data());
        if (!log.empty()) message += "\nJIT log:\n" + log;
        throw CudaError(message, r, error_name(r));
    }
    device.raise(r, "cuModuleLoadDataEx", where);
}

// The parameter table __mc_params_<i> that the prelude generated, read from device memory.
std::vector<mc_param_desc> read_params(DeviceState& device, CUmodule module, std::size_t i,
                                       const std::string& kernel, const std::string& where) {
    const auto& api = device.api();
    const std::string symbol = "__mc_params_" + std::to_string(i);
    CUdeviceptr ptr = 0;
    std::size_t size = 0;
    device.check(api.cuModuleGetGlobal(&ptr, &size, module, symbol.c_str()),
                 "cuModuleGetGlobal(" + symbol + ")", where);
    std::vector<std::byte> bytes(size);
    device.check(api.cuMemcpyDtoH(bytes.data(), ptr, size), "cuMemcpyDtoH", where);
    std::uint32_t count = 0;
    if (size >= 8) std::memcpy(&count, bytes.data(), 4);
    if (size < 8 || (size - 8) / sizeof(mc_param_desc) < count) {
        throw Error(where + ": the parameter table of kernel '" + kernel + "' is malformed (" +
                    std::to_string(size) + " bytes for " + std::to_string(count) +
                    " parameters); report this with `python -m manycore info`");
    }
    std::vector<mc_param_desc> params(count);
    if (count) std::memcpy(params.data(), bytes.data() + 8, count * sizeof(mc_param_desc));
    return params;
}

std::vector<std::byte> read_payload(const detail::VerifiedFile& file) {
    std::vector<std::byte> bytes(file.payload_size());
    if (!detail::read_exactly(file.fd(), bytes.data(), bytes.size(), 0)) {
        throw Error("SourceModule: cannot read the cached GPU module " + file.path().string() +
                    " (" + std::strerror(errno) + "); clear the cache with `manycore cache clear`");
    }
    return bytes;
}

}  // namespace

std::vector<std::byte> ModulePayload::serialise() const {
    std::vector<std::byte> out;
    out.reserve(image.size() + 256);
    put_bytes(out, kMagic, sizeof kMagic);
    put_u32(out, kPayloadVersion);
    put_u32(out, cubin ? 0 : 1);
    put_u32(out, static_cast<std::uint32_t>(kernels.size()));
    put_u32(out, 0);
    for (const auto& k : kernels) {
        put_u32(out, static_cast<std::uint32_t>(k.name.size()));
        put_bytes(out, k.name.data(), k.name.size());
        put_u32(out, static_cast<std::uint32_t>(k.lowered.size()));
        put_bytes(out, k.lowered.data(), k.lowered.size());
        put_u32(out, static_cast<std::uint32_t>(k.params.size()));
        put_bytes(out, k.params.data(), k.params.size() * sizeof(mc_param_desc));
    }
    out.resize((out.size() + 15) / 16 * 16);
    put_u64(out, image.size());
    put_u64(out, 0);
    put_bytes(out, image.data(), image.size());
    return out;
}

ModulePayload ModulePayload::parse(const std::byte* bytes, std::size_t size, const std::string& path) {
    Reader in(bytes, size, path);
    char magic[8];
    in.read(magic, sizeof magic);
    if (std::memcmp(magic, kMagic, sizeof kMagic) != 0 || in.u32() != kPayloadVersion) in.corrupt();
    ModulePayload p;
    const std::uint32_t kind = in.u32();
    if (kind > 1) in.corrupt();
    p.cubin = kind == 0;
    const std::uint32_t count = in.u32();
    (void)in.u32();
    for (std::uint32_t i = 0; i < count; ++i) {
        Kernel k;
        k.name = in.string();
        k.lowered = in.string();
        const std::uint32_t nparams = in.u32();
        if (nparams > in.left() / sizeof(mc_param_desc)) in.corrupt();
        k.params.resize(nparams);
        in.read(k.params.data(), nparams * sizeof(mc_param_desc));
        p.kernels.push_back(std::move(k));
    }
    in.align(16);
    const std::uint64_t image_size = in.u64();
    (void)in.u64();
    if (image_size == 0 || image_size != in.left()) in.corrupt();
    p.image.resize(image_size);
    in.read(p.image.data(), image_size);
    if (!p.cubin && p.image.back() != '\0') in.corrupt();
    return p;
}

std::shared_ptr<const detail::ModuleImpl> build_module(DeviceState& device,
                                                       const detail::ModuleSource& source) {
    const std::string where = "SourceModule(device='" + device.name() + "')";
    device.check_usable();
    // What NVRTC is, without loading it when an earlier process recorded it: a cache hit then
    // never opens the library.
    const NvrtcIdentity* nvrtc_id = nullptr;
    try {
        nvrtc_id = &nvrtc_identity();
    } catch (const DeviceUnavailable& e) {
        throw DeviceUnavailable(where + ": " + e.what());
    }
    const Target target = choose_target(*nvrtc_id, device.compute_capability(), device.name());
    const std::string tu = translation_unit(source);
    const auto key = detail::CacheKey::of(
        {"cuda", version(), std::to_string(MC_ABI_VERSION), std::to_string(kPayloadVersion),
         nvrtc_id->version_text(), target.text(),
         detail::key_field(nvrtc_options(*nvrtc_id, target, source.options.compiler_options)),
         detail::prelude_digest(), tu});

    ModulePayload payload;
    LoadedModule loaded;
    bool fresh = false;
    bool from_cache = false;
    auto file = detail::CompileCache::instance().get_or_build(
        key, target.cubin ? ".cubin" : ".ptx",
        [&] {
            const NvrtcApi* nvrtc_api = nullptr;
            try {
                nvrtc_api = &nvrtc();
            } catch (const DeviceUnavailable& e) {
                throw DeviceUnavailable(where + ": " + e.what());
            }
            auto compiled = compile_program(*nvrtc_api, source, tu, target, where);
            payload.cubin = target.cubin;
            payload.image = std::move(compiled.image);
            // The parameter tables are read once, here, and kept in the payload: a cached
            // module then loads with no copy from the device.
            ScopedContext scope(device);
            loaded = load_image(device, payload.image, payload.cubin, where);
            for (std::size_t i = 0; i < source.kernels.size(); ++i) {
                payload.kernels.push_back({source.kernels[i].name, compiled.lowered_names[i],
                                           read_params(device, loaded.get(), i,
                                                       source.kernels[i].name, where)});
            }
            fresh = true;
            return payload.serialise();
        },
        &from_cache);
    if (!fresh) {
        const auto bytes = read_payload(file);
        payload = ModulePayload::parse(bytes.data(), bytes.size(), file.path().string());
    }
    if (Config::get().keep_source) std::ofstream(file.path().string() + ".cu") << tu;

    ScopedContext scope(device);
    if (loaded.get() == nullptr) loaded = load_image(device, payload.image, payload.cubin, where);
    const CUmodule handle = loaded.get();
    auto module = std::make_shared<CudaModule>(device, std::move(loaded), file.path().string(),
                                               from_cache);
    if (payload.kernels.size() != source.kernels.size()) corrupt_entry(file.path().string());
    const auto& api = device.api();
    std::shared_ptr<FindingsTable> findings;
    if (source.options.checked) {
        findings = std::make_shared<FindingsTable>();
        std::size_t size = 0;
        device.check(api.cuModuleGetGlobal(&findings->address, &size, handle,
                                           MC_GPU_FINDINGS_SYMBOL),
                     "cuModuleGetGlobal(" MC_GPU_FINDINGS_SYMBOL ")", where);
        if (size != sizeof(mc_gpu_findings)) corrupt_entry(file.path().string());
    }
    for (std::size_t i = 0; i < source.kernels.size(); ++i) {
        const auto& decl = source.kernels[i];
        const auto& entry = payload.kernels[i];
        if (entry.name != decl.name) corrupt_entry(file.path().string());
        CUfunction function = nullptr;
        device.check(api.cuModuleGetFunction(&function, handle, entry.lowered.c_str()),
                     "cuModuleGetFunction(" + entry.lowered + ")", where);
        int static_shared = 0;
        device.check(api.cuFuncGetAttribute(&static_shared, CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES,
                                            function),
                     "cuFuncGetAttribute", where);
        module->add(std::make_shared<CudaKernel>(device, function, decl.name,
                                                 detail::param_infos(entry.params, decl),
                                                 static_cast<std::size_t>(static_shared),
                                                 findings));
    }
    return module;
}

}  // namespace manycore::cuda
