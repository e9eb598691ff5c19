// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Specification of analyse_source: kernels, parameters, barrier reachability and rewrites.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/source_analysis.hpp"
#include "manycore/error.hpp"

namespace {

using manycore::CompileError;
using manycore::detail::analyse_source;
using manycore::detail::KernelDecl;
using manycore::detail::SourceAnalysis;
using Strings = std::vector<std::string>;

SourceAnalysis analyse(const std::string& source, const Strings& exprs = {}) {
    return analyse_source(source, exprs);
}

Strings names_of(const SourceAnalysis& a) {
    Strings out;
    for (const KernelDecl& k : a.kernels) out.push_back(k.name);
    return out;
}

const KernelDecl& kernel(const SourceAnalysis& a, const std::string& name) {
    for (const KernelDecl& k : a.kernels)
        if (k.name == name) return k;
    throw std::runtime_error("no kernel " + name);
}

bool barriers(const std::string& source, const std::string& name, const Strings& exprs = {}) {
    return kernel(analyse(source, exprs), name).uses_barriers;
}

Strings lines_of(const std::string& s) {
    Strings out(1);
    for (char c : s) {
        if (c == '\n')
            out.emplace_back();
        else
            out.back().push_back(c);
    }
    return out;
}

std::string compile_error(const std::string& source, const Strings& exprs = {}) {
    try {
        analyse(source, exprs);
    } catch (const CompileError& e) {
        EXPECT_EQ(e.source(), source);
        EXPECT_EQ(e.log(), std::string(e.what()));
        return e.what();
    }
    ADD_FAILURE() << "no CompileError";
    return {};
}

// ---- kernels and their parameters ----

TEST(SourceAnalysisKernels, PlainAndExternCInSourceOrderWithNameLines) {
    const auto a = analyse(
        "__device__ float twice(float x) { return 2 * x; }\n"
        "extern \"C\" __global__ void saxpy(int n, float a, const float* x, float* y) {\n"
        "}\n"
        "__global__ void scale(float* y) { y[0] = twice(y[0]); }\n");
    ASSERT_EQ(names_of(a), (Strings{"saxpy", "scale"}));
    EXPECT_EQ(a.kernels[0].line, 2);
    EXPECT_EQ(a.kernels[1].line, 4);
    EXPECT_EQ(a.kernels[0].param_names, (Strings{"n", "a", "x", "y"}));
    EXPECT_EQ(a.kernels[0].param_spellings, (Strings{"int", "float", "const float*", "float*"}));
    EXPECT_FALSE(a.kernels[0].uses_barriers);
}

TEST(SourceAnalysisKernels, ExternCBlockAndNamespace) {
    const auto a = analyse(
        "extern \"C\" {\n"
        "__global__ void first(int n) {}\n"
        "struct S { int v; };\n"
        "__global__ void second(S s) {}\n"
        "}\n"
        "namespace outer { namespace inner {\n"
        "__global__ void third() {}\n"
        "} }\n");
    // A kernel in a named namespace is named through it, as the launch table must take it.
    EXPECT_EQ(names_of(a), (Strings{"first", "second", "outer::inner::third"}));
    EXPECT_EQ(kernel(a, "outer::inner::third").line, 7);
    EXPECT_EQ(kernel(a, "second").param_spellings, Strings{"S"});
}

TEST(SourceAnalysisKernels, SpecifiersAndLaunchBoundsBeforeTheName) {
    const auto a = analyse(
        "__global__ void __launch_bounds__(256, 2) bounded(float* x) {}\n"
        "static __global__ void stat(int n) {}\n"
        "inline __global__ void inl(int n) {}\n"
        "extern \"C\" __global__ __forceinline__ void forced() {}\n"
        "__global__ static void __launch_bounds__(128) both(int n) {}\n");
    EXPECT_EQ(names_of(a), (Strings{"bounded", "stat", "inl", "forced", "both"}));
    EXPECT_EQ(kernel(a, "bounded").param_names, Strings{"x"});
    EXPECT_TRUE(kernel(a, "forced").param_names.empty());
}

TEST(SourceAnalysisKernels, MultiLineSignatureReportsTheNameLine) {
    const auto a = analyse(
        "// header\n"
        "extern \"C\"\n"
        "__global__\n"
        "void\n"
        "multi(\n"
        "    int n,          // count\n"
        "    const float *   __restrict__ x, /* input */\n"
        "    float*y)\n"
        "{\n"
        "}\n");
    ASSERT_EQ(names_of(a), Strings{"multi"});
    EXPECT_EQ(a.kernels[0].line, 5);
    EXPECT_EQ(a.kernels[0].param_names, (Strings{"n", "x", "y"}));
    EXPECT_EQ(a.kernels[0].param_spellings,
              (Strings{"int", "const float * __restrict__", "float*"}));
}

TEST(SourceAnalysisKernels, CommentsAndLiteralsAreNotCode) {
    const auto a = analyse(
        "// __global__ void in_line_comment() { __syncthreads(); }\n"
        "/* __global__ void in_block_comment() {}\n"
        "   k<<<1, 1>>>(); */\n"
        "__global__ void real(char* out) {\n"
        "    const char* s = \"__global__ void in_string() { __syncthreads(); } <<<\";\n"
        "    const char* r = R\"x(__global__ void in_raw() {} \" __syncthreads(); <<<)x\";\n"
        "    char q = '\"'; char b = '{';\n"
        "    // __syncthreads();\n"
        "}\n"
        "__global__ void after() {}\n");
    EXPECT_EQ(names_of(a), (Strings{"real", "after"}));
    EXPECT_FALSE(a.kernels[0].uses_barriers);
    EXPECT_EQ(a.kernels[1].line, 10);
}

TEST(SourceAnalysisKernels, LineCommentContinuedWithBackslash) {
    const auto a = analyse(
        "// a comment that goes on \\\n"
        "__global__ void hidden() {}\n"
        "__global__ void shown() {}\n");
    EXPECT_EQ(names_of(a), Strings{"shown"});
    EXPECT_EQ(a.kernels[0].line, 3);
}

TEST(SourceAnalysisKernels, LineSplicesAndDigitSeparators) {
    const auto a = analyse(
        "#define TWO_LINES \\\n"
        "    2\n"
        "int big = 1'000; __global__ void after_separator() {}\n");
    ASSERT_EQ(names_of(a), Strings{"after_separator"});
    EXPECT_EQ(a.kernels[0].line, 3);
}

TEST(SourceAnalysisKernels, ConditionalDefinitionsMergeConservatively) {
    const auto a = analyse(
        "#if FAST\n"
        "__global__ void k(float* x) { x[0] = 1; }\n"
        "#else\n"
        "__global__ void k(float* y) { __syncthreads(); }\n"
        "#endif\n");
    ASSERT_EQ(names_of(a), Strings{"k"});
    EXPECT_EQ(a.kernels[0].param_names, Strings{"x"});
    EXPECT_TRUE(a.kernels[0].uses_barriers);  // either branch may be the one compiled
}

TEST(SourceAnalysisKernels, DefaultUnnamedArrayVoidAndTemplateParameters) {
    const auto a = analyse(
        "template <typename T, int N> struct Foo { T v[N]; };\n"
        "__global__ void k(int n = 4, float, const float* const, float a[], int m[][4],\n"
        "                  Foo<int, 3> f, unsigned, const Foo<float, 2>& g = Foo<float, 2>(),\n"
        "                  int shift = 1 << 4, long long big) {}\n"
        "__global__ void v(void) {}\n");
    const KernelDecl& k = kernel(a, "k");
    EXPECT_EQ(k.param_names,
              (Strings{"n", "arg1", "arg2", "a", "m", "f", "arg6", "g", "shift", "big"}));
    EXPECT_EQ(k.param_spellings,
              (Strings{"int", "float", "const float* const", "float[]", "int[][4]", "Foo<int, 3>",
                       "unsigned", "const Foo<float, 2>&", "int", "long long"}));
    EXPECT_TRUE(kernel(a, "v").param_names.empty());
}

TEST(SourceAnalysisKernels, DeclarationsAreNotKernelsButLaterDefinitionsAre) {
    const auto a = analyse(
        "__global__ void k(int);\n"
        "extern \"C\" __global__ void only_declared(float* x);\n"
        "__global__ void k(int n) { }\n");
    ASSERT_EQ(names_of(a), Strings{"k"});
    EXPECT_EQ(a.kernels[0].line, 3);
    EXPECT_EQ(a.kernels[0].param_names, Strings{"n"});
}

TEST(SourceAnalysisKernels, HelpersStructsAndMembersAreNotKernels) {
    const auto a = analyse(
        "struct Acc {\n"
        "    __device__ Acc() : sum(0), n{0} {}\n"
        "    __device__ void add(float x) { sum += x; ++n; }\n"
        "    float sum; int n;\n"
        "};\n"
        "__device__ __host__ float sq(float x) { return x * x; }\n"
        "__device__ float table[] = {1, 2, 3};\n"
        "__global__ void k(float* x) { Acc a; a.add(sq(x[0])); }\n");
    EXPECT_EQ(names_of(a), Strings{"k"});
}

// ---- template kernels and name expressions ----

constexpr const char* templated =
    "template <typename T, int B>\n"
    "__global__ void tk(T* __restrict__ x, int n) { x[0] = T(B); }\n"
    "__global__ void plain(int n) {}\n";

TEST(SourceAnalysisTemplates, SkippedUnlessNamed) {
    EXPECT_EQ(names_of(analyse(templated)), Strings{"plain"});
}

TEST(SourceAnalysisTemplates, NameExpressionsInstantiateWithTemplateSpellings) {
    const auto a = analyse(templated, {"tk<float, 256>", "tk<double,128>", "plain"});
    EXPECT_EQ(names_of(a), (Strings{"tk<float, 256>", "tk<double,128>", "plain"}));
    const KernelDecl& k = kernel(a, "tk<float, 256>");
    EXPECT_EQ(k.param_names, (Strings{"x", "n"}));
    EXPECT_EQ(k.param_spellings, (Strings{"T* __restrict__", "int"}));
    EXPECT_EQ(k.line, 2);
}

TEST(SourceAnalysisTemplates, UnknownNameExpressionListsTemplateKernels) {
    const std::string message = compile_error(templated, {"missing<int>"});
    EXPECT_NE(message.find("'missing<int>'"), std::string::npos) << message;
    EXPECT_NE(message.find("'tk'"), std::string::npos) << message;
    // A plain kernel cannot take template arguments.
    EXPECT_NE(compile_error(templated, {"plain<int>"}).find("'plain<int>'"), std::string::npos);
    EXPECT_NE(compile_error("__global__ void k() {}", {"q"}).find("no template kernels"),
              std::string::npos);
}

TEST(SourceAnalysisTemplates, ExplicitSpecialisationFoundByBaseName) {
    const auto a = analyse(
        "template <class T> __global__ void k(T* x) {}\n"
        "template <> __global__ void k<int>(int* x) { __syncthreads(); }\n",
        {"k<float>"});
    EXPECT_EQ(names_of(a), Strings{"k<float>"});
    EXPECT_TRUE(a.kernels[0].uses_barriers);  // conservatively: any definition of k syncs
}

// ---- barrier reachability ----

TEST(SourceAnalysisBarriers, DirectUseAndWarpIntrinsics) {
    EXPECT_TRUE(barriers("__global__ void k() { __syncthreads(); }", "k"));
    EXPECT_TRUE(barriers("__global__ void k(int v) { v = __shfl_down_sync(~0u, v, 1); }", "k"));
    EXPECT_TRUE(barriers("__global__ void k(int* o) { *o = __ballot_sync(~0u, 1); }", "k"));
    EXPECT_TRUE(
        barriers("#include <cooperative_groups.h>\n"
                 "namespace cg = cooperative_groups;\n"
                 "__device__ void sync_all(cg::thread_group g) { g.sync(); }\n"
                 "__global__ void k() { auto b = cg::this_thread_block(); sync_all(b); }\n",
                 "k"));
    EXPECT_FALSE(barriers("__global__ void k(float* x) { x[0] = 1; }", "k"));
}

TEST(SourceAnalysisBarriers, ThroughDeviceFunction) {
    const auto a = analyse(
        "__device__ void helper(float* s) { s[0] = 1; __syncthreads(); }\n"
        "__device__ float pure(float x) { return x + 1; }\n"
        "__global__ void uses(float* s) { helper(s); }\n"
        "__global__ void free_of_barriers(float* s) { s[0] = pure(s[0]); }\n");
    EXPECT_TRUE(kernel(a, "uses").uses_barriers);
    EXPECT_FALSE(kernel(a, "free_of_barriers").uses_barriers);
}

TEST(SourceAnalysisBarriers, ThroughFunctionTemplate) {
    EXPECT_TRUE(
        barriers("template <int N, typename T>\n"
                 "__device__ T block_sum(T* s, T v) { s[0] = v; __syncthreads(); return s[N]; }\n"
                 "__global__ void k(float* s) { s[1] = block_sum<4>(s, 1.0f); }\n",
                 "k"));
}

TEST(SourceAnalysisBarriers, ThroughStructMemberFunction) {
    const std::string source =
        "struct Block {\n"
        "    __device__ void wait() const { __syncthreads(); }\n"
        "    int id;\n"
        "};\n"
        "__global__ void by_type() { Block b; }\n"
        "__global__ void by_member(int* p) { reinterpret_cast<const Block*>(p)->wait(); }\n"
        "__global__ void by_param(Block b) {}\n"
        "__global__ void untouched(int* p) { p[0] = 1; }\n";
    const auto a = analyse(source);
    EXPECT_TRUE(kernel(a, "by_type").uses_barriers);
    EXPECT_TRUE(kernel(a, "by_member").uses_barriers);
    EXPECT_TRUE(kernel(a, "by_param").uses_barriers);
    EXPECT_FALSE(kernel(a, "untouched").uses_barriers);
}

TEST(SourceAnalysisBarriers, ThroughOutOfClassMemberDefinition) {
    EXPECT_TRUE(
        barriers("struct Tile { __device__ void sync(); };\n"
                 "__device__ void Tile::sync() { __syncwarp(); }\n"
                 "__global__ void k() { Tile t; }\n",
                 "k"));
}

TEST(SourceAnalysisBarriers, ThroughMacros) {
    EXPECT_TRUE(
        barriers("#define SYNC __syncthreads()\n"
                 "__global__ void k() { SYNC; }\n",
                 "k"));
    EXPECT_TRUE(
        barriers("#define REDUCE(v) do { \\\n"
                 "    v += __shfl_xor_sync(0xffffffff, v, 1); \\\n"
                 "} while (0)\n"
                 "#define STEP(v) REDUCE(v)\n"
                 "__global__ void k(int v) { STEP(v); }\n",
                 "k"));
    EXPECT_TRUE(
        barriers("__device__ void wait_all() { __syncthreads(); }\n"
                 "#define WAIT wait_all()\n"
                 "__global__ void k() { WAIT; }\n",
                 "k"));
    EXPECT_FALSE(
        barriers("#define TWICE(x) ((x) * 2)\n"
                 "__global__ void k(int* p) { p[0] = TWICE(p[0]); }\n",
                 "k"));
}

TEST(SourceAnalysisBarriers, ThroughTwoLevelsDefinedAfterTheKernel) {
    EXPECT_TRUE(
        barriers("__device__ void outer_helper(float*);\n"
                 "__global__ void k(float* s) { outer_helper(s); }\n"
                 "__device__ void inner_helper(float* s) { __syncthreads(); }\n"
                 "__device__ void outer_helper(float* s) { inner_helper(s); }\n",
                 "k"));
}

TEST(SourceAnalysisBarriers, ThroughHelpersAMacroDefines) {
    EXPECT_TRUE(
        barriers("#define DEFINE_WAIT(name) __device__ void name() { __syncthreads(); }\n"
                 "DEFINE_WAIT(wait_here)\n"
                 "__device__ float plain(float x) { return x; }\n"
                 "__global__ void k() { wait_here(); }\n",
                 "k"));
}

TEST(SourceAnalysisBarriers, ThroughFunctionPointers) {
    EXPECT_TRUE(
        barriers("__device__ void wait_all(int) { __syncthreads(); }\n"
                 "__device__ void (*chosen)(int) = wait_all;\n"
                 "__global__ void k() { chosen(1); }\n",
                 "k"));
}

TEST(SourceAnalysisBarriers, ThroughOperatorsByTheirParameterTypes) {
    const auto a = analyse(
        "struct Acc { float v; };\n"
        "__device__ Acc operator+(const Acc& a, Acc b) { __syncthreads(); return {a.v + b.v}; }\n"
        "__global__ void adds(Acc* p) { p[0] = p[0] + p[1]; }\n"
        "__global__ void same_names(float* a, float b) { a[0] = b; }\n");
    EXPECT_TRUE(kernel(a, "adds").uses_barriers);
    EXPECT_FALSE(kernel(a, "same_names").uses_barriers);  // parameter names are not names
}

TEST(SourceAnalysisBarriers, OverloadTaintsTheName) {
    EXPECT_TRUE(
        barriers("__device__ void f(int) {}\n"
                 "__device__ void f(float) { __syncthreads(); }\n"
                 "__global__ void k() { f(1); }\n",
                 "k"));
}

TEST(SourceAnalysisBarriers, NamespaceScopeLambdaAndAlias) {
    EXPECT_TRUE(
        barriers("__device__ auto sync_fn = [] __device__ () { __syncthreads(); };\n"
                 "__global__ void k() { sync_fn(); }\n",
                 "k"));
    EXPECT_TRUE(
        barriers("template <int N> struct Red { __device__ void go() { __syncwarp(); } };\n"
                 "using Red8 = Red<8>;\n"
                 "__global__ void k() { Red8 r; }\n",
                 "k"));
}

TEST(SourceAnalysisBarriers, UnreadableHeadersMakeEveryKernelSync) {
    const std::string kernel = "__global__ void k(float* x) { x[0] = helper(x[1]); }\n";
    EXPECT_TRUE(barriers("#include \"helpers.cuh\"\n" + kernel, "k"));
    EXPECT_TRUE(barriers("#include <cub/block/block_reduce.cuh>\n" + kernel, "k"));
    EXPECT_TRUE(barriers("#include <cuda/barrier>\n" + kernel, "k"));
    EXPECT_FALSE(
        barriers("#include <cstdint>\n#include <math.h>\n#include <cuda_fp16.h>\n"
                 "#include <cooperative_groups.h>\n"
                 "#include <cooperative_groups/reduce.h>\n" +
                     kernel,
                 "k"));
}

TEST(SourceAnalysisBarriers, LookalikeIdentifiersDoNotTaint) {
    const auto a = analyse(
        "__device__ int my__syncthreads_counter;\n"
        "__device__ void __syncthreads_free() {}\n"
        "__global__ void k(int* p) {\n"
        "    p[0] = my__syncthreads_counter; __syncthreads_free();\n"
        "    const char* s = \"__syncthreads()\"; /* __syncthreads(); */\n"
        "}\n"
        "__global__ void my__syncthreads_kernel() {}\n");
    EXPECT_FALSE(kernel(a, "k").uses_barriers);
    EXPECT_FALSE(kernel(a, "my__syncthreads_kernel").uses_barriers);
}

TEST(SourceAnalysisBarriers, TemplateArgumentsOfNameExpressions) {
    const std::string source =
        "struct SyncOp { __device__ void operator()(float* s) const { __syncthreads(); } };\n"
        "struct PlainOp { __device__ void operator()(float* s) const { s[0] = 0; } };\n"
        "template <class Op> __global__ void apply(float* s) { Op()(s); }\n";
    const auto a = analyse(source, {"apply<SyncOp>", "apply<PlainOp>"});
    EXPECT_TRUE(kernel(a, "apply<SyncOp>").uses_barriers);
    EXPECT_FALSE(kernel(a, "apply<PlainOp>").uses_barriers);
}

// ---- extern __shared__ ----

TEST(SourceAnalysisShared, InFunctionBecomesLocalPointerOnTheSameLines) {
    const std::string source =
        "__global__ void k(float* x) {\n"
        "    extern __shared__ float s[]; int after = 1;\n"
        "    extern volatile __shared__ __align__(16)\n"
        "        unsigned char raw[];\n"
        "    s[0] = raw[0] + after;\n"
        "}\n";
    const auto a = analyse(source);
    const Strings lines = lines_of(a.prepared_source);
    ASSERT_EQ(lines.size(), lines_of(source).size());
    EXPECT_EQ(
        lines[1],
        "    float* const s = reinterpret_cast<float*>(__mc_dynamic_shared()); int after = 1;");
    EXPECT_EQ(lines[2],
              "    volatile unsigned char* const raw = "
              "reinterpret_cast<volatile unsigned char*>(__mc_dynamic_shared());");
    EXPECT_EQ(lines[3], "");
    EXPECT_EQ(lines[4], "    s[0] = raw[0] + after;");
    EXPECT_EQ(lines[0], "__global__ void k(float* x) {");
}

TEST(SourceAnalysisShared, InMemberFunctionsAndConstructors) {
    const std::string source =
        "template <class T> struct SharedMemory {\n"
        "    __device__ operator T*() { extern __shared__ int smem_int[]; return (T*)smem_int; }\n"
        "};\n"
        "struct Stage {\n"
        "    __device__ Stage() : b(2), a{1} { extern __shared__ float buf[]; buf[0] = a; }\n"
        "    int a, b;\n"
        "};\n";
    const Strings lines = lines_of(analyse(source).prepared_source);
    ASSERT_EQ(lines.size(), lines_of(source).size());
    EXPECT_EQ(lines[1],
              "    __device__ operator T*() { int* const smem_int = "
              "reinterpret_cast<int*>(__mc_dynamic_shared()); return (T*)smem_int; }");
    EXPECT_EQ(lines[4],
              "    __device__ Stage() : b(2), a{1} { float* const buf = "
              "reinterpret_cast<float*>(__mc_dynamic_shared()); buf[0] = a; }");
}

TEST(SourceAnalysisShared, NamespaceScopeBecomesAMacro) {
    const std::string source =
        "extern __shared__ float smem[];  // comment\n"
        "template <class T> __device__ T* buf() { return (T*)smem; }\n"
        "namespace n {\n"
        "  extern __shared__ __align__(sizeof(double)) double dsm[];\n"
        "}\n"
        "__global__ void k() { smem[0] = dsm[0]; }\n";
    const auto a = analyse(source);
    const Strings lines = lines_of(a.prepared_source);
    ASSERT_EQ(lines.size(), lines_of(source).size());
    EXPECT_EQ(lines[0],
              "#define smem (reinterpret_cast<float*>(__mc_dynamic_shared()))  // comment");
    EXPECT_EQ(lines[3], "  #define dsm (reinterpret_cast<double*>(__mc_dynamic_shared()))");
    EXPECT_EQ(lines[5], "__global__ void k() { smem[0] = dsm[0]; }");
}

TEST(SourceAnalysisShared, NamespaceScopeSharingALineUsesTheDeclarationsNewlines) {
    const std::string source =
        "int a; extern __shared__\n"
        "   float\n"
        "   s[]; int b;\n"
        "__global__ void k() { s[0] = 1; }\n";
    const auto a = analyse(source);
    const Strings lines = lines_of(a.prepared_source);
    ASSERT_EQ(lines.size(), 5u);
    EXPECT_EQ(lines[0], "int a; ");
    EXPECT_EQ(lines[1], "#define s (reinterpret_cast<float*>(__mc_dynamic_shared()))");
    EXPECT_EQ(lines[2], " int b;");  // still on its line; the macro ends before it
    EXPECT_EQ(lines[3], "__global__ void k() { s[0] = 1; }");
}

TEST(SourceAnalysisShared, SingleLineWithCodeAroundExpandsUses) {
    const std::string source =
        "int a; extern __shared__ int s[]; int b;\n"
        "#define FIRST s[0]\n"
        "__global__ void k() { s[1] = FIRST; }\n";
    const auto a = analyse(source);
    const Strings lines = lines_of(a.prepared_source);
    ASSERT_EQ(lines.size(), 4u);
    const std::string use = "(reinterpret_cast<int*>(__mc_dynamic_shared()))";
    EXPECT_EQ(lines[0], "int a;   int b;");
    EXPECT_EQ(lines[1], "#define FIRST " + use + "[0]");
    EXPECT_EQ(lines[2], "__global__ void k() { " + use + "[1] = FIRST; }");
}

TEST(SourceAnalysisShared, EverythingElseIsByteForByte) {
    const std::string source =
        "/* extern __shared__ float c[]; */ const char* t = \"extern __shared__ float q[];\";\r\n"
        "__shared__ float fixed[32];\r\n"
        "extern __shared__ float a[], b[];\r\n"
        "extern __device__ int other[];\r\n";
    EXPECT_EQ(analyse(source).prepared_source, source);
}

// ---- errors ----

TEST(SourceAnalysisErrors, DeviceSideLaunchNamesItsLine) {
    const std::string source =
        "__global__ void child() {}\n"
        "// child<<<1, 1>>>(); in a comment is fine\n"
        "__global__ void parent() {\n"
        "    const char* s = \"<<<\";\n"
        "    child<<<1, 1>>>();\n"
        "}\n";
    const std::string message = compile_error(source);
    EXPECT_NE(message.find("kernel.cu:5:"), std::string::npos) << message;
    EXPECT_NE(message.find("dynamic parallelism"), std::string::npos) << message;
}

TEST(SourceAnalysisErrors, NestedTemplatesAndShiftsAreNotLaunches) {
    EXPECT_NO_THROW(
        analyse("template <class T> struct A {};\n"
                "__global__ void k(A<A<A<int>>>* p, int n) { n = n << 2 >> 1; }\n"));
}

TEST(SourceAnalysisErrors, MalformedInputNeverCrashes) {
    for (const char* source :
         {"", "}", "{", "__global__", "__global__ void", "__global__ void k(", "template <",
          "\"unterminated", "R\"x(unterminated", "/* open", "extern __shared__", "#define",
          "namespace {{{{", "__global__ void k() { {{{ }"}) {
        EXPECT_NO_THROW(analyse(source)) << source;
    }
    std::string deep;
    for (int i = 0; i < 5000; ++i) deep += "namespace a { ";
    EXPECT_NO_THROW(analyse(deep));
}

// ---- speed: on the path of every first module build ----

TEST(SourceAnalysisSpeed, PathologicalInputStaysLinear) {
    std::string params, raws, angles;
    for (int i = 0; i < 20000; ++i) {
        params += "int a" + std::to_string(i) + " = b < c, ";
        raws += "R\"x\" ";
        angles += "a<";
    }
    const std::string source = "__global__ void k(" + params + "int z) {}\n" + raws + ";\n" +
                               angles + ";\nnamespace q {" + std::string(20000, '(') + "}\n";
    const auto start = std::chrono::steady_clock::now();
    const SourceAnalysis a = analyse(source);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    ASSERT_EQ(a.kernels.size(), 1u);
    EXPECT_EQ(a.kernels[0].param_names.size(), 20001u);
    EXPECT_EQ(a.kernels[0].param_spellings[0], "int");
    EXPECT_LT(ms, 2000.0) << "quadratic behaviour on " << source.size() << " bytes";
}

TEST(SourceAnalysisSpeed, TwoThousandLinesQuickly) {
    std::string source = "#include <cooperative_groups.h>\n#define SYNC __syncthreads()\n";
    int lines = 2;
    for (int i = 0; lines < 2000; ++i, lines += 10) {
        const std::string n = std::to_string(i);
        source += "__device__ float helper" + n + "(const float* x, int i) {\n" +
                  "    float acc = 0.0f;  // sum of the neighbours\n" +
                  "    for (int k = -2; k <= 2; ++k) acc += x[i + k] * 0.2f;\n" +
                  "    return acc;\n}\n" + "extern \"C\" __global__ void kernel" + n +
                  "(int n, const float* __restrict__ x, float* y) {\n" +
                  "    extern __shared__ float s[];\n" +
                  "    int i = blockIdx.x * blockDim.x + threadIdx.x;\n" +
                  "    if (i < n) y[i] = helper" + n + "(x, i);" + (i % 3 ? "" : " SYNC;") +
                  "\n}\n";
    }
    SourceAnalysis a = analyse(source);  // warm up the allocator
    constexpr int runs = 20;
    double best = 1e9;
    for (int r = 0; r < runs; ++r) {
        const auto start = std::chrono::steady_clock::now();
        a = analyse(source);
        best = std::min(best, std::chrono::duration<double, std::milli>(
                                  std::chrono::steady_clock::now() - start)
                                  .count());
    }
    std::printf("analyse_source: %.3f ms for %d lines, %zu kernels\n", best, lines,
                a.kernels.size());
    EXPECT_EQ(lines_of(a.prepared_source).size(), lines_of(source).size());
    EXPECT_TRUE(a.kernels[0].uses_barriers);
    EXPECT_FALSE(a.kernels[1].uses_barriers);
    EXPECT_LT(best, 25.0);  // generous: debug and sanitizer builds run this too
}


// ---- Checked mode: pointer parameters and shared arrays become checked pointers, in place ----

std::string checked_source(const std::string& source) {
    return analyse_source(source, {}, /*checked=*/true).prepared_source;
}

TEST(SourceAnalysisChecked, PointerParametersBecomeCheckedPointersOnTheirLines) {
    const std::string source =
        "__global__ void k(const float* __restrict__ x,\n"
        "                  float *y, int n, float z[], void* raw, float** table,\n"
        "                  const float& r) {\n"
        "    y[0] = x[0];\n"
        "}\n";
    const auto out = lines_of(checked_source(source));
    ASSERT_EQ(out.size(), lines_of(source).size());
    EXPECT_EQ(out[0], "__global__ void k(::__mc::checked_ptr<const float> x,");
    EXPECT_EQ(out[1],
              "                  ::__mc::checked_ptr<float> y, int n, "
              "::__mc::checked_ptr<float> z, void* raw, float** table,");
    EXPECT_EQ(out[2], "                  const float& r) {");
    EXPECT_EQ(out[3], "    y[0] = x[0];");
}

TEST(SourceAnalysisChecked, PrototypesAndTemplateKernelsAreRewrittenAlike) {
    const std::string source =
        "__global__ void k(int* a);\n"
        "template <class T> __global__ void t(T* a) { a[0] = T(); }\n"
        "__global__ void k(int* a) { a[0] = 1; }\n";
    const auto out = lines_of(checked_source(source));
    EXPECT_EQ(out[0], "__global__ void k(::__mc::checked_ptr<int> a);");
    EXPECT_EQ(out[1], "template <class T> __global__ void t(::__mc::checked_ptr<T> a) { a[0] = T(); }");
    EXPECT_EQ(out[2], "__global__ void k(::__mc::checked_ptr<int> a) { a[0] = 1; }");
}

TEST(SourceAnalysisChecked, SharedArraysBecomeCheckedPointersAfterTheirStorage) {
    const std::string source =
        "__global__ void k(float* out) {\n"
        "    __shared__ float tile[16][17];\n"
        "    __shared__ int count;\n"
        "    __shared__ float a[4], b[4];\n"
        "    extern __shared__ double d[];\n"
        "    out[0] = tile[0][0] + d[0];\n"
        "}\n";
    const auto out = lines_of(checked_source(source));
    ASSERT_EQ(out.size(), lines_of(source).size());
    EXPECT_EQ(out[1],
              "    __shared__ float __mc_shared_tile[16][17]; auto tile = "
              "::__mc::shared_array(__mc_shared_tile, \"tile\");");
    EXPECT_EQ(out[2],
              "    __shared__ int __mc_shared_count[1]; auto count = "
              "::__mc::shared_array(__mc_shared_count, \"count\");");
    EXPECT_EQ(out[3], "    __shared__ float a[4], b[4];");  // so do several declarators
    EXPECT_EQ(out[4],
              "    ::__mc::checked_ptr<double> const d = "
              "::__mc::dynamic_shared_array<double>(\"d\");");
}

TEST(SourceAnalysisChecked, HelpersAreRewrittenOnlyWhenAskedAndNotTemplates) {
    const std::string source =
        "__device__ void f(volatile float* s, int t) { s[t] += s[t + 1]; }\n"
        "template <class T> __device__ T g(const T* p) { return p[0]; }\n"
        "__global__ void k(float* a) { f(a, 0); }\n";
    using manycore::detail::CheckedHelpers;
    const auto helpers =
        lines_of(analyse_source(source, {}, true, CheckedHelpers::plain).prepared_source);
    EXPECT_EQ(helpers[0],
              "__device__ void f(::__mc::checked_ptr<volatile float> s, int t) { s[t] += s[t + 1]; }");
    EXPECT_EQ(helpers[1], "template <class T> __device__ T g(const T* p) { return p[0]; }");
    const auto all = lines_of(analyse_source(source, {}, true, CheckedHelpers::all).prepared_source);
    EXPECT_EQ(all[1],
              "template <class T> __device__ T g(::__mc::checked_ptr<const T> p) { return p[0]; }");
    EXPECT_EQ(helpers[2], "__global__ void k(::__mc::checked_ptr<float> a) { f(a, 0); }");
    const auto kernels_only = lines_of(checked_source(source));
    EXPECT_EQ(kernels_only[0], "__device__ void f(volatile float* s, int t) { s[t] += s[t + 1]; }");
}

TEST(SourceAnalysisChecked, DereferencesOfCheckedParametersBecomeSubscripts) {
    const std::string source =
        "__global__ void k(float* out, const float* in, int n) {\n"
        "    *out = *in * 2 + n * *in;\n"
        "    if (n) return *out++, *in->x, (void)0;\n"
        "    float* q = out; *q = 1;\n"
        "    if (n > 1) *out = (n) * *in; else *out = 0;\n"
        "}\n";
    const auto out = lines_of(checked_source(source));
    EXPECT_EQ(out[1], "    out[0] = in[0] * 2 + n * in[0];");
    EXPECT_EQ(out[2], "    if (n) return *out++, *in->x, (void)0;");
    EXPECT_EQ(out[3], "    float* q = out; *q = 1;");  // q is no parameter
    EXPECT_EQ(out[4], "    if (n > 1) out[0] = (n) * in[0]; else out[0] = 0;");
}

TEST(SourceAnalysisChecked, SharedScalarsBecomeOneElementArraysUsedAtEachLine) {
    const std::string source =
        "struct P { int total; };\n"
        "__global__ void k(int* out, P* p) {\n"
        "    __shared__ int total;\n"
        "    __shared__ float* rows;\n"
        "    if (threadIdx.x == 0) total = 0;\n"
        "    atomicAdd(&total, p->total + p[0].total);\n"
        "    out[0] = total * sizeof total;\n"
        "}\n";
    const auto out = lines_of(checked_source(source));
    EXPECT_EQ(out[3], "    __shared__ float* rows;");
    EXPECT_EQ(out[4], "    if (threadIdx.x == 0) total[0] = 0;");
    EXPECT_EQ(out[5], "    atomicAdd(&total[0], p->total + p[0].total);");
    EXPECT_EQ(out[6], "    out[0] = total[0] * sizeof total[0];");
}

TEST(SourceAnalysisChecked, UncheckedAnalysisIsUnchanged) {
    const std::string source =
        "__global__ void k(float* y) { __shared__ float s[4]; s[0] = 1; y[0] = s[0]; }\n";
    EXPECT_EQ(analyse(source).prepared_source, source);
}

}  // namespace

TEST(SourceAnalysisKernels, NonVoidKernelsAndOverloadsAreCompileErrors) {
    EXPECT_THROW(analyse("__global__ int k(int* y) { return 1; }\n"), manycore::CompileError);
    EXPECT_THROW(analyse("__global__ void k(int* y) {}\n__global__ void k(float* y) {}\n"),
                 manycore::CompileError);
    // The same kernel twice (#if branches) stays one kernel.
    EXPECT_EQ(names_of(analyse("__global__ void k(int* y) {}\n__global__ void k(int* y) {}\n")),
              Strings{"k"});
}
