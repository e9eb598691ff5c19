// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Launch lints: the facts the source analysis reads, and Function::lints on launches.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/source_analysis.hpp"
#include "manycore/manycore.hpp"

namespace {

using manycore::Array;
using manycore::Device;
using manycore::DType;
using manycore::KernelArg;
using manycore::LaunchConfig;
using manycore::LaunchLint;
using manycore::Module;
using manycore::detail::LaunchLintFacts;

LaunchLintFacts facts_of(const std::string& source, const std::string& kernel) {
    const auto a = manycore::detail::analyse_source(source, {});
    for (std::size_t k = 0; k < a.kernels.size(); ++k)
        if (a.kernels[k].name == kernel) return a.lint_facts[k];
    throw std::runtime_error("no kernel " + kernel);
}

constexpr const char* kAxpy = R"(
__global__ void axpy(int n, float a, const float* x, float* y) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] += a * x[i];
}
)";

TEST(LaunchLintFacts, OneElementPerThreadWithAGuard) {
    const auto f = facts_of(kAxpy, "axpy");
    EXPECT_EQ(f.index_name, "i");
    EXPECT_EQ(f.index_line, 3);
    EXPECT_EQ(f.indexed_params, (std::vector<int>{3, 2}));
    EXPECT_EQ(f.guard_param, 0);
    EXPECT_FALSE(f.grid_stride);
    EXPECT_EQ(f.int32_name, "i");  // the index, before the parameter
    EXPECT_EQ(f.int32_type, "int");
    EXPECT_FALSE(f.int32_is_param);
    EXPECT_FALSE(f.int32_unsigned);
}

TEST(LaunchLintFacts, GuardsInEveryOrderAndEarlyReturn) {
    EXPECT_EQ(facts_of(R"(
__global__ void k(float* x, unsigned n) {
    unsigned int i = threadIdx.x + blockDim.x * blockIdx.x;
    if (i >= n) return;
    x[i] = 0;
})", "k").guard_param, 1);
    const auto reversed = facts_of(R"(
__global__ void k(long long n, float* x) {
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (n > i) x[i] = 0;
})", "k");
    EXPECT_EQ(reversed.guard_param, 0);
    EXPECT_EQ(reversed.index_name, "i");
    EXPECT_TRUE(reversed.int32_name.empty());  // size_t index, 64-bit size
    // n - 1 is not the count: no guard, the arrays' lengths decide.
    EXPECT_EQ(facts_of(R"(
__global__ void k(int n, float* x) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n - 1) x[i] = x[i + 1];
})", "k").guard_param, -1);
}

TEST(LaunchLintFacts, GridStrideLoops) {
    EXPECT_TRUE(facts_of(R"(
__global__ void k(int n, float* x) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x)
        x[i] = 0;
})", "k").grid_stride);
    EXPECT_TRUE(facts_of(R"(
__global__ void k(int n, float* x) {
    const int stride = gridDim.x * blockDim.x;
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    while (i < n) { x[i] = 0; i = i + stride; }
})", "k").grid_stride);
    // gridDim without a loop is no grid-stride loop.
    EXPECT_FALSE(facts_of(R"(
__global__ void k(int n, float* x) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] = gridDim.x;
})", "k").grid_stride);
}

