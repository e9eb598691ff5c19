// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// A statement-level parser of one function body: statements and declarations are read, while
// expressions stay token ranges; then every name is resolved to the local it means by scope.

#include "core/fission_parse.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace manycore::detail::fission {

using source::Kind;
using source::npos;

bool touching(const std::vector<Token>& t, std::size_t i) {
    return i + 1 < t.size() && t[i].end() == t[i + 1].begin;
}

std::string_view op_at(const std::vector<Token>& t, std::size_t i) {
    static constexpr std::array<std::string_view, 23> ops = {
        "<<=", ">>=", "...", "->", "::", "++", "--", "==", "!=", "<=", ">=", "&&",
        "||",  "+=",  "-=",  "*=", "/=", "%=", "&=", "|=", "^=", "<<", ">>"};
    if (i >= t.size() || t[i].kind != Kind::punct) return {};
    for (const std::string_view op : ops) {
        std::size_t k = 0;
        while (k < op.size() && i + k < t.size() && t[i + k].kind == Kind::punct &&
               t[i + k].text[0] == op[k] && (k == 0 || touching(t, i + k - 1)))
            ++k;
        if (k == op.size()) return op;
    }
    return t[i].text;
}

namespace {

bool one_of(std::string_view w, std::initializer_list<std::string_view> list) {
    return std::find(list.begin(), list.end(), w) != list.end();
}

// Words that may begin a declaration's specifiers without naming its type.
bool is_specifier(std::string_view w) {
    return one_of(w, {"const", "volatile", "static", "extern", "register", "constexpr", "inline",
                      "thread_local", "__shared__", "__constant__", "__device__", "__restrict__",
                      "typename", "mutable", "__managed__", "__forceinline__"});
}
bool is_builtin_type(std::string_view w) {
    return one_of(w, {"void", "bool", "char", "short", "int", "long", "float", "double",
                      "signed", "unsigned", "auto", "wchar_t", "char8_t", "char16_t",
                      "char32_t", "__int128"});
}
bool is_decorator(std::string_view w) {
    return one_of(w, {"*", "&", "const", "volatile", "__restrict__", "__restrict", "restrict"});
}

class BodyParser {
  public:
    BodyParser(std::string_view text, const std::vector<Token>& t, Body& out)
        : text_(text), t_(t), n_(t.size()), out_(out) {}

    void run(std::size_t params, std::size_t open) {
        if (params != npos) read_params(params);
        const std::size_t close = skip_group(open);
        if (close > n_ || !is(close - 1, '}')) return fail(open, "the body has no closing '}'");
        out_.root = parse_compound(open, -1);
        if (!out_.error.empty()) return;
        out_.ref_of.assign(n_, -1);
        scopes_.clear();
        scopes_.emplace_back();
        for (std::size_t v = 0; v < out_.vars.size(); ++v) scopes_.back()[out_.vars[v].name] = static_cast<int>(v);
        resolve(out_.root, 1);
        std::sort(out_.refs.begin(), out_.refs.end(),
                  [](const Ref& a, const Ref& b) { return a.token < b.token; });
        for (std::size_t r = 0; r < out_.refs.size(); ++r)
            out_.ref_of[out_.refs[r].token] = static_cast<int>(r);
    }

