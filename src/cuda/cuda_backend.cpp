// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The CUDA room: GPUs through the driver API and NVRTC, both loaded at run time.
#include <cstdio>
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>

#include "cuda/context.hpp"
#include "cuda/cubin_resources.hpp"
#include "cuda/cuda_module.hpp"
#include "cuda/driver_api.hpp"
#include "cuda/memory_pool.hpp"
#include "cuda/peer_copy.hpp"
#include "cuda/process_state.hpp"
#include "manycore/detail/backend.hpp"
#include "manycore/error.hpp"
#include "manycore/memory.hpp"

namespace manycore::detail {
namespace {

// The driver hands kernels' printf output to stdio when the host waits for the GPU; flushing
// then makes it appear before the caller's next print, as it does on the CPU device.
void flush_kernel_output() noexcept { std::fflush(stdout); }

using namespace manycore::cuda;

CUdeviceptr dptr(const void* p) { return reinterpret_cast<CUdeviceptr>(p); }

// Page-locked host memory from cuMemHostAlloc (portable: every context may use it).
class CudaPinnedBuffer final : public PinnedBuffer {
  public:
    CudaPinnedBuffer(void* data, std::size_t size) : PinnedBuffer(data, size) {}
    ~CudaPinnedBuffer() override {
        if (shutting_down()) return;
        try {
            auto& state = device_state(0);
            ScopedContext scope(state);
            (void)state.api().cuMemFreeHost(data());
        } catch (...) {
            // The context is gone (a fault): its pinned memory went with it.
        }
    }
};

class CudaBackend final : public Backend {
  public:
    DeviceKind kind() const noexcept override { return DeviceKind::cuda; }
    std::string_view name() const noexcept override { return "cuda"; }

    Probe probe() const override {
        std::string reason;
        if (driver_or_null(&reason) == nullptr) return {false, reason};
        return {true, {}};
    }
    int device_count() const override {
        const DriverApi* api = driver_or_null();
        return api ? api->device_count : 0;
    }
    const DeviceInfo& device_info(int index) const override { return device_state(index).info(); }

    std::shared_ptr<Buffer> allocate(int index, std::size_t bytes) const override {
        return device_state(index).pool().allocate(bytes, "manycore.empty");
    }

    void copy_to_host(void* dst, const void* src, std::size_t bytes) const override {
        if (bytes == 0) return;
        auto& state = owner_of(src);
        ScopedContext scope(state);
        state.check(state.api().cuMemcpyDtoH(dst, dptr(src), bytes), "cuMemcpyDtoH", "Array.get()");
    }
    void copy_from_host(void* dst, const void* src, std::size_t bytes) const override {
        if (bytes == 0) return;
        auto& state = owner_of(dst);
        ScopedContext scope(state);
        state.check(state.api().cuMemcpyHtoD(dptr(dst), src, bytes), "cuMemcpyHtoD",
                    "manycore.to_device");
    }
    void fill_zero(void* dst, std::size_t bytes) const override {
        if (bytes == 0) return;
        auto& state = owner_of(dst);
        ScopedContext scope(state);
        state.check(state.api().cuMemsetD8(dptr(dst), 0, bytes), "cuMemsetD8", "manycore.zeros");
    }

    std::shared_ptr<const ModuleImpl> build(int index, const ModuleSource& source) const override {
        return build_module(device_state(index), source);
    }

