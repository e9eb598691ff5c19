// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Finds NVRTC (explicit path, loader by soname, toolkit folders), loads it with dlopen, checks it.
#include "cuda/nvrtc_api.hpp"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>

#include "manycore/config.hpp"
#include "manycore/error.hpp"

namespace manycore::cuda {
namespace {

enum class NvrtcFn {
#define MC_NVRTC_ENUM(name, ...) name,
    MC_NVRTC_FUNCTIONS(MC_NVRTC_ENUM)
#undef MC_NVRTC_ENUM
};

constexpr const char* kNvrtcFnNames[] = {
#define MC_NVRTC_NAME(name, ...) #name,
    MC_NVRTC_FUNCTIONS(MC_NVRTC_NAME)
#undef MC_NVRTC_NAME
};

template <NvrtcFn F, class R, class... A>
R missing(A...) {
    throw DeviceUnavailable(std::string("NVRTC function ") + kNvrtcFnNames[static_cast<int>(F)] +
                            " is missing from the NVRTC library loaded; point "
                            "MANYCORE_NVRTC_PATH at libnvrtc.so.12 or newer");
}

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

// The toolkit's include folders for NVRTC: next to the library first (same release), then the
// usual toolkit roots. A folder counts only if it has cuda_fp16.h; its cccl/ (libcu++ in CUDA
// 13) is added when present.
std::vector<std::string> find_toolkit_includes(const std::string& library_path) {
    namespace fs = std::filesystem;
    std::vector<fs::path> roots;
    std::error_code ec;
    const fs::path lib = fs::weakly_canonical(fs::path(library_path), ec);
    if (!ec && lib.has_parent_path()) roots.push_back(lib.parent_path().parent_path() / "include");
    for (const char* var : {"CUDA_HOME", "CUDA_PATH"}) {
        const auto root = env(var);
        if (!root.empty()) roots.push_back(fs::path(root) / "include");
    }
    roots.emplace_back("/usr/local/cuda/include");
    for (const auto& inc : roots) {
        if (!fs::exists(inc / "cuda_fp16.h", ec)) continue;
        std::vector<std::string> out{inc.string()};
        if (fs::is_directory(inc / "cccl", ec)) out.push_back((inc / "cccl").string());
        return out;
    }
    return {};
}

}  // namespace

NvrtcSearch NvrtcSearch::from_config() {
    NvrtcSearch s;
    s.explicit_path = Config::get().nvrtc_path;
    s.sonames = {"libnvrtc.so.13", "libnvrtc.so.12"};
    for (const char* var : {"CUDA_HOME", "CUDA_PATH"}) {
        const auto root = env(var);
        if (!root.empty()) s.folders.push_back(root + "/lib64");
    }
    s.folders.emplace_back("/usr/local/cuda/lib64");
    return s;
}

std::string load_nvrtc(const NvrtcSearch& search, NvrtcApi& out) noexcept {
    try {
        std::vector<std::string> candidates;
        if (!search.explicit_path.empty()) {
            candidates.push_back(search.explicit_path);
        } else {
            candidates = search.sonames;
            for (const auto& folder : search.folders) {
                for (const char* file : {"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"}) {
                    candidates.push_back(folder + "/" + file);
                }
            }
        }
        void* handle = nullptr;
        std::string tried;
        for (const auto& name : candidates) {
            handle = ::dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
            if (handle != nullptr) break;
            const char* why = ::dlerror();
            tried += "\n  " + name + ": " + (why ? why : "unknown error");
        }
        if (handle == nullptr) {
            if (!search.explicit_path.empty()) {
                return "NVRTC not found at MANYCORE_NVRTC_PATH=" + search.explicit_path + ":" +
                       tried + "\npoint MANYCORE_NVRTC_PATH at libnvrtc.so.12 or newer, or unset "
                       "it to search the usual places";
            }
            return "NVRTC (the CUDA runtime compiler) not found; tried:" + tried +
                   "\ninstall it (the CUDA toolkit, or pip install nvidia-cuda-nvrtc), set "
                   "MANYCORE_NVRTC_PATH to its libnvrtc.so, or use device='cpu'";
        }
#define MC_NVRTC_RESOLVE(name, ret, ...)                                                      \
        if (void* fn = ::dlsym(handle, #name)) {                                              \
            out.name = reinterpret_cast<ret (*)(__VA_ARGS__)>(fn);                            \
        } else {                                                                              \
            out.name = &missing<NvrtcFn::name, ret __VA_OPT__(, ) __VA_ARGS__>;               \
        }
        MC_NVRTC_FUNCTIONS(MC_NVRTC_RESOLVE)
#undef MC_NVRTC_RESOLVE

        Dl_info info{};
        out.path = ::dladdr(reinterpret_cast<void*>(out.nvrtcVersion), &info) && info.dli_fname
                       ? info.dli_fname
                       : candidates.front();
        if (out.nvrtcVersion(&out.major, &out.minor) != NVRTC_SUCCESS ||
            out.major < kMinimumNvrtcMajor) {
            return "NVRTC " + out.version_text() + " at " + out.path + " is too old; manycore needs " +
                   std::to_string(kMinimumNvrtcMajor) + ".0 or newer: point MANYCORE_NVRTC_PATH "
                   "at a newer libnvrtc.so";
        }
        int count = 0;
        if (out.nvrtcGetNumSupportedArchs(&count) == NVRTC_SUCCESS && count > 0) {
            out.archs.resize(static_cast<std::size_t>(count));
            if (out.nvrtcGetSupportedArchs(out.archs.data()) != NVRTC_SUCCESS) out.archs.clear();
        }
        if (out.archs.empty()) {
            return "NVRTC " + out.version_text() + " at " + out.path +
                   " reports no GPU architectures; reinstall it or point MANYCORE_NVRTC_PATH "
                   "at another libnvrtc.so";
        }
        out.toolkit_includes = find_toolkit_includes(out.path);
        return {};
    } catch (const std::exception& e) {
        return std::string("NVRTC could not be loaded: ") + e.what();
    }
}

const NvrtcApi& nvrtc() {
    static NvrtcApi api;
    static std::string why;
    static std::once_flag once;
    std::call_once(once, [] { why = load_nvrtc(NvrtcSearch::from_config(), api); });
    if (!why.empty()) throw DeviceUnavailable(why);
    return api;
}

}  // namespace manycore::cuda
