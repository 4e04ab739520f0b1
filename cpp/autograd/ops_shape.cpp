// Reductions, broadcasting, reshaping, permuting and gathering, with their vjps.
#include <algorithm>
#include <cmath>
#include <limits>

#include "autograd/kernels.h"
#include "autograd/node.h"
#include "core/error.h"

namespace bprop::autograd {
namespace {

using detail::record_fn;

// Axes as sorted non-negative positions, each once; ValueError naming the op when out of range.
std::vector<long> normalise_axes(std::vector<long> axes, long rank, const char* op) {
  if (axes.empty())
    for (long d = 0; d < rank; ++d) axes.push_back(d);
  for (long& axis : axes) {
    if (axis < -rank || axis >= std::max(rank, 1L) || (rank == 0 && axis != 0 && axis != -1))
      throw ValueError(std::string("[") + op + "] axis " + std::to_string(axis) + " is out of range for " +
                       std::to_string(rank) + " dimensions");
    if (axis < 0) axis += rank;
  }
  std::sort(axes.begin(), axes.end());
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end())
    throw ValueError(std::string("[") + op + "] repeated axis");
  if (rank == 0) axes.clear();
  return axes;
}

// x's shape with the reduced axes kept at size 1, and without them.
std::pair<Shape, Shape> reduced_shapes(const Shape& shape, const std::vector<long>& axes) {
  Shape kept = shape, dropped;
  for (long axis : axes) kept[axis] = 1;
  for (std::size_t d = 0; d < shape.size(); ++d)
    if (!std::binary_search(axes.begin(), axes.end(), long(d))) dropped.push_back(shape[d]);
  return {kept, dropped};
}

// out (shape `kept`, broadcastable to x) = fold of x over the stretched axes, starting from init.
template <class F>
Tensor reduce_to(const Tensor& x, const Shape& kept, double init, F&& fold) {
  Tensor out = full_like(make_tensor(x->dtype(), kept), init);
  dispatch(x->dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* in = x->data<T>();
    T* o = out->data<T>();
    ops::for_each_strided<2>(x->shape(), {ops::contiguous_strides(x->shape()), ops::broadcast_strides(kept, x->shape())},
                             [&](const std::array<long, 2>& at) { o[at[1]] = fold(o[at[1]], in[at[0]]); });
  });
  return out;
}

Tensor view(const Tensor& x, Shape shape) { return std::make_shared<TensorImpl>(x->dtype(), std::move(shape), x->buffer()); }

}  // namespace

Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x->shape() == shape) return x;
  if (shape.size() > x->shape().size() || broadcast_shapes(shape, x->shape(), "sum_to") != x->shape())
    throw ValueError("[sum_to] cannot sum " + shape_text(x->shape()) + " to " + shape_text(shape));
  Shape kept(x->shape().size() - shape.size(), 1);
  kept.insert(kept.end(), shape.begin(), shape.end());
  Tensor out = view(reduce_to(x, kept, 0.0, [](auto acc, auto v) { return acc + v; }), shape);
  const Shape source = x->shape();
  record_fn(out, "sum_to", {x}, [source](Node&, const Tensor& g) { return std::vector<Tensor>{expand(g, source)}; });
  return out;
}

Tensor expand(const Tensor& x, const Shape& shape) {
  if (x->shape() == shape) return x;
  if (broadcast_shapes(x->shape(), shape, "expand") != shape)
    throw ValueError("[expand] cannot broadcast " + shape_text(x->shape()) + " to " + shape_text(shape));
  Tensor out = make_tensor(x->dtype(), shape);
  dispatch(x->dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* in = x->data<T>();
    T* o = out->data<T>();
    ops::for_each_strided<1>(shape, {ops::broadcast_strides(x->shape(), shape)},
                             [&, i = 0L](const std::array<long, 1>& at) mutable { o[i++] = in[at[0]]; });
  });
  const Shape source = x->shape();
  record_fn(out, "expand", {x}, [source](Node&, const Tensor& g) { return std::vector<Tensor>{sum_to(g, source)}; });
  return out;
}

Tensor sum(const Tensor& x, std::vector<long> axes, bool keepdims) {
  axes = normalise_axes(std::move(axes), x->dim(), "sum");
  auto [kept, dropped] = reduced_shapes(x->shape(), axes);
  Tensor out = reduce_to(x, kept, 0.0, [](auto acc, auto v) { return acc + v; });
  if (!keepdims) out = view(out, dropped);
  const Shape source = x->shape();
  record_fn(out, "sum", {x}, [source, kept = kept](Node&, const Tensor& g) {
    return std::vector<Tensor>{expand(reshape(g, kept), source)};
  });
  return out;
}

Tensor mean(const Tensor& x, std::vector<long> axes, bool keepdims) {
  axes = normalise_axes(std::move(axes), x->dim(), "mean");
  long count = 1;
  for (long axis : axes) count *= x->size(axis);
  if (count == 0) throw ValueError("[mean] of an empty tensor " + shape_text(x->shape()));
  return mul(sum(x, axes, keepdims), scalar_tensor(x->dtype(), 1.0 / double(count)));
}

