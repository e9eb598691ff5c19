// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Python view of streams, events, pinned host memory, copies and the GPU memory pool.
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cstdint>
#include <string>

#include "manycore/error.hpp"
#include "manycore/memory.hpp"
#include "manycore/stream.hpp"
#include "python/bindings.hpp"
#include "python/buffer.hpp"

namespace manycore::python {
namespace {

// A host array someone passed (NumPy, anything with the buffer protocol) as a manycore Array
// view of the same memory; `owner` keeps the exporter alive while C++ uses it.
Array host_view(nb::handle h, bool writable, const char* role) {
    if (nb::isinstance<Array>(h)) return nb::cast<const Array&>(h);
    BufferView view;
    if (!view.acquire(h, writable)) {
        throw ArgumentTypeError(std::string("copy(): ") + role + " must be a manycore.Array or a " +
                                "NumPy array; got " + nb::type_name(h.type()).c_str());
    }
    if (!view.c_contiguous()) {
        throw InvalidArgument(std::string("copy(): ") + role + " is not C-contiguous; pass "
                              "numpy.ascontiguousarray(...)");
    }
    // The view must outlive the copy: for an asynchronous copy, the caller keeps the host
    // memory alive until the stream has finished, exactly as with cudaMemcpyAsync.
    std::vector<std::int64_t> strides;  // contiguous
    // A read-only exporter (writeable=False, an array over bytes) gives a read-only view,
    // which copy() refuses as a destination.
    return Array::wrap(view.view().buf, view.shape(), std::move(strides), view.dtype(),
                       Device::cpu(), python_owner(h), writable && !view.readonly(),
                       view.itemsize());
}

const Stream* optional_stream(nb::handle stream) {
    if (stream.is_none()) return nullptr;
    if (!nb::isinstance<Stream>(stream)) {
        throw ArgumentTypeError(std::string("stream must be a manycore.Stream or None; got ") +
                                nb::type_name(stream.type()).c_str() +
                                " (wrap a foreign stream with manycore.Stream.wrap(handle))");
    }
    return &nb::cast<const Stream&>(stream);
}

}  // namespace

const Stream* launch_stream(nb::handle stream) { return optional_stream(stream); }

void bind_stream(nb::module_& m) {
    nb::class_<Stream>(m, "Stream",
                       "An ordered queue of work on a device. Stream(device=None) makes a new "
                       "one; Stream.default(device) is the device's default stream.")
        .def("__init__", [](Stream* self, nb::handle device) {
            new (self) Stream(to_device_arg(device));
        }, nb::arg("device").none() = nb::none())
        .def_static("default", [](nb::handle device) { return Stream::default_stream(to_device_arg(device)); },
                    nb::arg("device").none() = nb::none(), "The default stream of a device.")
        .def_static("wrap", [](std::uintptr_t handle, nb::handle device) {
            return Stream::wrap(to_device_arg(device), reinterpret_cast<void*>(handle));
        }, nb::arg("handle"), nb::arg("device").none() = nb::none(),
           "A stream created elsewhere (CuPy's stream.ptr, PyTorch's stream.cuda_stream); the "
           "caller keeps it alive.")
        .def("synchronize", [](const Stream& s) {
            nb::gil_scoped_release release;
            s.synchronize();
        }, "Waits until everything queued on the stream has finished.")
        .def("query", &Stream::query, "True when everything queued has finished.")
        .def("wait_event", &Stream::wait, nb::arg("event"),
             "Makes later work on this stream wait for the event (the host does not wait).")
        .def_prop_ro("device", &Stream::device)
        .def_prop_ro("handle", [](const Stream& s) { return reinterpret_cast<std::uintptr_t>(s.handle()); },
                     "The CUstream as an int (0 for the default stream and on the CPU).")
        .def("__eq__", [](const Stream& a, nb::handle b) {
            return nb::isinstance<Stream>(b) && a == nb::cast<const Stream&>(b);
        })
        .def("__hash__", [](const Stream& s) { return std::hash<void*>()(s.handle()); })
        .def("__repr__", [](const Stream& s) {
            return "manycore.Stream(device='" + s.device().str() + "', handle=" +
                   std::to_string(reinterpret_cast<std::uintptr_t>(s.handle())) + ")";
        });

    nb::class_<Event>(m, "Event", "A point in a stream's work, to wait for or to time.")
        .def("__init__", [](Event* self, nb::handle device, bool timing) {
            new (self) Event(to_device_arg(device), timing);
        }, nb::arg("device").none() = nb::none(), nb::arg("timing") = true)
        .def("record", [](nb::handle self, nb::handle stream) {
            Event& e = nb::cast<Event&>(self);
            if (const Stream* s = optional_stream(stream)) e.record(*s);
            else e.record();
            return nb::borrow(self);  // the event itself, as PyCUDA's: mc.Event().record()
        }, nb::arg("stream").none() = nb::none(),
           "Marks the point after everything queued so far on the stream (default stream if None); "
           "returns the event.")
        .def("synchronize", [](const Event& e) {
            nb::gil_scoped_release release;
            e.synchronize();
        }, "Waits until the recorded point has been reached.")
        .def("query", &Event::query, "True when the recorded point has been reached.")
        .def("elapsed_time", [](const Event& start, const Event& end) {
            nb::gil_scoped_release release;
            return start.elapsed_time(end);
        }, nb::arg("end"), "Milliseconds from this event to `end`.")
        .def_prop_ro("device", &Event::device);

    m.def("synchronize", [](nb::handle device) {
        const Device d = to_device_arg(device);
        nb::gil_scoped_release release;
        synchronize(d);
    }, nb::arg("device").none() = nb::none(),
       "Waits until everything queued on the device has finished.");

    m.def("pinned_empty", [](std::vector<std::int64_t> shape, const std::string& dtype) {
        return pinned_empty(std::move(shape), parse_dtype(dtype));
    }, nb::arg("shape"), nb::arg("dtype"),
       "Page-locked host memory (a CPU Array): copies to and from a GPU run at full bandwidth "
       "and can be asynchronous.");
    m.def("is_pinned", [](const Array& a) { return is_pinned(a); }, nb::arg("array"));

    m.def("copy", [](nb::handle dst, nb::handle src, nb::handle stream) {
        const Array d = host_view(dst, true, "dst");
        const Array s = host_view(src, false, "src");
        const Stream* st = optional_stream(stream);
        CopyPath path;
        {
            nb::gil_scoped_release release;
            path = copy(d, s, st);
        }
        return std::string(to_string(path));
    }, nb::arg("dst"), nb::arg("src"), nb::arg("stream").none() = nb::none(),
       "Copies src into dst (same byte count, both contiguous), between any two devices, and "
       "returns the way it went: 'host', 'host_to_device', 'device_to_host', 'device' (within a "
       "GPU), 'peer' (GPU to GPU directly) or 'staged' (GPU to GPU through host memory). With a "
       "stream the copy is queued and returns at once when the host side is pinned (a staged "
       "copy has finished on return).");
    m.def("gpu_copy_path", [](nb::handle dst, nb::handle src) {
        const Device d = to_device_arg(dst), s = to_device_arg(src);
        nb::gil_scoped_release release;
        return std::string(to_string(gpu_copy_path(d, s)));
    }, nb::arg("dst"), nb::arg("src"),
       "The way copies from GPU src to GPU dst go: 'device', 'peer' or 'staged'.");

    m.def("memory_pool_stats", [](nb::handle device) {
        const MemoryPoolStats s = memory_pool_stats(to_device_arg(device));
        return nb::make_tuple(s.used_bytes, s.held_bytes, s.cached_blocks);
    }, nb::arg("device").none());
    m.def("free_all_blocks", [](nb::handle device) { return free_all_blocks(to_device_arg(device)); },
          nb::arg("device").none());
}

}  // namespace manycore::python
