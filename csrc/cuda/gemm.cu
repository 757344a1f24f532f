// The tiled GEMM and the small helper kernels declared in gemm.cuh.
//
// GEMM: 64 x 64 tile of C per 256-thread block, K in steps of 16 staged through shared memory,
// each thread accumulating a 4 x 4 register block (rows ty + 16 i, columns tx + 16 j, so a
// warp's shared-memory reads are broadcasts or 16 consecutive words: no bank conflicts). Global
// loads are coalesced along whichever dimension of A / B is contiguous. When the grid would
// leave the GPU mostly idle (thin outputs, long K: the weight gradients over B*T rows), K is
// split over grid.z; each split writes its own partial product and a second kernel adds them
// in a fixed order into C.
#include <cuda_runtime.h>

#include <algorithm>
#include <mutex>
#include <vector>

#include "cells.hpp"
#include "check.cuh"
#include "gemm.cuh"

namespace fastrnn {
namespace cuda {

namespace {

constexpr int BM = 64, BN = 64, BK = 16, GEMM_THREADS = 256;

template <class T, bool TA, bool TB>
__global__ void __launch_bounds__(GEMM_THREADS)
gemm_kernel(int64_t M, int64_t N, int64_t K, int64_t k_chunk, const T* __restrict__ A, int64_t lda,
            const T* __restrict__ B, int64_t ldb, T* __restrict__ C, int64_t ldc, bool accumulate,
            T* __restrict__ partial) {
  __shared__ T As[BK][BM + 1];
  __shared__ T Bs[BK][BN + 1];
  const int tid = threadIdx.x, tx = tid % 16, ty = tid / 16;
  const int64_t m0 = int64_t(blockIdx.y) * BM, n0 = int64_t(blockIdx.x) * BN;
  const int64_t kb = int64_t(blockIdx.z) * k_chunk, ke = min(K, kb + k_chunk);
  T acc[4][4];
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j) acc[i][j] = T(0);

  for (int64_t k0 = kb; k0 < ke; k0 += BK) {
#pragma unroll
    for (int e = 0; e < (BM * BK) / GEMM_THREADS; ++e) {
      const int idx = tid + e * GEMM_THREADS;
      int m, k;
      if (TA) { k = idx / BM; m = idx % BM; } else { m = idx / BK; k = idx % BK; }
      const int64_t gm = m0 + m, gk = k0 + k;
      T v = T(0);
      if (gm < M && gk < ke) v = TA ? A[gk * lda + gm] : A[gm * lda + gk];
      As[k][m] = v;
    }
#pragma unroll
    for (int e = 0; e < (BN * BK) / GEMM_THREADS; ++e) {
      const int idx = tid + e * GEMM_THREADS;
      int n, k;
      if (TB) { n = idx / BK; k = idx % BK; } else { k = idx / BN; n = idx % BN; }
      const int64_t gn = n0 + n, gk = k0 + k;
      T v = T(0);
      if (gn < N && gk < ke) v = TB ? B[gn * ldb + gk] : B[gk * ldb + gn];
      Bs[k][n] = v;
    }
    __syncthreads();
#pragma unroll
    for (int k = 0; k < BK; ++k) {
      T a[4], b[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) a[i] = As[k][ty + 16 * i];
#pragma unroll
      for (int j = 0; j < 4; ++j) b[j] = Bs[k][tx + 16 * j];
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] += a[i] * b[j];
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int64_t m = m0 + ty + 16 * i;
    if (m >= M) continue;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int64_t n = n0 + tx + 16 * j;
      if (n >= N) continue;
      if (partial) partial[(int64_t(blockIdx.z) * M + m) * N + n] = acc[i][j];
      else C[m * ldc + n] = accumulate ? C[m * ldc + n] + acc[i][j] : acc[i][j];
    }
  }
}

template <class T>
__global__ void splitk_reduce(int64_t M, int64_t N, int splits, const T* __restrict__ partial,
                              T* __restrict__ C, int64_t ldc, bool accumulate) {
  const int64_t total = M * N;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(gridDim.x) * blockDim.x) {
    T s = T(0);
    for (int z = 0; z < splits; ++z) s += partial[z * total + i];
    const int64_t m = i / N, n = i % N;
    C[m * ldc + n] = accumulate ? C[m * ldc + n] + s : s;
  }
}

