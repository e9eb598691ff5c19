// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Reads the thread-local symbols of a compiled kernel library: its __shared__ variables.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace manycore::cpu {

struct TlsSymbol {
    std::string name;  // mangled: "_ZZ6reduceE1s" is `s` in function `reduce`
    std::size_t size;
};

/// The STT_TLS symbols in the ELF file open as `fd` (its first `size` bytes). Empty when the
/// file has no symbol table.
std::vector<TlsSymbol> read_tls_symbols(int fd, std::size_t size);

/// A defined data symbol (a __constant__ or __device__ variable): where it lies, relative to
/// the library's load address.
struct ObjectSymbol {
    std::string name;
    std::size_t offset;
    std::size_t size;
};

/// The defined STT_OBJECT symbols of the ELF file open as `fd` (hidden ones included: they are
/// in .symtab though not exported).
std::vector<ObjectSymbol> read_object_symbols(int fd, std::size_t size);

/// Static __shared__ bytes of kernel `name` (a plain name or a name expression "k<float>"):
/// the variables declared in the kernel's own body, plus those the symbols do not tie to one
/// kernel (namespace scope, device functions), which any kernel may use.
std::size_t static_shared_bytes(const std::vector<TlsSymbol>& symbols, std::string_view name,
                                const std::vector<std::string>& all_kernels);

}  // namespace manycore::cpu
