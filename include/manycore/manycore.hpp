// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// The whole C++ API of manycore in one include.
#pragma once

#include "manycore/arch_limits.hpp"
#include "manycore/array.hpp"
#include "manycore/config.hpp"
#include "manycore/device.hpp"
#include "manycore/dtype.hpp"
#include "manycore/error.hpp"
#include "manycore/finding.hpp"
#include "manycore/kernel_arg.hpp"
#include "manycore/kernel_resources.hpp"
#include "manycore/memory.hpp"
#include "manycore/module.hpp"
#include "manycore/profile.hpp"
#include "manycore/stream.hpp"
