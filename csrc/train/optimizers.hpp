// The optimisers of the fused trainer: gradient clipping and Keras 3's update rules (SGD with
// momentum / Nesterov, Adam, RMSprop plain / momentum / centered), elementwise over the flat
// parameter vector. Same formulas as fastrnn.nn's optimizers.
#pragma once

#include <cstdint>
#include <vector>

#include "fastrnn/train.hpp"

namespace fastrnn {
namespace train {

// clipvalue over the whole vector, else clipnorm per array, else global_clipnorm over all
// arrays (the first that is > 0; none: nothing). grad (n_params) is clipped in place.
template <class T>
void clip_gradients(const OptimizerSpec& opt, const std::vector<ParamArray>& arrays,
                    int64_t n_params, T* grad);

// One update with iteration number t (1-based): p (n) -= the step from g (n); slots as
// optimizer_slot_count(opt) arrays of n, updated in place.
template <class T>
void apply_update(const OptimizerSpec& opt, int64_t t, int64_t n, const T* g, T* p,
                  T* const* slots);

}  // namespace train
}  // namespace fastrnn
