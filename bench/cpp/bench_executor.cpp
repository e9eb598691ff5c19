// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Micro-benchmarks of the CPU executor: launch latency, pool dispatch, fiber barriers.
#include <benchmark/benchmark.h>

#include <cstdint>

#include "cpu/executor.hpp"
#include "cpu/thread_pool.hpp"

namespace {

using manycore::cpu::execute;
using manycore::cpu::LaunchRequest;

void no_blocks(const mc_launch*, mc_worker*, void*, std::uint64_t, std::uint64_t) {}

void no_thread(const mc_launch*, mc_worker*, void*, mc_dim3, mc_dim3) {}

void eight_barriers(const mc_launch* l, mc_worker* w, void*, mc_dim3, mc_dim3) {
    for (int i = 0; i < 8; ++i) l->rt->sync_block(w, MC_SYNC_PLAIN, 0);
}

void warp_reduce(const mc_launch* l, mc_worker* w, void*, mc_dim3, mc_dim3 t) {
    std::uint64_t out[32];
    std::uint64_t v = t.x;
    for (unsigned off = 16; off > 0; off /= 2) {
        l->rt->warp_collect(w, ~0u, v, out);
        v += out[(t.x % 32) ^ off];
    }
    benchmark::DoNotOptimize(v);
}

const mc_kernel_entry kEmptyLoop{"empty", 0, nullptr, &no_blocks, nullptr};
const mc_kernel_entry kEmptyFiber{"empty_fiber", 0, nullptr, nullptr, &no_thread};
const mc_kernel_entry kBarriers{"barriers", 0, nullptr, nullptr, &eight_barriers};
const mc_kernel_entry kWarpReduce{"warp_reduce", 0, nullptr, nullptr, &warp_reduce};

LaunchRequest request(const mc_kernel_entry& k, std::uint32_t blocks, std::uint32_t threads) {
    LaunchRequest r;
    r.kernel = &k;
    r.kernel_name = k.name;
    r.grid = {blocks, 1, 1};
    r.block = {threads, 1, 1};
    r.use_fibers = k.run_thread != nullptr;
    return r;
}

// Launch latency: one block of 256 threads of an empty loop-mode kernel, on the caller.
void BM_EmptyLaunch1Block(benchmark::State& state) {
    const LaunchRequest r = request(kEmptyLoop, 1, 256);
    for (auto _ : state) execute(r);
}
BENCHMARK(BM_EmptyLaunch1Block);

// Pool dispatch: 4096 empty blocks handed out in chunks to every worker.
void BM_EmptyLaunch4096Blocks(benchmark::State& state) {
    const LaunchRequest r = request(kEmptyLoop, 4096, 256);
    for (auto _ : state) execute(r);
    state.counters["workers"] = manycore::cpu::worker_count();
}
BENCHMARK(BM_EmptyLaunch4096Blocks)->UseRealTime();

// Pool round trip: wake every pool thread, run an empty job on each, wait for all of them.
void BM_PoolRoundTrip(benchmark::State& state) {
    auto& pool = manycore::cpu::ThreadPool::instance();
    for (auto _ : state) pool.run(pool.size(), [](unsigned) {});
    state.counters["workers"] = pool.size();
}
BENCHMARK(BM_PoolRoundTrip)->UseRealTime();

// Fiber mode: one block whose threads only start and return (fiber switch cost per thread).
void BM_FiberBlockNoBarrier(benchmark::State& state) {
    const auto threads = static_cast<std::uint32_t>(state.range(0));
    const LaunchRequest r = request(kEmptyFiber, 1, threads);
    for (auto _ : state) execute(r);
    state.counters["per_thread"] = benchmark::Counter(
        threads, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_FiberBlockNoBarrier)->Arg(256)->Arg(1024);

// Fiber mode: one block of 256 threads through 8 barriers; per_barrier_thread is the cost
// of one thread passing one barrier.
void BM_FiberBlock8Barriers(benchmark::State& state) {
    const auto threads = static_cast<std::uint32_t>(state.range(0));
    const LaunchRequest r = request(kBarriers, 1, threads);
    for (auto _ : state) execute(r);
    state.counters["per_barrier_thread"] = benchmark::Counter(
        8.0 * threads, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_FiberBlock8Barriers)->Arg(256)->Arg(1024);

// Fiber mode over the pool: 256 blocks of 256 threads through 8 barriers.
void BM_FiberGrid8Barriers(benchmark::State& state) {
    const LaunchRequest r = request(kBarriers, 256, 256);
    for (auto _ : state) execute(r);
    state.counters["per_barrier_thread"] =
        benchmark::Counter(8.0 * 256 * 256, benchmark::Counter::kIsIterationInvariantRate |
                                                benchmark::Counter::kInvert);
}
BENCHMARK(BM_FiberGrid8Barriers)->UseRealTime();

// Warp collectives: a 5-step butterfly reduction in one block of 256 threads.
void BM_WarpButterfly(benchmark::State& state) {
    const LaunchRequest r = request(kWarpReduce, 1, 256);
    for (auto _ : state) execute(r);
    state.counters["per_collective_lane"] = benchmark::Counter(
        5.0 * 256, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_WarpButterfly);

}  // namespace