template <class T>
__global__ void fill_rows_kernel(int64_t rows, int64_t n, const T* __restrict__ src, int64_t src_ld,
                                 bool broadcast, T* __restrict__ out, int64_t ld) {
  const int64_t total = rows * n;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = i / n, j = i % n;
    out[r * ld + j] = src ? src[(broadcast ? 0 : r * src_ld) + j] : T(0);
  }
}

// Column sums in two passes: blocks of 32 columns x 8 row groups; grid.y splits the rows.
template <class T>
__global__ void colsum_partial(int64_t rows, int64_t n, const T* __restrict__ in, int64_t ld,
                               int64_t rows_per_split, T* __restrict__ partial) {
  __shared__ T red[8][33];
  const int64_t j = int64_t(blockIdx.x) * 32 + threadIdx.x;
  const int64_t r0 = int64_t(blockIdx.y) * rows_per_split, r1 = min(rows, r0 + rows_per_split);
  T s = T(0);
  if (j < n)
    for (int64_t r = r0 + threadIdx.y; r < r1; r += 8) s += in[r * ld + j];
  red[threadIdx.y][threadIdx.x] = s;
  __syncthreads();
  if (threadIdx.y == 0 && j < n) {
    T t = T(0);
    for (int y = 0; y < 8; ++y) t += red[y][threadIdx.x];
    partial[int64_t(blockIdx.y) * n + j] = t;
  }
}

template <class T>
__global__ void shifted_kernel(int64_t B, int64_t T_, int64_t H, const T* __restrict__ h0,
                               const T* __restrict__ seq, T* __restrict__ prev) {
  const int64_t total = B * T_ * H;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t j = i % H, t = (i / H) % T_, b = i / (H * T_);
    prev[i] = t > 0 ? seq[i - H] : (h0 ? h0[b * H + j] : T(0));
  }
}

template <class T>
__global__ void nonfinite_kernel(const T* __restrict__ a, int64_t n,
                                 unsigned long long* __restrict__ first) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    if (!isfinite(a[i])) atomicMin(first, static_cast<unsigned long long>(i));
}

unsigned grid_for(int64_t total, int threads = 256) {
  const int64_t blocks = (total + threads - 1) / threads;
  return static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>(blocks, 65535)));
}

}  // namespace

int device_count(std::string* why) {
  int n = 0;
  const cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) {
    cudaGetLastError();
    if (why) {
      *why = std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err);
      if (err == cudaErrorInsufficientDriver)
        *why = "no NVIDIA driver found, or one older than this build's CUDA " +
               std::to_string(CUDART_VERSION / 1000) + "." + std::to_string(CUDART_VERSION % 1000 / 10) +
               " needs (" + *why + ")";
      else if (err == cudaErrorNoDevice)
        *why = "no CUDA-capable GPU found (" + *why + ")";
    }
    return 0;
  }
  if (n == 0 && why) *why = "no CUDA device found";
  return n;
}

