// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Spreads a launch's blocks over the thread pool and serves the kernel's runtime calls.
#include "cpu/executor.hpp"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cpu/checked_launch.hpp"
#include "cpu/checker.hpp"
#include "cpu/fiber_block.hpp"
#include "cpu/kernel_faults.hpp"
#include "cpu/launch_lanes.hpp"
#include "cpu/thread_pool.hpp"
#include "manycore/config.hpp"
#include "manycore/error.hpp"

namespace manycore::cpu {
namespace {

constexpr std::size_t kSharedAlign = 128;
// Chunks per participating thread: enough to even out uneven blocks, few enough that the
// shared counter is not a hot spot.
constexpr std::uint64_t kChunksPerThread = 8;

struct PrintRecord {
    std::uint64_t block;
    std::uint32_t thread;
    std::uint32_t length;
    std::size_t offset;  // into PrintBuffer::text
};

struct PrintBuffer {
    std::vector<PrintRecord> records;
    std::string text;
    bool empty() const noexcept { return records.empty(); }
};

// One launch, as every participating thread sees it.
struct Launch {
    mc_launch abi{};
    const mc_kernel_entry* kernel = nullptr;
    std::string_view name;
    bool fibers = false;
    LaunchLanes* checked = nullptr;
    std::uint64_t blocks = 0;
    std::uint64_t chunk = 1;

    std::uint32_t interrupts = 0;  // the SIGINT count when the launch began

    alignas(64) std::atomic<std::uint64_t> next{0};
    std::atomic<bool> cancelled{false};
    std::atomic<bool> stopped_early{false};  // Ctrl-C: blocks were left unrun

    // Whether to go on to the next block or chunk: not after a failure, nor after Ctrl-C.
    bool go_on() noexcept {
        if (cancelled.load(std::memory_order_relaxed)) return false;
        if (interrupt_count() == interrupts) [[likely]]
            return true;
        stopped_early.store(true, std::memory_order_relaxed);
        return false;
    }

    std::mutex mutex;  // guards the two below
    std::exception_ptr error;
    std::vector<PrintBuffer> prints;

    void fail(std::exception_ptr e) noexcept {
        {
            const std::lock_guard lock(mutex);
            if (!error) error = std::move(e);
        }
        cancelled.store(true, std::memory_order_relaxed);
    }
};

struct FreeDeleter {
    void operator()(void* p) const noexcept { std::free(p); }
};

// The state of one OS thread that runs blocks; the kernel gets it back as `mc_worker*`.
class Worker {
  public:
    Worker()
        : guard_(thread_guard()), stacks_(Config::get().fiber_stack_bytes), fibers_(stacks_) {}

    static Worker& of(mc_worker* w) noexcept { return *reinterpret_cast<Worker*>(w); }
    mc_worker* handle() noexcept { return reinterpret_cast<mc_worker*>(this); }

    /// The dynamic shared memory of the block this thread runs: 128-byte aligned, never
    /// null, grown when a launch asks for more and reused otherwise.
    void* shared(std::size_t bytes) {
        if (bytes > shared_bytes_ || !shared_) {
            const std::size_t size =
                (std::max(bytes, kSharedAlign) + kSharedAlign - 1) / kSharedAlign * kSharedAlign;
            void* p = std::aligned_alloc(kSharedAlign, size);
            if (p == nullptr) {
                throw OutOfMemory("kernel launch: cannot allocate " + std::to_string(bytes) +
                                      " bytes of dynamic shared memory",
                                  bytes, 0);
            }
            shared_.reset(p);
            shared_bytes_ = size;
        }
        return shared_.get();
    }

    Launch* launch = nullptr;  // the launch this thread is working on
    PrintBuffer prints;

    FiberBlock& fibers() noexcept { return fibers_; }
    ThreadGuard& guard() noexcept { return guard_; }

