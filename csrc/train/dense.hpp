// Dense layers of the fused trainer: Keras's Dense activations and the small products
// y = act(x W + b) with their gradients. Rows are (sample, step) pairs; every array is
// C-contiguous. Same formulas as fastrnn.nn's Dense and activations, in T.
#pragma once

#include <cstdint>

#include "fastrnn/train.hpp"

namespace fastrnn {
namespace train {

// y (rows, n) = act(a), row-wise for softmax.
template <class T>
void dense_activate(DenseActivation act, int64_t rows, int64_t n, const T* a, T* y);

// dy <- dL/da in place, from the pre-activation a and the output y.
template <class T>
void dense_activation_backward(DenseActivation act, int64_t rows, int64_t n, const T* a,
                               const T* y, T* dy);

// out (rows, n) = x (rows, k) W (k, n) + b (b nullable: no bias)
template <class T>
void dense_forward(int64_t rows, int64_t k, int64_t n, const T* x, const T* W, const T* b,
                   T* out);

// dW (k, n) = x^T da; db (n) = column sums of da (nullable); dx (rows, k) = da W^T (nullable)
template <class T>
void dense_backward(int64_t rows, int64_t k, int64_t n, const T* x, const T* W, const T* da,
                    T* dW, T* db, T* dx);

}  // namespace train
}  // namespace fastrnn
