#!/bin/sh
# A one-minute voice note for the speech benchmark: the five LibriVox clips
# of Debian's pocketsphinx-testdata twice over, each followed by a pause of
# about a second, encoded as the app records (WebM/Opus, 32 kbit/s, mono).
#
#   scripts/minute_note.sh OUT.webm
set -eu
out=$1
clips=/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb
inputs="" filters="" joined="" n=0
for round in 1 2; do
    for id in 0870 0880 0890 0920 0930; do
        inputs="$inputs -i $clips-$id.wav"
        filters="$filters[$n:a]apad=pad_dur=1.05[a$n];"
        joined="$joined[a$n]"
        n=$((n + 1))
    done
done
# shellcheck disable=SC2086 # $inputs is a list of arguments
ffmpeg -v error -y $inputs -filter_complex "${filters}${joined}concat=n=$n:v=0:a=1[out]" \
    -map "[out]" -ar 48000 -ac 1 -c:a libopus -b:a 32k "$out"
