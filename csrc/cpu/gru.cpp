// GRU forward and backpropagation through time on the CPU, both reset_after variants.
//
// Forward: x W + b_in for all of a thread's (b, t) rows is one product written into `gates`.
// reset_after: each step computes R = h_{t-1} U + b_rec (one product), then one fused pass.
// not reset_after: the candidate needs (r * h_{t-1}) U_h, which depends on r, so a step is
// product (z, r blocks) -> pass -> product (h block) -> pass.
// Backward: reset_after splits the pre-activation gradient in two, dX (w.r.t. x W + b_in) and
// dR (w.r.t. h U + b_rec), which differ only in the h block (dR_h = dX_h * r); dW and b_in come
// from dX, dU and b_rec from dR. Not reset_after mirrors the forward's two products per step.
#include "fastrnn/gru.hpp"

#include "common.hpp"
#include "fastrnn/gemm.hpp"

namespace fastrnn {

template <class T>
void gru_forward(int64_t B, int64_t T_, int64_t I, int64_t H, bool reset_after, Activation act,
                 const T* x, const T* W, const T* U, const T* b, const T* h0, T* h_seq, T* gates,
                 T* rec_h) {
  const int64_t G = 3 * H;
  const int threads = detail::plan_threads(B, 2.0 * B * T_ * G * (I + H));
  std::vector<T> R_all(B * G);  // this step's recurrent product, rows owned by their slice
  detail::for_batch_slices(threads, B, [&](int64_t b0, int64_t b1, int) {
    const int64_t nb = b1 - b0, ld = T_ * H, ldg = T_ * G;
    if (nb == 0 || T_ == 0) return;
    T* X = gates + b0 * ldg;
    T* R = R_all.data() + b0 * G;
    detail::broadcast_rows(nb * T_, G, b, X, G);
    gemm<T>(false, nb * T_, G, I, x + b0 * T_ * I, I, W, G, X, G, true);
    for (int64_t t = 0; t < T_; ++t) {
      T* Xt = X + t * G;
      const T* hp_rows = t > 0 ? h_seq + b0 * ld + (t - 1) * H : (h0 ? h0 + b0 * H : nullptr);
      const int64_t hp_ld = t > 0 ? ld : H;
      T* rh_t = rec_h + b0 * ld + t * H;
      if (reset_after) {
        detail::broadcast_rows(nb, G, b + G, R, G);
        if (hp_rows) gemm<T>(false, nb, G, H, hp_rows, hp_ld, U, G, R, G, true);
      } else if (hp_rows) {
        gemm<T>(false, nb, 2 * H, H, hp_rows, hp_ld, U, G, R, G, false);
      } else {
        detail::broadcast_rows<T>(nb, 2 * H, nullptr, R, G);
      }
      for (int64_t r = 0; r < nb; ++r) {
        T* xz = Xt + r * ldg;
        const T* rr = R + r * G;
        const T* hp = hp_rows ? hp_rows + r * hp_ld : nullptr;
        T* rh = rh_t + r * ld;
        for (int64_t j = 0; j < H; ++j) {
          const T z = sigmoid(xz[j] + rr[j]), rg = sigmoid(xz[H + j] + rr[H + j]);
          xz[j] = z;
          xz[H + j] = rg;
          rh[j] = reset_after ? rr[2 * H + j] : (hp ? rg * hp[j] : T(0));
        }
      }
      if (!reset_after) gemm<T>(false, nb, H, H, rh_t, ld, U + 2 * H, G, R + 2 * H, G, false);
      for (int64_t r = 0; r < nb; ++r) {
        T* xz = Xt + r * ldg;
        const T* rr = R + r * G;
        const T* hp = hp_rows ? hp_rows + r * hp_ld : nullptr;
        T* h = h_seq + (b0 + r) * ld + t * H;
        for (int64_t j = 0; j < H; ++j) {
          const T z = xz[j];
          const T pre = reset_after ? xz[2 * H + j] + xz[H + j] * rr[2 * H + j]
                                    : xz[2 * H + j] + rr[2 * H + j];
          const T hh = activate(act, pre);
          xz[2 * H + j] = hh;
          h[j] = (hp ? z * hp[j] : T(0)) + (T(1) - z) * hh;
        }
      }
    }
  });
}

template <class T>
void gru_backward(int64_t B, int64_t T_, int64_t I, int64_t H, bool reset_after, Activation act,
                  const T* x, const T* W, const T* U, const T* h0, const T* h_seq,
                  const T* gates, const T* rec_h, const T* dh_seq, const T* dh_last, T* dx, T* dW,
                  T* dU, T* db, T* dh0) {
  const int64_t G = 3 * H;
  const int threads = detail::plan_threads(B, 4.0 * B * T_ * G * (I + H));
  const int64_t nbias = reset_after ? 2 * G : G;
  std::vector<T> WT(G * I), UT(G * H), dX(B * T_ * G), prev(B * T_ * H);
  // reset_after: gradient w.r.t. h U + b_rec; otherwise d(r * h) for one step, rows per slice.
  std::vector<T> dR(reset_after ? B * T_ * G : B * H);
  transpose(I, G, W, G, WT.data());
  transpose(H, G, U, G, UT.data());
  detail::GradSlots<T> slots(threads, I * G, H * G, nbias);
  detail::for_batch_slices(threads, B, [&](int64_t b0, int64_t b1, int s) {
    const int64_t nb = b1 - b0, ld = T_ * H, ldg = T_ * G;
    T* dh_next = dh0 + b0 * H;  // carries dL/dh_{t-1}; ends as dL/dh0
    if (dh_last) std::memcpy(dh_next, dh_last + b0 * H, sizeof(T) * nb * H);
    else std::memset(dh_next, 0, sizeof(T) * nb * H);
    for (int64_t t = T_ - 1; t >= 0; --t) {
      const T* hp_rows = t > 0 ? h_seq + b0 * ld + (t - 1) * H : (h0 ? h0 + b0 * H : nullptr);
      const int64_t hp_ld = t > 0 ? ld : H;
      T* dXt = dX.data() + b0 * ldg + t * G;
      for (int64_t r = 0; r < nb; ++r) {
        const int64_t o = (b0 + r) * ld + t * H, zoff = (b0 + r) * ldg + t * G;
        const T* zg = gates + zoff;
        const T* hp = hp_rows ? hp_rows + r * hp_ld : nullptr;
        T* dx_ = dXt + r * ldg;
        T* dhn = dh_next + r * H;
        for (int64_t j = 0; j < H; ++j) {
          const T z = zg[j], rg = zg[H + j], hh = zg[2 * H + j];
          const T h_prev = hp ? hp[j] : T(0);
          const T dh = (dh_seq ? dh_seq[o + j] : T(0)) + dhn[j];
          const T dhh = dh * (T(1) - z) * activation_grad_from_output(act, hh);
          dx_[j] = dh * (h_prev - hh) * z * (T(1) - z);
          dx_[2 * H + j] = dhh;
          dhn[j] = dh * z;
          if (reset_after) {
            const T dr = dhh * rec_h[o + j] * rg * (T(1) - rg);
            dx_[H + j] = dr;
            T* dr_ = dR.data() + zoff;
            dr_[j] = dx_[j];
            dr_[H + j] = dr;
            dr_[2 * H + j] = dhh * rg;
          }
        }
      }
      if (reset_after) {
        gemm<T>(false, nb, H, G, dR.data() + b0 * ldg + t * G, ldg, UT.data(), H, dh_next, H, true);
        continue;
      }
      T* d_rh = dR.data() + b0 * H;  // d(r * h_{t-1})
      gemm<T>(false, nb, H, H, dXt + 2 * H, ldg, UT.data() + 2 * H * H, H, d_rh, H, false);
      for (int64_t r = 0; r < nb; ++r) {
        const T* zg = gates + (b0 + r) * ldg + t * G;
        const T* hp = hp_rows ? hp_rows + r * hp_ld : nullptr;
        T* dx_ = dXt + r * ldg;
        for (int64_t j = 0; j < H; ++j) {
          const T rg = zg[H + j], g = d_rh[r * H + j];
          dx_[H + j] = hp ? g * hp[j] * rg * (T(1) - rg) : T(0);
          dh_next[r * H + j] += g * rg;
        }
      }
      gemm<T>(false, nb, H, 2 * H, dXt, ldg, UT.data(), H, dh_next, H, true);
    }
    const int64_t rows = nb * T_;
    const T* dX_rows = dX.data() + b0 * ldg;
    detail::shifted_states(b0, b1, T_, H, h0, h_seq, prev.data());
    gemm<T>(false, rows, I, G, dX_rows, G, WT.data(), I, dx + b0 * T_ * I, I, false);
    gemm<T>(true, I, G, rows, x + b0 * T_ * I, I, dX_rows, G, slots.dW(s), G, false);
    detail::add_column_sums(rows, G, dX_rows, G, slots.db(s));
    const T* prev_rows = prev.data() + b0 * ld;
    if (reset_after) {
      const T* dR_rows = dR.data() + b0 * ldg;
      gemm<T>(true, H, G, rows, prev_rows, H, dR_rows, G, slots.dU(s), G, false);
      detail::add_column_sums(rows, G, dR_rows, G, slots.db(s) + G);
    } else {
      gemm<T>(true, H, 2 * H, rows, prev_rows, H, dX_rows, G, slots.dU(s), G, false);
      gemm<T>(true, H, H, rows, rec_h + b0 * ld, H, dX_rows + 2 * H, G, slots.dU(s) + 2 * H, G,
              false);
    }
  });
  slots.reduce_into(threads, dW, dU, db);
}

#define FASTRNN_INSTANTIATE(T)                                                                  \
  template void gru_forward<T>(int64_t, int64_t, int64_t, int64_t, bool, Activation, const T*,  \
                               const T*, const T*, const T*, const T*, T*, T*, T*);             \
  template void gru_backward<T>(int64_t, int64_t, int64_t, int64_t, bool, Activation, const T*, \
                                const T*, const T*, const T*, const T*, const T*, const T*,     \
                                const T*, const T*, T*, T*, T*, T*, T*);
FASTRNN_INSTANTIATE(float)
FASTRNN_INSTANTIATE(double)

}  // namespace fastrnn
