// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The CPU executor against hand-written kernel entries: loop and fiber modes, barriers, warps.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cpu/executor.hpp"
#include "manycore/error.hpp"

namespace {

using manycore::KernelFault;
using manycore::cpu::execute;
using manycore::cpu::LaunchRequest;
using manycore::cpu::runtime_api;
using manycore::cpu::worker_count;

// Every test kernel takes one parameter: a pointer to its test's data.
template <class T>
T& data_of(const mc_launch* launch) {
    return *static_cast<T*>(launch->args[0]);
}

template <class T>
void launch(const mc_kernel_entry& kernel, mc_dim3 grid, mc_dim3 block, T& data,
            std::size_t shared = 0) {
    void* args[] = {const_cast<void*>(static_cast<const void*>(&data))};
    LaunchRequest r;
    r.kernel = &kernel;
    r.kernel_name = kernel.name;
    r.grid = grid;
    r.block = block;
    r.dynamic_shared_bytes = shared;
    r.args = args;
    r.use_fibers = kernel.run_thread != nullptr;
    execute(r);
}

mc_kernel_entry loop_kernel(const char* name, mc_run_blocks_fn fn) {
    return mc_kernel_entry{name, 0, nullptr, fn, nullptr, 0};
}
mc_kernel_entry fiber_kernel(const char* name, mc_run_thread_fn fn) {
    return mc_kernel_entry{name, 0, nullptr, nullptr, fn, 0};
}

std::uint32_t threads_of(const mc_launch* l) { return l->block.x * l->block.y * l->block.z; }
std::uint32_t linear(mc_dim3 t, const mc_dim3& d) { return t.x + t.y * d.x + t.z * d.x * d.y; }
std::uint64_t linear_block(mc_dim3 b, const mc_dim3& g) {
    return b.x + std::uint64_t{b.y} * g.x + std::uint64_t{b.z} * g.x * g.y;
}
// The thread's index over the whole launch, so blocks on different workers never share a slot.
std::size_t global_id(const mc_launch* l, mc_dim3 b, mc_dim3 t) {
    return linear_block(b, l->grid) * threads_of(l) + linear(t, l->block);
}

int sync(const mc_launch* l, mc_worker* w, int op = MC_SYNC_PLAIN, int pred = 0) {
    return l->rt->sync_block(w, op, pred);
}

// Fails the test run instead of hanging it when `fn` does not return in time.
template <class Fn>
void within(std::chrono::seconds limit, Fn fn) {
    auto done = std::async(std::launch::async, fn);
    if (done.wait_for(limit) == std::future_status::timeout) {
        std::fprintf(stderr, "hung for %llds; aborting\n", static_cast<long long>(limit.count()));
        std::_Exit(3);
    }
    done.get();
}

// ---- loop mode ----------------------------------------------------------------------------

struct Counts {
    std::vector<std::atomic<int>> hits;
    explicit Counts(std::size_t n) : hits(n) {}
};

void count_blocks(const mc_launch* l, mc_worker*, void*, std::uint64_t first, std::uint64_t last) {
    auto& c = data_of<Counts>(l);
    const std::uint32_t n = threads_of(l);
    for (std::uint64_t b = first; b < last; ++b) {
        for (std::uint32_t t = 0; t < n; ++t) c.hits[b * n + t].fetch_add(1);
    }
}

TEST(LoopMode, EveryElementExactlyOnce) {
    const mc_kernel_entry k = loop_kernel("count", &count_blocks);
    const mc_dim3 shapes[][2] = {{{1000, 1, 1}, {64, 1, 1}},
                                 {{13, 7, 1}, {8, 4, 1}},
                                 {{5, 4, 3}, {4, 2, 3}},
                                 {{1, 1, 1}, {7, 1, 1}},
                                 {{3, 1, 1}, {1, 1, 1}}};
    for (const auto& s : shapes) {
        const std::size_t n = std::size_t{s[0].x} * s[0].y * s[0].z * s[1].x * s[1].y * s[1].z;
        Counts c(n);
        launch(k, s[0], s[1], c);
        for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(c.hits[i].load(), 1) << "element " << i;
    }
}

TEST(LoopMode, EmptyGridRunsNothing) {
    const mc_kernel_entry k = loop_kernel("count", &count_blocks);
    Counts c(1);
    launch(k, {0, 4, 1}, {32, 1, 1}, c);
    EXPECT_EQ(c.hits[0].load(), 0);
}

struct ThreadIds {
    std::mutex mutex;
    std::set<std::thread::id> ids;
};

void note_thread(const mc_launch* l, mc_worker*, void*, std::uint64_t first, std::uint64_t last) {
    auto& d = data_of<ThreadIds>(l);
    for (std::uint64_t b = first; b < last; ++b) {
        const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(20);
        while (std::chrono::steady_clock::now() < until) {
        }
        const std::lock_guard lock(d.mutex);
        d.ids.insert(std::this_thread::get_id());
    }
}

TEST(LoopMode, SeveralWorkersTakePart) {
    if (worker_count() < 2) GTEST_SKIP() << "needs MANYCORE_NUM_THREADS >= 2";
    const mc_kernel_entry k = loop_kernel("ids", &note_thread);
    ThreadIds d;
    launch(k, {2048, 1, 1}, {1, 1, 1}, d);
    EXPECT_GE(d.ids.size(), 2u);
}

void note_thread_fiber(const mc_launch* l, mc_worker* w, void*, mc_dim3, mc_dim3) {
    sync(l, w);
    auto& d = data_of<ThreadIds>(l);
    const std::lock_guard lock(d.mutex);
    d.ids.insert(std::this_thread::get_id());
}

TEST(Executor, SingleBlockRunsOnTheCallingThread) {
    for (const auto& k :
         {loop_kernel("ids", &note_thread), fiber_kernel("ids", &note_thread_fiber)}) {
        ThreadIds d;
        launch(k, {1, 1, 1}, {64, 1, 1}, d);
        ASSERT_EQ(d.ids.size(), 1u);
        EXPECT_EQ(*d.ids.begin(), std::this_thread::get_id());
    }
}

struct SharedCheck {
    std::size_t bytes;
    std::atomic<int> bad{0};
};

void check_shared_loop(const mc_launch* l, mc_worker*, void* shared, std::uint64_t, std::uint64_t) {
    auto& d = data_of<SharedCheck>(l);
    if (shared == nullptr || reinterpret_cast<std::uintptr_t>(shared) % 128 != 0) ++d.bad;
    if (shared != nullptr) std::fill_n(static_cast<unsigned char*>(shared), d.bytes, 0xab);
}

void check_shared_fiber(const mc_launch* l, mc_worker* w, void* shared, mc_dim3, mc_dim3 t) {
    auto& d = data_of<SharedCheck>(l);
    auto* bytes = static_cast<unsigned char*>(shared);
    if (t.x == 0) std::fill_n(bytes, d.bytes, static_cast<unsigned char>(7));
    sync(l, w);
    if (bytes[(d.bytes - 1) * t.x / 31] != 7) ++d.bad;
}

TEST(Executor, DynamicSharedIsAlignedAndLargeEnough) {
    const mc_kernel_entry loop = loop_kernel("shared", &check_shared_loop);
    const mc_kernel_entry fiber = fiber_kernel("shared", &check_shared_fiber);
    for (std::size_t bytes : {std::size_t{1}, std::size_t{10000}, std::size_t{100000}}) {
        SharedCheck d{bytes};
        launch(loop, {64, 1, 1}, {32, 1, 1}, d, bytes);
        launch(fiber, {8, 1, 1}, {32, 1, 1}, d, bytes);
        EXPECT_EQ(d.bad.load(), 0) << bytes << " bytes";
    }
    SharedCheck none{0};
    launch(loop, {1, 1, 1}, {1, 1, 1}, none, 0);
    EXPECT_EQ(none.bad.load(), 0);
}

// ---- fiber mode: barriers -----------------------------------------------------------------

struct Reduction {
    std::vector<std::int64_t> in, out;
};

void tree_reduce(const mc_launch* l, mc_worker* w, void*, mc_dim3 b, mc_dim3 t) {
    // As a kernel library lays out `__shared__ int64_t s[1024];`.
    static thread_local std::int64_t s[1024];
    auto& d = data_of<Reduction>(l);
    const std::uint32_t n = threads_of(l);
    s[t.x] = d.in[b.x * n + t.x];
    sync(l, w);
    for (std::uint32_t stride = n / 2; stride > 0; stride /= 2) {
        if (t.x < stride) s[t.x] += s[t.x + stride];
        sync(l, w);
    }
    if (t.x == 0) d.out[b.x] = s[0];
}

void check_reduction(std::uint32_t blocks, std::uint32_t threads) {
    const mc_kernel_entry k = fiber_kernel("reduce", &tree_reduce);
    Reduction d;
    d.in.resize(std::size_t{blocks} * threads);
    for (std::size_t i = 0; i < d.in.size(); ++i) d.in[i] = static_cast<std::int64_t>(i * 7 % 1000);
    d.out.assign(blocks, -1);
    launch(k, {blocks, 1, 1}, {threads, 1, 1}, d);
    for (std::uint32_t b = 0; b < blocks; ++b) {
        std::int64_t want = 0;
        for (std::uint32_t t = 0; t < threads; ++t) want += d.in[b * threads + t];
        ASSERT_EQ(d.out[b], want) << "block " << b;
    }
}

TEST(FiberMode, TreeReductionOverManyBlocks) { check_reduction(64, 256); }
TEST(FiberMode, BlocksOf1024Threads) { check_reduction(6, 1024); }

struct Indices {
    std::vector<std::uint32_t> seen;  // linear thread id as the executor's indices give it
    std::atomic<int> bad{0};
};

void check_indices(const mc_launch* l, mc_worker* w, void*, mc_dim3 b, mc_dim3 t) {
    auto& d = data_of<Indices>(l);
    if (t.x >= l->block.x || t.y >= l->block.y || t.z >= l->block.z) ++d.bad;
    sync(l, w);
    const std::uint64_t global = linear_block(b, l->grid) * threads_of(l) + linear(t, l->block);
    d.seen[global] += 1;
}

TEST(FiberMode, ThreeDimensionalBlocksAndGrids) {
    const mc_kernel_entry k = fiber_kernel("idx", &check_indices);
    const mc_dim3 grid{3, 2, 2};
    const mc_dim3 block{8, 4, 3};
    Indices d;
    d.seen.assign(12 * 96, 0);
    launch(k, grid, block, d);
    EXPECT_EQ(d.bad.load(), 0);
    for (std::size_t i = 0; i < d.seen.size(); ++i) ASSERT_EQ(d.seen[i], 1u) << i;
}

struct SyncResults {
    std::vector<int> count, all_false_or, mixed_and, mixed_or, all_true_and;
};

void sync_ops(const mc_launch* l, mc_worker* w, void*, mc_dim3 b, mc_dim3 t) {
    auto& d = data_of<SyncResults>(l);
    const std::size_t i = global_id(l, b, t);
    const int mixed = linear(t, l->block) % 3 == 0;
    d.count[i] = sync(l, w, MC_SYNC_COUNT, mixed);
    d.mixed_and[i] = sync(l, w, MC_SYNC_AND, mixed);
    d.mixed_or[i] = sync(l, w, MC_SYNC_OR, mixed);
    d.all_true_and[i] = sync(l, w, MC_SYNC_AND, 5);
    d.all_false_or[i] = sync(l, w, MC_SYNC_OR, 0);
    if (sync(l, w, MC_SYNC_PLAIN, 1) != 0) d.count[i] = -1;
}

TEST(FiberMode, SyncthreadsCountAndOr) {
    const mc_kernel_entry k = fiber_kernel("ops", &sync_ops);
    SyncResults d;
    for (auto* v : {&d.count, &d.all_false_or, &d.mixed_and, &d.mixed_or, &d.all_true_and}) {
        v->assign(300, -2);
    }
    launch(k, {3, 1, 1}, {10, 10, 1}, d);
    for (int i = 0; i < 300; ++i) {
        ASSERT_EQ(d.count[i], 34);
        ASSERT_EQ(d.mixed_and[i], 0);
        ASSERT_EQ(d.mixed_or[i], 1);
        ASSERT_EQ(d.all_true_and[i], 1);
        ASSERT_EQ(d.all_false_or[i], 0);
    }
}

struct EarlyExit {
    std::vector<int> first, later;
};

void early_exit(const mc_launch* l, mc_worker* w, void*, mc_dim3 b, mc_dim3 t) {
    auto& d = data_of<EarlyExit>(l);
    const std::size_t i = global_id(l, b, t);
    if (t.x >= 40) return;  // never reaches a barrier
    d.first[i] = sync(l, w, MC_SYNC_COUNT, 1);
    if (t.x >= 30) return;  // leaves between barriers
    for (int r = 0; r < 3; ++r) d.later[i] += sync(l, w, MC_SYNC_COUNT, 1);
    // Threads 0-9 wait at a barrier the others never reach: exits release it.
    if (t.x < 10) sync(l, w);
}

TEST(FiberMode, ThreadsThatReturnCountAsArrived) {
    const mc_kernel_entry k = fiber_kernel("early", &early_exit);
    EarlyExit d;
    d.first.assign(4 * 64, 0);
    d.later.assign(4 * 64, 0);
    within(std::chrono::seconds(30), [&] { launch(k, {4, 1, 1}, {64, 1, 1}, d); });
    for (int i = 0; i < 4 * 64; ++i) {
        EXPECT_EQ(d.first[i], i % 64 < 40 ? 40 : 0) << i;
        EXPECT_EQ(d.later[i], i % 64 < 30 ? 3 * 30 : 0) << i;
    }
}

// ---- fiber mode: warp collectives ---------------------------------------------------------

struct WarpData {
    std::vector<std::uint64_t> a, b;
    std::vector<std::uint32_t> mask, active;
    explicit WarpData(std::size_t n) : a(n), b(n), mask(n), active(n) {}
};

std::uint64_t collect(const mc_launch* l, mc_worker* w, std::uint32_t mask, std::uint64_t v,
                      std::uint64_t (&out)[32], std::uint32_t* took_part = nullptr) {
    const std::uint32_t m = l->rt->warp_collect(w, mask, v, out);
    if (took_part) *took_part = m;
    return m;
}

void shuffles(const mc_launch* l, mc_worker* w, void*, mc_dim3 b, mc_dim3 t) {
    auto& d = data_of<WarpData>(l);
    const std::size_t i = global_id(l, b, t);
    const std::uint32_t lane = linear(t, l->block) % 32, warp = linear(t, l->block) / 32;
    std::uint64_t out[32];
    d.active[i] = l->rt->active_mask(w);
    // Broadcast from lane 3 (__shfl_sync(full, v, 3)).
    collect(l, w, ~0u, 1000 * warp + lane, out, &d.mask[i]);
    d.a[i] = out[3];
    // Butterfly reduction (__shfl_xor_sync), five rounds.
    std::uint64_t v = lane + 1;
    for (unsigned off = 16; off > 0; off /= 2) {
        collect(l, w, ~0u, v, out);
        v += out[lane ^ off];
    }
    d.b[i] = v;
}

TEST(WarpCollect, BroadcastAndButterflyReduction) {
    const mc_kernel_entry k = fiber_kernel("shfl", &shuffles);
    WarpData d(2 * 96);
    launch(k, {2, 1, 1}, {32, 3, 1}, d);
    for (std::uint32_t i = 0; i < 2 * 96; ++i) {
        ASSERT_EQ(d.mask[i], ~0u);
        ASSERT_EQ(d.a[i], 1000 * (i % 96 / 32) + 3);
        ASSERT_EQ(d.b[i], 32u * 33 / 2);
        ASSERT_EQ(d.active[i], ~0u);
    }
}

void ballot(const mc_launch* l, mc_worker* w, void*, mc_dim3, mc_dim3 t) {
    auto& d = data_of<WarpData>(l);
    const std::uint32_t i = linear(t, l->block);
    std::uint64_t out[32];
    const std::uint32_t took = l->rt->warp_collect(w, ~0u, (i % 32) % 3 == 0, out);
    std::uint32_t bits = 0;
    for (unsigned lane = 0; lane < 32; ++lane) {
        if ((took >> lane & 1u) && out[lane] != 0) bits |= 1u << lane;
    }
    d.a[i] = bits;
    d.mask[i] = took;
    d.active[i] = l->rt->active_mask(w);
    collect(l, w, ~0u, i, out);  // broadcast from the last lane of a partial warp
    d.b[i] = out[7];
}

TEST(WarpCollect, BallotOverAPartialWarp) {
    const mc_kernel_entry k = fiber_kernel("ballot", &ballot);
    WarpData d(40);
    launch(k, {1, 1, 1}, {40, 1, 1}, d);
    for (std::uint32_t i = 0; i < 40; ++i) {
        const std::uint32_t lanes = i < 32 ? ~0u : 0xffu;
        ASSERT_EQ(d.mask[i], lanes) << i;
        ASSERT_EQ(d.active[i], lanes) << i;
        ASSERT_EQ(d.a[i], 0x49249249u & lanes) << i;
        ASSERT_EQ(d.b[i], (i / 32) * 32 + 7) << i;
    }
}

void exits_in_warp(const mc_launch* l, mc_worker* w, void*, mc_dim3, mc_dim3 t) {
    auto& d = data_of<WarpData>(l);
    const std::uint32_t lane = t.x;
    std::uint64_t out[32];
    if (lane >= 28) return;  // gone before any collective
    if (lane < 4) {
        // A sub-warp collective among lanes 0-3; then they return while lanes 4-27 wait in
        // a full-mask collective that names them: their exit must complete it.
        collect(l, w, 0xfu, lane, out, &d.mask[lane]);
        d.a[lane] = out[0] + out[1] + out[2] + out[3];
        return;
    }
    collect(l, w, ~0u, lane, out, &d.mask[lane]);
    // A lane that went on first could have returned already; a barrier on each side of the
    // query keeps every lane of the group alive for it.
    sync(l, w);
    d.active[lane] = l->rt->active_mask(w);
    sync(l, w);
}

TEST(WarpCollect, MasksNamingExitedLanes) {
    const mc_kernel_entry k = fiber_kernel("exits", &exits_in_warp);
    WarpData d(32);
    within(std::chrono::seconds(30), [&] { launch(k, {1, 1, 1}, {32, 1, 1}, d); });
    for (std::uint32_t lane = 0; lane < 4; ++lane) {
        EXPECT_EQ(d.mask[lane], 0xfu);
        EXPECT_EQ(d.a[lane], 6u);
    }
    for (std::uint32_t lane = 4; lane < 28; ++lane) {
        EXPECT_EQ(d.mask[lane], 0x0ffffff0u) << lane;
        EXPECT_EQ(d.active[lane], 0x0ffffff0u) << lane;
    }
}

void halves(const mc_launch* l, mc_worker* w, void*, mc_dim3, mc_dim3 t) {
    auto& d = data_of<WarpData>(l);
    std::uint64_t out[32];
    const std::uint32_t lane = t.x % 32;
    const std::uint32_t half = lane < 16 ? 0x0000ffffu : 0xffff0000u;
    // Lanes 0-15 shuffle among themselves before the barrier, lanes 16-31 after it.
    if (lane < 16) collect(l, w, half, lane, out, &d.mask[t.x]);
    sync(l, w);
    if (lane >= 16) collect(l, w, half, lane, out, &d.mask[t.x]);
    std::uint64_t sum = 0;
    for (unsigned j = 0; j < 32; ++j) sum += (half >> j & 1u) ? out[j] : 0;
    d.a[t.x] = sum;
}

TEST(WarpCollect, IndependentHalfWarpCollectives) {
    const mc_kernel_entry k = fiber_kernel("halves", &halves);
    WarpData d(64);
    within(std::chrono::seconds(30), [&] { launch(k, {1, 1, 1}, {64, 1, 1}, d); });
    for (std::uint32_t i = 0; i < 64; ++i) {
        const bool low = i % 32 < 16;
        EXPECT_EQ(d.mask[i], low ? 0x0000ffffu : 0xffff0000u) << i;
        EXPECT_EQ(d.a[i], low ? 120u : 376u) << i;
    }
}

// ---- printf ------------------------------------------------------------------------------

void print_loop(const mc_launch* l, mc_worker* w, void*, std::uint64_t first, std::uint64_t last) {
    for (std::uint64_t b = first; b < last; ++b) {
        // Uneven work so blocks finish out of order across workers.
        volatile std::uint64_t spin = (b * 7919) % 5000;
        while (spin > 0) spin = spin - 1;
        for (std::uint32_t t = 0; t < threads_of(l); ++t) {
            for (int call = 0; call < 2; ++call) {
                const std::string line = "b" + std::to_string(b) + " t" + std::to_string(t) + " c" +
                                         std::to_string(call) + "\n";
                l->rt->print(w, b, t, line.data(), line.size());
            }
        }
    }
}

void print_fiber(const mc_launch* l, mc_worker* w, void*, mc_dim3 b, mc_dim3 t) {
    for (int call = 0; call < 2; ++call) {
        const std::string line = "b" + std::to_string(b.x) + " t" + std::to_string(t.x) + " c" +
                                 std::to_string(call) + "\n";
        l->rt->print(w, b.x, t.x, line.data(), line.size());
        sync(l, w);  // interleaves the threads' calls in time
    }
}

TEST(Printf, RecordsComeOutSortedByBlockThreadCall) {
    const int dummy = 0;
    std::string want;
    for (int b = 0; b < 64; ++b) {
        for (int t = 0; t < 8; ++t) {
            for (int c = 0; c < 2; ++c) {
                want += "b" + std::to_string(b) + " t" + std::to_string(t) + " c" +
                        std::to_string(c) + "\n";
            }
        }
    }
    for (const auto& k : {loop_kernel("print", &print_loop), fiber_kernel("print", &print_fiber)}) {
        std::fflush(stdout);
        testing::internal::CaptureStdout();
        launch(k, {64, 1, 1}, {8, 1, 1}, dummy);
        EXPECT_EQ(testing::internal::GetCapturedStdout(), want) << k.name;
    }
}

// ---- faults and deadlocks -----------------------------------------------------------------

struct FaultData {
    std::atomic<int> blocks_run{0};
    std::atomic<int> alive{0};  // objects on fiber stacks not yet destroyed
};

struct Tracked {
    std::atomic<int>& alive;
    explicit Tracked(std::atomic<int>& a) : alive(a) { ++alive; }
    ~Tracked() { --alive; }
};

void fault_loop(const mc_launch* l, mc_worker* w, void*, std::uint64_t first, std::uint64_t last) {
    auto& d = data_of<FaultData>(l);
    for (std::uint64_t b = first; b < last; ++b) {
        if (b == 0) l->rt->fault(w, "assertion 'x > 0' failed in block (0,0,0)", "k.cu", 42);
        // Blocks that take a while (10000 x 5 us), so the launch is still running when the
        // fault cancels it.
        const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(5);
        while (std::chrono::steady_clock::now() < until) {
        }
        ++d.blocks_run;
    }
}

void fault_fiber(const mc_launch* l, mc_worker* w, void*, mc_dim3 b, mc_dim3 t) {
    auto& d = data_of<FaultData>(l);
    const Tracked guard(d.alive);
    if (t.x == 0) {
        ++d.blocks_run;
        const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(20);
        while (std::chrono::steady_clock::now() < until) {
        }
    }
    sync(l, w);
    if (b.x == 0 && t.x == 5) l->rt->fault(w, "__trap() in thread (5,0,0)", "k.cu", 7);
    sync(l, w);
}

TEST(Faults, LoopModeFaultCancelsTheLaunch) {
    const mc_kernel_entry k = loop_kernel("faulty", &fault_loop);
    FaultData d;
    try {
        launch(k, {10000, 1, 1}, {1, 1, 1}, d);
        FAIL() << "no KernelFault";
    } catch (const KernelFault& e) {
        EXPECT_STREQ(e.what(),
                     "kernel 'faulty': assertion 'x > 0' failed in block (0,0,0) (k.cu:42)");
        EXPECT_EQ(e.kernel(), "faulty");
    }
    EXPECT_LT(d.blocks_run.load(), 5000);
    Counts c(4096);  // the pool still works
    launch(loop_kernel("count", &count_blocks), {64, 1, 1}, {64, 1, 1}, c);
    for (auto& h : c.hits) ASSERT_EQ(h.load(), 1);
}

TEST(Faults, FiberModeFaultUnwindsTheBlockAndCancels) {
    const mc_kernel_entry k = fiber_kernel("trap", &fault_fiber);
    FaultData d;
    EXPECT_THROW(
        {
            try {
                launch(k, {2000, 1, 1}, {64, 1, 1}, d);
            } catch (const KernelFault& e) {
                EXPECT_STREQ(e.what(), "kernel 'trap': __trap() in thread (5,0,0) (k.cu:7)");
                throw;
            }
        },
        KernelFault);
    EXPECT_EQ(d.alive.load(), 0) << "locals of abandoned threads were not destroyed";
    EXPECT_LT(d.blocks_run.load(), 1000);
    check_reduction(16, 256);
}

TEST(Faults, OtherExceptionsAreRethrown) {
    const mc_kernel_entry k =
        loop_kernel("throws", [](const mc_launch*, mc_worker*, void*, std::uint64_t,
                                 std::uint64_t) { throw std::runtime_error("from the kernel"); });
    const int dummy = 0;
    EXPECT_THROW(launch(k, {100, 1, 1}, {1, 1, 1}, dummy), std::runtime_error);
    EXPECT_THROW(launch(k, {1, 1, 1}, {1, 1, 1}, dummy), std::runtime_error);
}

TEST(Faults, BarrierInLoopModeIsAFault) {
    const mc_kernel_entry k = loop_kernel(
        "misused",
        [](const mc_launch* l, mc_worker* w, void*, std::uint64_t, std::uint64_t) { sync(l, w); });
    const int dummy = 0;
    EXPECT_THROW(launch(k, {1, 1, 1}, {1, 1, 1}, dummy), KernelFault);
}

void deadlock(const mc_launch* l, mc_worker* w, void*, mc_dim3, mc_dim3 t) {
    auto& d = data_of<FaultData>(l);
    const Tracked guard(d.alive);
    std::uint64_t out[32];
    if (t.x >= 32 && t.x < 48) {
        l->rt->warp_collect(w, ~0u, 1, out);  // names lanes 16-31, which wait below
    } else {
        sync(l, w);
    }
}

TEST(Faults, DeadlockIsReportedNotHung) {
    const mc_kernel_entry k = fiber_kernel("stuck", &deadlock);
    FaultData d;
    std::string message;
    within(std::chrono::seconds(30), [&] {
        try {
            launch(k, {1, 1, 1}, {64, 1, 1}, d);
        } catch (const KernelFault& e) {
            message = e.what();
        }
    });
    EXPECT_EQ(message,
              "kernel 'stuck': block (0,0,0) deadlocked: 48 threads wait at __syncthreads, 16 "
              "wait in a warp collective (lanes 0-15 of warp 1 wait for lanes 16-31, which "
              "wait at __syncthreads); check that every thread of the block reaches the same "
              "barriers");
    EXPECT_EQ(d.alive.load(), 0);
}

void uneven_barriers(const mc_launch* l, mc_worker* w, void*, mc_dim3, mc_dim3 t) {
    // CUDA counts any block barrier: the halves pass through different __syncthreads calls.
    sync(l, w);
    if (t.x >= 32) sync(l, w);
}

TEST(FiberMode, DifferentBarrierCallsStillRelease) {
    const mc_kernel_entry k = fiber_kernel("uneven", &uneven_barriers);
    const int dummy = 0;
    within(std::chrono::seconds(30), [&] { launch(k, {3, 1, 1}, {64, 1, 1}, dummy); });
}

// ---- concurrency --------------------------------------------------------------------------

TEST(Executor, LaunchesFromFourThreadsAtOnce) {
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
        threads.emplace_back([&failures, i] {
            const mc_kernel_entry count = loop_kernel("count", &count_blocks);
            const mc_kernel_entry reduce = fiber_kernel("reduce", &tree_reduce);
            for (int round = 0; round < 20; ++round) {
                Counts c(257 * 33);
                launch(count, {257, 1, 1}, {33, 1, 1}, c);
                for (auto& h : c.hits) failures += h.load() != 1;
                Reduction r;
                const std::uint32_t blocks = 1 + (round + i) % 9;
                r.in.assign(blocks * 128, i + 1);
                r.out.assign(blocks, 0);
                launch(reduce, {blocks, 1, 1}, {128, 1, 1}, r);
                for (auto v : r.out) failures += v != 128 * (i + 1);
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(failures.load(), 0);
}

TEST(Executor, WorkerCountFollowsTheEnvironment) {
    const char* env = std::getenv("MANYCORE_NUM_THREADS");
    if (env != nullptr && std::atoi(env) > 0) {
        EXPECT_EQ(worker_count(), static_cast<unsigned>(std::atoi(env)));
    } else {
        EXPECT_GE(worker_count(), 1u);
    }
    EXPECT_EQ(runtime_api()->abi_version, MC_ABI_VERSION);
}

}  // namespace
