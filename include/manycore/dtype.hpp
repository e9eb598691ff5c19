// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Element types of arrays and kernel parameters, numbered as in the kernel ABI.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>

#include "manycore/prelude/abi.h"

namespace manycore {

/// The element types an array may hold. Values equal the ABI's mc_dtype_code.
enum class DType : std::uint8_t {
    bool_ = MC_DT_BOOL,
    int8 = MC_DT_INT8,
    int16 = MC_DT_INT16,
    int32 = MC_DT_INT32,
    int64 = MC_DT_INT64,
    uint8 = MC_DT_UINT8,
    uint16 = MC_DT_UINT16,
    uint32 = MC_DT_UINT32,
    uint64 = MC_DT_UINT64,
    float16 = MC_DT_FLOAT16,
    float32 = MC_DT_FLOAT32,
    float64 = MC_DT_FLOAT64,
    complex64 = MC_DT_COMPLEX64,
    complex128 = MC_DT_COMPLEX128,
    record = MC_DT_RECORD,  // structured (NumPy 'V') elements, known by size only
};

/// Bytes per element; 0 for `record` (its size travels with the array).
std::size_t dtype_size(DType t) noexcept;
/// NumPy's name: "float32", "int64", "bool", "void" for records.
std::string_view dtype_name(DType t) noexcept;
/// The C spelling kernels use: "float", "long long", "unsigned int", "bool".
std::string_view dtype_c_name(DType t) noexcept;
/// Parses a NumPy name ("float32", "uint8", "bool").
std::optional<DType> dtype_from_name(std::string_view name) noexcept;
/// Names an ABI code, including MC_DT_VOID ("void") and MC_DT_CHAR ("char").
std::string_view abi_dtype_c_name(std::uint8_t code) noexcept;

/// The DType of a C++ element type, for typed launches from C++.
template <class T>
constexpr std::optional<DType> dtype_of() noexcept {
    using U = std::remove_cv_t<T>;
    if constexpr (std::is_same_v<U, bool>) return DType::bool_;
    else if constexpr (std::is_same_v<U, float>) return DType::float32;
    else if constexpr (std::is_same_v<U, double>) return DType::float64;
    else if constexpr (std::is_integral_v<U> && std::is_signed_v<U>) {
        switch (sizeof(U)) {
            case 1: return DType::int8;
            case 2: return DType::int16;
            case 4: return DType::int32;
            default: return DType::int64;
        }
    } else if constexpr (std::is_integral_v<U>) {
        switch (sizeof(U)) {
            case 1: return DType::uint8;
            case 2: return DType::uint16;
            case 4: return DType::uint32;
            default: return DType::uint64;
        }
    } else return std::nullopt;
}

}  // namespace manycore
