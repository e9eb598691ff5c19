// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The lexer of CUDA C++ source, and what each word it may meet is.

#include "core/source_lexer.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace manycore::detail::source {

unsigned char classify(std::string_view w) {
    static const std::unordered_map<std::string_view, unsigned char> table = [] {
        std::unordered_map<std::string_view, unsigned char> m;
        const auto add = [&](unsigned char flags, std::string_view list) {
            for (std::size_t b = 0, e = 0; b < list.size(); b = e + 1) {
                e = std::min(list.find(' ', b), list.size());
                m[list.substr(b, e - b)] |= flags;
            }
        };
        add(keyword,
            "auto bool break case catch char char8_t char16_t char32_t consteval constexpr "
            "constinit const_cast continue default delete do double dynamic_cast else explicit "
            "export extern false final float for friend goto if inline int long mutable namespace "
            "new nullptr operator override private protected public reinterpret_cast return "
            "short signed static static_cast switch template this thread_local true try typedef "
            "unsigned using virtual void wchar_t while __global__ __device__ __host__ "
            "__forceinline__ __noinline__ __inline__ __shared__ __constant__ __managed__ "
            "__extension__");
        add(keyword | attribute,
            "__launch_bounds__ __maxnreg__ __cluster_dims__ __align__ alignas alignof "
            "__attribute__ __declspec decltype noexcept throw sizeof static_assert requires "
            "typeid asm __asm__");
        add(keyword | qualifier,
            "const volatile __restrict__ __restrict restrict typename register __grid_constant__");
        add(keyword | qualifier | class_key, "struct class union enum");
        // The cooperative-groups types too: a helper taking `thread_group&` syncs through it
        // without naming anything else here.
        add(barrier,
            "__syncthreads __syncthreads_count __syncthreads_and __syncthreads_or __syncwarp "
            "__shfl_sync __shfl_up_sync __shfl_down_sync __shfl_xor_sync __shfl __shfl_up "
            "__shfl_down __shfl_xor __ballot_sync __ballot __all_sync __any_sync __all __any "
            "__activemask __match_any_sync __match_all_sync __reduce_add_sync __reduce_min_sync "
            "__reduce_max_sync __reduce_and_sync __reduce_or_sync __reduce_xor_sync "
            "cooperative_groups this_thread_block tiled_partition thread_block thread_block_tile "
            "thread_group coalesced_group coalesced_threads grid_group this_grid");
        // Beside the C++ standard headers (no dot): C's, CUDA's own, and cooperative groups,
        // whose every way in is a barrier word.
        add(safe_header,
            "assert.h complex.h float.h limits.h math.h stdbool.h stddef.h stdint.h stdio.h "
            "stdlib.h string.h cuda.h cuda_runtime.h cuda_runtime_api.h cuda_fp16.h cuda_bf16.h "
            "cooperative_groups.h curand_kernel.h device_launch_parameters.h math_constants.h "
            "vector_types.h manycore/random.h");
        return m;
    }();
    const auto it = table.find(w);
    return it == table.end() ? 0 : it->second;
}

namespace {

enum CharClass : unsigned char { ident_start = 1, ident_char = 2, digit = 4, blank = 8 };
constexpr std::array<unsigned char, 256> char_classes = [] {
    std::array<unsigned char, 256> c{};
    for (int i = 0; i < 256; ++i) {
        const bool alpha = (i >= 'a' && i <= 'z') || (i >= 'A' && i <= 'Z') || i == '_' ||
                           i == '$' || i >= 0x80;  // UTF-8 identifiers
        const bool num = i >= '0' && i <= '9';
        c[i] = (alpha ? ident_start | ident_char : 0) | (num ? ident_char | digit : 0) |
               (i == ' ' || i == '\t' || i == '\r' || i == '\f' || i == '\v' ? blank : 0);
    }
    return c;
}();
bool has(char c, unsigned char cls) { return char_classes[static_cast<unsigned char>(c)] & cls; }

}  // namespace

