// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Checked mode on the CPU: pointers and shared arrays that record every access they make.
//
// A checked module (MC_CHECKED) has its kernels' pointer parameters and its shared arrays
// rewritten by the source analysis into `__mc::checked_ptr<T>`. Subscripting one yields a
// `__mc::ref<T>` that knows the line it was written at (a default argument of the index type)
// and, when read or written, checks the bounds and updates the shadow cells of the bytes it
// touches: last writer and one reader, each with its thread and barrier interval. A conflict is
// reported to the runtime (abi.h, mc_check_state), which keeps the distinct findings; the
// access itself goes on, except out of bounds, where a read yields zero and a write is dropped
// so the process survives. Casting a checked pointer to a raw one leaves checking (the memory
// is then only as safe as unchecked code), and stops uninitialized-read checks on that array.
#ifndef MANYCORE_PRELUDE_CHECKED_H
#define MANYCORE_PRELUDE_CHECKED_H

namespace __mc {

static thread_local mc_check_state* check;

// The index of a subscript, with the line it was written at: default arguments of a
// converting constructor are evaluated where the conversion happens, in the user's source.
struct at {
    long long i;
    unsigned line;
    template <class I, std::enable_if_t<std::is_integral_v<I> || std::is_enum_v<I>, int> = 0>
    at(I v, unsigned l = __builtin_LINE())  // NOLINT(google-explicit-constructor)
        : i(static_cast<long long>(v)), line(l) {}
    // An element read through another checked pointer: `bins[keys[i]]`.
    template <class R, std::enable_if_t<std::is_class_v<R> && std::is_convertible_v<R, long long>,
                                        int> = 0>
    at(const R& v, unsigned l = __builtin_LINE())  // NOLINT(google-explicit-constructor)
        : i(static_cast<long long>(v)), line(l) {}
};

// A cell no plain write reached but an atomic did (its writer stays "none", so no race).
constexpr uint32_t kWrittenByAtomic = 0xffffffffu;

// Who is accessing memory now, as plain scalars (kept in registers on the hot path).
struct accessor {
    uint32_t self;        // 1 + block_base + thread: mc_access.thread
    uint32_t block_base;  // block_linear * threads_per_block
    uint32_t thread;      // linear index in the block
    uint32_t block_epoch;
    uint32_t warp_epoch;
    uint32_t line;
    mc_access record() const {
        return mc_access{self, block_epoch, static_cast<uint16_t>(warp_epoch),
                         static_cast<uint16_t>(line)};
    }
};

__attribute__((always_inline)) inline accessor current_accessor(const mc_check_state* s,
                                                                unsigned line) {
    accessor a;
    a.thread = thread_linear();
    a.block_base = static_cast<uint32_t>(block_linear()) * s->threads_per_block;
    a.self = 1u + a.block_base + a.thread;
    a.block_epoch = s->block_epoch;
    a.warp_epoch = s->warp_epochs ? s->warp_epochs[a.thread >> 5] : 0u;
    a.line = line;
    return a;
}

// Whether an earlier access may run at the same time as this one: another block's access
// always may (blocks never synchronise); one of this block only in the same barrier interval,
// and within one warp only when no warp collective came between.
__attribute__((always_inline)) inline bool concurrent(const mc_access& earlier, const accessor& now,
                                                      uint32_t threads_per_block) {
    if (earlier.thread == 0 || earlier.thread == now.self) return false;
    if ((earlier.block_epoch ^ now.block_epoch) >> 24) return false;  // an earlier launch's
    const uint32_t thread = earlier.thread - 1u - now.block_base;
    if (thread >= threads_per_block) return true;
    if (earlier.block_epoch != now.block_epoch) return false;
    return (thread >> 5) != (now.thread >> 5) ||
           earlier.warp_epoch == static_cast<uint16_t>(now.warp_epoch);
}

// Out of line and by value, so the hot path never has to keep its records in memory.
[[gnu::noinline, gnu::cold]] inline void report(uint8_t kind, uint8_t access, const mc_check_var* var,
                                                uintptr_t address, uint32_t size, accessor who,
                                                mc_access other, uint8_t other_access) {
    mc_check_state* s = var->state;
    mc_check_event e{};
    e.kind = kind;
    e.access = access;
    e.other_access = other_access;
    e.size = size;
    e.var = var;
    e.address = address;
    e.self = who.record();
    e.other = other;
    s->report(s, &e);
}

__attribute__((always_inline)) inline void store(mc_access& slot, const accessor& who) {
    slot.thread = who.self;
    slot.block_epoch = who.block_epoch;
    slot.warp_epoch = static_cast<uint16_t>(who.warp_epoch);
    slot.line = static_cast<uint16_t>(who.line);
}

// Checks one access of `size` bytes at `address` through `var`; false when it is out of
// bounds (then it must not happen).
__attribute__((always_inline)) inline bool record(const mc_check_var* var, const volatile void* address,
                                                  uint32_t size, uint8_t access, unsigned line) {
    if (var == nullptr) return true;  // a raw pointer made checked: nothing known about it
    const auto addr = reinterpret_cast<uintptr_t>(const_cast<const void*>(address));
    const mc_check_state* state = var->state;
    if (__builtin_expect(addr < var->begin || addr > var->end || var->end - addr < size, 0)) {
        report(MC_FIND_OUT_OF_BOUNDS, access, var, addr, size, current_accessor(state, line),
               mc_access{}, 0);
        return false;
    }
    mc_check_region* region = var->region;
    if (region == nullptr) return true;  // bounds only: who it was matters for reports only
    const accessor who = current_accessor(state, line);
    const uint32_t tpb = state->threads_per_block;
    const uint32_t shift = region->granule_shift;
    mc_shadow_cell* cell = region->cells + ((addr - region->begin) >> shift);
    mc_shadow_cell* last = region->cells + ((addr + size - 1 - region->begin) >> shift);
    if (access == MC_ACCESS_ATOMIC) {
        // Atomics never race, but they do initialise: shared memory set up by atomicExch or
        // atomicAdd alone is no uninitialized read later.
        for (; cell <= last; ++cell) {
            if (cell->writer.thread == 0) cell->writer.block_epoch = kWrittenByAtomic;
        }
        return true;
    }
    for (; cell <= last; ++cell) {
        if (access == MC_ACCESS_READ) {
            if (cell->writer.thread == 0) {
                if (__builtin_expect(region->check_uninit, 0) &&
                    cell->writer.block_epoch != kWrittenByAtomic) {
                    report(MC_FIND_UNINITIALIZED_READ, access, var, addr, size, who, mc_access{}, 0);
                }
            } else if (__builtin_expect(concurrent(cell->writer, who, tpb), 0)) {
                report(MC_FIND_RACE, access, var, addr, size, who, cell->writer, MC_ACCESS_WRITE);
            }
            // Keep the first reader of an interval that may conflict with a later writer.
            const uint32_t reader = cell->reader.thread;
            if (reader == 0 || reader == who.self || !concurrent(cell->reader, who, tpb)) {
                store(cell->reader, who);
            }
        } else {
            if (__builtin_expect(concurrent(cell->writer, who, tpb), 0)) {
                report(MC_FIND_RACE, access, var, addr, size, who, cell->writer, MC_ACCESS_WRITE);
            } else if (__builtin_expect(concurrent(cell->reader, who, tpb), 0)) {
                report(MC_FIND_RACE, access, var, addr, size, who, cell->reader, MC_ACCESS_READ);
            }
            store(cell->writer, who);
        }
    }
    return true;
}

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
    ref(T* p, const mc_check_var* v, unsigned line) : p_(p), v_(v), line_(line) {}

