// Branch-free exp, sigmoid and tanh that the compiler can vectorise (CPU kernels only;
// compiled per instruction set, see isa.hpp).
//
// glibc's expf/tanhf are scalar calls; an LSTM step evaluates five of them per unit, which at
// forecasting sizes costs more than the matrix product (bench/NOTES.md section 2). These are plain
// arithmetic (Cody-Waite range reduction, Cephes polynomials, exponent built with integer bit
// operations, rounding with the 1.5 * 2^mantissa trick instead of a call), so a loop over them
// becomes SIMD code. Accuracy: float within a few ulp of the correctly rounded value, double
// within ~1e-15 relative (the test suite compares against PyTorch at 1e-4 / 1e-10).
// Inputs are clamped to the finite range of exp, so no NaN or inf is produced from finite input;
// a NaN stays NaN (the exponent bits are then built in unsigned arithmetic, which cannot
// overflow, from whatever bits the NaN has).
#pragma once

#include <cstdint>
#include <cstring>

#include "isa.hpp"

namespace fastrnn {
namespace FASTRNN_ISA_NS {
namespace fastmath {

template <class To, class From>
inline To bit_cast(From v) {
  To out;
  std::memcpy(&out, &v, sizeof(To));
  return out;
}

inline float exp(float x) {
  x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  constexpr float magic = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  const float t = x * 1.44269504088896341f + magic;
  const float n = t - magic;
  const uint32_t ni = bit_cast<uint32_t>(t) - bit_cast<uint32_t>(magic);  // n, modulo 2^32
  const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  return p * bit_cast<float>((ni + 127u) << 23);
}

inline double exp(double x) {
  x = x < -708.0 ? -708.0 : (x > 709.0 ? 709.0 : x);
  constexpr double magic = 6755399441055744.0;  // 1.5 * 2^52
  const double t = x * 1.4426950408889634073599 + magic;
  const double n = t - magic;
  const int64_t ni = bit_cast<int64_t>(t) - bit_cast<int64_t>(magic);
  const double r = (x - n * 6.93145751953125e-1) - n * 1.42860682030941723212e-6;
  // Cephes exp: e^r = 1 + 2 r P(r^2) / (Q(r^2) - r P(r^2))
  const double rr = r * r;
  const double px = r * ((1.26177193074810590878e-4 * rr + 3.02994407707441961300e-2) * rr +
                         9.99999999999999999910e-1);
  const double qx = ((3.00198505138664455042e-6 * rr + 2.52448340349684104192e-3) * rr +
                     2.27265548208155028766e-1) * rr + 2.00000000000000000009e0;
  const double e = 1.0 + 2.0 * px / (qx - px);
  // n may reach 1023 + 1, so the scale is applied in two halves to stay in range.
  const int64_t n1 = ni >> 1, n2 = ni - n1;
  return e * bit_cast<double>(uint64_t(n1 + 1023) << 52) *
         bit_cast<double>(uint64_t(n2 + 1023) << 52);
}

template <class T>
inline T sigmoid(T x) {
  return T(1) / (T(1) + exp(-x));
}

inline float tanh(float x) {
  const float ax = x < 0 ? -x : x;
  // |x| >= 0.625: 1 - 2 / (e^{2|x|} + 1); below, the Cephes odd polynomial (no cancellation).
  const float big = 1.0f - 2.0f / (exp(2.0f * ax) + 1.0f);
  const float z = x * x;
  const float small = ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z +
                        1.33314422036e-1f) * z - 3.33332819422e-1f) * z * x + x;
  return ax < 0.625f ? small : (x < 0 ? -big : big);
}

inline double tanh(double x) {
  const double ax = x < 0 ? -x : x;
  const double big = 1.0 - 2.0 / (exp(2.0 * ax) + 1.0);
  const double s = x * x;
  const double p = (-9.64399179425052238628e-1 * s - 9.92877231001918586564e1) * s -
                   1.61468768441708447952e3;
  const double q = ((s + 1.12811678491632931402e2) * s + 2.23548839060100448583e3) * s +
                   4.84406305325125486048e3;
  const double small = x + x * s * p / q;
  return ax < 0.625 ? small : (x < 0 ? -big : big);
}

}  // namespace fastmath
}  // namespace FASTRNN_ISA_NS
}  // namespace fastrnn
