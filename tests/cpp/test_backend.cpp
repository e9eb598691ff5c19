// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The Backend interface: what a backend must define, and the CPU's definitions of streams,
// events and copies.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <link.h>

#include <cstring>
#include <filesystem>
#include <numeric>
#include <type_traits>
#include <vector>

#include "core/source_analysis.hpp"
#include "manycore/detail/backend.hpp"
#include "manycore/manycore.hpp"

namespace {

using manycore::detail::Backend;
using manycore::detail::CopyKind;
using manycore::detail::CopyRequest;

// A backend with devices, memory and modules but no word on streams, events, copies, pinned
// memory, its pool or its memory's size: the core supplies none of them, so it is abstract
// (before, it silently got the CPU's: memcpy copies and host-clock events).
class DevicesOnly : public Backend {
  public:
    manycore::DeviceKind kind() const noexcept override { return manycore::DeviceKind::cuda; }
    std::string_view name() const noexcept override { return "devices-only"; }
    manycore::detail::Probe probe() const override { return {true, {}}; }
    int device_count() const override { return 1; }
    const manycore::DeviceInfo& device_info(int) const override { return info_; }
    std::shared_ptr<manycore::Buffer> allocate(int, std::size_t) const override { return {}; }
    void fill_zero(int, void*, std::size_t) const override {}
    std::shared_ptr<const manycore::detail::ModuleImpl> build(
        int, const manycore::detail::ModuleSource&) const override {
        return {};
    }

  private:
    manycore::DeviceInfo info_;
};
static_assert(std::is_abstract_v<DevicesOnly>,
              "the core must not define streams, events or copies for a backend");

TEST(CpuBackend, CopiesEveryKindAndOverlappingRanges) {
    const Backend& cpu = manycore::detail::backend(manycore::DeviceKind::cpu);
    for (const CopyKind kind :
         {CopyKind::host_to_device, CopyKind::device_to_host, CopyKind::device_to_device}) {
        std::vector<int> v(16);
        std::iota(v.begin(), v.end(), 0);
        CopyRequest r;
        r.kind = kind;
        r.dst = v.data() + 1;  // overlapping: a memmove, not a memcpy
        r.src = v.data();
        r.bytes = 8 * sizeof(int);
        cpu.copy(0, r);
        EXPECT_EQ(v[0], 0);
        for (int i = 1; i <= 8; ++i) EXPECT_EQ(v[i], i - 1) << i;
        EXPECT_EQ(v[9], 9);
    }
}

// The CPU is one device: a copy within it takes the device's own path, and one between two
// CPU devices is refused, not done as if they were one.
TEST(CpuBackend, HasOneDeviceToCopyBetween) {
    const Backend& cpu = manycore::detail::backend(manycore::DeviceKind::cpu);
    EXPECT_EQ(cpu.path_between(0, 0), manycore::CopyPath::device);
    EXPECT_THROW((void)cpu.path_between(1, 0), manycore::InvalidArgument);
    int a = 1, b = 2;
    CopyRequest r;
    r.kind = CopyKind::device_to_device;
    r.dst = &a;
    r.src = &b;
    r.bytes = sizeof(int);
    EXPECT_THROW((void)cpu.copy_between(1, 0, r), manycore::InvalidArgument);
    EXPECT_EQ(a, 1);
}

TEST(CpuBackend, StreamsAreDistinctTokensAlwaysIdle) {
    const Backend& cpu = manycore::detail::backend(manycore::DeviceKind::cpu);
    void* a = cpu.create_stream(0);
    void* b = cpu.create_stream(0);
    EXPECT_NE(a, b);
    EXPECT_TRUE(cpu.query_stream(0, a));
    cpu.synchronize_stream(0, a);
    cpu.destroy_stream(0, a);
    cpu.destroy_stream(0, b);
}

TEST(CpuBackend, EventsAreTheHostClockWhenRecorded) {
    const Backend& cpu = manycore::detail::backend(manycore::DeviceKind::cpu);
    void* start = cpu.create_event(0, true);
    void* end = cpu.create_event(0, true);
    cpu.record_event(0, start, nullptr);
    volatile double sink = 0;
    for (int i = 0; i < 2000000; ++i) sink = sink + i;
    cpu.record_event(0, end, nullptr);
    EXPECT_TRUE(cpu.query_event(0, end));
    const float ms = cpu.elapsed_ms(0, start, end);
    EXPECT_GT(ms, 0.0f);
    EXPECT_LT(cpu.elapsed_ms(0, end, start), 0.0f);
    cpu.destroy_event(0, start);
    cpu.destroy_event(0, end);
}

TEST(CpuBackend, MemoryIsTheHostsAndHasNoPool) {
    const Backend& cpu = manycore::detail::backend(manycore::DeviceKind::cpu);
    const auto [free, total] = cpu.memory_info(0);
    EXPECT_GT(total, 0u);
    EXPECT_LE(free, total);
    EXPECT_EQ(total, cpu.device_info(0).total_memory);
    EXPECT_EQ(cpu.allocate_pinned(64), nullptr);
}

// At exit, static destructors run while other threads may still be in kernel code: a CPU
// module's library is never unloaded, so its code and data outlive the module.
TEST(CpuBackend, AModulesLibraryStaysLoadedAfterTheModuleIsGone) {
    const std::string source =
        "__device__ int marker = 7;\n__global__ void k(int* p) { p[0] = marker; }\n"
        "// library lifetime test\n";
    const auto analysis = manycore::detail::analyse_source(source, {});
    manycore::detail::ModuleSource m;
    m.user_source = source;
    m.prepared_source = analysis.prepared_source;
    m.kernels = analysis.kernels;
    const void* marker = nullptr;
    {
        const auto module = manycore::detail::backend(manycore::DeviceKind::cpu).build(0, m);
        ASSERT_EQ(module.use_count(), 1);  // not kept by anything else: this scope drops it
        marker = module->global("marker").address;
        ASSERT_NE(marker, nullptr);
    }
    Dl_info info{};
    EXPECT_NE(::dladdr(marker, &info), 0) << "the library was unloaded with its module";
    EXPECT_EQ(*static_cast<const int*>(marker), 7);
}

std::size_t loaded_objects() {
    std::size_t n = 0;
    ::dl_iterate_phdr([](dl_phdr_info*, std::size_t, void* count) {
        ++*static_cast<std::size_t*>(count);
        return 0;
    }, &n);
    return n;
}

std::size_t open_descriptors() {
    return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator("/proc/self/fd"),
                                                  std::filesystem::directory_iterator{}));
}

// A library that loads but is no module of this version (its table names another ABI) is an
// error, and leaves neither the library loaded nor its descriptor open.
TEST(CpuBackend, ALibraryThatIsNoModuleIsUnloadedAgain) {
    const std::string source =
        "__global__ void k(int* p) { p[0] = 1; }\n#undef MC_ABI_VERSION\n#define MC_ABI_VERSION 999\n";
    const auto try_to_load = [&] {
        try {
            manycore::Module module(source, manycore::Device::cpu());
            ADD_FAILURE() << "expected an Error";
        } catch (const manycore::Error& e) {
            EXPECT_NE(std::string(e.what()).find("is not a manycore module of this version"),
                      std::string::npos) << e.what();
        }
    };
    try_to_load();  // compiles it (or finds it in the cache)
    const std::size_t objects = loaded_objects(), descriptors = open_descriptors();
    for (int i = 0; i < 3; ++i) try_to_load();
    EXPECT_EQ(loaded_objects(), objects);
    EXPECT_EQ(open_descriptors(), descriptors);
}

}  // namespace