Tensor max(const Tensor& x, std::vector<long> axes, bool keepdims) {
  axes = normalise_axes(std::move(axes), x->dim(), "max");
  for (long axis : axes)
    if (x->size(axis) == 0) throw ValueError("[max] over an empty axis of " + shape_text(x->shape()));
  auto [kept, dropped] = reduced_shapes(x->shape(), axes);
  Tensor out = reduce_to(x, kept, -std::numeric_limits<double>::infinity(),
                         [](auto acc, auto v) { return v > acc || v != v ? v : acc; });
  Tensor out_kept = out;
  if (!keepdims) out = view(out, dropped);
  if (auto node = record_fn(out, "max", {x}, [kept = kept, axes](Node& n, const Tensor& g) {
        // The gradient goes to the maxima, shared equally among ties (torch.amax's rule).
        const Tensor x = n.saved_tensor(0), top = n.saved_tensor(1);
        const Tensor share = compare(x, top, Compare::eq);
        const Tensor count = sum(share, axes, true);
        return std::vector<Tensor>{mul(expand(div(reshape(g, kept), count), x->shape()), share)};
      })) {
    node->saved.emplace_back(x, false);
    node->saved.emplace_back(detach(out_kept), false);
  }
  return out;
}

Tensor reshape(const Tensor& x, Shape shape) {
  long known = 1, unknown = -1;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == -1) {
      if (unknown >= 0) throw ValueError("[reshape] only one size may be -1");
      unknown = long(d);
    } else if (shape[d] < 0) {
      throw ValueError("[reshape] sizes must be >= 0 or -1; got " + shape_text(shape));
    } else if (__builtin_mul_overflow(known, shape[d], &known)) {  // a wrapped product could look right
      throw ValueError("[reshape] cannot reshape " + shape_text(x->shape()) + " to " + shape_text(shape) +
                       ": the sizes multiply past 2^63");
    }
  }
  if (unknown >= 0 && known > 0 && x->numel() % known == 0) shape[unknown] = x->numel() / known;
  if (numel(shape) != x->numel() || (unknown >= 0 && shape[unknown] < 0))
    throw ValueError("[reshape] cannot reshape " + shape_text(x->shape()) + " (" + std::to_string(x->numel()) +
                     " values) to " + shape_text(shape));
  if (shape == x->shape()) return x;
  Tensor out = view(x, shape);
  const Shape source = x->shape();
  record_fn(out, "reshape", {x}, [source](Node&, const Tensor& g) { return std::vector<Tensor>{reshape(g, source)}; });
  return out;
}

Tensor transpose(const Tensor& x, std::vector<long> perm) {
  const long rank = x->dim();
  if (perm.empty())
    for (long d = rank - 1; d >= 0; --d) perm.push_back(d);
  std::vector<long> seen(rank, 0);
  bool valid = long(perm.size()) == rank;
  for (long& axis : perm) {
    if (axis < 0) axis += rank;
    valid = valid && axis >= 0 && axis < rank && !seen[axis]++;
  }
  if (!valid) throw ValueError("[transpose] axes must be a permutation of the " + std::to_string(rank) + " axes");
  Shape shape(rank);
  std::vector<long> in_strides = ops::contiguous_strides(x->shape()), strides(rank), inverse(rank);
  for (long d = 0; d < rank; ++d) {
    shape[d] = x->size(perm[d]);
    strides[d] = in_strides[perm[d]];
    inverse[perm[d]] = d;
  }
  Tensor out = make_tensor(x->dtype(), shape);
  dispatch(x->dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* in = x->data<T>();
    T* o = out->data<T>();
    ops::for_each_strided<1>(shape, {strides}, [&, i = 0L](const std::array<long, 1>& at) mutable { o[i++] = in[at[0]]; });
  });
  record_fn(out, "transpose", {x}, [inverse](Node&, const Tensor& g) { return std::vector<Tensor>{transpose(g, inverse)}; });
  return out;
}

Tensor gather(const Tensor& x, std::shared_ptr<const std::vector<long>> index, Shape shape) {
  if (numel(shape) != long(index->size()))
    throw ValueError("[gather] shape " + shape_text(shape) + " does not hold " + std::to_string(index->size()) + " indices");
  for (long i : *index)
    if (i < 0 || i >= x->numel())
      throw ValueError("[gather] index " + std::to_string(i) + " is out of range for " + std::to_string(x->numel()) + " values");
  Tensor out = make_tensor(x->dtype(), shape);
  dispatch(x->dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* in = x->data<T>();
    T* o = out->data<T>();
    for (std::size_t i = 0; i < index->size(); ++i) o[i] = in[(*index)[i]];
  });
  const Shape source = x->shape();
  record_fn(out, "gather", {x}, [index, source](Node&, const Tensor& g) {
    return std::vector<Tensor>{scatter_add(g, index, source)};
  });
  return out;
}

Tensor scatter_add(const Tensor& x, std::shared_ptr<const std::vector<long>> index, Shape shape) {
  if (x->numel() != long(index->size()))
    throw ValueError("[scatter_add] " + std::to_string(x->numel()) + " values for " + std::to_string(index->size()) + " indices");
  const long n = numel(shape);
  for (long i : *index)
    if (i < 0 || i >= n) throw ValueError("[scatter_add] index " + std::to_string(i) + " is out of range for " + std::to_string(n) + " values");
  Tensor out = make_tensor(x->dtype(), shape);
  dispatch(x->dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* in = x->data<T>();
    T* o = out->data<T>();
    for (std::size_t i = 0; i < index->size(); ++i) o[(*index)[i]] += in[i];
  });
  const Shape source = x->shape();
  record_fn(out, "scatter_add", {x}, [index, source](Node&, const Tensor& g) {
    return std::vector<Tensor>{gather(g, index, source)};
  });
  return out;
}

}  // namespace bprop::autograd
