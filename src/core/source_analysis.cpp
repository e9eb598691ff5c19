// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Reads CUDA C++ source as text: its kernels, their parameters and which of them reach a
// barrier, with each kernel's launch lint facts and the source's rewrites gathered.

#include "core/source_analysis.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <numeric>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/branch_rewrites.hpp"
#include "core/fission.hpp"
#include "core/launch_lint_facts.hpp"
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

[[noreturn]] void fail(std::string_view source, const std::string& message) {
    throw CompileError(message, /*log=*/message, /*source=*/std::string(source), /*options=*/{});
}

// `__global__ int f()` would compile on the CPU and be launched as if it returned nothing.
void check_returns_void(std::string_view source, const Parser& p, const std::vector<Token>& t,
                        const KernelSite& k) {
    std::size_t last_void = npos;
    for (std::size_t j = k.first; j < k.name; ++j)
        if (p.word(j, "void")) last_void = j;
    bool pointer = false;
    for (std::size_t j = last_void + 1; last_void != npos && j < k.name; ++j)
        pointer |= p.is(j, '*') || p.is(j, '&');
    if (last_void != npos && !pointer) return;
    fail(source, "kernel.cu:" + std::to_string(t[k.name].line) + ": kernel '" +
                     std::string(t[k.name].text) + "' is declared to return a value; kernels " +
                     "return void: write results into an array argument instead");
}

// The name a name expression instantiates: before `<`, unqualified, trimmed.
std::string_view base_name(std::string_view expr) {
    std::string_view base = expr.substr(0, expr.find('<'));
    if (const std::size_t colon = base.rfind("::"); colon != npos) base.remove_prefix(colon + 2);
    const std::size_t first = base.find_first_not_of(" \t");
    if (first == npos) return {};
    return base.substr(first, base.find_last_not_of(" \t") - first + 1);
}

// What loop fission needs to know of the source around the kernels: helpers, macros and
// the variables at namespace scope (which kernels may write, or only read).
fission::SourceFacts source_facts(std::string_view text, const Lexed& lx, const Parser& parser,
                                  const std::unordered_set<std::string>& barrier_names) {
    const std::vector<Token>& t = lx.code;
    fission::SourceFacts facts;
    facts.reaches_barrier = [&barrier_names](std::string_view w) {
        return barrier_names.count(std::string(w)) != 0;
    };
    for (const auto* list : {&parser.helpers, &parser.template_helpers}) {
        for (const std::size_t params : *list) {
            const std::size_t name = parser.name_before(params);
            if (name == npos) continue;
            const auto body = std::lower_bound(parser.bodies.begin(), parser.bodies.end(),
                                               std::pair(params, std::size_t{0}));
            if (body == parser.bodies.end()) continue;
            fission::Helper h;
            h.name = std::string(t[name].text);
            h.reaches_barrier = barrier_names.count(h.name) != 0;
            h.params = params;
            h.open = body->first;
            h.last = body->second + 1;
            std::size_t first = name;
            while (first > 0 && !parser.is(first - 1, ';') && !parser.is(first - 1, '}') &&
                   !parser.is(first - 1, '{'))
                --first;
            h.first = first;
            facts.helpers.emplace(h.name, h);  // an overload's second definition is not kept
        }
    }
    const auto& dt = lx.directive_tokens;
    for (std::size_t d = 0; d < lx.directive_starts.size(); ++d) {
        const std::size_t s = lx.directive_starts[d];
        const std::size_t e = d + 1 < lx.directive_starts.size() ? lx.directive_starts[d + 1] : dt.size();
        if (s + 2 >= e || dt[s + 1].text != "define" || dt[s + 2].kind != Kind::ident) continue;
        std::size_t from = s + 3;
        if (from < e && dt[from].text == "(" && dt[from].begin == dt[s + 2].end()) {
            while (from < e && dt[from].text != ")") ++from;
            ++from;
        }
        const std::size_t b = from < e ? dt[from].begin : dt[e - 1].end();
        facts.macros[std::string(dt[s + 2].text)] =
            std::string(text.substr(b, from < e ? dt[e - 1].end() - b : 0));
    }
    // Variables at namespace scope: `__device__ int flag;` may be written by any thread,
    // `__constant__ float c[16];` only read.
    std::size_t body = 0;
    for (std::size_t i = 0; i < t.size(); ++i) {
        while (body < parser.bodies.size() && parser.bodies[body].second < i) ++body;
        if (body < parser.bodies.size() && parser.bodies[body].first <= i) {
            i = parser.bodies[body].second;
            continue;
        }
        const bool constant = t[i].text == "__constant__";
        if (t[i].kind != Kind::ident || (!constant && t[i].text != "__device__" && t[i].text != "__managed__"))
            continue;
        std::size_t name = npos;
        std::size_t j = i + 1;
        for (; j < t.size() && !parser.is(j, ';') && !parser.is(j, '=') && !parser.is(j, '{') &&
               !parser.is(j, '[') && !parser.is(j, '(');
             ++j)
            if (parser.name_like(j)) name = j;
        if (name == npos || parser.is(j, '(')) continue;
        (constant ? facts.constant_globals : facts.mutable_globals).push_back(std::string(t[name].text));
    }
    return facts;
}

