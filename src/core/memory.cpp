// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Pinned host memory, copies between any two devices, and the memory-pool queries.
#include "manycore/memory.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <string>

#include "manycore/detail/backend.hpp"
#include "manycore/error.hpp"
#include "manycore/stream.hpp"

namespace manycore {
namespace {

// Every live PinnedBuffer's [data, data + size), so an array (a view too) can tell whether its
// memory is pinned although its owner is type-erased. Never destroyed: buffers may outlive it.
std::mutex& pinned_mutex() {
    static auto* m = new std::mutex();
    return *m;
}
std::map<std::uintptr_t, std::size_t>& pinned_ranges() {
    static auto* ranges = new std::map<std::uintptr_t, std::size_t>();
    return *ranges;
}

// The room that can pin host memory: the first whose probe succeeds and that offers it.
std::shared_ptr<Buffer> pinned_from_rooms(std::size_t bytes) {
    for (const auto* room : detail::backends()) {
        if (room->kind() == DeviceKind::cpu || !room->probe().available) continue;
        if (auto buffer = room->allocate_pinned(bytes)) return buffer;
    }
    return nullptr;
}

}  // namespace

std::shared_ptr<Buffer> allocate_pinned(std::size_t bytes) {
    if (auto buffer = pinned_from_rooms(bytes)) return buffer;
    return detail::backend(DeviceKind::cpu).allocate(0, bytes);
}

Array pinned_empty(std::vector<std::int64_t> shape, DType dtype, std::size_t itemsize) {
    itemsize = detail::resolve_itemsize(dtype, itemsize);
    auto buffer = allocate_pinned(detail::byte_count(shape, itemsize));
    void* data = buffer->data();
    return Array::wrap(data, std::move(shape), {}, dtype, Device::cpu(), std::move(buffer), true,
                       itemsize);
}

bool is_pinned(const Buffer& buffer) noexcept {
    return dynamic_cast<const PinnedBuffer*>(&buffer) != nullptr;
}

bool is_pinned(const Array& array) noexcept {
    const auto address = reinterpret_cast<std::uintptr_t>(array.data());
    std::lock_guard lock(pinned_mutex());
    const auto& ranges = pinned_ranges();
    auto it = ranges.upper_bound(address);
    if (it == ranges.begin()) return false;
    --it;
    return address < it->first + std::max<std::size_t>(it->second, 1);
}

PinnedBuffer::PinnedBuffer(void* data, std::size_t size) : Buffer(data, size, Device::cpu()) {
    std::lock_guard lock(pinned_mutex());
    pinned_ranges()[reinterpret_cast<std::uintptr_t>(data)] = size;
}

PinnedBuffer::~PinnedBuffer() {
    try {
        std::lock_guard lock(pinned_mutex());
        pinned_ranges().erase(reinterpret_cast<std::uintptr_t>(data()));
    } catch (...) {
        // A mutex that cannot lock at exit: the range list is going away too.
    }
}

const char* to_string(CopyPath path) noexcept {
    switch (path) {
        case CopyPath::host: return "host";
        case CopyPath::host_to_device: return "host_to_device";
        case CopyPath::device_to_host: return "device_to_host";
        case CopyPath::device: return "device";
        case CopyPath::peer: return "peer";
        case CopyPath::staged: return "staged";
    }
    return "unknown";
}

CopyPath copy(const Array& dst, const Array& src, const Stream* stream) {
    if (dst.nbytes() != src.nbytes()) {
        throw InvalidArgument("copy(dst, src): dst has " + std::to_string(dst.nbytes()) +
                              " bytes but src has " + std::to_string(src.nbytes()) +
                              "; copy between arrays of the same size");
    }
    if (!dst.is_c_contiguous() || !src.is_c_contiguous()) {
        throw InvalidArgument("copy(dst, src): both arrays must be contiguous; copy a "
                              "non-contiguous one into a contiguous array first");
    }
    if (!dst.writable()) {
        throw InvalidArgument("copy(dst, src): dst is read-only (a NumPy array with "
                              "flags.writeable False, or one over immutable bytes); copy into a "
                              "writable array, e.g. numpy.empty_like(dst)");
    }
    const std::size_t bytes = dst.nbytes();
    const Device& d = dst.device();
    const Device& s = src.device();
    const bool d_host = d.kind() == DeviceKind::cpu, s_host = s.kind() == DeviceKind::cpu;
    const CopyPath plain = d_host && s_host ? CopyPath::host
                           : d_host         ? CopyPath::device_to_host
                           : s_host         ? CopyPath::host_to_device
                                            : CopyPath::device;
    if (stream != nullptr && !(d_host && s_host) && !(!d_host && stream->device() == d) &&
        !(!s_host && stream->device() == s)) {
        const Device& gpu = d_host ? s : d;
        throw InvalidArgument("copy(dst, src, stream): the stream is on " + stream->device().str() +
                              " but the copy involves " + gpu.str() +
                              (d_host || s_host || d == s ? "" : " and " + s.str()) +
                              "; use a stream of a device involved");
    }
    if (d_host && s_host) {
        if (bytes) std::memmove(dst.data(), src.data(), bytes);
        return plain;
    }
    detail::CopyRequest request;
    request.dst = dst.data();
    request.src = src.data();
    request.bytes = bytes;
    request.kind = d_host   ? detail::CopyKind::device_to_host
                   : s_host ? detail::CopyKind::host_to_device
                            : detail::CopyKind::device_to_device;
    if (stream != nullptr) {
        request.stream = stream->handle();
        request.async = true;
    }
    if (!d_host && !s_host && !(d == s)) {
        if (d.kind() != s.kind()) {
            throw InvalidArgument("copy(dst, src): between " + s.str() + " and " + d.str() +
                                  " (devices of two kinds); copy through host memory");
        }
        (void)d.info();
        (void)s.info();
        if (stream != nullptr && !(stream->device() == d)) request.stream_on_source = true;
        return detail::backend(d.kind()).copy_between(d.index(), s.index(), request);
    }
    if (bytes == 0) return plain;
    const Device& gpu = d_host ? s : d;
    (void)gpu.info();
    detail::backend(gpu.kind()).copy(gpu.index(), request);
    return plain;
}

CopyPath gpu_copy_path(const Device& dst, const Device& src) {
    if (dst.kind() == DeviceKind::cpu || src.kind() == DeviceKind::cpu || dst.kind() != src.kind()) {
        throw InvalidArgument("gpu_copy_path(" + dst.str() + ", " + src.str() +
                              "): both devices must be GPUs of one kind");
    }
    (void)dst.info();
    (void)src.info();
    return detail::backend(dst.kind()).path_between(dst.index(), src.index());
}

MemoryPoolStats memory_pool_stats(const Device& device) {
    (void)device.info();
    return detail::backend(device.kind()).memory_pool_stats(device.index());
}

std::size_t free_all_blocks(const Device& device) {
    (void)device.info();
    return detail::backend(device.kind()).free_all_blocks(device.index());
}

}  // namespace manycore
