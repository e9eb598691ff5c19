// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Findings as JSON lines (MANYCORE_CHECK_COLLECT).
#include "manycore/finding.hpp"

#include <cstdio>

namespace manycore {
namespace {

void string_value(std::string& out, const std::string& s) {
    out += '"';
    for (const char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            case '\r': out += "\\r"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char escaped[8];
                    std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
                    out += escaped;
                } else {
                    out += c;
                }
        }
    }
    out += '"';
}

void key(std::string& out, const char* name) {
    if (out.size() > 1) out += ", ";
    out += '"';
    out += name;
    out += "\": ";
}

void field(std::string& out, const char* name, const std::string& v) {
    key(out, name);
    string_value(out, v);
}
void field(std::string& out, const char* name, const std::optional<std::string>& v) {
    key(out, name);
    if (v) string_value(out, *v);
    else out += "null";
}
template <class I>
void field(std::string& out, const char* name, const std::optional<I>& v) {
    key(out, name);
    out += v ? std::to_string(*v) : "null";
}
void field(std::string& out, const char* name, const std::optional<Finding::Dim3>& v) {
    key(out, name);
    if (!v) {
        out += "null";
        return;
    }
    out += "[" + std::to_string((*v)[0]) + ", " + std::to_string((*v)[1]) + ", " +
           std::to_string((*v)[2]) + "]";
}

}  // namespace

std::string to_json(const Finding& f) {
    std::string out = "{";
    field(out, "kind", f.kind);
    field(out, "kernel", f.kernel);
    field(out, "message", f.message);
    field(out, "variable", f.variable);
    field(out, "space", f.space);
    field(out, "index", f.index);
    field(out, "extent", f.extent);
    field(out, "access", f.access);
    field(out, "line", f.line);
    field(out, "block", f.block);
    field(out, "thread", f.thread);
    field(out, "other_access", f.other_access);
    field(out, "other_line", f.other_line);
    field(out, "other_block", f.other_block);
    field(out, "other_thread", f.other_thread);
    return out + "}";
}

}  // namespace manycore
