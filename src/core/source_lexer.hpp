// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The tokens of CUDA C++ source: a one-pass lexer that sets preprocessor directives apart, and
// the small integer ids and flags of the words it reads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace manycore::detail::source {

inline constexpr std::size_t npos = static_cast<std::size_t>(-1);

// What a word is; looked up once per distinct identifier.
enum WordFlag : unsigned char {
    keyword = 1,    // never a declared name: never carries taint, never names a parameter
    attribute = 2,  // its parentheses hold arguments, never a parameter list
    qualifier = 4,  // qualifies a type without being one: `const T` is an unnamed parameter
    class_key = 8,
    barrier = 16,      // needs barrier semantics (fibers) on the CPU
    safe_header = 32,  // an included header known to hide no barrier behind other names
};

// The flags of a word, 0 for most.
unsigned char classify(std::string_view w);

// Small integer ids for identifiers, so that everything after lexing compares ints and reads
// flags instead of hashing strings again. Open addressing over a power-of-two table; the
// lexer hashes each identifier as it scans it (this is the analysis's hottest path).
class Words {
  public:
    static std::uint64_t step(std::uint64_t h, char c) {  // FNV-1a, one byte
        return (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
    }
    static std::uint64_t hash(std::string_view w) {
        std::uint64_t h = 0xcbf29ce484222325ull;
        for (char c : w) h = step(h, c);
        return h;
    }
    int intern(std::string_view w) { return intern(w, hash(w)); }
    int intern(std::string_view w, std::uint64_t h) {  // small, to be inlined
        const int id = slots_[slot(w, h)];
        return id >= 0 ? id : add(w, h);
    }
    unsigned char flags(int id) const { return id < 0 ? 0 : flags_[id]; }
    std::string_view text(int id) const { return words_[static_cast<std::size_t>(id)].first; }
    std::size_t size() const { return words_.size(); }

  private:
    // Where `w` is, or the empty slot where it belongs. FNV-1a's low bits mix poorly: fold
    // the high ones in first.
    std::size_t slot(std::string_view w, std::uint64_t h) const {
        const std::size_t mask = slots_.size() - 1;
        const std::uint64_t m = ((h ^ (h >> 32)) * 0xd6e8feb86659fd93ull) >> 32;
        for (std::size_t i = m & mask;; i = (i + 1) & mask) {
            if (slots_[i] < 0) return i;
            if (words_[slots_[i]].second == h && words_[slots_[i]].first == w) return i;
        }
    }
    [[gnu::noinline]] int add(std::string_view w, std::uint64_t h) {
        if ((words_.size() + 1) * 2 > slots_.size()) {
            slots_.assign(slots_.size() * 2, -1);
            for (std::size_t id = 0; id < words_.size(); ++id)
                slots_[slot(words_[id].first, words_[id].second)] = static_cast<int>(id);
        }
        const int id = static_cast<int>(words_.size());
        slots_[slot(w, h)] = id;
        words_.push_back({w, h});
        flags_.push_back(classify(w));
        return id;
    }
    std::vector<int> slots_ = std::vector<int>(1024, -1);
    std::vector<std::pair<std::string_view, std::uint64_t>> words_;  // and their hashes
    std::vector<unsigned char> flags_;
};

enum class Kind : unsigned char { ident, number, punct, literal };

struct Token {
    std::string_view text;
    std::size_t begin = 0;  // byte offset in the source
    int line = 0;
    int id = -1;  // identifiers only
    Kind kind = Kind::punct;
    std::size_t end() const { return begin + text.size(); }
};

struct Lexed {
    std::vector<Token> code;                    // everything outside preprocessor directives
    std::vector<Token> directive_tokens;        // every directive's tokens, one after another
    std::vector<std::size_t> directive_starts;  // where each directive begins in the above
    int launch_line = 0;                        // of the first `<<<`, 0 when there is none
};

// One pass over the text. Comments vanish, literals become single tokens, and directive lines
// (with their `\` continuations) go to a list of their own, so that `#include <x>` never looks
// like code while `#define` bodies stay visible to the barrier analysis.
Lexed lex(std::string_view s, Words& words);

}  // namespace manycore::detail::source
