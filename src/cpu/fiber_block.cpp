// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Fiber scheduling of one block: barriers, warp collectives, deadlock detection, stacks.
#include "cpu/fiber_block.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <new>
#include <utility>

#include "cpu/checker.hpp"
#include "cpu/kernel_faults.hpp"
#include "manycore/error.hpp"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define MC_FIBER_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#define MC_FIBER_TSAN 1
#endif

namespace manycore::cpu {
namespace ctx = boost::context;

namespace {

// Thrown inside a suspended thread that abandon() resumes, so its stack unwinds through the
// kernel's frames (destroying their locals) under our control, sanitizer annotations included.
struct Abandoned {};

constexpr std::size_t kMinStackBytes = 16 * 1024;
constexpr std::size_t kStackColours = 32;
constexpr std::size_t kColourBytes = 128;  // 32 colours cover a 4 KiB page

std::size_t page_bytes() noexcept {
    static const std::size_t page = [] {
        const long p = ::sysconf(_SC_PAGESIZE);
        return p > 0 ? static_cast<std::size_t>(p) : std::size_t{4096};
    }();
    return page;
}

std::size_t round_up(std::size_t n, std::size_t to) noexcept { return (n + to - 1) / to * to; }

// Hands the worker's pooled stacks to Boost.Context, which returns them when a fiber ends.
struct PooledStack {
    StackPool* pool;
    ctx::stack_context* given;  // tells the thread which stack it runs on
    ctx::stack_context allocate() { return *given = pool->take(); }
    void deallocate(ctx::stack_context& stack) noexcept { pool->give_back(stack); }
};

int barrier_result(int op, std::uint32_t arrived, std::uint32_t true_count) noexcept {
    switch (op) {
        case MC_SYNC_COUNT:
            return static_cast<int>(true_count);
        case MC_SYNC_AND:
            return true_count == arrived ? 1 : 0;
        case MC_SYNC_OR:
            return true_count > 0 ? 1 : 0;
        default:
            return 0;
    }
}


std::string counted(std::uint32_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

std::string lane_list(std::uint32_t mask) {
    std::string out;
    for (unsigned lane = 0; lane < 32;) {
        if (!(mask >> lane & 1u)) {
            ++lane;
            continue;
        }
        unsigned end = lane;
        while (end + 1 < 32 && (mask >> (end + 1) & 1u)) ++end;
        if (!out.empty()) out += ", ";
        out += std::to_string(lane);
        if (end > lane) {
            out += '-';  // not "-" + to_string(): GCC 12 warns falsely (-Wrestrict, PR105329)
            out += std::to_string(end);
        }
        lane = end + 1;
    }
    return out;
}

StackPool::StackPool(std::size_t stack_bytes)
    : stack_bytes_(
          round_up(stack_bytes < kMinStackBytes ? kMinStackBytes : stack_bytes, page_bytes())),
      guard_bytes_(page_bytes()) {}

StackPool::~StackPool() {
    for (void* base : mappings_) {
#if MC_FIBER_ASAN
        // Stale redzones of frames that never returned must not outlive the mapping.
        ASAN_UNPOISON_MEMORY_REGION(static_cast<char*>(base) + guard_bytes_, stack_bytes_);
#endif
        ::munmap(base, guard_bytes_ + stack_bytes_);
    }
}

ctx::stack_context StackPool::take() {
    if (free_.empty()) {
        mappings_.reserve(mappings_.size() + 1);
        free_.reserve(mappings_.size() + 1);
        const std::size_t total = guard_bytes_ + stack_bytes_;
        void* base = ::mmap(nullptr, total, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
        if (base == MAP_FAILED || ::mprotect(base, guard_bytes_, PROT_NONE) != 0) {
            const int err = errno;
            if (base != MAP_FAILED) ::munmap(base, total);
            throw OutOfMemory("fiber stack: mapping " + std::to_string(total) + " bytes failed (" +
                                  std::strerror(err) + ") after " +
                                  std::to_string(mappings_.size()) +
                                  " stacks; use smaller blocks or a smaller "
                                  "MANYCORE_FIBER_STACK_BYTES",
                              total, 0);
        }
        // Stack tops that all sit at the same offset in a page would map the fibers' hot
        // frames to the same cache sets; staggering them spreads the frames over the sets.
        const std::size_t colour = (mappings_.size() % kStackColours) * kColourBytes;
        mappings_.push_back(base);
        free_.push_back(static_cast<char*>(base) + total - colour);
    }
    ctx::stack_context stack;
    stack.sp = free_.back();
    // Usable bytes below the (staggered) top, down to the guard page, which ends on the
    // first page boundary at or above top - stack_bytes_.
    const auto top = reinterpret_cast<std::uintptr_t>(stack.sp);
    stack.size = top - round_up(top - stack_bytes_, page_bytes());
    free_.pop_back();
#if MC_FIBER_ASAN
    // Frames that never returned (Boost's fiber entry) leave poisoned redzones behind.
    ASAN_UNPOISON_MEMORY_REGION(static_cast<char*>(stack.sp) - stack.size, stack.size);
#endif
    return stack;
}

void StackPool::give_back(const ctx::stack_context& stack) noexcept {
    free_.push_back(stack.sp);  // capacity reserved in take(), so this cannot throw
}

FiberBlock::FiberBlock(StackPool& stacks) : stacks_(stacks), guard_(thread_guard()) {}

FiberBlock::~FiberBlock() {
    abandon();
    // A parked fiber holds only fiber_main's frames, none with anything to destroy, so its
    // handle is dropped without resuming it (resuming it to return would run frames after
    // the sanitizers' last switch annotation); its stack is unmapped with the StackPool.
    for (Thread& t : threads_) {
        if (!t.fiber) continue;
        alignas(ctx::fiber) unsigned char sink[sizeof(ctx::fiber)];
        new (sink) ctx::fiber(std::move(t.fiber));
#if MC_FIBER_TSAN
        __tsan_destroy_fiber(t.tsan_fiber);
#endif
    }
}

void FiberBlock::run(const BlockJob& job) {
    const mc_dim3 dim = job.launch->block;
    const std::uint32_t n = dim.x * dim.y * dim.z;
    job_ = &job;
    n_ = n;

    if (threads_.size() < n) threads_.resize(n);
    mc_dim3 idx{0, 0, 0};
    for (std::uint32_t i = 0; i < n; ++i) {
        Thread& t = threads_[i];
        t.idx = idx;
        t.state = State::kNew;
        if (++idx.x == dim.x) {
            idx.x = 0;
            if (++idx.y == dim.y) {
                idx.y = 0;
                ++idx.z;
            }
        }
    }
    warps_.resize((n + 31) / 32);
    for (std::size_t w = 0; w < warps_.size(); ++w) {
        const std::uint32_t lanes = n - static_cast<std::uint32_t>(w) * 32;
        warps_[w].exists = lanes >= 32 ? ~0u : (1u << lanes) - 1;
        warps_[w].exited = 0;
        warps_[w].deposited = 0;
    }
    if (queue_.size() < n) queue_.resize(n);
    for (std::uint32_t i = 0; i < n; ++i) queue_[i] = i;
    queue_head_ = 0;
    queue_size_ = n;
    live_ = n;
    at_barrier_ = 0;
    barrier_true_ = 0;
    error_ = nullptr;
    if (job.checker != nullptr) {
        job.checker->begin_block(job.block_linear);
    } else if (job.launch->check != nullptr) {  // a lane that checks no barriers (memory profile)
        job.launch->check->begin_block(job.launch->check, job.block_linear);
    }
#if MC_FIBER_TSAN
    tsan_scheduler_ = __tsan_get_current_fiber();
#endif

    try {
        while (queue_size_ > 0 && !error_ && !end_block_) {
            const std::uint32_t i = queue_[queue_head_];
            queue_head_ = queue_head_ + 1 == n_ ? 0 : queue_head_ + 1;
            --queue_size_;
            if (!threads_[i].fiber) start(i);
            threads_[i].state = State::kRunning;
            enter(i);
        }
    } catch (...) {
        abandon();
        throw;
    }
    if (error_) {
        abandon();
        std::rethrow_exception(std::exchange(error_, nullptr));
    }
    if (end_block_) {
        end_block_ = false;
        abandon();
        job_ = nullptr;
        return;
    }
    if (live_ != 0) {
        if (job.checker != nullptr) {
            // A finding of the checked launch, which goes on with the next block. Recording it
            // may fail (out of memory): the block's fibers are unwound first, then that error
            // ends the launch.
            std::exception_ptr failed;
            try {
                report_deadlock();
            } catch (...) {
                failed = std::current_exception();
            }
            abandon();
            job_ = nullptr;
            if (failed) std::rethrow_exception(failed);
            return;
        }
        std::string message = deadlock_message();
        abandon();
        throw KernelFault(message, std::string(job.kernel_name));
    }
    job_ = nullptr;
}

// Makes fiber `index`; its first resume starts fiber_main, which runs the thread.
void FiberBlock::start(std::uint32_t index) {
    Thread& t = threads_[index];
#if MC_FIBER_TSAN
    // Boost runs the new fiber's entry briefly while creating it: let TSan see it there.
    struct SwitchBack {
        void* to;
        [[gnu::always_inline]] ~SwitchBack() { __tsan_switch_to_fiber(to, 0); }
    };
    t.tsan_fiber = __tsan_create_fiber(0);
    __tsan_switch_to_fiber(t.tsan_fiber, 0);
    const SwitchBack back{tsan_scheduler_};
#endif
    t.asan_fake_stack = nullptr;
    t.fiber = ctx::fiber(
        std::allocator_arg, PooledStack{&stacks_, &t.stack},
        [this, index](ctx::fiber&& scheduler) { return fiber_main(index, std::move(scheduler)); });
}

// The scheduler's side of a switch: runs thread `index` until it waits or parks.
void FiberBlock::enter(std::uint32_t index) {
    Thread& t = threads_[index];
    current_ = &t;
#if MC_FIBER_TSAN
    __tsan_switch_to_fiber(t.tsan_fiber, 0);
#endif
#if MC_FIBER_ASAN
    __sanitizer_start_switch_fiber(&asan_fake_stack_, static_cast<char*>(t.stack.sp) - t.stack.size,
                                   t.stack.size);
#endif
    // Armed while the fiber runs kernel code: with its own place to leave to.
    guard_.target.store(t.jump, std::memory_order_relaxed);
    t.fiber = std::move(t.fiber).resume();
    t.jump = guard_.target.exchange(nullptr, std::memory_order_relaxed);
#if MC_FIBER_ASAN
    __sanitizer_finish_switch_fiber(asan_fake_stack_, nullptr, nullptr);
#endif
#if MC_FIBER_TSAN
    if (!t.fiber) __tsan_destroy_fiber(t.tsan_fiber);
#endif
    current_ = nullptr;
}

// Inlined so that no function return lies between a switch annotation and the switch, which
// would unbalance TSan's per-fiber shadow call stacks.
[[gnu::always_inline]] inline void FiberBlock::arrived([[maybe_unused]] Thread& t) noexcept {
#if MC_FIBER_ASAN
    __sanitizer_finish_switch_fiber(t.asan_fake_stack, &scheduler_stack_, &scheduler_stack_bytes_);
#endif
}

[[gnu::always_inline]] inline void FiberBlock::leave([[maybe_unused]] Thread& t) noexcept {
#if MC_FIBER_TSAN
    __tsan_switch_to_fiber(tsan_scheduler_, 0);
#endif
#if MC_FIBER_ASAN
    // Fibers never return (they park), so the fake stack is always saved, never freed.
    __sanitizer_start_switch_fiber(&t.asan_fake_stack, scheduler_stack_, scheduler_stack_bytes_);
#endif
}

// The fiber's side of a switch back to the scheduler; returns when it is resumed. By index:
// threads_ may have grown (moved) while a parked fiber was away.
void FiberBlock::switch_out(std::uint32_t index) {
    leave(threads_[index]);
    scheduler_ = std::move(scheduler_).resume();
    arrived(threads_[index]);
}

ctx::fiber FiberBlock::fiber_main(std::uint32_t index, ctx::fiber&& scheduler) {
    arrived(threads_[index]);
    scheduler_ = std::move(scheduler);
    for (;;) {
        run_thread(index);
        // Parked until the next block that has a thread `index` (threads_ may have grown in
        // between, so nothing here holds a reference into it).
        switch_out(index);
    }
}

void FiberBlock::run_thread(std::uint32_t index) {
    bool returned = true;
    try {
        const bool finished = run_guarded(guard_, [this, index] {
            job_->run_thread(job_->launch, job_->worker, job_->dynamic_shared, job_->block_idx,
                             threads_[index].idx);
        });
        if (!finished) stopped(index);
    } catch (const Abandoned&) {
        returned = false;
    } catch (const ctx::detail::forced_unwind&) {
        throw;  // Boost.Context is ending this fiber
    } catch (...) {
        if (!error_) error_ = std::current_exception();
    }
    if (returned) thread_exited(index);
}

// Thread `index` was left by a fault or Ctrl-C (on its own stack, so its fiber goes on to
// park as a returned thread does): the block's error, or a checked block's finding.
void FiberBlock::stopped(std::uint32_t index) {
    const KernelStop stop = guard_.stop;
    const Thread& t = threads_[index];
    Checker* checker = job_->checker;
    if (stop.interrupt) {
        if (checker != nullptr) checker->spin_wait(job_->block_idx, t.idx);
        if (!error_) {
            error_ = std::make_exception_ptr(
                Interrupted(interrupt_message(job_->kernel_name, 0, 0)));
        }
        return;
    }
    if (checker != nullptr && stop.signal == SIGFPE) {
        checker->arithmetic_fault(fault_kind(stop), job_->block_idx, t.idx);
        end_block_ = true;
        return;
    }
    StopContext where;
    where.kernel = job_->kernel_name;
    where.block = job_->block_idx;
    where.thread = t.idx;
    where.fiber_stack_low = reinterpret_cast<std::uintptr_t>(t.stack.sp) - t.stack.size;
    where.fiber_stack_bytes = t.stack.size;
    if (!error_) {
        error_ = std::make_exception_ptr(
            KernelFault(fault_message(stop, guard_, where), std::string(job_->kernel_name)));
    }
}

void FiberBlock::suspend() {
    switch_out(static_cast<std::uint32_t>(current_ - threads_.data()));
    if (abandoning_) throw Abandoned{};
}

void FiberBlock::make_runnable(std::uint32_t index) noexcept {
    threads_[index].state = State::kRunnable;
    std::uint32_t tail = queue_head_ + queue_size_;
    if (tail >= n_) tail -= n_;
    queue_[tail] = index;
    ++queue_size_;
}

int FiberBlock::sync_block(int op, int predicate) {
    Thread& t = *current_;
    t.state = State::kAtBarrier;
    t.sync_op = static_cast<std::uint8_t>(op);
    if (job_->checker != nullptr) t.site = job_->checker->site();
    ++at_barrier_;
    if (predicate != 0) ++barrier_true_;
    // The last thread to arrive releases the others and goes on without a switch.
    if (at_barrier_ == live_) {
        release_barrier();
    } else {
        suspend();
    }
    return t.sync_result;
}

void FiberBlock::release_barrier() noexcept {
    const std::uint32_t arrived = at_barrier_;
    const std::uint32_t true_count = barrier_true_;
    if (job_->checker != nullptr) {
        check_barrier_sites();
        if (live_ < n_) check_barrier_skipped();
        job_->checker->barrier_passed();
    }
    at_barrier_ = 0;
    barrier_true_ = 0;
    // Every live thread is here, so a scan in thread order finds them all and queues them in
    // thread order.
    for (std::uint32_t i = 0; i < n_; ++i) {
        Thread& t = threads_[i];
        if (t.state != State::kAtBarrier) continue;
        t.sync_result = barrier_result(t.sync_op, arrived, true_count);
        if (&t == current_) {
            t.state = State::kRunning;
        } else {
            make_runnable(i);
        }
    }
}

std::uint32_t FiberBlock::warp_collect(std::uint32_t mask, std::uint64_t value,
                                       std::uint64_t* lanes_out) {
    Thread& t = *current_;
    const auto index = static_cast<std::uint32_t>(&t - threads_.data());
    const std::uint32_t w = index / 32;
    const std::uint32_t bit = 1u << (index % 32);
    Warp& warp = warps_[w];
    warp.values[index % 32] = value;
    warp.deposited |= bit;
    t.warp_mask = mask | bit;
    t.lanes_out = lanes_out;
    if (job_->checker != nullptr) t.site = job_->checker->site();
    t.state = State::kInWarp;
    const std::uint32_t needed = t.warp_mask & warp.exists & ~warp.exited;
    // A group can only become complete through a lane whose own partners are all here.
    if ((needed & ~warp.deposited) == 0) try_complete_warp(w);
    if (t.state == State::kInWarp) suspend();
    return t.warp_result;
}

void FiberBlock::try_complete_warp(std::uint32_t w) noexcept {
    Warp& warp = warps_[w];
    const std::uint32_t base = w * 32;
    const std::uint32_t live = warp.exists & ~warp.exited;
    // The largest set of waiting lanes whose masks name only lanes of the set (or lanes that
    // are gone). Disjoint sub-warp collectives (lanes 0-15 and 16-31) complete separately.
    std::uint32_t group = warp.deposited;
    for (bool changed = true; changed && group != 0;) {
        changed = false;
        for (std::uint32_t m = group; m != 0; m &= m - 1) {
            const unsigned lane = static_cast<unsigned>(__builtin_ctz(m));
            if ((threads_[base + lane].warp_mask & live & ~group) != 0) {
                group &= ~(1u << lane);
                changed = true;
            }
        }
    }
    if (group == 0) return;
    if (job_->checker != nullptr) {
        check_warp_masks(w, group);
        job_->checker->warp_synced(w);
    }
    warp.deposited &= ~group;
    // Copying into each waiter's own buffer now frees the slots at once, so a lane that goes
    // on to its next collective cannot overwrite values a slower lane has yet to read.
    for (std::uint32_t m = group; m != 0; m &= m - 1) {
        const unsigned lane = static_cast<unsigned>(__builtin_ctz(m));
        Thread& t = threads_[base + lane];
        std::memcpy(t.lanes_out, warp.values, sizeof warp.values);
        t.warp_result = group;
        if (&t == current_) {
            t.state = State::kRunning;
        } else {
            make_runnable(base + lane);
        }
    }
}

std::uint32_t FiberBlock::active_mask() const noexcept {
    const auto index = static_cast<std::uint32_t>(current_ - threads_.data());
    const Warp& warp = warps_[index / 32];
    return warp.exists & ~warp.exited;
}

void FiberBlock::thread_exited(std::uint32_t index) noexcept {
    threads_[index].state = State::kDone;
    --live_;
    const std::uint32_t w = index / 32;
    warps_[w].exited |= 1u << (index % 32);
    // A returned thread counts as arrived: it may complete a collective or a barrier.
    if (warps_[w].deposited != 0) try_complete_warp(w);
    if (at_barrier_ != 0 && at_barrier_ == live_) release_barrier();
}

void FiberBlock::abandon() noexcept {
    // Each thread suspended in a wait resumes only to throw Abandoned from it, which unwinds
    // its stack through the kernel's frames (destroying their locals) and parks its fiber.
    abandoning_ = true;
    for (std::uint32_t i = 0; i < n_; ++i) {
        const State s = threads_[i].state;
        threads_[i].state = State::kDone;
        if (s == State::kRunnable || s == State::kAtBarrier || s == State::kInWarp) {
            enter(i);
            // Waiting again: the kernel swallowed Abandoned; Boost's forced unwind ends it.
            if (threads_[i].state != State::kDone) threads_[i].fiber = ctx::fiber{};
            threads_[i].state = State::kDone;
        }
    }
    abandoning_ = false;
    queue_size_ = 0;
}

// Checked launches: every thread released from one barrier must have waited at the same one.
void FiberBlock::check_barrier_sites() noexcept {
    const Thread* first = nullptr;
    for (std::uint32_t i = 0; i < n_; ++i) {
        const Thread& t = threads_[i];
        if (t.state != State::kAtBarrier) continue;
        if (first == nullptr) {
            first = &t;
        } else if (t.site != first->site) {
            try {
                job_->checker->barrier_sites_differ(job_->block_idx, first->idx, first->site,
                                                    t.idx, t.site);
            } catch (...) {
                if (!error_) error_ = std::current_exception();
            }
            return;
        }
    }
}

// Checked launches: a barrier released while threads of the block have returned without it.
void FiberBlock::check_barrier_skipped() noexcept {
    const Thread* waiting = nullptr;
    const Thread* returned = nullptr;
    for (std::uint32_t i = 0; i < n_ && (waiting == nullptr || returned == nullptr); ++i) {
        const Thread& t = threads_[i];
        if (t.state == State::kAtBarrier && waiting == nullptr) waiting = &t;
        if (t.state == State::kDone && returned == nullptr) returned = &t;
    }
    if (waiting == nullptr || returned == nullptr) return;
    try {
        job_->checker->barrier_skipped(job_->block_idx, waiting->idx, waiting->site, returned->idx);
    } catch (...) {
        if (!error_) error_ = std::current_exception();
    }
}

// Checked launches: a completed collective whose masks name lanes that are not there.
void FiberBlock::check_warp_masks(std::uint32_t w, std::uint32_t group) noexcept {
    const Warp& warp = warps_[w];
    for (std::uint32_t m = group; m != 0; m &= m - 1) {
        const Thread& t = threads_[w * 32 + static_cast<unsigned>(__builtin_ctz(m))];
        if (t.site & MC_SITE_EVERY_LANE) continue;
        const std::uint32_t missing = t.warp_mask & ~group;
        if (missing == 0) continue;
        const bool nonexistent = (missing & ~warp.exists) != 0;
        try {
            job_->checker->warp_lanes_missing(job_->block_idx, t.idx, t.site, t.warp_mask,
                                              nonexistent ? missing & ~warp.exists : missing,
                                              nonexistent);
        } catch (...) {
            if (!error_) error_ = std::current_exception();
        }
        return;
    }
}

void FiberBlock::report_deadlock() {
    const Thread* at_barrier = nullptr;
    const Thread* in_warp = nullptr;
    for (std::uint32_t i = 0; i < n_; ++i) {
        const Thread& t = threads_[i];
        if (t.state == State::kAtBarrier && at_barrier == nullptr) at_barrier = &t;
        if (t.state == State::kInWarp && in_warp == nullptr) in_warp = &t;
    }
    const Thread* first = at_barrier != nullptr ? at_barrier : in_warp;
    const Thread* other = at_barrier != nullptr && in_warp != nullptr ? in_warp : first;
    if (first == nullptr) return;
    const auto line = [](std::uint32_t site) { return site & ~MC_SITE_EVERY_LANE; };
    job_->checker->deadlocked(job_->block_idx, first->idx, line(first->site), first == in_warp,
                              other->idx, line(other->site), other == in_warp);
}

std::string FiberBlock::deadlock_message() const {
    std::uint32_t in_warp = 0;
    std::string warps;
    unsigned described = 0;
    unsigned undescribed = 0;
    for (std::uint32_t w = 0; w < warps_.size(); ++w) {
        const Warp& warp = warps_[w];
        if (warp.deposited == 0) continue;
        in_warp += static_cast<std::uint32_t>(__builtin_popcount(warp.deposited));
        if (described == 4) {
            ++undescribed;
            continue;
        }
        std::uint32_t missing = 0;
        for (std::uint32_t m = warp.deposited; m != 0; m &= m - 1) {
            missing |= threads_[w * 32 + static_cast<unsigned>(__builtin_ctz(m))].warp_mask;
        }
        missing &= warp.exists & ~warp.exited & ~warp.deposited;
        if (!warps.empty()) warps += "; ";
        warps += "lanes " + lane_list(warp.deposited) + " of warp " + std::to_string(w) +
                 " wait for lanes " + lane_list(missing) + ", which wait at __syncthreads";
        ++described;
    }
    if (undescribed > 0) warps += "; and " + counted(undescribed, "more warp", "more warps");

    const mc_dim3 b = job_->block_idx;
    std::string message = "kernel '" + std::string(job_->kernel_name) + "': block (" +
                          std::to_string(b.x) + "," + std::to_string(b.y) + "," +
                          std::to_string(b.z) +
                          ") deadlocked: " + counted(at_barrier_, "thread waits", "threads wait") +
                          " at __syncthreads, " + std::to_string(in_warp) +
                          (in_warp == 1 ? " waits" : " wait") + " in a warp collective";
    if (!warps.empty()) message += " (" + warps + ")";
    message += "; check that every thread of the block reaches the same barriers";
    return message;
}

}  // namespace manycore::cpu
