// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Checked launches: the variables kernels check against, their shadow memory, and the findings.
#include "cpu/checker.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <mutex>

#include "core/finding_report.hpp"
#include "cpu/fiber_block.hpp"
#include "manycore/error.hpp"

namespace manycore::cpu {

// The shadow of the pointer parameters of one lane, reused from launch to launch. It is not
// cleared for each launch (that would cost as much as the launch's own shadow traffic):
// records carry the launch's generation, and only when the 8-bit generation wraps is it
// cleared, so no record can pass for one of the running launch. Mapped, not allocated: pages
// of cells no lane touches stay unbacked, so lanes that each touch their part of an array
// cost the memory of one shadow, not one per lane.
struct ShadowBuffer {
    mc_shadow_cell* cells = nullptr;
    std::size_t capacity = 0;  // cells
    std::uint32_t generation = 0;

    ShadowBuffer() = default;
    ShadowBuffer(const ShadowBuffer&) = delete;
    ShadowBuffer& operator=(const ShadowBuffer&) = delete;
    ~ShadowBuffer() {
        if (cells != nullptr) ::munmap(cells, capacity * sizeof(mc_shadow_cell));
    }
    /// At least `count` cells, all of them none but those of earlier generations.
    bool reserve(std::size_t count) noexcept {
        if (count <= capacity) return true;
        if (cells != nullptr) ::munmap(cells, capacity * sizeof(mc_shadow_cell));
        cells = nullptr;
        capacity = 0;
        void* p = ::mmap(nullptr, count * sizeof(mc_shadow_cell), PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) return false;
        cells = static_cast<mc_shadow_cell*>(p);
        capacity = count;
        return true;
    }
    void clear() noexcept {
        // Private anonymous pages read as zero again once dropped.
        if (cells != nullptr) ::madvise(cells, capacity * sizeof(mc_shadow_cell), MADV_DONTNEED);
    }
};

namespace {

constexpr std::uint32_t kMaxGranuleShift = 3;

// Buffers of finished lanes, for the next launches (of any thread) to reuse.
class ShadowPool {
  public:
    static ShadowPool& instance() {
        static ShadowPool pool;
        return pool;
    }
    std::unique_ptr<ShadowBuffer> take() {
        const std::lock_guard lock(mutex_);
        if (free_.empty()) return std::make_unique<ShadowBuffer>();
        auto buffer = std::move(free_.back());
        free_.pop_back();
        return buffer;
    }
    void give_back(std::unique_ptr<ShadowBuffer> buffer) noexcept {
        try {
            const std::lock_guard lock(mutex_);
            free_.push_back(std::move(buffer));
        } catch (...) {
            // Not kept for reuse: the next launch maps a fresh one.
        }
    }

