// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Signal handlers that turn a fault or Ctrl-C inside kernel code into an error of the launch.
//
// The handlers are process-wide (POSIX has no other kind) but act only on a thread that is
// armed, i.e. runs kernel code: there they leave the kernel with a long jump back to the
// executor. Anywhere else they hand the signal to the handler that was there before
// (Python's faulthandler, the MPI library's, the default action), so faults outside kernels
// behave exactly as without manycore. Each thread that runs kernels gets an alternate signal
// stack, so a kernel that overflowed its stack can still be left. The jump is GCC's
// __builtin_setjmp/__builtin_longjmp pair, which keeps only the frame, stack pointer and
// resume address: with SA_NODEFER no signal mask needs restoring.
#include "cpu/kernel_faults.hpp"

#include <semaphore.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>
#include <ucontext.h>

#include "manycore/config.hpp"

namespace manycore::cpu {

namespace detail_faults {
std::atomic<std::uint32_t> interrupts{0};
}

namespace {

constexpr int kFaultSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL};
constexpr std::size_t kAltStackBytes = 64 * 1024;
constexpr std::size_t kMaxGuards = 1024;
constexpr std::size_t kMaxChildren = 64;
// A block still running this long after Ctrl-C is stopped part-way.
constexpr auto kInterruptGrace = std::chrono::milliseconds(400);

struct sigaction g_previous[NSIG];  // what each signal did before our handler
std::atomic<bool> g_installed[NSIG];
std::atomic<int> g_chaining[NSIG];  // the thread handing the signal on, to catch a loop
std::mutex g_install_mutex;

// The handlers find the thread's guard by its id in this table rather than through a
// thread_local: a library loaded with dlopen reaches its thread-locals through the dynamic
// loader, which may allocate, and nothing that may allocate is safe in a signal handler.
std::atomic<ThreadGuard*> g_guards[kMaxGuards];
std::atomic<std::size_t> g_guards_used{0};  // slots [0, used) may be taken
std::mutex g_guards_mutex;  // registration, and the watchdog's scan-and-signal
std::atomic<int> g_children[kMaxChildren];

sem_t g_wake;  // posted by the SIGINT handler; the watchdog waits on it
std::atomic<bool> g_watchdog_started{false};

int current_tid() noexcept { return static_cast<int>(::syscall(SYS_gettid)); }

ThreadGuard* guard_of(int tid) noexcept {
    const std::size_t used = g_guards_used.load(std::memory_order_acquire);
    for (std::size_t i = 0; i < used; ++i) {
        ThreadGuard* g = g_guards[i].load(std::memory_order_acquire);
        if (g != nullptr && g->tid == tid) return g;
    }
    return nullptr;
}

bool is_fault_signal(int sig) noexcept {
    for (int s : kFaultSignals)
        if (s == sig) return true;
    return false;
}

// Hands a signal we do not take to what was there before us.
void chain(int sig, siginfo_t* info, void* context, int tid) noexcept {
    const struct sigaction& prev = g_previous[sig];
    const bool synchronous = is_fault_signal(sig) && info != nullptr && info->si_code > 0;
    if (g_chaining[sig].load(std::memory_order_relaxed) == tid) {
        // The previous handler sent it back to us: take the default action, once.
        ::signal(sig, SIG_DFL);
        if (!synchronous) ::raise(sig);
        return;
    }
    if (prev.sa_flags & SA_SIGINFO) {
        if (prev.sa_sigaction == nullptr) return;
        g_chaining[sig].store(tid, std::memory_order_relaxed);
        prev.sa_sigaction(sig, info, context);
        g_chaining[sig].store(0, std::memory_order_relaxed);
        return;
    }
    if (prev.sa_handler == SIG_IGN) {
        // An ignored fault would return to the faulting instruction forever.
        if (synchronous) ::signal(sig, SIG_DFL);
        return;
    }
    if (prev.sa_handler == SIG_DFL) {
        // The default action: a returning fault runs again and ends the process as it would
        // have without us; anything else is raised again.
        ::signal(sig, SIG_DFL);
        if (!synchronous) ::raise(sig);
        return;
    }
    g_chaining[sig].store(tid, std::memory_order_relaxed);
    prev.sa_handler(sig);
    g_chaining[sig].store(0, std::memory_order_relaxed);
}

std::uintptr_t stack_pointer_of([[maybe_unused]] void* context) noexcept {
#if defined(__x86_64__)
    return static_cast<std::uintptr_t>(static_cast<ucontext_t*>(context)->uc_mcontext.gregs[REG_RSP]);
#elif defined(__aarch64__)
    return static_cast<std::uintptr_t>(static_cast<ucontext_t*>(context)->uc_mcontext.sp);
#else
    return 0;
#endif
}

bool store_fault([[maybe_unused]] void* context) noexcept {
#if defined(__x86_64__)
    // The page-fault error code: bit 1 is set for a write.
    return (static_cast<ucontext_t*>(context)->uc_mcontext.gregs[REG_ERR] & 2) != 0;
#else
    return false;
#endif
}

// Leaves the handler and the kernel's frames for run_guarded's jump point (the thread's own
// stack, or a fiber's; the alternate signal stack is left behind with the handler).
[[noreturn]] void leave_kernel(ThreadGuard& g, void** target) noexcept {
    g.target.store(nullptr, std::memory_order_relaxed);
    __builtin_longjmp(target, 1);
}

void on_signal(int sig, siginfo_t* info, void* context) {
    const int saved_errno = errno;
    const int tid = current_tid();
    ThreadGuard* g = guard_of(tid);
    if (sig == SIGINT) {
        if (info != nullptr && info->si_code == SI_TKILL && info->si_pid == ::getpid() &&
            g != nullptr && g->interrupt_requested.exchange(false)) {
            // The watchdog's signal: leave the kernel if this thread is still in a launch
            // that began before the interrupt (it may have finished meanwhile).
            void** target = g->target.load(std::memory_order_relaxed);
            if (target != nullptr &&
                g->launch_interrupts.load(std::memory_order_relaxed) != interrupt_count()) {
                g->stop = KernelStop{};
                g->stop.signal = SIGINT;
                g->stop.interrupt = true;
                leave_kernel(*g, target);
            }
            errno = saved_errno;
            return;
        }
        detail_faults::interrupts.fetch_add(1, std::memory_order_relaxed);
        for (auto& child : g_children) {
            const int pid = child.load(std::memory_order_relaxed);
            if (pid > 0) ::kill(-pid, SIGKILL);  // the compiler's process group
        }
        ::sem_post(&g_wake);
        errno = saved_errno;
        chain(sig, info, context, tid);
        return;
    }
    // Only a fault of this thread's own code (si_code > 0), not a signal sent by kill().
    if (g != nullptr && info != nullptr && info->si_code > 0) {
        void** target = g->target.load(std::memory_order_relaxed);
        if (target != nullptr) {
            g->stop = KernelStop{};
            g->stop.signal = sig;
            g->stop.code = info->si_code;
            g->stop.address = reinterpret_cast<std::uintptr_t>(info->si_addr);
            g->stop.stack_pointer = stack_pointer_of(context);
            g->stop.write = sig == SIGSEGV && store_fault(context);
            leave_kernel(*g, target);
        }
    }
    errno = saved_errno;
    chain(sig, info, context, tid);
}

bool handler_is_ours(const struct sigaction& sa) noexcept {
    return (sa.sa_flags & SA_SIGINFO) && sa.sa_sigaction == &on_signal;
}

// Puts our handler on `sig` unless it is there already; what was there becomes the handler
// signals outside kernels go to. SIGINT is left alone while it is ignored (nohup, a
// background job), so that it stays ignored.
void install(int sig) {
    struct sigaction current {};
    if (::sigaction(sig, nullptr, &current) != 0 || handler_is_ours(current)) return;
    if (sig == SIGINT && !(current.sa_flags & SA_SIGINFO) && current.sa_handler == SIG_IGN) return;
    struct sigaction ours {};
    ours.sa_sigaction = &on_signal;
    // SA_NODEFER: leaving a handler by a long jump then changes no signal mask (see
    // run_guarded). Interrupted system calls restart only if they did before us.
    ours.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER | (current.sa_flags & SA_RESTART);
    sigemptyset(&ours.sa_mask);
    g_previous[sig] = current;
    if (::sigaction(sig, &ours, nullptr) == 0) g_installed[sig].store(true);
}

void install_all() {
    const std::lock_guard lock(g_install_mutex);
    for (int sig : kFaultSignals) install(sig);
    install(SIGINT);
}

// The threads an interrupt must stop: armed, in a launch begun before the latest SIGINT.
bool stop_threads(bool signal_them) {
    bool any = false;
    const std::uint32_t now = interrupt_count();
    const std::lock_guard lock(g_guards_mutex);
    for (std::size_t i = 0, used = g_guards_used.load(); i < used; ++i) {
        ThreadGuard* g = g_guards[i].load(std::memory_order_acquire);
        if (g == nullptr || g->target.load(std::memory_order_relaxed) == nullptr) continue;
        if (g->launch_interrupts.load(std::memory_order_relaxed) == now) continue;
        any = true;
        if (signal_them) {
            g->interrupt_requested.store(true);
            ::pthread_kill(g->thread, SIGINT);
        }
    }
    return any;
}

void watchdog_main() {
    for (;;) {
        while (::sem_wait(&g_wake) != 0) {
        }
        // Blocks still running get a grace to finish, so that a launch whose blocks are short
        // ends with whole blocks done; the rest are stopped where they are.
        const auto deadline = std::chrono::steady_clock::now() + kInterruptGrace;
        bool waiting = true;
        while (waiting && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
            waiting = stop_threads(false);
        }
        // A thread may be between two system calls when its signal comes: repeat until none
        // is left in kernel code of an interrupted launch.
        for (int round = 0; waiting && round < 100; ++round) {
            waiting = stop_threads(true);
            if (waiting) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
}

thread_local ThreadGuard* t_mine = nullptr;  // never read by a handler

void forget_threads_in_child() noexcept {
    // Of the parent's threads only the one that forked is here, with another id; its
    // watchdog is not.
    for (auto& slot : g_guards) {
        if (slot.load() != t_mine) slot.store(nullptr);
    }
    if (t_mine != nullptr) t_mine->tid = current_tid();
    for (auto& child : g_children) child.store(0);  // the parent's compilers
    ::sem_init(&g_wake, 0, 0);
    g_watchdog_started.store(false);
}

void start_watchdog() {
    if (g_watchdog_started.exchange(true)) return;
    static const bool registered = [] {
        ::pthread_atfork(nullptr, nullptr, &forget_threads_in_child);
        return true;
    }();
    (void)registered;
    ::sem_init(&g_wake, 0, 0);
    std::thread(&watchdog_main).detach();
}

// The thread's own stack, from its attributes: where an overflow of it faults.
void find_own_stack(ThreadGuard& g) {
    pthread_attr_t attr;
    if (::pthread_getattr_np(::pthread_self(), &attr) != 0) return;
    void* low = nullptr;
    std::size_t size = 0;
    std::size_t guard = 0;
    if (::pthread_attr_getstack(&attr, &low, &size) == 0) {
        g.stack_low = reinterpret_cast<std::uintptr_t>(low);
        (void)::pthread_attr_getguardsize(&attr, &guard);
        g.stack_guard = g.stack_low - (guard > 0 ? guard : 4096);
    }
    ::pthread_attr_destroy(&attr);
}

struct OwnedGuard {
    ThreadGuard guard;
    void* alt_stack = nullptr;
    int slot = -1;

    OwnedGuard() {
        guard.thread = ::pthread_self();
        guard.tid = current_tid();
        t_mine = &guard;
        find_own_stack(guard);
        // An alternate stack of our own unless the thread has one (faulthandler gives the
        // main thread one): a kernel that overflowed the stack cannot run a handler on it.
        stack_t current{};
        if (::sigaltstack(nullptr, &current) == 0 && (current.ss_flags & SS_DISABLE)) {
            void* p = ::mmap(nullptr, kAltStackBytes, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
            if (p != MAP_FAILED) {
                stack_t alt{};
                alt.ss_sp = p;
                alt.ss_size = kAltStackBytes;
                if (::sigaltstack(&alt, nullptr) == 0) {
                    alt_stack = p;
                } else {
                    ::munmap(p, kAltStackBytes);
                }
            }
        }
        {
            const std::lock_guard lock(g_guards_mutex);
            for (std::size_t i = 0; i < kMaxGuards; ++i) {
                if (g_guards[i].load(std::memory_order_relaxed) == nullptr) {
                    g_guards[i].store(&guard, std::memory_order_release);
                    slot = static_cast<int>(i);
                    if (i >= g_guards_used.load()) g_guards_used.store(i + 1, std::memory_order_release);
                    break;
                }
            }
        }
    }
    ~OwnedGuard() {
        t_mine = nullptr;
        if (slot >= 0) {
            const std::lock_guard lock(g_guards_mutex);
            g_guards[slot].store(nullptr, std::memory_order_release);
        }
        if (alt_stack != nullptr) {
            stack_t off{};
            off.ss_flags = SS_DISABLE;
            ::sigaltstack(&off, nullptr);
            ::munmap(alt_stack, kAltStackBytes);
        }
    }
};

std::mutex g_suspect_mutex;
std::string g_suspect;

struct GuardedArray {
    std::uintptr_t begin;
    std::size_t bytes;
};
std::mutex g_arrays_mutex;
std::map<std::uintptr_t, GuardedArray>& guarded_arrays() {
    static auto* arrays = new std::map<std::uintptr_t, GuardedArray>();  // used at exit too
    return *arrays;
}

std::size_t page_size() noexcept {
    static const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    return page;
}

std::string hex(std::uintptr_t v) {
    char text[32];
    std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(v));
    return text;
}

std::string dim3_words(const mc_dim3& d) {
    return "(" + std::to_string(d.x) + "," + std::to_string(d.y) + "," + std::to_string(d.z) + ")";
}

mc_dim3 block_of(std::uint64_t linear, const mc_dim3& grid) {
    const std::uint64_t plane = std::uint64_t{grid.x} * grid.y;
    return mc_dim3{static_cast<std::uint32_t>(linear % grid.x),
                   static_cast<std::uint32_t>(linear / grid.x % grid.y),
                   static_cast<std::uint32_t>(linear / plane)};
}

std::string where_text(const StopContext& w) {
    const std::string who = w.thread ? " in thread " + dim3_words(*w.thread) + " of" : " in";
    if (w.block) return who + " block " + dim3_words(*w.block);
    if (w.last_block == w.first_block + 1) {
        return who + " block " + dim3_words(block_of(w.first_block, w.grid));
    }
    return " in one of blocks " + dim3_words(block_of(w.first_block, w.grid)) + " to " +
           dim3_words(block_of(w.last_block - 1, w.grid)) +
           " (they run as one loop, so which is not known)";
}

bool within_below(std::uintptr_t x, std::uintptr_t low, std::uintptr_t reach) {
    return x < low && low - x <= reach;
}

// "a write past the end of ..." when the address is in the guard page after a manycore array.
std::string array_overrun(std::uintptr_t address, bool write) {
    const std::lock_guard lock(g_arrays_mutex);
    auto& arrays = guarded_arrays();
    auto it = arrays.upper_bound(address);
    if (it == arrays.begin()) return {};
    --it;
    if (address >= it->first + page_size()) return {};
    const GuardedArray& a = it->second;
    return std::string(write ? "a write" : "an access") + " " +
           std::to_string(address - (a.begin + a.bytes)) + " bytes past the end of an array of " +
           std::to_string(a.bytes) + " bytes that manycore allocated (address " + hex(address) +
           ", the guard page after the array)";
}

}  // namespace

ThreadGuard& thread_guard() {
    static const bool installed = [] {
        install_all();
        start_watchdog();
        return true;
    }();
    (void)installed;
    if (!g_watchdog_started.load(std::memory_order_relaxed)) start_watchdog();  // after fork()
    thread_local OwnedGuard owned;
    return owned.guard;
}

void reassert_signal_handlers() {
    bool any = false;
    for (const auto& i : g_installed) any |= i.load(std::memory_order_relaxed);
    if (any) install_all();  // before the first launch there is nothing to reassert
}

InterruptibleChild::InterruptibleChild(int pid) noexcept : interrupts_(interrupt_count()) {
    {
        const std::lock_guard lock(g_install_mutex);
        install(SIGINT);
    }
    for (std::size_t i = 0; i < kMaxChildren; ++i) {
        int none = 0;
        if (g_children[i].compare_exchange_strong(none, pid)) {
            slot_ = static_cast<int>(i);
            break;
        }
    }
    // A SIGINT that came between the spawn and the registration killed nothing.
    if (interrupted() && slot_ >= 0) ::kill(-pid, SIGKILL);
}

InterruptibleChild::~InterruptibleChild() {
    if (slot_ >= 0) g_children[slot_].store(0);
}

bool InterruptibleChild::interrupted() const noexcept { return interrupt_count() != interrupts_; }

std::string fault_kind(const KernelStop& stop) {
    switch (stop.signal) {
        case SIGFPE:
            if (stop.code == FPE_INTDIV) return "integer division by zero";
            if (stop.code == FPE_INTOVF) return "integer overflow in a division (INT_MIN / -1)";
            return "arithmetic error";
        case SIGILL:
            return "illegal instruction";
        case SIGBUS:
            return "bus error";
        default:
            return "illegal address";
    }
}

std::string fault_message(const KernelStop& stop, const ThreadGuard& guard,
                          const StopContext& where) {
    const std::string kernel = "kernel '" + std::string(where.kernel) + "'";
    std::string what;
    std::string remedy = "rerun with checked=True to find the access";
    const std::uintptr_t a = stop.address;
    const std::uintptr_t sp = stop.stack_pointer;
    const std::size_t fiber_bytes = where.fiber_stack_bytes;
    const bool fiber_overflow =
        fiber_bytes > 0 && (within_below(a, where.fiber_stack_low, 1u << 20) ||
                            (sp != 0 && within_below(sp, where.fiber_stack_low, 1u << 20)));
    const bool own_overflow =
        guard.stack_low != 0 &&
        (within_below(a, guard.stack_low, (guard.stack_low - guard.stack_guard) + (1u << 20)) ||
         (sp != 0 && within_below(sp, guard.stack_low, 1u << 20)));
    if (stop.signal == SIGSEGV || stop.signal == SIGBUS) {
        if (fiber_overflow) {
            const std::size_t configured = Config::get().fiber_stack_bytes;
            what = "stack overflow: the thread needed more than its fiber stack of " +
                   std::to_string(configured) + " bytes (deep recursion, or large local arrays)";
            remedy = "raise MANYCORE_FIBER_STACK_BYTES (now " + std::to_string(configured) +
                     "), e.g. MANYCORE_FIBER_STACK_BYTES=" + std::to_string(configured * 4) +
                     ", or recurse less";
        } else if (own_overflow) {
            what = "stack overflow: the kernel used more than its worker thread's stack (deep "
                   "recursion, or large local arrays)";
            remedy = "recurse less, or keep large arrays in global memory";
        } else if (std::string overrun = array_overrun(a, stop.write); !overrun.empty()) {
            what = "illegal address: " + overrun;
            remedy = "rerun with checked=True to find the access (an index past the array's "
                     "length: check the launch's grid against the array and the kernel's guard)";
        } else if (stop.signal == SIGBUS) {
            what = "bus error at address " + hex(a) +
                   " (a misaligned access, or memory of a file that shrank)";
        } else {
            what = "illegal address " + hex(a) + " (" +
                   std::string(stop.write ? "a write" : "an access") +
                   (a < 65536 ? " through a null pointer: an array argument that is None, or a "
                                "pointer never set"
                              : " where no memory is: an index far outside an array, or a "
                                "pointer that is not one") +
                   ")";
        }
    } else if (stop.signal == SIGFPE) {
        what = fault_kind(stop);
        remedy = "rerun with checked=True to find where";
    } else {
        what = fault_kind(stop) + " (code the compiler made that this CPU cannot run, or a "
                                  "path the compiler was told cannot be reached)";
        remedy = "rerun with checked=True to find where";
    }
    std::string message = kernel + ": " + what + where_text(where) + "; " + remedy + ".";
    const std::string earlier = memory_suspect();
    mark_memory_suspect(kernel + " faulted (" + fault_kind(stop) + ")");
    message +=
        " The CPU device's memory may be corrupt after this fault (the kernel may have written "
        "where it should not before it faulted): save your work and restart the process before "
        "trusting later results";
    if (!earlier.empty()) message += " (it has been suspect since " + earlier + ")";
    return message;
}

std::string interrupt_message(std::string_view kernel, std::uint64_t blocks_left,
                              std::uint64_t blocks) {
    const std::string name = "kernel '" + std::string(kernel) + "'";
    mark_memory_suspect(name + " was interrupted");
    std::string message = name + " was interrupted (Ctrl-C)";
    if (blocks_left > 0) {
        message += " with " + std::to_string(blocks_left) + " of its " + std::to_string(blocks) +
                   " blocks not run";
    }
    return message +
           "; blocks still running were stopped part-way, so the arrays it writes may be "
           "partly updated: the CPU device's memory may be inconsistent";
}

void mark_memory_suspect(const std::string& what) {
    const std::lock_guard lock(g_suspect_mutex);
    if (g_suspect.empty()) g_suspect = what;
}

std::string memory_suspect() {
    const std::lock_guard lock(g_suspect_mutex);
    return g_suspect;
}

void register_guarded_array(std::uintptr_t begin, std::size_t bytes, std::uintptr_t guard_page) {
    const std::lock_guard lock(g_arrays_mutex);
    guarded_arrays()[guard_page] = GuardedArray{begin, bytes};
}

void unregister_guarded_array(std::uintptr_t guard_page) {
    const std::lock_guard lock(g_arrays_mutex);
    guarded_arrays().erase(guard_page);
}

}  // namespace manycore::cpu
