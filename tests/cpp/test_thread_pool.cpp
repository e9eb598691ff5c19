// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The thread pool on its own: slots, exceptions, serialised jobs, idle cost, fork.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "cpu/thread_pool.hpp"

namespace {

using manycore::cpu::ThreadPool;

TEST(ThreadPool, EverySlotRunsOnceAndSlotZeroIsTheCaller) {
    ThreadPool pool(4);
    ASSERT_EQ(pool.size(), 4u);
    std::vector<std::atomic<int>> runs(4);
    std::vector<std::thread::id> ids(4);
    pool.run(4, [&](unsigned slot) {
        ++runs[slot];
        ids[slot] = std::this_thread::get_id();
    });
    for (auto& r : runs) EXPECT_EQ(r.load(), 1);
    EXPECT_EQ(ids[0], std::this_thread::get_id());
    EXPECT_EQ(std::set<std::thread::id>(ids.begin(), ids.end()).size(), 4u);
}

TEST(ThreadPool, ParticipantsAreClampedAndSubsetsStayIdle) {
    ThreadPool pool(3);
    std::vector<std::atomic<int>> runs(3);
    pool.run(100, [&](unsigned slot) { ++runs[slot]; });
    for (auto& r : runs) EXPECT_EQ(r.exchange(0), 1);
    pool.run(2, [&](unsigned slot) { ++runs[slot]; });
    EXPECT_EQ(runs[0].load() + runs[1].load(), 2);
    EXPECT_EQ(runs[2].load(), 0);
    pool.run(0, [&](unsigned slot) { ++runs[slot]; });
    EXPECT_EQ(runs[0].load(), 2);
}

TEST(ThreadPool, FirstExceptionIsRethrownAndThePoolStaysUsable) {
    ThreadPool pool(4);
    for (int round = 0; round < 50; ++round) {
        std::atomic<int> finished{0};
        EXPECT_THROW(pool.run(4,
                              [&](unsigned slot) {
                                  if (slot % 2 == 1) throw std::runtime_error("slot failed");
                                  ++finished;
                              }),
                     std::runtime_error);
        EXPECT_EQ(finished.load(), 2);  // the others still ran to the end
    }
    std::atomic<int> ok{0};
    pool.run(4, [&](unsigned) { ++ok; });
    EXPECT_EQ(ok.load(), 4);
}

TEST(ThreadPool, ManyBackToBackJobs) {
    ThreadPool pool(4);
    std::atomic<long> sum{0};
    for (int i = 0; i < 20000; ++i) pool.run(4, [&](unsigned slot) { sum += slot + 1; });
    EXPECT_EQ(sum.load(), 20000L * 10);
}

TEST(ThreadPool, SharingJobsNeverWaitForLateThreadsAndLoseNoWork) {
    ThreadPool pool(4);
    std::atomic<long> items{0};
    std::atomic<int> slot0{0};
    for (int i = 0; i < 20000; ++i) {
        std::atomic<int> next{0};
        pool.run_sharing(4, [&](unsigned slot) {
            if (slot == 0) ++slot0;
            while (next.fetch_add(1) < 10) ++items;
        });
    }
    EXPECT_EQ(items.load(), 20000L * 10);
    EXPECT_EQ(slot0.load(), 20000);
    // Tickets reclaimed by the caller leave every thread able to join the next job.
    std::vector<std::atomic<int>> runs(4);
    pool.run(4, [&](unsigned slot) { ++runs[slot]; });
    for (auto& r : runs) EXPECT_EQ(r.load(), 1);
}

TEST(ThreadPool, JobsFromSeveralThreadsAreSerialised) {
    ThreadPool pool(3);
    std::atomic<int> inside{0}, overlap{0}, total{0};
    std::vector<std::thread> callers;
    for (int c = 0; c < 4; ++c) {
        callers.emplace_back([&] {
            for (int i = 0; i < 500; ++i) {
                pool.run(3, [&](unsigned slot) {
                    if (slot == 0 && inside.fetch_add(1) != 0) ++overlap;
                    ++total;
                    if (slot == 0) inside.fetch_sub(1);
                });
            }
        });
    }
    for (auto& t : callers) t.join();
    EXPECT_EQ(overlap.load(), 0);
    EXPECT_EQ(total.load(), 4 * 500 * 3);
}

TEST(ThreadPool, AJobInsideAJobRunsInline) {
    ThreadPool pool(2);
    std::atomic<int> inner{0};
    pool.run(2, [&](unsigned) { pool.run(2, [&](unsigned) { ++inner; }); });
    EXPECT_EQ(inner.load(), 4);
}

double process_cpu_seconds() {
    timespec ts{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

TEST(ThreadPool, AnIdlePoolSleeps) {
    ThreadPool pool(4);
    pool.run(4, [](unsigned) {});
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // past the spin
    const double before = process_cpu_seconds();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_LT(process_cpu_seconds() - before, 0.03);
}

TEST(ThreadPool, TheProcessPoolHasTheDefaultSize) {
    EXPECT_EQ(&ThreadPool::instance(), &ThreadPool::instance());
    EXPECT_EQ(ThreadPool::instance().size(), ThreadPool::default_size());
    EXPECT_GE(ThreadPool::default_size(), 1u);
}

TEST(ThreadPool, AChildProcessGetsItsOwnPool) {
#if defined(__SANITIZE_THREAD__)
    GTEST_SKIP() << "ThreadSanitizer does not support threads started after a multi-threaded fork";
#endif
    std::atomic<int> runs{0};
    ThreadPool::instance().run(ThreadPool::default_size(), [&](unsigned) { ++runs; });
    const pid_t child = ::fork();
    ASSERT_NE(child, -1);
    if (child == 0) {
        // The parent's threads are gone here; the old pool would wait for them forever.
        std::atomic<int> child_runs{0};
        ThreadPool::instance().run(ThreadPool::default_size(), [&](unsigned) { ++child_runs; });
        ::_exit(child_runs.load() == static_cast<int>(ThreadPool::default_size()) ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
