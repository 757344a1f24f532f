// Fused training: whole epochs of a Sequential model (an optional Masking first layer, stacked
// Elman / LSTM / GRU layers, forwards, backwards, stateful or in Bidirectional pairs, Dense
// layers, Dropout) in C++, with no Python per batch or per time step. Implemented in csrc/train/: loop.cpp (the plan and the epoch), dense.cpp, losses.cpp
// (with the penalties), optimizers.cpp (with clipping).
//
// One epoch = for each batch of the (given) sample order: gather the batch, forward through the
// layers (the recurrent ones through the dispatching kernels of elman.hpp / lstm.hpp /
// gru.hpp), the loss and its gradient, backpropagation (BPTT in the kernels), the L1/L2
// penalties and their gradients, gradient clipping, the optimiser update of the flat parameter
// vector. Every formula is the one of the Python path (fastrnn.nn: the model's training loop and
// the losses, regularizers and optimizers it uses), which stays the reference:
// tests/nn/test_fused_training.py checks that one epoch through either path leaves the same
// weights.
//
// Non-finite values: a batch whose loss (with penalties) is NaN or inf is not applied, the
// epoch stops there, and the update before it is undone (parameters and optimiser state are
// restored from a backup taken before every update: the Python path's rule, "keep the last
// weights whose loss was finite"). A batch whose gradient is non-finite stops the epoch without
// applying that update and without undoing anything. The model is never half-updated.
//
// Dropout masks are not drawn here: the caller passes, per epoch, one mask row per sample (in
// the order the samples are drawn), so that the random stream is exactly the Python path's.
//
// Step masks (a Masking first layer, fastrnn.nn.layers.masking): per batch, a step is masked
// when all its features equal mask_value; the Masking output zeroes those steps, and the
// (B, steps) mask goes to every recurrent layer's kernels (the states carry over masked steps)
// until a recurrent layer that returns one vector ends it. Dense and Dropout pass it on. When
// it reaches the output, each batch's per-entry losses are weighted (times the sample weights)
// by (the batch's entries / its valid entries) where valid and 0 where masked: Keras's
// apply_mask, as the Python path does.
//
// go_backwards (a recurrent layer, or a Bidirectional's backward half): the layer reads its input
// and its step mask reversed in time and returns its outputs in that reversed order (Keras's and
// the Python path's rule); the step mask it passes on stays in time order.
//
// Bidirectional: two recurrent halves (`halves`, forward then backward) read the same input under
// the same step mask; with return_sequences the backward half's outputs are reversed back into
// time order; then merged (concat on the last axis, sum, mul, ave). Its dropout mask row per
// sample is the forward half's columns, then the backward half's (each only with dropout).
//
// stateful (a recurrent layer or a Bidirectional half, not under a step mask): each batch starts
// from the final states of the batch before it, row by row (the caller's state arrays, read and
// written in place across the epoch: Keras's stateful=True, as the Python path carries them);
// every batch then has max_batch samples. The gradient does not flow into those states (the
// Python path treats them as constants).
//
// Shapes (glossary of elman.hpp): n samples, S time steps, F features; all C-contiguous.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "fastrnn/activations.hpp"
#include "fastrnn/cells.hpp"

