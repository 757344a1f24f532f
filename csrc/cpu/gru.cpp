// GRU forward and backpropagation through time on the CPU, both reset_after variants.
//
// Forward: x W + b_in for all of a thread's (b, t) rows is one product written into `gates`.
// reset_after: each step computes R = h_{t-1} U + b_rec (one product), then one fused pass.
// not reset_after: the candidate needs (r * h_{t-1}) U_h, which depends on r, so a step is
// product (z, r blocks) -> pass -> product (h block) -> pass.
// Backward: reset_after splits the pre-activation gradient in two, dX (w.r.t. x W + b_in) and
// dR (w.r.t. h U + b_rec), which differ only in the h block (dR_h = dX_h * r); dW and b_in come
// from dX, dU and b_rec from dR. Not reset_after mirrors the forward's two products per step.
// A masked step (Keras's mask) keeps h_{t-1} and passes dh through (detail::skipped).
#include "common.hpp"
#include "gemm.hpp"
#include "kernels.hpp"

namespace fastrnn {
namespace FASTRNN_ISA_NS {
namespace {

// reset_after, one row of one step: x holds x W + b_in [z r h] (3H) and gets [z r hh];
// R = h_prev U + b_rec (3H).
template <Activation A, class T>
void forward_row_reset_after(int64_t H, T* __restrict x, const T* __restrict R,
                             const T* __restrict h_prev, T* __restrict rec_h, T* __restrict h) {
  for (int64_t j = 0; j < H; ++j) {
    const T z = detail::sigmoid(x[j] + R[j]), r = detail::sigmoid(x[H + j] + R[H + j]);
    const T hh = detail::act<A>(x[2 * H + j] + r * R[2 * H + j]);
    x[j] = z;
    x[H + j] = r;
    x[2 * H + j] = hh;
    rec_h[j] = R[2 * H + j];
    h[j] = z * h_prev[j] + (T(1) - z) * hh;
  }
}

// not reset_after, first pass: z and r from x + h_prev U_zr; rec_h = r * h_prev.
template <class T>
void forward_row_gates(int64_t H, T* __restrict x, const T* __restrict R,
                       const T* __restrict h_prev, T* __restrict rec_h) {
  for (int64_t j = 0; j < H; ++j) {
    const T z = detail::sigmoid(x[j] + R[j]), r = detail::sigmoid(x[H + j] + R[H + j]);
    x[j] = z;
    x[H + j] = r;
    rec_h[j] = r * h_prev[j];
  }
}

// not reset_after, second pass: R_h = (r * h_prev) U_h.
template <Activation A, class T>
void forward_row_candidate(int64_t H, T* __restrict x, const T* __restrict R_h,
                           const T* __restrict h_prev, T* __restrict h) {
  for (int64_t j = 0; j < H; ++j) {
    const T z = x[j];
    const T hh = detail::act<A>(x[2 * H + j] + R_h[j]);
    x[2 * H + j] = hh;
    h[j] = z * h_prev[j] + (T(1) - z) * hh;
  }
}

// Backward, the part both variants share: dx_z, dx_h (pre-activation gradients of z and the
// candidate) and dh_next <- dh * z, where dh = dh_seq + dh_next on entry. reset_after also
// fills dx_r and the recurrent-side gradient dR (unused, may be null, otherwise).
template <Activation A, bool kResetAfter, class T>
void backward_row(int64_t H, const T* __restrict g, const T* __restrict rec_h,
                  const T* __restrict h_prev, const T* __restrict dh_seq, T* __restrict dh_next,
                  T* __restrict dx, T* __restrict dR) {
  for (int64_t j = 0; j < H; ++j) {
    const T z = g[j], r = g[H + j], hh = g[2 * H + j];
    const T dh = dh_seq[j] + dh_next[j];
    const T dhh = dh * (T(1) - z) * detail::act_grad<A>(hh);
    const T dz = dh * (h_prev[j] - hh) * z * (T(1) - z);
    dx[j] = dz;
    dx[2 * H + j] = dhh;
    dh_next[j] = dh * z;
    if constexpr (kResetAfter) {
      const T dr = dhh * rec_h[j] * r * (T(1) - r);
      dx[H + j] = dr;
      dR[j] = dz;
      dR[H + j] = dr;
      dR[2 * H + j] = dhh * r;
    }
  }
}

// not reset_after, second pass: d_rh = dL/d(r * h_prev) gives dx_r and a term of dh_next.
template <class T>
void backward_row_reset(int64_t H, const T* __restrict g, const T* __restrict h_prev,
                        const T* __restrict d_rh, T* __restrict dx, T* __restrict dh_next) {
  for (int64_t j = 0; j < H; ++j) {
    const T r = g[H + j];
    dx[H + j] = d_rh[j] * h_prev[j] * r * (T(1) - r);
    dh_next[j] += d_rh[j] * r;
  }
}

}  // namespace

template <class T>
void gru_forward(int64_t B, int64_t T_, int64_t I, int64_t H, bool reset_after, Activation act,
                 const T* x, const T* W, const T* U, const T* b, const T* h0, T* h_seq, T* gates,
                 T* rec_h, const uint8_t* mask) {
  const int64_t G = 3 * H;
  const int threads = detail::plan_threads(B, 2.0 * B * T_ * G * (I + H));
  detail::Buffer<T> zeros(H);
  const bool narrow = !mask && reset_after && detail::narrow<T>(H, B / threads);
  const int64_t panel_width = 9 * H;  // per row: x 3H, R 3H, rec_h, h twice
  const detail::ScratchArrays<T, 2> scratch({B * G, narrow ? B * panel_width : 0});
  T* const R_all = scratch[0];  // this step's recurrent product, rows per slice
  detail::Buffer<T> UT(narrow ? G * H : 0);
  if (narrow) transpose(H, G, U, G, UT.data());
  const detail::Stop stop;
  detail::for_batch_slices(threads, B, [&](int64_t b0, int64_t b1, int) {
    const int64_t nb = b1 - b0, ld = T_ * H, ldg = T_ * G;
    if (nb == 0 || T_ == 0) return;
    T* X = gates + b0 * ldg;
    T* R = R_all + b0 * G;
    if (!detail::project_rows(nb * T_, I, G, x + b0 * T_ * I, W, b, X, stop)) return;
    const auto h_init = detail::initial_rows(h0, b0, H, zeros.data());
    if (narrow && nb > 1) {
      // Panels (reset_after only): R^T = U^T h^T + b_rec runs along the rows, see lstm.cpp.
      T* const xP = scratch[1] + b0 * panel_width;
      T *const RP = xP + 3 * nb * H, *const rhP = RP + 3 * nb * H;
      T *h_prev = rhP + nb * H, *h_cur = h_prev + nb * H;
      detail::gather_panel(nb, H, h_init.p, h_init.ld, h_prev);
      detail::with_activation(act, [&](auto A) {
        for (int64_t t = 0; t < T_; ++t) {
          T* Xt = X + t * G;
          detail::gather_blocks(nb, H, 3, Xt, ldg, xP);
          for (int64_t q = 0; q < G; ++q)
            for (int64_t r = 0; r < nb; ++r) RP[q * nb + r] = b[G + q];
          if (t > 0 || h0) gemm<T>(false, G, nb, H, UT.data(), H, h_prev, nb, RP, nb, true);
          forward_row_reset_after<decltype(A)::value>(nb * H, xP, RP, h_prev, rhP, h_cur);
          detail::scatter_blocks(nb, H, 3, xP, Xt, ldg);
          detail::scatter_panel(nb, H, rhP, rec_h + b0 * ld + t * H, ld);
          detail::scatter_panel(nb, H, h_cur, h_seq + b0 * ld + t * H, ld);
          detail::swap_pointers(h_prev, h_cur);
          if (stop(2.0 * nb * G * H)) return;
        }
      });
      return;
    }
    const int64_t block = detail::time_block_rows<T>(nb, G);
    for (int64_t k0 = 0; k0 < nb; k0 += block) {  // blocks of rows, each through all steps
      const int64_t kb = b0 + k0, kn = std::min(block, nb - k0);
      T* const Rk = R + k0 * G;
      const detail::Rows<T> hk_init{h_init.p + k0 * h_init.ld, h_init.ld};
      for (int64_t t = 0; t < T_; ++t) {
        T* Xt = X + k0 * ldg + t * G;
        T* rh_t = rec_h + kb * ld + t * H;
        const detail::Rows<T> hp =
            t > 0 ? detail::Rows<T>{h_seq + kb * ld + (t - 1) * H, ld} : hk_init;
        const bool has_prev = t > 0 || h0;
        if (reset_after) {
          detail::broadcast_rows(kn, G, b + G, Rk, G);
          if (has_prev) gemm<T>(false, kn, G, H, hp.p, hp.ld, U, G, Rk, G, true);
        } else if (has_prev) {
          gemm<T>(false, kn, 2 * H, H, hp.p, hp.ld, U, G, Rk, G, false);
        } else {
          detail::broadcast_rows<T>(kn, 2 * H, nullptr, Rk, G);
        }
        detail::with_activation(act, [&](auto A) {
          constexpr Activation kA = decltype(A)::value;
          if (reset_after) {
            for (int64_t r = 0; r < kn; ++r)
              forward_row_reset_after<kA>(H, Xt + r * ldg, Rk + r * G, hp.row(r), rh_t + r * ld,
                                          h_seq + (kb + r) * ld + t * H);
            return;
          }
          for (int64_t r = 0; r < kn; ++r)
            forward_row_gates(H, Xt + r * ldg, Rk + r * G, hp.row(r), rh_t + r * ld);
          gemm<T>(false, kn, H, H, rh_t, ld, U + 2 * H, G, Rk + 2 * H, G, false);
          for (int64_t r = 0; r < kn; ++r)
            forward_row_candidate<kA>(H, Xt + r * ldg, Rk + r * G + 2 * H, hp.row(r),
                                      h_seq + (kb + r) * ld + t * H);
        });
        if (mask)
          for (int64_t r = 0; r < kn; ++r)
            if (detail::skipped(mask, kb + r, T_, t))
              detail::copy_row(H, hp.row(r), h_seq + (kb + r) * ld + t * H);
        if (stop(2.0 * kn * G * H)) return;
      }
    }
  });
}

template <class T>
void gru_backward(int64_t B, int64_t T_, int64_t I, int64_t H, bool reset_after, Activation act,
                  const T* x, const T* W, const T* U, const T* h0, const T* h_seq,
                  const T* gates, const T* rec_h, const T* dh_seq, const T* dh_last, T* dx, T* dW,
                  T* dU, T* db, T* dh0, const uint8_t* mask) {
  const int64_t G = 3 * H;
  const int threads = detail::plan_threads(B, 4.0 * B * T_ * G * (I + H));
  const int64_t nbias = reset_after ? 2 * G : G;
  detail::Buffer<T> WT(G * I), UT(G * H), zeros(H);
  // dR: reset_after, the gradient w.r.t. h U + b_rec for all steps; otherwise d(r * h) for one step.
  const bool narrow = !mask && reset_after && detail::narrow<T>(H, B / threads);
  const int64_t panel_width = 13 * H;  // per row: gates 3H, rec_h, h_prev, dh_seq, dh_next, dX 3H, dR 3H
  const detail::ScratchArrays<T, 4> scratch({B * T_ * G, B * T_ * H, reset_after ? B * T_ * G : B * H,
                                             narrow ? B * panel_width : 0});
  T *const dX = scratch[0], *const prev = scratch[1], *const dR = scratch[2];
  transpose(I, G, W, G, WT.data());
  transpose(H, G, U, G, UT.data());
  detail::GradSlots<T> slots(threads, I * G, H * G, nbias);
  const detail::Stop stop;
  detail::for_batch_slices(threads, B, [&](int64_t b0, int64_t b1, int s) {
    const int64_t nb = b1 - b0, ld = T_ * H, ldg = T_ * G;
    T* dh_next = dh0 + b0 * H;  // carries dL/dh_{t-1}; ends as dL/dh0
    if (dh_last) std::memcpy(dh_next, dh_last + b0 * H, sizeof(T) * nb * H);
    else std::memset(dh_next, 0, sizeof(T) * nb * H);
    const auto h_init = detail::initial_rows(h0, b0, H, zeros.data());
    if (narrow && nb > 1) {
      // Panels (reset_after only): dh_{t-1}^T += U dR_t^T runs along the rows.
      T* const gP = scratch[3] + b0 * panel_width;
      T *const rhP = gP + 3 * nb * H, *const hpP = rhP + nb * H, *const dsP = hpP + nb * H,
               *const dnP = dsP + nb * H, *const dxP = dnP + nb * H, *const dRP = dxP + 3 * nb * H;
      detail::gather_panel(nb, H, dh_next, H, dnP);
      detail::with_activation(act, [&](auto A) {
        for (int64_t t = T_ - 1; t >= 0; --t) {
          const int64_t o = b0 * ld + t * H, zo = b0 * ldg + t * G;
          detail::gather_blocks(nb, H, 3, gates + zo, ldg, gP);
          detail::gather_panel(nb, H, rec_h + o, ld, rhP);
          if (t > 0) detail::gather_panel(nb, H, h_seq + o - H, ld, hpP);
          else detail::gather_panel(nb, H, h_init.p, h_init.ld, hpP);
          if (dh_seq) detail::gather_panel(nb, H, dh_seq + o, ld, dsP);
          else detail::gather_panel(nb, H, zeros.data(), int64_t(0), dsP);
          backward_row<decltype(A)::value, true>(nb * H, gP, rhP, hpP, dsP, dnP, dxP, dRP);
          detail::scatter_blocks(nb, H, 3, dxP, dX + zo, ldg);
          detail::scatter_blocks(nb, H, 3, dRP, dR + zo, ldg);
          gemm<T>(false, H, nb, G, U, G, dRP, nb, dnP, nb, true);
          if (stop(2.0 * nb * G * H)) break;
        }
      });
      detail::scatter_panel(nb, H, dnP, dh_next, H);
    } else {
      const int64_t block = detail::time_block_rows<T>(nb, G);
      for (int64_t k0 = 0; k0 < nb; k0 += block) {  // blocks of rows, as in the forward pass
        const int64_t kb = b0 + k0, kn = std::min(block, nb - k0);
        T* const dh_k = dh_next + k0 * H;
        const detail::Rows<T> hk_init{h_init.p + k0 * h_init.ld, h_init.ld};
        for (int64_t t = T_ - 1; t >= 0; --t) {
          const detail::Rows<T> hp =
              t > 0 ? detail::Rows<T>{h_seq + kb * ld + (t - 1) * H, ld} : hk_init;
          T* dXt = dX + kb * ldg + t * G;
          detail::with_activation(act, [&](auto A) {
            constexpr Activation kA = decltype(A)::value;
            for (int64_t r = 0; r < kn; ++r) {
              const int64_t o = (kb + r) * ld + t * H, zo = (kb + r) * ldg + t * G;
              const T* dhs = dh_seq ? dh_seq + o : zeros.data();
              if (detail::skipped(mask, kb + r, T_, t)) {
                // h carried over: dh_{t-1} = dh_t; zero gate gradients, so every product below
                // (and the weight gradients) adds nothing for this row
                std::memset(dXt + r * ldg, 0, sizeof(T) * G);
                if (reset_after) std::memset(dR + zo, 0, sizeof(T) * G);
                detail::add_row(H, dhs, dh_k + r * H);
                continue;
              }
              if (reset_after)
                backward_row<kA, true>(H, gates + zo, rec_h + o, hp.row(r), dhs, dh_k + r * H,
                                       dXt + r * ldg, dR + zo);
              else
                backward_row<kA, false>(H, gates + zo, rec_h + o, hp.row(r), dhs, dh_k + r * H,
                                        dXt + r * ldg, static_cast<T*>(nullptr));
            }
          });
          if (stop(2.0 * kn * G * H)) return;
          if (reset_after) {
            gemm<T>(false, kn, H, G, dR + kb * ldg + t * G, ldg, UT.data(), H, dh_k, H, true);
            continue;
          }
          T* d_rh = dR + kb * H;
          gemm<T>(false, kn, H, H, dXt + 2 * H, ldg, UT.data() + 2 * H * H, H, d_rh, H, false);
          for (int64_t r = 0; r < kn; ++r)
            backward_row_reset(H, gates + (kb + r) * ldg + t * G, hp.row(r), d_rh + r * H,
                               dXt + r * ldg, dh_k + r * H);
          gemm<T>(false, kn, H, 2 * H, dXt, ldg, UT.data(), H, dh_k, H, true);
        }
      }
    }
    if (stop.requested()) return;
    const int64_t rows = nb * T_, first = b0 * T_;
    detail::shifted_states(b0, b1, T_, H, h0, h_seq, prev);
    // in chunks whose gradients stay in cache across the products (detail::gate_weight_gradients)
    const int64_t chunk = detail::gradient_chunk_rows<T>(G);
    for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
      const int64_t n = std::min(chunk, rows - r0), r = first + r0;
      const bool acc = r0 > 0;
      const T* dXc = dX + r * G;
      if (dx) detail::input_gradient(n, I, G, dXc, W, WT.data(), dx + r * I);
      gemm<T>(true, I, G, n, x + r * I, I, dXc, G, slots.dW(s), G, acc);
      detail::add_column_sums(n, G, dXc, G, slots.db(s));
      const T* prev_c = prev + r * H;
      if (reset_after) {
        const T* dRc = dR + r * G;
        gemm<T>(true, H, G, n, prev_c, H, dRc, G, slots.dU(s), G, acc);
        detail::add_column_sums(n, G, dRc, G, slots.db(s) + G);
      } else {
        gemm<T>(true, H, 2 * H, n, prev_c, H, dXc, G, slots.dU(s), G, acc);
        gemm<T>(true, H, H, n, rec_h + r * H, H, dXc + 2 * H, G, slots.dU(s) + 2 * H, G, acc);
      }
      if (stop(6.0 * n * G * (I + H))) return;
    }
  });
  slots.reduce_into(threads, dW, dU, db);
}

#define FASTRNN_INSTANTIATE(T)                                                                  \
  template void gru_forward<T>(int64_t, int64_t, int64_t, int64_t, bool, Activation, const T*,  \
                               const T*, const T*, const T*, const T*, T*, T*, T*,             \
                               const uint8_t*);                                                 \
  template void gru_backward<T>(int64_t, int64_t, int64_t, int64_t, bool, Activation, const T*, \
                                const T*, const T*, const T*, const T*, const T*, const T*,     \
                                const T*, const T*, T*, T*, T*, T*, T*, const uint8_t*);
FASTRNN_INSTANTIATE(float)
FASTRNN_INSTANTIATE(double)

}  // namespace FASTRNN_ISA_NS
}  // namespace fastrnn
