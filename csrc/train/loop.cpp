// The fused training epoch (fastrnn/train.hpp): the layer plan, its buffers, forward and
// backward through the layers, and the batch loop with its non-finite rule. Compiled once (not
// per instruction set): the time goes into the recurrent kernels, which it calls through their
// dispatching entry points (csrc/cpu/dispatch.cpp), so they run with the widest vectors the CPU
// has. What is left (gathering the batch, Dense layers, the loss, penalties, clipping and the
// optimiser update: dense.cpp, losses.cpp, optimizers.cpp) is small and memory-bound; every
// buffer is allocated once per Trainer, none per batch.
//
// Arithmetic follows the Python path formula by formula and, where it is cheap, in the same
// order and precision (losses per entry, penalty gradients and optimiser updates are computed
// in T exactly as NumPy does with its scalars cast to T; sums over many entries in double), so
// that float64 epochs agree with it to ~1e-14 and a float32 overflow happens at the same batch.
//
// Interruption (fastrnn/interrupt.hpp): with a poll installed on the calling thread, the epoch
// asks at every batch boundary, and the kernels inside a batch at their step boundaries; an
// interrupted batch is dropped whole (neither its update nor its counts are kept), so the
// parameters and optimiser state are those of the last completed update, and epoch() returns
// early. The caller finds out from its ScopedInterrupt.
//
// Sizes: every product of the plan's dimensions is checked for overflow when the Trainer is
// built (size()), so the arithmetic of the epoch, which multiplies the same dimensions with a
// batch of at most max_batch, cannot overflow.
#include "fastrnn/train.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <utility>

#include "dense.hpp"
#include "fastrnn/elman.hpp"
#include "fastrnn/gru.hpp"
#include "fastrnn/interrupt.hpp"
#include "fastrnn/lstm.hpp"
#include "losses.hpp"
#include "optimizers.hpp"

namespace fastrnn {
namespace train {

namespace {

// Gate blocks of a recurrent layer's W, U and b.
int64_t gates_of(const LayerSpec& l) { return cell_of(l.kind).gates; }

// A reset_after GRU has two bias rows (input and recurrent).
int64_t bias_size(const LayerSpec& l) {
  const int rows = cell_of(l.kind).has_reset_after && l.reset_after ? 2 : 1;
  return rows * gates_of(l) * l.units;
}

int64_t in_size(const LayerSpec& l) { return l.steps * l.in; }
int64_t out_size(const LayerSpec& l) { return output_steps(l) * l.units; }

[[noreturn]] void bad(const std::string& what) { throw std::invalid_argument(what); }

// The product of non-negative sizes, or invalid_argument naming `what` when it exceeds 2^56
// elements (no buffer that large can exist; below it, the small constant factors and sums of
// the epoch's index arithmetic stay far from overflowing int64).
int64_t size(std::initializer_list<int64_t> factors, const std::string& what) {
  constexpr int64_t kMax = int64_t(1) << 56;
  for (int64_t f : factors)
    if (f < 0) bad(what + ": a size is negative (" + std::to_string(f) + ")");
  for (int64_t f : factors)
    if (f == 0) return 0;
  int64_t p = 1;
  for (int64_t f : factors) {
    if (p > kMax / f) bad(what + " is too large (more than 2^56 elements)");
    p *= f;
  }
  return p;
}

void check_range(int64_t off, int64_t size, int64_t n_params, const std::string& what) {
  if (off < 0 || size < 0 || off > n_params || size > n_params - off)
    bad(what + " [" + std::to_string(off) + ", " + std::to_string(off) + " + " +
        std::to_string(size) + ") lies outside the parameter vector of " +
        std::to_string(n_params));
}

template <class T>
bool all_finite(const T* p, int64_t n) {
  // Sum of x - x is 0 for finite x and NaN otherwise: one branch-free, vectorisable pass.
  T acc = 0;
  for (int64_t k = 0; k < n; ++k) acc += p[k] - p[k];
  return acc == T(0);
}

}  // namespace

template <class T>
struct Trainer<T>::Impl {
  struct Layer {
    LayerSpec spec;
    std::vector<T> xin;        // recurrent with dropout / go_backwards: the input it reads (B, S, in)
    std::vector<T> seq;        // recurrent: h_seq (B, S, H)
    std::vector<T> cell, gates, rec_h;  // recurrent caches (LSTM c_seq / gates; GRU gates / rec_h)
    std::vector<T> out;        // output when it is not `seq`: last state, Dense y, Dropout
    std::vector<T> pre;        // Dense pre-activation
    std::vector<T> dx;         // dL/d input (B, S, in)
    std::vector<T> dh0, dc0;   // unused initial-state gradients
    std::vector<T> zero_bias, dbias;  // a bias that is not trained
    const T* x_used = nullptr; // the input the layer saw in this batch (for backward)
    const T* y_out = nullptr;  // its output in this batch
    const T* mask = nullptr;   // its mask rows for this batch
    int64_t mask_stride = 0;   // mask entries per sample in `mask` (mask_columns of its owner)
    bool step_masked = false;  // recurrent: runs under the Masking layer's step mask
    const uint8_t* sm = nullptr;   // recurrent: the step mask it ran under in this batch
    std::vector<uint8_t> rmask;    // go_backwards under a step mask: that mask reversed
    std::vector<T> dxr;            // go_backwards: dL/d(reversed input)
    std::vector<Layer> halves;     // Bidirectional: forward, backward
    std::vector<T> dhalf;          // Bidirectional: the halves' output gradients, side by side
    std::vector<T> h0, c0;         // stateful: this batch's initial states (B, H)
    T* carry_h = nullptr;          // stateful: the caller's state arrays for this epoch
    T* carry_c = nullptr;
  };

