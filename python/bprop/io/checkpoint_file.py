"""One checkpoint file: named NumPy arrays and a JSON document in a safetensors file, saved atomically and
checked in full on load.

The safetensors metadata (str -> str) of a bprop file holds three keys:

    "format":        "bprop"   marks the file as ours (Hugging Face files say "pt", "np", ...)
    "bprop":         the manifest, JSON text: {"format", "format_version", "bprop_version",
                     "tensors": {name: {"dtype", "shape", "sha256"}}, "document": the caller's document}
    "bprop_sha256":  sha256 of the manifest text

safetensors checks offsets and sizes but not contents, so flipped bits load silently; the manifest's
checksums close that hole for the tensors and for the manifest itself. These three keys stay the same in every
format version, so any bprop can tell a corrupt file (checksum mismatch) from a newer one (format_version).

A save writes ``.<name>.<random hex>.bprop-tmp`` beside the target, then renames it over the target. A process
killed during a save leaves the old target intact and at most that one temporary file, which nothing else
reads. The next save to that target deletes such leftovers: each save holds a lock on its own temporary
while it writes, so one that nobody has locked for a minute belongs to a save that died.
"""
import hashlib
import json
import os
import secrets
import stat
import time

try:
    import fcntl
except ImportError:  # Windows: leftovers are not cleaned up there
    fcntl = None  # type: ignore[assignment]

import numpy as np
import safetensors.numpy

from .._checks import file_path
from .._version import __version__

FORMAT = "bprop"
FORMAT_VERSION = 1
TEMP_SUFFIX = ".bprop-tmp"
# A temporary untouched this long and unlocked is a dead save's: a live save locks its temporary
# microseconds after creating it, and keeps writing (touching it) until the rename.
_STALE_TEMP_SECONDS = 60

# The dtypes safetensors.numpy reads back since 0.5 (complex64 only since 0.7, so not here).
_DTYPES = frozenset(["bool", "uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64",
                     "float16", "float32", "float64"])
_RESERVED_NAME = "__metadata__"  # the safetensors header's own key
_RESERVED_KEY = "file"          # load_file puts the file layer's keys under document["file"]
_MAX_HEADER = 100_000_000       # safetensors' own limit on the JSON header
# Never turned into a CheckpointError: they say nothing about the file.
_PASS_THROUGH = (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError)


class CheckpointError(ValueError):
    """A checkpoint file that cannot be loaded (corrupt, truncated, not bprop's, another architecture).

    Its message names the file and says what is wrong. A subclass of ValueError, so code catching that
    keeps working.

    Examples
    --------
    >>> with open("broken.bprop", "wb") as f:
    ...     _ = f.write(b"not a checkpoint")
    >>> try:
    ...     bprop.load("broken.bprop")
    ... except bprop.CheckpointError as error:
    ...     print("cannot load:", isinstance(error, ValueError))
    cannot load: True
    """


def save_file(path, tensors, document):
    """Write ``tensors`` (dict name -> numpy array) and ``document`` (a JSON-able dict) to ``path`` atomically.

    The old file at ``path``, if any, stays intact until the new one is complete and on disk. The document may
    hold dicts with str keys, lists, tuples (they come back as lists), str, int, float (inf and nan too), bool
    and None; its key "file" is reserved for load_file.
    """
    path = file_path(path, "path", "save")
    _write_atomically(path, to_bytes(tensors, document))


def to_bytes(tensors, document):
    """The bytes save_file writes (safetensors with the checksummed manifest), in memory: what pickling a
    model carries. Same arguments and errors as save_file."""
    arrays = _check_tensors(tensors)
    _check_document(document)
    manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "bprop_version": __version__,
                "tensors": {name: {"dtype": a.dtype.name, "shape": list(a.shape), "sha256": _sha256(a)}
                            for name, a in arrays.items()},
                "document": document}
    text = json.dumps(manifest)  # ASCII: the checksummed bytes do not depend on how the header escapes text
    metadata = {"format": FORMAT, "bprop": text, "bprop_sha256": hashlib.sha256(text.encode()).hexdigest()}
    return safetensors.numpy.save(arrays, metadata=metadata)


def load_file(path):
    """Read a file written by save_file: ``(tensors, document)``, checked in full before returning.

    ``tensors`` is a dict name -> numpy array in the order they were saved; each array owns its memory and is
    C-contiguous and writable. ``document`` is the saved document plus ``document["file"]`` =
    ``{"format": "bprop", "format_version": int, "bprop_version": str}`` (the bprop that wrote the file).
    A missing path raises FileNotFoundError; anything else wrong with the file raises CheckpointError.
    """
    path = file_path(path, "path", "load")
    return from_bytes(_read(path), path)


