// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The declaration-level parser of CUDA C++ tokens, and the parameter lists it finds.

#include "core/source_parser.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace manycore::detail::source {

std::size_t Parser::parse_scope(std::size_t i) {
    ++depth_;
    while (i < n_ && !is(i, '}')) i = parse_declaration(i);
    --depth_;
    return i;
}

bool Parser::opens_params(std::size_t j) const {
    if (j == 0) return false;
    if (t_[j - 1].kind == Kind::ident)
        return !flag(j - 1, attribute) && !(word(j - 1, "operator") && is(j + 1, ')'));
    if (is(j - 1, '>')) return true;
    for (std::size_t back = 2; back <= 4 && back <= j; ++back)
        if (word(j - back, "operator")) return true;  // operator()(, operator+(
    return false;
}

bool Parser::is_assignment(std::size_t j) const {
    const auto touching = [&](std::size_t a) {
        return t_[a].kind == Kind::punct && t_[a].end() == t_[a + 1].begin;
    };
    if ((is(j + 1, '=') && touching(j)) || word(j - 1, "operator")) return false;
    return !touching(j - 1) || !std::strchr("=!<>+-*/%&|^", t_[j - 1].text[0]);
}

bool Parser::declares(std::size_t j) const {
    if (flag(j, keyword)) return false;
    if (j > 0 && (word(j - 1, "using") || word(j - 1, "namespace") || flag(j - 1, class_key)))
        return true;
    if (j + 1 >= n_) return true;
    if (t_[j + 1].kind != Kind::punct) return false;
    if (std::strchr(";,=[{}(", t_[j + 1].text[0])) return true;
    if (is(j + 1, ':')) return !is(j + 2, ':');
    const std::size_t k = is(j + 1, '<') ? skip_angles(j + 1) : npos;  // f<int>( S<int> {
    return is(k, '(') || is(k, '{') || is(k, ';') || (is(k, ':') && !is(k + 1, ':'));
}

std::size_t Parser::parse_declaration(std::size_t first) {
    std::size_t i = first;
    if (is(i, ';')) return i + 1;
    const bool nest = depth_ < max_scope_depth;
    if (word(i, "namespace")) {
        std::size_t j = i + 1;
        while (j < n_ && !is(j, '{') && !is(j, ';') && !is(j, '=') && !is(j, '}')) ++j;
        if (is(j, '{') && nest) {
            // Kernels inside are named through it (`a::b::k`); an unnamed one adds nothing.
            const std::size_t outer = scope_.size();
            for (std::size_t k = i + 1; k < j; ++k) scope_ += t_[k].text;
            if (scope_.size() > outer) scope_ += "::";
            const std::size_t end = close(parse_scope(j + 1));
            scope_.resize(outer);
            return end;
        }
    }
    if (word(i, "extern") && i + 2 < n_ && t_[i + 1].kind == Kind::literal && is(i + 2, '{') &&
        nest)
        return close(parse_scope(i + 3));  // extern "C" { ... }
    if ((word(i, "public") || word(i, "private") || word(i, "protected")) && is(i + 1, ':'))
        return i + 2;
    bool is_template = false;
    while (word(i, "template") && is(i + 1, '<')) {
        is_template = true;
        i = skip_angles(i + 1);
    }
    const std::size_t head = i;
    // A buffer per nesting depth: a class's members are parsed while it is.
    std::vector<int>& entity_names = scratch_[depth_];
    entity_names.clear();
    std::size_t params = npos, kernel_params = npos, global = npos, body = npos, end = n_;
    std::size_t device = npos;
    bool saw_class_key = false, assigned = false, mem_init = false, is_operator = false;
    for (std::size_t j = head; j < n_;) {
        if (t_[j].kind != Kind::punct) {
            if (word(j, "__global__")) global = j;
            if (word(j, "__device__") && params == npos) device = j;
            is_operator |= word(j, "operator");
            saw_class_key |= !assigned && params == npos && flag(j, class_key);
            if (t_[j].kind == Kind::ident && !assigned && declares(j))
                entity_names.push_back(t_[j].id);
            ++j;
            continue;
        }
        const char c = t_[j].text[0];
        if (c == ';' || c == '}') {
            end = c == ';' ? j + 1 : j;
            break;
        }
        const bool declarator = !assigned && (is(j + 1, '*') || is(j + 1, '&'));
        if (c == '(' && (declarator || (j > 0 && t_[j - 1].id >= 0 && macros_[t_[j - 1].id]))) {
            // `void (*fp)(int)` declares fp; DEFINE_HELPER(name) may define name.
            for (std::size_t k = j, e = skip_group(j); k < e; ++k)
                if (name_like(k)) entity_names.push_back(t_[k].id);
        } else if (c == '(' && !assigned && !mem_init && opens_params(j)) {
            if (params == npos) params = j;
            if (global != npos && kernel_params == npos) kernel_params = j;
        }
        if (c == '<' && !assigned && j > head && t_[j - 1].kind == Kind::ident &&
            !word(j - 1, "operator")) {
            j = skip_angles(j);
            continue;
        }
        if (c == '=' && !assigned && j > 0) assigned = is_assignment(j);
        // A constructor's `: a(1), b{2} {`: only a brace after `)` or `}` is the body.
        if (c == ':' && params != npos && !is(j + 1, ':') && !is(j - 1, ':')) mem_init = true;
        if (c == '{' && saw_class_key && params == npos && !assigned && nest) {
            j = close(parse_scope(j + 1));
            continue;
        }
        if (c == '{' && params != npos && !assigned &&
            !(mem_init && (name_like(j - 1) || is(j - 1, '>')))) {
            body = j;
            end = skip_group(j);
            break;
        }
        j = c == '(' || c == '[' || c == '{' ? skip_group(j) : j + 1;
    }
    end = std::max(end, first + 1);
    if (body != npos) {
        bodies.emplace_back(body, end - 1);
        // `void A::B::f()` is reached through A and B as well.
        for (std::size_t p = name_before(params);
             p != npos && p >= 3 && is(p - 1, ':') && is(p - 2, ':') && name_like(p - 3);
             p -= 3)
            entity_names.push_back(t_[p - 3].id);
        const std::size_t name = kernel_params == npos ? npos : name_before(kernel_params);
        if (global != npos && name != npos)
            kernels.push_back({name, kernel_params, first, end, is_template, scope_});
    } else if (global != npos && kernel_params != npos) {
        prototypes.push_back(kernel_params);
    }
    if (device != npos && global == npos && params != npos && !is_operator)
        (is_template ? template_helpers : helpers).push_back(params);
    if (is_operator) {  // `a + b` never names operator+: its parameters' types stand in
        for (std::size_t j = head; j < std::min(end, body); ++j) {
            const bool parameter_name =
                (is(j + 1, ',') || is(j + 1, ')') || is(j + 1, '=') || is(j + 1, '[')) &&
                (name_like(j - 1) || is(j - 1, '*') || is(j - 1, '&') || is(j - 1, '>'));
            if (name_like(j) && !parameter_name) entity_names.push_back(t_[j].id);
        }
    }
    if (!entity_names.empty()) {
        entities.push_back({first, end, names.size(), names.size() + entity_names.size()});
        names.insert(names.end(), entity_names.begin(), entity_names.end());
    }
    return end;
}

