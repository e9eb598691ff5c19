// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Finds the host C++ compiler and runs it (posix_spawn, no shell) on one translation unit.
#include "cpu/host_compiler.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include "core/compile_support.hpp"
#include "cpu/kernel_faults.hpp"
#include "manycore/config.hpp"
#include "manycore/error.hpp"

extern char** environ;

namespace manycore::cpu {
namespace {

constexpr std::size_t kMessageLines = 60;  // the rest of the log is in CompileError::log()

std::string errno_text(int err) { return std::strerror(err); }

/// A private folder from mkdtemp (mode 0700), removed with its contents when it goes away.
class TempFolder {
  public:
    TempFolder() {
        const char* t = std::getenv("TMPDIR");
        std::string templ = std::string((t && *t) ? t : "/tmp") + "/manycore-build-XXXXXX";
        if (::mkdtemp(templ.data()) == nullptr) {
            throw Error("compile_shared_library: cannot create a temporary build folder " + templ +
                        ": " + errno_text(errno) + "; set TMPDIR to a writable folder");
        }
        path_ = templ;
    }
    TempFolder(const TempFolder&) = delete;
    TempFolder& operator=(const TempFolder&) = delete;
    ~TempFolder() {
        std::error_code ec;  // a destructor must not throw; leftovers are only litter in TMPDIR
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const noexcept { return path_; }

  private:
    std::filesystem::path path_;
};

struct ProcessResult {
    int spawn_error = 0;  // errno from posix_spawn; the rest is meaningless when non-zero
    int wait_status = 0;
    std::string output;   // stdout and stderr, interleaved as written
    bool timed_out = false;    // killed after MANYCORE_COMPILE_TIMEOUT
    bool interrupted = false;  // killed by Ctrl-C
};

/// Runs `program` with `argv` in `cwd` (empty: ours), stdin from /dev/null, and collects its
/// output. No shell, so paths with spaces or quotes need no escaping. The environment is
/// passed as is: CPATH, CPLUS_INCLUDE_PATH, GCC_EXEC_PREFIX, LANG and the like reach the
/// compiler, as they would reach it from a terminal (they are not part of the cache key).
ProcessResult run_capture(const std::filesystem::path& program,
                          const std::vector<std::string>& argv, const std::filesystem::path& cwd) {
    ProcessResult result;
    int pipe_fds[2];
    // O_CLOEXEC: a compiler started by another thread at the same time must not inherit our
    // write end, or our read would not see end-of-file until that other compiler exits.
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
        result.spawn_error = errno;
        return result;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 2);
    if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
    // Python ignores SIGPIPE and threads may block signals; both survive exec, so reset them.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGXFSZ);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    // A process group of its own, so that a timeout or Ctrl-C ends the compiler's own
    // children (cc1plus, as, ld) with it, not only the driver.
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                        POSIX_SPAWN_SETPGROUP);

    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = -1;
    const int err = ::posix_spawn(&pid, program.c_str(), &actions, &attr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(pipe_fds[1]);
    if (err != 0) {
        ::close(pipe_fds[0]);
        result.spawn_error = err;
        return result;
    }
    // Read everything before waiting: a compiler with a long log would otherwise block on a
    // full pipe while we block in waitpid. Ctrl-C kills the group (cpu/kernel_faults.cpp); so
    // does the deadline.
    const cpu::InterruptibleChild child(pid);
    const auto deadline =
        std::chrono::steady_clock::now() +
        std::chrono::duration<double>(Config::get().compile_timeout_seconds);
    char buf[8192];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            result.timed_out = true;
            ::kill(-pid, SIGKILL);
            break;
        }
        pollfd p{pipe_fds[0], POLLIN, 0};
        const int ready =
            ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
        if (ready == 0 || (ready < 0 && errno == EINTR)) continue;
        const ssize_t n = ::read(pipe_fds[0], buf, sizeof buf);
        if (n > 0) {
            result.output.append(buf, static_cast<std::size_t>(n));
        } else if (n == 0 || errno != EINTR) {
            break;
        }
    }
    ::close(pipe_fds[0]);
    while (::waitpid(pid, &result.wait_status, 0) < 0) {
        if (errno != EINTR) {  // ECHILD: someone set SIGCHLD to SIG_IGN; the status is lost
            result.wait_status = 0;
            break;
        }
    }
    // Ctrl-C reached us (and we killed the compiler), or the terminal's SIGINT reached it.
    result.interrupted = !result.timed_out &&
                         (child.interrupted() ||
                          (WIFSIGNALED(result.wait_status) && WTERMSIG(result.wait_status) == SIGINT));
    if (result.timed_out || result.interrupted) ::kill(-pid, SIGKILL);  // what is left of it
    return result;
}

