// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Loop fission of one kernel: plan (which statements all threads of a block run in step, and
// where the body splits), classify (which locals live across a split), emit (the new body).
//
// A block's statements run in "block context" when every thread runs them alike: barriers,
// control flow around barriers, declarations of values every thread computes alike ("uniform",
// proven from blockIdx, blockDim, gridDim, parameters and constants). Everything else runs in
// "regions": loops over the block's threads (or, around warp intrinsics, over the lanes of each
// warp). A local used in more than one region lives in an array with one element per thread;
// one computed from the thread's index alone is recomputed in each region instead.

#include "core/fission.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/fission_parse.hpp"

namespace manycore::detail {

namespace fission {
namespace {

using source::Kind;
using source::npos;

// ---- collective calls ----------------------------------------------------------------------

enum class SiteKind {
    barrier,
    vote_count,
    vote_and,
    vote_or,
    shfl,
    shfl_up,
    shfl_down,
    shfl_xor,
    ballot,
    any,
    all,
    activemask,
    syncwarp,
    match_any,
    match_all,
    reduce,  // __reduce_*_sync
};

struct SiteWord {
    std::string_view name;
    SiteKind kind;
};
constexpr SiteWord kSiteWords[] = {
    {"__syncthreads", SiteKind::barrier},
    {"__syncthreads_count", SiteKind::vote_count},
    {"__syncthreads_and", SiteKind::vote_and},
    {"__syncthreads_or", SiteKind::vote_or},
    {"__shfl_sync", SiteKind::shfl},
    {"__shfl_up_sync", SiteKind::shfl_up},
    {"__shfl_down_sync", SiteKind::shfl_down},
    {"__shfl_xor_sync", SiteKind::shfl_xor},
    {"__ballot_sync", SiteKind::ballot},
    {"__any_sync", SiteKind::any},
    {"__all_sync", SiteKind::all},
    {"__activemask", SiteKind::activemask},
    {"__syncwarp", SiteKind::syncwarp},
    {"__match_any_sync", SiteKind::match_any},
    {"__match_all_sync", SiteKind::match_all},
    {"__reduce_add_sync", SiteKind::reduce},
    {"__reduce_min_sync", SiteKind::reduce},
    {"__reduce_max_sync", SiteKind::reduce},
    {"__reduce_and_sync", SiteKind::reduce},
    {"__reduce_or_sync", SiteKind::reduce},
    {"__reduce_xor_sync", SiteKind::reduce},
};

bool block_site(SiteKind k) {
    return k == SiteKind::barrier || k == SiteKind::vote_count || k == SiteKind::vote_and ||
           k == SiteKind::vote_or;
}

struct Site {
    SiteKind kind = SiteKind::barrier;
    std::size_t name = 0;            // the intrinsic's token
    std::size_t open = 0, end = 0;   // its '(' and past its ')'
    std::vector<Range> args;
    int id = 0;                      // its exchange array or vote result
};

// Math and conversion functions whose result depends on their arguments alone.
bool pure_function(std::string_view w) {
    static const std::unordered_set<std::string_view> names = [] {
        std::unordered_set<std::string_view> s;
        const char* list =
            "min max umin umax llmin llmax ullmin ullmax fminf fmaxf fmin fmax abs fabs fabsf "
            "labs llabs sqrt sqrtf rsqrt rsqrtf cbrt cbrtf ceil ceilf floor floorf round roundf "
            "rint rintf trunc truncf exp expf exp2 exp2f exp10 exp10f expm1 expm1f log logf log2 "
            "log2f log10 log10f log1p log1pf pow powf sin sinf cos cosf tan tanf asin asinf acos "
            "acosf atan atanf atan2 atan2f sinh sinhf cosh coshf tanh tanhf erf erff hypot hypotf "
            "copysign copysignf ldexp ldexpf fma fmaf fdivide fdividef __expf __exp10f __logf "
            "__log2f __log10f __sinf __cosf __tanf __powf __fdividef __frcp_rn __fsqrt_rn "
            "__saturatef __popc __popcll __clz __clzll __ffs __ffsll __brev __brevll __mul24 "
            "__umul24 __mulhi __umulhi __mul64hi __umul64hi __sad __usad __fmaf_rn __fmul_rn "
            "__fadd_rn __float2int_rn __float2int_rz __float2int_rd __float2int_ru "
            "__float2uint_rn __float2uint_rz __int2float_rn __uint2float_rn __float_as_int "
            "__int_as_float __float_as_uint __uint_as_float __double_as_longlong "
            "__longlong_as_double __double2float_rn __float2half __half2float isnan isinf "
            "isfinite signbit make_int1 make_int2 make_int3 make_int4 make_uint1 make_uint2 "
            "make_uint3 make_uint4 make_float1 make_float2 make_float3 make_float4 make_double1 "
            "make_double2 make_double3 make_double4 make_char1 make_char2 make_char3 make_char4 "
            "make_uchar1 make_uchar2 make_uchar3 make_uchar4 make_short1 make_short2 make_short3 "
            "make_short4 make_ushort1 make_ushort2 make_ushort3 make_ushort4 make_long1 make_long2 "
            "make_long3 make_long4 make_ulong1 make_ulong2 make_ulong3 make_ulong4 "
            "make_longlong1 make_longlong2 make_longlong3 make_longlong4 make_ulonglong1 "
            "make_ulonglong2 make_ulonglong3 make_ulonglong4 dim3 __mc_dynamic_shared "
            "static_cast reinterpret_cast const_cast sizeof alignof decltype";
        for (const char* p = list; *p;) {
            const char* e = std::strchr(p, ' ');
            if (e == nullptr) e = p + std::strlen(p);
            s.insert(std::string_view(p, static_cast<std::size_t>(e - p)));
            p = *e ? e + 1 : e;
        }
        return s;
    }();
    return names.count(w) != 0;
}

bool type_word(std::string_view w) {
    return w == "void" || w == "bool" || w == "char" || w == "short" || w == "int" ||
           w == "long" || w == "float" || w == "double" || w == "signed" || w == "unsigned" ||
           w == "const" || w == "volatile" || w == "true" || w == "false" || w == "nullptr" ||
           w == "size_t" || w == "ptrdiff_t" || w == "auto" || w == "__restrict__";
}

// A local passed whole to a function that is not a pure one (`pull(xi, tile[k], sx, sy)`) may
// be bound to a reference parameter and written: it counts as written, so it is never taken
// for a value every thread shares.
void mark_reference_arguments(Body& body, const std::vector<Token>& t) {
    const auto punct = [&](std::size_t i, char c) {
        return i < t.size() && t[i].kind == Kind::punct && t[i].text[0] == c;
    };
    for (Ref& r : body.refs) {
        if (r.write || r.token == 0 || !(punct(r.token - 1, '(') || punct(r.token - 1, ','))) continue;
        std::size_t after = r.token + 1;
        while (punct(after, '.') && after + 1 < t.size() && t[after + 1].kind == Kind::ident) after += 2;
        if (!(punct(after, ',') || punct(after, ')'))) continue;
        // The call's opening parenthesis, and the name before it.
        int depth = 0;
        std::size_t open = r.token;
        while (open-- > 0) {
            if (t[open].kind != Kind::punct) continue;
            const char c = t[open].text[0];
            if (c == ')' || c == ']' || c == '}') ++depth;
            if (c == '(' || c == '[' || c == '{') {
                if (depth == 0) break;
                --depth;
            }
        }
        if (open >= t.size() || !punct(open, '(') || open == 0) continue;
        std::size_t name = open - 1;
        if (punct(name, '>')) {  // a template's call, or static_cast<T>(v)
            int angle = 0;
            while (name > 0) {
                if (punct(name, '>')) ++angle;
                if (punct(name, '<') && --angle == 0) break;
                --name;
            }
            if (name == 0) continue;
            --name;
        }
        if (t[name].kind != Kind::ident) continue;
        const std::string_view w = t[name].text;
        if (pure_function(w) || type_word(w) || (source::classify(w) & source::keyword) != 0) continue;
        r.write = true;
    }
}

// ---- the plan ------------------------------------------------------------------------------

enum class PieceKind {
    stmt,     // a whole statement, run by each thread (results of its collectives substituted)
    cond,     // a condition, each thread's value kept for the block-level statement after it
    deposit,  // a collective's operands, each thread's kept for the collective
};

struct Piece {
    PieceKind kind = PieceKind::stmt;
    int stmt = -1;
    Range range;     // cond: the expression
    int site = -1;   // deposit
    int target = 0;  // cond: mask id at warp level (block level: the condition array)
};

enum class NodeKind {
    region,       // pieces run by every live thread (block level) or active lane (warp level)
    warps,        // for each warp: children at warp level
    stmt,         // a statement run once, in block (or warp) context, as written
    vote,         // a block vote: its result from every thread's predicate
    if_,          // if at block or warp level (uniform, agreed or masked condition)
    loop,         // for/while/do at block or warp level
    scope,        // { children }
    jump,         // break / continue / return in block context
    strided,      // a loop run iteration-major
};

enum class CondMode { none, uniform, agreed, masked };

struct Node {
    NodeKind kind = NodeKind::region;
    int level = 0;  // 0: block context, 1: warp context
    int id = -1;    // region id, site id, label id
    int mask = 0;   // a masked condition's mask (warp level)
    int stmt = -1;
    std::vector<Piece> pieces;
    // if_: a = then, b = else. loop: init, pre (condition regions), a = body, post (step).
    std::vector<Node> a, b, init, pre, post;
    CondMode cond_mode = CondMode::none;
    Range cond;       // uniform condition text (if_, loop)
    Range step;       // uniform step text (loop)
    bool do_while = false;
    std::string jump;  // "break", "continue", "return"
};

struct StridedLoop {
    int var = -1;          // the loop variable
    Range start, bound, stride;
    std::string op;        // the comparison, written with the variable on the left
    int body = -1;
    int decl_stmt = -1;    // while form: the declaration the loop consumes
    bool uniform_start = false;
};

enum class VarClass { keep, uniform, remat, array, local };

class Fission {
  public:
    Fission(const MappedText& k, const std::vector<Token>& t, const Body& body,
            std::size_t params_open, std::size_t body_open, const SourceFacts& facts)
        : k_(k), t_(t), b_(body), params_(params_open), open_(body_open), facts_(facts) {}

    // Why the kernel cannot be split; empty when it can.
    std::string why;
    int why_line = 0;
    int block_sites = 0, warp_sites = 0, strided_loops = 0;
    int guarded_regions = 0;  // regions whose bounds checks a block decides at once
    std::vector<int> barrier_lines;

    bool plan() {
        find_sites();
        if (!why.empty()) return false;
        check_body();
        if (!why.empty()) return false;
        find_uniform();
        find_strided();
        nodes_ = plan_block_list(b_.stmts[static_cast<std::size_t>(b_.root)].children, 0);
        if (!why.empty()) return false;
        classify();
        return why.empty();
    }

    bool needs_rewrite() const { return block_sites + warp_sites + strided_loops > 0; }

    // A kernel with no barrier whose grid-stride loop is all it runs (beside declarations
    // every thread computes alike, and values recomputed from the thread's index) may take
    // every block of a range at each step: blocks are as independent as threads then, and each
    // host thread's accesses become contiguous instead of one block's share at a time.
    bool grid_major() const {
        if (block_sites + warp_sites > 0 || strided_loops == 0 || exits_) return false;
        for (std::size_t i = 0; i < t_.size(); ++i) {
            const std::string_view w = t_[i].text;
            if (w == "__shared__" || w == "__mc_dynamic_shared" || w == "__syncthreads") return false;
        }
        for (std::size_t v = 0; v < b_.vars.size(); ++v)
            if (class_[v] == VarClass::array || class_[v] == VarClass::keep) return false;
        for (const Node& n : nodes_) {
            if (n.kind == NodeKind::strided) continue;
            if (n.kind == NodeKind::region && runs_nothing(n)) continue;
            if (n.kind != NodeKind::stmt) return false;
            for (std::size_t i = st(n.stmt).all.first; i < st(n.stmt).all.last; ++i)
                if (t_[i].text == "blockIdx") return false;  // one value per block
        }
        return true;
    }


  private:
    // ---- tokens ----
    bool is(std::size_t i, char c) const {
        return i < t_.size() && t_[i].kind == Kind::punct && t_[i].text[0] == c;
    }
    bool word(std::size_t i, std::string_view w) const {
        return i < t_.size() && t_[i].kind == Kind::ident && t_[i].text == w;
    }
    std::size_t skip_group(std::size_t i) const {
        for (int depth = 0; i < t_.size(); ++i) {
            if (t_[i].kind != Kind::punct) continue;
            const char c = t_[i].text[0];
            depth += c == '(' || c == '[' || c == '{';
            if ((c == ')' || c == ']' || c == '}') && --depth == 0) return i + 1;
        }
        return t_.size();
    }
    int line(std::size_t i) const {
        if (i >= t_.size()) return 0;
        const int l = t_[i].line;
        return l >= 1 && l <= k_.lines() ? k_.line_of[static_cast<std::size_t>(l)] : 0;
    }
    const Stmt& st(int s) const { return b_.stmts[static_cast<std::size_t>(s)]; }
    const Var& var(int v) const { return b_.vars[static_cast<std::size_t>(v)]; }
    void fail(std::size_t token, std::string what) {
        if (!why.empty()) return;
        why = std::move(what);
        why_line = line(token);
    }

    // ---- sites ----
    void find_sites() {
        site_at_.assign(t_.size(), -1);
        for (std::size_t i = open_; i < t_.size(); ++i) {
            if (t_[i].kind != Kind::ident) continue;
            const SiteWord* w = nullptr;
            for (const SiteWord& sw : kSiteWords)
                if (t_[i].text == sw.name) w = &sw;
            if (w == nullptr) {
                if (facts_.reaches_barrier && facts_.reaches_barrier(t_[i].text) &&
                    !(i > 0 && (is(i - 1, '.') || is(i - 1, '>')))) {
                    fail(i, "'" + std::string(t_[i].text) +
                                "' reaches a barrier or warp intrinsic in a way loop fission "
                                "cannot follow (a macro, a function pointer, cooperative groups)");
                    return;
                }
                continue;
            }
            if (!is(i + 1, '(')) {
                fail(i, "'" + std::string(w->name) + "' is not called");
                return;
            }
            Site s;
            s.kind = w->kind;
            s.name = i;
            s.open = i + 1;
            s.end = skip_group(i + 1);
            for (std::size_t a = s.open + 1, start = a; a < s.end; ++a) {
                if (a == s.end - 1 || is(a, ',')) {
                    if (a > start) s.args.push_back({start, a});
                    start = a + 1;
                } else if (is(a, '(') || is(a, '[') || is(a, '{')) {
                    a = skip_group(a) - 1;
                }
            }
            for (std::size_t a = s.open + 1; a + 1 < s.end; ++a) {
                if (t_[a].kind != Kind::ident) continue;
                for (const SiteWord& sw : kSiteWords) {
                    if (t_[a].text == sw.name) {
                        fail(a, "a barrier or warp intrinsic inside the operands of another");
                        return;
                    }
                }
            }
            s.id = static_cast<int>(sites_.size());
            site_at_[i] = s.id;
            if (block_site(s.kind)) {
                ++block_sites;
                if (barrier_lines.empty() || barrier_lines.back() != line(i))
                    barrier_lines.push_back(line(i));
            } else {
                ++warp_sites;
            }
            sites_.push_back(std::move(s));
        }
    }

