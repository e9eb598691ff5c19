// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Specification of the host-compiler driver: discovery, compiling, errors, loading from the cache.
#include <dlfcn.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/compile_cache.hpp"
#include "cpu/host_compiler.hpp"
#include "manycore/error.hpp"

namespace fs = std::filesystem;
using manycore::CompileError;
using manycore::cpu::compile_shared_library;
using manycore::cpu::host_compiler;

namespace {

// -fvisibility=hidden is on, so what the loader looks up must be exported explicitly.
constexpr const char* kAnswer =
    "extern \"C\" __attribute__((visibility(\"default\"))) int f() { return VALUE; }\n";

/// Sets an environment variable for one scope.
class ScopedEnv {
  public:
    ScopedEnv(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        if (value) ::setenv(name, value, 1);
        else ::unsetenv(name);
    }
    ~ScopedEnv() {
        if (old_) ::setenv(name_, old_->c_str(), 1);
        else ::unsetenv(name_);
    }

  private:
    const char* name_;
    std::optional<std::string> old_;
};

class HostCompilerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string templ = (fs::temp_directory_path() / "mc-hc-test-XXXXXX").string();
        ASSERT_NE(::mkdtemp(templ.data()), nullptr);
        base_ = templ;
        // A space in TMPDIR proves that no shell sits between us and the compiler.
        tmp_ = base_ / "tmp with space";
        fs::create_directory(tmp_);
        tmpdir_.emplace("TMPDIR", tmp_.c_str());
    }
    void TearDown() override {
        tmpdir_.reset();
        std::error_code ec;
        fs::remove_all(base_, ec);
    }
    std::vector<std::byte> compile(const std::string& tu, std::vector<std::string> options) {
        return compile_shared_library(host_compiler(), tu, options, tu);
    }

    fs::path base_, tmp_;
    std::optional<ScopedEnv> tmpdir_;
};

bool is_elf(const std::vector<std::byte>& b) {
    return b.size() > 4 && b[0] == std::byte{0x7f} && b[1] == std::byte{'E'} &&
           b[2] == std::byte{'L'} && b[3] == std::byte{'F'};
}

/// A library loaded from a cache entry through /proc/self/fd. The descriptor must outlive the
/// handle: glibc matches dlopen names, so once the descriptor is closed and its number reused,
/// dlopen("/proc/self/fd/N") would hand back this library instead of the new one.
struct Loaded {
    manycore::detail::VerifiedFile file;
    void* handle = nullptr;
    Loaded() = default;
    Loaded(const Loaded&) = delete;
    Loaded& operator=(const Loaded&) = delete;
    ~Loaded() {
        if (handle) ::dlclose(handle);
    }
    int call_f() const {
        auto* f = reinterpret_cast<int (*)()>(::dlsym(handle, "f"));
        EXPECT_NE(f, nullptr) << ::dlerror();
        return f ? f() : -1;
    }
};

/// Stores `so` in a cache under `root` and dlopens it through the verified descriptor.
void load(const fs::path& root, const std::string& name, const std::vector<std::byte>& so,
          Loaded* out) {
    manycore::detail::CompileCache cache(root);
    out->file = cache.get_or_build(manycore::detail::CacheKey::of({name}), ".so",
                                   [&] { return so; });
    out->handle = ::dlopen(out->file.proc_path().c_str(), RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(out->handle, nullptr) << ::dlerror();
}

}  // namespace

TEST(HostCompiler, FindsACompiler) {
    const auto& c = host_compiler();
    EXPECT_TRUE(c.path.is_absolute()) << c.path;
    EXPECT_TRUE(fs::exists(c.path)) << c.path;
    const std::string& version = manycore::cpu::host_compiler_version();
    EXPECT_FALSE(version.empty());
    EXPECT_EQ(version.find('\n'), std::string::npos);
    EXPECT_EQ(&manycore::cpu::host_compiler_version(), &version);  // run once
    EXPECT_NE(c.identity.find(c.path.string()), std::string::npos) << c.identity;
    EXPECT_NE(c.identity.find("mtime="), std::string::npos) << c.identity;
    EXPECT_EQ(&host_compiler(), &c);  // computed once
    EXPECT_EQ(host_compiler().identity, c.identity);
}

TEST(HostCompiler, DefaultOptions) {
    EXPECT_EQ(manycore::cpu::default_compile_options(),
              (std::vector<std::string>{"-O3", "-march=native", "-fno-trapping-math"}));
}

TEST_F(HostCompilerTest, CompilesLoadsThroughTheCacheAndPassesOptions) {
    const std::vector<std::byte> so42 = compile(kAnswer, {"-O2", "-DVALUE=42"});
    ASSERT_TRUE(is_elf(so42));
    const std::vector<std::byte> so7 = compile(kAnswer, {"-DVALUE=7"});
    ASSERT_TRUE(is_elf(so7));
    EXPECT_TRUE(fs::is_empty(tmp_)) << "the build folder is removed";

    Loaded a, b;
    load(base_ / "cache", "42", so42, &a);
    load(base_ / "cache", "7", so7, &b);
    EXPECT_EQ(a.call_f(), 42);
    EXPECT_EQ(b.call_f(), 7);
    EXPECT_NE(a.handle, b.handle);
    EXPECT_EQ(a.file.payload_size(), so42.size());
}

