// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Loop fission works on one function: the __device__ helpers a kernel calls that reach a
// barrier or a warp intrinsic are written into the kernel's text first, each call a block of
// its own with the helper's parameters as locals (renamed so they cannot collide).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/source_lexer.hpp"

namespace manycore::detail::fission {

/// Text and, for each of its lines (1-based), the line of the user's source it comes from.
struct MappedText {
    std::string text;
    std::vector<int> line_of{0};  // line_of[1] is the source line of the text's first line

    /// Appends `s`, which starts on source line `line`; with `advance`, each newline in `s`
    /// moves to the next source line (copied source), else every line stays on `line`.
    void put(std::string_view s, int line, bool advance);
    int lines() const { return static_cast<int>(line_of.size()) - 1; }
};

/// A __device__ function with a body, as the inliner needs it.
struct Helper {
    std::string name;
    bool reaches_barrier = false;
    std::size_t first = 0;   // tokens of the whole definition in the source's tokens
    std::size_t params = 0;  // its parameter list's '('
    std::size_t open = 0;    // its body's '{'
    std::size_t last = 0;    // past its body's '}'
};

struct InlineResult {
    MappedText kernel;   // the kernel's whole definition, helpers written in
    std::string error;   // why a helper could not be written in; empty on success
    int error_line = 0;
    int inlined = 0;     // how many calls were written in
};

/// The kernel whose definition is tokens [first, last) of `t` (lexed from `source`), with
/// every call of a helper in `helpers` that reaches a barrier written in. `params` is the
/// kernel's parameter list '('.
InlineResult inline_helpers(std::string_view source, const std::vector<source::Token>& t,
                            std::size_t first, std::size_t params, std::size_t last,
                            const std::unordered_map<std::string, Helper>& helpers);

/// The text of tokens [first, last) of `t` as written in `source` (comments, directives and
/// newlines between them included).
std::string_view span_text(std::string_view source, const std::vector<source::Token>& t,
                           std::size_t first, std::size_t last);

}  // namespace manycore::detail::fission
