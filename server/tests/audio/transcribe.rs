//! The speech pipeline on real recordings: every container phones record
//! in decodes, a recording cut off mid-stream keeps what was there, and the
//! test model's transcripts stay within a 15% word error rate.

use std::time::Instant;

use fieldbook_server::speech::{self, decode, DecodeError};

use super::fixtures::*;
use super::wer::word_errors;

const MAX_WER: f64 = 0.15;

/// Transcribes every LibriVox clip in `container`; asserts the word error
/// rate over the set and prints each clip's.
fn librivox_in(container: Container) {
    let _turn = SPEECH.blocking_lock();
    let model = model();
    let (mut errors, mut words, mut audio_secs) = (0, 0, 0.0);
    let started = Instant::now();
    for (id, reference) in librivox_clips() {
        let file = converted(&librivox_wav(&id), container);
        let transcript =
            speech::transcribe(&model, std::fs::read(&file).unwrap(), container.mime_type())
                .unwrap_or_else(|err| panic!("{}: {err}", file.display()));
        assert!(!transcript.truncated, "{id}: a whole file reads as whole");
        let (clip_errors, clip_words) = word_errors(&reference, &transcript.text);
        eprintln!(
            "{container:?} {id}: WER {:.2} | {}",
            clip_errors as f64 / clip_words as f64,
            transcript.text
        );
        errors += clip_errors;
        words += clip_words;
        audio_secs += transcript.audio_secs;
    }
    let wer = errors as f64 / words as f64;
    eprintln!(
        "{container:?}: WER {wer:.3} over {words} words, {audio_secs:.1} s of audio in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(audio_secs > 20.0, "all five clips decoded: {audio_secs} s");
    assert!(wer <= MAX_WER, "{container:?}: word error rate {wer:.3}");
}

#[test]
fn librivox_clips_as_webm_opus_are_transcribed() {
    librivox_in(Container::WebmOpus);
}

#[test]
fn librivox_clips_as_mp4_aac_are_transcribed() {
    librivox_in(Container::Mp4Aac);
}

#[test]
fn librivox_clips_as_ogg_opus_are_transcribed() {
    librivox_in(Container::OggOpus);
}

/// Chromium's own MediaRecorder output (no duration, one-second clusters),
/// and the same recording re-packed as the other browsers would send it.
#[test]
fn a_real_chromium_recording_is_transcribed_in_every_container() {
    let _turn = SPEECH.blocking_lock();
    let model = model();
    let reference = reference_for("0870");
    let original = chromium_recording();
    let mut files = vec![(original.clone(), "audio/webm;codecs=opus")];
    for container in [Container::Mp4Aac, Container::OggOpus] {
        files.push((converted(&original, container), container.mime_type()));
    }
    for (file, mime_type) in files {
        let transcript = speech::transcribe(&model, std::fs::read(&file).unwrap(), mime_type)
            .unwrap_or_else(|err| panic!("{}: {err}", file.display()));
        let (errors, words) = word_errors(&reference, &transcript.text);
        let wer = errors as f64 / words as f64;
        eprintln!("{}: WER {wer:.2} | {}", file.display(), transcript.text);
        assert!(
            (6.0..8.5).contains(&transcript.audio_secs),
            "{}: {} s",
            file.display(),
            transcript.audio_secs
        );
        assert!(
            wer <= MAX_WER,
            "{}: word error rate {wer:.3}",
            file.display()
        );
    }
}

/// Each container decodes to the clip's length, at its own rate, in one
/// channel; the same file cut off part-way keeps what came before the cut.
#[test]
fn every_container_decodes_and_a_cut_off_recording_keeps_what_was_there() {
    let wav = librivox_wav("sense_and_sensibility_01_austen_64kb-0870");
    for container in Container::ALL {
        let bytes = std::fs::read(converted(&wav, container)).unwrap();
        let whole = decode(bytes.clone(), container.mime_type()).unwrap();
        let secs = whole.samples.len() as f64 / f64::from(whole.sample_rate);
        assert!(
            (6.9..7.3).contains(&secs),
            "{container:?}: {secs} s at {} Hz",
            whole.sample_rate
        );
        assert!(!whole.truncated, "{container:?}");

        // Cut at 60% of the file, mid-packet: a phone that died mid-recording.
        let cut = bytes[..bytes.len() * 6 / 10].to_vec();
        let partial = decode(cut, container.mime_type())
            .unwrap_or_else(|err| panic!("{container:?} cut off: {err}"));
        let partial_secs = partial.samples.len() as f64 / f64::from(partial.sample_rate);
        assert!(
            partial_secs > secs * 0.45 && partial_secs < secs * 0.75,
            "{container:?} cut off at 60%: {partial_secs} s of {secs} s"
        );
        // What was decoded is the start of the recording, sample for sample.
        let n = partial.samples.len().min(whole.samples.len()) / 2;
        let diff = partial.samples[..n]
            .iter()
            .zip(&whole.samples[..n])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(
            diff < 1e-4,
            "{container:?}: the kept audio differs ({diff})"
        );
    }
}

#[test]
fn a_truncated_chromium_recording_is_transcribed_up_to_the_cut() {
    let _turn = SPEECH.blocking_lock();
    let model = model();
    let bytes = std::fs::read(chromium_recording()).unwrap();
    // About the first half: the words before the cut, none after.
    let cut = bytes[..bytes.len() / 2].to_vec();
    let transcript = speech::transcribe(&model, cut, "audio/webm").unwrap();
    eprintln!("cut off: {}", transcript.text);
    let text = transcript.text.to_lowercase();
    assert!(text.contains("dashwood"), "{text}");
    assert!(!text.contains("power to do"), "{text}");
}

#[test]
fn a_file_that_is_not_a_recording_is_refused_with_a_reason() {
    let err = decode(b"%PDF-1.7 not a recording".to_vec(), "audio/webm").unwrap_err();
    assert!(matches!(err, DecodeError::UnknownFormat), "{err:?}");
    let header_only = std::fs::read(chromium_recording()).unwrap()[..200].to_vec();
    assert!(decode(header_only, "audio/webm").is_err());
}
