// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Profiles: each launch timed and recorded, and, asked for, run once per shape instrumented.
#include "manycore/profile.hpp"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <shared_mutex>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "core/profiler_hook.hpp"
#include "manycore/detail/backend.hpp"
#include "manycore/error.hpp"

namespace manycore {
namespace detail {

std::atomic<ProfilerState*> active_profile{nullptr};

namespace {

std::atomic<std::uint64_t> hook_calls{0};

// Held shared by every profiled launch, and exclusively to start or stop a profile: stop()
// returns once no launch is still recording into the profile it stops.
std::shared_mutex& active_mutex() {
    static std::shared_mutex m;
    return m;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string first_line(const char* text) {
    const char* end = std::strchr(text, '\n');
    return end == nullptr ? std::string(text) : std::string(text, end);
}

struct FreeDeleter {
    void operator()(void* p) const noexcept { std::free(p); }
};

}  // namespace

class ProfilerState {
  public:
    explicit ProfilerState(bool memory) : memory_(memory) {}
    ~ProfilerState() {
        for (auto& [device, start, end] : events_) {
            const Backend& b = backend(device.kind());
            b.destroy_event(device.index(), start);
            b.destroy_event(device.index(), end);
        }
    }

    bool memory() const noexcept { return memory_; }

    static void hook(const Function& f, const LaunchConfig& config,
                     std::span<const KernelArg> args, void* const* packed) {
        hook_calls.fetch_add(1, std::memory_order_relaxed);
        const std::shared_lock lock(active_mutex());
        ProfilerState* p = active_profile.load(std::memory_order_acquire);
        if (p == nullptr) {
            f.run(config, args, packed);
            return;
        }
        p->launch(f, config, args, packed);
    }

    std::vector<LaunchRecord> launches() {
        std::lock_guard lock(mutex_);
        std::vector<LaunchRecord> out;
        out.reserve(entries_.size());
        for (Entry& e : entries_) {
            if (e.events >= 0) {  // a GPU launch: its time once its end event has happened
                auto& [device, start, end] = events_[static_cast<std::size_t>(e.events)];
                const Backend& b = backend(device.kind());
                b.synchronize_event(device.index(), end);
                e.seconds = b.elapsed_ms(device.index(), start, end) / 1e3;
                free_events_.push_back(e.events);
                e.events = -1;
            }
            const Kernel& k = kernels_[e.kernel];
            LaunchRecord r;
            r.kernel = k.name;
            r.device = k.device;
            r.grid = e.grid;
            r.block = e.block;
            r.shared_bytes = e.shared;
            r.seconds = e.seconds;
            r.array_bytes_read = e.read;
            r.array_bytes_written = e.written;
            r.instrumented = e.instrumented;
            r.source = k.source;
            r.function = k.function;
            if (e.shape != kNoShape) {
                r.memory = shapes_[e.shape].profile;
                r.memory_note = shapes_[e.shape].note;
            }
            out.push_back(std::move(r));
        }
        return out;
    }

  private:
    static constexpr std::uint32_t kNoShape = ~0u;

    struct Kernel {
        std::shared_ptr<const Function> function;  // keeps its kernel's address from being reused
        std::string name;
        Device device;
        std::shared_ptr<const std::string> source;
        std::optional<Function> memory_build;
    };
    struct Entry {
        std::uint32_t kernel = 0;
        std::uint32_t shape = kNoShape;
        Dim3 grid, block;
        std::size_t shared = 0;
        double seconds = 0;
        std::uint64_t read = 0, written = 0;
        std::int32_t events = -1;  // index into events_ while a GPU time is pending
        bool instrumented = false;
    };
    struct Shape {
        std::shared_ptr<const MemoryProfile> profile;
        std::string note;
    };
    // Kernel, grid, block, dynamic shared bytes.
    using ShapeKey = std::tuple<std::uint32_t, std::uint32_t, std::uint32_t, std::uint32_t,
                                std::uint32_t, std::uint32_t, std::uint32_t, std::size_t>;

    // Under mutex_: the kernel's index, added on first sight.
    std::uint32_t kernel_index(const Function& f) {
        const auto [at, fresh] =
            kernel_by_impl_.try_emplace(f.kernel_.get(), static_cast<std::uint32_t>(kernels_.size()));
        if (fresh) {
            kernels_.push_back(Kernel{std::make_shared<const Function>(f), f.name(), f.device(),
                                      f.source_text(), std::nullopt});
        }
        return at->second;
    }

