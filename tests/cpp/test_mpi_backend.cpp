// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The MPI backend under mpiexec: collectives on Arrays, CartGrid blocks, halo exchange, MpiError.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "manycore/error.hpp"
#include "mpi/cart_grid.hpp"
#include "mpi/comm.hpp"

namespace mc = manycore;
namespace mpi = manycore::mpi;

namespace {

template <class T>
mc::Array filled(std::vector<std::int64_t> shape, T first, T step = T(1)) {
    mc::Array a = mc::Array::empty(std::move(shape), *mc::dtype_of<T>(), mc::Device::cpu());
    T* p = static_cast<T*>(a.data());
    for (std::size_t i = 0; i < a.size(); ++i) p[i] = first + static_cast<T>(i) * step;
    return a;
}

template <class T>
T* at(const mc::Array& a) { return static_cast<T*>(a.data()); }

TEST(MpiComm, WorldIsADuplicate) {
    mpi::Comm c = mpi::Comm::world();
    int result = MPI_UNEQUAL;
    MPI_Comm_compare(c.native(), MPI_COMM_WORLD, &result);
    EXPECT_EQ(result, MPI_CONGRUENT);
    int size = 0;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    EXPECT_EQ(c.size(), size);
    c.barrier();
}

TEST(MpiCollectives, AllreduceEveryOpAndInPlace) {
    mpi::Comm c = mpi::Comm::world();
    const int r = c.rank(), p = c.size();
    mc::Array x = filled<std::int64_t>({7}, r + 1, 0);
    mc::Array out = mc::Array::empty({7}, mc::DType::int64, mc::Device::cpu());
    mpi::allreduce(c, x, out, mpi::Op::sum);
    EXPECT_EQ(at<std::int64_t>(out)[6], std::int64_t(p) * (p + 1) / 2);
    mpi::allreduce(c, x, out, mpi::Op::max);
    EXPECT_EQ(at<std::int64_t>(out)[0], p);
    mpi::allreduce(c, x, out, mpi::Op::min);
    EXPECT_EQ(at<std::int64_t>(out)[0], 1);
    mc::Array d = filled<double>({3}, 2.0, 0.0);
    mpi::allreduce(c, d, d, mpi::Op::prod);  // in place
    EXPECT_EQ(at<double>(d)[2], std::pow(2.0, p));
}

TEST(MpiCollectives, BcastGatherScatterAlltoallSendrecv) {
    mpi::Comm c = mpi::Comm::world();
    const int r = c.rank(), p = c.size();
    mc::Array b = r == 0 ? filled<float>({5}, 1.5f) : mc::Array::zeros({5}, mc::DType::float32, mc::Device::cpu());
    mpi::bcast(c, b, 0);
    EXPECT_EQ(at<float>(b)[4], 5.5f);

    mc::Array mine = filled<std::int32_t>({3}, 10 * r);
    mc::Array all = mc::Array::empty({p, 3}, mc::DType::int32, mc::Device::cpu());
    mpi::allgather(c, mine, all);
    for (int k = 0; k < p; ++k) EXPECT_EQ(at<std::int32_t>(all)[3 * k + 2], 10 * k + 2);
    mc::Array root_all = mc::Array::zeros({p, 3}, mc::DType::int32, mc::Device::cpu());
    mpi::gather(c, mine, r == p - 1 ? &root_all : nullptr, p - 1);
    if (r == p - 1) EXPECT_EQ(at<std::int32_t>(root_all)[3 * (p - 1)], 10 * (p - 1));

    mc::Array part = mc::Array::empty({3}, mc::DType::int32, mc::Device::cpu());
    mpi::scatter(c, r == 0 ? &all : nullptr, part, 0);
    EXPECT_EQ(at<std::int32_t>(part)[1], 10 * r + 1);

    mc::Array send = filled<std::int32_t>({p}, 100 * r);  // element j goes to rank j
    mc::Array recv = mc::Array::empty({p}, mc::DType::int32, mc::Device::cpu());
    mpi::alltoall(c, send, recv);
    for (int k = 0; k < p; ++k) EXPECT_EQ(at<std::int32_t>(recv)[k], 100 * k + r);

    mc::Array s = filled<double>({4}, double(r));
    mc::Array got = mc::Array::empty({4}, mc::DType::float64, mc::Device::cpu());
    mpi::sendrecv(c, s, (r + 1) % p, got, (r + p - 1) % p);
    EXPECT_EQ(at<double>(got)[0], double((r + p - 1) % p));
}

TEST(MpiCollectives, MismatchesAreInvalidArgumentBeforeAnyMessage) {
    mpi::Comm c = mpi::Comm::world();
    mc::Array a = mc::Array::zeros({4}, mc::DType::float64, mc::Device::cpu());
    mc::Array small = mc::Array::zeros({3}, mc::DType::float64, mc::Device::cpu());
    mc::Array ints = mc::Array::zeros({4}, mc::DType::int32, mc::Device::cpu());
    EXPECT_THROW(mpi::allreduce(c, a, small, mpi::Op::sum), mc::InvalidArgument);
    EXPECT_THROW(mpi::allreduce(c, a, ints, mpi::Op::sum), mc::InvalidArgument);
    EXPECT_THROW(mpi::parse_op("mean"), mc::InvalidArgument);
}

TEST(MpiError, CarriesMpisOwnText) {
    try {
        mpi::check(MPI_ERR_TRUNCATE, "MPI_Recv");
        FAIL() << "no exception";
    } catch (const mc::MpiError& e) {
        EXPECT_EQ(e.error_class(), MPI_ERR_TRUNCATE);
        EXPECT_NE(std::string(e.what()).find("MPI_Recv failed: "), std::string::npos);
        EXPECT_FALSE(e.error_string().empty());
    }
}

TEST(MpiCartGrid, UnevenBlocksCoverTheDomain) {
    for (int parts = 1; parts <= 5; ++parts) {
        std::int64_t total = 0;
        for (int k = 0; k < parts; ++k) {
            EXPECT_EQ(mpi::CartGrid::block_start(11, parts, k), total);
            total += mpi::CartGrid::block_extent(11, parts, k);
        }
        EXPECT_EQ(total, 11);
    }
}

// Each cell holds its global linear index; after the exchange every halo cell that has a
// neighbour must hold the index of the global cell it mirrors (wrapped when periodic).
void check_halo(int ndim, bool periodic, bool corners, std::vector<std::int64_t> global) {
    mpi::Comm world = mpi::Comm::world();
    mpi::CartGrid grid(world, ndim, {}, {periodic});
    const int h = 1;
    auto n = grid.local_shape(global);
    auto off = grid.local_offset(global);
    std::vector<std::int64_t> shape(n);
    for (int d = 0; d < ndim; ++d) shape[d] += 2 * h;
    while (shape.size() < 3) { shape.insert(shape.begin(), 1); n.insert(n.begin(), 1);
                               off.insert(off.begin(), 0); global.insert(global.begin(), 1); }
    const int pad = 3 - ndim;
    std::vector<std::int64_t> real_shape(shape.begin() + pad, shape.end());
    mc::Array a = mc::Array::empty(real_shape, mc::DType::int64, mc::Device::cpu());
    auto* p = at<std::int64_t>(a);
    auto lh = [&](int d) { return d < pad ? 0 : h; };
    for (std::int64_t i = 0; i < shape[0]; ++i)
        for (std::int64_t j = 0; j < shape[1]; ++j)
            for (std::int64_t k = 0; k < shape[2]; ++k) {
                const std::int64_t idx[3] = {i - lh(0), j - lh(1), k - lh(2)};
                bool inside = true;
                for (int d = 0; d < 3; ++d) inside &= idx[d] >= 0 && idx[d] < n[d];
                p[(i * shape[1] + j) * shape[2] + k] =
                    inside ? ((off[0] + idx[0]) * global[1] + off[1] + idx[1]) * global[2] + off[2] + idx[2] : -1;
            }
    mpi::HaloExchange ex(grid, a, h, corners);
    ex.run();
    for (std::int64_t i = 0; i < shape[0]; ++i)
        for (std::int64_t j = 0; j < shape[1]; ++j)
            for (std::int64_t k = 0; k < shape[2]; ++k) {
                std::int64_t g[3] = {off[0] + i - lh(0), off[1] + j - lh(1), off[2] + k - lh(2)};
                int outside = 0;
                bool exists = true;
                for (int d = 0; d < 3; ++d) {
                    const std::int64_t l = (d == 0 ? i : d == 1 ? j : k) - lh(d);
                    if (l < 0 || l >= n[d]) ++outside;
                    if (g[d] < 0 || g[d] >= global[d]) {
                        if (periodic) g[d] = (g[d] + global[d]) % global[d]; else exists = false;
                    }
                }
                const std::int64_t v = p[(i * shape[1] + j) * shape[2] + k];
                if (outside == 0) continue;
                const std::int64_t want = ((g[0] * global[1]) + g[1]) * global[2] + g[2];
                if (exists && (outside == 1 || corners)) {
                    ASSERT_EQ(v, want) << "ndim " << ndim << " at " << i << "," << j << "," << k;
                } else {
                    ASSERT_EQ(v, -1) << "ndim " << ndim << " at " << i << "," << j << "," << k;
                }
            }
}

TEST(MpiHalo, OneTwoThreeDimensionsPeriodicOrNotCornersOrNot) {
    for (bool periodic : {false, true}) {
        for (bool corners : {false, true}) {
            check_halo(1, periodic, corners, {13});
            check_halo(2, periodic, corners, {7, 9});
            check_halo(3, periodic, corners, {5, 6, 7});
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    MPI_Init(&argc, &argv);
    ::testing::InitGoogleTest(&argc, argv);
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank != 0) {  // one report per job; failures on other ranks still fail the job
        auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
        delete listeners.Release(listeners.default_result_printer());
    }
    int failed = RUN_ALL_TESTS() != 0;
    int any = 0;
    MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Finalize();
    return any;
}
