// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// One bug a checked launch found; the C++ side of Python's manycore.findings.Finding.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace manycore {

/// The fields of python/manycore/findings.py's Finding, with the same meanings: `thread`,
/// `line` and `access` are the first access of a race, `other_*` the second; unknown fields
/// are empty.
struct Finding {
    using Dim3 = std::array<std::uint32_t, 3>;
    std::string kind;  // "out-of-bounds", "race", "barrier-divergence", "uninitialized-read"
    std::string kernel;
    std::string message;
    std::optional<std::string> variable;
    std::optional<std::string> space;  // "global" or "shared"
    std::optional<std::int64_t> index;
    std::optional<std::int64_t> extent;
    std::optional<std::string> access;  // "read" or "write"
    std::optional<int> line;
    std::optional<Dim3> block;
    std::optional<Dim3> thread;
    std::optional<std::string> other_access;
    std::optional<int> other_line;
    std::optional<Dim3> other_block;
    std::optional<Dim3> other_thread;
};

/// One JSON object on one line (no newline), as Finding.to_dict() would write it.
std::string to_json(const Finding& finding);

}  // namespace manycore
