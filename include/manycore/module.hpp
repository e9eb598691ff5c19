// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// Modules of kernels compiled at run time, their functions, and typed launches.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "manycore/array.hpp"
#include "manycore/device.hpp"
#include "manycore/kernel_arg.hpp"
#include "manycore/kernel_resources.hpp"
#include "manycore/prelude/abi.h"

namespace manycore {

namespace detail {
class ModuleImpl;
class KernelImpl;
struct LaunchLintFacts;
struct ModuleLints;
class ProfilerState;
struct ModuleResources;
}  // namespace detail

/// Grid or block extent; unset dimensions are 1.
struct Dim3 {
    std::uint32_t x = 1, y = 1, z = 1;
};

struct LaunchConfig {
    Dim3 grid;
    Dim3 block;
    std::size_t shared_bytes = 0;  // dynamic shared memory per block
    void* stream = nullptr;  // the backend's stream handle (Stream::handle()); nullptr: the default stream
};

/// One kernel parameter: its name and spelling from the source, its layout from the compiler.
struct ParamInfo {
    std::string name;      // "x", or "arg2" when the source could not be read
    std::string spelling;  // "const float* __restrict__"
    mc_param_desc desc{};
};

/// A launch that is legal but probably not what was meant; Python shows it as a
/// manycore.LaunchWarning. `message` names the kernel, gives the numbers and says what to change.
struct LaunchLint {
    enum class Kind : std::uint8_t {
        index_overflow,   // an array longer than the kernel's 32-bit index or size can reach
        grid_too_small,   // one element per thread, no grid-stride loop, too few threads
        block_size,       // threads per block not a multiple of 32 (the warp size)
        past_end,         // the bound of the index is larger than an array it subscripts
        temporary_array,  // a temporary array for a non-const pointer: its results are lost
    };
    Kind kind;
    std::string message;
};

/// How a launch takes its arguments. `manycore`: scalars converted by the parameter types with
/// range checks, arrays' element types checked. `pycuda`: what PyCUDA would pass is passed
/// (manycore.pycuda): an array of another element type as its pointer, a NumPy integer of the
/// parameter's size but another type as its bytes, other NumPy scalars by value, read-only
/// arrays into non-const pointers. Function::pycuda_notes says what manycore's rules refuse.
enum class ArgumentRules : std::uint8_t { manycore, pycuda };

/// An argument PyCUDA's rules pass as it is where manycore's would refuse or convert it: a bug
/// PyCUDA lets through, which manycore.pycuda reports as a CompatWarning. `message` names the
/// kernel, the parameter and both types, says what the kernel then sees and how to fix it.
struct ArgumentNote {
    enum class Kind : std::uint8_t {
        element_type,  // an array whose element type differs from the pointer's
        scalar_type,   // a NumPy scalar whose type differs from the parameter's
    };
    Kind kind;
    std::size_t param;
    std::string message;
};

/// "index-overflow", "grid-too-small", "block-size", "past-end", "temporary-array": the names
/// Python's LaunchWarning.kind uses.
const char* lint_kind_name(LaunchLint::Kind kind) noexcept;

/// Whether launches from Python check their lints (MANYCORE_LINTS=0 turns them off at start;
/// the first call reads the environment, and may throw InvalidArgument for a malformed
/// MANYCORE_* variable like every first use of Config). Thread-safe.
bool launch_lints_enabled();
void set_launch_lints_enabled(bool enabled) noexcept;

/// How a kernel's threads run. On the CPU: `loop` (no barriers: a block's threads are one
/// loop), `fission` (the body is split at its barriers into loops over the block's threads),
/// `fibers` (every thread is a fiber that switches at barriers); on a GPU: `gpu`.
enum class ExecutionMode : std::uint8_t { loop, fission, fibers, gpu };

/// "loop", "fission", "fibers", "gpu".
const char* execution_mode_name(ExecutionMode mode) noexcept;

/// How the CPU runs kernels that synchronise: `automatic` splits them at their barriers where
/// it can (loop fission) and runs the rest as fibers; `fibers` runs them all as fibers.
enum class CpuScheme : std::uint8_t { automatic, fibers };

/// The scheme modules built from now on use: MANYCORE_CPU_SCHEME at start ("auto", "fission"
/// or "fibers"), then what set_cpu_scheme says. Thread-safe.
CpuScheme cpu_scheme();
void set_cpu_scheme(CpuScheme scheme) noexcept;

struct ModuleOptions {
    std::vector<std::string> compiler_options;  // passed through; default "-O3 -march=native"
    std::vector<std::string> name_expressions;  // template kernels to instantiate: "k<float>"
    bool checked = false;  // CPU: bounds, races, barriers, uninitialized shared reads checked
    // Whether MANYCORE_CHECK=1 may turn `checked` on; manycore's own generated kernels (array
    // operators, reductions, scans) say no, so their answers and speed stay what they are.
    bool follow_environment = true;
    // The memory profile's build (CPU only): checked mode's rewrite and proxies, recording how
    // each warp's accesses and branches would go on a GPU instead of checking them. Profiler
    // builds these; a launch of one runs the profile and drops its counts.
    bool memory_profile = false;
    // Set from cpu_scheme() when the module is built (and part of what identifies it).
    CpuScheme cpu_scheme = CpuScheme::automatic;
};

/// A kernel of a module. Cheap to copy; launches from several threads at once are safe.
class Function {
  public:
    const std::string& name() const noexcept;
    const std::vector<ParamInfo>& params() const noexcept;
    /// "saxpy(int n, float a, const float* x, float* y)".
    std::string signature() const;
    /// True when the kernel runs its threads as fibers (execution_mode() is fibers).
    bool uses_fibers() const noexcept;
    /// How the kernel's threads run, and why (for fibers: what loop fission could not take).
    ExecutionMode execution_mode() const noexcept;
    const std::string& execution_reason() const noexcept;
    /// Static __shared__ bytes the kernel's module reserves per block.
    std::size_t static_shared_bytes() const noexcept;
    const Device& device() const noexcept;