    // Sites within tokens [first, last).
    std::vector<int> sites_in(Range r) const {
        std::vector<int> out;
        for (std::size_t i = r.first; i < r.last && i < t_.size(); ++i)
            if (site_at_[i] >= 0) out.push_back(site_at_[i]);
        return out;
    }
    bool has_block(int s) const {
        for (const int x : sites_in(st(s).all))
            if (block_site(sites_[static_cast<std::size_t>(x)].kind)) return true;
        return false;
    }
    bool has_warp(int s) const {
        for (const int x : sites_in(st(s).all))
            if (!block_site(sites_[static_cast<std::size_t>(x)].kind)) return true;
        return false;
    }
    bool has_sync(int s) const { return !sites_in(st(s).all).empty(); }
    bool has_strided(int s) const {
        for (std::size_t i = 0; i < strided_.size(); ++i)
            if (strided_[i].has_value() && contains(s, static_cast<int>(i))) return true;
        return false;
    }
    bool contains(int outer, int inner) const {
        for (int p = inner; p >= 0; p = st(p).parent)
            if (p == outer) return true;
        return false;
    }
    bool structural(int s) const { return has_sync(s) || has_strided(s); }

    // What loop fission does not take, said before anything is planned.
    void check_body() {
        for (std::size_t s = 0; s < b_.stmts.size(); ++s) {
            const Stmt& x = b_.stmts[s];
            const int id = static_cast<int>(s);
            if (x.kind == StmtKind::goto_ || (x.kind == StmtKind::label && !word(x.all.first, "case") &&
                                              !word(x.all.first, "default"))) {
                if (block_sites + warp_sites > 0)
                    return fail(x.all.first, "'goto' and labels in a kernel that synchronises");
            }
            if (!has_sync(id)) continue;
            if (x.kind == StmtKind::switch_ || x.kind == StmtKind::range_for ||
                x.kind == StmtKind::other || x.kind == StmtKind::type_decl)
                return fail(x.all.first, std::string("a barrier or warp intrinsic inside ") +
                                             (x.kind == StmtKind::switch_      ? "a switch"
                                              : x.kind == StmtKind::range_for ? "a range-based for"
                                                                               : "this statement"));
        }
        // Directives between the body's tokens: #pragma is harmless, others change the text.
        for (std::size_t i = open_; i + 1 < t_.size(); ++i) {
            const std::string_view gap(k_.text.data() + t_[i].end(), t_[i + 1].begin - t_[i].end());
            for (std::size_t p = gap.find('#'); p != npos; p = gap.find('#', p + 1)) {
                std::size_t q = p;
                while (q > 0 && (gap[q - 1] == ' ' || gap[q - 1] == '\t')) --q;
                if (q != 0 && gap[q - 1] != '\n') continue;
                std::size_t w = p + 1;
                while (w < gap.size() && (gap[w] == ' ' || gap[w] == '\t')) ++w;
                if (gap.substr(w, 6) != "pragma")
                    return fail(i + 1, "a preprocessor directive inside the kernel's body");
            }
        }
    }

    // ---- uniform values ----
    bool is_param(int v) const { return var(v).param; }

    // Whether tokens r compute the same value in every thread of a block: with `remat`, the
    // same value every time a given thread computes them (so they may be recomputed).
    // With `now`, a value for the point where it is read (a uniform local the kernel writes
    // counts as the same for every thread there).
    bool pure_range(Range r, bool remat, bool allow_assign = false, int depth = 0, bool now = false) const {
        if (depth > 8) return false;
        for (std::size_t i = r.first; i < r.last; ++i) {
            const Token& tk = t_[i];
            if (tk.kind == Kind::number || tk.kind == Kind::literal) continue;
            if (tk.kind == Kind::punct) {
                const std::string_view op = op_at(t_, i);
                if (op == "->") return false;
                if (tk.text[0] == '[') {
                    // Elements of a __constant__ array are the same for every thread.
                    if (i > r.first && t_[i - 1].kind == Kind::ident &&
                        std::find(facts_.constant_globals.begin(), facts_.constant_globals.end(),
                                  t_[i - 1].text) != facts_.constant_globals.end())
                        continue;
                    return false;
                }
                if ((tk.text[0] == '*' || tk.text[0] == '&') && op != "&&" && op != "*=" &&
                    op != "&=" && unary_at(i))
                    return false;
                const bool assign = (op == "=" && !(touching(t_, i) && is(i + 1, '='))) ||
                                    op == "++" || op == "--" ||
                                    (op.size() >= 2 && op.back() == '=' && op != "==" &&
                                     op != "!=" && op != "<=" && op != ">=");
                if (assign && !allow_assign) return false;
                if (op.size() > 1) i += op.size() - 1;  // `&&`'s second `&` is no address-of
                continue;
            }
            // An identifier.
            const std::string_view w = tk.text;
            if (i > r.first && (is(i - 1, '.') || (is(i - 1, '>') && i >= 2 && is(i - 2, '-'))))
                continue;  // a member
            if (w == "threadIdx") {
                if (!remat) return false;
                continue;
            }
            if (w == "blockIdx" || w == "blockDim" || w == "gridDim" || w == "warpSize") continue;
            const int ref = b_.ref_of[i];
            if (ref >= 0) {
                const Ref& rf = b_.refs[static_cast<std::size_t>(ref)];
                const VarClass c = class_[static_cast<std::size_t>(rf.var)];
                if (rf.write && !allow_assign) return false;
                if (rf.write && c != VarClass::uniform) return false;
                // A value recomputed later must read only values that never change.
                if (c == VarClass::uniform && (!remat || now || !written(rf.var))) continue;
                if (remat && c == VarClass::remat) continue;
                // A shared or static array's name is its address, the same for every thread.
                if (c == VarClass::keep && var(rf.var).array) continue;
                return false;
            }
            if (w == "__syncthreads_count" || w == "__syncthreads_and" || w == "__syncthreads_or") {
                if (remat) return false;
                i = skip_group(i + 1) - 1;  // a vote's result is the block's
                continue;
            }
            if (type_word(w)) continue;
            if (is(i + 1, '(') || (is(i + 1, '<') && !is(i + 2, '<'))) {
                if (pure_function(w)) continue;
                const auto m = facts_.macros.find(std::string(w));
                if (m != facts_.macros.end() && macro_pure(m->second, remat, depth)) continue;
                if (i >= 2 && is(i - 1, ':') && is(i - 2, ':')) continue;  // std::min, ::max
                if (is(i + 1, ':')) continue;
                return false;
            }
            if (std::find(facts_.mutable_globals.begin(), facts_.mutable_globals.end(), w) !=
                facts_.mutable_globals.end())
                return false;
            const auto m = facts_.macros.find(std::string(w));
            if (m != facts_.macros.end() && !macro_pure(m->second, remat, depth)) return false;
        }
        return true;
    }
    bool unary_at(std::size_t i) const {
        if (i == 0) return true;
        const Token& p = t_[i - 1];
        if (p.kind == Kind::number || p.kind == Kind::literal) return false;
        if (p.kind == Kind::ident)
            return (source::classify(p.text) & source::keyword) != 0 && p.text != "this" &&
                   !type_word(p.text);
        return !(p.text[0] == ')' || p.text[0] == ']');
    }
    bool macro_pure(const std::string& text, bool remat, int depth) const {
        // A macro's text is checked word by word: no thread index (unless recomputing), no
        // memory, no locals (whose meaning the macro would take from where it is used).
        source::Words words;
        const source::Lexed lx = source::lex(text, words);
        for (std::size_t i = 0; i < lx.code.size(); ++i) {
            const Token& tk = lx.code[i];
            if (tk.kind == Kind::punct && (tk.text[0] == '[' || tk.text[0] == '=')) return false;
            if (tk.kind != Kind::ident) continue;
            if (tk.text == "threadIdx" && !remat) return false;
            for (const Var& v : b_.vars)
                if (!v.param && v.name == tk.text) return false;
            if (std::find(facts_.mutable_globals.begin(), facts_.mutable_globals.end(), tk.text) !=
                facts_.mutable_globals.end())
                return false;
            const auto m = facts_.macros.find(std::string(tk.text));
            if (m != facts_.macros.end() && !macro_pure(m->second, remat, depth + 1)) return false;
        }
        return depth < 8;
    }
    bool uniform(Range r) const { return pure_range(r, false); }

    // Whether a statement runs in block context when it holds no barrier: its ancestors up to
    // the body are all structural (so no thread-dependent branch leads to it).
    bool block_position(int s) const {
        for (int p = st(s).parent; p >= 0; p = st(p).parent) {
            if (p == b_.root) return true;
            if (!structural(p)) return false;
        }
        return true;
    }
    bool uniform_statement(int s) const {
        const Stmt& x = st(s);
        return x.kind == StmtKind::expr && block_position(s) && !has_sync(s) &&
               pure_range(x.head, false, true) && writes_only_uniform(x.head);
    }
    bool writes_only_uniform(Range r) const {
        bool wrote = false;
        for (std::size_t i = r.first; i < r.last; ++i) {
            const int ref = b_.ref_of[i];
            if (ref < 0 || !b_.refs[static_cast<std::size_t>(ref)].write) continue;
            if (class_[static_cast<std::size_t>(b_.refs[static_cast<std::size_t>(ref)].var)] != VarClass::uniform)
                return false;
            wrote = true;
        }
        return wrote;
    }

    // Uniform locals: declared where every thread runs alike, from uniform values, and only
    // ever written by statements every thread runs alike. A fixpoint from "all candidates".
    void find_uniform() {
        versions_.assign(b_.vars.size(), {});
        version_start_.assign(b_.vars.size(), {});
        version_def_stmt_.assign(b_.vars.size(), {});
        written_.assign(b_.vars.size(), 0);
        for (const Ref& r : b_.refs)
            if (r.write) written_[static_cast<std::size_t>(r.var)] = 1;
        class_.assign(b_.vars.size(), VarClass::local);
        std::vector<char> candidate(b_.vars.size(), 0);
        for (std::size_t v = 0; v < b_.vars.size(); ++v) {
            const Var& x = b_.vars[v];
            if (x.param) {
                candidate[v] = 1;
                continue;
            }
            if (x.stmt < 0 || x.declarator < 0) continue;
            const Stmt& s = st(x.stmt);
            if (s.is_shared || s.is_static) {
                class_[v] = VarClass::keep;
                continue;
            }
            const Declarator& d = s.declarators[static_cast<std::size_t>(x.declarator)];
            if (!d.dims.empty() || d.init.empty() || s.kind != StmtKind::decl) continue;
            bool reference = false;
            for (std::size_t i = d.prefix.first; i < d.prefix.last; ++i) reference |= is(i, '&');
            if (reference) continue;
            const int parent = s.parent;
            const bool in_for_init = parent >= 0 && st(parent).kind == StmtKind::for_ &&
                                     st(parent).init == x.stmt;
            if (has_sync(x.stmt)) {
                // A vote's result: uniform when the declaration is the vote's own statement.
            }
            if (block_position(x.stmt) || (in_for_init && block_position(parent))) candidate[v] = 1;
        }
        for (std::size_t v = 0; v < b_.vars.size(); ++v)
            if (candidate[v]) class_[v] = VarClass::uniform;
        for (bool changed = true; changed;) {
            changed = false;
            for (std::size_t v = 0; v < b_.vars.size(); ++v) {
                if (class_[v] != VarClass::uniform) continue;
                if (!still_uniform(static_cast<int>(v))) {
                    class_[v] = VarClass::local;
                    changed = true;
                }
            }
        }
        // Locals recomputed in each region: from the thread's index and uniform values only,
        // never written after their declaration.
        for (std::size_t v = 0; v < b_.vars.size(); ++v) {
            const Var& x = b_.vars[v];
            if (class_[v] != VarClass::local || x.param || x.stmt < 0 || x.declarator < 0) continue;
            const Stmt& s = st(x.stmt);
            const Declarator& d = s.declarators[static_cast<std::size_t>(x.declarator)];
            if (s.kind != StmtKind::decl || !d.dims.empty() || d.init.empty() || d.init_form != '=')
                continue;
            bool reference = false;
            for (std::size_t i = d.prefix.first; i < d.prefix.last; ++i) reference |= is(i, '&');
            if (reference) continue;
            std::vector<Range> inits{d.init};
            std::vector<std::size_t> starts{d.init.last};
            if (written(static_cast<int>(v)) && !reassigned_whole(static_cast<int>(v), inits, starts))
                continue;
            class_[v] = VarClass::remat;  // tentatively, for the references to others below
            versions_[v] = inits;
            version_start_[v] = starts;
            bool pure = true;
            for (const Range& r : inits) pure = pure && pure_range(r, true);
            if (!pure) {
                class_[v] = VarClass::local;
                versions_[v].clear();
                version_start_[v].clear();
            }
        }
        for (std::size_t v = 0; v < b_.vars.size(); ++v)
            if (class_[v] == VarClass::remat && versions_[v].size() > 1)
                for (std::size_t k = 1; k < versions_[v].size(); ++k) version_defs_.insert(version_def_stmt_[v][k - 1]);
    }

    // A local declared at the top of the kernel's body and written only by `v = value;`
    // statements there too (straight-line code: every thread runs each of them at the same
    // point) has one value at every point of the body, each recomputable: the transpose's `x =
    // blockIdx.y * TILE + threadIdx.x;` after the barrier. Its versions' values and the tokens
    // from which each holds.
    bool reassigned_whole(int v, std::vector<Range>& inits, std::vector<std::size_t>& starts) {
        const Var& x = var(v);
        if (st(x.stmt).parent != b_.root) return false;
        std::vector<int> defs;
        for (const Ref& r : b_.refs) {
            if (r.var != v || !r.write) continue;
            const int s = innermost_stmt(r.token);
            if (s < 0) return false;
            const Stmt& e = st(s);
            if (e.kind != StmtKind::expr || e.parent != b_.root || e.head.first != r.token ||
                op_at(t_, r.token + 1) != "=" || (touching(t_, r.token + 1) && is(r.token + 2, '=')))
                return false;
            inits.push_back({r.token + 2, e.head.last});
            starts.push_back(e.all.last);
            defs.push_back(s);
        }
        version_def_stmt_[static_cast<std::size_t>(v)] = defs;
        return true;
    }
    int version_of(int v, std::size_t token) const {
        const auto& starts = version_start_[static_cast<std::size_t>(v)];
        int k = 0;
        for (std::size_t i = 1; i < starts.size(); ++i)
            if (starts[i] <= token) k = static_cast<int>(i);
        return k;
    }
    bool written(int v) const { return written_[static_cast<std::size_t>(v)] != 0; }
    bool still_uniform(int v) const {
        const Var& x = var(v);
        if (!x.param) {
            const Declarator& d = st(x.stmt).declarators[static_cast<std::size_t>(x.declarator)];
            if (!pure_range(d.init, false)) return false;
        }
        // Every write must be in a uniform statement, or a uniform for-loop step or init.
        for (const Ref& r : b_.refs) {
            if (r.var != v || !r.write) continue;
            const int s = innermost_stmt(r.token);
            if (s < 0) return false;
            const Stmt& x2 = st(s);
            if (x2.kind == StmtKind::for_ && in_range(x2.step, r.token)) {
                if (!block_position(s) || !structural_loop_header(s)) return false;
                if (!pure_range(x2.step, false, true)) return false;
                continue;
            }
            if (!uniform_statement(s)) return false;
        }
        return true;
    }
    bool structural_loop_header(int s) const { return structural(s); }
    static bool in_range(Range r, std::size_t i) { return i >= r.first && i < r.last; }
    int innermost_stmt(std::size_t token) const {
        int best = -1;
        for (std::size_t s = 0; s < b_.stmts.size(); ++s) {
            const Stmt& x = b_.stmts[s];
            if (!in_range(x.all, token)) continue;
            if (best < 0 || x.all.last - x.all.first < st(best).all.last - st(best).all.first)
                best = static_cast<int>(s);
        }
        return best;
    }

