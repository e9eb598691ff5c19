// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Checked launches in lanes: the split, the races between lanes, and the findings of all.
#include "cpu/checked_launch.hpp"

#include <algorithm>
#include <string>
#include <unordered_set>

#include "core/finding_report.hpp"
#include "manycore/error.hpp"

namespace manycore::cpu {

CheckedLaunch::CheckedLaunch(std::string_view kernel, const std::vector<CheckedParam>& params,
                             mc_dim3 grid, mc_dim3 block, unsigned workers)
    : blocks_(std::uint64_t{grid.x} * grid.y * grid.z) {
    const std::uint64_t lanes =
        std::clamp<std::uint64_t>(blocks_ / kMinBlocksPerLane, 1, std::max(workers, 1u));
    lanes_.reserve(lanes);
    for (std::uint64_t k = 0; k < lanes; ++k) {
        lanes_.push_back(std::make_unique<Checker>(kernel, params, grid, block));
    }
}

CheckedLaunch::~CheckedLaunch() {
    // Last lane first: the shadow pool hands buffers out last in, first out, so lane k of the
    // next launch gets lane k's buffer back, whose pages for lane k's part of the arrays are
    // already there (the other way round, every buffer would end up backing every part).
    while (!lanes_.empty()) lanes_.pop_back();
}

void CheckedLaunch::finish() {
    for (const auto& lane : lanes_) lane->settle_uninitialized_reads();
    if (lanes_.size() > 1) {
        for (std::size_t g = 0; g < lanes_[0]->regions(); ++g) compare_lanes(g);
    }
    // A finding is kept where it was first seen, in lane order.
    std::unordered_set<std::string> seen;
    for (const auto& lane : lanes_) {
        const auto& found = lane->findings();
        const auto& keys = lane->finding_keys();
        for (std::size_t i = 0; i < found.size() && findings_.size() < Checker::kMaxKept; ++i) {
            if (seen.count(keys[i]) == 0) findings_.push_back(found[i]);
        }
        if (lanes_.size() == 1) {
            total_ = lane->seen().size();
            return;
        }
        for (const auto& key : lane->seen()) {
            if (seen.size() >= Checker::kMaxSeen) break;
            seen.insert(key);
        }
    }
    total_ = seen.size();
}

// Only chunks that two lanes or more recorded in can hold a conflict between lanes.
void CheckedLaunch::compare_lanes(std::size_t g) {
    const std::size_t cells = lanes_[0]->region_cells(g);
    const std::size_t chunks = (cells >> MC_CHECK_CHUNK_SHIFT) + 1;
    for (std::size_t c = 0; c < chunks; ++c) {
        std::size_t touching = 0;
        for (const auto& lane : lanes_) touching += lane->region(g).touched[c] != 0;
        if (touching < 2) continue;
        const std::size_t end = std::min(cells, (c + 1) << MC_CHECK_CHUNK_SHIFT);
        for (std::size_t i = c << MC_CHECK_CHUNK_SHIFT; i < end; ++i) compare_cell(g, c, i);
    }
}

// Replays the lanes' records of one cell in lane order, as one thread running the lanes one
// after the other would have met them: each lane's first access there would have found the
// last writer of the earlier lanes and their first reader, all of other blocks, so any record
// of this lane conflicts with an earlier writer, and a write with an earlier reader.
void CheckedLaunch::compare_cell(std::size_t g, std::size_t chunk, std::size_t i) {
    mc_access writer{};
    mc_access reader{};
    for (const auto& lane : lanes_) {
        const mc_check_region& region = lane->region(g);
        if (region.touched[chunk] == 0) continue;
        const mc_shadow_cell& cell = region.cells[i];
        const bool wrote = lane->current(cell.writer);
        const bool read = lane->current(cell.reader);
        const std::uintptr_t address = region.begin + (std::uintptr_t{i} << region.granule_shift);
        if (writer.thread != 0) {
            if (read) {
                lane->lane_race(g, address, cell.reader, MC_ACCESS_READ, writer, MC_ACCESS_WRITE);
            }
            if (wrote) {
                lane->lane_race(g, address, cell.writer, MC_ACCESS_WRITE, writer, MC_ACCESS_WRITE);
            }
        } else if (reader.thread != 0 && wrote) {
            lane->lane_race(g, address, cell.writer, MC_ACCESS_WRITE, reader, MC_ACCESS_READ);
        }
        if (wrote) writer = cell.writer;
        if (read && reader.thread == 0) reader = cell.reader;
    }
}

void report_findings(const CheckedLaunch& launch, std::string_view kernel) {
    detail::report_findings(launch.findings(), launch.findings_total(), kernel);
}

}  // namespace manycore::cpu
