//! Recordings to samples: symphonia reads the containers (Matroska/WebM, ISO
//! MP4, Ogg) and decodes AAC; Opus goes through the system libopus via
//! `symphonia-adapter-libopus`. Channels are averaged into one.
//!
//! A phone that loses power or a tab that crashes leaves a recording cut off
//! mid-stream; whatever decodes before the break is kept rather than the
//! whole file being refused.

use std::io::Cursor;
use std::sync::OnceLock;

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{CodecRegistry, DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::{MediaSourceStream, ReadOnlySource};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

/// Mono samples in [-1, 1] at the recording's own rate.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub samples: Vec<f32>,
    pub sample_rate: u32,
    /// The stream ended with an error (cut off or damaged) after some audio.
    pub truncated: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("the recording is not in a format the server can read (WebM, MP4 or Ogg)")]
    UnknownFormat,
    #[error("the recording has no audio track the server can decode")]
    NoAudio,
    #[error("the recording is damaged or incomplete and no audio could be read from it")]
    Damaged,
}

fn codecs() -> &'static CodecRegistry {
    static CODECS: OnceLock<CodecRegistry> = OnceLock::new();
    CODECS.get_or_init(|| {
        let mut registry = CodecRegistry::new();
        symphonia::default::register_enabled_codecs(&mut registry);
        registry.register_all::<symphonia_adapter_libopus::OpusDecoder>();
        registry
    })
}

fn hint_for(mime_type: &str) -> Hint {
    let mut hint = Hint::new();
    let essence = mime_type.split(';').next().unwrap_or("").trim();
    let extension = match essence.to_ascii_lowercase().as_str() {
        "audio/webm" | "video/webm" => Some("webm"),
        "audio/mp4" | "video/mp4" | "audio/x-m4a" | "audio/aac" => Some("mp4"),
        "audio/ogg" | "audio/opus" => Some("ogg"),
        _ => None,
    };
    if let Some(extension) = extension {
        hint.with_extension(extension);
    }
    hint
}

/// The four bytes every Matroska/WebM file starts with (the EBML header ID).
const EBML_MAGIC: [u8; 4] = [0x1a, 0x45, 0xdf, 0xa3];

/// Decodes a whole recording held in memory.
pub fn decode(bytes: Vec<u8>, mime_type: &str) -> Result<Decoded, DecodeError> {
    // A damaged file must cost one failed job, never the worker: symphonia
    // asserts on some malformed input instead of returning an error.
    let attempt = |bytes: Vec<u8>| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            decode_inner(bytes, mime_type)
        }))
        .unwrap_or(Err(DecodeError::Damaged))
    };
    if bytes.starts_with(&EBML_MAGIC) {
        return attempt(bytes);
    }
    let repaired = close_cut_off_mp4(&bytes);
    match (attempt(bytes), repaired) {
        (Ok(decoded), _) => Ok(decoded),
        (Err(_), Some(repaired)) => attempt(repaired).map(|decoded| Decoded {
            truncated: true,
            ..decoded
        }),
        (Err(err), None) => Err(err),
    }
}

/// An MP4 recording cut off mid-stream (Safari writes fragmented MP4: a
/// `moof` and `mdat` box per piece) ends inside a box, and the MP4 reader
/// refuses the whole file. If the file is made of MP4 boxes and the last is
/// cut off, returns a copy where a cut-off `mdat` claims only the bytes it
/// has (its samples up to the cut still decode) and any other cut-off box is
/// dropped. None if nothing needed closing or the bytes are not MP4.
fn close_cut_off_mp4(bytes: &[u8]) -> Option<Vec<u8>> {
    if bytes.get(4..8) != Some(b"ftyp".as_slice()) {
        return None;
    }
    let mut at = 0usize;
    while at + 8 <= bytes.len() {
        let size32 = u32::from_be_bytes(bytes[at..at + 4].try_into().ok()?) as u64;
        let kind = &bytes[at + 4..at + 8];
        let (size, header) = match size32 {
            // To the end of the file: complete by definition.
            0 => return None,
            1 => {
                let large = bytes.get(at + 8..at + 16)?;
                (u64::from_be_bytes(large.try_into().ok()?), 16)
            }
            size => (size, 8),
        };
        if size < header as u64 {
            return None; // not MP4 boxes after all
        }
        let end = at as u64 + size;
        if end <= bytes.len() as u64 {
            at = end as usize;
            continue;
        }
        let mut closed = bytes.to_vec();
        if kind == b"mdat" && header == 8 {
            let have = (bytes.len() - at) as u32;
            closed[at..at + 4].copy_from_slice(&have.to_be_bytes());
        } else {
            closed.truncate(at);
        }
        return Some(closed);
    }
    // A few stray bytes of a next box header.
    (at < bytes.len()).then(|| bytes[..at].to_vec())
}

