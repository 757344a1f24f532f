// LSTM forward and backpropagation through time on the CPU.
//
// Forward: the gate pre-activations x W + b of all of a thread's (b, t) rows are one product
// written into `gates`; each step adds h_{t-1} U in place, then one fused pass applies the gate
// functions, updates c and h, and overwrites the pre-activations with the activated gates (which
// is all the backward pass needs: every derivative is a function of a gate's output).
// Backward: per step one fused pass turns (dh, dc) into the four pre-activation gradients dZ_t,
// then dh_next = dZ_t U^T; dx, dW, dU, db are one product each over all steps. A masked step
// (Keras's mask) keeps h_{t-1} and c_{t-1} and passes dh, dc through (detail::skipped).
#include "common.hpp"
#include "gemm.hpp"
#include "kernels.hpp"

namespace fastrnn {
namespace FASTRNN_ISA_NS {
namespace {

// One row of one step: z holds the pre-activations [i f g o] (4H) and gets the activations.
template <Activation A, class T>
void forward_row(int64_t H, T* __restrict z, const T* __restrict c_prev, T* __restrict c,
                 T* __restrict h) {
  for (int64_t j = 0; j < H; ++j) {
    const T i = detail::sigmoid(z[j]), f = detail::sigmoid(z[H + j]);
    const T g = detail::act<A>(z[2 * H + j]), o = detail::sigmoid(z[3 * H + j]);
    const T cj = f * c_prev[j] + i * g;
    z[j] = i;
    z[H + j] = f;
    z[2 * H + j] = g;
    z[3 * H + j] = o;
    c[j] = cj;
    h[j] = o * detail::act<A>(cj);
  }
}

// One row of one step backwards: dz (4H) = dL/d pre-activations; dc_next: dL/dc_t in,
// dL/dc_{t-1} out. dh = dh_seq + dh_next is dL/dh_t.
template <Activation A, class T>
void backward_row(int64_t H, const T* __restrict z, const T* __restrict c,
                  const T* __restrict c_prev, const T* __restrict dh_seq,
                  const T* __restrict dh_next, T* __restrict dc_next, T* __restrict dz) {
  for (int64_t j = 0; j < H; ++j) {
    const T i = z[j], f = z[H + j], g = z[2 * H + j], o = z[3 * H + j];
    const T act_c = detail::act<A>(c[j]);
    const T dh = dh_seq[j] + dh_next[j];
    const T dc = dc_next[j] + dh * o * detail::act_grad<A>(act_c);
    dz[j] = dc * g * i * (T(1) - i);
    dz[H + j] = dc * c_prev[j] * f * (T(1) - f);
    dz[2 * H + j] = dc * i * detail::act_grad<A>(g);
    dz[3 * H + j] = dh * act_c * o * (T(1) - o);
    dc_next[j] = dc * f;
  }
}

}  // namespace

template <class T>
void lstm_forward(int64_t B, int64_t T_, int64_t I, int64_t H, Activation act, const T* x,
                  const T* W, const T* U, const T* b, const T* h0, const T* c0, T* h_seq,
                  T* c_seq, T* gates, const uint8_t* mask) {
  const int64_t G = 4 * H;
  const int threads = detail::plan_threads(B, 2.0 * B * T_ * G * (I + H));
  detail::Buffer<T> zeros(H);
  const bool narrow = !mask && detail::narrow<T>(H, B / threads);
  // Narrow with few inputs (I <= 4H): the input projection joins the recurrent product, one
  // product per step of [W; U]^T (G, I + H) with the panel [x_t; h_{t-1}] (I + H, rows), so a
  // step gathers I values per row instead of the 4H pre-activations of a separate projection.
  // Each pre-activation is still bias + x W + h U summed in that order (k over I, then H), as
  // by the projection and the recurrent product one after the other.
  const bool joined = narrow && I <= G;
  const int64_t K = I + H;
  // per row: gates 4H, c twice, h twice (joined: the [x; h] panel twice instead of h)
  const int64_t panel_width = joined ? 6 * H + 2 * K : 8 * H;
  const detail::ScratchArrays<T, 1> scratch({narrow ? B * panel_width : 0});
  detail::Buffer<T> UT(narrow ? G * (joined ? K : H) : 0);
  if (joined) {
    for (int64_t g = 0; g < G; ++g) {
      for (int64_t i = 0; i < I; ++i) UT.data()[g * K + i] = W[i * G + g];
      for (int64_t j = 0; j < H; ++j) UT.data()[g * K + I + j] = U[j * G + g];
    }
  } else if (narrow) {
    transpose(H, G, U, G, UT.data());
  }
  const detail::Stop stop;
  detail::for_batch_slices(threads, B, [&](int64_t b0, int64_t b1, int) {
    const int64_t nb = b1 - b0, ld = T_ * H, ldg = T_ * G;
    if (nb == 0 || T_ == 0) return;
    T* Z = gates + b0 * ldg;
    const auto c_init = detail::initial_rows(c0, b0, H, zeros.data());
    if (joined && nb > 1) {
      T* const zP = scratch[0] + b0 * panel_width;
      T *c_prev = zP + 4 * nb * H, *c_cur = c_prev + nb * H, *xh_cur = c_cur + nb * H,
        *xh_next = xh_cur + nb * K;
      detail::gather_panel(nb, H, c_init.p, c_init.ld, c_prev);
      if (h0) detail::gather_panel(nb, H, h0 + b0 * H, H, xh_cur + I * nb);
      const T* xs = x + b0 * T_ * I;
      detail::with_activation(act, [&](auto A) {
        for (int64_t t = 0; t < T_; ++t) {
          T* Zt = Z + t * G;
          detail::gather_panel(nb, I, xs + t * I, T_ * I, xh_cur);
          for (int64_t g = 0; g < G; ++g) {
            const T v = b ? b[g] : T(0);
            for (int64_t r = 0; r < nb; ++r) zP[g * nb + r] = v;
          }
          // no h term before the first step without h0 (as the separate products had none)
          gemm<T>(false, G, nb, t > 0 || h0 ? K : I, UT.data(), K, xh_cur, nb, zP, nb, true);
          T* h_cur = xh_next + I * nb;
          forward_row<decltype(A)::value>(nb * H, zP, c_prev, c_cur, h_cur);
          detail::scatter_blocks(nb, H, 4, zP, Zt, ldg);
          detail::scatter_panel(nb, H, c_cur, c_seq + b0 * ld + t * H, ld);
          detail::scatter_panel(nb, H, h_cur, h_seq + b0 * ld + t * H, ld);
          detail::swap_pointers(c_prev, c_cur);
          detail::swap_pointers(xh_cur, xh_next);
          if (stop(2.0 * nb * G * K)) return;
        }
      });
      return;
    }
    if (!detail::project_rows(nb * T_, I, G, x + b0 * T_ * I, W, b, Z, stop)) return;
    if (narrow && nb > 1) {
      // Panels (column-major over the slice's rows): the recurrent product is U^T h^T with the
      // rows along the vectors, and the pointwise pass runs over all rows x H values at once.
      T* const zP = scratch[0] + b0 * panel_width;
      T *c_prev = zP + 4 * nb * H, *c_cur = c_prev + nb * H, *h_prev = c_cur + nb * H,
        *h_cur = h_prev + nb * H;
      detail::gather_panel(nb, H, c_init.p, c_init.ld, c_prev);
      if (h0) detail::gather_panel(nb, H, h0 + b0 * H, H, h_prev);
      detail::with_activation(act, [&](auto A) {
        for (int64_t t = 0; t < T_; ++t) {
          T* Zt = Z + t * G;
          detail::gather_blocks(nb, H, 4, Zt, ldg, zP);
          if (t > 0 || h0) gemm<T>(false, G, nb, H, UT.data(), H, h_prev, nb, zP, nb, true);
          forward_row<decltype(A)::value>(nb * H, zP, c_prev, c_cur, h_cur);
          detail::scatter_blocks(nb, H, 4, zP, Zt, ldg);
          detail::scatter_panel(nb, H, c_cur, c_seq + b0 * ld + t * H, ld);
          detail::scatter_panel(nb, H, h_cur, h_seq + b0 * ld + t * H, ld);
          detail::swap_pointers(c_prev, c_cur);
          detail::swap_pointers(h_prev, h_cur);
          if (stop(2.0 * nb * G * H)) return;
        }
      });
      return;
    }
    const int64_t block = detail::time_block_rows<T>(nb, G);
    for (int64_t k0 = 0; k0 < nb; k0 += block) {  // blocks of rows, each through all steps
      const int64_t kb = b0 + k0, kn = std::min(block, nb - k0);
      for (int64_t t = 0; t < T_; ++t) {
        T* Zt = Z + k0 * ldg + t * G;
        if (t > 0) gemm<T>(false, kn, G, H, h_seq + kb * ld + (t - 1) * H, ld, U, G, Zt, ldg, true);
        else if (h0) gemm<T>(false, kn, G, H, h0 + kb * H, H, U, G, Zt, ldg, true);
        T* c_t = c_seq + kb * ld + t * H;
        T* h_t = h_seq + kb * ld + t * H;
        detail::with_activation(act, [&](auto A) {
          for (int64_t r = 0; r < kn; ++r) {
            const T* c_prev = t > 0 ? c_t + r * ld - H : c_init.row(k0 + r);
            forward_row<decltype(A)::value>(H, Zt + r * ldg, c_prev, c_t + r * ld, h_t + r * ld);
            if (detail::skipped(mask, kb + r, T_, t)) {
              detail::copy_row(H, c_prev, c_t + r * ld);
              detail::copy_row(H, t > 0 ? h_t + r * ld - H : (h0 ? h0 + (kb + r) * H : nullptr),
                               h_t + r * ld);
            }
          }
        });
        if (stop(2.0 * kn * G * H)) return;
      }
    }
  });
}

template <class T>
void lstm_backward(int64_t B, int64_t T_, int64_t I, int64_t H, Activation act, const T* x,
                   const T* W, const T* U, const T* h0, const T* c0, const T* h_seq,
                   const T* c_seq, const T* gates, const T* dh_seq, const T* dh_last,
                   const T* dc_last, T* dx, T* dW, T* dU, T* db, T* dh0, T* dc0,
                   const uint8_t* mask) {
  const int64_t G = 4 * H;
  const int threads = detail::plan_threads(B, 4.0 * B * T_ * G * (I + H));
  detail::Buffer<T> WT(G * I), UT(G * H), zeros(H);
  const bool narrow = !mask && detail::narrow<T>(H, B / threads);
  const int64_t panel_width = 13 * H;  // per row: gates 4H, c, c_prev, dh_seq, dh_next, dc_next, dZ 4H
  const detail::ScratchArrays<T, 3> scratch({B * T_ * G, B * T_ * H, narrow ? B * panel_width : 0});
  T *const dZ = scratch[0], *const prev = scratch[1];
  transpose(I, G, W, G, WT.data());
  transpose(H, G, U, G, UT.data());
  detail::GradSlots<T> slots(threads, I * G, H * G, G);
  const detail::Stop stop;
  detail::for_batch_slices(threads, B, [&](int64_t b0, int64_t b1, int s) {
    const int64_t nb = b1 - b0, ld = T_ * H, ldg = T_ * G;
    T* dh_next = dh0 + b0 * H;  // carries dL/dh_{t-1}; ends as dL/dh0
    T* dc_next = dc0 + b0 * H;  // carries dL/dc_{t-1}; ends as dL/dc0
    if (dh_last) std::memcpy(dh_next, dh_last + b0 * H, sizeof(T) * nb * H);
    else std::memset(dh_next, 0, sizeof(T) * nb * H);
    if (dc_last) std::memcpy(dc_next, dc_last + b0 * H, sizeof(T) * nb * H);
    else std::memset(dc_next, 0, sizeof(T) * nb * H);
    const auto c_init = detail::initial_rows(c0, b0, H, zeros.data());
    if (narrow && nb > 1) {
      // Panels, as in the forward pass: dh_{t-1}^T = U dZ_t^T runs along the rows.
      T* const gP = scratch[2] + b0 * panel_width;
      T *const cP = gP + 4 * nb * H, *const cpP = cP + nb * H, *const dsP = cpP + nb * H,
               *const dnP = dsP + nb * H, *const dcP = dnP + nb * H, *const dzP = dcP + nb * H;
      detail::gather_panel(nb, H, dh_next, H, dnP);
      detail::gather_panel(nb, H, dc_next, H, dcP);
      // Without dh_seq its panel stays zero; c_t is the c_{t-1} panel of the step after (cP and
      // cpP swap roles each step), so each step gathers one state panel, not two.
      if (!dh_seq) detail::gather_panel(nb, H, zeros.data(), int64_t(0), dsP);
      T *c_cur = cP, *c_prev = cpP;
      if (T_ > 0) detail::gather_panel(nb, H, c_seq + b0 * ld + (T_ - 1) * H, ld, c_cur);
      detail::with_activation(act, [&](auto A) {
        for (int64_t t = T_ - 1; t >= 0; --t) {
          const int64_t o = b0 * ld + t * H, zo = b0 * ldg + t * G;
          detail::gather_blocks(nb, H, 4, gates + zo, ldg, gP);
          if (t > 0) detail::gather_panel(nb, H, c_seq + o - H, ld, c_prev);
          else detail::gather_panel(nb, H, c_init.p, c_init.ld, c_prev);
          if (dh_seq) detail::gather_panel(nb, H, dh_seq + o, ld, dsP);
          backward_row<decltype(A)::value>(nb * H, gP, c_cur, c_prev, dsP, dnP, dcP, dzP);
          detail::scatter_blocks(nb, H, 4, dzP, dZ + zo, ldg);
          gemm<T>(false, H, nb, G, U, G, dzP, nb, dnP, nb, false);
          detail::swap_pointers(c_cur, c_prev);
          if (stop(2.0 * nb * G * H)) break;
        }
      });
      detail::scatter_panel(nb, H, dnP, dh_next, H);
      detail::scatter_panel(nb, H, dcP, dc_next, H);
    } else {
      const int64_t block = detail::time_block_rows<T>(nb, G);
      for (int64_t k0 = 0; k0 < nb; k0 += block) {  // blocks of rows, as in the forward pass
        const int64_t kb = b0 + k0, kn = std::min(block, nb - k0);
        for (int64_t t = T_ - 1; t >= 0; --t) {
          detail::with_activation(act, [&](auto A) {
            for (int64_t r = k0; r < k0 + kn; ++r) {
              const int64_t o = (b0 + r) * ld + t * H, zo = (b0 + r) * ldg + t * G;
              if (detail::skipped(mask, b0 + r, T_, t)) {  // states carried over: dh, dc pass on
                std::memset(dZ + zo, 0, sizeof(T) * G);
                detail::add_row(H, dh_seq ? dh_seq + o : nullptr, dh_next + r * H);
                continue;
              }
              const T* c_prev = t > 0 ? c_seq + o - H : c_init.row(r);
              backward_row<decltype(A)::value>(H, gates + zo, c_seq + o, c_prev,
                                               dh_seq ? dh_seq + o : zeros.data(),
                                               dh_next + r * H, dc_next + r * H, dZ + zo);
              if (mask) std::memset(dh_next + r * H, 0, sizeof(T) * H);  // the product adds
            }
          });
          gemm<T>(false, kn, H, G, dZ + kb * ldg + t * G, ldg, UT.data(), H, dh_next + k0 * H, H,
                  mask != nullptr);
          if (stop(2.0 * kn * G * H)) return;
        }
      }
    }
    if (stop.requested()) return;
    detail::gate_weight_gradients(b0, b1, T_, I, H, G, x, W, WT.data(), h0, h_seq, dZ, prev, dx,
                                  slots.dW(s), slots.dU(s), slots.db(s), stop);
  });
  slots.reduce_into(threads, dW, dU, db);
}

#define FASTRNN_INSTANTIATE(T)                                                                  \
  template void lstm_forward<T>(int64_t, int64_t, int64_t, int64_t, Activation, const T*,       \
                                const T*, const T*, const T*, const T*, const T*, T*, T*, T*,   \
                                const uint8_t*);                                                \
  template void lstm_backward<T>(int64_t, int64_t, int64_t, int64_t, Activation, const T*,      \
                                 const T*, const T*, const T*, const T*, const T*, const T*,    \
                                 const T*, const T*, const T*, const T*, T*, T*, T*, T*, T*,    \
                                 T*, const uint8_t*);
FASTRNN_INSTANTIATE(float)
FASTRNN_INSTANTIATE(double)

}  // namespace FASTRNN_ISA_NS
}  // namespace fastrnn