  private:
    // ---- tokens ----
    bool is(std::size_t i, char c) const {
        return i < n_ && t_[i].kind == Kind::punct && t_[i].text[0] == c;
    }
    bool word(std::size_t i, std::string_view w) const {
        return i < n_ && t_[i].kind == Kind::ident && t_[i].text == w;
    }
    bool ident(std::size_t i) const { return i < n_ && t_[i].kind == Kind::ident; }
    bool plain_ident(std::size_t i) const {
        if (!ident(i)) return false;
        const std::string_view w = t_[i].text;
        return !is_specifier(w) && !is_builtin_type(w) && !is_decorator(w) &&
               (source::classify(w) & source::keyword) == 0;
    }
    std::size_t skip_group(std::size_t i) const {
        for (int depth = 0; i < n_; ++i) {
            if (t_[i].kind != Kind::punct) continue;
            const char c = t_[i].text[0];
            depth += c == '(' || c == '[' || c == '{';
            if ((c == ')' || c == ']' || c == '}') && --depth == 0) return i + 1;
        }
        return n_ + 1;
    }
    // `<` at i: past its `>`, or i itself when it is no template argument list.
    std::size_t skip_angles(std::size_t i) const {
        for (int depth = 0, k = static_cast<int>(i); static_cast<std::size_t>(k) < n_;) {
            const std::size_t j = static_cast<std::size_t>(k);
            if (is(j, '(') || is(j, '[')) {
                k = static_cast<int>(skip_group(j));
                continue;
            }
            if (is(j, ';') || is(j, '{') || is(j, '}') || is(j, ')')) return i;
            depth += is(j, '<') - is(j, '>');
            ++k;
            if (is(j, '>') && depth == 0) return static_cast<std::size_t>(k);
        }
        return i;
    }
    // The `;` that ends the statement starting at i (npos when there is none before `end`).
    std::size_t semicolon(std::size_t i, std::size_t end) const {
        while (i < end) {
            if (is(i, ';')) return i;
            if (is(i, '}') || is(i, ')') || is(i, ']')) return npos;
            i = is(i, '(') || is(i, '[') || is(i, '{') ? skip_group(i) : i + 1;
        }
        return npos;
    }
    // The `:` ending a label or case (not part of `::`), npos if none before `;` or `{`.
    std::size_t label_colon(std::size_t i) const {
        while (i < n_) {
            if (is(i, ';') || is(i, '{') || is(i, '}')) return npos;
            if (is(i, ':')) {
                if (touching(t_, i) && is(i + 1, ':')) {
                    i += 2;
                    continue;
                }
                return i;
            }
            i = is(i, '(') || is(i, '[') ? skip_group(i) : i + 1;
        }
        return npos;
    }

    void fail(std::size_t at, std::string why) {
        if (!out_.error.empty()) return;
        out_.error = std::move(why);
        out_.error_token = std::min(at, n_ == 0 ? 0 : n_ - 1);
    }

    int add(Stmt s) {
        out_.stmts.push_back(std::move(s));
        return static_cast<int>(out_.stmts.size()) - 1;
    }

    // ---- parameters ----
    void read_params(std::size_t open) {
        const std::size_t close = skip_group(open) - 1;
        std::size_t start = open + 1;
        for (std::size_t i = open + 1; i <= close && i < n_; ++i) {
            const bool end = i == close || (is(i, ',') );
            if (!end) {
                if (is(i, '(') || is(i, '[') || is(i, '{')) i = skip_group(i) - 1;
                else if (is(i, '<')) i = std::max(i, skip_angles(i) - 1);
                continue;
            }
            std::size_t name = npos;
            bool pointer = false;
            for (std::size_t k = start; k < i; ++k) {
                if (is(k, '=')) break;
                if (is(k, '*') || is(k, '[')) pointer = true;
                if (plain_ident(k) && !(is(k + 1, ':') && touching(t_, k))) name = k;
            }
            if (name != npos) {
                Var v;
                v.name = std::string(t_[name].text);
                v.param = true;
                v.pointer_param = pointer;
                out_.vars.push_back(std::move(v));
            }
            start = i + 1;
        }
    }

    // ---- statements ----
    int parse_compound(std::size_t open, int parent) {
        Stmt s;
        s.kind = StmtKind::compound;
        s.parent = parent;
        const std::size_t close = skip_group(open) - 1;
        s.all = {open, close + 1};
        const int id = add(std::move(s));
        std::size_t i = open + 1;
        while (i < close && out_.error.empty()) {
            std::size_t next = i;
            const int child = parse_statement(i, close, id, next);
            if (child < 0) break;
            out_.stmts[id].children.push_back(child);
            i = next;
        }
        return id;
    }

