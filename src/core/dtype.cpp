// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Names and sizes of element types.
#include "manycore/dtype.hpp"

#include <array>

namespace manycore {
namespace {

struct DTypeRow {
    DType type;
    std::size_t size;
    std::string_view name;
    std::string_view c_name;
};

constexpr std::array<DTypeRow, 15> kRows = {{
    {DType::bool_, 1, "bool", "bool"},
    {DType::int8, 1, "int8", "signed char"},
    {DType::int16, 2, "int16", "short"},
    {DType::int32, 4, "int32", "int"},
    {DType::int64, 8, "int64", "long long"},
    {DType::uint8, 1, "uint8", "unsigned char"},
    {DType::uint16, 2, "uint16", "unsigned short"},
    {DType::uint32, 4, "uint32", "unsigned int"},
    {DType::uint64, 8, "uint64", "unsigned long long"},
    {DType::float16, 2, "float16", "half"},
    {DType::float32, 4, "float32", "float"},
    {DType::float64, 8, "float64", "double"},
    {DType::complex64, 8, "complex64", "complex<float>"},
    {DType::complex128, 16, "complex128", "complex<double>"},
    {DType::record, 0, "void", "struct"},
}};

const DTypeRow* row(DType t) noexcept {
    for (const auto& r : kRows) {
        if (r.type == t) return &r;
    }
    return nullptr;
}

}  // namespace

std::size_t dtype_size(DType t) noexcept {
    const auto* r = row(t);
    return r ? r->size : 0;
}

std::string_view dtype_name(DType t) noexcept {
    const auto* r = row(t);
    return r ? r->name : "unknown";
}

std::string_view dtype_c_name(DType t) noexcept {
    const auto* r = row(t);
    return r ? r->c_name : "unknown";
}

std::optional<DType> dtype_from_name(std::string_view name) noexcept {
    for (const auto& r : kRows) {
        if (r.name == name) return r.type;
    }
    return std::nullopt;
}

std::string_view abi_dtype_c_name(std::uint8_t code) noexcept {
    if (code == MC_DT_VOID) return "void";
    if (code == MC_DT_CHAR) return "char";
    return dtype_c_name(static_cast<DType>(code));
}

}  // namespace manycore
