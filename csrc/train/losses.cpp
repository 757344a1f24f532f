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

// softplus(r) = log(1 + e^r) and its derivative sigmoid(r), from e = exp(-|r|) so that neither
// overflows for any |r| (NumPy's form in fastrnn.nn.losses).
template <class T>
inline T softplus_of(T r, T e) { return std::max(r, T(0)) + std::log1p(e); }
template <class T>
inline T sigmoid_of(T r, T e) { return r >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e); }

// One row of the Gaussian head: K means then K raw scales; returns the row's loss (mean over K)
// and writes its gradient / n.
template <class T>
T gaussian_row(int64_t K, T eps, T n, const T* pe, const T* t, T* ge) {
  const T half_log_2pi = T(0.9189385332046727);  // 0.5 log(2 pi)
  const T k = T(K);
  T per = 0;
  for (int64_t j = 0; j < K; ++j) {
    const T mu = pe[j], r = pe[K + j];
    const T e = std::exp(-std::fabs(r));
    const T sigma = softplus_of(r, e) + eps;
    const T z = (t[j] - mu) / sigma;
    per += half_log_2pi + std::log(sigma) + T(0.5) * z * z;
    ge[j] = -z / sigma / k / n;
    ge[K + j] = (T(1) - z * z) / sigma * sigmoid_of(r, e) / k / n;
  }
  return per / k;
}

// One row of the quantile head: Q blocks of K (the lowest quantile, then softplus increments);
// returns the row's loss (mean over Q and K) and writes its gradient / n. The gradient of
// quantile j reaches every block i <= j (a suffix sum), through the increments' sigmoid.
template <class T>
T quantile_row(int64_t K, const std::vector<double>& taus, T n, const T* pe, const T* t, T* ge) {
  const int64_t Q = static_cast<int64_t>(taus.size());
  const T qk = T(double(Q * K));
  T per = 0;
  for (int64_t i = 0; i < K; ++i) {
    T q = pe[i];
    for (int64_t j = 0; j < Q; ++j) {
      if (j > 0) {
        const T r = pe[j * K + i];
        q = q + softplus_of(r, std::exp(-std::fabs(r)));
      }
      const T tau = T(taus[j]);
      const T u = t[i] - q;
      per += std::max(tau * u, (tau - T(1)) * u);
      ge[j * K + i] = (u < T(0) ? T(1) - tau : -tau) / qk;  // dL/dq_j, then the chain below
    }
    T acc = 0;
    for (int64_t j = Q; j-- > 1;) {
      acc += ge[j * K + i];
      const T r = pe[j * K + i];
      ge[j * K + i] = acc * sigmoid_of(r, std::exp(-std::fabs(r))) / n;
    }
    ge[i] = (acc + ge[i]) / n;
  }
  return per / qk;
}

}  // namespace

template <class T>
double loss_and_grad(const LossSpec& L, int64_t entries, int64_t C, const T* p, const T* y,
                     const int64_t* labels, const T* w, T* g, T* t) {
  const T n = T(std::max<int64_t>(entries, 1));
  const T k = T(C);
  const int64_t K = C / outputs_per_target(L);  // target values per row
  const T lo = T(kEpsilon), hi = T(1.0 - kEpsilon);
  double total = 0;
  for (int64_t e = 0; e < entries; ++e) {
    const T* pe = p + e * C;
    T* ge = g + e * C;
    if (labels) {
      for (int64_t j = 0; j < C; ++j) t[j] = T(0);
      t[labels[e]] = T(1);
    } else {
      std::memcpy(t, y + e * K, sizeof(T) * K);
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
      case LossKind::GaussianNll:
        per = gaussian_row(K, T(L.eps), n, pe, t, ge);
        break;
      case LossKind::Quantile:
        per = quantile_row(K, L.quantiles, n, pe, t, ge);
        break;
    }
    if (w) {  // Keras's sample_weight: the row's loss and its gradient times its weight
      const T we = w[e];
      per *= we;
      for (int64_t j = 0; j < C; ++j) ge[j] *= we;
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
                                   const int64_t*, const T*, T*, T*);                         \
  template double penalty<T>(const std::vector<ParamArray>&, const T*);                       \
  template void add_penalty_gradients<T>(const std::vector<ParamArray>&, const T*, T*);
FASTRNN_LOSSES_INSTANTIATE(float)
FASTRNN_LOSSES_INSTANTIATE(double)
#undef FASTRNN_LOSSES_INSTANTIATE

}  // namespace train
}  // namespace fastrnn
