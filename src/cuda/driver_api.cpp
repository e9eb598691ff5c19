// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Loads libcuda with dlopen, resolves the descriptor table through cuGetProcAddress, runs cuInit.
#include "cuda/driver_api.hpp"

#include <dlfcn.h>

#include <mutex>
#include <string>

#include "cuda/process_state.hpp"
#include "manycore/config.hpp"
#include "manycore/error.hpp"

namespace manycore::cuda {
namespace {

enum class DriverFn {
#define MC_CUDA_ENUM(name, ...) name,
    MC_CUDA_DRIVER_FUNCTIONS(MC_CUDA_ENUM)
#undef MC_CUDA_ENUM
};

constexpr const char* kDriverFnNames[] = {
#define MC_CUDA_NAME(name, ...) #name,
    MC_CUDA_DRIVER_FUNCTIONS(MC_CUDA_NAME)
#undef MC_CUDA_NAME
};

// Where the stubs of missing symbols say the driver came from. Set once, before any stub can run.
std::string& loaded_path() {
    static std::string path;
    return path;
}

// What a symbol the driver does not have becomes: calling it says which one and what to do,
// instead of crashing on a null pointer (CuPy's soft link).
template <DriverFn F, class R, class... A>
R missing(A...) {
    throw DeviceUnavailable(std::string("CUDA driver function ") +
                            kDriverFnNames[static_cast<int>(F)] + " is missing from " +
                            loaded_path() +
                            "; update the NVIDIA driver (manycore needs CUDA 12.0 or newer) or "
                            "use device='cpu'");
}

// The two entry points looked up before the version is known. cuGetProcAddress_v2 (CUDA 12.0)
// adds the status out-parameter; the unversioned symbol (11.3) lacks it.
using GetVersionFn = CUresult (*)(int*);
using GetProcAddressFn = CUresult (*)(const char*, void**, int, std::uint64_t, int*);

std::string try_open(const std::string& explicit_path, void*& handle, std::string& opened) {
    std::string tried;
    const std::string candidates[] = {explicit_path.empty() ? "libcuda.so.1" : explicit_path,
                                      explicit_path.empty() ? "libcuda.so" : ""};
    for (const auto& name : candidates) {
        if (name.empty()) continue;
        // RTLD_GLOBAL is not needed: every symbol comes through cuGetProcAddress.
        handle = ::dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (handle != nullptr) {
            opened = name;
            return {};
        }
        const char* why = ::dlerror();
        tried += (tried.empty() ? "" : "; ") + std::string("dlopen ") + name + ": " +
                 (why ? why : "unknown error");
    }
    if (!explicit_path.empty()) {
        return "CUDA driver not found at MANYCORE_CUDA_DRIVER_PATH (" + tried +
               "); point it at libcuda.so.1, unset it, or use device='cpu'";
    }
    return "CUDA driver not found (" + tried +
           "); install the NVIDIA driver, set MANYCORE_CUDA_DRIVER_PATH to its libcuda.so.1, "
           "or use device='cpu'";
}

}  // namespace

std::string version_text(int cuda_version) {
    return std::to_string(cuda_version / 1000) + "." + std::to_string(cuda_version % 1000 / 10);
}

std::string load_driver(const std::string& explicit_path, DriverApi& out) noexcept {
    try {
        void* handle = nullptr;
        std::string opened;
        if (auto why = try_open(explicit_path, handle, opened); !why.empty()) return why;
        // Never dlclosed: kernels, buffers and the driver's own threads outlive any owner we have.
        out.path = opened;

        auto get_version = reinterpret_cast<GetVersionFn>(::dlsym(handle, "cuDriverGetVersion"));
        if (get_version == nullptr) {
            return opened + " is not a CUDA driver (it has no cuDriverGetVersion); point "
                            "MANYCORE_CUDA_DRIVER_PATH at the NVIDIA driver's libcuda.so.1";
        }
        int version = 0;
        if (get_version(&version) != CUDA_SUCCESS || version < kMinimumDriverVersion) {
            return "the NVIDIA driver is too old (CUDA " + version_text(version) + " = " +
                   std::to_string(version) + ", " + opened + "); manycore needs " +
                   version_text(kMinimumDriverVersion) +
                   " or newer; update the NVIDIA driver or use device='cpu'";
        }
        out.version = version;

        auto get_proc = reinterpret_cast<GetProcAddressFn>(::dlsym(handle, "cuGetProcAddress_v2"));
        if (get_proc == nullptr) {
            return opened + " (CUDA " + version_text(version) +
                   ") has no cuGetProcAddress_v2; update the NVIDIA driver or use device='cpu'";
        }
        if (loaded_path().empty()) loaded_path() = opened;
        // Each entry point at the ABI of the floor version, legacy default-stream flavour: the
        // NULL stream means the legacy stream everywhere in this backend (docs/architecture.md).
#define MC_CUDA_RESOLVE(name, ret, ...)                                                        \
        {                                                                                      \
            void* fn = nullptr;                                                                \
            int status = -1;                                                                   \
            if (get_proc(#name, &fn, kMinimumDriverVersion, CU_GET_PROC_ADDRESS_LEGACY_STREAM, \
                         &status) == CUDA_SUCCESS &&                                           \
                status == CU_GET_PROC_ADDRESS_SUCCESS && fn != nullptr) {                      \
                out.name = reinterpret_cast<ret (*)(__VA_ARGS__)>(fn);                         \
            } else {                                                                           \
                out.name = &missing<DriverFn::name, ret __VA_OPT__(, ) __VA_ARGS__>;           \
            }                                                                                  \
        }
        MC_CUDA_DRIVER_FUNCTIONS(MC_CUDA_RESOLVE)
#undef MC_CUDA_RESOLVE

        const CUresult init = out.cuInit(0);
        if (init != CUDA_SUCCESS) {
            const char* name = nullptr;
            const char* text = nullptr;
            out.cuGetErrorName(init, &name);
            out.cuGetErrorString(init, &text);
            const std::string said = std::string(name ? name : "CUDA error " + std::to_string(init)) +
                                     " (" + (text ? text : "no description") + ")";
            if (init == CUDA_ERROR_NO_DEVICE) {
                return "no CUDA device: cuInit said " + said +
                       "; check nvidia-smi and CUDA_VISIBLE_DEVICES, or use device='cpu'";
            }
            return "the CUDA driver (" + opened + ", CUDA " + version_text(version) +
                   ") could not start: cuInit said " + said +
                   "; check nvidia-smi, or use device='cpu'";
        }
        process_state_after_init();
        int count = 0;
        if (out.cuDeviceGetCount(&count) != CUDA_SUCCESS || count <= 0) {
            return "no CUDA device: the driver (" + opened +
                   ") found none; check nvidia-smi and CUDA_VISIBLE_DEVICES, or use device='cpu'";
        }
        out.device_count = count;
        return {};
    } catch (const std::exception& e) {
        return std::string("the CUDA driver could not be loaded: ") + e.what();
    }
}

const DriverApi* driver_or_null(std::string* reason) noexcept {
    static DriverApi api;
    static std::string why;
    static std::once_flag once;
    std::call_once(once, [] { why = load_driver(Config::get().cuda_driver_path, api); });
    if (forked_after_init()) {
        if (reason) *reason = kForkedMessage;
        return nullptr;
    }
    if (!why.empty()) {
        if (reason) *reason = why;
        return nullptr;
    }
    return &api;
}

const DriverApi& driver() {
    std::string reason;
    const DriverApi* api = driver_or_null(&reason);
    if (api == nullptr) throw DeviceUnavailable(reason);
    return *api;
}

std::string error_name(CUresult result) {
    std::string why;
    const DriverApi* api = driver_or_null(&why);
    const char* name = nullptr;
    if (api && api->cuGetErrorName(result, &name) == CUDA_SUCCESS && name) return name;
    return "CUDA error " + std::to_string(result);
}

std::string error_text(CUresult result) {
    std::string text = error_name(result);
    const DriverApi* api = driver_or_null();
    const char* description = nullptr;
    if (api && api->cuGetErrorString(result, &description) == CUDA_SUCCESS && description) {
        text += std::string(" (") + description + ")";
    }
    return text;
}

void check(CUresult result, std::string_view call, std::string_view where) {
    if (result == CUDA_SUCCESS) return;
    throw CudaError(std::string(where) + ": " + std::string(call) + " failed: " +
                        error_text(result),
                    result, error_name(result));
}

}  // namespace manycore::cuda
