// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Python view of manycore arrays: NumPy interop (zero-copy on the CPU), creation, copies.
#include <nanobind/ndarray.h>
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
    // Deliberately never released: a static nb::object would be decref'd by the C++ exit
    // handlers after the interpreter is gone (a crash at exit in any program that called get()).
    static nb::handle np = nb::module_::import_("numpy").release();  // NOLINT
    return nb::borrow(np);
}

nb::object numpy_dtype(const Array& a) {
    if (a.dtype() == DType::record) {
        return numpy().attr("dtype")(nb::make_tuple(nb::str("V"), a.itemsize()));
    }
    // One numpy.dtype per element type, made on first use: `a.dtype` is on the path of every
    // array operation, and building it from its name costs more than the rest of the lookup.
    // Never released, like numpy() itself. Only touched with the GIL held.
    static nb::handle made[MC_DT_RECORD] = {};  // NOLINT
    nb::handle& dtype = made[static_cast<std::size_t>(a.dtype()) % MC_DT_RECORD];
    if (!dtype.is_valid()) {
        dtype = numpy().attr("dtype")(nb::str(std::string(dtype_name(a.dtype())).c_str())).release();
    }
    return nb::borrow(dtype);
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

using ArrayFactory = Array (*)(std::vector<std::int64_t>, DType, const Device&, std::size_t);

// Array::empty or Array::zeros from Python's arguments. On a GPU, allocating may call
// cuMemAlloc and zeros waits for cuMemsetD8: other Python threads run meanwhile. A CPU
// allocation is too short to be worth giving up the GIL.
Array new_array(ArrayFactory make, nb::handle shape, const std::string& dtype, std::size_t itemsize,
                nb::handle device) {
    auto dims = to_shape(shape);
    const DType dt = parse_dtype(dtype);
    const Device d = to_device_arg(device);
    if (d.kind() == DeviceKind::cpu) return make(std::move(dims), dt, d, itemsize);
    nb::gil_scoped_release release;
    return make(std::move(dims), dt, d, itemsize);
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


Array wrap_device_pointer(std::uintptr_t ptr, nb::handle shape, nb::handle strides,
                          const std::string& dtype, std::size_t itemsize, nb::handle device,
                          nb::handle owner, bool readonly) {
    std::vector<std::int64_t> s = to_shape(shape);
    std::vector<std::int64_t> st;
    if (!strides.is_none()) st = to_shape(strides);
    return Array::wrap(reinterpret_cast<void*>(ptr), std::move(s), std::move(st), parse_dtype(dtype),
                       to_device_arg(device), python_owner(owner), !readonly, itemsize);
}

// DLPack's device codes: kDLCPU = 1, kDLCUDA = 2.
nb::tuple dlpack_device(const Array& a) {
    return nb::make_tuple(a.device().kind() == DeviceKind::cpu ? 1 : 2, a.device().index());
}

nb::dlpack::dtype dlpack_dtype(const Array& a) {
    using nb::dlpack::dtype_code;
    nb::dlpack::dtype t{};
    t.lanes = 1;
    t.bits = static_cast<std::uint8_t>(a.itemsize() * 8);
    switch (a.dtype()) {
        case DType::bool_: t.code = static_cast<std::uint8_t>(dtype_code::Bool); break;
        case DType::int8: case DType::int16: case DType::int32: case DType::int64:
            t.code = static_cast<std::uint8_t>(dtype_code::Int); break;
        case DType::uint8: case DType::uint16: case DType::uint32: case DType::uint64:
            t.code = static_cast<std::uint8_t>(dtype_code::UInt); break;
        case DType::float16: case DType::float32: case DType::float64:
            t.code = static_cast<std::uint8_t>(dtype_code::Float); break;
        case DType::complex64: case DType::complex128:
            t.code = static_cast<std::uint8_t>(dtype_code::Complex); break;
        case DType::record:
            throw nb::buffer_error("__dlpack__: structured (record) arrays have no DLPack type; "
                                   "export each field as its own array");
    }
    return t;
}

// The array as DLPack sees it; `self` (the Python Array) owns the memory for the consumer.
nb::object dlpack(nb::handle self, nb::kwargs kwargs) {
    const Array& a = nb::cast<const Array&>(self);
    std::vector<std::size_t> shape(a.shape().begin(), a.shape().end());
    std::vector<std::int64_t> strides(a.ndim());
    const auto item = static_cast<std::int64_t>(a.itemsize());
    for (std::size_t i = 0; i < a.ndim(); ++i) {
        if (a.strides()[i] % item != 0) {
            throw nb::buffer_error("__dlpack__: a stride is not a multiple of the item size; "
                                   "export a.copy() instead");
        }
        strides[i] = a.strides()[i] / item;
    }
    const nb::dlpack::dtype t = dlpack_dtype(a);
    const int device_type = a.device().kind() == DeviceKind::cpu ? 1 : 2;
    nb::ndarray<> tensor(a.data(), a.ndim(), shape.data(), self, strides.data(), t, device_type,
                         a.device().index());
    nb::object exported = nb::cast(tensor, nb::rv_policy::reference);
    // An ndarray without a framework converts to a DLPack capsule itself; newer nanobind
    // versions give an object with __dlpack__ (which takes max_version, copy, dl_device).
    if (PyCapsule_CheckExact(exported.ptr())) {
        if (kwargs.contains("copy") && nb::cast<nb::object>(kwargs["copy"]).is(nb::handle(Py_True))) {
            throw nb::buffer_error("__dlpack__: copy=True is not supported; export a.copy()");
        }
        return exported;
    }
    return exported.attr("__dlpack__")(**kwargs);
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

// A Python object kept alive by C++ owners (views of foreign memory); the GIL is taken to let go.
std::shared_ptr<const void> python_owner(nb::handle owner) {
    if (owner.is_none()) return {};
    owner.inc_ref();
    return std::shared_ptr<const void>(owner.ptr(), [](const void* p) {
        if (!Py_IsInitialized()) return;  // the interpreter is gone; nothing left to release
        nb::gil_scoped_acquire gil;
        Py_DECREF(static_cast<PyObject*>(const_cast<void*>(p)));
    });
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

void bind_array(nb::module_& m) {
    nb::class_<Array>(m, "Array",
                      "An n-dimensional array on a device. On the CPU it shares memory with "
                      "numpy.asarray(a); everywhere, a.get() returns a NumPy copy.")
        .def_prop_ro("shape", [](const Array& a) { return to_tuple(a.shape()); },
                     nb::for_getter(nb::sig("def shape(self, /) -> tuple[int, ...]")))
        .def_prop_ro("strides", [](const Array& a) { return to_tuple(a.strides()); },
                     nb::for_getter(nb::sig("def strides(self, /) -> tuple[int, ...]")))
        .def_prop_ro("dtype", &numpy_dtype,
                     nb::for_getter(nb::sig("def dtype(self, /) -> numpy.dtype[typing.Any]")))
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
        .def("__repr__", &repr)
        .def_prop_ro("is_contiguous", &Array::is_c_contiguous, "True when the elements lie in C order without gaps.")
        .def_prop_ro("writable", &Array::writable,
                     "False for read-only memory (e.g. a wrapped read-only NumPy array).")
        .def("_view", [](const Array& a, std::int64_t byte_offset, std::vector<std::int64_t> shape,
                         std::vector<std::int64_t> strides) {
            return a.view(static_cast<std::ptrdiff_t>(byte_offset), std::move(shape), std::move(strides));
        }, nb::arg("byte_offset"), nb::arg("shape"), nb::arg("strides"),
           "A view sharing this array's memory (byte offset and byte strides); bounds-checked.")
        .def("__dlpack__", &dlpack, "A DLPack capsule of this array (zero-copy).")
        .def("__dlpack_device__", &dlpack_device, "(device type, device index) as DLPack codes.");

    m.def("empty", [](nb::handle shape, const std::string& dtype, std::size_t itemsize, nb::handle device) {
        return new_array(&Array::empty, shape, dtype, itemsize, device);
    }, nb::arg("shape"), nb::arg("dtype"), nb::arg("itemsize"), nb::arg("device").none());
    m.def("zeros", [](nb::handle shape, const std::string& dtype, std::size_t itemsize, nb::handle device) {
        return new_array(&Array::zeros, shape, dtype, itemsize, device);
    }, nb::arg("shape"), nb::arg("dtype"), nb::arg("itemsize"), nb::arg("device").none());
    m.def("to_device", &to_device, nb::arg("array"), nb::arg("device").none());
    m.def("wrap_device_pointer", &wrap_device_pointer, nb::arg("ptr"), nb::arg("shape"),
          nb::arg("strides").none(), nb::arg("dtype"), nb::arg("itemsize"), nb::arg("device").none(),
          nb::arg("owner").none(), nb::arg("readonly"),
          "An Array over memory at address `ptr` on `device` that `owner` keeps alive (byte "
          "strides; None for C order). Nothing is copied.");
}

}  // namespace manycore::python
