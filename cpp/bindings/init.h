#pragma once
#include <pybind11/pybind11.h>

namespace bprop::bindings {

void init_runtime(pybind11::module_& m);
void init_interrupts(pybind11::module_& m);    // Ctrl-C inside long calls (core/interrupt.h)
void init_gemm(pybind11::module_& m);
void init_nn_parameter(pybind11::module_& m);  // Parameter handles, needed by layers and optimizers
void init_nn(pybind11::module_& m);            // layers and Sequential
void init_nn_spatial(pybind11::module_& m);    // layers over channel-first samples: BatchNorm1d/2d, Dropout2d
void init_nn_pooling(pybind11::module_& m);    // pooling and upsampling layers (after init_nn: their base)
void init_nn_recurrent(pybind11::module_& m);  // RNN, LSTM, GRU (after init_nn: their base)
void init_python_layer(pybind11::module_& m);  // layers written in Python (python_layer.h)
void init_loss(pybind11::module_& m);          // losses
void init_optim(pybind11::module_& m);         // optimizers and schedules
void init_train(pybind11::module_& m);         // the training loop
void init_autograd(pybind11::module_& m);      // Tensor and its differentiable operations

}  // namespace bprop::bindings
