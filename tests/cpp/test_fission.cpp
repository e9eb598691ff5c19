// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Specification of loop fission's plan: which kernels are split at their barriers, which loops
// run iteration-major, what runs as fibers and why, and that the new text keeps the user's lines.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/fission_parse.hpp"
#include "core/source_analysis.hpp"
#include "core/source_lexer.hpp"

namespace {

using manycore::ExecutionMode;
using manycore::detail::analyse_source;
using manycore::detail::KernelDecl;
using manycore::detail::SourceAnalysis;

SourceAnalysis plan(const std::string& source, bool fibers_only = false) {
    return analyse_source(source, {}, false, manycore::detail::CheckedHelpers::none, true,
                          fibers_only);
}

const KernelDecl& only(const SourceAnalysis& a) {
    EXPECT_EQ(a.kernels.size(), 1u);
    return a.kernels.front();
}

TEST(Fission, BarrierKernelsAreSplitAndSayWhere) {
    const auto a = plan(R"(__global__ void k(float* x) {
        __shared__ float s[64];
        s[threadIdx.x] = x[threadIdx.x];
        __syncthreads();
        x[threadIdx.x] = s[63 - threadIdx.x];
    })");
    const KernelDecl& k = only(a);
    EXPECT_EQ(k.mode, ExecutionMode::fission);
    EXPECT_TRUE(k.split);
    EXPECT_NE(k.reason.find("line 4"), std::string::npos) << k.reason;
    // Every statement keeps its line: the text after `#line N` is line N's statement.
    const auto line_after = [&](const std::string& directive) {
        const std::size_t at = a.split_source.find(directive);
        if (at == std::string::npos) return std::string();
        const std::size_t from = at + directive.size();
        return a.split_source.substr(from, a.split_source.find('\n', from) - from);
    };
    EXPECT_NE(line_after("#line 3 \"kernel.cu\"\n").find("] = x["), std::string::npos) << a.split_source;
    EXPECT_EQ(line_after("#line 5 \"kernel.cu\"\n").rfind("x[", 0), 0u) << a.split_source;
}

TEST(Fission, PlainKernelsStayLoopsUntouched) {
    const auto a = plan("__global__ void k(float* x) { x[threadIdx.x] = 1; }");
    EXPECT_EQ(only(a).mode, ExecutionMode::loop);
    EXPECT_FALSE(only(a).split);
    EXPECT_TRUE(a.split_source.empty());
}

TEST(Fission, GridStrideLoopsOfPlainKernelsRunIterationMajor) {
    const auto a = plan(R"(__global__ void k(float* x, int n) {
        for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x)
            x[i] = 2 * x[i];
    })");
    EXPECT_EQ(only(a).mode, ExecutionMode::loop);
    EXPECT_TRUE(only(a).split);
    EXPECT_NE(only(a).reason.find("iteration-major"), std::string::npos);
}

TEST(Fission, GridStrideKernelsTakeEveryBlockOfTheirRangeAtEachStep) {
    const char* loop =
        "for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) x[i] = 2 * x[i];";
    const auto kernel = [&](const std::string& before) {
        return plan("__global__ void k(float* x, int n) {\n" + before +
                    "int stride = blockDim.x * gridDim.x;\n" + loop + "\n}");
    };
    EXPECT_TRUE(only(kernel("")).grid_major);
    EXPECT_TRUE(only(kernel("const int twice = 2 * n;\n")).grid_major);
    // Shared memory and values of one block stay per block.
    EXPECT_FALSE(only(kernel("__shared__ float s[4]; s[0] = 1;\n")).grid_major);
    EXPECT_FALSE(only(kernel("const int base = blockIdx.x * n;\n")).grid_major);
    EXPECT_TRUE(only(kernel("const int base = blockIdx.x * n;\n")).split);
}

TEST(Fission, ALoopWhoseBoundIsReadFromMemoryStaysThreadMajor) {
    const auto a = plan(R"(__global__ void k(float* x, const int* n) {
        for (int i = threadIdx.x; i < n[0]; i += blockDim.x) x[i] = 2 * x[i];
    })");
    EXPECT_EQ(only(a).mode, ExecutionMode::loop);
    EXPECT_FALSE(only(a).split);
}