def from_bytes(data, path="<bytes>"):
    """``(tensors, document)`` from to_bytes's output, checked as load_file checks a file (CheckpointError
    naming ``path``, a label for messages, for anything wrong: truncated, corrupt, tampered)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"[load_file] {path!r}: expected bytes; got {type(data).__name__}")
    data = bytes(data)
    if len(data) < 8:
        raise _error(path, f"not a safetensors file: {len(data)} bytes is too short (truncated?)")
    header_length = int.from_bytes(data[:8], "little")
    if header_length > min(len(data) - 8, _MAX_HEADER):
        raise _error(path, f"not a safetensors file, or truncated: header length {header_length} does not fit in "
                           f"{len(data)} bytes")
    try:
        header = json.loads(data[8:8 + header_length].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:  # json's errors are ValueErrors
        raise _error(path, f"not a safetensors file: its header is not JSON ({e})") from e
    if not isinstance(header, dict):
        raise _error(path, "not a safetensors file: its header is not a JSON object")
    manifest = _read_manifest(path, header.get(_RESERVED_NAME))

    listed = manifest["tensors"]
    present = [name for name in header if name != _RESERVED_NAME]
    for name in listed:
        if name not in header:
            raise _error(path, f"tensor {name!r} is listed in the metadata but missing from the file")
    for name in present:
        if name not in listed:
            raise _error(path, f"tensor {name!r} is in the file but not listed in the metadata")
    try:
        loaded = safetensors.numpy.load(data)
    except _PASS_THROUGH:
        raise
    except BaseException as e:  # SafetensorError; KeyError for a dtype NumPy lacks; a pyo3 PanicException
        raise _error(path, f"corrupt safetensors data: {type(e).__name__}: {e}") from e
    del data  # its bytes were copied into `loaded`: keep the peak at two copies of the file
    if sorted(loaded) != sorted(listed):  # safetensors and json could read a malformed header differently
        raise _error(path, "the tensors safetensors reads do not match the metadata")

    tensors = {}
    for name, spec in listed.items():
        array = loaded.pop(name)
        if array.dtype.name != spec["dtype"] or list(array.shape) != spec["shape"]:
            raise _error(path, f"tensor {name!r} is {array.dtype.name} {list(array.shape)} in the file but "
                               f"{spec['dtype']} {spec['shape']} in the metadata")
        if _sha256(array) != spec["sha256"]:
            raise _error(path, f"tensor {name!r} is corrupt: the sha256 of its bytes does not match the metadata")
        tensors[name] = np.array(array, order="C", copy=True)  # our own memory, not safetensors' buffer
    document = manifest["document"]
    document[_RESERVED_KEY] = {key: manifest[key] for key in ("format", "format_version", "bprop_version")}
    return tensors, document


def _check_tensors(tensors):
    if not isinstance(tensors, dict):
        raise TypeError(f"[save_file] tensors must be a dict of name -> numpy array; got {type(tensors).__name__}")
    arrays = {}
    for name, value in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"[save_file] tensor names must be str; got {type(name).__name__} {name!r}")
        if not name or name == _RESERVED_NAME:
            raise ValueError(f"[save_file] tensor name {name!r} is not allowed (empty or reserved by safetensors)")
        if not isinstance(value, np.ndarray):
            raise TypeError(f"[save_file] tensor {name!r} must be a numpy array; got {type(value).__name__} "
                            "(wrap scalars with np.asarray)")
        if value.dtype.name not in _DTYPES:
            raise TypeError(f"[save_file] tensor {name!r} has dtype {value.dtype}; expected one of "
                            f"{', '.join(sorted(_DTYPES))}")
        # safetensors.numpy reads the raw buffer (pointer and nbytes), so a strided view would be written
        # wrong: pass it C-contiguous and little-endian (what the file stores, so what the checksum covers).
        # np.asarray, not np.ascontiguousarray, which turns 0-d arrays into 1-d.
        arrays[name] = np.asarray(value, dtype=np.dtype(value.dtype.name).newbyteorder("<"), order="C")
    return arrays


def _check_document(document):
    if not isinstance(document, dict):
        raise TypeError(f"[save_file] document must be a dict; got {type(document).__name__}")
    if _RESERVED_KEY in document:
        raise ValueError(f"[save_file] document key {_RESERVED_KEY!r} is reserved: load_file puts the file's "
                         "format and version there")
    try:
        _check_json(document, "document")
    except RecursionError:
        raise ValueError("[save_file] document is nested too deeply or contains itself") from None


def _check_json(value, where):
    """Only what JSON gives back as it was (but tuples, which come back as lists), so that load_file returns
    the document that was saved rather than fail at save time in json or silently turn keys into str."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_json(item, f"{where}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"[save_file] {where} has key {key!r} of type {type(key).__name__}; JSON keys "
                                "are str")
            _check_json(item, f"{where}[{key!r}]")
    else:
        raise TypeError(f"[save_file] {where} is a {type(value).__name__}; expected dict, list, tuple, str, int, "
                        "float, bool or None")


def _sha256(array):
    return hashlib.sha256(array).hexdigest()  # a C-contiguous array's buffer, without a copy


