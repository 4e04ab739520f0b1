// bprop._core.gemm: the checked crossing into gemm::gemm. The Python front (bprop/linalg.py) has
// already validated and normalised layouts; these checks keep a direct caller from crashing.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <utility>
#include <vector>

#include "bindings/init.h"
#include "core/error.h"
#include "gemm/gemm.h"
#include "gemm/overflow.h"

namespace py = pybind11;

namespace bprop::bindings {
namespace {

// The same numeric type in native byte order (numpy may hold several equal dtype objects).
bool is_native(const py::dtype& dt, const py::dtype& want) {
  return dt.num() == want.num() && (dt.byteorder() == '=' || dt.byteorder() == '|');
}

// The float type a, b and out all hold in native byte order: 32 or 64, or 0 when they differ or are not float.
int shared_float_bits(const py::array& a, const py::array& b, const py::array& out) {
  for (const auto& [want, bits] : {std::pair(py::dtype::of<float>(), 32), std::pair(py::dtype::of<double>(), 64)})
    if (is_native(a.dtype(), want) && is_native(b.dtype(), want) && is_native(out.dtype(), want)) return bits;
  return 0;
}

// A 2-D array whose rows are contiguous: pointer, shape and row stride in elements.
struct MatrixView {
  void* data;
  long rows, cols, ld;
};

MatrixView matrix_view(const py::array& x, const char* name, bool writable) {
  const auto fail = [&](const std::string& what) { throw TypeError(std::string("[gemm] ") + name + " " + what); };
  if (x.ndim() != 2) throw ValueError(std::string("[gemm] ") + name + " must be 2-D; got " + std::to_string(x.ndim()) + "-D");
  const long item = long(x.itemsize()), rows = long(x.shape(0)), cols = long(x.shape(1));
  const long row_stride = long(x.strides(0)), col_stride = long(x.strides(1));
  if (writable && !x.writeable()) fail("is read-only");
  if (!(x.flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_)) fail("is not aligned to its dtype");  // UB to read
  if (rows == 0 || cols == 0) return {const_cast<void*>(x.data()), rows, cols, cols > 1 ? cols : 1};  // any strides
  if (cols > 1 && col_stride != item) fail("must have contiguous rows (last-axis stride == itemsize)");
  long ld = cols > 1 ? cols : 1;
  if (rows > 1) {
    if (row_stride % item != 0 || row_stride / item < ld) fail("has a row stride the GEMM cannot use");
    ld = row_stride / item;
  }
  return {const_cast<void*>(x.data()), rows, cols, ld};
}

// The byte range an array's elements span (empty for an empty array).
std::pair<const char*, const char*> byte_extent(const py::array& x) {
  const char* lo = static_cast<const char*>(x.data());
  const char* hi = lo;
  if (x.size() == 0) return {lo, lo};
  for (py::ssize_t d = 0; d < x.ndim(); ++d) {
    const py::ssize_t reach = (x.shape(d) - 1) * x.strides(d);
    (reach < 0 ? lo : hi) += reach;
  }
  return {lo, hi + x.itemsize()};
}

bool may_overlap(const py::array& x, const py::array& y) {
  const auto [x0, x1] = byte_extent(x);
  const auto [y0, y1] = byte_extent(y);
  return x0 < y1 && y0 < x1;
}

template <typename T>
void run_gemm(const MatrixView& a, bool trans_a, const MatrixView& b, bool trans_b, const MatrixView& c, double alpha,
              double beta) {
  const long m = trans_a ? a.cols : a.rows, k = trans_a ? a.rows : a.cols;
  const long kb = trans_b ? b.cols : b.rows, n = trans_b ? b.rows : b.cols;
  if (k != kb || c.rows != m || c.cols != n)
    throw ValueError("[gemm] shapes do not match: op(a) is " + std::to_string(m) + "x" + std::to_string(k) +
                     ", op(b) is " + std::to_string(kb) + "x" + std::to_string(n) + ", out is " +
                     std::to_string(c.rows) + "x" + std::to_string(c.cols));
  py::gil_scoped_release release;
  const gemm::Op op_a = trans_a ? gemm::Op::T : gemm::Op::N, op_b = trans_b ? gemm::Op::T : gemm::Op::N;
  const T* pa = static_cast<const T*>(a.data);
  const T* pb = static_cast<const T*>(b.data);
  T* pc = static_cast<T*>(c.data);
  if constexpr (std::is_same_v<T, float>) {
    // A float32 result that overflowed is recomputed in float64 (gemm/overflow.h); with beta != 0 that
    // needs C as it was, kept here (a pass over C, against the product's k passes).
    std::vector<float> before;
    if (beta != 0)
      for (long i = 0; i < m; ++i) before.insert(before.end(), pc + i * c.ld, pc + i * c.ld + n);
    gemm::gemm_repairing_overflow(op_a, op_b, m, n, k, T(alpha), pa, a.ld, pb, b.ld, T(beta), before.data(), n, pc,
                                  c.ld);
  } else {
    gemm::gemm<T>(op_a, op_b, m, n, k, T(alpha), pa, a.ld, pb, b.ld, T(beta), pc, c.ld);
  }
}

// The operand as the GEMM reads it, without copying: rows contiguous (as stored), or columns contiguous
// (read as its transpose, flipping `transposed`). False for any other layout, or an unaligned array.
bool operand_in_place(const py::array& x, MatrixView& view, bool& transposed) {
  if (x.ndim() != 2 || !(x.flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_)) return false;
  const long item = long(x.itemsize()), rows = long(x.shape(0)), cols = long(x.shape(1));
  const long s0 = long(x.strides(0)), s1 = long(x.strides(1));
  if (rows == 0 || cols == 0) return false;  // rare: the checked path handles empty operands
  if ((cols == 1 || s1 == item) && (rows == 1 || (s0 % item == 0 && s0 / item >= cols))) {
    view = {const_cast<void*>(x.data()), rows, cols, rows == 1 ? cols : s0 / item};
    return true;
  }
  if ((rows == 1 || s0 == item) && (cols == 1 || (s1 % item == 0 && s1 / item >= rows))) {
    view = {const_cast<void*>(x.data()), cols, rows, cols == 1 ? rows : s1 / item};
    transposed = !transposed;
    return true;
  }
  return false;
}

// bprop.matmul's common case in one crossing: ndarrays of one native float dtype, laid out so the GEMM
// reads them in place, shapes that match, out (if given) row-major, writable and apart from the inputs.
// Returns out (allocated when None), or None for anything else: the Python path then checks, copies or
// raises as documented. Keeps a small product's call near NumPy's (~1 us of Python checks before).
template <typename T>
py::object matmul_common_case(const py::array& a, const py::array& b, py::handle out, bool trans_a, bool trans_b,
                              double alpha, double beta) {
  MatrixView va, vb;
  if (!operand_in_place(a, va, trans_a) || !operand_in_place(b, vb, trans_b)) return py::none();
  const long m = trans_a ? va.cols : va.rows, k = trans_a ? va.rows : va.cols;
  const long kb = trans_b ? vb.cols : vb.rows, n = trans_b ? vb.rows : vb.cols;
  if (k != kb) return py::none();
  py::array result;
  if (out.is_none()) {
    if (beta != 0) return py::none();
    result = py::array_t<T>({m, n});
  } else {
    if (!py::isinstance<py::array>(out)) return py::none();
    result = py::reinterpret_borrow<py::array>(out);
    if (!is_native(result.dtype(), py::dtype::of<T>()) || result.ndim() != 2 || result.shape(0) != m ||
        result.shape(1) != n || !result.writeable() || may_overlap(a, result) || may_overlap(b, result))
      return py::none();
  }
  MatrixView vc;
  bool out_transposed = false;
  if (!operand_in_place(result, vc, out_transposed) || out_transposed) return py::none();
  run_gemm<T>(va, trans_a, vb, trans_b, vc, alpha, beta);
  return std::move(result);
}

// For tests of gemm_packed_b: op(B) from a matrix through a panel packer written here (plain loops, apart
// from the kernels' own pack_b), so the implicit-GEMM path can be held to gemm()'s bits.
template <typename T>
struct MatrixPacker {
  const T* b;
  long ldb;
  bool trans;