TEST(LaunchLintFacts, OtherIndexingLeavesTheGridLintSilent) {
    // A 2-D tile, several elements per thread, a block-local index: no one-per-thread index.
    EXPECT_TRUE(facts_of(R"(
__global__ void k(int n, float* x) {
    int i = blockIdx.x * blockDim.x * 2 + threadIdx.x;
    if (i < n) x[i] = 0;
})", "k").index_name.empty());
    EXPECT_TRUE(facts_of(R"(
__global__ void k(int w, float* x) {
    int c = blockIdx.x * blockDim.x + threadIdx.x, r = blockIdx.y * blockDim.y + threadIdx.y;
    x[r * w + c] = 0;
})", "k").indexed_params.empty());
    // An index changed after its declaration counts something else.
    for (const char* change : {"i *= 4;", "i = 2 * i;", "++i;", "i--;", "i <<= 1;"}) {
        const auto f = facts_of(std::string(R"(
__global__ void k(int n, float* x) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    )") + change + R"(
    if (i < n) x[i] = 0;
})", "k");
        EXPECT_TRUE(f.index_name.empty()) << change;
        EXPECT_EQ(f.guard_param, -1) << change;
    }
    // Comparisons and uses are no change.
    EXPECT_EQ(facts_of(R"(
__global__ void k(int n, float* x) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i == 0 || i <= 0 || x[i] >= 0) x[i + 1] = x[i] - x[i - 1];
    if (i < n) x[i] = 0;
})", "k").index_name, "i");
    const auto local = facts_of(R"(
__global__ void k(float* x) { unsigned t = threadIdx.x; x[t] = 0; })", "k");
    EXPECT_TRUE(local.index_name.empty());
    EXPECT_TRUE(local.int32_name.empty());  // no blockIdx, no 32-bit parameter
}

TEST(LaunchLintFacts, ThirtyTwoBitParameters) {
    const auto f = facts_of(R"(
__global__ void k(const float* x, const unsigned int count, double* y) { y[0] = x[count]; })", "k");
    EXPECT_EQ(f.int32_name, "count");
    EXPECT_EQ(f.int32_type, "const unsigned int");
    EXPECT_TRUE(f.int32_is_param);
    EXPECT_TRUE(f.int32_unsigned);
    EXPECT_TRUE(
        facts_of("__global__ void k(long n, short s, float* x) {}", "k").int32_name.empty());
    EXPECT_EQ(facts_of("__global__ void k(std::int32_t n, float* x) {}", "k").int32_name, "n");
}

LaunchConfig launch(std::uint32_t grid, std::uint32_t block) {
    LaunchConfig c;
    c.grid.x = grid;
    c.block.x = block;
    return c;
}

// An array of `count` bytes' worth of float32 that is never launched on: lints only.
Array floats(std::int64_t count, float* storage) {
    return Array::wrap(storage, {count}, {4}, DType::float32, Device::cpu(), nullptr);
}

std::vector<LaunchLint::Kind> kinds(const std::vector<LaunchLint>& lints) {
    std::vector<LaunchLint::Kind> out;
    for (const auto& l : lints) out.push_back(l.kind);
    return out;
}

TEST(LaunchLints, BlockNotAMultipleOf32) {
    Module module(kAxpy, Device::cpu());
    const auto f = module.function("axpy");
    float storage[256];
    const Array x = floats(256, storage);
    const KernelArg args[] = {256, 2.0f, x, x};
    const auto lints = f.lints(launch(4, 100), args);
    ASSERT_EQ(kinds(lints), std::vector{LaunchLint::Kind::block_size});
    EXPECT_EQ(lints[0].message,
              "axpy(): block=(100, 1, 1) has 100 threads, not a multiple of 32 (the warp size): a "
              "GPU runs it as 4 warps of 32 with 28 lanes idle in every block; use 128 or 96 "
              "threads per block");
    EXPECT_TRUE(f.lints(launch(4, 64), args).empty());
    EXPECT_TRUE(f.lints(launch(256, 1), args).empty());  // one thread: a serial kernel
    LaunchConfig two_d = launch(32, 8);
    two_d.block.y = 4;  // 32 threads a block in all, and 32 * 8 = 256 along x
    EXPECT_TRUE(f.lints(two_d, args).empty());
}

TEST(LaunchLints, GridTooSmallUsesTheGuardThenTheArrays) {
    Module module(kAxpy, Device::cpu());
    const auto f = module.function("axpy");
    static float storage[4096];
    const Array x = floats(4096, storage);
    const KernelArg too_few[] = {4096, 2.0f, x, x};
    const auto lints = f.lints(launch(4, 256), too_few);
    ASSERT_EQ(kinds(lints), std::vector{LaunchLint::Kind::grid_too_small});
    EXPECT_EQ(lints[0].message,
              "axpy(): grid=(4, 1, 1) x block=(256, 1, 1) runs 1024 threads along x, but n = "
              "4096, and the kernel handles one element per thread (index 'i' at line 3) with "
              "no grid-stride loop: elements 1024 to 4095 are never processed; launch "
              "grid=(16,) (4096 / 256 rounded up), or loop with 'for (; i < n; i += blockDim.x "
              "* gridDim.x)'");
    // n smaller than the arrays: the guard says what the launch must cover.
    const KernelArg partial[] = {1000, 2.0f, x, x};
    EXPECT_TRUE(f.lints(launch(4, 256), partial).empty());
    EXPECT_TRUE(f.lints(launch(16, 256), too_few).empty());
}

TEST(LaunchLints, UnguardedKernelsAreMeasuredByTheirShortestArray) {
    Module module(R"(
__global__ void copy(float* dst, const float* src) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    dst[i] = src[i];
})", Device::cpu());
    const auto f = module.function("copy");
    static float storage[4096];
    const Array longer = floats(4096, storage), shorter = floats(1024, storage);
    const KernelArg prefix[] = {shorter, longer};  // copies the first 1024: correct
    EXPECT_TRUE(f.lints(launch(4, 256), prefix).empty());
    const auto lints = f.lints(launch(2, 256), prefix);
    ASSERT_EQ(kinds(lints), std::vector{LaunchLint::Kind::grid_too_small});
    EXPECT_NE(lints[0].message.find("but 'dst' has 1024 elements"), std::string::npos);
    EXPECT_NE(lints[0].message.find("i < n;"), std::string::npos);
}

