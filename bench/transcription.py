"""Benchmark of transcription: a 4-speaker meeting of generated speech, post-meeting and
live-caption estimates, with the real tiny.en model on the CPU.

espeak-ng says 16 known sentences in four voices, taking turns (about 60 s of speech);
each speaker's audio becomes an Opus WebM track on the session's clock, as a track
recording would be. Then:

  post-meeting  salon.ai.posthoc.transcribe_session over the four tracks (model already
                loaded): word error rate of the merged transcript against the script,
                how many lines went to the right speaker, the real-time factor (session
                length / wall time) and the process CPU (% of one core, user+sys).
  live          an estimate, not a live run: every sentence is transcribed once as a
                VAD-chunked utterance to measure its service time; then K speakers who
                talk at the same time without pause (turns of the 16 sentences, 0.6 s
                apart) feed one recognizer worker (FIFO, `--threads` CPU threads) that
                transcribes each utterance once its end is detected (`--endpoint-s`
                of silence). Caption latency = end of utterance -> final text. The
                largest K whose p95 stays under `--max-latency-s` is `live_speakers`.
                Interim (partial) captions are not modelled; they would add load.

The last line is one JSON object: `wer`, `posthoc_realtime_factor`, `posthoc_cpu_pct`,
`caption_latency_p50_s`, `caption_latency_p95_s`, `live_speakers`, ... Targets on 2
cores: wer <= 0.10, post-meeting >= 10x real time, caption p50 <= 1.5 s, >= 4 speakers.

    .venv/bin/python bench/transcription.py [--threads 2] [--max-speakers 12]
"""

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.speech import place, say, write_opus_webm  # noqa: E402

from salon.ai.posthoc import TrackAudio, TranscriptionOptions, transcribe_session  # noqa: E402
from salon.ai.recognizer import SAMPLE_RATE, Recognizer  # noqa: E402
from salon.ai.wer import edit_distance, wer, words  # noqa: E402

VOICES = {"Alice": "en-us", "Bob": "en-gb", "Carol": "en-us+f3", "Dan": "en-gb-x-rp+m3"}
SCRIPT = [
    ("Alice", "Good morning everyone, thanks for joining the weekly planning call."),
    ("Bob", "Morning. I finished the review of the new onboarding flow yesterday."),
    ("Carol", "Great. Did you find any problems with the signup form?"),
    ("Bob", "Only a few small ones. The error messages need clearer wording."),
    ("Dan", "I can take care of the wording before the end of the week."),
    ("Alice", "Thank you. Next item is the budget for the marketing campaign."),
    ("Carol", "We spent less than we planned on advertising last month."),
    ("Dan", "Then we should move some of that money to the product team."),
    ("Alice", "I agree. Let us decide that at the meeting on Thursday."),
    ("Bob", "Could someone send the latest sales report to the whole group?"),
    ("Carol", "I will send the report this afternoon after lunch."),
    ("Dan", "The server migration is almost done and the tests are green."),
    ("Alice", "That is good news. Are there any risks we should know about?"),
    ("Dan", "The old database must stay online for one more week."),
    ("Bob", "Fine with me. Please write that down in the project notes."),
    ("Alice", "Thanks everyone, see you all next Monday morning."),
]
GAP_S = 0.6  # silence between turns
LEAD_S = 1.0  # silence before the first turn


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def build_meeting(tmp: Path) -> tuple[list[TrackAudio], list, float]:
    """Each speaker's track (Opus WebM) and the turns (start, speaker, text, clip)."""
    turns = []
    at = LEAD_S
    for speaker, text in SCRIPT:
        clip = say(text, VOICES[speaker])
        turns.append((at, speaker, text, clip))
        at += clip.size / SAMPLE_RATE + GAP_S
    length = at + 1.0
    tracks = []
    for speaker in VOICES:
        clips = [(start, clip) for start, who, _, clip in turns if who == speaker]
        path = write_opus_webm(place(clips, length), tmp / f"{speaker}.webm")
        tracks.append(TrackAudio(path, f"user-{speaker}", f"peer-{speaker}", "", speaker))
    return tracks, turns, length


