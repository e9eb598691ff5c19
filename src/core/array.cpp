// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Arrays: allocation through the device's room, views, host copies.
#include "manycore/array.hpp"

#include <cstdint>
#include <string>

#include "manycore/detail/backend.hpp"
#include "manycore/error.hpp"

namespace manycore {
namespace {

std::vector<std::int64_t> c_strides(const std::vector<std::int64_t>& shape, std::size_t itemsize) {
    std::vector<std::int64_t> strides(shape.size());
    std::int64_t step = static_cast<std::int64_t>(itemsize);
    for (std::size_t i = shape.size(); i-- > 0;) {
        strides[i] = step;
        step *= shape[i] > 0 ? shape[i] : 1;
    }
    return strides;
}

}  // namespace

namespace detail {

std::string shape_text(const std::vector<std::int64_t>& shape) {
    std::string out = "(";
    for (std::size_t i = 0; i < shape.size(); ++i)
        out += (i ? ", " : "") + std::to_string(shape[i]);
    return out + (shape.size() == 1 ? ",)" : ")");
}

std::size_t element_count(const std::vector<std::int64_t>& shape) {
    std::size_t n = 1;
    bool overflow = false;
    for (const auto extent : shape) {
        if (extent < 0) {
            throw InvalidArgument("array shape " + shape_text(shape) + " has a negative extent (" +
                                  std::to_string(extent) + "); extents must be >= 0");
        }
        overflow |= __builtin_mul_overflow(n, static_cast<std::size_t>(extent), &n);
    }
    // A zero extent makes any product empty; otherwise a wrapped count would allocate a
    // wrong, smaller array.
    for (const auto extent : shape)
        if (extent == 0) return 0;
    if (overflow) {
        throw OutOfMemory("array shape " + shape_text(shape) + " has more than 2**64 elements; "
                          "no memory holds that many",
                          SIZE_MAX, 0);
    }
    return n;
}

std::size_t byte_count(const std::vector<std::int64_t>& shape, std::size_t itemsize) {
    std::size_t bytes = 0;
    const std::size_t n = element_count(shape);
    if (__builtin_mul_overflow(n, itemsize, &bytes)) {
        throw OutOfMemory("array shape " + shape_text(shape) + " of " +
                              std::to_string(itemsize) + "-byte elements needs 2**64 bytes or "
                              "more; no memory holds that many",
                          SIZE_MAX, 0);
    }
    return bytes;
}

std::size_t resolve_itemsize(DType dtype, std::size_t itemsize) {
    if (dtype == DType::record) {
        if (itemsize == 0) throw InvalidArgument("a record array needs its itemsize");
        return itemsize;
    }
    return dtype_size(dtype);
}

}  // namespace detail

std::shared_ptr<Buffer> allocate(const Device& device, std::size_t bytes) {
    (void)device.info();  // names the device when it is unavailable
    return detail::backend(device.kind()).allocate(device.index(), bytes);
}

Array Array::empty(std::vector<std::int64_t> shape, DType dtype, const Device& asked,
                   std::size_t itemsize) {
    const Device device = placed(asked);
    itemsize = detail::resolve_itemsize(dtype, itemsize);
    const std::size_t bytes = detail::byte_count(shape, itemsize);
    auto buffer = allocate(device, bytes);
    Array a;
    a.data_ = buffer->data();
    a.strides_ = c_strides(shape, itemsize);
    a.shape_ = std::move(shape);
    a.dtype_ = dtype;
    a.itemsize_ = itemsize;
    a.device_ = device;
    a.owner_ = std::move(buffer);
    return a;
}

Array Array::zeros(std::vector<std::int64_t> shape, DType dtype, const Device& device,
                   std::size_t itemsize) {
    Array a = empty(std::move(shape), dtype, device, itemsize);
    detail::backend(a.device_.kind()).fill_zero(a.data_, a.nbytes());
    return a;
}

Array Array::wrap(void* data, std::vector<std::int64_t> shape, std::vector<std::int64_t> strides,
                  DType dtype, const Device& device, std::shared_ptr<const void> owner,
                  bool writable, std::size_t itemsize) {
    Array a;
    a.itemsize_ = detail::resolve_itemsize(dtype, itemsize);
    (void)detail::element_count(shape);
    if (strides.empty()) strides = c_strides(shape, a.itemsize_);
    if (strides.size() != shape.size()) {
        throw InvalidArgument("Array.wrap: " + std::to_string(strides.size()) + " strides for " +
                              std::to_string(shape.size()) + " dimensions");
    }
    a.data_ = data;
    a.shape_ = std::move(shape);
    a.strides_ = std::move(strides);
    a.dtype_ = dtype;
    a.device_ = device;
    a.owner_ = std::move(owner);
    a.writable_ = writable;
    return a;
}

namespace {

// The bytes [lo, hi) that the elements of (shape, strides) span around the first element.
struct ByteExtent {
    std::int64_t lo = 0, hi = 0;
};
ByteExtent byte_extent(const std::vector<std::int64_t>& shape,
                       const std::vector<std::int64_t>& strides, std::size_t itemsize) {
    ByteExtent e;
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] == 0) return {0, 0};
        const std::int64_t reach = (shape[i] - 1) * strides[i];
        (reach < 0 ? e.lo : e.hi) += reach;
    }
    e.hi += static_cast<std::int64_t>(itemsize);
    return e;
}

}  // namespace

