// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The CUDA backend without a GPU: NVRTC compiles, parameter tables, headers, loading and its errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/source_analysis.hpp"
#include "cuda/cuda_module.hpp"
#include "cuda/driver_api.hpp"
#include "cuda/memory_pool.hpp"
#include "cuda/nvrtc_api.hpp"
#include "cuda/nvrtc_compiler.hpp"
#include "cuda/nvrtc_identity.hpp"
#include "manycore/manycore.hpp"

namespace {

using manycore::cuda::NvrtcApi;
using manycore::cuda::NvrtcSearch;

// NVRTC as this process finds it; the tests that need it skip (with the reason) without it.
const NvrtcApi* nvrtc_or_skip(std::string* why) {
    static NvrtcApi api;
    static const std::string reason = manycore::cuda::load_nvrtc(NvrtcSearch::from_config(), api);
    *why = reason;
    return reason.empty() ? &api : nullptr;
}

#define REQUIRE_NVRTC(api)                                     \
    std::string nvrtc_reason;                                  \
    const NvrtcApi* api = nvrtc_or_skip(&nvrtc_reason);        \
    if (api == nullptr) GTEST_SKIP() << nvrtc_reason

manycore::detail::ModuleSource module_source(const std::string& source,
                                             std::vector<std::string> names = {},
                                             std::vector<std::string> options = {}) {
    auto analysis = manycore::detail::analyse_source(source, names);
    manycore::detail::ModuleSource m;
    m.user_source = source;
    m.prepared_source = analysis.prepared_source;
    m.kernels = analysis.kernels;
    m.options.name_expressions = std::move(names);
    m.options.compiler_options = std::move(options);
    return m;
}

manycore::cuda::CompiledProgram compile(const NvrtcApi& api, const manycore::detail::ModuleSource& m,
                                        int cc = 90) {
    const auto target = manycore::cuda::choose_target(api, cc, "cuda:0");
    return manycore::cuda::compile_program(api, m, manycore::cuda::translation_unit(m), target,
                                           "test");
}

constexpr const char* kSaxpy = R"(
__global__ void saxpy(int n, float a, const float* __restrict__ x, float* y) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i] + y[i];
}
)";

constexpr const char* kReduction = R"(
__global__ void block_sum(const float* in, float* out, int n) {
    extern __shared__ float partial[];
    float v = 0.0f;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x) v += in[i];
    for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
    if (threadIdx.x % warpSize == 0) partial[threadIdx.x / warpSize] = v;
    __syncthreads();
    if (threadIdx.x < warpSize) {
        v = threadIdx.x < blockDim.x / warpSize ? partial[threadIdx.x] : 0.0f;
        for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
        if (threadIdx.x == 0) atomicAdd(out, v);
    }
}
)";

TEST(CudaNvrtc, LoadsFromTheUsualPlaces) {
    REQUIRE_NVRTC(api);
    EXPECT_GE(api->major, 12);
    EXPECT_FALSE(api->archs.empty());
    EXPECT_FALSE(api->path.empty());
}

TEST(CudaNvrtc, TargetIsCubinForKnownArchitecturesElsePtx) {
    REQUIRE_NVRTC(api);
    const int newest = api->archs.back();
    const auto exact = manycore::cuda::choose_target(*api, newest, "cuda:0");
    EXPECT_TRUE(exact.cubin);
    EXPECT_EQ(exact.option, "--gpu-architecture=sm_" + std::to_string(newest));
    // A device newer than this NVRTC knows: PTX for the newest architecture, JIT-compiled later.
    const auto newer = manycore::cuda::choose_target(*api, newest + 5, "cuda:0");
    EXPECT_FALSE(newer.cubin);
    EXPECT_EQ(newer.arch, newest);
    EXPECT_EQ(newer.text(), "compute_" + std::to_string(newest));
    EXPECT_THROW((void)manycore::cuda::choose_target(*api, 10, "cuda:0"), manycore::DeviceUnavailable);
}

