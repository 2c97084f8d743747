#!/usr/bin/env python3
"""A deliberately broken farm plugin for the robustness tests.

Each stage's name says what it does wrong; --hello says how the handshake goes wrong. The test
writes plugin.json (in a temporary folder) with command ["python3", THIS FILE, options…].
Every process it starts records its pid in --pids DIR, so tests can check that none survives.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time

parser = argparse.ArgumentParser()
parser.add_argument("--name", default="misbehave")
parser.add_argument("--version", default="1.0.0")
parser.add_argument("--stages", default="")
parser.add_argument("--hello", default="ok")
parser.add_argument("--pids", default=None)
parser.add_argument("--ignore-term", action="store_true", help="ignore SIGTERM: only SIGKILL ends it")
options = parser.parse_args()
lock = threading.Lock()


def record(pid):
    if options.pids:
        open(os.path.join(options.pids, str(pid)), "w").close()


def send(message):
    with lock:
        sys.stdout.write((message if isinstance(message, str) else json.dumps(message)) + "\n")
        sys.stdout.flush()


def log(text):
    print(f"misbehave: {text}", file=sys.stderr, flush=True)


record(os.getpid())
if options.ignore_term:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
stages = [s for s in options.stages.split(",") if s]
cancelled = set()


def hello():
    mode = options.hello
    if mode == "crash":
        log("cannot load my model")
        sys.exit(3)
    if mode == "none":
        time.sleep(600)
    if mode == "garbage":
        send("Loading model weights…")
    if mode == "early":
        send({"type": "progress", "id": "run-1", "fraction": 0, "message": "warming up"})
    reply = {"type": "hello", "protocol": 1, "name": options.name, "version": options.version, "stages": stages}
    if mode == "wrong-version":
        reply["version"] = "9.9.9"
    if mode == "wrong-protocol":
        reply["protocol"] = 7
    if mode == "wrong-stages":
        reply["stages"] = stages[1:] + ["extra"]
    send(reply)
    if mode == "twice":
        send(reply)


def work(msg):
    run_id, stage, out_dir = msg["id"], msg["stage"], msg["output_dir"]
    out = os.path.join(out_dir, "out.txt")
    log(f"{stage}: run {run_id} attempt {msg['attempt']}")
    if stage == "ok":
        send({"type": "progress", "id": run_id, "fraction": 0.5, "message": "half"})
        with open(out, "w") as f:
            f.write(f"{msg['params'].get('text', '')} from pid {os.getpid()}")
        send({"type": "result", "id": run_id, "outputs": {"out": "out.txt"}, "metadata": {"pid": os.getpid()}})
    elif stage == "crash":
        log("about to crash")
        os._exit(3)
    elif stage == "hang":
        time.sleep(600)
    elif stage == "child":
        child = subprocess.Popen(["sleep", "300"])
        record(child.pid)
        log(f"started helper {child.pid}")
        time.sleep(600)
    elif stage == "garbage":
        send("this is not JSON")
    elif stage == "unknown-type":
        send({"type": "bogus", "id": run_id})
    elif stage == "wrong-id":
        send({"type": "result", "id": "nope", "outputs": {"out": out}})
    elif stage == "outside":
        escaped = os.path.join(out_dir, "..", "escaped.txt")
        with open(escaped, "w") as f:
            f.write("outside")
        send({"type": "result", "id": run_id, "outputs": {"out": escaped}})
    elif stage == "missing":
        send({"type": "result", "id": run_id, "outputs": {"out": out}})
    elif stage == "bad-input":
        send({"type": "error", "id": run_id, "code": "bad_input", "message": "the text is too short", "hint": "use more words"})
    elif stage == "flaky":
        if msg["attempt"] == 1:
            send({"type": "error", "id": run_id, "message": "the GPU is busy", "retryable": True})
        else:
            with open(out, "w") as f:
                f.write("second time lucky")
            send({"type": "result", "id": run_id, "outputs": {"out": out}})
    elif stage == "long-line":
        send({"type": "progress", "id": run_id, "fraction": 0.5, "message": "x" * (1 << 20)})
    elif stage == "no-output":
        send({"type": "result", "id": run_id, "outputs": {}})
    elif stage == "extra-output":
        with open(out, "w") as f:
            f.write("out")
        send({"type": "result", "id": run_id, "outputs": {"out": out, "bonus": out}})
    elif stage == "nap":
        started = time.time()
        time.sleep(1)
        with open(out, "w") as f:
            f.write(f"nap {run_id}")
        send({"type": "result", "id": run_id, "outputs": {"out": out}, "metadata": {"started": started, "ended": time.time()}})
    elif stage == "steady":
        for step in range(50):
            send({"type": "progress", "id": run_id, "fraction": step / 50, "message": f"step {step}"})
            time.sleep(0.5)
        with open(out, "w") as f:
            f.write("steady")
        send({"type": "result", "id": run_id, "outputs": {"out": out}})
    elif stage == "slow":
        for step in range(600):
            if run_id in cancelled:
                log("cancelled, stopping")
                send({"type": "error", "id": run_id, "code": "cancelled", "message": "cancelled"})
                return
            send({"type": "progress", "id": run_id, "fraction": step / 600, "message": f"step {step}"})
            time.sleep(0.05)
        with open(out, "w") as f:
            f.write("slow")
        send({"type": "result", "id": run_id, "outputs": {"out": out}})


def main():
    for line in sys.stdin:
        msg = json.loads(line)
        if msg["type"] == "hello":
            hello()
        elif msg["type"] == "run":
            threading.Thread(target=work, args=(msg,), daemon=True).start()
        elif msg["type"] == "cancel":
            cancelled.add(msg["id"])
        elif msg["type"] == "shutdown":
            return


main()
