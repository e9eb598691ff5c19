// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Whole reads and writes on descriptors, and private temporary folders.
#include "core/posix_file.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>

#include "manycore/error.hpp"

namespace manycore::detail {

namespace {

// Calls `step(done)` until `bytes` have moved; a step moves some of the bytes from `done` on
// and returns how many, or -1 with errno set. EINTR retries; moving nothing ends early (EIO).
template <class Step>
bool move_all(std::size_t bytes, Step step) noexcept {
    for (std::size_t done = 0; done < bytes;) {
        const ssize_t n = step(done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (n == 0) errno = EIO;
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    return true;
}

}  // namespace

bool read_exactly(int fd, void* out, std::size_t bytes, std::uint64_t offset) noexcept {
    auto* p = static_cast<unsigned char*>(out);
    return move_all(bytes, [&](std::size_t done) {
        return ::pread(fd, p + done, bytes - done, static_cast<off_t>(offset + done));
    });
}

bool write_all(int fd, const void* data, std::size_t bytes) noexcept {
    const auto* p = static_cast<const unsigned char*>(data);
    return move_all(bytes, [&](std::size_t done) { return ::write(fd, p + done, bytes - done); });
}

std::filesystem::path temp_base() {
    const char* t = std::getenv("TMPDIR");
    return (t && *t) ? std::filesystem::path(t) : std::filesystem::path("/tmp");
}

PrivateFolder::PrivateFolder(std::string_view prefix, std::string_view caller) {
    std::string pattern = (temp_base() / (std::string(prefix) + "XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        const int err = errno;
        throw Error(std::string(caller) + ": cannot create a private folder " + pattern + " (" +
                    std::strerror(err) + "); set TMPDIR to a writable folder");
    }
    path_ = pattern;
}

PrivateFolder::~PrivateFolder() {
    std::error_code ignored;  // a leftover is only litter in TMPDIR; a destructor must not throw
    std::filesystem::remove_all(path_, ignored);
}

}  // namespace manycore::detail
