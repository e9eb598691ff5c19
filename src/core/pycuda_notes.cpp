// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// What PyCUDA's argument rules let through: arrays and NumPy scalars of another type than the
// parameter's. manycore.pycuda passes them as PyCUDA does and warns with these messages, which
// give the remedies of manycore's own ArgumentTypeError for the same mismatch.
#include <string>
#include <vector>

#include "core/argument_packing.hpp"

namespace manycore::detail {
namespace {

// NumPy's name of a parameter's element type ("int32"; "int8" for char).
std::string numpy_name(std::uint8_t code) {
    return std::string(dtype_name(static_cast<DType>(code == MC_DT_CHAR ? MC_DT_INT8 : code)));
}
// " (values above 2147483647 overflow)" when converting to `to` can overflow values of `from`.
std::string overflow(std::uint8_t from, std::uint8_t to) {
    if (!is_integer_code(to) || !is_signed_code(to)) return "";
    if (is_integer_code(from) && is_signed_code(from) && code_size(from) <= code_size(to)) return "";
    if (is_integer_code(from) && !is_signed_code(from) && code_size(from) < code_size(to)) return "";
    const unsigned bits = static_cast<unsigned>(code_size(to) * 8 - 1);
    const unsigned long long max = (1ull << bits) - 1;
    return ", and mind that values above " + std::to_string(max) + " overflow";
}

// What a kernel sees when it reads elements of type `have` through a `want` pointer or
// parameter of the same size.
std::string same_size_consequence(std::uint8_t have, std::uint8_t want, const std::string& each) {
    const std::string have_name = numpy_name(have), want_c(abi_dtype_c_name(want));
    if (is_integer_code(have) && is_integer_code(want)) {
        if (is_signed_code(want) && !is_signed_code(have)) {
            return "the kernel reads " + each + " as " + want_c + ", and values of 2**" +
                   std::to_string(code_size(want) * 8 - 1) + " or more arrive negative";
        }
        return "the kernel reads " + each + " as " + want_c +
               ", and negative values arrive as large positive ones";
    }
    return "the kernel reads the bits of " + each + " as " + want_c +
           ", which gives unrelated numbers";
}

std::string element_note(const std::string& where, std::uint8_t have, std::uint8_t want) {
    const std::string have_name = numpy_name(have), want_c(abi_dtype_c_name(want));
    const std::size_t hs = code_size(have), ws = code_size(want);
    std::string consequence;
    if (hs == ws) {
        consequence = same_size_consequence(have, want, "each " + have_name);
    } else if (hs > ws) {
        consequence = "each " + have_name + " element (" + std::to_string(hs) +
                      " bytes) holds " + std::to_string(hs / ws) + " of the kernel's " + want_c +
                      "s (" + std::to_string(ws) + " bytes), so the kernel's element i is not "
                      "the array's element i";
    } else {
        consequence = "each of the kernel's " + want_c + "s (" + std::to_string(ws) +
                      " bytes) spans " + std::to_string(ws / hs) + " " + have_name +
                      " elements (" + std::to_string(hs) + " bytes), so the kernel's element i "
                      "is not the array's element i and it reads past the array's end";
    }
    return where + " is an array of " + have_name + ", not of " + want_c +
           ": PyCUDA passes its pointer as it is, so " + consequence +
           ". To keep the values, change the parameter to the array's type ('" +
           std::string(abi_dtype_c_name(have)) + "*'); or convert where the array is created "
           "(.astype(numpy." + numpy_name(want) + ")" + overflow(have, want) +
           "), not in the call";
}

std::string scalar_note(const std::string& where, std::uint8_t have, std::uint8_t want) {
    const std::string have_name = numpy_name(have), want_c(abi_dtype_c_name(want));
    const std::size_t hs = code_size(have), ws = code_size(want);
    std::string consequence;
    if (hs == ws && is_integer_code(have) && is_integer_code(want)) {
        consequence = same_size_consequence(have, want, "the " + have_name) +
                      " (here too, as under PyCUDA)";
    } else if (hs == ws) {
        consequence = same_size_consequence(have, want, "the " + have_name) +
                      "; here it is converted by value instead";
    } else {
        consequence = "the kernel gets " + std::to_string(hs) + " bytes where it reads " +
                      std::to_string(ws) + ", and every later parameter is shifted; here it is "
                      "converted by value instead";
    }
    return where + " got a numpy." + have_name + " scalar: PyCUDA passes its " +
           std::to_string(hs) + " bytes as they are, so " + consequence +
           ". To keep the values, change the parameter to the scalar's type ('" +
           std::string(abi_dtype_c_name(have)) + "'); or make the value with the parameter's "
           "type where it is created (numpy." + numpy_name(want) + "(...)" +
           overflow(have, want) + "), not in the call";
}

}  // namespace

std::vector<ArgumentNote> pycuda_notes(std::string_view kernel, const std::vector<ParamInfo>& params,
                                       std::span<const KernelArg> args) {
    std::vector<ArgumentNote> notes;
    const std::size_t n = params.size() < args.size() ? params.size() : args.size();
    for (std::size_t i = 0; i < n; ++i) {
        const mc_param_desc& d = params[i].desc;
        const KernelArg& a = args[i];
        const auto have = static_cast<std::uint8_t>(a.dtype());
        if (d.kind == MC_PARAM_POINTER) {
            if (a.kind() != KernelArg::Kind::array || a.untyped_pointer() ||
                d.dtype == MC_DT_RECORD || a.dtype() == DType::record ||
                element_type_matches(d, a)) {
                continue;
            }
            notes.push_back({ArgumentNote::Kind::element_type, i,
                             element_note(argument_where(kernel, params[i], i), have, d.dtype)});
        } else if (d.kind != MC_PARAM_RECORD && a.kind() == KernelArg::Kind::typed &&
                   a.dtype() != DType::record && have != d.dtype &&
                   !(d.dtype == MC_DT_CHAR && (have == MC_DT_INT8 || have == MC_DT_UINT8))) {
            notes.push_back({ArgumentNote::Kind::scalar_type, i,
                             scalar_note(argument_where(kernel, params[i], i), have, d.dtype)});
        }
    }
    return notes;
}

}  // namespace manycore::detail
