// Dense products and small helpers for the CUDA cell kernels (row-major, explicit leading
// dimensions, device pointers, one stream). Shape glossary: see csrc/include/fastrnn/elman.hpp.
//
// Why our own GEMM and not cuBLAS. The products outside the recurrence are the input projection
// (B*T, I) x (I, G) and the weight gradients (I or H, B*T) x (B*T, G): at the sizes fastrnn is
// for (I <= 32, G <= 1024) they are thin, and the recurrence, not these products, is where the
// time goes (bench/bench_cuda.py measures the split). Taking cuBLAS would make a ~500 MB
// library (headers and libcublas are not part of a minimal CUDA toolkit, and the build machine
// this was written on has none) a build-time and run-time dependency of every GPU install, for
// products a 64x64-tile kernel with split-K does within a small factor of peak FP32. The kernel
// below is the whole GEMM: one template for float and double, transposes as template flags, and
// split-K with a deterministic second pass (no atomics: results do not depend on scheduling).
// What it does not do: tensor cores (TF32). If train-large measurements show these products
// matter, an optional cuBLAS path belongs here, behind this same interface.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace fastrnn {
namespace cuda {

// C[M,N] = (accumulate ? C : 0) + op(A) @ op(B).
//   op(A) is (M, K): A[m*lda + k], or A[k*lda + m] when a_trans.
//   op(B) is (K, N): B[k*ldb + n], or B[n*ldb + k] when b_trans.
// K == 0 leaves C (accumulate) or zeroes it.
template <class T>
void gemm(cudaStream_t s, bool a_trans, bool b_trans, int64_t M, int64_t N, int64_t K, const T* A,
          int64_t lda, const T* B, int64_t ldb, T* C, int64_t ldc, bool accumulate);

// rows x n block with row stride ld: each row = bias (zeros when bias is null).
template <class T>
void broadcast_rows(cudaStream_t s, int64_t rows, int64_t n, const T* bias, T* out, int64_t ld);

// out[j] (=) sum_r in[r * ld + j], j < n.
template <class T>
void column_sums(cudaStream_t s, int64_t rows, int64_t n, const T* in, int64_t ld, T* out);

// prev (B, T, H): prev[b, 0] = h0[b] (zeros when null), prev[b, t] = seq[b, t - 1].
template <class T>
void shifted_states(cudaStream_t s, int64_t B, int64_t T_, int64_t H, const T* h0, const T* seq,
                    T* prev);

// dst (rows, n) = src rows taken with stride src_ld (zeros when src is null).
template <class T>
void copy_rows(cudaStream_t s, int64_t rows, int64_t n, const T* src, int64_t src_ld, T* dst);

// Index of the first non-finite element of a (n) device array, or -1. Synchronises s.
template <class T>
int64_t first_nonfinite(cudaStream_t s, const T* a, int64_t n);

// Device facts used to plan launches (cached per device).
struct DeviceInfo {
  int sms;               // streaming multiprocessors
  size_t smem_optin;     // max dynamic shared memory per block after opt-in
  bool cooperative;      // cudaLaunchCooperativeKernel supported
};
const DeviceInfo& device_info();

// Stream-ordered scratch memory: cudaMallocAsync on construction, cudaFreeAsync on destruction.
class Scratch {
 public:
  Scratch(cudaStream_t s, size_t bytes);
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  template <class T>
  T* as() const { return static_cast<T*>(p_); }

 private:
  cudaStream_t s_;
  void* p_ = nullptr;
};

}  // namespace cuda
}  // namespace fastrnn