def _remove_stale_temporaries(directory, name):
    """Deletes what saves to ``name`` killed mid-write left in ``directory`` (see the module's docstring)."""
    if fcntl is None:
        return
    prefix, now = f".{name[:200]}.", time.time()
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        middle = entry.name[len(prefix):-len(TEMP_SUFFIX)]
        if not (entry.name.startswith(prefix) and entry.name.endswith(TEMP_SUFFIX) and len(middle) == 8):
            continue
        try:
            if now - entry.stat(follow_symlinks=False).st_mtime < _STALE_TEMP_SECONDS or not entry.is_file():
                continue
            fd = os.open(entry.path, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # fails while its save is alive
            os.unlink(entry.path)
        except OSError:
            pass
        finally:
            os.close(fd)


def _check_target(path, directory, name):
    """Targets no save can write, refused before any work: a directory (IsADirectoryError, as open() gives),
    a name too long for the filesystem (ValueError)."""
    if os.path.isdir(path):
        raise IsADirectoryError(f"[save] {path!r:.200} is a directory; give a file name")
    try:
        limit = os.pathconf(directory, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):  # a missing directory is reported by the write itself
        limit = 255
    if len(os.fsencode(name)) > limit:
        raise ValueError(f"[save] the file name is {len(os.fsencode(name))} bytes long; this filesystem allows {limit}")


def _write_atomically(path, data):
    directory, name = os.path.split(os.path.abspath(path))
    _check_target(path, directory, name)
    _remove_stale_temporaries(directory, name)
    while True:
        # Beside the target so the rename stays on one filesystem; name[:200] keeps it under NAME_MAX.
        temp = os.path.join(directory, f".{name[:200]}.{secrets.token_hex(4)}{TEMP_SUFFIX}")
        try:  # O_EXCL: never reuse another save's file; mode 0o666 & umask, as open(path, "wb") gives
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
            break
        except FileExistsError:
            continue
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)  # held until the file closes: marks this temporary as in use
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())  # the bytes are on disk before the rename makes them the target
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


def _fsync_directory(directory):
    """Make the rename itself durable. Best effort: the file is already in place, and some systems (Windows,
    some network filesystems) cannot open or fsync a directory."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _read(path):
    """The whole file, after checking it is a regular file and that its header length fits in it."""
    try:
        # O_NONBLOCK: opening a FIFO must not hang (fstat then refuses it); it changes nothing for regular files.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise
    except OSError as e:
        raise _error(path, f"cannot open it: {e.strerror or e}") from e
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise _error(path, "is a directory, not a checkpoint file")
        if not stat.S_ISREG(st.st_mode):
            raise _error(path, "is not a regular file")
        size = st.st_size
        if size < 8:
            raise _error(path, f"not a safetensors file: {size} bytes is too short (truncated?)")
        with os.fdopen(fd, "rb", closefd=False) as f:
            header_length = int.from_bytes(f.read(8), "little")
            if header_length > min(size - 8, _MAX_HEADER):  # refuse before reading a lying length's worth
                raise _error(path, f"not a safetensors file, or truncated: header length {header_length} does "
                                   f"not fit in a file of {size} bytes")
            f.seek(0)
            data = f.read(size + 1)  # one byte more tells a file that grew since the fstat
    except OSError as e:
        raise _error(path, f"cannot read it: {e.strerror or e}") from e
    finally:
        os.close(fd)
    if len(data) != size:
        raise _error(path, f"changed size while being read ({size} bytes, then {len(data)})")
    return data


def _read_manifest(path, metadata):
    """The manifest from the header's metadata, after its checksum and version check out."""
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise _error(path, f"not a bprop checkpoint: its safetensors metadata has no \"format\": \"{FORMAT}\"")
    text, digest = metadata.get("bprop"), metadata.get("bprop_sha256")
    if not isinstance(text, str) or not isinstance(digest, str):
        raise _error(path, "corrupt: the bprop metadata is incomplete")
    # surrogatepass: a corrupt header can decode to lone surrogates; they must mismatch, not raise.
    if hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest() != digest:
        raise _error(path, "corrupt: the checksum of the bprop metadata does not match")
    try:
        manifest = json.loads(text)
        version = manifest["format_version"]
    except (ValueError, RecursionError, TypeError, KeyError) as e:
        raise _error(path, "corrupt: the bprop metadata is not the expected JSON") from e
    if type(version) is int and version > FORMAT_VERSION:
        raise _error(path, f"written by a newer bprop: format version {version}, this one reads up to "
                           f"{FORMAT_VERSION} (the file is from bprop {manifest.get('bprop_version')})")
    if not (type(version) is int and version == FORMAT_VERSION and _is_manifest_v1(manifest)):
        raise _error(path, "corrupt: the bprop metadata is not the expected JSON")
    return manifest


def _is_manifest_v1(manifest):
    tensors, document = manifest.get("tensors"), manifest.get("document")
    return (manifest.get("format") == FORMAT and isinstance(manifest.get("bprop_version"), str)
            and isinstance(document, dict) and _RESERVED_KEY not in document and isinstance(tensors, dict)
            and all(isinstance(spec, dict) and isinstance(spec.get("dtype"), str)
                    and spec["dtype"] in _DTYPES and isinstance(spec.get("sha256"), str)
                    and isinstance(spec.get("shape"), list)
                    and all(type(n) is int and n >= 0 for n in spec["shape"]) for spec in tensors.values()))


def _error(path, what):
    return CheckpointError(f"[load_file] {path!r}: {what}")