  private:
    std::mutex mutex_;
    std::vector<std::unique_ptr<ShadowBuffer>> free_;
};

std::uint32_t granule_shift_for(std::uintptr_t value) noexcept {
    if (value == 0) return kMaxGranuleShift;
    return std::min<std::uint32_t>(kMaxGranuleShift,
                                   static_cast<std::uint32_t>(__builtin_ctzll(value)));
}

using detail::access_name;
using detail::access_verb;
using detail::dim3_text;
using detail::dim3_of;
using detail::line_field;
using detail::line_text;

constexpr std::uint32_t kEpochBits = 24;
constexpr std::uint32_t kEpochMask = (1u << kEpochBits) - 1;

}  // namespace

Checker::Checker(std::string_view kernel, std::vector<CheckedParam> params, mc_dim3 grid,
                 mc_dim3 block)
    : kernel_(kernel), params_(std::move(params)), grid_(grid), block_(block) {
    const std::uint64_t per_block = std::uint64_t{block.x} * block.y * block.z;
    // In 128 bits: a grid of 2^31 x 65535 x 65535 blocks of 1024 threads wraps 64.
    const unsigned __int128 threads = static_cast<unsigned __int128>(grid.x) * grid.y * grid.z *
                                      per_block;
    if (threads >= std::numeric_limits<std::uint32_t>::max()) {
        std::string count;
        for (unsigned __int128 v = threads; v != 0; v /= 10)
            count.insert(count.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
        throw InvalidLaunch("kernel '" + kernel_ + "': a checked launch may have at most 2^32 - 2 " +
                            "threads in all; this one has " + count + ": check a smaller problem");
    }
    state_.threads_per_block = static_cast<std::uint32_t>(per_block);
    state_.block_x = block.x;
    state_.block_xy = block.x * block.y;
    state_.shared_var = &on_shared_var;
    state_.report = &on_report;
    state_.begin_block = &on_begin_block;
    warp_epochs_.assign((per_block + 31) / 32, 0);
    state_.warp_epochs = warp_epochs_.data();

    // Parameters that share memory (a rotation in place passes one array twice) share one
    // region, so a race is seen whichever of them each access goes through.
    param_vars_.resize(params_.size());
    struct Range {
        std::uintptr_t begin, end;
        std::size_t param;
    };
    std::vector<Range> ranges;
    for (std::size_t i = 0; i < params_.size(); ++i) {
        const CheckedParam& p = params_[i];
        names_.push_back(p.name);
        mc_check_var& v = param_vars_[i];
        v.id = static_cast<std::uint32_t>(i);
        v.state = &state_;
        v.space = MC_SPACE_GLOBAL;
        v.elem_size = p.elem_size == 0 ? 1 : p.elem_size;
        const auto address = reinterpret_cast<std::uintptr_t>(p.address);
        if (!p.extent_known) {
            v.begin = 0;
            v.end = std::numeric_limits<std::uintptr_t>::max();
            continue;
        }
        v.begin = address;
        v.end = address + p.extent_bytes;
        if (p.pointer && p.extent_bytes > 0 && address != 0) {
            ranges.push_back({address, address + p.extent_bytes, i});
        }
    }
    std::sort(ranges.begin(), ranges.end(),
              [](const Range& a, const Range& b) { return a.begin < b.begin; });
    std::vector<std::pair<std::size_t, std::size_t>> groups;  // [first, last) into ranges
    std::vector<std::uintptr_t> ends;
    std::vector<bool> written;  // some parameter over the group's memory may write it
    for (std::size_t r = 0; r < ranges.size(); ++r) {
        const bool writable = params_[ranges[r].param].writable;
        if (!groups.empty() && ranges[r].begin < ends.back()) {
            groups.back().second = r + 1;
            ends.back() = std::max(ends.back(), ranges[r].end);
            written.back() = written.back() || writable;
        } else {
            groups.emplace_back(r, r + 1);
            ends.push_back(ranges[r].end);
            written.push_back(writable);
        }
    }
    // Memory only const pointers reach is only read in this launch (a write through a cast
    // leaves checking anyway): no access there can race, so it needs bounds checks only.
    for (std::size_t g = groups.size(); g-- > 0;) {
        if (written[g]) continue;
        groups.erase(groups.begin() + static_cast<std::ptrdiff_t>(g));
        ends.erase(ends.begin() + static_cast<std::ptrdiff_t>(g));
    }
    regions_.resize(groups.size());
    std::size_t cells = 0;
    std::vector<std::size_t> offsets;
    for (std::size_t g = 0; g < groups.size(); ++g) {
        mc_check_region& region = regions_[g];
        region.begin = ranges[groups[g].first].begin;
        std::uint32_t shift = kMaxGranuleShift;
        for (std::size_t r = groups[g].first; r < groups[g].second; ++r) {
            const CheckedParam& p = params_[ranges[r].param];
            shift = std::min({shift, granule_shift_for(p.elem_size), granule_shift_for(p.lane_size),
                              granule_shift_for(ranges[r].begin - region.begin)});
            param_vars_[ranges[r].param].region = &region;
        }
        region.granule_shift = shift;
        region.check_uninit = 0;  // global memory comes from the host, written or not
        offsets.push_back(cells);
        region_cells_.push_back(((ends[g] - region.begin) >> shift) + 1);
        cells += region_cells_.back();
        touched_.emplace_back((region_cells_.back() >> MC_CHECK_CHUNK_SHIFT) + 1, std::uint8_t{0});
        region.touched = touched_.back().data();
    }
    shadow_ = ShadowPool::instance().take();
    ShadowBuffer& shadow = *shadow_;
    if (++shadow.generation > 0xff) {
        shadow.clear();
        shadow.generation = 1;
    }
    generation_ = shadow.generation << kEpochBits;
    state_.block_epoch = generation_;
    if (!shadow.reserve(cells)) {
        const std::size_t bytes = cells * sizeof(mc_shadow_cell);
        throw OutOfMemory("kernel '" + kernel_ + "': a checked launch keeps " +
                              std::to_string(sizeof(mc_shadow_cell)) +
                              " bytes of shadow memory per element of its arrays, " +
                              std::to_string(bytes) + " bytes here, and that much address " +
                              "space is not available: check a smaller problem",
                          bytes, 0);
    }
    for (std::size_t g = 0; g < regions_.size(); ++g) regions_[g].cells = shadow.cells + offsets[g];
    state_.params = param_vars_.data();
}

Checker::~Checker() {
    if (shadow_) ShadowPool::instance().give_back(std::move(shadow_));
}

void Checker::begin_block(std::uint64_t linear) {
    settle_uninitialized_reads();
    shared_used_ = 0;
    state_.block_epoch = generation_;
    state_.self_base = 1u + static_cast<std::uint32_t>(linear) * state_.threads_per_block;
    std::fill(warp_epochs_.begin(), warp_epochs_.end(), std::uint16_t{0});
}

mc_check_var* Checker::on_shared_var(mc_check_state* s, void* base, std::uint64_t bytes,
                                     std::uint32_t elem_size, const char* name) {
    return reinterpret_cast<Checker*>(s)->shared_var(base, bytes, elem_size, name);
}
void Checker::on_report(mc_check_state* s, const mc_check_event* e) {
    reinterpret_cast<Checker*>(s)->report(*e);
}
void Checker::on_begin_block(mc_check_state* s, std::uint64_t linear) {
    reinterpret_cast<Checker*>(s)->begin_block(linear);
}

mc_check_var* Checker::shared_var(void* base, std::uint64_t bytes, std::uint32_t elem_size,
                                  const char* name) {
    const auto address = reinterpret_cast<std::uintptr_t>(base);
    const std::uint32_t shift = granule_shift_for(elem_size);
    for (std::size_t i = 0; i < shared_used_; ++i) {
        Shared& s = *shared_[i];
        if (s.var.begin != address || std::strcmp(names_[s.var.id].c_str(), name) != 0) continue;
        return &s.var;
    }
    // Another view of memory already tracked (two `extern __shared__` arrays share the
    // dynamic buffer): its shadow, refined to this view's granule, is this view's too.
    Shared* same_memory = nullptr;
    for (std::size_t i = 0; i < shared_used_; ++i) {
        if (shared_[i]->region.begin == address) same_memory = shared_[i].get();
    }
    if (shared_used_ == shared_.size()) shared_.push_back(std::make_unique<Shared>());
    Shared& s = *shared_[shared_used_++];
    s.var = mc_check_var{};
    s.var.state = &state_;
    s.var.begin = address;
    s.var.end = address + bytes;
    s.var.elem_size = elem_size;
    s.var.space = MC_SPACE_SHARED;
    const auto known = std::find(names_.begin() + static_cast<std::ptrdiff_t>(params_.size()),
                                 names_.end(), name);
    s.var.id = static_cast<std::uint32_t>(known - names_.begin());
    if (known == names_.end()) names_.emplace_back(name);
    if (same_memory != nullptr) {
        mc_check_region& r = same_memory->region;
        if (shift < r.granule_shift) {
            // Each old cell becomes the cells of its bytes at the finer granule.
            const std::size_t factor = std::size_t{1} << (r.granule_shift - shift);
            std::vector<mc_shadow_cell> finer(same_memory->cells.size() * factor);
            for (std::size_t c = 0; c < finer.size(); ++c) finer[c] = same_memory->cells[c / factor];
            same_memory->cells = std::move(finer);
            r.cells = same_memory->cells.data();
            r.granule_shift = shift;
            same_memory->touched.assign(
                (same_memory->cells.size() >> MC_CHECK_CHUNK_SHIFT) + 1, std::uint8_t{0});
            r.touched = same_memory->touched.data();
        }
        s.var.region = &r;
        return &s.var;
    }
    s.region = mc_check_region{};
    s.region.begin = address;
    s.region.granule_shift = shift;
    s.region.check_uninit = 1;
    s.cells.assign((bytes >> shift) + 1, mc_shadow_cell{});
    s.region.cells = s.cells.data();
    s.touched.assign((s.cells.size() >> MC_CHECK_CHUNK_SHIFT) + 1, std::uint8_t{0});
    s.region.touched = s.touched.data();
    s.var.region = &s.region;
    return &s.var;
}

mc_dim3 Checker::block_of(std::uint32_t thread) const noexcept {
    const std::uint64_t linear = (thread - 1u) / state_.threads_per_block;
    const std::uint64_t plane = std::uint64_t{grid_.x} * grid_.y;
    return mc_dim3{static_cast<std::uint32_t>(linear % grid_.x),
                   static_cast<std::uint32_t>(linear / grid_.x % grid_.y),
                   static_cast<std::uint32_t>(linear / plane)};
}

mc_dim3 Checker::thread_of(std::uint32_t thread) const noexcept {
    const std::uint32_t linear = (thread - 1u) % state_.threads_per_block;
    return mc_dim3{linear % block_.x, linear / block_.x % block_.y, linear / (block_.x * block_.y)};
}

std::string Checker::variable_name(const mc_check_var& v) const { return names_.at(v.id); }

// Other pointer parameters over the same byte: "(the same memory as 'out')".
std::string Checker::aliases(const mc_check_var& v, std::uintptr_t address) const {
    if (v.space != MC_SPACE_GLOBAL) return {};
    std::string others;
    for (std::size_t i = 0; i < param_vars_.size(); ++i) {
        const mc_check_var& o = param_vars_[i];
        if (&o == &v || o.region == nullptr || address < o.begin || address >= o.end) continue;
        others += (others.empty() ? "'" : ", '") + names_[i] + "'";
    }
    return others.empty() ? std::string() : " (the same memory as " + others + ")";
}

void Checker::report(const mc_check_event& e) {
    const mc_check_var& v = *e.var;
    const std::string name = variable_name(v);
    const bool shared = v.space == MC_SPACE_SHARED;
    const std::int64_t index =
        (static_cast<std::int64_t>(e.address) - static_cast<std::int64_t>(v.begin)) /
        static_cast<std::int64_t>(v.elem_size);
    const std::int64_t extent = static_cast<std::int64_t>((v.end - v.begin) / v.elem_size);
    const std::string element = name + "[" + std::to_string(index) + "]";
    const std::string where = std::string(shared ? "shared array '" : "array '") + name + "'";

    Finding f;
    f.kernel = kernel_;
    f.variable = name;
    f.space = shared ? "shared" : "global";
    f.index = index;
    f.extent = extent;
    const mc_dim3 block = block_of(e.self.thread), thread = thread_of(e.self.thread);
    const std::string self = "thread " + dim3_text(thread) + " of block " + dim3_text(block);
    std::string key;
    switch (e.kind) {
        case MC_FIND_OUT_OF_BOUNDS: {
            f = detail::out_of_bounds_finding(kernel_, name, shared, index, extent, e.access,
                                              e.self.line, block, thread);
            key = std::to_string(e.access) + ":" + std::to_string(e.self.line);
            break;
        }
        case MC_FIND_UNINITIALIZED_READ: {
            f.kind = "uninitialized-read";
            f.access = "read";
            f.line = line_field(e.self.line);
            f.block = dim3_of(block);
            f.thread = dim3_of(thread);
            f.message = "uninitialized-read in kernel '" + kernel_ + "', " + where + ": " + self +
                        " reads " + element + " " + line_text(e.self.line) +
                        ", which no thread of the block has written in this launch";
            key = std::to_string(e.self.line);
            // Decided at the next barrier: another thread that writes the element before it
            // makes the read a race (reported by the write), not a read of nothing.
            const std::string full_key = std::to_string(e.kind) + ":" + std::to_string(v.space) +
                                         ":" + name + ":" + key;
            if (seen_.count(full_key) != 0 || pending_.size() >= kMaxPending) return;
            const mc_check_region& r = *v.region;
            pending_.push_back({std::move(f), full_key,
                                r.cells + ((e.address - r.begin) >> r.granule_shift),
                                e.self.thread});
            return;
        }
        case MC_FIND_RACE: {
            // The earlier access first, as it happened.
            const mc_dim3 other_block = block_of(e.other.thread);
            const mc_dim3 other_thread = thread_of(e.other.thread);
            f.kind = "race";
            f.access = access_name(e.other_access);
            f.line = line_field(e.other.line);
            f.block = dim3_of(other_block);
            f.thread = dim3_of(other_thread);
            f.other_access = access_name(e.access);
            f.other_line = line_field(e.self.line);
            f.other_block = dim3_of(block);
            f.other_thread = dim3_of(thread);
            const bool same_block = std::memcmp(&block, &other_block, sizeof block) == 0;
            f.message = "race in kernel '" + kernel_ + "', " + where + aliases(v, e.address) +
                        ": thread " + dim3_text(other_thread) + " of block " +
                        dim3_text(other_block) + " " + access_verb(e.other_access) + " " +
                        element + " " + line_text(e.other.line) + " while thread " +
                        dim3_text(thread) + " of block " + dim3_text(block) + " " +
                        access_verb(e.access) + " it " + line_text(e.self.line) +
                        (same_block ? " with no __syncthreads between"
                                    : "; threads of different blocks never synchronise within a "
                                      "launch (use atomics, or a second launch)");
            // A race between blocks wants another fix than one within a block: both are kept.
            key = std::to_string(e.other.line) + ":" + std::to_string(e.self.line) +
                  (same_block ? ":block" : ":grid");
            break;
        }
        default:
            return;
    }
    add(std::move(f), std::to_string(e.kind) + ":" + std::to_string(v.space) + ":" + name + ":" + key);
}

std::optional<mc_dim3> Checker::running_thread() const noexcept {
    if (state_.thread_idx == nullptr) return std::nullopt;
    std::uint32_t xyz[3];
    std::memcpy(xyz, state_.thread_idx, sizeof xyz);  // the kernel library's uint3 threadIdx
    if (xyz[0] >= block_.x || xyz[1] >= block_.y || xyz[2] >= block_.z) return std::nullopt;
    return mc_dim3{xyz[0], xyz[1], xyz[2]};
}

void Checker::arithmetic_fault(const std::string& what, mc_dim3 block,
                               std::optional<mc_dim3> thread) {
    Finding f;
    f.kind = "arithmetic";
    f.kernel = kernel_;
    f.block = dim3_of(block);
    if (thread) f.thread = dim3_of(*thread);
    f.message = "arithmetic in kernel '" + kernel_ + "': " +
                (thread ? "thread " + dim3_text(*thread) + " of block " : "a thread of block ") +
                dim3_text(block) + " made an " + what +
                (what.find("zero") != std::string::npos ? " (a divisor or modulus of 0)" : "") +
                "; the rest of that block did not run";
    add(std::move(f), "A:" + what);
}

void Checker::spin_wait(mc_dim3 block, std::optional<mc_dim3> thread) {
    Finding f;
    f.kind = "spin-wait";
    f.kernel = kernel_;
    f.block = dim3_of(block);
    if (thread) f.thread = dim3_of(*thread);
    const std::string who =
        (thread ? "thread " + dim3_text(*thread) + " of block " : "a thread of block ") +
        dim3_text(block);
    f.message = "spin-wait in kernel '" + kernel_ + "': " + who +
                " was still running when the launch was interrupted, most likely waiting in a "
                "loop for another thread of its block: on the CPU a block's threads take turns, "
                "and a thread that waits for one that comes after it never ends (on a GPU it "
                "may hang too); separate the write and the read with __syncthreads() instead";
    add(std::move(f), "S");
}

void Checker::settle_uninitialized_reads() noexcept {
    try {
        for (Pending& p : pending_) {
            const mc_access& writer = p.cell->writer;
            if (current(writer) && writer.thread != p.reader) continue;  // a race, not this
            add(std::move(p.finding), std::move(p.key));
        }
    } catch (...) {
        // Out of memory while keeping a finding: the finding is lost, not the launch.
    }
    pending_.clear();
}

void Checker::add(Finding f, std::string key) {
    if (seen_.size() >= kMaxSeen) return;
    if (!seen_.insert(key).second) return;
    if (findings_.size() < kMaxKept) {
        findings_.push_back(std::move(f));
        keys_.push_back(std::move(key));
    }
}

void Checker::lane_race(std::size_t g, std::uintptr_t address, const mc_access& self,
                        std::uint8_t access, const mc_access& other, std::uint8_t other_access) {
    // The merge knows the memory, not which parameter each access went through: of those over
    // this byte, the first whose constness fits the access (a write through a pointer to
    // non-const, a read through one to const), else the first.
    const auto fits = [&](std::size_t param) {
        return params_[param].writable == (access == MC_ACCESS_WRITE);
    };
    const mc_check_var* var = nullptr;
    for (std::size_t i = 0; i < param_vars_.size(); ++i) {
        const mc_check_var& v = param_vars_[i];
        if (v.region != &regions_[g] || address < v.begin || address >= v.end) continue;
        if (var == nullptr || (!fits(var->id) && fits(i))) var = &v;
    }
    if (var == nullptr) return;
    mc_check_event e{};
    e.kind = MC_FIND_RACE;
    e.access = access;
    e.other_access = other_access;
    e.size = var->elem_size;
    e.var = var;
    e.address = address;
    e.self = self;
    e.other = other;
    report(e);
}

Finding Checker::barrier_finding(mc_dim3 block, mc_dim3 thread, std::uint32_t line,
                                 const mc_dim3* other_thread, std::uint32_t other_line) const {
    Finding f;
    f.kind = "barrier-divergence";
    f.kernel = kernel_;
    f.line = line_field(line);
    f.block = dim3_of(block);
    f.thread = dim3_of(thread);
    if (other_thread != nullptr) {
        f.other_line = line_field(other_line);
        f.other_block = dim3_of(block);
        f.other_thread = dim3_of(*other_thread);
    }
    return f;
}

void Checker::barrier_sites_differ(mc_dim3 block, mc_dim3 thread, std::uint32_t site,
                                   mc_dim3 other_thread, std::uint32_t other_site) {
    const std::uint32_t line = site_line(site), other_line = site_line(other_site);
    // Two barriers on one line (`if (c) __syncthreads(); else __syncthreads();`) are told
    // apart by their columns.
    const auto at = [&](std::uint32_t s, std::uint32_t l) {
        return line_text(l) + (line == other_line && l != 0
                                   ? " (column " + std::to_string(site_column(s)) + ")"
                                   : std::string());
    };
    Finding f = barrier_finding(block, thread, line, &other_thread, other_line);
    f.message = "barrier-divergence in kernel '" + kernel_ + "': in block " + dim3_text(block) +
                ", thread " + dim3_text(thread) + " waits at the __syncthreads " + at(site, line) +
                " while thread " + dim3_text(other_thread) + " waits at the __syncthreads " +
                at(other_site, other_line) +
                "; every thread of a block must reach the same __syncthreads (or return)";
    add(std::move(f), "B:" + std::to_string(site) + ":" + std::to_string(other_site));
}

void Checker::barrier_skipped(mc_dim3 block, mc_dim3 waiting, std::uint32_t site,
                              mc_dim3 returned) {
    const std::uint32_t line = site_line(site);
    Finding f = barrier_finding(block, waiting, line, &returned, 0);
    f.message = "barrier-divergence in kernel '" + kernel_ + "': in block " + dim3_text(block) +
                ", thread " + dim3_text(waiting) + " waits at the __syncthreads " +
                line_text(line) + ", which thread " + dim3_text(returned) +
                " never reaches: it returned without it; every thread of a block must reach "
                "the same __syncthreads (return only after the last one, or keep every thread "
                "in the loop and guard the work instead)";
    add(std::move(f), "R:" + std::to_string(line));
}

void Checker::warp_lanes_missing(mc_dim3 block, mc_dim3 thread, std::uint32_t site,
                                 std::uint32_t mask, std::uint32_t missing, bool nonexistent) {
    const std::uint32_t line = site_line(site);
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%08x", mask);
    Finding f = barrier_finding(block, thread, line);
    f.message = "barrier-divergence in kernel '" + kernel_ + "': thread " + dim3_text(thread) +
                " of block " + dim3_text(block) + " calls a warp intrinsic " + line_text(line) +
                " with mask " + hex + ", which names lanes " + lane_list(missing) +
                (nonexistent ? " that the block does not have (use a block size that is a "
                               "multiple of 32, or a mask of the lanes there are)"
                             : " that have already returned (use __activemask() or a mask of "
                               "the lanes still running)");
    add(std::move(f), "W:" + std::to_string(line) + ":" + (nonexistent ? "n" : "e"));
}

void Checker::deadlocked(mc_dim3 block, mc_dim3 thread, std::uint32_t site, bool in_warp,
                         mc_dim3 other_thread, std::uint32_t other_site, bool other_in_warp) {
    const std::uint32_t line = site_line(site), other_line = site_line(other_site);
    Finding f = barrier_finding(block, thread, line, &other_thread, other_line);
    f.message = "barrier-divergence in kernel '" + kernel_ + "': in block " + dim3_text(block) +
                ", thread " + dim3_text(thread) + " waits " +
                (in_warp ? "in the warp intrinsic " : "at the __syncthreads ") + line_text(line) +
                " while thread " + dim3_text(other_thread) + " waits " +
                (other_in_warp ? "in the warp intrinsic " : "at the __syncthreads ") +
                line_text(other_line) + ": the block deadlocks (every thread of a block " +
                "must reach the same __syncthreads, and every lane a warp intrinsic's mask names " +
                "must call it)";
    add(std::move(f), "D:" + std::to_string(line) + ":" + std::to_string(other_line));
}

}  // namespace manycore::cpu
