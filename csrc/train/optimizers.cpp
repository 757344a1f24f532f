// Gradient clipping and optimiser updates of the fused trainer (optimizers.hpp): plain
// unit-stride loops over the flat parameter vector, which the compiler vectorises.
#include "optimizers.hpp"

#include <cmath>

namespace fastrnn {
namespace train {

int optimizer_slot_count(const OptimizerSpec& opt) {
  switch (opt.kind) {
    case OptimizerKind::Sgd: return opt.momentum != 0 ? 1 : 0;
    case OptimizerKind::Adam: return 2;
    default: return 1 + (opt.momentum != 0 ? 1 : 0) + (opt.centered ? 1 : 0);
  }
}

template <class T>
void clip_gradients(const OptimizerSpec& opt, const std::vector<ParamArray>& arrays,
                    int64_t n_params, T* grad) {
  if (opt.clipvalue > 0) {
    const T c = T(opt.clipvalue);
    for (int64_t k = 0; k < n_params; ++k) {
      const T v = grad[k];
      grad[k] = v < -c ? -c : (v > c ? c : v);  // NaN stays NaN
    }
  } else if (opt.clipnorm > 0) {
    for (const ParamArray& a : arrays) {
      T* g = grad + a.offset;
      double s = 0;
      for (int64_t k = 0; k < a.size; ++k) s += double(g[k]) * double(g[k]);
      const double norm = std::sqrt(s);
      if (norm > opt.clipnorm) {
        const T f = T(opt.clipnorm / norm);
        for (int64_t k = 0; k < a.size; ++k) g[k] *= f;
      }
    }
  } else if (opt.global_clipnorm > 0) {
    double s = 0;
    for (const ParamArray& a : arrays)
      for (int64_t k = 0; k < a.size; ++k)
        s += double(grad[a.offset + k]) * double(grad[a.offset + k]);
    const double norm = std::sqrt(s);
    if (norm > opt.global_clipnorm) {
      const T f = T(opt.global_clipnorm / norm);
      for (const ParamArray& a : arrays)
        for (int64_t k = 0; k < a.size; ++k) grad[a.offset + k] *= f;
    }
  }
}

// One update with iteration number t (1-based), elementwise over the flat vector, in T with
// the scalars rounded to T first: the NumPy expressions of fastrnn.nn.optimizers.
template <class T>
void apply_update(const OptimizerSpec& opt, int64_t t, int64_t n, const T* __restrict g,
                  T* __restrict p, T* const* slots) {
  const T lr = T(opt.learning_rate);
  switch (opt.kind) {
    case OptimizerKind::Sgd: {
      if (opt.momentum == 0) {
        for (int64_t k = 0; k < n; ++k) p[k] -= lr * g[k];
        break;
      }
      T* __restrict m = slots[0];
      const T mu = T(opt.momentum);
      for (int64_t k = 0; k < n; ++k) {
        m[k] *= mu;
        m[k] -= lr * g[k];
        if (opt.nesterov) p[k] += mu * m[k] - lr * g[k];
        else p[k] += m[k];
      }
      break;
    }
    case OptimizerKind::Adam: {
      T* __restrict m = slots[0];
      T* __restrict v = slots[1];
      const double td = double(t);
      const T alpha = T(opt.learning_rate * std::sqrt(1 - std::pow(opt.beta_2, td)) /
                        (1 - std::pow(opt.beta_1, td)));
      const T a1 = T(1 - opt.beta_1), a2 = T(1 - opt.beta_2), eps = T(opt.epsilon);
      for (int64_t k = 0; k < n; ++k) {
        m[k] += a1 * (g[k] - m[k]);
        v[k] += a2 * (g[k] * g[k] - v[k]);
        p[k] -= alpha * m[k] / (std::sqrt(v[k]) + eps);
      }
      break;
    }
    case OptimizerKind::Rmsprop: {
      T* __restrict v = slots[0];
      T* mom = opt.momentum != 0 ? slots[1] : nullptr;
      T* avg = opt.centered ? slots[optimizer_slot_count(opt) - 1] : nullptr;
      const T rho = T(opt.rho), a = T(1 - opt.rho), eps = T(opt.epsilon), mu = T(opt.momentum);
      for (int64_t k = 0; k < n; ++k) {
        v[k] *= rho;
        v[k] += a * (g[k] * g[k]);
        T den;
        if (avg) {
          avg[k] *= rho;
          avg[k] += a * g[k];
          den = v[k] - avg[k] * avg[k] + eps;
        } else {
          den = v[k] + eps;
        }
        const T inc = lr * g[k] / std::sqrt(den);
        if (mom) {
          mom[k] *= mu;
          mom[k] += inc;
          p[k] -= mom[k];
        } else {
          p[k] -= inc;
        }
      }
      break;
    }
  }
}

#define FASTRNN_OPTIMIZERS_INSTANTIATE(T)                                                       \
  template void clip_gradients<T>(const OptimizerSpec&, const std::vector<ParamArray>&,       \
                                  int64_t, T*);                                               \
  template void apply_update<T>(const OptimizerSpec&, int64_t, int64_t, const T*, T*,         \
                                T* const*);
FASTRNN_OPTIMIZERS_INSTANTIATE(float)
FASTRNN_OPTIMIZERS_INSTANTIATE(double)
#undef FASTRNN_OPTIMIZERS_INSTANTIATE

}  // namespace train
}  // namespace fastrnn
