//! Checks a whisper.cpp model file before whisper.cpp sees it, and computes
//! its sha256 in the same pass. whisper.cpp trusts the file: a truncated
//! or foreign one can make it allocate what the header claims or abort the
//! process. So the magic number, the header, and the name, shape and size of
//! every tensor are checked here against what the header's dimensions call
//! for, and the file must end right after the last tensor.
//!
//! The layout (little-endian int32 throughout): magic, eleven hparams, the
//! mel filters (count, bins, floats), the vocabulary (count, then length
//! and bytes of each token), then each tensor: dims, name length, type,
//! the dims innermost first, the name, the data.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use sha2::{Digest, Sha256};

const GGML_MAGIC: u32 = 0x6767_6d6c;
/// whisper.cpp's n_fft is 400 samples: 201 frequency bins.
const MEL_BINS: i32 = 201;
/// Far above any Whisper model's dimension, far below an allocation that
/// could hurt: a header beyond this is not a Whisper model.
const MAX_DIMENSION: i32 = 1 << 20;
const MAX_TOKEN_BYTES: i32 = 1024;

#[derive(Debug, thiserror::Error)]
pub enum ModelFileError {
    #[error("cannot read it: {0}")]
    Io(#[from] std::io::Error),
    #[error("it is not a whisper.cpp (ggml) model file")]
    NotGgml,
    #[error("it ends early, in {0}: the file is cut off (an interrupted download or copy?)")]
    Truncated(String),
    #[error("its header is not a Whisper model's: {0}")]
    Header(String),
    #[error("tensor {name}: {reason}")]
    Tensor { name: String, reason: String },
    #[error("it lacks the tensor {0} (and {1} more)")]
    Missing(String, usize),
}

/// The dimensions a model's header gives, in file order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hparams {
    pub n_vocab: i32,
    pub n_audio_ctx: i32,
    pub n_audio_state: i32,
    pub n_audio_head: i32,
    pub n_audio_layer: i32,
    pub n_text_ctx: i32,
    pub n_text_state: i32,
    pub n_text_head: i32,
    pub n_text_layer: i32,
    pub n_mels: i32,
    pub ftype: i32,
}

/// What a checked model file is, for the start-up log.
#[derive(Debug, Clone)]
pub struct ModelFile {
    pub hparams: Hparams,
    pub bytes: u64,
    pub sha256: String,
}

impl ModelFile {
    /// Whisper's name for a model of these dimensions ("base", "small.en").
    pub fn kind(&self) -> String {
        let h = &self.hparams;
        let size = match (h.n_audio_layer, h.n_audio_state) {
            (4, 384) => "tiny",
            (6, 512) => "base",
            (12, 768) => "small",
            (24, 1024) => "medium",
            (32, 1280) => "large",
            _ => "custom",
        };
        // English-only models have one token fewer than multilingual ones.
        let english = if h.n_vocab == 51864 { ".en" } else { "" };
        format!("{size}{english}")
    }
}

/// Checks the model at `path`; returns its dimensions and sha256.
pub fn check(path: &Path) -> Result<ModelFile, ModelFileError> {
    let mut reader = HashingReader::new(BufReader::with_capacity(1 << 20, File::open(path)?));
    if reader.u32("the magic number")? != GGML_MAGIC {
        return Err(ModelFileError::NotGgml);
    }
    let hparams = read_hparams(&mut reader)?;

    let (n_mel, n_bins) = (
        reader.i32("the mel filters")?,
        reader.i32("the mel filters")?,
    );
    if n_mel != hparams.n_mels || n_bins != MEL_BINS {
        return Err(header(format!(
            "{n_mel} x {n_bins} mel filters for a model of {} mels",
            hparams.n_mels
        )));
    }
    reader.skip(4 * n_mel as u64 * n_bins as u64, "the mel filters")?;

    let tokens = reader.i32("the vocabulary")?;
    if !(0..=hparams.n_vocab).contains(&tokens) {
        return Err(header(format!(
            "{tokens} tokens for a vocabulary of {}",
            hparams.n_vocab
        )));
    }
    for _ in 0..tokens {
        let length = reader.i32("the vocabulary")?;
        if !(0..=MAX_TOKEN_BYTES).contains(&length) {
            return Err(header(format!("a token of {length} bytes")));
        }
        reader.skip(length as u64, "the vocabulary")?;
    }

    let mut expected = expected_tensors(&hparams);
    while !reader.at_end()? {
        read_tensor(&mut reader, &mut expected)?;
    }
    if let Some(name) = expected.keys().min() {
        return Err(ModelFileError::Missing(name.clone(), expected.len() - 1));
    }
    Ok(ModelFile {
        hparams,
        bytes: reader.count,
        sha256: hex::encode(reader.hasher.finalize()),
    })
}