    // ---- iteration-major loops ----
    // for (T v = start; v < bound; v += stride) body, with bound and stride uniform, start
    // recomputable, v written only by the step, and no way out of the body but its end.
    void find_strided() {
        strided_.assign(b_.stmts.size(), std::nullopt);
        // Innermost first: a loop inside a strided loop stays inside its body.
        for (std::size_t s = 0; s < b_.stmts.size(); ++s) {
            const int id = static_cast<int>(s);
            const Stmt& x = st(id);
            if (x.kind != StmtKind::for_ && x.kind != StmtKind::while_) continue;
            if (has_sync(id) || !block_position(id)) continue;
            // A loop that starts alike in every thread and adds into a thread's own variable
            // (`for (k...) acc += As[ty][k] * Bs[k][tx]`) stays inside each thread's run: the
            // compiler vectorises the loop over threads around it (outer-loop vectorisation) and
            // keeps each thread's running value in a register across the steps.
            if (auto loop = match_strided(id); loop && !(loop->uniform_start && accumulates(*loop, id)))
                strided_[s] = loop;
        }
        // Only the outermost of nested candidates.
        for (std::size_t s = 0; s < b_.stmts.size(); ++s) {
            if (!strided_[s]) continue;
            for (int p = st(static_cast<int>(s)).parent; p >= 0; p = st(p).parent)
                if (strided_[static_cast<std::size_t>(p)]) strided_[s].reset();
        }
        for (const auto& s : strided_) strided_loops += s.has_value();
        // A loop is block-positioned only if its ancestors are structural: recompute once the
        // candidates are known (a candidate makes its ancestors structural).
    }

    // Whether the loop's body writes a local declared outside it (not a shared array).
    bool accumulates(const StridedLoop& loop, int id) const {
        const Range body = st(loop.body).all;
        for (const Ref& r : b_.refs) {
            if (!r.write || !in_range(body, r.token) || r.var == loop.var) continue;
            const Var& v = var(r.var);
            if (v.param) return true;
            if (v.stmt >= 0 && !contains(id, v.stmt) && class_[static_cast<std::size_t>(r.var)] != VarClass::keep)
                return true;
        }
        return false;
    }

    std::optional<StridedLoop> match_strided(int id) const {
        const Stmt& x = st(id);
        StridedLoop loop;
        Range step;
        if (x.kind == StmtKind::for_) {
            if (x.init < 0) return std::nullopt;
            const Stmt& init = st(x.init);
            if (init.kind == StmtKind::decl) {
                if (init.declarators.size() != 1) return std::nullopt;
                const Declarator& d = init.declarators[0];
                if (!d.dims.empty() || d.init_form != '=' || !d.prefix.empty()) return std::nullopt;
                loop.var = d.var;
                loop.start = d.init;
            } else {
                return std::nullopt;
            }
            step = x.step;
            loop.body = x.body;
        } else {
            // while (v < bound) { ...; v += stride; }, v declared just before with its start.
            const Stmt& body = st(x.body);
            if (body.kind != StmtKind::compound || body.children.empty()) return std::nullopt;
            const Stmt& last = st(body.children.back());
            if (last.kind != StmtKind::expr) return std::nullopt;
            step = last.head;
            loop.body = x.body;
        }
        // The condition: v op bound, or bound op v.
        const Range c = x.head;
        if (c.empty()) return std::nullopt;
        std::size_t op_at_i = npos;
        std::string op;
        for (std::size_t i = c.first; i < c.last; ++i) {
            if (is(i, '(') || is(i, '[')) {
                i = skip_group(i) - 1;
                continue;
            }
            const std::string_view o = op_at(t_, i);
            if (o == "<" || o == "<=" || o == ">" || o == ">=" || o == "!=") {
                if (op_at_i != npos) return std::nullopt;
                if (o == "<" && is(i + 1, '<')) return std::nullopt;
                op_at_i = i;
                op = std::string(o);
                i += o.size() - 1;
            } else if (o == "&&" || o == "||" || o == "?" || o == "<<" || o == ">>") {
                return std::nullopt;
            }
        }
        if (op_at_i == npos) return std::nullopt;
        const Range lhs{c.first, op_at_i}, rhs{op_at_i + op.size(), c.last};
        const auto single_var = [&](Range r) {
            return r.last == r.first + 1 && b_.ref_of[r.first] >= 0
                       ? b_.refs[static_cast<std::size_t>(b_.ref_of[r.first])].var
                       : -1;
        };
        // The variable the step advances: the for's own, or the one the while's last
        // statement steps.
        int stepped = loop.var;
        if (stepped < 0 && !step.empty()) {
            const std::size_t at = op_at(t_, step.first) == "++" ? step.first + 2 : step.first;
            if (at < step.last && b_.ref_of[at] >= 0)
                stepped = b_.refs[static_cast<std::size_t>(b_.ref_of[at])].var;
        }
        int v = -1;
        if (single_var(lhs) >= 0 && single_var(lhs) == stepped) {
            v = single_var(lhs);
            loop.bound = rhs;
            loop.op = op;
        } else if (single_var(rhs) >= 0 && single_var(rhs) == stepped) {
            v = single_var(rhs);
            loop.bound = lhs;
            loop.op = op == "<" ? ">" : op == ">" ? "<" : op == "<=" ? ">=" : op == ">=" ? "<=" : op;
        } else {
            return std::nullopt;
        }
        if (loop.op != "<" && loop.op != "<=" && loop.op != "!=") return std::nullopt;
        if (x.kind == StmtKind::for_) {
            if (v != loop.var) return std::nullopt;
        } else {
            loop.var = v;
            const Var& lv = var(v);
            if (lv.param || lv.stmt < 0 || lv.declarator < 0) return std::nullopt;
            const Stmt& decl = st(lv.stmt);
            if (decl.kind != StmtKind::decl || decl.declarators.size() != 1 ||
                decl.parent != x.parent || decl.is_shared || decl.is_static)
                return std::nullopt;
            const Declarator& d = decl.declarators[0];
            if (!d.dims.empty() || d.init_form != '=' || !d.prefix.empty()) return std::nullopt;
            loop.start = d.init;
            loop.decl_stmt = lv.stmt;
            // Used nowhere but the declaration, the loop, and not after it.
            for (const Ref& r : b_.refs) {
                if (r.var != v) continue;
                if (!in_range(x.all, r.token)) return std::nullopt;
            }
            // The declaration must come right before, nothing in between touching it.
        }
        if (!uniform(loop.bound)) return std::nullopt;
        // The step: v += stride, or v = v + stride.
        if (step.empty()) return std::nullopt;
        const auto names_v = [&](std::size_t i) {
            return i < step.last && b_.ref_of[i] >= 0 &&
                   b_.refs[static_cast<std::size_t>(b_.ref_of[i])].var == v;
        };
        if (step.last == step.first + 3 && op_at(t_, step.first) == "++" && names_v(step.first + 2)) {
            loop.stride = {};  // ++v
        } else if (!names_v(step.first) || step.first + 1 >= step.last) {
            return std::nullopt;
        } else if (const std::string_view sop = op_at(t_, step.first + 1); sop == "+=") {
            loop.stride = {step.first + 3, step.last};
        } else if (sop == "=" && step.first + 3 < step.last && names_v(step.first + 2) &&
                   is(step.first + 3, '+')) {
            loop.stride = {step.first + 4, step.last};
        } else if (sop == "++" && step.last == step.first + 3) {
            loop.stride = {};  // v++
        } else {
            return std::nullopt;
        }
        if (!loop.stride.empty() && !uniform(loop.stride)) return std::nullopt;
        if (!pure_range(loop.start, true)) return std::nullopt;
        loop.uniform_start = uniform(loop.start);
        // The body: v is not written (but by the while form's last statement), nothing leaves.
        const Range body = st(loop.body).all;
        const std::size_t step_tokens_first = x.kind == StmtKind::while_ ? step.first : body.last;
        for (const Ref& r : b_.refs) {
            if (r.var != v || !r.write) continue;
            if (in_range(body, r.token) && r.token < step_tokens_first) return std::nullopt;
        }
        for (std::size_t s = 0; s < b_.stmts.size(); ++s) {
            const Stmt& y = b_.stmts[s];
            if (!contains(loop.body, static_cast<int>(s))) continue;
            if (y.kind == StmtKind::return_ || y.kind == StmtKind::goto_ ||
                y.kind == StmtKind::label)
                return std::nullopt;
            if (y.kind == StmtKind::break_ || y.kind == StmtKind::continue_) {
                const int target = jump_target(static_cast<int>(s), y.kind == StmtKind::break_);
                if (target == id) {
                    if (y.kind == StmtKind::break_ || x.kind == StmtKind::while_) return std::nullopt;
                }
            }
        }
        return loop;
    }

    // The loop (or switch, for break) a break or continue leaves.
    int jump_target(int s, bool is_break) const {
        for (int p = st(s).parent; p >= 0; p = st(p).parent) {
            const StmtKind k = st(p).kind;
            if (k == StmtKind::for_ || k == StmtKind::while_ || k == StmtKind::do_ ||
                k == StmtKind::range_for)
                return p;
            if (is_break && k == StmtKind::switch_) return p;
        }
        return -1;
    }

    // ---- planning ----
    struct Seq {
        std::vector<Node>& out;
        int level;
        int open = -1;  // index in out of the region being filled
    };
    void piece(Seq& q, Piece p) {
        if (q.open < 0) {
            Node r;
            r.kind = NodeKind::region;
            r.level = q.level;
            r.id = regions_++;
            q.out.push_back(std::move(r));
            q.open = static_cast<int>(q.out.size()) - 1;
        }
        q.out[static_cast<std::size_t>(q.open)].pieces.push_back(p);
    }
    void node(Seq& q, Node n) {
        q.open = -1;
        q.out.push_back(std::move(n));
    }

    std::vector<Node> plan_block_list(const std::vector<int>& stmts, int level) {
        std::vector<Node> out;
        Seq q{out, level};
        std::vector<int> pending;
        const auto flush = [&] {
            if (pending.empty()) return;
            bool warp = false;
            for (const int s : pending) warp |= has_warp(s);
            if (warp && level == 0) {
                Node w;
                w.kind = NodeKind::warps;
                w.level = 0;
                w.a = plan_block_list(pending, 1);
                node(q, std::move(w));
            } else {
                for (const int s : pending) {
                    if (level == 1 && has_warp(s)) {
                        plan_statement(q, s);
                    } else {
                        piece(q, Piece{PieceKind::stmt, s});
                    }
                }
            }
            pending.clear();
        };
        for (const int s : stmts) {
            if (!why.empty()) break;
            if (consumed_decl(s)) continue;  // a while-form strided loop declares its variable
            const Stmt& x = st(s);
            const bool block_level = level_statement(s) || has_block(s) || strided_[static_cast<std::size_t>(s)] ||
                                     has_strided(s) || guarded_jump(s);
            if (!block_level && level == 0) {
                pending.push_back(s);
                continue;
            }
            if (!block_level && level == 1) {
                if (has_warp(s)) {
                    plan_statement(q, s);
                } else {
                    piece(q, Piece{PieceKind::stmt, s});
                }
                continue;
            }
            if (level == 0) flush();
            if (level == 1 && (has_block(s))) {
                fail(x.all.first, "a __syncthreads where only some warps may reach it");
                return out;
            }
            plan_statement(q, s);
        }
        flush();
        return out;
    }

    bool consumed_decl(int s) const {
        for (const auto& loop : strided_)
            if (loop && loop->decl_stmt == s) return true;
        return false;
    }

    // Statements run once in block (or warp) context as written.
    bool level_statement(int s) const {
        const Stmt& x = st(s);
        if (x.kind == StmtKind::type_decl) return true;
        if (x.kind == StmtKind::decl) {
            if (x.is_shared || x.is_static) return true;
            if (has_sync(s)) return false;
            for (const Declarator& d : x.declarators)
                if (d.var < 0 || class_[static_cast<std::size_t>(d.var)] != VarClass::uniform)
                    return false;
            return true;
        }
        return uniform_statement(s);
    }

    // `if (cond) break;` (or continue, or return) leaving a loop with barriers: the condition
    // must hold alike in every thread, and the jump is the block's.
    bool guarded_jump(int s) const {
        const Stmt& x = st(s);
        if (x.kind != StmtKind::if_ || x.else_ >= 0 || has_sync(s)) return false;
        int j = x.body;
        if (st(j).kind == StmtKind::compound) {
            if (st(j).children.size() != 1) return false;
            j = st(j).children[0];
        }
        const StmtKind k = st(j).kind;
        if (k == StmtKind::return_) return uniform(x.head) && st(j).head.empty();
        if (k != StmtKind::break_ && k != StmtKind::continue_) return false;
        const int target = jump_target(j, k == StmtKind::break_);
        return target >= 0 && structural(target);
    }

    // Deposits of the collectives in tokens r, each a piece of the current region, then the
    // split (and, for block votes, the vote nodes).
    void deposits(Seq& q, Range r) {
        const std::vector<int> in = sites_in(r);
        if (in.empty()) return;
        for (const int x : in) {
            const Site& s = sites_[static_cast<std::size_t>(x)];
            if (s.kind == SiteKind::barrier) continue;
            if ((q.level == 0) != block_site(s.kind)) {
                fail(s.name, q.level == 0 ? "a warp intrinsic where the block's threads run in step"
                                          : "a block vote inside warp-level code");
                return;
            }
            if (s.kind != SiteKind::activemask && s.kind != SiteKind::syncwarp)
                piece(q, Piece{PieceKind::deposit, -1, {}, x});
        }
        q.open = -1;
        for (const int x : in) {
            const Site& s = sites_[static_cast<std::size_t>(x)];
            if (s.kind == SiteKind::vote_count || s.kind == SiteKind::vote_and ||
                s.kind == SiteKind::vote_or) {
                Node v;
                v.kind = NodeKind::vote;
                v.level = q.level;
                v.id = x;
                node(q, std::move(v));
            }
        }
        if (q.level == 0) {
            Node split;  // a barrier: nothing to run, the next region starts after it
            split.kind = NodeKind::scope;
            split.level = q.level;
            node(q, std::move(split));
        } else {
            q.open = -1;
        }
    }

    // The condition of an if or loop: uniform, else each thread's value (agreed at block
    // level, a mask at warp level).
    CondMode condition(Seq& q, Range c, int& target) {
        if (c.empty()) return CondMode::none;
        deposits(q, c);
        if (!why.empty()) return CondMode::none;
        if (uniform(c)) return CondMode::uniform;
        target = q.level == 1 ? masks_++ : 0;
        piece(q, Piece{PieceKind::cond, -1, c, -1, target});
        q.open = -1;
        return q.level == 0 ? CondMode::agreed : CondMode::masked;
    }

