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
        <button id="start" type="submit">Render</button>
      </form>
      <p id="form-error" class="error" role="alert" hidden></p>
    </section>
    <section id="current" aria-labelledby="current-title" hidden>
      <h2 id="current-title">Render <span id="current-id"></span></h2>
      <p id="current-state" aria-live="polite"></p>
      <ol id="stages" class="graph" aria-label="stages"></ol>
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
    .graph { display: grid; grid-template-columns: repeat(auto-fit, minmax(9rem, 1fr)); gap: .5rem; list-style: none; padding: 0; }
    .graph li { border: 2px solid #888; border-radius: .4rem; padding: .5rem; background: #fff; }
    .graph li[data-status="running"] { border-color: #0057b7; }
    .graph li[data-status="succeeded"], .graph li[data-status="cached"] { border-color: #137333; }
    .graph li[data-status="failed"] { border-color: #a40000; }
    .graph li[data-status="skipped"], .graph li[data-status="interrupted"] { border-style: dashed; }
    .graph .name { font-weight: 700; display: block; } .graph .detail { font-size: .85rem; }
    #media figure { display: inline-block; margin: .5rem; vertical-align: top; }
    #media img { max-width: 12rem; border-radius: .4rem; }
    video { width: 100%; max-height: 28rem; background: #000; }
    .runs { list-style: none; padding: 0; display: grid; gap: .4rem; }
    .runs li { display: flex; gap: .6rem; align-items: center; }
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
        item.append(image, text); list.append(item);
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

    function drawStages(stages) {
      const graph = $("stages"); graph.replaceChildren();
      for (const stage of stages) {
        const item = document.createElement("li");
        item.id = "stage-" + stage.name; item.dataset.status = "waiting";
        item.innerHTML = `<span class="name"></span><span class="detail">waiting</span>`;
        item.querySelector(".name").textContent = stage.name;
        item.title = stage.implementation;
        graph.append(item);
      }
    }

    function setStage(name, status, text) {
      const item = $("stage-" + name);
      if (!item) return;
      item.dataset.status = status;
      item.querySelector(".detail").textContent = text;
    }

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

    function watch(id) {
      if (source) source.close();
      current = { id, run: null };
      $("current").hidden = false; $("current-id").textContent = id;
      $("current-state").textContent = "queued"; $("run-error").hidden = true;
      $("video").hidden = true; $("video").removeAttribute("src"); $("download").hidden = true; $("again").hidden = true;
      $("cancel").hidden = false; $("stages").replaceChildren(); $("media").replaceChildren();
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
        const time = event.seconds != null ? ` ${event.seconds.toFixed(1)} s` : "";
        setStage(event.stage, event.status, event.status + time + (event.error ? ": " + event.error : ""));
        if (event.status === "succeeded" || event.status === "cached") showOutputs(current.run).catch(() => {});
        break;
      }
      case "progress": {
        const percent = event.fraction != null ? ` ${Math.round(event.fraction * 100)}%` : "";
        setStage(event.stage, "running", "running" + percent + (event.message ? " " + event.message : ""));
        break;
      }
      case "finished": finished(event); break;
      }
    }

    function finished(event) {
      if (source) { source.close(); source = null; }
      $("cancel").hidden = true; $("again").hidden = false;
      $("current-state").textContent = event.status;
      for (const [name, stage] of Object.entries(event.stages || {})) {
        const time = stage.seconds != null ? ` ${stage.seconds.toFixed(1)} s` : "";
        setStage(name, stage.status, stage.status + time);
      }
      if (event.error) {
        $("run-error").hidden = false;
        $("run-error").textContent = event.error + (event.hint ? "\nhint: " + event.hint : "");
      }
      const run = event.run || current.run;
      if (event.status === "succeeded" && run) {
        $("video").src = `/api/runs/${run}/video`; $("video").hidden = false;
        $("download").href = `/api/runs/${run}/video`; $("download").download = `${run}.mp4`; $("download").hidden = false;
      }
      loadRuns().catch(() => {});
    }

    async function submit(event) {
      event.preventDefault();
      $("form-error").hidden = true;
      try {
        const request = { profile: $("profile").value, subject: $("subject").value };
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
    });
    """#
}
