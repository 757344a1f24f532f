// fastrnn._core.Trainer: the binding of the fused training epoch (fastrnn/train.hpp).
//
// Used by the fused path of Sequential.fit (fastrnn.nn, through fastrnn.backends.fused_trainer),
// which builds the layer plan once per fit and calls epoch() once per epoch. This file checks
// everything the C++ side would otherwise trust (dtypes, sizes, offsets, index ranges, writeable
// contiguous outputs; checks.hpp) and raises ValueError / TypeError naming the argument; it does
// no arithmetic. Finiteness of x and y is fit's check: a NaN that got through would only give a
// non-finite loss, which stops the epoch. Sizes are multiplied only through size_product, which
// raises ValueError instead of overflowing.
//
// Ctrl-C (signals.hpp): the epoch stops at the next batch boundary (a batch in progress is
// dropped whole), params and slots keep the last completed update, and epoch() raises the
// KeyboardInterrupt with the epoch's result dict (as epoch() returns it: batches, iterations,
// ...) as its `fastrnn_epoch` attribute, so that the caller can bring its optimiser's iteration
// count up to date.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "checks.hpp"
#include "fastrnn/cells.hpp"
#include "fastrnn/train.hpp"
#include "register.hpp"
#include "signals.hpp"

namespace fastrnn {
namespace bindings {

using namespace fastrnn::train;

namespace {

// The layer kinds the plan may name: the cells of cells.hpp, then Dense, Dropout, Masking and
// Bidirectional.
const std::vector<Option<LayerKind>>& layer_kinds() {
  static const std::vector<Option<LayerKind>> kinds = [] {
    std::vector<Option<LayerKind>> k;
    for (const CellInfo& c : kCells) k.push_back({c.name, layer_kind(c.id)});
    k.push_back({"dense", LayerKind::Dense});
    k.push_back({"dropout", LayerKind::Dropout});
    k.push_back({"masking", LayerKind::Masking});
    k.push_back({"bidirectional", LayerKind::Bidirectional});
    return k;
  }();
  return kinds;
}

constexpr Option<DenseActivation> kDenseActivations[] = {
    {"linear", DenseActivation::Linear}, {"relu", DenseActivation::Relu},
    {"sigmoid", DenseActivation::Sigmoid}, {"tanh", DenseActivation::Tanh},
    {"softmax", DenseActivation::Softmax}, {"leaky_relu", DenseActivation::LeakyRelu},
    {"elu", DenseActivation::Elu}};

constexpr Option<MergeMode> kMergeModes[] = {
    {"concat", MergeMode::Concat}, {"sum", MergeMode::Sum}, {"mul", MergeMode::Mul},
    {"ave", MergeMode::Ave}};

constexpr Option<OptimizerKind> kOptimizers[] = {
    {"sgd", OptimizerKind::Sgd}, {"adam", OptimizerKind::Adam},
    {"rmsprop", OptimizerKind::Rmsprop}};

constexpr Option<LossKind> kLosses[] = {
    {"mean_squared_error", LossKind::MeanSquaredError},
    {"mean_absolute_error", LossKind::MeanAbsoluteError},
    {"binary_crossentropy", LossKind::BinaryCrossentropy},
    {"categorical_crossentropy", LossKind::CategoricalCrossentropy},
    {"sparse_categorical_crossentropy", LossKind::SparseCategoricalCrossentropy},
    {"gaussian_nll", LossKind::GaussianNll},
    {"quantile_loss", LossKind::Quantile}};

// `where` names the entry in messages: "layers[i]", or "layers[i].halves[h]".
LayerSpec parse_layer(const py::handle& obj, const std::string& where) {
  if (!py::isinstance<py::dict>(obj)) throw py::type_error(where + " must be a dict");
  const py::dict d = py::reinterpret_borrow<py::dict>(obj);
  LayerSpec s;
  s.kind = parse(option<std::string>(d, "kind", ""), "layer kind", layer_kinds());
  s.steps = option<int64_t>(d, "steps", 1);
  s.in = option<int64_t>(d, "in", 0);
  s.units = option<int64_t>(d, "units", 0);
  s.activation = parse_activation(option<std::string>(d, "activation", "tanh"));
  s.return_sequences = option<bool>(d, "return_sequences", false);
  s.reset_after = option<bool>(d, "reset_after", true);
  s.dense_activation = parse(option<std::string>(d, "dense_activation", "linear"),
                             "dense_activation", kDenseActivations);
  s.w = option<int64_t>(d, "w", -1);
  s.u = option<int64_t>(d, "u", -1);
  s.b = option<int64_t>(d, "b", -1);
  s.dropout = option<bool>(d, "dropout", false);
  s.mask_value = option<double>(d, "mask_value", 0.0);
  s.zero_output_for_mask = option<bool>(d, "zero_output_for_mask", false);
  s.go_backwards = option<bool>(d, "go_backwards", false);
  s.stateful = option<bool>(d, "stateful", false);
  s.merge_mode = parse(option<std::string>(d, "merge_mode", "concat"), "merge_mode", kMergeModes);
  if (d.contains("halves")) {  // Bidirectional (the Trainer checks their number and kinds)
    if (!py::isinstance<py::list>(d["halves"]))
      throw py::type_error(where + "['halves'] must be a list of layer dicts");
    const py::list halves = d["halves"].cast<py::list>();
    for (size_t h = 0; h < halves.size(); ++h)
      s.halves.push_back(parse_layer(halves[h], where + ".halves[" + std::to_string(h) + "]"));
  }
  return s;
}

OptimizerSpec parse_optimizer(const py::dict& d) {
  OptimizerSpec o;
  o.kind = parse(option<std::string>(d, "kind", ""), "optimizer kind", kOptimizers);
  o.learning_rate = option<double>(d, "learning_rate", o.learning_rate);
  o.beta_1 = option<double>(d, "beta_1", o.beta_1);
  o.beta_2 = option<double>(d, "beta_2", o.beta_2);
  o.epsilon = option<double>(d, "epsilon", o.epsilon);
  o.momentum = option<double>(d, "momentum", 0.0);
  o.rho = option<double>(d, "rho", o.rho);
  o.nesterov = option<bool>(d, "nesterov", false);
  o.centered = option<bool>(d, "centered", false);
  o.clipnorm = option<double>(d, "clipnorm", 0.0);
  o.clipvalue = option<double>(d, "clipvalue", 0.0);
  o.global_clipnorm = option<double>(d, "global_clipnorm", 0.0);
  return o;
}

class PyTrainer {
 public:
  PyTrainer(const std::string& dtype, const py::list& layers, const py::list& arrays,
            int64_t n_params, const std::string& loss, bool from_logits, int64_t batch_size,
            const py::object& loss_options) {
    if (dtype != "float32" && dtype != "float64")
      throw py::type_error("dtype must be 'float32' or 'float64', got '" + dtype + "'");
    dbl_ = dtype == "float64";
    if (batch_size < 1)
      throw py::value_error("batch_size must be a positive int, got " + std::to_string(batch_size));
    for (size_t i = 0; i < layers.size(); ++i) specs_.push_back(parse_layer(layers[i], "layers[" + std::to_string(i) + "]"));
    std::vector<ParamArray> pa;
    for (const py::handle& h : arrays) {
      auto t = h.cast<py::tuple>();
      if (t.size() != 4) throw py::value_error("arrays entries must be (offset, size, l1, l2)");
      pa.push_back({t[0].cast<int64_t>(), t[1].cast<int64_t>(), t[2].cast<double>(),
                    t[3].cast<double>()});
    }
    loss_.kind = parse(loss, "loss", kLosses);
    loss_.from_logits = from_logits;
    if (!loss_options.is_none()) {  // the distributional heads' settings (Trainer checks them)
      if (!py::isinstance<py::dict>(loss_options))
        throw py::type_error("loss_options must be a dict or None");
      const py::dict d = py::reinterpret_borrow<py::dict>(loss_options);
      loss_.eps = option<double>(d, "eps", loss_.eps);
      if (d.contains("quantiles"))
        for (const py::handle& q : d["quantiles"]) loss_.quantiles.push_back(q.cast<double>());
    }
    n_params_ = n_params;
    max_batch_ = batch_size;
    try {
      if (dbl_) d_.reset(new Trainer<double>(specs_, pa, n_params, loss_, batch_size));
      else f_.reset(new Trainer<float>(specs_, pa, n_params, loss_, batch_size));
    } catch (const std::invalid_argument& e) {
      throw py::value_error(e.what());
    }
    const LayerSpec& first = specs_.front();
    const LayerSpec& last = specs_.back();
    in_per_sample_ = first.steps * first.in;
    out_rows_ = output_steps(last);
    out_cols_ = last.units;
    target_cols_ = out_cols_ / outputs_per_target(loss_);
  }

