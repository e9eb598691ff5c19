// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The launch lints' facts of a kernel, read from its body's tokens by the idioms CUDA programs
// index their arrays with.

#include "core/launch_lint_facts.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace manycore::detail::source {
namespace {

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

}  // namespace

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

}  // namespace manycore::detail::source
