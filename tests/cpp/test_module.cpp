// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The C++ API end to end: modules, typed launches and their errors, on every device.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <numeric>
#include <string>
#include <vector>

#include "manycore/manycore.hpp"

namespace {

using manycore::CpuScheme;
using manycore::Device;
using manycore::DeviceKind;
using manycore::ExecutionMode;
using manycore::LaunchConfig;
using manycore::Module;
using manycore::set_cpu_scheme;

class ModuleTest : public testing::TestWithParam<Device> {};

std::string device_name(const testing::TestParamInfo<Device>& info) {
    std::string name = info.param.str();
    for (auto& c : name) {
        if (c == ':') c = '_';
    }
    return name;
}

INSTANTIATE_TEST_SUITE_P(Devices, ModuleTest, testing::ValuesIn(manycore::devices()), device_name);

constexpr const char* kSaxpy = R"(
__global__ void saxpy(int n, float a, const float* __restrict__ x, float* y) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i] + y[i];
}
)";

TEST_P(ModuleTest, TypedLaunchComputesSaxpy) {
    Module module(kSaxpy, GetParam());
    auto saxpy = module.function("saxpy");
    const int n = 1000;
    auto x = manycore::Array::empty({n}, manycore::DType::float32, GetParam());
    auto y = manycore::Array::empty({n}, manycore::DType::float32, GetParam());
    std::vector<float> hx(n), hy(n, 1.0f);
    std::iota(hx.begin(), hx.end(), 0.0f);
    x.copy_from_host(hx.data());
    y.copy_from_host(hy.data());
    saxpy(LaunchConfig{{4}, {256}}, n, 2.0f, x, y);
    y.copy_to_host(hy.data());
    for (int i = 0; i < n; ++i) ASSERT_EQ(hy[i], 2.0f * static_cast<float>(i) + 1.0f) << i;
    EXPECT_EQ(saxpy.signature(), "saxpy(int n, float a, const float* __restrict__ x, float* y)");
    EXPECT_FALSE(saxpy.uses_fibers());
}

TEST_P(ModuleTest, SharedMemoryReductionWithBarriersInALoop) {
    Module module(R"(
        __global__ void block_sum(const double* in, double* out, int n) {
            __shared__ double s[256];
            int t = threadIdx.x;
            int i = blockIdx.x * blockDim.x + t;
            s[t] = i < n ? in[i] : 0.0;
            __syncthreads();
            for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
                if (t < stride) s[t] += s[t + stride];
                __syncthreads();
            }
            if (t == 0) out[blockIdx.x] = s[0];
        })",
                  GetParam());
    auto f = module.function("block_sum");
    const bool cpu = GetParam().kind() == DeviceKind::cpu;
    EXPECT_EQ(f.execution_mode(), cpu ? ExecutionMode::fission : ExecutionMode::gpu)
        << f.execution_reason();
    EXPECT_FALSE(f.uses_fibers());
    EXPECT_EQ(f.static_shared_bytes(), 256 * sizeof(double));
    const int n = 5000, blocks = (n + 255) / 256;
    std::vector<double> in(n), out(blocks);
    std::iota(in.begin(), in.end(), 1.0);
    f(LaunchConfig{{blocks}, {256}}, in.data(), out.data(), n);
    EXPECT_DOUBLE_EQ(std::accumulate(out.begin(), out.end(), 0.0), n * (n + 1.0) / 2);
    if (!cpu) return;
    // The same kernel with every thread a fiber: the same sums, bit for bit.
    set_cpu_scheme(CpuScheme::fibers);
    Module fibers(R"(
        __global__ void block_sum(const double* in, double* out, int n) {
            __shared__ double s[256];
            int t = threadIdx.x;
            int i = blockIdx.x * blockDim.x + t;
            s[t] = i < n ? in[i] : 0.0;
            __syncthreads();
            for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
                if (t < stride) s[t] += s[t + stride];
                __syncthreads();
            }
            if (t == 0) out[blockIdx.x] = s[0];
        })",
                  GetParam());
    set_cpu_scheme(CpuScheme::automatic);
    auto g = fibers.function("block_sum");
    EXPECT_EQ(g.execution_mode(), ExecutionMode::fibers);
    EXPECT_TRUE(g.uses_fibers());
    std::vector<double> out2(blocks);
    g(LaunchConfig{{blocks}, {256}}, in.data(), out2.data(), n);
    EXPECT_EQ(out, out2);
}

TEST_P(ModuleTest, DynamicSharedMemorySizedAtLaunch) {
    Module module(R"(
        __global__ void reverse(int* data) {
            extern __shared__ int tile[];
            int t = threadIdx.x;
            tile[t] = data[blockIdx.x * blockDim.x + t];
            __syncthreads();
            data[blockIdx.x * blockDim.x + t] = tile[blockDim.x - 1 - t];
        })",
                  GetParam());
    std::vector<int> data(512);
    std::iota(data.begin(), data.end(), 0);
    module.function("reverse")(LaunchConfig{{2}, {256}, 256 * sizeof(int)}, data.data());
    EXPECT_EQ(data[0], 255);
    EXPECT_EQ(data[255], 0);
    EXPECT_EQ(data[256], 511);
}

