// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Converts launch arguments by the kernel's declared parameter types, with range checks.
#include "core/argument_packing.hpp"

#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "manycore/error.hpp"

namespace manycore::detail {

bool is_integer_code(std::uint8_t c) {
    return (c >= MC_DT_INT8 && c <= MC_DT_UINT64) || c == MC_DT_CHAR;
}
bool is_signed_code(std::uint8_t c) {
    return (c >= MC_DT_INT8 && c <= MC_DT_INT64) || c == MC_DT_CHAR;
}
std::size_t code_size(std::uint8_t c) {
    if (c == MC_DT_CHAR) return 1;
    return dtype_size(static_cast<DType>(c));
}

namespace {

bool is_float_code(std::uint8_t c) { return c == MC_DT_FLOAT32 || c == MC_DT_FLOAT64; }

// Range of an integer parameter type, as (min, max) in a wide type.
struct IntRange {
    __int128 lo, hi;
};
IntRange int_range(std::uint8_t code) {
    const std::size_t bits = code_size(code) * 8;
    if (is_signed_code(code)) {
        const __int128 hi = (static_cast<__int128>(1) << (bits - 1)) - 1;
        return {-hi - 1, hi};
    }
    return {0, (static_cast<__int128>(1) << bits) - 1};
}

std::string int128_to_string(__int128 v) {
    if (v == 0) return "0";
    const bool negative = v < 0;
    unsigned __int128 u = negative ? static_cast<unsigned __int128>(-(v + 1)) + 1
                                   : static_cast<unsigned __int128>(v);
    std::string digits;
    while (u) {
        digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(u % 10)));
        u /= 10;
    }
    return negative ? "-" + digits : digits;
}

// What the caller passed, in words, for messages.
std::string describe_arg(const KernelArg& a) {
    switch (a.kind()) {
        case KernelArg::Kind::none: return "None";
        case KernelArg::Kind::integer:
        case KernelArg::Kind::unsigned_integer: return "int";
        case KernelArg::Kind::real: return "float";
        case KernelArg::Kind::boolean: return "bool";
        case KernelArg::Kind::typed: return "a " + std::string(dtype_name(a.dtype())) + " scalar";
        case KernelArg::Kind::array:
            if (a.untyped_pointer()) return "an untyped pointer";
            return "an array of " + std::string(dtype_name(a.dtype()));
        case KernelArg::Kind::bytes: return std::to_string(a.nbytes()) + " raw bytes";
    }
    return "an unknown value";
}

class ParamContext {
  public:
    ParamContext(std::string_view kernel, const ParamInfo& p, std::size_t index)
        : kernel_(kernel), param_(p), index_(index) {}

    std::string where() const {
        return std::string(kernel_) + "(): argument '" + param_.name + "' (parameter " +
               std::to_string(index_ + 1) + ", " + type() + ")";
    }
    std::string type() const {
        return param_.spelling.empty() ? describe_param_type(param_.desc) : param_.spelling;
    }
    [[noreturn]] void type_error(const KernelArg& a, const std::string& remedy) const {
        throw ArgumentTypeError(where() + " does not accept " + describe_arg(a) +
                                (remedy.empty() ? "" : "; " + remedy));
    }
    [[noreturn]] void range_error(const std::string& value) const {
        throw ArgumentRangeError(where() + ": " + value + " does not fit in " +
                                 std::string(abi_dtype_c_name(param_.desc.dtype)));
    }

  private:
    std::string_view kernel_;
    const ParamInfo& param_;
    std::size_t index_;
};

template <class T>
void store(void* dst, T value) {
    std::memcpy(dst, &value, sizeof(T));
}

void store_integer(void* dst, std::uint8_t code, __int128 v) {
    switch (code_size(code)) {
        case 1: store(dst, static_cast<std::uint8_t>(v)); break;
        case 2: store(dst, static_cast<std::uint16_t>(v)); break;
        case 4: store(dst, static_cast<std::uint32_t>(v)); break;
        default: store(dst, static_cast<std::uint64_t>(v)); break;
    }
}

