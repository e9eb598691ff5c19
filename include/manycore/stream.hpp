// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Streams (ordered queues of GPU work) and events (points in them), and waiting for a device.
#pragma once

#include <memory>

#include "manycore/device.hpp"

namespace manycore {

class Event;

/// A queue of work on one device: launches and copies on a stream run in order; different
/// streams may overlap. On the CPU every operation finishes before it returns, so a stream is
/// always idle. Cheap to copy (copies share the stream); all members are thread-safe.
class Stream {
  public:
    /// A new stream on `device`. On a GPU it is a blocking stream (cuStreamCreate with
    /// CU_STREAM_DEFAULT): it orders with the default stream, as PyCUDA's and CuPy's do.
    explicit Stream(const Device& device = default_device());
    /// The default stream of `device`: on a GPU, CUDA's legacy default stream, which the
    /// synchronous copies and launches without a stream use.
    static Stream default_stream(const Device& device = default_device());
    /// A stream someone else created (a CuPy or PyTorch stream's handle, a CUstream); manycore
    /// never destroys it, and the caller keeps it alive while this object is used.
    static Stream wrap(const Device& device, void* handle);

    const Device& device() const noexcept;
    /// The CUstream on a GPU (nullptr for the default stream); for LaunchConfig::stream.
    void* handle() const noexcept;
    /// Waits until everything queued on the stream has finished. Throws KernelFault when a
    /// kernel on the device failed.
    void synchronize() const;
    /// True when everything queued has finished (never waits).
    bool query() const;
    /// Makes later work on this stream wait until `event` has happened (no host wait).
    void wait(const Event& event) const;

    friend bool operator==(const Stream& a, const Stream& b) noexcept {
        return a.device() == b.device() && a.handle() == b.handle();
    }

  private:
    struct State;
    explicit Stream(std::shared_ptr<State> state) : state_(std::move(state)) {}
    std::shared_ptr<State> state_;
};

/// A point in a stream: record it, then wait for it or time the work between two events.
/// Cheap to copy (copies share the event); all members are thread-safe.
class Event {
  public:
    /// A new event on `device`; `timing` = false makes a lighter one that cannot be timed.
    explicit Event(const Device& device = default_device(), bool timing = true);

    /// Marks the point after everything queued so far on `stream`.
    void record(const Stream& stream);
    /// record() on the device's default stream.
    void record();
    /// Waits until the recorded point has been reached.
    void synchronize() const;
    /// True when the recorded point has been reached (or nothing was recorded).
    bool query() const;
    /// Milliseconds from this event to `end`; both recorded, on the same device, with timing.
    /// Waits for `end`. Throws InvalidArgument otherwise.
    float elapsed_time(const Event& end) const;

    const Device& device() const noexcept;
    /// The CUevent on a GPU.
    void* handle() const noexcept;

  private:
    struct State;
    std::shared_ptr<State> state_;
};

/// Waits for all work on `device` (manycore.synchronize()). Throws KernelFault when a kernel
/// there failed. Thread-safe.
void synchronize(const Device& device = default_device());

}  // namespace manycore
