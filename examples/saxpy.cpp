// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The C++ front of manycore: compile a CUDA kernel at run time and run it on every CPU core.
#include <cstdio>
#include <vector>

#include "manycore/manycore.hpp"

int main() {
    const char* source = R"(
        __global__ void saxpy(int n, float a, const float* __restrict__ x, float* y) {
            int i = blockIdx.x * blockDim.x + threadIdx.x;
            if (i < n) y[i] = a * x[i] + y[i];
        }
    )";
    try {
        manycore::Module module(source, manycore::Device::cpu());
        auto saxpy = module.function("saxpy");

        const int n = 1 << 20;
        std::vector<float> x(n, 1.0f), y(n, 2.0f);
        const manycore::LaunchConfig config{{(n + 255) / 256}, {256}};
        saxpy(config, n, 3.0f, x.data(), y.data());

        std::printf("%s on %s: y[0] = %g (expected 5)\n", saxpy.signature().c_str(),
                    manycore::Device::cpu().info().name.c_str(), y[0]);
        return y[0] == 5.0f && y[n - 1] == 5.0f ? 0 : 1;
    } catch (const manycore::Error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}