    void launch(const Function& f, const LaunchConfig& config, std::span<const KernelArg> args,
                void* const* packed) {
        Entry e;
        e.grid = config.grid;
        e.block = config.block;
        e.shared = config.shared_bytes + f.static_shared_bytes();
        const auto& params = f.params();
        for (std::size_t i = 0; i < args.size() && i < params.size(); ++i) {
            if (args[i].kind() != KernelArg::Kind::array || !args[i].from_array()) continue;
            (params[i].desc.pointee_const ? e.read : e.written) += args[i].nbytes();
        }
        const Device& device = f.device();
        bool instrument = false;
        if (memory_) {
            std::lock_guard lock(mutex_);
            e.kernel = kernel_index(f);
            const ShapeKey key{e.kernel,       config.grid.x,  config.grid.y,  config.grid.z,
                               config.block.x, config.block.y, config.block.z, config.shared_bytes};
            const auto [at, fresh] =
                shape_by_key_.try_emplace(key, static_cast<std::uint32_t>(shapes_.size()));
            if (fresh) shapes_.emplace_back();
            e.shape = at->second;
            instrument = fresh;
        }
        if (instrument) {
            if (device.kind() == DeviceKind::cpu) {
                // The instrumented run is this launch: its results are the plain run's.
                const auto t0 = std::chrono::steady_clock::now();
                e.instrumented = instrumented_run(f, config, args, packed, e.shape);
                if (e.instrumented) {
                    e.seconds = seconds_since(t0);
                    add(f, e);
                    return;
                }
            } else {
                // On copies of its arrays, before the GPU run changes them.
                (void)instrumented_run(f, config, args, packed, e.shape);
            }
        }
        if (device.kind() == DeviceKind::cpu) {
            const auto t0 = std::chrono::steady_clock::now();
            f.run(config, args, packed);
            e.seconds = seconds_since(t0);
        } else {
            const auto [pair, start, end] = take_events(device);
            const Backend& b = backend(device.kind());
            try {
                b.record_event(device.index(), start, config.stream);
                f.run(config, args, packed);
                b.record_event(device.index(), end, config.stream);
            } catch (...) {
                std::lock_guard lock(mutex_);
                free_events_.push_back(pair);
                throw;
            }
            e.events = pair;
        }
        add(f, e);
    }

    // Without memory profiling the kernel's index is looked up here, under the append's lock.
    void add(const Function& f, Entry e) {
        std::lock_guard lock(mutex_);
        if (!memory_) e.kernel = kernel_index(f);
        entries_.push_back(e);
    }

    // Runs the instrumented build of `f` (on the CPU, on copies of GPU arrays) and keeps its
    // counts for the shape; false, with a note, when it cannot be made.
    bool instrumented_run(const Function& f, const LaunchConfig& config,
                          std::span<const KernelArg> args, void* const* packed,
                          std::uint32_t shape) {
        std::string note;
        try {
            if (f.kernel_->checked()) {
                throw InvalidArgument("a checked module runs checked: profile its memory "
                                      "from a SourceModule without checked=True");
            }
            // A copy: kernels_ may grow (and move) while another thread records.
            std::optional<Function> build;
            {
                std::lock_guard lock(mutex_);
                build = kernels_[kernel_index(f)].memory_build;
            }
            if (!build) {
                build.emplace(f.memory_profile_build());
                std::lock_guard lock(mutex_);
                Kernel& k = kernels_[kernel_index(f)];
                if (!k.memory_build) k.memory_build = build;
            }
            std::vector<ArgExtent> extents(args.size());
            std::vector<void*> values(args.size(), nullptr);
            std::vector<void*> pointers(packed, packed + args.size());
            std::vector<std::unique_ptr<void, FreeDeleter>> copies;
            for (std::size_t i = 0; i < args.size(); ++i) {
                const KernelArg& a = args[i];
                if (a.kind() != KernelArg::Kind::array) continue;
                if (a.from_array()) extents[i] = {a.nbytes(), true};
                if (a.device().kind() == DeviceKind::cpu || a.pointer() == nullptr) continue;
                if (!a.from_array()) {
                    throw InvalidArgument("argument " + std::to_string(i + 1) +
                                          " is a raw device pointer, whose size is unknown");
                }
                void* copy = std::aligned_alloc(256, (a.nbytes() + 255) / 256 * 256 + 256);
                if (copy == nullptr) throw OutOfMemory("memory profile: no host copy", a.nbytes(), 0);
                copies.emplace_back(copy);
                CopyRequest request;
                request.kind = CopyKind::device_to_host;
                request.dst = copy;
                request.src = a.pointer();
                request.bytes = a.nbytes();
                request.caller = "memory profile";
                backend(a.device().kind()).copy(a.device().index(), request);
                values[i] = copy;
                pointers[i] = &values[i];
            }
            auto profile = std::make_shared<MemoryProfile>(
                build->kernel_->launch_memory_profile(config, pointers.data(), extents));
            std::lock_guard lock(mutex_);
            shapes_[shape].profile = std::move(profile);
            return true;
        } catch (const Interrupted&) {
            throw;  // Ctrl-C: the program stops, not just the profile
        } catch (const KernelFault&) {
            if (f.device().kind() == DeviceKind::cpu) throw;  // the launch itself failed
            note = "the instrumented run on the CPU failed";
        } catch (const CompileError& e) {
            note = "its source does not build for the memory profile: " + first_line(e.what());
        } catch (const Error& e) {
            note = first_line(e.what());
        }
        std::lock_guard lock(mutex_);
        shapes_[shape].note = std::move(note);
        return false;
    }