// Reads a typed scalar (NumPy scalar, C++ value) as a wide integer or double.
bool typed_is_integer(DType t) {
    return t == DType::bool_ || (t >= DType::int8 && t <= DType::uint64);
}
__int128 typed_integer(const KernelArg& a) {
    const void* p = a.scalar_bytes();
    switch (a.dtype()) {
        case DType::bool_: return *static_cast<const std::uint8_t*>(p) != 0;
        case DType::int8: { std::int8_t v; std::memcpy(&v, p, 1); return v; }
        case DType::int16: { std::int16_t v; std::memcpy(&v, p, 2); return v; }
        case DType::int32: { std::int32_t v; std::memcpy(&v, p, 4); return v; }
        case DType::int64: { std::int64_t v; std::memcpy(&v, p, 8); return v; }
        case DType::uint8: { std::uint8_t v; std::memcpy(&v, p, 1); return v; }
        case DType::uint16: { std::uint16_t v; std::memcpy(&v, p, 2); return v; }
        case DType::uint32: { std::uint32_t v; std::memcpy(&v, p, 4); return v; }
        case DType::uint64: { std::uint64_t v; std::memcpy(&v, p, 8); return v; }
        default: return 0;
    }
}
double typed_real(const KernelArg& a) {
    if (a.dtype() == DType::float32) {
        float v;
        std::memcpy(&v, a.scalar_bytes(), 4);
        return v;
    }
    if (a.dtype() == DType::float64) {
        double v;
        std::memcpy(&v, a.scalar_bytes(), 8);
        return v;
    }
    return static_cast<double>(typed_integer(a));
}

bool pycuda_integer_bytes(const mc_param_desc& d, const KernelArg& a, void* dst);

void convert_integer_param(const ParamContext& ctx, const mc_param_desc& d, const KernelArg& a,
                           void* dst, bool pycuda) {
    __int128 v = 0;
    switch (a.kind()) {
        case KernelArg::Kind::integer: v = a.as_int64(); break;
        case KernelArg::Kind::unsigned_integer: v = a.as_uint64(); break;
        case KernelArg::Kind::boolean: v = a.as_uint64() & 1; break;
        case KernelArg::Kind::typed:
            if (pycuda && pycuda_integer_bytes(d, a, dst)) return;
            if (pycuda && !typed_is_integer(a.dtype()) && a.dtype() != DType::record) {
                v = static_cast<__int128>(typed_real(a));  // by value, as C converts
                break;
            }
            if (!typed_is_integer(a.dtype())) {
                ctx.type_error(a, "an integer parameter takes Python ints and NumPy integers");
            }
            v = typed_integer(a);
            break;
        case KernelArg::Kind::real:
            ctx.type_error(a, "an integer parameter takes Python ints and NumPy integers; "
                              "convert with int(...)");
        default: ctx.type_error(a, "pass a scalar");
    }
    const auto range = int_range(d.dtype);
    if (v < range.lo || v > range.hi) {
        ctx.range_error(int128_to_string(v) + " (range " + int128_to_string(range.lo) + " to " +
                        int128_to_string(range.hi) + ")");
    }
    store_integer(dst, d.dtype, v);
}

// PyCUDA passes a NumPy integer by its bytes: into an integer parameter of the same size those
// bytes are the value the kernel sees (np.uint32(3000000000) into an int is -1294967296).
bool pycuda_integer_bytes(const mc_param_desc& d, const KernelArg& a, void* dst) {
    if (!typed_is_integer(a.dtype()) || a.dtype() == DType::bool_) return false;
    if (dtype_size(a.dtype()) != code_size(d.dtype)) return false;
    std::memcpy(dst, a.scalar_bytes(), code_size(d.dtype));
    return true;
}

void convert_float_param(const ParamContext& ctx, const mc_param_desc& d, const KernelArg& a,
                         void* dst) {
    double v = 0;
    switch (a.kind()) {
        case KernelArg::Kind::integer: v = static_cast<double>(a.as_int64()); break;
        case KernelArg::Kind::unsigned_integer: v = static_cast<double>(a.as_uint64()); break;
        case KernelArg::Kind::real: v = a.as_double(); break;
        case KernelArg::Kind::typed:
            if (a.dtype() == DType::bool_ || a.dtype() == DType::record) ctx.type_error(a, "");
            if (a.dtype() == DType::float16 || a.dtype() == DType::complex64 ||
                a.dtype() == DType::complex128) {
                ctx.type_error(a, "pass a real number");
            }
            v = typed_real(a);
            break;
        case KernelArg::Kind::boolean:
            ctx.type_error(a, "a floating-point parameter takes numbers, not bool");
        default: ctx.type_error(a, "pass a number");
    }
    if (d.dtype == MC_DT_FLOAT32) {
        if (std::isfinite(v) && std::fabs(v) > static_cast<double>(FLT_MAX)) {
            char text[64];
            std::snprintf(text, sizeof text, "%.17g", v);
            ctx.range_error(std::string(text) + " (largest float is 3.4028235e+38)");
        }
        store(dst, static_cast<float>(v));
    } else {
        store(dst, v);
    }
}

