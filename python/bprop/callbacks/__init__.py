"""Callbacks: hooks into Trainer.fit, as in Keras. base.py holds the protocol; each other file one kind."""
from .base import Callback, CallbackList, LambdaCallback
from .csv_logger import CSVLogger
from .history import History
from .learning_rate import LearningRateScheduler, ReduceLROnPlateau
from .model_checkpoint import ModelCheckpoint
from .progress_bar import ProgressBar
from .stopping import EarlyStopping, TerminateOnNaN

__all__ = ["Callback", "History", "EarlyStopping", "LearningRateScheduler", "ReduceLROnPlateau", "TerminateOnNaN",
           "LambdaCallback", "ProgressBar", "ModelCheckpoint",
           "CSVLogger"]