    void plan_statement(Seq& q, int s) {
        const Stmt& x = st(s);
        if (strided_[static_cast<std::size_t>(s)]) {
            Node n;
            n.kind = NodeKind::strided;
            n.level = q.level;
            n.stmt = s;
            n.id = labels_++;
            node(q, std::move(n));
            return;
        }
        if (level_statement(s)) {
            Node n;
            n.kind = NodeKind::stmt;
            n.level = q.level;
            n.stmt = s;
            node(q, std::move(n));
            return;
        }
        if (guarded_jump(s)) {
            int j = x.body;
            if (st(j).kind == StmtKind::compound) j = st(j).children[0];
            Node n;
            n.kind = NodeKind::if_;
            n.level = q.level;
            n.stmt = s;
            n.cond = x.head;
            n.cond_mode = condition(q, x.head, n.mask);
            if (n.cond_mode == CondMode::masked) {
                return fail(x.all.first, "a break or continue that only some lanes of a warp take, "
                                         "out of a loop with warp intrinsics");
            }
            Node jump;
            jump.kind = NodeKind::jump;
            jump.level = q.level;
            jump.stmt = j;
            jump.jump = st(j).kind == StmtKind::return_ ? "return"
                        : st(j).kind == StmtKind::break_ ? "break"
                                                         : "continue";
            n.a.push_back(std::move(jump));
            node(q, std::move(n));
            return;
        }
        switch (x.kind) {
            case StmtKind::expr:
            case StmtKind::decl:
            case StmtKind::return_: {
                if (x.kind == StmtKind::expr && sites_in(x.all).size() == 1 &&
                    sites_[static_cast<std::size_t>(sites_in(x.all)[0])].kind == SiteKind::barrier) {
                    const Site& b = sites_[static_cast<std::size_t>(sites_in(x.all)[0])];
                    if (x.head.first != b.name || x.head.last != b.end) {
                        return fail(b.name, "__syncthreads() inside an expression");
                    }
                    if (q.level == 1) return fail(b.name, "__syncthreads where only some warps may reach it");
                    q.open = -1;
                    Node split;
                    split.kind = NodeKind::scope;
                    split.level = q.level;
                    node(q, std::move(split));
                    return;
                }
                for (const int site : sites_in(x.all))
                    if (sites_[static_cast<std::size_t>(site)].kind == SiteKind::barrier)
                        return fail(sites_[static_cast<std::size_t>(site)].name,
                                    "__syncthreads() inside an expression");
                deposits(q, x.all);
                if (!why.empty()) return;
                if (x.kind == StmtKind::decl && level_statement_after_votes(s)) {
                    Node n;
                    n.kind = NodeKind::stmt;
                    n.level = q.level;
                    n.stmt = s;
                    node(q, std::move(n));
                } else {
                    piece(q, Piece{PieceKind::stmt, s});
                }
                return;
            }
            case StmtKind::compound: {
                Node n;
                n.kind = NodeKind::scope;
                n.level = q.level;
                n.a = plan_block_list(x.children, q.level);
                node(q, std::move(n));
                return;
            }
            case StmtKind::if_: {
                Node n;
                n.kind = NodeKind::if_;
                n.level = q.level;
                n.stmt = s;
                n.cond = x.head;
                n.cond_mode = condition(q, x.head, n.mask);
                if (!why.empty()) return;
                n.a = plan_block_list(as_list(x.body), q.level);
                if (x.else_ >= 0) n.b = plan_block_list(as_list(x.else_), q.level);
                node(q, std::move(n));
                return;
            }
            case StmtKind::for_:
            case StmtKind::while_:
            case StmtKind::do_: {
                Node n;
                n.kind = NodeKind::loop;
                n.level = q.level;
                n.stmt = s;
                n.id = labels_++;
                n.do_while = x.kind == StmtKind::do_;
                if (x.kind == StmtKind::for_ && x.init >= 0 && st(x.init).kind != StmtKind::empty) {
                    if (has_sync(x.init)) return fail(x.all.first, "a barrier in a for loop's header");
                    n.init = plan_block_list({x.init}, q.level);
                }
                for (const std::size_t i : {x.head.first, x.step.first}) {
                    if (i < t_.size() && !sites_in(x.kind == StmtKind::for_ ? x.step : Range{}).empty())
                        return fail(i, "a barrier or warp intrinsic in a for loop's step");
                }
                Seq pre{n.pre, q.level};
                n.cond = x.head;
                n.cond_mode = condition(pre, x.head, n.mask);
                if (!why.empty()) return;
                n.a = plan_block_list(as_list(x.body), q.level);
                if (x.kind == StmtKind::for_ && !x.step.empty()) {
                    if (pure_range(x.step, false, true) && writes_only_uniform(x.step)) {
                        n.step = x.step;
                    } else {
                        Seq post{n.post, q.level};
                        step_piece(post, x.step);
                    }
                }
                node(q, std::move(n));
                return;
            }
            default:
                return fail(x.all.first, "this statement around a barrier or warp intrinsic");
        }
    }
    void step_piece(Seq& q, Range r) {
        Piece p;
        p.kind = PieceKind::cond;
        p.range = r;
        p.target = -1;  // an expression run for its effect
        piece(q, p);
    }
    bool level_statement_after_votes(int s) const {
        const Stmt& x = st(s);
        for (const int site : sites_in(x.all))
            if (!block_site(sites_[static_cast<std::size_t>(site)].kind)) return false;
        if (x.is_shared || x.is_static) return false;
        for (const Declarator& d : x.declarators)
            if (d.var < 0 || class_[static_cast<std::size_t>(d.var)] != VarClass::uniform)
                return false;
        return true;
    }
    std::vector<int> as_list(int s) const {
        if (s < 0) return {};
        if (st(s).kind == StmtKind::compound) return st(s).children;
        return {s};
    }

    // ---- classification ----
    // Which regions mention each local; a local of several regions lives in an array.
    void note_range(Range r, int region) {
        for (std::size_t i = r.first; i < r.last && i < t_.size(); ++i) {
            const int ref = b_.ref_of[i];
            if (ref < 0) continue;
            const int v = b_.refs[static_cast<std::size_t>(ref)].var;
            regions_of_[static_cast<std::size_t>(v)].insert(region);
            if (class_[static_cast<std::size_t>(v)] == VarClass::remat)
                version_regions_[static_cast<std::size_t>(v)][static_cast<std::size_t>(version_of(v, i))].insert(region);
        }
    }
    void note_decls(int s, int region) {
        // Declarations nested anywhere in s belong to the region too.
        for (std::size_t d = 0; d < b_.stmts.size(); ++d) {
            if (b_.stmts[d].kind != StmtKind::decl || !contains(s, static_cast<int>(d))) continue;
            for (const Declarator& dc : b_.stmts[d].declarators)
                if (dc.var >= 0) regions_of_[static_cast<std::size_t>(dc.var)].insert(region);
        }
        for (std::size_t v = 0; v < b_.vars.size(); ++v) {
            const Var& x = b_.vars[v];
            if (x.stmt >= 0 && x.declarator < 0 && contains(s, x.stmt))
                regions_of_[v].insert(region);  // a range-for's variable
        }
    }
    void note(const std::vector<Node>& nodes, int top) {
        for (std::size_t i = 0; i < nodes.size(); ++i) {
            const Node& n = nodes[i];
            const int here = top >= 0 ? top : static_cast<int>(i);
            switch (n.kind) {
                case NodeKind::region:
                    region_top_[n.id] = here;
                    for (const Piece& p : n.pieces) {
                        if (p.kind == PieceKind::stmt) {
                            note_range(st(p.stmt).all, n.id);
                            note_decls(p.stmt, n.id);
                        } else if (p.kind == PieceKind::cond) {
                            note_range(p.range, n.id);
                        } else {
                            for (const Range& a : sites_[static_cast<std::size_t>(p.site)].args)
                                note_range(a, n.id);
                        }
                    }
                    break;
                case NodeKind::strided: {
                    const int region = regions_++;
                    region_top_[region] = here;
                    strided_region_[n.stmt] = region;
                    note_range(st(n.stmt).all, region);
                    note_decls(n.stmt, region);
                    const StridedLoop& sl = *strided_[static_cast<std::size_t>(n.stmt)];
                    if (sl.decl_stmt >= 0) {
                        note_range(st(sl.decl_stmt).all, region);
                        note_decls(sl.decl_stmt, region);
                    }
                    break;
                }
                default:
                    break;
            }
            note(n.init, here);
            note(n.pre, here);
            note(n.a, here);
            note(n.b, here);
            note(n.post, here);
        }
    }
    void classify() {
        regions_of_.assign(b_.vars.size(), {});
        version_regions_.assign(b_.vars.size(), {});
        for (std::size_t v = 0; v < b_.vars.size(); ++v) version_regions_[v].resize(versions_[v].size());
        note(nodes_, -1);
        for (std::size_t v = 0; v < b_.vars.size(); ++v) {
            const Var& x = b_.vars[v];
            if (class_[v] != VarClass::local) continue;
            if (x.param) continue;
            if (regions_of_[v].size() <= 1) continue;
            class_[v] = VarClass::array;
            const Stmt& s = st(x.stmt);
            if (x.declarator < 0 || s.kind != StmtKind::decl) {
                return fail(s.all.first, "'" + x.name + "' lives across a barrier but is not "
                                                        "declared by a plain declaration");
            }
            const Declarator& d = s.declarators[static_cast<std::size_t>(x.declarator)];
            for (std::size_t i = d.prefix.first; i < d.prefix.last; ++i)
                if (is(i, '&'))
                    return fail(d.name, "the reference '" + x.name + "' lives across a barrier");
            if (s.is_auto)
                return fail(d.name, "'" + x.name + "' is declared 'auto' and lives across a "
                                                   "barrier; give it its type");
            // Its declaration must be a statement of a region of its own.
            if (!top_level_piece(x.stmt))
                return fail(d.name, "'" + x.name + "' lives across a barrier but is declared "
                                                   "where not every thread runs");
        }
        for (std::size_t v = 0; v < b_.vars.size(); ++v) {
            if (class_[v] == VarClass::array) {
                const int region = *regions_of_[v].begin();
                array_at_top_[region_top_[decl_region(static_cast<int>(v))]].push_back(static_cast<int>(v));
                (void)region;
            }
        }
    }
    bool top_level_piece(int stmt) const {
        return piece_region_.count(stmt) || piece_of(nodes_, stmt);
    }
    bool piece_of(const std::vector<Node>& nodes, int stmt) const {
        for (const Node& n : nodes) {
            if (n.kind == NodeKind::region)
                for (const Piece& p : n.pieces)
                    if (p.kind == PieceKind::stmt && p.stmt == stmt) return true;
            if (n.kind == NodeKind::strided) {
                const StridedLoop& sl = *strided_[static_cast<std::size_t>(n.stmt)];
                if (sl.decl_stmt == stmt) return false;
            }
            if (piece_of(n.init, stmt) || piece_of(n.pre, stmt) || piece_of(n.a, stmt) ||
                piece_of(n.b, stmt) || piece_of(n.post, stmt))
                return true;
        }
        return false;
    }
    int decl_region(int v) const {
        const int s = var(v).stmt;
        int found = -1;
        find_region(nodes_, s, found);
        return found;
    }
    void find_region(const std::vector<Node>& nodes, int stmt, int& found) const {
        for (const Node& n : nodes) {
            if (n.kind == NodeKind::region)
                for (const Piece& p : n.pieces)
                    if (p.kind == PieceKind::stmt && contains(p.stmt, stmt)) found = n.id;
            if (n.kind == NodeKind::strided && contains(n.stmt, stmt))
                found = strided_region_.at(n.stmt);
            find_region(n.init, stmt, found);
            find_region(n.pre, stmt, found);
            find_region(n.a, stmt, found);
            find_region(n.b, stmt, found);
            find_region(n.post, stmt, found);
        }
    }

    // ---- emission ----
    struct Ctx {
        int level = 0;
        int region = -1;       // the region whose pieces are being written (-1: block context)
        int strided = -1;      // inside an iteration-major loop's body: its statement
        int label = -1;        // the region's end label
        bool* used_label = nullptr;
        int loop_label = -1;   // the innermost block-level loop's continue label (-1: natural)
        bool flat = false;     // into one line (an operand of generated code)
        // Conditions written as `true` (first token -> end): a row of threads where each
        // holds for the first and the last thread (see guards()).
        const std::map<std::size_t, std::size_t>* as_true = nullptr;
    };

    // The output, and the line of the user's source that the compiler counts at its end.
    struct Out {
        std::string s;
        int line = 0;
        void raw(std::string_view x) {
            s += x;
            if (line > 0) line += static_cast<int>(std::count(x.begin(), x.end(), '\n'));
        }
        void at(int l) {
            if (l <= 0 || l == line) return;
            if (!s.empty() && s.back() != '\n') s += '\n';
            s += "#line " + std::to_string(l) + " \"kernel.cu\"\n";
            line = l;
        }
    };

    static std::string n(int i) { return std::to_string(i); }

    bool returns_in_thread_code() const {
        for (std::size_t s = 0; s < b_.stmts.size(); ++s)
            if (b_.stmts[s].kind == StmtKind::return_ && !block_return_.count(static_cast<int>(s)))
                return true;
        return false;
    }
    void find_block_returns(const std::vector<Node>& nodes) {
        for (const Node& x : nodes) {
            if (x.kind == NodeKind::jump && x.jump == "return") block_return_.insert(x.stmt);
            find_block_returns(x.init);
            find_block_returns(x.pre);
            find_block_returns(x.a);
            find_block_returns(x.b);
            find_block_returns(x.post);
        }
    }

    int stmt_at(std::size_t token, StmtKind kind) const {
        const auto it = stmt_start_.find(token);
        if (it == stmt_start_.end()) return -1;
        for (const int s : it->second)
            if (st(s).kind == kind) return s;
        return -1;
    }

    // Tokens r as written, with the locals that live across splits renamed, returns and
    // continues of thread code made region exits, and collectives replaced by their results.
    void emit_tokens(Out& o, Range r, const Ctx& ctx) {
        if (r.empty()) return;
        if (!ctx.flat) o.at(line(r.first));
        for (std::size_t i = r.first; i < r.last; ++i) {
            if (i > r.first) gap(o, i, ctx);
            if (ctx.as_true) {
                if (const auto it = ctx.as_true->find(i); it != ctx.as_true->end() && it->second <= r.last) {
                    o.raw("true");
                    i = it->second - 1;
                    continue;
                }
            }
            if (const int s = stmt_at(i, StmtKind::return_); s >= 0 && ctx.region >= 0 && s_inside(s, r)) {
                o.raw(exit_text(ctx));
                i = st(s).all.last - 1;
                continue;
            }
            if (const int s = stmt_at(i, StmtKind::continue_);
                s >= 0 && ctx.strided >= 0 && jump_target(s, false) == ctx.strided) {
                o.raw("goto __mc_end" + n(ctx.label) + ";");
                if (ctx.used_label) *ctx.used_label = true;
                i = st(s).all.last - 1;
                continue;
            }
            if (site_at_[i] >= 0) {
                const Site& site = sites_[static_cast<std::size_t>(site_at_[i])];
                o.raw(site_result(site, ctx));
                i = site.end - 1;
                continue;
            }
            o.raw(token_text(i));
        }
    }
    bool s_inside(int s, Range r) const { return st(s).all.first >= r.first && st(s).all.last <= r.last; }

