// Elman (SimpleRNN) forward and backpropagation through time on the GPU.
//
// Forward: h_seq = x W + b for all B*T rows (one GEMM), then ONE persistent launch
// (recurrence.cuh) adds h_{t-1} U and applies the activation in place, step after step, with
// the block's columns of U in shared memory. Backward: ONE persistent launch computes
// dA_t = (dh_seq_t + dh_next) * act'(h_t) and dh_next = dA_t U^T; then dx, dW, dU and db are
// one product each over all steps. "=" semantics on every output.
#include "cells.hpp"
#include "recurrence.cuh"

namespace fastrnn {
namespace cuda {

namespace {

template <class T>
struct FwdArgs : rec::Base {
  Activation act;
  const T *U, *h0;
  T* h_seq;
};

template <class T, bool USMEM>
__global__ void __launch_bounds__(rec::kThreads) elman_fwd_kernel(FwdArgs<T> a) {
  FASTRNN_SMEM(T, sh);
  const int64_t H = a.H, T_ = a.steps;
  T* Ush = sh;
  T* hsh = sh + (USMEM ? H * a.hs : 0);
  const rec::Ctx c = rec::make_ctx(a);
  if (USMEM) rec::load_u_cols(a, Ush, a.U, 1);
  unsigned nbar = 0;
  for (int64_t t = 0; t < T_; ++t) {
    rec::load_rows(a, c, hsh, t > 0 ? a.h_seq + (t - 1) * H : a.h0, t > 0 ? T_ * H : H, H);
    __syncthreads();
    T acc[rec::kRows][1] = {};
    rec::dot_cols<T, 1, USMEM>(a, c, acc, 0, 1, Ush, a.U, hsh);
    if (c.jv) {
#pragma unroll
      for (int q = 0; q < rec::kRows; ++q) {
        const int64_t r = c.row(q, a.R);
        if (r >= a.B) continue;
        T* h = a.h_seq + (r * T_ + t) * H + c.j;
        *h = activate(a.act, *h + acc[q][0]);
      }
    }
    if (t + 1 < T_) rec::group_barrier(a, nbar);
  }
}

template <class T>
struct BwdArgs : rec::Base {
  Activation act;
  const T *U, *h_seq, *dh_seq, *dh_last;
  T *dA, *dh0;
};

template <class T, bool USMEM>
__global__ void __launch_bounds__(rec::kThreads) elman_bwd_kernel(BwdArgs<T> a) {
  FASTRNN_SMEM(T, sh);
  const int64_t H = a.H, T_ = a.steps;
  T* UTsh = sh;
  T* dsh = sh + (USMEM ? H * a.hs : 0);
  const rec::Ctx c = rec::make_ctx(a);
  if (USMEM) rec::load_u_rows(a, UTsh, a.U, H);
  T dhn[rec::kRows];
#pragma unroll
  for (int q = 0; q < rec::kRows; ++q) {
    const int64_t r = c.row(q, a.R);
    dhn[q] = (c.jv && r < a.B && a.dh_last) ? a.dh_last[r * H + c.j] : T(0);
  }
  unsigned nbar = 0;
  for (int64_t t = T_ - 1; t >= 0; --t) {
    if (c.jv) {
#pragma unroll
      for (int q = 0; q < rec::kRows; ++q) {
        const int64_t r = c.row(q, a.R);
        if (r >= a.B) continue;
        const int64_t o = (r * T_ + t) * H + c.j;
        const T dh = (a.dh_seq ? a.dh_seq[o] : T(0)) + dhn[q];
        a.dA[o] = dh * activation_grad_from_output(a.act, a.h_seq[o]);
      }
    }
    rec::group_barrier(a, nbar);
    rec::load_rows(a, c, dsh, a.dA + t * H, T_ * H, H);
    __syncthreads();
    T acc[rec::kRows] = {};
    rec::dot_rows<T, USMEM>(a, c, acc, 0, H, H, UTsh, a.U, dsh);
#pragma unroll
    for (int q = 0; q < rec::kRows; ++q) dhn[q] = acc[q];
  }
  if (c.jv) {
#pragma unroll
    for (int q = 0; q < rec::kRows; ++q) {
      const int64_t r = c.row(q, a.R);
      if (r < a.B) a.dh0[r * H + c.j] = dhn[q];
    }
  }
}

}  // namespace

template <class T>
void elman_forward(cudaStream_t s, int64_t B, int64_t T_, int64_t I, int64_t H, Activation act,
                   const T* x, const T* W, const T* U, const T* b, const T* h0, T* h_seq) {
  if (B == 0 || T_ == 0) return;
  broadcast_rows<T>(s, B * T_, H, b, h_seq, H);
  gemm<T>(s, false, false, B * T_, H, I, x, I, W, H, h_seq, H, true);
  FwdArgs<T> a{};
  a.B = B, a.steps = T_, a.H = H, a.act = act, a.U = U, a.h0 = h0, a.h_seq = h_seq;
  rec::run<T>(s, elman_fwd_kernel<T, true>, elman_fwd_kernel<T, false>, a, H, H);
}

template <class T>
void elman_backward(cudaStream_t s, int64_t B, int64_t T_, int64_t I, int64_t H, Activation act,
                    const T* x, const T* W, const T* U, const T* h0, const T* h_seq,
                    const T* dh_seq, const T* dh_last, T* dx, T* dW, T* dU, T* db, T* dh0) {
  const int64_t rows = B * T_;
  Scratch dA(s, sizeof(T) * size_t(rows * H)), prev(s, sizeof(T) * size_t(rows * H));
  BwdArgs<T> a{};
  a.B = B, a.steps = T_, a.H = H, a.act = act, a.U = U, a.h_seq = h_seq, a.dh_seq = dh_seq;
  a.dh_last = dh_last, a.dA = dA.as<T>(), a.dh0 = dh0;
  rec::run<T>(s, elman_bwd_kernel<T, true>, elman_bwd_kernel<T, false>, a, H, H);
  shifted_states<T>(s, B, T_, H, h0, h_seq, prev.as<T>());
  gemm<T>(s, false, true, rows, I, H, dA.as<T>(), H, W, H, dx, I, false);
  gemm<T>(s, true, false, I, H, rows, x, I, dA.as<T>(), H, dW, H, false);
  gemm<T>(s, true, false, H, H, rows, prev.as<T>(), H, dA.as<T>(), H, dU, H, false);
  column_sums<T>(s, rows, H, dA.as<T>(), H, db);
}

#define FASTRNN_INSTANTIATE(T)                                                                   \
  template void elman_forward<T>(cudaStream_t, int64_t, int64_t, int64_t, int64_t, Activation,   \
                                 const T*, const T*, const T*, const T*, const T*, T*);          \
  template void elman_backward<T>(cudaStream_t, int64_t, int64_t, int64_t, int64_t, Activation,  \
                                  const T*, const T*, const T*, const T*, const T*, const T*,    \
                                  const T*, T*, T*, T*, T*, T*);
FASTRNN_INSTANTIATE(float)
FASTRNN_INSTANTIATE(double)

}  // namespace cuda
}  // namespace fastrnn
