// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The memory profile's rewrite of branch conditions, line for line.
#pragma once

#include <vector>

#include "core/source_lexer.hpp"
#include "core/source_parser.hpp"
#include "core/source_rewrites.hpp"

namespace manycore::detail::source {

/// The memory profile: every `if`, `while`, `do ... while` and `for` condition in a function
/// body becomes `::__mc::branch(id, line, (condition))`, which tells the runtime each lane's
/// way and gives the condition's value. `id` numbers the branches of the source from 0, `line`
/// is the keyword's. Conditions that declare a variable (`if (int n = f())`), `if constexpr`,
/// range-for and empty `for` conditions stay as they are; an `if` or `while` with an
/// init-statement has its condition, after the last `;`, wrapped.
void branch_edits(const Lexed& lx, const Parser& p, std::vector<Edit>& edits);

}  // namespace manycore::detail::source
