// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Streams and events over the rooms, and the rooms' default (host) stream, event and copy semantics.
#include "manycore/stream.hpp"

#include <atomic>
#include <chrono>
#include <cstring>

#include "manycore/detail/backend.hpp"
#include "manycore/error.hpp"

namespace manycore {

struct Stream::State {
    Device device;
    void* handle = nullptr;
    bool owned = false;
    ~State() {
        if (owned) detail::backend(device.kind()).destroy_stream(device.index(), handle);
    }
};

// Streams, events and waits follow their modules and arrays to the CPU under
// MANYCORE_CHECK_ON_CPU=1 (placed()), so a GPU script's stream code runs there unchanged.
Stream::Stream(const Device& asked) {
    const Device device = placed(asked);
    (void)device.info();  // DeviceUnavailable names the device
    auto state = std::make_shared<State>();
    state->device = device;
    state->handle = detail::backend(device.kind()).create_stream(device.index());
    state->owned = true;
    state_ = std::move(state);
}

Stream Stream::default_stream(const Device& asked) {
    const Device device = placed(asked);
    (void)device.info();
    auto state = std::make_shared<State>();
    state->device = device;
    return Stream(std::move(state));
}

Stream Stream::wrap(const Device& device, void* handle) {
    (void)device.info();
    auto state = std::make_shared<State>();
    state->device = device;
    state->handle = handle;
    return Stream(std::move(state));
}

const Device& Stream::device() const noexcept { return state_->device; }
void* Stream::handle() const noexcept { return state_->handle; }

void Stream::synchronize() const {
    detail::backend(device().kind()).synchronize_stream(device().index(), handle());
}

bool Stream::query() const {
    return detail::backend(device().kind()).query_stream(device().index(), handle());
}

void Stream::wait(const Event& event) const {
    if (!(event.device() == device())) {
        throw InvalidArgument("Stream.wait(event): the event is on " + event.device().str() +
                              " but the stream is on " + device().str() +
                              "; record the event on a stream of " + device().str());
    }
    detail::backend(device().kind()).stream_wait_event(device().index(), handle(), event.handle());
}

struct Event::State {
    Device device;
    void* handle = nullptr;
    bool timing = true;
    std::atomic<bool> recorded{false};
    ~State() { detail::backend(device.kind()).destroy_event(device.index(), handle); }
};

Event::Event(const Device& asked, bool timing) {
    const Device device = placed(asked);
    (void)device.info();
    auto state = std::make_shared<State>();
    state->device = device;
    state->timing = timing;
    state->handle = detail::backend(device.kind()).create_event(device.index(), timing);
    state_ = std::move(state);
}

void Event::record(const Stream& stream) {
    if (!(stream.device() == device())) {
        throw InvalidArgument("Event.record(stream): the stream is on " + stream.device().str() +
                              " but the event was made for " + device().str() +
                              "; create the event with Event(device='" + stream.device().str() +
                              "')");
    }
    detail::backend(device().kind()).record_event(device().index(), handle(), stream.handle());
    state_->recorded.store(true);
}

void Event::record() {
    detail::backend(device().kind()).record_event(device().index(), handle(), nullptr);
    state_->recorded.store(true);
}

void Event::synchronize() const {
    if (!state_->recorded.load()) return;
    detail::backend(device().kind()).synchronize_event(device().index(), handle());
}

bool Event::query() const {
    if (!state_->recorded.load()) return true;
    return detail::backend(device().kind()).query_event(device().index(), handle());
}

float Event::elapsed_time(const Event& end) const {
    if (!(end.device() == device())) {
        throw InvalidArgument("Event.elapsed_time(end): the events are on " + device().str() +
                              " and " + end.device().str() + "; time events of one device");
    }
    if (!state_->timing || !end.state_->timing) {
        throw InvalidArgument("Event.elapsed_time(end): an event made with timing=False cannot "
                              "be timed; create both with Event(timing=True)");
    }
    if (!state_->recorded.load() || !end.state_->recorded.load()) {
        throw InvalidArgument("Event.elapsed_time(end): both events must be recorded first; "
                              "call start.record() and end.record() around the work");
    }
    end.synchronize();
    return detail::backend(device().kind()).elapsed_ms(device().index(), handle(), end.handle());
}

const Device& Event::device() const noexcept { return state_->device; }
void* Event::handle() const noexcept { return state_->handle; }

void synchronize(const Device& asked) {
    const Device device = placed(asked);
    (void)device.info();
    detail::backend(device.kind()).synchronize_device(device.index());
}

namespace detail {
namespace {

// The CPU's events: when they were recorded, on the host's steady clock.
struct HostEvent {
    std::atomic<std::int64_t> nanoseconds{0};
};

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace

// A distinct token per stream, so streams compare unequal, though the CPU never waits on one.
void* Backend::create_stream(int) const { return new char(0); }
void Backend::destroy_stream(int, void* stream) const noexcept { delete static_cast<char*>(stream); }
void Backend::synchronize_stream(int, void*) const {}
bool Backend::query_stream(int, void*) const { return true; }
void Backend::stream_wait_event(int, void*, void*) const {}
void* Backend::create_event(int, bool) const { return new HostEvent(); }
void Backend::destroy_event(int, void* event) const noexcept { delete static_cast<HostEvent*>(event); }
void Backend::record_event(int, void* event, void*) const {
    static_cast<HostEvent*>(event)->nanoseconds.store(now_ns());
}
void Backend::synchronize_event(int, void*) const {}
bool Backend::query_event(int, void*) const { return true; }
float Backend::elapsed_ms(int, void* start, void* end) const {
    const auto a = static_cast<HostEvent*>(start)->nanoseconds.load();
    const auto b = static_cast<HostEvent*>(end)->nanoseconds.load();
    return static_cast<float>(static_cast<double>(b - a) / 1e6);
}
void Backend::synchronize_device(int) const {}
void Backend::copy(int, const CopyRequest& r) const {
    if (r.bytes) std::memcpy(r.dst, r.src, r.bytes);
}
CopyPath Backend::copy_between(int dst_index, int src_index, const CopyRequest&) const {
    throw InvalidArgument("copy between devices " + std::to_string(src_index) + " and " +
                          std::to_string(dst_index) + " of the " + std::string(name()) +
                          " room, which has one device");
}
CopyPath Backend::path_between(int dst_index, int src_index) const {
    if (dst_index == src_index) return CopyPath::device;
    throw InvalidArgument("the " + std::string(name()) + " room has one device");
}
std::shared_ptr<Buffer> Backend::allocate_pinned(std::size_t) const { return nullptr; }
MemoryPoolStats Backend::memory_pool_stats(int) const { return {}; }
std::size_t Backend::free_all_blocks(int) const { return 0; }

}  // namespace detail
}  // namespace manycore
