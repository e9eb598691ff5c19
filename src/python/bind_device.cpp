// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Python view of devices.
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "manycore/error.hpp"
#include "python/bindings.hpp"

namespace manycore::python {

Device to_device_arg(nb::handle device) {
    if (device.is_none()) return default_device();
    if (nb::isinstance<Device>(device)) return nb::cast<Device>(device);
    if (nb::isinstance<nb::str>(device)) return Device::parse(nb::cast<std::string>(device));
    throw ArgumentTypeError("device must be None, a manycore.Device or a name such as 'cpu' or "
                            "'cuda:0'; got " + std::string(nb::type_name(device.type()).c_str()));
}

void bind_device(nb::module_& m) {
    nb::class_<Device>(m, "Device", "A device: 'cpu', 'cuda' or 'cuda:N'.")
        .def("__init__", [](Device* self, const std::string& spec) { new (self) Device(Device::parse(spec)); },
             nb::arg("name"))
        .def_prop_ro("kind", [](const Device& d) { return d.kind() == DeviceKind::cpu ? "cpu" : "cuda"; })
        .def_prop_ro("index", &Device::index)
        .def_prop_ro("name", [](const Device& d) { return d.info().name; })
        .def_prop_ro("compute_units", [](const Device& d) { return d.info().compute_units; },
                     "Worker threads on the CPU, multiprocessors on a GPU.")
        .def_prop_ro("total_memory", [](const Device& d) { return d.info().total_memory; })
        .def_prop_ro("compute_capability", [](const Device& d) {
            return nb::make_tuple(d.info().compute_capability_major, d.info().compute_capability_minor);
        })
        .def_prop_ro("max_threads_per_block", [](const Device& d) { return d.info().max_threads_per_block; })
        .def_prop_ro("max_shared_per_block", [](const Device& d) { return d.info().max_shared_per_block; })
        .def_prop_ro("warp_size", [](const Device& d) { return d.info().warp_size; })
        .def("__str__", &Device::str)
        .def("__repr__", [](const Device& d) { return "Device('" + d.str() + "')"; })
        .def("__eq__", [](const Device& a, nb::handle b) {
            return nb::isinstance<Device>(b) && a == nb::cast<Device>(b);
        })
        // Equal devices have the same kind and index; devices are dictionary keys on every
        // array operation's path, so no string is built for it.
        .def("__hash__", [](const Device& d) {
            return static_cast<std::size_t>(d.kind()) * 1000003u + static_cast<std::size_t>(d.index());
        })
        .def("__reduce__", [](const Device& d) {
            return nb::make_tuple(nb::type<Device>(), nb::make_tuple(d.str()));
        });
    m.def("devices", &devices, "Every device present: the CPU first, then each GPU.");
    m.def("node_local_rank", &node_local_rank,
          "This process's rank among the MPI ranks on its node (-1: not under MPI).");
    m.def("set_node_local_rank", &set_node_local_rank, nb::arg("rank"));
    m.def("default_device", &default_device,
          "MANYCORE_DEVICE when set, else the first GPU, else the CPU.");
}

}  // namespace manycore::python
