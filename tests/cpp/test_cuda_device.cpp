// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The CUDA backend on a GPU: launches, faults, the memory pool, streams, events, copies, threads, fork.
// Every case skips with the probe's reason where there is no GPU.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "core/source_analysis.hpp"
#include "cuda/context.hpp"
#include "cuda/nvrtc_api.hpp"
#include "cuda/nvrtc_compiler.hpp"
#include "manycore/detail/backend.hpp"
#include "devices.hpp"
#include "manycore/manycore.hpp"

namespace {

using manycore::Array;
using manycore::Device;
using manycore::DType;
using manycore::LaunchConfig;
using manycore::Module;

#define REQUIRE_GPU() MC_REQUIRE_GPU()

const Device gpu = Device(manycore::DeviceKind::cuda, 0);

constexpr const char* kSaxpy = R"(
__global__ void saxpy(int n, float a, const float* __restrict__ x, float* y) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i] + y[i];
}
)";

template <class T>
Array to_gpu(const std::vector<T>& host, DType dtype) {
    return manycore::test::to_device(host, dtype, gpu);
}

using manycore::test::to_host;

TEST(CudaDevice, InfoComesFromTheDriver) {
    REQUIRE_GPU();
    const auto& info = gpu.info();
    EXPECT_FALSE(info.name.empty());
    EXPECT_GE(info.compute_capability_major, 5);
    EXPECT_GT(info.compute_units, 0);
    EXPECT_GT(info.total_memory, std::size_t{1} << 30);
    EXPECT_EQ(info.max_threads_per_block, 1024u);
    EXPECT_EQ(info.max_shared_per_block, 48u * 1024u);
    EXPECT_EQ(info.warp_size, 32u);
    EXPECT_EQ(manycore::devices().at(1), gpu);
    std::printf("cuda:0 = %s, compute capability %d.%d, %d SMs\n", info.name.c_str(),
                info.compute_capability_major, info.compute_capability_minor, info.compute_units);
}

TEST(CudaDevice, SaxpyRuns) {
    REQUIRE_GPU();
    Module module(kSaxpy, gpu);
    auto saxpy = module.function("saxpy");
    EXPECT_FALSE(saxpy.uses_fibers());
    const int n = 100000;
    std::vector<float> hx(n), hy(n, 1.0f);
    std::iota(hx.begin(), hx.end(), 0.0f);
    auto x = to_gpu(hx, DType::float32);
    auto y = to_gpu(hy, DType::float32);
    saxpy(LaunchConfig{{(n + 255) / 256}, {256}}, n, 2.0f, x, y);
    const auto out = to_host<float>(y);
    for (int i = 0; i < n; ++i) ASSERT_EQ(out[i], 2.0f * static_cast<float>(i) + 1.0f) << i;
}

TEST(CudaDevice, ParametersMatchTheCpu) {
    REQUIRE_GPU();
    const std::string source = R"(
        struct Pair { int a; double b; };
        __global__ void mixed(int n, float a, const float* x, uint32_t* c, Pair p, float4 v, char ch,
                              bool f, void* raw, int64_t s) {}
        template <typename T, int N> __global__ void t(T* out, const T* in, T s) {})";
    manycore::ModuleOptions options;
    options.name_expressions = {"t<double, 3>"};
    Module on_gpu(source, gpu, options);
    Module on_cpu(source, Device::cpu(), options);
    for (const char* name : {"mixed", "t<double, 3>"}) {
        const auto& g = on_gpu.function(name).params();
        const auto& c = on_cpu.function(name).params();
        ASSERT_EQ(g.size(), c.size()) << name;
        for (std::size_t i = 0; i < g.size(); ++i) {
            EXPECT_EQ(std::memcmp(&g[i].desc, &c[i].desc, sizeof(mc_param_desc)), 0)
                << name << " parameter " << i;
            EXPECT_EQ(g[i].name, c[i].name);
        }
    }
}

