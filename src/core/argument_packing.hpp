// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Checks each launch argument against its kernel parameter and packs the converted values.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "manycore/kernel_arg.hpp"
#include "manycore/module.hpp"

namespace manycore::detail {

/// The converted argument values of one launch, laid out as the kernel's parameters, and one
/// pointer per parameter (the form kernels take them in). Small launches use no heap.
class PackedArgs {
  public:
    PackedArgs() = default;
    PackedArgs(const PackedArgs&) = delete;
    PackedArgs& operator=(const PackedArgs&) = delete;

    void* const* pointers() const noexcept { return pointers_.data(); }
    std::size_t count() const noexcept { return pointers_.size(); }

  private:
    friend void pack_arguments(std::string_view, const std::vector<ParamInfo>&, const Device&,
                               std::span<const KernelArg>, PackedArgs&, ArgumentRules);
    void* reserve(std::size_t size, std::size_t align);

    alignas(64) std::byte inline_[1024];
    std::size_t used_ = 0;
    std::vector<std::vector<std::byte>> spill_;  // parameters that do not fit inline
    std::vector<void*> pointers_;
};

/// "float*", "const int*", "unsigned int" for a parameter, from what the compiler reported.
std::string describe_param_type(const mc_param_desc& desc);

/// Converts `args` for a launch of `kernel` on `device`. Throws ArgumentTypeError (wrong kind
/// or element type, wrong count), ArgumentRangeError (a scalar outside the parameter's range)
/// or InvalidArgument (read-only or non-contiguous array); each names the kernel, the parameter
/// and both types.
/// Under ArgumentRules::pycuda, what PyCUDA passes is passed instead (see ArgumentRules).
void pack_arguments(std::string_view kernel, const std::vector<ParamInfo>& params,
                    const Device& device, std::span<const KernelArg> args, PackedArgs& out,
                    ArgumentRules rules = ArgumentRules::manycore);

/// What ArgumentRules::pycuda lets through that manycore's rules would not, one note per
/// argument; empty (no allocation) for a launch with none.
std::vector<ArgumentNote> pycuda_notes(std::string_view kernel, const std::vector<ParamInfo>& params,
                                       std::span<const KernelArg> args);

/// Whether an ABI type code (mc_dtype_code) is an integer type (char included), a signed one,
/// and its size in bytes.
bool is_integer_code(std::uint8_t c);
bool is_signed_code(std::uint8_t c);
std::size_t code_size(std::uint8_t c);

/// Whether an array of `a`'s element type fits pointer parameter `d` under manycore's rules.
bool element_type_matches(const mc_param_desc& d, const KernelArg& a);
/// "kernel(): argument 'x' (parameter 2, float*)", the opening of every argument message.
std::string argument_where(std::string_view kernel, const ParamInfo& p, std::size_t index);

}  // namespace manycore::detail
