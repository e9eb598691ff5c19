// SPDX-License-Identifier: BSD-3-Clause
// SPDX-FileCopyrightText: manycore developers
// <initializer_list> for kernels compiled by NVRTC: std::initializer_list is built into NVRTC.
#pragma once
