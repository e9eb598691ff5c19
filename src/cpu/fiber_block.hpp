// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Runs the threads of one block as fibers on one OS thread, for kernels that synchronise.
#pragma once

#include <boost/context/fiber.hpp>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "manycore/prelude/abi.h"

namespace manycore::cpu {

/// The lanes a warp mask names, as a reader wants them: "0-15", "3", "0-3, 8, 10-11".
std::string lane_list(std::uint32_t mask);

class Checker;
struct ThreadGuard;

/// Fiber stacks of one OS thread, mapped once and reused across blocks and launches. Each
/// stack has an inaccessible guard page below it, so an overflow faults instead of
/// overwriting a neighbour. Not thread-safe: one per worker.
class StackPool {
  public:
    explicit StackPool(std::size_t stack_bytes);
    ~StackPool();
    StackPool(const StackPool&) = delete;
    StackPool& operator=(const StackPool&) = delete;

    /// A free stack (mapping a new one when none is free). Throws OutOfMemory.
    boost::context::stack_context take();
    void give_back(const boost::context::stack_context& stack) noexcept;
    /// Stacks mapped so far.
    std::size_t mapped() const noexcept { return mappings_.size(); }

  private:
    std::size_t stack_bytes_;
    std::size_t guard_bytes_;
    std::vector<void*> mappings_;  // base of each mapping (its guard page)
    std::vector<void*> free_;      // tops of the stacks not in use
};

/// What one block needs to run.
struct BlockJob {
    const mc_launch* launch = nullptr;
    mc_run_thread_fn run_thread = nullptr;
    mc_worker* worker = nullptr;
    void* dynamic_shared = nullptr;
    mc_dim3 block_idx{0, 0, 0};
    std::uint64_t block_linear = 0;
    std::string_view kernel_name;
    Checker* checker = nullptr;  // a checked launch: barrier sites and warp masks are checked
};

/// The fiber scheduler of one OS thread: a FIFO run queue in thread order; a fiber runs
/// until it waits at a barrier or in a warp collective, or returns. Fiber i runs thread i of
/// every block and then parks, so fibers and their stacks are made once per OS thread, not
/// once per block. Not thread-safe: one per worker, and the barrier and warp calls come from
/// the fibers it runs.
class FiberBlock {
  public:
    explicit FiberBlock(StackPool& stacks);
    ~FiberBlock();
    FiberBlock(const FiberBlock&) = delete;
    FiberBlock& operator=(const FiberBlock&) = delete;

    /// Runs every thread of the block to completion. Rethrows the first exception a thread
    /// threw (the rest of the block is abandoned: its threads' stacks are unwound); throws
    /// KernelFault when the block deadlocks.
    void run(const BlockJob& job);

    /// True while one of this scheduler's fibers runs, i.e. the calls below are allowed.
    bool active() const noexcept { return current_ != nullptr; }

    int sync_block(int op, int predicate);
    std::uint32_t warp_collect(std::uint32_t mask, std::uint64_t value, std::uint64_t* lanes_out);
    std::uint32_t active_mask() const noexcept;

  private:
    enum class State : std::uint8_t { kNew, kRunnable, kRunning, kAtBarrier, kInWarp, kDone };

    // One thread of the current block, and the fiber that runs it.
    struct Thread {
        boost::context::fiber fiber;  // suspended (waiting or parked); empty while running
        mc_dim3 idx{0, 0, 0};
        State state = State::kDone;
        std::uint8_t sync_op = 0;
        int sync_result = 0;
        std::uint32_t site = 0;               // checked: line of the barrier or collective
        std::uint32_t warp_mask = 0;          // mask given to the pending warp collective
        std::uint32_t warp_result = 0;        // lanes that took part in it
        std::uint64_t* lanes_out = nullptr;   // where its 32 values go on completion
        boost::context::stack_context stack;  // for the sanitizers' fiber annotations
        void** jump = nullptr;  // where a fault leaves its kernel code (while suspended)
        void* asan_fake_stack = nullptr;
        void* tsan_fiber = nullptr;
    };

    struct Warp {
        std::uint32_t exists = 0;     // lanes this (maybe partial) warp has
        std::uint32_t exited = 0;     // lanes whose thread returned
        std::uint32_t deposited = 0;  // lanes waiting in a collective, values in `values`
        std::uint64_t values[32] = {};
    };

    boost::context::fiber fiber_main(std::uint32_t index, boost::context::fiber&& scheduler);
    void run_thread(std::uint32_t index);
    void start(std::uint32_t index);
    void enter(std::uint32_t index);
    void arrived(Thread& t) noexcept;
    void leave(Thread& t) noexcept;
    void switch_out(std::uint32_t index);
    void suspend();
    void make_runnable(std::uint32_t index) noexcept;
    void thread_exited(std::uint32_t index) noexcept;
    void release_barrier() noexcept;
    void try_complete_warp(std::uint32_t warp) noexcept;
    void abandon() noexcept;
    std::string deadlock_message() const;
    void check_barrier_sites() noexcept;
    void check_barrier_skipped() noexcept;
    void check_warp_masks(std::uint32_t w, std::uint32_t group) noexcept;
    void report_deadlock() noexcept;
    void stopped(std::uint32_t index);

    StackPool& stacks_;
    ThreadGuard& guard_;  // this OS thread's: armed while a fiber runs kernel code
    const BlockJob* job_ = nullptr;
    std::vector<Thread> threads_;  // never shrinks: entries past n_ hold parked fibers
    std::vector<Warp> warps_;
    std::vector<std::uint32_t> queue_;  // ring buffer (n_ slots) of runnable threads
    std::uint32_t n_ = 0;               // threads in the current block
    std::uint32_t queue_head_ = 0;
    std::uint32_t queue_size_ = 0;
    std::uint32_t live_ = 0;          // threads not returned
    std::uint32_t at_barrier_ = 0;    // threads waiting at the block barrier
    std::uint32_t barrier_true_ = 0;  // of those, how many gave a non-zero predicate
    Thread* current_ = nullptr;
    boost::context::fiber scheduler_;  // the run loop, while a fiber runs
    std::exception_ptr error_;
    bool abandoning_ = false;  // suspended threads resume only to unwind
    bool end_block_ = false;   // a checked block that faulted: the rest of it does not run
    // The scheduler's side of the sanitizers' fiber annotations.
    void* asan_fake_stack_ = nullptr;
    const void* scheduler_stack_ = nullptr;
    std::size_t scheduler_stack_bytes_ = 0;
    void* tsan_scheduler_ = nullptr;
};

}  // namespace manycore::cpu