    void gap(Out& o, std::size_t i, const Ctx& ctx) {
        const std::string_view g(k_.text.data() + t_[i - 1].end(), t_[i].begin - t_[i - 1].end());
        if (ctx.flat) {
            o.raw(g.find_first_not_of(" \t") == npos && !g.empty() ? " " : (g.empty() ? "" : " "));
            return;
        }
        int kline = t_[i - 1].line;
        std::size_t from = 0;
        for (std::size_t c = 0; c < g.size(); ++c) {
            if (g[c] != '\n') continue;
            o.raw(g.substr(from, c + 1 - from));
            from = c + 1;
            ++kline;
            const int mapped = kline <= k_.lines() ? k_.line_of[static_cast<std::size_t>(kline)] : 0;
            if (mapped > 0 && mapped != o.line) {
                o.s += "#line " + n(mapped) + " \"kernel.cu\"\n";
                o.line = mapped;
            }
        }
        o.raw(g.substr(from));
    }

    std::string token_text(std::size_t i) const {
        // The launch's indices as locals of the block's function, which the compiler keeps in
        // registers (the prelude's are thread-local variables of the library).
        if (t_[i].kind == Kind::ident && !(i > 0 && (is(i - 1, '.') || is(i - 1, '>')))) {
            const std::string_view w = t_[i].text;
            if (w == "threadIdx") return "__mc_tid";
            if (w == "blockIdx") return "__mc_bid";
            if (w == "blockDim") return "__mc_bdim";
            if (w == "gridDim") return "__mc_gdim";
        }
        const int ref = b_.ref_of[i];
        if (ref >= 0) {
            const int v = b_.refs[static_cast<std::size_t>(ref)].var;
            const VarClass c = class_[static_cast<std::size_t>(v)];
            if (c == VarClass::array) return "__mc_e" + n(v) + "[__mc_t]";
            if (c == VarClass::remat) return remat_name(v, version_of(v, i));
            if (bound_.count(v)) return "__mc_k" + n(v);
        }
        return std::string(t_[i].text);
    }

    std::string text_of(Range r, const Ctx& ctx) {
        Out o;
        Ctx flat = ctx;
        flat.flat = true;
        emit_tokens(o, r, flat);
        return o.s;
    }

    std::string exit_text(const Ctx& ctx) {
        if (ctx.used_label) *ctx.used_label = true;
        std::string s = "{ __mc_exited[__mc_t] = true; ";
        if (ctx.level == 1) s += "__mc_act &= ~(1u << __mc_l); ";
        return s + "goto __mc_end" + n(ctx.label) + "; }";
    }

    std::string arg(const Site& s, std::size_t k, const Ctx& ctx, const char* otherwise) {
        return k < s.args.size() ? "(" + text_of(s.args[k], ctx) + ")" : otherwise;
    }

    std::string site_result(const Site& s, const Ctx& ctx) {
        const std::string x = "__mc_x" + n(s.id), b = "__mc_b" + n(s.id);
        const auto value_type = [&] { return "::std::decay_t<decltype(" + arg(s, 1, ctx, "0") + ")>"; };
        const auto shuffle = [&](const char* fn) {
            return std::string("::__mc::fx::") + fn + "<" + value_type() + ">(" + x + ", __mc_l, " +
                   arg(s, 2, ctx, "0") + ", " + arg(s, 3, ctx, "32") + ")";
        };
        switch (s.kind) {
            case SiteKind::barrier:
            case SiteKind::syncwarp:
                return "((void)0)";
            case SiteKind::vote_count:
            case SiteKind::vote_and:
            case SiteKind::vote_or:
                return "__mc_v" + n(s.id);
            case SiteKind::shfl:
                return shuffle("shfl");
            case SiteKind::shfl_up:
                return shuffle("shfl_up");
            case SiteKind::shfl_down:
                return shuffle("shfl_down");
            case SiteKind::shfl_xor:
                return shuffle("shfl_xor");
            // The lanes' predicates are one word of the warp, gathered as they were deposited.
            case SiteKind::ballot:
                return "(" + b + " & __mc_act)";
            case SiteKind::any:
                return "(int)((" + b + " & __mc_act) != 0u)";
            case SiteKind::all:
                return "(int)((" + b + " & __mc_act) == __mc_act)";
            case SiteKind::activemask:
                return "__mc_act";
            case SiteKind::match_any:
                return "::__mc::fx::match_any(" + x + ", __mc_l, __mc_act)";
            case SiteKind::match_all:
                return "::__mc::fx::match_all(" + x + ", __mc_l, __mc_act, " + arg(s, 2, ctx, "nullptr") + ")";
            case SiteKind::reduce: {
                const std::string name(t_[s.name].text);
                const std::string op = name.substr(9, name.find("_sync") - 9);  // __reduce_
                return "::__mc::fx::reduce_" + op + "<" + reduce_type(s, ctx) + ">(" + x + ", __mc_act)";
            }
        }
        return "0";
    }
    std::string reduce_type(const Site& s, const Ctx& ctx) {
        return "decltype(" + std::string(t_[s.name].text) + "(0u, " + arg(s, 1, ctx, "0") + "))";
    }
    static bool predicate_site(SiteKind k) {
        return k == SiteKind::ballot || k == SiteKind::any || k == SiteKind::all;
    }

    std::string deposit_text(const Site& s, const Ctx& ctx) {
        const std::string x = "__mc_x" + n(s.id);
        switch (s.kind) {
            case SiteKind::vote_count:
            case SiteKind::vote_and:
            case SiteKind::vote_or:
                return "__mc_p" + n(s.id) + "[__mc_t] = " + arg(s, 0, ctx, "0") + " != 0;";
            case SiteKind::ballot:
            case SiteKind::any:
            case SiteKind::all:
                return "__mc_b" + n(s.id) + " |= (unsigned)(" + arg(s, 1, ctx, "0") + " != 0) << __mc_l;";
            case SiteKind::match_any:
            case SiteKind::match_all:
                return "::__mc::fx::put_bits(" + x + ", __mc_l, " + arg(s, 1, ctx, "0") + ");";
            case SiteKind::reduce:
                return "::__mc::fx::put(" + x + ", __mc_l, (" + reduce_type(s, ctx) + ")" +
                       arg(s, 1, ctx, "0") + ");";
            default:
                return "::__mc::fx::put(" + x + ", __mc_l, " + arg(s, 1, ctx, "0") + ");";
        }
    }

    // The type of a local's per-thread array element: its declared type without top-level
    // const (each thread's element is assigned).
    std::string var_type(int v, const Ctx& ctx) {
        const Var& x = var(v);
        const Stmt& s = st(x.stmt);
        const Declarator& d = s.declarators[static_cast<std::size_t>(x.declarator)];
        bool pointer = false;
        for (std::size_t i = d.prefix.first; i < d.prefix.last; ++i) pointer |= is(i, '*');
        std::string type;
        for (std::size_t i = s.type.first; i < s.type.last; ++i) {
            const std::string_view w = t_[i].text;
            if (w == "static" || w == "register" || w == "constexpr" || w == "inline" ||
                w == "thread_local" || (w == "const" && !pointer))
                continue;
            type += text_of({i, i + 1}, ctx) + " ";
        }
        std::size_t last_star = npos;
        for (std::size_t i = d.prefix.first; i < d.prefix.last; ++i)
            if (is(i, '*')) last_star = i;
        for (std::size_t i = d.prefix.first; i < d.prefix.last; ++i) {
            if (t_[i].text == "const" && i > last_star) continue;
            type += std::string(t_[i].text);
            type += t_[i].kind == Kind::ident ? " " : "";
        }
        return type;
    }

    // A declaration run by each thread: arrays' elements assigned, recomputed locals left to
    // the regions, the others declared as written.
    void emit_decl(Out& o, int s, const Ctx& ctx) {
        const Stmt& x = st(s);
        bool plain = true;
        for (const Declarator& d : x.declarators)
            plain &= d.var < 0 || class_[static_cast<std::size_t>(d.var)] == VarClass::local ||
                     class_[static_cast<std::size_t>(d.var)] == VarClass::keep;
        if (plain) return emit_tokens(o, x.all, ctx);
        o.at(line(x.all.first));
        for (const Declarator& d : x.declarators) {
            const VarClass c = d.var < 0 ? VarClass::local : class_[static_cast<std::size_t>(d.var)];
            if (c == VarClass::remat) continue;
            if (c == VarClass::array) {
                if (d.init.empty()) continue;
                const std::string e = "__mc_e" + n(d.var) + "[__mc_t]";
                if (!d.dims.empty()) {
                    o.raw("{ " + var_type(d.var, ctx) + " __mc_init" + text_of(d.dims, ctx) +
                          (d.init_form == '=' ? " = " : " ") + text_of(d.init, ctx) +
                          "; ::std::memcpy(&" + e + ", &__mc_init, sizeof __mc_init); } ");
                } else if (d.init_form == '=') {
                    o.raw(e + " = ");
                    emit_tokens(o, d.init, ctx);
                    o.raw("; ");
                } else {
                    o.raw(e + " = " + var_type(d.var, ctx) + text_of(d.init, ctx) + "; ");
                }
                continue;
            }
            emit_tokens(o, x.type, ctx);
            o.raw(" ");
            const std::size_t end = !d.init.empty() ? d.init.last : !d.dims.empty() ? d.dims.last : d.name + 1;
            emit_tokens(o, {d.prefix.empty() ? d.name : d.prefix.first, end}, ctx);
            o.raw("; ");
        }
    }

    // Recomputed locals that region `region` reads, with those they are computed from, in
    // declaration order.
    std::string remat_decls(int region, const Ctx& ctx) {
        // (variable, version) pairs, with those their values are computed from.
        std::set<std::pair<int, int>> need;
        for (std::size_t v = 0; v < b_.vars.size(); ++v) {
            if (class_[v] != VarClass::remat) continue;
            for (std::size_t k = 0; k < version_regions_[v].size(); ++k)
                if (version_regions_[v][k].count(region)) need.insert({static_cast<int>(v), static_cast<int>(k)});
        }
        for (bool grew = true; grew;) {
            grew = false;
            for (const auto& [v, k] : std::set<std::pair<int, int>>(need)) {
                const Range init = versions_[static_cast<std::size_t>(v)][static_cast<std::size_t>(k)];
                for (std::size_t i = init.first; i < init.last; ++i) {
                    const int ref = b_.ref_of[i];
                    if (ref < 0) continue;
                    const int w = b_.refs[static_cast<std::size_t>(ref)].var;
                    if (class_[static_cast<std::size_t>(w)] == VarClass::remat &&
                        need.insert({w, version_of(w, i)}).second)
                        grew = true;
                }
            }
        }
        // In the order the values were computed (each reads only earlier ones).
        std::vector<std::pair<int, int>> order(need.begin(), need.end());
        std::sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
            return versions_[static_cast<std::size_t>(a.first)][static_cast<std::size_t>(a.second)].first <
                   versions_[static_cast<std::size_t>(b.first)][static_cast<std::size_t>(b.second)].first;
        });
        std::string out;
        for (const auto& [v, k] : order) {
            const std::string name = remat_name(v, k);
            const Range init = versions_[static_cast<std::size_t>(v)][static_cast<std::size_t>(k)];
            const std::string type = var_type(v, ctx);
            const std::string affine = signed_affine(type, init, ctx);
            out += type + " " + name + " = " + (affine.empty() ? text_of(init, ctx) : affine) +
                   "; (void)" + name + "; ";
        }
        return out;
    }

    // `int i = blockIdx.x * blockDim.x + threadIdx.x;` adds in unsigned arithmetic (CUDA's
    // indices are unsigned), which may wrap, so the compiler cannot take i as an affine function
    // of the thread and gathers where it would load a vector. A signed local gets the same value
    // as (int)(uniform part) + (int)threadIdx.x, which does not wrap wherever the original
    // fits its type, the only case in which the kernel is right on a GPU as well.
    std::string signed_affine(const std::string& type, Range init, const Ctx& ctx) {
        if (type.find("unsigned") != std::string::npos || type.find('*') != std::string::npos ||
            !(type.find("int") != std::string::npos || type.find("long") != std::string::npos ||
              type.find("short") != std::string::npos))
            return {};
        std::vector<Range> terms;
        std::size_t start = init.first;
        for (std::size_t i = init.first; i < init.last; ++i) {
            if (is(i, '(') || is(i, '[')) {
                i = skip_group(i) - 1;
                continue;
            }
            const std::string_view o = op_at(t_, i);
            if (o == "-" || o == "?" || o == "<<" || o == ">>" || o == "&" || o == "|" || o == "^" ||
                o == "," || o == "<" || o == ">")
                return {};
            if (is(i, '+') && o == "+" && !unary_at(i)) {
                terms.push_back({start, i});
                start = i + 1;
            }
        }
        terms.push_back({start, init.last});
        if (terms.size() < 2) return {};
        int x_term = -1;
        for (std::size_t k = 0; k < terms.size(); ++k) {
            if (names_x(terms[k].first, terms[k].last)) {
                if (x_term >= 0) return {};
                x_term = static_cast<int>(k);
            } else if (!uniform(terms[k])) {
                return {};
            }
        }
        if (x_term < 0) return {};
        std::string rest;
        for (std::size_t k = 0; k < terms.size(); ++k)
            if (static_cast<int>(k) != x_term) rest += (rest.empty() ? "(" : " + (") + text_of(terms[k], ctx) + ")";
        return "(" + type + ")(" + rest + ") + (" + type + ")(" +
               text_of(terms[static_cast<std::size_t>(x_term)], ctx) + ")";
    }
    static std::string remat_name(int v, int k) { return "__mc_r" + n(v) + (k ? "_" + n(k) : ""); }