void convert_bool_param(const ParamContext& ctx, const KernelArg& a, void* dst) {
    __int128 v = 0;
    switch (a.kind()) {
        case KernelArg::Kind::boolean: v = a.as_uint64() & 1; break;
        case KernelArg::Kind::integer: v = a.as_int64(); break;
        case KernelArg::Kind::unsigned_integer: v = a.as_uint64(); break;
        case KernelArg::Kind::typed:
            if (!typed_is_integer(a.dtype())) ctx.type_error(a, "pass True or False");
            v = typed_integer(a);
            break;
        default: ctx.type_error(a, "pass True or False");
    }
    if (v != 0 && v != 1) ctx.range_error(int128_to_string(v) + " (a bool is 0 or 1)");
    store(dst, static_cast<bool>(v));
}

}  // namespace

bool element_type_matches(const mc_param_desc& d, const KernelArg& a) {
    if (d.dtype == MC_DT_VOID || a.untyped_pointer()) return true;
    const auto have = static_cast<std::uint8_t>(a.dtype());
    if (d.dtype == MC_DT_CHAR) {
        return have == MC_DT_INT8 || have == MC_DT_UINT8 || have == MC_DT_BOOL;
    }
    if (d.dtype == MC_DT_RECORD) {
        if (a.dtype() == DType::record) return a.itemsize() == d.elem_size;
        // float4* takes a float32 array: CUDA's vector types are arrays of their lane type.
        return d.lanes > 1 && have == d.lane_dtype;
    }
    return have == d.dtype;
}

namespace {

bool is_integer_dtype(DType t) { return t >= DType::int8 && t <= DType::uint64; }
bool is_signed_dtype(DType t) { return t >= DType::int8 && t <= DType::int64; }

// What to do about an array of the wrong element type. The remedy that keeps the values comes
// first (the parameter takes the array as it is); converting is second, and where the array is
// made, not in the call: `k(a.astype(...))` hands the kernel a temporary copy whose results
// are lost. Narrowing to a signed type is said to overflow (2^26 values of 1-99 sum past
// INT_MAX, and GPU, CPU and NumPy then agree on the same wrong total).
std::string element_type_remedy(const mc_param_desc& d, const KernelArg& a) {
    if (d.dtype == MC_DT_RECORD) {
        return "it needs an array of elements of " + std::to_string(d.elem_size) + " bytes";
    }
    const std::string wanted(abi_dtype_c_name(d.dtype));
    if (d.dtype == MC_DT_CHAR || d.dtype == MC_DT_VOID || a.untyped_pointer() ||
        a.dtype() == DType::record) {
        return "it needs an array of " + wanted;
    }
    const DType have = a.dtype();
    const DType want = static_cast<DType>(d.dtype);
    const std::string have_c(dtype_c_name(have));
    const std::string np_want = "numpy." + std::string(dtype_name(want));
    std::string remedy = "to take the array as it is, keeping its values, declare the parameter '" +
                         std::string(d.pointee_const ? "const " : "") + have_c + "*'; or " +
                         "create the array as " + std::string(dtype_name(want)) +
                         " where it is made (numpy.zeros(n, " + np_want + "), or x = x.astype(" +
                         np_want + ") before the call), not in the call: a conversion written "
                         "in the call is a temporary copy, and what the kernel writes into it is "
                         "lost";
    if (is_integer_dtype(have) && is_integer_dtype(want) && is_signed_dtype(want) &&
        (dtype_size(want) < dtype_size(have) ||
         (dtype_size(want) == dtype_size(have) && !is_signed_dtype(have)))) {
        remedy += "; and " + std::string(dtype_name(want)) + " holds less than " +
                  std::string(dtype_name(have)) + ": large values, and sums of many values, " +
                  "overflow it (to negative numbers)";
    } else if (have == DType::float64 && want == DType::float32) {
        remedy += "; and float32 keeps about 7 digits of float64's 16";
    }
    return remedy;
}

void convert_pointer_param(const ParamContext& ctx, const mc_param_desc& d, const KernelArg& a,
                           const Device& device, void* dst, bool pycuda) {
    if (a.kind() == KernelArg::Kind::none) {
        store<void*>(dst, nullptr);
        return;
    }
    if (a.kind() != KernelArg::Kind::array) {
        ctx.type_error(a, "a pointer parameter takes an array (NumPy or manycore), or None");
    }
    if (a.from_array() && !(a.device() == device)) {
        throw ArgumentTypeError(ctx.where() + " is an array on " + a.device().str() +
                                " but the kernel runs on " + device.str() +
                                "; move it with manycore.to_device(a.get(), device='" +
                                device.str() + "')");
    }
    if (!pycuda && !element_type_matches(d, a)) ctx.type_error(a, element_type_remedy(d, a));
    if (a.from_array() && !a.contiguous()) {
        throw InvalidArgument(ctx.where() + " is a non-contiguous array; kernels index memory "
                              "directly, so pass numpy.ascontiguousarray(a) or a copy");
    }
    if (!pycuda && !a.writable() && !d.pointee_const) {
        throw InvalidArgument(ctx.where() + " is a read-only array but the parameter is not "
                              "const; declare it 'const " + std::string(abi_dtype_c_name(d.dtype)) +
                              "*' or pass a writable copy");
    }
    store<void*>(dst, a.pointer());
}

void convert_record_param(const ParamContext& ctx, const mc_param_desc& d, const KernelArg& a,
                          void* dst) {
    if (a.kind() != KernelArg::Kind::bytes) {
        ctx.type_error(a, "a struct parameter takes a NumPy structured scalar or bytes of " +
                              std::to_string(d.size) + " bytes");
    }
    if (a.nbytes() != d.size) {
        throw ArgumentTypeError(ctx.where() + " is a struct of " + std::to_string(d.size) +
                                " bytes but " + std::to_string(a.nbytes()) +
                                " bytes were given; match the struct's layout");
    }
    std::memcpy(dst, a.pointer(), d.size);
}

}  // namespace

