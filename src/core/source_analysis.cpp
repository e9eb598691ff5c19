// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Reads CUDA C++ source as text: kernels, parameters, barrier reachability, extern __shared__.

#include "core/source_analysis.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/source_lexer.hpp"
#include "core/source_parser.hpp"
#include "manycore/error.hpp"

namespace manycore::detail {

using namespace source;

namespace {

void read_params(const Parser& p, const std::vector<Token>& t, std::size_t open, KernelDecl& out) {
    const std::vector<Piece> pieces = split_params(p, t, open);
    std::vector<std::size_t> picked;
    out.param_names.reserve(pieces.size());
    out.param_spellings.reserve(pieces.size());
    for (const Piece& piece : pieces) {
        const std::size_t name = piece.name;
        picked.clear();
        for (std::size_t k = piece.begin; k < piece.value; ++k)
            if (k != name) picked.push_back(k);
        out.param_names.push_back(name != npos ? std::string(t[name].text)
                                               : "arg" + std::to_string(out.param_names.size()));
        out.param_spellings.push_back(join(t, picked));
    }
}

// 1 for a 32-bit signed integer type, 2 for unsigned, 0 for anything else, from its words
// ("const unsigned int", "int32_t", "std::uint32_t").
int int32_kind(const std::vector<std::string_view>& words) {
    bool is_unsigned = false, integer = false;
    for (std::string_view w : words) {
        if (w == "const" || w == "volatile" || w == "register" || w == "std" || w == "::" ||
            w == "__restrict__" || w == "signed")
            continue;
        if (w == "unsigned" || w == "uint32_t" || w == "uint") {
            is_unsigned = integer = true;
        } else if (w == "int" || w == "int32_t") {
            integer = true;
        } else {
            return 0;  // long, short, char, size_t, a typedef we cannot see through
        }
    }
    if (!integer && std::find(words.begin(), words.end(), "signed") != words.end()) integer = true;
    return integer ? (is_unsigned ? 2 : 1) : 0;
}

std::vector<std::string_view> words_of(std::string_view spelling) {
    std::vector<std::string_view> out;
    for (std::size_t b = 0; b < spelling.size();) {
        const std::size_t e = std::min(spelling.find_first_of(" :", b), spelling.size());
        if (e > b) out.push_back(spelling.substr(b, e - b));
        b = e + 1;
    }
    return out;
}

// What the lints need to know about a kernel's indexing, from its body's tokens. Every rule
// is a pattern of the idioms CUDA programs use; anything else leaves the fact unset, so the
// lint it feeds stays silent.
LaunchLintFacts read_lint_facts(const Parser& p, const std::vector<Token>& t, const KernelSite& k,
                                const KernelDecl& decl) {
    LaunchLintFacts facts;
    const std::size_t begin = p.skip_group(k.params), end = std::min(k.last, t.size());
    const auto param_index = [&](std::size_t j) {
        if (t[j].kind != Kind::ident) return -1;
        for (std::size_t q = 0; q < decl.param_names.size(); ++q)
            if (decl.param_names[q] == t[j].text) return static_cast<int>(q);
        return -1;
    };
    const auto is_pointer = [&](int q) {
        return decl.param_spellings[q].find_first_of("*[") != std::string::npos;
    };
    // Where the expression starting at j ends: `;` or `,` at its depth, or the `)` that
    // closes the group it is in.
    const auto expression_end = [&](std::size_t j) {
        for (int depth = 0; j < end; ++j) {
            if (t[j].kind != Kind::punct) continue;
            const char c = t[j].text[0];
            if (depth == 0 && (c == ';' || c == ',' || c == ')' || c == '}')) return j;
            depth += (c == '(' || c == '[') - (c == ')' || c == ']');
        }
        return end;
    };
    const auto mentions = [&](std::size_t from, std::size_t to, std::string_view w) {
        for (std::size_t j = from; j < to; ++j)
            if (t[j].kind == Kind::ident && t[j].text == w) return true;
        return false;
    };
    const auto touching = [&](std::size_t a) { return t[a].end() == t[a + 1].begin; };

    std::vector<int> stride_ids;  // locals initialised from gridDim: `int stride = ...`
    const auto strides = [&](std::size_t from, std::size_t to) {
        for (std::size_t j = from; j < to; ++j)
            if (t[j].kind == Kind::ident &&
                (t[j].text == "gridDim" ||
                 std::find(stride_ids.begin(), stride_ids.end(), t[j].id) != stride_ids.end()))
                return true;
        return false;
    };
    bool loops = false, stride_step = false;
    int index_id = -1;
    std::size_t index_decl = npos;  // the index's name token in its declaration
    for (std::size_t j = begin; j < end; ++j) {
        loops |= p.word(j, "for") || p.word(j, "while");
        if (!p.is(j, '=') || j < begin + 2 || (p.is(j + 1, '=') && touching(j))) continue;
        const bool compound = t[j - 1].kind == Kind::punct && touching(j - 1);
        if (compound && !p.is(j - 1, '+')) continue;  // ==, <=, -=, ...
        const std::size_t lhs = compound ? j - 2 : j - 1, rhs_end = expression_end(j + 1);
        if (!p.name_like(lhs)) continue;
        // A declaration: type words back to a statement boundary.
        std::vector<std::string_view> type_words;
        std::size_t b = lhs;
        while (b > begin && t[b - 1].kind == Kind::ident) type_words.push_back(t[--b].text);
        while (b > begin + 1 && p.is(b - 1, ':') && p.is(b - 2, ':') &&
               t[b - 3].kind == Kind::ident) {  // std::uint32_t
            type_words.push_back(t[b - 3].text);
            b -= 3;
            while (b > begin && t[b - 1].kind == Kind::ident) type_words.push_back(t[--b].text);
        }
        const bool declaration = !compound && !type_words.empty() &&
                                 (b == begin || p.is(b - 1, ';') || p.is(b - 1, '{') ||
                                  p.is(b - 1, '}') || p.is(b - 1, '(') || p.is(b - 1, ')'));
        if (!declaration) {
            // `i += blockDim.x * gridDim.x` or `i = i + stride`: a step by the whole grid.
            stride_step |= strides(j + 1, rhs_end) &&
                           (compound || mentions(j + 1, rhs_end, t[lhs].text));
            continue;
        }
        if (strides(j + 1, rhs_end)) stride_ids.push_back(t[lhs].id);
        if (!mentions(j + 1, rhs_end, "blockIdx")) continue;
        const int kind = int32_kind(type_words);
        if (kind != 0 && facts.int32_name.empty()) {
            std::reverse(type_words.begin(), type_words.end());
            std::string spelled;
            for (std::string_view w : type_words)
                spelled += (spelled.empty() ? "" : " ") + std::string(w);
            facts.int32_name = std::string(t[lhs].text);
            facts.int32_type = spelled;
            facts.int32_line = t[lhs].line;
            facts.int32_unsigned = kind == 2;
        }
        // Exactly blockIdx.x * blockDim.x + threadIdx.x, in any order, casts allowed.
        bool canonical = index_id < 0 && mentions(j + 1, rhs_end, "blockDim") &&
                         mentions(j + 1, rhs_end, "threadIdx");
        for (std::size_t q = j + 1; q < rhs_end && canonical; ++q) {
            const std::string_view w = t[q].text;
            canonical = t[q].kind == Kind::ident
                            ? w == "blockIdx" || w == "blockDim" || w == "threadIdx" || w == "x" ||
                                  w == "static_cast" || w == "size_t" || w == "int64_t" ||
                                  w == "uint64_t" || w == "ptrdiff_t" || w == "std" ||
                                  w == "long" || w == "unsigned" || w == "int"
                            : t[q].kind == Kind::punct && std::strchr(".*+()<>:", w[0]) != nullptr;
        }
        if (canonical) {
            index_id = t[lhs].id;
            index_decl = lhs;
            facts.index_name = std::string(t[lhs].text);
            facts.index_line = t[lhs].line;
        }
    }
    facts.grid_stride = loops && stride_step;
    if (facts.int32_name.empty()) {
        for (std::size_t q = 0; q < decl.param_spellings.size(); ++q) {
            const int kind = is_pointer(static_cast<int>(q))
                                 ? 0
                                 : int32_kind(words_of(decl.param_spellings[q]));
            if (kind == 0) continue;
            facts.int32_name = decl.param_names[q];
            facts.int32_type = decl.param_spellings[q];
            facts.int32_line = decl.line;
            facts.int32_is_param = true;
            facts.int32_unsigned = kind == 2;
            break;
        }
    }
    if (index_id < 0) return facts;
    // Whether the punctuators from `a` on spell `op` with nothing between them: `+=`, `<<=`.
    const auto spells = [&](std::size_t a, std::string_view op) {
        for (std::size_t k = 0; k < op.size(); ++k)
            if (!p.is(a + k, op[k]) || (k > 0 && !touching(a + k - 1))) return false;
        return true;
    };
    for (std::size_t j = begin + 1; j + 2 < end; ++j) {
        if (t[j].id != index_id) continue;
        // `i *= 4`, `i = 2 * i`, `++i`: the index no longer counts one element per thread (a
        // step by the grid is the grid-stride loop, which was read above).
        const bool assigned = (p.is(j + 1, '=') && !spells(j + 1, "==")) ||
                              (std::strchr("+-*/%&|^", t[j + 1].text[0]) &&
                               t[j + 1].kind == Kind::punct && spells(j + 2, "=") &&
                               touching(j + 1)) ||
                              spells(j + 1, "<<=") || spells(j + 1, ">>=") ||
                              spells(j + 1, "++") || spells(j + 1, "--") ||
                              (j >= begin + 2 && (spells(j - 2, "++") || spells(j - 2, "--")) &&
                               touching(j - 1));
        if (assigned && j != index_decl) {
            facts.index_name.clear();
            facts.indexed_params.clear();
            facts.guard_param = -1;
            break;
        }
        // x[i]: the arrays one element per thread covers.
        if (p.is(j - 1, '[') && p.is(j + 1, ']')) {
            const int q = param_index(j - 2);
            if (q >= 0 && is_pointer(q) &&
                std::find(facts.indexed_params.begin(), facts.indexed_params.end(), q) ==
                    facts.indexed_params.end())
                facts.indexed_params.push_back(q);
        }
        // i < n, i >= n, n > i: the bound, when it is a scalar parameter standing alone.
        const auto alone = [&](std::size_t q, const char* neighbours) {
            return q < end && t[q].kind == Kind::punct &&
                   std::strchr(neighbours, t[q].text[0]) != nullptr;
        };
        const auto scalar = [&](std::size_t q) {
            const int param = param_index(q);
            return param >= 0 && !is_pointer(param) ? param : -1;
        };
        int guard = -1;
        if (p.is(j + 1, '<') && !p.is(j + 2, '<') && !p.is(j + 2, '=') && alone(j + 3, ");&|?,"))
            guard = scalar(j + 2);
        if (p.is(j + 1, '>') && p.is(j + 2, '=') && touching(j + 1) && alone(j + 4, ");&|?,"))
            guard = scalar(j + 3);
        if (j >= begin + 3 && p.is(j - 1, '>') && !touching(j - 1) && alone(j - 3, "(&|,;!") &&
            alone(j + 1, ");&|?,"))
            guard = scalar(j - 2);
        if (guard >= 0 && facts.guard_param < 0) facts.guard_param = guard;
    }
    return facts;
}

[[noreturn]] void fail(std::string_view source, const std::string& message) {
    throw CompileError(message, /*log=*/message, /*source=*/std::string(source), /*options=*/{});
}

struct Edit {
    std::size_t begin, end;
    std::string text;
};

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

// The name a name expression instantiates: before `<`, unqualified, trimmed.
std::string_view base_name(std::string_view expr) {
    std::string_view base = expr.substr(0, expr.find('<'));
    if (const std::size_t colon = base.rfind("::"); colon != npos) base.remove_prefix(colon + 2);
    const std::size_t first = base.find_first_not_of(" \t");
    if (first == npos) return {};
    return base.substr(first, base.find_last_not_of(" \t") - first + 1);
}

}  // namespace

SourceAnalysis analyse_source(std::string_view source,
                              const std::vector<std::string>& name_expressions, bool checked,
                              CheckedHelpers checked_helpers) {
    Words words;
    const Lexed lx = lex(source, words);
    if (lx.launch_line != 0) {  // dynamic parallelism: say so before the host compiler does
        fail(source, "kernel.cu:" + std::to_string(lx.launch_line) +
                         ": launching a kernel from device code ('<<<') is not supported by "
                         "manycore (dynamic parallelism); launch it from the host instead");
    }

    // Each `#define NAME ...` is reached by NAME and mentions what its replacement text does.
    const std::size_t ncode = lx.code.size();
    const auto& dt = lx.directive_tokens;
    std::vector<std::array<std::size_t, 3>> macros;  // name's word id, first and last token
    std::vector<char> function_like(words.size(), 0);
    bool opaque = false;  // includes a header that may hide a barrier behind any name
    for (std::size_t d = 0; d < lx.directive_starts.size(); ++d) {
        const std::size_t s = lx.directive_starts[d];
        const std::size_t e =
            d + 1 < lx.directive_starts.size() ? lx.directive_starts[d + 1] : dt.size();
        if (s + 2 < e && dt[s + 1].text == "include") {
            // `#include "mine.cuh"` or an unknown library: any name could hide a barrier.
            const std::size_t from = dt[s + 2].end(), to = dt[e - 1].begin;
            const std::string_view h = source.substr(from, to > from ? to - from : 0);
            opaque |= dt[s + 2].text != "<" || dt[e - 1].text != ">" ||
                      !(h.find_first_of("/.") == npos || h.substr(0, 19) == "cooperative_groups/" ||
                        (classify(h) & safe_header));
        }
        if (s + 2 >= e || dt[s + 1].text != "define" || dt[s + 2].kind != Kind::ident) continue;
        macros.push_back({static_cast<std::size_t>(dt[s + 2].id), ncode + s + 3, ncode + e});
        function_like[dt[s + 2].id] |=
            s + 3 < e && dt[s + 3].text == "(" && dt[s + 3].begin == dt[s + 2].end();
    }
    Parser parser(lx.code, words, function_like);
    parser.run();
    std::vector<Entity>& entities = parser.entities;
    std::vector<int>& names = parser.names;
    for (const auto& [id, first, last] : macros) {
        entities.push_back({first, last, names.size(), names.size() + 1});
        names.push_back(static_cast<int>(id));
    }

    // Taint spreads from the barrier words to every entity that mentions a tainted word, and
    // from there to that entity's names. A worklist over an index of who mentions what makes
    // this one pass, whatever order the helpers come in.
    std::vector<int> ids(ncode + dt.size());  // per token: code first, then directives
    for (std::size_t k = 0; k < ids.size(); ++k)
        ids[k] = k < ncode ? lx.code[k].id : dt[k - ncode].id;
    std::vector<std::size_t> start(words.size() + 1, 0);  // word w: users[start[w]..start[w+1])
    for (const Entity& e : entities)
        for (std::size_t k = e.first; k < e.last; ++k) start[ids[k] + 1] += ids[k] >= 0;
    std::partial_sum(start.begin(), start.end(), start.begin());
    std::vector<std::size_t> users(start.back()), fill(start.begin(), start.end() - 1);
    for (std::size_t e = 0; e < entities.size(); ++e)
        for (std::size_t k = entities[e].first; k < entities[e].last; ++k)
            if (ids[k] >= 0) users[fill[ids[k]]++] = e;
    std::vector<char> tainted(words.size(), 0), done(entities.size(), 0);
    std::vector<int> work;
    for (int id = 0; id < static_cast<int>(words.size()); ++id)
        if (words.flags(id) & barrier) work.push_back(id), tainted[id] = 1;
    while (!work.empty()) {
        const int id = work.back();
        work.pop_back();
        for (std::size_t u = start[id]; u < start[id + 1]; ++u) {
            if (std::exchange(done[users[u]], 1)) continue;
            const Entity& e = entities[users[u]];
            for (std::size_t k = e.names; k < e.names_end; ++k)
                if (!std::exchange(tainted[names[k]], 1)) work.push_back(names[k]);
        }
    }
    const auto mentions_taint = [&](std::size_t first, std::size_t last) {
        return std::any_of(ids.begin() + first, ids.begin() + last,
                           [&](int id) { return id >= 0 && tainted[id]; });
    };

    // Check every name expression before building anything.
    std::unordered_map<std::string_view, bool> template_barriers;  // any definition syncs
    std::string template_list;
    for (const KernelSite& k : parser.kernels) {
        const std::string_view name = lx.code[k.name].text;
        if (k.is_template && !template_barriers.count(name))
            template_list += (template_list.empty() ? "'" : ", '") + std::string(name) + "'";
        if (k.is_template) template_barriers[name] |= mentions_taint(k.first, k.last);
    }
    for (const std::string& expr : name_expressions) {
        const std::string_view base = base_name(expr);
        const auto plain = [&](const KernelSite& k) { return lx.code[k.name].text == expr; };
        if (template_barriers.count(base) ||
            std::any_of(parser.kernels.begin(), parser.kernels.end(), plain))
            continue;
        fail(source, "kernel.cu: name expression '" + expr +
                         "' names no template kernel in the source; " +
                         (template_list.empty() ? std::string("the source has no template kernels")
                                                : "template kernels there: " + template_list));
    }

    SourceAnalysis result;
    std::vector<int> expr_ids;  // names as words, so that a repeated one is found by id
    for (const std::string& expr : name_expressions) expr_ids.push_back(words.intern(expr));
    std::vector<int> listed(words.size(), -1);  // by name: index in result.kernels
    const auto add = [&](std::string_view name, int id, const KernelSite& k, bool uses) {
        if (listed[id] >= 0) {  // another definition (an #if branch, say): keep the first
            result.kernels[listed[id]].uses_barriers |= uses;
            return;
        }
        KernelDecl decl{std::string(name), {}, {}, uses || opaque, lx.code[k.name].line};
        read_params(parser, lx.code, k.params, decl);
        listed[id] = static_cast<int>(result.kernels.size());
        result.lint_facts.push_back(read_lint_facts(parser, lx.code, k, decl));
        result.kernels.push_back(std::move(decl));
    };
    for (const KernelSite& k : parser.kernels) {
        const std::string_view name = lx.code[k.name].text;
        if (!k.is_template) add(name, lx.code[k.name].id, k, mentions_taint(k.first, k.last));
        for (std::size_t x = 0; x < name_expressions.size(); ++x) {
            const std::string& expr = name_expressions[x];
            if (!k.is_template || base_name(expr) != name) continue;
            // Template arguments may name a functor whose operator() syncs.
            bool uses = template_barriers[name];
            const std::size_t angle = expr.find('<');
            for (const Token& tk :
                 lex(angle == npos ? "" : std::string_view(expr).substr(angle), words).code)
                uses |= tk.id >= 0 && static_cast<std::size_t>(tk.id) < tainted.size() &&
                        tainted[tk.id];
            add(expr, expr_ids[x], k, uses);
        }
    }
    const int extern_id = words.intern("extern");
    std::vector<Edit> edits = rewrite_extern_shared(source, lx, parser, extern_id, checked);
    if (checked) {
        for (const KernelSite& k : parser.kernels)
            checked_param_edits(source, parser, lx.code, k.params, edits);
        for (const std::size_t open : parser.prototypes)
            checked_param_edits(source, parser, lx.code, open, edits);
        if (checked_helpers != CheckedHelpers::none)
            for (const std::size_t open : parser.helpers)
                checked_param_edits(source, parser, lx.code, open, edits);
        if (checked_helpers == CheckedHelpers::all)
            for (const std::size_t open : parser.template_helpers)
                checked_param_edits(source, parser, lx.code, open, edits);
        checked_shared_edits(lx, parser, extern_id, edits);
        std::sort(edits.begin(), edits.end(),
                  [](const Edit& x, const Edit& y) { return x.begin < y.begin; });
    }
    result.prepared_source = apply_edits(source, edits);
    return result;
}

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
