// The cell entry points of fastrnn.backends._core: <cell>_forward and <cell>_backward for every
// row of fastrnn/cells.hpp.
//
// Every entry point (1) checks rank, shape, dtype and finiteness of each argument and raises
// ValueError / TypeError naming the argument with what was expected and what came
// (checks.hpp), (2) makes C-contiguous copies of strided inputs, (3) allocates the outputs,
// (4) releases the GIL and calls the kernel. No arithmetic happens here. The forward functions
// return, besides their results, the tuple of saved arrays that the matching backward function
// takes back; the backward functions re-check that tuple, so a stale or edited cache raises
// instead of reading out of bounds. The h_seq a forward function returns is a read-only view of
// the one its tuple holds, so that editing a result cannot change a later backward pass.
// Interruption: the kernels stop at a step or chunk boundary when Ctrl-C is pressed, and the
// call raises KeyboardInterrupt (signals.hpp). Masks: a forward function takes `mask` (None or a
// bool / uint8 (B, T) array, Keras's step mask, checks.hpp's optional_mask); a masked call's
// saved tuple holds the mask as one extra, last entry, which the backward function re-checks and
// hands to the kernel.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "checks.hpp"
#include "fastrnn/cells.hpp"
#include "fastrnn/elman.hpp"
#include "fastrnn/gru.hpp"
#include "fastrnn/lstm.hpp"
#include "register.hpp"
#include "signals.hpp"

namespace fastrnn {
namespace bindings {

namespace {

// Large output arrays come from a pool of recently freed blocks. glibc serves allocations above
// 32 MiB with fresh pages, and the kernel zero-fills every page on first touch, which costs a
// forward pass at training sizes a good part of its time (bench/NOTES.md). A block returns to
// the pool when the NumPy array that owns it is freed (capsule destructor); the pool holds at
// most kPoolBytes (2 GiB: the train-large LSTM's gates alone are 512 MiB) and is only touched
// with the GIL held, so it needs no lock of its own.
class BlockPool {
 public:
  static constexpr size_t kMinBytes = size_t(1) << 20;   // smaller: malloc's own reuse is fine
  static constexpr size_t kPoolBytes = size_t(2) << 30;

  void* get(size_t bytes) {
    for (size_t i = 0; i < free_.size(); ++i)
      if (free_[i].bytes == bytes) {
        void* p = free_[i].p;
        held_ -= bytes;
        free_.erase(free_.begin() + static_cast<std::ptrdiff_t>(i));
        return p;
      }
    void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!p) throw std::bad_alloc();
    return p;
  }
  void put(void* p, size_t bytes) {
    while (!free_.empty() && held_ + bytes > kPoolBytes) {  // drop the oldest
      std::free(free_.front().p);
      held_ -= free_.front().bytes;
      free_.erase(free_.begin());
    }
    if (bytes > kPoolBytes) {
      std::free(p);
      return;
    }
    free_.push_back({p, bytes});
    held_ += bytes;
  }

