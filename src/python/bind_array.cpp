// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Python view of manycore arrays: NumPy interop (zero-copy on the CPU), creation, copies.
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cstring>
#include <string>

#include "manycore/array.hpp"
#include "manycore/error.hpp"
#include "python/bindings.hpp"
#include "python/buffer.hpp"

namespace manycore::python {
namespace {

nb::object numpy() {
    static nb::object np = nb::module_::import_("numpy");  // NOLINT: lives as long as the module
    return np;
}

nb::object numpy_dtype(const Array& a) {
    if (a.dtype() == DType::record) {
        return numpy().attr("dtype")(nb::make_tuple(nb::str("V"), a.itemsize()));
    }
    return numpy().attr("dtype")(nb::str(std::string(dtype_name(a.dtype())).c_str()));
}

std::string typestr(const Array& a) {
    switch (a.dtype()) {
        case DType::bool_: return "|b1";
        case DType::int8: return "|i1";
        case DType::uint8: return "|u1";
        case DType::int16: return "<i2";
        case DType::int32: return "<i4";
        case DType::int64: return "<i8";
        case DType::uint16: return "<u2";
        case DType::uint32: return "<u4";
        case DType::uint64: return "<u8";
        case DType::float16: return "<f2";
        case DType::float32: return "<f4";
        case DType::float64: return "<f8";
        case DType::complex64: return "<c8";
        case DType::complex128: return "<c16";
        case DType::record: return "|V" + std::to_string(a.itemsize());
    }
    return "|V" + std::to_string(a.itemsize());
}

nb::tuple to_tuple(const std::vector<std::int64_t>& v) {
    nb::list l;
    for (auto x : v) l.append(x);
    return nb::tuple(l);
}

std::vector<std::int64_t> to_shape(nb::handle shape) {
    if (nb::isinstance<nb::int_>(shape)) return {nb::cast<std::int64_t>(shape)};
    return nb::cast<std::vector<std::int64_t>>(shape);
}

DType parse_dtype(const std::string& name) {
    if (name == "void") return DType::record;
    auto t = dtype_from_name(name);
    if (!t) {
        throw ArgumentTypeError("dtype '" + name + "' is not supported by manycore arrays; use "
                                "bool, int8-int64, uint8-uint64, float16/32/64, complex64/128 or a "
                                "structured dtype");
    }
    return *t;
}

// A new NumPy array holding a copy of `a`.
nb::object get(const Array& a) {
    nb::object out = numpy().attr("empty")(to_tuple(a.shape()), numpy_dtype(a));
    BufferView view;
    view.acquire(out, true);
    {
        nb::gil_scoped_release release;
        a.copy_to_host(view.view().buf);
    }
    return out;
}

Array to_device(nb::handle array, nb::handle device) {
    const Device target = to_device_arg(device);
    BufferView view;
    if (!view.acquire(array, false)) {
        throw ArgumentTypeError("to_device() takes a NumPy array (or any object with the buffer "
                                "protocol); got " + std::string(nb::type_name(array.type()).c_str()));
    }
    if (!view.c_contiguous()) {
        throw InvalidArgument("to_device(): the array is not C-contiguous; pass "
                              "numpy.ascontiguousarray(a)");
    }
    Array out = Array::empty(view.shape(), view.dtype(), target, view.itemsize());
    {
        nb::gil_scoped_release release;
        out.copy_from_host(view.view().buf);
    }
    return out;
}

std::string repr(const Array& a) {
    std::string shape = "(";
    for (std::size_t i = 0; i < a.ndim(); ++i) {
        shape += (i ? ", " : "") + std::to_string(a.shape()[i]);
    }
    shape += a.ndim() == 1 ? ",)" : ")";
    return "manycore.Array(shape=" + shape + ", dtype=" + std::string(dtype_name(a.dtype())) +
           ", device='" + a.device().str() + "')";
}

}  // namespace

void bind_array(nb::module_& m) {
    nb::class_<Array>(m, "Array",
                      "An n-dimensional array on a device. On the CPU it shares memory with "
                      "numpy.asarray(a); everywhere, a.get() returns a NumPy copy.")
        .def_prop_ro("shape", [](const Array& a) { return to_tuple(a.shape()); })
        .def_prop_ro("strides", [](const Array& a) { return to_tuple(a.strides()); })
        .def_prop_ro("dtype", &numpy_dtype)
        .def_prop_ro("device", &Array::device)
        .def_prop_ro("nbytes", &Array::nbytes)
        .def_prop_ro("size", &Array::size)
        .def_prop_ro("ndim", &Array::ndim)
        .def_prop_ro("itemsize", &Array::itemsize)
        .def_prop_ro("ptr", [](const Array& a) { return reinterpret_cast<std::uintptr_t>(a.data()); },
                     "The address of the first element.")
        .def("get", &get, "A new numpy.ndarray with a copy of the data.")
        .def("__len__", [](const Array& a) {
            if (a.ndim() == 0) throw nb::type_error("len() of a 0-d array");
            return a.shape()[0];
        })
        .def_prop_ro("__array_interface__", [](const Array& a) -> nb::dict {
            if (a.device().kind() != DeviceKind::cpu) {
                throw nb::attribute_error("__array_interface__ exists only for CPU arrays; use "
                                          "a.get() to copy a GPU array to the host");
            }
            nb::dict d;
            d["shape"] = to_tuple(a.shape());
            d["typestr"] = typestr(a);
            d["data"] = nb::make_tuple(reinterpret_cast<std::uintptr_t>(a.data()), !a.writable());
            d["strides"] = to_tuple(a.strides());
            d["version"] = 3;
            return d;
        })
        .def("__array__", [](const Array& a, nb::handle dtype, nb::handle copy) {
            nb::object out = get(a);
            if (!dtype.is_none()) out = out.attr("astype")(dtype);
            (void)copy;
            return out;
        }, nb::arg("dtype") = nb::none(), nb::arg("copy") = nb::none())
        .def("__repr__", &repr);

    m.def("empty", [](nb::handle shape, const std::string& dtype, std::size_t itemsize, nb::handle device) {
        return Array::empty(to_shape(shape), parse_dtype(dtype), to_device_arg(device), itemsize);
    }, nb::arg("shape"), nb::arg("dtype"), nb::arg("itemsize"), nb::arg("device").none());
    m.def("zeros", [](nb::handle shape, const std::string& dtype, std::size_t itemsize, nb::handle device) {
        return Array::zeros(to_shape(shape), parse_dtype(dtype), to_device_arg(device), itemsize);
    }, nb::arg("shape"), nb::arg("dtype"), nb::arg("itemsize"), nb::arg("device").none());
    m.def("to_device", &to_device, nb::arg("array"), nb::arg("device").none());
}

}  // namespace manycore::python
