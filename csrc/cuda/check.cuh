// Every CUDA runtime call in fastrnn goes through FASTRNN_CUDA_CHECK, and every kernel launch is
// followed by FASTRNN_CUDA_CHECK_LAUNCH. A failure throws fastrnn::cuda::Error (a
// std::runtime_error), which the binding (csrc/bindings/cuda.cpp) turns into a Python
// RuntimeError naming the call, the file and line, and CUDA's own message. Nothing here aborts
// the process: a missing driver, an out-of-memory or a launch failure is an exception.
#pragma once

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace fastrnn {
namespace cuda {

struct Error : std::runtime_error {
  cudaError_t code;
  Error(cudaError_t c, const std::string& what) : std::runtime_error(what), code(c) {}
};

inline void check(cudaError_t err, const char* call, const char* file, int line) {
  if (err == cudaSuccess) return;
  // Clear the (non-sticky) error so the next call does not report it again.
  cudaGetLastError();
  throw Error(err, std::string("CUDA error in ") + call + " (" + file + ":" + std::to_string(line) +
                       "): " + cudaGetErrorName(err) + ": " + cudaGetErrorString(err));
}

}  // namespace cuda
}  // namespace fastrnn

#define FASTRNN_CUDA_CHECK(call) ::fastrnn::cuda::check((call), #call, __FILE__, __LINE__)
#define FASTRNN_CUDA_CHECK_LAUNCH(name) \
  ::fastrnn::cuda::check(cudaGetLastError(), "launch of " name, __FILE__, __LINE__)