const DeviceInfo& device_info() {
  static std::mutex mu;
  static std::vector<DeviceInfo> cache;
  static std::vector<bool> known;
  int dev = 0;
  FASTRNN_CUDA_CHECK(cudaGetDevice(&dev));
  std::lock_guard<std::mutex> lock(mu);
  if (size_t(dev) >= cache.size()) {
    cache.resize(dev + 1);
    known.resize(dev + 1, false);
  }
  if (!known[dev]) {
    DeviceInfo d{};
    int v = 0;
    FASTRNN_CUDA_CHECK(cudaDeviceGetAttribute(&v, cudaDevAttrMultiProcessorCount, dev));
    d.sms = v;
    FASTRNN_CUDA_CHECK(cudaDeviceGetAttribute(&v, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
    d.smem_optin = size_t(v);
    FASTRNN_CUDA_CHECK(cudaDeviceGetAttribute(&v, cudaDevAttrCooperativeLaunch, dev));
    d.cooperative = v != 0;
    cache[dev] = d;
    known[dev] = true;
  }
  return cache[dev];
}

Scratch::Scratch(cudaStream_t s, size_t bytes) : s_(s) {
  if (bytes) FASTRNN_CUDA_CHECK(cudaMallocAsync(&p_, bytes, s_));
}
Scratch::~Scratch() {
  if (p_) cudaFreeAsync(p_, s_);  // errors here are reported by the next checked call
}

template <class T>
void gemm(cudaStream_t s, bool a_trans, bool b_trans, int64_t M, int64_t N, int64_t K, const T* A,
          int64_t lda, const T* B, int64_t ldb, T* C, int64_t ldc, bool accumulate) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!accumulate) fill_rows_kernel<T><<<grid_for(M * N), 256, 0, s>>>(M, N, nullptr, 0, false, C, ldc);
    if (!accumulate) FASTRNN_CUDA_CHECK_LAUNCH("fill_rows_kernel");
    return;
  }
  const int64_t gm = (M + BM - 1) / BM, gn = (N + BN - 1) / BN;
  if (gm > 65535 || gn > 2147483647)
    throw std::runtime_error("fastrnn CUDA gemm: matrix too large (" + std::to_string(M) + " rows)");
  // Split K when the output grid covers less than about two waves and K is long.
  const int64_t want = 2 * int64_t(device_info().sms);
  int64_t splits = 1;
  if (gm * gn < want && K >= 2 * 256)
    splits = std::min<int64_t>({(want + gm * gn - 1) / (gm * gn), K / 256, 64});
  int64_t k_chunk = (K + splits - 1) / splits;
  k_chunk = (k_chunk + BK - 1) / BK * BK;
  splits = (K + k_chunk - 1) / k_chunk;
  const dim3 grid{unsigned(gn), unsigned(gm), unsigned(splits)};
  Scratch part(s, splits > 1 ? sizeof(T) * size_t(splits * M * N) : 0);
  T* partial = splits > 1 ? part.as<T>() : nullptr;
#define FASTRNN_GEMM_LAUNCH(TA, TB)                                                                \
  gemm_kernel<T, TA, TB><<<grid, GEMM_THREADS, 0, s>>>(M, N, K, k_chunk, A, lda, B, ldb, C, ldc, \
                                                       accumulate, partial)
  if (a_trans && b_trans) FASTRNN_GEMM_LAUNCH(true, true);
  else if (a_trans) FASTRNN_GEMM_LAUNCH(true, false);
  else if (b_trans) FASTRNN_GEMM_LAUNCH(false, true);
  else FASTRNN_GEMM_LAUNCH(false, false);
#undef FASTRNN_GEMM_LAUNCH
  FASTRNN_CUDA_CHECK_LAUNCH("gemm_kernel");
  if (splits > 1) {
    splitk_reduce<T><<<grid_for(M * N), 256, 0, s>>>(M, N, int(splits), partial, C, ldc, accumulate);
    FASTRNN_CUDA_CHECK_LAUNCH("splitk_reduce");
  }
}

template <class T>
void broadcast_rows(cudaStream_t s, int64_t rows, int64_t n, const T* bias, T* out, int64_t ld) {
  if (rows <= 0 || n <= 0) return;
  fill_rows_kernel<T><<<grid_for(rows * n), 256, 0, s>>>(rows, n, bias, 0, true, out, ld);
  FASTRNN_CUDA_CHECK_LAUNCH("fill_rows_kernel");
}

