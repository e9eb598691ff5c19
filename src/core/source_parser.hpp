// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// A declaration-level parser of CUDA C++ tokens: where declarations start and end, what they
// name, which are kernels, __device__ helpers and function bodies; and parameter lists.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/source_lexer.hpp"

namespace manycore::detail::source {

// Namespaces and classes nested deeper than this are skipped whole (bounded recursion).
inline constexpr int max_scope_depth = 200;

struct Entity {
    std::size_t first = 0, last = 0;       // its text: token range, directives after code
    std::size_t names = 0, names_end = 0;  // range in the word ids whose mention reaches it
};

struct KernelSite {
    std::size_t name = 0, params = 0;  // tokens of the name and of the parameter list's '('
    std::size_t first = 0, last = 0;   // the whole definition, template header included
    bool is_template = false;
    std::string scope;  // the named namespaces it is in, as "a::b::" ("" at file scope)
};

// A declaration-level parser: it follows namespaces, linkage blocks and class bodies and skips
// function bodies and initialisers whole. It only has to find where declarations start and
// end and what they name, never to understand expressions.
class Parser {
  public:
    // `macros`: by word id, whether a function-like macro of that name is defined.
    Parser(const std::vector<Token>& tokens, const Words& words, const std::vector<char>& macros)
        : t_(tokens),
          words_(words),
          macros_(macros),
          n_(tokens.size()),
          scratch_(max_scope_depth + 2) {}

    void run() {
        for (std::size_t i = 0; i < n_;) i = close(parse_scope(i));  // a stray '}' is skipped
    }

    std::vector<Entity> entities;
    std::vector<int> names;  // of all entities, one after another
    std::vector<KernelSite> kernels;
    std::vector<std::size_t> prototypes;  // '(' of each kernel declared without a body
    std::vector<std::size_t> helpers;     // '(' of each non-template __device__ function
    std::vector<std::size_t> template_helpers;  // '(' of each __device__ function template
    std::vector<std::pair<std::size_t, std::size_t>> bodies;  // function bodies' '{' and '}'

    bool is(std::size_t i, char c) const {
        return i < n_ && t_[i].kind == Kind::punct && t_[i].text[0] == c;
    }
    bool word(std::size_t i, std::string_view w) const {
        return i < n_ && t_[i].kind == Kind::ident && t_[i].text == w;
    }
    bool flag(std::size_t i, unsigned char f) const {
        return i < n_ && (words_.flags(t_[i].id) & f) != 0;
    }
    bool name_like(std::size_t i) const {
        return i < n_ && t_[i].kind == Kind::ident && !flag(i, keyword);
    }
    // `(`, `[` or `{` at i: the index past its partner (mismatched closers count too).
    std::size_t skip_group(std::size_t i) const {
        for (int depth = 0; i < n_; ++i) {
            if (t_[i].kind != Kind::punct) continue;
            const char c = t_[i].text[0];
            depth += c == '(' || c == '[' || c == '{';
            if ((c == ')' || c == ']' || c == '}') && --depth == 0) return i + 1;
        }
        return n_;
    }
    // `<` at i: the index past its `>`; stops before `;`, `{` or `}` if it was no template.
    std::size_t skip_angles(std::size_t i) const {
        for (int depth = 0; i < n_;) {
            if (is(i, '(') || is(i, '[')) {
                i = skip_group(i);
                continue;
            }
            if (is(i, ';') || is(i, '{') || is(i, '}')) return i;
            depth += is(i, '<') - is(i, '>');
            if (is(i++, '>') && depth == 0) return i;
        }
        return n_;
    }
    // The identifier naming the function whose parameter list opens at `params`.
    std::size_t name_before(std::size_t params) const {
        std::size_t p = params - 1;
        if (is(p, '>')) {  // `k<float>(` in an explicit specialisation
            for (int depth = 0; p > 0; --p)
                if ((depth += is(p, '>') - is(p, '<')) == 0) break;
            --p;
        }
        return name_like(p) ? p : npos;
    }

  private:
    std::size_t close(std::size_t i) const { return i < n_ ? i + 1 : n_; }
    std::string scope_;  // of the namespace being parsed, as KernelSite::scope

    std::size_t parse_scope(std::size_t i);
    // Whether `(` at j opens a parameter list rather than an attribute's arguments.
    bool opens_params(std::size_t j) const;
    bool is_assignment(std::size_t j) const;  // not ==, <=, +=, operator=
    // Whether the identifier at j is a name its declaration introduces. Over-approximates:
    // an extra name only costs speed, a missed one could hide a barrier.
    bool declares(std::size_t j) const;
    // The declaration that begins at `first`, recorded; the index past it.
    std::size_t parse_declaration(std::size_t first);

    const std::vector<Token>& t_;
    const Words& words_;
    const std::vector<char>& macros_;
    std::size_t n_;
    int depth_ = 0;
    std::vector<std::vector<int>> scratch_;
};

// Tokens as written, one space wherever the source had whitespace, a comment or a dropped
// token between two of them (never before `[`: `float a[]` spells `float[]`).
std::string join(const std::vector<Token>& t, const std::vector<std::size_t>& picked);

struct Piece {
    std::size_t begin, end, value;  // value: the default's '=', else end
    std::size_t name;               // the parameter's name, npos when it has none
};

// The parameters of the list whose '(' is at `open`; empty for `()` and `(void)`.
std::vector<Piece> split_params(const Parser& p, const std::vector<Token>& t, std::size_t open);

}  // namespace manycore::detail::source
