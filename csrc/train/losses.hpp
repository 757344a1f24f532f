// The loss of the fused trainer and the L1/L2 penalties added to it. Same formulas as
// fastrnn.nn's losses and regularizers.
#pragma once

#include <cstdint>
#include <vector>

#include "fastrnn/train.hpp"

namespace fastrnn {
namespace train {

// Mean over `entries` rows of C values of the loss L of predictions p against targets y (or,
// for the sparse loss, class labels: y nullptr). Per entry, everything is computed in T with
// NumPy's expressions (so a float32 loss overflows where the Python path's does); the
// per-entry losses are summed in double, as ``per.sum(dtype=float64)``. Returns the loss;
// g (entries, C) = its gradient w.r.t. p. `t` is scratch for the targets of one entry (C values;
// the one-hot row for sparse labels).
template <class T>
double loss_and_grad(const LossSpec& L, int64_t entries, int64_t C, const T* p, const T* y,
                     const int64_t* labels, T* g, T* t);

// sum over arrays of l1 sum|w| + l2 sum w^2, with the array sums in double; a sum beyond T's
// range is inf, as the Python path's sum in T is.
template <class T>
double penalty(const std::vector<ParamArray>& arrays, const T* params);

// grad += l1 sign(w) + 2 l2 w per array, evaluated in T as the Python path does.
template <class T>
void add_penalty_gradients(const std::vector<ParamArray>& arrays, const T* params, T* grad);

}  // namespace train
}  // namespace fastrnn
