// The persistent recurrence: one kernel launch runs every time step of a cell's forward (or
// backward) pass, with the recurrent weights held in shared memory for the whole sequence.
//
// Decomposition. The batch is cut into slices of `bs` rows and the hidden units into splits of
// `hs` units; block (split, slice) owns units [j0, j0 + hs) of rows [row0, row0 + bs). Because a
// block owns a unit *with all its gates*, the gate pre-activations of (row, unit) end in one
// thread, so the pointwise cell update is fused into the same thread, and per-unit state (the
// LSTM's c in the forward pass, dc and dh in the backward pass) lives in registers for the whole
// sequence. Forward, a block keeps the columns U[:, g*H + j] of its units (H x G_cells*hs);
// backward it keeps the rows U[j, :] of its units (it computes dh_{t-1}[j] = dZ_t . U[j, :]).
// Both are H*G*hs elements: for H = 128, fp32 LSTM, hs = 32: 64 KiB, four blocks per slice.
//
// Synchronisation. Step t needs the whole h_{t-1} (or dZ_{t+1}) of a slice, produced by all
// splits of that slice. Blocks of one slice meet at a barrier in global memory (a counter per
// slice: each block adds one and waits for splits * (barriers so far)); blocks of different
// slices never wait for each other. A spinning block only makes progress if its partners are
// resident, so every launch is a cooperative launch (cudaLaunchCooperativeKernel fails cleanly
// instead of hanging when the grid does not fit) and the host cuts the batch into as many
// launches as needed, each of at most (resident blocks / splits) slices. Data written before a
// barrier is read after it with ld.global.cg (L2, not the incoherent L1).
//
// Why not one block per slice holding all of U: U of an fp32 LSTM at H = 128 is 256 KiB, more
// than an SM's shared memory; splitting units over blocks also puts more SMs on small batches,
// which is the latency-bound regime fastrnn is for. Why not a per-step GEMM + pointwise kernel
// for large H: when U does not fit in shared memory the same kernel reads its slice of U through
// L1/L2 (`USMEM = false`) and keeps every other property (one launch, fused update, no dZ
// round-trip through a separate kernel); one code path less to get right.
//
// Thread layout: kThreads threads = hs units x R row groups; a thread owns unit j0 + (tid % hs)
// and rows row0 + rg + R*q for q < kRows. Each k of the dot products loads the unit's gate
// weights once and uses them for kRows rows (register blocking against shared-memory bandwidth).
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "check.cuh"
#include "gemm.cuh"

