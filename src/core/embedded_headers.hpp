// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The kernel-side headers (include/manycore/prelude), embedded in the library at build time.
#pragma once

#include <string_view>
#include <vector>

namespace manycore::detail {

struct EmbeddedHeader {
    std::string_view name;  // relative to include/manycore/prelude: "cpu_prelude.h"
    std::string_view text;
};

const std::vector<EmbeddedHeader>& embedded_headers();

}  // namespace manycore::detail
