// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Checked mode: pointers and shared arrays that check every access they make.
//
// A checked module (MC_CHECKED) has its kernels' pointer parameters and its shared arrays
// rewritten by the source analysis into `__mc::checked_ptr<T>`. Subscripting one yields a
// `__mc::ref<T>` that knows the line it was written at (a default argument of the index type)
// and, when read or written, asks the device's `record` whether the access may happen: the CPU
// (checked_cpu.h) checks bounds and races in shadow memory, a GPU (checked_cuda.h) bounds. The
// access itself goes on, except out of bounds, where a read yields zero and a write is dropped
// so the process survives to report. Casting a checked pointer to a raw one leaves checking
// (the memory is then only as safe as unchecked code).
//
// The including prelude provides, in namespace __mc: `var_ref` (what a checked pointer knows
// of its variable, cheap to copy), `record(var_ref, address, size, access, line)` (false: the
// access must not happen), `escape(var_ref)` (a raw pointer was taken), `scratch<T>()` (where
// an out-of-bounds record access goes instead), `shared_array`, `dynamic_shared_array`, and
// the macro MC_CHECKED_PRINTF (the printf checked arguments are passed on to).
#ifndef MANYCORE_PRELUDE_CHECKED_H
#define MANYCORE_PRELUDE_CHECKED_H

namespace __mc {

// The index of a subscript, with the line it was written at: default arguments of a
// converting constructor are evaluated where the conversion happens, in the user's source.
// Constraints are `requires` clauses throughout this file, never SFINAE in a template's
// parameters or return type: NVRTC takes a __builtin_LINE() default argument at the line of
// the last such template it instantiated (a conversion operator tried for `p[i]`, say)
// instead of the call's.
struct at {
    long long i;
    unsigned line;
    template <class I>
        requires(std::is_integral_v<I> || std::is_enum_v<I>)
    __device__ at(I v, unsigned l = __builtin_LINE())  // NOLINT(google-explicit-constructor)
        : i(static_cast<long long>(v)), line(l) {}
    // An element read through another checked pointer: `bins[keys[i]]`.
    template <class R>
        requires(std::is_class_v<R> && std::is_convertible_v<R, long long>)
    __device__ at(const R& v, unsigned l = __builtin_LINE())  // NOLINT(google-explicit-constructor)
        : i(static_cast<long long>(v)), line(l) {}
};

template <class T>
class checked_ptr;

template <class T>
struct is_checked_ptr<checked_ptr<T>> : std::true_type {};
template <class T>
struct described_as<checked_ptr<T>> {
    typedef T* type;
};

// The value type a reference reads and writes.
template <class T>
using value_of = std::remove_cv_t<T>;

// One element accessed through a checked pointer. Its assignments are for rvalues only, so
// `auto v = p[i]; v = 1;` (which would write the array) does not compile.
template <class T>
class ref {
  public:
    using value_type = value_of<T>;
    static constexpr bool is_checked_ref = true;
    __device__ ref(T* p, var_ref v, unsigned line) : p_(p), v_(v), line_(line) {}