TEST(CudaDevice, ReductionWithSharedMemoryAndShuffles) {
    REQUIRE_GPU();
    Module module(R"(
        __global__ void block_sum(const float* in, float* out, int n) {
            __shared__ float partial[32];
            float v = 0.0f;
            for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x)
                v += in[i];
            for (int o = 16; o > 0; o /= 2) v += __shfl_down_sync(0xffffffffu, v, o);
            if (threadIdx.x % 32 == 0) partial[threadIdx.x / 32] = v;
            __syncthreads();
            if (threadIdx.x < 32) {
                v = threadIdx.x < blockDim.x / 32 ? partial[threadIdx.x] : 0.0f;
                for (int o = 16; o > 0; o /= 2) v += __shfl_down_sync(0xffffffffu, v, o);
                if (threadIdx.x == 0) atomicAdd(out, v);
            }
        })",
                  gpu);
    auto f = module.function("block_sum");
    EXPECT_EQ(f.static_shared_bytes(), 32 * sizeof(float));
    const int n = 1 << 20;
    std::vector<float> ones(n, 1.0f);
    auto in = to_gpu(ones, DType::float32);
    auto out = Array::zeros({1}, DType::float32, gpu);
    f(LaunchConfig{{64}, {256}}, in, out, n);
    EXPECT_EQ(to_host<float>(out)[0], static_cast<float>(n));
}

TEST(CudaDevice, DynamicSharedMemory) {
    REQUIRE_GPU();
    Module module(R"(
        __global__ void reverse(int* data) {
            extern __shared__ int tile[];
            int t = threadIdx.x;
            tile[t] = data[blockIdx.x * blockDim.x + t];
            __syncthreads();
            data[blockIdx.x * blockDim.x + t] = tile[blockDim.x - 1 - t];
        })",
                  gpu);
    std::vector<int> host(512);
    std::iota(host.begin(), host.end(), 0);
    auto data = to_gpu(host, DType::int32);
    module.function("reverse")(LaunchConfig{{2}, {256}, 256 * sizeof(int)}, data);
    const auto out = to_host<int>(data);
    EXPECT_EQ(out[0], 255);
    EXPECT_EQ(out[255], 0);
    EXPECT_EQ(out[256], 511);
}

TEST(CudaDevice, TemplateKernels) {
    REQUIRE_GPU();
    manycore::ModuleOptions options;
    options.name_expressions = {"fill<int, 7>", "fill<double, 2>"};
    Module module(R"(
        template <typename T, int V>
        __global__ void fill(T* out, int n) {
            int i = blockIdx.x * blockDim.x + threadIdx.x;
            if (i < n) out[i] = T(V);
        })",
                  gpu, options);
    auto ints = Array::zeros({10}, DType::int32, gpu);
    auto doubles = Array::zeros({10}, DType::float64, gpu);
    module.function("fill<int, 7>")(LaunchConfig{{1}, {32}}, ints, 10);
    module.function("fill<double, 2>")(LaunchConfig{{1}, {32}}, doubles, 10);
    EXPECT_EQ(to_host<int>(ints)[9], 7);
    EXPECT_EQ(to_host<double>(doubles)[9], 2.0);
}

TEST(CudaDevice, PrintfReachesStdout) {
    REQUIRE_GPU();
    Module module(R"(__global__ void hello(int v) { if (threadIdx.x == 3) printf("hello from %d: %d\n", threadIdx.x, v); })", gpu);
    testing::internal::CaptureStdout();
    module.function("hello")(LaunchConfig{{1}, {32}}, 42);
    manycore::synchronize(gpu);
    std::fflush(stdout);
    const auto out = testing::internal::GetCapturedStdout();
    EXPECT_NE(out.find("hello from 3: 42"), std::string::npos) << out;
}

