// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Writes the __device__ helpers that reach a barrier into the kernel that calls them.

#include "core/fission_inline.hpp"

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "core/fission_parse.hpp"

namespace manycore::detail::fission {

using source::Kind;
using source::npos;
using source::Token;

void MappedText::put(std::string_view s, int line, bool advance) {
    if (s.empty()) return;
    if (line_of.size() == 1) line_of.push_back(line);
    int current = advance ? line : line_of.back();
    for (const char c : s) {
        if (c != '\n') continue;
        current = advance ? current + 1 : line;
        line_of.push_back(current);
    }
    text += s;
}

std::string_view span_text(std::string_view source, const std::vector<Token>& t, std::size_t first,
                           std::size_t last) {
    if (first >= last) return {};
    return source.substr(t[first].begin, t[last - 1].end() - t[first].begin);
}

namespace {

// Copies text[b, e) of `src` into `out`, each line keeping the source line it had.
void copy_mapped(const MappedText& src, std::size_t b, std::size_t e, MappedText& out) {
    if (b >= e) return;
    int line = 1 + static_cast<int>(std::count(src.text.begin(), src.text.begin() + static_cast<std::ptrdiff_t>(b), '\n'));
    std::size_t from = b;
    for (std::size_t i = b; i < e; ++i) {
        if (src.text[i] != '\n') continue;
        out.put(std::string_view(src.text).substr(from, i - from), src.line_of[static_cast<std::size_t>(line)], false);
        out.text += '\n';
        out.line_of.push_back(src.line_of[static_cast<std::size_t>(std::min(line + 1, src.lines()))]);
        ++line;
        from = i + 1;
    }
    if (from < e) {
        const int l = src.line_of[static_cast<std::size_t>(line)];
        if (out.line_of.size() == 1) out.line_of.push_back(l);
        out.text.append(src.text, from, e - from);
    }
}

bool is(const std::vector<Token>& t, std::size_t i, char c) {
    return i < t.size() && t[i].kind == Kind::punct && t[i].text[0] == c;
}

std::size_t skip_group(const std::vector<Token>& t, std::size_t i) {
    for (int depth = 0; i < t.size(); ++i) {
        if (t[i].kind != Kind::punct) continue;
        const char c = t[i].text[0];
        depth += c == '(' || c == '[' || c == '{';
        if ((c == ')' || c == ']' || c == '}') && --depth == 0) return i + 1;
    }
    return t.size();
}

std::size_t skip_angles(const std::vector<Token>& t, std::size_t i) {
    for (int depth = 0; i < t.size();) {
        if (is(t, i, '(') || is(t, i, '[')) {
            i = skip_group(t, i);
            continue;
        }
        if (is(t, i, ';') || is(t, i, '{') || is(t, i, '}')) return npos;
        depth += is(t, i, '<') - is(t, i, '>');
        if (is(t, i++, '>') && depth == 0) return i;
    }
    return npos;
}

// Splits (a, b<c, d>, e) at its top-level commas: the ranges of each item, for the group
// whose opener is at `open` and closer at `close`.
std::vector<Range> split_list(const std::vector<Token>& t, std::size_t open, std::size_t close,
                              bool angles) {
    std::vector<Range> items;
    std::size_t start = open + 1;
    for (std::size_t i = open + 1; i < close;) {
        if (is(t, i, ',')) {
            items.push_back({start, i});
            start = ++i;
        } else if (is(t, i, '(') || is(t, i, '[') || is(t, i, '{')) {
            i = skip_group(t, i);
        } else if (angles && is(t, i, '<')) {
            const std::size_t past = skip_angles(t, i);
            i = past == npos ? i + 1 : past;
        } else {
            ++i;
        }
    }
    if (start < close) items.push_back({start, close});
    return items;
}

bool plain_name(const Token& tk) {
    return tk.kind == Kind::ident && (source::classify(tk.text) & source::keyword) == 0;
}

// The last plain identifier of [r.first, r.last) before any `=`: a parameter's name.
std::size_t param_name(const std::vector<Token>& t, Range r) {
    std::size_t name = npos;
    for (std::size_t k = r.first; k < r.last; ++k) {
        if (is(t, k, '=')) break;
        if (plain_name(t[k])) name = k;
    }
    return name;
}

struct TemplateParam {
    std::string name;
    Range default_value;
};

struct Failure {
    std::string what;
    int line = 0;
};

class Inliner {
  public:
    Inliner(std::string_view source, const std::vector<Token>& t,
            const std::unordered_map<std::string, Helper>& helpers)
        : source_(source), t_(t), helpers_(helpers) {}

