// fastrnn._cuda: the only file of the CUDA backend that knows NumPy and Python.
//
// Arrays. Every array argument is either a NumPy array (or anything np.asarray takes) or a
// device array exposing __cuda_array_interface__ (CuPy, PyTorch CUDA tensors, Numba; the Python
// wrapper fastrnn/backends/_cuda.py turns DLPack-only objects and strided tensors into such).
// NumPy arrays are checked (shape, dtype, NaN/inf) exactly like fastrnn._core and copied to
// the GPU; device arrays are checked for shape, dtype and contiguity, scanned for NaN/inf on
// the GPU, and used in place. Outputs are allocated by the `alloc(shape, dtype_name)` callable
// the wrapper passes (torch.empty / cupy.empty on the input's device), or, when it is None,
// as DeviceArray (below) and copied back to NumPy before returning. The saved arrays of a
// forward call stay on the GPU (DeviceArray or the caller's kind) for the backward call.
//
// Execution. Work runs on the legacy default stream of the device that holds x (which orders it
// after work queued on the other blocking streams, as PyTorch's and CuPy's defaults are), and
// every call synchronises before returning: results are ready when Python sees them. The GIL is
// released around kernels, synchronisation and copies. CUDA errors raise RuntimeError (check.cuh).
#include <cuda_runtime.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "../cuda/cells.hpp"
#include "../cuda/check.cuh"
#include "../cuda/gemm.cuh"
#include "fastrnn/cells.hpp"

namespace py = pybind11;
using fastrnn::Activation;
namespace fc = fastrnn::cuda;

