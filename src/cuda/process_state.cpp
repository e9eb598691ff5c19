// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Fork and exit detection for the CUDA backend (pthread_atfork, atexit), without driver calls.
#include "cuda/process_state.hpp"

#include <pthread.h>

#include <atomic>
#include <cstdlib>
#include <mutex>

#include "manycore/error.hpp"

namespace manycore::cuda {
namespace {

std::atomic<bool> g_forked{false};
std::atomic<bool> g_exiting{false};

void on_fork_child() { g_forked.store(true, std::memory_order_relaxed); }
void on_exit() { g_exiting.store(true, std::memory_order_relaxed); }

}  // namespace

void process_state_after_init() noexcept {
    static std::once_flag fork_hook;
    std::call_once(fork_hook, [] { ::pthread_atfork(nullptr, nullptr, &on_fork_child); });
    // atexit handlers run in reverse order of registration. Registering after the driver has set
    // up its own teardown (at cuInit, at context creation) makes ours run first, so objects
    // destroyed later at exit see shutting_down() and make no driver call. Registering twice
    // is harmless: the handler only sets a flag.
    std::atexit(&on_exit);
}

bool forked_after_init() noexcept { return g_forked.load(std::memory_order_relaxed); }

bool shutting_down() noexcept {
    return g_exiting.load(std::memory_order_relaxed) || g_forked.load(std::memory_order_relaxed);
}

void check_not_forked() {
    if (forked_after_init()) throw DeviceUnavailable(kForkedMessage);
}

}  // namespace manycore::cuda
