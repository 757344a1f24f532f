// The fused training epoch (fastrnn/train.hpp). Compiled once (not per instruction set): the
// time goes into the recurrent kernels, which it calls through their dispatching entry points
// (dispatch.cpp), so they run with the widest vectors the CPU has. What is left here is small
// and memory-bound: gathering the batch, Dense layers, the loss, penalties, clipping and the
// optimiser update of the flat parameter vector (a few hundred to a few hundred thousand
// numbers per batch). Those loops are plain and unit-stride so that the compiler vectorises
// them; every buffer is allocated once per Trainer, none per batch.
//
// Arithmetic follows the Python path formula by formula and, where it is cheap, in the same
// order and precision (losses per entry, penalty gradients and optimiser updates are computed
// in T exactly as NumPy does with its scalars cast to T; sums over many entries in double), so
// that float64 epochs agree with it to ~1e-14 and a float32 overflow happens at the same batch.
#include "fastrnn/train.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

#include "fastrnn/elman.hpp"
#include "fastrnn/gru.hpp"
#include "fastrnn/lstm.hpp"

namespace fastrnn {
namespace train {

int optimizer_slot_count(const OptimizerSpec& opt) {
  switch (opt.kind) {
    case OptimizerKind::Sgd: return opt.momentum != 0 ? 1 : 0;
    case OptimizerKind::Adam: return 2;
    default: return 1 + (opt.momentum != 0 ? 1 : 0) + (opt.centered ? 1 : 0);
  }
}

namespace {

constexpr double kEpsilon = 1e-7;  // Keras's epsilon for the probability clips

bool is_recurrent(LayerKind k) {
  return k == LayerKind::Elman || k == LayerKind::Lstm || k == LayerKind::Gru;
}

int64_t gates_of(LayerKind k) {
  switch (k) {
    case LayerKind::Elman: return 1;
    case LayerKind::Lstm: return 4;
    case LayerKind::Gru: return 3;
    default: return 1;
  }
}

int64_t bias_size(const LayerSpec& l) {
  if (l.kind == LayerKind::Gru && l.reset_after) return 6 * l.units;
  return gates_of(l.kind) * l.units;
}

int64_t out_steps(const LayerSpec& l) {
  return is_recurrent(l.kind) && !l.return_sequences ? 1 : l.steps;
}

int64_t in_size(const LayerSpec& l) { return l.steps * l.in; }
int64_t out_size(const LayerSpec& l) { return out_steps(l) * l.units; }

int64_t mask_cols(const LayerSpec& l) {
  return l.kind == LayerKind::Dropout ? l.steps * l.in : l.in;
}

[[noreturn]] void bad(const std::string& what) { throw std::invalid_argument(what); }

void check_range(int64_t off, int64_t size, int64_t n_params, const std::string& what) {
  if (off < 0 || size < 0 || off > n_params || size > n_params - off)
    bad(what + " [" + std::to_string(off) + ", " + std::to_string(off + size) +
        ") lies outside the parameter vector of " + std::to_string(n_params));
}

// --- Dense activations (fastrnn/activations.py) ---------------------------------------------
template <class T>
T stable_sigmoid(T a) {
  const T e = std::exp(-std::fabs(a));
  return a >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
}

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

// dy <- dL/da in place, from the pre-activation a and the output y.
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

// --- losses (fastrnn/losses.py): mean over `entries` rows of C values ------------------------
// Per entry, everything is computed in T with NumPy's expressions (so a float32 loss overflows
// where the Python path's does); the per-entry losses are summed in double, as
// ``per.sum(dtype=float64)``. Returns the loss; g (entries, C) = its gradient w.r.t. p.
// `t` holds the targets of one entry (C values; the one-hot row for sparse labels).
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

// --- small dense products for Dense layers ---------------------------------------------------
// out (rows, n) = x (rows, k) W (k, n) + b
template <class T>
void dense_forward(int64_t rows, int64_t k, int64_t n, const T* x, const T* W, const T* b,
                   T* out) {
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

// dW (k, n) = x^T da; db (n) = column sums of da (nullable); dx (rows, k) = da W^T (nullable)
template <class T>
void dense_backward(int64_t rows, int64_t k, int64_t n, const T* x, const T* W, const T* da,
                    T* dW, T* db, T* dx) {
  std::memset(dW, 0, sizeof(T) * k * n);
  if (db) std::memset(db, 0, sizeof(T) * n);
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
    std::vector<T> xin;        // recurrent with dropout: the masked input (B, S, in)
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
  };

  std::vector<Layer> layers;
  std::vector<ParamArray> arrays;
  int64_t n_params = 0;
  LossSpec loss;
  int64_t max_batch = 0;
  int64_t in_per_sample = 0, out_rows = 0, out_cols = 0;
  std::vector<T> xb, yb, grad, dpred, backup_params, backup_slots, target;
  std::vector<int64_t> lb;
  bool have_backup = false;
  int backup_slot_count = 0;

  void forward(int64_t B, const T* const* masks, int64_t start, const T* params);
  void backward(int64_t B, const T* params);
  double penalty(const T* params) const;
  void penalty_grads(const T* params);
  void clip(const OptimizerSpec& opt);
  void update(const OptimizerSpec& opt, int64_t t, T* params, T* const* slots);
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
    if (!(a.l1 >= 0) || !(a.l2 >= 0) || !std::isfinite(a.l1) || !std::isfinite(a.l2))
      bad("penalty factors must be finite and >= 0");
  }
  const int64_t B = max_batch;
  for (size_t i = 0; i < specs.size(); ++i) {
    const LayerSpec& s = specs[i];
    const std::string name = "layer " + std::to_string(i);
    if (s.steps < 1 || s.in < 1 || s.units < 1)
      bad(name + ": steps, in and units must be >= 1");
    if (i > 0) {
      const LayerSpec& p = specs[i - 1];
      if (s.steps != out_steps(p) || s.in != p.units)
        bad(name + ": its input (" + std::to_string(s.steps) + ", " + std::to_string(s.in) +
            ") does not match the previous layer's output (" + std::to_string(out_steps(p)) +
            ", " + std::to_string(p.units) + ")");
    }
    typename Impl::Layer L;
    L.spec = s;
    if (is_recurrent(s.kind)) {
      const int64_t G = gates_of(s.kind), H = s.units;
      check_range(s.w, s.in * G * H, n_params, name + " kernel");
      check_range(s.u, H * G * H, n_params, name + " recurrent kernel");
      if (s.b >= 0) check_range(s.b, bias_size(s), n_params, name + " bias");
      else { L.zero_bias.assign(bias_size(s), T(0)); L.dbias.assign(bias_size(s), T(0)); }
      if (s.dropout) L.xin.resize(B * in_size(s));
      L.seq.resize(B * s.steps * H);
      if (s.kind == LayerKind::Lstm) {
        L.cell.resize(B * s.steps * H);
        L.gates.resize(B * s.steps * 4 * H);
      } else if (s.kind == LayerKind::Gru) {
        L.gates.resize(B * s.steps * 3 * H);
        L.rec_h.resize(B * s.steps * H);
      }
      if (!s.return_sequences) L.out.resize(B * H);
      L.dx.resize(B * in_size(s));
      L.dh0.resize(B * H);
      L.dc0.resize(B * H);
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
  const LayerSpec& first = m.layers.front().spec;
  const LayerSpec& last = m.layers.back().spec;
  m.in_per_sample = in_size(first);
  m.out_rows = out_steps(last);
  m.out_cols = last.units;
  m.xb.resize(B * m.in_per_sample);
  m.yb.resize(B * m.out_rows * m.out_cols);
  m.lb.resize(B * m.out_rows);
  m.dpred.resize(B * m.out_rows * m.out_cols);
  m.target.resize(m.out_cols);
  m.grad.resize(n_params);
  m.backup_params.resize(n_params);
}

template <class T>
Trainer<T>::~Trainer() = default;

template <class T>
void Trainer<T>::Impl::forward(int64_t B, const T* const* masks, int64_t start,
                               const T* params) {
  const T* in = xb.data();
  for (size_t l = 0; l < layers.size(); ++l) {
    Layer& L = layers[l];
    const LayerSpec& s = L.spec;
    L.mask = (s.dropout && masks && masks[l]) ? masks[l] + start * mask_cols(s) : nullptr;
    if (s.kind == LayerKind::Dropout) {
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
    } else {
      const int64_t S = s.steps, I = s.in, H = s.units;
      const T* x = in;
      if (L.mask) {
        T* xm = L.xin.data();
        for (int64_t b = 0; b < B; ++b)
          for (int64_t t = 0; t < S; ++t) {
            const T* src = in + (b * S + t) * I;
            T* dst = xm + (b * S + t) * I;
            const T* mk = L.mask + b * I;
            for (int64_t i = 0; i < I; ++i) dst[i] = src[i] * mk[i];
          }
        x = xm;
      }
      const T* W = params + s.w;
      const T* U = params + s.u;
      const T* bias = s.b >= 0 ? params + s.b : L.zero_bias.data();
      T* h_seq = L.seq.data();
      switch (s.kind) {
        case LayerKind::Elman:
          elman_forward<T>(B, S, I, H, s.activation, x, W, U, bias, nullptr, h_seq);
          break;
        case LayerKind::Lstm:
          lstm_forward<T>(B, S, I, H, s.activation, x, W, U, bias, nullptr, nullptr, h_seq,
                          L.cell.data(), L.gates.data());
          break;
        default:
          gru_forward<T>(B, S, I, H, s.reset_after, s.activation, x, W, U, bias, nullptr, h_seq,
                         L.gates.data(), L.rec_h.data());
          break;
      }
      if (s.return_sequences) {
        L.y_out = h_seq;
      } else {
        T* o = L.out.data();
        for (int64_t b = 0; b < B; ++b)
          std::memcpy(o + b * H, h_seq + (b * S + S - 1) * H, sizeof(T) * H);
        L.y_out = o;
      }
      L.x_used = x;
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
    const bool need_dx = li > 0;
    if (s.kind == LayerKind::Dropout) {
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
    } else {
      const int64_t S = s.steps, I = s.in, H = s.units;
      const T* W = params + s.w;
      const T* U = params + s.u;
      const T* dh_seq = s.return_sequences ? d : nullptr;
      const T* dh_last = s.return_sequences ? nullptr : d;
      T* dW = grad.data() + s.w;
      T* dU = grad.data() + s.u;
      T* db = s.b >= 0 ? grad.data() + s.b : L.dbias.data();
      T* dx = need_dx ? L.dx.data() : nullptr;  // the first layer's input needs no gradient
      switch (s.kind) {
        case LayerKind::Elman:
          elman_backward<T>(B, S, I, H, s.activation, L.x_used, W, U, nullptr, L.seq.data(),
                            dh_seq, dh_last, dx, dW, dU, db, L.dh0.data());
          break;
        case LayerKind::Lstm:
          lstm_backward<T>(B, S, I, H, s.activation, L.x_used, W, U, nullptr, nullptr,
                           L.seq.data(), L.cell.data(), L.gates.data(), dh_seq, dh_last, nullptr,
                           dx, dW, dU, db, L.dh0.data(), L.dc0.data());
          break;
        default:
          gru_backward<T>(B, S, I, H, s.reset_after, s.activation, L.x_used, W, U, nullptr,
                          L.seq.data(), L.gates.data(), L.rec_h.data(), dh_seq, dh_last, dx, dW,
                          dU, db, L.dh0.data());
          break;
      }
      if (L.mask && need_dx) {
        for (int64_t b = 0; b < B; ++b)
          for (int64_t t = 0; t < S; ++t) {
            T* row = dx + (b * S + t) * I;
            const T* mk = L.mask + b * I;
            for (int64_t i = 0; i < I; ++i) row[i] *= mk[i];
          }
      }
      d = dx;
    }
  }
}

template <class T>
double Trainer<T>::Impl::penalty(const T* params) const {
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

// g += l1 sign(w) + 2 l2 w, evaluated in T as the Python path does.
template <class T>
void Trainer<T>::Impl::penalty_grads(const T* params) {
  for (const ParamArray& a : arrays) {
    if (a.l1 == 0 && a.l2 == 0) continue;
    const T* w = params + a.offset;
    T* g = grad.data() + a.offset;
    const T l1 = T(a.l1), l2x2 = T(2 * a.l2);
    for (int64_t k = 0; k < a.size; ++k) {
      T r = 0;
      if (a.l1) r += l1 * T((w[k] > T(0)) - (w[k] < T(0)));
      if (a.l2) r += l2x2 * w[k];
      g[k] += r;
    }
  }
}

template <class T>
void Trainer<T>::Impl::clip(const OptimizerSpec& opt) {
  if (opt.clipvalue > 0) {
    const T c = T(opt.clipvalue);
    for (int64_t k = 0; k < n_params; ++k) {
      const T v = grad[k];
      grad[k] = v < -c ? -c : (v > c ? c : v);  // NaN stays NaN
    }
  } else if (opt.clipnorm > 0) {
    for (const ParamArray& a : arrays) {
      T* g = grad.data() + a.offset;
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
// the scalars rounded to T first: the NumPy expressions of fastrnn/optimizers.py.
template <class T>
void Trainer<T>::Impl::update(const OptimizerSpec& opt, int64_t t, T* __restrict p,
                              T* const* slots) {
  const T* __restrict g = grad.data();
  const int64_t n = n_params;
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

template <class T>
EpochResult Trainer<T>::epoch(int64_t n, const T* x, const T* y, const int64_t* labels,
                              const int64_t* order, int64_t batch_size, const T* const* masks,
                              T* params, T* const* slots, const OptimizerSpec& opt,
                              int64_t iterations, T* pred) {
  Impl& m = *impl_;
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
  EpochResult res;
  res.iterations = iterations;
  int64_t last_B = 0;
  double last_value = 0;
  for (int64_t start = 0, bi = 0; start < n; start += batch_size, ++bi) {
    const int64_t B = std::min(batch_size, n - start);
    // gather the batch
    for (int64_t r = 0; r < B; ++r) {
      const int64_t i = order ? order[start + r] : start + r;
      std::memcpy(m.xb.data() + r * in_ps, x + i * in_ps, sizeof(T) * in_ps);
      if (labels) std::memcpy(m.lb.data() + r * R, labels + i * R, sizeof(int64_t) * R);
      else std::memcpy(m.yb.data() + r * out_ps, y + i * out_ps, sizeof(T) * out_ps);
    }
    m.forward(B, masks, start, params);
    const T* out = m.layers.back().y_out;
    double value = loss_and_grad<T>(m.loss, B * R, C, out, labels ? nullptr : m.yb.data(),
                                    labels ? m.lb.data() : nullptr, m.dpred.data(),
                                    m.target.data());
    value += m.penalty(params);
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
    m.penalty_grads(params);
    m.clip(opt);
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
    m.update(opt, res.iterations, params, slots);
    res.batches += 1;
    res.samples += B;
    res.loss_sum += value * double(B);
    last_B = B;
    last_value = value;
  }
  return res;
}

template class Trainer<float>;
template class Trainer<double>;

}  // namespace train
}  // namespace fastrnn
