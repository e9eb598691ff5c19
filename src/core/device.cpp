// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Device names, the list of devices and the default-device rule.
#include "manycore/device.hpp"

#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstdlib>
#include <string>

#include "manycore/config.hpp"
#include "manycore/detail/backend.hpp"
#include "manycore/error.hpp"

namespace manycore {
namespace {

std::string_view kind_name(DeviceKind kind) { return kind == DeviceKind::cpu ? "cpu" : "cuda"; }

}  // namespace

Device Device::parse(std::string_view spec) {
    const auto bad = [&] {
        return InvalidArgument("Device('" + std::string(spec) +
                               "'): not a device name; use 'cpu', 'cuda' or 'cuda:N'");
    };
    if (spec == "cpu" || spec == "cpu:0") return Device::cpu();
    const std::string_view cuda = "cuda";
    if (spec.substr(0, cuda.size()) != cuda) throw bad();
    std::string_view rest = spec.substr(cuda.size());
    if (rest.empty()) return Device(DeviceKind::cuda, 0);
    if (rest.front() != ':' || rest.size() < 2) throw bad();
    int index = -1;
    const auto [end, err] = std::from_chars(rest.data() + 1, rest.data() + rest.size(), index);
    if (err != std::errc() || end != rest.data() + rest.size() || index < 0) throw bad();
    return Device(DeviceKind::cuda, index);
}

std::string Device::str() const {
    if (kind_ == DeviceKind::cpu) return "cpu";
    return std::string(kind_name(kind_)) + ":" + std::to_string(index_);
}

const DeviceInfo& Device::info() const {
    const auto& room = detail::backend(kind_);
    const auto probe = room.probe();
    if (!probe.available) {
        throw DeviceUnavailable("Device('" + str() + "'): " + probe.reason);
    }
    if (index_ >= room.device_count()) {
        throw DeviceUnavailable("Device('" + str() + "'): there are only " +
                                std::to_string(room.device_count()) + " " +
                                std::string(room.name()) + " devices (0 to " +
                                std::to_string(room.device_count() - 1) + ")");
    }
    return room.device_info(index_);
}

std::pair<std::size_t, std::size_t> memory_info(const Device& device) {
    (void)device.info();
    return detail::backend(device.kind()).memory_info(device.index());
}

std::pair<std::size_t, std::size_t> detail::Backend::memory_info(int index) const {
    const long pages = ::sysconf(_SC_AVPHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
    const std::size_t free = pages > 0 && page > 0 ? static_cast<std::size_t>(pages) * page : 0;
    return {free, device_info(index).total_memory};
}

int device_attribute(const Device& device, int attribute) {
    (void)device.info();  // DeviceUnavailable naming the device when it is not there
    return detail::backend(device.kind()).device_attribute(device.index(), attribute);
}

std::vector<Device> devices() {
    std::vector<Device> out;
    for (const auto* room : detail::backends()) {
        if (!room->probe().available) continue;
        for (int i = 0; i < room->device_count(); ++i) out.emplace_back(room->kind(), i);
    }
    return out;
}

namespace {
std::atomic<int> g_local_rank_override{-1};

int env_rank(const char* name) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') return -1;
    char* end = nullptr;
    const long r = std::strtol(v, &end, 10);
    return (*end == '\0' && r >= 0 && r < (1L << 24)) ? static_cast<int>(r) : -1;
}
}  // namespace

int node_local_rank() {
    // Read each time (cheap): a launcher's variables are there from the start, and a process
    // may be told its rank later through set_node_local_rank.
    for (const char* name : {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID",
                             "MV2_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID"}) {
        if (const int r = env_rank(name); r >= 0) return r;
    }
    return g_local_rank_override.load(std::memory_order_relaxed);
}

void set_node_local_rank(int rank) noexcept {
    g_local_rank_override.store(rank < 0 ? -1 : rank, std::memory_order_relaxed);
}

namespace detail {
int gpu_for_rank(int gpu_count, int local_rank) noexcept {
    if (gpu_count <= 0 || local_rank < 0) return 0;
    return local_rank % gpu_count;
}
}  // namespace detail

Device default_device() {
    const auto& wanted = Config::get().device;
    if (!wanted.empty()) return Device::parse(wanted);
    std::vector<Device> gpus;
    for (const auto& d : devices()) {
        if (d.kind() != DeviceKind::cpu) gpus.push_back(d);
    }
    if (gpus.empty()) return Device::cpu();
    // Under MPI, ranks of one node share its GPUs round-robin instead of all taking the first.
    return gpus[static_cast<std::size_t>(
        detail::gpu_for_rank(static_cast<int>(gpus.size()), node_local_rank()))];
}

Device placed(const Device& asked) {
    if (asked.kind() != DeviceKind::cpu && Config::get().check_on_cpu) return Device::cpu();
    return asked;
}

namespace detail {

const Backend& backend(DeviceKind kind) {
    for (const auto* room : backends()) {
        if (room->kind() == kind) return *room;
    }
    throw DeviceUnavailable(std::string("no ") + std::string(kind_name(kind)) +
                            " backend in this build of manycore; rebuild with it enabled or use "
                            "device='cpu'");
}

}  // namespace detail
}  // namespace manycore
