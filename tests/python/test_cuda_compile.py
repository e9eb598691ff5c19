# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""manycore.cuda.compile: the GPU compile path without a GPU, and what it guards on machines
that have NVRTC but no GPU (CI): every kernel the array layer generates compiles for a GPU too."""

from __future__ import annotations

import numpy as np
import pytest

import manycore as mc
import manycore._codegen
import manycore._module

SAXPY = r"""
__global__ void saxpy(int n, float a, const float* x, float* y) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i] + y[i];
}
"""


@pytest.fixture(scope="module")
def nvrtc():
    try:
        mc.cuda.compile(SAXPY, arch=90)
    except mc.DeviceUnavailable as e:
        pytest.skip(f"NVRTC is not installed here: {e}")


def test_compiles_to_a_cubin_for_a_known_architecture(nvrtc):
    out = mc.cuda.compile(SAXPY, arch="sm_90")
    assert out.cubin and out.target == "sm_90"
    assert out.image[:4] == b"\x7fELF"


@pytest.mark.parametrize("arch", [90, "sm_90", "9.0", "compute_90"])
def test_architecture_spellings(nvrtc, arch):
    assert mc.cuda.compile(SAXPY, arch=arch).target == "sm_90"


def test_bad_architecture_and_options(nvrtc):
    with pytest.raises(ValueError, match="not an architecture"):
        mc.cuda.compile(SAXPY, arch="hopper")
    with pytest.raises(TypeError, match="sequence of strings"):
        mc.cuda.compile(SAXPY, arch=90, options="-lineinfo")
    with pytest.raises(mc.DeviceUnavailable):
        mc.cuda.compile(SAXPY, arch=10)  # older than anything this NVRTC builds for


def test_compile_error_has_the_users_line(nvrtc):
    with pytest.raises(mc.CompileError, match=r"kernel.cu:3"):
        mc.cuda.compile("__global__ void k(int* p) {\n    p[0] = 1;\n    p[1] = nope;\n}\n", arch=90)


def test_template_kernels_by_name_expression(nvrtc):
    src = "template <class T> __global__ void fill(T* p, T v) { p[threadIdx.x] = v; }"
    assert mc.cuda.compile(src, arch=90, name_expressions=["fill<float>", "fill<int>"]).image


@pytest.fixture
def generated_sources(monkeypatch):
    """Every source the array layer hands to SourceModule while the test runs (on the CPU)."""
    seen: dict[str, None] = {}
    real = manycore._module.SourceModule

    def recording(source, *args, **kwargs):
        seen[source] = None
        return real(source, *args, **kwargs)

    monkeypatch.setattr(manycore._codegen, "SourceModule", recording)
    monkeypatch.setattr(manycore._module, "SourceModule", recording)
    return seen


def test_every_generated_array_kernel_compiles_for_a_gpu(nvrtc, generated_sources, cpu):
    # Distinct dtypes and each family of generated kernel: operators, comparisons, casts, math,
    # reductions (all and along an axis), scans, random numbers, user generators.
    for dtype in ("bool", "int8", "uint16", "int32", "uint32", "int64", "uint64", "float32",
                  "float64", "complex64"):
        a = mc.to_device(np.arange(1, 40).astype(dtype), cpu)
        b = a + a
        _ = a * b, a == b, -a if dtype != "bool" else ~a, a.astype("float64"), abs(a)
        if dtype not in ("bool", "complex64"):
            _ = a // b, a % b, a ** 2, mc.math.minimum(a, b), mc.math.sqrt(a.astype("float32")), a.sum(), a.max(), a.argmin()
            _ = mc.cumsum(a), a.reshape(3, 13).sum(axis=0), mc.dot(a, a)
    _ = mc.math.where(mc.arange(10, device=cpu) > 4, 1.0, 2.0), mc.linspace(0, 1, 7, device=cpu)
    _ = mc.random.uniform(100, seed=1, device=cpu), mc.random.normal(100, seed=2, device=cpu)
    axpy = mc.ElementwiseKernel("float a, float *x, float *y", "y[i] = a * x[i] + y[i]", name="axpy")
    x = mc.to_device(np.ones(50, np.float32), cpu)
    axpy(np.float32(2), x, x)
    dot = mc.ReductionKernel(np.float64, neutral="0", reduce_expr="a+b", map_expr="x[i]*x[i]",
                             arguments="const float *x")
    dot(x)
    mc.InclusiveScanKernel(np.int32, "a+b")(mc.to_device(np.arange(9, dtype=np.int32), cpu))
    for dtype in ("int8", "int32", "float64"):  # the GPU's variant of the scan
        scan = mc.ExclusiveScanKernel(dtype, "a+b", "0")
        scan._block_parallel = True
        scan(mc.to_device(np.arange(9, dtype=dtype), cpu))

    assert len(generated_sources) > 20
    failures = []
    for source in generated_sources:
        try:
            mc.cuda.compile(source, arch=90)
        except mc.CompileError as e:
            failures.append(str(e)[:600])
    assert not failures, f"{len(failures)} of {len(generated_sources)} generated kernels do not " \
                         "compile for sm_90:\n\n" + "\n\n".join(failures[:3])


def test_checked_kernels_compile_for_a_gpu(nvrtc, generated_sources):
    """Checked mode on a GPU is the same rewrite under NVRTC: every kernel the checked-mode tests
    run (bounds, shared arrays, atomics, vector types, helpers, printf) compiles for sm_90."""
    import test_checked

    sources = [v for k, v in vars(test_checked).items()
               if k.isupper() and isinstance(v, str) and "__global__" in v and "import" not in v]
    sources += [
        "__global__ void k(float4* out) { out[threadIdx.x].w = 1.0f; }",
        "struct P { float x, y; };\n__device__ float twice(const float* p, int i) { return 2 * p[i]; }\n"
        "__global__ void k(const float* in, float* out, int* c, P* ps, int n) {\n"
        "    int i = threadIdx.x; if (in == NULL || i >= n) return;\n"
        "    float* o = &out[i]; *o += twice(in, i) + __ldg(&in[i]); atomicAdd(c + i % 4, 1);\n"
        "    atomicMax(&c[4], i); ps[i].y = ps[i].x + 1; printf(\"%g\\n\", in[i]);\n}\n",
        "template <class T> __device__ T first(const T* p) { return p[0]; }\n"
        "__global__ void k(const float* in, float* out) { out[threadIdx.x] = first(in + 1); }\n",
    ]
    for source in sources:
        image = mc.cuda.compile(source, arch=90, checked=True)
        assert image.cubin and image.image
    # A checked module's code differs from the unchecked one's.
    assert mc.cuda.compile(SAXPY, arch=90, checked=True).image != mc.cuda.compile(SAXPY, arch=90).image
