"""
manycore's C++ engine; use the manycore package rather than this module
"""

from collections.abc import Sequence
from typing import Any

import numpy


__version__: str
import typing
import numpy
import numpy.typing
import manycore._flags
import manycore._resources

class Device:
    """A device: 'cpu', 'cuda' or 'cuda:N'."""

    def __init__(self, name: str) -> None: ...

    @property
    def kind(self) -> str: ...

    @property
    def index(self) -> int: ...

    @property
    def name(self) -> str: ...

    @property
    def compute_units(self) -> int:
        """Worker threads on the CPU, multiprocessors on a GPU."""

    @property
    def total_memory(self) -> int: ...

    @property
    def compute_capability(self) -> tuple: ...

    @property
    def max_threads_per_block(self) -> int: ...

    @property
    def max_shared_per_block(self) -> int: ...

    @property
    def warp_size(self) -> int: ...

    def __str__(self) -> str: ...

    def __repr__(self) -> str: ...

    def __eq__(self, arg: object, /) -> bool: ...

    def __hash__(self) -> int: ...

    def __reduce__(self) -> tuple: ...

def devices() -> list[Device]:
    """Every device present: the CPU first, then each GPU."""

def node_local_rank() -> int:
    """
    This process's rank among the MPI ranks on its node (-1: not under MPI).
    """

def set_node_local_rank(rank: int) -> None: ...

def default_device() -> Device:
    """MANYCORE_DEVICE when set, else the first GPU, else the CPU."""

class Array:
    """
    An n-dimensional array on a device. On the CPU it shares memory with numpy.asarray(a); everywhere, a.get() returns a NumPy copy.
    """

    @property
    def shape(self, /) -> tuple[int, ...]: ...

    @property
    def strides(self, /) -> tuple[int, ...]: ...

    @property
    def dtype(self, /) -> numpy.dtype[Any]: ...

    @property
    def device(self) -> Device: ...

    @property
    def nbytes(self) -> int: ...

    @property
    def size(self) -> int: ...

    @property
    def ndim(self) -> int: ...

    @property
    def itemsize(self) -> int: ...

    @property
    def ptr(self) -> int:
        """The address of the first element."""

    def get(self) -> numpy.typing.NDArray[typing.Any]:
        """A new numpy.ndarray with a copy of the data."""

    def __len__(self) -> int: ...

    @property
    def __array_interface__(self) -> dict: ...

    def __repr__(self) -> str: ...

    @property
    def is_contiguous(self) -> bool:
        """True when the elements lie in C order without gaps."""

    @property
    def writable(self) -> bool:
        """False for read-only memory (e.g. a wrapped read-only NumPy array)."""

    def _view(self, byte_offset: int, shape: Sequence[int], strides: Sequence[int]) -> Array:
        """
        A view sharing this array's memory (byte offset and byte strides); bounds-checked.
        """

    def __dlpack__(self, **kwargs) -> object:
        """A DLPack capsule of this array (zero-copy)."""

    def __dlpack_device__(self) -> tuple:
        """(device type, device index) as DLPack codes."""

    def __add__(self, other: typing.Any) -> Array: ...
    def __radd__(self, other: typing.Any) -> Array: ...
    def __iadd__(self, other: typing.Any) -> Array: ...
    def __sub__(self, other: typing.Any) -> Array: ...
    def __rsub__(self, other: typing.Any) -> Array: ...
    def __isub__(self, other: typing.Any) -> Array: ...
    def __mul__(self, other: typing.Any) -> Array: ...
    def __rmul__(self, other: typing.Any) -> Array: ...
    def __imul__(self, other: typing.Any) -> Array: ...
    def __truediv__(self, other: typing.Any) -> Array: ...
    def __rtruediv__(self, other: typing.Any) -> Array: ...
    def __itruediv__(self, other: typing.Any) -> Array: ...
    def __floordiv__(self, other: typing.Any) -> Array: ...
    def __rfloordiv__(self, other: typing.Any) -> Array: ...
    def __ifloordiv__(self, other: typing.Any) -> Array: ...
    def __mod__(self, other: typing.Any) -> Array: ...
    def __rmod__(self, other: typing.Any) -> Array: ...
    def __imod__(self, other: typing.Any) -> Array: ...
    def __pow__(self, other: typing.Any) -> Array: ...
    def __rpow__(self, other: typing.Any) -> Array: ...
    def __ipow__(self, other: typing.Any) -> Array: ...
    def __and__(self, other: typing.Any) -> Array: ...
    def __rand__(self, other: typing.Any) -> Array: ...
    def __iand__(self, other: typing.Any) -> Array: ...
    def __or__(self, other: typing.Any) -> Array: ...
    def __ror__(self, other: typing.Any) -> Array: ...
    def __ior__(self, other: typing.Any) -> Array: ...
    def __xor__(self, other: typing.Any) -> Array: ...
    def __rxor__(self, other: typing.Any) -> Array: ...
    def __ixor__(self, other: typing.Any) -> Array: ...
    def __lt__(self, other: typing.Any) -> Array: ...
    def __le__(self, other: typing.Any) -> Array: ...
    def __gt__(self, other: typing.Any) -> Array: ...
    def __ge__(self, other: typing.Any) -> Array: ...
    def __eq__(self, other: object) -> Array: ...  # type: ignore[override]
    def __ne__(self, other: object) -> Array: ...  # type: ignore[override]
    def __neg__(self) -> Array: ...
    def __pos__(self) -> Array: ...
    def __abs__(self) -> Array: ...
    def __invert__(self) -> Array: ...
    def __getitem__(self, key: typing.Any) -> Array: ...
    def __setitem__(self, key: typing.Any, value: typing.Any) -> None: ...
    def __bool__(self) -> bool: ...
    def __float__(self) -> float: ...
    def __int__(self) -> int: ...
    def __complex__(self) -> complex: ...
    def __index__(self) -> int: ...
    __array_ufunc__: None
    def __array__(self, dtype: typing.Any = None, copy: bool | None = None) -> numpy.typing.NDArray[typing.Any]: ...
    @property
    def flags(self) -> manycore._flags.ArrayFlags: ...
    @property
    def __cuda_array_interface__(self) -> dict[str, typing.Any]: ...
    def item(self) -> typing.Any: ...
    def astype(self, dtype: typing.Any, copy: bool = True) -> Array: ...
    def copy(self) -> Array: ...
    def to(self, device: typing.Any, copy: bool = True) -> Array: ...
    def fill(self, value: typing.Any) -> Array: ...
    def reshape(self, *shape: typing.Any) -> Array: ...
    def ravel(self) -> Array: ...
    @property
    def T(self) -> Array: ...
    def sum(self, axis: typing.Any = None) -> Array: ...
    def prod(self, axis: typing.Any = None) -> Array: ...
    def min(self, axis: typing.Any = None) -> Array: ...
    def max(self, axis: typing.Any = None) -> Array: ...
    def mean(self, axis: typing.Any = None) -> Array: ...
    def any(self, axis: typing.Any = None) -> Array: ...
    def all(self, axis: typing.Any = None) -> Array: ...
    def argmin(self, axis: typing.Any = None) -> Array: ...
    def argmax(self, axis: typing.Any = None) -> Array: ...
    def dot(self, other: typing.Any) -> Array: ...

