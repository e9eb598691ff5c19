// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
#include "core/compile_support.hpp"

#include "manycore/detail/backend.hpp"

#include <sys/stat.h>

#include "core/compile_cache.hpp"
#include "core/embedded_headers.hpp"

namespace manycore::detail {

std::string first_log_lines(const std::string& log, std::size_t count) {
    std::size_t at = 0;
    for (std::size_t i = 0; i < count; ++i) {
        at = log.find('\n', at);
        if (at == std::string::npos) return log;
        ++at;
    }
    std::size_t rest = 0;
    for (std::size_t i = at; i < log.size(); ++i) rest += log[i] == '\n';
    if (!log.empty() && log.back() != '\n') ++rest;
    if (rest == 0) return log;
    return log.substr(0, at) + "[... " + std::to_string(rest) +
           " more lines; the full log is in CompileError.log]\n";
}

const std::string& prelude_digest() {
    static const std::string digest = [] {
        std::string all;
        for (const auto& h : embedded_headers()) {
            all.append(h.name);
            all.push_back('\0');
            all.append(h.text);
            all.push_back('\0');
        }
        return CacheKey::of({all}).hex();
    }();
    return digest;
}

std::string file_stamp(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return "missing";
    return "size=" + std::to_string(st.st_size) + ";mtime=" +
           std::to_string(static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL +
                          st.st_mtim.tv_nsec) +
           ";dev=" + std::to_string(st.st_dev) + ";ino=" + std::to_string(st.st_ino);
}

std::string kernel_address(const KernelDecl& k) {
    if (k.name.find('<') != std::string::npos) return "&" + k.name;
    std::string types;
    for (const auto& t : k.param_types) types += (types.empty() ? "" : ", ") + t;
    return "static_cast<void (*)(" + types + ")>(&" + k.name + ")";
}

}  // namespace manycore::detail
