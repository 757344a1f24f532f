// The checks every binding of fastrnn._core shares: arrays (rank, shape, dtype, finiteness,
// contiguity, index ranges), option names (activations, kinds) and option dicts. Each raises
// ValueError (shape, value) or TypeError (dtype, type) with a message that names the argument,
// what was expected and what came. Nothing here does arithmetic on the data.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "fastrnn/cells.hpp"

namespace fastrnn {
namespace bindings {

namespace py = pybind11;

// ---------------------------------------------------------------------------------------------
// Names: an option is one of a table of {name, value} entries (cells.hpp's tables, or the
// bindings' own); anything else is "<arg> must be one of 'a', 'b'; got 'x'".
// ---------------------------------------------------------------------------------------------

template <class E>
struct Option {
  const char* name;
  E value;
};

template <class Entry>
auto parse(const std::string& name, const char* arg, const Entry* table, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (name == table[i].name) return table[i].value;
  std::string known;
  for (size_t i = 0; i < n; ++i)
    known += (known.empty() ? "'" : ", '") + std::string(table[i].name) + "'";
  throw py::value_error(std::string(arg) + " must be one of " + known + "; got '" + name + "'");
}

template <class Entry, size_t N>
auto parse(const std::string& name, const char* arg, const Entry (&table)[N]) {
  return parse(name, arg, table, N);
}

template <class Entry>
auto parse(const std::string& name, const char* arg, const std::vector<Entry>& table) {
  return parse(name, arg, table.data(), table.size());
}

// An argument of the wrong kind: fastrnn._params.ParameterError (a TypeError and a ValueError,
// what the Python backends raise), or TypeError where that module cannot be imported.
[[noreturn]] inline void throw_parameter_error(const std::string& message) {
  PyObject* cls = PyExc_TypeError;
  py::object holder;
  try {
    holder = py::module_::import("fastrnn._params").attr("ParameterError");
    cls = holder.ptr();
  } catch (const py::error_already_set&) {
  }
  PyErr_SetString(cls, message.c_str());
  throw py::error_already_set();
}

// The str `obj`, or a ParameterError "<arg> must be one of 'a', 'b'; got <repr>".
template <class Entry, size_t N>
std::string option_name(const py::handle& obj, const char* arg, const Entry (&table)[N]) {
  if (PyUnicode_Check(obj.ptr())) return obj.cast<std::string>();
  std::string known;
  for (size_t i = 0; i < N; ++i)
    known += (known.empty() ? "'" : ", '") + std::string(table[i].name) + "'";
  throw_parameter_error(std::string(arg) + " must be one of " + known + "; got " +
                        std::string(py::repr(obj)));
}

inline Activation parse_activation(const std::string& name, const char* arg = "activation") {
  return parse(name, arg, kActivations);
}
inline Activation parse_activation(const py::handle& obj, const char* arg = "activation") {
  return parse_activation(option_name(obj, arg, kActivations), arg);
}

inline void check_recurrent_activation(const py::handle& obj) {
  parse(option_name(obj, "recurrent_activation", kRecurrentActivations), "recurrent_activation",
        kRecurrentActivations);
}

// a * b * ... for sizes (>= 0) that index arrays, or -1 when the product exceeds 2^56 (no array
// that large can exist, and sizes below it can be multiplied by the small constants of the
// kernels, by sizeof(T) or added to each other without overflowing int64).
inline int64_t checked_product(std::initializer_list<int64_t> factors) {
  constexpr int64_t kMax = int64_t(1) << 56;
  for (int64_t f : factors)
    if (f <= 0) return f < 0 ? -1 : 0;
  int64_t p = 1;
  for (int64_t f : factors) {
    if (p > kMax / f) return -1;
    p *= f;
  }
  return p;
}

// The same, raising ValueError "<what> is too large" instead of returning -1.
inline int64_t size_product(std::initializer_list<int64_t> factors, const char* what) {
  const int64_t p = checked_product(factors);
  if (p < 0)
    throw py::value_error(std::string(what) + " is too large (more than 2^56 elements) or has a " +
                          "negative size");
  return p;
}

// d[key] as V, or `fallback` when the key is missing or None; TypeError for a wrong type.
template <class V>
V option(const py::dict& d, const char* key, V fallback) {
  if (!d.contains(key) || d[key].is_none()) return fallback;
  try {
    return d[key].cast<V>();
  } catch (const py::cast_error&) {
    throw py::type_error(std::string("'") + key + "' has the wrong type: " +
                         std::string(py::str(d[key])));
  }
}

// ---------------------------------------------------------------------------------------------
// Arrays
// ---------------------------------------------------------------------------------------------

using Shape = std::initializer_list<int64_t>;

inline std::string shape_str(const std::vector<int64_t>& s) {
  std::ostringstream o;
  o << "(";
  for (size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
  o << (s.size() == 1 ? ",)" : ")");
  return o.str();
}

inline std::vector<int64_t> shape_of(const py::array& a) {
  return std::vector<int64_t>(a.shape(), a.shape() + a.ndim());
}

inline std::string dtype_name(bool dbl) { return dbl ? "float64" : "float32"; }

// np.asarray(obj) (a new reference), or null with the error NumPy raised left set; a MemoryError
// stays one (array::ensure would clear it, and a binding would then report an internal error).
inline py::array as_array(const py::handle& obj, int flags = 0, PyObject* dtype = nullptr) {
  auto& api = py::detail::npy_api::get();
  return py::reinterpret_steal<py::array>(api.PyArray_FromAny_(
      obj.ptr(), dtype, 0, 0, py::detail::npy_api::NPY_ARRAY_ENSUREARRAY_ | flags, nullptr));
}

// Re-raises a pending MemoryError (a conversion or copy that did not fit); clears anything else.
inline void keep_memory_error() {
  if (PyErr_ExceptionMatches(PyExc_MemoryError)) throw py::error_already_set();
  PyErr_Clear();
}

// np.asarray(obj) with a float32/float64 dtype; anything else is a TypeError naming `name`.
// Arrays are taken as they are (no conversion call): this path runs for every argument of every
// call, and at streaming sizes it is a good part of the call's cost.
inline py::array float_array(const py::handle& obj, const char* name) {
  py::array a;
  if (py::isinstance<py::array>(obj)) {
    a = py::reinterpret_borrow<py::array>(obj);
  } else {
    a = as_array(obj);
    if (!a) {
      keep_memory_error();
      throw py::type_error(std::string(name) + " must be a float32 or float64 array, got " +
                           std::string(py::str(py::type::handle_of(obj).attr("__name__"))));
    }
  }
  const py::dtype dt = a.dtype();
  if (!(dt.kind() == 'f' && (dt.itemsize() == 4 || dt.itemsize() == 8)))
    throw py::type_error(std::string(name) + " must be a float32 or float64 array, got dtype " +
                         std::string(py::str(dt)));
  return a;
}

inline bool is_double(const py::array& a) { return a.dtype().itemsize() == 8; }

// Index of the first NaN/inf in p[0, n), or -1. The scan ORs the exponent fields of a block (all
// ones only for NaN and inf) so that it vectorises; the index is searched for only on failure.
template <class T>
int64_t first_non_finite(const T* p, int64_t n) {
  using Bits = typename std::conditional<sizeof(T) == 4, uint32_t, uint64_t>::type;
  const Bits exponent = sizeof(T) == 4 ? Bits(0x7f800000u) : Bits(0x7ff0000000000000ull);
  constexpr int64_t kBlock = 4096;
  for (int64_t k0 = 0; k0 < n; k0 += kBlock) {
    const int64_t k1 = std::min(n, k0 + kBlock);
    Bits seen = 0;
    for (int64_t k = k0; k < k1; ++k) {
      Bits b;
      std::memcpy(&b, p + k, sizeof(T));
      seen |= ((b & exponent) == exponent) ? Bits(1) : Bits(0);
    }
    if (seen)
      for (int64_t k = k0; k < k1; ++k)
        if (!std::isfinite(p[k])) return k;
  }
  return -1;
}

inline bool has_shape(const py::array& a, Shape expected) {
  if (a.ndim() != static_cast<py::ssize_t>(expected.size())) return false;
  py::ssize_t i = 0;
  for (int64_t e : expected)
    if (a.shape(i++) != e) return false;
  return true;
}

// A float array of the same dtype as x, with the expected shape; C-contiguous (copied if not);
// finite unless check_finite is false (arrays of a cache, which a forward pass produced).
template <class T>
py::array_t<T, py::array::c_style> checked(const py::handle& obj, const char* name, Shape expected,
                                           const char* expected_sym, const char* x_name = "x",
                                           bool check_finite = true) {
  py::array a = float_array(obj, name);
  if (is_double(a) != (sizeof(T) == 8))
    throw py::type_error(std::string(name) + " has dtype " + std::string(py::str(a.dtype())) +
                         " but " + x_name + " has dtype " + (sizeof(T) == 8 ? "float64" : "float32") +
                         "; pass all arrays in one dtype");
  if (!has_shape(a, expected))
    throw py::value_error(std::string(name) + " must have shape " + expected_sym + " = " +
                          shape_str(std::vector<int64_t>(expected)) + ", got " +
                          shape_str(shape_of(a)));
  using Contiguous = py::array_t<T, py::array::c_style>;
  // The converting constructor keeps NumPy's error (MemoryError for a copy that does not fit).
  Contiguous c = Contiguous::check_(a) ? py::reinterpret_borrow<Contiguous>(a) : Contiguous(a);
  if (check_finite) {
    const int64_t k = first_non_finite(c.data(), c.size());
    if (k >= 0)
      throw py::value_error(std::string(name) + " contains NaN or inf (first at flat index " +
                            std::to_string(k) + ")");
  }
  return c;
}

template <class T>
const T* ptr_or_null(const py::object& o) {
  return o.is_none() ? nullptr : o.cast<py::array_t<T, py::array::c_style>>().data();
}

template <class T>
py::object optional_checked(const py::object& obj, const char* name, Shape expected, const char* sym,
                            const char* x_name = "x", bool check_finite = true) {
  if (obj.is_none()) return py::none();
  return checked<T>(obj, name, expected, sym, x_name, check_finite);
}

// The arrays of a cache: shape and dtype re-checked (a damaged cache must not read out of
// bounds), finiteness not (the forward pass produced them from finite inputs). Any mismatch is
// a ValueError, as for every other damage to a cache.
template <class T>
py::array_t<T, py::array::c_style> cached(const py::handle& obj, const char* name, Shape expected,
                                          const char* sym) {
  try {
    return checked<T>(obj, name, expected, sym, "cache x", false);
  } catch (const py::type_error& e) {
    throw py::value_error(std::string(e.what()) +
                          " (the cache is damaged: pass the cache of a forward call unchanged)");
  }
}
template <class T>
py::object optional_cached(const py::object& obj, const char* name, Shape expected,
                           const char* sym) {
  if (obj.is_none()) return py::none();
  return cached<T>(obj, name, expected, sym);
}

// A Keras step mask (fastrnn/elman.hpp): None, or a bool or uint8 array of shape (B, T) whose
// nonzero entries mark the valid steps. Returned as a fresh C-contiguous uint8 copy holding 0 or
// 1 (the cache keeps it: a later edit of the caller's array cannot change the backward pass).
// A wrong dtype is a ParameterError (TypeError and ValueError), a wrong shape a ValueError.
inline py::object optional_mask(const py::object& obj, int64_t B, int64_t T_) {
  if (obj.is_none()) return py::none();
  const std::string want = "mask must be a bool or uint8 array of shape (B, T) = " +
                           shape_str({B, T_});
  py::array a = as_array(obj);
  if (!a) {
    keep_memory_error();
    throw_parameter_error(want + ", got " +
                          std::string(py::str(py::type::handle_of(obj).attr("__name__"))));
  }
  const py::dtype dt = a.dtype();
  if (!(dt.kind() == 'b' || (dt.kind() == 'u' && dt.itemsize() == 1)))
    throw_parameter_error(want + ", got dtype " + std::string(py::str(dt)));
  if (!has_shape(a, {B, T_}))
    throw py::value_error("mask must have shape (B, T) = " + shape_str({B, T_}) + ", got " +
                          shape_str(shape_of(a)));
  using Bytes = py::array_t<uint8_t, py::array::c_style | py::array::forcecast>;
  const Bytes in = Bytes::check_(a) ? py::reinterpret_borrow<Bytes>(a) : Bytes(a);
  py::array_t<uint8_t> out({B, T_});
  const uint8_t* src = in.data();
  uint8_t* dst = out.mutable_data();
  for (int64_t k = 0; k < B * T_; ++k) dst[k] = src[k] != 0;
  return std::move(out);
}

// The mask of a cache: the uint8 (B, T) array optional_mask made (ValueError otherwise, as for
// any other damage to a cache).
inline py::object cached_mask(const py::handle& obj, int64_t B, int64_t T_) {
  using Bytes = py::array_t<uint8_t, py::array::c_style>;
  if (!(py::isinstance<py::array>(obj) && Bytes::check_(obj) &&
        has_shape(py::reinterpret_borrow<py::array>(obj), {B, T_})))
    throw py::value_error("cache mask is damaged: expected a C-contiguous uint8 array of shape "
                          "(B, T) = " + shape_str({B, T_}) + ", got " +
                          std::string(py::str(py::repr(obj))).substr(0, 80) +
                          "; pass the cache of a forward call unchanged");
  return py::reinterpret_borrow<py::object>(obj);
}

inline const uint8_t* mask_ptr(const py::object& mask) {
  if (mask.is_none()) return nullptr;
  return static_cast<const uint8_t*>(py::reinterpret_borrow<py::array>(mask).data());
}

// An output array we write into: exactly dtype T, C-contiguous, writeable, `size` entries.
template <class T>
T* writable(const py::handle& obj, const std::string& name, int64_t size) {
  if (!py::isinstance<py::array>(obj))
    throw py::type_error(name + " must be a NumPy array");
  py::array a = py::reinterpret_borrow<py::array>(obj);
  if (!a.dtype().is(py::dtype::of<T>()))
    throw py::type_error(name + " must have dtype " + dtype_name(sizeof(T) == 8) + ", got " +
                         std::string(py::str(a.dtype())));
  if (!(a.flags() & py::array::c_style) || !a.writeable())
    throw py::value_error(name + " must be a writeable C-contiguous array");
  if (a.size() != size)
    throw py::value_error(name + " must have " + std::to_string(size) + " entries, got " +
                          std::to_string(a.size()));
  return static_cast<T*>(a.mutable_data());
}

// An input array of dtype T (exactly; no silent casts), made C-contiguous.
template <class T>
py::array_t<T, py::array::c_style> input(const py::handle& obj, const std::string& name) {
  py::array a = as_array(obj);
  if (!a) {
    keep_memory_error();
    throw py::type_error(name + " must be a NumPy array");
  }
  if (!a.dtype().is(py::dtype::of<T>()))
    throw py::type_error(name + " must have dtype " + dtype_name(sizeof(T) == 8) + ", got " +
                         std::string(py::str(a.dtype())));
  using Contiguous = py::array_t<T, py::array::c_style>;
  return Contiguous::check_(a) ? py::reinterpret_borrow<Contiguous>(a) : Contiguous(a);
}

// An integer array of `size` entries, each in [0, bound), as int64.
inline py::array_t<int64_t, py::array::c_style> index_array(const py::handle& obj,
                                                            const std::string& name,
                                                            int64_t size, int64_t bound) {
  py::array a = as_array(obj);
  if (!a) {
    keep_memory_error();
    throw py::type_error(name + " must be an integer array");
  }
  const char kind = a.dtype().kind();
  if (kind != 'i' && kind != 'u')
    throw py::type_error(name + " must hold integers, got dtype " + std::string(py::str(a.dtype())));
  using Indices = py::array_t<int64_t, py::array::c_style | py::array::forcecast>;
  Indices c = Indices::check_(a) ? py::reinterpret_borrow<Indices>(a) : Indices(a);
  if (c.size() != size)
    throw py::value_error(name + " must have " + std::to_string(size) + " entries, got " +
                          std::to_string(c.size()));
  const int64_t* p = c.data();
  for (int64_t k = 0; k < size; ++k)
    if (p[k] < 0 || p[k] >= bound)
      throw py::value_error(name + " values must be in [0, " + std::to_string(bound - 1) +
                            "], got " + std::to_string(p[k]) + " at index " + std::to_string(k));
  return c;
}

}  // namespace bindings
}  // namespace fastrnn
