// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The C++ API end to end: modules, typed launches and their errors, on every device.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <numeric>
#include <string>
#include <vector>

#include "devices.hpp"
#include "manycore/manycore.hpp"

namespace {

using manycore::Array;
using manycore::CpuScheme;
using manycore::DType;
using manycore::Device;
using manycore::DeviceKind;
using manycore::ExecutionMode;
using manycore::LaunchConfig;
using manycore::Module;
using manycore::set_cpu_scheme;
using manycore::test::to_device;
using manycore::test::to_host;

// Every device present; arrays are made on the test's device, since a GPU kernel cannot
// reach host memory such as a std::vector's.
class ModuleTest : public testing::TestWithParam<Device> {};

INSTANTIATE_TEST_SUITE_P(Devices, ModuleTest, testing::ValuesIn(manycore::devices()),
                         manycore::test::device_test_name);

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
    std::vector<float> hx(n);
    std::iota(hx.begin(), hx.end(), 0.0f);
    auto x = to_device(hx, DType::float32, GetParam());
    auto y = to_device(std::vector<float>(n, 1.0f), DType::float32, GetParam());
    saxpy(LaunchConfig{{4}, {256}}, n, 2.0f, x, y);
    const auto hy = to_host<float>(y);
    for (int i = 0; i < n; ++i) ASSERT_EQ(hy[i], 2.0f * static_cast<float>(i) + 1.0f) << i;
    EXPECT_EQ(saxpy.signature(), "saxpy(int n, float a, const float* __restrict__ x, float* y)");
    EXPECT_FALSE(saxpy.uses_fibers());
    EXPECT_EQ(saxpy.execution_mode(), GetParam().kind() == DeviceKind::cpu ? ExecutionMode::loop
                                                                           : ExecutionMode::gpu);
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
    std::vector<double> host_in(n);
    std::iota(host_in.begin(), host_in.end(), 1.0);
    const auto in = to_device(host_in, DType::float64, GetParam());
    auto sums = Array::zeros({blocks}, DType::float64, GetParam());
    f(LaunchConfig{{blocks}, {256}}, in, sums, n);
    const auto out = to_host<double>(sums);
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
    auto sums2 = Array::zeros({blocks}, DType::float64, GetParam());
    g(LaunchConfig{{blocks}, {256}}, in, sums2, n);
    EXPECT_EQ(out, to_host<double>(sums2));
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
    std::vector<int> host(512);
    std::iota(host.begin(), host.end(), 0);
    auto array = to_device(host, DType::int32, GetParam());
    module.function("reverse")(LaunchConfig{{2}, {256}, 256 * sizeof(int)}, array);
    const auto data = to_host<int>(array);
    EXPECT_EQ(data[0], 255);
    EXPECT_EQ(data[255], 0);
    EXPECT_EQ(data[256], 511);
}

TEST_P(ModuleTest, WrongArgumentsAreRejectedBeforeRunning) {
    Module module(kSaxpy, GetParam());
    auto saxpy = module.function("saxpy");
    const auto x = Array::zeros({4}, DType::float32, GetParam());
    const auto y = Array::zeros({4}, DType::float32, GetParam());
    const auto wrong = Array::zeros({4}, DType::float64, GetParam());
    const LaunchConfig one{{1}, {4}};
    EXPECT_THROW(saxpy(one, 4, 2.0f, x), manycore::ArgumentTypeError);
    EXPECT_THROW(saxpy(one, 4, 2.0f, wrong, y), manycore::ArgumentTypeError);
    EXPECT_THROW(saxpy(one, std::int64_t{1} << 40, 2.0f, x, y), manycore::ArgumentRangeError);
    EXPECT_THROW(saxpy(one, 4.5, 2.0f, x, y), manycore::ArgumentTypeError);
    try {
        saxpy(one, 4, 2.0f, wrong, y);
        ADD_FAILURE() << "expected an ArgumentTypeError";
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
    const auto x = Array::zeros({4}, DType::float32, GetParam());
    const auto y = Array::zeros({4}, DType::float32, GetParam());
    EXPECT_THROW(saxpy(LaunchConfig{{1}, {2048}}, 4, 1.0f, x, y), manycore::InvalidLaunch);
    EXPECT_THROW(saxpy(LaunchConfig{{1}, {64, 32}}, 4, 1.0f, x, y), manycore::InvalidLaunch);
    EXPECT_THROW(saxpy(LaunchConfig{{0}, {32}}, 4, 1.0f, x, y), manycore::InvalidLaunch);
    EXPECT_THROW(saxpy(LaunchConfig{{1}, {32}, 1 << 20}, 4, 1.0f, x, y), manycore::InvalidLaunch);
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
    auto ints = Array::zeros({10}, DType::int32, GetParam());
    auto doubles = Array::zeros({10}, DType::float64, GetParam());
    module.function("fill<int, 7>")(LaunchConfig{{1}, {32}}, ints, 10);
    module.function("fill<double, 2>")(LaunchConfig{{1}, {32}}, doubles, 10);
    EXPECT_EQ(to_host<int>(ints)[9], 7);
    EXPECT_EQ(to_host<double>(doubles)[9], 2.0);
    EXPECT_THROW((void)module.function("fill<int, 8>"), manycore::KernelNotFound);
}

TEST_P(ModuleTest, SecondModuleOfTheSameSourceIsShared) {
    Module first(kSaxpy, GetParam());
    Module second(kSaxpy, GetParam());
    EXPECT_EQ(first.cache_path(), second.cache_path());
}

}  // namespace

// GoogleTest names a device parameter by its string, in failures and in --gtest_list_tests.
TEST(DeviceNames, PrintToWritesTheDeviceString) {
    EXPECT_EQ(testing::PrintToString(manycore::Device::cpu()), "cpu");
    EXPECT_EQ(testing::PrintToString(manycore::Device(manycore::DeviceKind::cuda, 1)), "cuda:1");
}

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