Lexed lex(std::string_view s, Words& words) {
    Lexed out;
    out.code.reserve(s.size() / 3 + 16);
    const std::size_t n = s.size();
    std::size_t i = 0;
    int line = 1;
    bool line_start = true;  // nothing but blanks and comments since the last newline
    bool in_directive = false;
    const auto splice_end = [&](std::size_t k) {  // past a `\`-newline at k, or npos
        if (s[k] != '\\') return npos;
        k += k + 1 < n && s[k + 1] == '\r' ? 2 : 1;
        return k < n && s[k] == '\n' ? k + 1 : npos;
    };
    const auto skip_to = [&](std::size_t end) {  // past a comment or raw string, counting lines
        line += static_cast<int>(std::count(s.begin() + i, s.begin() + end, '\n'));
        return end;
    };
    const auto skip_quoted = [&](std::size_t k, char quote) {  // k is on the opening quote
        for (++k; k < n && s[k] != quote && s[k] != '\n'; ++k)
            if (s[k] == '\\' && k + 1 < n) line += s[++k] == '\n';
        return k < n && s[k] == quote ? k + 1 : k;
    };
    while (i < n) {
        const char c = s[i];
        if (has(c, blank)) {
            while (++i < n && has(s[i], blank)) {
            }
            continue;
        }
        if (c == '\n') {
            ++line, ++i;
            line_start = true;
            in_directive = false;
            continue;
        }
        const std::size_t after = c == '\\' ? splice_end(i) : npos;
        if (after != npos) {
            ++line, i = after;  // a continuation joins lines: a directive goes on
            continue;
        }
        if (c == '/' && i + 1 < n && s[i + 1] == '/') {
            while (i < n && s[i] != '\n') {  // the newline itself still ends a directive
                const std::size_t next = splice_end(i);
                line += next != npos;
                i = next != npos ? next : i + 1;
            }
            continue;
        }
        if (c == '/' && i + 1 < n && s[i + 1] == '*') {
            i = skip_to(std::min(s.find("*/", i + 2), n - 2) + 2);
            continue;
        }
        const bool first_on_line = std::exchange(line_start, false);
        const std::size_t begin = i;
        const int at_line = line;
        Kind kind = Kind::punct;
        std::uint64_t h = Words::hash({});
        if (has(c, ident_start)) {
            kind = Kind::ident;
            for (; i < n && has(s[i], ident_char); ++i) h = Words::step(h, s[i]);
            const std::string_view w = s.substr(begin, i - begin);
            const std::size_t open = i < n && s[i] == '"' ? s.substr(i, 18).find('(') : npos;
            if (open != npos && w.back() == 'R' && w.size() <= 3 &&
                w.find_first_not_of("u8LUR") == npos) {  // R"delim( ... )delim"
                const std::string close = ")" + std::string(s.substr(i + 1, open - 1)) + '"';
                i = skip_to(std::min(s.find(close, i + open), n - close.size()) + close.size());
                kind = Kind::literal;
            } else if (i < n && (s[i] == '"' || s[i] == '\'') &&
                       (w == "L" || w == "u" || w == "U" || w == "u8")) {
                i = skip_quoted(i, s[i]);
                kind = Kind::literal;
            }
        } else if (has(c, digit) || (c == '.' && i + 1 < n && has(s[i + 1], digit))) {
            kind = Kind::number;
            for (++i; i < n; ++i) {
                const bool exponent_sign =
                    (s[i] == '+' || s[i] == '-') && std::strchr("eEpP", s[i - 1]) != nullptr;
                const bool separator = s[i] == '\'' && i + 1 < n && has(s[i + 1], ident_char);
                if (!exponent_sign && !separator && !has(s[i], ident_char) && s[i] != '.') break;
            }
        } else if (c == '"' || c == '\'') {
            kind = Kind::literal;
            i = skip_quoted(i, c);
        } else {
            if (c == '#' && first_on_line) {
                in_directive = true;
                out.directive_starts.push_back(out.directive_tokens.size());
            }
            const auto& list = in_directive ? out.directive_tokens : out.code;
            if (c == '<' && s.substr(i, 3) == "<<<" && out.launch_line == 0 &&
                (list.empty() || list.back().text != "operator"))  // but operator<<<T> is fine
                out.launch_line = line;
            ++i;  // one character per punctuator: `>>` may close two templates
        }
        const std::string_view text = s.substr(begin, i - begin);
        const int id = kind == Kind::ident ? words.intern(text, h) : -1;
        (in_directive ? out.directive_tokens : out.code)
            .push_back({text, begin, at_line, id, kind});
    }
    return out;
}

}  // namespace manycore::detail::source
