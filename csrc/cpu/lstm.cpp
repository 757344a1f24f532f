// LSTM forward and backpropagation through time on the CPU.
//
// Forward: the gate pre-activations x W + b of all of a thread's (b, t) rows are one product
// written into `gates`; each step adds h_{t-1} U in place, then one fused pass applies the gate
// functions, updates c and h, and overwrites the pre-activations with the activated gates (which
// is all the backward pass needs: every derivative is a function of a gate's output).
// Backward: per step one fused pass turns (dh, dc) into the four pre-activation gradients dZ_t,
// then dh_next = dZ_t U^T; dx, dW, dU, db are one product each over all steps.
#include "fastrnn/lstm.hpp"

#include "common.hpp"
#include "fastrnn/gemm.hpp"

namespace fastrnn {

template <class T>
void lstm_forward(int64_t B, int64_t T_, int64_t I, int64_t H, Activation act, const T* x,
                  const T* W, const T* U, const T* b, const T* h0, const T* c0, T* h_seq,
                  T* c_seq, T* gates) {
  const int64_t G = 4 * H;
  const int threads = detail::plan_threads(B, 2.0 * B * T_ * G * (I + H));
  detail::for_batch_slices(threads, B, [&](int64_t b0, int64_t b1, int) {
    const int64_t nb = b1 - b0, ld = T_ * H, ldg = T_ * G;
    if (nb == 0 || T_ == 0) return;
    T* Z = gates + b0 * ldg;
    detail::broadcast_rows(nb * T_, G, b, Z, G);
    gemm<T>(false, nb * T_, G, I, x + b0 * T_ * I, I, W, G, Z, G, true);
    for (int64_t t = 0; t < T_; ++t) {
      T* Zt = Z + t * G;
      if (t > 0) gemm<T>(false, nb, G, H, h_seq + b0 * ld + (t - 1) * H, ld, U, G, Zt, ldg, true);
      else if (h0) gemm<T>(false, nb, G, H, h0 + b0 * H, H, U, G, Zt, ldg, true);
      for (int64_t r = 0; r < nb; ++r) {
        T* z = Zt + r * ldg;
        const int64_t o = (b0 + r) * ld + t * H;
        const T* c_prev = t > 0 ? c_seq + o - H : (c0 ? c0 + (b0 + r) * H : nullptr);
        for (int64_t j = 0; j < H; ++j) {
          const T i = sigmoid(z[j]), f = sigmoid(z[H + j]);
          const T g = activate(act, z[2 * H + j]), og = sigmoid(z[3 * H + j]);
          const T c = (c_prev ? f * c_prev[j] : T(0)) + i * g;
          z[j] = i; z[H + j] = f; z[2 * H + j] = g; z[3 * H + j] = og;
          c_seq[o + j] = c;
          h_seq[o + j] = og * activate(act, c);
        }
      }
    }
  });
}

template <class T>
void lstm_backward(int64_t B, int64_t T_, int64_t I, int64_t H, Activation act, const T* x,
                   const T* W, const T* U, const T* h0, const T* c0, const T* h_seq,
                   const T* c_seq, const T* gates, const T* dh_seq, const T* dh_last,
                   const T* dc_last, T* dx, T* dW, T* dU, T* db, T* dh0, T* dc0) {
  const int64_t G = 4 * H;
  const int threads = detail::plan_threads(B, 4.0 * B * T_ * G * (I + H));
  std::vector<T> WT(G * I), UT(G * H), dZ(B * T_ * G), prev(B * T_ * H);
  transpose(I, G, W, G, WT.data());
  transpose(H, G, U, G, UT.data());
  detail::GradSlots<T> slots(threads, I * G, H * G, G);
  detail::for_batch_slices(threads, B, [&](int64_t b0, int64_t b1, int s) {
    const int64_t nb = b1 - b0, ld = T_ * H, ldg = T_ * G;
    T* dh_next = dh0 + b0 * H;  // carries dL/dh_{t-1}; ends as dL/dh0
    T* dc_next = dc0 + b0 * H;  // carries dL/dc_{t-1}; ends as dL/dc0
    if (dh_last) std::memcpy(dh_next, dh_last + b0 * H, sizeof(T) * nb * H);
    else std::memset(dh_next, 0, sizeof(T) * nb * H);
    if (dc_last) std::memcpy(dc_next, dc_last + b0 * H, sizeof(T) * nb * H);
    else std::memset(dc_next, 0, sizeof(T) * nb * H);
    for (int64_t t = T_ - 1; t >= 0; --t) {
      for (int64_t r = 0; r < nb; ++r) {
        const int64_t o = (b0 + r) * ld + t * H, zoff = (b0 + r) * ldg + t * G;
        const T* z = gates + zoff;
        T* dz = dZ.data() + zoff;
        const T* c_prev = t > 0 ? c_seq + o - H : (c0 ? c0 + (b0 + r) * H : nullptr);
        T* dhn = dh_next + r * H;
        T* dcn = dc_next + r * H;
        for (int64_t j = 0; j < H; ++j) {
          const T i = z[j], f = z[H + j], g = z[2 * H + j], og = z[3 * H + j];
          const T act_c = activate(act, c_seq[o + j]);
          const T dh = (dh_seq ? dh_seq[o + j] : T(0)) + dhn[j];
          const T dc = dcn[j] + dh * og * activation_grad_from_output(act, act_c);
          dz[j] = dc * g * i * (T(1) - i);
          dz[H + j] = c_prev ? dc * c_prev[j] * f * (T(1) - f) : T(0);
          dz[2 * H + j] = dc * i * activation_grad_from_output(act, g);
          dz[3 * H + j] = dh * act_c * og * (T(1) - og);
          dcn[j] = dc * f;
        }
      }
      gemm<T>(false, nb, H, G, dZ.data() + b0 * ldg + t * G, ldg, UT.data(), H, dh_next, H, false);
    }
    const int64_t rows = nb * T_;
    const T* dZ_rows = dZ.data() + b0 * ldg;
    detail::shifted_states(b0, b1, T_, H, h0, h_seq, prev.data());
    gemm<T>(false, rows, I, G, dZ_rows, G, WT.data(), I, dx + b0 * T_ * I, I, false);
    gemm<T>(true, I, G, rows, x + b0 * T_ * I, I, dZ_rows, G, slots.dW(s), G, false);
    gemm<T>(true, H, G, rows, prev.data() + b0 * ld, H, dZ_rows, G, slots.dU(s), G, false);
    detail::add_column_sums(rows, G, dZ_rows, G, slots.db(s));
  });
  slots.reduce_into(threads, dW, dU, db);
}

#define FASTRNN_INSTANTIATE(T)                                                                  \
  template void lstm_forward<T>(int64_t, int64_t, int64_t, int64_t, Activation, const T*,       \
                                const T*, const T*, const T*, const T*, const T*, T*, T*, T*);  \
  template void lstm_backward<T>(int64_t, int64_t, int64_t, int64_t, Activation, const T*,      \
                                 const T*, const T*, const T*, const T*, const T*, const T*,    \
                                 const T*, const T*, const T*, const T*, T*, T*, T*, T*, T*,    \
                                 T*);
FASTRNN_INSTANTIATE(float)
FASTRNN_INSTANTIATE(double)

}  // namespace fastrnn
