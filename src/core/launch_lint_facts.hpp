// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Reads what the launch lints need to know of a kernel from its tokens.
#pragma once

#include <vector>

#include "core/launch_lints.hpp"
#include "core/source_lexer.hpp"
#include "core/source_parser.hpp"
#include "manycore/detail/backend.hpp"

namespace manycore::detail::source {

// What the lints need to know about a kernel's indexing, from its body's tokens. Every rule
// is a pattern of the idioms CUDA programs use; anything else leaves the fact unset, so the
// lint it feeds stays silent.
LaunchLintFacts read_lint_facts(const Parser& p, const std::vector<Token>& t, const KernelSite& k,
                                const KernelDecl& decl);

}  // namespace manycore::detail::source