  private:
    ThreadGuard& guard_;
    std::unique_ptr<void, FreeDeleter> shared_;
    std::size_t shared_bytes_ = 0;
    StackPool stacks_;  // outlives fibers_, whose fibers live on these stacks
    FiberBlock fibers_;
};

Worker& this_worker() {
    thread_local Worker worker;
    return worker;
}

[[noreturn]] void throw_fault(Worker& w, const std::string& what) {
    const std::string name = w.launch != nullptr ? std::string(w.launch->name) : std::string();
    throw KernelFault("kernel '" + name + "': " + what, name);
}

FiberBlock& fibers_for(Worker& w, const char* call) {
    if (!w.fibers().active()) {
        throw_fault(w, std::string(call) +
                           " was called by a kernel launched without fibers; the kernel "
                           "library must mark kernels that synchronise");
    }
    return w.fibers();
}

int rt_sync_block(mc_worker* w, int op, int predicate) {
    return fibers_for(Worker::of(w), "__syncthreads").sync_block(op, predicate);
}

std::uint32_t rt_warp_collect(mc_worker* w, std::uint32_t mask, std::uint64_t value,
                              std::uint64_t* lanes_out) {
    return fibers_for(Worker::of(w), "a warp intrinsic").warp_collect(mask, value, lanes_out);
}

std::uint32_t rt_active_mask(mc_worker* w) {
    return fibers_for(Worker::of(w), "__activemask").active_mask();
}

void rt_print(mc_worker* w, std::uint64_t block_linear, std::uint32_t thread_linear,
              const char* text, std::size_t length) {
    PrintBuffer& buffer = Worker::of(w).prints;
    buffer.records.push_back(PrintRecord{block_linear, thread_linear,
                                         static_cast<std::uint32_t>(length), buffer.text.size()});
    buffer.text.append(text, length);
}

void rt_fault(mc_worker* w, const char* message, const char* file, unsigned line) {
    std::string what = message != nullptr ? message : "fault";
    if (file != nullptr) what += " (" + std::string(file) + ":" + std::to_string(line) + ")";
    throw_fault(Worker::of(w), what);
}

const mc_runtime_api kRuntimeApi = {
    MC_ABI_VERSION, &rt_sync_block, &rt_warp_collect, &rt_active_mask, &rt_print, &rt_fault,
};

mc_dim3 block_index(std::uint64_t linear, const mc_dim3& grid) noexcept {
    const std::uint64_t plane = std::uint64_t{grid.x} * grid.y;
    return mc_dim3{static_cast<std::uint32_t>(linear % grid.x),
                   static_cast<std::uint32_t>(linear / grid.x % grid.y),
                   static_cast<std::uint32_t>(linear / plane)};
}

// A loop-mode kernel left by a signal: the error of the launch, or (a checked lane's
// arithmetic fault, a finding like any other) the block to go on from.
std::uint64_t kernel_stopped(Launch& launch, const KernelStop& stop, const ThreadGuard& guard,
                             Checker* checker, std::uint64_t first, std::uint64_t last) {
    if (stop.interrupt) {
        if (checker != nullptr) {
            checker->spin_wait(checker->running_block(), checker->running_thread());
        }
        launch.stopped_early.store(true, std::memory_order_relaxed);
        throw Interrupted(interrupt_message(launch.name, 0, launch.blocks));
    }
    StopContext where;
    where.kernel = launch.name;
    where.grid = launch.abi.grid;
    where.first_block = first;
    where.last_block = last;
    if (checker != nullptr) {
        where.block = checker->running_block();
        where.thread = checker->running_thread();
        if (stop.signal == SIGFPE) {
            checker->arithmetic_fault(fault_kind(stop), *where.block, where.thread);
            return checker->running_block_linear() + 1;
        }
    }
    throw KernelFault(fault_message(stop, guard, where), std::string(launch.name));
}

// Out of the launch path: a loop-mode kernel left by a fault or Ctrl-C raises, or (a checked
// lane's arithmetic fault, a finding) goes on from the next block.
[[gnu::noinline, gnu::cold]] void after_stop(Launch& launch, Worker& w, const mc_launch& abi,
                                             Checker* checker, void* shared, std::uint64_t first,
                                             std::uint64_t last) {
    ThreadGuard& guard = w.guard();
    do {
        first = kernel_stopped(launch, guard.stop, guard, checker, first, last);
        if (first >= last || !launch.go_on()) return;
    } while (!run_guarded(guard, [&] {
        launch.kernel->run_blocks(&abi, w.handle(), shared, first, last);
    }));
}

// Runs blocks [first, last) on this thread; `abi` is the launch's, or for a lane of a
// checked launch, a copy whose `check` is the lane's. Inlined: it is every participant's
// launch path, and a call of its own would cost one.
[[gnu::always_inline]] inline void run_blocks(Launch& launch, Worker& w, const mc_launch& abi,
                                              Checker* checker, std::uint64_t first,
                                              std::uint64_t last) {
    void* shared = w.shared(abi.dynamic_shared_bytes);
    if (!launch.fibers) {
        const mc_run_blocks_fn run = launch.kernel->run_blocks;
        mc_worker* const handle = w.handle();
        if (!run_guarded(w.guard(), [&] { run(&abi, handle, shared, first, last); }))
            [[unlikely]] after_stop(launch, w, abi, checker, shared, first, last);
        return;
    }
    BlockJob job;
    job.launch = &abi;
    job.run_thread = launch.kernel->run_thread;
    job.worker = w.handle();
    job.dynamic_shared = shared;
    job.kernel_name = launch.name;
    job.checker = checker;
    for (std::uint64_t b = first; b < last; ++b) {
        if (!launch.go_on()) return;
        job.block_idx = block_index(b, abi.grid);
        job.block_linear = b;
        w.fibers().run(job);
    }
}

// One participant's part of a launch: `work` on this thread's worker, then its printf
// records handed to the launch. Never throws; the first error fails the launch.
template <class Work>
void participate(Launch& launch, Work&& work) noexcept {
    Worker* w = nullptr;
    try {
        w = &this_worker();
        w->launch = &launch;
        w->guard().launch_interrupts.store(launch.interrupts, std::memory_order_relaxed);
        work(*w);
    } catch (...) {
        launch.fail(std::current_exception());
    }
    if (w == nullptr) return;
    w->launch = nullptr;
    if (!w->prints.empty()) {
        try {
            const std::lock_guard lock(launch.mutex);
            launch.prints.push_back(std::move(w->prints));
        } catch (...) {
            launch.fail(std::current_exception());
        }
        w->prints = PrintBuffer{};
    }
}

// Chunks taken from the shared counter until none are left or the launch failed.
void take_chunks(Launch& launch) noexcept {
    participate(launch, [&launch](Worker& w) {
        while (launch.go_on()) {
            const std::uint64_t first =
                launch.next.fetch_add(launch.chunk, std::memory_order_relaxed);
            if (first >= launch.blocks) break;
            run_blocks(launch, w, launch.abi, nullptr, first,
                       std::min(first + launch.chunk, launch.blocks));
        }
    });
}

// Lanes of a checked launch taken from the shared counter, each run whole, block after block,
// until none are left or the launch failed.
void take_lanes(Launch& launch, const std::vector<mc_launch>& lanes) noexcept {
    participate(launch, [&launch, &lanes](Worker& w) {
        LaunchLanes& checked = *launch.checked;
        while (launch.go_on()) {
            const std::uint64_t k = launch.next.fetch_add(1, std::memory_order_relaxed);
            if (k >= lanes.size()) break;
            run_blocks(launch, w, lanes[k], checked.checker(k), checked.first_block(k),
                       checked.first_block(k + 1));
        }
    });
}

// Writes the launch's printf records in (block, thread, call) order, in one write.
void flush_prints(std::vector<PrintBuffer>& buffers) {
    std::size_t total = 0;
    for (const auto& b : buffers) total += b.records.size();
    struct Ref {
        const PrintRecord* record;
        const std::string* text;
    };
    std::vector<Ref> refs;
    refs.reserve(total);
    for (const auto& b : buffers) {
        for (const auto& r : b.records) refs.push_back(Ref{&r, &b.text});
    }
    // Each thread's records sit in one buffer in call order, so a stable sort keeps them so.
    std::stable_sort(refs.begin(), refs.end(), [](const Ref& a, const Ref& b) {
        if (a.record->block != b.record->block) return a.record->block < b.record->block;
        return a.record->thread < b.record->thread;
    });
    std::string out;
    for (const auto& ref : refs) out.append(*ref.text, ref.record->offset, ref.record->length);
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
}

void check_request(const LaunchRequest& r) {
    const std::string name(r.kernel_name);
    if (r.kernel == nullptr) throw InvalidLaunch("launch of '" + name + "': no kernel entry");
    if (r.use_fibers ? r.kernel->run_thread == nullptr : r.kernel->run_blocks == nullptr) {
        throw InvalidLaunch("launch of '" + name + "': the kernel library has no " +
                            (r.use_fibers ? "run_thread" : "run_blocks") + " entry for it");
    }
}

}  // namespace

void execute(const LaunchRequest& request) {
    check_request(request);
    const mc_dim3 g = request.grid;
    const mc_dim3 b = request.block;
    std::uint64_t blocks = 0;
    if (__builtin_mul_overflow(std::uint64_t{g.x} * g.y, std::uint64_t{g.z}, &blocks)) {
        throw InvalidLaunch("launch of '" + std::string(request.kernel_name) +
                            "': the grid has more than 2^64 blocks");
    }
    if (blocks == 0 || std::uint64_t{b.x} * b.y * b.z == 0) return;

    Launch launch;
    launch.abi.grid = g;
    launch.abi.block = b;
    launch.abi.args = request.args;
    launch.abi.dynamic_shared_bytes = request.dynamic_shared_bytes;
    launch.abi.rt = &kRuntimeApi;
    launch.kernel = request.kernel;
    launch.name = request.kernel_name.empty() && request.kernel->name != nullptr
                      ? std::string_view(request.kernel->name)
                      : request.kernel_name;
    launch.fibers = request.use_fibers;
    launch.blocks = blocks;
    launch.checked = request.checked;
    const bool one_lane = launch.checked != nullptr && launch.checked->lanes() == 1;
    launch.interrupts = interrupt_count();
    Checker* single_lane = nullptr;
    if (one_lane) {
        single_lane = launch.checked->checker(0);
        launch.abi.check = launch.checked->state(0);
    }

    const unsigned threads = ThreadPool::default_size();
    if (launch.checked != nullptr && !one_lane) {
        // Each lane's blocks see the lane's own variables and shadow.
        std::vector<mc_launch> lanes(launch.checked->lanes(), launch.abi);
        for (std::size_t k = 0; k < lanes.size(); ++k) {
            lanes[k].check = launch.checked->state(k);
        }
        const auto participants =
            static_cast<unsigned>(std::min<std::size_t>(threads, lanes.size()));
        ThreadPool::instance().run_sharing(
            participants, [&launch, &lanes](unsigned) { take_lanes(launch, lanes); });
    } else if (blocks == 1 || threads == 1 || one_lane) {
        // The latency path: no pool, no wake-up, no allocation once this thread is warm.
        Worker& w = this_worker();
        Launch* outer = std::exchange(w.launch, &launch);
        w.guard().launch_interrupts.store(launch.interrupts, std::memory_order_relaxed);
        try {
            run_blocks(launch, w, launch.abi, single_lane, 0, blocks);
        } catch (...) {
            launch.error = std::current_exception();
        }
        w.launch = outer;
        if (!w.prints.empty()) {
            launch.prints.push_back(std::move(w.prints));
            w.prints = PrintBuffer{};
        }
    } else {
        const std::uint64_t target = std::uint64_t{threads} * kChunksPerThread;
        // A kernel whose loops run across its blocks gets one contiguous range per thread.
        launch.chunk = request.kernel->flags & MC_KERNEL_GRID_MAJOR
                           ? (blocks + threads - 1) / threads
                           : std::max<std::uint64_t>(1, blocks / target);
        const std::uint64_t chunks = (blocks + launch.chunk - 1) / launch.chunk;
        const auto participants = static_cast<unsigned>(std::min<std::uint64_t>(threads, chunks));
        ThreadPool::instance().run_sharing(participants,
                                           [&launch](unsigned) { take_chunks(launch); });
    }

    if (!launch.prints.empty()) flush_prints(launch.prints);
    if (launch.error) std::rethrow_exception(launch.error);
    if (launch.stopped_early.load(std::memory_order_relaxed)) {
        // Blocks never handed out are known where the pool shared chunks of them out.
        const std::uint64_t handed_out = std::min(launch.next.load(), blocks);
        const bool counted = launch.checked == nullptr && handed_out > 0;
        throw Interrupted(interrupt_message(launch.name, counted ? blocks - handed_out : 0, blocks));
    }
}

unsigned worker_count() { return ThreadPool::default_size(); }

const mc_runtime_api* runtime_api() noexcept { return &kRuntimeApi; }

}  // namespace manycore::cpu