TEST(CudaNvrtc, SaxpyCompilesToCubinAndToPtx) {
    REQUIRE_NVRTC(api);
    const auto m = module_source(kSaxpy);
    const auto cubin = compile(*api, m);
    ASSERT_GE(cubin.image.size(), 4u);
    EXPECT_EQ(std::memcmp(cubin.image.data(), "\x7f" "ELF", 4), 0);
    ASSERT_EQ(cubin.lowered_names.size(), 1u);
    EXPECT_EQ(cubin.lowered_names[0], "_Z5saxpyifPKfPf");

    const auto ptx = compile(*api, m, api->archs.back() + 5);  // forces PTX
    ASSERT_FALSE(ptx.image.empty());
    EXPECT_EQ(ptx.image.back(), '\0');
    EXPECT_NE(std::string(ptx.image.data()).find(".entry _Z5saxpyifPKfPf"), std::string::npos);
}

TEST(CudaNvrtc, SharedMemoryReductionAndTemplatesCompile) {
    REQUIRE_NVRTC(api);
    const auto reduction = compile(*api, module_source(kReduction));
    EXPECT_EQ(reduction.lowered_names.at(0), "_Z9block_sumPKfPfi");
    const auto templates = compile(*api, module_source(R"(
        template <typename T, int V>
        __global__ void fill(T* out, int n) {
            int i = blockIdx.x * blockDim.x + threadIdx.x;
            if (i < n) out[i] = T(V);
        })", {"fill<int, 7>", "fill<double, 2>"}));
    ASSERT_EQ(templates.lowered_names.size(), 2u);
    EXPECT_EQ(templates.lowered_names[0], "_Z4fillIiLi7EEvPT_i");
    EXPECT_EQ(templates.lowered_names[1], "_Z4fillIdLi2EEvPT_i");
}

// The bytes NVRTC put in `symbol`'s initialiser in a PTX listing (zero-filled to its size).
std::vector<unsigned char> ptx_global_bytes(const std::string& ptx, const std::string& symbol) {
    const auto at = ptx.find(" " + symbol + "[");
    if (at == std::string::npos) return {};
    const auto open = at + symbol.size() + 2;
    const std::size_t size = std::stoul(ptx.substr(open));
    std::vector<unsigned char> bytes(size, 0);
    const auto line_end = ptx.find('\n', at);
    const auto brace = ptx.find('{', at);
    if (brace == std::string::npos || brace > line_end) return bytes;
    std::size_t pos = brace + 1, i = 0;
    while (i < size) {
        std::size_t used = 0;
        bytes[i++] = static_cast<unsigned char>(std::stoul(ptx.substr(pos), &used));
        pos += used;
        while (pos < ptx.size() && (ptx[pos] == ' ' || ptx[pos] == ',')) ++pos;
        if (ptx[pos] == '}') break;
    }
    return bytes;
}

TEST(CudaNvrtc, ParameterTablesMatchTheCpuPrelude) {
    REQUIRE_NVRTC(api);
    const std::string source = R"(
        struct Pair { int a; double b; };
        enum Mode : short { A, B };
        __global__ void mixed(int n, float a, const float* x, uint32_t* counts, Pair p, float4 v,
                              const int4* packed, char c, bool flag, Mode mode, void* raw,
                              unsigned long long big, int64_t s64, const double2* d2) {}
        __global__ void none() {}
        template <typename T, int N>
        __global__ void templated(T* out, const T* in, T scale) {}
    )";
    const std::vector<std::string> names = {"templated<float, 3>", "templated<uint8_t, 1>"};
    const auto m = module_source(source, names);
    const auto ptx = compile(*api, m, api->archs.back() + 5);
    const std::string text(ptx.image.data());

    manycore::ModuleOptions options;
    options.name_expressions = names;
    manycore::Module cpu(source, manycore::Device::cpu(), options);
    ASSERT_EQ(m.kernels.size(), 4u);
    for (std::size_t i = 0; i < m.kernels.size(); ++i) {
        SCOPED_TRACE(m.kernels[i].name);
        const auto bytes = ptx_global_bytes(text, "__mc_params_" + std::to_string(i));
        ASSERT_GE(bytes.size(), 8u) << "no parameter table in the PTX";
        std::uint32_t count = 0;
        std::memcpy(&count, bytes.data(), 4);
        const auto& expected = cpu.function(m.kernels[i].name).params();
        ASSERT_EQ(count, expected.size());
        ASSERT_GE(bytes.size(), 8 + count * sizeof(mc_param_desc));
        for (std::uint32_t p = 0; p < count; ++p) {
            SCOPED_TRACE("parameter " + std::to_string(p));
            mc_param_desc gpu{};
            std::memcpy(&gpu, bytes.data() + 8 + p * sizeof(mc_param_desc), sizeof gpu);
            const auto& want = expected[p].desc;
            EXPECT_EQ(gpu.kind, want.kind);
            EXPECT_EQ(gpu.dtype, want.dtype);
            EXPECT_EQ(gpu.pointee_const, want.pointee_const);
            EXPECT_EQ(gpu.lanes, want.lanes);
            EXPECT_EQ(gpu.lane_dtype, want.lane_dtype);
            EXPECT_EQ(gpu.size, want.size);
            EXPECT_EQ(gpu.align, want.align);
            EXPECT_EQ(gpu.elem_size, want.elem_size);
        }
    }
}

