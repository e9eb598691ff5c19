// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Collectives on manycore::Array: size checks, GPU staging, then one MPI call each.
#include <string>

#include "manycore/error.hpp"
#include "manycore/memory.hpp"
#include "manycore/stream.hpp"
#include "mpi/comm.hpp"
#include "mpi/staging.hpp"

namespace manycore::mpi {
namespace detail {

void require_usable(const Array& a, const char* what, bool write) {
    if (!a.is_c_contiguous()) {
        throw InvalidArgument(std::string(what) + ": the array is not C-contiguous; pass a "
                              "contiguous copy");
    }
    if (write && !a.writable()) {
        throw InvalidArgument(std::string(what) + ": the output array is read-only");
    }
}

void synchronize(const Array& a) {
    if (a.device().kind() != DeviceKind::cpu) manycore::synchronize(a.device());
}

Array pinned_bytes(const Array& a) {
    return pinned_empty({static_cast<std::int64_t>(a.nbytes())}, DType::uint8);
}

Staged::Staged(const Array& a, const char* what, bool load) {
    (void)what;
    if (a.device().kind() == DeviceKind::cpu) {
        ptr_ = a.data();
        return;
    }
    if (cuda_aware()) {
        synchronize(a);
        ptr_ = a.data();
        return;
    }
    host_ = pinned_bytes(a);
    staged_ = true;
    ptr_ = host_.data();
    if (load && a.nbytes() != 0) manycore::copy(host_, a);  // waits for the device's pending work first
}

void Staged::store(Array& a) const {
    if (staged_ && a.nbytes() != 0) manycore::copy(a, host_);
}

}  // namespace detail

namespace {

using detail::require_usable;
using detail::Staged;

void same_type(const Array& a, const Array& b, const char* what) {
    if (a.dtype() != b.dtype() || a.itemsize() != b.itemsize()) {
        throw InvalidArgument(std::string(what) + ": input is " + std::string(dtype_name(a.dtype())) +
                              ", output is " + std::string(dtype_name(b.dtype())) +
                              "; both must have the same dtype");
    }
}

void same_size(std::size_t want, const Array& out, const char* what) {
    if (out.size() != want) {
        throw InvalidArgument(std::string(what) + ": the output has " + std::to_string(out.size()) +
                              " elements, " + std::to_string(want) + " are needed");
    }
}

void reducible(const Array& a, Op op, const char* what) {
    if (datatype(a.dtype()) == MPI_BYTE || a.dtype() == DType::bool_) {
        throw InvalidArgument(std::string(what) + ": cannot reduce " + std::string(dtype_name(a.dtype())) +
                              " elements; use a numeric dtype");
    }
    if ((op == Op::min || op == Op::max) &&
        (a.dtype() == DType::complex64 || a.dtype() == DType::complex128)) {
        throw InvalidArgument(std::string(what) + ": min and max are not defined for complex numbers");
    }
}

bool same_memory(const Array& a, const Array& b) { return a.data() == b.data() && a.nbytes() == b.nbytes(); }

}  // namespace

void allreduce(const Comm& comm, const Array& in, Array& out, Op op) {
    require_usable(in, "allreduce", false);
    require_usable(out, "allreduce", true);
    same_type(in, out, "allreduce");
    same_size(in.size(), out, "allreduce");
    reducible(in, op, "allreduce");
    const bool in_place = same_memory(in, out);
    Staged o(out, "allreduce", in_place);
    if (in_place) {
        check(MPI_Allreduce(MPI_IN_PLACE, o.data(), count_of(in, in.size()), datatype(in.dtype()),
                            native_op(op), comm.native()), "MPI_Allreduce");
    } else {
        Staged i(in, "allreduce", true);
        check(MPI_Allreduce(i.data(), o.data(), count_of(in, in.size()), datatype(in.dtype()),
                            native_op(op), comm.native()), "MPI_Allreduce");
    }
    o.store(out);
}

void reduce(const Comm& comm, const Array& in, Array* out, Op op, int root) {
    require_usable(in, "reduce", false);
    reducible(in, op, "reduce");
    const bool is_root = comm.rank() == root;
    if (is_root) {
        if (out == nullptr) throw InvalidArgument("reduce: the root needs an output array");
        require_usable(*out, "reduce", true);
        same_type(in, *out, "reduce");
        same_size(in.size(), *out, "reduce");
    }
    Staged i(in, "reduce", true);
    if (is_root) {
        const bool in_place = same_memory(in, *out);
        Staged o(*out, "reduce", false);
        check(MPI_Reduce(in_place ? MPI_IN_PLACE : i.data(), in_place ? i.data() : o.data(),
                         count_of(in, in.size()), datatype(in.dtype()), native_op(op), root,
                         comm.native()), "MPI_Reduce");
        if (in_place) i.store(*out); else o.store(*out);
    } else {
        check(MPI_Reduce(i.data(), nullptr, count_of(in, in.size()), datatype(in.dtype()),
                         native_op(op), root, comm.native()), "MPI_Reduce");
    }
}

void bcast(const Comm& comm, Array& a, int root) {
    const bool is_root = comm.rank() == root;
    require_usable(a, "bcast", !is_root);
    Staged s(a, "bcast", is_root);
    check(MPI_Bcast(s.data(), count_of(a, a.size()), datatype(a.dtype()), root, comm.native()),
          "MPI_Bcast");
    if (!is_root) s.store(a);
}

void allgather(const Comm& comm, const Array& in, Array& out) {
    require_usable(in, "allgather", false);
    require_usable(out, "allgather", true);
    same_type(in, out, "allgather");
    same_size(in.size() * static_cast<std::size_t>(comm.size()), out, "allgather");
    Staged i(in, "allgather", true);
    Staged o(out, "allgather", false);
    const int n = count_of(in, in.size());
    check(MPI_Allgather(i.data(), n, datatype(in.dtype()), o.data(), n, datatype(in.dtype()),
                        comm.native()), "MPI_Allgather");
    o.store(out);
}

void gather(const Comm& comm, const Array& in, Array* out, int root) {
    require_usable(in, "gather", false);
    const bool is_root = comm.rank() == root;
    if (is_root) {
        if (out == nullptr) throw InvalidArgument("gather: the root needs an output array");
        require_usable(*out, "gather", true);
        same_type(in, *out, "gather");
        same_size(in.size() * static_cast<std::size_t>(comm.size()), *out, "gather");
    }
    Staged i(in, "gather", true);
    const int n = count_of(in, in.size());
    if (is_root) {
        Staged o(*out, "gather", false);
        check(MPI_Gather(i.data(), n, datatype(in.dtype()), o.data(), n, datatype(in.dtype()), root,
                         comm.native()), "MPI_Gather");
        o.store(*out);
    } else {
        check(MPI_Gather(i.data(), n, datatype(in.dtype()), nullptr, 0, datatype(in.dtype()), root,
                         comm.native()), "MPI_Gather");
    }
}

void scatter(const Comm& comm, const Array* in, Array& out, int root) {
    require_usable(out, "scatter", true);
    const bool is_root = comm.rank() == root;
    const int n = count_of(out, out.size());
    Staged o(out, "scatter", false);
    if (is_root) {
        if (in == nullptr) throw InvalidArgument("scatter: the root needs an input array");
        require_usable(*in, "scatter", false);
        same_type(*in, out, "scatter");
        same_size(out.size() * static_cast<std::size_t>(comm.size()), *in, "scatter");
        Staged i(*in, "scatter", true);
        check(MPI_Scatter(i.data(), n, datatype(out.dtype()), o.data(), n, datatype(out.dtype()),
                          root, comm.native()), "MPI_Scatter");
    } else {
        check(MPI_Scatter(nullptr, 0, datatype(out.dtype()), o.data(), n, datatype(out.dtype()),
                          root, comm.native()), "MPI_Scatter");
    }
    o.store(out);
}

void alltoall(const Comm& comm, const Array& in, Array& out) {
    require_usable(in, "alltoall", false);
    require_usable(out, "alltoall", true);
    same_type(in, out, "alltoall");
    same_size(in.size(), out, "alltoall");
    const std::size_t p = static_cast<std::size_t>(comm.size());
    if (in.size() % p != 0) {
        throw InvalidArgument("alltoall: " + std::to_string(in.size()) + " elements do not split "
                              "into " + std::to_string(p) + " equal parts");
    }
    Staged i(in, "alltoall", true);
    Staged o(out, "alltoall", false);
    const int n = count_of(in, in.size() / p);
    check(MPI_Alltoall(i.data(), n, datatype(in.dtype()), o.data(), n, datatype(in.dtype()),
                       comm.native()), "MPI_Alltoall");
    o.store(out);
}

void sendrecv(const Comm& comm, const Array& send, int dest, Array& recv, int source, int tag) {
    require_usable(send, "sendrecv", false);
    require_usable(recv, "sendrecv", true);
    same_type(send, recv, "sendrecv");
    Staged s(send, "sendrecv", true);
    Staged r(recv, "sendrecv", false);
    check(MPI_Sendrecv(s.data(), count_of(send, send.size()), datatype(send.dtype()), dest, tag,
                       r.data(), count_of(recv, recv.size()), datatype(recv.dtype()), source, tag,
                       comm.native(), MPI_STATUS_IGNORE), "MPI_Sendrecv");
    r.store(recv);
}

}  // namespace manycore::mpi