    // The loop over a block's threads (level 0) or a warp's lanes (level 1).
    // The loop over a block's threads (level 0: x innermost, over [lo, hi) of x) or a warp's
    // lanes (level 1). In its body `threadIdx` is __mc_tid, a local the compiler keeps in
    // registers; the prelude's thread-local copy is kept too, for helpers that read it.
    // `between`: code run once per row of threads (y, z), around the loop over x.
    void thread_loop_open(Out& o, const Ctx& ctx, const std::string& lo = "0",
                          const std::string& hi = "__mc_bx", const std::string& between = "",
                          bool check_lanes = true) {
        if (ctx.level == 0 && flat_) {
            // A one-dimensional block (the body's first copy): one loop over x.
            o.raw("\n{" + between + "\n#pragma GCC ivdep\n"
                  "for (int __mc_x = (int)(" + lo + "); __mc_x < (int)(" + hi + "); ++__mc_x) {"
                  " const int __mc_t = __mc_x; __mc_tls.x = (unsigned)__mc_x;"
                  " const ::uint3 __mc_tid{(unsigned)__mc_x, 0u, 0u}; (void)__mc_tid;");
            if (exits_) o.raw(" if (__mc_exited[__mc_t]) continue;");
        } else if (ctx.level == 0) {
            // Signed indices (at most 1024 threads): the compiler may take them as affine.
            o.raw("\nfor (int __mc_z = 0; __mc_z < (int)__mc_bz; ++__mc_z) { __mc_tls.z = (unsigned)__mc_z;"
                  " for (int __mc_y = 0; __mc_y < (int)__mc_by; ++__mc_y) { __mc_tls.y = (unsigned)__mc_y;"
                  " const int __mc_row = (__mc_z * (int)__mc_by + __mc_y) * (int)__mc_bx;" + between +
                  "\n#pragma GCC ivdep\n"
                  "for (int __mc_x = (int)(" + lo + "); __mc_x < (int)(" + hi + "); ++__mc_x) {"
                  " const int __mc_t = __mc_row + __mc_x; __mc_tls.x = (unsigned)__mc_x;"
                  " const ::uint3 __mc_tid{(unsigned)__mc_x, (unsigned)__mc_y, (unsigned)__mc_z};"
                  " (void)__mc_tid;");
            if (exits_) o.raw(" if (__mc_exited[__mc_t]) continue;");
        } else if (flat_) {
            o.raw("\n#pragma GCC ivdep\nfor (int __mc_l = 0; __mc_l < (int)__mc_lanes; ++__mc_l) {");
            if (check_lanes) o.raw(" if (!(__mc_act >> __mc_l & 1u)) continue;");
            o.raw(" const int __mc_t = (int)__mc_w * 32 + __mc_l;"
                  " const ::uint3 __mc_tid{(unsigned)__mc_t, 0u, 0u}; __mc_tls = __mc_tid;");
        } else {
            o.raw("\n#pragma GCC ivdep\nfor (int __mc_l = 0; __mc_l < (int)__mc_lanes; ++__mc_l) {");
            if (check_lanes) o.raw(" if (!(__mc_act >> __mc_l & 1u)) continue;");
            o.raw(""
                  " const int __mc_t = (int)__mc_w * 32 + __mc_l;"
                  " const ::uint3 __mc_tid = __mc_flat ? ::uint3{(unsigned)__mc_t, 0u, 0u}"
                  " : ::uint3{(unsigned)__mc_t % __mc_bx, (unsigned)__mc_t / __mc_bx % __mc_by,"
                  " (unsigned)__mc_t / (__mc_bx * __mc_by)};"
                  " __mc_tls = __mc_tid;");
        }
        o.raw(" {\n");
    }
    void thread_loop_close(Out& o, const Ctx& ctx, bool used_label, const std::string& between = "") {
        o.raw("\n}");
        if (used_label) o.raw(" __mc_end" + n(ctx.label) + ":;");
        o.raw(ctx.level != 0 ? " }\n" : flat_ ? " }" + between + " }\n" : " }" + between + " } }\n");
    }

    // A region that is one `if` on the thread's x index alone (`if (tid < stride)`, `if
    // (threadIdx.x == 0)`) runs its loop over just the threads that pass, when the bounds lie
    // within the block (else as written).
    struct XBound {
        std::string op;  // <, <=, ==, >=, >: x op value
        Range value;
    };
    bool names_x(std::size_t first, std::size_t last) const {
        // threadIdx.x, or a recomputed local that is exactly that.
        if (last == first + 3 && word(first, "threadIdx") && is(first + 1, '.') && word(first + 2, "x"))
            return true;
        if (last != first + 1 || b_.ref_of[first] < 0) return false;
        const int v = b_.refs[static_cast<std::size_t>(b_.ref_of[first])].var;
        if (class_[static_cast<std::size_t>(v)] != VarClass::remat) return false;
        const Range init = versions_[static_cast<std::size_t>(v)][static_cast<std::size_t>(version_of(v, first))];
        return names_x(init.first, init.last);
    }
    std::optional<std::vector<XBound>> x_bounds(const Node& r) const {
        if (r.level != 0 || r.pieces.size() != 1 || r.pieces[0].kind != PieceKind::stmt) return std::nullopt;
        const Stmt& x = st(r.pieces[0].stmt);
        if (x.kind != StmtKind::if_ || x.else_ >= 0) return std::nullopt;
        std::vector<XBound> bounds;
        std::size_t start = x.head.first;
        for (std::size_t i = x.head.first; i <= x.head.last; ++i) {
            if (i < x.head.last && (is(i, '(') || is(i, '['))) {
                i = skip_group(i) - 1;
                continue;
            }
            const bool end = i == x.head.last || op_at(t_, i) == "&&";
            if (!end) {
                if (op_at(t_, i) == "||" || is(i, '?')) return std::nullopt;
                continue;
            }
            // One conjunct [start, i): x op value, or value op x.
            std::size_t at = npos;
            std::string op;
            for (std::size_t k = start; k < i; ++k) {
                const std::string_view o = op_at(t_, k);
                if (o == "<" || o == "<=" || o == ">" || o == ">=" || o == "==") {
                    if (at != npos) return std::nullopt;
                    at = k;
                    op = std::string(o);
                    k += o.size() - 1;
                } else if (is(k, '(') || is(k, '[')) {
                    k = skip_group(k) - 1;
                }
            }
            if (at == npos || op_at(t_, at) == "<<" || op_at(t_, at) == ">>") return std::nullopt;
            const Range lhs{start, at}, rhs{at + op.size(), i};
            static const std::pair<const char*, const char*> flips[] = {
                {"<", ">"}, {">", "<"}, {"<=", ">="}, {">=", "<="}, {"==", "=="}};
            if (names_x(lhs.first, lhs.last) && uniform(rhs)) {
                bounds.push_back({op, rhs});
            } else if (names_x(rhs.first, rhs.last) && uniform(lhs)) {
                for (const auto& [a, b] : flips)
                    if (op == a) bounds.push_back({b, lhs});
            } else {
                return std::nullopt;
            }
            if (i < x.head.last) i += 1;
            start = i + 1;
        }
        return bounds;
    }

    // ---- blocks where every guard holds ----
    // `s[t] = i < n ? x[i] : 0.0f;` and `if (row < n && col < n) ...` hold for every thread of
    // most blocks: a block whose guards hold for its first and its last thread runs them as
    // `true`, and the compiler loads and stores vectors where it would mask each lane. A guard
    // qualifies when each of its conjuncts either is the same for every thread or compares a
    // value that is the same for every thread with one that grows with the thread's indices (a
    // sum of threadIdx.x, .y, .z and such values): its truth then holds for the whole block when
    // it holds at both corners. The growing sides are checked not to wrap or be negative.
    struct Guards {
        std::map<std::size_t, std::size_t> conditions;  // first token -> end
        std::vector<Range> growing;                      // sides that grow with the indices
    };

    // Whether tokens r depend on the thread, directly or through its locals.
    bool mentions_thread(Range r, int depth = 0) const {
        if (depth > 16) return true;
        for (std::size_t i = r.first; i < r.last; ++i) {
            if (word(i, "threadIdx") && !(i > r.first && (is(i - 1, '.') || is(i - 1, '>')))) return true;
            const int ref = b_.ref_of[i];
            if (ref < 0) continue;
            const int v = b_.refs[static_cast<std::size_t>(ref)].var;
            const VarClass c = class_[static_cast<std::size_t>(v)];
            if (c == VarClass::remat) {
                const Range init = versions_[static_cast<std::size_t>(v)][static_cast<std::size_t>(version_of(v, i))];
                if (mentions_thread(init, depth + 1)) return true;
            } else if (c != VarClass::uniform && !(c == VarClass::keep && var(v).array)) {
                return true;  // a thread's own value
            }
        }
        return false;
    }

    // Whether tokens r are a sum of the thread's indices (each at most once) and values that
    // are the same for every thread, those minus such values.
    bool grows_with_thread(Range r, int depth = 0) const {
        if (depth > 16 || r.empty()) return false;
        std::vector<std::pair<Range, bool>> terms;  // (term, added)
        std::size_t start = r.first;
        bool added = true;
        for (std::size_t i = r.first; i < r.last; ++i) {
            if (is(i, '(') || is(i, '[')) {
                i = skip_group(i) - 1;
                continue;
            }
            const std::string_view o = op_at(t_, i);
            if (o.size() == 1 && (o == "+" || o == "-") && i > start && !unary_at(i)) {
                terms.push_back({{start, i}, added});
                added = o == "+";
                start = i + 1;
                continue;
            }
            // Operators that bind less tightly than + would make r something other than a sum.
            static constexpr std::string_view loose[] = {"<", ">", "<=", ">=", "==", "!=", "?", ":",
                                                         ",", "&&", "||", "<<", ">>", "|", "^"};
            if (std::find(std::begin(loose), std::end(loose), o) != std::end(loose)) return false;
            if (o == "&" && !unary_at(i)) return false;
            if (!o.empty() && o.back() == '=') return false;
            if (o.size() > 1) i += o.size() - 1;
        }
        terms.push_back({{start, r.last}, added});
        bool grows = false;
        for (const auto& [t, plus] : terms) {
            if (!mentions_thread(t)) {
                if (!pure_range(t, true, false, 0, true)) return false;
                continue;
            }
            if (!plus) return false;
            grows = true;
            if (t.last == t.first + 3 && word(t.first, "threadIdx") && is(t.first + 1, '.') &&
                (word(t.first + 2, "x") || word(t.first + 2, "y") || word(t.first + 2, "z")))
                continue;
            if (t.last == t.first + 1 && b_.ref_of[t.first] >= 0) {
                const int v = b_.refs[static_cast<std::size_t>(b_.ref_of[t.first])].var;
                if (class_[static_cast<std::size_t>(v)] != VarClass::remat) return false;
                const Range init = versions_[static_cast<std::size_t>(v)][static_cast<std::size_t>(version_of(v, t.first))];
                if (!grows_with_thread(init, depth + 1)) return false;
                continue;
            }
            if (is(t.first, '(') && skip_group(t.first) == t.last && grows_with_thread({t.first + 1, t.last - 1}, depth + 1))
                continue;
            // A cast of what grows: `(int)threadIdx.x`. A conversion may wrap once within a
            // block's range, which the probe's checks of the corners catch.
            if (is(t.first, '(')) {
                const std::size_t close = skip_group(t.first);
                bool cast = close > t.first + 2 && close < t.last;
                for (std::size_t k = t.first + 1; cast && k + 1 < close; ++k)
                    cast = t_[k].kind == Kind::ident && type_word(t_[k].text) && t_[k].text != "true" &&
                           t_[k].text != "false" && t_[k].text != "nullptr";
                if (cast && grows_with_thread({close, t.last}, depth + 1)) continue;
            }
            return false;
        }
        // Each index at most once, or a sum could count one twice and still grow; that is
        // fine: every term grows, so the sum does too.
        return grows;
    }

    Range unparenthesised(Range r) const {
        while (r.last > r.first + 2 && is(r.first, '(') && skip_group(r.first) == r.last) r = {r.first + 1, r.last - 1};
        return r;
    }

    // Whether condition c holds in the whole block when it holds at both corners (see
    // Guards); its growing sides go to `growing`.
    bool corners_decide(Range c, std::vector<Range>& growing) const {
        if (c.empty() || !pure_range(c, true, false, 0, true)) return false;
        c = unparenthesised(c);
        std::size_t start = c.first;
        for (std::size_t i = c.first; i <= c.last; ++i) {
            if (i < c.last && (is(i, '(') || is(i, '['))) {
                i = skip_group(i) - 1;
                continue;
            }
            const bool end = i == c.last || op_at(t_, i) == "&&";
            if (!end) {
                if (op_at(t_, i) == "||" || is(i, '?') || is(i, ',')) return false;
                continue;
            }
            const Range conj = unparenthesised({start, i});
            if (mentions_thread(conj)) {
                std::size_t at = npos;
                std::string op;
                for (std::size_t k = conj.first; k < conj.last; ++k) {
                    if (is(k, '(') || is(k, '[')) {
                        k = skip_group(k) - 1;
                        continue;
                    }
                    const std::string_view o = op_at(t_, k);
                    if (o == "<" || o == "<=" || o == ">" || o == ">=") {
                        if (at != npos) return false;
                        at = k;
                        op = std::string(o);
                    } else if (o == "<<" || o == ">>" || o == "==" || o == "!=") {
                        return false;
                    }
                    if (o.size() > 1) k += o.size() - 1;
                }
                if (at == npos) return false;
                const Range lhs{conj.first, at}, rhs{at + op.size(), conj.last};
                if (grows_with_thread(lhs) && !mentions_thread(rhs)) {
                    growing.push_back(lhs);
                } else if (grows_with_thread(rhs) && !mentions_thread(lhs)) {
                    growing.push_back(rhs);
                } else {
                    return false;
                }
            }
            if (i < c.last) i += 1;
            start = i + 1;
        }
        return true;
    }

    // The condition of a statement's one top-level `?:` (after its assignment, if any).
    std::optional<Range> ternary_condition(Range r) const {
        std::size_t from = r.first, question = npos;
        for (std::size_t i = r.first; i < r.last; ++i) {
            if (is(i, '(') || is(i, '[') || is(i, '{')) {
                i = skip_group(i) - 1;
                continue;
            }
            const std::string_view o = op_at(t_, i);
            if (o == "?") {
                if (question != npos) return std::nullopt;
                question = i;
            } else if (question == npos && !o.empty() && o.back() == '=' && o != "==" && o != "!=" &&
                       o != "<=" && o != ">=") {
                from = i + o.size();
            }
            if (o.size() > 1) i += o.size() - 1;
        }
        if (question == npos || question == from) return std::nullopt;
        return Range{from, question};
    }

    std::optional<Guards> guards(const Node& r) const {
        if (r.level != 0) return std::nullopt;
        Guards g;
        const auto take = [&](Range c) {
            std::vector<Range> growing;
            if (!corners_decide(c, growing)) return;
            g.conditions.emplace(c.first, c.last);
            g.growing.insert(g.growing.end(), growing.begin(), growing.end());
        };
        for (const Piece& p : r.pieces) {
            if (p.kind != PieceKind::stmt || version_defs_.count(p.stmt)) continue;
            const Stmt& x = st(p.stmt);
            if (x.kind == StmtKind::if_) {
                take(x.head);
            } else if (x.kind == StmtKind::expr) {
                if (const auto c = ternary_condition(x.all)) take(*c);
            } else if (x.kind == StmtKind::decl && !x.is_shared && !x.is_static) {
                for (const Declarator& d : x.declarators)
                    if (const auto c = ternary_condition(d.init)) take(*c);
            }
        }
        if (g.conditions.empty()) return std::nullopt;
        return g;
    }

    // Sets __mc_fast: whether every guard holds for the block's first and last thread, and
    // the growing sides neither wrap nor start below zero.
    void emit_guard_probe(Out& o, const Node& r, const Guards& g, const Ctx& ctx) {
        std::string all;
        for (const auto& [first, last] : g.conditions)
            all += (all.empty() ? "(" : " && (") + text_of({first, last}, ctx) + ")";
        o.raw(" { const ::uint3 __mc_tid{0u, 0u, 0u}; (void)__mc_tid; " + remat_decls(r.id, ctx));
        for (std::size_t k = 0; k < g.growing.size(); ++k)
            o.raw("const auto __mc_p" + n(static_cast<int>(k)) + " = (" + text_of(g.growing[k], ctx) + "); ");
        o.raw("__mc_fast = " + all);
        for (std::size_t k = 0; k < g.growing.size(); ++k) o.raw(" && __mc_p" + n(static_cast<int>(k)) + " >= 0");
        o.raw("; if (__mc_fast) { const ::uint3 __mc_tid{__mc_bx - 1u, __mc_by - 1u, __mc_bz - 1u}; (void)__mc_tid; " +
              remat_decls(r.id, ctx) + "__mc_fast = " + all);
        for (std::size_t k = 0; k < g.growing.size(); ++k)
            o.raw(" && (" + text_of(g.growing[k], ctx) + ") >= __mc_p" + n(static_cast<int>(k)));
        o.raw("; } }");
    }