// A device fault destroys the context for the rest of the process: each runs in a child process
// started afresh (gtest's threadsafe death tests re-execute the binary).
void expect_fault(const char* source, const char* kernel, const char* error) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            try {
                Module module(source, gpu);
                auto out = Array::zeros({4}, DType::int32, gpu);
                module.function(kernel)(LaunchConfig{{1}, {1}}, out);
                manycore::synchronize(gpu);
                std::fprintf(stderr, "no fault reported\n");
                std::exit(1);
            } catch (const manycore::KernelFault& e) {
                std::fprintf(stderr, "%s\n", e.what());
                const std::string m = e.what();
                const bool ok = e.kernel() == kernel && e.context_lost() &&
                                m.find(kernel) != std::string::npos &&
                                std::regex_search(m, std::regex(error)) &&
                                m.find("the CUDA context of cuda:0 is lost after this fault; "
                                       "restart the process") != std::string::npos;
                // Later calls say the context is lost instead of crashing.
                try {
                    (void)Array::empty({4}, DType::int32, gpu);
                    manycore::synchronize(gpu);
                    std::exit(3);
                } catch (const manycore::KernelFault& later) {
                    std::fprintf(stderr, "later: %s\n", later.what());
                }
                std::exit(ok ? 0 : 2);
            }
        },
        testing::ExitedWithCode(0), error);
}

TEST(CudaDevice, NullWriteIsKernelFault) {
    REQUIRE_GPU();
    // Hopper reports a store to address 0 as CUDA_ERROR_LAUNCH_FAILED, older GPUs as
    // CUDA_ERROR_ILLEGAL_ADDRESS; both are sticky faults.
    expect_fault("__global__ void null_write(int* out) { int* p = nullptr; *p = out[0] + 1; }",
                 "null_write", "CUDA_ERROR_(ILLEGAL_ADDRESS|LAUNCH_FAILED)");
}

TEST(CudaDevice, OutOfBoundsWriteIsKernelFault) {
    REQUIRE_GPU();
    expect_fault("__global__ void far_write(int* out) { out[1ll << 40] = 1; }", "far_write",
                 "CUDA_ERROR_(ILLEGAL_ADDRESS|LAUNCH_FAILED)");
}

TEST(CudaDevice, FailedAssertIsKernelFault) {
    REQUIRE_GPU();
    expect_fault("#include <cassert>\n__global__ void bad_assert(int* out) { assert(out[0] == 42); }",
                 "bad_assert", "CUDA_ERROR_ASSERT");
}

TEST(CudaDevice, PoolReusesBlocks) {
    REQUIRE_GPU();
    (void)manycore::free_all_blocks(gpu);
    const auto before = manycore::memory_pool_stats(gpu);
    void* first = nullptr;
    {
        auto a = Array::empty({1000}, DType::float32, gpu);
        first = a.data();
        const auto during = manycore::memory_pool_stats(gpu);
        EXPECT_EQ(during.used_bytes, before.used_bytes + 4096);
    }
    const auto after_free = manycore::memory_pool_stats(gpu);
    EXPECT_EQ(after_free.used_bytes, before.used_bytes);
    EXPECT_EQ(after_free.held_bytes, before.held_bytes + 4096);
    EXPECT_GE(after_free.cached_blocks, 1u);
    {
        auto b = Array::empty({1000}, DType::float32, gpu);
        EXPECT_EQ(b.data(), first);  // the same block, from the cache
    }
    EXPECT_GE(manycore::free_all_blocks(gpu), 4096u);
    const auto emptied = manycore::memory_pool_stats(gpu);
    EXPECT_EQ(emptied.cached_blocks, 0u);
    EXPECT_EQ(emptied.held_bytes, emptied.used_bytes);
}

TEST(CudaDevice, OutOfMemoryNamesTheBytes) {
    REQUIRE_GPU();
    const std::int64_t pib = std::int64_t{1} << 50;
    try {
        (void)Array::empty({pib}, DType::uint8, gpu);
        FAIL() << "expected OutOfMemory";
    } catch (const manycore::OutOfMemory& e) {
        EXPECT_EQ(e.requested(), static_cast<std::size_t>(pib));
        EXPECT_GT(e.free_bytes(), 0u);
        const std::string m = e.what();
        EXPECT_NE(m.find("1.0 PiB"), std::string::npos) << m;
        EXPECT_NE(m.find("cuda:0"), std::string::npos) << m;
        EXPECT_NE(m.find("free_all_blocks"), std::string::npos) << m;
    }
    // The process goes on working.
    auto small = Array::zeros({4}, DType::int32, gpu);
    EXPECT_EQ(to_host<int>(small)[3], 0);
}

