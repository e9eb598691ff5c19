// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// What the backends' compilers share: a compiler log cut for an exception's message, what
// goes into their cache keys besides the source (the prelude's digest, file stamps, option
// lists), and the parameter descriptions of a built kernel.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "manycore/module.hpp"
#include "manycore/prelude/abi.h"

namespace manycore::detail {

struct KernelDecl;

/// The first `count` lines of `log`, then a line saying how many more there are and that the
/// whole log is in CompileError.log; `log` itself when it has no more lines than that.
std::string first_log_lines(const std::string& log, std::size_t count);

/// XXH3-128 (hex) of every embedded prelude header, so a change to the prelude invalidates
/// every backend's cached modules. Computed once.
const std::string& prelude_digest();

/// "size=...;mtime=...;dev=...;ino=..." of the file at `path` (after symbolic links): what
/// changes when the file is replaced or upgraded in place. "missing" when it cannot be read.
std::string file_stamp(const std::string& path);

/// The address of kernel `k` as an expression of its exact type,
/// `static_cast<void (*)(float*, int)>(&max)`: a kernel named like a function of the prelude or
/// the C library (max, sqrt, free) is one overload among theirs, and only its type tells it
/// apart. A template kernel's name expression (`&reduce<float>`) names one instance already.
std::string kernel_address(const KernelDecl& k);

/// `parts` as one field of a cache key: each followed by a unit separator (0x1f), so that
/// {"a b"} and {"a", "b"} differ.
std::string key_field(const std::vector<std::string>& parts);

/// A built kernel's parameters: the descriptors its compiled code reports, named and spelled
/// as the source analysis read them (`argN` when it could not read them).
std::vector<ParamInfo> param_infos(std::span<const mc_param_desc> descs, const KernelDecl& decl);

}  // namespace manycore::detail
