// Per-instruction-set compilation of the CPU kernels.
//
// Every kernel source in this folder is compiled three times on x86-64 (CMakeLists.txt): with
// -march=x86-64-v4 (AVX-512), -march=x86-64-v3 (AVX2 + FMA) and for baseline x86-64, each time
// with FASTRNN_ISA_NS naming a different namespace. dispatch.cpp picks one set when the module
// loads, by asking the CPU (and honouring FASTRNN_ISA=avx512|avx2|baseline for testing), so a
// wheel built here runs on any x86-64 CPU and uses the widest vectors it has.
//
// Everything these sources define, including inline helpers and templates, must live inside
// FASTRNN_ISA_NS: an inline function compiled for AVX-512 in one set and emitted under the same
// name by another would be merged by the linker, and the baseline set could end up running
// AVX-512 code. They therefore use no std:: containers or algorithms either
// (tests/kernels/test_isa.py checks the built module for vector instructions outside the AVX
// namespaces).
#pragma once

#ifndef FASTRNN_ISA_NS
#define FASTRNN_ISA_NS isa_baseline
#endif