namespace fastrnn {
namespace train {

// The recurrent kinds have the values of their Cell (cells.hpp).
enum class LayerKind : int {
  Elman = 0, Lstm = 1, Gru = 2, Dense = 3, Dropout = 4, Masking = 5, Bidirectional = 6
};
static_assert(static_cast<int>(LayerKind::Elman) == static_cast<int>(Cell::Elman) &&
                  static_cast<int>(LayerKind::Lstm) == static_cast<int>(Cell::Lstm) &&
                  static_cast<int>(LayerKind::Gru) == static_cast<int>(Cell::Gru),
              "a recurrent LayerKind is its Cell");

constexpr bool is_recurrent(LayerKind k) { return static_cast<int>(k) < int(kCellCount); }
constexpr LayerKind layer_kind(Cell c) { return static_cast<LayerKind>(static_cast<int>(c)); }
// The cell of a recurrent kind (is_recurrent(k)).
constexpr const CellInfo& cell_of(LayerKind k) { return kCells[static_cast<int>(k)]; }

// Keras's Dense activations (fastrnn.nn.activations).
enum class DenseActivation : int {
  Linear = 0, Relu = 1, Sigmoid = 2, Tanh = 3, Softmax = 4, LeakyRelu = 5, Elu = 6
};

enum class LossKind : int {
  MeanSquaredError = 0, MeanAbsoluteError = 1, BinaryCrossentropy = 2,
  CategoricalCrossentropy = 3, SparseCategoricalCrossentropy = 4,
  // Distributional heads (fastrnn.nn.losses.GaussianNLL / QuantileLoss): the output has P
  // blocks of K values per row (P = 2 or the number of quantiles) for K targets.
  GaussianNll = 5, Quantile = 6
};

// How a Bidirectional layer merges its halves' outputs.
enum class MergeMode : int { Concat = 0, Sum = 1, Mul = 2, Ave = 3 };

enum class OptimizerKind : int { Sgd = 0, Adam = 1, Rmsprop = 2 };

// One layer. Its input per sample is (steps, in); its output (steps or 1, units).
struct LayerSpec {
  LayerKind kind = LayerKind::Dense;
  int64_t steps = 1;        // time steps of the input (1 for 2-D (batch, features) data)
  int64_t in = 0;           // features per step, in
  int64_t units = 0;        // features per step, out (Dropout, Masking: = in)
  Activation activation = Activation::Tanh;  // recurrent cell activation
  bool return_sequences = false;             // recurrent: output (steps, units) or (1, units)
  bool reset_after = true;                   // GRU variant
  DenseActivation dense_activation = DenseActivation::Linear;
  // Offsets into the flat parameter vector of the kernel (in, G*units), recurrent kernel
  // (units, G*units) and bias (G*units, or 2*3*units for a reset_after GRU); b = -1: no bias
  // (a zero bias that is not trained).
  int64_t w = -1, u = -1, b = -1;
  // Takes a dropout mask per epoch: recurrent layers (n, in), one per sequence and shared by
  // all steps (Keras's `dropout=`); Dropout layers (n, steps * in).
  bool dropout = false;
  double mask_value = 0;              // Masking (the first layer only)
  // Recurrent under a step mask: a masked step outputs zeros instead of the carried state
  // (the last output likewise when the last step is masked).
  bool zero_output_for_mask = false;
  bool go_backwards = false;          // recurrent: reads the sequence reversed (see above)
  bool stateful = false;              // recurrent: carries its states across batches (above)
  MergeMode merge_mode = MergeMode::Concat;  // Bidirectional
  std::vector<LayerSpec> halves;      // Bidirectional: its forward and backward recurrent halves
};

// Time steps of a layer's output: 1 for a recurrent layer that returns its last state only.
inline int64_t output_steps(const LayerSpec& l) {
  const bool one = is_recurrent(l.kind) || l.kind == LayerKind::Bidirectional;
  return one && !l.return_sequences ? 1 : l.steps;
}

// Columns of a layer's dropout mask per sample: Dropout masks every input value, a recurrent
// layer's mask is shared by all steps; a Bidirectional's is its halves' (with dropout) side by side.
inline int64_t mask_columns(const LayerSpec& l) {
  if (l.kind == LayerKind::Bidirectional) {
    int64_t cols = 0;
    for (const LayerSpec& h : l.halves) cols += h.dropout ? h.in : 0;
    return cols;
  }
  return l.kind == LayerKind::Dropout ? l.steps * l.in : l.in;
}

// One trainable array of the flat parameter vector with its penalty l1 sum|w| + l2 sum w^2.
// Gradient clipping by norm acts per array, as in the Python path.
struct ParamArray {
  int64_t offset = 0, size = 0;
  double l1 = 0, l2 = 0;
};

struct LossSpec {
  LossKind kind = LossKind::MeanSquaredError;
  bool from_logits = false;  // cross-entropies only
  double eps = 1e-6;         // GaussianNll: sigma = softplus(raw) + eps
  std::vector<double> quantiles;  // Quantile: the levels tau, increasing in (0, 1)
};

// Output values per target value: 2 (mean, raw scale) for GaussianNll, one per quantile for
// Quantile, 1 otherwise. The targets of a row are its output columns / this.
inline int64_t outputs_per_target(const LossSpec& L) {
  if (L.kind == LossKind::GaussianNll) return 2;
  if (L.kind == LossKind::Quantile) return static_cast<int64_t>(L.quantiles.size());
  return 1;
}

// Keras 3's update rules (fastrnn.nn.optimizers). Clipping values <= 0 mean "off".
struct OptimizerSpec {
  OptimizerKind kind = OptimizerKind::Adam;
  double learning_rate = 1e-3;
  double beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7;  // Adam (epsilon also RMSprop's)
  double momentum = 0, rho = 0.9;                        // SGD / RMSprop
  bool nesterov = false, centered = false;
  double clipnorm = 0, clipvalue = 0, global_clipnorm = 0;
};

// The optimiser's slot arrays, each of n_params entries, in the Python order:
// SGD [m] (momentum only), Adam [m, v], RMSprop [v, m (momentum only), a (centered only)].
int optimizer_slot_count(const OptimizerSpec& opt);

enum class Stop : int { None = 0, Loss = 1, Gradient = 2 };

struct EpochResult {
  int64_t batches = 0;      // batches whose update was applied (and kept)
  int64_t samples = 0;      // their samples
  double loss_sum = 0;      // sum over those batches of (loss + penalties) * batch size
  int64_t iterations = 0;   // the optimiser's iteration count afterwards
  Stop stop = Stop::None;
  int64_t stop_batch = -1;  // index of the batch that stopped the epoch
  double stop_loss = 0;     // its loss (Stop::Loss)
  bool rolled_back = false; // Stop::Loss: the previous update was undone
};

// A model's training state between epochs: its layer plan, scratch space for batches of up to
// max_batch samples, and the backup of the last update. Create one per fit.
template <class T>
class Trainer {
 public:
  // Throws std::invalid_argument if the plan is inconsistent (the binding validates first).
  Trainer(std::vector<LayerSpec> layers, std::vector<ParamArray> arrays, int64_t n_params,
          LossSpec loss, int64_t max_batch);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // One epoch over n samples in batches of batch_size (<= max_batch).
  //   x       (n, steps, in) of the first layer
  //   y       (n, R, C / P) targets (R = output steps, C = output units, P =
  //           outputs_per_target(loss): shaped like the output for P = 1), or nullptr with
  //           labels (n, R) class indices in [0, C) for the sparse loss
  //   weights (n, R) per-entry loss weights (Keras's sample_weight: each entry's loss times its
  //           weight, the batch's sum divided by the batch's entries); nullptr: all 1
  //   order   (n) the sample drawn at each position (a permutation of 0..n-1); nullptr: 0..n-1
  //   masks   one pointer per layer: its dropout mask for the epoch (rows in drawn order),
  //           or nullptr for none this epoch
  //   params  (n_params) updated in place; slots: optimizer_slot_count(opt) arrays (n_params)
  //   iterations  the optimiser's iteration count before the epoch (Adam's t - 1)
  //   pred    (n, R, C) = the prediction of each drawn sample, before its batch's update
  //           (for metrics); nullable
  //   states  state_count() arrays (max_batch, units): each stateful recurrent unit's states in
  //           plan order (a Bidirectional's halves forward first; h, then c for an LSTM),
  //           read and updated in place; nullptr when there is none
  EpochResult epoch(int64_t n, const T* x, const T* y, const int64_t* labels,
                    const T* weights, const int64_t* order, int64_t batch_size,
                    const T* const* masks, T* params, T* const* slots, const OptimizerSpec& opt,
                    int64_t iterations, T* pred, T* const* states = nullptr);

  // The number of state arrays epoch() takes (0 without stateful layers).
  int64_t state_count() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

extern template class Trainer<float>;
extern template class Trainer<double>;

}  // namespace train
}  // namespace fastrnn