    void* create_stream(int index) const override {
        auto& state = device_state(index);
        ScopedContext scope(state);
        CUstream stream = nullptr;
        // Blocking (CU_STREAM_DEFAULT): it orders with the legacy default stream, which the
        // synchronous copies use and the memory pool relies on (MemoryPool::release).
        state.check(state.api().cuStreamCreate(&stream, CU_STREAM_DEFAULT), "cuStreamCreate",
                    "Stream()");
        state.note_stream_used();
        return stream;
    }
    void destroy_stream(int index, void* stream) const noexcept override {
        if (stream == nullptr || shutting_down()) return;
        try {
            auto& state = device_state(index);
            ScopedContext scope(state);
            // Returns at once; the driver frees the stream when its queued work is done.
            (void)state.api().cuStreamDestroy(static_cast<CUstream>(stream));
        } catch (...) {
        }
    }
    void synchronize_stream(int index, void* stream) const override {
        auto& state = device_state(index);
        ScopedContext scope(state);
        state.check(state.api().cuStreamSynchronize(static_cast<CUstream>(stream)),
                    "cuStreamSynchronize", "Stream.synchronize()");
        flush_kernel_output();
    }
    bool query_stream(int index, void* stream) const override {
        auto& state = device_state(index);
        ScopedContext scope(state);
        const CUresult r = state.api().cuStreamQuery(static_cast<CUstream>(stream));
        if (r == CUDA_ERROR_NOT_READY) return false;
        state.check(r, "cuStreamQuery", "Stream.query()");
        return true;
    }
    void stream_wait_event(int index, void* stream, void* event) const override {
        auto& state = device_state(index);
        ScopedContext scope(state);
        if (stream) state.note_stream_used();
        state.check(state.api().cuStreamWaitEvent(static_cast<CUstream>(stream),
                                                  static_cast<CUevent>(event), 0),
                    "cuStreamWaitEvent", "Stream.wait(event)");
    }
    void* create_event(int index, bool timing) const override {
        auto& state = device_state(index);
        ScopedContext scope(state);
        CUevent event = nullptr;
        state.check(state.api().cuEventCreate(&event, timing ? CU_EVENT_DEFAULT
                                                             : CU_EVENT_DISABLE_TIMING),
                    "cuEventCreate", "Event()");
        return event;
    }
    void destroy_event(int index, void* event) const noexcept override {
        if (event == nullptr || shutting_down()) return;
        try {
            auto& state = device_state(index);
            ScopedContext scope(state);
            (void)state.api().cuEventDestroy(static_cast<CUevent>(event));
        } catch (...) {
        }
    }
    void record_event(int index, void* event, void* stream) const override {
        auto& state = device_state(index);
        ScopedContext scope(state);
        if (stream) state.note_stream_used();
        state.check(state.api().cuEventRecord(static_cast<CUevent>(event),
                                              static_cast<CUstream>(stream)),
                    "cuEventRecord", "Event.record()");
    }
    void synchronize_event(int index, void* event) const override {
        auto& state = device_state(index);
        ScopedContext scope(state);
        state.check(state.api().cuEventSynchronize(static_cast<CUevent>(event)),
                    "cuEventSynchronize", "Event.synchronize()");
        flush_kernel_output();
    }
    bool query_event(int index, void* event) const override {
        auto& state = device_state(index);
        ScopedContext scope(state);
        const CUresult r = state.api().cuEventQuery(static_cast<CUevent>(event));
        if (r == CUDA_ERROR_NOT_READY) return false;
        state.check(r, "cuEventQuery", "Event.query()");
        return true;
    }
    float elapsed_ms(int index, void* start, void* end) const override {
        auto& state = device_state(index);
        ScopedContext scope(state);
        float ms = 0.0f;
        state.check(state.api().cuEventElapsedTime(&ms, static_cast<CUevent>(start),
                                                   static_cast<CUevent>(end)),
                    "cuEventElapsedTime", "Event.elapsed_time()");
        return ms;
    }
    void synchronize_device(int index) const override {
        auto& state = device_state(index);
        ScopedContext scope(state);
        state.check(state.api().cuCtxSynchronize(), "cuCtxSynchronize", "manycore.synchronize()");
        flush_kernel_output();
    }

    void copy(int index, const CopyRequest& r) const override {
        if (r.bytes == 0) return;
        auto& state = device_state(index);
        ScopedContext scope(state);
        const auto& api = state.api();
        const auto stream = static_cast<CUstream>(r.stream);
        if (stream) state.note_stream_used();
        switch (r.kind) {
            case CopyKind::host_to_device:
                state.check(r.async ? api.cuMemcpyHtoDAsync(dptr(r.dst), r.src, r.bytes, stream)
                                    : api.cuMemcpyHtoD(dptr(r.dst), r.src, r.bytes),
                            r.async ? "cuMemcpyHtoDAsync" : "cuMemcpyHtoD", "manycore.copy");
                break;
            case CopyKind::device_to_host:
                state.check(r.async ? api.cuMemcpyDtoHAsync(r.dst, dptr(r.src), r.bytes, stream)
                                    : api.cuMemcpyDtoH(r.dst, dptr(r.src), r.bytes),
                            r.async ? "cuMemcpyDtoHAsync" : "cuMemcpyDtoH", "manycore.copy");
                break;
            case CopyKind::device_to_device:
                // Unified addressing: the driver finds both devices from the pointers.
                state.check(r.async ? api.cuMemcpyDtoDAsync(dptr(r.dst), dptr(r.src), r.bytes, stream)
                                    : api.cuMemcpyDtoD(dptr(r.dst), dptr(r.src), r.bytes),
                            r.async ? "cuMemcpyDtoDAsync" : "cuMemcpyDtoD", "manycore.copy");
                break;
        }
    }

