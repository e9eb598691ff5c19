// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// CartGrid: MPI_Cart_create over a duplicate of the user's communicator, and block extents.
#include "mpi/cart_grid.hpp"

#include <algorithm>
#include <string>

#include "manycore/error.hpp"

namespace manycore::mpi {

CartGrid::CartGrid(const Comm& comm, int ndim, std::vector<int> dims, std::vector<bool> periodic)
    : comm_(Comm::borrow(MPI_COMM_NULL)) {
    if (ndim < 1 || ndim > 3) {
        throw InvalidArgument("CartGrid: ndim=" + std::to_string(ndim) + "; 1, 2 or 3 dimensions");
    }
    if (dims.empty()) dims.assign(static_cast<std::size_t>(ndim), 0);
    if (dims.size() != static_cast<std::size_t>(ndim)) {
        throw InvalidArgument("CartGrid: " + std::to_string(dims.size()) + " dims for ndim=" +
                              std::to_string(ndim));
    }
    if (periodic.size() == 1) periodic.assign(static_cast<std::size_t>(ndim), periodic[0]);
    if (periodic.size() != static_cast<std::size_t>(ndim)) {
        throw InvalidArgument("CartGrid: periodic needs one flag or " + std::to_string(ndim));
    }
    const int size = comm.size();
    int product = 1;
    bool free_dims = false;
    for (int d : dims) {
        if (d < 0) throw InvalidArgument("CartGrid: negative entry in dims");
        if (d == 0) free_dims = true; else product *= d;
    }
    if (free_dims ? size % product != 0 : product != size) {
        throw InvalidArgument("CartGrid: dims do not multiply to the communicator's " +
                              std::to_string(size) + " ranks");
    }
    check(MPI_Dims_create(size, ndim, dims.data()), "MPI_Dims_create");
    std::vector<int> periods(periodic.begin(), periodic.end());
    MPI_Comm cart = MPI_COMM_NULL;
    // No reordering: rank r of the grid is rank r of the user's communicator, which keeps
    // rank-addressed calls (root=...) meaning the same on both.
    check(MPI_Cart_create(comm.native(), ndim, dims.data(), periods.data(), 0, &cart),
          "MPI_Cart_create");
    comm_ = Comm::adopt(cart);
    dims_ = std::move(dims);
    periodic_ = std::move(periodic);
    coords_.assign(static_cast<std::size_t>(ndim), 0);
    check(MPI_Cart_coords(comm_.native(), comm_.rank(), ndim, coords_.data()), "MPI_Cart_coords");
}

int CartGrid::neighbour(const std::vector<int>& offset) const {
    std::vector<int> c(coords_);
    for (std::size_t d = 0; d < c.size(); ++d) {
        c[d] += offset[d];
        if (c[d] < 0 || c[d] >= dims_[d]) {
            if (!periodic_[d]) return MPI_PROC_NULL;
            c[d] = (c[d] % dims_[d] + dims_[d]) % dims_[d];
        }
    }
    int r = MPI_PROC_NULL;
    check(MPI_Cart_rank(comm_.native(), c.data(), &r), "MPI_Cart_rank");
    return r;
}

std::int64_t CartGrid::block_extent(std::int64_t n, int parts, int coord) noexcept {
    return n / parts + (coord < n % parts ? 1 : 0);
}

std::int64_t CartGrid::block_start(std::int64_t n, int parts, int coord) noexcept {
    return coord * (n / parts) + std::min<std::int64_t>(coord, n % parts);
}

std::vector<std::int64_t> CartGrid::local_shape(const std::vector<std::int64_t>& global_shape) const {
    if (global_shape.size() < dims_.size()) {
        throw InvalidArgument("CartGrid: a " + std::to_string(global_shape.size()) +
                              "-d array cannot be split over a " + std::to_string(dims_.size()) +
                              "-d grid");
    }
    std::vector<std::int64_t> s(global_shape);
    for (std::size_t d = 0; d < dims_.size(); ++d) s[d] = block_extent(global_shape[d], dims_[d], coords_[d]);
    return s;
}

std::vector<std::int64_t> CartGrid::local_offset(const std::vector<std::int64_t>& global_shape) const {
    std::vector<std::int64_t> o(global_shape.size(), 0);
    for (std::size_t d = 0; d < dims_.size() && d < o.size(); ++d) {
        o[d] = block_start(global_shape[d], dims_[d], coords_[d]);
    }
    return o;
}

}  // namespace manycore::mpi
