// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// A persistent pool of OS threads that runs one job at a time on several of its slots.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace manycore::cpu {

/// Runs a job on up to `size()` slots at once: slot 0 is the calling thread, slots 1.. are
/// the pool's own threads, which sleep (after a short spin) between jobs. Jobs from several
/// threads are serialised. Thread-safe.
class ThreadPool {
  public:
    /// A pool with `slots` slots in all (the caller's included), so `slots - 1` threads.
    explicit ThreadPool(unsigned slots);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    /// The process's pool, created on first use with `default_size()` slots. In a child
    /// process after fork() a fresh pool is created, since the parent's threads are not there.
    static ThreadPool& instance();

    /// MANYCORE_NUM_THREADS when set, else the CPUs this process may run on; computed once.
    static unsigned default_size();

    /// The slots of this pool, the caller's included.
    unsigned size() const noexcept { return slots_; }

    /// Calls `job(slot)` once for each slot in [0, participants) (clamped to size()), slot 0
    /// on the calling thread, and returns when all have returned. If any call throws, the
    /// first exception is rethrown here once all have finished; the pool stays usable.
    /// Called from inside a job, runs every slot on the calling thread in turn.
    template <class Job>
    void run(unsigned participants, Job&& job) {
        run_erased(participants, &call<std::remove_reference_t<Job>>, erase(job), false);
    }

    /// Like run(), for a job whose calls share out its work among themselves (a shared
    /// counter): slot 0 always runs; a pool thread that has not started by the time slot 0
    /// returns is skipped rather than waited for, so a descheduled thread costs nothing.
    template <class Job>
    void run_sharing(unsigned participants, Job&& job) {
        run_erased(participants, &call<std::remove_reference_t<Job>>, erase(job), true);
    }

  private:
    using JobFn = void (*)(void*, unsigned);

    template <class Fn>
    static void call(void* job, unsigned slot) {
        (*static_cast<Fn*>(job))(slot);
    }
    template <class Fn>
    static void* erase(Fn& job) noexcept {
        return const_cast<void*>(static_cast<const void*>(std::addressof(job)));
    }

    // Each pool thread waits on its own word so a launch wakes only the threads it uses.
    // The ticket (the job's generation, 0 for none) is taken by exactly one of the thread
    // and, for sharing jobs, the caller reclaiming it.
    struct alignas(64) Slot {
        std::atomic<std::uint32_t> epoch{0};
        std::atomic<std::uint32_t> ticket{0};
    };

    void run_erased(unsigned participants, JobFn fn, void* context, bool sharing);
    void thread_main(unsigned slot);
    void wake(unsigned slot) noexcept;
    void wake_children(unsigned slot) noexcept;
    void run_slot(unsigned slot) noexcept;

    unsigned slots_;
    // Spinning only pays when every thread has a core; with more threads than cores the
    // spinner holds the core the thread it waits for needs.
    bool spin_;
    std::unique_ptr<Slot[]> wake_;
    std::vector<std::thread> threads_;
    std::mutex run_mutex_;  // one job at a time

    // The current job; written before the wake-up's release store, read after its acquire.
    JobFn job_fn_ = nullptr;
    void* job_context_ = nullptr;
    unsigned participants_ = 0;
    std::uint32_t generation_ = 0;
    std::atomic<bool> stop_{false};

    alignas(64) std::atomic<std::uint32_t> pending_{0};  // pool threads still in the job
    std::mutex error_mutex_;
    std::exception_ptr error_;
};

}  // namespace manycore::cpu
