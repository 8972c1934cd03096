// RUN: vitc-opt %s -verify-diagnostics --pass-pipeline='builtin.module(func.func(vitc-gpu-map-parallel-loops{block-size=100}))'

// expected-error @below {{block-size must be a positive multiple of 32, got 100}}
func.func @bad_block_size() {
  return
}
