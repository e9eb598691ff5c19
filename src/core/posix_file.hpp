// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// What the core and the backends need of POSIX files and folders: whole reads and writes that
// survive EINTR and short transfers, and private temporary folders.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string_view>
#include <utility>

namespace manycore::detail {

/// Owns a descriptor; closes it on destruction. Not thread-safe.
class Fd {
  public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Fd& operator=(Fd&& o) noexcept {
        if (this != &o) {
            reset();
            fd_ = std::exchange(o.fd_, -1);
        }
        return *this;
    }
    ~Fd() { reset(); }
    int get() const noexcept { return fd_; }
    int release() noexcept { return std::exchange(fd_, -1); }
    explicit operator bool() const noexcept { return fd_ >= 0; }
    void reset() noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

  private:
    int fd_ = -1;
};

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
