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
        raise("KernelFault", e.what(), [&](nb::object& o) { o.attr("kernel") = nb::str(e.kernel().c_str()); });
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
    } catch (const Error& e) {
        raise("Error", e.what());
    }
}

}  // namespace

void bind_errors(nb::module_&) { nb::register_exception_translator(&translate); }

}  // namespace manycore::python
