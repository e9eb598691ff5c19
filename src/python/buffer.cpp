// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Buffer-protocol views of NumPy arrays and scalars.
#include "python/buffer.hpp"

#include <string>
#include <string_view>

#include "manycore/error.hpp"

namespace manycore::python {

bool BufferView::acquire(nb::handle object, bool writable_wanted) {
    int flags = PyBUF_RECORDS_RO;
    if (writable_wanted) flags |= PyBUF_WRITABLE;
    if (PyObject_GetBuffer(object.ptr(), &view_, flags) != 0) {
        PyErr_Clear();
        if (!writable_wanted) return false;
        // A read-only buffer: take it read-only; the caller decides whether that is allowed.
        if (PyObject_GetBuffer(object.ptr(), &view_, PyBUF_RECORDS_RO) != 0) {
            PyErr_Clear();
            return false;
        }
    }
    held_ = true;
    return true;
}

BufferView::BufferView(BufferView&& other) noexcept : view_(other.view_), held_(other.held_) {
    other.held_ = false;
}

BufferView::~BufferView() {
    if (held_) PyBuffer_Release(&view_);
}

DType BufferView::dtype() const {
    std::string_view format = view_.format ? view_.format : "B";
    if (!format.empty() && (format[0] == '>' || format[0] == '!')) {
        throw InvalidArgument("big-endian arrays are not supported; convert with "
                              "a.astype(a.dtype.newbyteorder('='))");
    }
    if (!format.empty() && (format[0] == '<' || format[0] == '=' || format[0] == '@')) {
        format.remove_prefix(1);
    }
    if (format == "O") {
        // An object array holds PyObject pointers: passed on, a kernel would read (or write)
        // the interpreter's own pointers as numbers.
        throw ArgumentTypeError("an array of Python objects (dtype=object) holds references, "
                                "not numbers: convert it to a numeric dtype first, e.g. "
                                "numpy.asarray(a, dtype=numpy.float64)");
    }
    if (format == "?") return DType::bool_;
    if (format == "e") return DType::float16;
    if (format == "f") return DType::float32;
    if (format == "d") return DType::float64;
    if (format == "Zf") return DType::complex64;
    if (format == "Zd") return DType::complex128;
    if (format == "g" || format == "Zg") {
        throw InvalidArgument("long double arrays are not supported; convert to float64");
    }
    if (format.size() == 1 && std::string_view("bhilqnBHILQN").find(format[0]) != std::string_view::npos) {
        const bool is_signed = std::string_view("bhilqn").find(format[0]) != std::string_view::npos;
        switch (view_.itemsize) {
            case 1: return is_signed ? DType::int8 : DType::uint8;
            case 2: return is_signed ? DType::int16 : DType::uint16;
            case 4: return is_signed ? DType::int32 : DType::uint32;
            default: return is_signed ? DType::int64 : DType::uint64;
        }
    }
    return DType::record;  // structured ('T{...}') and raw void ('16x') elements
}

bool BufferView::c_contiguous() const noexcept {
    return PyBuffer_IsContiguous(&view_, 'C') != 0;
}

std::vector<std::int64_t> BufferView::shape() const {
    std::vector<std::int64_t> out(static_cast<std::size_t>(view_.ndim));
    for (int i = 0; i < view_.ndim; ++i) out[static_cast<std::size_t>(i)] = view_.shape[i];
    return out;
}

std::vector<std::int64_t> BufferView::strides() const {
    std::vector<std::int64_t> out(static_cast<std::size_t>(view_.ndim));
    for (int i = 0; i < view_.ndim; ++i) out[static_cast<std::size_t>(i)] = view_.strides[i];
    return out;
}

}  // namespace manycore::python
