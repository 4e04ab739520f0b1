# The build pip runs (scikit-build-core) is a thin shell around a nested CMake build of the whole C++ code in
# <build-dir>/native, so the README's second `pip install` recompiles nothing the first compiled.
#
# Why: pip builds in an isolated environment at a new temporary path every time, and scikit-build-core, seeing
# the environment move, deletes the build directory's CMakeCache.txt and CMakeFiles/ (where CMake keeps the
# object files) before configuring. The nested build keeps its cache and objects in native/, which nothing
# deletes, and it gets only inputs that do not move between environments: the compiler and its flags, Python's
# include directory, and pybind11's headers copied into <build-dir>/pybind11-include (a file is rewritten
# only when its content changes, so an unchanged copy dirties nothing).
include(ExternalProject)
find_package(Python 3.9 REQUIRED COMPONENTS Interpreter Development.Module)
find_package(pybind11 CONFIG REQUIRED)  # only for where its headers are

set(BPROP_PYBIND11_INCLUDE ${CMAKE_BINARY_DIR}/pybind11-include)
file(GLOB_RECURSE pybind11_headers RELATIVE ${pybind11_INCLUDE_DIR} ${pybind11_INCLUDE_DIR}/pybind11/*)
foreach(header IN LISTS pybind11_headers)
  get_filename_component(header_dir ${BPROP_PYBIND11_INCLUDE}/${header} DIRECTORY)
  file(MAKE_DIRECTORY ${header_dir})
  file(COPY_FILE ${pybind11_INCLUDE_DIR}/${header} ${BPROP_PYBIND11_INCLUDE}/${header} ONLY_IF_DIFFERENT)
endforeach()

set(BPROP_MODULE_SUFFIX .${Python_SOABI}${CMAKE_SHARED_MODULE_SUFFIX})
set(BPROP_MODULE_FILE _core${BPROP_MODULE_SUFFIX})
string(TOUPPER "${CMAKE_BUILD_TYPE}" build_type)
set(native_dir ${CMAKE_BINARY_DIR}/native)
ExternalProject_Add(bprop_native
  SOURCE_DIR ${CMAKE_SOURCE_DIR}
  BINARY_DIR ${native_dir}
  PREFIX ${CMAKE_BINARY_DIR}/native-steps
  CMAKE_ARGS
    -DBPROP_NATIVE_BUILD=ON
    -DBPROP_PYBIND11_INCLUDE=${BPROP_PYBIND11_INCLUDE}
    -DBPROP_PYTHON_INCLUDE=${Python_INCLUDE_DIRS}
    -DBPROP_MODULE_SUFFIX=${BPROP_MODULE_SUFFIX}
    -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE}
    -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER}
    "-DCMAKE_CXX_FLAGS=${CMAKE_CXX_FLAGS}"
    "-DCMAKE_CXX_FLAGS_${build_type}=${CMAKE_CXX_FLAGS_${build_type}}"
    "-DCMAKE_MODULE_LINKER_FLAGS=${CMAKE_MODULE_LINKER_FLAGS}"
  BUILD_ALWAYS ON          # the nested build decides what is out of date
  USES_TERMINAL_BUILD ON   # its progress lines reach `pip install -v`
  INSTALL_COMMAND ""
  BUILD_BYPRODUCTS ${native_dir}/${BPROP_MODULE_FILE})
install(PROGRAMS ${native_dir}/${BPROP_MODULE_FILE} DESTINATION bprop)
