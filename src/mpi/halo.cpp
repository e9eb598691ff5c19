// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Halo exchange: one nonblocking message per neighbour direction, faces packed by strided copies.
#include <algorithm>
#include <array>
#include <cstring>
#include <string>

#include "manycore/error.hpp"
#include "manycore/memory.hpp"
#include "mpi/cart_grid.hpp"
#include "mpi/staging.hpp"

namespace manycore::mpi {

// A box of the block in its first (grid) dimensions; the trailing dimensions go whole, and
// with the innermost grid dimension they form contiguous rows.
struct Box {
    std::array<std::int64_t, 3> start{0, 0, 0};
    std::array<std::int64_t, 3> extent{1, 1, 1};
    std::size_t bytes(std::size_t row_unit) const {
        return static_cast<std::size_t>(extent[0] * extent[1] * extent[2]) * row_unit;
    }
};

struct HaloExchange::Message {
    int peer = MPI_PROC_NULL;
    int send_tag = 0;
    int recv_tag = 0;
    Box send_box;
    Box recv_box;
    std::vector<std::byte> send_buffer;
    std::vector<std::byte> recv_buffer;
};

namespace {

// Geometry of a block padded to three grid dimensions: strides in bytes and the bytes of one
// element of the innermost grid dimension (including the trailing dimensions).
struct Layout {
    std::array<std::int64_t, 3> stride{0, 0, 0};
    std::size_t unit = 0;
};

Layout layout_of(const Array& a, int ndim) {
    Layout l;
    std::size_t trailing = a.itemsize();
    for (std::size_t d = static_cast<std::size_t>(ndim); d < a.ndim(); ++d) {
        trailing *= static_cast<std::size_t>(a.shape()[d]);
    }
    l.unit = trailing;
    const int pad = 3 - ndim;
    for (int d = 0; d < 3; ++d) {
        l.stride[static_cast<std::size_t>(d)] =
            d < pad ? 0 : a.strides()[static_cast<std::size_t>(d - pad)];
    }
    return l;
}

// Copies a box between the block and a packed buffer: one memcpy per contiguous row.
void copy_box(std::byte* block, const Layout& l, const Box& b, std::byte* packed, bool pack) {
    const std::size_t row = static_cast<std::size_t>(b.extent[2]) * l.unit;
    for (std::int64_t i = 0; i < b.extent[0]; ++i) {
        for (std::int64_t j = 0; j < b.extent[1]; ++j) {
            std::byte* p = block + (b.start[0] + i) * l.stride[0] + (b.start[1] + j) * l.stride[1] +
                           b.start[2] * l.stride[2];
            if (pack) std::memcpy(packed, p, row); else std::memcpy(p, packed, row);
            packed += row;
        }
    }
}

}  // namespace

HaloExchange::HaloExchange(const CartGrid& grid, Array local, int halo, bool corners, int tag_base)
    : comm_(grid.comm().native()), local_(std::move(local)), halo_(halo) {
    const int nd = grid.ndim();
    detail::require_usable(local_, "exchange_halos", true);
    if (halo < 0) throw InvalidArgument("exchange_halos: halo must be >= 0");
    if (local_.ndim() < static_cast<std::size_t>(nd)) {
        throw InvalidArgument("exchange_halos: the block has fewer dimensions than the grid");
    }
    std::array<std::int64_t, 3> interior{1, 1, 1};
    const int pad = 3 - nd;
    for (int d = 0; d < nd; ++d) {
        const std::int64_t n = local_.shape()[static_cast<std::size_t>(d)] - 2 * halo;
        if (n < halo) {
            throw InvalidArgument("exchange_halos: dimension " + std::to_string(d) + " has " +
                                  std::to_string(n) + " interior cells on rank " +
                                  std::to_string(grid.rank()) + ", fewer than the halo width " +
                                  std::to_string(halo) + "; use fewer ranks or a larger grid");
        }
        interior[static_cast<std::size_t>(d + pad)] = n;
    }
    if (halo == 0) return;
    const Layout l = layout_of(local_, nd);
    strides_ = l.stride;
    row_unit_ = l.unit;
    // Every direction in {-1,0,1}^nd but the zero vector; faces only unless corners.
    int total = 1;
    for (int d = 0; d < nd; ++d) total *= 3;
    for (int code = 0; code < total; ++code) {
        std::vector<int> dir(static_cast<std::size_t>(nd));
        int c = code, nonzero = 0, opposite = 0, scale = 1;
        for (int d = 0; d < nd; ++d) {
            dir[static_cast<std::size_t>(d)] = c % 3 - 1;
            opposite += (1 - dir[static_cast<std::size_t>(d)]) * scale;
            scale *= 3;
            c /= 3;
            nonzero += dir[static_cast<std::size_t>(d)] != 0;
        }
        if (nonzero == 0 || (!corners && nonzero > 1)) continue;
        Message m;
        m.peer = grid.neighbour(dir);
        // We send towards dir with our code as tag; the peer sent to us towards -dir.
        m.send_tag = tag_base + code;
        m.recv_tag = tag_base + opposite;
        for (int d = 0; d < nd; ++d) {
            const std::size_t k = static_cast<std::size_t>(d + pad);
            const std::int64_t n = interior[k];
            switch (dir[static_cast<std::size_t>(d)]) {
                case -1:
                    m.send_box.start[k] = halo; m.send_box.extent[k] = halo;
                    m.recv_box.start[k] = 0; m.recv_box.extent[k] = halo;
                    break;
                case 1:
                    m.send_box.start[k] = n; m.send_box.extent[k] = halo;
                    m.recv_box.start[k] = n + halo; m.recv_box.extent[k] = halo;
                    break;
                default:
                    m.send_box.start[k] = halo; m.send_box.extent[k] = n;
                    m.recv_box.start[k] = halo; m.recv_box.extent[k] = n;
            }
        }
        if (m.peer == MPI_PROC_NULL) continue;
        m.send_buffer.resize(m.send_box.bytes(l.unit));
        m.recv_buffer.resize(m.recv_box.bytes(l.unit));
        messages_.push_back(std::move(m));
    }
}

HaloExchange::~HaloExchange() {
    if (!active_) return;
    // Abandoning posted requests would let MPI write into freed buffers: finish them.
    int finalized = 1;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Waitall(static_cast<int>(requests_.size()), requests_.data(), MPI_STATUSES_IGNORE);
}

void HaloExchange::start() {
    if (active_) throw InvalidArgument("exchange_halos: start() again before wait()");
    if (messages_.empty()) { active_ = true; return; }
    // GPU blocks: one host copy of the whole block, packed on the host (kernel packing later).
    std::byte* base = static_cast<std::byte*>(local_.data());
    if (local_.device().kind() != DeviceKind::cpu) {
        if (staged_.nbytes() != local_.nbytes()) staged_ = detail::pinned_bytes(local_);
        manycore::copy(staged_, local_);
        base = static_cast<std::byte*>(staged_.data());
    }
    requests_.assign(2 * messages_.size(), MPI_REQUEST_NULL);
    for (std::size_t i = 0; i < messages_.size(); ++i) {
        Message& m = messages_[i];
        check(MPI_Irecv(m.recv_buffer.data(), static_cast<int>(m.recv_buffer.size()), MPI_BYTE, m.peer,
                        m.recv_tag, comm_, &requests_[2 * i]), "MPI_Irecv");
    }
    for (std::size_t i = 0; i < messages_.size(); ++i) {
        Message& m = messages_[i];
        copy_box(base, Layout{strides_, row_unit_}, m.send_box, m.send_buffer.data(), true);
        check(MPI_Isend(m.send_buffer.data(), static_cast<int>(m.send_buffer.size()), MPI_BYTE, m.peer,
                        m.send_tag, comm_, &requests_[2 * i + 1]), "MPI_Isend");
    }
    active_ = true;
}

void HaloExchange::wait() {
    if (!active_) throw InvalidArgument("exchange_halos: wait() without start()");
    active_ = false;
    if (messages_.empty()) return;
    check(MPI_Waitall(static_cast<int>(requests_.size()), requests_.data(), MPI_STATUSES_IGNORE),
          "MPI_Waitall");
    const bool gpu = local_.device().kind() != DeviceKind::cpu;
    // On a GPU the interior may have changed since start(): refresh the copy, then unpack.
    if (gpu) manycore::copy(staged_, local_);
    std::byte* base = static_cast<std::byte*>(gpu ? staged_.data() : local_.data());
    for (Message& m : messages_) {
        copy_box(base, Layout{strides_, row_unit_}, m.recv_box, m.recv_buffer.data(), false);
    }
    if (gpu) manycore::copy(local_, staged_);
}

}  // namespace manycore::mpi
