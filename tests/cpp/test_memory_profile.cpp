// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Specification of profiles from C++: the hook a launch reaches only under a profile, the
// memory profile's branch rewrite, and its counts of warp requests.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/source_analysis.hpp"
#include "manycore/manycore.hpp"
#include "manycore/profile.hpp"

namespace {

using manycore::AccessSite;
using manycore::Device;
using manycore::LaunchConfig;
using manycore::Module;
using manycore::ModuleOptions;
using manycore::Profiler;

std::string with_branches(const std::string& source) {
    return manycore::detail::analyse_source(source, {}, true, manycore::detail::CheckedHelpers::none,
                                            false, false, manycore::detail::BranchSites::wrapped)
        .prepared_source;
}

std::size_t lines(const std::string& s) { return std::count(s.begin(), s.end(), '\n'); }

TEST(BranchRewrite, WrapsConditionsOnTheirLines) {
    const std::string source =
        "__global__ void k(int n, int* x) {\n"
        "    if (threadIdx.x < n) x[0] = 1;\n"
        "    for (int i = 0; i < n; ++i) x[i] = i;\n"
        "    while (n > 0) --n;\n"
        "    do { ++n; } while (n < 3);\n"
        "}\n";
    const std::string out = with_branches(source);
    EXPECT_EQ(lines(out), lines(source));
    EXPECT_NE(out.find("if (::__mc::branch(0, 2, (threadIdx.x < n)))"), std::string::npos) << out;
    EXPECT_NE(out.find(";::__mc::branch(1, 3, ( i < n));"), std::string::npos) << out;
    EXPECT_NE(out.find("while (::__mc::branch(2, 4, (n > 0)))"), std::string::npos) << out;
    EXPECT_NE(out.find("while (::__mc::branch(3, 5, (n < 3)))"), std::string::npos) << out;
}

TEST(BranchRewrite, LeavesDeclarationsConstexprRangeForAndEmptyConditions) {
    const std::string source =
        "__device__ int f(int* p) { return p[0]; }\n"
        "__global__ void k(int* x) {\n"
        "    if (int v = f(x)) x[1] = v;\n"
        "    if (auto* q = x) q[0] = 1;\n"
        "    if constexpr (sizeof(int) == 4) x[2] = 0;\n"
        "    int a[3] = {1, 2, 3};\n"
        "    for (int v : a) x[v] = v;\n"
        "    for (;;) break;\n"
        "    if (int n = 3; n > x[0]) x[3] = n;\n"
        "}\n";
    const std::string out = with_branches(source);
    EXPECT_NE(out.find("if (int v = f(x))"), std::string::npos) << out;
    EXPECT_NE(out.find("if (auto* q = x)"), std::string::npos) << out;
    EXPECT_NE(out.find("if constexpr (sizeof(int) == 4)"), std::string::npos) << out;
    EXPECT_NE(out.find("for (int v : a)"), std::string::npos) << out;
    EXPECT_NE(out.find("for (;;)"), std::string::npos) << out;
    // An init-statement stays; the condition after it is wrapped.
    EXPECT_NE(out.find("if (int n = 3;::__mc::branch(0, 9, ( n > x[0])))"), std::string::npos)
        << out;
}

TEST(BranchRewrite, OnlyWhenAsked) {
    const std::string source = "__global__ void k(int* x) { if (x[0]) x[1] = 2; }\n";
    const auto checked = manycore::detail::analyse_source(source, {}, true).prepared_source;
    EXPECT_EQ(checked.find("__mc::branch"), std::string::npos);
}

const char* kSource = R"(
__global__ void strided(int n, const float* x, float* y) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = x[2 * i];
}
__global__ void empty() {}
)";

TEST(Profiler, LaunchesWithoutAProfileNeverReachTheHook) {
    const Module m(kSource, Device::cpu());
    const auto f = m.function("empty");
    const LaunchConfig c{{1, 1, 1}, {32, 1, 1}};
    f(c);
    const auto before = Profiler::hook_calls();
    for (int i = 0; i < 50; ++i) f(c);
    EXPECT_EQ(Profiler::hook_calls(), before);
    {
        Profiler p;
        p.start();
        f(c);
        f(c);
        p.stop();
        EXPECT_EQ(p.launches().size(), 2u);
    }
    EXPECT_EQ(Profiler::hook_calls(), before + 2);
    f(c);
    EXPECT_EQ(Profiler::hook_calls(), before + 2);
}

TEST(Profiler, MemoryProfileCountsSectors) {
    const Module m(kSource, Device::cpu());
    const int n = 1024;
    auto xa = manycore::Array::zeros({2 * n}, manycore::DType::float32, Device::cpu());
    auto ya = manycore::Array::zeros({n}, manycore::DType::float32, Device::cpu());
    Profiler p(true);
    p.start();
    m.function("strided")(LaunchConfig{{n / 256, 1, 1}, {256, 1, 1}}, n, xa, ya);
    p.stop();
    const auto launches = p.launches();
    ASSERT_EQ(launches.size(), 1u);
    ASSERT_TRUE(launches[0].instrumented) << launches[0].memory_note;
    ASSERT_TRUE(launches[0].memory);
    const auto& sites = launches[0].memory->sites;
    const auto load = std::find_if(sites.begin(), sites.end(), [](const AccessSite& s) {
        return s.variable == "x" && s.access == AccessSite::Access::load;
    });
    ASSERT_NE(load, sites.end());
    EXPECT_EQ(load->requests, static_cast<std::uint64_t>(n / 32));
    EXPECT_EQ(load->sectors, 8u * (n / 32));
    EXPECT_EQ(load->ideal_sectors, 4u * (n / 32));
    EXPECT_EQ(load->line, 4u);
}

TEST(CudaMemoryProfile, BuildIsRefusedOnAGpu) {
    ModuleOptions o;
    o.memory_profile = true;
    if (manycore::devices().size() < 2) GTEST_SKIP() << "no GPU here";
    EXPECT_THROW(Module(kSource, Device(manycore::DeviceKind::cuda, 0), o),
                 manycore::InvalidArgument);
}

}  // namespace