    operator value_type() const {  // NOLINT(google-explicit-constructor)
        if (!record(v_, p_, sizeof(T), MC_ACCESS_READ, line_)) return value_type{};
        return *p_;
    }
    ref&& operator=(const ref& other) && { return std::move(*this).store(value_type(other)); }
    template <class V>
    ref&& operator=(V&& value) && {
        return std::move(*this).store(static_cast<value_type>(std::forward<V>(value)));
    }
#define MC_CHECKED_COMPOUND(op)                                          \
    template <class V>                                                   \
    ref&& operator op##=(V&& value) && {                                 \
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
    ref&& operator++() && {
        value_type v = value_type(*this);
        return std::move(*this).store(++v);
    }
    ref&& operator--() && {
        value_type v = value_type(*this);
        return std::move(*this).store(--v);
    }
    value_type operator++(int) && {
        value_type v = value_type(*this);
        value_type old = v;
        std::move(*this).store(++v);
        return old;
    }
    value_type operator--(int) && {
        value_type v = value_type(*this);
        value_type old = v;
        std::move(*this).store(--v);
        return old;
    }
    checked_ptr<T> operator&() const { return checked_ptr<T>(p_, v_); }

  private:
    ref&& store(const value_type& v) && {
        if (record(v_, p_, sizeof(T), MC_ACCESS_WRITE, line_)) *p_ = v;
        return std::move(*this);
    }
    T* p_;
    const mc_check_var* v_;
    unsigned line_;
};

