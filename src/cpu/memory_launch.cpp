// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Memory-profiled launches: warp requests into sectors, bank-conflict passes and divergence.
#include "cpu/memory_launch.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <tuple>

namespace manycore::cpu {
namespace {

constexpr std::uint32_t kFullWarp = ~0u;
constexpr std::uint32_t kSectorShift = 5;  // 32-byte sectors
constexpr std::uint32_t kBankShift = 2;    // 32 banks of 4 bytes
constexpr std::uint32_t kBanks = 32;

MemoryLane& lane_of(mc_memory_state* s) { return *reinterpret_cast<MemoryLane*>(s); }
MemoryLane& lane_of(mc_check_state* s) { return *reinterpret_cast<MemoryLane*>(s); }

void no_report(mc_check_state*, const mc_check_event*) {}

AccessSite::Access access_of(std::uint32_t code, std::uint32_t width) {
    switch (code) {
        case MC_ACCESS_READ: return AccessSite::Access::load;
        case MC_ACCESS_WRITE: return AccessSite::Access::store;
        default:
            // Checked pointers read and write records (structs) and `p->x` whole, as the
            // atomics do: an atomic is at most 8 bytes.
            return width > 8 ? AccessSite::Access::record : AccessSite::Access::atomic;
    }
}

// All 32 lanes at consecutive elements, lane order: the common case, counted without sorting.
bool consecutive(const mc_mem_request& r, std::uint32_t width, std::uint32_t first_lane,
                 std::uint32_t lanes) {
    const std::uint64_t base = r.offset[first_lane];
    bool same = true;
    for (std::uint32_t l = 1; l < lanes; ++l)
        same &= r.offset[first_lane + l] == base + std::uint64_t{l} * width;
    return same;
}

// Distinct values of v[0, n), sorted in place.
std::size_t distinct(std::uint64_t* v, std::size_t n) {
    std::sort(v, v + n);
    return static_cast<std::size_t>(std::unique(v, v + n) - v);
}

void add(AccessSite& o, const AccessSite& c) {
    o.requests += c.requests;
    o.accesses += c.accesses;
    o.sectors += c.sectors;
    o.ideal_sectors += c.ideal_sectors;
    o.wavefronts += c.wavefronts;
    o.ideal_wavefronts += c.ideal_wavefronts;
    o.max_ways = std::max(o.max_ways, c.max_ways);
    o.conflicted += c.conflicted;
}

void add(BranchSite& o, const BranchSite& c) {
    o.warp_steps += c.warp_steps;
    o.divergent += c.divergent;
    o.evaluations += c.evaluations;
    o.taken += c.taken;
}

// The counts of `key` in `out` (found through `index`), with `counts` added.
template <class Counts, class Key>
void merge(std::vector<Counts>& out, std::unordered_map<Key, std::size_t>& index, const Key& key,
           const Counts& counts) {
    const auto [at, fresh] = index.try_emplace(key, out.size());
    if (fresh) {
        out.push_back(counts);
    } else {
        add(out[at->second], counts);
    }
}

}  // namespace

MemoryLane::MemoryLane(const std::vector<CheckedParam>& params, mc_dim3 block, bool fibers)
    : fibers_(fibers) {
    const std::uint32_t threads = block.x * block.y * block.z;
    mc_check_state& c = state_.check;
    c.threads_per_block = threads;
    c.block_x = block.x;
    c.block_xy = block.x * block.y;
    c.shared_var = &on_shared_var;
    c.report = &no_report;
    c.begin_block = &on_begin_block;
    state_.slots = fibers ? (threads + 31) / 32 * 32 : 32;
    state_.warps = state_.slots / 32;
    std::fill(std::begin(state_.site_keys), std::end(state_.site_keys), MC_MEM_NO_KEY);
    state_.site = &on_site;
    state_.warp_changed = &on_warp_changed;
    state_.grow = &on_grow;
    state_.branch_grow = &on_branch_grow;

    vars_.resize(params.size());
    for (std::size_t i = 0; i < params.size(); ++i) {
        const CheckedParam& p = params[i];
        names_.push_back(p.name);
        mc_check_var& v = vars_[i];
        v.id = static_cast<std::uint32_t>(i);
        v.state = &state_.check;
        v.space = MC_SPACE_GLOBAL;
        v.elem_size = p.elem_size == 0 ? 1 : p.elem_size;
        v.begin = reinterpret_cast<std::uintptr_t>(p.address);
        v.end = p.extent_known ? v.begin + p.extent_bytes
                               : std::numeric_limits<std::uintptr_t>::max();
    }
    c.params = vars_.data();
}

mc_check_var* MemoryLane::on_shared_var(mc_check_state* s, void* base, std::uint64_t bytes,
                                        std::uint32_t elem_size, const char* name) {
    MemoryLane& lane = lane_of(s);
    const auto begin = reinterpret_cast<std::uintptr_t>(base);
    // The same array every block (its storage is this OS thread's): one variable, one id.
    for (const auto& v : lane.shared_vars_) {
        const std::string& known = lane.names_[v->id];
        if (v->begin == begin && v->end == begin + bytes && known == name) return v.get();
    }
    auto v = std::make_unique<mc_check_var>();
    v->begin = begin;
    v->end = begin + bytes;
    v->state = s;
    v->elem_size = elem_size == 0 ? 1 : elem_size;
    v->space = MC_SPACE_SHARED;
    v->id = static_cast<std::uint32_t>(lane.names_.size());
    lane.names_.emplace_back(name);
    lane.shared_vars_.push_back(std::move(v));
    return lane.shared_vars_.back().get();
}

void MemoryLane::on_begin_block(mc_check_state* s, std::uint64_t) {
    MemoryLane& lane = lane_of(s);
    lane.fold_all();
    lane.state_.warp = 0;
    lane.state_.thread_base = 0;
}

void MemoryLane::on_warp_changed(mc_memory_state* s, std::uint32_t thread) {
    MemoryLane& lane = lane_of(s);
    // Loop mode runs the threads of a block in order: a thread of the next warp means every
    // lane of the last one is done, so its requests are complete.
    if (!lane.fibers_) lane.fold(0);
    s->warp = thread >> 5;
    s->thread_base = lane.fibers_ ? 0 : s->warp * 32;
}

std::uint32_t MemoryLane::on_site(mc_memory_state* s, std::uint64_t key, const mc_check_var* var) {
    return lane_of(s).add_site(key, *var);
}

std::uint32_t MemoryLane::add_site(std::uint64_t key, const mc_check_var& var) {
    std::uint32_t index;
    if (auto found = site_by_key_.find(key); found != site_by_key_.end()) {
        index = found->second;
    } else {
        index = static_cast<std::uint32_t>(sites_.size());
        Site site;
        site.var = var.id;
        AccessSite& c = site.counts;
        c.line = static_cast<std::uint32_t>(key >> 32);
        c.variable = var.id < names_.size() ? names_[var.id] : "?";
        c.shared = var.space == MC_SPACE_SHARED;
        c.width = static_cast<std::uint32_t>(key & 0xfffu);
        c.access = access_of(static_cast<std::uint32_t>(key >> 12) & 0xfu, c.width);
        sites_.push_back(std::move(site));
        site_by_key_.emplace(key, index);
        counts_.resize(counts_.size() + state_.slots, 0);
        tables_.resize(tables_.size() + state_.warps, mc_mem_table{});
        requests_.resize(requests_.size() + state_.warps);
        sync_pointers();
    }
    const std::uint32_t slot = mc_mem_site_slot(key);
    state_.site_keys[slot] = key;
    state_.site_index[slot] = index;
    return index;
}

void MemoryLane::on_grow(mc_memory_state* s, std::uint32_t site, std::uint32_t warp,
                         std::uint32_t n) {
    MemoryLane& lane = lane_of(s);
    const std::size_t at = std::size_t{site} * s->warps + warp;
    auto& requests = lane.requests_[at];
    requests.resize(std::max<std::size_t>({std::size_t{n} + 1, 2 * requests.size(), 16}));
    lane.tables_[at].requests = requests.data();
    lane.tables_[at].capacity = static_cast<std::uint32_t>(requests.size());
}

void MemoryLane::add_branch_rows(std::uint32_t id, std::uint32_t line) {
    if (id >= branches_.size()) {
        const std::size_t rows = std::size_t{id} + 1;
        const std::size_t before = branches_.size();
        branches_.resize(rows);
        for (std::size_t i = before; i < rows; ++i) {
            branches_[i].id = static_cast<std::uint32_t>(i);
            branches_[i].counts.id = static_cast<std::uint32_t>(i);
        }
        branch_counts_.resize(rows * state_.slots, 0);
        branch_tables_.resize(rows * state_.warps, mc_branch_table{});
        branch_requests_.resize(rows * state_.warps);
        sync_pointers();
    }
    if (branches_[id].counts.line == 0) branches_[id].counts.line = line;
}

void MemoryLane::on_branch_grow(mc_memory_state* s, std::uint32_t id, std::uint32_t line,
                                std::uint32_t warp, std::uint32_t n) {
    MemoryLane& lane = lane_of(s);
    lane.add_branch_rows(id, line);
    const std::size_t at = std::size_t{id} * s->warps + warp;
    auto& requests = lane.branch_requests_[at];
    if (n < requests.size()) return;
    requests.resize(std::max<std::size_t>({std::size_t{n} + 1, 2 * requests.size(), 16}));
    lane.branch_tables_[at].requests = requests.data();
    lane.branch_tables_[at].capacity = static_cast<std::uint32_t>(requests.size());
}

void MemoryLane::sync_pointers() noexcept {
    state_.counts = counts_.data();
    state_.tables = tables_.data();
    state_.sites = static_cast<std::uint32_t>(sites_.size());
    state_.branch_counts = branch_counts_.data();
    state_.branch_tables = branch_tables_.data();
    state_.branch_sites = static_cast<std::uint32_t>(branches_.size());
}

// Global memory: the distinct 32-byte sectors a request touches, against the fewest that
// would hold its bytes. Offsets are from the start of each array, which a GPU allocates
// aligned to 256 bytes.
void MemoryLane::count_global(AccessSite& site, const mc_mem_request& r,
                              std::uint32_t mask) const {
    const std::uint32_t width = std::max<std::uint32_t>(site.width, 1);
    const auto lanes = static_cast<std::uint32_t>(std::popcount(mask));
    site.requests += 1;
    site.accesses += lanes;
    site.ideal_sectors += (std::uint64_t{lanes} * width + 31) >> kSectorShift;
    if (mask == kFullWarp && consecutive(r, width, 0, 32)) {
        const std::uint64_t first = r.offset[0];
        site.sectors += ((first + 32ull * width - 1) >> kSectorShift) - (first >> kSectorShift) + 1;
        return;
    }
    std::array<std::uint64_t, 32 * 4> small;
    std::vector<std::uint64_t> large;
    const std::uint64_t per_lane = ((width + 31) >> kSectorShift) + 1;  // at most
    std::uint64_t* ids = small.data();
    if (per_lane * 32 > small.size()) {
        large.resize(per_lane * 32);
        ids = large.data();
    }
    std::size_t n = 0;
    for (std::uint32_t m = mask; m != 0; m &= m - 1) {
        const std::uint64_t offset = r.offset[std::countr_zero(m)];
        for (std::uint64_t s = offset >> kSectorShift; s <= (offset + width - 1) >> kSectorShift; ++s)
            ids[n++] = s;
    }
    site.sectors += distinct(ids, n);
}

// Shared memory: each pass serves one word per bank (lanes reading the same word share it);
// 8- and 16-byte accesses are served a half and a quarter of the warp at a time.
void MemoryLane::count_shared(AccessSite& site, const mc_mem_request& r,
                              std::uint32_t mask) const {
    const std::uint32_t width = std::max<std::uint32_t>(site.width, 1);
    const std::uint32_t per_phase = width <= 4 ? 32 : width <= 8 ? 16 : 8;
    const std::uint32_t words_per_lane = (width + 3) / 4 + 1;  // an unaligned access: one more
    std::vector<std::uint64_t> large;
    std::array<std::uint64_t, 32 * 2 + 8 * 5> small;
    std::uint64_t* words = small.data();
    if (std::size_t{words_per_lane} * per_phase > small.size()) {
        large.resize(std::size_t{words_per_lane} * per_phase);
        words = large.data();
    }
    std::uint64_t passes = 0, fewest = 0;
    for (std::uint32_t first = 0; first < 32; first += per_phase) {
        const std::uint32_t phase_mask =
            per_phase == 32 ? kFullWarp : ((1u << per_phase) - 1) << first;
        const std::uint32_t m = mask & phase_mask;
        if (m == 0) continue;
        fewest += 1;
        if (m == phase_mask && (width == 4 || width == 8 || width == 16) &&
            r.offset[first] % 4 == 0 && consecutive(r, width, first, per_phase)) {
            passes += 1;  // 128 consecutive bytes: every bank once
            site.max_ways = std::max<std::uint32_t>(site.max_ways, 1);
            continue;
        }
        std::size_t n = 0;
        for (std::uint32_t lanes = m; lanes != 0; lanes &= lanes - 1) {
            const std::uint64_t offset = r.offset[std::countr_zero(lanes)];
            for (std::uint64_t w = offset >> kBankShift; w <= (offset + width - 1) >> kBankShift; ++w)
                words[n++] = (w % kBanks) << 58 | (w & ((1ull << 58) - 1));
        }
        n = distinct(words, n);
        std::uint32_t ways = 0, run = 0;
        for (std::size_t i = 0; i < n; ++i) {
            run = i > 0 && (words[i] >> 58) == (words[i - 1] >> 58) ? run + 1 : 1;
            ways = std::max(ways, run);
        }
        passes += ways;
        site.max_ways = std::max(site.max_ways, ways);
    }
    site.requests += 1;
    site.accesses += static_cast<std::uint32_t>(std::popcount(mask));
    site.wavefronts += passes;
    site.ideal_wavefronts += fewest;
    site.conflicted += passes > fewest;
}

// The lanes of request n, for n = 0, 1, ...: those whose count of executions is above n.
// Built once per table from the 32 counts, then narrowed as n passes each lane's count.
class LaneMasks {
  public:
    explicit LaneMasks(const std::uint32_t* counts) {
        // Commonly all 32 lanes ran the site equally often: one full mask throughout.
        std::uint32_t most = 0, fewest = ~0u;
        for (std::uint32_t l = 0; l < 32; ++l) {  // branch-free, so it vectorises
            most = std::max(most, counts[l]);
            fewest = std::min(fewest, counts[l]);
        }
        requests_ = most;
        if (fewest == most) {
            mask_ = most == 0 ? 0u : ~0u;
            return;
        }
        for (std::uint32_t l = 0; l < 32; ++l) mask_ |= std::uint32_t{counts[l] != 0} << l;
        for (std::uint32_t m = mask_; m != 0; m &= m - 1) {
            const auto l = static_cast<std::uint32_t>(std::countr_zero(m));
            ends_[lanes_++] = std::uint64_t{counts[l]} << 32 | l;
        }
        std::sort(ends_, ends_ + lanes_);
    }
    /// 1 + the highest request number any lane filed.
    std::uint32_t requests() const noexcept { return requests_; }
    /// The lanes of request n; n must grow from one call to the next.
    std::uint32_t at(std::uint32_t n) noexcept {
        while (next_ < lanes_ && (ends_[next_] >> 32) <= n)
            mask_ &= ~(1u << (ends_[next_++] & 31u));
        return mask_;
    }

