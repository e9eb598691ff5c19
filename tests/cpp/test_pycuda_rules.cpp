// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// PyCUDA's argument rules (ArgumentRules::pycuda), the notes they give, and module globals.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "manycore/manycore.hpp"

namespace {

using manycore::ArgumentNote;
using manycore::ArgumentRules;
using manycore::Array;
using manycore::Device;
using manycore::DType;
using manycore::KernelArg;
using manycore::LaunchConfig;
using manycore::Module;

constexpr const char* kAdd = R"(
__constant__ int offset[1];
__global__ void add(int* out, const int* a, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = a[i] + n + offset[0];
}
)";

TEST(PycudaRules, MismatchedArraysAndScalarsPassAsPycudaPassesThem) {
    Module module(kAdd, Device::cpu());
    auto add = module.function("add");
    auto out = Array::zeros({4}, DType::uint32, Device::cpu());
    auto a = Array::zeros({4}, DType::uint32, Device::cpu());
    const std::uint32_t n = 4;
    const std::vector<KernelArg> args = {KernelArg(out), KernelArg(a),
                                         KernelArg::typed(DType::uint32, &n)};
    const LaunchConfig config{{1}, {32}};
    EXPECT_THROW(add.launch(config, args), manycore::ArgumentTypeError);
    add.launch(config, args, ArgumentRules::pycuda);
    std::vector<std::uint32_t> host(4);
    out.copy_to_host(host.data());
    EXPECT_EQ(host, std::vector<std::uint32_t>(4, 4u));

    const auto notes = add.pycuda_notes(args);
    ASSERT_EQ(notes.size(), 3u);
    EXPECT_EQ(notes[0].kind, ArgumentNote::Kind::element_type);
    EXPECT_EQ(notes[2].kind, ArgumentNote::Kind::scalar_type);
    EXPECT_NE(notes[0].message.find("('unsigned int*')"), std::string::npos) << notes[0].message;
    EXPECT_NE(notes[0].message.find("2**31 or more arrive negative"), std::string::npos);
    EXPECT_NE(notes[2].message.find("numpy.uint32"), std::string::npos) << notes[2].message;

    // The same bytes as PyCUDA: 3e9 as an int is negative, and no thread passes i < n.
    const std::uint32_t big = 3000000000u;
    const std::vector<KernelArg> wrapped = {KernelArg(out), KernelArg(a),
                                            KernelArg::typed(DType::uint32, &big)};
    auto zero = Array::zeros({4}, DType::uint32, Device::cpu());
    const std::vector<KernelArg> fresh = {KernelArg(zero), KernelArg(a),
                                          KernelArg::typed(DType::uint32, &big)};
    EXPECT_THROW(add.launch(config, wrapped), manycore::ArgumentTypeError);
    add.launch(config, fresh, ArgumentRules::pycuda);
    zero.copy_to_host(host.data());
    EXPECT_EQ(host, std::vector<std::uint32_t>(4, 0u));
}

TEST(PycudaRules, MatchingArgumentsHaveNoNotes) {
    Module module(kAdd, Device::cpu());
    auto add = module.function("add");
    auto out = Array::zeros({4}, DType::int32, Device::cpu());
    const std::vector<KernelArg> args = {KernelArg(out), KernelArg(out), KernelArg::integer(4)};
    EXPECT_TRUE(add.pycuda_notes(args).empty());
    const std::vector<KernelArg> untyped = {KernelArg::untyped(Array::zeros({16}, DType::uint8,
                                                                            Device::cpu())),
                                            KernelArg(out), KernelArg(std::int32_t{4})};
    EXPECT_TRUE(add.pycuda_notes(untyped).empty());
}

TEST(PycudaRules, ModuleGlobalsAreWhatKernelsRead) {
    Module module(kAdd, Device::cpu());
    Array offset = module.global("offset");
    ASSERT_EQ(offset.nbytes(), sizeof(int));
    const int seven = 7;
    offset.copy_from_host(&seven);
    auto out = Array::zeros({4}, DType::int32, Device::cpu());
    module.function("add")(LaunchConfig{{1}, {32}}, out, out, 4);
    std::vector<int> host(4);
    out.copy_to_host(host.data());
    EXPECT_EQ(host, std::vector<int>(4, 11));
    EXPECT_THROW(module.global("missing"), manycore::KernelNotFound);
}

}  // namespace
