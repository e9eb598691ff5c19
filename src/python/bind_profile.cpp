// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Python view of profiles: started and stopped around a block, their records as plain tuples.
#include <nanobind/stl/string.h>
#include <nanobind/stl/unordered_map.h>

#include <unordered_map>

#include "manycore/profile.hpp"
#include "python/bindings.hpp"

namespace manycore::python {
namespace {

const char* access_name(AccessSite::Access a) {
    switch (a) {
        case AccessSite::Access::load: return "load";
        case AccessSite::Access::store: return "store";
        case AccessSite::Access::atomic: return "atomic";
        default: return "record";
    }
}

nb::dict site_dict(const AccessSite& s) {
    nb::dict d;
    d["line"] = s.line;
    d["variable"] = s.variable;
    d["space"] = s.shared ? "shared" : "global";
    d["access"] = access_name(s.access);
    d["width"] = s.width;
    d["requests"] = s.requests;
    d["accesses"] = s.accesses;
    if (s.shared) {
        d["wavefronts"] = s.wavefronts;
        d["ideal_wavefronts"] = s.ideal_wavefronts;
        d["max_ways"] = s.max_ways;
        d["conflicted"] = s.conflicted;
    } else {
        d["sectors"] = s.sectors;
        d["ideal_sectors"] = s.ideal_sectors;
    }
    return d;
}

nb::dict branch_dict(const BranchSite& b) {
    nb::dict d;
    d["line"] = b.line;
    d["id"] = b.id;
    d["warp_steps"] = b.warp_steps;
    d["divergent"] = b.divergent;
    d["evaluations"] = b.evaluations;
    d["taken"] = b.taken;
    return d;
}

nb::tuple dims(const Dim3& d) { return nb::make_tuple(d.x, d.y, d.z); }

// (launches, profiles): each launch a tuple, its memory profile an index into `profiles`
// (shared by the launches of one shape), -1 when it has none.
nb::tuple launches(const Profiler& p) {
    std::vector<LaunchRecord> records;
    {
        nb::gil_scoped_release release;  // may wait for a GPU
        records = p.launches();
    }
    std::unordered_map<const MemoryProfile*, long> index;
    std::unordered_map<const std::string*, long> source_index;
    std::unordered_map<std::string, const Function*> functions;  // by kernel name
    nb::list profiles, sources, out;
    for (const LaunchRecord& r : records) {
        long at = -1;
        if (r.memory) {
            auto [it, fresh] = index.try_emplace(r.memory.get(), static_cast<long>(index.size()));
            if (fresh) {
                nb::list sites, branches;
                for (const AccessSite& s : r.memory->sites) sites.append(site_dict(s));
                for (const BranchSite& b : r.memory->branches) branches.append(branch_dict(b));
                profiles.append(nb::make_tuple(sites, branches, r.memory->out_of_bounds));
            }
            at = it->second;
        }
        long source = -1;
        if (r.source) {
            auto [it, fresh] = source_index.try_emplace(r.source.get(), static_cast<long>(source_index.size()));
            if (fresh) sources.append(nb::str(r.source->data(), r.source->size()));
            source = it->second;
        }
        if (r.function) functions.try_emplace(r.kernel, r.function.get());
        out.append(nb::make_tuple(r.kernel, r.device, dims(r.grid), dims(r.block),
                                  r.shared_bytes, r.seconds, r.array_bytes_read,
                                  r.array_bytes_written, r.instrumented, at, r.memory_note,
                                  source));
    }
    nb::dict by_name;
    for (const auto& [name, f] : functions) by_name[nb::str(name.c_str())] = nb::cast(*f);
    return nb::make_tuple(out, profiles, sources, by_name);
}

}  // namespace

void bind_profile(nb::module_& m) {
    nb::class_<Profiler>(m, "Profiler", "Records the launches made while it is started.")
        .def(nb::init<bool>(), nb::arg("memory") = false)
        .def("start", &Profiler::start, nb::call_guard<nb::gil_scoped_release>())
        .def("stop", &Profiler::stop, nb::call_guard<nb::gil_scoped_release>(),
             "Stops recording, once the launches being recorded have ended.")
        .def_prop_ro("started", &Profiler::started)
        .def_prop_ro("memory", &Profiler::memory)
        .def("launches", &launches,
             "(launches, memory profiles, sources): one tuple per launch (kernel, device, grid, "
             "block, shared bytes, seconds, array bytes read, array bytes written, "
             "instrumented, memory profile index or -1, note, source index or -1), "
             "(sites, branches, out-of-bounds) per memory profile, the modules' sources, and "
             "the kernels by name.");
    m.def(
        "active_blocks_per_multiprocessor",
        [](const Function& f, unsigned threads, std::size_t shared) {
            nb::gil_scoped_release release;
            return f.active_blocks_per_multiprocessor(threads, shared);
        },
        nb::arg("function"), nb::arg("threads"), nb::arg("shared"),
        "A GPU driver's occupancy calculator: blocks one multiprocessor runs at once.");
    m.def("profile_hook_calls", &Profiler::hook_calls,
          "How many launches in this process entered a profile's hook.");
}

}  // namespace manycore::python
