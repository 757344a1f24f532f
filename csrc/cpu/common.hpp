// Helpers shared by the CPU cell kernels: the batch-parallel region, bias broadcast,
// column sums, the shifted state sequence, and the reduction of per-thread weight gradients.
//
// Threading model: one OpenMP region per kernel call. Each thread owns a contiguous slice of
// the batch and runs the whole time loop on it, so there is no synchronisation per step; with
// batch-first storage a slice of rows [b0, b1) is also a contiguous block of (b, t) rows, so the
// input projection and the weight-gradient products are single products per thread. Weight
// gradients are summed per thread into private slots and added up once at the end; nothing in a
// region allocates or throws (an exception cannot leave an OpenMP region).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace fastrnn {
namespace detail {

// Threads worth using: one per batch row at most, and one in all when the whole call is too
// small to repay waking a team (about 0.2 MFLOP, a few microseconds of arithmetic).
inline int plan_threads(int64_t batch, double flops) {
#ifdef _OPENMP
  if (flops < 2e5 || batch < 2) return 1;
  return static_cast<int>(std::min<int64_t>(omp_get_max_threads(), batch));
#else
  (void)batch; (void)flops;
  return 1;
#endif
}

// Calls fn(b0, b1, slot) for a partition of [0, batch) into at most `threads` slices.
template <class F>
void for_batch_slices(int threads, int64_t batch, F&& fn) {
  if (threads <= 1) {
    fn(int64_t(0), batch, 0);
    return;
  }
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
  {
    const int64_t n = omp_get_num_threads(), id = omp_get_thread_num();
    fn(batch * id / n, batch * (id + 1) / n, static_cast<int>(id));
  }
#else
  fn(int64_t(0), batch, 0);
#endif
}

// rows x n block with row stride ld: each row = bias (or zeros when bias is null).
template <class T>
void broadcast_rows(int64_t rows, int64_t n, const T* bias, T* out, int64_t ld) {
  for (int64_t r = 0; r < rows; ++r) {
    if (bias) std::memcpy(out + r * ld, bias, sizeof(T) * n);
    else std::memset(out + r * ld, 0, sizeof(T) * n);
  }
}

// out[j] += sum_r in[r * ld + j]
template <class T>
void add_column_sums(int64_t rows, int64_t n, const T* in, int64_t ld, T* out) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < n; ++j) out[j] += in[r * ld + j];
}

// prev[b, t] = state before step t: h0[b] (or zeros) at t = 0, seq[b, t - 1] after; rows [b0, b1).
template <class T>
void shifted_states(int64_t b0, int64_t b1, int64_t T_, int64_t H, const T* h0, const T* seq,
                    T* prev) {
  for (int64_t b = b0; b < b1; ++b) {
    T* p = prev + b * T_ * H;
    if (T_ == 0) continue;
    if (h0) std::memcpy(p, h0 + b * H, sizeof(T) * H);
    else std::memset(p, 0, sizeof(T) * H);
    if (T_ > 1) std::memcpy(p + H, seq + b * T_ * H, sizeof(T) * (T_ - 1) * H);
  }
}

// Per-thread slots for the weight gradients, each laid out [dW | dU | db], zero-initialised.
template <class T>
struct GradSlots {
  int64_t nW, nU, nb;
  std::vector<T> data;
  GradSlots(int slots, int64_t nW_, int64_t nU_, int64_t nb_)
      : nW(nW_), nU(nU_), nb(nb_), data(size_t(slots) * (nW_ + nU_ + nb_), T(0)) {}
  T* dW(int s) { return data.data() + size_t(s) * (nW + nU + nb); }
  T* dU(int s) { return dW(s) + nW; }
  T* db(int s) { return dU(s) + nU; }
  // dW = sum of slots, etc. (= semantics on the outputs)
  void reduce_into(int slots, T* dW_out, T* dU_out, T* db_out) {
    const int64_t n = nW + nU + nb;
    std::vector<T> sum(data.begin(), data.begin() + n);
    for (int s = 1; s < slots; ++s)
      for (int64_t k = 0; k < n; ++k) sum[k] += data[size_t(s) * n + k];
    std::memcpy(dW_out, sum.data(), sizeof(T) * nW);
    std::memcpy(dU_out, sum.data() + nW, sizeof(T) * nU);
    std::memcpy(db_out, sum.data() + nW + nU, sizeof(T) * nb);
  }
};

}  // namespace detail
}  // namespace fastrnn
