// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The record of which NVRTC a process would load, kept in the compile cache.
//
// Two entries, because the file the system loader picks is only known by loading it:
//   where: key over what decides the loader's choice -> the path NVRTC was loaded from;
//   what:  key over that path and the file's size, time and inode -> the identity.
// A changed search (a new LD_LIBRARY_PATH, an ldconfig run) misses the first; an NVRTC
// upgraded in place misses the second; either miss loads NVRTC and records it anew.
#include "cuda/nvrtc_identity.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <cstdlib>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/compile_support.hpp"
#include "core/posix_file.hpp"
#include "manycore/config.hpp"
#include "manycore/error.hpp"

namespace manycore::cuda {
namespace {

std::vector<std::byte> bytes_of(const std::string& text) {
    const auto* begin = reinterpret_cast<const std::byte*>(text.data());
    return {begin, begin + text.size()};
}

std::string read_entry(const detail::VerifiedFile& file) {
    std::string text(file.payload_size(), '\0');
    if (!detail::read_exactly(file.fd(), text.data(), text.size(), 0))
        throw Error("the NVRTC record " + file.path().string() + " cannot be read");
    return text;
}

// One field a line: path, "major minor", the architectures, then each include folder.
std::string serialise(const NvrtcIdentity& id) {
    std::string out =
        id.path + "\n" + std::to_string(id.major) + " " + std::to_string(id.minor) + "\n";
    for (const int arch : id.archs) out += std::to_string(arch) + " ";
    out += "\n";
    for (const auto& inc : id.toolkit_includes) out += inc + "\n";
    return out;
}

// The numbers of one line, separated by spaces; false when anything else is there.
// (No iostreams: a libstdc++ linked statically into the extension, as some toolchains do by
// default, may have no locale facets for formatted input, and `>>` then crashes.)
bool parse_numbers(std::string_view line, std::vector<int>& out) {
    while (!line.empty()) {
        if (line.front() == ' ') {
            line.remove_prefix(1);
            continue;
        }
        int value = 0;
        const auto [end, error] = std::from_chars(line.data(), line.data() + line.size(), value);
        if (error != std::errc()) return false;
        out.push_back(value);
        line.remove_prefix(static_cast<std::size_t>(end - line.data()));
    }
    return true;
}

bool parse(const std::string& text, NvrtcIdentity& id) {
    std::vector<std::string_view> lines;
    for (std::size_t start = 0; start < text.size();) {
        const std::size_t end = std::min(text.find('\n', start), text.size());
        lines.emplace_back(text.data() + start, end - start);
        start = end + 1;
    }
    if (lines.size() < 3 || lines[0].empty()) return false;
    id.path = std::string(lines[0]);
    std::vector<int> version;
    if (!parse_numbers(lines[1], version) || version.size() != 2) return false;
    id.major = version[0];
    id.minor = version[1];
    if (!parse_numbers(lines[2], id.archs)) return false;
    for (std::size_t i = 3; i < lines.size(); ++i) {
        if (!lines[i].empty()) id.toolkit_includes.emplace_back(lines[i]);
    }
    return !id.archs.empty();
}

}  // namespace

NvrtcIdentity remembered_nvrtc_identity(detail::CompileCache& cache, const NvrtcSearch& search,
                                        const std::function<NvrtcIdentity()>& load) {
    // Loaded at most once, whichever record is missing.
    NvrtcIdentity loaded;
    bool have_loaded = false;
    const auto load_once = [&]() -> const NvrtcIdentity& {
        if (!have_loaded) {
            loaded = load();
            have_loaded = true;
        }
        return loaded;
    };
    const char* library_path = std::getenv("LD_LIBRARY_PATH");
    const auto where_key = detail::CacheKey::of(
        {"nvrtc-where", version(), search.explicit_path, detail::key_field(search.sonames),
         detail::key_field(search.folders), library_path ? library_path : "",
         detail::file_stamp("/etc/ld.so.cache")});
    const auto where = cache.get_or_build(where_key, ".nvrtc-path",
                                          [&] { return bytes_of(load_once().path); });
    const std::string path = read_entry(where);

    struct LoaderDisagrees {};
    const auto what_key =
        detail::CacheKey::of({"nvrtc-what", version(), path, detail::file_stamp(path)});
    try {
        const auto what = cache.get_or_build(what_key, ".nvrtc", [&] {
            const NvrtcIdentity& id = load_once();
            // The loader chose another file than the record says (a change it did not show):
            // record nothing under this key, and use what was loaded.
            if (id.path != path) throw LoaderDisagrees{};
            return bytes_of(serialise(id));
        });
        NvrtcIdentity id;
        if (parse(read_entry(what), id) && id.path == path) return id;
    } catch (const LoaderDisagrees&) {
    }
    return load_once();
}

const NvrtcIdentity& nvrtc_identity() {
    static NvrtcIdentity identity;
    static std::once_flag once;
    std::call_once(once, [] {
        try {
            identity = remembered_nvrtc_identity(detail::CompileCache::instance(),
                                                 NvrtcSearch::from_config(),
                                                 [] { return NvrtcIdentity(nvrtc()); });
        } catch (const DeviceUnavailable&) {
            throw;  // no NVRTC: say so, as nvrtc() does
        } catch (const std::exception&) {
            identity = nvrtc();  // the record could not be used; loading is always right
        }
    });
    return identity;
}

}  // namespace manycore::cuda