  std::vector<Layer> layers;
  std::vector<std::pair<size_t, int>> stateful_units;  // (layer, half or -1), in plan order
  int64_t n_state_arrays = 0;
  std::vector<ParamArray> arrays;
  int64_t n_params = 0;
  LossSpec loss;
  int64_t max_batch = 0;
  int64_t in_per_sample = 0, out_rows = 0, out_cols = 0, target_cols = 0;
  std::vector<T> xb, yb, wb, grad, dpred, backup_params, backup_slots, target;
  std::vector<int64_t> lb;
  std::vector<uint8_t> step_mask;  // (B, steps of the first layer): this batch's step mask
  bool mask_to_output = false;     // the step mask reaches the output (weighs the loss)
  size_t first_weighted = 0;       // layers up to this one need no input gradient
  bool have_backup = false;
  int backup_slot_count = 0;

  void init_recurrent(Layer& L, const std::string& name, bool masked);
  void forward_recurrent(Layer& L, int64_t B, const T* in, const T* params);
  T* backward_recurrent(Layer& L, int64_t B, T* d, const T* params, bool need_dx);
  void forward_bidirectional(Layer& L, int64_t B, const T* in, const T* params);
  T* backward_bidirectional(Layer& L, int64_t B, const T* d, const T* params, bool need_dx);
  void forward(int64_t B, const T* const* masks, int64_t start, const T* params);
  void backward(int64_t B, const T* params);
  void mask_loss_weights(int64_t B, bool have_weights);
};

template <class T>
Trainer<T>::Trainer(std::vector<LayerSpec> specs, std::vector<ParamArray> arrays,
                    int64_t n_params, LossSpec loss, int64_t max_batch)
    : impl_(new Impl) {
  Impl& m = *impl_;
  if (specs.empty()) bad("the model has no layers");
  if (max_batch < 1) bad("batch_size must be >= 1");
  if (n_params < 0) bad("n_params must be >= 0");
  m.arrays = std::move(arrays);
  m.n_params = n_params;
  m.loss = loss;
  m.max_batch = max_batch;
  for (const ParamArray& a : m.arrays) {
    check_range(a.offset, a.size, n_params, "a parameter array");
    size({a.size, 2}, "a parameter array");
    if (!(a.l1 >= 0) || !(a.l2 >= 0) || !std::isfinite(a.l1) || !std::isfinite(a.l2))
      bad("penalty factors must be finite and >= 0");
  }
  const int64_t B = max_batch;
  bool mask_alive = false;  // the step mask reaches layer i (see train.hpp)
  m.first_weighted = specs.size();
  for (size_t i = 0; i < specs.size(); ++i) {
    const LayerSpec& s = specs[i];
    const std::string name = "layer " + std::to_string(i);
    if (s.steps < 1 || s.in < 1 || s.units < 1)
      bad(name + ": steps, in and units must be >= 1");
    // Every buffer and weight block below is one of these products (G <= 4 gate blocks, the
    // GRU's two bias rows): checked before anything multiplies them.
    const int64_t widest = std::max(s.in, s.units);
    size({B, s.steps, widest, 8}, name + ": a batch of its inputs or outputs");
    size({widest, widest, 8}, name + ": its weights");
    if (i > 0) {
      const LayerSpec& p = specs[i - 1];
      if (s.steps != output_steps(p) || s.in != p.units)
        bad(name + ": its input (" + std::to_string(s.steps) + ", " + std::to_string(s.in) +
            ") does not match the previous layer's output (" + std::to_string(output_steps(p)) +
            ", " + std::to_string(p.units) + ")");
    }
    typename Impl::Layer L;
    L.spec = s;
    if (s.kind != LayerKind::Masking && s.kind != LayerKind::Dropout)
      m.first_weighted = std::min(m.first_weighted, i);
    if (s.kind == LayerKind::Masking) {
      if (i != 0) bad(name + ": a Masking layer must be the first layer");
      if (s.units != s.in) bad(name + ": a Masking layer has units == in");
      if (s.dropout) bad(name + ": a Masking layer takes no dropout mask");
      L.out.resize(B * in_size(s));
      m.step_mask.resize(B * s.steps);
      mask_alive = true;
    } else if (is_recurrent(s.kind)) {
      if (!s.halves.empty()) bad(name + ": a recurrent layer has no halves");
      L.mask_stride = mask_columns(s);
      m.init_recurrent(L, name, mask_alive);
      if (s.stateful) m.stateful_units.push_back({i, -1});
      if (!s.return_sequences) mask_alive = false;
    } else if (s.kind == LayerKind::Bidirectional) {
      if (s.halves.size() != 2) bad(name + ": a Bidirectional layer has two halves");
      int64_t half_units = 0;
      bool any_dropout = false;
      for (size_t h = 0; h < 2; ++h) {
        const LayerSpec& hs = s.halves[h];
        const std::string hname = name + (h ? " backward half" : " forward half");
        if (!is_recurrent(hs.kind)) bad(hname + ": must be a recurrent layer");
        if (!hs.halves.empty()) bad(hname + ": a recurrent layer has no halves");
        if (hs.steps != s.steps || hs.in != s.in || hs.return_sequences != s.return_sequences)
          bad(hname + ": its steps, in and return_sequences must be the Bidirectional's");
        if (hs.units < 1) bad(hname + ": units must be >= 1");
        size({B, hs.steps, std::max(hs.in, hs.units), 8}, hname + ": a batch of its outputs");
        size({std::max(hs.in, hs.units), std::max(hs.in, hs.units), 8}, hname + ": its weights");
        typename Impl::Layer half;
        half.spec = hs;
        half.mask_stride = mask_columns(s);
        m.init_recurrent(half, hname, mask_alive);
        if (hs.stateful) m.stateful_units.push_back({i, int(h)});
        L.halves.push_back(std::move(half));
        half_units += hs.units;
        any_dropout = any_dropout || hs.dropout;
      }
      if (s.dropout != any_dropout) bad(name + ": dropout must say whether a half has dropout");
      const int64_t Hf = s.halves[0].units, Hb = s.halves[1].units;
      if (s.merge_mode == MergeMode::Concat ? s.units != half_units
                                            : (Hf != Hb || s.units != Hf))
        bad(name + ": units (" + std::to_string(s.units) + ") do not match the halves' (" +
            std::to_string(Hf) + ", " + std::to_string(Hb) + ") under its merge mode");
      if (!s.return_sequences) mask_alive = false;
      L.out.resize(B * out_size(s));
      L.dhalf.resize(B * output_steps(s) * half_units);
      L.dx.resize(B * in_size(s));
    } else if (s.kind == LayerKind::Dense) {
      check_range(s.w, s.in * s.units, n_params, name + " kernel");
      if (s.b >= 0) check_range(s.b, s.units, n_params, name + " bias");
      if (s.dropout) bad(name + ": a Dense layer takes no dropout mask");
      L.pre.resize(B * out_size(s));
      L.out.resize(B * out_size(s));
      L.dx.resize(B * in_size(s));
    } else if (s.kind == LayerKind::Dropout) {
      if (s.units != s.in) bad(name + ": a Dropout layer has units == in");
      L.out.resize(B * in_size(s));
    } else {
      bad(name + ": unknown layer kind");
    }
    m.layers.push_back(std::move(L));
  }
  m.mask_to_output = mask_alive;
  const LayerSpec& first = m.layers.front().spec;
  const LayerSpec& last = m.layers.back().spec;
  m.in_per_sample = in_size(first);
  m.out_rows = output_steps(last);
  m.out_cols = last.units;
  const int64_t per_target = outputs_per_target(loss);
  if (loss.kind == LossKind::GaussianNll && !(loss.eps > 0 && std::isfinite(loss.eps)))
    bad("the Gaussian head's eps must be finite and > 0");
  if (loss.kind == LossKind::Quantile) {
    if (loss.quantiles.empty()) bad("the quantile loss needs at least one quantile");
    for (size_t j = 0; j < loss.quantiles.size(); ++j)
      if (!(loss.quantiles[j] > 0 && loss.quantiles[j] < 1) ||
          (j > 0 && !(loss.quantiles[j] > loss.quantiles[j - 1])))
        bad("quantiles must increase strictly within (0, 1)");
  }
  if (m.out_cols % per_target != 0)
    bad("the model's last layer has " + std::to_string(m.out_cols) + " outputs per step, not " +
        "a multiple of the " + std::to_string(per_target) + " values the loss takes per target");
  m.target_cols = m.out_cols / per_target;
  m.xb.resize(B * m.in_per_sample);
  m.yb.resize(B * m.out_rows * m.target_cols);
  m.wb.resize(B * m.out_rows);
  m.lb.resize(B * m.out_rows);
  m.dpred.resize(B * m.out_rows * m.out_cols);
  m.target.resize(m.out_cols);
  m.grad.resize(n_params);
  m.backup_params.resize(n_params);
}

template <class T>
Trainer<T>::~Trainer() = default;

// A recurrent layer's (or a Bidirectional half's) checks and buffers; `masked`: it runs under
// the step mask.
template <class T>
void Trainer<T>::Impl::init_recurrent(Layer& L, const std::string& name, bool masked) {
  const LayerSpec& s = L.spec;
  const int64_t B = max_batch, G = gates_of(s), H = s.units;
  check_range(s.w, s.in * G * H, n_params, name + " kernel");
  check_range(s.u, H * G * H, n_params, name + " recurrent kernel");
  if (s.b >= 0) check_range(s.b, bias_size(s), n_params, name + " bias");
  else { L.zero_bias.assign(bias_size(s), T(0)); L.dbias.assign(bias_size(s), T(0)); }
  if (s.dropout || s.go_backwards) L.xin.resize(B * in_size(s));
  L.step_masked = masked;
  if (masked && s.go_backwards) L.rmask.resize(B * s.steps);
  if (s.go_backwards) L.dxr.resize(B * in_size(s));
  L.seq.resize(B * s.steps * H);
  if (s.kind == LayerKind::Lstm) {
    L.cell.resize(B * s.steps * H);
    L.gates.resize(B * s.steps * 4 * H);
  } else if (s.kind == LayerKind::Gru) {
    L.gates.resize(B * s.steps * 3 * H);
    L.rec_h.resize(B * s.steps * H);
  }
  if (!s.return_sequences) L.out.resize(B * H);
  else if (masked && s.zero_output_for_mask) L.out.resize(B * s.steps * H);
  L.dx.resize(B * in_size(s));
  L.dh0.resize(B * H);
  L.dc0.resize(B * H);
  if (s.stateful) {
    if (masked) bad(name + ": a stateful layer under a step mask is not supported");
    L.h0.resize(B * H);
    if (cell_of(s.kind).states > 1) L.c0.resize(B * H);
    n_state_arrays += cell_of(s.kind).states;
  }
}

// Sets L.y_out (B, S or 1, H); L.mask (rows of mask_stride) is this batch's dropout mask or null.
template <class T>
void Trainer<T>::Impl::forward_recurrent(Layer& L, int64_t B, const T* in, const T* params) {
  const LayerSpec& s = L.spec;
  const int64_t S = s.steps, I = s.in, H = s.units;
  const T* x = in;
  if (L.mask || s.go_backwards) {  // the input it reads: masked (one row per sequence), reversed
    T* xm = L.xin.data();
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < S; ++t) {
        const T* src = in + (b * S + (s.go_backwards ? S - 1 - t : t)) * I;
        T* dst = xm + (b * S + t) * I;
        if (L.mask) {
          const T* mk = L.mask + b * L.mask_stride;
          for (int64_t i = 0; i < I; ++i) dst[i] = src[i] * mk[i];
        } else {
          std::memcpy(dst, src, sizeof(T) * I);
        }
      }
    x = xm;
  }
  const T* W = params + s.w;
  const T* U = params + s.u;
  const T* bias = s.b >= 0 ? params + s.b : L.zero_bias.data();
  const uint8_t* sm = L.step_masked ? step_mask.data() : nullptr;
  if (sm && s.go_backwards) {
    uint8_t* r = L.rmask.data();
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < S; ++t) r[b * S + t] = sm[b * S + S - 1 - t];
    sm = r;
  }
  L.sm = sm;
  T* h_seq = L.seq.data();
  const T* h0 = nullptr;
  const T* c0 = nullptr;
  if (s.stateful) {  // start from the carried states (kept: backward reads them)
    std::memcpy(L.h0.data(), L.carry_h, sizeof(T) * B * H);
    h0 = L.h0.data();
    if (L.carry_c) {
      std::memcpy(L.c0.data(), L.carry_c, sizeof(T) * B * H);
      c0 = L.c0.data();
    }
  }
  switch (s.kind) {
    case LayerKind::Elman:
      elman_forward<T>(B, S, I, H, s.activation, x, W, U, bias, h0, h_seq, sm);
      break;
    case LayerKind::Lstm:
      lstm_forward<T>(B, S, I, H, s.activation, x, W, U, bias, h0, c0, h_seq,
                      L.cell.data(), L.gates.data(), sm);
      break;
    default:
      gru_forward<T>(B, S, I, H, s.reset_after, s.activation, x, W, U, bias, h0, h_seq,
                     L.gates.data(), L.rec_h.data(), sm);
      break;
  }
  if (s.stateful) {  // the next batch starts where this one ends (no step mask: the last step)
    for (int64_t b = 0; b < B; ++b) {
      std::memcpy(L.carry_h + b * H, h_seq + (b * S + S - 1) * H, sizeof(T) * H);
      if (L.carry_c)
        std::memcpy(L.carry_c + b * H, L.cell.data() + (b * S + S - 1) * H, sizeof(T) * H);
    }
  }
  // Keras's outputs under a mask: a masked step repeats the carried state, which is the
  // kernels' h_seq already (the states start at zero here, so zeros before the first valid
  // step come for free); only zero_output_for_mask changes them.
  const bool zero_out = sm && s.zero_output_for_mask;
  if (s.return_sequences) {
    if (zero_out) {
      T* o = L.out.data();
      for (int64_t r = 0; r < B * S; ++r) {
        const T keep = sm[r] ? T(1) : T(0);
        for (int64_t j = 0; j < H; ++j) o[r * H + j] = h_seq[r * H + j] * keep;
      }
      L.y_out = o;
    } else {
      L.y_out = h_seq;
    }
  } else {
    T* o = L.out.data();
    for (int64_t b = 0; b < B; ++b) {
      std::memcpy(o + b * H, h_seq + (b * S + S - 1) * H, sizeof(T) * H);
      if (zero_out && !sm[b * S + S - 1])
        for (int64_t j = 0; j < H; ++j) o[b * H + j] *= T(0);
    }
    L.y_out = o;
  }
  L.x_used = x;
}

