// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Faults and Ctrl-C inside kernel code: signal handlers that leave the kernel back to the
// executor instead of ending the process, and what the executor then says.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "manycore/prelude/abi.h"

namespace manycore::cpu {

/// What stopped kernel code on a thread: the signal, its code and address, as the handler saw
/// them. `signal` is 0 when nothing did.
struct KernelStop {
    int signal = 0;
    int code = 0;
    std::uintptr_t address = 0;
    std::uintptr_t stack_pointer = 0;  // the thread's, when the fault came (0: unknown)
    bool write = false;      // a SIGSEGV of a store (known on x86-64 only)
    bool interrupt = false;  // stopped by Ctrl-C, not by a fault
};

/// The per-thread state the handlers read: set up once on every thread that runs kernel code
/// (pool threads and callers), armed only while kernel code runs on it. Only the thread itself
/// arms it; the watchdog reads it to find the threads an interrupt must stop.
struct ThreadGuard {
    // Non-null while kernel code runs: the jump buffer (__builtin_setjmp's five words) to leave
    // it to.
    std::atomic<void**> target{nullptr};
    std::atomic<std::uint32_t> launch_interrupts{0};  // interrupt count when its launch began
    std::atomic<bool> interrupt_requested{false};     // set by the watchdog before it signals
    pthread_t thread{};
    int tid = 0;                    // the kernel's id of the thread, which the handlers look for
    std::uintptr_t stack_low = 0;   // this OS thread's own stack and the guard below it
    std::uintptr_t stack_guard = 0;
    KernelStop stop;                // written by the handler before it leaves the kernel
};

/// This thread's guard, set up (alternate signal stack, handlers installed, registered with
/// the watchdog) on first use. Thread-safe.
ThreadGuard& thread_guard();

/// Installs the handlers (SIGSEGV, SIGBUS, SIGFPE, SIGILL, and SIGINT unless it is ignored)
/// again where something replaced them since, keeping what replaced them as the handler that
/// faults outside kernels go to. Cheap (a few system calls); called when a module is made.
void reassert_signal_handlers();

/// Runs `body()` with this thread armed: a fault or an interrupt in it leaves `body` at once
/// and returns false with `guard.stop` filled in (the frames `body` left are not unwound, so
/// it must hold nothing that needs destroying). C++ exceptions pass through, disarmed.
template <class Body>
[[gnu::noinline]] bool run_guarded(ThreadGuard& guard, Body&& body) {
    // The compiler's own setjmp: three stores, no call. No signal mask is kept, and none need
    // be: the handlers run with SA_NODEFER and an empty mask, so leaving one changes no mask.
    void* jump[5];
    if (__builtin_setjmp(jump) != 0) return false;  // the handler disarmed the thread
    guard.target.store(jump, std::memory_order_relaxed);
    std::atomic_signal_fence(std::memory_order_seq_cst);
    try {
        body();
    } catch (...) {
        std::atomic_signal_fence(std::memory_order_seq_cst);
        guard.target.store(nullptr, std::memory_order_relaxed);
        throw;
    }
    std::atomic_signal_fence(std::memory_order_seq_cst);
    guard.target.store(nullptr, std::memory_order_relaxed);
    return true;
}

// ---- Ctrl-C --------------------------------------------------------------------------------

// Every SIGINT is counted and wakes a watchdog thread. A launch notes the count when it
// begins and stops handing out blocks once the count moves; after a short grace the watchdog
// signals each thread still in kernel code of a launch begun before the SIGINT, whose handler
// leaves the kernel as a fault does. The pool keeps every thread.

namespace detail_faults {
extern std::atomic<std::uint32_t> interrupts;
}

/// How many SIGINTs the process has had; a launch that began at another count is interrupted.
inline std::uint32_t interrupt_count() noexcept {
    return detail_faults::interrupts.load(std::memory_order_relaxed);
}

/// A child process (the host compiler) that SIGINT kills while it runs. Thread-safe.
class InterruptibleChild {
  public:
    explicit InterruptibleChild(int pid) noexcept;
    ~InterruptibleChild();
    InterruptibleChild(const InterruptibleChild&) = delete;
    InterruptibleChild& operator=(const InterruptibleChild&) = delete;
    /// True when SIGINT came while the child ran (and so killed it).
    bool interrupted() const noexcept;

  private:
    int slot_ = -1;
    std::uint32_t interrupts_;
};

// ---- What to tell the user -------------------------------------------------------------------

/// Where a stop happened, as far as the executor knows it.
struct StopContext {
    std::string_view kernel;
    std::optional<mc_dim3> block;   // the block, when known
    std::optional<mc_dim3> thread;  // the thread, when known
    std::uint64_t first_block = 0;  // else the range of blocks that was running
    std::uint64_t last_block = 0;
    mc_dim3 grid{1, 1, 1};
    // The fiber stack the thread ran on (fiber mode): its lowest usable byte and size.
    std::uintptr_t fiber_stack_low = 0;
    std::size_t fiber_stack_bytes = 0;
};

/// The KernelFault message of a fault: kernel, kind, address, where, what to do, and that the
/// device's memory may now be corrupt. Marks the memory suspect.
std::string fault_message(const KernelStop& stop, const ThreadGuard& guard,
                          const StopContext& where);

/// "illegal address", "integer division by zero", ... of a fault, for checked mode's finding.
std::string fault_kind(const KernelStop& stop);

/// The message of an interrupted launch (Python's KeyboardInterrupt). Marks the memory suspect.
std::string interrupt_message(std::string_view kernel, std::uint64_t blocks_left,
                              std::uint64_t blocks);

/// Marks the CPU device's memory as possibly corrupt after `what` happened.
void mark_memory_suspect(const std::string& what);

/// Empty while no kernel has faulted or been stopped part-way; else what happened first.
std::string memory_suspect();

/// A region whose guard page faults mean "past the end of a manycore array": registered by the
/// host allocator, looked up when describing a fault (never inside a handler).
void register_guarded_array(std::uintptr_t begin, std::size_t bytes, std::uintptr_t guard_page);
void unregister_guarded_array(std::uintptr_t guard_page);

}  // namespace manycore::cpu
