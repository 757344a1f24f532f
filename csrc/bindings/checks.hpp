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

inline Activation parse_activation(const std::string& name, const char* arg = "activation") {
  return parse(name, arg, kActivations);
}

inline void check_recurrent_activation(const std::string& name) {
  parse(name, "recurrent_activation", kRecurrentActivations);
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

// np.asarray(obj) with a float32/float64 dtype; anything else is a TypeError naming `name`.
// Arrays are taken as they are (no conversion call): this path runs for every argument of every
// call, and at streaming sizes it is a good part of the call's cost.
inline py::array float_array(const py::handle& obj, const char* name) {
  py::array a;
  if (py::isinstance<py::array>(obj)) {
    a = py::reinterpret_borrow<py::array>(obj);
  } else {
    a = py::array::ensure(obj);
    if (!a) {
      PyErr_Clear();
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
  Contiguous c = Contiguous::check_(a) ? py::reinterpret_borrow<Contiguous>(a) : Contiguous::ensure(a);
  if (!c) throw py::error_already_set();
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
// bounds), finiteness not (the forward pass produced them from finite inputs).
template <class T>
py::array_t<T, py::array::c_style> cached(const py::handle& obj, const char* name, Shape expected,
                                          const char* sym) {
  return checked<T>(obj, name, expected, sym, "cache x", false);
}
template <class T>
py::object optional_cached(const py::object& obj, const char* name, Shape expected,
                           const char* sym) {
  return optional_checked<T>(obj, name, expected, sym, "cache x", false);
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
  py::array a = py::array::ensure(obj);
  if (!a) {
    PyErr_Clear();
    throw py::type_error(name + " must be a NumPy array");
  }
  if (!a.dtype().is(py::dtype::of<T>()))
    throw py::type_error(name + " must have dtype " + dtype_name(sizeof(T) == 8) + ", got " +
                         std::string(py::str(a.dtype())));
  auto c = py::array_t<T, py::array::c_style>::ensure(a);
  if (!c) throw py::error_already_set();
  return c;
}

// An integer array of `size` entries, each in [0, bound), as int64.
inline py::array_t<int64_t, py::array::c_style> index_array(const py::handle& obj,
                                                            const std::string& name,
                                                            int64_t size, int64_t bound) {
  py::array a = py::array::ensure(obj);
  if (!a) {
    PyErr_Clear();
    throw py::type_error(name + " must be an integer array");
  }
  const char kind = a.dtype().kind();
  if (kind != 'i' && kind != 'u')
    throw py::type_error(name + " must hold integers, got dtype " + std::string(py::str(a.dtype())));
  auto c = py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(a);
  if (!c) throw py::error_already_set();
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
