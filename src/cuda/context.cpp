// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Device states: discovery, primary contexts, and turning driver errors into manycore's exceptions.
#include "cuda/context.hpp"

#include <cstdio>
#include <unordered_set>
#include <vector>

#include "cuda/memory_pool.hpp"
#include "cuda/process_state.hpp"
#include "manycore/error.hpp"

namespace manycore::cuda {
namespace {

int attribute(const DriverApi& api, int attr, CUdevice dev) {
    int value = 0;
    check(api.cuDeviceGetAttribute(&value, attr, dev), "cuDeviceGetAttribute", "Device('cuda')");
    return value;
}

DeviceInfo read_info(const DriverApi& api, CUdevice dev) {
    DeviceInfo info;
    char name[256] = {};
    check(api.cuDeviceGetName(name, sizeof name - 1, dev), "cuDeviceGetName", "Device('cuda')");
    info.name = name;
    check(api.cuDeviceTotalMem(&info.total_memory, dev), "cuDeviceTotalMem", "Device('cuda')");
    info.compute_units = attribute(api, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev);
    info.compute_capability_major = attribute(api, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev);
    info.compute_capability_minor = attribute(api, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev);
    info.max_threads_per_block =
        static_cast<unsigned>(attribute(api, CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK, dev));
    for (int i = 0; i < 3; ++i) {
        info.max_block_dim[i] =
            static_cast<unsigned>(attribute(api, CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X + i, dev));
        info.max_grid_dim[i] =
            static_cast<unsigned>(attribute(api, CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X + i, dev));
    }
    // The default per-block limit (48 KiB), not the opt-in maximum: a launch above it needs
    // cuFuncSetAttribute, which manycore does not do.
    info.max_shared_per_block = static_cast<std::size_t>(
        attribute(api, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK, dev));
    info.warp_size = static_cast<unsigned>(attribute(api, CU_DEVICE_ATTRIBUTE_WARP_SIZE, dev));
    return info;
}

}  // namespace

DeviceState::DeviceState(const DriverApi& api, int index, CUdevice device, DeviceInfo info)
    : api_(api), index_(index), cu_device_(device), device_(DeviceKind::cuda, index),
      name_("cuda:" + std::to_string(index)), info_(std::move(info)),
      pool_(std::make_unique<MemoryPool>(*this)) {}

CUcontext DeviceState::context() {
    if (CUcontext c = context_.load(std::memory_order_acquire)) return c;
    check_not_forked();
    std::lock_guard lock(context_mutex_);
    if (CUcontext c = context_.load(std::memory_order_relaxed)) return c;
    CUcontext c = nullptr;
    const CUresult r = api_.cuDevicePrimaryCtxRetain(&c, cu_device_);
    if (r != CUDA_SUCCESS) {
        throw CudaError(name_ + ": cuDevicePrimaryCtxRetain failed: " + error_text(r) +
                            "; the GPU may be in exclusive-process mode and used by another "
                            "process (see nvidia-smi), or out of memory",
                        r, error_name(r));
    }
    // The driver may have set up more of its teardown now: keep our exit hook after it.
    process_state_after_init();
    context_.store(c, std::memory_order_release);
    return c;
}

void DeviceState::check_usable() const {
    check_not_forked();
    if (const CUresult lost = lost_result_.load(std::memory_order_relaxed)) {
        const std::string* last = last_kernel_.load(std::memory_order_relaxed);
        throw KernelFault("the CUDA context of " + name_ + " was lost after an earlier fault (" +
                              error_name(lost) + (last ? " after kernel '" + *last + "'" : "") +
                              "); restart the process to use " + name_ + " again",
                          last ? *last : "", true);
    }
}

void DeviceState::raise(CUresult result, std::string_view call, std::string_view where,
                        const std::string* kernel) {
    const std::string prefix = std::string(where) + ": ";
    if (is_sticky_fault(result)) {
        const bool earlier = lost_result_.exchange(result) != 0;
        const std::string* last = last_kernel_.load(std::memory_order_relaxed);
        const std::string* culprit = kernel ? kernel : last;
        std::string who = culprit ? "kernel '" + *culprit + "'" : std::string("a kernel");
        if (!kernel && culprit) who += " (the last launched on " + name_ + ")";
        std::string message = prefix + who + " on " + name_ + " failed: " + error_text(result);
        message += earlier ? "; the CUDA context of " + name_ +
                                 " was already lost after an earlier fault; restart the process"
                           : "; the CUDA context of " + name_ +
                                 " is lost after this fault; restart the process";
        throw KernelFault(message, culprit ? *culprit : "", true);
    }
    if (call == "cuLaunchKernel" &&
        (result == CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES || result == CUDA_ERROR_INVALID_VALUE)) {
        throw InvalidLaunch(prefix + name_ + " refused the launch: " + error_text(result) +
                            "; the kernel needs more registers or shared memory than this block "
                            "size allows: use a smaller block, or __launch_bounds__ in the source");
    }
    if (result == CUDA_ERROR_OUT_OF_MEMORY) {
        std::size_t free_bytes = 0, total = 0;
        {
            // Best effort: the numbers make the message useful, their absence must not hide it.
            CUcontext current = nullptr;
            if (api_.cuCtxGetCurrent(&current) == CUDA_SUCCESS && current) {
                (void)api_.cuMemGetInfo(&free_bytes, &total);
            }
        }
        throw OutOfMemory(prefix + std::string(call) + " ran out of memory on " + name_ + " (" +
                              format_bytes(free_bytes) + " free of " + format_bytes(total) +
                              "); free arrays or call manycore.cuda.memory_pool().free_all_blocks()",
                          0, free_bytes);
    }
    throw CudaError(prefix + std::string(call) + " failed on " + name_ + ": " + error_text(result),
                    result, error_name(result));
}

DeviceState& device_state(int index) {
    static const std::vector<DeviceState*> states = [] {
        const DriverApi& api = driver();
        std::vector<DeviceState*> out;
        for (int i = 0; i < api.device_count; ++i) {
            CUdevice dev = 0;
            check(api.cuDeviceGet(&dev, i), "cuDeviceGet", "Device('cuda:" + std::to_string(i) + "')");
            // Never deleted: buffers and kernels may be released at any time until exit.
            out.push_back(new DeviceState(api, i, dev, read_info(api, dev)));
        }
        return out;
    }();
    check_not_forked();
    if (index < 0 || index >= static_cast<int>(states.size())) {
        throw DeviceUnavailable("Device('cuda:" + std::to_string(index) + "'): there are only " +
                                std::to_string(states.size()) + " CUDA devices (0 to " +
                                std::to_string(static_cast<int>(states.size()) - 1) + ")");
    }
    return *states[static_cast<std::size_t>(index)];
}

ScopedContext::ScopedContext(DeviceState& state) : api_(state.api()) {
    state.check_usable();
    CUcontext want = state.context();
    CUcontext current = nullptr;
    (void)api_.cuCtxGetCurrent(&current);
    if (current == want) return;
    state.check(api_.cuCtxSetCurrent(want), "cuCtxSetCurrent", state.name());
    previous_ = current;
    restore_ = current != nullptr;
}

ScopedContext::~ScopedContext() {
    if (restore_ && !shutting_down()) (void)api_.cuCtxSetCurrent(previous_);
}

const std::string* intern_kernel_name(const std::string& name) {
    static std::mutex mutex;
    static auto* names = new std::unordered_set<std::string>();  // never freed, on purpose
    std::lock_guard lock(mutex);
    return &*names->insert(name).first;
}

bool is_sticky_fault(CUresult r) noexcept {
    switch (r) {
        case CUDA_ERROR_ILLEGAL_ADDRESS:
        case CUDA_ERROR_LAUNCH_TIMEOUT:
        case CUDA_ERROR_ASSERT:
        case CUDA_ERROR_HARDWARE_STACK_ERROR:
        case CUDA_ERROR_ILLEGAL_INSTRUCTION:
        case CUDA_ERROR_MISALIGNED_ADDRESS:
        case CUDA_ERROR_INVALID_ADDRESS_SPACE:
        case CUDA_ERROR_INVALID_PC:
        case CUDA_ERROR_LAUNCH_FAILED:
            return true;
        default:
            return false;
    }
}

std::string format_bytes(std::size_t bytes) {
    const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double value = static_cast<double>(bytes);
    int unit = 0;
    while (value >= 1024.0 && unit < 5) {
        value /= 1024.0;
        ++unit;
    }
    char text[64];
    if (unit == 0) std::snprintf(text, sizeof text, "%zu bytes", bytes);
    else std::snprintf(text, sizeof text, "%.1f %s", value, units[unit]);
    return text;
}

}  // namespace manycore::cuda