constexpr const char* kSpin = R"(
__global__ void spin(long long cycles, int* out) {
    long long start = clock64();
    while (clock64() - start < cycles) {}
    out[0] = 1;
})";

TEST(CudaDevice, StreamsAndEvents) {
    REQUIRE_GPU();
    Module module(kSpin, gpu);
    manycore::Stream stream(gpu);
    EXPECT_NE(stream.handle(), nullptr);
    manycore::Event start(gpu), end(gpu);
    auto out = Array::zeros({1}, DType::int32, gpu);
    start.record(stream);
    LaunchConfig config{{1}, {1}};
    config.stream = stream.handle();
    module.function("spin")(config, 10'000'000LL, out);
    end.record(stream);
    end.synchronize();
    EXPECT_TRUE(end.query());
    EXPECT_TRUE(stream.query());
    const float ms = start.elapsed_time(end);
    EXPECT_GT(ms, 0.0f);
    std::printf("10M cycles took %.3f ms\n", ms);
    stream.synchronize();
    EXPECT_EQ(to_host<int>(out)[0], 1);
    // An untimed event cannot be timed.
    manycore::Event light(gpu, false);
    light.record(stream);
    EXPECT_THROW((void)light.elapsed_time(end), manycore::InvalidArgument);
    auto other = manycore::Stream(gpu);
    other.wait(end);
    other.synchronize();
}

TEST(CudaDevice, AsyncCopiesWithPinnedMemory) {
    REQUIRE_GPU();
    const int n = 1 << 20;
    auto host = manycore::pinned_empty({n}, DType::float32);
    EXPECT_TRUE(manycore::is_pinned(host));
    EXPECT_EQ(host.device(), Device::cpu());
    auto* h = static_cast<float*>(host.data());
    for (int i = 0; i < n; ++i) h[i] = static_cast<float>(i);
    auto x = Array::empty({n}, DType::float32, gpu);
    auto y = Array::zeros({n}, DType::float32, gpu);
    manycore::Stream stream(gpu);
    manycore::copy(x, host, &stream);
    Module module(kSaxpy, gpu);
    LaunchConfig config{{(n + 255) / 256}, {256}};
    config.stream = stream.handle();
    module.function("saxpy")(config, n, 3.0f, x, y);
    auto back = manycore::pinned_empty({n}, DType::float32);
    manycore::copy(back, y, &stream);
    stream.synchronize();
    const auto* r = static_cast<const float*>(back.data());
    for (int i = 0; i < n; i += 4097) ASSERT_EQ(r[i], 3.0f * static_cast<float>(i)) << i;
    // Device to device, synchronously.
    auto z = Array::empty({n}, DType::float32, gpu);
    manycore::copy(z, y);
    EXPECT_EQ(to_host<float>(z)[n - 1], 3.0f * static_cast<float>(n - 1));
}

TEST(CudaDevice, TwoThreadsLaunchAtOnce) {
    REQUIRE_GPU();
    Module module(kSaxpy, gpu);
    auto saxpy = module.function("saxpy");
    std::atomic<int> failures{0};
    auto work = [&](float a) {
        try {
            const int n = 4096;
            std::vector<float> hx(n, 1.0f), hy(n, 0.0f);
            auto x = to_gpu(hx, DType::float32);
            auto y = to_gpu(hy, DType::float32);
            for (int i = 0; i < 200; ++i) saxpy(LaunchConfig{{n / 256}, {256}}, n, a, x, y);
            const auto out = to_host<float>(y);
            for (float v : out) {
                if (v != 200.0f * a) ++failures;
            }
        } catch (...) {
            ++failures;
        }
    };
    std::thread t1(work, 1.0f), t2(work, 2.0f);
    t1.join();
    t2.join();
    EXPECT_EQ(failures.load(), 0);
}

