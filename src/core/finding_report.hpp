// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// What every device's checked launches share: the out-of-bounds finding and how findings end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "manycore/finding.hpp"
#include "manycore/prelude/abi.h"

namespace manycore::detail {

/// The distinct findings a checked launch keeps for KernelFault.findings; past them, findings
/// are only counted.
constexpr std::size_t kFindingsKept = 100;

/// "(3,0,0)": a block or thread as findings write it.
std::string dim3_text(const mc_dim3& d);
/// "at line 12", or "at an unknown line" for 0.
std::string line_text(std::uint32_t line);
/// A Finding's line: empty for 0 (unknown).
std::optional<int> line_field(std::uint32_t line);
/// A Finding's block or thread coordinates.
Finding::Dim3 dim3_of(const mc_dim3& d);
/// "reads", "writes", "updates" for an mc_access_kind.
const char* access_verb(std::uint8_t access);
/// "write" for MC_ACCESS_WRITE, else "read" (an atomic reads too).
const char* access_name(std::uint8_t access);

/// The out-of-bounds finding of one access: `thread` of `block` made an access of kind
/// `access` (mc_access_kind) to element `index` of the variable `name`, which has `extent`
/// elements, at `line` (0: unknown).
Finding out_of_bounds_finding(const std::string& kernel, const std::string& name, bool shared,
                              std::int64_t index, std::int64_t extent, std::uint8_t access,
                              std::uint32_t line, mc_dim3 block, mc_dim3 thread);

/// Nothing when `findings` is empty. Else, with MANYCORE_CHECK_COLLECT set, appends them to
/// that file as JSON lines and returns; otherwise throws the KernelFault of `kernel` that
/// shows the first ones and counts `total` (the distinct findings, kept or not).
void report_findings(const std::vector<Finding>& findings, std::size_t total,
                     std::string_view kernel);

}  // namespace manycore::detail