 private:
  struct Block {
    void* p;
    size_t bytes;
  };
  std::vector<Block> free_;
  size_t held_ = 0;
};

BlockPool& pool() {
  static BlockPool* p = new BlockPool();  // never destroyed: arrays may outlive module teardown
  return *p;
}

// A block of the pool: 64 header bytes (its size, for the capsule destructor, which gets only
// the data pointer) then the data, so the data stays 64-byte aligned.
constexpr size_t kHeader = 64;

void release_block(void* data) {
  char* base = static_cast<char*>(data) - kHeader;
  size_t bytes;
  std::memcpy(&bytes, base, sizeof bytes);
  pool().put(base, bytes);
}

template <class T>
py::array_t<T> empty(Shape shape) {
  std::vector<py::ssize_t> dims(shape.begin(), shape.end());
  const size_t n = static_cast<size_t>(size_product(shape, "an output array"));
  if (n * sizeof(T) < BlockPool::kMinBytes) return py::array_t<T>(dims);
  const size_t bytes = kHeader + n * sizeof(T);
  char* base = static_cast<char*>(pool().get(bytes));
  std::memcpy(base, &bytes, sizeof bytes);
  T* data = reinterpret_cast<T*>(base + kHeader);
  py::capsule owner(data, release_block);
  return py::array_t<T>(dims, data, owner);
}

// A read-only view of `a`, which it keeps alive (a stays writeable: the cache holds it). Made
// through NumPy's C API directly: this runs on every forward call, and py::array's constructor
// copies the shape and strides into two vectors first.
py::array read_only_view(const py::array& a) {
  auto& api = py::detail::npy_api::get();
  PyObject* v = api.PyArray_NewFromDescr_(
      api.PyArray_Type_, a.dtype().release().ptr(), static_cast<int>(a.ndim()),
      const_cast<Py_intptr_t*>(a.shape()), const_cast<Py_intptr_t*>(a.strides()),
      const_cast<void*>(a.data()), /*flags: not writeable*/ 0, nullptr);
  if (!v) throw py::error_already_set();
  if (api.PyArray_SetBaseObject_(v, a.inc_ref().ptr()) < 0) {
    Py_DECREF(v);
    throw py::error_already_set();
  }
  return py::reinterpret_steal<py::array>(v);
}

// The state after the last step: seq[:, T-1] when T > 0, else the initial state (or zeros).
template <class T>
py::array_t<T> last_state(const py::array_t<T>& seq, int64_t B, int64_t T_, int64_t H,
                          const T* init) {
  auto out = empty<T>({B, H});
  T* o = out.mutable_data();
  for (int64_t b = 0; b < B; ++b) {
    const T* src = T_ > 0 ? seq.data() + (b * T_ + T_ - 1) * H : (init ? init + b * H : nullptr);
    if (src) std::memcpy(o + b * H, src, sizeof(T) * H);
    else std::memset(o + b * H, 0, sizeof(T) * H);
  }
  return out;
}

// A forward call's saved tuple, with its mask appended when it had one.
py::tuple with_mask(const py::tuple& saved, const py::object& mask) {
  if (mask.is_none()) return saved;
  py::tuple out(saved.size() + 1);
  for (size_t i = 0; i < saved.size(); ++i) out[i] = saved[i];
  out[saved.size()] = mask;
  return out;
}

constexpr const CellInfo& kElman = cell_info(Cell::Elman);
constexpr const CellInfo& kLstm = cell_info(Cell::Lstm);
constexpr const CellInfo& kGru = cell_info(Cell::Gru);

struct Dims {
  int64_t B, T, I, H;
};

// x must be (B, T, I); U must be (H, G*H) with H >= 1; returns the dimensions. `x_name` and
// `u_name` say where the arrays came from ("cache x" in a backward call). Every array of the call
// (the (B, T, G*H) gates above all) must be small enough to index without overflow.
Dims read_dims(const py::array& x, const py::array& U, int gates, const char* u_sym,
               const char* x_name = "x", const char* u_name = "U") {
  if (x.ndim() != 3)
    throw py::value_error(std::string(x_name) + " must have shape (B, T, I) (3 dimensions), got " +
                          shape_str(shape_of(x)));
  if (U.ndim() != 2 || U.shape(0) < 1 || U.shape(1) != gates * U.shape(0))
    throw py::value_error(std::string(u_name) + " must have shape " + u_sym +
                          " with H >= 1, got " + shape_str(shape_of(U)));
  const Dims d{x.shape(0), x.shape(1), x.shape(2), U.shape(0)};
  if (checked_product({d.B, d.T, gates, d.H}) < 0 || checked_product({d.B, d.T, d.I}) < 0 ||
      checked_product({d.I, gates, d.H}) < 0)
    throw py::value_error(std::string("the arrays of a call with ") + x_name + " of shape " +
                          shape_str(shape_of(x)) + " and H = " + std::to_string(d.H) +
                          " are too large (more than 2^56 elements)");
  return d;
}

// ---------------------------------------------------------------------------------------------
// Elman
// ---------------------------------------------------------------------------------------------

template <class T>
py::tuple elman_forward_t(const py::array& x_in, const py::handle& W_, const py::handle& U_,
                          const py::handle& b_, const py::object& h0_, Activation act,
                          const py::object& mask_) {
  const Dims d = read_dims(x_in, float_array(U_, "U"), kElman.gates, kElman.u_symbol);
  auto x = checked<T>(x_in, "x", {d.B, d.T, d.I}, "(B, T, I)");
  auto W = checked<T>(W_, "W", {d.I, d.H}, kElman.w_symbol);
  auto U = checked<T>(U_, "U", {d.H, d.H}, kElman.u_symbol);
  auto b = checked<T>(b_, "b", {d.H}, kElman.b_symbol);
  py::object h0 = optional_checked<T>(h0_, "h0", {d.B, d.H}, "(B, H)");
  py::object mask = optional_mask(mask_, d.B, d.T);
  auto h_seq = empty<T>({d.B, d.T, d.H});
  const T* h0p = ptr_or_null<T>(h0);
  const uint8_t* mp = mask_ptr(mask);
  const PythonSignals signals;
  {
    py::gil_scoped_release nogil;
    fastrnn::elman_forward<T>(d.B, d.T, d.I, d.H, act, x.data(), W.data(), U.data(), b.data(), h0p,
                              h_seq.mutable_data(), mp);
  }
  if (signals.interrupted()) signals.raise();
  auto h_last = last_state<T>(h_seq, d.B, d.T, d.H, h0p);
  return py::make_tuple(read_only_view(h_seq), h_last,
                        with_mask(py::make_tuple(x, W, U, h0, h_seq), mask));
}

template <class T>
py::tuple elman_backward_t(const py::tuple& saved, const py::object& dh_seq_,
                           const py::object& dh_last_, Activation act) {
  const py::array x_in = float_array(saved[0], "cache x");
  const Dims d = read_dims(x_in, float_array(saved[2], "cache U"), kElman.gates, kElman.u_symbol,
                           "cache x", "cache U");
  auto x = cached<T>(saved[0], "cache x", {d.B, d.T, d.I}, "(B, T, I)");
  auto W = cached<T>(saved[1], "cache W", {d.I, d.H}, kElman.w_symbol);
  auto U = cached<T>(saved[2], "cache U", {d.H, d.H}, kElman.u_symbol);
  py::object h0 = optional_cached<T>(saved[3], "cache h0", {d.B, d.H}, "(B, H)");
  auto h_seq = cached<T>(saved[4], "cache h_seq", {d.B, d.T, d.H}, "(B, T, H)");
  py::object mask = saved.size() > 5 ? cached_mask(saved[5], d.B, d.T) : py::none();
  py::object dh_seq = optional_checked<T>(dh_seq_, "dh_seq", {d.B, d.T, d.H}, "(B, T, H)");
  py::object dh_last = optional_checked<T>(dh_last_, "dh_last", {d.B, d.H}, "(B, H)");
  auto dx = empty<T>({d.B, d.T, d.I});
  auto dW = empty<T>({d.I, d.H});
  auto dU = empty<T>({d.H, d.H});
  auto db = empty<T>({d.H});
  auto dh0 = empty<T>({d.B, d.H});
  const T *h0p = ptr_or_null<T>(h0), *dsp = ptr_or_null<T>(dh_seq), *dlp = ptr_or_null<T>(dh_last);
  T *dxp = dx.mutable_data(), *dWp = dW.mutable_data(), *dUp = dU.mutable_data(),
    *dbp = db.mutable_data(), *dh0p = dh0.mutable_data();
  const uint8_t* mp = mask_ptr(mask);
  const PythonSignals signals;
  {
    py::gil_scoped_release nogil;
    fastrnn::elman_backward<T>(d.B, d.T, d.I, d.H, act, x.data(), W.data(), U.data(), h0p,
                               h_seq.data(), dsp, dlp, dxp, dWp, dUp, dbp, dh0p, mp);
  }
  if (signals.interrupted()) signals.raise();
  return py::make_tuple(dx, dW, dU, db, dh0);
}

// ---------------------------------------------------------------------------------------------
// LSTM
// ---------------------------------------------------------------------------------------------

template <class T>
py::tuple lstm_forward_t(const py::array& x_in, const py::handle& W_, const py::handle& U_,
                         const py::handle& b_, const py::object& h0_, const py::object& c0_,
                         Activation act, const py::object& mask_) {
  const Dims d = read_dims(x_in, float_array(U_, "U"), kLstm.gates, kLstm.u_symbol);
  const int64_t G = kLstm.gates * d.H;
  auto x = checked<T>(x_in, "x", {d.B, d.T, d.I}, "(B, T, I)");
  auto W = checked<T>(W_, "W", {d.I, G}, kLstm.w_symbol);
  auto U = checked<T>(U_, "U", {d.H, G}, kLstm.u_symbol);
  auto b = checked<T>(b_, "b", {G}, kLstm.b_symbol);
  py::object h0 = optional_checked<T>(h0_, "h0", {d.B, d.H}, "(B, H)");
  py::object c0 = optional_checked<T>(c0_, "c0", {d.B, d.H}, "(B, H)");
  py::object mask = optional_mask(mask_, d.B, d.T);
  auto h_seq = empty<T>({d.B, d.T, d.H});
  auto c_seq = empty<T>({d.B, d.T, d.H});
  auto gates = empty<T>({d.B, d.T, G});
  const T *h0p = ptr_or_null<T>(h0), *c0p = ptr_or_null<T>(c0);
  T *hp = h_seq.mutable_data(), *cp = c_seq.mutable_data(), *gp = gates.mutable_data();
  const uint8_t* mp = mask_ptr(mask);
  const PythonSignals signals;
  {
    py::gil_scoped_release nogil;
    fastrnn::lstm_forward<T>(d.B, d.T, d.I, d.H, act, x.data(), W.data(), U.data(), b.data(), h0p,
                             c0p, hp, cp, gp, mp);
  }
  if (signals.interrupted()) signals.raise();
  auto h_last = last_state<T>(h_seq, d.B, d.T, d.H, h0p);
  auto c_last = last_state<T>(c_seq, d.B, d.T, d.H, c0p);
  return py::make_tuple(read_only_view(h_seq), h_last, c_last,
                        with_mask(py::make_tuple(x, W, U, h0, c0, h_seq, c_seq, gates), mask));
}

template <class T>
py::tuple lstm_backward_t(const py::tuple& saved, const py::object& dh_seq_,
                          const py::object& dh_last_, const py::object& dc_last_, Activation act) {
  const py::array x_in = float_array(saved[0], "cache x");
  const Dims d = read_dims(x_in, float_array(saved[2], "cache U"), kLstm.gates, kLstm.u_symbol,
                           "cache x", "cache U");
  const int64_t G = kLstm.gates * d.H;
  auto x = cached<T>(saved[0], "cache x", {d.B, d.T, d.I}, "(B, T, I)");
  auto W = cached<T>(saved[1], "cache W", {d.I, G}, kLstm.w_symbol);
  auto U = cached<T>(saved[2], "cache U", {d.H, G}, kLstm.u_symbol);
  py::object h0 = optional_cached<T>(saved[3], "cache h0", {d.B, d.H}, "(B, H)");
  py::object c0 = optional_cached<T>(saved[4], "cache c0", {d.B, d.H}, "(B, H)");
  auto h_seq = cached<T>(saved[5], "cache h_seq", {d.B, d.T, d.H}, "(B, T, H)");
  auto c_seq = cached<T>(saved[6], "cache c_seq", {d.B, d.T, d.H}, "(B, T, H)");
  auto gates = cached<T>(saved[7], "cache gates", {d.B, d.T, G}, kLstm.gates_symbol);
  py::object mask = saved.size() > 8 ? cached_mask(saved[8], d.B, d.T) : py::none();
  py::object dh_seq = optional_checked<T>(dh_seq_, "dh_seq", {d.B, d.T, d.H}, "(B, T, H)");
  py::object dh_last = optional_checked<T>(dh_last_, "dh_last", {d.B, d.H}, "(B, H)");
  py::object dc_last = optional_checked<T>(dc_last_, "dc_last", {d.B, d.H}, "(B, H)");
  auto dx = empty<T>({d.B, d.T, d.I});
  auto dW = empty<T>({d.I, G});
  auto dU = empty<T>({d.H, G});
  auto db = empty<T>({G});
  auto dh0 = empty<T>({d.B, d.H});
  auto dc0 = empty<T>({d.B, d.H});
  const T *h0p = ptr_or_null<T>(h0), *c0p = ptr_or_null<T>(c0), *dsp = ptr_or_null<T>(dh_seq),
          *dlp = ptr_or_null<T>(dh_last), *dcp = ptr_or_null<T>(dc_last);
  T *dxp = dx.mutable_data(), *dWp = dW.mutable_data(), *dUp = dU.mutable_data(),
    *dbp = db.mutable_data(), *dh0p = dh0.mutable_data(), *dc0p = dc0.mutable_data();
  const uint8_t* mp = mask_ptr(mask);
  const PythonSignals signals;
  {
    py::gil_scoped_release nogil;
    fastrnn::lstm_backward<T>(d.B, d.T, d.I, d.H, act, x.data(), W.data(), U.data(), h0p, c0p,
                              h_seq.data(), c_seq.data(), gates.data(), dsp, dlp, dcp, dxp, dWp,
                              dUp, dbp, dh0p, dc0p, mp);
  }
  if (signals.interrupted()) signals.raise();
  return py::make_tuple(dx, dW, dU, db, dh0, dc0);
}

// ---------------------------------------------------------------------------------------------
// GRU
// ---------------------------------------------------------------------------------------------

template <class T>
py::tuple gru_forward_t(const py::array& x_in, const py::handle& W_, const py::handle& U_,
                        const py::handle& b_, const py::object& h0_, bool reset_after,
                        Activation act, const py::object& mask_) {
  const Dims d = read_dims(x_in, float_array(U_, "U"), kGru.gates, kGru.u_symbol);
  const int64_t G = kGru.gates * d.H;
  auto x = checked<T>(x_in, "x", {d.B, d.T, d.I}, "(B, T, I)");
  auto W = checked<T>(W_, "W", {d.I, G}, kGru.w_symbol);
  auto U = checked<T>(U_, "U", {d.H, G}, kGru.u_symbol);
  auto b = reset_after ? checked<T>(b_, "b", {2, G}, gru_bias_symbol(true))
                       : checked<T>(b_, "b", {G}, gru_bias_symbol(false));
  py::object h0 = optional_checked<T>(h0_, "h0", {d.B, d.H}, "(B, H)");
  auto h_seq = empty<T>({d.B, d.T, d.H});
  auto gates = empty<T>({d.B, d.T, G});
  auto rec_h = empty<T>({d.B, d.T, d.H});
  py::object mask = optional_mask(mask_, d.B, d.T);
  const T* h0p = ptr_or_null<T>(h0);
  T *hp = h_seq.mutable_data(), *gp = gates.mutable_data(), *rp = rec_h.mutable_data();
  const uint8_t* mp = mask_ptr(mask);
  const PythonSignals signals;
  {
    py::gil_scoped_release nogil;
    fastrnn::gru_forward<T>(d.B, d.T, d.I, d.H, reset_after, act, x.data(), W.data(), U.data(),
                            b.data(), h0p, hp, gp, rp, mp);
  }
  if (signals.interrupted()) signals.raise();
  auto h_last = last_state<T>(h_seq, d.B, d.T, d.H, h0p);
  return py::make_tuple(read_only_view(h_seq), h_last,
                        with_mask(py::make_tuple(x, W, U, h0, h_seq, gates, rec_h), mask));
}

template <class T>
py::tuple gru_backward_t(const py::tuple& saved, const py::object& dh_seq_,
                         const py::object& dh_last_, bool reset_after, Activation act) {
  const py::array x_in = float_array(saved[0], "cache x");
  const Dims d = read_dims(x_in, float_array(saved[2], "cache U"), kGru.gates, kGru.u_symbol,
                           "cache x", "cache U");
  const int64_t G = kGru.gates * d.H;
  auto x = cached<T>(saved[0], "cache x", {d.B, d.T, d.I}, "(B, T, I)");
  auto W = cached<T>(saved[1], "cache W", {d.I, G}, kGru.w_symbol);
  auto U = cached<T>(saved[2], "cache U", {d.H, G}, kGru.u_symbol);
  py::object h0 = optional_cached<T>(saved[3], "cache h0", {d.B, d.H}, "(B, H)");
  auto h_seq = cached<T>(saved[4], "cache h_seq", {d.B, d.T, d.H}, "(B, T, H)");
  auto gates = cached<T>(saved[5], "cache gates", {d.B, d.T, G}, kGru.gates_symbol);
  auto rec_h = cached<T>(saved[6], "cache rec_h", {d.B, d.T, d.H}, "(B, T, H)");
  py::object mask = saved.size() > 7 ? cached_mask(saved[7], d.B, d.T) : py::none();
  py::object dh_seq = optional_checked<T>(dh_seq_, "dh_seq", {d.B, d.T, d.H}, "(B, T, H)");
  py::object dh_last = optional_checked<T>(dh_last_, "dh_last", {d.B, d.H}, "(B, H)");
  auto dx = empty<T>({d.B, d.T, d.I});
  auto dW = empty<T>({d.I, G});
  auto dU = empty<T>({d.H, G});
  auto db = reset_after ? empty<T>({2, G}) : empty<T>({G});
  auto dh0 = empty<T>({d.B, d.H});
  const T *h0p = ptr_or_null<T>(h0), *dsp = ptr_or_null<T>(dh_seq), *dlp = ptr_or_null<T>(dh_last);
  T *dxp = dx.mutable_data(), *dWp = dW.mutable_data(), *dUp = dU.mutable_data(),
    *dbp = db.mutable_data(), *dh0p = dh0.mutable_data();
  const uint8_t* mp = mask_ptr(mask);
  const PythonSignals signals;
  {
    py::gil_scoped_release nogil;
    fastrnn::gru_backward<T>(d.B, d.T, d.I, d.H, reset_after, act, x.data(), W.data(), U.data(),
                             h0p, h_seq.data(), gates.data(), rec_h.data(), dsp, dlp, dxp, dWp,
                             dUp, dbp, dh0p, mp);
  }
  if (signals.interrupted()) signals.raise();
  return py::make_tuple(dx, dW, dU, db, dh0);
}

// dtype dispatch: the dtype of x decides; every other array must match it.
py::array x_of(const py::handle& x) { return float_array(x, "x"); }
py::array cache_x(const py::tuple& saved) {
  try {
    return float_array(saved[0], "cache x");
  } catch (const py::type_error& e) {
    throw py::value_error(std::string(e.what()) +
                          " (the cache is damaged: pass the cache of a forward call unchanged)");
  }
}

// The saved arrays of a cache: the tuple of n (n + 1 with a mask) a <cell>_forward call returned
// (ValueError naming what came instead, as for any other damage to a cache).
py::tuple cache_tuple(const py::handle& saved, size_t n, const char* cell) {
  if (!PyTuple_Check(saved.ptr()))
    throw py::value_error(std::string("cache does not come from ") + cell +
                          "_forward of the cpp backend: its saved arrays must be the tuple of " +
                          std::to_string(n) + " that the forward call returned, got " +
                          std::string(py::str(py::type::handle_of(saved).attr("__name__"))) +
                          "; pass the cache of a forward call unchanged");
  py::tuple t = py::reinterpret_borrow<py::tuple>(saved);
  if (t.size() != n && t.size() != n + 1)
    throw py::value_error(std::string("cache does not come from ") + cell + "_forward: expected " +
                          std::to_string(n) + " saved arrays (" + std::to_string(n + 1) +
                          " with a mask), got " + std::to_string(t.size()));
  return t;
}

// The Python name of a cell's entry point: its table name + "_forward" or "_backward".
std::string entry(const CellInfo& cell, const char* suffix) { return std::string(cell.name) + suffix; }

}  // namespace

// Python names from the table (elman_forward, ...); the saved tuples hold 5 (Elman), 8 (LSTM)
// and 7 (GRU) arrays, one more (the mask) after a masked call: see each forward function.
void register_cells(py::module_& m) {
  m.def(
      entry(kElman, "_forward").c_str(),
      [](const py::handle& x, const py::handle& W, const py::handle& U, const py::handle& b,
         const py::object& h0, const py::handle& activation, const py::object& mask) {
        const py::array xa = x_of(x);
        const Activation act = parse_activation(activation, "activation");
        return is_double(xa) ? elman_forward_t<double>(xa, W, U, b, h0, act, mask)
                             : elman_forward_t<float>(xa, W, U, b, h0, act, mask);
      },
      py::arg("x"), py::arg("W"), py::arg("U"), py::arg("b"), py::arg("h0"),
      py::arg("activation"), py::arg("mask") = py::none(),
      "-> (h_seq (B,T,H), h_last (B,H), saved); mask: None or bool/uint8 (B,T)");

  m.def(
      entry(kElman, "_backward").c_str(),
      [](const py::handle& saved_, const py::object& dh_seq, const py::object& dh_last,
         const py::handle& activation) {
        const py::tuple saved = cache_tuple(saved_, 5, kElman.name);
        const Activation act = parse_activation(activation, "activation");
        return is_double(cache_x(saved)) ? elman_backward_t<double>(saved, dh_seq, dh_last, act)
                                         : elman_backward_t<float>(saved, dh_seq, dh_last, act);
      },
      py::arg("saved"), py::arg("dh_seq"), py::arg("dh_last"), py::arg("activation"),
      "-> (dx, dW, dU, db, dh0)");

  m.def(
      entry(kLstm, "_forward").c_str(),
      [](const py::handle& x, const py::handle& W, const py::handle& U, const py::handle& b,
         const py::object& h0, const py::object& c0, const py::handle& activation,
         const py::handle& recurrent_activation, const py::object& mask) {
        const py::array xa = x_of(x);
        const Activation act = parse_activation(activation, "activation");
        check_recurrent_activation(recurrent_activation);
        return is_double(xa) ? lstm_forward_t<double>(xa, W, U, b, h0, c0, act, mask)
                             : lstm_forward_t<float>(xa, W, U, b, h0, c0, act, mask);
      },
      py::arg("x"), py::arg("W"), py::arg("U"), py::arg("b"), py::arg("h0"), py::arg("c0"),
      py::arg("activation"), py::arg("recurrent_activation"), py::arg("mask") = py::none(),
      "-> (h_seq (B,T,H), h_last (B,H), c_last (B,H), saved); mask: None or bool/uint8 (B,T)");

  m.def(
      entry(kLstm, "_backward").c_str(),
      [](const py::handle& saved_, const py::object& dh_seq, const py::object& dh_last,
         const py::object& dc_last, const py::handle& activation) {
        const py::tuple saved = cache_tuple(saved_, 8, kLstm.name);
        const Activation act = parse_activation(activation, "activation");
        return is_double(cache_x(saved))
                   ? lstm_backward_t<double>(saved, dh_seq, dh_last, dc_last, act)
                   : lstm_backward_t<float>(saved, dh_seq, dh_last, dc_last, act);
      },
      py::arg("saved"), py::arg("dh_seq"), py::arg("dh_last"), py::arg("dc_last"),
      py::arg("activation"), "-> (dx, dW, dU, db, dh0, dc0)");

  m.def(
      entry(kGru, "_forward").c_str(),
      [](const py::handle& x, const py::handle& W, const py::handle& U, const py::handle& b,
         const py::object& h0, bool reset_after, const py::handle& activation,
         const py::handle& recurrent_activation, const py::object& mask) {
        const py::array xa = x_of(x);
        const Activation act = parse_activation(activation, "activation");
        check_recurrent_activation(recurrent_activation);
        return is_double(xa) ? gru_forward_t<double>(xa, W, U, b, h0, reset_after, act, mask)
                             : gru_forward_t<float>(xa, W, U, b, h0, reset_after, act, mask);
      },
      py::arg("x"), py::arg("W"), py::arg("U"), py::arg("b"), py::arg("h0"),
      py::arg("reset_after"), py::arg("activation"), py::arg("recurrent_activation"),
      py::arg("mask") = py::none(), "-> (h_seq (B,T,H), h_last (B,H), saved); mask as above");

  m.def(
      entry(kGru, "_backward").c_str(),
      [](const py::handle& saved_, const py::object& dh_seq, const py::object& dh_last,
         bool reset_after, const py::handle& activation) {
        const py::tuple saved = cache_tuple(saved_, 7, kGru.name);
        const Activation act = parse_activation(activation, "activation");
        return is_double(cache_x(saved))
                   ? gru_backward_t<double>(saved, dh_seq, dh_last, reset_after, act)
                   : gru_backward_t<float>(saved, dh_seq, dh_last, reset_after, act);
      },
      py::arg("saved"), py::arg("dh_seq"), py::arg("dh_last"), py::arg("reset_after"),
      py::arg("activation"), "-> (dx, dW, dU, db, dh0)");
}

}  // namespace bindings
}  // namespace fastrnn
