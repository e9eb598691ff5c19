// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Python view of what only the CUDA room offers: compiling for a GPU architecture without one.
#include "python/bindings.hpp"

#ifdef MANYCORE_PYTHON_CUDA
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "cuda/nvrtc_compiler.hpp"
#endif

namespace manycore::python {

void bind_cuda(nb::module_& m) {
#ifdef MANYCORE_PYTHON_CUDA
    m.def("cuda_compile", [](const std::string& source, int cc, std::vector<std::string> options,
                             std::vector<std::string> name_expressions, bool checked) {
        cuda::OfflineImage out;
        {
            nb::gil_scoped_release release;
            out = cuda::compile_for_architecture(source, cc, options, name_expressions, checked);
        }
        return nb::make_tuple(nb::bytes(out.image.data(), out.image.size()), out.cubin,
                              out.target, out.log);
    }, nb::arg("source"), nb::arg("cc"), nb::arg("options"), nb::arg("name_expressions"),
       nb::arg("checked") = false);
#else
    (void)m;  // built without the CUDA room: manycore.cuda.compile says so
#endif
}

}  // namespace manycore::python
