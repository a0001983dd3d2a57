"""Benchmark of transcription: a 4-speaker meeting of generated speech, post-meeting and
live-caption estimates, with the real tiny.en model on the CPU.

espeak-ng says 16 known sentences in four voices, taking turns (about 60 s of speech);
each speaker's audio becomes an Opus WebM track on the session's clock, as a track
recording would be. Then:

  post-meeting  salon.ai.posthoc.transcribe_session over the four tracks (model already
                loaded): word error rate of the merged transcript against the script,
                how many lines went to the right speaker, the real-time factor (session
                length / wall time) and the process CPU (% of one core, user+sys).
  live          a real run of salon.ai.captions.LiveCaptioner (one worker thread,
                `--threads` CPU threads): K speakers talk at the same time, each fed
                from its own thread in 20 ms chunks paced by the wall clock, as the
                meeting bot feeds decoded Opus. Speaker k says `--sentences` of the
                script's sentences in turn (rotated by 5k, 0.6 s apart, starts
                staggered by 0.37 s). Caption latency = emitted_at of an utterance's
                final - the true end of its speech (the clip's placement plus where
                espeak-ng's audio ends); p50/p95, the finals' word error rate, drops
                (stats: dropped utterances, skipped interims) and sentences with no
                final. K = 1, 2, 4, 6, ... up to `--max-speakers`, stopping after the
                first K whose p95 passes `--max-latency-s` or that dropped a final, or
                when the next run would pass `--budget-s`. `live_speakers` is the
                largest K with p95 within `--max-latency-s` and no dropped final;
                the reported latency and `live_wer` are those at 4 speakers.

The last line is one JSON object: `wer` (post-meeting), `posthoc_realtime_factor`,
`posthoc_cpu_pct`, `caption_latency_p50_s`, `caption_latency_p95_s`, `live_wer`,
`live_speakers`, `live_runs` (every K), ... Targets on 2 cores: wer <= 0.10, post-meeting
>= 10x real time, caption p50 <= 1.5 s, >= 4 speakers. About 5 minutes.

    .venv/bin/python bench/transcription.py [--threads 2] [--max-speakers 12]
"""

import argparse
import json
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.speech import place, say, speech_bounds, write_opus_webm  # noqa: E402

from salon.ai.captions import Caption, LiveCaptioner  # noqa: E402
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


CHUNK = SAMPLE_RATE // 50  # 20 ms, an Opus frame


