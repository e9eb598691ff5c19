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

// A launch under PyCUDA's rules met an argument that manycore.pycuda must turn into an array
// first (In/Out/InOut, a pointer given as an int, an object with __cuda_array_interface__).
struct NeedsConversion {
    std::size_t index;
};

// manycore.pycuda's objects that are pointers (GPUArray, DeviceAllocation) carry
// `_mc_kernel_arg = (array, typed)`; anything else (None included) needs converting in Python.
KernelArg pycuda_kernel_arg(nb::handle h, std::size_t index) {
    static PyObject* const name = PyUnicode_InternFromString("_mc_kernel_arg");
    PyObject* attr = PyObject_GetAttr(h.ptr(), name);
    if (attr == nullptr) {
        PyErr_Clear();
        throw NeedsConversion{index};
    }
    nb::object held = nb::steal(attr);
    if (!PyTuple_Check(attr) || PyTuple_GET_SIZE(attr) != 2 ||
        !nb::isinstance<Array>(PyTuple_GET_ITEM(attr, 0))) {
        throw NeedsConversion{index};
    }
    const Array& array = nb::cast<const Array&>(nb::handle(PyTuple_GET_ITEM(attr, 0)));
    return PyTuple_GET_ITEM(attr, 1) == Py_True ? KernelArg(array) : KernelArg::untyped(array);
}

