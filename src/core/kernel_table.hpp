// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// A module's kernels by name, in the order the source declares them: what every backend's
// ModuleImpl answers kernel() and kernel_names() from.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "manycore/detail/backend.hpp"

namespace manycore::detail {

/// Filled while a module is built, read-only after: thread-safe to read.
class KernelTable {
  public:
    void add(std::shared_ptr<const KernelImpl> kernel) {
        names_.push_back(kernel->name());
        kernels_.emplace(kernel->name(), std::move(kernel));
    }
    /// nullptr when there is no such kernel.
    std::shared_ptr<const KernelImpl> find(std::string_view name) const {
        auto it = kernels_.find(std::string(name));
        return it == kernels_.end() ? nullptr : it->second;
    }
    const std::vector<std::string>& names() const noexcept { return names_; }

  private:
    std::vector<std::string> names_;
    std::unordered_map<std::string, std::shared_ptr<const KernelImpl>> kernels_;
};

}  // namespace manycore::detail