TEST(Fission, TheFibersSchemeSplitsNothing) {
    const auto a = plan("__global__ void k(int* x) { __syncthreads(); x[0] = 1; }", true);
    EXPECT_EQ(only(a).mode, ExecutionMode::fibers);
    EXPECT_NE(only(a).reason.find("MANYCORE_CPU_SCHEME=fibers"), std::string::npos);
    EXPECT_TRUE(a.split_source.empty());
}

TEST(Fission, WhatItCannotTakeRunsAsFibersWithTheLine) {
    struct Case {
        const char* body;
        const char* why;
    };
    const Case cases[] = {
        {"switch (x[0]) { case 1: __syncthreads(); }", "switch"},
        {"if (x[0]) goto out; __syncthreads(); out: x[1] = 0;", "goto"},
        {"#if 1\n__syncthreads();\n#endif\n", "preprocessor directive"},
        {"x[0] = 1 + h(2);", "inside an expression"},
        {"x[0] = __shfl_sync(0xffffffff, __shfl_sync(0xffffffff, 1, 0), 0);", "operands of another"},
    };
    for (const Case& c : cases) {
        const auto a = plan(std::string("__device__ int h(int v) { __syncthreads(); return v; }\n"
                                        "__global__ void k(int* x) {\n") +
                            c.body + "\n}");
        const KernelDecl& k = only(a);
        EXPECT_EQ(k.mode, ExecutionMode::fibers) << c.body;
        EXPECT_NE(k.reason.find(c.why), std::string::npos) << c.body << ": " << k.reason;
        EXPECT_NE(k.reason.find("line"), std::string::npos) << k.reason;
    }
}

TEST(Fission, HelpersThatSynchroniseAreWrittenIn) {
    const auto a = plan(R"(
        template <unsigned N> __device__ void tree(float* s) {
            for (unsigned d = N / 2; d > 0; d >>= 1) { if (threadIdx.x < d) s[threadIdx.x] += s[threadIdx.x + d]; __syncthreads(); }
        }
        __device__ float twice(float v) { __syncthreads(); return 2 * v; }
        __global__ void k(float* x) {
            __shared__ float s[64];
            s[threadIdx.x] = x[threadIdx.x];
            __syncthreads();
            tree<64>(s);
            float y = twice(s[0]);
            x[threadIdx.x] = y;
        })");
    EXPECT_EQ(only(a).mode, ExecutionMode::fission) << only(a).reason;
    // The helper's statements keep their own lines.
    EXPECT_NE(a.split_source.find("#line 3 \"kernel.cu\""), std::string::npos) << a.split_source;
}

TEST(Fission, TheBodyParserReadsDeclarationsAndScopes) {
    using namespace manycore::detail;
    const std::string text = R"(void f(int n, float* p) {
        unsigned int a = 1, *b = nullptr, c[4] = {0};
        for (int i = 0; i < n; ++i) { float a = i; p[i] = a; }
        a += n;
        const float4 v{1, 2, 3, 4};
    })";
    source::Words words;
    const auto lx = source::lex(text, words);
    std::size_t params = 0, open = 0;
    while (lx.code[params].text != "(") ++params;
    while (lx.code[open].text != "{") ++open;
    const fission::Body body = fission::parse_body(text, lx.code, params, open);
    ASSERT_TRUE(body.error.empty()) << body.error;
    std::vector<std::string> names;
    for (const auto& v : body.vars) names.push_back(v.name);
    EXPECT_EQ(names, (std::vector<std::string>{"n", "p", "a", "b", "c", "i", "a", "v"}));
    EXPECT_TRUE(body.vars[4].array);  // c[4]
    // `a += n` writes the outer a, `p[i] = a` reads the inner one.
    int outer_writes = 0, inner_reads = 0;
    for (const auto& r : body.refs) {
        outer_writes += r.var == 2 && r.write;
        inner_reads += r.var == 6 && !r.write;
    }
    EXPECT_EQ(outer_writes, 1);
    EXPECT_EQ(inner_reads, 1);
}

}  // namespace
