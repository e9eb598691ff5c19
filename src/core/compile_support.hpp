// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// What the rooms' compilers share: a compiler log cut for an exception's message, and what
// goes into their cache keys besides the source: the prelude's digest and file stamps.
#pragma once

#include <cstddef>
#include <string>

namespace manycore::detail {

struct KernelDecl;

/// The first `count` lines of `log`, then a line saying how many more there are and that the
/// whole log is in CompileError.log; `log` itself when it has no more lines than that.
std::string first_log_lines(const std::string& log, std::size_t count);

/// XXH3-128 (hex) of every embedded prelude header, so a change to the prelude invalidates
/// every room's cached modules. Computed once.
const std::string& prelude_digest();

/// "size=...;mtime=...;dev=...;ino=..." of the file at `path` (after symbolic links): what
/// changes when the file is replaced or upgraded in place. "missing" when it cannot be read.
std::string file_stamp(const std::string& path);

/// The address of kernel `k` as an expression of its exact type,
/// `static_cast<void (*)(float*, int)>(&max)`: a kernel named like a function of the prelude or
/// the C library (max, sqrt, free) is one overload among theirs, and only its type tells it
/// apart. A template kernel's name expression (`&reduce<float>`) names one instance already.
std::string kernel_address(const KernelDecl& k);

}  // namespace manycore::detail
