// Arithmetic, comparisons and the elementwise math functions, each with its vjp beside it. Vjps are
// written with these same operations, so gradients of gradients come for free.
#include <algorithm>
#include <cmath>

#include "autograd/kernels.h"
#include "autograd/node.h"
#include "core/error.h"

namespace bprop::autograd {
namespace {

using detail::map_binary;
using detail::map_unary;

// Both operands in the promoted dtype (a differentiable cast where needed).
std::pair<Tensor, Tensor> promoted(const Tensor& a, const Tensor& b) {
  const DType dtype = detail::promote(a, b);
  return {to_dtype(a, dtype), to_dtype(b, dtype)};
}

// A node over inputs (a, b) whose vjp is fn(node, g) -> {ga, gb} before reduction to each input's shape.
template <class Vjp>
struct BinaryNode : Node {
  BinaryNode(const char* op, Shape a_shape, Shape b_shape, Vjp vjp)
      : op_(op), a_shape_(std::move(a_shape)), b_shape_(std::move(b_shape)), vjp_(std::move(vjp)) {}
  const char* name() const override { return op_; }
  std::vector<Tensor> apply(const Tensor& g) override {
    auto [ga, gb] = vjp_(*this, g);
    return {ga ? sum_to(ga, a_shape_) : nullptr, gb ? sum_to(gb, b_shape_) : nullptr};
  }
  const char* op_;
  Shape a_shape_, b_shape_;
  Vjp vjp_;
};

template <class Vjp>
void record_binary(const Tensor& out, const char* op, const Tensor& a, const Tensor& b, Vjp vjp,
                   std::vector<std::pair<Tensor, bool>> saved = {}) {
  auto node = std::make_shared<BinaryNode<Vjp>>(op, a->shape(), b->shape(), std::move(vjp));
  if (!record(out, node, {a, b})) return;
  for (auto& [tensor, is_output] : saved) node->saved.emplace_back(tensor, is_output);
}

template <class Vjp>
void record_unary(const Tensor& out, const char* op, const Tensor& x, Vjp vjp, std::vector<std::pair<Tensor, bool>> saved) {
  detail::record_fn(out, op, {x}, std::move(vjp), std::move(saved));
}

}  // namespace

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const std::size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (std::size_t i = 0; i < rank; ++i) {
    const long da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const long db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      throw ValueError(std::string("[") + op + "] shapes " + shape_text(a) + " and " + shape_text(b) +
                       " do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Tensor add(const Tensor& a0, const Tensor& b0) {
  auto [a, b] = promoted(a0, b0);
  Tensor out = map_binary(a, b, "add", [](auto x, auto y) { return x + y; });
  record_binary(out, "add", a, b, [](Node&, const Tensor& g) { return std::pair{g, g}; });
  return out;
}

Tensor sub(const Tensor& a0, const Tensor& b0) {
  auto [a, b] = promoted(a0, b0);
  Tensor out = map_binary(a, b, "sub", [](auto x, auto y) { return x - y; });
  record_binary(out, "sub", a, b, [](Node& n, const Tensor& g) {
    return std::pair{g, n.needs_grad(1) ? neg(g) : nullptr};
  });
  return out;
}

Tensor mul(const Tensor& a0, const Tensor& b0) {
  auto [a, b] = promoted(a0, b0);
  Tensor out = map_binary(a, b, "mul", [](auto x, auto y) { return x * y; });
  record_binary(
      out, "mul", a, b,
      [](Node& n, const Tensor& g) {
        return std::pair{n.needs_grad(0) ? mul(g, n.saved_tensor(1)) : nullptr,
                         n.needs_grad(1) ? mul(g, n.saved_tensor(0)) : nullptr};
      },
      {{a, false}, {b, false}});
  return out;
}

Tensor div(const Tensor& a0, const Tensor& b0) {
  auto [a, b] = promoted(a0, b0);
  Tensor out = map_binary(a, b, "div", [](auto x, auto y) { return x / y; });
  record_binary(
      out, "div", a, b,
      [](Node& n, const Tensor& g) {
        const Tensor a = n.saved_tensor(0), b = n.saved_tensor(1);
        return std::pair{n.needs_grad(0) ? div(g, b) : nullptr,
                         n.needs_grad(1) ? neg(div(mul(g, a), mul(b, b))) : nullptr};
      },
      {{a, false}, {b, false}});
  return out;
}

Tensor pow(const Tensor& a0, const Tensor& b0) {
  auto [a, b] = promoted(a0, b0);
  Tensor out = map_binary(a, b, "pow", [](auto x, auto y) { return std::pow(x, y); });
  record_binary(
      out, "pow", a, b,
      [](Node& n, const Tensor& g) {
        const Tensor a = n.saved_tensor(0), b = n.saved_tensor(1);
        Tensor ga, gb;
        if (n.needs_grad(0)) ga = mul(g, mul(b, pow(a, sub(b, scalar_tensor(b->dtype(), 1)))));
        if (n.needs_grad(1)) gb = mul(g, mul(n.saved_tensor(2), log(a)));
        return std::pair{ga, gb};
      },
      {{a, false}, {b, false}, {out, true}});
  return out;
}

Tensor pow_scalar(const Tensor& x, double exponent) {
  Tensor out = map_unary(x, [exponent](auto v) {
    using T = decltype(v);
    return exponent == 2 ? v * v : T(std::pow(v, T(exponent)));
  });
  record_unary(
      out, "pow", x,
      [exponent](Node& n, const Tensor& g) {
        const Tensor x = n.saved_tensor(0);
        if (exponent == 0) return full_like(g, 0);
        return mul(g, mul(scalar_tensor(x->dtype(), exponent), pow_scalar(x, exponent - 1)));
      },
      {{x, false}});
  return out;
}

Tensor maximum(const Tensor& a0, const Tensor& b0) {
  auto [a, b] = promoted(a0, b0);
  Tensor out = map_binary(a, b, "maximum", [](auto x, auto y) { return x > y || x != x ? x : y; });
  record_binary(
      out, "maximum", a, b,
      [](Node& n, const Tensor& g) {
        // a's share: 1 where a > b, 1/2 at ties, 0 below; b takes the rest.
        const Tensor a = n.saved_tensor(0), b = n.saved_tensor(1);
        const Tensor share = map_binary(a, b, "maximum", [](auto x, auto y) {
          using T = decltype(x);
          return x > y ? T(1) : x == y ? T(0.5) : T(0);
        });
        return std::pair{n.needs_grad(0) ? mul(g, share) : nullptr,
                         n.needs_grad(1) ? mul(g, sub(scalar_tensor(share->dtype(), 1), share)) : nullptr};
      },
      {{a, false}, {b, false}});
  return out;
}

Tensor where(const Tensor& condition, const Tensor& a0, const Tensor& b0) {
  auto [a, b] = promoted(a0, b0);
  const Shape ab = broadcast_shapes(a->shape(), b->shape(), "where");
  const Shape shape = broadcast_shapes(condition->shape(), ab, "where");
  const Tensor mask = to_dtype(detach(condition), a->dtype());
  // A select, not mask·a + (1 − mask)·b: an inf in the branch not taken must not become NaN.
  Tensor out = make_tensor(a->dtype(), shape);
  dispatch(out->dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T *m = mask->data<T>(), *pa = a->data<T>(), *pb = b->data<T>();
    T* o = out->data<T>();
    ops::for_each_strided<3>(shape,
                             {ops::broadcast_strides(mask->shape(), shape), ops::broadcast_strides(a->shape(), shape),
                              ops::broadcast_strides(b->shape(), shape)},
                             [&, i = 0L](const std::array<long, 3>& at) mutable { o[i++] = m[at[0]] != 0 ? pa[at[1]] : pb[at[2]]; });
  });
  record_binary(
      out, "where", a, b,
      [](Node& n, const Tensor& g) {
        const Tensor mask = n.saved_tensor(0), zero = full_like(g, 0);
        return std::pair{n.needs_grad(0) ? where(mask, g, zero) : nullptr,
                         n.needs_grad(1) ? where(mask, zero, g) : nullptr};
      },
      {{mask, false}});
  return out;
}

Tensor clip(const Tensor& x, double low, double high) {
  if (std::isnan(low) || std::isnan(high))
    throw ValueError("[clip] the bounds must not be NaN; got low=" + std::to_string(low) + ", high=" +
                     std::to_string(high));
  if (low > high)
    throw ValueError("[clip] low must be <= high; got " + std::to_string(low) + " and " + std::to_string(high));
  Tensor out = map_unary(x, [low, high](auto v) {
    using T = decltype(v);
    return v != v ? v : std::min(std::max(v, T(low)), T(high));
  });
  record_unary(
      out, "clip", x,
      [low, high](Node& n, const Tensor& g) {
        // Passes the gradient where low <= x <= high, as torch.clamp does.
        const Tensor inside = map_unary(n.saved_tensor(0), [low, high](auto v) {
          using T = decltype(v);
          return v >= T(low) && v <= T(high) ? T(1) : T(0);
        });
        return mul(g, inside);
      },
      {{x, false}});
  return out;
}

Tensor neg(const Tensor& x) {
  Tensor out = map_unary(x, [](auto v) { return -v; });
  record_unary(out, "neg", x, [](Node&, const Tensor& g) { return neg(g); }, {});
  return out;
}

Tensor exp(const Tensor& x) {
  Tensor out = map_unary(x, [](auto v) { return std::exp(v); });
  record_unary(out, "exp", x, [](Node& n, const Tensor& g) { return mul(g, n.saved_tensor(0)); }, {{out, true}});
  return out;
}

Tensor log(const Tensor& x) {
  Tensor out = map_unary(x, [](auto v) { return std::log(v); });
  record_unary(out, "log", x, [](Node& n, const Tensor& g) { return div(g, n.saved_tensor(0)); }, {{x, false}});
  return out;
}

Tensor sqrt(const Tensor& x) {
  Tensor out = map_unary(x, [](auto v) { return std::sqrt(v); });
  record_unary(
      out, "sqrt", x,
      [](Node& n, const Tensor& g) {
        const Tensor y = n.saved_tensor(0);
        return div(g, mul(scalar_tensor(y->dtype(), 2), y));
      },
      {{out, true}});
  return out;
}

Tensor abs(const Tensor& x) {
  Tensor out = map_unary(x, [](auto v) { return std::abs(v); });
  record_unary(
      out, "abs", x,
      [](Node& n, const Tensor& g) {
        const Tensor sign = map_unary(n.saved_tensor(0), [](auto v) {
          using T = decltype(v);
          return v > 0 ? T(1) : v < 0 ? T(-1) : T(0);
        });
        return mul(g, sign);
      },
      {{x, false}});
  return out;
}

Tensor compare(const Tensor& a0, const Tensor& b0, Compare op) {
  auto a = to_dtype(detach(a0), detail::promote(a0, b0)), b = to_dtype(detach(b0), a->dtype());
  // One loop per comparison (not a switch per element), so each vectorises.
  auto as_number = [](auto test) { return [test](auto x, auto y) { return test(x, y) ? decltype(x)(1) : decltype(x)(0); }; };
  switch (op) {
    case Compare::gt: return map_binary(a, b, "compare", as_number([](auto x, auto y) { return x > y; }));
    case Compare::ge: return map_binary(a, b, "compare", as_number([](auto x, auto y) { return x >= y; }));
    case Compare::lt: return map_binary(a, b, "compare", as_number([](auto x, auto y) { return x < y; }));
    case Compare::le: return map_binary(a, b, "compare", as_number([](auto x, auto y) { return x <= y; }));
    case Compare::eq: return map_binary(a, b, "compare", as_number([](auto x, auto y) { return x == y; }));
    case Compare::ne: break;
  }
  return map_binary(a, b, "compare", as_number([](auto x, auto y) { return x != y; }));
}

Tensor copy(const Tensor& x) {
  Tensor out = make_tensor(x->dtype(), x->shape());
  std::copy_n(static_cast<const char*>(x->raw()), x->numel() * dtype_size(x->dtype()), static_cast<char*>(out->raw()));
  return out;
}

void add_in_place(const Tensor& target, const Tensor& source) {
  if (source->shape() != target->shape())
    throw ValueError("[backward] gradient of shape " + shape_text(source->shape()) + " for a tensor of shape " +
                     shape_text(target->shape()));
  const Tensor cast = to_dtype(source, target->dtype());
  dispatch(target->dtype(), [&](auto zero) {
    using T = decltype(zero);
    T* out = target->data<T>();
    const T* in = cast->data<T>();
    for (long i = 0; i < target->numel(); ++i) out[i] += in[i];
  });
  target->bump_version();
}

Tensor detach(const Tensor& x) {
  auto out = std::make_shared<TensorImpl>(x->dtype(), x->shape(), x->buffer());
  out->name = x->name;
  return out;
}

Tensor to_dtype(const Tensor& x, DType dtype) {
  if (x->dtype() == dtype) return x;
  Tensor out = make_tensor(dtype, x->shape());
  dispatch(x->dtype(), [&](auto from) {
    dispatch(dtype, [&](auto to) {
      using F = decltype(from);
      using T = decltype(to);
      const F* in = x->data<F>();
      T* o = out->data<T>();
      for (long i = 0; i < x->numel(); ++i) o[i] = T(in[i]);
    });
  });
  const DType source = x->dtype();
  record_unary(out, "cast", x, [source](Node&, const Tensor& g) { return to_dtype(g, source); }, {});
  return out;
}

}  // namespace bprop::autograd