// Ctrl-C and the compile timeout end a compile alike wherever the compiler runs.
void throw_if_stopped(const ProcessResult& r, const std::string& compiler) {
    if (r.interrupted) {
        throw Interrupted("SourceModule: compiling was interrupted (Ctrl-C); " + compiler +
                          " was stopped and nothing was cached");
    }
    if (r.timed_out) {
        const double limit = Config::get().compile_timeout_seconds;
        char seconds[32];
        std::snprintf(seconds, sizeof seconds, "%g", limit);
        throw CompileError("SourceModule: the C++ compiler " + compiler +
                               " did not finish within MANYCORE_COMPILE_TIMEOUT=" + seconds +
                               " s and was stopped; check that CXX names a working compiler, "
                               "or raise MANYCORE_COMPILE_TIMEOUT for a very large source",
                           r.output, "", {});
    }
}

std::string describe_exit(const std::string& who, int status) {
    if (WIFSIGNALED(status)) {
        return who + " was killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
               strsignal(WTERMSIG(status)) + ")";
    }
    return who + " exited with status " + std::to_string(WEXITSTATUS(status));
}

bool is_executable_file(const std::filesystem::path& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
}

std::string search_path() {
    const char* p = std::getenv("PATH");
    if (p) return p;
    std::string fallback(::confstr(_CS_PATH, nullptr, 0), '\0');  // what execvp would use
    if (!fallback.empty()) {
        ::confstr(_CS_PATH, fallback.data(), fallback.size());
        fallback.pop_back();
    }
    return fallback;
}

