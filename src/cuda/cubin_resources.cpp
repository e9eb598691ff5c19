// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Reads a kernel's registers, shared, local and constant memory from a cubin's ELF sections.
//
// A cubin is an ELF64 file. Per kernel it has `.text.<kernel>` (its code), `.nv.shared.<kernel>`
// (static shared memory: the section's size), `.nv.info.<kernel>` (attributes such as launch
// bounds), and the module has `.nv.info` (per-kernel attributes keyed by symbol index: register
// count, stack frame) and `.nv.constant3` (user __constant__ data). Attributes are records of
// {u8 format, u8 attribute, payload}: format 4 carries a u16 size and that many bytes, formats
// 1 to 3 carry at most a u16 in the record's last two bytes.
#include "cuda/cubin_resources.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "cuda/nvrtc_compiler.hpp"
#include "manycore/error.hpp"

namespace manycore::cuda {
namespace {

constexpr std::uint8_t kFormatSized = 4;
constexpr std::uint8_t kAttrMaxThreads = 0x05;  // __launch_bounds__: x, y, z
constexpr std::uint8_t kAttrReqNtid = 0x10;     // .reqntid: x, y, z
constexpr std::uint8_t kAttrFrameSize = 0x11;   // symbol, bytes
constexpr std::uint8_t kAttrRegCount = 0x2f;    // symbol, registers
constexpr std::uint32_t kSymtab = 2;

struct Section {
    std::string_view name;
    std::uint64_t offset = 0, size = 0;
    std::uint32_t type = 0, link = 0, info = 0;
};

class Elf {
  public:
    explicit Elf(std::span<const char> bytes) : bytes_(bytes) {
        if (bytes.size() < 64 ||
            std::memcmp(bytes.data(),
                        "\x7f"
                        "ELF",
                        4) != 0 ||
            bytes[4] != 2 || bytes[5] != 1) {
            bad("not a 64-bit little-endian ELF file");
        }
        const auto shoff = read<std::uint64_t>(0x28);
        const auto shentsize = read<std::uint16_t>(0x3a);
        const auto shnum = read<std::uint16_t>(0x3c);
        const auto shstrndx = read<std::uint16_t>(0x3e);
        if (shentsize < 64 || shstrndx >= shnum) bad("malformed section table");
        for (std::uint16_t i = 0; i < shnum; ++i) {
            const std::uint64_t at = shoff + std::uint64_t{i} * shentsize;
            Section s;
            s.type = read<std::uint32_t>(at + 4);
            s.offset = read<std::uint64_t>(at + 0x18);
            s.size = read<std::uint64_t>(at + 0x20);
            s.link = read<std::uint32_t>(at + 0x28);
            s.info = read<std::uint32_t>(at + 0x2c);
            name_offsets_.push_back(read<std::uint32_t>(at));
            sections_.push_back(s);
        }
        for (std::size_t i = 0; i < sections_.size(); ++i)
            sections_[i].name = string_at(sections_[shstrndx], name_offsets_[i]);
    }

    const Section* section(std::string_view name) const {
        for (const Section& s : sections_)
            if (s.name == name) return &s;
        return nullptr;
    }

    /// The index of `symbol` in .symtab; -1 when absent.
    long symbol_index(std::string_view symbol) const {
        for (const Section& s : sections_) {
            if (s.type != kSymtab || s.link >= sections_.size()) continue;
            for (std::uint64_t i = 0; i * 24 + 24 <= s.size; ++i) {
                const auto name = read<std::uint32_t>(s.offset + i * 24);
                if (string_at(sections_[s.link], name) == symbol) return static_cast<long>(i);
            }
        }
        return -1;
    }

    /// Calls f(attribute, payload) for each sized attribute record of `s`.
    template <class F>
    void attributes(const Section& s, F&& f) const {
        std::uint64_t at = s.offset;
        const std::uint64_t end = s.offset + s.size;
        while (at + 4 <= end) {
            const auto format = read<std::uint8_t>(at);
            const auto attribute = read<std::uint8_t>(at + 1);
            if (format != kFormatSized) {
                at += 4;
                continue;
            }
            const auto size = read<std::uint16_t>(at + 2);
            if (at + 4 + size > end) bad("truncated attribute in " + std::string(s.name));
            f(attribute, at + 4, size);
            at += 4 + size;
        }
    }

    template <class T>
    T read(std::uint64_t at) const {
        if (at + sizeof(T) > bytes_.size() || at + sizeof(T) < at) bad("truncated file");
        T v;
        std::memcpy(&v, bytes_.data() + at, sizeof(T));
        return v;
    }

  private:
    std::string_view string_at(const Section& table, std::uint32_t offset) const {
        if (offset >= table.size || table.offset + table.size > bytes_.size())
            bad("bad string table");
        const char* begin = bytes_.data() + table.offset + offset;
        return {begin, strnlen(begin, table.size - offset)};
    }
    [[noreturn]] static void bad(const std::string& what) {
        throw Error("reading a cubin: " + what + "; report this with `python -m manycore info`");
    }

