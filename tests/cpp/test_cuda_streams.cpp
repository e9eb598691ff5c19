// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Streams, events, copies and pool queries through the public API, the same on every device.
#include <gtest/gtest.h>

#include <numeric>
#include <string>
#include <vector>

#include "manycore/manycore.hpp"
#include "manycore/memory.hpp"
#include "manycore/stream.hpp"

namespace {

using manycore::Array;
using manycore::Device;
using manycore::DType;
using manycore::LaunchConfig;

class StreamTest : public testing::TestWithParam<Device> {};

std::string device_name(const testing::TestParamInfo<Device>& info) {
    std::string name = info.param.str();
    for (auto& c : name) {
        if (c == ':') c = '_';
    }
    return name;
}

INSTANTIATE_TEST_SUITE_P(Devices, StreamTest, testing::ValuesIn(manycore::devices()), device_name);

constexpr const char* kScale = R"(
__global__ void scale(int n, float a, float* x) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] *= a;
})";

TEST_P(StreamTest, LaunchOnAStreamThenSynchronize) {
    const Device device = GetParam();
    manycore::Module module(kScale, device);
    manycore::Stream stream(device);
    EXPECT_EQ(stream.device(), device);
    EXPECT_FALSE(stream == manycore::Stream::default_stream(device));
    const int n = 1000;
    std::vector<float> host(n);
    std::iota(host.begin(), host.end(), 0.0f);
    auto x = Array::empty({n}, DType::float32, device);
    x.copy_from_host(host.data());
    LaunchConfig config{{(n + 127) / 128}, {128}};
    config.stream = stream.handle();
    module.function("scale")(config, n, 2.0f, x);
    stream.synchronize();
    EXPECT_TRUE(stream.query());
    x.copy_to_host(host.data());
    EXPECT_EQ(host[999], 1998.0f);
}

TEST_P(StreamTest, EventsTimeTheWorkBetweenThem) {
    const Device device = GetParam();
    manycore::Event start(device), end(device);
    EXPECT_TRUE(start.query());  // nothing recorded yet
    EXPECT_THROW((void)start.elapsed_time(end), manycore::InvalidArgument);
    manycore::Stream stream(device);
    start.record(stream);
    manycore::Module module(kScale, device);
    auto x = Array::zeros({4096}, DType::float32, device);
    LaunchConfig config{{32}, {128}};
    config.stream = stream.handle();
    module.function("scale")(config, 4096, 1.5f, x);
    end.record(stream);
    end.synchronize();
    EXPECT_TRUE(end.query());
    EXPECT_GE(start.elapsed_time(end), 0.0f);
    manycore::Stream other(device);
    other.wait(end);
    other.synchronize();
    manycore::synchronize(device);
}

TEST_P(StreamTest, CopiesBetweenDevicesAndPinnedMemory) {
    const Device device = GetParam();
    const int n = 256;
    auto pinned = manycore::pinned_empty({n}, DType::int32);
    EXPECT_EQ(pinned.device(), Device::cpu());
    auto* p = static_cast<int*>(pinned.data());
    for (int i = 0; i < n; ++i) p[i] = i * 3;
    auto on_device = Array::empty({n}, DType::int32, device);
    manycore::copy(on_device, pinned);
    auto twin = Array::empty({n}, DType::int32, device);
    manycore::Stream stream(device);
    manycore::copy(twin, on_device, &stream);
    auto back = manycore::pinned_empty({n}, DType::int32);
    manycore::copy(back, twin, &stream);
    stream.synchronize();
    EXPECT_EQ(static_cast<int*>(back.data())[n - 1], (n - 1) * 3);
    auto wrong = Array::empty({n + 1}, DType::int32, device);
    EXPECT_THROW(manycore::copy(wrong, pinned), manycore::InvalidArgument);
}

TEST_P(StreamTest, PoolQueries) {
    const Device device = GetParam();
    auto a = Array::empty({1000}, DType::float64, device);
    const auto stats = manycore::memory_pool_stats(device);
    if (device.kind() == manycore::DeviceKind::cpu) {
        // The CPU keeps only large blocks (4 MiB and more) for reuse.
        (void)manycore::free_all_blocks(device);
        const auto small = manycore::memory_pool_stats(device);
        EXPECT_EQ(small.held_bytes, small.used_bytes);
        {
            auto large = Array::empty({1 << 20}, DType::float64, device);
            const auto during = manycore::memory_pool_stats(device);
            EXPECT_GE(during.used_bytes, small.used_bytes + (std::size_t{8} << 20));
        }
        const auto after = manycore::memory_pool_stats(device);
        EXPECT_GE(after.cached_blocks, 1u);
        EXPECT_GE(manycore::free_all_blocks(device), std::size_t{8} << 20);
        EXPECT_EQ(manycore::free_all_blocks(device), 0u);
    } else {
        EXPECT_GE(stats.used_bytes, 8000u);
        EXPECT_GE(stats.held_bytes, stats.used_bytes);
    }
}

}  // namespace
