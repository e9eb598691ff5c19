// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The communicator wrapper, error checking and the DType to MPI_Datatype map.
#include "mpi/comm.hpp"

#if defined(OPEN_MPI) && __has_include(<mpi-ext.h>)
#include <mpi-ext.h>  // MPIX_Query_cuda_support, where Open MPI was built with it
#endif

#include <utility>

#include "manycore/error.hpp"

namespace manycore::mpi {

void check(int rc, const char* call) {
    if (rc == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING] = {};
    int length = 0;
    int error_class = rc;
    MPI_Error_class(rc, &error_class);
    if (MPI_Error_string(rc, text, &length) != MPI_SUCCESS) length = 0;
    throw MpiError(std::string(call) + " failed: " + std::string(text, static_cast<std::size_t>(length)) +
                       " (MPI error class " + std::to_string(error_class) + ")",
                   error_class, std::string(text, static_cast<std::size_t>(length)));
}

MPI_Datatype datatype(DType dtype) {
    switch (dtype) {
        case DType::bool_: return MPI_C_BOOL;
        case DType::int8: return MPI_INT8_T;
        case DType::int16: return MPI_INT16_T;
        case DType::int32: return MPI_INT32_T;
        case DType::int64: return MPI_INT64_T;
        case DType::uint8: return MPI_UINT8_T;
        case DType::uint16: return MPI_UINT16_T;
        case DType::uint32: return MPI_UINT32_T;
        case DType::uint64: return MPI_UINT64_T;
        case DType::float32: return MPI_FLOAT;
        case DType::float64: return MPI_DOUBLE;
        case DType::complex64: return MPI_C_FLOAT_COMPLEX;
        case DType::complex128: return MPI_C_DOUBLE_COMPLEX;
        case DType::float16:  // MPI has no half type: moved as bytes, not reducible
        case DType::record: return MPI_BYTE;
    }
    return MPI_BYTE;
}

int count_of(const Array& a, std::size_t elements) {
    const std::size_t count = datatype(a.dtype()) == MPI_BYTE ? elements * a.itemsize() : elements;
    if (count > static_cast<std::size_t>(INT32_MAX)) {
        throw InvalidArgument("manycore.mpi: " + std::to_string(count) +
                              " elements in one message exceed MPI's int count; split the array");
    }
    return static_cast<int>(count);
}

Op parse_op(const std::string& name) {
    if (name == "sum") return Op::sum;
    if (name == "prod") return Op::prod;
    if (name == "min") return Op::min;
    if (name == "max") return Op::max;
    throw InvalidArgument("reduction op '" + name + "' is not one of 'sum', 'prod', 'min', 'max'");
}

MPI_Op native_op(Op op) {
    switch (op) {
        case Op::sum: return MPI_SUM;
        case Op::prod: return MPI_PROD;
        case Op::min: return MPI_MIN;
        case Op::max: return MPI_MAX;
    }
    return MPI_SUM;
}

bool cuda_aware() {
#if defined(MPIX_CUDA_AWARE_SUPPORT) && MPIX_CUDA_AWARE_SUPPORT
    return MPIX_Query_cuda_support() == 1;
#else
    return false;
#endif
}

Comm Comm::dup(MPI_Comm comm) {
    MPI_Comm copy = MPI_COMM_NULL;
    check(MPI_Comm_dup(comm, &copy), "MPI_Comm_dup");
    return Comm(copy, true);
}

Comm::Comm(Comm&& other) noexcept
    : comm_(std::exchange(other.comm_, MPI_COMM_NULL)), owned_(std::exchange(other.owned_, false)) {}

Comm& Comm::operator=(Comm&& other) noexcept {
    if (this != &other) {
        Comm old(std::move(*this));
        comm_ = std::exchange(other.comm_, MPI_COMM_NULL);
        owned_ = std::exchange(other.owned_, false);
    }
    return *this;
}

Comm::~Comm() {
    if (!owned_ || comm_ == MPI_COMM_NULL) return;
    // After MPI_Finalize (a Comm kept in a global past mpi4py's shutdown) freeing is illegal.
    int finalized = 1;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Comm_free(&comm_);
}

int Comm::rank() const {
    int r = 0;
    check(MPI_Comm_rank(comm_, &r), "MPI_Comm_rank");
    return r;
}

int Comm::size() const {
    int s = 0;
    check(MPI_Comm_size(comm_, &s), "MPI_Comm_size");
    return s;
}

void Comm::barrier() const { check(MPI_Barrier(comm_), "MPI_Barrier"); }

}  // namespace manycore::mpi
