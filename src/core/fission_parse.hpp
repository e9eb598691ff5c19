// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The statements of one function body, for loop fission: a statement-level parser of CUDA C++
// tokens (expressions stay token ranges), the local variables it declares, and every mention
// of each variable, resolved by scope.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/source_lexer.hpp"

namespace manycore::detail::fission {

using source::Token;

/// Tokens [first, last) of the lexed text.
struct Range {
    std::size_t first = 0, last = 0;
    bool empty() const noexcept { return first >= last; }
};

enum class StmtKind {
    compound,
    if_,
    for_,
    range_for,
    while_,
    do_,
    switch_,
    return_,
    break_,
    continue_,
    goto_,
    label,  // `name:`, `case x:`, `default:`
    decl,
    type_decl,  // typedef, using, a struct or enum definition, static_assert
    expr,
    empty,
    other,  // asm, try: copied as they are
};

struct Declarator {
    std::size_t name = 0;  // token of the declared name
    Range prefix;          // `*`, `&`, `const`, `__restrict__` before the name
    Range dims;            // `[4][8]` after the name
    Range init;            // the initializer's tokens: after `=`, or the `(...)`/`{...}` itself
    char init_form = 0;    // '=', '(' or '{'; 0 without an initializer
    int var = -1;          // index in Body::vars
};

struct Stmt {
    StmtKind kind = StmtKind::empty;
    Range all;   // every token of the statement, `;` included
    Range head;  // if/while/switch/do: the condition inside the parentheses; for: the
                 // condition; return: the value; expr: the expression (no `;`)
    Range step;  // for: the increment
    int init = -1;  // for: its init statement (decl, expr or empty)
    int body = -1;  // if: then-branch; loops and switch: the body
    int else_ = -1;
    std::vector<int> children;  // compound
    // decl:
    Range type;  // the specifiers before the first declarator (`static const float`)
    std::vector<Declarator> declarators;
    bool is_shared = false;     // __shared__ (or extern __shared__)
    bool is_static = false;     // static, or a __shared__/__constant__ variable
    bool is_constexpr = false;  // constexpr
    bool is_const = false;      // const in the specifiers
    bool is_auto = false;       // auto in the specifiers
    int parent = -1;
};

struct Var {
    std::string name;
    int stmt = -1;            // the declaring statement; -1 for a parameter
    int declarator = -1;      // in that statement
    int depth = 0;            // scope depth (parameters: 0, the body's top level: 1)
    bool param = false;
    bool pointer_param = false;  // a parameter declared with `*` or `[]`
    bool array = false;          // declared with dimensions
    bool by_value_array_write = false;
};

/// One mention of a local variable or parameter.
struct Ref {
    std::size_t token = 0;
    int var = 0;
    bool write = false;  // assigned, incremented, or its address taken
};

struct Body {
    std::vector<Stmt> stmts;
    int root = -1;  // the body's compound statement
    std::vector<Var> vars;
    std::vector<Ref> refs;      // in token order
    std::vector<int> ref_of;    // per token: index in refs, -1 when it names no variable
    std::string error;          // why the body could not be read; empty when it was
    std::size_t error_token = 0;
};

/// Reads the body whose `{` is at token `open` of `t`, with the parameters whose `(` is at
/// `params` (npos for none). `text` is the text the tokens point into.
Body parse_body(std::string_view text, const std::vector<Token>& t, std::size_t params,
                std::size_t open);

/// The operator of one to three adjacent punctuation tokens at `i` (`+=`, `->`, `<<=`...),
/// or the single character.
std::string_view op_at(const std::vector<Token>& t, std::size_t i);

/// Whether tokens i and i+1 touch in the text (so `+` `=` is `+=`).
bool touching(const std::vector<Token>& t, std::size_t i);

}  // namespace manycore::detail::fission
