// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Findings: the messages every device's checked launches share, and their end (a KernelFault,
// or JSON lines appended to MANYCORE_CHECK_COLLECT).
#include "manycore/finding.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/finding_report.hpp"
#include "manycore/config.hpp"
#include "manycore/error.hpp"

namespace manycore {
namespace {

void string_value(std::string& out, const std::string& s) {
    out += '"';
    for (const char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            case '\r': out += "\\r"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char escaped[8];
                    std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
                    out += escaped;
                } else {
                    out += c;
                }
        }
    }
    out += '"';
}

void key(std::string& out, const char* name) {
    if (out.size() > 1) out += ", ";
    out += '"';
    out += name;
    out += "\": ";
}

void field(std::string& out, const char* name, const std::string& v) {
    key(out, name);
    string_value(out, v);
}
void field(std::string& out, const char* name, const std::optional<std::string>& v) {
    key(out, name);
    if (v) string_value(out, *v);
    else out += "null";
}
template <class I>
void field(std::string& out, const char* name, const std::optional<I>& v) {
    key(out, name);
    out += v ? std::to_string(*v) : "null";
}
void field(std::string& out, const char* name, const std::optional<Finding::Dim3>& v) {
    key(out, name);
    if (!v) {
        out += "null";
        return;
    }
    out += "[" + std::to_string((*v)[0]) + ", " + std::to_string((*v)[1]) + ", " +
           std::to_string((*v)[2]) + "]";
}

}  // namespace

std::string to_json(const Finding& f) {
    std::string out = "{";
    field(out, "kind", f.kind);
    field(out, "kernel", f.kernel);
    field(out, "message", f.message);
    field(out, "variable", f.variable);
    field(out, "space", f.space);
    field(out, "index", f.index);
    field(out, "extent", f.extent);
    field(out, "access", f.access);
    field(out, "line", f.line);
    field(out, "block", f.block);
    field(out, "thread", f.thread);
    field(out, "other_access", f.other_access);
    field(out, "other_line", f.other_line);
    field(out, "other_block", f.other_block);
    field(out, "other_thread", f.other_thread);
    return out + "}";
}

}  // namespace manycore

namespace manycore::detail {

std::string dim3_text(const mc_dim3& d) {
    return "(" + std::to_string(d.x) + "," + std::to_string(d.y) + "," + std::to_string(d.z) + ")";
}

std::string line_text(std::uint32_t line) {
    return line ? "at line " + std::to_string(line) : "at an unknown line";
}

std::optional<int> line_field(std::uint32_t line) {
    return line ? std::optional<int>(static_cast<int>(line)) : std::nullopt;
}

Finding::Dim3 dim3_of(const mc_dim3& d) { return {d.x, d.y, d.z}; }

const char* access_verb(std::uint8_t access) {
    return access == MC_ACCESS_WRITE ? "writes" : access == MC_ACCESS_ATOMIC ? "updates" : "reads";
}

const char* access_name(std::uint8_t access) {
    return access == MC_ACCESS_WRITE ? "write" : "read";
}

Finding out_of_bounds_finding(const std::string& kernel, const std::string& name, bool shared,
                              std::int64_t index, std::int64_t extent, std::uint8_t access,
                              std::uint32_t line, mc_dim3 block, mc_dim3 thread) {
    Finding f;
    f.kind = "out-of-bounds";
    f.kernel = kernel;
    f.variable = name;
    f.space = shared ? "shared" : "global";
    f.index = index;
    f.extent = extent;
    f.access = access_name(access);
    f.line = line_field(line);
    f.block = dim3_of(block);
    f.thread = dim3_of(thread);
    f.message = "out-of-bounds in kernel '" + kernel + "', " +
                (shared ? "shared array '" : "array '") + name + "': thread " +
                dim3_text(thread) + " of block " + dim3_text(block) + " " + access_verb(access) +
                " " + name + "[" + std::to_string(index) + "] " + line_text(line) + ", but '" +
                name + "' has " + std::to_string(extent) + (extent == 1 ? " element" : " elements") +
                (extent > 0 ? " (indices 0 to " + std::to_string(extent - 1) + ")" : "");
    return f;
}

namespace {

// Appends `text` to the MANYCORE_CHECK_COLLECT file in one write (so lines of processes
// writing at once never interleave); a failure is an error that names the file, never a
// finding lost in silence.
void append_collected(const std::string& path, const std::string& text) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        throw Error("MANYCORE_CHECK_COLLECT=" + path + ": cannot open the file (" +
                    std::strerror(errno) + "); give a path in a writable folder");
    }
    std::size_t done = 0;
    int err = 0;
    while (done < text.size()) {
        const ssize_t w = ::write(fd, text.data() + done, text.size() - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            err = w < 0 ? errno : ENOSPC;
            break;
        }
        done += static_cast<std::size_t>(w);
    }
    if (::close(fd) != 0 && err == 0 && errno != EINTR) err = errno;
    if (err != 0) {
        throw Error("MANYCORE_CHECK_COLLECT=" + path + ": writing the checked launch's findings "
                    "failed (" + std::strerror(err) + "), so they are lost; free space there "
                    "or give a path on another disk");
    }
}

// Checked launches of this process, told to the collecting file at the first one and at exit,
// so `manycore check` can say how many launches it checked (none: nothing was checked).
std::atomic<std::uint64_t> g_checked_launches{0};

std::string launches_record(std::uint64_t n) {
    return "{\"checked_launches\": " + std::to_string(n) + ", \"pid\": " +
           std::to_string(static_cast<long>(::getpid())) + "}\n";
}

void record_launches_at_exit() {
    const std::string& path = Config::get().check_collect;
    try {
        append_collected(path, launches_record(g_checked_launches.load()));
    } catch (const Error&) {
        // At exit there is no one left to tell.
    }
}

}  // namespace

void report_findings(const std::vector<Finding>& findings, std::size_t total,
                     std::string_view kernel) {
    const std::string& collect = Config::get().check_collect;
    if (!collect.empty()) {
        if (g_checked_launches.fetch_add(1) == 0) {
            append_collected(collect, launches_record(1));
            std::atexit(&record_launches_at_exit);
        }
        if (findings.empty()) return;
        std::string lines;
        for (const Finding& f : findings) lines += to_json(f) + "\n";
        append_collected(collect, lines);
        return;
    }
    if (findings.empty()) return;
    std::string message = "kernel '" + std::string(kernel) + "': the checked launch found " +
                          std::to_string(total) + (total == 1 ? " problem" : " problems");
    constexpr std::size_t kShown = 20;
    for (std::size_t i = 0; i < findings.size() && i < kShown; ++i) {
        message += "\n  " + findings[i].message;
    }
    if (total > kShown) {
        message += "\n  ... and " + std::to_string(total - kShown) + " more" +
                   (total > findings.size()
                        ? " (KernelFault.findings keeps the first " +
                              std::to_string(findings.size()) + ")"
                        : " (see KernelFault.findings)");
    }
    throw KernelFault(message, std::string(kernel), findings, total);
}

}  // namespace manycore::detail