fn header(reason: String) -> ModelFileError {
    ModelFileError::Header(reason)
}

fn read_hparams(reader: &mut HashingReader<impl BufRead>) -> Result<Hparams, ModelFileError> {
    let mut values = [0i32; 11];
    for value in &mut values {
        *value = reader.i32("the header")?;
    }
    let [n_vocab, n_audio_ctx, n_audio_state, n_audio_head, n_audio_layer, n_text_ctx, n_text_state, n_text_head, n_text_layer, n_mels, ftype] =
        values;
    if values[..10]
        .iter()
        .any(|value| !(1..=MAX_DIMENSION).contains(value))
    {
        return Err(header(format!("dimensions {:?}", &values[..10])));
    }
    if n_audio_state % n_audio_head != 0 || n_text_state % n_text_head != 0 {
        return Err(header("a width that its heads do not divide".into()));
    }
    Ok(Hparams {
        n_vocab,
        n_audio_ctx,
        n_audio_state,
        n_audio_head,
        n_audio_layer,
        n_text_ctx,
        n_text_state,
        n_text_head,
        n_text_layer,
        n_mels,
        ftype,
    })
}

/// Every tensor whisper.cpp loads, by name, with its dims innermost first.
fn expected_tensors(h: &Hparams) -> HashMap<String, Vec<i64>> {
    let (audio, text) = (i64::from(h.n_audio_state), i64::from(h.n_text_state));
    let mut tensors = HashMap::new();
    let mut add = |name: String, dims: &[i64]| {
        tensors.insert(name, dims.to_vec());
    };
    add(
        "encoder.positional_embedding".into(),
        &[audio, h.n_audio_ctx.into()],
    );
    add("encoder.conv1.weight".into(), &[3, h.n_mels.into(), audio]);
    add("encoder.conv1.bias".into(), &[1, audio]);
    add("encoder.conv2.weight".into(), &[3, audio, audio]);
    add("encoder.conv2.bias".into(), &[1, audio]);
    add("encoder.ln_post.weight".into(), &[audio]);
    add("encoder.ln_post.bias".into(), &[audio]);
    add(
        "decoder.positional_embedding".into(),
        &[text, h.n_text_ctx.into()],
    );
    add(
        "decoder.token_embedding.weight".into(),
        &[text, h.n_vocab.into()],
    );
    add("decoder.ln.weight".into(), &[text]);
    add("decoder.ln.bias".into(), &[text]);
    let mut block = |prefix: String, width: i64, attentions: &[&str]| {
        let norms = attentions.iter().map(|a| format!("{a}_ln"));
        for part in norms.chain(["mlp_ln".to_owned()]) {
            add(format!("{prefix}.{part}.weight"), &[width]);
            add(format!("{prefix}.{part}.bias"), &[width]);
        }
        for attention in attentions {
            for projection in ["query", "key", "value", "out"] {
                let name = format!("{prefix}.{attention}.{projection}");
                add(format!("{name}.weight"), &[width, width]);
                if projection != "key" {
                    add(format!("{name}.bias"), &[width]);
                }
            }
        }
        add(format!("{prefix}.mlp.0.weight"), &[width, 4 * width]);
        add(format!("{prefix}.mlp.0.bias"), &[4 * width]);
        add(format!("{prefix}.mlp.2.weight"), &[4 * width, width]);
        add(format!("{prefix}.mlp.2.bias"), &[width]);
    };
    for i in 0..h.n_audio_layer {
        block(format!("encoder.blocks.{i}"), audio, &["attn"]);
    }
    for i in 0..h.n_text_layer {
        block(format!("decoder.blocks.{i}"), text, &["attn", "cross_attn"]);
    }
    tensors
}

