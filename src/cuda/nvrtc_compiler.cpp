// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// NVRTC compiles: in-memory prelude headers, name expressions for kernels, logs in file:line form.
#include "cuda/nvrtc_compiler.hpp"

#include <cctype>
#include <string>
#include <string_view>

#include "core/compile_cache.hpp"
#include "core/compile_support.hpp"
#include "core/embedded_headers.hpp"
#include "core/source_analysis.hpp"
#include "manycore/error.hpp"

namespace manycore::cuda {
namespace {

constexpr std::size_t kMessageLines = 30;  // of the log, in the exception's message

// The prelude headers handed to NVRTC in memory: no temporary folder, and nothing a kernel
// includes can come from a folder someone else writes. Every embedded header is reachable as
// "manycore/prelude/<name>"; the stand-ins of nvrtc/ also by their own names ("stdint.h"), those
// of nvrtc/std/ by the C++ name ("cstdint" for nvrtc/std/cstdint.h), and headers in other
// subfolders by their relative name ("manycore/random.h").
struct InMemoryHeaders {
    std::vector<std::string> name_storage, text_storage;
    std::vector<const char*> names, texts;
};

const InMemoryHeaders& in_memory_headers() {
    static const InMemoryHeaders headers = [] {
        InMemoryHeaders h;
        const auto add = [&h](std::string name, std::string_view text) {
            h.name_storage.push_back(std::move(name));
            h.text_storage.emplace_back(text);
        };
        for (const auto& header : detail::embedded_headers()) {
            const std::string name(header.name);
            add("manycore/prelude/" + name, header.text);
            const std::string_view std_prefix = "nvrtc/std/", prefix = "nvrtc/";
            if (name.rfind(std_prefix, 0) == 0 && name.size() > std_prefix.size() + 2) {
                add(name.substr(std_prefix.size(), name.size() - std_prefix.size() - 2), header.text);
            } else if (name.rfind(prefix, 0) == 0 &&
                       name.find('/', prefix.size()) == std::string::npos) {
                add(name.substr(prefix.size()), header.text);
            } else if (name.find('/') != std::string::npos && name.rfind("cuda/", 0) != 0) {
                // Device libraries in subfolders (<manycore/random.h>), reachable as on the CPU,
                // which has prelude/ on its include path; cuda/ holds the CPU's own stand-ins.
                add(name, header.text);
            }
        }
        for (std::size_t i = 0; i < h.name_storage.size(); ++i) {
            h.names.push_back(h.name_storage[i].c_str());
            h.texts.push_back(h.text_storage[i].c_str());
        }
        return h;
    }();
    return headers;
}

class Program {
  public:
    Program(const NvrtcApi& api, const std::string& tu) : api_(api) {
        const auto& h = in_memory_headers();
        const nvrtcResult r =
            api.nvrtcCreateProgram(&program_, tu.c_str(), "manycore_module.cu",
                                   static_cast<int>(h.names.size()), h.texts.data(), h.names.data());
        if (r != NVRTC_SUCCESS) {
            program_ = nullptr;
            throw Error(std::string("SourceModule: nvrtcCreateProgram failed: ") +
                        api.nvrtcGetErrorString(r) + "; check that NVRTC is installed correctly");
        }
    }
    ~Program() {
        if (program_) api_.nvrtcDestroyProgram(&program_);
    }
    Program(const Program&) = delete;
    Program& operator=(const Program&) = delete;
    nvrtcProgram get() const noexcept { return program_; }

    std::string log() const {
        std::size_t size = 0;
        if (api_.nvrtcGetProgramLogSize(program_, &size) != NVRTC_SUCCESS || size <= 1) return {};
        std::string text(size, '\0');
        if (api_.nvrtcGetProgramLog(program_, text.data()) != NVRTC_SUCCESS) return {};
        text.resize(size - 1);  // the terminating NUL
        return text;
    }