fn decode_inner(bytes: Vec<u8>, mime_type: &str) -> Result<Decoded, DecodeError> {
    // WebM is read front to back, as it was recorded: given a seekable
    // stream, the Matroska reader jumps to the index at the end, which a
    // recording cut off mid-stream does not have.
    let stream = if bytes.starts_with(&EBML_MAGIC) {
        MediaSourceStream::new(
            Box::new(ReadOnlySource::new(Cursor::new(bytes))),
            Default::default(),
        )
    } else {
        MediaSourceStream::new(Box::new(Cursor::new(bytes)), Default::default())
    };
    let probed = symphonia::default::get_probe()
        .format(
            &hint_for(mime_type),
            stream,
            &FormatOptions {
                enable_gapless: true,
                ..Default::default()
            },
            &MetadataOptions::default(),
        )
        .map_err(|err| match err {
            // A file cut off inside its headers reads as an I/O error.
            SymphoniaError::IoError(_) => DecodeError::Damaged,
            _ => DecodeError::UnknownFormat,
        })?;
    let mut format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|track| track.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or(DecodeError::NoAudio)?;
    let track_id = track.id;
    let mut sample_rate = track.codec_params.sample_rate;
    let mut decoder = codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(|_| DecodeError::NoAudio)?;

    let mut samples = Vec::new();
    let mut truncated = false;
    let mut interleaved: Option<SampleBuffer<f32>> = None;
    loop {
        let packet = match format.next_packet() {
            Ok(packet) => packet,
            // The normal end of a stream.
            Err(SymphoniaError::IoError(err))
                if err.kind() == std::io::ErrorKind::UnexpectedEof =>
            {
                break
            }
            Err(SymphoniaError::ResetRequired) => break,
            Err(_) => {
                truncated = true;
                break;
            }
        };
        if packet.track_id() != track_id {
            continue;
        }
        let audio = match decoder.decode(&packet) {
            Ok(audio) => audio,
            // One bad packet (often the last, cut short): skip it.
            Err(SymphoniaError::DecodeError(_) | SymphoniaError::IoError(_)) => {
                truncated = true;
                continue;
            }
            Err(_) => return Err(DecodeError::Damaged),
        };
        let spec = *audio.spec();
        sample_rate = Some(spec.rate);
        let channels = spec.channels.count().max(1);
        let frames = audio.frames();
        if frames == 0 {
            continue;
        }
        if interleaved
            .as_ref()
            .is_none_or(|buffer| buffer.capacity() < frames * channels)
        {
            interleaved = Some(SampleBuffer::new(audio.capacity() as u64, spec));
        }
        let buffer = interleaved.as_mut().expect("made just above");
        buffer.copy_interleaved_ref(audio);
        let scale = 1.0 / channels as f32;
        samples.extend(
            buffer
                .samples()
                .chunks_exact(channels)
                .map(|frame| frame.iter().sum::<f32>() * scale),
        );
    }
    let sample_rate = sample_rate.ok_or(DecodeError::NoAudio)?;
    if samples.is_empty() {
        return Err(DecodeError::Damaged);
    }
    Ok(Decoded {
        samples,
        sample_rate,
        truncated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mp4_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn a_cut_off_mp4_is_closed_at_its_last_whole_box() {
        let mut file = mp4_box(b"ftyp", b"isom");
        file.extend(mp4_box(b"moov", &[0; 20]));
        let whole_len = file.len();
        file.extend(mp4_box(b"moof", &[1; 30]));
        assert_eq!(close_cut_off_mp4(&file), None, "nothing cut off");
        // Cut inside a moof: the moof goes.
        assert_eq!(
            close_cut_off_mp4(&file[..whole_len + 20]).unwrap().len(),
            whole_len
        );
        // Cut inside an mdat: it keeps what it has.
        let moof_end = file.len();
        file.extend(mp4_box(b"mdat", &[2; 100]));
        let closed = close_cut_off_mp4(&file[..moof_end + 58]).unwrap();
        assert_eq!(closed.len(), moof_end + 58);
        assert_eq!(&closed[moof_end..moof_end + 4], &58u32.to_be_bytes());
        assert_eq!(close_cut_off_mp4(b"not an mp4 file at all"), None);
    }

    #[test]
    fn bytes_that_are_no_recording_are_refused_with_a_reason() {
        let err = decode(
            b"this is not audio at all, just text".to_vec(),
            "audio/webm",
        )
        .unwrap_err();
        assert!(
            matches!(err, DecodeError::UnknownFormat | DecodeError::Damaged),
            "{err:?}"
        );
        assert!(decode(Vec::new(), "").is_err());
    }
}
