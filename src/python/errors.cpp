// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Translates the C++ exception hierarchy into manycore.errors' Python classes.
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "manycore/error.hpp"
#include "python/bindings.hpp"

namespace manycore::python {
namespace {

// Raises manycore.errors.<name>(message) with extra attributes set on the instance.
template <class SetAttributes>
void raise(const char* name, const char* message, SetAttributes&& set_attributes) {
    nb::object cls = nb::module_::import_("manycore.errors").attr(name);
    nb::object error = cls(nb::str(message));
    set_attributes(error);
    PyErr_SetObject(cls.ptr(), error.ptr());
}
void raise(const char* name, const char* message) {
    raise(name, message, [](nb::object&) {});
}

nb::object optional_str(const std::optional<std::string>& v) {
    return v ? nb::object(nb::str(v->c_str())) : nb::none();
}
template <class I>
nb::object optional_int(const std::optional<I>& v) {
    return v ? nb::object(nb::int_(*v)) : nb::none();
}
nb::object optional_dim3(const std::optional<Finding::Dim3>& v) {
    return v ? nb::object(nb::make_tuple((*v)[0], (*v)[1], (*v)[2])) : nb::none();
}

// manycore.findings.Finding objects, field by field.
nb::list findings_list(const std::vector<Finding>& findings) {
    nb::object cls = nb::module_::import_("manycore.findings").attr("Finding");
    nb::list out;
    for (const Finding& f : findings) {
        nb::dict kw;
        kw["kind"] = nb::str(f.kind.c_str());
        kw["kernel"] = nb::str(f.kernel.c_str());
        kw["message"] = nb::str(f.message.c_str());
        kw["variable"] = optional_str(f.variable);
        kw["space"] = optional_str(f.space);
        kw["index"] = optional_int(f.index);
        kw["extent"] = optional_int(f.extent);
        kw["access"] = optional_str(f.access);
        kw["line"] = optional_int(f.line);
        kw["block"] = optional_dim3(f.block);
        kw["thread"] = optional_dim3(f.thread);
        kw["other_access"] = optional_str(f.other_access);
        kw["other_line"] = optional_int(f.other_line);
        kw["other_block"] = optional_dim3(f.other_block);
        kw["other_thread"] = optional_dim3(f.other_thread);
        out.append(cls(**kw));
    }
    return out;
}

void translate(const std::exception_ptr& p, void*) {
    try {
        std::rethrow_exception(p);
    } catch (const CompileError& e) {
        raise("CompileError", e.what(), [&](nb::object& o) {
            o.attr("log") = nb::str(e.log().c_str());
            o.attr("source") = nb::str(e.source().c_str());
            o.attr("options") = nb::cast(e.options());
        });
    } catch (const KernelFault& e) {
        raise("KernelFault", e.what(), [&](nb::object& o) {
            o.attr("kernel") = nb::str(e.kernel().c_str());
            o.attr("findings") = findings_list(e.findings());
            o.attr("findings_total") = nb::int_(e.findings_total());
        });
    } catch (const OutOfMemory& e) {
        raise("OutOfMemory", e.what(), [&](nb::object& o) {
            o.attr("requested") = nb::int_(e.requested());
            o.attr("free") = nb::int_(e.free_bytes());
        });
    } catch (const MpiError& e) {
        raise("MpiError", e.what(), [&](nb::object& o) {
            o.attr("error_class") = nb::int_(e.error_class());
            o.attr("error_string") = nb::str(e.error_string().c_str());
        });
    } catch (const DeviceUnavailable& e) {
        raise("DeviceUnavailable", e.what());
    } catch (const ArgumentTypeError& e) {
        raise("ArgumentTypeError", e.what());
    } catch (const ArgumentRangeError& e) {
        raise("ArgumentRangeError", e.what());
    } catch (const InvalidLaunch& e) {
        raise("InvalidLaunch", e.what());
    } catch (const InvalidArgument& e) {
        raise("InvalidArgument", e.what());
    } catch (const KernelNotFound& e) {
        raise("KernelNotFound", e.what());
    } catch (const Interrupted& e) {
        // Python's own SIGINT handler runs first (it may be the program's), as it would have
        // at the next bytecode; a plain KeyboardInterrupt then carries what was stopped.
        if (PyErr_CheckSignals() != 0) {
            if (!PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)) return;
            PyErr_Clear();
        }
        PyErr_SetString(PyExc_KeyboardInterrupt, e.what());
    } catch (const Error& e) {
        raise("Error", e.what());
    }
}

}  // namespace

void bind_errors(nb::module_&) { nb::register_exception_translator(&translate); }

}  // namespace manycore::python
