//! Sample-rate conversion by windowed-sinc interpolation (band-limited, so
//! speech above the new Nyquist frequency does not fold back as noise).
//!
//! The ratio between two integer rates is rational, L/M in lowest terms, so
//! every output sample falls at one of L fractional positions between input
//! samples; the filter for each position is computed once.

use std::f64::consts::PI;

/// Zero crossings of the sinc kept on each side of the centre: the filter's
/// sharpness. 16 gives a transition band of a few hundred hertz.
const ZERO_CROSSINGS: f64 = 16.0;
/// Cut off a little below the lower Nyquist frequency so the transition band
/// lies inside the passband of the new rate rather than across it.
const CUTOFF_MARGIN: f64 = 0.94;

/// Converts mono `input` from `from` Hz to `to` Hz.
pub fn resample(input: &[f32], from: u32, to: u32) -> Vec<f32> {
    if from == to || input.is_empty() || from == 0 || to == 0 {
        return input.to_vec();
    }
    let common = gcd(from, to);
    let (up, down) = ((to / common) as usize, (from / common) as usize);
    // Cutoff as a fraction of the input rate's Nyquist frequency.
    let cutoff = (f64::from(to) / f64::from(from)).min(1.0) * CUTOFF_MARGIN;
    let half = (ZERO_CROSSINGS / cutoff).ceil() as isize;
    let filters: Vec<Vec<f32>> = (0..up)
        .map(|phase| filter(phase as f64 / up as f64, half, cutoff))
        .collect();

    let out_len = (input.len() as u64 * up as u64 / down as u64) as usize;
    let mut output = Vec::with_capacity(out_len);
    let last = input.len() as isize - 1;
    for n in 0..out_len {
        let position = n * down;
        let (centre, phase) = ((position / up) as isize, position % up);
        let taps = &filters[phase];
        let first = centre - half + 1;
        let mut sum = 0.0f32;
        if first >= 0 && first + taps.len() as isize - 1 <= last {
            let window = &input[first as usize..first as usize + taps.len()];
            sum = window.iter().zip(taps).map(|(x, w)| x * w).sum();
        } else {
            // Near either end: samples outside the recording count as silence.
            for (k, w) in taps.iter().enumerate() {
                let index = first + k as isize;
                if (0..=last).contains(&index) {
                    sum += input[index as usize] * w;
                }
            }
        }
        output.push(sum);
    }
    output
}

/// Taps for an output sample `frac` of the way from input sample `centre` to
/// the next: input samples `centre - half + 1 ..= centre + half`.
fn filter(frac: f64, half: isize, cutoff: f64) -> Vec<f32> {
    (-half + 1..=half)
        .map(|k| {
            let x = k as f64 - frac;
            let window = blackman(x / half as f64);
            (cutoff * sinc(cutoff * x) * window) as f32
        })
        .collect()
}

fn sinc(x: f64) -> f64 {
    if x.abs() < 1e-12 {
        1.0
    } else {
        (PI * x).sin() / (PI * x)
    }
}

/// Blackman window over -1..=1.
fn blackman(t: f64) -> f64 {
    if t.abs() >= 1.0 {
        return 0.0;
    }
    let phase = PI * (t + 1.0);
    0.42 - 0.5 * phase.cos() + 0.08 * (2.0 * phase).cos()
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(freq: f64, rate: u32, secs: f64) -> Vec<f32> {
        let n = (f64::from(rate) * secs) as usize;
        (0..n)
            .map(|i| (2.0 * PI * freq * i as f64 / f64::from(rate)).sin() as f32 * 0.5)
            .collect()
    }

    /// Root mean square away from the edges.
    fn rms(samples: &[f32]) -> f64 {
        let middle = &samples[samples.len() / 4..samples.len() * 3 / 4];
        (middle.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>() / middle.len() as f64).sqrt()
    }

    #[test]
    fn a_tone_in_the_passband_keeps_its_shape_and_loudness() {
        for from in [48_000, 44_100, 22_050, 8_000] {
            let out = resample(&tone(440.0, from, 1.0), from, 16_000);
            assert_eq!(out.len(), 16_000, "{from} Hz");
            let ideal = tone(440.0, 16_000, 1.0);
            let error: Vec<f32> = out.iter().zip(&ideal).map(|(a, b)| a - b).collect();
            assert!(rms(&error) < 0.005, "{from} Hz: error {}", rms(&error));
        }
    }

    #[test]
    fn a_tone_above_the_new_nyquist_frequency_is_removed_not_aliased() {
        // 10 kHz would fold back to 6 kHz at 16 kHz without the filter.
        let out = resample(&tone(10_000.0, 48_000, 1.0), 48_000, 16_000);
        assert!(rms(&out) < 0.002, "leaked {}", rms(&out));
        let out = resample(&tone(12_000.0, 44_100, 1.0), 44_100, 16_000);
        assert!(rms(&out) < 0.002, "leaked {}", rms(&out));
    }

    #[test]
    fn the_same_rate_is_a_copy() {
        let input = tone(100.0, 16_000, 0.1);
        assert_eq!(resample(&input, 16_000, 16_000), input);
    }
}