    // A statement within [i, end); `next` gets the index past it.
    int parse_statement(std::size_t i, std::size_t end, int parent, std::size_t& next) {
        if (i >= end) {
            fail(i, "a statement is missing");
            return -1;
        }
        Stmt s;
        s.parent = parent;
        const std::string_view w = ident(i) ? t_[i].text : std::string_view{};
        if (is(i, '{')) {
            const int id = parse_compound(i, parent);
            next = out_.stmts[id].all.last;
            return id;
        }
        if (is(i, ';')) {
            s.kind = StmtKind::empty;
            s.all = {i, i + 1};
            next = i + 1;
            return add(std::move(s));
        }
        if (w == "if") {
            std::size_t p = i + 1;
            if (word(p, "constexpr")) ++p;
            if (!is(p, '(')) return fail(p, "'if' without '('"), -1;
            const std::size_t close = skip_group(p) - 1;
            s.kind = StmtKind::if_;
            s.head = {p + 1, close};
            const int id = add(std::move(s));
            std::size_t after = close + 1;
            const int then = parse_statement(after, end, id, after);
            if (then < 0) return -1;
            out_.stmts[id].body = then;
            if (word(after, "else")) {
                const int other = parse_statement(after + 1, end, id, after);
                if (other < 0) return -1;
                out_.stmts[id].else_ = other;
            }
            out_.stmts[id].all = {i, after};
            next = after;
            return id;
        }
        if (w == "for") {
            if (!is(i + 1, '(')) return fail(i, "'for' without '('"), -1;
            const std::size_t close = skip_group(i + 1) - 1;
            const std::size_t semi1 = semicolon(i + 2, close);
            s.all.first = i;
            if (semi1 == npos) {
                s.kind = StmtKind::range_for;
                s.head = {i + 2, close};
                const int id = add(std::move(s));
                std::size_t after = close + 1;
                const int body = parse_statement(after, end, id, after);
                if (body < 0) return -1;
                out_.stmts[id].body = body;
                out_.stmts[id].all.last = after;
                next = after;
                return id;
            }
            const std::size_t semi2 = semicolon(semi1 + 1, close);
            if (semi2 == npos) return fail(i, "a 'for' header without two ';'"), -1;
            s.kind = StmtKind::for_;
            s.head = {semi1 + 1, semi2};
            s.step = {semi2 + 1, close};
            const int id = add(std::move(s));
            const int init = parse_simple(i + 2, semi1, id);
            if (init < 0) return -1;
            out_.stmts[id].init = init;
            std::size_t after = close + 1;
            const int body = parse_statement(after, end, id, after);
            if (body < 0) return -1;
            out_.stmts[id].body = body;
            out_.stmts[id].all.last = after;
            next = after;
            return id;
        }
        if (w == "while" || w == "switch") {
            if (!is(i + 1, '(')) return fail(i, "'" + std::string(w) + "' without '('"), -1;
            const std::size_t close = skip_group(i + 1) - 1;
            s.kind = w == "while" ? StmtKind::while_ : StmtKind::switch_;
            s.head = {i + 2, close};
            s.all.first = i;
            const int id = add(std::move(s));
            std::size_t after = close + 1;
            const int body = parse_statement(after, end, id, after);
            if (body < 0) return -1;
            out_.stmts[id].body = body;
            out_.stmts[id].all.last = after;
            next = after;
            return id;
        }
        if (w == "do") {
            s.kind = StmtKind::do_;
            s.all.first = i;
            const int id = add(std::move(s));
            std::size_t after = i + 1;
            const int body = parse_statement(after, end, id, after);
            if (body < 0) return -1;
            if (!word(after, "while") || !is(after + 1, '('))
                return fail(after, "'do' without 'while ('"), -1;
            const std::size_t close = skip_group(after + 1) - 1;
            if (!is(close + 1, ';')) return fail(close, "'do ... while (...)' without ';'"), -1;
            out_.stmts[id].body = body;
            out_.stmts[id].head = {after + 2, close};
            out_.stmts[id].all.last = close + 2;
            next = close + 2;
            return id;
        }
        if (w == "return" || w == "break" || w == "continue" || w == "goto") {
            const std::size_t semi = semicolon(i + 1, end);
            if (semi == npos) return fail(i, "'" + std::string(w) + "' without ';'"), -1;
            s.kind = w == "return"  ? StmtKind::return_
                     : w == "break" ? StmtKind::break_
                     : w == "goto"  ? StmtKind::goto_
                                    : StmtKind::continue_;
            s.head = {i + 1, semi};
            s.all = {i, semi + 1};
            next = semi + 1;
            return add(std::move(s));
        }
        if (w == "case" || w == "default" ||
            (plain_ident(i) && is(i + 1, ':') && !(touching(t_, i + 1) && is(i + 2, ':')))) {
            const std::size_t colon = w == "case" || w == "default" ? label_colon(i + 1) : i + 1;
            if (colon == npos) return fail(i, "a label without ':'"), -1;
            s.kind = StmtKind::label;
            s.head = {i + 1, colon};
            s.all = {i, colon + 1};
            next = colon + 1;
            return add(std::move(s));
        }
        if (w == "try") {
            std::size_t after = i + 1;
            if (!is(after, '{')) return fail(i, "'try' without a block"), -1;
            after = skip_group(after);
            while (word(after, "catch") && is(after + 1, '(')) {
                after = skip_group(after + 1);
                if (!is(after, '{')) return fail(after, "'catch' without a block"), -1;
                after = skip_group(after);
            }
            s.kind = StmtKind::other;
            s.all = {i, after};
            next = after;
            return add(std::move(s));
        }
        const std::size_t semi = simple_end(i, end);
        if (semi == npos) return fail(i, "a statement without ';'"), -1;
        const int id = parse_simple(i, semi, parent);
        next = semi + 1;
        return id;
    }

