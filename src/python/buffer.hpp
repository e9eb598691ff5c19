// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Reading NumPy arrays and scalars through the buffer protocol, without NumPy's C API.
#pragma once

#include <cstddef>
#include <vector>

#include "manycore/array.hpp"
#include "python/bindings.hpp"

namespace manycore::python {

/// A Py_buffer that is released when it goes out of scope.
class BufferView {
  public:
    /// Returns false (with no Python error set) when `object` has no buffer interface.
    bool acquire(nb::handle object, bool writable_wanted);
    BufferView() = default;
    BufferView(const BufferView&) = delete;
    BufferView& operator=(const BufferView&) = delete;
    BufferView(BufferView&& other) noexcept;
    ~BufferView();

    const Py_buffer& view() const noexcept { return view_; }
    bool readonly() const noexcept { return view_.readonly != 0; }
    /// The element type of the buffer; throws InvalidArgument for formats manycore cannot use
    /// (big-endian, long double).
    DType dtype() const;
    std::size_t itemsize() const noexcept { return static_cast<std::size_t>(view_.itemsize); }
    bool c_contiguous() const noexcept;
    std::vector<std::int64_t> shape() const;
    std::vector<std::int64_t> strides() const;

  private:
    Py_buffer view_{};
    bool held_ = false;
};

}  // namespace manycore::python