// d = dL/d(output) (changed in place); fills the layer's gradients ("="); returns dL/d(input)
// in time order (L.dx), or nullptr without need_dx.
template <class T>
T* Trainer<T>::Impl::backward_recurrent(Layer& L, int64_t B, T* d, const T* params,
                                        bool need_dx) {
  const LayerSpec& s = L.spec;
  const int64_t S = s.steps, I = s.in, H = s.units;
  const T* W = params + s.w;
  const T* U = params + s.u;
  const T* dh_seq = s.return_sequences ? d : nullptr;
  const T* dh_last = s.return_sequences ? nullptr : d;
  T* dW = grad.data() + s.w;
  T* dU = grad.data() + s.u;
  T* db = s.b >= 0 ? grad.data() + s.b : L.dbias.data();
  // the model's input needs no gradient; a reversed layer's comes in its reading order
  T* dx = need_dx ? (s.go_backwards ? L.dxr.data() : L.dx.data()) : nullptr;
  const uint8_t* sm = L.sm;
  if (sm && s.zero_output_for_mask) {  // outputs = states * keep: so is their gradient
    if (s.return_sequences) {
      for (int64_t r = 0; r < B * S; ++r)
        if (!sm[r])
          for (int64_t j = 0; j < H; ++j) d[r * H + j] *= T(0);
    } else {
      for (int64_t b = 0; b < B; ++b)
        if (!sm[b * S + S - 1])
          for (int64_t j = 0; j < H; ++j) d[b * H + j] *= T(0);
    }
  }
  const T* h0 = s.stateful ? L.h0.data() : nullptr;
  const T* c0 = s.stateful && !L.c0.empty() ? L.c0.data() : nullptr;
  switch (s.kind) {
    case LayerKind::Elman:
      elman_backward<T>(B, S, I, H, s.activation, L.x_used, W, U, h0, L.seq.data(),
                        dh_seq, dh_last, dx, dW, dU, db, L.dh0.data(), sm);
      break;
    case LayerKind::Lstm:
      lstm_backward<T>(B, S, I, H, s.activation, L.x_used, W, U, h0, c0,
                       L.seq.data(), L.cell.data(), L.gates.data(), dh_seq, dh_last, nullptr,
                       dx, dW, dU, db, L.dh0.data(), L.dc0.data(), sm);
      break;
    default:
      gru_backward<T>(B, S, I, H, s.reset_after, s.activation, L.x_used, W, U, h0,
                      L.seq.data(), L.gates.data(), L.rec_h.data(), dh_seq, dh_last, dx, dW,
                      dU, db, L.dh0.data(), sm);
      break;
  }
  if (!need_dx) return nullptr;
  if (L.mask || s.go_backwards) {  // back into time order, then the dropout mask
    T* out = L.dx.data();
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < S; ++t) {
        const T* src = dx + (b * S + (s.go_backwards ? S - 1 - t : t)) * I;
        T* row = out + (b * S + t) * I;
        if (s.go_backwards) std::memcpy(row, src, sizeof(T) * I);
        if (L.mask) {
          const T* mk = L.mask + b * L.mask_stride;
          for (int64_t i = 0; i < I; ++i) row[i] *= mk[i];
        }
      }
  }
  return L.dx.data();
}

