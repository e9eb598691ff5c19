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
#include "core/source_rewrites.hpp"
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

}  // namespace manycore::detail
