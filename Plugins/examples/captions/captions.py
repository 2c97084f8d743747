#!/usr/bin/env python3
"""captions.burn — an example farm plugin (protocol v1) in Python.

Draws a caption over a video with ffmpeg. Shows the whole protocol: the hello handshake, runs
with progress read from ffmpeg, answering `cancel` while ffmpeg works, errors with hints, and
`shutdown`. Standard output carries protocol lines only; everything else goes to standard error,
which farm keeps as the stage's log. See docs/plugins.md.
"""
import json
import os
import queue
import subprocess
import sys
import threading

NAME, VERSION = "captions", "1.0.0"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
out_lock = threading.Lock()


def send(message):
    """One JSON object per line on standard output, flushed at once."""
    with out_lock:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()


def log(text):
    print(f"captions: {text}", file=sys.stderr, flush=True)


def read_stdin(inbox):
    """Reads the host's messages on a thread, so a `cancel` is seen while ffmpeg works."""
    for line in sys.stdin:
        if line.strip():
            inbox.put(json.loads(line))
    inbox.put(None)  # end of input: farm is gone or done; exit like on shutdown


def escape(value):
    """A value inside an ffmpeg filter graph: escaped for the option parser, then the graph parser."""
    for specials in ("\\':", "\\':[],;"):
        value = "".join("\\" + c if c in specials else c for c in value)
    return value


def probe_seconds(path):
    result = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path],
                            capture_output=True, text=True)
    try:
        return float(result.stdout.strip())
    except ValueError:
        return None


def ffmpeg_arguments(msg, text_file, output):
    p = msg["params"]
    y = {"top": "h*0.06", "center": "(h-text_h)/2", "bottom": "h-text_h-h*0.08"}[p["position"]]
    draw = (f"drawtext=fontfile={escape(FONT)}:textfile={escape(text_file)}:expansion=none"
            f":fontsize={p['font_size']}:fontcolor={escape(p['color'])}:x=(w-text_w)/2:y={y}")
    if p["box"]:
        draw += ":box=1:boxcolor=black@0.5:boxborderw=12"
    if p["start"] > 0 or p["duration"] > 0:
        end = p["start"] + p["duration"] if p["duration"] > 0 else 1e9
        draw += f":enable='between(t,{p['start']},{end})'"
    return ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-progress", "pipe:1", "-nostats",
            "-i", msg["inputs"]["video"], "-vf", draw, "-map", "0:v:0", "-map", "0:a?",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", "-threads", "2",
            "-c:a", "copy", "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact",
            "-f", "mp4", output]


def report_progress(run_id, ffmpeg, total):
    """ffmpeg's -progress lines → progress messages (also keeps farm's timeout from firing)."""
    for line in ffmpeg.stdout:
        if line.startswith("out_time_us=") and total:
            try:
                seconds = int(line.split("=", 1)[1]) / 1e6
            except ValueError:
                continue
            send({"type": "progress", "id": run_id, "fraction": max(0.0, min(1.0, seconds / total)),
                  "message": f"{seconds:.1f} of {total:.1f} s"})


def run(msg, inbox):
    """Does one run; returns False when farm said shutdown (or went away) meanwhile."""
    run_id, params = msg["id"], msg["params"]
    if not params["text"].strip():
        send({"type": "error", "id": run_id, "code": "bad_input", "message": "the caption text is empty",
              "hint": "set it in the profile: \"with\": {\"text\": \"…\"}"})
        return True
    out_dir = msg["output_dir"]
    text_file = os.path.join(out_dir, "caption.txt")  # text travels in a file: no escaping of the caption
    with open(text_file, "w", encoding="utf-8") as f:
        f.write(params["text"])
    output = os.path.join(out_dir, "captioned.mp4")
    total = probe_seconds(msg["inputs"]["video"])
    log(f"run {run_id}: \"{params['text']}\" at the {params['position']} of a {total or '?'} s video")
    ffmpeg = subprocess.Popen(ffmpeg_arguments(msg, text_file, output), stdout=subprocess.PIPE, text=True)
    progress = threading.Thread(target=report_progress, args=(run_id, ffmpeg, total), daemon=True)
    progress.start()
    while ffmpeg.poll() is None:
        try:
            other = inbox.get(timeout=0.1)
        except queue.Empty:
            continue
        if other is None or other["type"] == "shutdown" or (other["type"] == "cancel" and other["id"] == run_id):
            ffmpeg.terminate()
            ffmpeg.wait()
            send({"type": "error", "id": run_id, "code": "cancelled", "message": "cancelled"})
            return other is not None and other["type"] == "cancel"
    progress.join()
    if ffmpeg.returncode != 0:
        send({"type": "error", "id": run_id, "message": f"ffmpeg failed with exit status {ffmpeg.returncode}",
              "hint": "ffmpeg's own message is in the stage's log"})
    else:
        send({"type": "result", "id": run_id, "outputs": {"video": output},
              "metadata": {"caption": params["text"]}})
    return True


def main():
    if os.environ.get("FARM_PLUGIN_PROTOCOL") is None:
        print("This is a farm plugin: farm starts it and talks to it in JSON lines (see docs/plugins.md).\n"
              "Check it with: farm plugins check " + os.path.dirname(os.path.abspath(__file__)), file=sys.stderr)
    inbox = queue.Queue()
    threading.Thread(target=read_stdin, args=(inbox,), daemon=True).start()
    while True:
        msg = inbox.get()
        if msg is None or msg["type"] == "shutdown":
            return
        if msg["type"] == "hello":
            if 1 not in msg["protocols"]:
                log(f"farm speaks protocols {msg['protocols']}, this plugin only 1")
                sys.exit(1)
            send({"type": "hello", "protocol": 1, "name": NAME, "version": VERSION, "stages": ["burn"]})
        elif msg["type"] == "run":
            if not run(msg, inbox):
                return
        # A `cancel` for a run that already ended needs no answer.


if __name__ == "__main__":
    main()