// Both halves on the same input (each with its columns of the layer's dropout mask), the
// backward half's sequence output back into time order, then the merge into L.out.
template <class T>
void Trainer<T>::Impl::forward_bidirectional(Layer& L, int64_t B, const T* in,
                                             const T* params) {
  const LayerSpec& s = L.spec;
  Layer& F = L.halves[0];
  Layer& K = L.halves[1];
  F.mask = L.mask && F.spec.dropout ? L.mask : nullptr;
  K.mask = L.mask && K.spec.dropout ? L.mask + (F.spec.dropout ? F.spec.in : 0) : nullptr;
  forward_recurrent(F, B, in, params);
  forward_recurrent(K, B, in, params);
  const int64_t R = output_steps(s), Hf = F.spec.units, Hb = K.spec.units;
  const T* yf = F.y_out;
  const T* yb = K.y_out;
  T* o = L.out.data();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t r = 0; r < R; ++r) {
      const T* f = yf + (b * R + r) * Hf;
      const T* k = yb + (b * R + (s.return_sequences ? R - 1 - r : r)) * Hb;
      T* dst = o + (b * R + r) * s.units;
      switch (s.merge_mode) {
        case MergeMode::Concat:
          std::memcpy(dst, f, sizeof(T) * Hf);
          std::memcpy(dst + Hf, k, sizeof(T) * Hb);
          break;
        case MergeMode::Sum:
          for (int64_t j = 0; j < Hf; ++j) dst[j] = f[j] + k[j];
          break;
        case MergeMode::Mul:
          for (int64_t j = 0; j < Hf; ++j) dst[j] = f[j] * k[j];
          break;
        default:
          for (int64_t j = 0; j < Hf; ++j) dst[j] = (f[j] + k[j]) / T(2);
          break;
      }
    }
  L.x_used = in;
  L.y_out = o;
}

