// runform web app: plain JS, no framework, no CDN. Each block wires itself when its element exists.
"use strict";

function showError(box, err) {
  box.hidden = false;
  box.innerHTML = "";
  const title = document.createElement("strong");
  title.textContent = (err && err.title) || "Something went wrong";
  box.appendChild(title);
  for (const part of [err && err.message, err && err.hint]) {
    if (part) { const p = document.createElement("p"); p.textContent = part; box.appendChild(p); }
  }
}

function errorFromResponse(status, text) {
  try {
    const body = JSON.parse(text);
    if (body.error) return body.error;
    if (body.detail) return { title: "The upload was refused", message: typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail) };
  } catch (e) { /* not JSON */ }
  if (status === 413) return { title: "The file is too large", message: "The clip is larger than the upload limit." };
  return { title: "The upload failed", message: "HTTP " + status };
}

function initScreen(form) {
  // show the warning-sign questions of the ticked pains only; untick the others so they are not sent
  const box = document.getElementById("screen");
  if (!box) return;
  function update() {
    const pains = new Set([...form.querySelectorAll('input[name="pain"]:checked')].map((i) => i.value));
    box.hidden = pains.size === 0;
    box.querySelectorAll(".screen-group").forEach((g) => {
      g.hidden = !pains.has(g.dataset.pain);
      if (g.hidden) g.querySelectorAll("input").forEach((i) => { i.checked = false; });
    });
    if (box.hidden) box.querySelectorAll("input").forEach((i) => { i.checked = false; });
  }
  form.querySelectorAll('input[name="pain"]').forEach((i) => i.addEventListener("change", update));
  const none = document.getElementById("screen-none");
  box.addEventListener("change", (e) => {
    if (e.target === none && none.checked) box.querySelectorAll('input[name="screen"]').forEach((i) => { if (i !== none) i.checked = false; });
    else if (e.target.name === "screen" && e.target !== none && e.target.checked) none.checked = false;
  });
  update();
}

function initUpload() {
  const form = document.getElementById("upload-form");
  if (!form) return;
  initScreen(form);
  const maxBytes = Number(form.dataset.maxBytes);
  const drop = document.getElementById("dropzone");
  const chosenLabel = document.getElementById("chosen");
  const errorBox = document.getElementById("upload-error");
  const progress = document.getElementById("upload-progress");
  const submit = document.getElementById("submit");
  let chosen = null;
  let second = null;
  const picker = initRunnerPreview(form);

  function sizeText(file) { return file.name + " · " + (file.size / 1048576).toFixed(1) + " MB"; }

  function choose(file) {
    chosen = file || null;
    errorBox.hidden = true;
    chosenLabel.hidden = !chosen;
    if (chosen) chosenLabel.textContent = sizeText(chosen);
    drop.classList.toggle("has-file", !!chosen);
    picker.show(chosen);
  }
  const file2 = document.getElementById("file2");
  const chosen2 = document.getElementById("chosen2");
  function chooseSecond(file) {
    second = file || null;
    errorBox.hidden = true;
    chosen2.hidden = !second;
    if (second) chosen2.querySelector(".name").textContent = "Second view: " + sizeText(second);
    else file2.value = "";
  }
  file2.addEventListener("change", () => chooseSecond(file2.files[0]));
  document.getElementById("clear2").addEventListener("click", () => chooseSecond(null));
  for (const id of ["file", "capture"]) {
    const input = document.getElementById(id);
    input.addEventListener("change", () => choose(input.files[0]));
  }
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer.files.length) choose(e.dataTransfer.files[0]);
  });

  const names = document.getElementById("runner-names");
  form.runner.addEventListener("change", () => {
    for (const opt of names.options) {
      if (opt.value === form.runner.value && opt.dataset.height && !form.height_cm.value) form.height_cm.value = opt.dataset.height;
    }
  });

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!chosen) { showError(errorBox, { title: "No clip chosen", message: "Drop a video on the box above or press 'Choose a clip'." }); return; }
    for (const f of [chosen, second]) {
      if (f && maxBytes && f.size > maxBytes) {
        showError(errorBox, { title: "The file is too large", message: f.name + " is " + (f.size / 1048576).toFixed(0) + " MB; the limit is " + (maxBytes / 1048576).toFixed(0) + " MB per clip.", hint: "Trim the clip to 10-30 seconds of running and try again." });
        return;
      }
    }
    const data = new FormData(form);
    for (const k of ["person", "point"]) { if (!data.get(k)) data.delete(k); }
    data.append("video", chosen, chosen.name);
    if (second) data.append("video2", second, second.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/analyses");
    xhr.upload.addEventListener("progress", (ev) => {
      if (!ev.lengthComputable) return;
      const pct = Math.round((100 * ev.loaded) / ev.total);
      progress.querySelector(".bar span").style.width = pct + "%";
      progress.querySelector(".pct").textContent = pct + " %";
    });
    xhr.addEventListener("load", () => {
      submit.disabled = false;
      progress.hidden = true;
      if (xhr.status === 202) {
        window.location.href = JSON.parse(xhr.responseText).links.page;
      } else {
        showError(errorBox, errorFromResponse(xhr.status, xhr.responseText));
      }
    });
    xhr.addEventListener("error", () => {
      submit.disabled = false;
      progress.hidden = true;
      showError(errorBox, { title: "The upload was interrupted", message: "The server closed the connection (is the file larger than the limit, or did the server stop?)." });
    });
    errorBox.hidden = true;
    progress.hidden = false;
    submit.disabled = true;
    xhr.send(data);
  });
}