TEST_F(HostCompilerTest, SymbolsAreHiddenUnlessExported) {
    const std::vector<std::byte> so =
        compile("extern \"C\" int g() { return 1; }\n" + std::string(kAnswer), {"-DVALUE=3"});
    Loaded lib;
    load(base_ / "cache", "hidden", so, &lib);
    EXPECT_EQ(lib.call_f(), 3);
    EXPECT_EQ(::dlsym(lib.handle, "g"), nullptr);
}

TEST_F(HostCompilerTest, SyntaxErrorNamesTheUsersLine) {
    const std::string user = "extern \"C\" int f() {\n  int x = 1;\n  return x +;\n}\n";
    const std::string tu = "// generated prelude\n#line 1 \"kernel.cu\"\n" + user;
    try {
        (void)compile_shared_library(host_compiler(), tu, {"-O1"}, user);
        FAIL() << "expected CompileError";
    } catch (const CompileError& e) {
        EXPECT_NE(e.log().find("kernel.cu:3"), std::string::npos) << e.log();
        EXPECT_EQ(e.source(), user);
        EXPECT_EQ(e.options(), (std::vector<std::string>{"-O1"}));
        const std::string what = e.what();
        EXPECT_EQ(what.rfind("SourceModule: the kernel source did not compile (", 0), 0u) << what;
        EXPECT_NE(what.find("kernel.cu:3"), std::string::npos) << what;
        EXPECT_EQ(e.log().find("manycore-build-"), std::string::npos) << e.log();
    }
    EXPECT_TRUE(fs::is_empty(tmp_)) << "the build folder is removed after a failure too";
}

TEST_F(HostCompilerTest, LongLogsAreTrimmedInTheMessageOnly) {
    std::string user = "void k() {\n";
    for (int i = 0; i < 100; ++i) user += "  undeclared_" + std::to_string(i) + " = 1;\n";
    user += "}\n";
    try {
        (void)compile_shared_library(host_compiler(), "#line 1 \"long.cu\"\n" + user, {}, user);
        FAIL() << "expected CompileError";
    } catch (const CompileError& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("more lines; the full log is in CompileError.log"), std::string::npos);
        EXPECT_EQ(what.find("undeclared_99"), std::string::npos);
        EXPECT_NE(e.log().find("undeclared_99"), std::string::npos);
    }
}

TEST_F(HostCompilerTest, OptionsThatMakeNoLibraryAreReported) {
    try {
        (void)compile(kAnswer, {"-DVALUE=1", "-c"});
        FAIL() << "expected CompileError";
    } catch (const CompileError& e) {
        EXPECT_NE(std::string(e.what()).find("made no shared library"), std::string::npos)
            << e.what();
    }
}

// Config and host_compiler() are read once per process, so these run in a fresh process
// (the threadsafe death-test style re-executes this binary).
TEST(HostCompilerDiscovery, MissingCompilerIsDeviceUnavailable) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    auto probe = [] {
        try {
            (void)host_compiler();
        } catch (const manycore::DeviceUnavailable& e) {
            std::fprintf(stderr, "%s\n", e.what());
            std::exit(3);
        }
        std::exit(0);
    };
    {
        ScopedEnv cxx("CXX", "/nonexistent/g++");
        EXPECT_EXIT(probe(), ::testing::ExitedWithCode(3),
                    "no C\\+\\+ compiler found: CXX='/nonexistent/g\\+\\+'.*set CXX");
    }
    {
        ScopedEnv cxx("CXX", nullptr);
        ScopedEnv path("PATH", "/nonexistent-a:/nonexistent-b");
        EXPECT_EXIT(probe(), ::testing::ExitedWithCode(3),
                    "CXX is unset, and neither g\\+\\+ nor clang\\+\\+ is on PATH "
                    "\\(/nonexistent-a:/nonexistent-b\\); install g\\+\\+ or set CXX");
    }
}

TEST(HostCompilerDiscovery, CxxNamesAProgramOnPath) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    for (const char* name : {"g++", "clang++"}) {
        SCOPED_TRACE(name);
        bool on_path = false;
        for (const char* dir : {"/usr/bin", "/usr/local/bin", "/bin"})
            on_path |= ::access((std::string(dir) + "/" + name).c_str(), X_OK) == 0;
        if (!on_path) continue;
        ScopedEnv cxx("CXX", name);
        // Runs the compiler under the name it was found by (clang++ is a C driver when run as
        // clang-NN), compiles, loads, and reports f() through the exit code.
        EXPECT_EXIT(
            {
                const auto& c = host_compiler();
                if (c.path.filename() != name) std::exit(10);
                const auto so = compile_shared_library(c, kAnswer, {"-DVALUE=5"}, "");
                std::string templ = (fs::temp_directory_path() / "mc-hc-XXXXXX").string();
                if (!::mkdtemp(templ.data())) std::exit(11);
                int v = -1;
                {
                    Loaded lib;
                    load(fs::path(templ) / "c", name, so, &lib);
                    if (lib.handle) v = lib.call_f();
                }
                fs::remove_all(templ);
                std::exit(v);
            },
            ::testing::ExitedWithCode(5), "");
    }
}