template <class T>
void copy_rows(cudaStream_t s, int64_t rows, int64_t n, const T* src, int64_t src_ld, T* dst) {
  if (rows <= 0 || n <= 0) return;
  fill_rows_kernel<T><<<grid_for(rows * n), 256, 0, s>>>(rows, n, src, src_ld, false, dst, n);
  FASTRNN_CUDA_CHECK_LAUNCH("fill_rows_kernel");
}

template <class T>
void column_sums(cudaStream_t s, int64_t rows, int64_t n, const T* in, int64_t ld, T* out) {
  if (n <= 0) return;
  if (rows <= 0) {
    broadcast_rows<T>(s, 1, n, nullptr, out, n);
    return;
  }
  const int64_t col_blocks = (n + 31) / 32;
  const int64_t want = 4 * int64_t(device_info().sms);
  int64_t splits = std::max<int64_t>(1, std::min<int64_t>({(want + col_blocks - 1) / col_blocks,
                                                           (rows + 255) / 256, 1024}));
  const int64_t per = (rows + splits - 1) / splits;
  splits = (rows + per - 1) / per;
  Scratch part(s, sizeof(T) * size_t(splits * n));
  colsum_partial<T><<<dim3(unsigned(col_blocks), unsigned(splits)), dim3(32, 8), 0, s>>>(
      rows, n, in, ld, per, part.as<T>());
  FASTRNN_CUDA_CHECK_LAUNCH("colsum_partial");
  splitk_reduce<T><<<grid_for(n), 256, 0, s>>>(1, n, int(splits), part.as<T>(), out, n, false);
  FASTRNN_CUDA_CHECK_LAUNCH("splitk_reduce");
}

template <class T>
void shifted_states(cudaStream_t s, int64_t B, int64_t T_, int64_t H, const T* h0, const T* seq,
                    T* prev) {
  if (B * T_ * H <= 0) return;
  shifted_kernel<T><<<grid_for(B * T_ * H), 256, 0, s>>>(B, T_, H, h0, seq, prev);
  FASTRNN_CUDA_CHECK_LAUNCH("shifted_kernel");
}

template <class T>
int64_t first_nonfinite(cudaStream_t s, const T* a, int64_t n) {
  if (n <= 0) return -1;
  Scratch flag(s, sizeof(unsigned long long));
  FASTRNN_CUDA_CHECK(cudaMemsetAsync(flag.as<void>(), 0xff, sizeof(unsigned long long), s));
  nonfinite_kernel<T><<<grid_for(n), 256, 0, s>>>(a, n, flag.as<unsigned long long>());
  FASTRNN_CUDA_CHECK_LAUNCH("nonfinite_kernel");
  unsigned long long host = 0;
  FASTRNN_CUDA_CHECK(cudaMemcpyAsync(&host, flag.as<void>(), sizeof host, cudaMemcpyDeviceToHost, s));
  FASTRNN_CUDA_CHECK(cudaStreamSynchronize(s));
  return host == ~0ull ? -1 : int64_t(host);
}

#define FASTRNN_INSTANTIATE(T)                                                                  \
  template void gemm<T>(cudaStream_t, bool, bool, int64_t, int64_t, int64_t, const T*, int64_t, \
                        const T*, int64_t, T*, int64_t, bool);                                  \
  template void broadcast_rows<T>(cudaStream_t, int64_t, int64_t, const T*, T*, int64_t);      \
  template void copy_rows<T>(cudaStream_t, int64_t, int64_t, const T*, int64_t, T*);           \
  template void column_sums<T>(cudaStream_t, int64_t, int64_t, const T*, int64_t, T*);         \
  template void shifted_states<T>(cudaStream_t, int64_t, int64_t, int64_t, const T*, const T*, \
                                  T*);                                                          \
  template int64_t first_nonfinite<T>(cudaStream_t, const T*, int64_t);
FASTRNN_INSTANTIATE(float)
FASTRNN_INSTANTIATE(double)

}  // namespace cuda
}  // namespace fastrnn
