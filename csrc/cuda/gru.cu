// GRU forward and backpropagation through time on the GPU, both reset_after variants
// (Keras gate order z, r, h). Equations and the split of the backward pass into dX (w.r.t.
// x W + b_in) and dR (w.r.t. h U + b_rec): see csrc/cpu/gru.cpp, which this mirrors.
//
// Forward: gates = x W + b_in for all B*T rows is one GEMM; then ONE persistent launch
// (recurrence.cuh) runs the sequence. reset_after needs one barrier per step (h_{t-1} U for all
// three blocks at once); not reset_after needs two, because the candidate's product
// (r * h_{t-1}) U_h needs r of every unit: phase A computes z, r and r * h_{t-1} (written to
// rec_h), the slice's blocks meet, phase B reads r * h_{t-1} back and finishes the step.
// Backward mirrors it: reset_after one barrier per step (dh_{t-1} = dh z + dR U^T), not
// reset_after two (first d(r h) = dX_h U_h^T, which dX_r needs, then the z and r blocks).
// Then dx, dW, dU, db are one product each over all B*T rows. "=" semantics on every output.
#include "cells.hpp"
#include "recurrence.cuh"

namespace fastrnn {
namespace cuda {

namespace {

template <class T>
struct FwdArgs : rec::Base {
  Activation act;
  bool reset_after;
  const T *U, *b_rec, *h0;
  T *gates, *h_seq, *rec_h;
};

template <class T, bool USMEM>
__global__ void __launch_bounds__(rec::kThreads) gru_fwd_kernel(FwdArgs<T> a) {
  FASTRNN_SMEM(T, sh);
  const int64_t H = a.H, G = 3 * H, T_ = a.steps;
  T* Ush = sh;
  T* hsh = sh + (USMEM ? H * 3 * a.hs : 0);
  T* rhsh = hsh + int64_t(a.bs) * H;  // (r * h_{t-1}) rows; only when !reset_after
  const rec::Ctx c = rec::make_ctx(a);
  if (USMEM) rec::load_u_cols(a, Ush, a.U, 3);
  unsigned nbar = 0;
  for (int64_t t = 0; t < T_; ++t) {
    rec::load_rows(a, c, hsh, t > 0 ? a.h_seq + (t - 1) * H : a.h0, t > 0 ? T_ * H : H, H);
    __syncthreads();
    if (a.reset_after) {
      T acc[rec::kRows][3] = {};
      rec::dot_cols<T, 3, USMEM>(a, c, acc, 0, 3, Ush, a.U, hsh);
      if (c.jv) {
#pragma unroll
        for (int q = 0; q < rec::kRows; ++q) {
          const int64_t r = c.row(q, a.R);
          if (r >= a.B) continue;
          T* X = a.gates + (r * T_ + t) * G;
          const T rz = acc[q][0] + a.b_rec[c.j], rr = acc[q][1] + a.b_rec[H + c.j];
          const T rh = acc[q][2] + a.b_rec[2 * H + c.j];
          const T z = sigmoid(X[c.j] + rz), rg = sigmoid(X[H + c.j] + rr);
          const T hh = activate(a.act, X[2 * H + c.j] + rg * rh);
          X[c.j] = z, X[H + c.j] = rg, X[2 * H + c.j] = hh;
          a.rec_h[(r * T_ + t) * H + c.j] = rh;
          const T hp = hsh[(c.rg + a.R * q) * H + c.j];
          a.h_seq[(r * T_ + t) * H + c.j] = z * hp + (T(1) - z) * hh;
        }
      }
    } else {
      T acc[rec::kRows][2] = {};
      rec::dot_cols<T, 2, USMEM>(a, c, acc, 0, 3, Ush, a.U, hsh);
      T zs[rec::kRows], hps[rec::kRows];
#pragma unroll
      for (int q = 0; q < rec::kRows; ++q) {
        const int64_t r = c.row(q, a.R);
        zs[q] = hps[q] = T(0);
        if (!c.jv || r >= a.B) continue;
        T* X = a.gates + (r * T_ + t) * G;
        const T z = sigmoid(X[c.j] + acc[q][0]), rg = sigmoid(X[H + c.j] + acc[q][1]);
        X[c.j] = z, X[H + c.j] = rg;
        const T hp = hsh[(c.rg + a.R * q) * H + c.j];
        zs[q] = z, hps[q] = hp;
        a.rec_h[(r * T_ + t) * H + c.j] = rg * hp;
      }
      rec::group_barrier(a, nbar);
      rec::load_rows(a, c, rhsh, a.rec_h + t * H, T_ * H, H);
      __syncthreads();
      T acc2[rec::kRows][1] = {};
      rec::dot_cols<T, 1, USMEM>(a, c, acc2, 2, 3, Ush, a.U, rhsh);
      if (c.jv) {
#pragma unroll
        for (int q = 0; q < rec::kRows; ++q) {
          const int64_t r = c.row(q, a.R);
          if (r >= a.B) continue;
          T* X = a.gates + (r * T_ + t) * G;
          const T hh = activate(a.act, X[2 * H + c.j] + acc2[q][0]);
          X[2 * H + c.j] = hh;
          a.h_seq[(r * T_ + t) * H + c.j] = zs[q] * hps[q] + (T(1) - zs[q]) * hh;
        }
      }
    }
    if (t + 1 < T_) rec::group_barrier(a, nbar);
  }
}

template <class T>
struct BwdArgs : rec::Base {
  Activation act;
  bool reset_after;
  const T *U, *h0, *h_seq, *gates, *rec_h, *dh_seq, *dh_last;
  T *dX, *dR, *dh0;  // dR only when reset_after
};

template <class T, bool USMEM>
__global__ void __launch_bounds__(rec::kThreads) gru_bwd_kernel(BwdArgs<T> a) {
  FASTRNN_SMEM(T, sh);
  const int64_t H = a.H, G = 3 * H, T_ = a.steps;
  T* UTsh = sh;
  T* dsh = sh + (USMEM ? G * a.hs : 0);
  const rec::Ctx c = rec::make_ctx(a);
  if (USMEM) rec::load_u_rows(a, UTsh, a.U, G);
  T dhn[rec::kRows];
#pragma unroll
  for (int q = 0; q < rec::kRows; ++q) {
    const int64_t r = c.row(q, a.R);
    dhn[q] = (c.jv && r < a.B && a.dh_last) ? a.dh_last[r * H + c.j] : T(0);
  }
  unsigned nbar = 0;
  for (int64_t t = T_ - 1; t >= 0; --t) {
    T carry[rec::kRows], rgs[rec::kRows], hps[rec::kRows];
#pragma unroll
    for (int q = 0; q < rec::kRows; ++q) {
      const int64_t r = c.row(q, a.R);
      carry[q] = rgs[q] = hps[q] = T(0);
      if (!c.jv || r >= a.B) continue;
      const int64_t o = (r * T_ + t) * H + c.j, zoff = (r * T_ + t) * G;
      const T* zg = a.gates + zoff;
      const T z = zg[c.j], rg = zg[H + c.j], hh = zg[2 * H + c.j];
      const T hp = t > 0 ? a.h_seq[o - H] : (a.h0 ? a.h0[r * H + c.j] : T(0));
      const T dh = (a.dh_seq ? a.dh_seq[o] : T(0)) + dhn[q];
      const T dhh = dh * (T(1) - z) * activation_grad_from_output(a.act, hh);
      const T dxz = dh * (hp - hh) * z * (T(1) - z);
      T* dx_ = a.dX + zoff;
      dx_[c.j] = dxz;
      dx_[2 * H + c.j] = dhh;
      carry[q] = dh * z;
      rgs[q] = rg, hps[q] = hp;
      if (a.reset_after) {
        const T dr = dhh * a.rec_h[o] * rg * (T(1) - rg);
        dx_[H + c.j] = dr;
        T* dr_ = a.dR + zoff;
        dr_[c.j] = dxz;
        dr_[H + c.j] = dr;
        dr_[2 * H + c.j] = dhh * rg;
      }
    }
    rec::group_barrier(a, nbar);
    if (a.reset_after) {
      rec::load_rows(a, c, dsh, a.dR + t * G, T_ * G, G);
      __syncthreads();
      T acc[rec::kRows] = {};
      rec::dot_rows<T, USMEM>(a, c, acc, 0, G, G, UTsh, a.U, dsh);
#pragma unroll
      for (int q = 0; q < rec::kRows; ++q) dhn[q] = carry[q] + acc[q];
      continue;
    }
    // not reset_after: d(r * h_{t-1}) = dX_h U_h^T first; it gives dX_r.
    rec::load_rows(a, c, dsh, a.dX + t * G, T_ * G, G);
    __syncthreads();
    T drh[rec::kRows] = {};
    rec::dot_rows<T, USMEM>(a, c, drh, 2 * H, G, G, UTsh, a.U, dsh);
#pragma unroll
    for (int q = 0; q < rec::kRows; ++q) {
      const int64_t r = c.row(q, a.R);
      if (!c.jv || r >= a.B) continue;
      a.dX[(r * T_ + t) * G + H + c.j] = drh[q] * hps[q] * rgs[q] * (T(1) - rgs[q]);
      carry[q] += drh[q] * rgs[q];
    }
    rec::group_barrier(a, nbar);
    rec::load_rows(a, c, dsh, a.dX + t * G, T_ * G, 2 * H);  // row stride T*G, z and r blocks
    __syncthreads();
    T acc[rec::kRows] = {};
    // dsh rows are 2H wide here: index them with width 2H.
    for (int64_t cc = 0; cc < 2 * H; ++cc) {
      const T u = USMEM ? UTsh[cc * a.hs + c.jl] : (c.jv ? __ldg(a.U + c.j * G + cc) : T(0));
#pragma unroll
      for (int q = 0; q < rec::kRows; ++q) acc[q] += dsh[(c.rg + a.R * q) * 2 * H + cc] * u;
    }
#pragma unroll
    for (int q = 0; q < rec::kRows; ++q) dhn[q] = carry[q] + acc[q];
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
void gru_forward(cudaStream_t s, int64_t B, int64_t T_, int64_t I, int64_t H, bool reset_after,
                 Activation act, const T* x, const T* W, const T* U, const T* b, const T* h0,
                 T* h_seq, T* gates, T* rec_h) {
  const int64_t G = 3 * H;
  if (B == 0 || T_ == 0) return;
  broadcast_rows<T>(s, B * T_, G, b, gates, G);  // b_in (reset_after: first row of b) or b
  gemm<T>(s, false, false, B * T_, G, I, x, I, W, G, gates, G, true);
  FwdArgs<T> a{};
  a.B = B, a.steps = T_, a.H = H, a.act = act, a.reset_after = reset_after, a.U = U;
  a.b_rec = reset_after ? b + G : nullptr, a.h0 = h0;
  a.gates = gates, a.h_seq = h_seq, a.rec_h = rec_h;
  rec::run<T>(s, gru_fwd_kernel<T, true>, gru_fwd_kernel<T, false>, a, 3 * H,
              reset_after ? H : 2 * H);
}

template <class T>
void gru_backward(cudaStream_t s, int64_t B, int64_t T_, int64_t I, int64_t H, bool reset_after,
                  Activation act, const T* x, const T* W, const T* U, const T* h0,
                  const T* h_seq, const T* gates, const T* rec_h, const T* dh_seq,
                  const T* dh_last, T* dx, T* dW, T* dU, T* db, T* dh0) {
  const int64_t G = 3 * H, rows = B * T_;
  Scratch dX(s, sizeof(T) * size_t(rows * G)), prev(s, sizeof(T) * size_t(rows * H));
  Scratch dR(s, reset_after ? sizeof(T) * size_t(rows * G) : 0);
  BwdArgs<T> a{};
  a.B = B, a.steps = T_, a.H = H, a.act = act, a.reset_after = reset_after, a.U = U, a.h0 = h0;
  a.h_seq = h_seq, a.gates = gates, a.rec_h = rec_h, a.dh_seq = dh_seq, a.dh_last = dh_last;
  a.dX = dX.as<T>(), a.dR = reset_after ? dR.as<T>() : nullptr, a.dh0 = dh0;
  rec::run<T>(s, gru_bwd_kernel<T, true>, gru_bwd_kernel<T, false>, a, G, G);
  shifted_states<T>(s, B, T_, H, h0, h_seq, prev.as<T>());
  gemm<T>(s, false, true, rows, I, G, dX.as<T>(), G, W, G, dx, I, false);
  gemm<T>(s, true, false, I, G, rows, x, I, dX.as<T>(), G, dW, G, false);
  column_sums<T>(s, rows, G, dX.as<T>(), G, db);
  if (reset_after) {
    gemm<T>(s, true, false, H, G, rows, prev.as<T>(), H, dR.as<T>(), G, dU, G, false);
    column_sums<T>(s, rows, G, dR.as<T>(), G, db + G);
  } else {
    gemm<T>(s, true, false, H, 2 * H, rows, prev.as<T>(), H, dX.as<T>(), G, dU, G, false);
    gemm<T>(s, true, false, H, H, rows, rec_h, H, dX.as<T>() + 2 * H, G, dU + 2 * H, G, false);
  }
}

#define FASTRNN_INSTANTIATE(T)                                                                   \
  template void gru_forward<T>(cudaStream_t, int64_t, int64_t, int64_t, int64_t, bool,           \
                               Activation, const T*, const T*, const T*, const T*, const T*, T*, \
                               T*, T*);                                                          \
  template void gru_backward<T>(cudaStream_t, int64_t, int64_t, int64_t, int64_t, bool,          \
                                Activation, const T*, const T*, const T*, const T*, const T*,    \
                                const T*, const T*, const T*, const T*, T*, T*, T*, T*, T*);
FASTRNN_INSTANTIATE(float)
FASTRNN_INSTANTIATE(double)

}  // namespace cuda
}  // namespace fastrnn
