"""Registry entries: the callbacks that write what training did, CSVLogger's file and History.plot's figure."""
import csv

from hypothesis import strategies as st

from .entries_models import datasets, models
from .entry import Entry
from .values import junk_flags, junk_reals, junk_scalars


def call_csv_logger(model, x, y, filename, separator, append):
    from bprop import callbacks
    logger = callbacks.CSVLogger(filename, separator=separator, append=append)
    history = model.fit(x, y, epochs=2, verbose=0, validation_data=(x, y), callbacks=[logger])
    with open(filename, newline="") as f:
        rows = list(csv.DictReader(f, delimiter=separator))
    assert [float(row["loss"]) for row in rows[-2:]] == history.history["loss"], (rows, history.history)
    return rows


@st.composite
def csv_logger_valid(draw):
    model, width, k, loss = draw(models(kinds=("mlp",)))
    x, y = draw(datasets(width, k, loss))
    return {"model": model, "x": x, "y": y, "filename": draw(st.sampled_from(("log.csv", "log.tsv"))),
            "separator": draw(st.sampled_from((",", "\t", ";"))), "append": draw(st.booleans())}


def call_history_plot(epochs, keys, figsize, axes):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from bprop import callbacks
    history = callbacks.History()
    for epoch in range(epochs):
        history.on_epoch_end(epoch, {key: 1.0 / (epoch + 1) for key in keys})
    try:
        figure = history.plot(figsize=figsize, axes=axes)
        return [[list(line.get_ydata()) for line in ax.get_lines()] for ax in figure.axes]
    finally:
        plt.close("all")


@st.composite
def history_plot_valid(draw):
    keys = draw(st.lists(st.sampled_from(("loss", "val_loss", "accuracy", "val_accuracy", "lr")), min_size=1,
                         max_size=5, unique=True))
    return {"epochs": draw(st.integers(1, 4)), "keys": keys,
            "figsize": draw(st.sampled_from((None, (3.0, 2.0), [4, 3]))), "axes": None}


ENTRIES = [
    Entry("callbacks.CSVLogger", call_csv_logger, csv_logger_valid(),
          {"filename": st.one_of(junk_scalars(), st.sampled_from(("", ".", "a\x00b", "nodir/log.csv"))),
           "separator": st.one_of(junk_scalars(), st.sampled_from(("", ",,", "\n", '"', "\r"))),
           "append": junk_flags()}),
    Entry("History.plot", call_history_plot, history_plot_valid(),
          {"epochs": st.just(0), "figsize": st.one_of(junk_scalars(), st.tuples(junk_reals(), junk_reals())),
           "axes": junk_scalars()}),
]