TEST(CudaDevice, ForkedChildIsRefused) {
    REQUIRE_GPU();
    (void)Array::zeros({4}, DType::int32, gpu);  // CUDA is initialised now
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        int code = 1;
        try {
            (void)Array::empty({4}, DType::int32, gpu);
        } catch (const manycore::DeviceUnavailable& e) {
            code = std::strstr(e.what(), "'spawn'") ? 0 : 2;
        } catch (...) {
            code = 3;
        }
        // The CPU still works in the child, and devices() lists only it.
        if (code == 0 && manycore::devices().size() != 1) code = 4;
        ::_exit(code);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(CudaDevice, CachedModuleLoadsFast) {
    REQUIRE_GPU();
    // A source of its own, so the first build compiles or finds a disk entry; the second build
    // goes past the in-process registry straight to the backend, so it loads from the disk cache.
    const std::string source = std::string(kSaxpy) + "// cached-load test\n";
    auto analysis = manycore::detail::analyse_source(source, {});
    manycore::detail::ModuleSource m;
    m.user_source = source;
    m.prepared_source = analysis.prepared_source;
    m.kernels = analysis.kernels;
    const auto& backend = manycore::detail::backend(manycore::DeviceKind::cuda);
    auto first = backend.build(0, m);
    double best = 1e9;
    for (int i = 0; i < 5; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        auto again = backend.build(0, m);
        const auto t1 = std::chrono::steady_clock::now();
        ASSERT_TRUE(again->from_cache());
        best = std::min(best, std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    std::printf("cached module load: %.3f ms (goal: 2 ms)\n", best);
    EXPECT_LT(best, 2.0);
}

TEST(CudaDevice, LaunchLatency) {
    REQUIRE_GPU();
    // Host time per launch, in batches short enough that the GPU's queue never fills (a full
    // queue would time the GPU instead), beside the raw driver call on the same kernel.
    const std::string source = "__global__ void empty(int n, float* p) {}";
    Module module(source, gpu);
    auto f = module.function("empty");
    auto p = Array::empty({1}, DType::float32, gpu);
    const LaunchConfig config{{1}, {32}};
    constexpr int kBatch = 256, kBatches = 40;
    double ours = 0;
    for (int b = 0; b < kBatches; ++b) {
        manycore::synchronize(gpu);
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < kBatch; ++i) f(config, 1, p);
        ours += std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    }
    manycore::synchronize(gpu);

    auto analysis = manycore::detail::analyse_source(source, {});
    manycore::detail::ModuleSource m;
    m.user_source = source;
    m.kernels = analysis.kernels;
    const auto& nvrtc = manycore::cuda::nvrtc();
    auto& state = manycore::cuda::device_state(0);
    const auto compiled = manycore::cuda::compile_program(
        nvrtc, m, manycore::cuda::translation_unit(m),
        manycore::cuda::choose_target(nvrtc, state.compute_capability(), "cuda:0"), "test");
    const auto& api = state.api();
    manycore::cuda::ScopedContext scope(state);
    manycore::cuda::CUmodule raw_module = nullptr;
    manycore::cuda::CUfunction raw = nullptr;
    ASSERT_EQ(api.cuModuleLoadDataEx(&raw_module, compiled.image.data(), 0, nullptr, nullptr), 0);
    ASSERT_EQ(api.cuModuleGetFunction(&raw, raw_module, compiled.lowered_names[0].c_str()), 0);
    int n = 1;
    void* ptr = p.data();
    void* args[] = {&n, &ptr};
    double driver = 0;
    for (int b = 0; b < kBatches; ++b) {
        ASSERT_EQ(api.cuCtxSynchronize(), 0);
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < kBatch; ++i) {
            (void)api.cuLaunchKernel(raw, 1, 1, 1, 32, 1, 1, 0, nullptr, args, nullptr);
        }
        driver += std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    }
    ASSERT_EQ(api.cuCtxSynchronize(), 0);
    (void)api.cuModuleUnload(raw_module);
    std::printf("C++ launch: %.2f us each (cuLaunchKernel alone: %.2f us)\n",
                ours / (kBatch * kBatches), driver / (kBatch * kBatches));
}

}  // namespace