/// Reads one tensor's header, checks it against `expected` (and removes
/// it there), and skips its data.
fn read_tensor(
    reader: &mut HashingReader<impl BufRead>,
    expected: &mut HashMap<String, Vec<i64>>,
) -> Result<(), ModelFileError> {
    let what = "a tensor's header";
    let (n_dims, name_length, kind) = (reader.i32(what)?, reader.i32(what)?, reader.i32(what)?);
    if !(1..=4).contains(&n_dims) || !(1..=256).contains(&name_length) {
        return Err(header(format!(
            "a tensor of {n_dims} dimensions with a {name_length}-byte name"
        )));
    }
    let mut dims = Vec::with_capacity(n_dims as usize);
    for _ in 0..n_dims {
        dims.push(i64::from(reader.i32(what)?));
    }
    let mut name = vec![0; name_length as usize];
    reader.exact(&mut name, what)?;
    let name = String::from_utf8_lossy(&name).into_owned();
    let fail = |reason: String| ModelFileError::Tensor {
        name: name.clone(),
        reason,
    };
    let Some(want) = expected.remove(&name) else {
        return Err(fail("not a tensor of this model (or given twice)".into()));
    };
    if dims != want {
        return Err(fail(format!(
            "has dims {dims:?}, the header calls for {want:?}"
        )));
    }
    let (block, block_bytes) =
        block_size(kind).ok_or_else(|| fail(format!("has unsupported type {kind}")))?;
    let elements: i64 = dims.iter().product();
    if dims[0] % block != 0 {
        return Err(fail(format!("rows of {} do not fit type {kind}", dims[0])));
    }
    reader.skip((elements / block * block_bytes) as u64, &name)
}

/// (values per block, bytes per block) of the ggml types whisper.cpp's
/// models use: f32, f16 and the 4-, 5- and 8-bit quantisations.
fn block_size(kind: i32) -> Option<(i64, i64)> {
    Some(match kind {
        0 => (1, 4),
        1 => (1, 2),
        2 => (32, 18),
        3 => (32, 20),
        6 => (32, 22),
        7 => (32, 24),
        8 => (32, 34),
        _ => return None,
    })
}

/// Reads the file once, hashing every byte and counting them.
struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    count: u64,
}

impl<R: BufRead> HashingReader<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }

    fn exact(&mut self, buf: &mut [u8], what: &str) -> Result<(), ModelFileError> {
        self.inner.read_exact(buf).map_err(|err| match err.kind() {
            std::io::ErrorKind::UnexpectedEof => ModelFileError::Truncated(what.to_owned()),
            _ => ModelFileError::Io(err),
        })?;
        self.hasher.update(&*buf);
        self.count += buf.len() as u64;
        Ok(())
    }

    fn u32(&mut self, what: &str) -> Result<u32, ModelFileError> {
        let mut bytes = [0; 4];
        self.exact(&mut bytes, what)?;
        Ok(u32::from_le_bytes(bytes))
    }

    fn i32(&mut self, what: &str) -> Result<i32, ModelFileError> {
        Ok(self.u32(what)? as i32)
    }

    fn skip(&mut self, mut len: u64, what: &str) -> Result<(), ModelFileError> {
        let mut buf = vec![0; 1 << 16];
        while len > 0 {
            let n = len.min(buf.len() as u64) as usize;
            self.exact(&mut buf[..n], what)?;
            len -= n as u64;
        }
        Ok(())
    }

    fn at_end(&mut self) -> Result<bool, ModelFileError> {
        Ok(self.inner.fill_buf()?.is_empty())
    }
}