    __device__ operator value_type() const {  // NOLINT(google-explicit-constructor)
        if (!record(v_, p_, sizeof(T), MC_ACCESS_READ, line_)) return value_type{};
        return *p_;
    }
    __device__ ref&& operator=(const ref& other) && {
        return std::move(*this).store(value_type(other));
    }
    template <class V>
    __device__ ref&& operator=(V&& value) && {
        return std::move(*this).store(static_cast<value_type>(std::forward<V>(value)));
    }
#define MC_CHECKED_COMPOUND(op)                                          \
    template <class V>                                                   \
    __device__ ref&& operator op##=(V&& value) && {                      \
        value_type v = value_type(*this);                                \
        v op## = std::forward<V>(value);                                 \
        return std::move(*this).store(v);                                \
    }
    MC_CHECKED_COMPOUND(+)
    MC_CHECKED_COMPOUND(-)
    MC_CHECKED_COMPOUND(*)
    MC_CHECKED_COMPOUND(/)
    MC_CHECKED_COMPOUND(%)
    MC_CHECKED_COMPOUND(&)
    MC_CHECKED_COMPOUND(|)
    MC_CHECKED_COMPOUND(^)
    MC_CHECKED_COMPOUND(<<)
    MC_CHECKED_COMPOUND(>>)
#undef MC_CHECKED_COMPOUND
    __device__ ref&& operator++() && {
        value_type v = value_type(*this);
        return std::move(*this).store(++v);
    }
    __device__ ref&& operator--() && {
        value_type v = value_type(*this);
        return std::move(*this).store(--v);
    }
    __device__ value_type operator++(int) && {
        value_type v = value_type(*this);
        value_type old = v;
        std::move(*this).store(++v);
        return old;
    }
    __device__ value_type operator--(int) && {
        value_type v = value_type(*this);
        value_type old = v;
        std::move(*this).store(--v);
        return old;
    }
    __device__ checked_ptr<T> operator&() const { return checked_ptr<T>(p_, v_); }

  private:
    __device__ ref&& store(const value_type& v) && {
        if (record(v_, p_, sizeof(T), MC_ACCESS_WRITE, line_)) *p_ = v;
        return std::move(*this);
    }
    T* p_;
    var_ref v_;
    unsigned line_;
};

// Elements of CUDA vector types: `p[i].x` reaches a checked component.
template <class T, uint8_t Lanes = vector_lanes<value_of<T>>::lanes>
struct lanes_of;
template <class T>
struct lanes_of<T, 2> {
    using L = decltype(value_of<T>::x);
    __device__ lanes_of(T* p, var_ref v, unsigned line) : x{&p->x, v, line}, y{&p->y, v, line} {}
    ref<std::conditional_t<std::is_const_v<T>, const L, L>> x, y;
};
template <class T>
struct lanes_of<T, 3> {
    using L = decltype(value_of<T>::x);
    __device__ lanes_of(T* p, var_ref v, unsigned line)
        : x{&p->x, v, line}, y{&p->y, v, line}, z{&p->z, v, line} {}
    ref<std::conditional_t<std::is_const_v<T>, const L, L>> x, y, z;
};
template <class T>
struct lanes_of<T, 4> {
    using L = decltype(value_of<T>::x);
    __device__ lanes_of(T* p, var_ref v, unsigned line)
        : x{&p->x, v, line}, y{&p->y, v, line}, z{&p->z, v, line}, w{&p->w, v, line} {}
    ref<std::conditional_t<std::is_const_v<T>, const L, L>> x, y, z, w;
};

template <class T>
class vector_ref : public ref<T>, public lanes_of<T> {
  public:
    __device__ vector_ref(T* p, var_ref v, unsigned line)
        : ref<T>(p, v, line), lanes_of<T>(p, v, line) {}
    using ref<T>::operator=;
};

// Records and other class types: bounds only (member access cannot be seen from here), and an
// out-of-bounds element is a scratch value so nothing outside the array is touched.
template <class T>
__device__ T& bounded_element(T* p, var_ref v, unsigned line) {
    if (record(v, p, sizeof(T), MC_ACCESS_ATOMIC, line)) return *p;
    return const_cast<T&>(static_cast<const T&>(scratch<value_of<T>>()));
}

template <class T>
__device__ decltype(auto) element(T* p, var_ref v, unsigned line) {
    if constexpr (std::is_array_v<T>) {
        return checked_ptr<std::remove_extent_t<T>>(*p, v);  // a row of an array of arrays
    } else if constexpr (std::is_arithmetic_v<value_of<T>> || std::is_enum_v<value_of<T>> ||
                         std::is_pointer_v<value_of<T>>) {
        return ref<T>(p, v, line);
    } else if constexpr (vector_lanes<value_of<T>>::lanes > 1) {
        return vector_ref<T>(p, v, line);
    } else {
        return bounded_element(p, v, line);
    }
}

