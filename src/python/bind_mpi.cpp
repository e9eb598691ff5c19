// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The MPI backend for manycore.dist: communicators come from mpi4py's C API (PyMPIComm_Get).
// Compiled to nothing unless CMake found MPI and mpi4py's headers (MANYCORE_PYTHON_MPI).
#ifdef MANYCORE_PYTHON_MPI

#include <mpi4py/mpi4py.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <memory>
#include <string>
#include <vector>

#include "manycore/error.hpp"
#include "mpi/cart_grid.hpp"
#include "mpi/comm.hpp"
#include "python/bindings.hpp"

namespace manycore::python {
namespace {

namespace mmpi = manycore::mpi;

// mpi4py's C API is imported on first use, never at import of manycore._core: importing
// mpi4py.MPI initialises MPI, which must stay the user's (or manycore.dist's) decision.
mmpi::Comm comm_of(nb::handle comm) {
    static bool imported = false;
    if (!imported) {
        if (import_mpi4py() < 0) throw nb::python_error();
        imported = true;
    }
    if (!PyObject_TypeCheck(comm.ptr(), &PyMPIComm_Type)) {
        throw ArgumentTypeError("manycore.dist: expected an mpi4py communicator, got " +
                                std::string(nb::type_name(comm.type()).c_str()));
    }
    MPI_Comm* c = PyMPIComm_Get(comm.ptr());
    if (c == nullptr) throw nb::python_error();
    return mmpi::Comm::borrow(*c);
}

// C++ CartGrid and HaloExchange with the Python objects they depend on kept alive.
struct PyCartGrid {
    mmpi::Comm base;
    std::unique_ptr<mmpi::CartGrid> grid;
};

struct PyHalo {
    std::unique_ptr<mmpi::HaloExchange> exchange;
};

using Gil = nb::call_guard<nb::gil_scoped_release>;

}  // namespace

void bind_mpi(nb::module_& m) {
    m.attr("mpi_native") = true;
    m.def("mpi_cuda_aware", &mmpi::cuda_aware);
    // Collectives: the comm is converted with the GIL held, the MPI call runs without it.
    m.def("mpi_allreduce", [](nb::handle comm, const Array& in, Array& out, const std::string& op) {
        mmpi::Comm c = comm_of(comm);
        const mmpi::Op o = mmpi::parse_op(op);
        nb::gil_scoped_release release;
        mmpi::allreduce(c, in, out, o);
    });
    m.def("mpi_reduce", [](nb::handle comm, const Array& in, Array* out, const std::string& op, int root) {
        mmpi::Comm c = comm_of(comm);
        const mmpi::Op o = mmpi::parse_op(op);
        nb::gil_scoped_release release;
        mmpi::reduce(c, in, out, o, root);
    }, nb::arg("comm"), nb::arg("src"), nb::arg("out").none(), nb::arg("op"), nb::arg("root"));
    m.def("mpi_bcast", [](nb::handle comm, Array& a, int root) {
        mmpi::Comm c = comm_of(comm);
        nb::gil_scoped_release release;
        mmpi::bcast(c, a, root);
    });
    m.def("mpi_allgather", [](nb::handle comm, const Array& in, Array& out) {
        mmpi::Comm c = comm_of(comm);
        nb::gil_scoped_release release;
        mmpi::allgather(c, in, out);
    });
    m.def("mpi_gather", [](nb::handle comm, const Array& in, Array* out, int root) {
        mmpi::Comm c = comm_of(comm);
        nb::gil_scoped_release release;
        mmpi::gather(c, in, out, root);
    }, nb::arg("comm"), nb::arg("src"), nb::arg("out").none(), nb::arg("root"));
    m.def("mpi_scatter", [](nb::handle comm, const Array* in, Array& out, int root) {
        mmpi::Comm c = comm_of(comm);
        nb::gil_scoped_release release;
        mmpi::scatter(c, in, out, root);
    }, nb::arg("comm"), nb::arg("src").none(), nb::arg("out"), nb::arg("root"));
    m.def("mpi_alltoall", [](nb::handle comm, const Array& in, Array& out) {
        mmpi::Comm c = comm_of(comm);
        nb::gil_scoped_release release;
        mmpi::alltoall(c, in, out);
    });
    m.def("mpi_sendrecv", [](nb::handle comm, const Array& send, int dest, Array& recv, int source, int tag) {
        mmpi::Comm c = comm_of(comm);
        nb::gil_scoped_release release;
        mmpi::sendrecv(c, send, dest, recv, source, tag);
    });

    nb::class_<PyCartGrid>(m, "MpiCartGrid")
        .def("__init__", [](PyCartGrid* self, nb::handle comm, int ndim, std::vector<int> dims,
                            std::vector<bool> periodic) {
            new (self) PyCartGrid{comm_of(comm), nullptr};
            self->grid = std::make_unique<mmpi::CartGrid>(self->base, ndim, std::move(dims), std::move(periodic));
        }, nb::keep_alive<1, 2>())
        .def_prop_ro("dims", [](const PyCartGrid& g) { return g.grid->dims(); })
        .def_prop_ro("coords", [](const PyCartGrid& g) { return g.grid->coords(); })
        .def("neighbour", [](const PyCartGrid& g, std::vector<int> offset) {
            const int r = g.grid->neighbour(offset);
            return r == MPI_PROC_NULL ? -1 : r;
        });

    nb::class_<PyHalo>(m, "MpiHaloExchange")
        .def("__init__", [](PyHalo* self, const PyCartGrid& grid, const Array& local, int halo, bool corners,
                            int tag_base) {
            new (self) PyHalo{std::make_unique<mmpi::HaloExchange>(*grid.grid, local, halo, corners, tag_base)};
        }, nb::keep_alive<1, 2>())
        .def("start", [](PyHalo& h) { h.exchange->start(); }, Gil())
        .def("wait", [](PyHalo& h) { h.exchange->wait(); }, Gil());
}

}  // namespace manycore::python

#endif  // MANYCORE_PYTHON_MPI
