// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The persistent thread pool: futex sleep between jobs, a short spin for back-to-back jobs.
#include "cpu/thread_pool.hpp"

#include <pthread.h>
#include <sched.h>

#include <chrono>
#include <string>

#include "manycore/config.hpp"

namespace manycore::cpu {
namespace {

// Set on pool threads, and on a caller while it runs its own slot, so a job that starts
// another job runs it inline instead of waiting for the pool it is part of.
thread_local bool t_in_job = false;

std::atomic<ThreadPool*> g_pool{nullptr};

void forget_pool_in_child() noexcept {
    // The parent's pool threads do not exist in the child; its object is left to leak.
    g_pool.store(nullptr, std::memory_order_relaxed);
}

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#endif
}

// Back-to-back launches find their threads still awake if they come within this time; after
// it a waiting thread sleeps in the kernel, so an idle pool costs no CPU.
constexpr auto kSpinBudget = std::chrono::microseconds(50);

template <class Done>
bool spin_until(bool spin, Done done) noexcept {
    if (!spin) return done();
    const auto start = std::chrono::steady_clock::now();
    for (unsigned i = 1;; ++i) {
        if (done()) return true;
        cpu_relax();
        if ((i & 63u) == 0) {
            const auto spent = std::chrono::steady_clock::now() - start;
            if (spent > kSpinBudget) return false;
            // On an oversubscribed machine the thread we wait for may need this core.
            if (spent > kSpinBudget / 2) std::this_thread::yield();
        }
    }
}

template <class T>
T wait_while_equal(const std::atomic<T>& word, T old, bool spin) noexcept {
    T now = word.load(std::memory_order_acquire);
    if (now != old) return now;
    if (!spin_until(spin, [&] { return (now = word.load(std::memory_order_acquire)) != old; })) {
        while ((now = word.load(std::memory_order_acquire)) == old) word.wait(old);
    }
    return now;
}

unsigned available_cpus() noexcept {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof(set), &set) == 0) {
        const int count = CPU_COUNT(&set);
        if (count > 0) return static_cast<unsigned>(count);
    }
    const unsigned hw = std::thread::hardware_concurrency();
    return hw > 0 ? hw : 1;
}

}  // namespace

ThreadPool::ThreadPool(unsigned slots)
    : slots_(slots > 0 ? slots : 1),
      spin_(slots_ <= available_cpus()),
      wake_(std::make_unique<Slot[]>(slots_)) {
    threads_.reserve(slots_ - 1);
    try {
        for (unsigned s = 1; s < slots_; ++s) {
            threads_.emplace_back([this, s] { thread_main(s); });
            const std::string name = "manycore-" + std::to_string(s);
            ::pthread_setname_np(threads_.back().native_handle(), name.c_str());
        }
    } catch (...) {
        stop_.store(true, std::memory_order_release);
        for (unsigned s = 1; s <= threads_.size(); ++s) wake(s);
        for (auto& t : threads_) t.join();
        throw;
    }
}

ThreadPool::~ThreadPool() {
    const std::lock_guard lock(run_mutex_);
    stop_.store(true, std::memory_order_release);
    for (unsigned s = 1; s < slots_; ++s) wake(s);
    for (auto& t : threads_) t.join();
}

ThreadPool& ThreadPool::instance() {
    ThreadPool* pool = g_pool.load(std::memory_order_acquire);
    if (pool != nullptr) [[likely]]
        return *pool;
    static const bool registered = [] {
        ::pthread_atfork(nullptr, nullptr, &forget_pool_in_child);
        return true;
    }();
    (void)registered;
    // The pool is never destroyed: its threads sleep in the kernel at exit, and joining them
    // from a static destructor would race with launches other threads may still be making.
    auto* fresh = new ThreadPool(default_size());
    if (g_pool.compare_exchange_strong(pool, fresh, std::memory_order_acq_rel)) return *fresh;
    delete fresh;  // another thread created one first
    return *pool;
}

unsigned ThreadPool::default_size() {
    static const unsigned size = [] {
        const unsigned configured = Config::get().num_threads;
        return configured > 0 ? configured : available_cpus();
    }();
    return size;
}

void ThreadPool::wake(unsigned slot) noexcept {
    wake_[slot].epoch.fetch_add(1, std::memory_order_release);
    wake_[slot].epoch.notify_one();
}

void ThreadPool::wake_children(unsigned slot) noexcept {
    // A binary tree (slot s wakes 2s+1 and 2s+2) spreads the wake-up system calls over the
    // threads instead of queueing them all on the caller.
    for (unsigned child = 2 * slot + 1; child <= 2 * slot + 2; ++child) {
        if (child < participants_) wake(child);
    }
}

void ThreadPool::run_slot(unsigned slot) noexcept {
    try {
        job_fn_(job_context_, slot);
    } catch (...) {
        const std::lock_guard lock(error_mutex_);
        if (!error_) error_ = std::current_exception();
    }
}

void ThreadPool::thread_main(unsigned slot) {
    t_in_job = true;
    std::uint32_t seen = 0;
    for (;;) {
        seen = wait_while_equal(wake_[slot].epoch, seen, spin_);
        if (stop_.load(std::memory_order_acquire)) return;
        // No ticket: the caller finished the job without this thread (or a stale wake-up).
        if (wake_[slot].ticket.exchange(0, std::memory_order_acq_rel) == 0) continue;
        wake_children(slot);
        run_slot(slot);
        if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) pending_.notify_one();
    }
}

void ThreadPool::run_erased(unsigned participants, JobFn fn, void* context, bool sharing) {
    if (participants > slots_) participants = slots_;
    if (participants <= 1 || t_in_job) {
        // A sharing job is complete after slot 0 alone; the others run in turn.
        const unsigned slots = sharing || participants == 0 ? 1 : participants;
        std::exception_ptr first;
        for (unsigned s = 0; s < slots; ++s) {
            try {
                fn(context, s);
            } catch (...) {
                if (!first) first = std::current_exception();
            }
        }
        if (first) std::rethrow_exception(first);
        return;
    }

    const std::lock_guard lock(run_mutex_);
    job_fn_ = fn;
    job_context_ = context;
    participants_ = participants;
    if (++generation_ == 0) ++generation_;  // 0 means "no ticket"
    pending_.store(participants - 1, std::memory_order_relaxed);
    for (unsigned s = 1; s < participants; ++s) {
        wake_[s].ticket.store(generation_, std::memory_order_release);
    }
    wake_children(0);

    t_in_job = true;
    run_slot(0);
    t_in_job = false;

    if (sharing) {
        // The work is all taken: take back the tickets of threads that have not woken yet
        // (descheduled, or still in the kernel's wake-up path) instead of waiting for them.
        for (unsigned s = 1; s < participants; ++s) {
            if (wake_[s].ticket.exchange(0, std::memory_order_acq_rel) != 0) {
                pending_.fetch_sub(1, std::memory_order_acq_rel);
            }
        }
    }
    for (std::uint32_t left = pending_.load(std::memory_order_acquire); left != 0;
         left = pending_.load(std::memory_order_acquire)) {
        wait_while_equal(pending_, left, spin_);
    }
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
}

}  // namespace manycore::cpu