// A kernel's pointer parameter or shared array: the address and the variable it belongs to.
template <class T>
class checked_ptr {
  public:
    using element_type = T;
    checked_ptr() = default;
    __device__ checked_ptr(std::nullptr_t) {}                           // NOLINT
    __device__ checked_ptr(T* p, var_ref v = var_ref{}) : p_(p), v_(v) {}  // NOLINT
    template <class U>
        requires std::is_convertible_v<U*, T*>
    __device__ checked_ptr(const checked_ptr<U>& o) : p_(o.get()), v_(o.var()) {}  // NOLINT

    __device__ decltype(auto) operator[](at i) const { return element(p_ + i.i, v_, i.line); }
    __device__ decltype(auto) operator*() const { return element(p_, v_, 0); }
    // `p->field`: bounds only, at an unknown line.
    __device__ T* operator->() const {
        record(v_, p_, sizeof(T), MC_ACCESS_ATOMIC, 0);
        return p_;
    }

    // Raw pointers (for helpers and casts) leave checking.
    template <class U>
        requires(std::is_same_v<U, T*> || std::is_same_v<U, const T*> ||
                 std::is_same_v<U, volatile T*> || std::is_same_v<U, const volatile T*>)
    __device__ operator U() const {  // NOLINT(google-explicit-constructor)
        escape(v_);
        return p_;
    }
    template <class U>
    __device__ explicit operator U*() const {
        escape(v_);
        return (U*)p_;  // NOLINT: C-style casts of a pointer parameter do any cast
    }
    __device__ explicit operator bool() const { return p_ != nullptr; }

    __device__ checked_ptr& operator+=(long long n) { p_ += n; return *this; }
    __device__ checked_ptr& operator-=(long long n) { p_ -= n; return *this; }
    __device__ checked_ptr& operator++() { ++p_; return *this; }
    __device__ checked_ptr& operator--() { --p_; return *this; }
    __device__ checked_ptr operator++(int) { checked_ptr old = *this; ++p_; return old; }
    __device__ checked_ptr operator--(int) { checked_ptr old = *this; --p_; return old; }
    template <class I>
        requires std::is_integral_v<I>
    __device__ friend checked_ptr operator+(checked_ptr p, I n) { return checked_ptr(p.p_ + n, p.v_); }
    template <class I>
        requires std::is_integral_v<I>
    __device__ friend checked_ptr operator+(I n, checked_ptr p) { return checked_ptr(p.p_ + n, p.v_); }
    template <class I>
        requires std::is_integral_v<I>
    __device__ friend checked_ptr operator-(checked_ptr p, I n) { return checked_ptr(p.p_ - n, p.v_); }
    __device__ friend std::ptrdiff_t operator-(checked_ptr a, checked_ptr b) { return a.p_ - b.p_; }
    __device__ friend std::ptrdiff_t operator-(checked_ptr a, const T* b) { return a.p_ - b; }
    __device__ friend std::ptrdiff_t operator-(const T* a, checked_ptr b) { return a - b.p_; }
// nullptr and NULL compare through `const T*` (separate nullptr_t overloads make NULL ambiguous).
#define MC_CHECKED_COMPARE(op)                                                                   \
    __device__ friend bool operator op(checked_ptr a, checked_ptr b) { return a.p_ op b.p_; }    \
    __device__ friend bool operator op(checked_ptr a, const T* b) { return a.p_ op b; }          \
    __device__ friend bool operator op(const T* a, checked_ptr b) { return a op b.p_; }
    MC_CHECKED_COMPARE(==)
    MC_CHECKED_COMPARE(!=)
    MC_CHECKED_COMPARE(<)
    MC_CHECKED_COMPARE(<=)
    MC_CHECKED_COMPARE(>)
    MC_CHECKED_COMPARE(>=)
#undef MC_CHECKED_COMPARE

    __device__ T* get() const { return p_; }
    __device__ var_ref var() const { return v_; }

