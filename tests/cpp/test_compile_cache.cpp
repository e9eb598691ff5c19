// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Specification of the compile cache: keys, hits, corruption, folder safety, concurrency.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/compile_cache.hpp"
#include "manycore/error.hpp"

namespace fs = std::filesystem;
using manycore::detail::CacheKey;
using manycore::detail::CompileCache;
using manycore::detail::VerifiedFile;

namespace {

std::vector<std::byte> bytes_of(std::string_view s) {
    std::vector<std::byte> b(s.size());
    std::memcpy(b.data(), s.data(), s.size());
    return b;
}

std::string payload_of(const VerifiedFile& f) {
    std::string s(f.payload_size(), '\0');
    EXPECT_EQ(::pread(f.fd(), s.data(), s.size(), 0), static_cast<ssize_t>(s.size()));
    return s;
}

std::vector<std::string> names_in(const fs::path& dir) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) out.push_back(e.path().filename());
    return out;
}

bool has_name_containing(const fs::path& dir, std::string_view part) {
    for (const std::string& n : names_in(dir))
        if (n.find(part) != std::string::npos) return true;
    return false;
}

/// chown to another user needs the superuser (the tests run as root in CI).
#define MC_SKIP_UNLESS_ROOT() \
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown files to another user"

mode_t mode_of(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
    return st.st_mode & 07777;
}

/// Each test gets a fresh root and a fresh TMPDIR under one mkdtemp folder, never the user's
/// real cache.
class CompileCacheTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string templ = (fs::temp_directory_path() / "mc-cache-test-XXXXXX").string();
        ASSERT_NE(::mkdtemp(templ.data()), nullptr);
        base_ = templ;
        root_ = base_ / "cache";
        tmp_ = base_ / "tmp";
        fs::create_directory(tmp_);
        ::chmod(tmp_.c_str(), 0700);
        const char* old = std::getenv("TMPDIR");
        had_tmpdir_ = old != nullptr;
        if (old) old_tmpdir_ = old;
        ::setenv("TMPDIR", tmp_.c_str(), 1);
    }
    void TearDown() override {
        if (had_tmpdir_) ::setenv("TMPDIR", old_tmpdir_.c_str(), 1);
        else ::unsetenv("TMPDIR");
        std::error_code ec;
        fs::permissions(root_, fs::perms::owner_all, ec);
        fs::remove_all(base_, ec);
    }

    std::function<std::vector<std::byte>()> counting_build(std::string text) {
        return [this, text] {
            ++builds_;
            return bytes_of(text);
        };
    }
    fs::path entry_path(const CompileCache& c, const CacheKey& k) const {
        return c.directory() / (k.hex() + ".so");
    }

    fs::path base_, root_, tmp_;
    std::string old_tmpdir_;
    bool had_tmpdir_ = false;
    std::atomic<int> builds_{0};
    CacheKey key_ = CacheKey::of({"source", "options", "compiler"});
};

}  // namespace