// A click on a picture of the first frame -> a point in the frame's own pixels (what --point means).
function framePoint(ev, el, width, height) {
  const r = el.getBoundingClientRect();
  const fx = (ev.clientX - r.left) / r.width, fy = (ev.clientY - r.top) / r.height;
  return { x: Math.round(fx * width), y: Math.round(fy * height), left: ev.clientX - r.left, top: ev.clientY - r.top };
}

function placeMarker(marker, p) {
  marker.hidden = false;
  marker.style.left = p.left + "px";
  marker.style.top = p.top + "px";
}

// Upload page: the chosen clip's first frame in a <video> (decoded by the browser); a click gives the point.
function initRunnerPreview(form) {
  const wrap = document.getElementById("preview-wrap");
  const video = document.getElementById("preview");
  const note = document.getElementById("preview-note");
  const point = document.getElementById("point");
  const person = document.getElementById("person");
  if (!wrap) return { show() {} };
  const marker = wrap.querySelector(".marker");
  let url = null;
  function clearPoint() { point.value = ""; marker.hidden = true; }
  person.addEventListener("input", () => { if (person.value) { clearPoint(); note.textContent = "Following person " + person.value + "."; } });
  video.addEventListener("loadeddata", () => { video.currentTime = 0; wrap.hidden = false; note.textContent = "Click on the runner."; });
  video.addEventListener("error", () => {
    wrap.hidden = true;
    note.textContent = "This browser cannot show this clip; give the person number, or upload and choose the runner if the analysis asks.";
  });
  wrap.addEventListener("click", (ev) => {
    if (!video.videoWidth) return;
    const p = framePoint(ev, video, video.videoWidth, video.videoHeight);
    point.value = p.x + "," + p.y;
    person.value = "";
    placeMarker(marker, p);
    note.textContent = "Runner at " + p.x + ", " + p.y + " px in the first frame.";
  });
  return {
    show(file) {
      clearPoint();
      if (url) URL.revokeObjectURL(url);
      url = null;
      wrap.hidden = true;
      if (!file) { note.textContent = "Choose a clip first."; video.removeAttribute("src"); return; }
      url = URL.createObjectURL(file);
      note.textContent = "Loading the first frame…";
      video.src = url;
    },
  };
}