    // Writes one call into `cur`; false (and no change) when the kernel calls no helper.
    bool step(MappedText& cur, std::size_t params, int round, Failure& failure) {
        source::Words words;
        const source::Lexed lx = source::lex(cur.text, words);
        const std::vector<Token>& k = lx.code;
        if (params >= k.size() || !is(k, params, '(')) {
            failure = {"the kernel's parameter list moved", 0};
            return false;
        }
        std::size_t open = skip_group(k, params);
        while (open < k.size() && !is(k, open, '{')) ++open;
        const Body body = parse_body(cur.text, k, params, open);
        if (!body.error.empty()) {
            failure = {body.error, line_of(cur, k, body.error_token)};
            return false;
        }
        for (std::size_t i = open; i < k.size(); ++i) {
            if (k[i].kind != Kind::ident) continue;
            const auto h = helpers_.find(std::string(k[i].text));
            if (h == helpers_.end() || !h->second.reaches_barrier) continue;
            if (i > 0 && (is(k, i - 1, '.') || (is(k, i - 1, '>') && is(k, i - 2, '-')))) continue;
            std::size_t call = i + 1;
            Range targs{};
            if (is(k, call, '<')) {
                const std::size_t past = skip_angles(k, call);
                if (past == npos) continue;
                targs = {call, past};
                call = past;
            }
            if (!is(k, call, '(')) continue;  // its address, say: leave it to the compiler
            if (round >= kMaxCalls) {
                failure = {"more than " + std::to_string(kMaxCalls) +
                               " calls of helpers that reach a barrier, or recursion through one ('" +
                               std::string(k[i].text) + "')",
                           line_of(cur, k, i)};
                return false;
            }
            return write_in(cur, k, body, h->second, i, targs, call, round, failure);
        }
        return false;
    }

  private:
    static constexpr int kMaxCalls = 64;

    static int line_of(const MappedText& m, const std::vector<Token>& k, std::size_t i) {
        if (i >= k.size()) return 0;
        const int l = k[i].line;
        return l >= 1 && l <= m.lines() ? m.line_of[static_cast<std::size_t>(l)] : 0;
    }

    // The statement of `body` that holds token i and can take a call's result.
    static int holder(const Body& body, std::size_t i) {
        int best = -1;
        for (std::size_t s = 0; s < body.stmts.size(); ++s) {
            const Stmt& st = body.stmts[s];
            if (i < st.all.first || i >= st.all.last) continue;
            if (best < 0 || st.all.last - st.all.first <=
                                body.stmts[static_cast<std::size_t>(best)].all.last -
                                    body.stmts[static_cast<std::size_t>(best)].all.first)
                best = static_cast<int>(s);
        }
        return best;
    }

