#include "nn/folded_step.h"

#include <stdexcept>

#include "core/scratch.h"
#include "ops/channel_norm.h"

namespace bprop::nn {

template <typename T>
FoldedStep<T>::FoldedStep(LayerPtr<T> first, LayerPtr<T> second, LayerPtr<T> third)
    : first_(std::move(first)),
      second_(std::move(second)),
      third_(std::move(third)),
      folds_(first_->folds_channel_affine()),
      affine_(second_->channel_affine_in_eval()),
      map_(third_ ? third_->elementwise_from_output() : nullptr) {
  this->set_shapes(first_->in_shape(), (third_ ? third_ : second_)->out_shape());
}

template <typename T>
std::shared_ptr<FoldedStep<T>> FoldedStep<T>::fold(const LayerPtr<T>& first, const LayerPtr<T>& second,
                                                   const LayerPtr<T>& third) {
  if (!first || !second || !first->folds_channel_affine() || !second->channel_affine_in_eval()) return nullptr;
  if (first->folds_channel_affine()->folded_channels() != second->channel_affine_in_eval()->affine_channels())
    return nullptr;
  const bool with_third = third && third->elementwise_from_output();
  return std::shared_ptr<FoldedStep<T>>(new FoldedStep<T>(first, second, with_third ? third : nullptr));
}

template <typename T>
std::string FoldedStep<T>::name() const {
  return first_->name() + "+" + second_->name() + (third_ ? "+" + third_->name() : "");
}

template <typename T>
SampleShape FoldedStep<T>::build(const SampleShape& in) {
  SampleShape out = second_->build(first_->build(in));
  if (third_) out = third_->build(out);
  return this->set_shapes(in, out);
}

template <typename T>
void FoldedStep<T>::infer(const T* x, long rows, T* y) const {
  const long channels = affine_->affine_channels();
  ScratchFrame scratch;
  T* scale = scratch.take<T>(channels);
  T* shift = scratch.take<T>(channels);
  affine_->eval_affine(scale, shift);
  if (folds_->fold_pays(rows)) return folds_->infer_folded(x, rows, y, scale, shift, map_);
  // A small output (a batch of one, late in a network): one pass over it beats rewriting the weights.
  first_->infer(x, rows, y);
  const long plane = this->out_size_ / channels;
  ops::channel_affine(y, ops::ChannelLayout{rows, channels, plane}, scale, shift, y);  // in place: elementwise
  if (map_) map_->apply_block(y, rows, this->out_size_, this->out_size_);
}

template <typename T>
void FoldedStep<T>::forward(const T*, long, T*, Mode) {
  throw std::logic_error("[" + name() + "] a folded step runs inference only");
}

template <typename T>
void FoldedStep<T>::backward(const T*, const T*, const T*, long, T*, bool) {
  throw std::logic_error("[" + name() + "] a folded step runs inference only");
}

template class FoldedStep<float>;
template class FoldedStep<double>;

}  // namespace bprop::nn