TEST(LaunchLints, GridStrideKernelsCoverAnyLength) {
    Module module(R"(
__global__ void fill(int n, float* x) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x)
        x[i] = 1.0f;
})", Device::cpu());
    static float storage[8192];
    const Array x = floats(8192, storage);
    const KernelArg args[] = {8192, x};
    EXPECT_TRUE(module.function("fill").lints(launch(2, 64), args).empty());
}

TEST(LaunchLints, IndexOverflow) {
    Module module(kAxpy, Device::cpu());
    const auto f = module.function("axpy");
    float storage[16];
    const Array huge = floats((std::int64_t{1} << 31) + 1, storage);
    const Array small = floats(16, storage);  // as long as n: no past-end lint
    const KernelArg args[] = {16, 2.0f, small, huge};
    const auto lints = f.lints(launch(1, 32), args);
    ASSERT_EQ(kinds(lints), std::vector{LaunchLint::Kind::index_overflow});
    EXPECT_EQ(lints[0].message,
              "axpy(): argument 'y' has 2147483649 elements, more than the 2147483647 a 32-bit "
              "'int' can reach, and the kernel's index 'i' is declared 'int' at line 3: indices "
              "past 2147483647 wrap around; declare the index and size as 'long long' or "
              "'size_t' (e.g. size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x)");
    Module wide(R"(
__global__ void k(long long n, float* x) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] = 0;
})", Device::cpu());
    const KernelArg wide_args[] = {16, huge};
    EXPECT_TRUE(wide.function("k").lints(launch(1, 32), wide_args).empty());
    EXPECT_EQ(std::string(manycore::lint_kind_name(LaunchLint::Kind::index_overflow)),
              "index-overflow");
}

TEST(LaunchLints, GlobalSwitch) {
    const bool before = manycore::launch_lints_enabled();
    manycore::set_launch_lints_enabled(false);
    EXPECT_FALSE(manycore::launch_lints_enabled());
    manycore::set_launch_lints_enabled(true);
    EXPECT_TRUE(manycore::launch_lints_enabled());
    manycore::set_launch_lints_enabled(before);
}

}  // namespace

TEST(LaunchLints, BoundLargerThanAnArrayItGuardsIsPastEnd) {
    Module module(kAxpy, Device::cpu());
    const auto f = module.function("axpy");
    float storage[16];
    const Array x = floats(16, storage);
    const Array y = floats(10, storage);
    const KernelArg args[] = {16, 2.0f, x, y};
    const auto lints = f.lints(launch(1, 32), args);
    ASSERT_EQ(kinds(lints), std::vector{LaunchLint::Kind::past_end});
    EXPECT_NE(lints[0].message.find("argument 'y' has only 10 elements"), std::string::npos);
    const KernelArg fitting[] = {10, 2.0f, x, y};
    EXPECT_TRUE(f.lints(launch(1, 32), fitting).empty());
}