    bool write_in(MappedText& cur, const std::vector<Token>& k, const Body& body, const Helper& h,
                  std::size_t name, Range targs, std::size_t call, int round, Failure& failure) {
        const int call_line = line_of(cur, k, name);
        const auto fail = [&](std::string why) {
            failure = {std::move(why), call_line};
            return false;
        };
        const std::string quoted = "'" + h.name + "'";
        const int s = holder(body, name);
        if (s < 0) return fail("a call of " + quoted + " outside a statement");
        const Stmt& st = body.stmts[static_cast<std::size_t>(s)];
        const std::size_t call_end = skip_group(k, call);
        std::size_t call_begin = name;
        if (call_begin >= 2 && is(k, call_begin - 1, ':') && is(k, call_begin - 2, ':')) call_begin -= 2;

        // Where the result goes: nowhere, `lhs op= result`, or `T x = result`.
        enum class Form { discard, assign, declare } form;
        std::string lhs, op;
        if (st.kind == StmtKind::expr && st.head.first == call_begin && st.head.last == call_end) {
            form = Form::discard;
        } else if (st.kind == StmtKind::expr && st.head.last == call_end) {
            std::size_t a = npos;
            for (std::size_t j = st.head.first; j < call_begin; ++j) {
                const std::string_view o = op_at(k, j);
                const bool assignment = (o == "=" && !(touching(k, j) && is(k, j + 1, '='))) ||
                                        (o.size() >= 2 && o.back() == '=' && o != "==" &&
                                         o != "!=" && o != "<=" && o != ">=");
                if (assignment && j + o.size() == call_begin) a = j;
                if (is(k, j, '(') || is(k, j, '[') || is(k, j, '{')) j = skip_group(k, j) - 1;
            }
            if (a == npos) {
                return fail("a call of " + quoted +
                            ", which reaches a barrier, inside an expression (call it as a "
                            "statement of its own, or as `x = " + h.name + "(...)`)");
            }
            form = Form::assign;
            lhs = std::string(span_text(cur.text, k, st.head.first, a));
            op = std::string(op_at(k, a));
        } else if (st.kind == StmtKind::decl && st.declarators.size() == 1 &&
                   st.declarators[0].init_form == '=' && st.declarators[0].init.first == call_begin &&
                   st.declarators[0].init.last == call_end) {
            form = Form::declare;
            const Declarator& d = st.declarators[0];
            lhs = std::string(span_text(cur.text, k, st.all.first, d.dims.last));
        } else {
            return fail("a call of " + quoted +
                        ", which reaches a barrier, inside an expression or a condition (call it "
                        "as a statement of its own, or as `x = " + h.name + "(...)`)");
        }

        // The helper: its template parameters, parameters, return type and body.
        std::vector<TemplateParam> tparams;
        std::size_t decl_first = h.first;
        for (std::size_t j = h.first; j < h.params; ++j) {
            if (t_[j].kind != Kind::ident || t_[j].text != "template" || !is(t_, j + 1, '<')) continue;
            const std::size_t past = skip_angles(t_, j + 1);
            if (past == npos) return fail("the template header of " + quoted + " cannot be read");
            for (const Range r : split_list(t_, j + 1, past - 1, true)) {
                const std::size_t pn = param_name(t_, r);
                if (pn == npos) return fail("a template parameter of " + quoted + " has no name");
                Range def{};
                for (std::size_t q = r.first; q < r.last; ++q)
                    if (is(t_, q, '=')) def = {q + 1, r.last};
                tparams.push_back({std::string(t_[pn].text), def});
            }
            decl_first = past;
        }
        std::vector<std::string> targ_text;
        if (!targs.empty()) {
            for (const Range r : split_list(k, targs.first, targs.last - 1, true))
                targ_text.push_back(std::string(span_text(cur.text, k, r.first, r.last)));
        }
        if (targ_text.size() > tparams.size())
            return fail(quoted + " is given more template arguments than it has");
        for (std::size_t q = targ_text.size(); q < tparams.size(); ++q) {
            if (tparams[q].default_value.empty()) {
                return fail("the template arguments of " + quoted +
                            " must be written at the call (`" + h.name +
                            "<...>(...)`) for it to be inlined");
            }
            targ_text.push_back(std::string(span_text(source_, t_, tparams[q].default_value.first,
                                                      tparams[q].default_value.last)));
        }
        std::size_t hname = h.params - 1;
        std::string ret;
        for (std::size_t j = decl_first; j < hname; ++j) {
            const std::string_view w = t_[j].text;
            if (w == "__device__" || w == "__host__" || w == "inline" || w == "static" ||
                w == "__forceinline__" || w == "__noinline__" || w == "__inline__" ||
                w == "constexpr" || w == "extern")
                continue;
            if (w == "__attribute__" && is(t_, j + 1, '(')) {
                j = skip_group(t_, j + 1) - 1;
                continue;
            }
            ret += std::string(w) + " ";
        }
        const bool returns = ret != "void " && !ret.empty();
        if (!returns && form != Form::discard)
            return fail(quoted + " returns nothing, but its result is used");

        const Body hb = parse_body(source_, t_, h.params, h.open);
        if (!hb.error.empty()) return fail("the body of " + quoted + " cannot be read: " + hb.error);
        const Stmt& top = hb.stmts[static_cast<std::size_t>(hb.root)];
        int final_return = -1;
        for (std::size_t q = 0; q < hb.stmts.size(); ++q) {
            if (hb.stmts[q].kind != StmtKind::return_) continue;
            const bool last = !top.children.empty() && top.children.back() == static_cast<int>(q);
            if (!last) {
                return fail(quoted + " returns before its end, which manycore cannot inline "
                            "into a kernel split at barriers; return once, at the end");
            }
            final_return = static_cast<int>(q);
        }

        const std::string prefix = "__mc_i" + std::to_string(round) + "_";
        const std::string result = "__mc_r" + std::to_string(round);
        // Every local and parameter of the helper gets the prefix; template parameters become
        // their arguments.
        std::vector<std::string> replace(t_.size());
        std::vector<char> replaced(t_.size(), 0);
        for (const Ref& r : hb.refs) {
            replace[r.token] = prefix + hb.vars[static_cast<std::size_t>(r.var)].name;
            replaced[r.token] = 1;
        }
        for (const Stmt& x : hb.stmts)
            for (const Declarator& d : x.declarators) {
                replace[d.name] = prefix + std::string(t_[d.name].text);
                replaced[d.name] = 1;
            }
        for (std::size_t j = h.open; j < h.last; ++j) {
            if (t_[j].kind != Kind::ident || replaced[j]) continue;
            if (j > 0 && (is(t_, j - 1, '.') || (is(t_, j - 1, '>') && is(t_, j - 2, '-')))) continue;
            for (std::size_t q = 0; q < tparams.size(); ++q) {
                if (t_[j].text != tparams[q].name) continue;
                replace[j] = "(" + targ_text[q] + ")";
                replaced[j] = 1;
            }
        }
        const auto rewritten = [&](std::size_t first, std::size_t last) {
            std::string out;
            for (std::size_t j = first; j < last; ++j) {
                if (j > first) out.append(source_, t_[j - 1].end(), t_[j].begin - t_[j - 1].end());
                out += replaced[j] ? replace[j] : std::string(t_[j].text);
            }
            return out;
        };
        // Type-template parameters keep their spelling in parameter types too.
        const std::size_t pclose = skip_group(t_, h.params) - 1;
        const std::vector<Range> hparams = split_list(t_, h.params, pclose, true);
        const std::vector<Range> args = split_list(k, call, call_end - 1, false);
        std::string decls;
        for (std::size_t q = 0; q < hparams.size(); ++q) {
            const Range r = hparams[q];
            if (r.last == r.first + 1 && t_[r.first].text == "void") break;
            const std::size_t pn = param_name(t_, r);
            if (pn == npos) return fail("a parameter of " + quoted + " has no name");
            std::size_t end = r.last;
            Range def{};
            for (std::size_t j = r.first; j < r.last; ++j)
                if (is(t_, j, '=')) end = j, def = {j + 1, r.last};
            bool reference = false;
            for (std::size_t j = r.first; j < end; ++j) reference |= is(t_, j, '&');
            bool const_ref = false;
            for (std::size_t j = r.first; j < end; ++j) const_ref |= t_[j].text == "const";
            if (reference && !const_ref) {
                return fail(quoted + " takes a parameter by reference, which manycore cannot "
                            "inline into a kernel split at barriers; pass a pointer or a value");
            }
            std::string value;
            if (q < args.size()) {
                value = std::string(span_text(cur.text, k, args[q].first, args[q].last));
            } else if (!def.empty()) {
                value = rewritten(def.first, def.last);
            } else {
                return fail(quoted + " is called with too few arguments");
            }
            std::string type;
            for (std::size_t j = r.first; j < end; ++j) {
                if (j == pn || (reference && is(t_, j, '&'))) continue;
                type += (replaced[j] ? replace[j] : std::string(t_[j].text)) + " ";
            }
            decls += type + prefix + std::string(t_[pn].text) + " = (" + value + "); ";
        }
        if (args.size() > hparams.size()) return fail(quoted + " is called with too many arguments");

        // The new statement.
        MappedText out;
        const std::size_t begin = k[st.all.first].begin;
        const std::size_t end = k[st.all.last - 1].end();
        copy_mapped(cur, 0, begin, out);
        const bool wrap = st.parent < 0 || body.stmts[static_cast<std::size_t>(st.parent)].kind !=
                                               StmtKind::compound ||
                          form == Form::assign;
        std::string opening = wrap ? "{ " : "";
        if (returns) opening += ret + result + "; ";
        opening += "{ " + decls;
        out.put(opening, call_line, false);
        const Stmt& hbody = hb.stmts[static_cast<std::size_t>(hb.root)];
        for (const int c : hbody.children) {
            const Stmt& x = hb.stmts[static_cast<std::size_t>(c)];
            std::string piece;
            if (c == final_return) {
                if (returns) piece = result + " = (" + rewritten(x.head.first, x.head.last) + ");";
            } else {
                piece = rewritten(x.all.first, x.all.last);
            }
            out.put("\n", call_line, false);
            out.line_of.back() = t_[x.all.first].line;
            out.put(piece, t_[x.all.first].line, true);
        }
        std::string closing = " }";
        if (form == Form::assign) closing += " " + lhs + " " + op + " " + result + ";";
        if (form == Form::declare) closing += " " + lhs + " = " + result + ";";
        if (wrap) closing += " }";
        out.put("\n", call_line, false);
        out.line_of.back() = call_line;
        out.put(closing, call_line, false);
        copy_mapped(cur, end, cur.text.size(), out);
        cur = std::move(out);
        return true;
    }

    std::string_view source_;
    const std::vector<Token>& t_;
    const std::unordered_map<std::string, Helper>& helpers_;
};

}  // namespace

InlineResult inline_helpers(std::string_view source, const std::vector<Token>& t,
                            std::size_t first, std::size_t params, std::size_t last,
                            const std::unordered_map<std::string, Helper>& helpers) {
    InlineResult result;
    result.kernel.put(span_text(source, t, first, last), t[first].line, true);
    Inliner inliner(source, t, helpers);
    for (int round = 0;; ++round) {
        Failure failure;
        if (!inliner.step(result.kernel, params - first, round, failure)) {
            if (!failure.what.empty()) {
                result.error = failure.what;
                result.error_line = failure.line;
            }
            return result;
        }
        result.inlined = round + 1;
    }
}

}  // namespace manycore::detail::fission
