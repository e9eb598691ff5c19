// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Python view of modules and kernel functions; the launch path is kept short on purpose.
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/vector.h>

#include <string>
#include <vector>

#include "manycore/error.hpp"
#include "manycore/module.hpp"
#include "python/bindings.hpp"
#include "python/buffer.hpp"

namespace manycore::python {
namespace {

// An int, or anything that is one (numpy.int64(2), through __index__); never a bool.
nb::object as_int(nb::handle v) {
    if (PyBool_Check(v.ptr()) || !PyIndex_Check(v.ptr())) return {};
    if (PyLong_Check(v.ptr())) return nb::borrow(v);
    PyObject* i = PyNumber_Index(v.ptr());
    if (i == nullptr) {
        PyErr_Clear();
        return {};
    }
    return nb::steal(i);
}

std::uint32_t dim_value(nb::handle v, const char* what, const std::string& kernel) {
    nb::object converted;  // only for what is not an int already: the launch path stays short
    PyObject* i = v.ptr();
    if (!PyLong_CheckExact(i)) {
        converted = as_int(v);
        if (!converted.is_valid()) {
            throw ArgumentTypeError(kernel + "(): " + what + " must be an int or a tuple of 1 "
                                    "to 3 ints; got " + std::string(nb::type_name(v.type()).c_str()));
        }
        i = converted.ptr();
    }
    int overflow = 0;
    const long long x = PyLong_AsLongLongAndOverflow(i, &overflow);
    if (overflow != 0 || x < 0 || x > 0xffffffffLL) {
        throw InvalidLaunch(kernel + "(): " + what + " has a dimension outside 0 to 2**32-1");
    }
    return static_cast<std::uint32_t>(x);
}

Dim3 to_dim3(nb::handle v, const char* what, const std::string& kernel) {
    Dim3 d;
    if (PyTuple_Check(v.ptr()) || PyList_Check(v.ptr())) {
        nb::sequence seq = nb::borrow<nb::sequence>(v);
        const std::size_t n = nb::len(seq);
        if (n < 1 || n > 3) {
            throw InvalidLaunch(kernel + "(): " + what + " needs 1 to 3 dimensions, got " +
                                std::to_string(n));
        }
        std::uint32_t* fields[3] = {&d.x, &d.y, &d.z};
        for (std::size_t i = 0; i < n; ++i) *fields[i] = dim_value(seq[i], what, kernel);
        return d;
    }
    d.x = dim_value(v, what, kernel);
    return d;
}

// Converts one Python argument. Buffers stay acquired in `views` until the launch returns.
KernelArg to_kernel_arg(nb::handle h, std::vector<BufferView>& views, std::vector<std::string>& bytes,
                        const Function& f, std::size_t index) {
    PyObject* o = h.ptr();
    if (nb::isinstance<Array>(h)) return KernelArg(nb::cast<const Array&>(h));
    if (PyFloat_Check(o)) return KernelArg::real(PyFloat_AS_DOUBLE(o));
    if (PyBool_Check(o)) return KernelArg::boolean(o == Py_True);
    if (PyLong_Check(o)) {
        int overflow = 0;
        const long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
        if (overflow == 0) return KernelArg::integer(v);
        if (overflow > 0) {
            const unsigned long long u = PyLong_AsUnsignedLongLong(o);
            if (!PyErr_Occurred()) return KernelArg::unsigned_integer(u);
            PyErr_Clear();
        }
        const auto& p = f.params();
        const std::string name = index < p.size() ? p[index].name : std::to_string(index + 1);
        throw ArgumentRangeError(f.name() + "(): argument '" + name + "' (parameter " +
                                 std::to_string(index + 1) + "): " +
                                 nb::cast<std::string>(nb::str(h)) +
                                 " does not fit in any 64-bit integer type");
    }
    if (o == Py_None) return KernelArg();
    if (PyBytes_Check(o)) {
        bytes.emplace_back(PyBytes_AS_STRING(o), static_cast<std::size_t>(PyBytes_GET_SIZE(o)));
        return KernelArg::bytes(bytes.back().data(), bytes.back().size());
    }
    BufferView view;
    if (view.acquire(h, true)) {
        const DType dtype = view.dtype();
        if (view.view().ndim == 0) {  // NumPy scalar or 0-d array
            if (dtype == DType::record) {
                bytes.emplace_back(static_cast<const char*>(view.view().buf), view.itemsize());
                return KernelArg::bytes(bytes.back().data(), bytes.back().size());
            }
            return KernelArg::typed(dtype, view.view().buf);
        }
        const std::size_t nbytes = static_cast<std::size_t>(view.view().len);
        KernelArg arg = KernelArg::array(view.view().buf, dtype, view.itemsize(), nbytes,
                                         Device::cpu(), !view.readonly(), view.c_contiguous());
        views.push_back(std::move(view));
        return arg;
    }
    const auto& p = f.params();
    const std::string name = index < p.size() ? p[index].name : std::to_string(index + 1);
    throw ArgumentTypeError(f.name() + "(): argument '" + name + "' (parameter " +
                            std::to_string(index + 1) + ") cannot be passed to a kernel: " +
                            std::string(nb::type_name(h.type()).c_str()) +
                            " is not a number, an array, bytes or None");
}

// A launch's configuration and converted arguments; buffers stay acquired while it lives.
struct PreparedLaunch {
    LaunchConfig config;
    bool lint = true;
    std::vector<BufferView> views;
    std::vector<std::string> bytes;
    KernelArg small[16];
    std::vector<KernelArg> large;
    std::span<const KernelArg> args;
};

void prepare(const Function& f, nb::args args, nb::kwargs kwargs, PreparedLaunch& out) {
    nb::handle grid, block;
    std::size_t shared = 0;
    void* stream = nullptr;
    for (auto [key, value] : kwargs) {
        const std::string k = nb::cast<std::string>(key);
        if (k == "grid") grid = value;
        else if (k == "block") block = value;
        else if (k == "shared") {
            const nb::object bytes = as_int(value);
            if (!bytes.is_valid()) {
                throw ArgumentTypeError(f.name() + "(): shared must be an int (bytes)");
            }
            const long long s = PyLong_AsLongLong(bytes.ptr());
            if (s < 0 || PyErr_Occurred()) {
                PyErr_Clear();
                throw InvalidLaunch(f.name() + "(): shared=" + nb::cast<std::string>(nb::str(value)) +
                                    " must be a byte count >= 0");
            }
            shared = static_cast<std::size_t>(s);
        } else if (k == "stream") {
            // On the CPU device every launch runs to completion in order, which every stream's
            // semantics allow; a stream still has to be a stream, so one program serves both.
            if (const Stream* st = launch_stream(value)) {
                if (st->device() != f.device()) {
                    throw InvalidLaunch(f.name() + "(): the stream is on " + st->device().str() +
                                        " but the kernel's module is on " + f.device().str() +
                                        "; use a stream of " + f.device().str());
                }
                stream = st->handle();
            }
        } else if (k == "lint") {
            if (!PyBool_Check(value.ptr())) {
                throw ArgumentTypeError(f.name() + "(): lint must be True or False");
            }
            out.lint = value.ptr() == Py_True;
        } else {
            throw ArgumentTypeError(f.name() + "() got an unexpected keyword argument '" + k +
                                    "'; launches take grid=, block=, shared=, stream= and lint=");
        }
    }
    if (!grid.is_valid() || !block.is_valid()) {
        throw ArgumentTypeError(f.name() + "() needs grid= and block=, e.g. f(*args, grid=(n // 256 + 1,), block=(256,))");
    }
    out.config.grid = to_dim3(grid, "grid", f.name());
    out.config.block = to_dim3(block, "block", f.name());
    out.config.shared_bytes = shared;
    out.config.stream = stream;

    const std::size_t n = nb::len(args);
    out.views.reserve(n);
    out.bytes.reserve(n);
    KernelArg* converted = out.small;
    if (n > 16) {
        out.large.resize(n);
        converted = out.large.data();
    }
    for (std::size_t i = 0; i < n; ++i)
        converted[i] = to_kernel_arg(args[i], out.views, out.bytes, f, i);
    out.args = std::span<const KernelArg>(converted, n);
}

// manycore.LaunchWarning(message) with its `kind`.
nb::object launch_warning(const LaunchLint& lint) {
    nb::object cls = nb::module_::import_("manycore.errors").attr("LaunchWarning");
    nb::object warning = cls(nb::str(lint.message.c_str()));
    warning.attr("kind") = nb::str(lint_kind_name(lint.kind));
    return warning;
}

// The reference count an argument has inside a launch (f(...)) and inside f.lints(...) when
// nothing but the call holds it (the caller's stack and the argument tuples), measured once at
// import through RefcountProbe, since it depends on the interpreter's version; 0: not known,
// no lint.
Py_ssize_t g_temporary_refcount[2] = {0, 0};
int g_call_with_star_args = -1;  // the opcode of f(*args): counts say nothing there

// Stands in for Function in the measurement: called and a method, the same ways.
struct RefcountProbe {};
nb::list refcounts(nb::args args) {
    nb::list out;
    for (nb::handle a : args) out.append(Py_REFCNT(a.ptr()));
    return out;
}

// Whether `h` may be held by the caller: one of its frame's variables, or anything when the
// call unpacks *args (a list element then has the count of a temporary).
bool named_by_caller(nb::handle h) {
    PyFrameObject* frame = PyEval_GetFrame();  // borrowed; the launch's caller
    if (frame == nullptr) return false;
    if (g_call_with_star_args >= 0) {
        nb::handle f(reinterpret_cast<PyObject*>(frame));
        try {
            const auto last = nb::cast<Py_ssize_t>(f.attr("f_lasti"));
            const nb::bytes code = nb::borrow<nb::bytes>(f.attr("f_code").attr("co_code"));
            if (last >= 0 && static_cast<std::size_t>(last) < code.size() &&
                static_cast<unsigned char>(code.c_str()[last]) == g_call_with_star_args)
                return true;
        } catch (const nb::python_error&) {
            return true;  // cannot tell: no warning
        }
    }
    PyObject* locals = PyObject_GetAttrString(reinterpret_cast<PyObject*>(frame), "f_locals");
    if (locals == nullptr) {
        PyErr_Clear();
        return true;  // cannot tell: no warning
    }
    const nb::object names = nb::steal(locals);
    if (!PyDict_Check(locals)) return true;
    PyObject* key = nullptr;
    PyObject* value = nullptr;
    for (Py_ssize_t pos = 0; PyDict_Next(locals, &pos, &key, &value);)
        if (value == h.ptr()) return true;
    return false;
}

// Whether the array argument `h` is a temporary that owns its memory: what a kernel writes
// into it is lost when the launch returns (a view writes into memory that lives on).
bool is_lost_temporary(nb::handle h, bool in_lints) {
    const Py_ssize_t temporary = g_temporary_refcount[in_lints ? 1 : 0];
    if (temporary == 0) return false;
    if (nb::isinstance<Array>(h)) {
        return Py_REFCNT(h.ptr()) <= temporary &&
               nb::cast<const Array&>(h).owner().use_count() == 1 && !named_by_caller(h);
    }
    // A NumPy array's buffer, acquired for the launch, holds one more reference.
    if (Py_REFCNT(h.ptr()) > temporary + 1 || !nb::hasattr(h, "base")) return false;
    return nb::getattr(h, "base").is_none() && !named_by_caller(h);
}

// The temporary-array lint: a temporary (`a.astype(numpy.int32)` written in the call) for a
// pointer the kernel may write through.
void temporary_lints(const Function& f, nb::args args, const PreparedLaunch& launch,
                     bool in_lints, std::vector<LaunchLint>& out) {
    const auto& params = f.params();
    for (std::size_t i = 0; i < launch.args.size() && i < params.size(); ++i) {
        const mc_param_desc& d = params[i].desc;
        if (d.kind != MC_PARAM_POINTER || d.pointee_const ||
            launch.args[i].kind() != KernelArg::Kind::array ||
            !is_lost_temporary(args[i], in_lints))
            continue;
        out.push_back({LaunchLint::Kind::temporary_array,
                       f.name() + "(): argument '" + params[i].name + "' (parameter " +
                           std::to_string(i + 1) + ", " +
                           (params[i].spelling.empty() ? std::string("a pointer")
                                                       : params[i].spelling) +
                           ") is a temporary array (made in the call, as by .astype(...), with "
                           "no other reference): what the kernel writes into it is lost when the "
                           "launch returns; make the array first and pass it by name, or "
                           "declare the parameter const if the kernel only reads it"});
    }
}

void call(const Function& f, nb::args args, nb::kwargs kwargs) {
    PreparedLaunch launch;
    prepare(f, args, kwargs, launch);
    if (launch.lint && launch_lints_enabled()) {
        // Empty unless a lint fires: then each is a warning at the caller's line (no Python
        // frame of ours sits between, so stacklevel 1 is the user's launch). A launch that
        // would be refused gets its error, not a lint (checked only then: it costs a second
        // packing), and a filter that turns warnings into errors raises before anything runs.
        auto found = f.lints(launch.config, launch.args);
        temporary_lints(f, args, launch, false, found);
        if (!found.empty()) f.check(launch.config, launch.args);
        for (const LaunchLint& lint : found) {
            nb::module_::import_("warnings").attr("warn")(launch_warning(lint),
                                                          nb::arg("stacklevel") = 1);
        }
    }
    nb::gil_scoped_release release;
    f.launch(launch.config, launch.args);
}

// The lints a launch would warn about, as LaunchWarning objects, without running it.
nb::list lints(const Function& f, nb::args args, nb::kwargs kwargs) {
    PreparedLaunch launch;
    prepare(f, args, kwargs, launch);
    f.check(launch.config, launch.args);
    auto found = f.lints(launch.config, launch.args);
    temporary_lints(f, args, launch, true, found);
    nb::list out;
    for (const LaunchLint& lint : found) out.append(launch_warning(lint));
    return out;
}

}  // namespace

void bind_module(nb::module_& m) {
    // As a launch and Function.lints receive their arguments: the reference counts each has.
    nb::class_<RefcountProbe>(m, "_RefcountProbe")
        .def(nb::init<>())
        .def("__call__", [](RefcountProbe&, nb::args args, nb::kwargs) { return refcounts(args); })
        .def("lints", [](RefcountProbe&, nb::args args, nb::kwargs) { return refcounts(args); });
    m.def("_set_temporary_refcounts", [](Py_ssize_t call, Py_ssize_t lints, int star_opcode) {
        g_temporary_refcount[0] = call;
        g_temporary_refcount[1] = lints;
        g_call_with_star_args = star_opcode;
    });
    m.def("launch_lints_enabled", &launch_lints_enabled,
          "Whether launches check their lints (MANYCORE_LINTS=0 starts with them off).");
    m.def("set_launch_lints_enabled", &set_launch_lints_enabled, nb::arg("enabled"),
          "Turns the launch lints of every later launch on or off.");
    nb::class_<Function>(m, "Function", "A kernel of a module; call it to launch.")
        .def("__call__", &call,
             "Launches the kernel: f(*args, grid=..., block=..., shared=0, stream=None, lint=True).")
        .def("lints", &lints,
             "The LaunchWarnings f(*args, grid=..., block=...) would give, without running it "
             "(whatever set_lints() says).")
        .def_prop_ro("name", &Function::name)
        .def_prop_ro("signature", &Function::signature)
        .def_prop_ro("params", [](const Function& f) {
            nb::list out;
            for (const auto& p : f.params()) out.append(nb::make_tuple(p.name, p.spelling));
            return out;
        }, "(name, type) of each parameter.")
        .def_prop_ro("uses_fibers", &Function::uses_fibers,
                     "True when the kernel's threads run as fibers (it uses barriers or warp intrinsics).")
        .def_prop_ro("static_shared_bytes", &Function::static_shared_bytes)
        .def_prop_ro("device", &Function::device)
        .def("__repr__", [](const Function& f) { return "<manycore.Function " + f.signature() + ">"; });

    nb::class_<Module>(m, "Module")
        .def("__init__", [](Module* self, const std::string& source, nb::handle device,
                            std::vector<std::string> options, std::vector<std::string> name_expressions,
                            bool checked, bool follow_environment) {
            ModuleOptions o;
            o.compiler_options = std::move(options);
            o.name_expressions = std::move(name_expressions);
            o.checked = checked;
            o.follow_environment = follow_environment;
            const Device d = to_device_arg(device);
            nb::gil_scoped_release release;
            new (self) Module(source, d, std::move(o));
        }, nb::arg("source"), nb::arg("device").none(), nb::arg("options"),
           nb::arg("name_expressions"), nb::arg("checked"), nb::arg("follow_environment") = true)
        .def("get_function", &Module::function, nb::arg("name"))
        .def_prop_ro("kernel_names", &Module::kernel_names)
        .def_prop_ro("device", &Module::device)
        .def_prop_ro("cache_path", &Module::cache_path)
        .def_prop_ro("from_cache", &Module::from_cache);
}

}  // namespace manycore::python
