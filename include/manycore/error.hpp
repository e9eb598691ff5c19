// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The exception hierarchy of manycore; each type maps to one Python exception (docs/errors.md).
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

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

/// A kernel failed while running (device-side assert, __trap, barrier deadlock).
class KernelFault : public Error {
  public:
    KernelFault(const std::string& message, std::string kernel)
        : Error(message), kernel_(std::move(kernel)) {}
    const std::string& kernel() const noexcept { return kernel_; }

  private:
    std::string kernel_;
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
