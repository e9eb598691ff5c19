// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Copies between two GPUs: peer access enabled once per pair, or chunks through pinned memory.
#include "cuda/peer_copy.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <utility>

#include "manycore/config.hpp"
#include "manycore/error.hpp"

namespace manycore::cuda {
namespace {

constexpr const char* kWhere = "manycore.copy between GPUs";

// Access from `from`'s context to `to`'s memory; true when it is (or already was) enabled.
bool enable_access(DeviceState& from, DeviceState& to) {
    ScopedContext scope(from);
    const CUresult r = from.api().cuCtxEnablePeerAccess(to.context(), 0);
    if (r == CUDA_SUCCESS || r == CUDA_ERROR_PEER_ACCESS_ALREADY_ENABLED) return true;
    // Refused (too many peers, unsupported topology): such pairs copy through host memory.
    if (r == CUDA_ERROR_TOO_MANY_PEERS || r == CUDA_ERROR_PEER_ACCESS_UNSUPPORTED) return false;
    from.check(r, "cuCtxEnablePeerAccess", kWhere);
    return false;
}

// Two page-locked buffers, used in turn: the next chunk comes down into one while the last
// goes up from the other. Portable (every context may use them); never freed.
constexpr std::size_t kChunk = std::size_t{8} << 20;
struct Staging {
    std::mutex mutex;
    void* buffer[2] = {nullptr, nullptr};
};
Staging& staging() {
    static auto* s = new Staging();
    return *s;
}

CUevent new_event(DeviceState& state) {
    CUevent e = nullptr;
    state.check(state.api().cuEventCreate(&e, CU_EVENT_DISABLE_TIMING), "cuEventCreate", kWhere);
    return e;
}

}  // namespace

bool peer_enabled(DeviceState& a, DeviceState& b) {
    if (&a == &b) return true;
    if (!Config::get().peer_copy) return false;
    static std::mutex mutex;
    static auto* known = new std::map<std::pair<int, int>, bool>();
    const auto key = std::minmax(a.index(), b.index());
    std::lock_guard lock(mutex);
    if (auto it = known->find(key); it != known->end()) return it->second;
    const auto& api = a.api();
    int a_to_b = 0, b_to_a = 0;
    a.check(api.cuDeviceCanAccessPeer(&a_to_b, a.cu_device(), b.cu_device()), "cuDeviceCanAccessPeer", kWhere);
    a.check(api.cuDeviceCanAccessPeer(&b_to_a, b.cu_device(), a.cu_device()), "cuDeviceCanAccessPeer", kWhere);
    const bool ok = a_to_b && b_to_a && enable_access(a, b) && enable_access(b, a);
    (*known)[key] = ok;
    return ok;
}

void peer_copy(DeviceState& to, CUdeviceptr dst, DeviceState& from, CUdeviceptr src, std::size_t bytes,
               CUstream stream, bool async) {
    const auto& api = to.api();
    ScopedContext scope(to);
    if (async) {
        to.check(api.cuMemcpyPeerAsync(dst, to.context(), src, from.context(), bytes, stream),
                 "cuMemcpyPeerAsync", kWhere);
        return;
    }
    // Ordered after the work queued in both contexts; the default stream's synchronize then
    // waits for the copy itself (the driver returns before the bytes have arrived).
    to.check(api.cuMemcpyPeer(dst, to.context(), src, from.context(), bytes), "cuMemcpyPeer", kWhere);
    to.check(api.cuStreamSynchronize(nullptr), "cuStreamSynchronize", kWhere);
}

void staged_copy(DeviceState& to, CUdeviceptr dst, CUstream to_stream, DeviceState& from, CUdeviceptr src,
                 CUstream from_stream, std::size_t bytes) {
    const auto& api = to.api();
    Staging& st = staging();
    std::lock_guard lock(st.mutex);
    for (void*& b : st.buffer) {
        if (b != nullptr) continue;
        ScopedContext scope(from);
        from.check(api.cuMemHostAlloc(&b, kChunk, CU_MEMHOSTALLOC_PORTABLE), "cuMemHostAlloc", kWhere);
    }
    CUevent down[2] = {nullptr, nullptr}, up[2] = {nullptr, nullptr};
    try {
        {
            ScopedContext scope(from);
            down[0] = new_event(from);
            down[1] = new_event(from);
        }
        {
            ScopedContext scope(to);
            up[0] = new_event(to);
            up[1] = new_event(to);
        }
        bool used[2] = {false, false};
        for (std::size_t offset = 0, i = 0; offset < bytes; offset += kChunk, ++i) {
            const std::size_t k = i % 2, n = std::min(kChunk, bytes - offset);
            if (used[k]) to.check(api.cuEventSynchronize(up[k]), "cuEventSynchronize", kWhere);
            {
                ScopedContext scope(from);
                from.check(api.cuMemcpyDtoHAsync(st.buffer[k], src + offset, n, from_stream),
                           "cuMemcpyDtoHAsync", kWhere);
                from.check(api.cuEventRecord(down[k], from_stream), "cuEventRecord", kWhere);
                from.check(api.cuEventSynchronize(down[k]), "cuEventSynchronize", kWhere);
            }
            ScopedContext scope(to);
            to.check(api.cuMemcpyHtoDAsync(dst + offset, st.buffer[k], n, to_stream), "cuMemcpyHtoDAsync", kWhere);
            to.check(api.cuEventRecord(up[k], to_stream), "cuEventRecord", kWhere);
            used[k] = true;
        }
        for (int k = 0; k < 2; ++k) {
            if (used[k]) to.check(api.cuEventSynchronize(up[k]), "cuEventSynchronize", kWhere);
        }
    } catch (...) {
        for (CUevent e : {down[0], down[1], up[0], up[1]}) {
            if (e) (void)api.cuEventDestroy(e);
        }
        throw;
    }
    for (CUevent e : {down[0], down[1], up[0], up[1]}) (void)api.cuEventDestroy(e);
}

}  // namespace manycore::cuda