void* PackedArgs::reserve(std::size_t size, std::size_t align) {
    if (align == 0) align = 1;
    const std::size_t offset = (used_ + align - 1) / align * align;
    if (offset + size <= sizeof inline_ && align <= 64) {
        used_ = offset + size;
        return inline_ + offset;
    }
    // Large structs by value: a separately allocated, suitably aligned block.
    spill_.emplace_back(size + align);
    auto* base = spill_.back().data();
    const auto address = reinterpret_cast<std::uintptr_t>(base);
    return base + ((align - address % align) % align);
}

std::string describe_param_type(const mc_param_desc& desc) {
    if (desc.kind == MC_PARAM_POINTER) {
        std::string base = desc.dtype == MC_DT_RECORD
                               ? "struct(" + std::to_string(desc.elem_size) + " bytes)"
                               : std::string(abi_dtype_c_name(desc.dtype));
        return (desc.pointee_const ? "const " : "") + base + "*";
    }
    if (desc.kind == MC_PARAM_RECORD) return "struct(" + std::to_string(desc.size) + " bytes)";
    return std::string(abi_dtype_c_name(desc.dtype));
}

std::string argument_where(std::string_view kernel, const ParamInfo& p, std::size_t index) {
    return ParamContext(kernel, p, index).where();
}

void pack_arguments(std::string_view kernel, const std::vector<ParamInfo>& params,
                    const Device& device, std::span<const KernelArg> args, PackedArgs& out,
                    ArgumentRules rules) {
    const bool pycuda = rules == ArgumentRules::pycuda;
    if (args.size() != params.size()) {
        std::string signature = std::string(kernel) + "(";
        for (std::size_t i = 0; i < params.size(); ++i) {
            if (i) signature += ", ";
            signature += (params[i].spelling.empty() ? describe_param_type(params[i].desc)
                                                     : params[i].spelling) +
                         " " + params[i].name;
        }
        signature += ")";
        throw ArgumentTypeError(signature + " takes " + std::to_string(params.size()) +
                                " argument" + (params.size() == 1 ? "" : "s") + ", got " +
                                std::to_string(args.size()));
    }
    out.used_ = 0;
    out.spill_.clear();
    out.pointers_.resize(params.size());
    for (std::size_t i = 0; i < params.size(); ++i) {
        const auto& d = params[i].desc;
        const ParamContext ctx(kernel, params[i], i);
        void* dst = out.reserve(d.size, d.align);
        out.pointers_[i] = dst;
        switch (d.kind) {
            case MC_PARAM_POINTER: convert_pointer_param(ctx, d, args[i], device, dst, pycuda); break;
            case MC_PARAM_RECORD: convert_record_param(ctx, d, args[i], dst); break;
            default:
                if (d.dtype == MC_DT_BOOL) convert_bool_param(ctx, args[i], dst);
                else if (is_integer_code(d.dtype)) convert_integer_param(ctx, d, args[i], dst, pycuda);
                else if (is_float_code(d.dtype)) convert_float_param(ctx, d, args[i], dst);
                else {
                    throw ArgumentTypeError(ctx.where() + ": manycore cannot pass values of "
                                            "this type yet; pass it through an array");
                }
        }
    }
}

}  // namespace manycore::detail
