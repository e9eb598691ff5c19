// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The on-disk cache of compiled modules, safe for many processes and never loading a file this
// user did not create.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace manycore::detail {

/// A 128-bit XXH3 digest over the parts that decide what a compile produces.
struct CacheKey {
    std::uint64_t high = 0, low = 0;
    /// Hashes the parts in order; each part's length is hashed too, so parts cannot run together.
    static CacheKey of(std::initializer_list<std::string_view> parts);
    std::string hex() const;  // 32 lowercase hex digits
};

/// An entry opened for loading: a read-only descriptor of a file whose owner, mode and checksum
/// were verified. Loaders go through `/proc/self/fd/<fd>` so the verified file is the loaded one.
class VerifiedFile {
  public:
    VerifiedFile() = default;
    VerifiedFile(int fd, std::filesystem::path path, std::size_t payload_size);
    VerifiedFile(VerifiedFile&&) noexcept;
    VerifiedFile& operator=(VerifiedFile&&) noexcept;
    VerifiedFile(const VerifiedFile&) = delete;
    VerifiedFile& operator=(const VerifiedFile&) = delete;
    ~VerifiedFile();

    int fd() const noexcept { return fd_; }
    const std::filesystem::path& path() const noexcept { return path_; }
    std::size_t payload_size() const noexcept { return payload_size_; }
    /// "/proc/self/fd/<fd>", for dlopen.
    std::string proc_path() const;
    /// Gives up the descriptor without closing it (a loaded library keeps it for good).
    int release() noexcept { return std::exchange(fd_, -1); }

  private:
    int fd_ = -1;
    std::filesystem::path path_;
    std::size_t payload_size_ = 0;
};

struct CacheInfo {
    std::filesystem::path directory;
    bool usable = false;  // false when the directory is not private to this user
    std::string reason;   // why it is not usable
    std::size_t entries = 0;
    std::size_t bytes = 0;
};

/// The compile cache rooted at a per-user, per-version directory. Thread-safe.
class CompileCache {
  public:
    /// `root` is the user-facing folder (MANYCORE_CACHE_DIR or the default); entries go into
    /// `root/v<version>/`. The folders are created with mode 0700. A folder that exists but is
    /// not owned by this user or is writable by others is not used: every build then goes to a
    /// fresh private temporary folder and nothing is read from `root`.
    explicit CompileCache(std::filesystem::path root, bool enabled = true);
    /// The process-wide cache, from Config.
    static CompileCache& instance();

    /// Returns the entry for `key`, building it with `build` when it is missing or corrupt.
    /// `build` returns the payload bytes (a shared library); it runs at most once per key at a
    /// time across processes (an advisory lock), and its exceptions propagate. `suffix` names
    /// the kind of entry (".so"). `from_cache` is set to whether the entry already existed.
    VerifiedFile get_or_build(const CacheKey& key, std::string_view suffix,
                              const std::function<std::vector<std::byte>()>& build,
                              bool* from_cache = nullptr);

    CacheInfo info() const;
    /// Removes every entry of this version (and stale temporary files). Returns entries removed.
    std::size_t clear();
    const std::filesystem::path& directory() const noexcept;

  private:
    std::filesystem::path root_;
    std::filesystem::path dir_;  // root_/v<version>
    bool enabled_;
    bool usable_ = false;
    std::string reason_;
};

}  // namespace manycore::detail
