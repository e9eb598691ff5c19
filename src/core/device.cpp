// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Device names, the list of devices and the default-device rule.
#include "manycore/device.hpp"

#include <charconv>
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

std::vector<Device> devices() {
    std::vector<Device> out;
    for (const auto* room : detail::backends()) {
        if (!room->probe().available) continue;
        for (int i = 0; i < room->device_count(); ++i) out.emplace_back(room->kind(), i);
    }
    return out;
}

Device default_device() {
    const auto& wanted = Config::get().device;
    if (!wanted.empty()) return Device::parse(wanted);
    for (const auto& d : devices()) {
        if (d.kind() != DeviceKind::cpu) return d;
    }
    return Device::cpu();
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
