#include "optim/arena.h"

#include <limits>

#include "core/error.h"

namespace bprop::optim {

template <typename T>
ParameterArena<T>::ParameterArena(const std::vector<nn::ParameterPtr<T>>& params, const std::string& who) {
  constexpr long limit = std::numeric_limits<long>::max() / long(sizeof(T)) - long(kAlignment);
  for (const auto& p : params) {
    if (p->size() > limit - span_)
      throw ValueError("[" + who + "] the parameters hold more elements than one arena can address; got over " +
                       std::to_string(limit));
    slots_.push_back({p->name, span_, p->size()});
    span_ += aligned_count<T>(p->size());
  }
  values_ = make_shared_block<T>(span_);
  grads_ = make_shared_block<T>(span_);
  for (std::size_t k = 0; k < params.size(); ++k)
    params[k]->move_to(values_, values_.get() + slots_[k].offset, grads_, grads_.get() + slots_[k].offset);
}

template <typename T>
bool ParameterArena<T>::holds(const std::vector<nn::ParameterPtr<T>>& params) const {
  if (!values_ || params.size() != slots_.size()) return false;
  for (std::size_t k = 0; k < params.size(); ++k)
    if (params[k]->value.data() != values_.get() + slots_[k].offset ||
        params[k]->grad.data() != grads_.get() + slots_[k].offset)
      return false;
  return true;
}

template class ParameterArena<float>;
template class ParameterArena<double>;

}  // namespace bprop::optim
