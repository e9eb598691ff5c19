// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The extension module manycore._core: conversions only, the logic lives in the C++ core.
#include "python/bindings.hpp"

NB_MODULE(_core, m) {
    using namespace manycore::python;
    m.doc() = "manycore's C++ engine; use the manycore package rather than this module";
    // Arrays held in globals until interpreter exit are normal in scripts and notebooks;
    // nanobind's leak report would only alarm users.
    nb::set_leak_warnings(false);
    bind_errors(m);
    bind_device(m);
    bind_array(m);
    bind_module(m);
    bind_info(m);
    bind_stream(m);
    bind_cuda(m);
    bind_profile(m);
    bind_gpu_facts(m);
#ifdef MANYCORE_PYTHON_MPI
    bind_mpi(m);
#endif
}