// d = dL/d(merged output): the halves' output gradients (the backward one in its own order),
// their backward passes, and the sum of their input gradients (L.dx; nullptr without need_dx).
template <class T>
T* Trainer<T>::Impl::backward_bidirectional(Layer& L, int64_t B, const T* d, const T* params,
                                            bool need_dx) {
  const LayerSpec& s = L.spec;
  Layer& F = L.halves[0];
  Layer& K = L.halves[1];
  const int64_t R = output_steps(s), Hf = F.spec.units, Hb = K.spec.units;
  T* df = L.dhalf.data();
  T* dk = df + B * R * Hf;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t r = 0; r < R; ++r) {
      const int64_t rk = s.return_sequences ? R - 1 - r : r;
      const T* g = d + (b * R + r) * s.units;
      T* gf = df + (b * R + r) * Hf;
      T* gk = dk + (b * R + rk) * Hb;
      switch (s.merge_mode) {
        case MergeMode::Concat:
          std::memcpy(gf, g, sizeof(T) * Hf);
          std::memcpy(gk, g + Hf, sizeof(T) * Hb);
          break;
        case MergeMode::Sum:
          std::memcpy(gf, g, sizeof(T) * Hf);
          std::memcpy(gk, g, sizeof(T) * Hf);
          break;
        case MergeMode::Mul: {
          const T* f = F.y_out + (b * R + r) * Hf;
          const T* k = K.y_out + (b * R + rk) * Hb;
          for (int64_t j = 0; j < Hf; ++j) {
            gf[j] = g[j] * k[j];
            gk[j] = g[j] * f[j];
          }
          break;
        }
        default:
          for (int64_t j = 0; j < Hf; ++j) gf[j] = gk[j] = g[j] / T(2);
          break;
      }
    }
  const T* dxf = backward_recurrent(F, B, df, params, need_dx);
  const T* dxk = backward_recurrent(K, B, dk, params, need_dx);
  if (!need_dx) return nullptr;
  T* dx = L.dx.data();
  const int64_t total = B * in_size(s);
  for (int64_t k = 0; k < total; ++k) dx[k] = dxf[k] + dxk[k];
  return dx;
}

