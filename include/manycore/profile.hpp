// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Profiles of kernel launches: the time of each launch, and how a kernel would use a GPU's
// memory system (sectors, bank conflicts, divergent branches), counted on the CPU.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "manycore/device.hpp"
#include "manycore/module.hpp"

namespace manycore {

/// One access site of a kernel (a line and a variable, loaded or stored at one width), and
/// what its warp-level requests cost: lane i's n-th execution of the site and the other
/// lanes' n-th executions make one request of their warp.
struct AccessSite {
    enum class Access : std::uint8_t { load, store, atomic, record };
    std::uint32_t line = 0;  // in the user's source; 0 when unknown (`*(p + i)`, `p->x`)
    std::string variable;
    bool shared = false;       // shared memory; else global
    Access access = Access::load;  // record: a struct element, read or written whole
    std::uint32_t width = 0;   // bytes each lane accesses
    std::uint64_t requests = 0;    // warp-level requests
    std::uint64_t accesses = 0;    // lane-level accesses
    // Global: 32-byte sectors the requests touch, and the fewest that would hold the bytes.
    std::uint64_t sectors = 0, ideal_sectors = 0;
    // Shared: the passes the requests take over the 32 banks of 4 bytes (one per request
    // when free of conflicts; 8- and 16-byte accesses take 2 and 4, a half or a quarter of
    // the warp each), and the fewest they could take.
    std::uint64_t wavefronts = 0, ideal_wavefronts = 0;
    std::uint32_t max_ways = 0;     // shared: the largest n-way conflict of one pass
    std::uint64_t conflicted = 0;   // shared: requests that took more passes than the fewest
};

/// One branch site (an `if`, `while`, `for` or `do` condition) and how often the lanes of a
/// warp went different ways there.
struct BranchSite {
    std::uint32_t line = 0;
    std::uint32_t id = 0;           // the branch's number in its source, from 0 (line order)
    std::uint64_t warp_steps = 0;   // warp-level evaluations
    std::uint64_t divergent = 0;    // of them, where some lanes went each way
    std::uint64_t evaluations = 0;  // lane-level evaluations
    std::uint64_t taken = 0;        // lane-level evaluations that were true
};

/// What one instrumented run of a kernel counted.
struct MemoryProfile {
    std::vector<AccessSite> sites;     // by line, then variable
    std::vector<BranchSite> branches;  // by line
    std::uint64_t out_of_bounds = 0;   // accesses outside their array (not made, not counted)
};

/// One launch as a profile saw it.
struct LaunchRecord {
    std::string kernel;
    Device device;
    Dim3 grid, block;
    std::size_t shared_bytes = 0;  // dynamic, plus the kernel's static __shared__
    double seconds = 0;            // GPU: CUDA events; CPU: wall clock around the launch
    // The sizes of the array arguments: through pointers to const (read) and others (written).
    std::uint64_t array_bytes_read = 0, array_bytes_written = 0;
    bool instrumented = false;  // this launch ran instrumented on the CPU (its time is not the kernel's)
    // The counts of the instrumented run of this kernel with this launch shape (this launch's
    // own, or an earlier one's); null without memory profiling or when it could not be made.
    std::shared_ptr<const MemoryProfile> memory;
    std::string memory_note;  // why there are no counts, when memory profiling was asked for
    std::shared_ptr<const std::string> source;  // of the kernel's module, for listings
    std::shared_ptr<const Function> function;   // the kernel (its resources, occupancy)
};

namespace detail {
class ProfilerState;
}

/// Records every launch made (by any thread) while it is started: Profiler::start() makes it
/// the active profile, stop() the one before it again. With `memory`, the first launch of
/// each kernel with each grid, block and shared size also runs instrumented on the CPU (on
/// the CPU device instead of its plain run; for a GPU kernel, on copies of its arrays before
/// its run on the GPU) and its MemoryProfile is kept with that launch and the later ones of
/// the same shape. Launches made while no profile is started reach none of this: their only
/// cost is one load of a null pointer. Thread-safe.
class Profiler {
  public:
    explicit Profiler(bool memory = false);
    ~Profiler();  // stops it if started
    Profiler(const Profiler&) = delete;
    Profiler& operator=(const Profiler&) = delete;

    /// Makes this the active profile (profiles nest: at stop(), the latest one started before
    /// it and still started is active again). Throws InvalidArgument when already started.
    void start();
    /// Waits for the launches it is recording, then stops recording. Does nothing when it is
    /// not started.
    void stop();
    bool started() const noexcept;
    bool memory() const noexcept;

    /// Every launch recorded so far, in the order they began; waits for the GPU times.
    std::vector<LaunchRecord> launches() const;

    /// How many times a launch entered any profile's hook in this process (tests show with it
    /// that launches made while no profile is started never do).
    static std::uint64_t hook_calls() noexcept;

  private:
    std::unique_ptr<detail::ProfilerState> state_;
    bool started_ = false;
};

}  // namespace manycore