  private:
    const NvrtcApi& api_;
    nvrtcProgram program_ = nullptr;
};

bool sets_dialect(const std::vector<std::string>& options) {
    for (const auto& o : options) {
        if (o.rfind("-std=", 0) == 0 || o.rfind("--std=", 0) == 0 || o == "-std" || o == "--std") {
            return true;
        }
    }
    return false;
}

}  // namespace

Target choose_target(const NvrtcIdentity& nvrtc, int cc, const std::string& device_name) {
    Target t;
    for (const int arch : nvrtc.archs) {
        if (arch == cc) {
            t.arch = arch;
            t.cubin = true;
        } else if (arch < cc && !(t.arch == cc) && arch > t.arch) {
            t.arch = arch;
            t.cubin = false;
        }
    }
    if (t.arch == 0) {
        throw DeviceUnavailable(
            "SourceModule(device='" + device_name + "'): the device's compute capability " +
            std::to_string(cc / 10) + "." + std::to_string(cc % 10) + " is older than every "
            "architecture NVRTC " + nvrtc.version_text() + " supports (oldest: " +
            std::to_string(nvrtc.archs.front() / 10) + "." + std::to_string(nvrtc.archs.front() % 10) +
            "); point MANYCORE_NVRTC_PATH at an older NVRTC, or use device='cpu'");
    }
    t.option = "--gpu-architecture=" + t.text();
    return t;
}

std::string translation_unit(const detail::ModuleSource& source) {
    std::string tu;
    tu.reserve(source.user_source.size() + 256 + 64 * source.kernels.size());
    // A checked module is its own prelude mode (checked_cuda.h), and so its own cache entry.
    if (source.options.checked) tu += "#define MC_CHECKED 1\n";
    tu += "#include \"manycore/prelude/cuda_prelude.h\"\n#line 1 \"kernel.cu\"\n";
    // Unchecked, the source exactly as given: NVRTC is CUDA C++, so `extern __shared__` and
    // the rest need none of the CPU's rewrites. Checked, the analysis's line-for-line rewrite
    // into checked pointers.
    tu += source.options.checked ? source.prepared_source : source.user_source;
    tu += "\n#line 1 \"<manycore parameter tables>\"\n";
    for (std::size_t i = 0; i < source.kernels.size(); ++i) {
        tu += "MC_PARAM_TABLE(" + std::to_string(i) + ", *" +
              detail::kernel_address(source.kernels[i]) + ")\n";
    }
    return tu;
}

std::vector<std::string> nvrtc_options(const NvrtcIdentity& nvrtc, const Target& target,
                                       const std::vector<std::string>& user_options) {
    std::vector<std::string> options{target.option};
    // The dialect of the CPU device (-std=c++20), so one source means the same on both.
    if (!sets_dialect(user_options)) options.emplace_back("-std=c++20");
    // Line tables cost nothing at run time and let compute-sanitizer and faults name kernel.cu lines.
    options.emplace_back("-lineinfo");
    options.insert(options.end(), user_options.begin(), user_options.end());
    for (const auto& inc : nvrtc.toolkit_includes) options.push_back("-I" + inc);
    return options;
}

CompiledProgram compile_program(const NvrtcApi& nvrtc, const detail::ModuleSource& source,
                                const std::string& tu, const Target& target,
                                const std::string& where) {
    Program program(nvrtc, tu);
    std::vector<std::string> expressions;
    for (const auto& k : source.kernels) {
        expressions.push_back(detail::kernel_address(k));
        const nvrtcResult r = nvrtc.nvrtcAddNameExpression(program.get(), expressions.back().c_str());
        if (r != NVRTC_SUCCESS) {
            throw CompileError(where + ": NVRTC does not accept the kernel name '" + k.name +
                                   "' (" + nvrtc.nvrtcGetErrorString(r) + ")",
                               "", source.user_source, source.options.compiler_options);
        }
    }
    const auto options = nvrtc_options(nvrtc, target, source.options.compiler_options);
    std::vector<const char*> argv;
    for (const auto& o : options) argv.push_back(o.c_str());
    const nvrtcResult r =
        nvrtc.nvrtcCompileProgram(program.get(), static_cast<int>(argv.size()), argv.data());
    CompiledProgram out;
    out.log = normalise_log(program.log());
    if (r != NVRTC_SUCCESS) {
        std::string log = out.log;
        if (log.empty()) log = std::string(nvrtc.nvrtcGetErrorString(r)) + "\n";
        throw CompileError(where + ": the kernel source did not compile (NVRTC " +
                               nvrtc.version_text() + ", " + target.text() + "):\n" +
                               detail::first_log_lines(log, kMessageLines),
                           log, source.user_source, source.options.compiler_options);
    }
    for (const auto& expr : expressions) {
        const char* lowered = nullptr;
        if (nvrtc.nvrtcGetLoweredName(program.get(), expr.c_str(), &lowered) != NVRTC_SUCCESS ||
            lowered == nullptr) {
            throw CompileError(where + ": NVRTC gave no symbol for kernel '" + expr.substr(1) +
                                   "'; is it a __global__ function?",
                               out.log, source.user_source, source.options.compiler_options);
        }
        out.lowered_names.emplace_back(lowered);
    }
    std::size_t size = 0;
    if (target.cubin) {
        if (nvrtc.nvrtcGetCUBINSize(program.get(), &size) != NVRTC_SUCCESS || size == 0) {
            throw Error(where + ": NVRTC made no cubin for " + target.text() +
                        "; report this with `python -m manycore info`");
        }
        out.image.resize(size);
        (void)nvrtc.nvrtcGetCUBIN(program.get(), out.image.data());
    } else {
        if (nvrtc.nvrtcGetPTXSize(program.get(), &size) != NVRTC_SUCCESS || size == 0) {
            throw Error(where + ": NVRTC made no PTX for " + target.text() +
                        "; report this with `python -m manycore info`");
        }
        out.image.resize(size);  // includes the terminating NUL cuModuleLoadData needs
        (void)nvrtc.nvrtcGetPTX(program.get(), out.image.data());
    }
    return out;
}

std::string normalise_log(const std::string& log) {
    std::string out;
    out.reserve(log.size());
    std::size_t start = 0;
    while (start < log.size()) {
        std::size_t end = log.find('\n', start);
        if (end == std::string::npos) end = log.size();
        std::string_view line(log.data() + start, end - start);
        // "<file>(<digits>): " at the start of a line, <file> without spaces.
        const std::size_t open = line.find('(');
        const std::size_t close = line.find("): ");
        bool rewritten = false;
        if (open != std::string_view::npos && open > 0 && close != std::string_view::npos &&
            close > open + 1 && line.substr(0, open).find(' ') == std::string_view::npos) {
            const auto digits = line.substr(open + 1, close - open - 1);
            bool all_digits = true;
            for (char c : digits) all_digits = all_digits && std::isdigit(static_cast<unsigned char>(c));
            if (all_digits) {
                out.append(line.substr(0, open));
                out.push_back(':');
                out.append(digits);
                out.append(": ");
                out.append(line.substr(close + 3));
                rewritten = true;
            }
        }
        if (!rewritten) out.append(line);
        if (end < log.size()) out.push_back('\n');
        start = end + 1;
    }
    return out;
}

}  // namespace manycore::cuda