    // Where a declaration, expression or type declaration starting at i ends: its `;`.
    std::size_t simple_end(std::size_t i, std::size_t end) const { return semicolon(i, end); }

    // A declaration, expression statement or empty statement on [i, semi), semi being its ';'
    // (or the ';' of a for header).
    int parse_simple(std::size_t i, std::size_t semi, int parent) {
        Stmt s;
        s.parent = parent;
        s.all = {i, semi + 1};
        if (i == semi) {
            s.kind = StmtKind::empty;
            return add(std::move(s));
        }
        const std::string_view w = ident(i) ? t_[i].text : std::string_view{};
        if (w == "typedef" || w == "using" || w == "static_assert" ||
            ((w == "struct" || w == "class" || w == "union" || w == "enum") && defines_type(i, semi))) {
            s.kind = StmtKind::type_decl;
            return add(std::move(s));
        }
        if (w == "asm" || w == "__asm__" || w == "__asm") {
            s.kind = StmtKind::other;
            return add(std::move(s));
        }
        if (looks_like_decl(i, semi)) {
            s.kind = StmtKind::decl;
            if (!parse_declaration(i, semi, s)) return -1;
            return add(std::move(s));
        }
        s.kind = StmtKind::expr;
        s.head = {i, semi};
        return add(std::move(s));
    }

    bool defines_type(std::size_t i, std::size_t semi) const {
        for (std::size_t k = i + 1; k < semi; ++k) {
            if (is(k, '{')) return true;
            if (!ident(k) && !(is(k, ':'))) return false;
        }
        return false;
    }

    // Past the type-like name at i: `a::b<c>::d`; i itself when there is none.
    std::size_t skip_type_name(std::size_t i, std::size_t end) const {
        if (!plain_ident(i) && !(is(i, ':') && touching(t_, i) && is(i + 1, ':'))) return i;
        std::size_t k = i;
        if (is(k, ':')) k += 2;
        for (;;) {
            if (!ident(k)) return i;
            ++k;
            if (is(k, '<')) {
                const std::size_t past = skip_angles(k);
                if (past == k) return k;
                k = past;
            }
            if (k + 1 < end && is(k, ':') && touching(t_, k) && is(k + 1, ':')) {
                k += 2;
                if (word(k, "template")) ++k;
                continue;
            }
            return k;
        }
    }

    bool looks_like_decl(std::size_t i, std::size_t semi) const {
        std::size_t j = i;
        bool specifiers = false;
        while (j < semi && ident(j) && is_specifier(t_[j].text)) ++j, specifiers = true;
        if (j >= semi) return false;
        if (ident(j) && (is_builtin_type(t_[j].text) ||
                         one_of(t_[j].text, {"struct", "class", "union", "enum"})))
            return true;
        if (word(j, "decltype")) return true;
        if (specifiers) return true;
        const std::size_t k0 = skip_type_name(j, semi);
        if (k0 == j) return false;
        std::size_t k = k0;
        while (k < semi && (is(k, '*') || is(k, '&') ||
                            (ident(k) && is_decorator(t_[k].text))))
            ++k;
        if (!plain_ident(k)) return false;
        if (k + 1 >= semi) return k + 1 == semi;
        const std::string_view op = op_at(t_, k + 1);
        return op == "=" || op == "," || op == "[" || op == "(" || op == "{";
    }