  py::dict epoch(const py::object& params, const py::list& slots, const py::object& x,
                 const py::object& y, const py::object& order, const py::object& masks,
                 const py::dict& optimizer, int64_t iterations, int64_t batch_size,
                 const py::object& pred, const py::object& sample_weight,
                 const py::object& states) {
    return dbl_ ? epoch_t<double>(*d_, params, slots, x, y, order, masks, optimizer, iterations,
                                  batch_size, pred, sample_weight, states)
                : epoch_t<float>(*f_, params, slots, x, y, order, masks, optimizer, iterations,
                                 batch_size, pred, sample_weight, states);
  }

 private:
  template <class T>
  py::dict epoch_t(Trainer<T>& tr, const py::object& params_, const py::list& slots_,
                   const py::object& x_, const py::object& y_, const py::object& order_,
                   const py::object& masks_, const py::dict& optimizer, int64_t iterations,
                   int64_t batch_size, const py::object& pred_, const py::object& weights_,
                   const py::object& states_) {
    const OptimizerSpec opt = parse_optimizer(optimizer);
    if (batch_size < 1 || batch_size > max_batch_)
      throw py::value_error("batch_size must be in [1, " + std::to_string(max_batch_) +
                            "] for this trainer, got " + std::to_string(batch_size));
    if (iterations < 0) throw py::value_error("iterations must be >= 0");
    T* params = writable<T>(params_, "params", n_params_);
    const int n_slots = optimizer_slot_count(opt);
    if (static_cast<int>(slots_.size()) != n_slots)
      throw py::value_error("the optimizer needs " + std::to_string(n_slots) +
                            " slot arrays, got " + std::to_string(slots_.size()));
    std::vector<T*> slots;
    for (int s = 0; s < n_slots; ++s)
      slots.push_back(writable<T>(slots_[s], "slots[" + std::to_string(s) + "]", n_params_));

    auto x = input<T>(x_, "x");
    if (x.ndim() < 1 || x.shape(0) < 1) throw py::value_error("x must have at least one sample");
    const int64_t n = x.shape(0);
    if (x.size() != size_product({n, in_per_sample_}, "x"))
      throw py::value_error("x must have " + std::to_string(in_per_sample_) +
                            " numbers per sample for this model, got " +
                            std::to_string(x.size() / n));
    const int64_t R = out_rows_, C = out_cols_;
    py::array_t<T, py::array::c_style> y;
    py::array_t<int64_t, py::array::c_style> labels;
    const bool sparse = loss_.kind == LossKind::SparseCategoricalCrossentropy;
    if (sparse) {
      labels = index_array(y_, "y (class labels)", size_product({n, R}, "y"), C);
    } else {
      y = input<T>(y_, "y");
      const int64_t K = target_cols_;
      if (y.size() != size_product({n, R, K}, "y"))
        throw py::value_error("y must have " + std::to_string(R * K) +
                              " numbers per sample for this model, got " +
                              std::to_string(double(y.size()) / double(n)));
    }
    py::array_t<T, py::array::c_style> weights;
    const bool have_weights = !weights_.is_none();
    if (have_weights) {  // finiteness is fit's check, as for x and y
      weights = input<T>(weights_, "sample_weight");
      if (weights.size() != size_product({n, R}, "sample_weight"))
        throw py::value_error("sample_weight must have " + std::to_string(R) +
                              " weights per sample (one per output step), got " +
                              std::to_string(double(weights.size()) / double(n)));
    }
    py::array_t<int64_t, py::array::c_style> order;
    const bool have_order = !order_.is_none();
    if (have_order) order = index_array(order_, "order", n, n);

    std::vector<py::array_t<T, py::array::c_style>> mask_arrays;
    std::vector<const T*> mask_ptrs(specs_.size(), nullptr);
    if (!masks_.is_none()) {
      const py::list ml = masks_.cast<py::list>();
      if (ml.size() != specs_.size())
        throw py::value_error("masks must have one entry per layer (" +
                              std::to_string(specs_.size()) + "), got " +
                              std::to_string(ml.size()));
      for (size_t l = 0; l < specs_.size(); ++l) {
        if (ml[l].is_none()) continue;
        const LayerSpec& s = specs_[l];
        const std::string name = "masks[" + std::to_string(l) + "]";
        if (!s.dropout) throw py::value_error(name + ": this layer takes no dropout mask");
        const int64_t cols = mask_columns(s);
        auto a = input<T>(ml[l], name);
        const int64_t want = size_product({n, cols}, name.c_str());
        if (a.size() != want)
          throw py::value_error(name + " must have " + std::to_string(want) +
                                " entries (n, " + std::to_string(cols) + "), got " +
                                std::to_string(a.size()));
        mask_ptrs[l] = a.data();
        mask_arrays.push_back(a);
      }
    }
    T* pred = pred_.is_none() ? nullptr
                              : writable<T>(pred_, "pred", size_product({n, R, C}, "pred"));

    // the stateful layers' states, (batch_size, units) each, updated in place
    std::vector<T*> state_ptrs;
    const int64_t n_states = tr.state_count();
    if (n_states > 0) {
      if (states_.is_none() || !py::isinstance<py::list>(states_))
        throw py::type_error("states must be a list of " + std::to_string(n_states) +
                             " arrays for this model's stateful layers");
      const py::list sl = states_.cast<py::list>();
      if (static_cast<int64_t>(sl.size()) != n_states)
        throw py::value_error("states must have " + std::to_string(n_states) +
                              " arrays, got " + std::to_string(sl.size()));
      size_t k = 0;
      for (const LayerSpec& s : specs_) {
        const bool bidi = s.kind == LayerKind::Bidirectional;
        for (size_t h = 0; h < (bidi ? s.halves.size() : 1); ++h) {
          const LayerSpec& u = bidi ? s.halves[h] : s;
          if (!is_recurrent(u.kind) || !u.stateful) continue;
          for (int c = 0; c < cell_of(u.kind).states; ++c, ++k)
            state_ptrs.push_back(writable<T>(sl[k], "states[" + std::to_string(k) + "]",
                                             size_product({max_batch_, u.units}, "states")));
        }
      }
    } else if (!states_.is_none() && py::len(states_) != 0) {
      throw py::value_error("states must be None: this model has no stateful layers");
    }

    EpochResult r;
    const PythonSignals signals;
    {
      py::gil_scoped_release nogil;
      r = tr.epoch(n, x.data(), sparse ? nullptr : y.data(), sparse ? labels.data() : nullptr,
                   have_weights ? weights.data() : nullptr, have_order ? order.data() : nullptr, batch_size, mask_ptrs.data(), params,
                   slots.data(), opt, iterations, pred,
                   state_ptrs.empty() ? nullptr : state_ptrs.data());
    }
    std::unique_ptr<py::error_already_set> interrupt;
    if (signals.interrupted()) interrupt.reset(new py::error_already_set(signals.pending()));
    py::dict out;
    out["batches"] = r.batches;
    out["samples"] = r.samples;
    out["loss_sum"] = r.loss_sum;
    out["iterations"] = r.iterations;
    out["stop"] = r.stop == Stop::Loss ? "loss" : (r.stop == Stop::Gradient ? "gradient" : "");
    out["stop_batch"] = r.stop_batch;
    out["stop_loss"] = r.stop_loss;
    out["rolled_back"] = r.rolled_back;
    if (interrupt) {  // what the epoch got done goes with the KeyboardInterrupt
      try {
        interrupt->value().attr("fastrnn_epoch") = out;
      } catch (const py::error_already_set&) {  // an exception that takes no attributes
      }
      throw *interrupt;
    }
    return out;
  }