std::string join(const std::vector<Token>& t, const std::vector<std::size_t>& picked) {
    std::string out;
    for (std::size_t k = 0; k < picked.size(); ++k) {
        const Token& tk = t[picked[k]];
        if (k > 0 && t[picked[k - 1]].end() < tk.begin && tk.text != "[") out.push_back(' ');
        out.append(tk.text);
    }
    return out;
}

std::vector<Piece> split_params(const Parser& p, const std::vector<Token>& t, std::size_t open) {
    std::vector<Piece> pieces;
    const std::size_t close = p.skip_group(open) - 1;
    std::size_t begin = open + 1, value = npos, last_angle = open;
    for (std::size_t j = open + 1; j < close; ++j)
        if (p.is(j, '>')) last_angle = j;
    int depth = 0, angle = 0;
    for (std::size_t j = open + 1; j <= close && j < t.size(); ++j) {
        const char c = t[j].kind == Kind::punct ? t[j].text[0] : '\0';
        if (c == ',' && j > last_angle) angle = 0;  // `a < b, ...` was no template after all
        if (j == close || (c == ',' && depth == 0 && angle == 0)) {
            pieces.push_back({begin, j, value == npos ? j : value, npos});
            begin = j + 1, value = npos, angle = 0;
            continue;
        }
        depth += (c == '(' || c == '[' || c == '{') - (c == ')' || c == ']' || c == '}');
        if (c == '<' && p.is(j + 1, '<') && t[j + 1].begin == t[j].begin + 1) {
            ++j;  // a shift, never a template
            continue;
        }
        if (c == '<' && depth == 0 && t[j - 1].kind == Kind::ident) ++angle;
        if (c == '>' && depth == 0 && angle > 0) --angle;
        if (c == '=' && depth == 0 && angle == 0 && value == npos) value = j;
    }
    if (pieces.size() == 1 &&
        (pieces[0].begin == pieces[0].end ||
         (pieces[0].end == pieces[0].begin + 1 && p.word(pieces[0].begin, "void"))))
        return {};  // `()` or `(void)`
    for (Piece& piece : pieces) {
        std::size_t stop = piece.value;  // the name comes before array extents: `float a[]`
        for (int d = 0; stop > piece.begin && (d > 0 || p.is(stop - 1, ']')); --stop)
            d += p.is(stop - 1, ']') - p.is(stop - 1, '[');
        std::size_t name = npos;
        const std::size_t last = stop - 1;
        if (stop > piece.begin && p.name_like(last) && !p.is(last - 1, ':') &&
            !p.is(last - 1, '.')) {
            for (std::size_t k = piece.begin; k < last && name == npos; ++k)
                if (t[k].kind == Kind::ident && !p.flag(k, qualifier)) name = last;  // has a type
        }
        piece.name = name;
    }
    return pieces;
}

}  // namespace manycore::detail::source