    void emit_guarded_region(Out& o, const Node& r, const Guards& g, const Ctx& outer) {
        Ctx fast = outer;
        fast.as_true = &g.conditions;
        Ctx probe = outer;
        probe.level = 0;
        probe.region = r.id;
        o.raw("\n{ bool __mc_fast = false;");
        emit_guard_probe(o, r, g, probe);
        o.raw("\nif (__mc_fast) {");
        emit_region_loop(o, r, fast, true);
        o.raw("} else {");
        emit_region_loop(o, r, outer, true);
        o.raw("} }\n");
    }

    // A region whose pieces are all declarations of recomputed locals (and their
    // reassignments) runs nothing: each later region recomputes what it reads.
    bool runs_nothing(const Node& r) const {
        for (const Piece& p : r.pieces) {
            if (p.kind != PieceKind::stmt) return false;
            if (version_defs_.count(p.stmt)) continue;
            const Stmt& x = st(p.stmt);
            if (x.kind == StmtKind::empty) continue;
            if (x.kind != StmtKind::decl || x.is_shared || x.is_static) return false;
            for (const Declarator& d : x.declarators)
                if (d.var < 0 || class_[static_cast<std::size_t>(d.var)] != VarClass::remat) return false;
        }
        return true;
    }

    void emit_region(Out& o, const Node& r, const Ctx& outer) {
        if (runs_nothing(r)) return;
        if (const auto bounds = x_bounds(r)) {
            Ctx ctx = outer;
            ctx.level = 0;
            ctx.region = r.id;
            ctx.label = labels_++;
            bool used = false;
            ctx.used_label = &used;
            if (bounds->size() == 1 && bounds->front().op == "==") {
                // `if (threadIdx.x == v)`: one thread of each row, or none when v is outside.
                o.raw("\n{ const long long __mc_v = (long long)(" + text_of(bounds->front().value, ctx) +
                      "); if (__mc_v >= 0 && __mc_v < (long long)__mc_bx) {");
                thread_loop_open(o, ctx, "__mc_v", "__mc_v + 1");
                o.raw(remat_decls(r.id, ctx));
                emit_tokens(o, st(st(r.pieces[0].stmt).body).all, ctx);
                thread_loop_close(o, ctx, used);
                o.raw("} }\n");
                return;
            }
            o.raw("\n{ long long __mc_lo = 0, __mc_hi = __mc_bx; bool __mc_exact = true;");
            for (const XBound& b : *bounds) {
                // The value must lie within the block for x's range to say it exactly.
                const std::string v = "(long long)(" + text_of(b.value, ctx) + ")";
                o.raw(" { const long long __mc_v = " + v + "; if (__mc_v < 0 || __mc_v > (long long)__mc_bx) __mc_exact = false;");
                if (b.op == "<") o.raw(" else if (__mc_v < __mc_hi) __mc_hi = __mc_v;");
                if (b.op == "<=") o.raw(" else if (__mc_v + 1 < __mc_hi) __mc_hi = __mc_v + 1;");
                if (b.op == ">") o.raw(" else if (__mc_v + 1 > __mc_lo) __mc_lo = __mc_v + 1;");
                if (b.op == ">=") o.raw(" else if (__mc_v > __mc_lo) __mc_lo = __mc_v;");
                if (b.op == "==") o.raw(" else { if (__mc_v > __mc_lo) __mc_lo = __mc_v; if (__mc_v + 1 < __mc_hi) __mc_hi = __mc_v + 1; }");
                o.raw(" }");
            }
            o.raw(" if (__mc_exact) {");
            thread_loop_open(o, ctx, "(unsigned)__mc_lo", "(unsigned)(__mc_hi > __mc_lo ? __mc_hi : __mc_lo)");
            o.raw(remat_decls(r.id, ctx));
            emit_tokens(o, st(st(r.pieces[0].stmt).body).all, ctx);
            thread_loop_close(o, ctx, used);
            o.raw("} else {");
            emit_plain_region(o, r, outer);
            o.raw("} }\n");
            return;
        }
        if (const auto g = guards(r)) {
            if (!flat_) guarded_regions += 1;  // counted in the copy for any block (always written)
            return emit_guarded_region(o, r, *g, outer);
        }
        emit_plain_region(o, r, outer);
    }

    void emit_plain_region(Out& o, const Node& r, const Ctx& outer) {
        for (const Piece& p : r.pieces) {
            if (p.kind == PieceKind::cond && r.level == 1 && p.target >= 0)
                o.raw("\n__mc_m" + n(p.target) + " = 0u;");
            if (p.kind == PieceKind::deposit && predicate_site(sites_[static_cast<std::size_t>(p.site)].kind))
                o.raw("\n__mc_b" + n(p.site) + " = 0u;");
        }
        if (r.level == 0) return emit_region_loop(o, r, outer, true);
        // A warp whose every lane takes part (the usual case) runs the lanes as a plain loop
        // the compiler vectorises; the others skip the lanes that sit this one out.
        o.raw("\nif (__mc_act == ::__mc::fx::lanes(__mc_lanes)) {");
        emit_region_loop(o, r, outer, false);
        o.raw("} else {");
        emit_region_loop(o, r, outer, true);
        o.raw("}");
    }

    void emit_region_loop(Out& o, const Node& r, const Ctx& outer, bool check_lanes) {
        Ctx ctx = outer;
        ctx.level = r.level;
        ctx.region = r.id;
        ctx.label = labels_++;
        bool used = false;
        ctx.used_label = &used;
        thread_loop_open(o, ctx, "0", "__mc_bx", "", check_lanes);
        o.raw(remat_decls(r.id, ctx));
        emit_pieces(o, r, ctx);
        thread_loop_close(o, ctx, used);
    }

    // A region's pieces, inside its loop over threads.
    void emit_pieces(Out& o, const Node& r, const Ctx& ctx) {
        for (const Piece& p : r.pieces) {
            switch (p.kind) {
                case PieceKind::stmt:
                    if (version_defs_.count(p.stmt)) break;  // a recomputed local's new value
                    if (st(p.stmt).kind == StmtKind::decl) {
                        emit_decl(o, p.stmt, ctx);
                    } else {
                        emit_tokens(o, st(p.stmt).all, ctx);
                    }
                    break;
                case PieceKind::cond: {
                    o.at(line(p.range.first));
                    if (p.target < 0) {
                        o.raw("(void)(");
                        emit_tokens(o, p.range, ctx);
                        o.raw(");");
                    } else if (r.level == 0) {
                        o.raw("__mc_cond[__mc_t] = (");
                        emit_tokens(o, p.range, ctx);
                        o.raw(");");
                    } else {
                        o.raw("__mc_m" + n(p.target) + " |= (unsigned)(bool)(");
                        emit_tokens(o, p.range, ctx);
                        o.raw(") << __mc_l;");
                    }
                    break;
                }
                case PieceKind::deposit: {
                    const Site& s = sites_[static_cast<std::size_t>(p.site)];
                    o.at(line(s.name));
                    o.raw(deposit_text(s, ctx));
                    break;
                }
            }
        }
    }

    std::string live_mask() const {
        return exits_ ? " & ~::__mc::fx::exited_lanes(__mc_exited, __mc_w, __mc_lanes)" : "";
    }

    void emit_nodes(Out& o, const std::vector<Node>& nodes, const Ctx& ctx, bool top) {
        for (std::size_t i = 0; i < nodes.size(); ++i) {
            if (top) {
                const auto it = array_at_top_.find(static_cast<int>(i));
                if (it != array_at_top_.end()) {
                    for (const int v : it->second) {
                        const Declarator& d = st(var(v).stmt).declarators[static_cast<std::size_t>(var(v).declarator)];
                        o.raw("\nalignas(64) " + var_type(v, ctx) + " __mc_e" + n(v) + "[1024]" +
                              text_of(d.dims, ctx) + ";");
                    }
                }
            }
            emit_node(o, nodes[i], ctx);
        }
    }

    void emit_node(Out& o, const Node& x, const Ctx& ctx) {
        switch (x.kind) {
            case NodeKind::region:
                return emit_region(o, x, ctx);
            case NodeKind::strided:
                return emit_strided(o, x, ctx);
            case NodeKind::stmt: {
                if (hoisted_.count(x.stmt)) return;
                Ctx c = ctx;
                c.region = -1;
                o.raw("\n");
                emit_tokens(o, st(x.stmt).all, c);
                // A shared or static variable is a thread-local of the library, whose address
                // costs a call into the dynamic loader at each use that the compiler does not
                // share: a reference taken once stands in for it.
                const Stmt& d = st(x.stmt);
                if (d.kind == StmtKind::decl && (d.is_shared || d.is_static)) {
                    for (const Declarator& dc : d.declarators) {
                        if (dc.var < 0) continue;
                        // Through a volatile pointer: read once, so the compiler cannot go
                        // back to the loader for the address inside the loops.
                        o.raw(" auto* volatile __mc_kp" + n(dc.var) + " = &" + std::string(t_[dc.name].text) +
                              "; auto& __mc_k" + n(dc.var) + " = *__mc_kp" + n(dc.var) + "; (void)__mc_k" +
                              n(dc.var) + ";");
                        bound_.insert(dc.var);
                    }
                }
                return;
            }
            case NodeKind::vote: {
                const Site& s = sites_[static_cast<std::size_t>(x.id)];
                const char* fn = s.kind == SiteKind::vote_count ? "vote_count"
                                 : s.kind == SiteKind::vote_and ? "vote_and"
                                                                : "vote_or";
                o.raw("\nconst int __mc_v" + n(x.id) + " = ::__mc::fx::" + fn + "(__mc_p" + n(x.id) +
                      ", " + (exits_ ? "__mc_exited" : "nullptr") + ", __mc_n);");
                return;
            }
            case NodeKind::scope:
                if (x.a.empty()) return;
                o.raw("\n{");
                emit_nodes(o, x.a, ctx, false);
                o.raw("\n}");
                return;
            case NodeKind::warps: {
                o.raw("\nfor (unsigned __mc_w = 0; __mc_w < __mc_nw; ++__mc_w) {"
                      " const unsigned __mc_lanes = __mc_n - __mc_w * 32u < 32u ? __mc_n - __mc_w * 32u : 32u;"
                      " unsigned __mc_act = ::__mc::fx::lanes(__mc_lanes)" + live_mask() + ";");
                Ctx c = ctx;
                c.level = 1;
                emit_nodes(o, x.a, c, false);
                o.raw("\n}");
                return;
            }
            case NodeKind::jump: {
                o.at(line(st(x.stmt).all.first));
                if (x.jump == "continue" && ctx.loop_label >= 0) {
                    o.raw("goto __mc_cont" + n(ctx.loop_label) + ";");
                } else {
                    o.raw(x.jump + ";");
                }
                return;
            }
            case NodeKind::if_:
                return emit_if(o, x, ctx);
            case NodeKind::loop:
                return emit_loop(o, x, ctx);
        }
    }

    std::string cond_text(const Node& x, const Ctx& ctx) {
        Ctx c = ctx;
        c.region = -1;
        switch (x.cond_mode) {
            case CondMode::none:
                return "true";
            case CondMode::uniform:
                return "(" + text_of(x.cond, c) + ")";
            case CondMode::agreed:
                return "::__mc::fx::agree(__mc_cond, " + std::string(exits_ ? "__mc_exited" : "nullptr") +
                       ", __mc_n, " + n(line(x.cond.first)) + ")";
            case CondMode::masked:
                return "(__mc_m" + n(x.mask) + " & __mc_act)";
        }
        return "true";
    }

    void emit_if(Out& o, const Node& x, const Ctx& ctx) {
        if (x.cond_mode != CondMode::masked) {
            o.at(line(x.cond.first));
            o.raw("if (" + cond_text(x, ctx) + ") {");
            emit_nodes(o, x.a, ctx, false);
            o.raw("\n}");
            if (!x.b.empty()) {
                o.raw(" else {");
                emit_nodes(o, x.b, ctx, false);
                o.raw("\n}");
            }
            return;
        }
        const std::string saved = "__mc_s" + n(labels_++);
        const std::string m = "__mc_m" + n(x.mask);
        o.raw("\n{ const unsigned " + saved + " = __mc_act; __mc_act = " + saved + " & " + m +
              "; if (__mc_act) {");
        emit_nodes(o, x.a, ctx, false);
        o.raw("\n}");
        if (!x.b.empty()) {
            o.raw(" __mc_act = " + saved + " & ~" + m + live_mask() + "; if (__mc_act) {");
            emit_nodes(o, x.b, ctx, false);
            o.raw("\n}");
        }
        o.raw(" __mc_act = " + saved + live_mask() + "; }");
    }

    bool natural_loop(const Node& x) const {
        if (x.do_while || !x.pre.empty() || !x.post.empty()) return false;
        if (x.cond_mode != CondMode::uniform && x.cond_mode != CondMode::none) return false;
        return x.init.empty() || (x.init.size() == 1 && x.init[0].kind == NodeKind::stmt);
    }

    void emit_loop(Out& o, const Node& x, const Ctx& ctx) {
        Ctx body = ctx;
        if (natural_loop(x)) {
            body.loop_label = -1;
            o.at(line(st(x.stmt).all.first));
            o.raw("for (");
            if (!x.init.empty()) {
                Ctx c = ctx;
                c.region = -1;
                o.raw(text_of(st(x.init[0].stmt).all, c));  // its ';' included
            } else {
                o.raw(";");
            }
            o.raw(" " + (x.cond_mode == CondMode::uniform ? cond_text(x, ctx) : std::string()) + "; ");
            if (!x.step.empty()) {
                Ctx c = ctx;
                c.region = -1;
                o.raw(text_of(x.step, c));
            }
            o.raw(") {");
            emit_nodes(o, x.a, body, false);
            o.raw("\n}");
            return;
        }
        // Labels are the function's: a fresh one each time (the body is written twice).
        const int cont = labels_++;
        body.loop_label = cont;
        const std::string saved = "__mc_s" + n(labels_++);
        o.raw("\n{");
        if (x.level == 1 && x.cond_mode == CondMode::masked) o.raw(" const unsigned " + saved + " = __mc_act;");
        emit_nodes(o, x.init, ctx, false);
        o.raw("\nfor (;;) {");
        const auto check = [&] {
            emit_nodes(o, x.pre, ctx, false);
            if (x.cond_mode == CondMode::masked) {
                o.raw("\n__mc_act &= __mc_m" + n(x.mask) + "; if (!__mc_act) break;");
            } else if (x.cond_mode != CondMode::none) {
                o.raw("\nif (!" + cond_text(x, ctx) + ") break;");
            }
        };
        if (!x.do_while) check();
        emit_nodes(o, x.a, body, false);
        o.raw("\n__mc_cont" + n(cont) + ":;");
        if (x.do_while) check();
        if (!x.step.empty()) {
            Ctx c = ctx;
            c.region = -1;
            o.raw("\n" + text_of(x.step, c) + ";");
        }
        emit_nodes(o, x.post, ctx, false);
        o.raw("\n}");
        if (x.level == 1 && x.cond_mode == CondMode::masked) o.raw(" __mc_act = " + saved + live_mask() + ";");
        o.raw(" }");
    }

