// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Device memory (Buffer) and n-dimensional views of it (Array).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "manycore/device.hpp"
#include "manycore/dtype.hpp"

namespace manycore {

/// A block of memory owned by a device. Thread-safe to share; freed when the last owner goes.
class Buffer {
  public:
    virtual ~Buffer() = default;
    void* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }
    const Device& device() const noexcept { return device_; }

  protected:
    Buffer(void* data, std::size_t size, Device device)
        : data_(data), size_(size), device_(device) {}

  private:
    void* data_;
    std::size_t size_;
    Device device_;
};

/// Allocates `bytes` on `device` (64-byte aligned on the CPU).
std::shared_ptr<Buffer> allocate(const Device& device, std::size_t bytes);

/// An n-dimensional array: a typed, strided view of device memory that keeps its memory alive.
/// Views share memory. Reading the metadata is thread-safe; writing elements is the user's
/// business, as with NumPy.
class Array {
  public:
    Array() = default;
    /// Uninitialised contiguous (C order) array.
    static Array empty(std::vector<std::int64_t> shape, DType dtype, const Device& device,
                       std::size_t itemsize = 0);
    /// Zero-filled contiguous array.
    static Array zeros(std::vector<std::int64_t> shape, DType dtype, const Device& device,
                       std::size_t itemsize = 0);
    /// A view of memory someone else owns; `owner` is kept alive as long as the view.
    /// `strides` are in bytes. `itemsize` is needed only for DType::record.
    static Array wrap(void* data, std::vector<std::int64_t> shape,
                      std::vector<std::int64_t> strides, DType dtype, const Device& device,
                      std::shared_ptr<const void> owner, bool writable = true,
                      std::size_t itemsize = 0);

    void* data() const noexcept { return data_; }
    const std::vector<std::int64_t>& shape() const noexcept { return shape_; }
    const std::vector<std::int64_t>& strides() const noexcept { return strides_; }
    DType dtype() const noexcept { return dtype_; }
    std::size_t itemsize() const noexcept { return itemsize_; }
    const Device& device() const noexcept { return device_; }
    bool writable() const noexcept { return writable_; }
    std::size_t ndim() const noexcept { return shape_.size(); }
    /// Number of elements.
    std::size_t size() const noexcept;
    std::size_t nbytes() const noexcept { return size() * itemsize_; }
    bool is_c_contiguous() const noexcept;
    /// The owner that keeps the memory alive (a Buffer or a foreign object).
    const std::shared_ptr<const void>& owner() const noexcept { return owner_; }

    /// A view of the same memory, sharing the owner: its first element lies `byte_offset` bytes
    /// from data(), with `shape` and byte `strides`. Every element of the view must lie within
    /// this array's elements' byte range (InvalidArgument otherwise). Thread-safe.
    Array view(std::ptrdiff_t byte_offset, std::vector<std::int64_t> shape,
               std::vector<std::int64_t> strides) const;

    /// Copies this contiguous array's bytes to host memory `dst` of nbytes().
    void copy_to_host(void* dst) const;
    /// Copies nbytes() bytes from host memory `src` into this contiguous array.
    void copy_from_host(const void* src);

  private:
    void* data_ = nullptr;
    std::vector<std::int64_t> shape_;
    std::vector<std::int64_t> strides_;
    DType dtype_ = DType::float64;
    std::size_t itemsize_ = 8;
    Device device_;
    bool writable_ = true;
    std::shared_ptr<const void> owner_;
};

namespace detail {
/// Elements of an array of `shape`; InvalidArgument for a negative extent, OutOfMemory when
/// the count does not fit in 64 bits.
std::size_t element_count(const std::vector<std::int64_t>& shape);
/// Bytes of a contiguous array of `shape` and `itemsize`; OutOfMemory (naming the shape and
/// the size) when they do not fit in 64 bits.
std::size_t byte_count(const std::vector<std::int64_t>& shape, std::size_t itemsize);
/// "(3, 4)", "(5,)": a shape as NumPy writes it.
std::string shape_text(const std::vector<std::int64_t>& shape);
/// The element size of `dtype` (`itemsize` for records, which must give it).
std::size_t resolve_itemsize(DType dtype, std::size_t itemsize);
}  // namespace detail

}  // namespace manycore
