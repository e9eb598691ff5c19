// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// ELF symbol-table reading for the static shared memory of each kernel.
#include "cpu/elf_tls.hpp"

#include <elf.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

namespace manycore::cpu {
namespace {

bool read_at(int fd, void* dst, std::size_t bytes, std::size_t offset, std::size_t file_size) {
    if (offset > file_size || bytes > file_size - offset) return false;
    auto* out = static_cast<char*>(dst);
    while (bytes > 0) {
        const ssize_t got = ::pread(fd, out, bytes, static_cast<off_t>(offset));
        if (got <= 0) return false;
        out += got;
        bytes -= static_cast<std::size_t>(got);
        offset += static_cast<std::size_t>(got);
    }
    return true;
}

// "_ZZ6reduce" for kernel "reduce" or "reduce<float>": locals of that function (the Itanium
// mangling of a local entity is _ZZ <function encoding> E <entity>).
std::string local_prefix(std::string_view kernel) {
    const auto base = kernel.substr(0, kernel.find('<'));
    return "_ZZ" + std::to_string(base.size()) + std::string(base);
}

bool is_prelude_symbol(const std::string& name) {
    return name.find("4__mc") != std::string::npos;
}

// Calls f(symbol, name) for each symbol of each symbol table of the ELF file.
template <class F>
void for_each_symbol(int fd, std::size_t size, F&& f) {
    Elf64_Ehdr header;
    if (!read_at(fd, &header, sizeof header, 0, size)) return;
    if (std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 || header.e_ident[EI_CLASS] != ELFCLASS64 ||
        header.e_shentsize != sizeof(Elf64_Shdr)) {
        return;
    }
    std::vector<Elf64_Shdr> sections(header.e_shnum);
    if (!read_at(fd, sections.data(), sections.size() * sizeof(Elf64_Shdr), header.e_shoff, size)) {
        return;
    }
    for (const auto& section : sections) {
        if (section.sh_type != SHT_SYMTAB || section.sh_link >= sections.size()) continue;
        const auto& strtab = sections[section.sh_link];
        std::string names(strtab.sh_size, '\0');
        if (!read_at(fd, names.data(), names.size(), strtab.sh_offset, size)) return;
        std::vector<Elf64_Sym> symbols(section.sh_size / sizeof(Elf64_Sym));
        if (!read_at(fd, symbols.data(), symbols.size() * sizeof(Elf64_Sym), section.sh_offset,
                     size)) {
            return;
        }
        for (const auto& sym : symbols) {
            if (sym.st_name < names.size()) f(sym, names.c_str() + sym.st_name);
        }
    }
}

}  // namespace

std::vector<TlsSymbol> read_tls_symbols(int fd, std::size_t size) {
    std::vector<TlsSymbol> out;
    for_each_symbol(fd, size, [&](const Elf64_Sym& sym, const char* name) {
        if (ELF64_ST_TYPE(sym.st_info) == STT_TLS) out.push_back({std::string(name), sym.st_size});
    });
    return out;
}

std::vector<ObjectSymbol> read_object_symbols(int fd, std::size_t size) {
    std::vector<ObjectSymbol> out;
    for_each_symbol(fd, size, [&](const Elf64_Sym& sym, const char* name) {
        if (ELF64_ST_TYPE(sym.st_info) == STT_OBJECT && sym.st_shndx != SHN_UNDEF) {
            out.push_back({std::string(name), sym.st_value, sym.st_size});
        }
    });
    return out;
}

std::size_t static_shared_bytes(const std::vector<TlsSymbol>& symbols, std::string_view name,
                                const std::vector<std::string>& all_kernels) {
    const std::string mine = local_prefix(name);
    std::vector<std::string> others;
    for (const auto& k : all_kernels) others.push_back(local_prefix(k));
    std::size_t bytes = 0;
    for (const auto& sym : symbols) {
        const auto starts = [&](const std::string& p) {
            // The length prefix in the mangling keeps "ab" from matching "abc".
            return sym.name.compare(0, p.size(), p) == 0;
        };
        // The kernel's own first: a checked kernel's mangled name holds __mc's checked_ptr.
        if (starts(mine)) {
            bytes += sym.size;
            continue;
        }
        if (is_prelude_symbol(sym.name)) continue;
        bool belongs_to_other = false;
        for (const auto& p : others) belongs_to_other = belongs_to_other || starts(p);
        if (!belongs_to_other) bytes += sym.size;
    }
    return bytes;
}

}  // namespace manycore::cpu
