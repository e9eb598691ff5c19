// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// A value offered for a kernel parameter, before it is checked against the parameter's type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "manycore/array.hpp"
#include "manycore/dtype.hpp"

namespace manycore {

/// What the caller passed: a Python-like scalar (int, float, bool), a typed scalar (NumPy
/// scalar or C++ value), an array or raw pointer, or raw bytes for a struct by value.
/// Conversion to the parameter type happens in Function::launch, with range checks.
class KernelArg {
  public:
    enum class Kind : std::uint8_t { none, integer, unsigned_integer, real, boolean, typed, array, bytes };

    KernelArg() = default;
    /// C++ arithmetic values become typed scalars; they convert like NumPy scalars.
    template <class T>
        requires std::is_arithmetic_v<std::remove_cvref_t<T>>
    KernelArg(T value) {  // NOLINT(google-explicit-constructor)
        using U = std::remove_cvref_t<T>;
        kind_ = Kind::typed;
        dtype_ = *dtype_of<U>();
        std::memcpy(storage_, &value, sizeof(U));
    }
    /// A raw pointer from C++; element type from T, extent unknown.
    template <class T>
    KernelArg(T* pointer)  // NOLINT(google-explicit-constructor)
        : kind_(Kind::array), pointer_(const_cast<std::remove_cv_t<T>*>(pointer)),
          writable_(!std::is_const_v<T>) {
        if constexpr (std::is_void_v<std::remove_cv_t<T>>) {
            pointer_kind_void_ = true;
        } else {
            auto dt = dtype_of<std::remove_cv_t<T>>();
            if (dt) dtype_ = *dt;
            else pointer_kind_void_ = true;
            itemsize_ = sizeof(T);
        }
    }
    KernelArg(const Array& array)  // NOLINT(google-explicit-constructor)
        : kind_(Kind::array), pointer_(array.data()), dtype_(array.dtype()),
          itemsize_(array.itemsize()), nbytes_(array.nbytes()), device_(array.device()),
          writable_(array.writable()), contiguous_(array.is_c_contiguous()), from_array_(true) {}

    /// An array passed as an untyped pointer, the way PyCUDA passes its DeviceAllocation: any
    /// pointer parameter takes it, and its extent is still known.
    static KernelArg untyped(const Array& array) { KernelArg a(array); a.pointer_kind_void_ = true; return a; }
    /// A Python int (signed range) or an int NumPy cannot type.
    static KernelArg integer(std::int64_t v) { KernelArg a; a.kind_ = Kind::integer; std::memcpy(a.storage_, &v, 8); return a; }
    /// A Python int above INT64_MAX.
    static KernelArg unsigned_integer(std::uint64_t v) { KernelArg a; a.kind_ = Kind::unsigned_integer; std::memcpy(a.storage_, &v, 8); return a; }
    static KernelArg real(double v) { KernelArg a; a.kind_ = Kind::real; std::memcpy(a.storage_, &v, 8); return a; }
    static KernelArg boolean(bool v) { KernelArg a; a.kind_ = Kind::boolean; a.storage_[0] = v ? 1 : 0; return a; }
    /// A scalar of a known element type (a NumPy scalar); `bytes` holds dtype_size(t) bytes.
    static KernelArg typed(DType t, const void* bytes) { KernelArg a; a.kind_ = Kind::typed; a.dtype_ = t; std::memcpy(a.storage_, bytes, dtype_size(t)); return a; }
    /// Raw bytes for a struct passed by value; must stay alive until launch returns.
    static KernelArg bytes(const void* data, std::size_t size) { KernelArg a; a.kind_ = Kind::bytes; a.pointer_ = const_cast<void*>(data); a.nbytes_ = size; return a; }
    /// An array argument described field by field (used by the Python bindings for NumPy).
    static KernelArg array(void* data, DType dtype, std::size_t itemsize, std::size_t nbytes,
                           const Device& device, bool writable, bool contiguous) {
        KernelArg a; a.kind_ = Kind::array; a.pointer_ = data; a.dtype_ = dtype; a.itemsize_ = itemsize;
        a.nbytes_ = nbytes; a.device_ = device; a.writable_ = writable; a.contiguous_ = contiguous;
        a.from_array_ = true; return a;
    }

    Kind kind() const noexcept { return kind_; }
    DType dtype() const noexcept { return dtype_; }
    const void* scalar_bytes() const noexcept { return storage_; }
    std::int64_t as_int64() const noexcept { std::int64_t v; std::memcpy(&v, storage_, 8); return v; }
    std::uint64_t as_uint64() const noexcept { std::uint64_t v; std::memcpy(&v, storage_, 8); return v; }
    double as_double() const noexcept { double v; std::memcpy(&v, storage_, 8); return v; }
    void* pointer() const noexcept { return pointer_; }
    std::size_t itemsize() const noexcept { return itemsize_; }
    std::size_t nbytes() const noexcept { return nbytes_; }
    const Device& device() const noexcept { return device_; }
    bool writable() const noexcept { return writable_; }
    bool contiguous() const noexcept { return contiguous_; }
    /// True for arrays (extent known); false for raw C++ pointers.
    bool from_array() const noexcept { return from_array_; }
    /// True for a raw `void*` (or unknown element type) from C++.
    bool untyped_pointer() const noexcept { return pointer_kind_void_; }

  private:
    Kind kind_ = Kind::none;
    alignas(16) unsigned char storage_[16] = {};
    void* pointer_ = nullptr;
    DType dtype_ = DType::float64;
    std::size_t itemsize_ = 0;
    std::size_t nbytes_ = 0;
    Device device_;
    bool writable_ = true;
    bool contiguous_ = true;
    bool from_array_ = false;
    bool pointer_kind_void_ = false;
};

}  // namespace manycore