    // A grid-major kernel's grid-stride loop: at each step, every block of the range.
    void emit_strided_grid(Out& o, const Node& x, const Ctx& outer) {
        const StridedLoop& sl = *strided_[static_cast<std::size_t>(x.stmt)];
        const Stmt& loop = st(x.stmt);
        Ctx ctx = outer;
        ctx.level = 0;
        ctx.region = strided_region_.at(x.stmt);
        ctx.strided = x.stmt;
        ctx.label = labels_++;
        bool used = false;
        ctx.used_label = &used;
        const Var& lv = var(sl.var);
        const Stmt& decl = st(lv.stmt);
        std::string type;
        for (std::size_t i = decl.type.first; i < decl.type.last; ++i)
            if (t_[i].text != "register") type += std::string(t_[i].text) + " ";
        const std::string name(t_[decl.declarators[static_cast<std::size_t>(lv.declarator)].name].text);
        const std::string k = "__mc_k" + n(x.id), any = "__mc_any" + n(x.id), sd = "__mc_sd" + n(x.id);
        o.at(line(loop.all.first));
        o.raw("{ const auto " + sd + " = " + (sl.stride.empty() ? "1" : "(" + text_of(sl.stride, ctx) + ")") +
              "; for (unsigned long long " + k + " = 0;; ++" + k + ") { unsigned " + any + " = 0;"
              " for (unsigned long long __mc_b = ::__mc::grid_first; __mc_b < ::__mc::grid_last; ++__mc_b) {"
              " __mc_bid = ::uint3{(unsigned)(__mc_b % __mc_gdim.x), (unsigned)(__mc_b / __mc_gdim.x % __mc_gdim.y),"
              " (unsigned)(__mc_b / ((unsigned long long)__mc_gdim.x * __mc_gdim.y))}; ::__mc::bid = __mc_bid;");
        thread_loop_open(o, ctx);
        o.raw(remat_decls(ctx.region, ctx));
        o.raw(type + name + " = (" + text_of(sl.start, ctx) + "); " + name + " += (decltype(" + name +
              "))" + k + " * (decltype(" + name + "))" + sd + "; const unsigned __mc_ok = " + name + " " +
              sl.op + " (" + text_of(sl.bound, ctx) + "); " + any + " |= __mc_ok; if (__mc_ok) {");
        emit_strided_body(o, sl, loop, ctx);
        o.raw(" }");
        thread_loop_close(o, ctx, used);
        o.raw(" } if (!" + any + ") break; } }\n");
    }

    void emit_strided_body(Out& o, const StridedLoop& sl, const Stmt& loop, const Ctx& ctx) {
        const Stmt& body = st(sl.body);
        if (loop.kind == StmtKind::while_) {
            for (std::size_t c = 0; c + 1 < body.children.size(); ++c) {
                const int child = body.children[c];
                if (st(child).kind == StmtKind::decl) {
                    emit_decl(o, child, ctx);
                } else {
                    emit_tokens(o, st(child).all, ctx);
                }
            }
        } else if (body.kind == StmtKind::decl) {
            emit_decl(o, sl.body, ctx);
        } else {
            emit_tokens(o, body.all, ctx);
        }
    }

    void emit_strided(Out& o, const Node& x, const Ctx& outer) {
        if (grid_major_) return emit_strided_grid(o, x, outer);
        const StridedLoop& sl = *strided_[static_cast<std::size_t>(x.stmt)];
        const Stmt& loop = st(x.stmt);
        Ctx ctx = outer;
        ctx.level = 0;
        ctx.region = strided_region_.at(x.stmt);
        ctx.strided = x.stmt;
        ctx.label = labels_++;
        bool used = false;
        ctx.used_label = &used;
        const Var& lv = var(sl.var);
        const Stmt& decl = st(lv.stmt);
        const Declarator& d = decl.declarators[static_cast<std::size_t>(lv.declarator)];
        std::string type;
        for (std::size_t i = decl.type.first; i < decl.type.last; ++i)
            if (t_[i].text != "register") type += std::string(t_[i].text) + " ";
        const std::string name(t_[d.name].text);
        const std::string stride = sl.stride.empty() ? "1" : "(" + text_of(sl.stride, ctx) + ")";
        const std::string bound = "(" + text_of(sl.bound, ctx) + ")";
        const std::string k = "__mc_k" + n(x.id), any = "__mc_any" + n(x.id), sd = "__mc_sd" + n(x.id);
        o.at(line(loop.all.first));
        o.raw("{ const auto " + sd + " = " + stride + "; (void)" + sd + ";");
        // The loop runs inside each row of threads (y, z), around the loop over x: the row's
        // threads take each step together, the compiler's vector lanes being threads.
        std::string head, tail;
        if (sl.uniform_start) {
            head = " for (" + type + name + " = (" + text_of(sl.start, ctx) + "); " + name + " " +
                   sl.op + " " + bound + "; " + name + " += " + sd + ") {";
            tail = " }";
        } else {
            head = " for (unsigned long long " + k + " = 0;; ++" + k + ") { unsigned " + any + " = 0;";
            tail = " if (!" + any + ") break; }";
        }
        thread_loop_open(o, ctx, "0", "__mc_bx", head);
        o.raw(remat_decls(ctx.region, ctx));
        if (!sl.uniform_start) {
            // Each thread's k-th step; the threads still stepping vote the loop on (an
            // unsigned or, which the compiler vectorises).
            o.raw(type + name + " = (" + text_of(sl.start, ctx) + "); " + name + " += (decltype(" +
                  name + "))" + k + " * (decltype(" + name + "))" + sd + "; const unsigned __mc_ok = " +
                  name + " " + sl.op + " " + bound + "; " + any + " |= __mc_ok; if (__mc_ok) {");
        }
        emit_strided_body(o, sl, loop, ctx);
        if (!sl.uniform_start) o.raw(" }");
        thread_loop_close(o, ctx, used, tail);
        o.raw(" }\n");
    }

  public:
    std::string emit_all() {
        find_block_returns(nodes_);
        exits_ = returns_in_thread_code();
        grid_major_ = grid_major();
        for (std::size_t s = 0; s < b_.stmts.size(); ++s)
            stmt_start_[b_.stmts[s].all.first].push_back(static_cast<int>(s));
        Out o;
        Ctx ctx;
        // The header as written, then the new body.
        emit_tokens(o, {0, open_}, ctx);
        o.raw(" {");
        o.raw("\n::uint3 __mc_bid = ::__mc::bid; const ::dim3 __mc_bdim = ::__mc::bdim, __mc_gdim = ::__mc::gdim;"
              " (void)__mc_bid; (void)__mc_gdim;"
              " const bool __mc_flat = __mc_bdim.y == 1 && __mc_bdim.z == 1; (void)__mc_flat;"
              " ::uint3* volatile __mc_tlsp = &::__mc::tid; ::uint3& __mc_tls = *__mc_tlsp;");
        o.raw("\nconst unsigned __mc_bx = ::__mc::bdim.x, __mc_by = ::__mc::bdim.y, __mc_bz = ::__mc::bdim.z;"
              " const unsigned __mc_n = __mc_bx * __mc_by * __mc_bz;"
              " const unsigned __mc_nw = (__mc_n + 31u) / 32u; (void)__mc_nw; (void)__mc_n;");
        if (exits_) o.raw("\nbool __mc_exited[1024]; ::std::memset(__mc_exited, 0, __mc_n);");
        o.raw("\nbool __mc_cond[1024]; (void)__mc_cond;");
        for (const Site& s : sites_) {
            if (s.kind == SiteKind::vote_count || s.kind == SiteKind::vote_and || s.kind == SiteKind::vote_or)
                o.raw("\nbool __mc_p" + n(s.id) + "[1024];");
            else if (predicate_site(s.kind))
                o.raw("\nunsigned __mc_b" + n(s.id) + " = 0u; (void)__mc_b" + n(s.id) + ";");
            else if (!block_site(s.kind) && s.kind != SiteKind::activemask && s.kind != SiteKind::syncwarp)
                o.raw("\nalignas(64) unsigned char __mc_x" + n(s.id) + "[::__mc::fx::slot_bytes];");
        }
        for (int m = 0; m < masks_; ++m) o.raw("\nunsigned __mc_m" + n(m) + " = 0u;");
        // The body twice: for one-dimensional blocks (one loop over x, the common case), and
        // for any block. Shared and static variables are declared once, before both.
        bool twice = true;
        for (std::size_t d = 0; d < b_.stmts.size(); ++d) {
            const Stmt& x = b_.stmts[d];
            if (x.kind != StmtKind::decl || !(x.is_shared || x.is_static)) continue;
            bool top = false;
            for (const Node& nd : nodes_) top |= nd.kind == NodeKind::stmt && nd.stmt == static_cast<int>(d);
            twice &= top;
        }
        if (twice) {
            for (const Node& nd : nodes_) {
                const Stmt& x = st(nd.stmt < 0 ? b_.root : nd.stmt);
                if (nd.kind == NodeKind::stmt && x.kind == StmtKind::decl && (x.is_shared || x.is_static)) {
                    emit_node(o, nd, ctx);
                    hoisted_.insert(nd.stmt);
                }
            }
            o.raw("\nif (__mc_flat) { __mc_tls.y = 0u; __mc_tls.z = 0u;");
            flat_ = true;
            emit_nodes(o, nodes_, ctx, true);
            flat_ = false;
            o.raw("\n} else {");
        }
        emit_nodes(o, nodes_, ctx, true);
        if (twice) o.raw("\n}");
        o.raw("\n}");
        return o.s;
    }

    bool is_grid_major() const { return grid_major_; }

  private:
    const MappedText& k_;
    const std::vector<Token>& t_;
    const Body& b_;
    std::size_t params_, open_;
    const SourceFacts& facts_;

    std::vector<Site> sites_;
    std::vector<int> site_at_;
    std::vector<VarClass> class_;
    std::vector<char> written_;
    // Recomputed locals: each one's values (the declaration's, then each reassignment's) and
    // the token from which each holds; the reassignments, which emit nothing.
    std::vector<std::vector<Range>> versions_;
    std::vector<std::vector<std::size_t>> version_start_;
    std::vector<std::vector<int>> version_def_stmt_;
    std::unordered_set<int> version_defs_;
    std::vector<std::vector<std::set<int>>> version_regions_;
    std::vector<std::optional<StridedLoop>> strided_;
    std::vector<Node> nodes_;
    int regions_ = 0, masks_ = 0, labels_ = 0;
    std::vector<std::set<int>> regions_of_;
    std::unordered_map<int, int> region_top_;
    std::unordered_map<int, int> strided_region_;
    std::unordered_map<int, int> piece_region_;
    std::unordered_map<int, std::vector<int>> array_at_top_;
    bool exits_ = false;
    bool grid_major_ = false;
    bool flat_ = false;                // emitting the body's copy for one-dimensional blocks
    std::unordered_set<int> hoisted_;  // shared and static declarations emitted before both
    std::unordered_set<int> block_return_;
    std::unordered_set<int> bound_;  // shared and static variables with a local reference
    std::unordered_map<std::size_t, std::vector<int>> stmt_start_;
};

std::string describe(const Fission& f, bool rewritten) {
    std::string lines;
    for (std::size_t i = 0; i < f.barrier_lines.size() && i < 6; ++i)
        lines += (i ? ", " : "") + std::to_string(f.barrier_lines[i]);
    std::string out;
    if (f.block_sites > 0) out += "barriers at line" + std::string(f.barrier_lines.size() > 1 ? "s " : " ") + lines;
    if (f.warp_sites > 0) out += std::string(out.empty() ? "" : " and ") + std::to_string(f.warp_sites) + " warp intrinsic" + (f.warp_sites > 1 ? "s" : "");
    (void)rewritten;
    return out;
}

}  // namespace

KernelPlan plan_kernel(std::string_view source, const std::vector<Token>& t, std::size_t first,
                       std::size_t params, std::size_t last, bool uses_barriers, bool fibers_only,
                       const SourceFacts& facts) {
    KernelPlan plan;
    plan.mode = uses_barriers ? ExecutionMode::fibers : ExecutionMode::loop;
    if (uses_barriers && fibers_only) {
        plan.reason = "MANYCORE_CPU_SCHEME=fibers: every thread of a block is a fiber";
        return plan;
    }
    const auto fibers = [&](const std::string& why, int line) {
        plan.mode = uses_barriers ? ExecutionMode::fibers : ExecutionMode::loop;
        if (uses_barriers) {
            plan.reason = "loop fission cannot split this kernel: " + why +
                          (line > 0 ? " (line " + std::to_string(line) + ")" : "") +
                          "; every thread of a block runs as a fiber";
        } else {
            plan.reason = "no barriers or warp intrinsics: each block's threads run as one loop";
        }
        plan.definition.clear();
        return plan;
    };
    InlineResult in = inline_helpers(source, t, first, params, last, facts.helpers);
    if (!in.error.empty()) return fibers(in.error, in.error_line);
    source::Words words;
    const source::Lexed lx = source::lex(in.kernel.text, words);
    const std::vector<Token>& k = lx.code;
    const std::size_t p = params - first;
    std::size_t open = p;
    if (p < k.size() && k[p].kind == Kind::punct && k[p].text[0] == '(') {
        int depth = 0;
        for (open = p; open < k.size(); ++open) {
            if (k[open].kind != Kind::punct) continue;
            depth += k[open].text[0] == '(';
            if (k[open].text[0] == ')' && --depth == 0) break;
        }
        while (open < k.size() && !(k[open].kind == Kind::punct && k[open].text[0] == '{')) ++open;
    }
    if (open >= k.size()) return fibers("its body could not be found", 0);
    Body body = parse_body(in.kernel.text, k, p, open);
    mark_reference_arguments(body, k);
    if (!body.error.empty()) {
        const int l = body.error_token < k.size() && k[body.error_token].line <= in.kernel.lines()
                          ? in.kernel.line_of[static_cast<std::size_t>(k[body.error_token].line)]
                          : 0;
        return fibers(body.error, l);
    }
    Fission f(in.kernel, k, body, p, open, facts);
    if (!f.plan()) return fibers(f.why, f.why_line);
    if (!f.needs_rewrite()) {
        return fibers("", 0);
    }
    plan.definition = f.emit_all();
    plan.grid_major = f.is_grid_major();
    if (!f.why.empty()) return fibers(f.why, f.why_line);
    if (uses_barriers) {
        plan.mode = ExecutionMode::fission;
        plan.reason = describe(f, true) + ": the body is split at each into loops over the block's threads";
        if (f.strided_loops > 0)
            plan.reason += "; " + std::to_string(f.strided_loops) + " loop" + (f.strided_loops > 1 ? "s run" : " runs") + " iteration-major";
        if (f.guarded_regions > 0)
            plan.reason += "; " + std::to_string(f.guarded_regions) + " region" +
                           (f.guarded_regions > 1 ? "s'" : "'s") +
                           " bounds checks decided once a block where they hold for every thread";
    } else {
        plan.mode = ExecutionMode::loop;
        plan.reason = "no barriers or warp intrinsics: each block's threads run as one loop; " +
                      std::to_string(f.strided_loops) + " loop" +
                      (f.strided_loops > 1 ? "s run" : " runs") +
                      " iteration-major (every thread's step k before any thread's step k+1)";
    }
    return plan;
}

}  // namespace fission
}  // namespace manycore::detail