def posthoc(recognizer: Recognizer, tracks: list[TrackAudio], turns: list,
            length: float) -> dict:
    wall0, cpu0 = time.perf_counter(), cpu_seconds()
    transcript = transcribe_session(tracks, TranscriptionOptions(), recognizer=recognizer)
    wall, cpu = time.perf_counter() - wall0, cpu_seconds() - cpu0
    reference = " ".join(text for _, _, text, _ in turns)
    total_wer = wer(reference, transcript.text)
    # Attribution: the lines that start while a sentence is said all belong to its
    # speaker, and together they say it (WER <= 0.5).
    right = 0
    for start, speaker, text, clip in turns:
        end = start + clip.size / SAMPLE_RATE
        lines = [ln for ln in transcript.lines if start - 0.5 <= ln.start_ms / 1000 < end]
        said = " ".join(ln.text for ln in lines)
        if lines and all(ln.speaker.name == speaker for ln in lines) and wer(text, said) <= 0.5:
            right += 1
    speech_s = sum(clip.size for *_, clip in turns) / SAMPLE_RATE
    print(f"post-meeting: {length:.1f} s session ({speech_s:.1f} s of speech, "
          f"{len(tracks)} tracks) in {wall:.2f} s = {length / wall:.1f}x real time, "
          f"CPU {100 * cpu / wall:.0f} % of a core; WER {total_wer:.3f} "
          f"({edit_distance(words(reference), words(transcript.text))} errors / "
          f"{len(words(reference))} words); {right}/{len(turns)} sentences attributed")
    for line in transcript.lines:
        print(f"  {line.start_ms / 1000:6.2f}s {line.speaker.name:5s} {line.text}")
    return {"wer": round(total_wer, 4),
            "posthoc_realtime_factor": round(length / wall, 2),
            "posthoc_cpu_pct": round(100 * cpu / wall, 1),
            "posthoc_wall_s": round(wall, 2),
            "session_s": round(length, 1),
            "attributed": f"{right}/{len(turns)}"}


def live(recognizer: Recognizer, turns: list, args: argparse.Namespace) -> dict:
    """Service times measured for real, then a FIFO single-worker queue simulated for K
    speakers who all talk at once."""
    service = []
    for _, _, _, clip in turns:
        padded = place([(0.2, clip)], clip.size / SAMPLE_RATE + 0.2 + args.endpoint_s)
        t0 = time.perf_counter()
        recognizer.transcribe(padded)
        service.append(time.perf_counter() - t0)
    print(f"live: utterance service time p50 {statistics.median(service):.2f} s, "
          f"max {max(service):.2f} s (one worker, {args.threads} threads)")
    results = {}
    for k in range(1, args.max_speakers + 1):
        jobs = []  # (ready time, service time, utterance end)
        for speaker in range(k):
            at = speaker * 0.37  # stagger so utterances don't all end together
            for j in range(len(turns)):
                idx = (j + speaker * 5) % len(turns)
                clip = turns[idx][3]
                end = at + clip.size / SAMPLE_RATE
                jobs.append((end + args.endpoint_s, service[idx], end))
                at = end + GAP_S
        jobs.sort()
        free_at, latencies = 0.0, []
        for ready, cost, end in jobs:
            done = max(free_at, ready) + cost
            free_at = done
            latencies.append(done - end)
        p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
        results[k] = (p50, p95)
        print(f"  {k} speaker(s) at once: caption latency p50 {p50:.2f} s, p95 {p95:.2f} s")
        if p95 > args.max_latency_s:
            break
    keeping_up = [k for k, (_, p95) in results.items() if p95 <= args.max_latency_s]
    live_speakers = max(keeping_up, default=0)
    p50, p95 = results[min(4, max(results))]
    return {"caption_latency_p50_s": round(p50, 2), "caption_latency_p95_s": round(p95, 2),
            "caption_latency_at_speakers": min(4, max(results)),
            "live_speakers": live_speakers,
            "utterance_service_p50_s": round(statistics.median(service), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-speakers", type=int, default=12)
    parser.add_argument("--endpoint-s", type=float, default=0.5,
                        help="silence that ends an utterance for live captions (0.5)")
    parser.add_argument("--max-latency-s", type=float, default=3.0,
                        help="p95 caption latency that still counts as keeping up (3)")
    args = parser.parse_args()
    recognizer = Recognizer(cpu_threads=args.threads)
    t0 = time.perf_counter()
    recognizer.load()
    load_s = time.perf_counter() - t0
    print(f"model {recognizer.model_path} loaded in {load_s:.2f} s")
    with tempfile.TemporaryDirectory() as tmp:
        tracks, turns, length = build_meeting(Path(tmp))
        recognizer.transcribe(turns[0][3])  # warm-up, outside the measurements
        summary = posthoc(recognizer, tracks, turns, length)
        summary.update(live(recognizer, turns, args))
    summary["model_load_s"] = round(load_s, 2)
    summary["threads"] = args.threads
    # other work on the box makes every figure slower; compare with the core count
    summary["loadavg_1m"] = round(os.getloadavg()[0], 2)
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