// Failed with several people in view: click the runner on the served first frame, then retry with that point.
function initChooseRunner() {
  const box = document.getElementById("choose-runner");
  if (!box) return;
  const picked = document.getElementById("picked");
  const go = document.getElementById("retry-point");
  const errorBox = document.getElementById("choose-error");
  let choice = null;
  for (const img of box.querySelectorAll("img.pick-frame")) {
    img.parentElement.addEventListener("click", (ev) => {
      const w = Number(img.dataset.width) || img.naturalWidth, h = Number(img.dataset.height) || img.naturalHeight;
      const p = framePoint(ev, img, w, h);
      for (const m of box.querySelectorAll(".marker")) m.hidden = true;
      placeMarker(img.parentElement.querySelector(".marker"), p);
      choice = { point: [p.x, p.y] };
      picked.textContent = "Runner at " + p.x + ", " + p.y + " px in the first frame.";
      go.disabled = false;
    });
  }
  function retry(body) {
    errorBox.hidden = true;
    fetch(box.dataset.retryUrl, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
      .then((r) => {
        if (r.ok) window.location.reload();
        else r.text().then((t) => showError(errorBox, errorFromResponse(r.status, t)));
      });
  }
  go.addEventListener("click", () => { if (choice) retry(choice); });
  document.getElementById("retry-person").addEventListener("click", () => {
    const n = document.getElementById("person-number").value;
    if (n === "") { showError(errorBox, { title: "No person number", message: "Type the number of the runner (0, 1, ...) or click on them." }); return; }
    retry({ person: Number(n) });
  });
}

const STAGE_LABELS = {
  queued: "Waiting in the queue", starting: "Starting", pose: "Finding the runner in each frame",
  clean: "Cleaning the keypoints", events: "Finding foot contacts", metrics: "Measuring",
  assess: "Checking against the evidence", report: "Writing the report and annotated video",
};

function initProgress() {
  const box = document.getElementById("progress");
  if (!box) return;
  const bar = box.querySelector(".bar span");
  const pct = document.getElementById("pct");
  const label = document.getElementById("stage-label");
  const queue = document.getElementById("queue");
  const items = Array.from(box.querySelectorAll("#stages li"));

  function update(s) {
    if (s.status === "done" || s.status === "failed") { window.location.reload(); return; }
    const p = Math.round(1000 * s.progress) / 10;
    bar.style.width = p + "%";
    pct.textContent = Math.round(p) + " %";
    const key = Object.keys(STAGE_LABELS).find((k) => (s.stage || "").startsWith(k));
    label.textContent = key ? STAGE_LABELS[key] : s.stage;
    queue.textContent = s.queue_position ? s.queue_position + " ahead in the queue" : "";
    let reached = false;
    for (const li of items.slice().reverse()) {
      if ((s.stage || "").startsWith(li.dataset.stage)) { li.className = "current"; reached = true; }
      else li.className = reached ? "done" : "";
    }
  }

  function poll() {
    fetch(box.dataset.statusUrl).then((r) => r.json()).then((s) => { update(s); setTimeout(poll, 1000); })
      .catch(() => setTimeout(poll, 3000));
  }

  if (!window.EventSource) { poll(); return; }
  const es = new EventSource(box.dataset.events);
  es.onmessage = (ev) => update(JSON.parse(ev.data));
  es.addEventListener("deleted", () => { es.close(); window.location.href = "/"; });
  es.onerror = () => { es.close(); poll(); };
}

function initButtons() {
  for (const btn of document.querySelectorAll("[data-delete-url]")) {
    btn.addEventListener("click", (e) => {
      e.preventDefault();
      if (!window.confirm(btn.dataset.confirm || "Delete?")) return;
      fetch(btn.dataset.deleteUrl, { method: "DELETE" }).then((r) => {
        if (r.ok) window.location.href = btn.dataset.after || "/";
        else r.text().then((t) => window.alert("Could not delete: " + t));
      });
    });
  }
  for (const btn of document.querySelectorAll("[data-post-url]")) {
    btn.addEventListener("click", (e) => {
      e.preventDefault();
      btn.disabled = true;
      fetch(btn.dataset.postUrl, { method: "POST" }).then((r) => {
        if (r.ok) window.location.reload();
        else r.json().then((b) => { btn.disabled = false; window.alert(b.detail || "Failed"); });
      });
    });
  }
}

function initCompare() {
  const form = document.getElementById("compare-form");
  if (!form) return;
  const picks = Array.from(form.querySelectorAll("input.pick"));
  const button = document.getElementById("compare-button");
  function sync() {
    const on = picks.filter((p) => p.checked);
    button.disabled = on.length !== 2;
    for (const p of picks) p.disabled = !p.checked && on.length >= 2;
    form.a.value = on[0] ? on[0].value : "";
    form.b.value = on[1] ? on[1].value : "";
  }
  for (const p of picks) { p.removeAttribute("name"); p.addEventListener("change", sync); }
  sync();
}

document.addEventListener("DOMContentLoaded", () => { initUpload(); initProgress(); initButtons(); initCompare(); initChooseRunner(); });