namespace {

using Shape = std::vector<int64_t>;

std::string shape_str(const Shape& s) {
  std::ostringstream o;
  o << "(";
  for (size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
  o << (s.size() == 1 ? ",)" : ")");
  return o.str();
}

int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

Activation parse_activation(const std::string& name) {
  if (name == "tanh") return Activation::Tanh;
  if (name == "relu") return Activation::Relu;
  if (name == "sigmoid") return Activation::Sigmoid;
  if (name == "linear") return Activation::Linear;
  throw py::value_error("activation must be one of 'tanh', 'relu', 'sigmoid', 'linear'; got '" +
                        name + "'");
}

void check_recurrent_activation(const std::string& name) {
  if (name != "sigmoid")
    throw py::value_error("recurrent_activation must be one of 'sigmoid'; got '" + name + "'");
}

// Switches to `device` for the lifetime of the guard (no-op when device < 0).
struct DeviceGuard {
  int prev = -1;
  explicit DeviceGuard(int device) {
    if (device < 0) return;
    FASTRNN_CUDA_CHECK(cudaGetDevice(&prev));
    if (prev != device) FASTRNN_CUDA_CHECK(cudaSetDevice(device));
    else prev = -1;
  }
  ~DeviceGuard() {
    if (prev >= 0) cudaSetDevice(prev);
  }
};

// GPU memory owned by Python: what the NumPy path allocates. Exposes __cuda_array_interface__.
class DeviceArray {
 public:
  DeviceArray(const Shape& shape, bool dbl) : shape_(shape), dbl_(dbl) {
    FASTRNN_CUDA_CHECK(cudaGetDevice(&device_));
    const size_t bytes = size_t(numel(shape)) * itemsize();
    if (bytes) FASTRNN_CUDA_CHECK(cudaMalloc(&ptr_, bytes));
  }
  ~DeviceArray() {
    if (!ptr_) return;
    int cur = device_;
    cudaGetDevice(&cur);
    if (cur != device_) cudaSetDevice(device_);
    cudaFree(ptr_);  // a destructor cannot raise; a failure here resurfaces at the next call
    if (cur != device_) cudaSetDevice(cur);
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;

  size_t itemsize() const { return dbl_ ? 8 : 4; }
  void* ptr() const { return ptr_; }
  int device() const { return device_; }
  const Shape& shape() const { return shape_; }
  bool dbl() const { return dbl_; }

  py::dict interface() const {
    py::dict d;
    d["shape"] = py::tuple(py::cast(shape_));
    d["typestr"] = dbl_ ? "<f8" : "<f4";
    d["data"] = py::make_tuple(reinterpret_cast<uintptr_t>(ptr_), false);
    d["strides"] = py::none();
    d["version"] = 3;
    d["stream"] = py::none();  // every fastrnn call synchronises before returning
    return d;
  }

  // A NumPy copy (synchronous).
  py::array to_numpy() const {
    py::array out(py::dtype(dbl_ ? "float64" : "float32"),
                  std::vector<py::ssize_t>(shape_.begin(), shape_.end()));
    const size_t bytes = size_t(numel(shape_)) * itemsize();
    void* dst = out.mutable_data();
    if (bytes) {
      py::gil_scoped_release nogil;
      DeviceGuard g(device_);
      FASTRNN_CUDA_CHECK(cudaMemcpy(dst, ptr_, bytes, cudaMemcpyDeviceToHost));
    }
    return out;
  }

 private:
  Shape shape_;
  bool dbl_;
  int device_ = 0;
  void* ptr_ = nullptr;
};

bool has_cai(const py::handle& obj) { return py::hasattr(obj, "__cuda_array_interface__"); }

// Device of a device pointer (-1 for host or unknown memory).
int device_of(const void* p) {
  if (!p) return -1;
  cudaPointerAttributes attr{};
  const cudaError_t err = cudaPointerGetAttributes(&attr, p);
  if (err != cudaSuccess) {
    cudaGetLastError();
    return -1;
  }
  return (attr.type == cudaMemoryTypeDevice || attr.type == cudaMemoryTypeManaged) ? attr.device : -1;
}

// One kernel call: checks every input first (no GPU needed for that, so bad arguments raise
// ValueError / TypeError on any machine), then upload() moves NumPy inputs to the GPU and scans
// device inputs for NaN/inf; out() allocates outputs. Keeps everything alive for the call.
template <class T>
class Call {
 public:
  // An input; converts to its device pointer once upload() has run (nullptr for None).
  struct Arg {
    const Call* call;
    int idx;
    operator const T*() const { return idx < 0 ? nullptr : call->slots_[idx].ptr; }
  };

  Call(py::object alloc, int device) : alloc_(std::move(alloc)), device_(device) {}

  static const char* dtype_name() { return sizeof(T) == 8 ? "float64" : "float32"; }

  // A checked input. `finite`: NaN/inf raise ValueError (cache entries are not rescanned).
  Arg in(const py::handle& obj, const char* name, const Shape& expected, const char* sym,
         bool optional = false, bool finite = true) {
    if (obj.is_none()) {
      if (optional) return {this, -1};
      throw py::type_error(std::string(name) + " must be an array, got None");
    }
    Slot sl;
    sl.name = name;
    sl.finite = finite;
    if (has_cai(obj)) device_in(obj, sl, expected, sym);
    else host_in(obj, sl, expected, sym);
    slots_.push_back(std::move(sl));
    return {this, int(slots_.size()) - 1};
  }

  // Copies the NumPy inputs to the GPU and scans the device inputs for NaN/inf.
  void upload() {
    for (Slot& sl : slots_) {
      const int64_t n = numel(sl.shape);
      if (sl.host) {
        auto* dev = new DeviceArray(sl.shape, sizeof(T) == 8);
        sl.obj = py::cast(dev, py::return_value_policy::take_ownership);
        sl.ptr = static_cast<const T*>(dev->ptr());
        const void* src = sl.host.data();
        if (n) {
          py::gil_scoped_release nogil;
          FASTRNN_CUDA_CHECK(cudaMemcpy(dev->ptr(), src, sizeof(T) * size_t(n), cudaMemcpyHostToDevice));
        }
        continue;
      }
      if (n && device_ >= 0 && device_of(sl.ptr) != device_)
        throw py::value_error(sl.name + " is not on the same CUDA device as x");
      if (sl.finite && n) {
        int64_t bad;
        {
          py::gil_scoped_release nogil;
          bad = fc::first_nonfinite<T>(0, sl.ptr, n);
        }
        if (bad >= 0)
          throw py::value_error(sl.name + " contains NaN or inf (first at flat index " +
                                std::to_string(bad) + ")");
      }
    }
  }

  // A new output array of `shape` and its device pointer.
  std::pair<py::object, T*> out(const Shape& shape) {
    py::object o;
    if (alloc_.is_none()) o = py::cast(new DeviceArray(shape, sizeof(T) == 8),
                                       py::return_value_policy::take_ownership);
    else o = alloc_(py::tuple(py::cast(shape)), dtype_name());
    const py::dict d = o.attr("__cuda_array_interface__");
    T* p = reinterpret_cast<T*>(d["data"].cast<py::tuple>()[0].cast<uintptr_t>());
    outs_.push_back(o);
    return {o, p};
  }

  // What the user gets: NumPy copies on the NumPy path, the device arrays otherwise.
  py::object result(const py::object& o) const {
    if (!alloc_.is_none()) return o;
    return o.cast<DeviceArray&>().to_numpy();
  }

  // The object to keep in the saved tuple for an input: its GPU copy or the caller's array.
  py::object saved(const Arg& a) const { return a.idx < 0 ? py::none() : slots_[a.idx].obj; }

 private:
  struct Slot {
    std::string name;
    bool finite = true;
    Shape shape;
    py::array_t<T, py::array::c_style> host;  // NumPy input (C-contiguous), until uploaded
    py::object obj;                             // the device array (caller's or our copy)
    const T* ptr = nullptr;
  };

  void host_in(const py::handle& obj, Slot& sl, const Shape& expected, const char* sym) {
    const std::string& name = sl.name;
    py::array a = py::array::ensure(obj);
    if (!a) {
      PyErr_Clear();
      throw py::type_error(name + " must be a float32 or float64 array, got " +
                           std::string(py::str(py::type::handle_of(obj).attr("__name__"))));
    }
    const py::dtype dt = a.dtype();
    if (dt.kind() != 'f' || (dt.itemsize() != 4 && dt.itemsize() != 8))
      throw py::type_error(name + " must be a float32 or float64 array, got dtype " +
                           std::string(py::str(dt)));
    if (size_t(dt.itemsize()) != sizeof(T))
      throw py::type_error(name + " has dtype " + std::string(py::str(dt)) + " but x has dtype " +
                           dtype_name() + "; pass all arrays in one dtype");
    const Shape got(a.shape(), a.shape() + a.ndim());
    if (got != expected)
      throw py::value_error(name + " must have shape " + sym + " = " + shape_str(expected) +
                            ", got " + shape_str(got));
    auto c = py::array_t<T, py::array::c_style>::ensure(a);
    if (!c) throw py::error_already_set();
    auto p = c.data();
    const int64_t n = c.size();
    if (sl.finite)
      for (int64_t k = 0; k < n; ++k)
        if (!std::isfinite(p[k]))
          throw py::value_error(name + " contains NaN or inf (first at flat index " +
                                std::to_string(k) + ")");
    sl.shape = expected;
    sl.host = c;
  }

  void device_in(const py::handle& obj, Slot& sl, const Shape& expected, const char* sym) {
    const std::string& name = sl.name;
    const py::dict d = obj.attr("__cuda_array_interface__");
    const std::string ts = d["typestr"].cast<std::string>();
    if (ts.size() != 3 || ts[1] != 'f' || (ts[2] != '4' && ts[2] != '8'))
      throw py::type_error(name + " must be a float32 or float64 array, got typestr '" + ts + "'");
    if (size_t(ts[2] - '0') != sizeof(T))
      throw py::type_error(name + " has dtype float" + std::to_string(8 * (ts[2] - '0')) +
                           " but x has dtype " + dtype_name() + "; pass all arrays in one dtype");
    const Shape got = d["shape"].cast<Shape>();
    if (got != expected)
      throw py::value_error(name + " must have shape " + sym + " = " + shape_str(expected) +
                            ", got " + shape_str(got));
    if (d.contains("strides") && !d["strides"].is_none()) {
      const Shape st = d["strides"].cast<Shape>();
      int64_t want = sizeof(T);
      for (size_t i = got.size(); i-- > 0;) {
        if (got[i] != 1 && st[i] != want)
          throw py::value_error(name + " must be C-contiguous on the device");
        want *= got[i];
      }
    }
    if (d.contains("stream") && !d["stream"].is_none()) {
      // CUDA Array Interface v3: wait for the producer's stream (1 = legacy default: ours).
      const uintptr_t st = d["stream"].cast<uintptr_t>();
      if (st != 1) {
        py::gil_scoped_release nogil;
        FASTRNN_CUDA_CHECK(cudaStreamSynchronize(
            st == 2 ? cudaStreamPerThread : reinterpret_cast<cudaStream_t>(st)));
      }
    }
    sl.shape = expected;
    sl.ptr = reinterpret_cast<const T*>(d["data"].cast<py::tuple>()[0].cast<uintptr_t>());
    sl.obj = py::reinterpret_borrow<py::object>(obj);
  }

  py::object alloc_;
  int device_;
  std::vector<Slot> slots_;
  std::vector<py::object> outs_;
};

// The device a call runs on: x's device for a device array, else the current one.
int device_for(const py::handle& x) {
  if (!has_cai(x)) return -1;
  const py::dict d = x.attr("__cuda_array_interface__");
  const void* p = reinterpret_cast<const void*>(d["data"].cast<py::tuple>()[0].cast<uintptr_t>());
  return device_of(p);
}

bool is_double(const py::handle& x) {
  if (has_cai(x)) {
    const std::string ts = x.attr("__cuda_array_interface__")["typestr"].cast<std::string>();
    return ts.size() >= 3 && ts.substr(1) == "f8";
  }
  py::array a = py::array::ensure(x);
  if (!a) {
    PyErr_Clear();
    throw py::type_error("x must be a float32 or float64 array, got " +
                         std::string(py::str(py::type::handle_of(x).attr("__name__"))));
  }
  return a.dtype().kind() == 'f' && a.dtype().itemsize() == 8;
}

Shape shape_of(const py::handle& a, const char* name) {
  if (has_cai(a)) return a.attr("__cuda_array_interface__")["shape"].cast<Shape>();
  py::array arr = py::array::ensure(a);
  if (!arr) {
    PyErr_Clear();
    throw py::type_error(std::string(name) + " must be a float32 or float64 array, got " +
                         std::string(py::str(py::type::handle_of(a).attr("__name__"))));
  }
  return Shape(arr.shape(), arr.shape() + arr.ndim());
}

struct Dims {
  int64_t B, T, I, H;
};

Dims read_dims(const py::handle& x, const py::handle& U, int gates, const char* u_sym,
               const char* prefix = "") {
  const Shape xs = shape_of(x, "x"), us = shape_of(U, "U");
  if (xs.size() != 3)
    throw py::value_error(std::string(prefix) + "x must have shape (B, T, I) (3 dimensions), got " +
                          shape_str(xs));
  if (us.size() != 2 || us[0] < 1 || us[1] != gates * us[0])
    throw py::value_error(std::string(prefix) + "U must have shape " + u_sym +
                          " with H >= 1, got " + shape_str(us));
  return {xs[0], xs[1], xs[2], us[0]};
}

// h_last (or c_last): seq[:, T-1] when T > 0, else the initial state (or zeros), on the device.
template <class T>
py::object last_state(Call<T>& call, const T* seq, const Dims& d, const T* init) {
  auto [o, p] = call.out({d.B, d.H});
  py::gil_scoped_release nogil;
  if (d.T > 0) fc::copy_rows<T>(0, d.B, d.H, seq + (d.T - 1) * d.H, d.T * d.H, p);
  else fc::copy_rows<T>(0, d.B, d.H, init, d.H, p);
  return o;
}

void sync() { FASTRNN_CUDA_CHECK(cudaStreamSynchronize(0)); }

py::tuple saved_tuple(const py::tuple& saved, size_t n, const char* cell) {
  if (saved.size() != n)
    throw py::value_error(std::string("cache does not come from ") + cell + "_forward: expected " +
                          std::to_string(n) + " saved arrays, got " + std::to_string(saved.size()));
  return saved;
}

// ---------------------------------------------------------------------------------------------
// Elman
// ---------------------------------------------------------------------------------------------

template <class T>
py::tuple elman_forward_t(const py::handle& x_, const py::handle& W_, const py::handle& U_,
                          const py::handle& b_, const py::handle& h0_, Activation act,
                          const py::object& alloc) {
  const Dims d = read_dims(x_, U_, 1, "(H, H)");
  DeviceGuard guard(device_for(x_));
  Call<T> c(alloc, device_for(x_));
  auto x = c.in(x_, "x", {d.B, d.T, d.I}, "(B, T, I)");
  auto W = c.in(W_, "W", {d.I, d.H}, "(I, H)");
  auto U = c.in(U_, "U", {d.H, d.H}, "(H, H)");
  auto b = c.in(b_, "b", {d.H}, "(H,)");
  auto h0 = c.in(h0_, "h0", {d.B, d.H}, "(B, H)", true);
  c.upload();
  auto [hs, hsp] = c.out({d.B, d.T, d.H});
  {
    py::gil_scoped_release nogil;
    fc::elman_forward<T>(0, d.B, d.T, d.I, d.H, act, x, W, U, b, h0, hsp);
  }
  py::object hl = last_state<T>(c, hsp, d, h0);
  { py::gil_scoped_release nogil; sync(); }
    return py::make_tuple(c.result(hs), c.result(hl),
                        py::make_tuple(c.saved(x), c.saved(W), c.saved(U), c.saved(h0), hs));
}

template <class T>
py::tuple elman_backward_t(const py::tuple& s, const py::handle& dh_seq_, const py::handle& dh_last_,
                           Activation act, const py::object& alloc) {
  const Dims d = read_dims(s[0], s[2], 1, "(H, H)", "cache ");
  DeviceGuard guard(device_for(s[0]));
  Call<T> c(alloc, device_for(s[0]));
  auto x = c.in(s[0], "cache x", {d.B, d.T, d.I}, "(B, T, I)", false, false);
  auto W = c.in(s[1], "cache W", {d.I, d.H}, "(I, H)", false, false);
  auto U = c.in(s[2], "cache U", {d.H, d.H}, "(H, H)", false, false);
  auto h0 = c.in(s[3], "cache h0", {d.B, d.H}, "(B, H)", true, false);
  auto hs = c.in(s[4], "cache h_seq", {d.B, d.T, d.H}, "(B, T, H)", false, false);
  auto dhs = c.in(dh_seq_, "dh_seq", {d.B, d.T, d.H}, "(B, T, H)", true);
  auto dhl = c.in(dh_last_, "dh_last", {d.B, d.H}, "(B, H)", true);
  c.upload();
  auto [dx, dxp] = c.out({d.B, d.T, d.I});
  auto [dW, dWp] = c.out({d.I, d.H});
  auto [dU, dUp] = c.out({d.H, d.H});
  auto [db, dbp] = c.out({d.H});
  auto [dh0, dh0p] = c.out({d.B, d.H});
  {
    py::gil_scoped_release nogil;
    fc::elman_backward<T>(0, d.B, d.T, d.I, d.H, act, x, W, U, h0, hs, dhs, dhl, dxp, dWp, dUp,
                          dbp, dh0p);
    sync();
  }
  return py::make_tuple(c.result(dx), c.result(dW), c.result(dU), c.result(db), c.result(dh0));
}

// ---------------------------------------------------------------------------------------------
// LSTM
// ---------------------------------------------------------------------------------------------

template <class T>
py::tuple lstm_forward_t(const py::handle& x_, const py::handle& W_, const py::handle& U_,
                         const py::handle& b_, const py::handle& h0_, const py::handle& c0_,
                         Activation act, const py::object& alloc) {
  const Dims d = read_dims(x_, U_, 4, "(H, 4H)");
  const int64_t G = 4 * d.H;
  DeviceGuard guard(device_for(x_));
  Call<T> c(alloc, device_for(x_));
  auto x = c.in(x_, "x", {d.B, d.T, d.I}, "(B, T, I)");
  auto W = c.in(W_, "W", {d.I, G}, "(I, 4H)");
  auto U = c.in(U_, "U", {d.H, G}, "(H, 4H)");
  auto b = c.in(b_, "b", {G}, "(4H,)");
  auto h0 = c.in(h0_, "h0", {d.B, d.H}, "(B, H)", true);
  auto c0 = c.in(c0_, "c0", {d.B, d.H}, "(B, H)", true);
  c.upload();
  auto [hs, hsp] = c.out({d.B, d.T, d.H});
  auto [cs, csp] = c.out({d.B, d.T, d.H});
  auto [gs, gsp] = c.out({d.B, d.T, G});
  {
    py::gil_scoped_release nogil;
    fc::lstm_forward<T>(0, d.B, d.T, d.I, d.H, act, x, W, U, b, h0, c0, hsp, csp, gsp);
  }
  py::object hl = last_state<T>(c, hsp, d, h0);
  py::object cl = last_state<T>(c, csp, d, c0);
  { py::gil_scoped_release nogil; sync(); }
  return py::make_tuple(c.result(hs), c.result(hl), c.result(cl),
                        py::make_tuple(c.saved(x), c.saved(W), c.saved(U), c.saved(h0), c.saved(c0), hs, cs, gs));
}

template <class T>
py::tuple lstm_backward_t(const py::tuple& s, const py::handle& dh_seq_, const py::handle& dh_last_,
                          const py::handle& dc_last_, Activation act, const py::object& alloc) {
  const Dims d = read_dims(s[0], s[2], 4, "(H, 4H)", "cache ");
  const int64_t G = 4 * d.H;
  DeviceGuard guard(device_for(s[0]));
  Call<T> c(alloc, device_for(s[0]));
  auto x = c.in(s[0], "cache x", {d.B, d.T, d.I}, "(B, T, I)", false, false);
  auto W = c.in(s[1], "cache W", {d.I, G}, "(I, 4H)", false, false);
  auto U = c.in(s[2], "cache U", {d.H, G}, "(H, 4H)", false, false);
  auto h0 = c.in(s[3], "cache h0", {d.B, d.H}, "(B, H)", true, false);
  auto c0 = c.in(s[4], "cache c0", {d.B, d.H}, "(B, H)", true, false);
  auto hs = c.in(s[5], "cache h_seq", {d.B, d.T, d.H}, "(B, T, H)", false, false);
  auto cs = c.in(s[6], "cache c_seq", {d.B, d.T, d.H}, "(B, T, H)", false, false);
  auto gs = c.in(s[7], "cache gates", {d.B, d.T, G}, "(B, T, 4H)", false, false);
  auto dhs = c.in(dh_seq_, "dh_seq", {d.B, d.T, d.H}, "(B, T, H)", true);
  auto dhl = c.in(dh_last_, "dh_last", {d.B, d.H}, "(B, H)", true);
  auto dcl = c.in(dc_last_, "dc_last", {d.B, d.H}, "(B, H)", true);
  c.upload();
  auto [dx, dxp] = c.out({d.B, d.T, d.I});
  auto [dW, dWp] = c.out({d.I, G});
  auto [dU, dUp] = c.out({d.H, G});
  auto [db, dbp] = c.out({G});
  auto [dh0, dh0p] = c.out({d.B, d.H});
  auto [dc0, dc0p] = c.out({d.B, d.H});
  {
    py::gil_scoped_release nogil;
    fc::lstm_backward<T>(0, d.B, d.T, d.I, d.H, act, x, W, U, h0, c0, hs, cs, gs, dhs, dhl, dcl,
                         dxp, dWp, dUp, dbp, dh0p, dc0p);
    sync();
  }
  return py::make_tuple(c.result(dx), c.result(dW), c.result(dU), c.result(db), c.result(dh0),
                        c.result(dc0));
}

// ---------------------------------------------------------------------------------------------
// GRU
// ---------------------------------------------------------------------------------------------

template <class T>
py::tuple gru_forward_t(const py::handle& x_, const py::handle& W_, const py::handle& U_,
                        const py::handle& b_, const py::handle& h0_, bool reset_after,
                        Activation act, const py::object& alloc) {
  const Dims d = read_dims(x_, U_, 3, "(H, 3H)");
  const int64_t G = 3 * d.H;
  DeviceGuard guard(device_for(x_));
  Call<T> c(alloc, device_for(x_));
  auto x = c.in(x_, "x", {d.B, d.T, d.I}, "(B, T, I)");
  auto W = c.in(W_, "W", {d.I, G}, "(I, 3H)");
  auto U = c.in(U_, "U", {d.H, G}, "(H, 3H)");
  auto b = reset_after ? c.in(b_, "b", {2, G}, "(2, 3H) (reset_after=True)")
                           : c.in(b_, "b", {G}, "(3H,) (reset_after=False)");
  auto h0 = c.in(h0_, "h0", {d.B, d.H}, "(B, H)", true);
  c.upload();
  auto [hs, hsp] = c.out({d.B, d.T, d.H});
  auto [gs, gsp] = c.out({d.B, d.T, G});
  auto [rh, rhp] = c.out({d.B, d.T, d.H});
  {
    py::gil_scoped_release nogil;
    fc::gru_forward<T>(0, d.B, d.T, d.I, d.H, reset_after, act, x, W, U, b, h0, hsp, gsp, rhp);
  }
  py::object hl = last_state<T>(c, hsp, d, h0);
  { py::gil_scoped_release nogil; sync(); }
    return py::make_tuple(c.result(hs), c.result(hl),
                        py::make_tuple(c.saved(x), c.saved(W), c.saved(U), c.saved(h0), hs, gs, rh));
}

template <class T>
py::tuple gru_backward_t(const py::tuple& s, const py::handle& dh_seq_, const py::handle& dh_last_,
                         bool reset_after, Activation act, const py::object& alloc) {
  const Dims d = read_dims(s[0], s[2], 3, "(H, 3H)", "cache ");
  const int64_t G = 3 * d.H;
  DeviceGuard guard(device_for(s[0]));
  Call<T> c(alloc, device_for(s[0]));
  auto x = c.in(s[0], "cache x", {d.B, d.T, d.I}, "(B, T, I)", false, false);
  auto W = c.in(s[1], "cache W", {d.I, G}, "(I, 3H)", false, false);
  auto U = c.in(s[2], "cache U", {d.H, G}, "(H, 3H)", false, false);
  auto h0 = c.in(s[3], "cache h0", {d.B, d.H}, "(B, H)", true, false);
  auto hs = c.in(s[4], "cache h_seq", {d.B, d.T, d.H}, "(B, T, H)", false, false);
  auto gs = c.in(s[5], "cache gates", {d.B, d.T, G}, "(B, T, 3H)", false, false);
  auto rh = c.in(s[6], "cache rec_h", {d.B, d.T, d.H}, "(B, T, H)", false, false);
  auto dhs = c.in(dh_seq_, "dh_seq", {d.B, d.T, d.H}, "(B, T, H)", true);
  auto dhl = c.in(dh_last_, "dh_last", {d.B, d.H}, "(B, H)", true);
  c.upload();
  auto [dx, dxp] = c.out({d.B, d.T, d.I});
  auto [dW, dWp] = c.out({d.I, G});
  auto [dU, dUp] = c.out({d.H, G});
  auto [db, dbp] = reset_after ? c.out({2, G}) : c.out({G});
  auto [dh0, dh0p] = c.out({d.B, d.H});
  {
    py::gil_scoped_release nogil;
    fc::gru_backward<T>(0, d.B, d.T, d.I, d.H, reset_after, act, x, W, U, h0, hs, gs, rh, dhs,
                        dhl, dxp, dWp, dUp, dbp, dh0p);
    sync();
  }
  return py::make_tuple(c.result(dx), c.result(dW), c.result(dU), c.result(db), c.result(dh0));
}

py::tuple cache_of(const py::tuple& saved, size_t n, const char* cell) {
  return saved_tuple(saved, n, cell);
}

}  // namespace

PYBIND11_MODULE(_cuda, m) {
  m.doc() = "fastrnn CUDA kernels (Elman, LSTM, GRU forward and BPTT). "
            "Use fastrnn.ops with backend='cuda' rather than this module.";

  // CUDA failures throw fastrnn::cuda::Error, a std::runtime_error: pybind11 raises RuntimeError.
  py::class_<DeviceArray>(m, "DeviceArray",
                          "GPU memory owned by fastrnn (the NumPy path's saved arrays).")
      .def(py::init([](const Shape& shape, const std::string& dtype) {
             if (dtype != "float32" && dtype != "float64")
               throw py::type_error("dtype must be 'float32' or 'float64', got '" + dtype + "'");
             return new DeviceArray(shape, dtype == "float64");
           }), py::arg("shape"), py::arg("dtype"))
      .def_property_readonly("__cuda_array_interface__", &DeviceArray::interface)
      .def_property_readonly("shape", [](const DeviceArray& a) { return py::tuple(py::cast(a.shape())); })
      .def_property_readonly("dtype", [](const DeviceArray& a) { return py::dtype(a.dbl() ? "float64" : "float32"); })
      .def_property_readonly("device", &DeviceArray::device)
      .def("get", &DeviceArray::to_numpy, "A NumPy copy.")
      .def("__repr__", [](const DeviceArray& a) {
        return "DeviceArray(shape=" + shape_str(a.shape()) + ", dtype=" +
               (a.dbl() ? "float64" : "float32") + ", device=" + std::to_string(a.device()) + ")";
      });

  m.def("device_count", []() { return fc::device_count(nullptr); },
        "Number of usable CUDA devices (0 without a GPU or driver).");
  m.def("why_unavailable", []() {
    std::string why;
    return fc::device_count(&why) > 0 ? std::string() : why;
  }, "Why no CUDA device can be used ('' when one can).");

  m.def("elman_forward", [](const py::handle& x, const py::handle& W, const py::handle& U,
                            const py::handle& b, const py::handle& h0, const std::string& activation,
                            const py::object& alloc) {
    const Activation act = parse_activation(activation);
    return is_double(x) ? elman_forward_t<double>(x, W, U, b, h0, act, alloc)
                        : elman_forward_t<float>(x, W, U, b, h0, act, alloc);
  }, py::arg("x"), py::arg("W"), py::arg("U"), py::arg("b"), py::arg("h0"), py::arg("activation"),
     py::arg("alloc") = py::none(), "-> (h_seq, h_last, saved)");

  m.def("elman_backward", [](const py::tuple& saved, const py::handle& dh_seq,
                             const py::handle& dh_last, const std::string& activation,
                             const py::object& alloc) {
    const py::tuple s = cache_of(saved, 5, fastrnn::cell_info(fastrnn::Cell::Elman).name);
    const Activation act = parse_activation(activation);
    return is_double(s[0]) ? elman_backward_t<double>(s, dh_seq, dh_last, act, alloc)
                           : elman_backward_t<float>(s, dh_seq, dh_last, act, alloc);
  }, py::arg("saved"), py::arg("dh_seq"), py::arg("dh_last"), py::arg("activation"),
     py::arg("alloc") = py::none(), "-> (dx, dW, dU, db, dh0)");

  m.def("lstm_forward", [](const py::handle& x, const py::handle& W, const py::handle& U,
                           const py::handle& b, const py::handle& h0, const py::handle& c0,
                           const std::string& activation, const std::string& recurrent_activation,
                           const py::object& alloc) {
    const Activation act = parse_activation(activation);
    check_recurrent_activation(recurrent_activation);
    return is_double(x) ? lstm_forward_t<double>(x, W, U, b, h0, c0, act, alloc)
                        : lstm_forward_t<float>(x, W, U, b, h0, c0, act, alloc);
  }, py::arg("x"), py::arg("W"), py::arg("U"), py::arg("b"), py::arg("h0"), py::arg("c0"),
     py::arg("activation"), py::arg("recurrent_activation"), py::arg("alloc") = py::none(),
     "-> (h_seq, h_last, c_last, saved)");

  m.def("lstm_backward", [](const py::tuple& saved, const py::handle& dh_seq,
                            const py::handle& dh_last, const py::handle& dc_last,
                            const std::string& activation, const py::object& alloc) {
    const py::tuple s = cache_of(saved, 8, fastrnn::cell_info(fastrnn::Cell::Lstm).name);
    const Activation act = parse_activation(activation);
    return is_double(s[0]) ? lstm_backward_t<double>(s, dh_seq, dh_last, dc_last, act, alloc)
                           : lstm_backward_t<float>(s, dh_seq, dh_last, dc_last, act, alloc);
  }, py::arg("saved"), py::arg("dh_seq"), py::arg("dh_last"), py::arg("dc_last"),
     py::arg("activation"), py::arg("alloc") = py::none(), "-> (dx, dW, dU, db, dh0, dc0)");

  m.def("gru_forward", [](const py::handle& x, const py::handle& W, const py::handle& U,
                          const py::handle& b, const py::handle& h0, bool reset_after,
                          const std::string& activation, const std::string& recurrent_activation,
                          const py::object& alloc) {
    const Activation act = parse_activation(activation);
    check_recurrent_activation(recurrent_activation);
    return is_double(x) ? gru_forward_t<double>(x, W, U, b, h0, reset_after, act, alloc)
                        : gru_forward_t<float>(x, W, U, b, h0, reset_after, act, alloc);
  }, py::arg("x"), py::arg("W"), py::arg("U"), py::arg("b"), py::arg("h0"), py::arg("reset_after"),
     py::arg("activation"), py::arg("recurrent_activation"), py::arg("alloc") = py::none(),
     "-> (h_seq, h_last, saved)");

  m.def("gru_backward", [](const py::tuple& saved, const py::handle& dh_seq,
                           const py::handle& dh_last, bool reset_after,
                           const std::string& activation, const py::object& alloc) {
    const py::tuple s = cache_of(saved, 7, fastrnn::cell_info(fastrnn::Cell::Gru).name);
    const Activation act = parse_activation(activation);
    return is_double(s[0]) ? gru_backward_t<double>(s, dh_seq, dh_last, reset_after, act, alloc)
                           : gru_backward_t<float>(s, dh_seq, dh_last, reset_after, act, alloc);
  }, py::arg("saved"), py::arg("dh_seq"), py::arg("dh_last"), py::arg("reset_after"),
     py::arg("activation"), py::arg("alloc") = py::none(), "-> (dx, dW, dU, db, dh0)");
}