/// `name` with a slash is a path; else it is looked up on PATH like execvp does. The result
/// keeps its last component unresolved: clang++ and ccache decide what they are by the name
/// they are run as (canonicalising /usr/bin/clang++ gives clang-14, a C driver), so we run
/// the compiler under the name it was found by; its folder is made canonical.
std::optional<std::filesystem::path> find_program(const std::string& name) {
    if (name.empty()) return std::nullopt;
    auto finish = [](const std::filesystem::path& p) {
        std::error_code ec;
        const std::filesystem::path abs = std::filesystem::absolute(p, ec);
        const std::filesystem::path dir = std::filesystem::weakly_canonical(abs.parent_path(), ec);
        return ec ? abs.lexically_normal() : dir / abs.filename();
    };
    if (name.find('/') != std::string::npos) {
        if (is_executable_file(name)) return finish(name);
        return std::nullopt;
    }
    const std::string path = search_path();
    std::size_t start = 0;
    for (;;) {
        const std::size_t end = path.find(':', start);
        std::string dir = path.substr(start, end == std::string::npos ? end : end - start);
        if (dir.empty()) dir = ".";  // an empty PATH entry means the current folder
        const std::filesystem::path candidate = std::filesystem::path(dir) / name;
        if (is_executable_file(candidate)) return finish(candidate);
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return std::nullopt;
}

/// The lines of /proc/cpuinfo that -march=native reads (x86: model name, flags; Arm:
/// Features and the CPU part numbers), for the first processor only.
std::string cpu_description() {
    std::ifstream in("/proc/cpuinfo");
    std::string line, out;
    bool seen = false;
    while (std::getline(in, line)) {
        if (line.empty()) {
            if (seen) break;
            continue;
        }
        seen = true;
        const std::size_t colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string key = line.substr(0, colon);
        while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.pop_back();
        if (key == "model name" || key == "flags" || key == "Features" ||
            key == "CPU implementer" || key == "CPU architecture" || key == "CPU variant" ||
            key == "CPU part" || key == "vendor_id" || key == "cpu family" || key == "model") {
            out += key + "=" + line.substr(colon + 1) + ";";
        }
    }
    return out;
}

HostCompiler find_host_compiler() {
    const std::string& cxx = Config::get().cxx;
    std::optional<std::filesystem::path> found;
    if (!cxx.empty()) {
        // CXX is taken as one program (a name or a path); "ccache g++" is not split into a
        // launcher and a compiler.
        found = find_program(cxx);
        if (!found) {
            throw DeviceUnavailable(
                "no C++ compiler found: CXX='" + cxx + "' is neither an executable file nor a "
                "program on PATH (" + search_path() + "); manycore takes CXX as one program, a "
                "name or a path without arguments: set CXX to a compiler such as g++, or unset it");
        }
    } else {
        for (const char* name : {"g++", "clang++"}) {
            if ((found = find_program(name))) break;
        }
        if (!found) {
            throw DeviceUnavailable("no C++ compiler found: CXX is unset, and neither g++ nor "
                                    "clang++ is on PATH (" + search_path() +
                                    "); install g++ or set CXX");
        }
    }
    HostCompiler c;
    c.path = *found;

    // What decides the output without running anything: the driver file itself (an upgrade
    // changes its size, mtime or inode) and the CPU that -march=native tunes for.
    std::error_code ec;
    const std::filesystem::path target = std::filesystem::canonical(c.path, ec);
    c.identity = "path=" + c.path.string() + ";target=" + target.string() + ";" +
                 detail::file_stamp(c.path.string()) + ";" + cpu_description();
    return c;
}

/// "g++ 12.2.0" from "/usr/bin/g++" and "g++ (Debian 12.2.0-14) 12.2.0", or
/// "clang++ 14.0.6" from "Debian clang version 14.0.6".
std::string short_name(const HostCompiler& c) {
    const std::string& version = host_compiler_version();
    std::string number;
    const std::size_t v = version.find("version ");
    if (v != std::string::npos) {
        number = version.substr(v + 8);
        number = number.substr(0, number.find(' '));
    } else {
        const std::size_t last = version.find_last_of(' ');
        number = last == std::string::npos ? version : version.substr(last + 1);
    }
    const std::string name = c.path.filename().string();
    return number.empty() ? name : name + " " + number;
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
    if (from.empty()) return;
    for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
        s.replace(at, from.size(), to);
}

void write_file(const std::filesystem::path& p, std::string_view text) {
    const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    bool ok = fd >= 0;
    for (std::size_t done = 0; ok && done < text.size();) {
        const ssize_t w = ::write(fd, text.data() + done, text.size() - done);
        if (w < 0 && errno == EINTR) continue;
        ok = w > 0;
        if (ok) done += static_cast<std::size_t>(w);
    }
    const int err = errno;
    if (fd >= 0) ::close(fd);
    if (!ok) {
        throw Error("compile_shared_library: cannot write " + p.string() + ": " +
                    errno_text(err) + " (errno " + std::to_string(err) +
                    "); set TMPDIR to a writable folder with free space");
    }
}

std::vector<std::byte> read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::vector<std::byte> bytes;
    if (!in) return bytes;
    in.seekg(0, std::ios::end);
    bytes.resize(static_cast<std::size_t>(in.tellg()));
    in.seekg(0);
    in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!in) bytes.clear();
    return bytes;
}

}  // namespace

const HostCompiler& host_compiler() {
    // A throw leaves the static uninitialised, so a later call (after installing g++) retries.
    static const HostCompiler compiler = find_host_compiler();
    return compiler;
}

