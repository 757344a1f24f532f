// The loss of the fused trainer and the L1/L2 penalties added to it. Same formulas as
// fastrnn.nn's losses and regularizers.
#pragma once

#include <cstdint>
#include <vector>

#include "fastrnn/train.hpp"

namespace fastrnn {
namespace train {

// Mean over `entries` rows of C values of the loss L of predictions p against targets y (K =
// C / outputs_per_target(L) values per row) or, for the sparse loss, class labels (y nullptr).
// With weights w (entries; nullable = all 1) each row's loss and gradient are multiplied by its
// weight and the sum is still divided by `entries` (Keras's "sum_over_batch_size"). Per entry,
// everything is computed in T with NumPy's expressions (so a float32 loss overflows where the
// Python path's does); the per-entry losses are summed in double, as
// ``per.sum(dtype=float64)``. Returns the loss; g (entries, C) = its gradient w.r.t. p. `t` is
// scratch for the targets of one entry (C values; the one-hot row for sparse labels).
//
// The distributional heads, per row of K targets (fastrnn.nn.losses has the same formulas):
//   GaussianNll  p = [mu (K), raw (K)], sigma = softplus(raw) + eps,
//                loss = mean_k 0.5 log(2 pi) + log sigma + (y - mu)^2 / (2 sigma^2)
//   Quantile     p = Q blocks of K: block 0 the lowest quantile, block j > 0 the softplus
//                increment to quantile j (ordered by construction);
//                loss = mean over (Q, K) of the pinball loss max(tau u, (tau - 1) u), u = y - q
template <class T>
double loss_and_grad(const LossSpec& L, int64_t entries, int64_t C, const T* p, const T* y,
                     const int64_t* labels, const T* w, T* g, T* t);

// sum over arrays of l1 sum|w| + l2 sum w^2, with the array sums in double; a sum beyond T's
// range is inf, as the Python path's sum in T is.
template <class T>
double penalty(const std::vector<ParamArray>& arrays, const T* params);

// grad += l1 sign(w) + 2 l2 w per array, evaluated in T as the Python path does.
template <class T>
void add_penalty_gradients(const std::vector<ParamArray>& arrays, const T* params, T* grad);

}  // namespace train
}  // namespace fastrnn