TEST_P(ModuleTest, WrongArgumentsAreRejectedBeforeRunning) {
    Module module(kSaxpy, GetParam());
    auto saxpy = module.function("saxpy");
    std::vector<float> x(4), y(4);
    std::vector<double> wrong(4);
    const LaunchConfig one{{1}, {4}};
    EXPECT_THROW(saxpy(one, 4, 2.0f, x.data()), manycore::ArgumentTypeError);
    EXPECT_THROW(saxpy(one, 4, 2.0f, wrong.data(), y.data()), manycore::ArgumentTypeError);
    EXPECT_THROW(saxpy(one, std::int64_t{1} << 40, 2.0f, x.data(), y.data()),
                 manycore::ArgumentRangeError);
    EXPECT_THROW(saxpy(one, 4.5, 2.0f, x.data(), y.data()), manycore::ArgumentTypeError);
    try {
        saxpy(one, 4, 2.0f, wrong.data(), y.data());
    } catch (const manycore::ArgumentTypeError& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find("saxpy"), std::string::npos) << message;
        EXPECT_NE(message.find("'x'"), std::string::npos) << message;
        EXPECT_NE(message.find("float64"), std::string::npos) << message;
        EXPECT_NE(message.find("float32"), std::string::npos) << message;
    }
}

TEST_P(ModuleTest, LaunchOutsideLimitsIsInvalidLaunch) {
    Module module(kSaxpy, GetParam());
    auto saxpy = module.function("saxpy");
    std::vector<float> x(4), y(4);
    EXPECT_THROW(saxpy(LaunchConfig{{1}, {2048}}, 4, 1.0f, x.data(), y.data()),
                 manycore::InvalidLaunch);
    EXPECT_THROW(saxpy(LaunchConfig{{1}, {64, 32}}, 4, 1.0f, x.data(), y.data()),
                 manycore::InvalidLaunch);
    EXPECT_THROW(saxpy(LaunchConfig{{0}, {32}}, 4, 1.0f, x.data(), y.data()),
                 manycore::InvalidLaunch);
    EXPECT_THROW(saxpy(LaunchConfig{{1}, {32}, 1 << 20}, 4, 1.0f, x.data(), y.data()),
                 manycore::InvalidLaunch);
}

TEST_P(ModuleTest, CompileErrorCarriesUserLineNumbers) {
    try {
        Module module("__global__ void k(int* p) {\n  p[0] = 1;\n  p[1] = undefined_name;\n}\n",
                      GetParam());
        FAIL() << "expected a CompileError";
    } catch (const manycore::CompileError& e) {
        EXPECT_NE(e.log().find("kernel.cu:3"), std::string::npos) << e.log();
        EXPECT_NE(e.log().find("undefined_name"), std::string::npos) << e.log();
    }
}

TEST_P(ModuleTest, UnknownKernelListsTheKernelsThereAre) {
    Module module(kSaxpy, GetParam());
    try {
        (void)module.function("saxpx");
        FAIL() << "expected KernelNotFound";
    } catch (const manycore::KernelNotFound& e) {
        EXPECT_NE(std::string(e.what()).find("'saxpy'"), std::string::npos) << e.what();
    }
}

TEST_P(ModuleTest, TemplateKernelsThroughNameExpressions) {
    manycore::ModuleOptions options;
    options.name_expressions = {"fill<int, 7>", "fill<double, 2>"};
    Module module(R"(
        template <typename T, int V>
        __global__ void fill(T* out, int n) {
            int i = blockIdx.x * blockDim.x + threadIdx.x;
            if (i < n) out[i] = T(V);
        })",
                  GetParam(), options);
    std::vector<int> ints(10);
    std::vector<double> doubles(10);
    module.function("fill<int, 7>")(LaunchConfig{{1}, {32}}, ints.data(), 10);
    module.function("fill<double, 2>")(LaunchConfig{{1}, {32}}, doubles.data(), 10);
    EXPECT_EQ(ints[9], 7);
    EXPECT_EQ(doubles[9], 2.0);
    EXPECT_THROW((void)module.function("fill<int, 8>"), manycore::KernelNotFound);
}

TEST_P(ModuleTest, SecondModuleOfTheSameSourceIsShared) {
    Module first(kSaxpy, GetParam());
    Module second(kSaxpy, GetParam());
    EXPECT_EQ(first.cache_path(), second.cache_path());
}

}  // namespace

// Under MPI each rank of a node takes its own GPU, round-robin by the launcher's local rank.
TEST(DefaultDevice, RanksOfANodeShareItsGpusRoundRobin) {
    EXPECT_EQ(manycore::detail::gpu_for_rank(4, -1), 0);  // not under MPI: the first GPU
    EXPECT_EQ(manycore::detail::gpu_for_rank(4, 0), 0);
    EXPECT_EQ(manycore::detail::gpu_for_rank(4, 3), 3);
    EXPECT_EQ(manycore::detail::gpu_for_rank(4, 6), 2);
    EXPECT_EQ(manycore::detail::gpu_for_rank(1, 5), 0);
}

TEST(DefaultDevice, NodeLocalRankFromTheLauncherElseAsTold) {
    for (const char* name : {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID",
                             "MV2_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID"}) {
        ::unsetenv(name);
    }
    manycore::set_node_local_rank(-1);
    EXPECT_EQ(manycore::node_local_rank(), -1);
    manycore::set_node_local_rank(2);
    EXPECT_EQ(manycore::node_local_rank(), 2);
    ::setenv("SLURM_LOCALID", "5", 1);
    EXPECT_EQ(manycore::node_local_rank(), 5);  // the launcher's word wins
    ::setenv("OMPI_COMM_WORLD_LOCAL_RANK", "1", 1);
    EXPECT_EQ(manycore::node_local_rank(), 1);  // Open MPI's before SLURM's
    ::setenv("OMPI_COMM_WORLD_LOCAL_RANK", "not a number", 1);
    EXPECT_EQ(manycore::node_local_rank(), 5);
    ::unsetenv("OMPI_COMM_WORLD_LOCAL_RANK");
    ::unsetenv("SLURM_LOCALID");
    manycore::set_node_local_rank(-1);
}
