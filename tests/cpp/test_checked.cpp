// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Checked mode from C++: findings in KernelFault, raw pointers without extents, JSON lines.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "manycore/manycore.hpp"

namespace {

using manycore::Device;
using manycore::Finding;
using manycore::KernelFault;
using manycore::LaunchConfig;
using manycore::Module;
using manycore::ModuleOptions;

ModuleOptions checked() {
    ModuleOptions options;
    options.checked = true;
    return options;
}

constexpr const char* kScale = R"(
__global__ void scale(int n, float* y) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    y[i] *= 2.0f;
}
)";

TEST(Checked, ArraysCarryTheirExtentIntoTheFindings) {
    Module module(kScale, Device::cpu(), checked());
    auto y = manycore::Array::zeros({10}, manycore::DType::float32, Device::cpu());
    try {
        module.function("scale")(LaunchConfig{{1}, {12}}, 10, y);
        FAIL() << "no KernelFault";
    } catch (const KernelFault& e) {
        EXPECT_EQ(e.kernel(), "scale");
        ASSERT_EQ(e.findings_total(), 2u);  // the read and the write of y[10] and y[11]
        const Finding& f = e.findings().at(0);
        EXPECT_EQ(f.kind, "out-of-bounds");
        EXPECT_EQ(f.variable, "y");
        EXPECT_EQ(f.space, "global");
        EXPECT_EQ(f.index, 10);
        EXPECT_EQ(f.extent, 10);
        EXPECT_EQ(f.access, "read");
        EXPECT_EQ(f.line, 4);
        EXPECT_EQ(f.thread, (Finding::Dim3{10, 0, 0}));
        EXPECT_NE(std::string(e.what()).find("found 2 problems"), std::string::npos);
    }
}

// A raw pointer carries no extent: nothing is known to check it against (pass an Array).
TEST(Checked, RawPointersFromCppAreLeftUnchecked) {
    constexpr const char* source = R"(
__global__ void last(int* out) { out[0] = threadIdx.x; }
)";
    Module module(source, Device::cpu(), checked());
    std::vector<int> out(1);
    EXPECT_NO_THROW(module.function("last")(LaunchConfig{{1}, {2}}, out.data()));
    EXPECT_EQ(out[0], 1);
    auto array = manycore::Array::zeros({1}, manycore::DType::int32, Device::cpu());
    EXPECT_THROW(module.function("last")(LaunchConfig{{1}, {2}}, array), KernelFault);
}

TEST(Checked, CorrectKernelsRunAndComputeAsUnchecked) {
    Module module(kScale, Device::cpu(), checked());
    auto y = manycore::Array::empty({10}, manycore::DType::float32, Device::cpu());
    std::vector<float> host(10, 1.5f);
    y.copy_from_host(host.data());
    module.function("scale")(LaunchConfig{{1}, {10}}, 10, y);
    y.copy_to_host(host.data());
    for (float v : host) EXPECT_EQ(v, 3.0f);
}

TEST(Checked, FindingsAreJsonLinesWithNullForWhatIsUnknown) {
    Finding f;
    f.kind = "barrier-divergence";
    f.kernel = "k";
    f.message = "a \"quoted\"\nline";
    f.line = 7;
    f.block = Finding::Dim3{1, 2, 3};
    EXPECT_EQ(manycore::to_json(f),
              "{\"kind\": \"barrier-divergence\", \"kernel\": \"k\", \"message\": \"a "
              "\\\"quoted\\\"\\nline\", \"variable\": null, \"space\": null, \"index\": null, "
              "\"extent\": null, \"access\": null, \"line\": 7, \"block\": [1, 2, 3], \"thread\": "
              "null, \"other_access\": null, \"other_line\": null, \"other_block\": null, "
              "\"other_thread\": null}");
}

}  // namespace