def empty(shape: object, dtype: str, itemsize: int, device: object | None) -> Array: ...

def zeros(shape: object, dtype: str, itemsize: int, device: object | None) -> Array: ...

def to_device(array: object, device: object | None) -> Array: ...

def wrap_device_pointer(ptr: int, shape: object, strides: object | None, dtype: str, itemsize: int, device: object | None, owner: object | None, readonly: bool) -> Array:
    """
    An Array over memory at address `ptr` on `device` that `owner` keeps alive (byte strides; None for C order). Nothing is copied.
    """

class _RefcountProbe:
    def __init__(self) -> None: ...

    def __call__(self, *args, **kwargs) -> list: ...

    def lints(self, *args, **kwargs) -> list: ...

def _set_temporary_refcounts(arg0: int, arg1: int, arg2: int, /) -> None: ...

def launch_lints_enabled() -> bool:
    """
    Whether launches check their lints (MANYCORE_LINTS=0 starts with them off).
    """

def set_launch_lints_enabled(enabled: bool) -> None:
    """Turns the launch lints of every later launch on or off."""

def cpu_scheme() -> str:
    """How modules built from now on run kernels that synchronise on the CPU."""

def set_cpu_scheme(scheme: str) -> None:
    """Sets the scheme of modules built from now on: 'auto' or 'fibers'."""