// Elements of CUDA vector types: `p[i].x` reaches a checked component.
template <class T, uint8_t Lanes = vector_lanes<value_of<T>>::lanes>
struct lanes_of;
template <class T>
struct lanes_of<T, 2> {
    using L = decltype(value_of<T>::x);
    lanes_of(T* p, const mc_check_var* v, unsigned line) : x{&p->x, v, line}, y{&p->y, v, line} {}
    ref<std::conditional_t<std::is_const_v<T>, const L, L>> x, y;
};
template <class T>
struct lanes_of<T, 3> {
    using L = decltype(value_of<T>::x);
    lanes_of(T* p, const mc_check_var* v, unsigned line)
        : x{&p->x, v, line}, y{&p->y, v, line}, z{&p->z, v, line} {}
    ref<std::conditional_t<std::is_const_v<T>, const L, L>> x, y, z;
};
template <class T>
struct lanes_of<T, 4> {
    using L = decltype(value_of<T>::x);
    lanes_of(T* p, const mc_check_var* v, unsigned line)
        : x{&p->x, v, line}, y{&p->y, v, line}, z{&p->z, v, line}, w{&p->w, v, line} {}
    ref<std::conditional_t<std::is_const_v<T>, const L, L>> x, y, z, w;
};

template <class T>
class vector_ref : public ref<T>, public lanes_of<T> {
  public:
    vector_ref(T* p, const mc_check_var* v, unsigned line) : ref<T>(p, v, line), lanes_of<T>(p, v, line) {}
    using ref<T>::operator=;
};

// Records and other class types: bounds only (member access cannot be seen from here), and an
// out-of-bounds element is a scratch value so nothing outside the array is touched.
template <class T>
T& bounded_element(T* p, const mc_check_var* v, unsigned line) {
    if (record(v, p, sizeof(T), MC_ACCESS_ATOMIC, line)) return *p;
    static thread_local value_of<T> scratch;
    scratch = value_of<T>{};
    return const_cast<T&>(static_cast<const T&>(scratch));
}

template <class T>
decltype(auto) element(T* p, const mc_check_var* v, unsigned line) {
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
    checked_ptr(std::nullptr_t) {}                                        // NOLINT
    checked_ptr(T* p, const mc_check_var* v = nullptr) : p_(p), v_(v) {}  // NOLINT
    template <class U, std::enable_if_t<std::is_convertible_v<U*, T*>, int> = 0>
    checked_ptr(const checked_ptr<U>& o) : p_(o.get()), v_(o.var()) {}  // NOLINT

    decltype(auto) operator[](at i) const { return element(p_ + i.i, v_, i.line); }
    decltype(auto) operator*() const { return element(p_, v_, 0); }
    // `p->field`: bounds only, at an unknown line.
    T* operator->() const {
        record(v_, p_, sizeof(T), MC_ACCESS_ATOMIC, 0);
        return p_;
    }

    // Raw pointers (for helpers and casts) leave checking.
    template <class U, std::enable_if_t<std::is_same_v<U, T*> || std::is_same_v<U, const T*> ||
                                            std::is_same_v<U, volatile T*> ||
                                            std::is_same_v<U, const volatile T*>,
                                        int> = 0>
    operator U() const {  // NOLINT(google-explicit-constructor)
        escape();
        return p_;
    }
    template <class U>
    explicit operator U*() const {
        escape();
        return (U*)p_;  // NOLINT: C-style casts of a pointer parameter do any cast
    }
    explicit operator bool() const { return p_ != nullptr; }

    checked_ptr& operator+=(long long n) { p_ += n; return *this; }
    checked_ptr& operator-=(long long n) { p_ -= n; return *this; }
    checked_ptr& operator++() { ++p_; return *this; }
    checked_ptr& operator--() { --p_; return *this; }
    checked_ptr operator++(int) { checked_ptr old = *this; ++p_; return old; }
    checked_ptr operator--(int) { checked_ptr old = *this; --p_; return old; }
    template <class I, std::enable_if_t<std::is_integral_v<I>, int> = 0>
    friend checked_ptr operator+(checked_ptr p, I n) { return checked_ptr(p.p_ + n, p.v_); }
    template <class I, std::enable_if_t<std::is_integral_v<I>, int> = 0>
    friend checked_ptr operator+(I n, checked_ptr p) { return checked_ptr(p.p_ + n, p.v_); }
    template <class I, std::enable_if_t<std::is_integral_v<I>, int> = 0>
    friend checked_ptr operator-(checked_ptr p, I n) { return checked_ptr(p.p_ - n, p.v_); }
    friend std::ptrdiff_t operator-(checked_ptr a, checked_ptr b) { return a.p_ - b.p_; }
    friend std::ptrdiff_t operator-(checked_ptr a, const T* b) { return a.p_ - b; }
    friend std::ptrdiff_t operator-(const T* a, checked_ptr b) { return a - b.p_; }
// nullptr and NULL compare through `const T*` (separate nullptr_t overloads make NULL ambiguous).
#define MC_CHECKED_COMPARE(op)                                                     \
    friend bool operator op(checked_ptr a, checked_ptr b) { return a.p_ op b.p_; }         \
    friend bool operator op(checked_ptr a, const T* b) { return a.p_ op b; }               \
    friend bool operator op(const T* a, checked_ptr b) { return a op b.p_; }
    MC_CHECKED_COMPARE(==)
    MC_CHECKED_COMPARE(!=)
    MC_CHECKED_COMPARE(<)
    MC_CHECKED_COMPARE(<=)
    MC_CHECKED_COMPARE(>)
    MC_CHECKED_COMPARE(>=)
#undef MC_CHECKED_COMPARE

    T* get() const { return p_; }
    const mc_check_var* var() const { return v_; }

  private:
    void escape() const {
        if (v_ != nullptr && v_->region != nullptr) v_->region->check_uninit = 0;
    }
    T* p_ = nullptr;
    const mc_check_var* v_ = nullptr;
};

