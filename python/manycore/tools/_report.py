# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""A profile's text report, its source listings with the costly lines marked, and its roofline."""

from __future__ import annotations

import json
import math
import os
from typing import TYPE_CHECKING, Any

from .timing import format_seconds, format_table

if TYPE_CHECKING:
    from .profile import Profile

_BYTES_NOTE = {
    "measured": "measured: the bytes the memory profile's requests move (sectors x 32 on a "
                "GPU, the bytes accessed on the CPU)",
    "estimate": "estimate: the sizes of the array arguments (read through pointers to const, "
                "written through the others)",
    "annotated": "annotated: given with Profile.annotate()",
}


def _num(x: float | None, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if abs(x) >= 100:
        return f"{x:.0f}"
    return f"{x:.{digits}g}"


def _pct(x: float | None) -> str:
    return "-" if x is None or math.isnan(x) else f"{100 * x:.0f}%"


def _dims(d: tuple[int, int, int]) -> str:
    return "x".join(str(v) for v in (d[:1] if d[1:] == (1, 1) else d[:2] if d[2] == 1 else d))


def _peaks_lines(profile: Profile, devices: list[str], peaks: Any) -> list[str]:
    lines = []
    for device in devices:
        p = profile._peaks_for(device, peaks)
        if p is None:
            lines.append(f"peaks of {device}: not measured yet (`manycore peak --device {device}`"
                         "), so no % of peak")
        else:
            lines.append(f"peaks of {device} ({p.name}): {p.bandwidth / 1e9:.1f} GB/s, FP32 "
                         f"{p.fp32 / 1e9:.1f} GFLOP/s, FP64 {p.fp64 / 1e9:.1f} GFLOP/s "
                         f"(measured {p.measured})")
    return lines


def text_report(profile: Profile, *, launches: int, peaks: Any, listing: bool) -> str:
    all_launches = profile.launches
    if not all_launches:
        return "manycore profile: no kernel was launched while the profile was open"
    kernels = profile.kernels(peaks)
    out = [f"manycore profile: {len(all_launches)} launch{'es' if len(all_launches) != 1 else ''}"
           f" of {len(kernels)} kernel{'s' if len(kernels) != 1 else ''}"]
    out += _peaks_lines(profile, sorted({k.device for k in kernels}), peaks)
    rows = [[k.kernel, k.device, k.calls,
             format_seconds(k.total_seconds) if k.timed_calls else "-",
             format_seconds(k.mean_seconds), _num(k.bytes / 1e6) if k.timed_calls else "-",
             k.bytes_source, _num(k.gbs), _pct(k.peak_bandwidth_share), _num(k.gflops),
             _pct(k.peak_flops_share)] for k in kernels]
    out += ["", format_table(["kernel", "device", "calls", "total", "mean", "MB/call", "bytes",
                              "GB/s", "% bw", "GFLOP/s", "% FP"], rows,
                             right=(2, 3, 4, 5, 7, 8, 9, 10))]
    used = sorted({s for k in kernels for s in k.bytes_source.split("/")})
    out += [f"  bytes {_BYTES_NOTE[s]}" for s in used if s in _BYTES_NOTE]
    if any(launch.instrumented for launch in all_launches):
        out.append("  times and rates leave out the launches that ran instrumented (marked *)")

    out += ["", _occupancy_section(profile, [k.kernel for k in kernels])]
    shown = all_launches[:launches]
    rows = [[launch.index, launch.kernel, launch.device, _dims(launch.grid), _dims(launch.block),
             launch.shared_bytes,
             format_seconds(launch.seconds) + ("*" if launch.instrumented else ""),
             _num(launch.bytes / 1e6), _num(launch.gbs), launch.note] for launch in shown]
    title = "launches" if len(shown) == len(all_launches) else \
        f"launches (the first {len(shown)} of {len(all_launches)}; report(launches=N) for more)"
    out += ["", title, format_table(["#", "kernel", "device", "grid", "block", "shared", "time",
                                     "MB", "GB/s", "note"], rows, right=(0, 5, 6, 7, 8))]
    if profile.memory:
        out += ["", "memory: how a GPU would serve each kernel's accesses (counted on the CPU; "
                    "32-byte sectors, 32 banks of 4 bytes)"]
        for name in dict.fromkeys(launch.kernel for launch in all_launches):
            out += ["", _memory_section(profile, name, listing)]
    return "\n".join(out)


def _occupancy_section(profile: Profile, kernels: list[str]) -> str:
    from .occupancy import suggest_block

    rows, notes = [], []
    for name in dict.fromkeys(kernels):
        try:
            found = profile.occupancy(name)
            best = suggest_block(profile.function(name))
        except Exception as e:  # noqa: BLE001  (no occupancy for this kernel: said, not fatal)
            notes.append(f"  {name}: no occupancy ({str(e).splitlines()[0]})")
            continue
        for occ in found:
            rows.append([name, occ.arch, occ.block, occ.shared, occ.registers or "?",
                         f"{occ.active_warps}/{occ.max_warps}", _pct(occ.occupancy),
                         occ.limiter, best, occ.source])
            if occ.note:
                notes.append(f"  {name}: {occ.note}")
    table = format_table(["kernel", "arch", "block", "dyn. shared", "registers", "warps/SM",
                          "occupancy", "limited by", "suggested block", "from"], rows,
                         right=(2, 3, 4, 5, 6, 8)) if rows else ""
    return "\n".join(["occupancy (per multiprocessor)", table] + notes).rstrip()


def _memory_section(profile: Profile, kernel: str, listing: bool) -> str:
    counts = profile._counts(kernel)
    if not counts:
        notes = {launch.note for launch in profile.launches if launch.kernel == kernel} - {""}
        return f"kernel '{kernel}': no memory profile ({'; '.join(sorted(notes)) or 'none made'})"
    summary = profile.memory_summary(kernel)
    lines = [f"kernel '{kernel}'"]
    for space, unit, word in (("global", "sectors", "sectors"), ("shared", "wavefronts", "passes")):
        for access in ("load", "store"):
            s = summary[f"{space}_{access}s"]
            if not s["requests"]:
                continue
            lines.append(f"  {space} {access}s: {s['requests']} requests, "
                         f"{s[unit + '_per_request']:.2f} {word}/request (fewest "
                         f"{s['ideal_' + unit] / s['requests']:.2f}, efficiency "
                         f"{_pct(s['efficiency'])})")
    b = summary["branches"]
    if b["warp_steps"]:
        lines.append(f"  branches: {b['warp_steps']} warp steps, {b['divergent']} divergent "
                     f"({_pct(b['divergence'])})")
    if summary["out_of_bounds"]:
        lines.append(f"  {summary['out_of_bounds']} accesses outside their array were not made "
                     "(`manycore check` says where)")
    rows = []
    for site in profile.sites(kernel):
        shared = site.space == "shared"
        per = site.wavefronts_per_request if shared else site.sectors_per_request
        fewest = (site.ideal_wavefronts if shared else site.ideal_sectors) / site.requests
        rows.append([site.line or "?", site.variable, site.space, site.access, site.width,
                     site.requests, f"{per:.2f} {'passes' if shared else 'sectors'}",
                     f"{fewest:.2f}", _pct(site.efficiency),
                     f"{site.max_ways}-way" if shared and site.max_ways > 1 else ""])
    lines.append(_indent(format_table(["line", "variable", "space", "access", "bytes",
                                       "requests", "per request", "fewest", "efficiency",
                                       "worst"], rows, right=(0, 4, 5, 6, 7, 8))))
    branch_rows = [[b.line, b.warp_steps, b.divergent, _pct(b.divergence)]
                   for b in profile.branches(kernel)]
    if branch_rows:
        lines.append(_indent(format_table(["branch at line", "warp steps", "divergent", "share"],
                                          branch_rows, right=(0, 1, 2, 3))))
    if listing:
        text = source_listing(profile, kernel)
        if text:
            lines.append(text)
    return "\n".join(lines)


def costly_lines(profile: Profile, kernel: str) -> dict[int, list[str]]:
    """Line -> why it is marked: access sites that take more sectors or passes than the fewest
    (and at least MARK_SHARE of the kernel's), branches whose warps diverge."""
    from .profile import MARK_SHARE

    sites = profile.sites(kernel)
    marks: dict[int, list[str]] = {}
    total = {space: sum(s.wavefronts if space == "shared" else s.sectors
                        for s in sites if s.space == space) for space in ("global", "shared")}
    for s in sites:
        shared = s.space == "shared"
        taken, fewest = (s.wavefronts, s.ideal_wavefronts) if shared else (s.sectors, s.ideal_sectors)
        if s.line == 0 or taken <= fewest or taken < MARK_SHARE * total[s.space]:
            continue
        what = (f"{s.variable}: {s.wavefronts_per_request:.1f} passes/request, up to "
                f"{s.max_ways}-way bank conflicts" if shared else
                f"{s.variable}: {s.sectors_per_request:.1f} sectors/request, fewest "
                f"{s.ideal_sectors_per_request:.1f}")
        marks.setdefault(s.line, []).append(f"{s.access} {what}")
    for b in profile.branches(kernel):
        if b.divergent:
            marks.setdefault(b.line, []).append(f"branch diverges in {_pct(b.divergence)} of "
                                                "warp steps")
    return marks


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def kernel_lines(source: str, kernel: str) -> range | None:
    """The lines (from 1) of ``kernel``'s definition in ``source``: from its name to the brace
    that closes its body; None when it cannot be found (a macro, say)."""
    import re

    base = kernel.split("<", 1)[0]
    for match in re.finditer(rf"\b{re.escape(base)}\s*(<[^;{{}}]*>)?\s*\(", source):
        head = source[max(0, source.rfind("\n", 0, source.rfind("\n", 0, match.start())) + 1):
                      match.start()]
        if "__global__" not in head:
            continue
        depth, i = 0, source.find("{", match.end())
        if i < 0 or ";" in source[match.end():i]:
            continue
        for j in range(i, len(source)):
            depth += {"{": 1, "}": -1}.get(source[j], 0)
            if depth == 0:
                first = source.count("\n", 0, match.start()) + 1
                return range(first, source.count("\n", 0, j) + 2)
    return None


def source_listing(profile: Profile, kernel: str) -> str:
    source = profile.source(kernel)
    if source is None:
        return ""
    marks = costly_lines(profile, kernel)
    lines = source.splitlines()
    # The kernel's own lines, and two around each marked or counted line elsewhere (helpers).
    own = kernel_lines(source, kernel)
    counted = {s.line for s in profile.sites(kernel)} | {b.line for b in profile.branches(kernel)}
    keep = set(own) if own is not None else set()
    for line in set(marks) | (counted - keep if own is not None else set(marks)):
        keep |= set(range(line - 2, line + 3))
    width = len(str(len(lines)))
    out = ["  source ('>' marks the costly lines):"]
    previous = 0
    for number, text in enumerate(lines, 1):
        if number not in keep or (not text.strip() and number not in marks):
            continue
        if previous and number > previous + 1:
            out.append("    " + " " * width + " | ...")
        flag = ">" if number in marks else " "
        note = "   <- " + "; ".join(marks[number]) if number in marks else ""
        out.append(f"  {flag} {str(number).rjust(width)} | {text.rstrip()}{note}")
        previous = number
    return "\n".join(out)


def draw_roofline(profile: Profile, path: str, *, peaks: Any, title: str | None) -> list[str]:
    try:
        import matplotlib
    except ImportError as e:
        raise ImportError("Profile.roofline() needs matplotlib: pip install matplotlib") from e
    matplotlib.use("Agg")  # chosen here, never at import: no display needed
    import matplotlib.pyplot as plt

    notes: list[str] = []
    points: list[dict[str, Any]] = []
    for k in profile.kernels(peaks):
        if k.flops is None or not k.timed_calls or math.isnan(k.gflops):
            notes.append(f"{k.kernel} ({k.device}): no FLOPs known "
                         "(Profile.annotate(kernel, flops=...))" if k.flops is None else
                         f"{k.kernel} ({k.device}): no timed launch")
            continue
        points.append({"kernel": k.kernel, "device": k.device, "intensity": k.flops / k.bytes,
                       "gflops": k.gflops, "gbs": k.gbs, "bytes": k.bytes_source})
    devices = sorted({p["device"] for p in points} | {k.device for k in profile.kernels(peaks)})
    roofs = {d: profile._peaks_for(d, peaks) for d in devices}
    fig, ax = plt.subplots(figsize=(7, 4.5))
    xs = [2.0 ** e for e in range(-6, 9)]
    for d, p in roofs.items():
        if p is None:
            notes.append(f"{d}: no measured peaks (`manycore peak --device {d}`), no roofs")
            continue
        for flops, label in ((p.fp32, "FP32"), (p.fp64, "FP64")):
            ax.plot(xs, [min(flops, p.bandwidth * x) / 1e9 for x in xs],
                    label=f"{d} {label}: {flops / 1e9:.0f} GFLOP/s, {p.bandwidth / 1e9:.0f} GB/s")
    for pt in points:
        ax.scatter([pt["intensity"]], [pt["gflops"]], zorder=3)
        ax.annotate(pt["kernel"], (pt["intensity"], pt["gflops"]), textcoords="offset points",
                    xytext=(5, 5))
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity (FLOP / byte)")
    ax.set_ylabel("GFLOP/s")
    ax.set_title(title or "roofline (manycore profile)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small")
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    data = {"points": points, "peaks": {d: (p.__dict__ if p is not None else None)
                                        for d, p in roofs.items()}, "notes": notes}
    with open(os.path.splitext(path)[0] + ".json", "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1)
    return notes
