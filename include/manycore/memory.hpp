// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Memory beyond plain arrays: pinned host memory, copies between devices, the GPU memory pool.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "manycore/array.hpp"
#include "manycore/device.hpp"
#include "manycore/dtype.hpp"

namespace manycore {

class Stream;

/// Page-locked ("pinned") host memory: a Buffer on the CPU device that GPUs read and write at
/// full bandwidth and asynchronously. Identify one with `is_pinned`.
class PinnedBuffer : public Buffer {
  public:
    ~PinnedBuffer() override;  // forgets the range (is_pinned)

  protected:
    PinnedBuffer(void* data, std::size_t size);  // remembers the range (is_pinned)
};

/// `bytes` of pinned host memory. With no usable GPU, ordinary host memory (is_pinned() is then
/// false), so CPU-only programs run unchanged. Thread-safe.
std::shared_ptr<Buffer> allocate_pinned(std::size_t bytes);
/// An uninitialised C-order array in pinned host memory (Python: manycore.pinned_empty).
Array pinned_empty(std::vector<std::int64_t> shape, DType dtype, std::size_t itemsize = 0);
/// Whether the buffer is pinned host memory, or the array's memory lies in such a buffer (views
/// of pinned arrays included).
bool is_pinned(const Buffer& buffer) noexcept;
bool is_pinned(const Array& array) noexcept;

/// The way a copy went.
enum class CopyPath {
    host,            // host memory to host memory
    host_to_device,  // host memory to a GPU
    device_to_host,  // a GPU to host memory
    device,          // within one GPU
    peer,            // GPU to GPU directly (peer access: NVLink or PCIe)
    staged,          // GPU to GPU through pinned host memory (no peer access, or MANYCORE_PEER_COPY=0)
};
/// "host", "host_to_device", "device_to_host", "device", "peer", "staged".
const char* to_string(CopyPath path) noexcept;

/// Copies the bytes of contiguous `src` into contiguous `dst` (same nbytes), between any two
/// devices, and says which way it went. Without a stream the copy is finished on return. With
/// one, it is queued on that stream (which must belong to a GPU involved) and returns at once;
/// host memory should then be pinned, and both arrays must stay alive until the stream has
/// passed the copy. A copy between two GPUs goes peer to peer where the driver allows it
/// (peer access is enabled on first use) and through pinned host memory otherwise, or always
/// with MANYCORE_PEER_COPY=0; a staged copy has finished on return even with a stream.
/// Throws InvalidArgument for mismatched or non-contiguous arrays. Thread-safe.
CopyPath copy(const Array& dst, const Array& src, const Stream* stream = nullptr);

/// The path a copy from GPU `src` to GPU `dst` takes: device (the same GPU), peer or staged.
/// Enables peer access between the two on first use where it is allowed. Thread-safe.
CopyPath gpu_copy_path(const Device& dst, const Device& src);

/// What a device's memory pool holds.
struct MemoryPoolStats {
    std::size_t used_bytes = 0;     // in blocks arrays hold (rounded up to the pool's size classes)
    std::size_t held_bytes = 0;     // taken from the device: used plus cached
    std::size_t cached_blocks = 0;  // freed blocks kept for reuse
};

/// The pool of `device`; on the CPU, the large blocks (4 MiB and more) in use and kept for
/// reuse (smaller ones are allocated directly). Thread-safe.
MemoryPoolStats memory_pool_stats(const Device& device);
/// Returns the cached blocks of `device`'s pool to the driver; the bytes freed (Python:
/// manycore.cuda.memory_pool().free_all_blocks()). Thread-safe.
std::size_t free_all_blocks(const Device& device);

}  // namespace manycore