TEST(CudaNvrtc, SyntaxErrorIsCompileErrorWithTheUsersLine) {
    REQUIRE_NVRTC(api);
    const std::string source = "__global__ void k(int* p) {\n  p[0] = 1;\n  p[1] = undefined_name;\n}\n";
    try {
        (void)compile(*api, module_source(source, {}, {"-DUSER_OPTION=1"}));
        FAIL() << "expected a CompileError";
    } catch (const manycore::CompileError& e) {
        EXPECT_NE(e.log().find("kernel.cu:3:"), std::string::npos) << e.log();
        EXPECT_NE(e.log().find("undefined_name"), std::string::npos) << e.log();
        EXPECT_NE(std::string(e.what()).find("kernel.cu:3:"), std::string::npos) << e.what();
        EXPECT_EQ(e.source(), source);
        EXPECT_EQ(e.options(), std::vector<std::string>{"-DUSER_OPTION=1"});
    }
}

TEST(CudaNvrtc, UnknownOptionIsCompileError) {
    REQUIRE_NVRTC(api);
    EXPECT_THROW((void)compile(*api, module_source(kSaxpy, {}, {"-march=native"})),
                 manycore::CompileError);
}

TEST(CudaNvrtc, StandardHeadersCompile) {
    REQUIRE_NVRTC(api);
    const auto compiled = compile(*api, module_source(R"(
        #include <cassert>
        #include <cfloat>
        #include <climits>
        #include <cmath>
        #include <cstddef>
        #include <cstdint>
        #include <cstdio>
        #include <cstdlib>
        #include <cstring>
        #include <initializer_list>
        #include <limits>
        #include <type_traits>
        #include <utility>
        #include <assert.h>
        #include <float.h>
        #include <limits.h>
        #include <math.h>
        #include <stddef.h>
        #include <stdint.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <cuda_runtime.h>
        #include <cuda.h>
        #include <device_launch_parameters.h>
        #include <math_constants.h>
        static_assert(std::is_same_v<std::int64_t, long>, "int64_t is long, as on the CPU");
        static_assert(std::numeric_limits<int>::max() == INT_MAX, "");
        static_assert(std::numeric_limits<unsigned char>::max() == UCHAR_MAX, "");
        static_assert(std::numeric_limits<long long>::min() == LLONG_MIN, "");
        static_assert(std::is_same_v<std::make_index_sequence<3>, std::index_sequence<0, 1, 2>>, "");
        static_assert(std::is_unsigned_v<std::make_unsigned_t<int>>, "");
        static_assert(sizeof(std::size_t) == 8 && SIZE_MAX == UINT64_MAX, "");
        template <class T, std::size_t... I>
        __device__ T sum(const T* v, std::index_sequence<I...>) { return (v[I] + ...); }
        __global__ void k(float* out, std::uint32_t n, double* d) {
            float v[3] = {1.0f, 2.0f, FLT_EPSILON};
            float a = std::sqrt(2.0f) + sinf(M_PI) + sum(v, std::make_index_sequence<3>{});
            float b = std::numeric_limits<float>::infinity() > FLT_MAX ? CUDART_PI_F : 0.0f;
            std::swap(a, b);
            int m = std::abs(-3) + INT32_MAX / INT_MAX;
            assert(n < UINT32_MAX);
            if (n == 0) printf("%f %d\n", a, m);
            d[0] = std::numeric_limits<double>::epsilon() + DBL_MAX * 0.0 + CUDART_NAN;
            std::memset(out, 0, 4);
            out[threadIdx.x] = a + b + (isnan(NAN) ? 1.0f : 0.0f) + std::pair<int, float>{1, 2.0f}.second;
        }
    )"));
    EXPECT_FALSE(compiled.image.empty());
}

TEST(CudaNvrtc, NdebugDisablesAssert) {
    REQUIRE_NVRTC(api);
    const auto compiled = compile(*api, module_source(R"(
        #define NDEBUG
        #include <cassert>
        __global__ void k(int n) { assert(undefined_when_asserts_are_on); }
    )"));
    EXPECT_FALSE(compiled.image.empty());
}

TEST(CudaNvrtc, MissingNvrtcNamesWhatWasTried) {
    NvrtcApi api;
    NvrtcSearch explicit_path;
    explicit_path.explicit_path = "/nonexistent/libnvrtc.so.12";
    const auto why = manycore::cuda::load_nvrtc(explicit_path, api);
    EXPECT_NE(why.find("/nonexistent/libnvrtc.so.12"), std::string::npos) << why;
    EXPECT_NE(why.find("MANYCORE_NVRTC_PATH"), std::string::npos) << why;

    NvrtcSearch nowhere;  // no sonames: the loader is not asked
    nowhere.folders = {"/nonexistent/cuda/lib64"};
    const auto why2 = manycore::cuda::load_nvrtc(nowhere, api);
    EXPECT_NE(why2.find("not found"), std::string::npos) << why2;
    EXPECT_NE(why2.find("/nonexistent/cuda/lib64/libnvrtc.so.13"), std::string::npos) << why2;
    EXPECT_NE(why2.find("/nonexistent/cuda/lib64/libnvrtc.so.12"), std::string::npos) << why2;
}

TEST(CudaNvrtc, MissingNvrtcIsDeviceUnavailable) {
    // In a fresh process (the singleton loads once), with MANYCORE_NVRTC_PATH set before use.
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            ::setenv("MANYCORE_NVRTC_PATH", "/nonexistent/libnvrtc.so", 1);
            try {
                (void)manycore::cuda::nvrtc();
            } catch (const manycore::DeviceUnavailable& e) {
                std::fprintf(stderr, "%s\n", e.what());
                std::exit(std::strstr(e.what(), "/nonexistent/libnvrtc.so") ? 0 : 2);
            }
            std::exit(1);
        },
        testing::ExitedWithCode(0), "MANYCORE_NVRTC_PATH");
}

