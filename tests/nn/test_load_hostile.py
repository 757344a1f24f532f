"""load_model on crafted files: what a file claims costs nothing until the file backs it.

A few hundred bytes naming ``LSTM(4000)`` or two ``Dense(30000)``, or a 2 MB deflate bomb
that inflates to 2 GiB, must fail within a fraction of a second and a few megabytes, with a
message that says what is wrong (issue 17, defect 4); a saved optimiser state with NaN must be
refused (defect 8); and ``save`` keeps the umask's mode or the existing file's (defect 10).
"""

from __future__ import annotations

import io
import json
import os
import stat
import struct
import time
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest

from fastrnn import layers, optimizers
from fastrnn.nn import seeding
from fastrnn.nn.saving import MAX_INFLATED_BYTES, load_model
from fastrnn.nn.sequential import Sequential

SECONDS = 0.5          # "well under a second", with room for a loaded CI machine
PEAK_BYTES = 20 << 20  # traced allocations while loading


def header_of(path):
    with zipfile.ZipFile(path) as z:
        return json.loads(np.load(z.open("fastrnn_model.json.npy")).tobytes())


def write_npz(path, header, arrays):
    """A model file as save writes it (stored entries), with this header and these arrays."""
    members = {"fastrnn_model.json.npy": npy_bytes(np.frombuffer(json.dumps(header).encode(),
                                                                   np.uint8))}
    members.update({f"{k}.npy": npy_bytes(v) for k, v in arrays.items()})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def npy_bytes(a):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(a), allow_pickle=False)
    return buf.getvalue()


def npy_header_only(shape, descr="<f4"):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False,
                                               "shape": tuple(shape)})
    return buf.getvalue()


def small_model_file(tmp_path, stack, name="small"):
    m = Sequential(stack)
    p = tmp_path / name
    m.save(p)
    return m, p


def crafted(tmp_path, stack, edit, name="crafted"):
    """A file with the weights of the small model `stack` under the header `edit` makes."""
    m, p = small_model_file(tmp_path, stack, name + "-orig")
    header = header_of(p)
    edit(header["model"]["config"])
    arrays = {f"weight_{i:05d}": w for i, w in enumerate(m.get_weights())}
    return write_npz(tmp_path / name, header, arrays)


def measure_failure(path, match):
    tracemalloc.start()
    t = time.perf_counter()
    try:
        with pytest.raises(ValueError, match=match) as info:
            load_model(path)
        seconds = time.perf_counter() - t
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "not a readable fastrnn model file" in str(info.value)
    assert seconds < SECONDS, f"{seconds:.2f} s"
    assert peak < PEAK_BYTES, f"{peak / 2**20:.1f} MiB"
    return str(info.value)


def set_units(units, first=0):
    def edit(config):
        config["layers"][first]["config"]["units"] = units
    return edit


def test_tiny_file_naming_lstm_4000_fails_at_once(tmp_path):
    p = crafted(tmp_path, [layers.LSTM(1, input_shape=(None, 1)), layers.Dense(1)],
                set_units(4000))
    assert os.path.getsize(p) < 4096
    msg = measure_failure(p, "do not match")
    assert "(1, 16000)" in msg and "(1, 4)" in msg


def test_tiny_file_naming_lstm_4000_without_weights_fails_at_once(tmp_path):
    _, p = small_model_file(tmp_path, [layers.LSTM(1, input_shape=(None, 1))])
    header = header_of(p)
    header["model"]["config"]["layers"][0]["config"]["units"] = 4000
    header["n_weights"] = 0
    measure_failure(write_npz(tmp_path / "none", header, {}), "needs more weight arrays")


