// Placeholder: this area's bindings are being written.
#include "bindings/init.h"

namespace bprop::bindings {

void init_optim(pybind11::module_&) {}

}  // namespace bprop::bindings
