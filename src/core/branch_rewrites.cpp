// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The memory profile's rewrite of branch conditions into calls that file each lane's way.
#include "core/branch_rewrites.hpp"

#include <string>

namespace manycore::detail::source {
namespace {

// The top-level `;` between `open` and its `)` at `close`.
std::vector<std::size_t> semicolons(const Parser& p, std::size_t open, std::size_t close) {
    std::vector<std::size_t> found;
    for (std::size_t k = open + 1; k < close; ++k) {
        if (p.is(k, '(') || p.is(k, '[') || p.is(k, '{')) {
            k = p.skip_group(k) - 1;
        } else if (p.is(k, ';')) {
            found.push_back(k);
        }
    }
    return found;
}

// Whether tokens [a, b) declare a variable rather than compute a value: `int n = ...`,
// `const auto& r = ...`, `T* q = ...`, `auto [x, y] = ...`.
bool declares(const std::vector<Token>& t, const Parser& p, std::size_t a, std::size_t b) {
    if (b - a >= 2 && t[a].kind == Kind::ident && t[a + 1].kind == Kind::ident) return true;
    if (p.word(a, "auto")) return true;
    for (std::size_t k = a; k + 2 < b; ++k) {
        // `T* q =` and `T& q =`: a name, pointer or reference marks, a name, a lone `=`.
        if (t[k].kind != Kind::ident || !(p.is(k + 1, '*') || p.is(k + 1, '&'))) continue;
        std::size_t j = k + 1;
        while (j < b && (p.is(j, '*') || p.is(j, '&'))) ++j;
        if (j + 1 < b && t[j].kind == Kind::ident && p.is(j + 1, '=') && !p.is(j + 2, '='))
            return true;
    }
    return false;
}

}  // namespace

void branch_edits(const Lexed& lx, const Parser& p, std::vector<Edit>& edits) {
    const std::vector<Token>& t = lx.code;
    unsigned id = 0;
    for (const auto& [body_open, body_close] : p.bodies) {
        for (std::size_t k = body_open + 1; k < body_close; ++k) {
            const bool is_if = p.word(k, "if"), is_for = p.word(k, "for");
            if (!is_if && !is_for && !p.word(k, "while")) continue;
            if (!p.is(k + 1, '(')) continue;  // `if constexpr (...)`, `if consteval {`
            const std::size_t open = k + 1, close = p.skip_group(open) - 1;
            if (close >= body_close || !p.is(close, ')')) continue;
            const std::vector<std::size_t> semis = semicolons(p, open, close);
            std::size_t first, last;  // the condition's tokens, and the tokens around it
            if (is_for) {
                if (semis.size() != 2) continue;  // range-for
                first = semis[0];
                last = semis[1];
            } else {
                first = semis.empty() ? open : semis.back();
                last = close;
            }
            if (last <= first + 1 || declares(t, p, first + 1, last)) continue;
            const std::string call = "::__mc::branch(" + std::to_string(id++) + ", " +
                                     std::to_string(t[k].line) + ", (";
            edits.push_back({t[first].begin, t[first].end(), std::string(t[first].text) + call});
            edits.push_back({t[last].begin, t[last].end(), "))" + std::string(t[last].text)});
        }
    }
}

}  // namespace manycore::detail::source