def test_entries_whose_headers_claim_more_than_they_hold_fail_at_once(tmp_path):
    """The .npy headers declare the full LSTM(4000) shapes; the entries hold no data."""
    _, p = small_model_file(tmp_path, [layers.LSTM(1, input_shape=(None, 1))])
    header = header_of(p)
    header["model"]["config"]["layers"][0]["config"]["units"] = 4000
    out = tmp_path / "hollow"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        z.writestr("fastrnn_model.json.npy",
                   npy_bytes(np.frombuffer(json.dumps(header).encode(), np.uint8)))
        for i, shape in enumerate([(1, 16000), (4000, 16000), (16000,)]):
            z.writestr(f"weight_{i:05d}.npy", npy_header_only(shape))
    measure_failure(out, r"declares shape \(1, 16000\)")


def test_tiny_file_naming_two_dense_30000_fails_at_once(tmp_path):
    def edit(config):
        config["layers"][0]["config"]["input_shape"] = [30000]
        config["layers"][0]["config"]["units"] = 30000
        config["layers"][1]["config"]["units"] = 30000
    p = crafted(tmp_path, [layers.Dense(1, input_shape=(1,)), layers.Dense(1)], edit)
    measure_failure(p, r"\(30000, 30000\)")


def raw_zip(path, members):
    """A zip written field by field: (name, stored bytes, declared size, crc, method)."""
    out, central = bytearray(), bytearray()
    for name, data, size, crc, method in members:
        nm, off = name.encode(), len(out)
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 0, crc, len(data),
                           size, len(nm), 0) + nm + data
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, method, 0, 0, crc,
                               len(data), size, len(nm), 0, 0, 0, 0, 0, off) + nm
    n = len(members)
    out += central + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, n, n, len(central), len(out), 0)
    path.write_bytes(bytes(out))
    return path


def deflate_bomb(gib=2):
    """(raw deflate stream, size) of a .npy float64 array of `gib` GiB of zeros: after a full
    flush every MiB of zeros compresses to the same bytes, so the stream is built by repetition
    (about 1 KB per MiB: a 2 MB file for 2 GiB) without compressing gigabytes here."""
    n = (gib << 30) // 8
    head = npy_header_only((n,), "<f8")
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(head) + c.flush(zlib.Z_FULL_FLUSH)
    chunk = c.compress(bytes(1 << 20)) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(bytes(1 << 20)) + c.flush(zlib.Z_FULL_FLUSH)
    assert chunk == again
    stream = first + chunk * (gib << 10) + c.flush(zlib.Z_FINISH)
    return stream, len(head) + (gib << 30)


def test_deflate_bomb_fails_from_the_directory(tmp_path):
    _, p = small_model_file(tmp_path, [layers.Dense(1, input_shape=(1,))])
    header = header_of(p)
    header["n_weights"] = 1
    stream, size = deflate_bomb(2)
    hbytes = npy_bytes(np.frombuffer(json.dumps(header).encode(), np.uint8))
    out = raw_zip(tmp_path / "bomb", [
        ("fastrnn_model.json.npy", hbytes, len(hbytes), zlib.crc32(hbytes), 0),
        ("weight_00000.npy", stream, size, 0, zipfile.ZIP_DEFLATED)])
    assert 1.5e6 < os.path.getsize(out) < 3e6
    # the bomb is real: its first megabyte inflates as declared
    assert len(zlib.decompressobj(-15).decompress(stream[:4096], 1 << 20)) == 1 << 20
    msg = measure_failure(out, "would inflate to more than")
    assert str(size) in msg and str(MAX_INFLATED_BYTES >> 20) in msg


def test_stored_entry_claiming_more_than_the_file_fails(tmp_path):
    _, p = small_model_file(tmp_path, [layers.Dense(1, input_shape=(1,))])
    header = header_of(p)
    header["n_weights"] = 1
    hbytes = npy_bytes(np.frombuffer(json.dumps(header).encode(), np.uint8))
    head = npy_header_only((1 << 28,), "<f8")
    out = raw_zip(tmp_path / "liar", [
        ("fastrnn_model.json.npy", hbytes, len(hbytes), zlib.crc32(hbytes), 0),
        ("weight_00000.npy", head, len(head) + (2 << 30), 0, 0)])
    measure_failure(out, "more than the file")


