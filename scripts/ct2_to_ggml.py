"""Convert a CTranslate2 Whisper model (faster-whisper's format) into the
ggml file whisper.cpp loads. Standard library only.

Input: CTranslate2's `model.bin` (its binary version 6, float16 or float32
weights) and `vocabulary.txt` (one byte-level BPE token a line). Output: a
ggml file with float16 matrices, as whisper.cpp's own converters write it.

The ggml file, all integers little-endian int32:

* magic 0x67676d6c ("ggml");
* hparams: n_vocab, n_audio_ctx, n_audio_state, n_audio_head,
  n_audio_layer, n_text_ctx, n_text_state, n_text_head, n_text_layer,
  n_mels, ftype (1: float16 matrices);
* mel filters: n_mels, n_fft (201), then n_mels x n_fft float32;
* vocabulary: a count, then each token's length and raw bytes;
* tensors, each: n_dims, name length, type (0 float32, 1 float16), the
  dims innermost first, the name, the data.

Where each part comes from:

* hparams are read off the tensors' shapes and the `num_heads` scalars.
* Mel filters are not in the CTranslate2 model; they are computed here as
  librosa's `filters.mel(sr=16000, n_fft=400, n_mels=N)` (Slaney mel scale
  and area normalisation) computes them: in float64, rounded to float32
  once at the end (this gives Whisper's own mel_filters.npz, bit for bit).
* The vocabulary is every token before `<|endoftext|>` in vocabulary.txt,
  mapped from GPT-2's printable byte alphabet back to raw bytes (the ranks
  are the line numbers). whisper.cpp names the special tokens itself.
* Tensors, CTranslate2 name -> ggml name (`E` = encoder/layer_i,
  `D` = decoder/layer_i, i = 0..n_layer-1; layer norm gamma/beta ->
  weight/bias):

  encoder/position_encodings/encodings   -> encoder.positional_embedding
  encoder/conv1/{weight,bias}            -> encoder.conv1.{weight,bias} (bias as [n, 1])
  encoder/conv2/{weight,bias}            -> encoder.conv2.{weight,bias} (bias as [n, 1])
  E/self_attention/layer_norm            -> encoder.blocks.i.attn_ln
  E/self_attention/linear_0 (fused q,k,v) -> encoder.blocks.i.attn.{query,key,value}
  E/self_attention/linear_1              -> encoder.blocks.i.attn.out
  E/ffn/layer_norm                       -> encoder.blocks.i.mlp_ln
  E/ffn/linear_0, E/ffn/linear_1         -> encoder.blocks.i.mlp.0, mlp.2
  encoder/layer_norm                     -> encoder.ln_post
  decoder/position_encodings/encodings   -> decoder.positional_embedding
  decoder/embeddings/weight              -> decoder.token_embedding.weight
  D/self_attention/layer_norm            -> decoder.blocks.i.attn_ln
  D/self_attention/linear_0 (fused q,k,v) -> decoder.blocks.i.attn.{query,key,value}
  D/self_attention/linear_1              -> decoder.blocks.i.attn.out
  D/attention/layer_norm                 -> decoder.blocks.i.cross_attn_ln
  D/attention/linear_0                   -> decoder.blocks.i.cross_attn.query
  D/attention/linear_1 (fused k,v)       -> decoder.blocks.i.cross_attn.{key,value}
  D/attention/linear_2                   -> decoder.blocks.i.cross_attn.out
  D/ffn/layer_norm                       -> decoder.blocks.i.mlp_ln
  D/ffn/linear_0, D/ffn/linear_1         -> decoder.blocks.i.mlp.0, mlp.2
  decoder/layer_norm                     -> decoder.ln

  Fused projections are split by rows. Whisper's key projections have no
  bias: CTranslate2 stores zeros there, which are checked and dropped.
  decoder/projection is an alias of the token embedding (whisper.cpp ties
  them too). Vectors, conv biases and positional embeddings are written
  as float32, every other matrix as float16, in the order of Whisper's
  PyTorch state dict.
"""

import math
import struct
import sys

GGML_MAGIC = 0x67676D6C
GGML_F32, GGML_F16 = 0, 1

# CTranslate2's DataType enum: id -> (struct code, bytes per value).
CT2_TYPES = {0: ("f", 4), 1: ("b", 1), 2: ("h", 2), 3: ("i", 4), 4: ("e", 2)}
CT2_FLOAT32, CT2_FLOAT16 = 0, 4

SAMPLE_RATE = 16000
N_FFT = 400


