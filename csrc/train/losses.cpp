// Losses and penalties of the fused trainer (losses.hpp). Arithmetic follows the Python path
// expression by expression, in the same order and precision, so that float64 epochs agree with
// it to ~1e-14 and a float32 overflow happens at the same batch.
#include "losses.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace fastrnn {
namespace train {

namespace {

constexpr double kEpsilon = 1e-7;  // Keras's epsilon for the probability clips

}  // namespace

template <class T>
double loss_and_grad(const LossSpec& L, int64_t entries, int64_t C, const T* p, const T* y,
                     const int64_t* labels, T* g, T* t) {
  const T n = T(std::max<int64_t>(entries, 1));
  const T k = T(C);
  const T lo = T(kEpsilon), hi = T(1.0 - kEpsilon);
  double total = 0;
  for (int64_t e = 0; e < entries; ++e) {
    const T* pe = p + e * C;
    T* ge = g + e * C;
    if (labels) {
      for (int64_t j = 0; j < C; ++j) t[j] = T(0);
      t[labels[e]] = T(1);
    } else {
      std::memcpy(t, y + e * C, sizeof(T) * C);
    }
    T per = 0;
    switch (L.kind) {
      case LossKind::MeanSquaredError: {
        const T two_k = T(2.0 / double(C));
        for (int64_t j = 0; j < C; ++j) {
          const T d = pe[j] - t[j];
          per += d * d;
          ge[j] = d * two_k / n;
        }
        per /= k;
        break;
      }
      case LossKind::MeanAbsoluteError:
        for (int64_t j = 0; j < C; ++j) {
          const T d = pe[j] - t[j];
          per += std::fabs(d);
          ge[j] = T((d > T(0)) - (d < T(0))) / k / n;
        }
        per /= k;
        break;
      case LossKind::BinaryCrossentropy:
        for (int64_t j = 0; j < C; ++j) {
          const T pj = pe[j], tj = t[j];
          if (L.from_logits) {
            const T ex = std::exp(-std::fabs(pj));
            per += (std::max(pj, T(0)) - pj * tj) + std::log1p(ex);
            const T sig = pj >= T(0) ? T(1) / (T(1) + ex) : ex / (T(1) + ex);
            ge[j] = (sig - tj) / k / n;
          } else {
            const T q = std::min(std::max(pj, lo), hi);
            per += -(tj * std::log(q) + (T(1) - tj) * std::log(T(1) - q));
            const bool inside = pj >= lo && pj <= hi;
            ge[j] = (inside ? -(tj / q) + (T(1) - tj) / (T(1) - q) : T(0)) / k / n;
          }
        }
        per /= k;
        break;
      case LossKind::CategoricalCrossentropy:
      case LossKind::SparseCategoricalCrossentropy:
        if (L.from_logits) {
          T m = pe[0];
          for (int64_t j = 1; j < C; ++j) m = std::max(m, pe[j]);
          T s = 0, tsum = 0;
          for (int64_t j = 0; j < C; ++j) s += std::exp(pe[j] - m);
          const T logsum = std::log(s) + m;
          for (int64_t j = 0; j < C; ++j) tsum += t[j];
          for (int64_t j = 0; j < C; ++j) {
            const T logq = pe[j] - logsum;
            per -= t[j] * logq;
            ge[j] = (std::exp(logq) * tsum - t[j]) / n;
          }
        } else {
          T s = 0, gp = 0;
          for (int64_t j = 0; j < C; ++j) s += pe[j];
          for (int64_t j = 0; j < C; ++j) {  // loss, and sum_j g_j pn_j with g_j = dL/dpn_j
            const T pn = pe[j] / s;
            const T q = std::min(std::max(pn, lo), hi);
            per -= t[j] * std::log(q);
            ge[j] = (pn >= lo && pn <= hi) ? -t[j] / q : T(0);
            gp += ge[j] * pn;
          }
          for (int64_t j = 0; j < C; ++j) ge[j] = (ge[j] - gp) / s / n;
        }
        break;
    }
    total += double(per);
  }
  return total / double(std::max<int64_t>(entries, 1));
}

template <class T>
double penalty(const std::vector<ParamArray>& arrays, const T* params) {
  double total = 0;
  for (const ParamArray& a : arrays) {
    if (a.l1 == 0 && a.l2 == 0) continue;
    const T* w = params + a.offset;
    double s1 = 0, s2 = 0;
    for (int64_t k = 0; k < a.size; ++k) {
      s1 += std::fabs(double(w[k]));
      s2 += double(w[k]) * double(w[k]);
    }
    // The Python path sums in T: a sum beyond T's range is inf there, so here too.
    const double big = double(std::numeric_limits<T>::max());
    if (a.l1) total += a.l1 * (s1 > big ? HUGE_VAL : s1);
    if (a.l2) total += a.l2 * (s2 > big ? HUGE_VAL : s2);
  }
  return total;
}

template <class T>
void add_penalty_gradients(const std::vector<ParamArray>& arrays, const T* params, T* grad) {
  for (const ParamArray& a : arrays) {
    if (a.l1 == 0 && a.l2 == 0) continue;
    const T* w = params + a.offset;
    T* g = grad + a.offset;
    const T l1 = T(a.l1), l2x2 = T(2 * a.l2);
    for (int64_t k = 0; k < a.size; ++k) {
      T r = 0;
      if (a.l1) r += l1 * T((w[k] > T(0)) - (w[k] < T(0)));
      if (a.l2) r += l2x2 * w[k];
      g[k] += r;
    }
  }
}

#define FASTRNN_LOSSES_INSTANTIATE(T)                                                           \
  template double loss_and_grad<T>(const LossSpec&, int64_t, int64_t, const T*, const T*,     \
                                   const int64_t*, T*, T*);                                   \
  template double penalty<T>(const std::vector<ParamArray>&, const T*);                       \
  template void add_penalty_gradients<T>(const std::vector<ParamArray>&, const T*, T*);
FASTRNN_LOSSES_INSTANTIATE(float)
FASTRNN_LOSSES_INSTANTIATE(double)
#undef FASTRNN_LOSSES_INSTANTIATE

}  // namespace train
}  // namespace fastrnn