  static void pack(const void* context, long row0, long kc, long col0, long cols, long nr, T* dst) {
    const auto* self = static_cast<const MatrixPacker*>(context);
    for (long q = 0; q * nr < cols; ++q)
      for (long p = 0; p < kc; ++p)
        for (long r = 0; r < nr; ++r) {
          const long j = col0 + q * nr + r, i = row0 + p;
          const bool inside = q * nr + r < cols;
          dst[(q * kc + p) * nr + r] = !inside ? T(0) : self->trans ? self->b[j * self->ldb + i] : self->b[i * self->ldb + j];
        }
  }
};

template <typename T>
void run_gemm_packed_b(const MatrixView& a, bool trans_a, const MatrixView& b, bool trans_b, const MatrixView& c,
                       double alpha, double beta) {
  const long m = trans_a ? a.cols : a.rows, k = trans_a ? a.rows : a.cols;
  const long kb = trans_b ? b.cols : b.rows, n = trans_b ? b.rows : b.cols;
  if (k != kb || c.rows != m || c.cols != n) throw ValueError("[gemm_packed_b] shapes do not match");
  py::gil_scoped_release release;
  const MatrixPacker<T> source{static_cast<const T*>(b.data), b.ld, trans_b};
  gemm::gemm_packed_b<T>(trans_a ? gemm::Op::T : gemm::Op::N, m, n, k, T(alpha), static_cast<const T*>(a.data), a.ld,
                         gemm::PanelPacker<T>{&MatrixPacker<T>::pack, &source}, T(beta), static_cast<T*>(c.data),
                         c.ld);
}

}  // namespace

void init_gemm(py::module_& m) {
  m.def(
      "gemm_packed_b_from_matrix",
      [](const py::array& a, const py::array& b, const py::array& out, bool trans_a, bool trans_b, double alpha,
         double beta) {
        const int bits = shared_float_bits(a, b, out);
        if (bits == 0) throw TypeError("[gemm_packed_b] a, b and out must share one dtype, float32 or float64");
        if (may_overlap(a, out) || may_overlap(b, out)) throw ValueError("[gemm_packed_b] out overlaps an input");
        const MatrixView va = matrix_view(a, "a", false), vb = matrix_view(b, "b", false),
                         vc = matrix_view(out, "out", true);
        if (bits == 32)
          run_gemm_packed_b<float>(va, trans_a, vb, trans_b, vc, alpha, beta);
        else
          run_gemm_packed_b<double>(va, trans_a, vb, trans_b, vc, alpha, beta);
      },
      py::arg("a"), py::arg("b"), py::arg("out"), py::arg("trans_a"), py::arg("trans_b"), py::arg("alpha"),
      py::arg("beta"),
      "For tests: gemm_packed_b with op(B) packed from a matrix by a plain-loop packer (arrays of one dtype, "
      "out apart from the inputs).");
  m.def(
      "matmul_common_case",
      [](py::handle a, py::handle b, py::handle out, bool trans_a, bool trans_b, double alpha,
         double beta) -> py::object {
        if (!py::isinstance<py::array>(a) || !py::isinstance<py::array>(b)) return py::none();
        const auto va = py::reinterpret_borrow<py::array>(a), vb = py::reinterpret_borrow<py::array>(b);
        const auto f32 = py::dtype::of<float>(), f64 = py::dtype::of<double>();
        if (is_native(va.dtype(), f32) && is_native(vb.dtype(), f32))
          return matmul_common_case<float>(va, vb, out, trans_a, trans_b, alpha, beta);
        if (is_native(va.dtype(), f64) && is_native(vb.dtype(), f64))
          return matmul_common_case<double>(va, vb, out, trans_a, trans_b, alpha, beta);
        return py::none();
      },
      py::arg("a"), py::arg("b"), py::arg("out"), py::arg("trans_a"), py::arg("trans_b"), py::arg("alpha"),
      py::arg("beta"),
      "bprop.matmul's common case in one call: returns out, or None when the checked path must run.");

  m.def(
      "gemm",
      [](const py::array& a, const py::array& b, const py::array& out, bool trans_a, bool trans_b, double alpha,
         double beta) {
        const int bits = shared_float_bits(a, b, out);
        const py::dtype dt = out.dtype();
        if (bits == 0)
          throw TypeError("[gemm] a, b and out must share one dtype, float32 or float64; got " +
                          std::string(py::str(a.dtype())) + ", " + std::string(py::str(b.dtype())) + ", " +
                          std::string(py::str(dt)));
        // The GEMM writes out while it still reads a and b: an input sharing memory with out is
        // copied first, so the result is that of separate arrays (as NumPy's matmul does).
        const py::array a_in = may_overlap(a, out) ? py::array(a.attr("copy")()) : a;
        const py::array b_in = may_overlap(b, out) ? py::array(b.attr("copy")()) : b;
        const MatrixView va = matrix_view(a_in, "a", false), vb = matrix_view(b_in, "b", false),
                         vc = matrix_view(out, "out", true);
        if (bits == 32)
          run_gemm<float>(va, trans_a, vb, trans_b, vc, alpha, beta);
        else
          run_gemm<double>(va, trans_a, vb, trans_b, vc, alpha, beta);
      },
      py::arg("a").noconvert(), py::arg("b").noconvert(), py::arg("out").noconvert(), py::arg("trans_a"),
      py::arg("trans_b"), py::arg("alpha"), py::arg("beta"),
      "out <- alpha * op(a) @ op(b) + beta * out, writing out in place. No conversions; an input that\n"
      "shares memory with out is copied first.");
}

}  // namespace bprop::bindings