def test_real_files_load_without_running_the_initialisers(tmp_path):
    """A real file loads in about the time of reading it: the initialisers (an orthogonal
    recurrent kernel is a QR decomposition), whose values are overwritten at once, are
    skipped, so they draw nothing from the global generator. A wrapper's weights (the
    children's) are planned too."""
    middle = (layers.Bidirectional(layers.GRU(3)) if hasattr(layers, "Bidirectional")
              else layers.GRU(3))
    m = Sequential([layers.LSTM(32, input_shape=(None, 2), return_sequences=True), middle,
                    layers.Dense(1)])
    m.save(tmp_path / "big")
    before = seeding.generator().bit_generator.state
    r = load_model(tmp_path / "big")
    assert seeding.generator().bit_generator.state == before      # no initialiser drew
    for a, b in zip(r.get_weights(), m.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert r.get_config() == m.get_config()


def test_nan_optimizer_state_is_refused_at_load(tmp_path):
    m = Sequential([layers.Dense(2, input_shape=(3,)), layers.Dense(1)])
    m.compile(optimizer=optimizers.Adam(), loss="mse")
    m.fit(np.ones((8, 3)), np.ones((8, 1)), epochs=1, verbose=0, fused=False)
    m.optimizer.state()[1][3] = np.nan
    m.save(tmp_path / "nan")
    with pytest.raises(ValueError, match="optimizer state contains NaN or inf"):
        load_model(tmp_path / "nan")
    r = load_model(tmp_path / "nan", compile=False)   # the weights alone are fine
    np.testing.assert_array_equal(r.get_weights()[0], m.get_weights()[0])


def test_optimizer_state_of_the_wrong_size_is_refused_before_building(tmp_path):
    m = Sequential([layers.Dense(2, input_shape=(3,))])
    m.compile(optimizer="adam", loss="mse")
    m.fit(np.ones((4, 3)), np.ones((4, 2)), epochs=1, verbose=0, fused=False)
    m.save(tmp_path / "m")
    header = header_of(tmp_path / "m")
    arrays = {"weight_00000": m.get_weights()[0], "weight_00001": m.get_weights()[1],
              "optstate_00000": np.zeros(10 ** 6, np.float32),
              "optstate_00001": np.zeros(8, np.float32)}
    with pytest.raises(ValueError, match="optimizer state does not match"):
        load_model(write_npz(tmp_path / "s", header, arrays))


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(p):
    return stat.S_IMODE(os.stat(p).st_mode)


def test_save_keeps_the_umask_mode_and_an_existing_files_mode(tmp_path, umask_022):
    m = Sequential([layers.Dense(1, input_shape=(2,))])
    p = tmp_path / "m.npz"
    m.save(p)
    assert mode(p) == 0o644
    os.chmod(p, 0o640)
    m.save(p)
    assert mode(p) == 0o640
    os.umask(0o077)
    m.save(tmp_path / "private.npz")
    assert mode(tmp_path / "private.npz") == 0o600
    assert sorted(os.listdir(tmp_path)) == ["m.npz", "private.npz"]   # no temporary left


def test_a_keras_archive_that_would_inflate_too_far_is_refused(tmp_path):
    """A .keras file whose config.json deflates from a few hundred KB to 200 MB: refused from
    the zip directory, before anything is inflated."""
    path = tmp_path / "bomb.keras"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("metadata.json", "{}")
        with z.open("config.json", "w") as f:
            chunk = b" " * (1 << 20)
            for _ in range(200):
                f.write(chunk)
        z.writestr("model.weights.h5", b"")
    assert path.stat().st_size < 2 << 20
    tracemalloc.start()
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match="would inflate to"):
        load_model(path)
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert elapsed < 1.0 and peak < MAX_INFLATED_BYTES // 4, (elapsed, peak)
