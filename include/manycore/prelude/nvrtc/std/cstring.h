// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// <cstring> for kernels compiled by NVRTC (registered under that name): std::memcpy, std::memset.
#pragma once
#include <stddef.h>
#include <string.h>
namespace std {
using ::memcpy;
using ::memset;
using ::size_t;
}  // namespace std
