#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# fuzz.sh - every libFuzzer target (test/fuzz/) for 20 seconds on its corpus, built with clang.
# Exit 77 when clang or libFuzzer is missing. Longer runs and corpus updates: test/fuzz/run.sh -h.
cd "$(dirname "$0")/../.." || exit 1
exec sh test/fuzz/run.sh -t "${UO_FUZZ_SECONDS:-20}"
