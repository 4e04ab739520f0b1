// Convolutions on tensors (nn.functional.conv1d/conv2d/conv_transpose2d): the kernels of ops/conv.h, which
// the Conv layers run too. A transposed convolution is its adjoint convolution's backward-data. The vjps
// are kernels: no second derivative.
#include "autograd/kernels.h"
#include "autograd/node.h"
#include "core/error.h"
#include "ops/conv.h"

namespace bprop::autograd {
namespace {

// Arguments and geometry from the operands' shapes, checked: ValueError naming them.
struct ConvCall {
  ops::ConvArgs args;
  ops::ConvGeometry geometry;  // the convolution run (for a transposed one, its adjoint)
  Shape out_shape;
};

ConvCall conv_call(const char* op, const Shape& x, const Shape& w, const Tensor& bias, ConvSettings settings,
                   bool transposed) {
  const std::string where = std::string("[") + op + "]";
  const long dims = long(w.size()) - 2;
  if (dims < 1 || dims > 2 || long(x.size()) != dims + 2)
    throw ValueError(where + " expects x of shape (batch, channels, *spatial) and a weight of shape (" +
                     (transposed ? "in_channels, out_channels/groups" : "out_channels, in_channels/groups") +
                     ", *kernel) with 1 or 2 spatial axes each; got x " + shape_text(x) + " and weight " + shape_text(w));
  ConvCall call;
  ops::ConvArgs& args = call.args;
  args.groups = settings.groups;
  if (args.groups < 1) throw ValueError(where + " groups must be >= 1; got " + std::to_string(args.groups));
  args.in_channels = x[1];
  const long per_group = w[1] * args.groups;
  if (transposed ? w[0] != x[1] : per_group != x[1])
    throw ValueError(where + " x has " + std::to_string(x[1]) + " channels but the weight of shape " + shape_text(w) +
                     (transposed ? " expects " + std::to_string(w[0]) : " with groups=" + std::to_string(args.groups) +
                                                                             " expects " + std::to_string(per_group)));
  args.out_channels = transposed ? per_group : w[0];
  args.kernel.assign(w.begin() + 2, w.end());
  const auto per_axis = [&](std::vector<long> values, const char* name) {
    if (values.size() == 1) values.assign(std::size_t(dims), values[0]);
    if (long(values.size()) != dims)
      throw ValueError(where + " " + name + " must have 1 or " + std::to_string(dims) + " values; got " +
                       std::to_string(values.size()));
    return values;
  };
  args.stride = per_axis(settings.stride, "stride");
  args.dilation = per_axis(settings.dilation, "dilation");
  args.pad_begin = per_axis(settings.pad_begin, "padding");
  args.pad_end = per_axis(settings.pad_end, "padding");
  if (transposed) args.output_padding = per_axis(settings.output_padding, "output_padding");
  ops::check_conv_args(op, args, transposed);
  if (bias && bias->shape() != Shape{args.out_channels})
    throw ValueError(where + " bias must have shape (" + std::to_string(args.out_channels) + ",); got " +
                     shape_text(bias->shape()));
  const std::vector<long> sample(x.begin() + 1, x.end());
  call.geometry = transposed ? ops::conv_transpose_geometry(op, args, sample) : ops::conv_geometry(op, args, sample);
  const ops::ConvGeometry& g = call.geometry;
  const long channels = transposed ? g.in_channels : g.out_channels;
  const long height = transposed ? g.in_h : g.out_h, width = transposed ? g.in_w : g.out_w;
  call.out_shape = dims == 1 ? Shape{x[0], channels, width} : Shape{x[0], channels, height, width};
  return call;
}

}  // namespace

Tensor conv(const Tensor& x0, const Tensor& w0, const Tensor& b0, const ConvSettings& settings, bool transposed) {
  const char* op = transposed ? "conv_transpose2d" : w0->dim() == 3 ? "conv1d" : "conv2d";
  if (!x0 || !w0) throw ValueError(std::string("[") + op + "] x and weight must be tensors; got None");
  DType dtype = detail::promote(x0, w0);
  if (b0 && b0->dtype() == DType::float64) dtype = DType::float64;
  const Tensor x = to_dtype(x0, dtype), w = to_dtype(w0, dtype), b = b0 ? to_dtype(b0, dtype) : Tensor();
  const ConvCall call = conv_call(op, x->shape(), w->shape(), b, settings, transposed);
  const ops::ConvGeometry g = call.geometry;
  const long batch = x->size(0);
  Tensor out = make_tensor(dtype, call.out_shape);
  if (batch > 0)
    dispatch(dtype, [&](auto zero) {
      using T = decltype(zero);
      const T* bias = b ? b->data<T>() : nullptr;
      if (!transposed) {
        ops::conv_forward<T>(g, batch, x->data<T>(), w->data<T>(), bias, out->data<T>());
      } else {
        ops::conv_backward_data<T>(g, batch, x->data<T>(), w->data<T>(), out->data<T>(), false);
        if (bias) ops::channel_shift<T>({batch, g.in_channels, g.in_pixels()}, bias, out->data<T>());
      }
    });
  std::vector<Tensor> inputs{x, w};
  if (b) inputs.push_back(b);
  detail::record_fn(out, op, inputs, [g, batch, transposed, op](Node& node, const Tensor& grad) {
    const Tensor x = node.saved_tensor(0), w = node.saved_tensor(1);
    const Tensor dy = to_dtype(detach(grad), x->dtype());
    Tensor dx, dw, db;
    if (node.needs_grad(0)) dx = make_tensor(x->dtype(), x->shape());
    if (node.needs_grad(1)) dw = make_tensor(w->dtype(), w->shape());
    if (node.needs_grad(2)) db = make_tensor(x->dtype(), {transposed ? g.in_channels : g.out_channels});
    if (batch > 0)
      dispatch(x->dtype(), [&](auto zero) {
        using T = decltype(zero);
        const T* d = dy->data<T>();
        if (!transposed) {
          if (dx) ops::conv_backward_data<T>(g, batch, d, w->data<T>(), dx->data<T>(), false);
          if (dw || db)  // the weight gradient is computed with the bias's, or into scratch when only db is wanted
            ops::conv_backward_weights<T>(g, batch, x->data<T>(), d, dw ? dw->data<T>() : nullptr,
                                          db ? db->data<T>() : nullptr, false);
        } else {  // the adjoint convolution reads dy as its input and x as its output gradient
          if (dx) ops::conv_forward<T>(g, batch, d, w->data<T>(), nullptr, dx->data<T>());
          if (dw) ops::conv_backward_weights<T>(g, batch, d, x->data<T>(), dw->data<T>(), nullptr, false);
          if (db) ops::channel_sums<T>(d, {batch, g.in_channels, g.in_pixels()}, db->data<T>(), false);
        }
      });
    if (grad_enabled())
      for (const Tensor& made : {dx, dw, db})
        if (made) record(made, std::make_shared<NoSecondDerivative>(op), {grad, x, w});
    return std::vector<Tensor>{dx, dw, db};
  }, {{x, false}, {w, false}});
  return out;
}

}  // namespace bprop::autograd