namespace fastrnn {
namespace cuda {
namespace rec {

constexpr int kThreads = 128;
constexpr int kRows = 2;

// Fields every persistent kernel's argument struct starts with (filled in by run()).
struct Base {
  int64_t B, steps, H;  // batch, time steps, hidden units
  int hs, R, bs;
  int64_t slice0;
  unsigned* counters;
};

struct Ctx {
  int tid, jl, rg;
  int64_t j, row0;
  bool jv;
  __device__ int64_t row(int q, int R) const { return row0 + rg + int64_t(R) * q; }
};

__device__ __forceinline__ Ctx make_ctx(const Base& a) {
  Ctx c;
  c.tid = threadIdx.x;
  c.jl = c.tid % a.hs;
  c.rg = c.tid / a.hs;
  c.j = int64_t(blockIdx.x) * a.hs + c.jl;
  c.jv = c.j < a.H;
  c.row0 = (a.slice0 + blockIdx.y) * int64_t(a.bs);
  return c;
}

// Barrier of the blocks sharing blockIdx.y (the same batch slice). `n` counts barriers so far.
__device__ __forceinline__ void group_barrier(const Base& a, unsigned& n) {
  __syncthreads();
  if (threadIdx.x == 0) {
    ++n;
    volatile unsigned* ctr = a.counters + blockIdx.y;
    const unsigned target = n * gridDim.x;
    __threadfence();  // publish this block's writes (cumulative over the __syncthreads above)
    atomicAdd(a.counters + blockIdx.y, 1u);
    while (*ctr < target) __nanosleep(20);
    __threadfence();
  }
  __syncthreads();
}

// sh[rl * width + k] = src[(row0 + rl) * src_ld + k] for rl < bs (zeros past B or when src null).
template <class T>
__device__ __forceinline__ void load_rows(const Base& a, const Ctx& c, T* sh, const T* src,
                                          int64_t src_ld, int64_t width) {
  const int64_t n = int64_t(a.bs) * width;
  for (int64_t idx = c.tid; idx < n; idx += kThreads) {
    const int64_t rl = idx / width, k = idx % width, r = c.row0 + rl;
    sh[idx] = (src && r < a.B) ? __ldcg(src + r * src_ld + k) : T(0);
  }
}

// Forward layout: Ush[(k * Gc + g) * hs + l] = U[k, g*H + j0 + l] (zeros past H).
template <class T>
__device__ __forceinline__ void load_u_cols(const Base& a, T* Ush, const T* U, int Gc) {
  const int64_t H = a.H, G = Gc * H, j0 = int64_t(blockIdx.x) * a.hs;
  const int64_t n = H * Gc * a.hs;
  for (int64_t idx = threadIdx.x; idx < n; idx += kThreads) {
    const int64_t l = idx % a.hs, g = (idx / a.hs) % Gc, k = idx / (int64_t(a.hs) * Gc);
    Ush[idx] = (j0 + l < H) ? U[k * G + g * H + j0 + l] : T(0);
  }
}

// Backward layout: UTsh[c * hs + l] = U[j0 + l, c], c < G (zeros past H).
template <class T>
__device__ __forceinline__ void load_u_rows(const Base& a, T* UTsh, const T* U, int64_t G) {
  const int64_t j0 = int64_t(blockIdx.x) * a.hs, n = G * a.hs;
  for (int64_t idx = threadIdx.x; idx < n; idx += kThreads) {
    const int64_t l = idx % a.hs, cc = idx / a.hs;
    UTsh[idx] = (j0 + l < a.H) ? U[(j0 + l) * G + cc] : T(0);
  }
}

// acc[q][g] += sum_k xsh[row q, k] * U[k, (g0 + g)*H + j]  (forward gate pre-activations).
template <class T, int NG, bool USMEM>
__device__ __forceinline__ void dot_cols(const Base& a, const Ctx& c, T (&acc)[kRows][NG], int g0,
                                         int Gc, const T* Ush, const T* U, const T* xsh) {
  const int64_t H = a.H, G = Gc * H;
#pragma unroll 4
  for (int64_t k = 0; k < H; ++k) {
    T u[NG];
#pragma unroll
    for (int g = 0; g < NG; ++g) {
      if (USMEM) u[g] = Ush[(k * Gc + g0 + g) * a.hs + c.jl];
      else u[g] = c.jv ? __ldg(U + k * G + (g0 + g) * H + c.j) : T(0);
    }
#pragma unroll
    for (int q = 0; q < kRows; ++q) {
      const T hv = xsh[(c.rg + a.R * q) * H + k];
#pragma unroll
      for (int g = 0; g < NG; ++g) acc[q][g] += hv * u[g];
    }
  }
}

// acc[q] += sum_{c0 <= cc < c1} dsh[row q, cc] * U[j, cc]  (backward: dZ_t U^T, own unit j).
template <class T, bool USMEM>
__device__ __forceinline__ void dot_rows(const Base& a, const Ctx& c, T (&acc)[kRows], int64_t c0,
                                         int64_t c1, int64_t G, const T* UTsh, const T* U,
                                         const T* dsh) {
#pragma unroll 4
  for (int64_t cc = c0; cc < c1; ++cc) {
    const T u = USMEM ? UTsh[cc * a.hs + c.jl] : (c.jv ? __ldg(U + c.j * G + cc) : T(0));
#pragma unroll
    for (int q = 0; q < kRows; ++q) acc[q] += dsh[(c.rg + a.R * q) * G + cc] * u;
  }
}

// Plans and runs a persistent kernel over the whole batch. `weight_elems_per_unit` is the
// shared memory (in elements) the U slice takes per owned unit (H * G_cells), `row_elems` the
// per-row buffers. Fills the Base fields of `args` and launches as many cooperative launches
// as the batch needs.
template <class T, class Args>
void run(cudaStream_t s, void (*k_smem)(Args), void (*k_glob)(Args), Args args,
         int64_t weight_elems_per_unit, int64_t row_elems) {
  const int64_t B = args.B, H = args.H;
  if (B <= 0) return;
  const DeviceInfo& d = device_info();
  if (!d.cooperative)
    throw std::runtime_error("fastrnn CUDA: this GPU does not support cooperative launches");
  const int hs0 = H <= 8 ? 8 : (H <= 16 ? 16 : 32);
  void (*kernel)(Args) = nullptr;
  int hs = 0, cap = 0;
  size_t smem = 0;
  for (int mode = 0; mode < 2 && !kernel; ++mode) {
    const bool usmem = mode == 0;
    for (int h = hs0; h >= (usmem ? 8 : hs0); h /= 2) {
      const int R = kThreads / h, bs = R * kRows;
      const size_t bytes =
          sizeof(T) * size_t((usmem ? weight_elems_per_unit * h : 0) + row_elems * bs);
      if (bytes > d.smem_optin) continue;
      void (*k)(Args) = usmem ? k_smem : k_glob;
      FASTRNN_CUDA_CHECK(cudaFuncSetAttribute(reinterpret_cast<const void*>(k),
                                              cudaFuncAttributeMaxDynamicSharedMemorySize,
                                              int(bytes)));
      int per_sm = 0;
      FASTRNN_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, k, kThreads, bytes));
      const int c = per_sm * d.sms;
      if ((H + h - 1) / h > c) continue;
      kernel = k, hs = h, cap = c, smem = bytes;
      break;
    }
  }
  if (!kernel)
    throw std::runtime_error("fastrnn CUDA: hidden size H = " + std::to_string(H) +
                             " is too large for the persistent recurrence on this GPU");
  args.hs = hs;
  args.R = kThreads / hs;
  args.bs = args.R * kRows;
  const int64_t nsplit = (H + hs - 1) / hs;
  const int64_t nslices = (B + args.bs - 1) / args.bs;
  const int64_t per_launch = std::max<int64_t>(1, std::min<int64_t>(nslices, std::min<int64_t>(cap / nsplit, 65535)));
  Scratch counters(s, sizeof(unsigned) * size_t(per_launch));
  args.counters = counters.as<unsigned>();
  for (int64_t s0 = 0; s0 < nslices; s0 += per_launch) {
    const int64_t n = std::min(per_launch, nslices - s0);
    args.slice0 = s0;
    FASTRNN_CUDA_CHECK(cudaMemsetAsync(args.counters, 0, sizeof(unsigned) * size_t(n), s));
    void* params[] = {&args};
    FASTRNN_CUDA_CHECK(cudaLaunchCooperativeKernel(reinterpret_cast<const void*>(kernel),
                                                   dim3(unsigned(nsplit), unsigned(n)),
                                                   dim3(kThreads), params, smem, s));
  }
}

}  // namespace rec
}  // namespace cuda
}  // namespace fastrnn

// Dynamic shared memory of every persistent kernel (aligned for double).
#define FASTRNN_SMEM(T, name)                                  \
  extern __shared__ __align__(16) unsigned char name##_raw[]; \
  T* name = reinterpret_cast<T*>(name##_raw)