    std::span<const char> bytes_;
    std::vector<Section> sections_;
    std::vector<std::uint32_t> name_offsets_;
};

}  // namespace

CubinKernel read_cubin_kernel(std::span<const char> cubin, std::string_view symbol,
                              std::size_t reserved_shared) {
    const Elf elf(cubin);
    const std::string name(symbol);
    const Section* text = elf.section(".text." + name);
    const long index = elf.symbol_index(symbol);
    if (text == nullptr || index < 0) {
        throw Error("reading a cubin: it has no kernel '" + name + "'");
    }
    CubinKernel k;
    // Older cubins keep the register count in the top byte of the code section's sh_info;
    // newer ones (sm_90 on) in a REGCOUNT attribute, which wins when present.
    k.registers = static_cast<int>(text->info >> 24);
    if (const Section* info = elf.section(".nv.info")) {
        elf.attributes(*info, [&](std::uint8_t attribute, std::uint64_t at, std::uint16_t size) {
            if (size != 8 || elf.read<std::uint32_t>(at) != static_cast<std::uint32_t>(index))
                return;
            const auto value = elf.read<std::uint32_t>(at + 4);
            if (attribute == kAttrRegCount) k.registers = static_cast<int>(value);
            if (attribute == kAttrFrameSize) k.local_bytes = value;
        });
    }
    if (const Section* info = elf.section(".nv.info." + name)) {
        elf.attributes(*info, [&](std::uint8_t attribute, std::uint64_t at, std::uint16_t size) {
            if ((attribute != kAttrMaxThreads && attribute != kAttrReqNtid) || size != 12) return;
            const std::uint64_t threads = std::uint64_t{elf.read<std::uint32_t>(at)} *
                                          elf.read<std::uint32_t>(at + 4) *
                                          elf.read<std::uint32_t>(at + 8);
            if (threads != 0 && (k.launch_bound == 0 || threads < k.launch_bound))
                k.launch_bound = static_cast<unsigned>(threads);
        });
    }
    if (const Section* shared = elf.section(".nv.shared." + name)) {
        k.shared_bytes = shared->size;
        // From sm_90 on, a kernel that uses shared memory has the driver's reserve at the start
        // of its section (the cubin then has .nv.shared.reserved.*); the driver counts it apart.
        for (std::string_view reserved : {".nv.shared.reserved.0", ".nv.shared.reserved.1"}) {
            if (elf.section(reserved) != nullptr) {
                k.shared_bytes =
                    k.shared_bytes > reserved_shared ? k.shared_bytes - reserved_shared : 0;
                break;
            }
        }
    }
    if (const Section* constants = elf.section(".nv.constant3")) k.const_bytes = constants->size;
    return k;
}

namespace {

// Only the options both compilers read the same way travel from a CPU module to NVRTC: the
// others are the host compiler's (-O3, -march=native, ...).
std::vector<std::string> portable_options(const std::vector<std::string>& options) {
    std::vector<std::string> out;
    for (const auto& o : options)
        if (o.rfind("-D", 0) == 0 || o.rfind("-U", 0) == 0 || o.rfind("-I", 0) == 0)
            out.push_back(o);
    return out;
}

std::vector<KernelResources> with_reason(std::size_t n, const std::string& reason) {
    std::vector<KernelResources> out(n);
    for (auto& r : out) r.reason = reason;
    return out;
}

}  // namespace

std::vector<KernelResources> offline_resources(const detail::ModuleSource& source,
                                               const ArchLimits& limits) {
    const std::string arch = limits.name();
    const NvrtcApi* api = nullptr;
    try {
        api = &nvrtc();
    } catch (const DeviceUnavailable& e) {
        return with_reason(source.kernels.size(),
                           std::string("no NVRTC here to compile for ") + arch + ": " + e.what());
    }
    if (std::find(api->archs.begin(), api->archs.end(), limits.arch) == api->archs.end()) {
        return with_reason(source.kernels.size(),
                           "NVRTC " + api->version_text() + " does not compile for " + arch +
                               " (it knows sm_" + std::to_string(api->archs.front()) + " to sm_" +
                               std::to_string(api->archs.back()) +
                               "); set MANYCORE_EMULATED_ARCH to one of those");
    }
    detail::ModuleSource unchecked = source;
    unchecked.options.checked = false;
    unchecked.options.compiler_options = portable_options(source.options.compiler_options);
    Target target;
    target.arch = limits.arch;
    target.cubin = true;
    target.option = "--gpu-architecture=" + arch;
    CompiledProgram compiled;
    try {
        compiled = compile_program(*api, unchecked, translation_unit(unchecked), target,
                                   "resource_usage(arch='" + arch + "')");
    } catch (const Error& e) {
        return with_reason(source.kernels.size(), "the kernel does not compile for " + arch +
                                                      " with NVRTC " + api->version_text() + ": " +
                                                      e.what());
    }
    std::vector<KernelResources> out(source.kernels.size());
    for (std::size_t i = 0; i < out.size(); ++i) {
        try {
            const CubinKernel k = read_cubin_kernel(compiled.image, compiled.lowered_names[i],
                                                    limits.reserved_shared_per_block);
            out[i].registers = k.registers;
            out[i].shared_bytes = k.shared_bytes;
            out[i].local_bytes = k.local_bytes;
            out[i].const_bytes = k.const_bytes;
            out[i].max_threads_per_block =
                detail::max_threads_for_registers(limits, k.registers, k.launch_bound);
        } catch (const Error& e) {
            out[i].reason = e.what();
        }
    }
    return out;
}

}  // namespace manycore::cuda