class Function:
    """A kernel of a module; call it to launch."""

    def __init__(self, function: Function) -> None:
        """The same kernel (for subclasses such as manycore.pycuda's)."""

    def __call__(self, *args: object, grid: int | Sequence[int], block: int | Sequence[int], shared: int = 0, stream: Stream | None = None, lint: bool = True) -> None:
        """
        Launches the kernel on the arguments, converted by its parameter types: `grid` blocks of `block` threads (1 to 3 dimensions), `shared` bytes of dynamic shared memory, queued on `stream` (the device's default stream when None); `lint` False silences the launch lints of this call.
        """

    def _pycuda_call(self, *args, **kwargs) -> object:
        """
        manycore.pycuda's launch, with PyCUDA's argument rules (see manycore.pycuda).
        """

    def _pycuda_notes(self, *args: object) -> list[tuple[int, str, str]] | None:
        """
        What PyCUDA's argument rules let through for these arguments: [(param, kind, message)] or None.
        """

    def _pycuda_prepared_call(self, *args, **kwargs) -> object:
        """
        manycore.pycuda's prepared_call when prepare()'s types are the kernel's.
        """

    def lints(self, *args, **kwargs) -> list:
        """
        The LaunchWarnings f(*args, grid=..., block=...) would give, without running it (whatever set_lints() says).
        """

    @property
    def name(self) -> str: ...

    @property
    def signature(self) -> str: ...

    @property
    def params(self) -> list:
        """(name, type) of each parameter."""

    @property
    def uses_fibers(self) -> bool:
        """
        True when the kernel's threads run as fibers (execution_mode == 'fibers').
        """

    @property
    def execution_mode(self) -> str:
        """
        How the kernel's threads run: 'loop', 'fission' or 'fibers' on the CPU, 'gpu' on a GPU.
        """

    @property
    def execution_reason(self) -> str:
        """
        Why the kernel runs as execution_mode says (for 'fibers': what loop fission could not take, and where).
        """

    @property
    def static_shared_bytes(self) -> int: ...

    @property
    def device(self) -> Device: ...

    def __repr__(self) -> str: ...

    def resource_usage(self) -> manycore._resources.KernelResources: ...

class Module:
    def __init__(self, source: str, device: object | None, options: Sequence[str], name_expressions: Sequence[str], checked: bool, follow_environment: bool = True) -> None: ...

    def get_function(self, name: str) -> Function: ...

    @property
    def kernel_names(self) -> list[str]: ...

    @property
    def device(self) -> Device: ...

    @property
    def cache_path(self) -> str: ...

    @property
    def from_cache(self) -> bool: ...

def cache_info() -> dict:
    """The compile cache's folder, state, entries and bytes."""

def cache_clear() -> int:
    """Removes every compiled module of this version; returns how many."""

def compiler_info() -> dict:
    """The host compiler the CPU device uses."""

def num_threads() -> int:
    """Threads the CPU device runs blocks on."""

class Stream:
    """
    An ordered queue of work on a device. Stream(device=None) makes a new one; Stream.default(device) is the device's default stream.
    """

    def __init__(self, device: object | None = None) -> None: ...

    @staticmethod
    def default(device: object | None = None) -> Stream:
        """The default stream of a device."""

    @staticmethod
    def wrap(handle: int, device: object | None = None) -> Stream:
        """
        A stream created elsewhere (CuPy's stream.ptr, PyTorch's stream.cuda_stream); the caller keeps it alive.
        """

    def synchronize(self) -> None:
        """Waits until everything queued on the stream has finished."""

    def query(self) -> bool:
        """True when everything queued has finished."""

    def wait_event(self, event: Event) -> None:
        """
        Makes later work on this stream wait for the event (the host does not wait).
        """

    @property
    def device(self) -> Device: ...

    @property
    def handle(self) -> int:
        """The CUstream as an int (0 for the default stream and on the CPU)."""

    def __eq__(self, arg: object, /) -> bool: ...

    def __hash__(self) -> int: ...

    def __repr__(self) -> str: ...

class Event:
    """A point in a stream's work, to wait for or to time."""

    def __init__(self, device: object | None = None, timing: bool = True) -> None: ...

    def record(self, stream: object | None = None) -> object:
        """
        Marks the point after everything queued so far on the stream (default stream if None); returns the event.
        """

    def synchronize(self) -> None:
        """Waits until the recorded point has been reached."""

    def query(self) -> bool:
        """True when the recorded point has been reached."""

    def elapsed_time(self, end: Event) -> float:
        """Milliseconds from this event to `end`."""

    @property
    def device(self) -> Device: ...

def synchronize(device: object | None = None) -> None:
    """Waits until everything queued on the device has finished."""

