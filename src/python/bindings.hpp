// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Shared declarations of the nanobind layer: each bind_* file registers one concept.
#pragma once

#include <nanobind/nanobind.h>

#include <memory>
#include <string>

#include "manycore/device.hpp"
#include "manycore/dtype.hpp"
#include "manycore/stream.hpp"

namespace manycore::python {

namespace nb = nanobind;

void bind_errors(nb::module_& m);
void bind_device(nb::module_& m);
void bind_array(nb::module_& m);
void bind_module(nb::module_& m);
void bind_info(nb::module_& m);
void bind_stream(nb::module_& m);
void bind_cuda(nb::module_& m);  // empty when built without the CUDA backend
void bind_profile(nb::module_& m);
void bind_gpu_facts(nb::module_& m);
#ifdef MANYCORE_PYTHON_MPI
void bind_mpi(nb::module_& m);  // only when built with MPI and mpi4py's headers
#endif

/// A device from None (the default device), a Device, or a name such as "cuda:1".
Device to_device_arg(nb::handle device);
/// A dtype name as NumPy spells it ("float32", "void" for records); ArgumentTypeError otherwise.
DType parse_dtype(const std::string& name);
/// Keeps a Python object alive for as long as a C++ owner (an Array's) holds it; the GIL is
/// taken to let go. None gives an empty owner.
std::shared_ptr<const void> python_owner(nb::handle owner);
/// The launch's `stream=` value: nullptr for None, else the Stream (TypeError for anything else).
const Stream* launch_stream(nb::handle stream);

}  // namespace manycore::python