Array Array::view(std::ptrdiff_t byte_offset, std::vector<std::int64_t> shape,
                  std::vector<std::int64_t> strides) const {
    const std::size_t n = detail::element_count(shape);
    if (strides.size() != shape.size()) {
        throw InvalidArgument("Array.view: " + std::to_string(strides.size()) + " strides for " +
                              std::to_string(shape.size()) + " dimensions");
    }
    if (n > 0) {
        // Views may only narrow: a view outside this array's elements could reach memory that
        // the owner does not hold.
        const ByteExtent mine = byte_extent(shape_, strides_, itemsize_);
        const ByteExtent want = byte_extent(shape, strides, itemsize_);
        if (byte_offset + want.lo < mine.lo || byte_offset + want.hi > mine.hi) {
            throw InvalidArgument("Array.view: the view spans bytes [" +
                                  std::to_string(byte_offset + want.lo) + ", " +
                                  std::to_string(byte_offset + want.hi) +
                                  ") of the array, which holds only [" + std::to_string(mine.lo) +
                                  ", " + std::to_string(mine.hi) + "); check offset and strides");
        }
    }
    Array a = *this;
    a.data_ = n > 0 ? static_cast<char*>(data_) + byte_offset : data_;
    a.shape_ = std::move(shape);
    a.strides_ = std::move(strides);
    return a;
}

std::size_t Array::size() const noexcept {
    std::size_t n = 1;
    for (const auto extent : shape_) n *= static_cast<std::size_t>(extent);
    return n;
}

bool Array::is_c_contiguous() const noexcept {
    std::int64_t expected = static_cast<std::int64_t>(itemsize_);
    for (std::size_t i = shape_.size(); i-- > 0;) {
        if (shape_[i] == 0) return true;
        if (shape_[i] != 1 && strides_[i] != expected) return false;
        expected *= shape_[i];
    }
    return true;
}

void Array::copy_to_host(void* dst) const {
    if (!is_c_contiguous()) {
        throw InvalidArgument("Array.get(): the array is not contiguous; copy it first");
    }
    detail::backend(device_.kind()).copy_to_host(dst, data_, nbytes());
}

void Array::copy_from_host(const void* src) {
    if (!is_c_contiguous()) {
        throw InvalidArgument("Array: cannot copy into a non-contiguous array");
    }
    detail::backend(device_.kind()).copy_from_host(data_, src, nbytes());
}

}  // namespace manycore