    /// Checks the launch and the arguments against the kernel, then runs it to completion.
    /// Throws InvalidLaunch, ArgumentTypeError, ArgumentRangeError, InvalidArgument before
    /// anything runs, KernelFault when the kernel fails.
    void launch(const LaunchConfig& config, std::span<const KernelArg> args,
                ArgumentRules rules = ArgumentRules::manycore) const;

    /// The checks launch makes (InvalidLaunch, ArgumentTypeError, ArgumentRangeError,
    /// InvalidArgument), without running anything. Thread-safe.
    void check(const LaunchConfig& config, std::span<const KernelArg> args,
               ArgumentRules rules = ArgumentRules::manycore) const;

    /// What ArgumentRules::pycuda passes that manycore's rules would not (see ArgumentNote):
    /// comparisons only, allocating only when there is something to say. Thread-safe.
    std::vector<ArgumentNote> pycuda_notes(std::span<const KernelArg> args) const;

    /// The lints of this launch (see LaunchLint), without running it: a few integer
    /// comparisons against facts read from the source when the module was built; allocates
    /// only when a lint fires. Function::launch does not call it (C++ has no warnings), the
    /// Python launch does. Thread-safe.
    std::vector<LaunchLint> lints(const LaunchConfig& config,
                                  std::span<const KernelArg> args) const;

    /// Registers, shared, local and constant memory the kernel needs on a GPU: the driver's
    /// numbers on a GPU, on the CPU those of the kernel compiled by NVRTC for
    /// emulated_arch() (MANYCORE_EMULATED_ARCH). Worked out once per module; never throws
    /// (what went wrong is the result's `reason`). Thread-safe.
    KernelResources resource_usage() const;

    /// On a GPU, the driver's occupancy calculator: how many blocks of `threads` threads and
    /// `dynamic_shared` bytes of dynamic shared memory one multiprocessor runs at once. Throws
    /// InvalidArgument on the CPU (manycore.occupancy computes it there). Thread-safe.
    int active_blocks_per_multiprocessor(unsigned threads, std::size_t dynamic_shared) const;

    /// Typed launch from C++: f(config, n, 2.0f, x.data(), y) with arrays or pointers.
    template <class... Args>
    void operator()(const LaunchConfig& config, Args&&... args) const {
        const KernelArg packed[] = {KernelArg(std::forward<Args>(args))..., KernelArg()};
        launch(config, std::span<const KernelArg>(packed, sizeof...(Args)));
    }

  private:
    friend class Module;
    friend class detail::ProfilerState;
    Function(std::shared_ptr<const detail::ModuleImpl> module,
             std::shared_ptr<const detail::KernelImpl> kernel,
             std::shared_ptr<const detail::ModuleLints> module_facts,
             std::shared_ptr<const detail::LaunchLintFacts> lint_facts,
             std::shared_ptr<detail::ModuleResources> resources);
    /// The launch itself, after the checks and the packing: checked or plain.
    void run(const LaunchConfig& config, std::span<const KernelArg> args,
             void* const* packed) const;
    /// This kernel built for the memory profile on the CPU (compiled on first use, then
    /// shared like any module). Throws CompileError when its source cannot be built so.
    Function memory_profile_build() const;
    /// The source of the kernel's module (null for a Function made otherwise).
    std::shared_ptr<const std::string> source_text() const;
    std::shared_ptr<const detail::ModuleImpl> module_;
    std::shared_ptr<const detail::KernelImpl> kernel_;
    std::shared_ptr<const detail::ModuleLints> module_facts_;  // the source and options it came from
    std::shared_ptr<const detail::LaunchLintFacts> lint_facts_;  // null: none were read
    std::shared_ptr<detail::ModuleResources> resources_;  // the module's, worked out on demand
};

/// A compiled module of CUDA C++ kernels for one device. Construction compiles (or loads from
/// the cache); an identical module already built in this process is shared. Thread-safe.
class Module {
  public:
    /// Throws CompileError with the compiler's log, DeviceUnavailable when no compiler exists.
    Module(std::string_view source, const Device& device = default_device(),
           ModuleOptions options = {});

    /// The kernel named `name` (a name expression for template kernels); throws
    /// KernelNotFound listing the kernels there are.
    Function function(std::string_view name) const;
    /// Every kernel that get_function accepts.
    std::vector<std::string> kernel_names() const;
    const Device& device() const noexcept;
    /// Where the compiled module lives in the disk cache ("" when the cache is bypassed).
    std::string cache_path() const;
    /// True when this module was loaded from the disk cache rather than compiled now.
    bool from_cache() const noexcept;
    /// The bytes of the module's variable `name` (a __constant__ or __device__ variable at
    /// namespace scope) as a uint8 Array on the module's device that keeps the module alive;
    /// copying into it sets what kernels read (PyCUDA's get_global). Throws KernelNotFound
    /// when there is no such variable. Thread-safe.
    Array global(std::string_view name) const;

  private:
    std::shared_ptr<const detail::ModuleImpl> impl_;
    std::shared_ptr<const detail::ModuleLints> lints_;  // each kernel's facts, read once
    std::shared_ptr<detail::ModuleResources> resources_;
};

}  // namespace manycore