namespace manycore::cuda {

OfflineImage compile_for_architecture(std::string_view source, int cc,
                                      const std::vector<std::string>& options,
                                      const std::vector<std::string>& name_expressions,
                                      bool checked) {
    const std::string where = "manycore.cuda.compile(arch=" + std::to_string(cc) + ")";
    if (cc < 10 || cc > 999) {
        throw InvalidArgument(where + ": the compute capability must be written like 90 (sm_90) "
                              "or '8.6'; got " + std::to_string(cc));
    }
    const NvrtcApi* api = nullptr;
    try {
        api = &nvrtc();
    } catch (const DeviceUnavailable& e) {
        throw DeviceUnavailable(where + ": " + e.what());
    }
    const Target target = choose_target(*api, cc, "sm_" + std::to_string(cc));
    const auto build = [&](detail::CheckedHelpers helpers) {
        auto analysis = detail::analyse_source(source, name_expressions, checked, helpers);
        detail::ModuleSource module_source;
        module_source.user_source = std::string(source);
        module_source.prepared_source = std::move(analysis.prepared_source);
        module_source.kernels = std::move(analysis.kernels);
        module_source.options.compiler_options = options;
        module_source.options.name_expressions = name_expressions;
        module_source.options.checked = checked;
        return compile_program(*api, module_source, translation_unit(module_source), target, where);
    };
    auto compiled = checked ? detail::build_widest_checked(build) : build(detail::CheckedHelpers::none);
    return OfflineImage{std::move(compiled.image), target.cubin, target.text(), std::move(compiled.log)};
}

}  // namespace manycore::cuda