TEST(CudaNvrtc, LogsAreRewrittenToFileColonLine) {
    EXPECT_EQ(manycore::cuda::normalise_log("kernel.cu(3): error: x\nplain line\n"
                                            "/tmp/a b(4): no\nstdint.h(12): warning: y"),
              "kernel.cu:3: error: x\nplain line\n/tmp/a b(4): no\nstdint.h:12: warning: y");
}

TEST(CudaPayload, RoundTripsAndRejectsGarbage) {
    manycore::cuda::ModulePayload p;
    p.cubin = false;
    mc_param_desc d{};
    d.kind = MC_PARAM_POINTER;
    d.dtype = MC_DT_FLOAT32;
    d.size = 8;
    p.kernels.push_back({"saxpy", "_Z5saxpyifPKfPf", {d, d}});
    p.kernels.push_back({"fill<int, 7>", "_Z4fillIiLi7EEvPT_i", {}});
    p.image = {'.', 'v', 'e', 'r', '\0'};
    const auto bytes = p.serialise();
    const auto back = manycore::cuda::ModulePayload::parse(bytes.data(), bytes.size(), "entry");
    EXPECT_FALSE(back.cubin);
    ASSERT_EQ(back.kernels.size(), 2u);
    EXPECT_EQ(back.kernels[1].name, "fill<int, 7>");
    EXPECT_EQ(back.kernels[0].lowered, "_Z5saxpyifPKfPf");
    ASSERT_EQ(back.kernels[0].params.size(), 2u);
    EXPECT_EQ(back.kernels[0].params[1].dtype, MC_DT_FLOAT32);
    EXPECT_EQ(back.image, p.image);
    auto truncated = bytes;
    truncated.resize(bytes.size() - 3);
    EXPECT_THROW((void)manycore::cuda::ModulePayload::parse(truncated.data(), truncated.size(), "e"),
                 manycore::Error);
    try {
        std::vector<std::byte> junk(64, std::byte{7});
        (void)manycore::cuda::ModulePayload::parse(junk.data(), junk.size(), "/cache/x.cubin");
        FAIL();
    } catch (const manycore::Error& e) {
        EXPECT_NE(std::string(e.what()).find("manycore cache clear"), std::string::npos);
    }
}