  private:
    std::uint64_t ends_[32];  // count << 32 | lane, by count; only when the counts differ
    std::uint32_t requests_ = 0, lanes_ = 0, next_ = 0, mask_ = 0;
};

void MemoryLane::fold(std::uint32_t warp) {
    const std::uint32_t slots = state_.slots, warps = state_.warps;
    for (std::size_t i = 0; i < sites_.size(); ++i) {
        std::uint32_t* counts = counts_.data() + i * slots + warp * 32;
        LaneMasks masks(counts);
        const mc_mem_table& t = tables_[i * warps + warp];
        AccessSite& site = sites_[i].counts;
        for (std::uint32_t n = 0, end = masks.requests(); n < end; ++n) {
            if (site.shared) count_shared(site, t.requests[n], masks.at(n));
            else count_global(site, t.requests[n], masks.at(n));
        }
        std::fill_n(counts, 32, 0u);
    }
    for (std::size_t b = 0; b < branches_.size(); ++b) {
        std::uint32_t* counts = branch_counts_.data() + b * slots + warp * 32;
        LaneMasks masks(counts);
        const mc_branch_table& t = branch_tables_[b * warps + warp];
        BranchSite& site = branches_[b].counts;
        for (std::uint32_t n = 0, end = masks.requests(); n < end; ++n) {
            const std::uint32_t lanes = masks.at(n);
            const std::uint8_t* way = t.requests[n].taken;
            std::uint32_t taken = 0;  // of the lanes
            if (lanes == ~0u) {
                for (std::uint32_t l = 0; l < 32; ++l) taken += way[l];  // vectorises
            } else {
                for (std::uint32_t m = lanes; m != 0; m &= m - 1) taken += way[std::countr_zero(m)];
            }
            const auto evaluated = static_cast<std::uint32_t>(std::popcount(lanes));
            site.warp_steps += 1;
            site.evaluations += evaluated;
            site.taken += taken;
            site.divergent += taken != 0 && taken != evaluated;
        }
        std::fill_n(counts, 32, 0u);
    }
}

void MemoryLane::fold_all() {
    for (std::uint32_t w = 0; w < state_.warps; ++w) fold(w);
}

void MemoryLane::finish() { fold_all(); }

void MemoryLane::add_to(MemoryProfile& out,
                        std::unordered_map<std::string, std::size_t>& site_index,
                        std::unordered_map<std::uint64_t, std::size_t>& branch_index) const {
    for (const Site& s : sites_) {
        const AccessSite& c = s.counts;
        if (c.requests == 0) continue;
        const std::string key = std::to_string(c.line) + ':' + c.variable + ':' +
                                std::to_string(c.shared) + ':' +
                                std::to_string(static_cast<int>(c.access)) + ':' +
                                std::to_string(c.width);
        merge(out.sites, site_index, key, c);
    }
    for (const Branch& b : branches_)
        if (b.counts.warp_steps != 0) merge(out.branches, branch_index, std::uint64_t{b.id}, b.counts);
    out.out_of_bounds += state_.out_of_bounds;
}

MemoryLaunch::MemoryLaunch(const std::vector<CheckedParam>& params, mc_dim3 grid, mc_dim3 block,
                           bool fibers, unsigned workers)
    : blocks_(std::uint64_t{grid.x} * grid.y * grid.z) {
    const std::uint64_t lanes =
        std::clamp<std::uint64_t>(blocks_ / kMinBlocksPerLane, 1, std::max(workers, 1u));
    for (std::uint64_t k = 0; k < lanes; ++k)
        lanes_.push_back(std::make_unique<MemoryLane>(params, block, fibers));
}

MemoryProfile MemoryLaunch::finish() {
    MemoryProfile out;
    std::unordered_map<std::string, std::size_t> site_index;
    std::unordered_map<std::uint64_t, std::size_t> branch_index;
    for (auto& lane : lanes_) {
        lane->finish();
        lane->add_to(out, site_index, branch_index);
    }
    std::sort(out.sites.begin(), out.sites.end(), [](const AccessSite& a, const AccessSite& b) {
        return std::tie(a.line, a.variable, a.access, a.width) <
               std::tie(b.line, b.variable, b.access, b.width);
    });
    std::sort(out.branches.begin(), out.branches.end(), [](const BranchSite& a, const BranchSite& b) {
        return std::tie(a.line, a.id) < std::tie(b.line, b.id);
    });
    return out;
}

}  // namespace manycore::cpu
