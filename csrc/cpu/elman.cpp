// Elman (SimpleRNN) forward and backpropagation through time on the CPU.
//
// Forward: the input projection x W + b for all of a thread's (b, t) rows is one product written
// straight into h_seq; each step then adds h_{t-1} U in place (h_{t-1} is read from h_seq with a
// row stride of T*H, no copy) and applies the activation. Backward: the time loop computes
// dA_t = (dh_seq_t + dh_next) * act'(h_t) and dh_next = dA_t U^T; everything that does not carry
// the recurrence (dx, dW, dU, db) is then one product each over all steps. A masked step (Keras's
// mask) keeps h_{t-1} and passes dh through (common.hpp, detail::skipped).
#include "common.hpp"
#include "gemm.hpp"
#include "kernels.hpp"

namespace fastrnn {
namespace FASTRNN_ISA_NS {
namespace {

template <Activation A, class T>
void activate_rows(int64_t rows, int64_t H, T* v, int64_t ld) {
  for (int64_t r = 0; r < rows; ++r) {
    T* __restrict row = v + r * ld;
    for (int64_t j = 0; j < H; ++j) row[j] = detail::act<A>(row[j]);
  }
}

// da = (dh_seq + dh_next) * act'(h) for one row.
template <Activation A, class T>
void grad_row(int64_t H, const T* __restrict h, const T* __restrict dh_seq,
              const T* __restrict dh_next, T* __restrict da) {
  for (int64_t j = 0; j < H; ++j) da[j] = (dh_seq[j] + dh_next[j]) * detail::act_grad<A>(h[j]);
}

}  // namespace

template <class T>
void elman_forward(int64_t B, int64_t T_, int64_t I, int64_t H, Activation act, const T* x,
                   const T* W, const T* U, const T* b, const T* h0, T* h_seq, const uint8_t* mask) {
  const int threads = detail::plan_threads(B, 2.0 * B * T_ * H * (I + H));
  const bool narrow = !mask && detail::narrow<T>(H, B / threads);
  const detail::ScratchArrays<T, 1> scratch({narrow ? 2 * B * H : 0});  // h twice per row
  detail::Buffer<T> UT(narrow ? H * H : 0);
  if (narrow) transpose(H, H, U, H, UT.data());
  const detail::Stop stop;
  detail::for_batch_slices(threads, B, [&](int64_t b0, int64_t b1, int) {
    const int64_t nb = b1 - b0, ld = T_ * H;
    if (nb == 0 || T_ == 0) return;
    T* hs = h_seq + b0 * ld;
    if (!detail::project_rows(nb * T_, I, H, x + b0 * T_ * I, W, b, hs, stop)) return;
    const double step_work = 2.0 * nb * H * H;
    if (narrow && nb > 1) {
      // Panels: h_t^T = act(x-part + U^T h_{t-1}^T) along the rows (see lstm.cpp).
      T *h_prev = scratch[0] + 2 * b0 * H, *h_cur = h_prev + nb * H;
      if (h0) detail::gather_panel(nb, H, h0 + b0 * H, H, h_prev);
      detail::with_activation(act, [&](auto A) {
        for (int64_t t = 0; t < T_; ++t) {
          detail::gather_panel(nb, H, hs + t * H, ld, h_cur);
          if (t > 0 || h0) gemm<T>(false, H, nb, H, UT.data(), H, h_prev, nb, h_cur, nb, true);
          activate_rows<decltype(A)::value>(1, nb * H, h_cur, 0);
          detail::scatter_panel(nb, H, h_cur, hs + t * H, ld);
          detail::swap_pointers(h_prev, h_cur);
          if (stop(step_work)) return;
        }
      });
      return;
    }
    for (int64_t t = 0; t < T_; ++t) {
      T* ht = hs + t * H;
      if (t > 0) gemm<T>(false, nb, H, H, ht - H, ld, U, H, ht, ld, true);
      else if (h0) gemm<T>(false, nb, H, H, h0 + b0 * H, H, U, H, ht, ld, true);
      detail::with_activation(act, [&](auto A) { activate_rows<decltype(A)::value>(nb, H, ht, ld); });
      if (mask)
        for (int64_t r = 0; r < nb; ++r)
          if (detail::skipped(mask, b0 + r, T_, t))
            detail::copy_row(H, t > 0 ? ht + r * ld - H : (h0 ? h0 + (b0 + r) * H : nullptr),
                             ht + r * ld);
      if (stop(step_work)) return;
    }
  });
}

template <class T>
void elman_backward(int64_t B, int64_t T_, int64_t I, int64_t H, Activation act, const T* x,
                    const T* W, const T* U, const T* h0, const T* h_seq, const T* dh_seq,
                    const T* dh_last, T* dx, T* dW, T* dU, T* db, T* dh0, const uint8_t* mask) {
  const int threads = detail::plan_threads(B, 4.0 * B * T_ * H * (I + H));
  detail::Buffer<T> WT(H * I), UT(H * H), zeros(H);
  const bool narrow = !mask && detail::narrow<T>(H, B / threads);
  const detail::ScratchArrays<T, 3> scratch({B * T_ * H, B * T_ * H, narrow ? 4 * B * H : 0});
  T *const dA = scratch[0], *const prev = scratch[1];
  transpose(I, H, W, H, WT.data());
  transpose(H, H, U, H, UT.data());
  detail::GradSlots<T> slots(threads, I * H, H * H, H);
  const detail::Stop stop;
  detail::for_batch_slices(threads, B, [&](int64_t b0, int64_t b1, int s) {
    const int64_t nb = b1 - b0, ld = T_ * H;
    const double step_work = 2.0 * nb * H * H;
    T* dh_next = dh0 + b0 * H;  // carries dL/dh_{t-1}; ends as dL/dh0
    if (dh_last) std::memcpy(dh_next, dh_last + b0 * H, sizeof(T) * nb * H);
    else std::memset(dh_next, 0, sizeof(T) * nb * H);
    if (narrow && nb > 1) {
      // Panels: dh_{t-1}^T = U dA_t^T along the rows.
      T* const hP = scratch[2] + 4 * b0 * H;
      T *const dsP = hP + nb * H, *const dnP = dsP + nb * H, *const daP = dnP + nb * H;
      detail::gather_panel(nb, H, dh_next, H, dnP);
      detail::with_activation(act, [&](auto A) {
        for (int64_t t = T_ - 1; t >= 0; --t) {
          const int64_t o = b0 * ld + t * H;
          detail::gather_panel(nb, H, h_seq + o, ld, hP);
          if (dh_seq) detail::gather_panel(nb, H, dh_seq + o, ld, dsP);
          else detail::gather_panel(nb, H, zeros.data(), int64_t(0), dsP);
          grad_row<decltype(A)::value>(nb * H, hP, dsP, dnP, daP);
          detail::scatter_panel(nb, H, daP, dA + o, ld);
          gemm<T>(false, H, nb, H, U, H, daP, nb, dnP, nb, false);
          if (stop(step_work)) break;
        }
      });
      detail::scatter_panel(nb, H, dnP, dh_next, H);
    } else {
      for (int64_t t = T_ - 1; t >= 0; --t) {
        detail::with_activation(act, [&](auto A) {
          for (int64_t r = 0; r < nb; ++r) {
            const int64_t o = (b0 + r) * ld + t * H;
            if (detail::skipped(mask, b0 + r, T_, t)) {  // dh_{t-1} = dh_t: the state carried over
              std::memset(dA + o, 0, sizeof(T) * H);
              detail::add_row(H, dh_seq ? dh_seq + o : nullptr, dh_next + r * H);
              continue;
            }
            grad_row<decltype(A)::value>(H, h_seq + o, dh_seq ? dh_seq + o : zeros.data(),
                                         dh_next + r * H, dA + o);
            if (mask) std::memset(dh_next + r * H, 0, sizeof(T) * H);  // the product adds into it
          }
        });
        // masked: the product adds dA U^T into dh_next (the carried rows keep their dh)
        gemm<T>(false, nb, H, H, dA + b0 * ld + t * H, ld, UT.data(), H, dh_next, H,
                mask != nullptr);
        if (stop(step_work)) break;
      }
    }
    if (stop.requested()) return;
    detail::gate_weight_gradients(b0, b1, T_, I, H, H, x, W, WT.data(), h0, h_seq, dA, prev, dx,
                                  slots.dW(s), slots.dU(s), slots.db(s), stop);
  });
  slots.reduce_into(threads, dW, dU, db);
}

#define FASTRNN_INSTANTIATE(T)                                                                  \
  template void elman_forward<T>(int64_t, int64_t, int64_t, int64_t, Activation, const T*,      \
                                 const T*, const T*, const T*, const T*, T*, const uint8_t*);   \
  template void elman_backward<T>(int64_t, int64_t, int64_t, int64_t, Activation, const T*,     \
                                  const T*, const T*, const T*, const T*, const T*, const T*,   \
                                  T*, T*, T*, T*, T*, const uint8_t*);
FASTRNN_INSTANTIATE(float)
FASTRNN_INSTANTIATE(double)

}  // namespace FASTRNN_ISA_NS
}  // namespace fastrnn