template <class T>
void Trainer<T>::Impl::forward(int64_t B, const T* const* masks, int64_t start,
                               const T* params) {
  const T* in = xb.data();
  for (size_t l = 0; l < layers.size(); ++l) {
    Layer& L = layers[l];
    const LayerSpec& s = L.spec;
    L.mask = (s.dropout && masks && masks[l]) ? masks[l] + start * mask_columns(s) : nullptr;
    if (s.kind == LayerKind::Masking) {
      // Compared in T, as NumPy compares an array with a Python float; the output is the input
      // times 0 or 1 (not a plain zero) to give the Python path's exact values.
      const int64_t S = s.steps, F = s.in;
      const T mv = T(s.mask_value);
      T* o = L.out.data();
      for (int64_t r = 0; r < B * S; ++r) {
        const T* row = in + r * F;
        bool valid = false;
        for (int64_t f = 0; f < F && !valid; ++f) valid = row[f] != mv;
        step_mask[r] = valid;
        const T keep = valid ? T(1) : T(0);
        for (int64_t f = 0; f < F; ++f) o[r * F + f] = row[f] * keep;
      }
      L.x_used = in;
      L.y_out = o;
    } else if (s.kind == LayerKind::Dropout) {
      if (L.mask) {
        const int64_t total = B * in_size(s);
        T* o = L.out.data();
        for (int64_t k = 0; k < total; ++k) o[k] = in[k] * L.mask[k];
        L.y_out = o;
      } else {
        L.y_out = in;
      }
      L.x_used = in;
    } else if (s.kind == LayerKind::Dense) {
      const int64_t rows = B * s.steps;
      const T* W = params + s.w;
      const T* b = s.b >= 0 ? params + s.b : nullptr;
      dense_forward(rows, s.in, s.units, in, W, b, L.pre.data());
      dense_activate(s.dense_activation, rows, s.units, L.pre.data(), L.out.data());
      L.x_used = in;
      L.y_out = L.out.data();
    } else if (s.kind == LayerKind::Bidirectional) {
      forward_bidirectional(L, B, in, params);
    } else {
      forward_recurrent(L, B, in, params);
    }
    in = L.y_out;
  }
}