const std::string& host_compiler_version() {
    // A throw leaves the static uninitialised, so a later call retries.
    static const std::string version = [] {
        const HostCompiler& c = host_compiler();
        const ProcessResult r = run_capture(c.path, {c.path.string(), "--version"}, {});
        throw_if_stopped(r, c.path.string());
        if (r.spawn_error != 0 || !WIFEXITED(r.wait_status) || WEXITSTATUS(r.wait_status) != 0) {
            const std::string what = r.spawn_error != 0 ? errno_text(r.spawn_error)
                                                        : describe_exit("it", r.wait_status);
            throw DeviceUnavailable("the C++ compiler " + c.path.string() + " does not run ('" +
                                    c.path.string() + " --version': " + what +
                                    "); install g++ or set CXX to a working compiler");
        }
        return r.output.substr(0, r.output.find('\n'));
    }();
    return version;
}

// -fno-trapping-math: CUDA has no floating-point traps, so the compiler may compute a
// guarded expression for every thread and keep the results it needs (if-conversion), which is
// what lets a loop over a block's threads with `if (i < n)` in it run as vector instructions.
// It changes no result.
std::vector<std::string> default_compile_options() {
    return {"-O3", "-march=native", "-fno-trapping-math"};
}

std::vector<std::byte> compile_shared_library(const HostCompiler& compiler,
                                              std::string_view translation_unit,
                                              const std::vector<std::string>& options,
                                              std::string_view user_source) {
    TempFolder folder;
    write_file(folder.path() / "kernel.cpp", translation_unit);

    // Warnings stay on (no -w): the log is shown only when the compile fails, and there a
    // warning on the user's line often explains the error; users may pass -w themselves.
    std::vector<std::string> argv = {compiler.path.string(),
                                     "-std=c++20",
                                     "-fPIC",
                                     "-shared",
                                     "-fvisibility=hidden",
                                     "-fno-semantic-interposition",
                                     "-fdiagnostics-color=never"};
    argv.insert(argv.end(), options.begin(), options.end());
    for (const char* a : {"-o", "kernel.so", "kernel.cpp"}) argv.emplace_back(a);

    // Run inside the folder so the compiler names its files relatively; #line directives in
    // the translation unit already make diagnostics name the user's file.
    ProcessResult r = run_capture(compiler.path, argv, folder.path());
    throw_if_stopped(r, compiler.path.string());
    if (r.spawn_error != 0) {
        throw DeviceUnavailable("compile_shared_library: cannot run the C++ compiler " +
                                compiler.path.string() + ": " + errno_text(r.spawn_error) +
                                "; install g++ or set CXX to a working compiler");
    }
    std::string log = std::move(r.output);
    replace_all(log, folder.path().string() + "/", "");
    replace_all(log, folder.path().string(), ".");
    const std::string name = short_name(compiler);
    const bool exited_ok = WIFEXITED(r.wait_status) && WEXITSTATUS(r.wait_status) == 0;
    std::vector<std::byte> bytes;
    if (exited_ok) bytes = read_file(folder.path() / "kernel.so");

    // A shared object is ELF with e_type ET_DYN (3); -c, -E or -S among the options make
    // something else, which dlopen would reject with a far less helpful message.
    const bool shared_object = bytes.size() > 17 && bytes[0] == std::byte{0x7f} &&
                               bytes[1] == std::byte{'E'} && bytes[2] == std::byte{'L'} &&
                               bytes[3] == std::byte{'F'} && bytes[16] == std::byte{3} &&
                               bytes[17] == std::byte{0};
    if (exited_ok && shared_object) return bytes;

    if (!exited_ok) {
        if (WIFSIGNALED(r.wait_status) || log.empty()) {
            if (!log.empty() && log.back() != '\n') log += '\n';
            log += describe_exit(name, r.wait_status) + "\n";
        }
        throw CompileError("SourceModule: the kernel source did not compile (" + name + "):\n" +
                               detail::first_log_lines(log, kMessageLines),
                           log, std::string(user_source), options);
    }
    throw CompileError("SourceModule: " + name + " succeeded but made no shared library (options "
                           "such as -c, -E or -S change what it makes; remove them)\n" +
                           detail::first_log_lines(log, kMessageLines),
                       log, std::string(user_source), options);
}

}  // namespace manycore::cpu