class ConversionError(Exception):
    """The input is not a CTranslate2 Whisper model this converter reads."""


class Variable:
    """One CTranslate2 variable: its shape, type id and raw little-endian bytes."""

    def __init__(self, shape, dtype, data):
        self.shape, self.dtype, self.data = tuple(shape), dtype, data

    def values(self):
        code, _ = CT2_TYPES[self.dtype]
        return struct.unpack("<%d%s" % (len(self.data) // CT2_TYPES[self.dtype][1], code), self.data)

    def scalar(self):
        if self.shape != ():
            raise ConversionError("expected a scalar, got shape %s" % (self.shape,))
        return self.values()[0]


def read_ct2(data):
    """Parses a CTranslate2 model.bin (bytes) into {name: Variable}; aliases
    resolve to the variable they name."""
    view = memoryview(data)
    offset = 0

    def take(fmt):
        nonlocal offset
        size = struct.calcsize(fmt)
        if offset + size > len(view):
            raise ConversionError("model.bin ends early, at byte %d" % offset)
        values = struct.unpack_from(fmt, view, offset)
        offset += size
        return values

    def string():
        nonlocal offset
        (length,) = take("<H")
        if length == 0 or offset + length > len(view) or view[offset + length - 1] != 0:
            raise ConversionError("model.bin has a malformed name at byte %d" % offset)
        text = bytes(view[offset:offset + length - 1]).decode("utf-8")
        offset += length
        return text

    (version,) = take("<I")
    if version != 6:
        raise ConversionError("CTranslate2 binary version %d is not supported (only 6)" % version)
    spec = string()
    if spec != "WhisperSpec":
        raise ConversionError("model.bin holds a %s, not a Whisper model" % spec)
    take("<I")  # the spec's revision
    (count,) = take("<I")
    variables = {}
    for _ in range(count):
        name = string()
        (rank,) = take("<B")
        shape = take("<%dI" % rank)
        (dtype, size) = take("<BI")
        if dtype not in CT2_TYPES:
            raise ConversionError("%s has unsupported type %d" % (name, dtype))
        if size != math.prod(shape) * CT2_TYPES[dtype][1]:
            raise ConversionError("%s: %d bytes do not fit shape %s" % (name, size, shape))
        if offset + size > len(view):
            raise ConversionError("model.bin ends early, inside %s" % name)
        variables[name] = Variable(shape, dtype, view[offset:offset + size])
        offset += size
    (aliases,) = take("<I")
    for _ in range(aliases):
        alias, target = string(), string()
        variables[alias] = variables[target]
    if offset != len(view):
        raise ConversionError("model.bin has %d bytes after its last variable" % (len(view) - offset))
    return variables


def _floats(variable, ggml_type):
    """The variable's values as ggml_type bytes (float16 kept bit for bit)."""
    if variable.dtype not in (CT2_FLOAT32, CT2_FLOAT16):
        raise ConversionError("a weight of type %d is not a float" % variable.dtype)
    wanted = CT2_FLOAT16 if ggml_type == GGML_F16 else CT2_FLOAT32
    if variable.dtype == wanted:
        return bytes(variable.data)
    values = variable.values()
    return struct.pack("<%d%s" % (len(values), CT2_TYPES[wanted][0]), *values)


def _rows(variable, start, stop):
    """Rows start..stop of a matrix (or entries of a vector), as a Variable."""
    row_bytes = len(variable.data) // variable.shape[0]
    return Variable((stop - start,) + variable.shape[1:], variable.dtype,
                    variable.data[start * row_bytes:stop * row_bytes])


def _layer_count(variables, prefix):
    count = 0
    while "%s/layer_%d/ffn/linear_0/weight" % (prefix, count) in variables:
        count += 1
    return count


def hparams(variables):
    """whisper.cpp's hparams, in file order."""
    def get(name):
        if name not in variables:
            raise ConversionError("model.bin has no %s" % name)
        return variables[name]

    conv1 = get("encoder/conv1/weight").shape  # (n_audio_state, n_mels, 3)
    audio_pos = get("encoder/position_encodings/encodings").shape
    text_pos = get("decoder/position_encodings/encodings").shape
    embeddings = get("decoder/embeddings/weight").shape
    return [
        embeddings[0], audio_pos[0], conv1[0], get("encoder/num_heads").scalar(),
        _layer_count(variables, "encoder"),
        text_pos[0], embeddings[1], get("decoder/num_heads").scalar(),
        _layer_count(variables, "decoder"),
        conv1[1], GGML_F16,
    ]


def _split(variables, name, parts, key_part):
    """Splits a fused projection (weight and bias) into `parts` equal row
    blocks; the block at key_part is a key projection, whose bias must be
    zero and is dropped. Returns [(weight, bias or None)]."""
    weight, bias = variables[name + "/weight"], variables[name + "/bias"]
    step = weight.shape[0] // parts
    out = []
    for part in range(parts):
        rows = (part * step, (part + 1) * step)
        part_bias = _rows(bias, *rows)
        if part == key_part:
            if any(part_bias.values()):
                raise ConversionError("%s: the key projection has a non-zero bias" % name)
            part_bias = None
        out.append((_rows(weight, *rows), part_bias))
    return out


def ggml_tensors(variables):
    """[(ggml name, Variable)] in Whisper's state-dict order."""
    out = []

    def add(name, variable):
        out.append((name, variable))

    def linear(name, source):
        add(name + ".weight", variables[source + "/weight"])
        add(name + ".bias", variables[source + "/bias"])

    def norm(name, source):
        add(name + ".weight", variables[source + "/gamma"])
        add(name + ".bias", variables[source + "/beta"])

    def projections(name, fused, key_part):
        for suffix, (weight, bias) in zip(("query", "key", "value"), fused):
            add("%s.%s.weight" % (name, suffix), weight)
            if bias is not None:
                add("%s.%s.bias" % (name, suffix), bias)

    def mlp(name, source):
        norm(name + ".mlp_ln", source + "/ffn/layer_norm")
        linear(name + ".mlp.0", source + "/ffn/linear_0")
        linear(name + ".mlp.2", source + "/ffn/linear_1")

    add("encoder.positional_embedding", variables["encoder/position_encodings/encodings"])
    for conv in ("conv1", "conv2"):
        add("encoder.%s.weight" % conv, variables["encoder/%s/weight" % conv])
        bias = variables["encoder/%s/bias" % conv]
        add("encoder.%s.bias" % conv, Variable(bias.shape + (1,), bias.dtype, bias.data))
    for i in range(_layer_count(variables, "encoder")):
        block, source = "encoder.blocks.%d" % i, "encoder/layer_%d" % i
        norm(block + ".attn_ln", source + "/self_attention/layer_norm")
        projections(block + ".attn", _split(variables, source + "/self_attention/linear_0", 3, 1), 1)
        linear(block + ".attn.out", source + "/self_attention/linear_1")
        mlp(block, source)
    norm("encoder.ln_post", "encoder/layer_norm")

    add("decoder.positional_embedding", variables["decoder/position_encodings/encodings"])
    add("decoder.token_embedding.weight", variables["decoder/embeddings/weight"])
    for i in range(_layer_count(variables, "decoder")):
        block, source = "decoder.blocks.%d" % i, "decoder/layer_%d" % i
        norm(block + ".attn_ln", source + "/self_attention/layer_norm")
        projections(block + ".attn", _split(variables, source + "/self_attention/linear_0", 3, 1), 1)
        linear(block + ".attn.out", source + "/self_attention/linear_1")
        norm(block + ".cross_attn_ln", source + "/attention/layer_norm")
        linear(block + ".cross_attn.query", source + "/attention/linear_0")
        key, value = _split(variables, source + "/attention/linear_1", 2, 0)
        add(block + ".cross_attn.key.weight", key[0])
        add(block + ".cross_attn.value.weight", value[0])
        add(block + ".cross_attn.value.bias", value[1])
        linear(block + ".cross_attn.out", source + "/attention/linear_2")
        mlp(block, source)
    norm("decoder.ln", "decoder/layer_norm")
    return out


def _tensor_type(name, shape):
    kept_f32 = name.endswith("positional_embedding") or name in ("encoder.conv1.bias", "encoder.conv2.bias")
    return GGML_F32 if len(shape) < 2 or kept_f32 else GGML_F16


def _f32(value):
    """Rounds a Python float to float32, as numpy does when it stores one."""
    return struct.unpack("<f", struct.pack("<f", value))[0]


def _hz_to_mel(hz):
    # Slaney's scale: linear below 1 kHz, logarithmic above.
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    if hz < min_log_hz:
        return hz / f_sp
    return min_log_hz / f_sp + math.log(hz / min_log_hz) / (math.log(6.4) / 27.0)


def _mel_to_hz(mel):
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel = min_log_hz / f_sp
    if mel < min_log_mel:
        return f_sp * mel
    return min_log_hz * math.exp(math.log(6.4) / 27.0 * (mel - min_log_mel))


def mel_filters(n_mels, sample_rate=SAMPLE_RATE, n_fft=N_FFT):
    """librosa.filters.mel(sr, n_fft, n_mels) with its defaults (fmin 0,
    fmax sr/2, Slaney scale and norm), computed in float64 and rounded to
    float32: n_mels rows of n_fft//2+1."""
    fft_freqs = [i * (1.0 / (n_fft * (1.0 / sample_rate))) for i in range(n_fft // 2 + 1)]
    # np.linspace(min_mel, max_mel, n_mels + 2): start + i * step, exact end.
    low, high = _hz_to_mel(0.0), _hz_to_mel(sample_rate / 2.0)
    count = n_mels + 2
    step = (high - low) / (count - 1)
    mels = [i * step + low for i in range(count)]
    mels[-1] = high
    mel_f = [_mel_to_hz(m) for m in mels]
    filters = []
    for i in range(n_mels):
        lower_width, upper_width = mel_f[i + 1] - mel_f[i], mel_f[i + 2] - mel_f[i + 1]
        enorm = 2.0 / (mel_f[i + 2] - mel_f[i])
        row = []
        for freq in fft_freqs:
            lower = -(mel_f[i] - freq) / lower_width
            upper = (mel_f[i + 2] - freq) / upper_width
            weight = min(lower, upper)
            # As np.maximum(0, weight) does, a negative zero is kept.
            weight = weight if weight >= 0.0 else 0.0
            row.append(_f32(weight * enorm))
        filters.append(row)
    return filters


def _byte_alphabet():
    """GPT-2's byte-level BPE alphabet: printable character -> byte."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) \
        + list(range(ord("®"), ord("ÿ") + 1))
    chars = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            chars.append(256 + extra)
            extra += 1
    return {chr(char): byte for byte, char in zip(printable, chars)}


def vocabulary_tokens(text):
    """Raw bytes of every ordinary token in vocabulary.txt (those before
    `<|endoftext|>`), in rank order."""
    lines = text.split("\n")
    if "<|endoftext|>" not in lines:
        raise ConversionError("vocabulary.txt has no <|endoftext|> token")
    alphabet = _byte_alphabet()
    tokens = []
    for rank, token in enumerate(lines[:lines.index("<|endoftext|>")]):
        try:
            tokens.append(bytes(alphabet[char] for char in token))
        except KeyError as err:
            raise ConversionError("vocabulary.txt line %d is not a byte-level token: %r" % (rank + 1, token)) from err
    return tokens


def convert(model_bin, vocabulary_text, out):
    """Writes the ggml model for CTranslate2 model.bin bytes and
    vocabulary.txt text to the binary file object `out`."""
    variables = read_ct2(model_bin)
    params = hparams(variables)
    tokens = vocabulary_tokens(vocabulary_text)
    if len(tokens) > params[0]:
        raise ConversionError("vocabulary.txt has %d tokens, the model %d" % (len(tokens), params[0]))
    try:
        tensors = ggml_tensors(variables)
    except KeyError as err:
        raise ConversionError("model.bin has no %s" % err.args[0]) from err

    out.write(struct.pack("<12i", GGML_MAGIC, *params))
    n_mels = params[9]
    filters = mel_filters(n_mels)
    out.write(struct.pack("<2i", n_mels, len(filters[0])))
    for row in filters:
        out.write(struct.pack("<%df" % len(row), *row))
    out.write(struct.pack("<i", len(tokens)))
    for token in tokens:
        out.write(struct.pack("<i", len(token)))
        out.write(token)
    for name, variable in tensors:
        ggml_type = _tensor_type(name, variable.shape)
        encoded = name.encode("utf-8")
        dims = variable.shape[::-1]
        out.write(struct.pack("<3i", len(dims), len(encoded), ggml_type))
        out.write(struct.pack("<%di" % len(dims), *dims))
        out.write(encoded)
        out.write(_floats(variable, ggml_type))


def main(argv):
    if len(argv) != 4:
        print("usage: ct2_to_ggml.py MODEL.BIN VOCABULARY.TXT OUT.BIN", file=sys.stderr)
        return 2
    with open(argv[1], "rb") as model, open(argv[2], encoding="utf-8") as vocabulary:
        model_bin, vocabulary_text = model.read(), vocabulary.read()
    try:
        with open(argv[3], "wb") as out:
            convert(model_bin, vocabulary_text, out)
    except ConversionError as err:
        print("ct2_to_ggml: %s" % err, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