// dpred holds dL/d(output); fills grad (every trainable array, "=") by backpropagation.
template <class T>
void Trainer<T>::Impl::backward(int64_t B, const T* params) {
  T* d = dpred.data();
  for (size_t li = layers.size(); li-- > 0;) {
    Layer& L = layers[li];
    const LayerSpec& s = L.spec;
    const bool need_dx = li > first_weighted;
    if (s.kind == LayerKind::Masking) {
      // always the first layer: its input takes no gradient
    } else if (s.kind == LayerKind::Dropout) {
      if (L.mask && need_dx) {
        const int64_t total = B * in_size(s);
        for (int64_t k = 0; k < total; ++k) d[k] *= L.mask[k];
      }
    } else if (s.kind == LayerKind::Dense) {
      const int64_t rows = B * s.steps;
      dense_activation_backward(s.dense_activation, rows, s.units, L.pre.data(), L.y_out, d);
      dense_backward(rows, s.in, s.units, L.x_used, params + s.w, d, grad.data() + s.w,
                     s.b >= 0 ? grad.data() + s.b : nullptr, need_dx ? L.dx.data() : nullptr);
      d = L.dx.data();
    } else if (s.kind == LayerKind::Bidirectional) {
      d = backward_bidirectional(L, B, d, params, need_dx);
    } else {
      d = backward_recurrent(L, B, d, params, need_dx);
    }
  }
}

// The batch's loss weights wb (B, R) under a step mask that reaches the output (R = the mask's
// steps): Keras's apply_mask, (entries / valid) where valid and 0 where masked, times the sample
// weights already gathered into wb; the product is taken in double and rounded once, as the
// Python path rounds its float64 weights to T.
template <class T>
void Trainer<T>::Impl::mask_loss_weights(int64_t B, bool have_weights) {
  const int64_t entries = B * out_rows;
  int64_t valid = 0;
  for (int64_t k = 0; k < entries; ++k) valid += step_mask[k] != 0;
  const double scale = valid ? double(entries) / double(valid) : 0.0;
  for (int64_t k = 0; k < entries; ++k) {
    const double w = step_mask[k] ? scale : 0.0;
    wb[k] = T(have_weights ? w * double(wb[k]) : w);
  }
}

