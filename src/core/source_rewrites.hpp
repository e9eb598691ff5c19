// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The line-preserving rewrites of a CUDA C++ source: `extern __shared__` arrays for the CPU,
// and checked mode's pointer parameters and shared arrays.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/source_lexer.hpp"
#include "core/source_parser.hpp"

namespace manycore::detail::source {

// Bytes [begin, end) of the source become `text`.
struct Edit {
    std::size_t begin, end;
    std::string text;
};

// `extern __shared__ T name[];` as a pointer to the block's dynamic shared memory (a checked
// pointer when `checked`), every token on its line; sorted by position.
std::vector<Edit> rewrite_extern_shared(std::string_view s, const Lexed& lx, const Parser& p,
                                        int extern_id, bool checked);

// Checked mode: the pointer parameters of the list whose '(' is at `open` as checked pointers.
void checked_param_edits(std::string_view s, const Parser& p, const std::vector<Token>& t,
                         std::size_t open, std::vector<Edit>& edits);

// Checked mode: the shared arrays and scalars declared in functions as checked pointers.
void checked_shared_edits(const Lexed& lx, const Parser& p, int extern_id,
                          std::vector<Edit>& edits);

// `s` with `edits`, sorted by position, made; an edit that begins inside an earlier one is
// dropped.
std::string apply_edits(std::string_view s, const std::vector<Edit>& edits);

}  // namespace manycore::detail::source