TEST(CudaPool, SizeClasses) {
    using manycore::cuda::MemoryPool;
    EXPECT_EQ(MemoryPool::size_class(0), 512u);
    EXPECT_EQ(MemoryPool::size_class(1), 512u);
    EXPECT_EQ(MemoryPool::size_class(513), 1024u);
    EXPECT_EQ(MemoryPool::size_class(1 << 20), 1u << 20);
    EXPECT_EQ(MemoryPool::size_class((1 << 20) + 1), (1u << 20) + (1u << 18));
    EXPECT_EQ(MemoryPool::size_class(3u << 29), 3u << 29);  // 1.5 GiB is a class
    EXPECT_EQ(MemoryPool::size_class((std::size_t{1} << 50) + 1),
              (std::size_t{1} << 50) + (std::size_t{1} << 48));
    EXPECT_EQ(MemoryPool::size_class(SIZE_MAX), 0u);
    for (std::size_t b : {std::size_t{700}, std::size_t{5000000}, std::size_t{123456789}}) {
        EXPECT_GE(MemoryPool::size_class(b), b);
        EXPECT_LE(MemoryPool::size_class(b), b + b / 4 + 512);
    }
}

// A stand-in libcuda, built here with the host compiler, to see the loader's checks work.
std::string build_fake_driver(const std::string& name, int version, int init_result) {
    const auto dir = std::filesystem::temp_directory_path() / "manycore-test-fake-cuda";
    std::filesystem::create_directories(dir);
    const auto src = dir / (name + ".cpp");
    const auto lib = dir / (name + ".so");
    std::ofstream(src) << "#include <cstring>\n"
                          "extern \"C\" int cuDriverGetVersion(int* v) { *v = " << version << "; return 0; }\n"
                          "static int fake_init(unsigned) { return " << init_result << "; }\n"
                          "static int fake_name(int, const char** s) { *s = \"CUDA_ERROR_NO_DEVICE\"; return 0; }\n"
                          "static int fake_text(int, const char** s) { *s = \"no CUDA-capable device is detected\"; return 0; }\n"
                          "extern \"C\" int cuGetProcAddress_v2(const char* n, void** f, int, unsigned long long, int* st) {\n"
                          "  *f = nullptr; *st = 1;\n"
                          "  if (!std::strcmp(n, \"cuInit\")) *f = (void*)&fake_init;\n"
                          "  if (!std::strcmp(n, \"cuGetErrorName\")) *f = (void*)&fake_name;\n"
                          "  if (!std::strcmp(n, \"cuGetErrorString\")) *f = (void*)&fake_text;\n"
                          "  if (*f) *st = 0;\n"
                          "  return *f ? 0 : 500;\n"
                          "}\n";
    const char* cxx = std::getenv("CXX");
    const std::string command = std::string(cxx && *cxx ? cxx : "c++") + " -shared -fPIC -o " +
                                lib.string() + " " + src.string() + " 2>&1";
    if (std::system(command.c_str()) != 0) return {};
    return lib.string();
}