template <class T>
EpochResult Trainer<T>::epoch(int64_t n, const T* x, const T* y, const int64_t* labels,
                              const T* weights, const int64_t* order, int64_t batch_size, const T* const* masks,
                              T* params, T* const* slots, const OptimizerSpec& opt,
                              int64_t iterations, T* pred, T* const* states) {
  Impl& m = *impl_;
  if (m.n_state_arrays > 0) {
    if (!states) bad("this model has stateful layers: epoch needs their state arrays");
    if (batch_size != m.max_batch || n % batch_size != 0)
      bad("a stateful model trains in batches of " + std::to_string(m.max_batch) +
          " samples only: n (" + std::to_string(n) + ") must be a multiple of batch_size (" +
          std::to_string(batch_size) + ") and batch_size the trainer's");
    int64_t k = 0;
    for (const auto& [li, half] : m.stateful_units) {
      auto& L = half < 0 ? m.layers[li] : m.layers[li].halves[size_t(half)];
      L.carry_h = states[k++];
      L.carry_c = cell_of(L.spec.kind).states > 1 ? states[k++] : nullptr;
    }
  }
  if (batch_size < 1 || batch_size > m.max_batch)
    bad("batch_size must be in [1, " + std::to_string(m.max_batch) + "], got " +
        std::to_string(batch_size));
  if (n < 0) bad("n must be >= 0");
  const int n_slots = optimizer_slot_count(opt);
  if (m.backup_slot_count != n_slots) {
    m.backup_slots.assign(size_t(n_slots) * m.n_params, T(0));
    m.backup_slot_count = n_slots;
  }
  const int64_t R = m.out_rows, C = m.out_cols, in_ps = m.in_per_sample, out_ps = R * C;
  const int64_t y_ps = R * m.target_cols;  // target values per sample
  EpochResult res;
  res.iterations = iterations;
  int64_t last_B = 0;
  double last_value = 0;
  InterruptState* const interrupt = current_interrupt();
  for (int64_t start = 0, bi = 0; start < n; start += batch_size, ++bi) {
    // A batch is at least ~a microsecond of work: enough to look at the clock before each.
    if (interrupted(interrupt, 1e6)) return res;
    const int64_t B = std::min(batch_size, n - start);
    // gather the batch
    for (int64_t r = 0; r < B; ++r) {
      const int64_t i = order ? order[start + r] : start + r;
      std::memcpy(m.xb.data() + r * in_ps, x + i * in_ps, sizeof(T) * in_ps);
      if (labels) std::memcpy(m.lb.data() + r * R, labels + i * R, sizeof(int64_t) * R);
      else std::memcpy(m.yb.data() + r * y_ps, y + i * y_ps, sizeof(T) * y_ps);
      if (weights) std::memcpy(m.wb.data() + r * R, weights + i * R, sizeof(T) * R);
    }
    m.forward(B, masks, start, params);
    if (interrupt_requested(interrupt)) return res;  // the forward pass was cut short
    if (m.mask_to_output) m.mask_loss_weights(B, weights != nullptr);
    const bool weighted = weights || m.mask_to_output;
    const T* out = m.layers.back().y_out;
    double value = loss_and_grad<T>(m.loss, B * R, C, out, labels ? nullptr : m.yb.data(),
                                    labels ? m.lb.data() : nullptr,
                                    weighted ? m.wb.data() : nullptr, m.dpred.data(),
                                    m.target.data());
    value += penalty(m.arrays, params);
    if (!std::isfinite(value)) {
      res.stop = Stop::Loss;
      res.stop_batch = bi;
      res.stop_loss = value;
      if (m.have_backup) {  // undo the last update: its weights gave this non-finite loss
        std::memcpy(params, m.backup_params.data(), sizeof(T) * m.n_params);
        for (int s = 0; s < n_slots; ++s)
          std::memcpy(slots[s], m.backup_slots.data() + size_t(s) * m.n_params,
                      sizeof(T) * m.n_params);
        res.iterations -= 1;
        res.rolled_back = true;
        if (res.batches > 0) {  // the undone batch was counted in this epoch
          res.batches -= 1;
          res.samples -= last_B;
          res.loss_sum -= last_value * double(last_B);
        }
        m.have_backup = false;
      }
      return res;
    }
    if (pred) std::memcpy(pred + start * out_ps, out, sizeof(T) * B * out_ps);
    m.backward(B, params);
    if (interrupt_requested(interrupt)) return res;  // so was the backward pass
    add_penalty_gradients(m.arrays, params, m.grad.data());
    clip_gradients(opt, m.arrays, m.n_params, m.grad.data());
    if (!all_finite(m.grad.data(), m.n_params)) {
      res.stop = Stop::Gradient;
      res.stop_batch = bi;
      return res;
    }
    std::memcpy(m.backup_params.data(), params, sizeof(T) * m.n_params);
    for (int s = 0; s < n_slots; ++s)
      std::memcpy(m.backup_slots.data() + size_t(s) * m.n_params, slots[s],
                  sizeof(T) * m.n_params);
    m.have_backup = true;
    res.iterations += 1;
    apply_update(opt, res.iterations, m.n_params, m.grad.data(), params, slots);
    res.batches += 1;
    res.samples += B;
    res.loss_sum += value * double(B);
    last_B = B;
    last_value = value;
  }
  return res;
}

template <class T>
int64_t Trainer<T>::state_count() const {
  return impl_->n_state_arrays;
}

template class Trainer<float>;
template class Trainer<double>;

}  // namespace train
}  // namespace fastrnn