def live_run(recognizer: Recognizer, turns: list, k: int, args: argparse.Namespace) -> dict:
    """K speakers at once through one LiveCaptioner, in real time; the figures of it."""
    captions: list[Caption] = []
    lock = threading.Lock()

    def on_caption(caption: Caption) -> None:
        with lock:
            captions.append(caption)

    # Each speaker's track and the true speech span of every sentence on it.
    tracks, said = {}, []  # said: (speaker, speech start, speech end, text), seconds
    for speaker in range(k):
        at, clips = LEAD_S + speaker * 0.37, []
        for j in range(args.sentences):
            _, _, text, clip = turns[(j + speaker * 5) % len(turns)]
            begins, ends = speech_bounds(clip)
            clips.append((at, clip))
            said.append((f"speaker-{speaker}", at + begins, at + ends, text))
            at += clip.size / SAMPLE_RATE + GAP_S
        tracks[f"speaker-{speaker}"] = place(clips, at + 1.0)
    length = max(track.size for track in tracks.values()) / SAMPLE_RATE
    captioner = LiveCaptioner(recognizer, on_caption, interim_secs=args.interim_s,
                              endpoint_secs=args.endpoint_s, max_lag_secs=args.max_lag_s)
    t0 = time.time() + 0.2
    late = [0.0]

    def feeder(speaker: str, track) -> None:
        for i in range(0, track.size, CHUNK):
            due = t0 + i / SAMPLE_RATE
            ahead = due - time.time()
            if ahead > 0:
                time.sleep(ahead)
            else:
                late[0] = max(late[0], -ahead)
            captioner.feed(speaker, track[i:i + CHUNK], at=due)

    wall0, cpu0 = time.perf_counter(), cpu_seconds()
    threads = [threading.Thread(target=feeder, args=item, daemon=True)
               for item in tracks.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    captioner.wait_idle(timeout=args.max_lag_s + 5)
    wall, cpu = time.perf_counter() - wall0, cpu_seconds() - cpu0
    captioner.close()
    stats = captioner.stats

    latencies, refs, hyps, missed = [], [], [], 0
    finals = [c for c in captions if not c.is_partial]
    for speaker, begins, ends, text in said:
        # the finals of this sentence: same speaker, overlapping its speech
        mine = [c for c in finals if c.speaker == speaker and c.ended_at is not None
                and c.started_at - t0 < ends + 0.3 and c.ended_at - t0 > begins - 0.3]
        refs.append(text)
        hyps.append(" ".join(c.text for c in mine))
        if not mine:
            missed += 1
            continue
        latencies.append(max(c.emitted_at for c in mine) - (t0 + ends))
    errors = sum(edit_distance(words(r), words(h)) for r, h in zip(refs, hyps, strict=True))
    total = sum(len(words(r)) for r in refs)
    interims = sum(1 for c in captions if c.is_partial)
    p50 = percentile(latencies, 0.5) if latencies else float("inf")
    p95 = percentile(latencies, 0.95) if latencies else float("inf")
    run = {"speakers": k, "session_s": round(length, 1), "utterances": len(said),
           "finals": len(finals), "missed": missed, "latency_p50_s": round(p50, 2),
           "latency_p95_s": round(p95, 2),
           "latency_max_s": round(max(latencies, default=float("inf")), 2),
           "wer": round(errors / total, 4), "interims": interims,
           "dropped_utterances": stats["dropped_utterances"],
           "dropped_interims": stats["dropped_interims"],
           "model_busy_pct": round(100 * stats["busy_secs"] / wall, 1),
           "cpu_pct": round(100 * cpu / wall, 1), "feeder_late_max_s": round(late[0], 3),
           "wall_s": round(wall, 1)}
    print(f"  {k} speaker(s) at once, {length:.0f} s: caption latency p50 {p50:.2f} s, "
          f"p95 {p95:.2f} s, max {run['latency_max_s']:.2f} s; WER {run['wer']:.3f}; "
          f"{len(finals)} finals for {len(said)} sentences ({missed} without one), "
          f"{interims} interims; dropped {run['dropped_utterances']} finals, "
          f"{run['dropped_interims']} interims; model busy {run['model_busy_pct']:.0f} %, "
          f"CPU {run['cpu_pct']:.0f} % of a core", flush=True)
    return run


def live(recognizer: Recognizer, turns: list, args: argparse.Namespace,
         started: float) -> dict:
    """Real live runs for K = 1, 2, 4, 6, ... speakers (see the module docstring)."""
    recognizer.transcribe_clip(turns[0][3])  # warm-up: tokenizer, first short window
    print(f"live: one LiveCaptioner ({args.threads} threads), {args.sentences} sentences "
          f"per speaker, interims every {args.interim_s} s, endpoint {args.endpoint_s} s",
          flush=True)
    runs: dict[int, dict] = {}
    sequence = ([int(k) for k in args.speakers.split(",")] if args.speakers
                else [1, 2] + list(range(4, args.max_speakers + 1, 2)))
    for k in sequence:
        if k > args.max_speakers:
            break
        last = runs[max(runs)]["wall_s"] if runs else args.sentences * 5.5
        if runs and time.perf_counter() - started + last + 1 > args.budget_s:
            print(f"  {k} speakers: not run, the run would pass --budget-s {args.budget_s}")
            break
        run = runs[k] = live_run(recognizer, turns, k, args)
        if run["latency_p95_s"] > args.max_latency_s or run["dropped_utterances"]:
            break
    keeping_up = [k for k, run in runs.items()
                  if run["latency_p95_s"] <= args.max_latency_s
                  and not run["dropped_utterances"]]
    at = 4 if 4 in runs else min(runs)
    return {"caption_latency_p50_s": runs[at]["latency_p50_s"],
            "caption_latency_p95_s": runs[at]["latency_p95_s"],
            "caption_latency_at_speakers": at,
            "live_wer": runs[at]["wer"],
            "live_speakers": max(keeping_up, default=0),
            "live_speakers_tried": max(runs),
            "live_runs": list(runs.values())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-speakers", type=int, default=12)
    parser.add_argument("--endpoint-s", type=float, default=0.5,
                        help="silence that ends an utterance for live captions (0.5)")
    parser.add_argument("--interim-s", type=float, default=1.0,
                        help="live captions: an interim at most this often a speaker (1)")
    parser.add_argument("--max-lag-s", type=float, default=4.0,
                        help="live captions: the captioner's max_lag_secs (4)")
    parser.add_argument("--max-latency-s", type=float, default=3.0,
                        help="p95 caption latency that still counts as keeping up (3)")
    parser.add_argument("--sentences", type=int, default=8,
                        help="sentences each live speaker says in a run (8: about 40 s)")
    parser.add_argument("--speakers", default="",
                        help="live: the K to try, e.g. 12,16,20 (default 1,2,4,6,...)")
    parser.add_argument("--budget-s", type=float, default=330.0,
                        help="no live run starts that would end the bench after this (330)")
    args = parser.parse_args()
    started = time.perf_counter()
    recognizer = Recognizer(cpu_threads=args.threads)
    t0 = time.perf_counter()
    recognizer.load()
    load_s = time.perf_counter() - t0
    print(f"model {recognizer.model_path} loaded in {load_s:.2f} s")
    with tempfile.TemporaryDirectory() as tmp:
        tracks, turns, length = build_meeting(Path(tmp))
        recognizer.transcribe(turns[0][3])  # warm-up, outside the measurements
        summary = posthoc(recognizer, tracks, turns, length)
        summary.update(live(recognizer, turns, args, started))
    summary["model_load_s"] = round(load_s, 2)
    summary["threads"] = args.threads
    # other work on the box makes every figure slower; compare with the core count
    summary["loadavg_1m"] = round(os.getloadavg()[0], 2)
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
