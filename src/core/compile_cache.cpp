// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The on-disk compile cache: private folders, checksummed entries, atomic renames, flock.
#include "core/compile_cache.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <utility>

#include "manycore/config.hpp"
#include "manycore/error.hpp"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace manycore::detail {
namespace {

// Entry layout: <payload bytes><Trailer>. The trailer sits at the end so that the payload (an
// ELF image) starts at offset 0 and dlopen sees an ordinary library; bytes after the sections
// are ignored by the loader. All integers are little-endian.
//   offset  0  u32  format version (kFormatVersion)
//   offset  4  u32  trailer size (kTrailerSize), so a reader can reject other layouts early
//   offset  8  u64  payload size in bytes
//   offset 16  u64  key high, u64 key low: an entry renamed to another key's name is rejected
//   offset 32  u64  XXH3-128 of the payload, high then low
//   offset 48  8 B  magic "MCENTRY\0"
constexpr std::uint32_t kFormatVersion = 1;
constexpr std::size_t kTrailerSize = 56;
constexpr std::array<unsigned char, 8> kMagic = {'M', 'C', 'E', 'N', 'T', 'R', 'Y', 0};
constexpr const char* kTempInfix = ".tmp.";
// A temporary exists only between write() and rename(), milliseconds; anything older than
// this is left over from a process that died in between.
constexpr auto kStaleTemporaryAge = std::chrono::seconds(60);

std::string errno_text(int err) { return std::strerror(err); }

std::string mode_text(mode_t mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
    return buf;
}

/// Owns a descriptor; closes it on destruction.
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

void put_u32(unsigned char* p, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
void put_u64(unsigned char* p, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
std::uint32_t get_u32(const unsigned char* p) {
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}
std::uint64_t get_u64(const unsigned char* p) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

std::array<unsigned char, kTrailerSize> make_trailer(const CacheKey& key,
                                                     const std::vector<std::byte>& payload) {
    const XXH128_hash_t sum = XXH3_128bits(payload.data(), payload.size());
    std::array<unsigned char, kTrailerSize> t{};
    put_u32(&t[0], kFormatVersion);
    put_u32(&t[4], static_cast<std::uint32_t>(kTrailerSize));
    put_u64(&t[8], payload.size());
    put_u64(&t[16], key.high);
    put_u64(&t[24], key.low);
    put_u64(&t[32], sum.high64);
    put_u64(&t[40], sum.low64);
    std::memcpy(&t[48], kMagic.data(), kMagic.size());
    return t;
}

bool read_full(int fd, void* buf, std::size_t n, off_t offset) {
    auto* p = static_cast<unsigned char*>(buf);
    while (n > 0) {
        const ssize_t r = ::pread(fd, p, n, offset);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        p += r;
        n -= static_cast<std::size_t>(r);
        offset += r;
    }
    return true;
}

bool write_full(int fd, const void* buf, std::size_t n) {
    const auto* p = static_cast<const unsigned char*>(buf);
    while (n > 0) {
        const ssize_t w = ::write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= static_cast<std::size_t>(w);
    }
    return true;
}

enum class Probe { ok, missing, ours_bad, foreign };

/// Checks an open entry: a regular file of ours that nobody else may write, with a trailer
/// that names `key` (or any key when `key` is null) and a payload whose checksum matches.
Probe verify(int fd, const CacheKey* key, std::size_t* payload_size) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return Probe::ours_bad;
    if (st.st_uid != ::geteuid()) return Probe::foreign;
    if (!S_ISREG(st.st_mode) || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) return Probe::ours_bad;
    const auto size = static_cast<std::size_t>(st.st_size);
    if (size < kTrailerSize) return Probe::ours_bad;
    std::array<unsigned char, kTrailerSize> t{};
    if (!read_full(fd, t.data(), t.size(), static_cast<off_t>(size - kTrailerSize)))
        return Probe::ours_bad;
    if (std::memcmp(&t[48], kMagic.data(), kMagic.size()) != 0 ||
        get_u32(&t[0]) != kFormatVersion || get_u32(&t[4]) != kTrailerSize ||
        get_u64(&t[8]) != size - kTrailerSize)
        return Probe::ours_bad;
    if (key && (get_u64(&t[16]) != key->high || get_u64(&t[24]) != key->low))
        return Probe::ours_bad;
    XXH3_state_t state;
    XXH3_128bits_reset(&state);
    std::vector<unsigned char> buf(std::size_t{1} << 16);
    std::size_t done = 0;
    const std::size_t payload = size - kTrailerSize;
    while (done < payload) {
        const std::size_t n = std::min(buf.size(), payload - done);
        if (!read_full(fd, buf.data(), n, static_cast<off_t>(done))) return Probe::ours_bad;
        XXH3_128bits_update(&state, buf.data(), n);
        done += n;
    }
    const XXH128_hash_t sum = XXH3_128bits_digest(&state);
    if (sum.high64 != get_u64(&t[32]) || sum.low64 != get_u64(&t[40])) return Probe::ours_bad;
    if (payload_size) *payload_size = payload;
    return Probe::ok;
}

/// Opens and verifies `name` in `dirfd`; on success `*out` holds the descriptor.
Probe probe(int dirfd, const std::string& name, const CacheKey& key, Fd* out,
            std::size_t* payload_size) {
    Fd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (!fd) {
        // ELOOP: a symbolic link planted under the entry's name; ours to remove.
        return errno == ENOENT ? Probe::missing : Probe::ours_bad;
    }
    const Probe p = verify(fd.get(), &key, payload_size);
    if (p == Probe::ok) *out = std::move(fd);
    return p;
}

/// A random file-name suffix; with O_EXCL this is what mkstemp does, but relative to a
/// directory descriptor (glibc has no mkstempat), so the checked folder is the one written.
std::string random_suffix() {
    static thread_local std::mt19937_64 rng{std::random_device{}() ^
                                            (static_cast<std::uint64_t>(::getpid()) << 32)};
    static constexpr char digits[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::string s(10, 'x');
    for (char& c : s) c = digits[rng() % (sizeof digits - 1)];
    return s;
}

/// Writes payload + trailer to a fresh temporary in `dirfd`; returns its name, or "" with
/// `*why` set. Mode 0400: dlopen needs only read, and a read-only file cannot be rewritten in
/// place by mistake while other processes have it mapped (that crashes them).
std::string write_temporary(int dirfd, const std::string& name, const CacheKey& key,
                            const std::vector<std::byte>& payload, std::string* why) {
    for (int attempt = 0; attempt < 100; ++attempt) {
        std::string tmp = name + kTempInfix + random_suffix();
        Fd fd(::openat(dirfd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                       S_IRUSR));
        if (!fd) {
            if (errno == EEXIST) continue;
            *why = "cannot create " + tmp + ": " + errno_text(errno);
            return {};
        }
        const auto trailer = make_trailer(key, payload);
        // fchmod because a umask may have removed the owner's read bit; we made this file.
        // No fsync: after a crash the entry may be truncated or zero-filled, which the checksum
        // catches and turns into a rebuild; an fsync per build would cost more than that.
        if (::fchmod(fd.get(), S_IRUSR) != 0 ||
            !write_full(fd.get(), payload.data(), payload.size()) ||
            !write_full(fd.get(), trailer.data(), trailer.size())) {
            *why = "cannot write " + tmp + ": " + errno_text(errno);
            ::unlinkat(dirfd, tmp.c_str(), 0);
            return {};
        }
        return tmp;
    }
    *why = "cannot find a free temporary name for " + name;
    return {};
}

/// Creates the missing ancestors of `path` with mode 0700 (XDG asks the same of cache homes).
void create_ancestors(const std::filesystem::path& path) {
    std::filesystem::path partial;
    for (const auto& part : path.parent_path()) {
        partial /= part;
        if (::mkdir(partial.c_str(), 0700) == 0) ::chmod(partial.c_str(), 0700);
    }
}

/// Opens (creating with mode 0700 when missing) the folder `name` relative to `parent`
/// (AT_FDCWD for an absolute path). Returns the descriptor, or an empty Fd with `*why` set.
Fd open_folder(int parent, const std::string& name, const std::string& shown, bool follow,
               bool create, std::string* why) {
    const int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW);
    Fd fd(::openat(parent, name.c_str(), flags));
    if (!fd && errno == ENOENT && create) {
        if (parent == AT_FDCWD) create_ancestors(name);
        if (::mkdirat(parent, name.c_str(), 0700) == 0) {
            fd = Fd(::openat(parent, name.c_str(), flags));
            // A restrictive umask (say 0277) would leave us a folder we cannot write; we
            // created it, so set its mode exactly.
            if (fd) ::fchmod(fd.get(), 0700);
        } else if (errno == EEXIST) {
            fd = Fd(::openat(parent, name.c_str(), flags));  // another process was first
        }
    }
    if (!fd) {
        const int err = errno;
        if (err == ELOOP || (err == ENOTDIR && !follow)) {
            *why = shown + " is a symbolic link or not a folder; manycore will not load compiled "
                           "code through it: remove it or set MANYCORE_CACHE_DIR";
        } else if (err == ENOENT && !create) {
            *why = shown + " does not exist yet";
        } else {
            *why = "cannot open the cache folder " + shown + ": " + errno_text(err) +
                   "; set MANYCORE_CACHE_DIR to a private folder you can write";
        }
        return {};
    }
    return fd;
}

/// Empty when the open folder is private to this user, else why not. The root may belong to
/// the superuser (which can read and replace anything anyway), the version folder only to us.
std::string check_private(int fd, const std::string& shown, bool allow_root_owner) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return "cannot inspect " + shown + ": " + errno_text(errno);
    const uid_t me = ::geteuid();
    const std::string advice =
        "; manycore will not load compiled code from it: use a private folder (chmod 700) or "
        "set MANYCORE_CACHE_DIR";
    if (!S_ISDIR(st.st_mode)) return shown + " is not a folder" + advice;
    if (st.st_uid != me && !(allow_root_owner && st.st_uid == 0)) {
        return shown + " belongs to user " + std::to_string(st.st_uid) + ", not to you (user " +
               std::to_string(me) + ")" + advice;
    }
    if (st.st_mode & S_IWOTH)
        return shown + " is writable by other users (mode " + mode_text(st.st_mode) + ")" + advice;
    if (st.st_mode & S_IWGRP)
        return shown + " is writable by its group (mode " + mode_text(st.st_mode) + ")" + advice;
    return {};
}

std::filesystem::path temp_base() {
    const char* t = std::getenv("TMPDIR");
    return (t && *t) ? std::filesystem::path(t) : std::filesystem::path("/tmp");
}

/// Removes an entry of ours; errors ignored (a concurrent clear() may have been first).
void remove_entry(int dirfd, const std::string& name) { ::unlinkat(dirfd, name.c_str(), 0); }

bool is_hex_name(std::string_view n) {
    if (n.size() < 32) return false;
    for (std::size_t i = 0; i < 32; ++i) {
        const char c = n[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

template <class F>
void for_each_name(int dirfd, F&& f) {
    // A fresh open, not dup(): a dup shares the read position, so a second listing through
    // the same folder descriptor would start at the end. fdopendir owns what it is given.
    Fd copy(::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!copy) return;
    DIR* d = ::fdopendir(copy.get());
    if (!d) return;
    copy.release();
    while (const dirent* e = ::readdir(d)) {
        const std::string n = e->d_name;
        if (n != "." && n != "..") f(n);
    }
    ::closedir(d);
}

/// Opens `root/v<version>` after checking both are private to this user.
Fd open_version_folder(const std::filesystem::path& root_path,
                       const std::filesystem::path& dir_path,
                       bool create, std::string* why) {
    // Every use reopens and rechecks the folders, then works relative to the descriptor, so a
    // folder swapped after the check is not the one written or read.
    // The root may be a symbolic link (a relocated ~/.cache is common); what it leads to is
    // checked. The version folder may not be one.
    Fd root = open_folder(AT_FDCWD, root_path.string(), root_path.string(), true, create, why);
    if (!root) return {};
    if (std::string r = check_private(root.get(), root_path.string(), true); !r.empty()) {
        *why = std::move(r);
        return {};
    }
    Fd dir = open_folder(root.get(), dir_path.filename().string(), dir_path.string(), false,
                         create, why);
    if (!dir) return {};
    if (std::string r = check_private(dir.get(), dir_path.string(), false); !r.empty()) {
        *why = std::move(r);
        return {};
    }
    return dir;
}

/// Stores `payload` in a private temporary folder, for when the cache cannot be used.
VerifiedFile store_private(const CacheKey& key, const std::string& name,
                           const std::vector<std::byte>& payload) {
    // A fresh mkdtemp folder (mode 0700, ours) holds the file only until it is opened; the
    // descriptor keeps it alive for dlopen through /proc/self/fd, and nothing is left behind.
    std::string templ = (temp_base() / "manycore-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) {
        throw Error("compile cache: cannot create a private temporary folder from " + templ +
                    ": " + errno_text(errno) + "; set TMPDIR to a writable folder");
    }
    const std::filesystem::path folder = templ;
    Fd dirfd(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    std::string why = dirfd ? std::string() : errno_text(errno);
    Fd fd;
    std::size_t payload_size = 0;
    if (dirfd) {
        const std::string tmp = write_temporary(dirfd.get(), name, key, payload, &why);
        if (!tmp.empty()) {
            fd = Fd(::openat(dirfd.get(), tmp.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
            if (!fd || verify(fd.get(), &key, &payload_size) != Probe::ok) {
                why = "the file written could not be read back intact";
                fd.reset();
            }
            ::unlinkat(dirfd.get(), tmp.c_str(), 0);
        }
    }
    ::rmdir(folder.c_str());
    if (!fd) {
        throw Error("compile cache: cannot store the compiled module in " + folder.string() +
                    ": " + why + "; set TMPDIR to a writable folder with free space");
    }
    return VerifiedFile(fd.release(), folder / name, payload_size);
}

/// Whether the regular file `name` ends with an entry trailer's magic (info and clear).
bool has_entry_magic(int dirfd, const std::string& name) {
    Fd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
    if (static_cast<std::size_t>(st.st_size) < kTrailerSize) return false;
    std::array<unsigned char, kMagic.size()> m{};
    return read_full(fd.get(), m.data(), m.size(), st.st_size - static_cast<off_t>(m.size())) &&
           m == kMagic;
}


}  // namespace

CacheKey CacheKey::of(std::initializer_list<std::string_view> parts) {
    XXH3_state_t state;
    XXH3_128bits_reset(&state);
    for (std::string_view part : parts) {
        unsigned char len[8];
        put_u64(len, part.size());
        XXH3_128bits_update(&state, len, sizeof len);
        XXH3_128bits_update(&state, part.data(), part.size());
    }
    const XXH128_hash_t h = XXH3_128bits_digest(&state);
    return CacheKey{h.high64, h.low64};
}

std::string CacheKey::hex() const {
    char buf[33];
    std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(high),
                  static_cast<unsigned long long>(low));
    return std::string(buf, 32);
}

VerifiedFile::VerifiedFile(int fd, std::filesystem::path path, std::size_t payload_size)
    : fd_(fd), path_(std::move(path)), payload_size_(payload_size) {}

VerifiedFile::VerifiedFile(VerifiedFile&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), path_(std::move(o.path_)),
      payload_size_(std::exchange(o.payload_size_, 0)) {}

VerifiedFile& VerifiedFile::operator=(VerifiedFile&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = std::exchange(o.fd_, -1);
        path_ = std::move(o.path_);
        payload_size_ = std::exchange(o.payload_size_, 0);
    }
    return *this;
}

VerifiedFile::~VerifiedFile() {
    if (fd_ >= 0) ::close(fd_);
}

/// Empty when new entries can be written into the open version folder, else why not: a private
/// but read-only folder (chmod 500) keeps what it has, but nothing compiled since is kept, so
/// every run compiles it afresh.
static std::string read_only_reason(int dirfd, const std::filesystem::path& dir_path) {
    // The mode too: the superuser may write anywhere, but chmod 500 says not to.
    struct stat st {};
    const bool writable = ::faccessat(dirfd, ".", W_OK | X_OK, AT_EACCESS) == 0 &&
                          ::fstat(dirfd, &st) == 0 && (st.st_mode & S_IWUSR) != 0;
    if (writable) return {};
    ::fstat(dirfd, &st);
    return dir_path.string() + " is read-only for you (mode " + mode_text(st.st_mode) +
           "): modules compiled from now on cannot be kept there, so every run compiles them "
           "afresh; make it writable (chmod u+w) or set MANYCORE_CACHE_DIR";
}

std::string VerifiedFile::proc_path() const { return "/proc/self/fd/" + std::to_string(fd_); }

CompileCache::CompileCache(std::filesystem::path root, bool enabled)
    : root_(std::move(root)), enabled_(enabled) {
    if (root_.is_relative()) root_ = std::filesystem::absolute(root_);
    dir_ = root_ / (std::string("v") + manycore::version());
    if (!enabled_) {
        reason_ = "the disk cache is off (MANYCORE_CACHE=0): every module is compiled afresh";
        return;
    }
    const Fd dir = open_version_folder(root_, dir_, true, &reason_);
    if (dir) reason_ = read_only_reason(dir.get(), dir_);
    usable_ = dir && reason_.empty();
}

CompileCache& CompileCache::instance() {
    static CompileCache cache(Config::get().cache_dir, Config::get().cache_enabled);
    return cache;
}

const std::filesystem::path& CompileCache::directory() const noexcept { return dir_; }


VerifiedFile CompileCache::get_or_build(const CacheKey& key, std::string_view suffix,
                                        const std::function<std::vector<std::byte>()>& build,
                                        bool* from_cache) {
    if (from_cache) *from_cache = false;
    if (suffix.find('/') != std::string_view::npos || suffix.find('\0') != std::string_view::npos ||
        suffix.size() > 32) {
        throw InvalidArgument("compile cache: the entry suffix '" + std::string(suffix) +
                              "' must be a short file-name ending such as \".so\"");
    }
    const std::string hex = key.hex();
    const std::string name = hex + std::string(suffix);
    if (!enabled_) return store_private(key, name, build());

    std::string why;
    Fd dir = open_version_folder(root_, dir_, true, &why);
    if (!dir) return store_private(key, name, build());

    Fd fd;
    std::size_t payload_size = 0;
    Probe p = probe(dir.get(), name, key, &fd, &payload_size);
    if (p == Probe::ok) {
        if (from_cache) *from_cache = true;
        return VerifiedFile(fd.release(), dir_ / name, payload_size);
    }
    if (p == Probe::foreign) return store_private(key, name, build());

    // One builder per key across processes and threads: flock locks belong to the open file
    // description, so each open() here excludes the others, in this process too. Lock files
    // stay: removing one while another process waits on it would let a third build alongside.
    // Without the lock (say ENOLCK on a network file system) it is still correct, only
    // wasteful: every builder renames a complete entry into place and the last one wins.
    const std::string lock_name = hex + ".lock";
    Fd lock(::openat(dir.get(), lock_name.c_str(),
                     O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, S_IRUSR | S_IWUSR));
    if (lock) {
        while (::flock(lock.get(), LOCK_EX) != 0 && errno == EINTR) {
        }
        // Someone may have built it while we waited.
        p = probe(dir.get(), name, key, &fd, &payload_size);
        if (p == Probe::ok) {
            if (from_cache) *from_cache = true;
            return VerifiedFile(fd.release(), dir_ / name, payload_size);
        }
        if (p == Probe::foreign) return store_private(key, name, build());
    }
    if (p == Probe::ours_bad) remove_entry(dir.get(), name);

    const std::vector<std::byte> payload = build();  // throws: nothing written yet
    const std::string tmp = write_temporary(dir.get(), name, key, payload, &why);
    if (!tmp.empty()) {
        if (::renameat(dir.get(), tmp.c_str(), dir.get(), name.c_str()) == 0) {
            p = probe(dir.get(), name, key, &fd, &payload_size);
            if (p == Probe::ok) return VerifiedFile(fd.release(), dir_ / name, payload_size);
        } else {
            ::unlinkat(dir.get(), tmp.c_str(), 0);
        }
    }
    // The folder would not take the entry (full disk, a concurrent clear()): the build is
    // done, so load it from a private folder rather than fail.
    return store_private(key, name, payload);
}

CacheInfo CompileCache::info() const {
    CacheInfo out;
    out.directory = dir_;
    out.usable = usable_;
    out.reason = reason_;
    std::string why;
    Fd dir = open_version_folder(root_, dir_, false, &why);
    if (!dir) {
        if (out.usable) {  // it was fine at start-up; say what changed
            out.usable = false;
            out.reason = why;
        }
        return out;
    }
    if (std::string r = read_only_reason(dir.get(), dir_); !r.empty()) {
        out.usable = false;
        out.reason = std::move(r);
    }
    for_each_name(dir.get(), [&](const std::string& n) {
        if (!is_hex_name(n) || n.find(kTempInfix) != std::string::npos) return;
        struct stat st {};
        if (::fstatat(dir.get(), n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return;
        if (!has_entry_magic(dir.get(), n)) return;
        ++out.entries;
        out.bytes += static_cast<std::size_t>(st.st_size);
    });
    return out;
}

std::size_t CompileCache::clear() {
    std::string why;
    Fd dir = open_version_folder(root_, dir_, false, &why);
    if (!dir) return 0;  // missing, or not ours to touch
    std::size_t removed = 0;
    const auto now = std::chrono::system_clock::now();
    std::vector<std::string> names;
    for_each_name(dir.get(), [&](const std::string& n) { names.push_back(n); });
    for (const std::string& n : names) {
        if (!is_hex_name(n)) continue;  // not ours by name: leave it
        struct stat st {};
        if (::fstatat(dir.get(), n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        if (S_ISDIR(st.st_mode)) continue;
        const bool temporary = n.find(kTempInfix) != std::string::npos;
        const bool lock = n.size() >= 5 && n.compare(n.size() - 5, 5, ".lock") == 0;
        if (temporary) {
            const auto mtime = std::chrono::system_clock::time_point(
                std::chrono::duration_cast<std::chrono::system_clock::duration>(
                    std::chrono::seconds(st.st_mtim.tv_sec) +
                    std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
            if (now - mtime < kStaleTemporaryAge) continue;  // another process is writing it
        }
        const bool entry = !temporary && !lock && has_entry_magic(dir.get(), n);
        if (::unlinkat(dir.get(), n.c_str(), 0) == 0 && entry) ++removed;
    }
    return removed;
}

}  // namespace manycore::detail