  private:
    T* p_ = nullptr;
    var_ref v_ = var_ref{};
};

// Atomics on checked pointers: bounds-checked at their line, exempt from race checks.
template <class T>
__device__ inline T* atomic_target(checked_ptr<T> p, unsigned line) {
    if (record(p.var(), p.get(), sizeof(T), MC_ACCESS_ATOMIC, line)) return p.get();
    return &scratch<value_of<T>>();
}

}  // namespace __mc

// One template per arity: a parameter pack cannot come before the defaulted line.
#define MC_CHECKED_ATOMIC_1(name)                                                              \
    template <class T, class V>                                                                \
        requires requires(T* q, V v) { name(q, v); }                                           \
    __device__ inline auto name(::__mc::checked_ptr<T> p, V v, unsigned line = __builtin_LINE()) { \
        return name(::__mc::atomic_target(p, line), v);                                        \
    }
#define MC_CHECKED_ATOMIC_2(name)                                                              \
    template <class T, class V, class W>                                                       \
        requires requires(T* q, V v, W w) { name(q, v, w); }                                   \
    __device__ inline auto name(::__mc::checked_ptr<T> p, V v, W w,                            \
                                unsigned line = __builtin_LINE()) {                            \
        return name(::__mc::atomic_target(p, line), v, w);                                     \
    }
MC_CHECKED_ATOMIC_1(atomicAdd)
MC_CHECKED_ATOMIC_1(atomicSub)
MC_CHECKED_ATOMIC_1(atomicExch)
MC_CHECKED_ATOMIC_1(atomicMin)
MC_CHECKED_ATOMIC_1(atomicMax)
MC_CHECKED_ATOMIC_1(atomicInc)
MC_CHECKED_ATOMIC_1(atomicDec)
MC_CHECKED_ATOMIC_1(atomicAnd)
MC_CHECKED_ATOMIC_1(atomicOr)
MC_CHECKED_ATOMIC_1(atomicXor)
MC_CHECKED_ATOMIC_2(atomicCAS)
#undef MC_CHECKED_ATOMIC_1
#undef MC_CHECKED_ATOMIC_2

// printf takes its arguments through `...`, which would copy a ref's bits instead of reading
// the element: each argument is made a plain value first (a checked pointer its address).
namespace __mc {
template <class T>
__device__ decltype(auto) printable(T&& v) {
    using D = std::decay_t<T>;
    if constexpr (requires { D::is_checked_ref; }) {
        return typename D::value_type(v);
    } else if constexpr (is_checked_ptr<D>::value) {
        return static_cast<const void*>(v.get());
    } else {
        return std::forward<T>(v);
    }
}
}  // namespace __mc
template <class... A>
__device__ inline int __mc_printf_checked(const char* format, A&&... a) {
    return MC_CHECKED_PRINTF(format, ::__mc::printable(std::forward<A>(a))...);
}
namespace std {
using ::__mc_printf_checked;
}
#undef printf
#define printf __mc_printf_checked

// Cache-hinted loads of checked pointers: reads at their line.
#define MC_CHECKED_LOAD(name)                                                              \
    template <class T>                                                                     \
    __device__ inline std::remove_cv_t<T> name(::__mc::checked_ptr<T> p,                   \
                                               unsigned line = __builtin_LINE()) {         \
        if (!::__mc::record(p.var(), p.get(), sizeof(T), MC_ACCESS_READ, line)) return {}; \
        return name(static_cast<const T*>(p.get()));                                       \
    }
MC_CHECKED_LOAD(__ldg)
MC_CHECKED_LOAD(__ldcg)
MC_CHECKED_LOAD(__ldca)
MC_CHECKED_LOAD(__ldcs)
MC_CHECKED_LOAD(__ldlu)
MC_CHECKED_LOAD(__ldcv)
#undef MC_CHECKED_LOAD

#endif  // MANYCORE_PRELUDE_CHECKED_H
