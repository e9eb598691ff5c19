// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The interface every device backend (cpu, cuda, ...) implements; the core sees backends only here.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "manycore/array.hpp"
#include "manycore/device.hpp"
#include "manycore/kernel_resources.hpp"
#include "manycore/memory.hpp"
#include "manycore/module.hpp"
#include "manycore/profile.hpp"

namespace manycore::detail {

/// A kernel as the source analysis found it, before compilation.
struct KernelDecl {
    std::string name;        // as get_function takes it ("k" or a name expression "k<float>")
    std::vector<std::string> param_names;
    std::vector<std::string> param_spellings;
    bool uses_barriers = false;  // __syncthreads or a warp intrinsic, reachable from the body
    int line = 0;                // of the kernel's name in the user's source
    // How the CPU runs it (loop fission's plan), and why; `split` when its definition was
    // rewritten in ModuleSource::split_source (fission, or loops run iteration-major).
    ExecutionMode mode = ExecutionMode::loop;
    std::string reason;
    bool split = false;
    bool grid_major = false;  // its new body loops over a range of blocks (make_grid)
    // The parameter types as the translation unit declares them (with checked mode's
    // rewrite): what the CPU launch table names the kernel's exact type with.
    std::vector<std::string> param_types;
};

/// Everything a backend needs to build a module.
struct ModuleSource {
    std::string user_source;       // exactly as given (for error messages)
    std::string prepared_source;   // after line-preserving rewrites (extern __shared__)
    std::string split_source;      // the CPU's: prepared_source with the kernels that loop
                                   // fission rewrote replaced ("" when none was)
    std::vector<KernelDecl> kernels;
    ModuleOptions options;
};

/// What a launch argument for a pointer parameter points into: the bytes from the pointer to
/// the end of the array or view passed (`known` is false for raw pointers from C++).
struct ArgExtent {
    std::size_t bytes = 0;
    bool known = false;
};

/// A compiled kernel, launchable on its backend's device.
class KernelImpl {
  public:
    virtual ~KernelImpl() = default;
    virtual const std::string& name() const noexcept = 0;
    virtual const std::vector<ParamInfo>& params() const noexcept = 0;
    virtual bool uses_fibers() const noexcept = 0;
    virtual ExecutionMode execution_mode() const noexcept = 0;
    virtual const std::string& execution_reason() const noexcept = 0;
    virtual std::size_t static_shared_bytes() const noexcept = 0;
    /// Runs the kernel. `config` is already checked against the device's limits and `args`
    /// holds one pointer per parameter to a value of that parameter's type.
    virtual void launch(const LaunchConfig& config, void* const* args) const = 0;
    /// True when the kernel was built checked: Function::launch then calls launch_checked.
    virtual bool checked() const noexcept { return false; }
    /// Runs a checked kernel; `extents` has one entry per parameter. Throws KernelFault with
    /// the findings (or appends them to MANYCORE_CHECK_COLLECT).
    virtual void launch_checked(const LaunchConfig& config, void* const* args,
                                std::span<const ArgExtent> extents) const;
    /// Runs a kernel built for the memory profile (ModuleOptions::memory_profile) and returns
    /// what it counted; `extents` as for launch_checked. Throws InvalidArgument elsewhere.
    virtual MemoryProfile launch_memory_profile(const LaunchConfig& config, void* const* args,
                                                std::span<const ArgExtent> extents) const;
    /// What the device says the kernel uses (a GPU's driver); the default has only a reason.
    virtual KernelResources resources() const;
    /// The blocks of `threads` threads and `dynamic_shared` bytes that one multiprocessor runs
    /// at once (a GPU driver's occupancy calculator); the default throws InvalidArgument.
    virtual int active_blocks_per_multiprocessor(unsigned threads,
                                                 std::size_t dynamic_shared) const;
};

class ModuleImpl {
  public:
    virtual ~ModuleImpl() = default;
    virtual const Device& device() const noexcept = 0;
    /// The device's limits, looked up once when the module was built (launches check them).
    virtual const DeviceInfo& device_info() const noexcept = 0;
    /// nullptr when there is no such kernel.
    virtual std::shared_ptr<const KernelImpl> kernel(std::string_view name) const = 0;
    virtual std::vector<std::string> kernel_names() const = 0;
    virtual std::string cache_path() const = 0;
    virtual bool from_cache() const noexcept = 0;
    /// A variable of the module (__constant__, __device__) in device memory.
    struct Global {
        void* address = nullptr;  // nullptr: no such variable
        std::size_t bytes = 0;
    };
    /// The variable `name` as the source spells it at namespace scope; the default has none.
    virtual Global global(std::string_view name) const;
};

/// Direction of a copy between a device's memory and host memory.
enum class CopyKind { host_to_device, device_to_host, device_to_device };

/// One copy on a device. With `async` it is queued on `stream` (nullptr: the device's default
/// stream) and may still be running when Backend::copy returns (host memory should then be
/// pinned, and stay alive until the stream has passed the copy); without, Backend::copy
/// returns once the bytes have arrived.
struct CopyRequest {
    CopyKind kind = CopyKind::host_to_device;
    void* dst = nullptr;
    const void* src = nullptr;
    std::size_t bytes = 0;
    void* stream = nullptr;
    bool async = false;
    const char* caller = "manycore.copyto";  // what an error message names as the failing call
    bool stream_on_source = false;  // copy_between: `stream` belongs to the source device
};

/// Whether a backend can be used here and, when not, why.
struct Probe {
    bool available = false;
    std::string reason;  // empty when available
};

class Backend {
  public:
    virtual ~Backend() = default;
    virtual DeviceKind kind() const noexcept = 0;
    virtual std::string_view name() const noexcept = 0;
    virtual Probe probe() const = 0;
    virtual int device_count() const = 0;
    virtual const DeviceInfo& device_info(int index) const = 0;
    virtual std::shared_ptr<Buffer> allocate(int index, std::size_t bytes) const = 0;
    virtual void fill_zero(int index, void* dst, std::size_t bytes) const = 0;
    virtual std::shared_ptr<const ModuleImpl> build(int index, const ModuleSource& source) const = 0;