// Converts one Python argument. Buffers stay acquired in `views` until the launch returns.
KernelArg to_kernel_arg(nb::handle h, std::vector<BufferView>& views, std::vector<std::string>& bytes,
                        const Function& f, std::size_t index, bool pycuda = false) {
    PyObject* o = h.ptr();
    if (nb::isinstance<Array>(h)) return KernelArg(nb::cast<const Array&>(h));
    // numpy.float64 is a float; PyCUDA passes it as a NumPy scalar, so its type is kept then.
    if (PyFloat_Check(o) && (!pycuda || PyFloat_CheckExact(o))) {
        return KernelArg::real(PyFloat_AS_DOUBLE(o));
    }
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
    // manycore.pycuda's arrays and allocations have no buffer: asking for one would cost an
    // exception on every launch.
    if (pycuda && !PyObject_CheckBuffer(o)) return pycuda_kernel_arg(h, index);
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
    if (pycuda) return pycuda_kernel_arg(h, index);
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

// Converts the kernel arguments args[first:] into `out`.
void convert_args(const Function& f, nb::handle args, std::size_t first, PreparedLaunch& out,
                  bool pycuda) {
    const std::size_t n = nb::len(args) - first;
    out.views.reserve(n);
    out.bytes.reserve(n);
    KernelArg* converted = out.small;
    if (n > 16) {
        out.large.resize(n);
        converted = out.large.data();
    }
    for (std::size_t i = 0; i < n; ++i) {
        converted[i] = to_kernel_arg(nb::handle(PyTuple_GET_ITEM(args.ptr(), first + i)),
                                     out.views, out.bytes, f, i, pycuda);
    }
    out.args = std::span<const KernelArg>(converted, n);
    if (!pycuda) return;
    // PyCUDA's pointer arithmetic (int(alloc) + offset) is mapped to an array in Python.
    const auto& params = f.params();
    for (std::size_t i = 0; i < n && i < params.size(); ++i) {
        const auto kind = converted[i].kind();
        if (params[i].desc.kind == MC_PARAM_POINTER &&
            (kind == KernelArg::Kind::integer || kind == KernelArg::Kind::unsigned_integer ||
             (kind == KernelArg::Kind::typed && converted[i].dtype() != DType::record))) {
            throw NeedsConversion{i};
        }
    }
}

std::size_t shared_bytes(const Function& f, nb::handle value) {
    const nb::object bytes = as_int(value);  // NumPy's integers too
    if (!bytes.is_valid()) {
        throw ArgumentTypeError(f.name() + "(): shared must be an int (bytes)");
    }
    const long long s = PyLong_AsLongLong(bytes.ptr());
    if (s < 0 || PyErr_Occurred()) {
        PyErr_Clear();
        throw InvalidLaunch(f.name() + "(): shared=" + nb::cast<std::string>(nb::str(value)) +
                            " must be a byte count >= 0");
    }
    return static_cast<std::size_t>(s);
}

void set_stream(const Function& f, nb::handle value, PreparedLaunch& out) {
    // On the CPU device every launch runs to completion in order, which every stream's
    // semantics allow; a stream still has to be a stream, so one program serves both.
    if (const Stream* st = launch_stream(value)) {
        if (st->device() != f.device()) {
            throw InvalidLaunch(f.name() + "(): the stream is on " + st->device().str() +
                                " but the kernel's module is on " + f.device().str() +
                                "; use a stream of " + f.device().str());
        }
        out.config.stream = st->handle();
    }
}

void set_shape(const Function& f, nb::handle grid, nb::handle block, PreparedLaunch& out) {
    if (!grid.is_valid() || !block.is_valid()) {
        throw ArgumentTypeError(f.name() + "() needs grid= and block=, e.g. f(*args, grid=(n // 256 + 1,), block=(256,))");
    }
    out.config.grid = to_dim3(grid, "grid", f.name());
    out.config.block = to_dim3(block, "block", f.name());
}

// `noted` is manycore.pycuda's keyword (see call_pycuda); null for a native launch.
void prepare(const Function& f, nb::args args, nb::kwargs kwargs, PreparedLaunch& out,
             bool* noted = nullptr) {
    nb::handle grid, block;
    for (auto [key, value] : kwargs) {
        const std::string k = nb::cast<std::string>(key);
        if (k == "grid") grid = value;
        else if (k == "block") block = value;
        else if (k == "shared") out.config.shared_bytes = shared_bytes(f, value);
        else if (k == "stream") set_stream(f, value, out);
        else if (k == "lint") {
            if (!PyBool_Check(value.ptr())) {
                throw ArgumentTypeError(f.name() + "(): lint must be True or False");
            }
            out.lint = value.ptr() == Py_True;
        } else if (noted != nullptr && k == "noted") {
            *noted = value.ptr() == Py_True;
        } else {
            throw ArgumentTypeError(f.name() + "() got an unexpected keyword argument '" + k +
                                    "'; launches take grid=, block=, shared=, stream= and lint=");
        }
    }
    set_shape(f, grid, block, out);
    convert_args(f, args, 0, out, noted != nullptr);
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

// Warns about each lint of the launch (LaunchWarning) unless lints are off for it; `stacklevel`
// 1 is the Python frame that called the binding. `args`, a native launch's own arguments, are
// looked at for temporaries (PyCUDA's launches pass through a Python frame that holds them).
void warn_lints(const Function& f, const nb::args* args, const PreparedLaunch& launch,
                ArgumentRules rules, int stacklevel) {
    if (launch.lint && launch_lints_enabled()) {
        // Empty unless a lint fires: then each is a warning at the user's line (a direct launch
        // has no Python frame of ours between, so stacklevel 1 is the user's). A launch that
        // would be refused gets its error, not a lint (checked only then: it costs a second
        // packing), and a filter that turns warnings into errors raises before anything runs.
        auto found = f.lints(launch.config, launch.args);
        if (args != nullptr) temporary_lints(f, *args, launch, false, found);
        if (!found.empty()) f.check(launch.config, launch.args, rules);
        for (const LaunchLint& lint : found) {
            nb::module_::import_("warnings").attr("warn")(launch_warning(lint),
                                                          nb::arg("stacklevel") = stacklevel);
        }
    }
}

void call(const Function& f, nb::args args, nb::kwargs kwargs) {
    PreparedLaunch launch;
    prepare(f, args, kwargs, launch);
    warn_lints(f, &args, launch, ArgumentRules::manycore, 1);
    nb::gil_scoped_release release;
    f.launch(launch.config, launch.args);
}

// What PyCUDA's rules let through (notes), for manycore.pycuda to warn about; None if nothing.
nb::object pycuda_notes(const Function& f, const PreparedLaunch& launch) {
    const auto notes = f.pycuda_notes(launch.args);
    if (notes.empty()) return nb::none();
    nb::list out;
    for (const ArgumentNote& n : notes) {
        out.append(nb::make_tuple(
            n.param, n.kind == ArgumentNote::Kind::element_type ? "element-type" : "scalar-type",
            n.message));
    }
    return out;
}

void launch_pycuda(const Function& f, const PreparedLaunch& launch) {
    // The user's launch is the caller of manycore.pycuda's Function.__call__.
    warn_lints(f, nullptr, launch, ArgumentRules::pycuda, 2);
    nb::gil_scoped_release release;
    f.launch(launch.config, launch.args, ArgumentRules::pycuda);
}

// manycore.pycuda's Function.__call__ (a Python subclass of Function), with PyCUDA's argument
// rules: a launch whose arguments the core takes as they are runs here, with no Python frame
// between. Anything else goes to the subclass's _launch(args, kwargs[, notes]): In/Out/InOut,
// pointers given as numbers, PyCUDA's own keywords, and launches PyCUDA's rules let a mismatch
// through (`notes`, for its warnings). _launch calls back with noted=True once it has done its
// part, and then nothing is handed back.
nb::object call_pycuda(nb::handle self, nb::args args, nb::kwargs kwargs) {
    const Function& f = nb::cast<const Function&>(self);
    PreparedLaunch launch;
    bool noted = false;
    try {
        prepare(f, args, kwargs, launch, &noted);
    } catch (const NeedsConversion& n) {
        if (noted) {
            throw ArgumentTypeError(f.name() + "(): argument " + std::to_string(n.index + 1) +
                                    " (" + nb::type_name(args[n.index].type()).c_str() +
                                    ") cannot be passed to a kernel");
        }
        return self.attr("_launch")(args, kwargs);
    } catch (const ArgumentTypeError&) {
        if (noted) throw;
        return self.attr("_launch")(args, kwargs);  // PyCUDA's keywords, or its own error
    }
    if (!noted) {
        nb::object notes = pycuda_notes(f, launch);
        if (!notes.is_none()) return self.attr("_launch")(args, kwargs, notes);
    }
    launch_pycuda(f, launch);
    return nb::none();
}

// manycore.pycuda's prepared_call(grid, block, *args, shared_size=0) when prepare()'s types
// are the kernel's own: as call_pycuda, with the launch shape in front.
nb::object prepared_call_pycuda(nb::handle self, nb::args args, nb::kwargs kwargs) {
    const Function& f = nb::cast<const Function&>(self);
    if (nb::len(args) < 2) {
        throw ArgumentTypeError(f.name() + ".prepared_call(grid, block, *args) needs grid and block");
    }
    PreparedLaunch launch;
    try {
        for (auto [key, value] : kwargs) {
            if (nb::cast<std::string>(key) != "shared_size") throw ArgumentTypeError("keyword");
            launch.config.shared_bytes = shared_bytes(f, value);
        }
        set_shape(f, args[0], args[1], launch);
        convert_args(f, args, 2, launch, true);
    } catch (const NeedsConversion&) {
        return self.attr("_prepared_launch")(args, kwargs);
    } catch (const ArgumentTypeError&) {
        return self.attr("_prepared_launch")(args, kwargs);
    }
    nb::object notes = pycuda_notes(f, launch);
    if (!notes.is_none()) return self.attr("_prepared_launch")(args, kwargs);
    launch_pycuda(f, launch);
    return nb::none();
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
    m.def("cpu_scheme", [] { return cpu_scheme() == CpuScheme::fibers ? "fibers" : "auto"; },
          "How modules built from now on run kernels that synchronise on the CPU.");
    m.def("set_cpu_scheme", [](const std::string& scheme) {
        if (scheme == "fibers") {
            set_cpu_scheme(CpuScheme::fibers);
        } else if (scheme == "auto" || scheme == "fission") {
            set_cpu_scheme(CpuScheme::automatic);
        } else {
            throw InvalidArgument("set_cpu_scheme('" + scheme +
                                  "'): the schemes are 'auto' (loop fission where it can, fibers "
                                  "elsewhere) and 'fibers'");
        }
    }, nb::arg("scheme"), "Sets the scheme of modules built from now on: 'auto' or 'fibers'.");
    nb::class_<Function>(m, "Function", "A kernel of a module; call it to launch.")
        .def("__call__", &call,
             "Launches the kernel: f(*args, grid=..., block=..., shared=0, stream=None, lint=True).")
        .def("__init__", [](Function* self, const Function& other) { new (self) Function(other); },
             nb::arg("function"), "The same kernel (for subclasses such as manycore.pycuda's).")
        .def("_pycuda_call", &call_pycuda,
             "manycore.pycuda's launch, with PyCUDA's argument rules (see manycore.pycuda).")
        .def("_pycuda_notes", [](const Function& f, nb::args args) {
            PreparedLaunch launch;
            convert_args(f, args, 0, launch, true);
            return pycuda_notes(f, launch);
        }, "What PyCUDA's argument rules let through for these arguments: [(param, kind, "
           "message)] or None.")
        .def("_pycuda_prepared_call", &prepared_call_pycuda,
             "manycore.pycuda's prepared_call when prepare()'s types are the kernel's.")
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
                     "True when the kernel's threads run as fibers (execution_mode == 'fibers').")
        .def_prop_ro("execution_mode",
                     [](const Function& f) { return execution_mode_name(f.execution_mode()); },
                     "How the kernel's threads run: 'loop', 'fission' or 'fibers' on the CPU, "
                     "'gpu' on a GPU.")
        .def_prop_ro("execution_reason", &Function::execution_reason,
                     "Why the kernel runs as execution_mode says (for 'fibers': what loop "
                     "fission could not take, and where).")
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