    // A free pair of events of `device` (made when there is none): its index and the events.
    std::tuple<std::int32_t, void*, void*> take_events(const Device& device) {
        std::lock_guard lock(mutex_);
        for (std::size_t i = 0; i < free_events_.size(); ++i) {
            const std::int32_t pair = free_events_[i];
            const auto& [owner, start, end] = events_[static_cast<std::size_t>(pair)];
            if (owner != device) continue;
            free_events_.erase(free_events_.begin() + static_cast<std::ptrdiff_t>(i));
            return {pair, start, end};
        }
        const Backend& b = backend(device.kind());
        void* start = b.create_event(device.index(), true);
        void* end = b.create_event(device.index(), true);
        events_.emplace_back(device, start, end);
        return {static_cast<std::int32_t>(events_.size() - 1), start, end};
    }

    const bool memory_;
    std::mutex mutex_;
    std::vector<Kernel> kernels_;
    std::unordered_map<const KernelImpl*, std::uint32_t> kernel_by_impl_;
    std::vector<Entry> entries_;
    std::vector<Shape> shapes_;
    std::map<ShapeKey, std::uint32_t> shape_by_key_;
    std::vector<std::tuple<Device, void*, void*>> events_;
    std::vector<std::int32_t> free_events_;
};

// The started profiles, latest last; the latest is the active one.
std::vector<ProfilerState*>& started_profiles() {
    static std::vector<ProfilerState*> stack;
    return stack;
}

void profiled_launch(const Function& f, const LaunchConfig& config,
                     std::span<const KernelArg> args, void* const* packed) {
    ProfilerState::hook(f, config, args, packed);
}

}  // namespace detail

Profiler::Profiler(bool memory) : state_(std::make_unique<detail::ProfilerState>(memory)) {}

Profiler::~Profiler() {
    try {
        stop();
    } catch (...) {
        // stop() only throws on a lock's system error; the profile goes either way.
    }
}

void Profiler::start() {
    const std::unique_lock lock(detail::active_mutex());
    if (started_) throw InvalidArgument("Profiler.start(): this profile is already started");
    auto& stack = detail::started_profiles();
    stack.push_back(state_.get());
    detail::active_profile.store(state_.get(), std::memory_order_release);
    started_ = true;
}

void Profiler::stop() {
    const std::unique_lock lock(detail::active_mutex());
    if (!started_) return;
    // Profiles nest: the one started before this one (and still started) is active again.
    auto& stack = detail::started_profiles();
    std::erase(stack, state_.get());
    detail::active_profile.store(stack.empty() ? nullptr : stack.back(),
                                 std::memory_order_release);
    started_ = false;
}

bool Profiler::started() const noexcept { return started_; }
bool Profiler::memory() const noexcept { return state_->memory(); }
std::vector<LaunchRecord> Profiler::launches() const { return state_->launches(); }
std::uint64_t Profiler::hook_calls() noexcept {
    return detail::hook_calls.load(std::memory_order_relaxed);
}

}  // namespace manycore