  bool dbl_ = false;
  std::vector<LayerSpec> specs_;
  LossSpec loss_;
  int64_t n_params_ = 0, max_batch_ = 0, in_per_sample_ = 0, out_rows_ = 0, out_cols_ = 0,
          target_cols_ = 0;
  std::unique_ptr<Trainer<float>> f_;
  std::unique_ptr<Trainer<double>> d_;
};

}  // namespace

void register_training(py::module_& m) {
  py::class_<PyTrainer>(m, "Trainer",
                        "Fused training epochs of a Sequential model (fastrnn/train.hpp). "
                        "Built by Sequential.fit; not a public API.")
      .def(py::init<const std::string&, const py::list&, const py::list&, int64_t,
                    const std::string&, bool, int64_t, const py::object&>(),
           py::arg("dtype"), py::arg("layers"), py::arg("arrays"), py::arg("n_params"),
           py::arg("loss"), py::arg("from_logits"), py::arg("batch_size"),
           py::arg("loss_options") = py::none(),
           "loss_options: None, or for the distributional heads a dict with 'eps' "
           "(gaussian_nll) or 'quantiles' (quantile_loss, increasing in (0, 1)).")
      .def("epoch", &PyTrainer::epoch, py::arg("params"), py::arg("slots"), py::arg("x"),
           py::arg("y"), py::arg("order"), py::arg("masks"), py::arg("optimizer"),
           py::arg("iterations"), py::arg("batch_size"), py::arg("pred"),
           py::arg("sample_weight") = py::none(), py::arg("states") = py::none(),
           "One epoch; params and slots are updated in place. y: (n, R, C / P) targets (P "
           "outputs per target: 2 for gaussian_nll, the quantiles for quantile_loss, else 1); "
           "sample_weight: None or (n, R) loss weights in the samples' original order; states: the "
           "stateful layers' (batch_size, units) state arrays in plan order (h, then c), "
           "updated in place, or None. Returns "
           "a dict: batches, samples, loss_sum, iterations, stop ('', 'loss' or 'gradient'), "
           "stop_batch, stop_loss, rolled_back.");
}

}  // namespace bindings
}  // namespace fastrnn
