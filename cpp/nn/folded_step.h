// FoldedStep: for inference only, a layer that folds a per-channel affine map (a convolution), the layer
// whose evaluation mode is that map (BatchNorm with its running statistics) and, optionally, an elementwise
// layer after them (ReLU), run as one step: the convolution with W'[c] = scale[c]·W[c] and
// b'[c] = scale[c]·b[c] + shift[c], the elementwise map in its epilogue. One pass over the output instead
// of three, when the batch's output outweighs the weights (FoldsChannelAffine::fold_pays); otherwise the
// three run one after the other on y. nn/fusion.h says which layers qualify.
// The values differ from running the layers one after the other by rounding alone (scale is applied to
// the weights before the products rather than to their sum). A Sequential uses it in infer() alone, so
// training, and forward in evaluation mode, run the layers as they are.
#pragma once
#include <memory>

#include "nn/fusion.h"
#include "nn/layer.h"

namespace bprop::nn {

template <typename T>
class FoldedStep : public Layer<T> {
 public:
  // The folded step when `first` offers FoldsChannelAffine and `second` ChannelAffineInEval over as many
  // channels; `third`, if not null, joins when it offers ElementwiseFromOutput. Otherwise null. All three
  // must already be built.
  static std::shared_ptr<FoldedStep> fold(const LayerPtr<T>& first, const LayerPtr<T>& second,
                                          const LayerPtr<T>& third);
  std::size_t layer_count() const { return third_ ? 3 : 2; }  // how many layers it runs

  std::string name() const override;  // "Conv2d+BatchNorm2d+ReLU"
  SampleShape build(const SampleShape& in) override;
  void infer(const T* x, long rows, T* y) const override;
  // Inference only: a Sequential never trains through a folded step (std::logic_error if asked).
  void forward(const T* x, long rows, T* y, Mode mode) override;
  void backward(const T* x, const T* y, const T* dy, long rows, T* dx, bool accumulate) override;

 private:
  FoldedStep(LayerPtr<T> first, LayerPtr<T> second, LayerPtr<T> third);

  LayerPtr<T> first_, second_, third_;  // third_ may be null
  const FoldsChannelAffine<T>* folds_;
  const ChannelAffineInEval<T>* affine_;
  const ElementwiseFromOutput<T>* map_;  // null without third_
};

}  // namespace bprop::nn
