// LSTM forward and backpropagation through time on the GPU (Keras gate order i, f, c, o).
//
// Forward: gates = x W + b for all B*T rows is one GEMM; then ONE persistent launch
// (recurrence.cuh) runs the sequence: per step, h_{t-1} U for the block's units from shared
// memory, the gate functions, c and h, all in the thread that owns (row, unit); c stays in a
// register from t = 0 to T-1. The activated gates overwrite their pre-activations (every
// derivative is a function of a gate's output), as on the CPU.
// Backward: ONE persistent launch turns (dh, dc) into the pre-activation gradients dZ_t and
// dh_{t-1} = dZ_t U^T step by step (dc and dh in registers); then dx = dZ W^T, dW = x^T dZ,
// dU = h_prev^T dZ and db = column sums of dZ, each one product over all B*T rows.
// "=" semantics on every output, as the CPU kernels.
#include "cells.hpp"
#include "recurrence.cuh"

namespace fastrnn {
namespace cuda {

namespace {

template <class T>
struct FwdArgs : rec::Base {
  Activation act;
  const T *U, *h0, *c0;
  T *gates, *h_seq, *c_seq;
};

template <class T, bool USMEM>
__global__ void __launch_bounds__(rec::kThreads) lstm_fwd_kernel(FwdArgs<T> a) {
  FASTRNN_SMEM(T, sh);
  const int64_t H = a.H, G = 4 * H, T_ = a.steps;
  T* Ush = sh;
  T* hsh = sh + (USMEM ? H * 4 * a.hs : 0);
  const rec::Ctx c = rec::make_ctx(a);
  if (USMEM) rec::load_u_cols(a, Ush, a.U, 4);
  T cst[rec::kRows];
#pragma unroll
  for (int q = 0; q < rec::kRows; ++q) {
    const int64_t r = c.row(q, a.R);
    cst[q] = (c.jv && r < a.B && a.c0) ? a.c0[r * H + c.j] : T(0);
  }
  unsigned nbar = 0;
  for (int64_t t = 0; t < T_; ++t) {
    rec::load_rows(a, c, hsh, t > 0 ? a.h_seq + (t - 1) * H : a.h0, t > 0 ? T_ * H : H, H);
    __syncthreads();
    T acc[rec::kRows][4] = {};
    rec::dot_cols<T, 4, USMEM>(a, c, acc, 0, 4, Ush, a.U, hsh);
    if (c.jv) {
#pragma unroll
      for (int q = 0; q < rec::kRows; ++q) {
        const int64_t r = c.row(q, a.R);
        if (r >= a.B) continue;
        T* z = a.gates + (r * T_ + t) * G;
        const T i = sigmoid(z[c.j] + acc[q][0]);
        const T f = sigmoid(z[H + c.j] + acc[q][1]);
        const T g = activate(a.act, z[2 * H + c.j] + acc[q][2]);
        const T o = sigmoid(z[3 * H + c.j] + acc[q][3]);
        z[c.j] = i, z[H + c.j] = f, z[2 * H + c.j] = g, z[3 * H + c.j] = o;
        const T cv = f * cst[q] + i * g;
        cst[q] = cv;
        a.c_seq[(r * T_ + t) * H + c.j] = cv;
        a.h_seq[(r * T_ + t) * H + c.j] = o * activate(a.act, cv);
      }
    }
    if (t + 1 < T_) rec::group_barrier(a, nbar);
  }
}

template <class T>
struct BwdArgs : rec::Base {
  Activation act;
  const T *U, *c0, *c_seq, *gates, *dh_seq, *dh_last, *dc_last;
  T *dZ, *dh0, *dc0;
};

template <class T, bool USMEM>
__global__ void __launch_bounds__(rec::kThreads) lstm_bwd_kernel(BwdArgs<T> a) {
  FASTRNN_SMEM(T, sh);
  const int64_t H = a.H, G = 4 * H, T_ = a.steps;
  T* UTsh = sh;
  T* dsh = sh + (USMEM ? G * a.hs : 0);
  const rec::Ctx c = rec::make_ctx(a);
  if (USMEM) rec::load_u_rows(a, UTsh, a.U, G);
  T dhn[rec::kRows], dc[rec::kRows];  // dL/dh_t from later steps, dL/dc_t
#pragma unroll
  for (int q = 0; q < rec::kRows; ++q) {
    const int64_t r = c.row(q, a.R);
    const bool v = c.jv && r < a.B;
    dhn[q] = (v && a.dh_last) ? a.dh_last[r * H + c.j] : T(0);
    dc[q] = (v && a.dc_last) ? a.dc_last[r * H + c.j] : T(0);
  }
  unsigned nbar = 0;
  for (int64_t t = T_ - 1; t >= 0; --t) {
    if (c.jv) {
#pragma unroll
      for (int q = 0; q < rec::kRows; ++q) {
        const int64_t r = c.row(q, a.R);
        if (r >= a.B) continue;
        const int64_t o = (r * T_ + t) * H + c.j;
        const T* z = a.gates + (r * T_ + t) * G;
        T* dz = a.dZ + (r * T_ + t) * G;
        const T i = z[c.j], f = z[H + c.j], g = z[2 * H + c.j], og = z[3 * H + c.j];
        const T act_c = activate(a.act, a.c_seq[o]);
        const T c_prev = t > 0 ? a.c_seq[o - H] : (a.c0 ? a.c0[r * H + c.j] : T(0));
        const T dh = (a.dh_seq ? a.dh_seq[o] : T(0)) + dhn[q];
        const T dcv = dc[q] + dh * og * activation_grad_from_output(a.act, act_c);
        dz[c.j] = dcv * g * i * (T(1) - i);
        dz[H + c.j] = dcv * c_prev * f * (T(1) - f);
        dz[2 * H + c.j] = dcv * i * activation_grad_from_output(a.act, g);
        dz[3 * H + c.j] = dh * act_c * og * (T(1) - og);
        dc[q] = dcv * f;
      }
    }
    rec::group_barrier(a, nbar);
    rec::load_rows(a, c, dsh, a.dZ + t * G, T_ * G, G);
    __syncthreads();
    T acc[rec::kRows] = {};
    rec::dot_rows<T, USMEM>(a, c, acc, 0, G, G, UTsh, a.U, dsh);
#pragma unroll
    for (int q = 0; q < rec::kRows; ++q) dhn[q] = acc[q];
  }
  if (c.jv) {
#pragma unroll
    for (int q = 0; q < rec::kRows; ++q) {
      const int64_t r = c.row(q, a.R);
      if (r >= a.B) continue;
      a.dh0[r * H + c.j] = dhn[q];
      a.dc0[r * H + c.j] = dc[q];
    }
  }
}

}  // namespace

template <class T>
void lstm_forward(cudaStream_t s, int64_t B, int64_t T_, int64_t I, int64_t H, Activation act,
                  const T* x, const T* W, const T* U, const T* b, const T* h0, const T* c0,
                  T* h_seq, T* c_seq, T* gates) {
  const int64_t G = 4 * H;
  if (B == 0 || T_ == 0) return;
  broadcast_rows<T>(s, B * T_, G, b, gates, G);
  gemm<T>(s, false, false, B * T_, G, I, x, I, W, G, gates, G, true);
  FwdArgs<T> a{};
  a.B = B, a.steps = T_, a.H = H, a.act = act, a.U = U, a.h0 = h0, a.c0 = c0;
  a.gates = gates, a.h_seq = h_seq, a.c_seq = c_seq;
  rec::run<T>(s, lstm_fwd_kernel<T, true>, lstm_fwd_kernel<T, false>, a, 4 * H, H);
}

template <class T>
void lstm_backward(cudaStream_t s, int64_t B, int64_t T_, int64_t I, int64_t H, Activation act,
                   const T* x, const T* W, const T* U, const T* h0, const T* c0, const T* h_seq,
                   const T* c_seq, const T* gates, const T* dh_seq, const T* dh_last,
                   const T* dc_last, T* dx, T* dW, T* dU, T* db, T* dh0, T* dc0) {
  const int64_t G = 4 * H, rows = B * T_;
  Scratch dZ(s, sizeof(T) * size_t(rows * G)), prev(s, sizeof(T) * size_t(rows * H));
  BwdArgs<T> a{};
  a.B = B, a.steps = T_, a.H = H, a.act = act, a.U = U, a.c0 = c0, a.c_seq = c_seq, a.gates = gates;
  a.dh_seq = dh_seq, a.dh_last = dh_last, a.dc_last = dc_last;
  a.dZ = dZ.as<T>(), a.dh0 = dh0, a.dc0 = dc0;
  rec::run<T>(s, lstm_bwd_kernel<T, true>, lstm_bwd_kernel<T, false>, a, G, G);
  shifted_states<T>(s, B, T_, H, h0, h_seq, prev.as<T>());
  gemm<T>(s, false, true, rows, I, G, dZ.as<T>(), G, W, G, dx, I, false);
  gemm<T>(s, true, false, I, G, rows, x, I, dZ.as<T>(), G, dW, G, false);
  gemm<T>(s, true, false, H, G, rows, prev.as<T>(), H, dZ.as<T>(), G, dU, G, false);
  column_sums<T>(s, rows, G, dZ.as<T>(), G, db);
}

#define FASTRNN_INSTANTIATE(T)                                                                   \
  template void lstm_forward<T>(cudaStream_t, int64_t, int64_t, int64_t, int64_t, Activation,    \
                                const T*, const T*, const T*, const T*, const T*, const T*, T*,  \
                                T*, T*);                                                         \
  template void lstm_backward<T>(cudaStream_t, int64_t, int64_t, int64_t, int64_t, Activation,   \
                                 const T*, const T*, const T*, const T*, const T*, const T*,     \
                                 const T*, const T*, const T*, const T*, const T*, T*, T*, T*,   \
                                 T*, T*, T*);
FASTRNN_INSTANTIATE(float)
FASTRNN_INSTANTIATE(double)

}  // namespace cuda
}  // namespace fastrnn