    // Reads `specifiers declarator [, declarator]...` of [i, semi) into s.
    bool parse_declaration(std::size_t i, std::size_t semi, Stmt& s) {
        // The type part ends where the first declarator begins: at its decorators, else at
        // its name, the first plain identifier after a type that a declarator may follow.
        std::size_t j = i;
        bool type_seen = false;
        std::size_t name = npos;
        while (j < semi) {
            if (ident(j) && is_specifier(t_[j].text)) {
                const std::string_view w = t_[j].text;
                s.is_shared |= w == "__shared__";
                s.is_static |= w == "static" || w == "__shared__" || w == "__constant__";
                s.is_constexpr |= w == "constexpr";
                s.is_const |= w == "const" || w == "constexpr";
                ++j;
                continue;
            }
            if (ident(j) && (t_[j].text == "__attribute__" || t_[j].text == "__align__" ||
                             t_[j].text == "alignas" || t_[j].text == "decltype") &&
                is(j + 1, '(')) {
                type_seen |= t_[j].text == "decltype";
                j = skip_group(j + 1);
                continue;
            }
            if (ident(j) && is_builtin_type(t_[j].text)) {
                s.is_auto |= t_[j].text == "auto";
                type_seen = true;
                ++j;
                continue;
            }
            if (ident(j) && one_of(t_[j].text, {"struct", "class", "union", "enum"})) {
                ++j;
                continue;
            }
            if (is(j, '*') || is(j, '&')) break;
            if (type_seen && plain_ident(j)) {
                name = j;
                break;
            }
            const std::size_t past = skip_type_name(j, semi);
            if (past == j) break;
            type_seen = true;
            j = past;
        }
        if (!type_seen) return fail(i, "a declaration without a type"), false;
        s.type = {i, j};
        while (j < semi) {
            Declarator d;
            const std::size_t prefix = j;
            while (j < semi && (is(j, '*') || is(j, '&') || (ident(j) && is_decorator(t_[j].text))))
                ++j;
            d.prefix = {prefix, j};
            if (!plain_ident(j)) return fail(j, "a declarator manycore cannot read"), false;
            d.name = j++;
            const std::size_t dims = j;
            while (is(j, '[')) j = skip_group(j);
            d.dims = {dims, j};
            if (is(j, '=') && !(touching(t_, j) && is(j + 1, '='))) {
                const std::size_t from = ++j;
                while (j < semi && !is(j, ',')) j = is(j, '(') || is(j, '[') || is(j, '{') ? skip_group(j) : j + 1;
                d.init = {from, j};
                d.init_form = '=';
            } else if (is(j, '(') || is(j, '{')) {
                d.init_form = t_[j].text[0];
                const std::size_t from = j;
                j = skip_group(j);
                d.init = {from, j};
            }
            if (j > semi) return fail(i, "a declaration manycore cannot read"), false;
            s.declarators.push_back(d);
            if (j < semi && !is(j, ',')) return fail(j, "a declarator manycore cannot read"), false;
            ++j;
        }
        (void)name;
        return !s.declarators.empty() || (fail(i, "a declaration without a name"), false);
    }

    // ---- names ----
    int lookup(std::string_view name) const {
        for (auto s = scopes_.rbegin(); s != scopes_.rend(); ++s) {
            const auto it = s->find(std::string(name));
            if (it != s->end()) return it->second;
        }
        return -1;
    }
    void declare(int stmt, int declarator, std::size_t token, int depth) {
        Var v;
        v.name = std::string(t_[token].text);
        v.stmt = stmt;
        v.declarator = declarator;
        v.depth = depth;
        if (declarator >= 0) v.array = !out_.stmts[stmt].declarators[declarator].dims.empty();
        const int id = static_cast<int>(out_.vars.size());
        out_.vars.push_back(std::move(v));
        if (declarator >= 0) out_.stmts[stmt].declarators[declarator].var = id;
        scopes_.back()[std::string(t_[token].text)] = id;
    }

    bool unary_context(std::size_t i) const {  // the token before i ends no operand
        if (i == 0) return true;
        const Token& p = t_[i - 1];
        if (p.kind == Kind::number || p.kind == Kind::literal) return false;
        if (p.kind == Kind::ident) return (source::classify(p.text) & source::keyword) != 0 &&
                                          p.text != "this";
        return !(p.text[0] == ')' || p.text[0] == ']');
    }

    bool is_write(std::size_t k, int var) const {
        const Var& v = out_.vars[static_cast<std::size_t>(var)];
        // Before: ++x, --x, &x.
        if (k >= 2 && touching(t_, k - 2) && (op_at(t_, k - 2) == "++" || op_at(t_, k - 2) == "--"))
            return true;
        if (k >= 1 && is(k - 1, '&') && !(k >= 2 && is(k - 2, '&') && touching(t_, k - 2)) &&
            unary_context(k - 1))
            return true;
        // After: subscripts and members, then an assignment or ++/--.
        std::size_t j = k + 1;
        bool through_pointer = false;
        for (;;) {
            if (is(j, '[')) {
                if (!v.array) through_pointer = true;
                j = skip_group(j);
            } else if (is(j, '.') && ident(j + 1)) {
                j += 2;
            } else if (op_at(t_, j) == "->") {
                through_pointer = true;
                j += 3;
            } else {
                break;
            }
        }
        if (through_pointer) return false;
        const std::string_view op = op_at(t_, j);
        if (op == "++" || op == "--") return true;
        if (op.size() >= 2 && op.back() == '=' && op != "==" && op != "!=" && op != "<=" && op != ">=")
            return true;
        return op == "=" && !(touching(t_, j) && is(j + 1, '='));
    }