TEST(CudaDriver, MissingDriverNamesThePathTried) {
    manycore::cuda::DriverApi api;
    const auto why = manycore::cuda::load_driver("/nonexistent/libcuda.so.1", api);
    EXPECT_NE(why.find("/nonexistent/libcuda.so.1"), std::string::npos) << why;
    EXPECT_NE(why.find("MANYCORE_CUDA_DRIVER_PATH"), std::string::npos) << why;
    const auto not_cuda = manycore::cuda::load_driver("libm.so.6", api);
    EXPECT_NE(not_cuda.find("is not a CUDA driver"), std::string::npos) << not_cuda;
}

TEST(CudaDriver, OldDriverIsRefusedWithItsVersion) {
    const auto lib = build_fake_driver("old", 11080, 0);
    if (lib.empty()) GTEST_SKIP() << "no host compiler to build a stand-in libcuda";
    manycore::cuda::DriverApi api;
    const auto why = manycore::cuda::load_driver(lib, api);
    EXPECT_NE(why.find("driver is too old (CUDA 11.8 = 11080"), std::string::npos) << why;
    EXPECT_NE(why.find("needs 12.0 or newer"), std::string::npos) << why;
    EXPECT_NE(why.find("device='cpu'"), std::string::npos) << why;
}

TEST(CudaDriver, NoDeviceAndMissingSymbolsBecomeStubs) {
    const auto lib = build_fake_driver("nodevice", 12040, 100);
    if (lib.empty()) GTEST_SKIP() << "no host compiler to build a stand-in libcuda";
    manycore::cuda::DriverApi api;
    const auto why = manycore::cuda::load_driver(lib, api);
    EXPECT_NE(why.find("no CUDA device: cuInit said CUDA_ERROR_NO_DEVICE"), std::string::npos) << why;
    // Entry points the driver lacks are stubs that say which one is missing.
    manycore::cuda::CUdeviceptr p = 0;
    try {
        (void)api.cuMemAlloc(&p, 16);
        FAIL() << "expected DeviceUnavailable";
    } catch (const manycore::DeviceUnavailable& e) {
        EXPECT_NE(std::string(e.what()).find("cuMemAlloc is missing"), std::string::npos) << e.what();
    }
    EXPECT_THROW((void)api.cuCtxSynchronize(), manycore::DeviceUnavailable);
}

TEST(CudaDriver, WithoutAGpuOnlyTheCpuIsListed) {
    const auto& backend = manycore::detail::backend(manycore::DeviceKind::cuda);
    const auto probe = backend.probe();
    if (probe.available) GTEST_SKIP() << "a CUDA device is present";
    EXPECT_FALSE(probe.reason.empty());
    EXPECT_EQ(backend.probe().reason, probe.reason);  // cached, same answer
    const auto all = manycore::devices();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0], manycore::Device::cpu());
    try {
        (void)manycore::Device::parse("cuda:0").info();
        FAIL() << "expected DeviceUnavailable";
    } catch (const manycore::DeviceUnavailable& e) {
        EXPECT_NE(std::string(e.what()).find(probe.reason), std::string::npos) << e.what();
    }
    EXPECT_THROW((void)manycore::Array::empty({4}, manycore::DType::float32,
                                              manycore::Device::parse("cuda")),
                 manycore::DeviceUnavailable);
    // Pinned memory falls back to ordinary host memory so CPU programs run unchanged.
    auto pinned = manycore::pinned_empty({16}, manycore::DType::float64);
    EXPECT_EQ(pinned.device(), manycore::Device::cpu());
    EXPECT_FALSE(manycore::is_pinned(pinned));
}

}  // namespace