    // Streams, events, copies, pinned memory and the memory pool: every backend says what
    // they mean on its device (the CPU's are in src/cpu/cpu_backend.cpp). A stream handle of
    // nullptr is the device's default stream.
    virtual void* create_stream(int index) const = 0;
    virtual void destroy_stream(int index, void* stream) const noexcept = 0;
    virtual void synchronize_stream(int index, void* stream) const = 0;
    /// True when every operation queued on the stream has finished.
    virtual bool query_stream(int index, void* stream) const = 0;
    /// Later work on `stream` waits until `event` has happened.
    virtual void stream_wait_event(int index, void* stream, void* event) const = 0;
    virtual void* create_event(int index, bool timing) const = 0;
    virtual void destroy_event(int index, void* event) const noexcept = 0;
    virtual void record_event(int index, void* event, void* stream) const = 0;
    virtual void synchronize_event(int index, void* event) const = 0;
    virtual bool query_event(int index, void* event) const = 0;
    /// Milliseconds between two recorded, completed events.
    virtual float elapsed_ms(int index, void* start, void* end) const = 0;
    /// Waits for all work on the device.
    virtual void synchronize_device(int index) const = 0;
    /// The one way bytes move between the device's memory and the host's (or within the
    /// device): Array's copies to and from the host and manycore.copyto all come here.
    virtual void copy(int index, const CopyRequest& request) const = 0;
    /// A copy from device `src_index`'s memory to device `dst_index`'s (two devices of this
    /// backend); returns the path it took. A backend of one device refuses.
    virtual CopyPath copy_between(int dst_index, int src_index, const CopyRequest& request) const = 0;
    /// The path copy_between takes for these two devices (device, peer or staged).
    virtual CopyPath path_between(int dst_index, int src_index) const = 0;
    /// Page-locked host memory (a PinnedBuffer); nullptr when the device has none.
    virtual std::shared_ptr<Buffer> allocate_pinned(std::size_t bytes) const = 0;
    virtual MemoryPoolStats memory_pool_stats(int index) const = 0;
    /// Returns the cached blocks of the device's pool to the system; the bytes freed.
    virtual std::size_t free_all_blocks(int index) const = 0;
    /// (free, total) bytes of the device's memory.
    virtual std::pair<std::size_t, std::size_t> memory_info(int index) const = 0;
    /// Each kernel's resources (source.kernels' order) when compiled for the GPU architecture
    /// `limits` without a device; the CUDA backend does it with NVRTC. Entries carry a reason
    /// instead of numbers when that cannot be done. The default throws DeviceUnavailable.
    virtual std::vector<KernelResources> offline_resources(const ModuleSource& source,
                                                           const ArchLimits& limits) const;
    /// The driver's value of device attribute `attribute` (a CUdevice_attribute); the default
    /// throws DeviceUnavailable (only GPUs have them).
    virtual int device_attribute(int index, int attribute) const;
};

/// The backend for `kind`; throws DeviceUnavailable when this build has none.
const Backend& backend(DeviceKind kind);
/// Every backend this build has, in registration order (cpu first).
const std::vector<const Backend*>& backends();

}  // namespace manycore::detail