def pinned_empty(shape: Sequence[int], dtype: str) -> Array:
    """
    Page-locked host memory (a CPU Array): copies to and from a GPU run at full bandwidth and can be asynchronous.
    """

def is_pinned(array: Array) -> bool: ...

def copy(dst: object, src: object, stream: object | None = None) -> str:
    """
    Copies src into dst (same byte count, both contiguous), between any two devices, and returns the way it went: 'host', 'host_to_device', 'device_to_host', 'device' (within a GPU), 'peer' (GPU to GPU directly) or 'staged' (GPU to GPU through host memory). With a stream the copy is queued and returns at once when the host side is pinned (a staged copy has finished on return).
    """

def gpu_copy_path(dst: object, src: object) -> str:
    """
    The way copies from GPU src to GPU dst go: 'device', 'peer' or 'staged'.
    """

def memory_pool_stats(device: object | None) -> tuple: ...

def free_all_blocks(device: object | None) -> int: ...

def cuda_compile(source: str, cc: int, options: Sequence[str], name_expressions: Sequence[str], checked: bool = False) -> tuple: ...

def cuda_versions() -> tuple:
    """
    (CUDA driver version, NVRTC version), e.g. (12040, 13000); None where not found.
    """

class Profiler:
    """Records the launches made while it is started."""

    def __init__(self, memory: bool = False) -> None: ...

    def start(self) -> None: ...

    def stop(self) -> None:
        """Stops recording, once the launches being recorded have ended."""

    @property
    def started(self) -> bool: ...

    @property
    def memory(self) -> bool: ...

    def launches(self) -> tuple:
        """
        (launches, memory profiles, sources): one tuple per launch (kernel, device, grid, block, shared bytes, seconds, array bytes read, array bytes written, instrumented, memory profile index or -1, note, source index or -1), (sites, branches, out-of-bounds) per memory profile, the modules' sources, and the kernels by name.
        """

def active_blocks_per_multiprocessor(function: Function, threads: int, shared: int) -> int:
    """
    A GPU driver's occupancy calculator: blocks one multiprocessor runs at once.
    """

def profile_hook_calls() -> int:
    """How many launches in this process entered a profile's hook."""

def arch_limits(arch: str) -> dict:
    """The limits of a GPU architecture ('sm_90') as a dict."""

def known_architectures() -> list[int]:
    """Every architecture arch_limits knows, as numbers (50, ..., 121)."""

def emulated_arch() -> str:
    """
    The GPU architecture the CPU stands in for (MANYCORE_EMULATED_ARCH, default sm_90).
    """

def device_attribute(device: Device, attribute: int) -> int:
    """A GPU's CUdevice_attribute value."""

def memory_info(device: Device) -> tuple:
    """(free, total) bytes of the device's memory."""

def module_global(module: Module, name: str) -> Array:
    """
    The bytes of a module's __constant__ or __device__ variable, as a uint8 Array.
    """

def function_resources(function: Function) -> tuple:
    """(registers, shared, local, const, max threads, arch, source, reason)."""

mpi_native: bool = True

def mpi_cuda_aware() -> bool: ...

def mpi_allreduce(arg0: object, arg1: Array, arg2: Array, arg3: str, /) -> None: ...

def mpi_reduce(comm: object, src: Array, out: Array | None, op: str, root: int) -> None: ...

def mpi_bcast(arg0: object, arg1: Array, arg2: int, /) -> None: ...

def mpi_allgather(arg0: object, arg1: Array, arg2: Array, /) -> None: ...

def mpi_gather(comm: object, src: Array, out: Array | None, root: int) -> None: ...

def mpi_scatter(comm: object, src: Array | None, out: Array, root: int) -> None: ...

def mpi_alltoall(arg0: object, arg1: Array, arg2: Array, /) -> None: ...

def mpi_sendrecv(arg0: object, arg1: Array, arg2: int, arg3: Array, arg4: int, arg5: int, /) -> None: ...

class MpiCartGrid:
    def __init__(self, arg0: object, arg1: int, arg2: Sequence[int], arg3: Sequence[bool], /) -> None: ...

    @property
    def dims(self) -> list[int]: ...

    @property
    def coords(self) -> list[int]: ...

    def neighbour(self, arg: Sequence[int], /) -> int: ...

class MpiHaloExchange:
    def __init__(self, arg0: MpiCartGrid, arg1: Array, arg2: int, arg3: bool, arg4: int, /) -> None: ...

    def start(self) -> None: ...

    def wait(self) -> None: ...