TEST(CacheKey, StableAndSensitiveToEveryPart) {
    const CacheKey a = CacheKey::of({"src", "-O3", "g++"});
    EXPECT_EQ(a.hex(), CacheKey::of({"src", "-O3", "g++"}).hex());
    EXPECT_EQ(a.hex().size(), 32u);
    EXPECT_EQ(a.hex().find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_NE(a.hex(), CacheKey::of({"srd", "-O3", "g++"}).hex());
    EXPECT_NE(a.hex(), CacheKey::of({"src", "-O2", "g++"}).hex());
    EXPECT_NE(a.hex(), CacheKey::of({"src", "-O3", "clang++"}).hex());
    EXPECT_NE(a.hex(), CacheKey::of({"src", "-O3"}).hex());
    EXPECT_NE(CacheKey::of({"ab", "c"}).hex(), CacheKey::of({"a", "bc"}).hex());
    EXPECT_NE(CacheKey::of({"a", ""}).hex(), CacheKey::of({"a"}).hex());
    EXPECT_NE(CacheKey::of({}).hex(), CacheKey::of({""}).hex());
    // Pinned (XXH3-128 of the 8-byte little-endian length, then the bytes) so that a change to
    // how keys are made, which orphans every entry, is deliberate.
    EXPECT_EQ(CacheKey::of({"manycore"}).hex(), "71c77d85fa37e5ec2b08b93446f2566d");
}

TEST_F(CompileCacheTest, FirstGetBuildsSecondHits) {
    CompileCache cache(root_);
    EXPECT_TRUE(cache.info().usable) << cache.info().reason;
    EXPECT_EQ(cache.directory(), root_ / "v0.1.0");
    bool hit = true;
    {
        VerifiedFile f = cache.get_or_build(key_, ".so", counting_build("payload"), &hit);
        EXPECT_FALSE(hit);
        EXPECT_EQ(payload_of(f), "payload");
        EXPECT_EQ(f.path(), entry_path(cache, key_));
        EXPECT_GE(f.fd(), 0);
        EXPECT_EQ(f.proc_path(), "/proc/self/fd/" + std::to_string(f.fd()));
    }
    EXPECT_EQ(mode_of(entry_path(cache, key_)), 0400u);
    VerifiedFile g = cache.get_or_build(key_, ".so", counting_build("other"), &hit);
    EXPECT_TRUE(hit);
    EXPECT_EQ(builds_, 1);
    EXPECT_EQ(payload_of(g), "payload");
    EXPECT_FALSE(has_name_containing(cache.directory(), ".tmp."));
    // A fresh instance (a new process) finds it too.
    CompileCache again(root_);
    EXPECT_EQ(payload_of(again.get_or_build(key_, ".so", counting_build("x"), &hit)), "payload");
    EXPECT_TRUE(hit);
    EXPECT_EQ(builds_, 1);
}

TEST_F(CompileCacheTest, VerifiedFileOwnsItsDescriptor) {
    CompileCache cache(root_);
    VerifiedFile f = cache.get_or_build(key_, ".so", counting_build("abc"));
    const int fd = f.fd();
    VerifiedFile moved(std::move(f));
    EXPECT_EQ(f.fd(), -1);
    EXPECT_EQ(moved.fd(), fd);
    EXPECT_EQ(moved.payload_size(), 3u);
    EXPECT_NE(::fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
    { VerifiedFile sink = std::move(moved); }
    EXPECT_EQ(::fcntl(fd, F_GETFD), -1);  // closed with its owner
}

TEST_F(CompileCacheTest, CorruptEntriesAreDetectedAndRebuilt) {
    struct Damage {
        const char* what;
        void (*apply)(const fs::path&, std::size_t payload);
    };
    const Damage damages[] = {
        {"flipped payload byte",
         [](const fs::path& p, std::size_t) {
             std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
             f.seekp(3);
             f.put('X');
         }},
        {"flipped checksum byte",
         [](const fs::path& p, std::size_t n) {
             std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
             f.seekg(static_cast<std::streamoff>(n + 35));
             const char c = static_cast<char>(f.get());
             f.seekp(static_cast<std::streamoff>(n + 35));
             f.put(static_cast<char>(c ^ 1));
         }},
        {"truncated",
         [](const fs::path& p, std::size_t) { fs::resize_file(p, fs::file_size(p) - 7); }},
        {"trailer removed", [](const fs::path& p, std::size_t n) { fs::resize_file(p, n); }},
        {"empty", [](const fs::path& p, std::size_t) { fs::resize_file(p, 0); }},
        {"grown",
         [](const fs::path& p, std::size_t) { std::ofstream(p, std::ios::app) << "junk"; }},
    };
    CompileCache cache(root_);
    const std::string good = "0123456789-payload";
    for (const Damage& d : damages) {
        SCOPED_TRACE(d.what);
        builds_ = 0;
        (void)cache.get_or_build(key_, ".so", counting_build(good));
        const fs::path entry = entry_path(cache, key_);
        ::chmod(entry.c_str(), 0600);
        d.apply(entry, good.size());
        ::chmod(entry.c_str(), 0400);
        bool hit = true;
        VerifiedFile f = cache.get_or_build(key_, ".so", counting_build(good), &hit);
        EXPECT_FALSE(hit);
        EXPECT_EQ(payload_of(f), good);
        EXPECT_EQ(f.path(), entry);
        // The rebuilt entry is whole again.
        (void)cache.get_or_build(key_, ".so", counting_build(good), &hit);
        EXPECT_TRUE(hit);
        EXPECT_EQ(builds_, 2);
        fs::remove(entry);
    }
}

TEST_F(CompileCacheTest, EntryRenamedToAnotherKeyIsRejected) {
    CompileCache cache(root_);
    const CacheKey other = CacheKey::of({"another"});
    (void)cache.get_or_build(key_, ".so", counting_build("for key"));
    fs::copy_file(entry_path(cache, key_), entry_path(cache, other));
    bool hit = true;
    VerifiedFile f = cache.get_or_build(other, ".so", counting_build("for other"), &hit);
    EXPECT_FALSE(hit);
    EXPECT_EQ(payload_of(f), "for other");
}

TEST_F(CompileCacheTest, FailedBuildLeavesNothingAndReleasesTheLock) {
    CompileCache cache(root_);
    auto failing = []() -> std::vector<std::byte> {
        throw manycore::CompileError("boom", "log", "src", {});
    };
    EXPECT_THROW(cache.get_or_build(key_, ".so", failing), manycore::CompileError);
    for (const std::string& n : names_in(cache.directory())) {
        EXPECT_TRUE(n.ends_with(".lock")) << "left behind: " << n;
    }
    const fs::path lock = cache.directory() / (key_.hex() + ".lock");
    const int fd = ::open(lock.c_str(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0) << "the lock is still held";
    ::close(fd);
    EXPECT_EQ(payload_of(cache.get_or_build(key_, ".so", counting_build("ok"))), "ok");

    CompileCache off(root_, false);
    EXPECT_THROW(off.get_or_build(key_, ".so", failing), manycore::CompileError);
    EXPECT_TRUE(names_in(tmp_).empty());
}

TEST_F(CompileCacheTest, FoldersAreCreatedPrivateWhateverTheUmask) {
    for (mode_t mask : {0000, 0022, 0277}) {
        SCOPED_TRACE(mask);
        const fs::path root = base_ / ("umask" + std::to_string(mask)) / "deep" / "cache";
        const mode_t old = ::umask(mask);
        CompileCache cache(root);
        bool hit = true;
        VerifiedFile f = cache.get_or_build(key_, ".so", counting_build("p"), &hit);
        ::umask(old);
        EXPECT_TRUE(cache.info().usable) << cache.info().reason;
        EXPECT_EQ(mode_of(root), 0700u);
        EXPECT_EQ(mode_of(root / "v0.1.0"), 0700u);
        EXPECT_EQ(mode_of(root.parent_path()), 0700u);
        EXPECT_EQ(mode_of(entry_path(cache, key_)), 0400u);
        EXPECT_FALSE(hit);
    }
}

TEST_F(CompileCacheTest, ExistingFolderModeIsLeftAlone) {
    fs::create_directory(root_);
    ::chmod(root_.c_str(), 0750);
    CompileCache cache(root_);
    EXPECT_TRUE(cache.info().usable) << cache.info().reason;
    EXPECT_EQ(mode_of(root_), 0750u);  // not ours to chmod
}

TEST_F(CompileCacheTest, WorldWritableRootIsNotUsed) {
    {
        CompileCache safe(root_);
        (void)safe.get_or_build(key_, ".so", counting_build("PLANTED"));  // a valid entry
    }
    ::chmod(root_.c_str(), 0777);
    CompileCache cache(root_);
    const auto info = cache.info();
    EXPECT_FALSE(info.usable);
    EXPECT_NE(info.reason.find("is writable by other users (mode 0777)"), std::string::npos)
        << info.reason;
    EXPECT_NE(info.reason.find("MANYCORE_CACHE_DIR"), std::string::npos);
    bool hit = true;
    VerifiedFile f = cache.get_or_build(key_, ".so", counting_build("FRESH"), &hit);
    EXPECT_FALSE(hit);
    EXPECT_EQ(builds_, 2);
    EXPECT_EQ(payload_of(f), "FRESH");
    EXPECT_NE(f.path(), entry_path(cache, key_));
    EXPECT_EQ(f.path().parent_path().parent_path(), tmp_);  // a private mkdtemp folder
    EXPECT_TRUE(names_in(tmp_).empty());  // removed at once; the descriptor keeps the file
    EXPECT_EQ(cache.clear(), 0u);          // an unsafe folder is not touched
    EXPECT_TRUE(fs::exists(entry_path(cache, key_)));
}

TEST_F(CompileCacheTest, UnsafeFoldersAreNotUsed) {
    struct Case {
        const char* what;
        void (*apply)(const fs::path& root);
        const char* reason;
    };
    const Case cases[] = {
        {"group-writable root", [](const fs::path& r) { ::chmod(r.c_str(), 0770); },
         "writable by its group"},
        {"world-writable version folder",
         [](const fs::path& r) { ::chmod((r / "v0.1.0").c_str(), 0703); }, "writable by other"},
        // chown to another user needs the superuser; these cases run as root only.
        {"root owned by another user",
         [](const fs::path& r) { ASSERT_EQ(::chown(r.c_str(), 65534, 65534), 0); },
         "belongs to user 65534"},
        {"version folder owned by another user",
         [](const fs::path& r) { ASSERT_EQ(::chown((r / "v0.1.0").c_str(), 65534, 65534), 0); },
         "belongs to user 65534"},
        {"version folder is a symbolic link",
         [](const fs::path& r) {
             fs::rename(r / "v0.1.0", r / "elsewhere");
             fs::create_directory_symlink("elsewhere", r / "v0.1.0");
         },
         "symbolic link"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.what);
        if (std::string_view(c.reason) == "belongs to user 65534" && ::geteuid() != 0) continue;
        builds_ = 0;
        std::error_code ec;
        fs::remove_all(root_, ec);
        { (void)CompileCache(root_).get_or_build(key_, ".so", counting_build("PLANTED")); }
        c.apply(root_);
        CompileCache cache(root_);
        EXPECT_FALSE(cache.info().usable);
        EXPECT_NE(cache.info().reason.find(c.reason), std::string::npos) << cache.info().reason;
        bool hit = true;
        VerifiedFile f = cache.get_or_build(key_, ".so", counting_build("FRESH"), &hit);
        EXPECT_FALSE(hit);
        EXPECT_EQ(payload_of(f), "FRESH");
        EXPECT_EQ(f.path().parent_path().parent_path(), tmp_);
        EXPECT_EQ(builds_, 2);
    }
}

TEST_F(CompileCacheTest, EntryOwnedByAnotherUserIsNotLoadedNorRemoved) {
    MC_SKIP_UNLESS_ROOT();
    CompileCache cache(root_);
    (void)cache.get_or_build(key_, ".so", counting_build("PLANTED"));
    const fs::path entry = entry_path(cache, key_);
    ASSERT_EQ(::chown(entry.c_str(), 65534, 65534), 0);
    bool hit = true;
    VerifiedFile f = cache.get_or_build(key_, ".so", counting_build("FRESH"), &hit);
    EXPECT_FALSE(hit);
    EXPECT_EQ(payload_of(f), "FRESH");
    EXPECT_EQ(f.path().parent_path().parent_path(), tmp_);
    struct stat st {};
    ASSERT_EQ(::lstat(entry.c_str(), &st), 0);  // left alone
    EXPECT_EQ(st.st_uid, 65534u);
}

TEST_F(CompileCacheTest, GroupWritableEntryIsNotLoaded) {
    CompileCache cache(root_);
    (void)cache.get_or_build(key_, ".so", counting_build("PLANTED"));
    const fs::path entry = entry_path(cache, key_);
    ::chmod(entry.c_str(), 0460);
    bool hit = true;
    VerifiedFile f = cache.get_or_build(key_, ".so", counting_build("FRESH"), &hit);
    EXPECT_FALSE(hit);
    EXPECT_EQ(payload_of(f), "FRESH");
    EXPECT_EQ(f.path(), entry);  // ours, so replaced by a good one
    EXPECT_EQ(mode_of(entry), 0400u);
}

TEST_F(CompileCacheTest, SymbolicLinkEntryIsNotFollowed) {
    CompileCache cache(root_);
    const CacheKey other = CacheKey::of({"other"});
    (void)cache.get_or_build(key_, ".so", counting_build("PLANTED"));
    fs::copy_file(entry_path(cache, key_), base_ / "outside.so");
    fs::create_symlink(base_ / "outside.so", entry_path(cache, other));
    bool hit = true;
    VerifiedFile f = cache.get_or_build(other, ".so", counting_build("FRESH"), &hit);
    EXPECT_FALSE(hit);
    EXPECT_EQ(payload_of(f), "FRESH");
    EXPECT_FALSE(fs::is_symlink(entry_path(cache, other)));
}

TEST_F(CompileCacheTest, DisabledCacheAlwaysBuildsAndWritesNothing) {
    CompileCache cache(root_, false);
    EXPECT_FALSE(cache.info().usable);
    EXPECT_NE(cache.info().reason.find("MANYCORE_CACHE=0"), std::string::npos);
    for (int i = 0; i < 3; ++i) {
        bool hit = true;
        const std::string text = "p" + std::to_string(i);
        VerifiedFile f = cache.get_or_build(key_, ".so", counting_build(text), &hit);
        EXPECT_FALSE(hit);
        EXPECT_EQ(payload_of(f), text);
    }
    EXPECT_EQ(builds_, 3);
    EXPECT_FALSE(fs::exists(root_));
    EXPECT_TRUE(names_in(tmp_).empty());
}

TEST_F(CompileCacheTest, BadSuffixIsRejected) {
    CompileCache cache(root_);
    EXPECT_THROW(cache.get_or_build(key_, "/../x", counting_build("p")), manycore::InvalidArgument);
    EXPECT_EQ(builds_, 0);
}

TEST_F(CompileCacheTest, InfoAndClear) {
    CompileCache cache(root_);
    std::size_t bytes = 0;
    for (int i = 0; i < 3; ++i) {
        const CacheKey k = CacheKey::of({"k", std::to_string(i)});
        (void)cache.get_or_build(k, ".so", counting_build(std::string(100 + i, 'x')));
        bytes += fs::file_size(entry_path(cache, k));
    }
    const fs::path dir = cache.directory();
    const std::string hex = key_.hex();
    std::ofstream(dir / (hex + ".so.tmp.stale1")) << "partial";
    std::ofstream(dir / (hex + ".so.tmp.fresh1")) << "being written";
    std::ofstream(dir / "README") << "not ours";
    const timespec old_times[2] = {{0, UTIME_OMIT}, {std::time(nullptr) - 3600, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, (dir / (hex + ".so.tmp.stale1")).c_str(), old_times, 0), 0);

    auto info = cache.info();
    EXPECT_TRUE(info.usable);
    EXPECT_EQ(info.directory, dir);
    EXPECT_EQ(info.entries, 3u);
    EXPECT_EQ(info.bytes, bytes);

    EXPECT_EQ(cache.clear(), 3u);
    info = cache.info();
    EXPECT_EQ(info.entries, 0u);
    EXPECT_EQ(info.bytes, 0u);
    EXPECT_FALSE(fs::exists(dir / (hex + ".so.tmp.stale1")));
    EXPECT_TRUE(fs::exists(dir / (hex + ".so.tmp.fresh1")));  // perhaps another process's
    EXPECT_TRUE(fs::exists(dir / "README"));
    EXPECT_FALSE(has_name_containing(dir, ".lock"));
    bool hit = true;
    (void)cache.get_or_build(CacheKey::of({"k", "0"}), ".so", counting_build("again"), &hit);
    EXPECT_FALSE(hit);
}

TEST_F(CompileCacheTest, FourProcessesBuildTheSameKeyOnce) {
    const fs::path counter = base_ / "builds";
    std::ofstream(counter).close();
    const std::string payload(200000, 'P');  // big enough that a torn write would show
    int gate[2];
    ASSERT_EQ(::pipe(gate), 0);
    std::vector<pid_t> children;
    for (int i = 0; i < 4; ++i) {
        const pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            ::close(gate[1]);
            char c;
            (void)!::read(gate[0], &c, 1);  // wait until every child exists
            int status = 1;
            try {
                CompileCache cache(root_);
                VerifiedFile f = cache.get_or_build(key_, ".so", [&] {
                    const int fd = ::open(counter.c_str(), O_WRONLY | O_APPEND);
                    (void)!::write(fd, "b", 1);
                    ::close(fd);
                    std::this_thread::sleep_for(std::chrono::milliseconds(300));
                    return bytes_of(payload);
                });
                std::string got(f.payload_size(), '\0');
                const auto n = ::pread(f.fd(), got.data(), got.size(), 0);
                if (n == static_cast<ssize_t>(got.size()) && got == payload &&
                    f.path() == entry_path(cache, key_))
                    status = 0;
            } catch (...) {
                status = 2;
            }
            ::_exit(status);
        }
        children.push_back(pid);
    }
    ::close(gate[0]);
    ::close(gate[1]);  // opens the gate
    for (pid_t pid : children) {
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
    }
    EXPECT_EQ(fs::file_size(counter), 1u) << "the lock lets exactly one process build";
    bool hit = false;
    EXPECT_EQ(payload_of(CompileCache(root_).get_or_build(key_, ".so", counting_build("x"), &hit)),
              payload);
    EXPECT_TRUE(hit);
    EXPECT_FALSE(has_name_containing(root_ / "v0.1.0", ".tmp."));
}

TEST_F(CompileCacheTest, ThreadsBuildTheSameKeyOnce) {
    CompileCache cache(root_);
    std::vector<std::thread> threads;
    std::atomic<int> hits{0}, good{0};
    for (int i = 0; i < 8; ++i) {
        threads.emplace_back([&] {
            bool hit = false;
            VerifiedFile f = cache.get_or_build(key_, ".so", [&] {
                ++builds_;
                std::this_thread::sleep_for(std::chrono::milliseconds(200));
                return bytes_of("threaded");
            }, &hit);
            hits += hit;
            good += payload_of(f) == "threaded";
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(builds_, 1);
    EXPECT_EQ(hits, 7);
    EXPECT_EQ(good, 8);
}

TEST_F(CompileCacheTest, DifferentKeysBuildAtTheSameTime) {
    // Each build waits for the other to start; a lock across keys would make this time out.
    CompileCache cache(root_);
    std::atomic<int> started{0};
    auto build = [&](std::string text) {
        return [&, text] {
            ++started;
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
            while (started < 2 && std::chrono::steady_clock::now() < deadline)
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            return bytes_of(text);
        };
    };
    const auto t0 = std::chrono::steady_clock::now();
    std::thread a([&] { (void)cache.get_or_build(CacheKey::of({"a"}), ".so", build("a")); });
    std::thread b([&] { (void)cache.get_or_build(CacheKey::of({"b"}), ".so", build("b")); });
    a.join();
    b.join();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(4));
}