// Each kernel's execution mode on the CPU, and the source with the rewritten kernels.
void plan_execution(SourceAnalysis& result, const std::vector<std::string>& name_expressions,
                    const std::unordered_set<std::string>& barrier_names, bool fibers_only) {
    const std::string_view text = result.prepared_source;
    Words words;
    const Lexed lx = lex(text, words);
    std::vector<char> function_like(words.size(), 0);
    Parser parser(lx.code, words, function_like);
    parser.run();
    const fission::SourceFacts facts = source_facts(text, lx, parser, barrier_names);
    std::vector<Edit> edits;
    for (const KernelSite& k : parser.kernels) {
        const std::string_view name = lx.code[k.name].text;
        std::vector<KernelDecl*> decls;
        for (KernelDecl& d : result.kernels) {
            if (!k.is_template && d.name == name) decls.push_back(&d);
            if (k.is_template && base_name(d.name) == name &&
                std::find(name_expressions.begin(), name_expressions.end(), d.name) != name_expressions.end())
                decls.push_back(&d);
        }
        if (decls.empty()) continue;
        bool uses = false;
        for (const KernelDecl* d : decls) uses |= d->uses_barriers;
        const fission::KernelPlan plan = fission::plan_kernel(
            text, lx.code, k.first, k.params, k.last, uses, fibers_only, facts);
        for (KernelDecl* d : decls) {
            d->mode = plan.mode;
            d->reason = plan.reason;
            d->split = !plan.definition.empty();
            d->grid_major = plan.grid_major;
        }
        if (plan.definition.empty()) continue;
        const Token& last = lx.code[k.last - 1];
        edits.push_back({lx.code[k.first].begin, last.end(),
                         "\n" + plan.definition + "\n#line " + std::to_string(last.line) +
                             " \"kernel.cu\"\n"});
    }
    if (!edits.empty()) result.split_source = apply_edits(text, edits);
}

}  // namespace

SourceAnalysis analyse_source(std::string_view source,
                              const std::vector<std::string>& name_expressions, bool checked,
                              CheckedHelpers checked_helpers, bool split, bool fibers_only,
                              BranchSites branch_sites) {
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
    std::unordered_map<std::string, int> listed;  // by name: index in result.kernels
    const auto add = [&](const std::string& name, const KernelSite& k, bool uses) {
        check_returns_void(source, parser, lx.code, k);
        KernelDecl decl{name, {}, {}, uses || opaque, lx.code[k.name].line};
        read_params(parser, lx.code, k.params, decl);
        if (const auto it = listed.find(name); it != listed.end()) {
            KernelDecl& first = result.kernels[it->second];
            // Another definition of a template kernel is a specialisation, not an overload.
            if (!k.is_template && first.param_spellings != decl.param_spellings) {
                fail(source, "kernel.cu:" + std::to_string(decl.line) + ": kernel '" + name +
                                 "' is defined again with other parameters (first at line " +
                                 std::to_string(first.line) + "); kernels are launched by " +
                                 "name, so overloads cannot be told apart: give each its own name");
            }
            first.uses_barriers |= uses;  // another definition (an #if branch, say): the first
            return;
        }
        listed.emplace(name, static_cast<int>(result.kernels.size()));
        result.lint_facts.push_back(read_lint_facts(parser, lx.code, k, decl));
        result.kernels.push_back(std::move(decl));
    };
    for (const KernelSite& k : parser.kernels) {
        const std::string_view name = lx.code[k.name].text;
        if (!k.is_template) add(k.scope + std::string(name), k, mentions_taint(k.first, k.last));
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
            add(expr, k, uses);
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
        if (branch_sites == BranchSites::wrapped) branch_edits(lx, parser, edits);
        // An insertion before the replacement that begins where it does.
        std::sort(edits.begin(), edits.end(), [](const Edit& x, const Edit& y) {
            return x.begin != y.begin ? x.begin < y.begin : x.end < y.end;
        });
    }
    result.prepared_source = apply_edits(source, edits);
    // The launch table takes each kernel's address through its exact type, so that a kernel
    // named like a library function (max, sqrt, free) is told apart from it: the types as
    // the translation unit declares them, checked pointers included.
    const std::vector<KernelDecl>* declared = &result.kernels;
    SourceAnalysis rewritten;
    if (checked) {
        rewritten = analyse_source(result.prepared_source, name_expressions, false);
        if (rewritten.kernels.size() == result.kernels.size()) declared = &rewritten.kernels;
    }
    for (std::size_t i = 0; i < result.kernels.size(); ++i)
        result.kernels[i].param_types = (*declared)[i].param_spellings;
    for (KernelDecl& k : result.kernels) {
        k.mode = k.uses_barriers ? ExecutionMode::fibers : ExecutionMode::loop;
        k.reason = k.uses_barriers
                       ? "it synchronises (__syncthreads or a warp intrinsic): every thread of "
                         "a block runs as a fiber"
                       : "no barriers or warp intrinsics: each block's threads run as one loop";
    }
    if (split) {
        std::unordered_set<std::string> barrier_names;
        for (int id = 0; id < static_cast<int>(words.size()); ++id)
            if (tainted[id]) barrier_names.insert(std::string(words.text(id)));
        plan_execution(result, name_expressions, barrier_names, fibers_only);
    }
    return result;
}

}  // namespace manycore::detail
