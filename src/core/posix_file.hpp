// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// What the core and the backends need of POSIX files and folders: whole reads and writes that
// survive EINTR and short transfers, and private temporary folders.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string_view>

namespace manycore::detail {

/// Reads exactly `bytes` from `fd` at `offset` (pread: the file position is left alone),
/// retrying after EINTR and short reads. False on an error or an early end of the file; errno
/// then says which (EIO for an early end). Thread-safe.
bool read_exactly(int fd, void* out, std::size_t bytes, std::uint64_t offset) noexcept;

/// Writes all `bytes` to `fd` at its position, retrying after EINTR and short writes. False
/// on an error; errno says which. Thread-safe.
bool write_all(int fd, const void* data, std::size_t bytes) noexcept;

/// $TMPDIR, or /tmp when it is unset or empty.
std::filesystem::path temp_base();

/// A new folder under temp_base() named `<prefix>XXXXXX`, made by mkdtemp, so mode 0700 and
/// this user's: private, since what goes in it (headers, a library about to be loaded) is
/// code. It is removed with everything in it when the object goes.
class PrivateFolder {
  public:
    /// Throws Error naming `caller`, the folder and the reason, with the remedy (TMPDIR).
    PrivateFolder(std::string_view prefix, std::string_view caller);
    ~PrivateFolder();
    PrivateFolder(const PrivateFolder&) = delete;
    PrivateFolder& operator=(const PrivateFolder&) = delete;

    const std::filesystem::path& path() const noexcept { return path_; }

  private:
    std::filesystem::path path_;
};

}  // namespace manycore::detail
