# fastrnn.timeseries._kernels: the Cython hot loops of the time-series helpers (windowing of
# panels, lag matrices, ADF on a panel). Included from the top-level CMakeLists.txt after the
# C++ core, so Python (Interpreter + Development.Module) has been found already. When this
# module is absent (FASTRNN_CORE=OFF, or no Cython), fastrnn.timeseries falls back to NumPy.

set(_ts_pyx ${CMAKE_CURRENT_SOURCE_DIR}/src/fastrnn/timeseries/_kernels.pyx)
set(_ts_cpp ${CMAKE_CURRENT_BINARY_DIR}/timeseries/_kernels.cpp)

find_program(CYTHON_EXECUTABLE NAMES cython cython3)
if(CYTHON_EXECUTABLE)
  set(_ts_cython ${CYTHON_EXECUTABLE})
else()
  execute_process(COMMAND ${Python_EXECUTABLE} -c "import Cython"
                  RESULT_VARIABLE _ts_no_cython OUTPUT_QUIET ERROR_QUIET)
  if(_ts_no_cython)
    message(WARNING "fastrnn: Cython not found; fastrnn.timeseries will use its NumPy fallback")
    return()
  endif()
  set(_ts_cython ${Python_EXECUTABLE} -m cython)
endif()

add_custom_command(
  OUTPUT ${_ts_cpp}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_CURRENT_BINARY_DIR}/timeseries
  COMMAND ${_ts_cython} -3 --cplus --fast-fail ${_ts_pyx} -o ${_ts_cpp}
  DEPENDS ${_ts_pyx}
  COMMENT "Cythonizing fastrnn/timeseries/_kernels.pyx"
  VERBATIM)

Python_add_library(_ts_kernels MODULE WITH_SOABI ${_ts_cpp})
set_target_properties(_ts_kernels PROPERTIES OUTPUT_NAME _kernels)
# -O3 without -ffast-math: the ADF sums must round exactly as written
if(NOT MSVC)
  target_compile_options(_ts_kernels PRIVATE -O3 -fno-math-errno)
endif()
install(TARGETS _ts_kernels DESTINATION fastrnn/timeseries)
