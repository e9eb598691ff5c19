// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Devices: the CPU and (when a backend provides them) GPUs, named "cpu", "cuda", "cuda:N".
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace manycore {

enum class DeviceKind { cpu, cuda };

/// What a device is and the limits a launch on it must respect.
struct DeviceInfo {
    std::string name;                    // "AMD EPYC 7B13 (2 threads)", "NVIDIA H100 80GB HBM3"
    int compute_units = 0;               // worker threads on the CPU, multiprocessors on a GPU
    std::size_t total_memory = 0;        // bytes
    int compute_capability_major = 0;    // GPUs only
    int compute_capability_minor = 0;
    unsigned max_threads_per_block = 1024;
    unsigned max_block_dim[3] = {1024, 1024, 64};
    unsigned max_grid_dim[3] = {2147483647u, 65535u, 65535u};
    std::size_t max_shared_per_block = 48 * 1024;  // bytes, static plus dynamic
    unsigned warp_size = 32;
};

/// A device by kind and ordinal. Cheap to copy; thread-safe.
class Device {
  public:
    Device() = default;  // the CPU
    Device(DeviceKind kind, int index) : kind_(kind), index_(index) {}
    /// Parses "cpu", "cuda" (= "cuda:0") or "cuda:N"; throws InvalidArgument on anything else.
    static Device parse(std::string_view spec);
    static Device cpu() { return Device(); }

    DeviceKind kind() const noexcept { return kind_; }
    int index() const noexcept { return index_; }
    /// "cpu" or "cuda:N".
    std::string str() const;
    /// The device's properties and limits; throws DeviceUnavailable when it is not present.
    const DeviceInfo& info() const;

    friend bool operator==(const Device&, const Device&) = default;

  private:
    DeviceKind kind_ = DeviceKind::cpu;
    int index_ = 0;
};

/// A GPU's value of CUDA device attribute `attribute` (a CUdevice_attribute number), from its
/// driver. Throws DeviceUnavailable for the CPU or a build without the CUDA room. Thread-safe.
int device_attribute(const Device& device, int attribute);

/// (free, total) bytes of the device's memory: the driver's on a GPU, the host's on the CPU.
/// Thread-safe.
std::pair<std::size_t, std::size_t> memory_info(const Device& device);

/// Every device present: the CPU first, then each GPU.
std::vector<Device> devices();
/// MANYCORE_DEVICE when set, else a GPU (the first; under MPI, the node-local rank's share of
/// the node's GPUs), else the CPU.
Device default_device();
/// Where a module or array asked for on `asked` is made: the CPU under
/// MANYCORE_CHECK_ON_CPU=1 (so a GPU script runs checked anywhere), else `asked`. Thread-safe.
Device placed(const Device& asked);

/// This process's rank among the MPI ranks on its node: what the launcher says
/// (OMPI_COMM_WORLD_LOCAL_RANK, MPI_LOCALRANKID, MV2_COMM_WORLD_LOCAL_RANK, SLURM_LOCALID),
/// else what set_node_local_rank() was told, else -1 (not under MPI). With GPUs and no
/// MANYCORE_DEVICE, default_device() gives each rank of a node its own GPU by it.
int node_local_rank();
/// Tells the default-device rule the node-local rank when no launcher variable does
/// (manycore.dist computes it with a shared-memory split of the world). -1 forgets it.
void set_node_local_rank(int rank) noexcept;

namespace detail {
/// The GPU a rank takes: `local_rank` modulo `gpu_count` (0 when not under MPI).
int gpu_for_rank(int gpu_count, int local_rank) noexcept;
}  // namespace detail

}  // namespace manycore
