// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Python view of what only the CUDA room offers: compiling for a GPU architecture without one.
#include "python/bindings.hpp"

#ifdef MANYCORE_PYTHON_CUDA
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "cuda/driver_api.hpp"
#include "cuda/nvrtc_compiler.hpp"
#include "cuda/nvrtc_identity.hpp"
#include "manycore/error.hpp"
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
    m.def("cuda_versions", [] {
        // (driver, NVRTC) versions as cuDriverGetVersion numbers (12040), None where absent.
        nb::object driver = nb::none(), nvrtc = nb::none();
        if (const cuda::DriverApi* api = cuda::driver_or_null()) driver = nb::int_(api->version);
        try {
            const auto& id = cuda::nvrtc_identity();
            nvrtc = nb::int_(1000 * id.major + 10 * id.minor);
        } catch (const Error&) {
        }
        return nb::make_tuple(driver, nvrtc);
    }, "(CUDA driver version, NVRTC version), e.g. (12040, 13000); None where not found.");
#else
    (void)m;  // built without the CUDA room: manycore.cuda.compile says so
#endif
}

}  // namespace manycore::python
