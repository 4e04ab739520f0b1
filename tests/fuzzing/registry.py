"""THE registry: every public entry point of bprop, one Entry each (see entry.py), from the area files."""
from . import (entries_autograd, entries_callback_outputs, entries_conv, entries_files, entries_layers, entries_losses, entries_models, entries_optim,
               entries_recurrent, entries_runtime, entries_selfcheck, entries_tensor, entries_training)

# Not bprop: cases that crash, abort, hang or exit on purpose, so test_fuzz can check that the worker reports
# each with its input and survives it (the sweep proves nothing if a crash could go unnoticed).
SELF_CHECKS = {entry.name: entry for entry in entries_selfcheck.ENTRIES}

ENTRIES = (entries_tensor.ENTRIES + entries_autograd.ENTRIES + entries_runtime.ENTRIES + entries_layers.ENTRIES
           + entries_conv.ENTRIES + entries_recurrent.ENTRIES + entries_losses.ENTRIES + entries_optim.ENTRIES + entries_models.ENTRIES + entries_training.ENTRIES
           + entries_files.ENTRIES + entries_callback_outputs.ENTRIES)
REGISTRY = {entry.name: entry for entry in ENTRIES}
assert len(REGISTRY) == len(ENTRIES), "two entries share a name"

# What each entry calls, by public name; test_fuzz checks that together they name the whole public API.
COVERS = {
    "bprop.tensor": "bprop.tensor bprop.Tensor",
    "Tensor.<binary operator>": "Tensor.__add__ Tensor.__sub__ Tensor.__mul__ Tensor.__truediv__ Tensor.__pow__ "
                                "Tensor.__matmul__ Tensor.__gt__ Tensor.__ge__ Tensor.__lt__ Tensor.__le__",
    "Tensor.<unary method>": "Tensor.exp Tensor.log Tensor.sqrt Tensor.abs Tensor.relu Tensor.sigmoid Tensor.tanh "
                             "Tensor.__neg__ Tensor.gelu Tensor.detach Tensor.numpy Tensor.T Tensor.to_dot "
                             "Tensor.zero_grad Tensor.grad Tensor.is_leaf Tensor.grad_fn Tensor.version Tensor.name "
                             "Tensor.__array__ Tensor.__repr__ Tensor.shape Tensor.ndim Tensor.size Tensor.dtype "
                             "Tensor.grad_tensor " + " ".join(f"Tensor.{op}" for op in entries_tensor.TABLE_FUNCTIONS),
    "Tensor.item/len/iter": "Tensor.item Tensor.__len__ Tensor.__iter__",
    "bprop.tensor.<function>": "tensor.exp tensor.log tensor.sqrt tensor.abs tensor.relu tensor.sigmoid tensor.tanh "
                               "tensor.gelu tensor.softmax tensor.log_softmax "
                               + " ".join(f"tensor.{op}" for op in entries_tensor.TABLE_FUNCTIONS),
    "Tensor.sum/mean/max": "Tensor.sum Tensor.mean Tensor.max",
    "Tensor.reshape": "Tensor.reshape",
    "Tensor.transpose": "Tensor.transpose",
    "Tensor.__getitem__": "Tensor.__getitem__",
    "Tensor.astype": "Tensor.astype",
    "Tensor.softmax/log_softmax": "Tensor.softmax Tensor.log_softmax",
    "Tensor.clip / bprop.clip": "Tensor.clip bprop.clip",
    "Tensor.backward": "Tensor.backward",
    "Tensor.requires_grad/grad/name=": "Tensor.requires_grad",
    "bprop.maximum/where": "bprop.maximum bprop.where",
    "bprop.concatenate/stack": "bprop.concatenate bprop.stack",
    "bprop.grad": "bprop.grad",
    "bprop.gradcheck": "bprop.gradcheck",
    "bprop.no_grad/enable_grad": "bprop.no_grad bprop.enable_grad bprop.is_grad_enabled",
    "bprop.Parameter": "bprop.Parameter",
    "Parameter.set_value/set_grad": "Parameter.set_value Parameter.set_grad",
    "Parameter.<binary operator>": "Parameter.__add__ Parameter.__mul__ Parameter.__matmul__",
    "Parameter.<method>": "Parameter.value Parameter.grad Parameter.zero_grad Parameter.tensor Parameter.requires_grad "
                          "Parameter.name Parameter.shape Parameter.size Parameter.dtype Parameter.__getitem__",
    "bprop.matmul": "bprop.matmul",
    "bprop.set_num_threads/set_isa/cpu_info": "bprop.set_num_threads bprop.get_num_threads bprop.set_isa "
                                              "bprop.cpu_info",
    "bprop.manual_seed": "bprop.manual_seed",
    "nn.<Layer>(...)": "nn.Layer " + " ".join(f"nn.{name}" for name in entries_layers.LAYER_NAMES
                                              + entries_layers.SPATIAL_LAYER_NAMES),
    "nn.functional.<pooling>": " ".join(f"functional.{f}" for f in entries_layers.FUNCTIONAL_POOLING.values()),
    "nn.Residual": "nn.Residual",
    "nn.<Conv>(...).forward/backward": "nn.Conv1d nn.Conv2d nn.ConvTranspose2d",
    "nn.functional.conv*": "functional.conv1d functional.conv2d functional.conv_transpose2d",
    "nn.<Recurrent>(...).run/run_backward": "nn.RNN nn.LSTM nn.GRU",
    "nn.<Recurrent>(x, hx, lengths)": "nn.RNN nn.LSTM nn.GRU",
    "nn.Embedding": "nn.Embedding",
    "nn.register_layer": "nn.register_layer",
    "Layer.forward/backward": "Layer.forward Layer.backward",
    "Layer.__call__": "Layer.__call__",
    "Layer.<method>": "Layer.implied_input_shape Layer.keeps_shape Layer.takes_indices Layer.core Layer.named_parameters Layer.named_buffers Layer.weight Layer.bias Layer.train "
                      "Layer.eval Layer.parameters Layer.buffers Layer.dtype Layer.name",
    "Layer.from_config": "Layer.from_config Layer.get_config Layer.tensor_shapes Layer.training",
    "nn.<Loss>(...)": "nn.MSE nn.MAE nn.Huber nn.CrossEntropy nn.BinaryCrossEntropy nn.Loss",
    "Loss(out, y) / nn.functional.*": "Loss.__call__ Loss.forward_backward functional.cross_entropy functional.mse "
                                      "functional.mse_loss functional.mae functional.l1_loss functional.huber "
                                      "functional.huber_loss functional.binary_cross_entropy "
                                      "functional.binary_cross_entropy_with_logits",
    "Loss.<method>": "Loss.core Loss.targets_are_labels Loss.reduction Loss.ignore_index Loss.get_config Loss.name "
                     "Loss.on_tensor",
    "Loss.prepare_targets": "Loss.prepare_targets",
    "Loss.prepare_labels": "Loss.prepare_labels",
    "optim.<Optimizer>(...)": "optim.SGD optim.Adam optim.AdamW optim.RMSprop optim.Adagrad optim.Optimizer",
    "Optimizer.<calls in any order>": "Optimizer.step Optimizer.zero_grad Optimizer.bind Optimizer.lr "
                                      "Optimizer.current_lr Optimizer.step_count Optimizer.schedule "
                                      "Optimizer.state_dict Optimizer.load_state_dict Optimizer.get_config "
                                      "Optimizer.from_config Optimizer.dtype Optimizer.core Optimizer.bound "
                                      "Optimizer.parameters Optimizer.epoch Optimizer.add_gradient_hook "
                                      "optim.GradientHookHandle",
    "optim.<Schedule>(...).rate": "optim.StepDecay optim.ExponentialDecay optim.CosineDecay optim.LinearWarmup "
                                  "optim.Schedule Schedule.rate Schedule.get_config Schedule.per",
    "deserialize / optim.get": "optim.get optim.deserialize optim.schedules",
    "Sequential(...)": "bprop.Sequential",
    "Sequential/Module.fit": "Sequential.fit Module.fit",
    "Sequential/Module.evaluate/predict": "Sequential.evaluate Sequential.predict Module.evaluate Module.predict",
    "Sequential.forward/backward": "Sequential.forward Sequential.backward",
    "Sequential/Module.<calls in any order>": "Sequential.get_weights Sequential.state_dict Sequential.summary "
                                              "Sequential.implied_input_shape Sequential.keeps_shape Sequential.takes_indices Sequential.core Sequential.name Sequential.dtype "
                                              "Sequential.reseed Sequential.build Sequential.__call__ "
                                              "Sequential.train Sequential.eval Sequential.count_params "
                                              "Sequential.save Sequential.load_weights Sequential.get_config "
                                              "Sequential.zero_grad Sequential.parameters Sequential.in_features "
                                              "Sequential.input_shape Sequential.output_shape "
                                              "Module.input_shape Module.output_shape "
                                              "Sequential.out_features Sequential.as_batch "
                                              "Sequential.named_parameters Sequential.named_buffers "
                                              "Sequential.buffers Module.__call__ Module.state_dict "
                                              "Module.load_state_dict Module.reseed Module.train Module.eval "
                                              "Module.count_params Module.save Module.load_weights Module.compile "
                                              "Module.zero_grad Module.parameters Module.in_features "
                                              "Module.out_features Module.as_batch Module.named_parameters "
                                              "Module.named_buffers Module.buffers Module.named_children "
                                              "Module.dtype Module.forward Sequential.training "
                                              "Sequential.stop_training Module.training Module.stop_training "
                                              "Module.output_of",
    "Sequential/Module.compile": "Sequential.compile",
    "Sequential.from_config": "Sequential.from_config Sequential.tensor_shapes",
    "Sequential/Module.set_weights/load_state_dict": "Sequential.set_weights Sequential.load_state_dict",
    "Module misuse": "bprop.Module",
    "Trainer(...)": "bprop.Trainer Trainer.fit Trainer.evaluate Trainer.save_checkpoint",
    "callbacks.CSVLogger": "callbacks.CSVLogger",
    "History.plot": "History.plot History.quantities",
    "callbacks.<Callback>(...)": "callbacks.EarlyStopping callbacks.History callbacks.LambdaCallback "
                                 "callbacks.LearningRateScheduler callbacks.ModelCheckpoint callbacks.ProgressBar "
                                 "callbacks.ReduceLROnPlateau callbacks.TerminateOnNaN callbacks.Callback "
                                 "callbacks.CallbackList",
    "bprop.load": "bprop.load bprop.CheckpointError",
    "Model.load_weights / fit(resume_from=)": "Sequential.load_weights",
    "Model.save": "Sequential.save Module.save",
    "checkpoint_file.save_file/load_file": "checkpoint_file.save_file checkpoint_file.load_file",
}