// A shared array of the running block, as a checked pointer to its first row or element.
template <class A>
inline checked_ptr<std::remove_extent_t<A>> shared_array(A& storage, const char* name) {
    using E = std::remove_all_extents_t<A>;
    void* base = (void*)&storage;  // NOLINT: drops the element type's cv-qualifiers
    mc_check_var* v = check->shared_var(check, base, sizeof(A), sizeof(E), name);
    return checked_ptr<std::remove_extent_t<A>>(storage, v);
}
template <class E>
inline checked_ptr<E> dynamic_shared_array(const char* name) {
    void* base = dynamic_shared;
    mc_check_var* v = check->shared_var(check, base, launch->dynamic_shared_bytes, sizeof(E), name);
    return checked_ptr<E>(static_cast<E*>(base), v);
}

// Atomics on checked pointers: bounds-checked at their line, exempt from race checks.
template <class T>
inline T* atomic_target(checked_ptr<T> p, unsigned line) {
    if (record(p.var(), p.get(), sizeof(T), MC_ACCESS_ATOMIC, line)) return p.get();
    static thread_local value_of<T> scratch;
    return &scratch;
}

}  // namespace __mc

// One template per arity: a parameter pack cannot come before the defaulted line.
#define MC_CHECKED_ATOMIC_1(name)                                                              \
    template <class T, class V>                                                                \
    inline auto name(::__mc::checked_ptr<T> p, V v, unsigned line = __builtin_LINE())          \
        -> decltype(name(static_cast<T*>(nullptr), v)) {                                       \
        return name(::__mc::atomic_target(p, line), v);                                        \
    }
#define MC_CHECKED_ATOMIC_2(name)                                                              \
    template <class T, class V, class W>                                                       \
    inline auto name(::__mc::checked_ptr<T> p, V v, W w, unsigned line = __builtin_LINE())     \
        -> decltype(name(static_cast<T*>(nullptr), v, w)) {                                    \
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
decltype(auto) printable(T&& v) {
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
inline int __mc_printf_checked(const char* format, A&&... a) {
    return __mc_printf(format, ::__mc::printable(std::forward<A>(a))...);
}
namespace std {
using ::__mc_printf_checked;
}
#undef printf
#define printf __mc_printf_checked

// Cache-hinted loads of checked pointers: reads at their line.
#define MC_CHECKED_LOAD(name)                                                              \
    template <class T>                                                                     \
    inline std::remove_cv_t<T> name(::__mc::checked_ptr<T> p, unsigned line = __builtin_LINE()) { \
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