    CopyPath copy_between(int dst_index, int src_index, const CopyRequest& r) const override {
        auto& to = device_state(dst_index);
        auto& from = device_state(src_index);
        to.check_usable();
        from.check_usable();
        const bool peer = peer_enabled(to, from);
        if (r.bytes == 0) return peer ? CopyPath::peer : CopyPath::staged;
        const auto stream = static_cast<CUstream>(r.stream);
        if (stream) (r.stream_on_source ? from : to).note_stream_used();
        if (peer) {
            peer_copy(to, dptr(r.dst), from, dptr(r.src), r.bytes, stream, r.async);
            return CopyPath::peer;
        }
        staged_copy(to, dptr(r.dst), r.stream_on_source ? nullptr : stream, from, dptr(r.src),
                    r.stream_on_source ? stream : nullptr, r.bytes);
        return CopyPath::staged;
    }
    CopyPath path_between(int dst_index, int src_index) const override {
        if (dst_index == src_index) return CopyPath::device;
        return peer_enabled(device_state(dst_index), device_state(src_index)) ? CopyPath::peer
                                                                              : CopyPath::staged;
    }

    std::shared_ptr<Buffer> allocate_pinned(std::size_t bytes) const override {
        auto& state = device_state(0);
        ScopedContext scope(state);
        void* data = nullptr;
        const CUresult r =
            state.api().cuMemHostAlloc(&data, std::max<std::size_t>(bytes, 1), CU_MEMHOSTALLOC_PORTABLE);
        if (r == CUDA_ERROR_OUT_OF_MEMORY) {
            throw OutOfMemory("manycore.pinned_empty: cannot pin " + format_bytes(bytes) +
                                  " of host memory; pin less (the system limits locked memory: "
                                  "see `ulimit -l`) or use manycore.empty on the CPU",
                              bytes, 0);
        }
        state.check(r, "cuMemHostAlloc", "manycore.pinned_empty");
        try {
            return std::make_shared<CudaPinnedBuffer>(data, bytes);
        } catch (...) {
            (void)state.api().cuMemFreeHost(data);
            throw;
        }
    }

    MemoryPoolStats memory_pool_stats(int index) const override {
        auto& pool = device_state(index).pool();
        return {pool.used_bytes(), pool.held_bytes(), pool.cached_blocks()};
    }
    std::size_t free_all_blocks(int index) const override {
        return device_state(index).pool().free_all_blocks();
    }
    std::vector<KernelResources> offline_resources(const ModuleSource& source,
                                                   const ArchLimits& limits) const override {
        return cuda::offline_resources(source, limits);
    }
    std::pair<std::size_t, std::size_t> memory_info(int index) const override {
        DeviceState& state = device_state(index);
        ScopedContext scope(state);
        std::size_t free = 0, total = 0;
        state.check(state.api().cuMemGetInfo(&free, &total), "cuMemGetInfo", "mem_get_info");
        return {free, total};
    }
    int device_attribute(int index, int attribute) const override {
        DeviceState& state = device_state(index);
        int value = 0;
        state.check(state.api().cuDeviceGetAttribute(&value, attribute, state.cu_device()),
                    "cuDeviceGetAttribute(" + std::to_string(attribute) + ")",
                    "Device.get_attribute");
        return value;
    }

  private:
    // The GPU whose memory `p` is. The legacy Backend copy calls carry no device, and a copy
    // must run in the owner's context to be ordered after the kernels that wrote the memory.
    static DeviceState& owner_of(const void* p) {
        const DriverApi& api = driver();
        if (api.device_count > 1) {
            int ordinal = -1;
            if (api.cuPointerGetAttribute(&ordinal, CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL, dptr(p)) ==
                    CUDA_SUCCESS &&
                ordinal >= 0) {
                return device_state(ordinal);
            }
        }
        return device_state(0);
    }
};

}  // namespace

std::unique_ptr<Backend> make_cuda_backend() { return std::make_unique<CudaBackend>(); }

}  // namespace manycore::detail