    void refs_in(Range r) {
        for (std::size_t k = r.first; k < r.last && k < n_; ++k) {
            if (!plain_ident(k)) continue;
            if (k >= 1 && is(k - 1, '.')) continue;
            if (k >= 2 && is(k - 1, '>') && is(k - 2, '-') && touching(t_, k - 2)) continue;
            if (k >= 2 && is(k - 1, ':') && is(k - 2, ':') && touching(t_, k - 2)) continue;
            if (is(k + 1, ':') && touching(t_, k) && is(k + 2, ':')) continue;
            const int var = lookup(t_[k].text);
            if (var < 0) continue;
            out_.refs.push_back(Ref{k, var, is_write(k, var)});
        }
    }

    void resolve(int id, int depth) {
        if (id < 0) return;
        // By index: out_.stmts does not grow any more, but keep no reference across calls.
        switch (out_.stmts[id].kind) {
            case StmtKind::compound: {
                scopes_.emplace_back();
                for (const int c : std::vector<int>(out_.stmts[id].children)) resolve(c, depth + 1);
                scopes_.pop_back();
                break;
            }
            case StmtKind::if_: {
                refs_in(out_.stmts[id].head);
                scoped(out_.stmts[id].body, depth);
                scoped(out_.stmts[id].else_, depth);
                break;
            }
            case StmtKind::for_: {
                scopes_.emplace_back();
                resolve(out_.stmts[id].init, depth + 1);
                refs_in(out_.stmts[id].head);
                refs_in(out_.stmts[id].step);
                scoped(out_.stmts[id].body, depth + 1);
                scopes_.pop_back();
                break;
            }
            case StmtKind::range_for: {
                scopes_.emplace_back();
                const Range h = out_.stmts[id].head;
                std::size_t colon = label_colon(h.first);
                if (colon == npos || colon >= h.last) colon = h.last;
                refs_in({colon, h.last});
                for (std::size_t k = colon; k > h.first; --k) {
                    if (plain_ident(k - 1)) {
                        declare(id, -1, k - 1, depth + 1);
                        break;
                    }
                }
                scoped(out_.stmts[id].body, depth + 1);
                scopes_.pop_back();
                break;
            }
            case StmtKind::while_:
            case StmtKind::switch_:
                refs_in(out_.stmts[id].head);
                scoped(out_.stmts[id].body, depth);
                break;
            case StmtKind::do_:
                scoped(out_.stmts[id].body, depth);
                refs_in(out_.stmts[id].head);
                break;
            case StmtKind::decl: {
                const std::size_t nd = out_.stmts[id].declarators.size();
                refs_in(out_.stmts[id].type);
                for (std::size_t d = 0; d < nd; ++d) {
                    const Declarator dc = out_.stmts[id].declarators[d];
                    refs_in(dc.dims);
                    declare(id, static_cast<int>(d), dc.name, depth);
                    refs_in(dc.init);
                }
                break;
            }
            case StmtKind::label:
            case StmtKind::return_:
            case StmtKind::expr:
                refs_in(out_.stmts[id].head);
                break;
            case StmtKind::type_decl:
            case StmtKind::other:
                refs_in(out_.stmts[id].all);
                break;
            default:
                break;
        }
    }
    // A branch or loop body is a scope of its own even when it is no compound statement.
    void scoped(int id, int depth) {
        if (id < 0) return;
        scopes_.emplace_back();
        resolve(id, depth + 1);
        scopes_.pop_back();
    }

    std::string_view text_;
    const std::vector<Token>& t_;
    std::size_t n_;
    Body& out_;
    std::vector<std::unordered_map<std::string, int>> scopes_;
};

}  // namespace

Body parse_body(std::string_view text, const std::vector<Token>& t, std::size_t params,
                std::size_t open) {
    Body body;
    BodyParser(text, t, body).run(params, open);
    return body;
}

}  // namespace manycore::detail::fission
