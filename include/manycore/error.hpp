// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The exception hierarchy of manycore; each type maps to one Python exception (docs/errors.md).
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "manycore/finding.hpp"

namespace manycore {

/// Root of every error manycore raises. Messages open with the failing call, then give the
/// values and a remedy.
class Error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// A device or a library it needs is missing (no GPU, no driver, no host compiler).
class DeviceUnavailable : public Error {
  public:
    using Error::Error;
};

/// The kernel source did not compile. Carries the compiler's log (line numbers are the
/// user's), the source as the user gave it and the options used.
class CompileError : public Error {
  public:
    CompileError(const std::string& message, std::string log, std::string source,
                 std::vector<std::string> options)
        : Error(message), log_(std::move(log)), source_(std::move(source)),
          options_(std::move(options)) {}
    const std::string& log() const noexcept { return log_; }
    const std::string& source() const noexcept { return source_; }
    const std::vector<std::string>& options() const noexcept { return options_; }

  private:
    std::string log_;
    std::string source_;
    std::vector<std::string> options_;
};

/// A kernel failed while running (device-side assert, __trap, barrier deadlock, an illegal
/// address on a GPU). `context_lost()` is true when the device cannot be used again in this
/// process (CUDA's sticky errors): the message then says to restart the process.
class KernelFault : public Error {
  public:
    KernelFault(const std::string& message, std::string kernel, bool context_lost = false)
        : Error(message), kernel_(std::move(kernel)), context_lost_(context_lost) {}
    /// A checked launch's findings: the distinct ones kept (at most a cap) and how many
    /// distinct ones there were in all.
    KernelFault(const std::string& message, std::string kernel, std::vector<Finding> findings,
                std::size_t findings_total)
        : Error(message), kernel_(std::move(kernel)), findings_(std::move(findings)),
          findings_total_(findings_total) {}
    const std::string& kernel() const noexcept { return kernel_; }
    bool context_lost() const noexcept { return context_lost_; }
    const std::vector<Finding>& findings() const noexcept { return findings_; }
    std::size_t findings_total() const noexcept { return findings_total_; }

  private:
    std::string kernel_;
    bool context_lost_ = false;
    std::vector<Finding> findings_;
    std::size_t findings_total_ = 0;
};

/// A launch or a compile stopped by Ctrl-C (SIGINT) part-way (Python: KeyboardInterrupt).
class Interrupted : public Error {
  public:
    using Error::Error;
};

/// A CUDA driver call failed for a reason that is neither a kernel fault nor a lack of memory
/// (Python: mc.CudaError, a RuntimeError). Carries the CUresult and its name.
class CudaError : public Error {
  public:
    CudaError(const std::string& message, int code, std::string name)
        : Error(message), code_(code), name_(std::move(name)) {}
    /// The CUresult, e.g. 1 for CUDA_ERROR_INVALID_VALUE.
    int code() const noexcept { return code_; }
    /// "CUDA_ERROR_INVALID_VALUE".
    const std::string& name() const noexcept { return name_; }

  private:
    int code_;
    std::string name_;
};

/// An MPI call failed (Python: mc.MpiError, a RuntimeError). Carries MPI's error class and
/// MPI_Error_string's text; raised only by the MPI room.
class MpiError : public Error {
  public:
    MpiError(const std::string& message, int error_class, std::string error_string)
        : Error(message), error_class_(error_class), error_string_(std::move(error_string)) {}
    /// The MPI error class (MPI_Error_class), e.g. MPI_ERR_TRUNCATE.
    int error_class() const noexcept { return error_class_; }
    /// MPI_Error_string's text for the error.
    const std::string& error_string() const noexcept { return error_string_; }

  private:
    int error_class_;
    std::string error_string_;
};

/// An argument whose type does not fit the kernel parameter (Python: TypeError).
class ArgumentTypeError : public Error {
  public:
    using Error::Error;
};

/// A scalar argument outside the range of the parameter's type (Python: OverflowError).
class ArgumentRangeError : public Error {
  public:
    using Error::Error;
};

/// A value that is of the right type but unusable: a non-contiguous or read-only array where
/// a writable contiguous one is needed, a malformed device name (Python: ValueError).
class InvalidArgument : public Error {
  public:
    using Error::Error;
};

/// A launch configuration outside the device's limits (Python: ValueError).
class InvalidLaunch : public Error {
  public:
    using Error::Error;
};

/// A kernel name the module does not have (Python: LookupError).
class KernelNotFound : public Error {
  public:
    using Error::Error;
};

/// An allocation the device could not satisfy (Python: MemoryError).
class OutOfMemory : public Error {
  public:
    OutOfMemory(const std::string& message, std::size_t requested, std::size_t free_bytes)
        : Error(message), requested_(requested), free_(free_bytes) {}
    std::size_t requested() const noexcept { return requested_; }
    std::size_t free_bytes() const noexcept { return free_; }

  private:
    std::size_t requested_;
    std::size_t free_;
};

}  // namespace manycore
