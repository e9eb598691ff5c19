// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The CPU backend: host memory, and modules compiled by the host compiler and run on the pool.
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/compile_cache.hpp"
#include "core/compile_support.hpp"
#include "core/embedded_headers.hpp"
#include "core/kernel_table.hpp"
#include "core/posix_file.hpp"
#include "cpu/checked_launch.hpp"
#include "cpu/elf_tls.hpp"
#include "cpu/executor.hpp"
#include "cpu/host_compiler.hpp"
#include "cpu/host_memory.hpp"
#include "cpu/kernel_faults.hpp"
#include "cpu/memory_launch.hpp"
#include "manycore/config.hpp"
#include "manycore/detail/backend.hpp"
#include "manycore/error.hpp"

namespace manycore::detail {
namespace {

// An event of the CPU: when it was recorded, on the host's steady clock.
struct HostEvent {
    std::atomic<std::int64_t> nanoseconds{0};
};

std::int64_t steady_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

std::string cpu_model_name() {
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::string line;
    while (std::getline(cpuinfo, line)) {
        if (line.rfind("model name", 0) == 0) {
            const auto colon = line.find(':');
            if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
        }
    }
    return "CPU";
}

// The kernel-side headers, written once per process into a private folder the compiler reads
// them from. Private because a header is code: it must not come from a folder others can write.
class PreludeFolder {
  public:
    PreludeFolder() : folder_("manycore-prelude-", "SourceModule") { write_headers(); }
    void write_headers() const {
        const auto& root = folder_.path();
        const auto prelude = root / "manycore" / "prelude";
        for (const auto& header : embedded_headers()) {
            const auto path = prelude / std::string(header.name);
            std::error_code made;
            std::filesystem::create_directories(path.parent_path(), made);
            errno = made ? made.value() : 0;
            bool ok = !made;
            if (ok) {
                std::FILE* out = std::fopen(path.c_str(), "wb");
                ok = out != nullptr &&
                     std::fwrite(header.text.data(), 1, header.text.size(), out) ==
                         header.text.size();
                // A full disk often shows only when the buffer is written out, at close.
                if (out != nullptr && std::fclose(out) != 0) ok = false;
            }
            if (!ok) {
                // The folder goes with folder_, so a full disk leaves no half-written one.
                const int err = errno;
                throw Error("SourceModule: cannot write the kernel header " + path.string() +
                            " (" + std::strerror(err != 0 ? err : EIO) + ", errno " +
                            std::to_string(err) + "); free space in " + root.parent_path().string() +
                            " or set TMPDIR to a folder with free space");
            }
        }
    }
    std::vector<std::string> include_options() const {
        // prelude/ itself too, so that kernels find the device library as <manycore/random.h>.
        const auto& root = folder_.path();
        return {"-I" + root.string(), "-I" + (root / "manycore" / "prelude" / "cuda").string(),
                "-I" + (root / "manycore" / "prelude").string()};
    }

