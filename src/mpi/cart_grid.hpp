// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Cartesian domain decomposition and halo exchange on manycore::Array blocks.
#pragma once

#include <mpi.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "mpi/comm.hpp"

namespace manycore::mpi {

/// A Cartesian grid of the ranks of a communicator (MPI_Cart_create on a duplicate), 1 to 3
/// dimensions, each periodic or not. Blocks of a global array are split as evenly as possible:
/// the first `n % p` ranks of a dimension get one element more. Not thread-safe.
class CartGrid {
  public:
    /// `dims` empty (or zeros) lets MPI_Dims_create choose; `periodic` has ndim entries or one.
    CartGrid(const Comm& comm, int ndim, std::vector<int> dims = {},
             std::vector<bool> periodic = {false});

    int ndim() const noexcept { return static_cast<int>(dims_.size()); }
    const std::vector<int>& dims() const noexcept { return dims_; }
    const std::vector<bool>& periodic() const noexcept { return periodic_; }
    const std::vector<int>& coords() const noexcept { return coords_; }
    const Comm& comm() const noexcept { return comm_; }
    int rank() const { return comm_.rank(); }
    int size() const { return comm_.size(); }

    /// The rank at `offset` (one entry per dimension, each -1, 0 or 1) from this one;
    /// MPI_PROC_NULL past a non-periodic edge.
    int neighbour(const std::vector<int>& offset) const;
    /// The extent of the block of coordinate `coord` of a dimension of `n` elements split
    /// over `parts`, and its first global index.
    static std::int64_t block_extent(std::int64_t n, int parts, int coord) noexcept;
    static std::int64_t block_start(std::int64_t n, int parts, int coord) noexcept;
    /// This rank's interior shape and global offset for `global_shape`.
    std::vector<std::int64_t> local_shape(const std::vector<std::int64_t>& global_shape) const;
    std::vector<std::int64_t> local_offset(const std::vector<std::int64_t>& global_shape) const;

  private:
    Comm comm_;
    std::vector<int> dims_;
    std::vector<bool> periodic_;
    std::vector<int> coords_;
};

/// One halo exchange of `local` (a C-contiguous block with `halo` cells on every side of each
/// of the grid's dimensions, trailing dimensions beyond the grid's taken whole): `start()`
/// posts MPI_Irecv/MPI_Isend for every face (and edge and corner when `corners`), `wait()`
/// completes them and unpacks. Non-contiguous faces are packed with strided copy loops on the
/// CPU; GPU blocks are staged through a pinned host copy of the whole block (packing by
/// kernels on the device is the next step). Between start() and wait(): on the CPU the
/// interior may be read, and written away from its outermost `halo` layers, and the halo may
/// not be touched; a staged GPU block is written back whole by wait(), so it may only be read.
/// Not thread-safe; the grid must outlive the exchange.
class HaloExchange {
  public:
    /// `tag_base` separates exchanges of several arrays in flight together on one grid: give
    /// each a different multiple of 27 (the same on every rank).
    HaloExchange(const CartGrid& grid, Array local, int halo, bool corners, int tag_base = 0);
    ~HaloExchange();
    HaloExchange(const HaloExchange&) = delete;
    HaloExchange& operator=(const HaloExchange&) = delete;

    void start();
    void wait();
    /// start() then wait().
    void run() { start(); wait(); }

  private:
    struct Message;
    MPI_Comm comm_;  // the grid's; the grid must outlive the exchange
    Array local_;
    int halo_;
    std::vector<Message> messages_;
    std::vector<MPI_Request> requests_;
    std::array<std::int64_t, 3> strides_{};  // of the block padded to 3 grid dimensions
    std::size_t row_unit_ = 0;                // bytes of one cell with its trailing dimensions
    Array staged_;  // pinned host copy of a GPU block, packed and unpacked on the host
    bool active_ = false;
};

}  // namespace manycore::mpi
