// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The resources of a module's kernels, worked out on first request and kept beside the module.
#pragma once

#include <memory>

#include "manycore/detail/backend.hpp"

namespace manycore::detail {

/// Kept with each module in the in-process registry: its source (to compile it for a GPU
/// architecture when it runs on the CPU) and each kernel's resources once known.
struct ModuleResources;

/// A module's record, holding `source` until its resources are first asked for.
std::shared_ptr<ModuleResources> make_module_resources(ModuleSource source);

}  // namespace manycore::detail