// Every atomic the CPU prelude offers compiles for the GPU too (CUDA lacks several 64-bit and
// floating-point ones; the CUDA prelude fills them in).
TEST(CudaNvrtc, EveryAtomicOfTheCpuPreludeCompiles) {
    REQUIRE_NVRTC(api);
    const auto compiled = compile(*api, module_source(R"(
        #include <cstdint>
        template <class T>
        __device__ void integer_atomics(T* v, T x) {
            atomicAdd(v, x); atomicSub(v, x); atomicExch(v, x); atomicMin(v, x); atomicMax(v, x);
            atomicAnd(v, x); atomicOr(v, x); atomicXor(v, x); atomicCAS(v, x, T(1));
            atomicAdd_block(v, x); atomicSub_system(v, x); atomicCAS_block(v, x, x);
        }
        __global__ void k(int* i, unsigned* u, long long* ll, unsigned long long* ull,
                          std::int64_t* l, std::uint64_t* ul, float* f, double* d) {
            integer_atomics(i, 1); integer_atomics(u, 1u); integer_atomics(ll, 1LL);
            integer_atomics(ull, 1ULL); integer_atomics(l, std::int64_t(1));
            integer_atomics(ul, std::uint64_t(1));
            atomicAdd(f, 1.0f); atomicSub(f, 1.0f); atomicExch(f, 1.0f); atomicMin(f, 1.0f); atomicMax(f, 1.0f);
            atomicAdd(d, 1.0); atomicExch(d, 1.0); atomicMin(d, 1.0); atomicMax(d, 1.0);
            atomicInc(u, 7u); atomicDec(u, 7u);
        }
    )"));
    EXPECT_FALSE(compiled.image.empty());
}

// The record of which NVRTC a process loads: a second process with the same search reads it
// instead of loading NVRTC, and a changed search or a changed library file loads it anew.
TEST(CudaNvrtcIdentity, RememberedAcrossProcessesAndRenewedWhenTheFileChanges) {
    namespace fs = std::filesystem;
    const fs::path root = fs::temp_directory_path() / ("mc-nvrtc-id-" + std::to_string(::getpid()));
    fs::create_directories(root);
    const fs::path library = root / "libnvrtc.so.99";
    std::ofstream(library) << "stand-in library";
    manycore::detail::CompileCache cache(root / "cache");

    manycore::cuda::NvrtcIdentity real;
    real.path = library.string();
    real.major = 99;
    real.minor = 1;
    real.archs = {75, 80, 90};
    real.toolkit_includes = {"/opt/cuda/include", "/opt/cuda/include/cccl"};
    int loads = 0;
    const auto load = [&] {
        ++loads;
        return real;
    };
    NvrtcSearch search;
    search.sonames = {"libnvrtc.so.99"};

    EXPECT_EQ(manycore::cuda::remembered_nvrtc_identity(cache, search, load), real);
    EXPECT_EQ(loads, 1);
    EXPECT_EQ(manycore::cuda::remembered_nvrtc_identity(cache, search, load), real);
    EXPECT_EQ(loads, 1) << "the record was not used";

    search.folders = {"/elsewhere/lib64"};  // another search: the loader may pick another file
    EXPECT_EQ(manycore::cuda::remembered_nvrtc_identity(cache, search, load), real);
    EXPECT_EQ(loads, 2);

    std::ofstream(library, std::ios::app) << " upgraded in place";
    real.minor = 2;
    EXPECT_EQ(manycore::cuda::remembered_nvrtc_identity(cache, search, load).minor, 2);
    EXPECT_EQ(loads, 3);

    // A loader that now opens another file than the record names: what it loaded is used.
    manycore::cuda::NvrtcIdentity other = real;
    other.path = (root / "other.so").string();
    std::ofstream(library, std::ios::app) << " again";
    const auto load_other = [&] {
        ++loads;
        return other;
    };
    EXPECT_EQ(manycore::cuda::remembered_nvrtc_identity(cache, search, load_other).path, other.path);
    fs::remove_all(root);
}

TEST(CudaNvrtcIdentity, MatchesTheLoadedNvrtc) {
    REQUIRE_NVRTC(api);
    const manycore::cuda::NvrtcIdentity& loaded = *api;
    EXPECT_EQ(manycore::cuda::nvrtc_identity(), loaded);
}
