// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The line-preserving rewrites of a CUDA C++ source, and the error of a checked build that
// fails with every rewrite.

#include "core/source_rewrites.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/source_analysis.hpp"
#include "manycore/error.hpp"

namespace manycore::detail {
namespace source {
namespace {

bool in_body(const Parser& p, std::size_t i) {
    const auto body = std::upper_bound(p.bodies.begin(), p.bodies.end(), std::pair(i, npos));
    return body != p.bodies.begin() && std::prev(body)->second > i;
}

std::size_t count_newlines(std::string_view s, std::size_t begin, std::size_t end) {
    return static_cast<std::size_t>(std::count(s.begin() + static_cast<std::ptrdiff_t>(begin),
                                               s.begin() + static_cast<std::ptrdiff_t>(end), '\n'));
}

// Checked mode: `*p` of a checked parameter `p` becomes `p[0]` in the function's body, so the
// access knows its line (a unary operator* cannot take the defaulted line argument that a
// subscript's index does). Only where that means the same: `*` is unary (it follows an
// operator, a bracket or `return`) and nothing binds to `p` more tightly (`*p++`, `*p[1]`,
// `*p->x` stay as they are).
void deref_edits(const Parser& p, const std::vector<Token>& t, std::size_t open,
                 std::size_t name, std::vector<Edit>& edits) {
    const std::size_t close = p.skip_group(open);
    const auto body = std::lower_bound(p.bodies.begin(), p.bodies.end(), std::pair(close, std::size_t{0}));
    if (body == p.bodies.end() || body->first != close) return;  // a prototype, or `-> T {`
    for (std::size_t k = body->first + 1; k + 1 < body->second; ++k) {
        if (!p.is(k, '*') || t[k + 1].id != t[name].id || t[k + 1].kind != Kind::ident) continue;
        const Token& before = t[k - 1];
        bool unary = before.kind == Kind::punct ? !(p.is(k - 1, ')') || p.is(k - 1, ']'))
                                                : before.text == "return" || before.text == "else";
        if (p.is(k - 1, ')')) {  // `if (c) *p = v;`: a statement starts after the condition
            std::size_t j = k - 1;
            for (int depth = 0; j > body->first; --j) {
                depth += p.is(j, ')') - p.is(j, '(');
                if (depth == 0) break;
            }
            unary = p.word(j - 1, "if") || p.word(j - 1, "while") || p.word(j - 1, "for");
        }
        if (!unary) continue;
        const std::size_t next = k + 2;
        const bool binds = p.is(next, '[') || p.is(next, '(') || p.is(next, '.') ||
                           (p.is(next, '-') && p.is(next + 1, '>')) ||
                           (p.is(next, '+') && p.is(next + 1, '+') &&
                            t[next + 1].begin == t[next].begin + 1) ||
                           (p.is(next, '-') && p.is(next + 1, '-') &&
                            t[next + 1].begin == t[next].begin + 1);
        if (binds) continue;
        edits.push_back({t[k].begin, t[k].end(), ""});
        edits.push_back({t[k + 1].end(), t[k + 1].end(), "[0]"});
    }
}

// Checked mode: `__shared__ int total;` becomes a one-element array, and every later `total`
// of the function `total[0]`, so each use is a checked access at its own line (replacing a
// name by a subscript of it never changes what the expression means). Pointers and
// references in shared memory stay as they are.
void checked_shared_scalar(const std::vector<Token>& t, const Parser& p, std::size_t shared,
                           std::size_t name, std::vector<Edit>& edits) {
    for (std::size_t k = shared + 1; k < name; ++k)
        if (p.is(k, '*') || p.is(k, '&')) return;
    const auto body = std::upper_bound(p.bodies.begin(), p.bodies.end(), std::pair(name, npos));
    if (body == p.bodies.begin()) return;
    const std::size_t close = std::prev(body)->second;
    const std::string text(t[name].text);
    edits.push_back({t[name].begin, t[name].end(), "__mc_shared_" + text + "[1]"});
    edits.push_back({t[name + 1].end(), t[name + 1].end(),
                     " auto " + text + " = ::__mc::shared_array(__mc_shared_" + text + ", \"" +
                         text + "\");"});
    for (std::size_t k = name + 2; k < close; ++k) {
        if (t[k].id != t[name].id || t[k].kind != Kind::ident) continue;
        const bool member = p.is(k - 1, '.') || (p.is(k - 1, '>') && p.is(k - 2, '-')) ||
                            (p.is(k - 1, ':') && p.is(k - 2, ':')) || p.is(k + 1, '(') ||
                            (p.is(k + 1, ':') && p.is(k + 2, ':'));
        if (!member) edits.push_back({t[k].end(), t[k].end(), "[0]"});
    }
}

}  // namespace

// `extern __shared__ T name[];` has no CPU meaning; the prelude's __mc_dynamic_shared() returns
// the running block's buffer. In a function the array becomes a local pointer. At namespace
// scope it becomes a macro, as any later function may use it. A `#define` must begin its line
// and end before any code that follows, and the newlines that takes come out of the
// declaration's own, so no other token moves. A declaration that shares its single line with
// other code has no newline to give: it becomes blank and its later uses are expanded in place,
// as the macro would have been (the one case that edits text outside the declaration).
// Checked mode: the array is a checked pointer to the buffer, bounded by the launch's size.
std::vector<Edit> rewrite_extern_shared(std::string_view s, const Lexed& lx, const Parser& p,
                                        int extern_id, bool checked) {
    const std::vector<Token>& t = lx.code;
    std::vector<Edit> edits;
    for (std::size_t i = 0; i < t.size(); ++i) {
        if (t[i].id != extern_id) continue;
        bool shared = false;
        std::vector<std::size_t> type;
        std::size_t j = i + 1;
        for (; j < t.size() && j < i + 64; ++j) {
            if (p.word(j, "__shared__")) {
                shared = true;
            } else if (p.flag(j, attribute) && p.is(j + 1, '(')) {
                j = p.skip_group(j + 1) - 1;  // __align__(16): the runtime aligns the buffer
            } else if (p.is(j, '[') && p.is(j + 1, '[')) {
                j = p.skip_group(j) - 1;  // [[attribute]]
            } else if (t[j].kind == Kind::ident || t[j].kind == Kind::number ||
                       (t[j].kind == Kind::punct && std::strchr("<>,:*&", t[j].text[0]))) {
                type.push_back(j);
            } else {
                break;
            }
        }
        if (!shared || type.size() < 2 || !p.name_like(type.back()) || !p.is(j, '[') ||
            !p.is(j + 1, ']') || !p.is(j + 2, ';'))
            continue;
        const std::string name(t[type.back()].text);
        const int name_id = t[type.back()].id;
        type.pop_back();
        const std::string ty = join(t, type);
        const std::string value =
            checked ? "::__mc::dynamic_shared_array<" + ty + ">(\"" + name + "\")"
                    : "reinterpret_cast<" + ty + "*>(__mc_dynamic_shared())";
        const std::size_t begin = t[i].begin, end = t[j + 2].end();
        const auto newlines = static_cast<std::size_t>(
            std::count(s.begin() + static_cast<std::ptrdiff_t>(begin),
                       s.begin() + static_cast<std::ptrdiff_t>(end), '\n'));
        const auto body = std::upper_bound(p.bodies.begin(), p.bodies.end(), std::pair(i, npos));
        if (body != p.bodies.begin() && std::prev(body)->second > i) {
            edits.push_back(
                {begin, end,
                 (checked ? "::__mc::checked_ptr<" + ty + "> const " : ty + "* const ") + name +
                     " = " + value + ";" + std::string(newlines, '\n')});
            continue;
        }
        std::size_t b = begin, a = end;
        while (b > 0 && (s[b - 1] == ' ' || s[b - 1] == '\t')) --b;
        while (a < s.size() && (s[a] == ' ' || s[a] == '\t' || s[a] == '\r')) ++a;
        const bool before = b > 0 && s[b - 1] != '\n';
        const bool after = a < s.size() && s[a] != '\n' && s.substr(a, 2) != "//";
        if (std::size_t{before} + std::size_t{after} <= newlines) {
            edits.push_back({begin, end,
                             std::string(before ? "\n" : "") + "#define " + name + " (" + value +
                                 ")" + std::string(newlines - before, '\n')});
            continue;
        }
        edits.push_back({begin, end, " " + std::string(newlines, '\n')});
        for (const auto* list : {&lx.code, &lx.directive_tokens})
            for (const Token& use : *list)
                if (use.begin > end && use.id == name_id)
                    edits.push_back({use.begin, use.end(), "(" + value + ")"});
    }
    std::sort(edits.begin(), edits.end(),
              [](const Edit& x, const Edit& y) { return x.begin < y.begin; });
    return edits;
}

// Checked mode: a kernel's pointer parameter (`const float* __restrict__ x`, `float x[]`)
// becomes `::__mc::checked_ptr<const float> x`, its name on the same line. Pointers to
// pointers, `void*`, references and function pointers stay as they are (unchecked).
void checked_param_edits(std::string_view s, const Parser& p, const std::vector<Token>& t,
                         std::size_t open, std::vector<Edit>& edits) {
    for (const Piece& piece : split_params(p, t, open)) {
        const std::size_t name = piece.name;
        if (name == npos) continue;
        std::size_t star = npos;
        int stars = 0, angle = 0;
        bool plain = true;
        for (std::size_t k = piece.begin; k < name; ++k) {
            if (p.is(k, '<')) ++angle;
            else if (p.is(k, '>')) --angle;
            else if (p.is(k, '*') && angle == 0) ++stars, star = k;
            else if (p.is(k, '&') || p.is(k, '(') || p.is(k, '[') || p.is(k, '.')) plain = false;
        }
        const std::size_t after = name + 1;
        const bool array = p.is(after, '[') && p.is(after + 1, ']') && after + 2 == piece.value;
        if (!plain || angle != 0) continue;
        if (!(stars == 1 && after == piece.value) && !(stars == 0 && array)) continue;
        bool qualifiers_only = true;  // between the star and the name: `* __restrict__ const`
        for (std::size_t k = star + 1; stars == 1 && k < name; ++k)
            qualifiers_only &= p.flag(k, qualifier);
        if (!qualifiers_only) continue;
        std::vector<std::size_t> element;
        bool typed = false, is_void = false;
        for (std::size_t k = piece.begin; k < (stars == 1 ? star : name); ++k) {
            if (p.word(k, "__restrict__") || p.word(k, "__restrict") || p.word(k, "restrict") ||
                p.word(k, "__grid_constant__"))
                continue;
            element.push_back(k);
            if (!p.flag(k, qualifier)) typed = true, is_void |= p.word(k, "void");
        }
        if (!typed || is_void) continue;
        const std::size_t from = t[piece.begin].begin, to = t[name].begin;
        edits.push_back({from, to,
                         "::__mc::checked_ptr<" + join(t, element) + "> " +
                             std::string(count_newlines(s, from, to), '\n')});
        if (array) edits.push_back({t[after].begin, t[after + 1].end(), ""});
        deref_edits(p, t, open, name, edits);
    }
}

// Checked mode: `__shared__ float s[16][17];` in a function keeps its storage under another
// name and `s` becomes a checked pointer to it, declared after it on the same line. Only
// arrays with one declarator; scalars and namespace-scope arrays stay unchecked.
void checked_shared_edits(const Lexed& lx, const Parser& p, int extern_id,
                          std::vector<Edit>& edits) {
    const std::vector<Token>& t = lx.code;
    for (std::size_t i = 0; i < t.size(); ++i) {
        if (!p.word(i, "__shared__") || !in_body(p, i)) continue;
        bool is_extern = false;
        for (std::size_t k = i; k-- > 0 && !p.is(k, ';') && !p.is(k, '{') && !p.is(k, '}');)
            is_extern |= t[k].id == extern_id;
        if (is_extern) continue;
        std::size_t j = i + 1;
        bool single = true;
        for (int angle = 0; j < t.size() && j < i + 64; ++j) {
            if (p.flag(j, attribute) && p.is(j + 1, '(')) {
                j = p.skip_group(j + 1) - 1;
            } else if (p.is(j, '[')) {
                break;
            } else if (t[j].kind == Kind::ident || t[j].kind == Kind::number ||
                       (t[j].kind == Kind::punct && std::strchr("<>,:*", t[j].text[0]))) {
                angle += p.is(j, '<') - p.is(j, '>');
                single &= !(p.is(j, ',') && angle == 0);
            } else {
                break;
            }
        }
        if (single && p.is(j, ';') && j > i + 2 && p.name_like(j - 1)) {
            checked_shared_scalar(t, p, i, j - 1, edits);
            continue;
        }
        if (!single || !p.is(j, '[') || j == i + 1 || !p.name_like(j - 1)) continue;
        std::size_t end = j;
        while (p.is(end, '[')) end = p.skip_group(end);
        if (!p.is(end, ';')) continue;
        const std::string name(t[j - 1].text);
        edits.push_back({t[j - 1].begin, t[j - 1].end(), "__mc_shared_" + name});
        edits.push_back({t[end].end(), t[end].end(),
                         " auto " + name + " = ::__mc::shared_array(__mc_shared_" + name + ", \"" +
                             name + "\");"});
    }
}

std::string apply_edits(std::string_view s, const std::vector<Edit>& edits) {
    std::string out;
    out.reserve(s.size() + 64 * edits.size());
    std::size_t at = 0;
    for (const Edit& e : edits) {
        if (e.begin < at) continue;  // inside an earlier edit (a redeclaration's name)
        out.append(s.substr(at, e.begin - at)).append(e.text);
        at = e.end;
    }
    return out.append(s.substr(at));
}

}  // namespace source

CompileError checked_compile_error(const CompileError& e) {
    return CompileError(
        std::string(e.what()) +
            "\n(checked mode: pointer parameters and shared arrays are "
            "__mc::checked_ptr<T>, and an element is a __mc::ref<T>; code that needs "
            "a raw pointer or a T& there, such as `float& r = p[i];`, `auto* q = p;` "
            "or `reinterpret_cast<float4*>(p)`, does not compile checked: use a value, "
            "`auto q = p`, or a C-style cast, which leaves checking)",
        e.log(), e.source(), e.options());
}

}  // namespace manycore::detail
