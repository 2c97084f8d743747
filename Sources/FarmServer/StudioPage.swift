/// The studio page: plain HTML, CSS and JavaScript compiled into farm (no build step, no CDN,
/// works offline). It talks only to the JSON API on its own origin.
enum StudioPage {
    struct Asset {
        let text: String
        let contentType: String
    }

    static let assets: [String: Asset] = [
        "studio.css": Asset(text: css, contentType: "text/css; charset=utf-8"),
        "studio.js": Asset(text: script, contentType: "text/javascript; charset=utf-8"),
    ]

    static let html = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>farm studio</title>
    <link rel="stylesheet" href="/studio.css">
    <script src="/studio.js" defer></script>
    </head>
    <body>
    <header><h1>farm studio</h1></header>
    <main>
    <section aria-labelledby="new-title">
      <h2 id="new-title">New render</h2>
      <form id="render-form">
        <label>Subject <select id="subject" name="subject"></select></label>
        <label>Profile <select id="profile" name="profile"></select></label>
        <label>Song link <input id="link" name="link" type="url" placeholder="https://…"></label>
        <label>or a song file <input id="file" name="file" type="file" accept="audio/*,video/*"></label>
        <label>From <input id="clip-start" name="start" inputmode="decimal" placeholder="0:00 (the start)" aria-describedby="clip-help"></label>
        <label>To <input id="clip-end" name="end" inputmode="decimal" placeholder="the end" aria-describedby="clip-help"></label>
        <p id="clip-help" class="help">Render part of the song: seconds (90), M:SS (1:30) or H:MM:SS; leave empty for the whole song.</p>
        <button id="start" type="submit">Render</button>
      </form>
      <p id="form-error" class="error" role="alert" hidden></p>
    </section>
    <section id="current" aria-labelledby="current-title" hidden>
      <h2 id="current-title">Render <span id="current-id"></span></h2>
      <p id="current-state" aria-live="polite"></p>
      <div id="graph" class="graph">
        <svg id="stage-edges" aria-hidden="true" focusable="false"></svg>
        <ol id="stages" aria-label="the stage graph: each stage, what it reads and its state"></ol>
      </div>
      <div id="media"></div>
      <p id="run-error" class="error" role="alert" hidden></p>
      <p class="actions">
        <button id="cancel" type="button">Cancel</button>
        <button id="again" type="button" hidden>Render again</button>
        <a id="download" hidden download>Download the video</a>
      </p>
      <video id="video" controls hidden></video>
    </section>
    <section aria-labelledby="queue-title">
      <h2 id="queue-title">Queue</h2>
      <ul id="queue"></ul>
    </section>
    <section aria-labelledby="runs-title">
      <h2 id="runs-title">Past runs</h2>
      <ul id="runs" class="runs"></ul>
    </section>
    <section aria-labelledby="subjects-title">
      <h2 id="subjects-title">Subjects and their models</h2>
      <table id="subjects-table"><thead><tr><th>subject</th><th>trigger</th><th>image model</th><th>voice model</th></tr></thead><tbody></tbody></table>
    </section>
    </main>
    </body>
    </html>
    """#

    static let css = #"""
    :root { font-family: system-ui, sans-serif; color: #1b1b1b; background: #fafafa; }
    body { max-width: 60rem; margin: 0 auto; padding: 1rem; }
    h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
    form { display: grid; gap: .6rem; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); align-items: end; }
    label { display: grid; gap: .2rem; font-weight: 600; min-width: 0; }
    input, select, button { font: inherit; padding: .4rem; min-width: 0; max-width: 100%; }
    button { cursor: pointer; }
    .error { color: #a40000; white-space: pre-wrap; }
    .help { grid-column: 1 / -1; margin: 0; font-size: .85rem; color: #555; }
    .graph { position: relative; overflow-x: auto; padding: .5rem 0; }
    .graph svg { position: absolute; top: 0; left: 0; pointer-events: none; }
    .graph path { fill: none; stroke: #888; stroke-width: 2; }
    .graph path[data-done="true"] { stroke: #137333; }
    .graph ol { display: grid; grid-auto-columns: minmax(9rem, 11rem); column-gap: 3rem; row-gap: .8rem;
                list-style: none; padding: 0; margin: 0; position: relative; width: max-content; }
    .graph li { border: 2px solid #888; border-radius: .4rem; padding: .5rem; background: #fff; }
    .graph li[data-status="running"] { border-color: #0057b7; box-shadow: 0 0 0 3px #cfe0f5; }
    .graph li[data-status="succeeded"], .graph li[data-status="cached"] { border-color: #137333; }
    .graph li[data-status="failed"] { border-color: #a40000; }
    .graph li[data-status="skipped"], .graph li[data-status="interrupted"] { border-style: dashed; }
    .graph .name { font-weight: 700; display: block; } .graph .detail, .graph .chunks { font-size: .85rem; display: block; }
    .sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
    #media figure { display: inline-block; margin: .5rem; vertical-align: top; }
    #media img { max-width: 12rem; border-radius: .4rem; }
    video { width: 100%; max-height: 28rem; background: #000; }
    .runs { list-style: none; padding: 0; display: grid; gap: .4rem; }
    .runs li { display: flex; gap: .6rem; align-items: center; flex-wrap: wrap; }
    .runs img { width: 4rem; height: 4rem; object-fit: cover; border-radius: .3rem; background: #ddd; }
    table { border-collapse: collapse; } td, th { border-bottom: 1px solid #ccc; padding: .3rem .6rem; text-align: left; }
    """#

    static let script = #"""
    "use strict";
    const $ = (id) => document.getElementById(id);
    const headers = { "X-Farm-Studio": "1" };
    let current = null, source = null, lastRequest = null;

    async function api(path, options = {}) {
      const response = await fetch(path, { ...options, headers: { ...headers, ...(options.headers || {}) } });
      const body = response.headers.get("Content-Type")?.startsWith("application/json") ? await response.json() : null;
      if (!response.ok) throw new Error((body?.error || response.statusText) + (body?.hint ? "\nhint: " + body.hint : ""));
      return body;
    }

    function option(select, value, label) {
      const element = document.createElement("option");
      element.value = value; element.textContent = label; select.append(element);
    }

    async function loadLists() {
      const [subjects, profiles] = await Promise.all([api("/api/subjects"), api("/api/profiles")]);
      $("subject").replaceChildren(); $("profile").replaceChildren();
      for (const s of subjects) option($("subject"), s.name, s.name);
      for (const p of profiles) option($("profile"), p.name, p.description ? `${p.name} — ${p.description}` : p.name);
      const body = $("subjects-table").tBodies[0]; body.replaceChildren();
      for (const s of subjects) {
        const row = body.insertRow();
        for (const value of [s.name, s.trigger, s.image_model || "—", s.voice_model || "—"]) row.insertCell().textContent = value;
      }
    }

    async function loadRuns() {
      const [runs, queue] = await Promise.all([api("/api/runs?limit=20"), api("/api/renders")]);
      const list = $("runs"); list.replaceChildren();
      for (const run of runs) {
        const item = document.createElement("li");
        const image = document.createElement("img");
        image.alt = ""; image.loading = "lazy"; image.src = run.still; image.onerror = () => image.removeAttribute("src");
        const text = document.createElement(run.video ? "a" : "span");
        if (run.video) text.href = run.video;
        text.textContent = `${run.run} · ${run.status} · ${run.subject} · ${run.song}`;
        const show = document.createElement("button");
        show.type = "button"; show.textContent = "Show its stages"; show.className = "show-run";
        show.setAttribute("aria-label", `show the stages of run ${run.run}`);
        show.onclick = () => showRun(run.run).catch((error) => showError(error.message, null));
        item.append(image, text, show); list.append(item);
      }
      const waiting = $("queue"); waiting.replaceChildren();
      for (const entry of queue.filter((e) => e.state === "queued" || e.state === "running")) {
        const item = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button"; button.textContent = `${entry.state}: ${entry.song} (${entry.profile})`;
        button.onclick = () => watch(entry.id);
        item.append(button); waiting.append(item);
      }
    }

    // The stage graph: a column per layer (a stage sits right of every stage it reads, and as far
    // right as its readers allow), rows ordered to keep edges short; nodes are list items (names,
    // what they read and their state are text), edges an SVG drawn behind them.
    let graphStages = [];

    function layout(stages) {
      const byName = new Map(stages.map((s) => [s.name, s]));
      const needs = (s) => (s.depends_on || []).filter((d) => byName.has(d));
      const column = new Map();
      for (const s of stages) column.set(s.name, Math.max(-1, ...needs(s).map((d) => column.get(d) ?? 0)) + 1);
      for (const s of [...stages].reverse()) {
        const readers = stages.filter((r) => needs(r).includes(s.name)).map((r) => column.get(r.name));
        if (readers.length) column.set(s.name, Math.max(column.get(s.name), Math.min(...readers) - 1));
      }
      const row = new Map(), columns = Math.max(0, ...column.values()) + 1;
      for (let c = 0; c < columns; c++) {
        const here = stages.filter((s) => column.get(s.name) === c);
        const weight = (s) => {
          const rows = needs(s).map((d) => row.get(d)).filter((r) => r !== undefined);
          return rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : stages.indexOf(s) / stages.length;
        };
        here.map((s) => [s, weight(s)]).sort((a, b) => a[1] - b[1]).forEach(([s], index) => row.set(s.name, index));
      }
      return { column, row, needs };
    }

    function drawStages(stages) {
      graphStages = stages;
      const { column, row, needs } = layout(stages);
      const graph = $("stages"); graph.replaceChildren();
      for (const stage of stages) {
        const item = document.createElement("li");
        item.id = "stage-" + stage.name; item.dataset.status = "waiting";
        item.style.gridColumn = column.get(stage.name) + 1; item.style.gridRow = row.get(stage.name) + 1;
        item.innerHTML = `<span class="name"></span><span class="sr reads"></span><span class="detail">waiting</span><span class="chunks"></span>`;
        item.querySelector(".name").textContent = stage.name;
        const reads = needs(stage);
        item.querySelector(".reads").textContent = reads.length ? `, reads ${reads.join(" and ")}:` : ", reads no other stage:";
        item.title = stage.implementation;
        graph.append(item);
      }
      drawEdges();
    }

    function drawEdges() {
      const svg = $("stage-edges"), box = $("stages").getBoundingClientRect();
      svg.setAttribute("width", box.width); svg.setAttribute("height", box.height);
      svg.style.left = $("stages").offsetLeft + "px"; svg.style.top = $("stages").offsetTop + "px";
      svg.replaceChildren();
      const names = new Set(graphStages.map((s) => s.name));
      for (const stage of graphStages) {
        const to = $("stage-" + stage.name)?.getBoundingClientRect();
        for (const from of (stage.depends_on || []).filter((d) => names.has(d))) {
          const source = $("stage-" + from), start = source.getBoundingClientRect();
          const x1 = start.right - box.left, y1 = start.top + start.height / 2 - box.top;
          const x2 = to.left - box.left - 2, y2 = to.top + to.height / 2 - box.top, bend = (x2 - x1) / 2;
          const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
          path.setAttribute("d", `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2} l-7,-4 m7,4 l-7,4`);
          path.dataset.from = from; path.dataset.to = stage.name;
          path.dataset.done = String(["succeeded", "cached"].includes(source.dataset.status));
          svg.append(path);
        }
      }
    }

    function setStage(name, status, text) {
      const item = $("stage-" + name);
      if (!item) return;
      const changed = item.dataset.status !== status;
      item.dataset.status = status;
      item.querySelector(".detail").textContent = text;
      if (changed) drawEdges();
    }

    function setChunks(name, done, total, cached) {
      const item = $("stage-" + name);
      if (!item || total == null) return;
      item.querySelector(".chunks").textContent = `${done}/${total} chunks` + (cached ? ` (${cached} cached)` : "");
      drawEdges();
    }

    const seconds = (value) => value != null ? ` ${value.toFixed(1)} s` : "";

    async function showOutputs(run) {
      const details = await api(`/api/runs/${run}`);
      const media = $("media");
      for (const stage of details.stages) {
        for (const output of stage.outputs) {
          if (output.kind === "video" || document.querySelector(`[data-url="${output.url}"]`)) continue;
          const figure = document.createElement("figure"); figure.dataset.url = output.url;
          const caption = document.createElement("figcaption"); caption.textContent = `${stage.stage} · ${output.port}`;
          const element = document.createElement(output.kind === "image" ? "img" : "audio");
          if (output.kind === "image") element.alt = `the still (${stage.stage})`; else element.controls = true;
          element.src = output.url;
          figure.append(element, caption); media.append(figure);
        }
      }
    }

    function reset(title) {
      $("current").hidden = false; $("current-id").textContent = title;
      $("run-error").hidden = true; $("again").hidden = true; $("cancel").hidden = false;
      $("video").hidden = true; $("video").removeAttribute("src"); $("download").hidden = true;
      graphStages = []; $("stages").replaceChildren(); $("stage-edges").replaceChildren(); $("media").replaceChildren();
    }

    function watch(id) {
      if (source) source.close();
      current = { id, run: null };
      reset(id);
      $("current-state").textContent = "queued";
      source = new EventSource(`/api/renders/${id}/events`);
      source.onmessage = (message) => handle(JSON.parse(message.data));
      source.onerror = () => { if (source && source.readyState === EventSource.CLOSED) source = null; };
    }

    function handle(event) {
      switch (event.event) {
      case "queued": $("current-state").textContent = "waiting in the queue"; break;
      case "started":
        current.run = event.run; drawStages(event.stages);
        $("current-state").textContent = `running · run ${event.run}`; break;
      case "stage": {
        setStage(event.stage, event.status, event.status + seconds(event.seconds) + (event.error ? ": " + event.error : ""));
        if (event.status === "succeeded" || event.status === "cached") showOutputs(current.run).catch(() => {});
        break;
      }
      case "progress": {
        const percent = event.fraction != null ? ` ${Math.round(event.fraction * 100)}%` : "";
        setStage(event.stage, "running", "running" + percent + (event.message ? " " + event.message : ""));
        break;
      }
      case "chunks": setChunks(event.stage, event.done, event.total, event.cached); break;
      case "finished": finished(event); break;
      }
    }

    function finished(event) {
      if (source) { source.close(); source = null; }
      $("cancel").hidden = true; $("again").hidden = !lastRequest;
      $("current-state").textContent = event.status;
      for (const [name, stage] of Object.entries(event.stages || {})) {
        setStage(name, stage.status, stage.status + seconds(stage.seconds));
        if (stage.chunks != null) setChunks(name, stage.chunks, stage.chunks, stage.chunks_cached);
      }
      showError(event.error, event.hint);
      const run = event.run || current.run;
      if (event.status === "succeeded" && run) showVideo(run);
      loadRuns().catch(() => {});
    }

    function showError(error, hint) {
      $("run-error").hidden = !error;
      $("run-error").textContent = error ? error + (hint ? "\nhint: " + hint : "") : "";
    }

    function showVideo(run) {
      $("video").src = `/api/runs/${run}/video`; $("video").hidden = false;
      $("download").href = `/api/runs/${run}/video`; $("download").download = `${run}.mp4`; $("download").hidden = false;
    }

    // A past run, as the store recorded it: its graph with each stage's state and time, outputs, video.
    async function showRun(run) {
      if (source) { source.close(); source = null; }
      const details = await api(`/api/runs/${run}`);
      current = { id: null, run };
      reset(`run ${run}`);
      $("cancel").hidden = true;
      $("current-state").textContent = details.status;
      drawStages(details.stages.map((s) => ({ name: s.stage, implementation: s.implementation, depends_on: s.depends_on })));
      for (const stage of details.stages) {
        setStage(stage.stage, stage.status, stage.status + seconds(stage.seconds) + (stage.error ? ": " + stage.error : ""));
        if (stage.chunks != null) setChunks(stage.stage, stage.chunks, stage.chunks, stage.chunks_cached);
      }
      showError(details.error, null);
      await showOutputs(run);
      if (details.video) showVideo(run);
      $("current").scrollIntoView();
    }

    async function submit(event) {
      event.preventDefault();
      $("form-error").hidden = true;
      try {
        const request = { profile: $("profile").value, subject: $("subject").value };
        if ($("clip-start").value.trim()) request.start = $("clip-start").value.trim();
        if ($("clip-end").value.trim()) request.end = $("clip-end").value.trim();
        const file = $("file").files[0];
        if (file) {
          const upload = await api(`/api/uploads?name=${encodeURIComponent(file.name)}`, { method: "POST", body: file });
          request.upload = upload.upload; request.name = file.name;
        } else if ($("link").value) {
          request.link = $("link").value;
        } else {
          throw new Error("choose a song file or paste a song link");
        }
        await start(request);
      } catch (error) {
        $("form-error").hidden = false; $("form-error").textContent = error.message;
      }
    }

    async function start(request) {
      lastRequest = request;
      const entry = await api("/api/renders", {
        method: "POST", body: JSON.stringify(request), headers: { "Content-Type": "application/json" } });
      watch(entry.id);
      loadRuns().catch(() => {});
    }

    document.addEventListener("DOMContentLoaded", () => {
      $("render-form").addEventListener("submit", submit);
      $("cancel").addEventListener("click", () => current && api(`/api/renders/${current.id}/cancel`, { method: "POST" }).catch(() => {}));
      $("again").addEventListener("click", () => lastRequest && start(lastRequest));
      loadLists().catch((error) => { $("form-error").hidden = false; $("form-error").textContent = error.message; });
      loadRuns().catch(() => {});
      new ResizeObserver(() => { if (graphStages.length) drawEdges(); }).observe($("graph"));
    });
    """#
}
