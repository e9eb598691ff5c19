// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// manycore::mpi for C++ users: a communicator and the collectives on manycore::Array.
#pragma once

#include <mpi.h>

#include <cstddef>
#include <string>

#include "manycore/array.hpp"

namespace manycore::mpi {

/// Throws manycore::MpiError naming `call` with MPI_Error_string's text when `rc` is not
/// MPI_SUCCESS. Thread-safe.
void check(int rc, const char* call);

/// The MPI datatype of one element of `dtype` (records and float16 travel as MPI_BYTE, with the
/// count scaled by their itemsize: see `count_of`). Thread-safe.
MPI_Datatype datatype(DType dtype);
/// The count to hand MPI for `elements` elements of `a` (bytes for records and float16).
int count_of(const Array& a, std::size_t elements);

/// Reduction operators. Byte-typed elements (records, float16) accept none of them.
enum class Op { sum, prod, min, max };
/// Parses "sum", "prod", "min", "max"; throws InvalidArgument otherwise.
Op parse_op(const std::string& name);
MPI_Op native_op(Op op);

/// True when the MPI library can read and write GPU memory directly (Open MPI's
/// MPIX_Query_cuda_support at run time); false when unknown. Needs MPI initialised.
bool cuda_aware();

/// A communicator. `dup` makes a private duplicate (freed with the Comm) so manycore's own
/// messages never match the user's; `borrow` wraps one someone else owns and frees.
/// Not copyable; moving is cheap. Collectives on one Comm must be called in the same order on
/// every rank (MPI's rule); a Comm is not to be used from two threads at once.
class Comm {
  public:
    static Comm dup(MPI_Comm comm);
    static Comm borrow(MPI_Comm comm) noexcept { return Comm(comm, false); }
    /// Takes ownership of `comm` (freed with the Comm), e.g. one from MPI_Cart_create.
    static Comm adopt(MPI_Comm comm) noexcept { return Comm(comm, true); }
    /// MPI_COMM_WORLD, duplicated. MPI must have been initialised (by mpi4py or MPI_Init).
    static Comm world() { return dup(MPI_COMM_WORLD); }

    Comm(Comm&& other) noexcept;
    Comm& operator=(Comm&& other) noexcept;
    Comm(const Comm&) = delete;
    Comm& operator=(const Comm&) = delete;
    ~Comm();

    MPI_Comm native() const noexcept { return comm_; }
    int rank() const;
    int size() const;
    void barrier() const;

  private:
    Comm(MPI_Comm comm, bool owned) noexcept : comm_(comm), owned_(owned) {}
    MPI_Comm comm_ = MPI_COMM_NULL;
    bool owned_ = false;
};

// Collectives. Every array must be C-contiguous; CPU arrays go to MPI directly, GPU arrays go
// directly when cuda_aware() and are staged through host copies otherwise. Shapes are the
// caller's business as in MPI, but sizes are checked: a mismatch is InvalidArgument before any
// message is sent. `in` and `out` may be the same array for allreduce (MPI_IN_PLACE).

/// out = op over the ranks of in.
void allreduce(const Comm& comm, const Array& in, Array& out, Op op);
/// out (on root only; ignored elsewhere) = op over the ranks of in.
void reduce(const Comm& comm, const Array& in, Array* out, Op op, int root);
/// a on every rank = a on root.
void bcast(const Comm& comm, Array& a, int root);
/// out (size * in.size() elements) = every rank's in, in rank order.
void allgather(const Comm& comm, const Array& in, Array& out);
/// Like allgather, into out on root only.
void gather(const Comm& comm, const Array& in, Array* out, int root);
/// out = the rank-th of size equal parts of in (read on root only).
void scatter(const Comm& comm, const Array* in, Array& out, int root);
/// Part j of in goes to rank j; part i of out comes from rank i.
void alltoall(const Comm& comm, const Array& in, Array& out);
/// Sends `send` to `dest` while receiving `recv` from `source` (MPI_PROC_NULL allowed).
void sendrecv(const Comm& comm, const Array& send, int dest, Array& recv, int source,
              int tag = 0);

}  // namespace manycore::mpi