  private:
    PrivateFolder folder_;
};

const PreludeFolder& prelude_folder() {
    static const PreludeFolder folder;
    return folder;
}

// The source as compiled: with `split`, the kernels loop fission rewrote are run once per
// block (`make_block`), each split at its barriers into loops over the block's threads.
std::string translation_unit(const ModuleSource& source, bool split) {
    std::string tu;
    const std::string& text = split ? source.split_source : source.prepared_source;
    tu.reserve(text.size() + 1024);
    // A checked module is its own prelude mode (checked.h), and so its own cache entry.
    if (source.options.checked) tu += "#define MC_CHECKED 1\n";
    // The memory profile is checked mode's rewrite and proxies, recording (memory_profile_cpu.h).
    if (source.options.memory_profile) tu += "#define MC_CHECKED 1\n#define MC_MEMORY_PROFILE 1\n";
    tu += "#include \"manycore/prelude/cpu_prelude.h\"\n#line 1 \"kernel.cu\"\n";
    tu += text;
    tu += "\n#line 1 \"<manycore launch table>\"\n";
    tu += "extern \"C\" __attribute__((visibility(\"default\"))) const mc_module_table* "
          "mc_module_table_v1() {\n";
    if (source.kernels.empty()) {
        tu += "    static const mc_module_table table = {MC_ABI_VERSION, 0, nullptr};\n";
    } else {
        tu += "    static const mc_kernel_entry kernels[] = {\n";
        for (const auto& k : source.kernels) {
            const char* make = !split || !k.split ? "make" : k.grid_major ? "make_grid" : "make_block";
            tu += "        ::__mc::entry<" + kernel_address(k) + ">::" + make + "(\"" + k.name + "\"),\n";
        }
        tu += "    };\n    static const mc_module_table table = {MC_ABI_VERSION, " +
              std::to_string(source.kernels.size()) + ", kernels};\n";
    }
    tu += "    return &table;\n}\n";
    return tu;
}

// A private, sealed copy of a verified cache entry (its payload: the library), for dlopen: a
// file rewritten in place while mapped would change the code under a running kernel, and the
// copy of a library of some tens of kilobytes costs microseconds. -1 when the system has no
// memfd_create; the entry itself is loaded then. The descriptor stays open for the life of
// the process, as the entry's does (see ~CpuModule).
int private_image(const VerifiedFile& file) {
    const int image = ::memfd_create("manycore-module", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (image < 0) return -1;
    std::vector<char> buffer(std::size_t{1} << 16);
    bool ok = true;
    for (std::size_t done = 0; ok && done < file.payload_size();) {
        const std::size_t n = std::min(file.payload_size() - done, buffer.size());
        ok = read_exactly(file.fd(), buffer.data(), n, done) && write_all(image, buffer.data(), n);
        done += n;
    }
    if (!ok || ::fcntl(image, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) != 0) {
        ::close(image);
        return -1;
    }
    return image;
}

class CpuKernel final : public KernelImpl {
  public:
    CpuKernel(const mc_kernel_entry* entry, std::vector<ParamInfo> params, ExecutionMode mode,
              std::string reason, std::size_t static_shared, bool checked, bool memory_profile)
        : entry_(entry), name_(entry->name), params_(std::move(params)),
          fibers_(mode == ExecutionMode::fibers), mode_(mode), reason_(std::move(reason)),
          static_shared_(static_shared), checked_(checked), memory_profile_(memory_profile) {}

    const std::string& name() const noexcept override { return name_; }
    const std::vector<ParamInfo>& params() const noexcept override { return params_; }
    bool uses_fibers() const noexcept override { return fibers_; }
    ExecutionMode execution_mode() const noexcept override { return mode_; }
    const std::string& execution_reason() const noexcept override { return reason_; }
    std::size_t static_shared_bytes() const noexcept override { return static_shared_; }

    void launch(const LaunchConfig& config, void* const* args) const override {
        if (memory_profile_) {  // its kernels need a lane's state: the profile, counts dropped
            (void)launch_memory_profile(config, args, {});
            return;
        }
        cpu::LaunchRequest request;
        request.kernel = entry_;
        request.kernel_name = name_;
        request.grid = {config.grid.x, config.grid.y, config.grid.z};
        request.block = {config.block.x, config.block.y, config.block.z};
        request.dynamic_shared_bytes = config.shared_bytes;
        request.args = args;
        request.use_fibers = fibers_;
        cpu::execute(request);
    }

    bool checked() const noexcept override { return checked_; }

    void launch_checked(const LaunchConfig& config, void* const* args,
                        std::span<const ArgExtent> extents) const override {
        cpu::CheckedLaunch checked(name_, lane_params(args, extents), dim(config.grid),
                                   dim(config.block), cpu::worker_count());
        try {
            cpu::execute(lanes_request(config, args, checked));
        } catch (const Interrupted& e) {
            // Stopped by Ctrl-C: what was found until then (a spin-wait, most likely) is
            // reported as the checked launch's findings are, with the interrupt.
            checked.finish();
            if (checked.findings().empty()) throw;
            if (!Config::get().check_collect.empty()) {
                cpu::report_findings(checked, name_);
                throw;
            }
            throw Interrupted(std::string(e.what()) + "\n  checked mode found:\n  " +
                              checked.findings().front().message);
        } catch (const KernelFault& e) {
            // A fault (an assert, say) ends the launch; what was found until then still counts.
            checked.finish();
            if (checked.findings().empty()) throw;
            throw KernelFault(std::string(e.what()) + "\n  and before that:\n  " +
                                  checked.findings().front().message,
                              name_, checked.findings(), checked.findings_total());
        }
        checked.finish();
        cpu::report_findings(checked, name_);
    }

    MemoryProfile launch_memory_profile(const LaunchConfig& config, void* const* args,
                                        std::span<const ArgExtent> extents) const override {
        if (!memory_profile_) return KernelImpl::launch_memory_profile(config, args, extents);
        cpu::MemoryLaunch profiled(lane_params(args, extents), dim(config.grid), dim(config.block),
                                   fibers_, cpu::worker_count());
        cpu::execute(lanes_request(config, args, profiled));
        return profiled.finish();
    }

  private:
    static mc_dim3 dim(const Dim3& d) noexcept { return {d.x, d.y, d.z}; }

    // What a launch run as lanes knows of each parameter: pointers with their arrays' extents.
    std::vector<cpu::CheckedParam> lane_params(void* const* args,
                                               std::span<const ArgExtent> extents) const {
        std::vector<cpu::CheckedParam> params(params_.size());
        for (std::size_t i = 0; i < params_.size(); ++i) {
            const mc_param_desc& d = params_[i].desc;
            cpu::CheckedParam& p = params[i];
            p.name = params_[i].name;
            if (d.kind != MC_PARAM_POINTER) continue;
            p.pointer = true;
            p.writable = d.pointee_const == 0;
            p.elem_size = d.elem_size;
            p.lane_size = d.lanes > 1 ? d.elem_size / d.lanes : d.elem_size;
            p.address = *static_cast<void* const*>(args[i]);
            if (i < extents.size()) {
                p.extent_bytes = extents[i].bytes;
                p.extent_known = extents[i].known || p.address == nullptr;
            }
        }
        return params;
    }

    cpu::LaunchRequest lanes_request(const LaunchConfig& config, void* const* args,
                                     cpu::LaunchLanes& lanes) const {
        cpu::LaunchRequest request;
        request.kernel = entry_;
        request.kernel_name = name_;
        request.grid = dim(config.grid);
        request.block = dim(config.block);
        request.dynamic_shared_bytes = config.shared_bytes;
        request.args = args;
        request.use_fibers = fibers_;
        request.checked = &lanes;
        return request;
    }

    const mc_kernel_entry* entry_;
    std::string name_;
    std::vector<ParamInfo> params_;
    bool fibers_;
    ExecutionMode mode_;
    std::string reason_;
    std::size_t static_shared_;
    bool checked_;
    bool memory_profile_;
};

class CpuModule final : public ModuleImpl {
  public:
    CpuModule(void* handle, VerifiedFile file, bool from_cache, const DeviceInfo& info)
        : handle_(handle), file_(std::move(file)), from_cache_(from_cache), info_(info) {}
    // The library stays loaded until the process ends, and its descriptor open: the process's
    // module registry holds every module until exit anyway, and at exit static destructors
    // run while other threads (a launch's pool threads among them) may still be in kernel
    // code, which an unload would pull from under them. The loader knows the library by the
    // name /proc/self/fd/N, so the descriptor is kept with it: a reused N would hand a later
    // module this one's code.
    ~CpuModule() override { (void)file_.release(); }

    const Device& device() const noexcept override { return device_; }
    const DeviceInfo& device_info() const noexcept override { return info_; }
    std::shared_ptr<const KernelImpl> kernel(std::string_view name) const override {
        return kernels_.find(name);
    }
    std::vector<std::string> kernel_names() const override { return kernels_.names(); }
    std::string cache_path() const override { return file_.path().string(); }
    bool from_cache() const noexcept override { return from_cache_; }

    void add(std::shared_ptr<const KernelImpl> k) { kernels_.add(std::move(k)); }
    void* handle() const noexcept { return handle_; }
    const VerifiedFile& file() const noexcept { return file_; }

    // __constant__ and __device__ variables are ordinary (hidden) globals on the CPU: their
    // addresses are the library's load address plus their symbols' values.
    Global global(std::string_view name) const override {
        std::call_once(globals_once_, [this] {
            Dl_info info{};
            void* table = ::dlsym(handle_, MC_MODULE_TABLE_SYMBOL);
            if (table == nullptr || ::dladdr(table, &info) == 0) return;
            auto* base = static_cast<char*>(info.dli_fbase);
            for (const auto& sym : cpu::read_object_symbols(file_.fd(), file_.payload_size()))
                globals_.emplace(sym.name, Global{base + sym.offset, sym.size});
        });
        auto it = globals_.find(std::string(name));
        return it == globals_.end() ? Global{} : it->second;
    }

  private:
    void* handle_;
    VerifiedFile file_;
    mutable std::once_flag globals_once_;
    mutable std::unordered_map<std::string, Global> globals_;
    bool from_cache_;
    Device device_;
    const DeviceInfo& info_;
    KernelTable kernels_;
};

class CpuBackend final : public Backend {
  public:
    CpuBackend() {
        info_.name = cpu_model_name();
        info_.compute_units = static_cast<int>(cpu::worker_count());
        info_.total_memory = static_cast<std::size_t>(::sysconf(_SC_PHYS_PAGES)) *
                             static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
        info_.max_shared_per_block = Config::get().max_shared_per_block;
    }

    DeviceKind kind() const noexcept override { return DeviceKind::cpu; }
    std::string_view name() const noexcept override { return "cpu"; }
    Probe probe() const override { return {true, {}}; }
    int device_count() const override { return 1; }
    const DeviceInfo& device_info(int) const override { return info_; }

    std::shared_ptr<Buffer> allocate(int, std::size_t bytes) const override {
        return cpu::allocate_host(bytes);
    }
    void fill_zero(int, void* dst, std::size_t bytes) const override {
        if (bytes) std::memset(dst, 0, bytes);
    }

    // A launch runs to completion before it returns, so a stream never has work queued and
    // an event has happened once recorded: its time is the host's steady clock at that point.
    // A stream is a distinct token (streams compare unequal), never waited on.
    void* create_stream(int) const override { return new char(0); }
    void destroy_stream(int, void* stream) const noexcept override { delete static_cast<char*>(stream); }
    void synchronize_stream(int, void*) const override {}
    bool query_stream(int, void*) const override { return true; }
    void stream_wait_event(int, void*, void*) const override {}
    void* create_event(int, bool) const override { return new HostEvent(); }
    void destroy_event(int, void* event) const noexcept override {
        delete static_cast<HostEvent*>(event);
    }
    void record_event(int, void* event, void*) const override {
        static_cast<HostEvent*>(event)->nanoseconds.store(steady_ns());
    }
    void synchronize_event(int, void*) const override {}
    bool query_event(int, void*) const override { return true; }
    float elapsed_ms(int, void* start, void* end) const override {
        const auto a = static_cast<HostEvent*>(start)->nanoseconds.load();
        const auto b = static_cast<HostEvent*>(end)->nanoseconds.load();
        return static_cast<float>(static_cast<double>(b - a) / 1e6);
    }
    void synchronize_device(int) const override {}
    // Host memory to host memory, whatever the request's kind says: it is all the CPU has.
    void copy(int, const CopyRequest& r) const override {
        if (r.bytes) std::memmove(r.dst, r.src, r.bytes);
    }
    // The CPU has one device: every copy is within it.
    CopyPath copy_between(int dst_index, int src_index, const CopyRequest&) const override {
        throw InvalidArgument("copy between CPU devices " + std::to_string(src_index) + " and " +
                              std::to_string(dst_index) + ": the CPU backend has one device");
    }
    CopyPath path_between(int dst_index, int src_index) const override {
        if (dst_index == src_index) return CopyPath::device;
        throw InvalidArgument("the CPU backend has one device");
    }
    std::shared_ptr<Buffer> allocate_pinned(std::size_t) const override { return nullptr; }
    MemoryPoolStats memory_pool_stats(int) const override { return cpu::host_cache_stats(); }
    std::size_t free_all_blocks(int) const override { return cpu::free_cached_host_blocks(); }
    std::pair<std::size_t, std::size_t> memory_info(int) const override {
        const long pages = ::sysconf(_SC_AVPHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
        const std::size_t free = pages > 0 && page > 0 ? static_cast<std::size_t>(pages) * page : 0;
        return {free, info_.total_memory};
    }

    std::shared_ptr<const ModuleImpl> build(int, const ModuleSource& source) const override {
        // Something (mpi4py's MPI_Init, signal.signal) may have taken SIGINT or SIGSEGV since.
        cpu::reassert_signal_handlers();
        if (source.split_source.empty() || source.options.checked || source.options.memory_profile)
            return build(source, false, {});
        try {
            return build(source, true, {});
        } catch (const CompileError& split_error) {
            // The split kernels did not compile: the source as written decides. Its error is
            // the user's; if it compiles, the kernels run as before and say why.
            std::string first = split_error.log();
            const std::size_t error = first.find("error:");
            if (error != std::string::npos) first = first.substr(error + 7);
            first = first.substr(0, first.find('\n'));
            return build(source, false, "loop fission produced code that does not compile (" +
                                            first + "); report it with the kernel's source");
        }
    }

  private:
    std::shared_ptr<const ModuleImpl> build(const ModuleSource& source, bool split,
                                            const std::string& split_failed) const {
        const auto& compiler = cpu::host_compiler();
        const auto tu = translation_unit(source, split);
        auto options = source.options.compiler_options.empty() ? cpu::default_compile_options()
                                                               : source.options.compiler_options;
        // Split kernels are short loops over a block's threads inside the kernel's own loops
        // (a tile's k loop, a tree's halving steps): unrolled, their vector loops run 15-40%
        // fewer instructions, for about a second more of compiling.
        if (split && source.options.compiler_options.empty()) options.emplace_back("-funroll-loops");
        const auto key = CacheKey::of({"cpu", version(), std::to_string(MC_ABI_VERSION),
                                       compiler.identity, key_field(options), prelude_digest(), tu});
        bool from_cache = false;
        auto file = CompileCache::instance().get_or_build(
            key, ".so",
            [&] {
                // Only a compile needs the headers on disk: a cache hit writes nothing.
                auto with_includes = options;
                for (const auto& inc : prelude_folder().include_options()) with_includes.push_back(inc);
                try {
                    return cpu::compile_shared_library(compiler, tu, with_includes,
                                                       source.user_source);
                } catch (const CompileError& e) {
                    // Report the options the user chose, not the private include folders.
                    throw CompileError(e.what(), e.log(), e.source(), options);
                }
            },
            &from_cache);
        if (Config::get().keep_source) {
            std::ofstream(file.path().string() + ".cpp") << tu;
        }

        // The sealed copy and the library are given up again unless they become a module: until
        // then no code of the library can have run.
        Fd image(private_image(file));
        const std::string image_path =
            image ? "/proc/self/fd/" + std::to_string(image.get()) : file.proc_path();
        std::unique_ptr<void, int (*)(void*)> library(::dlopen(image_path.c_str(), RTLD_NOW | RTLD_LOCAL),
                                                      &::dlclose);
        if (library == nullptr) {
            throw Error("SourceModule: the compiled module " + file.path().string() +
                        " could not be loaded: " + ::dlerror() +
                        "; clear the cache with `manycore cache clear` and retry");
        }
        void* handle = library.get();
        auto table_fn = reinterpret_cast<mc_module_table_fn>(::dlsym(handle, MC_MODULE_TABLE_SYMBOL));
        const mc_module_table* table = table_fn ? table_fn() : nullptr;
        if (table == nullptr || table->abi_version != MC_ABI_VERSION) {
            throw Error("SourceModule: " + file.path().string() +
                        " is not a manycore module of this version; clear the cache with "
                        "`manycore cache clear`");
        }
        const auto symbols = cpu::read_tls_symbols(file.fd(), file.payload_size());
        std::vector<std::string> names;
        for (const auto& k : source.kernels) names.push_back(k.name);

        auto module = std::make_shared<CpuModule>(handle, std::move(file), from_cache, info_);
        (void)library.release();
        (void)image.release();  // the loaded library's name: open for good (see ~CpuModule)
        for (std::uint32_t i = 0; i < table->nkernels; ++i) {
            const auto& entry = table->kernels[i];
            const auto& decl = source.kernels.at(i);
            ExecutionMode mode = decl.mode;
            std::string reason = decl.reason;
            if (source.options.checked || source.options.memory_profile) {
                mode = decl.uses_barriers ? ExecutionMode::fibers : ExecutionMode::loop;
                reason = std::string(source.options.checked ? "checked: " : "memory profile: ") +
                         (decl.uses_barriers ? "every thread is a fiber"
                                             : "each block's threads run as one loop") +
                         " that records its accesses";
            } else if (!split && decl.split) {
                mode = decl.uses_barriers ? ExecutionMode::fibers : ExecutionMode::loop;
                reason = split_failed;
            }
            module->add(std::make_shared<CpuKernel>(
                &entry, param_infos({entry.params, entry.nparams}, decl), mode, std::move(reason),
                cpu::static_shared_bytes(symbols, decl.name, names), source.options.checked,
                source.options.memory_profile));
        }
        return module;
    }

    DeviceInfo info_;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend() { return std::make_unique<CpuBackend>(); }

}  // namespace manycore::detail
