// Dense layers of the fused trainer (dense.hpp). The products are plain unit-stride loops that
// the compiler vectorises: Dense heads are small (a few units over a few hundred rows).
#include "dense.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace fastrnn {
namespace train {

namespace {

template <class T>
T stable_sigmoid(T a) {
  const T e = std::exp(-std::fabs(a));
  return a >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
}

}  // namespace

template <class T>
void dense_activate(DenseActivation act, int64_t rows, int64_t n, const T* a, T* y) {
  const int64_t total = rows * n;
  switch (act) {
    case DenseActivation::Linear: std::memcpy(y, a, sizeof(T) * total); break;
    case DenseActivation::Relu:
      for (int64_t k = 0; k < total; ++k) y[k] = a[k] > T(0) ? a[k] : T(0);
      break;
    case DenseActivation::Sigmoid:
      for (int64_t k = 0; k < total; ++k) y[k] = stable_sigmoid(a[k]);
      break;
    case DenseActivation::Tanh:
      for (int64_t k = 0; k < total; ++k) y[k] = std::tanh(a[k]);
      break;
    case DenseActivation::LeakyRelu:
      for (int64_t k = 0; k < total; ++k) y[k] = a[k] > T(0) ? a[k] : a[k] * T(0.2);
      break;
    case DenseActivation::Elu:
      for (int64_t k = 0; k < total; ++k)
        y[k] = a[k] > T(0) ? a[k] : std::expm1(std::min(a[k], T(0)));
      break;
    case DenseActivation::Softmax:
      for (int64_t r = 0; r < rows; ++r) {
        const T* ar = a + r * n;
        T* yr = y + r * n;
        T m = ar[0];
        for (int64_t j = 1; j < n; ++j) m = std::max(m, ar[j]);
        T s = 0;
        for (int64_t j = 0; j < n; ++j) s += (yr[j] = std::exp(ar[j] - m));
        for (int64_t j = 0; j < n; ++j) yr[j] /= s;
      }
      break;
  }
}

template <class T>
void dense_activation_backward(DenseActivation act, int64_t rows, int64_t n, const T* a,
                               const T* y, T* dy) {
  const int64_t total = rows * n;
  switch (act) {
    case DenseActivation::Linear: break;
    case DenseActivation::Relu:
      for (int64_t k = 0; k < total; ++k) dy[k] = a[k] > T(0) ? dy[k] : T(0);
      break;
    case DenseActivation::Sigmoid:
      for (int64_t k = 0; k < total; ++k) dy[k] = dy[k] * y[k] * (T(1) - y[k]);
      break;
    case DenseActivation::Tanh:
      for (int64_t k = 0; k < total; ++k) dy[k] = dy[k] * (T(1) - y[k] * y[k]);
      break;
    case DenseActivation::LeakyRelu:
      for (int64_t k = 0; k < total; ++k) dy[k] = dy[k] * (a[k] > T(0) ? T(1) : T(0.2));
      break;
    case DenseActivation::Elu:
      for (int64_t k = 0; k < total; ++k) dy[k] = dy[k] * (a[k] > T(0) ? T(1) : y[k] + T(1));
      break;
    case DenseActivation::Softmax:
      for (int64_t r = 0; r < rows; ++r) {
        const T* yr = y + r * n;
        T* dr = dy + r * n;
        T s = 0;
        for (int64_t j = 0; j < n; ++j) s += dr[j] * yr[j];
        for (int64_t j = 0; j < n; ++j) dr[j] = yr[j] * (dr[j] - s);
      }
      break;
  }
}

template <class T>
void dense_forward(int64_t rows, int64_t k, int64_t n, const T* x, const T* W, const T* b,
                   T* out) {
  if (n == 1) {  // as below, with the inner loop of one written out
    const T b0 = b ? b[0] : T(0);
    for (int64_t r = 0; r < rows; ++r) {
      const T* xr = x + r * k;
      T o = b0;
      for (int64_t i = 0; i < k; ++i) o += xr[i] * W[i];
      out[r] = o;
    }
    return;
  }
  for (int64_t r = 0; r < rows; ++r) {
    T* __restrict o = out + r * n;
    if (b) std::memcpy(o, b, sizeof(T) * n);
    else std::memset(o, 0, sizeof(T) * n);
    const T* xr = x + r * k;
    for (int64_t i = 0; i < k; ++i) {
      const T a = xr[i];
      const T* __restrict w = W + i * n;
      for (int64_t j = 0; j < n; ++j) o[j] += a * w[j];
    }
  }
}

template <class T>
void dense_backward(int64_t rows, int64_t k, int64_t n, const T* x, const T* W, const T* da,
                    T* dW, T* db, T* dx) {
  std::memset(dW, 0, sizeof(T) * k * n);
  if (db) std::memset(db, 0, sizeof(T) * n);
  if (n == 1) {
    // One output (a regression head): the loops below with their inner loop of one, written
    // out: the same sums in the same order.
    T bsum = 0;
    for (int64_t r = 0; r < rows; ++r) {
      const T d = da[r];
      const T* xr = x + r * k;
      for (int64_t i = 0; i < k; ++i) dW[i] += xr[i] * d;
      bsum += d;
      if (dx)
        for (int64_t i = 0; i < k; ++i) dx[r * k + i] = T(0) + d * W[i];
    }
    if (db) db[0] = bsum;
    return;
  }
  for (int64_t r = 0; r < rows; ++r) {
    const T* __restrict d = da + r * n;
    const T* xr = x + r * k;
    for (int64_t i = 0; i < k; ++i) {
      const T a = xr[i];
      T* __restrict w = dW + i * n;
      for (int64_t j = 0; j < n; ++j) w[j] += a * d[j];
    }
    if (db)
      for (int64_t j = 0; j < n; ++j) db[j] += d[j];
    if (dx) {
      T* xo = dx + r * k;
      for (int64_t i = 0; i < k; ++i) {
        const T* __restrict w = W + i * n;
        T s = 0;
        for (int64_t j = 0; j < n; ++j) s += d[j] * w[j];
        xo[i] = s;
      }
    }
  }
}

#define FASTRNN_DENSE_INSTANTIATE(T)                                                            \
  template void dense_activate<T>(DenseActivation, int64_t, int64_t, const T*, T*);           \
  template void dense_activation_backward<T>(DenseActivation, int64_t, int64_t, const T*,     \
                                             const T*, T*);                                   \
  template void dense_forward<T>(int64_t, int64_t, int64_t, const T*, const T*, const T*, T*); \
  template void dense_backward<T>(int64_t, int64_t, int64_t, const T*, const T*, const T*, T*, \
                                  T*, T*);
FASTRNN_DENSE_INSTANTIATE(float)
FASTRNN_DENSE_INSTANTIATE(double)
#undef FASTRNN_DENSE_INSTANTIATE

}  // namespace train
}  // namespace fastrnn
