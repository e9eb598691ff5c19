// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// One state per GPU: its properties, its primary context, its memory pool, and fault bookkeeping.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "cuda/cuda_types.hpp"
#include "cuda/driver_api.hpp"
#include "manycore/device.hpp"

namespace manycore::cuda {

class MemoryPool;

/// A GPU as this process uses it. Created once per device when the driver loads and never
/// destroyed (no driver call from a static destructor at exit). Thread-safe.
class DeviceState {
  public:
    DeviceState(const DriverApi& api, int index, CUdevice device, DeviceInfo info);
    DeviceState(const DeviceState&) = delete;
    DeviceState& operator=(const DeviceState&) = delete;

    const DriverApi& api() const noexcept { return api_; }
    int index() const noexcept { return index_; }
    const Device& device() const noexcept { return device_; }
    const std::string& name() const noexcept { return name_; }  // "cuda:0"
    const DeviceInfo& info() const noexcept { return info_; }
    CUdevice cu_device() const noexcept { return cu_device_; }
    /// Compute capability as 10 * major + minor (90 for an H100).
    int compute_capability() const noexcept {
        return info_.compute_capability_major * 10 + info_.compute_capability_minor;
    }

    /// The device's primary context, retained on first use (never released: the driver tears it
    /// down at exit). Throws DeviceUnavailable in a forked child, CudaError when it cannot be
    /// created.
    CUcontext context();
    MemoryPool& pool() noexcept { return *pool_; }

    /// Remembers the kernel last launched here, to name it when a fault surfaces later.
    void note_launch(const std::string* kernel) noexcept {
        last_kernel_.store(kernel, std::memory_order_relaxed);
    }
    /// Whether a stream other than the default one was ever used here (the pool then orders
    /// the reuse of freed blocks behind the work already queued; see MemoryPool::release).
    void note_stream_used() noexcept { streams_used_.store(true, std::memory_order_relaxed); }
    bool streams_used() const noexcept { return streams_used_.load(std::memory_order_relaxed); }

    /// Throws unless the device can take work: KernelFault once a sticky fault has destroyed
    /// the context, DeviceUnavailable in a forked child.
    void check_usable() const;

    /// Throws the exception that `result` (returned by `call`, in the operation `where`) means
    /// here: KernelFault for a device-side fault (naming `kernel`, else the last kernel launched),
    /// InvalidLaunch for a launch the device refused, CudaError for anything else.
    [[noreturn]] void raise(CUresult result, std::string_view call, std::string_view where,
                            const std::string* kernel = nullptr);
    /// raise() unless `result` is CUDA_SUCCESS.
    void check(CUresult result, std::string_view call, std::string_view where,
               const std::string* kernel = nullptr) {
        if (result != CUDA_SUCCESS) raise(result, call, where, kernel);
    }

  private:
    const DriverApi& api_;
    int index_;
    CUdevice cu_device_;
    Device device_;
    std::string name_;
    DeviceInfo info_;
    std::atomic<CUcontext> context_{nullptr};
    std::mutex context_mutex_;
    std::unique_ptr<MemoryPool> pool_;
    std::atomic<const std::string*> last_kernel_{nullptr};
    std::atomic<bool> streams_used_{false};
    std::atomic<int> lost_result_{0};  // the sticky CUresult that destroyed the context, or 0
};

/// Every GPU of the process, built once from the driver; throws DeviceUnavailable when the
/// driver cannot be used or `index` is not a device. Thread-safe.
DeviceState& device_state(int index);

/// Makes `state`'s primary context current on this thread for the scope. A context someone
/// else had made current (another device's, another library's) is put back at the end; when
/// none was current, ours stays, so later calls on this thread cost one cuCtxGetCurrent.
class ScopedContext {
  public:
    explicit ScopedContext(DeviceState& state);
    ~ScopedContext();
    ScopedContext(const ScopedContext&) = delete;
    ScopedContext& operator=(const ScopedContext&) = delete;

  private:
    const DriverApi& api_;
    CUcontext previous_ = nullptr;
    bool restore_ = false;
};

/// A stable pointer to `name` for DeviceState::note_launch (names are interned for the life of
/// the process, so a fault can name a kernel whose module is gone). Thread-safe.
const std::string* intern_kernel_name(const std::string& name);

/// True for the CUresults after which the context is unusable (illegal address, assert, ...).
bool is_sticky_fault(CUresult result) noexcept;

/// "1.5 GiB", "512 bytes".
std::string format_bytes(std::size_t bytes);

}  // namespace manycore::cuda
