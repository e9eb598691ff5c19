// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// What device-parametrised suites share: the devices they run on, the instance names ctest
// labels them by, and arrays that round-trip through a device.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "manycore/array.hpp"
#include "manycore/detail/backend.hpp"
#include "manycore/device.hpp"

namespace manycore::test {

/// The instance suffix of a device: "cpu", "cuda_0". tests/cpp/CMakeLists.txt labels each
/// instance by it (`cpu` or `gpu`), so `ctest -L gpu` selects every GPU instance.
inline std::string device_test_name(const ::testing::TestParamInfo<Device>& info) {
    std::string name = info.param.str();
    for (auto& c : name) {
        if (c == ':') c = '_';
    }
    return name;
}

/// True under MANYCORE_REQUIRE_GPU=1 (tools/run_gpu_tests.sh): a missing GPU must then fail
/// the GPU tests rather than skip them.
inline bool gpu_required() {
    const char* v = std::getenv("MANYCORE_REQUIRE_GPU");
    return v != nullptr && std::string(v) == "1";
}

/// A new array on `device` holding `host`'s elements.
template <class T>
Array to_device(const std::vector<T>& host, DType dtype, const Device& device) {
    auto a = Array::empty({static_cast<std::int64_t>(host.size())}, dtype, device);
    a.copy_from_host(host.data());
    return a;
}

/// The elements of contiguous `a`, copied to the host.
template <class T>
std::vector<T> to_host(const Array& a) {
    std::vector<T> host(a.size());
    a.copy_to_host(host.data());
    return host;
}

}  // namespace manycore::test

/// Skips the test, with the CUDA backend's reason, where there is no GPU; fails it instead
/// under MANYCORE_REQUIRE_GPU=1.
#define MC_REQUIRE_GPU()                                                                    \
    do {                                                                                    \
        const auto probe = manycore::detail::backend(manycore::DeviceKind::cuda).probe();   \
        if (!probe.available) {                                                             \
            if (manycore::test::gpu_required()) FAIL() << "no GPU: " << probe.reason;       \
            GTEST_SKIP() << probe.reason;                                                   \
        }                                                                                   \
    } while (0)
